//! `redliner backfill`: imports a page's past captures from a web archive as
//! dated snapshots, merged with the live ones in capture order.
//!
//! Listing the captures:
//! - a Wayback Machine (the Internet Archive, or any server of its CDX API):
//!   `GET <base>/cdx/search/cdx?url=<page>&output=json&fl=timestamp,original,statuscode,mimetype,digest&filter=statuscode:200&collapse=digest`,
//!   a JSON array of rows whose first row names the fields
//!   (<https://github.com/internetarchive/wayback/tree/master/wayback-cdx-server>);
//!   each capture is replayed raw, as archived, with the `id_` flag:
//!   `<base>/web/<timestamp>id_/<original>`;
//! - any Memento archive: its TimeMap (RFC 7089 section 5,
//!   `application/link-format`, RFC 6690), whose `memento` links carry a
//!   `datetime` (an HTTP date); with `raw`, `id_` is put after the 14-digit
//!   time of a memento URL, as pywb and OpenWayback archives read it.
//!
//! Each capture then goes through what a check does with a page: decoded,
//! refused when undecodable or cut, extracted with the target's current rules
//! (error pages served as 200 and empty extractions refused), compared with
//! the snapshot before it in capture order; a new document or stamp is stored
//! as a snapshot marked with its archive and replay URL, with the revision
//! from the snapshot before it; a capture equal to the snapshot before it is
//! recorded and not stored. The archive's own inserts in a replay (the
//! Wayback toolbar and its scripts, the `FILE ARCHIVED ON` comment) are
//! removed first. After the captures, each imported snapshot gets the
//! revision to the snapshot after it, if they differ.
//!
//! Nothing is alerted. Requests go one at a time, at least the archive's
//! `delay` apart (default 1 s); a 429 or 503 is retried after its
//! `Retry-After`. Every capture looked at is recorded (`archive_captures`),
//! so an interrupted backfill resumes where it stopped and a second run adds
//! nothing; a capture with the same digest as the capture before it is not
//! fetched.

use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;
use tracing::{debug, info, warn};
use url::Url;

use crate::config::{ArchiveKind, ArchiveSettings};
use crate::diff::DiffOptions;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::fetch::guard::{GuardedClients, Reach};
use crate::fetch::{FetchError, FetchedPage, Fetcher};
use crate::report::{Format, Redline};
use crate::store::{Archived, CaptureOutcome, NewSnapshot, Store};
use crate::target::Target;

/// One capture an archive lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The capture time as the archive writes it: 14 digits, UTC
    /// (`20120302153800`).
    pub timestamp: String,
    /// The same time.
    pub at: Timestamp,
    /// The URL the archive captured.
    pub original: String,
    /// The HTTP status the archive recorded, when listed.
    pub status: Option<u16>,
    /// The media type the archive recorded, when listed.
    pub mimetype: Option<String>,
    /// The archive's digest of the capture (Wayback: base32 SHA-1 of the
    /// body), when listed.
    pub digest: Option<String>,
    /// Where the capture is replayed raw.
    pub replay: Url,
}

/// What one backfill run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Captures the archive listed in the window.
    pub listed: usize,
    /// Captures looked at by an earlier run (skipped).
    pub earlier: usize,
    /// Captures stored as snapshots.
    pub stored: usize,
    /// Captures equal to the snapshot before them.
    pub unchanged: usize,
    /// Captures with the digest of the capture before them (not fetched).
    pub duplicates: usize,
    /// Captures refused, with why.
    pub refused: Vec<(String, String)>,
    /// Captures not fetched this run (the archive failed; tried again on
    /// the next run), with why.
    pub failed: Vec<(String, String)>,
    /// Revisions added from an imported snapshot to the snapshot after it.
    pub linked: usize,
}

/// The 14-digit Wayback time (`YYYYMMDDhhmmss`, UTC; a shorter one is
/// padded with the earliest values) as a timestamp.
pub fn parse_timestamp(ts: &str) -> Option<Timestamp> {
    if ts.len() < 4 || ts.len() > 14 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let padded = format!("{ts}{}", &"00000101000000"[ts.len()..]);
    let n = |r: std::ops::Range<usize>| padded[r].parse::<i8>().ok();
    let year = padded[0..4].parse::<i16>().ok()?;
    jiff::civil::DateTime::new(
        year,
        n(4..6)?,
        n(6..8)?,
        n(8..10)?,
        n(10..12)?,
        n(12..14)?,
        0,
    )
    .ok()?
    .to_zoned(jiff::tz::TimeZone::UTC)
    .ok()
    .map(|z| z.timestamp())
}

/// A timestamp as the 14-digit Wayback time.
pub fn format_timestamp(at: Timestamp) -> String {
    at.strftime("%Y%m%d%H%M%S").to_string()
}

/// A date bound of `--from`/`--to` (`2012`, `2012-03`, `2012-03-02`, RFC
/// 3339, or digits) as the Wayback time prefix the CDX API takes.
///
/// # Errors
/// A message naming the value.
pub fn bound(value: &str) -> std::result::Result<String, String> {
    let digits: String = value
        .chars()
        .take_while(|c| *c != 'Z' && *c != '+')
        .filter(char::is_ascii_digit)
        .collect();
    let plain = value.starts_with(|c: char| c.is_ascii_digit())
        && (value
            .chars()
            .all(|c| c.is_ascii_digit() || "-:T ".contains(c))
            || value.ends_with('Z'));
    let year_ok = digits
        .get(..4)
        .and_then(|y| y.parse::<u16>().ok())
        .is_some_and(|y| (1991..=9999).contains(&y));
    if !plain
        || !year_ok
        || digits.len() % 2 == 1
        || digits.len() > 14
        || parse_timestamp(&digits).is_none()
    {
        return Err(format!(
            "`{value}`: expected a date such as 2012, 2012-03 or 2012-03-02"
        ));
    }
    Ok(digits)
}

