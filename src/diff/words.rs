//! Word-level marks inside a changed block ([`spans`]) and the cheap word-bag
//! similarity ([`Bag`]) used to pair, split, merge and move blocks.
//!
//! Tokens are runs of letters and digits, runs of whitespace, and single other
//! characters, so `1998.` diffs as `1998` + `.`; each Han or kana character is
//! a token of its own (those scripts put no space between words). Two tokens
//! are equal when their comparable forms are (see
//! [`crate::normalize::comparable`]); spans always carry the display text, so
//! concatenating a block's equal and delete spans gives its old display text
//! and equal and insert spans its new one.
//!
//! Three rules keep the marks readable:
//!
//! - **Rewritten sentences are replaced whole.** The texts are cut into
//!   sentence groups (see [`sentence_starts`]; a group is the smallest run of
//!   old and new sentences the diff does not cross). A group with two or more
//!   separate changes that keeps fewer than [`MIN_KEPT_SHARE`] of its words is
//!   shown sentence by sentence as replaced: each old sentence wholly deleted,
//!   then its new sentence wholly inserted. Words shared by chance (`the`,
//!   `of`) would otherwise interleave the two texts word by word. Small edits
//!   inside otherwise equal sentences keep word marks.
//! - **Invisible edits are widened.** A change with a side made only of
//!   spaces and punctuation (`programme(1994)` → `programme (1994)`, a hyphen deleted in
//!   `crisis-management`) marks the whole space-separated token it touches,
//!   and a stray punctuation token (a dash between spaces) also takes the
//!   word beyond it, so every format shows it: `[-crisis-management-]{+crisis
//!   management+}`, never `crisis[---] management` or an empty mark.
//! - **Typography is not a change.** A token equal only after folding
//!   typography (curly vs straight quotes, dash kinds) is emitted as its own
//!   delete + insert pair, so the spans stay exact, and is neither widened,
//!   joined to a neighbouring change nor counted as a word
//!   ([`crate::normalize::typography_only`] tells renderers to show it plain).

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Instant;

use similar::{Algorithm, DiffOp, capture_diff_slices_deadline};
use unicode_segmentation::UnicodeSegmentation;

use crate::normalize::{comparable, typography_only};
use crate::revision::{Span, SpanTag};

/// The share of its words a sentence group must keep for its changes to be
/// marked word by word; below it (and with at least two separate changes) the
/// group is shown replaced sentence by sentence. The share is `2 × kept / (old
/// words + new words)`, where kept words are those in unchanged stretches,
/// not counting a lone word between two changes (the chance matches that turn
/// a rewrite into word salad). One word changed in a four-word sentence keeps
/// 0.75; a sentence rewritten around a shared `Ukraine` and `of` keeps ~0.1.
pub(crate) const MIN_KEPT_SHARE: f64 = 0.5;

/// An unchanged stretch between two changes counts as kept only with at least
/// this many words.
const MIN_ANCHOR_WORDS: usize = 2;

/// Abbreviations (lower case, without the final period) after which a
/// sentence does not end, as met on official pages: references (`No.`,
/// `Art.`, `para.`), titles, months, Latin and German/French/Russian short
/// forms. Initials (`J.`) and dotted forms (`U.S.`, `e.g.`) are recognised by
/// shape in [`ends_with_abbreviation`].
const ABBREVIATIONS: &[&str] = &[
    "no", "nos", "nr", "art", "arts", "para", "paras", "p", "pp", "vol", "vols", "ch", "chap",
    "sec", "sect", "fig", "ed", "eds", "op", "cit", "ibid", "ref", "res", "doc", "reg", "dir",
    "mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "cmdr", "adm", "sgt",
    "rev", "hon", "amb", "pres", "gov", "sen", "rep", "st", "jr", "sr", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "vs", "cf", "ca", "approx", "al",
    "inc", "ltd", "co", "corp", "dept", "govt", "incl", "excl", "min", "max", "est", "abs", "bzw",
    "vgl", "mme", "mlle", "г", "гг", "ст", "ул", "им", "см", "др", "п", "пп", "ч",
];

