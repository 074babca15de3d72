//! The diff stage: two documents to a [`Revision`].
//!
//! [`revision`] classifies the pair (content by [`Document::fingerprint`], stamp
//! by [`crate::stamp::changed`]), then, when the content changed:
//!
//! 1. aligns the headings as their own sequence (`align.rs`): the lead with the
//!    lead, same text in order (whatever the level), same text elsewhere
//!    (moved), then by heading and content similarity (renamed); the sections
//!    whose position changed among the paired ones are moved;
//! 2. aligns the blocks of the whole document (`blocks.rs`), the old sections
//!    laid out in their partners' new order: reordered list runs, a Myers diff
//!    over hashes of each block's kind and comparable text, link target
//!    changes, exact and edited block moves anywhere in the document,
//!    replaced / split / merged blocks, and what is left inserted or deleted;
//! 3. attributes each change to a section (here): a heading with no partner
//!    whose blocks came or went with it is `added` / `removed`; one above (or
//!    formerly above) blocks that stayed in place is `heading-added` /
//!    `heading-removed`, listed with only the blocks that really changed (a
//!    removed heading's changes are listed under it); a paired section is
//!    `renamed`, `relevelled`, `moved` or `modified`, and listed only when its
//!    heading or one of its blocks changed;
//! 4. marks words inside paired blocks (`words.rs`), comparing tokens on their
//!    comparable form so typography alone never shows as a change.
//!
//! Span conventions beyond [`crate::revision::BlockChange`]: an inserted block
//! has one insert span, a deleted one one delete span, a `reordered` change has
//! no spans (its texts are the list items joined with `\n`), and split/merged
//! texts are joined with a blank line (`\n\n`). A link present on only one side
//! of a `link-changed` block has an empty href on the other. A block moved to
//! another section is listed twice: in its new section as `moved` with
//! `moved_from` and word marks, and in its old section (which is therefore a
//! changed section) as `moved` with `moved_to`, its old index and text, and
//! no spans, so its words are counted neither added nor removed.
//!
//! Cost is bounded: equal blocks cost one hash comparison, big hunks are paired
//! by position, and past [`DiffOptions::deadline`] word marks give way to
//! whole-block marks and [`Revision::degraded`] says so.

mod align;
mod blocks;
mod words;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Instant;

use crate::document::{BlockKind, Document, Section};
use crate::normalize::comparable;
use crate::revision::{
    BlockChange, ChangeSummary, KeptBlocks, Revision, RevisionKind, SectionChange, SectionDiff,
    SpanTag,
};

/// Options bounding the cost of a diff.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Give up word-level detail after this long and degrade to block level.
    pub deadline: std::time::Duration,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            deadline: std::time::Duration::from_secs(2),
        }
    }
}

/// Compares two documents. `None` when neither content nor stamp changed.
///
/// A `stamp-only` revision has no sections and lists every new heading as
/// unchanged. Otherwise `sections` holds only the changed sections in new
/// order (removed ones after the section that preceded them in the old
/// document), and the summary counts them; `sections_modified` counts every
/// changed section present in both documents, so
/// [`ChangeSummary::sections_changed`] equals `sections.len()`.
pub fn revision(old: &Document, new: &Document, opts: &DiffOptions) -> Option<Revision> {
    let started = Instant::now();
    let old_p = Prepared::new(old);
    let new_p = Prepared::new(new);
    // Same verdict as comparing `Document::fingerprint`s, without hashing the
    // text a second time (that pass dominated the cost on large pages).
    let content_changed = !old_p.same_content(&new_p);
    let kind = RevisionKind::classify(
        content_changed,
        old.meta.stamp.as_ref(),
        new.meta.stamp.as_ref(),
    )?;
    let mut rev = Revision {
        kind,
        old_stamp: old.meta.stamp.clone(),
        new_stamp: new.meta.stamp.clone(),
        summary: ChangeSummary {
            sections_total: new.sections.len(),
            ..ChangeSummary::default()
        },
        sections: Vec::new(),
        unchanged: Vec::new(),
        degraded: None,
    };
    if !content_changed {
        rev.unchanged = new.sections.iter().map(|s| s.title().to_string()).collect();
        return Some(rev);
    }

    let mut ctx = blocks::Ctx {
        deadline: started.checked_add(opts.deadline),
        degraded_blocks: 0,
        degraded_hunks: 0,
    };
    let al = align::align(&old_p, &new_p, ctx.deadline);
    let ol = blocks::Layout::new(old, align::old_layout(&al));
    let nl = blocks::Layout::new(new, 0..new.sections.len());
    let docs = blocks::Docs {
        old: &old_p,
        new: &new_p,
        ol: &ol,
        nl: &nl,
        new_of_old: &al.new_of_old,
        old_of_new: &al.old_of_new,
    };
    let outcome = blocks::diff_document(&docs, &mut ctx);
    let (keyed, unchanged) = sections(old, new, &al, outcome);
    rev.summary = summary_of(new.sections.len(), &keyed);
    rev.sections = keyed;
    rev.unchanged = unchanged;
    rev.degraded = degraded_note(opts, &ctx, al.cut);
    tracing::debug!(
        elapsed_us = started.elapsed().as_micros() as u64,
        sections = rev.sections.len(),
        "diffed documents"
    );
    Some(rev)
}

/// The note of a diff the deadline cut short, naming each step that gave up
/// detail; `None` when the deadline was not reached (or cost no detail).
fn degraded_note(opts: &DiffOptions, ctx: &blocks::Ctx, headings_cut: bool) -> Option<String> {
    let mut steps = Vec::new();
    if headings_cut {
        steps.push("sections paired by equal headings only".to_string());
    }
    if ctx.degraded_hunks > 0 {
        steps.push(format!(
            "{} run(s) of changed blocks paired by position",
            ctx.degraded_hunks
        ));
    }
    if ctx.degraded_blocks > 0 {
        steps.push(format!(
            "{} block(s) marked as whole blocks, not word by word",
            ctx.degraded_blocks
        ));
    }
    (!steps.is_empty()).then(|| {
        format!(
            "diff deadline of {} ms reached: {}",
            opts.deadline.as_millis(),
            steps.join("; ")
        )
    })
}

/// What an unpaired section is, from whether its blocks stayed on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Paired with a section of the other document.
    Paired,
    /// A heading whose blocks came (went) with it: `added` (`removed`).
    Whole,
    /// A heading added above (removed from above) blocks that stayed.
    Heading,
    /// A lead whose blocks stayed while a heading appeared above them (or
    /// disappeared from above them): not a change of its own.
    KeptLead,
}

/// Where a block change is listed: under a new section, or under an old
/// section that has no partner (removed, or its heading removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Entry {
    New(usize),
    Old(usize),
}

