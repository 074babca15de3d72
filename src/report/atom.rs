//! The Atom feed (RFC 4287): one entry per redline, so a feed reader or a chat
//! feed bot can follow a page.
//!
//! Each entry has a stable id ([`entry_id`]: the target and the instant the
//! new snapshot was captured, which identify a revision whether it comes fresh
//! from a check or later from the store), `updated` = that instant, the title
//! `<page title>: <kind>`, the one-line summary, a link to the page, and the
//! HTML redline body (the same `<article>` as the HTML format) as `html`
//! content, escaped by `atom_syndication` when written.

use std::io::{self, Write};
use std::str::FromStr;

use atom_syndication::{
    Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text, WriteConfig,
};
use jiff::Timestamp;

use super::Redline;
use super::html::article;
use super::summary::{dated_headline, display_title, summary_line};

/// The id of one redline's entry:
/// `urn:redliner:<target>:revision:<new_captured_at, RFC 3339 UTC>`.
pub fn entry_id(redline: &Redline) -> String {
    format!(
        "urn:redliner:{}:revision:{}",
        redline.target, redline.new_captured_at
    )
}

/// The id of a target's feed (`urn:redliner:<target>`), or of the feed for all
/// targets (`urn:redliner:all`) when `target` is `None`.
pub fn feed_id(target: Option<&str>) -> String {
    match target {
        Some(t) => format!("urn:redliner:{t}"),
        None => "urn:redliner:all".to_string(),
    }
}

