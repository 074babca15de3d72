//! The SQL interface on both databases: SQLite always; PostgreSQL too when
//! `REDLINER_TEST_POSTGRES` names a server (see [`TestDb`]).

use super::postgres::{PgConnection, PgTarget, translate};
use super::*;
use crate::ids::SnapshotId;

/// A database of its own for one test, made in the PostgreSQL server that
/// `REDLINER_TEST_POSTGRES` names (`postgres://user@127.0.0.1:port/db`, a
/// role that may create databases) and dropped when the test ends.
/// Unset, PostgreSQL tests are skipped with a notice; under CI (`CI` set)
/// they fail instead, so CI never passes them by skipping.
pub(crate) struct TestDb {
    pub(crate) target: PgTarget,
    admin: PgTarget,
    name: String,
}

impl TestDb {
    pub(crate) fn new() -> Option<TestDb> {
        let Ok(url) = std::env::var("REDLINER_TEST_POSTGRES") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "REDLINER_TEST_POSTGRES is not set: CI runs the PostgreSQL tests (.ci/postgres)"
            );
            eprintln!("REDLINER_TEST_POSTGRES not set: PostgreSQL part of this test skipped");
            return None;
        };
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("redliner_test_{}_{n}", std::process::id());
        let admin = PgTarget {
            url: url.clone(),
            password: None,
        };
        let conn = PgConnection::connect(&admin).expect("REDLINER_TEST_POSTGRES answers");
        conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .unwrap();
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let mut u = url::Url::parse(&url).unwrap();
        u.set_path(&format!("/{name}"));
        Some(TestDb {
            target: PgTarget {
                url: u.to_string(),
                password: None,
            },
            admin,
            name,
        })
    }

    pub(crate) fn connection(&self) -> Connection {
        Connection::postgres(PgConnection::connect(&self.target).unwrap())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        super::postgres::close_pool(&self.target);
        if let Ok(conn) = PgConnection::connect(&self.admin) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Runs `f` on a SQLite connection, then on a PostgreSQL one when there is
/// a server.
fn on_both(f: impl Fn(&Connection)) {
    let dir = tempfile::tempdir().unwrap();
    let lite = Connection::sqlite(rusqlite::Connection::open(dir.path().join("t.sqlite")).unwrap());
    f(&lite);
    if let Some(db) = TestDb::new() {
        f(&db.connection());
    }
}

#[test]
fn the_store_sql_is_translated_for_postgres() {
    assert_eq!(
        translate("SELECT a FROM t WHERE b = ?1 AND c = ?2 AND d = ?1"),
        "SELECT a FROM t WHERE b = $1 AND c = $2 AND d = $1"
    );
    assert_eq!(translate("VALUES (?, ?, '?')"), "VALUES ($1, $2, '?')");
    assert_eq!(
        translate("INSERT OR IGNORE INTO t (a) VALUES (?1)"),
        "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING"
    );
    assert_eq!(
        translate("INSERT OR IGNORE INTO t (a) VALUES (?1) RETURNING id"),
        "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id"
    );
    assert_eq!(
        translate("WHERE t.url IS NOT excluded.url AND a IS ?2 AND b IS NOT NULL AND c IS NULL"),
        "WHERE t.url IS DISTINCT FROM excluded.url AND a IS NOT DISTINCT FROM $2 \
         AND b IS NOT NULL AND c IS NULL"
    );
    assert_eq!(
        translate("SELECT ifnull(a, 0), this_is FROM t"),
        "SELECT coalesce(a, 0), this_is FROM t"
    );
    assert_eq!(
        translate("SELECT \"IS NOT\" FROM t"),
        "SELECT \"IS NOT\" FROM t"
    );
}

#[test]
fn values_of_every_kind_round_trip_on_both_databases() {
    on_both(|c| {
        let blob = match c.dialect() {
            Dialect::Sqlite => "BLOB",
            Dialect::Postgres => "BYTEA",
        };
        c.execute_batch(&format!(
            "CREATE TABLE v (id BIGINT PRIMARY KEY, i BIGINT, small INTEGER, f DOUBLE PRECISION,
                             t TEXT, b {blob}, flag BIGINT)"
        ))
        .unwrap();
        let text = "Relations with Belarus — «quoted» ✓";
        let n = c
            .execute(
                "INSERT INTO v (id, i, small, f, t, b, flag) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    SnapshotId(7),
                    i64::MAX,
                    42_u16,
                    0.5_f64,
                    text,
                    vec![0_u8, 159, 255],
                    true
                ],
            )
            .unwrap();
        assert_eq!(n, 1);
        c.execute(
            "INSERT INTO v (id, i, small, f, t, b, flag) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                8_i64,
                None::<i64>,
                None::<u16>,
                None::<f64>,
                None::<&str>,
                None::<Vec<u8>>,
                false
            ],
        )
        .unwrap();
        let rows = c
            .query_vec(
                "SELECT id, i, small, f, t, b, flag FROM v ORDER BY id",
                (),
                |r| {
                    Ok((
                        r.get::<_, SnapshotId>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, Option<u16>>(2)?,
                        r.get::<_, Option<f64>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<Vec<u8>>>(5)?,
                        r.get::<_, bool>(6)?,
                    ))
                },
            )
            .unwrap();
        assert_eq!(
            rows,
            [
                (
                    SnapshotId(7),
                    Some(i64::MAX),
                    Some(42),
                    Some(0.5),
                    Some(text.to_string()),
                    Some(vec![0, 159, 255]),
                    true
                ),
                (SnapshotId(8), None, None, None, None, None, false),
            ],
            "{:?}",
            c.dialect()
        );
        // A value of the wrong kind is a conversion error naming the column.
        let err = c
            .query_row("SELECT t FROM v WHERE id = 7", (), |r| r.get::<_, i64>(0))
            .unwrap_err();
        assert!(err.is_conversion(), "{err}");
        assert!(
            err.to_string()
                .starts_with("column 0: text where an integer"),
            "{err}"
        );
        // No row: NoRows, and `optional` makes it None.
        let none = c
            .query_row("SELECT id FROM v WHERE id = 99", (), |r| r.get::<_, i64>(0))
            .optional()
            .unwrap();
        assert_eq!(none, None);
        // A count is an integer on both.
        let count: i64 = c
            .query_row("SELECT COUNT(*) FROM v", (), |r| r.get(0))
            .unwrap();
        assert_eq!(count, 2);
    });
}