/// Splits display text into tokens: letter/digit runs, whitespace runs, and
/// single other characters; Han and kana characters one by one. The tokens
/// concatenate back to `s`.
pub(crate) fn tokens(s: &str) -> Vec<&str> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Word,
        Space,
        Other,
        Ideograph,
    }
    fn class(c: char) -> Class {
        if is_ideographic(c) {
            Class::Ideograph
        } else if c.is_alphanumeric() {
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
            && (p != cl || matches!(cl, Class::Other | Class::Ideograph))
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

/// Han ideographs and Japanese kana: scripts written without spaces between
/// words, where one character is the closest thing to a word.
fn is_ideographic(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'   // hiragana, katakana
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
        | '\u{20000}'..='\u{2FA1F}')
}

/// Words in a text: each whitespace-separated chunk holding a letter or digit
/// counts one, plus one per Han or kana character beyond the first (such text
/// has no spaces to count by). Punctuation alone is no word.
fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .map(|chunk| {
            let ideographs = chunk.chars().filter(|c| is_ideographic(*c)).count();
            let other = chunk
                .chars()
                .any(|c| c.is_alphanumeric() && !is_ideographic(c));
            ideographs + usize::from(other)
        })
        .sum()
}

fn has_alphanumeric(s: &str) -> bool {
    s.chars().any(char::is_alphanumeric)
}

fn is_space(s: &str) -> bool {
    !s.is_empty() && s.chars().all(char::is_whitespace)
}

/// The byte offsets at which the sentences of `s` start, the first always 0
/// (empty for empty text). Boundaries are UAX #29 sentence bounds
/// (unicode-segmentation), then joined again after an abbreviation, an
/// initial, a dotted short form or a one-word "sentence" such as a list
/// number (`1.`) or `[...]`. Each sentence keeps its trailing whitespace.
pub(crate) fn sentence_starts(s: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    for (i, _) in s.split_sentence_bound_indices() {
        if i == 0 {
            starts.push(0);
            continue;
        }
        let last = starts.last().copied().unwrap_or(0);
        let previous = s[last..i].trim();
        if word_count(previous) <= 1 || ends_with_abbreviation(previous) {
            continue;
        }
        starts.push(i);
    }
    starts
}

/// True when `text` ends with a word after which a period does not end the
/// sentence: one in [`ABBREVIATIONS`], a single-letter initial (`J.`), or a
/// dotted short form whose parts have at most two letters (`U.S.`, `e.g.`,
/// `т.е.`).
fn ends_with_abbreviation(text: &str) -> bool {
    let Some(word) = text.split_whitespace().last() else {
        return false;
    };
    let word = word.trim_start_matches(|c: char| !c.is_alphanumeric());
    let Some(core) = word.strip_suffix('.') else {
        return false;
    };
    if core.is_empty() {
        return false;
    }
    let lower = core.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return true;
    }
    let parts: Vec<&str> = core.split('.').collect();
    parts.iter().all(|p| {
        let n = p.chars().count();
        (1..=2).contains(&n) && p.chars().all(char::is_alphabetic)
    }) && (parts.len() > 1 || core.chars().count() == 1)
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

/// How one token position came out of the token diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The same text on both sides.
    Same,
    /// Equal once typography is folded; different display text.
    Typo,
    /// Only in the old text.
    Del,
    /// Only in the new text.
    Ins,
}

/// One aligned token: its kind and its indices in the old and new tokens.
#[derive(Debug, Clone, Copy)]
struct Item {
    kind: Kind,
    old: Option<usize>,
    new: Option<usize>,
}

/// A stretch of the word diff before it becomes spans. A sealed change (a
/// sentence replaced whole, a typography-only token) never joins its
/// neighbours.
enum Region {
    Equal(String),
    Change {
        del: String,
        ins: String,
        sealed: bool,
    },
}

/// The aligned tokens of an old and a new text.
struct Aligned<'a> {
    old: Vec<&'a str>,
    new: Vec<&'a str>,
    items: Vec<Item>,
}

impl Aligned<'_> {
    fn old_text(&self, it: &Item) -> &str {
        it.old.map_or("", |i| self.old[i])
    }

    fn new_text(&self, it: &Item) -> &str {
        it.new.map_or("", |i| self.new[i])
    }

    /// The old and new text of items `a..b`.
    fn texts(&self, a: usize, b: usize) -> (String, String) {
        let items = &self.items[a..b];
        (
            items.iter().map(|it| self.old_text(it)).collect(),
            items.iter().map(|it| self.new_text(it)).collect(),
        )
    }

    /// True when item `i` is unchanged text that is not whitespace.
    fn is_solid(&self, i: usize) -> bool {
        let it = &self.items[i];
        matches!(it.kind, Kind::Same | Kind::Typo) && !is_space(self.new_text(it))
    }

    /// True when item `i` is unchanged whitespace.
    fn is_gap(&self, i: usize) -> bool {
        let it = &self.items[i];
        it.kind == Kind::Same && is_space(self.new_text(it))
    }
}

