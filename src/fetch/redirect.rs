//! Redirects, followed one hop at a time so the address guard
//! ([`super::guard`]) sees every hop, and errors name the whole chain; and
//! [`same_page`], which tells a redirect to the same page at another address
//! from a redirect to another page (a moved target).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{self, HeaderValue};
use url::Url;

use super::error::refused_text;
use super::guard::{self, Reach};
use super::{FetchError, Fetcher, MAX_REDIRECTS, Validators, redact};

/// The statuses followed: 301, 302, 303, 307, 308 (each as a GET; the
/// fetch only ever GETs).
fn is_followed(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

impl Fetcher {
    /// GETs `url`, following redirects itself: each hop's scheme must be
    /// http(s), its IP-literal host is checked against the reach (names are
    /// checked by the guarded resolver when dialled), a hop answered by a
    /// public address holds the rest of the chain to public addresses, a URL
    /// seen twice is a loop, and more than [`MAX_REDIRECTS`] hops is too
    /// many. Returns the last response (not a followed redirect) and whether
    /// validators were sent. All hops share the fetch's timeout.
    ///
    /// # Errors
    /// [`FetchError::Refused`] naming the chain, [`FetchError::Redirects`]
    /// for a loop or too many, and the transport errors of each hop.
    pub(super) async fn send_following(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        mut reach: Reach,
    ) -> Result<(reqwest::Response, bool), FetchError> {
        let shown = redact(url);
        let deadline = tokio::time::Instant::now() + self.settings.timeout;
        let mut chain: Vec<Url> = vec![url.clone()];
        let refused = |chain: &[Url], reason: String, private_would_admit: bool| {
            let (to, before) = match chain.split_last() {
                Some((last, before)) if !before.is_empty() => (
                    Some(redact(last)),
                    before.iter().map(redact).collect::<Vec<_>>(),
                ),
                _ => (None, Vec::new()),
            };
            FetchError::Refused {
                url: shown.clone(),
                cause: refused_text(
                    to.as_deref(),
                    &reason,
                    &before,
                    private_would_admit && chain.len() == 1,
                ),
            }
        };
        loop {
            let hop = chain.last().cloned().unwrap_or_else(|| url.clone());
            if !matches!(hop.scheme(), "http" | "https") {
                return Err(refused(&chain, "not http or https".into(), false));
            }
            if let Err(r) = reach.admit_host(&hop) {
                let admit = r.private_would_admit();
                return Err(refused(&chain, r.to_string(), admit));
            }
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero() {
                return Err(FetchError::Timeout {
                    url: shown.clone(),
                    after: self.settings.timeout,
                });
            }
            let client = self
                .clients
                .get(reach)
                .map_err(|cause| FetchError::Client { cause })?;
            let mut request = client
                .get(hop.clone())
                .timeout(remaining.max(Duration::from_millis(1)));
            let mut conditional = false;
            if let Some(v) = validators {
                let pairs = [
                    (header::IF_NONE_MATCH, v.etag.as_deref()),
                    (header::IF_MODIFIED_SINCE, v.last_modified.as_deref()),
                ];
                for (name, value) in pairs {
                    if let Some(value) = value.and_then(|s| HeaderValue::from_str(s).ok()) {
                        request = request.header(name, value);
                        conditional = true;
                    }
                }
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) => {
                    if let Some(r) = guard::refused_host(&e) {
                        let admit = r.refusal.private_would_admit();
                        return Err(refused(&chain, r.to_string(), admit));
                    }
                    return Err(self.transport(&shown, &e));
                }
            };
            let status = response.status();
            let location = response
                .headers()
                .get(header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string());
            let (true, Some(location)) = (is_followed(status), location) else {
                return Ok((response, conditional));
            };
            reach = reach.after(response.remote_addr());
            let Ok(next) = hop.join(&location) else {
                // Named as written: it is not a URL.
                return Err(FetchError::Refused {
                    url: shown.clone(),
                    cause: refused_text(
                        Some(&location),
                        "not a valid URL",
                        &chain.iter().map(redact).collect::<Vec<_>>(),
                        false,
                    ),
                });
            };
            let looped = chain.contains(&next);
            chain.push(next);
            if looped || chain.len() > MAX_REDIRECTS + 1 {
                return Err(FetchError::Redirects {
                    url: shown.clone(),
                    chain: chain.iter().map(redact).collect(),
                    looped,
                });
            }
        }
    }
}

/// True when `new` is the same page as `old` at another address, the way
/// sites move their own pages about: another scheme or host spelling
/// (http to https, `www.`), a query added (`?selectedLocale=en`), a language
/// prefix or suffix (`/en/...`, `page_en`), another directory or extension
/// for the same page name (`/moved/topics_49119.htm`), `index.html` for its
/// directory, a trailing slash, `;jsessionid=...`. False for another page:
/// the home page, a search or login page, another article, or the same path
/// with another value of a query parameter the old URL names
/// (`?id=123` to `?id=456`).
pub fn same_page(old: &Url, new: &Url) -> bool {
    if page_name(old) != page_name(new) {
        return false;
    }
    // A query parameter both name with other values makes another page
    // (`article.php?id=1` and `?id=2`), except the language ones.
    old.query_pairs().all(|(key, value)| {
        let k = key.to_ascii_lowercase();
        if LANGUAGE_KEYS.contains(&k.as_str()) {
            return true;
        }
        let mut values = new
            .query_pairs()
            .filter(|(nk, _)| nk.eq_ignore_ascii_case(&key))
            .peekable();
        values.peek().is_none() || values.any(|(_, nv)| nv == value)
    })
}

