//! Telling a page's template from its text: redesigns ("layout changed"),
//! other pages served in its place, and bodies that look cut.
//!
//! These are pure functions of two documents (and, for a cut, the raw bodies);
//! the monitor decides what to record from their verdicts:
//!
//! - [`template_change`]: the content root or the stamp's place changed between
//!   two documents of one target;
//! - [`same_text`]: the text is the same once the chrome a new template brought
//!   (or an old one carried) is set aside: then a template change is a quiet
//!   technical snapshot, never a revision;
//! - [`unlike`]: the new page shares little text with the old one and is much
//!   shorter: an error, login or interstitial page, never taken for a revision;
//! - [`looks_cut`] and [`large_removal`]: a body that may have been cut in
//!   transit is confirmed by a second fetch before it is stored, and a
//!   confirmed loss of most blocks is flagged.

use std::collections::HashMap;

use crate::document::Document;
use crate::normalize::comparable;
use crate::revision::{Revision, RevisionKind};
use crate::stamp;
use crate::target::Rules;

/// Chrome-like lines are at most this many words (a date line, "5 min read",
/// a language picker, "Share"); a sentence of content is longer.
pub const CHROME_MAX_WORDS: usize = 8;

/// Below this share of the old document's words found in the new one (in
/// blocks of equal text), the new page is not the same page.
pub const UNLIKE_SHARED: f64 = 0.2;

/// A confirmed revision that loses more than half the old blocks (and at
/// least this many) is flagged as a large removal.
pub const LARGE_REMOVAL_MIN_BLOCKS: usize = 4;

/// How the template of a target's page changed between two documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateChange {
    /// The content root the old document was taken from (selector or fallback name).
    pub old_root: String,
    /// The content root the new document was taken from.
    pub new_root: String,
    /// True when the new root is a fallback because the configured one matched nothing.
    pub fallback: bool,
    /// The old stamp's text, when it is gone (no stamp line at all, not even
    /// an unreadable one) or names the same moment in other words.
    pub stamp_moved: Option<String>,
}

impl TemplateChange {
    /// True when the content root differs.
    pub fn root_changed(&self) -> bool {
        self.old_root != self.new_root
    }

    /// The warning naming the rule to update, e.g.
    /// ``[rules.nato-topic] content = ["section.content"]: configured root `section.content` not found; found `main` ``.
    pub fn warning(&self, rules: &Rules) -> String {
        let mut parts = Vec::new();
        if self.root_changed() {
            let configured: Vec<String> = rules
                .content
                .iter()
                .map(|c| format!("\"{}\"", c.source))
                .collect();
            parts.push(if rules.content.is_empty() {
                format!(
                    "[{} rules] content root found changed from `{}` to `{}` \
                     (set `content` in a `[rules.NAME]` table to pin it)",
                    rules.name, self.old_root, self.new_root
                )
            } else if self.fallback {
                format!(
                    "[rules.{}] content = [{}]: configured root `{}` not found; found `{}`",
                    rules.name,
                    configured.join(", "),
                    self.old_root,
                    self.new_root
                )
            } else {
                format!(
                    "[rules.{}] content = [{}]: root found changed from `{}` to `{}`",
                    rules.name,
                    configured.join(", "),
                    self.old_root,
                    self.new_root
                )
            });
        }
        if let Some(old) = &self.stamp_moved {
            parts.push(format!(
                "[rules.{}]: the stamp `{old}` is no longer read where it was; \
                 the page's template changed",
                rules.name
            ));
        }
        parts.join("; ")
    }
}

/// How the template changed from `old` to `new`, or `None` when the content
/// root is the same and the stamp (if the old document had one) is still read
/// in the same words.
pub fn template_change(old: &Document, new: &Document) -> Option<TemplateChange> {
    let (o, n) = (&old.meta.root, &new.meta.root);
    let stamp_moved = match (&old.meta.stamp, &new.meta.stamp) {
        // A stamp line still there but unreadable has not moved.
        (Some(a), None) if new.meta.stamp_unreadable.is_none() => Some(a.text.clone()),
        (Some(a), Some(b)) if a.same_moment(b) && comparable(&a.text) != comparable(&b.text) => {
            Some(a.text.clone())
        }
        _ => None,
    };
    let root_changed = o.selector != n.selector || (n.fallback && !o.fallback);
    (root_changed || stamp_moved.is_some()).then(|| TemplateChange {
        old_root: o.selector.clone(),
        new_root: n.selector.clone(),
        fallback: n.fallback && !o.fallback,
        stamp_moved,
    })
}

