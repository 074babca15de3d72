//! Durable alerting, end to end: the real binary checks a scripted page and
//! delivers to real receivers on 127.0.0.1 (a webhook that verifies the HMAC
//! signature, and an SMTP sink), across runs that fail, die or overlap.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::harness::{NATO_RULES, Reply, Run, Test};

const SECRET: &str = "s3cret-hmac-key";
const PAGE: &str = "/cps/en/natohq/topics_49119.htm";

/// One request the webhook receiver accepted or refused.
#[derive(Debug, Clone)]
struct Hook {
    key: String,
    body: Value,
}

#[derive(Default)]
struct HookState {
    received: Vec<Hook>,
    /// Requests seen, whatever the answer.
    seen: usize,
    /// Delays for the next requests, in order (then none).
    delays: Vec<Duration>,
    /// Status to answer with (200 by default).
    status: Option<u16>,
}

/// A generic-webhook receiver: checks `X-Redliner-Signature` against
/// [`SECRET`] (a bad signature panics the handler, failing the delivery and
/// the test's counts), records the body and its `Idempotency-Key`.
struct Receiver {
    port: u16,
    state: Arc<Mutex<HookState>>,
    server: Arc<tiny_http::Server>,
}

impl Receiver {
    fn start() -> Receiver {
        Receiver::on("127.0.0.1:0")
    }

    fn on(addr: &str) -> Receiver {
        let server = Arc::new(tiny_http::Server::http(addr).expect("bind receiver"));
        let port = server.server_addr().to_ip().unwrap().port();
        let state = Arc::new(Mutex::new(HookState::default()));
        let (s, st) = (server.clone(), state.clone());
        thread::spawn(move || {
            for req in s.incoming_requests() {
                let st = st.clone();
                thread::spawn(move || handle(req, &st));
            }
        });
        Receiver {
            port,
            state,
            server,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook/token-in-path", self.port)
    }

    fn received(&self) -> Vec<Hook> {
        self.state.lock().unwrap().received.clone()
    }

    fn seen(&self) -> usize {
        self.state.lock().unwrap().seen
    }

    fn delay_next(&self, d: Duration) {
        self.state.lock().unwrap().delays.push(d);
    }

    fn answer(&self, status: u16) {
        self.state.lock().unwrap().status = Some(status);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

fn handle(mut req: tiny_http::Request, st: &Mutex<HookState>) {
    let mut body = Vec::new();
    req.as_reader().read_to_end(&mut body).unwrap();
    let header = |name: &str| {
        req.headers()
            .iter()
            .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.to_string())
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&body);
    let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(header("X-Redliner-Signature"), Some(want), "signature");
    let key = header("Idempotency-Key").unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["idempotency_key"], Value::String(key.clone()));
    let (delay, status) = {
        let mut s = st.lock().unwrap();
        s.seen += 1;
        let delay = (!s.delays.is_empty()).then(|| s.delays.remove(0));
        (delay, s.status.unwrap_or(200))
    };
    if let Some(d) = delay {
        thread::sleep(d);
    }
    if status == 200 {
        st.lock().unwrap().received.push(Hook { key, body: json });
    }
    let _ = req.respond(tiny_http::Response::from_string("ok").with_status_code(status));
}

/// A minimal SMTP sink (enough for lettre): records each message's DATA.
struct Smtp {
    port: u16,
    mails: Arc<Mutex<Vec<String>>>,
}

impl Smtp {
    fn start() -> Smtp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let m = mails.clone();
        thread::spawn(move || {
            for sock in listener.incoming().flatten() {
                let m = m.clone();
                thread::spawn(move || smtp_session(sock, &m));
            }
        });
        Smtp { port, mails }
    }

    fn subjects(&self) -> Vec<String> {
        self.mails
            .lock()
            .unwrap()
            .iter()
            .map(|d| subject_of(d))
            .collect()
    }
}

