//! The fault campaign: the real binary checks a page served by a scripted
//! raw-socket server ([`raw`]) that misbehaves in one way per kind, after a
//! good baseline. Every kind asserts the same five things:
//!
//! 1. no snapshot: the snapshot rows and the store's files are as the
//!    baseline left them, and no revision is recorded;
//! 2. no alert: the outbox (`alerts` table) is empty and the local webhook
//!    receiver saw nothing;
//! 3. what the user sees: a fault that ends the check prints exactly one
//!    error line, `redliner: target `faulty`: ...` naming the fault and the
//!    page (an indented `hint:` line may follow it), and exits 2; a transient
//!    fault the refetch repairs (a cut body) exits 0 with at most one warning
//!    line naming it;
//! 4. the baseline is intact (files and row, as in 1);
//! 5. the next good check is silent: exit 0, nothing printed, `unchanged`.
//!
//! Cut kinds cut only the first response of the fault check, so the refetch
//! sees the whole page; a server that keeps cutting is its own named test.
//! Each kind is its own `#[test]` (they run in parallel);
//! `cargo test --test integration faults` runs the campaign.

mod raw;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::harness::{NATO_RULES, Reply, Run, Test, fixture};
use raw::{RawServer, Response, Step, head};

/// The page's path on the scripted server.
const PAGE: &str = "/cps/en/natohq/topics_49119.htm";
/// The target's id.
const TARGET: &str = "faulty";
/// The variable holding the webhook receiver's URL.
const HOOK_ENV: &str = "FAULTS_HOOK_URL";
/// `max_body_bytes` in the campaign's config (the good page is 14 KB).
const MAX_BODY: usize = 1_000_000;

/// What a kind must look like to the user.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// The check fails: exit 2, one error line holding every needle (a
    /// needle `a|b` holds when either does; case-insensitive).
    Fails(&'static [&'static str]),
    /// The fault is absorbed (repaired by the refetch, or decoded right):
    /// exit 0, at most one warning line, which holds every needle.
    Absorbed(&'static [&'static str]),
    /// Absorbed without a word on stderr.
    Quiet,
}

/// One kind's world: the scripted server, a temp store with the baseline,
/// and a webhook receiver (the harness's own server) for the target's alerts.
struct Campaign {
    t: Test,
    raw: RawServer,
    hook: String,
}

impl Campaign {
    /// A store holding the good page's baseline.
    fn new() -> Campaign {
        let t = Test::new();
        t.server.reply(Reply::html("ok"));
        let hook = t.server.url("/hook");
        let raw = RawServer::start(good());
        let c = Campaign { t, raw, hook };
        c.point_at(&c.raw.url(PAGE));
        let run = c.check();
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (0, "", ""),
            "baseline"
        );
        assert_eq!(c.t.count("snapshots"), 1, "baseline");
        c
    }

    /// Writes the config with the target at `url`.
    fn point_at(&self, url: &str) {
        self.t.write_config(&format!(
            "[settings]\ntimeout = \"1s\"\nretries = 0\nconfirm_after = \"0s\"\n\
             min_host_delay = \"0s\"\nmax_body_bytes = {MAX_BODY}\n{NATO_RULES}\n\
             [[channel]]\nid = \"hook\"\nkind = \"webhook\"\nurl_env = \"{HOOK_ENV}\"\n\
             timeout = \"1s\"\n\n\
             [[target]]\nid = \"{TARGET}\"\nurl = \"{url}\"\nrules = \"nato-topic\"\n\
             channels = [\"hook\"]\n"
        ));
    }

    /// `redliner check`, the receiver's URL in the environment.
    fn check(&self) -> Run {
        self.t
            .run_with_env(&["check"], &[(HOOK_ENV, self.hook.as_str())])
    }

    /// `http://127.0.0.1:PORT/path` on the scripted server.
    fn url(&self, path: &str) -> String {
        self.raw.url(path)
    }

    /// What must not change: the snapshot rows and every file of the store
    /// but the SQLite index (and its lock), by path; in PostgreSQL, every
    /// blob (as `blobs/<sha256>`).
    fn record(&self) -> (Vec<String>, BTreeMap<PathBuf, Vec<u8>>) {
        use redliner::store::db::{Dialect, Value};
        // Every column, whatever columns the schema gains.
        let db = self.t.db();
        let names: Vec<String> = match db.dialect() {
            Dialect::Sqlite => db.query_vec(
                "SELECT name FROM pragma_table_info('snapshots') ORDER BY cid",
                (),
                |r| r.get(0),
            ),
            Dialect::Postgres => db.query_vec(
                "SELECT column_name::text FROM information_schema.columns
                  WHERE table_schema = current_schema() AND table_name = 'snapshots'
                  ORDER BY ordinal_position",
                (),
                |r| r.get(0),
            ),
        }
        .unwrap();
        // The source fingerprint and mask are keys for skipping extraction,
        // not part of the record: an unchanged page may lend the snapshot
        // its own.
        let columns: Vec<String> = names
            .into_iter()
            .filter(|c| !matches!(c.as_str(), "source_fingerprint" | "source_mask"))
            .collect();
        let rows = db
            .query_vec(
                &format!("SELECT {} FROM snapshots ORDER BY id", columns.join(", ")),
                (),
                |r| {
                    (0..columns.len())
                        .map(|i| r.get::<_, Value>(i))
                        .collect::<Result<Vec<_>, _>>()
                },
            )
            .unwrap()
            .into_iter()
            .map(|r| format!("{r:?}"))
            .collect();
        let mut files = BTreeMap::new();
        if self.t.pg.is_some() {
            for (sha, zstd) in db
                .query_vec("SELECT sha256, zstd FROM blobs ORDER BY sha256", (), |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
                })
                .unwrap()
            {
                files.insert(PathBuf::from("blobs").join(sha), zstd);
            }
        } else {
            walk(&self.t.store(), &self.t.store(), &mut files);
        }
        (rows, files)
    }

    /// The outcome of the latest check.
    fn last_outcome(&self) -> String {
        self.t
            .db()
            .query_row(
                "SELECT outcome FROM checks ORDER BY id DESC LIMIT 1",
                (),
                |r| r.get(0),
            )
            .unwrap()
    }
}