/// Parses a CDX server's JSON answer (`output=json`): an array of string
/// arrays, the first naming the fields. Rows whose status is not 200, whose
/// time cannot be read, or that repeat the row before them's digest
/// (`collapse=digest`, in case the server ignored it) are left out.
///
/// # Errors
/// A message when the answer is not such an array or lacks `timestamp`
/// and `original`.
pub fn parse_cdx(
    json: &str,
    base: &Url,
    raw_flag: &str,
) -> std::result::Result<Vec<Capture>, String> {
    let rows: Vec<Vec<serde_json::Value>> = if json.trim().is_empty() {
        Vec::new()
    } else {
        serde_json::from_str(json)
            .map_err(|e| format!("the CDX answer is not a JSON table: {e}"))?
    };
    let Some((head, rows)) = rows.split_first() else {
        return Ok(Vec::new());
    };
    let col = |name: &str| head.iter().position(|v| v.as_str() == Some(name));
    let (Some(ts_col), Some(orig_col)) = (col("timestamp"), col("original")) else {
        return Err("the CDX answer has no `timestamp` and `original` fields".into());
    };
    let (status_col, mime_col, digest_col) = (col("statuscode"), col("mimetype"), col("digest"));
    let text = |row: &[serde_json::Value], c: Option<usize>| {
        c.and_then(|c| row.get(c))
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty() && *s != "-")
            .map(str::to_string)
    };
    let mut out: Vec<Capture> = Vec::new();
    for row in rows {
        let (Some(timestamp), Some(original)) =
            (text(row, Some(ts_col)), text(row, Some(orig_col)))
        else {
            continue;
        };
        let Some(at) = parse_timestamp(&timestamp) else {
            continue;
        };
        let status = text(row, status_col).and_then(|s| s.parse().ok());
        if status.is_some_and(|s| s != 200) {
            continue;
        }
        let digest = text(row, digest_col);
        if digest.is_some() && out.last().is_some_and(|p| p.digest == digest) {
            continue;
        }
        if out.iter().rev().take(8).any(|p| p.timestamp == timestamp) {
            continue;
        }
        let Ok(replay) = base.join(&format!("web/{timestamp}{raw_flag}/{original}")) else {
            continue;
        };
        out.push(Capture {
            timestamp,
            at,
            original,
            status,
            mimetype: text(row, mime_col),
            digest,
            replay,
        });
    }
    Ok(out)
}

/// Parses a Memento TimeMap (RFC 7089, link-format): its `memento` links
/// (any `rel` list naming `memento`, e.g. `first memento`) with a readable
/// `datetime`, in time order. With `raw`, `id_` is put after a 14-digit
/// time segment of each memento URL. `original` is the page URL (the
/// TimeMap's `original` link, when it has one).
///
/// # Errors
/// A message when the text is not link-format.
pub fn parse_timemap(
    text: &str,
    base: &Url,
    raw: bool,
    page: &str,
) -> std::result::Result<Vec<Capture>, String> {
    let links = link_format(text)?;
    let rel_has = |params: &[(String, String)], want: &str| {
        params
            .iter()
            .any(|(k, v)| k == "rel" && v.split_whitespace().any(|r| r == want))
    };
    let param = |params: &[(String, String)], want: &str| {
        params
            .iter()
            .find(|(k, _)| k == want)
            .map(|(_, v)| v.clone())
    };
    let original = links
        .iter()
        .find(|(_, p)| rel_has(p, "original"))
        .map_or_else(|| page.to_string(), |(u, _)| u.clone());
    let mut out = Vec::new();
    for (uri, params) in &links {
        if !rel_has(params, "memento") {
            continue;
        }
        let Some(at) = param(params, "datetime")
            .and_then(|d| httpdate::parse_http_date(&d).ok())
            .and_then(|t| Timestamp::try_from(t).ok())
        else {
            continue;
        };
        let Ok(mut replay) = base.join(uri) else {
            continue;
        };
        if raw {
            replay = raw_memento(&replay);
        }
        out.push(Capture {
            timestamp: format_timestamp(at),
            at,
            original: original.clone(),
            status: None,
            mimetype: param(params, "type"),
            digest: None,
            replay,
        });
    }
    out.sort_by_key(|c| c.at);
    out.dedup_by(|a, b| a.timestamp == b.timestamp);
    Ok(out)
}

/// A link of a link-format document: its URI and its parameters.
pub type Link = (String, Vec<(String, String)>);

