//! The HTML redline: one self-contained page (inline CSS, no script) with a
//! header (target, URL, stamps, kind, summary), a table of contents with change
//! badges, each changed section with `<ins>`/`<del>` word marks and a
//! side-by-side old | new view of each edited block, and the unchanged
//! sections folded in a `<details>`.
//!
//! Every piece of page text (title, headings, block text, link text and
//! targets) passes through one function, `esc`
//! (`html_escape::encode_double_quoted_attribute`: `&`, `<`, `>` and `"`), safe
//! both in element content and in the double-quoted attributes we write. Links are only
//! made for `http`/`https` targets. A Content-Security-Policy meta tag forbids
//! scripts outright, so even a mistake in escaping could not run one.

use std::borrow::Cow;
use std::io::{self, Write};

use super::Redline;
use super::summary::{
    Piece, block_label, dated_headline, digest_counts, digest_targets, display_title, full_spans,
    href_or_none, kind_words, notes, revision_notice, section_change_words, section_number,
    shown_pieces, shown_spans, split_edges, stamp_change, stamp_label, summary_line, tidy_spaces,
    utc_minute,
};
use crate::revision::{BlockChange, BlockChangeKind, SectionChange, SectionDiff, SpanTag};

/// The policy written into every page: no scripts, no remote anything.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// Writes one redline as a complete HTML page.
///
/// # Errors
/// Any error from `out`.
pub fn html(redline: &Redline, out: &mut dyn Write) -> io::Result<()> {
    let title = format!(
        "{}: {}",
        display_title(redline),
        kind_words(redline.revision.kind)
    );
    let body = article(redline, "r0", 1);
    page(&title, &body, out)
}

/// Writes several redlines as one HTML page (a digest): a header saying what
/// it covers (`3 revisions of 2 targets from 2026-10-01 to 2026-11-14`, the
/// targets) with a list of the revisions, then one article per redline.
///
/// # Errors
/// Any error from `out`.
pub fn html_many(redlines: &[Redline], out: &mut dyn Write) -> io::Result<()> {
    let mut body = String::from("<header class=\"digest\">\n<h1>redliner report</h1>\n");
    let (counts, window) = digest_counts(redlines);
    let covers = match window {
        Some(w) => format!("{counts} {w}"),
        None => counts,
    };
    body.push_str(&format!("<p class=\"summary\">{}</p>\n", esc(&covers)));
    if !redlines.is_empty() {
        let targets: Vec<String> = digest_targets(redlines)
            .into_iter()
            .map(|t| format!("<code>{}</code>", esc(t)))
            .collect();
        body.push_str(&format!(
            "<p class=\"where\">Targets: {}</p>\n",
            targets.join(", ")
        ));
    }
    if !redlines.is_empty() {
        body.push_str("<ol class=\"toc\">\n");
        for (i, r) in redlines.iter().enumerate() {
            body.push_str(&format!(
                "<li><a href=\"#r{i}\">{}</a> {} <span class=\"quiet\">{}</span></li>\n",
                esc(&dated_headline(r)),
                kind_badge(r),
                esc(&utc_minute(r.new_captured_at)),
            ));
        }
        body.push_str("</ol>\n");
    }
    body.push_str("</header>\n");
    for (i, r) in redlines.iter().enumerate() {
        body.push_str(&article(r, &format!("r{i}"), 2));
    }
    page("redliner report", &body, out)
}

/// Gives a section's heading its link, when it has one.
pub type SectionLink<'a> = dyn Fn(&SectionDiff) -> Option<String> + 'a;

/// How [`article_with`] draws a redline (the web pages of `serve`; files,
/// feeds and e-mails take the default).
#[derive(Clone, Copy, Default)]
pub struct ArticleView<'a> {
    /// Each edited block as an old | new table only, without the inline
    /// view (default: inline marks, with the table folded below).
    pub side_by_side: bool,
    /// A link for a section's heading (its history), when there is one.
    pub section_link: Option<&'a SectionLink<'a>>,
}

