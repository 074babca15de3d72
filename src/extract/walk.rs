//! The DOM walk: one pass over the content root that cuts it into sections at
//! headings and into blocks at paragraphs, list items, captions, table rows,
//! quotes and preformatted text.
//!
//! Each block-level element opens a frame. A "gather" frame (`p`, `figcaption`,
//! `caption`, `pre`, `tr`, headings) takes all text beneath it; a "container"
//! frame (`div`, `li`, `blockquote`, `figure`, ...) takes only its loose text and
//! lets nested block elements make their own blocks, so a list item holds its own
//! text and not its sub-list's. Every text node is appended once: the cost is
//! linear in the page size.

use std::collections::HashMap;
use std::sync::LazyLock;

use ego_tree::{NodeId, NodeRef};
use regex::Regex;
use scraper::{ElementRef, Node, Selector};

use super::chrome::{self, Chrome, Visit, walk_tree};
use super::link::{Links, cloudflare_decode};
use crate::document::{Block, BlockKind, Link, Section, SectionKey};
use crate::normalize::{comparable, display};
use crate::stamp;

/// What the walk needs besides the root.
pub(crate) struct WalkOptions<'a> {
    /// Resolves and normalises link targets.
    pub links: &'a Links<'a>,
    /// Elements to skip.
    pub chrome: &'a Chrome,
    /// The title element, skipped when it sits inside the root (it is the title,
    /// not a section heading).
    pub skip: Option<NodeId>,
    /// Text removed from every block (per-request tokens and the like).
    pub ignore_text: &'a [Regex],
    /// The title's comparable text, when the title element cannot be known by
    /// node (a readability fragment, where `h1` became `h2`): a heading with
    /// this text is not a section.
    pub title: Option<&'a str>,
}

/// The walk's result.
#[derive(Debug)]
pub(crate) struct Walked {
    /// Sections in page order (the lead first when it has blocks).
    pub sections: Vec<Section>,
    /// Characters of text kept: block texts plus headings.
    pub text_chars: usize,
}

/// Block-level tags; everything else is inline (its text joins the enclosing block).
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "html",
    "legend",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// True for block-level tags (a block boundary in text).
pub(crate) fn is_block(name: &str) -> bool {
    BLOCK_TAGS.contains(&name)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Loose text only; nested blocks make their own.
    Container,
    /// All text beneath, nested block elements separated by a space.
    Gather,
    /// A table row: all text beneath, cells joined with ` | `.
    Row,
    /// A heading of this level: starts a section.
    Heading(u8),
}

#[derive(Debug)]
struct Frame {
    node: NodeId,
    role: Role,
    kind: BlockKind,
    text: String,
    links: Vec<Link>,
    cells: usize,
}

#[derive(Debug)]
struct OpenLink {
    node: NodeId,
    frame: usize,
    start: usize,
    href: Option<String>,
}

#[derive(Debug)]
struct Figure {
    node: NodeId,
    has_caption: bool,
    alt: Option<String>,
}

struct Walker<'o, 'a> {
    opts: &'o WalkOptions<'a>,
    root: NodeId,
    frames: Vec<Frame>,
    links: Vec<OpenLink>,
    figures: Vec<Figure>,
    headings: Vec<(u8, String)>,
    seen_keys: HashMap<Vec<String>, usize>,
    /// The level of a chrome heading ("Related news") whose section is being
    /// skipped, up to the next heading of that level or above.
    skipping: Option<u8>,
    /// That chrome heading, until prose under it makes it a section after
    /// all: under "Most read" only link lists and teasers are chrome.
    skipped_heading: Option<String>,
    current: Section,
    sections: Vec<Section>,
    text_chars: usize,
}

