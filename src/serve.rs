//! The HTTP server of `redliner serve` and `watch --serve ADDR` (axum on the
//! process's tokio runtime).
//!
//! Routes:
//!
//! - `GET /metrics`: the Prometheus metrics of the process and of the store
//!   ([`crate::metrics::Metrics::render`]) in the OpenMetrics text format
//!   (`application/openmetrics-text; version=1.0.0`) when the `Accept`
//!   header names it, as Prometheus's does, else in the Prometheus text
//!   format 0.0.4 (`text/plain; version=0.0.4`). Under `watch --serve`
//!   they count the daemon's checks by outcome and time its fetches and
//!   extractions; under `serve` alone, which runs no check, those families
//!   are empty and the store's gauges (undelivered alerts, each target's
//!   last successful check) carry the news. A store that cannot be read
//!   answers `503 Service Unavailable` with the reason.
//!
//! Anything else is `404 Not Found`. The server binds loopback addresses
//! only ([`check_bind`]): it has no authentication to offer another host.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::warn;

use crate::store::StoreError;

/// The address `redliner serve` binds unless told otherwise.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The content type of `/metrics` (OpenMetrics 1.0 text, which Prometheus
/// asks for first and parses).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The content type of `/metrics` for a client that does not ask for
/// OpenMetrics.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders the metrics page when it is asked for: OpenMetrics text, or why
/// the store could not be read. Called on a blocking thread (it reads
/// SQLite).
pub type MetricsSource = Arc<dyn Fn() -> Result<String, StoreError> + Send + Sync>;

/// Checks that `addr` is a loopback address (`127.0.0.0/8`, `::1`).
///
/// # Errors
/// The sentence to print otherwise: the server has no access control, so
/// only this host may reach it (a reverse proxy with its own
/// authentication can publish it).
pub fn check_bind(addr: SocketAddr) -> Result<(), String> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(format!(
            "`{addr}` is not a loopback address: the server has no access control, \
             so it binds 127.0.0.0/8 or ::1 only (put a reverse proxy with authentication \
             in front to reach it from elsewhere)"
        ))
    }
}

/// The server's routes (see the module docs).
pub fn router(metrics: MetricsSource) -> Router {
    Router::new()
        .route("/metrics", get(metrics_page))
        .with_state(metrics)
}

async fn metrics_page(State(source): State<MetricsSource>, headers: HeaderMap) -> Response {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    match tokio::task::spawn_blocking(move || source()).await {
        Ok(Ok(text)) if openmetrics => {
            ([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response()
        }
        Ok(Ok(text)) => (
            [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
            crate::metrics::prometheus_text(&text),
        )
            .into_response(),
        Ok(Err(e)) => {
            warn!("/metrics: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the store could not be read: {e}\n"),
            )
                .into_response()
        }
        Err(e) => {
            warn!("/metrics: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the metrics could not be rendered\n",
            )
                .into_response()
        }
    }
}

/// Serves `router` on `listener` (from [`bind`]) until `shutdown` holds
/// `true` (or its sender is dropped); requests in progress then finish.
///
/// # Errors
/// The listener's I/O error.
pub async fn run(
    listener: std::net::TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let listener = TcpListener::from_std(listener)?;
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
}

/// Reads an `ADDR` argument: an IP address and a port (`127.0.0.1:8080`,
/// `[::1]:8080`).
///
/// # Errors
/// What to write instead: a port for a bare address, an IP address for a
/// host name (`localhost:8080`).
pub fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = text.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        return Err(format!(
            "a port is needed too: `{}`",
            SocketAddr::new(ip, 8080)
        ));
    }
    Err("expected an IP address and a port, e.g. `127.0.0.1:8080` or `[::1]:8080`".into())
}

/// Binds `addr` (loopback only, see [`check_bind`]) before anything else
/// is opened, and says where the server listens, `http://127.0.0.1:8080`
/// (with port 0, the port the system chose). The listener is non-blocking,
/// ready for [`run`].
///
/// # Errors
/// [`check_bind`]'s sentence; the bind error in words (`address already in
/// use`).
pub fn bind(addr: SocketAddr) -> Result<(std::net::TcpListener, String), String> {
    check_bind(addr)?;
    let failed = |e: io::Error| format!("cannot listen on `{addr}`: {e}");
    let listener = std::net::TcpListener::bind(addr).map_err(failed)?;
    listener.set_nonblocking(true).map_err(failed)?;
    let local = listener.local_addr().map_err(failed)?;
    Ok((listener, format!("http://{local}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_binds_are_allowed() {
        for ok in ["127.0.0.1:8080", "127.0.0.2:1", "[::1]:8080"] {
            assert_eq!(check_bind(ok.parse().unwrap()), Ok(()), "{ok}");
        }
        for refused in ["0.0.0.0:8080", "[::]:8080", "192.168.1.10:80"] {
            let e = check_bind(refused.parse().unwrap()).unwrap_err();
            assert!(e.contains("not a loopback address"), "{refused}: {e}");
        }
    }
}
