//! The fetch stage: one polite, robust HTTP GET per target (reqwest on tokio).
//!
//! Timeouts, a user agent naming redliner and its version, redirects followed
//! (final URL recorded), a body-size cap, gzip/brotli/deflate, and the charset
//! read from the BOM, then the `Content-Type` header, then `<meta charset>`,
//! then guessed (encoding_rs + chardetng).
//!
//! [`Fetcher::fetch`] makes one conditional GET (with retries of transient
//! failures, see [`FetchError::is_transient`]) and returns a [`Fetched`] value:
//! a decoded HTML [`FetchedPage`] or [`Fetched::NotModified`]. Everything else
//! is a [`FetchError`] whose message names the URL and the cause in one line.

mod charset;
mod error;
pub mod guard;
mod redirect;

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use jiff::Timestamp;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tracing::debug;
use url::Url;

pub use charset::{
    CharsetSource, Decoded, GUESS_MIN_CHARS, GUESS_MIN_LETTER_SHARE, PRESCAN_BYTES, decode,
    decode_with, encoding_for_label, header_charset, malformed_bytes,
};
pub(crate) use error::transport_cause;
pub use error::{FetchError, redact};
pub use guard::Reach;
pub use redirect::same_page;

/// Fetch settings shared by all targets.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Whole-request timeout.
    pub timeout: std::time::Duration,
    /// Largest body accepted, in bytes (after decompression).
    pub max_body_bytes: usize,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// How many times a transient failure (see [`FetchError::is_transient`]) is
    /// retried; 0 makes one attempt only.
    pub retries: usize,
    /// The first retry delay; each further retry doubles it (with jitter), up to
    /// eight times this value.
    pub retry_delay: Duration,
    /// The longest `Retry-After` (on 429 and 503) honoured; a server asking for
    /// longer gets no retry now (the next scheduled check tries again).
    pub max_retry_after: Duration,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            timeout: std::time::Duration::from_secs(30),
            max_body_bytes: 10 * 1024 * 1024,
            user_agent: default_user_agent(),
            retries: 2,
            retry_delay: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// `redliner/<version> (+https://github.com/redliner/redliner)`.
pub fn default_user_agent() -> String {
    format!(
        "redliner/{} (page change monitor)",
        env!("CARGO_PKG_VERSION")
    )
}

/// Conditional-GET validators from the last good snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The server's `ETag`, sent back as `If-None-Match`.
    pub etag: Option<String>,
    /// The server's own `Last-Modified` (an HTTP date), sent back as `If-Modified-Since`.
    pub last_modified: Option<String>,
}

/// One successful fetch: a 2xx HTML page.
#[derive(Debug, Clone)]
pub struct FetchedPage {
    /// The URL requested.
    pub url: String,
    /// The URL after redirects.
    pub final_url: String,
    /// HTTP status (2xx).
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The charset the body was decoded with (encoding_rs name, e.g. `windows-1251`).
    pub charset: String,
    /// How [`FetchedPage::charset`] was chosen (BOM, header, meta, detected ...).
    pub charset_source: CharsetSource,
    /// Bytes of the body the charset cannot decode (they became U+FFFD in
    /// [`FetchedPage::text`]); 0 for a clean decoding. The fetch returns such a
    /// page; the caller refuses it (see [`FetchedPage::undecodable`]) unless
    /// the page always had them.
    pub malformed: usize,
    /// True when the body ends inside a multi-byte character: a sign it was cut.
    pub cut_mid_character: bool,
    /// The body exactly as served (after transfer/content decoding).
    pub body: Vec<u8>,
    /// The body decoded to UTF-8.
    pub text: String,
    /// Validators the server sent, for the next conditional GET.
    pub validators: Validators,
    /// When the response arrived.
    pub fetched_at: Timestamp,
    /// True when the body ended with the connection (HTTP/1, no
    /// `Content-Length`, not chunked): nothing tells a cut body from a whole
    /// one. A body decoded from gzip/brotli/deflate counts too (the client
    /// drops its `Content-Length`), erring towards a second look.
    pub close_delimited: bool,
}

