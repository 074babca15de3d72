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
    /// Which snapshot: `latest` (default), an id (`12`), a capture date or time
    /// prefix in UTC (`2026-11-29`, `2026-11-29T10`), a directory name, or the
    /// page's stamp date (`2024-08-28`)
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
pub fn resolve(store: &Store, target: &str, name: &str) -> Result<SnapshotRow, Error> {
    if let Some(row) = store.resolve_snapshot(target, name)? {
        return Ok(row);
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

fn id_list(all: &[SnapshotRow]) -> String {
    let mut ids: Vec<String> = all.iter().take(10).map(|s| s.id.to_string()).collect();
    if all.len() > ids.len() {
        ids.push("...".into());
    }
    ids.join(", ")
}
