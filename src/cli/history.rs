//! `redliner history TARGET`: the target's checks and snapshots, newest first,
//! as aligned columns (or JSON).

use redliner::ids::{CheckId, SnapshotId};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use redliner::error::Error;
use redliner::report::history::summary_text;
use redliner::revision::RevisionKind;
use std::collections::HashMap;

use redliner::alerting::{Recurrence, recurrence_in};
use redliner::store::{CheckOutcome, HistoryEntry, SnapshotRow};

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
    let marks = recurrences(&store, &args.target, &entries)?;
    emit(
        args.output.as_deref(),
        global.terminal_style(),
        |out, _| match args.format {
            HistoryFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, &entries)?;
                writeln!(out)
            }
            HistoryFormat::Text => {
                for line in table(&entries, &marks) {
                    writeln!(out, "{line}")?;
                }
                Ok(())
            }
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// What the alerts say of a changed check whose content came back: `revert
/// to #40` (the content equals that earlier snapshot's) or `alternating with
/// #40` (the page flips between two versions), by check id.
fn recurrences(
    store: &redliner::store::Store,
    target: &str,
    entries: &[HistoryEntry],
) -> Result<HashMap<CheckId, String>, Error> {
    let mut marks = HashMap::new();
    if !entries.iter().any(|e| e.outcome == CheckOutcome::Changed) {
        return Ok(marks);
    }
    let rows: HashMap<SnapshotId, SnapshotRow> = store
        .snapshots(target)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    for e in entries
        .iter()
        .filter(|e| e.outcome == CheckOutcome::Changed)
    {
        let Some(row) = e.snapshot_id.and_then(|id| rows.get(&id)) else {
            continue;
        };
        let mark = match recurrence_in(store, target, Some(row), &row.content_hash)? {
            Some(Recurrence::Revert { of }) => format!("revert to #{of}"),
            Some(Recurrence::Alternating { of, .. }) => format!("alternating with #{of}"),
            None => continue,
        };
        marks.insert(e.check_id, mark);
    }
    Ok(marks)
}

/// The columns of one entry: time, snapshot, outcome, kind (with its
/// revert or alternation mark), stamp, summary.
fn cells(e: &HistoryEntry, mark: Option<&String>) -> [String; 6] {
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
    let kind = kind_label(e).unwrap_or("-");
    [
        e.at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        e.snapshot_id.map_or("-".into(), |id| format!("#{id}")),
        e.outcome.as_str().to_string(),
        match mark {
            Some(m) => format!("{kind} ({m})"),
            None => kind.to_string(),
        },
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

/// A header row and one line per entry, the columns aligned (nothing for
/// no entries).
fn table(entries: &[HistoryEntry], marks: &HashMap<CheckId, String>) -> Vec<String> {
    if entries.is_empty() {
        return Vec::new();
    }
    let mut table = super::maintenance::table();
    table.set_header(["TIME", "SNAPSHOT", "OUTCOME", "KIND", "STAMP", "SUMMARY"]);
    for e in entries {
        table.add_row(cells(e, marks.get(&e.check_id)));
    }
    super::maintenance::render(table)
        .lines()
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use redliner::revision::{ChangeSummary, RevisionKind};

    fn entry(at: &str, outcome: CheckOutcome, snapshot: Option<i64>) -> HistoryEntry {
        HistoryEntry {
            check_id: CheckId(1),
            at: at.parse().unwrap(),
            outcome,
            http_status: None,
            snapshot_id: snapshot.map(SnapshotId),
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
        let mut marks = HashMap::new();
        marks.insert(CheckId(1), "revert to #9".to_string());
        let mut revert = entry("2026-12-01T12:00:00Z", CheckOutcome::Changed, Some(13));
        revert.kind = Some(RevisionKind::Revised);
        let entries = [&entries[..1], &[revert], &entries[1..]].concat();
        let mut entries = entries;
        for (i, e) in entries.iter_mut().enumerate() {
            e.check_id = CheckId(if i == 1 { 1 } else { 100 + i as i64 });
        }
        assert_eq!(
            table(&entries, &marks),
            [
                "TIME                  SNAPSHOT  OUTCOME       KIND                    STAMP                             SUMMARY",
                "2026-12-02T10:00:00Z  -         failed        -                       -                                 HTTP 503",
                "2026-12-01T12:00:00Z  #13       changed       revised (revert to #9)  Last updated: 28 Aug. 2024 11:27",
                "2026-12-01T10:00:00Z  #12       changed       silent-edit             Last updated: 28 Aug. 2024 11:27  1 modified; +3 -1 words",
                "2026-11-30T10:00:00Z  #1        not-modified  -                       Last updated: 28 Aug. 2024 11:27  HTTP 304",
                "2026-11-29T10:00:00Z  #1        baseline      -                       Last updated: 28 Aug. 2024 11:27  3 sections",
            ]
        );
        assert_eq!(table(&[], &marks), Vec::<String>::new());
    }

    #[test]
    fn layout_changed_and_unconfirmed_checks_say_why() {
        let mut layout = entry("2026-12-02T10:00:00Z", CheckOutcome::LayoutChanged, Some(2));
        layout.note = Some("configured root `section.content` not found; found `main`".into());
        let mut unconfirmed = entry("2026-12-01T10:00:00Z", CheckOutcome::Unconfirmed, Some(1));
        unconfirmed.note = Some("the second fetch after 10s gave other content".into());
        assert_eq!(
            table(&[layout, unconfirmed], &HashMap::new())[1..],
            [
                "2026-12-02T10:00:00Z  #2        layout-changed  layout changed  Last updated: 28 Aug. 2024 11:27  configured root `section.content` not found; found `main`",
                "2026-12-01T10:00:00Z  #1        unconfirmed     -               Last updated: 28 Aug. 2024 11:27  the second fetch after 10s gave other content",
            ]
        );
    }
}