impl FetchedPage {
    /// Decodes [`FetchedPage::body`] into [`FetchedPage::text`] again, with
    /// `forced` (a target's `charset` setting) or, when `None`, by the
    /// module's order (see [`decode_with`]); sets the charset fields.
    pub fn decode(&mut self, forced: Option<&'static encoding_rs::Encoding>) {
        let host = Url::parse(&self.final_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
        let tld = host
            .as_deref()
            .and_then(|h| h.trim_end_matches('.').rsplit('.').next())
            .filter(|t| t.parse::<u8>().is_err())
            .map(str::as_bytes);
        let decoded = decode_with(&self.body, self.content_type.as_deref(), tld, forced);
        debug!(
            url = %self.url,
            charset = decoded.charset,
            source = %decoded.source,
            malformed = decoded.malformed,
            "decoded"
        );
        self.charset = decoded.charset.to_string();
        self.charset_source = decoded.source;
        self.malformed = decoded.malformed;
        self.cut_mid_character = decoded.cut_mid_character;
        self.text = decoded.text;
    }

    /// The error refusing this page when its body has bytes its charset
    /// cannot decode ([`FetchError::Undecodable`]); `None` when it is clean,
    /// or when the target forces its charset (then the bytes it cannot
    /// decode are accepted as U+FFFD: the way to watch a page that always
    /// has a few).
    pub fn undecodable(&self) -> Option<FetchError> {
        (self.malformed > 0 && self.charset_source != CharsetSource::Override).then(|| {
            FetchError::Undecodable {
                url: self.url.clone(),
                charset: self.charset.clone(),
                chosen: self.charset_source,
                bytes: self.malformed,
            }
        })
    }
}

/// What one fetch returned.
#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "one value per fetch; boxing would gain nothing"
)]
pub enum Fetched {
    /// A page.
    Page(FetchedPage),
    /// 304 Not Modified (conditional GET).
    NotModified,
}

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 10;

/// The `Accept` header: HTML first, anything else tolerated (and then refused
/// with [`FetchError::NotHtml`], which says what came back).
pub const ACCEPT: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1";

/// The `Accept-Language` header: the watched pages are read in English.
pub const ACCEPT_LANGUAGE: &str = "en,*;q=0.5";

/// What the check pipeline needs of an HTTP client: one page by URL, held
/// to a [`Reach`], with optional validators for a conditional GET.
/// [`Fetcher`] is the real one; tests of the composition root
/// ([`crate::monitor`]) pass a scripted double.
pub trait Fetch: Send + Sync {
    /// Fetches `url` as [`Fetcher::fetch_within`] does.
    ///
    /// # Errors
    /// [`FetchError`], as [`Fetcher::fetch_within`].
    fn fetch_within(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        reach: Reach,
    ) -> impl std::future::Future<Output = Result<Fetched, FetchError>> + Send;
}

impl Fetch for Fetcher {
    fn fetch_within(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        reach: Reach,
    ) -> impl std::future::Future<Output = Result<Fetched, FetchError>> + Send {
        Fetcher::fetch_within(self, url, validators, reach)
    }
}

/// Makes HTTP GETs for the fetch stage. Cheap to share: one connection pool
/// per [`Reach`].
#[derive(Debug, Clone)]
pub struct Fetcher {
    clients: guard::GuardedClients,
    settings: FetchSettings,
}

