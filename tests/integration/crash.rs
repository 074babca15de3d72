//! The crash campaign: `redliner check` killed with SIGKILL at points spread
//! over a whole run (start-up, fetch, extraction and diff, staging, rename,
//! commit, feed writing, delivery), each kill followed by checks of what it
//! left and by an unkilled run that must repair it.
//!
//! A local server serves a page whose content changes before every run, so
//! every run is a real change; a local webhook receiver records every
//! delivery. The kill delays are a deterministic low-discrepancy spread over
//! the duration of the latest unkilled run that stored a revision (measured as
//! the campaign goes, since the history and so the feeds grow). Which phase a
//! kill hit is read from what it left behind, and printed as figures
//! (`cargo test --test integration crash -- --nocapture`).
//!
//! `REDLINER_CRASH_RUNS=N` runs N kills instead of the default
//! [`DEFAULT_RUNS`].

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::harness::Test;

/// Kills in a default run of the campaign (CI).
const DEFAULT_RUNS: usize = 50;
/// Sections of the page: enough text that extraction, diff, staging and the
/// feeds each take measurable time in a debug build.
const SECTIONS: usize = 16;
/// The body is sent in this many pieces, [`DRIP`] apart, so the fetch is a
/// phase of its own.
const PIECES: usize = 6;
const DRIP: Duration = Duration::from_millis(15);
const TARGET: &str = "crash";

/// The page at `version`: the same long text, with one sentence naming the
/// version moving from section to section, so consecutive versions differ
/// (a real change every run) and no version repeats (never a revert).
fn page(version: usize) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html><head><title>Crash campaign</title></head><body>\
         <header><nav><a href=\"/\">Home</a></nav></header><main><h1>Crash campaign page</h1>",
    );
    for s in 0..SECTIONS {
        html.push_str(&format!("<h2>Section {s} on relations</h2>"));
        for p in 0..3 {
            html.push_str(&format!(
                "<p>Paragraph {p} of section {s}: the alliance and its partner hold regular \
                 political dialogue and practical cooperation in areas of common interest, \
                 including civil preparedness, defence reform and science for peace.</p>"
            ));
        }
        if s == version % SECTIONS {
            html.push_str(&format!(
                "<p>Revision marker {version}: the council agreed a new text today.</p>"
            ));
        }
    }
    html.push_str("</main><footer>Footer</footer></body></html>");
    html
}

/// One request the page server answered.
#[derive(Debug, Clone, Copy)]
struct Served {
    /// The whole body was written to the socket.
    complete: bool,
}

/// A page server that sends its body slowly ([`PIECES`] pieces, [`DRIP`]
/// apart) and records whether each body went out whole.
struct PageServer {
    port: u16,
    body: Arc<Mutex<Vec<u8>>>,
    served: Arc<Mutex<Vec<Served>>>,
}

impl PageServer {
    fn start() -> PageServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let body = Arc::new(Mutex::new(Vec::new()));
        let served = Arc::new(Mutex::new(Vec::new()));
        let (b, s) = (body.clone(), served.clone());
        thread::spawn(move || {
            for sock in listener.incoming() {
                let Ok(sock) = sock else { continue };
                let (b, s) = (b.clone(), s.clone());
                thread::spawn(move || serve(sock, &b, &s));
            }
        });
        PageServer { port, body, served }
    }

    fn set(&self, html: String) {
        *self.body.lock().unwrap() = html.into_bytes();
    }

    fn served(&self) -> Vec<Served> {
        self.served.lock().unwrap().clone()
    }
}

fn serve(mut sock: TcpStream, body: &Mutex<Vec<u8>>, served: &Mutex<Vec<Served>>) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let index = {
        let mut s = served.lock().unwrap();
        s.push(Served { complete: false });
        s.len() - 1
    };
    let body = body.lock().unwrap().clone();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if sock.write_all(head.as_bytes()).is_err() {
        return;
    }
    for piece in body.chunks(body.len().div_ceil(PIECES).max(1)) {
        thread::sleep(DRIP);
        if sock.write_all(piece).is_err() {
            return;
        }
    }
    let _ = sock.flush();
    served.lock().unwrap()[index].complete = true;
}

