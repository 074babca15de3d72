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
//!   never a formatting element's attributes, though (`a`, `b`, `i`,
//!   `font`...: the tree builder compares their values), nor the `content`
//!   or text of a `<meta>` or `<script type>` whose deciding value holds a
//!   character reference (it may name a read one once decoded);
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
//! The source mask ([`SourceMask`]) spares most checks even that pass. The
//! pass that takes a snapshot's fingerprint also notes where the page's
//! left-out content lies (the values of unread attributes, comments' text,
//! scripts' text: [`Span`]s) and hashes everything else byte for byte, at
//! the same offsets. A later page whose bytes outside those spans are the
//! same, and whose bytes inside each span cannot end it early (no closing
//! quote in a quoted value, no `-` or `>` in a comment, no `</script` or
//! `<!--` in a script...: [`SpanKind`]), is tokenized into the same tokens
//! with only left-out content changed, so it has the snapshot's
//! fingerprint: one hash of the text instead of a tokenizer pass. A page
//! with a per-request token of the same length (a CSRF token, a nonce, a
//! request id) is the common case; any other page takes the pass.
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
const SCHEME: u32 = 2;

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
    with_mask(html, base, rules, mode).map(|s| s.fingerprint)
}

/// A page's fingerprint and its source mask, taken in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// As [`fingerprint`] returns it.
    pub fingerprint: String,
    /// What a later page may differ in and keep this fingerprint.
    pub mask: SourceMask,
}

/// [`fingerprint`] and the page's [`SourceMask`], from one pass.
pub fn with_mask(html: &str, base: &Url, rules: &Rules, mode: Mode) -> Option<Source> {
    let h = header(base, rules);
    let masked = h.clone();
    let (h, spans) = match mode {
        Mode::Raw => {
            let mut h = h;
            frame(&mut h, b'G', html.as_bytes());
            (h, Vec::new())
        }
        Mode::Markup => markup(html, h, &Policy::for_rules(rules))?,
    };
    let digest = mask_digest(masked, mode, html.as_bytes(), &spans)?;
    Some(Source {
        fingerprint: format!("{}:{}", mode.prefix(), hex::encode(h.finalize())),
        mask: SourceMask { digest, spans },
    })
}

/// The hash state every fingerprint and mask digest of a page under `rules`
/// at `base` starts from: the scheme, the extractor version, the rules, the
/// URL.
fn header(base: &Url, rules: &Rules) -> Sha256 {
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
    h
}

/// The fingerprint to store with a snapshot of `html` whose extraction (with
/// `rules`, base `base`) gave `document`, in [`Mode::for_document`], with
/// its mask.
pub fn for_document(html: &str, base: &Url, rules: &Rules, document: &Document) -> Option<Source> {
    with_mask(html, base, rules, Mode::for_document(document, rules))
}

/// [`for_document`], given what a pass over the same `html` (same `base`
/// and `rules`) already took, if anything: kept when it is in the mode the
/// document needs, else taken again.
pub fn for_document_from(
    taken: Option<Source>,
    html: &str,
    base: &Url,
    rules: &Rules,
    document: &Document,
) -> Option<Source> {
    let mode = Mode::for_document(document, rules);
    match taken {
        Some(s) if Mode::of_stored(&s.fingerprint) == Some(mode) => Some(s),
        _ => with_mask(html, base, rules, mode),
    }
}

/// How a page compares with a snapshot's stored fingerprint and mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The page fits the stored mask: it has the stored fingerprint, and no
    /// tokenizer pass was needed.
    Masked,
    /// The pass found the stored fingerprint; the page's own mask, to store
    /// in place of the old one (which the page did not fit, or which was
    /// missing).
    Whole(SourceMask),
    /// Another fingerprint (or none could be taken): extract the page. With
    /// the page's fingerprint and mask when the pass took them (in the
    /// stored fingerprint's mode), which the new snapshot may keep.
    No(Option<Source>),
}

