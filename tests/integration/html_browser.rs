//! The HTML redline in a real browser: the XSS pair's redline opened in headless
//! Chromium (Debian's `chromium`, installed by `.ci/run`). Page text that looks
//! like markup must stay text, no script may run, and the page must render.
//!
//! A machine without Chromium fails these tests with a message saying what to
//! install; they never pass silently.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use redliner::report::Format;

use crate::golden::{pair_redline, rendered};

/// How long one Chromium run may take before the test gives up.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

/// The Chromium binary: `$REDLINER_CHROMIUM`, else the first of the usual names
/// on `PATH`. When there is none: under CI (`CI` set, as `.ci/run` does, which
/// installs Chromium) the test fails with an install hint; on a developer's
/// machine without Chromium it is skipped with a notice on stderr, so `cargo
/// test` works on a fresh machine.
fn chromium() -> Option<PathBuf> {
    let found = find_chromium();
    if found.is_none() && std::env::var_os("CI").is_none_or(|v| v.is_empty()) {
        eprintln!(
            "SKIPPED: chromium not found on PATH; the HTML redline browser check needs it \
             (`apt-get install chromium fonts-dejavu-core`; CI installs it and fails without it)"
        );
        return None;
    }
    Some(found.unwrap_or_else(|| {
        panic!(
            "chromium not found on PATH: the HTML redline must be checked in a real browser; \
             install it (`apt-get install chromium fonts-dejavu-core`, as .ci/run does) \
             or set REDLINER_CHROMIUM to its path"
        )
    }))
}

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REDLINER_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Runs headless Chromium on `page` with `args`, in a fresh profile under
/// `dir`, and returns its stdout. Panics on failure or timeout.
fn run_chromium(chromium: &Path, dir: &Path, page: &Path, args: &[&str]) -> String {
    let profile = dir.join("profile");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start chromium: {e}"));
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "chromium failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The XSS redline written to a temp dir: (dir, page path, page text).
fn xss_page() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let html = rendered(&pair_redline("xss"), Format::Html);
    let page = dir.path().join("redline.html");
    std::fs::write(&page, &html).unwrap();
    (dir, page, html)
}

/// Tag names of every element, in document order.
fn tags(html: &scraper::Html) -> Vec<String> {
    html.root_element()
        .descendants()
        .filter_map(scraper::ElementRef::wrap)
        .map(|e| e.value().name().to_string())
        .collect()
}

#[test]
fn page_scripts_never_run_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let (dir, page, source) = xss_page();
    let dumped = run_chromium(&chromium, dir.path(), &page, &["--dump-dom"]);
    let dom = scraper::Html::parse_document(&dumped);

    // No element came from a script or from page text: the DOM Chromium built
    // is element for element the one our own parser reads from the file.
    let want = tags(&scraper::Html::parse_document(&source));
    assert!(want.len() > 50, "too few elements: {want:?}");
    assert_eq!(tags(&dom), want);
    for tag in ["script", "svg", "img", "iframe"] {
        assert!(!want.iter().any(|t| t == tag), "a `{tag}` element");
    }

    // The title is ours (a script would have had to run to change it) and the
    // markup-like page text is shown as text.
    let title: String = dom
        .select(&scraper::Selector::parse("title").unwrap())
        .flat_map(|t| t.text())
        .collect();
    assert_eq!(title, "Relations with Belarus: revised");
    let text: String = dom.root_element().text().collect();
    for needle in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "Statement \"><svg onload=alert(1)>",
    ] {
        assert!(text.contains(needle), "rendered text lacks {needle}");
    }
}

#[test]
fn redline_renders_to_a_screenshot() {
    let Some(chromium) = chromium() else { return };
    let (dir, page, _) = xss_page();
    let shot = dir.path().join("redline.png");
    run_chromium(
        &chromium,
        dir.path(),
        &page,
        &[
            "--window-size=1100,1400",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot: {e}"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    // a blank page of that size compresses to a few kilobytes
    assert!(
        png.len() > 40_000,
        "screenshot too small: {} bytes",
        png.len()
    );
    if let Some(keep) = std::env::var_os("REDLINER_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}
