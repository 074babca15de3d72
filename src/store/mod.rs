//! The store: files under the store root (`snapshots/` by default) plus the
//! SQLite index `redliner.sqlite` there.
//!
//! ```text
//! snapshots/
//!   redliner.sqlite                 index: targets, checks, snapshots, revisions
//!   nato-belarus/
//!     2026-11-29T10-00-00Z/         one snapshot (UTC capture time; `-2` on a same-second clash)
//!       document.json.zst           the extracted document (JSON, zstd)
//!       document.md                 the document as Markdown (readable, `git diff`-able)
//!       redline.md                  the redline against the previous snapshot, if any
//!   .raw/3f/3f9a...e1.html.zst      each distinct body exactly as served (zstd), named
//!                                   by its SHA-256, stored once for the whole store
//! ```
//!
//! Snapshots stored by earlier versions keep `page.html.gz` and a plain
//! `document.json` in their directory, and read as before (see `files.rs`).
//!
//! The files are the record; the index makes them searchable. A snapshot's
//! files are in place (renamed in whole) before its rows are inserted, in one
//! transaction with its check and revision. A check that finds nothing new
//! (unchanged, not modified, failed) adds a check row only.
//!
//! # Batches
//!
//! Alone, each `record_*` call is its own transaction and fsyncs the files it
//! wrote. Between [`Store::begin_batch`] and [`Store::commit_batch`] every
//! call joins one transaction instead (each inside its own savepoint, so a
//! failing call rolls back alone), snapshot files are written without fsync,
//! and the commit makes them all durable in one round (`syncfs`) before the
//! one COMMIT that names them. A run killed inside a batch loses that batch's
//! checks, never more; the files it wrote are set aside by the next run's
//! [`Store::sweep_unfinished`]. Per-target and root files written during a
//! batch (the Atom feeds) are written after its COMMIT, so a feed never
//! names a revision that was not committed.
//!
//! All methods are synchronous: each runs to its end on the calling thread
//! (the run loop calls them between awaits, never across one).

mod backup;
mod blobs;
mod browse;
mod check_store;
pub mod db;
mod files;
mod imports;
pub mod ledger;
pub mod lock;
mod markdown;
pub mod migrate;
mod naming;
mod outbox;
mod queries;
mod recent;
mod recovery;
mod retention;
mod rows;
mod schema;
mod search;
mod settle;
#[cfg(test)]
mod testing;
pub mod workers;
mod writes;

use std::path::{Path, PathBuf};

use db::{Connection, OptionalExtension, Row, params};
use jiff::civil::{Date, Time};
use jiff::{SignedDuration, Timestamp, Unit};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::document::Document;
use crate::fetch::{FetchedPage, Validators};
use crate::revision::{ChangeSummary, Revision, RevisionKind};

pub use backup::BackupSummary;
pub use browse::{DashboardRow, SectionRevision, TimelineEntry, TimelineKind};
pub use check_store::CheckStore;
use files::Durability;
pub use files::{
    DOCUMENT_JSON, DOCUMENT_JSON_ZST, DOCUMENT_MD, LOCKED_TEMP_PREFIX, PAGE_FILE, RAW_DIR,
    REDLINE_MD, STAGING_PREFIX, STALE_TEMP_AGE, dir_name, new_temp_file,
};
pub use imports::CaptureOutcome;
pub use markdown::render as render_markdown;
pub use outbox::{
    AlertKind, AlertPlan, AlertRow, AlertState, ClaimedAlert, DeliveryRow, PlannedRevision,
};
pub use recent::StoredRevision;
pub use retention::{MAX_KEEP_FOR, MIN_KEEP_FOR, Removed, Retention};
pub use rows::*;
pub use schema::current_version as index_schema_version;
pub use search::{MATCH_END, MATCH_START, MAX_QUERY_CHARS, MAX_TERMS, SearchHit, SearchQuery};
pub use settle::CLEAN_FILE;
#[cfg(test)]
pub(crate) use testing::SqlCount;
use writes::{Batch, CheckInsert, insert_check, upsert_target};

/// The index file name inside the store root.
pub const INDEX_FILE: &str = "redliner.sqlite";

/// Why the store could not be read or written. Messages start with the file
/// concerned: ``store `snapshots/redliner.sqlite`: ...``.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database (SQLite or PostgreSQL) failed.
    #[error("store `{path}`: {source}")]
    Database {
        /// The index file, or the database URL without its password.
        path: String,
        /// The database's error.
        #[source]
        source: db::DbError,
    },
    /// A file or directory could not be read or written.
    #[error("store `{path}`: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The store holds something this build can't use, or a caller passed
    /// something the store can't record.
    #[error("store `{path}`: {message}")]
    Invalid {
        /// The file concerned.
        path: String,
        /// What is wrong, naming the target when there is one.
        message: String,
    },
}

/// The snapshot store: files under a root directory plus its SQLite index.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    index: PathBuf,
    conn: Connection,
    /// The stand-in root of a store whose files are in its database.
    scratch: Option<tempfile::TempDir>,
    /// The URL of a store's PostgreSQL database, as given.
    database_url: Option<String>,
    /// The open batch, if any ([`Store::begin_batch`]). In a cell because
    /// feeds are written through `&self` ([`Store::write_target_file`]).
    batch: std::cell::RefCell<Option<Batch>>,
    /// This session removed the clean mark and has not put it back (see
    /// the `settle` module).
    unsettled: std::cell::Cell<bool>,
    /// Targets whose feeds this session's writes made stale.
    feeds_due: std::cell::RefCell<std::collections::BTreeSet<String>>,
    /// The targets the config names ([`Store::set_feed_scope`]); `None`:
    /// every stored target.
    feed_scope: Option<std::collections::BTreeSet<String>>,
    /// [`Store::feed_scope_key`], computed once when the scope is set.
    feed_scope_key: String,
    /// The feed for all targets on disk is known to be written for this
    /// scope (read once, or written, this session): not read again.
    feed_scope_current: std::cell::Cell<bool>,
    /// Where `serve` is reached (`[serve] public_url`): alerts and feeds
    /// link each revision to its page there.
    public_url: Option<url::Url>,
}

impl Drop for Store {
    /// A batch never committed is lost (SQLite rolls its transaction back
    /// when the connection closes); its snapshot directories go with it.
    fn drop(&mut self) {
        if let Some(batch) = self.batch.get_mut().take() {
            let _ = self.conn.rollback();
            batch.remove_written();
        }
    }
}