/// The links of a link-format document (RFC 6690 section 2: `<URI>` then
/// `;`-separated parameters, `name=value` or `name="quoted, value"`, links
/// separated by `,`). Parameter names are lower-cased. (No maintained crate
/// reads quoted values holding commas, as Memento's `datetime` does.)
///
/// # Errors
/// A message naming the byte offset where the text stops being link-format.
pub fn link_format(text: &str) -> std::result::Result<Vec<Link>, String> {
    let bad =
        |at: usize, what: &str| format!("the TimeMap is not link-format at byte {at}: {what}");
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut links = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= bytes.len() {
            break;
        }
        if bytes[i] != b'<' {
            return Err(bad(i, "expected `<`"));
        }
        let close = text[i..].find('>').ok_or_else(|| bad(i, "no `>`"))? + i;
        let uri = text[i + 1..close].trim().to_string();
        i = close + 1;
        let mut params = Vec::new();
        loop {
            skip_ws(&mut i);
            match bytes.get(i) {
                None => break,
                Some(b',') => {
                    i += 1;
                    break;
                }
                Some(b';') => i += 1,
                Some(_) => return Err(bad(i, "expected `;` or `,`")),
            }
            skip_ws(&mut i);
            let name_end = text[i..]
                .find(|c: char| c == '=' || c == ';' || c == ',' || c.is_ascii_whitespace())
                .map_or(bytes.len(), |n| n + i);
            let name = text[i..name_end].to_ascii_lowercase();
            i = name_end;
            skip_ws(&mut i);
            let value = if bytes.get(i) == Some(&b'=') {
                i += 1;
                skip_ws(&mut i);
                if bytes.get(i) == Some(&b'"') {
                    let end = text[i + 1..]
                        .find('"')
                        .ok_or_else(|| bad(i, "an unclosed quote"))?
                        + i
                        + 1;
                    let v = text[i + 1..end].to_string();
                    i = end + 1;
                    v
                } else {
                    let end = text[i..]
                        .find(|c: char| c == ';' || c == ',' || c.is_ascii_whitespace())
                        .map_or(bytes.len(), |n| n + i);
                    let v = text[i..end].to_string();
                    i = end;
                    v
                }
            } else {
                String::new()
            };
            if !name.is_empty() {
                params.push((name, value));
            }
        }
        links.push((uri, params));
    }
    Ok(links)
}

/// A memento URL with `id_` after its 14-digit time segment (unless it has
/// a flag there already).
fn raw_memento(url: &Url) -> Url {
    let path = url.path();
    let mut done = false;
    let segments: Vec<String> = path
        .split('/')
        .map(|seg| {
            if !done && seg.len() == 14 && seg.bytes().all(|b| b.is_ascii_digit()) {
                done = true;
                format!("{seg}id_")
            } else {
                seg.to_string()
            }
        })
        .collect();
    if !done {
        return url.clone();
    }
    let mut raw = url.clone();
    raw.set_path(&segments.join("/"));
    raw
}

/// The capture time a replay URL names (`/web/20120302153800id_/...`), if
/// it names one.
pub fn replay_timestamp(url: &str) -> Option<String> {
    url.split('/').find_map(|seg| {
        let digits: String = seg.chars().take_while(char::is_ascii_digit).collect();
        (digits.len() == 14
            && seg[14..]
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == '_'))
        .then_some(digits)
    })
}

/// The URL a replay URL captured (what follows its time segment), if any.
pub fn replayed_original(url: &str) -> Option<String> {
    let mut parts = url.splitn(2, "://");
    let (_, rest) = (parts.next()?, parts.next()?);
    let mut segs = rest.split('/');
    segs.next()?; // the archive's host
    let mut seen = false;
    let tail: Vec<&str> = segs
        .skip_while(|seg| {
            if seen {
                return false;
            }
            let digits = seg.chars().take_while(char::is_ascii_digit).count();
            if digits == 14 {
                seen = true;
            }
            true
        })
        .collect();
    seen.then(|| tail.join("/")).filter(|t| !t.is_empty())
}

/// The archive's inserts in a replay: the Wayback toolbar
/// (`<!-- BEGIN WAYBACK TOOLBAR INSERT -->` … `<!-- END WAYBACK TOOLBAR INSERT -->`),
/// its head scripts (… `<!-- End Wayback Rewrite JS Include -->`) and the
/// trailing `FILE ARCHIVED ON` comment. Returns the body without them and
/// whether any was found.
pub fn strip_archive_inserts(body: &[u8]) -> (Vec<u8>, bool) {
    const SPANS: [(&[u8], &[u8]); 3] = [
        (
            b"<!-- BEGIN WAYBACK TOOLBAR INSERT -->",
            b"<!-- END WAYBACK TOOLBAR INSERT -->",
        ),
        (
            b"<script src=\"//archive.org/includes/",
            b"<!-- End Wayback Rewrite JS Include -->",
        ),
        (b"<!--\n     FILE ARCHIVED ON", b"-->"),
    ];
    // pywb's banner insert, when an archive ignores `id_`.
    const PYWB: (&[u8], &[u8]) = (b"<!-- WB Insert -->", b"<!-- End WB Insert -->");
    let mut out = body.to_vec();
    let mut found = false;
    for (start, end) in SPANS.into_iter().chain([PYWB]) {
        while let Some(i) = find(&out, start) {
            let Some(j) = find(&out[i..], end) else {
                break;
            };
            out.drain(i..i + j + end.len());
            found = true;
        }
    }
    (out, found)
}

/// Signs of an archive's own page in place of a capture (its error and
/// notice pages, sometimes served with 200): the sign found, if any.
pub fn archive_own_page(body: &[u8]) -> Option<&'static str> {
    const SIGNS: [(&[u8], &str); 6] = [
        (
            b"Wayback Machine has not archived that URL",
            "the Wayback Machine's page for a URL it has not archived",
        ),
        (b"<title>Wayback Machine</title>", "a Wayback Machine page"),
        (
            b"has been excluded from the Wayback Machine",
            "the Wayback Machine's page for an excluded URL",
        ),
        (
            b"Got an HTTP 30",
            "the Wayback Machine's notice of a redirect at crawl time",
        ),
        (b"<!-- WB Insert -->", "a pywb archive's banner"),
        (b"id=\"_wb_frame_top_banner\"", "a pywb archive's frame"),
    ];
    SIGNS
        .iter()
        .find(|(sign, _)| find(body, sign).is_some())
        .map(|(_, what)| *what)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One request at a time to an archive, each at least `delay` after the
