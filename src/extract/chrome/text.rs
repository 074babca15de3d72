//! Chrome in the text itself: lines and segments that are site furniture
//! whatever element holds them (share and print bars, cookie notices, reading
//! times, bylines, language pickers, copyright footers, clocks of world
//! cities), matched on whole words.

#[allow(clippy::wildcard_imports)]
use super::*;

/// True when a line is nothing but language names ("English", "Français
/// Deutsch"): a picker's text, or a list of languages in the content.
pub(crate) fn is_language_names(text: &str) -> bool {
    language_words(text).is_some_and(|n| n > 0)
}

/// How many words `text` holds (split at white space, separators and
/// commas, trimmed of what is not alphanumeric) when every one is a
/// [`LANGUAGE_WORDS`] word; `None` at the first that is not (ordinary text
/// stops at its first word).
pub(super) fn language_words(text: &str) -> Option<usize> {
    let mut n = 0;
    for w in text.split(|c: char| c.is_whitespace() || SEPARATOR_CHARS.contains(&c) || c == ',') {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        if w.is_empty() {
            continue;
        }
        if !LANGUAGE_WORDS.contains(&w.to_lowercase().as_str()) {
            return None;
        }
        n += 1;
    }
    Some(n)
}

/// True when a line opens with a copyright mark or word ("© Reuters",
/// "Copyright 2024 CDC").
pub(crate) fn is_copyright_line(text: &str) -> bool {
    static COPYRIGHT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)^\s*(?:©|\(c\)\s|copyright\b)")
            .expect("constant copyright regex compiles")
    });
    COPYRIGHT.is_match(text)
}

/// A copyright line that says more than the page footer's "© 2024 Name. All
/// rights reserved.": a notice on use or a photo credit inside the content
/// ("© Photos: Embassy of Estonia, not for commercial use.").
pub(crate) fn is_content_copyright(text: &str) -> bool {
    static FOOTER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)all\s+rights\s+reserved|^\s*(?:©|\(c\)|copyright)[\s©]*(?:\d{4}(?:\s*[-–]\s*\d{4})?)?[\s,]*[\p{L}\p{N}.&'’ -]{0,60}\.?\s*$")
            .expect("constant copyright footer regex compiles")
    });
    is_copyright_line(text) && is_prose(text, 0) && !FOOTER.is_match(text)
}

/// Words of share, print and e-mail bars that make a line chrome on their own
/// (lowercase).
pub(super) const ACTION_WORDS: &[&str] = &[
    "share",
    "shares",
    "sharing",
    "facebook",
    "twitter",
    "linkedin",
    "whatsapp",
    "telegram",
    "reddit",
    "pinterest",
    "bluesky",
    "mastodon",
    "instagram",
    "youtube",
    "tumblr",
    "xing",
    "flipboard",
    "messenger",
    "weibo",
    "wechat",
    "vkontakte",
    "email",
    "e-mail",
    "print",
    "printer",
    "tweet",
    "partager",
    "teilen",
    "compartir",
    "condividi",
    "partilhar",
    "imprimer",
    "drucken",
    "imprimir",
    "listen",
    "subscribe",
    "newsletter",
    // the same bars in the other EU languages
    "courriel",
    "envoyer",
    "mail",
    "mailen",
    "merken",
    "drucken",
    "druckversion",
    "stampa",
    "invia",
    "enviar",
    "afdrukken",
    "printen",
    "delen",
    "drukuj",
    "wydrukuj",
    "udostępnij",
    "tisk",
    "tisknout",
    "sdílet",
    "vytlačiť",
    "zdieľať",
    "nyomtatás",
    "megosztás",
    "tipărire",
    "tipărește",
    "distribuie",
    "печат",
    "отпечатай",
    "сподели",
    "natisni",
    "ispis",
    "podijeli",
    "drukāt",
    "kopīgot",
    "spausdinti",
    "dalintis",
    "prindi",
    "jaga",
    "tulosta",
    "jaa",
    "udskriv",
    "skriv",
    "dela",
    "εκτύπωση",
    "κοινοποίηση",
    "stampare",
    "condividere",
    "partage",
    "imprima",
    "partilhe",
];

