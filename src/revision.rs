//! A [`Revision`]: the difference between two consecutive snapshots of one target,
//! section by section, classified by [`RevisionKind`].
//!
//! These are plain values produced by [`crate::diff::revision`] and consumed by
//! the renderers in [`crate::report`]. Their serde form is the documented JSON
//! schema (see `docs` in the README): field names are stable, kinds are the
//! kebab-case strings shown on each enum.

use serde::{Deserialize, Serialize};

use crate::document::{BlockKind, Document, Section, SectionKey};
use crate::stamp::{Stamp, StampClass};

/// How a revision is classified. The stamp is metadata, never content:
///
/// | content | stamp                                                   | kind          |
/// |---------|---------------------------------------------------------|---------------|
/// | changed | moved (any update stamp on the page); or newly readable | `revised`     |
/// | changed | update stamp read on both sides, every date the same    | `silent-edit` |
/// | changed | none readable on the new page, or a published date only | `changed`     |
/// | same    | changed (moved, appeared or gone), shown on the page    | `stamp-only`  |
/// | same    | only a `<meta>` / JSON-LD date changed                  | none          |
///
/// "Silent edit" is a claim about the page (edited without a new date), so
/// it is made only when an update stamp (updated, revised, reviewed,
/// modified; never a published date) was read on both sides and none of the
/// page's update stamps ([`Stamp::also`]) moved. A machine-only date
/// (`<meta>`, JSON-LD) that moves with no content change is no revision:
/// many sites set it to each request's time, and no reader sees it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum RevisionKind {
    /// Content and stamp changed.
    Revised,
    /// Content changed while the stamp, read on both sides, names the same moment.
    SilentEdit,
    /// Content changed; the new page shows no readable stamp, so nothing can
    /// be said about its date.
    Changed,
    /// Only the stamp changed.
    StampOnly,
}

impl RevisionKind {
    /// Every kind, in the order they are documented.
    pub const ALL: [RevisionKind; 4] = [
        RevisionKind::Revised,
        RevisionKind::SilentEdit,
        RevisionKind::Changed,
        RevisionKind::StampOnly,
    ];

    /// The kebab-case name (`revised`, `silent-edit`, `changed`, `stamp-only`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Classifies a pair of snapshots from whether their content changed and
    /// their stamps (see the table on [`RevisionKind`]); `None` when neither
    /// content nor stamp changed.
    pub fn classify(
        content_changed: bool,
        old: Option<&Stamp>,
        new: Option<&Stamp>,
    ) -> Option<Self> {
        if !content_changed {
            let machine_only = old.into_iter().chain(new).all(|s| s.source.is_machine());
            return (crate::stamp::changed(old, new) && !machine_only)
                .then_some(RevisionKind::StampOnly);
        }
        Some(match (old, new) {
            (_, None) => RevisionKind::Changed,
            (Some(o), Some(n)) if o.same_dates(n) => {
                let updated = |s: &Stamp| s.class == StampClass::Updated;
                if updated(o) && updated(n) {
                    RevisionKind::SilentEdit
                } else {
                    RevisionKind::Changed
                }
            }
            _ => RevisionKind::Revised,
        })
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
    /// Sections whose heading level changed and whose text did not (a
    /// renamed section that was also re-levelled counts as renamed).
    #[serde(default)]
    pub sections_relevelled: usize,
    /// Headings inserted above blocks that were already on the page.
    #[serde(default)]
    pub sections_heading_added: usize,
    /// Headings removed while their blocks stayed on the page.
    #[serde(default)]
    pub sections_heading_removed: usize,
    /// Words inserted.
    pub words_added: usize,
    /// Words deleted.
    pub words_removed: usize,
}

impl ChangeSummary {
    /// Number of sections that appear in the redline.
    pub fn sections_changed(&self) -> usize {
        // renamed/moved/relevelled sections are all in modified
        self.sections_added
            + self.sections_removed
            + self.sections_modified
            + self.sections_heading_added
            + self.sections_heading_removed
    }

