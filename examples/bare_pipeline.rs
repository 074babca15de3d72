//! The least any watcher built on redliner's mandated crates must do per page,
//! for the side-by-side benchmark's floor (`FLOOR=1 benches/compare/run`): no
//! extraction rules, no stamp, no store, no diff.
//!
//! ```sh
//! cargo run --release --example bare_pipeline -- MODE URL_LIST [CONCURRENCY]
//! ```
//!
//! `URL_LIST` is a file with one URL per line. `MODE`:
//! - `fetch`: GET every URL (reqwest on one tokio thread, `CONCURRENCY`
//!   requests in flight, default 16) and read the body;
//! - `parse`: and parse it with scraper (html5ever) and collect the text of
//!   its `section.content` (the body when there is none), the job urlwatch's
//!   `css` + `html2text` filters do.
//!
//! Prints the pages and the bytes read (and the text's characters in `parse`)
//! on one line; the caller times the process (`/usr/bin/time -v`).
//!
//! # Errors
//! Exits 1 on a failed request or a status other than 200.

use std::sync::Arc;

use scraper::{Html, Selector};
use tokio::task::JoinSet;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(list)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: bare_pipeline fetch|parse URL_LIST [CONCURRENCY]");
        std::process::exit(2);
    };
    let parse = match mode.as_str() {
        "fetch" => false,
        "parse" => true,
        other => {
            eprintln!("unknown mode `{other}` (fetch or parse)");
            std::process::exit(2);
        }
    };
    let concurrency: usize = args.get(3).and_then(|c| c.parse().ok()).unwrap_or(16);
    let urls: Vec<String> = std::fs::read_to_string(list)
        .unwrap_or_else(|e| {
            eprintln!("{list}: {e}");
            std::process::exit(2);
        })
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let (bytes, chars) = runtime.block_on(run(urls.clone(), concurrency, parse));
    println!("pages {} bytes {bytes} text_chars {chars}", urls.len());
}

async fn run(urls: Vec<String>, concurrency: usize, parse: bool) -> (usize, usize) {
    let client = reqwest::Client::new();
    let content = Arc::new(Selector::parse("section.content").expect("a valid selector"));
    let mut set = JoinSet::new();
    let (mut bytes, mut chars) = (0, 0);
    let mut next = urls.into_iter();
    loop {
        while set.len() < concurrency {
            let Some(url) = next.next() else { break };
            let (client, content) = (client.clone(), Arc::clone(&content));
            set.spawn(async move { page(&client, &url, parse.then_some(&*content)).await });
        }
        let Some(done) = set.join_next().await else {
            break;
        };
        let (b, c) = done.expect("a page task");
        bytes += b;
        chars += c;
    }
    (bytes, chars)
}

/// Fetches `url`; with `content`, parses it and returns the text's length.
async fn page(client: &reqwest::Client, url: &str, content: Option<&Selector>) -> (usize, usize) {
    let response = client.get(url).send().await.unwrap_or_else(|e| {
        eprintln!("{url}: {e}");
        std::process::exit(1);
    });
    if response.status() != reqwest::StatusCode::OK {
        eprintln!("{url}: {}", response.status());
        std::process::exit(1);
    }
    let body = response.text().await.unwrap_or_else(|e| {
        eprintln!("{url}: {e}");
        std::process::exit(1);
    });
    let Some(content) = content else {
        return (body.len(), 0);
    };
    let html = Html::parse_document(&body);
    let root = html
        .select(content)
        .next()
        .unwrap_or_else(|| html.root_element());
    let text: String = root.text().collect();
    (body.len(), text.chars().count())
}
