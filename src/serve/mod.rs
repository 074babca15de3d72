//! The HTTP server of `redliner serve` and `watch --serve ADDR` (axum on the
//! process's tokio runtime): the web application over the store, its JSON
//! API, its feeds and its metrics.
//!
//! # Routes
//!
//! Pages (server-rendered HTML, no script; every page text escaped):
//!
//! | route | page |
//! | --- | --- |
//! | `GET /` | dashboard: every target, its last check and revision, failing ones first (`?q=`, `?kind=`, `?page=`) |
//! | `GET /targets/{target}` | timeline: checks and revisions, newest first (`?kind=` repeated, `?page=`) |
//! | `GET /targets/{target}/revisions/{id}` | a revision's redline (`?view=side-by-side`) |
//! | `GET /targets/{target}/compare` | the redline between any two snapshots (`?from=&to=`) |
//! | `GET /targets/{target}/snapshots/{id}` | a snapshot's document |
//! | `GET /targets/{target}/snapshots/{id}/raw` | its body as served, sandboxed (`?download=1`: as a file) |
//! | `GET /targets/{target}/sections/{n}` | section `n` (page order) of the newest snapshot, with its history (`?block=`) |
//! | `GET /search` | full-text search over every snapshot (`?q=`, `?target=`) |
//! | `GET /alerts` | the alert outbox; `POST /alerts/retry` and `POST /alerts/test` with `serve.write` |
//! | `GET /feed.atom`, `GET /targets/{target}/feed.atom` | the Atom feeds |
//! | `GET /api/v1/...` | the JSON API, described by `GET /api/v1/openapi.json` |
//! | `GET /metrics` | Prometheus metrics |
//!
//! `/metrics` answers in the OpenMetrics text format
//! (`application/openmetrics-text; version=1.0.0`) when the `Accept` header
//! names it, else in the Prometheus text format 0.0.4. Under `watch --serve`
//! it counts the daemon's checks by outcome; under `serve` alone the
//! store's gauges carry the news.
//!
//! # Security
//!
//! Loopback binds need nothing more. Any other bind needs a bearer token
//! (`serve.token_env` names its environment variable), asked of every
//! request: `Authorization: Bearer TOKEN`, or HTTP Basic with the token as
//! the password (what a browser prompts for). Pages are read-only unless
//! `serve.write = true`; writes are `POST`s, refused from another origin.
//! Every response carries a Content-Security-Policy that allows no script
//! at all; a raw page body is served with `Content-Security-Policy: sandbox`
//! and shown only in a sandboxed frame.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::warn;

use crate::store::StoreError;

mod api;
mod app;
mod chrome;
mod pages;

pub use app::App;

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

/// Checks that `addr` may be bound: a loopback address (`127.0.0.0/8`,
/// `::1`) always; any other only with a token (`serve.token_env`).
///
/// # Errors
/// The sentence to print otherwise.
pub fn check_bind(addr: SocketAddr, token: bool) -> Result<(), String> {
    if addr.ip().is_loopback() || token {
        Ok(())
    } else {
        Err(format!(
            "`{addr}` is not a loopback address: another host may reach it only with a \
             bearer token; set `token_env` in the config's `[serve]` table to the name of \
             an environment variable holding one"
        ))
    }
}

/// The server's routes (see the module docs) over `app`.
pub fn router(app: App) -> Router {
    let app = Arc::new(app);
    let pages = pages::routes().merge(api::routes());
    Router::new()
        .route("/metrics", get(metrics_page))
        .merge(pages)
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Every request: the token when one is set, same-origin writes, and the
/// security headers on every response.
async fn guard(
    State(app): State<Arc<App>>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    if !app.hosts.is_empty() {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if !app.hosts.contains(&host) {
            return secured(
                (
                    StatusCode::MISDIRECTED_REQUEST,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    format!(
                        "this server answers to {} only (set `[serve] public_url` for another name)\n",
                        app.hosts.join(", ")
                    ),
                )
                    .into_response(),
            );
        }
    }
    if let Some(token) = &app.token
        && !authorized(request.headers(), token)
    {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "this server needs its token: send `Authorization: Bearer TOKEN`, or, in a browser, \
             sign in with any user name and the token as the password\n",
        )
            .into_response();
        let h = response.headers_mut();
        h.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"redliner\""),
        );
        h.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"redliner\", charset=\"UTF-8\""),
        );
        return secured(response);
    }
    if request.method() != axum::http::Method::GET
        && request.method() != axum::http::Method::HEAD
        && !same_origin(request.headers(), app.public_url.as_ref())
    {
        return secured(
            (
                StatusCode::FORBIDDEN,
                "a write must come from this server's own pages\n",
            )
                .into_response(),
        );
    }
    secured(next.run(request).await)
}

