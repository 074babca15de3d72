//! `targets`, `prune` (with `settings.retention`), `forget` and `backup`,
//! end to end on the NATO fixture revisions: the real binary, a real store.

use std::path::Path;

use serde_json::Value;

use crate::harness::{Reply, Test};

/// A store with the five content revisions of the NATO page (six snapshots),
/// checked a day apart in the index's eyes (capture times as stored).
fn six_snapshots() -> Test {
    let t = Test::new();
    for f in [
        "v1.html",
        "v2-reworded.html",
        "v3-section-added.html",
        "v4-renamed.html",
        "v5-stamp-only.html",
        "v6-silent-edit.html",
    ] {
        t.serve(&format!("nato-belarus/{f}"));
        let run = t.run(&["check"]);
        assert_eq!(run.code, 0, "check {f}: {}", run.stderr);
    }
    assert_eq!(t.count("snapshots"), 6);
    t
}

/// Every row the index names exists, and every foreign key holds (in
/// PostgreSQL the keys are enforced; every document and raw body a row names
/// is a blob).
fn consistent(t: &Test) {
    let db = t.db();
    if t.pg.is_some() {
        t.assert_blobs_present();
        return;
    }
    let broken: i64 = db
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", (), |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(broken, 0, "foreign keys broken");
    let mut stmt = db.prepare("SELECT dir, raw_path FROM snapshots").unwrap();
    let rows: Vec<(String, Option<String>)> = stmt
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (dir, raw) in rows {
        assert!(t.store().join(&dir).is_dir(), "{dir} missing");
        if let Some(raw) = raw {
            assert!(t.store().join(&raw).is_file(), "{raw} missing");
        }
    }
}

fn snapshot_dirs(t: &Test) -> usize {
    if t.pg.is_some() {
        return t.count("snapshots WHERE target_id = 'nato-belarus'") as usize;
    }
    std::fs::read_dir(t.store().join("nato-belarus"))
        .unwrap()
        .filter(|e| {
            let e = e.as_ref().unwrap();
            e.file_type().unwrap().is_dir() && !e.file_name().to_string_lossy().starts_with('.')
        })
        .count()
}

/// The raw bodies kept: files under `.raw/`, or in PostgreSQL the blobs
/// that are no snapshot's document.
fn raw_bodies(t: &Test) -> usize {
    if t.pg.is_some() {
        return t.count(
            "blobs b WHERE NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.document_sha256 = b.sha256)",
        ) as usize;
    }
    raw_files(&t.store())
}

fn raw_files(root: &Path) -> usize {
    let raw = root.join(".raw");
    std::fs::read_dir(raw)
        .unwrap()
        .flat_map(|fan| std::fs::read_dir(fan.unwrap().path()).unwrap())
        .count()
}

