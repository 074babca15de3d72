//! A section's history, read from the stored revisions: which revisions
//! touched it, and for each block and each sentence of its current text
//! since when it has read that way, and what it read before.
//!
//! Nothing is diffed again. Each stored revision already says, for every
//! block it changed, the old and the new text ([`crate::revision::BlockChange`]). A block's
//! *lineage* walks the revisions that touched its section, newest first: a
//! revision whose changed block has the block's current text as its new
//! text is a step back, and that block's old text is what it read before.
//! A sentence (Unicode sentence boundaries, UAX #29) reads the same since
//! the newest step whose old text lacks it. Only the revisions listed for
//! the section (the store's `revision_sections` index) are read.
//!
//! Sentences are compared by their comparable form
//! ([`crate::normalize::comparable`]): a change of spaces or quotes is not
//! a new reading.

use std::collections::HashSet;

use jiff::Timestamp;
use serde::Serialize;
use unicode_segmentation::UnicodeSegmentation;

use crate::document::{BlockKind, Section};
use crate::ids::{RevisionId, SnapshotId};
use crate::normalize::comparable;
use crate::revision::{BlockChangeKind, Revision, RevisionKind, SectionChange};

/// A revision that touched the section, newest first, as the caller read it.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// The revision id.
    pub id: RevisionId,
    /// Its kind.
    pub kind: RevisionKind,
    /// True for a re-extraction's revision.
    pub technical: bool,
    /// Its new snapshot.
    pub snapshot: SnapshotId,
    /// That snapshot's capture time.
    pub captured_at: Timestamp,
    /// That snapshot's stamp as served.
    pub stamp: Option<String>,
    /// The stamp's date.
    pub stamp_date: Option<jiff::civil::Date>,
    /// The revision itself.
    pub revision: &'a Revision,
}

/// Where a reading begins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "since", rename_all = "kebab-case")]
pub enum Since {
    /// A revision brought it.
    Revision {
        /// The revision.
        id: RevisionId,
        /// Its new snapshot.
        snapshot: SnapshotId,
        /// When that snapshot was captured.
        captured_at: Timestamp,
        /// Its stamp as served.
        stamp: Option<String>,
        /// The stamp's date: the day the page says it was revised.
        stamp_date: Option<jiff::civil::Date>,
        /// The revision's kind.
        kind: RevisionKind,
        /// What it read before (the closest old sentence, or the old block),
        /// `None` when it is new text.
        before: Option<String>,
    },
    /// It was there when watching began (or before the oldest revision read).
    FirstSeen {
        /// The snapshot it is known from.
        snapshot: SnapshotId,
        /// Its capture time.
        captured_at: Timestamp,
        /// True when older revisions were not read (the walk's limit), so it
        /// may be older news than it looks.
        truncated: bool,
    },
}

/// One sentence of a block's current text and since when it reads so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentenceHistory {
    /// The sentence as it reads now.
    pub text: String,
    /// Since when.
    pub since: Since,
}

/// One block of the section as it reads now, with its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockHistory {
    /// Its index in the section (0-based).
    pub index: usize,
    /// Its kind.
    pub kind: BlockKind,
    /// Its text now.
    pub text: String,
    /// The revisions that changed it, newest first.
    pub touched_by: Vec<RevisionId>,
    /// Since when the whole block reads as it does.
    pub since: Since,
    /// Its sentences.
    pub sentences: Vec<SentenceHistory>,
}

/// The first snapshot the walk may fall back to ([`Since::FirstSeen`]).
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    /// The target's first snapshot.
    pub snapshot: SnapshotId,
    /// Its capture time.
    pub captured_at: Timestamp,
    /// True when the steps given are not all the section's revisions.
    pub truncated: bool,
}

