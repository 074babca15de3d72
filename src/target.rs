//! A [`Target`] (a page we watch) and its extraction [`Rules`], as validated
//! from the config file by [`crate::config`].

use std::time::Duration;

use regex::Regex;
use scraper::Selector;
use sha2::{Digest, Sha256};
use url::Url;

use crate::fetch::Reach;
use crate::notify::AlertRules;
use crate::schedule::TargetSchedule;
use crate::stamp::{DateOrder, Reading};

/// A page we watch.
#[derive(Debug, Clone)]
pub struct Target {
    /// Short id, `[a-z0-9-]+`, used in file names and the SQLite index.
    pub id: String,
    /// The URL to fetch.
    pub url: Url,
    /// How to extract its document.
    pub rules: Rules,
    /// Ids of the `[[channel]]` entries that receive this target's alerts.
    pub channels: Vec<String>,
    /// Which revisions and failures alert (`[target.alerts]`).
    pub alerts: AlertRules,
    /// When `watch` and `check --due` check it; `None`: every run.
    pub schedule: Option<TargetSchedule>,
    /// How long to wait before the second fetch that confirms a content
    /// change (`confirm_after`, per target or in `[settings]`; default
    /// [`DEFAULT_CONFIRM_AFTER`]); zero confirms only bodies that look cut.
    pub confirm_after: Duration,
    /// `allow_private`: `Some(true)` lets the page and its redirects reach
    /// private, link-local, unique-local and shared addresses (an intranet
    /// page), `Some(false)` holds them to public ones; unset, a URL whose own
    /// host is loopback may reach loopback addresses (see
    /// [`crate::fetch::guard`]).
    pub allow_private: Option<bool>,
    /// `follow_moves`: a redirect to another page than the configured one
    /// (and than the last one accepted) is accepted, and said once, instead
    /// of failing the check as a moved target.
    pub follow_moves: bool,
    /// The charset to decode the page with whatever it declares (`charset`,
    /// a WHATWG label); `None`: chosen from the page (see [`crate::fetch::decode_with`]).
    pub charset: Option<&'static encoding_rs::Encoding>,
}

/// The default wait before the fetch that confirms a content change (10 s).
pub const DEFAULT_CONFIRM_AFTER: Duration = Duration::from_secs(10);

impl Target {
    /// A target with no channels, default alert rules and no schedule.
    pub fn new(id: impl Into<String>, url: Url, rules: Rules) -> Target {
        Target {
            id: id.into(),
            url,
            rules,
            channels: Vec::new(),
            alerts: AlertRules::default(),
            schedule: None,
            confirm_after: DEFAULT_CONFIRM_AFTER,
            allow_private: None,
            follow_moves: false,
            charset: None,
        }
    }

    /// The addresses this target's fetches may connect to, from its URL and
    /// `allow_private`.
    pub fn reach(&self) -> Reach {
        Reach::for_url(&self.url, self.allow_private)
    }
}

/// A CSS selector with the text it was parsed from (for messages and logs).
#[derive(Debug, Clone)]
pub struct Css {
    /// The selector as written in the config.
    pub source: String,
    /// The parsed selector.
    pub selector: Selector,
}

impl Css {
    /// Parses a CSS selector.
    ///
    /// # Errors
    /// A message from the selector parser when `source` is not valid CSS.
    pub fn parse(source: &str) -> Result<Css, String> {
        Selector::parse(source)
            .map(|selector| Css {
                source: source.to_string(),
                selector,
            })
            .map_err(|e| css_error_message(&e))
    }
}