#[test]
fn the_shared_dialect_means_the_same_on_both_databases() {
    on_both(|c| {
        c.execute_batch(
            "CREATE TABLE k (id BIGINT PRIMARY KEY, name TEXT UNIQUE, note TEXT);
             INSERT INTO k (id, name, note) VALUES (1, 'a', NULL), (2, 'b', 'x')",
        )
        .unwrap();
        // INSERT OR IGNORE skips a duplicate, RETURNING gives the new id.
        let n = c.execute(
            "INSERT OR IGNORE INTO k (id, name) VALUES (?1, ?2)",
            params![3_i64, "a"],
        );
        assert_eq!(n.unwrap(), 0);
        let id: i64 = c
            .query_row(
                "INSERT INTO k (id, name) VALUES (?1, ?2) RETURNING id",
                params![4_i64, "d"],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(id, 4);
        // IS / IS NOT compare NULLs as values.
        let same: Vec<i64> = c
            .query_vec(
                "SELECT id FROM k WHERE note IS ?1 ORDER BY id",
                params![None::<&str>],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(same, [1, 4]);
        let differ: Vec<i64> = c
            .query_vec(
                "SELECT id FROM k WHERE note IS NOT ?1 ORDER BY id",
                params!["x"],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(differ, [1, 4]);
        // Upsert with `excluded`.
        c.execute(
            "INSERT INTO k (id, name, note) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET note = excluded.note WHERE k.note IS NOT excluded.note",
            params![2_i64, "b", "y"],
        )
        .unwrap();
        let note: String = c
            .query_row("SELECT note FROM k WHERE id = 2", (), |r| r.get(0))
            .unwrap();
        assert_eq!(note, "y");
        // Text orders byte by byte.
        c.execute_batch("CREATE TABLE o (s TEXT COLLATE \"C\")")
            .ok();
        if c.dialect() == Dialect::Sqlite {
            c.execute_batch("DROP TABLE IF EXISTS o; CREATE TABLE o (s TEXT)")
                .unwrap();
        }
        for s in ["nato_b", "nato-b", "Nato", "nato.b"] {
            c.execute("INSERT INTO o (s) VALUES (?1)", [s]).unwrap();
        }
        let order: Vec<String> = c
            .query_vec("SELECT s FROM o ORDER BY s", (), |r| r.get(0))
            .unwrap();
        assert_eq!(
            order,
            ["Nato", "nato-b", "nato.b", "nato_b"],
            "{:?}",
            c.dialect()
        );
    });
}

#[test]
fn transactions_and_savepoints_roll_back_alone_on_both_databases() {
    on_both(|c| {
        c.execute_batch("CREATE TABLE s (id BIGINT PRIMARY KEY)")
            .unwrap();
        // A savepoint outside a transaction is one of its own.
        {
            let sp = c.savepoint().unwrap();
            sp.execute("INSERT INTO s (id) VALUES (1)", ()).unwrap();
            sp.commit().unwrap();
        }
        assert!(c.is_autocommit());
        // Inside a transaction, a failing part rolls back alone.
        c.begin_immediate().unwrap();
        {
            let sp = c.savepoint().unwrap();
            sp.execute("INSERT INTO s (id) VALUES (2)", ()).unwrap();
            sp.commit().unwrap();
        }
        {
            let sp = c.savepoint().unwrap();
            sp.execute("INSERT INTO s (id) VALUES (3)", ()).unwrap();
            // A duplicate key fails; on PostgreSQL this aborts the
            // transaction until the savepoint is rolled back.
            assert!(sp.execute("INSERT INTO s (id) VALUES (1)", ()).is_err());
            drop(sp);
        }
        c.execute("INSERT INTO s (id) VALUES (4)", ()).unwrap();
        c.commit().unwrap();
        assert!(c.is_autocommit());
        // A transaction dropped uncommitted leaves nothing.
        {
            let tx = c.transaction().unwrap();
            tx.execute("INSERT INTO s (id) VALUES (5)", ()).unwrap();
        }
        assert!(c.is_autocommit());
        let ids: Vec<i64> = c
            .query_vec("SELECT id FROM s ORDER BY id", (), |r| r.get(0))
            .unwrap();
        assert_eq!(ids, [1, 2, 4], "{:?}", c.dialect());
        // query_while stops where it is told.
        let mut seen = Vec::new();
        c.query_while("SELECT id FROM s ORDER BY id", (), |r| {
            seen.push(r.get::<_, i64>(0)?);
            Ok(seen.len() < 2)
        })
        .unwrap();
        assert_eq!(seen, [1, 2]);
    });
}

#[test]
fn postgres_schema_migrates_once_even_from_several_processes_at_once() {
    let Some(db) = TestDb::new() else { return };
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let c = db.connection();
                crate::store::schema::migrate_postgres(&c).unwrap();
            });
        }
    });
    let c = db.connection();
    crate::store::schema::migrate_postgres(&c).unwrap();
    let versions: Vec<i64> = c
        .query_vec(
            "SELECT version FROM redliner_schema ORDER BY version",
            (),
            |r| r.get(0),
        )
        .unwrap();
    let all: Vec<i64> = (1..=crate::store::schema::current_postgres_version()).collect();
    assert_eq!(versions, all);
    let tables: Vec<String> = c
        .query_vec(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        tables,
        [
            "alerts",
            "archive_captures",
            "blobs",
            "checks",
            "deliveries",
            "hosts",
            "id_floor",
            "ledger",
            "ledger_start",
            "redliner_schema",
            "revision_sections",
            "revisions",
            "search_indexed",
            "search_text",
            "snapshot_sections",
            "snapshots",
            "targets",
            "work",
            "workers"
        ]
    );
    // The ledger refuses edits, as SQLite's does.
    c.execute_batch(
        "INSERT INTO ledger VALUES (1, 'stored', 1, 't', 'c', 'live', 'r', 'd', 'n', 'p', 'h')",
    )
    .unwrap();
    let err = c.execute("UPDATE ledger SET hash = 'x'", ()).unwrap_err();
    assert!(
        err.to_string().contains("the ledger is append-only"),
        "{err}"
    );
    let err = c.execute("DELETE FROM ledger", ()).unwrap_err();
    assert!(
        err.to_string().contains("the ledger is append-only"),
        "{err}"
    );
    // A newer schema is refused.
    c.execute(
        "INSERT INTO redliner_schema (version) VALUES (?1)",
        [99_i64],
    )
    .unwrap();
    let err = crate::store::schema::migrate_postgres(&c).unwrap_err();
    assert!(
        matches!(err, crate::store::schema::PgMigrateError::TooNew(99)),
        "{err}"
    );
}

