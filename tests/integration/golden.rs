//! Golden files of every redline format, and the exact structural facts behind
//! them, for each NATO fixture revision step (v1→v2 … v5→v6) and each
//! diff-quality pair under `tests/fixtures/pairs/`.
//!
//! The pipeline runs in the library (extract with the nato-topic rules, then
//! `diff::revision`, then the renderers) with fixed capture times, target id and
//! URL, so every byte is deterministic. Golden files live in
//! `tests/integration/golden/` (insta); they are written only by a person
//! (`INSTA_UPDATE=always cargo test golden`, then read them), never by CI.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use redliner::alerting::Recurrence;
use redliner::diff::{self, DiffOptions};
use redliner::document::{BlockKind, Document};
use redliner::extract::extract;
use redliner::report::{self, Format, Redline, TerminalStyle};
use redliner::revision::{BlockChangeKind, LinkChange, Revision, RevisionKind, SectionChange};
use redliner::target::Rules;
use url::Url;

/// The URL every fixture page is read as (relative links resolve against it).
pub const PAGE_URL: &str = "https://www.nato.int/cps/en/natohq/topics_49119.htm";

/// The nato-topic rules as shipped in `config/redliner.toml`.
const CONFIG: &str = r#"
[rules.nato-topic]
title = "h1.fs-huge"
content = ["section.content"]
tz = "Europe/Brussels"
drop = [".share", ".social-share", ".sidebar", ".related", ".breadcrumb", ".cookie-consent"]
min_text_chars = 200

[[target]]
id = "nato-belarus"
url = "https://www.nato.int/cps/en/natohq/topics_49119.htm"
rules = "nato-topic"
"#;

