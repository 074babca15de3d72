//! Workers that share one PostgreSQL store: the queue of due targets, the
//! per-host politeness every worker honours, and the roll of workers
//! (`redliner workers`). The tables are in
//! `migrations/postgres/003_workers.sql`.
//!
//! - **A target is checked by one worker at a time.** A worker claims a due
//!   target with `SELECT … FOR UPDATE SKIP LOCKED` and sets a lease on it
//!   (`work.worker`, `work.lease_until`); a second worker skips it.
//! - **One request at a time per host, across all workers.** The claim takes
//!   the target's host in the same transaction (`hosts.worker`,
//!   `hosts.lease_until`), and only when its last check ended at least
//!   `min_host_delay` ago (`hosts.free_at`).
//! - **Leases run out.** A heartbeat thread renews this worker's leases every
//!   quarter of the lease; a worker that dies (SIGKILL, a lost machine) stops
//!   renewing, and its targets and hosts return to the queue when the lease
//!   ends.
//! - **The `checks` table is the truth about what was checked.** A claim
//!   reads the target's latest check first: a check recorded since the
//!   queue's due time (a worker killed after recording but before releasing,
//!   `check` run by hand) moves the due time on instead of checking again.
//! - **Clocks.** Leases and host delays are the database's clock
//!   (`clock_timestamp()`), so machines whose clocks drift still agree; due
//!   times are the checking worker's clock, like the `checks` table.

use std::collections::HashSet;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;

use super::StoreError;
use super::db::DbError;
use super::db::postgres::{self, PgTarget};

/// When a target is due after a check that started at the given time
/// (`None`: never again). Given by the caller, which knows the schedules.
pub type NextDue = dyn Fn(&str, Timestamp) -> Option<Timestamp> + Send + Sync;

/// A target as the queue knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedTarget {
    /// The target's id.
    pub id: String,
    /// Its host key (`host:port`).
    pub host: String,
}

/// When [`Coordinator::claim`] takes a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Whenever it and its host are free (`check TARGET`).
    Any,
    /// When the shared queue says it is due (the `watch` daemon).
    Queue,
    /// When no check started after this one (the latest this run knew of
    /// when it found the target due; `None`: never checked), so a run from
    /// cron skips what another worker checked meanwhile (`check --due`,
    /// `watch --once`).
    NotCheckedSince(Option<Timestamp>),
}

/// What a claim of one target found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The target and its host are this worker's until released.
    Claimed,
    /// Another worker holds the target or its host, or the host's delay has
    /// not passed: try again later.
    Busy,
    /// The target is not due (see [`Due`]): another worker checked it
    /// since, or its schedule says later.
    NotDue,
}

/// The first step of a claim: the rows locked and the leases set, or why not.
enum Step {
    Busy,
    NotDue,
    /// Claimed; the start of the target's latest check, as stored.
    Claimed(Option<String>),
}

/// What [`Coordinator::claim_due`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// This target (and its host) is claimed.
    Claimed(String),
    /// Nothing to claim now; the earliest due time of an unclaimed target
    /// (`None`: none is ever due). A time already passed means a due target
    /// waits for its host.
    Wait(Option<Timestamp>),
}

/// One worker as `redliner workers` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WorkerRow {
    /// `<hostname>:<pid>:<4 characters>`.
    pub id: String,
    /// The machine's host name.
    pub hostname: String,
    /// The process id on that machine.
    pub pid: i64,
    /// `watch` or `check`.
    pub command: String,
    /// redliner's version.
    pub version: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it last said it was alive.
    pub heartbeat_at: Timestamp,
    /// When it stopped cleanly; `None` while it runs, or after it died.
    pub stopped_at: Option<Timestamp>,
    /// `running`, `stopped`, or `lost` (no heartbeat for longer than its
    /// lease: killed, or cut off from the database).
    pub state: String,
    /// Checks it ran.
    pub checks: i64,
    /// Targets and hosts it holds now.
    pub leases: i64,
}

/// This process as a worker of a PostgreSQL store: registered in `workers`,
/// kept alive by a heartbeat thread until [`Coordinator::stop`] (or drop).
pub struct Coordinator {
    target: PgTarget,
    id: String,
    lease: Duration,
    next_due: Box<NextDue>,
    /// The targets this worker's config has; others in the queue (another
    /// config's) are left to the workers that have them.
    known: Mutex<HashSet<String>>,
    /// Target ids of the queue this worker found it does not have.
    foreign: Mutex<Vec<String>>,
    heartbeat: Mutex<Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>>,
}

