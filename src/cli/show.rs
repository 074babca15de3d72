//! `redliner show TARGET [SNAPSHOT]`: the extracted document of any snapshot,
//! or with `--raw` the body exactly as served.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use redliner::error::Error;
use redliner::store::{SnapshotRow, Store};

use super::Global;
use super::extract::{DocumentFormat, write_document};
use super::output::emit;
use super::source::open_store;

/// Arguments of `redliner show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Target id
    pub target: String,
    /// Which snapshot: `latest` (default), an id (`12` or `#12`), a time as
    /// `history` prints it (`2026-11-29T10:35:45Z`), a capture date or time
    /// prefix in UTC (`2026-11-29`, `2026-11-29T10`), a directory name, or the
    /// page's stamp date (`2024-08-28`); a name matching several snapshots is
    /// an error listing them
    #[arg(default_value = "latest")]
    pub snapshot: String,
    /// Print the body exactly as served (bytes) instead of the document
    #[arg(long, conflicts_with = "format")]
    pub raw: bool,
    /// Output format of the document
    #[arg(long, value_enum, default_value_t = DocumentFormat::Markdown)]
    pub format: DocumentFormat,
    /// Write to this file instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Prints a snapshot's document (or raw body).
///
/// # Errors
/// [`Error::NotFound`] for an unknown snapshot; store and output errors.
pub fn run(global: &Global, args: &ShowArgs) -> Result<ExitCode, Error> {
    let (store, _) = open_store(global)?;
    let row = resolve(&store, &args.target, &args.snapshot)?;
    if args.raw {
        let body = store.raw_body(&row)?;
        emit(args.output.as_deref(), global.terminal_style(), |out, _| {
            out.write_all(&body)
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let snapshot = store.snapshot(&args.target, row.id)?.ok_or_else(|| {
        Error::NotFound(format!(
            "target `{}`: snapshot {} vanished",
            args.target, row.id
        ))
    })?;
    emit(args.output.as_deref(), global.terminal_style(), |out, _| {
        write_document(&snapshot.document, args.format, &args.target, out)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Finds a snapshot by the name a person typed, or says which names exist.
/// A name that matches several snapshots (a date, a partial time, a stamp
/// date shared by several captures) is an error listing them, never
/// silently the newest.
///
/// # Errors
/// [`Error::NotFound`] when nothing matches; [`Error::Usage`] when several do.
pub fn resolve(store: &Store, target: &str, name: &str) -> Result<SnapshotRow, Error> {
    let mut found = store.resolve_snapshot(target, name)?;
    match found.len() {
        1 => return Ok(found.remove(0)),
        0 => {}
        _ => return Err(ambiguous(target, name, &found)),
    }
    let all = store.snapshots(target)?;
    if all.is_empty() {
        return Err(Error::NotFound(format!(
            "target `{target}`: no snapshots stored"
        )));
    }
    Err(Error::NotFound(format!(
        "target `{target}`: no snapshot `{name}` (newest ids: {}; see `redliner history {target}`)",
        id_list(&all)
    )))
}

/// The error for a name matching several snapshots: each candidate's id and
/// capture time (to the second, as `history` prints times), newest first.
fn ambiguous(target: &str, name: &str, found: &[SnapshotRow]) -> Error {
    const SHOWN: usize = 10;
    let mut list: Vec<String> = found
        .iter()
        .take(SHOWN)
        .map(|s| format!("#{} {}", s.id, s.captured_at.strftime("%Y-%m-%dT%H:%M:%SZ")))
        .collect();
    if found.len() > SHOWN {
        list.push(format!("and {} more", found.len() - SHOWN));
    }
    Error::Usage(format!(
        "target `{target}`: `{name}` matches {} snapshots ({}); name one by its id",
        found.len(),
        list.join(", ")
    ))
}

fn id_list(all: &[SnapshotRow]) -> String {
    let mut ids: Vec<String> = all.iter().take(10).map(|s| s.id.to_string()).collect();
    if all.len() > ids.len() {
        ids.push("...".into());
    }
    ids.join(", ")
}
