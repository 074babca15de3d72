//! `redliner backfill` against a fake web archive on 127.0.0.1 (see
//! `archive_server.rs`), and `verify` over the history it made.

use std::time::Duration;

use crate::archive_server::Archive;
use crate::harness::{NATO_RULES, Test, fixture};
use crate::server::Reply;

/// A test whose target is the NATO page on the test server (its path is
/// what the fake archive's CDX keys compare), with a webhook channel, and
/// whose config names the fake archive both as `wayback` and as a Memento
/// archive `memento`, 100 ms apart.
pub fn with_archive(archive: &Archive) -> Test {
    let t = Test::new();
    t.write_config(&format!(
        "[settings]\ntimeout = \"5s\"\nretries = 0\n{NATO_RULES}\n\
         [[channel]]\nid = \"hook\"\nkind = \"webhook\"\nurl_env = \"TEST_HOOK_URL\"\n\
         [[target]]\nid = \"nato-belarus\"\nurl = \"{page}\"\nrules = \"nato-topic\"\nchannels = [\"hook\"]\n\
         [archives.wayback]\nkind = \"wayback\"\nurl = \"{base}\"\ndelay = \"100ms\"\n\
         [archives.memento]\nkind = \"memento\"\nurl = \"{base}/timemap/link/{{url}}\"\ndelay = \"100ms\"\n",
        page = t.server.url("/cps/en/natohq/topics_49119.htm"),
        base = archive.base()
    ));
    t
}