/// previous one ended.
#[derive(Debug)]
struct Pacer {
    delay: Duration,
    last: Option<Instant>,
}

impl Pacer {
    /// Waits until `delay` has passed since the last request ended.
    async fn wait(&mut self) {
        if let Some(last) = self.last {
            tokio::time::sleep_until(last + self.delay).await;
        }
    }

    /// Marks the end of a request.
    fn done(&mut self) {
        self.last = Some(Instant::now());
    }
}

/// What [`Backfill`] calls after each capture: its capture and what
/// became of it, in a few words.
pub type OnCapture<'a> = Box<dyn FnMut(&Capture, &str) + 'a>;

/// Imports captures of one target from one archive into a store.
pub struct Backfill<'a> {
    /// The store, held under its lock by the caller.
    pub store: &'a mut Store,
    /// The HTTP client of the replays.
    pub fetcher: &'a Fetcher,
    /// The archive.
    pub archive: &'a ArchiveSettings,
    /// The target (its URL and rules).
    pub target: &'a Target,
    /// Diff options.
    pub diff: DiffOptions,
    pacer: Pacer,
    /// Called after each capture with its time and what became of it.
    pub on_capture: OnCapture<'a>,
    /// Captures failed in a row (transient errors).
    failing: usize,
    /// Set to true to stop (SIGINT, SIGTERM): the capture in flight is
    /// dropped before anything of it is recorded, and the run ends with
    /// [`Error::Archive`] saying to run again.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
}

/// Captures failing in a row (timeouts, 5xx after the retries) that stop a
/// run: the archive stopped answering.
const STOP_AFTER_FAILURES: usize = 3;

/// The earliest capture time accepted: the web's first pages (August 1991).
const WEB_BEGAN: &str = "1991-08-06T00:00:00Z";

/// Why a listed capture cannot be the target's page, if it cannot: dated in
/// the future or before the web, or a capture of another URL.
fn out_of_place(capture: &Capture, target: &Url, now: Timestamp) -> Option<String> {
    let began: Timestamp = WEB_BEGAN.parse().ok()?;
    if capture.at > now + jiff::SignedDuration::from_hours(24) {
        return Some(format!(
            "dated {} by the archive: in the future",
            capture.at
        ));
    }
    if capture.at < began {
        return Some(format!(
            "dated {} by the archive: before the web",
            capture.at
        ));
    }
    // The same host (`www.` aside: archives keep both spellings) and the
    // same page (another scheme, port or query spelling aside).
    let host = |u: &Url| {
        u.host_str()
            .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
    };
    let same = Url::parse(&capture.original)
        .ok()
        .filter(|o| matches!(o.scheme(), "http" | "https"))
        .is_some_and(|o| host(&o) == host(target) && crate::fetch::same_page(target, &o));
    (!same).then(|| {
        format!(
            "the archive lists it as a capture of another page ({})",
            capture.original
        )
    })
}

/// Most attempts at a listing answered 429 or 503.
const LIST_ATTEMPTS: usize = 5;
/// The longest `Retry-After` waited for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
/// The largest capture listing read (after content decoding): about
/// 500,000 CDX rows.
const MAX_LISTING_BYTES: usize = 64 << 20;

impl<'a> Backfill<'a> {
    /// A backfill of `target` from `archive`.
    pub fn new(
        store: &'a mut Store,
        fetcher: &'a Fetcher,
        archive: &'a ArchiveSettings,
        target: &'a Target,
    ) -> Self {
        Backfill {
            store,
            fetcher,
            archive,
            target,
            diff: DiffOptions::default(),
            pacer: Pacer {
                delay: archive.delay,
                last: None,
            },
            on_capture: Box::new(|_, _| {}),
            failing: 0,
            stop: None,
        }
    }

    fn error(&self, message: String) -> Error {
        Error::Archive {
            archive: self.archive.name.clone(),
            message,
        }
    }

    /// Lists the target's captures in `[from, to]` (Wayback time prefixes),
    /// oldest first.
    ///
    /// # Errors
    /// [`Error::Archive`] when the archive cannot be reached or answers
    /// other than with a listing.
    pub async fn list(&mut self, from: Option<&str>, to: Option<&str>) -> Result<Vec<Capture>> {
        let page = self.target.url.as_str();
        match self.archive.kind {
            ArchiveKind::Wayback => {
                let base = Url::parse(&format!("{}/", self.archive.url.trim_end_matches('/')))
                    .map_err(|e| self.error(format!("bad base URL: {e}")))?;
                let mut url = base
                    .join("cdx/search/cdx")
                    .map_err(|e| self.error(format!("bad base URL: {e}")))?;
                {
                    let mut q = url.query_pairs_mut();
                    q.append_pair("url", page)
                        .append_pair("output", "json")
                        .append_pair("fl", "timestamp,original,statuscode,mimetype,digest")
                        .append_pair("filter", "statuscode:200")
                        .append_pair("collapse", "digest");
                    if let Some(f) = from {
                        q.append_pair("from", f);
                    }
                    if let Some(t) = to {
                        q.append_pair("to", t);
                    }
                }
                let body = self.get_text(&url).await?;
                let mut captures = parse_cdx(&body, &base, "id_").map_err(|m| self.error(m))?;
                captures.sort_by_key(|c| c.at);
                Ok(captures)
            }
            ArchiveKind::Memento => {
                let template = &self.archive.url;
                let url = if template.contains("{url}") {
                    template.replace("{url}", page)
                } else {
                    format!("{template}{page}")
                };
                let url =
                    Url::parse(&url).map_err(|e| self.error(format!("bad TimeMap URL: {e}")))?;
                let body = self.get_text(&url).await?;
                let captures = parse_timemap(&body, &url, self.archive.raw, page)
                    .map_err(|m| self.error(m))?;
                let within = |c: &Capture| {
                    from.is_none_or(|f| c.timestamp.as_str() >= f)
                        && to.is_none_or(|t| c.timestamp[..t.len().min(14)] <= *t)
                };
                Ok(captures.into_iter().filter(within).collect())
            }
        }
    }

