//! `redliner history TARGET`: the target's checks and snapshots, newest first,
//! as aligned columns (or JSON).

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use redliner::error::Error;
use redliner::report::history::summary_text;
use redliner::revision::RevisionKind;
use redliner::store::{CheckOutcome, HistoryEntry};

use super::Global;
use super::output::emit;
use super::source::open_store;

/// Arguments of `redliner history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Target id
    pub target: String,
    /// Show at most this many entries
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Output format
    #[arg(long, value_enum, default_value_t = HistoryFormat::Text)]
    pub format: HistoryFormat,
    /// Write to this file instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

/// Formats `history` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    /// One line per entry, in aligned columns
    Text,
    /// A JSON array
    Json,
}

/// Prints the target's checks, newest first.
///
/// # Errors
/// [`Error::NotFound`] for a target neither configured nor stored; store
/// and output errors.
pub fn run(global: &Global, args: &HistoryArgs) -> Result<ExitCode, Error> {
    let (store, settings) = open_store(global)?;
    let entries = store.history(&args.target, args.limit)?;
    let configured = settings
        .as_ref()
        .is_some_and(|s| s.target(&args.target).is_some());
    if entries.is_empty() && !configured {
        return Err(Error::NotFound(format!(
            "target `{}`: not configured and nothing stored",
            args.target
        )));
    }
    emit(
        args.output.as_deref(),
        global.terminal_style(),
        |out, _| match args.format {
            HistoryFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, &entries)?;
                writeln!(out)
            }
            HistoryFormat::Text => {
                for line in table(&entries) {
                    writeln!(out, "{line}")?;
                }
                Ok(())
            }
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The columns of one entry: time, snapshot, outcome, kind, stamp, summary.
fn cells(e: &HistoryEntry) -> [String; 6] {
    let summary = match (&e.summary, e.outcome) {
        (_, CheckOutcome::Failed) => e.error.clone().unwrap_or_default(),
        (Some(s), _) => summary_text(s),
        (None, CheckOutcome::Baseline) => e
            .sections
            .map(|n| format!("{n} section{}", if n == 1 { "" } else { "s" }))
            .unwrap_or_default(),
        (None, CheckOutcome::NotModified) => "HTTP 304".into(),
        (None, _) => String::new(),
    };
    // Layout-changed and unconfirmed checks say why after their counts.
    let summary = match (&e.note, summary.is_empty()) {
        (Some(note), true) => note.clone(),
        (Some(note), false) => format!("{summary}; {note}"),
        (None, _) => summary,
    };
    [
        e.at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        e.snapshot_id.map_or("-".into(), |id| format!("#{id}")),
        e.outcome.as_str().to_string(),
        kind_label(e).unwrap_or("-").to_string(),
        e.stamp.clone().unwrap_or_else(|| "-".into()),
        summary,
    ]
}

/// The kind column: the revision's kind, or `layout changed` for a
/// technical snapshot (whose technical revision, if any, is not a kind a
/// reader acts on); `None` for a check without a revision.
fn kind_label(e: &HistoryEntry) -> Option<&'static str> {
    if e.outcome == CheckOutcome::LayoutChanged {
        return Some("layout changed");
    }
    e.kind.map(RevisionKind::as_str)
}

/// Lines whose columns line up whether or not a kind or stamp is present.
fn table(entries: &[HistoryEntry]) -> Vec<String> {
    let rows: Vec<[String; 6]> = entries.iter().map(cells).collect();
    let mut widths = [0usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use redliner::revision::{ChangeSummary, RevisionKind};

    fn entry(at: &str, outcome: CheckOutcome, snapshot: Option<i64>) -> HistoryEntry {
        HistoryEntry {
            check_id: 1,
            at: at.parse().unwrap(),
            outcome,
            http_status: None,
            snapshot_id: snapshot,
            stamp: snapshot.map(|_| "Last updated: 28 Aug. 2024 11:27".into()),
            sections: Some(3),
            revision_id: None,
            kind: None,
            summary: None,
            error: None,
            note: None,
        }
    }

    #[test]
    fn columns_line_up_with_and_without_kind() {
        let mut changed = entry("2026-12-01T10:00:00Z", CheckOutcome::Changed, Some(12));
        changed.kind = Some(RevisionKind::SilentEdit);
        changed.summary = Some(ChangeSummary {
            sections_modified: 1,
            words_added: 3,
            words_removed: 1,
            ..ChangeSummary::default()
        });
        let mut failed = entry("2026-12-02T10:00:00Z", CheckOutcome::Failed, None);
        failed.error = Some("HTTP 503".into());
        let entries = [
            failed,
            changed,
            entry("2026-11-30T10:00:00Z", CheckOutcome::NotModified, Some(1)),
            entry("2026-11-29T10:00:00Z", CheckOutcome::Baseline, Some(1)),
        ];
        assert_eq!(
            table(&entries),
            [
                "2026-12-02T10:00:00Z  -    failed        -            -                                 HTTP 503",
                "2026-12-01T10:00:00Z  #12  changed       silent-edit  Last updated: 28 Aug. 2024 11:27  1 modified; +3 -1 words",
                "2026-11-30T10:00:00Z  #1   not-modified  -            Last updated: 28 Aug. 2024 11:27  HTTP 304",
                "2026-11-29T10:00:00Z  #1   baseline      -            Last updated: 28 Aug. 2024 11:27  3 sections",
            ]
        );
        assert_eq!(table(&[]), Vec::<String>::new());
    }

    #[test]
    fn layout_changed_and_unconfirmed_checks_say_why() {
        let mut layout = entry("2026-12-02T10:00:00Z", CheckOutcome::LayoutChanged, Some(2));
        layout.note = Some("configured root `section.content` not found; found `main`".into());
        let mut unconfirmed = entry("2026-12-01T10:00:00Z", CheckOutcome::Unconfirmed, Some(1));
        unconfirmed.note = Some("the second fetch after 10s gave other content".into());
        assert_eq!(
            table(&[layout, unconfirmed]),
            [
                "2026-12-02T10:00:00Z  #2  layout-changed  layout changed  Last updated: 28 Aug. 2024 11:27  configured root `section.content` not found; found `main`",
                "2026-12-01T10:00:00Z  #1  unconfirmed     -               Last updated: 28 Aug. 2024 11:27  the second fetch after 10s gave other content",
            ]
        );
    }
}
