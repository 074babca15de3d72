//! Bounded reads: a target's newest snapshots and revisions, found by index
//! and cut by a LIMIT, so what a check, a feed or a recurrence test reads
//! does not grow with the history (see migration 007 for the indexes).
//!
//! Capture order is `(captured_at, id)`: the time, then the id for two
//! snapshots of one millisecond. "Before" a snapshot means earlier in that
//! order. Every statement here is prepared once per connection
//! (`prepare_cached`).

use crate::ids::{RevisionId, SnapshotId};
use std::sync::LazyLock;

use super::db::{OptionalExtension, params};
use jiff::Timestamp;

use super::{
    RevisionRow, SNAPSHOT_COLUMNS, SnapshotRow, Store, StoreError, limit_param, revision_row_at,
    snapshot_row_at, ts,
};

/// A real revision with its old and new snapshot rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRevision {
    /// The revision row.
    pub revision: RevisionRow,
    /// The snapshot it starts from.
    pub old: SnapshotRow,
    /// The snapshot it leads to.
    pub new: SnapshotRow,
}

/// The revision columns of `r`, in [`revision_row_at`]'s order.
const REVISION_COLUMNS: &str = "r.id, r.target_id, r.old_snapshot_id, r.new_snapshot_id, r.kind, \
     r.technical, r.summary_json, r.created_at";
/// How many columns [`REVISION_COLUMNS`] names.
const REVISION_WIDTH: usize = 8;

/// [`SNAPSHOT_COLUMNS`] of the table aliased `alias`.
fn snapshot_columns(alias: &str) -> String {
    SNAPSHOT_COLUMNS
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many columns [`SNAPSHOT_COLUMNS`] names.
fn snapshot_width() -> usize {
    SNAPSHOT_COLUMNS.split(',').count()
}

static RECENT_BEFORE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SNAPSHOT_COLUMNS} FROM snapshots
         WHERE target_id = ?1 AND (captured_at, id) < (?3, ?4)
         ORDER BY captured_at DESC, id DESC LIMIT ?2"
    )
});

/// Real revisions with both snapshots, newest first; `?1` the target (NULL:
/// every target), `?2..?3` the window on the new snapshot's capture time,
/// `?4` the limit (`i64::MAX`: none). Ordered by the revision's
/// `created_at`, which for a real revision is the new snapshot's
/// `captured_at` (migration 007), so the partial indexes on it drive the
/// scan and the LIMIT stops it.
static REAL_REVISIONS: LazyLock<[String; 2]> = LazyLock::new(|| {
    let select = format!(
        "SELECT {REVISION_COLUMNS}, {}, {}
         FROM revisions r
         JOIN snapshots o ON o.id = r.old_snapshot_id AND o.target_id = r.target_id
         JOIN snapshots n ON n.id = r.new_snapshot_id AND n.target_id = r.target_id
         WHERE r.technical = 0",
        snapshot_columns("o"),
        snapshot_columns("n"),
    );
    let window = "r.created_at >= ?2 AND r.created_at < ?3";
    [
        format!(
            "{select} AND r.target_id = ?1 AND {window}
             ORDER BY r.created_at DESC, n.id DESC LIMIT ?4"
        ),
        // Every target: equal times in target order, then oldest first, as
        // the per-target lists merged (see `archive`).
        format!(
            "{select} AND CAST(?1 AS TEXT) IS NULL AND {window}
             ORDER BY r.created_at DESC, r.target_id, n.id LIMIT ?4"
        ),
    ]
});

