//! Block diff inside paired sections, and block moves between them.
//!
//! For each pair of sections:
//! 1. list runs whose items are the same but in another order become one
//!    `reordered` change, and count as equal from then on;
//! 2. the blocks are diffed as hashes of their kind and comparable text
//!    (Myers, under the deadline), so equal blocks cost one comparison; equal
//!    blocks whose link targets changed become `link-changed`;
//! 3. the unequal stretches (hunks) are kept for step 4 onwards.
//!
//! Across all pairs, a deleted block whose hash equals an inserted block's is a
//! `moved` block. Then each hunk's remaining blocks are paired by an alignment
//! that maximises word-bag similarity: `replaced` (one to one), `split` (one old
//! to two consecutive new) and `merged` (two consecutive old to one new); what
//! stays unpaired is `deleted` or `inserted`, unless a very similar block was
//! inserted or deleted elsewhere (then `moved`, with word marks for the edit).
//!
//! A block moved between two sections is reported in both: at its destination
//! (`moved`, `moved_from` = the old section's heading, word marks) and at its
//! source (`moved`, `moved_to` = the new section's heading, no new index, no
//! spans), so a reader of the source section learns that text left it. A move
//! inside one section is one entry.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;
use std::time::Instant;

use similar::{Algorithm, DiffOp, capture_diff_slices_deadline};

use super::Prepared;
use super::words::{self, Bag};
use crate::document::{Block, BlockKind, Link, Section};
use crate::normalize::comparable;
use crate::revision::{BlockChange, BlockChangeKind, LinkChange, Span, SpanTag};

/// Lowest Dice similarity for an old and a new block to be one replaced block.
const PAIR_THRESHOLD: f64 = 0.5;
/// Lowest Dice similarity between a block and two joined ones for a split or merge.
const JOIN_THRESHOLD: f64 = 0.75;
/// Lowest share of each part's words found in the joined side for a split or merge.
const PART_CONTAINMENT: f64 = 0.7;
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

/// The changes found in one pair of sections.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct PairOutcome {
    /// Block changes in new order; blocks moved out to another section sit at
    /// their old place, like deletions.
    pub blocks: Vec<BlockChange>,
}

/// Unequal stretch of one section pair.
#[derive(Debug, Clone, Default)]
struct Hunk {
    dels: Vec<usize>,
    ins: Vec<usize>,
    /// New index just after the hunk (where its deletions are anchored last).
    new_end: usize,
}

enum Slot {
    Done(BlockChange),
    Hunk(Hunk),
}

/// How a hunk's blocks were resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Res {
    Del(usize),
    Ins(usize),
    Pair(usize, usize),
    /// Old block, first of two new blocks.
    Split(usize, usize),
    /// First of two old blocks, new block.
    Merge(usize, usize),
    /// New block `j` came from old block `i` of pair `from`.
    MovedIn {
        j: usize,
        from: usize,
        i: usize,
    },
    /// Old block `i` went to pair `to` (another section).
    MovedOut {
        i: usize,
        to: usize,
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

    /// The (first) old block index, for blocks of this section's old side.
    fn old_index(self) -> Option<usize> {
        match self {
            Res::Ins(_) | Res::MovedIn { .. } => None,
            Res::Del(i)
            | Res::Pair(i, _)
            | Res::Split(i, _)
            | Res::Merge(i, _)
            | Res::MovedOut { i, .. } => Some(i),
        }
    }
}