/// Attributes the block changes to sections and builds the changed
/// sections in redline order, and the headings of the unchanged ones in new
/// order.
fn sections(
    old: &Document,
    new: &Document,
    al: &align::Alignment,
    outcome: blocks::Outcome,
) -> (Vec<SectionDiff>, Vec<String>) {
    let fate = |partner: Option<usize>, s: &Section, kept: bool| match (partner, kept) {
        (Some(_), _) => Fate::Paired,
        (None, false) => Fate::Whole,
        (None, true) if s.is_lead() => Fate::KeptLead,
        (None, true) => Fate::Heading,
    };
    let old_fate: Vec<Fate> = old
        .sections
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let kept = outcome.old_home[i].iter().any(Option::is_some);
            fate(al.new_of_old[i], s, kept)
        })
        .collect();
    let new_fate: Vec<Fate> = new
        .sections
        .iter()
        .enumerate()
        .map(|(j, s)| {
            let kept = outcome.new_home[j].iter().any(Option::is_some);
            fate(al.old_of_new[j], s, kept)
        })
        .collect();

    // Each change to the section a reader looks for it under.
    let mut listed: Vec<(Entry, blocks::Placed)> = Vec::with_capacity(outcome.changes.len());
    for p in outcome.changes {
        let old_only =
            matches!(p.side, blocks::Side::MoveSource(_)) || p.change.new_index.is_none();
        let entry = match (p.old_section, p.side) {
            (_, blocks::Side::MoveDest(_)) | (None, _) => p.new_section.map(Entry::New),
            (Some(os), _) => match (old_fate[os], al.new_of_old[os]) {
                (Fate::Whole | Fate::Heading, _) => Some(Entry::Old(os)),
                (Fate::Paired, Some(ns)) if old_only => Some(Entry::New(ns)),
                _ => p.new_section.map(Entry::New).or(Some(Entry::Old(os))),
            },
        };
        if let Some(e) = entry {
            listed.push((e, p));
        }
    }

    // The two sides of each move: listed once when they fall in one section.
    let title = |e: Entry| match e {
        Entry::New(j) => new.sections[j].title().to_string(),
        Entry::Old(i) => old.sections[i].title().to_string(),
    };
    let mut sources: HashMap<usize, Entry> = HashMap::new();
    let mut dests: HashMap<usize, Entry> = HashMap::new();
    for (e, p) in &listed {
        match p.side {
            blocks::Side::MoveSource(id) => sources.insert(id, *e),
            blocks::Side::MoveDest(id) => dests.insert(id, *e),
            blocks::Side::Plain => None,
        };
    }
    let mut by_entry: HashMap<Entry, Vec<BlockChange>> = HashMap::new();
    for (e, mut p) in listed {
        match p.side {
            blocks::Side::MoveSource(id) => match dests.get(&id) {
                Some(&d) if d != e => p.change.moved_to = Some(title(d)),
                _ => continue,
            },
            blocks::Side::MoveDest(id) => {
                p.change.moved_from = sources.get(&id).filter(|&&s| s != e).map(|&s| title(s));
            }
            blocks::Side::Plain => {}
        }
        by_entry.entry(e).or_default().push(p.change);
    }
    let mut take = |e: Entry| by_entry.remove(&e).unwrap_or_default();

    // (sort key, diff): new sections at 2*new_pos+1, old-only ones right after
    // the new position of their nearest preceding paired old section.
    let mut keyed: Vec<((usize, usize), SectionDiff)> = Vec::new();
    let mut unchanged: Vec<(usize, String)> = Vec::new();
    let base = |change, s: &Section, old_position, new_position, blocks| SectionDiff {
        change,
        key: s.key.clone(),
        heading: s.title().to_string(),
        old_heading: None,
        level: s.level,
        old_level: None,
        kept: None,
        old_position,
        new_position,
        moved: false,
        blocks,
    };
    for (k, &(oi, ni)) in al.pairs.iter().enumerate() {
        let (os, ns) = (&old.sections[oi], &new.sections[ni]);
        let blocks = take(Entry::New(ni));
        let renamed = comparable(os.title()) != comparable(ns.title());
        let relevelled = os.level != ns.level;
        let moved = al.moved[k];
        if blocks.is_empty() && !renamed && !moved && !relevelled {
            unchanged.push((ni, ns.title().to_string()));
            continue;
        }
        let change = if renamed {
            SectionChange::Renamed
        } else if relevelled {
            SectionChange::Relevelled
        } else if moved {
            SectionChange::Moved
        } else {
            SectionChange::Modified
        };
        let mut d = base(change, ns, Some(oi), Some(ni), blocks);
        d.old_heading = renamed.then(|| os.title().to_string());
        d.old_level = relevelled.then_some(os.level);
        d.moved = moved;
        keyed.push(((2 * ni + 1, 0), d));
    }
    for (ni, s) in new.sections.iter().enumerate() {
        let blocks = take(Entry::New(ni));
        let d = match new_fate[ni] {
            Fate::Paired => continue,
            Fate::KeptLead if blocks.is_empty() => continue,
            Fate::KeptLead => base(SectionChange::Modified, s, None, Some(ni), blocks),
            Fate::Whole => base(SectionChange::Added, s, None, Some(ni), blocks),
            Fate::Heading => {
                let mut d = base(SectionChange::HeadingAdded, s, None, Some(ni), blocks);
                let unchanged: Vec<usize> = (0..s.blocks.len())
                    .filter(|&b| outcome.new_home[ni][b] == Some(true))
                    .collect();
                d.kept = Some(KeptBlocks {
                    count: unchanged.len(),
                    kind: one_kind(unchanged.iter().map(|&b| s.blocks[b].kind)),
                    now_under: None,
                });
                d
            }
        };
        keyed.push(((2 * ni + 1, 0), d));
    }
    // Per old section, the new position of the nearest paired old section
    // before it (one pass: thousands of removed sections cost no more).
    let mut last_paired = None;
    let preceding: Vec<Option<usize>> = al
        .new_of_old
        .iter()
        .map(|&n| {
            let before = last_paired;
            last_paired = n.or(before);
            before
        })
        .collect();
    for (oi, s) in old.sections.iter().enumerate() {
        let change = match old_fate[oi] {
            Fate::Paired | Fate::KeptLead => continue,
            Fate::Whole => SectionChange::Removed,
            Fate::Heading => SectionChange::HeadingRemoved,
        };
        let anchor = preceding[oi].map_or(0, |n| 2 * n + 2);
        let mut d = base(change, s, Some(oi), None, take(Entry::Old(oi)));
        if change == SectionChange::HeadingRemoved {
            let homes = &outcome.old_home[oi];
            let kept: Vec<usize> = (0..s.blocks.len())
                .filter(|&b| homes[b].is_some())
                .collect();
            d.kept = Some(KeptBlocks {
                count: kept.len(),
                kind: one_kind(kept.iter().map(|&b| s.blocks[b].kind)),
                now_under: homes
                    .iter()
                    .find_map(|h| *h)
                    .map(|ns| new.sections[ns].title().to_string()),
            });
        }
        keyed.push(((anchor, oi + 1), d));
    }
    keyed.sort_by_key(|(k, _)| *k);
    unchanged.sort_by_key(|(ni, _)| *ni);
    (
        keyed.into_iter().map(|(_, d)| d).collect(),
        unchanged.into_iter().map(|(_, t)| t).collect(),
    )
}

/// The kind shared by all of `kinds`, if they are all one kind.
fn one_kind(mut kinds: impl Iterator<Item = BlockKind>) -> Option<BlockKind> {
    let first = kinds.next()?;
    kinds.all(|k| k == first).then_some(first)
}

/// The counts over the changed sections (`sections_total` is the new
/// document's section count). Words are counted from the spans.
fn summary_of(sections_total: usize, sections: &[SectionDiff]) -> ChangeSummary {
    let mut s = ChangeSummary {
        sections_total,
        ..ChangeSummary::default()
    };
    for d in sections {
        match d.change {
            SectionChange::Added => s.sections_added += 1,
            SectionChange::Removed => s.sections_removed += 1,
            SectionChange::HeadingAdded => s.sections_heading_added += 1,
            SectionChange::HeadingRemoved => s.sections_heading_removed += 1,
            SectionChange::Modified
            | SectionChange::Renamed
            | SectionChange::Moved
            | SectionChange::Relevelled => {
                s.sections_modified += 1;
                s.sections_renamed += usize::from(d.change == SectionChange::Renamed);
                s.sections_relevelled += usize::from(d.change == SectionChange::Relevelled);
                s.sections_moved += usize::from(d.moved);
            }
        }
        for b in &d.blocks {
            s.words_added += words::count_words(&b.spans, SpanTag::Insert);
            s.words_removed += words::count_words(&b.spans, SpanTag::Delete);
        }
    }
    s
}