/// A message's `Subject:` unfolded, its RFC 2047 words (`=?utf-8?b?…?=`,
/// as lettre writes non-ASCII text) decoded.
fn subject_of(message: &str) -> String {
    use base64::Engine as _;
    let mut lines = message.lines().skip_while(|l| !l.starts_with("Subject: "));
    let mut folded = lines
        .next()
        .map(|l| l["Subject: ".len()..].to_string())
        .unwrap_or_default();
    for l in lines.take_while(|l| l.starts_with(' ') || l.starts_with('\t')) {
        folded.push_str(l);
    }
    let mut out = String::new();
    let mut last_encoded = false;
    for word in folded.split(' ').filter(|w| !w.is_empty()) {
        let encoded = word
            .strip_prefix("=?utf-8?b?")
            .or_else(|| word.strip_prefix("=?UTF-8?B?"))
            .and_then(|w| w.strip_suffix("?="));
        match encoded {
            Some(b64) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap();
                if !last_encoded && !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&String::from_utf8(bytes).unwrap());
                last_encoded = true;
            }
            None => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(word);
                last_encoded = false;
            }
        }
    }
    out
}

fn smtp_session(sock: TcpStream, mails: &Mutex<Vec<String>>) {
    let mut w = sock.try_clone().unwrap();
    let mut r = BufReader::new(sock);
    let _ = w.write_all(b"220 sink ESMTP ready\r\n");
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let upper = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n"
        } else if upper == "DATA" {
            let _ = w.write_all(b"354 go ahead\r\n");
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if r.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                    break;
                }
                data.push_str(&l);
            }
            mails.lock().unwrap().push(data);
            b"250 queued\r\n"
        } else if upper == "QUIT" {
            let _ = w.write_all(b"221 bye\r\n");
            return;
        } else {
            b"250 ok\r\n"
        };
        let _ = w.write_all(reply);
    }
}

/// A test world with alert channels: `hook` (generic webhook, signed) and,
/// when given, `mail` (SMTP, no TLS on localhost).
struct World {
    t: Test,
    hook_url: String,
}

impl World {
    fn new(hook_url: String, smtp_port: Option<u16>, extra_target: &str) -> World {
        let t = Test::new();
        let mut channels = String::from(
            "[[channel]]\nid = \"hook\"\nkind = \"webhook\"\nurl_env = \"TEST_HOOK_URL\"\n\
             secret_env = \"TEST_HOOK_SECRET\"\ntimeout = \"1s\"\n",
        );
        let mut ids = vec!["\"hook\""];
        if let Some(port) = smtp_port {
            channels.push_str(&format!(
                "\n[[channel]]\nid = \"mail\"\nkind = \"email\"\nsmtp_host = \"127.0.0.1\"\n\
                 smtp_port = {port}\ntls = \"none\"\nfrom = \"redliner <bot@localhost>\"\n\
                 to = [\"desk@localhost\"]\ntimeout = \"5s\"\n"
            ));
            ids.push("\"mail\"");
        }
        t.write_config(&format!(
            "[settings]\ntimeout = \"5s\"\nretries = 0\nmin_host_delay = \"0s\"\n\
             delivery_backoff = \"1s\"\ndelivery_backoff_max = \"2s\"\n{NATO_RULES}\n{channels}\n\
             [[target]]\nid = \"nato-belarus\"\nurl = \"{}\"\nrules = \"nato-topic\"\n\
             channels = [{}]\n{extra_target}",
            t.server.url(PAGE),
            ids.join(", ")
        ));
        World { t, hook_url }
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("redliner"));
        cmd.current_dir(self.t.dir.path())
            .env_remove("REDLINER_CONFIG")
            .env_remove("REDLINER_STORE")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env("TEST_HOOK_URL", &self.hook_url)
            .env("TEST_HOOK_SECRET", SECRET)
            .arg("--config")
            .arg(self.t.config_path())
            .arg("--store")
            .arg(self.t.store_arg())
            .args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().unwrap().into()
    }

    /// Serves the fixture and runs `check`, which must succeed.
    fn check(&self, fixture: &str) -> Run {
        self.t.serve(fixture);
        let run = self.run(&["check", "--format", "json"]);
        assert_eq!(run.code, 0, "{fixture}: {}", run.stderr);
        run
    }

    /// (channel, kind, state, attempts) of every alert, oldest first.
    fn alerts(&self) -> Vec<(String, String, String, i64)> {
        let db = self.t.db();
        let mut st = db
            .prepare("SELECT channel_id, kind, state, attempts FROM alerts ORDER BY id")
            .unwrap();
        st.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

fn owned(rows: &[(&str, &str, &str, i64)]) -> Vec<(String, String, String, i64)> {
    rows.iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), *d))
        .collect()
}

