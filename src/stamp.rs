//! The page's own "Last updated" line: detection anywhere in a page's text and
//! parsing into a [`Stamp`] (our own parser; no general date crate reads these).
//!
//! Formats seen on nato.int over the years (times are Europe/Brussels local time):
//! - `Last updated: 28 Aug. 2024 11:27` (month abbreviation always ends in a dot, even `May.`)
//! - `Last updated 02-Mar-2012 15:38`
//! - `Last update: 29-Mar-2006 18:54`
//! - `Updated: 31-Mar-2006` (date only: stays a date, no instant)

use jiff::civil::{Date, Time};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

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
    /// (or `28 Aug. 2024` when date-only).
    pub fn display_value(&self) -> String {
        todo_stamp_display(self)
    }
}

fn todo_stamp_display(s: &Stamp) -> String {
    s.text.clone()
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

/// Parses one stamp line such as `Last updated: 28 Aug. 2024 11:27`.
///
/// # Errors
/// [`StampError`] when the label is missing or the date/time is not a valid
/// calendar date in one of the formats listed in the module docs.
pub fn parse(line: &str) -> Result<Stamp, StampError> {
    Err(StampError::NoLabel(line.to_string()))
}

/// Finds the first stamp in a page's text (the stamp sits outside the content
/// root, so pass the whole page's text). `None` when there is none.
pub fn find(page_text: &str) -> Option<Stamp> {
    let _ = page_text;
    None
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