/// The document's text as a reader sees its order: each heading, then each
/// block, in comparable form (kinds, levels and links left out: a template
/// may turn paragraphs into list items, shift every heading a level, or move
/// its links to another URL scheme without changing what the page says).
fn lines(doc: &Document) -> Vec<String> {
    let mut out = Vec::new();
    for s in &doc.sections {
        if let Some(h) = &s.heading {
            out.push(comparable(h));
        }
        out.extend(s.blocks.iter().map(|b| b.comparable()));
    }
    out.retain(|l| !l.is_empty());
    out
}

/// True for a short line that reads as page furniture rather than a sentence
/// of content: at most [`CHROME_MAX_WORDS`] words, not ending a sentence.
pub fn chrome_like(line: &str) -> bool {
    let line = line.trim();
    line.split_whitespace().count() <= CHROME_MAX_WORDS
        && !line.ends_with(['.', '!', '?', ';', ':'])
}

/// True when `old` and `new` say the same thing: their lines (headings and
/// blocks, text only) are equal once chrome-like lines only one side has are
/// set aside. Lines of content added, removed or edited make it false.
pub fn same_text(old: &Document, new: &Document) -> bool {
    let (o, n) = (lines(old), lines(new));
    if o == n {
        return true;
    }
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &o, &n);
    let mut shared = 0;
    for op in ops {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        match tag {
            similar::DiffTag::Equal => shared += old_range.len(),
            _ => {
                let chrome = o[old_range]
                    .iter()
                    .chain(&n[new_range])
                    .all(|l| chrome_like(l));
                if !chrome {
                    return false;
                }
            }
        }
    }
    shared > 0
}

/// The template change from `old` to `new` when it is all that changed (the
/// text is the same, see [`same_text`], and so is the stamp's moment;
/// `revision` is their diff, `None` when content and stamp are equal): such a
/// pair is a quiet "layout changed", never a redline. A new stamp under a new
/// template is not "only" a redesign: see [`restamped`].
pub fn redesign_only(
    old: &Document,
    new: &Document,
    revision: Option<&Revision>,
) -> Option<TemplateChange> {
    let change = template_change(old, new)?;
    let stamp_changed = stamp::changed(old.meta.stamp.as_ref(), new.meta.stamp.as_ref());
    (!stamp_changed && same_text_or_equal(old, new, revision)).then_some(change)
}

/// The revision to record when the template changed, the text is the same
/// and the stamp changed (moved to another moment, appeared or vanished): a
/// `stamp-only` revision (no section changed, every section unchanged) in
/// place of `revision`, whose sections would only show the template's
/// reshuffling of the same text. `None` when that is not the case.
pub fn restamped(old: &Document, new: &Document, revision: Option<&Revision>) -> Option<Revision> {
    template_change(old, new)?;
    let (old_stamp, new_stamp) = (old.meta.stamp.as_ref(), new.meta.stamp.as_ref());
    if !stamp::changed(old_stamp, new_stamp) || !same_text_or_equal(old, new, revision) {
        return None;
    }
    Some(Revision {
        kind: RevisionKind::StampOnly,
        old_stamp: old_stamp.cloned(),
        new_stamp: new_stamp.cloned(),
        summary: crate::revision::ChangeSummary {
            sections_total: new.sections.len(),
            ..Default::default()
        },
        sections: Vec::new(),
        unchanged: new.sections.iter().map(|s| s.title().to_string()).collect(),
        degraded: None,
    })
}

