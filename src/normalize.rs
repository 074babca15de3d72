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
    if s.is_ascii() {
        return collapse_in_runs(s);
    }
    // Nearly all text is already NFC (every ASCII text is): the quick check
    // proves it in one pass over the text, without the composing iterator,
    // which costs more than all the rest of this function.
    if is_nfc_quick(s.chars()) == IsNormalized::Yes {
        collapse_in_runs(s)
    } else {
        collapse(s.nfc(), s.len())
    }
}

/// [`collapse`] for text that is NFC already: the characters between two
/// spaces or invisibles are copied as one slice, not one by one.
fn collapse_in_runs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        let space = c.is_whitespace() || is_unicode_space(c);
        if !space && !is_invisible(c) {
            continue;
        }
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
        run_start = i + c.len_utf8();
    }
    if run_start < s.len() {
        if pending_space {
            out.push(' ');
        }
        out.push_str(&s[run_start..]);
    }
    out
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
    // is NFKC already.
    if is_nfkc_quick(d.chars()) == IsNormalized::Yes {
        fold(d.chars(), d.len())
    } else {
        fold(d.nfkc(), d.len())
    }
}

/// [`comparable`]'s folding of quotes, dashes, the ellipsis and spaces.
fn fold(chars: impl Iterator<Item = char>, len: usize) -> String {
    let mut out = String::with_capacity(len);
    for c in chars {
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{00B4}' | '`' => {
                out.push('\'')
            }
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
            | '\u{00BB}' => out.push('"'),
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
            | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => out.push('-'),
            '\u{2026}' => out.push_str("..."),
            c if c.is_whitespace() || is_unicode_space(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
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
        fn runs_are_collapsed_as_characters_are(
            s in "[a \\t\\n\\u{A0}\\u{AD}\\u{200B}\\u{2003}\\u{3000}\\u{FEFF}\\u{2019}\\u{E9}\\u{1F600}]{0,40}"
        ) {
            proptest::prop_assert_eq!(collapse_in_runs(&s), collapse(s.chars(), s.len()));
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
