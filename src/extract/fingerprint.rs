//! The source fingerprint: a hash of exactly what [`super::extract`] can read
//! of a page, taken in one streaming pass without building a tree, so that a
//! check can call a page unchanged without extracting it.
//!
//! The promise is one-way: two pages (under the same rules, extractor version
//! and URL) with the same fingerprint extract to the same document. Pages
//! that would extract the same may still differ (the check then extracts;
//! that costs time, never correctness).
//!
//! What is left out, and why extraction cannot see it:
//!
//! - the text of comments (their place is kept: a comment splits a text node,
//!   and some tests count text nodes; nothing reads a comment's text);
//! - attributes nobody reads ([`READ_ATTRIBUTES`] lists those the extractor,
//!   the stamp reader and the HTML tree builder read; the rules' own selectors
//!   add theirs): a CSRF token in a hidden input's `value`, a script `nonce`,
//!   `data-*` tracking ids, `src`, `width`...;
//! - the `content` of a `<meta>` that no stamp or link rule reads (a CSRF
//!   meta tag; see `meta_content_read`);
//! - how a start tag is spelled: attribute order, quotes, spacing, case of the
//!   names, repeated attributes after the first (HTML keeps the first).
//!
//! - the text of a `<script>` whose `type` does not name JSON: extraction
//!   never reads it (the walk skips scripts, and whole-element text is read
//!   through `chrome::visible_text`, which leaves them out); JSON-LD scripts
//!   are hashed, since the stamp reader reads their `dateModified`.
//!
//! Everything else is hashed as served: text (styles and `<noscript>`
//! included), end tags, doctype. Inside SVG and MathML the tree builder and a streaming tokenizer
//! may disagree about where raw text starts, so such a region is hashed
//! byte for byte until it closes the way the tree builder closes it (see
//! `Region`); when it does not, the rest of the page is.
//!
//! Two modes ([`Mode`]): the markup mode above holds for documents whose
//! content root was chosen from the markup alone (a configured selector,
//! `main` or `article`); a root found by the readability pass, the densest
//! block or `body` came from a pass that reads the whole page (dom_smoothie
//! reads any attribute), so such a snapshot is fingerprinted by its whole
//! decoded text.
//!
//! The streaming pass is lol_html's tokenizer, which simulates the tree
//! builder's switches to raw text; where it cannot tell (`<select>`,
//! `<frameset>`) it stops with an error, and the page gets no fingerprint.

use std::cell::RefCell;
use std::ops::Range;

use lol_html::html_content::{Comment, Doctype, Element, TextChunk, TextType};
use lol_html::{HtmlRewriter, Settings, doc_comments, doc_text, doctype, element};
use sha2::{Digest, Sha256};
use url::Url;

use crate::document::Document;
use crate::target::Rules;

/// Attributes that extraction reads, by name (lowercase), on any element:
/// the extractor's chrome, root, link and stamp code (`class`, `id`, `role`,
/// `hidden`, `aria-*`, `style`, `href`, `datetime`, `itemprop`...) and the
/// HTML tree builder (`type` of an `input` in a table, `color`/`face`/`size`
/// of a `font` in SVG, `encoding` of MathML's `annotation-xml`, declarative
/// shadow roots). A test reads the extractor's sources and fails when they
/// read an attribute missing here, so the list cannot drift from the code.
pub const READ_ATTRIBUTES: &[&str] = &[
    "alt",
    "aria-controls",
    "aria-hidden",
    "aria-label",
    "class",
    "color",
    "content",
    "data-bs-target",
    "data-cfemail",
    "data-target",
    "datetime",
    "encoding",
    "face",
    "hidden",
    "href",
    "hreflang",
    "http-equiv",
    "id",
    "itemprop",
    "lang",
    "name",
    "property",
    "rel",
    "role",
    "shadowrootclonable",
    "shadowrootdelegatesfocus",
    "shadowrootmode",
    "shadowrootserializable",
    "size",
    "style",
    "type",
];

/// `<meta>` names (`name`, `property`, `itemprop` or `http-equiv`, trimmed and
/// lowercased) whose `content` a link rule reads (`og:url`, the page's own
/// address); the stamp's are [`super::META_MODIFIED`].
const META_CONTENT_LINKS: &[&str] = &["og:url"];