/// Compares `html` with a snapshot's stored fingerprint `stored` and mask
/// `mask` (its [`SourceMask::to_bytes`], when stored): the mask first, then
/// the tokenizer pass in the mode of `stored`. Either way a match means the
/// page extracts to that snapshot's document.
pub fn compare(stored: &str, mask: Option<&[u8]>, html: &str, base: &Url, rules: &Rules) -> Match {
    let Some(mode) = Mode::of_stored(stored) else {
        return Match::No(None);
    };
    if let Some(mask) = mask.and_then(SourceMask::from_bytes)
        && mask.fits(header(base, rules), mode, html.as_bytes())
    {
        return Match::Masked;
    }
    match with_mask(html, base, rules, mode) {
        Some(now) if now.fingerprint == stored => Match::Whole(now.mask),
        now => Match::No(now),
    }
}

/// A byte range of a page's decoded text whose content the fingerprint
/// leaves out, and what may not appear in it on a later page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// What the bytes are.
    pub kind: SpanKind,
}

/// What a [`Span`] holds, which says what would end it early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// An unread attribute's value in double quotes: a `"` would end it.
    DoubleQuoted,
    /// An unread attribute's value in single quotes: a `'` would end it.
    SingleQuoted,
    /// An unread attribute's unquoted value: white space or `>` would end
    /// it, a quote at its start would make it quoted.
    Unquoted,
    /// A comment's text: `-` and `>` (of `-->`, `--!>`, `<!-->`) and `<` are
    /// kept out.
    Comment,
    /// A script's text (not JSON): `</script` (any case) would end it,
    /// `<!--` would switch the tokenizer to the escaped states.
    Script,
}

impl SpanKind {
    const ALL: [SpanKind; 5] = [
        SpanKind::DoubleQuoted,
        SpanKind::SingleQuoted,
        SpanKind::Unquoted,
        SpanKind::Comment,
        SpanKind::Script,
    ];

    fn code(self) -> u8 {
        match self {
            SpanKind::DoubleQuoted => 0,
            SpanKind::SingleQuoted => 1,
            SpanKind::Unquoted => 2,
            SpanKind::Comment => 3,
            SpanKind::Script => 4,
        }
    }

    /// True when `bytes`, in a span of this kind, leave it where it was.
    fn holds(self, bytes: &[u8]) -> bool {
        match self {
            SpanKind::DoubleQuoted => !bytes.contains(&b'"'),
            SpanKind::SingleQuoted => !bytes.contains(&b'\''),
            SpanKind::Unquoted => !bytes.iter().any(|b| {
                matches!(
                    b,
                    b'\t' | b'\n' | b'\x0C' | b'\r' | b' ' | b'>' | b'"' | b'\''
                )
            }),
            SpanKind::Comment => !bytes.iter().any(|b| matches!(b, b'-' | b'>' | b'<')),
            SpanKind::Script => {
                !bytes.windows(4).any(|w| w == b"<!--")
                    && !bytes
                        .windows(8)
                        .any(|w| w[..2] == *b"</" && w[2..].eq_ignore_ascii_case(b"script"))
            }
        }
    }
}

/// Where a snapshot's page may differ from a later page that keeps its
/// fingerprint ([`Span`]s), and a SHA-256 digest of everything else: the
/// header of [`fingerprint`], the mode, the text's length, and the bytes
/// outside the spans with each span's kind and length in its place.
///
/// Stored as [`SourceMask::to_bytes`]: a version byte (1), the 32-byte
/// digest, then per span two LEB128 numbers, the gap since the previous
/// span's end times 8 plus the kind's code, and the length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMask {
    digest: [u8; 32],
    spans: Vec<Span>,
}

