//! `redliner workers`: the processes that check a store in PostgreSQL
//! (`watch` daemons, and `check` runs while they last), with their machine,
//! last heartbeat and the leases they hold.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use redliner::error::Error;
use redliner::store::workers;

use super::Global;
use super::maintenance::{ListFormat, table};
use super::output::emit;

/// Arguments of `redliner workers`.
#[derive(Debug, Args)]
pub struct WorkersArgs {
    /// Also list the workers that stopped in the last 7 days
    #[arg(long)]
    pub all: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

pub fn run(global: &Global, args: &WorkersArgs) -> Result<ExitCode, Error> {
    let settings = global.settings()?;
    let store = settings.open_store()?;
    let Some(database) = store.postgres_target() else {
        return Err(Error::Usage(format!(
            "the store `{}` is a directory: its checks run one process at a time, \
             and workers share a store in PostgreSQL (`settings.store = \"postgres://…\"`)",
            settings.store.display()
        )));
    };
    // A worker renews every quarter of its lease: one silent for a whole
    // lease is lost.
    let stopped_within = if args.all {
        Duration::from_secs(7 * 24 * 3600)
    } else {
        Duration::ZERO
    };
    let mut rows = workers::list(&database, settings.watch.lease, stopped_within)?;
    if !args.all {
        rows.retain(|r| r.state != "stopped");
    }
    emit(None, global.terminal_style(), |out, _| match args.format {
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)
        }
        ListFormat::Text => {
            if rows.is_empty() {
                return writeln!(out, "no worker is running");
            }
            let mut table = table();
            table.set_header([
                "WORKER",
                "HOST",
                "PID",
                "COMMAND",
                "STATE",
                "LAST HEARTBEAT",
                "STARTED",
                "CHECKS",
                "LEASES",
            ]);
            let at = |t: jiff::Timestamp| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string();
            for r in &rows {
                table.add_row([
                    r.id.clone(),
                    r.hostname.clone(),
                    r.pid.to_string(),
                    r.command.clone(),
                    r.state.clone(),
                    at(r.heartbeat_at),
                    at(r.started_at),
                    r.checks.to_string(),
                    r.leases.to_string(),
                ]);
            }
            writeln!(out, "{}", super::maintenance::render(table))
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
