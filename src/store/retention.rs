//! Retention: pruning old snapshots (`redliner prune`, `settings.retention`)
//! and forgetting a target (`redliner forget`).
//!
//! Rows go in one transaction, in the order the foreign keys need
//! (deliveries, alerts, checks, revisions, snapshots); the files go after
//! the commit: the snapshot directories, then each raw body no remaining
//! snapshot names. A run killed between the two leaves directories no row
//! names, which the next run sets aside like any unindexed snapshot
//! ([`Store::sweep_unfinished`]); the index is never left naming a file
//! that is gone.
//!
//! What stays consistent: a revision goes with either of its snapshots (a
//! revision needs both); a check goes with the snapshot or revision it
//! names, and a check that names neither goes when it is older than every
//! snapshot kept; an alert goes with its revision, snapshot or check, and
//! its deliveries with it. Snapshots an undelivered alert's revision needs
//! are always kept, as are each target's newest two snapshots (the next
//! check compares against the newest; the latest revision stays readable).

use super::*;
#[allow(clippy::wildcard_imports)]
use crate::ids::SnapshotId;

use std::time::Duration;

/// Which snapshots of a target to keep (`settings.retention`): the newest
/// `keep_last`, and every one captured within `keep_for` of now. With
/// neither set, every snapshot is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    /// Keep the newest this many snapshots (at least 2: a revision needs
    /// its old and its new snapshot).
    pub keep_last: Option<usize>,
    /// Keep every snapshot captured less than this long ago.
    pub keep_for: Option<Duration>,
}

/// The shortest `keep_for` accepted.
pub const MIN_KEEP_FOR: Duration = Duration::from_secs(24 * 3600);
/// The longest `keep_for` accepted (100 years of 366 days).
pub const MAX_KEEP_FOR: Duration = Duration::from_secs(100 * 366 * 24 * 3600);

impl Retention {
    /// Checks a `keep_for` value: 1 day to 100 years.
    ///
    /// # Errors
    /// A message saying the range.
    pub fn check_keep_for(d: Duration) -> Result<Duration, String> {
        if (MIN_KEEP_FOR..=MAX_KEEP_FOR).contains(&d) {
            Ok(d)
        } else {
            Err("must be 1 day to 100 years (`1d`..`36600d`)".into())
        }
    }

    /// True when the policy keeps everything.
    pub fn keeps_all(&self) -> bool {
        self.keep_last.is_none() && self.keep_for.is_none()
    }
}

/// What a prune or a forget removed (or, dry, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// Snapshots (rows and directories).
    pub snapshots: usize,
    /// Revisions, technical ones included.
    pub revisions: usize,
    /// Checks.
    pub checks: usize,
    /// Alerts, with their deliveries.
    pub alerts: usize,
    /// Raw bodies no remaining snapshot names.
    pub raw_bodies: usize,
}

impl Removed {
    /// Adds another target's counts.
    pub fn add(&mut self, other: &Removed) {
        self.snapshots += other.snapshots;
        self.revisions += other.revisions;
        self.checks += other.checks;
        self.alerts += other.alerts;
        self.raw_bodies += other.raw_bodies;
    }
}

impl Store {
    /// Removes `target`'s snapshots that `retention` does not keep, with
    /// what depends on them (see the module docs). With `dry_run`, counts
    /// and removes nothing.
    ///
    /// # Errors
    /// [`StoreError::Database`] (nothing removed), [`StoreError::Io`] when a
    /// directory or raw body cannot be removed after the commit (the rows are
    /// gone; the next run sets such a directory aside).
    pub fn prune(
        &mut self,
        target: &str,
        retention: &Retention,
        now: Timestamp,
        dry_run: bool,
    ) -> Result<Removed, StoreError> {
        if retention.keeps_all() {
            return Ok(Removed::default());
        }
        let rows = self.snapshots(target)?;
        // Newest first.
        let mut ids: Vec<(SnapshotId, Timestamp)> =
            rows.iter().map(|r| (r.id, r.captured_at)).collect();
        ids.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        let needed = self.snapshots_undelivered_alerts_need(target)?;
        let cutoff = retention.keep_for.and_then(|d| {
            let d = SignedDuration::try_from(d).ok()?;
            now.checked_sub(d).ok()
        });
        let pruned: Vec<SnapshotId> = ids
            .iter()
            .enumerate()
            .filter(|(i, (id, at))| {
                // The newest two: the next check compares against the newest,
                // and the latest revision stays readable.
                let newest = *i < 2;
                let by_count = retention.keep_last.is_some_and(|n| *i < n);
                let by_age = cutoff.is_some_and(|c| *at >= c);
                !(newest || by_count || by_age || needed.contains(id))
            })
            .map(|(_, (id, _))| *id)
            .collect();
        if pruned.is_empty() {
            return Ok(Removed::default());
        }
        let oldest_kept = ids
            .iter()
            .filter(|(id, _)| !pruned.contains(id))
            .map(|(_, at)| *at)
            .min();
        self.remove(target, &pruned, oldest_kept, false, dry_run)
    }

