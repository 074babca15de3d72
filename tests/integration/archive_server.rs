//! A fake web archive on 127.0.0.1 speaking the real formats, serving the
//! captures of `tests/fixtures/wayback/` (see its README):
//!
//! - the Wayback CDX server API, `GET /cdx/search/cdx?url=…&output=json&fl=…`
//!   with `filter=statuscode:N`, `collapse=digest`, `from=` and `to=`
//!   honoured as the Internet Archive's server does;
//! - raw replays, `GET /web/<timestamp>id_/<original>`, answering as the
//!   manifest says (status, `Content-Type`, `Location`, and the
//!   `Memento-Datetime` of the capture);
//! - a Memento TimeMap (RFC 7089), `GET /timemap/link/<url>`, whose mementos
//!   are `/wayback/<timestamp>/<original>` (raw with `id_`).
//!
//! Every request is logged with the time it arrived and when its answer
//! was sent, for the politeness assertions.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

/// One capture of the manifest.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Capture {
    pub timestamp: String,
    pub original: String,
    pub statuscode: String,
    pub mimetype: String,
    pub digest: String,
    pub file: Option<String>,
    /// A body given inline (the hostile captures of a test), instead of `file`.
    #[serde(default)]
    pub body: Option<String>,
    pub replay: Replay,
}

/// How a capture's replay answers.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Replay {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
}

/// A request the archive answered.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub arrived: Instant,
    pub answered: Instant,
}

#[derive(Default)]
struct State {
    hits: Vec<Hit>,
    /// Replays answered with this status (and `Retry-After: 1`) before the
    /// real answer: (status, how many).
    busy: Option<(u16, usize)>,
    /// Replays answered normally before every later one is 503 (an
    /// archive going down mid-backfill).
    down_after: Option<usize>,
    replays: usize,
}

/// The fake archive; stops when dropped.
pub struct Archive {
    pub port: u16,
    state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    thread: Option<thread::JoinHandle<()>>,
}

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wayback")
}

pub fn manifest() -> Vec<Capture> {
    serde_json::from_slice(&std::fs::read(fixtures().join("captures.json")).unwrap()).unwrap()
}

impl Archive {
    pub fn start() -> Archive {
        Archive::start_with(Vec::new())
    }