impl Store {
    /// The target's newest `limit` snapshots, newest first; with `before`,
    /// the newest `limit` captured before that snapshot.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn recent_snapshots(
        &self,
        target: &str,
        before: Option<&SnapshotRow>,
        limit: usize,
    ) -> Result<Vec<SnapshotRow>, StoreError> {
        let (at, id) = anchor(before);
        self.conn
            .prepare_cached(&RECENT_BEFORE)
            .and_then(|mut st| {
                st.query_map(params![target, limit_param(limit), at, id], |r| {
                    snapshot_row_at(r, 0)
                })?
                .collect()
            })
            .map_err(self.sql())
    }

    /// The id of the target's newest snapshot whose content fingerprint is
    /// `hash` (before `before`, when given).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn newest_with_content(
        &self,
        target: &str,
        hash: &str,
        before: Option<&SnapshotRow>,
    ) -> Result<Option<SnapshotId>, StoreError> {
        let (at, id) = anchor(before);
        self.conn
            .prepare_cached(
                "SELECT id FROM snapshots
                 WHERE target_id = ?1 AND content_hash = ?2 AND (captured_at, id) < (?3, ?4)
                 ORDER BY captured_at DESC, id DESC LIMIT 1",
            )
            .and_then(|mut st| {
                st.query_row(params![target, hash, at, id], |r| r.get(0))
                    .optional()
            })
            .map_err(self.sql())
    }

    /// The id of the oldest snapshot of the run that ends at the target's
    /// newest snapshot (before `before`, when given): the longest stretch of
    /// consecutive snapshots whose content is one of `contents`. `None` when
    /// the newest snapshot's content is neither.
    ///
    /// Reads the run's length in index entries (one page flipping between two
    /// versions), never the rest of the history.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn run_start(
        &self,
        target: &str,
        contents: [&str; 2],
        before: Option<&SnapshotRow>,
    ) -> Result<Option<SnapshotId>, StoreError> {
        let (at, id) = anchor(before);
        // The newest snapshot outside the run, then the oldest after it.
        let boundary: Option<(String, i64)> = self
            .conn
            .prepare_cached(
                "SELECT captured_at, id FROM snapshots
                 WHERE target_id = ?1 AND (captured_at, id) < (?4, ?5)
                   AND content_hash NOT IN (?2, ?3)
                 ORDER BY captured_at DESC, id DESC LIMIT 1",
            )
            .and_then(|mut st| {
                st.query_row(params![target, contents[0], contents[1], at, id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .map_err(self.sql())?;
        // Without one, the run reaches back to the first snapshot.
        let (from_at, from_id) = boundary.unwrap_or_else(|| (String::new(), i64::MIN));
        self.conn
            .prepare_cached(
                "SELECT id FROM snapshots
                 WHERE target_id = ?1 AND (captured_at, id) > (?2, ?3)
                   AND (captured_at, id) < (?4, ?5)
                 ORDER BY captured_at, id LIMIT 1",
            )
            .and_then(|mut st| {
                st.query_row(params![target, from_at, from_id, at, id], |r| r.get(0))
                    .optional()
            })
            .map_err(self.sql())
    }

    /// True when the snapshot's document was replaced by re-extraction (a
    /// technical revision from the snapshot to itself).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn reextracted(&self, snapshot_id: SnapshotId) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM revisions
                 WHERE new_snapshot_id = ?1 AND old_snapshot_id = ?1 AND technical = 1)",
            )
            .and_then(|mut st| st.query_row([snapshot_id], |r| r.get(0)))
            .map_err(self.sql())
    }

    /// The id of the target's real revision from snapshot `old` to `new`
    /// (the newest, should there be several).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn real_revision_between(
        &self,
        target: &str,
        old: SnapshotId,
        new: SnapshotId,
    ) -> Result<Option<RevisionId>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT id FROM revisions
                 WHERE new_snapshot_id = ?3 AND old_snapshot_id = ?2 AND target_id = ?1
                   AND technical = 0
                 ORDER BY created_at DESC, id DESC LIMIT 1",
            )
            .and_then(|mut st| {
                st.query_row(params![target, old, new], |r| r.get(0))
                    .optional()
            })
            .map_err(self.sql())
    }

    /// Real revisions (technical ones left out) whose two snapshots are
    /// stored, of `target` or of every target (`None`), whose new snapshot
    /// was captured in `since..until` (either bound open when `None`), newest
    /// first, at most `limit`. Equal times come in target order, then by the
    /// new snapshot's id (newest first for one target, oldest first across
    /// targets, as the feeds list them).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn real_revisions(
        &self,
        target: Option<&str>,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        limit: Option<usize>,
    ) -> Result<Vec<StoredRevision>, StoreError> {
        let sql = &REAL_REVISIONS[usize::from(target.is_none())];
        let width = snapshot_width();
        let limit = limit.map_or(i64::MAX, limit_param);
        let mut st = self.conn.prepare_cached(sql).map_err(self.sql())?;
        let rows = st
            .query_map(
                params![
                    target,
                    since.map_or_else(String::new, ts),
                    until.map_or_else(|| AFTER_ALL.to_string(), ts),
                    limit
                ],
                |r| {
                    Ok(StoredRevision {
                        revision: revision_row_at(r, 0)?,
                        old: snapshot_row_at(r, REVISION_WIDTH)?,
                        new: snapshot_row_at(r, REVISION_WIDTH + width)?,
                    })
                },
            )
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }
}

/// The capture time and id of `before`, as query parameters; without it,
/// a place after every snapshot (stored times are `YYYY-...` text).
fn anchor(before: Option<&SnapshotRow>) -> (String, SnapshotId) {
    before.map_or_else(
        || (AFTER_ALL.to_string(), SnapshotId(i64::MAX)),
        |b| (ts(b.captured_at), b.id),
    )
}

/// Sorts after every stored time.
const AFTER_ALL: &str = "~";