/// Word-level spans from `old` to `new` display text, readable by the rules
/// in the module docs: rewritten sentences replaced whole, space- and
/// punctuation-only edits widened to their token, typography kept apart. The
/// spans concatenate exactly to both texts. A whitespace-only equal stretch
/// between two changes is folded into them, so `April 1998` → `May 1999`
/// reads as one change.
///
/// `deadline` bounds the token diff; past it the result is coarser but still exact.
pub(crate) fn spans(old: &str, new: &str, deadline: Option<Instant>) -> Vec<Span> {
    let al = align(old, new, deadline);
    let old_starts = sentence_starts(old);
    let new_starts = sentence_starts(new);
    let groups = sentence_groups(&al, (old, &old_starts), (new, &new_starts));
    let mut changed: Vec<bool> = al
        .items
        .iter()
        .map(|it| matches!(it.kind, Kind::Del | Kind::Ins))
        .collect();

    let mut regions: Vec<Region> = Vec::new();
    for g in &groups {
        if rewritten(&al, g.items.0, g.items.1) {
            replace_by_sentence(&mut regions, old, new, g, &old_starts, &new_starts);
            continue;
        }
        widen(&al, g.items.0, g.items.1, &mut changed);
        let range = g.items.0..g.items.1;
        for (it, &is_changed) in al.items[range.clone()].iter().zip(&changed[range]) {
            let (o, n) = (al.old_text(it), al.new_text(it));
            if is_changed {
                push_change(&mut regions, o, n);
            } else if it.kind == Kind::Typo {
                regions.push(Region::Change {
                    del: o.to_string(),
                    ins: n.to_string(),
                    sealed: true,
                });
            } else if let Some(Region::Equal(e)) = regions.last_mut() {
                e.push_str(n);
            } else {
                regions.push(Region::Equal(n.to_string()));
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
            Region::Change { del, ins, .. } => coarse_into(&mut out, del, ins),
        }
    }
    out
}

/// Diffs the tokens of `old` and `new` on their comparable keys. A token pair
/// equal by key but differing in a line break (a paragraph joined or split) is
/// a change, not typography.
fn align<'a>(old: &'a str, new: &'a str, deadline: Option<Instant>) -> Aligned<'a> {
    let ot = tokens(old);
    let nt = tokens(new);
    let ok: Vec<String> = ot.iter().map(|t| token_key(t)).collect();
    let nk: Vec<String> = nt.iter().map(|t| token_key(t)).collect();
    let ops = capture_diff_slices_deadline(Algorithm::Myers, &ok, &nk, deadline);
    let mut items = Vec::with_capacity(ot.len().max(nt.len()));
    let del = |i| Item {
        kind: Kind::Del,
        old: Some(i),
        new: None,
    };
    let ins = |i| Item {
        kind: Kind::Ins,
        old: None,
        new: Some(i),
    };
    for op in ops {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                for k in 0..len {
                    let (oi, ni) = (old_index + k, new_index + k);
                    let (o, n) = (ot[oi], nt[ni]);
                    if o == n {
                        items.push(Item {
                            kind: Kind::Same,
                            old: Some(oi),
                            new: Some(ni),
                        });
                    } else if o.contains('\n') || n.contains('\n') {
                        items.push(del(oi));
                        items.push(ins(ni));
                    } else {
                        items.push(Item {
                            kind: Kind::Typo,
                            old: Some(oi),
                            new: Some(ni),
                        });
                    }
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => items.extend((old_index..old_index + old_len).map(del)),
            DiffOp::Insert {
                new_index, new_len, ..
            } => items.extend((new_index..new_index + new_len).map(ins)),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                items.extend((old_index..old_index + old_len).map(del));
                items.extend((new_index..new_index + new_len).map(ins));
            }
        }
    }
    Aligned {
        old: ot,
        new: nt,
        items,
    }
}

/// A sentence group: items `items.0..items.1`, covering old bytes
/// `old.0..old.1` and new bytes `new.0..new.1`.
struct Group {
    items: (usize, usize),
    old: (usize, usize),
    new: (usize, usize),
}