/// One sentence for a selector parser error: the parser's own text for the
/// errors it words, and for the rest (which it prints as a debug dump) what
/// the selector lacks, in words.
fn css_error_message(e: &scraper::error::SelectorErrorKind) -> String {
    use scraper::error::SelectorErrorKind as K;
    let K::UnexpectedSelectorParseError(kind) = e else {
        return match e {
            K::UnexpectedToken => "a character is out of place".to_string(),
            K::EndOfLine => "the selector ends too early".to_string(),
            other => other.to_string().to_lowercase(),
        };
    };
    // The variant's name (e.g. `ClassNeedsIdent(Delim('.'))`) is the only
    // stable handle the parser gives without a dependency on its internals.
    let debug = format!("{kind:?}");
    let name = debug.split('(').next().unwrap_or_default();
    match name {
        "ClassNeedsIdent" => "a `.` must be followed by a class name".to_string(),
        "EmptySelector" => "the selector is empty".to_string(),
        "DanglingCombinator" => {
            "a combinator (`>`, `+`, `~` or a space) has nothing after it".to_string()
        }
        "NoIdentForPseudo" => "a `:` must be followed by a pseudo-class name".to_string(),
        "UnsupportedPseudoClassOrElement" => {
            "an unsupported pseudo-class or pseudo-element".to_string()
        }
        "NoQualifiedNameInAttributeSelector"
        | "UnexpectedTokenInAttributeSelector"
        | "ExpectedBarInAttr"
        | "BadValueInAttr"
        | "InvalidQualNameInAttr" => "a malformed attribute selector `[...]`".to_string(),
        _ => {
            // CamelCase to words: `NonCompoundSelector` -> "non compound selector".
            let mut words = String::new();
            for c in name.chars() {
                if c.is_uppercase() && !words.is_empty() {
                    words.push(' ');
                }
                words.extend(c.to_lowercase());
            }
            words
        }
    }
}

/// Extraction rules for one kind of page.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Name of the rule set (`generic` for the built-in one).
    pub name: String,
    /// Where the title is; falls back to the first `h1`, then `<title>`.
    pub title: Option<Css>,
    /// The main content root, tried in order; when none matches, the fallback
    /// (`main`, `article`, readability, densest block) is used and recorded.
    pub content: Vec<Css>,
    /// Elements removed before extraction (site chrome), in addition to the
    /// built-in list (nav, header, footer, script, style, form, ...).
    pub drop: Vec<Css>,
    /// Regexes for text removed from blocks before comparison (per-request
    /// tokens, view counters). A block left empty is dropped.
    pub ignore_text: Vec<Regex>,
    /// Regexes matched against each link target after the built-in
    /// normalisation (session ids and tracking parameters removed, same-page
    /// links cut to their fragment): every match is removed from the target
    /// before comparison, and a link whose target is left empty is dropped.
    pub ignore_link: Vec<Regex>,
    /// Below this many characters of text the content root counts as empty
    /// (an extraction failure, never a snapshot).
    pub min_text_chars: usize,
    /// Where the stamp is: its element's text (or `datetime`) is read first,
    /// before the built-in recognisers ([`crate::stamp`]).
    pub stamp: Option<Css>,
    /// A regex over the page's text lines (inside the `stamp` element when
    /// both are set): its match is the stamp line, read with the built-in
    /// forms; a named group `date` (and `time`) narrows what is read as the
    /// date when the line has no label the built-in forms know.
    pub stamp_pattern: Option<Regex>,
    /// How numeric dates (`12/03/2024`) are read; day first by default.
    pub date_order: DateOrder,
    /// The zone of a stamp time written without one (IANA, e.g.
    /// `Europe/Brussels`); `None`: UTC.
    pub tz: Option<jiff::tz::TimeZone>,
}

