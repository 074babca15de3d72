//! Loading a page for the stage-debugging commands (`extract`, `diff OLD NEW`):
//! from a local file or a URL, with the rules of a configured target or the
//! generic ones.

use std::path::{Path, PathBuf};

use redliner::config::{self, Settings};
use redliner::document::Document;
use redliner::error::Error;
use redliner::fetch::{self, Fetched, Fetcher};
use redliner::monitor::extract_page;
use redliner::target::{Rules, Target};
use url::Url;

use super::Global;

/// The config when one is given or the default file exists; `None` otherwise
/// (the file commands need no config).
pub fn optional_settings(global: &Global) -> Result<Option<Settings>, Error> {
    match &global.config {
        Some(_) => global.settings().map(Some),
        None if Path::new(config::DEFAULT_CONFIG).is_file() => global.settings().map(Some),
        None => Ok(None),
    }
}

/// The target whose rules to use: `--target ID` from the config, else a
/// generic target for `url`.
pub fn target_for(
    settings: Option<&Settings>,
    id: Option<&str>,
    url: Url,
) -> Result<Target, Error> {
    match id {
        Some(id) => {
            let settings = settings.ok_or_else(|| {
                Error::Usage(format!(
                    "--target `{id}` needs a config file (--config PATH or {})",
                    config::DEFAULT_CONFIG
                ))
            })?;
            let mut t = settings.select(&[id.to_string()])?.remove(0);
            t.url = url;
            Ok(t)
        }
        None => Ok(Target::new("file", url, Rules::generic())),
    }
}

/// True when `s` looks like an http(s) URL rather than a path.
pub fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Reads and extracts a page from a file or URL.
pub fn load_document(
    input: &str,
    settings: Option<&Settings>,
    target: Option<&str>,
) -> Result<Document, Error> {
    if is_url(input) {
        let url = Url::parse(input).map_err(|e| Error::Usage(format!("bad URL `{input}`: {e}")))?;
        let t = target_for(settings, target, url.clone())?;
        let fetch_settings = settings.map(|s| s.fetch.clone()).unwrap_or_default();
        let fetch_error = |source| match target {
            Some(id) => Error::Fetch {
                target: id.to_string(),
                source,
            },
            None => Error::FetchPage(source),
        };
        let fetcher = Fetcher::new(fetch_settings).map_err(fetch_error)?;
        let runtime = super::runtime()?;
        let fetched = runtime
            .block_on(fetcher.fetch(&url, None))
            .map_err(fetch_error)?;
        match fetched {
            Fetched::Page(mut page) => {
                if t.charset.is_some() {
                    page.decode(t.charset);
                }
                if let Some(e) = page.undecodable() {
                    return Err(fetch_error(e));
                }
                extract_page(&t, &page)
            }
            .map_err(|e| match (target, e) {
                (None, Error::Extract { source, .. }) => Error::ExtractPage {
                    input: input.to_string(),
                    source,
                },
                (_, e) => e,
            }),
            Fetched::NotModified => {
                Err(Error::Usage(format!("`{input}` answered 304 Not Modified")))
            }
        }
    } else {
        let path = PathBuf::from(input);
        let bytes = std::fs::read(&path).map_err(|e| super::output::io_error(input, e))?;
        let decoded = fetch::decode(&bytes, None, None);
        let abs = std::fs::canonicalize(&path).unwrap_or(path);
        let url = Url::from_file_path(&abs)
            .map_err(|()| Error::Usage(format!("cannot make a file URL of `{input}`")))?;
        let t = target_for(settings, target, url)?;
        // No base: relative links stay as written, so the same page saved in
        // two folders gives the same document.
        redliner::extract::extract(&decoded.text, None, &t.rules).map_err(|source| match target {
            Some(id) => Error::Extract {
                target: id.to_string(),
                url: input.to_string(),
                source,
            },
            None => Error::ExtractPage {
                input: input.to_string(),
                source,
            },
        })
    }
}

/// Opens the store for the read-only commands: `--store` when given, else the
/// config's store, else the default `snapshots/` (no config file needed).
pub fn open_store(global: &Global) -> Result<(redliner::store::Store, Option<Settings>), Error> {
    let settings = optional_settings(global)?;
    let root = store_root(global, settings.as_ref());
    let mut store = existing_store(&root, settings.as_ref())?;
    store.set_public_url(settings.as_ref().and_then(|s| s.serve.public_url.clone()));
    Ok((store, settings))
}

