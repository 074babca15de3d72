//! Checks run concurrently across hosts and politely per host: servers on
//! several loopback addresses (127.0.0.2, 127.0.0.3, ...: all loopback on
//! Linux, each a host of its own) record how many requests each had in flight
//! at once, so the tests count overlaps instead of timing runs.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{NATO_RULES, Test, fixture};

/// What a host answers to a path: a delay before the answer, and the page.
type Script = dyn Fn(usize, &str) -> (Duration, Vec<u8>) + Send + Sync;

/// One request as the servers saw it.
#[derive(Debug, Clone)]
struct Request {
    host: usize,
    path: String,
    start: Instant,
    /// `None` while the answer is still being delayed.
    end: Option<Instant>,
}

#[derive(Default)]
struct Log {
    requests: Vec<Request>,
    /// Requests in flight now, per host and in all.
    now: HashMap<usize, usize>,
    total: usize,
    /// The most ever in flight at once, per host and in all.
    most: HashMap<usize, usize>,
    most_total: usize,
}

/// HTTP/1.1 servers on 127.0.0.2, 127.0.0.3, ... (one per host), each
/// answering every request on a thread of its own, after the delay the
/// script gives.
struct Hosts {
    ports: Vec<u16>,
    log: Arc<Mutex<Log>>,
    script: Arc<Mutex<Arc<Script>>>,
}

impl Hosts {
    fn start(n: usize) -> Hosts {
        let log = Arc::new(Mutex::new(Log::default()));
        let page: Arc<Script> = Arc::new(|_, _| (Duration::ZERO, v1()));
        let script = Arc::new(Mutex::new(page));
        let mut ports = Vec::new();
        for host in 0..n {
            let listener = TcpListener::bind((address(host), 0)).expect("bind a loopback address");
            ports.push(listener.local_addr().unwrap().port());
            let (log, script) = (log.clone(), script.clone());
            // Lives as long as the test process; never joined.
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let (log, script) = (log.clone(), script.clone());
                    std::thread::spawn(move || serve(host, stream, &log, &script));
                }
            });
        }
        Hosts { ports, log, script }
    }

    /// The URL of `path` on host `host`.
    fn url(&self, host: usize, path: &str) -> String {
        format!("http://{}:{}{path}", address(host), self.ports[host])
    }

    /// Answer with this from now on.
    fn script(&self, f: impl Fn(usize, &str) -> (Duration, Vec<u8>) + Send + Sync + 'static) {
        *self.script.lock().unwrap() = Arc::new(f);
    }

    fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().requests.clone()
    }

    /// The most requests any one host had in flight at once.
    fn most_on_one_host(&self) -> usize {
        self.log
            .lock()
            .unwrap()
            .most
            .values()
            .copied()
            .max()
            .unwrap_or(0)
    }

    /// The most requests in flight at once over all hosts.
    fn most_in_all(&self) -> usize {
        self.log.lock().unwrap().most_total
    }

    /// Forgets the requests so far.
    fn clear(&self) {
        *self.log.lock().unwrap() = Log::default();
    }
}

/// The loopback address of host `host`: 127.0.0.2 onwards.
fn address(host: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(127, 0, 0, 2 + u8::try_from(host).unwrap())
}

fn serve(host: usize, stream: TcpStream, log: &Mutex<Log>, script: &Mutex<Arc<Script>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    // The rest of the head.
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let index = {
        let mut log = log.lock().unwrap();
        let now = log.now.entry(host).or_default();
        *now += 1;
        let now = *now;
        let most = log.most.entry(host).or_default();
        *most = (*most).max(now);
        log.total += 1;
        log.most_total = log.most_total.max(log.total);
        log.requests.push(Request {
            host,
            path: path.clone(),
            start: Instant::now(),
            end: None,
        });
        log.requests.len() - 1
    };
    let script = script.lock().unwrap().clone();
    let (delay, body) = script(host, &path);
    std::thread::sleep(delay);
    let mut stream = stream;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
    let mut log = log.lock().unwrap();
    log.requests[index].end = Some(Instant::now());
    *log.now.entry(host).or_default() -= 1;
    log.total -= 1;
}

fn v1() -> Vec<u8> {
    fixture("nato-belarus/v1.html")
}

fn v2() -> Vec<u8> {
    fixture("nato-belarus/v2-reworded.html")
}

