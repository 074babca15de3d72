//! The Markdown redline (GitHub-flavoured), for issues, chat messages and the
//! file saved beside each snapshot.
//!
//! Deleted words are `~~struck~~`, inserted words `**bold**`; every piece of
//! page text is escaped so that a `*`, `_`, `<tag>` or `[link]` on the page
//! shows as itself. Header lines end in two spaces (a Markdown hard break) so
//! they stay on their own lines when rendered.

use std::io::{self, Write};

use super::Redline;
use super::summary::{
    Piece, dated_headline, digest_counts, digest_targets, display_title, href_or_none, kind_words,
    notes, revision_notice, section_lines, split_edges, stamp_change, stamp_label, summary_line,
    utc_minute,
};
use crate::revision::SpanTag;

/// Writes one redline as Markdown: a `##` title, `###` per changed section.
///
/// # Errors
/// Any error from `out`.
pub fn markdown(redline: &Redline, out: &mut dyn Write) -> io::Result<()> {
    write_redline(redline, "##", out)
}

/// Writes several redlines in one document (a digest): a `#` title, what it
/// covers (`3 revisions of 2 targets` and, on the next line so that it reads
/// as one sentence, `from 2026-10-01 to 2026-11-14`, then the targets), then
/// each redline separated by a rule.
///
/// # Errors
/// Any error from `out`.
pub fn markdown_many(redlines: &[Redline], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# redliner report")?;
    writeln!(out)?;
    let (counts, window) = digest_counts(redlines);
    match window {
        Some(window) => {
            writeln!(out, "{counts}")?;
            writeln!(out, "{window}  ")?;
            let targets: Vec<String> = digest_targets(redlines).into_iter().map(code).collect();
            writeln!(out, "Targets: {}", targets.join(", "))?;
        }
        None => writeln!(out, "{counts}")?,
    }
    if redlines.len() > 1 {
        writeln!(out)?;
        for (i, r) in redlines.iter().enumerate() {
            writeln!(out, "{}. {}", i + 1, escape(&dated_headline(r)))?;
        }
    }
    for r in redlines {
        writeln!(out)?;
        writeln!(out, "---")?;
        writeln!(out)?;
        write_redline(r, "##", out)?;
    }
    Ok(())
}

fn write_redline(redline: &Redline, h: &str, out: &mut dyn Write) -> io::Result<()> {
    let rev = &redline.revision;
    writeln!(
        out,
        "{h} {}: {}",
        escape(display_title(redline)),
        kind_words(rev.kind)
    )?;
    match &redline.link {
        Some(link) => writeln!(
            out,
            "{} \u{b7} {} \u{b7} [this revision in redliner]({})  ",
            code(&redline.target),
            url(&redline.url),
            link
        )?,
        None => writeln!(
            out,
            "{} \u{b7} {}  ",
            code(&redline.target),
            url(&redline.url)
        )?,
    }
    writeln!(
        out,
        "**{}:** {}  ",
        stamp_label(rev),
        escape(&stamp_change(rev))
    )?;
    writeln!(
        out,
        "Checked {} \u{b7} {}",
        utc_minute(redline.new_captured_at),
        escape(&summary_line(redline))
    )?;

    if let Some((lead, rest)) = revision_notice(rev) {
        writeln!(out)?;
        writeln!(out, "> **{}** {}", escape(lead), escape(rest))?;
    }
    for note in notes(redline) {
        writeln!(out)?;
        writeln!(out, "> {}", escape(&note))?;
    }

    for section in &rev.sections {
        let lines = section_lines(section, true);
        writeln!(out)?;
        writeln!(
            out,
            "{h}# {}: {}",
            escape(lines.heading),
            escape(&lines.change)
        )?;
        for block in lines.blocks {
            let mut line = String::new();
            if let Some(label) = &block.label {
                line.push_str(&escape(label));
                line.push_str(": ");
            }
            for piece in block.pieces {
                push_piece(&mut line, piece);
            }
            writeln!(out, "- {}", guard_line_start(line.trim_end()))?;
            for link in block.links {
                writeln!(
                    out,
                    "  - Link \u{201c}{}\u{201d}: {} \u{2192} {}",
                    escape(&link.text),
                    url(href_or_none(&link.old_href)),
                    url(href_or_none(&link.new_href))
                )?;
            }
        }
    }

    if !rev.unchanged.is_empty() && !rev.sections.is_empty() {
        writeln!(out)?;
        let names: Vec<String> = rev.unchanged.iter().map(|u| escape(u)).collect();
        writeln!(out, "Unchanged: {}", names.join(" \u{b7} "))?;
    }
    Ok(())
}