/// The history of each block of `section` (its current text) from the
/// revisions that touched it (`steps`, newest first).
pub fn blocks(section: &Section, steps: &[Step<'_>], origin: Origin) -> Vec<BlockHistory> {
    section
        .blocks
        .iter()
        .enumerate()
        .map(|(index, block)| {
            let lineage = lineage(&section.key.0, &block.text, steps);
            let sentences = sentences(&block.text)
                .into_iter()
                .map(|text| {
                    let since = sentence_since(&text, &lineage, origin);
                    SentenceHistory { text, since }
                })
                .collect();
            let since = match lineage.first() {
                Some(first) => since_step(first.step, first.old.as_deref().map(str::to_string)),
                None => first_seen(origin),
            };
            BlockHistory {
                index,
                kind: block.kind,
                text: block.text.clone(),
                touched_by: lineage.iter().map(|l| l.step.id).collect(),
                since,
                sentences,
            }
        })
        .collect()
}

/// One step back in a block's lineage: the revision and the block's old text
/// there (`None`: the revision added the block).
#[derive(Debug)]
struct Back<'s, 'a> {
    step: &'s Step<'a>,
    old: Option<String>,
}

/// The revisions that changed a block whose current text is `text`, newest
/// first, each with what the block read before it. The section may have
/// been renamed on the way: a revision that renamed it is followed by the
/// old name.
fn lineage<'s, 'a>(key: &[String], text: &str, steps: &'s [Step<'a>]) -> Vec<Back<'s, 'a>> {
    let mut key: Vec<String> = key.to_vec();
    let mut now = comparable(text);
    let mut out = Vec::new();
    for step in steps {
        let Some(section) = step.revision.sections.iter().find(|s| s.key.0 == key) else {
            continue;
        };
        let changed = section.blocks.iter().find(|b| {
            b.change != BlockChangeKind::Moved
                && b.new_text.as_deref().map(comparable).as_deref() == Some(now.as_str())
        });
        if let Some(change) = changed {
            out.push(Back {
                step,
                old: change.old_text.clone(),
            });
            match &change.old_text {
                Some(old) => now = comparable(old),
                None => break,
            }
        } else if section.change == SectionChange::Added {
            // The section came with this revision, the block with it.
            out.push(Back { step, old: None });
            break;
        }
        if let (SectionChange::Renamed, Some(old)) = (section.change, &section.old_heading)
            && let Some(last) = key.last_mut()
        {
            *last = old.clone();
        }
    }
    out
}

fn since_step(step: &Step<'_>, before: Option<String>) -> Since {
    Since::Revision {
        id: step.id,
        snapshot: step.snapshot,
        captured_at: step.captured_at,
        stamp: step.stamp.clone(),
        stamp_date: step.stamp_date,
        kind: step.kind,
        before,
    }
}

fn first_seen(origin: Origin) -> Since {
    Since::FirstSeen {
        snapshot: origin.snapshot,
        captured_at: origin.captured_at,
        truncated: origin.truncated,
    }
}

/// Since when `sentence` has read as it does: the newest step of the
/// lineage whose old text lacks it, with the old sentence closest to it.
fn sentence_since(sentence: &str, lineage: &[Back<'_, '_>], origin: Origin) -> Since {
    let wanted = comparable(sentence);
    for back in lineage {
        let Some(old) = &back.old else {
            return since_step(back.step, None);
        };
        let old_sentences = sentences(old);
        let present: HashSet<String> = old_sentences.iter().map(|s| comparable(s)).collect();
        if !present.contains(&wanted) {
            return since_step(back.step, closest(sentence, &old_sentences));
        }
    }
    first_seen(origin)
}

/// The old sentence most like `sentence` (at least half its characters in
/// common, [`similar`]'s ratio), if any.
fn closest(sentence: &str, old: &[String]) -> Option<String> {
    old.iter()
        .map(|o| {
            let ratio = similar::TextDiff::configure()
                .algorithm(similar::Algorithm::Patience)
                .diff_chars(sentence, o.as_str())
                .ratio();
            (ratio, o)
        })
        .filter(|(ratio, _)| *ratio >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, o)| o.clone())
}

