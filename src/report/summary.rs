//! What every format says the same way: the one-line summary, the header facts
//! (kind, stamps, check time, notices), section and block labels, and the
//! excerpts that trim long unchanged runs inside a changed block.
//!
//! Renderers take their words from here so that a redline reads the same in a
//! terminal, a chat message, a web page and a feed.

use jiff::Timestamp;

use crate::document::BlockKind;
use crate::normalize::typography_only;
use crate::revision::{
    BlockChange, BlockChangeKind, KeptBlocks, LinkChange, Revision, RevisionKind, SectionChange,
    SectionCounts, SectionDiff, Span, SpanTag,
};

use super::Redline;

/// Words of unchanged context kept on each side of a change inside a block.
pub const CONTEXT_WORDS: usize = 12;

/// Words shown of a block at the section it moved out of (its full text, with
/// any edit marked, is shown at the destination).
pub const MOVED_OUT_WORDS: usize = 12;

/// An unchanged run is only trimmed when it saves at least this many words, so
/// an ellipsis never stands in for one or two words.
const TRIM_SLACK: usize = 4;

/// One line for history and alerts:
/// `3 of 4 sections changed: 1 added, 2 modified · +41 / −27 words`.
///
/// A stamp-only revision reads `stamp only: no content change`. The word
/// counts are left out when both are zero.
pub fn summary_line(redline: &Redline) -> String {
    let rev = &redline.revision;
    if rev.kind == RevisionKind::StampOnly && rev.sections.is_empty() {
        return "stamp only: no content change".to_string();
    }
    let s = &rev.summary;
    let counts = rev.section_counts();
    let changed = counts.changed();
    let total = s.sections_total.max(changed);
    let mut line = format!("{changed} of {total} sections changed");
    let parts = section_parts(&counts);
    if !parts.is_empty() {
        line.push_str(": ");
        line.push_str(&parts);
    }
    if s.words_added > 0 || s.words_removed > 0 {
        line.push_str(&format!(
            " \u{b7} +{} / \u{2212}{} words",
            s.words_added, s.words_removed
        ));
    }
    line
}

/// The changed sections by kind in words, `1 added, 2 modified, 1 renamed`
/// (zero counts left out; empty when no section changed). Each section is
/// counted once, under its own kind ([`SectionCounts`]), so the parts add up
/// to the sections changed. [`summary_line`] and the `history` line
/// ([`crate::report::history::summary_text`]) both say it this way.
pub fn section_parts(counts: &SectionCounts) -> String {
    counts
        .parts()
        .into_iter()
        .map(|(n, kind)| format!("{n} {}", count_word(kind)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A section kind as counted in a summary line: `added`, `heading added`,
/// `re-levelled`...
fn count_word(kind: SectionChange) -> &'static str {
    match kind {
        SectionChange::HeadingAdded => "heading added",
        SectionChange::HeadingRemoved => "heading removed",
        SectionChange::Relevelled => "re-levelled",
        other => other.as_str(),
    }
}

/// The day a revision is known by: the new stamp's date when the page gave
/// the revision a new one (`14 Nov. 2024`), else the day it was found
/// (`found 4 Dec. 2026`: a silent edit keeps the old stamp, a page without a
/// stamp has none).
pub fn revision_date(redline: &Redline) -> String {
    let rev = &redline.revision;
    let restamped = matches!(rev.kind, RevisionKind::Revised | RevisionKind::StampOnly);
    match (&rev.new_stamp, restamped) {
        (Some(stamp), true) => stamp.date.strftime("%-d %b. %Y").to_string(),
        _ => format!(
            "found {}",
            redline
                .new_captured_at
                .to_zoned(jiff::tz::TimeZone::UTC)
                .strftime("%-d %b. %Y")
        ),
    }
}

/// What tells one revision of a page from another, in one line: the title,
/// the kind, its date and the summary line,
/// `Relations with Belarus: revised 14 Nov. 2024 — 1 of 5 sections changed: 1 modified · +3 / −2 words`
/// (feed entries, e-mail subjects, chat titles, a digest's contents).
pub fn dated_headline(redline: &Redline) -> String {
    format!(
        "{}: {} {} \u{2014} {}",
        display_title(redline),
        kind_words(redline.revision.kind),
        revision_date(redline),
        summary_line(redline)
    )
}

/// A changed section's number in page order, 1-based (the lead is 1): its
/// place on the new page, or on the old one for a removed section.
pub fn section_number(section: &SectionDiff) -> Option<usize> {
    section.new_position.or(section.old_position).map(|p| p + 1)
}

/// The name a reader knows the target by: the page title, else the target id.
pub fn display_title(redline: &Redline) -> &str {
    redline.title.as_deref().unwrap_or(&redline.target)
}

/// The kind in words for headings: `revised`, `silent edit`, `changed`,
/// `stamp only`.
pub fn kind_words(kind: RevisionKind) -> &'static str {
    match kind {
        RevisionKind::Revised => "revised",
        RevisionKind::SilentEdit => "silent edit",
        RevisionKind::Changed => "changed",
        RevisionKind::StampOnly => "stamp only",
    }
}

/// The sentence said at the top for the kinds that are news in themselves.
pub fn kind_notice(kind: RevisionKind) -> Option<(&'static str, &'static str)> {
    match kind {
        RevisionKind::Revised => None,
        RevisionKind::SilentEdit => Some((
            "Silent edit:",
            "the content changed but the page\u{2019}s \u{201c}Last updated\u{201d} stamp did not.",
        )),
        RevisionKind::Changed => Some((
            "No readable stamp:",
            "content changed; the page shows no readable stamp.",
        )),
        RevisionKind::StampOnly => Some((
            "Stamp only:",
            "the page\u{2019}s \u{201c}Last updated\u{201d} stamp changed; the content did not.",
        )),
    }
}

/// The notice for a revision: [`kind_notice`], except that a `changed`
/// page whose only stamp is a published date says so (it has a date, just
/// no update date).
pub fn revision_notice(rev: &Revision) -> Option<(&'static str, &'static str)> {
    let published_only = rev
        .new_stamp
        .as_ref()
        .is_some_and(|s| s.class == crate::stamp::StampClass::Published);
    if rev.kind == RevisionKind::Changed && published_only {
        return Some((
            "No update stamp:",
            "content changed; the page shows only its publication date.",
        ));
    }
    kind_notice(rev.kind)
}

/// The label of the stamp line: `Last updated`, or `Published` when the
/// page's stamp (the new one, else the old) is a publication date.
pub fn stamp_label(rev: &Revision) -> &'static str {
    rev.new_stamp
        .as_ref()
        .or(rev.old_stamp.as_ref())
        .map_or("Last updated", crate::stamp::Stamp::label)
}

