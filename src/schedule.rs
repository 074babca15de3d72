//! When targets are due: each target's [`Schedule`] (`every = "6h"` or a cron
//! expression in a time zone) plus jitter, as pure functions of the last check
//! time and the current time, and when a fetch must skip the conditional-GET
//! validators.
//!
//! Nothing here reads a clock: `now` and the last check's start come in as
//! arguments, so `check --due`, the `watch` daemon and the tests agree exactly.
//!
//! - A target without a schedule is always due (`check --due` from cron then
//!   checks it on every cron run).
//! - A target never checked is due.
//! - Otherwise it is due once `now >= next_after(last check start) + jitter`,
//!   where the jitter is a pseudo-random delay in `0..jitter`, stable for one
//!   target and one due instant (a SHA-256 of both), so separate processes
//!   (`check --due` from cron, the daemon) compute the same due time.

use std::str::FromStr;
use std::time::Duration;

use croner::Cron;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

/// How often a target is checked.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// A fixed interval after the last check.
    Every(Duration),
    /// The times a cron expression (POSIX/Vixie, five or six fields, parsed by
    /// croner) matches in a time zone.
    Cron {
        /// The expression as written.
        expr: String,
        /// The parsed expression.
        cron: Box<Cron>,
        /// The IANA time zone name (e.g. `Europe/Brussels`).
        tz_name: String,
        /// The time zone.
        tz: TimeZone,
    },
}

impl Schedule {
    /// Parses a cron expression in a time zone (IANA name, e.g. `Europe/Brussels`;
    /// `UTC` when `None`).
    ///
    /// # Errors
    /// A message when the expression or the time zone is not valid.
    pub fn cron(expr: &str, tz: Option<&str>) -> Result<Schedule, String> {
        let cron =
            Cron::from_str(expr).map_err(|e| format!("bad cron expression `{expr}`: {e}"))?;
        let tz_name = tz.unwrap_or("UTC").to_string();
        let zone =
            TimeZone::get(&tz_name).map_err(|e| format!("bad time zone `{tz_name}`: {e}"))?;
        Ok(Schedule::Cron {
            expr: expr.to_string(),
            cron: Box::new(cron),
            tz_name,
            tz: zone,
        })
    }

    /// A short description: `every 6h` or `cron 0 9-17 * * MON-FRI (Europe/Brussels)`.
    pub fn describe(&self) -> String {
        match self {
            Schedule::Every(d) => format!(
                "every {}",
                jiff::SignedDuration::try_from(*d)
                    .map_or_else(|_| format!("{}s", d.as_secs()), |s| format!("{s:#}"))
            ),
            Schedule::Cron { expr, tz_name, .. } => format!("cron {expr} ({tz_name})"),
        }
    }

    /// The first time strictly after `after` that this schedule names.
    /// `None` when a cron expression never matches again.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        match self {
            Schedule::Every(d) => after
                .checked_add(jiff::SignedDuration::try_from(*d).ok()?)
                .ok(),
            Schedule::Cron { cron, tz, .. } => {
                let zoned = after.to_zoned(tz.clone());
                cron.find_next_occurrence(&zoned, false)
                    .ok()
                    .map(|z| z.timestamp())
            }
        }
    }
}

/// A target's schedule with its jitter.
#[derive(Debug, Clone)]
pub struct TargetSchedule {
    /// When checks are due.
    pub schedule: Schedule,
    /// Each due time is delayed by a pseudo-random amount in `0..jitter`,
    /// stable per target and due time, so many targets do not fire at once.
    pub jitter: Duration,
}

impl TargetSchedule {
    /// The jitter added to the due instant `due` of target `target`: a
    /// pseudo-random duration in `0..self.jitter` (nanosecond resolution), the
    /// same for the same target id and due instant in every process. Zero when
    /// no jitter is configured.
    pub fn jitter_for(&self, target: &str, due: Timestamp) -> Duration {
        jitter_for(target, due, self.jitter)
    }

    /// When a target last checked at `last` (the check's start) is next due:
    /// the schedule's next instant after `last`, plus the target's jitter.
    /// `None` when the schedule never fires again (a cron expression with no
    /// future match).
    pub fn next_due(&self, target: &str, last: Timestamp) -> Option<Timestamp> {
        let at = self.schedule.next_after(last)?;
        let jitter = SignedDuration::try_from(self.jitter_for(target, at)).ok()?;
        at.checked_add(jitter).ok()
    }
}