impl std::fmt::Debug for Coordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coordinator")
            .field("id", &self.id)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

fn db_err(target: &PgTarget) -> impl Fn(DbError) -> StoreError + '_ {
    move |source| StoreError::Database {
        path: target.display(),
        source,
    }
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn from_ms(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}

/// The machine's host name (`/proc/sys/kernel/hostname`, else `HOSTNAME`).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

impl Coordinator {
    /// Registers this process as a worker (`command`: `watch` or `check`)
    /// of the store in `target`, holding leases for `lease` at a time, and
    /// starts its heartbeat. `next_due` says when a target is due after a
    /// check that started at a given time.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the database cannot be reached.
    pub fn start(
        target: PgTarget,
        command: &str,
        lease: Duration,
        next_due: Box<NextDue>,
    ) -> Result<Arc<Coordinator>, StoreError> {
        let lease = lease.max(Duration::from_secs(1));
        let nanos = Timestamp::now().subsec_nanosecond().unsigned_abs();
        let id = format!(
            "{}:{}:{:04x}",
            hostname(),
            std::process::id(),
            (nanos ^ (nanos >> 16)) & 0xffff
        );
        let (row_id, command) = (id.clone(), command.to_string());
        let host = hostname();
        let pid = i64::from(std::process::id());
        postgres::with_client(&target, move |c| async move {
            c.execute(
                "INSERT INTO workers (id, hostname, pid, command, version)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET started_at = clock_timestamp(),
                     heartbeat_at = clock_timestamp(), stopped_at = NULL, checks = 0",
                &[&row_id, &host, &pid, &command, &env!("CARGO_PKG_VERSION")],
            )
            .await?;
            // The roll keeps a week of workers gone (one a day per cron
            // line would otherwise pile up).
            c.execute(
                "DELETE FROM workers
                  WHERE heartbeat_at < clock_timestamp() - interval '7 days'
                    AND NOT EXISTS (SELECT 1 FROM work WHERE work.worker = workers.id)
                    AND NOT EXISTS (SELECT 1 FROM hosts WHERE hosts.worker = workers.id)",
                &[],
            )
            .await
        })
        .map_err(db_err(&target))?;
        let coordinator = Arc::new(Coordinator {
            target,
            id,
            lease,
            next_due,
            known: Mutex::default(),
            foreign: Mutex::default(),
            heartbeat: Mutex::default(),
        });
        coordinator.start_heartbeat();
        Ok(coordinator)
    }

