//! The short texts every channel shares, and a small marked-text model of a
//! revision's changed sections that each channel renders in its own markup
//! (Slack mrkdwn, Discord Markdown, Teams text runs, plain text, HTML).
//!
//! Chat messages are small, so the model keeps only the changed words with a
//! few words of context on each side ([`CONTEXT_WORDS`]), as the redline
//! examples ask; the full report stays in the snapshot directory.

use super::alert::StatusAlert;
use super::policy::TargetState;
use crate::report::Redline;
use crate::report::summary::{MOVED_OUT_WORDS, section_change_words, shown_spans};
use crate::revision::{
    BlockChange, BlockChangeKind, RevisionKind, SectionChange, SectionDiff, SpanTag,
};

/// Words of unchanged text kept on each side of a change.
pub const CONTEXT_WORDS: usize = 12;

/// How a run of text is marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Unchanged text (context).
    Equal,
    /// Text only in the new version.
    Insert,
    /// Text only in the old version.
    Delete,
}

/// A run of text with one mark. Text keeps its surrounding spaces; renderers
/// put their markers inside them (`*word* `, not `*word *`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The mark.
    pub mark: Mark,
    /// The text.
    pub text: String,
}

impl Run {
    fn new(mark: Mark, text: impl Into<String>) -> Self {
        Run {
            mark,
            text: text.into(),
        }
    }
}

/// One changed block as a line: an optional label (`added`, `removed`,
/// `moved from Evolution`, ...) and marked runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What happened to the block, when the marks alone do not say it.
    pub label: Option<String>,
    /// The text.
    pub runs: Vec<Run>,
}

/// One changed section: a title (`Lead: modified`, `New: renamed from Old`)
/// and its changed blocks as lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionView {
    /// The section title with its change.
    pub title: String,
    /// The changed blocks.
    pub lines: Vec<Line>,
}

/// `<title>: <kind>` (the target id when the page has no title).
pub fn headline(redline: &Redline) -> String {
    format!("{}: {}", page_name(redline), redline.revision.kind)
}

/// The page title, or the target id when there is none.
pub fn page_name(redline: &Redline) -> &str {
    redline
        .title
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(&redline.target)
}

/// `Last updated: OLD → NEW (Brussels time)`, `Last updated: X (unchanged,
/// Brussels time)`, or `None` when neither document has a stamp. Stamps as
/// the page wrote them; the zone used ([`crate::stamp::zone_note`]) only
/// when a stamp has a time.
pub fn stamps_line(redline: &Redline) -> Option<String> {
    let rev = &redline.revision;
    let show = |s: &Option<crate::stamp::Stamp>| {
        s.as_ref()
            .map_or_else(|| "none".to_string(), |s| s.display_value())
    };
    let zone = crate::stamp::zone_note(rev.old_stamp.as_ref(), rev.new_stamp.as_ref());
    let label = crate::report::summary::stamp_label(rev);
    let mut line = match (&rev.old_stamp, &rev.new_stamp) {
        (None, None) => return None,
        (Some(o), Some(n)) if o.same_moment(n) => match zone {
            Some(z) => format!("{label}: {} (unchanged, {z})", n.display_value()),
            None => format!("{label}: {} (unchanged)", n.display_value()),
        },
        _ => {
            let line = format!(
                "{label}: {} → {}",
                show(&rev.old_stamp),
                show(&rev.new_stamp)
            );
            match zone {
                Some(z) => format!("{line} ({z})"),
                None => line,
            }
        }
    };
    if let (Some(o), Some(n)) = (&rev.old_stamp, &rev.new_stamp) {
        for moved in n.also_moved(o) {
            line.push_str(&format!("; {moved}"));
        }
    }
    Some(line)
}

/// `Checked 2026-11-14 10:00 UTC`.
pub fn checked_line(redline: &Redline) -> String {
    format!(
        "Checked {}",
        redline.new_captured_at.strftime("%Y-%m-%d %H:%M UTC")
    )
}

/// The report's one-line summary ([`crate::report::summary_line`]), e.g.
/// `3 of 4 sections changed: 1 added, 2 modified · +41 / −27 words`.
pub fn summary_text(redline: &Redline) -> String {
    crate::report::summary_line(redline)
}

/// The notes a reader must not miss, in the order every report format shows
/// them right after its header: the redline's own [`Redline::notes`] (a
/// revert, an alternating page, a fallback content root, an unreadable
/// stamp), then a coarse diff's reason. Plain text, unescaped; empty for most
/// revisions.
pub fn notes(redline: &Redline) -> Vec<String> {
    crate::report::summary::notes(redline)
}