/// The sentences of a text (UAX #29 sentence boundaries), trimmed, empty
/// ones left out.
pub fn sentences(text: &str) -> Vec<String> {
    text.split_sentence_bounds()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Block, SectionKey};
    use crate::revision::{BlockChange, ChangeSummary, SectionDiff};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn revision(key: &[&str], change: SectionChange, blocks: Vec<BlockChange>) -> Revision {
        Revision {
            kind: RevisionKind::Revised,
            old_stamp: None,
            new_stamp: None,
            summary: ChangeSummary::default(),
            sections: vec![SectionDiff {
                change,
                key: SectionKey(key.iter().map(|s| s.to_string()).collect()),
                heading: key.last().unwrap_or(&"Lead").to_string(),
                old_heading: None,
                level: 2,
                old_level: None,
                kept: None,
                old_position: Some(1),
                new_position: Some(1),
                moved: false,
                blocks,
            }],
            unchanged: vec![],
            degraded: None,
        }
    }

    fn replaced(old: &str, new: &str) -> BlockChange {
        BlockChange {
            change: BlockChangeKind::Replaced,
            kind: BlockKind::Paragraph,
            old_index: Some(0),
            new_index: Some(0),
            old_text: Some(old.into()),
            new_text: Some(new.into()),
            spans: vec![],
            moved_from: None,
            moved_to: None,
            links: vec![],
        }
    }

    fn step<'a>(id: i64, at: &str, revision: &'a Revision) -> Step<'a> {
        Step {
            id: RevisionId(id),
            kind: RevisionKind::Revised,
            technical: false,
            snapshot: SnapshotId(id + 1),
            captured_at: ts(at),
            stamp: None,
            stamp_date: None,
            revision,
        }
    }

    #[test]
    fn each_sentence_dates_from_the_revision_that_wrote_it() {
        let v1 = "NATO suspended talks. Belarus hosts troops.";
        let v2 = "NATO suspended talks. Belarus hosts Russian nuclear weapons.";
        let v3 = "NATO suspended all talks. Belarus hosts Russian nuclear weapons.";
        let r2 = revision(
            &["Background"],
            SectionChange::Modified,
            vec![replaced(v1, v2)],
        );
        let r3 = revision(
            &["Background"],
            SectionChange::Modified,
            vec![replaced(v2, v3)],
        );
        // An unrelated revision touching another block of the section.
        let other = revision(
            &["Background"],
            SectionChange::Modified,
            vec![replaced("Old other.", "New other.")],
        );
        let steps = [
            step(3, "2025-03-01T00:00:00Z", &r3),
            step(9, "2025-02-15T00:00:00Z", &other),
            step(2, "2025-02-01T00:00:00Z", &r2),
        ];
        let section = Section {
            key: SectionKey(vec!["Background".into()]),
            heading: Some("Background".into()),
            level: 2,
            blocks: vec![Block::new(BlockKind::Paragraph, v3)],
        };
        let origin = Origin {
            snapshot: SnapshotId(1),
            captured_at: ts("2025-01-01T00:00:00Z"),
            truncated: false,
        };
        let history = blocks(&section, &steps, origin);
        assert_eq!(history.len(), 1);
        let b = &history[0];
        assert_eq!(b.touched_by, vec![RevisionId(3), RevisionId(2)]);
        assert_eq!(b.sentences.len(), 2);
        match &b.sentences[0].since {
            Since::Revision { id, before, .. } => {
                assert_eq!(*id, RevisionId(3));
                assert_eq!(before.as_deref(), Some("NATO suspended talks."));
            }
            other => panic!("{other:?}"),
        }
        match &b.sentences[1].since {
            Since::Revision { id, before, .. } => {
                assert_eq!(*id, RevisionId(2));
                assert_eq!(before.as_deref(), Some("Belarus hosts troops."));
            }
            other => panic!("{other:?}"),
        }
        // A block no revision touched reads as first seen.
        let quiet = Section {
            blocks: vec![Block::new(BlockKind::Paragraph, "Untouched.")],
            ..section
        };
        let h = blocks(&quiet, &steps, origin);
        assert!(matches!(h[0].sentences[0].since, Since::FirstSeen { .. }));
        assert!(h[0].touched_by.is_empty());
    }

    #[test]
    fn a_renamed_section_is_followed_under_its_old_name() {
        let mut renamed = revision(&["Relations"], SectionChange::Renamed, vec![]);
        renamed.sections[0].old_heading = Some("Cooperation".into());
        let older = revision(
            &["Cooperation"],
            SectionChange::Modified,
            vec![replaced("Talks began.", "Talks began in 1995.")],
        );
        let steps = [
            step(5, "2025-05-01T00:00:00Z", &renamed),
            step(4, "2025-04-01T00:00:00Z", &older),
        ];
        let section = Section {
            key: SectionKey(vec!["Relations".into()]),
            heading: Some("Relations".into()),
            level: 2,
            blocks: vec![Block::new(BlockKind::Paragraph, "Talks began in 1995.")],
        };
        let origin = Origin {
            snapshot: SnapshotId(1),
            captured_at: ts("2025-01-01T00:00:00Z"),
            truncated: false,
        };
        let h = blocks(&section, &steps, origin);
        assert_eq!(h[0].touched_by, vec![RevisionId(4)]);
    }

    #[test]
    fn an_added_block_has_no_before() {
        let mut added = replaced("", "A new paragraph. Second sentence.");
        added.change = BlockChangeKind::Inserted;
        added.old_text = None;
        let r = revision(&["Lead"], SectionChange::Modified, vec![added]);
        let steps = [step(7, "2025-06-01T00:00:00Z", &r)];
        let section = Section {
            key: SectionKey(vec!["Lead".into()]),
            heading: None,
            level: 0,
            blocks: vec![Block::new(
                BlockKind::Paragraph,
                "A new paragraph. Second sentence.",
            )],
        };
        let origin = Origin {
            snapshot: SnapshotId(1),
            captured_at: ts("2025-01-01T00:00:00Z"),
            truncated: false,
        };
        let h = blocks(&section, &steps, origin);
        for s in &h[0].sentences {
            assert!(
                matches!(&s.since, Since::Revision { id, before: None, .. } if *id == RevisionId(7)),
                "{s:?}"
            );
        }
    }
}