/// Words that may accompany the action words in a bar ("Share this page on X").
pub(super) const FILLER_WORDS: &[&str] = &[
    "this",
    "page",
    "article",
    "story",
    "post",
    "on",
    "via",
    "with",
    "to",
    "the",
    "a",
    "us",
    "friend",
    "link",
    "copy",
    "version",
    "friendly",
    "x",
    "send",
    "follow",
    "like",
    "save",
    "bookmark",
    "and",
    "or",
    "cette",
    "page",
    "diese",
    "seite",
    "our",
    "sign",
    "up",
    "for",
    "updates",
    "alerts",
    "get",
    "now",
    "ut",
    "par",
    "per",
    "por",
    "la",
    "le",
    "les",
    "die",
    "der",
    "das",
    "pagina",
    "página",
    "artikel",
    "article",
    "seite",
    "merkliste",
    "version",
    "druck",
];

/// Language names as pickers write them: endonyms, English names and
/// two-letter codes (lowercase).
pub(super) const LANGUAGE_WORDS: &[&str] = &[
    "english",
    "français",
    "francais",
    "deutsch",
    "español",
    "espanol",
    "italiano",
    "português",
    "portugues",
    "русский",
    "українська",
    "العربية",
    "中文",
    "日本語",
    "한국어",
    "polski",
    "nederlands",
    "türkçe",
    "ελληνικά",
    "čeština",
    "română",
    "magyar",
    "svenska",
    "dansk",
    "suomi",
    "norsk",
    "български",
    "hrvatski",
    "srpski",
    "српски",
    "slovenčina",
    "slovenščina",
    "eesti",
    "latviešu",
    "lietuvių",
    "shqip",
    "македонски",
    "беларуская",
    "ქართული",
    "հայերեն",
    "فارسی",
    "עברית",
    "हिन्दी",
    "french",
    "german",
    "spanish",
    "italian",
    "portuguese",
    "russian",
    "ukrainian",
    "arabic",
    "chinese",
    "japanese",
    "korean",
    "polish",
    "dutch",
    "turkish",
    "greek",
    "czech",
    "romanian",
    "hungarian",
    "swedish",
    "danish",
    "finnish",
    "norwegian",
    "bulgarian",
    "croatian",
    "serbian",
    "slovak",
    "slovenian",
    "estonian",
    "latvian",
    "lithuanian",
    "albanian",
    "macedonian",
    "belarusian",
    "georgian",
    "armenian",
    "en",
    "fr",
    "de",
    "es",
    "it",
    "pt",
    "ru",
    "uk",
    "ua",
    "ar",
    "zh",
    "ja",
    "ko",
    "pl",
    "nl",
    "tr",
    "el",
    "cs",
    "ro",
    "hu",
    "sv",
    "da",
    "fi",
    "no",
    "bg",
    "hr",
    "sr",
    "sk",
    "sl",
    "et",
    "lv",
    "lt",
    "sq",
    "mk",
    "be",
    "ka",
    "hy",
];

/// What one separated part of a short line is, for [`is_chrome_text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Segment {
    /// Chrome on its own: a counter, a reading time, a relative date, a share
    /// or print bar, a language list, "Back to top".
    Chrome,
    /// Neutral beside chrome, content alone: a date, a number, a byline.
    Weak,
    /// Anything else: content.
    Content,
}