/// The `<article>` for one redline, without page or styles: the body of an
/// Atom entry. Element ids start with `id`; `level` is the heading level of the
/// redline's title (sections get `level + 1`).
pub(crate) fn article(redline: &Redline, id: &str, level: u8) -> String {
    article_with(redline, id, level, ArticleView::default())
}

/// The `<article>` of one redline (without page or styles, as an Atom
/// entry holds it), drawn as `view` says. Element ids start with `id`;
/// `level` is the heading level of the title (sections get `level + 1`).
pub fn article_with(redline: &Redline, id: &str, level: u8, view: ArticleView<'_>) -> String {
    let rev = &redline.revision;
    let h = level.clamp(1, 5);
    let hs = h + 1;
    let mut s = format!("<article class=\"redline\" id=\"{}\">\n<header>\n", esc(id));
    s.push_str(&format!(
        "<h{h}>{} {}</h{h}>\n",
        esc(display_title(redline)),
        kind_badge(redline)
    ));
    let open = redline
        .link
        .as_deref()
        .map(|l| {
            format!(
                " \u{b7} <a class=\"open\" href=\"{}\">this revision in redliner</a>",
                esc(l)
            )
        })
        .unwrap_or_default();
    s.push_str(&format!(
        "<p class=\"where\"><code>{}</code> \u{b7} {}{open}</p>\n",
        esc(&redline.target),
        link(&redline.url)
    ));
    s.push_str("<dl class=\"facts\">\n");
    let checked = format!(
        "<time datetime=\"{}\">{}</time>",
        esc(&redline.new_captured_at.to_string()),
        esc(&utc_minute(redline.new_captured_at))
    );
    for (term, value) in [
        (stamp_label(rev), esc(&stamp_change(rev)).into_owned()),
        ("Checked", checked),
        ("Summary", esc(&summary_line(redline)).into_owned()),
    ] {
        s.push_str(&format!("<div><dt>{term}</dt><dd>{value}</dd></div>\n"));
    }
    s.push_str("</dl>\n");
    if let Some((lead, rest)) = revision_notice(rev) {
        s.push_str(&format!(
            "<p class=\"notice\"><strong>{}</strong> {}</p>\n",
            esc(lead),
            esc(rest)
        ));
    }
    for note in notes(redline) {
        s.push_str(&format!("<p class=\"notice\">{}</p>\n", esc(&note)));
    }
    s.push_str("</header>\n");

    if !rev.sections.is_empty() {
        // Numbered in page order (a removed section by its old place).
        s.push_str("<nav class=\"toc\" aria-label=\"Sections\">\n<ol>\n");
        for (j, section) in rev.sections.iter().enumerate() {
            let value = section_number(section)
                .map(|n| format!(" value=\"{n}\""))
                .unwrap_or_default();
            s.push_str(&format!(
                "<li{value}><a href=\"#{}-s{j}\">{}</a> {}</li>\n",
                esc(id),
                esc(&section.heading),
                section_badge(section.change.as_str())
            ));
        }
        s.push_str("</ol>\n");
        if !rev.unchanged.is_empty() {
            let unchanged: Vec<String> =
                rev.unchanged.iter().map(|h| esc(h).into_owned()).collect();
            s.push_str(&format!(
                "<p class=\"quiet\">{} {}</p>\n",
                section_badge("unchanged"),
                unchanged.join(" \u{b7} ")
            ));
        }
        s.push_str("</nav>\n");
    }

    for (j, section) in rev.sections.iter().enumerate() {
        s.push_str(&format!(
            "<section class=\"change\" id=\"{}-s{j}\">\n",
            esc(id)
        ));
        let history = view
            .section_link
            .and_then(|f| f(section))
            .map(|href| {
                format!(
                    " <a class=\"history\" href=\"{}\">section history</a>",
                    esc(&href)
                )
            })
            .unwrap_or_default();
        let number = section_number(section)
            .map(|n| format!("<span class=\"num\">{n}.</span> "))
            .unwrap_or_default();
        s.push_str(&format!(
            "<h{hs}>{number}{} {}{history}</h{hs}>\n",
            esc(&section.heading),
            section_badge(section.change.as_str())
        ));
        let words = section_change_words(section);
        if words != section.change.as_str() {
            s.push_str(&format!("<p class=\"how\">{}</p>\n", esc(&words)));
        }
        for block in &section.blocks {
            s.push_str(&block_html(section, block, view.side_by_side));
        }
        s.push_str("</section>\n");
    }

    if !rev.unchanged.is_empty() && !rev.sections.is_empty() {
        s.push_str(&format!(
            "<details class=\"unchanged\">\n<summary>Unchanged sections ({})</summary>\n<ul>\n",
            rev.unchanged.len()
        ));
        for heading in &rev.unchanged {
            s.push_str(&format!("<li>{}</li>\n", esc(heading)));
        }
        s.push_str("</ul>\n</details>\n");
    }
    s.push_str("</article>\n");
    s
}