/// The stamp transition without its label, each stamp as the page wrote it:
/// `28 Aug. 2024 11:27 → 14 Nov. 2026 09:05 (Brussels time)`; `none` for a
/// missing stamp; `28 Aug. 2024 11:27, unchanged (Brussels time)` when both
/// name the same moment. The zone used (`(UTC)`, `(New York time)`, see
/// [`crate::stamp::zone_note`]) only when a stamp carries a time.
pub fn stamp_change(rev: &Revision) -> String {
    let show = |s: Option<&crate::stamp::Stamp>| {
        s.map_or_else(|| "none".to_string(), |s| s.display_value())
    };
    let old = rev.old_stamp.as_ref();
    let new = rev.new_stamp.as_ref();
    let mut out = match (old, new) {
        (None, None) => return "none".to_string(),
        (Some(a), Some(b)) if a.same_moment(b) => format!("{}, unchanged", show(new)),
        _ => format!("{} \u{2192} {}", show(old), show(new)),
    };
    if let Some(zone) = crate::stamp::zone_note(old, new) {
        out.push_str(&format!(" ({zone})"));
    }
    // The page's other update stamps are shown only when they moved: they
    // are why an unchanged main stamp still makes a `revised`.
    if let (Some(o), Some(n)) = (old, new) {
        for moved in n.also_moved(o) {
            out.push_str(&format!("; {moved}"));
        }
    }
    out
}

/// A check time as `2026-11-14 10:00 UTC`.
pub fn utc_minute(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// Notes the reader must not miss, in words, in the order shown at the top of
/// every format: the redline's own [`Redline::notes`] (a revert, an
/// alternating page, a fallback content root), then a degraded diff.
pub fn notes(redline: &Redline) -> Vec<String> {
    redline
        .notes
        .iter()
        .cloned()
        .chain(
            redline
                .revision
                .degraded
                .iter()
                .map(|why| format!("Coarse diff: {why}")),
        )
        .collect()
}

/// What a digest of `redlines` covers, for the header of
/// [`crate::report::render_many`]: `3 revisions of 2 targets` (count line) and,
/// unless there are none, `from 2026-10-01 to 2026-11-14` (the UTC dates of the
/// checks that found the first and the last; `on 2026-11-14` for one day).
pub fn digest_counts(redlines: &[Redline]) -> (String, Option<String>) {
    let targets = digest_targets(redlines).len();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let counts = format!(
        "{} of {}",
        plural(redlines.len(), "revision", "revisions"),
        plural(targets, "target", "targets")
    );
    let first = redlines.iter().map(|r| r.new_captured_at).min();
    let last = redlines.iter().map(|r| r.new_captured_at).max();
    let window = first.zip(last).map(|(a, b)| {
        let day = |t: Timestamp| t.strftime("%Y-%m-%d").to_string();
        let (a, b) = (day(a), day(b));
        if a == b {
            format!("on {a}")
        } else {
            format!("from {a} to {b}")
        }
    });
    (counts, window)
}

/// The target ids of a digest's redlines, sorted, each once.
pub fn digest_targets(redlines: &[Redline]) -> Vec<&str> {
    let mut targets: Vec<&str> = redlines.iter().map(|r| r.target.as_str()).collect();
    targets.sort_unstable();
    targets.dedup();
    targets
}

/// How a section changed, in words: `added`, `removed`, `modified`,
/// `renamed from “Old”`, `re-levelled h2 → h3`, `moved from position 3 to
/// 2`, or these joined, with `, edited` when a renamed, re-levelled or moved
/// section also changed text; `heading added (3 paragraphs below it
/// unchanged)` and `heading removed (its 2 paragraphs now under “Evolution
/// of relations”)` for a heading that came or went over blocks that stayed.
pub fn section_change_words(s: &SectionDiff) -> String {
    let mut parts = Vec::new();
    match s.change {
        SectionChange::Added => return "added".to_string(),
        SectionChange::Removed => return "removed".to_string(),
        SectionChange::HeadingAdded => {
            return match &s.kept {
                Some(k) if k.count > 0 => format!(
                    "heading added ({} below it unchanged)",
                    blocks_counted(k.count, k.kind)
                ),
                _ => "heading added".to_string(),
            };
        }
        SectionChange::HeadingRemoved => {
            return match &s.kept {
                Some(KeptBlocks {
                    count,
                    kind,
                    now_under: Some(under),
                }) if *count > 0 => format!(
                    "heading removed (its {} now under \u{201c}{under}\u{201d})",
                    blocks_counted(*count, *kind)
                ),
                _ => "heading removed".to_string(),
            };
        }
        SectionChange::Modified => parts.push("modified".to_string()),
        SectionChange::Renamed => parts.push(match &s.old_heading {
            Some(old) => format!("renamed from \u{201c}{old}\u{201d}"),
            None => "renamed".to_string(),
        }),
        SectionChange::Relevelled | SectionChange::Moved => {}
    }
    if let Some(old) = s.old_level {
        parts.push(format!(
            "re-levelled {} \u{2192} {}",
            level_name(old),
            level_name(s.level)
        ));
    }
    if s.moved || s.change == SectionChange::Moved {
        parts.push(match (s.old_position, s.new_position) {
            (Some(a), Some(b)) => format!("moved from position {} to {}", a + 1, b + 1),
            _ => "moved".to_string(),
        });
    }
    if s.change != SectionChange::Modified && !s.blocks.is_empty() {
        parts.push("edited".to_string());
    }
    if parts.is_empty() {
        // A re-levelled section always has its old level; keep a word anyway.
        parts.push(s.change.as_str().to_string());
    }
    parts.join(", ")
}

/// A heading level as a reader knows it: `h2`, or `lead` for level 0.
fn level_name(level: u8) -> String {
    if level == 0 {
        "lead".to_string()
    } else {
        format!("h{level}")
    }
}

/// `3 paragraphs`, `1 list item`, `2 blocks` (mixed kinds).
pub fn blocks_counted(n: usize, kind: Option<BlockKind>) -> String {
    let (one, many) = match kind {
        Some(BlockKind::Paragraph) => ("paragraph", "paragraphs"),
        Some(BlockKind::ListItem) => ("list item", "list items"),
        Some(BlockKind::Caption) => ("caption", "captions"),
        Some(BlockKind::TableRow) => ("table row", "table rows"),
        Some(BlockKind::Quote) => ("quote", "quotes"),
        Some(BlockKind::Preformatted) => ("preformatted block", "preformatted blocks"),
        None => ("block", "blocks"),
    };
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What a block line starts with (`List item removed`, `Paragraph moved from
/// “X”`, `Paragraph moved to “Y”`...),
/// or `None` when the marks speak for themselves (replaced blocks, and every
/// block of an added or removed section).
pub fn block_label(section: &SectionDiff, b: &BlockChange) -> Option<String> {
    if matches!(
        section.change,
        SectionChange::Added | SectionChange::Removed
    ) && matches!(
        b.change,
        BlockChangeKind::Inserted | BlockChangeKind::Deleted
    ) {
        return None;
    }
    let kind = capitalised(b.kind.label());
    match b.change {
        BlockChangeKind::Inserted => Some(format!("{kind} added")),
        BlockChangeKind::Deleted => Some(format!("{kind} removed")),
        BlockChangeKind::Replaced => None,
        BlockChangeKind::Moved => Some(
            match (&b.moved_to, &b.moved_from, b.old_index, b.new_index) {
                (Some(to), ..) => format!("{kind} moved to \u{201c}{to}\u{201d}"),
                (None, Some(from), ..) => format!("{kind} moved from \u{201c}{from}\u{201d}"),
                (None, None, Some(a), Some(n)) => {
                    format!("{kind} moved from position {} to {}", a + 1, n + 1)
                }
                _ => format!("{kind} moved"),
            },
        ),
        BlockChangeKind::Reordered => Some("Reordered (same items, new order)".to_string()),
        BlockChangeKind::LinkChanged => Some("Link target changed".to_string()),
        BlockChangeKind::Split => {
            let n = b.new_text.as_deref().map_or(2, |t| t.split("\n\n").count());
            Some(format!("{kind} split in {n}"))
        }
        BlockChangeKind::Merged => {
            let n = b.old_text.as_deref().map_or(2, |t| t.split("\n\n").count());
            Some(format!("{n} blocks merged"))
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// One changed section as every format and every alert channel shows it:
/// its heading, how it changed in words ([`section_change_words`]) and its
/// changed blocks as [`BlockLine`]s. Renderers only add their markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionLines<'a> {
    /// The section heading (new, else old).
    pub heading: &'a str,
    /// How the section changed: `modified`, `renamed from “Old”`, ...
    pub change: String,
    /// The changed blocks, in revision order.
    pub blocks: Vec<BlockLine<'a>>,
}

impl SectionLines<'_> {
    /// `Heading: change`, the title chat channels give a section.
    pub fn title(&self) -> String {
        format!("{}: {}", self.heading, self.change)
    }
}

/// One changed block as shown: an optional label ([`block_label`]), its
/// pieces ([`shown_pieces`], spaces tidied with [`tidy_spaces`]) and the link
/// targets that changed in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockLine<'a> {
    /// What happened to the block when the marks alone do not say it
    /// (`Paragraph added`, `Paragraph moved from “X”`...).
    pub label: Option<String>,
    /// The marked text, long unchanged runs cut to [`CONTEXT_WORDS`] words.
    pub pieces: Vec<Piece>,
    /// The links whose target changed.
    pub links: &'a [LinkChange],
}

/// The lines of one changed section. `one_line` puts each block's text on one
/// line (a paragraph break inside a split or merged block becomes ` ¶ `), as
/// line-oriented formats (terminal, Markdown, chat) need; HTML keeps breaks.
pub fn section_lines(section: &SectionDiff, one_line: bool) -> SectionLines<'_> {
    let blocks = section
        .blocks
        .iter()
        .map(|block| {
            let pieces = shown_pieces(section, block);
            let pieces = if one_line {
                tidy_spaces(pieces.into_iter().map(one_line_piece))
            } else {
                tidy_spaces(pieces)
            };
            BlockLine {
                label: block_label(section, block),
                pieces,
                links: &block.links,
            }
        })
        .collect();
    SectionLines {
        heading: &section.heading,
        change: section_change_words(section),
        blocks,
    }
}

/// One piece of a block as shown: text with a word-diff tag, or an ellipsis
/// standing for trimmed unchanged words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text tagged equal, insert or delete.
    Text(SpanTag, String),
    /// `…`: unchanged words left out.
    Gap,
}

