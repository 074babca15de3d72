//! The extract stage: a page's HTML to a [`Document`] of sections and blocks,
//! plus title and stamp.
//!
//! - `chrome` decides what is never content (navigation, banners, share
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
pub mod fingerprint;
mod link;
mod parse;
mod root;
mod walk;

use ego_tree::{NodeId, NodeRef};
use scraper::{Html, Node, Selector};
use url::Url;

use crate::document::{Document, DocumentMeta, Extraction};
use crate::normalize::{comparable, display};
use crate::stamp::{self, Stamp, StampSource};
use crate::target::Rules;

use chrome::{Chrome, Visit, visible_text, walk_tree};
use walk::WalkOptions;

/// The version of the extractor, recorded in every document it makes
/// ([`crate::document::Extraction`]).
///
/// Bump it in the same commit as any change that can make the same page under
/// the same rules give another document: what counts as chrome, a stamp line
/// or a block, how text, headings or links are normalised, how the content
/// root is found, which fields a document carries. A `check` whose previous
/// snapshot was made by another version re-extracts that snapshot's raw body
/// before comparing, so the change is recorded as a technical revision and
/// never alerted. Not bumping it lets the change alert once on every target;
/// bumping it needlessly costs one re-extraction per target.
///
/// 1 (never written): every release before it was recorded. 2: issue 7's
/// extraction (link normalisation, chrome under every rule set, stamp lines
/// dropped, Cloudflare e-mail decoding). 3: cache-busting queries, generated
/// fragment ids and own-host link forms normalised; in-content volatile lines
/// (clocks, tickers, counters, widgets) and other languages' tool bars dropped.
/// 4: a lead emptied by the stamp filters is dropped (was kept as an empty
/// section). 5: real content is kept where it looked like chrome (collapsed
/// panels, headers inside the content, prose in containers or under headings
/// named like chrome, language lists, content copyright lines). 6: stamps
/// record their class (updated or published) and the page's other update
/// stamps; classed `time.updated` elements; month-first dates a page proves.
/// 7: ad slots (their classes and their "Advertisement" label) are chrome.
/// 8: the text of scripts, styles, `<noscript>` and templates no longer
/// weighs on the largest article, language lists, link ids or a stamp's
/// element and context (it was counted there, though never shown). 9: the
/// children the tree builder moves to a new parent (the adoption agency
/// around a block) all name that parent, so ancestor tests (chrome, roots)
/// read the tree as built; such pages could panic before.
pub const EXTRACTOR_VERSION: u32 = 9;

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
    /// The page shares little text with the previous snapshot and is much
    /// shorter, under another content root or without the stamp: most likely
    /// a different page (an error, login or interstitial page) rather than a
    /// revision of this one. Raised by the monitor, which knows the previous
    /// snapshot (see `crate::layout::unlike`); the same page under a new
    /// template is not refused.
    #[error(
        "the page shares {shared_percent}% of the previous snapshot's text and is much \
         shorter (content root `{root}`): most likely an error, login or interstitial \
         page; not taken for a revision"
    )]
    UnlikePrevious {
        /// The content root the page was taken from.
        root: String,
        /// The share of the previous snapshot's words found in this page, 0..=100.
        shared_percent: u8,
    },
    /// The markup nests deeper than any real page ([`MAX_NESTING`]), in the
    /// tree the parser builds or in its stack of open elements: refused as
    /// soon as parsing gets there, since its cost grows with the square of the
    /// depth.
    #[error("the page's markup nests at least {depth} levels deep (at most {MAX_NESTING})")]
    TooDeep {
        /// The depth measured when parsing was stopped (at least
        /// [`MAX_NESTING`] + 1; parsing stops there, so the page may nest
        /// deeper still).
        depth: usize,
    },
    /// The markup makes the HTML parser work far more per byte than any real
    /// page does (a trick that keeps its scans long without nesting deep):
    /// parsing was stopped at the budget.
    #[error(
        "the page's markup makes the HTML parser work far more than its size warrants \
         (stopped after its first {bytes} bytes)"
    )]
    TooCostly {
        /// Bytes of the page fed to the parser when it was stopped.
        bytes: usize,
    },
    /// The page is an error page served with a success status (a "soft 404"):
    /// its title or main heading reads like an HTTP error.
    #[error("the page looks like an error page served as a success (title `{title}`)")]
    ErrorPage {
        /// The title or heading that gave it away.
        title: String,
    },
}

/// Titles of error pages served with a 2xx status ("soft 404s"), matched on the
/// page's `<title>` and its main heading. Anchored on whole phrases so a page
/// *about* errors is not caught.
static ERROR_TITLE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?ix)
        ^\s*(?:error\s*)?(?:400|401|403|404|410|429|500|502|503|504)\b
        | ^\s*(?:not\s+found|forbidden|access\s+denied|internal\s+server\s+error|bad\s+gateway|gateway\s+time-?out|service\s+unavailable)\s*[.!]?\s*$
        | \bservice\s+(?:is\s+)?temporarily\s+unavailable\b
        | \b(?:site|page|website)\s+(?:is\s+)?(?:currently\s+)?(?:down\s+for|under)\s+maintenance\b
        | \bpage\s+(?:does\s+not|doesn't)\s+exist\b",
    )
    .expect("valid regex")
});

/// [`ERROR_TITLE`]'s costliest alternative (a bounded repeat of `\w`, which
/// costs more to compile than the rest together), asked only of a title
/// holding `found` or `exi` (ASCII, any case; no character outside ASCII
/// folds onto these letters), one of which every match holds.
static NOT_FOUND_TITLE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?ix)
        \b(?:page|document|file|resource|content)\b[\w\s'’]{0,40}?\b(?:(?:was\s+|is\s+)?not\s+found|(?:could\s+not|cannot|can't)\s+be\s+found|no\s+longer\s+exists)\b",
    )
    .expect("valid regex")
});

/// True when `title` reads like an HTTP error page's.
fn is_error_title(title: &str) -> bool {
    let holds = |word: &str| {
        title
            .as_bytes()
            .windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
    };
    ERROR_TITLE.is_match(title)
        || ((holds("found") || holds("exi")) && NOT_FOUND_TITLE.is_match(title))
}

/// The error-like title, if the page's `<title>` or its main heading reads
/// like an HTTP error page.
fn error_page_title(doc: &Html, title: Option<&str>) -> Option<String> {
    let head_title = select("title").and_then(|sel| {
        doc.select(&sel)
            .next()
            .map(|e| display(&e.text().collect::<String>()))
    });
    [title.map(str::to_string), head_title]
        .into_iter()
        .flatten()
        .find(|t| is_error_title(t))
}

/// Deepest nesting accepted, in the tree the parser builds and in its stack of
/// open elements. Real pages nest a few dozen levels; the HTML tree builder
/// scans its stack of open elements on many tokens, so its cost grows with the
/// square of the depth (40,000 nested `<div>`s: seconds; a 10 MB page of them:
/// hours). Measured while parsing, which stops once it is passed (`parse`).
pub const MAX_NESTING: usize = 2_000;

