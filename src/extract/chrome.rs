//! Site chrome: the elements dropped before any text is taken (navigation,
//! banners, share bars, scripts, hidden elements), and the tree walk that
//! skips them.
//!
//! Class, id, role and aria-label heuristics match whole tokens or whole
//! `-`/`_`-separated parts of a token (`share-bar` → `share`), never substrings,
//! so content classes such as `shareholders` or `unrelated` are kept.

use std::collections::HashSet;

use ego_tree::NodeRef;
use ego_tree::iter::Edge;
use scraper::node::Element;
use scraper::{ElementRef, Html, Node, Selector};

use crate::target::Rules;

/// Tags that are chrome wherever they appear.
const CHROME_TAGS: &[&str] = &[
    "nav", "header", "footer", "aside", "script", "style", "noscript", "template", "iframe", "svg",
    "button", "dialog", "select", "textarea", "input", "object", "embed", "canvas", "video",
    "audio", "map", "link", "meta", "head", "title",
];

/// Parts of class/id tokens that mark chrome (`cookie-banner` → `cookie`).
const CHROME_PARTS: &[&str] = &[
    "cookie",
    "cookies",
    "consent",
    "gdpr",
    "share",
    "sharing",
    "sharebar",
    "sharethis",
    "social",
    "breadcrumb",
    "breadcrumbs",
    "related",
    "newsletter",
    "advert",
    "advertisement",
];

/// Whole class tokens that mark hidden or screen-reader-only text.
const HIDDEN_TOKENS: &[&str] = &[
    "hidden",
    "d-none",
    "sr-only",
    "visually-hidden",
    "visuallyhidden",
    "screen-reader-text",
    "skip-link",
    "print-only",
];

/// ARIA roles of landmarks and widgets that are never page content.
const CHROME_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "search",
    "complementary",
    "dialog",
    "alertdialog",
    "menu",
    "menubar",
    "toolbar",
];

/// Containers whose own attributes are never judged: a `<body class="cookie-open">`
/// must not drop the page.
const NEVER_CHROME: &[&str] = &["html", "body", "main", "article"];

/// Elements to skip: the configured `drop` selectors' matches (by node id) plus
/// the built-in chrome rules, checked per element.
#[derive(Debug, Default)]
pub(crate) struct Chrome {
    dropped: HashSet<ego_tree::NodeId>,
}

impl Chrome {
    /// Collects the matches of `rules.drop` in `doc` (one pass per selector).
    pub(crate) fn new(doc: &Html, rules: &Rules) -> Chrome {
        let mut dropped = HashSet::new();
        for css in &rules.drop {
            dropped.extend(doc.select(&css.selector).map(|e| e.id()));
        }
        Chrome { dropped }
    }

    /// True when the element and its subtree are chrome.
    pub(crate) fn skips(&self, node: NodeRef<'_, Node>) -> bool {
        if self.dropped.contains(&node.id()) {
            return true;
        }
        match node.value() {
            Node::Element(el) => is_chrome(el) || (el.name() == "form" && is_chrome_form(node)),
            Node::Comment(_) | Node::ProcessingInstruction(_) | Node::Doctype(_) => true,
            _ => false,
        }
    }

    /// True when the element or any ancestor is chrome (for elements found by
    /// selector rather than by the walk).
    pub(crate) fn inside_chrome(&self, node: NodeRef<'_, Node>) -> bool {
        std::iter::successors(Some(node), |n| n.parent()).any(|n| self.skips(n))
    }
}

/// The built-in chrome test for one element: tag, hidden state, role,
/// aria-label, class and id tokens.
pub(crate) fn is_chrome(el: &Element) -> bool {
    let name = el.name();
    if CHROME_TAGS.contains(&name) {
        return true;
    }
    if is_hidden(el) {
        return true;
    }
    if NEVER_CHROME.contains(&name) {
        return false;
    }
    if el.attr("role").is_some_and(|r| {
        r.split_ascii_whitespace()
            .any(|r| CHROME_ROLES.contains(&r.to_ascii_lowercase().as_str()))
    }) {
        return true;
    }
    if el.attr("aria-label").is_some_and(chrome_label) {
        return true;
    }
    el.classes().any(chrome_token) || el.id().is_some_and(chrome_token)
}

/// Hidden by attribute or inline style; such text is never shown to a reader.
fn is_hidden(el: &Element) -> bool {
    if el.attr("hidden").is_some() {
        return true;
    }
    if el
        .attr("aria-hidden")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        return true;
    }
    if el.name() == "input"
        && el
            .attr("type")
            .is_some_and(|t| t.eq_ignore_ascii_case("hidden"))
    {
        return true;
    }
    if let Some(style) = el.attr("style") {
        let compact: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if compact.contains("display:none") || compact.contains("visibility:hidden") {
            return true;
        }
    }
    el.classes()
        .any(|c| HIDDEN_TOKENS.iter().any(|t| c.eq_ignore_ascii_case(t)))
}

/// A class or id token naming chrome: one of its `-`/`_` parts is a chrome word.
fn chrome_token(token: &str) -> bool {
    token
        .split(['-', '_'])
        .any(|part| CHROME_PARTS.iter().any(|w| part.eq_ignore_ascii_case(w)))
}