/// Appends a piece (its text already on one line): marks hug the words (`**and was**`, whitespace outside)
/// because CommonMark does not close `**` after a space.
fn push_piece(line: &mut String, piece: Piece) {
    let (tag, text) = match piece {
        Piece::Gap => {
            line.push('\u{2026}');
            return;
        }
        Piece::Text(tag, text) => (tag, text),
    };
    let mark = match tag {
        SpanTag::Equal => {
            line.push_str(&escape(&text));
            return;
        }
        SpanTag::Delete => "~~",
        SpanTag::Insert => "**",
    };
    let (lead, core, trail) = split_edges(&text);
    line.push_str(lead);
    if !core.is_empty() {
        line.push_str(mark);
        line.push_str(&escape(core));
        line.push_str(mark);
    }
    line.push_str(trail);
}

/// Backslash-escapes the characters that start Markdown or HTML syntax inside
/// a line (CommonMark allows a backslash before any ASCII punctuation).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '~' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes what only means something at the start of a line: a list bullet
/// (`-`, `+`), a heading `#` or an ordered-list number (`1.`).
fn guard_line_start(s: &str) -> String {
    if s.starts_with(['-', '+', '#']) {
        return format!("\\{s}");
    }
    let digits = s.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && s[digits..].starts_with(['.', ')']) {
        return format!("{}\\{}", &s[..digits], &s[digits..]);
    }
    s.to_string()
}

