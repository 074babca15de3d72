//! Link targets as compared: each `href` resolved and stripped of what changes
//! per request or per visit, so that only a real change of target is a change.
//!
//! - Same-page links (`#x`, or the page's own URL, canonical URL or file name
//!   followed by a fragment naming an element of the page) compare as the
//!   fragment only: `#x`.
//! - Session ids are removed from paths (`;jsessionid=...`, nato.int's
//!   `;SID-XXXXXXXX-XXXXXXXX` and `/SID-XXXXXXXX-XXXXXXXX/`, ASP.NET's
//!   `/(S(...))/`) and from queries (`PHPSESSID`, `sid`, `sessionid`,
//!   `ASPSESSIONID*`, `CFID`/`CFTOKEN`, ...).
//! - Tracking parameters are removed from queries (`utm_*`, `fbclid`, `gclid`,
//!   `msclkid`, `mc_cid`, `_ga`, govdelivery's `deliveryName`, CDC's
//!   `ACSTrackingID`, ...).
//! - Cache-busting parameters (`v`, `ver`, `version`, `ts`, `timestamp`, `_`,
//!   `cb`, `t`, `itok`, ...) are removed from links to static files (PDF,
//!   images, CSS, scripts, fonts, office documents) and WordPress files, and,
//!   anywhere, when their value is a Unix time: the file is the same file.
//!   Content-bearing queries (`?id=123`, `?lang=fr`) are kept.
//! - A same-page fragment whose id is generated (`#fn1-4821`, `#h-7fa3`)
//!   compares as its stable part (`#fn1`), or, when no stable part is left, as
//!   the text of the element it names (`#before-you-apply`).
//! - Links to the page's own host compare with the page's scheme and host
//!   (`http://nato.int/x` and `https://www.nato.int/x` alike).
//! - Cloudflare e-mail obfuscation (`/cdn-cgi/l/email-protection#HEX`, whose
//!   hex changes per request) is decoded to `mailto:ADDRESS`: the address is
//!   content, the hex is not.
//! - The rules' `ignore_link` regexes are removed from what is left; a link left
//!   with no target is dropped from the block (its text stays).
//!
//! A page read from a local file has no URL: its links are resolved against one
//! synthetic base and written back as written (relative, or root-relative
//! `/img/map.png`), so two identical files in different folders give identical
//! links; absolute links to the host of the file's canonical URL are written
//! root-relative, as the same link written relative is.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use scraper::{Html, Selector};
use url::Url;

/// The base that stands for a page read from a local file.
const LOCAL_BASE: &str = "file:///redliner-local/page";

/// Where Cloudflare points an obfuscated `mailto:` link; the hex follows the `#`.
const CLOUDFLARE_EMAIL: &str = "/cdn-cgi/l/email-protection";

/// A path parameter (after `;`) or path segment that is a session id. Sources:
/// Java servlets (`;jsessionid=`), nato.int's CMS (`;SID-7F3A2B1C-9D8E7F6A`,
/// also as a whole segment), ASP.NET cookieless sessions (`(S(lit3py55t21z))`,
/// `(X(1)S(...))`), PHP (`;PHPSESSID=`).
static SESSION_SEGMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^(?:
            (?:jsessionid|phpsessid|sid|sessionid|session_id|sessid|cfid|cftoken|zenid|oscsid|aspsessionid\w*)=.*
          | sid-[0-9a-f]{4,}(?:-[0-9a-f]{4,})+
          | \((?:[a-z]\([^)]*\))+\)
        )$",
    )
    .expect("constant session segment regex compiles")
});

/// Query keys (lowercase) that carry a session id or track a visit. Sources:
/// the session cookies of Java, PHP, ASP, ColdFusion and osCommerce; the click
/// ids of Google, Facebook, Microsoft, Yandex, Instagram, TikTok, Twitter;
/// Mailchimp, HubSpot, Marketo, govdelivery and CDC's `ACSTracking*`.
const VOLATILE_KEYS: &[&str] = &[
    "jsessionid",
    "phpsessid",
    "sid",
    "sessionid",
    "session_id",
    "sessid",
    "cfid",
    "cftoken",
    "zenid",
    "oscsid",
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "yclid",
    "igshid",
    "ttclid",
    "twclid",
    "mkt_tok",
    "deliveryname",
    "acstrackingid",
    "acstrackinglabel",
    "ref_src",
    "s_cid",
    "wt.mc_id",
    "pk_campaign",
    "pk_kwd",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
];

