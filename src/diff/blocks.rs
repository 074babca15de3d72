//! Block alignment over the whole document, and the block changes it finds.
//!
//! Both documents are laid out as one sequence of blocks (`Layout`): the new
//! one in page order, the old one with its sections in the order of their
//! partners in the new document (see `align::old_layout`), so a section that
//! moved as a whole, a heading inserted above existing blocks and a heading
//! removed from above them all leave the block sequence as it was. Then:
//! 1. list runs whose items are the same but in another order become one
//!    `reordered` change, and count as equal from then on;
//! 2. the blocks are diffed as hashes of their kind and comparable text
//!    (Myers, under the deadline), so equal blocks cost one comparison; equal
//!    blocks whose link targets changed become `link-changed`;
//! 3. the unequal stretches (hunks) are kept for step 4 onwards.
//!
//! A deleted block whose hash equals an inserted block's is a `moved` block.
//! Then each hunk's remaining blocks are paired by an alignment that
//! maximises word-bag similarity: `replaced` (one to one), `split` (one old to
//! two consecutive new of one section) and `merged` (two consecutive old of
//! one section to one new); what stays unpaired is `deleted` or `inserted`,
//! unless a similar block was inserted or deleted anywhere else in the
//! document, the same hunk included (then `moved`, with word marks for the
//! edit: an edited list item that changed place among other edits; a
//! paragraph moved with a clause reworded), or it is the only block deleted
//! and the only one inserted between unchanged neighbours, sharing some words
//! (then `replaced`: the block was rewritten in place).
//!
//! A block that stays in place in the sequence but now sits under another
//! heading is unchanged when that heading was added or removed (the heading
//! is the change), and moved when both its old and its new section are still
//! on the page under other headings. Every move yields two [`Placed`] sides
//! sharing an id; the diff stage lists the source side only when it falls in
//! another section of the redline than the destination.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;
use std::time::Instant;

use similar::{Algorithm, DiffOp, capture_diff_slices_deadline};

use super::Prepared;
use super::words::{self, Bag};
use crate::document::{Block, BlockKind, Document, Link, Section};
use crate::normalize::comparable;
use crate::revision::{BlockChange, BlockChangeKind, LinkChange, Span, SpanTag};

/// Lowest Dice similarity for an old and a new block to be one replaced block.
const PAIR_THRESHOLD: f64 = 0.5;
/// Lowest Dice similarity between a block and two joined ones for a split or merge.
const JOIN_THRESHOLD: f64 = 0.75;
/// Lowest share of each part's words found in the joined side for a split or merge.
const PART_CONTAINMENT: f64 = 0.7;
/// Lowest Dice similarity for the only old and new blocks between unchanged
/// neighbours to be one block rewritten in place.
const REWRITE_THRESHOLD: f64 = 0.2;
/// Lowest Dice similarity for an edited block found elsewhere to be moved.
const MOVE_THRESHOLD: f64 = 0.8;
/// Fewest words a block needs to be recognised as moved with edits.
const MOVE_MIN_WORDS: u32 = 4;
/// Largest hunk (old blocks × new blocks) aligned exactly; bigger ones are paired by position.
const MAX_ALIGN_CELLS: usize = 2_500;
/// Largest number of (deleted × inserted) candidates examined for edited moves.
const MAX_MOVE_CANDIDATES: usize = 10_000;

/// Shared state of one diff: the deadline and how often it cut word detail.
#[derive(Debug)]
pub(crate) struct Ctx {
    /// When to stop word-level work; `None` for no limit.
    pub deadline: Option<Instant>,
    /// Blocks whose word marks were replaced by whole-block marks.
    pub degraded_blocks: usize,
    /// Hunks whose blocks were paired by position (not by best score)
    /// because the deadline had passed.
    pub degraded_hunks: usize,
}

impl Ctx {
    /// True once the deadline has passed.
    pub fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Word spans, or whole-block spans once past the deadline.
    pub fn spans(&mut self, old: &str, new: &str) -> Vec<Span> {
        if old == new {
            if new.is_empty() {
                return Vec::new();
            }
            return vec![Span {
                tag: SpanTag::Equal,
                text: new.to_string(),
            }];
        }
        if self.past_deadline() {
            self.degraded_blocks += 1;
            return words::coarse(old, new);
        }
        words::spans(old, new, self.deadline)
    }
}

/// One document's blocks as one sequence: (section, block index) per
/// position; each section's blocks are contiguous and in page order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    /// (section, block) at each position.
    pub at: Vec<(usize, usize)>,
    /// Per section, the position of its first block.
    start: Vec<usize>,
}

impl Layout {
    /// Lays out the sections of `doc` in `order` (each section once).
    pub(crate) fn new(doc: &Document, order: impl IntoIterator<Item = usize>) -> Self {
        let mut at = Vec::new();
        let mut start = vec![0; doc.sections.len()];
        for s in order {
            start[s] = at.len();
            at.extend((0..doc.sections[s].blocks.len()).map(|b| (s, b)));
        }
        Layout { at, start }
    }

    /// Runs of two or more consecutive list items, as position ranges.
    fn list_runs(&self, doc: &Document) -> Vec<Range<usize>> {
        let mut runs: Vec<Range<usize>> = Vec::new();
        for (s, sec) in doc.sections.iter().enumerate() {
            let off = self.start[s];
            runs.extend(
                list_runs(sec)
                    .into_iter()
                    .map(|r| off + r.start..off + r.end),
            );
        }
        runs.sort_by_key(|r| r.start);
        runs
    }
}

