//! A [`Revision`]: the difference between two consecutive snapshots of one target,
//! section by section, classified by [`RevisionKind`].
//!
//! These are plain values produced by [`crate::diff::revision`] and consumed by
//! the renderers in [`crate::report`]. Their serde form is the documented JSON
//! schema (see `docs` in the README): field names are stable, kinds are the
//! kebab-case strings shown on each enum.

use serde::{Deserialize, Serialize};

use crate::document::{BlockKind, SectionKey};
use crate::stamp::Stamp;

/// How a revision is classified. The stamp is metadata, never content:
///
/// | content | stamp          | kind          |
/// |---------|----------------|---------------|
/// | changed | changed        | `revised`     |
/// | changed | same or absent | `silent-edit` |
/// | same    | changed        | `stamp-only`  |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevisionKind {
    /// Content and stamp changed.
    Revised,
    /// Content changed while the stamp stayed the same or is absent.
    SilentEdit,
    /// Only the stamp changed.
    StampOnly,
}

impl RevisionKind {
    /// The kebab-case name (`revised`, `silent-edit`, `stamp-only`).
    pub fn as_str(self) -> &'static str {
        match self {
            RevisionKind::Revised => "revised",
            RevisionKind::SilentEdit => "silent-edit",
            RevisionKind::StampOnly => "stamp-only",
        }
    }

    /// Classifies a pair of snapshots; `None` when neither content nor stamp changed.
    pub fn classify(content_changed: bool, stamp_changed: bool) -> Option<Self> {
        match (content_changed, stamp_changed) {
            (true, true) => Some(RevisionKind::Revised),
            (true, false) => Some(RevisionKind::SilentEdit),
            (false, true) => Some(RevisionKind::StampOnly),
            (false, false) => None,
        }
    }

    /// Parses the kebab-case name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "revised" => Some(RevisionKind::Revised),
            "silent-edit" => Some(RevisionKind::SilentEdit),
            "stamp-only" => Some(RevisionKind::StampOnly),
            _ => None,
        }
    }
}

impl std::fmt::Display for RevisionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The difference between an old and a new document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    /// The classification.
    pub kind: RevisionKind,
    /// The old document's stamp.
    pub old_stamp: Option<Stamp>,
    /// The new document's stamp.
    pub new_stamp: Option<Stamp>,
    /// Counts over the whole revision.
    pub summary: ChangeSummary,
    /// Only the sections that changed, in new-document order (removed sections at
    /// their old position).
    pub sections: Vec<SectionDiff>,
    /// Headings of the sections present in both documents with no change, in new order.
    pub unchanged: Vec<String>,
    /// Set when the diff hit its deadline or size bound and fell back to block
    /// level; says why in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded: Option<String>,
}

/// Counts over a revision. Words are whitespace-separated tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSummary {
    /// Sections in the new document.
    pub sections_total: usize,
    /// Sections only in the new document.
    pub sections_added: usize,
    /// Sections only in the old document.
    pub sections_removed: usize,
    /// Sections in both whose blocks changed (renamed or moved ones included).
    pub sections_modified: usize,
    /// Sections whose heading text changed (matched by similarity).
    pub sections_renamed: usize,
    /// Sections whose position among the matched sections changed.
    pub sections_moved: usize,
    /// Words inserted.
    pub words_added: usize,
    /// Words deleted.
    pub words_removed: usize,
}

impl ChangeSummary {
    /// Number of sections that appear in the redline.
    pub fn sections_changed(&self) -> usize {
        // renamed/moved are counted in modified only when edited, so count the union
        self.sections_added + self.sections_removed + self.sections_modified
    }
}

/// How a section changed. A section that was renamed or moved and also edited
/// has `renamed`/`moved` kind and a non-empty `blocks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SectionChange {
    /// Only in the new document.
    Added,
    /// Only in the old document.
    Removed,
    /// In both, same heading and position, blocks changed.
    Modified,
    /// In both, heading text changed (matched by similarity of heading and text).
    Renamed,
    /// In both, position among matched sections changed.
    Moved,
}

