//! The `Test` builder: a temp dir with a config pointing at a local server, a
//! store inside it, and helpers to run the binary and read the store back.

use std::path::{Path, PathBuf};
use std::process::Output;

pub use crate::server::{Reply, Server};

/// Reads a fixture file from `tests/fixtures/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// One test's world: a server, a temp dir, a config, a store.
pub struct Test {
    pub server: Server,
    pub dir: tempfile::TempDir,
    /// The test's own PostgreSQL database, when the suite runs on
    /// PostgreSQL (`REDLINER_TEST_POSTGRES`); the store is there.
    pub pg: Option<PgDb>,
}

/// Which store the suite runs on: `postgres` when `REDLINER_TEST_POSTGRES`
/// names a server (`postgres://user@127.0.0.1:port/db`, a role that may
/// create databases) and `REDLINER_TEST_BACKEND` is `postgres`; SQLite
/// otherwise.
pub fn on_postgres() -> bool {
    std::env::var("REDLINER_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A database of one test's own, made from a migrated template (one per
/// test process) and dropped when the test ends.
pub struct PgDb {
    pub url: String,
    admin: String,
    name: String,
}

fn pg_admin() -> String {
    std::env::var("REDLINER_TEST_POSTGRES")
        .expect("REDLINER_TEST_BACKEND=postgres needs REDLINER_TEST_POSTGRES (see .ci/postgres)")
}

fn pg_url(admin: &str, name: &str) -> String {
    let mut u = url::Url::parse(admin).unwrap();
    u.set_path(&format!("/{name}"));
    u.to_string()
}

fn pg_exec(url: &str, sql: &str) {
    use redliner::store::db::postgres::{PgConnection, PgTarget};
    let target = PgTarget {
        url: url.to_string(),
        password: None,
    };
    let conn = PgConnection::connect(&target).unwrap_or_else(|e| panic!("{url}: {e}"));
    conn.batch_execute(sql)
        .unwrap_or_else(|e| panic!("{url}: {sql}: {e}"));
    // The pool stays open: tests on other threads share it.
}

/// The template every test database is made from: the schema migrated once
/// per test process.
fn pg_template() -> &'static str {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let admin = pg_admin();
        let name = format!("redliner_tpl_{}", std::process::id());
        pg_exec(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
        pg_exec(&admin, &format!("CREATE DATABASE {name}"));
        let target = redliner::store::db::postgres::PgTarget {
            url: pg_url(&admin, &name),
            password: None,
        };
        drop(redliner::store::Store::open_postgres(&target).unwrap());
        redliner::store::db::postgres::close_pool(&target);
        name
    })
}

