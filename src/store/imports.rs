//! What `redliner backfill` keeps besides snapshots: the archive captures it
//! looked at (`archive_captures`, migration 011), so an interrupted backfill
//! resumes where it stopped and a second one adds nothing; and the queries
//! that place an imported capture among a target's snapshots in time order.

use super::db::{self, Connection, OptionalExtension, params};
use jiff::Timestamp;

use super::rows::{SNAPSHOT_COLUMNS, snapshot_row, ts};
use super::writes::{insert_revision, upsert_target};
use super::{Archived, SnapshotRow, Store, StoreError};
use crate::ids::{RevisionId, SnapshotId};
use crate::revision::Revision;

/// What became of one archive capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display, strum::EnumString)]
#[strum(serialize_all = "kebab-case")]
pub enum CaptureOutcome {
    /// Stored as a snapshot.
    Snapshot,
    /// The same document and stamp as the snapshot before it: nothing stored.
    Unchanged,
    /// The same digest (the same bytes) as the capture before it, looked
    /// at earlier: not fetched.
    Duplicate,
    /// Not a capture of the page: an error page, an empty extraction, a
    /// redirect elsewhere, an undecodable or cut body.
    Refused,
}

pub(super) fn insert_capture(
    tx: &Connection,
    target: &str,
    a: &Archived,
    outcome: CaptureOutcome,
    snapshot: Option<SnapshotId>,
    note: Option<&str>,
) -> db::Result<()> {
    tx.prepare_cached(
        "INSERT INTO archive_captures (target_id, archive, timestamp, original, digest, outcome,
                                       snapshot_id, note, looked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (target_id, archive, timestamp) DO NOTHING",
    )?
    .execute(params![
        target,
        a.archive,
        a.timestamp,
        a.original,
        a.digest,
        outcome.to_string(),
        snapshot,
        note,
        ts(Timestamp::now()),
    ])?;
    Ok(())
}

impl Store {
    /// What an earlier backfill made of the capture `timestamp` of
    /// `archive` for `target`, if it looked at it.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn capture_looked_at(
        &self,
        target: &str,
        archive: &str,
        timestamp: &str,
    ) -> Result<Option<CaptureOutcome>, StoreError> {
        let found: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT outcome FROM archive_captures
                 WHERE target_id = ?1 AND archive = ?2 AND timestamp = ?3",
            )
            .and_then(|mut st| {
                st.query_row(params![target, archive, timestamp], |r| r.get(0))
                    .optional()
            })
            .map_err(self.sql())?;
        Ok(found.and_then(|s| s.parse().ok()))
    }

    /// The capture of `archive` for `target` just before `timestamp` that
    /// an earlier look found to be the page (stored, unchanged or a
    /// duplicate; refused ones are not the page): its timestamp and digest.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn capture_before(
        &self,
        target: &str,
        archive: &str,
        timestamp: &str,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT timestamp, digest FROM archive_captures
                 WHERE target_id = ?1 AND archive = ?2 AND timestamp < ?3
                   AND outcome != 'refused'
                 ORDER BY timestamp DESC LIMIT 1",
            )
            .and_then(|mut st| {
                st.query_row(params![target, archive, timestamp], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .map_err(self.sql())
    }

    /// Records a capture that became no snapshot (`outcome` is not
    /// [`CaptureOutcome::Snapshot`]: those are recorded with their
    /// snapshot), adding the target row if needed.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad target id; [`StoreError::Database`].
    pub fn record_capture(
        &mut self,
        target: &str,
        url: &str,
        capture: &Archived,
        outcome: CaptureOutcome,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        self.check_target(target)?;
        self.unsettle()?;
        let index = self.index.display().to_string();
        let sql = |source| StoreError::Database {
            path: index.clone(),
            source,
        };
        let tx = self.write_unit()?;
        upsert_target(&tx, target, url, Timestamp::now()).map_err(sql)?;
        insert_capture(&tx, target, capture, outcome, None, note).map_err(sql)?;
        tx.commit().map_err(sql)
    }

    /// The snapshot of `target` at or just before `at` in capture order: a
    /// capture is compared with a snapshot of the same moment (the same
    /// capture from another archive) before an earlier one.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn snapshot_at_or_before(
        &self,
        target: &str,
        at: Timestamp,
    ) -> Result<Option<SnapshotRow>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE target_id = ?1 AND captured_at <= ?2
                 ORDER BY captured_at DESC, id DESC LIMIT 1"
            ))
            .and_then(|mut st| {
                st.query_row(params![target, ts(at)], snapshot_row)
                    .optional()
            })
            .map_err(self.sql())
    }

    /// The snapshot just before `row` in capture order (`(captured_at, id)`).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn snapshot_preceding(&self, row: &SnapshotRow) -> Result<Option<SnapshotRow>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM snapshots
                 WHERE target_id = ?1 AND (captured_at, id) < (?2, ?3)
                 ORDER BY captured_at DESC, id DESC LIMIT 1"
            ))
            .and_then(|mut st| {
                st.query_row(
                    params![row.target, ts(row.captured_at), row.id],
                    snapshot_row,
                )
                .optional()
            })
            .map_err(self.sql())
    }

    /// Every snapshot row of `target`, oldest first (capture order).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn snapshots_in_order(&self, target: &str) -> Result<Vec<SnapshotRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE target_id = ?1
                 ORDER BY captured_at, id"
            ))
            .map_err(self.sql())?;
        st.query_map([target], snapshot_row)
            .map_err(self.sql())?
            .collect::<db::Result<_>>()
            .map_err(self.sql())
    }

    /// Whether a revision from `old` to `new` is stored.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn has_revision_between(
        &self,
        old: SnapshotId,
        new: SnapshotId,
    ) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM revisions
                                WHERE old_snapshot_id = ?1 AND new_snapshot_id = ?2)",
            )
            .and_then(|mut st| st.query_row(params![old, new], |r| r.get(0)))
            .map_err(self.sql())
    }

    /// Records a content revision between two stored snapshots that a
    /// backfill found (an imported capture and the snapshot after it), with
    /// no check and no alert; the check that stored `new` takes it as its
    /// revision when it has none (a baseline that now has an older
    /// capture before it: its outcome becomes `changed`, its note says it
    /// was a baseline when made).
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Invalid`] for a revision that
    /// cannot be serialised.
    pub fn record_found_revision(
        &mut self,
        target: &str,
        old: SnapshotId,
        new: SnapshotId,
        revision: &Revision,
        created_at: Timestamp,
    ) -> Result<RevisionId, StoreError> {
        self.check_target(target)?;
        self.unsettle()?;
        self.feed_due(target);
        let index = self.index.display().to_string();
        let sql = |source| StoreError::Database {
            path: index.clone(),
            source,
        };
        let tx = self.write_unit()?;
        let id = insert_revision(&tx, target, old, new, revision, false, created_at)?;
        // A baseline check that now has older captures before it reads as
        // the change it is, saying it was a baseline when made.
        tx.execute(
            "UPDATE checks SET revision_id = ?1,
                    outcome = CASE WHEN outcome = 'baseline' THEN 'changed' ELSE outcome END,
                    note = CASE WHEN outcome = 'baseline'
                                THEN coalesce(note || '; ', '')
                                     || 'a baseline when checked; older captures were imported later'
                                ELSE note END
             WHERE id = (SELECT id FROM checks WHERE snapshot_id = ?2 AND target_id = ?3
                         ORDER BY id LIMIT 1)
               AND revision_id IS NULL",
            params![id, new, target],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(id)
    }
}
