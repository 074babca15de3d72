//! Criterion benchmark of `serve`'s pages over a large history: a target
//! with 10,000 snapshots (each stored by a check that found a revision,
//! 10,000 checks), its timeline's first page and its 100th page, asked of
//! the real server (axum on 127.0.0.1) over HTTP, as a browser would.
//!
//! The history is grown from two snapshots stored by the store itself (the
//! NATO page, v1 and v3) by copying their rows in SQLite: a timeline page
//! reads the index only, never the snapshot files.
//!
//! Run: `cargo bench --bench serve`. Aim (issue 11): a timeline page in
//! under 100 ms with 10,000 snapshots. `REDLINER_BENCH_SNAPSHOTS` sets the
//! history's size (default 10,000).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use redliner::diff::{DiffOptions, revision};
use redliner::extract::extract;
use redliner::fetch::{CharsetSource, FetchedPage, Validators};
use redliner::serve::{self, App};
use redliner::store::{NewSnapshot, Store};
use redliner::target::{Css, Rules};

const URL: &str = "https://www.nato.int/cps/en/natohq/topics_49119.htm";

fn rules() -> Rules {
    let mut rules = Rules::generic();
    rules.title = Some(Css::parse("h1.fs-huge").unwrap());
    rules.content = vec![Css::parse("section.content").unwrap()];
    rules
}

fn page(name: &str, at: Timestamp) -> FetchedPage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/nato-belarus")
        .join(name);
    let body = std::fs::read(path).unwrap();
    FetchedPage {
        url: URL.into(),
        final_url: URL.into(),
        status: 200,
        content_type: Some("text/html; charset=utf-8".into()),
        charset: "UTF-8".into(),
        charset_source: CharsetSource::Header,
        malformed: 0,
        cut_mid_character: false,
        text: String::from_utf8(body.clone()).unwrap(),
        body,
        validators: Validators::default(),
        fetched_at: at,
        close_delimited: false,
    }
}

/// A store whose target `nato-belarus` has `n` snapshots and checks.
fn grown_store(dir: &Path, n: usize) {
    let mut store = Store::open(dir).unwrap();
    let t0: Timestamp = "2020-01-01T00:00:00Z".parse().unwrap();
    let (p1, p3) = (page("v1.html", t0), page("v3-section-added.html", t0));
    let rules = rules();
    let url = url::Url::parse(URL).unwrap();
    let d1 = extract(&p1.text, Some(&url), &rules).unwrap();
    let d3 = extract(&p3.text, Some(&url), &rules).unwrap();
    let base = NewSnapshot {
        target: "nato-belarus",
        url: URL,
        page: &p1,
        document: &d1,
        captured_at: t0,
        started_at: t0,
        duration_ms: 100,
        previous: None,
        revision: None,
        redline_markdown: None,
        alerts: None,
        technical: false,
        note: None,
        source_fingerprint: None,
        source_mask: None,
        content_hash: None,
        archived: None,
    };
    let first = store.record_snapshot(base).unwrap();
    let rev = revision(&d1, &d3, &DiffOptions::default()).unwrap();
    let t1 = t0 + jiff::SignedDuration::from_hours(1);
    store
        .record_snapshot(NewSnapshot {
            page: &p3,
            document: &d3,
            captured_at: t1,
            started_at: t1,
            previous: Some(first.snapshot_id),
            revision: Some(&rev),
            ..base
        })
        .unwrap();
    drop(store);
    // Copies of the second snapshot, its revision and its check, an hour apart.
    let db = rusqlite::Connection::open(dir.join("redliner.sqlite")).unwrap();
    db.execute_batch("BEGIN").unwrap();
    for i in 2..n as i64 {
        let at = (t0 + jiff::SignedDuration::from_hours(i)).to_string();
        db.execute(
            "INSERT INTO snapshots (id, target_id, captured_at, dir, url, final_url, http_status,
                 content_type, charset, etag, last_modified, content_hash, raw_sha256, title,
                 stamp_text, stamp_date, stamp_time, stamp_instant, root_selector, root_fallback,
                 sections, blocks, words, charset_source, raw_path)
             SELECT ?1, target_id, ?2, dir || '-' || ?1, url, final_url, http_status,
                 content_type, charset, etag, last_modified, content_hash, raw_sha256, title,
                 stamp_text, stamp_date, stamp_time, stamp_instant, root_selector, root_fallback,
                 sections, blocks, words, charset_source, raw_path
             FROM snapshots WHERE id = 2",
            rusqlite::params![i + 1, at],
        )
        .unwrap();
        db.execute(
            "INSERT INTO revisions (id, target_id, old_snapshot_id, new_snapshot_id, kind, technical,
                 summary_json, revision_json, created_at)
             SELECT ?1, target_id, ?1, ?1 + 1, kind, technical, summary_json, revision_json, ?2
             FROM revisions WHERE id = 1",
            rusqlite::params![i, at],
        )
        .unwrap();
        db.execute(
            "INSERT INTO checks (target_id, started_at, finished_at, url, final_url, http_status,
                 outcome, snapshot_id, revision_id, duration_ms)
             SELECT target_id, ?2, ?2, url, final_url, http_status, outcome, ?1 + 1, ?1, duration_ms
             FROM checks WHERE revision_id = 1",
            rusqlite::params![i, at],
        )
        .unwrap();
    }
    db.execute_batch("COMMIT").unwrap();
}

fn timeline(c: &mut Criterion) {
    let n: usize = std::env::var("REDLINER_BENCH_SNAPSHOTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    grown_store(dir.path(), n);
    let mut store = Store::open(dir.path()).unwrap();
    store.index_for_search(10).unwrap();
    let app = App {
        store: Arc::new(Mutex::new(store)),
        root: dir.path().to_path_buf(),
        settings: None,
        diff: DiffOptions::default(),
        write: false,
        token: None,
        public_url: None,
        metrics: Arc::new(|| Ok(String::new())),
        hosts: Vec::new(),
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (listener, url) = serve::bind("127.0.0.1:0".parse().unwrap(), false).unwrap();
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    runtime.spawn(serve::run(listener, serve::router(app), shutdown));
    let client = reqwest::Client::new();
    let get = |path: &str| {
        let body = runtime.block_on(async {
            let r = client.get(format!("{url}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.text().await.unwrap()
        });
        assert!(body.contains("data-kind=\"revised\""), "{path}");
        body
    };
    let mut g = c.benchmark_group(format!("timeline of {n} snapshots"));
    g.bench_function("page 1", |b| b.iter(|| get("/targets/nato-belarus")));
    g.bench_function("page 100", |b| {
        b.iter(|| get("/targets/nato-belarus?page=100"))
    });
    g.bench_function("dashboard", |b| {
        b.iter(|| {
            runtime.block_on(async {
                client
                    .get(format!("{url}/"))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            })
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

criterion_group! {
    name = serve_pages;
    config = config();
    targets = timeline
}
criterion_main!(serve_pages);
