//! Test support: a counter of the SQL a store runs (statements, rows,
//! virtual-machine steps, full-scan steps; SQLite's own counters through
//! `sqlite3_trace_v2`), and a copy of one target's rows under another id, to
//! grow a store's history without writing its files.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use rusqlite::StatementStatus;
use rusqlite::trace::{TraceEvent, TraceEventCodes};

use super::db::params;

use super::{SNAPSHOT_COLUMNS, Store};

/// What the store's connection ran while counting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqlCount {
    /// Statements run (each execution of a prepared statement).
    pub statements: u64,
    /// Rows the statements returned.
    pub rows: u64,
    /// Virtual-machine steps: the work done, rows scanned included.
    pub vm_steps: u64,
    /// Steps of full table scans (a query no index serves).
    pub fullscan_steps: u64,
    /// The statements' SQL, in order.
    pub sql: Vec<String>,
}

/// The counters (`sqlite3_trace_v2` takes a plain function, no state).
static COUNT: Mutex<Option<Counting>> = Mutex::new(None);

/// Only one store counts at a time.
static EXCLUSIVE: Mutex<()> = Mutex::new(());

#[derive(Default)]
struct Counting {
    count: SqlCount,
    /// Per statement text: its counters when it began running.
    started: HashMap<String, (i32, i32)>,
}

fn on_event(event: TraceEvent<'_>) {
    let mut guard = COUNT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(c) = guard.as_mut() else {
        return;
    };
    match event {
        TraceEvent::Stmt(stmt, _) => {
            let sql = stmt.sql().into_owned();
            c.count.statements += 1;
            c.started.insert(
                sql.clone(),
                (
                    stmt.get_status(StatementStatus::VmStep),
                    stmt.get_status(StatementStatus::FullscanStep),
                ),
            );
            c.count.sql.push(sql);
        }
        TraceEvent::Row(_) => c.count.rows += 1,
        TraceEvent::Profile(stmt, _) => {
            let (vm, scan) = c.started.remove(stmt.sql().as_ref()).unwrap_or((0, 0));
            let delta = |now: i32, then: i32| u64::try_from(now - then).unwrap_or(0);
            c.count.vm_steps += delta(stmt.get_status(StatementStatus::VmStep), vm);
            c.count.fullscan_steps += delta(stmt.get_status(StatementStatus::FullscanStep), scan);
        }
        _ => {}
    }
}