/// A document with each block's comparable text and hash computed once.
pub(crate) struct Prepared<'a> {
    /// The document.
    pub doc: &'a Document,
    /// Per section, per block.
    pub blocks: Vec<Vec<PreparedBlock>>,
}

/// A block's comparable text and the hash of its kind and comparable text.
pub(crate) struct PreparedBlock {
    /// Hash of kind and comparable text: equal hashes are equal blocks.
    pub hash: u64,
    /// See [`crate::normalize::comparable`].
    pub comp: String,
}

impl<'a> Prepared<'a> {
    fn new(doc: &'a Document) -> Self {
        let blocks = doc
            .sections
            .iter()
            .map(|s| {
                s.blocks
                    .iter()
                    .map(|b| {
                        let comp = comparable_fast(&b.text);
                        let mut h = DefaultHasher::new();
                        b.kind.hash(&mut h);
                        comp.hash(&mut h);
                        PreparedBlock {
                            hash: h.finish(),
                            comp,
                        }
                    })
                    .collect()
            })
            .collect();
        Prepared { doc, blocks }
    }

    /// True when both documents have the same content in the sense of
    /// [`Document::fingerprint`]: the same section keys and levels, and the same
    /// block kinds, comparable texts and link targets, in order.
    fn same_content(&self, other: &Prepared<'_>) -> bool {
        let (a, b) = (&self.doc.sections, &other.doc.sections);
        a.len() == b.len()
            && a.iter().zip(b).enumerate().all(|(s, (x, y))| {
                x.key == y.key
                    && x.level == y.level
                    && x.blocks.len() == y.blocks.len()
                    && x.blocks
                        .iter()
                        .zip(&y.blocks)
                        .enumerate()
                        .all(|(k, (p, q))| {
                            p.kind == q.kind
                                && self.blocks[s][k].comp == other.blocks[s][k].comp
                                && p.links.len() == q.links.len()
                                && p.links.iter().zip(&q.links).all(|(l, m)| l.href == m.href)
                        })
            })
    }

    /// The word bag of a whole section.
    pub(crate) fn section_bag(&self, s: usize) -> words::Bag {
        let mut bag = words::Bag::default();
        for b in &self.blocks[s] {
            bag.add_text(&b.comp);
        }
        bag
    }
}

