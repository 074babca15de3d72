//! `redliner alerts [--pending|--failed] [--format text|json] [--retry]`:
//! the alert outbox, and the delivery pass `check` runs after its checks.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use redliner::alerting::{self, Attempt};
use redliner::clock::SystemClock;
use redliner::config::Settings;
use redliner::error::Error;
use redliner::notify::HttpNotifier;
use redliner::store::{AlertRow, AlertState};

use super::Global;

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Only alerts waiting for delivery (pending, or being sent)
    #[arg(long, conflicts_with = "failed")]
    pub pending: bool,
    /// Only alerts that will not be delivered (failed, expired)
    #[arg(long)]
    pub failed: bool,
    /// Retry now every pending and failed alert (ignoring the backoff) and print each attempt;
    /// exit 2 when any is still undelivered
    #[arg(long, conflicts_with_all = ["pending", "failed"])]
    pub retry: bool,
    /// Show at most this many alerts, newest first
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Output format
    #[arg(long, value_enum, default_value_t = AlertsFormat::Text)]
    pub format: AlertsFormat,
}

/// Formats `alerts` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlertsFormat {
    /// One line per alert, in aligned columns
    Text,
    /// A JSON array
    Json,
}

pub fn run(global: &Global, args: &AlertsArgs) -> Result<ExitCode, Error> {
    let settings = global.settings()?;
    if args.retry {
        // Retrying is part of checking targets: a config without any is a
        // mistake (a wrong --config), said in one line, exit 2.
        settings.require_targets()?;
    }
    // No store yet: nothing was ever queued (and don't create one here).
    let exists = super::source::store_exists(&settings.store)?;
    if args.retry && exists {
        let mut store = settings.open_store()?;
        let touched = store.retry_alerts_now(jiff::Timestamp::now())?;
        drop(store);
        tracing::info!(alerts = touched, "retrying now");
        let attempts = deliver(&settings)?;
        print_attempts(&attempts, args.format)?;
        let undelivered = attempts.iter().any(|a| a.state != AlertState::Delivered);
        return Ok(if undelivered {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        });
    }
    let states: &[AlertState] = if args.pending {
        &[AlertState::Pending, AlertState::Sending]
    } else if args.failed {
        &[AlertState::Failed, AlertState::Expired]
    } else {
        &[]
    };
    let rows = if exists {
        settings.open_store()?.alerts(states, args.limit)?
    } else {
        Vec::new()
    };
    let mut out = std::io::stdout().lock();
    let io = |e| Error::System {
        what: "writing to standard output",
        source: e,
    };
    match args.format {
        AlertsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rows).map_err(|e| io(e.into()))?;
            writeln!(out).map_err(io)?;
        }
        AlertsFormat::Text => {
            if rows.is_empty() {
                writeln!(out, "no alerts").map_err(io)?;
            } else {
                let mut table = super::maintenance::table();
                table.set_header([
                    "ALERT", "CREATED", "TARGET", "CHANNEL", "KIND", "STATE", "ATTEMPTS", "WHEN",
                    "ERROR",
                ]);
                for row in &rows {
                    table.add_row(cells(row));
                }
                writeln!(out, "{}", super::maintenance::render(table)).map_err(io)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The columns of one alert: `#3`, created, target, channel, kind, state,
/// `1 attempt`, when (`next …` for a pending one, `delivered …`), and the
/// last error of one not delivered.
fn cells(row: &AlertRow) -> [String; 9] {
    let minute = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let when = match row.state {
        AlertState::Pending => format!("next {}", minute(row.next_attempt_at)),
        AlertState::Delivered => row
            .delivered_at
            .map(|at| format!("delivered {}", minute(at)))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let error = match (&row.last_error, row.state) {
        (Some(e), s) if s != AlertState::Delivered => e.clone(),
        _ => String::new(),
    };
    [
        format!("#{}", row.id),
        minute(row.created_at),
        row.target.clone(),
        row.channel.clone(),
        row.kind.as_str().to_string(),
        row.state.as_str().to_string(),
        format!(
            "{} attempt{}",
            row.attempts,
            if row.attempts == 1 { "" } else { "s" }
        ),
        when,
        error,
    ]
}

fn print_attempts(attempts: &[Attempt], format: AlertsFormat) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    let io = |e| Error::System {
        what: "writing to standard output",
        source: e,
    };
    match format {
        AlertsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, attempts).map_err(|e| io(e.into()))?;
            writeln!(out).map_err(io)?;
        }
        AlertsFormat::Text => {
            if attempts.is_empty() {
                writeln!(out, "no alerts to retry").map_err(io)?;
            } else {
                let mut table = super::maintenance::table();
                table.set_header(["ALERT", "TARGET", "CHANNEL", "KIND", "STATE", "ERROR"]);
                for a in attempts {
                    table.add_row([
                        format!("#{}", a.alert_id),
                        a.target.clone(),
                        a.channel.clone(),
                        a.kind.to_string(),
                        a.state.to_string(),
                        a.error.clone().unwrap_or_default(),
                    ]);
                }
                writeln!(out, "{}", super::maintenance::render(table)).map_err(io)?;
            }
        }
    }
    Ok(())
}

/// Sends every alert due now (opening its own store connection), on a
/// current-thread runtime so SQLite stays on this thread. Secrets come from
/// the environment here.
///
/// # Errors
/// [`Error::Store`] when the outbox can't be read or written.
pub fn deliver(settings: &Settings) -> Result<Vec<Attempt>, Error> {
    let runtime = super::runtime()?;
    let mut store = settings.open_store()?;
    let notifier = HttpNotifier::default();
    let env = |name: &str| std::env::var(name).ok();
    Ok(runtime.block_on(alerting::deliver_due(
        &mut store,
        &settings.channels,
        &settings.delivery,
        &notifier,
        &SystemClock,
        &env,
    ))?)
}

/// The delivery pass after `check`: sends what is due and reports on stderr
/// each alert that was not delivered (it stays queued, or failed for good).
/// A delivery problem never changes `check`'s exit code; a store error is
/// printed the same way.
/// Returns false when the outbox itself could not be read or written (a store
/// error, which fails the run); a receiver refusing an alert is not a failure
/// of the run: it is retried later.
pub fn deliver_after_check(settings: &Settings) -> bool {
    match deliver(settings) {
        Ok(attempts) => {
            for a in attempts.iter().filter(|a| a.state != AlertState::Delivered) {
                let what = match a.state {
                    AlertState::Pending => "not delivered, will retry",
                    AlertState::Failed => "failed (see `redliner alerts --failed`)",
                    _ => "not delivered",
                };
                super::status(
                    tracing::Level::WARN,
                    None,
                    format_args!(
                        "alert `{}` for `{}` to channel `{}` {what}: {}",
                        a.kind,
                        a.target,
                        a.channel,
                        a.error.as_deref().unwrap_or("")
                    ),
                );
            }
            true
        }
        Err(e) => {
            super::print_error(&e);
            false
        }
    }
}