/// The nato-topic extraction rules, built through the config parser.
pub fn nato_rules() -> Rules {
    let settings = redliner::config::parse(CONFIG, Path::new("golden.toml"), None).unwrap();
    settings.target("nato-belarus").unwrap().rules.clone()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture page as text; `name.gz` is read when `name` is not there.
pub fn page(name: &str) -> String {
    let path = fixtures().join(name);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return text;
    }
    let gz = fixtures().join(format!("{name}.gz"));
    let file = std::fs::File::open(&gz).unwrap_or_else(|e| panic!("fixture {}: {e}", gz.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The document a fixture page yields with the nato rules.
pub fn document(name: &str) -> Document {
    let url = Url::parse(PAGE_URL).unwrap();
    extract(&page(name), Some(&url), &nato_rules()).unwrap()
}

/// The revision between two fixture pages, with a deadline no test machine hits
/// (so word marks never degrade and the golden files stay stable).
pub fn revision(old: &str, new: &str) -> Option<Revision> {
    let opts = DiffOptions {
        deadline: Duration::from_secs(600),
    };
    diff::revision(&document(old), &document(new), &opts)
}

/// A redline with fixed target, URL and capture times.
pub fn redline(old: &str, new: &str, step: usize) -> Redline {
    let rev = revision(old, new).unwrap_or_else(|| panic!("{old} → {new}: no revision"));
    let at = |day: usize| format!("2025-0{}-0{}T06:00:00Z", 1 + step % 9, day);
    Redline {
        target: "nato-belarus".into(),
        url: PAGE_URL.into(),
        title: document(new).meta.title,
        old_captured_at: Some(at(1).parse().unwrap()),
        new_captured_at: at(2).parse().unwrap(),
        old_snapshot: None,
        new_snapshot: None,
        revision: rev,
        notes: Vec::new(),
        link: None,
    }
}

/// The redline of a pair under `tests/fixtures/pairs/<case>/`.
pub fn pair_redline(case: &str) -> Redline {
    redline(
        &format!("pairs/{case}/old.html"),
        &format!("pairs/{case}/new.html"),
        0,
    )
}

/// One redline in one format, as text.
pub fn rendered(redline: &Redline, format: Format) -> String {
    let style = TerminalStyle {
        color: false,
        width: Some(100),
    };
    let mut out = Vec::new();
    report::render(redline, format, style, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

const FORMATS: [(Format, &str); 5] = [
    (Format::Terminal, "terminal"),
    (Format::Markdown, "markdown"),
    (Format::Html, "html"),
    (Format::Json, "json"),
    (Format::Atom, "atom"),
];

/// Checks every format of `redline` against its golden files `<name>.<format>.snap`.
fn golden(name: &str, redline: &Redline) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("golden");
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (format, ext) in FORMATS {
            let text = rendered(redline, format);
            assert!(text.ends_with('\n'), "{name} {ext}: no trailing newline");
            match format {
                Format::Atom => {
                    let feed = atom_syndication::Feed::read_from(text.as_bytes()).unwrap();
                    assert_eq!(feed.entries().len(), 1, "{name}: one entry");
                }
                Format::Json => {
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(v["schema_version"], 1, "{name}");
                }
                _ => {}
            }
            insta::assert_snapshot!(format!("{name}.{ext}"), text);
        }
    });
}

/// (change kind, heading) per changed section.
fn outline(rev: &Revision) -> Vec<(SectionChange, &str)> {
    rev.sections
        .iter()
        .map(|s| (s.change, s.heading.as_str()))
        .collect()
}

/// (block change, block kind, old index, new index) per block change of the
/// section headed `heading`.
fn blocks(
    rev: &Revision,
    heading: &str,
) -> Vec<(BlockChangeKind, BlockKind, Option<usize>, Option<usize>)> {
    let s = rev
        .sections
        .iter()
        .find(|s| s.heading == heading)
        .unwrap_or_else(|| panic!("no changed section `{heading}` in {:#?}", outline(rev)));
    s.blocks
        .iter()
        .map(|b| (b.change, b.kind, b.old_index, b.new_index))
        .collect()
}

const ROLE: &str = "Belarus\u{2019} role in Russia\u{2019}s war against Ukraine";
const EVOLUTION: &str = "Evolution of relations";
const KEY_AREAS: &str = "Key areas of cooperation prior to 2021";
const RENAMED: &str = "Areas of cooperation before 2021";
const SINCE: &str = "Relations since 2024";

use BlockChangeKind as B;
use BlockKind::{ListItem, Paragraph};
use SectionChange as S;

#[test]
fn nato_revision_steps_golden() {
    let steps = [
        ("v1.html", "v2-reworded.html", "nato-v1-v2"),
        ("v2-reworded.html", "v3-section-added.html", "nato-v2-v3"),
        ("v3-section-added.html", "v4-renamed.html", "nato-v3-v4"),
        ("v4-renamed.html", "v5-stamp-only.html", "nato-v4-v5"),
        ("v5-stamp-only.html", "v6-silent-edit.html", "nato-v5-v6"),
    ];
    for (step, (old, new, name)) in steps.into_iter().enumerate() {
        let r = redline(
            &format!("nato-belarus/{old}"),
            &format!("nato-belarus/{new}"),
            step + 1,
        );
        golden(name, &r);
    }
}

/// v2 → the redesigned page: v1's text again (a revert to snapshot 1), found
/// through the fallback content root `main`. The notes are the ones the
/// monitor gives such a check; every format says them right after the header.
#[test]
fn revert_through_a_fallback_root_golden() {
    let new = "nato-belarus/redesigned.html";
    let mut r = redline("nato-belarus/v2-reworded.html", new, 6);
    let fallback = report::fallback_note(&document(new).meta.root);
    assert_eq!(
        fallback.as_deref(),
        Some("Content root not found; fallback `main` used.")
    );
    r.notes = std::iter::once(
        Recurrence::Revert {
            of: redliner::ids::SnapshotId(1),
        }
        .note(),
    )
    .chain(fallback)
    .collect();
    golden("nato-v2-redesigned-revert", &r);
}

/// The `report` digest of the five NATO revision steps, in every format.
#[test]
fn nato_digest_golden() {
    let steps = [
        ("v1.html", "v2-reworded.html"),
        ("v2-reworded.html", "v3-section-added.html"),
        ("v3-section-added.html", "v4-renamed.html"),
        ("v4-renamed.html", "v5-stamp-only.html"),
        ("v5-stamp-only.html", "v6-silent-edit.html"),
    ];
    let redlines: Vec<Redline> = steps
        .into_iter()
        .enumerate()
        .map(|(step, (old, new))| {
            redline(
                &format!("nato-belarus/{old}"),
                &format!("nato-belarus/{new}"),
                step + 1,
            )
        })
        .collect();
    let style = TerminalStyle {
        color: false,
        width: Some(100),
    };
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("golden");
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (format, ext) in FORMATS {
            let mut out = Vec::new();
            report::render_many(&redlines, format, style, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.ends_with('\n'), "digest {ext}: no trailing newline");
            insta::assert_snapshot!(format!("nato-digest.{ext}"), text);
        }
    });
}

