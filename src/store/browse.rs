//! Reading the store page by page for `serve`: the dashboard's rows, a
//! target's timeline (checks and what they made, filtered by kind, paged),
//! and the revisions that touched one section (migration 010's
//! `revision_sections`, kept by triggers).

use super::db::{OptionalExtension, params};
use jiff::Timestamp;
use serde::Serialize;

use super::rows::{
    SNAPSHOT_COLUMNS, get_kind_opt, get_outcome, get_timestamp, limit_param, parse_json,
    revision_row_at, to_usize,
};
use super::{CheckOutcome, RevisionRow, SnapshotRow, Store, StoreError};
use crate::ids::{CheckId, RevisionId, SnapshotId};
use crate::revision::{ChangeSummary, RevisionKind};

/// What one line of a timeline records, the unit its filter works in:
/// a check's outcome, with `changed` split by the revision's kind and
/// `layout-changed` called `technical`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    strum::EnumString,
    strum::Display,
    strum::IntoStaticStr,
    utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum TimelineKind {
    /// The first snapshot.
    Baseline,
    /// Content and stamp changed.
    Revised,
    /// Content changed under the same stamp.
    SilentEdit,
    /// Content changed; no readable stamp.
    Changed,
    /// Only the stamp changed.
    StampOnly,
    /// The template changed and the text did not.
    Technical,
    /// Nothing changed.
    Unchanged,
    /// The server answered 304.
    NotModified,
    /// Fetching or extracting failed.
    Failed,
    /// A change a second fetch did not confirm.
    Unconfirmed,
}

impl TimelineKind {
    /// Every kind, in the order a filter lists them.
    pub const ALL: [TimelineKind; 10] = [
        TimelineKind::Revised,
        TimelineKind::SilentEdit,
        TimelineKind::Changed,
        TimelineKind::Baseline,
        TimelineKind::Failed,
        TimelineKind::Unconfirmed,
        TimelineKind::StampOnly,
        TimelineKind::Technical,
        TimelineKind::Unchanged,
        TimelineKind::NotModified,
    ];

    /// The kinds a timeline shows unless asked otherwise: what changed the
    /// text, the first snapshot, and the faults (stamp-only, technical and
    /// quiet checks are hidden).
    pub const SHOWN: [TimelineKind; 6] = [
        TimelineKind::Revised,
        TimelineKind::SilentEdit,
        TimelineKind::Changed,
        TimelineKind::Baseline,
        TimelineKind::Failed,
        TimelineKind::Unconfirmed,
    ];

    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One line of a target's timeline: a check and what it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    /// The check's id.
    #[schema(value_type = i64)]
    pub check_id: CheckId,
    /// When the check began (capture time for a stored snapshot).
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// What it recorded.
    pub kind: TimelineKind,
    /// HTTP status, when the server answered.
    pub http_status: Option<u16>,
    /// The snapshot made or compared against.
    #[schema(value_type = Option<i64>)]
    pub snapshot_id: Option<SnapshotId>,
    /// That snapshot's stamp as served.
    pub stamp: Option<String>,
    /// The revision made.
    #[schema(value_type = Option<i64>)]
    pub revision_id: Option<RevisionId>,
    /// The revision's counts.
    #[schema(value_type = Option<Object>)]
    pub summary: Option<ChangeSummary>,
    /// The error of a failed check.
    pub error: Option<String>,
    /// Why, in one line (layout changed, unconfirmed).
    pub note: Option<String>,
}

/// One row of the dashboard: a stored target and its latest news.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DashboardRow {
    /// Target id.
    pub target: String,
    /// The URL watched.
    pub url: String,
    /// The newest snapshot's page title.
    pub title: Option<String>,
    /// When the latest check began.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_check_at: Option<Timestamp>,
    /// How it ended.
    #[schema(value_type = Option<String>)]
    pub last_outcome: Option<CheckOutcome>,
    /// Its error, when it failed.
    pub last_error: Option<String>,
    /// The newest revision that is not technical.
    #[schema(value_type = Option<i64>)]
    pub last_revision: Option<RevisionId>,
    /// Its kind.
    #[schema(value_type = Option<String>)]
    pub last_kind: Option<RevisionKind>,
    /// Its counts.
    #[schema(value_type = Option<Object>)]
    pub last_summary: Option<ChangeSummary>,
    /// When its new snapshot was captured.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_revision_at: Option<Timestamp>,
    /// Its new snapshot's stamp as served.
    pub last_stamp: Option<String>,
    /// Revisions (not technical) in the last 7 days.
    pub revisions_7d: usize,
    /// Revisions (not technical) in the last 30 days.
    pub revisions_30d: usize,
}

