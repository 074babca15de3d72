//! Heading alignment: which old section's heading became which new one.
//!
//! Headings are aligned as their own sequence, apart from the blocks (which
//! `blocks.rs` aligns over the whole document):
//! 1. the lead pairs with the lead;
//! 2. a Myers diff over the headings' comparable, lower-cased text pairs the
//!    headings that kept their text and their order (whatever their level);
//! 3. the rest with the same text pair in order (a section that moved);
//! 4. the rest pair by similarity: a weighted mix of heading similarity
//!    (character ratio of the comparable headings) and content similarity
//!    (Dice coefficient of the sections' word bags), best pairs first, so a
//!    renamed heading over the same blocks is matched;
//! 5. among paired sections, those outside a longest increasing subsequence
//!    of old positions (taken in new order) are the moved ones.
//!
//! A heading left unpaired is an added or removed heading; whether its blocks
//! came and went with it is for the block alignment to say.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use similar::{Algorithm, DiffOp, TextDiff, capture_diff_slices_deadline};

use super::Prepared;
use super::words::Bag;
use crate::document::Section;
use crate::normalize::comparable;

/// Weight of heading similarity in the pairing score; content gets the rest.
const HEADING_WEIGHT: f64 = 0.35;
/// Lowest pairing score for two sections with different headings.
const PAIR_THRESHOLD: f64 = 0.5;
/// Most (unpaired old × unpaired new) sections scored by similarity; beyond
/// it only equal headings pair, which keeps a pathological page cheap.
const MAX_SCORED_PAIRS: usize = 20_000;
/// Longest pair of headings (bytes, both together) compared character by
/// character; longer ones (no real heading is) are compared by their words,
/// whose cost is linear.
const MAX_HEADING_CHARS: usize = 400;
/// Most character-diff work (the sum of each compared pair's squared length)
/// spent on heading similarity in one diff; past it, headings are compared
/// by their words. A character diff costs up to the square of the pair's
/// length, and up to [`MAX_SCORED_PAIRS`] pairs are scored.
const HEADING_CHAR_BUDGET: usize = 16_000_000;

/// How the sections of two documents correspond.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Alignment {
    /// Paired sections as (old index, new index), in new order.
    pub pairs: Vec<(usize, usize)>,
    /// Parallel to `pairs`: true when the pair changed position among the pairs.
    pub moved: Vec<bool>,
    /// Per old section, its partner in the new document.
    pub new_of_old: Vec<Option<usize>>,
    /// Per new section, its partner in the old document.
    pub old_of_new: Vec<Option<usize>>,
    /// True when the deadline cut the pairing short: the sections left were
    /// paired by equal headings only (never by similarity).
    pub cut: bool,
}

