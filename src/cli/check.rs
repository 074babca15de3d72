//! `redliner check [TARGET...]`: the main job. Fetches each target, stores a
//! snapshot when its content or stamp changed, prints the redline of each change.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, ValueEnum};

use redliner::clock::{Clock, SystemClock};
use redliner::error::Error;
use redliner::monitor::{Monitor, Outcome};
use redliner::report::{self, Format};
use redliner::run::{Checked, Locking, Mode, RunOptions};

use super::Global;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Targets to check (ids from the config); all when none are given
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Check only the targets whose schedule says they are due (for a cron line)
    #[arg(long)]
    pub due: bool,
    /// Redline format on stdout
    #[arg(long, value_enum, default_value_t = CheckFormat::Terminal)]
    pub format: CheckFormat,
    /// Exit with 1 when a change was found (0 otherwise, 2 on failure)
    #[arg(long)]
    pub exit_code: bool,
    /// After the run, write Prometheus metrics (checks by outcome, fetch and
    /// extract durations, undelivered alerts, last success per target) to
    /// this file, replaced atomically, for node-exporter's textfile collector
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<std::path::PathBuf>,
}

/// Formats `check` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Colour on a terminal, plain marks when piped
    Terminal,
    /// GitHub-flavoured Markdown
    Markdown,
    /// The documented JSON schema, one object per changed target
    Json,
}

impl From<CheckFormat> for Format {
    fn from(f: CheckFormat) -> Format {
        match f {
            CheckFormat::Terminal => Format::Terminal,
            CheckFormat::Markdown => Format::Markdown,
            CheckFormat::Json => Format::Json,
        }
    }
}