impl Store {
    /// Starts counting the SQL this store's connection runs, until
    /// [`Store::stop_counting`]; one store counts at a time (the guard).
    pub(crate) fn start_counting(&self) -> MutexGuard<'static, ()> {
        let one = EXCLUSIVE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *COUNT.lock().unwrap() = Some(Counting::default());
        self.conn
            .as_sqlite()
            .expect("SQL counters read SQLite")
            .trace_v2(
                TraceEventCodes::SQLITE_TRACE_STMT
                    | TraceEventCodes::SQLITE_TRACE_ROW
                    | TraceEventCodes::SQLITE_TRACE_PROFILE,
                Some(on_event),
            );
        one
    }

    /// What ran since [`Store::start_counting`].
    pub(crate) fn stop_counting(&self, guard: MutexGuard<'static, ()>) -> SqlCount {
        self.conn
            .as_sqlite()
            .expect("SQL counters read SQLite")
            .trace_v2(TraceEventCodes::empty(), None);
        let counted = COUNT.lock().unwrap().take().unwrap_or_default();
        drop(guard);
        counted.count
    }

    /// Copies every row of target `from` (target, snapshots, revisions,
    /// checks, alerts) under the id `to`, with the same times; no file is
    /// copied, so reading one of `to`'s files fails.
    pub(crate) fn clone_history(&self, from: &str, to: &str) {
        let tx = self.conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO targets (id, url, first_seen) SELECT ?2, url, first_seen
             FROM targets WHERE id = ?1",
            params![from, to],
        )
        .unwrap();
        let columns: Vec<&str> = SNAPSHOT_COLUMNS
            .split(',')
            .map(str::trim)
            .filter(|c| *c != "id")
            .collect();
        let values: Vec<String> = columns
            .iter()
            .map(|c| match *c {
                "target_id" => "?2".to_string(),
                "dir" => "?2 || substr(dir, length(target_id) + 1)".to_string(),
                other => other.to_string(),
            })
            .collect();
        let copy_snapshot = format!(
            "INSERT INTO snapshots ({}) SELECT {} FROM snapshots WHERE id = ?1 RETURNING id",
            columns.join(", "),
            values.join(", ")
        );
        let ids = |sql: &str| -> Vec<i64> {
            let mut st = tx.prepare(sql).unwrap();
            st.query_map([from], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let mut snapshots: HashMap<i64, i64> = HashMap::new();
        for id in ids("SELECT id FROM snapshots WHERE target_id = ?1 ORDER BY id") {
            let new: i64 = tx
                .query_row(&copy_snapshot, params![id, to], |r| r.get(0))
                .unwrap();
            snapshots.insert(id, new);
        }
        let mut revisions: HashMap<i64, i64> = HashMap::new();
        for id in ids("SELECT id FROM revisions WHERE target_id = ?1 ORDER BY id") {
            let (old, new): (i64, i64) = tx
                .query_row(
                    "SELECT old_snapshot_id, new_snapshot_id FROM revisions WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            let new_id: i64 = tx
                .query_row(
                    "INSERT INTO revisions (target_id, old_snapshot_id, new_snapshot_id, kind,
                        technical, summary_json, revision_json, created_at)
                 SELECT ?2, ?3, ?4, kind, technical, summary_json, revision_json, created_at
                 FROM revisions WHERE id = ?1 RETURNING id",
                    params![id, to, snapshots[&old], snapshots[&new]],
                    |r| r.get(0),
                )
                .unwrap();
            revisions.insert(id, new_id);
        }
        let mapped =
            |map: &HashMap<i64, i64>, id: Option<i64>| id.and_then(|i| map.get(&i).copied());
        let mut checks: HashMap<i64, i64> = HashMap::new();
        for id in ids("SELECT id FROM checks WHERE target_id = ?1 ORDER BY id") {
            let (snapshot, revision): (Option<i64>, Option<i64>) = tx
                .query_row(
                    "SELECT snapshot_id, revision_id FROM checks WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            let new_id: i64 = tx
                .query_row(
                    "INSERT INTO checks (target_id, started_at, finished_at, url, final_url,
                        http_status, outcome, error, snapshot_id, revision_id, duration_ms, note)
                 SELECT ?2, started_at, finished_at, url, final_url, http_status, outcome,
                        error, ?3, ?4, duration_ms, note
                 FROM checks WHERE id = ?1 RETURNING id",
                    params![
                        id,
                        to,
                        mapped(&snapshots, snapshot),
                        mapped(&revisions, revision)
                    ],
                    |r| r.get(0),
                )
                .unwrap();
            checks.insert(id, new_id);
        }
        for id in ids("SELECT id FROM alerts WHERE target_id = ?1 ORDER BY id") {
            let (revision, snapshot, check): (Option<i64>, Option<i64>, Option<i64>) = tx
                .query_row(
                    "SELECT revision_id, snapshot_id, check_id FROM alerts WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap();
            tx.execute(
                "INSERT INTO alerts (target_id, revision_id, snapshot_id, check_id, channel_id,
                        kind, idempotency_key, payload_json, state, attempts, next_attempt_at,
                        lease_until, created_at, delivered_at, expires_at, last_error)
                 SELECT ?2, ?3, ?4, ?5, channel_id, kind, idempotency_key || ':' || ?2,
                        payload_json, state, attempts, next_attempt_at, lease_until, created_at,
                        delivered_at, expires_at, last_error
                 FROM alerts WHERE id = ?1",
                params![
                    id,
                    to,
                    mapped(&revisions, revision),
                    mapped(&snapshots, snapshot),
                    mapped(&checks, check)
                ],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }

    /// Index rows only (no files) for snapshots of `target` with these
    /// content fingerprints, oldest first, two per second from
    /// 2026-01-01T00:00:00Z.
    pub(crate) fn insert_bare_snapshots(&self, target: &str, oldest_first: &[&str]) {
        let tx = self.conn.transaction().unwrap();
        tx.execute(
            "INSERT OR IGNORE INTO targets (id, url, first_seen)
             VALUES (?1, 'https://example.org/', '2026-01-01T00:00:00.000Z')",
            [target],
        )
        .unwrap();
        for (i, hash) in oldest_first.iter().enumerate() {
            tx.execute(
                "INSERT INTO snapshots (target_id, captured_at, dir, url, final_url, http_status,
                        charset, content_hash, raw_sha256, root_selector, sections, blocks, words)
                 VALUES (?1, ?2, ?1 || '/' || ?3, 'https://example.org/', 'https://example.org/',
                         200, 'UTF-8', ?4, '', 'main', 1, 1, 1)",
                params![
                    target,
                    format!("2026-01-01T00:00:{:02}.000Z", i / 2),
                    i,
                    hash
                ],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
}