/// Whole-line chrome: cookie notices, copyright lines, breadcrumbs, the US
/// government banner. Every alternative is anchored at the start, so a line
/// that does not start like one is refused at once; the alternatives that
/// cost the most to compile (bounded repeats of Unicode classes) or to run
/// (unanchored) are in [`GATED_CHROME_LINES`], compiled and run only for a
/// line holding the word they need. [`is_chrome_line`] asks them all.
pub(super) static CHROME_LINE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?ix)
        ^(?:©|\(c\)\s|copyright\s*(?:©|\(c\)|\d{4}))
        | ^you\s+are\s+here\b
        | ^(?:home|start|accueil|startseite|inicio|главная)\s*(?:[›>»/→|]|\s-\s)
        | ^an\s+official\s+(?:web)?site\s+of\s+the\b
        | ^here['’]s\s+how\s+you\s+know\b
        | ^report\s+a\s+problem\s+with\s+this\s+page\b
        | ^(?:is|was)\s+this\s+page\s+(?:useful|helpful)\b
        | ^on\s+this\s+page$
        | ^(?:all\s+rights\s+reserved\.?)$
        | ^(?:select|choose|change)\s+(?:your\s+|a\s+)?language\b
        | ^translate(?:\s+this\s+page)?$
        | ^(?:this\s+)?(?:page\s+)?(?:was\s+)?(?:generated|rendered|served|created|built)\s+(?:in|at|on)\s+[\d.,:\-T\x20]+(?:\s*(?:ms|s|sec(?:ond)?s?|utc|gmt))?(?:\s+(?:with|using|and)\s+\d+\s+(?:database\s+|db\s+|sql\s+)?quer(?:y|ies))?\.?$
        | ^(?:request|trace|correlation|session)[\s_-]*(?:id|number|no\.?)\s*[:\#]
        | ^you\s+are\s+visitor\b
        # slideshow counters: 1 / 5, Slide 3 of 12
        | ^(?:slide|image|photo|picture|item)\s+\d{1,3}\s*(?:/|of)\s*\d{1,3}$
        | ^\d{1,3}(?:\s+/\s+|\s+of\s+)\d{1,3}$
        | ^powered\s+by\s+(?:google\s+)?translate$",
    )
    .expect("constant chrome line regex compiles")
});

/// A whole-line or whole-segment chrome pattern with its gate: a cheap test
/// every text the pattern matches passes, so the pattern is compiled and run
/// only for texts that pass it.
type Gated = (fn(&str) -> bool, std::sync::LazyLock<regex::Regex>);