/// A webhook receiver recording each delivery's `Idempotency-Key`.
struct Receiver {
    port: u16,
    keys: Arc<Mutex<Vec<String>>>,
    server: Arc<tiny_http::Server>,
}

impl Receiver {
    fn start() -> Receiver {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let keys = Arc::new(Mutex::new(Vec::new()));
        let (s, k) = (server.clone(), keys.clone());
        thread::spawn(move || {
            for mut req in s.incoming_requests() {
                let mut body = Vec::new();
                let _ = req.as_reader().read_to_end(&mut body);
                let key = req
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Idempotency-Key"))
                    .map(|h| h.value.to_string())
                    .unwrap_or_default();
                k.lock().unwrap().push(key);
                let _ = req.respond(tiny_http::Response::from_string("ok"));
            }
        });
        Receiver { port, keys, server }
    }

    fn keys(&self) -> Vec<String> {
        self.keys.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// The campaign's world: a temp dir, a store, the page server, the receiver.
struct World {
    dir: tempfile::TempDir,
    pages: PageServer,
    hook: Receiver,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let pages = PageServer::start();
        let hook = Receiver::start();
        let config = format!(
            "[settings]\ntimeout = \"20s\"\nretries = 0\nmin_host_delay = \"0s\"\n\
             confirm_after = \"0s\"\nlock_wait = \"20s\"\ndelivery_backoff = \"1s\"\n\
             delivery_backoff_max = \"2s\"\n\n\
             [[channel]]\nid = \"hook\"\nkind = \"webhook\"\nurl_env = \"CRASH_HOOK_URL\"\ntimeout = \"1s\"\n\n\
             [[target]]\nid = \"{TARGET}\"\nurl = \"http://127.0.0.1:{}/page\"\nchannels = [\"hook\"]\n",
            pages.port
        );
        std::fs::write(dir.path().join("redliner.toml"), config).unwrap();
        World { dir, pages, hook }
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn command(&self, args: &[&str]) -> StdCommand {
        let mut cmd = StdCommand::new(assert_cmd::cargo::cargo_bin("redliner"));
        cmd.current_dir(self.dir.path())
            .env_remove("REDLINER_CONFIG")
            .env_remove("REDLINER_STORE")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env(
                "CRASH_HOOK_URL",
                format!("http://127.0.0.1:{}/hook", self.hook.port),
            )
            .arg("--config")
            .arg(self.dir.path().join("redliner.toml"))
            .arg("--store")
            .arg(self.store())
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    /// An unkilled run of `args`; panics unless it exits 0. Returns its
    /// duration.
    fn run_ok(&self, args: &[&str], what: &str) -> Duration {
        self.run_timed(args, what).0
    }

    /// An unkilled run of `args`; panics unless it exits 0. Returns its
    /// duration, and when its snapshot staging directory first appeared (the
    /// store writes begin), watched every 2 ms.
    fn run_timed(&self, args: &[&str], what: &str) -> (Duration, Option<Duration>) {
        let target_dir = self.store().join(TARGET);
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let start = Instant::now();
        let watcher = {
            let done = done.clone();
            thread::spawn(move || {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let staging = std::fs::read_dir(&target_dir).is_ok_and(|rd| {
                        rd.flatten().any(|e| {
                            e.file_name()
                                .to_string_lossy()
                                .starts_with(".tmp-snapshot-")
                        })
                    });
                    if staging {
                        return Some(start.elapsed());
                    }
                    thread::sleep(Duration::from_millis(2));
                }
                None
            })
        };
        let out = self.command(args).output().unwrap();
        let took = start.elapsed();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let staging = watcher.join().unwrap();
        assert!(
            out.status.success(),
            "{what}: `{}` exited {:?}: {}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        (took, staging)
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.store().join("redliner.sqlite")).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// The newest revision's `created_at`, as a system time.
    fn newest_revision(&self) -> Option<SystemTime> {
        let text: Option<String> = self
            .db()
            .query_row(
                "SELECT created_at FROM revisions ORDER BY created_at DESC, id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .ok();
        text.map(|t| SystemTime::from(t.parse::<jiff::Timestamp>().unwrap()))
    }
}

/// Temp entries (`.tmp*`) in the root, the target dir and the snapshot dirs.
fn temp_entries(store: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![(store.to_path_buf(), 0)];
    while let Some((dir, depth)) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp") {
                found.push(e.path());
            } else if e.path().is_dir() && !name.starts_with('.') && depth < 2 {
                dirs.push((e.path(), depth + 1));
            } else if depth == 0 && name == ".raw" {
                // Raw bodies are written through temp files in `.raw/`.
                dirs.push((e.path(), 2));
            }
        }
    }
    found.sort();
    found
}

/// Visible snapshot directories of the target, as `target/dir`.
fn snapshot_dirs(store: &Path) -> BTreeSet<String> {
    std::fs::read_dir(store.join(TARGET))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .map(|n| format!("{TARGET}/{n}"))
                .collect()
        })
        .unwrap_or_default()
}