    /// The changed sections by kind, from these counts alone (what a stored
    /// history row keeps). [`Revision::section_counts`] gives the same answer
    /// from the sections themselves and falls back to this without them.
    ///
    /// `sections_modified` includes the renamed, re-levelled and moved
    /// sections, so they are taken out of it. A section both renamed (or
    /// re-levelled) and moved is counted once, as renamed (re-levelled); how
    /// many there are is not stored, so it is taken as the fewest the counts
    /// allow (exact unless such a section sits beside a plainly modified one).
    pub fn section_counts(&self) -> SectionCounts {
        let (modified, renamed, relevelled, moved) = (
            self.sections_modified,
            self.sections_renamed,
            self.sections_relevelled,
            self.sections_moved,
        );
        let headed = renamed + relevelled;
        let both = (headed + moved)
            .saturating_sub(modified)
            .min(headed)
            .min(moved);
        let moved = moved - both;
        SectionCounts {
            added: self.sections_added,
            removed: self.sections_removed,
            modified: modified.saturating_sub(headed + moved),
            renamed,
            moved,
            heading_added: self.sections_heading_added,
            heading_removed: self.sections_heading_removed,
            relevelled,
        }
    }
}

/// Changed sections by kind, each counted once under its [`SectionChange`]
/// (a renamed section that also moved counts as renamed), so the parts add
/// up to the number of changed sections. The one counting behind every
/// summary line: the redline's, the alerts' and `history`'s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SectionCounts {
    /// Sections only in the new document.
    pub added: usize,
    /// Sections only in the old document.
    pub removed: usize,
    /// Sections edited in place (neither renamed nor moved).
    pub modified: usize,
    /// Sections renamed (possibly also moved or edited).
    pub renamed: usize,
    /// Sections moved and not renamed (possibly also edited).
    pub moved: usize,
    /// Headings inserted above blocks already on the page.
    pub heading_added: usize,
    /// Headings removed while their blocks stayed.
    pub heading_removed: usize,
    /// Sections whose heading level changed (and not their heading text).
    pub relevelled: usize,
}

impl SectionCounts {
    /// The number of changed sections (the sum of the parts).
    pub fn changed(&self) -> usize {
        self.added
            + self.removed
            + self.modified
            + self.renamed
            + self.moved
            + self.heading_added
            + self.heading_removed
            + self.relevelled
    }

    /// The non-zero counts in the fixed order added, removed, modified,
    /// renamed, moved, heading added, heading removed, re-levelled.
    pub fn parts(&self) -> Vec<(usize, SectionChange)> {
        [
            (self.added, SectionChange::Added),
            (self.removed, SectionChange::Removed),
            (self.modified, SectionChange::Modified),
            (self.renamed, SectionChange::Renamed),
            (self.moved, SectionChange::Moved),
            (self.heading_added, SectionChange::HeadingAdded),
            (self.heading_removed, SectionChange::HeadingRemoved),
            (self.relevelled, SectionChange::Relevelled),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .collect()
    }
}

impl Revision {
    /// The changed sections by kind: each of `sections` under its own
    /// `change`; from the [`ChangeSummary`] when `sections` is empty (a
    /// revision rebuilt from counts only).
    pub fn section_counts(&self) -> SectionCounts {
        if self.sections.is_empty() {
            return self.summary.section_counts();
        }
        let mut c = SectionCounts::default();
        for s in &self.sections {
            *match s.change {
                SectionChange::Added => &mut c.added,
                SectionChange::Removed => &mut c.removed,
                SectionChange::Modified => &mut c.modified,
                SectionChange::Renamed => &mut c.renamed,
                SectionChange::Moved => &mut c.moved,
                SectionChange::HeadingAdded => &mut c.heading_added,
                SectionChange::HeadingRemoved => &mut c.heading_removed,
                SectionChange::Relevelled => &mut c.relevelled,
            } += 1;
        }
        c
    }
}

/// How a section changed. A section that was renamed, re-levelled or moved
/// and also edited has that kind and a non-empty `blocks`. Only the blocks
/// that changed are ever listed; a section is listed with no blocks only when
/// its heading itself changed (added, removed, renamed, re-levelled, moved).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
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
    /// A heading inserted above blocks that were already on the page (split
    /// off from the section before); lists only the blocks that changed.
    HeadingAdded,
    /// A heading removed while its blocks stayed on the page (they joined the
    /// section before); listed under the old heading, with only the blocks
    /// that changed.
    HeadingRemoved,
    /// In both, same heading text, heading level changed (see
    /// [`SectionDiff::old_level`]). A section renamed and re-levelled is
    /// `renamed` with `old_level` set.
    Relevelled,
}

impl SectionChange {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
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
    /// Heading level 1..=6, 0 for the lead (the new level; the old one for
    /// removed sections).
    pub level: u8,
    /// The old heading level, when it differs from `level` (re-levelled
    /// sections, and renamed ones whose level changed too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_level: Option<u8>,
    /// For `heading-added` and `heading-removed` sections: the blocks that
    /// stayed on the page under or away from the heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<KeptBlocks>,
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

/// The blocks a `heading-added` or `heading-removed` section kept: for an
/// added heading, the blocks below it that were already on the page and did
/// not change; for a removed heading, its blocks still on the page and the
/// section they are now under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeptBlocks {
    /// How many blocks.
    pub count: usize,
    /// Their kind when they are all of one kind.
    #[serde(default)]
    pub kind: Option<BlockKind>,
    /// For a removed heading: the heading of the section (in the new
    /// document) its first kept block is now under (`Lead` for the lead).
    #[serde(default)]
    pub now_under: Option<String>,
}