/// Whole-line chrome that [`CHROME_LINE`] leaves out, each behind a gate. As
/// one alternation with the rest they cost 20 times more to compile than
/// apart (bounded repeats of `\p{L}` and `\d`, case-insensitive literals),
/// and most pages hold no line that passes their gates.
pub(super) static GATED_CHROME_LINES: [Gated; 12] = [
    // "see all updates" at the end of a line (the one unanchored pattern).
    (
        |t| holds_ascii_word(t, "all"),
        std::sync::LazyLock::new(|| {
            regex::Regex::new(r"(?ix)\bsee\s+all\s+updates$")
                .expect("constant see-all regex compiles")
        }),
    ),
    // The visitor's own last visit or login.
    (
        |t| {
            opens_with_any(t, &["your", "last", "previous"])
                && (holds_ascii_word(t, "vi") || holds_ascii_word(t, "log"))
        },
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^(?:your\s+)?(?:last|previous)\s+(?:visit(?:ed)?|log\s*-?in|logged\s+in)\s*(?:on|:)\s*[\p{L}\d\x20,./:\-]{1,50}$",
            )
            .expect("constant last-visit regex compiles")
        }),
    ),
    // Weather widgets: Washington, DC 12°C Cloudy.
    (
        |t| t.contains('\u{B0}'),
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^[\p{L}\x20,.'’-]{0,40}-?\d{1,3}(?:[.,]\d)?\s*°\s*[CF]?\s*,?\s*(?:partly\s+|mostly\s+|light\s+|heavy\s+)?(?:sunny|cloudy|clouds|rain|rainy|showers|snow|clear|fog|foggy|mist|overcast|thunderstorms?|drizzle|windy|storm|sleet|hail)$",
            )
            .expect("constant weather regex compiles")
        }),
    ),
    // Captchas: Enter the code: 8A7X.
    (
        |t| opens_with_any(t, &["please", "enter", "type"]),
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^(?:please\s+)?(?:enter|type)\s+(?:the\s+)?(?:code|characters|text|letters|numbers)(?:\s+(?:shown|above|below|you\s+see|in\s+the\s+image))?\s*:?\s*[\p{L}\d]{0,10}$",
            )
            .expect("constant captcha regex compiles")
        }),
    ),
    // Live clocks: Server time: 2026-12-03 08:41:02 CET.
    (
        |t| opens_with_any(t, &["server", "local", "current", "system"]),
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^(?:server|local|current|system)\s+(?:date|time)(?:\s+and\s+(?:date|time))?\s*:?\s*(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?(?:\d{4}-\d{2}-\d{2}[\sT]+|\d{1,2}[./]\d{1,2}[./]\d{2,4},?\s+|\d{1,2}\.?\s+\p{L}+\.?\s+\d{4},?\s+(?:at\s+)?|\p{L}+\.?\s+\d{1,2},?\s+\d{4},?\s+(?:at\s+)?)?\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?(?:\s*\(?(?-i:[A-Z]{2,5})\)?)?$",
            )
            .expect("constant clock regex compiles")
        }),
    ),
    // City clocks: Brussels: 09:41 | Washington 03:41.
    (
        |t| opens_with_any(t, CLOCK_CITIES) && t.contains([':', '.']),
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^(?:(?:brussels|washington(?:,?\s+d\.?c\.?)?|new\s+york|london|paris|berlin|rome|madrid|lisbon|dublin|amsterdam|the\s+hague|luxembourg|vienna|prague|warsaw|budapest|bucharest|sofia|athens|ankara|ottawa|oslo|stockholm|copenhagen|helsinki|tallinn|riga|vilnius|kyiv|kiev|moscow|tokyo|beijing|canberra|utc|gmt|cet|cest|et|est|edt)\s*:?\s*\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s*[ap]\.?m\.?)?(?:\s*\(?(?-i:[A-Z]{2,5})\)?)?\s*(?:[|·•,]\s*|$))+$",
            )
            .expect("constant city clock regex compiles")
        }),
    ),
    // Exchange and stock tickers: EUR/USD 1.0842 ▲0.12%.
    (
        |t| {
            t.as_bytes()
                .get(..2)
                .is_some_and(|b| b.iter().all(u8::is_ascii_uppercase))
                && t.contains(['%', '▲', '▼', '△', '▽', '↑', '↓', '⬆', '⬇'])
        },
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^(?:(?-i:[A-Z]{2,6})(?:\s*/\s*(?-i:[A-Z]{3}))?\s*:?\s+\d[\d.,]*\s*(?:[▲▼△▽↑↓⬆⬇]\s*[+\-−]?\d[\d.,]*\s*%?|[+\-−]\d[\d.,]*\s*%)\s*(?:[|·•]\s*)?)+$",
            )
            .expect("constant ticker regex compiles")
        }),
    ),
    // Counters in prose form: This page has been viewed 12,345 times.
    (
        |t| holds_ascii_word(t, "time"),
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^(?:this\s+(?:page|article|post|document|story)\s+has\s+been\s+)?(?:viewed|visited|read|accessed|downloaded)\s+\d[\d.,\x20]*\s+times?\.?$",
            )
            .expect("constant prose counter regex compiles")
        }),
    ),
    // 1,234 people found this helpful.
    (
        |t| opens_with_digit(t) && holds_ascii_word(t, "ful"),
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^\d[\d.,]*\s+(?:out\s+)?(?:of\s+\d[\d.,]*\s+)?(?:people|persons|users|visitors|readers|customers)\s+(?:found|find)\s+this\s+(?:page\s+|article\s+|answer\s+|review\s+)?(?:helpful|useful)\.?$",
            )
            .expect("constant helpful counter regex compiles")
        }),
    ),
    // Visitors online: 14.
    (
        |t| holds_ascii_word(t, "online"),
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^(?:(?:visitors|users|guests|members|people)\s+online|online\s+now|who['’]?s\s+online)\s*:?\s*\d[\d.,]*$",
            )
            .expect("constant online counter regex compiles")
        }),
    ),
    // 14 users online now.
    (
        |t| {
            opens_with_digit(t) && (holds_ascii_word(t, "online") || holds_ascii_word(t, "reading"))
        },
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^\d[\d.,]*\s+(?:visitors?|users?|guests?|people|members?)\s+(?:are\s+)?(?:online|reading\s+(?:this|now))(?:\s+now)?\.?$",
            )
            .expect("constant reader counter regex compiles")
        }),
    ),
    // Survey invitations: Help us improve. Would you take a short survey?
    (
        |t| opens_with_any(t, &["help", "would", "please", "take"]) && holds_ascii_word(t, "urvey"),
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^(?:help\s+us\s+improve\b[^?]{0,60}?\s*)?(?:would\s+you\s+(?:like\s+to\s+)?take|please\s+take|take)\s+(?:a|our)\s+(?:short\s+|brief\s+|quick\s+|\d+[-\x20]minute\s+)?survey\b[^.?!]{0,40}[.?!]?$",
            )
            .expect("constant survey regex compiles")
        }),
    ),
];

