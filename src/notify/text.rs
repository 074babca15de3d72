//! The texts every alert channel shares: the headline, the stamp and check
//! lines, the health-alert sentences, the test-alert note, and the chat
//! markup helpers. The changed sections come from the report's text model
//! ([`crate::report::summary::section_lines`]): a chat message says a change
//! in the same words and with the same context as every report format, each
//! channel only adds its markup.
//!
//! Chat messages are small: what does not fit a channel's limits is cut by
//! [`super::fit`], which names what it left out.

use crate::report::Redline;
use crate::report::summary::{
    BlockLine, Piece, SectionLines, href_or_none, section_lines, split_edges, stamp_change,
    stamp_label,
};
use crate::revision::{LinkChange, RevisionKind, SpanTag};

/// The note a test alert carries (`redliner test-alert`), the same in every
/// channel; each puts it in its own emphasis.
pub const SAMPLE_NOTE: &str =
    "A test alert sent by `redliner test-alert`; the page and its change are invented.";

/// `<title>: <kind> <date>` with the kind in the report's words (`silent
/// edit`, `stamp only`; see [`crate::report::summary::kind_words`]) and the
/// date that tells this revision from the page's others
/// ([`crate::report::summary::revision_date`]: `revised 14 Nov. 2024`,
/// `silent edit found 4 Dec. 2026`), the target id when the page has no
/// title. The summary line follows it where a message has one line only
/// (the e-mail subject).
pub fn headline(redline: &Redline) -> String {
    format!(
        "{}: {} {}",
        page_name(redline),
        crate::report::summary::kind_words(redline.revision.kind),
        crate::report::summary::revision_date(redline)
    )
}

/// The page title, or the target id when there is none.
pub fn page_name(redline: &Redline) -> &str {
    redline
        .title
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(&redline.target)
}

/// The report's stamp line with its label: `Last updated: OLD → NEW
/// (Brussels time)`, `Last updated: X, unchanged (Brussels time)` (see
/// [`crate::report::summary::stamp_change`]), or `None` when neither document
/// has a stamp.
pub fn stamps_line(redline: &Redline) -> Option<String> {
    let rev = &redline.revision;
    if rev.old_stamp.is_none() && rev.new_stamp.is_none() {
        return None;
    }
    Some(format!("{}: {}", stamp_label(rev), stamp_change(rev)))
}

/// `Checked 2026-11-14 10:00 UTC`.
pub fn checked_line(redline: &Redline) -> String {
    format!(
        "Checked {}",
        crate::report::summary::utc_minute(redline.new_captured_at)
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
/// ([`crate::report::summary::revision_notice`]); `None` for other kinds.
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
    (!u.is_empty()).then(|| format!("Unchanged: {}", u.join(" \u{b7} ")))
}

/// Where the full report is: `Full report: <location>`, or how to get it.
pub fn full_report_line(redline: &Redline, location: Option<&str>) -> String {
    match location {
        Some(l) => format!("Full report: {l}"),
        None => format!("Full report: `redliner history {}`", redline.target),
    }
}

/// The changed sections as every report format shows them, each block's
/// text on one line.
pub fn sections(redline: &Redline) -> Vec<SectionLines<'_>> {
    redline
        .revision
        .sections
        .iter()
        .map(|s| section_lines(s, true))
        .collect()
}

/// A changed link in words: `Link “text”: OLD → NEW` (`none` for a side
/// without the link), as the Markdown and terminal reports write it.
pub fn link_line(link: &LinkChange) -> String {
    format!(
        "Link \u{201c}{}\u{201d}: {} \u{2192} {}",
        link.text,
        href_or_none(&link.old_href),
        href_or_none(&link.new_href)
    )
}

/// Wraps the non-space part of `text` in `open`/`close`, keeping the spaces
/// outside (chat markup does not render `* word *`).
pub fn wrap_marked(text: &str, open: &str, close: &str) -> String {
    let (lead, core, trail) = split_edges(text);
    if core.is_empty() {
        return text.to_string();
    }
    format!("{lead}{open}{core}{close}{trail}")
}