#[test]
fn pairs_golden() {
    for case in [
        "moved-section",
        "moved-block",
        "reordered-list",
        "link-target",
        "split-merge",
        "xss",
        "one-line",
        "big-list",
        "heading-changes",
    ] {
        golden(&format!("pair-{case}"), &pair_redline(case));
    }
}

#[test]
fn nato_revision_steps_structure() {
    let rev = |old: &str, new: &str| {
        revision(
            &format!("nato-belarus/{old}"),
            &format!("nato-belarus/{new}"),
        )
        .unwrap()
    };

    let r = rev("v1.html", "v2-reworded.html");
    assert_eq!(r.kind, RevisionKind::Revised);
    assert_eq!(outline(&r), [(S::Modified, EVOLUTION)]);
    assert_eq!(
        blocks(&r, EVOLUTION),
        [(B::Replaced, Paragraph, Some(2), Some(2))]
    );

    let r = rev("v2-reworded.html", "v3-section-added.html");
    assert_eq!(r.kind, RevisionKind::Revised);
    assert_eq!(outline(&r), [(S::Modified, "Lead"), (S::Added, SINCE)]);
    assert_eq!(blocks(&r, "Lead"), [(B::Deleted, ListItem, Some(4), None)]);
    assert_eq!(
        blocks(&r, SINCE),
        [
            (B::Inserted, Paragraph, None, Some(0)),
            (B::Inserted, Paragraph, None, Some(1))
        ]
    );

    let r = rev("v3-section-added.html", "v4-renamed.html");
    assert_eq!(outline(&r), [(S::Renamed, RENAMED)]);
    assert_eq!(r.sections[0].old_heading.as_deref(), Some(KEY_AREAS));
    assert_eq!(blocks(&r, RENAMED), []);

    let r = rev("v4-renamed.html", "v5-stamp-only.html");
    assert_eq!(r.kind, RevisionKind::StampOnly);
    assert_eq!(outline(&r), []);
    assert_eq!(r.unchanged.len(), 5);

    let r = rev("v5-stamp-only.html", "v6-silent-edit.html");
    assert_eq!(r.kind, RevisionKind::SilentEdit);
    assert_eq!(outline(&r), [(S::Modified, RENAMED)]);
    assert_eq!(
        blocks(&r, RENAMED),
        [(B::Replaced, ListItem, Some(4), Some(4))]
    );
}

/// The marked words of a block: (deleted, inserted), each span trimmed.
fn marks(b: &redliner::revision::BlockChange) -> (Vec<&str>, Vec<&str>) {
    use redliner::revision::SpanTag;
    let of = |tag| {
        b.spans
            .iter()
            .filter(|s| s.tag == tag)
            .map(|s| s.text.trim())
            .collect::<Vec<_>>()
    };
    (of(SpanTag::Delete), of(SpanTag::Insert))
}

fn pair(case: &str) -> Option<Revision> {
    revision(
        &format!("pairs/{case}/old.html"),
        &format!("pairs/{case}/new.html"),
    )
}

#[test]
fn moved_section_is_moved_not_removed_and_added() {
    let r = pair("moved-section").unwrap();
    assert_eq!(outline(&r), [(S::Moved, EVOLUTION)]);
    let s = &r.sections[0];
    assert_eq!(
        (s.old_position, s.new_position, s.moved),
        (Some(2), Some(1), true)
    );
    assert_eq!(blocks(&r, EVOLUTION), []);
    assert_eq!((r.summary.words_added, r.summary.words_removed), (0, 0));
}