/// True when the diff found no content change or the text is the same.
fn same_text_or_equal(old: &Document, new: &Document, revision: Option<&Revision>) -> bool {
    revision.is_none_or(|r| r.kind == RevisionKind::StampOnly) || same_text(old, new)
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

/// The share (0.0..=1.0) of the old document's words that stand in blocks
/// whose text the new document has too; 1.0 when the old one has no words.
pub fn shared_text(old: &Document, new: &Document) -> f64 {
    let mut have: HashMap<String, usize> = HashMap::new();
    for l in lines(new) {
        *have.entry(l).or_default() += 1;
    }
    let (mut total, mut shared) = (0usize, 0usize);
    for l in lines(old) {
        let w = words(&l);
        total += w;
        if let Some(n) = have.get_mut(&l).filter(|n| **n > 0) {
            *n -= 1;
            shared += w;
        }
    }
    if total == 0 {
        1.0
    } else {
        shared as f64 / total as f64
    }
}

/// True when `new` is most likely another page served in place of `old` (an
/// error, login or interstitial page): it shares less than
/// [`UNLIKE_SHARED`] of the old words and has less than half the old text.
/// A page rewritten at full length is not refused: it is a revision.
pub fn unlike(old: &Document, new: &Document) -> bool {
    old.text_len() > 0
        && new.text_len() * 2 < old.text_len()
        && shared_text(old, new) < UNLIKE_SHARED
}

/// Why a new body looks cut in transit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutSign {
    /// The body ends inside a multi-byte character.
    MidCharacter,
    /// The body ends inside a tag (or comment): `<p cla`.
    InsideTag,
    /// No previous page to compare with, and this one opens `<html>` or
    /// `<body>` without closing it.
    Unclosed,
    /// The old page closed its `</body>` or `</html>`; the new one does not.
    ClosingTagLost,
    /// The body was delimited by the connection closing (no `Content-Length`,
    /// not chunked) and is shorter than the old one.
    ShorterCloseDelimited,
    /// Most blocks were lost from the end, the rest unchanged, under the same stamp.
    TailLost,
}

impl CutSign {
    /// One line for a person.
    pub fn describe(self) -> &'static str {
        match self {
            CutSign::MidCharacter => "the body ends inside a multi-byte character",
            CutSign::InsideTag => "the body ends inside a tag",
            CutSign::Unclosed => "the page opens `<html>`/`<body>` and does not close it",
            CutSign::ClosingTagLost => {
                "the page does not close its `</body>`/`</html>` as the previous one did"
            }
            CutSign::ShorterCloseDelimited => {
                "the body ended with the connection, shorter than the previous one"
            }
            CutSign::TailLost => "most blocks were lost from the end under the same stamp",
        }
    }
}

/// True when the body has a `</body` or `</html` end tag (ASCII case-insensitive).
pub fn closes(body: &[u8]) -> bool {
    // From the end, where a whole page's closing tags are.
    body.windows(6)
        .rev()
        .any(|w| w.eq_ignore_ascii_case(b"</body") || w.eq_ignore_ascii_case(b"</html"))
}

/// True when the body has an `<html` or `<body` start tag (ASCII case-insensitive).
pub fn opens(body: &[u8]) -> bool {
    body.windows(6).any(|w| {
        (w[..5].eq_ignore_ascii_case(b"<html") || w[..5].eq_ignore_ascii_case(b"<body"))
            && matches!(w[5], b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/')
    })
}

/// True when the body (trailing whitespace aside) ends inside a tag, end tag,
/// comment or declaration: its last `<` opens one and no `>` follows it.
pub fn ends_inside_tag(body: &[u8]) -> bool {
    let end = body
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let body = &body[..end];
    let Some(lt) = body.iter().rposition(|b| *b == b'<') else {
        return false;
    };
    let after = &body[lt + 1..];
    !after.contains(&b'>')
        && after
            .first()
            .is_none_or(|b| b.is_ascii_alphabetic() || matches!(b, b'/' | b'!' | b'?'))
}

/// The old and new sides of a possible cut: the raw bodies and documents.
#[derive(Debug, Clone, Copy)]
pub struct Bodies<'a> {
    /// The previous snapshot's body as served and its document; `None` for
    /// the first fetch of a target (or a previous body that cannot be read).
    pub old: Option<(&'a [u8], &'a Document)>,
    /// This fetch's body as served.
    pub new_body: &'a [u8],
    /// True when this fetch's body was delimited by the connection closing.
    pub new_close_delimited: bool,
    /// True when this fetch's body ends inside a multi-byte character.
    pub new_cut_mid_character: bool,
    /// This fetch's document; `None` when it did not extract.
    pub new: Option<&'a Document>,
}