/// The first words of the city clocks' place and zone names (lowercase).
pub(super) const CLOCK_CITIES: &[&str] = &[
    "brussels",
    "washington",
    "new",
    "london",
    "paris",
    "berlin",
    "rome",
    "madrid",
    "lisbon",
    "dublin",
    "amsterdam",
    "the",
    "luxembourg",
    "vienna",
    "prague",
    "warsaw",
    "budapest",
    "bucharest",
    "sofia",
    "athens",
    "ankara",
    "ottawa",
    "oslo",
    "stockholm",
    "copenhagen",
    "helsinki",
    "tallinn",
    "riga",
    "vilnius",
    "kyiv",
    "kiev",
    "moscow",
    "tokyo",
    "beijing",
    "canberra",
    "utc",
    "gmt",
    "cet",
    "cest",
    "et",
    "est",
    "edt",
];

/// True when `text` holds `word` (ASCII) in any ASCII letter case; exact for
/// a gate only when `word` has no `k` or `s`, which case-insensitive
/// matching also finds as U+212A and U+017F.
pub(super) fn holds_ascii_word(text: &str, word: &str) -> bool {
    let (text, word) = (text.as_bytes(), word.as_bytes());
    word.is_empty()
        || text
            .windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word))
}

/// True when `c` is one a case-insensitive regex matches for the lowercase
/// ASCII byte `w`: its ASCII cases, and the two characters outside ASCII
/// that Unicode case folding puts with ASCII letters (KELVIN SIGN with `k`,
/// LONG S with `s`; the test `ascii_letters_fold_only_with_kelvin_and_long_s`
/// proves there are no others).
pub(super) fn folds_to(c: char, w: u8) -> bool {
    (c.is_ascii() && c.to_ascii_lowercase() as u32 == u32::from(w))
        || (w == b'k' && c == '\u{212A}')
        || (w == b's' && c == '\u{17F}')
}

/// True when `text` opens with one of `words` (lowercase ASCII) as a
/// case-insensitive regex would find it.
pub(super) fn opens_with_any(text: &str, words: &[&str]) -> bool {
    words.iter().any(|word| {
        let mut chars = text.chars();
        word.bytes()
            .all(|w| chars.next().is_some_and(|c| folds_to(c, w)))
    })
}

/// True when `text` opens with a character `\d` may match (every Unicode
/// decimal digit is numeric).
pub(super) fn opens_with_digit(text: &str) -> bool {
    text.chars().next().is_some_and(char::is_numeric)
}

/// True when a whole line is chrome by [`CHROME_LINE`] or one of
/// [`GATED_CHROME_LINES`].
pub(super) fn is_chrome_line(text: &str) -> bool {
    CHROME_LINE.is_match(text)
        || GATED_CHROME_LINES
            .iter()
            .any(|(gate, re)| gate(text) && re.is_match(text))
}

/// Cookie notices: "cookie" plus the notice's own phrasing.
pub(super) static COOKIE_NOTICE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(
    || {
        regex::Regex::new(
        r"(?ix)
        \b(?:we|this\s+(?:web)?site|our\s+(?:web)?site)\s+uses?\s+cookies\b
            .*\b(?:experience|improve|enhance|analy[sz]\w*|statistics|traffic|personali[sz]\w*|advertis\w*|agree\w*|accept\w*|consent\w*|preferences|settings|policy|learn\s+more|more\s+information|third[\s-]part\w*|best)\b
        | \bby\s+(?:continuing|using)\b.{0,80}\bcookies?\b
        | \baccept\s+(?:all\s+)?cookies\b
        | \bcookie\s+(?:settings|preferences|consent)\b",
    )
    .expect("constant cookie regex compiles")
    },
);

