//! `redliner reextract TARGET [--dry-run]`: re-derives every stored document
//! from the raw bodies with the target's current rules. Differences are
//! recorded as technical revisions and never alerted (see `redliner::archive`).

use std::process::ExitCode;

use clap::Args;
use jiff::Timestamp;

use redliner::archive::reextract;
use redliner::diff::DiffOptions;
use redliner::error::Error;

use super::Global;

/// Arguments of `redliner reextract`.
#[derive(Debug, Args)]
pub struct ReextractArgs {
    /// Target id (its rules come from the config)
    pub target: String,
    /// Extract and compare, but write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Re-extracts every snapshot of the target; a summary goes to stderr.
/// Exit 2 when some snapshot no longer extracts (its document is kept).
///
/// # Errors
/// Config and store errors.
pub fn run(global: &Global, args: &ReextractArgs) -> Result<ExitCode, Error> {
    let settings = global.settings()?;
    let target = settings
        .select(std::slice::from_ref(&args.target))?
        .remove(0);
    if !super::source::store_exists(&settings.store)? {
        return Err(Error::NotFound(format!(
            "no store at `{}` (run `redliner check` first, or pass --store DIR)",
            settings.store.display()
        )));
    }
    // Documents are rewritten: hold the store lock as `check` does, so a
    // check never compares against a half re-extracted history.
    let _lock = (!args.dry_run)
        .then(|| {
            redliner::store::lock::StoreLock::acquire(
                &settings.store,
                "reextract",
                settings.watch.lock_wait,
            )
        })
        .transpose()?;
    let mut store = settings.open_store()?;
    store.set_feed_scope(settings.targets.iter().map(|t| t.id.as_str()));
    store.set_public_url(settings.serve.public_url.clone());
    if !args.dry_run {
        // With the lock held, as `check` does: no run killed mid-write
        // leaves its temp files or a stale feed behind this one.
        redliner::archive::recover(&store)?;
    }
    let done = reextract(
        &mut store,
        &target,
        args.dry_run,
        Timestamp::now(),
        &DiffOptions::default(),
    )?;
    for (id, error) in &done.failed {
        super::status(
            tracing::Level::WARN,
            None,
            format_args!("snapshot {id} kept as it was: {error}"),
        );
    }
    if !global.quiet || !done.failed.is_empty() {
        let verb = if args.dry_run {
            "would change"
        } else {
            "changed"
        };
        super::status(
            tracing::Level::INFO,
            Some(&target.id),
            format_args!(
                "{} snapshot{} re-extracted, {} {verb} technically{}",
                done.snapshots,
                if done.snapshots == 1 { "" } else { "s" },
                done.changed,
                if done.failed.is_empty() {
                    String::new()
                } else {
                    format!(", {} failed", done.failed.len())
                }
            ),
        );
    }
    Ok(if done.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
