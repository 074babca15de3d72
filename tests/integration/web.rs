//! The web application of `redliner serve` over HTTP: every route against a
//! store filled by real `check` runs over the fixture revisions of the NATO
//! page (status, content type, key text, escaping, auth, 404s, paging).

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::harness::Test;

/// The NATO fixture revisions, in order: baseline, then a revision each.
pub const REVISIONS: [&str; 6] = [
    "nato-belarus/v1.html",
    "nato-belarus/v2-reworded.html",
    "nato-belarus/v3-section-added.html",
    "nato-belarus/v4-renamed.html",
    "nato-belarus/v5-stamp-only.html",
    "nato-belarus/v6-silent-edit.html",
];

/// A test whose store holds the six fixture revisions, each stored by a
/// real `check` (5 revisions: revised ×3, stamp-only, silent edit).
pub fn filled() -> Test {
    let t = Test::new();
    for page in REVISIONS {
        t.serve(page);
        let run = t.run(&["check", "-q"]);
        assert_eq!(run.code, 0, "{page}: {}", run.stderr);
    }
    assert_eq!(t.count("revisions"), 5);
    t
}

/// A running `redliner serve` and its base URL (`http://127.0.0.1:PORT`).
pub struct Web {
    child: Child,
    pub base: String,
}

impl Drop for Web {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `redliner serve --bind ADDR` (port 0) with `env`, and waits for
/// the line saying where it serves.
pub fn start(t: &Test, bind: &str, env: &[(&str, &str)]) -> Web {
    let mut child = t
        .command()
        .envs(env.iter().copied())
        .args(["serve", "--bind", bind])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // Killed and waited for on drop, even when no line comes.
    let mut web = Web {
        child,
        base: String::new(),
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .expect("no `serving` line on stderr");
        if let Some(rest) = line.strip_prefix("redliner: serving ") {
            let url = rest.split_whitespace().next().unwrap();
            // A 0.0.0.0 bind is reached on loopback.
            web.base = url.trim_end_matches('/').replace("0.0.0.0", "127.0.0.1");
            return web;
        }
    }
}

/// One answer: status, headers, body.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

/// Sends `method` to `url` with `headers` and `body`, following no redirect.
pub fn send(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut request = client.request(method.parse().unwrap(), url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.body(body.to_string()).send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        Answer {
            status,
            headers,
            body: response.text().await.unwrap(),
        }
    })
}

pub fn get(url: &str) -> Answer {
    send("GET", url, &[], "")
}

/// The id of the revision whose new snapshot holds fixture revision `n`
/// (1-based: the revision of the second fixture is the first).
fn revision_of(t: &Test, n: i64) -> i64 {
    t.db()
        .query_row(
            "SELECT r.id FROM revisions r JOIN snapshots s ON s.id = r.new_snapshot_id
             ORDER BY s.captured_at, s.id LIMIT 1 OFFSET ?1",
            [n - 2],
            |r| r.get(0),
        )
        .unwrap()
}