/// The sentence a chat alert puts first for a `silent-edit` (`Silent edit:
/// the content changed but …`) or a `changed` revision (`No readable stamp:
/// content changed; …`), the same words every report format shows
/// ([`crate::report::summary`]); `None` for other kinds.
pub fn kind_note(redline: &Redline) -> Option<String> {
    let kind = redline.revision.kind;
    if !matches!(kind, RevisionKind::SilentEdit | RevisionKind::Changed) {
        return None;
    }
    crate::report::summary::revision_notice(&redline.revision)
        .map(|(lead, rest)| format!("{lead} {rest}"))
}

/// `Unchanged: A · B`, or `None` when every section changed.
pub fn unchanged_line(redline: &Redline) -> Option<String> {
    let u = &redline.revision.unchanged;
    (!u.is_empty()).then(|| format!("Unchanged: {}", u.join(" · ")))
}

/// Where the full report is: `Full report: <location>`, or how to get it.
pub fn full_report_line(redline: &Redline, location: Option<&str>) -> String {
    match location {
        Some(l) => format!("Full report: {l}"),
        None => format!("Full report: `redliner history {}`", redline.target),
    }
}

/// The sentence a health alert says, e.g. `The last 3 checks of URL failed
/// (failing since 2026-11-14 10:00 UTC).` or `Checks of URL work again after 5
/// failed checks (failing since ...).`
pub fn status_sentence(s: &StatusAlert) -> String {
    let since = s.since.strftime("%Y-%m-%d %H:%M UTC");
    let n = s.consecutive_failures;
    let checks = if n == 1 { "check" } else { "checks" };
    match s.state {
        TargetState::Failing if n == 1 => {
            format!(
                "The last check of {} failed (failing since {since}).",
                s.url
            )
        }
        TargetState::Failing => {
            format!(
                "The last {n} checks of {} failed (failing since {since}).",
                s.url
            )
        }
        TargetState::Recovered => format!(
            "Checks of {} work again after {n} failed {checks} (failing since {since}).",
            s.url
        ),
    }
}

/// `Last error: ...` for a health alert that has one.
pub fn status_error(s: &StatusAlert) -> Option<String> {
    s.last_error.as_ref().map(|e| format!("Last error: {e}"))
}

/// The changed sections as views, in revision order.
pub fn sections(redline: &Redline) -> Vec<SectionView> {
    redline.revision.sections.iter().map(section_view).collect()
}

/// One changed section as a view.
pub fn section_view(s: &SectionDiff) -> SectionView {
    let title = match (s.change, &s.old_heading) {
        // Heading changes say what happened to the blocks that stayed.
        (
            SectionChange::HeadingAdded | SectionChange::HeadingRemoved | SectionChange::Relevelled,
            _,
        ) => format!("{}: {}", s.heading, section_change_words(s)),
        (SectionChange::Renamed, Some(_)) if s.old_level.is_some() => {
            format!("{}: {}", s.heading, section_change_words(s))
        }
        (SectionChange::Renamed, Some(old)) => format!("{}: renamed from {old}", s.heading),
        (change, _) if s.moved && change != SectionChange::Moved => {
            format!("{}: {}, moved", s.heading, change.as_str())
        }
        (change, _) => format!("{}: {}", s.heading, change.as_str()),
    };
    let lines = match s.change {
        // Every block of an added or removed section is inserted or deleted;
        // the title says so, the lines need no label.
        SectionChange::Added | SectionChange::Removed => s
            .blocks
            .iter()
            .map(|b| {
                let mut l = block_line(b);
                if matches!(
                    b.change,
                    BlockChangeKind::Inserted | BlockChangeKind::Deleted
                ) {
                    l.label = None;
                }
                l
            })
            .collect(),
        _ => s.blocks.iter().map(block_line).collect(),
    };
    SectionView { title, lines }
}