impl SourceMask {
    /// The spans, in order, apart.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// The stored form (see the type's docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(33 + 4 * self.spans.len());
        out.push(1);
        out.extend_from_slice(&self.digest);
        let mut at = 0;
        for s in &self.spans {
            leb128(
                &mut out,
                ((s.start - at) as u64) << 3 | u64::from(s.kind.code()),
            );
            leb128(&mut out, (s.end - s.start) as u64);
            at = s.end;
        }
        out
    }

    /// Reads [`SourceMask::to_bytes`]; `None` for bytes it did not write.
    pub fn from_bytes(bytes: &[u8]) -> Option<SourceMask> {
        let (&version, rest) = bytes.split_first()?;
        if version != 1 || rest.len() < 32 {
            return None;
        }
        let (digest, mut rest) = rest.split_at(32);
        let mut spans = Vec::new();
        let mut at = 0usize;
        while !rest.is_empty() {
            let head = read_leb128(&mut rest)?;
            let len = usize::try_from(read_leb128(&mut rest)?).ok()?;
            let kind = *SpanKind::ALL.get(usize::try_from(head & 7).ok()?)?;
            let start = at.checked_add(usize::try_from(head >> 3).ok()?)?;
            let end = start.checked_add(len)?;
            spans.push(Span { start, end, kind });
            at = end;
        }
        Some(SourceMask {
            digest: digest.try_into().ok()?,
            spans,
        })
    }

    /// True when `text` fits this mask: the same digest with its bytes
    /// outside the spans, and bytes inside each span that leave it where it
    /// was. `header` is [`header`] for the page's base URL and rules.
    fn fits(&self, header: Sha256, mode: Mode, text: &[u8]) -> bool {
        mask_digest(header, mode, text, &self.spans) == Some(self.digest)
            && self
                .spans
                .iter()
                .all(|s| s.kind.holds(&text[s.start..s.end]))
    }
}

/// The digest of [`SourceMask`] for `text` with `spans`; `None` when a span
/// lies outside the text.
fn mask_digest(mut h: Sha256, mode: Mode, text: &[u8], spans: &[Span]) -> Option<[u8; 32]> {
    frame(&mut h, b'Q', mode.prefix().as_bytes());
    h.update((text.len() as u64).to_le_bytes());
    let mut at = 0;
    for s in spans {
        if s.start < at || s.end > text.len() {
            return None;
        }
        frame(&mut h, b'G', &text[at..s.start]);
        h.update([s.kind.code()]);
        h.update(((s.end - s.start) as u64).to_le_bytes());
        at = s.end;
    }
    frame(&mut h, b'G', &text[at..]);
    Some(h.finalize().into())
}

/// Appends `n` as LEB128 (seven bits a byte, low first).
fn leb128(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads one LEB128 number off the front of `bytes`.
fn read_leb128(bytes: &mut &[u8]) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        n |= u64::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            return Some(n);
        }
    }
    None
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