impl Rules {
    /// A fingerprint (SHA-256, hex) of everything in the rules that decides
    /// what a page extracts to: title and content selectors, `drop`,
    /// `ignore_text`, `ignore_link`, `min_text_chars` and the stamp keys
    /// (`stamp`, `stamp_pattern`, `date_order`, `tz`), as written in the
    /// config. The rule set's `name` is left out: renaming a rule set changes
    /// no document.
    pub fn fingerprint(&self) -> String {
        // Destructured so that a new field cannot be left out unnoticed: it
        // either joins the fingerprint or is named here as not extracting.
        let Rules {
            name: _,
            title,
            content,
            drop,
            ignore_text,
            ignore_link,
            min_text_chars,
            stamp,
            stamp_pattern,
            date_order,
            tz,
        } = self;
        let mut h = Sha256::new();
        let mut part = |key: &str, values: &mut dyn Iterator<Item = &str>| {
            h.update(key.as_bytes());
            for v in values {
                h.update(b"\x1f");
                h.update(v.as_bytes());
            }
            h.update(b"\x1e");
        };
        part("title", &mut title.iter().map(|c| c.source.as_str()));
        part("content", &mut content.iter().map(|c| c.source.as_str()));
        part("drop", &mut drop.iter().map(|c| c.source.as_str()));
        part("ignore_text", &mut ignore_text.iter().map(Regex::as_str));
        part("ignore_link", &mut ignore_link.iter().map(Regex::as_str));
        part(
            "min_text_chars",
            &mut std::iter::once(min_text_chars.to_string().as_str()),
        );
        part("stamp", &mut stamp.iter().map(|c| c.source.as_str()));
        part(
            "stamp_pattern",
            &mut stamp_pattern.iter().map(Regex::as_str),
        );
        part(
            "date_order",
            &mut std::iter::once(format!("{date_order:?}").as_str()),
        );
        let zone = tz.as_ref().map(|z| {
            z.iana_name()
                .map_or_else(|| format!("{z:?}"), str::to_string)
        });
        part("tz", &mut zone.iter().map(String::as_str));
        hex::encode(h.finalize())
    }

    /// The built-in rules for an unknown page: no configured root (fallbacks only),
    /// the built-in chrome list, no text or link filters beyond the built-in
    /// ones, 200 characters minimum, the built-in stamp recognisers with
    /// day-first numeric dates in UTC.
    pub fn generic() -> Rules {
        Rules {
            name: "generic".into(),
            title: None,
            content: Vec::new(),
            drop: Vec::new(),
            ignore_text: Vec::new(),
            ignore_link: Vec::new(),
            min_text_chars: 200,
            stamp: None,
            stamp_pattern: None,
            date_order: DateOrder::Dmy,
            tz: None,
        }
    }

    /// How this page's stamps are read: its date order and zone.
    pub fn reading(&self) -> Reading {
        Reading {
            order: self.date_order,
            tz: self.tz.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(edit: fn(&mut Rules)) -> Rules {
        let mut r = Rules::generic();
        r.content = vec![Css::parse("main").unwrap()];
        edit(&mut r);
        r
    }

    #[test]
    fn rules_fingerprint_changes_with_every_extracting_field_and_not_the_name() {
        let base = rules(|_| {}).fingerprint();
        type Edit = fn(&mut Rules);
        let cases: [(&str, Edit, bool); 12] = [
            ("name", |r| r.name = "renamed".into(), false),
            ("title", |r| r.title = Some(Css::parse("h1").unwrap()), true),
            (
                "content",
                |r| r.content.push(Css::parse("article").unwrap()),
                true,
            ),
            ("drop", |r| r.drop = vec![Css::parse(".x").unwrap()], true),
            (
                "ignore_text",
                |r| r.ignore_text = vec![Regex::new("x").unwrap()],
                true,
            ),
            (
                "ignore_link",
                |r| r.ignore_link = vec![Regex::new("x").unwrap()],
                true,
            ),
            ("min_text_chars", |r| r.min_text_chars = 1, true),
            (
                "stamp",
                |r| r.stamp = Some(Css::parse(".updated").unwrap()),
                true,
            ),
            (
                "stamp_pattern",
                |r| r.stamp_pattern = Some(Regex::new("x").unwrap()),
                true,
            ),
            (
                "date_order",
                |r| r.date_order = crate::stamp::DateOrder::Mdy,
                true,
            ),
            (
                "tz",
                |r| r.tz = Some(jiff::tz::TimeZone::get("Europe/Brussels").unwrap()),
                true,
            ),
            // A selector moved from one list to the next is another rule set.
            (
                "content to drop",
                |r| {
                    r.content.clear();
                    r.drop = vec![Css::parse("main").unwrap()];
                },
                true,
            ),
        ];
        for (what, edit, changes) in cases {
            assert_eq!(rules(edit).fingerprint() != base, changes, "{what}");
        }
    }
}
