//! `redliner serve [--bind ADDR]`: the HTTP server over the store, until
//! SIGINT or SIGTERM. For now it serves `/metrics` (see
//! [`redliner::serve`]); `watch --serve ADDR` serves the same routes from
//! the daemon, with its checks counted.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use clap::Args;

use redliner::error::Error;
use redliner::metrics::Metrics;
use redliner::serve::{self, MetricsSource};

use super::Global;
use super::source::open_store;

/// Arguments of `redliner serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on: loopback only (127.0.0.1 or ::1); port 0
    /// lets the system choose, and the address is printed
    #[arg(long, value_name = "ADDR", default_value = serve::DEFAULT_BIND, value_parser = serve::parse_addr)]
    pub bind: SocketAddr,
}

/// Serves the store until SIGINT or SIGTERM, then exits 0.
///
/// # Errors
/// [`Error::Usage`] for a non-loopback address or one that cannot be bound;
/// [`Error::NotFound`] without a store; store and runtime errors.
pub fn run(global: &Global, args: &ServeArgs) -> Result<ExitCode, Error> {
    let (listener, url) = serve::bind(args.bind).map_err(Error::Usage)?;
    let (store, settings) = open_store(global)?;
    // The configured targets, or (without a config) every stored one.
    let targets = match &settings {
        Some(s) => s.targets.iter().map(|t| t.id.clone()).collect(),
        None => store.targets()?,
    };
    let store = Mutex::new(store);
    // This process runs no check: its counters stay empty, and the store's
    // gauges say what the checks of `check` and `watch` left.
    let metrics = Metrics::default();
    let source: MetricsSource = Arc::new(move || {
        let ids: Vec<&str> = targets.iter().map(String::as_str).collect();
        let store = store.lock().unwrap_or_else(PoisonError::into_inner);
        metrics.render(&store, &ids)
    });
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        super::listen_for_signals(stop, "stopping")?;
        if !global.quiet {
            super::status(
                tracing::Level::INFO,
                None,
                format_args!("serving {url}/metrics"),
            );
        }
        serve::run(listener, serve::router(source), shutdown)
            .await
            .map_err(|source| Error::System {
                what: "serving HTTP",
                source,
            })
    })?;
    Ok(ExitCode::SUCCESS)
}
