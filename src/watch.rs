//! The `watch` daemon's schedule: when each target is due, which check goes
//! first, and the host key politeness is counted by. The loop itself is
//! [`crate::run`], shared with `check`.
//!
//! - **Due times come from the store** (the start of each target's latest
//!   check, whoever ran it), so a check made by cron in between counts.
//!   Targets without a schedule are checked every [`UNSCHEDULED_EVERY`].
//! - **Ties go to the config order**, so a daemon started on a fresh store
//!   checks its targets in the order written.

use std::time::Duration;

use jiff::Timestamp;
use tracing::info;

use crate::error::Result;
use crate::schedule::{self, Schedule, TargetSchedule};
use crate::store::Store;
use crate::target::Target;

/// How often the daemon checks a target that has no `every` or `cron`.
pub const UNSCHEDULED_EVERY: Duration = Duration::from_secs(3600);

/// The schedule the daemon uses for a target: its own, or every
/// [`UNSCHEDULED_EVERY`] without jitter.
pub fn effective_schedule(target: &Target) -> TargetSchedule {
    target.schedule.clone().unwrap_or(TargetSchedule {
        schedule: Schedule::Every(UNSCHEDULED_EVERY),
        jitter: Duration::ZERO,
    })
}

/// When the daemon next checks a target last checked at `last` (the check's
/// start; `None`: never checked, so due at once, returned as
/// [`Timestamp::MIN`]). `None` when its cron expression never matches again.
pub fn watch_due(target: &Target, last: Option<Timestamp>) -> Option<Timestamp> {
    match last {
        None => Some(Timestamp::MIN),
        Some(last) => effective_schedule(target).next_due(&target.id, last),
    }
}

/// Picks the next check among `candidates`, each `(due, not_before)`: `due`
/// from [`watch_due`] (`None`: never), `not_before` the earliest start allowed
/// by host politeness or a postponement. Returns the index and start time
/// (`max(due, not_before)`) of the earliest. Of those that may start at
/// the same time (targets held back by the same busy host), the one due
/// first goes first, so each waits its turn and none is starved by those
/// listed before it; full ties go to the lower index (the config order).
/// `None` when nothing is ever due.
pub fn pick(candidates: &[(Option<Timestamp>, Option<Timestamp>)]) -> Option<(usize, Timestamp)> {
    candidates
        .iter()
        .enumerate()
        .filter_map(|(i, (due, not_before))| {
            let due = (*due)?;
            Some((i, due, not_before.map_or(due, |nb| due.max(nb))))
        })
        .min_by_key(|&(i, due, at)| (at, due, i))
        .map(|(i, _, at)| (i, at))
}

/// The targets due at `now` (see [`schedule::is_due`]: unscheduled and
/// never-checked targets are due), in the order given; the last check of each
/// is read from `store`. Logs (info) each target skipped and when it is due.
///
/// # Errors
/// [`crate::error::Error::Store`] when the checks cannot be read.
pub fn due_now(store: &Store, targets: &[Target], now: Timestamp) -> Result<Vec<Target>> {
    let mut due = Vec::new();
    for t in targets {
        let last = store.last_check_started(&t.id, &[])?;
        if schedule::is_due(t.schedule.as_ref(), &t.id, last, now) {
            due.push(t.clone());
        } else {
            let next = t
                .schedule
                .as_ref()
                .zip(last)
                .and_then(|(s, last)| s.next_due(&t.id, last));
            info!(
                target = %t.id,
                next = next.map_or_else(|| "never".to_string(), |n| n.to_string()),
                "not due"
            );
        }
    }
    Ok(due)
}

/// Per target id, the start of its latest check (`None`: never checked).
pub type LastStarts = std::collections::HashMap<String, Option<Timestamp>>;

