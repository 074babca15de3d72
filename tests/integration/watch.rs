//! Scheduling end to end: `check --due`, the `watch` daemon (order, host delay,
//! SIGTERM), conditional GET (304, the daily unconditional fetch) and the
//! store lock, all against the scripted server on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{NATO_RULES, Reply, Test, fixture};

const PAGE: &str = "nato-belarus/v1.html";

/// A config with `settings` lines and targets `(id, schedule lines)`, each at
/// `/<id>.htm` on the test server.
fn config(t: &Test, settings: &str, targets: &[(&str, &str)]) {
    // All targets share the test server's host: no politeness delay unless the
    // test asks for one.
    let delay = if settings.contains("min_host_delay") {
        ""
    } else {
        "min_host_delay = \"0s\"\n"
    };
    let mut text =
        format!("[settings]\ntimeout = \"5s\"\nretries = 0\n{delay}{settings}\n{NATO_RULES}\n");
    for (id, schedule) in targets {
        text.push_str(&format!(
            "[[target]]\nid = \"{id}\"\nurl = \"{}\"\nrules = \"nato-topic\"\n{schedule}\n",
            t.server.url(&format!("/{id}.htm"))
        ));
    }
    t.write_config(&text);
}

/// The test's `redliner` command (see [`Test::command`]).
fn redliner(t: &Test) -> Command {
    t.command()
}

/// Paths the server saw, in order.
fn paths(t: &Test) -> Vec<String> {
    t.server.seen().into_iter().map(|s| s.path).collect()
}

/// Every file or directory under `dir` whose name starts with `.tmp`.
fn temp_entries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.file_name().unwrap().to_string_lossy().starts_with(".tmp") {
                found.push(p.clone());
            }
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    found
}

