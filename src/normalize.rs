//! Text normalisation: what a reader sees ([`display`]) and what is compared
//! ([`comparable`]).
//!
//! Display text keeps the page's typography; comparable text folds differences a
//! reader would not call a change: Unicode spaces and NBSP, soft hyphens and
//! zero-width characters, curly versus straight quotes, dash variants, and
//! compatibility forms (NFKC).

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick, is_nfkc_quick};

/// Collapses every run of whitespace (including NBSP and other Unicode spaces)
/// to one ASCII space, trims, drops soft hyphens and zero-width characters, and
/// applies NFC. Quotes and dashes are kept as served.
pub fn display(s: &str) -> String {
    // ASCII text (most of an English page) is NFC already: no need to ask.
    // Nearly all text is already NFC: the quick check proves it in one pass
    // over the text, without the composing iterator, which costs more than
    // all the rest of this function.
    if !s.is_ascii() && is_nfc_quick(s.chars()) != IsNormalized::Yes {
        return collapse(s.nfc(), s.len());
    }
    // Text shown already (a block's text compared) is copied whole.
    if is_collapsed(s) {
        s.to_string()
    } else {
        collapse_in_runs(s)
    }
}

/// True when [`collapse_in_runs`] would return `s` unchanged: no space at
/// either end, no two spaces together, no white space but the ASCII space,
/// no invisible character.
fn is_collapsed(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') {
        return false;
    }
    let mut after_space = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b' ' if after_space => return false,
            b' ' => {
                after_space = true;
                continue;
            }
            b'\t' | b'\n' | 0x0B | 0x0C | b'\r' => return false,
            b if SPECIAL_LEADS.contains(&b) => {
                let c = char_at(s, i);
                if c.is_whitespace() || is_unicode_space(c) || is_invisible(c) {
                    return false;
                }
            }
            _ => {}
        }
        after_space = false;
    }
    true
}

/// [`collapse`] for text that is NFC already: the characters between two
/// spaces or invisibles are copied as one slice, not one by one, and only
/// the bytes that can start a space or an invisible character are decoded
/// (ASCII white space, and the UTF-8 lead bytes of the others, [`SPECIAL_LEADS`]).
fn collapse_in_runs(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let mut run_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let (space, len) = match bytes[i] {
            b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ' => (true, 1),
            b if SPECIAL_LEADS.contains(&b) => {
                let c = char_at(s, i);
                let len = c.len_utf8();
                if c.is_whitespace() || is_unicode_space(c) {
                    (true, len)
                } else if is_invisible(c) {
                    (false, len)
                } else {
                    i += len;
                    continue;
                }
            }
            _ => {
                i += 1;
                continue;
            }
        };
        if run_start < i {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push_str(&s[run_start..i]);
        }
        if space {
            pending_space = !out.is_empty();
        }
        i += len;
        run_start = i;
    }
    if run_start < s.len() {
        if pending_space {
            out.push(' ');
        }
        out.push_str(&s[run_start..]);
    }
    out
}

/// The UTF-8 lead bytes of every non-ASCII character [`collapse`] and
/// [`fold`] treat specially: U+0080–U+00BF (`0xC2`: NEL, NBSP, soft hyphen,
/// acute accent, guillemets), U+1680 (`0xE1`), U+2000–U+2FFF (`0xE2`:
/// spaces, zero-width characters, dashes, quotes, primes, the ellipsis,
/// the minus sign), U+3000 (`0xE3`) and U+F000–U+FFFF (`0xEF`: the BOM and
/// the small and full-width hyphen-minus).
const SPECIAL_LEADS: [u8; 5] = [0xC2, 0xE1, 0xE2, 0xE3, 0xEF];

/// The character starting at byte `i` of `s` (a character boundary).
fn char_at(s: &str, i: usize) -> char {
    s[i..]
        .chars()
        .next()
        .expect("a character starts at every lead byte")
}

