//! Choosing the character encoding of an HTML body and decoding it to UTF-8,
//! counting the bytes that cannot be decoded.
//!
//! The order follows the HTML standard's encoding sniffing algorithm
//! (<https://html.spec.whatwg.org/multipage/parsing.html#encoding-sniffing-algorithm>),
//! checked against the bytes:
//!
//! 1. a charset the target forces (`charset = "..."` in the config);
//! 2. a byte order mark (it wins over any declaration, as in browsers);
//! 3. a body that is UTF-16 without a BOM (ASCII markup with every other byte
//!    NUL) is read as such, whatever it declares;
//! 4. a body that is valid UTF-8 with multi-byte sequences is UTF-8, whatever
//!    it declares: a legacy single-byte charset would decode it without an
//!    error, as mojibake;
//! 5. the `charset` parameter of the `Content-Type` header, then a
//!    `<meta charset>` or `<meta http-equiv="Content-Type" content="...; charset=...">`
//!    in the first [`PRESCAN_BYTES`] bytes;
//! 6. when the declaration yields malformed sequences (or there is none),
//!    chardetng's guess, taken only when it decodes cleanly into text (mostly
//!    letters, at least [`GUESS_MIN_CHARS`] non-ASCII characters) and the body
//!    does not read as UTF-8 with a few bad bytes (then it is broken UTF-8, and
//!    a legacy reading of it would be mojibake).
//!
//! When no candidate is clean, [`Decoded::malformed`] counts the bytes the
//! chosen one cannot decode; the caller refuses such a page (see
//! [`crate::fetch::FetchError::Undecodable`]). A multi-byte character cut by
//! the end of the body is not a decoding error but a sign of a cut body
//! ([`Decoded::cut_mid_character`]).

use std::sync::LazyLock;

use encoding_rs::{DecoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use regex::bytes::Regex;

/// How many leading bytes of the body are searched for a `<meta>` charset
/// declaration (the standard says 1024; real pages put it later, so a little more).
pub const PRESCAN_BYTES: usize = 4096;

/// The fewest non-ASCII characters a detector's guess must decode for it to be
/// believed over a declaration that fails: a handful of stray bytes decode
/// "cleanly" in any single-byte charset, as mojibake.
pub const GUESS_MIN_CHARS: usize = 8;

/// The least share of letters (and typographic punctuation) among the
/// non-ASCII characters of a believed guess: text in its charset is mostly
/// letters, random or misread bytes are not.
pub const GUESS_MIN_LETTER_SHARE: f64 = 0.8;

/// Where the chosen encoding came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::Display,
)]
#[strum(serialize_all = "kebab-case")]
pub enum CharsetSource {
    /// The target's `charset` setting.
    Override,
    /// A UTF-8 or UTF-16 byte order mark.
    Bom,
    /// The `charset` parameter of the `Content-Type` header.
    Header,
    /// A `<meta>` declaration near the start of the body.
    Meta,
    /// The body is valid UTF-8 with multi-byte sequences, whatever it declared.
    Utf8Validity,
    /// The body is UTF-16 without a byte order mark (every other byte NUL).
    Utf16Pattern,
    /// chardetng's guess from the bytes (or plain ASCII, read as UTF-8).
    Detected,
}

impl CharsetSource {
    /// The name stored with a snapshot: `override`, `bom`, `header`, `meta`,
    /// `utf8-validity`, `utf16-pattern` or `detected`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// How the charset was chosen, in words for a message:
    /// `declared by the Content-Type header`, `guessed from the bytes`, ...
    pub fn describe(self) -> &'static str {
        match self {
            CharsetSource::Override => "forced by the target's `charset` setting",
            CharsetSource::Bom => "named by its byte order mark",
            CharsetSource::Header => "declared by the Content-Type header",
            CharsetSource::Meta => "declared by a <meta> tag",
            CharsetSource::Utf8Validity => "read as UTF-8 from its bytes",
            CharsetSource::Utf16Pattern => "read as UTF-16 from its bytes",
            CharsetSource::Detected => "guessed from the bytes",
        }
    }
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
    /// Bytes of the body the encoding cannot decode (each run became one
    /// U+FFFD); 0 for a clean decoding. A character cut by the end of the
    /// body is not counted here.
    pub malformed: usize,
    /// True when the body ends inside a multi-byte character: it was cut.
    pub cut_mid_character: bool,
}