#[test]
fn targets_lists_each_configured_target_with_its_state() {
    let t = six_snapshots();
    let run = t.run(&["targets"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("TARGET"), "{}", run.stdout);
    assert!(lines[0].contains("LAST CHECK") && lines[0].contains("SNAPSHOTS"));
    assert!(lines[1].starts_with("nato-belarus"), "{}", run.stdout);
    assert!(lines[1].contains(" changed "), "{}", run.stdout);
    assert!(lines[1].contains("silent-edit"), "{}", run.stdout);
    // columns line up: the header's SNAPSHOTS starts where the count does
    let col = lines[0].find("SNAPSHOTS").unwrap();
    assert_eq!(&lines[1][col..col + 1], "6", "{}", run.stdout);

    let json: Value =
        serde_json::from_str(&t.run(&["targets", "--format", "json"]).stdout).unwrap();
    assert_eq!(json[0]["id"], "nato-belarus");
    assert_eq!(json[0]["snapshots"], 6);
    assert_eq!(json[0]["last_outcome"], "changed");
    assert_eq!(json[0]["last_revision_kind"], "silent-edit");

    // A failing target says so, with its error.
    t.server.reply(Reply::status(503));
    assert_eq!(t.run(&["check"]).code, 2);
    let run = t.run(&["targets"]);
    let line = run.stdout.lines().nth(1).unwrap();
    assert!(line.contains(" failed "), "{}", run.stdout);
    assert!(
        line.ends_with("HTTP 503 Service Unavailable"),
        "{}",
        run.stdout
    );
}

#[test]
fn prune_keeps_the_newest_and_leaves_a_consistent_store() {
    let t = six_snapshots();
    let raw_before = raw_bodies(&t);
    let revisions_before = t.count("revisions");
    assert!(revisions_before >= 5);

    // No policy: a clear refusal, nothing removed.
    let run = t.run(&["prune"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("[settings.retention]"),
        "{}",
        run.stderr
    );
    // keep_last below 2 is refused by the command line.
    assert_eq!(t.run(&["prune", "--keep-last", "1"]).code, 2);

    let dry = t.run(&["prune", "--keep-last", "3", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout
            .starts_with("nato-belarus: would remove 3 snapshots"),
        "{}",
        dry.stdout
    );
    assert_eq!(t.count("snapshots"), 6);
    assert_eq!(snapshot_dirs(&t), 6);

    let run = t.run(&["prune", "--keep-last", "3"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("nato-belarus: removed 3 snapshots"),
        "{}",
        run.stdout
    );
    assert_eq!(t.count("snapshots"), 3);
    assert_eq!(snapshot_dirs(&t), 3);
    assert!(raw_bodies(&t) < raw_before);
    // The revisions left are those between kept snapshots.
    assert_eq!(
        t.count("revisions WHERE old_snapshot_id NOT IN (SELECT id FROM snapshots) OR new_snapshot_id NOT IN (SELECT id FROM snapshots)"),
        0
    );
    assert!(t.count("revisions") < revisions_before);
    consistent(&t);

    // History and the feed still read; the next check compares against the
    // newest snapshot kept (unchanged, nothing new).
    let history = t.run(&["history", "nato-belarus"]);
    assert_eq!(history.code, 0, "{}", history.stderr);
    let feed = t.feed(Some("nato-belarus"));
    assert!(feed.contains("<entry>"), "{feed}");
    t.serve("nato-belarus/v6-silent-edit.html");
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 3);

    // Every kept snapshot keeps its check in the history.
    let kept: Vec<i64> = {
        let db = t.db();
        let mut stmt = db.prepare("SELECT id FROM snapshots").unwrap();
        stmt.query_map((), |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    for id in kept {
        assert!(
            t.count(&format!("checks WHERE snapshot_id = {id}")) >= 1,
            "#{id} lost its check"
        );
    }
    // Unknown targets and absurd spans are refused, nothing removed.
    let run = t.run(&["prune", "nope", "--keep-last", "2"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("target `nope`"), "{}", run.stderr);
    for span in ["4392378d", "1000000w", "0s", "12h"] {
        let run = t.run(&["prune", "--keep-for", span]);
        assert_eq!(run.code, 2, "{span}: {}", run.stderr);
    }
    assert_eq!(t.count("snapshots"), 3);

    // Pruning again with the same policy removes nothing.
    let again = t.run(&["prune", "--keep-last", "3"]);
    assert!(
        again
            .stdout
            .starts_with("nato-belarus: removed 0 snapshots"),
        "{}",
        again.stdout
    );
}

#[test]
fn retention_from_the_config_and_its_errors() {
    let t = six_snapshots();
    let config = std::fs::read_to_string(t.config_path()).unwrap();
    let with = |retention: &str| {
        config.replacen(
            "[rules.nato-topic]",
            &format!("[settings.retention]\n{retention}\n\n[rules.nato-topic]"),
            1,
        )
    };
    // keep_for of 100 years keeps everything captured today.
    t.write_config(&with("keep_for = \"36500d\""));
    let run = t.run(&["prune"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 6);
    // keep_last alone prunes to two; the command line can ask for more.
    t.write_config(&with("keep_last = 2"));
    let dry = t.run(&["prune", "--keep-last", "4", "--dry-run"]);
    assert!(
        dry.stdout.contains("would remove 2 snapshots"),
        "{}",
        dry.stdout
    );
    let run = t.run(&["prune"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 2);
    consistent(&t);

    for (retention, place, says) in [
        (
            "keep_last = 1",
            "settings.retention: key `keep_last`",
            "at least 2",
        ),
        (
            "keep_for = \"soon\"",
            "settings.retention: key `keep_for`",
            "`soon`",
        ),
        (
            "keep = 3",
            "settings.retention: key `keep`",
            "unknown field `keep`",
        ),
    ] {
        t.write_config(&with(retention));
        let run = t.run(&["prune"]);
        assert_eq!(run.code, 2, "{retention}");
        assert!(
            run.stderr.contains(place) && run.stderr.contains(says),
            "{retention}: {}",
            run.stderr
        );
    }
}

#[test]
fn forget_asks_then_removes_everything_of_the_target() {
    let t = six_snapshots();
    // Not a terminal, no --yes: refused, nothing removed.
    let run = t.run(&["forget", "nato-belarus"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 6);
    let dry = t.run(&["forget", "nato-belarus", "--dry-run"]);
    assert!(
        dry.stdout.contains("would remove 6 snapshots"),
        "{}",
        dry.stdout
    );

    let run = t.run(&["forget", "nato-belarus", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("removed 6 snapshots"), "{}", run.stdout);
    for table in ["snapshots", "revisions", "checks", "alerts", "targets"] {
        assert_eq!(t.count(table), 0, "{table}");
    }
    assert!(!t.store().join("nato-belarus").exists());
    assert_eq!(raw_bodies(&t), 0);
    let all = t.feed(None);
    assert!(!all.contains("<entry>"), "{all}");
    let run = t.run(&["forget", "nato-belarus", "--yes"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nothing stored"), "{}", run.stderr);

    // Still configured: the next check starts a new baseline, under a new
    // snapshot id (never one a forgotten snapshot had: alert keys name it).
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(t.count("snapshots WHERE id > 6"), 1);
}

#[test]
fn backup_restores_to_a_working_store() {
    let t = six_snapshots();
    // `backup` copies a store in a directory; PostgreSQL's is `pg_dump`.
    if t.pg.is_some() {
        let run = t.run(&["backup", t.dir.path().join("x.tar").to_str().unwrap()]);
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("pg_dump"), "{}", run.stderr);
        return;
    }
    for name in ["store.tar", "store.tar.gz"] {
        let file = t.dir.path().join(name);
        let run = t.run(&["backup", file.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.contains("files"), "{}", run.stdout);

        let restored = tempfile::tempdir().unwrap();
        let reader: Box<dyn std::io::Read> = if name.ends_with(".gz") {
            Box::new(flate2::read::GzDecoder::new(
                std::fs::File::open(&file).unwrap(),
            ))
        } else {
            Box::new(std::fs::File::open(&file).unwrap())
        };
        tar::Archive::new(reader).unpack(restored.path()).unwrap();
        assert!(restored.path().join("redliner.sqlite").is_file());
        assert!(!restored.path().join("redliner.lock").exists());
        assert_eq!(raw_files(restored.path()), raw_files(&t.store()));

        let run = |args: &[&str]| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_redliner"))
                .arg("--config")
                .arg(t.config_path())
                .arg("--store")
                .arg(restored.path())
                .args(args)
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let original = t
            .run(&["history", "nato-belarus", "--format", "json"])
            .stdout;
        assert_eq!(
            run(&["history", "nato-belarus", "--format", "json"]),
            original
        );
        let diff = run(&["diff", "nato-belarus", "1", "2", "--format", "json"]);
        assert_eq!(
            diff,
            t.run(&["diff", "nato-belarus", "1", "2", "--format", "json"])
                .stdout
        );
    }
    // Nothing that is not a regular file, and nothing inside the store, is
    // written over: refused before anything is written.
    let index = t.store().join("redliner.sqlite");
    let fifo = t.dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for dest in [
        index.clone(),
        t.store().join("inside.tar"),
        t.dir.path().to_path_buf(),
        fifo,
    ] {
        let run = t.run(&["backup", dest.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{}", dest.display());
        assert!(run.stderr.starts_with("redliner: `"), "{}", run.stderr);
    }
    let run = t.run(&["check", "--metrics-file", index.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("inside the store"), "{}", run.stderr);
    assert_eq!(t.count("checks"), 6, "the refused run checked anyway");
    // A backup into a directory that does not exist fails cleanly.
    let run = t.run(&[
        "backup",
        t.dir.path().join("no/such/dir.tar").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no/such"), "{}", run.stderr);
}

/// A `--store` that is not a store is refused by every command that reads
/// one, and nothing is created in it: a directory of other files, a plain
/// file. An empty directory is a store with nothing in it yet.
#[test]
fn commands_that_read_a_store_create_nothing_in_a_wrong_one() {
    let t = Test::new();
    // Wrong directories: a store in PostgreSQL is a database that exists.
    if !t.files_on_disk() {
        return;
    }
    let store = t.store();
    let backup = t.dir.path().join("never-written.tar");
    let backup = backup.to_str().unwrap();
    let commands: [&[&str]; 6] = [
        &["history", "nato-belarus"],
        &["targets"],
        &["alerts"],
        &["report"],
        &["prune", "--keep-last", "2"],
        &["backup", backup],
    ];
    let refused = |says: &str| {
        for args in commands {
            let run = t.run(args);
            assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
            assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        }
    };

    std::fs::create_dir(&store).unwrap();
    std::fs::write(store.join("notes.txt"), "not a store").unwrap();
    refused("but no index `redliner.sqlite`");
    let left: Vec<_> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        ["notes.txt"],
        "files were created in a directory that is no store"
    );

    std::fs::remove_dir_all(&store).unwrap();
    std::fs::write(&store, "x").unwrap();
    refused("is not a directory");
    assert_eq!(std::fs::read(&store).unwrap(), b"x");
    assert!(!std::path::Path::new(backup).exists());

    std::fs::remove_file(&store).unwrap();
    std::fs::create_dir(&store).unwrap();
    let run = t.run(&["history", "nato-belarus"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no store at"), "{}", run.stderr);
    let run = t.run(&["targets"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("never checked"), "{}", run.stdout);
    assert_eq!(std::fs::read_dir(&store).unwrap().count(), 0);
}

/// A damaged index (a page overwritten) is not archived as if it were
/// good: `backup` says so, exit 2, and writes nothing.
#[test]
fn backup_refuses_a_damaged_index() {
    use std::io::{Seek, SeekFrom, Write};
    let t = six_snapshots();
    // The SQLite file damaged on disk: a store in a directory only.
    if !t.files_on_disk() {
        return;
    }
    let index = t.store().join("redliner.sqlite");
    let pages = std::fs::metadata(&index).unwrap().len() / 4096;
    assert!(pages > 4, "{pages} pages");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(&index)
        .unwrap();
    // A page of the middle of the file, past the schema on page 1.
    f.seek(SeekFrom::Start(4096 * (pages / 2))).unwrap();
    f.write_all(&[0xA5; 4096]).unwrap();
    drop(f);
    let file = t.dir.path().join("damaged.tar");
    let run = t.run(&["backup", file.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("the index is damaged"),
        "{}",
        run.stderr
    );
    assert!(!file.exists());
}