/// Every file under `dir` but the index, its journal and lock files.
fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            walk(root, &path, out);
        } else if !name.starts_with("redliner.sqlite") && !name.ends_with(".lock") {
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            out.insert(rel, std::fs::read(&path).unwrap());
        }
    }
}

/// True when `line` holds the needle (`a|b`: either), case-insensitive.
fn holds(line: &str, needle: &str) -> bool {
    let line = line.to_lowercase();
    needle
        .split('|')
        .any(|alt| line.contains(&alt.to_lowercase()))
}

/// Runs one kind: baseline, the fault check, the asserts, then the next
/// good check. Panics with every broken promise of the kind at once.
fn run(name: &str, expect: Expect, fault: impl Fn(&Campaign)) {
    let c = Campaign::new();
    let baseline = c.record();
    fault(&c);
    let run = c.check();
    let mut broken: Vec<String> = Vec::new();
    let mut require = |ok: bool, what: String| {
        if !ok {
            broken.push(what);
        }
    };
    let lines: Vec<&str> = run.stderr.lines().collect();
    require(
        run.stdout.is_empty(),
        format!("stdout not empty: {}", run.stdout),
    );
    match expect {
        Expect::Fails(needles) => {
            require(run.code == 2, format!("exit {} (want 2)", run.code));
            let prefix = format!("redliner: target `{TARGET}`: ");
            let errors: Vec<&&str> = lines
                .iter()
                .filter(|l| !l.starts_with("  hint: "))
                .collect();
            let hints = lines.len() - errors.len();
            require(
                errors.len() == 1 && hints <= 1,
                format!(
                    "want one error line (and at most one hint), got {}",
                    lines.len()
                ),
            );
            if let Some(line) = errors.first() {
                require(
                    line.starts_with(&prefix),
                    format!("error line not `{prefix}...`"),
                );
                // The page, or for a moved target the address it moved to.
                require(
                    holds(line, PAGE) || holds(line, "target redirected to"),
                    "error line does not name the page".into(),
                );
                for needle in needles {
                    require(holds(line, needle), format!("error line lacks `{needle}`"));
                }
            }
            let outcome = c.last_outcome();
            require(
                outcome == "failed",
                format!("check recorded as `{outcome}`"),
            );
        }
        Expect::Absorbed(needles) => {
            require(run.code == 0, format!("exit {} (want 0)", run.code));
            require(
                lines.len() <= 1,
                format!("want at most one warning line, got {}", lines.len()),
            );
            for line in &lines {
                require(!line.starts_with("redliner: "), "an error line".into());
                for needle in needles {
                    require(holds(line, needle), format!("warning lacks `{needle}`"));
                }
            }
            let outcome = c.last_outcome();
            require(
                outcome == "unchanged" || outcome == "unconfirmed",
                format!("check recorded as `{outcome}`"),
            );
        }
        Expect::Quiet => {
            require(run.code == 0, format!("exit {} (want 0)", run.code));
            require(lines.is_empty(), format!("{} lines on stderr", lines.len()));
            let outcome = c.last_outcome();
            require(
                outcome == "unchanged",
                format!("check recorded as `{outcome}`"),
            );
        }
    }
    let after = c.record();
    require(after.0 == baseline.0, "snapshot rows changed".into());
    require(
        after.1.keys().eq(baseline.1.keys()),
        format!(
            "store files changed: {:?} -> {:?}",
            baseline.1.keys().collect::<Vec<_>>(),
            after.1.keys().collect::<Vec<_>>()
        ),
    );
    require(
        after.1 == baseline.1,
        "a stored file's bytes changed".into(),
    );
    let revisions = c.t.count("revisions");
    require(revisions == 0, format!("{revisions} revisions recorded"));
    let alerts = c.t.count("alerts");
    require(alerts == 0, format!("{alerts} alerts queued"));
    require(
        c.t.server.seen().is_empty(),
        "the webhook was called".into(),
    );
    let fault_stderr = run.stderr.clone();

    // The next good check is silent.
    c.raw.heal();
    c.point_at(&c.url(PAGE));
    let next = c.check();
    require(
        (next.code, next.stdout.as_str(), next.stderr.as_str()) == (0, "", ""),
        format!(
            "next good check: exit {}, stdout {:?}, stderr {:?}",
            next.code, next.stdout, next.stderr
        ),
    );
    let outcome = c.last_outcome();
    require(
        outcome == "unchanged",
        format!("next good check recorded as `{outcome}`"),
    );
    require(
        c.record() == baseline,
        "the next good check changed the store".into(),
    );
    require(
        c.t.count("alerts") == 0,
        "the next good check queued an alert".into(),
    );
    assert!(
        broken.is_empty(),
        "fault kind `{name}`:\n  - {}\nstderr of the fault check:\n{fault_stderr}",
        broken.join("\n  - ")
    );
}