/// How one block changed.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
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
        self.into()
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Span {
    /// `equal`, `insert` or `delete`.
    pub tag: SpanTag,
    /// The text, including its surrounding spaces.
    pub text: String,
}

/// The tag of a [`Span`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LinkChange {
    /// The link text.
    pub text: String,
    /// Old absolute target.
    pub old_href: String,
    /// New absolute target.
    pub new_href: String,
}

impl Revision {
    /// Checks that this revision describes `old` → `new` faithfully: every
    /// section it lists is at its stated position in its document, under its
    /// key; every block it reports (old text, new text) is the block at its
    /// stated index in that document (the joined run for split, merged and
    /// reordered blocks); the word marks of every block rejoin exactly to its
    /// old and new texts (the `equal` and `delete` spans give the old text,
    /// the `equal` and `insert` spans the new); and the summary counts as many
    /// changed sections as are listed. The property tests and the fuzz targets hold every diff to
    /// this; it costs one pass over the revision.
    ///
    /// # Errors
    /// A sentence naming the first section or block that breaks one of these
    /// rules, for a test failure or a crash report.
    pub fn verify(&self, old: &Document, new: &Document) -> Result<(), String> {
        if self.summary.sections_total != new.sections.len() {
            return Err(format!(
                "summary counts {} sections, the new document has {}",
                self.summary.sections_total,
                new.sections.len()
            ));
        }
        if self.summary.sections_changed() != self.sections.len() {
            return Err(format!(
                "summary counts {} changed sections, {} are listed",
                self.summary.sections_changed(),
                self.sections.len()
            ));
        }
        for s in &self.sections {
            let old_sec = locate(old, s.old_position, "old", s)?;
            let new_sec = locate(new, s.new_position, "new", s)?;
            // Sections gone from the new document (removed, or whose heading
            // was removed) are listed under their old key; every other one
            // under its new key.
            let gone = matches!(
                s.change,
                SectionChange::Removed | SectionChange::HeadingRemoved
            );
            match (gone, old_sec, new_sec) {
                (true, Some(o), None) => same_key(s, o, "old")?,
                (false, _, Some(n)) => same_key(s, n, "new")?,
                _ => {
                    return Err(format!(
                        "section `{}` ({}) has positions old {:?}, new {:?}",
                        s.heading,
                        s.change.as_str(),
                        s.old_position,
                        s.new_position
                    ));
                }
            }
            for b in &s.blocks {
                verify_block(b, old, new, new_sec).map_err(|e| {
                    format!(
                        "section `{}`, {} {} block: {e}",
                        s.heading,
                        b.change.as_str(),
                        b.kind.label()
                    )
                })?;
            }
        }
        Ok(())
    }
}

/// The section at `position` in `doc`, when there is one.
fn locate<'d>(
    doc: &'d Document,
    position: Option<usize>,
    side: &str,
    s: &SectionDiff,
) -> Result<Option<&'d Section>, String> {
    match position {
        None => Ok(None),
        Some(p) => doc.sections.get(p).map(Some).ok_or_else(|| {
            format!(
                "section `{}`: {side} position {p} is past the {side} document's {} sections",
                s.heading,
                doc.sections.len()
            )
        }),
    }
}

fn same_key(s: &SectionDiff, sec: &Section, side: &str) -> Result<(), String> {
    if sec.key != s.key || sec.title() != s.heading || sec.level != s.level {
        return Err(format!(
            "section `{}` (key {}, level {}) is `{}` (key {}, level {}) in the {side} document",
            s.heading,
            s.key,
            s.level,
            sec.title(),
            sec.key,
            sec.level
        ));
    }
    Ok(())
}

/// The text a block change names at index `i` of `sec`: one block, or the
/// run a split, merge or reorder joined.
fn text_at(
    sec: &Section,
    i: usize,
    change: BlockChangeKind,
    joined: bool,
    shown: &str,
) -> Option<String> {
    let run = |n: usize, sep: &str| {
        sec.blocks.get(i..i.checked_add(n)?).map(|r| {
            r.iter()
                .map(|b| b.text.as_str())
                .collect::<Vec<_>>()
                .join(sep)
        })
    };
    match change {
        BlockChangeKind::Reordered => run(shown.split('\n').count(), "\n"),
        BlockChangeKind::Split | BlockChangeKind::Merged if joined => run(2, "\n\n"),
        _ => sec.blocks.get(i).map(|b| b.text.clone()),
    }
}

