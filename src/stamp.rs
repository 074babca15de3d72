//! The page's own "Last updated" line: detection anywhere in a page's text and
//! parsing into a [`Stamp`] (our own parser; no general date crate reads these).
//!
//! Formats seen on nato.int over the years (times are Europe/Brussels local time):
//! - `Last updated: 28 Aug. 2024 11:27` (month abbreviation always ends in a dot, even `May.`)
//! - `Last updated 02-Mar-2012 15:38`
//! - `Last update: 29-Mar-2006 18:54`
//! - `Updated: 31-Mar-2006` (date only: stays a date, no instant)
//!
//! Defensively, full month names (`28 August 2024`), a missing dot, any letter
//! case, NBSP and runs of whitespace are accepted too.

use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::{Disambiguation, TimeZone};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::normalize::display;

/// A parsed stamp. Two stamps are the same when their `date` and `time` are equal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// The stamp as served, whitespace-normalised (e.g. `Last updated: 28 Aug. 2024 11:27`).
    pub text: String,
    /// The calendar date the stamp names.
    pub date: Date,
    /// The Brussels wall-clock time, when the stamp has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    /// The instant (UTC) the stamp names, when it has a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instant: Option<Timestamp>,
}

impl Stamp {
    /// True when both name the same date and time (the text may differ).
    pub fn same_moment(&self, other: &Stamp) -> bool {
        self.date == other.date && self.time == other.time
    }

    /// The stamp's date and time as a reader sees it: `28 Aug. 2024 11:27`
    /// (or `28 Aug. 2024` when date-only). Always in this canonical nato.int
    /// form, whatever spelling the page used (`02-Mar-2012` shows as `02 Mar. 2012`).
    pub fn display_value(&self) -> String {
        let month = MONTHS[usize::from(self.date.month().unsigned_abs()) - 1].0;
        let mut out = format!("{:02} {}. {}", self.date.day(), month, self.date.year());
        if let Some(t) = self.time {
            out.push_str(&format!(" {:02}:{:02}", t.hour(), t.minute()));
        }
        out
    }
}

/// Why a string is not a stamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StampError {
    /// No "Last updated" / "Last update" / "Updated" label was found.
    #[error("no `Last updated` label in {0:?}")]
    NoLabel(String),
    /// A label was found but the date after it could not be read.
    #[error("unreadable stamp date in {0:?}")]
    BadDate(String),
}

/// Month abbreviations (as nato.int writes them, before the dot) and full names.
const MONTHS: [(&str, &str); 12] = [
    ("Jan", "january"),
    ("Feb", "february"),
    ("Mar", "march"),
    ("Apr", "april"),
    ("May", "may"),
    ("Jun", "june"),
    ("Jul", "july"),
    ("Aug", "august"),
    ("Sep", "september"),
    ("Oct", "october"),
    ("Nov", "november"),
    ("Dec", "december"),
];

/// The label, then a date as `DD Mon[.] YYYY` or `DD-Mon-YYYY`, then an optional
/// `HH:MM`. Matched on [`display`]-normalised text, so spaces are single ASCII spaces.
/// `None` only if the pattern were invalid, which the tests rule out.
static STAMP_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)
        \b(?P<label>last\ updated?|updated)\b\ ?:?\ ?
        (?P<date>
            (?P<d1>\d{1,2})\ (?P<m1>[a-z]{3,9})\.?\ (?P<y1>\d{4})\b
          | (?P<d2>\d{1,2})-(?P<m2>[a-z]{3,9})\.?-(?P<y2>\d{4})\b
        )
        (?:,?\ (?P<hh>\d{1,2}):(?P<mm>\d{2})\b)?",
    )
    .ok()
});

/// Just the label, to tell "no label" from "bad date" in [`parse`].
static LABEL_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:last updated?|updated)\b").ok());

fn month_number(name: &str) -> Option<i8> {
    let lower = name.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|(abbr, full)| {
            lower == abbr.to_ascii_lowercase()
                || lower == *full
                || (lower == "sept" && *abbr == "Sep")
        })
        .and_then(|i| i8::try_from(i + 1).ok())
}

/// Builds a stamp from one regex match; `None` when the fields name no real
/// date or time (31 Feb, 25:00).
fn from_captures(caps: &regex::Captures<'_>) -> Option<Stamp> {
    let whole = caps.get(0)?.as_str();
    let (d, m, y) = match (caps.name("d1"), caps.name("d2")) {
        (Some(d), _) => (d, caps.name("m1")?, caps.name("y1")?),
        (None, Some(d)) => (d, caps.name("m2")?, caps.name("y2")?),
        (None, None) => return None,
    };
    let day: i8 = d.as_str().parse().ok()?;
    let month = month_number(m.as_str())?;
    let year: i16 = y.as_str().parse().ok()?;
    let date = Date::new(year, month, day).ok()?;
    let time = match (caps.name("hh"), caps.name("mm")) {
        (Some(h), Some(mi)) => {
            Some(Time::new(h.as_str().parse().ok()?, mi.as_str().parse().ok()?, 0, 0).ok()?)
        }
        _ => None,
    };
    let instant = match time {
        Some(t) => Some(brussels_instant(date.to_datetime(t))?),
        None => None,
    };
    Some(Stamp {
        text: whole.trim().to_string(),
        date,
        time,
        instant,
    })
}

