//! Choosing the character encoding of an HTML body and decoding it to UTF-8.
//!
//! The order follows the HTML standard's encoding sniffing algorithm
//! (<https://html.spec.whatwg.org/multipage/parsing.html#encoding-sniffing-algorithm>),
//! simplified: a byte order mark, then the `charset` parameter of the
//! `Content-Type` header, then a `<meta charset>` or
//! `<meta http-equiv="Content-Type" content="...; charset=...">` in the first
//! [`PRESCAN_BYTES`] bytes, then a statistical guess (chardetng).

use std::sync::LazyLock;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use regex::bytes::Regex;

/// How many leading bytes of the body are searched for a `<meta>` charset
/// declaration (the standard says 1024; real pages put it later, so a little more).
pub const PRESCAN_BYTES: usize = 4096;

/// Where the chosen encoding came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    /// A UTF-8 or UTF-16 byte order mark.
    Bom,
    /// The `charset` parameter of the `Content-Type` header.
    Header,
    /// A `<meta>` declaration near the start of the body.
    Meta,
    /// chardetng's guess from the bytes.
    Guess,
}

/// A body decoded to UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text, BOM removed; malformed sequences became U+FFFD.
    pub text: String,
    /// The encoding_rs name of the encoding used (e.g. `UTF-8`, `windows-1251`).
    pub charset: &'static str,
    /// Where the encoding came from.
    pub source: CharsetSource,
}

/// Decodes an HTML body. `content_type` is the `Content-Type` header (if any);
/// `tld` is the last label of the page's host (e.g. `b"by"`), a hint for the guess.
pub fn decode(body: &[u8], content_type: Option<&str>, tld: Option<&[u8]>) -> Decoded {
    let (encoding, source) = choose(body, content_type, tld);
    let (text, _had_errors) = encoding.decode_with_bom_removal(body);
    Decoded {
        text: text.into_owned(),
        charset: encoding.name(),
        source,
    }
}

/// Chooses the encoding without decoding; see the module docs for the order.
pub fn choose(
    body: &[u8],
    content_type: Option<&str>,
    tld: Option<&[u8]>,
) -> (&'static Encoding, CharsetSource) {
    if let Some((enc, _bom_len)) = Encoding::for_bom(body) {
        return (enc, CharsetSource::Bom);
    }
    if let Some(enc) = content_type.and_then(header_charset).and_then(label) {
        return (enc, CharsetSource::Header);
    }
    if let Some(enc) = meta_charset(&body[..body.len().min(PRESCAN_BYTES)]) {
        return (enc, CharsetSource::Meta);
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(body, true);
    (detector.guess(tld, true), CharsetSource::Guess)
}

/// The `charset` parameter of a `Content-Type` value, unquoted, if present.
pub fn header_charset(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(|c| c == '"' || c == '\''))
            .filter(|v| !v.is_empty())
    })
}

/// The encoding declared by a `<meta>` element in `head`, if any.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    static META: LazyLock<Option<Regex>> = LazyLock::new(|| {
        // Both `<meta charset="x">` and `<meta http-equiv=... content="text/html; charset=x">`
        // carry `charset=` inside the tag.
        Regex::new(r#"(?i-u)<meta\s[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.\-]+)"#).ok()
    });
    let re = META.as_ref()?;
    let caps = re.captures(head)?;
    let name = std::str::from_utf8(caps.get(1)?.as_bytes()).ok()?;
    let enc = label(name)?;
    // A document can't declare UTF-16 in ASCII-compatible bytes; the standard says
    // to read it as UTF-8 (and x-user-defined as windows-1252).
    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
        return Some(UTF_8);
    }
    if enc == encoding_rs::X_USER_DEFINED {
        return Some(WINDOWS_1252);
    }
    Some(enc)
}

fn label(name: &str) -> Option<&'static Encoding> {
    Encoding::for_label(name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp1251(s: &str) -> Vec<u8> {
        encoding_rs::WINDOWS_1251.encode(s).0.into_owned()
    }

    #[test]
    fn header_charset_reads_the_parameter() {
        let cases = [
            ("text/html; charset=UTF-8", Some("UTF-8")),
            ("text/html;charset=\"windows-1251\"", Some("windows-1251")),
            ("text/html; Charset = koi8-r ; foo=bar", Some("koi8-r")),
            ("text/html", None),
            ("text/html; charset=", None),
        ];
        for (ct, want) in cases {
            assert_eq!(header_charset(ct), want, "{ct}");
        }
    }

    #[test]
    fn chooses_in_order_bom_header_meta_guess() {
        let russian = "<html><head><title>Отношения с Беларусью</title></head><body><p>\
            НАТО и Беларусь развивали диалог и сотрудничество с начала 1990-х годов, \
            однако отношения были приостановлены.</p></body></html>";
        let mut bom_utf8 = b"\xEF\xBB\xBF".to_vec();
        bom_utf8.extend_from_slice(b"<p>x</p>");
        let meta_1251 = [
            b"<html><head><meta charset=\"windows-1251\">".to_vec(),
            cp1251(russian),
        ]
        .concat();
        let http_equiv = [
            b"<html><head><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=windows-1251\">"
                .to_vec(),
            cp1251(russian),
        ]
        .concat();
        let meta_utf16 = b"<meta charset=utf-16><p>x</p>".to_vec();
        let cases: [(&[u8], Option<&str>, &str, CharsetSource); 7] = [
            (
                &bom_utf8,
                Some("text/html; charset=windows-1251"),
                "UTF-8",
                CharsetSource::Bom,
            ),
            (
                &cp1251(russian),
                Some("text/html; charset=windows-1251"),
                "windows-1251",
                CharsetSource::Header,
            ),
            (
                &meta_1251,
                Some("text/html"),
                "windows-1251",
                CharsetSource::Meta,
            ),
            (&http_equiv, None, "windows-1251", CharsetSource::Meta),
            (&meta_utf16, None, "UTF-8", CharsetSource::Meta),
            (
                &cp1251(russian),
                Some("text/html"),
                "windows-1251",
                CharsetSource::Guess,
            ),
            (
                b"<p>plain ascii</p>",
                Some("text/html; charset=bogus"),
                "UTF-8",
                CharsetSource::Guess,
            ),
        ];
        for (body, ct, want, source) in cases {
            let (enc, got_source) = choose(body, ct, Some(b"by"));
            assert_eq!((enc.name(), got_source), (want, source), "{ct:?}");
        }
    }

    #[test]
    fn decodes_windows_1251_to_utf8_and_strips_bom() {
        let d = decode(
            &cp1251("<p>Беларусь</p>"),
            Some("text/html; charset=windows-1251"),
            None,
        );
        assert_eq!(d.text, "<p>Беларусь</p>");
        assert_eq!(d.charset, "windows-1251");

        let d = decode(b"\xEF\xBB\xBF<p>x</p>", None, None);
        assert_eq!(d.text, "<p>x</p>");
        assert_eq!(d.charset, "UTF-8");
    }
}
