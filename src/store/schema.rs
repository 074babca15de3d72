//! Opening the SQLite index and bringing its schema up to date.
//!
//! Migrations are numbered SQL files under `src/store/migrations/`, applied in
//! order; `PRAGMA user_version` records how many have run, so reopening a store
//! is a no-op and an older redliner refuses a store made by a newer one.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

/// The migrations, in order; migration `i` (0-based) brings the schema to version `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_init.sql"),
    include_str!("migrations/002_outbox.sql"),
    include_str!("migrations/003_unconfirmed_layout.sql"),
    include_str!("migrations/004_charset_source.sql"),
    include_str!("migrations/005_raw_store.sql"),
    include_str!("migrations/006_source_fingerprint.sql"),
    include_str!("migrations/007_bounded_reads.sql"),
    include_str!("migrations/008_source_mask.sql"),
    include_str!("migrations/009_id_floor.sql"),
    include_str!("migrations/010_browse.sql"),
    include_str!("migrations/011_ledger.sql"),
];

/// The schema version this build writes.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Why the index could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// SQLite failed.
    Sqlite(rusqlite::Error),
    /// The file's schema is newer than this build knows.
    TooNew(i64),
}

impl From<rusqlite::Error> for OpenError {
    fn from(e: rusqlite::Error) -> Self {
        OpenError::Sqlite(e)
    }
}

/// Opens (creating if missing) the index at `path`: WAL journal, a 5 s busy
/// timeout, foreign keys on, every pending migration applied.
///
/// # Errors
/// [`OpenError::Sqlite`] when SQLite fails, [`OpenError::TooNew`] when the file
/// was written by a newer schema.
pub fn open(path: &Path) -> Result<Connection, OpenError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // journal_mode answers with a row, so it can't go through execute().
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
    // Plans that never depend on the values bound: without this, SQLite
    // compiles a cached statement again on each new binding of a parameter it
    // compared with a constant (a partial index's `technical = 0`), which was
    // a twentieth of a run's CPU at 100 changed pages.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Applies the migrations the database has not seen, each in its own transaction.
///
/// Foreign keys are off while they run: a migration that rebuilds a table
/// (SQLite cannot alter a CHECK constraint) drops the old one while other
/// tables still point at it. Each transaction checks the keys before it
/// commits (`PRAGMA foreign_key_check`), so nothing dangling is kept.
///
/// # Errors
/// As [`open`].
pub fn migrate(conn: &mut Connection) -> Result<(), OpenError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > current_version() {
        return Err(OpenError::TooNew(version));
    }
    let pending = usize::try_from(version).unwrap_or(0);
    if pending >= MIGRATIONS.len() {
        return Ok(());
    }
    let foreign_keys: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let result = apply(conn, pending);
    if foreign_keys != 0 {
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
    }
    result
}

/// Runs the migrations from index `from` on, each in its own transaction.
fn apply(conn: &mut Connection, from: usize) -> Result<(), OpenError> {
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        let dangling: i64 =
            tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if dangling > 0 {
            return Err(OpenError::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                Some(format!(
                    "migration {} leaves {dangling} rows with a dangling reference",
                    i + 1
                )),
            )));
        }
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// The PostgreSQL migrations, in order (`src/store/migrations/postgres/`);
/// migration `i` (0-based) brings the schema to version `i + 1`. Version 1
/// is what SQLite's version 11 holds.
pub const POSTGRES_MIGRATIONS: &[&str] = &[
    include_str!("migrations/postgres/001_schema.sql"),
    include_str!("migrations/postgres/002_blobs.sql"),
    include_str!("migrations/postgres/003_workers.sql"),
];

/// The PostgreSQL schema version this build writes.
pub fn current_postgres_version() -> i64 {
    POSTGRES_MIGRATIONS.len() as i64
}

/// Any `pg_advisory_xact_lock` key the store takes, so that two processes
/// migrating one database at once take turns: `redliner` in ASCII.
const MIGRATION_LOCK: i64 = 0x7265_646c_696e_6572;