/// Diffs every pair of sections; `pairs` are (old, new) section indices.
/// Returns one outcome per pair, in the same order.
pub(crate) fn diff_pairs(
    old: &Prepared<'_>,
    new: &Prepared<'_>,
    pairs: &[(usize, usize)],
    ctx: &mut Ctx,
) -> Vec<PairOutcome> {
    let mut slots: Vec<Vec<Slot>> = pairs
        .iter()
        .map(|&(o, n)| walk(old, new, o, n, ctx))
        .collect();

    // Exact moves: a deleted block whose hash equals an inserted one's.
    let mut by_hash: HashMap<u64, VecDeque<(usize, usize)>> = HashMap::new();
    for (p, ss) in slots.iter().enumerate() {
        for s in ss {
            if let Slot::Hunk(h) = s {
                for &i in &h.dels {
                    by_hash
                        .entry(old.blocks[pairs[p].0][i].hash)
                        .or_default()
                        .push_back((p, i));
                }
            }
        }
    }
    // (source pair, old block) -> destination pair.
    let mut claimed: HashMap<(usize, usize), usize> = HashMap::new();
    let mut moved_in: HashMap<(usize, usize), (usize, usize)> = HashMap::new();
    if !by_hash.is_empty() {
        for (p, ss) in slots.iter().enumerate() {
            for s in ss {
                let Slot::Hunk(h) = s else { continue };
                for &j in &h.ins {
                    let hash = new.blocks[pairs[p].1][j].hash;
                    let Some(q) = by_hash.get_mut(&hash) else {
                        continue;
                    };
                    // Prefer a source in the same section.
                    let pos = q.iter().position(|&(sp, _)| sp == p).unwrap_or(0);
                    if let Some((sp, i)) = q.remove(pos) {
                        claimed.insert((sp, i), p);
                        moved_in.insert((p, j), (sp, i));
                    }
                }
            }
        }
    }

    // Resolve each hunk.
    let mut bags = BagCache::default();
    let mut resolved: Vec<Vec<Option<Vec<Option<Res>>>>> = Vec::with_capacity(slots.len());
    for (p, ss) in slots.iter_mut().enumerate() {
        let (so, sn) = pairs[p];
        let mut per_slot = Vec::with_capacity(ss.len());
        for s in ss.iter_mut() {
            let Slot::Hunk(h) = s else {
                per_slot.push(None);
                continue;
            };
            let dels: Vec<usize> = h
                .dels
                .iter()
                .copied()
                .filter(|&i| !claimed.contains_key(&(p, i)))
                .collect();
            let ins: Vec<usize> = h
                .ins
                .iter()
                .copied()
                .filter(|&j| !moved_in.contains_key(&(p, j)))
                .collect();
            let mut res = resolve(&dels, &ins, so, sn, old, new, &mut bags, ctx);
            for &i in &h.dels {
                if let Some(&to) = claimed.get(&(p, i))
                    && to != p
                {
                    // At its old place: before the first block that followed it.
                    let at = res
                        .iter()
                        .position(|r| r.old_index().is_some_and(|o| o > i))
                        .unwrap_or(res.len());
                    res.insert(at, Res::MovedOut { i, to });
                }
            }
            for &j in &h.ins {
                if let Some(&(from, i)) = moved_in.get(&(p, j)) {
                    res.push(Res::MovedIn { j, from, i });
                }
            }
            per_slot.push(Some(res.into_iter().map(Some).collect()));
        }
        resolved.push(per_slot);
    }

    near_moves(&mut resolved, pairs, old, new, &mut bags, &mut moved_in);

    // Materialise.
    let mut out = vec![PairOutcome::default(); pairs.len()];
    for (p, ss) in slots.into_iter().enumerate() {
        let mut blocks = Vec::new();
        for (k, s) in ss.into_iter().enumerate() {
            match s {
                Slot::Done(c) => blocks.push(c),
                Slot::Hunk(h) => {
                    let res: Vec<Res> = resolved[p][k]
                        .take()
                        .unwrap_or_default()
                        .into_iter()
                        .flatten()
                        .collect();
                    for r in order(res, h.new_end) {
                        blocks.push(materialise(r, p, pairs, old, new, ctx));
                    }
                }
            }
        }
        out[p].blocks = blocks;
    }
    out
}

