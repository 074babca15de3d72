//! The `watch` daemon loop: checks each target on its own schedule, one check
//! at a time, politely per host, until told to stop.
//!
//! Design choices (and why):
//!
//! - **One check at a time.** The loop picks the target whose start time is
//!   earliest (its due time, see [`crate::schedule`], but never before
//!   `min_host_delay` after the last request to its host ends), sleeps until
//!   then and checks it. With one check in flight, "one request per host at a
//!   time" holds by construction; the targets of a monitor like this one are
//!   few and checked hours apart, so concurrency would buy little.
//! - **SQLite on the runtime thread, on purpose.** The daemon runs on a
//!   current-thread tokio runtime whose only other task is the signal
//!   listener. The store is synchronous (rusqlite); blocking that one thread
//!   for a query delays nothing else (a signal that arrives meanwhile is
//!   queued and seen right after), so no `spawn_blocking` or store thread is
//!   needed. A multi-threaded daemon would have to move the store to a thread.
//! - **The store lock per check.** The loop takes `<store>/redliner.lock`
//!   around each target's check (fetch, compare, record) and
//!   releases it while sleeping, so a `redliner check` from cron interleaves
//!   with the daemon but never writes at the same time. A lock busy for longer
//!   than `lock_wait` postpones that target by `lock_wait`; the daemon goes on.
//! - **Due times come from the store** (the start of each target's latest
//!   check, whoever ran it), so a check made by cron in between counts.
//!   Targets without a schedule are checked every [`UNSCHEDULED_EVERY`].
//! - **Alert delivery is the caller's.** `on_check` runs after each check,
//!   with the lock released; the CLI delivers pending alerts there (delivery
//!   has its own per-alert claims, so it needs no store lock).
//! - **Graceful stop.** Shutdown (SIGINT/SIGTERM in the CLI) is observed only
//!   between checks and while sleeping or waiting for the lock: a check in
//!   flight runs to its end (its records are transactions), then the loop
//!   returns.

use std::collections::HashMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::error::{Error, Result};
use crate::monitor::{Clock, Monitor, Outcome};
use crate::schedule::{self, Schedule, TargetSchedule};
use crate::store::Store;
use crate::store::lock::{self, StoreLock};
use crate::target::Target;

/// How often the daemon checks a target that has no `every` or `cron`.
pub const UNSCHEDULED_EVERY: Duration = Duration::from_secs(3600);

/// How long the daemon waits before retrying after the store could not be read.
const STORE_RETRY: Duration = Duration::from_secs(30);

/// How one daemon run behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchOptions {
    /// Check the targets due now, once each, then return (instead of running
    /// until shutdown). Unscheduled targets count as due, as in `check --due`.
    pub once: bool,
    /// Minimum time between the end of one request to a host and the start of
    /// the next (`settings.min_host_delay`).
    pub min_host_delay: Duration,
    /// How long to wait for the store lock before postponing a check
    /// (`settings.lock_wait`).
    pub lock_wait: Duration,
}

/// One finished check, as handed to the caller's callback.
#[derive(Debug)]
pub struct Checked<'a> {
    /// The target checked.
    pub target: &'a Target,
    /// When the check started.
    pub started_at: Timestamp,
    /// What it found, or why it failed (a failure was recorded as a failed check
    /// when the fetch or extraction failed).
    pub result: &'a Result<Outcome>,
    /// When the target is due next (`None` in `once` mode, or when its cron
    /// expression never matches again).
    pub next_due: Option<Timestamp>,
}

/// Counts over one daemon run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatchSummary {
    /// Checks run (failed ones included).
    pub checked: usize,
    /// Checks that found a change (a revision).
    pub changed: usize,
    /// Checks that failed.
    pub failed: usize,
}

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
/// (`max(due, not_before)`) of the earliest; ties go to the lower index (the
/// config order). `None` when nothing is ever due.
pub fn pick(candidates: &[(Option<Timestamp>, Option<Timestamp>)]) -> Option<(usize, Timestamp)> {
    candidates
        .iter()
        .enumerate()
        .filter_map(|(i, (due, not_before))| {
            let due = (*due)?;
            Some((i, not_before.map_or(due, |nb| due.max(nb))))
        })
        .min_by_key(|&(i, at)| (at, i))
}

