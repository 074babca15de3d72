//! The extract stage: a page's HTML to a [`Document`] of sections and blocks,
//! plus title and stamp.
//!
//! - [`chrome`](self) decides what is never content (navigation, banners, share
//!   bars, scripts, hidden elements, the configured `drop` selectors);
//! - `root` picks the content root: the configured selectors, else the recorded
//!   fallbacks `main`, `article`, `readability`, `densest-block`, `body`;
//! - `walk` cuts the root into sections (at `h1`..`h6`, keyed by heading path)
//!   and blocks, in one pass.
//!
//! The title comes from `rules.title`, else the first `h1` outside the chrome,
//! else `<title>`. The stamp is searched on the whole page's text (it sits
//! outside the content root), chrome first excluded; a block that is only the
//! stamp is never content.

mod chrome;
mod root;
mod walk;

use ego_tree::{NodeId, NodeRef};
use scraper::{Html, Node, Selector};
use url::Url;

use crate::document::{Document, DocumentMeta};
use crate::normalize::display;
use crate::stamp::{self, Stamp};
use crate::target::Rules;

use chrome::{Chrome, Visit, walk_tree};
use walk::WalkOptions;

/// Why a page yielded no usable document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// The content root was found but holds (nearly) no text.
    #[error("content root `{selector}` holds {chars} characters of text (minimum {min})")]
    EmptyContent {
        /// Selector or fallback name used.
        selector: String,
        /// Characters of text found.
        chars: usize,
        /// The configured minimum.
        min: usize,
    },
}

/// Extracts a document from a page's HTML.
///
/// `base` (the page's final URL) resolves relative links, after any
/// `<base href>` in the page. Link targets come out absolute and normalised
/// (`url` serialisation), so relative and absolute spellings compare equal.
///
/// # Errors
/// [`ExtractError::EmptyContent`] when the configured root has fewer than
/// `rules.min_text_chars` characters of text (block texts and headings), or,
/// when no configured selector matches, every fallback has fewer.
pub fn extract(html: &str, base: Option<&Url>, rules: &Rules) -> Result<Document, ExtractError> {
    let doc = Html::parse_document(html);
    let chrome = Chrome::new(&doc, rules);
    let base = effective_base(&doc, base);
    let (title, title_node) = find_title(&doc, rules, &chrome);
    let stamp = find_stamp(&doc, &chrome);
    let opts = WalkOptions {
        base: base.as_ref(),
        chrome: &chrome,
        skip: title_node,
        ignore_text: &rules.ignore_text,
    };
    let (walked, root) = root::choose(&doc, html, rules, &opts)?;
    Ok(Document {
        meta: DocumentMeta { title, stamp, root },
        sections: walked.sections,
    })
}

fn select(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

/// The page URL joined with the page's `<base href>`, if it has one.
fn effective_base(doc: &Html, base: Option<&Url>) -> Option<Url> {
    let sel = select("base[href]")?;
    let href = doc.select(&sel).next().and_then(|e| e.attr("href"));
    match (base, href) {
        (Some(b), Some(h)) => b.join(h.trim()).ok().or_else(|| Some(b.clone())),
        (None, Some(h)) => Url::parse(h.trim()).ok(),
        (b, None) => b.cloned(),
    }
}

/// The title text and, when it came from an element in the body, that element
/// (so the walk does not make a section of it).
fn find_title(doc: &Html, rules: &Rules, chrome: &Chrome) -> (Option<String>, Option<NodeId>) {
    if let Some(css) = &rules.title
        && let Some(el) = doc.select(&css.selector).next()
    {
        let text = node_text(*el, chrome);
        if !text.is_empty() {
            return (Some(text), Some(el.id()));
        }
    }
    if let Some(h1) = select("h1") {
        for el in doc.select(&h1) {
            if chrome.inside_chrome(*el) {
                continue;
            }
            let text = node_text(*el, chrome);
            if !text.is_empty() {
                return (Some(text), Some(el.id()));
            }
        }
    }
    let title = select("title")
        .and_then(|sel| {
            doc.select(&sel)
                .next()
                .map(|e| display(&e.text().collect::<String>()))
        })
        .filter(|t| !t.is_empty());
    (title, None)
}

/// The first stamp in the page's text with chrome left out; failing that, in
/// all of the page's text (a redesign may put the stamp in a header).
fn find_stamp(doc: &Html, chrome: &Chrome) -> Option<Stamp> {
    let body = select("body")
        .and_then(|s| doc.select(&s).next())
        .map_or(doc.tree.root(), |b| *b);
    let mut text = PageText {
        chrome: Some(chrome),
        text: String::new(),
    };
    walk_tree(body, &mut text);
    stamp::find(&text.text).or_else(|| {
        let mut all = PageText {
            chrome: None,
            text: String::new(),
        };
        walk_tree(body, &mut all);
        stamp::find(&all.text)
    })
}

/// The display text of one element, chrome left out.
fn node_text(node: NodeRef<'_, Node>, chrome: &Chrome) -> String {
    let mut text = PageText {
        chrome: Some(chrome),
        text: String::new(),
    };
    walk_tree(node, &mut text);
    display(&text.text)
}

/// Collects text, a newline at each block boundary so that separate elements
/// never run together. Scripts and styles are always left out.
struct PageText<'c> {
    chrome: Option<&'c Chrome>,
    text: String,
}

impl<'a> Visit<'a> for PageText<'_> {
    fn open(&mut self, n: NodeRef<'a, Node>) -> bool {
        match n.value() {
            Node::Text(t) => {
                self.text.push_str(t);
                false
            }
            Node::Element(el) => {
                if matches!(el.name(), "script" | "style" | "noscript" | "template") {
                    return false;
                }
                if self.chrome.is_some_and(|c| c.skips(n)) {
                    return false;
                }
                if el.name() == "br" || walk::is_block(el.name()) {
                    self.text.push('\n');
                }
                true
            }
            _ => true,
        }
    }

    fn close(&mut self, n: NodeRef<'a, Node>) {
        if let Node::Element(el) = n.value()
            && walk::is_block(el.name())
        {
            self.text.push('\n');
        }
    }
}
