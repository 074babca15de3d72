//! Workers sharing one PostgreSQL store: three `watch` processes, 200 targets
//! on 10 loopback hosts (127.0.0.1 to 127.0.0.10), two alert channels, one
//! worker killed with SIGKILL mid-run and a `check --due` from "cron"
//! joining in. The page servers log when each request started and ended;
//! the webhook receiver logs every delivery's idempotency key.
//!
//! Runs when `REDLINER_TEST_POSTGRES` names a server (CI sets it; see
//! `.ci/postgres`), whichever backend the rest of the suite is on.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::harness::PgDb;

const HOSTS: usize = 10;
const TARGETS: usize = 200;
/// Each target's schedule.
const EVERY: Duration = Duration::from_secs(3);
const LEASE: Duration = Duration::from_secs(2);
const MIN_HOST_DELAY: Duration = Duration::from_millis(100);
/// How long a page server takes to answer: long enough that two requests
/// to one host at once would overlap in its log.
const SERVE_TIME: Duration = Duration::from_millis(15);

/// One request a page server answered, in the test process's clock.
#[derive(Debug, Clone)]
struct Served {
    start: Instant,
    end: Instant,
}

/// A page server on one loopback address: every path `/t<N>` is a notice
/// whose text carries the current version; each request is answered on a
/// thread of its own, so that overlapping requests would overlap in the log.
struct Host {
    addr: String,
    log: Arc<Mutex<Vec<Served>>>,
    in_flight: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
    server: Arc<tiny_http::Server>,
}

