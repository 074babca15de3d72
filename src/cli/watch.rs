//! `redliner watch [TARGET...] [--once]`: the daemon. Checks each target on its
//! own schedule until SIGINT or SIGTERM, prints each redline to stdout (the
//! journal, under systemd) and one status line per check to stderr, and
//! delivers pending alerts after each check.
//!
//! A signal stops new checks and lets those in flight finish (their records
//! are transactions); the daemon then exits 0. The loop is
//! [`redliner::run`], shared with `check`.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use tokio::sync::watch;

use redliner::clock::{Clock, SystemClock};
use redliner::error::Error;
use redliner::metrics::Metrics;
use redliner::monitor::{Monitor, Outcome};
use redliner::report;
use redliner::run::{Checked, Locking, Mode, RunOptions};
use redliner::serve::{self, MetricsSource};

use super::Global;
use super::check::CheckFormat;

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Targets to watch (ids from the config); all when none are given
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Check the targets due now once each, then exit (0, or 2 if one failed)
    #[arg(long)]
    pub once: bool,
    /// Redline format on stdout
    #[arg(long, value_enum, default_value_t = CheckFormat::Terminal)]
    pub format: CheckFormat,
    /// Also serve the web application on this address, as `redliner serve`
    /// does, with this daemon's checks in /metrics (e.g. 127.0.0.1:9187; an
    /// address other than loopback needs `[serve] token_env`)
    #[arg(long, value_name = "ADDR", value_parser = serve::parse_addr)]
    pub serve: Option<std::net::SocketAddr>,
}

