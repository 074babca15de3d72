//! The terminal redline: the header, then each changed section with its changed
//! blocks, then the unchanged sections in one line.
//!
//! With [`TerminalStyle::color`], deletions are red and struck through,
//! insertions green and bold, headings bold and the summary dim (ANSI escapes
//! from `anstyle`). Without it, changes are marked `[-deleted-]{+inserted+}`
//! (the wdiff convention) and no escape code is written. Lines are wrapped on
//! their visible text to [`TerminalStyle::width`], so escape codes never count
//! towards the width and a style never spills onto an indent.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::summary::{
    Piece, digest_counts, digest_targets, display_title, href_or_none, kind_words, notes,
    revision_notice, section_lines, split_edges, stamp_change, stamp_label, summary_line,
    utc_minute,
};
use super::{Redline, TerminalStyle};
use crate::revision::SpanTag;

const PLAIN: Style = Style::new();
const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const DELETE: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
    .strikethrough();
const INSERT: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)))
    .bold();
const NOTICE: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)))
    .bold();

/// Writes one redline for a terminal (or a pipe, when `style.color` is off).
///
/// # Errors
/// Any error from `out`.
pub fn terminal(redline: &Redline, style: TerminalStyle, out: &mut dyn Write) -> io::Result<()> {
    let mut w = Lines { style, out };
    let rev = &redline.revision;

    w.line(
        &[(
            BOLD,
            &format!("{}: {}", display_title(redline), kind_words(rev.kind)),
        )],
        "",
        "",
    )?;
    w.line(
        &[(PLAIN, &format!("{} \u{b7} {}", redline.target, redline.url))],
        "",
        "",
    )?;
    w.line(
        &[(
            PLAIN,
            &format!("{}: {}", stamp_label(rev), stamp_change(rev)),
        )],
        "",
        "",
    )?;
    let checked = format!(
        "Checked {} \u{b7} {}",
        utc_minute(redline.new_captured_at),
        summary_line(redline)
    );
    w.line(&[(DIM, &checked)], "", "")?;

    let mut notices: Vec<(Style, String)> = Vec::new();
    if let Some((lead, rest)) = revision_notice(rev) {
        notices.push((NOTICE, format!("{lead} {rest}")));
    }
    notices.extend(notes(redline).into_iter().map(|n| (NOTICE, n)));
    if !notices.is_empty() {
        w.blank()?;
        for (s, text) in &notices {
            w.line(&[(*s, text)], "", "")?;
        }
    }

    for section in &rev.sections {
        let lines = section_lines(section, true);
        w.blank()?;
        w.line(&[(BOLD, &lines.title())], "", "")?;
        for block in lines.blocks {
            let mut frags: Vec<(Style, String)> = Vec::new();
            if let Some(label) = block.label {
                frags.push((PLAIN, format!("{label}: ")));
            }
            for piece in block.pieces {
                w.piece(&mut frags, piece);
            }
            if !frags.is_empty() {
                let refs: Vec<(Style, &str)> =
                    frags.iter().map(|(s, t)| (*s, t.as_str())).collect();
                w.line(&refs, "  - ", "    ")?;
            }
            for link in block.links {
                let text = format!(
                    "Link \u{201c}{}\u{201d}: {} \u{2192} {}",
                    link.text,
                    href_or_none(&link.old_href),
                    href_or_none(&link.new_href)
                );
                w.line(&[(PLAIN, &text)], "    ", "      ")?;
            }
        }
    }

    if !rev.unchanged.is_empty() && !rev.sections.is_empty() {
        w.blank()?;
        let text = format!("Unchanged: {}", rev.unchanged.join(" \u{b7} "));
        w.line(&[(DIM, &text)], "", "  ")?;
    }
    Ok(())
}

/// Writes several redlines as a digest: a header saying what it covers
/// (`redliner report`, `3 revisions of 2 targets from 2026-10-01 to
/// 2026-11-14`, the targets), then each redline after a rule. No redlines:
/// `No revisions.`
///
/// # Errors
/// Any error from `out`.
pub fn terminal_many(
    redlines: &[Redline],
    style: TerminalStyle,
    out: &mut dyn Write,
) -> io::Result<()> {
    if redlines.is_empty() {
        return writeln!(out, "No revisions.");
    }
    let rule = "\u{2500}".repeat(style.width.unwrap_or(60).clamp(10, 60));
    let (counts, window) = digest_counts(redlines);
    let covers = match window {
        Some(w) => format!("{counts} {w}"),
        None => counts,
    };
    let targets = format!("Targets: {}", digest_targets(redlines).join(", "));
    let mut w = Lines { style, out };
    w.line(&[(BOLD, "redliner report")], "", "")?;
    w.line(&[(PLAIN, &covers)], "", "")?;
    w.line(&[(DIM, &targets)], "", "  ")?;
    for r in redlines {
        writeln!(w.out)?;
        writeln!(w.out, "{rule}")?;
        writeln!(w.out)?;
        terminal(r, style, w.out)?;
    }
    Ok(())
}

