//! `redliner migrate`: a store made by checking the fixture revisions moves
//! to the other kind of store (SQLite directory ⇄ PostgreSQL) and back,
//! and every command reads the same history from all three.
//!
//! Runs when `REDLINER_TEST_POSTGRES` names a server (CI sets it), whichever
//! backend the rest of the suite is on.

use std::process::Command;

use crate::harness::{PgDb, Run, Test};

const FIXTURES: &[&str] = &[
    "v1.html",
    "v2-reworded.html",
    "v3-section-added.html",
    "v4-renamed.html",
    "v5-stamp-only.html",
    "v6-silent-edit.html",
];

/// `redliner --config C --store STORE ARGS...` in the test's directory.
fn on(t: &Test, store: &str, args: &[&str]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_redliner"))
        .current_dir(t.dir.path())
        .env_remove("REDLINER_CONFIG")
        .env_remove("REDLINER_STORE")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        // The channel's receiver is down: its alerts stay queued with
        // their failed attempts, which are copied too.
        .env("MIGRATE_HOOK_URL", "http://127.0.0.1:9/hook")
        .arg("--config")
        .arg(t.config_path())
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .unwrap()
        .into()
}

fn ok(run: Run, what: &str) -> String {
    assert_eq!(run.code, 0, "{what}: {}", run.stderr);
    run.stdout
}

/// What the commands print of a store, for comparing stores.
fn views(t: &Test, store: &str) -> Vec<String> {
    let mut out = Vec::new();
    for args in [
        &["history", "nato-belarus"][..],
        &["history", "nato-belarus", "--format", "json"],
        &["diff", "nato-belarus", "--format", "json"],
        &["show", "nato-belarus"],
        &["report", "--since", "30d", "--format", "markdown"],
        &["alerts", "--format", "json"],
        &["targets", "--format", "json"],
    ] {
        let text = ok(on(t, store, args), &format!("{args:?} on {store}"));
        // `targets` says when the last check ran; the rest is the store's.
        out.push(text);
    }
    out
}

#[test]
fn migrate_round_trips_a_store_made_by_the_fixture_revisions() {
    if std::env::var_os("REDLINER_TEST_POSTGRES").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "REDLINER_TEST_POSTGRES is not set: CI runs the migrate test (.ci/postgres)"
        );
        eprintln!("skipped: REDLINER_TEST_POSTGRES is not set");
        return;
    }
    let t = Test::new();
    let config = std::fs::read_to_string(t.config_path()).unwrap();
    t.write_config(&format!(
        "{config}channels = [\"hook\"]\n\n[[channel]]\nid = \"hook\"\nkind = \"webhook\"\n\
         url_env = \"MIGRATE_HOOK_URL\"\ntimeout = \"1s\"\n"
    ));
    let source = t.store_arg();
    for f in FIXTURES {
        t.serve(&format!("nato-belarus/{f}"));
        let run = on(&t, &source, &["check", "-q"]);
        // The receiver is down: the check exits 0 all the same.
        assert_eq!(run.code, 0, "check {f}: {}", run.stderr);
    }
    let before = views(&t, &source);
    assert!(before[0].contains("silent"), "{}", before[0]);

    // To the other kind, and back to a new store of the first kind.
    let source_is_database = t.pg.is_some();
    let pg = PgDb::new();
    let dir = t.dir.path().join("moved");
    let (other, back_pg, back) = if source_is_database {
        (dir.display().to_string(), None, None)
    } else {
        (pg.url.clone(), Some(PgDb::new()), None::<String>)
    };
    let back = back.unwrap_or_else(|| match &back_pg {
        // SQLite → PostgreSQL → a new directory.
        Some(_) => t.dir.path().join("back").display().to_string(),
        // PostgreSQL → a directory → a new database.
        None => pg.url.clone(),
    });
    let report = ok(
        on(&t, &source, &["migrate", "--to", &other]),
        "migrate there",
    );
    for want in [
        "6 documents and 6 raw bodies",
        "6 snapshots indexed for search",
        "the ledger's 6 entries verify",
    ] {
        assert!(report.contains(want), "{want:?} not in {report}");
    }
    let json = ok(
        on(&t, &other, &["migrate", "--to", &back, "--format", "json"]),
        "migrate back",
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["documents"], 6);
    assert_eq!(report["ledger_entries"], 6);
    let tables = report["tables"].as_array().unwrap();
    assert!(
        tables
            .iter()
            .any(|r| r[0] == "alerts" && r[1].as_u64() > Some(0)),
        "alerts copied: {json}"
    );
    for row in tables {
        assert_eq!(row[1], row[2], "{json}");
    }

    // The same history on all three, and each verifies.
    for store in [&other, &back] {
        assert_eq!(views(&t, store), before, "{store}");
        let verified = ok(on(&t, store, &["verify"]), "verify");
        assert!(verified.contains("0 breaks"), "{verified}");
    }
    // Search finds the same snapshots in each.
    let mut found = Vec::new();
    for store in [&source, &other, &back] {
        let s = redliner::store::Store::open(std::path::Path::new(store)).unwrap();
        assert_eq!(s.unindexed_for_search().unwrap(), 0, "{store}");
        let query = redliner::store::SearchQuery::parse("Minsk").unwrap();
        let hits = s.search(&query, None, 10).unwrap();
        found.push(hits.len());
    }
    assert!(
        found[0] > 0 && found.iter().all(|&n| n == found[0]),
        "{found:?}"
    );

    // Refused: a destination with a store in it, and two stores of one kind.
    let again = on(&t, &source, &["migrate", "--to", &other]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("not empty"), "{}", again.stderr);
    let spare = PgDb::new();
    let same_kind = if source_is_database {
        spare.url.clone()
    } else {
        t.dir.path().join("same").display().to_string()
    };
    let refused = on(&t, &source, &["migrate", "--to", &same_kind]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("one kind"), "{}", refused.stderr);
    // The source is left as it was.
    assert_eq!(views(&t, &source), before);
}