/// The full word-marked text of a block: its spans, or when it has none, the
/// texts as wholly deleted/inserted.
pub fn full_spans(b: &BlockChange) -> Vec<Span> {
    if !b.spans.is_empty() {
        return shown_spans(&b.spans);
    }
    let span = |tag, text: &str| Span {
        tag,
        text: text.to_string(),
    };
    match (b.change, b.old_text.as_deref(), b.new_text.as_deref()) {
        (BlockChangeKind::Inserted, _, Some(new)) => vec![span(SpanTag::Insert, new)],
        (BlockChangeKind::Deleted, Some(old), _) => vec![span(SpanTag::Delete, old)],
        (_, Some(old), Some(new)) if old == new => vec![span(SpanTag::Equal, new)],
        (_, Some(old), Some(new)) => vec![
            span(SpanTag::Delete, old),
            span(SpanTag::Equal, " "),
            span(SpanTag::Insert, new),
        ],
        (_, Some(old), None) => vec![span(SpanTag::Delete, old)],
        (_, None, Some(new)) => vec![span(SpanTag::Insert, new)],
        (_, None, None) => Vec::new(),
    }
}

/// Spans as shown: a delete + insert pair that differs only in typography
/// (curly vs straight quotes, dash kinds; see
/// [`crate::normalize::typography_only`]) becomes plain new text, joined to
/// the equal text around it. Such a pair is no change to a reader; the JSON
/// keeps it so its spans still rejoin to both texts.
pub fn shown_spans(spans: &[Span]) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    let mut i = 0;
    while i < spans.len() {
        let (tag, text) = match &spans[i..] {
            [d, ins, ..]
                if d.tag == SpanTag::Delete
                    && ins.tag == SpanTag::Insert
                    && typography_only(&d.text, &ins.text) =>
            {
                i += 2;
                (SpanTag::Equal, ins.text.as_str())
            }
            [s, ..] => {
                i += 1;
                (s.tag, s.text.as_str())
            }
            [] => break,
        };
        match out.last_mut() {
            Some(last) if last.tag == SpanTag::Equal && tag == SpanTag::Equal => {
                last.text.push_str(text)
            }
            _ => out.push(Span {
                tag,
                text: text.to_string(),
            }),
        }
    }
    out
}

/// The pieces to show for a block. Inserted and deleted blocks are whole;
/// otherwise each unchanged run keeps [`CONTEXT_WORDS`] words next to each
/// change and the rest becomes a [`Piece::Gap`]. A block with no change marks
/// (moved as is, reordered) shows its first `2 × CONTEXT_WORDS` words; a block
/// moved out to another section shows its first [`MOVED_OUT_WORDS`] old words,
/// unmarked.
pub fn excerpt(b: &BlockChange) -> Vec<Piece> {
    if b.moved_to.is_some() {
        return moved_out_excerpt(b.old_text.as_deref().unwrap_or_default());
    }
    if b.change == BlockChangeKind::Reordered {
        // Same items in a new order: show the new order, unmarked (low severity).
        let items = b
            .new_text
            .as_deref()
            .or(b.old_text.as_deref())
            .unwrap_or_default();
        let order = items
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" \u{b7} ");
        return trim_spans(
            &[Span {
                tag: SpanTag::Equal,
                text: order,
            }],
            CONTEXT_WORDS,
        );
    }
    let spans = full_spans(b);
    if matches!(
        b.change,
        BlockChangeKind::Inserted | BlockChangeKind::Deleted
    ) {
        return spans
            .into_iter()
            .map(|s| Piece::Text(s.tag, s.text))
            .collect();
    }
    trim_spans(&spans, CONTEXT_WORDS)
}