pub fn run(global: &Global, args: &CheckArgs) -> Result<ExitCode, Error> {
    let mut settings = global.settings()?;
    // Fails with one line when the config has no targets, before the store
    // (or its lock file) is created.
    // The feed for all targets covers every configured target, whichever
    // ones this run checks.
    let configured: Vec<String> = settings.targets.iter().map(|t| t.id.clone()).collect();
    let targets = settings.take_selected(&args.targets)?;
    if let Some(path) = &args.metrics_file {
        super::output::check_destination(path, &settings.store)?;
    }
    let style = global.terminal_style();
    let status_lines = !global.quiet && std::io::stderr().is_terminal();
    let runtime = super::runtime()?;
    // The store lock, held for the whole run (the `watch` daemon takes it
    // while it has checks in flight, so the two interleave); waits
    // `settings.lock_wait`, then exit 2.
    // A store in PostgreSQL is shared by its workers: the lock is taken
    // shared, and each target and its host are claimed in the shared queue.
    let database = redliner::store::db::postgres::is_url(&settings.store.to_string_lossy());
    let _lock = if database {
        redliner::store::lock::StoreLock::acquire_shared(
            &settings.store,
            "check",
            settings.watch.lock_wait,
        )?
    } else {
        redliner::store::lock::StoreLock::acquire(
            &settings.store,
            "check",
            settings.watch.lock_wait,
        )?
    };
    let metrics = args
        .metrics_file
        .as_ref()
        .map(|_| Arc::new(redliner::metrics::Metrics::default()));
    let mut monitor = Monitor::open(&settings)?;
    monitor.store().set_feed_scope(configured);
    if let Some(m) = &metrics {
        monitor = monitor.with_metrics(Arc::clone(m));
    }
    let monitor = Arc::new(monitor);
    let target_ids: Vec<String> = targets.iter().map(|t| t.id.clone()).collect();
    // With the lock held: clean up after a run killed mid-write (temp files,
    // staging, unindexed snapshots, feeds older than the newest revision).
    let recovered = if database {
        redliner::archive::Recovered::default()
    } else {
        redliner::archive::recover(&monitor.store())?
    };
    let mut coordination =
        redliner::run::coordinate(&monitor.store(), &targets, "check", settings.watch.lease)?;
    if recovered.swept > 0 || !recovered.feeds.is_empty() {
        tracing::info!(
            "repaired an earlier run killed mid-write: {} unfinished writes cleaned, {} feeds rewritten",
            recovered.swept,
            recovered.feeds.len()
        );
    }
    let targets = if args.due {
        redliner::run::due_targets(
            &monitor.store(),
            &targets,
            coordination.as_mut(),
            SystemClock.now(),
        )?
    } else {
        targets
    };
    let coordinator = coordination.as_ref().map(|c| Arc::clone(&c.coordinator));
    // A progress bar for several targets on a terminal (never piped, under
    // cron, with -q, or with -v logs, which would tear it).
    let bar = (targets.len() > 1 && status_lines && global.verbose == 0).then(|| {
        let bar = indicatif::ProgressBar::new(targets.len() as u64);
        if let Ok(s) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
            bar.set_style(s);
        }
        bar
    });
    let suspend = |f: &mut dyn FnMut()| match &bar {
        Some(b) => b.suspend(f),
        None => f(),
    };

    let mut changed = false;
    let mut failed = false;
    let stdout = std::io::stdout();
    let mut printed = 0;
    let mut stdout_closed = false;
    // Up to `concurrency` checks at once over different hosts, one at a time
    // and `min_host_delay` apart per host; results come back in config order.
    let options = RunOptions {
        mode: Mode::Once,
        concurrency: settings.watch.concurrency,
        min_host_delay: settings.watch.min_host_delay,
        locking: Locking::Held,
        coordination,
    };
    // `check` stops only when done (a signal kills it, as before).
    let (_never_stop, shutdown) = tokio::sync::watch::channel(false);
    let on_check = |c: Checked<'_>| {
        if let Some(b) = &bar {
            b.inc(1);
            b.set_message(c.target.id.clone());
        }
        match c.result {
            Ok(outcome) => {
                if let Some(b) = &bar {
                    b.println(format!("{}: {}", c.target.id, outcome.describe()));
                } else if status_lines {
                    super::status(
                        tracing::Level::INFO,
                        Some(&c.target.id),
                        format_args!("{}", outcome.describe()),
                    );
                }
                if let Outcome::Changed { redline, .. } = outcome {
                    changed = true;
                    if stdout_closed {
                        return;
                    }
                    let mut rendered = Ok(());
                    suspend(&mut || {
                        let mut out = super::output::PipeAware::new(stdout.lock());
                        let result = if printed > 0 && args.format != CheckFormat::Json {
                            writeln!(out)
                        } else {
                            Ok(())
                        }
                        .and_then(|()| report::render(redline, args.format.into(), style, &mut out))
                        .and_then(|()| out.flush());
                        rendered = out.result(result);
                    });
                    match rendered {
                        Ok(()) => printed += 1,
                        // The reader left (`check | head`): the checks are
                        // recorded all the same, so keep checking, quietly.
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                            stdout_closed = true;
                        }
                        Err(e) => {
                            failed = true;
                            let e = Error::System {
                                what: "writing to standard output",
                                source: e,
                            };
                            suspend(&mut || super::print_error(&e));
                        }
                    }
                }
            }
            Err(e) => {
                failed = true;
                suspend(&mut || super::print_error(e));
            }
        }
    };
    runtime.block_on(redliner::run::run(
        Arc::clone(&monitor),
        targets,
        &options,
        &SystemClock,
        shutdown,
        on_check,
    ))?;
    if let Some(c) = &coordinator {
        c.stop();
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    // Alerts were queued with the checks; send what is due (this run's and
    // earlier runs' retries). A receiver refusing an alert never changes the
    // exit code (it is retried later); a store that cannot hold the outbox does.
    if !super::alerts::deliver_after_check(&settings) {
        failed = true;
    }
    if let (Some(path), Some(metrics)) = (&args.metrics_file, &metrics) {
        let ids: Vec<&str> = target_ids.iter().map(String::as_str).collect();
        let text = metrics.render_textfile(&monitor.store(), &ids)?;
        write_atomically(path, text.as_bytes())?;
    }
    Ok(if failed {
        ExitCode::from(2)
    } else if changed && args.exit_code {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes `bytes` to `path` through a temporary file in the same directory
/// renamed over it, so a collector reading the file never sees half of it.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let io = |e: std::io::Error| super::output::io_error(&path.display().to_string(), e);
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    // The collector runs as another user: readable by all, as the file it
    // replaces would be.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io)?;
    }
    file.write_all(bytes).map_err(io)?;
    file.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
