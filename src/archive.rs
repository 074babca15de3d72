//! The record read back: redlines between any two stored snapshots (for
//! `diff`, `report` and the Atom feeds), the feeds saved in the store, and
//! re-extraction of every stored page with the current rules.
//!
//! # Re-extraction never alerts
//!
//! [`reextract`] re-derives each snapshot's document from its raw body
//! (`page.html.gz`) and replaces `document.json`/`document.md`. Where the new
//! document differs from the old one *of the same snapshot*, the difference is
//! recorded as a technical revision (old and new snapshot id both that
//! snapshot's), kept apart from real revisions: never in `history`, never in a
//! report or feed, never handed to a notifier.
//!
//! The real revisions stay as recorded: they are what was reported and alerted
//! at the time (and `redline.md` beside each snapshot keeps that text).
//! Readers ([`redline_between`], [`stored_redlines`]) recompute a revision from
//! the current documents whenever either snapshot has been re-extracted, so
//! `diff`, `report` and the feeds always agree with `show`. A revision that
//! disappears under the new rules (it came only from extraction noise, such as
//! a view counter now ignored) is left out of reports and feeds. This follows
//! Open Terms Archive's model: re-extraction rewrites versions but never
//! notifies.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

use jiff::Timestamp;
use tracing::{debug, warn};

use crate::diff::{self, DiffOptions};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::extract;
use crate::fetch;
use crate::report::{Redline, atom_feed, feed_id};
use crate::store::{RevisionRow, SnapshotRow, Store};
use crate::target::Target;

/// The feed file name, per target (`<store>/<target>/feed.atom`) and for all
/// targets (`<store>/feed.atom`).
pub const FEED_FILE: &str = "feed.atom";

/// How many revisions a saved feed holds (the newest).
pub const FEED_ENTRIES: usize = 50;

/// The redline from snapshot `old` to snapshot `new` of one target, or `None`
/// when their documents are equal in content and stamp.
///
/// Uses the stored revision when `new` was recorded right after `old` and
/// neither has been re-extracted since; otherwise diffs the two stored
/// documents.
///
/// # Errors
/// [`Error::Store`] when a document or revision cannot be read.
pub fn redline_between(
    store: &Store,
    old: &SnapshotRow,
    new: &SnapshotRow,
    opts: &DiffOptions,
) -> Result<Option<Redline>> {
    let revisions = store.revisions(&new.target)?;
    redline_with(store, old, new, &revisions, opts)
}

fn redline_with(
    store: &Store,
    old: &SnapshotRow,
    new: &SnapshotRow,
    revisions: &[RevisionRow],
    opts: &DiffOptions,
) -> Result<Option<Redline>> {
    let target = &new.target;
    let old_doc = load(store, old)?;
    let new_doc = load(store, new)?;
    let reextracted: HashSet<i64> = revisions
        .iter()
        .filter(|r| r.technical)
        .map(|r| r.new_snapshot_id)
        .collect();
    let stored = revisions
        .iter()
        .find(|r| !r.technical && r.old_snapshot_id == old.id && r.new_snapshot_id == new.id)
        .filter(|_| !reextracted.contains(&old.id) && !reextracted.contains(&new.id));
    let revision = match stored {
        Some(row) => match store.revision(target, row.id)? {
            Some(rev) => Some(rev),
            None => diff::revision(&old_doc, &new_doc, opts),
        },
        None => diff::revision(&old_doc, &new_doc, opts),
    };
    Ok(revision.map(|revision| Redline {
        target: target.clone(),
        url: new.url.clone(),
        title: new_doc
            .meta
            .title
            .clone()
            .or_else(|| old_doc.meta.title.clone()),
        old_captured_at: Some(old.captured_at),
        new_captured_at: new.captured_at,
        old_snapshot: Some(old.id),
        new_snapshot: Some(new.id),
        revision,
    }))
}

fn load(store: &Store, row: &SnapshotRow) -> Result<Document> {
    store
        .snapshot(&row.target, row.id)?
        .map(|s| s.document)
        .ok_or_else(|| {
            Error::NotFound(format!(
                "target `{}`: snapshot {} vanished from the store",
                row.target, row.id
            ))
        })
}

/// The target's real revisions (technical ones left out) whose new snapshot
/// was captured in `since..until` (either bound open when `None`), as
/// redlines, oldest first. At most the newest `limit` when given.
///
/// # Errors
/// [`Error::Store`].
pub fn stored_redlines(
    store: &Store,
    target: &str,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    limit: Option<usize>,
    opts: &DiffOptions,
) -> Result<Vec<Redline>> {
    let snapshots = store.snapshots(target)?;
    let revisions = store.revisions(target)?;
    let by_id = |id: i64| snapshots.iter().find(|s| s.id == id);
    let mut rows: Vec<(&SnapshotRow, &SnapshotRow)> = revisions
        .iter()
        .filter(|r| !r.technical)
        .filter_map(|r| Some((by_id(r.old_snapshot_id)?, by_id(r.new_snapshot_id)?)))
        .filter(|(_, new)| {
            since.is_none_or(|s| new.captured_at >= s) && until.is_none_or(|u| new.captured_at < u)
        })
        .collect();
    rows.sort_by_key(|(_, new)| (new.captured_at, new.id));
    if let Some(limit) = limit {
        let skip = rows.len().saturating_sub(limit);
        rows.drain(..skip);
    }
    let mut out = Vec::with_capacity(rows.len());
    for (old, new) in rows {
        match redline_with(store, old, new, &revisions, opts)? {
            Some(r) => out.push(r),
            None => debug!(
                target = %target,
                old = old.id,
                new = new.id,
                "revision vanished after re-extraction; left out"
            ),
        }
    }
    Ok(out)
}