/// Extracts a document from a page's HTML.
///
/// `base` (the page's final URL) resolves relative links, after any
/// `<base href>` in the page. Link targets come out absolute and normalised
/// (`url` serialisation), so relative and absolute spellings compare equal;
/// session ids, tracking parameters and the rules' `ignore_link` matches are
/// removed, same-page links are cut to their fragment (`#x`), and Cloudflare
/// e-mail obfuscation is decoded (see `link`). With no `base` (a local file)
/// relative targets stay relative, so the file's folder does not matter.
///
/// # Errors
/// [`ExtractError::TooDeep`] when the tree the markup builds (or the parser's
/// stack of open elements) nests deeper than [`MAX_NESTING`], and
/// [`ExtractError::TooCostly`] when the parser's work passes its budget per
/// byte: parsing is stopped there, so no page costs more than the limits.
/// [`ExtractError::ErrorPage`] when the title or main heading reads like an HTTP
/// error ("Page not found", "404", "Service unavailable"): a soft 404.
/// [`ExtractError::EmptyContent`] when the configured root has fewer than
/// `rules.min_text_chars` characters of text (block texts and headings), or,
/// when no configured selector matches, every fallback has fewer.
pub fn extract(html: &str, base: Option<&Url>, rules: &Rules) -> Result<Document, ExtractError> {
    let base_in = base;
    let parsed = parse::document(html)?;
    if parsed.errors > 0 {
        // Parser oddities are the page's, not ours: one line per page, and
        // only when asked for (html5ever's own warnings are filtered out).
        tracing::debug!(
            errors = parsed.errors,
            depth = parsed.depth,
            "page parsed with {} parser error(s) (first: {})",
            parsed.errors,
            parsed.examples.join("; ")
        );
    }
    let doc = parsed.html;
    let chrome = Chrome::new(&doc, rules);
    let base = effective_base(&doc, base);
    let (title, title_node) = find_title(&doc, rules, &chrome);
    if let Some(title) = error_page_title(&doc, title.as_deref()) {
        return Err(ExtractError::ErrorPage { title });
    }
    let (stamp, stamp_unreadable, stamp_element) = find_stamp(&doc, &chrome, rules);
    let title_key = title.as_deref().map(comparable);
    let links = link::Links::new(&doc, base_in, base.as_ref(), &rules.ignore_link);
    let opts = WalkOptions {
        links: &links,
        chrome: &chrome,
        skip: title_node,
        ignore_text: &rules.ignore_text,
        title: None,
    };
    let (mut walked, root) = root::choose(&doc, html, rules, &opts, title_key.as_deref())?;
    // The rules' stamp element may sit inside the content root and hold a bare
    // date, which no stamp label marks: its block is the stamp, not content.
    if let Some(el) = stamp_element.filter(|t| !t.is_empty()) {
        for section in &mut walked.sections {
            section.blocks.retain(|b| b.text != el);
        }
    }
    for section in &mut walked.sections {
        drop_split_stamps(&mut section.blocks);
    }
    // A lead is only its blocks: one the stamp filters emptied is no section
    // (else a stamp split in two blocks on one side reads as "Lead: added").
    walked
        .sections
        .retain(|s| !(s.is_lead() && s.blocks.is_empty()));
    Ok(Document {
        meta: DocumentMeta {
            title,
            stamp_unreadable,
            stamp,
            root,
            extraction: Some(Extraction {
                extractor: EXTRACTOR_VERSION,
                rules: rules.fingerprint(),
            }),
        },
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

/// The page's stamp and, when none is read, a stamp-like line that could not
/// be read, searched in this order (the first found wins):
///
/// 1. the rules' `stamp` element and/or `stamp_pattern` (what the user
///    configured comes first);
/// 2. an updated/revised/reviewed/modified label in the visible text, chrome
///    left out (what a reader sees next to the content);
/// 3. a `<time datetime>` next to such a label, then an element marked as a
///    modification date ([`UPDATED_ELEMENTS`]);
/// 4. such a label anywhere in the visible text, chrome included (a redesign
///    may put the stamp in a header);
/// 5. `<meta>` modified dates, then JSON-LD `dateModified` (machine-readable
///    dates are a fallback: they are not what a reader sees);
/// 6. a published/posted label (never preferred over an updated one), then an
///    element marked as a publication date ([`PUBLISHED_ELEMENTS`]).
///
/// An update label whose date cannot be read, met before any readable one
/// (in the visible text, else anywhere), ends the search: no stamp, and the
/// line is returned as unreadable, so the stamp never switches source.
/// A stamp read from labelled text carries the page's other update stamps.
///
/// Also returns the text of the rules' `stamp` element, so that the walk's
/// blocks can leave it out.
fn find_stamp(
    doc: &Html,
    chrome: &Chrome,
    rules: &Rules,
) -> (Option<Stamp>, Option<String>, Option<String>) {
    let body = select("body")
        .and_then(|s| doc.select(&s).next())
        .map_or(doc.tree.root(), |b| *b);
    let text_of = |node: NodeRef<'_, Node>| PageText::walk(node, None).all;
    // The body's text, all of it and what is not chrome, in one walk.
    let PageText {
        all: all_text,
        visible,
        ..
    } = PageText::walk(body, Some(chrome));
    // The page's own numeric dates may prove month-first order (`03/13/2024`).
    let reading = rules.reading().for_page(&all_text);
    let with = |mut s: Stamp, source: StampSource| {
        s.source = source;
        s
    };

    let mut element_text = None;
    if let Some(css) = &rules.stamp
        && let Some(el) = doc.select(&css.selector).next()
    {
        let raw = text_of(*el);
        element_text = Some(display(&raw));
        let found = match &rules.stamp_pattern {
            Some(re) => stamp_by_pattern(&raw, re, &reading),
            None => {
                let scan = stamp::scan(&raw, &reading);
                scan.updated
                    .or(scan.published)
                    .or_else(|| {
                        el.attr("datetime")
                            .and_then(|d| stamp::read_bare(d, &reading))
                    })
                    .or_else(|| {
                        el.select(&select("time[datetime]")?)
                            .next()
                            .and_then(|t| t.attr("datetime"))
                            .and_then(|d| stamp::read_bare(d, &reading))
                            .map(|mut s| {
                                s.shown = display(&raw);
                                s.text = display(&raw);
                                s
                            })
                    })
                    .or_else(|| stamp::read_bare(&raw, &reading))
            }
        };
        if let Some(s) = found {
            let source = StampSource::Selector {
                selector: css.source.clone(),
            };
            return (Some(with(s, source)), None, element_text);
        }
    }
    if rules.stamp.is_none()
        && let Some(re) = &rules.stamp_pattern
        && let Some(s) = stamp_by_pattern(&visible, re, &reading)
            .or_else(|| stamp_by_pattern(&all_text, re, &reading))
    {
        return (Some(with(s, StampSource::Pattern)), None, None);
    }
    let scan = stamp::scan(&visible, &reading);
    let with_others = |mut s: Stamp, others: Vec<Stamp>| {
        s.also = others;
        s
    };
    if scan.blocked {
        return (None, scan.unreadable, element_text);
    }
    if let Some(s) = scan.updated {
        return (Some(with_others(s, scan.others)), None, element_text);
    }
    if let Some(s) = time_element_stamp(doc, chrome, &reading) {
        return (Some(s), None, element_text);
    }
    if let Some(s) = classed_stamp(doc, UPDATED_ELEMENTS, &reading) {
        return (Some(s), None, element_text);
    }
    let all = stamp::scan(&all_text, &reading);
    if all.blocked {
        return (None, all.unreadable, element_text);
    }
    let found = all
        .updated
        .map(|s| with_others(s, all.others))
        .or_else(|| meta_stamp(doc, &reading))
        .or_else(|| json_ld_stamp(doc, &reading))
        .or(scan.published)
        .or(all.published)
        .or_else(|| {
            classed_stamp(doc, PUBLISHED_ELEMENTS, &reading).map(|mut s| {
                s.class = stamp::StampClass::Published;
                s
            })
        });
    match found {
        Some(s) => (Some(s), None, element_text),
        None => (None, scan.unreadable.or(all.unreadable), element_text),
    }
}

/// Elements that mark a modification date by their class or microdata,
/// chrome included (WordPress themes put `<time class="updated">` in the
/// entry footer): `time.updated`, `[itemprop=dateModified]`, `.updated`,
/// `.modified`.
const UPDATED_ELEMENTS: &str =
    "time.updated, [itemprop=dateModified], time.modified, .updated, .modified";

/// Elements that mark a publication date: WordPress's `time.published` /
/// `time.entry-date`, `[itemprop=datePublished]` (a fallback, like any
/// published date).
const PUBLISHED_ELEMENTS: &str = "time.published, time.entry-date, [itemprop=datePublished]";

/// The first element matched by `css` whose `datetime` or `content`
/// attribute, else its text, reads as a bare date. Shown as its text.
fn classed_stamp(doc: &Html, css: &str, reading: &stamp::Reading) -> Option<Stamp> {
    let sel = select(css)?;
    doc.select(&sel).find_map(|el| {
        let text = display(&visible_text(el).collect::<String>());
        let mut s = el
            .attr("datetime")
            .or_else(|| el.attr("content"))
            .and_then(|d| stamp::read_bare(d, reading))
            .or_else(|| stamp::read_bare(&text, reading))?;
        if !text.is_empty() {
            s.shown.clone_from(&text);
            s.text = text;
        }
        s.source = StampSource::TimeElement;
        Some(s)
    })
}

/// Drops a stamp cut into two blocks (`<dt>Page last reviewed</dt><dd>3
/// March 2021</dd>`): a block that is only a label followed by one that is
/// only a date ([`stamp::is_split_stamp`]). The stamp is metadata, never content.
fn drop_split_stamps(blocks: &mut Vec<crate::document::Block>) {
    let mut i = 0;
    while i + 1 < blocks.len() {
        if stamp::is_split_stamp(&blocks[i].text, &blocks[i + 1].text) {
            blocks.drain(i..i + 2);
        } else {
            i += 1;
        }
    }
}

/// Applies the rules' `stamp_pattern` line by line: the first match whose
/// `date` group (with its `time` group), or else whole match, reads as a
/// stamp. The stamp's text is the whole match.
fn stamp_by_pattern(text: &str, re: &regex::Regex, reading: &stamp::Reading) -> Option<Stamp> {
    text.lines().map(display).find_map(|line| {
        let caps = re.captures(&line)?;
        let whole = caps.get(0)?.as_str().trim().to_string();
        let mut s = match caps.name("date") {
            Some(d) => {
                let value = match caps.name("time") {
                    Some(t) => format!("{} {}", d.as_str(), t.as_str()),
                    None => d.as_str().to_string(),
                };
                stamp::read_bare(&value, reading)?
            }
            None => stamp::parse_with(&whole, reading)
                .ok()
                .or_else(|| stamp::read_bare(&whole, reading))?,
        };
        s.text = whole;
        Some(s)
    })
}

/// A `<time datetime>` outside the chrome whose parent's text carries an
/// updated/revised/reviewed/modified label (`Updated <time datetime=…>3 days
/// ago</time>`). Shown as the element's text.
fn time_element_stamp(doc: &Html, chrome: &Chrome, reading: &stamp::Reading) -> Option<Stamp> {
    let sel = select("time[datetime]")?;
    doc.select(&sel).find_map(|el| {
        if chrome.inside_chrome(*el) {
            return None;
        }
        let parent = el.parent().and_then(scraper::ElementRef::wrap)?;
        let context = display(&visible_text(parent).collect::<String>());
        if !stamp::has_updated_label(&context) {
            return None;
        }
        let mut s = stamp::read_bare(el.attr("datetime")?, reading)?;
        let shown = display(&visible_text(el).collect::<String>());
        if !shown.is_empty() {
            s.shown = shown;
        }
        s.text = context;
        s.source = StampSource::TimeElement;
        Some(s)
    })
}

/// `<meta>` elements that carry a modification date, by their `name`,
/// `property`, `itemprop` or `http-equiv` (lowercased), most specific first.
pub(crate) const META_MODIFIED: &[&str] = &[
    "article:modified_time",
    "og:updated_time",
    "dcterms.modified",
    "dc.date.modified",
    "dc.modified",
    "datemodified",
    "last-modified",
    "lastmod",
    "revised",
];

/// The first `<meta>` modification date that reads as a date, by
/// [`META_MODIFIED`] order.
fn meta_stamp(doc: &Html, reading: &stamp::Reading) -> Option<Stamp> {
    let sel = select("meta[content]")?;
    let metas: Vec<(String, &str)> = doc
        .select(&sel)
        .filter_map(|el| {
            let name = ["name", "property", "itemprop", "http-equiv"]
                .iter()
                .find_map(|a| el.attr(a))?;
            Some((name.trim().to_ascii_lowercase(), el.attr("content")?))
        })
        .collect();
    META_MODIFIED.iter().find_map(|want| {
        metas
            .iter()
            .filter(|(name, _)| name == want)
            .find_map(|(name, content)| {
                let mut s = stamp::read_bare(content, reading)?;
                s.source = StampSource::Meta { name: name.clone() };
                Some(s)
            })
    })
}

/// The first JSON-LD `dateModified` (at any depth, `@graph` included) that
/// reads as a date.
fn json_ld_stamp(doc: &Html, reading: &stamp::Reading) -> Option<Stamp> {
    fn date_modified(v: &serde_json::Value) -> Option<&str> {
        match v {
            serde_json::Value::Object(map) => map
                .get("dateModified")
                .and_then(|d| d.as_str())
                .or_else(|| map.values().find_map(date_modified)),
            serde_json::Value::Array(items) => items.iter().find_map(date_modified),
            _ => None,
        }
    }
    let sel = select(r#"script[type="application/ld+json"]"#)?;
    doc.select(&sel).find_map(|el| {
        let json: serde_json::Value =
            serde_json::from_str(el.text().collect::<String>().trim()).ok()?;
        let mut s = stamp::read_bare(date_modified(&json)?, reading)?;
        s.source = StampSource::JsonLd;
        Some(s)
    })
}

/// The display text of one element, chrome left out.
fn node_text(node: NodeRef<'_, Node>, chrome: &Chrome) -> String {
    display(&PageText::walk(node, Some(chrome)).visible)
}

/// Collects text, a newline at each block boundary so that separate elements
/// never run together. Scripts and styles are always left out. `all` holds
/// everything; `visible`, with `chrome`, what is not chrome (the same walk).
struct PageText<'c> {
    chrome: Option<&'c Chrome>,
    all: String,
    visible: String,
    /// The chrome element whose subtree is being walked for `all` alone.
    hidden_by: Option<ego_tree::NodeId>,
}

impl<'c> PageText<'c> {
    /// The texts of `node`'s subtree; `visible` stays empty without `chrome`.
    fn walk(node: NodeRef<'_, Node>, chrome: Option<&'c Chrome>) -> PageText<'c> {
        let mut t = PageText {
            chrome,
            all: String::new(),
            visible: String::new(),
            hidden_by: None,
        };
        walk_tree(node, &mut t);
        t
    }

    /// Whether what is read now goes to `visible`.
    fn shown(&self) -> bool {
        self.chrome.is_some() && self.hidden_by.is_none()
    }
}

impl<'a> Visit<'a> for PageText<'_> {
    fn open(&mut self, n: NodeRef<'a, Node>) -> bool {
        match n.value() {
            Node::Text(t) => {
                let start = self.all.len();
                self.all.extend(
                    t.chars()
                        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
                );
                if self.shown() {
                    self.visible.push_str(&self.all[start..]);
                }
                false
            }
            Node::Element(el) => {
                if matches!(el.name(), "script" | "style" | "noscript" | "template") {
                    return false;
                }
                if self.shown() && self.chrome.is_some_and(|c| c.skips(n)) {
                    self.hidden_by = Some(n.id());
                }
                if el.name() == "br" || walk::is_block(el.name()) {
                    self.all.push('\n');
                    if self.shown() {
                        self.visible.push('\n');
                    }
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
            self.all.push('\n');
            if self.shown() {
                self.visible.push('\n');
            }
        }
        if self.hidden_by == Some(n.id()) {
            self.hidden_by = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{BlockKind, Section};
    use crate::target::Css;

    /// One text per walk, chrome left out when given: what the stamp search
    /// walked twice before, kept as the test's oracle.
    struct OneText<'c> {
        chrome: Option<&'c Chrome>,
        text: String,
    }

    impl<'a> Visit<'a> for OneText<'_> {
        fn open(&mut self, n: NodeRef<'a, Node>) -> bool {
            match n.value() {
                Node::Text(t) => {
                    // Line breaks mark element boundaries only: a break in the
                    // source inside one element is a space.
                    self.text.extend(
                        t.chars()
                            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
                    );
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

    /// The one-walk texts equal two [`OneText`] walks, on every page of
    /// the repository (fixtures and fuzz seeds) under the generic rules.
    #[test]
    fn both_texts_in_one_walk_are_the_two_walks_texts() {
        fn pages(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for path in entries.map(|e| e.unwrap().path()) {
                if path.is_dir() {
                    pages(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut all = Vec::new();
        pages(&repo.join("tests/fixtures"), &mut all);
        pages(&repo.join("fuzz/seeds/extract"), &mut all);
        all.retain(|p| {
            p.starts_with(repo.join("fuzz"))
                || p.extension().is_some_and(|e| e == "html" || e == "htm")
        });
        assert!(all.len() > 50, "{} pages", all.len());
        let rules = Rules::generic();
        let mut with_chrome = 0;
        for path in all {
            let html = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            let doc = Html::parse_document(&html);
            let chrome = Chrome::new(&doc, &rules);
            let body = select("body")
                .and_then(|s| doc.select(&s).next())
                .map_or(doc.tree.root(), |b| *b);
            let walk = |chrome| {
                let mut t = OneText {
                    chrome,
                    text: String::new(),
                };
                walk_tree(body, &mut t);
                t.text
            };
            let both = PageText::walk(body, Some(&chrome));
            assert_eq!(both.all, walk(None), "{}", path.display());
            assert_eq!(both.visible, walk(Some(&chrome)), "{}", path.display());
            with_chrome += usize::from(both.visible != both.all);
        }
        assert!(with_chrome > 20, "{with_chrome} pages with chrome");
    }

    const V1: &str = include_str!("../../tests/fixtures/nato-belarus/v1.html");
    const V2: &str = include_str!("../../tests/fixtures/nato-belarus/v2-reworded.html");
    const V3: &str = include_str!("../../tests/fixtures/nato-belarus/v3-section-added.html");
    const V4: &str = include_str!("../../tests/fixtures/nato-belarus/v4-renamed.html");
    const V5: &str = include_str!("../../tests/fixtures/nato-belarus/v5-stamp-only.html");
    const V6: &str = include_str!("../../tests/fixtures/nato-belarus/v6-silent-edit.html");
    const V1_1251: &[u8] = include_bytes!("../../tests/fixtures/nato-belarus/v1-windows-1251.html");
    const EMPTY: &str = include_str!("../../tests/fixtures/nato-belarus/empty-root.html");
    const REDESIGNED: &str = include_str!("../../tests/fixtures/nato-belarus/redesigned.html");

    const ROLE: &str = "Belarus\u{2019} role in Russia\u{2019}s war against Ukraine";
    const EVOLUTION: &str = "Evolution of relations";
    const KEY_AREAS: &str = "Key areas of cooperation prior to 2021";
    const RENAMED: &str = "Areas of cooperation before 2021";
    const SINCE: &str = "Relations since 2024";

    fn nato() -> Rules {
        let mut rules = Rules::generic();
        rules.name = "nato-topic".into();
        rules.title = Some(Css::parse("h1.fs-huge").unwrap());
        rules.content = vec![Css::parse("section.content").unwrap()];
        rules.tz = Some(jiff::tz::TimeZone::get("Europe/Brussels").unwrap());
        rules
    }

    fn page_url() -> Url {
        Url::parse("https://www.nato.int/cps/en/natohq/topics_49119.htm").unwrap()
    }

    fn doc(html: &str, rules: &Rules) -> Document {
        extract(html, Some(&page_url()), rules).unwrap()
    }

    /// A page whose content is `markup` repeated `n` times, then a paragraph.
    fn hostile(markup: &str, n: usize) -> String {
        format!(
            "<html><body><section class=\"content cf\">{}<p>{}</p></section></body></html>",
            markup.repeat(n),
            "word ".repeat(60)
        )
    }

    fn refused(html: &str) -> bool {
        matches!(
            extract(html, None, &nato()),
            Err(ExtractError::TooDeep { .. } | ExtractError::TooCostly { .. })
        )
    }

    #[test]
    fn pathological_nesting_is_refused_while_parsing() {
        let nested = |n: usize| hostile("<div>", n) + &"</div>".repeat(n);
        assert!(extract(&nested(100), None, &nato()).is_ok());
        assert!(extract(&nested(1_900), None, &nato()).is_ok());
        assert_eq!(
            extract(&nested(50_000), None, &nato()).unwrap_err(),
            ExtractError::TooDeep {
                depth: MAX_NESTING + 1
            }
        );
        // Implied ends, void elements and a flat run of thousands of blocks
        // add no depth.
        let flat = format!(
            "<section class=\"content\"><ul>{}</ul><br><img src=x>{}</section>",
            "<li>item<p>x".repeat(5_000),
            "<p>word word word</p>".repeat(5_000)
        );
        assert!(extract(&flat, None, &nato()).is_ok());
        // The fixtures pass.
        for page in [V1, V3, REDESIGNED] {
            assert!(extract(page, None, &nato()).is_ok());
        }
    }

    #[test]
    fn eighty_thousand_self_closed_divs_are_refused_as_too_deep() {
        // HTML ignores the slash: each `<div/>` opens a div.
        assert!(refused(&hostile("<div/>", 80_000)));
    }

    #[test]
    fn bogus_end_tags_do_not_hide_nesting() {
        assert!(refused(&hostile("<div></x>", 80_000)));
        assert!(refused(&hostile("<div></dvi></span></p >", 20_000)));
    }

    #[test]
    fn end_tags_hidden_in_comments_do_not_hide_nesting() {
        assert!(refused(&hostile("<div><!--</div>-->", 80_000)));
        assert!(refused(&hostile("<div><![CDATA[</div>]]>", 20_000)));
        assert!(refused(&hostile("<div><script></div></script>", 20_000)));
    }

    #[test]
    fn markup_tricks_that_keep_the_parser_busy_are_refused() {
        // (trick, prefix, markup repeated 20,000 times, refused); the others
        // build a flat or shallow tree, which costs linear work.
        let cases: &[(&str, &str, &str, bool)] = &[
            ("foster parenting", "<table>", "<div>", true),
            ("a table per div", "", "<table><div>", false),
            ("template contents", "", "<template><div>", true),
            ("svg", "", "<svg><g>", true),
            ("mathml", "", "<math><mrow>", true),
            ("formatting elements", "", "<b><i><u>", true),
            ("formatting reopened", "", "<p><b class=a>x</p>", false),
            ("misnested formatting", "", "<b><i></b></i>", false),
            ("noscript", "", "<noscript><div>", false),
            ("select", "", "<select><div>", true),
            ("nested tables", "", "<table><tr><td>", true),
            ("anchors reopened", "", "<a href=x><div>", true),
        ];
        for &(trick, prefix, markup, want) in cases {
            let page = format!("{prefix}{}", hostile(markup, 20_000));
            assert_eq!(refused(&page), want, "{trick}");
        }
    }

    #[test]
    fn error_pages_served_as_success_are_refused() {
        let filler = "<p>".to_string() + &"Lorem ipsum dolor sit amet. ".repeat(30) + "</p>";
        let cases: &[(&str, Option<&str>)] = &[
            (
                "<title>Page not found | NATO</title><h1>Page not found</h1>",
                Some("Page not found"),
            ),
            ("<title>NATO</title><h1>404</h1>", Some("404")),
            (
                "<title>Error 503 Service Unavailable</title><h1>x</h1>",
                Some("Error 503 Service Unavailable"),
            ),
            (
                "<title>NATO</title><h1>The page you requested could not be found</h1>",
                Some("The page you requested could not be found"),
            ),
            (
                "<title>Site under maintenance</title><h1>Back soon</h1>",
                Some("Site under maintenance"),
            ),
            (
                "<title>Access denied</title><h1>Access denied</h1>",
                Some("Access denied"),
            ),
            // Pages *about* errors or numbers are not error pages.
            (
                "<title>Relations with Belarus</title><h1>Relations with Belarus</h1>",
                None,
            ),
            (
                "<title>Handling 404 errors in archives</title><h1>Archives</h1>",
                None,
            ),
            (
                "<title>NATO</title><h1>Not found in the treaty: a history</h1>",
                None,
            ),
            ("<title>NATO</title><h1>2024 Washington Summit</h1>", None),
        ];
        for (head, want) in cases {
            let html =
                format!("<html><head>{head}</head><body><main>{filler}</main></body></html>");
            let got = extract(&html, None, &Rules::generic());
            match want {
                Some(title) => assert_eq!(
                    got.unwrap_err(),
                    ExtractError::ErrorPage {
                        title: title.to_string()
                    },
                    "{head}"
                ),
                None => assert!(got.is_ok(), "{head}: {got:?}"),
            }
        }
        // The real page and its revisions are never taken for error pages.
        for page in [V1, V2, V3, V4, V5, V6, REDESIGNED] {
            assert!(extract(page, Some(&page_url()), &nato()).is_ok());
        }
    }

    /// (heading, block count) per section.
    fn outline(d: &Document) -> Vec<(&str, usize)> {
        d.sections
            .iter()
            .map(|s| (s.title(), s.blocks.len()))
            .collect()
    }

    fn section<'d>(d: &'d Document, heading: &str) -> &'d Section {
        d.sections.iter().find(|s| s.title() == heading).unwrap()
    }

    #[test]
    fn fixture_revisions_extract_as_the_readme_says() {
        let v1_outline = vec![("Lead", 6), (ROLE, 2), (EVOLUTION, 7), (KEY_AREAS, 7)];
        let v3_outline = vec![
            ("Lead", 5),
            (ROLE, 2),
            (EVOLUTION, 7),
            (SINCE, 2),
            (KEY_AREAS, 7),
        ];
        let v4_outline = vec![
            ("Lead", 5),
            (ROLE, 2),
            (EVOLUTION, 7),
            (SINCE, 2),
            (RENAMED, 7),
        ];
        let cases = [
            (
                V1,
                "Last updated: 28 Aug. 2024 11:27",
                "2024-08-28T09:27:00Z",
                v1_outline.clone(),
            ),
            (
                V2,
                "Last updated: 14 Nov. 2024 09:05",
                "2024-11-14T08:05:00Z",
                v1_outline,
            ),
            (
                V3,
                "Last updated: 03 Mar. 2025 16:40",
                "2025-03-03T15:40:00Z",
                v3_outline,
            ),
            (
                V4,
                "Last updated: 12 May. 2025 10:15",
                "2025-05-12T08:15:00Z",
                v4_outline.clone(),
            ),
            (
                V5,
                "Last updated: 02 Jun. 2025 08:00",
                "2025-06-02T06:00:00Z",
                v4_outline.clone(),
            ),
            (
                V6,
                "Last updated: 02 Jun. 2025 08:00",
                "2025-06-02T06:00:00Z",
                v4_outline,
            ),
        ];
        for (i, (html, stamp, instant, want)) in cases.into_iter().enumerate() {
            let d = doc(html, &nato());
            let v = i + 1;
            assert_eq!(
                d.meta.title.as_deref(),
                Some("Relations with Belarus"),
                "v{v}"
            );
            let s = d.meta.stamp.as_ref().unwrap();
            assert_eq!(s.text, stamp, "v{v}");
            assert_eq!(s.instant.unwrap().to_string(), instant, "v{v}");
            assert_eq!(
                d.meta.root,
                crate::document::ContentRoot {
                    selector: "section.content".into(),
                    fallback: false
                },
                "v{v}"
            );
            assert_eq!(outline(&d), want, "v{v}");
            assert!(d.sections[1..].iter().all(|s| s.level == 2), "v{v}");
            assert_eq!(d.sections[0].level, 0);
            assert!(d.sections[0].key.0.is_empty());
        }
    }

    #[test]
    fn v1_blocks_and_links() {
        let d = doc(V1, &nato());
        let lead: Vec<BlockKind> = d.sections[0].blocks.iter().map(|b| b.kind).collect();
        use BlockKind::*;
        assert_eq!(
            lead,
            [Paragraph, Caption, ListItem, ListItem, ListItem, ListItem]
        );
        assert_eq!(
            d.sections[0].blocks[1].text,
            "Photo: uzhursky via Getty Images"
        );
        // the trailing NBSP of the third highlight is gone, the apostrophes kept
        assert_eq!(
            d.sections[0].blocks[4].text,
            "In November 2021, Allies suspended all practical cooperation, both civilian and \
             military, between NATO and Belarus, while maintaining dialogue, as necessary."
        );
        assert_eq!(
            section(&d, ROLE).key.0,
            ["Belarus' role in Russia's war against Ukraine"]
        );
        assert!(
            section(&d, ROLE).blocks[1]
                .text
                .contains("Alliance. NATO condemns Russia\u{2019}s")
        );
        assert!(
            section(&d, EVOLUTION).blocks[3]
                .text
                .ends_with("the right to peaceful protest.")
        );
        let links: Vec<(&str, &str)> = d
            .sections
            .iter()
            .flat_map(|s| &s.blocks)
            .flat_map(|b| &b.links)
            .map(|l| (l.text.as_str(), l.href.as_str()))
            .collect();
        assert_eq!(
            links,
            [
                (
                    "North Atlantic Cooperation Council",
                    "https://www.nato.int/cps/en/natohq/topics_69344.htm"
                ),
                (
                    "2021 Brussels Summit",
                    "https://www.nato.int/cps/en/natohq/official_texts_185000.htm"
                ),
                (
                    "Euro-Atlantic Partnership Council",
                    "https://www.nato.int/cps/en/natohq/topics_49276.htm"
                ),
                (
                    "Partnership for Peace (PfP)",
                    "https://www.nato.int/cps/en/natohq/topics_50349.htm"
                ),
                (
                    "Science for Peace and Security Programme (SPS)",
                    "https://www.nato.int/cps/en/natohq/topics_85373.htm"
                ),
                (
                    "Euro-Atlantic Disaster Response Coordination Centre (EADRCC)",
                    "https://www.nato.int/cps/en/natohq/topics_117757.htm"
                ),
            ]
        );
    }

    #[test]
    fn chrome_never_reaches_the_document() {
        for html in [V1, V5, REDESIGNED] {
            for rules in [nato(), Rules::generic()] {
                let d = doc(html, &rules);
                let all: String = d
                    .sections
                    .iter()
                    .flat_map(|s| s.heading.iter().chain(s.blocks.iter().map(|b| &b.text)))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n");
                for chrome in [
                    "cookies",
                    "Share this",
                    "Facebook",
                    "LinkedIn",
                    "Related",
                    "In focus",
                    "Search",
                    "Contact us",
                    "North Atlantic Treaty Organization",
                    "Request ",
                    "window.",
                    "Last updated",
                    "Home",
                    "Topics",
                    "Relations with Belarus",
                ] {
                    assert!(!all.contains(chrome), "{chrome:?} in {}", rules.name);
                }
            }
        }
    }

    /// (changed section, old block text, new block text) between two revisions
    /// with the same outline.
    fn changed_blocks(old: &Document, new: &Document) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for (o, n) in old.sections.iter().zip(&new.sections) {
            for (a, b) in o.blocks.iter().zip(&n.blocks) {
                if a != b {
                    out.push((n.title().to_string(), a.text.clone(), b.text.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn revision_differences_are_exactly_the_intended_ones() {
        let [v1, v2, v3, v4, v5, v6] = [V1, V2, V3, V4, V5, V6].map(|h| doc(h, &nato()));
        assert_eq!(
            changed_blocks(&v1, &v2),
            [(
                EVOLUTION.to_string(),
                "Belarus\u{2019} diplomatic mission to NATO opened in April 1998.".to_string(),
                "Belarus opened a diplomatic mission to NATO in April 1998.".to_string()
            )]
        );
        // v3: one highlight gone, one section added; the rest equal to v2
        let mut v2_minus = v2.clone();
        let removed = v2_minus.sections[0].blocks.remove(4);
        assert!(
            removed
                .text
                .starts_with("In November 2021, Allies suspended")
        );
        let mut v3_minus = v3.clone();
        let added = v3_minus.sections.remove(3);
        assert_eq!(added.heading.as_deref(), Some(SINCE));
        assert_eq!(v2_minus.sections, v3_minus.sections);
        // v4: only the heading (and so the key) changed
        assert_eq!(v4.sections[4].key.0, ["Areas of cooperation before 2021"]);
        assert_eq!(v3.sections[4].blocks, v4.sections[4].blocks);
        assert_eq!(v3.sections[..4], v4.sections[..4]);
        assert_ne!(v3.fingerprint(), v4.fingerprint());
        // v5: stamp only; chrome changed too
        assert_eq!(v4.sections, v5.sections);
        assert_eq!(v4.fingerprint(), v5.fingerprint());
        assert!(crate::stamp::changed(
            v4.meta.stamp.as_ref(),
            v5.meta.stamp.as_ref()
        ));
        // v6: silent edit
        assert!(!crate::stamp::changed(
            v5.meta.stamp.as_ref(),
            v6.meta.stamp.as_ref()
        ));
        let diff = changed_blocks(&v5, &v6);
        assert_eq!(diff.len(), 1);
        assert_eq!(diff[0].0, RENAMED);
        assert!(diff[0].1.contains("about 40 cooperative activities"));
        assert_eq!(diff[0].2, diff[0].1.replace("about 40", "about 45"));
    }

    #[test]
    fn windows_1251_fixture_decodes_to_the_v1_text_plus_the_cyrillic_name() {
        let (html, _, had_errors) = encoding_rs::WINDOWS_1251.decode(V1_1251);
        assert!(!had_errors);
        let d = doc(&html, &nato());
        let v1 = doc(V1, &nato());
        let lead = &d.sections[0].blocks[0].text;
        assert!(lead.contains("with Belarus (\u{420}\u{44d}\u{441}\u{43f}\u{443}\u{431}\u{43b}\u{456}\u{43a}\u{430} \u{411}\u{435}\u{43b}\u{430}\u{440}\u{443}\u{441}\u{44c}) for many years"));
        assert!(lead.contains("Russia\u{2019}s full-scale invasion"));
        assert_eq!(
            lead.replace(" (\u{420}\u{44d}\u{441}\u{43f}\u{443}\u{431}\u{43b}\u{456}\u{43a}\u{430} \u{411}\u{435}\u{43b}\u{430}\u{440}\u{443}\u{441}\u{44c})", ""),
            v1.sections[0].blocks[0].text
        );
        assert_eq!(d.sections[1..], v1.sections[1..]);
        assert_eq!(d.meta.stamp, v1.meta.stamp);
    }

    #[test]
    fn empty_root_is_an_error() {
        let cases = [
            (
                nato(),
                ExtractError::EmptyContent {
                    selector: "section.content".into(),
                    chars: 0,
                    min: 200,
                },
            ),
            (
                Rules::generic(),
                ExtractError::EmptyContent {
                    selector: "body".into(),
                    chars: 0,
                    min: 200,
                },
            ),
        ];
        for (rules, want) in cases {
            assert_eq!(
                extract(EMPTY, Some(&page_url()), &rules),
                Err(want),
                "{}",
                rules.name
            );
        }
    }

    #[test]
    fn fallbacks_are_recorded_and_yield_the_same_content() {
        let v1 = doc(V1, &nato());
        let cases = [
            (REDESIGNED, nato(), "main"),
            (REDESIGNED, Rules::generic(), "main"),
            (V1, Rules::generic(), "readability"),
        ];
        for (html, rules, selector) in cases {
            let d = doc(html, &rules);
            assert_eq!(d.meta.root.selector, selector, "{}", rules.name);
            // A fallback only when a root was configured and missed.
            assert_eq!(d.meta.root.fallback, !rules.content.is_empty());
            assert_eq!(d.meta.title.as_deref(), Some("Relations with Belarus"));
            // generic rules have no zone: same stamp, read in UTC
            let read = |d: &Document| {
                d.meta
                    .stamp
                    .as_ref()
                    .map(|s| (s.text.clone(), s.date, s.time))
            };
            assert_eq!(read(&d), read(&v1));
            assert_eq!(d.sections, v1.sections, "{selector} {}", rules.name);
            assert_eq!(d.fingerprint(), v1.fingerprint());
        }
    }

    #[test]
    fn generic_rules_give_the_same_documents_as_the_nato_rules() {
        for html in [V1, V2, V3, V4, V5, V6] {
            let configured = doc(html, &nato());
            let fallback = doc(html, &Rules::generic());
            assert_eq!(fallback.meta.root.selector, "readability");
            assert!(!fallback.meta.root.fallback);
            let read = |d: &Document| {
                d.meta
                    .stamp
                    .as_ref()
                    .map(|s| (s.text.clone(), s.date, s.time))
            };
            assert_eq!(read(&fallback), read(&configured));
            assert_eq!(fallback.sections, configured.sections);
        }
    }

    fn generic(min: usize) -> Rules {
        let mut r = Rules::generic();
        r.min_text_chars = min;
        r
    }

    #[test]
    fn root_fallback_chain() {
        let long = "Allies agreed on the text. ".repeat(3);
        let cases = [
            (
                format!("<body><div>side</div><main><p>{long}</p></main></body>"),
                "main",
            ),
            (
                format!(
                    "<body><article><p>teaser</p></article><article><p>{long}</p><p>{long}</p></article></body>"
                ),
                "article",
            ),
            (
                format!(
                    "<body><div><p>x</p></div><div class=c><p>{long}</p><p>{long}</p></div></body>"
                ),
                "readability",
            ),
        ];
        for (html, want) in cases {
            let d = extract(&html, None, &generic(20)).unwrap();
            assert_eq!(d.meta.root.selector, want, "{html}");
            assert!(
                !d.meta.root.fallback,
                "no root configured: found, not a fallback"
            );
            assert!(d.text_len() >= 20);
        }
        // too little text anywhere: the error names the best candidate
        assert_eq!(
            extract("<body><main><p>tiny</p></main></body>", None, &generic(20)),
            Err(ExtractError::EmptyContent {
                selector: "main".into(),
                chars: 4,
                min: 20
            })
        );
    }

    #[test]
    fn densest_block_and_body() {
        let html =
            "<body><div><p>one</p></div><div id=d><p>two two two</p><p>three</p></div></body>";
        let doc_ = Html::parse_document(html);
        let el = root_densest(&doc_);
        assert_eq!(el.as_deref(), Some("d"));
        let d = extract(
            "<body>just loose text in the body</body>",
            None,
            &generic(5),
        )
        .unwrap();
        assert!(!d.meta.root.fallback);
        assert_eq!(d.sections[0].blocks[0].text, "just loose text in the body");
    }

    fn root_densest(doc: &Html) -> Option<String> {
        let chrome = Chrome::default();
        root::densest_for_test(doc, &chrome)
    }

    #[test]
    fn title_sources() {
        let title_rule = {
            let mut r = generic(1);
            r.title = Some(Css::parse(".t").unwrap());
            r
        };
        let cases = [
            (
                "<title>T</title><body><p class=t>Configured</p><h1>H</h1><p>text</p></body>",
                &title_rule,
                Some("Configured"),
            ),
            (
                "<title>T</title><body><h1>  First\u{a0}h1 </h1><p>text</p></body>",
                &title_rule,
                Some("First h1"),
            ),
            (
                "<title>T</title><body><header><h1>Logo</h1></header><h1>Real</h1><p>text</p></body>",
                &title_rule,
                Some("Real"),
            ),
            (
                "<title> Page  title </title><body><p>text</p></body>",
                &title_rule,
                Some("Page title"),
            ),
            ("<body><p>text</p></body>", &title_rule, None),
        ];
        for (html, rules, want) in cases {
            let d = extract(html, None, rules).unwrap();
            assert_eq!(d.meta.title.as_deref(), want, "{html}");
        }
    }

    #[test]
    fn the_title_h1_is_not_a_section_but_other_h1s_are() {
        let html = "<body><main><h1>Title</h1><p>lead</p><h1>Second</h1><p>body</p></main></body>";
        let d = extract(html, None, &generic(1)).unwrap();
        let got: Vec<(&str, u8)> = d.sections.iter().map(|s| (s.title(), s.level)).collect();
        assert_eq!(got, [("Lead", 0), ("Second", 1)]);
    }

    #[test]
    fn stamp_sources_in_order_of_preference() {
        let mut selector = generic(1);
        selector.stamp = Some(Css::parse(".rev").unwrap());
        let mut pattern = generic(1);
        pattern.stamp_pattern = Some(regex::Regex::new(r"Rev\. (?P<date>\S+ \S+ \S+)").unwrap());
        let mut mdy = generic(1);
        mdy.date_order = crate::stamp::DateOrder::Mdy;
        let g = generic(1);
        let meta = |name: &str| format!("meta {name}");
        // (html, rules, stamp date, source, blocks left)
        let cases: Vec<(&str, &Rules, Option<&str>, String, usize)> = vec![
            // CDC: the stamp line at the bottom of the content is read and is no block
            (
                "<body><main><p>text</p><p>Page last reviewed: August 19, 2020</p></main></body>",
                &g,
                Some("2020-08-19"),
                "visible text".into(),
                1,
            ),
            (
                "<body><main><p>text</p><div><span>Updated on</span> <span>April 19, 2024</span></div></main></body>",
                &g,
                Some("2024-04-19"),
                "visible text".into(),
                1,
            ),
            // gov.uk: published and updated on one line; updated wins, the line is no block
            (
                "<body><main><p>Published 3 May 2023 \u{b7} Last updated 7 June 2024</p><p>text</p></main></body>",
                &g,
                Some("2024-06-07"),
                "visible text".into(),
                1,
            ),
            // next review due is never the stamp (and stays content)
            (
                "<body><main><p>text</p><dl><dt>Page last reviewed</dt><dd>3 March 2021</dd><dt>Next review due</dt><dd>3 March 2024</dd></dl></main></body>",
                &g,
                Some("2021-03-03"),
                "visible text".into(),
                3,
            ),
            // a stamp sentence inside prose stays content and is no stamp
            (
                "<body><main><p>The guidance was last updated on 5 March 2024 to add vaccines.</p></main></body>",
                &g,
                None,
                String::new(),
                1,
            ),
            // numeric dates follow the rules
            (
                "<body><main><p>text</p><p>Date of last update: 12/03/2024</p></main></body>",
                &mdy,
                Some("2024-12-03"),
                "visible text".into(),
                1,
            ),
            // a time element next to an updated label
            (
                r#"<body><main><p>text</p><p>Updated <time datetime="2024-04-19T10:00:00-04:00">3 days ago</time></p></main></body>"#,
                &g,
                Some("2024-04-19"),
                "time element".into(),
                1,
            ),
            // visible text wins over meta
            (
                r#"<head><meta property="article:modified_time" content="2024-05-01T10:00:00Z"></head><body><main><p>text</p><p>Last updated 5 March 2024</p></main></body>"#,
                &g,
                Some("2024-03-05"),
                "visible text".into(),
                1,
            ),
            (
                r#"<head><meta property="article:modified_time" content="2024-05-01T10:00:00Z"></head><body><main><p>text</p></main></body>"#,
                &g,
                Some("2024-05-01"),
                meta("`article:modified_time`"),
                1,
            ),
            (
                r#"<head><meta name="DCTERMS.modified" content="2024-05-02"></head><body><main><p>text</p></main></body>"#,
                &g,
                Some("2024-05-02"),
                meta("`dcterms.modified`"),
                1,
            ),
            (
                r#"<head><script type="application/ld+json">{"@graph":[{"@type":"WebPage","datePublished":"2024-01-01","dateModified":"2024-05-03T08:00:00+02:00"}]}</script></head><body><main><p>text</p></main></body>"#,
                &g,
                Some("2024-05-03"),
                "JSON-LD dateModified".into(),
                1,
            ),
            // meta modified wins over a published label alone
            (
                r#"<head><meta property="article:modified_time" content="2024-05-01"></head><body><main><p>text</p><p>Published 3 May 2023</p></main></body>"#,
                &g,
                Some("2024-05-01"),
                meta("`article:modified_time`"),
                1,
            ),
            // WordPress: `time.updated` (in the entry footer) over the posted date
            (
                r#"<body><main><article><p>text</p><footer class="entry-footer"><span class="posted-on">Posted on <a href="/c/"><time class="entry-date published" datetime="2024-01-10T09:00:00+00:00">January 10, 2024</time><time class="updated" datetime="2024-03-05T11:00:00+00:00">March 5, 2024</time></a></span></footer></article></main></body>"#,
                &g,
                Some("2024-03-05"),
                "time element".into(),
                1,
            ),
            // microdata dateModified
            (
                r#"<body><main><p>text</p><span itemprop="dateModified" content="2024-02-01">1 Feb</span></main></body>"#,
                &g,
                Some("2024-02-01"),
                "time element".into(),
                2,
            ),
            // a US page whose numeric dates prove month first
            (
                "<body><main><p>Clinic open 03/14/2024.</p><p>Last updated: 03/12/2024</p></main></body>",
                &g,
                Some("2024-03-12"),
                "visible text".into(),
                1,
            ),
            // the rules' selector, a bare date, its block dropped
            (
                r#"<body><main><p>text</p><p class="rev">19 April 2024</p></main></body>"#,
                &selector,
                Some("2024-04-19"),
                "selector `.rev`".into(),
                1,
            ),
            (
                "<body><main><p>text</p><p>Rev. 19 April 2024 (internal)</p></main></body>",
                &pattern,
                Some("2024-04-19"),
                "stamp pattern".into(),
                2,
            ),
        ];
        for (html, rules, date, source, blocks) in cases {
            let d = extract(html, None, rules).unwrap();
            let s = d.meta.stamp.as_ref();
            assert_eq!(s.map(|s| s.date.to_string()).as_deref(), date, "{html}");
            assert_eq!(
                s.map(|s| s.source.describe()).unwrap_or_default(),
                source,
                "{html}"
            );
            assert_eq!(d.block_count(), blocks, "{html}");
        }
    }

    #[test]
    fn stamp_lines_of_any_form_are_never_blocks() {
        let lines = [
            "Last updated: 28 Aug. 2024 11:27",
            "Updated on April 19, 2024",
            "Page last reviewed: August 19, 2020",
            "Last updated 5 March 2024",
            "Published 3 May 2023 \u{b7} Last updated 7 June 2024",
            "Date of last update: 12/03/2024",
            "Last modified: 2020-08-19",
            "Updated: 19.08.2020",
            "Last Updated: Tuesday, Sept. 19th, 2023 at 3:45 pm EDT",
            "Last updated: 31 Feb. 2024",
        ];
        for line in lines {
            let html = format!("<body><main><p>Some content.</p><p>{line}</p></main></body>");
            let d = extract(&html, None, &generic(1)).unwrap();
            assert_eq!(d.block_count(), 1, "{line}");
        }
    }

    #[test]
    fn a_stamp_alone_before_the_first_heading_leaves_no_lead() {
        // (how the stamp is laid out before the first heading)
        let stamps = [
            "<div class=\"cdc-page-date\"><p>Updated on</p><p>April 19, 2024</p></div>",
            "<p><span>Updated on </span>April 19, 2024</p>",
            "<dl><dt>Page last reviewed</dt><dd>August 19, 2020</dd></dl>",
            "",
        ];
        let docs: Vec<Document> = stamps
            .iter()
            .map(|stamp| {
                let html = format!(
                    "<body><main><h1>About Influenza</h1>{stamp}<h2>Symptoms</h2>\
                     <p>Flu symptoms usually come on suddenly.</p></main></body>"
                );
                extract(&html, None, &generic(1)).unwrap()
            })
            .collect();
        for (stamp, d) in stamps.iter().zip(&docs) {
            assert!(d.sections.iter().all(|s| !s.is_lead()), "{stamp}: {d:?}");
            assert_eq!(d.sections, docs[0].sections, "{stamp}");
        }
    }

    #[test]
    fn unreadable_stamp_lines_of_any_form_are_noted() {
        let cases = [
            ("Updated: 45.13.2020", Some("Updated: 45.13.2020")),
            (
                "Last modified: 2020-08-32",
                Some("Last modified: 2020-08-32"),
            ),
            (
                "Page last reviewed: Q3 2020",
                Some("Page last reviewed: Q3 2020"),
            ),
            ("Last updated 3 hours ago", None),
            ("Updated on April 19, 2024", None),
        ];
        for (line, want) in cases {
            let html = format!("<body><main><p>Some content.</p><p>{line}</p></main></body>");
            let d = extract(&html, None, &generic(1)).unwrap();
            assert_eq!(d.meta.stamp_unreadable.as_deref(), want, "{line}");
        }
    }

    #[test]
    fn an_unreadable_update_stamp_is_noted_wherever_it_sits_and_never_replaced() {
        // (html, unreadable note, stamp read)
        let cases = [
            // in chrome (a WordPress entry footer) as in the content
            (
                r#"<body><main><article><p>Some content.</p><footer class="entry-footer">Last updated: 31 Feb. 2024</footer></article></main></body>"#,
                Some("Last updated: 31 Feb. 2024"),
                None,
            ),
            (
                "<body><footer><p>Last updated: 31 Feb. 2024</p></footer><main><p>Some content.</p></main></body>",
                Some("Last updated: 31 Feb. 2024"),
                None,
            ),
            // another label's date never stands in for the unreadable one
            (
                "<body><main><p>Some content.</p><p>Last updated: 31 Feb. 2024</p><p>Page last reviewed: August 19, 2020</p></main></body>",
                Some("Last updated: 31 Feb. 2024"),
                None,
            ),
            (
                r#"<head><meta property="article:modified_time" content="2024-05-01"></head><body><main><p>Some content.</p><p>Last updated: 31 Feb. 2024</p></main></body>"#,
                Some("Last updated: 31 Feb. 2024"),
                None,
            ),
            // a readable one first: the later review date is recorded beside it
            (
                "<body><main><p>Some content.</p><p>Updated on April 19, 2024</p><p>Page last reviewed: August 19, 2020</p></main></body>",
                None,
                Some(("2024-04-19", vec!["2020-08-19".to_string()])),
            ),
        ];
        for (html, note, stamp) in cases {
            let d = extract(html, None, &generic(1)).unwrap();
            assert_eq!(d.meta.stamp_unreadable.as_deref(), note, "{html}");
            let got = d.meta.stamp.as_ref().map(|s| {
                let also = s.also.iter().map(|a| a.date.to_string()).collect();
                (s.date.to_string(), also)
            });
            assert_eq!(
                got.as_ref()
                    .map(|(d, a): &(String, Vec<String>)| (d.as_str(), a.clone())),
                stamp,
                "{html}"
            );
        }
    }

    #[test]
    fn stamp_search() {
        let cases = [
            // outside the root, never a block
            (
                "<body><ul><li>Last updated: 28 Aug. 2024 11:27</li></ul><main><p>text</p></main></body>",
                Some("Last updated: 28 Aug. 2024 11:27"),
                1,
            ),
            // inside the root: found, and not a block
            (
                "<body><main><p>Last\u{a0}updated:  28 Aug. 2024\n11:27</p><p>text</p></main></body>",
                Some("Last updated: 28 Aug. 2024 11:27"),
                1,
            ),
            // split across elements
            (
                "<body><main><p><b>Last updated</b>: <span>02-Mar-2012</span> 15:38</p><p>text</p></main></body>",
                Some("Last updated: 02-Mar-2012 15:38"),
                1,
            ),
            // chrome is searched last: a sidebar stamp loses to the page's
            (
                "<body><aside>Updated: 31-Mar-2006</aside><main><p>text</p><p>Last update: 29-Mar-2006 18:54</p></main></body>",
                Some("Last update: 29-Mar-2006 18:54"),
                1,
            ),
            // only in chrome: still found
            (
                "<body><header>Last updated: 28 Aug. 2024 11:27</header><main><p>text</p></main></body>",
                Some("Last updated: 28 Aug. 2024 11:27"),
                1,
            ),
            ("<body><main><p>text</p></main></body>", None, 1),
        ];
        for (html, want, blocks) in cases {
            let d = extract(html, None, &generic(1)).unwrap();
            assert_eq!(
                d.meta.stamp.as_ref().map(|s| s.text.as_str()),
                want,
                "{html}"
            );
            assert_eq!(d.block_count(), blocks, "{html}");
        }
    }

    /// A page with chrome slots: `top` before the title, `meta` under it,
    /// `inner` inside the body text, `bottom` after it. `main` wraps the body
    /// text when `with_main`.
    fn noisy_page(with_main: bool, [top, meta, inner, bottom]: [&str; 4]) -> String {
        let long = "Allies and partners agreed on the text of the declaration after long talks. ";
        let (open, close) = if with_main {
            ("<main>", "</main>")
        } else {
            ("<div id=page>", "</div>")
        };
        format!(
            "<html><head><title>Relations with Testland</title>\
             <link rel=canonical href=\"https://www.example.int/topics/testland.htm\"></head><body>\
             <header><a href=/>Home</a></header>{top}{open}<h1>Relations with Testland</h1>{meta}\
             <div class=body-text><p>{lead}</p><h2 id=evolution>Evolution</h2>\
             <p>{long}See <a href=\"#evolution\">above</a> and <a href=\"/topics/other.htm\">other</a>.</p>\
             {inner}<p>{long}{long}</p></div>{bottom}{close}</body></html>",
            lead = long.repeat(3),
        )
    }

    #[test]
    fn chrome_kinds_never_reach_the_document_under_any_rules() {
        let site = {
            let mut r = Rules::generic();
            r.name = "site".into();
            r.content = vec![Css::parse(".body-text").unwrap()];
            r
        };
        let url = Url::parse("https://www.example.int/topics/testland.htm").unwrap();
        let slot = |i: usize, html: &'static str| {
            let mut slots = [""; 4];
            slots[i] = html;
            slots
        };
        let (top, meta, inner, bottom) = (0, 1, 2, 3);
        let cases: Vec<(&str, [&str; 4])> = vec![
            ("share counter", slot(meta, "<p>1.2K shares</p>")),
            ("view counter", slot(meta, "<div>Views: 1,234</div>")),
            ("eye counter", slot(inner, "<p>\u{1f441} 345</p>")),
            ("reading time", slot(meta, "<p>5 MIN READ</p>")),
            (
                "meta line",
                slot(
                    meta,
                    "<p>3 May 2023 \u{b7} 4 min read \u{b7} 12 comments</p>",
                ),
            ),
            ("relative date", slot(meta, "<span>3 hours ago</span>")),
            (
                "share bar",
                slot(
                    inner,
                    "<div><a href=https://facebook.com/sharer?u=x>Facebook</a> <a href=https://x.com/intent?u=x>X</a> <a href=mailto:?body=x>Email</a> <a href=#print>Print</a></div>",
                ),
            ),
            (
                "share bar by class",
                slot(
                    inner,
                    "<div class=a2a_kit><a href=https://x.com/s>Post this</a></div>",
                ),
            ),
            (
                "language picker by hreflang",
                slot(
                    top,
                    "<ul><li><a hreflang=fr href=/fr/>Fran\u{e7}ais</a></li><li><a hreflang=ru href=/ru/>\u{420}\u{443}\u{441}\u{441}\u{43a}\u{438}\u{439}</a></li></ul>",
                ),
            ),
            (
                "language picker by text",
                slot(meta, "<p>EN | FR | RU | UK</p>"),
            ),
            (
                "cookie banner",
                slot(
                    top,
                    "<div id=notice><p>We use cookies to improve this site. <a href=/privacy>Accept all cookies</a></p></div>",
                ),
            ),
            (
                "announcement banner",
                slot(
                    top,
                    "<div class=\"site-alert\"><p>The building is closed on Friday for a public holiday in the city.</p></div>",
                ),
            ),
            (
                "breadcrumb",
                slot(meta, "<p>Home \u{203a} Topics \u{203a} Testland</p>"),
            ),
            (
                "related news",
                slot(
                    bottom,
                    "<div><h2>Related news</h2><ul><li><a href=/n/1>Ministers meet in Brussels on the declaration</a></li><li><a href=/n/2>Partners sign new agreement on cooperation</a></li></ul></div>",
                ),
            ),
            (
                "related news at the end of the body",
                slot(
                    bottom,
                    "<h3>More news</h3><ul><li><a href=/n/3>A story of the day about the summit</a></li></ul>",
                ),
            ),
            (
                "back to top",
                slot(inner, "<p><a href=#top>Back to top</a></p>"),
            ),
            (
                "skip link",
                slot(top, "<a href=#content>Skip to main content</a>"),
            ),
            (
                "footer year",
                slot(
                    bottom,
                    "<div>\u{a9} 2026 Example Organization. All rights reserved.</div>",
                ),
            ),
            ("same-page anchor under another file name", slot(inner, "")),
        ];
        let base_html = noisy_page(true, [""; 4]);
        for with_main in [true, false] {
            for rules in [Rules::generic(), site.clone()] {
                let base = extract(&noisy_page(with_main, [""; 4]), Some(&url), &rules).unwrap();
                assert!(base.block_count() >= 3, "{}", rules.name);
                for (what, slots) in &cases {
                    let mut html = noisy_page(with_main, *slots);
                    if *what == "same-page anchor under another file name" {
                        html =
                            html.replace("href=\"#evolution\"", "href=\"testland.htm#evolution\"");
                    }
                    let d = extract(&html, Some(&url), &rules).unwrap();
                    assert_eq!(
                        d.sections, base.sections,
                        "{what} under {} (main: {with_main})",
                        rules.name
                    );
                }
            }
        }
        // The same page read from a local file (no URL): same document in any
        // folder, and the same-page link is its fragment.
        let d = extract(&base_html, None, &Rules::generic()).unwrap();
        let hrefs: Vec<&str> = d
            .sections
            .iter()
            .flat_map(|s| &s.blocks)
            .flat_map(|b| &b.links)
            .map(|l| l.href.as_str())
            .collect();
        assert_eq!(hrefs, ["#evolution", "/topics/other.htm"]);
    }

    #[test]
    fn content_that_mentions_chrome_words_is_kept() {
        let long = "Allies and partners agreed on the text of the declaration after long talks. ";
        let kept = [
            "Belarus shares a border with three Allies.",
            "The page had 1,234 views in 2024, the survey says.",
            "The \u{a9} mark and the year 2024 appear on the cover, the office said.",
            "Share of GDP spent on defence rose in 2024.",
            "English and French are the official languages.",
        ];
        for text in kept {
            let html = format!(
                "<body><main><p>{}</p><p>{text}</p></main></body>",
                long.repeat(3)
            );
            for rules in [Rules::generic(), nato()] {
                let d = extract(&html, None, &rules);
                let Ok(d) = d else { continue };
                assert!(
                    d.sections
                        .iter()
                        .flat_map(|s| &s.blocks)
                        .any(|b| b.text == text),
                    "{text} under {}",
                    rules.name
                );
            }
        }
    }

    #[test]
    fn drop_selectors_ignore_text_and_base_href() {
        let mut rules = generic(1);
        rules.drop = vec![Css::parse(".promo").unwrap()];
        rules.ignore_text = vec![regex::Regex::new(r"\(ref\. [0-9a-f]+\)").unwrap()];
        let html = "<head><base href=\"/en/\"></head><body><main>\
                    <div class=promo><p>Subscribe now</p></div>\
                    <p>Text (ref. 8f3a) with <a href=\"page.htm\">a link</a>.</p>\
                    <p>(ref. 99)</p></main></body>";
        let base = Url::parse("https://www.nato.int/cps/x.htm").unwrap();
        let d = extract(html, Some(&base), &rules).unwrap();
        let blocks = &d.sections[0].blocks;
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].text, "Text with a link.");
        assert_eq!(blocks[0].links[0].href, "https://www.nato.int/en/page.htm");
    }
}
