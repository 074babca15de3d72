//! The page's own "Last updated" line: recognising it in a page's text,
//! parsing its date, time and zone into a [`Stamp`], and telling a stamp line
//! from content (our own parser; no general date crate reads these forms).
//!
//! A stamp is a *label* followed by a *value*. Labels (any letter case):
//! - updated: `Last updated`, `Last update`, `Updated`, `Updated on`,
//!   `Page last updated`, `Page last reviewed`, `Last reviewed`, `Reviewed`,
//!   `Last modified`, `Modified`, `Last revised`, `Revised`, `Date of last
//!   update`, `Last updated on`, `Content last reviewed`, and the French,
//!   German and Spanish equivalents (`Dernière mise à jour`, `Mis à jour le`,
//!   `Zuletzt aktualisiert`, `Letzte Änderung`, `Stand`, `Última
//!   actualización`, `Actualizado el`);
//! - published (used only when no updated label is read anywhere):
//!   `Published`, `First published`, `Posted`, `Issued`, `Publication date`,
//!   `Date of publication`, `Release date`;
//! - never a stamp: anything preceded by `next` (`Next review due`, `Next
//!   update`) and `Review date` / `Due for review`, which name a future date.
//!
//! A label counts only where a stamp line sits: at the start of a line, after
//! a separator (`|`, `·`, `•`, `–`), or written with a capital (`Home >
//! Topics Last update: …`); `the page was updated on 5 March 2024` in prose
//! is not a stamp.
//!
//! Values, optionally after `:`, `-`, `on`, a line break or a weekday
//! (`Monday,`, `Fri,`):
//! - `28 Aug. 2024`, `28 August 2024`, `19th August 2020`, `02-Mar-2012`,
//!   `5 Sept. 2024` (month names in English, French, German, Spanish; a
//!   trailing dot and `Sept` accepted);
//! - `August 19, 2020`, `Sept. 19th, 2020`;
//! - numeric `12/03/2024`, `12.03.2024`, `12-03-2024`, read in the rules'
//!   [`DateOrder`] (day first by default; a number above 12 can only be a
//!   day, so `19/08/2020` and `03/13/2024` are read the one way they can be
//!   under any order; a page whose own numeric dates prove month first has
//!   its ambiguous ones read month first, see [`proven_order`]);
//! - ISO 8601 `2020-08-19`, `2024-04-19T10:00:00-04:00`, `2024/04/19`;
//!
//! then an optional time (`11:27`, `15:38:02`, `3:45 pm`, `3 p.m.`, `14h05`,
//! after `,`, `at`, `-` or `|`) and an optional zone (`Z`, `UTC`, `GMT`,
//! `CET`, `CEST`, `BST`, `EST`, `EDT`, `ET`, `PT`, …, `+02:00`, `UTC+2`).
//!
//! nato.int's forms over the years, all read: `Last updated: 28 Aug. 2024
//! 11:27` (its abbreviations always end in a dot, even `May.`), `Last updated
//! 02-Mar-2012 15:38`, `Last update: 29-Mar-2006 18:54`, `Updated: 31-Mar-2006`.
//!
//! A stamp records its [`StampClass`] (a published date makes no claim about
//! edits) and the page's other update stamps ([`Stamp::also`]), so that a
//! moved review date beside an unchanged update date still counts as a new
//! date (see [`crate::revision::RevisionKind`]). An update label whose date
//! cannot be read, met before any readable one, is the page's stamp: nothing
//! else stands in for it ([`Scan::blocked`]).
//!
//! The zone: a zone the stamp writes itself (`+02:00`, `Z`, `CET`) is exact and
//! always used; otherwise the rules' `tz` (nato-topic: Europe/Brussels); else
//! UTC. The zone used is recorded in the stamp ([`Stamp::zone`]).

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Disambiguation, Offset, TimeZone};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::normalize::display;

/// A parsed stamp. Two stamps are the same when their `date` and `time` are equal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// The stamp as served, whitespace-normalised, label included (e.g.
    /// `Last updated: 28 Aug. 2024 11:27`, `Page last reviewed: August 19, 2020`).
    /// For a meta or JSON-LD stamp, the value as written.
    pub text: String,
    /// The calendar date the stamp names.
    pub date: Date,
    /// The wall-clock time in [`Stamp::zone`], when the stamp has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    /// The instant (UTC) the stamp names, when it has a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instant: Option<Timestamp>,
    /// The date (and time) as the page wrote it, label left out (`3 March
    /// 2021`, `August 19, 2020`). Empty in documents stored before it was
    /// recorded; [`Stamp::display_value`] then rebuilds it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub shown: String,
    /// Where on the page the stamp was read.
    #[serde(default)]
    pub source: StampSource,
    /// The zone its time was read in: an IANA name (`Europe/Brussels`),
    /// `UTC`, or a fixed offset (`UTC-04:00`). Documents stored before it was
    /// recorded were all read in Brussels time.
    #[serde(default = "legacy_zone")]
    pub zone: String,
    /// What the stamp's label claims: an update (`Last updated`, `Reviewed`,
    /// a modified date) or only a publication (`Published`, `Posted`).
    /// Stamps stored before it was recorded were all update stamps.
    #[serde(default, skip_serializing_if = "StampClass::is_updated")]
    pub class: StampClass,
    /// The page's other readable update stamps under another label, in page
    /// order (CDC's `Page last reviewed` next to its `Updated on`): when any
    /// of them moves, the page shows a new date. Their own `also` is empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Stamp>,
}

/// What a stamp's label claims (see [`Stamp::class`]).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum StampClass {
    /// Updated, revised, reviewed, modified: a claim about the last edit.
    #[default]
    Updated,
    /// Published, posted, issued: the first publication, which says nothing
    /// about later edits.
    Published,
}

impl StampClass {
    /// True for [`StampClass::Updated`] (serde's skip test).
    pub fn is_updated(&self) -> bool {
        *self == StampClass::Updated
    }
}

fn legacy_zone() -> String {
    "Europe/Brussels".to_string()
}

/// Where on the page a [`Stamp`] was read, in order of preference (visible
/// text a reader sees first; machine-readable dates as a fallback).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum StampSource {
    /// The element named by the rules' `stamp` selector.
    Selector {
        /// The selector as configured.
        selector: String,
    },
    /// The rules' `stamp_pattern` matched in the page's text.
    Pattern,
    /// A labelled line in the page's visible text.
    #[default]
    Text,
    /// A `<time datetime>` element next to an updated/revised/reviewed label.
    TimeElement,
    /// A `<meta>` element (`article:modified_time`, `dcterms.modified`, ...).
    Meta {
        /// Its `name`, `property`, `itemprop` or `http-equiv`, lowercased.
        name: String,
    },
    /// A JSON-LD `dateModified`.
    JsonLd,
}

impl StampSource {
    /// True for a date only machines read (`<meta>`, JSON-LD): many sites set
    /// it to the time of each request, and no reader sees it.
    pub fn is_machine(&self) -> bool {
        matches!(self, StampSource::Meta { .. } | StampSource::JsonLd)
    }

    /// In words: `visible text`, `selector .date`, `meta article:modified_time`, ...
    pub fn describe(&self) -> String {
        match self {
            StampSource::Selector { selector } => format!("selector `{selector}`"),
            StampSource::Pattern => "stamp pattern".into(),
            StampSource::Text => "visible text".into(),
            StampSource::TimeElement => "time element".into(),
            StampSource::Meta { name } => format!("meta `{name}`"),
            StampSource::JsonLd => "JSON-LD dateModified".into(),
        }
    }
}

impl Stamp {
    /// True when both name the same date and time (the text may differ).
    pub fn same_moment(&self, other: &Stamp) -> bool {
        self.date == other.date && self.time == other.time
    }

    /// True when both name the same moment and so do their other update
    /// stamps ([`Stamp::also`]): the page shows no new date.
    pub fn same_dates(&self, other: &Stamp) -> bool {
        let moments = |s: &Stamp| s.also.iter().map(|a| (a.date, a.time)).collect::<Vec<_>>();
        self.same_moment(other) && moments(self) == moments(other)
    }