/// Query key prefixes (lowercase) of tracking parameter families.
const VOLATILE_PREFIXES: &[&str] = &["utm_", "aspsessionid", "mtm_", "matomo_", "hsa_"];

/// Query keys (lowercase) that bust caches: the same file under a new build
/// number or time. Sources: WordPress (`ver`), Drupal image styles (`itok`),
/// jQuery's `cache: false` (`_`), and the usual asset-pipeline names.
const CACHE_KEYS: &[&str] = &[
    "v",
    "ver",
    "version",
    "vers",
    "rev",
    "ts",
    "t",
    "timestamp",
    "time",
    "_",
    "cb",
    "cachebuster",
    "cachebust",
    "cache",
    "nocache",
    "bust",
    "itok",
    "build",
    "hash",
    "h",
    "m",
    "mtime",
    "modified",
];

/// File extensions (lowercase) of static files, whose query can only bust a
/// cache: documents, images, styles, scripts, fonts, media, archives.
const STATIC_EXTENSIONS: &[&str] = &[
    "pdf", "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp", "tif", "tiff", "css",
    "js", "mjs", "woff", "woff2", "ttf", "otf", "eot", "doc", "docx", "xls", "xlsx", "ppt", "pptx",
    "odt", "ods", "odp", "rtf", "csv", "zip", "epub", "mp3", "mp4", "webm", "ogg", "wav",
];

/// A Unix time in seconds or milliseconds (2001 to 2286): a cache-buster
/// whatever the file.
static UNIX_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[1-9]\d{9}|[1-9]\d{12})$").expect("constant unix time regex compiles")
});

/// A `-`/`_` part of an element id that a CMS generates per build: four or
/// more digits that are no year (`4821`), four or more hex digits mixing
/// letters and digits (`7fa3`), or a long run of letters and digits with a
/// digit (`x8k2j9q1`).
static GENERATED_ID_PART: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\d{4,}|[0-9a-f]{4,}|[0-9a-z]{8,})$").expect("constant id part regex compiles")
});

/// How a page's links are normalised; built once per page.
#[derive(Debug)]
pub(crate) struct Links<'r> {
    /// What relative targets are resolved against.
    base: Url,
    /// The page came from a local file: targets are written back relative to
    /// `base`.
    local: bool,
    /// The page's own URLs (its URL, canonical and `og:url`), cleaned, no fragment.
    own: Vec<Url>,
    /// Element ids and anchor names in the page, each with the text of its
    /// element (whitespace collapsed): the fragments a same-page link can
    /// name, and what they point at.
    ids: HashMap<String, String>,
    /// The rules' `ignore_link` regexes.
    ignore: &'r [Regex],
}

impl<'r> Links<'r> {
    /// The normaliser for one page. `page` is the page's URL (`None` for a local
    /// file); `base` is what relative links resolve against (the page URL after
    /// any `<base href>`).
    pub(crate) fn new(
        doc: &Html,
        page: Option<&Url>,
        base: Option<&Url>,
        ignore: &'r [Regex],
    ) -> Links<'r> {
        let local = page.is_none() && base.is_none();
        let synthetic = || Url::parse(LOCAL_BASE).expect("constant local base parses");
        let base = base.cloned().unwrap_or_else(synthetic);
        let mut own: Vec<Url> = page.cloned().into_iter().collect();
        if local {
            own.push(base.clone());
        }
        for (css, attr) in [
            ("link[rel~=canonical][href]", "href"),
            ("meta[property=\"og:url\"][content]", "content"),
        ] {
            let sel = Selector::parse(css).expect("constant selector parses");
            own.extend(
                doc.select(&sel)
                    .filter_map(|e| e.attr(attr))
                    .filter_map(|h| base.join(h.trim()).ok()),
            );
        }
        for url in &mut own {
            clean(url);
            url.set_fragment(None);
        }
        let sel = Selector::parse("[id], a[name]").expect("constant selector parses");
        let mut ids = HashMap::new();
        for e in doc.select(&sel) {
            let text = || {
                super::chrome::visible_text(e)
                    .flat_map(str::split_whitespace)
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            for id in [e.attr("id"), e.attr("name")].into_iter().flatten() {
                let id = id.trim();
                if !id.is_empty() && !ids.contains_key(id) {
                    ids.insert(id.to_string(), text());
                }
            }
        }
        Links {
            base,
            local,
            own,
            ids,
            ignore,
        }
    }