/// The pieces to show for a block inside `section`: [`excerpt`], with the
/// marks of inserted and deleted blocks dropped in an added or removed
/// section (its heading already says so; a block moved in or out keeps its
/// marks).
pub fn shown_pieces(section: &SectionDiff, b: &BlockChange) -> Vec<Piece> {
    let pieces = excerpt(b);
    if !matches!(
        section.change,
        SectionChange::Added | SectionChange::Removed
    ) || !matches!(
        b.change,
        BlockChangeKind::Inserted | BlockChangeKind::Deleted
    ) {
        return pieces;
    }
    pieces
        .into_iter()
        .map(|p| match p {
            Piece::Text(_, t) => Piece::Text(SpanTag::Equal, t),
            Piece::Gap => Piece::Gap,
        })
        .collect()
}

/// Removes the spaces that would show doubled where two pieces meet: a
/// piece's leading spaces are dropped when the text before it already ends in
/// whitespace, and a piece left empty is dropped. Marks hug their words and
/// leave edge spaces outside, so a deletion ending in a space next to an
/// insertion starting with one (`Belarus’ diplomatic` → `Belarus opened a
/// diplomatic`) would otherwise read `Belarus~~’~~  **opened a** diplomatic`.
///
/// Line breaks are never dropped, and a piece that is only a paragraph break
/// (a split or merge) ends the run: renderers draw it as a mark of its own.
/// Renderers call this after any change to the piece text (Markdown and the
/// terminal first put a paragraph break on one line as ` ¶ `).
///
/// An insertion glued to the word before it that follows a deletion which is
/// not (`Belarus opened a diplomatic` → `Belarus’ diplomatic`) is shown
/// first, next to its word: `Belarus**’** ~~opened a~~ diplomatic`, not
/// `Belarus ~~opened a~~**’** diplomatic`. Both texts still read in order.
pub fn tidy_spaces(pieces: impl IntoIterator<Item = Piece>) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = pieces.into_iter().collect();
    let starts_with_space = |p: &Piece| match p {
        Piece::Text(_, t) => t.starts_with(char::is_whitespace),
        Piece::Gap => false,
    };
    for i in 1..pieces.len().saturating_sub(1) {
        let glued_before = match &pieces[i - 1] {
            Piece::Text(_, t) => !t.is_empty() && !t.ends_with(char::is_whitespace),
            Piece::Gap => false,
        };
        if glued_before
            && matches!(&pieces[i], Piece::Text(SpanTag::Delete, t) if !t.trim().is_empty())
            && starts_with_space(&pieces[i])
            && matches!(&pieces[i + 1], Piece::Text(SpanTag::Insert, t) if !t.trim().is_empty())
            && !starts_with_space(&pieces[i + 1])
        {
            pieces.swap(i, i + 1);
        }
    }
    let mut out = Vec::new();
    let mut ends_in_space = false;
    for piece in pieces {
        let (tag, text) = match piece {
            Piece::Gap => {
                out.push(Piece::Gap);
                ends_in_space = false;
                continue;
            }
            Piece::Text(tag, text) => (tag, text),
        };
        let lead = text.len() - text.trim_start().len();
        let text = if ends_in_space && lead > 0 && !text[..lead].contains('\n') {
            text[lead..].to_string()
        } else {
            text
        };
        if text.is_empty() {
            continue;
        }
        ends_in_space = if text.trim().is_empty() && text.contains('\n') {
            false
        } else {
            text.ends_with(char::is_whitespace)
        };
        out.push(Piece::Text(tag, text));
    }
    out
}

/// A piece with its text on one line ([`one_line`]).
pub fn one_line_piece(piece: Piece) -> Piece {
    match piece {
        Piece::Text(tag, text) => Piece::Text(tag, one_line(&text)),
        Piece::Gap => Piece::Gap,
    }
}

/// The head of a moved-out block: [`MOVED_OUT_WORDS`] words and a gap, or
/// the whole text when cutting would save fewer than `TRIM_SLACK` words.
fn moved_out_excerpt(text: &str) -> Vec<Piece> {
    let words = word_ranges(text);
    if words.len() > MOVED_OUT_WORDS + TRIM_SLACK {
        let head = text[..words[MOVED_OUT_WORDS].0].to_string();
        return vec![Piece::Text(SpanTag::Equal, head), Piece::Gap];
    }
    vec![Piece::Text(SpanTag::Equal, text.to_string())]
}

/// Trims the equal spans of `spans` to `n` words of context around changes.
pub fn trim_spans(spans: &[Span], n: usize) -> Vec<Piece> {
    let mut out = Vec::new();
    let last = spans.len().saturating_sub(1);
    for (i, s) in spans.iter().enumerate() {
        if s.tag != SpanTag::Equal {
            out.push(Piece::Text(s.tag, s.text.clone()));
            continue;
        }
        let words = word_ranges(&s.text);
        let text = &s.text;
        let equal = |t: &str| Piece::Text(SpanTag::Equal, t.to_string());
        match (i == 0, i == last) {
            // The only span: nothing changed inside, show its head.
            (true, true) if words.len() > 2 * n + TRIM_SLACK => {
                out.push(equal(&text[..words[2 * n].0]));
                out.push(Piece::Gap);
            }
            // Leading context: keep the last n words.
            (true, false) if words.len() > n + TRIM_SLACK => {
                out.push(Piece::Gap);
                out.push(equal(&text[words[words.len() - n - 1].1..]));
            }
            // Trailing context: keep the first n words.
            (false, true) if words.len() > n + TRIM_SLACK => {
                out.push(equal(&text[..words[n].0]));
                out.push(Piece::Gap);
            }
            // Between two changes: keep n words on each side.
            (false, false) if words.len() > 2 * n + TRIM_SLACK => {
                out.push(equal(&text[..words[n].0]));
                out.push(Piece::Gap);
                out.push(equal(&text[words[words.len() - n - 1].1..]));
            }
            _ => out.push(equal(text)),
        }
    }
    out
}

/// Byte ranges `(start, end)` of the whitespace-separated words of `s`.
fn word_ranges(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(st)) => {
                out.push((st, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, s.len()));
    }
    out
}

/// Splits a marked run into leading whitespace, core text and trailing
/// whitespace, so marks hug the words (`**and was**`, never `** and was **`).
pub fn split_edges(s: &str) -> (&str, &str, &str) {
    let core_start = s.len() - s.trim_start().len();
    let core_end = s.trim_end().len().max(core_start);
    (&s[..core_start], &s[core_start..core_end], &s[core_end..])
}