/// Aligns the headings of two prepared documents; past `deadline` the
/// headings' diff is coarser and no more pairs are scored by similarity.
pub(crate) fn align(
    old: &Prepared<'_>,
    new: &Prepared<'_>,
    deadline: Option<Instant>,
) -> Alignment {
    let past = || deadline.is_some_and(|d| Instant::now() >= d);
    let old_secs = &old.doc.sections;
    let new_secs = &new.doc.sections;
    let mut old_partner: Vec<Option<usize>> = vec![None; old_secs.len()];
    let mut new_partner: Vec<Option<usize>> = vec![None; new_secs.len()];
    let pair = |i: usize, j: usize, op: &mut [Option<usize>], np: &mut [Option<usize>]| {
        op[i] = Some(j);
        np[j] = Some(i);
    };

    // 1. The lead.
    if let (Some(i), Some(j)) = (
        old_secs.iter().position(Section::is_lead),
        new_secs.iter().position(Section::is_lead),
    ) {
        pair(i, j, &mut old_partner, &mut new_partner);
    }

    // 2. Same heading text, same order.
    let title = |s: &Section| comparable(s.title()).to_lowercase();
    let old_idx: Vec<usize> = (0..old_secs.len())
        .filter(|&i| !old_secs[i].is_lead())
        .collect();
    let new_idx: Vec<usize> = (0..new_secs.len())
        .filter(|&j| !new_secs[j].is_lead())
        .collect();
    let old_all: Vec<String> = old_secs.iter().map(title).collect();
    let new_all: Vec<String> = new_secs.iter().map(title).collect();
    let old_titles: Vec<&str> = old_idx.iter().map(|&i| old_all[i].as_str()).collect();
    let new_titles: Vec<&str> = new_idx.iter().map(|&j| new_all[j].as_str()).collect();
    for op in capture_diff_slices_deadline(Algorithm::Myers, &old_titles, &new_titles, deadline) {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        {
            for k in 0..len {
                pair(
                    old_idx[old_index + k],
                    new_idx[new_index + k],
                    &mut old_partner,
                    &mut new_partner,
                );
            }
        }
    }

    // 3. Same heading text, another place.
    let mut by_title: HashMap<&str, VecDeque<usize>> = HashMap::new();
    for (a, &i) in old_idx.iter().enumerate() {
        if old_partner[i].is_none() {
            by_title.entry(old_titles[a]).or_default().push_back(i);
        }
    }
    for (b, &j) in new_idx.iter().enumerate() {
        if new_partner[j].is_some() {
            continue;
        }
        if let Some(i) = by_title
            .get_mut(new_titles[b])
            .and_then(VecDeque::pop_front)
        {
            pair(i, j, &mut old_partner, &mut new_partner);
        }
    }

    // 4. By similarity of heading and content.
    let mut cut = false;
    let mut char_budget = HEADING_CHAR_BUDGET;
    let old_left: Vec<usize> = (0..old_secs.len())
        .filter(|&i| old_partner[i].is_none())
        .collect();
    let new_left: Vec<usize> = (0..new_secs.len())
        .filter(|&j| new_partner[j].is_none())
        .collect();
    if !old_left.is_empty() && !new_left.is_empty() {
        let old_bags: Vec<Bag> = old_left.iter().map(|&i| old.section_bag(i)).collect();
        let new_bags: Vec<Bag> = new_left.iter().map(|&j| new.section_bag(j)).collect();
        let old_heads: Vec<Bag> = old_left.iter().map(|&i| Bag::of(&old_all[i])).collect();
        let new_heads: Vec<Bag> = new_left.iter().map(|&j| Bag::of(&new_all[j])).collect();
        let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
        if old_left.len() * new_left.len() <= MAX_SCORED_PAIRS {
            'scoring: for (a, &i) in old_left.iter().enumerate() {
                for (b, &j) in new_left.iter().enumerate() {
                    let (os, ns) = (&old_secs[i], &new_secs[j]);
                    if os.is_lead() || ns.is_lead() {
                        continue;
                    }
                    if past() {
                        cut = true;
                        break 'scoring;
                    }
                    let h = heading_similarity(
                        (&old_all[i], &old_heads[a]),
                        (&new_all[j], &new_heads[b]),
                        deadline,
                        &mut char_budget,
                    );
                    let score = pair_score(h, &old_bags[a], &new_bags[b]);
                    if score >= PAIR_THRESHOLD {
                        candidates.push((score, i, j));
                    }
                }
            }
        }
        // Best first; ties broken by position so the result is deterministic.
        candidates.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.2.cmp(&y.2)).then(x.1.cmp(&y.1)));
        for (_, i, j) in candidates {
            if old_partner[i].is_none() && new_partner[j].is_none() {
                pair(i, j, &mut old_partner, &mut new_partner);
            }
        }
    }

    let pairs: Vec<(usize, usize)> = new_partner
        .iter()
        .enumerate()
        .filter_map(|(j, p)| p.map(|i| (i, j)))
        .collect();
    let olds: Vec<usize> = pairs.iter().map(|p| p.0).collect();
    let keep = lis_members(&olds);
    Alignment {
        moved: keep.iter().map(|k| !k).collect(),
        pairs,
        new_of_old: old_partner,
        old_of_new: new_partner,
        cut,
    }
}