/// One changed block: its label, the inline excerpt, the side-by-side view
/// when it has an old and a new text, and its link changes.
fn block_html(section: &SectionDiff, block: &BlockChange, only_side_by_side: bool) -> String {
    let mut s = format!("<div class=\"block block-{}\">\n", block.change.as_str());
    if let Some(label) = block_label(section, block) {
        s.push_str(&format!("<p class=\"label\">{}</p>\n", esc(&label)));
    }
    let side_by_side = !matches!(
        section.change,
        SectionChange::Added | SectionChange::Removed
    ) && matches!(
        block.change,
        BlockChangeKind::Replaced
            | BlockChangeKind::Moved
            | BlockChangeKind::Split
            | BlockChangeKind::Merged
    ) && block.old_text.is_some()
        && block.new_text.is_some()
        && has_edit(block);
    if block.change != BlockChangeKind::LinkChanged && !(only_side_by_side && side_by_side) {
        s.push_str("<p class=\"text\">");
        // A deletion right against an insertion (`<del>science</del><ins>civil
        // preparedness</ins>`) gets a small gap from the `joined` class; one
        // already separated by a space needs none.
        let mut after_del = false;
        for piece in tidy_spaces(shown_pieces(section, block)) {
            match piece {
                Piece::Gap => {
                    s.push_str("<span class=\"gap\">\u{2026}</span>");
                    after_del = false;
                }
                Piece::Text(tag, text) => {
                    let joined = after_del
                        && tag == SpanTag::Insert
                        && !text.starts_with(char::is_whitespace);
                    s.push_str(&marked(tag, &text, joined));
                    after_del = tag == SpanTag::Delete
                        && !text.trim().is_empty()
                        && !text.ends_with(char::is_whitespace);
                }
            }
        }
        s.push_str("</p>\n");
    }
    if side_by_side {
        let spans = full_spans(block);
        let side = |keep: SpanTag| -> String {
            spans
                .iter()
                .filter(|sp| sp.tag == SpanTag::Equal || sp.tag == keep)
                .map(|sp| marked(sp.tag, &sp.text, false))
                .collect()
        };
        let table = format!(
            "<table>\n\
             <thead><tr><th scope=\"col\">Old</th><th scope=\"col\">New</th></tr></thead>\n\
             <tbody><tr><td class=\"text\">{}</td><td class=\"text\">{}</td></tr></tbody>\n</table>\n",
            side(SpanTag::Delete),
            side(SpanTag::Insert)
        );
        if only_side_by_side {
            s.push_str(&format!("<div class=\"sbs\">\n{table}</div>\n"));
        } else {
            s.push_str(&format!(
                "<details class=\"sbs\" open>\n<summary>Old | new</summary>\n{table}</details>\n"
            ));
        }
    }
    if !block.links.is_empty() {
        s.push_str("<ul class=\"links\">\n");
        for l in &block.links {
            s.push_str(&format!(
                "<li>Link \u{201c}{}\u{201d}: <del>{}</del> \u{2192} <ins>{}</ins></li>\n",
                esc(&l.text),
                link(href_or_none(&l.old_href)),
                link(href_or_none(&l.new_href))
            ));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("</div>\n");
    s
}

/// True when old and new text differ (a block moved as is shows no
/// side-by-side view: two identical columns say nothing).
fn has_edit(block: &BlockChange) -> bool {
    if block.spans.is_empty() {
        return block.old_text != block.new_text;
    }
    shown_spans(&block.spans)
        .iter()
        .any(|sp| sp.tag != SpanTag::Equal)
}

/// Escaped text, wrapped in `<ins>`/`<del>` for changed words; whitespace at
/// the edges of a change stays outside the mark so no stray space is marked.
/// `joined`: an insertion right against the deletion before it, marked
/// `<ins class="joined">` (the styles set it a little apart).
fn marked(tag: SpanTag, text: &str, joined: bool) -> String {
    let name = match tag {
        SpanTag::Equal => return esc(text).into_owned(),
        SpanTag::Insert => "ins",
        SpanTag::Delete => "del",
    };
    let (lead, core, trail) = split_edges(text);
    if core.is_empty() {
        // A paragraph break added (split) or removed (merged) is whitespace
        // only: mark it with a pilcrow, as the terminal and Markdown do, or
        // the inline view would show a removed break as if it were still there.
        if text.contains("\n\n") {
            return if tag == SpanTag::Insert {
                format!(
                    "<{name} class=\"para\" title=\"paragraph break added\">\u{b6}</{name}>{}",
                    esc(text)
                )
            } else {
                format!(" <{name} class=\"para\" title=\"paragraph break removed\">\u{b6}</{name}>")
            };
        }
        return esc(text).into_owned();
    }
    let class = if joined { " class=\"joined\"" } else { "" };
    format!(
        "{}<{name}{class}>{}</{name}>{}",
        esc(lead),
        esc(core),
        esc(trail)
    )
}

/// Escapes text for HTML element content and double-quoted attribute values alike.
pub(crate) fn esc(s: &str) -> Cow<'_, str> {
    html_escape::encode_double_quoted_attribute(s)
}

/// A link when the URL is `http(s)`, else the URL as text.
fn link(url: &str) -> String {
    let lower = url.trim_start().to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        format!("<a href=\"{0}\" rel=\"noreferrer\">{0}</a>", esc(url))
    } else {
        esc(url).into_owned()
    }
}

