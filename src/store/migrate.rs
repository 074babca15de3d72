//! Moving a whole store between SQLite and PostgreSQL (`redliner migrate`):
//! every row the store keeps, and its files, copied into an empty store of
//! the other kind, then checked.
//!
//! - **Rows** are copied table by table with their ids, in an order that
//!   keeps every reference valid: targets, snapshots, revisions, checks,
//!   alerts, deliveries, the ledger and its start, the archive captures,
//!   the id floors. The columns copied are those both stores have.
//! - **Derived rows are rebuilt, not copied**: the sections each revision
//!   touched (a trigger makes them from the revision), and the search index
//!   (made again from each document). The workers' queue of a PostgreSQL
//!   store is not moved: it is rebuilt by the first worker.
//! - **Files**: each snapshot's document (the exact bytes its
//!   `document_sha256` names) and raw body (the bytes `raw_sha256` names)
//!   become blobs in PostgreSQL, or files in a directory store
//!   (`document.json.zst`, `document.md`, `.raw/…`).
//! - **Checked after**: the row count of every table copied is the same on
//!   both sides, every document and raw body read back from the new store
//!   hashes to its recorded digest, and the new store's `verify` (ledger
//!   chain, snapshot rows, files) passes.
//!
//! All rows go in one transaction of the destination: a copy that fails
//! leaves the destination as it was (a directory store may keep the files
//! written before the failure; it is refused as not empty only once rows
//! are in).

use std::path::PathBuf;

use super::db::{self, Connection, Dialect, Value};
use super::{Store, StoreError, files};

/// The tables copied, in an order that keeps every reference valid.
const TABLES: &[&str] = &[
    "targets",
    "snapshots",
    "revisions",
    "checks",
    "alerts",
    "deliveries",
    "ledger_start",
    "ledger",
    "archive_captures",
    "id_floor",
];

/// Tables a new store fills on creation, emptied before the copy.
const PREFILLED: &[&str] = &["ledger_start", "id_floor"];

/// Tables whose `id` PostgreSQL draws from a sequence, set past the copied
/// ids after the copy.
const IDENTITIES: &[&str] = &[
    "snapshots",
    "revisions",
    "checks",
    "alerts",
    "deliveries",
    "snapshot_sections",
];

/// What a copy did, table by table.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MigrateReport {
    /// Per table: its name, the rows in the source, the rows in the
    /// destination after the copy.
    pub tables: Vec<(String, u64, u64)>,
    /// Documents copied (files or blobs).
    pub documents: u64,
    /// Raw bodies copied (one per snapshot; identical bodies share a file
    /// or blob).
    pub raw_bodies: u64,
    /// Bytes of documents and raw bodies read, before compression.
    pub bytes: u64,
    /// Snapshots indexed for search in the destination.
    pub indexed: u64,
    /// Ledger entries the destination's `verify` checked (all held).
    pub ledger_entries: u64,
}

fn database(store: &Store) -> impl Fn(db::DbError) -> StoreError + '_ {
    move |source| StoreError::Database {
        path: store.location().display().to_string(),
        source,
    }
}

fn invalid(store: &Store, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        path: store.location().display().to_string(),
        message: message.into(),
    }
}

/// The columns of `table` in `conn`, in their order.
fn columns(conn: &Connection, table: &str) -> db::Result<Vec<String>> {
    match conn.dialect() {
        Dialect::Sqlite => conn.query_vec(
            "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
            [table],
            |r| r.get(0),
        ),
        Dialect::Postgres => conn.query_vec(
            "SELECT column_name::text FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name = ?1
              ORDER BY ordinal_position",
            [table],
            |r| r.get(0),
        ),
    }
}

fn count(conn: &Connection, table: &str) -> db::Result<u64> {
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), (), |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| u64::try_from(n).unwrap_or(0))
}

