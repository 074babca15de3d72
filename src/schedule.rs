//! When targets are due: each target's [`Schedule`] (`every = "6h"` or a cron
//! expression in a time zone) plus jitter, as pure functions of the last check
//! time and the current time.

use std::str::FromStr;
use std::time::Duration;

use croner::Cron;
use jiff::Timestamp;
use jiff::tz::TimeZone;

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