impl Fetcher {
    /// A fetcher with these settings.
    ///
    /// # Errors
    /// [`FetchError::Client`] when the HTTP client can't be built (e.g. a user
    /// agent that is not a valid header value).
    pub fn new(settings: FetchSettings) -> Result<Fetcher, FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static(ACCEPT_LANGUAGE),
        );
        let user_agent =
            HeaderValue::from_str(&settings.user_agent).map_err(|_| FetchError::Client {
                cause: format!(
                    "user agent `{}` is not a valid header value",
                    settings.user_agent
                ),
            })?;
        // Redirects are followed one hop at a time (`send_following`), so
        // the guard sees every hop; the client itself follows none.
        let (timeout, connect_timeout) = (
            settings.timeout,
            settings.timeout.min(Duration::from_secs(10)),
        );
        let clients = guard::GuardedClients::new(move || {
            reqwest::Client::builder()
                .user_agent(user_agent.clone())
                .default_headers(headers.clone())
                .timeout(timeout)
                .connect_timeout(connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
        });
        Ok(Fetcher { clients, settings })
    }

    /// The settings this fetcher was built with.
    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// GETs `url`, following up to [`MAX_REDIRECTS`] redirects, and returns the
    /// decoded page. With `validators`, sends `If-None-Match` / `If-Modified-Since`
    /// and returns [`Fetched::NotModified`] on 304. Transient failures are retried
    /// [`FetchSettings::retries`] times with exponential backoff, honouring a short
    /// `Retry-After`.
    ///
    /// # Errors
    /// [`FetchError::Status`] for a status other than 2xx/304,
    /// [`FetchError::Transport`] / [`FetchError::Timeout`] for network failures,
    /// [`FetchError::TooLarge`] past [`FetchSettings::max_body_bytes`],
    /// [`FetchError::NotHtml`] for another content type (or, without one, a body
    /// that does not look like HTML), [`FetchError::EmptyBody`].
    pub async fn fetch(
        &self,
        url: &Url,
        validators: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        self.fetch_within(url, validators, Reach::for_url(url, None))
            .await
    }

    /// [`Fetcher::fetch`] held to `reach`: the addresses the URL and its
    /// redirects may connect to (a target's `allow_private`, see
    /// [`guard`]).
    ///
    /// # Errors
    /// As [`Fetcher::fetch`], and [`FetchError::Refused`] when the guard
    /// refuses the URL or a redirect, [`FetchError::Redirects`] for a loop or
    /// too many.
    pub async fn fetch_within(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        reach: Reach,
    ) -> Result<Fetched, FetchError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.settings.retry_delay)
            .with_max_delay(self.settings.retry_delay.saturating_mul(8))
            .with_max_times(self.settings.retries)
            .with_jitter();
        let cap = self.settings.max_retry_after;
        (|| self.fetch_once(url, validators, reach))
            .retry(backoff)
            .when(FetchError::is_transient)
            .adjust(move |err, delay| {
                let delay = delay?;
                match err {
                    FetchError::Status {
                        retry_after: Some(asked),
                        ..
                    } => (*asked <= cap).then(|| delay.max(*asked)),
                    _ => Some(delay),
                }
            })
            .notify(|err, delay| debug!("retrying in {} ms: {err}", delay.as_millis()))
            .await
    }

    /// One attempt, no retries.
    async fn fetch_once(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        reach: Reach,
    ) -> Result<Fetched, FetchError> {
        let shown = redact(url);
        let (mut response, conditional) = self.send_following(url, validators, reach).await?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            // Only an answer to our validators means "unchanged"; to a plain
            // GET (no baseline yet, or the daily unconditional fetch) it is a
            // broken server, and must not pass for a good check.
            if !conditional {
                return Err(FetchError::UnsolicitedNotModified { url: shown });
            }
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: shown,
                status: status.as_u16(),
                retry_after: retry_after(response.headers(), Timestamp::now()),
            });
        }
        let headers = response.headers();
        let content_type = header_text(headers, header::CONTENT_TYPE).filter(|s| !s.is_empty());
        let server_validators = Validators {
            etag: header_text(headers, header::ETAG),
            last_modified: header_text(headers, header::LAST_MODIFIED),
        };
        if let Some(ct) = &content_type
            && !is_html_type(ct)
        {
            return Err(FetchError::NotHtml {
                url: shown,
                content_type: ct.clone(),
            });
        }
        let final_url = response.url().clone();
        let close_delimited = response.version() <= reqwest::Version::HTTP_11
            && response.content_length().is_none()
            && !response
                .headers()
                .get(header::TRANSFER_ENCODING)
                .is_some_and(|v| {
                    String::from_utf8_lossy(v.as_bytes())
                        .to_ascii_lowercase()
                        .contains("chunked")
                });
        let limit = self.settings.max_body_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(FetchError::TooLarge { url: shown, limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport(&shown, &e))?
        {
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { url: shown, limit });
            }
            body.extend_from_slice(&chunk);
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(FetchError::EmptyBody { url: shown });
        }
        if content_type.is_none() && !sniffs_as_html(&body) {
            return Err(FetchError::NotHtml {
                url: shown,
                content_type: "none".into(),
            });
        }
        if let (Some(ct), Some(found)) = (&content_type, binary_signature(&body)) {
            return Err(FetchError::Mislabelled {
                url: shown,
                content_type: ct.clone(),
                found: found.to_string(),
            });
        }
        let mut page = FetchedPage {
            url: shown,
            final_url: redact(&final_url),
            status: status.as_u16(),
            content_type,
            charset: String::new(),
            charset_source: CharsetSource::Detected,
            malformed: 0,
            cut_mid_character: false,
            body,
            text: String::new(),
            validators: server_validators,
            fetched_at: Timestamp::now(),
            close_delimited,
        };
        page.decode(None);
        Ok(Fetched::Page(page))
    }

    fn transport(&self, url: &str, err: &reqwest::Error) -> FetchError {
        if err.is_timeout() {
            return FetchError::Timeout {
                url: url.to_string(),
                after: self.settings.timeout,
            };
        }
        let (cause, retryable) = error::transport_cause(err);
        FetchError::Transport {
            url: url.to_string(),
            cause,
            retryable,
        }
    }
}

/// A header's value as text (lossy for non-UTF-8 bytes), trimmed.
fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
}

/// True for `text/html` and `application/xhtml+xml`, whatever the parameters.
pub fn is_html_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/html")
        || essence.eq_ignore_ascii_case("application/xhtml+xml")
}

/// The delay a `Retry-After` header asks for: delay-seconds or an HTTP date
/// (RFC 9110 §10.2.3), relative to `now`. `None` when absent or unreadable.
pub fn retry_after(headers: &HeaderMap, now: Timestamp) -> Option<Duration> {
    let value = header_text(headers, header::RETRY_AFTER)?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // The three date forms an HTTP recipient must accept (RFC 9110 §5.6.7).
    let at = Timestamp::try_from(httpdate::parse_http_date(&value).ok()?).ok()?;
    let wait = at.as_millisecond().saturating_sub(now.as_millisecond());
    Some(Duration::from_millis(u64::try_from(wait).unwrap_or(0)))
}