/// Cuts the items wherever the old and the new side both stand at a sentence
/// start, so no group is split by the diff.
fn sentence_groups(
    al: &Aligned,
    (old, old_starts): (&str, &[usize]),
    (new, new_starts): (&str, &[usize]),
) -> Vec<Group> {
    let mut old_starts: HashSet<usize> = old_starts.iter().copied().collect();
    old_starts.insert(old.len());
    let mut new_starts: HashSet<usize> = new_starts.iter().copied().collect();
    new_starts.insert(new.len());
    let mut groups = Vec::new();
    let (mut ob, mut nb) = (0, 0);
    let mut start = (0, 0, 0);
    for (i, it) in al.items.iter().enumerate() {
        if i > start.0 && old_starts.contains(&ob) && new_starts.contains(&nb) {
            groups.push(Group {
                items: (start.0, i),
                old: (start.1, ob),
                new: (start.2, nb),
            });
            start = (i, ob, nb);
        }
        ob += al.old_text(it).len();
        nb += al.new_text(it).len();
    }
    if start.0 < al.items.len() {
        groups.push(Group {
            items: (start.0, al.items.len()),
            old: (start.1, ob),
            new: (start.2, nb),
        });
    }
    groups
}

/// True when items `a..b` hold at least two separate changes and keep less
/// than [`MIN_KEPT_SHARE`] of their words (see there).
fn rewritten(al: &Aligned, a: usize, b: usize) -> bool {
    let is_change = |i: usize| matches!(al.items[i].kind, Kind::Del | Kind::Ins);
    let mut changes = 0;
    let mut kept = 0;
    let mut i = a;
    while i < b {
        if is_change(i) {
            changes += 1;
            while i < b && is_change(i) {
                i += 1;
            }
            continue;
        }
        let stretch = i;
        let mut words = 0;
        while i < b && !is_change(i) {
            words += word_count(al.new_text(&al.items[i]));
            i += 1;
        }
        if stretch == a || i == b || words >= MIN_ANCHOR_WORDS {
            kept += words;
        }
    }
    if changes < 2 {
        return false;
    }
    let (old_text, new_text) = al.texts(a, b);
    let total = word_count(&old_text) + word_count(&new_text);
    total > 0 && (2 * kept) as f64 / (total as f64) < MIN_KEPT_SHARE
}

/// Pushes a rewritten group as sealed changes, sentence by sentence: the
/// k-th old sentence deleted, then the k-th new one inserted; the sentences
/// one side has more of go with the last pair.
fn replace_by_sentence(
    regions: &mut Vec<Region>,
    old: &str,
    new: &str,
    g: &Group,
    old_starts: &[usize],
    new_starts: &[usize],
) {
    let pieces = |text: &str, (from, to): (usize, usize), starts: &[usize]| -> Vec<String> {
        let mut cuts: Vec<usize> = starts
            .iter()
            .copied()
            .filter(|&s| s > from && s < to)
            .collect();
        cuts.insert(0, from);
        cuts.push(to);
        cuts.windows(2)
            .map(|w| text[w[0]..w[1]].to_string())
            .filter(|p| !p.is_empty())
            .collect()
    };
    let olds = pieces(old, g.old, old_starts);
    let news = pieces(new, g.new, new_starts);
    let pairs = olds.len().min(news.len()).max(1);
    // The k-th pair takes the k-th sentences; the last takes the leftovers.
    let side = |list: &[String], k: usize| -> String {
        if k + 1 == pairs {
            list.get(k..).map(<[String]>::concat).unwrap_or_default()
        } else {
            list.get(k).cloned().unwrap_or_default()
        }
    };
    for k in 0..pairs {
        regions.push(Region::Change {
            del: side(&olds, k),
            ins: side(&news, k),
            sealed: true,
        });
    }
}

