//! Command-line definitions (clap) and dispatch. Only this module and
//! `main.rs` read argv or the environment, print, or choose an exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use redliner::config::{self, Settings};
use redliner::error::Error;
use redliner::report::TerminalStyle;

mod alerts;
mod backfill;
mod check;
mod conventions;
mod diff;
mod export;
mod extract;
mod history;
mod maintenance;
mod migrate;
mod output;
mod reextract;
mod report;
mod serve;
mod show;
mod source;
mod test_alert;
mod verify;
mod watch;
mod workers;

/// Watches official web pages and reports, section by section, what changed.
#[derive(Debug, Parser)]
#[command(name = "redliner", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after the subcommand.
#[derive(Debug, Args)]
pub struct Global {
    /// Config file
    #[arg(long, global = true, env = "REDLINER_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Store root (snapshot files and the SQLite index); overrides `settings.store`
    #[arg(long, global = true, env = "REDLINER_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Colour on the terminal
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Log each step to stderr (-v: one line per stage, -vv: decisions)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only reports and errors (no status lines, notes or warnings);
    /// a redline is a report, so `check -q` still prints it for cron to mail
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log lines on stderr as text, or as one JSON object per line (time,
    /// level, message and fields) for a log collector
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "REDLINER_LOG_FORMAT")]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `WARN message field=value`, coloured on a terminal
    Text,
    /// `{"timestamp":"…","level":"WARN","fields":{"message":"…",…}}`
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check targets now: fetch, extract, store a snapshot on change, print the redline
    Check(check::CheckArgs),
    /// List a target's checks and snapshots, newest first
    History(history::HistoryArgs),
    /// Print the extracted document (or the raw body) of any snapshot
    Show(show::ShowArgs),
    /// Redline between two snapshots of a target, or between two local pages
    Diff(diff::DiffArgs),
    /// Print the document a page (file or URL) yields
    Extract(extract::ExtractArgs),
    /// Every revision in a window in one document (a digest)
    Report(report::ReportArgs),
    /// Re-derive every stored document with the current rules (never alerts)
    Reextract(reextract::ReextractArgs),
    /// List queued and sent alerts; --retry sends the undelivered ones now
    Alerts(alerts::AlertsArgs),
    /// Send a sample alert to a channel and print the outcome
    TestAlert(test_alert::TestAlertArgs),
    /// Run as a daemon: check each target on its schedule until SIGINT/SIGTERM
    Watch(watch::WatchArgs),
    /// List the workers checking a store in PostgreSQL: machine, pid, last heartbeat, leases held
    Workers(workers::WorkersArgs),
    /// Serve the store as a web application: dashboard, timelines, redlines, section history, search, alerts, feeds, JSON API, metrics
    Serve(serve::ServeArgs),
    /// List the configured targets with their last check, snapshots and last revision
    Targets(maintenance::TargetsArgs),
    /// Remove the snapshots `settings.retention` (or --keep-last/--keep-for) does not keep
    Prune(maintenance::PruneArgs),
    /// Remove everything stored of one target (asks first)
    Forget(maintenance::ForgetArgs),
    /// Write the whole store (index and files) to one tar archive
    Backup(maintenance::BackupArgs),
    /// Copy the store, rows and files, into a new store of the other kind (SQLite directory or PostgreSQL URL) and check the copy
    Migrate(migrate::MigrateArgs),
    /// Import a target's past captures from a web archive (Wayback CDX or a Memento TimeMap) as dated snapshots; never alerts
    Backfill(backfill::BackfillArgs),
    /// Export the history for other tools: `warc` (a WARC/1.1 file) or `git` (one commit per snapshot)
    Export(export::ExportArgs),
    /// Write an evidence bundle (zip) proving what a snapshot said, checkable with sha256sum alone
    Evidence(export::EvidenceArgs),
    /// Recheck the tamper-evident record: the ledger's hash chain, every snapshot row, every file's digest
    Verify(verify::VerifyArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions(conventions::CompletionsArgs),
    /// Print the manual page (roff), or write one page per command into a directory
    Man(conventions::ManArgs),
}

/// When to colour terminal output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal and NO_COLOR is not set
    Auto,
    /// Always
    Always,
    /// Never
    Never,
}