    /// This worker's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How long a lease lasts without renewal.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    fn start_heartbeat(&self) {
        let (tx, rx) = mpsc::channel::<()>();
        let every = (self.lease / 4).max(Duration::from_millis(200));
        let (target, id, lease) = (self.target.clone(), self.id.clone(), lease_ms(self.lease));
        let handle = std::thread::Builder::new()
            .name("redliner-heartbeat".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                    let id = id.clone();
                    let beat = postgres::with_client(&target, move |c| async move {
                        c.execute(
                            "UPDATE workers SET heartbeat_at = clock_timestamp() WHERE id = $1",
                            &[&id],
                        )
                        .await?;
                        for table in ["work", "hosts"] {
                            c.execute(
                                &format!(
                                    "UPDATE {table} SET lease_until = clock_timestamp()
                                            + $2::bigint * interval '1 millisecond'
                                      WHERE worker = $1 AND lease_until IS NOT NULL"
                                ),
                                &[&id, &lease],
                            )
                            .await?;
                        }
                        Ok(())
                    });
                    if let Err(e) = beat {
                        tracing::warn!("worker heartbeat not recorded (leases may run out): {e}");
                    }
                }
            });
        match handle {
            Ok(h) => {
                *self
                    .heartbeat
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((tx, h));
            }
            Err(e) => tracing::warn!("worker heartbeat not started: {e}"),
        }
    }

    /// Puts `targets` (in config order) in the queue, each due as its
    /// latest check says (never checked: due now), and remembers them as
    /// this worker's. A target another worker holds keeps its due time.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn enlist(&self, targets: &[QueuedTarget]) -> Result<(), StoreError> {
        let last: Vec<(String, String)> = postgres::with_client(&self.target, |c| async move {
            let rows = c
                .query(
                    "SELECT target_id, max(started_at) FROM checks GROUP BY target_id",
                    &[],
                )
                .await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
        .map_err(db_err(&self.target))?;
        let last: std::collections::HashMap<String, Timestamp> = last
            .into_iter()
            .filter_map(|(id, at)| Some((id, at.parse().ok()?)))
            .collect();
        let ids: Vec<String> = targets.iter().map(|t| t.id.clone()).collect();
        let hosts: Vec<String> = targets.iter().map(|t| t.host.clone()).collect();
        let due: Vec<i64> = targets
            .iter()
            .map(|t| match last.get(&t.id) {
                None => ms(Timestamp::UNIX_EPOCH),
                Some(&at) => (self.next_due)(&t.id, at).map_or(i64::MAX, ms),
            })
            .collect();
        let ord: Vec<i64> = (0..targets.len() as i64).collect();
        postgres::with_client(&self.target, move |mut c| async move {
            let tx = c.transaction().await?;
            tx.execute(
                "INSERT INTO hosts (host) SELECT DISTINCT unnest($1::text[])
                 ON CONFLICT (host) DO NOTHING",
                &[&hosts],
            )
            .await?;
            tx.execute(
                "INSERT INTO work (target_id, host, due_ms, ord)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
                 ON CONFLICT (target_id) DO UPDATE
                    SET host = excluded.host, ord = excluded.ord,
                        due_ms = CASE WHEN work.worker IS NULL
                                        OR work.lease_until < clock_timestamp()
                                      THEN excluded.due_ms ELSE work.due_ms END",
                &[&ids, &hosts, &due, &ord],
            )
            .await?;
            tx.commit().await
        })
        .map_err(db_err(&self.target))?;
        let mut known = self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        known.extend(targets.iter().map(|t| t.id.clone()));
        Ok(())
    }

    /// Claims the earliest due target of this worker (due at or before
    /// `now`, by this worker's clock) that no worker holds and whose host is
    /// free, skipping the hosts in `skip_hosts`. Ties go to the config order.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn claim_due(&self, now: Timestamp, skip_hosts: &[String]) -> Result<Next, StoreError> {
        loop {
            let foreign = self
                .foreign
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            let skip: Vec<String> = skip_hosts.to_vec();
            let now_ms = ms(now);
            let candidates: Vec<(String, String)> =
                postgres::with_client(&self.target, move |c| async move {
                    let rows = c
                        .query(
                            "SELECT w.target_id, w.host FROM work w
                              WHERE w.due_ms <= $1
                                AND (w.worker IS NULL OR w.lease_until < clock_timestamp())
                                AND NOT (w.target_id = ANY($2))
                                AND NOT (w.host = ANY($3))
                                AND NOT EXISTS (
                                    SELECT 1 FROM hosts h WHERE h.host = w.host
                                       AND ((h.worker IS NOT NULL
                                             AND h.lease_until >= clock_timestamp())
                                            OR h.free_at > clock_timestamp()))
                              ORDER BY w.due_ms, w.ord LIMIT 32",
                            &[&now_ms, &foreign, &skip],
                        )
                        .await?;
                    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
                })
                .map_err(db_err(&self.target))?;
            if candidates.is_empty() {
                return self.earliest_due().map(Next::Wait);
            }
            let mut tried_hosts = HashSet::new();
            let mut new_foreign = false;
            for (id, host) in candidates {
                if !self.knows(&id) {
                    self.foreign
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(id);
                    new_foreign = true;
                    continue;
                }
                if !tried_hosts.insert(host) {
                    continue;
                }
                if self.claim(&id, now, Due::Queue)? == Claim::Claimed {
                    return Ok(Next::Claimed(id));
                }
            }
            if !new_foreign {
                // Every candidate was taken by another worker meanwhile, or
                // turned out not due: due work waits for its hosts.
                return Ok(Next::Wait(Some(now)));
            }
        }
    }

    fn knows(&self, id: &str) -> bool {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(id)
    }

    /// The earliest due time among unclaimed targets of this worker.
    fn earliest_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let foreign = self
            .foreign
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let min: Option<i64> = postgres::with_client(&self.target, move |c| async move {
            let row = c
                .query_one(
                    "SELECT min(due_ms) FROM work
                      WHERE NOT (target_id = ANY($1))
                        AND (worker IS NULL OR lease_until < clock_timestamp())",
                    &[&foreign],
                )
                .await?;
            Ok(row.get(0))
        })
        .map_err(db_err(&self.target))?;
        Ok(min.filter(|&m| m != i64::MAX).map(from_ms))
    }

    /// Claims target `id` and its host for this worker, when `due` says it
    /// is due at `now`. With [`Due::Queue`], a check recorded since the
    /// queue's due time (by a worker killed before it released, or by hand)
    /// moves its due time on, and it is [`Claim::NotDue`].
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn claim(&self, id: &str, now: Timestamp, due: Due) -> Result<Claim, StoreError> {
        let queue_due = due == Due::Queue;
        let (me, lease) = (self.id.clone(), lease_ms(self.lease));
        let target_id = id.to_string();
        let now_ms = ms(now);
        // Step 1, in one transaction: lock the target's row and its host's
        // (skipping either when another worker is on it), check they are
        // free, and read the target's latest check.
        let found: Step =
            postgres::with_client(&self.target, move |mut c| async move {
                let tx = c.transaction().await?;
                let Some(w) = tx
                    .query_opt(
                        "SELECT host, due_ms,
                                worker IS NOT NULL AND lease_until >= clock_timestamp()
                           FROM work WHERE target_id = $1 FOR UPDATE SKIP LOCKED",
                        &[&target_id],
                    )
                    .await?
                else {
                    return Ok(Step::Busy);
                };
                let (host, due_ms, held): (String, i64, bool) = (w.get(0), w.get(1), w.get(2));
                if held || (queue_due && due_ms > now_ms) {
                    tx.rollback().await?;
                    return Ok(if held { Step::Busy } else { Step::NotDue });
                }
                let free = tx
                    .query_opt(
                        "SELECT 1 FROM hosts WHERE host = $1
                            AND NOT coalesce(
                                    (worker IS NOT NULL AND lease_until >= clock_timestamp())
                                    OR free_at > clock_timestamp(), false)
                         FOR UPDATE SKIP LOCKED",
                        &[&host],
                    )
                    .await?;
                if free.is_none() {
                    tx.rollback().await?;
                    return Ok(Step::Busy);
                }
                let last: Option<String> = tx
                    .query_one(
                        "SELECT max(started_at) FROM checks WHERE target_id = $1",
                        &[&target_id],
                    )
                    .await?
                    .get(0);
                for (table, key) in [("hosts", "host"), ("work", "target_id")] {
                    let value = if table == "hosts" { &host } else { &target_id };
                    tx.execute(
                        &format!(
                            "UPDATE {table} SET worker = $2,
                                    lease_until = clock_timestamp() + $3::bigint * interval '1 millisecond'
                              WHERE {key} = $1"
                        ),
                        &[value, &me, &lease],
                    )
                    .await?;
                }
                tx.commit().await?;
                Ok(Step::Claimed(last))
            })
            .map_err(db_err(&self.target))?;
        let last = match found {
            Step::Busy => return Ok(Claim::Busy),
            Step::NotDue => return Ok(Claim::NotDue),
            Step::Claimed(last) => last,
        };
        // Step 2: a check recorded since served it.
        let last = last.and_then(|s| s.parse::<Timestamp>().ok());
        let served = match (due, last) {
            (_, None) | (Due::Any, _) => false,
            (Due::Queue, Some(last)) => (self.next_due)(id, last).is_none_or(|n| n > now),
            (Due::NotCheckedSince(seen), Some(last)) => seen.is_none_or(|seen| last > seen),
        };
        if let (true, Some(last)) = (served, last) {
            self.release(id, (self.next_due)(id, last), Duration::ZERO, false)?;
            return Ok(Claim::NotDue);
        }
        Ok(Claim::Claimed)
    }

    /// Releases target `id` and its host: the target is due next at `due`
    /// (`None`: never), its host free `host_delay` from now. `checked`:
    /// a check ran (counted for `redliner workers`; a host that was not
    /// fetched from keeps its earlier free time).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn release(
        &self,
        id: &str,
        due: Option<Timestamp>,
        host_delay: Duration,
        checked: bool,
    ) -> Result<(), StoreError> {
        let (me, target_id) = (self.id.clone(), id.to_string());
        let due = due.map_or(i64::MAX, ms);
        let delay = lease_ms(host_delay);
        postgres::with_client(&self.target, move |mut c| async move {
            let tx = c.transaction().await?;
            let host: Option<String> = tx
                .query_opt(
                    "UPDATE work SET worker = NULL, lease_until = NULL, due_ms = $3
                      WHERE target_id = $1 AND worker = $2 RETURNING host",
                    &[&target_id, &me, &due],
                )
                .await?
                .map(|r| r.get(0));
            if let Some(host) = host {
                tx.execute(
                    "UPDATE hosts SET worker = NULL, lease_until = NULL,
                            free_at = CASE WHEN $3 THEN clock_timestamp()
                                           + $4::bigint * interval '1 millisecond' ELSE free_at END
                      WHERE host = $1 AND worker = $2",
                    &[&host, &me, &checked, &delay],
                )
                .await?;
            }
            if checked {
                tx.execute(
                    "UPDATE workers SET checks = checks + 1, heartbeat_at = clock_timestamp()
                      WHERE id = $1",
                    &[&me],
                )
                .await?;
            }
            tx.commit().await
        })
        .map_err(db_err(&self.target))
    }

    /// Stops the heartbeat, gives back every lease this worker holds and
    /// marks it stopped. Called by drop too; a second call does nothing.
    pub fn stop(&self) {
        let heartbeat = self
            .heartbeat
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let Some((tx, handle)) = heartbeat else {
            return;
        };
        drop(tx);
        let _ = handle.join();
        let me = self.id.clone();
        let done = postgres::with_client(&self.target, move |c| async move {
            for table in ["work", "hosts"] {
                c.execute(
                    &format!(
                        "UPDATE {table} SET worker = NULL, lease_until = NULL WHERE worker = $1"
                    ),
                    &[&me],
                )
                .await?;
            }
            c.execute(
                "UPDATE workers SET stopped_at = clock_timestamp(),
                        heartbeat_at = clock_timestamp() WHERE id = $1",
                &[&me],
            )
            .await?;
            Ok(())
        });
        if let Err(e) = done {
            tracing::warn!(
                "worker `{}` not signed off (its leases run out): {e}",
                self.id
            );
        }
    }
}