/// Why the new body looks cut, or `None`. Such a body is fetched again at
/// once, whatever `confirm_after` says, and stored only when the second
/// fetch gives the same content (then flagged).
pub fn looks_cut(b: &Bodies<'_>) -> Option<CutSign> {
    if b.new_cut_mid_character {
        return Some(CutSign::MidCharacter);
    }
    if ends_inside_tag(b.new_body) {
        return Some(CutSign::InsideTag);
    }
    let Some((old_body, old)) = b.old else {
        return (opens(b.new_body) && !closes(b.new_body)).then_some(CutSign::Unclosed);
    };
    if closes(old_body) && !closes(b.new_body) {
        return Some(CutSign::ClosingTagLost);
    }
    if b.new_close_delimited && b.new_body.len() < old_body.len() {
        return Some(CutSign::ShorterCloseDelimited);
    }
    let new = b.new?;
    // A lost tail leaves the stamp as it was: a new one says the page was
    // revised, and its lines need not be read.
    if stamp::changed(old.meta.stamp.as_ref(), new.meta.stamp.as_ref()) {
        return None;
    }
    let (o, n) = (lines(old), lines(new));
    let kept_head = match n.split_last() {
        None => true,
        // The last block kept may itself be cut mid-text.
        Some((last, head)) => {
            head.iter().zip(&o).all(|(x, y)| x == y)
                && o.get(head.len())
                    .is_some_and(|y| y.starts_with(last.as_str()))
        }
    };
    (n.len() * 2 < o.len() && kept_head).then_some(CutSign::TailLost)
}

/// `Some((lost, total))` when `new` lost more than half of `old`'s blocks
/// (and at least [`LARGE_REMOVAL_MIN_BLOCKS`]): blocks whose text is nowhere
/// in `new`.
pub fn large_removal(old: &Document, new: &Document) -> Option<(usize, usize)> {
    let mut have: HashMap<String, usize> = HashMap::new();
    for s in &new.sections {
        for b in &s.blocks {
            *have.entry(b.comparable()).or_default() += 1;
        }
    }
    let (mut lost, mut total) = (0, 0);
    for s in &old.sections {
        for b in &s.blocks {
            total += 1;
            match have.get_mut(&b.comparable()).filter(|n| **n > 0) {
                Some(n) => *n -= 1,
                None => lost += 1,
            }
        }
    }
    (lost >= LARGE_REMOVAL_MIN_BLOCKS && lost * 2 > total).then_some((lost, total))
}

