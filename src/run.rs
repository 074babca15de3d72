//! The run loop `check` and `watch` share: up to `concurrency` checks in
//! flight over different hosts, politely per host, reported in order.
//!
//! `check` (and `watch --once`) is [`Mode::Once`]: every target given is
//! checked once. The `watch` daemon is [`Mode::Schedule`]: each target on its
//! own schedule until shutdown. Everything else is the same loop.
//!
//! Design choices (and why):
//!
//! - **Politeness per host, concurrency across hosts.** Never two checks of
//!   one host ([`watch::host_key`]) in flight at once, and at least
//!   `min_host_delay` from the end of one check of a host to the start of the
//!   next. A check may fetch twice (the refetch of a body that looked cut, the
//!   confirming fetch of a change): it holds its host until it ends, so those
//!   count as requests on that host too. A host waiting out its delay holds no
//!   slot: the loop dispatches another host that is ready and wakes when the
//!   first one is.
//! - **Which host first** ([`Mode::Once`]): the ready host with the most
//!   targets left, ties to the config order. Hosts are the bottleneck when
//!   there are few of them, and starting the longest queues first keeps them
//!   all busy to the end (the classic longest-first rule); with one target per
//!   host it is plain config order. In [`Mode::Schedule`] the earliest start
//!   wins, ties to the config order, as before.
//! - **One thread.** The CLI runs the loop on a current-thread runtime
//!   ([`tokio::runtime::Builder::new_current_thread`]), and each dispatched
//!   check is a task there ([`JoinSet::spawn`]): its fetches await beside
//!   the other checks' and its work between fetches (fingerprint, parse,
//!   diff, store writes) runs between their awaits. Measured side by side
//!   on two cores, against one async worker per core: a run of 1,000
//!   unchanged pages took 0.77× the CPU and 0.85× the wall time, a first run
//!   of 1,000 new pages 0.86× the CPU and 0.88× the wall time. A check is
//!   mostly waiting and its CPU work is short (a fraction of a millisecond
//!   when the fingerprint matches, a few when the page is parsed): handing
//!   each finished fetch to another thread and back cost more than a second
//!   core saved. The price: while a page is parsed (milliseconds; a few
//!   hundred for a 2 MB page, capped by the extraction's own limits) the
//!   other checks' sockets wait; their timeouts are long by comparison.
//! - **One writer.** The checks share one [`Monitor`], whose store sits
//!   behind a mutex taken around each store call (never across an `await`).
//! - **Reported in order.** Results are handed to the caller's `on_check` in
//!   the order given ([`Mode::Once`]: the config order) or the order the checks
//!   started ([`Mode::Schedule`]), as soon as every earlier one is in: a slow
//!   host delays the report of later targets until its check ends (its own
//!   timeout at most), never their checks.
//! - **The store lock.** With [`Locking::WhileChecking`] (`watch`) the loop
//!   takes `<store>/redliner.lock` when it starts checks and releases it
//!   when none is in flight, so a `redliner check` from cron interleaves with
//!   the daemon but never writes at the same time; a lock busy for longer than
//!   the wait postpones the target. With [`Locking::Held`] (`check`) the caller
//!   holds it for the whole run.
//! - **Due times from the store** ([`Mode::Schedule`]): read for every target
//!   whenever no check is in flight (another run may have checked meanwhile),
//!   and kept in memory while checks are in flight (the lock is held, so no
//!   other run writes).
//! - **Batches of writes.** The checks record into store batches
//!   ([`crate::store::Store::begin_batch`]): one SQLite transaction and one
//!   durability round for up to 256 checks or a second's worth, committed before the store lock is released and, in
//!   [`Mode::Schedule`], before a check is reported (the report asks for its
//!   alerts to be delivered, by a connection that sees committed rows only).
//! - **Graceful stop.** Once shutdown is requested no check starts; those in
//!   flight run to their end (their records are transactions) and are
//!   reported, then the loop returns.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch as signal;
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::monitor::{Monitor, Outcome};
use crate::store::lock::{self, StoreLock};
use crate::store::workers::{self, Claim, Coordinator};
use crate::target::Target;
use crate::watch;

/// How long the loop waits before reading the store again after it could
/// not be read.
const STORE_RETRY: Duration = Duration::from_secs(30);

/// How soon a worker asks the shared queue again when a due target waits
/// for a host another worker holds.
const CLAIM_POLL: Duration = Duration::from_millis(100);