/// Which side of a move a [`Placed`] change is; both sides share the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Not part of a move.
    Plain,
    /// The old place of a moved block (`moved_to` to be filled in).
    MoveSource(usize),
    /// The new place of a moved block (`moved_from` to be filled in).
    MoveDest(usize),
}

/// A block change and the sections it involves, before the diff stage
/// lists it under a section of the redline.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    /// The change; for the two sides of a move, `moved_from` / `moved_to`
    /// are still unset.
    pub change: BlockChange,
    /// The old section of its old side, if it has one.
    pub old_section: Option<usize>,
    /// The new section it shows in: its new side's, or for a change with
    /// only an old side the section of the new block it is shown before.
    pub new_section: Option<usize>,
    /// Whether it is a side of a move.
    pub side: Side,
}

/// The block alignment of two documents.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    /// Every block change, in new order (a change with only an old side sits
    /// before the new block that followed it).
    pub changes: Vec<Placed>,
    /// Per old section, per block: the new section where the block stayed in
    /// place in the sequence (unchanged or edited); `None` when it was
    /// deleted or moved.
    pub old_home: Vec<Vec<Option<usize>>>,
    /// Per new section, per block: `Some(true)` when it is an old block
    /// unchanged in place, `Some(false)` edited in place, `None` when new or
    /// moved in.
    pub new_home: Vec<Vec<Option<bool>>>,
}

/// Unequal stretch of the block sequence.
#[derive(Debug, Clone, Default)]
struct Hunk {
    dels: Vec<usize>,
    ins: Vec<usize>,
    /// New position just after the hunk (where its deletions are anchored last).
    new_end: usize,
}

enum Slot {
    Done(Placed),
    Hunk(Hunk),
}

/// How a hunk's blocks were resolved; indices are positions in the layouts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Res {
    Del(usize),
    Ins(usize),
    Pair(usize, usize),
    /// Old block, first of two new blocks.
    Split(usize, usize),
    /// First of two old blocks, new block.
    Merge(usize, usize),
    /// New block `j` came from old block `i`.
    MovedIn {
        j: usize,
        i: usize,
    },
    /// Old block `i` went to new block `j`.
    MovedOut {
        i: usize,
        j: usize,
    },
}

impl Res {
    fn new_index(self) -> Option<usize> {
        match self {
            Res::Del(_) | Res::MovedOut { .. } => None,
            Res::Ins(j) | Res::Pair(_, j) | Res::Split(_, j) | Res::Merge(_, j) => Some(j),
            Res::MovedIn { j, .. } => Some(j),
        }
    }
}

/// The documents, their layouts and their section pairing: what every step
/// of the block alignment reads.
pub(crate) struct Docs<'p, 'a> {
    /// The old document.
    pub old: &'p Prepared<'a>,
    /// The new document.
    pub new: &'p Prepared<'a>,
    /// The old blocks, sections in new order.
    pub ol: &'p Layout,
    /// The new blocks, in page order.
    pub nl: &'p Layout,
    /// Per old section, its partner in the new document.
    pub new_of_old: &'p [Option<usize>],
    /// Per new section, its partner in the old document.
    pub old_of_new: &'p [Option<usize>],
}

impl Docs<'_, '_> {
    fn old_hash(&self, x: usize) -> u64 {
        let (s, b) = self.ol.at[x];
        self.old.blocks[s][b].hash
    }

    fn new_hash(&self, y: usize) -> u64 {
        let (s, b) = self.nl.at[y];
        self.new.blocks[s][b].hash
    }

    fn old_block(&self, x: usize) -> &Block {
        let (s, b) = self.ol.at[x];
        &self.old.doc.sections[s].blocks[b]
    }

    fn new_block(&self, y: usize) -> &Block {
        let (s, b) = self.nl.at[y];
        &self.new.doc.sections[s].blocks[b]
    }

    /// True when old position `x` and new position `y` lie in sections that
    /// are both still on the page, paired with other partners: a block going
    /// from one to the other moved, even in place in the sequence.
    fn crosses(&self, x: usize, y: usize) -> bool {
        let (os, ns) = (self.ol.at[x].0, self.nl.at[y].0);
        self.new_of_old[os].is_some()
            && self.old_of_new[ns].is_some()
            && self.new_of_old[os] != Some(ns)
    }

    /// True when old position `x` belongs to the partner of the section of
    /// new position `y`.
    fn same_section(&self, x: usize, y: usize) -> bool {
        self.new_of_old[self.ol.at[x].0] == Some(self.nl.at[y].0)
    }

    /// The new section shown at new position `y` (the last block's section
    /// past the end).
    fn section_at(&self, y: usize) -> Option<usize> {
        self.nl
            .at
            .get(y)
            .or(self.nl.at.last())
            .map(|&(s, _)| s)
            .or_else(|| self.new.doc.sections.len().checked_sub(1))
    }
}