/// The note a large removal carries in the redline; `confirmed` when a second
/// fetch gave the same content.
pub fn large_removal_note(lost: usize, total: usize, confirmed: bool) -> String {
    format!(
        "large removal: {lost} of {total} blocks are gone{}",
        if confirmed {
            " (the page was fetched twice with the same content)"
        } else {
            ""
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Block, BlockKind, ContentRoot, DocumentMeta, Section, SectionKey};

    #[allow(
        clippy::field_reassign_with_default,
        reason = "the root may carry more facts than these two; the rest keep their defaults"
    )]
    fn doc(root: &str, fallback: bool, sections: &[(&str, &[&str])]) -> Document {
        let mut content_root = ContentRoot::default();
        content_root.selector = root.into();
        content_root.fallback = fallback;
        Document {
            meta: DocumentMeta {
                root: content_root,
                ..DocumentMeta::default()
            },
            sections: sections
                .iter()
                .map(|(h, blocks)| Section {
                    key: if h.is_empty() {
                        SectionKey::lead()
                    } else {
                        SectionKey(vec![h.to_string()])
                    },
                    heading: (!h.is_empty()).then(|| h.to_string()),
                    level: if h.is_empty() { 0 } else { 2 },
                    blocks: blocks
                        .iter()
                        .map(|t| Block::new(BlockKind::Paragraph, *t))
                        .collect(),
                })
                .collect(),
        }
    }

    const P1: &str = "NATO and Belarus began relations in 1992, when Belarus joined the council.";
    const P2: &str = "Belarus joined the Partnership for Peace programme in 1995 as a partner.";
    const P3: &str = "Practical cooperation has been suspended since 2022 over the war in Ukraine.";

    #[test]
    fn same_text_sets_chrome_aside_and_nothing_else() {
        let old = doc(
            "section.content",
            false,
            &[("", &[P1]), ("Evolution", &[P2, P3])],
        );
        let cases: &[(&str, Document, bool)] = &[
            ("identical", old.clone(), true),
            (
                "new chrome lines (date line, reading time, language picker)",
                doc(
                    "main",
                    true,
                    &[
                        ("", &["3 March 2021", "5 MIN READ", P1]),
                        ("Evolution", &[P2, "English Français Русский", P3]),
                    ],
                ),
                true,
            ),
            (
                "a sentence added",
                doc(
                    "main",
                    true,
                    &[
                        ("", &[P1]),
                        (
                            "Evolution",
                            &[P2, P3, "A new sentence of content was added here."],
                        ),
                    ],
                ),
                false,
            ),
            (
                "a block edited",
                doc(
                    "main",
                    true,
                    &[("", &[P1]), ("Evolution", &[P2, "Cooperation resumed."])],
                ),
                false,
            ),
            (
                "a block removed",
                doc("main", true, &[("", &[P1]), ("Evolution", &[P2])]),
                false,
            ),
            (
                "nothing shared",
                doc("main", true, &[("", &["Log in"])]),
                false,
            ),
        ];
        for (what, new, want) in cases {
            assert_eq!(same_text(&old, new), *want, "{what}");
        }
    }

    #[test]
    fn a_new_stamp_under_a_new_template_is_a_stamp_only_revision() {
        let stamped = |root: &str, stamp: Option<&str>, blocks: &[&str]| {
            let mut d = doc(root, false, &[("", blocks), ("Partnership", &[P2])]);
            d.meta.stamp = stamp.map(|s| crate::stamp::parse(s).expect("a stamp"));
            d
        };
        let old = stamped("main", Some("Last updated: 28 Aug. 2024 11:27"), &[P1]);
        // (what, new document, layout changed quietly, stamp-only revision)
        let cases = [
            (
                "same text, same stamp",
                stamped("article", Some("Last updated: 28 Aug. 2024 11:27"), &[P1]),
                true,
                false,
            ),
            (
                "same text, new stamp",
                stamped("article", Some("Updated on April 19, 2024"), &[P1]),
                false,
                true,
            ),
            (
                "same text, stamp gone",
                stamped("article", None, &[P1]),
                false,
                true,
            ),
            (
                "text edited, new stamp",
                stamped("article", Some("Updated on April 19, 2024"), &[P3]),
                false,
                false,
            ),
            (
                "same template, new stamp",
                stamped("main", Some("Updated on April 19, 2024"), &[P1]),
                false,
                false,
            ),
        ];
        for (what, new, quiet, stamp_only) in cases {
            let rev = crate::diff::revision(&old, &new, &crate::diff::DiffOptions::default());
            assert_eq!(
                redesign_only(&old, &new, rev.as_ref()).is_some(),
                quiet,
                "{what}"
            );
            let restamped = restamped(&old, &new, rev.as_ref());
            assert_eq!(restamped.is_some(), stamp_only, "{what}");
            if let Some(r) = restamped {
                assert_eq!(r.kind, RevisionKind::StampOnly, "{what}");
                assert!(r.sections.is_empty(), "{what}");
                assert_eq!(r.unchanged, ["Lead", "Partnership"], "{what}");
                assert_eq!(r.new_stamp, new.meta.stamp, "{what}");
            }
        }
    }

    #[test]
    fn template_change_names_the_rule_to_update() {
        let old = doc("section.content", false, &[("", &[P1])]);
        let rules = Rules {
            name: "nato-topic".into(),
            content: vec![crate::target::Css::parse("section.content").expect("valid")],
            ..Rules::generic()
        };
        let cases: &[(Document, Option<&str>)] = &[
            (old.clone(), None),
            (
                doc("main", true, &[("", &[P1])]),
                Some(
                    "[rules.nato-topic] content = [\"section.content\"]: configured root \
                     `section.content` not found; found `main`",
                ),
            ),
        ];
        for (new, want) in cases {
            let got = template_change(&old, new).map(|c| c.warning(&rules));
            assert_eq!(got.as_deref(), *want);
        }
        let generic = template_change(
            &doc("main", false, &[("", &[P1])]),
            &doc("article", false, &[("", &[P1])]),
        )
        .map(|c| c.warning(&Rules::generic()));
        assert!(
            generic
                .as_deref()
                .is_some_and(|w| w.contains("from `main` to `article`")),
            "{generic:?}"
        );
    }

    #[test]
    fn unlike_refuses_a_short_other_page_but_not_a_rewrite() {
        let old = doc(
            "section.content",
            false,
            &[("", &[P1]), ("Evolution", &[P2, P3])],
        );
        let cases: &[(&str, Document, bool)] = &[
            (
                "login wall",
                doc("body", true, &[("", &["Please log in to continue"])]),
                true,
            ),
            (
                "same text",
                doc("main", true, &[("", &[P1]), ("Evolution", &[P2, P3])]),
                false,
            ),
            (
                "rewritten at full length",
                doc(
                    "main",
                    true,
                    &[(
                        "",
                        &[
                            "An entirely new text about relations between the Alliance and Belarus.",
                            "Another long paragraph replaces the history of the partnership here.",
                            "And a third paragraph closes the rewritten page with new words.",
                        ],
                    )],
                ),
                false,
            ),
        ];
        for (what, new, want) in cases {
            assert_eq!(unlike(&old, new), *want, "{what}");
        }
    }

    #[test]
    fn looks_cut_reads_each_sign() {
        let many: Vec<String> = (0..10)
            .map(|i| format!("Paragraph number {i} of the page."))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let old = doc("main", false, &[("", &many)]);
        let head = doc("main", false, &[("", &[many[0], many[1], "Paragraph num"])]);
        let edited = doc("main", false, &[("", &["Another text.", many[1]])]);
        let whole: &[u8] = b"<html><body><p>x</p></body></html>";
        let open: &[u8] = b"<html><body><p>x</p>";
        let fragment: &[u8] = b"<p>x</p>";
        let old_side = Some((whole, &old));
        // (what, old side, new body, close-delimited, cut mid-character, new document, sign)
        type Case<'a> = (
            &'a str,
            Option<(&'a [u8], &'a Document)>,
            &'a [u8],
            bool,
            bool,
            Option<&'a Document>,
            Option<CutSign>,
        );
        let cases: &[Case<'_>] = &[
            (
                "closing tag lost",
                old_side,
                open,
                false,
                false,
                Some(&old),
                Some(CutSign::ClosingTagLost),
            ),
            (
                "closing tag lost, no document",
                old_side,
                open,
                false,
                false,
                None,
                Some(CutSign::ClosingTagLost),
            ),
            (
                "whole body",
                old_side,
                whole,
                false,
                false,
                Some(&old),
                None,
            ),
            (
                "close-delimited, shorter",
                old_side,
                b"<html><body></body></html>",
                true,
                false,
                Some(&old),
                Some(CutSign::ShorterCloseDelimited),
            ),
            (
                "tail lost",
                old_side,
                whole,
                false,
                false,
                Some(&head),
                Some(CutSign::TailLost),
            ),
            (
                "short but edited, not a cut",
                old_side,
                whole,
                false,
                false,
                Some(&edited),
                None,
            ),
            (
                "cut inside a tag",
                old_side,
                b"<html><body><p>x</p><p cla",
                false,
                false,
                Some(&old),
                Some(CutSign::InsideTag),
            ),
            (
                "cut inside an end tag",
                None,
                b"<p>x</p></bo  ",
                false,
                false,
                Some(&old),
                Some(CutSign::InsideTag),
            ),
            (
                "cut inside a comment",
                None,
                b"<p>x</p><!-- foot",
                false,
                false,
                Some(&old),
                Some(CutSign::InsideTag),
            ),
            (
                "a lone < in text is no tag",
                None,
                b"<p>x</p> 1 < 2",
                false,
                false,
                Some(&old),
                None,
            ),
            (
                "cut mid-character",
                old_side,
                whole,
                false,
                true,
                Some(&old),
                Some(CutSign::MidCharacter),
            ),
            (
                "no previous, unclosed",
                None,
                open,
                false,
                false,
                Some(&old),
                Some(CutSign::Unclosed),
            ),
            (
                "no previous, whole",
                None,
                whole,
                false,
                false,
                Some(&old),
                None,
            ),
            (
                "no previous, a fragment",
                None,
                fragment,
                true,
                false,
                Some(&old),
                None,
            ),
            (
                "previous never closed either",
                Some((open, &old)),
                open,
                false,
                false,
                Some(&old),
                None,
            ),
        ];
        for (what, old, new_body, close, mid, new, want) in cases {
            let got = looks_cut(&Bodies {
                old: *old,
                new_body,
                new_close_delimited: *close,
                new_cut_mid_character: *mid,
                new: *new,
            });
            assert_eq!(got, *want, "{what}");
        }
    }

    #[test]
    fn large_removal_needs_more_than_half_the_blocks() {
        let many: Vec<String> = (0..10).map(|i| format!("Paragraph {i}.")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let old = doc("main", false, &[("", &many)]);
        type Case<'a> = (&'a [&'a str], Option<(usize, usize)>);
        let cases: &[Case<'_>] = &[
            (&many[..3], Some((7, 10))),
            (&many[..6], None),
            (&many, None),
        ];
        for (kept, want) in cases {
            assert_eq!(
                large_removal(&old, &doc("main", false, &[("", kept)])),
                *want
            );
        }
    }
}