/// (alert, kind) of each body, in arrival order.
fn kinds(hooks: &[Hook]) -> Vec<(String, String)> {
    hooks
        .iter()
        .map(|h| {
            let kind = h.body["kind"].as_str().unwrap_or("").to_string();
            (h.body["alert"].as_str().unwrap().to_string(), kind)
        })
        .collect()
}

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out: {what}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn one_alert_per_revision_on_each_channel_none_for_stamp_only_or_unchanged() {
    let hook = Receiver::start();
    let smtp = Smtp::start();
    let w = World::new(hook.url(), Some(smtp.port), "");
    let steps = [
        ("nato-belarus/v1.html", 0),
        ("nato-belarus/v1.html", 0),
        ("nato-belarus/v2-reworded.html", 1),
        ("nato-belarus/v3-section-added.html", 1),
        ("nato-belarus/v4-renamed.html", 1),
        ("nato-belarus/v5-stamp-only.html", 0),
        ("nato-belarus/v5-stamp-only.html", 0),
        ("nato-belarus/v6-silent-edit.html", 1),
        ("nato-belarus/v6-silent-edit.html", 0),
    ];
    let mut want = 0;
    for (fixture, new_alerts) in steps {
        w.check(fixture);
        want += new_alerts;
        assert_eq!(hook.received().len(), want, "webhook after {fixture}");
        assert_eq!(
            smtp.mails.lock().unwrap().len(),
            want,
            "mail after {fixture}"
        );
    }
    let got = hook.received();
    assert_eq!(
        kinds(&got),
        pairs(&[
            ("revision", "revised"),
            ("revision", "revised"),
            ("revision", "revised"),
            ("revision", "silent-edit"),
        ])
    );
    // keys name the new snapshot and the channel; all distinct
    let snapshots: Vec<i64> =
        w.t.db()
            .prepare("SELECT new_snapshot_id FROM revisions WHERE kind != 'stamp-only' ORDER BY id")
            .unwrap()
            .query_map((), |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    let keys: Vec<String> = got.iter().map(|h| h.key.clone()).collect();
    let want_keys: Vec<String> = snapshots
        .iter()
        .map(|id| format!("redliner:nato-belarus:{id}:hook"))
        .collect();
    assert_eq!(keys, want_keys);
    assert_eq!(
        smtp.subjects(),
        [
            "[redliner] Relations with Belarus: revised 14 Nov. 2024 \u{2014} 1 of 4 sections changed: 1 modified \u{b7} +3 / \u{2212}2 words",
            "[redliner] Relations with Belarus: revised 3 Mar. 2025 \u{2014} 2 of 5 sections changed: 1 added, 1 modified \u{b7} +61 / \u{2212}21 words",
            "[redliner] Relations with Belarus: revised 12 May. 2025 \u{2014} 1 of 5 sections changed: 1 renamed",
            &format!(
                "[redliner] Relations with Belarus: silent edit found {} \u{2014} 1 of 5 sections changed: 1 modified \u{b7} +1 / \u{2212}1 words",
                jiff::Zoned::now()
                    .with_time_zone(jiff::tz::TimeZone::UTC)
                    .strftime("%-d %b. %Y")
            ),
        ]
    );
    // the stamp-only revision is recorded, quietly
    assert_eq!(w.t.count("revisions WHERE kind = 'stamp-only'"), 1);
    assert_eq!(w.t.count("alerts"), 8);
    assert_eq!(w.t.count("alerts WHERE state = 'delivered'"), 8);
    assert_eq!(w.t.count("deliveries WHERE ok = 1"), 8);
}

#[test]
fn receiver_down_then_up_gives_exactly_one_delivery() {
    // reserve a port, keep nothing listening on it
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook/token-in-path");
    let w = World::new(url, None, "");
    w.check("nato-belarus/v1.html");
    let run = w.check("nato-belarus/v2-reworded.html");
    assert!(
        run.stderr.contains(
            "redliner: alert `revision` for `nato-belarus` to channel `hook` not delivered, will retry: POST to `http://127.0.0.1:"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("token-in-path"), "{}", run.stderr);
    assert_eq!(w.alerts(), owned(&[("hook", "revision", "pending", 1)]));

    let listed = w.run(&["alerts", "--pending"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    // A header row, then the alert in aligned columns.
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert!(lines[0].starts_with("ALERT  CREATED"), "{}", listed.stdout);
    let line = lines[1];
    assert!(
        line.contains("nato-belarus  hook     revision  pending  1 attempt  next "),
        "{line}"
    );
    assert!(line.contains("POST to `http://127.0.0.1:"), "{line}");
    assert_eq!(
        lines[0].find("ERROR"),
        line.find("POST to"),
        "{}",
        listed.stdout
    );
    let json: Value =
        serde_json::from_str(&w.run(&["alerts", "--pending", "--format", "json"]).stdout).unwrap();
    assert_eq!(json[0]["state"], "pending");
    assert_eq!(json[0]["kind"], "revision");
    assert_eq!(w.run(&["alerts", "--failed"]).stdout, "no alerts\n");

    let hook = Receiver::on(&format!("127.0.0.1:{port}"));
    thread::sleep(Duration::from_millis(1100)); // the 1 s backoff
    w.check("nato-belarus/v2-reworded.html"); // unchanged page; the retry goes out
    w.check("nato-belarus/v2-reworded.html");
    assert_eq!(kinds(&hook.received()), pairs(&[("revision", "revised")]));
    assert_eq!(w.alerts(), owned(&[("hook", "revision", "delivered", 2)]));
    assert_eq!(w.t.count("deliveries WHERE ok = 0"), 1);
    assert_eq!(w.t.count("deliveries WHERE ok = 1"), 1);
}

#[test]
fn a_run_killed_mid_send_loses_nothing_and_reuses_the_key() {
    let hook = Receiver::start();
    let w = World::new(hook.url(), None, "");
    w.check("nato-belarus/v1.html");
    hook.delay_next(Duration::from_secs(3));
    w.t.serve("nato-belarus/v2-reworded.html");
    let mut child = w
        .command(&["check"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the first send", || hook.seen() == 1);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(w.alerts(), owned(&[("hook", "revision", "sending", 0)]));

    // a run inside the lease leaves the alert to its (dead) sender
    w.check("nato-belarus/v2-reworded.html");
    assert_eq!(hook.seen(), 1);
    // the lease (1 s channel timeout + 5 s) runs out; the next run sends again
    thread::sleep(Duration::from_secs(6));
    w.check("nato-belarus/v2-reworded.html");
    // the killed run's request is answered too (after its delay): the
    // receiver sees the alert twice under one key, and can drop the repeat
    wait_for("both requests answered", || hook.received().len() == 2);
    assert_eq!(hook.seen(), 2);
    let mut got = hook.received();
    got.dedup_by(|a, b| a.key == b.key);
    let snapshot: i64 =
        w.t.db()
            .query_row("SELECT MAX(id) FROM snapshots", (), |r| r.get(0))
            .unwrap();
    assert_eq!(
        got.iter().map(|h| h.key.clone()).collect::<Vec<_>>(),
        [format!("redliner:nato-belarus:{snapshot}:hook")]
    );
    assert_eq!(w.alerts(), owned(&[("hook", "revision", "delivered", 1)]));
    assert_eq!(w.t.count("snapshots"), 2);
}

#[test]
fn overlapping_delivery_runs_send_an_alert_once() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let w = World::new(format!("http://127.0.0.1:{port}/hook/x"), None, "");
    w.check("nato-belarus/v1.html");
    w.check("nato-belarus/v2-reworded.html"); // receiver down: queued
    let hook = Receiver::on(&format!("127.0.0.1:{port}"));
    hook.delay_next(Duration::from_millis(700)); // under the 1 s channel timeout
    let (a, b) = thread::scope(|s| {
        let a = s.spawn(|| w.run(&["alerts", "--retry"]));
        let b = s.spawn(|| w.run(&["alerts", "--retry"]));
        (a.join().unwrap(), b.join().unwrap())
    });
    // one run sent it; the other found it claimed and had nothing to do
    let mut outs = [a.stdout.clone(), b.stdout.clone()];
    outs.sort();
    assert!(
        outs[0].starts_with("ALERT  TARGET")
            && outs[0].contains("nato-belarus  hook     revision  delivered"),
        "{outs:?}"
    );
    assert_eq!(outs[1], "no alerts to retry\n", "{outs:?}");
    assert_eq!((a.code, b.code), (0, 0));
    assert_eq!(hook.seen(), 1);
    assert_eq!(hook.received().len(), 1);
    assert_eq!(w.alerts(), owned(&[("hook", "revision", "delivered", 2)]));
}

#[test]
fn a_run_of_503s_raises_one_failing_and_one_recovered_alert() {
    let hook = Receiver::start();
    let w = World::new(hook.url(), None, "");
    w.check("nato-belarus/v1.html");
    for i in 1..=5 {
        w.t.server.reply(Reply::status(503));
        let run = w.run(&["check"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        let want = usize::from(i >= 3);
        assert_eq!(hook.received().len(), want, "after failure {i}");
    }
    w.check("nato-belarus/v1.html");
    w.check("nato-belarus/v1.html");
    let got = hook.received();
    assert_eq!(
        got.iter()
            .map(|h| h.body["alert"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["failing", "recovered"]
    );
    assert_eq!(got[0].body["consecutive_failures"], 3);
    assert_eq!(got[1].body["consecutive_failures"], 5);
    let error = got[0].body["last_error"].as_str().unwrap();
    assert!(error.contains("503"), "{error}");
    assert_eq!(got[0].body["since"], got[1].body["since"]);
}

#[test]
fn an_alternating_page_alerts_once_that_it_alternates() {
    let hook = Receiver::start();
    let w = World::new(hook.url(), None, "");
    let (a, b) = ("nato-belarus/v1.html", "nato-belarus/v2-reworded.html");
    for fixture in [a, b, a, b, a, b, a] {
        w.check(fixture);
    }
    let got = hook.received();
    let summary: Vec<(Option<i64>, bool)> = got
        .iter()
        .map(|h| {
            (
                h.body["revert_of"].as_i64(),
                h.body["alternating"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    // B is new; A comes back (a revert to snapshot 1); B again: alternating
    // (once); further flips are recorded quietly
    assert_eq!(summary, [(None, false), (Some(1), false), (Some(2), true)]);
    assert_eq!(w.t.count("snapshots"), 7);
    assert_eq!(
        w.alerts(),
        owned(&[
            ("hook", "revision", "delivered", 1),
            ("hook", "revert", "delivered", 1),
            ("hook", "alternating", "delivered", 1),
        ])
    );
    let dir: String =
        w.t.db()
            .query_row("SELECT dir FROM snapshots WHERE id = 3", (), |r| r.get(0))
            .unwrap();
    // A store in a directory keeps each revision's redline as Markdown.
    if w.t.pg.is_none() {
        let redline = std::fs::read_to_string(w.t.store().join(dir).join("redline.md")).unwrap();
        assert!(
            redline.contains("> Revert: the content equals that of snapshot 1."),
            "{redline}"
        );
    }
}

#[test]
fn test_alert_sends_a_signed_sample() {
    let hook = Receiver::start();
    let w = World::new(hook.url(), None, "");
    let run = w.run(&["test-alert", "hook"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "test alert delivered to `hook` (webhook) (status 200)\n"),
        "{}",
        run.stderr
    );
    let got = hook.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body["test"], true);
    assert_eq!(got[0].body["target"], "redliner-test");
    assert!(
        got[0].key.starts_with("redliner:test-alert:"),
        "{}",
        got[0].key
    );
    // nothing queued or stored, and listing creates no store
    assert_eq!(w.run(&["alerts"]).stdout, "no alerts\n");
    assert_eq!(w.run(&["alerts", "--format", "json"]).stdout, "[]\n");
    assert!(!w.t.store().exists());

    hook.answer(500);
    let run = w.run(&["test-alert", "hook"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("redliner: test alert to `hook` (webhook) failed (status 500): "),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("token-in-path"), "{}", run.stderr);

    let run = w.run(&["test-alert", "nope"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "redliner: channel `nope` is not configured (configured: hook)\n"
    );
}

#[test]
fn overlapping_check_runs_give_one_snapshot_and_one_alert() {
    let hook = Receiver::start();
    let w = World::new(hook.url(), None, "");
    w.check("nato-belarus/v1.html");
    w.t.serve("nato-belarus/v2-reworded.html");
    // the first run's delivery is slow, so the runs overlap
    hook.delay_next(Duration::from_millis(700));
    let (a, b) = thread::scope(|s| {
        let a = s.spawn(|| w.run(&["check"]));
        let b = s.spawn(|| w.run(&["check"]));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!((a.code, b.code), (0, 0), "{}\n{}", a.stderr, b.stderr);
    assert_eq!(w.t.count("snapshots"), 2);
    assert_eq!(w.t.count("revisions"), 1);
    assert_eq!(w.alerts(), owned(&[("hook", "revision", "delivered", 1)]));
    assert_eq!(hook.seen(), 1);
    assert_eq!(kinds(&hook.received()), pairs(&[("revision", "revised")]));
}

#[test]
fn a_redesign_with_the_same_text_alerts_nobody_and_the_next_edit_does() {
    let hook = Receiver::start();
    let w = World::new(hook.url(), None, "");
    w.check("nato-belarus/v1.html");
    let run = w.check("nato-belarus/redesigned.html");
    assert_eq!(run.stdout, "");
    assert!(w.alerts().is_empty(), "{:?}", w.alerts());
    assert_eq!(hook.seen(), 0);
    // An edit in the new template alerts as any revision.
    let edited = String::from_utf8(crate::harness::fixture("nato-belarus/redesigned.html"))
        .unwrap()
        .replace(
            "In 2021, Allies suspended practical cooperation",
            "In 2021, Allies ended all practical cooperation",
        );
    w.t.server.reply(Reply::html(edited));
    let run = w.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(owned(&[("hook", "revision", "delivered", 1)]), w.alerts());
    assert_eq!(hook.received().len(), 1);
}

/// Rewrites the stored document of the target's only snapshot the way
/// an extractor from before issue 7 wrote it: no extraction recorded, a view
/// counter kept as a block, a session id kept in a link.
fn age_stored_document(t: &Test) {
    // An older redliner stored no source fingerprint either.
    t.db()
        .execute("UPDATE snapshots SET source_fingerprint = NULL", ())
        .unwrap();
    let dirs = t.snapshot_dirs("nato-belarus");
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let mut doc: Value = serde_json::from_str(&t.stored_document(&dirs[0])).unwrap();
    assert!(doc["meta"]["extraction"]["extractor"].is_u64(), "{doc}");
    doc["meta"].as_object_mut().unwrap().remove("extraction");
    let sections = doc["sections"].as_array_mut().unwrap();
    let with_link = sections
        .iter_mut()
        .flat_map(|s| s["blocks"].as_array_mut().unwrap().iter_mut())
        .find(|b| b["links"].as_array().is_some_and(|l| !l.is_empty()))
        .expect("a block with a link");
    let href = with_link["links"][0]["href"].as_str().unwrap().to_string();
    let cut = href.find(['?', '#']).unwrap_or(href.len());
    with_link["links"][0]["href"] = Value::from(format!(
        "{};jsessionid=0A1B2C3D4E5F{}",
        &href[..cut],
        &href[cut..]
    ));
    sections[0]["blocks"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"kind": "paragraph", "text": "Views: 1,234"}));
    let bytes = serde_json::to_vec_pretty(&doc).unwrap();
    if t.pg.is_some() {
        // In PostgreSQL: the snapshot names a blob of the aged document.
        t.put_document(&dirs[0], &bytes);
        return;
    }
    // As that redliner stored it: plain `document.json`.
    std::fs::remove_file(dirs[0].join("document.json.zst")).unwrap();
    std::fs::write(dirs[0].join("document.json"), bytes).unwrap();
}

/// `(heading, change)` of every section in the JSON redline `check` printed.
fn redline_sections(run: &Run) -> Vec<(String, String)> {
    let redline: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let redline = if redline.is_array() {
        redline[0].clone()
    } else {
        redline
    };
    redline["sections"]
        .as_array()
        .unwrap_or_else(|| panic!("no sections: {redline}"))
        .iter()
        .map(|s| {
            (
                s["heading"].as_str().unwrap_or("Lead").to_string(),
                s["change"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_store_from_an_older_extractor_alerts_nothing_then_only_the_real_edit() {
    let hook = Receiver::start();
    let w = World::new(hook.url(), None, "");
    w.check("nato-belarus/v1.html");
    age_stored_document(&w.t);

    // The same page after the upgrade: compared with its old page extracted
    // again, so nothing changed and nothing alerts.
    w.t.serve("nato-belarus/v1.html");
    let run = w.run(&["check", "-v", "--exit-code"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "previous snapshot re-extracted (an older redliner (no extractor version recorded))"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(w.t.count("alerts"), 0);
    assert_eq!(w.t.count("checks WHERE outcome = 'unchanged'"), 1);
    assert_eq!(w.t.count("revisions WHERE technical = 0"), 0);
    assert_eq!(
        w.t.count("revisions WHERE technical = 1 AND old_snapshot_id = new_snapshot_id"),
        1
    );
    let history = w.run(&["history", "nato-belarus"]);
    assert_eq!(history.code, 0, "{}", history.stderr);
    assert!(history.stdout.contains("unchanged"), "{}", history.stdout);
    let show = w.run(&["show", "nato-belarus"]);
    assert!(!show.stdout.contains("Views: 1,234"), "{}", show.stdout);
    assert!(!show.stdout.contains("jsessionid"), "{}", show.stdout);

    // Checked again: the stored document is today's, nothing re-extracted.
    w.t.serve("nato-belarus/v1.html");
    let run = w.run(&["check", "-v"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("re-extracted"), "{}", run.stderr);
    assert_eq!(w.t.count("revisions WHERE technical = 1"), 1);

    // A real edit is reported and alerted as that edit alone.
    let run = w.check("nato-belarus/v2-reworded.html");
    assert_eq!(
        redline_sections(&run),
        pairs(&[("Evolution of relations", "modified")])
    );
    assert!(!run.stdout.contains("Views"), "{}", run.stdout);
    assert!(!run.stdout.contains("jsessionid"), "{}", run.stdout);
    wait_for("the revision's alert", || hook.received().len() == 1);
    assert_eq!(kinds(&hook.received()), pairs(&[("revision", "revised")]));
}

#[test]
fn an_edit_of_the_target_rules_alerts_nothing() {
    let hook = Receiver::start();
    let w = World::new(hook.url(), None, "");
    w.check("nato-belarus/v1.html");
    let caption = "Photo: uzhursky via Getty Images";
    assert!(w.run(&["show", "nato-belarus"]).stdout.contains(caption));

    // The rules now drop the photo captions, and an element the page lacks.
    let config = std::fs::read_to_string(w.t.config_path()).unwrap();
    let edited = config.replacen(
        "content = [\"section.content\"]\n",
        "content = [\"section.content\"]\ndrop = [\".x\", \"figcaption\"]\n",
        1,
    );
    assert_ne!(edited, config);
    std::fs::write(w.t.config_path(), edited).unwrap();

    w.t.serve("nato-belarus/v1.html");
    let run = w.run(&["check", "-v", "--exit-code"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "previous snapshot re-extracted (other rules (the target's rules were edited))"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(w.t.count("alerts"), 0);
    assert_eq!(w.t.count("checks WHERE outcome = 'unchanged'"), 1);
    assert_eq!(w.t.count("revisions WHERE technical = 0"), 0);
    assert_eq!(w.t.count("revisions WHERE technical = 1"), 1);
    assert!(!w.run(&["show", "nato-belarus"]).stdout.contains(caption));

    let run = w.check("nato-belarus/v2-reworded.html");
    assert_eq!(
        redline_sections(&run),
        pairs(&[("Evolution of relations", "modified")])
    );
    wait_for("the revision's alert", || hook.received().len() == 1);
    assert!(hook.seen() >= 1);
}

#[test]
fn a_previous_page_that_no_longer_extracts_is_compared_as_stored_with_a_note() {
    let hook = Receiver::start();
    let w = World::new(hook.url(), None, "");
    w.check("nato-belarus/v1.html");
    age_stored_document(&w.t);
    let dir = &w.t.snapshot_dirs("nato-belarus")[0];
    w.t.remove_raw(dir);

    let run = w.check("nato-belarus/v1.html");
    assert!(
        run.stderr.contains("previous snapshot not re-extracted"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("compared with the previous snapshot as stored"),
        "{}",
        run.stdout
    );
    assert_eq!(w.t.count("revisions WHERE technical = 1"), 0);
}

/// `[serve] public_url`: the alert (webhook JSON, e-mail) and the feed link
/// the revision to its page in `serve`, which sends the reader on to it; the
/// e-mail subject tells the revision apart by its date and summary.
#[test]
fn alerts_and_feeds_link_each_revision_to_its_page_in_serve() {
    let hook = Receiver::start();
    let smtp = Smtp::start();
    let w = World::new(
        hook.url(),
        Some(smtp.port),
        "\n[serve]\npublic_url = \"https://redliner.example.org/desk\"\n",
    );
    w.check("nato-belarus/v1.html");
    w.check("nato-belarus/v2-reworded.html");
    let (snapshot, revision): (i64, i64) =
        w.t.db()
            .query_row("SELECT new_snapshot_id, id FROM revisions", (), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
    let link = format!(
        "https://redliner.example.org/desk/targets/nato-belarus/snapshots/{snapshot}/revision"
    );
    let got = hook.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].body["link"],
        Value::String(link.clone()),
        "{:#}",
        got[0].body
    );
    let mails = smtp.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    let mail = mails[0].replace("=\r\n", "");
    assert!(mail.contains(&format!("Full report: {link}")), "{mail}");
    assert!(
        subject_of(&mail)
            .starts_with("[redliner] Relations with Belarus: revised 14 Nov. 2024 \u{2014} 1 of 4"),
        "{mail}"
    );
    let feed = w.t.feed(Some("nato-belarus"));
    assert!(feed.contains(&format!("href=\"{link}\"")), "{feed}");
    assert!(
        feed.contains("<title>Relations with Belarus: revised 14 Nov. 2024"),
        "{feed}"
    );
    // The link's path, asked of `serve`: on to the revision's page.
    let web = crate::web::start(&w.t, "127.0.0.1:0", &[]);
    let a = crate::web::get(&format!(
        "{}/targets/nato-belarus/snapshots/{snapshot}/revision",
        web.base
    ));
    assert_eq!(a.status, 303);
    assert_eq!(
        a.header("location"),
        format!("/targets/nato-belarus/revisions/{revision}")
    );
}
