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

mod files;
pub mod lock;
mod markdown;
mod outbox;
mod recent;
mod schema;
mod settle;
#[cfg(test)]
mod testing;

use std::path::{Path, PathBuf};

use jiff::civil::{Date, Time};
use jiff::{SignedDuration, Timestamp, Unit};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::document::Document;
use crate::fetch::{FetchedPage, Validators};
use crate::revision::{ChangeSummary, Revision, RevisionKind};

use files::Durability;
pub use files::{
    DOCUMENT_JSON, DOCUMENT_JSON_ZST, DOCUMENT_MD, LOCKED_TEMP_PREFIX, PAGE_FILE, RAW_DIR,
    REDLINE_MD, STAGING_PREFIX, STALE_TEMP_AGE, dir_name, new_temp_file,
};
pub use markdown::render as render_markdown;
pub use outbox::{
    AlertKind, AlertPlan, AlertRow, AlertState, ClaimedAlert, DeliveryRow, PlannedRevision,
};
pub use recent::StoredRevision;
pub use settle::CLEAN_FILE;
#[cfg(test)]
pub(crate) use testing::SqlCount;

/// The index file name inside the store root.
pub const INDEX_FILE: &str = "redliner.sqlite";

/// Why the store could not be read or written. Messages start with the file
/// concerned: ``store `snapshots/redliner.sqlite`: ...``.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("store `{path}`: {source}")]
    Sqlite {
        /// The index file.
        path: String,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
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

/// How a check ended. Stored as the kebab-case string.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum CheckOutcome {
    /// The first snapshot of the target was stored.
    Baseline,
    /// Content and stamp equal the latest snapshot; nothing stored but the check.
    Unchanged,
    /// A new snapshot and a revision were stored.
    Changed,
    /// The server answered 304 to the conditional GET.
    NotModified,
    /// Fetching or extracting failed; nothing stored but the check and its error.
    Failed,
    /// The content changed but a second fetch did not give the same content
    /// (a flapping server, a cut body): nothing stored; the next run tries again.
    Unconfirmed,
    /// The page's template changed and its text did not: a technical snapshot
    /// was stored (later checks compare against it), never alerted, never a
    /// content revision.
    LayoutChanged,
}

impl CheckOutcome {
    /// The stored name (`baseline`, `unchanged`, `changed`, `not-modified`,
    /// `failed`, `unconfirmed`, `layout-changed`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A check that stored no new snapshot (unchanged, not modified, failed,
/// unconfirmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRecord {
    /// Target id.
    pub target: String,
    /// The target's URL.
    pub url: String,
    /// When the check began.
    pub started_at: Timestamp,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// How it ended.
    pub outcome: CheckOutcome,
    /// The URL after redirects, when a page came back.
    pub final_url: Option<String>,
    /// The HTTP status, when the server answered.
    pub http_status: Option<u16>,
    /// The error in one line, for failed checks.
    pub error: Option<String>,
    /// The snapshot the check compared against (the latest), if any.
    pub snapshot_id: Option<i64>,
    /// Why, in one line, for outcomes that need it (unconfirmed: what the
    /// second fetch found).
    pub note: Option<String>,
}

/// A new snapshot to record, with the check that made it.
#[derive(Debug, Clone, Copy)]
pub struct NewSnapshot<'a> {
    /// Target id (`[a-z0-9-]+`; used as a directory name).
    pub target: &'a str,
    /// The target's URL.
    pub url: &'a str,
    /// The page as fetched; its body is kept exactly.
    pub page: &'a FetchedPage,
    /// The document extracted from it.
    pub document: &'a Document,
    /// The capture time (names the snapshot directory).
    pub captured_at: Timestamp,
    /// When the check began.
    pub started_at: Timestamp,
    /// How long the check took, in milliseconds.
    pub duration_ms: i64,
    /// The latest snapshot before this one; `None` for a baseline.
    pub previous: Option<i64>,
    /// The revision from `previous` to this snapshot (needs `previous`).
    pub revision: Option<&'a Revision>,
    /// The rendered redline, saved as `redline.md` beside the snapshot.
    pub redline_markdown: Option<&'a str>,
    /// Alerts to queue in the same transaction (the revision's, and a
    /// "recovered" one when due); `None` queues nothing.
    pub alerts: Option<&'a AlertPlan>,
    /// True for a technical snapshot (the page's template changed, its text
    /// did not): the check is `layout-changed` and `revision`, if given, is
    /// recorded as technical (never reported, never a content revision).
    pub technical: bool,
    /// The check's note (for a technical snapshot: the rule to update).
    pub note: Option<&'a str>,
    /// What the page gave the extractor ([`crate::extract::fingerprint`]),
    /// stored so that a later page with the same one is recorded unchanged
    /// without extracting; `None` stores none (never matched).
    pub source_fingerprint: Option<&'a str>,
    /// The page's source mask ([`crate::extract::fingerprint::SourceMask::to_bytes`]),
    /// which spares a later page that fits it the tokenizer pass.
    pub source_mask: Option<&'a [u8]>,
    /// `document`'s fingerprint ([`Document::fingerprint`]) when the caller
    /// has it already; `None`: computed here.
    pub content_hash: Option<&'a str>,
}

/// What [`Store::record_snapshot`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The new snapshot's id.
    pub snapshot_id: i64,
    /// The check row's id.
    pub check_id: i64,
    /// The revision row's id, when a revision was given.
    pub revision_id: Option<i64>,
    /// The snapshot directory (store root joined with the relative dir).
    pub dir: PathBuf,
}