    /// The label the page gives this kind of stamp in a report:
    /// `Last updated`, or `Published` for a publication date.
    pub fn label(&self) -> &'static str {
        match self.class {
            StampClass::Updated => "Last updated",
            StampClass::Published => "Published",
        }
    }

    /// The other update stamps that name another moment than their
    /// counterpart on `old` (the one under the same label; `none` when `old`
    /// has none), as `Page last reviewed: August 19, 2020 → May 2, 2024`.
    pub fn also_moved(&self, old: &Stamp) -> Vec<String> {
        let label = |s: &Stamp| {
            s.text
                .strip_suffix(s.shown.as_str())
                .unwrap_or(&s.text)
                .trim_end_matches([' ', ':', '-'])
                .to_string()
        };
        let mut out = Vec::new();
        for n in &self.also {
            match old.also.iter().find(|o| label(o) == label(n)) {
                Some(o) if o.same_moment(n) => {}
                Some(o) => out.push(format!(
                    "{}: {} \u{2192} {}",
                    label(n),
                    o.display_value(),
                    n.display_value()
                )),
                None => out.push(format!("{}: none \u{2192} {}", label(n), n.display_value())),
            }
        }
        out
    }

    /// The stamp's date and time as the page wrote them (`3 March 2021`,
    /// `28 Aug. 2024 11:27`). Stamps stored before this was recorded show in
    /// nato.int's form (`02 Mar. 2012 15:38`).
    pub fn display_value(&self) -> String {
        if !self.shown.is_empty() {
            return self.shown.clone();
        }
        let month = MONTHS[usize::from(self.date.month().unsigned_abs()) - 1].1[0];
        let mut month = month.to_string();
        if let Some(c) = month.get_mut(..1) {
            c.make_ascii_uppercase();
        }
        let mut out = format!("{:02} {}. {}", self.date.day(), month, self.date.year());
        if let Some(t) = self.time {
            out.push_str(&format!(" {:02}:{:02}", t.hour(), t.minute()));
        }
        out
    }

    /// The zone in words for a reader: `Brussels time` for `Europe/Brussels`,
    /// `New York time`, `UTC`, `UTC-04:00`.
    pub fn zone_words(&self) -> String {
        zone_words(&self.zone)
    }
}

/// [`Stamp::zone_words`] for a zone string.
fn zone_words(zone: &str) -> String {
    match zone.rsplit_once('/') {
        Some((_, city)) => format!("{} time", city.replace('_', " ")),
        None => zone.to_string(),
    }
}

/// The zone note for a stamp transition: `Some("Brussels time")` when a stamp
/// on either side has a time (the new side's zone first), `None` for date-only
/// stamps, whose zone does not matter.
pub fn zone_note(old: Option<&Stamp>, new: Option<&Stamp>) -> Option<String> {
    new.into_iter()
        .chain(old)
        .find(|s| s.time.is_some())
        .map(Stamp::zone_words)
}

/// Why a string is not a stamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StampError {
    /// No "Last updated" / "Updated" / ... label was found.
    #[error("no `Last updated` label in {0:?}")]
    NoLabel(String),
    /// A label was found but the date after it could not be read.
    #[error("unreadable stamp date in {0:?}")]
    BadDate(String),
}

/// Which way a numeric date (`12/03/2024`) is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    /// Day, month, year (`12/03/2024` is 12 March): most official sites outside the US.
    #[default]
    Dmy,
    /// Month, day, year (`12/03/2024` is 3 December): US sites.
    Mdy,
    /// Year, month, day (`2024/03/12`).
    Ymd,
}

impl DateOrder {
    /// Parses `dmy`, `mdy` or `ymd`.
    pub fn parse(s: &str) -> Option<DateOrder> {
        match s {
            "dmy" => Some(DateOrder::Dmy),
            "mdy" => Some(DateOrder::Mdy),
            "ymd" => Some(DateOrder::Ymd),
            _ => None,
        }
    }
}

/// How a page's stamps are read: the numeric date order and the zone of a
/// stamp that writes none (from the rules).
#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// The order of numeric dates.
    pub order: DateOrder,
    /// The zone of a time written without one; `None`: UTC.
    pub tz: Option<TimeZone>,
}

/// Month names by number: English abbreviations and full names first, then
/// French, German and Spanish names. A name matches exactly, or (English only)
/// as a prefix of at least three letters (`Sept`, `Febr`).
const MONTHS: [(i8, &[&str]); 12] = [
    (
        1,
        &["jan", "january", "janvier", "januar", "enero", "jänner"],
    ),
    (
        2,
        &[
            "feb", "february", "février", "fevrier", "februar", "febrero",
        ],
    ),
    (3, &["mar", "march", "mars", "märz", "maerz", "marzo"]),
    (4, &["apr", "april", "avril", "abril"]),
    (5, &["may", "may", "mai", "mayo"]),
    (6, &["jun", "june", "juin", "juni", "junio"]),
    (7, &["jul", "july", "juillet", "juli", "julio"]),
    (8, &["aug", "august", "août", "aout", "agosto"]),
    (
        9,
        &["sep", "september", "septembre", "septiembre", "setiembre"],
    ),
    (10, &["oct", "october", "octobre", "oktober", "octubre"]),
    (11, &["nov", "november", "novembre", "noviembre"]),
    (
        12,
        &[
            "dec",
            "december",
            "décembre",
            "decembre",
            "dezember",
            "diciembre",
        ],
    ),
];

fn month_number(name: &str) -> Option<i8> {
    let lower = name.to_lowercase();
    let lower = lower.trim_end_matches('.');
    MONTHS.iter().find_map(|(n, names)| {
        let english_prefix = lower.len() >= 3 && names[1].starts_with(lower);
        (names.contains(&lower) || english_prefix).then_some(*n)
    })
}

/// The labels, longest spellings first so the regex prefers them. Group
/// `updated` or `published` says which class matched.
static LABEL_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(LABEL_PATTERN).expect("constant label regex compiles"));

/// [`LABEL_RE`] for searches within a span of a text whose word boundaries
/// read the characters around the span ([`label_captures`]).
static LABEL_META: LazyLock<regex_automata::meta::Regex> = LazyLock::new(|| {
    regex_automata::meta::Regex::new(LABEL_PATTERN).expect("constant label regex compiles")
});

/// [`LABEL_RE`]'s pattern.
const LABEL_PATTERN: &str = r"(?xi)
        \b(?:
          (?P<updated>
            (?:date\ of\ (?:the\ )?last\ (?:update|modification|revision|review))
          | (?:(?:this\ )?(?:page|content|article|site|document)\ (?:was\ )?last\ (?:updated|modified|reviewed|revised|changed)(?:\ on)?)
          | (?:last\ (?:updated|modified|reviewed|revised|changed|edited)(?:\ (?:on|date))?)
          | (?:last\ (?:update|modification|revision|review)(?:\ date)?)
          | (?:(?:page\ |content\ )?(?:updated|modified|reviewed|revised)(?:\ (?:on|at))?)
          | (?:derni[eè]re\ (?:mise\ [aà]\ jour|modification|révision))
          | (?:mis\ [aà]\ jour(?:\ le)?)
          | (?:zuletzt\ (?:aktualisiert|geändert)(?:\ am)?)
          | (?:letzte\ (?:änderung|aktualisierung))
          | (?:aktualisiert(?:\ am)?)
          | (?:stand)
          | (?:última\ (?:actualización|modificación))
          | (?:actualizado(?:\ el)?)
          )
        | (?P<published>
            (?:date\ (?:of\ )?publication)
          | (?:publication\ date|release\ date|date\ published)
          | (?:(?:first\ )?published(?:\ on)?)
          | (?:posted(?:\ on)?)
          | (?:issued(?:\ on)?)
          | (?:publié\ le|veröffentlicht(?:\ am)?|publicado(?:\ el)?)
          )
        )\b";

/// Words one of which every [`LABEL_RE`] match holds (ASCII letters, any
/// case), so that only lines holding one are searched with it: the label
/// regex (Unicode word boundaries, captures) costs thousands of instructions
/// per byte, this search a few. Keep it in step with [`LABEL_RE`]: each of
/// its alternatives holds one of these (`derni` for `dernière`, `a jour` or
/// `à jour` for `mis à jour`, `letzt` for `zuletzt` and `letzte`, `tuali`
/// for `aktualisiert` and `actualizado`, `ltima` for `última`, `ffentlich`
/// for `veröffentlicht`, `publica` for `publication` and `publicado`). The
/// words are as long as that allows: common words (`public`, `previous`,
/// `journal`, `release`) hold none, so the lines of ordinary prose are not
/// searched. The test `every_label_holds_a_prefilter_word` checks it.
const LABEL_WORDS: &[&str] = &[
    "updat",
    "modif",
    "revis",
    "review",
    "changed",
    "edited",
    "derni",
    "a jour",
    "\u{E0} jour",
    "\u{C0} jour",
    "letzt",
    "tuali",
    "stand",
    "ltima",
    "publish",
    "publica",
    "publi\u{E9}",
    "publi\u{C9}",
    "release date",
    "posted",
    "issued",
    "ffentlich",
    // The only characters outside ASCII that case-insensitive matching folds
    // onto ASCII letters (long s, Kelvin sign): a line holding one is always
    // searched.
    "\u{017F}",
    "\u{212A}",
];

