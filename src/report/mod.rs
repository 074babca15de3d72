//! The report stage: renders a [`Redline`] (a revision with the facts a reader
//! needs: target, URL, title, when it was checked) in one [`Format`].
//!
//! Every renderer writes to `impl Write` and is a pure function of its input.
//! One file per format; [`summary`] holds the words they share (the one-line
//! summary, stamp and kind wording, excerpts of long blocks).
//!
//! | format   | one redline              | several ([`render_many`])                |
//! |----------|--------------------------|------------------------------------------|
//! | terminal | [`terminal()`]           | separated by a rule                      |
//! | markdown | [`markdown()`]           | a digest under `# redliner report`       |
//! | json     | [`json()`] (schema there) | `{"schema_version", "redlines": [...]}` |
//! | html     | [`html()`]               | one page, one article per redline        |
//! | atom     | a feed with one entry    | [`atom_feed`]: one entry per redline     |

use crate::ids::SnapshotId;
use std::io::{self, Write};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::document::{ContentRoot, DocumentMeta};
use crate::revision::Revision;

mod atom;
pub mod history;
mod html;
mod json;
mod markdown;
pub mod summary;
mod terminal;

pub use atom::{atom_feed, atom_many, entry_id, feed_id};
pub use html::{
    ArticleView, CONTENT_SECURITY_POLICY, article_with, html, html_many, style as html_style,
};
pub use json::{digest_schema, json, json_after, json_many, redline_schema};
pub use markdown::{markdown, markdown_many};
pub use summary::{kind_words, summary_line, utc_minute};
pub use terminal::{terminal, terminal_many};

/// Renders one redline in `format` to `out`. `style` matters only for
/// [`Format::Terminal`]. Atom writes a feed holding one entry.
///
/// # Errors
/// Any error from `out`.
pub fn render(
    redline: &Redline,
    format: Format,
    style: TerminalStyle,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Terminal => terminal(redline, style, out),
        Format::Markdown => markdown(redline, out),
        Format::Json => json(redline, out),
        Format::Html => html(redline, out),
        Format::Atom => atom_many(std::slice::from_ref(redline), out),
    }
}

/// Renders several redlines (possibly of several targets) as one document: a
/// digest for the `report` command. Atom writes one entry per redline, in a
/// feed for their target when they share one, else one for all targets.
///
/// # Errors
/// Any error from `out`.
pub fn render_many(
    redlines: &[Redline],
    format: Format,
    style: TerminalStyle,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Terminal => terminal_many(redlines, style, out),
        Format::Markdown => markdown_many(redlines, out),
        Format::Json => json_many(redlines, out),
        Format::Html => html_many(redlines, out),
        Format::Atom => atom_many(redlines, out),
    }
}

/// Version of the JSON schema written by the `json` format. Bumped on any
/// incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// A revision together with what a reader needs to place it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Redline {
    /// The target id (e.g. `nato-belarus`).
    pub target: String,
    /// The page URL as configured.
    pub url: String,
    /// The page title of the new document (old one for removed pages).
    pub title: Option<String>,
    /// When the old snapshot was captured.
    pub old_captured_at: Option<Timestamp>,
    /// When the new snapshot was captured (the check that found the change).
    pub new_captured_at: Timestamp,
    /// Store ids of the two snapshots, when they come from the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_snapshot: Option<SnapshotId>,
    /// Store id of the new snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_snapshot: Option<SnapshotId>,
    /// The revision itself.
    pub revision: Revision,
    /// Facts about this revision a reader must not miss, in words, each a
    /// sentence: the content came back (`Revert: the content equals that of
    /// snapshot 3.`, see [`crate::alerting::Recurrence::note`]), or the
    /// content root came from a fallback ([`fallback_note`]). Filled by the
    /// monitor and the archive; every format shows them at the top, right
    /// after the header (JSON: the `notes` array). Empty for most revisions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The revision's page in `redliner serve` (an absolute URL under
    /// `[serve] public_url`), when that is set: alerts, feeds and reports
    /// link there. `None`: they link to the watched page only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Redline {
    /// The redline of a new capture of `target` (its `document`, captured
    /// `at`) against the stored `previous` snapshot: the title is the new
    /// document's, else the previous one's; no notes, no link, the new
    /// snapshot not stored yet.
    pub fn of_capture(
        target: &crate::target::Target,
        previous: &crate::store::StoredSnapshot,
        document: &crate::document::Document,
        revision: Revision,
        at: Timestamp,
    ) -> Redline {
        Redline {
            target: target.id.clone(),
            url: target.url.to_string(),
            title: document
                .meta
                .title
                .clone()
                .or_else(|| previous.document.meta.title.clone()),
            old_captured_at: Some(previous.captured_at),
            new_captured_at: at,
            old_snapshot: Some(previous.id),
            new_snapshot: None,
            revision,
            notes: Vec::new(),
            link: None,
        }
    }
}