    /// The target of a link as compared, or `None` when it is no link
    /// (`javascript:`, empty, or emptied by `ignore_link`).
    pub(crate) fn href(&self, raw: &str) -> Option<String> {
        let raw = raw.trim();
        if raw.is_empty()
            || raw
                .get(..11)
                .is_some_and(|s| s.eq_ignore_ascii_case("javascript:"))
        {
            return None;
        }
        if let Some(address) = cloudflare_href(raw) {
            return self.filtered(format!("mailto:{address}"));
        }
        let Ok(mut url) = self.base.join(raw) else {
            return self.filtered(raw.to_string());
        };
        clean(&mut url);
        if raw.starts_with('#') || self.same_page(&url, raw) {
            let fragment = url.fragment().unwrap_or_default();
            return self.filtered(format!("#{}", self.stable_fragment(fragment)));
        }
        let own_host = self.own_web(&url);
        let text = if self.local {
            if own_host.is_some() || (url.scheme() == "file" && root_relative(raw)) {
                // As written on the site: `/img/map.png`, same for both forms.
                let mut path = url.path().to_string();
                if let Some(q) = url.query() {
                    path.push('?');
                    path.push_str(q);
                }
                if let Some(f) = url.fragment() {
                    path.push('#');
                    path.push_str(f);
                }
                path
            } else {
                self.base
                    .make_relative(&url)
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| url.to_string())
            }
        } else {
            if let Some(own) = own_host {
                // Setting a web scheme and a host on a web URL cannot fail.
                let _ = url.set_scheme(own.scheme());
                let _ = url.set_host(own.host_str());
                let _ = url.set_port(own.port());
            }
            url.to_string()
        };
        self.filtered(text)
    }

    /// The page's own web URL whose host (a `www.` prefix aside) is `url`'s,
    /// when `url` is a web URL.
    fn own_web(&self, url: &Url) -> Option<&Url> {
        let web = |u: &Url| matches!(u.scheme(), "http" | "https");
        let host = |u: &Url| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_string())
        };
        if !web(url) || url.host_str().is_none() {
            return None;
        }
        self.own
            .iter()
            .find(|own| web(own) && host(own) == host(url))
    }

    /// A same-page fragment as compared: its generated parts removed when it
    /// names an element of the page (`fn1-4821` → `fn1`), or the element's text
    /// as a slug when no stable part is left (`h-7fa3` → `before-you-apply`).
    /// Anything else as written.
    fn stable_fragment(&self, fragment: &str) -> String {
        let decoded = percent_decode(fragment);
        let Some(target) = self.ids.get(fragment).or_else(|| self.ids.get(&decoded)) else {
            return fragment.to_string();
        };
        let parts: Vec<&str> = decoded.split(['-', '_', ':', '.']).collect();
        let generated = |p: &&str| {
            let lower = p.to_ascii_lowercase();
            GENERATED_ID_PART.is_match(&lower)
                && lower.chars().any(|c| c.is_ascii_digit())
                && !(lower.len() == 4
                    && (lower.starts_with("19") || lower.starts_with("20"))
                    && lower.chars().all(|c| c.is_ascii_digit()))
        };
        if !parts.iter().any(generated) {
            return fragment.to_string();
        }
        let stable: Vec<&str> = parts
            .iter()
            .filter(|p| !p.is_empty() && !generated(p))
            .copied()
            .collect();
        let stable = stable.join("-");
        if stable.chars().filter(|c| c.is_alphanumeric()).count() >= 2 {
            return stable;
        }
        let slug: Vec<String> = target
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .take(8)
            .map(str::to_lowercase)
            .collect();
        if slug.is_empty() {
            stable
        } else {
            slug.join("-")
        }
    }

    /// True when `url` (cleaned) names this page: one of its own URLs, or its
    /// file name (for a local file, any bare file name) with a fragment naming
    /// an element of the page.
    fn same_page(&self, url: &Url, raw: &str) -> bool {
        if self.own.iter().any(|own| same_resource(own, url)) {
            return true;
        }
        let Some(fragment) = url.fragment().filter(|f| !f.is_empty()) else {
            return false;
        };
        // The page's own path with another query and a fragment: the same
        // page (`topics_1.htm?selectedLocale=en#x`).
        if self.own.iter().any(|own| same_path(own, url)) {
            return true;
        }
        let decoded = percent_decode(fragment);
        if !self.ids.contains_key(fragment) && !self.ids.contains_key(&decoded) {
            return false;
        }
        let name = last_segment(url);
        let bare_file = raw
            .split(['#', '?'])
            .next()
            .is_some_and(|p| !p.contains([':', '/']));
        (self.local && bare_file)
            || self
                .own
                .iter()
                .any(|own| !name.is_empty() && last_segment(own) == name)
    }

    /// Removes the `ignore_link` matches; `None` when nothing is left.
    fn filtered(&self, mut href: String) -> Option<String> {
        for re in self.ignore {
            if re.is_match(&href) {
                href = re.replace_all(&href, "").into_owned();
            }
        }
        let href = href.trim();
        (!href.is_empty()).then(|| href.to_string())
    }
}

