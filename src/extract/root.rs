//! Choosing the content root: the configured selectors first, then the
//! fallbacks `main`, `article`, a readability pass (dom_smoothie), the densest
//! text block, and `body`. The root found is always recorded in
//! [`ContentRoot::selector`]; [`ContentRoot::fallback`] is set only when a
//! configured root was missed, so the generic rules (no root configured) are
//! never reported as falling back.

use std::collections::HashMap;
use std::sync::LazyLock;

use ego_tree::{NodeId, NodeRef};
use scraper::{ElementRef, Html, Node, Selector};

use super::ExtractError;
use super::chrome::{self, Chrome, Visit, walk_tree};
use super::walk::{WalkOptions, Walked, walk};
use crate::document::ContentRoot;
use crate::target::Rules;

/// A selector written in this file; a typo in one is a bug, found by the
/// first test that extracts a page.
fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("constant selector parses")
}

static MAIN: LazyLock<Selector> = LazyLock::new(|| selector("main, [role=main]"));
static ARTICLE: LazyLock<Selector> = LazyLock::new(|| selector("article"));
static BODY: LazyLock<Selector> = LazyLock::new(|| selector("body"));
static TEXT_BLOCKS: LazyLock<Selector> =
    LazyLock::new(|| selector("p, li, pre, blockquote, td, dd"));

/// Walks the content root chosen for `doc`; `title` is the title's comparable
/// text (a readability fragment keeps the title as a heading).
///
/// A configured selector that matches is used even when its text is short (that
/// is an error, not a reason to guess). Fallbacks are tried in order and the
/// first with at least `rules.min_text_chars` characters wins.
///
/// # Errors
/// [`ExtractError::EmptyContent`] when the configured root, or every fallback,
/// holds fewer than `rules.min_text_chars` characters of text.
pub(crate) fn choose(
    doc: &Html,
    html: &str,
    rules: &Rules,
    opts: &WalkOptions<'_>,
    title: Option<&str>,
) -> Result<(Walked, ContentRoot), ExtractError> {
    let min = rules.min_text_chars;
    for css in &rules.content {
        // Never a script or style: their text is never shown (and the
        // source fingerprint leaves script text out on that promise).
        if let Some(el) = doc
            .select(&css.selector)
            .find(|e| !chrome::NEVER_SHOWN.contains(&e.value().name()))
        {
            let walked = walk(*el, opts);
            if walked.text_chars < min {
                return Err(ExtractError::EmptyContent {
                    selector: css.source.clone(),
                    chars: walked.text_chars,
                    min,
                });
            }
            let root = ContentRoot {
                selector: css.source.clone(),
                fallback: false,
            };
            return Ok((walked, root));
        }
    }

    // With no configured root, finding one is the plan, not a fallback.
    let configured = !rules.content.is_empty();
    let mut best: (&str, usize) = ("body", 0);
    let mut attempt = |name: &'static str, walked: Walked| {
        tracing::debug!(
            fallback = name,
            chars = walked.text_chars,
            "content root fallback"
        );
        if walked.text_chars >= min {
            return Some((
                walked,
                ContentRoot {
                    selector: name.to_string(),
                    fallback: configured,
                },
            ));
        }
        if walked.text_chars > best.1 {
            best = (name, walked.text_chars);
        }
        None
    };

    if let Some(el) = first_outside_chrome(doc, &MAIN, opts.chrome)
        && let Some(found) = attempt("main", walk(el, opts))
    {
        return Ok(found);
    }
    if let Some(el) = largest_article(doc, opts.chrome)
        && let Some(found) = attempt("article", walk(el, opts))
    {
        return Ok(found);
    }
    if max_depth(doc) <= READABILITY_MAX_DEPTH
        && let Some(walked) =
            readability(&without_chrome(doc, html, opts.chrome), rules, opts, title)
        && let Some(found) = attempt("readability", walked)
    {
        return Ok(found);
    }
    if let Some(el) = densest_block(doc, opts.chrome)
        && let Some(found) = attempt("densest-block", walk(el, opts))
    {
        return Ok(found);
    }
    let body = doc.select(&BODY).next().map_or(doc.tree.root(), |b| *b);
    if let Some(found) = attempt("body", walk(body, opts)) {
        return Ok(found);
    }
    Err(empty(best.0, best.1, min))
}

fn empty(selector: &str, chars: usize, min: usize) -> ExtractError {
    ExtractError::EmptyContent {
        selector: selector.to_string(),
        chars,
        min,
    }
}

fn first_outside_chrome<'a>(
    doc: &'a Html,
    sel: &Selector,
    chrome: &Chrome,
) -> Option<NodeRef<'a, Node>> {
    doc.select(sel)
        .map(|e| *e)
        .find(|n| !chrome.inside_chrome(*n))
}

/// The `article` with the most text: pages list teaser articles beside the main one.
fn largest_article<'a>(doc: &'a Html, chrome: &Chrome) -> Option<NodeRef<'a, Node>> {
    doc.select(&ARTICLE)
        .filter(|e| !chrome.inside_chrome(**e))
        .map(|e| (chrome::visible_text(e).map(str::len).sum::<usize>(), *e))
        .max_by_key(|(len, _)| *len)
        .map(|(_, n)| n)
}

/// Deeper documents skip the readability fallback: its cost grows with the
/// square of the nesting depth (10,000 nested `<div>`s took minutes), real pages
/// nest a few dozen levels, and the linear densest-block fallback remains.
const READABILITY_MAX_DEPTH: usize = 256;