fn kind_badge(r: &Redline) -> String {
    let kind = r.revision.kind;
    format!(
        "<span class=\"badge kind-{}\">{}</span>",
        kind.as_str(),
        esc(kind_words(kind))
    )
}

/// A badge for a section kind: the kebab-case name as its class, in words
/// (`heading added`) as its text.
fn section_badge(word: &str) -> String {
    format!(
        "<span class=\"badge badge-{word}\">{}</span>",
        word.replace('-', " ")
    )
}

fn page(title: &str, body: &str, out: &mut dyn Write) -> io::Result<()> {
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"redliner {}\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(title),
    )
}

/// The styles of every HTML redline (the pages of `serve` use them too).
pub fn style() -> &'static str {
    STYLE
}

/// The page's styles: a serif reading column, GitHub-like mark colours that
/// keep 4.5:1 contrast, marks that also differ in decoration (not colour
/// alone), screen-reader words around `<ins>`/`<del>`, and a dark scheme.
const STYLE: &str = r#":root {
  color-scheme: light dark;
  --ink: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa; --rule: #d1d9e0;
  --accent: #0969da; --ins-bg: #dafbe1; --ins-ink: #0b4a1f; --del-bg: #ffebe9; --del-ink: #82071e;
  --warn-bg: #fff8c5; --warn-ink: #4d2d00;
}
@media (prefers-color-scheme: dark) {
  :root {
    --ink: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #151b23; --rule: #3d444d;
    --accent: #4493f8; --ins-bg: #12361f; --ins-ink: #aff5b4; --del-bg: #4a1619; --del-ink: #ffdcd7;
    --warn-bg: #3b2e00; --warn-ink: #f8e3a1;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 1.0625rem/1.65 Charter, "Bitstream Charter", "Iowan Old Style", Georgia, serif; }
main { max-width: 46rem; margin: 0 auto; padding: 2.5rem 1.25rem 4rem; }
h1, h2, h3, h4, h5, h6, .badge, dl, nav, summary, .label, .how, .where, th {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.75rem; line-height: 1.25; margin: 0 0 .5rem; }
h2 { font-size: 1.3rem; line-height: 1.3; }
h3 { font-size: 1.15rem; }
a { color: var(--accent); overflow-wrap: anywhere; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: var(--panel); padding: .1em .35em; border-radius: 4px; }
.where { color: var(--muted); margin: 0 0 1rem; font-size: .95rem; }
.facts { display: grid; gap: .25rem; margin: 0 0 1rem; font-size: .95rem; }
.facts div { display: grid; grid-template-columns: 8.5rem 1fr; gap: .75rem; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; }
.notice { background: var(--warn-bg); color: var(--warn-ink); border-left: 4px solid #bf8700;
  padding: .6rem .9rem; border-radius: 4px; }
.redline { padding-bottom: 2rem; }
.redline + .redline { border-top: 1px solid var(--rule); padding-top: 2rem; }
.digest { margin-bottom: 2rem; border-bottom: 1px solid var(--rule); }
nav.toc, ol.toc { background: var(--panel); border: 1px solid var(--rule); border-radius: 8px;
  padding: .75rem 1rem .75rem 2.25rem; font-size: .95rem; }
nav.toc ol { margin: 0; padding: 0; }
.toc li { margin: .2rem 0; }
.num { color: var(--muted); font-weight: 400; }
.quiet { color: var(--muted); }
.badge { display: inline-block; vertical-align: .15em; font-size: .7rem; font-weight: 600;
  letter-spacing: .04em; text-transform: uppercase; line-height: 1; padding: .3em .6em;
  border-radius: 999px; border: 1px solid var(--rule); background: var(--panel); color: var(--muted); }
.badge-added, .kind-revised, .kind-changed { background: var(--ins-bg); color: var(--ins-ink); border-color: transparent; }
.badge-removed { background: var(--del-bg); color: var(--del-ink); border-color: transparent; }
.badge-modified, .badge-renamed, .badge-moved, .badge-relevelled, .badge-heading-added, .badge-heading-removed { background: #ddf4ff; color: #0a3069; border-color: transparent; }
.kind-silent-edit { background: var(--warn-bg); color: var(--warn-ink); border-color: #bf8700; }
section.change { margin-top: 2rem; }
.how { color: var(--muted); margin-top: -.5rem; font-size: .95rem; }
.block { border-left: 3px solid var(--rule); padding: .1rem 0 .1rem 1rem; margin: 1rem 0; }
.label { color: var(--muted); font-size: .85rem; margin: 0 0 .25rem; }
.text { white-space: pre-wrap; overflow-wrap: break-word; margin: 0 0 .5rem; }
.gap { color: var(--muted); }
ins { background: var(--ins-bg); color: var(--ins-ink); text-decoration: underline;
  text-decoration-thickness: 1px; text-underline-offset: .15em; border-radius: 2px; }
del { background: var(--del-bg); color: var(--del-ink); text-decoration: line-through; border-radius: 2px; }
del + ins.joined { margin-left: .2em; }
ins::before, ins::after, del::before, del::after {
  clip-path: inset(100%); position: absolute; width: 1px; height: 1px; overflow: hidden; white-space: nowrap; }
ins::before { content: " [inserted: "; } del::before { content: " [deleted: "; }
ins::after, del::after { content: "] "; }
details { margin: .5rem 0; }
summary { cursor: pointer; color: var(--muted); font-size: .85rem; }
.sbs table { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: .92rem; margin-top: .25rem; }
.sbs th { text-align: left; font-size: .75rem; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); border-bottom: 1px solid var(--rule); padding: .25rem .5rem; }
.sbs td { vertical-align: top; padding: .4rem .5rem; width: 50%; }
.sbs td + td, .sbs th + th { border-left: 1px solid var(--rule); }
.links { font-size: .92rem; }
details.unchanged { margin-top: 2rem; border-top: 1px solid var(--rule); padding-top: 1rem; }
details.unchanged summary { font-size: 1rem; }
@media (max-width: 36rem) { .facts div { grid-template-columns: 1fr; gap: 0; } }
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::tests::{sample, with_cross_section_move};
    use crate::revision::{LinkChange, RevisionKind, Span};

    fn render(r: &Redline) -> String {
        let mut out = Vec::new();
        html(r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn hostile() -> Redline {
        let mut r = sample();
        r.title = Some("Relations <b>with</b> Belarus".to_string());
        r.revision.sections[1].heading = "<script>alert(1)</script>".to_string();
        r.revision.sections[1].blocks[0].spans = vec![
            Span {
                tag: SpanTag::Equal,
                text: "Text ".into(),
            },
            Span {
                tag: SpanTag::Insert,
                text: "<script>alert(1)</script>".into(),
            },
            Span {
                tag: SpanTag::Delete,
                text: "<img src=x onerror=alert(1)>".into(),
            },
        ];
        r.revision.sections[3].blocks[0].new_text = Some("<img src=x onerror=alert(1)>".into());
        r.revision.sections[0].blocks[0].links.push(LinkChange {
            text: "\"><script>x</script>".into(),
            old_href: "javascript:alert(1)".into(),
            new_href: "https://x.test/?a=\"><script>".into(),
        });
        r.revision
            .unchanged
            .push("<script>alert(2)</script>".into());
        r
    }

    #[test]
    fn page_text_is_escaped() {
        let text = render(&hostile());
        for raw in [
            "<script>",
            "<img src=x onerror=alert(1)>",
            "onerror=alert(1)>",
            "<b>with</b>",
            "href=\"javascript:",
        ] {
            assert!(!text.contains(raw), "unescaped {raw:?}");
        }
        for escaped in [
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "&lt;img src=x onerror=alert(1)&gt;",
            "<ins>&lt;script&gt;",
            "<del>&lt;img",
            "href=\"https://x.test/?a=&quot;&gt;&lt;script&gt;\"",
        ] {
            assert!(text.contains(escaped), "missing {escaped:?}");
        }
    }

    #[test]
    fn structure() {
        let text = render(&sample());
        let wants = [
            "<!DOCTYPE html>\n<html lang=\"en\">",
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
            "<title>Relations with Belarus: revised</title>",
            "<h1>Relations with Belarus <span class=\"badge kind-revised\">revised</span></h1>",
            "<code>nato-belarus</code> \u{b7} <a href=\"https://www.nato.int/cps/en/natohq/topics_49119.htm\"",
            "<dt>Last updated</dt><dd>28 Aug. 2024 11:27 \u{2192} 14 Nov. 2026 09:05 (Brussels time)</dd>",
            "<time datetime=\"2026-11-14T10:00:00Z\">2026-11-14 10:00 UTC</time>",
            "<li value=\"3\"><a href=\"#r0-s1\">Evolution of relations</a> <span class=\"badge badge-modified\">modified</span></li>",
            "<p class=\"quiet\"><span class=\"badge badge-unchanged\">unchanged</span> Belarus\u{2019} role in Russia\u{2019}s war against Ukraine</p>",
            "<section class=\"change\" id=\"r0-s1\">\n<h2><span class=\"num\">3.</span> Evolution of relations <span class=\"badge badge-modified\">modified</span></h2>",
            "<p class=\"text\">Belarus\u{2019} diplomatic mission to NATO opened in April 1998 <ins>and was downgraded in 2025</ins>.</p>",
            "<td class=\"text\">Cooperation covered <del>science</del>.</td><td class=\"text\">Cooperation covered <ins>civil preparedness</ins>.</td>",
            "<p class=\"how\">renamed from \u{201c}Key areas of cooperation\u{201d}, edited</p>",
            "<p class=\"label\">List item removed</p>\n<p class=\"text\"><del>In November 2021",
            "<details class=\"unchanged\">\n<summary>Unchanged sections (1)</summary>",
            "</html>\n",
        ];
        for want in wants {
            assert!(text.contains(want), "missing {want:?}\n{text}");
        }
        assert!(!text.contains("<script"), "no script of our own");
        // the added section shows its text without a side-by-side view
        assert_eq!(text.matches("<details class=\"sbs\" open>").count(), 2);
    }

    #[test]
    fn block_moved_as_is_has_no_side_by_side() {
        let text = |spans: Vec<Span>| {
            let mut r = sample();
            let b = &mut r.revision.sections[1].blocks[0];
            b.change = BlockChangeKind::Moved;
            b.moved_from = Some("Lead".into());
            b.new_text = b.old_text.clone();
            b.spans = spans;
            render(&r)
        };
        let equal = vec![Span {
            tag: SpanTag::Equal,
            text: "Belarus\u{2019} diplomatic mission to NATO opened in April 1998.".into(),
        }];
        // the sample's renamed section keeps its one side-by-side view
        let cases = [(equal, 1), (Vec::new(), 1)];
        for (spans, n) in cases {
            let text = text(spans);
            assert!(text.contains("Paragraph moved from \u{201c}Lead\u{201d}"));
            assert_eq!(text.matches("<details class=\"sbs\" open>").count(), n);
        }
    }

    #[test]
    fn block_moved_across_sections_shows_both_ends() {
        let mut r = sample();
        with_cross_section_move(&mut r);
        let text = render(&r);
        let wants = [
            "<div class=\"block block-moved\">\n<p class=\"label\">Paragraph moved from \u{201c}Evolution of relations\u{201d}</p>\n<p class=\"text\">Following these developments, Allies suspended all practical cooperation, both civilian and military, between NATO and Belarus in November 2021, while maintaining dialogue, as necessary.</p>\n</div>\n",
            "<div class=\"block block-moved\">\n<p class=\"label\">Paragraph moved to \u{201c}Lead\u{201d}</p>\n<p class=\"text\">Following these developments, Allies suspended all practical cooperation, both civilian and military, <span class=\"gap\">\u{2026}</span></p>\n</div>\n",
        ];
        for want in wants {
            assert!(text.contains(want), "missing {want:?}\n{text}");
        }
        // Neither end adds a side-by-side view (the sample has two).
        assert_eq!(text.matches("<details class=\"sbs\" open>").count(), 2);
    }

    #[test]
    fn paragraph_breaks_added_or_removed_are_marked() {
        let span = |tag, text: &str| Span {
            tag,
            text: text.into(),
        };
        let cases = [
            (
                BlockChangeKind::Merged,
                vec![
                    span(SpanTag::Equal, "One."),
                    span(SpanTag::Delete, "\n\n"),
                    span(SpanTag::Equal, " Two."),
                ],
                "<p class=\"text\">One. <del class=\"para\" title=\"paragraph break removed\">\u{b6}</del> Two.</p>",
            ),
            (
                BlockChangeKind::Split,
                vec![
                    span(SpanTag::Equal, "One. "),
                    span(SpanTag::Insert, "\n\n"),
                    span(SpanTag::Equal, "Two."),
                ],
                "<p class=\"text\">One. <ins class=\"para\" title=\"paragraph break added\">\u{b6}</ins>\n\nTwo.</p>",
            ),
        ];
        for (change, spans, want) in cases {
            let mut r = sample();
            let b = &mut r.revision.sections[1].blocks[0];
            b.change = change;
            b.spans = spans;
            let text = render(&r);
            assert!(text.contains(want), "{change:?}: missing {want:?}\n{text}");
        }
    }

    #[test]
    fn kinds_and_digest() {
        let mut silent = sample();
        silent.revision.kind = RevisionKind::SilentEdit;
        let text = render(&silent);
        assert!(
            text.contains("<p class=\"notice\"><strong>Silent edit:</strong> the content changed")
        );
        silent.new_captured_at = "2026-09-30T23:59:00Z".parse().unwrap();
        let mut out = Vec::new();
        html_many(&[sample(), silent], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(
                "<h1>redliner report</h1>\n<p class=\"summary\">2 revisions of 1 target from 2026-09-30 to 2026-11-14</p>\n<p class=\"where\">Targets: <code>nato-belarus</code></p>\n<ol class=\"toc\">\n"
            ),
            "{text}"
        );
        assert!(text.contains("<article class=\"redline\" id=\"r1\">"));
        assert!(text.contains("<h2>Relations with Belarus <span class=\"badge kind-silent-edit\">silent edit</span></h2>"));
        assert!(text.contains(
            "<section class=\"change\" id=\"r1-s0\">\n<h3><span class=\"num\">1.</span> Lead"
        ));
    }

    #[test]
    fn empty_digest_says_so() {
        let mut out = Vec::new();
        html_many(&[], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(
                "<header class=\"digest\">\n<h1>redliner report</h1>\n<p class=\"summary\">0 revisions of 0 targets</p>\n</header>\n</main>"
            ),
            "{text}"
        );
    }

    #[test]
    fn notes_come_right_after_the_facts() {
        let mut r = sample();
        r.revision.kind = RevisionKind::SilentEdit;
        r.notes = vec![
            "Alternating: the page flips between two versions.".to_string(),
            "Content root not found; fallback `main` used.".to_string(),
        ];
        let want = "</dl>\n\
            <p class=\"notice\"><strong>Silent edit:</strong> the content changed but the page\u{2019}s \u{201c}Last updated\u{201d} stamp did not.</p>\n\
            <p class=\"notice\">Alternating: the page flips between two versions.</p>\n\
            <p class=\"notice\">Content root not found; fallback `main` used.</p>\n\
            </header>\n";
        let text = render(&r);
        assert!(text.contains(want), "{text}");
        // the Atom entry's content is the same article
        assert!(article(&r, "e0", 2).contains(want));
    }

    #[test]
    fn adjacent_marks_never_double_a_space() {
        let span = |tag, text: &str| Span {
            tag,
            text: text.into(),
        };
        let cases = [
            (
                vec![
                    span(SpanTag::Equal, "Belarus"),
                    span(SpanTag::Delete, "\u{2019} "),
                    span(SpanTag::Insert, " opened a "),
                    span(SpanTag::Equal, "diplomatic mission to NATO"),
                    span(SpanTag::Delete, " opened"),
                    span(SpanTag::Equal, " in April 1998."),
                ],
                "<p class=\"text\">Belarus<del>\u{2019}</del> <ins>opened a</ins> diplomatic mission to NATO <del>opened</del> in April 1998.</p>",
            ),
            // only an insertion right against a deletion is set apart
            (
                vec![
                    span(SpanTag::Equal, "Cooperation covered "),
                    span(SpanTag::Delete, "science"),
                    span(SpanTag::Insert, "civil preparedness"),
                    span(SpanTag::Equal, "."),
                ],
                "<p class=\"text\">Cooperation covered <del>science</del><ins class=\"joined\">civil preparedness</ins>.</p>",
            ),
        ];
        for (spans, want) in cases {
            let mut r = sample();
            r.revision.sections[1].blocks[0].spans = spans;
            let text = render(&r);
            assert!(text.contains(want), "missing {want:?}\n{text}");
        }
        assert!(STYLE.contains("del + ins.joined { margin-left: .2em; }"));
        assert!(!STYLE.contains("del + ins {"));
    }
}