/// Brings a PostgreSQL database's schema up to date: the migrations it has
/// not seen, in one transaction, under an advisory lock, so several workers
/// starting at once apply each migration once. `redliner_schema` records
/// the versions applied.
///
/// # Errors
/// [`PgMigrateError::Database`] when a statement fails (the database is
/// left as it was), [`PgMigrateError::TooNew`] when a newer redliner
/// migrated it.
pub fn migrate_postgres(conn: &super::db::Connection) -> Result<(), PgMigrateError> {
    let tx = conn.transaction()?;
    tx.query_row(
        "SELECT pg_advisory_xact_lock(?1)::text",
        [MIGRATION_LOCK],
        |_| Ok(()),
    )?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS redliner_schema (
             version     BIGINT PRIMARY KEY,
             applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let version: i64 = tx.query_row(
        "SELECT coalesce(max(version), 0) FROM redliner_schema",
        (),
        |r| r.get(0),
    )?;
    if version > current_postgres_version() {
        return Err(PgMigrateError::TooNew(version));
    }
    let pending = usize::try_from(version).unwrap_or(0);
    for (i, sql) in POSTGRES_MIGRATIONS.iter().enumerate().skip(pending) {
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO redliner_schema (version) VALUES (?1)",
            [i as i64 + 1],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Why a PostgreSQL schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum PgMigrateError {
    /// A statement failed.
    #[error("{0}")]
    Database(#[from] super::db::DbError),
    /// The database's schema is newer than this build knows.
    #[error("schema version {0} is newer than this redliner knows")]
    TooNew(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(conn: &Connection) -> Vec<String> {
        let mut st = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn migrates_once_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        for _ in 0..2 {
            let conn = open(&path).unwrap();
            let version: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(version, current_version());
            assert_eq!(
                tables(&conn),
                [
                    "alerts",
                    "archive_captures",
                    "checks",
                    "deliveries",
                    "id_floor",
                    "ledger",
                    "ledger_start",
                    "revision_sections",
                    "revisions",
                    "search_indexed",
                    "search_text",
                    "search_text_config",
                    "search_text_content",
                    "search_text_data",
                    "search_text_docsize",
                    "search_text_idx",
                    "snapshot_sections",
                    "snapshots",
                    "targets"
                ]
            );
            let fk: i64 = conn
                .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
                .unwrap();
            let mode: String = conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            assert_eq!((fk, mode.as_str()), (1, "wal"));
        }
    }

    #[test]
    fn version_3_keeps_the_checks_their_alerts_point_at_and_takes_the_new_outcomes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        {
            // A store written by version 2, with a check an alert points at.
            let mut conn = Connection::open(&path).unwrap();
            conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
            let tx = conn.transaction().unwrap();
            tx.execute_batch(MIGRATIONS[0]).unwrap();
            tx.execute_batch(MIGRATIONS[1]).unwrap();
            tx.pragma_update(None, "user_version", 2).unwrap();
            tx.execute_batch(
                "INSERT INTO targets (id, url, first_seen) VALUES ('t', 'u', 'x');
                 INSERT INTO checks (id, target_id, started_at, finished_at, url, outcome, duration_ms)
                     VALUES (7, 't', 'a', 'b', 'u', 'failed', 3);
                 INSERT INTO alerts (target_id, check_id, channel_id, kind, idempotency_key,
                                     payload_json, next_attempt_at, created_at)
                     VALUES ('t', 7, 'hook', 'failing', 'k', '{}', 'a', 'a');",
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let conn = open(&path).unwrap();
        let kept: (i64, String, i64) = conn
            .query_row(
                "SELECT c.id, c.outcome, c.duration_ms FROM alerts a JOIN checks c ON c.id = a.check_id",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(kept, (7, "failed".to_string(), 3));
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        for (outcome, ok) in [
            ("unconfirmed", true),
            ("layout-changed", true),
            ("exploded", false),
        ] {
            let inserted = conn.execute(
                "INSERT INTO checks (target_id, started_at, finished_at, url, outcome, duration_ms, note)
                 VALUES ('t', 'a', 'b', 'u', ?1, 0, 'why')",
                [outcome],
            );
            assert_eq!(inserted.is_ok(), ok, "{outcome}");
        }
        // A check still cannot point at a target that does not exist.
        assert!(
            conn.execute(
                "INSERT INTO checks (target_id, started_at, finished_at, url, outcome, duration_ms)
                 VALUES ('nobody', 'a', 'b', 'u', 'failed', 0)",
                [],
            )
            .is_err()
        );
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(open(&path), Err(OpenError::TooNew(99))));
    }

    #[test]
    fn outcome_check_constraint_holds() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("index.sqlite")).unwrap();
        conn.execute(
            "INSERT INTO targets (id, url, first_seen) VALUES ('t', 'u', 'x')",
            [],
        )
        .unwrap();
        let insert = |outcome: &str| {
            conn.execute(
                "INSERT INTO checks (target_id, started_at, finished_at, url, outcome, duration_ms)
                 VALUES ('t', 'a', 'b', 'u', ?1, 0)",
                [outcome],
            )
        };
        assert!(insert("not-modified").is_ok());
        assert!(insert("exploded").is_err());
    }
}
