//! The JSON redline: a documented, versioned schema for pipelines.
//!
//! # Schema (version 1)
//!
//! One redline is one object; fields always appear, in this order, `null`
//! when absent. Times are RFC 3339 in UTC. The output is pretty-printed and
//! ends with a newline.
//!
//! ```text
//! {
//!   "schema_version": 1,
//!   "target": "nato-belarus",                 // target id
//!   "url": "https://www.nato.int/…",          // the configured URL
//!   "title": "Relations with Belarus",        // page title, or null
//!   "kind": "revised",                        // "revised" | "silent-edit" | "changed" | "stamp-only"
//!   "old_stamp": Stamp | null,                // the page's "Last updated" stamp
//!   "new_stamp": Stamp | null,
//!   "old_captured_at": "2024-09-01T08:00:00Z" | null,
//!   "checked_at": "2026-11-14T10:00:00Z",     // when the new snapshot was captured
//!   "old_snapshot": 1 | null,                 // store ids, when known
//!   "new_snapshot": 2 | null,
//!   "link": "https://redliner.example.org/targets/…/snapshots/2/revision",
//!                                             // the revision's page in `serve`; only
//!                                             // with `[serve] public_url` set
//!   "summary": {
//!     "line": "4 of 5 sections changed: …",  // the one-line summary
//!     "sections_total": 5, "sections_changed": 4,
//!     "sections_added": 1, "sections_removed": 0, "sections_modified": 3,
//!     "sections_renamed": 1, "sections_moved": 0, "sections_relevelled": 0,
//!     "sections_heading_added": 0, "sections_heading_removed": 0,
//!     "words_added": 13, "words_removed": 9
//!   },
//!   "notes": ["Revert: …", "Coarse diff: …"], // things a reader must not miss:
//!                                             // a revert or alternating page, a
//!                                             // fallback content root, a coarse diff
//!   "sections": [Section, …],                 // only the changed ones
//!   "unchanged": ["Heading", …]               // unchanged sections, by heading
//! }
//!
//! Stamp = {
//!   "text": "Last updated: 28 Aug. 2024 11:27",  // as served, label included
//!   "display": "28 Aug. 2024 11:27",             // the date as the page wrote it
//!   "date": "2024-08-28",
//!   "time": "11:27:00" | null,                   // wall-clock time in `zone`
//!   "instant": "2024-08-28T09:27:00Z" | null,    // the same moment in UTC
//!   "zone": "Europe/Brussels",                   // zone used: IANA name, "UTC" or "UTC-04:00"
//!   "source": "visible text"                     // where it was read: "visible text",
//!                                                // "selector `…`", "stamp pattern", "time element",
//!                                                // "meta `article:modified_time`", "JSON-LD dateModified"
//!   "class": "updated" | "published",            // what the label claims (see README, Stamps)
//!   "also": ["Page last reviewed: May 2, 2024"]  // the page's other update stamps, as served;
//!                                                // left out when there are none
//! }
//!
//! Section = {
//!   "change": "added" | "removed" | "modified" | "renamed" | "moved"
//!           | "heading-added" | "heading-removed" | "relevelled",
//!   "description": "renamed from “Old”, edited",  // the change in words
//!   "heading": "Evolution of relations",          // "Lead" for the lead
//!   "old_heading": "…" | null,                    // when renamed
//!   "key": ["evolution of relations"],            // heading path ([] for the lead)
//!   "level": 2,                                   // 0 for the lead
//!   "old_level": 3 | null,                        // when the level changed
//!   "kept": Kept | null,                          // heading-added / heading-removed
//!   "old_position": 2 | null,                     // 0-based section index
//!   "new_position": 2 | null,
//!   "moved": false,
//!   "blocks": [Block, …]
//! }
//!
//! Kept = {                       // the blocks that stayed on the page
//!   "count": 3,                   // added heading: unchanged blocks below it;
//!                                 // removed heading: its blocks still on the page
//!   "kind": "paragraph" | null,   // when they are all one kind
//!   "now_under": "Lead" | null    // removed heading: where they are now
//! }
//!
//! Block = {
//!   "change": "inserted" | "deleted" | "replaced" | "moved" | "reordered"
//!           | "link-changed" | "split" | "merged",
//!   "kind": "paragraph" | "list-item" | "caption" | "table-row" | "quote" | "preformatted",
//!   "old_index": 0 | null, "new_index": 0 | null,   // 0-based block index in the section
//!   "old_text": "…" | null, "new_text": "…" | null,
//!   "moved_from": "Heading" | null,              // moved here from another section
//!   "moved_to": "Heading" | null,                // moved from here to another section
//!   "spans": [{"tag": "equal" | "insert" | "delete", "text": "…"}, …],
//!   "links": [{"text": "…", "old_href": "…", "new_href": "…"}, …]
//! }
//! ```
//!
//! Concatenating a block's `equal` and `delete` spans gives its old text,
//! `equal` and `insert` its new text. A block moved to another section is
//! listed in both: in the new section with `moved_from` and its word marks,
//! and in the old one (`change` `"moved"`, `moved_to` set, `new_index` and
//! `new_text` null, `spans` empty) so that section shows the text left it;
//! its words count once, at the destination. `reordered` blocks have no spans. Several redlines (a digest) are written
//! as `{"schema_version": 1, "redlines": [Redline, …]}`, each redline without
//! its own `schema_version`.

