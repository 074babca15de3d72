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
//!   `css` + `html2text` filters do;
//! - `keep`: and keep each page as a first snapshot is kept (issue 9's store):
//!   the raw body compressed (zstd) under its SHA-256 once per distinct body,
//!   a directory per snapshot with the text as `document.md` and as compressed
//!   JSON, one `syncfs(2)` for the batch, then one SQLite row per page in one
//!   transaction (WAL, `synchronous = NORMAL`), in the directory `STORE`
//!   (the fourth argument; created; must not hold a previous run's store).
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
        "parse" | "keep" => true,
        other => {
            eprintln!("unknown mode `{other}` (fetch, parse or keep)");
            std::process::exit(2);
        }
    };
    let concurrency: usize = args.get(3).and_then(|c| c.parse().ok()).unwrap_or(16);
    let store = (mode == "keep").then(|| {
        let Some(dir) = args.get(4) else {
            eprintln!("keep needs a STORE directory (the fourth argument)");
            std::process::exit(2);
        };
        std::path::PathBuf::from(dir)
    });
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
    let (bytes, chars) = runtime.block_on(run(urls.clone(), concurrency, parse, store.as_deref()));
    println!("pages {} bytes {bytes} text_chars {chars}", urls.len());
}

async fn run(
    urls: Vec<String>,
    concurrency: usize,
    parse: bool,
    store: Option<&std::path::Path>,
) -> (usize, usize) {
    let mut keeper = store.map(Keeper::open);
    let client = reqwest::Client::new();
    let content = Arc::new(Selector::parse("section.content").expect("a valid selector"));
    let mut set = JoinSet::new();
    let (mut bytes, mut chars) = (0, 0);
    let mut next = urls.into_iter();
    loop {
        while set.len() < concurrency {
            let Some(url) = next.next() else { break };
            let (client, content) = (client.clone(), Arc::clone(&content));
            set.spawn(async move { page(&client, url, parse.then_some(&*content)).await });
        }
        let Some(done) = set.join_next().await else {
            break;
        };
        let page = done.expect("a page task");
        bytes += page.body.len();
        chars += page.text.chars().count();
        if let Some(keeper) = &mut keeper {
            keeper.keep(&page);
        }
    }
    if let Some(keeper) = keeper {
        keeper.commit();
    }
    (bytes, chars)
}

/// One fetched page: its URL, body and (parsed) text.
struct Page {
    url: String,
    body: String,
    text: String,
}

/// The `keep` mode's store: the files under its root and the SQLite index.
struct Keeper {
    root: std::path::PathBuf,
    rows: Vec<(String, String, String)>,
}

impl Keeper {
    fn open(root: &std::path::Path) -> Keeper {
        std::fs::create_dir_all(root.join("raw")).unwrap_or_else(|e| fail(root, e));
        Keeper {
            root: root.to_path_buf(),
            rows: Vec::new(),
        }
    }

    /// Writes the page's raw body (once per digest) and its snapshot directory.
    fn keep(&mut self, page: &Page) {
        use sha2::Digest;
        let sha = format!("{:x}", sha2::Sha256::digest(page.body.as_bytes()));
        let raw = self.root.join("raw").join(format!("{sha}.html.zst"));
        if !raw.exists() {
            let zst =
                zstd::bulk::compress(page.body.as_bytes(), 3).unwrap_or_else(|e| fail(&raw, e));
            std::fs::write(&raw, zst).unwrap_or_else(|e| fail(&raw, e));
        }
        let n = self.rows.len();
        let dir = self.root.join(format!("t{n:06}")).join("first");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(&dir, e));
        let md = dir.join("document.md");
        std::fs::write(&md, &page.text).unwrap_or_else(|e| fail(&md, e));
        let json = serde_json::to_vec(&serde_json::json!({ "url": page.url, "text": page.text }))
            .expect("JSON of strings");
        let json_path = dir.join("document.json.zst");
        let zst = zstd::bulk::compress(&json, 3).unwrap_or_else(|e| fail(&json_path, e));
        std::fs::write(&json_path, zst).unwrap_or_else(|e| fail(&json_path, e));
        self.rows
            .push((page.url.clone(), sha, dir.to_string_lossy().into_owned()));
    }

    /// Makes the batch's files durable (one syncfs), then indexes them in one
    /// transaction.
    fn commit(self) {
        let root = std::fs::File::open(&self.root).unwrap_or_else(|e| fail(&self.root, e));
        rustix::fs::syncfs(&root).unwrap_or_else(|e| fail(&self.root, e.into()));
        let db = self.root.join("index.sqlite");
        let mut conn = rusqlite::Connection::open(&db).unwrap_or_else(|e| fail(&db, io(e)));
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS snapshots (id INTEGER PRIMARY KEY, url TEXT NOT NULL,
               raw_sha256 TEXT NOT NULL, dir TEXT NOT NULL);",
        )
        .unwrap_or_else(|e| fail(&db, io(e)));
        let tx = conn.transaction().unwrap_or_else(|e| fail(&db, io(e)));
        {
            let mut insert = tx
                .prepare("INSERT INTO snapshots (url, raw_sha256, dir) VALUES (?1, ?2, ?3)")
                .unwrap_or_else(|e| fail(&db, io(e)));
            for (url, sha, dir) in &self.rows {
                insert
                    .execute((url, sha, dir))
                    .unwrap_or_else(|e| fail(&db, io(e)));
            }
        }
        tx.commit().unwrap_or_else(|e| fail(&db, io(e)));
    }
}

fn io(e: rusqlite::Error) -> std::io::Error {
    std::io::Error::other(e)
}

fn fail(path: &std::path::Path, e: std::io::Error) -> ! {
    eprintln!("{}: {e}", path.display());
    std::process::exit(1);
}

/// Fetches `url`; with `content`, parses it and collects its text.
async fn page(client: &reqwest::Client, url: String, content: Option<&Selector>) -> Page {
    let response = client.get(&url).send().await.unwrap_or_else(|e| {
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
        return Page {
            url,
            body,
            text: String::new(),
        };
    };
    let html = Html::parse_document(&body);
    let root = html
        .select(content)
        .next()
        .unwrap_or_else(|| html.root_element());
    let text: String = root.text().collect();
    Page { url, body, text }
}