/// A code span whose fence is longer than any backtick run inside.
fn code(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A URL as an autolink `<…>` when it can be one, else escaped text.
fn url(u: &str) -> String {
    if !u.is_empty()
        && !u.contains(|c: char| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    {
        format!("<{u}>")
    } else {
        escape(u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::tests::{sample, with_cross_section_move};
    use crate::revision::{LinkChange, RevisionKind};

    fn render(r: &Redline) -> String {
        let mut out = Vec::new();
        markdown(r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sample_exact() {
        let want = "\
## Relations with Belarus: revised
`nato-belarus` \u{b7} <https://www.nato.int/cps/en/natohq/topics_49119.htm>  
**Last updated:** 28 Aug. 2024 11:27 \u{2192} 14 Nov. 2026 09:05 (Brussels time)  
Checked 2026-11-14 10:00 UTC \u{b7} 4 of 5 sections changed: 1 added, 2 modified, 1 renamed \u{b7} +13 / \u{2212}9 words

### Lead: modified
- List item removed: ~~In November 2021, Allies suspended all practical cooperation.~~

### Evolution of relations: modified
- Belarus\u{2019} diplomatic mission to NATO opened in April 1998 **and was downgraded in 2025**.

### Areas of cooperation: renamed from \u{201c}Key areas of cooperation\u{201d}, edited
- Cooperation covered ~~science~~**civil preparedness**.

### Relations since 2024: added
- Allies continue to monitor \\<Russian\\> forces.

Unchanged: Belarus\u{2019} role in Russia\u{2019}s war against Ukraine
";
        assert_eq!(render(&sample()), want);
    }

    #[test]
    fn block_moved_across_sections_shows_both_ends() {
        let mut r = sample();
        with_cross_section_move(&mut r);
        let text = render(&r);
        let want = "\
### Lead: modified
- List item removed: ~~In November 2021, Allies suspended all practical cooperation.~~
- Paragraph moved from \u{201c}Evolution of relations\u{201d}: Following these developments, Allies suspended all practical cooperation, both civilian and military, between NATO and Belarus in November 2021, while maintaining dialogue, as necessary.

### Evolution of relations: modified
- Belarus\u{2019} diplomatic mission to NATO opened in April 1998 **and was downgraded in 2025**.
- Paragraph moved to \u{201c}Lead\u{201d}: Following these developments, Allies suspended all practical cooperation, both civilian and military, \u{2026}
";
        assert!(text.contains(want), "{text}");
    }

    #[test]
    fn silent_edit_and_links() {
        let mut r = sample();
        r.revision.kind = RevisionKind::SilentEdit;
        r.revision.sections[1].blocks[0].links.push(LinkChange {
            text: "mission".into(),
            old_href: "https://www.nato.int/a".into(),
            new_href: "https://www.nato.int/b".into(),
        });
        let text = render(&r);
        assert!(
            text.starts_with("## Relations with Belarus: silent edit\n"),
            "{text}"
        );
        assert!(text.contains(
            "\n\n> **Silent edit:** the content changed but the page\u{2019}s \u{201c}Last updated\u{201d} stamp did not.\n"
        ), "{text}");
        assert!(text.contains(
            "**.\n  - Link \u{201c}mission\u{201d}: <https://www.nato.int/a> \u{2192} <https://www.nato.int/b>\n"
        ), "{text}");
    }

    #[test]
    fn escapes_page_text() {
        let cases = [
            (
                "*bold* _it_ [x](y) `c`",
                "\\*bold\\* \\_it\\_ \\[x\\](y) \\`c\\`",
            ),
            (
                "<script>alert(1)</script>",
                "\\<script\\>alert(1)\\</script\\>",
            ),
            ("a & b ~~c~~ | d!", "a \\& b \\~\\~c\\~\\~ | d!"),
            ("plain words, Euro-Atlantic.", "plain words, Euro-Atlantic."),
        ];
        for (raw, want) in cases {
            assert_eq!(escape(raw), want);
        }
        let starts = [
            ("- x", "\\- x"),
            ("+ x", "\\+ x"),
            ("1998. A", "1998\\. A"),
            ("1998 A", "1998 A"),
            ("x - y", "x - y"),
            ("# x", "\\# x"),
        ];
        for (raw, want) in starts {
            assert_eq!(guard_line_start(raw), want);
        }
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(url("https://x.test/a_b"), "<https://x.test/a_b>");
        assert_eq!(url("not a url"), "not a url");
    }

    #[test]
    fn digest_counts_and_separates() {
        let mut earlier = sample();
        earlier.new_captured_at = "2026-10-01T06:30:00Z".parse().unwrap();
        let mut other = sample();
        other.target = "nato-ukraine".to_string();
        let mut out = Vec::new();
        markdown_many(&[earlier, sample(), other], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "# redliner report\n\n3 revisions of 2 targets\nfrom 2026-10-01 to 2026-11-14  \nTargets: `nato-belarus`, `nato-ukraine`\n\n\
                 1. Relations with Belarus: revised 14 Nov. 2026 \u{2014} 4 of 5 sections changed: 1 added, 2 modified, 1 renamed \u{b7} +13 / \u{2212}9 words\n"
            ),
            "{text}"
        );
        // The contents tell the revisions apart, then each follows.
        assert!(text.contains("\n\n---\n\n## Relations"), "{text}");
        assert_eq!(text.matches("\n---\n").count(), 3);
        let cases: [(&[Redline], &str); 2] = [
            (
                &[sample()],
                "# redliner report\n\n1 revision of 1 target\non 2026-11-14  \nTargets: `nato-belarus`\n\n---\n",
            ),
            (&[], "# redliner report\n\n0 revisions of 0 targets\n"),
        ];
        for (redlines, want) in cases {
            let mut out = Vec::new();
            markdown_many(redlines, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.starts_with(want), "{text}");
            if redlines.is_empty() {
                assert_eq!(text, want);
            }
        }
    }

    #[test]
    fn notes_come_right_after_the_header() {
        let mut r = sample();
        r.revision.kind = RevisionKind::SilentEdit;
        r.notes = vec![
            "Revert: the content equals that of snapshot 3.".to_string(),
            "Content root not found; fallback `main` used.".to_string(),
        ];
        r.revision.degraded = Some("deadline of 200 ms reached".to_string());
        let text = render(&r);
        let want = "\
Checked 2026-11-14 10:00 UTC \u{b7} 4 of 5 sections changed: 1 added, 2 modified, 1 renamed \u{b7} +13 / \u{2212}9 words

> **Silent edit:** the content changed but the page\u{2019}s \u{201c}Last updated\u{201d} stamp did not.

> Revert: the content equals that of snapshot 3.

> Content root not found; fallback \\`main\\` used.

> Coarse diff: deadline of 200 ms reached

### Lead: modified
";
        assert!(text.contains(want), "{text}");
    }

    #[test]
    fn adjacent_marks_never_double_a_space() {
        use crate::revision::Span;
        let span = |tag, text: &str| Span {
            tag,
            text: text.to_string(),
        };
        let cases = [
            // v1 → v3 of the NATO page: the deletion ends and the insertion
            // starts with a space
            (
                vec![
                    span(SpanTag::Equal, "Belarus"),
                    span(SpanTag::Delete, "\u{2019} "),
                    span(SpanTag::Insert, " opened a "),
                    span(SpanTag::Equal, "diplomatic mission to NATO"),
                    span(SpanTag::Delete, " opened"),
                    span(SpanTag::Equal, " in April 1998."),
                ],
                "- Belarus~~\u{2019}~~ **opened a** diplomatic mission to NATO ~~opened~~ in April 1998.\n",
            ),
            // unchanged text ending in a space before an insertion starting with one
            (
                vec![
                    span(SpanTag::Equal, "Allies "),
                    span(SpanTag::Insert, " firmly"),
                    span(SpanTag::Equal, " agreed."),
                ],
                "- Allies **firmly** agreed.\n",
            ),
            // a removed paragraph break on one line: ` ¶ ` and no doubled space
            (
                vec![
                    span(SpanTag::Equal, "One."),
                    span(SpanTag::Delete, "\n\n"),
                    span(SpanTag::Equal, " Two."),
                ],
                "- One. ~~\u{b6}~~ Two.\n",
            ),
            // marks right against each other stay so
            (
                vec![
                    span(SpanTag::Equal, "Cooperation covered "),
                    span(SpanTag::Delete, "science"),
                    span(SpanTag::Insert, "civil preparedness"),
                    span(SpanTag::Equal, "."),
                ],
                "- Cooperation covered ~~science~~**civil preparedness**.\n",
            ),
        ];
        for (spans, want) in cases {
            let mut r = sample();
            r.revision.sections[1].blocks[0].spans = spans;
            let text = render(&r);
            assert!(
                text.contains(&format!("### Evolution of relations: modified\n{want}")),
                "{want:?}\n{text}"
            );
        }
    }
}