use crate::ids::SnapshotId;
use std::io::{self, Write};

use serde::Serialize;

use super::summary::{notes, section_change_words, summary_line};
use super::{Redline, SCHEMA_VERSION};
use crate::document::BlockKind;
use crate::revision::{BlockChangeKind, KeptBlocks, LinkChange, RevisionKind, SectionChange, Span};
use crate::stamp::Stamp;

/// Writes one redline as JSON (see the module docs for the schema).
///
/// # Errors
/// Any error from `out`.
pub fn json(redline: &Redline, out: &mut dyn Write) -> io::Result<()> {
    let doc = Versioned {
        schema_version: SCHEMA_VERSION,
        redline: view(redline),
    };
    write(&doc, out)
}

/// Writes several redlines as `{"schema_version": 1, "redlines": [...]}`.
///
/// # Errors
/// Any error from `out`.
pub fn json_many(redlines: &[Redline], out: &mut dyn Write) -> io::Result<()> {
    let doc = Many {
        schema_version: SCHEMA_VERSION,
        redlines: redlines.iter().map(view).collect(),
    };
    write(&doc, out)
}

/// Writes one redline as [`json`] does, after the fields of `head` (an
/// object: a webhook's `alert` and `idempotency_key`, say), which come first.
///
/// # Errors
/// Any error from `out`; `head` must serialize as an object with no field
/// the redline has.
pub fn json_after<H: Serialize>(
    head: &H,
    redline: &Redline,
    out: &mut dyn Write,
) -> io::Result<()> {
    #[derive(Serialize)]
    struct Headed<'a, H> {
        #[serde(flatten)]
        head: &'a H,
        #[serde(flatten)]
        redline: Versioned<'a>,
    }
    let doc = Headed {
        head,
        redline: Versioned {
            schema_version: SCHEMA_VERSION,
            redline: view(redline),
        },
    };
    write(&doc, out)
}

fn write(value: &impl Serialize, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::other)?;
    writeln!(out)
}

/// One redline (redliner's JSON redline, schema version 1).
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(title = "redliner redline", rename = "Redline")]
struct Versioned<'a> {
    /// The version of this schema: 1.
    #[schemars(extend("const" = 1))]
    schema_version: u32,
    #[serde(flatten)]
    redline: RedlineView<'a>,
}

/// Several redlines in one document (a digest, `redliner report`).
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(title = "redliner redline digest", rename = "Digest")]
struct Many<'a> {
    /// The version of this schema: 1.
    #[schemars(extend("const" = 1))]
    schema_version: u32,
    /// The redlines, oldest first.
    redlines: Vec<RedlineView<'a>>,
}