/// Walks `root` into sections and blocks.
pub(crate) fn walk(root: NodeRef<'_, Node>, opts: &WalkOptions<'_>) -> Walked {
    let mut w = Walker {
        opts,
        root: root.id(),
        frames: Vec::new(),
        links: Vec::new(),
        figures: Vec::new(),
        headings: Vec::new(),
        seen_keys: HashMap::new(),
        skipping: None,
        skipped_heading: None,
        current: Section {
            key: SectionKey::lead(),
            heading: None,
            level: 0,
            blocks: Vec::new(),
        },
        sections: Vec::new(),
        text_chars: 0,
    };
    walk_tree(root, &mut w);
    let last = std::mem::replace(
        &mut w.current,
        Section {
            key: SectionKey::lead(),
            heading: None,
            level: 0,
            blocks: Vec::new(),
        },
    );
    if last.heading.is_some() || !last.blocks.is_empty() {
        w.sections.push(last);
    }
    Walked {
        sections: std::mem::take(&mut w.sections),
        text_chars: w.text_chars,
    }
}

impl<'t> Visit<'t> for Walker<'_, '_> {
    fn open(&mut self, n: NodeRef<'t, Node>) -> bool {
        self.open_node(n)
    }

    fn close(&mut self, n: NodeRef<'t, Node>) {
        self.close_node(n);
    }
}