impl Host {
    fn start(ip: &str, version: Arc<AtomicU32>) -> Host {
        let server = Arc::new(tiny_http::Server::http(format!("{ip}:0")).expect("bind loopback"));
        let addr = server.server_addr().to_ip().unwrap().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most_at_once = Arc::new(AtomicUsize::new(0));
        let (s, l, f, m) = (
            server.clone(),
            log.clone(),
            in_flight.clone(),
            most_at_once.clone(),
        );
        thread::spawn(move || {
            for req in s.incoming_requests() {
                let start = Instant::now();
                let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                let (l, f, v) = (l.clone(), f.clone(), version.clone());
                thread::spawn(move || {
                    thread::sleep(SERVE_TIME);
                    let page = notice(req.url(), v.load(Ordering::SeqCst));
                    let response = tiny_http::Response::from_string(page).with_header(
                        "Content-Type: text/html; charset=utf-8"
                            .parse::<tiny_http::Header>()
                            .unwrap(),
                    );
                    let _ = req.respond(response);
                    f.fetch_sub(1, Ordering::SeqCst);
                    l.lock().unwrap().push(Served {
                        start,
                        end: Instant::now(),
                    });
                });
            }
        });
        Host {
            addr,
            log,
            in_flight,
            most_at_once,
            server,
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// The page at `path` in `version`: enough text to pass the extraction's
/// minimum, and different in every version.
fn notice(path: &str, version: u32) -> String {
    format!(
        "<!doctype html><html><head><title>Notice {path}</title></head><body>\
         <header><nav>Home · Notices</nav></header><main><h1>Notice {path}</h1>\
         <h2>Terms</h2><p>This notice sets out the terms that apply to the service \
         described at {path}. It is published so that the public may read it, and it is \
         revised when the rules change. This is version {version} of the notice.</p>\
         <h2>Contact</h2><p>Questions about notice {path} go to the office that \
         published it, by post or by e-mail, within thirty days of publication.</p>\
         </main><footer>© The Office</footer></body></html>"
    )
}

/// A webhook receiver logging every delivery's `Idempotency-Key` and path.
struct Receiver {
    port: u16,
    keys: Arc<Mutex<Vec<(String, String)>>>,
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
                k.lock().unwrap().push((req.url().to_string(), key));
                let _ = req.respond(tiny_http::Response::from_string("ok"));
            }
        });
        Receiver { port, keys, server }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// A `watch` worker, its stderr kept in a file of the temp dir.
fn spawn_watch(dir: &std::path::Path, db: &str, hook: u16, n: usize) -> Child {
    let log = std::fs::File::create(dir.join(format!("watch-{n}.log"))).unwrap();
    redliner(dir, db, hook)
        .args(["watch", "-v"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn redliner(dir: &std::path::Path, db: &str, hook: u16) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redliner"));
    cmd.current_dir(dir)
        .env_remove("REDLINER_CONFIG")
        .env_remove("REDLINER_STORE")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("HOOK_URL", format!("http://127.0.0.1:{hook}/hook"))
        .env("DESK_URL", format!("http://127.0.0.1:{hook}/desk"))
        .arg("--config")
        .arg(dir.join("redliner.toml"))
        .arg("--store")
        .arg(db);
    cmd
}

fn workers_json(dir: &std::path::Path, db: &str, hook: u16) -> Vec<serde_json::Value> {
    let out = redliner(dir, db, hook)
        .args(["workers", "--all", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "workers: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Waits until every target was checked since `since` (a time as the store
/// writes it) and every alert is delivered.
fn wait_for_version(conn: &redliner::store::db::Connection, since: &str, what: &str) {
    let waited = Instant::now();
    loop {
        let (seen, pending): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT count(DISTINCT target_id) FROM checks WHERE started_at > ?1),
                        (SELECT count(*) FROM alerts WHERE state <> 'delivered')",
                [since],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        if seen == TARGETS as i64 && pending == 0 {
            return;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "{what} not seen and alerted: {seen} targets checked since, {pending} alerts pending"
        );
        thread::sleep(Duration::from_millis(100));
    }
}

fn sleep_until(t0: Instant, at: Duration) {
    if let Some(d) = at.checked_sub(t0.elapsed()) {
        thread::sleep(d);
    }
}

#[test]
fn three_workers_share_200_targets_on_10_hosts_and_survive_a_kill() {
    if std::env::var_os("REDLINER_TEST_POSTGRES").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "REDLINER_TEST_POSTGRES is not set: CI runs the workers test (.ci/postgres)"
        );
        eprintln!("skipped: REDLINER_TEST_POSTGRES is not set");
        return;
    }
    let pg = PgDb::new();
    let dir = tempfile::tempdir().unwrap();
    let version = Arc::new(AtomicU32::new(1));
    let hosts: Vec<Host> = (1..=HOSTS)
        .map(|i| Host::start(&format!("127.0.0.{i}"), version.clone()))
        .collect();
    let hook = Receiver::start();
    let mut config = format!(
        "[settings]\ntimeout = \"5s\"\nretries = 0\nconfirm_after = \"0s\"\n\
         min_host_delay = \"{}ms\"\nlease = \"{}s\"\nlock_wait = \"20s\"\n\
         delivery_backoff = \"1s\"\n\n\
         [[channel]]\nid = \"hook\"\nkind = \"webhook\"\nurl_env = \"HOOK_URL\"\ntimeout = \"2s\"\n\n\
         [[channel]]\nid = \"desk\"\nkind = \"webhook\"\nurl_env = \"DESK_URL\"\ntimeout = \"2s\"\n",
        MIN_HOST_DELAY.as_millis(),
        LEASE.as_secs(),
    );
    for n in 0..TARGETS {
        config.push_str(&format!(
            "\n[[target]]\nid = \"t{n:03}\"\nurl = \"http://{}/t{n}\"\nevery = \"{}s\"\n\
             channels = [\"hook\", \"desk\"]\n",
            hosts[n % HOSTS].addr,
            EVERY.as_secs()
        ));
    }
    std::fs::write(dir.path().join("redliner.toml"), config).unwrap();
    let db = pg.url.as_str();

    // t0: three workers start; every target is due at once (baseline, v1).
    let t0 = Instant::now();
    let mut workers: Vec<Child> = (0..3)
        .map(|n| spawn_watch(dir.path(), db, hook.port, n))
        .collect();
    // Just before the second round is due: every page changes (v2), so
    // the second round finds 200 revisions and queues 400 alerts.
    sleep_until(t0, Duration::from_millis(2900));
    version.store(2, Ordering::SeqCst);
    let flipped = Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    // A `check --due` from cron joins in while the workers run.
    sleep_until(t0, Duration::from_millis(6500));
    let cron = redliner(dir.path(), db, hook.port)
        .args(["check", "--due", "-q"])
        .output()
        .unwrap();
    assert!(
        cron.status.code() == Some(0),
        "check --due: {}",
        String::from_utf8_lossy(&cron.stderr)
    );
    // Mid-run, once every target was checked at v2 and the alerts that
    // raised are delivered (so that none is being sent by the worker
    // killed): one worker killed.
    let conn = redliner::store::db::Connection::postgres(
        redliner::store::db::postgres::PgConnection::connect(
            &redliner::store::db::postgres::PgTarget {
                url: pg.url.clone(),
                password: None,
            },
        )
        .unwrap(),
    );
    wait_for_version(&conn, &flipped, "v2");
    sleep_until(t0, Duration::from_millis(7500));
    let tk = Instant::now();
    let killed_pid = i64::from(workers[2].id());
    let before = workers_json(dir.path(), db, hook.port);
    let killed = before
        .iter()
        .find(|w| w["pid"] == killed_pid && w["state"] == "running")
        .unwrap_or_else(|| panic!("worker {killed_pid} not listed: {before:?}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let running = before.iter().filter(|w| w["state"] == "running").count();
    assert!(running >= 3, "three workers running: {before:?}");
    workers[2].kill().unwrap();
    workers[2].wait().unwrap();
    let killed_at = Timestamp::now();
    // Its leases run out; the others take its targets.
    sleep_until(tk, LEASE + Duration::from_millis(1500));
    let after = workers_json(dir.path(), db, hook.port);
    let row = after.iter().find(|w| w["id"] == killed.as_str()).unwrap();
    assert_eq!(row["state"], "lost", "{after:?}");
    assert_eq!(
        row["leases"], 0,
        "the killed worker's leases ran out: {after:?}"
    );
    // Another change (v3), found by the two left.
    sleep_until(tk, Duration::from_millis(4400));
    version.store(3, Ordering::SeqCst);
    let flipped = Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    wait_for_version(&conn, &flipped, "v3");
    // One more round, for the gaps between checks.
    thread::sleep(EVERY);
    for w in &workers[..2] {
        // SIGTERM: a graceful stop (the checks in flight finish, alerts are
        // sent, leases given back).
        assert_eq!(unsafe { libc::kill(w.id() as i32, libc::SIGTERM) }, 0);
    }
    for w in &mut workers[..2] {
        let status = w.wait().unwrap();
        assert!(status.success(), "a worker stopped with {status:?}");
    }
    let stopped = workers_json(dir.path(), db, hook.port);
    let watch_states: Vec<&serde_json::Value> = stopped
        .iter()
        .filter(|w| w["command"] == "watch")
        .map(|w| &w["state"])
        .collect();
    assert_eq!(watch_states.len(), 3, "{stopped:?}");
    assert_eq!(
        watch_states.iter().filter(|s| **s == "stopped").count(),
        2,
        "{stopped:?}"
    );
    assert!(
        stopped.iter().any(|w| w["command"] == "check"
            && w["state"] == "stopped"
            && w["checks"].as_i64() > Some(0)),
        "check --due took part: {stopped:?}"
    );
    for (n, w) in stopped.iter().enumerate() {
        if w["state"] == "stopped" {
            assert_eq!(
                w["leases"], 0,
                "worker {n} gave its leases back: {stopped:?}"
            );
        }
    }

    let logs: String = (0..3)
        .map(|n| std::fs::read_to_string(dir.path().join(format!("watch-{n}.log"))).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n");

    // Every target checked once per due time: never again before its
    // schedule says, never left waiting for long (the killed worker's
    // targets included), and checked after the kill.
    let checks: Vec<(String, String, String)> = conn
        .query_vec(
            "SELECT target_id, started_at, outcome FROM checks ORDER BY target_id, started_at",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let failed: Vec<_> = checks.iter().filter(|c| c.2 == "failed").collect();
    assert!(failed.is_empty(), "failed checks: {failed:?}\n{logs}");
    let mut by_target: std::collections::BTreeMap<&str, Vec<Timestamp>> = Default::default();
    for (target, started, _) in &checks {
        by_target
            .entry(target)
            .or_default()
            .push(started.parse().unwrap());
    }
    assert_eq!(by_target.len(), TARGETS, "every target checked");
    let every = jiff::SignedDuration::try_from(EVERY).unwrap();
    // A target of the killed worker waits for its lease; on a loaded
    // machine a round of a host's 20 targets takes a few seconds more.
    let longest =
        every + jiff::SignedDuration::try_from(LEASE).unwrap() + jiff::SignedDuration::from_secs(6);
    for (target, starts) in &by_target {
        assert!(starts.len() >= 3, "{target} checked {} times", starts.len());
        for pair in starts.windows(2) {
            let gap = pair[1].duration_since(pair[0]);
            assert!(
                gap >= every,
                "{target} checked twice for one due time: {} then {}\n{}",
                pair[0],
                pair[1],
                logs.lines()
                    .filter(|l| l.contains(*target) || l.contains("---"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            assert!(
                gap <= longest,
                "{target} waited {gap:#} between checks ({} to {})",
                pair[0],
                pair[1]
            );
        }
        assert!(
            starts.last().is_some_and(|&t| t > killed_at),
            "{target} not checked after the kill"
        );
    }

    // No duplicate snapshot: each version of a page stored once.
    let dup: Vec<(String, i64, i64)> = conn
        .query_vec(
            "SELECT target_id, count(*), count(DISTINCT document_sha256) FROM snapshots
              GROUP BY target_id ORDER BY target_id",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(dup.len(), TARGETS);
    for (target, snapshots, distinct) in &dup {
        assert_eq!(snapshots, distinct, "{target}: a version stored twice");
        assert!(*snapshots >= 2, "{target}: {snapshots} snapshots");
    }

    // Exactly one alert per revision and channel, each delivered once.
    let revisions: i64 = conn
        .query_row("SELECT count(*) FROM revisions", (), |r| r.get(0))
        .unwrap();
    assert!(revisions >= TARGETS as i64, "{revisions} revisions");
    let per_channel: Vec<(String, i64, i64)> = conn
        .query_vec(
            "SELECT channel_id, count(*), count(DISTINCT revision_id) FROM alerts
              WHERE kind = 'revision' GROUP BY channel_id ORDER BY channel_id",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        per_channel,
        vec![
            ("desk".to_string(), revisions, revisions),
            ("hook".to_string(), revisions, revisions)
        ]
    );
    let undelivered: i64 = conn
        .query_row(
            "SELECT count(*) FROM alerts WHERE state <> 'delivered'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(undelivered, 0, "every alert delivered\n{logs}");
    let keys = hook.keys.lock().unwrap().clone();
    let distinct: std::collections::BTreeSet<&(String, String)> = keys.iter().collect();
    assert_eq!(keys.len(), distinct.len(), "an alert sent twice");
    assert_eq!(keys.len() as i64, 2 * revisions);

    // Never two requests to one host at once, and `min_host_delay` between
    // the end of one and the start of the next.
    let slack = Duration::from_millis(20);
    for host in &hosts {
        assert_eq!(host.in_flight.load(Ordering::SeqCst), 0);
        assert_eq!(
            host.most_at_once.load(Ordering::SeqCst),
            1,
            "{}: two requests at once",
            host.addr
        );
        let mut log = host.log.lock().unwrap().clone();
        log.sort_by_key(|s| s.start);
        for pair in log.windows(2) {
            let gap = pair[1].start.saturating_duration_since(pair[0].end);
            assert!(
                pair[1].start >= pair[0].end && gap + slack >= MIN_HOST_DELAY,
                "{}: a request {gap:?} after the last one ended",
                host.addr
            );
        }
    }
}