static LABEL_WORDS_AC: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(LABEL_WORDS)
        .expect("constant label words build an automaton")
});

/// False when `text` cannot hold a [`LABEL_RE`] match.
fn may_hold_label(text: &str) -> bool {
    LABEL_WORDS_AC.is_match(text)
}

/// No [`LABEL_RE`] match is longer, in bytes: its longest alternative
/// (`this document was last reviewed on`) is 34 ASCII bytes, and case folding
/// (`ſ` for `s`, the Kelvin sign for `k`) adds at most two bytes per letter.
const MAX_LABEL_BYTES: usize = 96;

/// One [`LABEL_RE`] match: its byte range in the text, and whether its
/// `updated` group (else `published`) matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Label {
    start: usize,
    end: usize,
    updated: bool,
}

/// [`LABEL_RE`]'s matches in `text`, in order, as `captures_iter` gives them,
/// searched only near the [`LABEL_WORDS`] words: every match holds one, is
/// at most [`MAX_LABEL_BYTES`] long and never spans a line break (its words
/// are joined by spaces). The label regex's Unicode word boundaries stop its
/// fast engine at the first non-ASCII character, and the slow one costs in
/// proportion to the text it reads, so each word's window is searched, not
/// its line.
///
/// For a word found at `w` (the search reports words that do not overlap;
/// each other one overlaps a reported word), a match holding it or a word
/// overlapping it starts in `w.start - MAX..w.end` and ends before
/// `w.end + MAX`. The window `w.start - MAX..w.end + 2 MAX` (within the line)
/// holds every match that starts before `w.end + MAX` whole, so the first
/// match found there is the whole text's next one when it starts before
/// `w.end + MAX`, with the same alternative; a later one is left for a later
/// word. Word boundaries read the characters around the window.
fn label_captures(text: &str) -> Vec<Label> {
    use regex_automata::Input;
    let mut out = Vec::new();
    let mut caps = LABEL_META.create_captures();
    let updated = LABEL_META
        .group_info()
        .to_index(regex_automata::PatternID::ZERO, "updated")
        .expect("the label regex has an `updated` group");
    // Where the next match may start: after the last one.
    let mut pos = 0;
    for word in LABEL_WORDS_AC.find_iter(text) {
        let line_start = text[..word.start()].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[word.start()..]
            .find('\n')
            .map_or(text.len(), |i| word.start() + i);
        let accept_before = word.end() + MAX_LABEL_BYTES;
        let end = ceil_boundary(text, line_end.min(word.end() + 2 * MAX_LABEL_BYTES));
        loop {
            let start = ceil_boundary(
                text,
                pos.max(line_start)
                    .max(word.start().saturating_sub(MAX_LABEL_BYTES)),
            );
            if start >= accept_before || start >= end {
                break;
            }
            LABEL_META.search_captures(&Input::new(text).span(start..end), &mut caps);
            let Some(m) = caps.get_match().filter(|m| m.start() < accept_before) else {
                break;
            };
            out.push(Label {
                start: m.start(),
                end: m.end(),
                updated: caps.get_group(updated).is_some(),
            });
            // Labels are never empty; an empty match would be stepped over.
            pos = if m.end() > m.start() {
                m.end()
            } else {
                m.end() + 1
            };
        }
    }
    out
}

/// The first character boundary of `text` at or after byte `i` (its length
/// when `i` is past it).
fn ceil_boundary(text: &str, i: usize) -> usize {
    (i..text.len())
        .find(|&j| text.is_char_boundary(j))
        .unwrap_or(text.len())
}

/// A value: optional weekday, a date in one of the module's forms, an optional
/// time, an optional zone. Anchored at the start of the text after a label.
static VALUE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)^
        (?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?\.?,?\ )?
        (?:
            (?P<iy>\d{4})[-/](?P<imo>\d{1,2})[-/](?P<id>\d{1,2})
            (?:(?:T|\ )(?P<ih>\d{1,2}):(?P<imi>\d{2})(?::(?P<is>\d{2})(?:[.,]\d+)?)?)?
            (?P<iz>Z)?\b
          | (?P<d1>\d{1,2})(?:st|nd|rd|th|er|\.)?(?:\ of)?[\ \-/](?P<m1>\p{L}{3,10})\.?,?[\ \-/](?P<y1>\d{4})\b
          | (?P<m2>\p{L}{3,10})\.?\ (?P<d2>\d{1,2})(?:st|nd|rd|th)?,?\ (?P<y2>\d{4})\b
          | (?P<n1>\d{1,2})(?P<s1>[/.\-])(?P<n2>\d{1,2})(?P<s2>[/.\-])(?P<n3>\d{4})\b
        )
        (?:
            (?:,|\ at|\ à|\ um|\ a\ las|\ -|\ \||\ ·|\ –)?\ ?
            (?:
                (?P<hh>\d{1,2})[:h](?P<mi>\d{2})(?::(?P<ss>\d{2}))?(?:\ ?(?P<ap>[ap])\.?\ ?m\b\.?)?
              | (?P<hh2>\d{1,2})\ ?(?P<ap2>[ap])\.?\ ?m\b\.?
            )
            (?:\ ?h\b)?
        )?
        (?:\ ?\(?(?P<zone>
            Z|(?:UTC|GMT)?\ ?[+\-\u{2212}]\d{1,2}(?::?\d{2})?|UTC|GMT|CET|CEST|WET|WEST|EET|EEST|BST|EST|EDT|CST|CDT|MST|MDT|PST|PDT|ET|PT
        )\b\)?)?",
    )
    .expect("constant value regex compiles")
});

/// A value that looks like a date but may not parse: something with a digit
/// within the first few words, up to the end of the line.
static DATEISH_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[^\s\d]+\ ){0,2}[^\s\d]*\d[^\n]{0,40}")
        .expect("constant date-ish regex compiles")
});

/// Which kind of label a candidate carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Published,
    Updated,
}

/// What a scan of a page's text found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// The first readable stamp under an updated/revised/reviewed/modified label.
    pub updated: Option<Stamp>,
    /// The first readable stamp under a published/posted/issued label.
    pub published: Option<Stamp>,
    /// The first labelled line whose date-like value no form reads, as served.
    pub unreadable: Option<String>,
    /// The readable update stamps after `updated`, under other labels, in
    /// page order (see [`Stamp::also`]).
    pub others: Vec<Stamp>,
    /// True when an update label with an unreadable date came before any
    /// readable one: the page's stamp is that line, which cannot be read, so
    /// no later or other stamp stands in for it.
    pub blocked: bool,
}

/// A parsed value: the date, its time, the zone the stamp wrote, and how many
/// bytes of the input it took.
struct Value {
    date: Date,
    time: Option<Time>,
    written: Option<TimeZone>,
    len: usize,
}

/// Why a value did not parse: nothing date-shaped, or a date-shaped value
/// naming no real date (31 Feb, 25:00, an unknown month).
enum ValueError {
    NotADate,
    Invalid,
}

/// Reads a value at the start of `text` (already [`display`]-normalised).
fn read_value(text: &str, order: DateOrder) -> Result<Value, ValueError> {
    let caps = VALUE_RE.captures(text).ok_or(ValueError::NotADate)?;
    let len = caps.get(0).map_or(0, |m| m.end());
    let num = |name: &str| -> Option<i64> { caps.name(name)?.as_str().parse().ok() };
    let (y, m, d) = if let Some(y) = num("iy") {
        (y, num("imo"), num("id"))
    } else if let Some(y) = num("y1") {
        (
            y,
            caps.name("m1")
                .and_then(|m| month_number(m.as_str()))
                .map(i64::from),
            num("d1"),
        )
    } else if let Some(y) = num("y2") {
        (
            y,
            caps.name("m2")
                .and_then(|m| month_number(m.as_str()))
                .map(i64::from),
            num("d2"),
        )
    } else {
        let (a, b, y) = (num("n1"), num("n2"), num("n3"));
        let same_sep = caps.name("s1").map(|m| m.as_str()) == caps.name("s2").map(|m| m.as_str());
        if !same_sep {
            return Err(ValueError::Invalid);
        }
        let (a, b, y) = (
            a.ok_or(ValueError::Invalid)?,
            b.ok_or(ValueError::Invalid)?,
            y.ok_or(ValueError::Invalid)?,
        );
        // A number above 12 can only be the day, whatever the order.
        let (d, m) = match order {
            _ if a > 12 => (a, b),
            _ if b > 12 => (b, a),
            DateOrder::Mdy => (b, a),
            _ => (a, b),
        };
        (y, Some(m), Some(d))
    };
    let date = match (m, d) {
        (Some(m), Some(d)) => civil_date(y, m, d).ok_or(ValueError::Invalid)?,
        _ => return Err(ValueError::Invalid),
    };
    let time = read_time(&caps).map_err(|()| ValueError::Invalid)?;
    let written = match caps.name("zone").or(caps.name("iz")) {
        Some(z) if time.is_some() => Some(zone_of(z.as_str()).ok_or(ValueError::Invalid)?),
        _ => None,
    };
    Ok(Value {
        date,
        time,
        written,
        len,
    })
}