impl Walker<'_, '_> {
    fn open_node(&mut self, n: NodeRef<'_, Node>) -> bool {
        if n.id() == self.root {
            self.push_frame(n.id(), Role::Container, BlockKind::Paragraph);
            return true;
        }
        if self.opts.skip == Some(n.id()) || self.opts.chrome.skips(n) {
            return false;
        }
        let el = match n.value() {
            Node::Text(t) => {
                if let Some(f) = self.frames.last_mut() {
                    f.text.push_str(t);
                }
                return false;
            }
            Node::Element(el) => el,
            _ => return false,
        };
        if let Some(address) = el.attr("data-cfemail").and_then(cloudflare_decode) {
            // Cloudflare's e-mail obfuscation: the element's text is a
            // placeholder ("[email protected]"), the address is in the hex.
            self.cloudflare_email(el.name() == "a", address);
            return false;
        }
        let name = el.name();
        let top_role = self.frames.last().map_or(Role::Container, |f| f.role);
        match name {
            "br" => {
                if let Some(f) = self.frames.last_mut() {
                    f.text.push(if f.kind == BlockKind::Preformatted {
                        '\n'
                    } else {
                        ' '
                    });
                }
                return false;
            }
            "img" => {
                if let Some(fig) = self.figures.last_mut()
                    && fig.alt.is_none()
                {
                    fig.alt = el.attr("alt").map(str::to_string);
                }
                return false;
            }
            "a" => {
                let frame = self.frames.len().saturating_sub(1);
                let start = self.frames.last().map_or(0, |f| f.text.len());
                let href = el.attr("href").and_then(|h| self.opts.links.href(h));
                self.links.push(OpenLink {
                    node: n.id(),
                    frame,
                    start,
                    href,
                });
                return true;
            }
            _ => {}
        }
        if top_role != Role::Container {
            if let Some(f) = self.frames.last_mut() {
                if f.role == Role::Row && matches!(name, "td" | "th") {
                    if f.cells > 0 {
                        f.text.push_str(" | ");
                    }
                    f.cells += 1;
                } else if is_block(name) {
                    f.text.push(' ');
                }
            }
            return true;
        }
        if !is_block(name) {
            return true;
        }
        let parent_kind = self.frames.last().map_or(BlockKind::Paragraph, |f| f.kind);
        self.flush_top();
        let id = n.id();
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let level = name.as_bytes()[1] - b'0';
                self.push_frame(id, Role::Heading(level), parent_kind);
            }
            "p" => self.push_frame(id, Role::Gather, parent_kind),
            "figcaption" | "caption" => {
                if let Some(fig) = self.figures.last_mut() {
                    fig.has_caption = true;
                }
                self.push_frame(id, Role::Gather, BlockKind::Caption);
            }
            "pre" => self.push_frame(id, Role::Gather, BlockKind::Preformatted),
            "tr" if !row_holds_blocks(n) => self.push_frame(id, Role::Row, BlockKind::TableRow),
            "li" | "dt" | "dd" => self.push_frame(id, Role::Container, BlockKind::ListItem),
            "blockquote" => self.push_frame(id, Role::Container, BlockKind::Quote),
            "figure" => {
                self.figures.push(Figure {
                    node: id,
                    has_caption: false,
                    alt: None,
                });
                self.push_frame(id, Role::Container, parent_kind);
            }
            _ => self.push_frame(id, Role::Container, parent_kind),
        }
        true
    }

    fn close_node(&mut self, n: NodeRef<'_, Node>) {
        let id = n.id();
        if let Node::Element(el) = n.value()
            && chrome::is_reader_only(el)
            && let Some(f) = self.frames.last_mut()
        {
            // "Warning" for screen readers runs into the visible text.
            f.text.push(' ');
        }
        if self.links.last().is_some_and(|l| l.node == id)
            && let Some(link) = self.links.pop()
        {
            self.finish_link(link);
        }
        if self.frames.last().is_some_and(|f| f.node == id)
            && let Some(frame) = self.frames.pop()
        {
            self.finish_frame(frame);
        }
        if self.figures.last().is_some_and(|f| f.node == id)
            && let Some(fig) = self.figures.pop()
            && !fig.has_caption
            && let Some(alt) = fig.alt
        {
            self.emit(BlockKind::Caption, &alt, Vec::new());
        }
    }

    /// Appends a decoded Cloudflare-protected address to the current block, as
    /// a `mailto:` link when the element was the link itself.
    fn cloudflare_email(&mut self, is_link: bool, address: String) {
        let in_heading = self
            .frames
            .last()
            .is_some_and(|f| matches!(f.role, Role::Heading(_)));
        let Some(f) = self.frames.last_mut() else {
            return;
        };
        f.text.push_str(&address);
        if is_link && !in_heading {
            f.links.push(Link {
                text: display(&address),
                href: format!("mailto:{address}"),
            });
        }
    }

    fn push_frame(&mut self, node: NodeId, role: Role, kind: BlockKind) {
        self.frames.push(Frame {
            node,
            role,
            kind,
            text: String::new(),
            links: Vec::new(),
            cells: 0,
        });
    }

    /// Emits the innermost container's loose text so far, before a nested block.
    fn flush_top(&mut self) {
        let Some(f) = self.frames.last_mut() else {
            return;
        };
        if f.text.is_empty() && f.links.is_empty() {
            return;
        }
        let text = std::mem::take(&mut f.text);
        let links = std::mem::take(&mut f.links);
        let kind = f.kind;
        let index = self.frames.len() - 1;
        for l in &mut self.links {
            if l.frame == index {
                l.start = 0;
            }
        }
        self.emit(kind, &text, links);
    }

    fn finish_link(&mut self, link: OpenLink) {
        let Some(href) = link.href else { return };
        let Some(frame) = self.frames.get_mut(link.frame) else {
            return;
        };
        if matches!(frame.role, Role::Heading(_)) {
            return;
        }
        let text = frame
            .text
            .get(link.start..)
            .map(display)
            .unwrap_or_default();
        frame.links.push(Link { text, href });
    }

    fn finish_frame(&mut self, frame: Frame) {
        match frame.role {
            Role::Heading(level) => {
                let text = display(&frame.text);
                let is_title = self.opts.title.is_some_and(|t| comparable(&text) == t);
                if text.is_empty() || is_title {
                    return;
                }
                if self.skipping.is_some_and(|l| level > l) {
                    return;
                }
                self.skipping = None;
                self.skipped_heading = None;
                if chrome::is_chrome_heading(&text) {
                    self.skipping = Some(level);
                    self.skipped_heading = Some(text);
                    return;
                }
                self.start_section(level, text);
            }
            _ => self.emit(frame.kind, &frame.text, frame.links),
        }
    }

    fn start_section(&mut self, level: u8, heading: String) {
        while self.headings.last().is_some_and(|(l, _)| *l >= level) {
            self.headings.pop();
        }
        self.headings.push((level, comparable(&heading)));
        let mut path: Vec<String> = self.headings.iter().map(|(_, k)| k.clone()).collect();
        let seen = self.seen_keys.entry(path.clone()).or_insert(0);
        *seen += 1;
        if *seen > 1 {
            // A repeated heading path stays a distinct section.
            let n = *seen;
            if let Some(last) = path.last_mut() {
                last.push_str(&format!(" ({n})"));
            }
        }
        self.text_chars += heading.chars().count();
        let section = Section {
            key: SectionKey(path),
            heading: Some(heading),
            level,
            blocks: Vec::new(),
        };
        let old = std::mem::replace(&mut self.current, section);
        if old.heading.is_some() || !old.blocks.is_empty() {
            self.sections.push(old);
        }
    }

    fn emit(&mut self, kind: BlockKind, raw: &str, links: Vec<Link>) {
        let mut text = if kind == BlockKind::Preformatted {
            let t = raw.trim_end().trim_start_matches(['\n', '\r']);
            if t.trim().is_empty() {
                String::new()
            } else {
                t.to_string()
            }
        } else {
            display(raw)
        };
        for re in self.opts.ignore_text {
            if re.is_match(&text) {
                text = display(&re.replace_all(&text, ""));
            }
        }
        if text.is_empty() || is_stamp_only(&text) {
            return;
        }
        if let Some(level) = self.skipping {
            // Under a chrome heading only prose is content; its first prose
            // block makes the heading a section after all.
            let link_chars = links
                .iter()
                .map(|l| l.text.chars().filter(|c| !c.is_whitespace()).count())
                .sum();
            if !chrome::is_prose(&text, link_chars) {
                return;
            }
            if let Some(heading) = self.skipped_heading.take() {
                self.start_section(level, heading);
            }
        }
        // Table rows and preformatted text are data: "English | French" in a
        // glossary is content. So is a list item naming a language without
        // linking to it, and a copyright credit under a picture: those are
        // chrome only in pickers and page footers, dropped as elements.
        let data = matches!(kind, BlockKind::TableRow | BlockKind::Preformatted)
            || (kind == BlockKind::ListItem
                && links.is_empty()
                && chrome::is_language_names(&text))
            || (kind == BlockKind::Caption && chrome::is_copyright_line(&text));
        if !data && chrome::is_chrome_text(&text) && !chrome::is_content_copyright(&text) {
            return;
        }
        self.text_chars += text.chars().count();
        self.current.blocks.push(Block { kind, text, links });
    }
}