/// (capture time, source, stamp date, root fallback) of every snapshot,
/// in capture order.
fn snapshots(t: &Test) -> Vec<(String, Option<String>, Option<String>, bool)> {
    let db = t.db();
    let mut st = db
        .prepare(
            "SELECT captured_at, source, stamp_date, root_fallback FROM snapshots
             ORDER BY captured_at",
        )
        .unwrap();
    st.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The kinds of the content revisions, by their new snapshot's capture time.
fn revision_kinds(t: &Test) -> Vec<(String, String)> {
    let db = t.db();
    let mut st = db
        .prepare(
            "SELECT substr(n.captured_at, 1, 10), r.kind FROM revisions r
             JOIN snapshots n ON n.id = r.new_snapshot_id
             WHERE r.technical = 0 ORDER BY n.captured_at",
        )
        .unwrap();
    st.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn counts(t: &Test) -> [i64; 5] {
    [
        t.count("snapshots"),
        t.count("revisions"),
        t.count("checks"),
        t.count("archive_captures"),
        t.count("ledger"),
    ]
}

#[test]
fn backfill_fills_history_with_dated_archived_snapshots_then_verify_names_an_edit() {
    let archive = Archive::start();
    let t = with_archive(&archive);
    // A live baseline first: the archive's captures go before it.
    t.server
        .reply(Reply::html(fixture("nato-belarus/v2-reworded.html")));
    assert_eq!(t.run(&["check"]).code, 0);

    let run = t.run(&["backfill", "nato-belarus"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("nato-belarus: 11 captures in `wayback`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "8 stored, 1 unchanged, 0 duplicates, 2 refused, 0 looked at before; \
             1 revision to later snapshots"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("capture 20060401000000 refused: the archive answered 404 for the replay"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("capture 20140101000000 refused: the page looks like an error page"),
        "{}",
        run.stderr
    );

    // Dated by capture, marked with their archive, read with the old
    // templates' stamps and the fallback root; the live one last.
    let got = snapshots(&t);
    let want: [(&str, Option<&str>, bool); 9] = [
        ("2006-03-29T18:54:00.000Z", Some("2006-03-29"), true),
        ("2008-06-11T12:00:00.000Z", Some("2008-06-11"), true),
        ("2010-02-04T11:30:00.000Z", Some("2010-02-04"), true),
        ("2011-06-14T09:12:00.000Z", Some("2011-06-14"), true),
        ("2012-03-02T15:38:00.000Z", Some("2012-03-02"), true),
        ("2012-03-20T10:00:00.000Z", Some("2012-03-20"), true),
        ("2020-09-10T14:30:00.000Z", Some("2020-09-10"), false),
        ("2024-08-30T06:15:00.000Z", Some("2024-08-28"), false),
        ("", Some("2024-11-14"), false),
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (i, ((at, source, stamp, fallback), (w_at, w_stamp, w_fallback))) in
        got.iter().zip(want).enumerate()
    {
        if i < 8 {
            assert_eq!(at, w_at);
            assert_eq!(source.as_deref(), Some("wayback"), "{at}");
        } else {
            assert!(at.as_str() > "2026", "{at}");
            assert_eq!(source, &None, "the live snapshot has no archive");
        }
        assert_eq!(stamp.as_deref(), w_stamp, "{at}");
        assert_eq!(*fallback, w_fallback, "{at}");
    }
    let kinds: Vec<String> = revision_kinds(&t)
        .iter()
        .map(|(d, k)| format!("{d} {k}"))
        .collect();
    assert_eq!(
        kinds[..7],
        [
            "2008-06-11 revised",
            "2010-02-04 revised",
            "2011-06-14 revised",
            "2012-03-02 revised",
            "2012-03-20 stamp-only",
            "2020-09-10 revised",
            "2024-08-30 revised",
        ]
    );
    // The last capture (v1's text) to the live v2: one block reworded.
    assert_eq!(kinds.len(), 8, "{kinds:?}");
    assert!(
        kinds[7].starts_with("20") && kinds[7].ends_with(" revised"),
        "{kinds:?}"
    );
    // The replay URL is kept with each imported snapshot.
    let replay: String = t
        .db()
        .query_row(
            "SELECT source_url FROM snapshots WHERE captured_at LIKE '2012-03-02%'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        replay,
        format!(
            "{}/web/20120302153800id_/{}/cps/en/natohq/topics_49119.htm",
            archive.base(),
            t.server.url("")
        )
    );

    // `history` lists them by capture time, oldest last, each saying where
    // it came from; the live baseline now has its revision from the archive.
    let h = t.run(&["history", "nato-belarus"]);
    assert_eq!(h.code, 0, "{}", h.stderr);
    let lines: Vec<&str> = h.stdout.lines().skip(1).collect();
    assert_eq!(lines.len(), 9, "{}", h.stdout);
    assert!(
        lines[8].starts_with("2006-03-29T18:54:00Z  #"),
        "{}",
        lines[8]
    );
    assert!(
        lines[8].contains("Last update: 29-Mar-2006 18:54"),
        "{}",
        lines[8]
    );
    assert!(lines[8].contains("imported from `wayback`: capture of 2006-03-29 18:54:00 UTC"));
    assert!(
        lines[3].contains("stamp-only") && lines[3].contains("20-Mar-2012"),
        "{}",
        lines[3]
    );
    assert!(lines[0].contains("changed   revised"), "{}", lines[0]);
    assert!(
        lines[0].contains("a baseline when checked; older captures were imported later"),
        "{}",
        lines[0]
    );

    // Never alerted; the receiver saw nothing.
    assert_eq!(t.count("alerts"), 0);
    assert!(t.server.seen().iter().all(|s| !s.path.contains("hook")));

    // Idempotent: a second run looks at nothing again and adds nothing.
    let before = counts(&t);
    let again = t.run(&["backfill", "nato-belarus"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("0 stored, 0 unchanged, 0 duplicates, 0 refused, 11 looked at before"),
        "{}",
        again.stderr
    );
    assert_eq!(counts(&t), before);

    // The record holds; a byte changed in one file is named.
    let ok = t.run(&["verify"]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout
            .starts_with("verified: 9 ledger entries, 9 snapshots, 18 files checked; 0 breaks"),
        "{}",
        ok.stdout
    );
    let (id, dir): (i64, String) = t
        .db()
        .query_row(
            "SELECT id, dir FROM snapshots WHERE captured_at LIKE '2010-02-04%'",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let md = t.store().join(&dir).join("document.json.zst");
    if t.pg.is_some() {
        // In PostgreSQL the document is a blob: edited in place.
        let sha: String = t
            .db()
            .query_row(
                "SELECT document_sha256 FROM snapshots WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        let mut json = t.blob(&sha);
        let at = json.iter().position(|b| *b == b'N').unwrap();
        json[at] = b'M';
        t.db()
            .execute(
                "UPDATE blobs SET zstd = ?2 WHERE sha256 = ?1",
                redliner::store::db::params![sha, zstd::stream::encode_all(&json[..], 3).unwrap()],
            )
            .unwrap();
    } else {
        let mut json = zstd::stream::decode_all(std::fs::File::open(&md).unwrap()).unwrap();
        let at = json.iter().position(|b| *b == b'N').unwrap();
        json[at] = b'M';
        std::fs::write(&md, zstd::stream::encode_all(&json[..], 3).unwrap()).unwrap();
    }
    let broken = t.run(&["verify"]);
    assert_eq!(broken.code, 1, "{}{}", broken.stdout, broken.stderr);
    assert!(
        broken.stdout.starts_with(&format!(
            "BROKEN: first break: snapshot {id} of nato-belarus: document file edited"
        )),
        "{}",
        broken.stdout
    );
}

/// One request at a time, at least the archive's delay apart; a 429's
/// Retry-After waited for; an archive going down stops the run, and the
/// next run resumes where it stopped and ends as an uninterrupted one.
#[test]
fn backfill_is_polite_resumes_after_an_outage_and_honours_retry_after() {
    let archive = Archive::start();
    let t = with_archive(&archive);
    archive.busy(429, 1);
    archive.down_after(Some(4));
    let first = t.run(&["backfill", "nato-belarus"]);
    assert_eq!(first.code, 2, "{}", first.stderr);
    assert!(
        first.stderr.contains("run again to resume"),
        "{}",
        first.stderr
    );
    let first_run = archive.hits().len();
    let looked: i64 = t.count("archive_captures");
    assert!(
        (3..=5).contains(&looked),
        "looked at {looked} before the outage"
    );
    let stored_then = t.count("snapshots");
    assert!(stored_then >= 2, "{stored_then}");

    archive.down_after(None);
    let second = t.run(&["backfill", "nato-belarus"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains(&format!("{looked} looked at before")),
        "{}",
        second.stderr
    );
    // The same history an uninterrupted run makes.
    assert_eq!(t.count("snapshots"), 8);
    assert_eq!(t.count("archive_captures"), 11);
    assert_eq!(t.count("revisions WHERE technical = 0"), 7);
    let verify = t.run(&["verify"]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);

    let hits = archive.hits();
    // The 429 came first (the CDX listing, then the first replay) and
    // its Retry-After of 1 s was waited for before the replay was asked again.
    assert!(
        hits[0].path.starts_with("/cdx/search/cdx?"),
        "{}",
        hits[0].path
    );
    assert_eq!(hits[1].path, hits[2].path);
    let waited = hits[2].arrived - hits[1].answered;
    assert!(waited >= Duration::from_millis(990), "waited {waited:?}");
    // Never two requests at once, and each at least the 100 ms delay
    // after the one before ended, in each run.
    for pair in hits[..first_run]
        .windows(2)
        .chain(hits[first_run..].windows(2))
    {
        assert!(pair[1].arrived >= pair[0].answered, "overlapping requests");
        let gap = pair[1].arrived - pair[0].answered;
        assert!(
            gap >= Duration::from_millis(95),
            "{gap:?} between {} and {}",
            pair[0].path,
            pair[1].path
        );
    }
}

/// A Memento TimeMap lists the same captures (without digests, so the
/// repeated bytes are fetched and found unchanged); `--from`/`--to` keep a
/// window; a bad archive or date is a clear error that writes nothing.
#[test]
fn backfill_reads_a_memento_timemap_within_a_window() {
    let archive = Archive::start();
    let t = with_archive(&archive);
    let bad = t.run(&["backfill", "nato-belarus", "--archive", "nowhere"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("no archive `nowhere` (known: memento, wayback"),
        "{}",
        bad.stderr
    );
    let bad = t.run(&["backfill", "nato-belarus", "--from", "last tuesday"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("--from `last tuesday`: expected a date"),
        "{}",
        bad.stderr
    );
    let bad = t.run(&["backfill", "nato-belarus", "--from", "2012", "--to", "2010"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("--from 2012 is after --to 2010"),
        "{}",
        bad.stderr
    );
    assert!(!t.store().join("redliner.sqlite").exists());

    let run = t.run(&[
        "backfill",
        "nato-belarus",
        "--archive",
        "memento",
        "--from",
        "2010",
        "--to",
        "2012-03-02",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("4 captures in `memento`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("3 stored, 1 unchanged"),
        "{}",
        run.stderr
    );
    let got: Vec<String> = snapshots(&t).into_iter().map(|s| s.0).collect();
    assert_eq!(
        got,
        [
            "2010-02-04T11:30:00.000Z",
            "2011-06-14T09:12:00.000Z",
            "2012-03-02T15:38:00.000Z"
        ]
    );
    let replay: String = t
        .db()
        .query_row(
            "SELECT source_url FROM snapshots ORDER BY captured_at LIMIT 1",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        replay,
        format!(
            "{}/wayback/20100204113000id_/{}/cps/en/natohq/topics_49119.htm",
            archive.base(),
            t.server.url("")
        )
    );

    // The web application says where a snapshot came from.
    let id: i64 = t
        .db()
        .query_row(
            "SELECT id FROM snapshots ORDER BY captured_at LIMIT 1",
            (),
            |r| r.get(0),
        )
        .unwrap();
    let web = crate::web::start(&t, "127.0.0.1:0", &[]);
    let page = crate::web::get(&format!("{}/targets/nato-belarus/snapshots/{id}", web.base));
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("imported from the <code>memento</code> web archive"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("/wayback/20100204113000id_/"),
        "{}",
        page.body
    );
    drop(web);

    // The whole TimeMap: the repeated 2008 bytes are fetched and found
    // unchanged, the 302 capture is not listed.
    let all = t.run(&["backfill", "nato-belarus", "--archive", "memento"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert!(
        all.stderr.contains("12 captures in `memento`"),
        "{}",
        all.stderr
    );
    assert!(
        all.stderr
            .contains("5 stored, 1 unchanged, 0 duplicates, 2 refused, 4 looked at before"),
        "{}",
        all.stderr
    );
    assert_eq!(t.count("snapshots"), 8);
}

/// A store made before the ledger is entered in it by the first command
/// that writes; later snapshots, a prune and a forget are recorded, and
/// `verify` holds throughout; a deleted row and reordered rows are named.
#[test]
fn the_ledger_seals_an_older_store_and_records_removals() {
    let t = Test::new();
    for v in ["v1.html", "v2-reworded.html", "v3-section-added.html"] {
        t.server
            .reply(Reply::html(fixture(&format!("nato-belarus/{v}"))));
        assert_eq!(t.run(&["check"]).code, 0);
    }
    // Back to the schema before the ledger (version 10), as an older
    // redliner left it: a SQLite store (PostgreSQL's schema starts with
    // the ledger).
    if t.pg.is_some() {
        return;
    }
    t.db()
        .execute_batch(
            "DROP TRIGGER ledger_append_only_update; DROP TRIGGER ledger_append_only_delete;
             DROP TABLE ledger; DROP TABLE ledger_start; DROP TABLE archive_captures;
             ALTER TABLE snapshots DROP COLUMN source; ALTER TABLE snapshots DROP COLUMN source_url;
             ALTER TABLE snapshots DROP COLUMN document_sha256;
             ALTER TABLE snapshots DROP COLUMN chain_hash; PRAGMA user_version = 10;",
        )
        .unwrap();
    let first = t.run(&["verify"]);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert!(
        first
            .stderr
            .contains("entered 3 snapshots stored before the ledger"),
        "{}",
        first.stderr
    );
    assert!(
        first
            .stdout
            .starts_with("verified: 3 ledger entries, 3 snapshots"),
        "{}",
        first.stdout
    );

    t.server
        .reply(Reply::html(fixture("nato-belarus/v4-renamed.html")));
    assert_eq!(t.run(&["check"]).code, 0);
    let prune = t.run(&["prune", "--keep-last", "2"]);
    assert_eq!(prune.code, 0, "{}", prune.stderr);
    let after = t.run(&["verify"]);
    assert_eq!(after.code, 0, "{}", after.stdout);
    assert!(
        after
            .stdout
            .starts_with("verified: 6 ledger entries, 2 snapshots"),
        "{}",
        after.stdout
    );
    assert_eq!(t.count("ledger WHERE event = 'removed'"), 2);

    // Rows reordered (two capture times swapped) and a row deleted outside
    // redliner are named; the chain's own entries cannot be deleted.
    let db = t.db();
    let ids: Vec<i64> = {
        let mut st = db.prepare("SELECT id FROM snapshots ORDER BY id").unwrap();
        st.query_map((), |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    db.execute_batch(&format!(
        "UPDATE snapshots SET captured_at = (SELECT captured_at FROM snapshots WHERE id = {b})
           WHERE id = {a};",
        a = ids[0],
        b = ids[1]
    ))
    .unwrap();
    let swapped = t.run(&["verify"]);
    assert_eq!(swapped.code, 1);
    assert!(
        swapped.stdout.contains(&format!(
            "snapshot {} of nato-belarus: ledger entry",
            ids[0]
        )) && swapped
            .stdout
            .contains("the row differs from its ledger entry (capture time: recorded 20"),
        "{}",
        swapped.stdout
    );
    assert!(db.execute("DELETE FROM ledger WHERE seq = 1", ()).is_err());
    db.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF; DELETE FROM checks WHERE snapshot_id = {a};
         DELETE FROM revisions WHERE new_snapshot_id = {a} OR old_snapshot_id = {a};
         DELETE FROM snapshot_sections WHERE snapshot_id = {a};
         DELETE FROM snapshots WHERE id = {a};",
        a = ids[1]
    ))
    .unwrap();
    let deleted = t.run(&["verify"]);
    assert_eq!(deleted.code, 1);
    assert!(
        deleted.stdout.contains(&format!(
            "snapshot {} of nato-belarus: ledger entry",
            ids[1]
        )) && deleted.stdout.contains("deleted (captured"),
        "{}",
        deleted.stdout
    );

    // Forgetting the target records its removals too.
    let t2 = Test::new();
    t2.server
        .reply(Reply::html(fixture("nato-belarus/v1.html")));
    assert_eq!(t2.run(&["check"]).code, 0);
    assert_eq!(t2.run(&["forget", "nato-belarus", "--yes"]).code, 0);
    let v = t2.run(&["verify"]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    assert!(
        v.stdout
            .starts_with("verified: 2 ledger entries, 0 snapshots"),
        "{}",
        v.stdout
    );
}

/// A capture with the same digest as the capture before it (looked at by
/// an earlier run: the CDX server collapses repeats within one listing only)
/// is recorded as a duplicate and not fetched; a capture whose bytes came
/// earlier but not just before it is fetched (the page may have gone back).
#[test]
fn a_capture_with_the_bytes_of_the_one_before_is_not_fetched_again() {
    let archive = Archive::start();
    let t = with_archive(&archive);
    let june = t.run(&["backfill", "nato-belarus", "--to", "2008-06"]);
    assert_eq!(june.code, 0, "{}", june.stderr);
    assert!(
        june.stderr
            .contains("2 stored, 0 unchanged, 0 duplicates, 1 refused"),
        "{}",
        june.stderr
    );
    // The July 2008 capture alone: the same bytes as June's.
    let july = t.run(&[
        "backfill",
        "nato-belarus",
        "--from",
        "2008-07",
        "--to",
        "2008-07",
    ]);
    assert_eq!(july.code, 0, "{}", july.stderr);
    assert!(
        july.stderr.contains("1 capture in `wayback`"),
        "{}",
        july.stderr
    );
    assert!(
        july.stderr
            .contains("0 stored, 0 unchanged, 1 duplicate, 0 refused, 0 looked at before"),
        "{}",
        july.stderr
    );
    assert!(
        archive
            .hits()
            .iter()
            .all(|h| !h.path.starts_with("/web/20080702"))
    );
    let note: String = t
        .db()
        .query_row(
            "SELECT note FROM archive_captures WHERE timestamp = '20080702093000'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(note, "the same bytes as capture 20080611120000");
    assert_eq!(t.count("snapshots"), 2);
}

/// Cutting the newest entries off the chain (with their rows) is named by a
/// kept head, by the dropped append-only triggers and by the files left.
#[test]
fn a_kept_head_names_a_chain_cut_short() {
    let t = Test::new();
    let head = |t: &Test| -> String {
        let v = t.run(&["verify"]);
        assert_eq!(v.code, 0, "{}", v.stdout);
        v.stdout.trim().rsplit(' ').next().unwrap().to_string()
    };
    for v in ["v1.html", "v2-reworded.html"] {
        t.server
            .reply(Reply::html(fixture(&format!("nato-belarus/{v}"))));
        assert_eq!(t.run(&["check"]).code, 0);
    }
    let kept = head(&t);
    t.server
        .reply(Reply::html(fixture("nato-belarus/v3-section-added.html")));
    assert_eq!(t.run(&["check"]).code, 0);
    let newest = head(&t);
    let ok = t.run(&["verify", "--head", &kept, "--head", &newest]);
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    let bad = t.run(&["verify", "--head", "not-a-hash"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("--head `not-a-hash`: expected a SHA-256"),
        "{}",
        bad.stderr
    );

    let db = t.db();
    db.execute_batch(if t.pg.is_some() {
        "DROP TRIGGER ledger_append_only_delete ON ledger;
         DELETE FROM ledger WHERE seq = (SELECT max(seq) FROM ledger);
         SET session_replication_role = replica;
         DELETE FROM alerts WHERE snapshot_id = (SELECT max(id) FROM snapshots);
         DELETE FROM checks WHERE snapshot_id = (SELECT max(id) FROM snapshots);
         DELETE FROM revisions WHERE new_snapshot_id = (SELECT max(id) FROM snapshots);
         DELETE FROM snapshot_sections WHERE snapshot_id = (SELECT max(id) FROM snapshots);
         DELETE FROM snapshots WHERE id = (SELECT max(id) FROM snapshots);"
    } else {
        "DROP TRIGGER ledger_append_only_delete;
         DELETE FROM ledger WHERE seq = (SELECT max(seq) FROM ledger);
         PRAGMA foreign_keys = OFF;
         DELETE FROM checks WHERE snapshot_id = (SELECT max(id) FROM snapshots);
         DELETE FROM revisions WHERE new_snapshot_id = (SELECT max(id) FROM snapshots);
         DELETE FROM snapshot_sections WHERE snapshot_id = (SELECT max(id) FROM snapshots);
         DELETE FROM snapshots WHERE id = (SELECT max(id) FROM snapshots);"
    })
    .unwrap();
    let cut = t.run(&["verify", "--head", &newest]);
    assert_eq!(cut.code, 1, "{}", cut.stdout);
    assert!(
        cut.stdout.starts_with(
            "BROKEN: first break: the triggers that keep the ledger append-only were dropped"
        ),
        "{}",
        cut.stdout
    );
    assert!(
        t.pg.is_some() || cut.stdout.contains("a snapshot directory no row names"),
        "{}",
        cut.stdout
    );
    assert!(
        cut.stdout.contains(&format!(
            "the kept chain head {newest} is no longer in the ledger"
        )),
        "{}",
        cut.stdout
    );
    // The older kept head still holds: what was recorded up to it is intact.
    let older = t.run(&["verify", "--head", &kept]);
    assert!(
        !older.stdout.contains("kept chain head"),
        "{}",
        older.stdout
    );
}

/// SIGINT (Ctrl-C) stops a backfill between two captures with a clear
/// line and exit 2; the next run resumes and ends as an uninterrupted one.
#[test]
fn ctrl_c_stops_a_backfill_that_the_next_run_resumes() {
    let archive = Archive::start();
    let t = with_archive(&archive);
    let config = std::fs::read_to_string(t.config_path()).unwrap();
    std::fs::write(
        t.config_path(),
        config.replace("delay = \"100ms\"", "delay = \"600ms\""),
    )
    .unwrap();
    let child = t
        .command()
        .args(["backfill", "nato-belarus"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    // SAFETY: a plain kill(2) of our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("SIGINT received; stopping"), "{stderr}");
    assert!(stderr.contains("stopped by a signal after"), "{stderr}");
    assert!(stderr.contains("run again to resume"), "{stderr}");
    let looked = t.count("archive_captures");
    assert!((1..11).contains(&looked), "{looked}");
    let config = std::fs::read_to_string(t.config_path()).unwrap();
    std::fs::write(
        t.config_path(),
        config.replace("delay = \"600ms\"", "delay = \"100ms\""),
    )
    .unwrap();
    let again = t.run(&["backfill", "nato-belarus"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains(&format!("{looked} looked at before")),
        "{}",
        again.stderr
    );
    assert_eq!(t.count("snapshots"), 8);
    assert_eq!(t.count("archive_captures"), 11);
    assert_eq!(t.run(&["verify"]).code, 0);
}

/// A capture of the fixtures with another time, original, body or replay.
fn hostile(
    timestamp: &str,
    original: &str,
    file: Option<&str>,
    body: Option<&str>,
    status: u16,
    location: Option<&str>,
) -> crate::archive_server::Capture {
    crate::archive_server::Capture {
        timestamp: timestamp.into(),
        original: original.into(),
        statuscode: "200".into(),
        mimetype: "text/html".into(),
        digest: format!("HOSTILE{timestamp}"),
        file: file.map(str::to_string),
        body: body.map(str::to_string),
        replay: crate::archive_server::Replay {
            status,
            content_type: "text/html; charset=utf-8".into(),
            location: location.map(str::to_string),
        },
    }
}

/// What an archive may list or replay that is not a capture of the page
/// never becomes a snapshot, and each is named: a capture dated in the
/// future, a capture of another site, a replay redirected out of the
/// archive's captures, an interstitial in the page's place, the archive's
/// own "not archived" page served with 200.
#[test]
fn what_is_not_a_capture_of_the_page_is_refused_and_named() {
    let page = "http://www.nato.int:80/cps/en/natohq/topics_49119.htm";
    let interstitial = "<!DOCTYPE html><html><head><title>Just a moment...</title></head>\
        <body><main><h1>Checking your browser before accessing the site</h1><p>This process \
        is automatic. Your browser will redirect to your requested content shortly. Please \
        allow up to 5 seconds while we check the connection, and enable JavaScript and \
        cookies to continue to the page you asked for.</p></main></body></html>";
    let not_archived = "<!DOCTYPE html><html><head><title>Wayback Machine</title></head><body>\
        <p>Hrm.</p><p>Wayback Machine has not archived that URL.</p></body></html>";
    let archive = Archive::start_with(vec![
        hostile(
            "20990101000000",
            page,
            Some("20240830061500.html"),
            None,
            200,
            None,
        ),
        hostile(
            "20130101000000",
            "http://evil.example/cps/en/natohq/topics_49119.htm",
            Some("20120302153800.html"),
            None,
            200,
            None,
        ),
        hostile("20130601000000", page, None, None, 302, Some("/about.html")),
        hostile("20150101000000", page, None, Some(interstitial), 200, None),
        hostile("20160101000000", page, None, Some(not_archived), 200, None),
    ]);
    let t = with_archive(&archive);
    let run = t.run(&["backfill", "nato-belarus"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (ts, why) in [
        (
            "20990101000000",
            "dated 2099-01-01T00:00:00Z by the archive: in the future",
        ),
        (
            "20130101000000",
            "the archive lists it as a capture of another page (http://evil.example/",
        ),
        (
            "20130601000000",
            "the archive redirected the replay away from its captures",
        ),
        ("20150101000000", "another page in this one's place"),
        (
            "20160101000000",
            "the archive served the Wayback Machine's page for a URL it has not archived",
        ),
    ] {
        assert!(
            run.stderr.contains(&format!("capture {ts} refused: {why}")),
            "{ts}: {}",
            run.stderr
        );
    }
    assert!(
        run.stderr
            .contains("8 stored, 1 unchanged, 0 duplicates, 7 refused"),
        "{}",
        run.stderr
    );
    // The history is the fixtures' alone; a check later compares with 2024.
    assert_eq!(t.count("snapshots"), 8);
    let newest: String = t
        .db()
        .query_row("SELECT max(captured_at) FROM snapshots", (), |r| r.get(0))
        .unwrap();
    assert!(newest.starts_with("2024-08-30"), "{newest}");
}

/// A listing that redirects to an address the guard refuses, one that asks
/// to wait hours, and a base URL that is not an archive's: clear errors,
/// nothing stored.
#[test]
fn a_bad_listing_is_a_clear_error_that_stores_nothing() {
    let t = Test::new();
    let config = |base: &str| {
        format!(
            "[settings]\ntimeout = \"5s\"\nretries = 0\n{NATO_RULES}\n\
             [[target]]\nid = \"nato-belarus\"\nurl = \"{}\"\nrules = \"nato-topic\"\n\
             [archives.wayback]\nkind = \"wayback\"\nurl = \"{base}\"\ndelay = \"10ms\"\n",
            t.server.url("/cps/en/natohq/topics_49119.htm")
        )
    };
    t.write_config(&config(&t.server.url("/archive")));
    for (reply, said) in [
        (
            Reply::status(302).header("Location", "http://192.0.2.1/cdx"),
            "a redirect to a refused address",
        ),
        (
            Reply::status(302).header("Location", "http://169.254.169.254/latest/meta-data/"),
            "a redirect to a refused address",
        ),
        (
            Reply::status(429).header("Retry-After", "99999"),
            "is busy and asks to wait 99999 s; run again later",
        ),
        (
            Reply::status(404),
            "answered 404 Not Found (is `url` the archive's base URL?)",
        ),
        (
            Reply::html("<html><body>not JSON</body></html>"),
            "the CDX answer is not a JSON table",
        ),
    ] {
        t.server.reply(reply);
        let run = t.run(&["backfill", "nato-belarus"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("archive `wayback`: "), "{}", run.stderr);
        assert!(run.stderr.contains(said), "{said}: {}", run.stderr);
    }
    assert_eq!(t.count("snapshots"), 0);
}