#[test]
fn a_server_that_is_not_there_is_a_clear_error() {
    // Through the store, as every command opens it: the URL named, its
    // password never, whether before the `@` or in the query.
    for url in [
        "postgres://redliner:secret@127.0.0.1:1/none",
        "postgres://redliner@127.0.0.1:1/none?password=secret&application_name=x",
    ] {
        let err = crate::store::Store::open(std::path::Path::new(url)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("127.0.0.1:1/none"), "{text}");
        assert!(text.contains("***"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("Connection refused"), "{text}");
    }
    // A URL naming no database, and a URL of another kind, are refused
    // before any connection (never taken for a directory).
    let err = crate::store::Store::open(std::path::Path::new("postgres://redliner@127.0.0.1:1"))
        .unwrap_err();
    assert!(err.to_string().contains("names no database"), "{err}");
    for other in ["pg://x/y", "mysql://h/db", "https://example.org/store"] {
        let err = crate::store::Store::open(std::path::Path::new(other)).unwrap_err();
        assert!(err.to_string().contains("not a PostgreSQL one"), "{err}");
        assert!(!std::path::Path::new(other).exists());
    }
    assert_eq!(
        super::postgres::store_kind(" POSTGRES://u@h/db"),
        super::postgres::StoreKind::Postgres
    );
}

#[test]
fn a_parameter_only_tested_for_null_takes_its_values_type() {
    on_both(|c| {
        c.execute_batch("CREATE TABLE n (id BIGINT PRIMARY KEY, t TEXT)")
            .unwrap();
        c.execute("INSERT INTO n (id, t) VALUES (1, 'a'), (2, NULL)", ())
            .unwrap();
        // The server cannot tell the type at all (42P18), or is told two
        // things (42P08): either way the value's type is taken.
        for sql in [
            "SELECT count(*) FROM n WHERE ?1 IS NULL OR (t = 'a' AND id <= ?2)",
            "SELECT count(*) FROM n WHERE (?1 IS NULL OR t = ?1) AND id <= ?2",
        ] {
            for (value, want) in [(None, 2_i64), (Some("a"), 1)] {
                let n: i64 = c
                    .query_row(sql, params![value, 9_i64], |r| r.get(0))
                    .unwrap();
                assert_eq!(n, want, "{:?} {value:?} {sql}", c.dialect());
            }
        }
        // Inside a transaction too: a failed first prepare aborts
        // PostgreSQL's transaction unless it is undone alone.
        c.begin_immediate().unwrap();
        c.execute("INSERT INTO n (id, t) VALUES (3, 'b')", ())
            .unwrap();
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM n WHERE (?1 IS NULL OR t = ?1) AND id >= ?2",
                params![None::<&str>, 1_i64],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 3, "{:?}", c.dialect());
        c.commit().unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM n", (), |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3);
    });
}