impl Decoded {
    /// True when every byte decoded (a character cut by the end aside).
    pub fn is_clean(&self) -> bool {
        self.malformed == 0
    }
}

/// Decodes an HTML body. `content_type` is the `Content-Type` header (if any);
/// `tld` is the last label of the page's host (e.g. `b"by"`), a hint for the
/// guess. See the module docs for the order.
pub fn decode(body: &[u8], content_type: Option<&str>, tld: Option<&[u8]>) -> Decoded {
    decode_with(body, content_type, tld, None)
}

/// [`decode`], with `forced`: an encoding the target sets, used whatever the
/// body declares (a byte order mark of that encoding is removed).
pub fn decode_with(
    body: &[u8],
    content_type: Option<&str>,
    tld: Option<&[u8]>,
    forced: Option<&'static Encoding>,
) -> Decoded {
    // chardetng panics on a TLD that is not a lowercase ASCII label.
    let tld = tld.filter(|t| {
        !t.is_empty()
            && t.iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
    });
    let bom = Encoding::for_bom(body);
    if let Some(enc) = forced {
        let start = match bom {
            Some((b, len)) if b == enc => len,
            _ => 0,
        };
        return run(enc, &body[start..], CharsetSource::Override);
    }
    if let Some((enc, len)) = bom {
        return run(enc, &body[len..], CharsetSource::Bom);
    }
    let declared = declared(body, content_type);
    if let Some(enc) = utf16_pattern(body) {
        let source = match declared {
            Some((d, s)) if d == enc => s,
            _ => CharsetSource::Utf16Pattern,
        };
        return run(enc, body, source);
    }
    let stats = Utf8Stats::of(body);
    if stats.invalid_runs == 0 && stats.multibyte > 0 {
        let source = match declared {
            Some((d, s)) if d == UTF_8 => s,
            _ => CharsetSource::Utf8Validity,
        };
        return run(UTF_8, body, source);
    }
    // A UTF-16 label on a body without the UTF-16 byte pattern is a lie
    // (HTML in ASCII bytes cannot be UTF-16): read on as undeclared.
    let declared = declared.filter(|(d, _)| *d != UTF_16LE && *d != UTF_16BE);
    let Some((enc, source)) = declared else {
        if stats.invalid_runs == 0 {
            // Plain ASCII (or a character cut at the end of UTF-8).
            return run(UTF_8, body, CharsetSource::Detected);
        }
        if stats.mostly_utf8() {
            return run(UTF_8, body, CharsetSource::Detected);
        }
        return believable_guess(body, tld)
            .unwrap_or_else(|| run(UTF_8, body, CharsetSource::Detected));
    };
    if enc != UTF_8 && stats.mostly_utf8() {
        // UTF-8 with a few bad bytes, labelled legacy: broken UTF-8.
        return run(UTF_8, body, CharsetSource::Utf8Validity);
    }
    let first = run(enc, body, source);
    if first.is_clean() || (enc == UTF_8 && stats.mostly_utf8()) {
        return first;
    }
    believable_guess(body, tld).unwrap_or(first)
}

/// Decodes `body` (BOM already removed) with `enc`, counting malformed bytes
/// and telling a character cut by the end apart.
fn run(enc: &'static Encoding, body: &[u8], source: CharsetSource) -> Decoded {
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(
        decoder
            .max_utf8_buffer_length_without_replacement(body.len())
            .unwrap_or(body.len()),
    );
    let mut malformed = 0usize;
    let mut src = body;
    let mut cut_mid_character = false;
    for last in [false, true] {
        loop {
            let (result, read) = decoder.decode_to_string_without_replacement(src, &mut text, last);
            src = &src[read..];
            match result {
                DecoderResult::InputEmpty => break,
                DecoderResult::OutputFull => {
                    text.reserve(
                        decoder
                            .max_utf8_buffer_length_without_replacement(src.len())
                            .unwrap_or(src.len())
                            .max(16),
                    );
                }
                DecoderResult::Malformed(bad, _) => {
                    text.push('\u{FFFD}');
                    if last {
                        // Only bytes held back for want of input are left
                        // at the flush: the body ends inside a character.
                        cut_mid_character = true;
                    } else {
                        malformed += usize::from(bad);
                    }
                }
            }
        }
    }
    Decoded {
        text,
        charset: enc.name(),
        source,
        malformed,
        cut_mid_character,
    }
}

