//! [`FetchError`]: why one fetch produced no page, in one readable line that
//! names the URL (credentials removed) and the cause.

use std::time::Duration;

/// Why a fetch produced no page.
///
/// Every message reads `fetching `URL`: cause`, e.g.
/// ``fetching `https://example.org/`: HTTP 503 Service Unavailable``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The HTTP client could not be built (bad user agent, TLS setup).
    #[error("setting up the HTTP client: {cause}")]
    Client {
        /// What went wrong.
        cause: String,
    },
    /// The server answered with a status other than 2xx or 304.
    #[error("fetching `{url}`: HTTP {}", status_text(*.status))]
    Status {
        /// The URL requested (credentials removed).
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The `Retry-After` delay the server asked for, when given in seconds
        /// or as an HTTP date.
        retry_after: Option<Duration>,
    },
    /// The connection failed: refused, reset, DNS, TLS, too many redirects.
    #[error("fetching `{url}`: {cause}")]
    Transport {
        /// The URL requested (credentials removed).
        url: String,
        /// A short lowercase cause, e.g. `connection refused`.
        cause: String,
        /// True when trying again soon may succeed (refused, reset, DNS).
        retryable: bool,
    },
    /// No complete response within the configured timeout.
    #[error("fetching `{url}`: timed out after {}", secs(*.after))]
    Timeout {
        /// The URL requested (credentials removed).
        url: String,
        /// The configured timeout.
        after: Duration,
    },
    /// The body is larger than the configured cap.
    #[error("fetching `{url}`: body larger than the {limit}-byte limit")]
    TooLarge {
        /// The URL requested (credentials removed).
        url: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// The response is not an HTML page.
    #[error("fetching `{url}`: not an HTML page (content type `{content_type}`)")]
    NotHtml {
        /// The URL requested (credentials removed).
        url: String,
        /// The `Content-Type` header, or `none` when it was missing.
        content_type: String,
    },
    /// The response is labelled HTML but its body is another kind of file,
    /// known by its leading bytes (a PDF, an image, an archive ...; the
    /// signatures of the `infer` crate).
    #[error(
        "fetching `{url}`: not an HTML page (labelled `{content_type}`, but the body is `{found}`)"
    )]
    Mislabelled {
        /// The URL requested (credentials removed).
        url: String,
        /// The `Content-Type` header.
        content_type: String,
        /// The media type the body's signature names, e.g. `application/pdf`.
        found: String,
    },
    /// The server answered 304 Not Modified to a request that carried no
    /// validators: there is nothing it could be "not modified" from.
    #[error("fetching `{url}`: HTTP 304 Not Modified to a request without validators")]
    UnsolicitedNotModified {
        /// The URL requested (credentials removed).
        url: String,
    },
    /// The address guard refused the URL requested or a redirect (see
    /// [`super::guard`]): nothing was sent to the refused address.
    ///
    /// Reads ``fetching `URL`: refused (private address 10.0.0.1); set
    /// `allow_private = true` ...`` for the URL itself, and ``fetching `URL`:
    /// redirect to `http://169.254.169.254/...` refused (link-local address
    /// 169.254.169.254, a cloud metadata endpoint) after `URL` -> `URL2``` for
    /// a redirect, naming the whole chain.
    #[error("fetching `{url}`: {cause}")]
    Refused {
        /// The URL requested (credentials removed).
        url: String,
        /// What was refused and why, with the redirect chain before it (see
        /// above).
        cause: String,
    },
    /// The redirects loop, or are more than [`super::MAX_REDIRECTS`]:
    /// ``fetching `URL`: redirect loop: `A` -> `B` -> `A``` or ``fetching
    /// `URL`: too many redirects (more than 10): `A` -> ...``.
    #[error("fetching `{url}`: {}", redirects_text(chain, *.looped))]
    Redirects {
        /// The URL requested (credentials removed).
        url: String,
        /// Every URL of the chain, the URL requested first.
        chain: Vec<String>,
        /// True for a loop (a URL seen twice), false for too many.
        looped: bool,
    },
    /// The target's page redirected to another page (its home page, a search
    /// or login page, another article; see [`super::same_page`]) than the
    /// configured URL and the last accepted one: a moved target, never a
    /// revision.
    #[error("target redirected to `{to}` (set follow_moves = true to accept the new address)")]
    Moved {
        /// The URL requested (credentials removed).
        url: String,
        /// The final URL (credentials removed).
        to: String,
    },
    /// The body has bytes that no candidate charset decodes (see
    /// [`crate::fetch::decode_with`]): storing it would store U+FFFD or
    /// mojibake as the page's text.
    #[error(
        "fetching `{url}`: body is not valid {charset} ({bytes} {} cannot be decoded; charset {})",
        if *.bytes == 1 { "byte" } else { "bytes" },
        .chosen.describe()
    )]
    Undecodable {
        /// The URL requested (credentials removed).
        url: String,
        /// The charset tried last (encoding_rs name).
        charset: String,
        /// How that charset was chosen.
        chosen: super::CharsetSource,
        /// How many bytes it cannot decode.
        bytes: usize,
    },
    /// The server sent a 2xx response with an empty (or whitespace-only) body.
    #[error("fetching `{url}`: empty body")]
    EmptyBody {
        /// The URL requested (credentials removed).
        url: String,
    },
}

