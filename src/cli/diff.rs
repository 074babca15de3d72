//! `redliner diff TARGET [FROM] [TO]`: the redline between any two stored
//! snapshots (default the latest two). `redliner diff OLD NEW`: between two
//! local files (or URLs), no store needed.
//!
//! Identical documents print nothing; `--exit-code` exits 1 when they differ.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use jiff::Timestamp;

use redliner::archive::redline_between;
use redliner::diff::{self, DiffOptions};
use redliner::error::Error;
use redliner::layout;
use redliner::report::{self, Redline};
use redliner::target::Rules;

use super::Global;
use super::output::{RedlineFormat, emit};
use super::show::resolve;
use super::source::{is_url, load_document, open_store, optional_settings};

/// Arguments of `redliner diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// A target id, or the OLD page (a local file or an http(s) URL)
    #[arg(value_name = "TARGET|OLD")]
    pub first: String,
    /// The old snapshot (default: the one before TO), or the NEW page
    #[arg(value_name = "FROM|NEW")]
    pub from: Option<String>,
    /// The new snapshot (default: the latest)
    #[arg(value_name = "TO")]
    pub to: Option<String>,
    /// For two pages: use this configured target's extraction rules (default: generic)
    #[arg(long, value_name = "ID")]
    pub target: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = RedlineFormat::Terminal)]
    pub format: RedlineFormat,
    /// Exit with 1 when the documents differ (0 when identical, 2 on failure)
    #[arg(long)]
    pub exit_code: bool,
    /// Write to this file instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Prints the redline between two snapshots or two pages; exit 1 with
/// `--exit-code` when they differ.
///
/// # Errors
/// [`Error::Usage`], [`Error::NotFound`], extraction, store and output errors.
pub fn run(global: &Global, args: &DiffArgs) -> Result<ExitCode, Error> {
    let redline = if is_url(&args.first) || Path::new(&args.first).is_file() {
        pages(global, args)?
    } else {
        stored(global, args)?
    };
    let Some(redline) = redline else {
        return Ok(ExitCode::SUCCESS);
    };
    emit(
        args.output.as_deref(),
        global.terminal_style(),
        |out, style| report::render(&redline, args.format.into(), style, out),
    )?;
    Ok(if args.exit_code {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Two pages given as files or URLs.
fn pages(global: &Global, args: &DiffArgs) -> Result<Option<Redline>, Error> {
    let new_input = args.from.as_deref().ok_or_else(|| {
        Error::Usage(format!(
            "`{}` is a page: give the NEW page too (`redliner diff OLD NEW`)",
            args.first
        ))
    })?;
    if let Some(extra) = &args.to {
        return Err(Error::Usage(format!(
            "two pages take no third argument (got `{extra}`)"
        )));
    }
    let settings = optional_settings(global)?;
    let old = load_document(&args.first, settings.as_ref(), args.target.as_deref())?;
    let new = load_document(new_input, settings.as_ref(), args.target.as_deref())?;
    let revision = diff::revision(&old, &new, &DiffOptions::default());
    // The same text under a new template is no redline (as `check` stores it
    // quietly as "layout changed"); say so on stderr.
    let rules = settings
        .as_ref()
        .zip(args.target.as_deref())
        .and_then(|(s, id)| s.target(id))
        .map_or_else(Rules::generic, |t| t.rules.clone());
    if let Some(change) = layout::redesign_only(&old, &new, revision.as_ref()) {
        if !global.quiet {
            super::status(
                tracing::Level::WARN,
                None,
                format_args!("layout changed, same text: {}", change.warning(&rules)),
            );
        }
        return Ok(None);
    }
    // The same text under a new template with a new stamp: stamp-only.
    let restamped = layout::restamped(&old, &new, revision.as_ref());
    let Some(revision) = restamped.or(revision) else {
        return Ok(None);
    };
    // Without --target the redline is named after the new page's file (or URL).
    let name = args.target.clone().unwrap_or_else(|| {
        std::path::Path::new(new_input).file_name().map_or_else(
            || new_input.to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    });
    // As `check` notes it on a revision across a redesign.
    let notes = layout::template_change(&old, &new)
        .map(|c| format!("layout changed: {}", c.warning(&rules)))
        .into_iter()
        .chain(report::document_notes(&new.meta))
        .collect();
    Ok(Some(Redline {
        target: name,
        url: new_input.to_string(),
        title: new.meta.title.clone().or_else(|| old.meta.title.clone()),
        old_captured_at: Some(modified_at(&args.first)),
        new_captured_at: modified_at(new_input),
        old_snapshot: None,
        new_snapshot: None,
        revision,
        notes,
        link: None,
    }))
}

/// A file's modification time (so the same files always give the same
/// redline); now for a URL or when the file system does not say.
fn modified_at(input: &str) -> Timestamp {
    if is_url(input) {
        return Timestamp::now();
    }
    std::fs::metadata(input)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| Timestamp::try_from(t).ok())
        .map(|t| t.round(jiff::Unit::Second).unwrap_or(t))
        .unwrap_or_else(Timestamp::now)
}

/// Two snapshots of a target in the store.
fn stored(global: &Global, args: &DiffArgs) -> Result<Option<Redline>, Error> {
    let target = &args.first;
    let (store, settings) = open_store(global)?;
    let all = store.snapshots(target)?;
    if all.is_empty() {
        let known = settings
            .as_ref()
            .is_some_and(|s| s.target(target).is_some());
        return Err(Error::NotFound(if known {
            format!("target `{target}`: no snapshots stored yet (run `redliner check {target}`)")
        } else {
            format!("`{target}` is neither a file nor a target with snapshots in the store")
        }));
    }
    let new = match &args.to {
        Some(name) => resolve(&store, target, name)?,
        None => all[0].clone(),
    };
    let old = match &args.from {
        Some(name) => resolve(&store, target, name)?,
        None => all
            .iter()
            .find(|s| (s.captured_at, s.id) < (new.captured_at, new.id))
            .cloned()
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "target `{target}`: snapshot #{} is the first; there is no earlier one to compare it with",
                    new.id
                ))
            })?,
    };
    if old.id == new.id {
        return Ok(None);
    }
    redline_between(&store, &old, &new, &DiffOptions::default())
}