/// The output and its style; writes wrapped, styled lines.
struct Lines<'a> {
    style: TerminalStyle,
    out: &'a mut dyn Write,
}

impl Lines<'_> {
    fn blank(&mut self) -> io::Result<()> {
        writeln!(self.out)
    }

    /// Adds a piece of block text to `frags`: marks hug the words, whitespace
    /// at the edges of a change stays unmarked.
    fn piece(&self, frags: &mut Vec<(Style, String)>, piece: Piece) {
        let (tag, text) = match piece {
            Piece::Gap => {
                frags.push((PLAIN, "\u{2026}".to_string()));
                return;
            }
            Piece::Text(tag, text) => (tag, text),
        };
        let (open, close, style) = match tag {
            SpanTag::Equal => {
                frags.push((PLAIN, text));
                return;
            }
            SpanTag::Delete => ("[-", "-]", DELETE),
            SpanTag::Insert => ("{+", "+}", INSERT),
        };
        let (lead, core, trail) = split_edges(&text);
        frags.push((PLAIN, lead.to_string()));
        if !core.is_empty() {
            if self.style.color {
                frags.push((style, core.to_string()));
            } else {
                frags.push((PLAIN, format!("{open}{core}{close}")));
            }
        }
        frags.push((PLAIN, trail.to_string()));
    }

    /// Writes `frags` as one logical line, wrapped to the width: `first` indents
    /// the first row, `rest` the others.
    fn line(&mut self, frags: &[(Style, &str)], first: &str, rest: &str) -> io::Result<()> {
        let width = self.style.width.unwrap_or(usize::MAX);
        for (i, row) in wrap(frags, width, first.chars().count(), rest.chars().count())
            .into_iter()
            .enumerate()
        {
            self.out
                .write_all(if i == 0 { first } else { rest }.as_bytes())?;
            for (style, text) in row {
                if self.style.color && style != PLAIN {
                    write!(
                        self.out,
                        "{}{}{}",
                        style.render(),
                        text,
                        style.render_reset()
                    )?;
                } else {
                    self.out.write_all(text.as_bytes())?;
                }
            }
            writeln!(self.out)?;
        }
        Ok(())
    }
}

/// One row of output: styled runs, adjacent runs of one style merged.
type Row = Vec<(Style, String)>;