#[test]
fn moved_blocks_across_sections_with_and_without_an_edit() {
    let r = pair("moved-block").unwrap();
    assert_eq!(
        outline(&r),
        [
            (S::Modified, ROLE),
            (S::Modified, EVOLUTION),
            (S::Modified, KEY_AREAS)
        ]
    );
    assert_eq!(blocks(&r, ROLE), [(B::Moved, Paragraph, Some(6), Some(2))]);
    // The source section says where its two paragraphs went.
    assert_eq!(
        blocks(&r, EVOLUTION),
        [
            (B::Moved, Paragraph, Some(5), None),
            (B::Moved, Paragraph, Some(6), None)
        ]
    );
    let moved_to: Vec<Option<&str>> = r.sections[1]
        .blocks
        .iter()
        .map(|b| b.moved_to.as_deref())
        .collect();
    assert_eq!(moved_to, [Some(KEY_AREAS), Some(ROLE)]);
    assert!(r.sections[1].blocks.iter().all(|b| b.spans.is_empty()));
    // Moved words are neither added nor removed: only the edit counts.
    assert_eq!((r.summary.words_added, r.summary.words_removed), (1, 2));
    assert_eq!(r.summary.sections_modified, 3);
    assert_eq!(
        blocks(&r, KEY_AREAS),
        [(B::Moved, Paragraph, Some(5), Some(7))]
    );
    let moved_as_is = &r.sections[0].blocks[0];
    assert_eq!(moved_as_is.moved_from.as_deref(), Some(EVOLUTION));
    assert_eq!(marks(moved_as_is), (vec![], vec![]));
    let moved_edited = &r.sections[2].blocks[0];
    assert_eq!(moved_edited.moved_from.as_deref(), Some(EVOLUTION));
    assert_eq!(
        marks(moved_edited),
        (vec!["large numbers"], vec!["thousands"])
    );
}

#[test]
fn headings_added_and_removed_over_kept_text_list_only_real_edits() {
    let r = pair("heading-changes").unwrap();
    let since = "Relations since 2021";
    assert_eq!(
        outline(&r),
        [(S::HeadingRemoved, ROLE), (S::HeadingAdded, since)]
    );
    assert_eq!(blocks(&r, ROLE), []);
    let kept = r.sections[0].kept.as_ref().unwrap();
    assert_eq!((kept.count, kept.now_under.as_deref()), (2, Some("Lead")));
    assert_eq!(
        blocks(&r, since),
        [(B::Replaced, Paragraph, Some(4), Some(0))]
    );
    assert_eq!(
        marks(&r.sections[1].blocks[0]),
        (vec!["strongly"], vec!["firmly"])
    );
    assert_eq!(r.sections[1].kept.as_ref().map(|k| k.count), Some(2));
    assert_eq!((r.summary.words_added, r.summary.words_removed), (1, 1));
    assert_eq!(r.unchanged, ["Lead", EVOLUTION, KEY_AREAS]);
}

#[test]
fn reordered_list_is_one_reordered_change() {
    let r = pair("reordered-list").unwrap();
    assert_eq!(outline(&r), [(S::Modified, KEY_AREAS)]);
    assert_eq!(
        blocks(&r, KEY_AREAS),
        [(B::Reordered, ListItem, Some(1), Some(1))]
    );
    assert_eq!((r.summary.words_added, r.summary.words_removed), (0, 0));
}

#[test]
fn link_target_change_is_reported_and_relative_spelling_is_not() {
    let r = pair("link-target").unwrap();
    // Evolution's relative → absolute link is the same URL: not in the revision
    assert_eq!(outline(&r), [(S::Modified, KEY_AREAS)]);
    assert_eq!(
        blocks(&r, KEY_AREAS),
        [(B::LinkChanged, ListItem, Some(4), Some(4))]
    );
    assert_eq!(
        r.sections[0].blocks[0].links,
        [LinkChange {
            text: "Science for Peace and Security Programme (SPS)".into(),
            old_href: "https://www.nato.int/cps/en/natohq/topics_85373.htm".into(),
            new_href: "https://www.nato.int/cps/en/natohq/topics_85400.htm".into(),
        }]
    );
}

#[test]
fn split_and_merged_paragraphs_are_shown_as_such() {
    let r = pair("split-merge").unwrap();
    assert_eq!(outline(&r), [(S::Modified, ROLE), (S::Modified, EVOLUTION)]);
    assert_eq!(blocks(&r, ROLE), [(B::Merged, Paragraph, Some(0), Some(0))]);
    assert_eq!(
        blocks(&r, EVOLUTION),
        [(B::Split, Paragraph, Some(1), Some(1))]
    );
    let split = &r.sections[1].blocks[0];
    assert_eq!(
        split.new_text.as_deref().map(|t| t.split("\n\n").count()),
        Some(2)
    );
    let merged = &r.sections[0].blocks[0];
    assert_eq!(
        merged.old_text.as_deref().map(|t| t.split("\n\n").count()),
        Some(2)
    );
    assert_eq!((r.summary.words_added, r.summary.words_removed), (0, 0));
}

