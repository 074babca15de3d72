//! Keeping a store: `redliner targets` (what is configured and how each
//! fares), `prune` (drop snapshots `settings.retention` does not keep),
//! `forget TARGET` (drop everything of one target) and `backup FILE`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

use redliner::error::Error;
use redliner::store::lock::StoreLock;
use redliner::store::{Removed, Retention, Store};

use super::Global;
use super::output::emit;

/// Arguments of `redliner targets`.
#[derive(Debug, Args)]
pub struct TargetsArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// Formats of the listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// An aligned table
    Text,
    /// A JSON array
    Json,
}

/// Arguments of `redliner prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Targets to prune (ids); every stored target when none are given
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Keep the newest N snapshots of each target (overrides
    /// `settings.retention.keep_last`; at least 2)
    #[arg(long, value_name = "N", value_parser = keep_last)]
    pub keep_last: Option<u64>,
    /// Keep every snapshot newer than this (`90d`, `2w`, `365d`; 1 day to 100
    /// years; overrides `settings.retention.keep_for`)
    #[arg(long, value_name = "DURATION", value_parser = parse_keep_for)]
    pub keep_for: Option<std::time::Duration>,
    /// Say what would be removed, remove nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `redliner forget`.
#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The target whose snapshots, checks, revisions, alerts and feed go
    pub target: String,
    /// Do not ask for confirmation (needed when stdin is not a terminal)
    #[arg(long, short)]
    pub yes: bool,
    /// Say what would be removed, remove nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `redliner backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The archive to write: a tar file, gzip-compressed when the name ends
    /// in `.gz` or `.tgz`
    pub file: PathBuf,
}

fn parse_keep_for(s: &str) -> Result<std::time::Duration, String> {
    redliner::duration::parse(s).and_then(Retention::check_keep_for)
}

/// One configured target as `targets` lists it.
#[derive(Debug, Serialize)]
struct TargetState {
    id: String,
    url: String,
    snapshots: usize,
    last_check: Option<String>,
    last_outcome: Option<String>,
    last_error: Option<String>,
    last_revision: Option<String>,
    last_revision_kind: Option<String>,
}