/// Greedy wrapping on visible text. Whitespace runs become one space (page
/// text is already whitespace-normalised); a space takes the style of the run
/// it came from, so a struck-through phrase stays struck between its words.
/// Control characters from the page are replaced so they cannot drive the
/// terminal. Words longer than the width overflow on a row of their own.
fn wrap(
    frags: &[(Style, &str)],
    width: usize,
    first_indent: usize,
    rest_indent: usize,
) -> Vec<Row> {
    enum Item {
        Word(Row),
        Space(Style),
    }
    fn push(row: &mut Row, style: Style, c: char) {
        match row.last_mut() {
            Some((s, t)) if *s == style => t.push(c),
            _ => row.push((style, c.to_string())),
        }
    }
    let mut items = Vec::new();
    let mut word: Row = Vec::new();
    for (style, text) in frags {
        for c in text.chars() {
            if c.is_whitespace() {
                if !word.is_empty() {
                    items.push(Item::Word(std::mem::take(&mut word)));
                }
                if !matches!(items.last(), Some(Item::Space(_))) {
                    items.push(Item::Space(*style));
                }
            } else {
                let c = if c.is_control() { '\u{fffd}' } else { c };
                push(&mut word, *style, c);
            }
        }
    }
    if !word.is_empty() {
        items.push(Item::Word(word));
    }

    let mut rows: Vec<Row> = Vec::new();
    let mut row: Row = Vec::new();
    let mut used = first_indent;
    let mut pending: Option<Style> = None;
    for item in items {
        match item {
            Item::Space(s) => pending = Some(s),
            Item::Word(w) => {
                let w_width: usize = w
                    .iter()
                    .map(|(_, t)| textwrap::core::display_width(t))
                    .sum();
                if !row.is_empty() {
                    if used + 1 + w_width > width {
                        rows.push(std::mem::take(&mut row));
                        used = rest_indent;
                    } else if let Some(s) = pending {
                        push(&mut row, s, ' ');
                        used += 1;
                    }
                }
                pending = None;
                for (s, t) in w {
                    used += textwrap::core::display_width(&t);
                    match row.last_mut() {
                        Some((rs, rt)) if *rs == s => rt.push_str(&t),
                        _ => row.push((s, t)),
                    }
                }
            }
        }
    }
    rows.push(row);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::tests::{sample, with_cross_section_move};
    use crate::revision::RevisionKind;

    fn render(redline: &Redline, color: bool, width: Option<usize>) -> String {
        let mut out = Vec::new();
        terminal(redline, TerminalStyle { color, width }, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_sample_exact() {
        let want = "\
Relations with Belarus: revised
nato-belarus \u{b7} https://www.nato.int/cps/en/natohq/topics_49119.htm
Last updated: 28 Aug. 2024 11:27 \u{2192} 14 Nov. 2026 09:05 (Brussels time)
Checked 2026-11-14 10:00 UTC \u{b7} 4 of 5 sections changed: 1 added, 2 modified, 1 renamed \u{b7} +13 / \u{2212}9 words

Lead: modified
  - List item removed: [-In November 2021, Allies suspended all practical cooperation.-]

Evolution of relations: modified
  - Belarus\u{2019} diplomatic mission to NATO opened in April 1998 {+and was downgraded in 2025+}.

Areas of cooperation: renamed from \u{201c}Key areas of cooperation\u{201d}, edited
  - Cooperation covered [-science-]{+civil preparedness+}.

Relations since 2024: added
  - Allies continue to monitor <Russian> forces.

Unchanged: Belarus\u{2019} role in Russia\u{2019}s war against Ukraine
";
        assert_eq!(render(&sample(), false, None), want);
    }

    #[test]
    fn block_moved_across_sections_shows_both_ends() {
        let mut r = sample();
        with_cross_section_move(&mut r);
        let text = render(&r, false, Some(100));
        let want = "\
Lead: modified
  - List item removed: [-In November 2021, Allies suspended all practical cooperation.-]
  - Paragraph moved from \u{201c}Evolution of relations\u{201d}: Following these developments, Allies suspended
    all practical cooperation, both civilian and military, between NATO and Belarus in November
    2021, while maintaining dialogue, as necessary.

Evolution of relations: modified
  - Belarus\u{2019} diplomatic mission to NATO opened in April 1998 {+and was downgraded in 2025+}.
  - Paragraph moved to \u{201c}Lead\u{201d}: Following these developments, Allies suspended all practical
    cooperation, both civilian and military, \u{2026}
";
        assert!(text.contains(want), "{text}");
    }

    #[test]
    fn kinds_say_so_at_the_top() {
        let mut silent = sample();
        silent.revision.kind = RevisionKind::SilentEdit;
        silent.revision.new_stamp = silent.revision.old_stamp.clone();
        let mut stamp_only = sample();
        stamp_only.revision.kind = RevisionKind::StampOnly;
        stamp_only.revision.sections.clear();
        let mut degraded = sample();
        degraded.revision.degraded = Some("deadline of 200 ms reached".to_string());
        let cases = [
            (
                silent,
                "Relations with Belarus: silent edit\n",
                "Silent edit: the content changed but the page\u{2019}s \u{201c}Last updated\u{201d} stamp did not.\n",
            ),
            (
                stamp_only,
                "Relations with Belarus: stamp only\n",
                "Stamp only: the page\u{2019}s \u{201c}Last updated\u{201d} stamp changed; the content did not.\n",
            ),
            (
                degraded,
                "Relations with Belarus: revised\n",
                "\nCoarse diff: deadline of 200 ms reached\n",
            ),
        ];
        for (r, first, notice) in cases {
            let text = render(&r, false, None);
            assert!(text.starts_with(first), "{text}");
            assert!(text.contains(notice), "{text}");
        }
    }

    #[test]
    fn notes_come_right_after_the_header() {
        let mut r = sample();
        r.notes = vec![
            "Revert: the content equals that of snapshot 3.".to_string(),
            "Content root not found; fallback `main` used.".to_string(),
        ];
        r.revision.degraded = Some("deadline of 200 ms reached".to_string());
        let want = "\
Checked 2026-11-14 10:00 UTC \u{b7} 4 of 5 sections changed: 1 added, 2 modified, 1 renamed \u{b7} +13 / \u{2212}9 words

Revert: the content equals that of snapshot 3.
Content root not found; fallback `main` used.
Coarse diff: deadline of 200 ms reached

Lead: modified
";
        let text = render(&r, false, None);
        assert!(text.contains(want), "{text}");
        let colored = render(&r, true, None);
        let note = format!(
            "{}Revert: the content equals that of snapshot 3.{}",
            NOTICE.render(),
            NOTICE.render_reset()
        );
        assert!(colored.contains(&note), "{colored}");
    }

    #[test]
    fn adjacent_marks_never_double_a_space() {
        use crate::revision::Span;
        let span = |tag, text: &str| Span {
            tag,
            text: text.to_string(),
        };
        let mut r = sample();
        r.revision.sections[1].blocks[0].spans = vec![
            span(SpanTag::Equal, "Belarus"),
            span(SpanTag::Delete, "\u{2019} "),
            span(SpanTag::Insert, " opened a "),
            span(SpanTag::Equal, "diplomatic mission to NATO"),
            span(SpanTag::Delete, " opened"),
            span(SpanTag::Equal, " in April 1998."),
        ];
        let text = render(&r, false, None);
        assert!(
            text.contains(
                "  - Belarus[-\u{2019}-] {+opened a+} diplomatic mission to NATO [-opened-] in April 1998.\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn stamp_only_lists_nothing_else() {
        let mut r = sample();
        r.revision.kind = RevisionKind::StampOnly;
        r.revision.sections.clear();
        let text = render(&r, false, None);
        assert!(!text.contains("Unchanged:"), "{text}");
        assert_eq!(text.lines().count(), 6, "{text}");
    }

    #[test]
    fn color_switch() {
        let cases = [(false, false), (true, true)];
        for (color, has_escape) in cases {
            let text = render(&sample(), color, Some(80));
            assert_eq!(text.contains('\u{1b}'), has_escape, "{text}");
            assert_eq!(text.contains("{+"), !color, "{text}");
        }
        let colored = render(&sample(), true, None);
        let insert = format!(
            "{}and was downgraded in 2025{}",
            INSERT.render(),
            INSERT.render_reset()
        );
        let delete = format!("{}science{}", DELETE.render(), DELETE.render_reset());
        assert!(colored.contains(&insert), "{colored}");
        assert!(colored.contains(&delete), "{colored}");
    }

    fn visible(line: &str) -> usize {
        let mut n = 0;
        let mut in_escape = false;
        for c in line.chars() {
            match (in_escape, c) {
                (false, '\u{1b}') => in_escape = true,
                (true, 'm') => in_escape = false,
                (true, _) => {}
                (false, _) => n += 1,
            }
        }
        n
    }

    #[test]
    fn wraps_to_width() {
        let mut r = sample();
        r.revision.sections[1].blocks[0].spans[0].text =
            "Belarus\u{2019} diplomatic mission to NATO opened in April 1998 after years of talks"
                .to_string();
        for color in [false, true] {
            for width in [30, 50, 72] {
                let text = render(&r, color, Some(width));
                for line in text.lines() {
                    // the URL line is one unbreakable word
                    if !line.contains("https://") {
                        assert!(visible(line) <= width, "{width} {color}: {line:?}");
                    }
                }
                assert!(
                    text.contains("\n    "),
                    "continuation indent missing: {text}"
                );
            }
        }
        let text = render(&r, false, Some(40));
        assert!(text.contains(
            "  - Belarus\u{2019} diplomatic mission to NATO\n    opened in April 1998 after years of\n    talks {+and was downgraded in\n    2025+}.\n"
        ), "{text}");
    }

    #[test]
    fn page_control_characters_are_neutralised() {
        let mut r = sample();
        r.revision.sections[3].blocks[0].new_text = Some("evil \u{1b}[2J text".to_string());
        let text = render(&r, false, None);
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("evil \u{fffd}[2J text"), "{text}");
    }

    #[test]
    fn many_are_separated() {
        let text = {
            let mut out = Vec::new();
            terminal_many(
                &[sample(), sample()],
                TerminalStyle {
                    color: false,
                    width: Some(20),
                },
                &mut out,
            )
            .unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text.matches("Checked 2026-11-14").count(), 2);
        assert!(text.contains(&format!("\n\n{}\n\n", "\u{2500}".repeat(20))));
        let rule = "\u{2500}".repeat(20);
        assert!(
            text.starts_with(&format!(
                "redliner report\n2 revisions of 1\ntarget on 2026-11-14\nTargets:\n  nato-belarus\n\n{rule}\n\nRelations with\n"
            )),
            "{text}"
        );
        let mut other = sample();
        other.target = "nato-ukraine".to_string();
        other.new_captured_at = "2026-12-01T00:00:00Z".parse().unwrap();
        let mut out = Vec::new();
        terminal_many(
            &[sample(), other],
            TerminalStyle {
                color: false,
                width: None,
            },
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "redliner report\n2 revisions of 2 targets from 2026-11-14 to 2026-12-01\nTargets: nato-belarus, nato-ukraine\n\n"
            ),
            "{text}"
        );
        let mut out = Vec::new();
        terminal_many(
            &[],
            TerminalStyle {
                color: false,
                width: None,
            },
            &mut out,
        )
        .unwrap();
        assert_eq!(out, b"No revisions.\n");
    }
}