/// Writes an Atom feed with one entry per redline, newest first. The feed's
/// `updated` is the newest entry's, so the same redlines always give the
/// same bytes; an empty feed's is the time it is written (a reader shows
/// when it was last looked at, never 1970).
///
/// # Errors
/// Any error from `out` (XML writing errors are reported as
/// [`io::ErrorKind::Other`]).
pub fn atom_feed(
    redlines: &[Redline],
    feed_id: &str,
    title: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut sorted: Vec<&Redline> = redlines.iter().collect();
    sorted.sort_by_key(|r| std::cmp::Reverse(r.new_captured_at));
    let entries = sorted
        .iter()
        .enumerate()
        .map(|(i, r)| entry(r, i))
        .collect::<io::Result<Vec<_>>>()?;
    let updated = match sorted.first() {
        Some(r) => stamp(r.new_captured_at)?,
        None => stamp(Timestamp::now())?,
    };
    let feed = Feed {
        title: Text::plain(xml_safe(title.to_string())),
        id: feed_id.to_string(),
        updated,
        authors: vec![Person {
            name: "redliner".to_string(),
            ..Default::default()
        }],
        generator: Some(Generator {
            value: "redliner".to_string(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
        entries,
        ..Default::default()
    };
    let config = WriteConfig {
        write_document_declaration: true,
        indent_size: Some(2),
    };
    feed.write_with_config(&mut *out, config)
        .map_err(io::Error::other)?;
    writeln!(out)
}

/// Writes several redlines as a feed: the target's feed when they share one
/// target, else the feed for all targets.
///
/// # Errors
/// As [`atom_feed`].
pub fn atom_many(redlines: &[Redline], out: &mut dyn Write) -> io::Result<()> {
    let first = redlines.first();
    let one_target = first.filter(|f| redlines.iter().all(|r| r.target == f.target));
    match one_target {
        Some(r) => {
            let title = format!("{} ({}): redlines", display_title(r), r.target);
            atom_feed(redlines, &feed_id(Some(&r.target)), &title, out)
        }
        None => atom_feed(redlines, &feed_id(None), "redliner: all targets", out),
    }
}

fn entry(r: &Redline, index: usize) -> io::Result<Entry> {
    let updated = stamp(r.new_captured_at)?;
    Ok(Entry {
        title: Text::plain(xml_safe(dated_headline(r))),
        id: entry_id(r),
        updated,
        published: Some(updated),
        links: entry_links(r),
        summary: Some(Text::plain(summary_line(r))),
        content: Some(Content {
            content_type: Some("html".to_string()),
            value: Some(xml_safe(article(r, &format!("e{index}"), 2))),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// `text` without the characters XML 1.0 forbids (C0 controls other than
/// tab, newline and carriage return; U+FFFE, U+FFFF): a page's stray
/// control character must not make the whole feed unreadable.
fn xml_safe(text: String) -> String {
    let bad = |c: char| {
        (c.is_control() && !matches!(c, '\t' | '\n' | '\r') && (c as u32) < 0x20)
            || matches!(c, '\u{fffe}' | '\u{ffff}')
    };
    if text.chars().any(bad) {
        text.chars().filter(|c| !bad(*c)).collect()
    } else {
        text
    }
}

/// The revision's page in `serve` as the entry's link when there is one
/// (`[serve] public_url`), the watched page beside it; else the watched page.
fn entry_links(r: &Redline) -> Vec<Link> {
    let page = |rel: &str| Link {
        href: r.url.clone(),
        rel: rel.to_string(),
        ..Default::default()
    };
    match &r.link {
        Some(link) => vec![
            Link {
                href: link.clone(),
                rel: "alternate".to_string(),
                mime_type: Some("text/html".to_string()),
                ..Default::default()
            },
            page("related"),
        ],
        None => vec![page("alternate")],
    }
}

fn stamp(ts: Timestamp) -> io::Result<FixedDateTime> {
    // chrono's error is not `std::error::Error` without its `std` feature
    FixedDateTime::from_str(&ts.to_string())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_page_text_leave_the_feed_readable() {
        let mut r = crate::report::summary::tests::sample();
        r.title = Some("Relations\u{2} with\u{3} Belarus\u{7}".into());
        r.revision.sections[0].heading = "Lead\u{1b}[31m".into();
        let mut out = Vec::new();
        atom_feed(&[r], "urn:x", "x\u{2}", &mut out).unwrap();
        let feed = Feed::read_from(&out[..]).expect("well-formed XML");
        assert_eq!(
            feed.entries[0].title.value.split(':').next(),
            Some("Relations with Belarus")
        );
    }

    #[test]
    fn an_empty_feed_is_updated_when_written() {
        let before = Timestamp::now();
        let mut out = Vec::new();
        atom_feed(&[], "urn:x", "x", &mut out).unwrap();
        let feed = Feed::read_from(&out[..]).unwrap();
        assert!(feed.entries.is_empty());
        let updated: Timestamp = feed.updated.to_rfc3339().parse().unwrap();
        assert!(updated.as_second() >= before.as_second(), "{updated}");
    }
    use crate::report::summary::tests::sample;
    use crate::revision::RevisionKind;

    fn parse(bytes: &[u8]) -> Feed {
        Feed::from_str(std::str::from_utf8(bytes).unwrap()).unwrap()
    }

    #[test]
    fn one_entry_per_redline_with_stable_ids() {
        let mut older = sample();
        older.new_captured_at = "2026-10-01T06:30:00Z".parse().unwrap();
        older.revision.kind = RevisionKind::SilentEdit;
        let mut out = Vec::new();
        atom_feed(
            &[older.clone(), sample()],
            "urn:redliner:nato-belarus",
            "NATO Belarus",
            &mut out,
        )
        .unwrap();
        let feed = parse(&out);
        assert_eq!(feed.id, "urn:redliner:nato-belarus");
        assert_eq!(feed.title.value, "NATO Belarus");
        assert_eq!(feed.updated.to_rfc3339(), "2026-11-14T10:00:00+00:00");
        let got: Vec<(&str, &str, String)> = feed
            .entries
            .iter()
            .map(|e| {
                (
                    e.id.as_str(),
                    e.title.value.as_str(),
                    e.updated.to_rfc3339(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "urn:redliner:nato-belarus:revision:2026-11-14T10:00:00Z",
                    "Relations with Belarus: revised 14 Nov. 2026 \u{2014} 4 of 5 sections changed: 1 added, 2 modified, 1 renamed \u{b7} +13 / \u{2212}9 words",
                    "2026-11-14T10:00:00+00:00".to_string()
                ),
                (
                    "urn:redliner:nato-belarus:revision:2026-10-01T06:30:00Z",
                    "Relations with Belarus: silent edit found 1 Oct. 2026 \u{2014} 4 of 5 sections changed: 1 added, 2 modified, 1 renamed \u{b7} +13 / \u{2212}9 words",
                    "2026-10-01T06:30:00+00:00".to_string()
                ),
            ]
        );
        let first = &feed.entries[0];
        assert_eq!(
            first.summary.as_ref().map(|s| s.value.as_str()),
            Some(summary_line(&sample()).as_str())
        );
        assert_eq!(
            first.links[0].href,
            "https://www.nato.int/cps/en/natohq/topics_49119.htm"
        );
        let content = first.content.as_ref().unwrap();
        assert_eq!(content.content_type.as_deref(), Some("html"));
        assert_eq!(
            content.value.as_deref(),
            Some(article(&sample(), "e0", 2).as_str())
        );

        let mut again = Vec::new();
        atom_feed(
            &[older, sample()],
            "urn:redliner:nato-belarus",
            "NATO Belarus",
            &mut again,
        )
        .unwrap();
        assert_eq!(out, again, "deterministic");
    }

    #[test]
    fn page_markup_is_escaped_in_the_xml() {
        let mut r = sample();
        r.revision.sections[3].blocks[0].new_text = Some("<script>alert(1)</script>".to_string());
        let mut out = Vec::new();
        atom_feed(std::slice::from_ref(&r), "urn:x", "x", &mut out).unwrap();
        let xml = String::from_utf8(out.clone()).unwrap();
        assert!(!xml.contains("<script>"), "{xml}");
        assert!(
            !xml.contains("&lt;script&gt;"),
            "html content is escaped once more: {xml}"
        );
        assert!(xml.contains("&amp;lt;script&amp;gt;"), "{xml}");
        let feed = parse(&out);
        let html = feed.entries[0]
            .content
            .as_ref()
            .and_then(|c| c.value.clone())
            .unwrap();
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn many_picks_the_feed() {
        let mut other = sample();
        other.target = "nato-ukraine".to_string();
        let cases = [
            (
                vec![sample(), sample()],
                "urn:redliner:nato-belarus",
                "Relations with Belarus (nato-belarus): redlines",
                2,
            ),
            (
                vec![sample(), other],
                "urn:redliner:all",
                "redliner: all targets",
                2,
            ),
            (vec![], "urn:redliner:all", "redliner: all targets", 0),
        ];
        for (redlines, id, title, n) in cases {
            let mut out = Vec::new();
            atom_many(&redlines, &mut out).unwrap();
            let feed = parse(&out);
            assert_eq!(
                (
                    feed.id.as_str(),
                    feed.title.value.as_str(),
                    feed.entries.len()
                ),
                (id, title, n)
            );
        }
    }
}
