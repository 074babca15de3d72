//! What every handler shares: the store, the settings it serves with, and
//! how a handler reads the store off the async threads.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::StatusCode;
use url::Url;

use super::MetricsSource;
use crate::config::Settings;
use crate::diff::DiffOptions;
use crate::store::{Store, StoreError};

/// The application state of the server.
pub struct App {
    /// The store, read (and, with `write`, written) one request at a time.
    /// SQLite's WAL journal lets `check` and `watch` write meanwhile.
    pub store: Arc<Mutex<Store>>,
    /// The store root (for messages).
    pub root: PathBuf,
    /// The config, when there is one: target names, channels for the test
    /// alert.
    pub settings: Option<Arc<Settings>>,
    /// Options of the redlines computed between arbitrary snapshots.
    pub diff: DiffOptions,
    /// Whether the pages may change the store (`serve.write`).
    pub write: bool,
    /// The bearer token every request must carry, when set.
    pub token: Option<String>,
    /// Where readers reach this server (`serve.public_url`), for the
    /// absolute links of the feeds.
    pub public_url: Option<Url>,
    /// The `/metrics` page.
    pub metrics: MetricsSource,
    /// The `Host` values this server answers to, lower case (`127.0.0.1:8080`,
    /// `localhost:8080`, the public URL's host); empty: any. Set for a
    /// loopback bind without a token, so that a web page whose name an
    /// attacker points at 127.0.0.1 (DNS rebinding) reads nothing: see
    /// [`App::loopback_hosts`].
    pub hosts: Vec<String>,
}

/// Why a page could not be shown: the status and the sentence to show.
#[derive(Debug)]
pub struct Failure {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, in a sentence.
    pub message: String,
}

impl Failure {
    /// `404 Not Found` with `message`.
    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    /// `400 Bad Request` with `message`.
    pub fn bad_request(message: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl From<StoreError> for Failure {
    /// A file of the store that is missing or unreadable (a snapshot
    /// directory deleted by hand) is a page that cannot be shown, `404`
    /// with the file named; an index that cannot be read is `503`.
    fn from(e: StoreError) -> Failure {
        match &e {
            StoreError::Io { path, source } => Failure {
                status: StatusCode::NOT_FOUND,
                message: format!(
                    "this snapshot's files are not in the store: `{path}`: {source} \
                     (a snapshot directory removed by hand? `redliner backup` and `prune` keep them whole)"
                ),
            },
            StoreError::Invalid { .. } => Failure {
                status: StatusCode::NOT_FOUND,
                message: e.to_string(),
            },
            // A value the index holds that this build cannot read (a row
            // edited by hand): a fault of the store, not of the moment.
            StoreError::Database { source, .. } if source.is_conversion() => Failure {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("the store holds a value this redliner cannot read: {e}"),
            },
            StoreError::Database { .. } => Failure {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: format!("the store could not be read: {e}"),
            },
        }
    }
}

impl From<crate::error::Error> for Failure {
    fn from(e: crate::error::Error) -> Failure {
        match e {
            crate::error::Error::Store(s) => s.into(),
            crate::error::Error::NotFound(m) => Failure::not_found(m),
            other => Failure {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: other.to_string(),
            },
        }
    }
}

impl App {
    /// The `Host` values a server bound to `local` answers to when it has
    /// no token: the address itself, `localhost` with the port (both
    /// without it on port 80), and the host of `public_url`.
    pub fn loopback_hosts(local: std::net::SocketAddr, public_url: Option<&Url>) -> Vec<String> {
        let port = local.port();
        let mut names = vec![local.to_string(), format!("localhost:{port}")];
        if port == 80 {
            names.push(match local {
                std::net::SocketAddr::V4(a) => a.ip().to_string(),
                std::net::SocketAddr::V6(a) => format!("[{}]", a.ip()),
            });
            names.push("localhost".into());
        }
        if let Some(u) = public_url
            && let Some(host) = u.host_str()
        {
            names.push(match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            });
        }
        names.iter().map(|n| n.to_ascii_lowercase()).collect()
    }

    /// Runs `f` with the store on a blocking thread (SQLite and file reads
    /// never hold an async worker).
    ///
    /// # Errors
    /// `f`'s failure; `500` when the thread panicked.
    pub async fn read<T, F>(&self, f: F) -> Result<T, Failure>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, Failure> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut store)
        })
        .await
        .unwrap_or_else(|e| {
            Err(Failure {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("the page could not be made: {e}"),
            })
        })
    }

    /// The configured URL of a target, when the config names it.
    pub fn configured(&self, target: &str) -> Option<&crate::target::Target> {
        self.settings
            .as_ref()
            .and_then(|s| s.targets.iter().find(|t| t.id == target))
    }
}

/// A stored revision of `target` and its redline as the store reads it
/// back ([`crate::archive::redline_between`]: recomputed when either
/// snapshot was re-extracted); `None` when the two snapshots read the same
/// under the current rules.
///
/// # Errors
/// `404` when the revision, or a snapshot it compares, is not stored;
/// store errors.
pub fn stored_redline(
    store: &crate::store::Store,
    target: &str,
    id: crate::ids::RevisionId,
    diff: &DiffOptions,
) -> Result<(crate::store::RevisionRow, Option<crate::report::Redline>), Failure> {
    let row = store
        .revision_row(target, id)?
        .ok_or_else(|| Failure::not_found(format!("target `{target}` has no revision {id}")))?;
    let (Some(old), Some(new)) = (
        store.snapshot_row(target, row.old_snapshot_id)?,
        store.snapshot_row(target, row.new_snapshot_id)?,
    ) else {
        return Err(Failure::not_found(format!(
            "revision {id}: a snapshot it compares is no longer stored (pruned?)"
        )));
    };
    let redline = crate::archive::redline_between(store, &old, &new, diff)?;
    Ok((row, redline))
}

/// Checks a target id from a URL: `[A-Za-z0-9._-]+`, not starting with a
/// dot (the ids the config accepts; never a path).
///
/// # Errors
/// `404` naming it.
pub fn target_id(id: &str) -> Result<&str, Failure> {
    let ok = !id.is_empty()
        && id.len() <= 200
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(id)
    } else {
        Err(Failure::not_found(
            "no such target: a target id is letters, digits, `.`, `_` and `-`",
        ))
    }
}