/// An aria-label naming chrome. Narrower than class tokens because labels are
/// prose: "Share of GDP" is content, "Share this page" is not.
fn chrome_label(label: &str) -> bool {
    let lower = label.trim().to_lowercase();
    let mut words = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty());
    let first = words.clone().next();
    (matches!(first, Some("share" | "related")) && !lower.starts_with("share of"))
        || words.any(|w| {
            matches!(
                w,
                "cookie" | "cookies" | "consent" | "breadcrumb" | "breadcrumbs"
            )
        })
}

/// A `<form>` is chrome (search box, newsletter) unless it wraps content, as
/// ASP.NET pages wrap their whole body in one form.
fn is_chrome_form(node: NodeRef<'_, Node>) -> bool {
    static CONTENT: std::sync::LazyLock<Option<Selector>> =
        std::sync::LazyLock::new(|| Selector::parse("p, h1, h2, h3, article, main").ok());
    match (ElementRef::wrap(node), CONTENT.as_ref()) {
        (Some(form), Some(sel)) => form.select(sel).next().is_none(),
        _ => true,
    }
}

/// A visitor for [`walk_tree`].
pub(crate) trait Visit<'a> {
    /// Called on entering a node; returns whether to descend into it.
    fn open(&mut self, node: NodeRef<'a, Node>) -> bool;
    /// Called on leaving a node that was descended into.
    fn close(&mut self, node: NodeRef<'a, Node>);
}

/// Walks `root`'s subtree in document order, letting the visitor skip
/// subtrees. No recursion, so deep pages cannot overflow the stack.
pub(crate) fn walk_tree<'a>(root: NodeRef<'a, Node>, visitor: &mut impl Visit<'a>) {
    let next = |n: NodeRef<'a, Node>| {
        if n == root {
            None
        } else {
            n.next_sibling()
                .map(Edge::Open)
                .or_else(|| n.parent().map(Edge::Close))
        }
    };
    let mut edge = Some(Edge::Open(root));
    while let Some(e) = edge {
        edge = match e {
            Edge::Open(n) if visitor.open(n) => {
                Some(n.first_child().map_or(Edge::Close(n), Edge::Open))
            }
            Edge::Open(n) => next(n),
            Edge::Close(n) => {
                visitor.close(n);
                next(n)
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_element_chrome(html: &str) -> bool {
        let doc = Html::parse_fragment(html);
        let el = doc.root_element().child_elements().next().unwrap();
        Chrome::default().skips(*el)
    }

    #[test]
    fn chrome_rules_per_element() {
        let cases = [
            ("<nav>x</nav>", true),
            ("<footer>x</footer>", true),
            ("<div class=\"cookie-banner\">x</div>", true),
            ("<div id=\"cookie_consent\">x</div>", true),
            ("<div class=\"share-bar social\">x</div>", true),
            ("<div class=\"box breadcrumb\">x</div>", true),
            ("<div class=\"related-links\">x</div>", true),
            ("<div class=\"shareholders\">x</div>", false),
            ("<div class=\"unrelated\">x</div>", false),
            ("<div class=\"content cf\">x</div>", false),
            ("<div class=\"socialism-history\">x</div>", false),
            ("<div role=\"navigation\">x</div>", true),
            ("<div role=\"main\">x</div>", false),
            ("<div aria-label=\"Share this page\">x</div>", true),
            (
                "<figure aria-label=\"Share of GDP spent on defence\">x</figure>",
                false,
            ),
            ("<div aria-label=\"Cookie consent\">x</div>", true),
            ("<p hidden>x</p>", true),
            ("<p aria-hidden=\"true\">x</p>", true),
            ("<p aria-hidden=\"false\">x</p>", false),
            ("<div style=\"color: red; DISPLAY : none\">x</div>", true),
            ("<div style=\"visibility:hidden\">x</div>", true),
            ("<span class=\"sr-only\">x</span>", true),
            ("<div class=\"hidden-print\">x</div>", false),
            ("<form><input name=q></form>", true),
            ("<form><h2>Title</h2><p>Body</p></form>", false),
            ("<p>text</p>", false),
            ("<table><tr><td>x</td></tr></table>", false),
        ];
        for (html, want) in cases {
            assert_eq!(first_element_chrome(html), want, "{html}");
        }
    }

    #[test]
    fn walk_tree_skips_subtrees() {
        let doc = Html::parse_fragment("<div><p>a<b>b</b></p><nav>n</nav><p>c</p></div>");
        struct Texts(Vec<String>, usize);
        impl<'a> Visit<'a> for Texts {
            fn open(&mut self, n: NodeRef<'a, Node>) -> bool {
                if let Node::Text(t) = n.value() {
                    self.0.push(t.to_string());
                }
                !matches!(n.value(), Node::Element(e) if e.name() == "nav")
            }
            fn close(&mut self, _: NodeRef<'a, Node>) {
                self.1 += 1;
            }
        }
        let mut v = Texts(Vec::new(), 0);
        walk_tree(*doc.root_element(), &mut v);
        assert_eq!(v.0, ["a", "b", "c"]);
        // html, div, p, b closed; nav skipped; the two text nodes and `c`'s p
        assert_eq!(v.1, 8);
    }
}
