//! The web application in a real headless Chromium, driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`, installed by `.ci/run`),
//! with JavaScript turned off: every step is links and forms.
//!
//! Over a store filled by real `check` runs against the fixture revisions:
//! open the dashboard, follow the target, open a revision, switch to side
//! by side, compare two snapshots with the picker, open a section's
//! history, search a phrase and land on the revision that brought it. Each
//! step writes a screenshot (`target/web-screenshots/NN-step.png`, or under
//! `$REDLINER_SCREENSHOTS`) and is checked by its DOM, never by pixels.
//!
//! Without `chromedriver` the test fails under CI with what to install, and
//! is skipped with a notice elsewhere (as the HTML redline's browser test).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::web::{filled, start};

/// A running chromedriver, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REDLINER_CHROMEDRIVER") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|d| d.join("chromedriver"))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "chromedriver not found on PATH: the web application is checked in a real browser; \
             install it (`apt-get install chromium chromium-driver`, as .ci/run does) \
             or set REDLINER_CHROMEDRIVER to its path"
        );
        eprintln!(
            "SKIPPED: chromedriver not found on PATH; the web application's browser test needs \
             `apt-get install chromium chromium-driver` (CI installs it and fails without it)"
        );
    }
    found
}

/// Starts chromedriver on a free loopback port and waits until it answers.
fn start_driver(binary: &PathBuf) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    driver
}

/// Where the screenshots go.
fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("REDLINER_SCREENSHOTS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/web-screenshots"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

async fn texts(c: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in c.find_all(Locator::Css(css)).await.unwrap() {
        out.push(e.text().await.unwrap());
    }
    out
}

/// Waits (up to 15 s) for the page's path and query to satisfy `ok`, and
/// returns them: a click that submits a form returns before the next page.
async fn path_until(c: &Client, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let here = path(c).await;
        if ok(&here) || Instant::now() > deadline {
            return here;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn path(c: &Client) -> String {
    let url = c.current_url().await.unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

#[test]
fn an_editor_follows_a_page_history_in_chromium() {
    let Some(binary) = chromedriver() else {
        return;
    };
    let t = filled();
    let web = start(&t, "127.0.0.1:0", &[]);
    let driver = start_driver(&binary);
    // The revision the third fixture made: it brought "Washington Summit".
    let brought: i64 = t
        .db()
        .query_row(
            "SELECT r.id FROM revisions r JOIN snapshots s ON s.id = r.new_snapshot_id
             ORDER BY s.captured_at, s.id LIMIT 1 OFFSET 1",
            (),
            |r| r.get(0),
        )
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1000",
                         "--force-device-scale-factor=1"],
                // JavaScript off: the pages must work without it.
                "prefs": { "profile.managed_default_content_settings.javascript": 2 }
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let c = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .expect("a WebDriver session");
        let b = &web.base;

        // 1. The dashboard lists the target with its last revision.
        c.goto(&format!("{b}/")).await.unwrap();
        let targets = texts(&c, "#targets a.target").await;
        assert_eq!(targets, ["Relations with Belarus"], "{targets:?}");
        assert_eq!(texts(&c, "#targets .kind-silent-edit").await.len(), 1);
        shot(&c, "01-dashboard").await;

        // 2. Follow the target: its timeline, stamp-only hidden.
        c.find(Locator::Css("#targets a.target"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(path(&c).await, "/targets/nato-belarus");
        let kinds = c
            .find_all(Locator::Css("#timeline tr[data-kind]"))
            .await
            .unwrap();
        assert_eq!(kinds.len(), 5, "baseline, 3 revised, the silent edit");
        assert!(texts(&c, "#timeline .kind-stamp-only").await.is_empty());
        shot(&c, "02-timeline").await;

        // 3. Open the newest revision: the silent edit, its notice at the top.
        c.find(Locator::Css("#timeline a.revision"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert!(path(&c).await.contains("/revisions/"));
        let notice = texts(&c, "article.redline .notice").await.join(" ");
        assert!(notice.to_lowercase().contains("silent"), "{notice}");
        let inline_tables = c.find_all(Locator::Css("details.sbs")).await.unwrap().len();
        assert!(inline_tables >= 1);
        shot(&c, "03-revision").await;

        // 4. Side by side: the same edited blocks, old | new, nothing inline.
        c.find(Locator::Css("a.view"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert!(path(&c).await.ends_with("?view=side-by-side"));
        let tables = c.find_all(Locator::Css("div.sbs table")).await.unwrap();
        assert_eq!(tables.len(), inline_tables, "one table per edited block");
        let old = texts(&c, "div.sbs td:first-child del").await;
        let new = texts(&c, "div.sbs td:last-child ins").await;
        assert!(!old.is_empty() && !new.is_empty(), "{old:?} | {new:?}");
        assert!(
            c.find_all(Locator::Css("div.sbs td:first-child ins"))
                .await
                .unwrap()
                .is_empty()
        );
        shot(&c, "04-side-by-side").await;

        // 5. Compare the first and the newest snapshots with the picker.
        c.goto(&format!("{b}/targets/nato-belarus")).await.unwrap();
        c.find(Locator::LinkText("Compare two snapshots"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let from = c.find(Locator::Css("select#from")).await.unwrap();
        let options = from.find_all(Locator::Css("option")).await.unwrap();
        let oldest = options
            .last()
            .unwrap()
            .attr("value")
            .await
            .unwrap()
            .unwrap();
        from.select_by_value(&oldest).await.unwrap();
        c.find(Locator::Css("select#to"))
            .await
            .unwrap()
            .select_by_index(0)
            .await
            .unwrap();
        c.find(Locator::Css("#picker button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let here = path_until(&c, |p| p.contains("from=")).await;
        assert!(here.contains(&format!("from={oldest}")), "{here}");
        let headings = texts(&c, "article.redline section.change h2")
            .await
            .join("\n");
        assert!(headings.contains("Relations since 2024"), "{headings}");
        shot(&c, "05-compare").await;

        // 6. A section's history, from the redline's section link.
        c.find(Locator::XPath(
            "//section[contains(@class, 'change')][h2[contains(., 'Relations since 2024')]]//a[@class='history']",
        ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert!(path(&c).await.contains("/sections/"));
        let since = texts(&c, "ol.sentences .since").await;
        assert!(!since.is_empty());
        assert!(
            since.iter().any(|s| s.contains("revision #")),
            "some sentence dates from a revision: {since:?}"
        );
        shot(&c, "06-section-history").await;

        // 7. Search a phrase from the header and land on the revision that brought it.
        let search = c
            .find(Locator::Css("header.bar input[name=q]"))
            .await
            .unwrap();
        search.send_keys("\"Washington Summit\"").await.unwrap();
        c.find(Locator::Css("header.bar button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let here = path_until(&c, |p| p.starts_with("/search")).await;
        assert!(here.starts_with("/search?q="), "{here}");
        let marks = texts(&c, "#hits mark").await;
        assert_eq!(marks, ["Washington Summit"], "{marks:?}");
        shot(&c, "07-search").await;
        c.find(Locator::Css("#hits a.introduced"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(
            path(&c).await,
            format!("/targets/nato-belarus/revisions/{brought}")
        );
        // The section it added, with the phrase.
        let added = texts(&c, "article.redline section.change").await;
        assert!(
            added.iter().any(|s| s.contains("ADDED") && s.contains("Washington Summit")),
            "{added:?}"
        );
        shot(&c, "08-introduced-by").await;

        c.close().await.unwrap();
    });
}