/// The UTC instant of a Brussels wall-clock time. In the autumn overlap the
/// earlier instant is taken; a time in the spring gap is moved forward (jiff's
/// `Compatible` rule).
fn brussels_instant(dt: jiff::civil::DateTime) -> Option<Timestamp> {
    let tz = TimeZone::get("Europe/Brussels").ok()?;
    tz.to_ambiguous_zoned(dt)
        .disambiguate(Disambiguation::Compatible)
        .ok()
        .map(|z| z.timestamp())
}

/// Parses one stamp line such as `Last updated: 28 Aug. 2024 11:27`.
///
/// Text around the stamp (a bullet, trailing words) is ignored; the stamp's
/// `text` is the matched part, whitespace-normalised.
///
/// # Errors
/// [`StampError::NoLabel`] when no label is present, [`StampError::BadDate`] when
/// the date/time after it is not a valid calendar date in one of the formats
/// listed in the module docs.
pub fn parse(line: &str) -> Result<Stamp, StampError> {
    let text = display(line);
    if let Some(caps) = STAMP_RE.as_ref().and_then(|re| re.captures(&text)) {
        return from_captures(&caps).ok_or(StampError::BadDate(text));
    }
    if LABEL_RE.as_ref().is_some_and(|re| re.is_match(&text)) {
        Err(StampError::BadDate(text))
    } else {
        Err(StampError::NoLabel(text))
    }
}

/// Finds the first valid stamp in a page's text (the stamp sits outside the
/// content root, so pass the whole page's text). NBSP and whitespace runs are
/// tolerated. `None` when there is none.
pub fn find(page_text: &str) -> Option<Stamp> {
    let text = display(page_text);
    STAMP_RE
        .as_ref()?
        .captures_iter(&text)
        .find_map(|caps| from_captures(&caps))
}

/// A stamp-shaped line whose date cannot be read (`Last updated: 31 Feb. 2024
/// 11:27`, a five-digit year, `29:99`), as it appears in the text; `None` when
/// the text has a valid stamp or nothing stamp-shaped. Lets the extract stage
/// keep the original text instead of silently reporting no stamp.
pub fn find_unreadable(page_text: &str) -> Option<String> {
    static LOOSE: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(
            r"(?xi)
            \b(?:last\ updated?|updated)\b\ ?:?\ ?
            \d{1,5}[\ -][a-z]{3,9}\.?[\ -]\d{1,7}
            (?:,?\ \d{1,3}:\d{1,3})?",
        )
        .ok()
    });
    let text = display(page_text);
    if find(&text).is_some() {
        return None;
    }
    LOOSE
        .as_ref()?
        .find(&text)
        .map(|m| m.as_str().trim().to_string())
}

