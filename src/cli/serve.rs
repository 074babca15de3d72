//! `redliner serve [--bind ADDR]`: the web application over the store (see
//! [`redliner::serve`]) until SIGINT or SIGTERM. `watch --serve ADDR`
//! serves the same routes from the daemon, with its checks counted in
//! `/metrics`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use clap::Args;

use redliner::config::Settings;
use redliner::diff::DiffOptions;
use redliner::error::Error;
use redliner::metrics::Metrics;
use redliner::serve::{self, App, MetricsSource};

use super::Global;
use super::source::{existing_store, optional_settings};

/// Arguments of `redliner serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (default: `[serve] bind` of the config, else
    /// 127.0.0.1:8080); an address other than loopback needs
    /// `[serve] token_env`; port 0 lets the system choose, and the address
    /// is printed
    #[arg(long, value_name = "ADDR", value_parser = serve::parse_addr)]
    pub bind: Option<SocketAddr>,
}

/// The shortest bearer token `serve` accepts.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The bearer token `[serve] token_env` names, read from the environment.
///
/// # Errors
/// [`Error::Usage`] when the variable is unset, empty or shorter than
/// [`MIN_TOKEN_CHARS`].
pub fn token(settings: Option<&Settings>) -> Result<Option<String>, Error> {
    let Some(name) = settings.and_then(|s| s.serve.token_env.as_deref()) else {
        return Ok(None);
    };
    let hint = "e.g. `openssl rand -hex 32`";
    match std::env::var(name) {
        Ok(t) if !t.trim().chars().all(|c| c.is_ascii_graphic()) && !t.trim().is_empty() => {
            Err(Error::Usage(format!(
                "`[serve] token_env` names `{name}`, whose token has characters an HTTP header \
                 cannot carry: use ASCII letters, digits and punctuation ({hint})"
            )))
        }
        Ok(t) if t.trim().chars().count() >= MIN_TOKEN_CHARS => Ok(Some(t.trim().to_string())),
        Ok(t) if t.trim().is_empty() => Err(Error::Usage(format!(
            "`[serve] token_env` names `{name}`, which is empty: set it to a long random token ({hint})"
        ))),
        Ok(t) => Err(Error::Usage(format!(
            "`[serve] token_env` names `{name}`, whose token has {} characters: use at least {MIN_TOKEN_CHARS} ({hint})",
            t.trim().chars().count()
        ))),
        Err(_) => Err(Error::Usage(format!(
            "`[serve] token_env` names `{name}`, which is not set: export {name}=<a long random token> ({hint})"
        ))),
    }
}

/// The application over a store of its own (a connection apart from any
/// checker's, so pages never wait for a check), with the older snapshots
/// indexed for search first.
///
/// # Errors
/// Store errors.
pub fn app(
    root: &Path,
    settings: Option<Settings>,
    token: Option<String>,
    local: std::net::SocketAddr,
    metrics: MetricsSource,
) -> Result<App, Error> {
    let mut store = super::source::open_root(root, settings.as_ref())?;
    // Snapshots stored before search existed: index them now, in short
    // transactions (a running `watch` waits at most for one).
    while store.index_for_search(200)? > 0 {}
    let (write, public_url) = settings
        .as_ref()
        .map(|s| (s.serve.write, s.serve.public_url.clone()))
        .unwrap_or_default();
    // Without a token, only the names of this host: a page on another site
    // whose name is pointed at 127.0.0.1 (DNS rebinding) is refused.
    let hosts = if token.is_none() {
        App::loopback_hosts(local, public_url.as_ref())
    } else {
        Vec::new()
    };
    Ok(App {
        hosts,
        store: Arc::new(Mutex::new(store)),
        root: root.to_path_buf(),
        settings: settings.map(Arc::new),
        diff: DiffOptions::default(),
        write,
        token,
        public_url,
        metrics,
    })
}

/// Serves the store until SIGINT or SIGTERM, then exits 0.
///
/// # Errors
/// [`Error::Usage`] for an address that needs a token and has none, or that
/// cannot be bound; [`Error::NotFound`] without a store; store and runtime
/// errors.
pub fn run(global: &Global, args: &ServeArgs) -> Result<ExitCode, Error> {
    let settings = optional_settings(global)?;
    let token = token(settings.as_ref())?;
    let addr = args
        .bind
        .or_else(|| settings.as_ref().and_then(|s| s.serve.bind))
        .unwrap_or_else(|| serve::DEFAULT_BIND.parse().expect("a valid address"));
    let (listener, url) = serve::bind(addr, token.is_some()).map_err(Error::Usage)?;
    let root = match (&global.store, &settings) {
        (Some(root), _) => root.clone(),
        (None, Some(s)) => s.store.clone(),
        (None, None) => std::path::PathBuf::from(redliner::config::DEFAULT_STORE),
    };
    let store = existing_store(&root, settings.as_ref())?;
    // The configured targets, or (without a config) every stored one.
    let targets = match &settings {
        Some(s) => s.targets.iter().map(|t| t.id.clone()).collect(),
        None => store.targets()?,
    };
    drop(store);
    // This process runs no check: its counters stay empty, and the store's
    // gauges say what the checks of `check` and `watch` left.
    let metrics_store = Mutex::new(super::source::open_root(&root, settings.as_ref())?);
    let metrics = Metrics::default();
    let source: MetricsSource = Arc::new(move || {
        let ids: Vec<&str> = targets.iter().map(String::as_str).collect();
        let store = metrics_store.lock().unwrap_or_else(PoisonError::into_inner);
        metrics.render(&store, &ids)
    });
    let local = listener.local_addr().map_err(|source| Error::System {
        what: "reading the address listened on",
        source,
    })?;
    let app = app(&root, settings, token, local, source)?;
    let writes = if app.write { "read-write" } else { "read-only" };
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        super::listen_for_signals(stop, "stopping")?;
        if !global.quiet {
            super::status(
                tracing::Level::INFO,
                None,
                format_args!("serving {url}/ ({writes}; metrics at {url}/metrics)"),
            );
        }
        serve::run(listener, serve::router(app), shutdown)
            .await
            .map_err(|source| Error::System {
                what: "serving HTTP",
                source,
            })
    })?;
    Ok(ExitCode::SUCCESS)
}