/// Version of the fingerprint's own scheme, hashed first: bump it when what
/// is hashed changes, so that fingerprints stored before never match.
const SCHEME: u32 = 1;

/// How a snapshot's fingerprint was taken; the prefix of the stored text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// What extraction reads of the markup (see the module docs), for
    /// documents whose content root the markup alone decided.
    Markup,
    /// The whole decoded text, for documents whose root a whole-page pass
    /// (readability, densest block, `body`) found.
    Raw,
}

impl Mode {
    /// The mode a fingerprint for `document` (extracted with `rules`) must
    /// be taken in: [`Mode::Markup`] when its content root is a configured
    /// selector that matched, `main` or `article` (found before the
    /// readability pass runs), else [`Mode::Raw`].
    pub fn for_document(document: &Document, rules: &Rules) -> Mode {
        let root = &document.meta.root;
        let configured = !rules.content.is_empty() && !root.fallback;
        if configured || matches!(root.selector.as_str(), "main" | "article") {
            Mode::Markup
        } else {
            Mode::Raw
        }
    }

    /// The mode of a stored fingerprint, from its prefix; `None` for text
    /// this scheme did not write (it never matches).
    pub fn of_stored(stored: &str) -> Option<Mode> {
        let (prefix, _) = stored.split_once(':')?;
        match prefix {
            p if p == format!("m{SCHEME}") => Some(Mode::Markup),
            p if p == format!("r{SCHEME}") => Some(Mode::Raw),
            _ => None,
        }
    }

    fn prefix(self) -> String {
        match self {
            Mode::Markup => format!("m{SCHEME}"),
            Mode::Raw => format!("r{SCHEME}"),
        }
    }
}

/// The fingerprint of `html` (a decoded page) as [`super::extract`] with
/// `rules` and base URL `base` reads it, in `mode`: `m1:` or `r1:` and 64 hex
/// digits (SHA-256). The extractor version and the rules' fingerprint are
/// hashed in, so a new extractor or edited rules never match an old one.
///
/// `None` when the streaming tokenizer cannot follow the page (markup whose
/// parsing depends on a tree it does not build, such as raw-text elements in
/// a `<select>`): such a page is always extracted.
pub fn fingerprint(html: &str, base: &Url, rules: &Rules, mode: Mode) -> Option<String> {
    let mut h = Sha256::new();
    frame(&mut h, b'V', b"redliner source fingerprint");
    frame(&mut h, b'V', SCHEME.to_string().as_bytes());
    frame(
        &mut h,
        b'V',
        super::EXTRACTOR_VERSION.to_string().as_bytes(),
    );
    frame(&mut h, b'R', rules.fingerprint().as_bytes());
    frame(&mut h, b'U', base.as_str().as_bytes());
    let h = match mode {
        Mode::Raw => {
            frame(&mut h, b'G', html.as_bytes());
            h
        }
        Mode::Markup => markup(html, h, &Policy::for_rules(rules))?,
    };
    Some(format!("{}:{}", mode.prefix(), hex::encode(h.finalize())))
}

/// The fingerprint to store with a snapshot of `html` whose extraction (with
/// `rules`, base `base`) gave `document`: in [`Mode::for_document`].
pub fn for_document(html: &str, base: &Url, rules: &Rules, document: &Document) -> Option<String> {
    fingerprint(html, base, rules, Mode::for_document(document, rules))
}

/// True when `html`'s fingerprint, taken in the mode of `stored` (a
/// snapshot's), equals `stored`: the page extracts to that snapshot's
/// document.
pub fn matches(stored: &str, html: &str, base: &Url, rules: &Rules) -> bool {
    Mode::of_stored(stored)
        .and_then(|mode| fingerprint(html, base, rules, mode))
        .is_some_and(|now| now == stored)
}