/// The old sections in the order their blocks are laid out for the
/// whole-document block diff: each paired section at its partner's place in
/// new order, followed by the unpaired old sections that followed it in the
/// old document (a removed heading's blocks stay where the page had them,
/// after the section before); unpaired sections before the first paired one
/// come first. Every old section appears once.
pub(crate) fn old_layout(al: &Alignment) -> Vec<usize> {
    let n = al.new_of_old.len();
    let first = (0..n).find(|&i| al.new_of_old[i].is_some()).unwrap_or(n);
    let mut order: Vec<usize> = (0..first).collect();
    for &(oi, _) in &al.pairs {
        order.push(oi);
        order.extend((oi + 1..n).take_while(|&k| al.new_of_old[k].is_none()));
    }
    order
}

/// Character-level similarity of two headings (their comparable, lower-cased
/// text, and its word bag), `0.0..=1.0`; word-level (Dice) for headings
/// longer than any real one ([`MAX_HEADING_CHARS`]), whose character diff
/// would cost the square of their length, and once `budget` (character-diff
/// work left) is spent. The character diff stops at `deadline`.
fn heading_similarity(
    (a, a_words): (&str, &Bag),
    (b, b_words): (&str, &Bag),
    deadline: Option<Instant>,
    budget: &mut usize,
) -> f64 {
    if a == b {
        return 1.0;
    }
    let cost = (a.len() + b.len()).pow(2);
    if a.len() + b.len() > MAX_HEADING_CHARS || cost > *budget {
        return a_words.dice(b_words);
    }
    *budget -= cost;
    let mut config = TextDiff::configure();
    if let Some(d) = deadline {
        config.deadline(d);
    }
    f64::from(config.diff_chars(a, b).ratio())
}

/// The pairing score of two sections: heading similarity alone when both are
/// empty, else weighted with content similarity.
fn pair_score(heading: f64, old: &Bag, new: &Bag) -> f64 {
    if old.total() == 0 && new.total() == 0 {
        return heading;
    }
    HEADING_WEIGHT * heading + (1.0 - HEADING_WEIGHT) * old.dice(new)
}

/// For each element, whether it belongs to one longest strictly increasing
/// subsequence of `seq` (patience method; among equal-length answers the one
/// ending on the smallest values is kept).
pub(crate) fn lis_members(seq: &[usize]) -> Vec<bool> {
    // tails[k]: index into seq of the smallest tail of an increasing run of length k+1
    let mut tails: Vec<usize> = Vec::new();
    let mut prev: Vec<Option<usize>> = vec![None; seq.len()];
    for (i, &v) in seq.iter().enumerate() {
        let pos = tails.partition_point(|&t| seq[t] < v);
        if pos > 0 {
            prev[i] = Some(tails[pos - 1]);
        }
        if pos == tails.len() {
            tails.push(i);
        } else {
            tails[pos] = i;
        }
    }
    let mut member = vec![false; seq.len()];
    let mut cur = tails.last().copied();
    while let Some(i) = cur {
        member[i] = true;
        cur = prev[i];
    }
    member
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lis_marks_the_kept_order() {
        let cases: [(&[usize], &[bool]); 5] = [
            (&[0, 1, 2, 3], &[true, true, true, true]),
            (&[0, 2, 1, 3], &[true, false, true, true]),
            (&[3, 0, 1, 2], &[false, true, true, true]),
            (&[1, 2, 3, 0], &[true, true, true, false]),
            (&[], &[]),
        ];
        for (seq, want) in cases {
            assert_eq!(lis_members(seq), want, "seq {seq:?}");
        }
    }

    #[test]
    fn pair_score_weights_heading_and_content() {
        let a = Bag::of("one two three four");
        let empty = Bag::default();
        let cases = [
            (1.0, &a, &a, 1.0),
            (0.0, &a, &a, 0.65),
            (0.8, &empty, &empty, 0.8),
            (1.0, &a, &empty, 0.35),
        ];
        for (h, o, n, want) in cases {
            assert!(
                (pair_score(h, o, n) - want).abs() < 1e-9,
                "h {h} want {want}"
            );
        }
    }
}