/// Segments that are chrome on their own and cheap to compile: ad slot
/// labels, "Back to top" and skip links. [`GATED_CHROME_SEGMENTS`] holds the
/// rest (counters, reading times, relative dates); [`is_chrome_segment`]
/// asks them all.
pub(super) static CHROME_SEGMENT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(
    || {
        regex::Regex::new(
        r"(?ix)^(?:
            just\s+now|moments\s+ago
            # the label of an ad slot: Advertisement, Anzeige, Publicité
          | (?:advertisements?|advert|sponsored(?:\s+content)?|anzeige|werbung|publicit[ée]|publicidad|pubblicit[àa]|реклама)
            # back to top, skip links
          | (?:back|return|go|scroll|jump)\s+(?:up\s+)?to\s+(?:the\s+)?top(?:\s+of\s+(?:the\s+)?page)?
          | top\s+of\s+(?:the\s+)?page
          | skip\s+(?:to\s+|over\s+)?(?:the\s+)?(?:main\s+)?(?:content|navigation|nav|menu)
          | jump\s+to\s+(?:main\s+)?(?:content|navigation)
        )$",
    )
    .expect("constant chrome segment regex compiles")
    },
);

/// Segments that are chrome on their own, each behind a gate (see
/// [`Gated`]): as one alternation with [`CHROME_SEGMENT`] they cost six
/// times more to compile than apart.
pub(super) static GATED_CHROME_SEGMENTS: [Gated; 5] = [
    // counters: 1.2K shares, 12 comments
    (
        opens_with_digit,
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^\d[\d.,\x20]*[kmb]?\+?\s*(?:shares?|likes?|views?|comments?|reads?|retweets?|reactions?|followers?|visits?|hits?|page\s*views?|claps?|votes?|times\s+viewed)$",
            )
            .expect("constant counter regex compiles")
        }),
    ),
    // counters: Views: 1,234, viewed 12 times
    (
        |t| {
            !t.chars().next().is_some_and(|c| c.is_ascii())
                || opens_with_any(
                    t,
                    &[
                        "share",
                        "like",
                        "view",
                        "comment",
                        "page",
                        "visit",
                        "hit",
                        "read",
                        "seen",
                        "vue",
                        "aufrufe",
                        "visualizza",
                        "visualizaci",
                        "weergaven",
                    ],
                )
        },
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^(?:shares?|likes?|views?|comments?|page\s*views?|visits?|hits?|reads?|viewed|seen|vues|aufrufe|просмотр\w*|visualizza\w*|visualizaci\w*|weergaven)\s*:?\s*\d[\d.,\x20]*[kmb]?\+?(?:\s*(?:times|fois|mal))?$",
            )
            .expect("constant labelled counter regex compiles")
        }),
    ),
    // reading time: 5 min read, 5 MIN READ
    (
        reading_time_words,
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^(?:about\s+|~\s*)?(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten)(?:\s*[-–]\s*\d+)?[\s-]*(?:min(?:ute)?s?|hours?|hrs?|h)\.?\s+(?:read|reading|to\s+read|read\s+time|reading\s+time|de\s+lecture|lesezeit|lectura)$",
            )
            .expect("constant reading time regex compiles")
        }),
    ),
    // reading time: Reading time: 4 minutes
    (
        reading_time_words,
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^(?:estimated\s+)?(?:read(?:ing)?\s+time|time\s+to\s+read|lesezeit|temps\s+de\s+lecture)\s*:?\s*(?:about\s+|~\s*)?\d+(?:\s*[-–]\s*\d+)?\s*(?:min(?:ute)?s?|hours?|h)?\.?$",
            )
            .expect("constant reading time label regex compiles")
        }),
    ),
    // relative dates: 3 hours ago, updated 2 days ago
    (
        |t| holds_ascii_word(t, "ago"),
        std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?ix)^(?:(?:last\s+)?(?:updated|posted|published|modified|edited)\s*:?\s+)?(?:about\s+|over\s+|almost\s+|nearly\s+)?(?:\d+|an?|one|a\s+few)\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|[smhdwy])\s+ago$",
            )
            .expect("constant relative date regex compiles")
        }),
    ),
];