/// True when `raw` is written root-relative (`/img/map.png`, not `//host/x`).
fn root_relative(raw: &str) -> bool {
    raw.starts_with('/') && !raw.starts_with("//")
}

/// The address behind a Cloudflare-obfuscated link
/// (`/cdn-cgi/l/email-protection#HEX`, absolute or relative).
fn cloudflare_href(raw: &str) -> Option<String> {
    let at = raw.find(CLOUDFLARE_EMAIL)?;
    let hex = raw.get(at + CLOUDFLARE_EMAIL.len()..)?.strip_prefix('#')?;
    cloudflare_decode(hex)
}

/// Decodes Cloudflare's e-mail obfuscation: hex bytes, the first the key, each
/// other byte XORed with it gives the UTF-8 text (the scheme of Cloudflare's
/// `email-decode.min.js`). `None` when `hex` is not that.
pub(crate) fn cloudflare_decode(hex: &str) -> Option<String> {
    let bytes = hex::decode(hex.trim()).ok()?;
    let (&key, rest) = bytes.split_first()?;
    let text = String::from_utf8(rest.iter().map(|b| b ^ key).collect()).ok()?;
    (!text.is_empty() && !text.chars().any(char::is_control)).then_some(text)
}

/// Removes session ids from the path, and session, tracking and cache-busting
/// parameters from the query; an emptied query is removed.
fn clean(url: &mut Url) {
    if url.cannot_be_a_base() {
        return;
    }
    let path = url.path();
    if path.contains(';') || path.to_ascii_lowercase().contains("sid-") || path.contains('(') {
        let cleaned: Vec<String> = path
            .split('/')
            .filter(|seg| !SESSION_SEGMENT.is_match(&percent_decode(seg)))
            .map(|seg| {
                let mut parts = seg.split(';');
                let mut out = parts.next().unwrap_or_default().to_string();
                for p in parts {
                    if !SESSION_SEGMENT.is_match(&percent_decode(p)) {
                        out.push(';');
                        out.push_str(p);
                    }
                }
                out
            })
            .collect();
        let joined = cleaned.join("/");
        if joined != path {
            url.set_path(&joined);
        }
    }
    let path = url.path().to_ascii_lowercase();
    let extension = path
        .rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.to_string())
        .unwrap_or_default();
    let static_file = STATIC_EXTENSIONS.contains(&extension.as_str());
    let wordpress = path.contains("/wp-content/") || path.contains("/wp-includes/");
    if let Some(query) = url.query() {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .filter(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                let key = percent_decode(key).to_ascii_lowercase();
                let cache = CACHE_KEYS.contains(&key.as_str())
                    && (static_file
                        || (wordpress && key == "ver")
                        || UNIX_TIME.is_match(&percent_decode(value)));
                !(cache
                    || VOLATILE_KEYS.contains(&key.as_str())
                    || VOLATILE_PREFIXES.iter().any(|p| key.starts_with(p)))
            })
            .collect();
        let joined = kept.join("&");
        if joined.is_empty() {
            url.set_query(None);
        } else if joined != query {
            url.set_query(Some(&joined));
        }
    }
}