/// Copies every row and file of `from` into `to`, which must be empty (no
/// target, snapshot or check), then checks the copy (see the module docs).
/// `progress` is told what is being done, a line at a time.
///
/// # Errors
/// [`StoreError::Invalid`] when `to` is not empty, is the same kind of store
/// as `from`, or the check after the copy finds a difference (named);
/// [`StoreError::Database`] and [`StoreError::Io`] from either store.
pub fn copy_store(
    from: &Store,
    to: &mut Store,
    progress: &mut dyn FnMut(&str),
) -> Result<MigrateReport, StoreError> {
    if from.files_in_database() == to.files_in_database() {
        return Err(invalid(
            to,
            "both stores are of one kind: migrate copies between a directory (SQLite) and PostgreSQL",
        ));
    }
    for table in ["targets", "snapshots", "checks"] {
        if count(&to.conn, table).map_err(database(to))? > 0 {
            return Err(invalid(
                to,
                format!("not empty (its `{table}` has rows): migrate copies into a new store only"),
            ));
        }
    }
    let mut report = MigrateReport::default();
    // The source's snapshots, for their files.
    let snapshots: Vec<super::SnapshotRow> = {
        let sql = format!(
            "SELECT {} FROM snapshots ORDER BY id",
            super::rows::SNAPSHOT_COLUMNS
        );
        let mut st = from.conn.prepare(&sql).map_err(database(from))?;
        st.query_map((), super::rows::snapshot_row)
            .and_then(Iterator::collect)
            .map_err(database(from))?
    };
    {
        let to_root = to.root().to_path_buf();
        let to_in_database = to.files_in_database();
        let tx = to.conn.transaction().map_err(database(to))?;
        for table in PREFILLED {
            tx.execute(&format!("DELETE FROM {table}"), ())
                .map_err(database(to))?;
        }
        for table in TABLES {
            progress(&format!("copying {table}"));
            let source_columns = columns(&from.conn, table).map_err(database(from))?;
            let dest_columns = columns(&tx, table).map_err(database(to))?;
            let shared: Vec<&String> = dest_columns
                .iter()
                .filter(|c| source_columns.contains(c))
                .collect();
            let list = shared
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let placeholders = (1..=shared.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let raw_path_at = shared.iter().position(|c| c.as_str() == "raw_path");
            let insert = format!("INSERT INTO {table} ({list}) VALUES ({placeholders})");
            let mut st = tx.prepare(&insert).map_err(database(to))?;
            let mut failed: Option<StoreError> = None;
            from.conn
                .query_while(
                    &format!("SELECT {list} FROM {table} ORDER BY 1"),
                    (),
                    |r: &db::Row<'_>| {
                        let mut values: Vec<Value> = (0..shared.len())
                            .map(|i| r.get::<_, Value>(i))
                            .collect::<db::Result<_>>()?;
                        // A directory store finds raw bodies by `raw_path`
                        // (a snapshot from before it has its body beside
                        // its document); the copy writes them all under
                        // `.raw/`.
                        if table == &"snapshots"
                            && !to_in_database
                            && let Some(i) = raw_path_at
                            && let Some(Value::Text(sha)) = shared
                                .iter()
                                .position(|c| c.as_str() == "raw_sha256")
                                .map(|j| values[j].clone())
                        {
                            values[i] = Value::Text(files::raw_path(&sha));
                        }
                        let params: Vec<&dyn db::ToSql> =
                            values.iter().map(|v| v as &dyn db::ToSql).collect();
                        if let Err(e) = st.execute(params.as_slice()) {
                            failed = Some(database(to)(e));
                            return Ok(false);
                        }
                        Ok(true)
                    },
                )
                .map_err(database(from))?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
        // The files.
        progress(&format!(
            "copying the files of {} snapshots",
            snapshots.len()
        ));
        let mut written = Vec::new();
        for row in &snapshots {
            let (document, _) = from.document_bytes(row)?;
            let raw = from.raw_body(row)?;
            report.bytes += (document.len() + raw.len()) as u64;
            if to_in_database {
                let sha = super::ledger::sha256_hex(&document);
                super::blobs::put(&tx, &sha, &document).map_err(database(to))?;
                super::blobs::put(&tx, &row.raw_sha256, &raw).map_err(database(to))?;
            } else {
                written.extend(write_files(&to_root, row, &document, &raw)?);
            }
            report.documents += 1;
            report.raw_bodies += 1;
        }
        if tx.dialect() == Dialect::Postgres {
            for table in IDENTITIES {
                tx.query_row(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    ),
                    (),
                    |_| Ok(()),
                )
                .map_err(database(to))?;
            }
        }
        if !to_in_database {
            files::sync_store(&to_root, &written).map_err(|(path, source)| StoreError::Io {
                path: path.display().to_string(),
                source,
            })?;
        }
        tx.commit().map_err(database(to))?;
    }
    progress("indexing for search");
    loop {
        let n = to.index_for_search(500)?;
        report.indexed += n as u64;
        if n == 0 {
            break;
        }
    }
    // The check: counts, digests, the ledger.
    progress("checking the copy");
    for table in TABLES {
        let (a, b) = (
            count(&from.conn, table).map_err(database(from))?,
            count(&to.conn, table).map_err(database(to))?,
        );
        if a != b {
            return Err(invalid(
                to,
                format!("after the copy `{table}` has {b} rows where the source has {a}"),
            ));
        }
        report.tables.push(((*table).to_string(), a, b));
    }
    for row in &snapshots {
        let copied = to
            .snapshot_row(&row.target, row.id)?
            .ok_or_else(|| invalid(to, format!("snapshot {} not copied", row.id)))?;
        let (document, _) = to.document_bytes(&copied)?;
        let raw = to.raw_body(&copied)?;
        let want: String = from
            .conn
            .query_row(
                "SELECT document_sha256 FROM snapshots WHERE id = ?1",
                [row.id],
                |r| r.get::<_, Option<String>>(0),
            )
            .map_err(database(from))?
            .unwrap_or_else(|| super::ledger::sha256_hex(&document));
        if super::ledger::sha256_hex(&document) != want
            || super::ledger::sha256_hex(&raw) != row.raw_sha256
        {
            return Err(invalid(
                to,
                format!(
                    "snapshot {}: a file read back differs from its digest",
                    row.id
                ),
            ));
        }
    }
    let verification = to.verify(None, &mut || {})?;
    if !verification.holds() {
        return Err(invalid(
            to,
            format!(
                "the copy does not verify: {}",
                verification
                    .breaks
                    .iter()
                    .map(|b| b.what.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ));
    }
    report.ledger_entries = verification.entries as u64;
    Ok(report)
}

/// Writes one snapshot's files into the directory store at `root`: the
/// document and its Markdown in the snapshot's directory, the raw body
/// under `.raw/`. Returns the paths written.
fn write_files(
    root: &std::path::Path,
    row: &super::SnapshotRow,
    document: &[u8],
    raw: &[u8],
) -> Result<Vec<PathBuf>, StoreError> {
    let io = |(path, source): (PathBuf, std::io::Error)| StoreError::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = row
        .dir
        .split('/')
        .fold(root.to_path_buf(), |p, part| p.join(part));
    std::fs::create_dir_all(&dir).map_err(|e| io((dir.clone(), e)))?;
    let parsed: crate::document::Document =
        serde_json::from_slice(document).map_err(|e| StoreError::Invalid {
            path: dir.display().to_string(),
            message: format!("snapshot {}: its document does not parse: {e}", row.id),
        })?;
    let json =
        files::compress(document).map_err(|e| io((dir.join(files::DOCUMENT_JSON_ZST), e)))?;
    let mut written = Vec::new();
    for (name, bytes) in [
        (files::DOCUMENT_JSON_ZST, json),
        (
            files::DOCUMENT_MD,
            super::markdown::render(&parsed, &row.target).into_bytes(),
        ),
    ] {
        let path = dir.join(name);
        files::write_atomic(&path, &bytes).map_err(io)?;
        written.push(path);
    }
    let (_, path) =
        files::write_raw(root, &row.raw_sha256, raw, files::Durability::Batch).map_err(io)?;
    written.extend(path);
    Ok(written)
}