pub fn run(global: &Global, args: &WatchArgs) -> Result<ExitCode, Error> {
    let mut settings = global.settings()?;
    // Bound first: an address in use is refused before the store is opened
    // (or created).
    let token = super::serve::token(Some(&settings))?;
    let listener = args
        .serve
        .map(|addr| serve::bind(addr, token.is_some()))
        .transpose()
        .map_err(Error::Usage)?;
    // The feed for all targets covers every configured target, whichever
    // ones this run checks.
    let configured: Vec<String> = settings.targets.iter().map(|t| t.id.clone()).collect();
    let targets = settings.take_selected(&args.targets)?;
    let style = global.terminal_style();
    let quiet = global.quiet;
    let runtime = super::runtime()?;
    let mut options = RunOptions {
        mode: if args.once {
            Mode::Once
        } else {
            Mode::Schedule
        },
        concurrency: settings.watch.concurrency,
        min_host_delay: settings.watch.min_host_delay,
        locking: Locking::WhileChecking(settings.watch.lock_wait),
        coordination: None,
    };
    let metrics = Arc::new(Metrics::default());
    let monitor = Monitor::open(&settings)?.with_metrics(Arc::clone(&metrics));
    monitor
        .store()
        .set_feed_scope(configured.iter().map(String::as_str));
    // A store in PostgreSQL: this daemon is one of its workers, sharing
    // the targets with the others through the database.
    options.coordination =
        redliner::run::coordinate(&monitor.store(), &targets, "watch", settings.watch.lease)?;
    let watched = targets.len();
    // `--once`: the targets due now, each checked once (in a shared store,
    // unless another worker checks it first).
    let targets = if args.once {
        redliner::run::due_targets(
            &monitor.store(),
            &targets,
            options.coordination.as_mut(),
            SystemClock.now(),
        )?
    } else {
        targets
    };
    let coordinator = options
        .coordination
        .as_ref()
        .map(|c| Arc::clone(&c.coordinator));
    let monitor = Arc::new(monitor);
    let metrics_page: MetricsSource = {
        let monitor = Arc::clone(&monitor);
        Arc::new(move || {
            let ids: Vec<&str> = configured.iter().map(String::as_str).collect();
            metrics.render(&monitor.store(), &ids)
        })
    };
    let writes = if settings.serve.write {
        "read-write"
    } else {
        "read-only"
    };
    // The web application reads the store through a connection of its own.
    let app = match &listener {
        Some((l, _)) => {
            let local = l.local_addr().map_err(|source| Error::System {
                what: "reading the address listened on",
                source,
            })?;
            Some(super::serve::app(
                &settings.store,
                Some(settings.clone()),
                token,
                local,
                metrics_page,
            )?)
        }
        None => None,
    };
    let mut printed = 0usize;
    let format = args.format;

    // Alert delivery runs beside the checks, on its own thread (it builds
    // its own runtime): each finished check asks for a round; asks that come
    // during a round make one more. Dropping the sender ends the thread,
    // which is joined before exit, so `--once` delivers all it queued.
    let summary = std::thread::scope(|scope| {
        let (deliver, rounds) = std::sync::mpsc::channel::<()>();
        if !settings.channels.is_empty() {
            let settings = &settings;
            scope.spawn(move || {
                while rounds.recv().is_ok() {
                    while rounds.try_recv().is_ok() {}
                    super::alerts::deliver_after_check(settings);
                }
            });
        }
        runtime.block_on(async {
            // Handlers first: a signal during the first check must not kill us.
            let (stop, shutdown) = watch::channel(false);
            let stop_when_stdout_closes = stop.clone();
            let stop_server = stop.clone();
            let server = match (listener, app) {
                (Some((listener, url)), Some(app)) => {
                    if !quiet {
                        super::status(
                            tracing::Level::INFO,
                            None,
                            format_args!("serving {url}/ ({writes}; metrics at {url}/metrics)"),
                        );
                    }
                    let routes = serve::router(app);
                    Some(tokio::spawn(serve::run(listener, routes, shutdown.clone())))
                }
                _ => None,
            };
            super::listen_for_signals(stop, "stopping after the checks in flight")?;
            if !quiet {
                super::status(
                    tracing::Level::INFO,
                    None,
                    format_args!("{}", start_line(args.once, watched, &settings.store)),
                );
            }
            if !args.once {
                tell_systemd(shutdown.clone(), targets.len());
            }
            let summary = redliner::run::run(
                Arc::clone(&monitor),
                targets,
                &options,
                &SystemClock,
                shutdown,
                |c: Checked<'_>| {
                    if report_check(&c, quiet, format, style, &mut printed) == Stdout::Closed {
                        // `watch | head`: the reader is gone; stop as on
                        // SIGTERM (the checks in flight still finish and
                        // their alerts are still delivered).
                        if !quiet {
                            super::status(
                                tracing::Level::INFO,
                                None,
                                format_args!("stdout closed; stopping"),
                            );
                        }
                        let _ = stop_when_stdout_closes.send(true);
                    }
                    let _ = deliver.send(());
                },
            )
            .await;
            // The checks are over (a signal, or `--once` done): the server
            // stops too, after the requests in progress.
            let _ = stop_server.send(true);
            if let Some(server) = server
                && let Ok(Err(e)) = server.await
            {
                tracing::warn!("HTTP server: {e}");
            }
            summary
        })
    })?;
    if let Some(c) = &coordinator {
        c.stop();
    }
    if !quiet {
        super::status(
            tracing::Level::INFO,
            None,
            format_args!(
                "{} {} check{} ({} changed, {} failed)",
                if args.once { "done:" } else { "stopped after" },
                summary.checked,
                if summary.checked == 1 { "" } else { "s" },
                summary.changed,
                summary.failed
            ),
        );
    }
    Ok(if args.once && summary.failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Speaks systemd's notify protocol (`Type=notify`, sd_notify(3)) when
/// systemd started the daemon (`NOTIFY_SOCKET` set; otherwise nothing is
/// sent): `READY=1` once the signal handlers are in place, `WATCHDOG=1` at
/// half the unit's `WatchdogSec` from the runtime the checks run on (a
/// wedged run loop stops the pings and systemd restarts the daemon), and
/// `STOPPING=1` when a stop is asked.
fn tell_systemd(mut shutdown: watch::Receiver<bool>, targets: usize) {
    use sd_notify::NotifyState;
    let status = format!(
        "watching {targets} target{}",
        if targets == 1 { "" } else { "s" }
    );
    if let Err(e) = sd_notify::notify(&[NotifyState::Ready, NotifyState::Status(&status)]) {
        tracing::warn!("telling systemd the daemon is ready: {e}");
    }
    if let Some(timeout) = sd_notify::watchdog_enabled() {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(timeout / 2);
            loop {
                tick.tick().await;
                if let Err(e) = sd_notify::notify(&[NotifyState::Watchdog]) {
                    tracing::warn!("pinging the systemd watchdog: {e}");
                }
            }
        });
    }
    tokio::spawn(async move {
        if shutdown.wait_for(|stop| *stop).await.is_ok() {
            let _ = sd_notify::notify(&[NotifyState::Stopping]);
        }
    });
}