/// Same host, path and query per [`same_path`].
fn same_resource(a: &Url, b: &Url) -> bool {
    same_path(a, b) && a.query() == b.query()
}

/// Same host (a `www.` prefix aside) and path (a trailing `/` or directory
/// index file aside); `http` and `https` alike.
fn same_path(a: &Url, b: &Url) -> bool {
    let host = |u: &Url| {
        u.host_str()
            .map(|h| h.trim_start_matches("www.").to_string())
    };
    let path = |u: &Url| {
        let p = u.path();
        let p = [
            "index.html",
            "index.htm",
            "index.php",
            "default.aspx",
            "default.htm",
        ]
        .iter()
        .find_map(|index| p.strip_suffix(index))
        .unwrap_or(p);
        p.trim_end_matches('/').to_string()
    };
    let web = |u: &Url| matches!(u.scheme(), "http" | "https");
    let scheme = a.scheme() == b.scheme() || (web(a) && web(b));
    scheme && host(a) == host(b) && path(a) == path(b)
}

/// The last path segment (the file name), or `""`.
fn last_segment(url: &Url) -> String {
    url.path_segments()
        .and_then(|mut s| s.next_back())
        .map(percent_decode)
        .unwrap_or_default()
}

/// `%XX` escapes decoded (lossy), for comparing names.
fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("k={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "https://www.nato.int/cps/en/natohq/topics_49119.htm";

    fn links_for(html: &str, page: Option<&str>, ignore: &[Regex]) -> Vec<Option<String>> {
        let doc = Html::parse_document(html);
        let page = page.map(|p| Url::parse(p).unwrap());
        let links = Links::new(&doc, page.as_ref(), page.as_ref(), ignore);
        let sel = Selector::parse("a[href]").unwrap();
        doc.select(&sel)
            .map(|a| a.attr("href").and_then(|h| links.href(h)))
            .collect()
    }

    /// (href as written, as compared) on the NATO page, with `<h2 id="x">`.
    fn check(cases: &[(&str, Option<&str>)], page: Option<&str>, ignore: &[Regex]) {
        let anchors: String = cases
            .iter()
            .map(|(h, _)| {
                format!(
                    "<a href=\"{}\">l</a>",
                    html_escape::encode_double_quoted_attribute(h)
                )
            })
            .collect();
        let html = format!(
            "<html><head><link rel=canonical href=\"{PAGE}\"></head>\
             <body><h2 id=x>X</h2><a name=old-name></a>{anchors}</body></html>"
        );
        let got = links_for(&html, page, ignore);
        let got: Vec<(&str, Option<&str>)> = cases
            .iter()
            .zip(&got)
            .map(|((h, _), g)| (*h, g.as_deref()))
            .collect();
        assert_eq!(got, cases);
    }

    #[test]
    fn resolved_and_written_out_normalised() {
        check(
            &[
                (
                    "topics_1.htm",
                    Some("https://www.nato.int/cps/en/natohq/topics_1.htm"),
                ),
                ("  /a b ", Some("https://www.nato.int/a%20b")),
                (
                    "HTTPS://WWW.NATO.INT:443/cps/en/natohq/../natohq/topics_1.htm",
                    Some("https://www.nato.int/cps/en/natohq/topics_1.htm"),
                ),
                ("mailto:x@nato.int", Some("mailto:x@nato.int")),
                ("JavaScript:go()", None),
                ("", None),
                (
                    "topics_49276.htm#x",
                    Some("https://www.nato.int/cps/en/natohq/topics_49276.htm#x"),
                ),
                (
                    "?page=2",
                    Some("https://www.nato.int/cps/en/natohq/topics_49119.htm?page=2"),
                ),
                (
                    "/search?q=belarus&lang=en",
                    Some("https://www.nato.int/search?q=belarus&lang=en"),
                ),
            ],
            Some(PAGE),
            &[],
        );
    }

    #[test]
    fn same_page_links_compare_as_the_fragment() {
        let cases = [
            ("#x", Some("#x")),
            ("#", Some("#")),
            ("topics_49119.htm#x", Some("#x")),
            (
                "https://www.nato.int/cps/en/natohq/topics_49119.htm#x",
                Some("#x"),
            ),
            (
                "http://nato.int/cps/en/natohq/topics_49119.htm#x",
                Some("#x"),
            ),
            ("/cps/en/natohq/topics_49119.htm?utm_source=x#x", Some("#x")),
            ("topics_49119.htm?selectedLocale=en#x", Some("#x")),
            ("topics_49119.htm#old-name", Some("#old-name")),
            ("topics_49119.htm", Some("#")),
            (
                "topics_49119.htm?selectedLocale=en#no-such-id",
                Some("#no-such-id"),
            ),
            // another page's anchor, or this file name's unknown anchor elsewhere
            (
                "/cps/fr/natohq/topics_49119.htm?selectedLocale=fr",
                Some("https://www.nato.int/cps/fr/natohq/topics_49119.htm?selectedLocale=fr"),
            ),
            (
                "topics_2.htm#x",
                Some("https://www.nato.int/cps/en/natohq/topics_2.htm#x"),
            ),
        ];
        check(&cases, Some(PAGE), &[]);
        // A page served under another URL knows itself by its canonical URL.
        check(
            &cases[..9],
            Some("https://www.nato.int/cps/en/natohq/topics_49119.htm?selectedLocale=en"),
            &[],
        );
    }

    #[test]
    fn a_directory_index_is_its_directory() {
        let cases = [
            ("/lyme/signs/#early", Some("#early")),
            ("/lyme/signs/index.html#early", Some("#early")),
            ("/lyme/signs#early", Some("#early")),
            (
                "/lyme/other/index.html#early",
                Some("https://www.cdc.gov/lyme/other/index.html#early"),
            ),
        ];
        let anchors: String = cases
            .iter()
            .map(|(h, _)| format!("<a href=\"{h}\">l</a>"))
            .collect();
        let got = links_for(
            &format!("<body>{anchors}</body>"),
            Some("https://www.cdc.gov/lyme/signs/index.html"),
            &[],
        );
        let want: Vec<Option<String>> = cases.iter().map(|(_, w)| w.map(String::from)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn session_ids_are_removed() {
        let cases = [
            (
                "/cps/en/natohq/topics_1.htm;SID-7F3A2B1C-9D8E7F6A",
                Some("https://www.nato.int/cps/en/natohq/topics_1.htm"),
            ),
            (
                "/cps/en/SID-7F3A2B1C-9D8E7F6A/natohq/topics_1.htm",
                Some("https://www.nato.int/cps/en/natohq/topics_1.htm"),
            ),
            (
                "/docs/a.jsp;jsessionid=0A1B2C3D4E5F?x=1",
                Some("https://www.nato.int/docs/a.jsp?x=1"),
            ),
            (
                "/a.php?PHPSESSID=abc123&id=7",
                Some("https://www.nato.int/a.php?id=7"),
            ),
            (
                "/a.php?id=7&sid=abc123",
                Some("https://www.nato.int/a.php?id=7"),
            ),
            ("/a?sessionid=1", Some("https://www.nato.int/a")),
            (
                "/a.asp?ASPSESSIONIDQQGGQTAR=XYZ&p=1",
                Some("https://www.nato.int/a.asp?p=1"),
            ),
            (
                "/a.cfm?CFID=123&CFTOKEN=456",
                Some("https://www.nato.int/a.cfm"),
            ),
            (
                "/(S(lit3py55t21z5v55vlm25s55))/default.aspx",
                Some("https://www.nato.int/default.aspx"),
            ),
            // not session ids: kept
            ("/a;type=pdf", Some("https://www.nato.int/a;type=pdf")),
            ("/SID-history/a", Some("https://www.nato.int/SID-history/a")),
            ("/a?side=left", Some("https://www.nato.int/a?side=left")),
        ];
        check(&cases, Some(PAGE), &[]);
    }

    #[test]
    fn tracking_parameters_are_removed() {
        let cases = [
            (
                "/a?utm_source=x&utm_medium=email&utm_campaign=c",
                Some("https://www.nato.int/a"),
            ),
            ("/a?id=1&fbclid=IwAR0", Some("https://www.nato.int/a?id=1")),
            (
                "/a?gclid=1&dclid=2&msclkid=3",
                Some("https://www.nato.int/a"),
            ),
            (
                "/a?mc_cid=1&mc_eid=2&_ga=3&_gl=4",
                Some("https://www.nato.int/a"),
            ),
            (
                "/a?yclid=1&igshid=2&id=9",
                Some("https://www.nato.int/a?id=9"),
            ),
            (
                "/a?deliveryName=USCDC_1052-DM12345",
                Some("https://www.nato.int/a"),
            ),
            (
                "/a?ACSTrackingID=USCDC_1&ACSTrackingLabel=Weekly",
                Some("https://www.nato.int/a"),
            ),
            (
                "/a?UTM_Source=x&q=a+b",
                Some("https://www.nato.int/a?q=a+b"),
            ),
            ("/a?utm=1", Some("https://www.nato.int/a?utm=1")),
        ];
        check(&cases, Some(PAGE), &[]);
    }

    #[test]
    fn cloudflare_obfuscation_is_decoded() {
        // "info@nato.int" XOR 0x42, key first (as Cloudflare writes it).
        let hex = "422b2c242d022c23362d6c2b2c36";
        assert_eq!(cloudflare_decode(hex).as_deref(), Some("info@nato.int"));
        let cases = [
            (
                "/cdn-cgi/l/email-protection#422b2c242d022c23362d6c2b2c36",
                Some("mailto:info@nato.int"),
            ),
            (
                "https://www.nato.int/cdn-cgi/l/email-protection#0f666169604f616e7b602166617b",
                Some("mailto:info@nato.int"),
            ),
        ];
        check(&cases, Some(PAGE), &[]);
        for bad in ["", "zz", "42", "4241"] {
            assert_eq!(cloudflare_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn ignore_link_removes_matches_and_drops_emptied_links() {
        let ignore = [
            Regex::new(r"[?&]lang=\w+").unwrap(),
            Regex::new(r"^https://ads\.example\.org/.*").unwrap(),
        ];
        let cases = [
            ("/a?lang=en", Some("https://www.nato.int/a")),
            ("https://ads.example.org/click?id=1", None),
            ("/b", Some("https://www.nato.int/b")),
        ];
        check(&cases, Some(PAGE), &ignore);
    }

    #[test]
    fn local_files_keep_relative_links_as_written() {
        let cases = [
            ("topics_1.htm", Some("topics_1.htm")),
            ("../x/y.htm?utm_source=a", Some("../x/y.htm")),
            ("/abs/path.htm", Some("/abs/path.htm")),
            ("/img/map.png?v=123", Some("/img/map.png")),
            ("#x", Some("#x")),
            ("saved-name.htm#x", Some("#x")),
            ("saved-name.htm#nowhere", Some("saved-name.htm#nowhere")),
            ("https://example.org/a", Some("https://example.org/a")),
        ];
        let anchors: String = cases
            .iter()
            .map(|(h, _)| format!("<a href=\"{h}\">l</a>"))
            .collect();
        let html = format!("<body><h2 id=x>X</h2>{anchors}</body>");
        let got = links_for(&html, None, &[]);
        let want: Vec<Option<String>> = cases.iter().map(|(_, w)| w.map(String::from)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn cache_busting_parameters_are_removed_from_static_files() {
        let cases = [
            (
                "/a/schedule.pdf?v=1711",
                Some("https://www.nato.int/a/schedule.pdf"),
            ),
            (
                "/a/schedule.pdf?timestamp=1711000000",
                Some("https://www.nato.int/a/schedule.pdf"),
            ),
            (
                "/img/map.png?v=123",
                Some("https://www.nato.int/img/map.png"),
            ),
            (
                "/s/site.css?ver=6.4.3",
                Some("https://www.nato.int/s/site.css"),
            ),
            (
                "/s/app.js?_=1711000000000&cb=9",
                Some("https://www.nato.int/s/app.js"),
            ),
            (
                "/files/styles/large/photo.JPG?itok=aB3x_Z9q",
                Some("https://www.nato.int/files/styles/large/photo.JPG"),
            ),
            (
                "/f/report.xlsx?t=42",
                Some("https://www.nato.int/f/report.xlsx"),
            ),
            (
                "/wp-content/uploads/2024/01/form.pdf?ver=6.4.3",
                Some("https://www.nato.int/wp-content/uploads/2024/01/form.pdf"),
            ),
            (
                "/wp-content/plugins/x/page?ver=6.4.3",
                Some("https://www.nato.int/wp-content/plugins/x/page"),
            ),
            // a Unix time is a cache-buster on any link
            ("/news?ts=1711000000", Some("https://www.nato.int/news")),
            // content-bearing queries are kept
            (
                "/a/report.pdf?id=123",
                Some("https://www.nato.int/a/report.pdf?id=123"),
            ),
            (
                "/a/report.pdf?lang=fr&v=2",
                Some("https://www.nato.int/a/report.pdf?lang=fr"),
            ),
            ("/page.htm?v=2", Some("https://www.nato.int/page.htm?v=2")),
            ("/news?t=42", Some("https://www.nato.int/news?t=42")),
            (
                "/news?id=1711000000",
                Some("https://www.nato.int/news?id=1711000000"),
            ),
        ];
        check(&cases, Some(PAGE), &[]);
    }

    #[test]
    fn generated_fragment_ids_compare_by_what_they_name() {
        // (ids in the page with their element text, href, as compared)
        let cases = [
            ("fn1-4821", "1. Communique", "#fn1-4821", "#fn1"),
            ("ref1-9930", "1", "#ref1-9930", "#ref1"),
            ("h-7fa3", "Before you apply", "#h-7fa3", "#before-you-apply"),
            ("h-19bc", "Before you apply", "#h-19bc", "#before-you-apply"),
            ("a1b2c3d4", "Eligibility", "#a1b2c3d4", "#eligibility"),
            (
                "section-x8k2j9q1",
                "Fees",
                "/cps/en/natohq/topics_49119.htm#section-x8k2j9q1",
                "#section",
            ),
            // stable ids, years and short numbers are as written
            ("summit-2024", "Summit", "#summit-2024", "#summit-2024"),
            ("section-3", "Three", "#section-3", "#section-3"),
            ("faq", "FAQ", "#faq", "#faq"),
            ("decade", "Decade", "#decade", "#decade"),
            // a fragment naming no element is as written
            ("other", "x", "#fn1-4821", "#fn1-4821"),
        ];
        for (id, text, href, want) in cases {
            let html = format!(
                "<html><head><link rel=canonical href=\"{PAGE}\"></head>\
                 <body><p id=\"{id}\">{text}</p><a href=\"{href}\">l</a></body></html>"
            );
            let got = links_for(&html, Some(PAGE), &[]);
            assert_eq!(got, vec![Some(want.to_string())], "{id} {href}");
        }
    }

    #[test]
    fn links_to_the_own_host_compare_alike_however_written() {
        let cases = [
            (
                "http://www.nato.int/cps/en/natohq/topics_48818.htm",
                Some("https://www.nato.int/cps/en/natohq/topics_48818.htm"),
            ),
            (
                "https://nato.int/cps/en/natohq/topics_48818.htm",
                Some("https://www.nato.int/cps/en/natohq/topics_48818.htm"),
            ),
            (
                "/cps/en/natohq/topics_48818.htm",
                Some("https://www.nato.int/cps/en/natohq/topics_48818.htm"),
            ),
            // other hosts keep their scheme
            ("http://example.org/a", Some("http://example.org/a")),
        ];
        check(&cases, Some(PAGE), &[]);
        // A local file knows its host by its canonical URL: both forms are
        // root-relative, as written on the site.
        let local = [
            (
                "/cps/en/natohq/topics_48818.htm",
                Some("/cps/en/natohq/topics_48818.htm"),
            ),
            (
                "https://www.nato.int/cps/en/natohq/topics_48818.htm",
                Some("/cps/en/natohq/topics_48818.htm"),
            ),
            (
                "http://nato.int/cps/en/natohq/topics_48818.htm?x=1",
                Some("/cps/en/natohq/topics_48818.htm?x=1"),
            ),
            ("topics_1.htm", Some("topics_1.htm")),
            ("https://example.org/a", Some("https://example.org/a")),
        ];
        check(&local, None, &[]);
    }
}