    /// GETs a listing as text, paced, retrying 429 and 503 after their
    /// `Retry-After` (or a growing delay).
    async fn get_text(&mut self, url: &Url) -> Result<String> {
        let settings = self.fetcher.settings().clone();
        let ua = settings.user_agent.clone();
        let timeout = settings.timeout;
        let reach = Reach::for_url(url, None);
        // Redirects are followed only to addresses the reach admits (a name
        // is checked by the guarded resolver; an address written in the
        // URL is checked here) and only over http(s).
        let clients = GuardedClients::new(move || {
            let policy = reqwest::redirect::Policy::custom(move |attempt| {
                let next = attempt.url();
                let refused = if attempt.previous().len() >= 5 {
                    Some("too many redirects".to_string())
                } else if !matches!(next.scheme(), "http" | "https") {
                    Some(format!("a redirect to `{}` is not http(s)", next.scheme()))
                } else {
                    reach
                        .admit_host(next)
                        .err()
                        .map(|r| format!("a redirect to a refused address: {r}"))
                };
                match refused {
                    Some(why) => attempt.error(why),
                    None => attempt.follow(),
                }
            });
            reqwest::Client::builder()
                .user_agent(ua.clone())
                .timeout(timeout)
                .redirect(policy)
        });
        reach
            .admit_host(url)
            .map_err(|r| self.error(format!("`{url}` refused: {r}")))?;
        let client = clients.get(reach).map_err(|m| self.error(m))?.clone();
        let mut backoff = Duration::from_secs(2);
        for attempt in 1..=LIST_ATTEMPTS {
            self.pacer.wait().await;
            debug!(%url, attempt, "listing captures");
            let response = client.get(url.clone()).send().await;
            self.pacer.done();
            let response = response.map_err(|e| {
                let cause = if e.is_timeout() {
                    "timed out".to_string()
                } else if e.is_redirect() {
                    // The redirect policy's own reason, innermost.
                    let mut inner: &dyn std::error::Error = &e;
                    while let Some(next) = inner.source() {
                        inner = next;
                    }
                    inner.to_string()
                } else {
                    crate::fetch::transport_cause(&e).0
                };
                self.error(format!("listing `{}`: {cause}", crate::fetch::redact(url)))
            })?;
            let status = response.status();
            if status.as_u16() == 429 || status.as_u16() == 503 {
                let asked = crate::fetch::retry_after(response.headers(), Timestamp::now());
                if let Some(asked) = asked.filter(|a| *a > MAX_RETRY_AFTER) {
                    return Err(self.error(format!(
                        "`{url}` is busy and asks to wait {} s; run again later",
                        asked.as_secs()
                    )));
                }
                let wait = asked.unwrap_or(backoff);
                warn!(%url, status = status.as_u16(), "archive busy; waiting {} s", wait.as_secs());
                if attempt == LIST_ATTEMPTS {
                    break;
                }
                tokio::time::sleep(wait).await;
                backoff = backoff.saturating_mul(2);
                continue;
            }
            if status.as_u16() == 404 && self.archive.kind == ArchiveKind::Memento {
                // A TimeMap answers 404 for a page with no mementos (RFC 7089).
                return Ok(String::new());
            }
            if !status.is_success() {
                let hint = if status.as_u16() == 404 {
                    " (is `url` the archive's base URL?)"
                } else {
                    ""
                };
                return Err(self.error(format!("`{url}` answered {status}{hint}")));
            }
            let mut response = response;
            let mut body = Vec::new();
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        if body.len() + chunk.len() > MAX_LISTING_BYTES {
                            self.pacer.done();
                            return Err(self.error(format!(
                                "`{url}`: the listing is over {} MiB; ask for a shorter \
                                 period (--from, --to)",
                                MAX_LISTING_BYTES >> 20
                            )));
                        }
                        body.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        self.pacer.done();
                        let cause = crate::fetch::transport_cause(&e).0;
                        return Err(
                            self.error(format!("listing `{}`: {cause}", crate::fetch::redact(url)))
                        );
                    }
                }
            }
            self.pacer.done();
            return String::from_utf8(body)
                .map_err(|_| self.error(format!("`{url}`: the listing is not UTF-8 text")));
        }
        Err(self.error(format!(
            "`{url}` stayed busy after {LIST_ATTEMPTS} attempts; run again later to resume"
        )))
    }

    /// Imports `captures` (oldest first), then links each imported
    /// snapshot to the snapshot after it.
    ///
    /// # Errors
    /// [`Error::Archive`] when the archive stops answering (what was
    /// imported stays; a later run resumes); [`Error::Store`].
    pub async fn import(&mut self, captures: &[Capture]) -> Result<Summary> {
        let mut summary = Summary {
            listed: captures.len(),
            ..Summary::default()
        };
        for (done, capture) in captures.iter().enumerate() {
            // A capture's only await points (the pause, the fetch) come before
            // anything of it is recorded, so dropping it there loses nothing.
            let outcome = match self.stop.clone() {
                Some(mut stop) => {
                    let stopped = async move {
                        while !*stop.borrow_and_update() {
                            if stop.changed().await.is_err() {
                                std::future::pending::<()>().await;
                            }
                        }
                    };
                    tokio::select! {
                        biased;
                        () = stopped => None,
                        outcome = self.import_one(capture, &mut summary) => Some(outcome?),
                    }
                }
                None => Some(self.import_one(capture, &mut summary).await?),
            };
            let Some(outcome) = outcome else {
                return Err(self.error(format!(
                    "stopped by a signal after {done} of {} captures; run again to resume",
                    captures.len()
                )));
            };
            (self.on_capture)(capture, &outcome);
        }
        summary.linked = self.link()?;
        Ok(summary)
    }

    /// One capture: skipped when looked at before, else fetched, refused
    /// or compared and stored. Returns what became of it, in a word.
    async fn import_one(&mut self, capture: &Capture, summary: &mut Summary) -> Result<String> {
        let target = self.target;
        let archive = self.archive.name.as_str();
        if let Some(done) = self
            .store
            .capture_looked_at(&target.id, archive, &capture.timestamp)?
        {
            summary.earlier += 1;
            return Ok(format!("{done} earlier"));
        }
        let archived = Archived {
            archive: archive.to_string(),
            // Credentials in the archive's URL are never stored or shown.
            url: crate::fetch::redact(&capture.replay),
            timestamp: capture.timestamp.clone(),
            original: capture.original.clone(),
            digest: capture.digest.clone(),
        };
        if let Some(why) = out_of_place(capture, &target.url, Timestamp::now()) {
            return self.refuse(capture, &archived, summary, why);
        }
        // The same bytes as the capture just before it (looked at by an
        // earlier run; the CDX server collapses repeats within one
        // listing): nothing to fetch. A repeat further back is fetched: the
        // page may have returned to it (a revert).
        if let Some(digest) = &capture.digest
            && let Some((before, Some(seen))) =
                self.store
                    .capture_before(&target.id, archive, &capture.timestamp)?
            && seen == *digest
        {
            let note = format!("the same bytes as capture {before}");
            self.store.record_capture(
                &target.id,
                target.url.as_str(),
                &archived,
                CaptureOutcome::Duplicate,
                Some(&note),
            )?;
            summary.duplicates += 1;
            return Ok("duplicate".into());
        }
        let refuse = |this: &mut Self, summary: &mut Summary, why: String| {
            this.refuse(capture, &archived, summary, why)
        };
        self.pacer.wait().await;
        let started = std::time::Instant::now();
        let fetched = self
            .fetcher
            .fetch_within(&capture.replay, None, Reach::for_url(&capture.replay, None))
            .await;
        self.pacer.done();
        let mut page = match fetched {
            Ok(crate::fetch::Fetched::Page(p)) => p,
            Ok(crate::fetch::Fetched::NotModified) => {
                return refuse(self, summary, "the archive answered 304".into());
            }
            Err(e) if e.is_transient() => {
                // Left for the next run (nothing recorded); an archive that
                // fails several captures in a row has stopped answering.
                self.failing += 1;
                if self.failing >= STOP_AFTER_FAILURES {
                    return Err(self.error(format!(
                        "stopped answering ({STOP_AFTER_FAILURES} captures in a row failed; the \
                         last, {}: {e}); run again to resume",
                        capture.timestamp
                    )));
                }
                warn!(target = %target.id, capture = %capture.timestamp, "not fetched: {e}");
                summary
                    .failed
                    .push((capture.timestamp.clone(), e.to_string()));
                return Ok("not fetched (tried again next run)".into());
            }
            Err(e) => {
                // The archive answered: it is not down.
                self.failing = 0;
                return refuse(self, summary, refusal_of_fetch(&e));
            }
        };
        self.failing = 0;
        // A replay that redirected to another page, to another capture time
        // (the archive's nearest) or away from the archive's captures is
        // not this capture.
        match replay_timestamp(&page.final_url) {
            Some(other) => {
                let original = replayed_original(&page.final_url).unwrap_or_default();
                let elsewhere = Url::parse(&original)
                    .map_or(true, |o| !crate::fetch::same_page(&target.url, &o));
                if elsewhere {
                    return refuse(
                        self,
                        summary,
                        format!("the capture redirects to another page ({original})"),
                    );
                }
                if other != capture.timestamp {
                    return refuse(
                        self,
                        summary,
                        format!("the archive replayed capture {other} in its place"),
                    );
                }
            }
            None if page.final_url != archived.url => {
                return refuse(
                    self,
                    summary,
                    format!(
                        "the archive redirected the replay away from its captures ({})",
                        page.final_url
                    ),
                );
            }
            None => {}
        }
        // The body is stored as received; the archive's inserts (a toolbar
        // in a replay that should have had none) are left out of what is
        // read (`archive::extract_row` does the same on re-extraction).
        page.decode(target.charset);
        let (body, banner) = strip_archive_inserts(&page.body);
        let mut view = page.clone();
        if banner {
            view.body = body;
            view.decode(target.charset);
        }
        if let Some(what) = archive_own_page(&view.body) {
            return refuse(
                self,
                summary,
                format!("the archive served {what}, not a capture"),
            );
        }
        if let Some(e) = view.undecodable() {
            return refuse(self, summary, e.to_string());
        }
        if !crate::layout::closes(&view.body) {
            return refuse(
                self,
                summary,
                "the replayed body looks cut (it does not close its document)".into(),
            );
        }
        let document = match crate::monitor::extract_page(target, &view) {
            Ok(d) => d,
            Err(Error::Extract { source, .. }) => return refuse(self, summary, source.to_string()),
            Err(e) => return Err(e),
        };
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.store_capture(
            capture,
            &archived,
            &page,
            &document,
            banner,
            duration_ms,
            summary,
        )
    }

    /// Records `capture` as refused, with why, and says so.
    ///
    /// # Errors
    /// [`Error::Store`].
    fn refuse(
        &mut self,
        capture: &Capture,
        archived: &Archived,
        summary: &mut Summary,
        why: String,
    ) -> Result<String> {
        let target = self.target;
        info!(target = %target.id, capture = %capture.timestamp, "refused: {why}");
        self.store.record_capture(
            &target.id,
            target.url.as_str(),
            archived,
            CaptureOutcome::Refused,
            Some(&why),
        )?;
        summary.refused.push((capture.timestamp.clone(), why));
        Ok("refused".into())
    }

    /// Compares an extracted capture with the snapshot before it and
    /// stores it when it differs.
    #[allow(clippy::too_many_arguments)]
    fn store_capture(
        &mut self,
        capture: &Capture,
        archived: &Archived,
        page: &FetchedPage,
        document: &Document,
        banner: bool,
        duration_ms: i64,
        summary: &mut Summary,
    ) -> Result<String> {
        let target = self.target;
        let before = self.store.snapshot_at_or_before(&target.id, capture.at)?;
        let previous = before
            .map(|row| self.store.with_document(row))
            .transpose()?;
        let mut revision = previous
            .as_ref()
            .and_then(|p| crate::diff::revision(&p.document, document, &self.diff));
        let mut technical = false;
        let mut notes = vec![format!(
            "imported from `{}`: capture of {}",
            archived.archive,
            capture.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        )];
        if banner {
            notes.push(
                "the replay carried the archive's toolbar: kept in the stored body, left out of \
                 the extraction"
                    .into(),
            );
        }
        if let Some(previous) = &previous {
            if revision.is_none() {
                let note = format!("the same document and stamp as snapshot {}", previous.id);
                self.store.record_capture(
                    &target.id,
                    target.url.as_str(),
                    archived,
                    CaptureOutcome::Unchanged,
                    Some(&note),
                )?;
                summary.unchanged += 1;
                return Ok("unchanged".into());
            }
            if let Some(change) = crate::layout::template_change(&previous.document, document) {
                // Another page in this one's place (an interstitial, a login
                // page) shares little of its text: refused, as `check` does.
                if crate::layout::unlike(&previous.document, document) {
                    let why = format!(
                        "another page in this one's place: the template changed and it shares \
                         {:.0}% of the text of snapshot {}",
                        crate::layout::shared_text(&previous.document, document) * 100.0,
                        previous.id
                    );
                    return self.refuse(capture, archived, summary, why);
                }
                let warning = change.warning(&target.rules);
                if crate::layout::redesign_only(&previous.document, document, revision.as_ref())
                    .is_some()
                {
                    technical = true;
                } else if let Some(stamp_only) =
                    crate::layout::restamped(&previous.document, document, revision.as_ref())
                {
                    revision = Some(stamp_only);
                }
                notes.push(format!("layout changed: {warning}"));
            }
        }
        let note = notes.join("; ");
        let redline_md = match (&previous, &revision) {
            (Some(p), Some(r)) => {
                let mut shown = p.row.clone();
                shown.captured_at = capture.at;
                shown.source = Some(archived.archive.clone());
                shown.source_url = Some(archived.url.clone());
                let notes = crate::archive::source_notes(&p.row, &shown);
                Some(render_markdown(target, p, document, r, capture.at, notes)?)
            }
            _ => None,
        };
        let content_hash = document.fingerprint();
        let recorded = self.store.record_snapshot(NewSnapshot {
            target: &target.id,
            url: target.url.as_str(),
            page,
            document,
            captured_at: capture.at,
            started_at: capture.at,
            duration_ms,
            previous: previous.as_ref().map(|p| p.id),
            revision: revision.as_ref(),
            redline_markdown: redline_md.as_deref(),
            alerts: None,
            technical,
            note: Some(&note),
            source_fingerprint: None,
            source_mask: None,
            content_hash: Some(&content_hash),
            archived: Some(archived),
        })?;
        info!(
            target = %target.id,
            capture = %capture.timestamp,
            snapshot = %recorded.snapshot_id,
            kind = revision.as_ref().map_or("baseline", |r| r.kind.as_str()),
            "imported"
        );
        summary.stored += 1;
        Ok(match &revision {
            Some(r) if technical => format!("stored (layout changed; {})", r.kind),
            Some(r) => format!("stored ({})", r.kind),
            None => "stored (first snapshot)".into(),
        })
    }

    /// Gives each imported snapshot of the target the revision to the
    /// snapshot after it in capture order, when they differ and none is
    /// stored. Returns how many were added.
    fn link(&mut self) -> Result<usize> {
        let target = self.target;
        let rows = self.store.snapshots_in_order(&target.id)?;
        let mut added = 0;
        for pair in rows.windows(2) {
            let (old, new) = (&pair[0], &pair[1]);
            if old.source.is_none() && new.source.is_none() {
                continue;
            }
            if self.store.has_revision_between(old.id, new.id)? {
                continue;
            }
            let old_doc = self.store.with_document(old.clone())?;
            let new_doc = self.store.with_document(new.clone())?;
            if let Some(revision) =
                crate::diff::revision(&old_doc.document, &new_doc.document, &self.diff)
            {
                self.store.record_found_revision(
                    &target.id,
                    old.id,
                    new.id,
                    &revision,
                    new.captured_at,
                )?;
                added += 1;
            }
        }
        Ok(added)
    }
}