/// HTML's formatting elements (the "list of active formatting elements"):
/// the tree builder compares their attributes' values (WHATWG HTML 13.2.4.3,
/// the "Noah's Ark" clause).
const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
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
    /// The left-out content's places so far, in order ([`SourceMask`]).
    spans: Vec<Span>,
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

    /// Notes a span of left-out content; a script's text given in pieces is
    /// one span (so no piece can end where the next begins a `</script`).
    fn span(&mut self, start: usize, end: usize, kind: SpanKind) {
        if start >= end {
            return;
        }
        if let Some(last) = self.spans.last_mut()
            && last.end == start
            && last.kind == kind
            && kind == SpanKind::Script
        {
            last.end = end;
            return;
        }
        self.spans.push(Span { start, end, kind });
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
            // The value as served: a character reference (`ld+&#106;son`)
            // may spell JSON once decoded, so one makes the text read too.
            self.script_read = el
                .get_attribute("type")
                .is_some_and(|t| t.to_ascii_lowercase().contains("json") || t.contains('&'));
        }
        // A formatting element's attributes all count in the tree builder
        // (the list of active formatting elements holds at most three
        // with the same name and attributes, so values decide how many are
        // reopened): every one is hashed, none left out.
        let every = matches!(self.policy, Policy::All) || FORMATTING.contains(&name.as_str());
        let mut kept: Vec<(String, String)> = Vec::new();
        // Every attribute's name, in order: the mask's spans are taken only
        // when a plain reading of the tag finds the same ones.
        let mut names: Vec<String> = Vec::new();
        for a in el.attributes() {
            let attr = a.name();
            if (every || self.policy.reads(&attr)) && !kept.iter().any(|(k, _)| *k == attr) {
                kept.push((attr.clone(), a.value()));
            }
            names.push(attr);
        }
        let mut content_left_out = false;
        // A character reference in a value that decides (`article&#58;modified_time`)
        // may name a read `content` once decoded: then it is read.
        if name == "meta"
            && !every
            && !meta_content_read(&kept)
            && !kept.iter().any(|(_, v)| v.contains('&'))
        {
            content_left_out = !self.policy.reads_from_rules("content");
            kept.retain(|(k, _)| k != "content" || !content_left_out);
        }
        kept.sort();
        if !every
            && let Some(attrs) = tag_attributes(self.input.get(range.clone()).unwrap_or_default())
            && attrs.len() == names.len()
            && attrs.iter().zip(&names).all(|(a, n)| a.name == *n)
        {
            for a in attrs {
                let left_out =
                    !self.policy.reads(&a.name) || (content_left_out && a.name == "content");
                if let (true, Some((value, kind))) = (left_out, a.value) {
                    self.span(range.start + value.start, range.start + value.end, kind);
                }
            }
        }
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
        // The text between `<!--` and `-->`, when the comment is spelled so.
        let bytes = self.input.get(range.clone()).unwrap_or_default();
        if bytes.len() >= 7 && bytes.starts_with(b"<!--") && bytes.ends_with(b"-->") {
            self.span(range.start + 4, range.end - 3, SpanKind::Comment);
        }
        self.replace(range, |h| h.update(b"C"));
    }

    fn text(&mut self, t: &TextChunk<'_>) {
        if self.region.is_none() {
            // A script's text is never read but for JSON-LD (the stamp
            // reader's `dateModified`): left out, so a per-request token in
            // an inline script does not make every fetch look new.
            if !self.verbatim && t.text_type() == TextType::ScriptData && !self.script_read {
                let range = t.source_location().bytes();
                self.span(range.start, range.end, SpanKind::Script);
                self.replace(range, |_| {});
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

/// One attribute of a start tag as [`tag_attributes`] reads it.
#[derive(Debug, PartialEq, Eq)]
struct TagAttribute {
    /// Its name, ASCII lowercase.
    name: String,
    /// Its value's place in the tag and how it is quoted; `None` for an
    /// attribute without a value.
    value: Option<(Range<usize>, SpanKind)>,
}

/// The attributes of the start tag `tag` (`<name ...>`, as served), read as
/// the HTML tokenizer's attribute states read them (WHATWG HTML, 13.2.5.32
/// to 13.2.5.40), with each value's place; `None` when `tag` is not a
/// start tag that ends with `>`.
fn tag_attributes(tag: &[u8]) -> Option<Vec<TagAttribute>> {
    let space = |b: u8| matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ');
    if tag.first() != Some(&b'<') || tag.last() != Some(&b'>') {
        return None;
    }
    let mut i = 1;
    while i < tag.len() && !space(tag[i]) && !matches!(tag[i], b'/' | b'>') {
        i += 1;
    }
    let mut out: Vec<TagAttribute> = Vec::new();
    loop {
        // Before an attribute's name: white space and stray slashes.
        while i < tag.len() && (space(tag[i]) || tag[i] == b'/') {
            i += 1;
        }
        if i >= tag.len() || tag[i] == b'>' {
            return (i == tag.len() - 1).then_some(out);
        }
        // The name: a leading `=` belongs to it.
        let start = i;
        i += 1;
        while i < tag.len() && !space(tag[i]) && !matches!(tag[i], b'/' | b'>' | b'=') {
            i += 1;
        }
        let name = String::from_utf8_lossy(&tag[start..i]).to_ascii_lowercase();
        while i < tag.len() && space(tag[i]) {
            i += 1;
        }
        if tag.get(i) != Some(&b'=') {
            out.push(TagAttribute { name, value: None });
            continue;
        }
        i += 1;
        while i < tag.len() && space(tag[i]) {
            i += 1;
        }
        let value = match tag.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let from = i + 1;
                let len = tag[from..].iter().position(|&b| b == q)?;
                i = from + len + 1;
                let kind = if q == b'"' {
                    SpanKind::DoubleQuoted
                } else {
                    SpanKind::SingleQuoted
                };
                Some((from..from + len, kind))
            }
            Some(b'>') | None => None,
            Some(_) => {
                let from = i;
                while i < tag.len() && !space(tag[i]) && tag[i] != b'>' {
                    i += 1;
                }
                Some((from..i, SpanKind::Unquoted))
            }
        };
        out.push(TagAttribute { name, value });
    }
}

/// Hashes `html` in the markup mode into `h` (see the module docs), with the
/// spans of what it left out; `None` when the tokenizer gives up.
fn markup(html: &str, h: Sha256, policy: &Policy) -> Option<(Sha256, Vec<Span>)> {
    let pass = RefCell::new(Pass {
        input: html.as_bytes(),
        h,
        cursor: 0,
        policy,
        region: None,
        verbatim: false,
        broken: false,
        script_read: false,
        spans: Vec::new(),
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
    Some((pass.h, pass.spans))
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
        let raw = with_mask("<p>x</p>", &url(), &generic, Mode::Raw).unwrap();
        let mask = raw.mask.to_bytes();
        assert_eq!(
            compare(&stored, Some(&mask), "<p>x</p>", &url(), &generic),
            Match::Masked
        );
        assert!(matches!(
            compare(&stored, None, "<p>x</p>", &url(), &generic),
            Match::Whole(_)
        ));
        for mask in [Some(mask.as_slice()), None] {
            assert!(matches!(
                compare(&stored, mask, "<p>x</p> ", &url(), &generic),
                Match::No(Some(_))
            ));
        }
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

    fn mask_of(page: &str) -> (String, Vec<u8>, Vec<Span>) {
        let s = with_mask(page, &url(), &Rules::generic(), Mode::Markup).unwrap();
        (s.fingerprint, s.mask.to_bytes(), s.mask.spans().to_vec())
    }

    fn compared(stored: &(String, Vec<u8>, Vec<Span>), page: &str) -> Match {
        compare(&stored.0, Some(&stored.1), page, &url(), &Rules::generic())
    }

    const TOKENS: &str = "<html><head><meta name=\"csrf-token\" content=\"AAAA\">\
        <script nonce=\"N1N1\">var t = \"T1T1\"; if (a < b) {}</script></head>\
        <body><!-- node 11 --><main class=\"m\"><p data-id=q1q1 title='x1'>Text</p>\
        <input type=\"hidden\" name=\"_t\" value=\"V1V1\"></main></body></html>";

    #[test]
    fn the_mask_spans_what_the_fingerprint_leaves_out() {
        let (_, bytes, spans) = mask_of(TOKENS);
        let text = |s: &Span| &TOKENS[s.start..s.end];
        let got: Vec<(&str, SpanKind)> = spans.iter().map(|s| (text(s), s.kind)).collect();
        assert_eq!(
            got,
            [
                ("AAAA", SpanKind::DoubleQuoted),
                ("N1N1", SpanKind::DoubleQuoted),
                ("var t = \"T1T1\"; if (a < b) {}", SpanKind::Script),
                (" node 11 ", SpanKind::Comment),
                ("q1q1", SpanKind::Unquoted),
                ("x1", SpanKind::SingleQuoted),
                ("V1V1", SpanKind::DoubleQuoted),
            ]
        );
        // `class`, `type`, `name` are read: never spanned.
        assert_eq!(SourceMask::from_bytes(&bytes).unwrap().spans(), spans);
        assert_eq!(SourceMask::from_bytes(&bytes).unwrap().to_bytes(), bytes);
        assert_eq!(SourceMask::from_bytes(&bytes[..20]), None);
        assert_eq!(SourceMask::from_bytes(b""), None);
    }

    #[test]
    fn a_page_that_differs_only_inside_the_spans_fits_the_mask() {
        let stored = mask_of(TOKENS);
        let new = TOKENS
            .replace("AAAA", "BBBB")
            .replace("N1N1", "N2N2")
            .replace("T1T1", "T2T2")
            .replace("node 11", "node 12")
            .replace("q1q1", "q2q2")
            .replace("'x1'", "'x2'")
            .replace("V1V1", "V2V2");
        assert_eq!(compared(&stored, &new), Match::Masked);
        assert_eq!(fp(&new).unwrap(), stored.0);
    }

    #[test]
    fn a_page_that_does_not_fit_the_mask_takes_the_pass() {
        let stored = mask_of(TOKENS);
        // Left-out content of another length: the pass finds the fingerprint
        // equal, and gives the new page's mask.
        let longer = TOKENS.replace("T1T1", "T1T1T1");
        match compared(&stored, &longer) {
            Match::Whole(mask) => {
                let again = (stored.0.clone(), mask.to_bytes(), Vec::new());
                assert_eq!(compared(&again, &longer), Match::Masked);
            }
            other => panic!("{other:?}"),
        }
        // Content outside the spans: another fingerprint.
        assert!(matches!(
            compared(&stored, &TOKENS.replace("Text", "Tent")),
            Match::No(Some(_))
        ));
        // Each of these keeps the length but would end its span early (or
        // make a value quoted): never the mask; the pass decides.
        let early = [
            TOKENS.replace("AAAA", "AA\"A"),
            TOKENS.replace("'x1'", "'x''"),
            TOKENS.replace("q1q1", "q1 q"),
            TOKENS.replace("q1q1", "\"q1q"),
            TOKENS.replace("q1q1", "q1>q"),
            TOKENS.replace("node 11", "node->1"),
            TOKENS.replace(" node 11 ", "-->a<p>xy"),
            TOKENS.replace("if (a < b) {}", "</SCRIPT><p>x"),
            TOKENS.replace("if (a < b) {}", "<!-- <script>"),
        ];
        for page in &early {
            assert_eq!(page.len(), TOKENS.len(), "{page}");
            assert_ne!(compared(&stored, page), Match::Masked, "{page}");
        }
    }

    #[test]
    fn tag_attributes_are_read_as_the_tokenizer_reads_them() {
        let names = |tag: &str| {
            tag_attributes(tag.as_bytes()).map(|a| {
                a.into_iter()
                    .map(|a| {
                        let v = a.value.map(|(r, k)| (tag[r].to_string(), k));
                        (a.name, v)
                    })
                    .collect::<Vec<_>>()
            })
        };
        use SpanKind::*;
        assert_eq!(
            names("<a HREF = \"x y\" b='z'c=d/ e =f g>"),
            Some(vec![
                ("href".into(), Some(("x y".into(), DoubleQuoted))),
                ("b".into(), Some(("z".into(), SingleQuoted))),
                ("c".into(), Some(("d/".into(), Unquoted))),
                ("e".into(), Some(("f".into(), Unquoted))),
                ("g".into(), None),
            ])
        );
        assert_eq!(
            names("<p =x a=>"),
            Some(vec![("=x".into(), None), ("a".into(), None)])
        );
        assert_eq!(names("<br/>"), Some(vec![]));
        assert_eq!(names("<p a=\"x>"), None);
        assert_eq!(names("p a=x>"), None);
    }
}