#[test]
fn typography_only_differences_are_no_revision() {
    let (old, new) = (
        document("pairs/typography/old.html"),
        document("pairs/typography/new.html"),
    );
    // the display text does differ (so the fixture exercises something) …
    assert_ne!(old, new);
    // … but the content does not
    assert_eq!(old.fingerprint(), new.fingerprint());
    assert_eq!(pair("typography"), None);
}

#[test]
fn one_long_source_line_is_split_on_block_structure() {
    let old = page("pairs/one-line/old.html");
    assert!(!old.contains('\n'), "the fixture must be one line");
    let doc = document("pairs/one-line/old.html");
    let sizes: Vec<usize> = doc.sections.iter().map(|s| s.blocks.len()).collect();
    assert_eq!(sizes, [6, 2, 7, 7]);
    let r = pair("one-line").unwrap();
    let nato = revision("nato-belarus/v1.html", "nato-belarus/v2-reworded.html").unwrap();
    assert_eq!(r.sections, nato.sections);
    assert_eq!(r.summary, nato.summary);
}

#[test]
fn big_list_with_one_changed_item_shows_only_that_item() {
    let doc = document("pairs/big-list/old.html");
    assert!(page("pairs/big-list/old.html").len() > 2_000_000);
    assert_eq!(doc.sections.last().map(|s| s.blocks.len()), Some(5000));
    let r = pair("big-list").unwrap();
    let heading = "Chronology of cooperation activities";
    assert_eq!(outline(&r), [(S::Modified, heading)]);
    assert_eq!(
        blocks(&r, heading),
        [(B::Replaced, ListItem, Some(3721), Some(3721))]
    );
    assert_eq!(
        marks(&r.sections[0].blocks[0]),
        (vec![], vec!["the Republic of"])
    );
    assert_eq!(r.degraded, None);
}

const XSS_HEADING: &str = "Statement \"><svg onload=alert(1)>";

#[test]
fn xss_text_is_text_in_every_format() {
    let red = pair_redline("xss");
    let r = &red.revision;
    assert_eq!(
        outline(r),
        [(S::Modified, EVOLUTION), (S::Added, XSS_HEADING)]
    );
    assert_eq!(
        blocks(r, EVOLUTION),
        [(B::Replaced, Paragraph, Some(2), Some(2))]
    );
    // the real <script> in the content root never reaches the document
    let all_text: String = r
        .sections
        .iter()
        .flat_map(|s| &s.blocks)
        .filter_map(|b| b.new_text.as_deref())
        .collect();
    assert!(!all_text.contains("pwned"), "{all_text}");
    assert!(all_text.contains("<script>alert(1)</script>"), "{all_text}");

    let html = rendered(&red, Format::Html);
    let dom = scraper::Html::parse_document(&html);
    let any = |css: &str| {
        dom.select(&scraper::Selector::parse(css).unwrap())
            .next()
            .is_some()
    };
    for css in ["script", "svg", "img", "iframe", "object", "embed"] {
        assert!(!any(css), "html: a `{css}` element");
    }
    for el in dom
        .root_element()
        .descendants()
        .filter_map(scraper::ElementRef::wrap)
    {
        for (name, value) in el.value().attrs() {
            assert!(!name.starts_with("on"), "html: attribute {name}={value}");
            assert!(!value.contains("javascript:"), "html: {name}={value}");
        }
    }
    let text: String = dom.root_element().text().collect();
    for needle in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        XSS_HEADING,
    ] {
        assert!(text.contains(needle), "html text lacks {needle}");
    }
    assert!(!html.contains("<script"), "raw <script in html");
    assert!(!html.contains("<svg"), "raw <svg in html");
    assert!(!html.contains("<img"), "raw <img in html");
    // `onerror=` only ever appears inside escaped text
    assert_eq!(
        html.matches("onerror=").count(),
        html.matches("&lt;img src=x onerror=").count()
    );

    let terminal = rendered(&red, Format::Terminal);
    assert!(
        !terminal.contains('\u{1b}'),
        "ESC reached the terminal: {terminal}"
    );
    let atom = rendered(&red, Format::Atom);
    assert!(!atom.contains("<script"), "raw <script in atom");
}