/// The media type of a body that is another kind of file than text (a PDF,
/// an image, an archive, an executable ...), known by its leading bytes (the
/// signatures of the `infer` crate); `None` for a body that starts like HTML
/// (see [`sniffs_as_html`]) or that no binary signature matches. A server
/// that labels such a body `text/html` (a misconfigured download, a CDN
/// error) would otherwise have its bytes read as a page.
pub fn binary_signature(body: &[u8]) -> Option<&'static str> {
    if sniffs_as_html(body) {
        return None;
    }
    infer::get(body)
        .filter(|kind| kind.matcher_type() != infer::MatcherType::Text)
        .map(|kind| kind.mime_type())
}

/// True when a body without a `Content-Type` looks like HTML: after a BOM and
/// whitespace it starts with one of the tags of the HTML standard's MIME
/// sniffing table (<https://mimesniff.spec.whatwg.org/#identifying-a-resource-with-an-unknown-mime-type>),
/// case-insensitive, followed by a space or `>`; or with `<?xml` (XHTML).
pub fn sniffs_as_html(body: &[u8]) -> bool {
    const TAGS: [&[u8]; 17] = [
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<!--",
    ];
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let rest = &body[start..];
    if rest.len() >= 5 && rest[..5].eq_ignore_ascii_case(b"<?xml") {
        return true;
    }
    TAGS.iter().any(|tag| {
        rest.len() > tag.len()
            && rest[..tag.len()].eq_ignore_ascii_case(tag)
            && (tag == b"<!--" || matches!(rest[tag.len()], b' ' | b'>' | b'\t' | b'\n' | b'\r'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use std::sync::{Arc, Mutex};

    /// One scripted response.
    #[derive(Clone)]
    struct Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
        /// Send without `Content-Length` (chunked).
        chunked: bool,
        /// Sleep before answering.
        delay: Duration,
    }

    impl Reply {
        fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
            let headers = if content_type.is_empty() {
                Vec::new()
            } else {
                vec![("Content-Type", content_type.to_string())]
            };
            Reply {
                status,
                headers,
                body: body.into(),
                chunked: false,
                delay: Duration::ZERO,
            }
        }

        fn html(body: &str) -> Reply {
            Reply::new(200, "text/html; charset=utf-8", body)
        }

        fn header(mut self, name: &'static str, value: &str) -> Reply {
            self.headers.push((name, value.to_string()));
            self
        }
    }

    /// What the server saw of one request: path and headers (names lowercased).
    #[derive(Debug, Clone)]
    struct Seen {
        path: String,
        headers: Vec<(String, String)>,
    }

    impl Seen {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }
    }

    type Log = Arc<Mutex<Vec<Seen>>>;

    /// Serves `handler(path, nth request)` on 127.0.0.1 from a thread; returns
    /// the base URL (ending in `/`) and the log of requests seen.
    fn serve(handler: impl Fn(&str, usize) -> Reply + Send + 'static) -> (Url, Log) {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let log: Log = Arc::default();
        let seen = log.clone();
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let entry = Seen {
                    path: request.url().to_string(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|h| {
                            (
                                h.field.as_str().as_str().to_ascii_lowercase(),
                                h.value.to_string(),
                            )
                        })
                        .collect(),
                };
                let n = {
                    let mut l = seen.lock().unwrap();
                    l.push(entry.clone());
                    l.len() - 1
                };
                let reply = handler(&entry.path, n);
                std::thread::sleep(reply.delay);
                let headers = reply
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap()
                    })
                    .collect();
                let len = (!reply.chunked).then_some(reply.body.len());
                let response = tiny_http::Response::new(
                    tiny_http::StatusCode(reply.status),
                    headers,
                    Cursor::new(reply.body),
                    len,
                    None,
                );
                let _ = request.respond(response);
            }
        });
        (
            Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap(),
            log,
        )
    }

    fn settings() -> FetchSettings {
        FetchSettings {
            timeout: Duration::from_secs(5),
            retries: 0,
            retry_delay: Duration::from_millis(10),
            ..FetchSettings::default()
        }
    }

    async fn fetch_with(
        s: FetchSettings,
        url: &Url,
        v: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        Fetcher::new(s).unwrap().fetch(url, v).await
    }

    fn page(r: Result<Fetched, FetchError>) -> FetchedPage {
        match r {
            Ok(Fetched::Page(p)) => p,
            other => panic!("expected a page, got {other:?}"),
        }
    }

    fn cp1251(s: &str) -> Vec<u8> {
        encoding_rs::WINDOWS_1251.encode(s).0.into_owned()
    }

    #[tokio::test]
    async fn fetches_html_with_headers_and_validators() {
        let (base, log) = serve(|_, _| {
            Reply::html("<html><body><p>Hello</p></body></html>")
                .header("ETag", "\"v1\"")
                .header("Last-Modified", "Wed, 21 Oct 2026 07:28:00 GMT")
        });
        let url = base.join("page.htm").unwrap();
        let p = page(fetch_with(settings(), &url, None).await);
        assert_eq!(p.url, url.as_str());
        assert_eq!(p.final_url, url.as_str());
        assert_eq!(p.status, 200);
        assert_eq!(p.content_type.as_deref(), Some("text/html; charset=utf-8"));
        assert_eq!(p.charset, "UTF-8");
        assert_eq!(p.text, "<html><body><p>Hello</p></body></html>");
        assert_eq!(p.body, p.text.as_bytes());
        assert_eq!(
            p.validators,
            Validators {
                etag: Some("\"v1\"".into()),
                last_modified: Some("Wed, 21 Oct 2026 07:28:00 GMT".into()),
            }
        );
        let seen = log.lock().unwrap()[0].clone();
        assert_eq!(seen.path, "/page.htm");
        assert_eq!(
            seen.header("user-agent"),
            Some(default_user_agent().as_str())
        );
        assert_eq!(seen.header("accept"), Some(ACCEPT));
        assert_eq!(seen.header("accept-language"), Some(ACCEPT_LANGUAGE));
        assert_eq!(seen.header("if-none-match"), None);
    }

    #[tokio::test]
    async fn decompresses_gzip_bodies() {
        let html = "<html><body><p>Compressed text</p></body></html>";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(html.as_bytes()).unwrap();
        let compressed = gz.finish().unwrap();
        let (base, log) = serve(move |_, _| {
            Reply::new(200, "text/html", compressed.clone()).header("Content-Encoding", "gzip")
        });
        let p = page(fetch_with(settings(), &base, None).await);
        assert_eq!(p.body, html.as_bytes());
        assert_eq!(p.text, html);
        let accept_encoding = log.lock().unwrap()[0]
            .header("accept-encoding")
            .unwrap_or("")
            .to_string();
        assert!(accept_encoding.contains("gzip"), "{accept_encoding}");
    }

    #[tokio::test]
    async fn decodes_windows_1251_from_header_or_meta() {
        let text = "<html><head><title>Отношения НАТО с Беларусью</title></head>\
                    <body><p>Беларусь</p></body></html>";
        let meta = format!("<html><head><meta charset=\"windows-1251\"></head>{text}");
        let cases = [
            ("text/html; charset=windows-1251", text.to_string()),
            ("text/html", meta.clone()),
        ];
        for (content_type, html) in cases {
            let bytes = cp1251(&html);
            let ct = content_type.to_string();
            let (base, _) = serve(move |_, _| Reply::new(200, &ct, bytes.clone()));
            let p = page(fetch_with(settings(), &base, None).await);
            assert_eq!(
                (p.charset.as_str(), p.text.as_str()),
                ("windows-1251", html.as_str())
            );
        }
    }

    #[tokio::test]
    async fn bytes_no_charset_decodes_are_counted_and_refused_by_the_caller() {
        let mut bad = b"<html><body><p>Plain text</p></body></html>".to_vec();
        bad.splice(20..20, *b"\xFF\xC3(");
        let (base, _) = serve(move |_, _| Reply::new(200, "text/html; charset=utf-8", bad.clone()));
        let p = page(fetch_with(settings(), &base, None).await);
        assert_eq!(
            (p.charset.as_str(), p.charset_source, p.malformed),
            ("UTF-8", CharsetSource::Header, 2)
        );
        let err = p.undecodable().expect("refused");
        assert_eq!(
            err.to_string(),
            format!(
                "fetching `{base}`: body is not valid UTF-8 (2 bytes cannot be decoded; \
                 charset declared by the Content-Type header)"
            )
        );
        assert!(!err.is_transient());
        // A forced charset accepts what it cannot decode.
        let mut forced = p.clone();
        forced.decode(Some(encoding_rs::UTF_8));
        assert_eq!(forced.charset_source, CharsetSource::Override);
        assert!(forced.undecodable().is_none());
        // A clean page is not refused.
        let mut clean = p;
        clean.body = b"<p>ok</p>".to_vec();
        clean.decode(None);
        assert!(clean.undecodable().is_none());
    }

    #[tokio::test]
    async fn a_cut_gzip_stream_is_a_transport_error() {
        let html = format!(
            "<html><body>{}</body></html>",
            "<p>Compressed text</p>".repeat(200)
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(html.as_bytes()).unwrap();
        let compressed = gz.finish().unwrap();
        let cut = compressed[..compressed.len() / 2].to_vec();
        let (base, _) = serve(move |_, _| {
            Reply::new(200, "text/html", cut.clone()).header("Content-Encoding", "gzip")
        });
        let err = fetch_with(settings(), &base, None).await.unwrap_err();
        assert!(matches!(err, FetchError::Transport { .. }), "{err}");
    }

    #[tokio::test]
    async fn follows_redirects_and_records_the_final_url() {
        let (base, log) = serve(|path, _| match path {
            "/a" => Reply::new(301, "", "").header("Location", "/b"),
            "/b" => Reply::new(302, "", "").header("Location", "/c"),
            _ => Reply::html("<p>final</p>"),
        });
        let url = base.join("a").unwrap();
        let p = page(fetch_with(settings(), &url, None).await);
        assert_eq!(p.url, url.as_str());
        assert_eq!(p.final_url, base.join("c").unwrap().as_str());
        let paths: Vec<String> = log.lock().unwrap().iter().map(|s| s.path.clone()).collect();
        assert_eq!(paths, ["/a", "/b", "/c"]);
    }

    #[tokio::test]
    async fn endless_redirects_fail() {
        let (base, _) = serve(|_, n| Reply::new(302, "", "").header("Location", &format!("/r{n}")));
        let err = fetch_with(settings(), &base, None).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "fetching `{base}`: too many redirects (more than {MAX_REDIRECTS}): `{base}` -> `{base}r0` -> "
            )),
            "{text}"
        );
        assert!(text.ends_with(&format!("`{base}r10`")), "{text}");
        assert!(!err.is_transient());
    }

    #[tokio::test]
    async fn redirect_hops_are_guarded_and_the_chain_named() {
        let (base, log) = serve(|path, _| match path {
            "/a" => Reply::new(302, "", "").header("Location", "/b"),
            "/b" => Reply::new(301, "", "")
                .header("Location", "http://169.254.169.254/latest/meta-data/"),
            "/file" => Reply::new(302, "", "").header("Location", "file:///etc/passwd"),
            "/loop" => Reply::new(308, "", "").header("Location", "/loop2"),
            "/loop2" => Reply::new(303, "", "").header("Location", "/loop"),
            "/private" => {
                Reply::new(307, "", "").header("Location", "http://[::ffff:10.0.0.1]:8080/")
            }
            _ => Reply::html("<p>x</p>"),
        });
        let at = |p: &str| base.join(p).unwrap().to_string();
        let cases = [
            (
                "a",
                format!(
                    "fetching `{a}`: redirect to `http://169.254.169.254/latest/meta-data/` refused \
                     (link-local address 169.254.169.254, a cloud metadata endpoint) after `{a}` -> `{b}`",
                    a = at("a"),
                    b = at("b")
                ),
            ),
            (
                "file",
                format!(
                    "fetching `{f}`: redirect to `file:///etc/passwd` refused (not http or https) after `{f}`",
                    f = at("file")
                ),
            ),
            (
                "loop",
                format!(
                    "fetching `{l}`: redirect loop: `{l}` -> `{l2}` -> `{l}`",
                    l = at("loop"),
                    l2 = at("loop2")
                ),
            ),
            (
                "private",
                format!(
                    "fetching `{p}`: redirect to `http://[::ffff:a00:1]:8080/` refused (private \
                     address ::ffff:10.0.0.1) after `{p}`",
                    p = at("private")
                ),
            ),
        ];
        for (path, want) in cases {
            let err = fetch_with(settings(), &base.join(path).unwrap(), None)
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), want);
            assert!(!err.is_transient(), "{path}");
        }
        // The refused addresses were never asked for: only the local hops.
        let paths: Vec<String> = log.lock().unwrap().iter().map(|s| s.path.clone()).collect();
        assert_eq!(paths, ["/a", "/b", "/file", "/loop", "/loop2", "/private"]);
    }

    #[tokio::test]
    async fn the_urls_own_address_is_guarded() {
        let cases = [
            (
                "http://169.254.169.254/latest/meta-data/",
                Reach::Private,
                "fetching `http://169.254.169.254/latest/meta-data/`: refused (link-local address 169.254.169.254, a cloud metadata endpoint)",
            ),
            (
                "http://10.0.0.1/page",
                Reach::Public,
                "fetching `http://10.0.0.1/page`: refused (private address 10.0.0.1); set `allow_private = true` on the target if it is an intranet page",
            ),
        ];
        for (url, reach, want) in cases {
            let err = Fetcher::new(settings())
                .unwrap()
                .fetch_within(&Url::parse(url).unwrap(), None, reach)
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), want);
        }
    }

    #[tokio::test]
    async fn error_statuses_name_url_and_status() {
        let cases = [
            (404, "HTTP 404 Not Found", false),
            (503, "HTTP 503 Service Unavailable", true),
            (500, "HTTP 500 Internal Server Error", true),
        ];
        for (status, text, transient) in cases {
            let (base, log) = serve(move |_, _| Reply::new(status, "text/html", "<p>error</p>"));
            let err = fetch_with(settings(), &base, None).await.unwrap_err();
            assert_eq!(err.to_string(), format!("fetching `{base}`: {text}"));
            assert_eq!(
                (err.status(), err.is_transient()),
                (Some(status), transient)
            );
            assert_eq!(log.lock().unwrap().len(), 1, "retries 0 makes one attempt");
        }
    }

    #[tokio::test]
    async fn retries_transient_failures_then_succeeds() {
        let (base, log) = serve(|_, n| match n {
            0 => Reply::new(503, "text/html", "busy"),
            1 => Reply::new(429, "text/html", "slow down").header("Retry-After", "0"),
            _ => Reply::html("<p>ok</p>"),
        });
        let s = FetchSettings {
            retries: 2,
            ..settings()
        };
        let p = page(fetch_with(s, &base, None).await);
        assert_eq!(p.text, "<p>ok</p>");
        assert_eq!(log.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn retries_stop_at_the_limit_and_skip_permanent_errors() {
        // (status, retry-after, retries, requests expected)
        let cases = [
            (503, None, 2, 3),
            (404, None, 2, 1),
            (503, Some("3600"), 2, 1), // asks for longer than max_retry_after: no retry now
        ];
        for (status, after, retries, want) in cases {
            let (base, log) = serve(move |_, _| {
                let r = Reply::new(status, "text/html", "no");
                match after {
                    Some(a) => r.header("Retry-After", a),
                    None => r,
                }
            });
            let s = FetchSettings {
                retries,
                ..settings()
            };
            let err = fetch_with(s, &base, None).await.unwrap_err();
            assert_eq!(err.status(), Some(status));
            assert_eq!(log.lock().unwrap().len(), want, "{status} {after:?}");
        }
    }

    #[tokio::test]
    async fn enforces_the_body_size_cap() {
        let big = format!("<html><body>{}</body></html>", "x".repeat(5000));
        for chunked in [false, true] {
            let body = big.clone();
            let (base, _) = serve(move |_, _| Reply {
                chunked,
                ..Reply::html(&body)
            });
            let s = FetchSettings {
                max_body_bytes: 1000,
                ..settings()
            };
            let err = fetch_with(s, &base, None).await.unwrap_err();
            assert_eq!(
                err,
                FetchError::TooLarge {
                    url: base.to_string(),
                    limit: 1000
                },
                "chunked {chunked}"
            );
        }
        let (base, _) = serve(|_, _| Reply {
            chunked: true,
            ..Reply::html("<p>small</p>")
        });
        let s = FetchSettings {
            max_body_bytes: 1000,
            ..settings()
        };
        assert_eq!(page(fetch_with(s, &base, None).await).text, "<p>small</p>");
    }

    #[tokio::test]
    async fn times_out_on_a_slow_server() {
        let (base, _) = serve(|_, _| Reply {
            delay: Duration::from_secs(3),
            ..Reply::html("<p>late</p>")
        });
        let s = FetchSettings {
            timeout: Duration::from_millis(300),
            ..settings()
        };
        let err = fetch_with(s, &base, None).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("fetching `{base}`: timed out after 300 ms")
        );
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn refuses_bodies_that_are_not_html() {
        let cases: [(&str, &[u8], &str); 4] = [
            ("application/json", b"{\"a\":1}", "application/json"),
            ("image/png", b"\x89PNG\r\n\x1a\n", "image/png"),
            (
                "text/plain; charset=utf-8",
                b"<p>looks like html</p>",
                "text/plain; charset=utf-8",
            ),
            ("", b"\x89PNG\r\n\x1a\n", "none"),
        ];
        for (ct, body, shown) in cases {
            let (ct, body) = (ct.to_string(), body.to_vec());
            let (base, _) = serve(move |_, _| Reply::new(200, &ct, body.clone()));
            let err = fetch_with(settings(), &base, None).await.unwrap_err();
            assert_eq!(
                err,
                FetchError::NotHtml {
                    url: base.to_string(),
                    content_type: shown.into()
                }
            );
        }
    }

    #[tokio::test]
    async fn sniffs_html_when_the_content_type_is_missing() {
        let (base, _) = serve(|_, _| Reply::new(200, "", "\n<!DOCTYPE html><p>x</p>"));
        let p = page(fetch_with(settings(), &base, None).await);
        assert_eq!(p.content_type, None);
        assert_eq!(p.text, "\n<!DOCTYPE html><p>x</p>");
    }

    #[tokio::test]
    async fn empty_body_is_an_error() {
        for body in ["", " \n\t "] {
            let (base, _) = serve(move |_, _| Reply::html(body));
            let err = fetch_with(settings(), &base, None).await.unwrap_err();
            assert_eq!(err.to_string(), format!("fetching `{base}`: empty body"));
        }
    }

    #[tokio::test]
    async fn conditional_get_sends_validators_and_maps_304() {
        let (base, log) = serve(|_, _| Reply::new(304, "", ""));
        let v = Validators {
            etag: Some("W/\"abc\"".into()),
            last_modified: Some("Wed, 21 Oct 2026 07:28:00 GMT".into()),
        };
        let got = fetch_with(settings(), &base, Some(&v)).await.unwrap();
        assert!(matches!(got, Fetched::NotModified), "{got:?}");
        let seen = log.lock().unwrap()[0].clone();
        assert_eq!(seen.header("if-none-match"), Some("W/\"abc\""));
        assert_eq!(
            seen.header("if-modified-since"),
            Some("Wed, 21 Oct 2026 07:28:00 GMT")
        );
    }

    #[tokio::test]
    async fn a_304_to_a_plain_get_is_an_error() {
        let (base, _) = serve(|_, _| Reply::new(304, "", ""));
        let err = fetch_with(settings(), &base, None).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("fetching `{base}`: HTTP 304 Not Modified to a request without validators")
        );
        assert!(!err.is_transient());
        assert_eq!(err.status(), Some(304));
        // Validators with nothing in them send nothing: the same.
        let empty = Validators::default();
        assert!(fetch_with(settings(), &base, Some(&empty)).await.is_err());
    }

    #[tokio::test]
    async fn connection_refused_reads_well() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let err = fetch_with(settings(), &url, None).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("fetching `http://127.0.0.1:{port}/`: connection refused")
        );
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn credentials_never_reach_messages() {
        let (base, _) = serve(|_, _| Reply::new(500, "text/html", "x"));
        let mut url = base.clone();
        url.set_username("user").unwrap();
        url.set_password(Some("secret")).unwrap();
        let err = fetch_with(settings(), &url, None).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("fetching `{base}`: HTTP 500 Internal Server Error")
        );
    }

    #[test]
    fn sniffing_table() {
        let cases: [(&[u8], bool); 9] = [
            (b"<!DOCTYPE html>", true),
            (b"\xEF\xBB\xBF  <HTML lang=en>", true),
            (b"<p>x", true),
            (b"<!-- c --><html>", true),
            (b"<?xml version=\"1.0\"?><html>", true),
            (b"<pre>", false),
            (b"{\"a\": 1}", false),
            (b"plain text", false),
            (b"<html", false),
        ];
        for (body, want) in cases {
            assert_eq!(
                sniffs_as_html(body),
                want,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn binary_bodies_are_known_by_their_signature() {
        let cases: [(&[u8], Option<&str>); 9] = [
            (b"%PDF-1.7\n1 0 obj", Some("application/pdf")),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some("image/png")),
            (b"PK\x03\x04\x14\0\0\0", Some("application/zip")),
            (b"\x1f\x8b\x08\0\0\0\0\0", Some("application/gzip")),
            (b"<!DOCTYPE html><html>", None),
            (b"\xEF\xBB\xBF<html lang=en>", None),
            (b"\xFF\xFE<\0h\0t\0m\0l\0>\0", None),
            (b"\xFE\xFF\0<\0h\0t\0m\0l\0>", None),
            (b"Relations with Belarus", None),
        ];
        for (body, want) in cases {
            assert_eq!(
                binary_signature(body),
                want,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn retry_after_seconds_or_date() {
        let now: Timestamp = "2026-10-21T07:28:00Z".parse().unwrap();
        let cases = [
            ("120", Some(Duration::from_secs(120))),
            (
                "Wed, 21 Oct 2026 07:28:30 GMT",
                Some(Duration::from_secs(30)),
            ),
            ("Wed, 21 Oct 2026 07:00:00 GMT", Some(Duration::ZERO)),
            // RFC 850 and asctime, the obsolete forms RFC 9110 still asks for
            (
                "Wednesday, 21-Oct-26 07:29:00 GMT",
                Some(Duration::from_secs(60)),
            ),
            ("Wed Oct 21 07:28:10 2026", Some(Duration::from_secs(10))),
            ("soon", None),
        ];
        for (value, want) in cases {
            let mut h = HeaderMap::new();
            h.insert(header::RETRY_AFTER, HeaderValue::from_str(value).unwrap());
            assert_eq!(retry_after(&h, now), want, "{value}");
        }
    }

    #[test]
    fn html_content_types() {
        let cases = [
            ("text/html", true),
            ("TEXT/HTML; charset=utf-8", true),
            ("application/xhtml+xml", true),
            ("text/plain", false),
            ("application/json", false),
        ];
        for (ct, want) in cases {
            assert_eq!(is_html_type(ct), want, "{ct}");
        }
    }
}