/// Rewrites the target's feed (`<store>/<target>/feed.atom`) and the feed
/// for all targets (`<store>/feed.atom`), each with its newest
/// [`FEED_ENTRIES`] revisions, and returns both paths.
///
/// # Errors
/// [`Error::Store`]; [`Error::Io`] when the feed for all targets cannot be
/// written.
pub fn refresh_feeds(store: &Store, target: &str) -> Result<[PathBuf; 2]> {
    let opts = DiffOptions::default();
    let redlines = stored_redlines(store, target, None, None, Some(FEED_ENTRIES), &opts)?;
    let title = match store.latest_snapshot(target)? {
        Some(s) => match s.document.meta.title {
            Some(t) => format!("{t} ({target}): redlines"),
            None => format!("{target}: redlines"),
        },
        None => format!("{target}: redlines"),
    };
    let mut bytes = Vec::new();
    atom_feed(&redlines, &feed_id(Some(target)), &title, &mut bytes).map_err(|e| Error::Io {
        path: FEED_FILE.into(),
        source: e,
    })?;
    let target_path = store.write_target_file(target, FEED_FILE, &bytes)?;

    let mut all = Vec::new();
    for t in store.targets()? {
        all.extend(stored_redlines(
            store,
            &t,
            None,
            None,
            Some(FEED_ENTRIES),
            &opts,
        )?);
    }
    all.sort_by_key(|r| std::cmp::Reverse(r.new_captured_at));
    all.truncate(FEED_ENTRIES);
    let mut bytes = Vec::new();
    atom_feed(&all, &feed_id(None), "redliner: all targets", &mut bytes).map_err(|e| {
        Error::Io {
            path: FEED_FILE.into(),
            source: e,
        }
    })?;
    let all_path = store.root().join(FEED_FILE);
    write_atomic(&all_path, &bytes)?;
    Ok([target_path, all_path])
}

fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// What [`reextract`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reextracted {
    /// Snapshots whose raw body was extracted again.
    pub snapshots: usize,
    /// Snapshots whose document came out different (replaced unless a dry run).
    pub changed: usize,
    /// Technical revisions recorded, as `(snapshot id, revision id)`; empty in
    /// a dry run.
    pub technical: Vec<(i64, i64)>,
    /// Snapshots that no longer extract with the current rules, as
    /// `(snapshot id, error)`; their documents are kept.
    pub failed: Vec<(i64, String)>,
}

/// Re-derives every stored document of `target` from its raw body with the
/// target's current rules, oldest snapshot first. The body is decoded with the
/// charset recorded for the snapshot (falling back to sniffing when that name
/// is unknown). A document that differs is replaced (unless `dry_run`) and the
/// difference recorded as a technical revision created at `now`; see the
/// module docs for why real revisions stay as recorded. Never notifies.
///
/// # Errors
/// [`Error::Store`] when a body cannot be read or a document written. A page
/// that no longer extracts is reported in [`Reextracted::failed`], not as an
/// error.
pub fn reextract(
    store: &mut Store,
    target: &Target,
    dry_run: bool,
    now: Timestamp,
    opts: &DiffOptions,
) -> Result<Reextracted> {
    let mut rows = store.snapshots(&target.id)?;
    rows.reverse();
    let mut done = Reextracted::default();
    for row in rows {
        done.snapshots += 1;
        let old = load(store, &row)?;
        let new = match extract_row(store, &row, target) {
            Ok(doc) => doc,
            Err(e) => {
                warn!(target = %target.id, snapshot = row.id, "re-extraction failed: {e}");
                done.failed.push((row.id, e.to_string()));
                continue;
            }
        };
        if new == old {
            continue;
        }
        done.changed += 1;
        if dry_run {
            continue;
        }
        store.replace_document(&row, &new)?;
        if let Some(rev) = diff::revision(&old, &new, opts) {
            let id = store.record_technical_revision(&target.id, row.id, row.id, &rev, now)?;
            done.technical.push((row.id, id));
        }
    }
    if !dry_run && done.changed > 0 {
        refresh_feeds(store, &target.id)?;
    }
    Ok(done)
}

/// Extracts a stored snapshot's raw body again with `target`'s rules.
///
/// # Errors
/// [`Error::Store`] when the body cannot be read, [`Error::Extract`] when
/// the rules yield no document.
pub fn extract_row(store: &Store, row: &SnapshotRow, target: &Target) -> Result<Document> {
    let body = store.raw_body(row)?;
    let text = match encoding_rs::Encoding::for_label(row.charset.as_bytes()) {
        Some(enc) => enc.decode_with_bom_removal(&body).0.into_owned(),
        None => fetch::decode(&body, row.content_type.as_deref(), None).text,
    };
    let base = url::Url::parse(&row.final_url).ok();
    extract::extract(&text, base.as_ref(), &target.rules).map_err(|source| Error::Extract {
        target: target.id.clone(),
        url: row.final_url.clone(),
        source,
    })
}