/// Why a replay that failed for good is not a capture, in one line.
fn refusal_of_fetch(e: &FetchError) -> String {
    match e {
        FetchError::Status { status, .. } => {
            format!("the archive answered {status} for the replay (an archive error page)")
        }
        other => other.to_string(),
    }
}

/// The redline of an imported capture as `redline.md` keeps it.
fn render_markdown(
    target: &Target,
    previous: &crate::store::StoredSnapshot,
    document: &Document,
    revision: &crate::revision::Revision,
    at: Timestamp,
    notes: Vec<String>,
) -> Result<String> {
    let redline = Redline {
        notes,
        ..Redline::of_capture(target, previous, document, revision.clone(), at)
    };
    crate::report::render_plain(&redline, Format::Markdown).map_err(|source| Error::System {
        what: "rendering the redline",
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wayback_times_read_and_padded() {
        assert_eq!(
            parse_timestamp("20120302153800").unwrap().to_string(),
            "2012-03-02T15:38:00Z"
        );
        assert_eq!(
            parse_timestamp("2012").unwrap().to_string(),
            "2012-01-01T00:00:00Z"
        );
        assert!(parse_timestamp("20121302153800").is_none());
        assert!(parse_timestamp("2012x").is_none());
        assert_eq!(bound("2012-03-02").unwrap(), "20120302");
        assert_eq!(bound("2012").unwrap(), "2012");
        assert!(bound("yesterday").is_err());
        assert!(bound("-2012").is_err());
        assert!(bound("10000").is_err());
        assert!(bound("1066").is_err());
    }

    #[test]
    fn cdx_rows_become_captures_without_repeats_or_other_statuses() {
        let base = Url::parse("http://127.0.0.1:9/").unwrap();
        let json = r#"[["timestamp","original","statuscode","mimetype","digest"],
            ["20060329185400","http://www.nato.int:80/x.htm","200","text/html","AAA"],
            ["20080611120000","http://www.nato.int:80/x.htm","200","text/html","BBB"],
            ["20080702093000","http://www.nato.int:80/x.htm","200","text/html","BBB"],
            ["20110901000000","http://www.nato.int:80/x.htm","302","text/html","CCC"]]"#;
        let got = parse_cdx(json, &base, "id_").unwrap();
        assert_eq!(
            got.iter().map(|c| c.timestamp.as_str()).collect::<Vec<_>>(),
            ["20060329185400", "20080611120000"]
        );
        assert_eq!(
            got[0].replay.as_str(),
            "http://127.0.0.1:9/web/20060329185400id_/http://www.nato.int:80/x.htm"
        );
        assert_eq!(parse_cdx("[]", &base, "id_").unwrap(), vec![]);
        assert!(parse_cdx("<html>", &base, "id_").is_err());
    }

    #[test]
    fn timemap_mementos_are_read_in_time_order_and_made_raw() {
        let base = Url::parse("http://127.0.0.1:9/timemap/link/http://x/").unwrap();
        let map = "<http://x/>; rel=\"original\",\n\
            <http://127.0.0.1:9/timemap/link/http://x/>; rel=\"self\"; type=\"application/link-format\",\n\
            <http://127.0.0.1:9/wayback/20120302153800/http://x/>; rel=\"first memento\"; datetime=\"Fri, 02 Mar 2012 15:38:00 GMT\",\n\
            <http://127.0.0.1:9/wayback/20100204113000/http://x/>; rel=\"memento\"; datetime=\"Thu, 04 Feb 2010 11:30:00 GMT\",\n\
            <http://127.0.0.1:9/wayback/20200910143000/http://x/>; rel=\"last memento\"; datetime=\"Thu, 10 Sep 2020 14:30:00 GMT\"\n";
        let got = parse_timemap(map, &base, true, "http://x/").unwrap();
        assert_eq!(
            got.iter().map(|c| c.timestamp.as_str()).collect::<Vec<_>>(),
            ["20100204113000", "20120302153800", "20200910143000"]
        );
        assert_eq!(
            got[0].replay.as_str(),
            "http://127.0.0.1:9/wayback/20100204113000id_/http://x/"
        );
        assert_eq!(got[0].original, "http://x/");
    }

    #[test]
    fn archive_inserts_are_removed_and_replays_read() {
        let body = b"<html><head><script src=\"//archive.org/includes/athena.js\"></script>\n<!-- End Wayback Rewrite JS Include -->\n</head><body><!-- BEGIN WAYBACK TOOLBAR INSERT --><div id=\"wm-ipp\">The Wayback Machine</div><!-- END WAYBACK TOOLBAR INSERT --><p>Text</p></body></html>\n<!--\n     FILE ARCHIVED ON 06:15:00 Aug 30, 2024 AND RETRIEVED FROM THE\n     INTERNET ARCHIVE ON 10:00:00 Dec 05, 2026.\n-->";
        let (out, found) = strip_archive_inserts(body);
        assert!(found);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<html><head>\n</head><body><p>Text</p></body></html>\n"
        );
        assert_eq!(
            archive_own_page(b"<p>Hrm.</p><p>Wayback Machine has not archived that URL.</p>"),
            Some("the Wayback Machine's page for a URL it has not archived")
        );
        assert_eq!(archive_own_page(b"<html><p>NATO</p></html>"), None);
        let (pywb, found) = strip_archive_inserts(
            b"<body><!-- WB Insert --><div>banner</div><!-- End WB Insert --><p>x</p></body>",
        );
        assert!(found);
        assert_eq!(pywb, b"<body><p>x</p></body>");
        assert_eq!(
            replay_timestamp("http://a/web/20110901000000id_/http://www.nato.int/").as_deref(),
            Some("20110901000000")
        );
        assert_eq!(
            replayed_original("http://a/web/20110901000000id_/http://www.nato.int/").as_deref(),
            Some("http://www.nato.int/")
        );
    }
}