/// `redline` rendered in `format` without colour or wrapping, as text (what
/// files and messages keep).
///
/// # Errors
/// The renderer's I/O error (none for memory, but the renderers are written
/// against `Write`).
pub fn render_plain(redline: &Redline, format: Format) -> io::Result<String> {
    let mut out = Vec::new();
    render(
        redline,
        format,
        TerminalStyle {
            color: false,
            width: None,
        },
        &mut out,
    )?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The page of the revision whose new snapshot is `snapshot`, under the
/// `serve` application at `base` (`[serve] public_url`, ending in `/`):
/// `<base>targets/<target>/snapshots/<id>/revision`, which sends the reader
/// on to the revision itself.
pub fn revision_page(base: &url::Url, target: &str, snapshot: SnapshotId) -> String {
    let path = format!("targets/{target}/snapshots/{snapshot}/revision");
    base.join(&path)
        .map_or_else(|_| format!("{base}{path}"), |u| u.to_string())
}

/// The note for a redline whose new document was taken from a fallback
/// content root (the configured selectors matched nothing):
/// ``Content root not found; fallback `main` used.``; `None` when the
/// configured root was found.
pub fn fallback_note(root: &ContentRoot) -> Option<String> {
    root.fallback
        .then(|| format!("Content root not found; fallback `{}` used.", root.selector))
}

/// The notes a new document itself calls for, in order: a fallback content
/// root ([`fallback_note`]) and a stamp line that could not be read as a date
/// (quoted as served).
pub fn document_notes(meta: &DocumentMeta) -> Vec<String> {
    fallback_note(&meta.root)
        .into_iter()
        .chain(
            meta.stamp_unreadable
                .as_ref()
                .map(|text| format!("The page's stamp could not be read as a date: “{text}”.")),
        )
        .collect()
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Colour when on a terminal, `[-deleted-]{+inserted+}` marks otherwise.
    Terminal,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// A self-contained HTML page.
    Html,
    /// The documented JSON schema ([`SCHEMA_VERSION`]).
    Json,
    /// An Atom feed.
    Atom,
}

/// Terminal rendering options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalStyle {
    /// Emit ANSI colour and styles.
    pub color: bool,
    /// Wrap to this many columns (`None`: no wrapping).
    pub width: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::tests::sample;

    fn one(format: Format) -> String {
        let mut out = Vec::new();
        render(
            &sample(),
            format,
            TerminalStyle {
                color: false,
                width: None,
            },
            &mut out,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn render_dispatches_to_each_format() {
        let cases = [
            (Format::Terminal, "Relations with Belarus: revised\n"),
            (Format::Markdown, "## Relations with Belarus: revised\n"),
            (Format::Json, "{\n  \"schema_version\": 1,\n"),
            (Format::Html, "<!DOCTYPE html>\n"),
            (
                Format::Atom,
                "<?xml version=\"1.0\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">",
            ),
        ];
        for (format, start) in cases {
            let text = one(format);
            assert!(text.starts_with(start), "{format:?}: {text}");
            assert!(text.ends_with('\n'), "{format:?}: trailing newline");
        }
        // one redline in HTML is a page of its own, not a digest
        assert!(!one(Format::Html).contains("redliner report"));
    }

    #[test]
    fn fallback_notes() {
        let root = |selector: &str, fallback| ContentRoot {
            selector: selector.to_string(),
            fallback,
        };
        let cases = [
            (
                root("main", true),
                Some("Content root not found; fallback `main` used."),
            ),
            (
                root("readability", true),
                Some("Content root not found; fallback `readability` used."),
            ),
            (root("section.content", false), None),
        ];
        for (root, want) in cases {
            assert_eq!(fallback_note(&root).as_deref(), want);
        }
    }

    #[test]
    fn notes_are_optional_in_the_serde_form() {
        let plain = serde_json::to_value(sample()).unwrap();
        assert!(plain.get("notes").is_none(), "empty notes are left out");
        let mut noted = sample();
        noted.notes = vec!["Revert: the content equals that of snapshot 3.".to_string()];
        let value = serde_json::to_value(&noted).unwrap();
        assert_eq!(
            value["notes"],
            serde_json::json!(["Revert: the content equals that of snapshot 3."])
        );
        // a redline stored before notes existed reads back with none
        let back: Redline = serde_json::from_value(plain).unwrap();
        assert_eq!(back, sample());
        let back: Redline = serde_json::from_value(value).unwrap();
        assert_eq!(back, noted);
    }

    #[test]
    fn render_many_writes_one_document() {
        let redlines = [sample(), sample()];
        let cases = [
            (Format::Terminal, "Checked 2026", 2),
            (Format::Markdown, "# redliner report", 1),
            (Format::Json, "\"schema_version\"", 1),
            (Format::Html, "<!DOCTYPE html>", 1),
            (Format::Atom, "<entry>", 2),
        ];
        for (format, needle, n) in cases {
            let mut out = Vec::new();
            render_many(
                &redlines,
                format,
                TerminalStyle {
                    color: false,
                    width: None,
                },
                &mut out,
            )
            .unwrap();
            let text = String::from_utf8(out).unwrap();
            assert_eq!(text.matches(needle).count(), n, "{format:?}: {text}");
        }
    }
}