/// Renders a block's pieces with per-mark wrappers after escaping each
/// piece's text; a gap (unchanged words left out) is `…`.
pub fn render_pieces(
    pieces: &[Piece],
    escape: &dyn Fn(&str) -> String,
    insert: (&str, &str),
    delete: (&str, &str),
) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Gap => "\u{2026}".to_string(),
            Piece::Text(tag, text) => {
                let text = escape(text);
                match tag {
                    SpanTag::Equal => text,
                    SpanTag::Insert => wrap_marked(&text, insert.0, insert.1),
                    SpanTag::Delete => wrap_marked(&text, delete.0, delete.1),
                }
            }
        })
        .collect()
}

/// A block line as plain text with `[-deleted-]{+inserted+}` marks, label
/// first (`- Paragraph moved from “X”: text`), its changed links after it.
pub fn plain_line(line: &BlockLine) -> String {
    let body = render_pieces(&line.pieces, &|s| s.to_string(), ("{+", "+}"), ("[-", "-]"));
    let mut out = match &line.label {
        Some(l) => format!("- {l}: {body}"),
        None => format!("- {body}"),
    };
    for link in line.links {
        out.push_str("\n  - ");
        out.push_str(&link_line(link));
    }
    out.trim_end().to_string()
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
    use crate::ids::SnapshotId;
    use crate::report::Redline;
    use crate::report::summary::section_lines;
    use crate::revision::{
        BlockChange, BlockChangeKind, ChangeSummary, Revision, SectionChange, SectionDiff, Span,
    };

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
            old_snapshot: Some(SnapshotId(41)),
            new_snapshot: Some(SnapshotId(42)),
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
            link: None,
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
            a.revert_of = Some(SnapshotId(40));
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
        assert_eq!(headline(&r), "Relations with Belarus: revised 14 Nov. 2026");
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
        assert_eq!(
            headline(&silent),
            "nato-belarus: silent edit found 14 Nov. 2026"
        );
        assert_eq!(
            stamps_line(&silent).as_deref(),
            Some("Last updated: 28 Aug. 2024 11:27, unchanged (Brussels time)")
        );
        assert!(kind_note(&silent).is_some());
        silent.revision.old_stamp = None;
        assert_eq!(
            stamps_line(&silent).as_deref(),
            Some("Last updated: none → 28 Aug. 2024 11:27 (Brussels time)")
        );
    }

    /// The defect this pins: chat channels had a text model of their own
    /// (other context cuts, other labels, other section words). A chat line
    /// is now the report's line with chat marks: the same label, the same
    /// context and gaps, the same section words as the Markdown report.
    #[test]
    fn chat_lines_are_the_reports_lines() {
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
        let lines = section_lines(&renamed, true);
        assert_eq!(
            lines.title(),
            "New name: renamed from \u{201c}Old name\u{201d}, edited"
        );
        let plain: Vec<String> = lines.blocks.iter().map(plain_line).collect();
        assert_eq!(
            plain,
            [
                "- \u{2026} w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 [-old-]{+new+} w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 \u{2026} w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 {+end+}",
                "- Paragraph moved from \u{201c}Background\u{201d}: Same text.",
                "- Link target changed: See here.\n  - Link \u{201c}here\u{201d}: https://a/1 \u{2192} https://a/2",
                "- Paragraph removed: [-Gone.-]",
                "- [-a b-] {+c d+}",
            ]
        );
        let added = section(
            SectionChange::Added,
            "Fresh",
            vec![block(
                BlockChangeKind::Inserted,
                None,
                Some("All new."),
                vec![],
            )],
        );
        let added = section_lines(&added, true);
        assert_eq!(added.title(), "Fresh: added");
        assert_eq!(
            added.blocks.iter().map(plain_line).collect::<Vec<_>>(),
            ["- All new."]
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
        let modified = section(
            SectionChange::Modified,
            "Evolution of relations",
            vec![moved_out(&long), moved_out("Short text.")],
        );
        let lines = section_lines(&modified, true);
        assert_eq!(lines.title(), "Evolution of relations: modified");
        assert_eq!(
            lines.blocks.iter().map(plain_line).collect::<Vec<_>>(),
            [
                "- Paragraph moved to \u{201c}Relations since 2024\u{201d}: w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 \u{2026}",
                "- Paragraph moved to \u{201c}Relations since 2024\u{201d}: Short text.",
            ]
        );
    }

    #[test]
    fn marks_hug_their_words() {
        let cases = [
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