/// Widens, inside items `a..b`, each change with a side made only of spaces
/// and punctuation (no line break: `programme(1994)` → `programme (1994)`, a
/// possessive `’` put in for `opened a`) to the whole space-separated token it
/// touches;
/// when its first or last token is then still bare punctuation (a dash between
/// spaces), also to the next word on that side. Marks the widened items in
/// `changed`. Spaces alone at the group's edge are left as they are.
fn widen(al: &Aligned, a: usize, b: usize, changed: &mut [bool]) {
    let mut i = a;
    while i < b {
        if !changed[i] {
            i += 1;
            continue;
        }
        let run_start = i;
        while i < b && changed[i] {
            i += 1;
        }
        let (del, ins) = al.texts(run_start, i);
        let bare_side = |side: &str| !side.is_empty() && !has_alphanumeric(side);
        if !(bare_side(&del) || bare_side(&ins)) || del.contains('\n') || ins.contains('\n') {
            continue;
        }
        // Only spaces at a group's edge: the space between two sentences,
        // shown with the sentence inserted or deleted next to it.
        if (run_start == a || i == b) && format!("{del}{ins}").trim().is_empty() {
            continue;
        }
        let (mut lo, mut hi) = (run_start, i);
        while lo > a && !changed[lo - 1] && al.is_solid(lo - 1) {
            lo -= 1;
        }
        while hi < b && !changed[hi] && al.is_solid(hi) {
            hi += 1;
        }
        let (del, ins) = al.texts(lo, hi);
        let bare = |chunk: Option<&str>| chunk.is_some_and(|c| !has_alphanumeric(c));
        let bare_first = bare(del.split_whitespace().next()) || bare(ins.split_whitespace().next());
        let bare_last = bare(del.split_whitespace().last()) || bare(ins.split_whitespace().last());
        if bare_first && lo > a && !changed[lo - 1] && al.is_gap(lo - 1) {
            let mut j = lo - 1;
            while j > a && !changed[j - 1] && al.is_solid(j - 1) {
                j -= 1;
            }
            if j < lo - 1 {
                lo = j;
            }
        }
        if bare_last && hi < b && !changed[hi] && al.is_gap(hi) {
            let mut j = hi + 1;
            while j < b && !changed[j] && al.is_solid(j) {
                j += 1;
            }
            if j > hi + 1 {
                hi = j;
            }
        }
        for c in &mut changed[lo..hi] {
            *c = true;
        }
        i = hi;
    }
}