/// How much of a body reads as UTF-8.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Utf8Stats {
    /// Valid multi-byte sequences (characters beyond ASCII), counted when
    /// some bytes are not UTF-8; in a body that is all UTF-8, 1 when it has
    /// any (nothing reads more, and counting costs a pass over the body).
    multibyte: usize,
    /// Runs of bytes that are not UTF-8 (a character cut by the end aside).
    invalid_runs: usize,
}

impl Utf8Stats {
    fn of(body: &[u8]) -> Utf8Stats {
        let mut stats = Utf8Stats::default();
        if body.is_ascii() {
            return stats;
        }
        let mut rest = body;
        loop {
            let (valid, next) = match std::str::from_utf8(rest) {
                Ok(_) => (rest, None),
                Err(e) => (
                    &rest[..e.valid_up_to()],
                    e.error_len().map(|n| e.valid_up_to() + n),
                ),
            };
            stats.multibyte += if next.is_none() && stats.invalid_runs == 0 {
                usize::from(!valid.is_ascii())
            } else {
                valid.iter().filter(|b| **b >= 0xC0).count()
            };
            match next {
                Some(skip) => {
                    stats.invalid_runs += 1;
                    rest = &rest[skip..];
                }
                None => return stats,
            }
        }
    }

    /// True for UTF-8 with a few bad bytes: at least as many good multi-byte
    /// characters as bad runs. Legacy text read as UTF-8 is the other way
    /// round (its non-ASCII bytes rarely pair up into valid sequences).
    fn mostly_utf8(self) -> bool {
        self.multibyte > 0 && self.multibyte >= self.invalid_runs
    }
}

/// The charset the header (first) or a `<meta>` (then) declares, if any.
fn declared(body: &[u8], content_type: Option<&str>) -> Option<(&'static Encoding, CharsetSource)> {
    if let Some(enc) = content_type.and_then(header_charset).and_then(label) {
        return Some((enc, CharsetSource::Header));
    }
    meta_charset(&body[..body.len().min(PRESCAN_BYTES)]).map(|e| (e, CharsetSource::Meta))
}