/// [`display`]'s work after NFC: whitespace runs to one space, trimmed,
/// invisible characters dropped.
fn collapse(chars: impl Iterator<Item = char>, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut pending_space = false;
    for c in chars {
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() || is_unicode_space(c) {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// [`display`], then NFKC, with quotes folded to `'`/`"`, dashes to `-`, and the
/// ellipsis to `...`. Two texts with equal comparable forms are the same content.
pub fn comparable(s: &str) -> String {
    let d = display(s);
    // As in `display`: NFKC only when the quick check cannot prove the text
    // is NFKC already (ASCII text always is).
    if d.is_ascii() || is_nfkc_quick(d.chars()) == IsNormalized::Yes {
        fold_in_runs(d)
    } else {
        fold(d.nfkc(), d.len())
    }
}

/// [`fold`] for a text that is NFKC already: returned as it is when nothing
/// in it folds, else copied in runs between the characters that do.
fn fold_in_runs(d: String) -> String {
    let bytes = d.as_bytes();
    let needs = |b: u8| b == b'`' || (b.is_ascii_whitespace() && b != b' ') || b == 0x0B;
    let Some(first) = bytes
        .iter()
        .position(|&b| needs(b) || SPECIAL_LEADS.contains(&b))
    else {
        return d;
    };
    let mut out = String::with_capacity(d.len());
    out.push_str(&d[..first]);
    let mut run_start = first;
    let mut i = first;
    while i < bytes.len() {
        let b = bytes[i];
        if !(needs(b) || SPECIAL_LEADS.contains(&b)) {
            i += 1;
            continue;
        }
        let c = char_at(&d, i);
        let len = c.len_utf8();
        if let Some(f) = folded(c) {
            out.push_str(&d[run_start..i]);
            out.push_str(f);
            run_start = i + len;
        }
        i += len;
    }
    out.push_str(&d[run_start..]);
    out
}

/// [`comparable`]'s folding of quotes, dashes, the ellipsis and spaces.
fn fold(chars: impl Iterator<Item = char>, len: usize) -> String {
    let mut out = String::with_capacity(len);
    for c in chars {
        match folded(c) {
            Some(f) => out.push_str(f),
            None => out.push(c),
        }
    }
    out
}

/// What [`fold`] writes for `c`, or `None` when it writes `c` itself.
fn folded(c: char) -> Option<&'static str> {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{00B4}' | '`' => {
            Some("'")
        }
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => Some("\""),
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
        | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => Some("-"),
        '\u{2026}' => Some("..."),
        ' ' => None,
        c if c.is_whitespace() || is_unicode_space(c) => Some(" "),
        _ => None,
    }
}

/// True when `old` and `new` differ only in typography: their display texts
/// differ, their [`comparable`] forms do not, and neither is blank (a changed
/// line break, as between split or merged paragraphs, is a change). Renderers
/// show such a span pair as plain new text, and it counts as no word.
pub fn typography_only(old: &str, new: &str) -> bool {
    old != new
        && !old.trim().is_empty()
        && !new.trim().is_empty()
        && comparable(old) == comparable(new)
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

fn is_unicode_space(c: char) -> bool {
    matches!(
        c,
        '\u{00A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_collapses_spaces_and_keeps_typography() {
        let cases = [
            ("  a \u{00A0}\u{00A0} b\n\tc  ", "a b c"),
            ("Belarus\u{2019} role", "Belarus\u{2019} role"),
            ("co\u{00AD}operation", "cooperation"),
            ("\u{00A0}", ""),
            ("e\u{0301}", "\u{00E9}"),
        ];
        for (input, want) in cases {
            assert_eq!(display(input), want, "input {input:?}");
        }
    }

    proptest::proptest! {
        /// The ASCII path gives what the general path gives, on every ASCII
        /// text (control characters and every whitespace byte included).
        #[test]
        fn ascii_text_is_collapsed_as_the_general_path_does(
            s in "[\\x00-\\x7F]{0,40}"
        ) {
            proptest::prop_assert_eq!(display(&s), collapse(s.chars(), s.len()));
        }

        /// Copying runs gives what pushing each character gives, on text
        /// with every kind of space and invisible character.
        #[test]
        fn collapsed_text_is_what_collapsing_leaves_alone(
            s in "[a \\t\\n\\u{85}\\u{A0}\\u{AD}\\u{B4}\\u{1680}\\u{200B}\\u{2003}\\u{2019}\\u{3000}\\u{FEFF}\\u{E9}]{0,12}"
        ) {
            proptest::prop_assert_eq!(is_collapsed(&s), collapse_in_runs(&s) == s);
        }

        #[test]
        fn runs_are_collapsed_as_characters_are(
            s in "[a \\t\\n\\x0B\\x0C\\r\\u{85}\\u{A0}\\u{AD}\\u{B4}\\u{1680}\\u{200B}\\u{2003}\\u{2028}\\u{2060}\\u{3000}\\u{FEFF}\\u{2019}\\u{E9}\\u{1F600}\\u{FF0D}]{0,40}"
        ) {
            proptest::prop_assert_eq!(collapse_in_runs(&s), collapse(s.chars(), s.len()));
        }

        /// Folding in runs gives what folding each character gives, on
        /// text with every folded character and neighbours of their bytes.
        #[test]
        fn runs_are_folded_as_characters_are(
            s in "[a `'\\t\\u{85}\\u{A0}\\u{AB}\\u{B4}\\u{BB}\\u{BF}\\u{1680}\\u{2010}-\\u{2033}\\u{2026}\\u{205F}\\u{2212}\\u{3000}\\u{3001}\\u{FE58}\\u{FE63}\\u{FF0D}\\u{FF0E}\\u{E9}\\u{1F600}]{0,40}"
        ) {
            proptest::prop_assert_eq!(fold_in_runs(s.clone()), fold(s.chars(), s.len()));
        }

        /// Comparable forms are the composing path's on any text.
        #[test]
        fn comparable_is_the_composing_path(
            s in "[a `\\t\\u{A0}\\u{AD}\\u{2019}\\u{201C}\\u{2014}\\u{2026}\\u{FB01}\\u{212B}e\\u{0301}\\u{FF21}]{0,30}"
        ) {
            proptest::prop_assert_eq!(comparable(&s), fold(collapse(s.nfc(), 0).nfkc(), 0));
        }
    }

    #[test]
    fn quick_checked_text_is_normalised_as_the_full_normalisation_does() {
        // (text) for texts the quick check proves normal, cannot prove, or
        // rejects: the output must be the composing iterator's.
        let cases = [
            "plain ASCII text",
            "Belarus\u{2019} \u{201C}role\u{201D}",
            "e\u{0301}t\u{00E9}",
            "\u{00C5}ngstr\u{00F6}m \u{212B}",
            "\u{FB01}ne \u{2460} \u{FF21}",
            "\u{1100}\u{1161}\u{11A8} \u{AC00}",
            "a\u{0323}\u{0307} \u{1E0B}\u{0323}",
            "co\u{00AD}op \u{00A0} x\u{200B}y",
        ];
        for text in cases {
            assert_eq!(display(text), collapse(text.nfc(), 0), "{text:?}");
            let d = display(text);
            assert_eq!(comparable(text), fold(d.nfkc(), 0), "{text:?}");
        }
    }

    #[test]
    fn comparable_folds_typography() {
        assert_eq!(
            comparable("Belarus\u{2019} \u{201C}role\u{201D}"),
            "Belarus' \"role\""
        );
        assert_eq!(comparable("1992\u{2013}1997 \u{2014} x"), "1992-1997 - x");
        assert_eq!(comparable("wait\u{2026}"), "wait...");
        assert_eq!(comparable("a\u{202F}b"), "a b");
        assert_eq!(
            comparable("Belarus' role"),
            comparable("Belarus\u{2019}\u{00A0}role")
        );
    }
}