fn civil_date(y: i64, m: i64, d: i64) -> Option<Date> {
    Date::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
    )
    .ok()
}

/// The time in a value's captures: `Ok(None)` when it has none, `Err` when it
/// names no real time (25:61, 13 pm).
fn read_time(caps: &regex::Captures<'_>) -> Result<Option<Time>, ()> {
    let num = |name: &str| -> Option<i8> { caps.name(name)?.as_str().parse().ok() };
    let (hour, minute, second, ampm) = if let Some(h) = caps.name("ih") {
        let h: i8 = h.as_str().parse().map_err(|_| ())?;
        (h, num("imi").ok_or(())?, num("is").unwrap_or(0), None)
    } else if let Some(h) = caps.name("hh") {
        let h: i8 = h.as_str().parse().map_err(|_| ())?;
        (
            h,
            num("mi").ok_or(())?,
            num("ss").unwrap_or(0),
            caps.name("ap"),
        )
    } else if let Some(h) = caps.name("hh2") {
        let h: i8 = h.as_str().parse().map_err(|_| ())?;
        (h, 0, 0, caps.name("ap2"))
    } else {
        return Ok(None);
    };
    let hour = match ampm.map(|m| m.as_str().to_ascii_lowercase()) {
        None => hour,
        Some(_) if !(1..=12).contains(&hour) => return Err(()),
        Some(p) if p == "a" => hour % 12,
        Some(_) => hour % 12 + 12,
    };
    Time::new(hour, minute, second, 0).map(Some).map_err(|_| ())
}

/// The zone a stamp writes: `Z`, `UTC`, `+02:00`, `UTC+2`, an abbreviation.
/// North American `ET`/`PT` name their IANA zone (the offset depends on the
/// date); the other abbreviations are fixed offsets by definition.
fn zone_of(written: &str) -> Option<TimeZone> {
    let w = written.trim().to_ascii_uppercase().replace('\u{2212}', "-");
    let hours = match w.as_str() {
        "ET" => return TimeZone::get("America/New_York").ok(),
        "PT" => return TimeZone::get("America/Los_Angeles").ok(),
        "Z" | "UTC" | "GMT" | "WET" => 0,
        "CET" | "BST" | "WEST" => 1,
        "CEST" | "EET" => 2,
        "EEST" => 3,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        _ => {
            let rest = w.trim_start_matches("UTC").trim_start_matches("GMT").trim();
            let (sign, digits) = match rest.split_at_checked(1)? {
                ("+", d) => (1, d),
                ("-", d) => (-1, d),
                _ => return None,
            };
            let digits = digits.replace(':', "");
            let (h, m) = match digits.len() {
                1 | 2 => (digits.parse::<i32>().ok()?, 0),
                4 => (digits[..2].parse().ok()?, digits[2..].parse::<i32>().ok()?),
                _ => return None,
            };
            if h > 14 || m > 59 {
                return None;
            }
            let secs = sign * (h * 3600 + m * 60);
            return Some(TimeZone::fixed(Offset::from_seconds(secs).ok()?));
        }
    };
    Some(TimeZone::fixed(Offset::from_hours(hours).ok()?))
}

/// The name recorded for a zone: its IANA name, `UTC`, or `UTC+02:00`.
fn zone_name(tz: &TimeZone) -> String {
    if let Some(name) = tz.iana_name() {
        return name.to_string();
    }
    let secs = tz.to_fixed_offset().map_or(0, |o| o.seconds());
    if secs == 0 {
        return "UTC".into();
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

/// Builds a stamp from a parsed value: the zone is the one written, else the
/// reading's, else UTC. In an autumn overlap the earlier instant is taken; a
/// time in a spring gap moves forward (jiff's `Compatible` rule).
fn build(value: Value, text: String, shown: String, reading: &Reading) -> Stamp {
    let tz = value
        .written
        .or_else(|| reading.tz.clone())
        .unwrap_or(TimeZone::UTC);
    let instant = value.time.and_then(|t| {
        tz.to_ambiguous_zoned(DateTime::from_parts(value.date, t))
            .disambiguate(Disambiguation::Compatible)
            .ok()
            .map(|z| z.timestamp())
    });
    Stamp {
        text,
        date: value.date,
        time: value.time,
        instant,
        shown,
        source: StampSource::Text,
        zone: zone_name(&tz),
        class: StampClass::Updated,
        also: Vec::new(),
    }
}

/// Reads a bare value (no label): a `<meta>` content, a `datetime` attribute,
/// a JSON-LD `dateModified`, the text of the rules' `stamp` element. The
/// whole text must be the value, or start with it. The stamp's `text` and
/// `shown` are the value as written.
pub fn read_bare(value: &str, reading: &Reading) -> Option<Stamp> {
    let text = display(value);
    let v = read_value(&text, reading.order).ok()?;
    let shown = text[..v.len].trim().to_string();
    Some(build(v, shown.clone(), shown, reading))
}

/// True when a label at `start` of `text` sits where a stamp line would: at
/// the start of a line, after a separator, or written with a capital; and is
/// not a future date (`next update`, `next review`).
fn label_in_place(text: &str, start: usize) -> bool {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..start].trim_end();
    let lower = before.to_lowercase();
    if lower.ends_with("next") || lower.ends_with("due") || lower.ends_with("will be") {
        return false;
    }
    let capital = text[start..].chars().next().is_some_and(char::is_uppercase);
    let after_separator = before
        .chars()
        .last()
        .is_none_or(|c| !c.is_alphanumeric() && !matches!(c, ',' | '\'' | '\u{2019}'));
    capital || after_separator
}

/// Skips what may stand between a label and its value: spaces, `:`, a dash,
/// one line break. Returns the offset of the value.
fn skip_separator(rest: &str) -> usize {
    let mut seen_break = false;
    let mut seen_colon = false;
    for (i, c) in rest.char_indices() {
        match c {
            ' ' | '\t' => {}
            '\n' if !seen_break => seen_break = true,
            ':' | '-' | '\u{2013}' | '\u{2014}' if !seen_colon => seen_colon = true,
            _ => return i,
        }
    }
    rest.len()
}

/// The page's text as lines of [`display`]-normalised text, blank lines dropped.
fn lines(page_text: &str) -> String {
    page_text
        .lines()
        .map(display)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Scans a page's text (lines at element boundaries) for labelled stamps.
/// Each class keeps its first readable candidate; the first labelled,
/// date-like value no form reads is kept as `unreadable`.
pub fn scan(page_text: &str, reading: &Reading) -> Scan {
    let text = lines(page_text);
    let order = reading.for_page(&text).order;
    let mut out = Scan::default();
    for label in label_captures(&text) {
        if !label_in_place(&text, label.start) {
            continue;
        }
        let class = if label.updated {
            Class::Updated
        } else {
            Class::Published
        };
        let rest = &text[label.end..];
        let at = skip_separator(rest);
        let value = &rest[at..];
        match read_value(value, order) {
            Ok(v) => {
                let shown = value[..v.len].trim().to_string();
                let whole = display(&text[label.start..label.end + at + v.len]);
                let mut stamp = build(v, whole, shown, reading);
                match class {
                    Class::Updated if out.blocked => {}
                    Class::Updated => match &out.updated {
                        None => out.updated = Some(stamp),
                        Some(first) => {
                            let key = |s: &Stamp| comparable_label(&s.text, &s.shown);
                            let seen = std::iter::once(first)
                                .chain(&out.others)
                                .any(|s| key(s) == key(&stamp));
                            // Only a line that is nothing but stamps: `Updated:
                            // 1 May 2025 deadline for applications.` is content.
                            let line_start = text[..label.start].rfind('\n').map_or(0, |i| i + 1);
                            let line_end = text[label.start..]
                                .find('\n')
                                .map_or(text.len(), |i| label.start + i);
                            if !seen && is_stamp_line(&text[line_start..line_end]) {
                                out.others.push(stamp);
                            }
                        }
                    },
                    Class::Published => {
                        stamp.class = StampClass::Published;
                        out.published.get_or_insert(stamp);
                    }
                }
            }
            Err(e) => {
                let dateish = match e {
                    ValueError::Invalid => VALUE_RE.find(value).map(|m| m.end()),
                    ValueError::NotADate => unreadable_value(value),
                };
                let Some(n) = dateish else { continue };
                if class == Class::Updated && out.updated.is_none() {
                    out.blocked = true;
                }
                if out.unreadable.is_none() {
                    let end = label.end + at + n;
                    out.unreadable = Some(display(&text[label.start..end]));
                }
            }
        }
    }
    out
}

/// A stamp's label, lowercased, its value left out: two update stamps under
/// the same label are one stamp shown twice (a header and a footer copy).
fn comparable_label(text: &str, shown: &str) -> String {
    text.strip_suffix(shown)
        .unwrap_or(text)
        .trim_end_matches([' ', ':', '-'])
        .to_lowercase()
}

/// The numeric date order a page's own dates prove: month first when one of
/// its `n/n/yyyy` dates has a second number above 12 and none has a first
/// number above 12 (`03/13/2024` can only be 13 March); `None` when nothing
/// proves an order. Ambiguous dates on that page (`03/12/2024`) are then read
/// month first.
pub fn proven_order(page_text: &str) -> Option<DateOrder> {
    static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(\d{1,2})([/.\-])(\d{1,2})([/.\-])\d{4}\b")
            .expect("constant numeric-date regex compiles")
    });
    let (mut day_first, mut month_first) = (false, false);
    for c in NUMERIC.captures_iter(page_text) {
        if c.get(2).map(|m| m.as_str()) != c.get(4).map(|m| m.as_str()) {
            continue;
        }
        let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        match (num(1), num(3)) {
            (Some(a), Some(b)) if a > 12 && b <= 12 => day_first = true,
            (Some(a), Some(b)) if b > 12 && a <= 12 => month_first = true,
            _ => {}
        }
    }
    match (day_first, month_first) {
        (true, false) => Some(DateOrder::Dmy),
        (false, true) => Some(DateOrder::Mdy),
        _ => None,
    }
}