impl Drop for Coordinator {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The workers of the store in `target`: running ones, those lost (no
/// heartbeat for `lost_after`), and those stopped within `stopped_within`,
/// most recent heartbeat first.
///
/// # Errors
/// [`StoreError::Database`].
pub fn list(
    target: &PgTarget,
    lost_after: Duration,
    stopped_within: Duration,
) -> Result<Vec<WorkerRow>, StoreError> {
    let (lost, within) = (lease_ms(lost_after), lease_ms(stopped_within));
    let rows = postgres::with_client(target, move |c| async move {
        let rows = c
            .query(
                "SELECT w.id, w.hostname, w.pid, w.command, w.version,
                        (extract(epoch FROM w.started_at) * 1000)::bigint,
                        (extract(epoch FROM w.heartbeat_at) * 1000)::bigint,
                        (extract(epoch FROM w.stopped_at) * 1000)::bigint,
                        CASE WHEN w.stopped_at IS NOT NULL THEN 'stopped'
                             WHEN w.heartbeat_at < clock_timestamp()
                                  - $1::bigint * interval '1 millisecond' THEN 'lost'
                             ELSE 'running' END,
                        w.checks,
                        (SELECT count(*) FROM work k WHERE k.worker = w.id
                            AND k.lease_until >= clock_timestamp())
                        + (SELECT count(*) FROM hosts h WHERE h.worker = w.id
                            AND h.lease_until >= clock_timestamp())
                   FROM workers w
                  WHERE w.stopped_at IS NULL
                     OR w.stopped_at >= clock_timestamp() - $2::bigint * interval '1 millisecond'
                  ORDER BY w.heartbeat_at DESC, w.id",
                &[&lost, &within],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| WorkerRow {
                id: r.get(0),
                hostname: r.get(1),
                pid: r.get(2),
                command: r.get(3),
                version: r.get(4),
                started_at: from_ms(r.get(5)),
                heartbeat_at: from_ms(r.get(6)),
                stopped_at: r.get::<_, Option<i64>>(7).map(from_ms),
                state: r.get(8),
                checks: r.get(9),
                leases: r.get(10),
            })
            .collect())
    })
    .map_err(db_err(target))?;
    Ok(rows)
}