/// Declares the kinds: one `#[test]` each, and [`KINDS`] naming them all.
macro_rules! kinds {
    ($($(#[$meta:meta])* $name:ident => $expect:expr, $fault:expr;)+) => {
        $(
            $(#[$meta])*
            #[test]
            fn $name() {
                run(stringify!($name), $expect, $fault);
            }
        )+
        /// Every fault kind of the campaign.
        const KINDS: &[&str] = &[$(stringify!($name)),+];
    };
}

// ---- pages and bodies ----

/// The good page: the NATO fixture, whole.
fn good() -> Response {
    Response::html(v1())
}

fn v1() -> Vec<u8> {
    fixture("nato-belarus/v1.html")
}

fn v1_text() -> String {
    String::from_utf8(v1()).unwrap()
}

/// The first half of the good page.
fn half() -> Vec<u8> {
    let v1 = v1();
    v1[..v1.len() / 2].to_vec()
}

/// The good page with its content section's inside replaced by `inner`.
fn with_content(inner: &str) -> String {
    let v1 = v1_text();
    let start = v1.find("<section class=\"content").unwrap();
    let open_end = start + v1[start..].find('>').unwrap() + 1;
    let close = v1.find("</section>").unwrap();
    format!("{}{inner}{}", &v1[..open_end], &v1[close..])
}

/// The good page with `extra` inserted in its content section, first.
fn with_markup(extra: &str) -> String {
    let v1 = v1_text();
    let start = v1.find("<section class=\"content").unwrap();
    let open_end = start + v1[start..].find('>').unwrap() + 1;
    format!("{}{extra}{}", &v1[..open_end], &v1[open_end..])
}

/// A 200 with this content type and body.
fn typed(content_type: &str, body: impl Into<Vec<u8>>) -> Response {
    Response::full(200, &[("Content-Type", content_type)], body)
}

/// A status with a small HTML body.
fn status(code: u16, headers: &[(&str, &str)]) -> Response {
    let mut all = vec![("Content-Type", "text/html")];
    all.extend_from_slice(headers);
    Response::full(
        code,
        &all,
        format!("<html><body><h1>Error {code}</h1></body></html>"),
    )
}

/// The good page under `Content-Encoding: encoding`, `body` already encoded.
fn encoded(encoding: &str, body: Vec<u8>) -> Response {
    Response::full(
        200,
        &[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Encoding", encoding),
        ],
        body,
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

/// 16 MB of zeros: far above [`MAX_BODY`] once inflated, ~16 KB compressed.
fn bomb() -> Vec<u8> {
    vec![0u8; 16 << 20]
}

/// `data` cut to its first `percent` %.
fn cut(data: Vec<u8>, percent: usize) -> Vec<u8> {
    let at = data.len() * percent / 100;
    data[..at].to_vec()
}

/// The good page's headers with this `Content-Length`, then `body` steps.
fn framed(content_length: &str, body: Vec<Step>) -> Response {
    let mut steps = vec![Step::Write(head(
        200,
        &[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", content_length),
        ],
    ))];
    steps.extend(body);
    Response::steps(steps)
}

/// The good page's headers, chunked, then these raw bytes (chunk framing
/// written by the caller).
fn chunked(raw: Vec<u8>) -> Response {
    Response::bytes(chunked_bytes(raw))
}

/// The bytes of [`chunked`].
fn chunked_bytes(raw: Vec<u8>) -> Vec<u8> {
    let mut bytes = head(
        200,
        &[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Transfer-Encoding", "chunked"),
        ],
    );
    bytes.extend(raw);
    bytes
}

/// `data` as well-formed chunks of at most 4 KB (no terminating chunk).
fn chunks(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in data.chunks(4096) {
        out.extend(format!("{:x}\r\n", piece.len()).into_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A port nothing listens on.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// An HTML page on its own (not the site's template).
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body>{body}</body></html>"
    )
}

/// The site's template with another page's title and text in it.
fn other_page(title: &str, paragraphs: &[&str]) -> String {
    let v1 = v1_text()
        .replacen("Relations with Belarus</h1>", &format!("{title}</h1>"), 1)
        .replacen(
            "<title>NATO - Topic: Relations with Belarus",
            &format!("<title>NATO - {title}"),
            1,
        );
    let inner: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    let start = v1.find("<section class=\"content").unwrap();
    let open_end = start + v1[start..].find('>').unwrap() + 1;
    let close = v1.find("</section>").unwrap();
    format!("{}{inner}{}", &v1[..open_end], &v1[close..])
}

/// A redirect at the page to `location`.
fn redirect_page(c: &Campaign, status: u16, location: &str) {
    c.raw.steady(Response::redirect(status, location));
}

// ---- the kinds ----

kinds! {
    // Statuses.
    status_500_internal_server_error => Expect::Fails(&["HTTP 500"]), |c| c.raw.steady(status(500, &[]));
    status_502_bad_gateway => Expect::Fails(&["HTTP 502"]), |c| c.raw.steady(status(502, &[]));
    status_503_with_a_long_retry_after => Expect::Fails(&["HTTP 503"]),
        |c| c.raw.steady(status(503, &[("Retry-After", "3600")]));
    status_503_with_a_retry_after_date => Expect::Fails(&["HTTP 503"]),
        |c| c.raw.steady(status(503, &[("Retry-After", "Wed, 21 Oct 2099 07:28:00 GMT")]));
    status_504_gateway_timeout => Expect::Fails(&["HTTP 504"]), |c| c.raw.steady(status(504, &[]));
    status_429_with_retry_after => Expect::Fails(&["HTTP 429"]),
        |c| c.raw.steady(status(429, &[("Retry-After", "120")]));
    status_403_forbidden => Expect::Fails(&["HTTP 403"]), |c| c.raw.steady(status(403, &[]));
    status_401_with_a_login_challenge => Expect::Fails(&["HTTP 401"]),
        |c| c.raw.steady(status(401, &[("WWW-Authenticate", "Basic realm=\"intranet\"")]));
    status_404_not_found => Expect::Fails(&["HTTP 404"]), |c| c.raw.steady(status(404, &[]));
    status_410_gone => Expect::Fails(&["HTTP 410"]), |c| c.raw.steady(status(410, &[]));
    status_451_unavailable_for_legal_reasons => Expect::Fails(&["HTTP 451"]),
        |c| c.raw.steady(status(451, &[]));
    status_400_bad_request => Expect::Fails(&["HTTP 400"]), |c| c.raw.steady(status(400, &[]));
    status_999_nonstandard => Expect::Fails(&["HTTP 999"]), |c| c.raw.steady(status(999, &[]));
    status_304_to_a_request_without_validators => Expect::Fails(&["304"]),
        |c| c.raw.steady(Response::bytes(head(304, &[])));
    status_204_no_content => Expect::Fails(&["empty body"]),
        |c| c.raw.steady(Response::bytes(head(204, &[("Content-Type", "text/html")])));
    status_200_with_an_empty_body => Expect::Fails(&["empty body"]),
        |c| c.raw.steady(Response::html(Vec::new()));
    status_200_with_a_whitespace_body => Expect::Fails(&["empty body"]),
        |c| c.raw.steady(Response::html(" \r\n\t\n".repeat(100)));
    status_301_without_location => Expect::Fails(&["HTTP 301"]),
        |c| c.raw.steady(status(301, &[]));

    // Connection faults.
    connection_refused => Expect::Fails(&["connection refused"]),
        |c| c.point_at(&format!("http://127.0.0.1:{}{PAGE}", dead_port()));
    reset_before_the_response => Expect::Fails(&["connection reset"]),
        |c| c.raw.steady(Response::steps(vec![Step::Reset]));
    closed_before_the_response => Expect::Fails(&["connection closed"]),
        |c| c.raw.steady(Response::steps(vec![]));
    reset_mid_headers => Expect::Fails(&["connection reset"]),
        |c| c.raw.steady(Response::steps(vec![
            Step::Write(b"HTTP/1.1 200 OK\r\nContent-Ty".to_vec()), Step::Reset,
        ]));
    reset_mid_body => Expect::Fails(&["connection reset"]),
        |c| c.raw.steady(framed(&v1().len().to_string(), vec![Step::Write(half()), Step::Reset]));
    reset_mid_chunked_body => Expect::Fails(&["connection reset"]),
        |c| c.raw.steady(Response::steps(vec![Step::Write(chunked_bytes(chunks(&half()))), Step::Reset]));
    timeout_before_headers => Expect::Fails(&["timed out after 1 s"]),
        |c| c.raw.steady(Response::steps(vec![Step::Hang]));
    timeout_mid_headers => Expect::Fails(&["timed out"]),
        |c| c.raw.steady(Response::steps(vec![
            Step::Write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n".to_vec()), Step::Hang,
        ]));
    timeout_mid_body => Expect::Fails(&["timed out"]),
        |c| c.raw.steady(framed(&v1().len().to_string(), vec![Step::Write(half()), Step::Hang]));
    timeout_mid_close_delimited_body => Expect::Fails(&["timed out"]),
        |c| c.raw.steady(Response::steps(vec![
            Step::Write(head(200, &[("Content-Type", "text/html")])),
            Step::Write(half()),
            Step::Hang,
        ]));
    timeout_by_a_slow_drip => Expect::Fails(&["timed out"]),
        |c| {
            let mut steps = Vec::new();
            for piece in v1().chunks(200) {
                steps.push(Step::Write(piece.to_vec()));
                steps.push(Step::Pause(Duration::from_millis(100)));
            }
            c.raw.steady(framed(&v1().len().to_string(), steps));
        };
    timeout_after_endless_100_continue => Expect::Fails(&["timed out"]),
        |c| c.raw.steady(Response::steps(vec![
            Step::Write(b"HTTP/1.1 100 Continue\r\n\r\n".to_vec()), Step::Hang,
        ]));
    content_length_longer_than_the_body => Expect::Fails(&["closed before a full response"]),
        |c| c.raw.steady(framed(&(v1().len() * 2).to_string(), vec![Step::Write(v1())]));
    content_length_shorter_than_the_body_once => Expect::Absorbed(&["cut"]),
        |c| c.raw.once(framed(&(v1().len() / 2).to_string(), vec![Step::Write(v1())]));
    cut_with_a_correct_content_length_once => Expect::Absorbed(&["cut"]),
        |c| c.raw.once(Response::html(cut(v1(), 60)));
    close_delimited_cut_once => Expect::Absorbed(&["cut"]),
        |c| c.raw.once(Response::steps(vec![
            Step::Write(head(200, &[("Content-Type", "text/html; charset=utf-8")])),
            Step::Write(half()),
        ]));
    content_length_not_a_number => Expect::Fails(&["content-length"]),
        |c| c.raw.steady(framed("fourteen", vec![Step::Write(v1())]));
    content_length_twice_with_two_values => Expect::Fails(&["content-length"]),
        |c| c.raw.steady(Response::bytes([head(200, &[
            ("Content-Type", "text/html"), ("Content-Length", "100"), ("Content-Length", "200"),
        ]), v1()].concat()));
    chunked_body_closed_without_the_last_chunk => Expect::Fails(&["closed before a full response"]),
        |c| c.raw.steady(chunked(chunks(&v1())));
    chunked_body_closed_mid_chunk => Expect::Fails(&["closed before a full response"]),
        |c| {
            let mut raw = chunks(&v1());
            raw.truncate(raw.len() - 100);
            c.raw.steady(chunked(raw));
        };
    chunk_size_not_hex => Expect::Fails(&["chunk size"]),
        |c| c.raw.steady(chunked([b"zz\r\n".to_vec(), v1(), b"\r\n0\r\n\r\n".to_vec()].concat()));
    chunk_size_overflowing => Expect::Fails(&["chunk size"]),
        |c| c.raw.steady(chunked([b"ffffffffffffffffffff\r\n".to_vec(), v1()].concat()));
    chunk_longer_than_its_size => Expect::Fails(&["chunk"]),
        |c| c.raw.steady(chunked([b"10\r\n".to_vec(), v1(), b"\r\n0\r\n\r\n".to_vec()].concat()));
    garbage_status_line => Expect::Fails(&["invalid HTTP"]),
        |c| c.raw.steady(Response::bytes([b"HTXP/1.1 200 OK\r\n\r\n".to_vec(), v1()].concat()));
    body_without_a_status_line => Expect::Fails(&["invalid HTTP"]),
        |c| c.raw.steady(Response::bytes(v1()));
    binary_noise_instead_of_a_response => Expect::Fails(&["invalid HTTP"]),
        |c| c.raw.steady(Response::bytes((0..4096u32).map(|i| (i * 7919 % 251) as u8).collect::<Vec<u8>>()));
    header_line_without_a_colon => Expect::Fails(&["invalid HTTP header"]),
        |c| c.raw.steady(Response::bytes([
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nthis is not a header\r\n\r\n".to_vec(), v1(),
        ].concat()));
    headers_too_large => Expect::Fails(&["too large"]),
        |c| {
            let big = "x".repeat(512 * 1024);
            c.raw.steady(Response::full(200, &[("Content-Type", "text/html"), ("X-Padding", &big)], v1()));
        };

    // Compression.
    gzip_that_is_not_gzip => Expect::Fails(&["gzip"]),
        |c| c.raw.steady(encoded("gzip", v1()));
    gzip_cut_short => Expect::Fails(&["gzip|decod|closed before a full response"]),
        |c| c.raw.steady(encoded("gzip", cut(gzip(&v1()), 50)));
    gzip_with_a_bad_checksum => Expect::Fails(&["gzip|crc"]),
        |c| {
            let mut gz = gzip(&v1());
            let n = gz.len();
            gz[n - 6] ^= 0xff;
            c.raw.steady(encoded("gzip", gz));
        };
    gzip_bomb => Expect::Fails(&["larger than"]),
        |c| c.raw.steady(encoded("gzip", gzip(&bomb())));
    brotli_that_is_not_brotli => Expect::Fails(&["brotli"]),
        |c| c.raw.steady(encoded("br", v1()));
    brotli_cut_short => Expect::Fails(&["brotli|decod|closed before a full response"]),
        |c| c.raw.steady(encoded("br", cut(brotli(&v1()), 50)));
    brotli_bomb => Expect::Fails(&["larger than"]),
        |c| c.raw.steady(encoded("br", brotli(&bomb())));
    deflate_that_is_not_deflate => Expect::Fails(&["deflate"]),
        |c| c.raw.steady(encoded("deflate", v1()));
    deflate_bomb => Expect::Fails(&["larger than"]),
        |c| c.raw.steady(encoded("deflate", zlib(&bomb())));
    unsupported_content_encoding => Expect::Fails(&["encoding|not an HTML|decod"]),
        |c| c.raw.steady(encoded("zstd", gzip(&v1())));

    // Charset lies and invalid bytes.
    windows_1251_body_labelled_utf_8 => Expect::Absorbed(&["windows-1251"]),
        |c| c.raw.steady(Response::html(encoding_rs::WINDOWS_1251.encode(&v1_text()).0.into_owned()));
    utf_8_body_labelled_windows_1251 => Expect::Absorbed(&["utf-8"]),
        |c| c.raw.steady(typed("text/html; charset=windows-1251", v1()));
    utf_8_body_labelled_latin_1_by_its_meta_tag => Expect::Absorbed(&["utf-8"]),
        |c| c.raw.steady(typed("text/html", v1_text().replacen(
            "<meta charset=\"utf-8\">", "<meta charset=\"iso-8859-1\">", 1)));
    a_few_invalid_utf_8_bytes => Expect::Fails(&["utf-8"]),
        |c| {
            let mut body = v1();
            let at = v1_text().find("Belarus’ diplomatic mission").unwrap();
            body[at] = 0xff;
            body[at + 40] = 0xc3;
            body[at + 80] = 0x80;
            c.raw.steady(Response::html(body));
        };
    utf_8_body_labelled_utf_16 => Expect::Absorbed(&["utf-8"]),
        |c| c.raw.steady(typed("text/html; charset=utf-16le", v1()));

    // Error and challenge pages served as 200.
    cloudflare_challenge_as_200 => Expect::Fails(&["error|interstitial|content root"]),
        |c| c.raw.steady(Response::html(page("Just a moment...",
            "<div class=\"main-wrapper\"><h1>www.nato.int</h1><h2>Verifying you are human. This may take a few seconds.</h2>\
             <p>www.nato.int needs to review the security of your connection before proceeding.</p>\
             <noscript>Enable JavaScript and cookies to continue</noscript>\
             <script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1\"></script></div>\
             <div class=\"footer\">Ray ID: 8f1a2b3c4d5e6f70 · Performance &amp; security by Cloudflare</div>")));
    access_denied_as_200 => Expect::Fails(&["error|interstitial|content root"]),
        |c| c.raw.steady(Response::html(page("Access Denied",
            "<h1>Access Denied</h1>You don't have permission to access \"http&#58;&#47;&#47;www&#46;nato&#46;int&#47;cps&#47;en&#47;natohq&#47;topics&#95;49119&#46;htm\" on this server.<p>Reference&#32;&#35;18&#46;6b1e3e17&#46;1733211111&#46;2f5c8e</p>")));
    maintenance_page_as_200 => Expect::Fails(&["error|interstitial|content root"]),
        |c| c.raw.steady(Response::html(page("Site under maintenance",
            "<article><h1>We&rsquo;ll be back soon!</h1><p>Sorry for the inconvenience but we&rsquo;re performing some maintenance at the moment. \
             If you need to you can always contact us, otherwise we&rsquo;ll be back online shortly!</p><p>&mdash; The Team</p></article>")));
    maintenance_notice_in_the_site_template => Expect::Fails(&["error|interstitial|content root"]),
        |c| c.raw.steady(Response::html(with_content(
            "<p>This page is temporarily unavailable while we update it. Please come back later.</p>")));
    soft_404_in_the_site_template => Expect::Fails(&["error page"]),
        |c| c.raw.steady(Response::html(other_page("Page not found",
            &["The page you requested could not be found. It may have been moved or deleted."])));
    login_wall_as_200 => Expect::Fails(&["error|interstitial|content root"]),
        |c| c.raw.steady(Response::html(page("NATO",
            &format!("<main><h1>Welcome</h1><p>{}</p></main>",
                "Please sign in with your organisation account to continue to this resource. ".repeat(8)))));
    empty_single_page_app_shell => Expect::Fails(&["error|interstitial|content root"]),
        |c| c.raw.steady(Response::html(page("NATO",
            "<div id=\"root\"></div><noscript>You need to enable JavaScript to run this app.</noscript>\
             <script src=\"/static/js/main.3f1a2b.js\"></script>")));
    empty_content_root_in_the_site_template => Expect::Fails(&["content root"]),
        |c| c.raw.steady(Response::html(fixture("nato-belarus/empty-root.html")));
    captcha_page_as_200 => Expect::Fails(&["error|interstitial|content root"]),
        |c| c.raw.steady(Response::html(page("Are you a robot?",
            "<h1>Please verify you are a human</h1><p>Access to this page has been denied because we believe you are using automation tools to browse the website.</p>\
             <div id=\"px-captcha\"></div><p>Reference ID: 7c9a1f20-b15e-11ef-9d3c-6f2a1b7e0c11</p>")));
    server_error_page_as_200 => Expect::Fails(&["error page"]),
        |c| c.raw.steady(Response::html(page("500 Internal Server Error",
            "<h1>Internal Server Error</h1><p>The server encountered an internal error or misconfiguration and was unable to complete your request.</p>")));
    rate_limit_page_as_200 => Expect::Fails(&["error|interstitial|content root"]),
        |c| c.raw.steady(Response::html(page("Too Many Requests",
            "<h1>Too Many Requests</h1><p>You have sent too many requests in a given amount of time. Please slow down.</p>")));
    waf_rejection_as_200 => Expect::Fails(&["error|interstitial|content root"]),
        |c| c.raw.steady(Response::html(page("Request Rejected",
            "<p>The requested URL was rejected. Please consult with your administrator.</p><p>Your support ID is: 1377406211891423817</p>\
             <p><a href=\"javascript:history.back();\">[Go Back]</a></p>")));

    // Redirects.
    redirect_to_the_home_page => Expect::Fails(&["redirected to"]),
        |c| {
            redirect_page(c, 301, "/");
            c.raw.at("/", Response::html(other_page("Welcome to NATO", &[
                "NATO is a political and military alliance of 32 member countries from Europe and North America.",
                "Latest news: the Secretary General met the heads of state and government of the Allies in Brussels.",
                "Explore NATO's history, structure, partnerships and operations and missions around the world.",
            ])));
        };
    redirect_to_a_search_page => Expect::Fails(&["redirected to"]),
        |c| {
            redirect_page(c, 302, "/search?q=topics_49119");
            c.raw.at("/search?q=topics_49119", Response::html(other_page("Search results", &[
                "No results were found for your search topics_49119. Try other words, or browse the topics index.",
                "Search tips: check the spelling, use fewer words, or search the NATO archives instead.",
            ])));
        };
    redirect_loop_between_two_pages => Expect::Fails(&["redirect loop|too many redirects"]),
        |c| {
            redirect_page(c, 302, "/loop-a");
            c.raw.at("/loop-a", Response::redirect(302, "/loop-b"));
            c.raw.at("/loop-b", Response::redirect(302, "/loop-a"));
        };
    redirect_to_itself => Expect::Fails(&["redirect loop|too many redirects"]),
        |c| redirect_page(c, 307, PAGE);
    redirect_chain_too_long => Expect::Fails(&["too many redirects"]),
        |c| {
            redirect_page(c, 302, "/hop/0");
            for i in 0..20 {
                c.raw.at(&format!("/hop/{i}"), Response::redirect(302, &format!("/hop/{}", i + 1)));
            }
        };
    redirect_to_a_file_url => Expect::Fails(&["file:"]),
        |c| redirect_page(c, 302, "file:///etc/passwd");
    redirect_to_an_ftp_url => Expect::Fails(&["ftp:"]),
        |c| redirect_page(c, 301, "ftp://ftp.nato.int/pub/topics_49119.htm");
    redirect_to_a_data_url => Expect::Fails(&["data:"]),
        |c| redirect_page(c, 302, "data:text/html,<h1>Relations with Belarus</h1>");
    redirect_to_an_unparsable_location => Expect::Fails(&["HTTP 302|redirect|location"]),
        |c| redirect_page(c, 302, "http://[::1");
    redirect_to_the_cloud_metadata_address => Expect::Fails(&["169.254.169.254", "refused", "after"]),
        |c| redirect_page(c, 302, "http://169.254.169.254/latest/meta-data/");
    redirect_to_a_link_local_address => Expect::Fails(&["169.254.10.1", "refused"]),
        |c| redirect_page(c, 302, "http://169.254.10.1/");
    redirect_to_an_ipv6_link_local_address => Expect::Fails(&["fe80::1", "refused"]),
        |c| redirect_page(c, 302, "http://[fe80::1]/");
    redirect_to_a_private_address => Expect::Fails(&["10.20.30.40", "refused"]),
        |c| redirect_page(c, 301, "http://10.20.30.40/admin/");
    redirect_to_a_cgnat_address => Expect::Fails(&["100.64.0.1", "refused"]),
        |c| redirect_page(c, 302, "http://100.64.0.1/");
    redirect_to_the_unspecified_address => Expect::Fails(&["0.0.0.0", "refused"]),
        |c| redirect_page(c, 302, &format!("http://0.0.0.0:{}/internal/", c.raw.port));

    // Huge bodies.
    body_over_the_cap_with_content_length => Expect::Fails(&["larger than"]),
        |c| c.raw.steady(Response::html(with_markup(&"<p>filler text</p>".repeat(MAX_BODY / 10))));
    body_over_the_cap_close_delimited => Expect::Fails(&["larger than"]),
        |c| {
            let mut steps = vec![Step::Write(head(200, &[("Content-Type", "text/html")]))];
            steps.extend((0..40).map(|_| Step::Write(b"<p>more</p>".repeat(6000))));
            c.raw.steady(Response::steps(steps));
        };
    body_over_the_cap_chunked => Expect::Fails(&["larger than"]),
        |c| c.raw.steady(chunked(chunks(&b"<p>more</p>".repeat(MAX_BODY / 5))));

    // Wrong content types.
    pdf_instead_of_html => Expect::Fails(&["not an HTML page", "application/pdf"]),
        |c| c.raw.steady(typed("application/pdf", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n".to_vec()));
    json_instead_of_html => Expect::Fails(&["not an HTML page", "application/json"]),
        |c| c.raw.steady(typed("application/json", r#"{"error":"unavailable","retry":true}"#));
    image_instead_of_html => Expect::Fails(&["not an HTML page", "image/png"]),
        |c| c.raw.steady(typed("image/png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()));
    plain_text_instead_of_html => Expect::Fails(&["not an HTML page", "text/plain"]),
        |c| c.raw.steady(typed("text/plain", "Relations with Belarus\n\nThis page has moved.\n"));
    octet_stream_instead_of_html => Expect::Fails(&["not an HTML page", "octet-stream"]),
        |c| c.raw.steady(typed("application/octet-stream", v1()));
    no_content_type_and_binary_body => Expect::Fails(&["not an HTML page"]),
        |c| c.raw.steady(Response::full(200, &[], b"\x1f\x8b\x08\0\0\0\0\0binary".to_vec()));
    pdf_labelled_html => Expect::Fails(&["not an HTML page", "application/pdf"]),
        |c| c.raw.steady(Response::html(format!("%PDF-1.7\n{}\n%%EOF\n", "1 0 obj << /Length 44 >> stream BT /F1 12 Tf (Relations) Tj ET endstream endobj\n".repeat(50))));

    // Pathological markup.
    nesting_by_real_divs => Expect::Fails(&["nests"]),
        |c| c.raw.steady(Response::html(with_markup(&"<div>".repeat(5000))));
    nesting_by_self_closing_divs => Expect::Fails(&["nests"]),
        |c| c.raw.steady(Response::html(with_markup(&"<div/>".repeat(80_000))));
    nesting_hidden_by_bogus_end_tags => Expect::Fails(&["nests"]),
        |c| c.raw.steady(Response::html(with_markup(&"<div></x>".repeat(80_000))));
    nesting_hidden_by_end_tags_in_comments => Expect::Fails(&["nests"]),
        |c| c.raw.steady(Response::html(with_markup(&"<div><!--</div>-->".repeat(50_000))));
    misnested_tables_in_the_chrome_are_quiet => Expect::Quiet,
        |c| {
            let v1 = v1_text();
            let soup = "<table><tr><td>x</td></tr><b>loose</b><p>text</table>".repeat(500);
            c.raw.steady(Response::html(v1.replacen("<aside", &format!("<div class=\"chrome\">{soup}</div><aside"), 1)));
        };
}

#[test]
fn the_campaign_has_at_least_60_fault_kinds() {
    assert!(KINDS.len() >= 60, "{} kinds", KINDS.len());
}

/// A server that keeps cutting: the refetch confirms the cut body, so it is
/// stored once, flagged, and alerted once (issue 7's confirm rule); the same
/// cut again is unchanged.
#[test]
fn a_server_that_keeps_cutting_is_stored_once_and_flagged_with_the_cut_note() {
    let c = Campaign::new();
    c.raw.steady(Response::html(cut(v1(), 72)));
    let run = c.t.run_with_env(
        &["check", "--format", "json"],
        &[(HOOK_ENV, c.hook.as_str())],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let redline: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let notes = redline["notes"].to_string();
    assert!(
        notes.contains("looked cut") && notes.contains("confirmed by a second fetch"),
        "{notes}"
    );
    assert_eq!(c.raw.seen().len(), 3, "baseline, the check, its refetch");
    assert_eq!(c.t.count("snapshots"), 2);
    assert_eq!(c.t.count("revisions"), 1);
    assert_eq!(c.t.count("alerts"), 1);
    let check_note: String =
        c.t.db()
            .query_row(
                "SELECT note FROM checks ORDER BY id DESC LIMIT 1",
                (),
                |r| r.get::<_, Option<String>>(0),
            )
            .unwrap()
            .unwrap_or_default();
    let stored =
        c.t.snapshot_dirs(TARGET)
            .iter()
            .find_map(|d| std::fs::read_to_string(d.join("redline.md")).ok())
            .unwrap_or_default();
    // A store in PostgreSQL keeps no `redline.md`: the note went out with
    // the check's redline (and alerts) only.
    assert!(
        c.t.pg.is_some() || stored.contains("looked cut") || check_note.contains("looked cut"),
        "the note is in neither the stored redline nor the check: {stored}\n{check_note}"
    );
    // The same cut again: stored once, not twice.
    let again = c.check();
    assert_eq!(
        (again.code, again.stdout.as_str()),
        (0, ""),
        "{}",
        again.stderr
    );
    assert_eq!(c.t.count("snapshots"), 2);
    assert_eq!(c.t.count("alerts"), 1);
}