/// A table row that holds paragraphs, headings, lists or tables is layout, not
/// data: its cells are walked as containers.
fn row_holds_blocks(n: NodeRef<'_, Node>) -> bool {
    static BLOCKY: LazyLock<Selector> = LazyLock::new(|| {
        Selector::parse("p, h1, h2, h3, h4, h5, h6, ul, ol, table, blockquote, pre")
            .expect("constant block selector parses")
    });
    ElementRef::wrap(n).is_some_and(|row| row.select(&BLOCKY).next().is_some())
}

/// A block that is nothing but the page's stamp, in any form (a redesigned
/// page may put it inside the content root); the stamp is metadata, never
/// content. See [`stamp::is_stamp_line`].
fn is_stamp_only(text: &str) -> bool {
    stamp::is_stamp_line(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;
    use url::Url;

    fn run(html: &str) -> Vec<Section> {
        walk_with(html, &[]).sections
    }

    fn walk_with(html: &str, ignore_text: &[Regex]) -> Walked {
        let doc = Html::parse_fragment(html);
        let chrome = Chrome::default();
        let base = Url::parse("https://www.nato.int/cps/en/natohq/topics_49119.htm").unwrap();
        let links = Links::new(&doc, Some(&base), Some(&base), &[]);
        let opts = WalkOptions {
            links: &links,
            chrome: &chrome,
            skip: None,
            ignore_text,
            title: None,
        };
        walk(*doc.root_element(), &opts)
    }

    /// A section as (heading or "Lead", level, [(kind, text)]).
    type Shape = (String, u8, Vec<(BlockKind, String)>);

    fn shape(html: &str) -> Vec<Shape> {
        run(html)
            .into_iter()
            .map(|s| {
                (
                    s.title().to_string(),
                    s.level,
                    s.blocks.into_iter().map(|b| (b.kind, b.text)).collect(),
                )
            })
            .collect()
    }

    use BlockKind::*;

    fn blocks(html: &str) -> Vec<(BlockKind, String)> {
        shape(html).into_iter().flat_map(|(_, _, b)| b).collect()
    }

    #[test]
    fn block_kinds() {
        let cases: Vec<(&str, Vec<(BlockKind, &str)>)> = vec![
            (
                "<p>One  <b>two</b>\n three</p>",
                vec![(Paragraph, "One two three")],
            ),
            ("<p>a<br>b</p>", vec![(Paragraph, "a b")]),
            ("<p>&nbsp;</p><p> \u{a0} </p>", vec![]),
            (
                "<ul><li>a</li><li>b</li></ul>",
                vec![(ListItem, "a"), (ListItem, "b")],
            ),
            (
                "<ul><li>outer<ul><li>inner</li></ul></li><li>next</li></ul>",
                vec![(ListItem, "outer"), (ListItem, "inner"), (ListItem, "next")],
            ),
            (
                "<ul><li><p>para in item</p></li></ul>",
                vec![(ListItem, "para in item")],
            ),
            (
                "<figure><img alt=\"Flag\"><figcaption>Photo: X</figcaption></figure>",
                vec![(Caption, "Photo: X")],
            ),
            (
                "<figure><img alt=\"Flag of Belarus\"></figure>",
                vec![(Caption, "Flag of Belarus")],
            ),
            ("<figure><img alt=\"\"></figure>", vec![]),
            (
                "<p><img alt=\"not a caption\">text</p>",
                vec![(Paragraph, "text")],
            ),
            (
                "<table><caption>Budget</caption><tr><th>Year</th><th>Sum</th></tr><tr><td>2024</td><td>10 <b>m</b></td></tr></table>",
                vec![
                    (Caption, "Budget"),
                    (TableRow, "Year | Sum"),
                    (TableRow, "2024 | 10 m"),
                ],
            ),
            (
                "<table><tr><td><p>layout one</p></td><td><p>layout two</p></td></tr></table>",
                vec![(Paragraph, "layout one"), (Paragraph, "layout two")],
            ),
            (
                "<blockquote>quoted <i>words</i></blockquote>",
                vec![(Quote, "quoted words")],
            ),
            (
                "<blockquote><p>first</p><p>second</p></blockquote>",
                vec![(Quote, "first"), (Quote, "second")],
            ),
            (
                "<pre>\n  a  b\n    c\n</pre>",
                vec![(Preformatted, "  a  b\n    c")],
            ),
            (
                "<div>loose <a href=\"x\">text</a><p>para</p>tail</div>",
                vec![
                    (Paragraph, "loose text"),
                    (Paragraph, "para"),
                    (Paragraph, "tail"),
                ],
            ),
            (
                "<dl><dt>Term</dt><dd>Meaning</dd></dl>",
                vec![(ListItem, "Term"), (ListItem, "Meaning")],
            ),
            (
                "<p>a</p><nav>menu</nav><script>var x;</script><p hidden>h</p><p>b</p>",
                vec![(Paragraph, "a"), (Paragraph, "b")],
            ),
            (
                "<ul class=\"fs-small\"><li>Last updated: 28 Aug. 2024 11:27</li></ul>",
                vec![],
            ),
            (
                "<p>Last updated: 28 Aug. 2024 11:27, the page says more here</p>",
                vec![(
                    Paragraph,
                    "Last updated: 28 Aug. 2024 11:27, the page says more here",
                )],
            ),
            (
                "<p>co\u{ad}operation e\u{301}</p>",
                vec![(Paragraph, "cooperation \u{e9}")],
            ),
        ];
        for (html, want) in cases {
            let want: Vec<(BlockKind, String)> =
                want.into_iter().map(|(k, t)| (k, t.to_string())).collect();
            assert_eq!(blocks(html), want, "{html}");
        }
    }

    #[test]
    fn sections_by_heading_path() {
        let html = "<p>lead</p><h2>A</h2><p>a1</p><h3>A.1</h3><p>a11</p><h3>A.2</h3>\
                    <h2>B \u{2019}x\u{2019}</h2><p>b1</p><h5>B deep</h5><p>b5</p><h2>A</h2><p>again</p>";
        let got: Vec<(Vec<String>, Option<String>, u8, usize)> = run(html)
            .into_iter()
            .map(|s| (s.key.0, s.heading, s.level, s.blocks.len()))
            .collect();
        let k = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            got,
            vec![
                (k(&[]), None, 0, 1),
                (k(&["A"]), Some("A".into()), 2, 1),
                (k(&["A", "A.1"]), Some("A.1".into()), 3, 1),
                (k(&["A", "A.2"]), Some("A.2".into()), 3, 0),
                (k(&["B 'x'"]), Some("B \u{2019}x\u{2019}".into()), 2, 1),
                (k(&["B 'x'", "B deep"]), Some("B deep".into()), 5, 1),
                (k(&["A (2)"]), Some("A".into()), 2, 1),
            ]
        );
    }

    #[test]
    fn empty_lead_is_dropped_and_empty_heading_ignored() {
        let got = shape("<p>&nbsp;</p><h2> </h2><h2>Only</h2>");
        assert_eq!(got, vec![("Only".to_string(), 2, vec![])]);
    }

    #[test]
    fn links_are_resolved_and_normalised() {
        let html = "<p>See <a href=\"/cps/en/natohq/topics_50349.htm\">PfP</a>, \
                    <a href=\"topics_49276.htm#x\">EAPC</a>, \
                    <a href=\"HTTPS://WWW.NATO.INT:443/cps/en/natohq/../natohq/topics_1.htm\">one</a>, \
                    <a href=\"javascript:void(0)\">js</a> and <a>none</a>.</p>";
        let s = run(html);
        let links: Vec<(String, String)> = s[0].blocks[0]
            .links
            .iter()
            .map(|l| (l.text.clone(), l.href.clone()))
            .collect();
        assert_eq!(
            links,
            vec![
                (
                    "PfP".into(),
                    "https://www.nato.int/cps/en/natohq/topics_50349.htm".into()
                ),
                (
                    "EAPC".into(),
                    "https://www.nato.int/cps/en/natohq/topics_49276.htm#x".into()
                ),
                (
                    "one".into(),
                    "https://www.nato.int/cps/en/natohq/topics_1.htm".into()
                ),
            ]
        );
        assert_eq!(s[0].blocks[0].text, "See PfP, EAPC, one, js and none.");
    }

    #[test]
    fn ignore_text_strips_and_drops() {
        let ignore = [Regex::new(r"Views: \d+").unwrap()];
        let got = walk_with("<p>Views: 1234 Text stays</p><p>Views: 99</p>", &ignore);
        let texts: Vec<&str> = got
            .sections
            .iter()
            .flat_map(|s| &s.blocks)
            .map(|b| b.text.as_str())
            .collect();
        assert_eq!(texts, ["Text stays"]);
        assert_eq!(got.text_chars, "Text stays".len());
    }

    #[test]
    fn cloudflare_addresses_are_decoded_in_text_and_links() {
        // "info@nato.int" under two keys: the hex changes per request.
        let cases = [
            (
                "<p>Write to <a href=\"/cdn-cgi/l/email-protection#422b2c242d022c23362d6c2b2c36\">\
                 <span class=\"__cf_email__\" data-cfemail=\"0f666169604f616e7b602166617b\">\
                 [email&#160;protected]</span></a>.</p>",
                "Write to info@nato.int.",
                vec![("info@nato.int", "mailto:info@nato.int")],
            ),
            (
                "<p>Press: <a href=\"/cdn-cgi/l/email-protection\" class=\"__cf_email__\" \
                 data-cfemail=\"5a2a283f29291a393e39743d352c\">[email&#160;protected]</a></p>",
                "Press: press@cdc.gov",
                vec![("press@cdc.gov", "mailto:press@cdc.gov")],
            ),
            (
                "<p>Bad hex: <span data-cfemail=\"zz\">[email&#160;protected]</span></p>",
                "Bad hex: [email protected]",
                vec![],
            ),
        ];
        for (html, text, links) in cases {
            let s = run(html);
            let b = &s[0].blocks[0];
            assert_eq!(b.text, text, "{html}");
            let got: Vec<(&str, &str)> = b
                .links
                .iter()
                .map(|l| (l.text.as_str(), l.href.as_str()))
                .collect();
            assert_eq!(got, links, "{html}");
        }
    }
}