impl PgDb {
    pub fn new() -> PgDb {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let admin = pg_admin();
        let template = pg_template();
        let name = format!("redliner_it_{}_{n}", std::process::id());
        pg_exec(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
        pg_exec(
            &admin,
            &format!("CREATE DATABASE {name} TEMPLATE {template}"),
        );
        PgDb {
            url: pg_url(&admin, &name),
            admin,
            name,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        redliner::store::db::postgres::close_pool(&redliner::store::db::postgres::PgTarget {
            url: self.url.clone(),
            password: None,
        });
        pg_exec(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// What one run of the binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

pub const NATO_RULES: &str = r#"
[rules.nato-topic]
title = "h1.fs-huge"
content = ["section.content"]
tz = "Europe/Brussels"
"#;

impl Test {
    /// A server plus a config with one target `nato-belarus` at `/topics_49119.htm`.
    pub fn new() -> Test {
        let server = Server::start();
        let dir = tempfile::tempdir().unwrap();
        let pg = on_postgres().then(PgDb::new);
        let t = Test { server, dir, pg };
        t.write_config(&format!(
            "[settings]\ntimeout = \"5s\"\nretries = 0\n{NATO_RULES}\n[[target]]\nid = \"nato-belarus\"\nurl = \"{}\"\nrules = \"nato-topic\"\n",
            t.server.url("/cps/en/natohq/topics_49119.htm")
        ));
        t
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("redliner.toml")
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// What `--store` names: the store directory, or the test's PostgreSQL
    /// database.
    pub fn store_arg(&self) -> String {
        match &self.pg {
            Some(pg) => pg.url.clone(),
            None => self.store().display().to_string(),
        }
    }

    /// Writes the config. Unless it sets `confirm_after` itself, content
    /// changes are not confirmed by a second fetch (`confirm_after = "0s"`),
    /// so the suite does not wait the 10 s default on every change; unless
    /// it sets `min_host_delay`, there is none.
    pub fn write_config(&self, text: &str) {
        let text = if text.contains("confirm_after") {
            text.to_string()
        } else if text.contains("[settings]\n") {
            text.replacen("[settings]\n", "[settings]\nconfirm_after = \"0s\"\n", 1)
        } else {
            format!("[settings]\nconfirm_after = \"0s\"\n{text}")
        };
        // Nor do runs wait the 5 s default between two checks of the test
        // server: in PostgreSQL the delay holds across runs (workers share
        // it), and every test checks one host again and again.
        let text = if text.contains("min_host_delay") {
            text
        } else {
            text.replacen("[settings]\n", "[settings]\nmin_host_delay = \"0s\"\n", 1)
        };
        std::fs::write(self.config_path(), text).unwrap();
    }

    /// Serves a fixture page as a 200 HTML response.
    pub fn serve(&self, fixture_name: &str) {
        self.server.reply(Reply::html(fixture(fixture_name)));
    }

    /// Runs `redliner --config C --store S ARGS...` with colour off.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[])
    }

    /// [`Test::run`] with these environment variables set (the secrets a
    /// channel's `url_env` names, say).
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.command()
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap()
            .into()
    }

    /// `redliner --config C --store S` for this test's config and store, in
    /// its directory, with no inherited config, store, log filter or colour,
    /// as a plain [`std::process::Command`] the caller adds the command to
    /// and runs or spawns (a daemon, a server).
    pub fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_redliner"));
        cmd.current_dir(self.dir.path())
            .env_remove("REDLINER_CONFIG")
            .env_remove("REDLINER_STORE")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .arg("--config")
            .arg(self.config_path())
            .arg("--store")
            .arg(self.store_arg());
        cmd
    }

    /// A connection to the store's database, SQLite or PostgreSQL, through
    /// redliner's own SQL interface (SQLite's `?N` placeholders on both).
    pub fn db(&self) -> redliner::store::db::Connection {
        self.sql()
    }

    /// [`Test::db`].
    pub fn sql(&self) -> redliner::store::db::Connection {
        match &self.pg {
            Some(pg) => redliner::store::db::Connection::postgres(
                redliner::store::db::postgres::PgConnection::connect(
                    &redliner::store::db::postgres::PgTarget {
                        url: pg.url.clone(),
                        password: None,
                    },
                )
                .unwrap(),
            ),
            None => redliner::store::db::Connection::sqlite(
                rusqlite::Connection::open(self.store().join("redliner.sqlite")).unwrap(),
            ),
        }
    }

    /// `SELECT COUNT(*) FROM table [WHERE ...]`.
    pub fn count(&self, table_and_where: &str) -> i64 {
        self.sql()
            .query_row(
                &format!("SELECT COUNT(*) FROM {table_and_where}"),
                (),
                |r| r.get(0),
            )
            .unwrap()
    }

    /// The document JSON of a snapshot directory as text:
    /// `document.json.zst`, or the plain `document.json` of the old layout;
    /// in PostgreSQL, the blob its row names.
    pub fn stored_document(&self, dir: &Path) -> String {
        if self.pg.is_some() {
            let sha = self.snapshot_column(dir, "document_sha256");
            return String::from_utf8(self.blob(&sha)).unwrap();
        }
        match std::fs::read(dir.join("document.json.zst")) {
            Ok(zst) => String::from_utf8(zstd::decode_all(&zst[..]).unwrap()).unwrap(),
            Err(_) => std::fs::read_to_string(dir.join("document.json"))
                .unwrap_or_else(|e| panic!("{}: no document: {e}", dir.display())),
        }
    }

    /// A snapshot directory as its row names it (relative to the store).
    fn dir_of(&self, dir: &Path) -> String {
        let rel = dir.strip_prefix(self.store()).unwrap();
        rel.to_string_lossy().replace('\\', "/")
    }

    /// Every snapshot of a store in PostgreSQL has its document and raw
    /// body blobs.
    pub fn assert_blobs_present(&self) {
        let missing: i64 = self
            .db()
            .query_row(
                "SELECT count(*) FROM snapshots s
                  WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = s.document_sha256)
                     OR NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = s.raw_sha256)",
                (),
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(missing, 0, "snapshots without their blobs");
    }

    /// A column of the snapshot row whose directory is `dir`.
    fn snapshot_column(&self, dir: &Path, column: &str) -> String {
        self.db()
            .query_row(
                &format!("SELECT {column} FROM snapshots WHERE dir = ?1"),
                [self.dir_of(dir)],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("{column} of {}: {e}", dir.display()))
    }

    /// A blob of a store in PostgreSQL, decompressed.
    pub fn blob(&self, sha256: &str) -> Vec<u8> {
        let zst: Vec<u8> = self
            .db()
            .query_row("SELECT zstd FROM blobs WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .unwrap_or_else(|e| panic!("blob {sha256}: {e}"));
        zstd::decode_all(&zst[..]).unwrap()
    }

    /// Replaces the document of the snapshot in `dir` of a store in
    /// PostgreSQL with `bytes` (a new blob, named in its row), as an older
    /// redliner might have stored it.
    pub fn put_document(&self, dir: &Path, bytes: &[u8]) {
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(bytes));
        let db = self.db();
        db.execute(
            "INSERT INTO blobs (sha256, size, zstd) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            redliner::store::db::params![
                sha,
                bytes.len() as i64,
                zstd::encode_all(bytes, 3).unwrap()
            ],
        )
        .unwrap();
        db.execute(
            "UPDATE snapshots SET document_sha256 = ?1 WHERE dir = ?2",
            [sha, self.dir_of(dir)],
        )
        .unwrap();
    }

    /// The Atom feed of `target` (`None`: of all targets), as `serve` gives
    /// it: the file a store in a directory keeps, or made from a store in
    /// PostgreSQL.
    pub fn feed(&self, target: Option<&str>) -> String {
        if self.pg.is_some() {
            let mut store = redliner::store::Store::open(Path::new(&self.store_arg())).unwrap();
            // As `serve` renders it: with the config's `[serve] public_url`.
            if let Ok(settings) =
                redliner::config::load(&self.config_path(), Some(Path::new(&self.store_arg())))
            {
                store.set_public_url(settings.serve.public_url.clone());
                store.set_feed_scope(settings.targets.iter().map(|t| t.id.clone()));
            }
            let bytes = match target {
                Some(t) => redliner::archive::target_feed_bytes(&store, t),
                None => redliner::archive::combined_feed_bytes(&store),
            }
            .unwrap();
            return String::from_utf8(bytes).unwrap();
        }
        let path = match target {
            Some(t) => self.store().join(t).join("feed.atom"),
            None => self.store().join("feed.atom"),
        };
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The Markdown of the snapshot in `dir`: its `document.md`, or in
    /// PostgreSQL (which keeps none) what `show --format markdown` prints.
    pub fn document_md(&self, dir: &Path) -> String {
        if self.pg.is_some() {
            let rel = self.dir_of(dir);
            let (target, name) = rel.rsplit_once('/').unwrap();
            let run = self.run(&["show", target, name, "--format", "markdown"]);
            assert_eq!(run.code, 0, "show {rel}: {}", run.stderr);
            return run.stdout;
        }
        std::fs::read_to_string(dir.join("document.md"))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
    }

    /// True for a store in a directory: what a test checks of its files
    /// (`document.md`, `redline.md`, the layout) is not there in
    /// PostgreSQL, which keeps documents and raw bodies as blobs.
    pub fn files_on_disk(&self) -> bool {
        self.pg.is_none()
    }

    /// Removes the raw body of the snapshot in `dir`: its file, or in
    /// PostgreSQL its blob (no other snapshot of the test shares it).
    pub fn remove_raw(&self, dir: &Path) {
        if self.pg.is_some() {
            let n = self
                .db()
                .execute(
                    "DELETE FROM blobs WHERE sha256 = (SELECT raw_sha256 FROM snapshots WHERE dir = ?1)",
                    [self.dir_of(dir)],
                )
                .unwrap();
            assert_eq!(n, 1, "no raw body blob for {}", dir.display());
            return;
        }
        std::fs::remove_file(self.raw_file(dir)).unwrap();
    }

    /// Edits the stored document of the snapshot in `dir` in place, behind
    /// redliner's back (its file, or in PostgreSQL its blob).
    pub fn edit_document(&self, dir: &Path, edit: impl FnOnce(&mut Vec<u8>)) {
        if self.pg.is_some() {
            let sha = self.snapshot_column(dir, "document_sha256");
            let mut json = self.blob(&sha);
            edit(&mut json);
            self.db()
                .execute(
                    "UPDATE blobs SET zstd = ?2 WHERE sha256 = ?1",
                    redliner::store::db::params![sha, zstd::encode_all(&json[..], 3).unwrap()],
                )
                .unwrap();
            return;
        }
        let doc = dir.join("document.json.zst");
        let mut json = zstd::decode_all(&std::fs::read(&doc).unwrap()[..]).unwrap();
        edit(&mut json);
        std::fs::write(&doc, zstd::encode_all(&json[..], 3).unwrap()).unwrap();
    }

    /// The raw body file of the snapshot in `dir` (named by its row); a
    /// store in a directory only.
    pub fn raw_file(&self, dir: &Path) -> PathBuf {
        assert!(
            self.pg.is_none(),
            "this test changes a raw body's file: a store in a directory only"
        );
        self.store().join(self.snapshot_column(dir, "raw_path"))
    }

    /// The raw body of the snapshot in `dir`, decompressed.
    pub fn stored_raw(&self, dir: &Path) -> Vec<u8> {
        if self.pg.is_some() {
            let sha = self.snapshot_column(dir, "raw_sha256");
            return self.blob(&sha);
        }
        zstd::decode_all(&std::fs::read(self.raw_file(dir)).unwrap()[..]).unwrap()
    }

    /// The snapshot directories of a target, oldest first. In PostgreSQL,
    /// where no directory is written, the paths the rows name.
    pub fn snapshot_dirs(&self, target: &str) -> Vec<PathBuf> {
        if self.pg.is_some() {
            let mut dirs: Vec<PathBuf> = self
                .db()
                .query_vec(
                    "SELECT dir FROM snapshots WHERE target_id = ?1",
                    [target],
                    |r| r.get::<_, String>(0),
                )
                .unwrap()
                .into_iter()
                .map(|d| d.split('/').fold(self.store(), |p, part| p.join(part)))
                .collect();
            dirs.sort();
            return dirs;
        }
        let dir = self.store().join(target);
        let mut dirs: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_dir())
                .collect(),
            Err(_) => Vec::new(),
        };
        dirs.sort();
        dirs
    }
}
