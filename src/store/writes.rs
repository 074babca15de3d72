//! Writing to the store: checks, snapshots (files first, then rows, in one
//! transaction), technical revisions, re-extracted documents, feeds, and the
//! batches that make many checks one transaction and one `syncfs`.

use super::*;
#[allow(clippy::wildcard_imports)]
use crate::ids::{CheckId, RevisionId, SnapshotId};

/// What an open batch has written and not yet committed.
#[derive(Debug, Default)]
pub(super) struct Batch {
    /// Snapshot directories written (absolute), removed if the batch never
    /// commits.
    dirs: Vec<PathBuf>,
    /// Other files written without fsync (raw bodies, rewritten documents),
    /// made durable with the rest.
    files: Vec<PathBuf>,
    /// Raw body files this batch created (absolute), removed if it never
    /// commits: no committed row can name them.
    raw: Vec<PathBuf>,
    /// Files to write once the batch has committed (feeds), by path; a later
    /// write of the same path replaces an earlier one.
    after_commit: std::collections::BTreeMap<PathBuf, Vec<u8>>,
}

impl Batch {
    /// Removes what the batch wrote, its rows being rolled back.
    pub(super) fn remove_written(&self) {
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
        for file in &self.raw {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// The fields of a check row to insert.
pub(super) struct CheckInsert<'a> {
    pub(super) target: &'a str,
    pub(super) url: &'a str,
    pub(super) started_at: Timestamp,
    pub(super) duration_ms: i64,
    pub(super) outcome: CheckOutcome,
    pub(super) final_url: Option<&'a str>,
    pub(super) http_status: Option<u16>,
    pub(super) error: Option<&'a str>,
    pub(super) snapshot_id: Option<SnapshotId>,
    pub(super) revision_id: Option<RevisionId>,
    pub(super) note: Option<&'a str>,
}

pub(super) fn upsert_target(
    tx: &Connection,
    target: &str,
    url: &str,
    seen: Timestamp,
) -> db::Result<()> {
    tx.cached_execute(
        "INSERT INTO targets (id, url, first_seen) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET url = excluded.url WHERE targets.url IS NOT excluded.url",
        params![target, url, ts(seen)],
    )?;
    Ok(())
}

pub(super) fn insert_check(tx: &Connection, c: &CheckInsert<'_>) -> db::Result<CheckId> {
    let finished = c
        .started_at
        .checked_add(SignedDuration::from_millis(c.duration_ms))
        .unwrap_or(c.started_at);
    tx.cached_row(
        "INSERT INTO checks (target_id, started_at, finished_at, url, final_url, http_status,
                             outcome, error, snapshot_id, revision_id, duration_ms, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         RETURNING id",
        params![
            c.target,
            ts(c.started_at),
            ts(finished),
            c.url,
            c.final_url,
            c.http_status,
            c.outcome.as_str(),
            c.error,
            c.snapshot_id,
            c.revision_id,
            c.duration_ms,
            c.note,
        ],
        |r| r.get(0),
    )
}

pub(super) fn insert_revision(
    tx: &Connection,
    target: &str,
    old: SnapshotId,
    new: SnapshotId,
    revision: &Revision,
    technical: bool,
    created_at: Timestamp,
) -> Result<RevisionId, StoreError> {
    let json_err = |e: serde_json::Error| StoreError::Invalid {
        path: tx.path().unwrap_or_default().to_string(),
        message: format!("target `{target}`: revision not serialisable: {e}"),
    };
    let summary = serde_json::to_string(&revision.summary).map_err(json_err)?;
    let full = serde_json::to_string(revision).map_err(json_err)?;
    let path = tx.path().map(str::to_string).unwrap_or_default();
    tx.cached_row(
        "INSERT INTO revisions (target_id, old_snapshot_id, new_snapshot_id, kind, technical,
                                summary_json, revision_json, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         RETURNING id",
        params![
            target,
            old,
            new,
            revision.kind.as_str(),
            technical,
            summary,
            full,
            ts(created_at)
        ],
        |r| r.get(0),
    )
    .map_err(|source| StoreError::Database { path, source })
}

impl Store {
    /// Opens a batch: until [`Store::commit_batch`], every `record_*` call
    /// (and [`Store::replace_document`]) joins one SQLite transaction, each in
    /// its own savepoint so a failing call rolls back alone; snapshot files
    /// are written without fsync; feeds are written after the commit. The
    /// transaction itself starts at the batch's first write (`BEGIN
    /// IMMEDIATE`), so a batch that records nothing takes no write lock.
    /// Readers in other processes (WAL) see the batch's rows once it commits.
    ///
    /// Call with the store lock held and commit before releasing it and
    /// before delivering alerts (delivery opens its own connection, which
    /// sees only committed alerts).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when a batch is already open.
    pub fn begin_batch(&mut self) -> Result<(), StoreError> {
        let batch = self.batch.get_mut();
        if batch.is_some() {
            return Err(StoreError::Invalid {
                path: self.index.display().to_string(),
                message: "a batch is already open".into(),
            });
        }
        *batch = Some(Batch::default());
        Ok(())
    }

    /// Commits the open batch (a no-op without one): makes every file it
    /// wrote durable in one round (one `syncfs`, or an fsync per file for a
    /// few files), then COMMITs, then
    /// writes the feeds it held back. When the sync or the COMMIT fails, the
    /// batch's rows are rolled back and its snapshot directories removed, and
    /// the error returned; either way the batch is closed.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the files cannot be made durable,
    /// [`StoreError::Database`] when the COMMIT fails. A feed that cannot be
    /// written afterwards is logged, not returned: the next run rewrites
    /// feeds older than the newest revision.
    pub fn commit_batch(&mut self) -> Result<(), StoreError> {
        let Some(batch) = self.batch.get_mut().take() else {
            return Ok(());
        };
        if let Err(e) = self.commit_rows(&batch) {
            if !self.conn.is_autocommit() {
                let _ = self.conn.rollback();
            }
            batch.remove_written();
            return Err(e);
        }
        for (path, bytes) in &batch.after_commit {
            if let Err((path, e)) = files::write_atomic(path, bytes) {
                tracing::warn!("`{}` not written: {e}", path.display());
            }
        }
        Ok(())
    }

    /// The durability round and the COMMIT of [`Store::commit_batch`].
    pub(super) fn commit_rows(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if !batch.dirs.is_empty() || !batch.files.is_empty() {
            let written: Vec<PathBuf> = batch.dirs.iter().chain(&batch.files).cloned().collect();
            files::sync_store(&self.root, &written).map_err(|(path, source)| StoreError::Io {
                path: path.display().to_string(),
                source,
            })?;
        }
        if !self.conn.is_autocommit() {
            self.conn.commit().map_err(self.sql())?;
        }
        Ok(())
    }

    /// True while a batch is open.
    pub fn in_batch(&self) -> bool {
        self.batch.borrow().is_some()
    }

    /// How the next write makes its files durable.
    pub(super) fn durability(&self) -> Durability {
        if self.in_batch() {
            Durability::Batch
        } else {
            Durability::Each
        }
    }

    /// A write's transaction: inside an open batch, a savepoint in the
    /// batch's transaction (started here at its first write); alone, a
    /// savepoint that is a transaction of its own (its release commits).
    pub(super) fn write_unit(&mut self) -> Result<db::Transaction<'_>, StoreError> {
        let index = self.index.display().to_string();
        let sql = |source| StoreError::Database {
            path: index.clone(),
            source,
        };
        if self.batch.get_mut().is_some() && self.conn.is_autocommit() {
            self.conn.begin_immediate().map_err(sql)?;
        }
        self.conn.savepoint().map_err(sql)
    }

    /// Records `fingerprint` as what the snapshot's page gave the extractor:
    /// a check found a page with this fingerprint to extract to a document
    /// unchanged from the snapshot's, so a later page with the same one is
    /// too (the fingerprint names the extractor version and rules).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn set_source_fingerprint(
        &self,
        snapshot: SnapshotId,
        fingerprint: &str,
        mask: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE snapshots SET source_fingerprint = ?1, source_mask = ?2 WHERE id = ?3",
            )
            .and_then(|mut st| st.execute(params![fingerprint, mask, snapshot]))
            .map(|_| ())
            .map_err(self.sql())
    }

    /// Records a check that stored no new snapshot (unchanged, not modified,
    /// failed). Adds the target row if needed; touches no snapshot.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad target id; [`StoreError::Database`].
    pub fn record_check(&mut self, c: &CheckRecord) -> Result<CheckId, StoreError> {
        self.record_check_alerting(c, None)
    }

    /// Records a new snapshot: writes its directory (whole or not at all), then
    /// in one transaction the target row (if new), the snapshot row, the revision
    /// row (when `new.revision` is given) and the check row (`baseline` without
    /// a previous snapshot, else `changed`). If the transaction fails the
    /// directory is removed again.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad target id or a revision without a
    /// previous snapshot; [`StoreError::Io`]; [`StoreError::Database`].
    pub fn record_snapshot(&mut self, new: NewSnapshot<'_>) -> Result<Recorded, StoreError> {
        self.check_target(new.target)?;
        if new.revision.is_some() && new.previous.is_none() {
            return Err(self.invalid(new.target, "a revision needs the previous snapshot's id"));
        }
        if self.files_in_database() {
            return self.record_snapshot_in_database(&new);
        }
        self.unsettle()?;
        if new.revision.is_some() {
            self.feed_due(new.target);
        }
        let document_md = markdown::render(new.document, new.target);
        let target_dir = self.root.join(new.target);
        let durability = self.durability();
        let io = |(path, source): (PathBuf, std::io::Error)| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        let sha = hex::encode(Sha256::digest(&new.page.body));
        let (raw_rel, raw_written) =
            files::write_raw(&self.root, &sha, &new.page.body, durability).map_err(io)?;
        let name = files::write_snapshot(
            &target_dir,
            new.captured_at,
            &files::SnapshotFiles {
                document: new.document,
                document_md: &document_md,
                redline_md: new.redline_markdown,
            },
            durability,
        );
        let (name, document_sha256) = match name {
            Ok(written) => written,
            Err(e) => {
                if let Some(raw) = &raw_written {
                    let _ = std::fs::remove_file(raw);
                }
                return Err(io(e));
            }
        };
        let dir = target_dir.join(&name);
        let rel = format!("{}/{name}", new.target);
        match self.insert_snapshot_rows(&new, &rel, (&sha, Some(&raw_rel)), &document_sha256, None)
        {
            Ok((snapshot_id, revision_id, check_id)) => {
                if let Some(batch) = self.batch.get_mut() {
                    batch.dirs.push(dir.clone());
                    let raw = raw_rel
                        .split('/')
                        .fold(self.root.clone(), |p, part| p.join(part));
                    batch.files.push(raw);
                    batch.raw.extend(raw_written);
                }
                Ok(Recorded {
                    snapshot_id,
                    check_id,
                    revision_id,
                    dir,
                })
            }
            Err(e) => {
                // The index never saw them; don't leave an unindexed snapshot
                // (or a raw body no row names) behind.
                let _ = std::fs::remove_dir_all(&dir);
                if let Some(raw) = &raw_written {
                    let _ = std::fs::remove_file(raw);
                }
                Err(e)
            }
        }
    }

    /// [`Store::record_snapshot`] in a store whose files are in its
    /// database: the raw body and the document become blobs in the
    /// transaction of the rows; the snapshot's name (`<target>/<captured-at>`,
    /// `-2` on a same-second clash) is a name only. Markdown is not kept.
    fn record_snapshot_in_database(
        &mut self,
        new: &NewSnapshot<'_>,
    ) -> Result<Recorded, StoreError> {
        let sha = hex::encode(Sha256::digest(&new.page.body));
        let plain = files::document_bytes(new.document).map_err(|source| StoreError::Io {
            path: self.blob_name("document"),
            source,
        })?;
        let document_sha256 = ledger::sha256_hex(&plain);
        let base = files::dir_name(new.captured_at);
        let mut rel = format!("{}/{base}", new.target);
        for n in 2.. {
            let taken = self
                .conn
                .prepare_cached("SELECT 1 FROM snapshots WHERE dir = ?1")
                .and_then(|mut st| st.exists([&rel]))
                .map_err(self.sql())?;
            if !taken || n > 1000 {
                break;
            }
            rel = format!("{}/{base}-{n}", new.target);
        }
        let (snapshot_id, revision_id, check_id) = self.insert_snapshot_rows(
            new,
            &rel,
            (&sha, None),
            &document_sha256,
            Some([(&sha, &new.page.body), (&document_sha256, &plain)]),
        )?;
        Ok(Recorded {
            snapshot_id,
            check_id,
            revision_id,
            dir: self.root.join(&rel),
        })
    }

    /// The rows of [`Store::record_snapshot`]; `raw` is the body's SHA-256
    /// (hex) and its file relative to the root; `document_sha256` the
    /// document JSON's, for the ledger entry.
    pub(super) fn insert_snapshot_rows(
        &mut self,
        new: &NewSnapshot<'_>,
        rel: &str,
        raw: (&str, Option<&str>),
        document_sha256: &str,
        blobs: Option<[(&str, &[u8]); 2]>,
    ) -> Result<(SnapshotId, Option<RevisionId>, CheckId), StoreError> {
        let index = self.index.display().to_string();
        let sql = |source| StoreError::Database {
            path: index.clone(),
            source,
        };
        let doc = new.document;
        let page = new.page;
        let content_hash = new
            .content_hash
            .map_or_else(|| doc.fingerprint(), str::to_string);
        let stamp = doc.meta.stamp.as_ref();
        let words: usize = doc.sections.iter().map(|s| s.word_count()).sum();
        let root = self.root.clone();
        let public_url = self.public_url.clone();
        let tx = self.write_unit()?;
        upsert_target(&tx, new.target, new.url, new.started_at).map_err(sql)?;
        for (sha256, bytes) in blobs.into_iter().flatten() {
            super::blobs::put(&tx, sha256, bytes).map_err(sql)?;
        }
        // The id: above every id the table has, and every id it ever had
        // (`id_floor`, raised by `forget`). PostgreSQL's sequence never
        // goes back, so it gives one that way.
        let id = match tx.dialect() {
            db::Dialect::Sqlite => {
                "max(coalesce((SELECT max(id) FROM snapshots), 0),
                     coalesce((SELECT floor FROM id_floor WHERE name = 'snapshots'), 0)) + 1"
            }
            db::Dialect::Postgres => "DEFAULT",
        };
        let snapshot_id: SnapshotId = tx
            .cached_row(
                &format!(
                    "INSERT INTO snapshots ({SNAPSHOT_COLUMNS}) VALUES ({id},
                 ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
                 ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26,
                 ?27, ?28, NULL, NULL)
                 RETURNING id"
                ),
                params![
                    new.target,
                    ts(new.captured_at),
                    rel,
                    new.url,
                    page.final_url,
                    page.status,
                    page.content_type,
                    page.charset,
                    page.validators.etag,
                    page.validators.last_modified,
                    content_hash,
                    raw.0,
                    doc.meta.title,
                    stamp.map(|s| s.text.as_str()),
                    stamp.map(|s| s.date.to_string()),
                    stamp.and_then(|s| s.time).map(|t| t.to_string()),
                    stamp.and_then(|s| s.instant).map(ts),
                    doc.meta.root.selector,
                    doc.meta.root.fallback,
                    to_i64(doc.sections.len()),
                    to_i64(doc.block_count()),
                    to_i64(words),
                    page.charset_source.as_str(),
                    raw.1,
                    new.source_fingerprint,
                    new.source_mask,
                    new.archived.map(|a| a.archive.as_str()),
                    new.archived.map(|a| a.url.as_str()),
                ],
                |r| r.get(0),
            )
            .map_err(sql)?;
        ledger::append(
            &tx,
            ledger::LedgerEvent::Stored,
            &ledger::Subject {
                snapshot_id,
                target: new.target,
                captured_at: &ts(new.captured_at),
                source: &ledger::source_text(
                    new.archived.map(|a| a.archive.as_str()),
                    new.archived.map(|a| a.url.as_str()),
                ),
                raw_sha256: raw.0,
                document_sha256,
            },
            Timestamp::now(),
        )
        .map_err(sql)?;
        super::search::index_document(&tx, snapshot_id, doc).map_err(sql)?;
        let revision_id = match (new.revision, new.previous) {
            (Some(revision), Some(previous)) => Some(insert_revision(
                &tx,
                new.target,
                previous,
                snapshot_id,
                revision,
                new.technical,
                new.captured_at,
            )?),
            _ => None,
        };
        let outcome = if new.previous.is_none() {
            CheckOutcome::Baseline
        } else if new.technical {
            CheckOutcome::LayoutChanged
        } else {
            CheckOutcome::Changed
        };
        let check_id = insert_check(
            &tx,
            &CheckInsert {
                target: new.target,
                url: new.url,
                started_at: new.started_at,
                duration_ms: new.duration_ms,
                outcome,
                final_url: Some(&page.final_url),
                http_status: Some(page.status),
                error: None,
                snapshot_id: Some(snapshot_id),
                revision_id,
                note: new.note,
            },
        )
        .map_err(sql)?;
        if let Some(a) = new.archived {
            super::imports::insert_capture(
                &tx,
                new.target,
                a,
                super::imports::CaptureOutcome::Snapshot,
                Some(snapshot_id),
                new.note,
            )
            .map_err(sql)?;
        }
        if let Some(plan) = new.alerts {
            let location = match &public_url {
                Some(base) => crate::report::revision_page(base, new.target, snapshot_id),
                None => root.join(rel).display().to_string(),
            };
            outbox::enqueue_for_snapshot(
                &tx,
                new.target,
                new.url,
                plan,
                (snapshot_id, revision_id, check_id),
                &location,
                public_url.is_some(),
            )?;
        }
        tx.commit().map_err(sql)?;
        Ok((snapshot_id, revision_id, check_id))
    }

    /// Records a revision between two stored snapshots that comes only from
    /// re-extraction (`technical`), with no check: it never shows as a page change.
    ///
    /// # Errors
    /// [`StoreError::Database`] (also when either snapshot does not exist).
    pub fn record_technical_revision(
        &mut self,
        target: &str,
        old_snapshot_id: SnapshotId,
        new_snapshot_id: SnapshotId,
        revision: &Revision,
        created_at: Timestamp,
    ) -> Result<RevisionId, StoreError> {
        self.check_target(target)?;
        self.unsettle()?;
        self.feed_due(target);
        let index = self.index.display().to_string();
        let tx = self.write_unit()?;
        let id = insert_revision(
            &tx,
            target,
            old_snapshot_id,
            new_snapshot_id,
            revision,
            true,
            created_at,
        )?;
        tx.commit().map_err(|source| StoreError::Database {
            path: index,
            source,
        })?;
        Ok(id)
    }

    /// Replaces a snapshot's document after re-extraction from its raw body:
    /// rewrites `document.json.zst` (removing an old plain `document.json`)
    /// and `document.md` atomically, then updates the
    /// row's content hash, title, stamp, root and counts. The raw body, the
    /// checks and the revisions stay as they are (record differences with
    /// [`Store::record_technical_revision`]).
    ///
    /// # Errors
    /// [`StoreError::Io`]; [`StoreError::Database`].
    pub fn replace_document(
        &mut self,
        row: &SnapshotRow,
        document: &Document,
    ) -> Result<(), StoreError> {
        self.unsettle()?;
        // The readers recompute redlines from re-extracted documents.
        self.feed_due(&row.target);
        let dir = self.snapshot_dir(row);
        let io = |(path, source): (PathBuf, std::io::Error)| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        let plain =
            files::document_bytes(document).map_err(|e| io((dir.join(DOCUMENT_JSON_ZST), e)))?;
        let document_sha256 = ledger::sha256_hex(&plain);
        if !self.files_in_database() {
            let json =
                files::document_json(document).map_err(|e| io((dir.join(DOCUMENT_JSON_ZST), e)))?;
            let durability = self.durability();
            let md = markdown::render(document, &row.target);
            for (name, bytes) in [(DOCUMENT_JSON_ZST, &json[..]), (DOCUMENT_MD, md.as_bytes())] {
                let path = dir.join(name);
                files::write_atomic_with(&path, bytes, durability).map_err(io)?;
                if let Some(batch) = self.batch.get_mut() {
                    batch.files.push(path);
                }
            }
            // A snapshot of the old layout moves to the compressed document; the
            // new file is in place, so readers never miss one.
            match std::fs::remove_file(dir.join(DOCUMENT_JSON)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io((dir.join(DOCUMENT_JSON), e)));
                }
                _ => {}
            }
        }
        let stamp = document.meta.stamp.as_ref();
        let words: usize = document.sections.iter().map(|s| s.word_count()).sum();
        let index = self.index.display().to_string();
        let in_database = self.files_in_database();
        let unit = self.write_unit()?;
        if in_database {
            super::blobs::put(&unit, &document_sha256, &plain).map_err(|source| {
                StoreError::Database {
                    path: index.clone(),
                    source,
                }
            })?;
        }
        super::search::unindex(&unit, row.id)
            .and_then(|()| super::search::index_document(&unit, row.id, document))
            .map_err(|source| StoreError::Database {
                path: index.clone(),
                source,
            })?;
        unit.execute(
            "UPDATE snapshots SET content_hash = ?2, title = ?3, stamp_text = ?4, stamp_date = ?5,
                        stamp_time = ?6, stamp_instant = ?7, root_selector = ?8, root_fallback = ?9,
                        sections = ?10, blocks = ?11, words = ?12
                 WHERE id = ?1",
            params![
                row.id,
                document.fingerprint(),
                document.meta.title,
                stamp.map(|s| s.text.as_str()),
                stamp.map(|s| s.date.to_string()),
                stamp.and_then(|s| s.time).map(|t| t.to_string()),
                stamp.and_then(|s| s.instant).map(ts),
                document.meta.root.selector,
                document.meta.root.fallback,
                to_i64(document.sections.len()),
                to_i64(document.block_count()),
                to_i64(words),
            ],
        )
        .and_then(|_| {
            ledger::append(
                &unit,
                ledger::LedgerEvent::Replaced,
                &ledger::Subject {
                    snapshot_id: row.id,
                    target: &row.target,
                    captured_at: &ts(row.captured_at),
                    source: &ledger::source_text(row.source.as_deref(), row.source_url.as_deref()),
                    raw_sha256: &row.raw_sha256,
                    document_sha256: &document_sha256,
                },
                Timestamp::now(),
            )
        })
        .and_then(|_| unit.commit())
        .map_err(|source| StoreError::Database {
            path: index,
            source,
        })?;
        Ok(())
    }

    /// Writes a per-target file beside the snapshot directories (e.g. `feed.atom`),
    /// atomically, and returns its path.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad target id or a `name` with a path
    /// separator or a leading dot; [`StoreError::Io`].
    pub fn write_target_file(
        &self,
        target: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<PathBuf, StoreError> {
        self.check_target(target)?;
        if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
            return Err(self.invalid(target, &format!("`{name}` is not a plain file name")));
        }
        self.unsettle()?;
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let path = dir.join(name);
        self.write_file(path, bytes)
    }

    /// Writes a target or root file now, or, inside a batch, after its
    /// COMMIT (see [`Store::commit_batch`]).
    pub(super) fn write_file(&self, path: PathBuf, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        if let Some(batch) = self.batch.borrow_mut().as_mut() {
            batch.after_commit.insert(path.clone(), bytes.to_vec());
            return Ok(path);
        }
        files::write_atomic(&path, bytes).map_err(|(path, source)| StoreError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(path)
    }

    /// Writes a file in the store root (e.g. the feed for all targets),
    /// atomically, and returns its path. Call with the store lock held.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a `name` with a path separator or a leading
    /// dot; [`StoreError::Io`].
    pub fn write_root_file(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
            return Err(StoreError::Invalid {
                path: self.root.display().to_string(),
                message: format!("`{name}` is not a plain file name"),
            });
        }
        self.unsettle()?;
        self.write_file(self.root.join(name), bytes)
    }
}