impl Reading {
    /// This reading for one page: when the rules leave the order at its
    /// default (day first) and the page's own numeric dates prove month
    /// first ([`proven_order`]), month first.
    pub fn for_page(&self, page_text: &str) -> Reading {
        let mut r = self.clone();
        if r.order == DateOrder::Dmy && proven_order(page_text) == Some(DateOrder::Mdy) {
            r.order = DateOrder::Mdy;
        }
        r
    }
}

/// The length of a labelled value that looks like a date but is not read
/// (`45.13.2020`, `28 Aug. 99999`, `Q3 2024`): a digit in its first words,
/// at most five words up to the line's end, every word of four letters or
/// more a month or weekday name (so `Revised 2019 Strategic Concept` and
/// `Updated 3 hours ago` are not stamps).
fn unreadable_value(value: &str) -> Option<usize> {
    let m = DATEISH_RE.find(value)?;
    let words: Vec<&str> = m.as_str().split_whitespace().collect();
    let datelike = words.iter().all(|w| {
        let letters: String = w.chars().filter(|c| c.is_alphabetic()).collect();
        letters.chars().count() < 4 || month_number(&letters).is_some() || is_weekday(&letters)
    });
    (words.len() <= 5 && datelike).then_some(m.end())
}

fn is_weekday(word: &str) -> bool {
    let w = word.to_lowercase();
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .any(|d| w.len() >= 3 && d.starts_with(w.as_str()))
}

/// True when a text carries an updated/revised/reviewed/modified label
/// that names a past date (not `Next update`): the context that makes a
/// `<time datetime>` the stamp.
pub fn has_updated_label(text: &str) -> bool {
    let text = display(text);
    may_hold_label(&text)
        && LABEL_RE.captures_iter(&text).any(|c| {
            c.name("updated").is_some_and(|m| {
                let before = text[..m.start()].to_lowercase();
                !before.trim_end().ends_with("next")
            })
        })
}

/// Parses one stamp line such as `Last updated: 28 Aug. 2024 11:27` with the
/// default reading (day-first numeric dates, UTC).
///
/// Text around the stamp (a bullet, trailing words) is ignored; the stamp's
/// `text` is the label and value, whitespace-normalised.
///
/// # Errors
/// [`StampError::NoLabel`] when no label is present, [`StampError::BadDate`] when
/// the value after it is not a valid date in one of the forms listed in the
/// module docs.
pub fn parse(line: &str) -> Result<Stamp, StampError> {
    parse_with(line, &Reading::default())
}

/// [`parse`] with a rules' reading (date order, zone).
///
/// # Errors
/// As [`parse`].
pub fn parse_with(line: &str, reading: &Reading) -> Result<Stamp, StampError> {
    let text = display(line);
    let found = scan(&text, reading);
    if let Some(s) = found.updated.or(found.published) {
        return Ok(s);
    }
    let any_label = may_hold_label(&text)
        && LABEL_RE
            .find_iter(&text)
            .any(|m| label_in_place(&text, m.start()));
    if any_label {
        Err(StampError::BadDate(text))
    } else {
        Err(StampError::NoLabel(text))
    }
}

/// Finds the stamp in a page's text: the first updated-labelled one, else the
/// first published-labelled one; `None` when there is none.
pub fn find(page_text: &str) -> Option<Stamp> {
    let s = scan(page_text, &Reading::default());
    s.updated.or(s.published)
}

/// A stamp-shaped line whose date cannot be read (`Last updated: 31 Feb. 2024
/// 11:27`, `Updated: 45.13.2020`), as it appears in the text; `None` when the
/// text has a readable stamp or nothing stamp-shaped.
pub fn find_unreadable(page_text: &str) -> Option<String> {
    let s = scan(page_text, &Reading::default());
    if s.updated.is_some() || s.published.is_some() {
        return None;
    }
    s.unreadable
}

/// True when a block's text is nothing but stamps (`Page last reviewed:
/// August 19, 2020`, `Published 3 May 2023 · Last updated 7 June 2024`,
/// an unreadable `Last updated: 31 Feb. 2024`): such a line is metadata,
/// never content. A stamp sentence inside prose is content.
pub fn is_stamp_line(text: &str) -> bool {
    if text.chars().count() > 200 {
        return false;
    }
    let text = display(text);
    if !may_hold_label(&text) {
        return false;
    }
    let mut rest = String::new();
    let mut last = 0;
    let mut any = false;
    for m in LABEL_RE.find_iter(&text) {
        if m.start() < last || !label_in_place(&text, m.start()) {
            continue;
        }
        let after = &text[m.end()..];
        let at = skip_separator(after);
        let value = &after[at..];
        let len = match read_value(value, DateOrder::Dmy) {
            Ok(v) => Some(v.len),
            Err(ValueError::Invalid) => VALUE_RE.find(value).map(|m| m.end()),
            Err(ValueError::NotADate) => unreadable_value(value),
        };
        let Some(len) = len else { continue };
        rest.push_str(&text[last..m.start()]);
        last = m.end() + at + len;
        any = true;
    }
    rest.push_str(&text[last..]);
    // `(Brussels time)` after a stamp names its zone; it is part of the stamp.
    static ZONE_WORDS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\([^()]{0,30}\btime\)").expect("constant zone-words regex compiles")
    });
    let rest = ZONE_WORDS.replace_all(&rest, "").to_lowercase();
    any && rest
        .split(|c: char| !c.is_alphanumeric())
        .all(|w| w.is_empty() || matches!(w, "and" | "by" | "et" | "und" | "y"))
}