/// True when the stamp changed between two documents: present on one side only,
/// or naming a different moment.
pub fn changed(old: Option<&Stamp>, new: Option<&Stamp>) -> bool {
    match (old, new) {
        (None, None) => false,
        (Some(a), Some(b)) => !a.same_moment(b),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, text kept, date, time, instant)
    type Case = (
        &'static str,
        &'static str,
        Date,
        Option<Time>,
        Option<&'static str>,
    );

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
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
            ("Last updated: 28 Aug. 2024 11:27", None),
            ("no stamp at all", None),
        ];
        for (text, want) in cases {
            assert_eq!(find_unreadable(text).as_deref(), *want, "{text:?}");
        }
        // A five-digit year is not read as its first four digits.
        assert_eq!(find("Last updated: 28 Aug. 99999 11:27"), None);
    }

    #[test]
    fn parses_every_known_format() {
        let cases: [Case; 9] = [
            (
                "Last updated: 28 Aug. 2024 11:27",
                "Last updated: 28 Aug. 2024 11:27",
                jiff::civil::date(2024, 8, 28),
                Some(jiff::civil::time(11, 27, 0, 0)),
                Some("2024-08-28T09:27:00Z"),
            ),
            (
                "Last updated: 12 May. 2025 10:15",
                "Last updated: 12 May. 2025 10:15",
                jiff::civil::date(2025, 5, 12),
                Some(jiff::civil::time(10, 15, 0, 0)),
                Some("2025-05-12T08:15:00Z"),
            ),
            (
                "Last updated 02-Mar-2012 15:38",
                "Last updated 02-Mar-2012 15:38",
                jiff::civil::date(2012, 3, 2),
                Some(jiff::civil::time(15, 38, 0, 0)),
                Some("2012-03-02T14:38:00Z"),
            ),
            (
                "Last update: 29-Mar-2006 18:54",
                "Last update: 29-Mar-2006 18:54",
                jiff::civil::date(2006, 3, 29),
                Some(jiff::civil::time(18, 54, 0, 0)),
                Some("2006-03-29T16:54:00Z"),
            ),
            (
                "Updated: 31-Mar-2006",
                "Updated: 31-Mar-2006",
                jiff::civil::date(2006, 3, 31),
                None,
                None,
            ),
            (
                "  \u{2022} Last\u{a0}updated:\u{a0}28 Aug. 2024\n 11:27  ",
                "Last updated: 28 Aug. 2024 11:27",
                jiff::civil::date(2024, 8, 28),
                Some(jiff::civil::time(11, 27, 0, 0)),
                Some("2024-08-28T09:27:00Z"),
            ),
            (
                "last updated: 3 December 2024 09:05",
                "last updated: 3 December 2024 09:05",
                jiff::civil::date(2024, 12, 3),
                Some(jiff::civil::time(9, 5, 0, 0)),
                Some("2024-12-03T08:05:00Z"),
            ),
            (
                "Last updated: 14 Nov 2024 09:05",
                "Last updated: 14 Nov 2024 09:05",
                jiff::civil::date(2024, 11, 14),
                Some(jiff::civil::time(9, 5, 0, 0)),
                Some("2024-11-14T08:05:00Z"),
            ),
            (
                "Last updated: 29 Feb. 2024",
                "Last updated: 29 Feb. 2024",
                jiff::civil::date(2024, 2, 29),
                None,
                None,
            ),
        ];
        for (input, text, date, time, instant) in cases {
            let s = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(s.text, text, "{input:?}");
            assert_eq!(s.date, date, "{input:?}");
            assert_eq!(s.time, time, "{input:?}");
            assert_eq!(s.instant, instant.map(ts), "{input:?}");
        }
    }

    #[test]
    fn brussels_offsets_follow_dst() {
        let cases = [
            // summer: UTC+2
            ("Last updated: 28 Aug. 2024 11:27", "2024-08-28T09:27:00Z"),
            // winter: UTC+1
            ("Last updated: 14 Jan. 2025 11:27", "2025-01-14T10:27:00Z"),
            // the day after the spring change (31 Mar 2024): UTC+2
            ("Last updated: 01 Apr. 2024 00:30", "2024-03-31T22:30:00Z"),
            // the day before: UTC+1
            ("Last updated: 30 Mar. 2024 23:30", "2024-03-30T22:30:00Z"),
            // inside the spring gap: moved forward to 03:30 CEST
            ("Last updated: 31 Mar. 2024 02:30", "2024-03-31T01:30:00Z"),
            // autumn overlap: the earlier (CEST) instant
            ("Last updated: 27 Oct. 2024 02:30", "2024-10-27T00:30:00Z"),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input).unwrap().instant, Some(ts(want)), "{input:?}");
        }
    }

    #[test]
    fn rejects_garbage() {
        let cases = [
            ("", StampError::NoLabel(String::new())),
            ("   \u{a0} ", StampError::NoLabel(String::new())),
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
            ("Last updated:", StampError::BadDate("Last updated:".into())),
            (
                "Updated: 32-Mar-2006",
                StampError::BadDate("Updated: 32-Mar-2006".into()),
            ),
            (
                "Last updated: 2024-08-28",
                StampError::BadDate("Last updated: 2024-08-28".into()),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input), Err(want), "{input:?}");
        }
    }

    #[test]
    fn bad_time_is_a_bad_date() {
        assert_eq!(
            parse("Last updated: 28 Aug. 2024 25:61"),
            Err(StampError::BadDate(
                "Last updated: 28 Aug. 2024 25:61".into()
            ))
        );
    }

    #[test]
    fn finds_the_stamp_in_page_text() {
        let cases: [(&str, Option<&str>); 6] = [
            (
                "Relations with Belarus\n\n  \u{2022} Last updated: 28 Aug. 2024 11:27\n\nNATO worked",
                Some("Last updated: 28 Aug. 2024 11:27"),
            ),
            (
                "Home > Topics\u{a0}Last\u{a0}update:\u{a0}29-Mar-2006\u{a0}18:54 more",
                Some("Last update: 29-Mar-2006 18:54"),
            ),
            // the first valid stamp wins; an invalid one before it is skipped
            (
                "Updated: 31-Feb-2006 ... Updated: 31-Mar-2006",
                Some("Updated: 31-Mar-2006"),
            ),
            ("No stamp here, updated regularly since 1992.", None),
            ("", None),
            ("The page was updated in 2024.", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                find(input).map(|s| s.text),
                want.map(String::from),
                "{input:?}"
            );
        }
    }

    #[test]
    fn display_value_is_canonical() {
        let cases = [
            ("Last updated: 28 Aug. 2024 11:27", "28 Aug. 2024 11:27"),
            ("Last updated: 12 May. 2025 10:15", "12 May. 2025 10:15"),
            ("Last updated 02-Mar-2012 15:38", "02 Mar. 2012 15:38"),
            ("Updated: 31-Mar-2006", "31 Mar. 2006"),
            ("last updated: 3 September 2024 9:05", "03 Sep. 2024 09:05"),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input).unwrap().display_value(), want, "{input:?}");
        }
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
}