    /// Removes everything stored of `target`: its snapshots and their
    /// files, revisions, checks, alerts and deliveries, its feed and its row.
    /// With `dry_run`, counts and removes nothing.
    ///
    /// # Errors
    /// As [`Store::prune`].
    pub fn forget(&mut self, target: &str, dry_run: bool) -> Result<Removed, StoreError> {
        let ids: Vec<SnapshotId> = self.snapshots(target)?.iter().map(|r| r.id).collect();
        self.remove(target, &ids, None, true, dry_run)
    }

    /// The snapshots whose revisions have an alert still to deliver.
    fn snapshots_undelivered_alerts_need(
        &self,
        target: &str,
    ) -> Result<std::collections::HashSet<SnapshotId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.old_snapshot_id, r.new_snapshot_id FROM alerts a
                 JOIN revisions r ON r.id = a.revision_id
                 WHERE a.target_id = ?1 AND a.state IN ('pending', 'sending')",
            )
            .map_err(self.sql())?;
        let pairs = stmt
            .query_map([target], |r| {
                Ok((r.get::<_, SnapshotId>(0)?, r.get::<_, SnapshotId>(1)?))
            })
            .map_err(self.sql())?;
        let mut ids = std::collections::HashSet::new();
        for pair in pairs {
            let (old, new) = pair.map_err(self.sql())?;
            ids.insert(old);
            ids.insert(new);
        }
        Ok(ids)
    }

    /// Removes the snapshots `ids` of `target` and what depends on them;
    /// `whole` also removes the checks and alerts that name nothing, the
    /// target's row and its directory. `oldest_kept`: checks naming no
    /// snapshot that started before it go too.
    fn remove(
        &mut self,
        target: &str,
        ids: &[SnapshotId],
        oldest_kept: Option<Timestamp>,
        whole: bool,
        dry_run: bool,
    ) -> Result<Removed, StoreError> {
        let dirs: Vec<PathBuf> = self
            .snapshots(target)?
            .iter()
            .filter(|r| ids.contains(&r.id))
            .map(|r| self.snapshot_dir(r))
            .collect();
        // The raw bodies the snapshots name: files under the root, or
        // blobs in the database.
        let in_database = self.files_in_database();
        let raw: Vec<String> = self
            .snapshots(target)?
            .into_iter()
            .filter(|r| ids.contains(&r.id))
            .filter_map(|r| {
                if in_database {
                    Some(r.raw_sha256)
                } else {
                    r.raw_path
                }
            })
            .collect();
        if !dry_run {
            self.unsettle()?;
        }
        let sql = self.sql();
        let tx = self.conn.transaction().map_err(&sql)?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS gone_snapshots (id INTEGER PRIMARY KEY);
             CREATE TEMP TABLE IF NOT EXISTS gone_revisions (id INTEGER PRIMARY KEY);
             CREATE TEMP TABLE IF NOT EXISTS gone_checks (id INTEGER PRIMARY KEY);
             CREATE TEMP TABLE IF NOT EXISTS gone_alerts (id INTEGER PRIMARY KEY);
             DELETE FROM gone_snapshots; DELETE FROM gone_revisions;
             DELETE FROM gone_checks; DELETE FROM gone_alerts;",
        )
        .map_err(&sql)?;
        for id in ids {
            tx.execute("INSERT INTO gone_snapshots (id) VALUES (?1)", [id])
                .map_err(&sql)?;
        }
        tx.execute(
            "INSERT INTO gone_revisions SELECT id FROM revisions WHERE target_id = ?1
             AND (old_snapshot_id IN (SELECT id FROM gone_snapshots) OR new_snapshot_id IN (SELECT id FROM gone_snapshots))",
            [target],
        )
        .map_err(&sql)?;
        let before = oldest_kept.map(ts);
        // A check of a kept snapshot stays (its revision, if removed, is
        // forgotten); so does a check an undelivered alert names.
        tx.execute(
            "INSERT INTO gone_checks SELECT id FROM checks WHERE target_id = ?1
             AND (?2 <> 0 OR ((snapshot_id IN (SELECT id FROM gone_snapshots)
                          OR (revision_id IN (SELECT id FROM gone_revisions) AND snapshot_id IS NULL)
                          OR (snapshot_id IS NULL AND CAST(?3 AS TEXT) IS NOT NULL AND started_at < ?3))
                         AND id NOT IN (SELECT check_id FROM alerts WHERE check_id IS NOT NULL
                                        AND state IN ('pending', 'sending'))))",
            params![target, whole, before],
        )
        .map_err(&sql)?;
        tx.execute(
            "INSERT INTO gone_alerts SELECT id FROM alerts WHERE target_id = ?1
             AND (?2 <> 0 OR ((revision_id IN (SELECT id FROM gone_revisions) OR snapshot_id IN (SELECT id FROM gone_snapshots)
                          OR check_id IN (SELECT id FROM gone_checks))
                         AND state NOT IN ('pending', 'sending')))",
            params![target, whole],
        )
        .map_err(&sql)?;
        let count = |table: &str| -> Result<usize, StoreError> {
            tx.query_row(&format!("SELECT count(*) FROM {table}"), (), |r| {
                r.get::<_, i64>(0)
            })
            .map(to_usize)
            .map_err(&sql)
        };
        let mut removed = Removed {
            snapshots: count("gone_snapshots")?,
            revisions: count("gone_revisions")?,
            checks: count("gone_checks")?,
            alerts: count("gone_alerts")?,
            raw_bodies: 0,
        };
        if dry_run {
            drop(tx);
            removed.raw_bodies = self.unnamed_raw(&raw, ids)?.len();
            return Ok(removed);
        }
        super::ledger::append_removals(&tx, Timestamp::now()).map_err(&sql)?;
        tx.execute_batch(
            "DELETE FROM deliveries WHERE alert_id IN (SELECT id FROM gone_alerts);
             DELETE FROM alerts WHERE id IN (SELECT id FROM gone_alerts);
             DELETE FROM checks WHERE id IN (SELECT id FROM gone_checks);
             UPDATE checks SET revision_id = NULL WHERE revision_id IN (SELECT id FROM gone_revisions);
             DELETE FROM revisions WHERE id IN (SELECT id FROM gone_revisions);
             DELETE FROM snapshots WHERE id IN (SELECT id FROM gone_snapshots);",
        )
        .map_err(&sql)?;
        if whole {
            tx.execute("DELETE FROM targets WHERE id = ?1", [target])
                .map_err(&sql)?;
        }
        // A later snapshot must not take a removed one's id (its alerts'
        // idempotency keys name it).
        if let Some(max) = ids.iter().max() {
            tx.execute(
                "INSERT INTO id_floor (name, floor) VALUES ('snapshots', ?1)
                 ON CONFLICT (name) DO UPDATE SET floor = CASE
                     WHEN excluded.floor > id_floor.floor THEN excluded.floor ELSE id_floor.floor END",
                [max],
            )
            .map_err(&sql)?;
        }
        if in_database {
            removed.raw_bodies = self.unnamed_raw(&raw, &[])?.len();
            super::blobs::remove_unreferenced(&tx).map_err(&sql)?;
            tx.commit().map_err(&sql)?;
            self.feed_due(target);
            return Ok(removed);
        }
        tx.commit().map_err(&sql)?;
        self.feed_due(target);
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| StoreError::Io { path, source }
        };
        for dir in &dirs {
            match std::fs::remove_dir_all(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(dir)(e)),
                _ => {}
            }
        }
        let unnamed = self.unnamed_raw(&raw, &[])?;
        for rel in &unnamed {
            let path = self.root.join(rel);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&path)(e)),
                _ => {}
            }
        }
        removed.raw_bodies = unnamed.len();
        for rel in &unnamed {
            // The fan-out directory (`.raw/3f/`) goes when it is left empty.
            if let Some(fan) = self.root.join(rel).parent() {
                let _ = std::fs::remove_dir(fan);
            }
        }
        if whole {
            let dir = self.root.join(target);
            match std::fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&dir)(e)),
                _ => {}
            }
            self.feeds_written(&[target]);
        }
        Ok(removed)
    }

    /// Of the raw bodies `raw`, those no snapshot names once the snapshots
    /// `leaving` are gone, each once.
    fn unnamed_raw(
        &self,
        raw: &[String],
        leaving: &[SnapshotId],
    ) -> Result<Vec<String>, StoreError> {
        let mut out: Vec<String> = Vec::new();
        for path in raw {
            if out.contains(path) {
                continue;
            }
            let mut stmt = self
                .conn
                .prepare_cached(if self.files_in_database() {
                    "SELECT id FROM snapshots WHERE raw_sha256 = ?1"
                } else {
                    "SELECT id FROM snapshots WHERE raw_path = ?1"
                })
                .map_err(self.sql())?;
            let users = stmt
                .query_map([path], |r| r.get::<_, SnapshotId>(0))
                .map_err(self.sql())?
                .collect::<db::Result<Vec<_>>>()
                .map_err(self.sql())?;
            if users.iter().all(|id| leaving.contains(id)) {
                out.push(path.clone());
            }
        }
        Ok(out)
    }
}