impl FetchError {
    /// True when retrying soon may succeed: timeouts, connection failures,
    /// HTTP 5xx, 408 and 429.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Timeout { .. } => true,
            FetchError::Transport { retryable, .. } => *retryable,
            FetchError::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            _ => false,
        }
    }

    /// A short suggestion of what to do next, when there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            FetchError::TooLarge { .. } => Some("raise `max_body_bytes` in the config"),
            FetchError::Timeout { .. } => Some("raise `timeout` in the config"),
            FetchError::NotHtml { .. } | FetchError::Mislabelled { .. } => {
                Some("check the target URL: it does not serve a web page")
            }
            FetchError::Status {
                status: 404 | 410, ..
            } => Some("the page may have moved; check the target URL"),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::UnsolicitedNotModified { .. } => Some(304),
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The cause part of [`FetchError::Refused`]: `to`, the redirect target
/// refused (`None`: the URL requested itself), `reason`, the URLs fetched
/// before it, and whether `allow_private = true` would have admitted it.
pub(crate) fn refused_text(
    to: Option<&str>,
    reason: &str,
    chain: &[String],
    hint_private: bool,
) -> String {
    match to {
        None if hint_private => format!(
            "refused ({reason}); set `allow_private = true` on the target if it is an intranet page"
        ),
        None => format!("refused ({reason})"),
        Some(to) if chain.is_empty() => format!("redirect to `{to}` refused ({reason})"),
        Some(to) => format!(
            "redirect to `{to}` refused ({reason}) after {}",
            chain_text(chain)
        ),
    }
}

/// The cause part of [`FetchError::Redirects`].
fn redirects_text(chain: &[String], looped: bool) -> String {
    if looped {
        format!("redirect loop: {}", chain_text(chain))
    } else {
        format!(
            "too many redirects (more than {}): {}",
            super::MAX_REDIRECTS,
            chain_text(chain)
        )
    }
}