/// Aligns the blocks of two whole documents (see the module docs).
pub(crate) fn diff_document(d: &Docs<'_, '_>, ctx: &mut Ctx) -> Outcome {
    let mut out = Outcome {
        changes: Vec::new(),
        old_home: d
            .old
            .doc
            .sections
            .iter()
            .map(|s| vec![None; s.blocks.len()])
            .collect(),
        new_home: d
            .new
            .doc
            .sections
            .iter()
            .map(|s| vec![None; s.blocks.len()])
            .collect(),
    };
    let mut slots = walk(d, &mut out, ctx);

    // Exact moves: a deleted block whose hash equals an inserted one's.
    let mut by_hash: HashMap<u64, VecDeque<usize>> = HashMap::new();
    for s in &slots {
        if let Slot::Hunk(h) = s {
            for &x in &h.dels {
                by_hash.entry(d.old_hash(x)).or_default().push_back(x);
            }
        }
    }
    // old position -> new position, and back.
    let mut claimed: HashMap<usize, usize> = HashMap::new();
    let mut moved_in: HashMap<usize, usize> = HashMap::new();
    if !by_hash.is_empty() {
        for s in &slots {
            let Slot::Hunk(h) = s else { continue };
            for &y in &h.ins {
                let Some(q) = by_hash.get_mut(&d.new_hash(y)) else {
                    continue;
                };
                // Prefer a source in the same section.
                let pos = q.iter().position(|&x| d.same_section(x, y)).unwrap_or(0);
                if let Some(x) = q.remove(pos) {
                    claimed.insert(x, y);
                    moved_in.insert(y, x);
                }
            }
        }
    }

    // Resolve each hunk.
    let mut bags = BagCache::default();
    let mut resolved: Vec<Option<Vec<Option<Res>>>> = Vec::with_capacity(slots.len());
    for s in &slots {
        let Slot::Hunk(h) = s else {
            resolved.push(None);
            continue;
        };
        let dels: Vec<usize> = h
            .dels
            .iter()
            .copied()
            .filter(|x| !claimed.contains_key(x))
            .collect();
        let ins: Vec<usize> = h
            .ins
            .iter()
            .copied()
            .filter(|y| !moved_in.contains_key(y))
            .collect();
        let mut res = resolve(&dels, &ins, d, &mut bags, ctx);
        for &i in &h.dels {
            if let Some(&j) = claimed.get(&i) {
                // At its old place: before the first block that followed it.
                let at = res
                    .iter()
                    .position(|r| old_of(*r).is_some_and(|o| o > i))
                    .unwrap_or(res.len());
                res.insert(at, Res::MovedOut { i, j });
            }
        }
        for &j in &h.ins {
            if let Some(&i) = moved_in.get(&j) {
                res.push(Res::MovedIn { j, i });
            }
        }
        // An edited block paired in place across two surviving sections moved.
        let res = res
            .into_iter()
            .flat_map(|r| match r {
                Res::Pair(i, j) if d.crosses(i, j) => {
                    vec![Some(Res::MovedOut { i, j }), Some(Res::MovedIn { j, i })]
                }
                r => vec![Some(r)],
            })
            .collect();
        resolved.push(Some(res));
    }

    near_moves(&mut resolved, d, &mut bags);
    rewritten_in_place(&mut resolved, d, &mut bags);

    // Materialise.
    for (k, s) in slots.drain(..).enumerate() {
        match s {
            Slot::Done(c) => out.changes.push(c),
            Slot::Hunk(h) => {
                let res: Vec<Res> = resolved[k]
                    .take()
                    .unwrap_or_default()
                    .into_iter()
                    .flatten()
                    .collect();
                let ordered = order(res, h.new_end);
                // Where each change shows: its own new position, or the next one.
                let mut anchors = vec![h.new_end; ordered.len()];
                let mut next = h.new_end;
                for (n, r) in ordered.iter().enumerate().rev() {
                    if let Some(j) = r.new_index() {
                        next = j;
                    }
                    anchors[n] = next;
                }
                for (r, a) in ordered.into_iter().zip(anchors) {
                    materialise(r, a, d, &mut out, ctx);
                }
            }
        }
    }
    out
}

/// The (first) old position a resolution covers.
fn old_of(r: Res) -> Option<usize> {
    match r {
        Res::Ins(_) | Res::MovedIn { .. } => None,
        Res::Del(i) | Res::Pair(i, _) | Res::Split(i, _) | Res::Merge(i, _) => Some(i),
        Res::MovedOut { i, .. } => Some(i),
    }
}