/// What must hold after any kill, before any repair: the index is sound and
/// every snapshot it names is whole on disk.
fn assert_sound(w: &World, what: &str) {
    let db = w.db();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok", "{what}: integrity_check");
    let fk: i64 = db
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0, "{what}: foreign keys");
    let mut st = db
        .prepare(
            "SELECT s.dir, EXISTS(SELECT 1 FROM revisions r WHERE r.new_snapshot_id = s.id),
                    s.raw_path
             FROM snapshots s",
        )
        .unwrap();
    let rows: Vec<(String, bool, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (dir, has_revision, raw) in rows {
        let raw = w.store().join(raw);
        let body = std::fs::read(&raw)
            .ok()
            .and_then(|zst| zstd::decode_all(&zst[..]).ok());
        assert!(
            body.is_some_and(|b| b.starts_with(b"<!DOCTYPE html>") && b.ends_with(b"</html>")),
            "{what}: indexed snapshot `{dir}`: raw body `{}` unreadable",
            raw.display()
        );
        let path = w.store().join(&dir);
        let mut want = vec!["document.json.zst", "document.md"];
        if has_revision {
            want.push("redline.md");
        }
        for f in want {
            assert!(
                path.join(f).is_file(),
                "{what}: indexed snapshot `{dir}` lacks `{f}`"
            );
        }
    }
}