/// One row of the `snapshots` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotRow {
    /// Snapshot id.
    pub id: i64,
    /// Target id.
    pub target: String,
    /// Capture time.
    pub captured_at: Timestamp,
    /// Directory of the files, relative to the store root, `/`-separated.
    pub dir: String,
    /// The URL requested.
    pub url: String,
    /// The URL after redirects.
    pub final_url: String,
    /// HTTP status.
    pub http_status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The charset the body was decoded with.
    pub charset: String,
    /// How the charset was chosen (`header`, `meta`, `bom`, `detected`,
    /// `utf8-validity`, `utf16-pattern`, `override`; see
    /// [`crate::fetch::CharsetSource`]); `None` for snapshots stored before
    /// it was recorded.
    pub charset_source: Option<String>,
    /// The `ETag` the server sent.
    pub etag: Option<String>,
    /// The `Last-Modified` the server sent.
    pub last_modified: Option<String>,
    /// [`Document::fingerprint`] (stamp excluded).
    pub content_hash: String,
    /// SHA-256 (hex) of the raw body.
    pub raw_sha256: String,
    /// The raw body's file, relative to the store root
    /// (`.raw/<sha[0..2]>/<sha>.html.zst`); `None` for snapshots stored
    /// before it, whose body is `page.html.gz` in their directory.
    pub raw_path: Option<String>,
    /// Page title.
    pub title: Option<String>,
    /// The stamp as served.
    pub stamp_text: Option<String>,
    /// The stamp's date.
    pub stamp_date: Option<Date>,
    /// The stamp's Brussels wall-clock time.
    pub stamp_time: Option<Time>,
    /// The stamp's instant.
    pub stamp_instant: Option<Timestamp>,
    /// The content root used.
    pub root_selector: String,
    /// True when the configured root was not found.
    pub root_fallback: bool,
    /// Number of sections.
    pub sections: usize,
    /// Number of blocks.
    pub blocks: usize,
    /// Number of words.
    pub words: usize,
    /// What the page gave the extractor ([`crate::extract::fingerprint`]);
    /// `None` for snapshots stored before it was recorded, or pages the
    /// streaming pass could not follow. Not shown: an internal key.
    #[serde(skip)]
    pub source_fingerprint: Option<String>,
    /// The source mask stored with the fingerprint
    /// ([`crate::extract::fingerprint::SourceMask::to_bytes`]); `None` when
    /// none was. Not shown: an internal key.
    #[serde(skip)]
    pub source_mask: Option<Vec<u8>>,
}

impl SnapshotRow {
    /// The validators for the next conditional GET.
    pub fn validators(&self) -> Validators {
        Validators {
            etag: self.etag.clone(),
            last_modified: self.last_modified.clone(),
        }
    }
}

/// A snapshot with its document loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSnapshot {
    /// Snapshot id (same as `row.id`).
    pub id: i64,
    /// Capture time (same as `row.captured_at`).
    pub captured_at: Timestamp,
    /// The index row.
    pub row: SnapshotRow,
    /// The document from `document.json`.
    pub document: Document,
    /// The validators the server sent with this snapshot.
    pub validators: Validators,
}

/// One row of the `checks` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckRow {
    /// Check id.
    pub id: i64,
    /// Target id.
    pub target: String,
    /// When it began.
    pub started_at: Timestamp,
    /// When it ended.
    pub finished_at: Timestamp,
    /// The URL requested.
    pub url: String,
    /// The URL after redirects.
    pub final_url: Option<String>,
    /// HTTP status, when the server answered.
    pub http_status: Option<u16>,
    /// How it ended.
    pub outcome: CheckOutcome,
    /// The error, for failed checks.
    pub error: Option<String>,
    /// The snapshot made (baseline, changed) or compared against.
    pub snapshot_id: Option<i64>,
    /// The revision made (changed).
    pub revision_id: Option<i64>,
    /// Duration in milliseconds.
    pub duration_ms: i64,
    /// Why, in one line (layout changed: the rule to update; unconfirmed:
    /// what the second fetch found).
    pub note: Option<String>,
}

/// One row of the `revisions` table (the full revision via [`Store::revision`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevisionRow {
    /// Revision id.
    pub id: i64,
    /// Target id.
    pub target: String,
    /// The old snapshot.
    pub old_snapshot_id: i64,
    /// The new snapshot.
    pub new_snapshot_id: i64,
    /// The classification.
    pub kind: RevisionKind,
    /// True for differences that come only from re-extraction; never a page change.
    pub technical: bool,
    /// Counts.
    pub summary: ChangeSummary,
    /// When it was recorded.
    pub created_at: Timestamp,
}

/// One line of `redliner history`: a check with its snapshot and revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// Check id.
    pub check_id: i64,
    /// When the check began.
    pub at: Timestamp,
    /// How it ended.
    pub outcome: CheckOutcome,
    /// HTTP status, when the server answered.
    pub http_status: Option<u16>,
    /// The snapshot made or compared against.
    pub snapshot_id: Option<i64>,
    /// That snapshot's stamp as served.
    pub stamp: Option<String>,
    /// That snapshot's number of sections.
    pub sections: Option<usize>,
    /// The revision made, for changed checks.
    pub revision_id: Option<i64>,
    /// Its kind.
    pub kind: Option<RevisionKind>,
    /// Its counts.
    pub summary: Option<ChangeSummary>,
    /// The error, for failed checks.
    pub error: Option<String>,
    /// Why, for layout-changed and unconfirmed checks.
    pub note: Option<String>,
}

impl HistoryEntry {
    /// One line for the terminal, e.g.
    /// `2026-11-30T10:00:00Z  changed       revised  Last updated: 28 Aug. 2024 11:27  1 added, 2 modified; +34 -12 words`.
    pub fn line(&self) -> String {
        let mut parts = vec![
            self.at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            format!("{:<12}", self.outcome.as_str()),
        ];
        if let Some(kind) = self.kind_label() {
            parts.push(kind.to_string());
        }
        if let Some(stamp) = &self.stamp {
            parts.push(stamp.clone());
        }
        match (&self.summary, self.outcome) {
            (Some(summary), _) => parts.push(summary_text(summary)),
            (None, CheckOutcome::Baseline) => {
                if let Some(n) = self.sections {
                    parts.push(format!("{n} section{}", if n == 1 { "" } else { "s" }));
                }
            }
            _ => {}
        }
        if let Some(error) = &self.error {
            parts.push(error.clone());
        }
        if let Some(note) = &self.note {
            parts.push(note.clone());
        }
        parts.join("  ").trim_end().to_string()
    }