/// The gate of the reading-time patterns: every match holds `read`,
/// `lectur` or `(les)ezeit` (chosen without `k` or `s`).
pub(super) fn reading_time_words(text: &str) -> bool {
    ["read", "lectur", "ezeit"]
        .iter()
        .any(|w| holds_ascii_word(text, w))
}

/// True when a segment is chrome on its own by [`CHROME_SEGMENT`] or one of
/// [`GATED_CHROME_SEGMENTS`].
pub(super) fn is_chrome_segment(text: &str) -> bool {
    CHROME_SEGMENT.is_match(text)
        || GATED_CHROME_SEGMENTS
            .iter()
            .any(|(gate, re)| gate(text) && re.is_match(text))
}

/// Segments that are neutral beside chrome: dates (with an optional label and
/// time), numbers, bylines.
pub(super) static WEAK_SEGMENT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(
    || {
        regex::Regex::new(
        r"(?ix)^(?:
            (?:(?:first\s+|last\s+)?(?:published|posted|updated|modified|reviewed|issued|released|date)\s*(?:on|:)?\s*)?
            (?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?
            (?:
                \d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+\d{4}
              | (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}
              | \d{4}-\d{2}-\d{2}
              | \d{1,2}[./-]\d{1,2}[./-]\d{2,4}
              | \d{1,2}-[a-z]{3}-\d{4}
              | today|yesterday
            )
            (?:,?\s*(?:at\s+)?\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*\(?[a-z]{2,5}\)?)?)?
          | \d[\d.,]*[kmb]?\+?
          | min\.?\s+read|read\s+more
        )$",
    )
    .expect("constant weak segment regex compiles")
    },
);

/// [`WEAK_SEGMENT`]'s bylines (`By Jane Doe`), asked only of a segment that
/// starts with `by` (any case): their Unicode classes cost more to compile
/// than the rest of it.
pub(super) static BYLINE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(?ix)^by\s+\p{Lu}[\p{L}.'’-]*(?:\s+\p{Lu}[\p{L}.'’-]*){0,3}$")
        .expect("constant byline regex compiles")
});

/// Characters that separate the items of a meta line or a bar.
pub(super) const SEPARATOR_CHARS: &[char] = &['|', '·', '•', '¦', '∙', '‧', '›', '»', '→', '/'];

/// Separators between the items of a meta line or a bar.
pub(super) static SEPARATOR: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\s*(?:[|·•¦∙‧›»→]|\s[-–—/]\s)\s*")
        .expect("constant separator regex compiles")
});

/// True when a whole block's text is site chrome rather than content: a
/// counter ("1.2K shares", "Views: 1,234", "👁 345"), a reading time ("5 MIN
/// READ"), a relative date ("3 hours ago"), a share/print/e-mail bar, a list of
/// language names, "Back to top", a skip link, a breadcrumb trail starting at
/// "Home", a copyright line, a cookie notice; or a short line made only of such
/// parts and dates ("3 May 2023 · 5 min read · 1.2K shares").
///
/// Only short lines are judged, and only whole lines: a paragraph that
/// mentions shares, views or a year is content.
pub(crate) fn is_chrome_text(text: &str) -> bool {
    let text = text.trim();
    let chars = text.chars().count();
    if chars == 0 || chars > 600 {
        return false;
    }
    if mentions_cookies(text) && COOKIE_NOTICE.is_match(text) {
        return true;
    }
    if chars > 200 {
        return false;
    }
    if is_chrome_line(text) {
        return true;
    }
    if language_words(text).is_some_and(|n| n > 1) {
        return true;
    }
    let mut strong = false;
    for segment in SEPARATOR.split(text) {
        match classify(segment) {
            Segment::Chrome => strong = true,
            Segment::Weak => {}
            Segment::Content => return false,
        }
    }
    strong
}

/// True when `text` lowercased holds `cookie`: in ASCII letters of any case,
/// or with the Kelvin sign, the one other character that lowercases to one
/// of its letters.
pub(super) fn mentions_cookies(text: &str) -> bool {
    text.as_bytes()
        .windows(6)
        .any(|w| w.eq_ignore_ascii_case(b"cookie"))
        || (text.contains('\u{212A}') && text.to_lowercase().contains("cookie"))
}