/// Query keys that choose a page's language, not the page.
const LANGUAGE_KEYS: [&str; 6] = ["lang", "language", "locale", "selectedlocale", "hl", "lng"];

/// Index documents that stand for their directory.
const INDEX_STEMS: [&str; 4] = ["index", "default", "home", "welcome"];

/// What names a page in its URL path: the last segment that is not empty, a
/// language tag or an index document, lowercased and percent-decoded, its
/// `;parameters`, extension and language suffix (`_en`, `-fr`, `.de`)
/// removed. `None` for a site's root (the home page).
fn page_name(url: &Url) -> Option<String> {
    let segments: Vec<String> = url
        .path_segments()
        .into_iter()
        .flatten()
        .map(|s| {
            let s = s.split(';').next().unwrap_or("");
            percent_decode(s).to_lowercase()
        })
        .filter(|s| !s.is_empty() && !is_language_tag(s))
        .collect();
    let mut segments = segments.into_iter().rev();
    for segment in segments.by_ref() {
        let stem = match segment.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() && is_extension(ext) => stem.to_string(),
            _ => segment.clone(),
        };
        let stem = strip_language_suffix(&stem);
        if INDEX_STEMS.contains(&stem) {
            continue;
        }
        return Some(stem.to_string());
    }
    None
}

/// `htm`, `html`, `php`, `aspx`, ...: a short alphanumeric extension.
fn is_extension(ext: &str) -> bool {
    (1..=5).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `en`, `fr`, `en-gb`, `pt_br`, `zh-hans`: a language tag used as a path
/// segment.
fn is_language_tag(s: &str) -> bool {
    let mut parts = s.splitn(2, ['-', '_']);
    let lang = parts.next().unwrap_or("");
    let region = parts.next();
    lang.len() == 2
        && lang.chars().all(|c| c.is_ascii_lowercase())
        && region.is_none_or(|r| {
            (2..=4).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

/// `topics_49119_en` to `topics_49119`; a name that is only a tag stays.
fn strip_language_suffix(stem: &str) -> &str {
    match stem.rsplit_once(['_', '-', '.']) {
        Some((head, tag)) if !head.is_empty() && tag.len() == 2 && is_language_tag(tag) => head,
        _ => stem,
    }
}

/// Percent-decodes a path segment (invalid UTF-8 replaced).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_to_the_same_page_elsewhere_is_not_a_move_but_to_another_page_is() {
        let old = "http://www.nato.int/cps/en/natohq/topics_49119.htm";
        let cases = [
            // Same page, another address.
            ("https://www.nato.int/cps/en/natohq/topics_49119.htm", true),
            ("http://nato.int/cps/en/natohq/topics_49119.htm", true),
            (
                "https://www.nato.int/cps/en/natohq/topics_49119.htm?selectedLocale=en",
                true,
            ),
            ("https://www.nato.int/cps/fr/natohq/topics_49119.htm", true),
            ("http://localhost:8080/moved/topics_49119.htm", true),
            ("https://www.nato.int/cps/en/natohq/topics_49119.html", true),
            (
                "https://www.nato.int/cps/en/natohq/topics_49119_en.htm",
                true,
            ),
            ("https://www.nato.int/CPS/EN/NATOHQ/Topics_49119.htm", true),
            (
                "https://www.nato.int/cps/en/natohq/topics_49119.htm;jsessionid=AB12",
                true,
            ),
            (
                "https://www.nato.int/en/cps/en/natohq/topics_49119.htm/",
                true,
            ),
            (
                "https://www.nato.int/cps/en/natohq/topics%5F49119.htm",
                true,
            ),
            // Another page.
            ("https://www.nato.int/", false),
            ("https://www.nato.int/index.html", false),
            ("https://www.nato.int/en/", false),
            ("https://www.nato.int/cps/en/natohq/index.htm", false),
            (
                "https://www.nato.int/cps/en/natohq/search.htm?q=belarus",
                false,
            ),
            (
                "https://www.nato.int/login?next=/cps/en/natohq/topics_49119.htm",
                false,
            ),
            ("https://www.nato.int/cps/en/natohq/topics_50100.htm", false),
            ("https://www.nato.int/cps/en/natohq/news_49119.htm", false),
        ];
        let old = Url::parse(old).unwrap();
        for (new, want) in cases {
            assert_eq!(same_page(&old, &Url::parse(new).unwrap()), want, "{new}");
        }
    }

    #[test]
    fn directories_index_documents_and_queries() {
        let cases = [
            ("https://e.org/docs/", "https://e.org/docs/index.html", true),
            ("https://e.org/docs", "https://e.org/docs/", true),
            ("https://e.org/docs/", "https://e.org/", false),
            ("https://e.org/", "https://e.org/index.php", true),
            ("https://e.org/", "https://e.org/en/", true),
            ("https://e.org/", "https://e.org/news", false),
            (
                "https://e.org/a.php?id=1",
                "https://e.org/a.php?id=1&x=2",
                true,
            ),
            (
                "https://e.org/a.php?id=1",
                "https://e.org/a.php?id=2",
                false,
            ),
            ("https://e.org/a.php?id=1", "https://e.org/a.php", true),
            (
                "https://e.org/a.php?lang=en",
                "https://e.org/a.php?lang=fr",
                true,
            ),
            ("https://e.org/policy", "https://e.org/policy_en", true),
            ("https://e.org/en", "https://e.org/fr", true),
        ];
        for (old, new, want) in cases {
            let (o, n) = (Url::parse(old).unwrap(), Url::parse(new).unwrap());
            assert_eq!(same_page(&o, &n), want, "{old} -> {new}");
        }
    }
}