/// The longest a worker waits before asking the shared queue again when
/// nothing is due (a new target enlisted by another worker).
const QUEUE_POLL: Duration = Duration::from_secs(5);

/// Which targets a run checks, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Each target given once, as soon as its host allows (`check`, and
    /// `watch --once` with the targets due); reported in the order given.
    Once,
    /// Each target on its own schedule ([`watch::watch_due`]) until shutdown
    /// (the `watch` daemon); reported in the order the checks started.
    Schedule,
}

/// Who holds the store lock (`<store>/redliner.lock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locking {
    /// The caller holds it for the whole run.
    Held,
    /// The loop takes it while checks are in flight, waiting at most this
    /// long, and releases it when none is; after taking it, it repairs what
    /// a run killed mid-write left ([`crate::archive::recover`]).
    WhileChecking(Duration),
}

/// How one run shares its targets with other workers of a PostgreSQL store
/// (see [`crate::store::workers`]).
#[derive(Debug, Clone)]
pub struct Coordination {
    /// This process as a worker; its targets enlisted.
    pub coordinator: Arc<Coordinator>,
    /// [`Mode::Once`] with the targets found due (`check --due`, `watch
    /// --once`): the start of each one's latest check when it was found
    /// due. A target another worker checked since is skipped, not
    /// reported. `None`: every target given is checked.
    pub due_since: Option<HashMap<String, Option<Timestamp>>>,
}

/// How one run behaves.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Once through the targets, or on their schedules.
    pub mode: Mode,
    /// Most checks in flight at once (`settings.concurrency`; 0 counts as 1).
    pub concurrency: usize,
    /// Minimum time between the end of one check of a host and the start of
    /// the next (`settings.min_host_delay`).
    pub min_host_delay: Duration,
    /// Who holds the store lock.
    pub locking: Locking,
    /// Workers sharing the store: each target and its host are claimed
    /// before a check and released after, instead of this run alone
    /// deciding; the store lock is then taken shared, and store batches are
    /// not used (each check commits before its target is released).
    pub coordination: Option<Coordination>,
}

/// Makes this process a worker of `store` when it is in PostgreSQL (`None`
/// for a store in a directory): registers it (`command`: `watch` or
/// `check`), holding leases for `lease`, and puts `targets` in the shared
/// queue, each due by the daemon's schedule ([`watch::watch_due`]) after
/// its latest check.
///
/// # Errors
/// [`Error::Store`] when the database cannot be reached.
pub fn coordinate(
    store: &crate::store::Store,
    targets: &[Target],
    command: &str,
    lease: Duration,
) -> Result<Option<Coordination>> {
    let Some(database) = store.postgres_target() else {
        return Ok(None);
    };
    let schedules: HashMap<String, Target> =
        targets.iter().map(|t| (t.id.clone(), t.clone())).collect();
    let coordinator = Coordinator::start(
        database,
        command,
        lease,
        Box::new(move |id, last| {
            schedules
                .get(id)
                .and_then(|t| watch::watch_due(t, Some(last)))
        }),
    )?;
    let queued: Vec<workers::QueuedTarget> = targets
        .iter()
        .map(|t| workers::QueuedTarget {
            id: t.id.clone(),
            host: watch::host_key(t),
        })
        .collect();
    coordinator.enlist(&queued)?;
    Ok(Some(Coordination {
        coordinator,
        due_since: None,
    }))
}

/// The targets among `targets` due at `now` ([`watch::due_now`]: `check
/// --due`, `watch --once`). In a shared store (`coordination`), the start of
/// each one's latest check is noted too, so that a target another worker
/// checks first is skipped.
///
/// # Errors
/// [`Error::Store`] when the checks cannot be read.
pub fn due_targets(
    store: &crate::store::Store,
    targets: &[Target],
    coordination: Option<&mut Coordination>,
    now: Timestamp,
) -> Result<Vec<Target>> {
    match coordination {
        None => watch::due_now(store, targets, now),
        Some(c) => {
            let (due, since) = watch::due_now_since(store, targets, now)?;
            c.due_since = Some(since);
            Ok(due)
        }
    }
}

/// One finished check, as handed to the caller's callback.
#[derive(Debug)]
pub struct Checked<'a> {
    /// The target checked.
    pub target: &'a Target,
    /// When the check started.
    pub started_at: Timestamp,
    /// What it found, or why it failed (a failure was recorded as a failed
    /// check when the fetch or extraction failed; a check never started
    /// because the store lock stayed busy is [`Error::Locked`]).
    pub result: &'a Result<Outcome>,
    /// When the target is due next (`None` in [`Mode::Once`], or when its
    /// cron expression never matches again).
    pub next_due: Option<Timestamp>,
}