/// [`due_now`], with the start of each due target's latest check (`None`:
/// never checked), for the workers of a shared store to tell whether
/// another one checked it meanwhile
/// ([`crate::store::workers::Due::NotCheckedSince`]).
///
/// # Errors
/// [`crate::error::Error::Store`] when the checks cannot be read.
pub fn due_now_since(
    store: &Store,
    targets: &[Target],
    now: Timestamp,
) -> Result<(Vec<Target>, LastStarts)> {
    // One read per target: the start that says it is due is the one a
    // later check must be newer than.
    let mut due = Vec::new();
    let mut since = std::collections::HashMap::new();
    for t in targets {
        let last = store.last_check_started(&t.id, &[])?;
        if schedule::is_due(t.schedule.as_ref(), &t.id, last, now) {
            due.push(t.clone());
            since.insert(t.id.clone(), last);
        } else {
            info!(target = %t.id, "not due");
        }
    }
    Ok((due, since))
}

/// The key hosts are throttled by: `host:port` of the target's URL.
pub fn host_key(target: &Target) -> String {
    format!(
        "{}:{}",
        target.url.host_str().unwrap_or(""),
        target.url.port_or_known_default().unwrap_or(0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Rules;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn target(id: &str, url: &str, every: Option<u64>) -> Target {
        let mut t = Target::new(id, url.parse().unwrap(), Rules::generic());
        t.schedule = every.map(|s| TargetSchedule {
            schedule: Schedule::Every(Duration::from_secs(s)),
            jitter: Duration::ZERO,
        });
        t
    }

    #[test]
    fn pick_table() {
        type Case = (
            Vec<(Option<Timestamp>, Option<Timestamp>)>,
            Option<(usize, Timestamp)>,
        );
        let (ta, tb) = (ts("2026-01-01T10:00:00Z"), ts("2026-01-01T11:00:00Z"));
        let (a, b, min) = (Some(ta), Some(tb), Some(Timestamp::MIN));
        let cases: Vec<Case> = vec![
            (vec![], None),
            (vec![(None, None)], None),
            // Earliest due wins.
            (vec![(b, None), (a, None)], Some((1, ta))),
            // Ties go to config order.
            (vec![(a, None), (a, None)], Some((0, ta))),
            // Never checked first, in config order.
            (
                vec![(a, None), (min, None), (min, None)],
                Some((1, Timestamp::MIN)),
            ),
            // A busy host pushes its target after another one.
            (vec![(a, b), (a, None)], Some((1, ta))),
            // Two targets held back by one busy host: the one that has
            // waited longer goes first, whatever the config order.
            (vec![(b, b), (a, b)], Some((1, tb))),
            // not_before earlier than due changes nothing; later delays.
            (vec![(b, a)], Some((0, tb))),
            (vec![(a, b)], Some((0, tb))),
        ];
        for (candidates, want) in cases {
            assert_eq!(pick(&candidates), want, "{candidates:?}");
        }
    }

    #[test]
    fn watch_due_table() {
        let last = ts("2026-01-01T10:00:00Z");
        let cases = [
            (
                target("a", "https://x.test/", Some(60)),
                None,
                Some(Timestamp::MIN),
            ),
            (
                target("a", "https://x.test/", Some(60)),
                Some(last),
                Some(ts("2026-01-01T10:01:00Z")),
            ),
            // No schedule: hourly in the daemon.
            (
                target("a", "https://x.test/", None),
                Some(last),
                Some(ts("2026-01-01T11:00:00Z")),
            ),
        ];
        for (t, last, want) in cases {
            assert_eq!(watch_due(&t, last), want, "{:?} {last:?}", t.schedule);
        }
    }

    #[test]
    fn host_key_table() {
        let cases = [
            (
                "https://www.nato.int/cps/en/natohq/topics_49119.htm",
                "www.nato.int:443",
            ),
            ("http://127.0.0.1:8080/a", "127.0.0.1:8080"),
            ("http://example.test/", "example.test:80"),
        ];
        for (url, want) in cases {
            assert_eq!(host_key(&target("a", url, None)), want, "{url}");
        }
    }
}