/// Step 1-3 for one pair: reordered runs, the block-hash diff, link changes and hunks.
fn walk(old: &Prepared<'_>, new: &Prepared<'_>, so: usize, sn: usize, ctx: &mut Ctx) -> Vec<Slot> {
    let (osec, nsec) = (&old.doc.sections[so], &new.doc.sections[sn]);
    let old_h: Vec<u64> = old.blocks[so].iter().map(|b| b.hash).collect();
    let mut new_h: Vec<u64> = new.blocks[sn].iter().map(|b| b.hash).collect();

    // Reordered list runs: same items, other order.
    let mut reorder_start: HashMap<usize, Range<usize>> = HashMap::new();
    let mut in_reorder: HashSet<usize> = HashSet::new();
    let old_runs = list_runs(osec);
    if !old_runs.is_empty() {
        let mut by_items: HashMap<Vec<u64>, Vec<usize>> = HashMap::new();
        for (r, run) in old_runs.iter().enumerate() {
            let mut k = old_h[run.clone()].to_vec();
            k.sort_unstable();
            by_items.entry(k).or_default().push(r);
        }
        let mut used = vec![false; old_runs.len()];
        for nrun in list_runs(nsec) {
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
                    if let Some(orun) = reorder_start.get(&j) {
                        let nrun = j..j + orun.len();
                        slots.push(Slot::Done(reordered(osec, orun.clone(), nsec, nrun)));
                    }
                    if in_reorder.contains(&j) {
                        continue;
                    }
                    let (ob, nb) = (&osec.blocks[i], &nsec.blocks[j]);
                    let links = link_changes(&ob.links, &nb.links, true);
                    if !links.is_empty() {
                        let mut c = paired(BlockChangeKind::LinkChanged, ob, i, nb, j, ctx);
                        c.links = links;
                        slots.push(Slot::Done(c));
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
        h.new_end = nsec.blocks.len();
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
    old: HashMap<(usize, usize), Bag>,
    new: HashMap<(usize, usize), Bag>,
}

impl BagCache {
    fn old_bag(&mut self, p: &Prepared<'_>, s: usize, b: usize) -> &Bag {
        self.old
            .entry((s, b))
            .or_insert_with(|| Bag::of(&p.blocks[s][b].comp))
    }
    fn new_bag(&mut self, p: &Prepared<'_>, s: usize, b: usize) -> &Bag {
        self.new
            .entry((s, b))
            .or_insert_with(|| Bag::of(&p.blocks[s][b].comp))
    }
}

/// Pairs a hunk's remaining blocks (old indices `dels`, new indices `ins`,
/// both ascending) by a best-score alignment, or by position for big hunks
/// or past the deadline.
#[allow(clippy::too_many_arguments)]
fn resolve(
    dels: &[usize],
    ins: &[usize],
    so: usize,
    sn: usize,
    old: &Prepared<'_>,
    new: &Prepared<'_>,
    bags: &mut BagCache,
    ctx: &Ctx,
) -> Vec<Res> {
    let (m, n) = (dels.len(), ins.len());
    if m == 0 || n == 0 {
        return dels
            .iter()
            .map(|&i| Res::Del(i))
            .chain(ins.iter().map(|&j| Res::Ins(j)))
            .collect();
    }
    let db: Vec<Bag> = dels
        .iter()
        .map(|&i| bags.old_bag(old, so, i).clone())
        .collect();
    let ib: Vec<Bag> = ins
        .iter()
        .map(|&j| bags.new_bag(new, sn, j).clone())
        .collect();

    if m * n > MAX_ALIGN_CELLS || ctx.past_deadline() {
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
            if i < m && j + 1 < n && ins[j + 1] == ins[j] + 1 {
                let joined = ib[j].plus(&ib[j + 1]);
                let s = db[i].dice(&joined);
                if s >= JOIN_THRESHOLD
                    && ib[j].contained_in(&db[i]) >= PART_CONTAINMENT
                    && ib[j + 1].contained_in(&db[i]) >= PART_CONTAINMENT
                {
                    consider(3.0 * s + score[(i + 1) * w + j + 2], Step::Split);
                }
            }
            if i + 1 < m && j < n && dels[i + 1] == dels[i] + 1 {
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

/// Turns leftover deleted/inserted blocks that are very similar into moves.
fn near_moves(
    resolved: &mut [Vec<Option<Vec<Option<Res>>>>],
    pairs: &[(usize, usize)],
    old: &Prepared<'_>,
    new: &Prepared<'_>,
    bags: &mut BagCache,
    moved_in: &mut HashMap<(usize, usize), (usize, usize)>,
) {
    // (pair, slot, entry, block index)
    let mut dels = Vec::new();
    let mut ins = Vec::new();
    for (p, ss) in resolved.iter().enumerate() {
        for (k, s) in ss.iter().enumerate() {
            for (e, r) in s.iter().flatten().enumerate() {
                match r {
                    Some(Res::Del(i)) => dels.push((p, k, e, *i)),
                    Some(Res::Ins(j)) => ins.push((p, k, e, *j)),
                    _ => {}
                }
            }
        }
    }
    if dels.is_empty() || ins.is_empty() || dels.len() * ins.len() > MAX_MOVE_CANDIDATES {
        return;
    }
    let mut taken = vec![false; dels.len()];
    for &(p, k, e, j) in &ins {
        let nb = bags.new_bag(new, pairs[p].1, j).clone();
        if nb.total() < MOVE_MIN_WORDS {
            continue;
        }
        let mut best: Option<(f64, usize)> = None;
        for (d, &(dp, _, _, i)) in dels.iter().enumerate() {
            // Within one hunk the aligner already judged the pair.
            if taken[d] || (dp == p && dels[d].1 == k) {
                continue;
            }
            let ob = bags.old_bag(old, pairs[dp].0, i);
            if ob.total() < MOVE_MIN_WORDS {
                continue;
            }
            let s = ob.dice(&nb);
            if s >= MOVE_THRESHOLD && best.is_none_or(|(bs, _)| s > bs) {
                best = Some((s, d));
            }
        }
        if let Some((_, d)) = best {
            taken[d] = true;
            let (dp, dk, de, i) = dels[d];
            moved_in.insert((p, j), (dp, i));
            if let Some(Some(v)) = resolved[dp].get_mut(dk) {
                // The deletion's place becomes the source side of the move; a
                // move inside one section is only its destination entry.
                v[de] = (dp != p).then_some(Res::MovedOut { i, to: p });
            }
            if let Some(Some(v)) = resolved[p].get_mut(k) {
                v[e] = Some(Res::MovedIn { j, from: dp, i });
            }
        }
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

/// Builds the [`BlockChange`] for one resolution in pair `p`.
fn materialise(
    r: Res,
    p: usize,
    pairs: &[(usize, usize)],
    old: &Prepared<'_>,
    new: &Prepared<'_>,
    ctx: &mut Ctx,
) -> BlockChange {
    let (so, sn) = pairs[p];
    let (osec, nsec) = (&old.doc.sections[so], &new.doc.sections[sn]);
    match r {
        Res::Del(i) => deleted(&osec.blocks[i], i),
        Res::Ins(j) => inserted(&nsec.blocks[j], j),
        Res::Pair(i, j) => {
            let (ob, nb) = (&osec.blocks[i], &nsec.blocks[j]);
            let mut c = paired(BlockChangeKind::Replaced, ob, i, nb, j, ctx);
            c.links = link_changes(&ob.links, &nb.links, false);
            c
        }
        Res::Split(i, j) => {
            let ob = &osec.blocks[i];
            let text = join(&nsec.blocks[j..j + 2]);
            joined(
                BlockChangeKind::Split,
                nsec.blocks[j].kind,
                i,
                j,
                ob.text.clone(),
                text,
                ctx,
            )
        }
        Res::Merge(i, j) => {
            let nb = &nsec.blocks[j];
            let text = join(&osec.blocks[i..i + 2]);
            joined(
                BlockChangeKind::Merged,
                nb.kind,
                i,
                j,
                text,
                nb.text.clone(),
                ctx,
            )
        }
        Res::MovedIn { j, from, i } => {
            let src = &old.doc.sections[pairs[from].0];
            let (ob, nb) = (&src.blocks[i], &nsec.blocks[j]);
            let mut c = paired(BlockChangeKind::Moved, ob, i, nb, j, ctx);
            c.links = link_changes(&ob.links, &nb.links, false);
            if from != p {
                c.moved_from = Some(src.title().to_string());
            }
            c
        }
        Res::MovedOut { i, to } => {
            let dest = &new.doc.sections[pairs[to].1];
            moved_out(&osec.blocks[i], i, dest.title())
        }
    }
}

/// The source side of a block moved to the section headed `to`: old index
/// and text only, no spans (the destination entry marks the words).
fn moved_out(b: &Block, i: usize, to: &str) -> BlockChange {
    BlockChange {
        change: BlockChangeKind::Moved,
        kind: b.kind,
        old_index: Some(i),
        new_index: None,
        old_text: Some(b.text.clone()),
        new_text: None,
        spans: Vec::new(),
        moved_from: None,
        moved_to: Some(to.to_string()),
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
    let mut out = Vec::new();
    for n in new {
        let key = comparable(&n.text);
        let found = (0..old.len()).find(|&k| !used[k] && comparable(&old[k].text) == key);
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
                vec![
                    Res::Del(0),
                    Res::Ins(4),
                    Res::MovedIn {
                        j: 3,
                        from: 0,
                        i: 7,
                    },
                ],
                5,
                vec![
                    Res::MovedIn {
                        j: 3,
                        from: 0,
                        i: 7,
                    },
                    Res::Del(0),
                    Res::Ins(4),
                ],
            ),
        ];
        for (res, end, want) in cases {
            assert_eq!(order(res, end), want);
        }
    }
}