/// Opens an existing store for a command that reads the ledger (`verify`,
/// the exports, `evidence`): the snapshots stored before the ledger are
/// entered first, with the store lock held as any writer does (said on
/// stderr unless `-q`).
///
/// # Errors
/// As [`existing_store`]; the lock's and the store's errors.
pub fn open_sealed(global: &Global, who: &str) -> Result<redliner::store::Store, Error> {
    let settings = optional_settings(global)?;
    let root = store_root(global, settings.as_ref());
    let mut store = existing_store(&root, settings.as_ref())?;
    let lock_wait = settings.as_ref().map_or_else(
        || config::WatchSettings::default().lock_wait,
        |s| s.watch.lock_wait,
    );
    let _lock = redliner::store::lock::StoreLock::acquire(&root, who, lock_wait)?;
    let sealed = store.seal_unsealed()?;
    if sealed > 0 && !global.quiet {
        super::status(
            tracing::Level::INFO,
            None,
            format_args!(
                "entered {sealed} snapshot{} stored before the ledger",
                if sealed == 1 { "" } else { "s" }
            ),
        );
    }
    Ok(store)
}

/// The store root: `--store`, else the config's `settings.store`, else
/// the default.
pub fn store_root(global: &Global, settings: Option<&Settings>) -> PathBuf {
    match (&global.store, settings) {
        (Some(root), _) => root.clone(),
        (None, Some(s)) => s.store.clone(),
        (None, None) => PathBuf::from(config::DEFAULT_STORE),
    }
}

/// Whether `root` holds a store, creating nothing: `Ok(false)` when it does
/// not exist or is an empty directory (nothing was ever stored).
///
/// # Errors
/// [`Error::NotFound`] when `root` exists and is not a directory, or is a
/// directory with files but no index (`redliner.sqlite`): not a store (a
/// wrong `--store`), or one whose index was lost.
pub fn store_exists(root: &Path) -> Result<bool, Error> {
    match root.to_str().map(redliner::store::db::postgres::store_kind) {
        // A database: opening it says whether it can be reached.
        Some(redliner::store::db::postgres::StoreKind::Postgres) => return Ok(true),
        Some(redliner::store::db::postgres::StoreKind::OtherUrl) => {
            return Err(Error::NotFound(
                redliner::store::db::postgres::other_url_message(&root.to_string_lossy()),
            ));
        }
        _ => {}
    }
    let shown = root.display();
    match std::fs::metadata(root) {
        Err(_) => return Ok(false),
        Ok(m) if !m.is_dir() => {
            return Err(Error::NotFound(format!(
                "`{shown}` is not a directory: a store is one (pass --store DIR)"
            )));
        }
        Ok(_) => {}
    }
    if root.join(redliner::store::INDEX_FILE).is_file() {
        return Ok(true);
    }
    let entries = std::fs::read_dir(root)
        .map_err(|e| Error::NotFound(format!("store `{shown}`: {e}")))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != redliner::store::lock::LOCK_FILE)
        // The repository's `snapshots/README.md` (and a `.gitkeep`): a store
        // directory as cloned, before any check.
        .filter(|e| !matches!(e.file_name().to_str(), Some("README.md" | ".gitkeep")))
        .count();
    if entries == 0 {
        return Ok(false);
    }
    Err(Error::NotFound(format!(
        "`{shown}` holds {entries} entries but no index `{}`: not a redliner store (pass --store DIR), \
         or one whose index was lost (restore it from a backup)",
        redliner::store::INDEX_FILE
    )))
}

/// Opens the store at `root` for a command that needs one, creating
/// nothing (see [`store_exists`]).
///
/// # Errors
/// [`Error::NotFound`] when there is no store; store errors.
pub fn existing_store(
    root: &Path,
    settings: Option<&Settings>,
) -> Result<redliner::store::Store, Error> {
    if !store_exists(root)? {
        return Err(Error::NotFound(format!(
            "no store at `{}` (run `redliner check` first, or pass --store DIR)",
            root.display()
        )));
    }
    open_root(root, settings)
}

/// Opens the store at `root` (a directory or a PostgreSQL URL). When `root`
/// is the config's store, the password is read from the variable its
/// `store_password_env` names; otherwise (a `--store` URL) from
/// `PGPASSWORD`.
///
/// # Errors
/// The store's errors.
pub fn open_root(
    root: &Path,
    settings: Option<&Settings>,
) -> Result<redliner::store::Store, Error> {
    let password_env = settings
        .filter(|s| s.store == root)
        .and_then(|s| s.store_password_env.as_deref());
    Ok(redliner::store::Store::open_with_password(
        root,
        password_env,
    )?)
}