/// [`comparable`], with a fast path for text that is already in display form
/// and made only of printable ASCII, Latin-1 letters and the common curly quotes
/// and dashes (the bulk of real pages): those fold one character at a time and
/// skip Unicode normalisation, which is stable on them.
fn comparable_fast(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_space = true;
    for c in text.chars() {
        match c {
            ' ' if after_space => return comparable(text),
            ' ' => {
                out.push(' ');
                after_space = true;
                continue;
            }
            '`' => return comparable(text),
            '!'..='~' | '\u{00C0}'..='\u{00FF}' => out.push(c),
            '\u{2018}' | '\u{2019}' => out.push('\''),
            '\u{201C}' | '\u{201D}' => out.push('"'),
            '\u{2013}' | '\u{2014}' => out.push('-'),
            _ => return comparable(text),
        }
        after_space = false;
    }
    if after_space && !text.is_empty() {
        return comparable(text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Block, BlockKind, DocumentMeta, Link, SectionKey};
    use crate::revision::{BlockChangeKind as K, LinkChange, Span};
    use crate::stamp::Stamp;

    /// Builds a document from lines: `stamp: 2024-08-28`, `## Heading` (level =
    /// number of `#`), `- list item`, anything else a paragraph. `[[text|href]]`
    /// inside a block is a link. Blank lines are skipped.
    fn doc(spec: &str) -> Document {
        let mut meta = DocumentMeta::default();
        let mut sections: Vec<Section> = Vec::new();
        let mut path: Vec<(u8, String)> = Vec::new();
        for line in spec.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(d) = line.strip_prefix("stamp: ") {
                meta.stamp = Some(Stamp {
                    text: format!("Last updated: {d}"),
                    date: d.parse().unwrap(),
                    time: None,
                    instant: None,
                    shown: String::new(),
                    source: crate::stamp::StampSource::Text,
                    zone: "Europe/Brussels".into(),
                    class: crate::stamp::StampClass::Updated,
                    also: Vec::new(),
                });
            } else if line.starts_with('#') {
                let level = line.chars().take_while(|&c| c == '#').count() as u8;
                let heading = line[level as usize..].trim().to_string();
                while path.last().is_some_and(|(l, _)| *l >= level) {
                    path.pop();
                }
                path.push((level, comparable(&heading)));
                sections.push(Section {
                    key: SectionKey(path.iter().map(|(_, h)| h.clone()).collect()),
                    heading: Some(heading),
                    level,
                    blocks: Vec::new(),
                });
            } else {
                if sections.is_empty() {
                    sections.push(Section {
                        key: SectionKey::lead(),
                        heading: None,
                        level: 0,
                        blocks: Vec::new(),
                    });
                }
                let (kind, rest) = match line.strip_prefix("- ") {
                    Some(r) => (BlockKind::ListItem, r),
                    None => (BlockKind::Paragraph, line),
                };
                let mut text = String::new();
                let mut links = Vec::new();
                let mut rest = rest;
                while let Some(at) = rest.find("[[") {
                    text.push_str(&rest[..at]);
                    let end = rest[at..].find("]]").unwrap() + at;
                    let (t, h) = rest[at + 2..end].split_once('|').unwrap();
                    text.push_str(t);
                    links.push(Link {
                        text: t.to_string(),
                        href: h.to_string(),
                    });
                    rest = &rest[end + 2..];
                }
                text.push_str(rest);
                sections
                    .last_mut()
                    .unwrap()
                    .blocks
                    .push(Block { kind, text, links });
            }
        }
        Document { meta, sections }
    }

    const BASE: &str = "
        stamp: 2024-08-28
        NATO worked to build a partnership with Belarus for many years.
        - NATO Allies have been closely watching the developments unfolding in Belarus since August 2020.
        - In November 2021, Allies suspended all practical cooperation, both civilian and military, between NATO and Belarus.
        - NATO Allies have condemned Belarus for enabling Russia’s full-scale invasion of Ukraine.
        ## Belarus’ role in Russia’s war against Ukraine
        NATO Allies condemn all those who are facilitating and thereby prolonging Russia’s war of aggression against Ukraine.
        Russia’s deepening political and military integration of Belarus has negative implications for regional stability.
        ## Evolution of relations
        Belarus’ relations with NATO started in 1992, when it joined the North Atlantic Cooperation Council.
        Belarus’ diplomatic mission to NATO opened in April 1998.
        Following these developments, Allies suspended all practical cooperation in November 2021.
        ## Key areas of cooperation prior to 2021
        Belarus’ cooperation with NATO prior to 2021 was mutually beneficial. Some highlights included:
        ### Science
        Since 2001, Belarus received grant awards for about 40 cooperative activities under the SPS Programme.
        ### Training
        Belarus had access to a wide catalogue of education and training opportunities offered by NATO.
    ";

    /// Replaces `from` by `to` in BASE (exactly once).
    fn edit(spec: &str, from: &str, to: &str) -> String {
        assert_eq!(spec.matches(from).count(), 1, "edit target {from:?}");
        spec.replacen(from, to, 1)
    }

    fn diff(old: &str, new: &str) -> Option<Revision> {
        let (old, new) = (doc(old), doc(new));
        let same = Prepared::new(&old).same_content(&Prepared::new(&new));
        assert_eq!(
            same,
            old.fingerprint() == new.fingerprint(),
            "content verdict agrees with the fingerprint"
        );
        let r = revision(&old, &new, &DiffOptions::default());
        if let Some(r) = &r {
            check_invariants(r);
        }
        r
    }

    /// Spans concatenate to the texts, and the summary matches the sections.
    fn check_invariants(r: &Revision) {
        for b in r.sections.iter().flat_map(|s| &s.blocks) {
            if b.change == K::Reordered {
                assert!(b.spans.is_empty());
                continue;
            }
            if b.moved_to.is_some() {
                // The source side of a cross-section move.
                assert_eq!(b.change, K::Moved, "{b:?}");
                assert!(b.spans.is_empty() && b.new_text.is_none(), "{b:?}");
                assert!(b.old_index.is_some() && b.new_index.is_none(), "{b:?}");
                assert!(b.old_text.is_some() && b.moved_from.is_none(), "{b:?}");
                continue;
            }
            let old: String = b
                .spans
                .iter()
                .filter(|s| s.tag != SpanTag::Insert)
                .map(|s| s.text.as_str())
                .collect();
            let new: String = b
                .spans
                .iter()
                .filter(|s| s.tag != SpanTag::Delete)
                .map(|s| s.text.as_str())
                .collect();
            assert_eq!(
                old,
                b.old_text.clone().unwrap_or_default(),
                "old spans of {b:?}"
            );
            assert_eq!(
                new,
                b.new_text.clone().unwrap_or_default(),
                "new spans of {b:?}"
            );
        }
        assert_eq!(r.summary.sections_changed(), r.sections.len());
        // Each cross-section move has its two sides: (source, destination, old text).
        let side = |pick: fn(&BlockChange) -> Option<&String>, dest_first: bool| {
            let mut v: Vec<(String, String, String)> = r
                .sections
                .iter()
                .flat_map(|s| {
                    s.blocks.iter().filter_map(move |b| {
                        let other = pick(b)?.clone();
                        let text = b.old_text.clone().unwrap_or_default();
                        Some(if dest_first {
                            (other, s.heading.clone(), text)
                        } else {
                            (s.heading.clone(), other, text)
                        })
                    })
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            side(|b| b.moved_to.as_ref(), false),
            side(|b| b.moved_from.as_ref(), true),
            "moved_to and moved_from pair up"
        );
    }

    fn sp(tag: SpanTag, text: &str) -> Span {
        Span {
            tag,
            text: text.to_string(),
        }
    }

    /// (change, heading, [(block change, old index, new index)]) per section.
    type Shape = Vec<(
        SectionChange,
        String,
        Vec<(K, Option<usize>, Option<usize>)>,
    )>;

    fn shape(r: &Revision) -> Shape {
        r.sections
            .iter()
            .map(|s| {
                let blocks = s
                    .blocks
                    .iter()
                    .map(|b| (b.change, b.old_index, b.new_index))
                    .collect();
                (s.change, s.heading.clone(), blocks)
            })
            .collect()
    }

    fn summary(
        added: usize,
        removed: usize,
        modified: usize,
        renamed: usize,
        moved: usize,
        words: (usize, usize),
    ) -> ChangeSummary {
        ChangeSummary {
            sections_total: 0,
            sections_added: added,
            sections_removed: removed,
            sections_modified: modified,
            sections_renamed: renamed,
            sections_moved: moved,
            words_added: words.0,
            words_removed: words.1,
            ..ChangeSummary::default()
        }
    }

    fn without_total(s: &ChangeSummary) -> ChangeSummary {
        ChangeSummary {
            sections_total: 0,
            ..s.clone()
        }
    }

    const EVO: &str = "Evolution of relations";
    const ROLE: &str = "Belarus’ role in Russia’s war against Ukraine";
    const KEY: &str = "Key areas of cooperation prior to 2021";

    #[test]
    fn classification() {
        let restamped = edit(BASE, "stamp: 2024-08-28", "stamp: 2026-11-14");
        let unstamped = edit(BASE, "stamp: 2024-08-28", "");
        let edited = edit(BASE, "April 1998.", "May 1998.");
        let edited_restamped = edit(&restamped, "April 1998.", "May 1998.");
        let edited_unstamped = edit(&unstamped, "April 1998.", "May 1998.");
        let typography = edit(BASE, "Russia’s full-scale", "Russia's full\u{2013}scale");
        let typography = edit(&typography, "## Belarus’ role", "## Belarus' role");
        let cases: [(&str, &str, Option<RevisionKind>); 7] = [
            (BASE, BASE, None),
            (BASE, &restamped, Some(RevisionKind::StampOnly)),
            (BASE, &edited, Some(RevisionKind::SilentEdit)),
            // no readable stamp: never called a silent edit
            (&unstamped, &edited_unstamped, Some(RevisionKind::Changed)),
            (BASE, &edited_restamped, Some(RevisionKind::Revised)),
            (BASE, &typography, None),
            (
                BASE,
                &edit(&typography, "stamp: 2024-08-28", "stamp: 2026-11-14"),
                Some(RevisionKind::StampOnly),
            ),
        ];
        for (k, (old, new, want)) in cases.into_iter().enumerate() {
            assert_eq!(diff(old, new).map(|r| r.kind), want, "case {k}");
        }
    }

    #[test]
    fn stamp_only_has_no_sections() {
        let r = diff(BASE, &edit(BASE, "stamp: 2024-08-28", "stamp: 2026-11-14")).unwrap();
        assert_eq!(r.sections, vec![]);
        assert_eq!(
            r.summary,
            ChangeSummary {
                sections_total: 6,
                ..ChangeSummary::default()
            }
        );
        assert_eq!(r.unchanged, ["Lead", ROLE, EVO, KEY, "Science", "Training"]);
        assert_eq!(r.old_stamp.unwrap().date.to_string(), "2024-08-28");
        assert_eq!(r.new_stamp.unwrap().date.to_string(), "2026-11-14");
    }

    #[test]
    fn reworded_sentence_is_one_replaced_block() {
        let new = edit(
            BASE,
            "opened in April 1998.",
            "opened in April 1998 and was downgraded in 2025.",
        );
        let r = diff(BASE, &new).unwrap();
        assert_eq!(r.kind, RevisionKind::SilentEdit);
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::Modified,
                EVO.to_string(),
                vec![(K::Replaced, Some(1), Some(1))]
            )]
        );
        let b = &r.sections[0].blocks[0];
        assert_eq!(
            b.spans,
            vec![
                sp(
                    SpanTag::Equal,
                    "Belarus’ diplomatic mission to NATO opened in April 1998"
                ),
                sp(SpanTag::Insert, " and was downgraded in 2025"),
                sp(SpanTag::Equal, "."),
            ]
        );
        assert_eq!(without_total(&r.summary), summary(0, 0, 1, 0, 0, (5, 0)));
        assert_eq!(r.summary.sections_total, 6);
        assert_eq!(r.unchanged, ["Lead", ROLE, KEY, "Science", "Training"]);
        assert_eq!(r.sections[0].old_position, Some(2));
        assert_eq!(r.sections[0].new_position, Some(2));
        assert_eq!(r.degraded, None);
    }

    #[test]
    fn typography_inside_a_changed_block_does_not_hide_the_change() {
        let new = edit(BASE, "opened in April 1998.", "opened in May 1998.");
        let new = edit(&new, "Belarus’ diplomatic", "Belarus' diplomatic");
        let r = diff(BASE, &new).unwrap();
        let b = &r.sections[0].blocks[0];
        assert_eq!(b.change, K::Replaced);
        assert_eq!(
            b.spans,
            vec![
                sp(SpanTag::Equal, "Belarus"),
                sp(SpanTag::Delete, "’"),
                sp(SpanTag::Insert, "'"),
                sp(SpanTag::Equal, " diplomatic mission to NATO opened in "),
                sp(SpanTag::Delete, "April"),
                sp(SpanTag::Insert, "May"),
                sp(SpanTag::Equal, " 1998."),
            ]
        );
    }

    #[test]
    fn section_added_and_highlight_removed() {
        let new = edit(
            BASE,
            "- In November 2021, Allies suspended all practical cooperation, both civilian and military, between NATO and Belarus.",
            "",
        );
        let new = format!(
            "{new}\n## Relations since 2024\nAllies continue to monitor the stationing of Russian forces in Belarus.\n- A new list item."
        );
        let r = diff(BASE, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![
                (
                    SectionChange::Modified,
                    "Lead".to_string(),
                    vec![(K::Deleted, Some(2), None)]
                ),
                (
                    SectionChange::Added,
                    "Relations since 2024".to_string(),
                    vec![(K::Inserted, None, Some(0)), (K::Inserted, None, Some(1)),]
                ),
            ]
        );
        assert_eq!(without_total(&r.summary), summary(1, 0, 1, 0, 0, (15, 16)));
        assert_eq!(r.summary.sections_total, 7);
        assert_eq!(r.unchanged, [ROLE, EVO, KEY, "Science", "Training"]);
        assert_eq!(r.sections[1].new_position, Some(6));
        assert_eq!(r.sections[1].old_position, None);
    }

    #[test]
    fn section_removed_keeps_its_old_place() {
        let new = edit(
            BASE,
            "## Evolution of relations
        Belarus’ relations with NATO started in 1992, when it joined the North Atlantic Cooperation Council.
        Belarus’ diplomatic mission to NATO opened in April 1998.
        Following these developments, Allies suspended all practical cooperation in November 2021.",
            "",
        );
        let new = edit(&new, "grant awards", "awards");
        let r = diff(BASE, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![
                (
                    SectionChange::Removed,
                    EVO.to_string(),
                    vec![
                        (K::Deleted, Some(0), None),
                        (K::Deleted, Some(1), None),
                        (K::Deleted, Some(2), None),
                    ]
                ),
                (
                    SectionChange::Modified,
                    "Science".to_string(),
                    vec![(K::Replaced, Some(0), Some(0))]
                ),
            ]
        );
        assert_eq!(without_total(&r.summary), summary(0, 1, 1, 0, 0, (0, 36)));
        assert_eq!(r.sections[0].old_position, Some(2));
        assert_eq!(
            r.sections[0].key,
            SectionKey(vec!["Evolution of relations".to_string()])
        );
    }

    #[test]
    fn renamed_heading_is_matched_with_its_children() {
        let new = edit(
            BASE,
            "## Key areas of cooperation prior to 2021",
            "## Areas of cooperation before 2021",
        );
        let r = diff(BASE, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::Renamed,
                "Areas of cooperation before 2021".to_string(),
                vec![]
            )]
        );
        assert_eq!(r.sections[0].old_heading.as_deref(), Some(KEY));
        assert_eq!(without_total(&r.summary), summary(0, 0, 1, 1, 0, (0, 0)));
        assert_eq!(r.unchanged, ["Lead", ROLE, EVO, "Science", "Training"]);

        // A wholly new heading over the same text is still a rename.
        let new = edit(
            BASE,
            "## Key areas of cooperation prior to 2021",
            "## Past partnership",
        );
        let r = diff(BASE, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::Renamed,
                "Past partnership".to_string(),
                vec![]
            )]
        );
    }

    #[test]
    fn heading_level_change_is_relevelled_without_blocks() {
        // (old spec edit, new heading, change, old level, new level)
        let cases = [
            (
                "### Training",
                "#### Training",
                SectionChange::Relevelled,
                3,
                4,
            ),
            (
                "## Evolution of relations",
                "### Evolution of relations",
                SectionChange::Relevelled,
                2,
                3,
            ),
            // renamed and re-levelled: renamed, with the old level kept
            (
                "## Evolution of relations",
                "### Evolution of the relations",
                SectionChange::Renamed,
                2,
                3,
            ),
        ];
        for (from, to, change, old_level, level) in cases {
            let r = diff(BASE, &edit(BASE, from, to)).unwrap();
            let heading = to.trim_start_matches('#').trim().to_string();
            assert_eq!(shape(&r), vec![(change, heading, vec![])], "{to}");
            assert_eq!(r.sections[0].level, level);
            assert_eq!(r.sections[0].old_level, Some(old_level));
            let relevelled = usize::from(change == SectionChange::Relevelled);
            let renamed = 1 - relevelled;
            let mut want = summary(0, 0, 1, renamed, 0, (0, 0));
            want.sections_relevelled = relevelled;
            assert_eq!(without_total(&r.summary), want, "{to}");
            assert_eq!(r.summary.sections_changed(), 1);
        }
    }

    /// BASE with an introduction to "Evolution of relations", so a heading can
    /// go in between it and the section's three paragraphs.
    fn with_intro() -> String {
        edit(
            BASE,
            "## Evolution of relations",
            "## Evolution of relations\nNATO and Belarus have a long history of relations.",
        )
    }

    fn with_heading_above_three(old: &str) -> String {
        edit(
            old,
            "NATO and Belarus have a long history of relations.",
            "NATO and Belarus have a long history of relations.\n## Relations since 1992",
        )
    }

    fn heading_counts(added: usize, removed: usize) -> ChangeSummary {
        ChangeSummary {
            sections_heading_added: added,
            sections_heading_removed: removed,
            ..ChangeSummary::default()
        }
    }

    #[test]
    fn heading_inserted_above_three_unchanged_paragraphs_is_one_heading_change() {
        let old = with_intro();
        let new = with_heading_above_three(&old);
        let r = diff(&old, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::HeadingAdded,
                "Relations since 1992".to_string(),
                vec![]
            )]
        );
        assert_eq!(
            r.sections[0].kept,
            Some(KeptBlocks {
                count: 3,
                kind: Some(BlockKind::Paragraph),
                now_under: None
            })
        );
        assert_eq!(
            (r.sections[0].old_position, r.sections[0].new_position),
            (None, Some(3))
        );
        assert_eq!(without_total(&r.summary), heading_counts(1, 0));
        assert_eq!(r.summary.sections_changed(), 1);
        assert_eq!(r.unchanged, ["Lead", ROLE, EVO, KEY, "Science", "Training"]);
    }

    #[test]
    fn heading_inserted_above_an_edited_paragraph_lists_only_that_paragraph() {
        let old = with_intro();
        let new = edit(&with_heading_above_three(&old), "April 1998.", "May 1998.");
        let r = diff(&old, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::HeadingAdded,
                "Relations since 1992".to_string(),
                vec![(K::Replaced, Some(2), Some(1))]
            )]
        );
        let b = &r.sections[0].blocks[0];
        assert!(b.spans.contains(&sp(SpanTag::Delete, "April")), "{b:?}");
        assert!(b.spans.contains(&sp(SpanTag::Insert, "May")), "{b:?}");
        assert_eq!(r.sections[0].kept.as_ref().map(|k| k.count), Some(2));
        let mut want = heading_counts(1, 0);
        (want.words_added, want.words_removed) = (1, 1);
        assert_eq!(without_total(&r.summary), want);
    }

    #[test]
    fn heading_removed_is_one_heading_change_under_the_old_heading() {
        let new = edit(BASE, "## Belarus’ role in Russia’s war against Ukraine", "");
        let r = diff(BASE, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![(SectionChange::HeadingRemoved, ROLE.to_string(), vec![])]
        );
        assert_eq!(
            r.sections[0].kept,
            Some(KeptBlocks {
                count: 2,
                kind: Some(BlockKind::Paragraph),
                now_under: Some("Lead".to_string())
            })
        );
        assert_eq!(
            (r.sections[0].old_position, r.sections[0].new_position),
            (Some(1), None)
        );
        assert_eq!(without_total(&r.summary), heading_counts(0, 1));
        assert_eq!(r.unchanged, ["Lead", EVO, KEY, "Science", "Training"]);

        // An edit in one of its paragraphs is listed under the removed heading.
        let edited = edit(&new, "negative implications", "grave implications");
        let r = diff(BASE, &edited).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::HeadingRemoved,
                ROLE.to_string(),
                vec![(K::Replaced, Some(1), Some(5))]
            )]
        );
    }

    #[test]
    fn heading_split_off_mid_section_is_one_heading_change() {
        let new = edit(
            BASE,
            "Belarus’ diplomatic mission",
            "### Diplomatic mission\nBelarus’ diplomatic mission",
        );
        let r = diff(BASE, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::HeadingAdded,
                "Diplomatic mission".to_string(),
                vec![]
            )]
        );
        assert_eq!(r.sections[0].kept.as_ref().map(|k| k.count), Some(2));
        assert_eq!(r.unchanged, ["Lead", ROLE, EVO, KEY, "Science", "Training"]);

        // Heading inserted at the very top, above the lead's text.
        let new = format!("## Overview\n{BASE}");
        let r = diff(BASE, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![(SectionChange::HeadingAdded, "Overview".to_string(), vec![])]
        );
        assert_eq!(r.sections[0].kept.as_ref().map(|k| k.count), Some(4));
    }

    #[test]
    fn block_moved_out_of_a_removed_section_is_moved() {
        let r1 = "NATO Allies condemn all those who are facilitating and thereby prolonging Russia’s war of aggression against Ukraine.";
        let r2 = "Russia’s deepening political and military integration of Belarus has negative implications for regional stability.";
        let new = edit(BASE, &format!("## {ROLE}"), "");
        let new = edit(&new, r1, "");
        let new = edit(&new, r2, "");
        let new = edit(
            &new,
            "in November 2021.",
            &format!("in November 2021.\n{}", r2.replace("negative", "grave")),
        );
        let r = diff(BASE, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![
                (
                    SectionChange::Removed,
                    ROLE.to_string(),
                    vec![(K::Deleted, Some(0), None), (K::Moved, Some(1), None)]
                ),
                (
                    SectionChange::Modified,
                    EVO.to_string(),
                    vec![(K::Moved, Some(1), Some(3))]
                ),
            ]
        );
        assert_eq!(r.sections[0].blocks[1].moved_to.as_deref(), Some(EVO));
        let into = &r.sections[1].blocks[0];
        assert_eq!(into.moved_from.as_deref(), Some(ROLE));
        assert!(
            into.spans.contains(&sp(SpanTag::Insert, "grave")),
            "{into:?}"
        );
        assert_eq!(without_total(&r.summary), summary(0, 1, 1, 0, 0, (1, 18)));
    }

    #[test]
    fn block_moved_into_an_added_section_is_moved() {
        let m = "Belarus’ diplomatic mission to NATO opened in April 1998.";
        let new = edit(BASE, m, "");
        let new = format!(
            "{new}\n## Relations since 2024\nAllies continue to monitor the stationing of Russian forces in Belarus.\n{}",
            m.replace("April", "May")
        );
        let r = diff(BASE, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![
                (
                    SectionChange::Modified,
                    EVO.to_string(),
                    vec![(K::Moved, Some(1), None)]
                ),
                (
                    SectionChange::Added,
                    "Relations since 2024".to_string(),
                    vec![(K::Inserted, None, Some(0)), (K::Moved, Some(1), Some(1))]
                ),
            ]
        );
        assert_eq!(
            r.sections[0].blocks[0].moved_to.as_deref(),
            Some("Relations since 2024")
        );
        let into = &r.sections[1].blocks[1];
        assert_eq!(into.moved_from.as_deref(), Some(EVO));
        assert!(into.spans.contains(&sp(SpanTag::Insert, "May")), "{into:?}");
    }

    #[test]
    fn edited_list_item_moved_among_other_list_edits_is_moved() {
        let b = "- In November 2021, Allies suspended all practical cooperation, both civilian and military, between NATO and Belarus.";
        let c = "- NATO Allies have condemned Belarus for enabling Russia’s full-scale invasion of Ukraine.";
        let new = edit(
            BASE,
            &format!("{b}\n        {c}"),
            &format!(
                "{}\n{}",
                c.replace("have condemned", "have strongly condemned"),
                b.replace("November", "December")
            ),
        );
        let r = diff(BASE, &new).unwrap();
        let [s] = r.sections.as_slice() else {
            panic!("one section: {:?}", shape(&r));
        };
        assert_eq!(s.heading, "Lead");
        let mut kinds: Vec<K> = s.blocks.iter().map(|b| b.change).collect();
        kinds.sort_by_key(|k| k.as_str());
        assert_eq!(kinds, [K::Moved, K::Replaced], "{:?}", shape(&r));
        let moved = s.blocks.iter().find(|b| b.change == K::Moved).unwrap();
        assert!(
            moved.spans.iter().any(|sp| sp.tag == SpanTag::Insert),
            "word marks kept: {moved:?}"
        );
        assert_eq!(moved.moved_from, None);
        assert_eq!(without_total(&r.summary), summary(0, 0, 1, 0, 0, (2, 1)));
    }

    #[test]
    fn moved_section_and_moved_edited_section() {
        let evo = "## Evolution of relations
        Belarus’ relations with NATO started in 1992, when it joined the North Atlantic Cooperation Council.
        Belarus’ diplomatic mission to NATO opened in April 1998.
        Following these developments, Allies suspended all practical cooperation in November 2021.";
        let without = edit(BASE, evo, "");
        let moved = format!("{without}\n{evo}");
        let r = diff(BASE, &moved).unwrap();
        assert_eq!(
            shape(&r),
            vec![(SectionChange::Moved, EVO.to_string(), vec![])]
        );
        assert_eq!(
            (r.sections[0].old_position, r.sections[0].new_position),
            (Some(2), Some(5))
        );
        assert!(r.sections[0].moved);
        assert_eq!(without_total(&r.summary), summary(0, 0, 1, 0, 1, (0, 0)));
        assert_eq!(r.unchanged, ["Lead", ROLE, KEY, "Science", "Training"]);

        let moved_edited = edit(&moved, "April 1998.", "May 1998.");
        let r = diff(BASE, &moved_edited).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::Moved,
                EVO.to_string(),
                vec![(K::Replaced, Some(1), Some(1))]
            )]
        );
        assert_eq!(without_total(&r.summary), summary(0, 0, 1, 0, 1, (1, 1)));
    }

    #[test]
    fn moved_blocks_within_and_across_sections() {
        let p = "Belarus’ relations with NATO started in 1992, when it joined the North Atlantic Cooperation Council.";
        // Within a section: first paragraph moved to the end.
        let within = edit(BASE, &format!("{p}\n"), "");
        let within = edit(
            &within,
            "in November 2021.",
            &format!("in November 2021.\n{p}"),
        );
        let r = diff(BASE, &within).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::Modified,
                EVO.to_string(),
                vec![(K::Moved, Some(0), Some(2))]
            )]
        );
        assert_eq!(r.sections[0].blocks[0].moved_from, None);
        assert_eq!(r.sections[0].blocks[0].spans, vec![sp(SpanTag::Equal, p)]);
        assert_eq!(without_total(&r.summary), summary(0, 0, 1, 0, 0, (0, 0)));

        // Across sections, and edited on the way: the old section lists the
        // block as moved out, the new one as moved in with the edit marked.
        let across = edit(BASE, &format!("{p}\n"), "");
        let across = edit(
            &across,
            "about 40 cooperative activities under the SPS Programme.",
            &format!(
                "about 40 cooperative activities under the SPS Programme.\n{}",
                p.replace("1992", "1993")
            ),
        );
        let r = diff(BASE, &across).unwrap();
        assert_eq!(
            shape(&r),
            vec![
                (
                    SectionChange::Modified,
                    EVO.to_string(),
                    vec![(K::Moved, Some(0), None)]
                ),
                (
                    SectionChange::Modified,
                    "Science".to_string(),
                    vec![(K::Moved, Some(0), Some(1))]
                ),
            ]
        );
        assert_eq!(
            r.sections[0].blocks[0],
            BlockChange {
                change: K::Moved,
                kind: BlockKind::Paragraph,
                old_index: Some(0),
                new_index: None,
                old_text: Some(p.to_string()),
                new_text: None,
                spans: vec![],
                moved_from: None,
                moved_to: Some("Science".to_string()),
                links: vec![],
            }
        );
        assert_eq!(
            (r.sections[0].old_position, r.sections[0].new_position),
            (Some(2), Some(2))
        );
        let b = &r.sections[1].blocks[0];
        assert_eq!(b.moved_from.as_deref(), Some(EVO));
        assert_eq!(b.moved_to, None);
        assert_eq!(b.old_text.as_deref(), Some(p));
        assert!(b.spans.contains(&sp(SpanTag::Insert, "1993")));
        assert!(b.spans.contains(&sp(SpanTag::Delete, "1992")));
        assert_eq!(r.unchanged, ["Lead", ROLE, KEY, "Training"]);
        // The source counts as modified; the moved words are neither added nor
        // removed, only the edit counts.
        assert_eq!(without_total(&r.summary), summary(0, 0, 2, 0, 0, (1, 1)));
        assert_eq!(r.summary.sections_changed(), 2);
    }

    #[test]
    fn block_moved_out_sits_at_its_old_place_among_other_changes() {
        // Evolution: paragraph 0 edited, paragraph 1 moved as is to Training,
        // paragraph 2 removed. All three old blocks fall in one hunk.
        let m = "Belarus’ diplomatic mission to NATO opened in April 1998.";
        let new = edit(BASE, &format!("{m}\n"), "");
        let new = edit(&new, "started in 1992", "started in 1993");
        let new = edit(
            &new,
            "Following these developments, Allies suspended all practical cooperation in November 2021.",
            "",
        );
        let new = edit(
            &new,
            "training opportunities offered by NATO.",
            &format!("training opportunities offered by NATO.\n{m}"),
        );
        let r = diff(BASE, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![
                (
                    SectionChange::Modified,
                    EVO.to_string(),
                    vec![
                        (K::Replaced, Some(0), Some(0)),
                        (K::Moved, Some(1), None),
                        (K::Deleted, Some(2), None),
                    ]
                ),
                (
                    SectionChange::Modified,
                    "Training".to_string(),
                    vec![(K::Moved, Some(1), Some(1))]
                ),
            ]
        );
        let (out, into) = (&r.sections[0].blocks[1], &r.sections[1].blocks[0]);
        assert_eq!(out.moved_to.as_deref(), Some("Training"));
        assert_eq!(out.old_text.as_deref(), Some(m));
        assert_eq!(out.spans, vec![]);
        assert_eq!(into.moved_from.as_deref(), Some(EVO));
        assert_eq!(into.spans, vec![sp(SpanTag::Equal, m)]);
        // +1 / -1 for 1992 -> 1993, -11 for the removed paragraph; nothing for the move.
        assert_eq!(without_total(&r.summary), summary(0, 0, 2, 0, 0, (1, 12)));
        assert_eq!(r.unchanged, ["Lead", ROLE, KEY, "Science"]);
    }

    #[test]
    fn reordered_list_is_one_low_change() {
        let a = "- NATO Allies have been closely watching the developments unfolding in Belarus since August 2020.";
        let c = "- NATO Allies have condemned Belarus for enabling Russia’s full-scale invasion of Ukraine.";
        let new = edit(BASE, a, "@@A@@");
        let new = edit(&new, c, a);
        let new = edit(&new, "@@A@@", c);
        let r = diff(BASE, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::Modified,
                "Lead".to_string(),
                vec![(K::Reordered, Some(1), Some(1))]
            )]
        );
        let b = &r.sections[0].blocks[0];
        assert_eq!(b.kind, BlockKind::ListItem);
        assert_eq!(b.new_text.as_deref().map(|t| t.lines().count()), Some(3));
        assert!(b.new_text.as_deref().unwrap().starts_with(&c[2..]));
        assert_eq!(without_total(&r.summary), summary(0, 0, 1, 0, 0, (0, 0)));
    }

    #[test]
    fn link_target_changed() {
        let old = edit(
            BASE,
            "North Atlantic Cooperation Council.",
            "[[North Atlantic Cooperation Council|https://www.nato.int/cps/en/natohq/topics_69344.htm]].",
        );
        let new = edit(
            BASE,
            "North Atlantic Cooperation Council.",
            "[[North Atlantic Cooperation Council|https://www.nato.int/cps/en/natohq/topics_69345.htm]].",
        );
        let r = diff(&old, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::Modified,
                EVO.to_string(),
                vec![(K::LinkChanged, Some(0), Some(0))]
            )]
        );
        assert_eq!(
            r.sections[0].blocks[0].links,
            vec![LinkChange {
                text: "North Atlantic Cooperation Council".to_string(),
                old_href: "https://www.nato.int/cps/en/natohq/topics_69344.htm".to_string(),
                new_href: "https://www.nato.int/cps/en/natohq/topics_69345.htm".to_string(),
            }]
        );
        assert_eq!(without_total(&r.summary), summary(0, 0, 1, 0, 0, (0, 0)));
        // Same target: nothing.
        assert_eq!(diff(&old, &old), None);
    }

    #[test]
    fn split_and_merged_paragraphs() {
        let joined = "Belarus’ relations with NATO started in 1992, when it joined the North Atlantic Cooperation Council. Belarus’ diplomatic mission to NATO opened in April 1998.";
        let two = "Belarus’ relations with NATO started in 1992, when it joined the North Atlantic Cooperation Council.
        Belarus’ diplomatic mission to NATO opened in April 1998.";
        let merged = edit(BASE, two, joined);

        let r = diff(&merged, BASE).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::Modified,
                EVO.to_string(),
                vec![(K::Split, Some(0), Some(0))]
            )]
        );
        let b = &r.sections[0].blocks[0];
        assert_eq!(
            b.spans,
            vec![
                sp(
                    SpanTag::Equal,
                    "Belarus’ relations with NATO started in 1992, when it joined the North Atlantic Cooperation Council."
                ),
                sp(SpanTag::Delete, " "),
                sp(SpanTag::Insert, "\n\n"),
                sp(
                    SpanTag::Equal,
                    "Belarus’ diplomatic mission to NATO opened in April 1998."
                ),
            ]
        );
        assert_eq!(without_total(&r.summary), summary(0, 0, 1, 0, 0, (0, 0)));

        let r = diff(BASE, &merged).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::Modified,
                EVO.to_string(),
                vec![(K::Merged, Some(0), Some(0))]
            )]
        );
        assert_eq!(r.sections[0].blocks[0].new_text.as_deref(), Some(joined));
    }

    #[test]
    fn comparable_fast_agrees_with_comparable() {
        let cases = [
            "",
            "plain ascii text.",
            "Belarus\u{2019} \u{201C}role\u{201D} 1992\u{2013}1997 \u{2014} x",
            "caf\u{00E9} na\u{00EF}ve \u{00C0} \u{00FF}",
            " leading",
            "trailing ",
            "double  space",
            "tab\there",
            "back`tick",
            "wait\u{2026}",
            "nbsp\u{00A0}here",
            "soft\u{00AD}hyphen",
            "ligature \u{FB01}ne",
            "half \u{00BD}",
            "e\u{0301}",
            "\u{041C}\u{0456}\u{043D}\u{0441}\u{043A}",
        ];
        for text in cases {
            assert_eq!(comparable_fast(text), comparable(text), "text {text:?}");
        }
    }

    fn big_list(n: usize, changed: Option<usize>) -> Document {
        let mut spec = String::from("## Items\n");
        for k in 0..n {
            let extra = if changed == Some(k) {
                "changed"
            } else {
                "original"
            };
            spec.push_str(&format!(
                "- Item {k}: {extra} text about cooperation between NATO and Belarus, repeated to make the page large. {}\n",
                "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. ".repeat(4)
            ));
        }
        doc(&spec)
    }

    #[test]
    fn big_list_with_one_change_shows_one_block() {
        let old = big_list(5_000, None);
        let new = big_list(5_000, Some(2_500));
        assert!(old.text_len() > 2_000_000);
        let started = Instant::now();
        let r = revision(&old, &new, &DiffOptions::default()).unwrap();
        let elapsed = started.elapsed();
        check_invariants(&r);
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::Modified,
                "Items".to_string(),
                vec![(K::Replaced, Some(2_500), Some(2_500))]
            )]
        );
        assert_eq!(without_total(&r.summary), summary(0, 0, 1, 0, 0, (1, 1)));
        assert_eq!(r.degraded, None);
        eprintln!("2 MB list diff took {elapsed:?}");
    }

    /// Words `seed..`, numbered, to `bytes` bytes (rewriting with another seed
    /// shares no word).
    fn numbered_words(seed: &str, bytes: usize) -> String {
        let mut out = String::new();
        let mut i = 0;
        while out.len() < bytes {
            out.push_str(&format!("{seed}{i} "));
            i += 1;
        }
        out
    }

    #[test]
    fn a_128000_character_heading_diff_ends_within_the_deadline_with_a_note() {
        let page = |seed: &str| {
            format!(
                "Intro paragraph.\n## Short heading\nOne paragraph.\n## {}\nSecond paragraph {seed}.",
                numbered_words(seed, 128_000)
            )
        };
        let (old, new) = (doc(&page("old")), doc(&page("new")));
        // Bounded by the deadline: the heading step gives way at once and says so.
        let r = revision(
            &old,
            &new,
            &DiffOptions {
                deadline: std::time::Duration::ZERO,
            },
        )
        .unwrap();
        check_invariants(&r);
        let note = r.degraded.as_deref().unwrap_or_default();
        assert!(
            note.starts_with(
                "diff deadline of 0 ms reached: sections paired by equal headings only"
            ),
            "{note}"
        );
        // With time to spare the heading is compared by its words (no
        // character diff of a heading no real page has), at linear cost.
        let hour = DiffOptions {
            deadline: std::time::Duration::from_secs(3600),
        };
        let r = revision(&old, &new, &hour).unwrap();
        check_invariants(&r);
        assert_eq!(r.degraded, None);
        assert_eq!(r.summary.sections_total, 3, "{:?}", r.summary);
    }

    #[test]
    fn heading_similarity_work_is_bounded_on_many_renamed_sections() {
        // 140 x 140 renamed sections of 190-character headings: past the
        // character-diff budget, the rest scored by words.
        let page = |prefix: &str| {
            (0..140)
                .map(|i| {
                    format!(
                        "## {prefix} {i} {}\nParagraph {i} with enough words to pair it again.\n",
                        "heading words ".repeat(13)
                    )
                })
                .collect::<String>()
        };
        let hour = DiffOptions {
            deadline: std::time::Duration::from_secs(3600),
        };
        let r = revision(&doc(&page("Old")), &doc(&page("New")), &hour).unwrap();
        check_invariants(&r);
        assert_eq!(r.degraded, None);
        assert_eq!(r.summary.sections_total, 140, "{:?}", r.summary);
    }

    #[test]
    fn deadline_degrades_to_block_level() {
        let new = edit(BASE, "opened in April 1998.", "opened in May 1998.");
        let r = revision(
            &doc(BASE),
            &doc(&new),
            &DiffOptions {
                deadline: std::time::Duration::ZERO,
            },
        )
        .unwrap();
        check_invariants(&r);
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::Modified,
                EVO.to_string(),
                vec![(K::Replaced, Some(1), Some(1))]
            )]
        );
        assert_eq!(
            r.sections[0].blocks[0].spans,
            vec![
                sp(
                    SpanTag::Delete,
                    "Belarus’ diplomatic mission to NATO opened in April 1998."
                ),
                sp(
                    SpanTag::Insert,
                    "Belarus’ diplomatic mission to NATO opened in May 1998."
                ),
            ]
        );
        assert_eq!(
            r.degraded.as_deref(),
            Some(
                "diff deadline of 0 ms reached: 1 block(s) marked as whole blocks, not word by word"
            )
        );
    }

    #[test]
    fn edited_paragraph_then_new_paragraph_is_not_a_split() {
        let new = edit(
            BASE,
            "opened in April 1998.",
            "opened in May 1998.\n        It was downgraded in 2025.",
        );
        let r = diff(BASE, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::Modified,
                EVO.to_string(),
                vec![
                    (K::Replaced, Some(1), Some(1)),
                    (K::Inserted, None, Some(2)),
                ]
            )]
        );
        assert_eq!(without_total(&r.summary), summary(0, 0, 1, 0, 0, (6, 1)));
    }

    #[test]
    fn unrelated_replacement_stays_deleted_and_inserted() {
        let new = edit(
            BASE,
            "Belarus’ diplomatic mission to NATO opened in April 1998.",
            "Completely different words appear here now.",
        );
        let r = diff(BASE, &new).unwrap();
        assert_eq!(
            shape(&r),
            vec![(
                SectionChange::Modified,
                EVO.to_string(),
                vec![(K::Deleted, Some(1), None), (K::Inserted, None, Some(1)),]
            )]
        );
        assert_eq!(without_total(&r.summary), summary(0, 0, 1, 0, 0, (6, 9)));
    }

    #[test]
    fn reworded_block_between_unchanged_neighbours_is_replaced() {
        // (new text, Dice similarity to the old words): under the pairing bar,
        // above the rewriting one.
        let cases = [
            // 4 words shared, 9 and 12 words: 0.38
            "Belarus set up its diplomatic office at NATO headquarters during spring 1998.",
            // 5 words shared, 9 and 12 words: 0.48
            "In the spring of 1998 Belarus set up a mission at NATO.",
        ];
        for to in cases {
            let new = edit(
                BASE,
                "Belarus’ diplomatic mission to NATO opened in April 1998.",
                to,
            );
            let r = diff(BASE, &new).unwrap();
            assert_eq!(
                shape(&r),
                vec![(
                    SectionChange::Modified,
                    EVO.to_string(),
                    vec![(K::Replaced, Some(1), Some(1))]
                )],
                "{to}"
            );
        }
    }

    #[test]
    fn paragraph_moved_to_another_section_with_a_clause_reworded_is_moved() {
        let para = "Following these developments, Allies suspended all practical cooperation in November 2021.";
        let last_role = "Russia’s deepening political and military integration of Belarus has negative implications for regional stability.";
        // 9 words shared, 11 and 14 words: Dice 0.72, under the bar of a move left as is.
        let reworded = "Following these developments, Allies suspended all practical cooperation with Belarus from late 2021 onwards.";
        let new = edit(
            &edit(BASE, &format!("\n        {para}"), ""),
            last_role,
            &format!("{last_role}\n        {reworded}"),
        );
        let r = diff(BASE, &new).unwrap();
        let role = r
            .sections
            .iter()
            .find(|s| s.heading == ROLE)
            .unwrap_or_else(|| panic!("{:?}", shape(&r)));
        let [moved] = role.blocks.as_slice() else {
            panic!("one block under {ROLE}: {:?}", shape(&r));
        };
        assert_eq!(moved.change, K::Moved, "{:?}", shape(&r));
        assert_eq!(moved.moved_from.as_deref(), Some(EVO));
        assert!(
            moved.spans.iter().any(|sp| sp.tag == SpanTag::Insert),
            "word marks kept: {moved:?}"
        );
        assert!(
            r.sections
                .iter()
                .flat_map(|s| &s.blocks)
                .all(|b| b.change != K::Deleted && b.change != K::Inserted),
            "{:?}",
            shape(&r)
        );
    }
}