fn block_line(b: &BlockChange) -> Line {
    let old = b.old_text.as_deref().unwrap_or("");
    let new = b.new_text.as_deref().unwrap_or("");
    let label = |s: &str| Some(s.to_string());
    if let (BlockChangeKind::Moved, Some(to)) = (b.change, &b.moved_to) {
        // The source side of a move to another section: a short unmarked
        // head, since the destination line shows the block and its edits.
        return Line {
            label: Some(format!("moved to {to}")),
            runs: vec![Run::new(Mark::Equal, head_words(old, MOVED_OUT_WORDS))],
        };
    }
    match b.change {
        BlockChangeKind::Inserted => Line {
            label: label("added"),
            runs: vec![Run::new(Mark::Insert, new)],
        },
        BlockChangeKind::Deleted => Line {
            label: label("removed"),
            runs: vec![Run::new(Mark::Delete, old)],
        },
        BlockChangeKind::Replaced => Line {
            label: None,
            runs: span_runs(b, old, new),
        },
        BlockChangeKind::Split => Line {
            label: label("split"),
            runs: span_runs(b, old, new),
        },
        BlockChangeKind::Merged => Line {
            label: label("merged"),
            runs: span_runs(b, old, new),
        },
        BlockChangeKind::Moved => {
            let label = match &b.moved_from {
                Some(from) => format!("moved from {from}"),
                None => "moved".to_string(),
            };
            let edited = shown_spans(&b.spans)
                .iter()
                .any(|s| s.tag != SpanTag::Equal);
            let runs = if edited {
                span_runs(b, old, new)
            } else {
                vec![Run::new(Mark::Equal, head_words(new, 2 * CONTEXT_WORDS))]
            };
            Line {
                label: Some(label),
                runs,
            }
        }
        BlockChangeKind::Reordered => Line {
            label: label("reordered"),
            runs: vec![Run::new(Mark::Equal, head_words(new, 2 * CONTEXT_WORDS))],
        },
        BlockChangeKind::LinkChanged => {
            let mut runs = Vec::new();
            for (i, l) in b.links.iter().enumerate() {
                if i > 0 {
                    runs.push(Run::new(Mark::Equal, "; "));
                }
                runs.push(Run::new(Mark::Equal, format!("{}: ", l.text)));
                runs.push(Run::new(Mark::Delete, l.old_href.clone()));
                runs.push(Run::new(Mark::Equal, " → "));
                runs.push(Run::new(Mark::Insert, l.new_href.clone()));
            }
            if runs.is_empty() {
                runs.push(Run::new(Mark::Equal, head_words(new, 2 * CONTEXT_WORDS)));
            }
            Line {
                label: label("link changed"),
                runs,
            }
        }
    }
}

/// Runs from a block's word spans, with long unchanged stretches cut to
/// [`CONTEXT_WORDS`] on each side of a change. Without spans (a degraded
/// diff), the whole old text deleted and the new one inserted.
fn span_runs(b: &BlockChange, old: &str, new: &str) -> Vec<Run> {
    if b.spans.is_empty() {
        let mut runs = Vec::new();
        if !old.is_empty() {
            runs.push(Run::new(Mark::Delete, format!("{old} ")));
        }
        if !new.is_empty() {
            runs.push(Run::new(Mark::Insert, new));
        }
        return runs;
    }
    let spans = shown_spans(&b.spans);
    let n = spans.len();
    let mut runs: Vec<Run> = Vec::with_capacity(n);
    for (i, s) in spans.iter().enumerate() {
        let run = match s.tag {
            SpanTag::Insert => Run::new(Mark::Insert, s.text.clone()),
            SpanTag::Delete => Run::new(Mark::Delete, s.text.clone()),
            SpanTag::Equal => {
                let text = match (i == 0, i + 1 == n) {
                    (true, true) => s.text.clone(),
                    (true, false) => tail_words(&s.text, CONTEXT_WORDS),
                    (false, true) => head_words(&s.text, CONTEXT_WORDS),
                    (false, false) => middle_cut(&s.text, CONTEXT_WORDS),
                };
                Run::new(Mark::Equal, text)
            }
        };
        // Adjacent runs with one mark (a cut can leave none) read as one.
        match runs.last_mut() {
            Some(last) if last.mark == run.mark => last.text.push_str(&run.text),
            _ => runs.push(run),
        }
    }
    runs
}

fn edge_spaces(text: &str) -> (&str, &str) {
    let trimmed_start = text.trim_start();
    let lead = &text[..text.len() - trimmed_start.len()];
    let trimmed_end = text.trim_end();
    let trail = &text[trimmed_end.len()..];
    (lead, trail)
}

/// The first `n` words, with `…` when cut (surrounding spaces kept).
pub fn head_words(text: &str, n: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() <= n {
        return text.to_string();
    }
    let (lead, trail) = edge_spaces(text);
    format!("{lead}{} …{trail}", words[..n].join(" "))
}