impl SectionChange {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SectionChange::Added => "added",
            SectionChange::Removed => "removed",
            SectionChange::Modified => "modified",
            SectionChange::Renamed => "renamed",
            SectionChange::Moved => "moved",
        }
    }
}

/// One changed section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionDiff {
    /// The main change kind (see [`SectionChange`]).
    pub change: SectionChange,
    /// Key in the new document (old document for removed sections).
    pub key: SectionKey,
    /// Heading shown to the reader (new heading; old for removed). `Lead` for the lead.
    pub heading: String,
    /// The old heading, when it differs from `heading` (renamed sections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_heading: Option<String>,
    /// Heading level 1..=6, 0 for the lead.
    pub level: u8,
    /// Index among the old document's sections; `None` for added sections.
    pub old_position: Option<usize>,
    /// Index among the new document's sections; `None` for removed sections.
    pub new_position: Option<usize>,
    /// True when the section also changed position (may accompany any kind but added/removed).
    #[serde(default)]
    pub moved: bool,
    /// The block changes, in new order. For added/removed sections, every block
    /// as inserted/deleted.
    pub blocks: Vec<BlockChange>,
}

/// How one block changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockChangeKind {
    /// Only in the new section.
    Inserted,
    /// Only in the old section.
    Deleted,
    /// Old text replaced by new text; `spans` marks the words.
    Replaced,
    /// Same or very similar text, different position (possibly in another
    /// section); `spans` marks any edit. A move across sections appears twice:
    /// in the destination with `moved_from`, in the source with `moved_to`.
    Moved,
    /// A list whose items are the same but in another order (low severity).
    Reordered,
    /// Same text, link targets changed; see `links`.
    LinkChanged,
    /// One old block became several new ones.
    Split,
    /// Several old blocks became one new one.
    Merged,
}

impl BlockChangeKind {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockChangeKind::Inserted => "inserted",
            BlockChangeKind::Deleted => "deleted",
            BlockChangeKind::Replaced => "replaced",
            BlockChangeKind::Moved => "moved",
            BlockChangeKind::Reordered => "reordered",
            BlockChangeKind::LinkChanged => "link-changed",
            BlockChangeKind::Split => "split",
            BlockChangeKind::Merged => "merged",
        }
    }
}

/// One changed block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockChange {
    /// How it changed.
    pub change: BlockChangeKind,
    /// What kind of block (new kind; old for deleted and moved-out blocks).
    pub kind: BlockKind,
    /// Index among the old section's blocks.
    pub old_index: Option<usize>,
    /// Index among the new section's blocks; `None` for deleted blocks and for
    /// blocks moved out to another section (see `moved_to`).
    pub new_index: Option<usize>,
    /// Old display text (joined with a blank line for merged blocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_text: Option<String>,
    /// New display text (joined with a blank line for split blocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_text: Option<String>,
    /// Word-level marks: concatenating the `equal` and `delete` spans gives the
    /// old text, `equal` and `insert` the new text (spaces included in spans).
    /// Empty for `reordered` blocks and for blocks moved out to another section
    /// (their words are marked, and counted, once: at the destination).
    pub spans: Vec<Span>,
    /// For moved blocks at their destination: the heading of the section the
    /// block came from, when it differs from this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    /// For moved blocks at their source: the heading of the section the block
    /// went to, when it differs from this one. Such an entry is the old side of
    /// a cross-section move: `old_index` and `old_text` set, `new_index` and
    /// `new_text` `None`, no spans. The destination section carries the same
    /// block as `moved` with `moved_from`; a move within one section is a
    /// single entry with neither field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
    /// Link target changes inside the block.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkChange>,
}

/// A word-diff span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// `equal`, `insert` or `delete`.
    pub tag: SpanTag,
    /// The text, including its surrounding spaces.
    pub text: String,
}

/// The tag of a [`Span`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpanTag {
    /// In both texts.
    Equal,
    /// Only in the new text.
    Insert,
    /// Only in the old text.
    Delete,
}

/// A link whose text stayed while its target changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkChange {
    /// The link text.
    pub text: String,
    /// Old absolute target.
    pub old_href: String,
    /// New absolute target.
    pub new_href: String,
}