/// Appends a change to the regions: joined to an unsealed change just before,
/// or across a whitespace-only equal stretch after one.
fn push_change(regions: &mut Vec<Region>, del: &str, ins: &str) {
    if let Some(Region::Change {
        del: d,
        ins: i,
        sealed: false,
    }) = regions.last_mut()
    {
        d.push_str(del);
        i.push_str(ins);
        return;
    }
    let fold = matches!(regions.as_slice(), [.., Region::Change { sealed: false, .. }, Region::Equal(e)]
        if e.chars().all(char::is_whitespace));
    if fold && let Some(Region::Equal(e)) = regions.pop() {
        if let Some(Region::Change { del: d, ins: i, .. }) = regions.last_mut() {
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
        sealed: false,
    });
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

/// Words in the spans with this tag (see `word_count`: chunks holding a
/// letter or digit, Han and kana characters one by one). A delete + insert
/// pair that differs only in typography counts on neither side.
pub(crate) fn count_words(spans: &[Span], tag: SpanTag) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < spans.len() {
        if let [d, ins, ..] = &spans[i..]
            && d.tag == SpanTag::Delete
            && ins.tag == SpanTag::Insert
            && typography_only(&d.text, &ins.text)
        {
            i += 2;
            continue;
        }
        if spans[i].tag == tag {
            n += word_count(&spans[i].text);
        }
        i += 1;
    }
    n
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

    /// Spans in the plain terminal form, `[-old-]{+new+}`.
    fn plain(spans: &[Span]) -> String {
        spans
            .iter()
            .map(|s| match s.tag {
                SpanTag::Equal => s.text.clone(),
                SpanTag::Delete => format!("[-{}-]", s.text),
                SpanTag::Insert => format!("{{+{}+}}", s.text),
            })
            .collect()
    }

    #[test]
    fn sentence_starts_keep_abbreviations_and_initials_together() {
        let cases: [(&str, &[&str]); 9] = [
            ("One. Two three.", &["One. Two three."]),
            (
                "Allies met in 2020. The summit ended.",
                &["Allies met in 2020. ", "The summit ended."],
            ),
            (
                "Resolution No. 1325 was adopted. It stands.",
                &["Resolution No. 1325 was adopted. ", "It stands."],
            ),
            (
                "Under Art. 5 of the Treaty, Allies act. Then more.",
                &["Under Art. 5 of the Treaty, Allies act. ", "Then more."],
            ),
            (
                "Forces of the U.S. Army and e.g. Canada took part. Next.",
                &[
                    "Forces of the U.S. Army and e.g. Canada took part. ",
                    "Next.",
                ],
            ),
            (
                "Signed on 12 Dec. 2024 in Brussels by J. Stoltenberg here. It was late.",
                &[
                    "Signed on 12 Dec. 2024 in Brussels by J. Stoltenberg here. ",
                    "It was late.",
                ],
            ),
            (
                "Отношения начались в 1991 г. Совет создан позже. Всё.",
                &["Отношения начались в 1991 г. Совет создан позже. ", "Всё."],
            ),
            (
                "北约与乌克兰的关系。双方签署了宪章。",
                &["北约与乌克兰的关系。", "双方签署了宪章。"],
            ),
            ("", &[]),
        ];
        for (text, want) in cases {
            let starts = sentence_starts(text);
            let mut got = Vec::new();
            for (k, &st) in starts.iter().enumerate() {
                let end = starts.get(k + 1).copied().unwrap_or(text.len());
                got.push(&text[st..end]);
            }
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn marks_are_readable_by_kind_of_edit() {
        // (what, old, new, marks in the plain form, words removed, words added)
        let cases: [(&str, &str, &str, &str, usize, usize); 16] = [
            (
                "one word changed: word marks",
                "Belarus\u{2019} diplomatic mission to NATO opened in April 1998.",
                "Belarus\u{2019} diplomatic mission to NATO opened in May 1998.",
                "Belarus\u{2019} diplomatic mission to NATO opened in [-April-]{+May+} 1998.",
                1,
                1,
            ),
            (
                "a clause inserted: one insertion, never a whole replace",
                "The mission opened in April 1998.",
                "The mission opened in April 1998 and was downgraded in 2025 after Allies suspended all practical cooperation with the country.",
                "The mission opened in April 1998{+ and was downgraded in 2025 after Allies suspended all practical cooperation with the country+}.",
                0,
                14,
            ),
            (
                "a rewritten sentence is replaced whole, the unchanged one kept",
                "A sovereign, independent and stable Ukraine, firmly committed to democracy and the rule of law, is key to Euro-Atlantic security. Allies met in 2020.",
                "The security of Ukraine is of great importance to NATO and its member states. Allies met in 2020.",
                "[-A sovereign, independent and stable Ukraine, firmly committed to democracy and the rule of law, is key to Euro-Atlantic security. -]\
                 {+The security of Ukraine is of great importance to NATO and its member states. +}Allies met in 2020.",
                20,
                14,
            ),
            (
                "sentence by sentence: a small edit keeps word marks beside a rewrite",
                "Allies met in 2020. The meeting was held in Brussels under Art. 4 of the Treaty. It ended.",
                "Allies met in 2021. The summit took place in Vilnius under Art. 5 of the Washington Treaty. It ended.",
                "Allies met in [-2020-]{+2021+}. [-The meeting was held in Brussels under Art. 4 of the Treaty. -]\
                 {+The summit took place in Vilnius under Art. 5 of the Washington Treaty. +}It ended.",
                13,
                14,
            ),
            (
                "threshold, kept side: 2 × 6 kept / 24 words = 0.5 keeps word marks",
                "The Council met in Brussels on Monday and agreed a new plan.",
                "The Council met in Vilnius on Friday to approve a new budget.",
                "The Council met in [-Brussels-]{+Vilnius+} on [-Monday and agreed-]{+Friday to approve+} a new [-plan-]{+budget+}.",
                5,
                5,
            ),
            (
                "threshold, replaced side: 2 × 4 kept / 18 words = 0.44 (lone `the` not kept)",
                "The Council met on Monday and agreed the plan.",
                "The Council met on Friday to agree the budget.",
                "[-The Council met on Monday and agreed the plan.-]{+The Council met on Friday to agree the budget.+}",
                9,
                9,
            ),
            (
                "a sentence appended: the space before it is not widened into the old one",
                "The mission opened in April 1998.",
                "The mission opened in April 1998. Its website showed <b> as text.",
                "The mission opened in April 1998.{+ Its website showed <b> as text.+}",
                0,
                6,
            ),
            (
                "two sentences rewritten as three: pair by pair, the extra one with the last",
                "The Council met in Brussels on Monday. It agreed a plan.",
                "Ministers gathered in Vilnius on Friday. They discussed the budget. Talks went on.",
                "[-The Council met in Brussels on Monday. -]{+Ministers gathered in Vilnius on Friday. +}\
                 [-It agreed a plan.-]{+They discussed the budget. Talks went on.+}",
                11,
                13,
            ),
            (
                "a space inserted before a parenthesis marks the whole token",
                "under the Partnership for Peace programme(1994) and more",
                "under the Partnership for Peace programme (1994) and more",
                "under the Partnership for Peace [-programme(1994)-]{+programme (1994)+} and more",
                1,
                2,
            ),
            (
                "a hyphen deleted reads unambiguously",
                "NATO's crisis-management role",
                "NATO's crisis management role",
                "NATO's [-crisis-management-]{+crisis management+} role",
                1,
                2,
            ),
            (
                "punctuation for words: the token carrying it is marked",
                "Belarus opened a diplomatic mission",
                "Belarus\u{2019} diplomatic mission",
                "[-Belarus opened a-]{+Belarus\u{2019}+} diplomatic mission",
                3,
                1,
            ),
            (
                "a comma deleted marks its word",
                "Allies, as necessary, agreed.",
                "Allies, as necessary agreed.",
                "Allies, as [-necessary,-]{+necessary+} agreed.",
                1,
                1,
            ),
            (
                "a dash between spaces deleted takes the words on both sides",
                "peace - and security",
                "peace and security",
                "[-peace - and-]{+peace and+} security",
                2,
                2,
            ),
            (
                "typography beside a real change stays apart and counts no word",
                "Belarus\u{2019} role \u{201c}grew\u{201d} in 1992\u{2013}1997.",
                "Belarus' role \"shrank\" in 1992-1997.",
                "Belarus[-\u{2019}-]{+'+} role [-\u{201c}-]{+\"+}[-grew-]{+shrank+}[-\u{201d}-]{+\"+} in 1992[-\u{2013}-]{+-+}1997.",
                1,
                1,
            ),
            (
                "Cyrillic: one word changed, abbreviation `г.` no sentence end",
                "Отношения НАТО и Украины начались в 1991 г. Совет был создан позже.",
                "Отношения НАТО и Украины начались в 1992 г. Совет был создан позже.",
                "Отношения НАТО и Украины начались в [-1991-]{+1992+} г. Совет был создан позже.",
                1,
                1,
            ),
            (
                "CJK: characters are words, the insertion alone is marked",
                "北约与乌克兰的关系。双方在1997年签署了宪章。",
                "北约与乌克兰的关系。双方在1997年签署了特殊伙伴关系宪章。",
                "北约与乌克兰的关系。双方在1997年签署了{+特殊伙伴关系+}宪章。",
                0,
                6,
            ),
        ];
        for (what, old, new, want, removed, added) in cases {
            let got = spans(old, new, None);
            assert_eq!(plain(&got), want, "{what}");
            assert_eq!(join(&got, SpanTag::Insert), old, "{what}: old side");
            assert_eq!(join(&got, SpanTag::Delete), new, "{what}: new side");
            assert_eq!(
                (
                    count_words(&got, SpanTag::Delete),
                    count_words(&got, SpanTag::Insert)
                ),
                (removed, added),
                "{what}: word counts"
            );
        }
    }

    #[test]
    fn spans_rejoin_to_both_texts_under_random_edits() {
        let texts = [
            "Bilateral cooperation began when Belarus joined the Partnership for Peace (PfP) programme in 1995. \
             Under the PfP, NATO and Belarus developed practical cooperation in a number of areas, e.g. civil \
             emergency planning, through the Individual Partnership and Cooperation Programme (IPCP).",
            "Отношения НАТО и Украины начались в 1991 г. Совет был создан позже. Партнёрство \u{ab}за мир\u{bb} \u{2014} с 1994 г.",
            "北约与乌克兰的关系始于1991年。双方在1997年签署了特殊伙伴关系宪章。合作涵盖许多领域。",
        ];
        let extra = [
            "the",
            "of",
            "-",
            ",",
            "(",
            ")",
            "No.",
            "e.g.",
            "\u{201c}",
            "\u{2019}",
            "Allies",
            "北约",
            "Украина",
            ".",
            " ",
            "\n\n",
        ];
        let mut x: u64 = 7;
        let mut rnd = |n: usize| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((x >> 33) as usize) % n.max(1)
        };
        for round in 0..600 {
            let old = texts[round % texts.len()];
            let mut toks: Vec<String> = tokens(old).into_iter().map(String::from).collect();
            for _ in 0..1 + rnd(if round % 4 == 0 { 30 } else { 4 }) {
                let i = rnd(toks.len());
                match rnd(3) {
                    0 if toks.len() > 1 => {
                        toks.remove(i);
                    }
                    1 => toks.insert(i, extra[rnd(extra.len())].to_string()),
                    _ => toks[i] = extra[rnd(extra.len())].to_string(),
                }
            }
            let new = toks.concat().trim().to_string();
            let got = spans(old, &new, None);
            assert_eq!(join(&got, SpanTag::Insert), old, "round {round}");
            assert_eq!(join(&got, SpanTag::Delete), new, "round {round}");
            assert!(
                got.iter().all(|s| !s.text.is_empty()),
                "round {round}: {got:?}"
            );
        }
    }

    #[test]
    fn typography_only_is_no_change() {
        let cases = [
            ("Belarus\u{2019} \u{201c}role\u{201d}", "Belarus' \"role\""),
            ("1992\u{2013}1997 \u{2014} x", "1992-1997 - x"),
            ("Здравствуй, \u{00ab}мир\u{00bb}", "Здравствуй, \"мир\""),
        ];
        for (old, new) in cases {
            let got = spans(old, new, None);
            assert_eq!(join(&got, SpanTag::Insert), old);
            assert_eq!(join(&got, SpanTag::Delete), new);
            assert_eq!(count_words(&got, SpanTag::Delete), 0, "{old:?}");
            assert_eq!(count_words(&got, SpanTag::Insert), 0, "{new:?}");
            let shown = crate::report::summary::shown_spans(&got);
            assert_eq!(
                shown,
                vec![sp(SpanTag::Equal, new)],
                "renderers show {old:?} as plain text"
            );
        }
        // NBSP vs space is folded by display text already: no span marks it
        let nbsp = crate::normalize::display("Allies\u{00a0}agreed");
        assert_eq!(
            spans(&nbsp, "Allies agreed", None),
            vec![sp(SpanTag::Equal, "Allies agreed")]
        );
    }

    #[test]
    fn rendered_marks_are_visible_in_every_format() {
        use crate::report::summary::tests::sample;
        use crate::report::{Format, TerminalStyle, render};
        // (old, new, terminal line part, markdown line part, html part)
        let cases = [
            (
                "Relations grew under the programme(1994).",
                "Relations grew under the programme (1994).",
                "[-programme(1994).-]{+programme (1994).+}",
                "~~programme(1994).~~**programme (1994).**",
                "<del>programme(1994).</del><ins class=\"joined\">programme (1994).</ins>",
            ),
            (
                "NATO's crisis-management role grew.",
                "NATO's crisis management role grew.",
                "[-crisis-management-]{+crisis management+}",
                "~~crisis-management~~**crisis management**",
                "<del>crisis-management</del><ins class=\"joined\">crisis management</ins>",
            ),
            (
                "A sovereign and stable Ukraine is key to security. Allies met.",
                "The security of Ukraine is of great importance to NATO. Allies met.",
                "[-A sovereign and stable Ukraine is key to security.-] {+The security of Ukraine is of great importance to NATO.+} Allies met.",
                "~~A sovereign and stable Ukraine is key to security.~~ **The security of Ukraine is of great importance to NATO.** Allies met.",
                "<del>A sovereign and stable Ukraine is key to security.</del> <ins>The security of Ukraine is of great importance to NATO.</ins> Allies met.",
            ),
            (
                "Belarus\u{2019} role grew.",
                "Belarus' role shrank.",
                "Belarus' role [-grew-]{+shrank+}.",
                "Belarus' role ~~grew~~**shrank**.",
                "Belarus' role <del>grew</del>",
            ),
        ];
        for (old, new, term, md, html) in cases {
            let mut redline = sample();
            let block = &mut redline.revision.sections[1].blocks[0];
            block.old_text = Some(old.to_string());
            block.new_text = Some(new.to_string());
            block.spans = spans(old, new, None);
            let out = |format| {
                let mut out = Vec::new();
                let style = TerminalStyle {
                    color: false,
                    width: None,
                };
                render(&redline, format, style, &mut out).expect("render to a Vec");
                String::from_utf8(out).expect("utf-8")
            };
            let (t, m, h) = (
                out(Format::Terminal),
                out(Format::Markdown),
                out(Format::Html),
            );
            assert!(t.contains(term), "terminal for {old:?}:\n{t}");
            assert!(m.contains(md), "markdown for {old:?}:\n{m}");
            assert!(h.contains(html), "html for {old:?}:\n{h}");
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
        // punctuation alone is no word; Han characters count one each
        assert_eq!(count_words(&coarse("- , .", ""), SpanTag::Delete), 0);
        assert_eq!(count_words(&coarse("", "北约 NATO"), SpanTag::Insert), 3);
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