    /// The kind column: the revision's kind, or `layout changed` for a
    /// technical snapshot (whose technical revision, if any, is not a kind a
    /// reader acts on).
    pub fn kind_label(&self) -> Option<&'static str> {
        if self.outcome == CheckOutcome::LayoutChanged {
            return Some("layout changed");
        }
        self.kind.map(RevisionKind::as_str)
    }
}

/// `1 added, 2 modified, 1 moved; +34 -12 words` (zero counts left out).
///
/// The sections are counted as the redline's summary line counts them
/// ([`crate::report::summary::section_parts`] over
/// [`ChangeSummary::section_counts`]): each changed section once, under its
/// own kind, so a renamed section is `1 renamed`, never also `1 modified`.
pub fn summary_text(s: &ChangeSummary) -> String {
    let sections = crate::report::summary::section_parts(&s.section_counts());
    let sections = if sections.is_empty() {
        "no section changed".to_string()
    } else {
        sections
    };
    format!("{sections}; +{} -{} words", s.words_added, s.words_removed)
}

/// The snapshot store: files under a root directory plus its SQLite index.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    index: PathBuf,
    conn: Connection,
    /// The open batch, if any ([`Store::begin_batch`]). In a cell because
    /// feeds are written through `&self` ([`Store::write_target_file`]).
    batch: std::cell::RefCell<Option<Batch>>,
    /// This session removed the clean mark and has not put it back (see
    /// the `settle` module).
    unsettled: std::cell::Cell<bool>,
    /// Targets whose feeds this session's writes made stale.
    feeds_due: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

/// What an open batch has written and not yet committed.
#[derive(Debug, Default)]
struct Batch {
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

impl Drop for Store {
    /// A batch never committed is lost (SQLite rolls its transaction back
    /// when the connection closes); its snapshot directories go with it.
    fn drop(&mut self) {
        if let Some(batch) = self.batch.get_mut().take() {
            let _ = self.conn.execute_batch("ROLLBACK");
            batch.remove_written();
        }
    }
}

impl Batch {
    /// Removes what the batch wrote, its rows being rolled back.
    fn remove_written(&self) {
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
        for file in &self.raw {
            let _ = std::fs::remove_file(file);
        }
    }
}

const SNAPSHOT_COLUMNS: &str = "id, target_id, captured_at, dir, url, final_url, http_status, \
     content_type, charset, etag, last_modified, content_hash, raw_sha256, title, stamp_text, \
     stamp_date, stamp_time, stamp_instant, root_selector, root_fallback, sections, blocks, words, \
     charset_source, raw_path, source_fingerprint, source_mask";

const CHECK_COLUMNS: &str = "id, target_id, started_at, finished_at, url, final_url, http_status, \
     outcome, error, snapshot_id, revision_id, duration_ms, note";

impl Store {
    /// Opens the store at `root`, creating the directory and the index if missing
    /// and applying pending schema migrations.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the directory can't be created,
    /// [`StoreError::Sqlite`] when the index can't be opened or migrated,
    /// [`StoreError::Invalid`] when it was written by a newer redliner.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
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
            schema::OpenError::Sqlite(source) => StoreError::Sqlite {
                path: index.display().to_string(),
                source,
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
        let store = Store {
            root: root.to_path_buf(),
            index,
            conn,
            batch: std::cell::RefCell::new(None),
            unsettled: std::cell::Cell::new(false),
            feeds_due: std::cell::RefCell::new(std::collections::BTreeSet::new()),
        };
        store.refuse_lost_index()?;
        Ok(store)
    }

    /// Snapshot directories (`<root>/<target>/<dir>/` holding
    /// `document.json.zst`, or `document.json` for the old layout)
    /// on disk, as root-relative `target/dir` paths, sorted. Hidden entries
    /// (temp and set-aside directories) are skipped.
    fn snapshot_dirs_on_disk(&self) -> Vec<String> {
        let visible = |e: &std::fs::DirEntry| {
            e.file_type().is_ok_and(|t| t.is_dir())
                && !e.file_name().to_string_lossy().starts_with('.')
        };
        let mut found = Vec::new();
        let Ok(targets) = std::fs::read_dir(&self.root) else {
            return found;
        };
        for t in targets.flatten().filter(visible) {
            let Ok(dirs) = std::fs::read_dir(t.path()) else {
                continue;
            };
            for d in dirs.flatten().filter(visible) {
                let dir = d.path();
                if dir.join(files::DOCUMENT_JSON_ZST).is_file()
                    || dir.join(files::DOCUMENT_JSON).is_file()
                {
                    found.push(format!(
                        "{}/{}",
                        t.file_name().to_string_lossy(),
                        d.file_name().to_string_lossy()
                    ));
                }
            }
        }
        found.sort();
        found
    }

    /// An index with no snapshots beside snapshot directories on disk means the
    /// index was lost or replaced: starting a new baseline would orphan the
    /// history, so refuse.
    fn refuse_lost_index(&self) -> Result<(), StoreError> {
        // EXISTS, not COUNT(*): counting reads the whole table.
        let any: bool = self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM snapshots)", [], |r| r.get(0))
            .map_err(|source| StoreError::Sqlite {
                path: self.index.display().to_string(),
                source,
            })?;
        if any {
            return Ok(());
        }
        let on_disk = self.snapshot_dirs_on_disk();
        match on_disk.first() {
            None => Ok(()),
            Some(first) => Err(StoreError::Invalid {
                path: self.index.display().to_string(),
                message: format!(
                    "the index holds no snapshots but {} snapshot directories exist (first `{first}`): \
                     the index was lost or replaced; restore it from a backup, or move the \
                     target directories away to start afresh",
                    on_disk.len()
                ),
            }),
        }
    }