/// Whether a target is due at `now`.
///
/// `schedule` is the target's schedule (`None`: always due), `last` the start
/// of its latest check of any outcome (`None`: never checked, so due).
pub fn is_due(
    schedule: Option<&TargetSchedule>,
    target: &str,
    last: Option<Timestamp>,
    now: Timestamp,
) -> bool {
    match (schedule, last) {
        (None, _) | (_, None) => true,
        (Some(s), Some(last)) => s.next_due(target, last).is_some_and(|due| now >= due),
    }
}

/// A pseudo-random duration in `0..jitter`, stable per `target` and `due`:
/// the first eight bytes of SHA-256(`target`, 0x00, `due` as UTC nanoseconds,
/// big-endian), modulo the jitter in nanoseconds.
pub fn jitter_for(target: &str, due: Timestamp, jitter: Duration) -> Duration {
    let span = jitter.as_nanos();
    if span == 0 {
        return Duration::ZERO;
    }
    let mut hash = Sha256::new();
    hash.update(target.as_bytes());
    hash.update([0u8]);
    hash.update(due.as_nanosecond().to_be_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let offset = u128::from(u64::from_be_bytes(first)) % span;
    // `offset < span <= u64::MAX * 1e9`: seconds and nanoseconds both fit.
    Duration::new(
        u64::try_from(offset / 1_000_000_000).unwrap_or(u64::MAX),
        u32::try_from(offset % 1_000_000_000).unwrap_or(0),
    )
}

/// Whether the next fetch may send conditional-GET validators (`If-None-Match`,
/// `If-Modified-Since`).
///
/// `last_page` is the start of the latest check that received a full page (a
/// 200: outcomes baseline, unchanged, changed; 304s and failures do not count).
/// Validators are sent only when that fetch is younger than
/// `unconditional_every`, so a server whose validators lie (a stale 304) is
/// still read in full at least that often. Never fetched in full: no validators.
pub fn send_validators(
    last_page: Option<Timestamp>,
    now: Timestamp,
    unconditional_every: Duration,
) -> bool {
    let Some(last) = last_page else {
        return false;
    };
    let Ok(every) = SignedDuration::try_from(unconditional_every) else {
        // Longer than jiff can represent: effectively "never refetch in full".
        return true;
    };
    now.duration_since(last) < every
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn every(secs: u64, jitter: u64) -> TargetSchedule {
        TargetSchedule {
            schedule: Schedule::Every(Duration::from_secs(secs)),
            jitter: Duration::from_secs(jitter),
        }
    }

    fn brussels(expr: &str) -> TargetSchedule {
        TargetSchedule {
            schedule: Schedule::cron(expr, Some("Europe/Brussels")).unwrap(),
            jitter: Duration::ZERO,
        }
    }

    #[test]
    fn is_due_table() {
        let six_hours = every(6 * 3600, 0);
        let cases: &[(Option<&TargetSchedule>, Option<&str>, &str, bool)] = &[
            // No schedule: always due, checked or not.
            (None, None, "2026-01-01T00:00:00Z", true),
            (
                None,
                Some("2026-01-01T00:00:00Z"),
                "2026-01-01T00:00:01Z",
                true,
            ),
            // Never checked: due.
            (Some(&six_hours), None, "2026-01-01T00:00:00Z", true),
            // Every 6h: due exactly at last + 6h, not a nanosecond before.
            (
                Some(&six_hours),
                Some("2026-01-01T00:00:00Z"),
                "2026-01-01T05:59:59.999Z",
                false,
            ),
            (
                Some(&six_hours),
                Some("2026-01-01T00:00:00Z"),
                "2026-01-01T06:00:00Z",
                true,
            ),
            (
                Some(&six_hours),
                Some("2026-01-01T00:00:00Z"),
                "2026-01-03T00:00:00Z",
                true,
            ),
        ];
        for (schedule, last, now, want) in cases {
            let got = is_due(*schedule, "t", last.map(ts), ts(now));
            assert_eq!(got, *want, "schedule {schedule:?} last {last:?} now {now}");
        }
    }

    #[test]
    fn cron_in_brussels_across_dst() {
        // 09:00 Brussels is 08:00Z in winter (CET) and 07:00Z in summer (CEST);
        // DST began on 2026-03-29 and ends on 2026-10-25.
        let nine = brussels("0 9 * * *");
        let cases = [
            ("2026-03-27T08:00:00Z", "2026-03-28T08:00:00Z"),
            ("2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z"),
            ("2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"),
            ("2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z"),
            ("2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z"),
        ];
        for (last, want) in cases {
            assert_eq!(
                nine.next_due("t", ts(last)).unwrap(),
                ts(want),
                "after {last}"
            );
        }
        // Office hours: hourly 9-17 on weekdays. Friday 17:00 CEST is the last
        // of the week; the next is Monday 09:00 CEST.
        let office = brussels("0 9-17 * * MON-FRI");
        let cases = [
            ("2026-06-05T15:00:00Z", "2026-06-08T07:00:00Z"),
            ("2026-06-08T07:00:00Z", "2026-06-08T08:00:00Z"),
            ("2026-06-08T06:59:00Z", "2026-06-08T07:00:00Z"),
            // Winter: Monday 2026-12-07 09:00 CET.
            ("2026-12-04T16:00:00Z", "2026-12-07T08:00:00Z"),
        ];
        for (last, want) in cases {
            assert_eq!(
                office.next_due("t", ts(last)).unwrap(),
                ts(want),
                "after {last}"
            );
        }
        // Due computed across the spring change: checked Saturday 09:00 CET,
        // not due at Sunday 08:59 CEST, due at 09:00 CEST.
        let last = Some(ts("2026-03-28T08:00:00Z"));
        assert!(!is_due(Some(&nine), "t", last, ts("2026-03-29T06:59:00Z")));
        assert!(is_due(Some(&nine), "t", last, ts("2026-03-29T07:00:00Z")));
    }

    #[test]
    fn jitter_is_bounded_and_stable() {
        let due = ts("2026-05-01T10:00:00Z");
        let jitter = Duration::from_secs(600);
        let mut distinct = std::collections::BTreeSet::new();
        for i in 0..200 {
            let id = format!("target-{i}");
            let j = jitter_for(&id, due, jitter);
            assert!(j < jitter, "{id}: {j:?}");
            // Stable: the same input gives the same jitter.
            assert_eq!(j, jitter_for(&id, due, jitter));
            distinct.insert(j);
        }
        // Spread: 200 targets don't collapse onto a few values.
        assert!(distinct.len() > 190, "{} distinct", distinct.len());
        // A different due instant gives a different jitter (for this input).
        assert_ne!(
            jitter_for("nato-belarus", due, jitter),
            jitter_for("nato-belarus", ts("2026-05-01T11:00:00Z"), jitter)
        );
        // No jitter configured: zero.
        assert_eq!(jitter_for("x", due, Duration::ZERO), Duration::ZERO);
        // A one-nanosecond jitter can only be zero.
        assert_eq!(
            jitter_for("x", due, Duration::from_nanos(1)),
            Duration::ZERO
        );
    }

    #[test]
    fn next_due_adds_the_jitter_of_the_due_instant() {
        let s = every(3600, 600);
        let last = ts("2026-05-01T10:00:00Z");
        let at = ts("2026-05-01T11:00:00Z");
        let j = SignedDuration::try_from(s.jitter_for("a", at)).unwrap();
        assert_eq!(s.next_due("a", last).unwrap(), at.checked_add(j).unwrap());
        assert!(!is_due(
            Some(&s),
            "a",
            Some(last),
            at.checked_add(j).unwrap() - SignedDuration::from_nanos(1)
        ));
        assert!(is_due(
            Some(&s),
            "a",
            Some(last),
            at.checked_add(j).unwrap()
        ));
    }

    #[test]
    fn send_validators_table() {
        let day = Duration::from_secs(24 * 3600);
        let cases = [
            (None, "2026-01-01T00:00:00Z", false),
            (Some("2026-01-01T00:00:00Z"), "2026-01-01T00:00:00Z", true),
            (Some("2026-01-01T00:00:00Z"), "2026-01-01T23:59:59Z", true),
            (Some("2026-01-01T00:00:00Z"), "2026-01-02T00:00:00Z", false),
            (Some("2026-01-01T00:00:00Z"), "2026-01-05T00:00:00Z", false),
        ];
        for (last, now, want) in cases {
            assert_eq!(
                send_validators(last.map(ts), ts(now), day),
                want,
                "last {last:?} now {now}"
            );
        }
    }
}
