//! Reading the store: targets, snapshots with their documents, checks,
//! revisions, raw bodies and the history of a target.

use super::*;
#[allow(clippy::wildcard_imports)]
use crate::ids::{RevisionId, SnapshotId};

impl Store {
    /// Ids of the targets with anything recorded, sorted.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn targets(&self) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT id FROM targets ORDER BY id")
            .map_err(self.sql())?;
        let rows = st.query_map((), |r| r.get(0)).map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// The target's newest snapshot with its document, if any.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Io`] or [`StoreError::Invalid`] when
    /// its `document.json` is missing or unreadable.
    pub fn latest_snapshot(&self, target: &str) -> Result<Option<StoredSnapshot>, StoreError> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE target_id = ?1
             ORDER BY captured_at DESC, id DESC LIMIT 1"
        );
        let row = self
            .conn
            .cached_row(&sql, [target], snapshot_row)
            .optional()
            .map_err(self.sql())?;
        row.map(|r| self.load(r)).transpose()
    }

    /// The target's newest snapshot row, without its document (read it with
    /// [`Store::with_document`] when needed: a check whose page is unchanged
    /// by its fingerprint never does).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn latest_snapshot_row(&self, target: &str) -> Result<Option<SnapshotRow>, StoreError> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE target_id = ?1
             ORDER BY captured_at DESC, id DESC LIMIT 1"
        );
        self.conn
            .cached_row(&sql, [target], snapshot_row)
            .optional()
            .map_err(self.sql())
    }

    /// A snapshot row with its document loaded.
    ///
    /// # Errors
    /// [`StoreError::Io`] or [`StoreError::Invalid`] when its `document.json`
    /// is missing or unreadable.
    pub fn with_document(&self, row: SnapshotRow) -> Result<StoredSnapshot, StoreError> {
        self.load(row)
    }

    /// One snapshot of the target by id, with its document.
    ///
    /// # Errors
    /// As [`Store::latest_snapshot`].
    pub fn snapshot(
        &self,
        target: &str,
        id: SnapshotId,
    ) -> Result<Option<StoredSnapshot>, StoreError> {
        self.snapshot_row(target, id)?
            .map(|r| self.load(r))
            .transpose()
    }

    /// The target's snapshots, newest first.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn snapshots(&self, target: &str) -> Result<Vec<SnapshotRow>, StoreError> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE target_id = ?1
             ORDER BY captured_at DESC, id DESC"
        );
        let mut st = self.conn.prepare(&sql).map_err(self.sql())?;
        let rows = st.query_map([target], snapshot_row).map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// The target's latest `limit` checks, newest first.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn checks(&self, target: &str, limit: usize) -> Result<Vec<CheckRow>, StoreError> {
        let sql = format!(
            "SELECT {CHECK_COLUMNS} FROM checks WHERE target_id = ?1
             ORDER BY started_at DESC, id DESC LIMIT ?2"
        );
        let mut st = self.conn.prepare_cached(&sql).map_err(self.sql())?;
        let rows = st
            .query_map(params![target, limit_param(limit)], check_row)
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// The start of the target's latest check whose outcome is one of
    /// `outcomes` (any outcome when empty); `None` when there is none.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn last_check_started(
        &self,
        target: &str,
        outcomes: &[CheckOutcome],
    ) -> Result<Option<Timestamp>, StoreError> {
        let filter = if outcomes.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = outcomes
                .iter()
                .map(|o| format!("'{}'", o.as_str()))
                .collect();
            format!(" AND outcome IN ({})", names.join(", "))
        };
        let sql = format!(
            "SELECT started_at FROM checks WHERE target_id = ?1{filter}
             ORDER BY started_at DESC, id DESC LIMIT 1"
        );
        self.conn
            .cached_row(&sql, [target], |r| get_timestamp(r, 0))
            .optional()
            .map_err(self.sql())
    }

    /// The target's revisions (technical ones included, flagged), newest first.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn revisions(&self, target: &str) -> Result<Vec<RevisionRow>, StoreError> {
        self.revision_page(target, usize::MAX, 0)
    }

    /// One revision of the target, in full.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Invalid`] when its JSON is unreadable.
    pub fn revision(&self, target: &str, id: RevisionId) -> Result<Option<Revision>, StoreError> {
        let json: Option<String> = self
            .conn
            .cached_row(
                "SELECT revision_json FROM revisions WHERE target_id = ?1 AND id = ?2",
                params![target, id],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql())?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| StoreError::Invalid {
                path: self.index.display().to_string(),
                message: format!("target `{target}`: revision {id}: unreadable JSON: {e}"),
            })
        })
        .transpose()
    }

    /// The snapshot's body exactly as served: its `.raw/` file (zstd), or
    /// the gunzipped `page.html.gz` of a snapshot stored before that layout.
    ///
    /// # Errors
    /// [`StoreError::Io`] naming the file.
    pub fn raw_body(&self, row: &SnapshotRow) -> Result<Vec<u8>, StoreError> {
        if self.files_in_database() {
            return self.read_blob(&row.raw_sha256);
        }
        let (path, body) = match &row.raw_path {
            Some(rel) => {
                let path = rel
                    .split('/')
                    .fold(self.root.clone(), |p, part| p.join(part));
                let body = files::read_zst(&path);
                (path, body)
            }
            None => {
                let path = self.snapshot_dir(row).join(PAGE_FILE);
                let body = files::read_gz(&path);
                (path, body)
            }
        };
        body.map_err(|source| StoreError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// The target's latest `limit` checks, newest first, each with the snapshot
    /// it made or compared against and the revision it made.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn history(&self, target: &str, limit: usize) -> Result<Vec<HistoryEntry>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT c.id, c.started_at, c.outcome, c.http_status, c.snapshot_id,
                        s.stamp_text, s.sections, c.revision_id, r.kind, r.summary_json, c.error,
                        c.note
                 FROM checks c
                 LEFT JOIN snapshots s ON s.id = c.snapshot_id
                 LEFT JOIN revisions r ON r.id = c.revision_id
                 WHERE c.target_id = ?1
                 ORDER BY c.started_at DESC, c.id DESC LIMIT ?2",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map(params![target, limit_param(limit)], |r| {
                let summary: Option<String> = r.get(9)?;
                Ok(HistoryEntry {
                    check_id: r.get(0)?,
                    at: get_timestamp(r, 1)?,
                    outcome: get_outcome(r, 2)?,
                    http_status: r.get(3)?,
                    snapshot_id: r.get(4)?,
                    stamp: r.get(5)?,
                    sections: r.get::<_, Option<i64>>(6)?.map(to_usize),
                    revision_id: r.get(7)?,
                    kind: get_kind_opt(r, 8)?,
                    summary: summary.map(|s| parse_json(&s, 9)).transpose()?,
                    error: r.get(10)?,
                    note: r.get(11)?,
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// When the target's newest revision (of any kind, technical included)
    /// was recorded; `None` when it has none.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn newest_revision_at(&self, target: &str) -> Result<Option<Timestamp>, StoreError> {
        self.conn
            .cached_row(
                "SELECT created_at FROM revisions WHERE target_id = ?1
                 ORDER BY created_at DESC, id DESC LIMIT 1",
                [target],
                |r| get_timestamp(r, 0),
            )
            .optional()
            .map_err(self.sql())
    }

    /// The document JSON exactly as stored (decompressed): the bytes whose
    /// SHA-256 is the snapshot's `document_sha256`, and the file read.
    ///
    /// # Errors
    /// [`StoreError::Io`] naming the file.
    pub fn document_bytes(&self, row: &SnapshotRow) -> Result<(Vec<u8>, PathBuf), StoreError> {
        if self.files_in_database() {
            let sha = self.document_blob(row)?;
            return Ok((self.read_blob(sha)?, PathBuf::from(self.blob_name(sha))));
        }
        files::read_document(&self.snapshot_dir(row), row.raw_path.is_none()).map_err(
            |(path, source)| StoreError::Io {
                path: path.display().to_string(),
                source,
            },
        )
    }

    /// Loads the document (`document.json.zst`, or an old snapshot's plain
    /// `document.json`) for a row.
    /// Fails as [`Store::snapshot`] would when the snapshot's document file
    /// is missing or unreadable, without reading it.
    ///
    /// # Errors
    /// [`StoreError::Io`] naming the file.
    pub fn document_present(&self, row: &SnapshotRow) -> Result<(), StoreError> {
        if self.files_in_database() {
            let sha = self.document_blob(row)?;
            return if super::blobs::exists(&self.conn, sha).map_err(self.sql())? {
                Ok(())
            } else {
                Err(StoreError::Io {
                    path: self.blob_name(sha),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such blob"),
                })
            };
        }
        files::document_file(&self.snapshot_dir(row), row.raw_path.is_none())
            .map(drop)
            .map_err(|(path, source)| StoreError::Io {
                path: path.display().to_string(),
                source,
            })
    }

    /// The blob of a snapshot's document in a store whose files are in its
    /// database.
    fn document_blob<'r>(&self, row: &'r SnapshotRow) -> Result<&'r str, StoreError> {
        row.document_sha256
            .as_deref()
            .ok_or_else(|| StoreError::Invalid {
                path: self.index.display().to_string(),
                message: format!("snapshot {} of `{}` names no document", row.id, row.target),
            })
    }

    pub(super) fn load(&self, row: SnapshotRow) -> Result<StoredSnapshot, StoreError> {
        let (json, path) = self.document_bytes(&row)?;
        let document: Document =
            serde_json::from_slice(&json).map_err(|e| StoreError::Invalid {
                path: path.display().to_string(),
                message: format!("unreadable document JSON: {e}"),
            })?;
        Ok(StoredSnapshot {
            id: row.id,
            captured_at: row.captured_at,
            validators: row.validators(),
            row,
            document,
        })
    }
}