    /// Cleans up after a run that was killed mid-write. Call with the store
    /// lock held. Removes
    ///
    /// - staging directories (`<target>/.tmp-snapshot-*`) and the temp files
    ///   the store writes under its lock (`.tmp-redliner-*`: snapshot files,
    ///   feeds, rewritten documents, raw bodies) in the root, the target
    ///   directories, the snapshot directories and `.raw/`: with the lock
    ///   held, no live run is writing them;
    /// - other temp files there (`.tmpXXXXXX`: a report written into the
    ///   store with `--output`, which takes no lock, or an older redliner's)
    ///   once older than [`STALE_TEMP_AGE`] (an hour);
    ///
    /// and moves snapshot directories that no index row names (renamed into
    /// place, transaction never committed) to `<root>/.orphaned/<target>/<dir>`,
    /// so nothing is lost and nothing unindexed looks like a snapshot. A raw
    /// body written by a run killed before its commit is left in `.raw/`:
    /// it is whole (renamed into place), content-addressed, and harmless; a
    /// later snapshot of the same body uses it after checking it. SQLite's
    /// own journal is SQLite's to recover. Returns how many entries were cleaned.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] or [`StoreError::Io`].
    pub fn sweep_unfinished(&self) -> Result<usize, StoreError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| StoreError::Io { path, source }
        };
        let mut cleaned = 0;
        let now = std::time::SystemTime::now();
        // The root, the target directories and the snapshot directories;
        // hidden directories (staging, `.orphaned`) are not entered.
        let mut dirs = vec![(self.root.clone(), 0)];
        while let Some((dir, depth)) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                let Ok(kind) = e.file_type() else {
                    continue;
                };
                if !name.starts_with(files::TEMP_PREFIX) {
                    if kind.is_dir() && !name.starts_with('.') && depth < 2 {
                        dirs.push((e.path(), depth + 1));
                    } else if kind.is_dir() && depth == 0 && name == files::RAW_DIR {
                        // Raw bodies are written through temp files in
                        // `.raw/` itself; its fan-out directories hold
                        // finished files only.
                        dirs.push((e.path(), 2));
                    }
                    continue;
                }
                let path = e.path();
                let removed = if kind.is_dir() {
                    if !name.starts_with(files::STAGING_PREFIX) {
                        continue;
                    }
                    std::fs::remove_dir_all(&path)
                } else {
                    let ours = name.starts_with(files::LOCKED_TEMP_PREFIX);
                    let stale = e.metadata().and_then(|m| m.modified()).is_ok_and(|m| {
                        now.duration_since(m).unwrap_or_default() > files::STALE_TEMP_AGE
                    });
                    if !ours && !stale {
                        continue;
                    }
                    std::fs::remove_file(&path)
                };
                match removed {
                    Ok(()) => {
                        tracing::debug!(
                            "removed `{}`, left by a run killed mid-write",
                            path.display()
                        );
                        cleaned += 1;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io(&path)(e)),
                }
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT dir FROM snapshots")
            .map_err(|source| StoreError::Sqlite {
                path: self.index.display().to_string(),
                source,
            })?;
        let indexed: std::collections::HashSet<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect())
            .map_err(|source| StoreError::Sqlite {
                path: self.index.display().to_string(),
                source,
            })?;
        for rel in self.snapshot_dirs_on_disk() {
            if indexed.contains(&rel) {
                continue;
            }
            let from = rel
                .split('/')
                .fold(self.root.clone(), |p, part| p.join(part));
            let to = rel
                .split('/')
                .fold(self.root.join(".orphaned"), |p, part| p.join(part));
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::rename(&from, &to).map_err(io(&from))?;
            tracing::warn!("moved unindexed snapshot directory `{rel}` to `.orphaned/{rel}`");
            cleaned += 1;
        }
        Ok(cleaned)
    }

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
    /// [`StoreError::Sqlite`] when the COMMIT fails. A feed that cannot be
    /// written afterwards is logged, not returned: the next run rewrites
    /// feeds older than the newest revision.
    pub fn commit_batch(&mut self) -> Result<(), StoreError> {
        let Some(batch) = self.batch.get_mut().take() else {
            return Ok(());
        };
        if let Err(e) = self.commit_rows(&batch) {
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
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
    fn commit_rows(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if !batch.dirs.is_empty() || !batch.files.is_empty() {
            let written: Vec<PathBuf> = batch.dirs.iter().chain(&batch.files).cloned().collect();
            files::sync_store(&self.root, &written).map_err(|(path, source)| StoreError::Io {
                path: path.display().to_string(),
                source,
            })?;
        }
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("COMMIT").map_err(self.sql())?;
        }
        Ok(())
    }

    /// True while a batch is open.
    pub fn in_batch(&self) -> bool {
        self.batch.borrow().is_some()
    }

    /// How the next write makes its files durable.
    fn durability(&self) -> Durability {
        if self.in_batch() {
            Durability::Batch
        } else {
            Durability::Each
        }
    }

    /// A write's transaction: inside an open batch, a savepoint in the
    /// batch's transaction (started here at its first write); alone, a
    /// savepoint that is a transaction of its own (its release commits).
    fn write_unit(&mut self) -> Result<rusqlite::Savepoint<'_>, StoreError> {
        let index = self.index.display().to_string();
        let sql = |source| StoreError::Sqlite {
            path: index.clone(),
            source,
        };
        if self.batch.get_mut().is_some() && self.conn.is_autocommit() {
            self.conn.execute_batch("BEGIN IMMEDIATE").map_err(sql)?;
        }
        self.conn.savepoint().map_err(sql)
    }

    /// The store root.
    pub fn root(&self) -> &Path {
        &self.root
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

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.index.display().to_string(),
            source,
        }
    }

    /// Ids of the targets with anything recorded, sorted.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn targets(&self) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT id FROM targets ORDER BY id")
            .map_err(self.sql())?;
        let rows = st.query_map([], |r| r.get(0)).map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// The target's newest snapshot with its document, if any.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`]; [`StoreError::Io`] or [`StoreError::Invalid`] when
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
    /// [`StoreError::Sqlite`].
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

    /// Records `fingerprint` as what the snapshot's page gave the extractor:
    /// a check found a page with this fingerprint to extract to a document
    /// unchanged from the snapshot's, so a later page with the same one is
    /// too (the fingerprint names the extractor version and rules).
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn set_source_fingerprint(
        &self,
        snapshot: i64,
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

    /// One snapshot of the target by id, with its document.
    ///
    /// # Errors
    /// As [`Store::latest_snapshot`].
    pub fn snapshot(&self, target: &str, id: i64) -> Result<Option<StoredSnapshot>, StoreError> {
        let sql =
            format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE target_id = ?1 AND id = ?2");
        let row = self
            .conn
            .cached_row(&sql, params![target, id], snapshot_row)
            .optional()
            .map_err(self.sql())?;
        row.map(|r| self.load(r)).transpose()
    }

    /// The target's snapshots, newest first.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
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
    /// [`StoreError::Sqlite`].
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
    /// [`StoreError::Sqlite`].
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
    /// [`StoreError::Sqlite`].
    pub fn revisions(&self, target: &str) -> Result<Vec<RevisionRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, target_id, old_snapshot_id, new_snapshot_id, kind, technical,
                        summary_json, created_at
                 FROM revisions WHERE target_id = ?1 ORDER BY created_at DESC, id DESC",
            )
            .map_err(self.sql())?;
        let rows = st.query_map([target], revision_row).map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// One revision of the target, in full.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`]; [`StoreError::Invalid`] when its JSON is unreadable.
    pub fn revision(&self, target: &str, id: i64) -> Result<Option<Revision>, StoreError> {
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
    /// [`StoreError::Sqlite`].
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

    /// Records a check that stored no new snapshot (unchanged, not modified,
    /// failed). Adds the target row if needed; touches no snapshot.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad target id; [`StoreError::Sqlite`].
    pub fn record_check(&mut self, c: &CheckRecord) -> Result<i64, StoreError> {
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
    /// previous snapshot; [`StoreError::Io`]; [`StoreError::Sqlite`].
    pub fn record_snapshot(&mut self, new: NewSnapshot<'_>) -> Result<Recorded, StoreError> {
        self.check_target(new.target)?;
        if new.revision.is_some() && new.previous.is_none() {
            return Err(self.invalid(new.target, "a revision needs the previous snapshot's id"));
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
        let name = match name {
            Ok(name) => name,
            Err(e) => {
                if let Some(raw) = &raw_written {
                    let _ = std::fs::remove_file(raw);
                }
                return Err(io(e));
            }
        };
        let dir = target_dir.join(&name);
        let rel = format!("{}/{name}", new.target);
        match self.insert_snapshot_rows(&new, &rel, (&sha, &raw_rel)) {
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

    /// The rows of [`Store::record_snapshot`]; `raw` is the body's SHA-256
    /// (hex) and its file relative to the root.
    fn insert_snapshot_rows(
        &mut self,
        new: &NewSnapshot<'_>,
        rel: &str,
        raw: (&str, &str),
    ) -> Result<(i64, Option<i64>, i64), StoreError> {
        let index = self.index.display().to_string();
        let sql = |source| StoreError::Sqlite {
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
        let tx = self.write_unit()?;
        upsert_target(&tx, new.target, new.url, new.started_at).map_err(sql)?;
        tx.cached_execute(
            &format!(
                "INSERT INTO snapshots ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
                 ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
                SNAPSHOT_COLUMNS.trim_start_matches("id, ")
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
            ],
        )
        .map_err(sql)?;
        let snapshot_id = tx.last_insert_rowid();
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
        if let Some(plan) = new.alerts {
            let location = root.join(rel).display().to_string();
            outbox::enqueue_for_snapshot(
                &tx,
                new.target,
                new.url,
                plan,
                (snapshot_id, revision_id, check_id),
                &location,
            )?;
        }
        tx.commit().map_err(sql)?;
        Ok((snapshot_id, revision_id, check_id))
    }

    /// Records a revision between two stored snapshots that comes only from
    /// re-extraction (`technical`), with no check: it never shows as a page change.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] (also when either snapshot does not exist).
    pub fn record_technical_revision(
        &mut self,
        target: &str,
        old_snapshot_id: i64,
        new_snapshot_id: i64,
        revision: &Revision,
        created_at: Timestamp,
    ) -> Result<i64, StoreError> {
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
        tx.commit().map_err(|source| StoreError::Sqlite {
            path: index,
            source,
        })?;
        Ok(id)
    }

    /// The target's snapshots a name a person types stands for, newest first:
    /// none, one, or several (the caller says the name is ambiguous and lists
    /// them). The first rule that applies decides:
    ///
    /// 1. `latest`: the newest snapshot;
    /// 2. an id, `12` or `#12` (as `history` prints it);
    /// 3. a directory name (`2026-11-29T10-00-00Z-2`);
    /// 4. an RFC 3339 time: with a fraction, the snapshot captured at that
    ///    millisecond; to the second (`2026-11-29T10:35:45Z`, as `history`
    ///    prints it), every snapshot captured in that second and the snapshot
    ///    of every check started in it (the one on that `history` line);
    /// 5. a prefix of a capture time in UTC (`2026-11-29`, `2026-11-29T10`,
    ///    `2026-11-29T10:35`) or of a directory name (`2026-11-29T10-35`);
    /// 6. else the stamp's date (`2024-08-28`).
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn resolve_snapshot(
        &self,
        target: &str,
        name: &str,
    ) -> Result<Vec<SnapshotRow>, StoreError> {
        let name = name.trim();
        let all = self.snapshots(target)?;
        if name.is_empty() {
            return Ok(Vec::new());
        }
        if name.eq_ignore_ascii_case("latest") {
            return Ok(all.into_iter().take(1).collect());
        }
        let id_text = name.strip_prefix('#').unwrap_or(name);
        if !id_text.is_empty() && id_text.bytes().all(|b| b.is_ascii_digit()) {
            let id = id_text.parse::<i64>().ok();
            return Ok(all.into_iter().filter(|s| Some(s.id) == id).collect());
        }
        let dir_of = |s: &SnapshotRow| s.dir.rsplit('/').next().unwrap_or(&s.dir).to_string();
        if let Some(s) = all.iter().find(|s| dir_of(s) == name) {
            return Ok(vec![s.clone()]);
        }
        if let Ok(t) = name.parse::<Timestamp>() {
            return self.captured_in_second(target, all, t);
        }
        let by_capture: Vec<SnapshotRow> = all
            .iter()
            .filter(|s| ts(s.captured_at).starts_with(name) || dir_of(s).starts_with(name))
            .cloned()
            .collect();
        if !by_capture.is_empty() {
            return Ok(by_capture);
        }
        Ok(all
            .into_iter()
            .filter(|s| s.stamp_date.is_some_and(|d| d.to_string() == name))
            .collect())
    }

    /// Rule 4 of [`Store::resolve_snapshot`]: the snapshots named by a full time.
    fn captured_in_second(
        &self,
        target: &str,
        all: Vec<SnapshotRow>,
        t: Timestamp,
    ) -> Result<Vec<SnapshotRow>, StoreError> {
        if t.subsec_nanosecond() != 0 {
            let ms = ts(t);
            return Ok(all
                .into_iter()
                .filter(|s| ts(s.captured_at) == ms)
                .collect());
        }
        let next = t.checked_add(SignedDuration::from_secs(1)).unwrap_or(t);
        let (from, to) = (ts(t), ts(next));
        let mut st = self
            .conn
            .prepare(
                "SELECT DISTINCT snapshot_id FROM checks
                 WHERE target_id = ?1 AND snapshot_id IS NOT NULL
                   AND started_at >= ?2 AND started_at < ?3",
            )
            .map_err(self.sql())?;
        let checked: Vec<i64> = st
            .query_map(params![target, from, to], |r| r.get(0))
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        Ok(all
            .into_iter()
            .filter(|s| {
                let at = ts(s.captured_at);
                (at >= from && at < to) || checked.contains(&s.id)
            })
            .collect())
    }

    /// Replaces a snapshot's document after re-extraction from its raw body:
    /// rewrites `document.json.zst` (removing an old plain `document.json`)
    /// and `document.md` atomically, then updates the
    /// row's content hash, title, stamp, root and counts. The raw body, the
    /// checks and the revisions stay as they are (record differences with
    /// [`Store::record_technical_revision`]).
    ///
    /// # Errors
    /// [`StoreError::Io`]; [`StoreError::Sqlite`].
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
        let stamp = document.meta.stamp.as_ref();
        let words: usize = document.sections.iter().map(|s| s.word_count()).sum();
        let index = self.index.display().to_string();
        let unit = self.write_unit()?;
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
        .and_then(|_| unit.commit())
        .map_err(|source| StoreError::Sqlite {
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
    fn write_file(&self, path: PathBuf, bytes: &[u8]) -> Result<PathBuf, StoreError> {
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

    /// When the target's newest revision (of any kind, technical included)
    /// was recorded; `None` when it has none.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
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

    /// Loads the document (`document.json.zst`, or an old snapshot's plain
    /// `document.json`) for a row.
    /// Fails as [`Store::snapshot`] would when the snapshot's document file
    /// is missing or unreadable, without reading it.
    ///
    /// # Errors
    /// [`StoreError::Io`] naming the file.
    pub fn document_present(&self, row: &SnapshotRow) -> Result<(), StoreError> {
        files::document_file(&self.snapshot_dir(row), row.raw_path.is_none())
            .map(drop)
            .map_err(|(path, source)| StoreError::Io {
                path: path.display().to_string(),
                source,
            })
    }

    fn load(&self, row: SnapshotRow) -> Result<StoredSnapshot, StoreError> {
        let (json, path) = files::read_document(&self.snapshot_dir(&row), row.raw_path.is_none())
            .map_err(|(path, source)| StoreError::Io {
            path: path.display().to_string(),
            source,
        })?;
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

/// `query_row` and `execute` through the connection's statement cache: a
/// check runs the same few statements for every target, so each is prepared
/// once per connection, never once per call.
trait Cached {
    /// [`Connection::query_row`] with a cached statement.
    fn cached_row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;

    /// [`Connection::execute`] with a cached statement.
    fn cached_execute<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
}

impl Cached for Connection {
    fn cached_row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    fn cached_execute<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
}

/// The fields of a check row to insert.
struct CheckInsert<'a> {
    target: &'a str,
    url: &'a str,
    started_at: Timestamp,
    duration_ms: i64,
    outcome: CheckOutcome,
    final_url: Option<&'a str>,
    http_status: Option<u16>,
    error: Option<&'a str>,
    snapshot_id: Option<i64>,
    revision_id: Option<i64>,
    note: Option<&'a str>,
}

fn upsert_target(
    tx: &Connection,
    target: &str,
    url: &str,
    seen: Timestamp,
) -> rusqlite::Result<()> {
    tx.cached_execute(
        "INSERT INTO targets (id, url, first_seen) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET url = excluded.url WHERE targets.url IS NOT excluded.url",
        params![target, url, ts(seen)],
    )?;
    Ok(())
}

fn insert_check(tx: &Connection, c: &CheckInsert<'_>) -> rusqlite::Result<i64> {
    let finished = c
        .started_at
        .checked_add(SignedDuration::from_millis(c.duration_ms))
        .unwrap_or(c.started_at);
    tx.cached_execute(
        "INSERT INTO checks (target_id, started_at, finished_at, url, final_url, http_status,
                             outcome, error, snapshot_id, revision_id, duration_ms, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
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
    )?;
    Ok(tx.last_insert_rowid())
}

fn insert_revision(
    tx: &Connection,
    target: &str,
    old: i64,
    new: i64,
    revision: &Revision,
    technical: bool,
    created_at: Timestamp,
) -> Result<i64, StoreError> {
    let json_err = |e: serde_json::Error| StoreError::Invalid {
        path: "revision".into(),
        message: format!("target `{target}`: revision not serialisable: {e}"),
    };
    let summary = serde_json::to_string(&revision.summary).map_err(json_err)?;
    let full = serde_json::to_string(revision).map_err(json_err)?;
    let path = tx.path().map(str::to_string).unwrap_or_default();
    tx.cached_execute(
        "INSERT INTO revisions (target_id, old_snapshot_id, new_snapshot_id, kind, technical,
                                summary_json, revision_json, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
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
    )
    .map_err(|source| StoreError::Sqlite { path, source })?;
    Ok(tx.last_insert_rowid())
}

/// Stored time text: UTC RFC 3339 with exactly three fractional digits, so text
/// order is time order.
fn ts(t: Timestamp) -> String {
    let t = t.round(Unit::Millisecond).unwrap_or(t);
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

fn limit_param(limit: usize) -> i64 {
    to_i64(limit)
}

fn bad_value(idx: usize, what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        Type::Text,
        format!("not a valid {what}: `{value}`").into(),
    )
}

fn parse_text<T: std::str::FromStr>(
    r: &Row<'_>,
    idx: usize,
    what: &str,
) -> rusqlite::Result<Option<T>> {
    let text: Option<String> = r.get(idx)?;
    text.map(|s| s.parse::<T>().map_err(|_| bad_value(idx, what, &s)))
        .transpose()
}

fn get_timestamp(r: &Row<'_>, idx: usize) -> rusqlite::Result<Timestamp> {
    parse_text(r, idx, "timestamp")?.ok_or(rusqlite::Error::InvalidColumnType(
        idx,
        "time".into(),
        Type::Null,
    ))
}

fn get_outcome(r: &Row<'_>, idx: usize) -> rusqlite::Result<CheckOutcome> {
    let s: String = r.get(idx)?;
    s.parse::<CheckOutcome>()
        .map_err(|_| bad_value(idx, "check outcome", &s))
}

fn get_kind_opt(r: &Row<'_>, idx: usize) -> rusqlite::Result<Option<RevisionKind>> {
    let s: Option<String> = r.get(idx)?;
    s.map(|s| {
        s.parse::<RevisionKind>()
            .map_err(|_| bad_value(idx, "revision kind", &s))
    })
    .transpose()
}

fn parse_json<T: serde::de::DeserializeOwned>(s: &str, idx: usize) -> rusqlite::Result<T> {
    serde_json::from_str(s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

fn snapshot_row(r: &Row<'_>) -> rusqlite::Result<SnapshotRow> {
    snapshot_row_at(r, 0)
}

/// A snapshot row from [`SNAPSHOT_COLUMNS`] starting at column `at`.
fn snapshot_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<SnapshotRow> {
    Ok(SnapshotRow {
        id: r.get(at)?,
        target: r.get(at + 1)?,
        captured_at: get_timestamp(r, at + 2)?,
        dir: r.get(at + 3)?,
        url: r.get(at + 4)?,
        final_url: r.get(at + 5)?,
        http_status: r.get(at + 6)?,
        content_type: r.get(at + 7)?,
        charset: r.get(at + 8)?,
        etag: r.get(at + 9)?,
        last_modified: r.get(at + 10)?,
        content_hash: r.get(at + 11)?,
        raw_sha256: r.get(at + 12)?,
        title: r.get(at + 13)?,
        stamp_text: r.get(at + 14)?,
        stamp_date: parse_text(r, at + 15, "date")?,
        stamp_time: parse_text(r, at + 16, "time")?,
        stamp_instant: parse_text(r, at + 17, "timestamp")?,
        root_selector: r.get(at + 18)?,
        root_fallback: r.get(at + 19)?,
        sections: to_usize(r.get(at + 20)?),
        blocks: to_usize(r.get(at + 21)?),
        words: to_usize(r.get(at + 22)?),
        charset_source: r.get(at + 23)?,
        raw_path: r.get(at + 24)?,
        source_fingerprint: r.get(at + 25)?,
        source_mask: r.get(at + 26)?,
    })
}

fn check_row(r: &Row<'_>) -> rusqlite::Result<CheckRow> {
    Ok(CheckRow {
        id: r.get(0)?,
        target: r.get(1)?,
        started_at: get_timestamp(r, 2)?,
        finished_at: get_timestamp(r, 3)?,
        url: r.get(4)?,
        final_url: r.get(5)?,
        http_status: r.get(6)?,
        outcome: get_outcome(r, 7)?,
        error: r.get(8)?,
        snapshot_id: r.get(9)?,
        revision_id: r.get(10)?,
        duration_ms: r.get(11)?,
        note: r.get(12)?,
    })
}

fn revision_row(r: &Row<'_>) -> rusqlite::Result<RevisionRow> {
    revision_row_at(r, 0)
}

/// A revision row (`id, target_id, old_snapshot_id, new_snapshot_id, kind,
/// technical, summary_json, created_at`) starting at column `at`.
fn revision_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<RevisionRow> {
    let kind: String = r.get(at + 4)?;
    let summary: String = r.get(at + 6)?;
    Ok(RevisionRow {
        id: r.get(at)?,
        target: r.get(at + 1)?,
        old_snapshot_id: r.get(at + 2)?,
        new_snapshot_id: r.get(at + 3)?,
        kind: kind
            .parse::<RevisionKind>()
            .ok()
            .ok_or_else(|| bad_value(at + 4, "revision kind", &kind))?,
        technical: r.get(at + 5)?,
        summary: parse_json(&summary, at + 6)?,
        created_at: get_timestamp(r, at + 7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Block, BlockKind, ContentRoot, DocumentMeta, Section, SectionKey};
    use crate::stamp::Stamp;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
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
        previous: Option<i64>,
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
        }
    }

    fn check(
        outcome: CheckOutcome,
        started: &str,
        error: Option<&str>,
        snapshot: Option<i64>,
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

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
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
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
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
                    Some("fetching `https://example.org/p`: HTTP 503 Service Unavailable".into())
                ),
                (CheckOutcome::NotModified, None),
                (CheckOutcome::Unchanged, None),
                (CheckOutcome::Baseline, None),
            ]
        );
        assert_eq!(store.checks("nato-belarus", 2).unwrap().len(), 2);
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
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
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
        assert_eq!(
            listing(&changed.dir),
            [DOCUMENT_JSON_ZST, DOCUMENT_MD, REDLINE_MD]
        );
        assert_eq!(
            std::fs::read_to_string(changed.dir.join(REDLINE_MD)).unwrap(),
            "# Redline\n"
        );
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
        let ids: Vec<i64> = store
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
            .map(HistoryEntry::line)
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
    }

    #[test]
    fn same_second_snapshots_get_a_suffix() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
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
        assert_eq!(
            b.dir,
            root.path().join("nato-belarus/2026-11-29T10-00-00Z-2")
        );
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
        store.conn.commit_hook(Some(move || {
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
        let reader = Connection::open(root.path().join(INDEX_FILE)).unwrap();
        let visible = || -> i64 {
            reader
                .query_row("SELECT COUNT(*) FROM snapshots", [], |r| r.get(0))
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
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
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
                ..new_snapshot(&p, &d, "2026-11-29T10:00:00Z", Some(999), Some(&rev))
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::Sqlite { .. }), "{err}");
        assert_eq!(listing(&root.path().join("b")), Vec::<String>::new());
        store.record_snapshot(snapshot_for("c", &p, &d)).unwrap();
        store.commit_batch().unwrap();
        drop(store);
        let store = Store::open(root.path()).unwrap();
        assert_eq!(store.targets().unwrap(), ["a", "c"]);
        assert_eq!(store.sweep_unfinished().unwrap(), 0);
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
                Some(999),
                Some(&rev),
            ))
            .unwrap_err();
        assert!(matches!(err, StoreError::Sqlite { .. }), "{err}");
        assert_eq!(
            listing(&root.path().join("nato-belarus")),
            Vec::<String>::new()
        );
        assert_eq!(store.snapshots("nato-belarus").unwrap(), Vec::new());
        assert_eq!(store.checks("nato-belarus", 10).unwrap(), Vec::new());
    }

    #[test]
    fn resolves_snapshots_by_id_capture_time_or_stamp_date() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
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
        let cases: [(&str, Vec<i64>); 21] = [
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
            let got: Vec<i64> = store
                .resolve_snapshot("nato-belarus", name)
                .unwrap()
                .iter()
                .map(|s| s.id)
                .collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn replace_document_rewrites_files_and_row_only() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
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
        let md = std::fs::read_to_string(rec.dir.join(DOCUMENT_MD)).unwrap();
        assert!(md.contains("Better extraction"), "{md}");
        assert_eq!(store.checks("nato-belarus", 10).unwrap().len(), 1);
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
            .execute("UPDATE snapshots SET raw_path = NULL", [])
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
            .execute("UPDATE snapshots SET raw_path = NULL", [])
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
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
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
        let mut files: Vec<String> = Vec::new();
        for fan in std::fs::read_dir(root.path().join(RAW_DIR)).unwrap() {
            files.extend(listing(&fan.unwrap().path()));
        }
        assert_eq!(files.len(), 2, "{files:?}");
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

    #[test]
    fn summary_text_leaves_out_zeros() {
        let cases = [
            (ChangeSummary::default(), "no section changed; +0 -0 words"),
            (
                ChangeSummary {
                    sections_added: 1,
                    sections_moved: 2,
                    words_added: 5,
                    ..ChangeSummary::default()
                },
                "1 added, 2 moved; +5 -0 words",
            ),
            // regression: history said `1 modified, 1 renamed` where the
            // redline said `1 renamed` (a renamed section is not also modified)
            (
                ChangeSummary {
                    sections_total: 5,
                    sections_modified: 1,
                    sections_renamed: 1,
                    ..ChangeSummary::default()
                },
                "1 renamed; +0 -0 words",
            ),
            (
                ChangeSummary {
                    sections_total: 5,
                    sections_removed: 1,
                    sections_modified: 3,
                    sections_renamed: 1,
                    words_added: 4,
                    words_removed: 40,
                    ..ChangeSummary::default()
                },
                "1 removed, 2 modified, 1 renamed; +4 -40 words",
            ),
        ];
        for (s, want) in cases {
            assert_eq!(summary_text(&s), want);
        }
    }
}