/// Counts over one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Checks run (failed ones included).
    pub checked: usize,
    /// Checks that found a change (a revision).
    pub changed: usize,
    /// Checks that failed, and targets not checked because the store lock
    /// stayed busy ([`Mode::Once`]).
    pub failed: usize,
}

/// A check whose result is in, waiting for its turn to be reported.
struct Finished {
    target: usize,
    started_at: Timestamp,
    result: Result<Outcome>,
}

/// What the loop may do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Start a check of this target now.
    Now(usize),
    /// Start a check of this target now: it and its host are claimed in the
    /// shared queue.
    Claimed(usize),
    /// Nothing can start before this time.
    At(Timestamp),
    /// Nothing can start until a check in flight ends (or ever).
    Wait,
}

/// Runs checks of `targets` with `monitor` until done ([`Mode::Once`]) or
/// until `shutdown` turns `true` (or its sender is dropped), calling
/// `on_check` for each result in order (see the module docs). Returns what it
/// did.
///
/// One failed target never stops the others: its failure is recorded (by
/// [`Monitor::check`]), reported through `on_check`, and the loop goes on. A
/// check that panics is a bug: the panic is resumed here.
///
/// # Errors
/// None today: a store that cannot be read to say what is due is logged and
/// read again later. The `Result` leaves room for failures a caller must see.
pub async fn run(
    monitor: Arc<Monitor>,
    targets: Vec<Target>,
    options: &RunOptions,
    clock: &dyn Clock,
    mut shutdown: signal::Receiver<bool>,
    mut on_check: impl FnMut(Checked<'_>),
) -> Result<RunSummary> {
    // Shared with the checks as it is: no copy of the targets.
    let targets: Arc<Vec<Target>> = Arc::new(targets);
    let mut hosts = Hosts::new(&targets);
    let concurrency = options.concurrency.max(1);
    let mut summary = RunSummary::default();
    let mut in_flight: JoinSet<(u64, Finished)> = JoinSet::new();
    // Results in, keyed by their place in the report order.
    let mut done: BTreeMap<u64, Finished> = BTreeMap::new();
    let mut next_report: u64 = 0;
    let mut dispatched: u64 = 0;
    let mut lock: Option<StoreLock> = None;
    let mut stopping = false;
    let mut batches = Batches::default();
    // Targets changed since the feeds were last rewritten.
    let mut changed_targets: Vec<String> = Vec::new();

    // Mode::Once: per-host queues in the order given.
    let mut queues = Queues::new(&hosts, targets.len(), options.mode == Mode::Once);
    // Mode::Schedule: the last start of each target (store or this run),
    // postponements (lock busy), and which targets are in flight.
    let mut last: Vec<Option<Timestamp>> = vec![None; targets.len()];
    let mut postponed: HashMap<usize, Timestamp> = HashMap::new();
    let mut running = vec![false; targets.len()];
    // Coordinated runs: where each target is, and the report slots of the
    // targets another worker checked first.
    let coordinator = options.coordination.as_ref().map(|c| &c.coordinator);
    let index: HashMap<&str, usize> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let mut skipped: std::collections::BTreeSet<u64> = Default::default();

    loop {
        // Report what is in, in order, before anything new starts: a report
        // may ask for a stop (`watch | head` after its reader left), and a
        // check started before it would be one too many. In Mode::Schedule
        // the report asks for delivery, which must find the check's alerts
        // committed.
        if options.mode == Mode::Schedule
            && coordinator.is_none()
            && done.contains_key(&next_report)
            && !batches.commit(&monitor, !in_flight.is_empty())
        {
            summary.failed += 1;
        }
        loop {
            if skipped.remove(&next_report) {
                next_report += 1;
            } else if let Some(f) = done.remove(&next_report) {
                next_report += 1;
                report(&targets, options.mode, f, &mut on_check);
            } else {
                break;
            }
        }
        if !stopping && *shutdown.borrow() {
            info!("shutdown requested; stopping");
            stopping = true;
        }
        // Start what may start.
        let mut wake: Option<Timestamp> = None;
        while !stopping && in_flight.len() < concurrency {
            let now = clock.now();
            let next = match (options.mode, coordinator) {
                (Mode::Once, _) => queues.next(&hosts, now),
                (Mode::Schedule, Some(c)) => claim_next(c, &hosts, &targets, &index, now),
                (Mode::Schedule, None) => {
                    if in_flight.is_empty()
                        && let Err(e) = read_last_starts(&monitor, &targets, &mut last)
                    {
                        warn!(
                            "cannot read the last checks (trying again in {}s): {e}",
                            STORE_RETRY.as_secs()
                        );
                        Next::At(add(now, STORE_RETRY))
                    } else {
                        scheduled_next(&targets, &hosts, &last, &postponed, &running, now)
                    }
                }
            };
            let i = match next {
                Next::Now(i) => i,
                Next::Claimed(i) => i,
                Next::At(at) => {
                    debug!(at = %at, "next check");
                    wake = Some(at);
                    break;
                }
                Next::Wait => break,
            };
            // The report slot: the place in the order given, or the start order.
            let seq = match options.mode {
                Mode::Once => i as u64,
                Mode::Schedule => dispatched,
            };
            // Once through, coordinated: the target and its host are claimed
            // here (Mode::Schedule claimed them in `claim_next`).
            if let (Mode::Once, Some(c), Next::Now(_)) = (options.mode, &options.coordination, next)
            {
                let due = match &c.due_since {
                    None => workers::Due::Any,
                    Some(since) => {
                        workers::Due::NotCheckedSince(since.get(&targets[i].id).copied().flatten())
                    }
                };
                match c.coordinator.claim(&targets[i].id, now, due) {
                    Ok(Claim::Claimed) => {}
                    Ok(Claim::Busy) => {
                        queues.retry_later(&hosts, i, add(now, CLAIM_POLL));
                        continue;
                    }
                    Ok(Claim::NotDue) => {
                        info!(target = %targets[i].id, "checked by another worker meanwhile; skipped");
                        queues.skipped(&hosts, i);
                        skipped.insert(seq);
                        continue;
                    }
                    Err(e) => {
                        warn!(target = %targets[i].id, "not checked: {e}");
                        queues.skipped(&hosts, i);
                        summary.failed += 1;
                        done.insert(
                            seq,
                            Finished {
                                target: i,
                                started_at: now,
                                result: Err(Error::Store(e)),
                            },
                        );
                        continue;
                    }
                }
            }
            if lock.is_none()
                && let Locking::WhileChecking(wait) = options.locking
            {
                match acquire(&monitor, wait, coordinator.is_some(), &mut shutdown).await {
                    Ok(Some(l)) => {
                        // With the lock held: clean up after a run killed
                        // mid-write (temp files, staging, unindexed
                        // snapshots, stale feeds). Not under a shared lock:
                        // other workers are writing.
                        if coordinator.is_none()
                            && let Err(e) = crate::archive::recover(&monitor.store())
                        {
                            warn!("repairing what a run killed mid-write left: {e}");
                        }
                        lock = Some(l);
                    }
                    Ok(None) => {
                        // Shutdown while waiting: the target is not started.
                        stopping = true;
                        break;
                    }
                    Err(e) => {
                        warn!(target = %targets[i].id, "check postponed: {e}");
                        if let Some(c) = coordinator {
                            let again = add(clock.now(), wait.max(lock::POLL));
                            release(c, &targets[i], Some(again), Duration::ZERO, false);
                        }
                        match options.mode {
                            Mode::Once => {
                                queues.skipped(&hosts, i);
                                summary.failed += 1;
                                done.insert(
                                    seq,
                                    Finished {
                                        target: i,
                                        started_at: clock.now(),
                                        result: Err(Error::Locked(e)),
                                    },
                                );
                            }
                            Mode::Schedule => {
                                postponed.insert(i, add(clock.now(), wait.max(lock::POLL)));
                            }
                        }
                        continue;
                    }
                }
            }
            let started_at = clock.now();
            hosts.start(i);
            running[i] = true;
            last[i] = last[i].max(Some(started_at));
            postponed.remove(&i);
            dispatched += 1;
            debug!(target = %targets[i].id, in_flight = in_flight.len() + 1, "check started");
            if coordinator.is_none() {
                batches.starting(&monitor);
            }
            let (monitor, targets) = (Arc::clone(&monitor), Arc::clone(&targets));
            in_flight.spawn(async move {
                let result = monitor.check(&targets[i]).await;
                (
                    seq,
                    Finished {
                        target: i,
                        started_at,
                        result,
                    },
                )
            });
        }

        if in_flight.is_empty() {
            // Nothing in flight: commit, write the feeds, then no need for
            // the lock (another run may go).
            if !batches.commit(&monitor, false) {
                summary.failed += 1;
            }
            if lock.is_some() {
                refresh_feeds(&monitor, &mut changed_targets);
            }
            lock = None;
            if stopping || (wake.is_none() && options.mode == Mode::Once) {
                break;
            }
            if wake.is_none() {
                info!("no target will ever be due; waiting for shutdown");
            }
        }

        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep(until(clock.now(), at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            joined = in_flight.join_next(), if !in_flight.is_empty() => {
                let (seq, finished) = match joined {
                    Some(Ok(f)) => f,
                    Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    // Blocking tasks are never cancelled; nothing else ends one.
                    Some(Err(_)) | None => continue,
                };
                let i = finished.target;
                if let Some(c) = coordinator {
                    let due = watch::watch_due(&targets[i], Some(finished.started_at));
                    release(c, &targets[i], due, options.min_host_delay, true);
                }
                hosts.finish(i, add(clock.now(), options.min_host_delay));
                running[i] = false;
                queues.host_free(&hosts, i);
                summary.checked += 1;
                match &finished.result {
                    Ok(Outcome::Changed { .. }) => {
                        summary.changed += 1;
                        changed_targets.push(targets[i].id.clone());
                    }
                    Ok(_) => {}
                    Err(_) => summary.failed += 1,
                }
                done.insert(seq, finished);
                if !batches.ended(&monitor, !in_flight.is_empty()) {
                    summary.failed += 1;
                }
            }
            () = sleep => {}
            changed = shutdown.changed(), if !stopping => {
                if changed.is_err() {
                    info!("shutdown requested; stopping");
                    stopping = true;
                }
            }
        }
    }
    if !batches.commit(&monitor, false) {
        summary.failed += 1;
    }
    // A stop leaves gaps in the order given: report the rest as it is.
    for (_, f) in std::mem::take(&mut done) {
        report(&targets, options.mode, f, &mut on_check);
    }
    // `check` (the lock held by the caller): the feeds once, at the end.
    if options.locking == Locking::Held || lock.is_some() {
        refresh_feeds(&monitor, &mut changed_targets);
    }
    drop(lock);
    Ok(summary)
}

/// The run's store batches: one open from the first check dispatched,
/// committed every [`Batches::CHECKS`] checks or [`Batches::AGE`] (a batch
/// holds SQLite's write lock, which alert delivery from another process
/// waits for), and whenever the loop says so.
#[derive(Debug, Default)]
struct Batches {
    /// When the open batch was opened; `None` when none is.
    since: Option<std::time::Instant>,
    /// Checks ended in the open batch.
    checks: usize,
}

impl Batches {
    const CHECKS: usize = 256;
    const AGE: Duration = Duration::from_secs(1);

    /// Before a check starts: a batch is open (if the store cannot open
    /// one, the check commits on its own, as without batches).
    fn starting(&mut self, monitor: &Monitor) {
        if self.since.is_some() {
            return;
        }
        match monitor.begin_batch() {
            Ok(()) => {
                self.since = Some(std::time::Instant::now());
                self.checks = 0;
            }
            Err(e) => warn!("checks not batched: {e}"),
        }
    }

    /// After a check ended: commits a full or old batch, opening the next
    /// at once when checks are `in_flight`. False when the commit failed.
    fn ended(&mut self, monitor: &Monitor, in_flight: bool) -> bool {
        self.checks += 1;
        let due = self
            .since
            .is_some_and(|t| self.checks >= Self::CHECKS || t.elapsed() >= Self::AGE);
        !due || self.commit(monitor, in_flight)
    }

    /// Commits the open batch (a no-op without one), opening the next at
    /// once with `reopen`. False when the commit failed (logged: its checks
    /// were not recorded).
    fn commit(&mut self, monitor: &Monitor, reopen: bool) -> bool {
        if self.since.is_none() {
            return true;
        }
        let committed = monitor.commit_batch(reopen);
        self.since = reopen.then(std::time::Instant::now);
        self.checks = 0;
        match committed {
            Ok(()) => true,
            Err(e) => {
                tracing::error!("checks not recorded: {e}");
                false
            }
        }
    }
}

/// Rewrites the feeds the checks since the last call made stale, once each
/// (see [`crate::archive::refresh_feeds_for`]), with the store lock held. The
/// changes are recorded: a feed that fails is said, and rewritten by the next
/// run's repair.
fn refresh_feeds(monitor: &Monitor, changed: &mut Vec<String>) {
    if let Err(e) = crate::archive::refresh_feeds_for(&monitor.store(), changed) {
        warn!("atom feeds not refreshed: {e}");
    }
    changed.clear();
}

/// Logs one finished check and hands it to the caller.
fn report(targets: &[Target], mode: Mode, f: Finished, on_check: &mut impl FnMut(Checked<'_>)) {
    let target = &targets[f.target];
    let next_due = match mode {
        Mode::Once => None,
        Mode::Schedule => watch::watch_due(target, Some(f.started_at)),
    };
    // The next check's time, or `none` (a run of `check` or `--once`).
    let next = next_due.map_or_else(|| "none".to_string(), |t| t.to_string());
    match &f.result {
        Ok(o) => info!(target = %target.id, %next, "{}", o.describe()),
        // said once, as `redliner: ...`, by the command's report of the check
        Err(e) => debug!(target = %target.id, %next, "check failed: {e}"),
    }
    on_check(Checked {
        target,
        started_at: f.started_at,
        result: &f.result,
        next_due,
    });
}

/// The hosts of a run's targets: which one each target is on, and whether
/// each is busy (a check in flight) or when it is free again.
struct Hosts {
    /// Per target, its host's index.
    of: Vec<usize>,
    /// Per host: a check in flight.
    busy: Vec<bool>,
    /// Per host: the earliest start of its next check.
    free_at: Vec<Option<Timestamp>>,
}

impl Hosts {
    fn new(targets: &[Target]) -> Hosts {
        let mut index: HashMap<String, usize> = HashMap::new();
        let of: Vec<usize> = targets
            .iter()
            .map(|t| {
                let n = index.len();
                *index.entry(watch::host_key(t)).or_insert(n)
            })
            .collect();
        Hosts {
            of,
            busy: vec![false; index.len()],
            free_at: vec![None; index.len()],
        }
    }

    fn start(&mut self, target: usize) {
        self.busy[self.of[target]] = true;
    }

    fn finish(&mut self, target: usize, free_at: Timestamp) {
        let h = self.of[target];
        self.busy[h] = false;
        self.free_at[h] = Some(free_at);
    }
}

/// [`Mode::Once`]'s work list: per host, the targets left in the order given;
/// the hosts ready to start one (by most targets left, then the lowest
/// index), and those waiting out their delay (by the time they are free).
struct Queues {
    left: Vec<VecDeque<usize>>,
    ready: BinaryHeap<(usize, Reverse<usize>, usize)>,
    waiting: BinaryHeap<Reverse<(Timestamp, usize)>>,
}

impl Queues {
    fn new(hosts: &Hosts, targets: usize, active: bool) -> Queues {
        let mut left = vec![VecDeque::new(); hosts.busy.len()];
        if active {
            for i in 0..targets {
                left[hosts.of[i]].push_back(i);
            }
        }
        let mut q = Queues {
            left,
            ready: BinaryHeap::new(),
            waiting: BinaryHeap::new(),
        };
        for h in 0..q.left.len() {
            q.mark_ready(h);
        }
        q
    }

    fn mark_ready(&mut self, h: usize) {
        if let Some(&first) = self.left[h].front() {
            self.ready.push((self.left[h].len(), Reverse(first), h));
        }
    }

    /// The next target to start at `now`: the first of the ready host with
    /// the most targets left (ties to the lowest index), else when the
    /// first waiting host is free.
    fn next(&mut self, hosts: &Hosts, now: Timestamp) -> Next {
        while let Some(&Reverse((at, h))) = self.waiting.peek() {
            if at > now {
                break;
            }
            self.waiting.pop();
            self.mark_ready(h);
        }
        if let Some((_, _, h)) = self.ready.pop() {
            debug_assert!(!hosts.busy[h]);
            if let Some(i) = self.left[h].pop_front() {
                return Next::Now(i);
            }
        }
        match self.waiting.peek() {
            Some(&Reverse((at, _))) => Next::At(at),
            None => Next::Wait,
        }
    }

    /// `target` could not start (its host or itself held by another
    /// worker): it goes back to the front of its host's queue, and the host
    /// is tried again at `at`.
    fn retry_later(&mut self, hosts: &Hosts, target: usize, at: Timestamp) {
        let h = hosts.of[target];
        self.left[h].push_front(target);
        self.waiting.push(Reverse((at, h)));
    }

    /// `target` will not be checked (the store lock stayed busy): its host
    /// may start its next target at once.
    fn skipped(&mut self, hosts: &Hosts, target: usize) {
        self.mark_ready(hosts.of[target]);
    }

    /// `target`'s check ended: its host may start its next target when its
    /// delay is over.
    fn host_free(&mut self, hosts: &Hosts, target: usize) {
        let h = hosts.of[target];
        if self.left[h].is_empty() {
            return;
        }
        match hosts.free_at[h] {
            Some(at) => self.waiting.push(Reverse((at, h))),
            None => self.mark_ready(h),
        }
    }
}

/// [`Mode::Schedule`]'s pick: among the targets not in flight whose host is
/// not busy, the earliest start (its due time, never before its host is
/// free or a postponement ends; see [`watch::pick`]).
fn scheduled_next(
    targets: &[Target],
    hosts: &Hosts,
    last: &[Option<Timestamp>],
    postponed: &HashMap<usize, Timestamp>,
    running: &[bool],
    now: Timestamp,
) -> Next {
    let candidates: Vec<_> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let h = hosts.of[i];
            if running[i] || hosts.busy[h] {
                return (None, None);
            }
            let not_before = [postponed.get(&i).copied(), hosts.free_at[h]]
                .into_iter()
                .flatten()
                .max();
            (watch::watch_due(t, last[i]), not_before)
        })
        .collect();
    match watch::pick(&candidates) {
        Some((i, at)) if at <= now => Next::Now(i),
        Some((_, at)) => Next::At(at),
        None => Next::Wait,
    }
}

/// Reads the start of each target's latest check from the store, keeping
/// this run's later attempts (a check the store could not record still must
/// not be retried at once).
fn read_last_starts(
    monitor: &Monitor,
    targets: &[Target],
    last: &mut [Option<Timestamp>],
) -> std::result::Result<(), crate::store::StoreError> {
    let store = monitor.store();
    for (t, last) in targets.iter().zip(last.iter_mut()) {
        *last = (*last).max(store.last_check_started(&t.id, &[])?);
    }
    Ok(())
}

/// [`Mode::Schedule`], coordinated: claims the next due target of this
/// run in the shared queue (skipping the hosts this run has a check on).
/// When none can be claimed: ask again soon when a due target waits for a
/// host, at its due time (at most [`QUEUE_POLL`] away) otherwise.
fn claim_next(
    coordinator: &Coordinator,
    hosts: &Hosts,
    targets: &[Target],
    index: &HashMap<&str, usize>,
    now: Timestamp,
) -> Next {
    let busy: Vec<String> = targets
        .iter()
        .enumerate()
        .filter(|&(i, _)| hosts.busy[hosts.of[i]])
        .map(|(_, t)| watch::host_key(t))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    match coordinator.claim_due(now, &busy) {
        Ok(workers::Next::Claimed(id)) => match index.get(id.as_str()) {
            Some(&i) => Next::Claimed(i),
            // Claims are limited to the targets enlisted, which are ours.
            None => Next::At(add(now, CLAIM_POLL)),
        },
        Ok(workers::Next::Wait(Some(at))) if at <= now => Next::At(add(now, CLAIM_POLL)),
        Ok(workers::Next::Wait(at)) => {
            let poll = add(now, QUEUE_POLL);
            Next::At(at.map_or(poll, |at| at.min(poll)))
        }
        Err(e) => {
            warn!(
                "cannot read the shared queue (trying again in {}s): {e}",
                STORE_RETRY.as_secs()
            );
            Next::At(add(now, STORE_RETRY))
        }
    }
}

/// Gives `target` and its host back to the shared queue, due next at `due`;
/// a failure is logged (the lease runs out, and the next claim reads the
/// check from the store).
fn release(
    coordinator: &Coordinator,
    target: &Target,
    due: Option<Timestamp>,
    host_delay: Duration,
    checked: bool,
) {
    if let Err(e) = coordinator.release(&target.id, due, host_delay, checked) {
        warn!(target = %target.id, "lease not released (it runs out): {e}");
    }
}

/// Takes the store lock (shared with other workers when `shared`), polling
/// every [`lock::POLL`] for up to `wait`. `Ok(None)` when shutdown was
/// requested while waiting.
async fn acquire(
    monitor: &Monitor,
    wait: Duration,
    shared: bool,
    shutdown: &mut signal::Receiver<bool>,
) -> std::result::Result<Option<StoreLock>, lock::LockError> {
    let root = monitor.store().location();
    let start = tokio::time::Instant::now();
    loop {
        let got = if shared {
            StoreLock::try_acquire_shared(&root, "watch")?
        } else {
            StoreLock::try_acquire(&root, "watch")?
        };
        if let Some(l) = got {
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

    fn targets(urls: &[&str]) -> Vec<Target> {
        urls.iter()
            .enumerate()
            .map(|(i, u)| Target::new(format!("t{i}"), u.parse().unwrap(), Rules::generic()))
            .collect()
    }

    /// Starts every target `Queues` offers at `now`, finishing none.
    fn starts(urls: &[&str], concurrency: usize) -> Vec<usize> {
        let targets = targets(urls);
        let mut hosts = Hosts::new(&targets);
        let mut q = Queues::new(&hosts, targets.len(), true);
        let now = ts("2026-01-01T10:00:00Z");
        let mut started = Vec::new();
        while started.len() < concurrency {
            match q.next(&hosts, now) {
                Next::Now(i) => {
                    hosts.start(i);
                    started.push(i);
                }
                _ => break,
            }
        }
        started
    }

    #[test]
    fn once_starts_one_target_per_host_longest_queue_first() {
        let (a, b, c) = ("http://a.test/", "http://b.test/", "http://c.test/");
        let cases: Vec<(Vec<&str>, usize, Vec<usize>)> = vec![
            (vec![], 4, vec![]),
            // One host: one check at a time, whatever the concurrency.
            (vec![a, a, a], 4, vec![0]),
            // One target per host: config order, up to the concurrency.
            (vec![a, b, c], 4, vec![0, 1, 2]),
            (vec![a, b, c], 2, vec![0, 1]),
            // The host with most left first, then config order.
            (vec![a, b, b, c], 4, vec![1, 0, 3]),
            (vec![a, b, b, c], 1, vec![1]),
        ];
        for (urls, concurrency, want) in cases {
            assert_eq!(starts(&urls, concurrency), want, "{urls:?} {concurrency}");
        }
    }

    #[test]
    fn once_waits_out_a_hosts_delay_without_holding_a_slot() {
        let targets = targets(&["http://a.test/", "http://a.test/x", "http://b.test/"]);
        let mut hosts = Hosts::new(&targets);
        let mut q = Queues::new(&hosts, targets.len(), true);
        let (t0, t1, t2) = (
            ts("2026-01-01T10:00:00Z"),
            ts("2026-01-01T10:00:01Z"),
            ts("2026-01-01T10:00:05Z"),
        );
        assert_eq!(q.next(&hosts, t0), Next::Now(0));
        hosts.start(0);
        hosts.finish(0, t2);
        q.host_free(&hosts, 0);
        // Host a waits until t2; host b goes meanwhile.
        assert_eq!(q.next(&hosts, t1), Next::Now(2));
        hosts.start(2);
        assert_eq!(q.next(&hosts, t1), Next::At(t2));
        assert_eq!(q.next(&hosts, t2), Next::Now(1));
        hosts.start(1);
        assert_eq!(q.next(&hosts, t2), Next::Wait);
    }

    #[test]
    fn schedule_skips_busy_hosts_and_targets_in_flight() {
        let targets = targets(&["http://a.test/", "http://a.test/x", "http://b.test/"]);
        let mut hosts = Hosts::new(&targets);
        let now = ts("2026-01-01T10:00:00Z");
        let last = vec![None; 3];
        let mut running = vec![false; 3];
        let postponed = HashMap::new();
        let pick = |hosts: &Hosts, running: &[bool]| {
            scheduled_next(&targets, hosts, &last, &postponed, running, now)
        };
        assert_eq!(pick(&hosts, &running), Next::Now(0));
        hosts.start(0);
        running[0] = true;
        assert_eq!(pick(&hosts, &running), Next::Now(2));
        hosts.start(2);
        running[2] = true;
        assert_eq!(pick(&hosts, &running), Next::Wait);
        let later = ts("2026-01-01T10:00:05Z");
        hosts.finish(0, later);
        running[0] = false;
        // Both targets of host a wait for its delay.
        assert_eq!(pick(&hosts, &running), Next::At(later));
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
