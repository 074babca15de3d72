//! `redliner backfill TARGET [--from DATE] [--to DATE] [--archive NAME]`:
//! imports the target's past captures from a web archive as dated snapshots
//! (see `redliner::backfill`). Never alerts.

use std::process::ExitCode;

use clap::Args;

use redliner::backfill::{Backfill, bound};
use redliner::error::Error;
use redliner::fetch::Fetcher;
use redliner::store::lock::StoreLock;

use super::Global;

/// Arguments of `redliner backfill`.
#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Target id (its URL and rules come from the config)
    pub target: String,
    /// Oldest capture to import: a date such as 2006, 2012-03 or 2012-03-02 (UTC)
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Newest capture to import (the whole period the date names is included)
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// The archive: `wayback` (the Internet Archive, the default) or an
    /// `[archives.NAME]` of the config
    #[arg(long, value_name = "NAME", default_value = "wayback")]
    pub archive: String,
}

/// Lists the captures, imports the new ones, and says what became of them
/// on stderr. Exit 2 when the archive stopped answering (what was imported
/// stays; run again to resume).
///
/// # Errors
/// Config and store errors; [`Error::Usage`] for a bad date or an unknown
/// archive.
pub fn run(global: &Global, args: &BackfillArgs) -> Result<ExitCode, Error> {
    let settings = global.settings()?;
    let target = settings
        .select(std::slice::from_ref(&args.target))?
        .remove(0);
    let archive = settings.archives.get(&args.archive).ok_or_else(|| {
        Error::Usage(format!(
            "no archive `{}` (known: {}; add one as [archives.NAME] in the config)",
            args.archive,
            settings
                .archives
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let from = args
        .from
        .as_deref()
        .map(bound)
        .transpose()
        .map_err(|m| Error::Usage(format!("--from {m}")))?;
    let to = args
        .to
        .as_deref()
        .map(bound)
        .transpose()
        .map_err(|m| Error::Usage(format!("--to {m}")))?;
    if let (Some(f), Some(t)) = (&from, &to)
        && f.as_str() > t.as_str()
    {
        return Err(Error::Usage(format!(
            "--from {} is after --to {}",
            args.from.as_deref().unwrap_or_default(),
            args.to.as_deref().unwrap_or_default()
        )));
    }
    if !settings
        .store
        .to_str()
        .is_some_and(redliner::store::db::postgres::is_url)
    {
        std::fs::create_dir_all(&settings.store).map_err(|source| Error::Io {
            path: settings.store.display().to_string(),
            source,
        })?;
    }
    let _lock = StoreLock::acquire(&settings.store, "backfill", settings.watch.lock_wait)?;
    let mut store = settings.open_store()?;
    store.set_feed_scope(settings.targets.iter().map(|t| t.id.as_str()));
    store.set_public_url(settings.serve.public_url.clone());
    redliner::archive::recover(&store)?;
    store.seal_unsealed()?;
    // An archive under load answers 429/503 now and then: a replay is tried
    // a few times (after its Retry-After) before the run stops to resume later.
    let mut fetch = settings.fetch.clone();
    fetch.retries = fetch.retries.max(2);
    let fetcher = Fetcher::new(fetch).map_err(|source| Error::Fetch {
        target: target.id.clone(),
        source,
    })?;
    let quiet = global.quiet;
    let runtime = super::runtime()?;
    let result = runtime.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        super::listen_for_signals(
            stop_tx,
            "stopping; the capture in flight is left to the next run",
        )?;
        let mut backfill = Backfill::new(&mut store, &fetcher, archive, &target);
        backfill.stop = Some(stop_rx);
        let captures = backfill.list(from.as_deref(), to.as_deref()).await?;
        if !quiet {
            super::status(
                tracing::Level::INFO,
                Some(&target.id),
                format_args!(
                    "{} capture{} in `{}`",
                    captures.len(),
                    if captures.len() == 1 { "" } else { "s" },
                    archive.name
                ),
            );
        }
        let bar = super::progress_bar(global, Some(captures.len() as u64), "captures");
        let shown = bar.clone();
        backfill.on_capture = Box::new(move |capture, outcome| {
            shown.set_message(format!("{} {outcome}", capture.at.strftime("%Y-%m-%d")));
            shown.inc(1);
        });
        let summary = backfill.import(&captures).await;
        bar.finish_and_clear();
        summary
    });
    // The feeds list the newest revisions: rewritten when the backfill
    // added any (they are dated by capture, so they sort as they happened).
    let feeds = redliner::archive::refresh_feeds_for(&store, &[] as &[&str]);
    if let Err(e) = feeds {
        super::status(tracing::Level::WARN, None, format_args!("feeds: {e}"));
    }
    let summary = result?;
    for (timestamp, why) in &summary.refused {
        if !quiet {
            super::status(
                tracing::Level::INFO,
                Some(&target.id),
                format_args!("capture {timestamp} refused: {why}"),
            );
        }
    }
    if !quiet {
        super::status(
            tracing::Level::INFO,
            Some(&target.id),
            format_args!(
                "{} stored, {} unchanged, {} duplicate{}, {} refused, {} looked at before; {} revision{} to later snapshots",
                summary.stored,
                summary.unchanged,
                summary.duplicates,
                if summary.duplicates == 1 { "" } else { "s" },
                summary.refused.len(),
                summary.earlier,
                summary.linked,
                if summary.linked == 1 { "" } else { "s" },
            ),
        );
    }
    if !summary.failed.is_empty() {
        for (timestamp, why) in &summary.failed {
            super::status(
                tracing::Level::WARN,
                Some(&target.id),
                format_args!("capture {timestamp} not fetched: {why}"),
            );
        }
        super::status(
            tracing::Level::WARN,
            Some(&target.id),
            format_args!(
                "{} capture{} could not be fetched; run again to try {}",
                summary.failed.len(),
                if summary.failed.len() == 1 { "" } else { "s" },
                if summary.failed.len() == 1 {
                    "it"
                } else {
                    "them"
                },
            ),
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
