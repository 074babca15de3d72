//! The fetch stage: one polite, robust HTTP GET per target (reqwest on tokio).
//!
//! Timeouts, a user agent naming redliner and its version, redirects followed
//! (final URL recorded), a body-size cap, gzip/brotli/deflate, and the charset
//! read from the BOM, then the `Content-Type` header, then `<meta charset>`,
//! then guessed (encoding_rs + chardetng).

use jiff::Timestamp;

/// Fetch settings shared by all targets.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Whole-request timeout.
    pub timeout: std::time::Duration,
    /// Largest body accepted, in bytes (after decompression).
    pub max_body_bytes: usize,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            timeout: std::time::Duration::from_secs(30),
            max_body_bytes: 10 * 1024 * 1024,
            user_agent: default_user_agent(),
        }
    }
}

/// `redliner/<version> (+https://github.com/redliner/redliner)`.
pub fn default_user_agent() -> String {
    format!("redliner/{} (page change monitor)", env!("CARGO_PKG_VERSION"))
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
    /// The body exactly as served (after transfer/content decoding).
    pub body: Vec<u8>,
    /// The body decoded to UTF-8.
    pub text: String,
    /// Validators the server sent, for the next conditional GET.
    pub validators: Validators,
    /// When the response arrived.
    pub fetched_at: Timestamp,
}

/// What one fetch returned.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// A page.
    Page(FetchedPage),
    /// 304 Not Modified (conditional GET).
    NotModified,
}