/// Classifies one separated part of a short line.
pub(super) fn classify(segment: &str) -> Segment {
    let trimmed = segment.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, ':' | ',' | ';' | '.' | '(' | ')' | '[' | ']' | '!')
    });
    if trimmed.is_empty() {
        return Segment::Weak;
    }
    // An icon before a number is a counter: "👁 345", "♥ 12", "⏱ 5 min".
    let symbols = trimmed
        .chars()
        .take_while(|c| !c.is_alphanumeric() && !c.is_whitespace())
        .count();
    let rest = trimmed
        .chars()
        .skip(symbols)
        .collect::<String>()
        .trim()
        .to_string();
    if symbols > 0 {
        static ICON_COUNT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(r"(?i)^\d[\d.,]*[kmb]?\+?(?:\s*min(?:ute)?s?)?$")
                .expect("constant icon counter regex compiles")
        });
        if ICON_COUNT.is_match(&rest) {
            return Segment::Chrome;
        }
    }
    if is_chrome_segment(&rest) {
        return Segment::Chrome;
    }
    let byline = || rest.get(..2).is_some_and(|b| b.eq_ignore_ascii_case("by"));
    if WEAK_SEGMENT.is_match(&rest) || (byline() && BYLINE.is_match(&rest)) {
        return Segment::Weak;
    }
    let words: Vec<String> = rest
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ':' | ';' | '(' | ')'))
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Segment::Weak;
    }
    let is = |set: &[&str], w: &String| set.contains(&w.as_str());
    // Share bars carry their counts: "Facebook 128 Twitter 64".
    let count = |w: &String| {
        w.trim_end_matches(['k', 'm'])
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    };
    // A share in percent is a figure: "Share: 45%".
    if !rest.contains('%')
        && words
            .iter()
            .all(|w| is(ACTION_WORDS, w) || is(FILLER_WORDS, w) || count(w))
        && words.iter().any(|w| is(ACTION_WORDS, w))
    {
        return Segment::Chrome;
    }
    if words.iter().all(|w| is(LANGUAGE_WORDS, w))
        && (words.len() > 1 || words[0].chars().count() > 2)
    {
        return Segment::Chrome;
    }
    Segment::Content
}

/// Headings of the page's own furniture, never content: "Related news",
/// "More stories", "Most read", "You may also like", "Share this page",
/// "Follow us", "In focus". The heading and the blocks under it, up to the
/// next heading of its level or above, are chrome.
pub(crate) fn is_chrome_heading(text: &str) -> bool {
    static HEADING: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?ix)^(?:
                related(?:\s+(?:news|articles?|stories|content|links|pages|topics|items|posts|resources|publications|videos))?
              | more\s+(?:news|stories|articles|videos|from\s+.{1,40}|on\s+this\s+topic|like\s+this)
              | (?:latest|other)\s+(?:news|stories|articles|updates|videos)
              | most\s+(?:read|popular|viewed|shared)
              | you\s+(?:may|might)\s+also\s+(?:like|be\s+interested(?:\s+in)?)
              | recommended(?:\s+(?:for\s+you|reading|articles))?
              | trending(?:\s+now)?
              | popular(?:\s+now)?
              | in\s+focus
              | share(?:\s+this(?:\s+(?:page|article|story))?)?
              | follow\s+us
              | on\s+this\s+page
              | in\s+this\s+(?:article|section|page)
              | (?:table\s+of\s+)?contents
              | (?:is|was)\s+this\s+page\s+(?:useful|helpful)
              | did\s+you\s+find\s+what\s+you\s+(?:were|are)\s+looking\s+for
              | stay\s+(?:informed|connected|up\s+to\s+date)
              | (?:sign\s+up|subscribe)(?:\s+(?:to|for)\s+(?:our\s+)?(?:e-?mail\s+)?(?:newsletters?|updates|alerts))?
              | (?:our\s+|e-?mail\s+)?newsletters?
            )[\s:.?]*$",
        )
        .expect("constant chrome heading regex compiles")
    });
    let text = text.trim();
    text.chars().count() <= 60 && HEADING.is_match(text)
}