/// The deepest element nesting in the document (one linear pass).
fn max_depth(doc: &Html) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(doc.tree.root(), 0usize)];
    while let Some((node, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        stack.extend(node.children().map(|c| (c, depth + 1)));
    }
    deepest
}

/// The page's HTML with its chrome removed, for readability: its article
/// keeps no class or id, so chrome known by those must go before, and a share
/// bar or a banner must not sway its choice. The page as served when it has
/// no chrome.
fn without_chrome(doc: &Html, html: &str, chrome: &Chrome) -> String {
    struct Collect<'c> {
        chrome: &'c Chrome,
        found: Vec<NodeId>,
        revealed: Vec<NodeId>,
        spaced: Vec<NodeId>,
    }
    impl<'a> Visit<'a> for Collect<'_> {
        fn open(&mut self, n: NodeRef<'a, Node>) -> bool {
            if self.chrome.reveals(n) {
                self.revealed.push(n.id());
            }
            if matches!(n.value(), Node::Element(e) if chrome::is_reader_only(e)) {
                self.spaced.push(n.id());
            }
            let chrome = matches!(n.value(), Node::Element(_) | Node::Comment(_))
                && self.chrome.skips(n)
                && !matches!(n.value(), Node::Element(e) if matches!(e.name(), "head" | "title" | "meta"));
            if chrome {
                self.found.push(n.id());
            }
            !chrome
        }
        fn close(&mut self, _: NodeRef<'a, Node>) {}
    }
    let mut collect = Collect {
        chrome,
        found: Vec::new(),
        revealed: Vec::new(),
        spaced: Vec::new(),
    };
    walk_tree(doc.tree.root(), &mut collect);
    if collect.found.is_empty() && collect.revealed.is_empty() && collect.spaced.is_empty() {
        return html.to_string();
    }
    let mut stripped = doc.clone();
    for id in collect.found {
        if let Some(mut node) = stripped.tree.get_mut(id) {
            node.detach();
        }
    }
    // Screen-reader words ("Warning") stay words of their own: readability
    // drops the class that tells the walk so.
    for id in collect.spaced {
        if let Some(mut node) = stripped.tree.get_mut(id) {
            node.append(Node::Text(scraper::node::Text { text: " ".into() }));
        }
    }
    // A collapsed accordion or tab panel is content: shown to readability,
    // which drops whatever is hidden.
    for id in collect.revealed {
        if let Some(mut node) = stripped.tree.get_mut(id)
            && let Node::Element(el) = node.value()
        {
            el.attrs = el
                .attrs
                .iter()
                .filter(|(k, _)| !matches!(&*k.local, "hidden" | "aria-hidden" | "style"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
        }
    }
    stripped.html()
}

/// Readability (dom_smoothie, a port of Mozilla's readability.js) on the whole
/// page; its article HTML is parsed and walked like any root. `None` when it
/// finds nothing.
fn readability(
    html: &str,
    rules: &Rules,
    opts: &WalkOptions<'_>,
    title: Option<&str>,
) -> Option<Walked> {
    let mut reader = dom_smoothie::Readability::new(html, None, None).ok()?;
    let article = reader.parse().ok()?;
    // Readability's article is made of the page's nodes, so it nests no
    // deeper than the page did; parsed under the same guard all the same.
    let fragment = super::parse::fragment(&article.content).ok()?.html;
    // Node ids of the page do not apply to the fragment: the drop selectors are
    // matched again, and the title is recognised by its text.
    let chrome = Chrome::new(&fragment, rules);
    let frag_opts = WalkOptions {
        chrome: &chrome,
        skip: None,
        title,
        ..*opts
    };
    Some(walk(*fragment.root_element(), &frag_opts))
}

/// The element whose text blocks (paragraphs, list items, cells...) hold the
/// most text: each block credits its parent fully and its grandparent by half,
/// as readability does. Linear: each block's text is counted once.
fn densest_block<'a>(doc: &'a Html, chrome: &Chrome) -> Option<NodeRef<'a, Node>> {
    let mut scores: HashMap<NodeId, usize> = HashMap::new();
    for block in doc.select(&TEXT_BLOCKS) {
        if chrome.inside_chrome(*block) {
            continue;
        }
        let len = own_text_len(block);
        if len == 0 {
            continue;
        }
        if let Some(parent) = block.parent() {
            *scores.entry(parent.id()).or_default() += len * 2;
            if let Some(grand) = parent.parent() {
                *scores.entry(grand.id()).or_default() += len;
            }
        }
    }
    let best = scores
        .into_iter()
        .max_by_key(|(id, score)| (*score, std::cmp::Reverse(*id)))?;
    doc.tree.get(best.0)
}

/// Text characters of a block, not counting nested blocks of the same kinds
/// (a list item's sub-list is counted for the sub-items).
fn own_text_len(el: ElementRef<'_>) -> usize {
    let mut len = 0;
    let mut stack: Vec<NodeRef<'_, Node>> = el.children().collect();
    while let Some(n) = stack.pop() {
        match n.value() {
            Node::Text(t) => len += t.trim().len(),
            Node::Element(e) if !matches!(e.name(), "li" | "ul" | "ol" | "p" | "table") => {
                stack.extend(n.children());
            }
            _ => {}
        }
    }
    len
}

/// The id attribute of the densest block, for tests.
#[cfg(test)]
pub(crate) fn densest_for_test(doc: &Html, chrome: &Chrome) -> Option<String> {
    densest_block(doc, chrome)
        .and_then(ElementRef::wrap)
        .and_then(|e| e.value().id().map(str::to_string))
}