/// A link target as shown: the URL, or `none` when the link is absent on that
/// side (the diff leaves the href empty).
pub fn href_or_none(href: &str) -> &str {
    if href.trim().is_empty() { "none" } else { href }
}

/// Block text on one line: paragraph breaks inside split/merged blocks become
/// ` ¶ `, other line breaks a space.
pub fn one_line(s: &str) -> String {
    if !s.contains('\n') {
        return s.to_string();
    }
    s.split("\n\n")
        .map(|p| p.replace('\n', " "))
        .collect::<Vec<_>>()
        .join(" \u{b6} ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::document::{BlockKind, SectionKey};
    use crate::ids::SnapshotId;
    use crate::revision::{ChangeSummary, LinkChange};
    use crate::stamp::Stamp;

    pub(crate) fn span(tag: SpanTag, text: &str) -> Span {
        Span {
            tag,
            text: text.to_string(),
        }
    }

    pub(crate) fn stamp(text: &str, y: i16, m: i8, d: i8, h: i8, min: i8) -> Stamp {
        Stamp {
            text: text.to_string(),
            date: jiff::civil::date(y, m, d),
            time: Some(jiff::civil::time(h, min, 0, 0)),
            instant: None,
            shown: String::new(),
            source: crate::stamp::StampSource::Text,
            zone: "Europe/Brussels".into(),
            class: crate::stamp::StampClass::Updated,
            also: Vec::new(),
        }
    }

    fn block(change: BlockChangeKind, old: Option<&str>, new: Option<&str>) -> BlockChange {
        BlockChange {
            change,
            kind: BlockKind::Paragraph,
            old_index: Some(0),
            new_index: Some(0),
            old_text: old.map(str::to_string),
            new_text: new.map(str::to_string),
            spans: Vec::new(),
            moved_from: None,
            moved_to: None,
            links: Vec::new(),
        }
    }

    /// A small revision used by every renderer's tests: a modified lead with a
    /// removed list item, a modified section with a replaced block, a renamed
    /// heading with an edit, and an added section.
    pub(crate) fn sample() -> Redline {
        let replaced = BlockChange {
            spans: vec![
                span(
                    SpanTag::Equal,
                    "Belarus\u{2019} diplomatic mission to NATO opened in April 1998",
                ),
                span(SpanTag::Insert, " and was downgraded in 2025"),
                span(SpanTag::Equal, "."),
            ],
            ..block(
                BlockChangeKind::Replaced,
                Some("Belarus\u{2019} diplomatic mission to NATO opened in April 1998."),
                Some(
                    "Belarus\u{2019} diplomatic mission to NATO opened in April 1998 and was downgraded in 2025.",
                ),
            )
        };
        let removed_item = BlockChange {
            kind: BlockKind::ListItem,
            new_index: None,
            old_index: Some(2),
            ..block(
                BlockChangeKind::Deleted,
                Some("In November 2021, Allies suspended all practical cooperation."),
                None,
            )
        };
        let renamed_edit = BlockChange {
            spans: vec![
                span(SpanTag::Equal, "Cooperation covered "),
                span(SpanTag::Delete, "science"),
                span(SpanTag::Insert, "civil preparedness"),
                span(SpanTag::Equal, "."),
            ],
            ..block(
                BlockChangeKind::Replaced,
                Some("Cooperation covered science."),
                Some("Cooperation covered civil preparedness."),
            )
        };
        let added = BlockChange {
            old_index: None,
            ..block(
                BlockChangeKind::Inserted,
                None,
                Some("Allies continue to monitor <Russian> forces."),
            )
        };
        let section =
            |change, heading: &str, old: Option<usize>, new: Option<usize>, blocks| SectionDiff {
                change,
                key: SectionKey(vec![heading.to_lowercase()]),
                heading: heading.to_string(),
                old_heading: None,
                level: 2,
                old_level: None,
                kept: None,
                old_position: old,
                new_position: new,
                moved: false,
                blocks,
            };
        let mut lead = section(
            SectionChange::Modified,
            "Lead",
            Some(0),
            Some(0),
            vec![removed_item],
        );
        lead.key = SectionKey::lead();
        lead.level = 0;
        let mut renamed = section(
            SectionChange::Renamed,
            "Areas of cooperation",
            Some(3),
            Some(3),
            vec![renamed_edit],
        );
        renamed.old_heading = Some("Key areas of cooperation".to_string());
        Redline {
            target: "nato-belarus".to_string(),
            url: "https://www.nato.int/cps/en/natohq/topics_49119.htm".to_string(),
            title: Some("Relations with Belarus".to_string()),
            old_captured_at: Some("2024-09-01T08:00:00Z".parse().unwrap()),
            new_captured_at: "2026-11-14T10:00:00Z".parse().unwrap(),
            old_snapshot: Some(SnapshotId(1)),
            new_snapshot: Some(SnapshotId(2)),
            revision: Revision {
                kind: RevisionKind::Revised,
                old_stamp: Some(stamp("28 Aug. 2024 11:27", 2024, 8, 28, 11, 27)),
                new_stamp: Some(stamp("14 Nov. 2026 09:05", 2026, 11, 14, 9, 5)),
                summary: ChangeSummary {
                    sections_total: 5,
                    sections_added: 1,
                    sections_removed: 0,
                    sections_modified: 3,
                    sections_renamed: 1,
                    sections_moved: 0,
                    words_added: 13,
                    words_removed: 9,
                    ..ChangeSummary::default()
                },
                sections: vec![
                    lead,
                    section(
                        SectionChange::Modified,
                        "Evolution of relations",
                        Some(2),
                        Some(2),
                        vec![replaced],
                    ),
                    renamed,
                    section(
                        SectionChange::Added,
                        "Relations since 2024",
                        None,
                        Some(4),
                        vec![added],
                    ),
                ],
                unchanged: vec![
                    "Belarus\u{2019} role in Russia\u{2019}s war against Ukraine".to_string(),
                ],
                degraded: None,
            },
            notes: Vec::new(),
            link: None,
        }
    }

    /// The paragraph [`with_cross_section_move`] moves (24 words).
    pub(crate) const MOVED_TEXT: &str = "Following these developments, Allies suspended all practical cooperation, both civilian and military, between NATO and Belarus in November 2021, while maintaining dialogue, as necessary.";

    /// [`sample`] with [`MOVED_TEXT`] moved as is from “Evolution of relations”
    /// (old block 3, listed after its replaced block) to the end of the lead
    /// (new block 3), both sides as the diff reports such a move.
    pub(crate) fn with_cross_section_move(r: &mut Redline) {
        let moved_out = BlockChange {
            old_index: Some(3),
            new_index: None,
            moved_to: Some("Lead".to_string()),
            ..block(BlockChangeKind::Moved, Some(MOVED_TEXT), None)
        };
        let moved_in = BlockChange {
            old_index: Some(3),
            new_index: Some(3),
            spans: vec![span(SpanTag::Equal, MOVED_TEXT)],
            moved_from: Some("Evolution of relations".to_string()),
            ..block(BlockChangeKind::Moved, Some(MOVED_TEXT), Some(MOVED_TEXT))
        };
        r.revision.sections[0].blocks.push(moved_in);
        r.revision.sections[1].blocks.push(moved_out);
    }

    #[test]
    fn moved_out_block_is_labelled_and_cut_to_its_head() {
        let mut r = sample();
        with_cross_section_move(&mut r);
        let (lead, evo) = (&r.revision.sections[0], &r.revision.sections[1]);
        let (into, out) = (&lead.blocks[1], &evo.blocks[1]);
        assert_eq!(
            block_label(evo, out).as_deref(),
            Some("Paragraph moved to \u{201c}Lead\u{201d}")
        );
        assert_eq!(
            block_label(lead, into).as_deref(),
            Some("Paragraph moved from \u{201c}Evolution of relations\u{201d}")
        );
        let eq = |t: &str| Piece::Text(SpanTag::Equal, t.to_string());
        let cases: Vec<(String, Vec<Piece>)> = vec![
            (
                MOVED_TEXT.to_string(),
                vec![
                    eq(
                        "Following these developments, Allies suspended all practical cooperation, both civilian and military, ",
                    ),
                    Piece::Gap,
                ],
            ),
            // Cutting would save fewer than TRIM_SLACK words: whole, unmarked.
            (words(0..16), vec![eq(&words(0..16))]),
            (
                words(0..17),
                vec![eq("w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 "), Piece::Gap],
            ),
            (String::new(), vec![eq("")]),
        ];
        for (text, want) in cases {
            let b = BlockChange {
                old_text: Some(text.clone()),
                ..out.clone()
            };
            assert_eq!(excerpt(&b), want, "{text:?}");
            assert_eq!(shown_pieces(evo, &b), want, "{text:?}");
        }
        // The destination shows the whole paragraph (24 words), unmarked.
        assert_eq!(excerpt(into), vec![eq(MOVED_TEXT)]);
    }

    #[test]
    fn summary_lines() {
        let mut stamp_only = sample();
        stamp_only.revision.kind = RevisionKind::StampOnly;
        stamp_only.revision.sections.clear();
        stamp_only.revision.summary = ChangeSummary {
            sections_total: 5,
            ..Default::default()
        };
        let mut no_words = sample();
        no_words.revision.summary.words_added = 0;
        no_words.revision.summary.words_removed = 0;
        // regression: a section moved and nothing else read "1 modified, 1 moved"
        let mut moved_only = sample();
        let mut moved = moved_only.revision.sections.swap_remove(1);
        moved.change = SectionChange::Moved;
        moved.moved = true;
        moved.blocks.clear();
        moved_only.revision.sections = vec![moved];
        moved_only.revision.summary = ChangeSummary {
            sections_total: 4,
            sections_modified: 1,
            sections_moved: 1,
            ..Default::default()
        };
        let cases = [
            (
                sample(),
                "4 of 5 sections changed: 1 added, 2 modified, 1 renamed · +13 / \u{2212}9 words",
            ),
            (stamp_only, "stamp only: no content change"),
            (
                no_words,
                "4 of 5 sections changed: 1 added, 2 modified, 1 renamed",
            ),
            (moved_only, "1 of 4 sections changed: 1 moved"),
        ];
        for (redline, want) in cases {
            assert_eq!(summary_line(&redline), want);
        }
    }

    /// The redline's summary line and the `history` line count sections the
    /// same way, whether from the sections or from the stored counts alone.
    #[test]
    fn summary_line_and_history_count_alike() {
        // v3 → v4 of the NATO page: one section renamed, nothing else
        let mut renamed = sample();
        let mut section = renamed.revision.sections.swap_remove(2);
        section.blocks.clear();
        renamed.revision.sections = vec![section];
        renamed.revision.summary = ChangeSummary {
            sections_total: 5,
            sections_modified: 1,
            sections_renamed: 1,
            ..Default::default()
        };
        // a revert: one section removed, two modified, one renamed
        let mut revert = sample();
        revert.revision.sections[3].change = SectionChange::Removed;
        revert.revision.summary.sections_added = 0;
        revert.revision.summary.sections_removed = 1;
        let cases = [
            (
                renamed,
                "1 of 5 sections changed: 1 renamed",
                "1 renamed; +0 -0 words",
            ),
            (
                revert,
                "4 of 5 sections changed: 1 removed, 2 modified, 1 renamed \u{b7} +13 / \u{2212}9 words",
                "1 removed, 2 modified, 1 renamed; +13 -9 words",
            ),
        ];
        for (redline, line, history) in cases {
            assert_eq!(summary_line(&redline), line);
            assert_eq!(
                crate::report::history::summary_text(&redline.revision.summary),
                history
            );
            assert_eq!(
                redline.revision.section_counts(),
                redline.revision.summary.section_counts()
            );
        }
    }

    #[test]
    fn doubled_spaces_are_tidied() {
        let t = |tag, text: &str| Piece::Text(tag, text.to_string());
        let (eq, del, ins) = (SpanTag::Equal, SpanTag::Delete, SpanTag::Insert);
        let cases: Vec<(Vec<Piece>, Vec<Piece>)> = vec![
            (
                vec![
                    t(eq, "Belarus"),
                    t(del, "\u{2019} "),
                    t(ins, " opened a "),
                    t(eq, "diplomatic"),
                ],
                vec![
                    t(eq, "Belarus"),
                    t(del, "\u{2019} "),
                    t(ins, "opened a "),
                    t(eq, "diplomatic"),
                ],
            ),
            // a piece left empty is dropped
            (
                vec![t(eq, "a "), t(ins, " "), t(eq, " b")],
                vec![t(eq, "a "), t(eq, "b")],
            ),
            // a gap is text: the space after it stays
            (
                vec![t(eq, "a "), Piece::Gap, t(eq, " b")],
                vec![t(eq, "a "), Piece::Gap, t(eq, " b")],
            ),
            // paragraph breaks stay, and the space after a removed one too
            (
                vec![t(eq, "One."), t(del, "\n\n"), t(eq, " Two.")],
                vec![t(eq, "One."), t(del, "\n\n"), t(eq, " Two.")],
            ),
            (
                vec![t(eq, "One. "), t(ins, "\n\n"), t(eq, "Two.")],
                vec![t(eq, "One. "), t(ins, "\n\n"), t(eq, "Two.")],
            ),
            // an insertion glued to the word before goes next to it
            (
                vec![
                    t(eq, "Belarus"),
                    t(del, " opened a"),
                    t(ins, "\u{2019}"),
                    t(eq, " diplomatic"),
                ],
                vec![
                    t(eq, "Belarus"),
                    t(ins, "\u{2019}"),
                    t(del, " opened a"),
                    t(eq, " diplomatic"),
                ],
            ),
            // nothing doubled: unchanged
            (
                vec![
                    t(eq, "covered "),
                    t(del, "science"),
                    t(ins, "civil"),
                    t(eq, "."),
                ],
                vec![
                    t(eq, "covered "),
                    t(del, "science"),
                    t(ins, "civil"),
                    t(eq, "."),
                ],
            ),
        ];
        for (pieces, want) in cases {
            assert_eq!(tidy_spaces(pieces.clone()), want, "{pieces:?}");
        }
    }

    #[test]
    fn digest_covers() {
        let at = |t: &str, target: &str| {
            let mut r = sample();
            r.new_captured_at = t.parse().unwrap();
            r.target = target.to_string();
            r
        };
        // (redlines, count line, window, targets)
        type Case<'a> = (Vec<Redline>, &'a str, Option<&'a str>, Vec<&'a str>);
        let cases: Vec<Case> = vec![
            (Vec::new(), "0 revisions of 0 targets", None, vec![]),
            (
                vec![at("2026-11-14T10:00:00Z", "b")],
                "1 revision of 1 target",
                Some("on 2026-11-14"),
                vec!["b"],
            ),
            (
                vec![
                    at("2026-11-14T23:59:00Z", "b"),
                    at("2026-10-01T00:00:00Z", "a"),
                    at("2026-11-01T00:00:00Z", "b"),
                ],
                "3 revisions of 2 targets",
                Some("from 2026-10-01 to 2026-11-14"),
                vec!["a", "b"],
            ),
        ];
        for (redlines, counts, window, targets) in cases {
            assert_eq!(
                digest_counts(&redlines),
                (counts.to_string(), window.map(str::to_string))
            );
            assert_eq!(digest_targets(&redlines), targets);
        }
    }

    #[test]
    fn notes_in_order() {
        let mut r = sample();
        assert_eq!(notes(&r), Vec::<String>::new());
        r.revision.degraded = Some("deadline of 200 ms reached".to_string());
        r.notes = vec!["Revert: x.".to_string(), "Content root: y.".to_string()];
        assert_eq!(
            notes(&r),
            [
                "Revert: x.",
                "Content root: y.",
                "Coarse diff: deadline of 200 ms reached"
            ]
        );
    }

    #[test]
    fn stamp_changes() {
        let a = stamp("28 Aug. 2024 11:27", 2024, 8, 28, 11, 27);
        let b = stamp("14 Nov. 2026 09:05", 2026, 11, 14, 9, 5);
        let mut date_only = b.clone();
        date_only.time = None;
        date_only.text = "14 Nov. 2026".to_string();
        let rev = |old: Option<&Stamp>, new: Option<&Stamp>| {
            let mut r = sample().revision;
            r.old_stamp = old.cloned();
            r.new_stamp = new.cloned();
            r
        };
        let cases = [
            (
                rev(Some(&a), Some(&b)),
                "28 Aug. 2024 11:27 \u{2192} 14 Nov. 2026 09:05 (Brussels time)",
            ),
            (
                rev(None, Some(&b)),
                "none \u{2192} 14 Nov. 2026 09:05 (Brussels time)",
            ),
            (
                rev(Some(&a), None),
                "28 Aug. 2024 11:27 \u{2192} none (Brussels time)",
            ),
            (rev(None, None), "none"),
            (
                rev(Some(&a), Some(&a)),
                "28 Aug. 2024 11:27, unchanged (Brussels time)",
            ),
            (rev(None, Some(&date_only)), "none \u{2192} 14 Nov. 2026"),
        ];
        for (r, want) in cases {
            assert_eq!(stamp_change(&r), want);
        }
    }

    #[test]
    fn stamps_show_as_written_with_the_zone_used() {
        let cdc = crate::stamp::parse("Updated on April 19, 2024").unwrap();
        let written = crate::stamp::parse("Last updated: 3 March 2021 14:05").unwrap();
        let offset = crate::stamp::parse("Last modified: 2024-04-19T10:00:00-04:00").unwrap();
        let rev = |old: Option<&Stamp>, new: Option<&Stamp>| {
            let mut r = sample().revision;
            r.old_stamp = old.cloned();
            r.new_stamp = new.cloned();
            r
        };
        let cases = [
            (rev(None, Some(&cdc)), "none \u{2192} April 19, 2024"),
            (
                rev(Some(&cdc), Some(&written)),
                "April 19, 2024 \u{2192} 3 March 2021 14:05 (UTC)",
            ),
            (
                rev(Some(&written), Some(&offset)),
                "3 March 2021 14:05 \u{2192} 2024-04-19T10:00:00-04:00 (UTC-04:00)",
            ),
        ];
        for (r, want) in cases {
            assert_eq!(stamp_change(&r), want);
        }
    }

    #[test]
    fn changed_kind_is_said_in_every_format() {
        let mut r = sample();
        r.revision.kind = RevisionKind::Changed;
        r.revision.old_stamp = None;
        r.revision.new_stamp = None;
        for format in [
            super::super::Format::Terminal,
            super::super::Format::Markdown,
            super::super::Format::Html,
            super::super::Format::Json,
            super::super::Format::Atom,
        ] {
            let mut out = Vec::new();
            super::super::render(
                &r,
                format,
                super::super::TerminalStyle {
                    color: false,
                    width: None,
                },
                &mut out,
            )
            .unwrap();
            let text = String::from_utf8(out).unwrap();
            let said = match format {
                super::super::Format::Json => text.contains("\"kind\": \"changed\""),
                super::super::Format::Atom => text.contains("changed"),
                _ => text.contains("content changed; the page shows no readable stamp"),
            };
            assert!(said, "{format:?}: {text}");
        }
        assert_eq!(
            crate::notify::text::kind_note(&r).as_deref(),
            Some("No readable stamp: content changed; the page shows no readable stamp.")
        );
        assert_eq!(
            crate::notify::text::headline(&r),
            "Relations with Belarus: changed found 14 Nov. 2026"
        );
    }

    #[test]
    fn section_words() {
        let s = sample();
        let mut moved = s.revision.sections[1].clone();
        moved.change = SectionChange::Moved;
        moved.old_position = Some(4);
        moved.new_position = Some(1);
        let mut moved_only = moved.clone();
        moved_only.blocks.clear();
        let mut renamed_moved = s.revision.sections[2].clone();
        renamed_moved.moved = true;
        renamed_moved.old_position = Some(1);
        let kept = |count, kind, now_under: Option<&str>| {
            Some(KeptBlocks {
                count,
                kind,
                now_under: now_under.map(str::to_string),
            })
        };
        let mut heading_added = moved_only.clone();
        heading_added.change = SectionChange::HeadingAdded;
        heading_added.kept = kept(3, Some(BlockKind::Paragraph), None);
        let mut heading_added_mixed = heading_added.clone();
        heading_added_mixed.kept = kept(1, None, None);
        let mut heading_added_none = heading_added.clone();
        heading_added_none.kept = kept(0, None, None);
        let mut heading_removed = heading_added.clone();
        heading_removed.change = SectionChange::HeadingRemoved;
        heading_removed.kept = kept(2, Some(BlockKind::ListItem), Some("Evolution of relations"));
        let mut relevelled = moved_only.clone();
        relevelled.change = SectionChange::Relevelled;
        relevelled.old_level = Some(2);
        relevelled.level = 3;
        let mut relevelled_moved = relevelled.clone();
        relevelled_moved.moved = true;
        let mut renamed_relevelled = s.revision.sections[2].clone();
        renamed_relevelled.old_level = Some(3);
        let cases = [
            (
                &heading_added,
                "heading added (3 paragraphs below it unchanged)",
            ),
            (
                &heading_added_mixed,
                "heading added (1 block below it unchanged)",
            ),
            (&heading_added_none, "heading added"),
            (
                &heading_removed,
                "heading removed (its 2 list items now under \u{201c}Evolution of relations\u{201d})",
            ),
            (&relevelled, "re-levelled h2 \u{2192} h3"),
            (
                &relevelled_moved,
                "re-levelled h2 \u{2192} h3, moved from position 5 to 2",
            ),
            (
                &renamed_relevelled,
                "renamed from \u{201c}Key areas of cooperation\u{201d}, re-levelled h3 \u{2192} h2, edited",
            ),
            (&s.revision.sections[0], "modified"),
            (
                &s.revision.sections[2],
                "renamed from \u{201c}Key areas of cooperation\u{201d}, edited",
            ),
            (&s.revision.sections[3], "added"),
            (&moved, "moved from position 5 to 2, edited"),
            (&moved_only, "moved from position 5 to 2"),
            (
                &renamed_moved,
                "renamed from \u{201c}Key areas of cooperation\u{201d}, moved from position 2 to 4, edited",
            ),
        ];
        for (sd, want) in cases {
            assert_eq!(section_change_words(sd), want);
        }
    }

    #[test]
    fn block_labels() {
        let s = sample();
        let modified = &s.revision.sections[1];
        let added = &s.revision.sections[3];
        let mut moved = block(BlockChangeKind::Moved, Some("x"), Some("x"));
        moved.moved_from = Some("Lead".to_string());
        let mut link = block(BlockChangeKind::LinkChanged, Some("x"), Some("x"));
        link.links.push(LinkChange {
            text: "x".into(),
            old_href: "a".into(),
            new_href: "b".into(),
        });
        let cases = [
            (
                modified,
                block(BlockChangeKind::Inserted, None, Some("x")),
                Some("Paragraph added"),
            ),
            (
                modified,
                block(BlockChangeKind::Deleted, Some("x"), None),
                Some("Paragraph removed"),
            ),
            (
                modified,
                block(BlockChangeKind::Replaced, Some("x"), Some("y")),
                None,
            ),
            (
                added,
                block(BlockChangeKind::Inserted, None, Some("x")),
                None,
            ),
            (
                modified,
                moved,
                Some("Paragraph moved from \u{201c}Lead\u{201d}"),
            ),
            (modified, link, Some("Link target changed")),
            (
                modified,
                block(BlockChangeKind::Split, Some("a b"), Some("a\n\nb")),
                Some("Paragraph split in 2"),
            ),
            (
                modified,
                block(BlockChangeKind::Merged, Some("a\n\nb\n\nc"), Some("a b c")),
                Some("3 blocks merged"),
            ),
        ];
        for (sd, b, want) in cases {
            assert_eq!(block_label(sd, &b).as_deref(), want);
        }
    }

    fn words(n: std::ops::Range<usize>) -> String {
        n.map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn trims_long_equal_runs() {
        let eq = |t: &str| Piece::Text(SpanTag::Equal, t.to_string());
        let ins = |t: &str| Piece::Text(SpanTag::Insert, t.to_string());
        let cases: Vec<(Vec<Span>, Vec<Piece>)> = vec![
            // short runs stay whole
            (
                vec![
                    span(SpanTag::Equal, "a b "),
                    span(SpanTag::Insert, "c"),
                    span(SpanTag::Equal, " d"),
                ],
                vec![eq("a b "), ins("c"), eq(" d")],
            ),
            // long leading and trailing runs keep 3 words next to the change
            (
                vec![
                    span(SpanTag::Equal, &format!("{} ", words(0..10))),
                    span(SpanTag::Insert, "new"),
                    span(SpanTag::Equal, &format!(" {}", words(10..20))),
                ],
                vec![
                    Piece::Gap,
                    eq(" w7 w8 w9 "),
                    ins("new"),
                    eq(" w10 w11 w12 "),
                    Piece::Gap,
                ],
            ),
            // a long run between changes keeps 3 words each side
            (
                vec![
                    span(SpanTag::Insert, "x"),
                    span(SpanTag::Equal, &format!(" {} ", words(0..12))),
                    span(SpanTag::Insert, "y"),
                ],
                vec![
                    ins("x"),
                    eq(" w0 w1 w2 "),
                    Piece::Gap,
                    eq(" w9 w10 w11 "),
                    ins("y"),
                ],
            ),
            // no change inside: the head
            (
                vec![span(SpanTag::Equal, &words(0..12))],
                vec![eq("w0 w1 w2 w3 w4 w5 "), Piece::Gap],
            ),
        ];
        for (spans, want) in cases {
            assert_eq!(trim_spans(&spans, 3), want);
        }
    }

    #[test]
    fn reordered_shows_the_new_order_unmarked() {
        let b = BlockChange {
            kind: BlockKind::ListItem,
            ..block(
                BlockChangeKind::Reordered,
                Some("A one\nB two\nC"),
                Some("B two\nA one\nC"),
            )
        };
        assert_eq!(
            excerpt(&b),
            vec![Piece::Text(
                SpanTag::Equal,
                "B two \u{b7} A one \u{b7} C".to_string()
            )]
        );
        assert_eq!(href_or_none(""), "none");
        assert_eq!(href_or_none("https://x.test/"), "https://x.test/");
    }

    #[test]
    fn edges_and_lines() {
        assert_eq!(split_edges(" and was "), (" ", "and was", " "));
        assert_eq!(split_edges("   "), ("   ", "", ""));
        assert_eq!(split_edges("x"), ("", "x", ""));
        assert_eq!(one_line("a\n\nb\nc"), "a \u{b6} b c");
        assert_eq!(
            utc_minute("2026-11-14T10:00:59Z".parse().unwrap()),
            "2026-11-14 10:00 UTC"
        );
    }
}