impl Global {
    /// Loads the config file named by `--config`/`REDLINER_CONFIG`, or the default.
    pub fn settings(&self) -> Result<Settings, Error> {
        let path = self
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from(config::DEFAULT_CONFIG));
        let settings = config::load(&path, self.store.as_deref())?;
        if let (Some(url), Some(var)) = (settings.store.to_str(), &settings.store_password_env) {
            redliner::store::db::postgres::set_password_env(url, var);
        }
        Ok(settings)
    }

    /// How to style terminal output on stdout.
    pub fn terminal_style(&self) -> TerminalStyle {
        let tty = std::io::stdout().is_terminal();
        let color = match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var("TERM").map_or(true, |t| t != "dumb")
            }
        };
        let width = tty
            .then(|| terminal_size::terminal_size().map(|(w, _)| w.0 as usize))
            .flatten()
            .map(|w| w.clamp(40, 120));
        TerminalStyle { color, width }
    }
}

/// Runs the parsed command.
/// The command line as clap sees it, with the long `--version`.
pub fn command() -> clap::Command {
    Cli::command().long_version(conventions::long_version())
}

/// Parses argv (clap prints help, versions and usage errors and exits).
pub fn parse() -> Cli {
    let matches = command().get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    match &cli.command {
        Command::Check(a) => check::run(&cli.global, a),
        Command::History(a) => history::run(&cli.global, a),
        Command::Show(a) => show::run(&cli.global, a),
        Command::Diff(a) => diff::run(&cli.global, a),
        Command::Extract(a) => extract::run(&cli.global, a),
        Command::Report(a) => report::run(&cli.global, a),
        Command::Reextract(a) => reextract::run(&cli.global, a),
        Command::Alerts(a) => alerts::run(&cli.global, a),
        Command::TestAlert(a) => test_alert::run(&cli.global, a),
        Command::Watch(a) => watch::run(&cli.global, a),
        Command::Serve(a) => serve::run(&cli.global, a),
        Command::Targets(a) => maintenance::targets(&cli.global, a),
        Command::Workers(a) => workers::run(&cli.global, a),
        Command::Migrate(a) => migrate::run(&cli.global, a),
        Command::Prune(a) => maintenance::prune(&cli.global, a),
        Command::Forget(a) => maintenance::forget(&cli.global, a),
        Command::Backup(a) => maintenance::backup(&cli.global, a),
        Command::Verify(a) => verify::run(&cli.global, a),
        Command::Backfill(a) => backfill::run(&cli.global, a),
        Command::Export(a) => export::run(&cli.global, a),
        Command::Evidence(a) => export::evidence(&cli.global, a),
        Command::Completions(a) => conventions::completions(a),
        Command::Man(a) => conventions::man(a),
    }
}

/// The async runtime of a command: one thread. The edges (HTTP, SMTP, the
/// watch loop) are async; SQLite work runs on this same thread between awaits.
/// `check` and `watch` run their checks here too, parsing and diffing
/// included (see [`redliner::run`]'s design notes for why one thread).
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::System {
            what: "starting the async runtime",
            source: e,
        })
}

/// Spawns the task that turns the first SIGINT or SIGTERM into a shutdown
/// request, saying `redliner: SIGTERM received; {then}` (a second signal is
/// handled the same way: what is in flight still finishes).
pub(crate) fn listen_for_signals(
    stop: tokio::sync::watch::Sender<bool>,
    then: &'static str,
) -> Result<(), Error> {
    let io = |e| Error::System {
        what: "installing the signal handlers",
        source: e,
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(io)?;
        let mut int = signal(SignalKind::interrupt()).map_err(io)?;
        tokio::spawn(async move {
            loop {
                let name = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                };
                status(
                    tracing::Level::INFO,
                    None,
                    format_args!("{name} received; {then}"),
                );
                let _ = stop.send(true);
            }
        });
    }
    #[cfg(not(unix))]
    {
        let _ = io;
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                status(
                    tracing::Level::INFO,
                    None,
                    format_args!("interrupted; {then}"),
                );
                let _ = stop.send(true);
            }
        });
    }
    Ok(())
}

/// Sets up `tracing` on stderr: `RUST_LOG` wins; else redliner's own events
/// at warn, info with `-v`, debug with `-vv`, trace with `-vvv`, error with
/// `-q`.
///
/// Other crates' events (and their `log` records, which the subscriber
/// bridges) are never shown unless `RUST_LOG` asks for them: a parser's
/// complaints about a page (html5ever warns once per misnested table cell,
/// thousands of times on some pages) are the page's business, summarised by
/// the extract stage in one debug line per page.
pub fn init_tracing(global: &Global) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default_filter(global.verbose, global.quiet)));
    let _ = JSON_LOGS.set(global.log_format == LogFormat::Json);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match global.log_format {
        LogFormat::Text => builder
            .with_ansi(
                std::io::stderr().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            )
            .without_time()
            .init(),
        // A collector needs the time of each line; the text form leaves it
        // to the terminal or journald.
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}