/// `` `A` -> `B` -> `C` ``.
fn chain_text(chain: &[String]) -> String {
    chain
        .iter()
        .map(|u| format!("`{u}`"))
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// `503 Service Unavailable`, or just the code when it has no standard reason.
fn status_text(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// `30 s`, or `250 ms` below one second.
fn secs(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The URL as text with any username and password removed, so messages and
/// logs never carry credentials.
pub fn redact(url: &url::Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut u = url.clone();
    // Both setters only fail for URLs that cannot have credentials, which then have none.
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// The short cause of a reqwest error: the innermost readable reason
/// (`connection refused`, `dns error: ...`, `invalid peer certificate: ...`).
pub(crate) fn transport_cause(err: &reqwest::Error) -> (String, bool) {
    if err.is_redirect() {
        return ("too many redirects".to_string(), false);
    }
    let mut chain: Vec<&(dyn std::error::Error + 'static)> = Vec::new();
    let mut next = std::error::Error::source(err);
    while let Some(e) = next {
        chain.push(e);
        next = e.source();
    }
    let dns = chain.iter().any(|e| e.to_string().starts_with("dns error"));
    for e in &chain {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            let named = match io.kind() {
                K::ConnectionRefused => Some("connection refused"),
                K::ConnectionReset => Some("connection reset"),
                K::ConnectionAborted => Some("connection aborted"),
                K::TimedOut => Some("connection timed out"),
                K::UnexpectedEof => Some("connection closed before a full response"),
                _ => None,
            };
            if let Some(n) = named {
                return (n.to_string(), true);
            }
        }
    }
    let inner = chain
        .last()
        .map(|e| e.to_string())
        .unwrap_or_else(|| err.to_string());
    let inner = inner.trim_end_matches('.').to_string();
    if dns {
        let msg = if inner.starts_with("dns error") {
            inner
        } else {
            format!("dns error: {inner}")
        };
        return (msg, true);
    }
    // TLS and protocol failures won't fix themselves within seconds; connection-level ones might.
    let tls = chain.iter().any(|e| {
        let s = e.to_string();
        s.contains("certificate") || s.contains("tls") || s.contains("TLS")
    });
    let retryable = (err.is_connect() || err.is_request() || err.is_body()) && !tls;
    (inner, retryable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_in_one_line() {
        let url = "https://example.org/page".to_string();
        let cases = [
            (
                FetchError::Status {
                    url: url.clone(),
                    status: 503,
                    retry_after: None,
                },
                "fetching `https://example.org/page`: HTTP 503 Service Unavailable",
            ),
            (
                FetchError::Status {
                    url: url.clone(),
                    status: 599,
                    retry_after: None,
                },
                "fetching `https://example.org/page`: HTTP 599",
            ),
            (
                FetchError::Transport {
                    url: "http://127.0.0.1:1/".into(),
                    cause: "connection refused".into(),
                    retryable: true,
                },
                "fetching `http://127.0.0.1:1/`: connection refused",
            ),
            (
                FetchError::Timeout {
                    url: url.clone(),
                    after: Duration::from_secs(30),
                },
                "fetching `https://example.org/page`: timed out after 30 s",
            ),
            (
                FetchError::Timeout {
                    url: url.clone(),
                    after: Duration::from_millis(200),
                },
                "fetching `https://example.org/page`: timed out after 200 ms",
            ),
            (
                FetchError::TooLarge {
                    url: url.clone(),
                    limit: 1000,
                },
                "fetching `https://example.org/page`: body larger than the 1000-byte limit",
            ),
            (
                FetchError::NotHtml {
                    url: url.clone(),
                    content_type: "image/png".into(),
                },
                "fetching `https://example.org/page`: not an HTML page (content type `image/png`)",
            ),
            (
                FetchError::EmptyBody { url: url.clone() },
                "fetching `https://example.org/page`: empty body",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn transient_errors() {
        let url = String::new();
        let status = |s| FetchError::Status {
            url: url.clone(),
            status: s,
            retry_after: None,
        };
        let cases = [
            (status(503), true),
            (status(500), true),
            (status(429), true),
            (status(408), true),
            (status(404), false),
            (status(403), false),
            (
                FetchError::Timeout {
                    url: url.clone(),
                    after: Duration::ZERO,
                },
                true,
            ),
            (
                FetchError::Transport {
                    url: url.clone(),
                    cause: String::new(),
                    retryable: true,
                },
                true,
            ),
            (
                FetchError::Transport {
                    url: url.clone(),
                    cause: String::new(),
                    retryable: false,
                },
                false,
            ),
            (FetchError::EmptyBody { url: url.clone() }, false),
            (
                FetchError::Mislabelled {
                    url: url.clone(),
                    content_type: "text/html".into(),
                    found: "application/pdf".into(),
                },
                false,
            ),
            (
                FetchError::TooLarge {
                    url: url.clone(),
                    limit: 1,
                },
                false,
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.is_transient(), want, "{err:?}");
        }
    }

    #[test]
    fn redact_removes_credentials() {
        let cases = [
            (
                "https://user:secret@example.org/a?b=c",
                "https://example.org/a?b=c",
            ),
            ("https://example.org/a", "https://example.org/a"),
        ];
        for (input, want) in cases {
            let u = url::Url::parse(input).unwrap();
            assert_eq!(redact(&u), want);
        }
    }
}