/// Steps 1-3: reordered runs, the block-hash diff, link changes, blocks in
/// place under another surviving heading, and hunks.
fn walk(d: &Docs<'_, '_>, out: &mut Outcome, ctx: &mut Ctx) -> Vec<Slot> {
    let old_h: Vec<u64> = (0..d.ol.at.len()).map(|x| d.old_hash(x)).collect();
    let mut new_h: Vec<u64> = (0..d.nl.at.len()).map(|y| d.new_hash(y)).collect();

    // Reordered list runs: same items, other order.
    let mut reorder_start: HashMap<usize, Range<usize>> = HashMap::new();
    let mut in_reorder: HashSet<usize> = HashSet::new();
    let old_runs = d.ol.list_runs(d.old.doc);
    if !old_runs.is_empty() {
        let mut by_items: HashMap<Vec<u64>, Vec<usize>> = HashMap::new();
        for (r, run) in old_runs.iter().enumerate() {
            let mut k = old_h[run.clone()].to_vec();
            k.sort_unstable();
            by_items.entry(k).or_default().push(r);
        }
        let mut used = vec![false; old_runs.len()];
        for nrun in d.nl.list_runs(d.new.doc) {
            let mut k = new_h[nrun.clone()].to_vec();
            k.sort_unstable();
            let Some(cands) = by_items.get(&k) else {
                continue;
            };
            let found = cands
                .iter()
                .copied()
                .find(|&r| !used[r] && old_h[old_runs[r].clone()] != new_h[nrun.clone()]);
            if let Some(r) = found {
                used[r] = true;
                let orun = old_runs[r].clone();
                new_h[nrun.clone()].copy_from_slice(&old_h[orun.clone()]);
                in_reorder.extend(nrun.clone());
                reorder_start.insert(nrun.start, orun);
            }
        }
    }

    let ops = capture_diff_slices_deadline(Algorithm::Myers, &old_h, &new_h, ctx.deadline);
    let mut slots = Vec::new();
    let mut hunk: Option<Hunk> = None;
    for op in ops {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                if let Some(mut h) = hunk.take() {
                    h.new_end = new_index;
                    slots.push(Slot::Hunk(h));
                }
                for k in 0..len {
                    let (i, j) = (old_index + k, new_index + k);
                    let ((os, oi), (ns, ni)) = (d.ol.at[i], d.nl.at[j]);
                    if let Some(orun) = reorder_start.get(&j) {
                        let nrun = j..j + orun.len();
                        for x in orun.clone() {
                            let (s, b) = d.ol.at[x];
                            out.old_home[s][b] = Some(ns);
                        }
                        for y in nrun.clone() {
                            let (s, b) = d.nl.at[y];
                            out.new_home[s][b] = Some(false);
                        }
                        let (ros, rob) = d.ol.at[orun.start];
                        let osec = &d.old.doc.sections[ros];
                        let nsec = &d.new.doc.sections[ns];
                        slots.push(Slot::Done(Placed {
                            change: reordered(
                                osec,
                                rob..rob + orun.len(),
                                nsec,
                                ni..ni + orun.len(),
                            ),
                            old_section: Some(ros),
                            new_section: Some(ns),
                            side: Side::Plain,
                        }));
                    }
                    if in_reorder.contains(&j) {
                        continue;
                    }
                    let (ob, nb) = (d.old_block(i), d.new_block(j));
                    if d.crosses(i, j) {
                        let mut c = paired(BlockChangeKind::Moved, ob, oi, nb, ni, ctx);
                        c.links = link_changes(&ob.links, &nb.links, false);
                        slots.push(Slot::Done(Placed {
                            change: moved_out(ob, oi),
                            old_section: Some(os),
                            new_section: Some(ns),
                            side: Side::MoveSource(i),
                        }));
                        slots.push(Slot::Done(Placed {
                            change: c,
                            old_section: Some(os),
                            new_section: Some(ns),
                            side: Side::MoveDest(i),
                        }));
                        continue;
                    }
                    let links = link_changes(&ob.links, &nb.links, true);
                    out.old_home[os][oi] = Some(ns);
                    out.new_home[ns][ni] = Some(links.is_empty());
                    if !links.is_empty() {
                        let mut c = paired(BlockChangeKind::LinkChanged, ob, oi, nb, ni, ctx);
                        c.links = links;
                        slots.push(Slot::Done(Placed {
                            change: c,
                            old_section: Some(os),
                            new_section: Some(ns),
                            side: Side::Plain,
                        }));
                    }
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => {
                hunk.get_or_insert_with(Hunk::default)
                    .dels
                    .extend(old_index..old_index + old_len);
            }
            DiffOp::Insert {
                new_index, new_len, ..
            } => {
                hunk.get_or_insert_with(Hunk::default)
                    .ins
                    .extend(new_index..new_index + new_len);
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                let h = hunk.get_or_insert_with(Hunk::default);
                h.dels.extend(old_index..old_index + old_len);
                h.ins.extend(new_index..new_index + new_len);
            }
        }
    }
    if let Some(mut h) = hunk.take() {
        h.new_end = d.nl.at.len();
        slots.push(Slot::Hunk(h));
    }
    slots
}