fn default_filter(verbose: u8, quiet: bool) -> String {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    format!("off,redliner={level}")
}

/// True when the error is stdout closed by its reader (`redliner ... | head`):
/// the binary then exits 0 quietly, as a shell pipeline expects.
pub fn is_broken_pipe(e: &Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// Prints an error and its causes once, as `redliner: a: b: c`, then its hint.
pub fn print_error(e: &Error) {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        // SQLite says its error twice: `database disk image is malformed`,
        // then `Error code 11: The database disk image is malformed`.
        let said = |p: &str| msg.to_lowercase().contains(&p.to_lowercase());
        let bare = part
            .strip_prefix("Error code ")
            .and_then(|rest| rest.split_once(": "))
            .map_or(part.as_str(), |(_, text)| text);
        if !said(&part) && !said(bare) {
            msg.push_str(": ");
            msg.push_str(&part);
        }
        source = s.source();
    }
    let hint = hint(e);
    if JSON_LOGS.get().copied().unwrap_or(false) {
        // One JSON object, as every other line on stderr under
        // `--log-format json`.
        match &hint {
            Some(h) => tracing::error!(hint = %h, "{msg}"),
            None => tracing::error!("{msg}"),
        }
        return;
    }
    stderr_line(format_args!("redliner: {msg}"));
    if let Some(h) = hint {
        stderr_line(format_args!("  hint: {h}"));
    }
}

/// Writes one line on stderr, ignoring a closed or full stderr (`eprintln!`
/// panics there): a run whose stderr reader went away still records its
/// checks and exits with its own code.
fn stderr_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Writes one status line on stderr: `redliner: {line}`, or `{target}:
/// {line}` for a target's; under `--log-format json`, one JSON object shaped
/// as the log lines are (`timestamp`, `level`, `fields.message`,
/// `fields.target`, `target`), so that a log collector reads every line.
pub(crate) fn status(level: tracing::Level, target: Option<&str>, line: std::fmt::Arguments<'_>) {
    if JSON_LOGS.get().copied().unwrap_or(false) {
        let mut fields = serde_json::Map::new();
        fields.insert("message".into(), line.to_string().into());
        if let Some(t) = target {
            fields.insert("target".into(), t.into());
        }
        let object = serde_json::json!({
            "timestamp": jiff::Timestamp::now().to_string(),
            "level": level.as_str(),
            "fields": fields,
            "target": "redliner",
        });
        stderr_line(format_args!("{object}"));
        return;
    }
    match target {
        Some(t) => stderr_line(format_args!("{t}: {line}")),
        None => stderr_line(format_args!("redliner: {line}")),
    }
}

/// A progress bar on stderr for a long command (`len` steps, or a spinner
/// when unknown), hidden when stderr is not a terminal, with `-q`, or with
/// `-v` logs (which would tear it).
pub(crate) fn progress_bar(
    global: &Global,
    len: Option<u64>,
    message: &str,
) -> indicatif::ProgressBar {
    if global.quiet || global.verbose > 0 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let (bar, template) = match len {
        Some(n) => (
            indicatif::ProgressBar::new(n),
            "{bar:30} {pos}/{len} {msg} ({eta} left)",
        ),
        None => (
            indicatif::ProgressBar::new_spinner(),
            "{spinner} {pos} {msg}",
        ),
    };
    if let Ok(s) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(s);
    }
    bar.set_message(message.to_string());
    bar
}

/// Set by [`init_tracing`]: errors are JSON log lines too.
static JSON_LOGS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// The error's own hint, or one for a snapshot directory deleted by hand
/// (every later check of its target fails on it, by design: a missing record
/// is never silently replaced by a new baseline).
fn hint(e: &Error) -> Option<String> {
    if let Error::Store(redliner::store::StoreError::Io { path, source }) = e
        && source.kind() == std::io::ErrorKind::NotFound
    {
        let path = std::path::Path::new(path);
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
        if let (Some(dir), true) = (
            path.parent(),
            [
                redliner::store::DOCUMENT_JSON_ZST,
                redliner::store::DOCUMENT_JSON,
                redliner::store::PAGE_FILE,
            ]
            .contains(&file),
        ) {
            return Some(format!(
                "the snapshot directory `{}` is missing: restore it (from a backup) to go on; \
                 redliner never re-baselines a target by itself. To start the target afresh \
                 instead, give it a new id in the config (the old history stays) or use a new \
                 store (--store DIR)",
                dir.display()
            ));
        }
    }
    e.hint().map(str::to_string)
}
