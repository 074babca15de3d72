//! `redliner serve` and `watch --serve`: the real binary listening on
//! 127.0.0.1 (a port the system chose), asked over real HTTP.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::Test;

/// A server process and the URL it said it serves.
struct Serving {
    child: Child,
    url: String,
}

/// Spawns the test's `redliner` with `args` (which bind port 0) and waits
/// for its `redliner: serving http://…/metrics` line.
fn spawn(t: &Test, args: &[&str]) -> Serving {
    let mut child = t
        .command()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads every stderr line (so the pipe never fills), handing on the
    // serving line.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // `redliner: serving http://127.0.0.1:PORT/ (...)`: the metrics URL.
            if let Some(rest) = line.strip_prefix("redliner: serving ") {
                let base = rest.split_whitespace().next().unwrap_or("");
                let _ = tx.send(format!("{}/metrics", base.trim_end_matches('/')));
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("no `serving` line on stderr");
    Serving { child, url }
}

impl Serving {
    /// SIGTERM, then the exit code (within 15 s).
    fn stop(mut self) -> Option<i32> {
        let kill = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(kill.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code();
            }
            assert!(Instant::now() < deadline, "did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// GET `url` as Prometheus asks (OpenMetrics first): status, content type
/// and body.
fn get(url: &str) -> (u16, String, String) {
    get_accepting(
        url,
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
    )
}

/// GET `url` with this `Accept` header (none when empty).
fn get_accepting(url: &str, accept: &str) -> (u16, String, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut request = reqwest::Client::new().get(url);
        if !accept.is_empty() {
            request = request.header("accept", accept);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, kind, response.text().await.unwrap())
    })
}

/// The value of the sample `name` (labels included) in metrics text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn serve_gives_the_stores_metrics_and_stops_on_sigterm() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    let server = spawn(&t, &["serve", "--bind", "127.0.0.1:0"]);
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );

    let (status, kind, text) = get(&server.url);
    assert_eq!(status, 200, "{text}");
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    assert!(text.ends_with("# EOF\n"), "{text}");
    // The check `check` made, from the store; this process checked nothing.
    let checked = t
        .db()
        .query_row("SELECT started_at FROM checks", (), |r| {
            r.get::<_, String>(0)
        })
        .unwrap()
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_second() as f64;
    assert_eq!(
        sample(
            &text,
            "redliner_last_success_timestamp_seconds{target=\"nato-belarus\"}"
        ),
        Some(checked)
    );
    assert_eq!(
        sample(&text, "redliner_alerts_undelivered{state=\"pending\"}"),
        Some(0.0)
    );
    // Every outcome's counter exists from the start, at 0 here.
    assert_eq!(
        sample(&text, "redliner_checks_total{outcome=\"baseline\"}"),
        Some(0.0),
        "{text}"
    );

    // A client that does not ask for OpenMetrics gets the Prometheus text
    // format 0.0.4, the same samples.
    let (status, kind, plain) = get_accepting(&server.url, "");
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    assert!(!plain.contains("# EOF"), "{plain}");
    assert!(
        plain.contains("# TYPE redliner_checks_total counter"),
        "{plain}"
    );
    assert_eq!(
        sample(&plain, "redliner_alerts_undelivered{state=\"pending\"}"),
        Some(0.0)
    );

    let base = server.url.trim_end_matches("/metrics");
    assert_eq!(get(&format!("{base}/nothing-here")).0, 404);
    assert_eq!(server.stop(), Some(0));
}

#[test]
fn serve_refuses_an_address_other_hosts_could_reach() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    for addr in ["0.0.0.0:0", "[::]:0"] {
        let run = t.run(&["serve", "--bind", addr]);
        assert_eq!(run.code, 2, "{addr}: {}", run.stderr);
        assert!(
            run.stderr.contains("is not a loopback address"),
            "{}",
            run.stderr
        );
    }
    let run = t.run(&["watch", "--serve", "0.0.0.0:0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not a loopback address"),
        "{}",
        run.stderr
    );
}

#[test]
fn serve_without_a_store_says_so() {
    let t = Test::new();
    if let Some(pg) = &t.pg {
        // In PostgreSQL: a database that does not exist.
        let missing = format!("{}_missing", pg.url);
        let run: crate::harness::Run = std::process::Command::new(env!("CARGO_BIN_EXE_redliner"))
            .current_dir(t.dir.path())
            .env_remove("REDLINER_STORE")
            .args([
                "--config",
                t.config_path().to_str().unwrap(),
                "--store",
                &missing,
            ])
            .args(["serve", "--bind", "127.0.0.1:0"])
            .output()
            .unwrap()
            .into();
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
        return;
    }
    let run = t.run(&["serve", "--bind", "127.0.0.1:0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no store at"), "{}", run.stderr);
}

/// `watch --serve`: the daemon's own checks are counted by outcome and
/// timed, beside the store's gauges.
#[test]
fn watch_serves_the_metrics_of_its_checks() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    let text = t.config_path();
    let config = std::fs::read_to_string(&text).unwrap();
    t.write_config(&config.replace(
        "rules = \"nato-topic\"\n",
        "rules = \"nato-topic\"\nevery = \"1s\"\n",
    ));
    let server = spawn(&t, &["watch", "--serve", "127.0.0.1:0"]);
    // The baseline, then unchanged checks every second.
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let (status, _, text) = get(&server.url);
        assert_eq!(status, 200, "{text}");
        if sample(&text, "redliner_checks_total{outcome=\"unchanged\"}").is_some_and(|n| n >= 1.0) {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "no unchanged check counted: {text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        sample(&text, "redliner_checks_total{outcome=\"baseline\"}"),
        Some(1.0),
        "{text}"
    );
    let fetches = sample(&text, "redliner_fetch_duration_seconds_count").unwrap();
    assert!(fetches >= 2.0, "{text}");
    assert!(
        sample(
            &text,
            "redliner_last_success_timestamp_seconds{target=\"nato-belarus\"}"
        )
        .is_some(),
        "{text}"
    );
    // The web application runs in the same process, over the daemon's store.
    let base = server.url.trim_end_matches("/metrics");
    let (status, kind, page) = get_accepting(&format!("{base}/targets/nato-belarus"), "");
    assert_eq!(status, 200, "{page}");
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(page.contains("data-kind=\"baseline\""), "{page}");
    assert_eq!(server.stop(), Some(0));
}

/// An address in use is refused before the store is opened: nothing is
/// created.
#[test]
fn an_address_in_use_is_refused_before_the_store_is_created() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let run = t.run(&["watch", "--once", "--serve", &addr]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot listen on"), "{}", run.stderr);
    assert!(!t.store().exists(), "the store was created");
    assert!(t.server.seen().is_empty(), "a check ran");
}