    /// The fixture captures and `extra` ones, in time order.
    pub fn start_with(extra: Vec<Capture>) -> Archive {
        let mut captures = manifest();
        captures.extend(extra);
        captures.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let state = Arc::new(Mutex::new(State::default()));
        let (s, st, caps) = (server.clone(), state.clone(), captures);
        let thread = thread::spawn(move || {
            for req in s.incoming_requests() {
                let arrived = Instant::now();
                let path = req.url().to_string();
                let (status, headers, body) = answer(&path, &caps, &st, port);
                let mut resp = tiny_http::Response::from_data(body)
                    .with_status_code(tiny_http::StatusCode(status));
                for (n, v) in &headers {
                    resp.add_header(
                        tiny_http::Header::from_bytes(n.as_bytes(), v.as_bytes()).unwrap(),
                    );
                }
                let _ = req.respond(resp);
                st.lock().unwrap().hits.push(Hit {
                    path,
                    arrived,
                    answered: Instant::now(),
                });
            }
        });
        Archive {
            port,
            state,
            server,
            thread: Some(thread),
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.lock().unwrap().hits.clone()
    }

    /// The next `n` replays answer `status` with `Retry-After: 1`.
    pub fn busy(&self, status: u16, n: usize) {
        self.state.lock().unwrap().busy = Some((status, n));
    }

    /// After `n` more replays every replay answers 503 (`None`: back up).
    pub fn down_after(&self, n: Option<usize>) {
        let mut st = self.state.lock().unwrap();
        st.down_after = n.map(|n| st.replays + n);
    }
}

impl Drop for Archive {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

fn html(status: u16, body: &str) -> Answer {
    (
        status,
        vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
        body.as_bytes().to_vec(),
    )
}

fn query(path: &str) -> Vec<(String, String)> {
    let q = path.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The capture's original URL as the archive lists it for a query of
/// `asked`: on the host asked (the manifest's captures are of
/// www.nato.int; the tests watch the page on 127.0.0.1), the scheme and
/// port as captured there.
fn listed(original: &str, asked: &str) -> String {
    match (url::Url::parse(original), url::Url::parse(asked)) {
        (Ok(mut o), Ok(a)) if o.host_str() == Some("www.nato.int") => {
            let _ = o.set_host(a.host_str());
            let _ = o.set_port(a.port());
            o.to_string()
        }
        _ => original.to_string(),
    }
}

/// The page path a URL names, as CDX keys compare them (no scheme, host
/// case, `www.` or default port).
fn page_path(u: &str) -> String {
    url::Url::parse(u)
        .map(|u| u.path().to_string())
        .unwrap_or_default()
}

fn answer(path: &str, caps: &[Capture], st: &Mutex<State>, port: u16) -> Answer {
    if path.starts_with("/cdx/search/cdx") {
        return cdx(&query(path), caps);
    }
    if let Some(rest) = path.strip_prefix("/timemap/link/") {
        return timemap(rest, caps, port);
    }
    let replay = path
        .strip_prefix("/web/")
        .or_else(|| path.strip_prefix("/wayback/"));
    let Some(rest) = replay else {
        if path == "/about.html" {
            return html(
                200,
                "<html><head><title>About the archive</title></head><body><main><p>An archive \
                 of the web, about its mission and its people, over many words of text that \
                 are not a capture of any page at all, and must never be taken for one, \
                 whatever it redirects from.</p></main></body></html>",
            );
        }
        return html(404, "<html><body><h1>Not Found</h1></body></html>");
    };
    {
        let mut st = st.lock().unwrap();
        st.replays += 1;
        if let Some((status, n)) = st.busy
            && n > 0
        {
            st.busy = Some((status, n - 1));
            let mut a = html(status, "<html><body><h1>Too busy</h1></body></html>");
            a.1.push(("Retry-After".into(), "1".into()));
            return a;
        }
        if st.down_after.is_some_and(|n| st.replays > n) {
            return html(
                503,
                "<html><body><h1>Service Unavailable</h1></body></html>",
            );
        }
    }
    let (ts, _) = rest.split_once('/').unwrap_or((rest, ""));
    let ts: String = ts.chars().take_while(char::is_ascii_digit).collect();
    let Some(c) = caps.iter().find(|c| c.timestamp == ts) else {
        return html(
            404,
            "<html><head><title>Wayback Machine</title></head><body><p>Hrm.</p>\
             <p>Wayback Machine has not archived that URL.</p></body></html>",
        );
    };
    let body = match (&c.body, &c.file) {
        (Some(b), _) => b.clone().into_bytes(),
        (None, Some(f)) => std::fs::read(fixtures().join(f)).unwrap(),
        (None, None) => Vec::new(),
    };
    let mut headers = vec![
        ("Content-Type".to_string(), c.replay.content_type.clone()),
        (
            "Memento-Datetime".to_string(),
            memento_datetime(&c.timestamp),
        ),
    ];
    if let Some(loc) = &c.replay.location {
        headers.push(("Location".into(), loc.clone()));
    }
    (c.replay.status, headers, body)
}

fn memento_datetime(ts: &str) -> String {
    let t: jiff::Timestamp = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &ts[0..4],
        &ts[4..6],
        &ts[6..8],
        &ts[8..10],
        &ts[10..12],
        &ts[12..14]
    )
    .parse()
    .unwrap();
    t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The CDX server's JSON answer: a header row of the `fl` fields, then one
/// row per capture of the URL that passes `filter` and `from`/`to`, adjacent
/// repeats of a digest dropped with `collapse=digest`.
fn cdx(q: &[(String, String)], caps: &[Capture]) -> Answer {
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(url) = get("url") else {
        return html(400, "<html><body>url is required</body></html>");
    };
    let fields: Vec<&str> = get("fl")
        .unwrap_or("urlkey,timestamp,original,mimetype,statuscode,digest,length")
        .split(',')
        .collect();
    let filters: Vec<(&str, &str)> = q
        .iter()
        .filter(|(k, _)| k == "filter")
        .filter_map(|(_, v)| v.split_once(':'))
        .collect();
    let collapse = get("collapse") == Some("digest");
    let want = page_path(url);
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut last_digest: Option<&str> = None;
    for c in caps {
        if page_path(&c.original) != want {
            continue;
        }
        if get("from").is_some_and(|f| c.timestamp.as_str() < f) {
            continue;
        }
        if get("to").is_some_and(|t| &c.timestamp[..t.len().min(14)] > t) {
            continue;
        }
        if filters.iter().any(|(field, value)| {
            let have = match *field {
                "statuscode" => c.statuscode.as_str(),
                "mimetype" => c.mimetype.as_str(),
                _ => return false,
            };
            have != *value
        }) {
            continue;
        }
        if collapse && last_digest == Some(c.digest.as_str()) {
            continue;
        }
        last_digest = Some(c.digest.as_str());
        rows.push(
            fields
                .iter()
                .map(|f| match *f {
                    "timestamp" => c.timestamp.clone(),
                    "original" => listed(&c.original, url),
                    "statuscode" => c.statuscode.clone(),
                    "mimetype" => c.mimetype.clone(),
                    "digest" => c.digest.clone(),
                    _ => "-".into(),
                })
                .collect(),
        );
    }
    let body = if rows.is_empty() {
        "[]".to_string()
    } else {
        let head: Vec<String> = fields.iter().map(|f| (*f).to_string()).collect();
        serde_json::to_string(&std::iter::once(head).chain(rows).collect::<Vec<_>>()).unwrap()
    };
    (
        200,
        vec![("Content-Type".into(), "application/json".into())],
        body.into_bytes(),
    )
}

/// A TimeMap in link-format of the 200 captures of the URL.
fn timemap(url: &str, caps: &[Capture], port: u16) -> Answer {
    let want = page_path(url);
    let base = format!("http://127.0.0.1:{port}");
    let mut lines = vec![
        format!("<{url}>; rel=\"original\""),
        format!("<{base}/timemap/link/{url}>; rel=\"self\"; type=\"application/link-format\""),
    ];
    for c in caps
        .iter()
        .filter(|c| page_path(&c.original) == want && c.statuscode == "200")
    {
        lines.push(format!(
            "<{base}/wayback/{}/{}>; rel=\"memento\"; datetime=\"{}\"",
            c.timestamp,
            listed(&c.original, url),
            memento_datetime(&c.timestamp)
        ));
    }
    (
        200,
        vec![("Content-Type".into(), "application/link-format".into())],
        lines.join(",\n").into_bytes(),
    )
}
