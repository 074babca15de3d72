//! The report stage: renders a [`Redline`] (a revision with the facts a reader
//! needs: target, URL, title, when it was checked) in one [`Format`].
//!
//! Every renderer writes to `impl Write` and is a pure function of its input.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::revision::Revision;

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
    pub old_snapshot: Option<i64>,
    /// Store id of the new snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_snapshot: Option<i64>,
    /// The revision itself.
    pub revision: Revision,
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