/// Maximal runs of two or more consecutive list items.
fn list_runs(sec: &Section) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, b) in sec.blocks.iter().enumerate() {
        match (b.kind == BlockKind::ListItem, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= 2 {
                    runs.push(s..i);
                }
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start
        && sec.blocks.len() - s >= 2
    {
        runs.push(s..sec.blocks.len());
    }
    runs
}

/// Word bags of blocks, computed once.
#[derive(Default)]
struct BagCache {
    old: HashMap<usize, Bag>,
    new: HashMap<usize, Bag>,
}

impl BagCache {
    fn old_bag(&mut self, d: &Docs<'_, '_>, x: usize) -> &Bag {
        self.old.entry(x).or_insert_with(|| {
            let (s, b) = d.ol.at[x];
            Bag::of(&d.old.blocks[s][b].comp)
        })
    }
    fn new_bag(&mut self, d: &Docs<'_, '_>, y: usize) -> &Bag {
        self.new.entry(y).or_insert_with(|| {
            let (s, b) = d.nl.at[y];
            Bag::of(&d.new.blocks[s][b].comp)
        })
    }
}

/// Pairs a hunk's remaining blocks (old indices `dels`, new indices `ins`,
/// both ascending) by a best-score alignment, or by position for big hunks
/// or past the deadline.
fn resolve(
    dels: &[usize],
    ins: &[usize],
    d: &Docs<'_, '_>,
    bags: &mut BagCache,
    ctx: &mut Ctx,
) -> Vec<Res> {
    let (m, n) = (dels.len(), ins.len());
    if m == 0 || n == 0 {
        return dels
            .iter()
            .map(|&i| Res::Del(i))
            .chain(ins.iter().map(|&j| Res::Ins(j)))
            .collect();
    }
    let db: Vec<Bag> = dels.iter().map(|&i| bags.old_bag(d, i).clone()).collect();
    let ib: Vec<Bag> = ins.iter().map(|&j| bags.new_bag(d, j).clone()).collect();

    let big = m * n > MAX_ALIGN_CELLS;
    if big || ctx.past_deadline() {
        // A one-to-one hunk pairs the same either way: no detail lost.
        if !big && (m > 1 || n > 1) {
            ctx.degraded_hunks += 1;
        }
        let mut out = Vec::with_capacity(m + n);
        for k in 0..m.max(n) {
            match (dels.get(k), ins.get(k)) {
                (Some(&i), Some(&j)) if db[k].dice(&ib[k]) >= PAIR_THRESHOLD => {
                    out.push(Res::Pair(i, j))
                }
                (d, a) => {
                    out.extend(d.map(|&i| Res::Del(i)));
                    out.extend(a.map(|&j| Res::Ins(j)));
                }
            }
        }
        return out;
    }

    #[derive(Clone, Copy)]
    enum Step {
        End,
        Del,
        Ins,
        Pair,
        Split,
        Merge,
    }
    let w = n + 1;
    let mut score = vec![0.0f64; (m + 1) * w];
    let mut step = vec![Step::End; (m + 1) * w];
    for i in (0..=m).rev() {
        for j in (0..=n).rev() {
            if i == m && j == n {
                continue;
            }
            let mut best = f64::NEG_INFINITY;
            let mut choice = Step::End;
            let mut consider = |s: f64, c: Step| {
                if s > best {
                    best = s;
                    choice = c;
                }
            };
            if i < m && j < n {
                let s = db[i].dice(&ib[j]);
                if s >= PAIR_THRESHOLD {
                    consider(2.0 * s + score[(i + 1) * w + j + 1], Step::Pair);
                }
            }
            if i < m
                && j + 1 < n
                && ins[j + 1] == ins[j] + 1
                && d.nl.at[ins[j]].0 == d.nl.at[ins[j + 1]].0
            {
                let joined = ib[j].plus(&ib[j + 1]);
                let s = db[i].dice(&joined);
                if s >= JOIN_THRESHOLD
                    && ib[j].contained_in(&db[i]) >= PART_CONTAINMENT
                    && ib[j + 1].contained_in(&db[i]) >= PART_CONTAINMENT
                {
                    consider(3.0 * s + score[(i + 1) * w + j + 2], Step::Split);
                }
            }
            if i + 1 < m
                && j < n
                && dels[i + 1] == dels[i] + 1
                && d.ol.at[dels[i]].0 == d.ol.at[dels[i + 1]].0
            {
                let joined = db[i].plus(&db[i + 1]);
                let s = ib[j].dice(&joined);
                if s >= JOIN_THRESHOLD
                    && db[i].contained_in(&ib[j]) >= PART_CONTAINMENT
                    && db[i + 1].contained_in(&ib[j]) >= PART_CONTAINMENT
                {
                    consider(3.0 * s + score[(i + 2) * w + j + 1], Step::Merge);
                }
            }
            if i < m {
                consider(score[(i + 1) * w + j], Step::Del);
            }
            if j < n {
                consider(score[i * w + j + 1], Step::Ins);
            }
            score[i * w + j] = best;
            step[i * w + j] = choice;
        }
    }
    let mut out = Vec::with_capacity(m + n);
    let (mut i, mut j) = (0, 0);
    while i < m || j < n {
        match step[i * w + j] {
            Step::End => break,
            Step::Del => {
                out.push(Res::Del(dels[i]));
                i += 1;
            }
            Step::Ins => {
                out.push(Res::Ins(ins[j]));
                j += 1;
            }
            Step::Pair => {
                out.push(Res::Pair(dels[i], ins[j]));
                i += 1;
                j += 1;
            }
            Step::Split => {
                out.push(Res::Split(dels[i], ins[j]));
                i += 1;
                j += 2;
            }
            Step::Merge => {
                out.push(Res::Merge(dels[i], ins[j]));
                i += 2;
                j += 1;
            }
        }
    }
    out
}

/// Turns leftover deleted/inserted blocks that are similar into moves,
/// anywhere in the document: inside one hunk the aligner keeps the order, so
/// a similar pair it left apart crossed other changes (an edited list item
/// that changed place among other edits). A pair is a move when it is very
/// similar ([`MOVE_THRESHOLD`]), or when it clears the bar of a block edited
/// in place ([`PAIR_THRESHOLD`]) and each is the other's most similar
/// leftover: a paragraph moved to another section with a clause reworded
/// keeps most of its words but not four fifths of them.
fn near_moves(resolved: &mut [Option<Vec<Option<Res>>>], d: &Docs<'_, '_>, bags: &mut BagCache) {
    // (slot, entry, position)
    let mut dels = Vec::new();
    let mut ins = Vec::new();
    for (k, s) in resolved.iter().enumerate() {
        for (e, r) in s.iter().flatten().enumerate() {
            match r {
                Some(Res::Del(i)) => dels.push((k, e, *i)),
                Some(Res::Ins(j)) => ins.push((k, e, *j)),
                _ => {}
            }
        }
    }
    if dels.is_empty() || ins.is_empty() || dels.len() * ins.len() > MAX_MOVE_CANDIDATES {
        return;
    }
    // Similarity of every (inserted, deleted) pair of leftovers long enough
    // to tell; 0 for short ones.
    let mut sim = vec![vec![0.0f64; dels.len()]; ins.len()];
    for (a, &(_, _, j)) in ins.iter().enumerate() {
        let nb = bags.new_bag(d, j).clone();
        if nb.total() < MOVE_MIN_WORDS {
            continue;
        }
        for (n, &(_, _, i)) in dels.iter().enumerate() {
            let ob = bags.old_bag(d, i);
            if ob.total() >= MOVE_MIN_WORDS {
                sim[a][n] = ob.dice(&nb);
            }
        }
    }
    let best_ins_of =
        |n: usize| (0..ins.len()).max_by(|&a, &b| sim[a][n].total_cmp(&sim[b][n]).then(b.cmp(&a)));
    let mut taken = vec![false; dels.len()];
    for (a, &(k, e, j)) in ins.iter().enumerate() {
        let mut best: Option<(f64, usize)> = None;
        for n in 0..dels.len() {
            let s = sim[a][n];
            if taken[n] || s < PAIR_THRESHOLD {
                continue;
            }
            if best.is_none_or(|(bs, _)| s > bs) {
                best = Some((s, n));
            }
        }
        let best = best.filter(|&(s, n)| s >= MOVE_THRESHOLD || best_ins_of(n) == Some(a));
        if let Some((_, n)) = best {
            taken[n] = true;
            let (dk, de, i) = dels[n];
            if let Some(Some(v)) = resolved.get_mut(dk) {
                v[de] = Some(Res::MovedOut { i, j });
            }
            if let Some(Some(v)) = resolved.get_mut(k) {
                v[e] = Some(Res::MovedIn { j, i });
            }
        }
    }
}

/// Pairs the one deleted and the one inserted block of a hunk that holds
/// nothing else, when both are of one kind in one section and share some
/// words ([`REWRITE_THRESHOLD`]): a block rewritten in place between
/// unchanged neighbours is that block `replaced` (shown sentence by
/// sentence), though fewer than half its words survived. Unrelated text
/// put in a block's place stays deleted and inserted.
fn rewritten_in_place(
    resolved: &mut [Option<Vec<Option<Res>>>],
    d: &Docs<'_, '_>,
    bags: &mut BagCache,
) {
    for v in resolved.iter_mut().flatten() {
        let live: Vec<usize> = (0..v.len()).filter(|&e| v[e].is_some()).collect();
        let [a, b] = live[..] else { continue };
        let (i, j) = match (v[a], v[b]) {
            (Some(Res::Del(i)), Some(Res::Ins(j))) | (Some(Res::Ins(j)), Some(Res::Del(i))) => {
                (i, j)
            }
            _ => continue,
        };
        if d.old_block(i).kind != d.new_block(j).kind || d.crosses(i, j) || !d.same_section(i, j) {
            continue;
        }
        let nb = bags.new_bag(d, j).clone();
        if bags.old_bag(d, i).dice(&nb) < REWRITE_THRESHOLD {
            continue;
        }
        v[a] = Some(Res::Pair(i, j));
        v[b] = None;
    }
}

/// Orders a hunk's resolutions in new order; deletions sit before the next
/// new block (or the hunk's end).
fn order(res: Vec<Res>, new_end: usize) -> Vec<Res> {
    // The aligner's output is already in order except for moved-in blocks.
    let mut anchored: Vec<(usize, u8, usize, Res)> = Vec::with_capacity(res.len());
    let mut next = new_end;
    let mut keyed: Vec<(usize, u8, Res)> = Vec::with_capacity(res.len());
    let (moves, rest): (Vec<Res>, Vec<Res>) = res
        .into_iter()
        .partition(|r| matches!(r, Res::MovedIn { .. }));
    for r in rest.into_iter().rev() {
        match r.new_index() {
            Some(j) => {
                next = j;
                keyed.push((j, 1, r));
            }
            None => keyed.push((next, 0, r)),
        }
    }
    keyed.reverse();
    for (seq, (a, t, r)) in keyed.into_iter().enumerate() {
        anchored.push((a, t, seq, r));
    }
    for r in moves {
        anchored.push((r.new_index().unwrap_or(new_end), 1, usize::MAX, r));
    }
    anchored.sort_by_key(|&(a, t, seq, _)| (a, t, seq));
    anchored.into_iter().map(|(_, _, _, r)| r).collect()
}

/// Builds the [`Placed`] change for one resolution shown before new
/// position `anchor`, and records which blocks stayed in place.
fn materialise(r: Res, anchor: usize, d: &Docs<'_, '_>, out: &mut Outcome, ctx: &mut Ctx) {
    let at_old = |x: usize| d.ol.at[x];
    let at_new = |y: usize| d.nl.at[y];
    let placed = |change, old_section, new_section, side| Placed {
        change,
        old_section,
        new_section,
        side,
    };
    let shown = d.section_at(anchor);
    match r {
        Res::Del(i) => {
            let (os, ob) = at_old(i);
            let c = deleted(d.old_block(i), ob);
            out.changes.push(placed(c, Some(os), shown, Side::Plain));
        }
        Res::Ins(j) => {
            let (ns, nb) = at_new(j);
            let c = inserted(d.new_block(j), nb);
            out.changes.push(placed(c, None, Some(ns), Side::Plain));
        }
        Res::Pair(i, j) => {
            let ((os, ob), (ns, nb)) = (at_old(i), at_new(j));
            let (o, n) = (d.old_block(i), d.new_block(j));
            let mut c = paired(BlockChangeKind::Replaced, o, ob, n, nb, ctx);
            c.links = link_changes(&o.links, &n.links, false);
            out.old_home[os][ob] = Some(ns);
            out.new_home[ns][nb] = Some(false);
            out.changes.push(placed(c, Some(os), Some(ns), Side::Plain));
        }
        Res::Split(i, j) => {
            let ((os, ob), (ns, nb)) = (at_old(i), at_new(j));
            let nsec = &d.new.doc.sections[ns];
            let text = join(&nsec.blocks[nb..nb + 2]);
            let c = joined(
                BlockChangeKind::Split,
                nsec.blocks[nb].kind,
                ob,
                nb,
                d.old_block(i).text.clone(),
                text,
                ctx,
            );
            out.old_home[os][ob] = Some(ns);
            out.new_home[ns][nb] = Some(false);
            out.new_home[ns][nb + 1] = Some(false);
            out.changes.push(placed(c, Some(os), Some(ns), Side::Plain));
        }
        Res::Merge(i, j) => {
            let ((os, ob), (ns, nb)) = (at_old(i), at_new(j));
            let osec = &d.old.doc.sections[os];
            let text = join(&osec.blocks[ob..ob + 2]);
            let n = d.new_block(j);
            let c = joined(
                BlockChangeKind::Merged,
                n.kind,
                ob,
                nb,
                text,
                n.text.clone(),
                ctx,
            );
            out.old_home[os][ob] = Some(ns);
            out.old_home[os][ob + 1] = Some(ns);
            out.new_home[ns][nb] = Some(false);
            out.changes.push(placed(c, Some(os), Some(ns), Side::Plain));
        }
        Res::MovedIn { j, i } => {
            let ((os, ob), (ns, nb)) = (at_old(i), at_new(j));
            let (o, n) = (d.old_block(i), d.new_block(j));
            let mut c = paired(BlockChangeKind::Moved, o, ob, n, nb, ctx);
            c.links = link_changes(&o.links, &n.links, false);
            out.changes
                .push(placed(c, Some(os), Some(ns), Side::MoveDest(i)));
        }
        Res::MovedOut { i, .. } => {
            let (os, ob) = at_old(i);
            let c = moved_out(d.old_block(i), ob);
            out.changes
                .push(placed(c, Some(os), shown, Side::MoveSource(i)));
        }
    }
}

/// The source side of a moved block: old index and text only, no spans (the
/// destination entry marks the words); `moved_to` is filled in by the diff
/// stage once it knows where the destination is listed.
fn moved_out(b: &Block, i: usize) -> BlockChange {
    BlockChange {
        change: BlockChangeKind::Moved,
        kind: b.kind,
        old_index: Some(i),
        new_index: None,
        old_text: Some(b.text.clone()),
        new_text: None,
        spans: Vec::new(),
        moved_from: None,
        moved_to: None,
        links: Vec::new(),
    }
}

fn join(blocks: &[Block]) -> String {
    blocks
        .iter()
        .map(|b| b.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn joined(
    change: BlockChangeKind,
    kind: BlockKind,
    i: usize,
    j: usize,
    old_text: String,
    new_text: String,
    ctx: &mut Ctx,
) -> BlockChange {
    BlockChange {
        change,
        kind,
        old_index: Some(i),
        new_index: Some(j),
        spans: ctx.spans(&old_text, &new_text),
        old_text: Some(old_text),
        new_text: Some(new_text),
        moved_from: None,
        moved_to: None,
        links: Vec::new(),
    }
}

/// A block only in the new section: one insert span.
pub(crate) fn inserted(b: &Block, j: usize) -> BlockChange {
    BlockChange {
        change: BlockChangeKind::Inserted,
        kind: b.kind,
        old_index: None,
        new_index: Some(j),
        old_text: None,
        new_text: Some(b.text.clone()),
        spans: words::coarse("", &b.text),
        moved_from: None,
        moved_to: None,
        links: Vec::new(),
    }
}

/// A block only in the old section: one delete span.
pub(crate) fn deleted(b: &Block, i: usize) -> BlockChange {
    BlockChange {
        change: BlockChangeKind::Deleted,
        kind: b.kind,
        old_index: Some(i),
        new_index: None,
        old_text: Some(b.text.clone()),
        new_text: None,
        spans: words::coarse(&b.text, ""),
        moved_from: None,
        moved_to: None,
        links: Vec::new(),
    }
}

fn paired(
    change: BlockChangeKind,
    ob: &Block,
    i: usize,
    nb: &Block,
    j: usize,
    ctx: &mut Ctx,
) -> BlockChange {
    BlockChange {
        change,
        kind: nb.kind,
        old_index: Some(i),
        new_index: Some(j),
        old_text: Some(ob.text.clone()),
        new_text: Some(nb.text.clone()),
        spans: ctx.spans(&ob.text, &nb.text),
        moved_from: None,
        moved_to: None,
        links: Vec::new(),
    }
}

/// A reordered list run: texts are the items joined with `\n`; no spans.
fn reordered(
    osec: &Section,
    orun: Range<usize>,
    nsec: &Section,
    nrun: Range<usize>,
) -> BlockChange {
    let lines = |s: &Section, r: Range<usize>| {
        s.blocks[r]
            .iter()
            .map(|b| b.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    BlockChange {
        change: BlockChangeKind::Reordered,
        kind: BlockKind::ListItem,
        old_index: Some(orun.start),
        new_index: Some(nrun.start),
        old_text: Some(lines(osec, orun)),
        new_text: Some(lines(nsec, nrun)),
        spans: Vec::new(),
        moved_from: None,
        moved_to: None,
        links: Vec::new(),
    }
}

/// Link target changes between two blocks' links. Links pair by position when
/// the counts match, else by comparable link text. With `unmatched`, a link
/// only on one side is reported with an empty href on the other.
fn link_changes(old: &[Link], new: &[Link], unmatched: bool) -> Vec<LinkChange> {
    let change = |o: &Link, n: &Link| LinkChange {
        text: n.text.clone(),
        old_href: o.href.clone(),
        new_href: n.href.clone(),
    };
    if old.len() == new.len() {
        return old
            .iter()
            .zip(new)
            .filter(|(o, n)| o.href != n.href)
            .map(|(o, n)| change(o, n))
            .collect();
    }
    let mut used = vec![false; old.len()];
    // The unused old links of each text, in page order (a page of thousands
    // of links would cost the square of their number scanned one by one).
    let mut by_text: HashMap<String, VecDeque<usize>> = HashMap::new();
    for (k, o) in old.iter().enumerate() {
        by_text.entry(comparable(&o.text)).or_default().push_back(k);
    }
    let mut out = Vec::new();
    for n in new {
        let found = by_text
            .get_mut(&comparable(&n.text))
            .and_then(VecDeque::pop_front);
        match found {
            Some(k) => {
                used[k] = true;
                if old[k].href != n.href {
                    out.push(change(&old[k], n));
                }
            }
            None if unmatched => out.push(LinkChange {
                text: n.text.clone(),
                old_href: String::new(),
                new_href: n.href.clone(),
            }),
            None => {}
        }
    }
    if unmatched {
        for (k, o) in old.iter().enumerate() {
            if !used[k] {
                out.push(LinkChange {
                    text: o.text.clone(),
                    old_href: o.href.clone(),
                    new_href: String::new(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(text: &str, href: &str) -> Link {
        Link {
            text: text.to_string(),
            href: href.to_string(),
        }
    }

    fn lc(text: &str, old: &str, new: &str) -> LinkChange {
        LinkChange {
            text: text.to_string(),
            old_href: old.to_string(),
            new_href: new.to_string(),
        }
    }

    #[test]
    fn link_changes_pair_by_position_or_text() {
        let a = link("NAC", "https://x/a");
        let b = link("NAC", "https://x/b");
        let c = link("EAPC", "https://x/c");
        type Case = (Vec<Link>, Vec<Link>, bool, Vec<LinkChange>);
        let cases: Vec<Case> = vec![
            (vec![a.clone()], vec![a.clone()], true, vec![]),
            (
                vec![a.clone()],
                vec![b.clone()],
                true,
                vec![lc("NAC", "https://x/a", "https://x/b")],
            ),
            (
                vec![a.clone(), c.clone()],
                vec![b.clone()],
                true,
                vec![
                    lc("NAC", "https://x/a", "https://x/b"),
                    lc("EAPC", "https://x/c", ""),
                ],
            ),
            (
                vec![a.clone(), c.clone()],
                vec![b.clone()],
                false,
                vec![lc("NAC", "https://x/a", "https://x/b")],
            ),
            (
                vec![],
                vec![c.clone()],
                true,
                vec![lc("EAPC", "", "https://x/c")],
            ),
        ];
        for (old, new, unmatched, want) in cases {
            assert_eq!(link_changes(&old, &new, unmatched), want);
        }
    }

    #[test]
    fn list_runs_need_two_items() {
        let b = |k| Block::new(k, "x");
        let sec = Section {
            key: crate::document::SectionKey::lead(),
            heading: None,
            level: 0,
            blocks: vec![
                b(BlockKind::ListItem),
                b(BlockKind::Paragraph),
                b(BlockKind::ListItem),
                b(BlockKind::ListItem),
                b(BlockKind::Paragraph),
                b(BlockKind::ListItem),
                b(BlockKind::ListItem),
            ],
        };
        assert_eq!(list_runs(&sec), vec![2..4, 5..7]);
    }

    #[test]
    fn order_anchors_deletions_before_the_next_new_block() {
        let cases: Vec<(Vec<Res>, usize, Vec<Res>)> = vec![
            (
                vec![Res::Del(3), Res::Ins(2)],
                3,
                vec![Res::Del(3), Res::Ins(2)],
            ),
            (
                vec![Res::Pair(1, 1), Res::Del(2)],
                2,
                vec![Res::Pair(1, 1), Res::Del(2)],
            ),
            (
                vec![Res::Del(0), Res::Ins(4), Res::MovedIn { j: 3, i: 7 }],
                5,
                vec![Res::MovedIn { j: 3, i: 7 }, Res::Del(0), Res::Ins(4)],
            ),
        ];
        for (res, end, want) in cases {
            assert_eq!(order(res, end), want);
        }
    }
}
