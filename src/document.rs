//! The extracted text model of one page: a [`Document`] of [`Section`]s, each a
//! heading and its [`Block`]s in page order, plus [`DocumentMeta`] (title, stamp,
//! which content root was used).
//!
//! A document is what the extract stage yields and what the diff stage compares.
//! Its [`Document::fingerprint`] covers the comparable text of every section and
//! block and the targets of their links, never the stamp: a page whose only change
//! is a new "Last updated" line keeps its fingerprint.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

use crate::normalize::comparable;
use crate::stamp::Stamp;

/// The extracted text model of one page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Title, stamp and extraction facts; not part of the fingerprint.
    pub meta: DocumentMeta,
    /// Sections in page order; the first is the lead (key `[]`) when the page has
    /// text before its first heading.
    pub sections: Vec<Section>,
}

/// Facts about a document that are not its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DocumentMeta {
    /// The page title (from the configured title selector, else `<h1>`, else `<title>`).
    pub title: Option<String>,
    /// The page's own "Last updated" stamp, if one was found anywhere on the page.
    pub stamp: Option<Stamp>,
    /// Which element the sections were taken from.
    pub root: ContentRoot,
    /// A stamp-shaped line whose date could not be read (`Last updated: 31 Feb.
    /// 2024`), kept as served; `stamp` is then `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp_unreadable: Option<String>,
    /// Which extraction produced the document; `None` in a `document.json`
    /// written before it was recorded (an older, unknown extraction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extraction: Option<Extraction>,
}

/// Which extraction produced a document: the extractor's version and the
/// fingerprint of the rules it ran with. Two documents with equal
/// `Extraction`s were cut the same way from their pages, so their
/// differences are the pages' own; otherwise a difference may be the
/// extractor's or the rules' (see [`crate::monitor`], which then re-extracts
/// the old page before comparing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extraction {
    /// [`crate::extract::EXTRACTOR_VERSION`] of the build that extracted it.
    pub extractor: u32,
    /// [`crate::target::Rules::fingerprint`] of the rules it was extracted with.
    pub rules: String,
}

/// The element the sections were taken from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ContentRoot {
    /// The CSS selector that matched, or the name of the root found when no
    /// configured selector did: `main`, `article`, `readability`,
    /// `densest-block`, `body`.
    pub selector: String,
    /// True when a content root was configured, matched nothing, and the root
    /// named by `selector` was found instead: always shown to the user, never
    /// silent. False when the rules configure no root (the generic rules): the
    /// root found is then the expected outcome, recorded in `selector` only.
    pub fallback: bool,
}

/// A heading and the blocks under it, up to the next heading of any level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// The heading path: the comparable texts of the enclosing headings and this one.
    pub key: SectionKey,
    /// The heading as shown on the page; `None` for the lead.
    pub heading: Option<String>,
    /// Heading level 1..=6; 0 for the lead.
    pub level: u8,
    /// The section's blocks in page order.
    pub blocks: Vec<Block>,
}

impl Section {
    /// The heading to show a reader: the page's heading, or `Lead` for the lead.
    pub fn title(&self) -> &str {
        self.heading.as_deref().unwrap_or("Lead")
    }

    /// True for the part of the page before its first heading.
    pub fn is_lead(&self) -> bool {
        self.heading.is_none()
    }

    /// Number of words in the section's blocks (whitespace-separated).
    pub fn word_count(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| b.text.split_whitespace().count())
            .sum()
    }
}

/// A section's identity: the comparable texts of the headings from the outermost
/// enclosing one down to the section's own. The lead's key is empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct SectionKey(pub Vec<String>);

impl SectionKey {
    /// The lead's key (empty path).
    pub fn lead() -> Self {
        SectionKey(Vec::new())
    }
}

impl fmt::Display for SectionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("Lead");
        }
        f.write_str(&self.0.join(" › "))
    }
}

/// One unit of text: a paragraph, list item, caption, table row, quote or
/// preformatted block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// What kind of element the text came from.
    pub kind: BlockKind,
    /// The text as a reader sees it: whitespace runs collapsed to one space,
    /// trimmed, NFC. Typography (quotes, dashes) is kept as served.
    pub text: String,
    /// Links inside the block, in order, with absolute targets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

impl Block {
    /// A block with no links.
    pub fn new(kind: BlockKind, text: impl Into<String>) -> Self {
        Block {
            kind,
            text: text.into(),
            links: Vec::new(),
        }
    }

    /// The text in the form used for comparison; see [`crate::normalize::comparable`].
    pub fn comparable(&self) -> String {
        comparable(&self.text)
    }
}

/// What kind of element a block came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BlockKind {
    /// `<p>` or loose text.
    Paragraph,
    /// `<li>`.
    ListItem,
    /// `<figcaption>` or `<caption>`, or an image's alt text in a figure.
    Caption,
    /// `<tr>`, cells joined with ` | `.
    TableRow,
    /// `<blockquote>`.
    Quote,
    /// `<pre>`, whitespace kept.
    Preformatted,
}

impl BlockKind {
    /// The lowercase name used in reports (`paragraph`, `list item`, ...).
    pub fn label(self) -> &'static str {
        match self {
            BlockKind::Paragraph => "paragraph",
            BlockKind::ListItem => "list item",
            BlockKind::Caption => "caption",
            BlockKind::TableRow => "table row",
            BlockKind::Quote => "quote",
            BlockKind::Preformatted => "preformatted",
        }
    }
}

/// A hyperlink inside a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The link text, normalised like block text.
    pub text: String,
    /// The absolute target URL (resolved against the page's final URL), fragment kept.
    pub href: String,
}

impl Document {
    /// The SHA-256 (lowercase hex, 64 chars) of the document's content: every
    /// section's key and level, every block's kind, comparable text and link
    /// targets, in order. The stamp, title and root are not included.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for s in &self.sections {
            h.update(b"S\x00");
            for part in &s.key.0 {
                h.update(part.as_bytes());
                h.update(b"\x1f");
            }
            h.update([s.level]);
            for b in &s.blocks {
                h.update(b"B\x00");
                h.update(b.kind.label().as_bytes());
                h.update(b"\x1f");
                h.update(b.comparable().as_bytes());
                for l in &b.links {
                    h.update(b"\x1eL");
                    h.update(l.href.as_bytes());
                }
            }
        }
        hex::encode(h.finalize())
    }

    /// Total number of blocks in all sections.
    pub fn block_count(&self) -> usize {
        self.sections.iter().map(|s| s.blocks.len()).sum()
    }

    /// Total number of characters of block text.
    pub fn text_len(&self) -> usize {
        self.sections
            .iter()
            .flat_map(|s| &s.blocks)
            .map(|b| b.text.chars().count())
            .sum()
    }

    /// The section with this key, if any.
    pub fn section(&self, key: &SectionKey) -> Option<&Section> {
        self.sections.iter().find(|s| &s.key == key)
    }
}