/// A revision of one target as a redline.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "RedlineBody")]
struct RedlineView<'a> {
    /// The target id.
    target: &'a str,
    /// The configured URL.
    url: &'a str,
    /// The page title, or null.
    title: Option<&'a str>,
    /// The revision kind.
    kind: RevisionKind,
    /// The old snapshot's "Last updated" stamp, or null.
    old_stamp: Option<StampView<'a>>,
    /// The new snapshot's stamp, or null.
    new_stamp: Option<StampView<'a>>,
    /// When the old snapshot was captured (RFC 3339, UTC), or null.
    old_captured_at: Option<String>,
    /// When the new snapshot was captured (RFC 3339, UTC).
    checked_at: String,
    /// The old snapshot's store id, when known.
    old_snapshot: Option<SnapshotId>,
    /// The new snapshot's store id, when known.
    new_snapshot: Option<SnapshotId>,
    /// The revision's page in `redliner serve` (an absolute URL), present
    /// only when `[serve] public_url` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<&'a str>,
    /// The counts and the one-line summary.
    summary: SummaryView,
    /// Things a reader must not miss: a revert or alternating page, a
    /// fallback content root, a coarse diff.
    notes: Vec<String>,
    /// The changed sections, in page order.
    sections: Vec<SectionView<'a>>,
    /// The unchanged sections, by heading.
    unchanged: &'a [String],
}

/// A stamp: the page's own "Last updated" line, parsed.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Stamp")]
struct StampView<'a> {
    /// The stamp as served, label included.
    text: &'a str,
    /// The date as the page wrote it.
    display: String,
    /// The date (ISO 8601, `YYYY-MM-DD`).
    date: String,
    /// The wall-clock time in `zone` (`HH:MM:SS`), or null.
    time: Option<String>,
    /// The same moment in UTC (RFC 3339), or null.
    instant: Option<String>,
    /// The zone used: an IANA name, `UTC` or an offset such as `UTC-04:00`.
    zone: &'a str,
    /// Where it was read: `visible text`, ``selector `…` ``, `stamp pattern`,
    /// `time element`, ``meta `…` ``, `JSON-LD dateModified`.
    source: String,
    /// What the label claims.
    class: crate::stamp::StampClass,
    /// The page's other update stamps, as served; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    also: Vec<&'a str>,
}

/// What changed, counted.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Summary")]
struct SummaryView {
    /// The one-line summary, e.g. `4 of 5 sections changed: 1 added, 3 modified · +13 / −9 words`.
    line: String,
    /// Sections on the newer page.
    sections_total: usize,
    /// Sections changed, each counted once under its own kind.
    sections_changed: usize,
    /// Sections added.
    sections_added: usize,
    /// Sections removed.
    sections_removed: usize,
    /// Sections whose text changed.
    sections_modified: usize,
    /// Sections renamed.
    sections_renamed: usize,
    /// Sections moved.
    sections_moved: usize,
    /// Sections whose heading level changed.
    sections_relevelled: usize,
    /// Headings added over blocks that stayed.
    sections_heading_added: usize,
    /// Headings removed over blocks that stayed.
    sections_heading_removed: usize,
    /// Words inserted.
    words_added: usize,
    /// Words deleted.
    words_removed: usize,
}

/// One changed section.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Section")]
struct SectionView<'a> {
    /// How the section changed.
    change: SectionChange,
    /// The change in words, e.g. `renamed from “Old”, edited`.
    description: String,
    /// The heading (`Lead` for the part before the first heading).
    heading: &'a str,
    /// The old heading, when renamed.
    old_heading: Option<&'a str>,
    /// The heading path (`[]` for the lead).
    key: &'a [String],
    /// The heading level (0 for the lead).
    level: u8,
    /// The old level, when it changed.
    old_level: Option<u8>,
    /// The blocks that stayed under an added or removed heading.
    kept: Option<&'a KeptBlocks>,
    /// 0-based index of the section on the old page.
    old_position: Option<usize>,
    /// 0-based index of the section on the new page.
    new_position: Option<usize>,
    /// True when the section moved.
    moved: bool,
    /// The changed blocks.
    blocks: Vec<BlockView<'a>>,
}

/// One changed block. Its `equal` and `delete` spans give its old text,
/// `equal` and `insert` its new text.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Block")]
struct BlockView<'a> {
    /// How the block changed.
    change: BlockChangeKind,
    /// The kind of block.
    kind: BlockKind,
    /// 0-based index in the old section.
    old_index: Option<usize>,
    /// 0-based index in the new section.
    new_index: Option<usize>,
    /// The old text.
    old_text: Option<&'a str>,
    /// The new text.
    new_text: Option<&'a str>,
    /// The section it moved here from.
    moved_from: Option<&'a str>,
    /// The section it moved to (listed at its old place too).
    moved_to: Option<&'a str>,
    /// The word diff.
    spans: &'a [Span],
    /// Links whose target changed.
    links: &'a [LinkChange],
}