/// The integrity check passes and every snapshot row's directory exists
/// (in PostgreSQL: its document's blob).
fn assert_store_consistent(t: &Test) {
    let db = t.db();
    if t.pg.is_some() {
        t.assert_blobs_present();
        return;
    }
    let ok: String = db
        .query_row("PRAGMA integrity_check", (), |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let mut st = db.prepare("SELECT dir FROM snapshots").unwrap();
    let dirs: Vec<String> = st
        .query_map((), |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for d in dirs {
        assert!(
            t.store().join(&d).join("document.json.zst").is_file(),
            "{d}"
        );
    }
    assert_eq!(temp_entries(&t.store()), Vec::<PathBuf>::new());
}

#[test]
fn check_due_skips_a_target_checked_recently_and_checks_it_when_due() {
    let t = Test::new();
    config(
        &t,
        "",
        &[
            ("every-3s", "every = \"3s\""),
            ("hourly", "every = \"1h\""),
            ("unscheduled", ""),
        ],
    );
    t.serve(PAGE);
    let checks = |id: &str| t.count(&format!("checks WHERE target_id = '{id}'"));

    // Never checked: all due. The checks are recorded as started between
    // `first` and `first_done`.
    let first = Instant::now();
    let run = t.run(&["check", "--due"]);
    let first_done = Instant::now();
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(
        (checks("every-3s"), checks("hourly"), checks("unscheduled")),
        (1, 1, 1)
    );
    // At once again: only the unscheduled target is due.
    let run = t.run(&["check", "--due"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(
        (checks("every-3s"), checks("hourly"), checks("unscheduled")),
        (1, 1, 2)
    );
    // Three seconds after the first run the 3s target is due too; the hourly
    // one is not. Counted from the end of the first run (its checks started
    // before), with a margin for a loaded machine.
    assert!(
        first.elapsed() < Duration::from_secs(3),
        "runs too slow to test"
    );
    std::thread::sleep(Duration::from_millis(3500).saturating_sub(first_done.elapsed()));
    let run = t.run(&["check", "--due"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(
        (checks("every-3s"), checks("hourly"), checks("unscheduled")),
        (2, 1, 3)
    );
    // Plain `check` still checks everything named.
    let run = t.run(&["check", "hourly"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(checks("hourly"), 2);
    assert_eq!(
        paths(&t),
        [
            "/every-3s.htm",
            "/hourly.htm",
            "/unscheduled.htm",
            "/unscheduled.htm",
            "/every-3s.htm",
            "/unscheduled.htm",
            "/hourly.htm",
        ]
    );
}

#[test]
fn watch_once_checks_due_targets_in_config_order_with_the_host_delay() {
    let t = Test::new();
    config(
        &t,
        "min_host_delay = \"600ms\"",
        &[("a", "every = \"1h\""), ("b", ""), ("c", "every = \"1h\"")],
    );
    t.serve(PAGE);
    // `a` checked just now: not due; `b` and `c` are.
    let run = t.run(&["check", "a"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let start = Instant::now();
    let run = t.run(&["watch", "--once"]);
    let took = start.elapsed();
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(paths(&t), ["/a.htm", "/b.htm", "/c.htm"]);
    // b then c on one host: at least the host delay between them.
    assert!(took >= Duration::from_millis(600), "{took:?}");
    assert!(run.stderr.contains("b: baseline stored"), "{}", run.stderr);
    assert!(run.stderr.contains("c: baseline stored"), "{}", run.stderr);
    // --once says it exits by itself, not how to stop it.
    let store = t.store_arg();
    assert!(
        run.stderr.starts_with(&format!(
            "redliner: checking what is due now of 3 targets (store `{store}`), then exiting\n"
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("SIGINT"), "{}", run.stderr);
    assert!(
        run.stderr
            .ends_with("redliner: done: 2 checks (0 changed, 0 failed)\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn watch_runs_the_schedule_and_stops_cleanly_on_sigterm() {
    let t = Test::new();
    config(
        &t,
        "min_host_delay = \"0s\"",
        &[
            ("fast", "every = \"1s\""),
            ("slow", "every = \"1h\""),
            ("fast-jitter", "every = \"1s\"\njitter = \"300ms\""),
        ],
    );
    t.serve(PAGE);
    let mut child = redliner(&t)
        .arg("watch")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first pass and at least two more rounds of the 1s targets.
    let deadline = Instant::now() + Duration::from_secs(20);
    while t.server.seen().len() < 7 {
        assert!(Instant::now() < deadline, "seen only {:?}", paths(&t));
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "watch did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(
        stderr.contains("redliner: SIGTERM received; stopping after the checks in flight"),
        "{stderr}"
    );
    // Never-checked targets first, in config order; then only the 1s targets.
    let seen = paths(&t);
    assert_eq!(seen[..3], ["/fast.htm", "/slow.htm", "/fast-jitter.htm"]);
    assert!(
        seen[3..].iter().all(|p| p != "/slow.htm"),
        "slow checked twice: {seen:?}"
    );
    assert!(
        seen.iter().filter(|p| *p == "/fast.htm").count() >= 2,
        "{seen:?}"
    );
    // Every request was recorded as one check (nothing lost mid-way), the
    // store is consistent, and no staging file is left behind.
    assert_eq!(t.count("checks"), seen.len() as i64);
    assert_eq!(t.count("snapshots"), 3);
    assert_eq!(
        t.count("checks WHERE outcome = 'unchanged'"),
        seen.len() as i64 - 3
    );
    assert_store_consistent(&t);
    // The lock was released: a check can run now.
    let run = t.run(&["check", "slow"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
}

const ETAG: &str = "\"v1-etag\"";
const LAST_MODIFIED: &str = "Wed, 28 Aug 2024 09:27:00 GMT";

fn page_with_validators() -> Reply {
    Reply::html(fixture(PAGE))
        .header("ETag", ETAG)
        .header("Last-Modified", LAST_MODIFIED)
}

fn not_modified() -> Reply {
    Reply {
        status: 304,
        headers: vec![("ETag".into(), ETAG.into())],
        body: Vec::new(),
    }
}

/// `(If-None-Match, If-Modified-Since)` of the request number `i`.
fn validators_sent(t: &Test, i: usize) -> (Option<String>, Option<String>) {
    let seen = t.server.seen();
    let r = &seen[i];
    (
        r.header("If-None-Match").map(str::to_string),
        r.header("If-Modified-Since").map(str::to_string),
    )
}

#[test]
fn not_modified_records_a_check_and_no_snapshot() {
    let t = Test::new();
    config(&t, "", &[("page", "")]);
    t.server.reply(page_with_validators());
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(validators_sent(&t, 0), (None, None));

    t.server.reply(not_modified());
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        validators_sent(&t, 1),
        (Some(ETAG.to_string()), Some(LAST_MODIFIED.to_string()))
    );
    assert_eq!(
        t.count("checks WHERE outcome = 'not-modified' AND http_status = 304"),
        1
    );
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(t.snapshot_dirs("page").len(), 1);
    // The validators stay those of the good snapshot.
    let (etag, lm): (String, String) = t
        .db()
        .query_row("SELECT etag, last_modified FROM snapshots", (), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((etag.as_str(), lm.as_str()), (ETAG, LAST_MODIFIED));
}

#[test]
fn unconditional_fetch_once_the_last_full_fetch_is_too_old() {
    let t = Test::new();
    config(&t, "unconditional_every = \"3s\"", &[("page", "")]);
    t.server.reply(page_with_validators());
    let first = Instant::now();
    assert_eq!(t.run(&["check"]).code, 0);
    // The full fetch was made between `first` and `first_done`.
    let first_done = Instant::now();
    // Fresh full fetch: conditional, answered 304.
    t.server.reply(not_modified());
    assert_eq!(t.run(&["check"]).code, 0);
    assert_eq!(validators_sent(&t, 1).0.as_deref(), Some(ETAG));
    // A 304 does not count as a full fetch: 3s after the 200 the next GET is
    // plain (counted from the end of its run, with a margin for a loaded
    // machine).
    assert!(
        first.elapsed() < Duration::from_secs(3),
        "runs too slow to test"
    );
    std::thread::sleep(Duration::from_millis(3500).saturating_sub(first_done.elapsed()));
    t.server.reply(page_with_validators());
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(validators_sent(&t, 2), (None, None));
    // That 200 is fresh again: conditional once more.
    assert_eq!(t.run(&["check"]).code, 0);
    assert_eq!(validators_sent(&t, 3).0.as_deref(), Some(ETAG));
    let outcomes: Vec<String> = {
        let db = t.db();
        let mut st = db
            .prepare("SELECT outcome FROM checks ORDER BY id")
            .unwrap();
        st.query_map((), |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        outcomes,
        ["baseline", "not-modified", "unchanged", "unchanged"]
    );
}

#[test]
fn a_held_store_lock_makes_check_wait_then_exit_2_naming_the_holder() {
    let t = Test::new();
    config(&t, "lock_wait = \"1s\"", &[("page", "")]);
    t.serve(PAGE);
    if t.pg.is_some() {
        // In PostgreSQL the lock is an advisory lock on the database, its
        // holder named by the connection: `prune` holds it alone.
        let _held = redliner::store::lock::StoreLock::try_acquire(
            std::path::Path::new(&t.store_arg()),
            "prune",
        )
        .unwrap()
        .expect("the lock is free");
        let start = Instant::now();
        let run = t.run(&["check"]);
        assert!(start.elapsed() >= Duration::from_secs(1));
        assert_eq!(run.code, 2, "stderr: {}", run.stderr);
        assert_eq!(run.stdout, "");
        let first = run.stderr.lines().next().unwrap();
        assert!(
            first.starts_with(&format!(
                "redliner: store `{}` is locked by another redliner run",
                t.store_arg()
            )) && first.contains("redliner prune, pid")
                && first.ends_with("gave up after 1s"),
            "{first}"
        );
        assert_eq!(t.count("checks"), 0);
        return;
    }
    std::fs::create_dir_all(t.store()).unwrap();
    let lock_path = t.store().join("redliner.lock");
    // The holder's pid must be running (ours), or the message says it exited.
    let pid = std::process::id();
    std::fs::write(
        &lock_path,
        format!("pid={pid}\ncommand=watch\nsince=2026-05-01T10:00:00Z\n"),
    )
    .unwrap();
    let held = std::fs::File::open(&lock_path).unwrap();
    held.try_lock().unwrap();

    let start = Instant::now();
    let run = t.run(&["check"]);
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    let first = run.stderr.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "redliner: store `{}` is locked by another redliner run (pid {pid}, `watch`, \
             since 2026-05-01T10:00:00Z, lock `{}`); gave up after 1s",
            t.store().display(),
            lock_path.display()
        )
    );
    assert!(
        run.stderr.contains("hint: wait for the other run"),
        "{}",
        run.stderr
    );
    // Nothing written: no index, no request made.
    assert!(!t.store().join("redliner.sqlite").exists());
    assert_eq!(t.server.seen().len(), 0);

    // Released: the next run works, and empties the holder lines on release,
    // so a later holder that writes none is not named after it.
    drop(held);
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), "");
    let held = std::fs::File::open(&lock_path).unwrap();
    held.try_lock().unwrap();
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr.lines().next().unwrap(),
        format!(
            "redliner: store `{}` is locked by another redliner run (holder unknown); gave up after 1s",
            t.store().display()
        )
    );
}

#[test]
fn shipped_configs_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut files = vec![root.join("redliner.toml")];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    examples.sort();
    assert!(!examples.is_empty());
    files.extend(examples);
    for f in files {
        let settings =
            redliner::config::load(&f, None).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(!settings.targets.is_empty(), "{}", f.display());
    }
}

#[test]
fn watch_delivers_the_alert_of_a_revision_after_the_check() {
    let t = Test::new();
    let receiver = crate::harness::Server::start();
    receiver.reply(Reply::status(200));
    config(
        &t,
        "[[channel]]\nid = \"hook\"\nkind = \"webhook\"\nurl_env = \"TEST_HOOK_URL\"\ntimeout = \"2s\"\n",
        &[],
    );
    // The target, with its channel (config() writes targets without channels).
    let mut text = std::fs::read_to_string(t.config_path()).unwrap();
    text.push_str(&format!(
        "\n[[target]]\nid = \"page\"\nurl = \"{}\"\nrules = \"nato-topic\"\nchannels = [\"hook\"]\n",
        t.server.url("/page.htm")
    ));
    t.write_config(&text);
    let watch_once = || -> crate::harness::Run {
        redliner(&t)
            .env("TEST_HOOK_URL", receiver.url("/hook"))
            .args(["watch", "--once", "--format", "json"])
            .output()
            .unwrap()
            .into()
    };
    t.serve(PAGE);
    let run = watch_once();
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(receiver.seen().len(), 0, "a baseline does not alert");

    t.serve("nato-belarus/v2-reworded.html");
    let run = watch_once();
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    // The redline on stdout, the alert delivered once.
    let redline: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    assert_eq!(redline["kind"], "revised");
    let hooks = receiver.seen();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0].path, "/hook");
    assert_eq!(
        t.count("alerts WHERE state = 'delivered' AND kind = 'revision'"),
        1
    );
}

#[test]
fn watch_stops_by_itself_when_stdout_is_closed() {
    let t = Test::new();
    config(&t, "", &[("a", "every = \"1s\"")]);
    t.serve(PAGE);
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    t.serve("nato-belarus/v2-reworded.html");
    // `redliner watch | head` after head exited: the first redline finds no reader.
    let mut child = redliner(&t)
        .arg("watch")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("watch did not stop when its stdout closed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("redliner: stdout closed; stopping\n"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("redliner: stopped after 1 check (1 changed, 0 failed)\n"),
        "{stderr}"
    );
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert_eq!(t.count("snapshots"), 2);
}

#[test]
fn check_waits_min_host_delay_between_targets_on_one_host() {
    let t = Test::new();
    config(&t, "min_host_delay = \"1s\"", &[("a", ""), ("b", "")]);
    t.serve(PAGE);
    let started = Instant::now();
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(paths(&t), ["/a.htm", "/b.htm"]);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the second request to the same host came {:?} after the first run began",
        started.elapsed()
    );
}

#[test]
fn watch_confirms_a_change_as_check_does() {
    let t = Test::new();
    config(&t, "confirm_after = \"50ms\"\n", &[("a", "")]);
    t.serve(PAGE);
    assert_eq!(t.run(&["watch", "--once"]).code, 0);
    // A flapping server: v2 once, then v1 again for the confirming fetch.
    t.server
        .reply_in_turn(vec![Reply::html(fixture("nato-belarus/v2-reworded.html"))]);
    let run = t.run(&["watch", "--once"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert_eq!(paths(&t), ["/a.htm", "/a.htm", "/a.htm"]);
    assert_eq!(t.count("checks WHERE outcome = 'unconfirmed'"), 1);
    assert_eq!(t.count("snapshots"), 1);
    // Stable now: stored.
    t.serve("nato-belarus/v2-reworded.html");
    assert_eq!(t.run(&["watch", "--once"]).code, 0);
    assert_eq!(t.count("snapshots"), 2);
    assert_store_consistent(&t);
}

/// Under systemd (`Type=notify`, `WatchdogSec=`): `READY=1` once the daemon
/// is up, `WATCHDOG=1` at half the watchdog interval while it runs, and
/// `STOPPING=1` on SIGTERM, on the socket `NOTIFY_SOCKET` names (a real
/// datagram socket here, as systemd's).
#[cfg(unix)]
#[test]
fn watch_speaks_the_systemd_notify_protocol() {
    use std::os::unix::net::UnixDatagram;
    let t = Test::new();
    config(&t, "", &[("page", "every = \"1h\"")]);
    t.serve(PAGE);
    let socket_path = t.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let child = redliner(&t)
        .env_remove("WATCHDOG_PID")
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "200000")
        .arg("watch")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 512];
    let mut next = || {
        let n = socket.recv(&mut buf).expect("a notification within 10 s");
        String::from_utf8_lossy(&buf[..n]).trim_end().to_string()
    };
    let first = next();
    assert!(first.lines().any(|l| l == "READY=1"), "{first}");
    assert!(first.contains("STATUS=watching 1 target"), "{first}");
    let started = Instant::now();
    let mut pings = 0;
    while pings < 3 {
        assert!(started.elapsed() < Duration::from_secs(10), "too few pings");
        if next() == "WATCHDOG=1" {
            pings += 1;
        }
    }
    // three pings at 100 ms apart, not a burst
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    let kill = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());
    let mut stopping = false;
    for _ in 0..50 {
        if next() == "STOPPING=1" {
            stopping = true;
            break;
        }
    }
    assert!(stopping, "no STOPPING=1 after SIGTERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