/// UTF-16LE or BE when the body (without a BOM) has the byte pattern of
/// ASCII markup in UTF-16: NUL in most odd (LE) or even (BE) positions and
/// almost never in the others.
fn utf16_pattern(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(PRESCAN_BYTES) & !1];
    let pairs = head.len() / 2;
    // No NUL byte at all (nearly every page): not UTF-16, without counting.
    if pairs < 4 || !head.contains(&0) {
        return None;
    }
    let (mut even, mut odd) = (0usize, 0usize);
    for pair in head.chunks_exact(2) {
        even += usize::from(pair[0] == 0);
        odd += usize::from(pair[1] == 0);
    }
    // HTML in an 8-bit charset has no NUL bytes; in UTF-16 its markup is
    // ASCII, whose units have a NUL high byte: at least a tenth of the units,
    // nearly all on one side.
    if (even + odd) * 10 < pairs {
        None
    } else if even * 20 <= odd {
        Some(UTF_16LE)
    } else if odd * 20 <= even {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// chardetng's guess (UTF-8 excluded: the caller has read the bytes as
/// UTF-8 already), when it decodes the body cleanly into text.
fn believable_guess(body: &[u8], tld: Option<&[u8]>) -> Option<Decoded> {
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(body, true);
    let enc = detector.guess(tld, false);
    if enc == UTF_8 {
        return None;
    }
    let decoded = run(enc, body, CharsetSource::Detected);
    (decoded.is_clean() && reads_as_text(&decoded.text)).then_some(decoded)
}

/// True when the non-ASCII characters of `text` are at least
/// [`GUESS_MIN_CHARS`] and mostly letters or typographic punctuation.
fn reads_as_text(text: &str) -> bool {
    let (mut total, mut texty) = (0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_ascii()) {
        total += 1;
        let punctuation = matches!(c,
            '\u{A0}' | '«' | '»' | '°' | '§' | '©' | '®' | '€' | '№' | '·'
            | '\u{2010}'..='\u{205E}' // general punctuation: dashes, quotes, ellipsis
            | '\u{3000}'..='\u{303F}' // CJK punctuation
            | '\u{FF01}'..='\u{FF65}'); // full-width forms
        texty += usize::from(c.is_alphabetic() || punctuation);
    }
    total >= GUESS_MIN_CHARS && texty as f64 >= total as f64 * GUESS_MIN_LETTER_SHARE
}

/// The number of bytes `enc` cannot decode in `body` (a byte order mark of
/// `enc` skipped, a character cut by the end not counted): 0 when clean.
pub fn malformed_bytes(enc: &'static Encoding, body: &[u8]) -> usize {
    let start = match Encoding::for_bom(body) {
        Some((b, len)) if b == enc => len,
        _ => 0,
    };
    run(enc, &body[start..], CharsetSource::Override).malformed
}

/// The encoding a config's `charset = "..."` names (a WHATWG label, e.g.
/// `windows-1251`, `utf-8`, `shift_jis`), if it names one.
pub fn encoding_for_label(name: &str) -> Option<&'static Encoding> {
    label(name.trim())
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
    static META: LazyLock<Regex> = LazyLock::new(|| {
        // Both `<meta charset="x">` and `<meta http-equiv=... content="text/html; charset=x">`
        // carry `charset=` inside the tag.
        Regex::new(r#"(?i-u)<meta\s[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.\-]+)"#)
            .expect("constant meta charset regex compiles")
    });
    let caps = META.captures(head)?;
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

    fn enc(e: &'static Encoding, s: &str) -> Vec<u8> {
        e.encode(s).0.into_owned()
    }

    const RUSSIAN: &str = "<html><head><title>Отношения с Беларусью</title></head><body><p>\
        НАТО и Беларусь развивали диалог и сотрудничество с начала 1990-х годов, \
        однако отношения были приостановлены.</p></body></html>";
    const GERMAN: &str = "<html><body><p>Die Beziehungen der NATO zu Weißrussland wurden \
        ausgesetzt; für die Zusammenarbeit gibt es derzeit keine Grundlage, schöne Grüße, \
        Änderungen vorbehalten. Größere Übungen fanden während späterer Jahre statt.</p></body></html>";
    const JAPANESE: &str = "<html><body><p>北大西洋条約機構とベラルーシの関係は、\
        一九九〇年代の初めから対話と協力を発展させてきました。</p></body></html>";

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
    fn chooses_a_clean_decoding_and_says_how() {
        use encoding_rs::{EUC_KR, GB18030, ISO_8859_2, SHIFT_JIS, WINDOWS_1251};
        let with_bom = |bom: &[u8], body: Vec<u8>| [bom.to_vec(), body].concat();
        let meta_1251 = [
            b"<html><head><meta charset=\"windows-1251\">".to_vec(),
            enc(WINDOWS_1251, RUSSIAN),
        ]
        .concat();
        let http_equiv = [
            b"<html><head><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=windows-1251\">"
                .to_vec(),
            enc(WINDOWS_1251, RUSSIAN),
        ]
        .concat();
        let le: Vec<u8> = RUSSIAN.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = RUSSIAN.encode_utf16().flat_map(u16::to_be_bytes).collect();
        // (what, body, content type, charset, source)
        type Case<'a> = (&'a str, Vec<u8>, Option<&'a str>, &'a str, CharsetSource);
        let cases: Vec<Case<'_>> = vec![
            (
                "utf-8 BOM wins over the header",
                with_bom(b"\xEF\xBB\xBF", RUSSIAN.into()),
                Some("text/html; charset=windows-1251"),
                "UTF-8",
                CharsetSource::Bom,
            ),
            (
                "utf-16le BOM wins over a utf-8 header",
                with_bom(b"\xFF\xFE", le.clone()),
                Some("text/html; charset=utf-8"),
                "UTF-16LE",
                CharsetSource::Bom,
            ),
            (
                "utf-16le without a BOM, labelled utf-8",
                le.clone(),
                Some("text/html; charset=utf-8"),
                "UTF-16LE",
                CharsetSource::Utf16Pattern,
            ),
            (
                "utf-16be without a BOM, labelled utf-16be",
                be,
                Some("text/html; charset=utf-16be"),
                "UTF-16BE",
                CharsetSource::Header,
            ),
            (
                "ascii labelled utf-16 is not utf-16",
                b"<p>plain ascii</p>".to_vec(),
                Some("text/html; charset=utf-16"),
                "UTF-8",
                CharsetSource::Detected,
            ),
            (
                "windows-1251 declared by the header",
                enc(WINDOWS_1251, RUSSIAN),
                Some("text/html; charset=windows-1251"),
                "windows-1251",
                CharsetSource::Header,
            ),
            (
                "windows-1251 declared by meta",
                meta_1251,
                Some("text/html"),
                "windows-1251",
                CharsetSource::Meta,
            ),
            (
                "http-equiv",
                http_equiv,
                None,
                "windows-1251",
                CharsetSource::Meta,
            ),
            (
                "meta utf-16 in ASCII bytes means utf-8",
                b"<meta charset=utf-16><p>x</p>".to_vec(),
                None,
                "UTF-8",
                CharsetSource::Meta,
            ),
            (
                "undeclared windows-1251 is guessed",
                enc(WINDOWS_1251, RUSSIAN),
                Some("text/html"),
                "windows-1251",
                CharsetSource::Detected,
            ),
            (
                "a bogus label on ascii",
                b"<p>plain ascii</p>".to_vec(),
                Some("text/html; charset=bogus"),
                "UTF-8",
                CharsetSource::Detected,
            ),
            (
                "windows-1251 body labelled utf-8",
                enc(WINDOWS_1251, RUSSIAN),
                Some("text/html; charset=utf-8"),
                "windows-1251",
                CharsetSource::Detected,
            ),
            (
                "utf-8 body labelled windows-1251",
                RUSSIAN.into(),
                Some("text/html; charset=windows-1251"),
                "UTF-8",
                CharsetSource::Utf8Validity,
            ),
            (
                "utf-8 body labelled iso-8859-1 (windows-1252)",
                GERMAN.into(),
                Some("text/html; charset=iso-8859-1"),
                "UTF-8",
                CharsetSource::Utf8Validity,
            ),
            (
                "utf-8 body labelled shift_jis",
                JAPANESE.into(),
                Some("text/html; charset=shift_jis"),
                "UTF-8",
                CharsetSource::Utf8Validity,
            ),
            (
                "windows-1252 labelled utf-8",
                enc(WINDOWS_1252, GERMAN),
                Some("text/html; charset=utf-8"),
                "windows-1252",
                CharsetSource::Detected,
            ),
            (
                "iso-8859-2 declared",
                enc(ISO_8859_2, "<p>Zażółć gęślą jaźń, Łódź i Kraków.</p>"),
                Some("text/html; charset=iso-8859-2"),
                "ISO-8859-2",
                CharsetSource::Header,
            ),
            (
                "shift_jis labelled utf-8",
                enc(SHIFT_JIS, JAPANESE),
                Some("text/html; charset=utf-8"),
                "Shift_JIS",
                CharsetSource::Detected,
            ),
            (
                "gb18030 (GBK) labelled utf-8",
                enc(
                    GB18030,
                    "<p>北大西洋公约组织与白俄罗斯的关系自二十世纪九十年代初以来一直在发展对话与合作。</p>",
                ),
                Some("text/html; charset=utf-8"),
                "GBK", // the detector names the GB18030 subset the text uses
                CharsetSource::Detected,
            ),
            (
                "euc-kr labelled utf-8",
                enc(
                    EUC_KR,
                    "<p>북대서양 조약 기구와 벨라루스의 관계는 대화와 협력을 발전시켜 왔습니다.</p>",
                ),
                Some("text/html; charset=utf-8"),
                "EUC-KR",
                CharsetSource::Detected,
            ),
        ];
        for (what, body, ct, want, source) in cases {
            let d = decode(&body, ct, None);
            assert_eq!(
                (d.charset, d.source, d.malformed, d.cut_mid_character),
                (want, source, 0, false),
                "{what}"
            );
            assert!(!d.text.contains('\u{FFFD}'), "{what}: {}", d.text);
        }
    }

    #[test]
    fn refuses_what_no_charset_decodes_cleanly() {
        use encoding_rs::WINDOWS_1251;
        let mut few_bad = RUSSIAN.as_bytes().to_vec();
        few_bad.splice(40..40, *b"\xFF\xFE\xC3(");
        let mut ascii_bad = b"<html><body><p>Plain English text.</p></body></html>".to_vec();
        ascii_bad.splice(20..20, *b"\xFF\xE9\x80");
        let few_1252 = enc(
            WINDOWS_1252,
            "<p>Die Beziehungen zu Weißrussland, für später.</p>",
        );
        let mut german_bad = GERMAN.as_bytes().to_vec();
        german_bad.splice(30..30, *b"\xE9\xFF");
        // (what, body, content type, charset reported, bytes malformed)
        type Case<'a> = (&'a str, Vec<u8>, Option<&'a str>, &'a str, usize);
        let cases: Vec<Case<'_>> = vec![
            (
                "a few invalid bytes in utf-8",
                few_bad.clone(),
                Some("text/html; charset=utf-8"),
                "UTF-8",
                3,
            ),
            (
                "a few invalid bytes in utf-8 labelled windows-1251",
                few_bad,
                Some("text/html; charset=windows-1251"),
                "UTF-8",
                3,
            ),
            (
                "a few invalid bytes in ascii, not taken for windows-1252",
                ascii_bad.clone(),
                Some("text/html; charset=utf-8"),
                "UTF-8",
                3,
            ),
            ("undeclared, the same", ascii_bad, None, "UTF-8", 3),
            (
                "utf-8 with a few accents and bad bytes",
                german_bad,
                Some("text/html; charset=utf-8"),
                "UTF-8",
                2,
            ),
            (
                "three windows-1252 letters labelled utf-8: too few to believe a guess",
                few_1252,
                Some("text/html; charset=utf-8"),
                "UTF-8",
                3,
            ),
            (
                "utf-16le BOM and an unpaired surrogate",
                b"\xFF\xFE<\x00p\x00>\x00\x00\xD8x\x00".to_vec(),
                None,
                "UTF-16LE",
                2,
            ),
        ];
        for (what, body, ct, want, malformed) in cases {
            let d = decode(&body, ct, None);
            assert_eq!((d.charset, d.malformed), (want, malformed), "{what}");
            assert!(d.text.contains('\u{FFFD}'), "{what}");
        }
        let forced = decode_with(&enc(WINDOWS_1251, RUSSIAN), None, None, Some(UTF_8));
        assert_eq!(
            (forced.charset, forced.source),
            ("UTF-8", CharsetSource::Override)
        );
        assert!(forced.malformed > 0);
        let forced = decode_with(
            RUSSIAN.as_bytes(),
            Some("text/html; charset=utf-8"),
            None,
            Some(WINDOWS_1251),
        );
        assert_eq!(
            (forced.charset, forced.source, forced.malformed),
            ("windows-1251", CharsetSource::Override, 0)
        );
    }

    #[test]
    fn a_character_cut_by_the_end_is_a_cut_not_a_decoding_error() {
        use encoding_rs::SHIFT_JIS;
        let utf8 = RUSSIAN.as_bytes();
        let at = RUSSIAN.find("Беларусь").unwrap() + 1;
        let sjis = enc(SHIFT_JIS, JAPANESE);
        let sjis_at = sjis.iter().position(|b| *b >= 0x81).unwrap() + 1;
        let cases: [(&str, &[u8], Option<&str>); 3] = [
            ("utf-8", &utf8[..at], Some("text/html; charset=utf-8")),
            ("utf-8 undeclared", &utf8[..at], None),
            (
                "shift_jis",
                &sjis[..sjis_at],
                Some("text/html; charset=shift_jis"),
            ),
        ];
        for (what, body, ct) in cases {
            let d = decode(body, ct, None);
            assert_eq!((d.malformed, d.cut_mid_character), (0, true), "{what}");
            assert!(d.text.ends_with('\u{FFFD}'), "{what}");
        }
        assert!(!decode(utf8, None, None).cut_mid_character);
    }

    #[test]
    fn decodes_windows_1251_to_utf8_and_strips_bom() {
        let d = decode(
            &enc(encoding_rs::WINDOWS_1251, "<p>Беларусь</p>"),
            Some("text/html; charset=windows-1251"),
            None,
        );
        assert_eq!(d.text, "<p>Беларусь</p>");
        assert_eq!(d.charset, "windows-1251");

        let d = decode(b"\xEF\xBB\xBF<p>x</p>", None, None);
        assert_eq!(d.text, "<p>x</p>");
        assert_eq!(d.charset, "UTF-8");
        assert_eq!(malformed_bytes(UTF_8, b"\xEF\xBB\xBF<p>x\xFF</p>"), 1);
    }

    #[test]
    fn odd_tlds_never_reach_the_detector() {
        let body = enc(encoding_rs::WINDOWS_1251, RUSSIAN);
        for tld in [&b"BY"[..], b"", b"xn--p1ai", b"\xD0\xB1"] {
            assert_eq!(decode(&body, None, Some(tld)).charset, "windows-1251");
        }
    }
}