fn snapshot_ids(t: &Test) -> Vec<i64> {
    let db = t.db();
    let mut st = db
        .prepare("SELECT id FROM snapshots ORDER BY captured_at, id")
        .unwrap();
    st.query_map((), |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn every_page_answers_with_its_content() {
    let t = filled();
    let web = start(&t, "127.0.0.1:0", &[]);
    let b = &web.base;
    let html = "text/html; charset=utf-8";

    // Dashboard: the target, its last revision (the silent edit) and counts.
    let a = get(&format!("{b}/"));
    assert_eq!((a.status, a.header("content-type")), (200, html));
    assert!(a.body.contains("Relations with Belarus"), "{}", a.body);
    assert!(a.body.contains("kind-silent-edit"), "{}", a.body);
    assert!(a.body.contains("href=\"/targets/nato-belarus\""));
    let csp = a.header("content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(a.header("x-content-type-options"), "nosniff");
    // Filtered: by text and by kind.
    assert!(
        get(&format!("{b}/?q=belarus"))
            .body
            .contains("data-target=\"nato-belarus\"")
    );
    assert!(
        !get(&format!("{b}/?q=nothing-like-it"))
            .body
            .contains("data-target=")
    );
    assert!(
        get(&format!("{b}/?kind=silent-edit"))
            .body
            .contains("data-target=\"nato-belarus\"")
    );
    assert!(
        !get(&format!("{b}/?kind=stamp-only"))
            .body
            .contains("data-target=")
    );
    assert_eq!(get(&format!("{b}/?kind=bogus")).status, 400);

    // Timeline: stamp-only hidden by default, shown when asked.
    let a = get(&format!("{b}/targets/nato-belarus"));
    assert_eq!((a.status, a.header("content-type")), (200, html));
    assert_eq!(
        a.body.matches("data-kind=\"revised\"").count(),
        3,
        "{}",
        a.body
    );
    assert_eq!(a.body.matches("data-kind=\"silent-edit\"").count(), 1);
    assert_eq!(a.body.matches("data-kind=\"baseline\"").count(), 1);
    assert!(!a.body.contains("data-kind=\"stamp-only\""));
    assert!(
        a.body.contains("Last updated: 02 Jun. 2025 08:00"),
        "stamp shown"
    );
    let a = get(&format!("{b}/targets/nato-belarus?kind=stamp-only"));
    assert_eq!(a.body.matches("data-kind=\"stamp-only\"").count(), 1);
    assert!(!a.body.contains("data-kind=\"revised\""));

    // A revision: the redline of the HTML renderer, its notes, neighbours, views.
    let r2 = revision_of(&t, 2);
    let r3 = revision_of(&t, 3);
    let a = get(&format!("{b}/targets/nato-belarus/revisions/{r2}"));
    assert_eq!((a.status, a.header("content-type")), (200, html));
    assert!(a.body.contains("<article class=\"redline\""), "{}", a.body);
    assert!(a.body.contains("<ins>") && a.body.contains("<del>"));
    assert!(a.body.contains("<details class=\"sbs\" open>"));
    assert!(
        a.body
            .contains(&format!("href=\"/targets/nato-belarus/revisions/{r3}\""))
    );
    assert!(a.body.contains("?view=side-by-side"));
    assert!(
        a.body.contains("section history"),
        "sections link to their history"
    );
    let a = get(&format!(
        "{b}/targets/nato-belarus/revisions/{r2}?view=side-by-side"
    ));
    assert!(a.body.contains("<div class=\"sbs\">"), "{}", a.body);
    assert!(!a.body.contains("<details class=\"sbs\""));
    let silent = revision_of(&t, 6);
    let a = get(&format!("{b}/targets/nato-belarus/revisions/{silent}"));
    assert!(
        a.body.contains("class=\"notice\""),
        "the silent edit's notice"
    );

    // Compare: the picker, and the redline between the first and last snapshots.
    let ids = snapshot_ids(&t);
    let a = get(&format!("{b}/targets/nato-belarus/compare"));
    assert_eq!(a.status, 200);
    assert!(a.body.contains("<select name=\"from\" id=\"from\">"));
    assert_eq!(a.body.matches("<option value=").count(), 2 * ids.len());
    let (first, last) = (ids[0], ids[ids.len() - 1]);
    let a = get(&format!(
        "{b}/targets/nato-belarus/compare?from={last}&to={first}"
    ));
    assert!(a.body.contains("<article class=\"redline\""), "{}", a.body);
    assert!(
        a.body.contains("Relations since 2024"),
        "the section v3 added"
    );
    let a = get(&format!(
        "{b}/targets/nato-belarus/compare?from={first}&to={first}"
    ));
    assert!(a.body.contains("id=\"same\""));

    // A snapshot: the document; the raw body sandboxed, or as a download.
    let a = get(&format!("{b}/targets/nato-belarus/snapshots/{first}"));
    assert_eq!(a.status, 200);
    assert!(a.body.contains("Evolution of relations"));
    assert!(
        a.body.contains("<iframe class=\"raw\" sandbox=\"\""),
        "{}",
        a.body
    );
    let a = get(&format!("{b}/targets/nato-belarus/snapshots/{first}/raw"));
    assert_eq!(a.status, 200);
    assert!(a.header("content-security-policy").starts_with("sandbox"));
    assert!(a.body.contains("Last updated: 28 Aug. 2024 11:27"));
    let a = get(&format!(
        "{b}/targets/nato-belarus/snapshots/{first}/raw?download=1"
    ));
    assert!(
        a.header("content-disposition")
            .starts_with("attachment; filename=\"nato-belarus-")
    );

    // Feeds, as `check` wrote them.
    for path in ["/feed.atom", "/targets/nato-belarus/feed.atom"] {
        let a = get(&format!("{b}{path}"));
        assert_eq!(a.status, 200, "{path}");
        assert!(a.header("content-type").starts_with("application/atom+xml"));
        assert!(a.body.contains("<feed"), "{path}");
    }

    // Alerts: read-only, so no buttons, and a POST is refused.
    let a = get(&format!("{b}/alerts"));
    assert_eq!(a.status, 200);
    assert!(a.body.contains("Read-only"));
    assert!(!a.body.contains("id=\"retry\""));
    assert_eq!(
        send("POST", &format!("{b}/alerts/retry"), &[], "").status,
        403
    );
}

#[test]
fn section_history_dates_each_sentence_from_the_stored_revisions() {
    let t = filled();
    let web = start(&t, "127.0.0.1:0", &[]);
    let b = &web.base;
    // The newest snapshot's sections, in page order, each with a history link.
    let newest = *snapshot_ids(&t).last().unwrap();
    let doc = get(&format!("{b}/targets/nato-belarus/snapshots/{newest}")).body;
    let n = (1..10)
        .find(|n| {
            doc.contains(&format!(
                "<h2>{n}. Evolution of relations <a class=\"history\""
            ))
        })
        .expect("the section is numbered");
    let a = get(&format!("{b}/targets/nato-belarus/sections/{n}"));
    assert_eq!(a.status, 200, "{}", a.body);
    let r2 = revision_of(&t, 2);
    // v2 reworded one sentence of this section: it reads so since r2, and
    // what it read before is shown.
    assert!(a.body.contains(&format!("revision #{r2}")), "{}", a.body);
    assert!(
        a.body
            .contains("Belarus opened a diplomatic mission to NATO in April 1998.")
    );
    assert!(
        a.body.contains("before that: <q class=\"before\">"),
        "{}",
        a.body
    );
    // An untouched sentence reads as first seen.
    assert!(a.body.contains("Unchanged since watching began"));
    // The block alone.
    let a2 = get(&format!("{b}/targets/nato-belarus/sections/{n}?block=1"));
    assert_eq!(a2.status, 200);
    assert!(a2.body.contains("block 1 only"));
    assert_eq!(
        get(&format!("{b}/targets/nato-belarus/sections/{n}?block=999")).status,
        404
    );
    assert_eq!(
        get(&format!("{b}/targets/nato-belarus/sections/99")).status,
        404
    );

    // The section v3 added: its sentences date from that revision, new text.
    let added = (1..10)
        .find(|n| doc.contains(&format!("<h2>{n}. Relations since 2024 ")))
        .expect("the added section");
    let a = get(&format!("{b}/targets/nato-belarus/sections/{added}"));
    let r3 = revision_of(&t, 3);
    assert!(a.body.contains(&format!("revision #{r3}")), "{}", a.body);
    assert!(a.body.contains("new text then"));
}

#[test]
fn search_finds_the_revision_that_brought_a_phrase() {
    let t = filled();
    let web = start(&t, "127.0.0.1:0", &[]);
    let b = &web.base;
    // Only from v3 on: brought by the third fixture's revision.
    let r3 = revision_of(&t, 3);
    let a = get(&format!("{b}/search?q=%22Washington+Summit%22"));
    assert_eq!(a.status, 200);
    assert!(
        a.body.contains("<mark>Washington Summit</mark>"),
        "{}",
        a.body
    );
    assert!(
        a.body
            .contains(&format!("href=\"/targets/nato-belarus/revisions/{r3}\"")),
        "{}",
        a.body
    );
    assert!(a.body.contains("Still on the page"));
    // In every snapshot: there when watching began.
    let a = get(&format!("{b}/search?q=%22nuclear+weapons%22"));
    assert!(a.body.contains("there when watching began"), "{}", a.body);
    // Gone in v2: no longer on the page.
    let a = get(&format!("{b}/search?q=%22mission+to+NATO+opened%22"));
    assert!(a.body.contains("No longer on the page"), "{}", a.body);
    // Nothing, and FTS syntax taken as words.
    assert!(
        get(&format!("{b}/search?q=zebra"))
            .body
            .contains("id=\"no-hits\"")
    );
    assert_eq!(get(&format!("{b}/search?q=NEAR%28a+b%29+OR+*")).status, 200);
    // The API says the same.
    let hits: serde_json::Value =
        serde_json::from_str(&get(&format!("{b}/api/v1/search?q=%22Washington+Summit%22")).body)
            .unwrap();
    assert_eq!(hits[0]["introduced_by"], r3);
    assert_eq!(hits[0]["current"], true);
}

#[test]
fn hostile_page_text_is_escaped_everywhere() {
    let t = Test::new();
    let page = |extra: &str| {
        format!(
            "<html><head><title>x</title></head><body><h1 class=\"fs-huge\">&lt;script&gt;alert('title')&lt;/script&gt;</h1>\
             <section class=\"content\"><p>Last updated: 28 Aug. 2024 11:27</p>\
             <h2>&lt;img src=x onerror=alert(1)&gt;</h2><p>{extra} &lt;script&gt;alert(\"text\")&lt;/script&gt; \
             and a long enough paragraph of official text for the extractor to keep it as content.</p>\
             <p>Another paragraph that says what the policy is, with words enough to count.</p></section></body></html>"
        )
    };
    t.server
        .reply(crate::server::Reply::html(page("First").into_bytes()));
    assert_eq!(t.run(&["check", "-q"]).code, 0);
    t.server
        .reply(crate::server::Reply::html(page("Second").into_bytes()));
    assert_eq!(t.run(&["check", "-q"]).code, 0);
    let web = start(&t, "127.0.0.1:0", &[]);
    let b = &web.base;
    let rev: i64 = t
        .db()
        .query_row("SELECT id FROM revisions", (), |r| r.get(0))
        .unwrap();
    let snap: i64 = t
        .db()
        .query_row("SELECT max(id) FROM snapshots", (), |r| r.get(0))
        .unwrap();
    for path in [
        "/".to_string(),
        "/targets/nato-belarus".into(),
        format!("/targets/nato-belarus/revisions/{rev}"),
        format!("/targets/nato-belarus/snapshots/{snap}"),
        "/targets/nato-belarus/sections/1".into(),
        "/search?q=alert".into(),
        "/search?q=%3Cscript%3E".into(),
    ] {
        let a = get(&format!("{b}{path}"));
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        let lower = a.body.to_lowercase();
        assert!(!lower.contains("<script"), "{path}: {}", a.body);
        assert!(!lower.contains("<img src=x"), "{path}");
        assert!(
            a.body.contains("&lt;"),
            "{path}: the text is shown, escaped"
        );
    }
}

#[test]
fn not_found_and_bad_input_get_clear_pages() {
    let t = filled();
    let web = start(&t, "127.0.0.1:0", &[]);
    let b = &web.base;
    for (path, status) in [
        ("/nothing-here", 404),
        ("/targets/unknown", 404),
        ("/targets/.hidden", 404),
        ("/targets/..%2F..%2Fetc", 404),
        ("/targets/nato-belarus/revisions/999", 404),
        ("/targets/nato-belarus/revisions/abc", 404),
        ("/targets/nato-belarus/snapshots/999", 404),
        ("/targets/nato-belarus/snapshots/-1/raw", 404),
        ("/targets/nato-belarus/compare?from=x&to=1", 400),
        ("/targets/nato-belarus?page=0", 400),
        ("/targets/nato-belarus?kind=nope", 400),
        ("/api/v1/targets/unknown/snapshots", 404),
        ("/api/v1/nothing", 404),
        ("/api/v1/search?q=", 400),
    ] {
        let a = get(&format!("{b}{path}"));
        assert_eq!(a.status, status, "{path}: {}", a.body);
        if path.starts_with("/api/") {
            let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
            assert!(v["error"].is_string(), "{path}");
        } else {
            assert!(a.body.contains("<p class=\"error\">"), "{path}: {}", a.body);
        }
    }
    // A snapshot directory removed by hand: a page saying so, not a 500.
    let (id, dir): (i64, String) = t
        .db()
        .query_row(
            "SELECT id, dir FROM snapshots ORDER BY id LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    // (In PostgreSQL: its document's blob.)
    if t.pg.is_some() {
        t.db()
            .execute(
                "DELETE FROM blobs WHERE sha256 = (SELECT document_sha256 FROM snapshots WHERE id = ?1)",
                [id],
            )
            .unwrap();
    } else {
        std::fs::remove_dir_all(t.store().join(dir)).unwrap();
    }
    let a = get(&format!("{b}/targets/nato-belarus/snapshots/{id}"));
    assert_eq!(a.status, 404, "{}", a.body);
    assert!(a.body.contains("files are not in the store"), "{}", a.body);
    // The pages that do not need it still work.
    assert_eq!(get(&format!("{b}/targets/nato-belarus")).status, 200);
}

#[test]
fn the_timeline_and_the_api_are_paged() {
    let t = filled();
    // A long quiet history: 120 unchanged checks recorded after the last one.
    {
        let db = t.db();
        let snapshot: i64 = db
            .query_row("SELECT max(id) FROM snapshots", (), |r| r.get(0))
            .unwrap();
        for i in 0..120 {
            db.execute(
                "INSERT INTO checks (target_id, started_at, finished_at, url, outcome, snapshot_id, duration_ms)
                 VALUES ('nato-belarus', ?1, ?1, 'u', 'unchanged', ?2, 5)",
                redliner::store::db::params![format!("2099-01-01T00:{:02}:{:02}.000Z", i / 60, i % 60), snapshot],
            )
            .unwrap();
        }
    }
    let web = start(&t, "127.0.0.1:0", &[]);
    let b = &web.base;
    let page = |n: usize| get(&format!("{b}/targets/nato-belarus?kind=unchanged&page={n}"));
    let first = page(1);
    assert_eq!(first.body.matches("data-kind=\"unchanged\"").count(), 50);
    assert!(first.body.contains("Page 1 of 3"), "{}", first.body);
    assert!(
        first
            .body
            .contains("rel=\"next\" href=\"/targets/nato-belarus?kind=unchanged&amp;page=2\"")
    );
    assert_eq!(page(3).body.matches("data-kind=\"unchanged\"").count(), 20);
    assert_eq!(page(4).body.matches("data-kind=\"unchanged\"").count(), 0);
    // Newest first.
    assert!(first.body.contains("2099-01-01 00:01 UTC"));
    let api: serde_json::Value =
        serde_json::from_str(&get(&format!("{b}/api/v1/targets/nato-belarus/checks?page=2")).body)
            .unwrap();
    // 120 + 6 checks: page 2 of 100 holds 26.
    assert_eq!(api.as_array().unwrap().len(), 26);
}

#[test]
fn the_api_follows_its_openapi_document() {
    let t = filled();
    let web = start(&t, "127.0.0.1:0", &[]);
    let b = &web.base;
    let doc: serde_json::Value =
        serde_json::from_str(&get(&format!("{b}/api/v1/openapi.json")).body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let paths = doc["paths"].as_object().unwrap();
    let snapshot = snapshot_ids(&t)[0];
    let revision = revision_of(&t, 2);
    let mut seen = 0;
    for path in paths.keys() {
        let url = path.replace("{target}", "nato-belarus").replace(
            "{id}",
            &if path.contains("snapshots") {
                snapshot
            } else {
                revision
            }
            .to_string(),
        );
        let url = if path.ends_with("/search") {
            format!("{url}?q=Belarus")
        } else {
            url
        };
        let a = get(&format!("{b}{url}"));
        assert_eq!(a.status, 200, "{url}: {}", a.body);
        assert_eq!(a.header("content-type"), "application/json", "{url}");
        let body: serde_json::Value = serde_json::from_str(&a.body).unwrap();
        // Lists are lists, as the document says.
        let schema =
            &paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        if schema["type"] == "array" {
            assert!(
                body.as_array().is_some_and(|a| !a.is_empty()),
                "{url}: {body}"
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 7, "{:?}", paths.keys().collect::<Vec<_>>());
    // A revision is the redline in the documented schema.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/redline.v1.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let redline: serde_json::Value = serde_json::from_str(
        &get(&format!(
            "{b}/api/v1/targets/nato-belarus/revisions/{revision}"
        ))
        .body,
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&redline)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn another_host_needs_the_token() {
    let t = filled();
    // No token configured: refused.
    let run = t.run(&["serve", "--bind", "0.0.0.0:0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("token_env"), "{}", run.stderr);
    let config = std::fs::read_to_string(t.config_path()).unwrap();
    t.write_config(&format!(
        "{config}\n[serve]\ntoken_env = \"REDLINER_TEST_TOKEN\"\n"
    ));
    // Named but unset: refused, saying which variable.
    let run = t.run(&["serve", "--bind", "0.0.0.0:0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("REDLINER_TEST_TOKEN"), "{}", run.stderr);
    // Too short to be a secret, or empty: refused, saying so.
    for (value, says) in [("abc", "at least 16"), ("", "empty")] {
        let run = t.run_with_env(
            &["serve", "--bind", "0.0.0.0:0"],
            &[("REDLINER_TEST_TOKEN", value)],
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(says), "{value:?}: {}", run.stderr);
    }

    let web = start(
        &t,
        "0.0.0.0:0",
        &[("REDLINER_TEST_TOKEN", "correct-horse-battery")],
    );
    let b = &web.base;
    for path in [
        "/",
        "/api/v1/targets",
        "/metrics",
        "/targets/nato-belarus",
        "/nothing",
    ] {
        let a = get(&format!("{b}{path}"));
        assert_eq!(a.status, 401, "{path}");
        assert!(
            a.headers
                .get_all("www-authenticate")
                .iter()
                .any(|v| v.to_str().unwrap().starts_with("Basic"))
        );
        let a = send(
            "GET",
            &format!("{b}{path}"),
            &[("authorization", "Bearer wrong")],
            "",
        );
        assert_eq!(a.status, 401, "{path}");
    }
    let a = send(
        "GET",
        &format!("{b}/"),
        &[("authorization", "Bearer correct-horse-battery")],
        "",
    );
    assert_eq!(a.status, 200);
    // A browser's Basic prompt: any user, the token as password.
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("editor:correct-horse-battery")
    );
    let a = send(
        "GET",
        &format!("{b}/api/v1/targets"),
        &[("authorization", &basic)],
        "",
    );
    assert_eq!(a.status, 200);
}

#[test]
fn writes_need_write_and_the_same_origin() {
    let t = filled();
    let config = std::fs::read_to_string(t.config_path()).unwrap();
    t.write_config(&format!("{config}\n[serve]\nwrite = true\n"));
    let web = start(&t, "127.0.0.1:0", &[]);
    let b = &web.base;
    let a = get(&format!("{b}/alerts"));
    assert!(a.body.contains("id=\"retry\""), "{}", a.body);
    let host = b.trim_start_matches("http://");
    let a = send(
        "POST",
        &format!("{b}/alerts/retry"),
        &[("origin", b.as_str())],
        "",
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("id=\"done\""), "{}", a.body);
    assert!(a.body.contains("0 alerts queued again"), "{}", a.body);
    // A notice is never taken from the address.
    let a = get(&format!("{b}/alerts?done=Log+in+again+at+evil.example"));
    assert!(!a.body.contains("evil.example"), "{}", a.body);
    let a = send(
        "POST",
        &format!("{b}/alerts/retry"),
        &[("origin", "http://evil.test")],
        "",
    );
    assert_eq!(a.status, 403);
    let a = send(
        "POST",
        &format!("{b}/alerts/retry"),
        &[("sec-fetch-site", "cross-site"), ("host", host)],
        "",
    );
    assert_eq!(a.status, 403);
    // No channel configured: nothing to test.
    let a = send(
        "POST",
        &format!("{b}/alerts/test"),
        &[("content-type", "application/x-www-form-urlencoded")],
        "channel=none",
    );
    assert_eq!(a.status, 404, "{}", a.body);
}

#[test]
fn search_covers_snapshots_stored_before_it_existed() {
    let t = filled();
    // As a store of the previous version: no search rows at all.
    t.db()
        .execute_batch("DELETE FROM snapshot_sections; DELETE FROM search_indexed;")
        .unwrap();
    assert_eq!(t.count("search_text"), 0);
    // The next check indexes them.
    assert_eq!(t.run(&["check", "-q"]).code, 0);
    assert_eq!(t.count("search_indexed"), t.count("snapshots"));
    assert!(t.count("search_text") > 0);
    // And so does `serve`, before it answers.
    t.db()
        .execute_batch("DELETE FROM snapshot_sections; DELETE FROM search_indexed;")
        .unwrap();
    let web = start(&t, "127.0.0.1:0", &[]);
    let a = get(&format!("{}/search?q=%22Washington+Summit%22", web.base));
    assert!(
        a.body.contains("<mark>Washington Summit</mark>"),
        "{}",
        a.body
    );
    assert!(t.count("search_indexed") >= 6);
}

#[test]
fn forgetting_a_target_leaves_nothing_searchable() {
    let t = filled();
    assert!(t.count("search_text") > 0);
    assert!(t.count("revision_sections") > 0);
    let run = t.run(&["forget", "nato-belarus", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for table in [
        "search_text",
        "snapshot_sections",
        "search_indexed",
        "revision_sections",
    ] {
        assert_eq!(t.count(table), 0, "{table}");
    }
}

/// DNS rebinding: a page on another site whose name resolves to 127.0.0.1
/// reaches the server with its own `Host`; a loopback server without a
/// token answers only to its own names.
#[test]
fn a_loopback_server_answers_to_its_own_names_only() {
    let t = filled();
    let web = start(&t, "127.0.0.1:0", &[]);
    let b = &web.base;
    let port = b.rsplit(':').next().unwrap();
    for host in [
        "rebind.evil.test",
        &format!("rebind.evil.test:{port}"),
        "127.0.0.1:1",
    ] {
        let a = send("GET", &format!("{b}/api/v1/targets"), &[("host", host)], "");
        assert_eq!(a.status, 421, "{host}: {}", a.body);
        let a = send(
            "POST",
            &format!("{b}/alerts/retry"),
            &[("host", host), ("origin", &format!("http://{host}"))],
            "",
        );
        assert_eq!(a.status, 421, "{host}");
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let a = send("GET", &format!("{b}/"), &[("host", &host)], "");
        assert_eq!(a.status, 200, "{host}");
    }
}

#[test]
fn a_search_is_bounded_and_control_characters_are_spaces() {
    let t = filled();
    let web = start(&t, "127.0.0.1:0", &[]);
    let b = &web.base;
    let many = vec!["alpha"; 40].join("+");
    let a = get(&format!("{b}/search?q={many}"));
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("at most 32"), "{}", a.body);
    assert_eq!(get(&format!("{b}/api/v1/search?q={many}")).status, 400);
    let long = "a".repeat(1001);
    assert_eq!(get(&format!("{b}/search?q={long}")).status, 400);
    // A NUL or a snippet mark in the query is a space.
    let a = get(&format!("{b}/search?q=nuclear%00weapons%02"));
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("<mark>nuclear</mark>"), "{}", a.body);
}