/// One framed item: a tag byte, the length, the bytes (so that no two
/// sequences of items hash alike).
fn frame(h: &mut Sha256, tag: u8, bytes: &[u8]) {
    h.update([tag]);
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// Which attributes are hashed.
#[derive(Debug)]
enum Policy {
    /// [`READ_ATTRIBUTES`] plus those the rules' selectors name.
    Read(Vec<String>),
    /// Every attribute: the rules' selectors read attributes in ways not
    /// worked out here (escapes, pseudo-classes such as `:checked`).
    All,
}

impl Policy {
    fn for_rules(rules: &Rules) -> Policy {
        let sources = rules
            .title
            .iter()
            .chain(&rules.content)
            .chain(&rules.drop)
            .chain(&rules.stamp)
            .map(|c| c.source.as_str());
        let mut extra = Vec::new();
        for source in sources {
            match selector_attributes(source) {
                Some(names) => extra.extend(names),
                None => return Policy::All,
            }
        }
        Policy::Read(extra)
    }

    fn reads(&self, name: &str) -> bool {
        match self {
            Policy::All => true,
            Policy::Read(extra) => {
                READ_ATTRIBUTES.binary_search(&name).is_ok() || extra.iter().any(|e| e == name)
            }
        }
    }
}

/// Pseudo-classes that read no attribute (only the tree, which is hashed).
const STRUCTURAL_PSEUDO: &[&str] = &[
    "empty",
    "first-child",
    "first-of-type",
    "has",
    "is",
    "last-child",
    "last-of-type",
    "not",
    "nth-child",
    "nth-last-child",
    "nth-last-of-type",
    "nth-of-type",
    "only-child",
    "only-of-type",
    "root",
    "scope",
    "where",
];

/// The attribute names a configured selector reads (lowercase; `class` and
/// `id` are always read), or `None` when the selector is not simple enough
/// to tell (an escape, a namespace, a pseudo-class that reads attributes):
/// then every attribute is hashed.
fn selector_attributes(source: &str) -> Option<Vec<String>> {
    if source.contains('\\') {
        return None;
    }
    let mut names = Vec::new();
    let bytes = source.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' | b'\'' => quote = Some(b),
            b'[' => {
                let rest = source[i + 1..].trim_start();
                let len = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                    .unwrap_or(rest.len());
                let after = rest[len..].trim_start();
                // `[ns|attr]` and `[*|attr]` name namespaces; `|=` is a match.
                if len == 0 || (after.starts_with('|') && !after.starts_with("|=")) {
                    return None;
                }
                names.push(rest[..len].to_ascii_lowercase());
            }
            b':' => {
                let rest = source[i + 1..].trim_start_matches(':');
                let len = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                    .unwrap_or(rest.len());
                if !STRUCTURAL_PSEUDO.contains(&rest[..len].to_ascii_lowercase().as_str()) {
                    return None;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Some(names)
}

/// Whether extraction can read this `<meta>`'s `content`, from its other
/// attributes (first occurrences, names lowercase): when it has a class or
/// an `itemprop` (the stamp's classed elements), or names a modification
/// date or the page's address. A CSRF token's `<meta name="csrf-token">`
/// is none of these.
fn meta_content_read(attrs: &[(String, String)]) -> bool {
    attrs.iter().any(|(name, value)| match name.as_str() {
        "class" | "itemprop" => true,
        "name" | "property" | "http-equiv" => {
            let key = value.trim().to_ascii_lowercase();
            super::META_MODIFIED.contains(&key.as_str())
                || META_CONTENT_LINKS.contains(&key.as_str())
        }
        _ => false,
    })
}

/// Start tags that end SVG or MathML content in the tree builder
/// (HTML's "breakout" list, html5ever's `unexpected_start_tag_in_foreign_content`).
const BREAKOUT: &[&str] = &[
    "b",
    "big",
    "blockquote",
    "body",
    "br",
    "center",
    "code",
    "dd",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "hr",
    "i",
    "img",
    "li",
    "listing",
    "menu",
    "meta",
    "nobr",
    "ol",
    "p",
    "pre",
    "ruby",
    "s",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tt",
    "u",
    "ul",
    "var",
];

/// SVG and MathML elements whose content the tree builder parses as HTML.
const INTEGRATION_POINTS: &[&str] = &[
    "annotation-xml",
    "desc",
    "foreignobject",
    "mi",
    "mn",
    "mo",
    "ms",
    "mtext",
    "title",
];

/// An open SVG or MathML subtree, hashed byte for byte. It closes when its
/// elements have closed in order (each end tag naming the innermost open
/// element), as both the tree builder and the tokenizer then agree they are
/// back in HTML. Anything else (an HTML element breaking out, an end tag out
/// of order, a start tag inside an integration point, a doctype) leaves the
/// rest of the page hashed byte for byte.
#[derive(Debug)]
struct Region {
    /// Names of the open elements, outermost first.
    open: Vec<String>,
    /// End of the last token the tokenizer reported inside the region: the
    /// bytes from here to the next token can only be end tags.
    last_end: usize,
}

/// The state of one markup pass.
struct Pass<'a> {
    input: &'a [u8],
    h: Sha256,
    /// Bytes before it are hashed.
    cursor: usize,
    policy: &'a Policy,
    region: Option<Region>,
    /// The rest of the page is hashed byte for byte.
    verbatim: bool,
    /// The tokenizer reported tokens out of order: no fingerprint.
    broken: bool,
    /// The last `<script>` opened may be read (JSON-LD: its `type` names
    /// JSON), so its text is hashed; any other script's text is left out.
    script_read: bool,
}

impl Pass<'_> {
    /// Hashes the bytes up to `range` as they are, then `canonical` for the
    /// token at `range`.
    fn replace(&mut self, range: Range<usize>, canonical: impl FnOnce(&mut Sha256)) {
        if range.start < self.cursor || range.end > self.input.len() {
            self.broken = true;
            return;
        }
        if range.start > self.cursor {
            frame(&mut self.h, b'G', &self.input[self.cursor..range.start]);
        }
        canonical(&mut self.h);
        self.cursor = range.end;
    }

    /// True while tokens are hashed as served (inside a region, or after
    /// one that did not close).
    fn raw(&self) -> bool {
        self.verbatim || self.region.is_some()
    }

    /// Follows a region up to a token starting at `start`: the bytes since
    /// the last token are end tags (the tokenizer reports everything else).
    fn region_gap(&mut self, start: usize) {
        let Some(region) = self.region.as_mut() else {
            return;
        };
        let gap = self.input.get(region.last_end..start).unwrap_or_default();
        let mut rest = gap;
        while !rest.is_empty() && !region.open.is_empty() {
            let Some((name, after)) = end_tag(rest) else {
                self.verbatim = true;
                self.region = None;
                return;
            };
            if region.open.last().is_some_and(|open| *open == name) {
                region.open.pop();
            } else {
                self.verbatim = true;
                self.region = None;
                return;
            }
            rest = after;
        }
        if region.open.is_empty() {
            self.region = None;
        }
    }

    fn element(&mut self, el: &Element<'_, '_>) {
        let range = el.source_location().bytes();
        if self.verbatim {
            return;
        }
        self.region_gap(range.start);
        if self.verbatim {
            return;
        }
        let name = el.tag_name();
        if let Some(region) = self.region.as_mut() {
            let inside_point = region
                .open
                .last()
                .is_some_and(|open| INTEGRATION_POINTS.contains(&open.as_str()));
            let breaks_out = BREAKOUT.contains(&name.as_str())
                || (name == "font"
                    && el
                        .attributes()
                        .iter()
                        .any(|a| matches!(a.name().as_str(), "color" | "face" | "size")));
            if inside_point || breaks_out {
                self.verbatim = true;
                self.region = None;
                return;
            }
            if !el.is_self_closing() {
                region.open.push(name);
            }
            region.last_end = range.end;
            return;
        }
        if name == "svg" || name == "math" {
            // The tokenizer enters foreign content even on `<svg/>`, which
            // the tree builder closes at once: they may disagree from there.
            if el.is_self_closing() {
                self.verbatim = true;
            } else {
                self.region = Some(Region {
                    open: vec![name],
                    last_end: range.end,
                });
            }
            return;
        }
        if name == "script" {
            self.script_read = el
                .get_attribute("type")
                .is_some_and(|t| t.to_ascii_lowercase().contains("json"));
        }
        let mut kept: Vec<(String, String)> = Vec::new();
        for a in el.attributes() {
            let attr = a.name();
            if self.policy.reads(&attr) && !kept.iter().any(|(k, _)| *k == attr) {
                kept.push((attr, a.value()));
            }
        }
        if name == "meta" && !matches!(self.policy, Policy::All) && !meta_content_read(&kept) {
            kept.retain(|(k, _)| k != "content" || self.policy.reads_from_rules("content"));
        }
        kept.sort();
        let self_closing = el.is_self_closing();
        self.replace(range, |h| {
            frame(h, b'T', name.as_bytes());
            h.update([u8::from(self_closing)]);
            for (k, v) in &kept {
                frame(h, b'A', k.as_bytes());
                frame(h, b'W', v.as_bytes());
            }
            h.update(b"E");
        });
    }

    fn comment(&mut self, c: &Comment<'_>) {
        let range = c.source_location().bytes();
        self.region_gap(range.start);
        if self.raw() {
            if let Some(region) = self.region.as_mut() {
                region.last_end = range.end;
            }
            return;
        }
        self.replace(range, |h| h.update(b"C"));
    }

    fn text(&mut self, t: &TextChunk<'_>) {
        if self.region.is_none() {
            // A script's text is never read but for JSON-LD (the stamp
            // reader's `dateModified`): left out, so a per-request token in
            // an inline script does not make every fetch look new.
            if !self.verbatim && t.text_type() == TextType::ScriptData && !self.script_read {
                self.replace(t.source_location().bytes(), |_| {});
            }
            return;
        }
        let range = t.source_location().bytes();
        self.region_gap(range.start);
        if let Some(region) = self.region.as_mut() {
            region.last_end = range.end;
        }
    }

    fn doctype(&mut self, d: &Doctype<'_>) {
        if self.region.is_some() {
            self.region_gap(d.source_location().bytes().start);
            if self.region.is_some() {
                self.verbatim = true;
                self.region = None;
            }
        }
    }
}

impl Policy {
    /// True when the rules' selectors (not the built-in list) name `attr`.
    fn reads_from_rules(&self, attr: &str) -> bool {
        match self {
            Policy::All => true,
            Policy::Read(extra) => extra.iter().any(|e| e == attr),
        }
    }
}

/// A plain end tag at the start of `bytes` (`</name>`, spaces allowed before
/// the `>`): its name, lowercase, and the bytes after it. Anything else
/// (attributes, a slash, a bogus form) is `None`.
fn end_tag(bytes: &[u8]) -> Option<(String, &[u8])> {
    let rest = bytes.strip_prefix(b"</")?;
    let len = rest
        .iter()
        .position(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>'))?;
    let name = &rest[..len];
    if !name.first()?.is_ascii_alphabetic() {
        return None;
    }
    let after = &rest[len..];
    let spaces = after.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let after = after[spaces..].strip_prefix(b">")?;
    let name = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    Some((name, after))
}

/// Hashes `html` in the markup mode into `h` (see the module docs); `None`
/// when the tokenizer gives up.
fn markup(html: &str, h: Sha256, policy: &Policy) -> Option<Sha256> {
    let pass = RefCell::new(Pass {
        input: html.as_bytes(),
        h,
        cursor: 0,
        policy,
        region: None,
        verbatim: false,
        broken: false,
        script_read: false,
    });
    {
        let settings = Settings::new()
            .append_element_content_handler(element!("*", |el| {
                pass.borrow_mut().element(el);
                Ok(())
            }))
            .append_document_content_handler(doc_comments!(|c| {
                pass.borrow_mut().comment(c);
                Ok(())
            }))
            .append_document_content_handler(doc_text!(|t| {
                pass.borrow_mut().text(t);
                Ok(())
            }))
            .append_document_content_handler(doctype!(|d| {
                pass.borrow_mut().doctype(d);
                Ok(())
            }));
        let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
        rewriter.write(html.as_bytes()).ok()?;
        rewriter.end().ok()?;
    }
    let mut pass = pass.into_inner();
    if pass.broken {
        return None;
    }
    let len = pass.input.len();
    pass.replace(len..len, |_| {});
    if pass.broken {
        return None;
    }
    pass.h.update(b"Z");
    Some(pass.h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://example.org/page").unwrap()
    }

    fn fp(html: &str) -> Option<String> {
        fingerprint(html, &url(), &Rules::generic(), Mode::Markup)
    }

    /// Every attribute the extractor's sources read by name (`attr("x")`,
    /// `[x]`/`[x=...]` in a selector string) is in [`READ_ATTRIBUTES`]: a new
    /// read fails here until the list has it.
    #[test]
    fn read_attributes_cover_every_attribute_the_extractor_reads() {
        let sources = [
            ("mod.rs", include_str!("mod.rs")),
            ("chrome.rs", include_str!("chrome.rs")),
            ("link.rs", include_str!("link.rs")),
            ("parse.rs", include_str!("parse.rs")),
            ("root.rs", include_str!("root.rs")),
            ("walk.rs", include_str!("walk.rs")),
            ("stamp.rs", include_str!("../stamp.rs")),
            ("layout.rs", include_str!("../layout.rs")),
        ];
        let call = regex::Regex::new(r#"attr\("([^"]+)"\)"#).unwrap();
        let literal = regex::Regex::new(r#""(?:[^"\\\n]|\\.)*""#).unwrap();
        let in_selector = regex::Regex::new(r"\[\s*([A-Za-z][\w-]*)\s*(?:\]|[~|^$*]?=)").unwrap();
        let mut read = Vec::new();
        for (file, source) in sources {
            // The library code only: tests hold pages full of attributes.
            let code = source.split("#[cfg(test)]").next().unwrap_or(source);
            read.extend(call.captures_iter(code).map(|c| (file, c[1].to_string())));
            // Regexes (escapes, groups, anchors) are not selectors.
            let selectors = literal.find_iter(code).filter(|l| {
                let l = l.as_str();
                !["(?", "^", "\\d", "\\s", "\\w", "\\b"]
                    .iter()
                    .any(|r| l.contains(r))
            });
            for lit in selectors {
                read.extend(
                    in_selector
                        .captures_iter(lit.as_str())
                        .map(|c| (file, c[1].to_ascii_lowercase())),
                );
            }
        }
        assert!(read.len() > 20, "the scan found too little: {read:?}");
        for (file, name) in read {
            assert!(
                READ_ATTRIBUTES.contains(&name.as_str()),
                "{file} reads `{name}`, missing from READ_ATTRIBUTES"
            );
        }
    }

    #[test]
    fn read_attributes_are_sorted_for_binary_search() {
        let mut sorted = READ_ATTRIBUTES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, READ_ATTRIBUTES);
    }

    #[test]
    fn what_extraction_ignores_leaves_the_fingerprint_alone() {
        let base = "<html><head><meta name=\"csrf-token\" content=\"A1\"><script nonce=\"N1\">var x = 1;</script></head>\
                    <body><!-- served by node 3 --><main class=\"m\"><p id=\"a\" data-track=\"1\">Text</p>\
                    <form><input type=\"hidden\" name=\"csrf\" value=\"T1\"></form></main></body></html>";
        let same = [
            base.replace("A1", "B2"),
            base.replace("N1", "N2"),
            base.replace("T1", "T2"),
            base.replace("served by node 3", "served by node 4"),
            base.replace("data-track=\"1\"", "data-track=\"2\""),
            base.replace("<p id=\"a\" data-track=\"1\">", "<P data-track='9'  ID=a>"),
            base.replace("class=\"m\"", "class=m class=other"),
            base.replace("var x = 1;", "window.SITE = { csrf: \"9f2c\" };"),
            base.replace("var x = 1;", ""),
        ];
        let old = fp(base).unwrap();
        for (i, page) in same.iter().enumerate() {
            assert_eq!(fp(page).unwrap(), old, "variant {i}");
        }
        let other = [
            base.replace("Text", "Texts"),
            base.replace(
                "<script nonce",
                "<script type=\"application/ld+json\" nonce",
            ),
            base.replace("id=\"a\"", "id=\"b\""),
            base.replace("class=\"m\"", "class=\"n\""),
            base.replace("<!-- served by node 3 -->", ""),
            base.replace("csrf-token", "dcterms.modified"),
            base.replace("type=\"hidden\"", "type=\"text\""),
        ];
        for (i, page) in other.iter().enumerate() {
            assert_ne!(fp(page).unwrap(), old, "variant {i}");
        }
    }

    #[test]
    fn meta_content_is_hashed_where_a_stamp_or_link_reads_it() {
        let page = |attrs: &str, content: &str| {
            fp(&format!(
                "<head><meta {attrs} content=\"{content}\"></head><main>x</main>"
            ))
            .unwrap()
        };
        let cases = [
            ("name=\"csrf-token\"", false),
            ("name=\"viewport\"", false),
            ("name=\"dcterms.modified\"", true),
            ("property=\" Article:Modified_Time \"", true),
            ("property=\"og:url\"", true),
            ("itemprop=\"anything\"", true),
            ("class=\"x\" name=\"csrf-token\"", true),
            ("http-equiv=\"last-modified\"", true),
        ];
        for (attrs, read) in cases {
            assert_eq!(page(attrs, "1") != page(attrs, "2"), read, "{attrs}");
        }
    }

    #[test]
    fn svg_is_hashed_byte_for_byte_until_it_closes_in_order() {
        let page = |svg: &str, tail: &str| {
            fp(&format!(
                "<main><p>x</p>{svg}<p>y</p><!--{tail}--><p data-x=\"{tail}\">z</p></main>"
            ))
            .unwrap()
        };
        // Closed in order: the comment and attribute after it are left out.
        let closed = "<svg viewBox=\"0 0 1 1\"><title>Icon</title><g><path d=\"M0\"/></g></svg>";
        assert_eq!(page(closed, "1"), page(closed, "2"));
        // Inside the region everything counts.
        assert_ne!(page(closed, "1"), page(&closed.replace("M0", "M1"), "1"));
        // Closed out of order, self-closed or broken out of: the rest counts.
        for open in [
            "<svg><g></svg>",
            "<svg/>",
            "<svg><p>inside</p></svg>",
            "<svg><title><b>x</b></title></svg>",
            "<math><mi>x</mi>",
        ] {
            assert_ne!(page(open, "1"), page(open, "2"), "{open}");
        }
    }

    #[test]
    fn ambiguous_markup_gets_no_fingerprint() {
        assert_eq!(fp("<select><xmp><script>x</script></select>"), None);
        assert!(fp("<p>plain</p>").is_some());
    }

    #[test]
    fn rules_selectors_add_their_attributes_or_all() {
        let cases: &[(&str, Option<&[&str]>)] = &[
            ("section.content", Some(&[])),
            ("div[data-role=main] > p", Some(&["data-role"])),
            ("[ Data-X |= \"a\"]", Some(&["data-x"])),
            ("main:not(.x):first-child", Some(&[])),
            ("a[title='x:y[z']", Some(&["title"])),
            ("input:checked", None),
            ("[*|href]", None),
            ("#a\\:b", None),
        ];
        for (source, want) in cases {
            let got = selector_attributes(source);
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(got, want, "{source}");
        }
    }

    #[test]
    fn modes_follow_the_content_root() {
        use crate::document::{ContentRoot, DocumentMeta};
        let doc = |selector: &str, fallback: bool| Document {
            meta: DocumentMeta {
                root: ContentRoot {
                    selector: selector.into(),
                    fallback,
                },
                ..DocumentMeta::default()
            },
            sections: Vec::new(),
        };
        let generic = Rules::generic();
        let mut configured = Rules::generic();
        configured.content = vec![crate::target::Css::parse("body").unwrap()];
        let cases = [
            (&generic, "main", false, Mode::Markup),
            (&generic, "article", false, Mode::Markup),
            (&generic, "readability", false, Mode::Raw),
            (&generic, "densest-block", false, Mode::Raw),
            (&generic, "body", false, Mode::Raw),
            (&configured, "body", false, Mode::Markup),
            (&configured, "main", true, Mode::Markup),
            (&configured, "readability", true, Mode::Raw),
        ];
        for (rules, selector, fallback, want) in cases {
            assert_eq!(
                Mode::for_document(&doc(selector, fallback), rules),
                want,
                "{selector}"
            );
        }
        let stored = fingerprint("<p>x</p>", &url(), &generic, Mode::Raw).unwrap();
        assert_eq!(Mode::of_stored(&stored), Some(Mode::Raw));
        assert!(matches(&stored, "<p>x</p>", &url(), &generic));
        assert!(!matches(&stored, "<p>x</p> ", &url(), &generic));
        assert_eq!(Mode::of_stored("x9:abc"), None);
    }

    #[test]
    fn the_rules_and_the_url_are_part_of_the_fingerprint() {
        let mut other = Rules::generic();
        other.min_text_chars += 1;
        let page = "<main><p>x</p></main>";
        let a = fingerprint(page, &url(), &Rules::generic(), Mode::Markup);
        let b = fingerprint(page, &url(), &other, Mode::Markup);
        let c = fingerprint(
            page,
            &Url::parse("https://example.org/other").unwrap(),
            &Rules::generic(),
            Mode::Markup,
        );
        assert_ne!(a, b);
        assert_ne!(a, c);
    }
}