/// The JSON Schema (draft 2020-12) of one redline as [`json`] writes it,
/// shipped as `schema/redline.v1.json`.
pub fn redline_schema() -> serde_json::Value {
    output_schema::<Versioned<'static>>()
}

/// The JSON Schema of a digest as [`json_many`] writes it, shipped as
/// `schema/redline-digest.v1.json`.
pub fn digest_schema() -> serde_json::Value {
    output_schema::<Many<'static>>()
}

/// The schema of what `T` serializes to (a field left out when empty is
/// optional; every other field, `null` or not, is required).
fn output_schema<T: schemars::JsonSchema>() -> serde_json::Value {
    schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

fn stamp_view(s: &Stamp) -> StampView<'_> {
    StampView {
        text: &s.text,
        display: s.display_value(),
        date: s.date.to_string(),
        time: s.time.map(|t| t.to_string()),
        instant: s.instant.map(|i| i.to_string()),
        zone: &s.zone,
        source: s.source.describe(),
        class: s.class,
        also: s.also.iter().map(|a| a.text.as_str()).collect(),
    }
}

fn view(r: &Redline) -> RedlineView<'_> {
    let rev = &r.revision;
    let s = &rev.summary;
    RedlineView {
        target: &r.target,
        url: &r.url,
        title: r.title.as_deref(),
        kind: rev.kind,
        old_stamp: rev.old_stamp.as_ref().map(stamp_view),
        new_stamp: rev.new_stamp.as_ref().map(stamp_view),
        old_captured_at: r.old_captured_at.map(|t| t.to_string()),
        checked_at: r.new_captured_at.to_string(),
        old_snapshot: r.old_snapshot,
        new_snapshot: r.new_snapshot,
        link: r.link.as_deref(),
        summary: SummaryView {
            line: summary_line(r),
            sections_total: s.sections_total,
            sections_changed: rev.section_counts().changed(),
            sections_added: s.sections_added,
            sections_removed: s.sections_removed,
            sections_modified: s.sections_modified,
            sections_renamed: s.sections_renamed,
            sections_moved: s.sections_moved,
            sections_relevelled: s.sections_relevelled,
            sections_heading_added: s.sections_heading_added,
            sections_heading_removed: s.sections_heading_removed,
            words_added: s.words_added,
            words_removed: s.words_removed,
        },
        notes: notes(r),
        sections: rev
            .sections
            .iter()
            .map(|sd| SectionView {
                change: sd.change,
                description: section_change_words(sd),
                heading: &sd.heading,
                old_heading: sd.old_heading.as_deref(),
                key: &sd.key.0,
                level: sd.level,
                old_level: sd.old_level,
                kept: sd.kept.as_ref(),
                old_position: sd.old_position,
                new_position: sd.new_position,
                moved: sd.moved,
                blocks: sd
                    .blocks
                    .iter()
                    .map(|b| BlockView {
                        change: b.change,
                        kind: b.kind,
                        old_index: b.old_index,
                        new_index: b.new_index,
                        old_text: b.old_text.as_deref(),
                        new_text: b.new_text.as_deref(),
                        moved_from: b.moved_from.as_deref(),
                        moved_to: b.moved_to.as_deref(),
                        spans: &b.spans,
                        links: &b.links,
                    })
                    .collect(),
            })
            .collect(),
        unchanged: &rev.unchanged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::tests::{MOVED_TEXT, sample, with_cross_section_move};
    use serde_json::Value;

    fn render(r: &Redline) -> String {
        let mut out = Vec::new();
        json(r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn parses_back_with_kinds() {
        let cases = [
            (RevisionKind::Revised, "revised"),
            (RevisionKind::SilentEdit, "silent-edit"),
            (RevisionKind::StampOnly, "stamp-only"),
        ];
        for (kind, want) in cases {
            let mut r = sample();
            r.revision.kind = kind;
            let text = render(&r);
            assert!(text.ends_with("}\n"));
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["schema_version"], 1);
            assert_eq!(v["kind"], want);
        }
    }

    #[test]
    fn fields_and_order() {
        let text = render(&sample());
        let v: Value = serde_json::from_str(&text).unwrap();
        let checks = [
            ("/target", Value::from("nato-belarus")),
            (
                "/url",
                Value::from("https://www.nato.int/cps/en/natohq/topics_49119.htm"),
            ),
            ("/title", Value::from("Relations with Belarus")),
            ("/checked_at", Value::from("2026-11-14T10:00:00Z")),
            ("/old_captured_at", Value::from("2024-09-01T08:00:00Z")),
            ("/old_stamp/date", Value::from("2024-08-28")),
            ("/new_stamp/display", Value::from("14 Nov. 2026 09:05")),
            ("/new_stamp/instant", Value::Null),
            ("/summary/sections_changed", Value::from(4)),
            ("/summary/words_removed", Value::from(9)),
            ("/sections/0/change", Value::from("modified")),
            ("/sections/0/key", Value::Array(Vec::new())),
            ("/sections/0/blocks/0/change", Value::from("deleted")),
            ("/sections/0/blocks/0/kind", Value::from("list-item")),
            ("/sections/0/blocks/0/new_text", Value::Null),
            ("/sections/1/blocks/0/spans/1/tag", Value::from("insert")),
            ("/sections/2/change", Value::from("renamed")),
            (
                "/sections/2/old_heading",
                Value::from("Key areas of cooperation"),
            ),
            ("/sections/3/change", Value::from("added")),
            (
                "/unchanged/0",
                Value::from("Belarus\u{2019} role in Russia\u{2019}s war against Ukraine"),
            ),
            ("/notes", Value::Array(Vec::new())),
        ];
        for (pointer, want) in checks {
            assert_eq!(v.pointer(pointer), Some(&want), "{pointer}");
        }
        let keys = [
            "\"schema_version\"",
            "\"target\"",
            "\"url\"",
            "\"title\"",
            "\"kind\"",
            "\"old_stamp\"",
            "\"new_stamp\"",
            "\"old_captured_at\"",
            "\"checked_at\"",
            "\"summary\"",
            "\"sections\"",
            "\"unchanged\"",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        assert_eq!(render(&sample()), text, "deterministic");
    }

    #[test]
    fn block_moved_across_sections_has_moved_from_and_moved_to() {
        let mut r = sample();
        with_cross_section_move(&mut r);
        let v: Value = serde_json::from_str(&render(&r)).unwrap();
        let checks = [
            ("/sections/0/blocks/1/change", Value::from("moved")),
            (
                "/sections/0/blocks/1/moved_from",
                Value::from("Evolution of relations"),
            ),
            ("/sections/0/blocks/1/moved_to", Value::Null),
            ("/sections/0/blocks/1/new_index", Value::from(3)),
            ("/sections/1/blocks/1/change", Value::from("moved")),
            ("/sections/1/blocks/1/moved_to", Value::from("Lead")),
            ("/sections/1/blocks/1/moved_from", Value::Null),
            ("/sections/1/blocks/1/old_index", Value::from(3)),
            ("/sections/1/blocks/1/new_index", Value::Null),
            ("/sections/1/blocks/1/old_text", Value::from(MOVED_TEXT)),
            ("/sections/1/blocks/1/new_text", Value::Null),
            ("/sections/1/blocks/1/spans", Value::Array(Vec::new())),
            // Every block carries both fields, null when absent.
            ("/sections/2/blocks/0/moved_to", Value::Null),
        ];
        for (pointer, want) in checks {
            assert_eq!(v.pointer(pointer), Some(&want), "{pointer}");
        }
    }

    #[test]
    fn notes_are_listed_in_order() {
        let mut r = sample();
        r.notes = vec![
            "Revert: the content equals that of snapshot 3.".to_string(),
            "Content root not found; fallback `main` used.".to_string(),
        ];
        r.revision.degraded = Some("deadline of 200 ms reached".to_string());
        let v: Value = serde_json::from_str(&render(&r)).unwrap();
        assert_eq!(
            v["notes"],
            serde_json::json!([
                "Revert: the content equals that of snapshot 3.",
                "Content root not found; fallback `main` used.",
                "Coarse diff: deadline of 200 ms reached"
            ])
        );
        let text = render(&r);
        assert!(
            text.find("\"summary\"") < text.find("\"notes\"")
                && text.find("\"notes\"") < text.find("\"sections\""),
            "{text}"
        );
    }

    #[test]
    fn many_wraps_a_list() {
        let mut out = Vec::new();
        json_many(&[sample(), sample()], &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["redlines"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["redlines"][1]["target"], "nato-belarus");
        assert!(v["redlines"][0].get("schema_version").is_none());
    }
}