/// Lists the configured targets with their state in the store.
///
/// # Errors
/// Config and store errors.
pub fn targets(global: &Global, args: &TargetsArgs) -> Result<ExitCode, Error> {
    let settings = global.settings()?;
    settings.require_targets()?;
    let store = super::source::store_exists(&settings.store)?
        .then(|| settings.open_store())
        .transpose()?;
    let mut rows = Vec::new();
    for t in &settings.targets {
        let mut row = TargetState {
            id: t.id.clone(),
            url: t.url.to_string(),
            snapshots: 0,
            last_check: None,
            last_outcome: None,
            last_error: None,
            last_revision: None,
            last_revision_kind: None,
        };
        if let Some(store) = &store {
            row.snapshots = store.snapshots(&t.id)?.len();
            if let Some(c) = store.checks(&t.id, 1)?.into_iter().next() {
                row.last_check = Some(c.started_at.strftime("%Y-%m-%d %H:%M UTC").to_string());
                row.last_outcome = Some(c.outcome.as_str().to_string());
                row.last_error = c.error;
            }
            if let Some(r) = store
                .real_revisions(Some(&t.id), None, None, Some(1))?
                .into_iter()
                .next()
            {
                row.last_revision = Some(
                    r.revision
                        .created_at
                        .strftime("%Y-%m-%d %H:%M UTC")
                        .to_string(),
                );
                row.last_revision_kind = Some(r.revision.kind.as_str().to_string());
            }
        }
        rows.push(row);
    }
    emit(None, global.terminal_style(), |out, _| match args.format {
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)
        }
        ListFormat::Text => {
            let mut table = table();
            table.set_header([
                "TARGET",
                "LAST CHECK",
                "OUTCOME",
                "SNAPSHOTS",
                "LAST REVISION",
                "URL",
                "LAST ERROR",
            ]);
            for r in &rows {
                let outcome = r
                    .last_outcome
                    .clone()
                    .unwrap_or_else(|| "never checked".into());
                let revision = match (&r.last_revision, &r.last_revision_kind) {
                    (Some(at), Some(kind)) => format!("{at} {kind}"),
                    _ => "-".to_string(),
                };
                table.add_row([
                    r.id.clone(),
                    r.last_check.clone().unwrap_or_else(|| "-".into()),
                    outcome,
                    r.snapshots.to_string(),
                    revision,
                    r.url.clone(),
                    r.last_error.clone().unwrap_or_default(),
                ]);
            }
            writeln!(out, "{}", render(table))
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// A table with a header row and aligned columns, no borders (what
/// `history`, `alerts` and `targets` print).
pub fn table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    table
}

/// The table's lines, columns two spaces apart, no trailing spaces.
pub fn render(mut table: Table) -> String {
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    table
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `12 snapshots, 11 revisions, 30 checks, 2 alerts, 5 raw bodies`.
fn counts(r: &Removed) -> String {
    let n = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    [
        n(r.snapshots, "snapshot", "snapshots"),
        n(r.revisions, "revision", "revisions"),
        n(r.checks, "check", "checks"),
        n(r.alerts, "alert", "alerts"),
        n(r.raw_bodies, "raw body", "raw bodies"),
    ]
    .join(", ")
}

/// Opens the store under its lock, repaired after a run killed mid-write.
fn locked_store(
    global: &Global,
    command: &str,
) -> Result<(StoreLock, Store, redliner::config::Settings), Error> {
    let settings = global.settings()?;
    // Refused before the lock (whose file would make a store of any
    // directory) and before anything is created.
    if !super::source::store_exists(&settings.store)? {
        return Err(Error::NotFound(format!(
            "no store at `{}` (run `redliner check` first, or pass --store DIR)",
            settings.store.display()
        )));
    }
    let lock = StoreLock::acquire(&settings.store, command, settings.watch.lock_wait)?;
    let mut store = settings.open_store()?;
    store.set_feed_scope(settings.targets.iter().map(|t| t.id.as_str()));
    store.set_public_url(settings.serve.public_url.clone());
    redliner::archive::recover(&store)?;
    Ok((lock, store, settings))
}

/// `--keep-last N`: a whole number, at least 2.
fn keep_last(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if n >= 2 => Ok(n),
        Ok(_) => Err("at least 2 (a revision needs its old and its new snapshot)".into()),
        Err(_) => Err("expected a whole number, at least 2".into()),
    }
}

/// Removes the snapshots the retention policy does not keep.
///
/// # Errors
/// [`Error::Usage`] without a policy; config, lock and store errors.
pub fn prune(global: &Global, args: &PruneArgs) -> Result<ExitCode, Error> {
    let (_lock, mut store, settings) = locked_store(global, "prune")?;
    let retention = Retention {
        keep_last: args
            .keep_last
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
            .or(settings.retention.keep_last),
        keep_for: args.keep_for.or(settings.retention.keep_for),
    };
    if retention.keeps_all() {
        return Err(Error::Usage(
            "nothing says what to keep: set `keep_last` or `keep_for` in `[settings.retention]`, or pass --keep-last N / --keep-for DURATION".into(),
        ));
    }
    let stored = store.targets()?;
    let targets = if args.targets.is_empty() {
        stored
    } else {
        let mut named = args.targets.clone();
        named.sort();
        named.dedup();
        if let Some(unknown) = named.iter().find(|t| !stored.contains(t)) {
            return Err(Error::NotFound(format!(
                "target `{unknown}`: nothing stored"
            )));
        }
        named
    };
    let now = jiff::Timestamp::now();
    let mut total = Removed::default();
    let mut changed = Vec::new();
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    let mut out = std::io::stdout().lock();
    for target in &targets {
        let removed = store.prune(target, &retention, now, args.dry_run)?;
        if removed != Removed::default() {
            changed.push(target.clone());
        }
        writeln!(out, "{target}: {verb} {}", counts(&removed)).map_err(stdout_error)?;
        total.add(&removed);
    }
    if targets.len() > 1 {
        writeln!(out, "all targets: {verb} {}", counts(&total)).map_err(stdout_error)?;
    }
    if !args.dry_run && !changed.is_empty() {
        redliner::archive::refresh_feeds_for(&store, &changed)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Removes everything stored of one target, after confirmation.
///
/// # Errors
/// [`Error::Usage`] when not confirmed; [`Error::NotFound`] for a target
/// with nothing stored; lock and store errors.
pub fn forget(global: &Global, args: &ForgetArgs) -> Result<ExitCode, Error> {
    let (_lock, mut store, settings) = locked_store(global, "forget")?;
    if !store.targets()?.contains(&args.target) {
        return Err(Error::NotFound(format!(
            "target `{}`: nothing stored",
            args.target
        )));
    }
    let would = store.forget(&args.target, true)?;
    let mut out = std::io::stdout().lock();
    if args.dry_run {
        writeln!(out, "{}: would remove {}", args.target, counts(&would)).map_err(stdout_error)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage(format!(
                "forgetting `{}` removes {}; pass --yes to confirm (stdin is not a terminal)",
                args.target,
                counts(&would)
            )));
        }
        eprint!(
            "Forget `{}`: remove {}{}? [y/N] ",
            args.target,
            counts(&would),
            if settings.target(&args.target).is_some() {
                " (it is still configured: the next check starts a new baseline)"
            } else {
                ""
            }
        );
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|source| Error::System {
                what: "reading the answer",
                source,
            })?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err(Error::Usage(format!("`{}` not forgotten", args.target)));
        }
    }
    let removed = store.forget(&args.target, false)?;
    redliner::archive::refresh_combined_feed(&store)?;
    writeln!(out, "{}: removed {}", args.target, counts(&removed)).map_err(stdout_error)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the store to one archive.
///
/// # Errors
/// Lock and store errors; [`Error::Store`] when the archive cannot be
/// written (no archive is left under its name).
pub fn backup(global: &Global, args: &BackupArgs) -> Result<ExitCode, Error> {
    let settings = global.settings()?;
    super::output::check_destination(&args.file, &settings.store)?;
    let (_lock, store, _) = locked_store(global, "backup")?;
    let summary = store.backup(&args.file)?;
    let compressed = args
        .file
        .extension()
        .is_some_and(|e| e == "gz" || e == "tgz");
    writeln!(
        std::io::stdout().lock(),
        "{}: {} files, {} bytes{}",
        args.file.display(),
        summary.files,
        summary.bytes,
        if compressed {
            " before compression"
        } else {
            ""
        }
    )
    .map_err(stdout_error)?;
    Ok(ExitCode::SUCCESS)
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::System {
        what: "writing to standard output",
        source,
    }
}