/// The targets due at `now` (see [`schedule::is_due`]: unscheduled and
/// never-checked targets are due), in the order given; the last check of each
/// is read from `store`. Logs (info) each target skipped and when it is due.
///
/// # Errors
/// [`Error::Store`] when the checks cannot be read.
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

/// The key hosts are throttled by: `host:port` of the target's URL.
pub fn host_key(target: &Target) -> String {
    format!(
        "{}:{}",
        target.url.host_str().unwrap_or(""),
        target.url.port_or_known_default().unwrap_or(0)
    )
}

/// Runs the daemon over `targets` until `shutdown` turns `true` (or, with
/// [`WatchOptions::once`], until every target due at the start was checked),
/// calling `on_check` after each check. Returns what it did.
///
/// One failed target never stops the others: its failure is recorded (by
/// [`Monitor::check`]), reported through `on_check`, and the loop goes on.
///
/// # Errors
/// [`Error::Store`] only in `once` mode when the store cannot be read to
/// decide what is due (the daemon instead logs and retries later).
pub async fn run(
    monitor: &mut Monitor,
    targets: &[Target],
    options: &WatchOptions,
    clock: &dyn Clock,
    mut shutdown: watch::Receiver<bool>,
    mut on_check: impl FnMut(Checked<'_>),
) -> Result<WatchSummary> {
    let mut summary = WatchSummary::default();
    // In-memory starts of this run's attempts (a check the store could not
    // record still must not be retried at once).
    let mut attempted: HashMap<usize, Timestamp> = HashMap::new();
    // Postponements (lock busy) and per-host politeness.
    let mut postponed: HashMap<usize, Timestamp> = HashMap::new();
    let mut host_free: HashMap<String, Timestamp> = HashMap::new();

    // `once`: the targets due now, each checked once.
    let mut pending: Option<Vec<bool>> = None;
    if options.once {
        let due = due_now(monitor.store(), targets, clock.now())?;
        pending = Some(
            targets
                .iter()
                .map(|t| due.iter().any(|d| d.id == t.id))
                .collect(),
        );
    }

    loop {
        if *shutdown.borrow() {
            info!("shutdown requested; stopping");
            break;
        }
        let mut candidates = Vec::with_capacity(targets.len());
        let mut store_failed = false;
        for (i, t) in targets.iter().enumerate() {
            let due = match &pending {
                Some(p) => p[i].then_some(Timestamp::MIN),
                None => match monitor.store().last_check_started(&t.id, &[]) {
                    Ok(last) => watch_due(t, last.max(attempted.get(&i).copied())),
                    Err(e) => {
                        warn!(target = %t.id, "cannot read the last check: {e}");
                        store_failed = true;
                        None
                    }
                },
            };
            let not_before = [postponed.get(&i), host_free.get(&host_key(t))]
                .into_iter()
                .flatten()
                .max()
                .copied();
            candidates.push((due, not_before));
        }
        if store_failed {
            if sleep_or_stop(Some(STORE_RETRY), &mut shutdown).await {
                break;
            }
            continue;
        }
        let Some((i, at)) = pick(&candidates) else {
            if pending.is_some() {
                break;
            }
            info!("no target will ever be due; waiting for shutdown");
            if sleep_or_stop(None, &mut shutdown).await {
                break;
            }
            continue;
        };
        let wait = until(clock.now(), at);
        if !wait.is_zero() {
            debug!(target = %targets[i].id, at = %at, "next check");
            if sleep_or_stop(Some(wait), &mut shutdown).await {
                break;
            }
            continue;
        }
        // Alert delivery after the previous check blocks this thread, so a
        // signal that came meanwhile is only seen once the runtime gets to
        // poll its driver: park briefly, then look again before new work.
        tokio::time::sleep(Duration::from_millis(5)).await;
        if *shutdown.borrow() {
            info!("shutdown requested; stopping");
            break;
        }
        let target = &targets[i];

        // The store lock, waited for without blocking the signal listener.
        let lock = match acquire(monitor, options.lock_wait, &mut shutdown).await {
            Ok(Some(lock)) => lock,
            Ok(None) => break, // shutdown while waiting
            Err(e) => {
                warn!(target = %target.id, "check postponed: {e}");
                postponed.insert(i, add(clock.now(), options.lock_wait.max(lock::POLL)));
                if options.once {
                    // Report it as this target's failure and move on.
                    if let Some(p) = pending.as_mut() {
                        p[i] = false;
                    }
                    summary.failed += 1;
                    let result = Err(Error::Locked(e));
                    on_check(Checked {
                        target,
                        started_at: clock.now(),
                        result: &result,
                        next_due: None,
                    });
                }
                continue;
            }
        };
        // With the lock held: clean up after a run killed mid-write (temp
        // files, staging, unindexed snapshots, stale feeds).
        if let Err(e) = crate::archive::recover(monitor.store()) {
            warn!("repairing what a run killed mid-write left: {e}");
        }
        let started_at = clock.now();
        attempted.insert(i, started_at);
        postponed.remove(&i);
        let result = monitor.check(target).await;
        drop(lock);
        host_free.insert(host_key(target), add(clock.now(), options.min_host_delay));

        summary.checked += 1;
        match &result {
            Ok(Outcome::Changed { .. }) => summary.changed += 1,
            Ok(_) => {}
            Err(_) => summary.failed += 1,
        }
        let next_due = match pending.as_mut() {
            Some(p) => {
                p[i] = false;
                None
            }
            None => watch_due(target, Some(started_at)),
        };
        match &result {
            Ok(o) => {
                info!(target = %target.id, next = ?next_due.map(|t| t.to_string()), "{}", o.describe())
            }
            // said once, as `redliner: ...`, by the command's report of the check
            Err(e) => {
                debug!(target = %target.id, next = ?next_due.map(|t| t.to_string()), "check failed: {e}")
            }
        }
        on_check(Checked {
            target,
            started_at,
            result: &result,
            next_due,
        });
    }
    Ok(summary)
}

/// Sleeps for `wait` (forever when `None`) or until shutdown is requested;
/// true when the loop must stop (shutdown requested, or its sender gone).
async fn sleep_or_stop(wait: Option<Duration>, shutdown: &mut watch::Receiver<bool>) -> bool {
    let changed = match wait {
        Some(w) => tokio::select! {
            () = tokio::time::sleep(w) => return *shutdown.borrow(),
            changed = shutdown.changed() => changed,
        },
        None => shutdown.changed().await,
    };
    changed.is_err() || *shutdown.borrow()
}

/// Takes the store lock, polling every [`lock::POLL`] for up to `wait`.
/// `Ok(None)` when shutdown was requested while waiting.
async fn acquire(
    monitor: &Monitor,
    wait: Duration,
    shutdown: &mut watch::Receiver<bool>,
) -> std::result::Result<Option<StoreLock>, lock::LockError> {
    let root = monitor.store().root().to_path_buf();
    let start = tokio::time::Instant::now();
    loop {
        if let Some(l) = StoreLock::try_acquire(&root, "watch")? {
            return Ok(Some(l));
        }
        let waited = start.elapsed();
        if waited >= wait {
            return Err(lock::busy(&root, wait));
        }
        tokio::select! {
            () = tokio::time::sleep(lock::POLL.min(wait - waited)) => {}
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return Ok(None);
                }
            }
        }
    }
}

/// `at - now` as a sleep, zero when `at` has passed.
fn until(now: Timestamp, at: Timestamp) -> Duration {
    Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO)
}

/// `t + d`, saturating at the largest timestamp.
fn add(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
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

    #[test]
    fn until_and_add() {
        let a = ts("2026-01-01T10:00:00Z");
        let b = ts("2026-01-01T10:00:05Z");
        assert_eq!(until(a, b), Duration::from_secs(5));
        assert_eq!(until(b, a), Duration::ZERO);
        assert_eq!(add(a, Duration::from_secs(5)), b);
        assert_eq!(add(a, Duration::MAX), Timestamp::MAX);
    }
}