/// What must hold after an unkilled run: [`assert_sound`], nothing
/// half-written anywhere, no unindexed snapshot directory, `version` stored
/// exactly once as the newest of `version + 1` snapshots, and both feeds
/// written after the newest revision, holding it.
fn assert_repaired(w: &World, version: usize, what: &str) {
    assert_sound(w, what);
    let temps = temp_entries(&w.store());
    assert!(temps.is_empty(), "{what}: temp files left: {temps:?}");
    let db = w.db();
    let mut st = db.prepare("SELECT dir FROM snapshots").unwrap();
    let indexed: BTreeSet<String> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let on_disk = snapshot_dirs(&w.store());
    assert_eq!(on_disk, indexed, "{what}: snapshot dirs on disk vs index");
    assert_eq!(
        w.count("SELECT COUNT(*) FROM snapshots"),
        version as i64 + 1,
        "{what}: one snapshot per version"
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM revisions WHERE technical = 0"),
        version as i64,
        "{what}: one revision per change"
    );
    let marker = format!("Revision marker {version}");
    let (newest_doc, captured_at) = db
        .query_row(
            "SELECT dir, captured_at FROM snapshots ORDER BY captured_at DESC, id DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )
        .unwrap();
    // The newest revision's feed entry (see `report::atom::entry_id`).
    let entry = format!(
        "urn:redliner:{TARGET}:revision:{}",
        captured_at.parse::<jiff::Timestamp>().unwrap()
    );
    let doc = std::fs::read_to_string(w.store().join(&newest_doc).join("document.md")).unwrap();
    assert!(
        doc.contains(&marker),
        "{what}: newest snapshot is not version {version}"
    );
    let newest = w.newest_revision();
    for feed in [
        w.store().join(TARGET).join("feed.atom"),
        w.store().join("feed.atom"),
    ] {
        if version == 0 {
            continue;
        }
        let written = std::fs::metadata(&feed)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{what}: {}: {e}", feed.display()));
        assert!(
            Some(written) >= newest,
            "{what}: {} older than the newest revision",
            feed.display()
        );
        let text = std::fs::read_to_string(&feed).unwrap();
        assert!(
            text.contains(&entry),
            "{what}: {} lacks the newest revision",
            feed.display()
        );
    }
}

/// The phase a kill hit, read from what it left (see the module docs).
fn phase(w: &World, before: &Before, served_before: usize, exited: bool) -> &'static str {
    if exited {
        return "after exit (no kill)";
    }
    let served = w.pages.served();
    let ours = &served[served_before.min(served.len())..];
    let Some(last) = ours.last() else {
        return "start-up (before the request)";
    };
    if !last.complete {
        return "fetch (body in flight)";
    }
    let target_dir = w.store().join(TARGET);
    let temps = temp_entries(&w.store());
    if temps.iter().any(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".tmp-snapshot-"))
    }) {
        return "staging (snapshot files)";
    }
    let snapshots = w.count("SELECT COUNT(*) FROM snapshots");
    if snapshots == before.snapshots {
        let dirs = snapshot_dirs(&w.store());
        return if dirs.len() as i64 > before.snapshots {
            "renamed, not committed"
        } else {
            "extract, diff, render (before staging)"
        };
    }
    if temps
        .iter()
        .any(|p| p.parent() == Some(target_dir.as_path()))
    {
        return "target feed write";
    }
    if temps
        .iter()
        .any(|p| p.parent() == Some(w.store().as_path()))
    {
        return "all-targets feed write";
    }
    let newest = w.newest_revision();
    let fresh = |p: PathBuf| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .is_ok_and(|m| Some(m) >= newest)
    };
    if !fresh(target_dir.join("feed.atom")) {
        return "committed, target feed not written";
    }
    if !fresh(w.store().join("feed.atom")) {
        return "committed, all-targets feed not written";
    }
    let delivered =
        w.count("SELECT COUNT(*) FROM alerts WHERE kind = 'revision' AND state = 'delivered'");
    if delivered == before.delivered {
        return "delivery";
    }
    "after delivery (exiting)"
}

/// Counts taken before a killed run.
struct Before {
    snapshots: i64,
    delivered: i64,
}

/// Kill fractions: the golden-ratio sequence, a deterministic spread over
/// (0, 1) that stays even however many runs are asked for.
fn fraction(i: usize) -> f64 {
    ((i as f64 + 0.5) * 0.618_033_988_749_895).fract()
}

