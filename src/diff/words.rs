//! Word-level marks inside a changed block ([`spans`]) and the cheap word-bag
//! similarity ([`Bag`]) used to pair, split, merge and move blocks.
//!
//! Tokens are runs of letters and digits, runs of whitespace, and single other
//! characters, so `1998.` diffs as `1998` + `.`. Two tokens are equal when
//! their comparable forms are (see [`crate::normalize::comparable`]); spans
//! always carry the display text, so concatenating a block's equal and delete
//! spans gives its old display text and equal and insert spans its new one.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Instant;

use similar::{Algorithm, DiffOp, capture_diff_slices_deadline};

use crate::normalize::comparable;
use crate::revision::{Span, SpanTag};

/// Splits display text into tokens: letter/digit runs, whitespace runs, and
/// single other characters. The tokens concatenate back to `s`.
pub(crate) fn tokens(s: &str) -> Vec<&str> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Word,
        Space,
        Other,
    }
    fn class(c: char) -> Class {
        if c.is_alphanumeric() {
            Class::Word
        } else if c.is_whitespace() {
            Class::Space
        } else {
            Class::Other
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<Class> = None;
    for (i, c) in s.char_indices() {
        let cl = class(c);
        if let Some(p) = prev
            && (p != cl || cl == Class::Other)
        {
            out.push(&s[start..i]);
            start = i;
        }
        prev = Some(cl);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// The form a token is compared in: one space for any whitespace run, else its
/// comparable text (quotes and dashes folded).
fn token_key(t: &str) -> String {
    if t.chars().all(char::is_whitespace) {
        " ".to_string()
    } else {
        comparable(t)
    }
}

/// A stretch of the word diff before it becomes spans.
enum Region {
    Equal(String),
    Change { del: String, ins: String },
}

/// Word-level spans from `old` to `new` display text. Tokens are compared on
/// their comparable form; a token equal only after folding typography is shown
/// as deleted and inserted, so the spans still concatenate exactly to both
/// texts. A whitespace-only equal stretch between two changes is folded into
/// them, so `April 1998` → `May 1999` reads as one change.
///
/// `deadline` bounds the token diff; past it the result is coarser but still exact.
pub(crate) fn spans(old: &str, new: &str, deadline: Option<Instant>) -> Vec<Span> {
    let ot = tokens(old);
    let nt = tokens(new);
    let ok: Vec<String> = ot.iter().map(|t| token_key(t)).collect();
    let nk: Vec<String> = nt.iter().map(|t| token_key(t)).collect();
    let ops = capture_diff_slices_deadline(Algorithm::Myers, &ok, &nk, deadline);

    let mut regions: Vec<Region> = Vec::new();
    let push_change = |regions: &mut Vec<Region>, del: &str, ins: &str| {
        if let Some(Region::Change { del: d, ins: i }) = regions.last_mut() {
            d.push_str(del);
            i.push_str(ins);
            return;
        }
        // Fold a whitespace-only equal stretch sitting between two changes.
        let fold = matches!(regions.as_slice(), [.., Region::Change { .. }, Region::Equal(e)]
            if e.chars().all(char::is_whitespace));
        if fold && let Some(Region::Equal(e)) = regions.pop() {
            if let Some(Region::Change { del: d, ins: i }) = regions.last_mut() {
                d.push_str(&e);
                d.push_str(del);
                i.push_str(&e);
                i.push_str(ins);
            }
            return;
        }
        regions.push(Region::Change {
            del: del.to_string(),
            ins: ins.to_string(),
        });
    };
    for op in ops {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                for k in 0..len {
                    let (o, n) = (ot[old_index + k], nt[new_index + k]);
                    if o == n {
                        if let Some(Region::Equal(e)) = regions.last_mut() {
                            e.push_str(n);
                        } else {
                            regions.push(Region::Equal(n.to_string()));
                        }
                    } else {
                        push_change(&mut regions, o, n);
                    }
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => {
                push_change(
                    &mut regions,
                    &ot[old_index..old_index + old_len].concat(),
                    "",
                );
            }
            DiffOp::Insert {
                new_index, new_len, ..
            } => {
                push_change(
                    &mut regions,
                    "",
                    &nt[new_index..new_index + new_len].concat(),
                );
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                push_change(
                    &mut regions,
                    &ot[old_index..old_index + old_len].concat(),
                    &nt[new_index..new_index + new_len].concat(),
                );
            }
        }
    }
    let mut out = Vec::with_capacity(regions.len() * 2);
    for r in regions {
        match r {
            Region::Equal(text) => out.push(Span {
                tag: SpanTag::Equal,
                text,
            }),
            Region::Change { del, ins } => coarse_into(&mut out, del, ins),
        }
    }
    out
}

/// Block-level spans: the whole old text deleted, the whole new text inserted.
pub(crate) fn coarse(old: &str, new: &str) -> Vec<Span> {
    let mut out = Vec::with_capacity(2);
    coarse_into(&mut out, old.to_string(), new.to_string());
    out
}

fn coarse_into(out: &mut Vec<Span>, del: String, ins: String) {
    if !del.is_empty() {
        out.push(Span {
            tag: SpanTag::Delete,
            text: del,
        });
    }
    if !ins.is_empty() {
        out.push(Span {
            tag: SpanTag::Insert,
            text: ins,
        });
    }
}

/// Whitespace-separated words in the spans with this tag.
pub(crate) fn count_words(spans: &[Span], tag: SpanTag) -> usize {
    spans
        .iter()
        .filter(|s| s.tag == tag)
        .map(|s| s.text.split_whitespace().count())
        .sum()
}

/// A multiset of lower-cased words (punctuation trimmed), by hash.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bag {
    counts: HashMap<u64, u32>,
    total: u32,
}

impl Bag {
    /// The bag of a comparable text.
    pub(crate) fn of(comparable_text: &str) -> Bag {
        let mut bag = Bag::default();
        bag.add_text(comparable_text);
        bag
    }

    /// Adds the words of another comparable text.
    pub(crate) fn add_text(&mut self, comparable_text: &str) {
        for w in comparable_text.split_whitespace() {
            let w = w.trim_matches(|c: char| !c.is_alphanumeric());
            if w.is_empty() {
                continue;
            }
            let mut h = DefaultHasher::new();
            w.to_lowercase().hash(&mut h);
            *self.counts.entry(h.finish()).or_insert(0) += 1;
            self.total += 1;
        }
    }

    /// The union (sum) of two bags.
    pub(crate) fn plus(&self, other: &Bag) -> Bag {
        let mut out = self.clone();
        for (k, v) in &other.counts {
            *out.counts.entry(*k).or_insert(0) += v;
        }
        out.total += other.total;
        out
    }

    /// Number of words.
    pub(crate) fn total(&self) -> u32 {
        self.total
    }

    fn common(&self, other: &Bag) -> u32 {
        let (small, large) = if self.counts.len() <= other.counts.len() {
            (self, other)
        } else {
            (other, self)
        };
        small
            .counts
            .iter()
            .map(|(k, v)| (*v).min(large.counts.get(k).copied().unwrap_or(0)))
            .sum()
    }

    /// Dice coefficient in `0.0..=1.0`: twice the shared words over all words.
    /// Two empty bags score 0 (nothing to judge by).
    pub(crate) fn dice(&self, other: &Bag) -> f64 {
        let all = self.total + other.total;
        if all == 0 {
            return 0.0;
        }
        2.0 * f64::from(self.common(other)) / f64::from(all)
    }

    /// Share of this bag's words found in `other`, `0.0..=1.0`; 0 when empty.
    pub(crate) fn contained_in(&self, other: &Bag) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        f64::from(self.common(other)) / f64::from(self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(tag: SpanTag, text: &str) -> Span {
        Span {
            tag,
            text: text.to_string(),
        }
    }

    fn join(spans: &[Span], skip: SpanTag) -> String {
        spans
            .iter()
            .filter(|s| s.tag != skip)
            .map(|s| s.text.as_str())
            .collect()
    }

    #[test]
    fn tokens_split_words_spaces_and_punctuation() {
        let cases: [(&str, &[&str]); 4] = [
            ("April 1998.", &["April", " ", "1998", "."]),
            (
                "Belarus\u{2019}  role",
                &["Belarus", "\u{2019}", "  ", "role"],
            ),
            ("", &[]),
            ("--a", &["-", "-", "a"]),
        ];
        for (input, want) in cases {
            assert_eq!(tokens(input), want, "input {input:?}");
        }
    }

    #[test]
    fn spans_mark_changed_words_and_concatenate_back() {
        use SpanTag::{Delete as D, Equal as E, Insert as I};
        let cases: Vec<(&str, &str, Vec<Span>)> = vec![
            (
                "opened in April 1998.",
                "opened in May 1999.",
                vec![
                    sp(E, "opened in "),
                    sp(D, "April 1998"),
                    sp(I, "May 1999"),
                    sp(E, "."),
                ],
            ),
            (
                "opened in April 1998.",
                "opened in April 1998 and was downgraded in 2025.",
                vec![
                    sp(E, "opened in April 1998"),
                    sp(I, " and was downgraded in 2025"),
                    sp(E, "."),
                ],
            ),
            (
                "Belarus\u{2019} role grew",
                "Belarus' role shrank",
                vec![
                    sp(E, "Belarus"),
                    sp(D, "\u{2019}"),
                    sp(I, "'"),
                    sp(E, " role "),
                    sp(D, "grew"),
                    sp(I, "shrank"),
                ],
            ),
            ("same", "same", vec![sp(E, "same")]),
            ("", "new text", vec![sp(I, "new text")]),
        ];
        for (old, new, want) in cases {
            let got = spans(old, new, None);
            assert_eq!(got, want, "{old:?} -> {new:?}");
            assert_eq!(join(&got, I), old);
            assert_eq!(join(&got, D), new);
        }
    }

    #[test]
    fn coarse_and_counts() {
        let s = coarse("a b c", "d e");
        assert_eq!(
            s,
            vec![sp(SpanTag::Delete, "a b c"), sp(SpanTag::Insert, "d e")]
        );
        assert_eq!(count_words(&s, SpanTag::Delete), 3);
        assert_eq!(count_words(&s, SpanTag::Insert), 2);
        assert_eq!(coarse("", "x"), vec![sp(SpanTag::Insert, "x")]);
    }

    #[test]
    fn bag_similarities() {
        let a = Bag::of("NATO and Belarus, as necessary.");
        let b = Bag::of("nato and belarus");
        assert_eq!(a.total(), 5);
        assert!((a.dice(&b) - 0.75).abs() < 1e-9);
        assert!((b.contained_in(&a) - 1.0).abs() < 1e-9);
        assert!((a.contained_in(&b) - 0.6).abs() < 1e-9);
        assert_eq!(Bag::of("").dice(&Bag::of("")), 0.0);
        assert_eq!(a.plus(&b).total(), 8);
    }
}