/// The token check: `Authorization: Bearer TOKEN`, or Basic with the token
/// as the password (any user name). Compared by SHA-256 digest, so the time
/// taken says nothing about the token.
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    let want = Sha256::digest(token.as_bytes());
    headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            let (scheme, rest) = v.trim().split_once(' ').unwrap_or((v, ""));
            let given = if scheme.eq_ignore_ascii_case("bearer") {
                rest.trim().to_string()
            } else if scheme.eq_ignore_ascii_case("basic") {
                base64::engine::general_purpose::STANDARD
                    .decode(rest.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|up| up.split_once(':').map(|(_, p)| p.to_string()))
                    .unwrap_or_default()
            } else {
                return false;
            };
            !given.is_empty() && Sha256::digest(given.as_bytes()) == want
        })
}

/// True when a write comes from this server's pages: no `Origin` (not a
/// browser's cross-site form) or one whose host is the `Host` asked for or
/// that of `public` (`[serve] public_url`, behind a reverse proxy), and no
/// `Sec-Fetch-Site` saying otherwise.
fn same_origin(headers: &HeaderMap, public: Option<&url::Url>) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site"))
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    if let (Some(origin), Some(public)) = (text(header::ORIGIN), public)
        && url::Url::parse(origin).is_ok_and(|o| o.origin() == public.origin())
    {
        return true;
    }
    match (text(header::ORIGIN), text(header::HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => url::Url::parse(origin).is_ok_and(|u| {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            u.host_str()
                .is_some_and(|h| format!("{h}{port}").eq_ignore_ascii_case(host))
        }),
        (Some(_), None) => false,
    }
}

/// The policy of every page of the application: no script from anywhere,
/// styles inline, images inline, forms and frames to this server only.
pub const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     form-action 'self'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'";

/// Adds the security headers a response lacks: the page policy, no MIME
/// sniffing, no referrer, no framing by other sites.
fn secured(mut response: Response) -> Response {
    let h = response.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    response
}

async fn metrics_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let source = app.metrics.clone();
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

/// Binds `addr` ([`check_bind`]: loopback, or any address with a token)
/// before anything else is opened, and says where the server listens, `http://127.0.0.1:8080`
/// (with port 0, the port the system chose). The listener is non-blocking,
/// ready for [`run`].
///
/// # Errors
/// [`check_bind`]'s sentence; the bind error in words (`address already in
/// use`).
pub fn bind(addr: SocketAddr, token: bool) -> Result<(std::net::TcpListener, String), String> {
    check_bind(addr, token)?;
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
    fn other_binds_need_a_token() {
        for ok in ["127.0.0.1:8080", "127.0.0.2:1", "[::1]:8080"] {
            assert_eq!(check_bind(ok.parse().unwrap(), false), Ok(()), "{ok}");
        }
        for refused in ["0.0.0.0:8080", "[::]:8080", "192.168.1.10:80"] {
            let e = check_bind(refused.parse().unwrap(), false).unwrap_err();
            assert!(e.contains("not a loopback address"), "{refused}: {e}");
            assert_eq!(check_bind(refused.parse().unwrap(), true), Ok(()));
        }
    }

    #[test]
    fn a_token_is_read_from_bearer_or_basic() {
        use base64::Engine as _;
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            h
        };
        let basic = |up: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(up)
            )
        };
        assert!(authorized(&with("Bearer s3cret"), "s3cret"));
        assert!(authorized(&with("bearer  s3cret "), "s3cret"));
        assert!(authorized(&with(&basic("anyone:s3cret")), "s3cret"));
        assert!(!authorized(&with("Bearer wrong"), "s3cret"));
        assert!(!authorized(&with(&basic("s3cret:")), "s3cret"));
        assert!(!authorized(&with("Bearer "), "s3cret"));
        assert!(!authorized(&HeaderMap::new(), "s3cret"));
    }

    #[test]
    fn writes_from_another_origin_are_refused() {
        let with = |pairs: &[(&str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(
                    header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            h
        };
        assert!(same_origin(&with(&[("host", "127.0.0.1:8080")]), None));
        assert!(same_origin(
            &with(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080")
            ]),
            None
        ));
        assert!(!same_origin(
            &with(&[("host", "127.0.0.1:8080"), ("origin", "http://evil.test")]),
            None
        ));
        assert!(!same_origin(
            &with(&[("host", "127.0.0.1:8080"), ("sec-fetch-site", "cross-site")]),
            None
        ));
        // Behind a proxy: the public origin is this server's too.
        let public = url::Url::parse("https://redliner.example.org/").unwrap();
        let proxied = with(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://redliner.example.org"),
        ]);
        assert!(same_origin(&proxied, Some(&public)));
        assert!(!same_origin(&proxied, None));
    }
}