#[test]
fn check_killed_at_any_point_loses_nothing_and_leaves_nothing() {
    let runs = std::env::var("REDLINER_CRASH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_RUNS);
    let w = World::new();
    let campaign = Instant::now();

    // The baseline and a first revision, unkilled; the second run's
    // duration is the first measure of a whole run.
    w.pages.set(page(0));
    w.run_ok(&["check"], "baseline");
    assert_repaired(&w, 0, "baseline");
    w.pages.set(page(1));
    let (mut whole, staging) = w.run_timed(&["check"], "first revision");
    // Where the store writes begin: the kills are spread over the whole run
    // and, every other one, over its tail from there (staging, rename,
    // commit, feeds, delivery), which is short but where a kill can do harm.
    let mut writes_at = staging.unwrap_or(whole / 2);
    // The median of the latest measures: one slow run (a loaded machine)
    // would push the kills past the end of the next ones.
    let mut measures = std::collections::VecDeque::from([(whole, writes_at)]);
    assert_repaired(&w, 1, "first revision");

    let mut phases: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut version = 1;
    for i in 0..runs {
        version += 1;
        w.pages.set(page(version));
        let before = Before {
            snapshots: w.count("SELECT COUNT(*) FROM snapshots"),
            delivered: w.count(
                "SELECT COUNT(*) FROM alerts WHERE kind = 'revision' AND state = 'delivered'",
            ),
        };
        let served_before = w.pages.served().len();
        // A little past the end of a whole run, so the exit is hit too.
        let delay = if i % 2 == 0 {
            whole.mul_f64(fraction(i / 2) * 0.97)
        } else {
            // From a little before the staging directory appears to a
            // little past the end.
            let from = writes_at.saturating_sub(Duration::from_millis(20));
            from + (whole.saturating_sub(from)).mul_f64(fraction(i / 2) * 0.97)
        };
        let mut child = w
            .command(&["check"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        thread::sleep(delay);
        let exited = child.try_wait().unwrap();
        // SIGKILL on Unix.
        let _ = child.kill();
        let _ = child.wait();
        let what = format!(
            "kill {i} at {} ms of {} ms (version {version})",
            delay.as_millis(),
            whole.as_millis()
        );
        assert_sound(&w, &what);
        let hit = phase(&w, &before, served_before, exited.is_some());
        *phases.entry(hit).or_default() += 1;
        if std::env::var_os("REDLINER_CRASH_VERBOSE").is_some() {
            println!("{what}: {hit}");
        }

        if let Some(status) = exited {
            // The run ended before the kill: it was an unkilled run.
            assert!(status.success(), "{what}: the run exited {status}");
            assert_repaired(&w, version, &format!("{what} [{hit}]"));
            continue;
        }
        let stored_before = w.count("SELECT COUNT(*) FROM snapshots");
        let (took, staging) = w.run_timed(&["check"], &format!("{what}, next run"));
        if w.count("SELECT COUNT(*) FROM snapshots") > stored_before {
            measures.push_back((took, staging.unwrap_or(writes_at)));
            if measures.len() > 5 {
                measures.pop_front();
            }
            let mut sorted: Vec<_> = measures.iter().copied().collect();
            sorted.sort();
            (whole, writes_at) = sorted[sorted.len() / 2];
        }
        assert_repaired(&w, version, &format!("{what} [{hit}], after the next run"));
    }

    // Every revision: exactly one alert row on the channel, delivered (an
    // alert whose run died mid-send waits out its lease, then is sent again
    // with the same key: receivers drop the repeat).
    let lease_until: Option<String> = w
        .db()
        .query_row(
            "SELECT MAX(lease_until) FROM alerts WHERE state = 'sending'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if let Some(until) = lease_until {
        let until = SystemTime::from(until.parse::<jiff::Timestamp>().unwrap());
        if let Ok(wait) = until.duration_since(SystemTime::now()) {
            thread::sleep(wait + Duration::from_millis(100));
        }
    }
    w.run_ok(&["alerts", "--retry"], "final retry");
    let revisions = w.count("SELECT COUNT(*) FROM revisions WHERE technical = 0");
    assert_eq!(revisions, version as i64);
    assert_eq!(
        w.count(
            "SELECT COUNT(*) FROM revisions r WHERE r.technical = 0 AND (SELECT COUNT(*) FROM alerts a
             WHERE a.revision_id = r.id AND a.channel_id = 'hook') = 1"
        ),
        revisions,
        "one alert row per revision"
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM alerts WHERE kind <> 'revision'"),
        0,
        "no other alerts (no check failed)"
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM alerts WHERE state <> 'delivered'"),
        0,
        "every alert delivered"
    );
    let db = w.db();
    let mut st = db.prepare("SELECT idempotency_key FROM alerts").unwrap();
    let keys: BTreeSet<String> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let received = w.hook.keys();
    let distinct: BTreeSet<String> = received.iter().cloned().collect();
    assert_eq!(
        distinct, keys,
        "the receiver got each alert, and only those"
    );

    let mut figures = format!(
        "crash campaign: {runs} runs ({} killed mid-run, the others ended first), {} revisions, {} deliveries for {} alerts ({} repeats \
         with the same key after a kill mid-send), {:.1} s; phases hit:",
        runs - phases.get("after exit (no kill)").copied().unwrap_or(0),
        version,
        received.len(),
        keys.len(),
        received.len() - distinct.len(),
        campaign.elapsed().as_secs_f64()
    );
    for (phase, n) in &phases {
        figures.push_str(&format!("\n  {n:>4}  {phase}"));
    }
    println!("{figures}");
    assert!(
        phases.len() >= 3,
        "kills should spread over the run: {figures}"
    );
}

/// Sets a file's modification time.
fn set_mtime(path: &Path, at: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(at)
        .unwrap();
}

/// A kill during the Atom feed write left `.tmpXXXXXX` files (up to 185 KB)
/// in the store that no run removed. The state such a kill leaves is set up
/// exactly: a half-written feed under the store's temp name beside each feed,
/// an older build's `.tmpXXXXXX` leftovers, hours old, and no clean mark
/// (the store removes it before it writes).
#[test]
fn kill_during_the_atom_feed_write_leaves_no_temp_file_after_the_next_run() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    t.serve("nato-belarus/v2-reworded.html");
    assert_eq!(t.run(&["check"]).code, 0);
    // Feed files: a store in PostgreSQL writes none.
    if !t.files_on_disk() {
        return;
    }
    let store = t.store();
    let target = store.join("nato-belarus");
    let feed = std::fs::read(target.join("feed.atom")).unwrap();
    let half = &feed[..feed.len() / 2];
    let old = SystemTime::now() - Duration::from_secs(3 * 3600);
    let left = [
        (target.join(".tmp-redliner-Ab12Cd"), None),
        (store.join(".tmp-redliner-Ef34Gh"), None),
        (target.join(".tmpXk81Qz"), Some(old)),
        (store.join(".tmpP0o9Iu"), Some(old)),
    ];
    for (path, mtime) in &left {
        std::fs::write(path, half).unwrap();
        if let Some(at) = mtime {
            set_mtime(path, *at);
        }
    }
    unsettle(&store);
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(temp_entries(&store), Vec::<PathBuf>::new());
    assert_eq!(std::fs::read(target.join("feed.atom")).unwrap(), feed);
}

/// Removes the store's clean mark, as every kill after the first write
/// leaves it (see `store::settle`).
fn unsettle(store: &Path) {
    std::fs::remove_file(store.join(".clean")).unwrap();
}

/// A kill between the commit and the feed refresh left the feed without the
/// newest revision until the next change. The state is set up exactly: the
/// revision committed, both feeds as they were before it, no clean mark.
#[test]
fn kill_between_commit_and_feed_refresh_gets_the_feed_rebuilt_by_the_next_run() {
    let t = Test::new();
    let store = t.store();
    let feeds = [
        store.join("nato-belarus").join("feed.atom"),
        store.join("feed.atom"),
    ];
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    t.serve("nato-belarus/v2-reworded.html");
    assert_eq!(t.run(&["check"]).code, 0);
    // Feed files: a store in PostgreSQL writes none.
    if !t.files_on_disk() {
        return;
    }
    let old: Vec<(Vec<u8>, SystemTime)> = feeds
        .iter()
        .map(|f| {
            let m = std::fs::metadata(f).unwrap().modified().unwrap();
            (std::fs::read(f).unwrap(), m)
        })
        .collect();
    t.serve("nato-belarus/v3-section-added.html");
    assert_eq!(t.run(&["check"]).code, 0);
    let new: Vec<Vec<u8>> = feeds.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_ne!(new, old.iter().map(|o| o.0.clone()).collect::<Vec<_>>());
    for (f, (bytes, mtime)) in feeds.iter().zip(&old) {
        std::fs::write(f, bytes).unwrap();
        set_mtime(f, *mtime);
    }
    unsettle(&store);
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(t.count("revisions"), 2, "the next run stored nothing new");
    let rebuilt: Vec<Vec<u8>> = feeds.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(rebuilt, new, "both feeds hold the newest revision again");

    // A missing feed (a kill before the first was written) is rebuilt the
    // same way.
    for f in &feeds {
        std::fs::remove_file(f).unwrap();
    }
    unsettle(&store);
    assert_eq!(t.run(&["check"]).code, 0);
    let rebuilt: Vec<Vec<u8>> = feeds.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(rebuilt, new);
}