/// A test world whose config has `per_host` targets on each of `hosts`
/// hosts, listed host after host round the hosts (`t0` on host 0, `t1` on
/// host 1, ...), with these extra settings.
fn world(hosts: usize, per_host: usize, settings: &str) -> (Test, Hosts, Vec<String>) {
    let t = Test::new();
    let servers = Hosts::start(hosts);
    let mut config =
        format!("[settings]\ntimeout = \"5s\"\nretries = 0\n{settings}\n{NATO_RULES}\n");
    let mut ids = Vec::new();
    for k in 0..hosts * per_host {
        let id = format!("t{k}");
        config.push_str(&format!(
            "[[target]]\nid = \"{id}\"\nurl = \"{}\"\nrules = \"nato-topic\"\n",
            servers.url(k % hosts, &format!("/page-{k}"))
        ));
        ids.push(id);
    }
    t.write_config(&config);
    (t, servers, ids)
}

/// The target ids of the JSON redlines `check --format json` printed, in order.
fn redline_targets(stdout: &str) -> Vec<String> {
    serde_json::Deserializer::from_str(stdout)
        .into_iter::<Value>()
        .map(|v| {
            let v = v.unwrap_or_else(|e| panic!("{e}: {stdout}"));
            v["target"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

#[test]
fn requests_on_one_host_never_overlap_and_keep_their_delay() {
    // Three hosts, three pages each, answers slow enough to overlap; the
    // second run confirms every change with a second fetch, which counts as
    // a request on the host too.
    let (t, hosts, _) = world(
        3,
        3,
        "concurrency = 16\nmin_host_delay = \"200ms\"\nconfirm_after = \"50ms\"",
    );
    hosts.script(|_, _| (Duration::from_millis(100), v1()));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let baselines = hosts.requests();
    hosts.script(|_, _| (Duration::from_millis(100), v2()));
    hosts.clear();
    let run = t.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(redline_targets(&run.stdout).len(), 9, "{}", run.stdout);
    assert_eq!(
        hosts.most_on_one_host(),
        1,
        "two requests on one host at once"
    );
    let changes = hosts.requests();
    // 9 baselines, then 9 changes fetched twice each.
    assert_eq!((baselines.len(), changes.len()), (9, 18));
    for requests in [baselines, changes] {
        for host in 0..3 {
            let on_host: Vec<&Request> = requests.iter().filter(|r| r.host == host).collect();
            for pair in on_host.windows(2) {
                let (old, new) = (pair[0], pair[1]);
                let gap = new.start.duration_since(old.end.expect("answered"));
                // The confirming fetch follows its first fetch inside one
                // check (after `confirm_after`); checks are
                // `min_host_delay` apart.
                let least = if old.path == new.path {
                    Duration::from_millis(40)
                } else {
                    Duration::from_millis(180)
                };
                assert!(
                    gap >= least,
                    "host {host}: {} then {} only {gap:?} apart",
                    old.path,
                    new.path
                );
            }
        }
    }
}

#[test]
fn requests_to_different_hosts_overlap() {
    let (t, hosts, _) = world(4, 2, "concurrency = 16\nmin_host_delay = \"0s\"");
    hosts.script(|_, _| (Duration::from_millis(300), v1()));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 8);
    assert_eq!(hosts.most_on_one_host(), 1);
    // Four hosts answering in 300 ms each: all four at once (at least more
    // than one, whatever the machine's load).
    assert!(
        hosts.most_in_all() >= 2,
        "checks of different hosts ran one at a time"
    );

    // `watch --once` runs the same loop.
    hosts.clear();
    hosts.script(|_, _| (Duration::from_millis(300), v2()));
    let run = t.run(&["watch", "--once", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(hosts.requests().len(), 8);
    assert_eq!(hosts.most_on_one_host(), 1);
    assert!(hosts.most_in_all() >= 2, "watch ran one check at a time");
    assert_eq!(t.count("revisions"), 8);
}

#[test]
fn output_is_in_config_order_whatever_the_completion_order() {
    let (t, hosts, ids) = world(3, 2, "concurrency = 16\nmin_host_delay = \"0s\"");
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The first target answers last.
    hosts.clear();
    hosts.script(|_, path| {
        let delay = if path == "/page-0" { 800 } else { 0 };
        (Duration::from_millis(delay), v2())
    });
    let run = t.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(redline_targets(&run.stdout), ids);
    let requests = hosts.requests();
    let first = requests.iter().find(|r| r.path == "/page-0").unwrap();
    let answered_before_it = requests
        .iter()
        .filter(|r| r.path != "/page-0" && r.end.unwrap() < first.end.unwrap())
        .count();
    assert!(
        answered_before_it >= 1,
        "the first target was not answered last; the test proves nothing"
    );
}

#[test]
fn a_hanging_host_does_not_stop_the_others() {
    let (t, hosts, ids) = world(3, 2, "concurrency = 16\nmin_host_delay = \"0s\"");
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    t.write_config(
        &std::fs::read_to_string(t.config_path())
            .unwrap()
            .replace("timeout = \"5s\"", "timeout = \"1s\""),
    );
    hosts.clear();
    // Host 0 hangs past the timeout; the others changed.
    hosts.script(|host, _| {
        let delay = if host == 0 { 4000 } else { 0 };
        (Duration::from_millis(delay), v2())
    });
    let run = t.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    // Host 0's targets are t0 and t3: every other target printed, in order.
    let others: Vec<String> = ids
        .iter()
        .filter(|id| *id != "t0" && *id != "t3")
        .cloned()
        .collect();
    assert_eq!(redline_targets(&run.stdout), others);
    // Host 0's two targets timed out, one after the other (the second
    // request went once the client had given up on the first, which the
    // server, still delaying it, counts as in flight); every other host was
    // answered meanwhile.
    let errors: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(errors.len(), 2, "{}", run.stderr);
    assert!(errors[0].contains("`t0`"), "{}", run.stderr);
    assert!(errors[1].contains("`t3`"), "{}", run.stderr);
    let requests = hosts.requests();
    assert_eq!(requests.iter().filter(|r| r.host == 0).count(), 2);
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.host != 0 && r.end.is_some())
            .count(),
        4
    );
}

#[test]
fn concurrency_one_checks_one_target_at_a_time_in_config_order() {
    let (t, hosts, ids) = world(3, 2, "concurrency = 1\nmin_host_delay = \"0s\"");
    hosts.script(|_, _| (Duration::from_millis(50), v1()));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    hosts.script(|_, _| (Duration::from_millis(50), v2()));
    let run = t.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(redline_targets(&run.stdout), ids);
    assert_eq!(hosts.most_in_all(), 1);
    let paths: Vec<String> = hosts.requests().into_iter().map(|r| r.path).collect();
    let once: Vec<String> = (0..6).map(|k| format!("/page-{k}")).collect();
    assert_eq!(paths, [once.clone(), once].concat());
}

#[test]
fn a_bad_concurrency_is_one_line_naming_the_key() {
    for value in ["0", "257", "-1", "\"many\""] {
        let (t, _hosts, _) = world(1, 1, &format!("concurrency = {value}"));
        let run = t.run(&["check"]);
        assert_eq!(run.code, 2, "{value}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{value}: {}", run.stderr);
        assert!(
            run.stderr.contains("concurrency"),
            "{value}: {}",
            run.stderr
        );
        assert!(!t.store().exists(), "{value}: the store was created");
    }
}

#[test]
fn the_watch_daemon_overlaps_hosts_and_a_stop_lets_the_checks_in_flight_finish() {
    let (t, hosts, _) = world(3, 2, "concurrency = 16\nmin_host_delay = \"0s\"");
    // Slow answers: the stop comes while the first three are in flight.
    hosts.script(|_, _| (Duration::from_millis(1000), v1()));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_redliner"))
        .current_dir(t.dir.path())
        .env_remove("REDLINER_CONFIG")
        .env_remove("REDLINER_STORE")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .arg("--config")
        .arg(t.config_path())
        .arg("--store")
        .arg(t.store_arg())
        .arg("watch")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while hosts.requests().len() < 3 {
        assert!(Instant::now() < deadline, "seen {:?}", hosts.requests());
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // One target per host started, all three at once; none after the stop;
    // the three in flight finished and were recorded.
    let requests = hosts.requests();
    let mut paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/page-0", "/page-1", "/page-2"], "{stderr}");
    assert_eq!(hosts.most_in_all(), 3);
    assert_eq!(t.count("snapshots"), 3);
    assert_eq!(t.count("checks"), 3);
    assert!(
        stderr.contains("stopped after 3 checks (0 changed, 0 failed)"),
        "{stderr}"
    );
}