impl Store {
    /// Limits the feed for all targets (`<store>/feed.atom`) to `targets`,
    /// the ones the config names: a target dropped from the config is no
    /// news. Unset (a store read without a config), the feed covers every
    /// stored target. `redliner report --format atom --all-stored` gives
    /// the feed of every stored target on demand.
    pub fn set_feed_scope<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, targets: I) {
        let ids: std::collections::BTreeSet<String> = targets.into_iter().map(Into::into).collect();
        let mut h = Sha256::new();
        for id in &ids {
            h.update(id.as_bytes());
            h.update(b"\n");
        }
        self.feed_scope_key = hex::encode(h.finalize());
        self.feed_scope = Some(ids);
        self.feed_scope_current.set(false);
    }

    /// True when `target` belongs in the feed for all targets (see
    /// [`Store::set_feed_scope`]).
    pub fn in_feed_scope(&self, target: &str) -> bool {
        self.feed_scope.as_ref().is_none_or(|s| s.contains(target))
    }

    /// A short fingerprint of the feed scope (SHA-256 over the sorted
    /// target ids, hex; `*` when unset), written beside the feed for all
    /// targets so that a run after the config changed rewrites it.
    pub fn feed_scope_key(&self) -> &str {
        &self.feed_scope_key
    }

    /// Whether the feed for all targets is known to be written for the
    /// current scope (see [`Store::mark_feed_scope_current`]).
    pub fn feed_scope_current(&self) -> bool {
        self.feed_scope_current.get()
    }

    /// Notes that the feed for all targets on disk was written for the
    /// current scope (checked or written), so this session need not read
    /// `feed.scope` again: the scope does not change while a store is open.
    pub fn mark_feed_scope_current(&self) {
        self.feed_scope_current.set(true);
    }

    /// Links each revision the store announces (alerts, feeds, redlines read
    /// back) to its page in `serve` under `base` (`[serve] public_url`);
    /// `None`: to the watched page only.
    pub fn set_public_url(&mut self, base: Option<url::Url>) {
        self.public_url = base;
    }

    /// The base URL of `serve` ([`Store::set_public_url`]).
    pub fn public_url(&self) -> Option<&url::Url> {
        self.public_url.as_ref()
    }

    /// Opens the store at `root`, creating the directory and the index if missing
    /// and applying pending schema migrations.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the directory can't be created,
    /// [`StoreError::Database`] when the index can't be opened or migrated,
    /// [`StoreError::Invalid`] when it was written by a newer redliner.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        Store::open_with_password(root, None)
    }

    /// [`Store::open`], where `root` may be the URL of a PostgreSQL database
    /// (`postgres://user@host:port/database`): its password is read from the
    /// environment variable `password_env` names, else from `PGPASSWORD`.
    ///
    /// # Errors
    /// As [`Store::open`] and [`Store::open_postgres`];
    /// [`StoreError::Invalid`] when `password_env` names a variable that is
    /// not set.
    pub fn open_with_password(
        root: &Path,
        password_env: Option<&str>,
    ) -> Result<Store, StoreError> {
        let kind = root
            .to_str()
            .map_or(db::postgres::StoreKind::Directory, db::postgres::store_kind);
        if kind == db::postgres::StoreKind::OtherUrl {
            return Err(StoreError::Invalid {
                path: db::postgres::redact(&root.to_string_lossy()),
                message: db::postgres::other_url_message(&root.to_string_lossy()),
            });
        }
        if let Some(url) = root.to_str().filter(|r| db::postgres::is_url(r)) {
            if let Some(var) = password_env {
                db::postgres::set_password_env(url, var);
            }
            let password = match password_env {
                Some(name) => Some(std::env::var(name).map_err(|_| StoreError::Invalid {
                    path: db::postgres::redact(url),
                    message: format!(
                        "the environment variable `{name}` (settings.store_password_env) is not set"
                    ),
                })?),
                None => std::env::var("PGPASSWORD").ok(),
            };
            return Store::open_postgres(&db::postgres::PgTarget {
                url: url.to_string(),
                password,
            });
        }
        if root.exists() && !root.is_dir() {
            return Err(StoreError::Invalid {
                path: root.display().to_string(),
                message: "the store root exists and is not a directory".into(),
            });
        }
        std::fs::create_dir_all(root).map_err(|source| StoreError::Io {
            path: root.display().to_string(),
            source,
        })?;
        let index = root.join(INDEX_FILE);
        let conn = schema::open(&index).map_err(|e| match e {
            schema::OpenError::Sqlite(source) => StoreError::Database {
                path: index.display().to_string(),
                source: source.into(),
            },
            schema::OpenError::TooNew(v) => StoreError::Invalid {
                path: index.display().to_string(),
                message: format!(
                    "schema version {v} is newer than this redliner knows ({}); upgrade redliner",
                    schema::current_version()
                ),
            },
        })?;
        // Every statement of a check is prepared once per connection; the
        // default cache (16) is smaller than the statements a check and its
        // alerts run.
        conn.set_prepared_statement_cache_capacity(64);
        let store = Store::with_connection(root, index, Connection::sqlite(conn));
        store.refuse_lost_index()?;
        Ok(store)
    }

    /// Opens a store in the PostgreSQL database `target`, applying pending
    /// schema migrations (`src/store/migrations/postgres/`). Its files (raw
    /// bodies, documents) are in the database too (`blobs`); nothing is
    /// written to disk, and feeds are rendered when asked for.
    ///
    /// # Errors
    /// [`StoreError::Io`] when no scratch directory can be made,
    /// [`StoreError::Database`] when no connection can be had or a migration
    /// fails, [`StoreError::Invalid`] when a newer redliner migrated the
    /// database.
    pub fn open_postgres(target: &db::postgres::PgTarget) -> Result<Store, StoreError> {
        let name = target.display();
        let database = |source| StoreError::Database {
            path: name.clone(),
            source,
        };
        let conn = db::postgres::PgConnection::connect(target).map_err(database)?;
        let conn = Connection::postgres(conn);
        schema::migrate_postgres(&conn).map_err(|e| match e {
            schema::PgMigrateError::Database(source) => database(source),
            schema::PgMigrateError::TooNew(v) => StoreError::Invalid {
                path: name.clone(),
                message: format!(
                    "schema version {v} is newer than this redliner knows ({}); upgrade redliner",
                    schema::current_postgres_version()
                ),
            },
        })?;
        // Nothing is written under the root of a store whose files are in
        // its database; a private scratch directory stands in, so that a
        // path made from it never lands in the working directory.
        let scratch = tempfile::Builder::new()
            .prefix("redliner-store-")
            .tempdir()
            .map_err(|source| StoreError::Io {
                path: std::env::temp_dir().display().to_string(),
                source,
            })?;
        let mut store = Store::with_connection(scratch.path(), PathBuf::from(&name), conn);
        store.scratch = Some(scratch);
        store.database_url = Some(target.url.clone());
        Ok(store)
    }

    fn with_connection(root: &Path, index: PathBuf, conn: Connection) -> Store {
        Store {
            root: root.to_path_buf(),
            index,
            conn,
            scratch: None,
            database_url: None,
            batch: std::cell::RefCell::new(None),
            unsettled: std::cell::Cell::new(false),
            feeds_due: std::cell::RefCell::new(std::collections::BTreeSet::new()),
            feed_scope: None,
            feed_scope_key: "*".to_string(),
            feed_scope_current: std::cell::Cell::new(false),
            public_url: None,
        }
    }

    /// The store root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What names the store, and what its lock ([`lock::StoreLock`]) is
    /// taken on: the root, or the URL of its PostgreSQL database as given.
    pub fn location(&self) -> PathBuf {
        self.database_url
            .as_ref()
            .map_or_else(|| self.root.clone(), PathBuf::from)
    }

    /// The PostgreSQL database the store is in, with its password (see
    /// [`db::postgres::password_for`]); `None` for a store in a directory.
    pub fn postgres_target(&self) -> Option<db::postgres::PgTarget> {
        self.database_url
            .as_ref()
            .map(|url| db::postgres::PgTarget {
                url: url.clone(),
                password: db::postgres::password_for(url),
            })
    }

    /// The index file (`<root>/redliner.sqlite`).
    pub fn index_path(&self) -> &Path {
        &self.index
    }

    /// The absolute-or-root-relative directory of a snapshot's files.
    pub fn snapshot_dir(&self, row: &SnapshotRow) -> PathBuf {
        row.dir
            .split('/')
            .fold(self.root.clone(), |p, part| p.join(part))
    }

    fn sql(&self) -> impl Fn(db::DbError) -> StoreError + '_ {
        move |source| StoreError::Database {
            path: self.index.display().to_string(),
            source,
        }
    }

    /// Target ids become directory names: refuse anything but `[A-Za-z0-9._-]+`
    /// not starting with a dot.
    fn check_target(&self, target: &str) -> Result<(), StoreError> {
        let ok = !target.is_empty()
            && !target.starts_with('.')
            && target
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(())
        } else {
            Err(self.invalid(target, "not a valid target id (use a-z, 0-9, -)"))
        }
    }

    fn invalid(&self, target: &str, message: &str) -> StoreError {
        StoreError::Invalid {
            path: self.index.display().to_string(),
            message: format!("target `{target}`: {message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Block, BlockKind, ContentRoot, DocumentMeta, Section, SectionKey};
    use crate::ids::SnapshotId;
    use crate::stamp::Stamp;

    /// A history entry on one line, to compare whole histories in one assert.
    fn history_line(e: &HistoryEntry) -> String {
        let mut parts = vec![
            e.at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            format!("{:<12}", e.outcome.as_str()),
        ];
        if e.outcome == CheckOutcome::LayoutChanged {
            parts.push("layout changed".to_string());
        } else {
            parts.extend(e.kind.map(|k| k.as_str().to_string()));
        }
        parts.extend(e.stamp.clone());
        match (&e.summary, e.outcome) {
            (Some(summary), _) => parts.push(crate::report::history::summary_text(summary)),
            (None, CheckOutcome::Baseline) => {
                parts.extend(
                    e.sections
                        .map(|n| format!("{n} section{}", if n == 1 { "" } else { "s" })),
                );
            }
            _ => {}
        }
        parts.extend(e.error.clone());
        parts.extend(e.note.clone());
        parts.join("  ").trim_end().to_string()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// A store's root for a test, and its PostgreSQL database if any.
    struct TestRoot {
        dir: tempfile::TempDir,
        db: Option<db::tests::TestDb>,
    }

    impl TestRoot {
        fn path(&self) -> &Path {
            self.dir.path()
        }

        /// Opens the store again, as the next run would.
        fn reopen(&self) -> Store {
            match &self.db {
                None => Store::open(self.path()).unwrap(),
                Some(db) => Store::open_postgres(&db.target).unwrap(),
            }
        }
    }

    /// Runs `test` on a SQLite store, then on a store whose index is a
    /// PostgreSQL database when there is a server (`REDLINER_TEST_POSTGRES`).
    fn each_store(test: impl Fn(&TestRoot, Store)) {
        let lite = TestRoot {
            dir: tempfile::tempdir().unwrap(),
            db: None,
        };
        test(&lite, lite.reopen());
        if let Some(db) = db::tests::TestDb::new() {
            let pg = TestRoot {
                dir: tempfile::tempdir().unwrap(),
                db: Some(db),
            };
            test(&pg, pg.reopen());
        }
    }

    fn page(body: &str, etag: Option<&str>) -> FetchedPage {
        FetchedPage {
            url: "https://example.org/p".into(),
            final_url: "https://example.org/p2".into(),
            status: 200,
            content_type: Some("text/html; charset=windows-1251".into()),
            charset: "windows-1251".into(),
            charset_source: crate::fetch::CharsetSource::Header,
            malformed: 0,
            cut_mid_character: false,
            body: encoding_rs::WINDOWS_1251.encode(body).0.into_owned(),
            text: body.into(),
            validators: Validators {
                etag: etag.map(str::to_string),
                last_modified: Some("Wed, 21 Oct 2026 07:28:00 GMT".into()),
            },
            fetched_at: at("2026-11-29T10:00:00Z"),
            close_delimited: false,
        }
    }

    fn doc(text: &str, stamp_day: Option<i8>) -> Document {
        Document {
            meta: DocumentMeta {
                stamp_unreadable: None,
                extraction: None,
                title: Some("Relations with Belarus".into()),
                stamp: stamp_day.map(|d| Stamp {
                    text: format!("Last updated: {d} Aug. 2024 11:27"),
                    date: jiff::civil::date(2024, 8, d),
                    time: Some(jiff::civil::time(11, 27, 0, 0)),
                    instant: Some(
                        jiff::civil::date(2024, 8, d)
                            .at(9, 27, 0, 0)
                            .to_zoned(jiff::tz::TimeZone::UTC)
                            .unwrap()
                            .timestamp(),
                    ),
                    shown: String::new(),
                    source: crate::stamp::StampSource::Text,
                    zone: "Europe/Brussels".into(),
                    class: crate::stamp::StampClass::Updated,
                    also: Vec::new(),
                }),
                root: ContentRoot {
                    selector: "section.content".into(),
                    fallback: false,
                },
            },
            sections: vec![
                Section {
                    key: SectionKey::lead(),
                    heading: None,
                    level: 0,
                    blocks: vec![Block::new(BlockKind::Paragraph, "NATO and Belarus.")],
                },
                Section {
                    key: SectionKey(vec!["key areas".into()]),
                    heading: Some("Key areas".into()),
                    level: 2,
                    blocks: vec![
                        Block::new(BlockKind::Paragraph, text),
                        Block::new(BlockKind::ListItem, "Беларусь item"),
                    ],
                },
            ],
        }
    }

    fn revision(kind: RevisionKind) -> Revision {
        Revision {
            kind,
            old_stamp: None,
            new_stamp: None,
            summary: ChangeSummary {
                sections_total: 2,
                sections_modified: 1,
                words_added: 3,
                words_removed: 1,
                ..ChangeSummary::default()
            },
            sections: Vec::new(),
            unchanged: vec!["Lead".into()],
            degraded: None,
        }
    }

    fn new_snapshot<'a>(
        page: &'a FetchedPage,
        document: &'a Document,
        captured_at: &str,
        previous: Option<SnapshotId>,
        revision: Option<&'a Revision>,
    ) -> NewSnapshot<'a> {
        NewSnapshot {
            target: "nato-belarus",
            url: "https://example.org/p",
            page,
            document,
            captured_at: at(captured_at),
            started_at: at(captured_at),
            duration_ms: 1234,
            previous,
            revision,
            redline_markdown: revision.map(|_| "# Redline\n"),
            alerts: None,
            technical: false,
            note: None,
            source_fingerprint: None,
            source_mask: None,
            content_hash: None,
            archived: None,
        }
    }

    fn check(
        outcome: CheckOutcome,
        started: &str,
        error: Option<&str>,
        snapshot: Option<SnapshotId>,
    ) -> CheckRecord {
        CheckRecord {
            target: "nato-belarus".into(),
            url: "https://example.org/p".into(),
            started_at: at(started),
            duration_ms: 50,
            outcome,
            final_url: None,
            http_status: if error.is_some() {
                Some(503)
            } else {
                Some(200)
            },
            error: error.map(str::to_string),
            snapshot_id: snapshot,
            note: None,
        }
    }

    /// The names in `dir`, sorted; none when it does not exist (a store
    /// whose files are in its database writes no directory).
    fn listing(dir: &Path) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_lost_index_beside_snapshot_directories_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().join("snapshots");
        let mut store = Store::open(&root).unwrap();
        let p = page("<p>x</p>", None);
        let d = doc("Dialogue since 1992.", Some(28));
        store
            .record_snapshot(new_snapshot(&p, &d, "2026-11-29T10:00:00Z", None, None))
            .unwrap();
        drop(store);
        // The index is truncated (or replaced by an empty one).
        std::fs::write(root.join(INDEX_FILE), b"").unwrap();
        let Err(e) = Store::open(&root) else {
            panic!("a lost index was accepted")
        };
        let msg = e.to_string();
        assert!(
            msg.contains("the index holds no snapshots but 1 snapshot directories exist (first `nato-belarus/2026-11-29T10-00-00Z`)"),
            "{msg}"
        );
        // Nothing was moved or deleted.
        assert!(
            root.join("nato-belarus/2026-11-29T10-00-00Z/document.json.zst")
                .is_file()
        );
    }

    #[test]
    fn sweep_removes_staging_and_sets_aside_unindexed_snapshots() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().join("snapshots");
        let mut store = Store::open(&root).unwrap();
        let p = page("<p>x</p>", None);
        let d = doc("Dialogue since 1992.", Some(28));
        store
            .record_snapshot(new_snapshot(&p, &d, "2026-11-29T10:00:00Z", None, None))
            .unwrap();
        assert_eq!(store.sweep_unfinished().unwrap(), 0);
        // A killed run left a staging dir and a renamed dir whose rows never landed.
        let target = root.join("nato-belarus");
        std::fs::create_dir_all(target.join(".tmp-snapshot-abc123")).unwrap();
        std::fs::write(target.join(".tmp-snapshot-abc123/page.html.gz"), b"x").unwrap();
        std::fs::create_dir_all(target.join("2026-11-29T11-00-00Z")).unwrap();
        std::fs::write(target.join("2026-11-29T11-00-00Z/document.json"), b"{}").unwrap();
        assert_eq!(store.sweep_unfinished().unwrap(), 2);
        assert_eq!(listing(&target), ["2026-11-29T10-00-00Z"]);
        assert!(
            root.join(".orphaned/nato-belarus/2026-11-29T11-00-00Z/document.json")
                .is_file()
        );
        assert_eq!(store.sweep_unfinished().unwrap(), 0);
    }

    /// Temp files in the root, a target directory and a snapshot directory:
    /// the store's own (written under the lock) go at once, others only when
    /// stale (a report written into the store with `--output` takes no lock).
    #[test]
    fn sweep_removes_the_stores_temp_files_and_stale_other_ones() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().join("snapshots");
        let mut store = Store::open(&root).unwrap();
        let p = page("<p>x</p>", None);
        let d = doc("x", None);
        let rec = store
            .record_snapshot(new_snapshot(&p, &d, "2026-11-29T10:00:00Z", None, None))
            .unwrap();
        let target = root.join("nato-belarus");
        let old = std::time::SystemTime::now() - files::STALE_TEMP_AGE * 2;
        let cases: Vec<(PathBuf, Option<std::time::SystemTime>, bool)> = vec![
            (root.join(".tmp-redliner-AbC123"), None, false),
            (target.join(".tmp-redliner-feed01"), None, false),
            (rec.dir.join(".tmp-redliner-doc001"), None, false),
            (root.join(".raw/.tmp-redliner-raw001"), None, false),
            (root.join(".tmpAbC123"), Some(old), false),
            (target.join(".tmpXyZ789"), Some(old), false),
            (rec.dir.join(".tmpQwE456"), Some(old), false),
            // Young and not the store's: a live `--output` write, kept.
            (root.join(".tmpLive01"), None, true),
            (target.join(".tmpLive02"), None, true),
            // Not temp names: never touched, however old.
            (root.join("report.html"), Some(old), true),
            (target.join("feed.atom"), Some(old), true),
        ];
        for (path, mtime, _) in &cases {
            let f = std::fs::File::create(path).unwrap();
            if let Some(t) = mtime {
                f.set_modified(*t).unwrap();
            }
        }
        assert_eq!(store.sweep_unfinished().unwrap(), 7);
        for (path, _, kept) in &cases {
            assert_eq!(path.exists(), *kept, "{}", path.display());
        }
        assert!(rec.dir.join(DOCUMENT_JSON_ZST).is_file());
        assert_eq!(store.sweep_unfinished().unwrap(), 0);
    }

    #[test]
    fn baseline_writes_files_and_rows() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().join("snapshots");
        let mut store = Store::open(&root).unwrap();
        assert_eq!(store.latest_snapshot("nato-belarus").unwrap(), None);

        let p = page("<p>Беларусь</p>", Some("\"v1\""));
        let d = doc("Dialogue since 1992.", Some(28));
        let rec = store
            .record_snapshot(new_snapshot(&p, &d, "2026-11-29T10:00:00.250Z", None, None))
            .unwrap();
        assert_eq!(rec.revision_id, None);
        assert_eq!(
            rec.dir,
            root.join("nato-belarus").join("2026-11-29T10-00-00Z")
        );
        assert_eq!(listing(&rec.dir), [DOCUMENT_JSON_ZST, DOCUMENT_MD]);
        assert_eq!(
            listing(&root.join("nato-belarus")),
            ["2026-11-29T10-00-00Z"]
        );

        let latest = store.latest_snapshot("nato-belarus").unwrap().unwrap();
        assert_eq!(latest.id, rec.snapshot_id);
        assert_eq!(latest.document, d, "document.json round-trips");
        assert_eq!(
            latest.validators,
            Validators {
                etag: Some("\"v1\"".into()),
                last_modified: Some("Wed, 21 Oct 2026 07:28:00 GMT".into())
            }
        );
        let row = &latest.row;
        assert_eq!(row.captured_at, at("2026-11-29T10:00:00.250Z"));
        assert_eq!(row.dir, "nato-belarus/2026-11-29T10-00-00Z");
        assert_eq!(
            (
                row.url.as_str(),
                row.final_url.as_str(),
                row.http_status,
                row.charset.as_str()
            ),
            (
                "https://example.org/p",
                "https://example.org/p2",
                200,
                "windows-1251"
            )
        );
        assert_eq!(row.content_hash, d.fingerprint());
        assert_eq!(row.raw_sha256, hex::encode(Sha256::digest(&p.body)));
        assert_eq!(
            row.stamp_text.as_deref(),
            Some("Last updated: 28 Aug. 2024 11:27")
        );
        assert_eq!(row.stamp_date, Some(jiff::civil::date(2024, 8, 28)));
        assert_eq!(row.stamp_time, Some(jiff::civil::time(11, 27, 0, 0)));
        assert_eq!(row.stamp_instant, Some(at("2024-08-28T09:27:00Z")));
        assert_eq!((row.sections, row.blocks, row.words), (2, 3, 8));
        assert_eq!(
            (row.root_selector.as_str(), row.root_fallback),
            ("section.content", false)
        );

        assert_eq!(
            store.raw_body(row).unwrap(),
            p.body,
            "decompresses to the exact bytes"
        );
        assert_eq!(
            row.raw_path.as_deref(),
            Some(format!(".raw/{}/{}.html.zst", &row.raw_sha256[..2], row.raw_sha256).as_str())
        );
        let md = std::fs::read_to_string(rec.dir.join(DOCUMENT_MD)).unwrap();
        assert!(
            md.starts_with("# Relations with Belarus\n\nLast updated: 28 Aug. 2024 11:27\n"),
            "{md}"
        );

        let checks = store.checks("nato-belarus", 10).unwrap();
        assert_eq!(checks.len(), 1);
        let c = &checks[0];
        assert_eq!(
            (
                c.outcome,
                c.snapshot_id,
                c.revision_id,
                c.duration_ms,
                c.http_status
            ),
            (
                CheckOutcome::Baseline,
                Some(rec.snapshot_id),
                None,
                1234,
                Some(200)
            )
        );
        assert_eq!(c.finished_at, at("2026-11-29T10:00:01.484Z"));
        assert_eq!(store.targets().unwrap(), ["nato-belarus"]);
    }

    #[test]
    fn unchanged_and_failed_checks_touch_no_snapshot() {
        each_store(|root, mut store| {
            let p = page("<p>x</p>", None);
            let d = doc("Text.", Some(28));
            let base = store
                .record_snapshot(new_snapshot(&p, &d, "2026-11-29T10:00:00Z", None, None))
                .unwrap();
            let before = listing(&root.path().join("nato-belarus"));
            let snaps_before = store.snapshots("nato-belarus").unwrap();

            let cases = [
                check(
                    CheckOutcome::Unchanged,
                    "2026-11-30T10:00:00Z",
                    None,
                    Some(base.snapshot_id),
                ),
                check(
                    CheckOutcome::NotModified,
                    "2026-12-01T10:00:00Z",
                    None,
                    Some(base.snapshot_id),
                ),
                check(
                    CheckOutcome::Failed,
                    "2026-12-02T10:00:00Z",
                    Some("fetching `https://example.org/p`: HTTP 503 Service Unavailable"),
                    None,
                ),
            ];
            for c in &cases {
                store.record_check(c).unwrap();
            }
            assert_eq!(listing(&root.path().join("nato-belarus")), before);
            assert_eq!(store.snapshots("nato-belarus").unwrap(), snaps_before);
            assert_eq!(
                store.latest_snapshot("nato-belarus").unwrap().unwrap().id,
                base.snapshot_id
            );
            let outcomes: Vec<(CheckOutcome, Option<String>)> = store
                .checks("nato-belarus", 10)
                .unwrap()
                .into_iter()
                .map(|c| (c.outcome, c.error))
                .collect();
            assert_eq!(
                outcomes,
                [
                    (
                        CheckOutcome::Failed,
                        Some(
                            "fetching `https://example.org/p`: HTTP 503 Service Unavailable".into()
                        )
                    ),
                    (CheckOutcome::NotModified, None),
                    (CheckOutcome::Unchanged, None),
                    (CheckOutcome::Baseline, None),
                ]
            );
            assert_eq!(store.checks("nato-belarus", 2).unwrap().len(), 2);
        });
    }

    #[test]
    fn a_failed_first_check_records_the_target_but_no_snapshot() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        let c = check(
            CheckOutcome::Failed,
            "2026-11-29T10:00:00Z",
            Some("fetching `x`: connection refused"),
            None,
        );
        store.record_check(&c).unwrap();
        assert_eq!(store.latest_snapshot("nato-belarus").unwrap(), None);
        assert_eq!(store.targets().unwrap(), ["nato-belarus"]);
        assert!(!root.path().join("nato-belarus").exists());
    }

    #[test]
    fn changed_records_snapshot_revision_and_check_then_history() {
        each_store(|_root, mut store| {
            let p1 = page("<p>v1</p>", None);
            let d1 = doc("Old text.", Some(28));
            let base = store
                .record_snapshot(new_snapshot(&p1, &d1, "2026-11-29T10:00:00Z", None, None))
                .unwrap();
            store
                .record_check(&check(
                    CheckOutcome::Unchanged,
                    "2026-11-30T10:00:00Z",
                    None,
                    Some(base.snapshot_id),
                ))
                .unwrap();

            let p2 = page("<p>v2</p>", Some("\"v2\""));
            let d2 = doc("New text here.", Some(29));
            let rev = revision(RevisionKind::Revised);
            let changed = store
                .record_snapshot(new_snapshot(
                    &p2,
                    &d2,
                    "2026-12-01T10:00:00Z",
                    Some(base.snapshot_id),
                    Some(&rev),
                ))
                .unwrap();
            let rid = changed.revision_id.unwrap();
            if store.files_in_database() {
                // The body and the document are blobs; no Markdown is kept.
                assert_eq!(listing(&changed.dir), Vec::<String>::new());
                let blobs: i64 = store
                    .conn
                    .query_row("SELECT count(*) FROM blobs", (), |r| r.get(0))
                    .unwrap();
                assert_eq!(blobs, 4);
            } else {
                assert_eq!(
                    listing(&changed.dir),
                    [DOCUMENT_JSON_ZST, DOCUMENT_MD, REDLINE_MD]
                );
                assert_eq!(
                    std::fs::read_to_string(changed.dir.join(REDLINE_MD)).unwrap(),
                    "# Redline\n"
                );
            }
            store
                .record_check(&check(
                    CheckOutcome::Failed,
                    "2026-12-02T10:00:00Z",
                    Some("fetching `https://example.org/p`: HTTP 503 Service Unavailable"),
                    None,
                ))
                .unwrap();

            let latest = store.latest_snapshot("nato-belarus").unwrap().unwrap();
            assert_eq!((latest.id, &latest.document), (changed.snapshot_id, &d2));
            assert_eq!(
                store.revision("nato-belarus", rid).unwrap(),
                Some(rev.clone())
            );
            assert_eq!(store.revision("other", rid).unwrap(), None);
            let revs = store.revisions("nato-belarus").unwrap();
            assert_eq!(revs.len(), 1);
            assert_eq!(
                (
                    revs[0].old_snapshot_id,
                    revs[0].new_snapshot_id,
                    revs[0].kind,
                    revs[0].technical
                ),
                (
                    base.snapshot_id,
                    changed.snapshot_id,
                    RevisionKind::Revised,
                    false
                )
            );
            assert_eq!(revs[0].summary, rev.summary);
            let ids: Vec<SnapshotId> = store
                .snapshots("nato-belarus")
                .unwrap()
                .iter()
                .map(|s| s.id)
                .collect();
            assert_eq!(ids, [changed.snapshot_id, base.snapshot_id]);
            assert_eq!(
                store
                    .snapshot("nato-belarus", base.snapshot_id)
                    .unwrap()
                    .unwrap()
                    .document,
                d1
            );

            let lines: Vec<String> = store
                .history("nato-belarus", 10)
                .unwrap()
                .iter()
                .map(history_line)
                .collect();
            assert_eq!(
                lines,
                [
                    "2026-12-02T10:00:00Z  failed        fetching `https://example.org/p`: HTTP 503 Service Unavailable",
                    "2026-12-01T10:00:00Z  changed       revised  Last updated: 29 Aug. 2024 11:27  1 modified; +3 -1 words",
                    "2026-11-30T10:00:00Z  unchanged     Last updated: 28 Aug. 2024 11:27",
                    "2026-11-29T10:00:00Z  baseline      Last updated: 28 Aug. 2024 11:27  2 sections",
                ]
            );
            let history = store.history("nato-belarus", 2).unwrap();
            assert_eq!(history.len(), 2);
            assert_eq!(
                (history[1].outcome, history[1].kind, history[1].revision_id),
                (
                    CheckOutcome::Changed,
                    Some(RevisionKind::Revised),
                    Some(rid)
                )
            );
            assert_eq!(history[1].summary.as_ref(), Some(&rev.summary));

            // A technical revision is listed but never appears in the history.
            let tech = store
                .record_technical_revision(
                    "nato-belarus",
                    base.snapshot_id,
                    changed.snapshot_id,
                    &revision(RevisionKind::SilentEdit),
                    at("2026-12-03T10:00:00Z"),
                )
                .unwrap();
            let revs = store.revisions("nato-belarus").unwrap();
            assert_eq!((revs[0].id, revs[0].technical), (tech, true));
            assert_eq!(store.history("nato-belarus", 10).unwrap().len(), 4);
        });
    }

    #[test]
    fn same_second_snapshots_get_a_suffix() {
        each_store(|_root, mut store| {
            let p = page("<p>x</p>", None);
            let d = doc("Text.", None);
            let a = store
                .record_snapshot(new_snapshot(&p, &d, "2026-11-29T10:00:00.100Z", None, None))
                .unwrap();
            let rev = revision(RevisionKind::SilentEdit);
            let b = store
                .record_snapshot(new_snapshot(
                    &p,
                    &d,
                    "2026-11-29T10:00:00.900Z",
                    Some(a.snapshot_id),
                    Some(&rev),
                ))
                .unwrap();
            let dirs: Vec<String> = store
                .snapshots("nato-belarus")
                .unwrap()
                .into_iter()
                .map(|s| s.dir)
                .collect();
            assert_eq!(
                dirs,
                [
                    "nato-belarus/2026-11-29T10-00-00Z-2",
                    "nato-belarus/2026-11-29T10-00-00Z"
                ]
            );
            assert!(
                b.dir.ends_with("nato-belarus/2026-11-29T10-00-00Z-2"),
                "{}",
                b.dir.display()
            );
        });
    }

    #[test]
    fn reopening_keeps_everything() {
        let root = tempfile::tempdir().unwrap();
        let p = page("<p>x</p>", Some("\"e\""));
        let d = doc("Text.", Some(28));
        let id = {
            let mut store = Store::open(root.path()).unwrap();
            store
                .record_snapshot(new_snapshot(&p, &d, "2026-11-29T10:00:00Z", None, None))
                .unwrap()
                .snapshot_id
        };
        for _ in 0..2 {
            let store = Store::open(root.path()).unwrap();
            let latest = store.latest_snapshot("nato-belarus").unwrap().unwrap();
            assert_eq!((latest.id, latest.document), (id, d.clone()));
            assert_eq!(store.checks("nato-belarus", 10).unwrap().len(), 1);
        }
    }

    #[test]
    fn refuses_bad_input_without_writing() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        let p = page("<p>x</p>", None);
        let d = doc("Text.", None);
        let rev = revision(RevisionKind::Revised);
        let cases = [
            (
                NewSnapshot {
                    target: "../evil",
                    ..new_snapshot(&p, &d, "2026-11-29T10:00:00Z", None, None)
                },
                "target `../evil`: not a valid target id (use a-z, 0-9, -)",
            ),
            (
                new_snapshot(&p, &d, "2026-11-29T10:00:00Z", None, Some(&rev)),
                "target `nato-belarus`: a revision needs the previous snapshot's id",
            ),
        ];
        for (new, want) in cases {
            let err = store.record_snapshot(new).unwrap_err();
            let index = root.path().join(INDEX_FILE);
            assert_eq!(
                err.to_string(),
                format!("store `{}`: {want}", index.display())
            );
        }
        assert_eq!(
            listing(root.path()),
            [INDEX_FILE, "redliner.sqlite-shm", "redliner.sqlite-wal"]
        );
    }

    /// Counts the COMMITs of `store`'s connection.
    fn count_commits(store: &Store) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
        let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = n.clone();
        store.conn.as_sqlite().unwrap().commit_hook(Some(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            false
        }));
        n
    }

    fn syncs() -> usize {
        files::SYNCS.with(std::cell::Cell::get)
    }

    fn snapshot_for<'a>(target: &'a str, p: &'a FetchedPage, d: &'a Document) -> NewSnapshot<'a> {
        NewSnapshot {
            target,
            ..new_snapshot(p, d, "2026-11-29T10:00:00Z", None, None)
        }
    }

    /// Alone, a baseline fsyncs each of its files and its directory and
    /// commits once; in a batch, 20 baselines make one durability round and
    /// one COMMIT, and another connection sees none of them before it.
    #[test]
    fn a_batch_of_20_baselines_syncs_once_and_commits_once() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        let commits = count_commits(&store);
        let reader = rusqlite::Connection::open(root.path().join(INDEX_FILE)).unwrap();
        let visible = || -> i64 {
            reader
                .query_row("SELECT COUNT(*) FROM snapshots", (), |r| r.get(0))
                .unwrap()
        };
        let p = page("<p>x</p>", None);
        let d = doc("Text.", None);
        let (syncs_before, commits_before) =
            (syncs(), commits.load(std::sync::atomic::Ordering::SeqCst));
        store
            .record_snapshot(snapshot_for("alone", &p, &d))
            .unwrap();
        // The raw body (file, fan-out dir, `.raw/`, the root that got
        // `.raw/`), document.json.zst, document.md and the renamed directory.
        assert_eq!(syncs() - syncs_before, 7);
        assert_eq!(
            commits.load(std::sync::atomic::Ordering::SeqCst) - commits_before,
            1
        );
        assert_eq!(visible(), 1);

        let targets: Vec<String> = (0..20).map(|i| format!("t{i:02}")).collect();
        let (syncs_before, commits_before) =
            (syncs(), commits.load(std::sync::atomic::Ordering::SeqCst));
        store.begin_batch().unwrap();
        for t in &targets {
            store.record_snapshot(snapshot_for(t, &p, &d)).unwrap();
            store
                .record_check(&CheckRecord {
                    target: t.clone(),
                    ..check(CheckOutcome::Unchanged, "2026-11-29T11:00:00Z", None, None)
                })
                .unwrap();
        }
        // The batch reads its own rows.
        assert!(store.latest_snapshot("t19").unwrap().is_some());
        assert_eq!(syncs() - syncs_before, 0);
        assert_eq!(
            commits.load(std::sync::atomic::Ordering::SeqCst) - commits_before,
            0
        );
        assert_eq!(visible(), 1, "nothing is visible before the commit");
        store.commit_batch().unwrap();
        assert_eq!(syncs() - syncs_before, 1, "one durability round (syncfs)");
        assert_eq!(
            commits.load(std::sync::atomic::Ordering::SeqCst) - commits_before,
            1,
            "one COMMIT"
        );
        assert_eq!(visible(), 21);
        // Committing again without a batch is a no-op; after it, each call commits alone.
        store.commit_batch().unwrap();
        store
            .record_check(&check(
                CheckOutcome::Unchanged,
                "2026-11-29T12:00:00Z",
                None,
                None,
            ))
            .unwrap();
        assert_eq!(
            commits.load(std::sync::atomic::Ordering::SeqCst) - commits_before,
            2
        );
    }

    /// A call that fails inside a batch rolls back alone (its savepoint);
    /// the batch's other checks commit.
    #[test]
    fn a_failing_record_in_a_batch_rolls_back_alone() {
        each_store(|root, mut store| {
            let p = page("<p>x</p>", None);
            let d = doc("Text.", None);
            let rev = revision(RevisionKind::Revised);
            store.begin_batch().unwrap();
            assert!(store.begin_batch().is_err(), "one batch at a time");
            store.record_snapshot(snapshot_for("a", &p, &d)).unwrap();
            // Snapshot 999 does not exist: the revision row breaks the foreign key.
            let err = store
                .record_snapshot(NewSnapshot {
                    target: "b",
                    ..new_snapshot(
                        &p,
                        &d,
                        "2026-11-29T10:00:00Z",
                        Some(SnapshotId(999)),
                        Some(&rev),
                    )
                })
                .unwrap_err();
            assert!(matches!(err, StoreError::Database { .. }), "{err}");
            assert_eq!(listing(&root.path().join("b")), Vec::<String>::new());
            store.record_snapshot(snapshot_for("c", &p, &d)).unwrap();
            store.commit_batch().unwrap();
            drop(store);
            let store = root.reopen();
            assert_eq!(store.targets().unwrap(), ["a", "c"]);
            assert_eq!(store.sweep_unfinished().unwrap(), 0);
        });
    }

    /// A run killed inside a batch (the connection closes with the
    /// transaction open) leaves no row; the next sweep sets the files aside.
    #[test]
    fn a_batch_killed_before_its_commit_leaves_no_row_and_is_swept() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        let p = page("<p>x</p>", None);
        let d = doc("Text.", None);
        store.record_snapshot(snapshot_for("kept", &p, &d)).unwrap();
        store.begin_batch().unwrap();
        let lost = store.record_snapshot(snapshot_for("lost", &p, &d)).unwrap();
        store
            .write_target_file("lost", "feed.atom", b"<feed/>")
            .unwrap();
        // As a kill: the batch's bookkeeping dies with the process, the files stay.
        store.batch.get_mut().take();
        drop(store);
        assert!(lost.dir.is_dir());
        let store = Store::open(root.path()).unwrap();
        assert_eq!(store.targets().unwrap(), ["kept"]);
        assert_eq!(store.sweep_unfinished().unwrap(), 1);
        assert!(!lost.dir.exists());
        assert!(
            !root.path().join("lost/feed.atom").exists(),
            "feeds wait for the commit"
        );
    }

    /// Feeds written during a batch appear after its COMMIT, once per path.
    #[test]
    fn feeds_written_in_a_batch_are_written_after_its_commit() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        store.begin_batch().unwrap();
        let path = store.write_target_file("t", "feed.atom", b"old").unwrap();
        store.write_target_file("t", "feed.atom", b"new").unwrap();
        let all = store.write_root_file("feed.atom", b"all").unwrap();
        assert!(!path.exists() && !all.exists());
        store.commit_batch().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read(&all).unwrap(), b"all");
    }

    #[test]
    fn a_failed_transaction_removes_the_new_directory() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        let p = page("<p>x</p>", None);
        let d = doc("Text.", None);
        let rev = revision(RevisionKind::Revised);
        // Snapshot 999 does not exist: the revision row breaks the foreign key.
        let err = store
            .record_snapshot(new_snapshot(
                &p,
                &d,
                "2026-11-29T10:00:00Z",
                Some(SnapshotId(999)),
                Some(&rev),
            ))
            .unwrap_err();
        assert!(matches!(err, StoreError::Database { .. }), "{err}");
        assert_eq!(
            listing(&root.path().join("nato-belarus")),
            Vec::<String>::new()
        );
        assert_eq!(store.snapshots("nato-belarus").unwrap(), Vec::new());
        assert_eq!(store.checks("nato-belarus", 10).unwrap(), Vec::new());
    }

    #[test]
    fn resolves_snapshots_by_id_capture_time_or_stamp_date() {
        each_store(|_root, mut store| {
            let p = page("<p>x</p>", None);
            let (d1, d2, d3) = (
                doc("One.", Some(27)),
                doc("Two.", Some(28)),
                doc("Three.", Some(28)),
            );
            let rev = revision(RevisionKind::Revised);
            // Snapshot a's check started in the second before its capture.
            let mut first = new_snapshot(&p, &d1, "2026-11-29T10:35:45.384Z", None, None);
            first.started_at = at("2026-11-29T10:35:44.900Z");
            let a = store.record_snapshot(first).unwrap().snapshot_id;
            let b = store
                .record_snapshot(new_snapshot(
                    &p,
                    &d2,
                    "2026-11-29T10:36:00.100Z",
                    Some(a),
                    Some(&rev),
                ))
                .unwrap()
                .snapshot_id;
            let c = store
                .record_snapshot(new_snapshot(
                    &p,
                    &d3,
                    "2026-11-30T09:00:00Z",
                    Some(b),
                    Some(&rev),
                ))
                .unwrap()
                .snapshot_id;
            store
                .record_check(&check(
                    CheckOutcome::Unchanged,
                    "2026-12-01T08:00:00.700Z",
                    None,
                    Some(c),
                ))
                .unwrap();
            let (a_id, a_hash) = (a.to_string(), format!("#{a}"));
            let cases: [(&str, Vec<SnapshotId>); 21] = [
                ("latest", vec![c]),
                (&a_id, vec![a]),
                (&a_hash, vec![a]),
                // Whole seconds, as `history` prints them.
                ("2026-11-29T10:35:45Z", vec![a]),
                ("2026-11-29T10:35:44Z", vec![a]),
                ("2026-11-29T11:35:45+01:00", vec![a]),
                ("2026-12-01T08:00:00Z", vec![c]),
                ("2026-11-29T10:35:46Z", vec![]),
                // Fractions: that millisecond only.
                ("2026-11-29T10:35:45.384Z", vec![a]),
                ("2026-11-29T10:35:45.385Z", vec![]),
                // Prefixes of the capture time or the directory name.
                ("2026-11-29", vec![b, a]),
                ("2026-11-29T10:36", vec![b]),
                ("2026-11-29T10-35-45Z", vec![a]),
                ("2026-11-29T10-3", vec![b, a]),
                ("2026-11", vec![c, b, a]),
                // The stamp's date.
                ("2024-08-27", vec![a]),
                ("2024-08-28", vec![c, b]),
                ("2025-01-01", vec![]),
                ("999", vec![]),
                ("#", vec![]),
                ("", vec![]),
            ];
            for (name, want) in cases {
                let got: Vec<SnapshotId> = store
                    .resolve_snapshot("nato-belarus", name)
                    .unwrap()
                    .iter()
                    .map(|s| s.id)
                    .collect();
                assert_eq!(got, want, "{name}");
            }
        });
    }

    #[test]
    fn replace_document_rewrites_files_and_row_only() {
        each_store(|_root, mut store| {
            let p = page("<p>x</p>", None);
            let d = doc("Old extraction.", Some(28));
            let rec = store
                .record_snapshot(new_snapshot(&p, &d, "2026-11-29T10:00:00Z", None, None))
                .unwrap();
            let row = store.snapshots("nato-belarus").unwrap().remove(0);
            let better = doc("Better extraction of the same page.", None);
            store.replace_document(&row, &better).unwrap();
            let got = store
                .snapshot("nato-belarus", rec.snapshot_id)
                .unwrap()
                .unwrap();
            assert_eq!(got.document, better);
            assert_eq!(got.row.content_hash, better.fingerprint());
            assert_eq!(
                (
                    got.row.stamp_text.as_deref(),
                    got.row.stamp_date,
                    got.row.words
                ),
                (None, None, 11)
            );
            assert_eq!(store.raw_body(&got.row).unwrap(), p.body);
            if !store.files_in_database() {
                let md = std::fs::read_to_string(rec.dir.join(DOCUMENT_MD)).unwrap();
                assert!(md.contains("Better extraction"), "{md}");
            }
            assert_eq!(store.checks("nato-belarus", 10).unwrap().len(), 1);
        });
    }

    /// A snapshot stored before the content-addressed layout (`page.html.gz`
    /// and a plain `document.json` in its directory, no `raw_path`) reads as
    /// before, and re-extraction moves its document to the new file.
    #[test]
    fn a_snapshot_of_the_old_layout_still_reads() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        let p = page("<p>Беларусь</p>", None);
        let d = doc("Old layout.", Some(28));
        let rec = store
            .record_snapshot(new_snapshot(&p, &d, "2026-11-29T10:00:00Z", None, None))
            .unwrap();
        let row = store.snapshots("nato-belarus").unwrap().remove(0);
        // Rewrite it as an older redliner wrote it.
        let raw = root.path().join(row.raw_path.as_deref().unwrap());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &p.body).unwrap();
        std::fs::write(rec.dir.join(PAGE_FILE), gz.finish().unwrap()).unwrap();
        std::fs::remove_file(&raw).unwrap();
        let mut json = serde_json::to_vec_pretty(&d).unwrap();
        json.push(b'\n');
        std::fs::write(rec.dir.join(DOCUMENT_JSON), json).unwrap();
        std::fs::remove_file(rec.dir.join(DOCUMENT_JSON_ZST)).unwrap();
        store
            .conn
            .execute("UPDATE snapshots SET raw_path = NULL", ())
            .unwrap();

        let old = store.latest_snapshot("nato-belarus").unwrap().unwrap();
        assert_eq!(old.row.raw_path, None);
        assert_eq!(old.document, d);
        assert_eq!(store.raw_body(&old.row).unwrap(), p.body);
        assert_eq!(
            store.sweep_unfinished().unwrap(),
            0,
            "an old snapshot is no orphan"
        );
        let better = doc("Re-extracted.", Some(28));
        store.replace_document(&old.row, &better).unwrap();
        assert_eq!(
            listing(&rec.dir),
            [DOCUMENT_JSON_ZST, DOCUMENT_MD, PAGE_FILE]
        );
        let new = store.latest_snapshot("nato-belarus").unwrap().unwrap();
        assert_eq!(new.document, better);
        assert_eq!(store.raw_body(&new.row).unwrap(), p.body);
        // A missing old snapshot's document is named as the old layout names it.
        std::fs::remove_dir_all(&rec.dir).unwrap();
        store
            .conn
            .execute("UPDATE snapshots SET raw_path = NULL", ())
            .unwrap();
        let err = store
            .latest_snapshot("nato-belarus")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/document.json`"), "{err}");
    }

    /// The same body stored again (a revert, or another target on the same
    /// URL) is one file; each snapshot's row names it.
    #[test]
    fn identical_bodies_are_stored_once() {
        each_store(|root, mut store| {
            let (a, b) = (page("<p>A</p>", None), page("<p>B</p>", None));
            let d = doc("Text.", None);
            let base = store
                .record_snapshot(new_snapshot(&a, &d, "2026-11-29T10:00:00Z", None, None))
                .unwrap();
            store.begin_batch().unwrap();
            let rev = revision(RevisionKind::Revised);
            let changed = store
                .record_snapshot(new_snapshot(
                    &b,
                    &d,
                    "2026-11-30T10:00:00Z",
                    Some(base.snapshot_id),
                    Some(&rev),
                ))
                .unwrap();
            store
                .record_snapshot(new_snapshot(
                    &a,
                    &d,
                    "2026-12-01T10:00:00Z",
                    Some(changed.snapshot_id),
                    Some(&rev),
                ))
                .unwrap();
            store
                .record_snapshot(snapshot_for("same-url", &a, &d))
                .unwrap();
            store.commit_batch().unwrap();
            if store.files_in_database() {
                let raw: i64 = store
                    .conn
                    .query_row(
                        "SELECT count(*) FROM blobs WHERE sha256 IN (SELECT raw_sha256 FROM snapshots)",
                        (),
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(raw, 2);
            } else {
                let mut files: Vec<String> = Vec::new();
                for fan in std::fs::read_dir(root.path().join(RAW_DIR)).unwrap() {
                    files.extend(listing(&fan.unwrap().path()));
                }
                assert_eq!(files.len(), 2, "{files:?}");
            }
            for target in ["nato-belarus", "same-url"] {
                for row in store.snapshots(target).unwrap() {
                    let body = if row.raw_sha256 == base_sha(&a) {
                        &a.body
                    } else {
                        &b.body
                    };
                    assert_eq!(&store.raw_body(&row).unwrap(), body);
                }
            }
        });
    }

    fn base_sha(p: &FetchedPage) -> String {
        hex::encode(Sha256::digest(&p.body))
    }

    #[test]
    fn target_files_are_plain_names_under_the_target() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::open(root.path()).unwrap();
        let path = store
            .write_target_file("nato-belarus", "feed.atom", b"<feed/>")
            .unwrap();
        assert_eq!(path, root.path().join("nato-belarus").join("feed.atom"));
        assert_eq!(std::fs::read(&path).unwrap(), b"<feed/>");
        for bad in ["../x", ".hidden", "", "a/b"] {
            assert!(
                store.write_target_file("nato-belarus", bad, b"").is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn outcome_names_round_trip() {
        for o in [
            CheckOutcome::Baseline,
            CheckOutcome::Unchanged,
            CheckOutcome::Changed,
            CheckOutcome::NotModified,
            CheckOutcome::Failed,
        ] {
            assert_eq!(o.as_str().parse::<CheckOutcome>().ok(), Some(o));
            assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{o}\""));
        }
        assert_eq!("exploded".parse::<CheckOutcome>().ok(), None);
    }
}