impl DashboardRow {
    /// True when the latest check failed.
    pub fn failing(&self) -> bool {
        self.last_outcome == Some(CheckOutcome::Failed)
    }
}

/// A revision that touched a section, with its new snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionRevision {
    /// The revision row.
    pub revision: RevisionRow,
    /// What happened to the section (`modified`, `added`, `renamed`, ...).
    pub change: String,
    /// The revision's new snapshot.
    pub new: SnapshotRow,
}

/// The SQL for a timeline line's kind (see [`TimelineKind`]).
const TIMELINE_KIND: &str = "CASE WHEN c.outcome = 'changed' THEN COALESCE(r.kind, 'changed')
                                  WHEN c.outcome = 'layout-changed' THEN 'technical'
                                  ELSE c.outcome END";

impl Store {
    /// Stored targets with their latest news, failing ones first, then by id;
    /// `text` keeps those whose id, URL or title contains it
    /// (case-insensitive), `kind` those whose newest revision has that kind.
    /// `now` anchors the 7- and 30-day counts.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn dashboard(
        &self,
        text: Option<&str>,
        kind: Option<RevisionKind>,
        now: Timestamp,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<DashboardRow>, usize), StoreError> {
        let like = text.map(|t| {
            format!(
                "%{}%",
                t.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )
        });
        let day = |n: i64| super::rows::ts(now - jiff::SignedDuration::from_hours(24 * n));
        let sql = "WITH rows AS (
               SELECT t.id, t.url,
                 (SELECT title FROM snapshots WHERE target_id = t.id
                   ORDER BY captured_at DESC, id DESC LIMIT 1) AS title,
                 c.started_at, c.outcome, c.error,
                 r.id AS rid, r.kind, r.summary_json, s.captured_at AS rat, s.stamp_text,
                 (SELECT COUNT(*) FROM revisions WHERE target_id = t.id AND technical = 0
                    AND created_at >= ?1) AS n7,
                 (SELECT COUNT(*) FROM revisions WHERE target_id = t.id AND technical = 0
                    AND created_at >= ?2) AS n30
               FROM targets t
               LEFT JOIN checks c ON c.id = (SELECT id FROM checks WHERE target_id = t.id
                                             ORDER BY started_at DESC, id DESC LIMIT 1)
               LEFT JOIN revisions r ON r.id = (SELECT id FROM revisions
                                                 WHERE target_id = t.id AND technical = 0
                                                 ORDER BY created_at DESC, id DESC LIMIT 1)
               LEFT JOIN snapshots s ON s.id = r.new_snapshot_id)
             SELECT *, COUNT(*) OVER () FROM rows
             WHERE (?3 IS NULL OR id LIKE ?3 ESCAPE '\\' OR url LIKE ?3 ESCAPE '\\'
                    OR title LIKE ?3 ESCAPE '\\')
               AND (?4 IS NULL OR kind = ?4)
             ORDER BY (outcome = 'failed') DESC, id
             LIMIT ?5 OFFSET ?6";
        let mut st = self.conn.prepare_cached(sql).map_err(self.sql())?;
        let mut total = 0;
        let rows = st
            .query_map(
                params![
                    day(7),
                    day(30),
                    like,
                    kind.map(RevisionKind::as_str),
                    limit_param(limit),
                    offset as i64
                ],
                |r| {
                    let summary: Option<String> = r.get(8)?;
                    let started: Option<String> = r.get(3)?;
                    let at: Option<String> = r.get(9)?;
                    let outcome: Option<String> = r.get(4)?;
                    Ok((
                        DashboardRow {
                            target: r.get(0)?,
                            url: r.get(1)?,
                            title: r.get(2)?,
                            last_check_at: started.map(|_| get_timestamp(r, 3)).transpose()?,
                            last_outcome: outcome.map(|_| get_outcome(r, 4)).transpose()?,
                            last_error: r.get(5)?,
                            last_revision: r.get(6)?,
                            last_kind: get_kind_opt(r, 7)?,
                            last_summary: summary.map(|s| parse_json(&s, 8)).transpose()?,
                            last_revision_at: at.map(|_| get_timestamp(r, 9)).transpose()?,
                            last_stamp: r.get(10)?,
                            revisions_7d: to_usize(r.get(11)?),
                            revisions_30d: to_usize(r.get(12)?),
                        },
                        to_usize(r.get(13)?),
                    ))
                },
            )
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            let (row, n) = row.map_err(self.sql())?;
            total = n;
            out.push(row);
        }
        Ok((out, total))
    }

    /// True when anything of `target` is stored (a check, even a failed one).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn has_target(&self, target: &str) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM targets WHERE id = ?1)")
            .and_then(|mut st| st.query_row([target], |r| r.get(0)))
            .map_err(self.sql())
    }

    /// How many stored targets' latest check failed.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn failing_targets(&self) -> Result<usize, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM targets t
                 WHERE (SELECT outcome FROM checks WHERE target_id = t.id
                        ORDER BY started_at DESC, id DESC LIMIT 1) = 'failed'",
                (),
                |r| r.get::<_, i64>(0),
            )
            .map(to_usize)
            .map_err(self.sql())
    }

    /// The target's revisions (technical ones included, flagged), newest
    /// first, `limit` from `offset`.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn revision_page(
        &self,
        target: &str,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<RevisionRow>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT id, target_id, old_snapshot_id, new_snapshot_id, kind, technical,
                        summary_json, created_at
                 FROM revisions WHERE target_id = ?1 ORDER BY created_at DESC, id DESC
                 LIMIT ?2 OFFSET ?3",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map(params![target, limit_param(limit), offset as i64], |r| {
                revision_row_at(r, 0)
            })
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// Revisions (not technical) recorded since `since`, counted by kind.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn revision_counts_since(
        &self,
        since: Timestamp,
    ) -> Result<Vec<(RevisionKind, usize)>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT kind, COUNT(*) FROM revisions WHERE technical = 0 AND created_at >= ?1
                 GROUP BY kind ORDER BY kind",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map([super::rows::ts(since)], |r| {
                Ok((get_kind_opt(r, 0)?, to_usize(r.get(1)?)))
            })
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            if let (Some(kind), n) = row.map_err(self.sql())? {
                out.push((kind, n));
            }
        }
        Ok(out)
    }

    /// A page of the target's timeline, newest first: the lines whose kind
    /// is in `kinds`, `limit` of them from `offset`.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn timeline(
        &self,
        target: &str,
        kinds: &[TimelineKind],
        limit: usize,
        offset: usize,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        let kinds = serde_json::to_string(&kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>())
            .unwrap_or_else(|_| "[]".into());
        // The kinds wanted, from a JSON array of names.
        let each = match self.conn.dialect() {
            super::db::Dialect::Sqlite => "SELECT value FROM json_each(?2)",
            super::db::Dialect::Postgres => "SELECT json_array_elements_text(?2::json)",
        };
        let sql = format!(
            "SELECT c.id, c.started_at, {TIMELINE_KIND}, c.http_status, c.snapshot_id,
                    s.stamp_text, c.revision_id, r.summary_json, c.error, c.note
             FROM checks c
             LEFT JOIN snapshots s ON s.id = c.snapshot_id
             LEFT JOIN revisions r ON r.id = c.revision_id
             WHERE c.target_id = ?1 AND {TIMELINE_KIND} IN ({each})
             ORDER BY c.started_at DESC, c.id DESC LIMIT ?3 OFFSET ?4"
        );
        let mut st = self.conn.prepare_cached(&sql).map_err(self.sql())?;
        let rows = st
            .query_map(
                params![target, kinds, limit_param(limit), offset as i64],
                |r| {
                    let kind: String = r.get(2)?;
                    let summary: Option<String> = r.get(7)?;
                    Ok(TimelineEntry {
                        check_id: r.get(0)?,
                        at: get_timestamp(r, 1)?,
                        kind: kind
                            .parse()
                            .map_err(|_| super::rows::bad_value(2, "timeline kind", &kind))?,
                        http_status: r.get(3)?,
                        snapshot_id: r.get(4)?,
                        stamp: r.get(5)?,
                        revision_id: r.get(6)?,
                        summary: summary.map(|s| parse_json(&s, 7)).transpose()?,
                        error: r.get(8)?,
                        note: r.get(9)?,
                    })
                },
            )
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// How many lines of each kind the target's timeline has.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn timeline_counts(&self, target: &str) -> Result<Vec<(TimelineKind, usize)>, StoreError> {
        let sql = format!(
            "SELECT {TIMELINE_KIND} AS k, COUNT(*) FROM checks c
             LEFT JOIN revisions r ON r.id = c.revision_id
             WHERE c.target_id = ?1 GROUP BY k"
        );
        let mut st = self.conn.prepare_cached(&sql).map_err(self.sql())?;
        let rows = st
            .query_map([target], |r| {
                let kind: String = r.get(0)?;
                Ok((kind, to_usize(r.get(1)?)))
            })
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, n) = row.map_err(self.sql())?;
            if let Ok(kind) = kind.parse() {
                out.push((kind, n));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The target's snapshots, newest first, `limit` from `offset`, with
    /// how many there are.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn snapshot_page(
        &self,
        target: &str,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<SnapshotRow>, usize), StoreError> {
        let total: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM snapshots WHERE target_id = ?1",
                [target],
                |r| r.get(0),
            )
            .map_err(self.sql())?;
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE target_id = ?1
             ORDER BY captured_at DESC, id DESC LIMIT ?2 OFFSET ?3"
        );
        let mut st = self.conn.prepare_cached(&sql).map_err(self.sql())?;
        let rows = st
            .query_map(
                params![target, limit_param(limit), offset as i64],
                super::rows::snapshot_row,
            )
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        Ok((rows, to_usize(total)))
    }

    /// One snapshot row of the target, without its document.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn snapshot_row(
        &self,
        target: &str,
        id: SnapshotId,
    ) -> Result<Option<SnapshotRow>, StoreError> {
        let sql =
            format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE target_id = ?1 AND id = ?2");
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut st| {
                st.query_row(params![target, id], super::rows::snapshot_row)
                    .optional()
            })
            .map_err(self.sql())
    }

    /// One revision row of the target (the redline via [`Store::revision`]).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn revision_row(
        &self,
        target: &str,
        id: RevisionId,
    ) -> Result<Option<RevisionRow>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT id, target_id, old_snapshot_id, new_snapshot_id, kind, technical,
                        summary_json, created_at
                 FROM revisions WHERE target_id = ?1 AND id = ?2",
            )
            .and_then(|mut st| {
                st.query_row(params![target, id], |r| revision_row_at(r, 0))
                    .optional()
            })
            .map_err(self.sql())
    }

    /// The target's real revisions (not technical) just before and just
    /// after `id` in time: the previous/next links of a revision page.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn neighbour_revisions(
        &self,
        target: &str,
        id: RevisionId,
    ) -> Result<(Option<RevisionId>, Option<RevisionId>), StoreError> {
        let one = |sql: &str| -> Result<Option<RevisionId>, StoreError> {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut st| st.query_row(params![target, id], |r| r.get(0)).optional())
                .map_err(self.sql())
        };
        let previous = one("SELECT r.id FROM revisions r, revisions me
             WHERE me.id = ?2 AND r.target_id = ?1 AND r.technical = 0
               AND (r.created_at, r.id) < (me.created_at, me.id)
             ORDER BY r.created_at DESC, r.id DESC LIMIT 1")?;
        let next = one("SELECT r.id FROM revisions r, revisions me
             WHERE me.id = ?2 AND r.target_id = ?1 AND r.technical = 0
               AND (r.created_at, r.id) > (me.created_at, me.id)
             ORDER BY r.created_at, r.id LIMIT 1")?;
        Ok((previous, next))
    }

    /// The revisions (technical ones included) whose redline lists the
    /// section `key` (a JSON array of headings), newest first, at most
    /// `limit`, each with its new snapshot.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn section_revisions(
        &self,
        target: &str,
        key: &[String],
        limit: usize,
    ) -> Result<Vec<SectionRevision>, StoreError> {
        let key = serde_json::to_string(key).unwrap_or_else(|_| "[]".into());
        let columns = SNAPSHOT_COLUMNS
            .split(',')
            .map(|c| format!("s.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT r.id, r.target_id, r.old_snapshot_id, r.new_snapshot_id, r.kind, r.technical,
                    r.summary_json, r.created_at, rs.change, {columns}
             FROM revision_sections rs
             JOIN revisions r ON r.id = rs.revision_id
             JOIN snapshots s ON s.id = r.new_snapshot_id
             WHERE rs.target_id = ?1 AND rs.key_json = ?2
             ORDER BY s.captured_at DESC, r.id DESC LIMIT ?3"
        );
        let mut st = self.conn.prepare_cached(&sql).map_err(self.sql())?;
        let rows = st
            .query_map(params![target, key, limit_param(limit)], |r| {
                Ok(SectionRevision {
                    revision: revision_row_at(r, 0)?,
                    change: r.get(8)?,
                    new: super::rows::snapshot_row_at(r, 9)?,
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// The revision (not technical) whose new snapshot is `snapshot`.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn revision_to(
        &self,
        target: &str,
        snapshot: SnapshotId,
    ) -> Result<Option<RevisionId>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT id FROM revisions WHERE target_id = ?1 AND new_snapshot_id = ?2
                 AND technical = 0 ORDER BY id LIMIT 1",
            )
            .and_then(|mut st| {
                st.query_row(params![target, snapshot], |r| r.get(0))
                    .optional()
            })
            .map_err(self.sql())
    }

    /// The target's first (oldest) snapshot row.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn first_snapshot_row(&self, target: &str) -> Result<Option<SnapshotRow>, StoreError> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE target_id = ?1
             ORDER BY captured_at, id LIMIT 1"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut st| st.query_row([target], super::rows::snapshot_row).optional())
            .map_err(self.sql())
    }
}