/// The last `n` words, with `…` when cut (surrounding spaces kept).
pub fn tail_words(text: &str, n: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() <= n {
        return text.to_string();
    }
    let (lead, trail) = edge_spaces(text);
    format!("{lead}… {}{trail}", words[words.len() - n..].join(" "))
}

/// The first and last `n` words with `…` between, when there are more than `2n`.
pub fn middle_cut(text: &str, n: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() <= 2 * n {
        return text.to_string();
    }
    let (lead, trail) = edge_spaces(text);
    format!(
        "{lead}{} … {}{trail}",
        words[..n].join(" "),
        words[words.len() - n..].join(" ")
    )
}

/// Wraps the non-space part of `text` in `open`/`close`, keeping the spaces
/// outside (chat markup does not render `* word *`).
pub fn wrap_marked(text: &str, open: &str, close: &str) -> String {
    let (lead, trail) = edge_spaces(text);
    let core = text.trim();
    if core.is_empty() {
        return text.to_string();
    }
    format!("{lead}{open}{core}{close}{trail}")
}

/// Renders runs with per-mark wrappers after escaping each run's text.
pub fn render_runs(
    runs: &[Run],
    escape: &dyn Fn(&str) -> String,
    insert: (&str, &str),
    delete: (&str, &str),
) -> String {
    runs.iter()
        .map(|r| {
            let text = escape(&r.text);
            match r.mark {
                Mark::Equal => text,
                Mark::Insert => wrap_marked(&text, insert.0, insert.1),
                Mark::Delete => wrap_marked(&text, delete.0, delete.1),
            }
        })
        .collect()
}

/// A line as plain text with `[-deleted-]{+inserted+}` marks (the terminal
/// renderer's piped form), label first: `- moved from X: text`.
pub fn plain_line(line: &Line) -> String {
    let body = render_runs(&line.runs, &|s| s.to_string(), ("{+", "+}"), ("[-", "-]"));
    match &line.label {
        Some(l) => format!("- {l}: {body}"),
        None => format!("- {body}"),
    }
}