/// True when a block is a stamp cut in two: `label` is only a stamp label
/// (`Page last reviewed`, `Last updated:`) and `value` only a date (a
/// `<dt>`/`<dd>` pair, a label and a date in two paragraphs).
pub fn is_split_stamp(label: &str, value: &str) -> bool {
    let label = display(label);
    let label = label.trim_end_matches([':', ' ']);
    // Most blocks hold no label: the value is then never normalised or read.
    // A block longer than any label is not one, whatever words it holds.
    let whole_label = label.len() <= MAX_LABEL_BYTES
        && may_hold_label(label)
        && LABEL_RE
            .find(label)
            .is_some_and(|m| m.start() == 0 && m.end() == label.len());
    if !whole_label {
        return false;
    }
    let value = display(value);
    match read_value(&value, DateOrder::Dmy) {
        Ok(v) => value[v.len..].trim().is_empty(),
        Err(_) => false,
    }
}

/// True when the stamp changed between two documents: present on one side only,
/// or naming a different moment, or one of the page's other update stamps
/// ([`Stamp::also`]) moved.
pub fn changed(old: Option<&Stamp>, new: Option<&Stamp>) -> bool {
    match (old, new) {
        (None, None) => false,
        (Some(a), Some(b)) => !a.same_dates(b),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brussels() -> Reading {
        Reading {
            order: DateOrder::Dmy,
            tz: Some(TimeZone::get("Europe/Brussels").unwrap()),
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// (page text, expected stamp text, date, time, shown)
    type Form = (
        &'static str,
        Option<&'static str>,
        &'static str,
        Option<&'static str>,
        &'static str,
    );

    #[test]
    fn reads_every_accepted_form_and_refuses_the_rest() {
        let cases: &[Form] = &[
            // nato.int
            (
                "Last updated: 28 Aug. 2024 11:27",
                Some("Last updated: 28 Aug. 2024 11:27"),
                "2024-08-28",
                Some("11:27:00"),
                "28 Aug. 2024 11:27",
            ),
            (
                "Last updated: 12 May. 2025 10:15",
                Some("Last updated: 12 May. 2025 10:15"),
                "2025-05-12",
                Some("10:15:00"),
                "12 May. 2025 10:15",
            ),
            (
                "Last updated 02-Mar-2012 15:38",
                Some("Last updated 02-Mar-2012 15:38"),
                "2012-03-02",
                Some("15:38:00"),
                "02-Mar-2012 15:38",
            ),
            (
                "Last update: 29-Mar-2006 18:54",
                Some("Last update: 29-Mar-2006 18:54"),
                "2006-03-29",
                Some("18:54:00"),
                "29-Mar-2006 18:54",
            ),
            (
                "Updated: 31-Mar-2006",
                Some("Updated: 31-Mar-2006"),
                "2006-03-31",
                None,
                "31-Mar-2006",
            ),
            (
                "  \u{2022} Last\u{a0}updated:\u{a0}28 Aug. 2024 11:27  ",
                Some("Last updated: 28 Aug. 2024 11:27"),
                "2024-08-28",
                Some("11:27:00"),
                "28 Aug. 2024 11:27",
            ),
            // CDC, US federal sites
            (
                "Updated on April 19, 2024",
                Some("Updated on April 19, 2024"),
                "2024-04-19",
                None,
                "April 19, 2024",
            ),
            (
                "Page last reviewed: August 19, 2020\nContent source: National Center",
                Some("Page last reviewed: August 19, 2020"),
                "2020-08-19",
                None,
                "August 19, 2020",
            ),
            (
                "Last Updated: Sept. 19th, 2020 3:45 pm",
                Some("Last Updated: Sept. 19th, 2020 3:45 pm"),
                "2020-09-19",
                Some("15:45:00"),
                "Sept. 19th, 2020 3:45 pm",
            ),
            // gov.uk
            (
                "Last updated 5 March 2024",
                Some("Last updated 5 March 2024"),
                "2024-03-05",
                None,
                "5 March 2024",
            ),
            (
                "Published 3 May 2023 \u{b7} Last updated 7 June 2024",
                Some("Last updated 7 June 2024"),
                "2024-06-07",
                None,
                "7 June 2024",
            ),
            (
                "Published 3 May 2023",
                Some("Published 3 May 2023"),
                "2023-05-03",
                None,
                "3 May 2023",
            ),
            // europa.eu, numeric dates: day first by default
            (
                "Date of last update: 12/03/2024",
                Some("Date of last update: 12/03/2024"),
                "2024-03-12",
                None,
                "12/03/2024",
            ),
            (
                "Last update: 12.03.2024",
                Some("Last update: 12.03.2024"),
                "2024-03-12",
                None,
                "12.03.2024",
            ),
            (
                "Updated: 19.08.2020",
                Some("Updated: 19.08.2020"),
                "2020-08-19",
                None,
                "19.08.2020",
            ),
            // ISO
            (
                "Last modified: 2020-08-19",
                Some("Last modified: 2020-08-19"),
                "2020-08-19",
                None,
                "2020-08-19",
            ),
            (
                "Last modified: 2024-04-19T10:00:00-04:00",
                Some("Last modified: 2024-04-19T10:00:00-04:00"),
                "2024-04-19",
                Some("10:00:00"),
                "2024-04-19T10:00:00-04:00",
            ),
            // weekday, ordinal, "at", zone abbreviation
            (
                "Last updated on Tuesday, 19th March 2024 at 14:05 CET",
                Some("Last updated on Tuesday, 19th March 2024 at 14:05 CET"),
                "2024-03-19",
                Some("14:05:00"),
                "Tuesday, 19th March 2024 at 14:05 CET",
            ),
            // label and value on two lines (<dt>/<dd>)
            (
                "Last reviewed\n3 March 2021\nNext review due\n3 March 2022",
                Some("Last reviewed 3 March 2021"),
                "2021-03-03",
                None,
                "3 March 2021",
            ),
            // French, German
            (
                "Dernière mise à jour : 3 mars 2021",
                Some("Dernière mise à jour : 3 mars 2021"),
                "2021-03-03",
                None,
                "3 mars 2021",
            ),
            (
                "Zuletzt aktualisiert am 12. März 2024",
                Some("Zuletzt aktualisiert am 12. März 2024"),
                "2024-03-12",
                None,
                "12. März 2024",
            ),
            // never stamps
            ("Next review due: 1 May 2025", None, "", None, ""),
            ("Next review due 1 May 2025", None, "", None, ""),
            ("Review date: 1 May 2025", None, "", None, ""),
            (
                "The guidance was updated on 5 March 2024 to add a section.",
                None,
                "",
                None,
                "",
            ),
            ("NATO was founded on 4 April 1949.", None, "", None, ""),
            (
                "No stamp here, updated regularly since 1992.",
                None,
                "",
                None,
                "",
            ),
            ("28 Aug. 2024 11:27", None, "", None, ""),
            ("", None, "", None, ""),
        ];
        for (input, text, date, time, shown) in cases {
            let got = find(input);
            assert_eq!(got.as_ref().map(|s| s.text.as_str()), *text, "{input:?}");
            let Some(s) = got else { continue };
            assert_eq!(s.date.to_string(), *date, "{input:?}");
            assert_eq!(s.time.map(|t| t.to_string()).as_deref(), *time, "{input:?}");
            assert_eq!(s.shown, *shown, "{input:?}");
            assert_eq!(s.display_value(), *shown, "{input:?}");
        }
    }

    #[test]
    fn an_updated_label_wins_over_published_and_next_review_is_never_read() {
        let cases: &[(&str, &str)] = &[
            (
                "Published: 3 May 2023\nsome text\nLast updated: 7 June 2024",
                "2024-06-07",
            ),
            (
                "Next review due: 1 May 2025\nPage last reviewed: 1 May 2024",
                "2024-05-01",
            ),
            (
                "Posted on May 2, 2024 | Updated on May 3, 2024",
                "2024-05-03",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                find(input).map(|s| s.date.to_string()).as_deref(),
                Some(*want),
                "{input:?}"
            );
        }
        let s = scan(
            "Published 3 May 2023 · Last updated 7 June 2024",
            &Reading::default(),
        );
        assert_eq!(
            s.published.map(|s| s.date.to_string()).as_deref(),
            Some("2023-05-03")
        );
    }

    #[test]
    fn stamps_keep_their_class_other_update_stamps_and_unreadable_first_lines() {
        // (page text, updated, published, others, blocked)
        type Case = (
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            &'static [&'static str],
            bool,
        );
        let cases: &[Case] = &[
            // CDC: the review date is recorded beside the update date
            (
                "Updated on April 19, 2024\ntext\nPage last reviewed: May 2, 2024",
                Some("2024-04-19"),
                None,
                &["2024-05-02"],
                false,
            ),
            // a sentence starting with a label is content, never another stamp
            (
                "Updated on April 19, 2024\nUpdated: 1 May 2025 deadline for applications.",
                Some("2024-04-19"),
                None,
                &[],
                false,
            ),
            // the same label twice (header and footer copy) is one stamp
            (
                "Last updated: 3 May 2024\ntext\nLast updated: 3 May 2024",
                Some("2024-05-03"),
                None,
                &[],
                false,
            ),
            // a published date only: no update stamp
            ("Published 3 May 2023", None, Some("2023-05-03"), &[], false),
            // an unreadable update line first: no other line stands in for it
            (
                "Last updated: 31 Feb. 2024\nPage last reviewed: August 19, 2020",
                None,
                None,
                &[],
                true,
            ),
            // an unreadable published line blocks nothing
            (
                "Published: 31 Feb. 2024\nLast updated: 3 May 2024",
                Some("2024-05-03"),
                None,
                &[],
                false,
            ),
        ];
        let day = |s: &Stamp| s.date.to_string();
        for &(input, updated, published, others, blocked) in cases {
            let s = scan(input, &Reading::default());
            assert_eq!(s.updated.as_ref().map(day).as_deref(), updated, "{input:?}");
            assert_eq!(
                s.published.as_ref().map(day).as_deref(),
                published,
                "{input:?}"
            );
            assert_eq!(s.others.iter().map(day).collect::<Vec<_>>(), others);
            assert_eq!(s.blocked, blocked, "{input:?}");
            if let Some(p) = &s.published {
                assert_eq!((p.class, p.label()), (StampClass::Published, "Published"));
            }
            if let Some(u) = &s.updated {
                assert_eq!((u.class, u.label()), (StampClass::Updated, "Last updated"));
            }
        }
    }

    #[test]
    fn other_update_stamps_that_moved_are_named_and_compared() {
        let with = |main: &str, review: &str| {
            let mut s = parse(main).unwrap();
            s.also = vec![parse(review).unwrap()];
            s
        };
        let old = with(
            "Updated on April 19, 2024",
            "Page last reviewed: August 19, 2020",
        );
        let moved = with(
            "Updated on April 19, 2024",
            "Page last reviewed: May 2, 2024",
        );
        let cases = [
            (&old, &old, true, vec![]),
            (
                &old,
                &moved,
                false,
                vec!["Page last reviewed: August 19, 2020 \u{2192} May 2, 2024".to_string()],
            ),
        ];
        for (o, n, same, words) in cases {
            assert_eq!(n.same_dates(o), same);
            assert_eq!(changed(Some(o), Some(n)), !same);
            assert!(n.same_moment(o));
            assert_eq!(n.also_moved(o), words);
        }
    }

    #[test]
    fn numeric_dates_follow_the_rules_order() {
        let cases = [
            (
                "Last update: 12/03/2024",
                DateOrder::Dmy,
                Some("2024-03-12"),
            ),
            (
                "Last update: 12/03/2024",
                DateOrder::Mdy,
                Some("2024-12-03"),
            ),
            (
                "Last update: 12/03/2024",
                DateOrder::Ymd,
                Some("2024-03-12"),
            ),
            // a first number above 12 can only be a day
            (
                "Last update: 19/08/2020",
                DateOrder::Mdy,
                Some("2020-08-19"),
            ),
            (
                "Last update: 2024/03/12",
                DateOrder::Mdy,
                Some("2024-03-12"),
            ),
            // mixed separators are no date
            ("Last update: 12/03.2024", DateOrder::Dmy, None),
            // a second number above 12 can only be a day, whatever the order
            (
                "Last updated: 03/13/2024",
                DateOrder::Dmy,
                Some("2024-03-13"),
            ),
            // the page proves month-first order: its ambiguous dates follow
            (
                "Last updated: 03/12/2024\nEvent on 03/13/2024",
                DateOrder::Dmy,
                Some("2024-03-12"),
            ),
            // the page proves day first: unchanged
            (
                "Last updated: 03/12/2024\nEvent on 13/03/2024",
                DateOrder::Dmy,
                Some("2024-12-03"),
            ),
            // dates that prove both orders prove nothing
            (
                "Last updated: 03/12/2024\n13/03/2024 and 03/14/2024",
                DateOrder::Dmy,
                Some("2024-12-03"),
            ),
        ];
        for (input, order, want) in cases {
            let reading = Reading { order, tz: None };
            let s = scan(input, &reading);
            assert_eq!(
                s.updated.map(|s| s.date.to_string()).as_deref(),
                want,
                "{input:?} {order:?}"
            );
        }
    }

    #[test]
    fn zone_is_written_else_rules_else_utc() {
        let cases: &[(&str, &Reading, &str, &str)] = &[
            // Brussels from the rules; DST followed
            (
                "Last updated: 28 Aug. 2024 11:27",
                &brussels(),
                "2024-08-28T09:27:00Z",
                "Europe/Brussels",
            ),
            (
                "Last updated: 14 Jan. 2025 11:27",
                &brussels(),
                "2025-01-14T10:27:00Z",
                "Europe/Brussels",
            ),
            // inside the spring gap: moved forward to 03:30 CEST
            (
                "Last updated: 31 Mar. 2024 02:30",
                &brussels(),
                "2024-03-31T01:30:00Z",
                "Europe/Brussels",
            ),
            // autumn overlap: the earlier (CEST) instant
            (
                "Last updated: 27 Oct. 2024 02:30",
                &brussels(),
                "2024-10-27T00:30:00Z",
                "Europe/Brussels",
            ),
            // no rules zone: UTC
            (
                "Last updated: 28 Aug. 2024 11:27",
                &Reading::default(),
                "2024-08-28T11:27:00Z",
                "UTC",
            ),
            // a written zone wins over the rules
            (
                "Updated: 2024-04-19T10:00:00-04:00",
                &brussels(),
                "2024-04-19T14:00:00Z",
                "UTC-04:00",
            ),
            (
                "Updated 19 March 2024 at 14:05 CET",
                &Reading::default(),
                "2024-03-19T13:05:00Z",
                "UTC+01:00",
            ),
            (
                "Last Updated: March 19, 2024 9:30 a.m. ET",
                &Reading::default(),
                "2024-03-19T13:30:00Z",
                "America/New_York",
            ),
            (
                "Updated 2024-03-19T09:30Z",
                &brussels(),
                "2024-03-19T09:30:00Z",
                "UTC",
            ),
        ];
        for (input, reading, instant, zone) in cases {
            let s = parse_with(input, reading).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(s.instant, Some(ts(instant)), "{input:?}");
            assert_eq!(s.zone, *zone, "{input:?}");
        }
        let words: &[(&str, &str)] = &[
            ("Europe/Brussels", "Brussels time"),
            ("America/New_York", "New York time"),
            ("UTC", "UTC"),
            ("UTC-04:00", "UTC-04:00"),
        ];
        for (zone, want) in words {
            assert_eq!(zone_words(zone), *want);
        }
    }

    #[test]
    fn bare_values_from_meta_and_attributes() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            (
                "2024-04-19T10:00:00-04:00",
                Some("2024-04-19"),
                Some("10:00:00"),
            ),
            ("2024-04-19", Some("2024-04-19"), None),
            (
                "2024-04-19T10:00:00.123Z",
                Some("2024-04-19"),
                Some("10:00:00"),
            ),
            (
                "Fri, 19 Apr 2024 10:00:00 GMT",
                Some("2024-04-19"),
                Some("10:00:00"),
            ),
            ("19 April 2024", Some("2024-04-19"), None),
            ("soon", None, None),
            ("2024-02-30", None, None),
        ];
        for (input, date, time) in cases {
            let s = read_bare(input, &Reading::default());
            assert_eq!(
                s.as_ref().map(|s| s.date.to_string()).as_deref(),
                *date,
                "{input:?}"
            );
            assert_eq!(
                s.and_then(|s| s.time).map(|t| t.to_string()).as_deref(),
                *time,
                "{input:?}"
            );
        }
    }

    #[test]
    fn unreadable_stamps_are_kept_as_text_and_never_misread() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "Last updated: 31 Feb. 2024 11:27 Belarus",
                Some("Last updated: 31 Feb. 2024 11:27"),
            ),
            (
                "Last updated: 28 Aug. 2024 29:99",
                Some("Last updated: 28 Aug. 2024 29:99"),
            ),
            (
                "Last updated: 28 Aug. 99999 11:27",
                Some("Last updated: 28 Aug. 99999 11:27"),
            ),
            ("Updated: 45.13.2020", Some("Updated: 45.13.2020")),
            ("Last modified: Q3 2024", Some("Last modified: Q3 2024")),
            (
                "Page last reviewed: 2020-08-32",
                Some("Page last reviewed: 2020-08-32"),
            ),
            ("Last updated: 28 Aug. 2024 11:27", None),
            ("Updated 3 hours ago", None),
            ("no stamp at all", None),
        ];
        for (text, want) in cases {
            assert_eq!(find_unreadable(text).as_deref(), *want, "{text:?}");
        }
        assert_eq!(find("Last updated: 28 Aug. 99999 11:27"), None);
    }

    #[test]
    fn parse_errors_tell_no_label_from_bad_date() {
        let cases = [
            ("", StampError::NoLabel(String::new())),
            (
                "Relations with Belarus",
                StampError::NoLabel("Relations with Belarus".into()),
            ),
            (
                "28 Aug. 2024 11:27",
                StampError::NoLabel("28 Aug. 2024 11:27".into()),
            ),
            (
                "Last updated: 31 Feb. 2024",
                StampError::BadDate("Last updated: 31 Feb. 2024".into()),
            ),
            (
                "Last updated: 29 Feb. 2023",
                StampError::BadDate("Last updated: 29 Feb. 2023".into()),
            ),
            (
                "Last updated: 28 Foo. 2024",
                StampError::BadDate("Last updated: 28 Foo. 2024".into()),
            ),
            (
                "Last updated: yesterday",
                StampError::BadDate("Last updated: yesterday".into()),
            ),
            (
                "Last updated: 28 Aug. 2024 25:61",
                StampError::BadDate("Last updated: 28 Aug. 2024 25:61".into()),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input), Err(want), "{input:?}");
        }
    }

    #[test]
    fn stamp_lines_are_told_from_prose() {
        let cases = [
            ("Last updated: 28 Aug. 2024 11:27", true),
            ("Page last reviewed: August 19, 2020", true),
            ("Updated on April 19, 2024", true),
            ("Published 3 May 2023 \u{b7} Last updated 7 June 2024", true),
            ("Published 3 May 2023", true),
            ("Last updated: 31 Feb. 2024", true),
            ("Last updated: 28 Aug. 2024 11:27 (Brussels time)", true),
            ("Date of last update: 12/03/2024", true),
            (
                "The guidance was last updated on 5 March 2024 to add a section.",
                false,
            ),
            (
                "Last updated 5 March 2024, the guidance now covers vaccines.",
                false,
            ),
            ("Relations with Belarus", false),
            ("Next review due: 1 May 2025", false),
        ];
        for (text, want) in cases {
            assert_eq!(is_stamp_line(text), want, "{text:?}");
        }
    }

    #[test]
    fn display_value_falls_back_to_nato_form_for_stored_stamps() {
        let json =
            r#"{"text":"Last updated 02-Mar-2012 15:38","date":"2012-03-02","time":"15:38:00"}"#;
        let s: Stamp = serde_json::from_str(json).unwrap();
        assert_eq!(s.display_value(), "02 Mar. 2012 15:38");
        assert_eq!(s.zone, "Europe/Brussels");
        assert_eq!(s.source, StampSource::Text);
    }

    #[test]
    fn same_moment_and_changed() {
        let a = parse("Last updated: 28 Aug. 2024 11:27").unwrap();
        let a2 = parse("Last updated 28-Aug-2024 11:27").unwrap();
        let b = parse("Last updated: 14 Nov. 2024 09:05").unwrap();
        let cases = [
            (None, None, false),
            (Some(&a), Some(&a2), false),
            (Some(&a), Some(&b), true),
            (Some(&a), None, true),
            (None, Some(&b), true),
        ];
        for (old, new, want) in cases {
            assert_eq!(changed(old, new), want, "{old:?} {new:?}");
        }
    }

    #[test]
    fn every_label_holds_a_prefilter_word() {
        // One spelling of every alternative of the label regex, each read as
        // a whole label: the prefilter must let each through.
        let labels = [
            "Date of last update",
            "date of the last modification",
            "Date of last revision",
            "Date of last review",
            "This page was last updated on",
            "content last modified",
            "Article last reviewed",
            "site last revised",
            "Document was last changed",
            "Last updated on",
            "last modified date",
            "Last reviewed",
            "Last revised",
            "LAST CHANGED",
            "Last edited",
            "Last update date",
            "last modification",
            "Last revision",
            "Last review",
            "Page updated",
            "Content modified at",
            "Reviewed",
            "Revised on",
            "Dernière mise à jour",
            "DERNIERE MODIFICATION",
            "Dernière révision",
            "Mis à jour le",
            "mis a jour",
            "MIS À JOUR",
            "Zuletzt aktualisiert am",
            "zuletzt geändert",
            "Letzte Änderung",
            "letzte Aktualisierung",
            "Aktualisiert am",
            "Stand",
            "Última actualización",
            "ÚLTIMA MODIFICACIÓN",
            "Actualizado el",
            "Date of publication",
            "date publication",
            "Publication date",
            "Release date",
            "Date published",
            "First published on",
            "Published",
            "Posted on",
            "Issued on",
            "Publié le",
            "PUBLIÉ LE",
            "Veröffentlicht am",
            "Publicado el",
            // Case folding onto ASCII letters from outside it.
            "\u{17F}tand",
            "Po\u{17F}ted",
            "\u{212A}",
        ];
        for label in labels {
            assert!(label.len() <= MAX_LABEL_BYTES, "{label}");
            if label != "\u{212A}" {
                let m = LABEL_RE.find(label).expect(label);
                assert_eq!((m.start(), m.end()), (0, label.len()), "{label}");
            }
            assert!(may_hold_label(label), "{label}");
        }
        assert!(!may_hold_label("Home > Topics > Belarus"));
        // Common words that only share a stem with a label are not searched.
        for prose in [
            "The public consultation on the Republic's previous journal",
            "A press release about the public journey",
        ] {
            assert!(!may_hold_label(prose), "{prose}");
        }
    }

    #[test]
    fn label_search_by_line_finds_what_the_whole_text_search_finds() {
        let cases = [
            "",
            "Last updated: 28 Aug. 2024 11:27",
            "Home\nNews | Last update: 29-Mar-2006 18:54\nText\nUpdated 3 May",
            "Published 3 May 2023 · Last updated 7 June 2024\nprose that was updated",
            "no label here\nnor here\n",
            "\nupdated\n\nUPDATED\nx updatedy Updated\nStand: 1.2.2024",
            "Überarbeitet\nZuletzt geändert am 3. März 2024\nÚltima actualización",
            "Po\u{17F}ted on 3 May 2024\n\u{17F}tand 2024",
            "Revised\u{2019}s revision\nreviewed reviewed reviewed",
        ];
        for text in cases {
            assert_eq!(label_captures(text), whole_text_labels(text), "{text:?}");
        }
    }

    /// [`LABEL_RE`]'s matches over the whole text, as [`label_captures`]
    /// must find them.
    fn whole_text_labels(text: &str) -> Vec<Label> {
        LABEL_RE
            .captures_iter(text)
            .map(|c| {
                let m = c.get(0).expect("group 0");
                Label {
                    start: m.start(),
                    end: m.end(),
                    updated: c.name("updated").is_some(),
                }
            })
            .collect()
    }

    proptest::proptest! {
        /// The windows find what the whole-text search finds on text dense
        /// with labels, label words, overlapping words, long lines of prose,
        /// non-ASCII letters and line breaks.
        #[test]
        fn label_windows_find_what_the_whole_text_search_finds(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "last updated", "Last Updated on", "updated", "update", "revised", "review",
                "reviewed", "modified", "page was last modified on", "published on",
                "first published", "posted", "issued", "stand", "Stand:", "mis \u{E0} jour le",
                "derni\u{E8}re mise \u{E0} jour", "zuletzt ge\u{E4}ndert am", "\u{DA}ltima actualizaci\u{F3}n",
                "publi\u{E9} le", "ver\u{F6}ffentlicht", "release date", "date of last review",
                "x", "y\u{E9}", "\u{2019}", " ", "  ", "\n", ": ", "3 May 2024", "2024-05-03",
                "updatedness", "unrevised", "\u{17F}tand", "\u{212A}",
                "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor \
                 incididunt ut labore et dolore magna aliqua ut enim ad minim veniam quis \
                 nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat",
            ]), 0..40)
        ) {
            let text: String = parts.concat();
            proptest::prop_assert_eq!(label_captures(&text), whole_text_labels(&text));
        }
    }
}