/// The status line `watch` starts with: a daemon says how to stop it;
/// `--once` says it exits by itself.
fn start_line(once: bool, targets: usize, store: &std::path::Path) -> String {
    let plural = if targets == 1 { "" } else { "s" };
    if once {
        format!(
            "checking what is due now of {targets} target{plural} (store `{}`), then exiting",
            store.display()
        )
    } else {
        format!(
            "watching {targets} target{plural} (store `{}`); stop with SIGINT or SIGTERM",
            store.display()
        )
    }
}

/// Whether stdout still has a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stdout {
    Open,
    Closed,
}

/// One status line on stderr (unless `-q`) and, for a change, the redline on
/// stdout, flushed at once so the journal gets it whole. Says
/// [`Stdout::Closed`] when stdout's reader has gone.
fn report_check(
    c: &Checked<'_>,
    quiet: bool,
    format: CheckFormat,
    style: redliner::report::TerminalStyle,
    printed: &mut usize,
) -> Stdout {
    let next = c
        .next_due
        .map(|n| format!("; next check {}", n.round(jiff::Unit::Second).unwrap_or(n)))
        .unwrap_or_default();
    match c.result {
        Ok(outcome) => {
            if !quiet {
                super::status(
                    tracing::Level::INFO,
                    Some(&c.target.id),
                    format_args!("{}{next}", outcome.describe()),
                );
            }
            if let Outcome::Changed { redline, .. } = outcome {
                let mut out = super::output::PipeAware::new(std::io::stdout().lock());
                let result = if *printed > 0 && format != CheckFormat::Json {
                    writeln!(out)
                } else {
                    Ok(())
                }
                .and_then(|()| report::render(redline, format.into(), style, &mut out))
                .and_then(|()| out.flush());
                match out.result(result) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Stdout::Closed,
                    Err(e) => super::status(
                        tracing::Level::WARN,
                        None,
                        format_args!("writing the redline to stdout: {e}"),
                    ),
                }
                *printed += 1;
            }
        }
        Err(e) => {
            super::print_error(e);
            if !quiet && !next.is_empty() {
                super::status(
                    tracing::Level::WARN,
                    Some(&c.target.id),
                    format_args!("will retry{next}"),
                );
            }
        }
    }
    Stdout::Open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_line_fits_the_mode() {
        let store = std::path::Path::new("/var/lib/redliner");
        let cases = [
            (
                false,
                1,
                "watching 1 target (store `/var/lib/redliner`); stop with SIGINT or SIGTERM",
            ),
            (
                false,
                7,
                "watching 7 targets (store `/var/lib/redliner`); stop with SIGINT or SIGTERM",
            ),
            (
                true,
                1,
                "checking what is due now of 1 target (store `/var/lib/redliner`), then exiting",
            ),
            (
                true,
                3,
                "checking what is due now of 3 targets (store `/var/lib/redliner`), then exiting",
            ),
        ];
        for (once, n, want) in cases {
            assert_eq!(start_line(once, n, store), want, "{once} {n}");
        }
    }
}