/// Cuts `text` to at most `max` characters, ending with `suffix` when cut;
/// cuts at the last line break that fits when there is one in the second
/// half, else at a character boundary. Returns the text and whether it was cut.
pub fn cut_chars(text: &str, max: usize, suffix: &str) -> (String, bool) {
    if text.chars().count() <= max {
        return (text.to_string(), false);
    }
    let room = max.saturating_sub(suffix.chars().count());
    let byte_end = text.char_indices().nth(room).map_or(text.len(), |(i, _)| i);
    let head = &text[..byte_end];
    let head = match head.rfind('\n') {
        Some(nl) if nl >= head.len() / 2 => &head[..nl],
        _ => head,
    };
    (format!("{}{suffix}", head.trim_end()), true)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::document::{BlockKind, SectionKey};
    use crate::report::Redline;
    use crate::revision::{ChangeSummary, LinkChange, Revision, Span};

    pub(crate) fn span(tag: SpanTag, text: &str) -> Span {
        Span {
            tag,
            text: text.to_string(),
        }
    }

    pub(crate) fn block(
        change: BlockChangeKind,
        old: Option<&str>,
        new: Option<&str>,
        spans: Vec<Span>,
    ) -> BlockChange {
        BlockChange {
            change,
            kind: BlockKind::Paragraph,
            old_index: old.map(|_| 0),
            new_index: new.map(|_| 0),
            old_text: old.map(str::to_string),
            new_text: new.map(str::to_string),
            spans,
            moved_from: None,
            moved_to: None,
            links: Vec::new(),
        }
    }

    pub(crate) fn section(
        change: SectionChange,
        heading: &str,
        blocks: Vec<BlockChange>,
    ) -> SectionDiff {
        SectionDiff {
            change,
            key: if heading == "Lead" {
                SectionKey::lead()
            } else {
                SectionKey(vec![heading.to_lowercase()])
            },
            heading: heading.to_string(),
            old_heading: None,
            level: if heading == "Lead" { 0 } else { 2 },
            old_level: None,
            kept: None,
            old_position: Some(0),
            new_position: Some(0),
            moved: false,
            blocks,
        }
    }

    /// A nato.int stamp, read in Brussels time as the nato-topic rules do.
    fn stamp(text: &str) -> crate::stamp::Stamp {
        let reading = crate::stamp::Reading {
            order: crate::stamp::DateOrder::Dmy,
            tz: Some(jiff::tz::TimeZone::get("Europe/Brussels").unwrap()),
        };
        crate::stamp::parse_with(text, &reading).unwrap()
    }

    /// The example redline of REDLINE-EXAMPLE.md, shortened: a revised page
    /// with one modified lead and one added section.
    pub(crate) fn example() -> Redline {
        Redline {
            target: "nato-belarus".into(),
            url: "https://www.nato.int/cps/en/natohq/topics_49119.htm".into(),
            title: Some("Relations with Belarus".into()),
            old_captured_at: Some("2026-11-13T10:00:00Z".parse().unwrap()),
            new_captured_at: "2026-11-14T10:00:00Z".parse().unwrap(),
            old_snapshot: Some(41),
            new_snapshot: Some(42),
            revision: Revision {
                kind: RevisionKind::Revised,
                old_stamp: Some(stamp("Last updated: 28 Aug. 2024 11:27")),
                new_stamp: Some(stamp("Last updated: 14 Nov. 2026 09:05")),
                summary: ChangeSummary {
                    sections_total: 4,
                    sections_added: 1,
                    sections_removed: 0,
                    sections_modified: 1,
                    sections_renamed: 0,
                    sections_moved: 0,
                    words_added: 9,
                    words_removed: 2,
                    ..ChangeSummary::default()
                },
                sections: vec![
                    section(
                        SectionChange::Modified,
                        "Lead",
                        vec![block(
                            BlockChangeKind::Replaced,
                            Some("The mission opened in April 1998."),
                            Some("The mission opened in April 1998 and closed in 2025."),
                            vec![
                                span(SpanTag::Equal, "The mission opened in April "),
                                span(SpanTag::Delete, "1998."),
                                span(SpanTag::Insert, "1998 and closed in 2025."),
                            ],
                        )],
                    ),
                    section(
                        SectionChange::Added,
                        "Relations since 2024",
                        vec![block(
                            BlockChangeKind::Inserted,
                            None,
                            Some("Allies monitor <forces> & more."),
                            vec![],
                        )],
                    ),
                ],
                unchanged: vec!["Key areas".into(), "Background".into()],
                degraded: None,
            },
            notes: Vec::new(),
        }
    }

    /// [`example`] with two notes (a revert and a fallback content root
    /// whose selector holds characters every chat markup must escape), as a
    /// revision alert flagged as a revert to snapshot 40.
    pub(crate) fn noted_alert() -> crate::notify::Alert {
        let mut r = example();
        r.notes = vec![
            "Revert: the content equals that of snapshot 40.".to_string(),
            "Content root not found; fallback `#main_content > div` used.".to_string(),
        ];
        let mut alert = crate::notify::Alert::revision(r, None);
        if let crate::notify::Alert::Revision(a) = &mut alert {
            a.revert_of = Some(40);
        }
        alert
    }

    #[test]
    fn notes_are_the_reports_notes() {
        let mut r = example();
        assert_eq!(notes(&r), Vec::<String>::new());
        r.notes = vec!["Revert: x.".to_string()];
        r.revision.degraded = Some("deadline reached".to_string());
        assert_eq!(notes(&r), ["Revert: x.", "Coarse diff: deadline reached"]);
    }

    #[test]
    fn shared_lines() {
        let r = example();
        assert_eq!(headline(&r), "Relations with Belarus: revised");
        assert_eq!(
            stamps_line(&r).as_deref(),
            Some("Last updated: 28 Aug. 2024 11:27 → 14 Nov. 2026 09:05 (Brussels time)")
        );
        assert_eq!(checked_line(&r), "Checked 2026-11-14 10:00 UTC");
        assert_eq!(
            summary_text(&r),
            "2 of 4 sections changed: 1 added, 1 modified · +9 / −2 words"
        );
        assert_eq!(
            unchanged_line(&r).as_deref(),
            Some("Unchanged: Key areas · Background")
        );
        assert_eq!(kind_note(&r), None);
        assert_eq!(
            full_report_line(&r, None),
            "Full report: `redliner history nato-belarus`"
        );
        assert_eq!(
            full_report_line(&r, Some("snapshots/x")),
            "Full report: snapshots/x"
        );

        let mut silent = example();
        silent.revision.kind = RevisionKind::SilentEdit;
        silent.revision.new_stamp = silent.revision.old_stamp.clone();
        silent.title = None;
        assert_eq!(headline(&silent), "nato-belarus: silent-edit");
        assert_eq!(
            stamps_line(&silent).as_deref(),
            Some("Last updated: 28 Aug. 2024 11:27 (unchanged, Brussels time)")
        );
        assert!(kind_note(&silent).is_some());
        silent.revision.old_stamp = None;
        assert_eq!(
            stamps_line(&silent).as_deref(),
            Some("Last updated: none → 28 Aug. 2024 11:27 (Brussels time)")
        );
    }

    #[test]
    fn section_views_mark_changes_and_cut_context() {
        let long_equal = (1..=30)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let mut moved = block(
            BlockChangeKind::Moved,
            Some("Same text."),
            Some("Same text."),
            vec![span(SpanTag::Equal, "Same text.")],
        );
        moved.moved_from = Some("Background".into());
        let mut link = block(
            BlockChangeKind::LinkChanged,
            Some("See here."),
            Some("See here."),
            vec![],
        );
        link.links = vec![LinkChange {
            text: "here".into(),
            old_href: "https://a/1".into(),
            new_href: "https://a/2".into(),
        }];
        let mut renamed = section(
            SectionChange::Renamed,
            "New name",
            vec![
                block(
                    BlockChangeKind::Replaced,
                    None,
                    None,
                    vec![
                        span(SpanTag::Equal, &format!("{long_equal} ")),
                        span(SpanTag::Delete, "old"),
                        span(SpanTag::Insert, "new"),
                        span(SpanTag::Equal, &format!(" {long_equal} ")),
                        span(SpanTag::Insert, "end"),
                    ],
                ),
                moved,
                link,
                block(BlockChangeKind::Deleted, Some("Gone."), None, vec![]),
                block(BlockChangeKind::Replaced, Some("a b"), Some("c d"), vec![]),
            ],
        );
        renamed.old_heading = Some("Old name".into());
        let view = section_view(&renamed);
        assert_eq!(view.title, "New name: renamed from Old name");
        let plain: Vec<String> = view.lines.iter().map(plain_line).collect();
        assert_eq!(
            plain,
            [
                "- … w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 [-old-]{+new+} w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 … w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 {+end+}",
                "- moved from Background: Same text.",
                "- link changed: here: [-https://a/1-] → {+https://a/2+}",
                "- removed: [-Gone.-]",
                "- [-a b-] {+c d+}",
            ]
        );
        let added = section_view(&section(
            SectionChange::Added,
            "Fresh",
            vec![block(
                BlockChangeKind::Inserted,
                None,
                Some("All new."),
                vec![],
            )],
        ));
        assert_eq!(added.title, "Fresh: added");
        assert_eq!(
            added.lines.iter().map(plain_line).collect::<Vec<_>>(),
            ["- {+All new.+}"]
        );
    }

    #[test]
    fn block_moved_to_another_section_shows_a_short_head() {
        let long = (1..=30)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let moved_out = |text: &str| BlockChange {
            moved_to: Some("Relations since 2024".into()),
            ..block(BlockChangeKind::Moved, Some(text), None, vec![])
        };
        let view = section_view(&section(
            SectionChange::Modified,
            "Evolution of relations",
            vec![moved_out(&long), moved_out("Short text.")],
        ));
        assert_eq!(view.title, "Evolution of relations: modified");
        assert_eq!(
            view.lines.iter().map(plain_line).collect::<Vec<_>>(),
            [
                "- moved to Relations since 2024: w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 …",
                "- moved to Relations since 2024: Short text.",
            ]
        );
    }

    #[test]
    fn word_cuts() {
        let cases = [
            (head_words("a b c d", 2), "a b …"),
            (head_words(" a b ", 2), " a b "),
            (tail_words("a b c d ", 2), "… c d "),
            (middle_cut(" a b c d e ", 2), " a b … d e "),
            (middle_cut("a b c d", 2), "a b c d"),
            (wrap_marked(" word  ", "*", "*"), " *word*  "),
            (wrap_marked("  ", "*", "*"), "  "),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn char_cuts_prefer_line_breaks() {
        let cases = [
            ("short", 10, ("short".to_string(), false)),
            (
                "line one\nline two\nline three",
                22,
                ("line one\nline two…".to_string(), true),
            ),
            ("abcdefghij", 5, ("abcd…".to_string(), true)),
            ("ééééé", 4, ("ééé…".to_string(), true)),
        ];
        for (text, max, want) in cases {
            let got = cut_chars(text, max, "…");
            assert_eq!(got, want, "{text}");
            assert!(got.0.chars().count() <= max);
        }
    }
}