fn verify_block(
    b: &BlockChange,
    old: &Document,
    new: &Document,
    new_sec: Option<&Section>,
) -> Result<(), String> {
    use BlockChangeKind as K;
    match (b.old_index, &b.old_text) {
        (Some(i), Some(t)) => {
            // The old side may sit in another old section (a block moved or
            // deleted across a heading change), so any old section will do.
            let merged = b.change == K::Merged;
            if !old
                .sections
                .iter()
                .any(|sec| text_at(sec, i, b.change, merged, t).as_deref() == Some(t.as_str()))
            {
                return Err(format!(
                    "old text {t:?} is not block {i} of any old section"
                ));
            }
        }
        (None, None) => {}
        (i, t) => return Err(format!("old index {i:?} with old text {t:?}")),
    }
    match (b.new_index, &b.new_text) {
        (Some(j), Some(t)) => {
            // A section listed under its old key (its heading removed) may
            // show the new side of a block now under another heading.
            let split = b.change == K::Split;
            let found =
                |sec: &Section| text_at(sec, j, b.change, split, t).as_deref() == Some(t.as_str());
            let ok = match new_sec {
                Some(sec) => found(sec),
                None => new.sections.iter().any(found),
            };
            if !ok {
                return Err(format!("new text {t:?} is not block {j} of its section"));
            }
        }
        (None, None) => {}
        (j, t) => return Err(format!("new index {j:?} with new text {t:?}")),
    }
    match b.change {
        K::Inserted if b.old_text.is_some() || b.new_text.is_none() => {
            return Err("inserted block without only a new side".into());
        }
        K::Deleted if b.new_text.is_some() || b.old_text.is_none() => {
            return Err("deleted block without only an old side".into());
        }
        _ => {}
    }
    // A reordered run, and the source side of a move, carry no marks: the
    // words are marked once, at the destination.
    let unmarked = b.change == K::Reordered || (b.change == K::Moved && b.new_text.is_none());
    if !unmarked {
        let side = |skip: SpanTag| -> String {
            b.spans
                .iter()
                .filter(|s| s.tag != skip)
                .map(|s| s.text.as_str())
                .collect()
        };
        let (old_side, new_side) = (side(SpanTag::Insert), side(SpanTag::Delete));
        if old_side != b.old_text.as_deref().unwrap_or("") {
            return Err(format!(
                "spans rejoin to old text {old_side:?}, not {:?}",
                b.old_text
            ));
        }
        if new_side != b.new_text.as_deref().unwrap_or("") {
            return Err(format!(
                "spans rejoin to new text {new_side:?}, not {:?}",
                b.new_text
            ));
        }
        if b.spans.iter().any(|s| s.text.is_empty()) {
            return Err("an empty span".into());
        }
    } else if !b.spans.is_empty() {
        return Err("spans on a block whose words are marked elsewhere".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(modified: usize, renamed: usize, moved: usize) -> ChangeSummary {
        ChangeSummary {
            sections_total: 9,
            sections_added: 1,
            sections_removed: 2,
            sections_modified: modified,
            sections_renamed: renamed,
            sections_moved: moved,
            ..Default::default()
        }
    }

    fn counts(modified: usize, renamed: usize, moved: usize) -> SectionCounts {
        SectionCounts {
            added: 1,
            removed: 2,
            modified,
            renamed,
            moved,
            ..Default::default()
        }
    }

    #[test]
    fn silent_edit_only_when_a_stamp_was_read_on_both_sides() {
        let a = crate::stamp::parse("Last updated: 28 Aug. 2024 11:27").unwrap();
        let a2 = crate::stamp::parse("Last updated 28-Aug-2024 11:27").unwrap();
        let b = crate::stamp::parse("Updated on April 19, 2024").unwrap();
        use crate::stamp::StampSource;
        use RevisionKind::{Changed, Revised, SilentEdit, StampOnly};
        let published = crate::stamp::parse("Published 3 May 2023").unwrap();
        let meta = |day: &str| {
            let mut s = crate::stamp::read_bare(day, &crate::stamp::Reading::default()).unwrap();
            s.source = StampSource::Meta {
                name: "article:modified_time".into(),
            };
            s
        };
        let (meta_old, meta_new) = (meta("2024-03-12T10:00:00Z"), meta("2026-12-03T08:00:00Z"));
        let with_review = |review: &str| {
            let mut s = crate::stamp::parse("Updated on April 19, 2024").unwrap();
            s.also = vec![crate::stamp::parse(review).unwrap()];
            s
        };
        let reviewed_old = with_review("Page last reviewed: August 19, 2020");
        let reviewed_new = with_review("Page last reviewed: May 2, 2024");
        let cases = [
            // a published date is no update stamp: never a silent edit
            (true, Some(&published), Some(&published), Some(Changed)),
            (false, Some(&published), Some(&published), None),
            // a machine-only date moving alone is no revision; with content it is
            (false, Some(&meta_old), Some(&meta_new), None),
            (false, None, Some(&meta_new), None),
            (true, Some(&meta_old), Some(&meta_new), Some(Revised)),
            // any update stamp on the page moving makes it revised
            (
                true,
                Some(&reviewed_old),
                Some(&reviewed_new),
                Some(Revised),
            ),
            (
                true,
                Some(&reviewed_new),
                Some(&reviewed_new),
                Some(SilentEdit),
            ),
            (
                false,
                Some(&reviewed_old),
                Some(&reviewed_new),
                Some(StampOnly),
            ),
            (true, Some(&a), Some(&b), Some(Revised)),
            (true, Some(&a), Some(&a2), Some(SilentEdit)),
            // a stamp appearing is a revision
            (true, None, Some(&b), Some(Revised)),
            // no readable stamp on the new page: never a silent edit
            (true, Some(&a), None, Some(Changed)),
            (true, None, None, Some(Changed)),
            (false, Some(&a), Some(&b), Some(StampOnly)),
            (false, None, Some(&b), Some(StampOnly)),
            (false, Some(&a), None, Some(StampOnly)),
            (false, Some(&a), Some(&a2), None),
            (false, None, None, None),
        ];
        for (content, old, new, want) in cases {
            assert_eq!(
                RevisionKind::classify(content, old, new),
                want,
                "{content} {old:?} {new:?}"
            );
        }
        for k in RevisionKind::ALL {
            assert_eq!(k.as_str().parse::<RevisionKind>().ok(), Some(k));
        }
    }

    #[test]
    fn counts_from_the_summary_take_renamed_and_moved_out_of_modified() {
        let cases = [
            (summary(0, 0, 0), counts(0, 0, 0)),
            (summary(1, 1, 0), counts(0, 1, 0)),
            (summary(3, 1, 0), counts(2, 1, 0)),
            (summary(2, 0, 1), counts(1, 0, 1)),
            // one section renamed and moved: counted once, as renamed
            (summary(1, 1, 1), counts(0, 1, 0)),
            // one renamed and one moved (the counts cannot tell this from one
            // renamed-and-moved beside one modified: the fewest overlaps win)
            (summary(2, 1, 1), counts(0, 1, 1)),
            (summary(3, 1, 1), counts(1, 1, 1)),
            // counts that leave renamed and moved out of modified are taken as given
            (summary(0, 0, 2), counts(0, 0, 2)),
        ];
        for (s, want) in cases {
            let got = s.section_counts();
            assert_eq!(got, want, "{s:?}");
            assert_eq!(got.changed(), 3 + want.modified + want.renamed + want.moved);
        }
    }

    #[test]
    fn counts_from_the_sections_go_by_each_kind() {
        let section = |change, moved| SectionDiff {
            change,
            key: SectionKey(vec!["x".into()]),
            heading: "X".into(),
            old_heading: None,
            level: 2,
            old_level: None,
            kept: None,
            old_position: Some(0),
            new_position: Some(0),
            moved,
            blocks: Vec::new(),
        };
        let rev = |sections: Vec<SectionDiff>, summary: ChangeSummary| Revision {
            kind: RevisionKind::Revised,
            old_stamp: None,
            new_stamp: None,
            summary,
            sections,
            unchanged: Vec::new(),
            degraded: None,
        };
        let cases = [
            (
                rev(
                    vec![
                        section(SectionChange::Renamed, true),
                        section(SectionChange::Modified, false),
                        section(SectionChange::Added, false),
                    ],
                    ChangeSummary::default(),
                ),
                SectionCounts {
                    added: 1,
                    modified: 1,
                    renamed: 1,
                    ..Default::default()
                },
            ),
            // no sections: the summary's counts
            (rev(Vec::new(), summary(3, 1, 0)), counts(2, 1, 0)),
        ];
        for (r, want) in cases {
            assert_eq!(r.section_counts(), want);
        }
        assert_eq!(
            counts(2, 1, 0).parts(),
            [
                (1, SectionChange::Added),
                (2, SectionChange::Removed),
                (2, SectionChange::Modified),
                (1, SectionChange::Renamed)
            ]
        );
    }
}
