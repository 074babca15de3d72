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

use crate::ids::{RevisionId, SnapshotId};
use std::collections::HashMap;
use std::path::PathBuf;

use jiff::Timestamp;
use tracing::{debug, warn};

use crate::diff::{self, DiffOptions};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::extract;
use crate::fetch;
use crate::report::{Redline, atom_feed, document_notes, feed_id};
use crate::store::{CheckStore, SnapshotRow, Store, StoredRevision};
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
    let stored = store.real_revision_between(&new.target, old.id, new.id)?;
    redline_with(store, old, new, stored, opts)
}

/// The redline from `old` to `new`; `stored` is the real revision recorded
/// between them, if any. Reads the two snapshots' rows and documents and a
/// few indexed rows, never the target's whole history.
fn redline_with(
    store: &Store,
    old: &SnapshotRow,
    new: &SnapshotRow,
    stored: Option<RevisionId>,
    opts: &DiffOptions,
) -> Result<Option<Redline>> {
    let target = &new.target;
    // Re-extraction records a technical revision from a snapshot to itself; a
    // technical revision between two snapshots is a layout change (see
    // `crate::layout`), whose documents were never rewritten.
    let stored = match stored {
        Some(id) if !store.reextracted(old.id)? && !store.reextracted(new.id)? => {
            Some(store.revision(target, id)?)
        }
        _ => None,
    };
    // The new document for its notes; the old one only when the revision
    // is computed (a stored one is read as it was recorded), though a
    // redline whose old snapshot is gone is still left out (`report` says so).
    let new_doc = load(store, new)?;
    let (revision, old_title) = match stored {
        Some(Some(rev)) => {
            store.document_present(old)?;
            (Some(rev), old.title.clone())
        }
        Some(None) => {
            let old_doc = load(store, old)?;
            (diff::revision(&old_doc, &new_doc, opts), old_doc.meta.title)
        }
        None => {
            let old_doc = load(store, old)?;
            // Across a redesign with the same text there is nothing to read.
            // A new stamp there is a stamp-only revision.
            let revision = diff::revision(&old_doc, &new_doc, opts)
                .filter(|rev| crate::layout::redesign_only(&old_doc, &new_doc, Some(rev)).is_none())
                .map(|rev| crate::layout::restamped(&old_doc, &new_doc, Some(&rev)).unwrap_or(rev));
            (revision, old_doc.meta.title)
        }
    };
    let title = new_doc.meta.title.clone().or(old_title);
    Ok(match revision {
        Some(revision) => Some(Redline {
            target: target.clone(),
            url: new.url.clone(),
            title,
            old_captured_at: Some(old.captured_at),
            new_captured_at: new.captured_at,
            old_snapshot: Some(old.id),
            new_snapshot: Some(new.id),
            revision,
            notes: notes(store, old, new, &new_doc)?,
            link: store
                .public_url()
                .map(|base| crate::report::revision_page(base, target, new.id)),
        }),
        None => None,
    })
}

/// The notes the monitor gave this redline when it was found, said again:
/// content that came back (only when `old` is the snapshot right before
/// `new`, as at the check) and a fallback content root.
fn notes(
    store: &Store,
    old: &SnapshotRow,
    new: &SnapshotRow,
    new_doc: &Document,
) -> Result<Vec<String>> {
    let previous = store.recent_snapshots(&new.target, Some(new), 1)?;
    let recurrence = match previous.first() {
        Some(p) if p.id == old.id => {
            crate::alerting::recurrence_in(store, &new.target, Some(new), &new.content_hash)?
        }
        _ => None,
    };
    Ok(recurrence
        .map(crate::alerting::Recurrence::note)
        .into_iter()
        .chain(source_notes(old, new))
        .chain(document_notes(&new_doc.meta))
        .collect())
}

/// What a redline must say of snapshots imported from a web archive: not
/// checked by redliner, but captured by the archive (with the replay).
pub fn source_notes(old: &SnapshotRow, new: &SnapshotRow) -> Vec<String> {
    let note = |which: &str, row: &SnapshotRow| {
        row.source.as_ref().map(|archive| {
            format!(
                "The {which} version is a capture of {} by the `{archive}` web archive, \
                 imported by redliner{}",
                row.captured_at.strftime("%Y-%m-%d %H:%M UTC"),
                row.source_url
                    .as_deref()
                    .map_or_else(String::new, |u| format!(" ({u})"))
            )
        })
    };
    [note("older", old), note("newer", new)]
        .into_iter()
        .flatten()
        .collect()
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
/// redlines, oldest first. At most the newest `limit` when given; a
/// revision that vanished after re-extraction is left out after the limit
/// is applied.
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
    let mut rows = store.real_revisions(Some(target), since, until, limit)?;
    rows.reverse();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(r) = stored_redline(store, &row, opts)? {
            out.push(r);
        }
    }
    Ok(out)
}

/// The redline of one stored real revision; `None` when it vanished after
/// re-extraction.
fn stored_redline(
    store: &Store,
    row: &StoredRevision,
    opts: &DiffOptions,
) -> Result<Option<Redline>> {
    let redline = redline_with(store, &row.old, &row.new, Some(row.revision.id), opts)?;
    if redline.is_none() {
        debug!(
            target = %row.revision.target,
            old = %row.old.id,
            new = %row.new.id,
            "revision vanished after re-extraction; left out"
        );
    }
    Ok(redline)
}

/// Rewrites the feeds a run's changes made stale, once each: the feed of
/// every target in `changed` and of every target whose revisions or
/// documents this store session wrote ([`Store::feeds_due`]), then the feed
/// for all targets, each with its newest [`FEED_ENTRIES`] revisions; then
/// marks the store clean ([`Store::settle`]). Returns the paths written.
///
/// Call it once at the end of a `check` run and after each check of
/// `watch`, with the store lock held and every batch committed. Its cost
/// is bounded by the feeds' entries, whatever the history's length.
///
/// # Errors
/// [`Error::Store`]; [`Error::Io`] when a feed cannot be rendered. A feed
/// that fails is left for [`recover`]; the others are still written, and
/// the first error is returned.
pub fn refresh_feeds_for<S: AsRef<str>>(store: &Store, changed: &[S]) -> Result<Vec<PathBuf>> {
    if store.files_in_database() {
        // No feed files: `serve` renders feeds from the database.
        store.feeds_written(&store.feeds_due());
        return Ok(Vec::new());
    }
    let mut due: Vec<String> = store.feeds_due();
    due.extend(changed.iter().map(|t| t.as_ref().to_string()));
    due.sort();
    due.dedup();
    let mut written = Vec::new();
    let mut first_error = None;
    let mut done = Vec::new();
    // The feed for all targets shows the newest revisions, mostly those the
    // targets' feeds just read: each is read (two documents) once.
    let mut read = FeedRedlines::default();
    for target in &due {
        match refresh_target_feed(store, target, &mut read) {
            Ok(path) => {
                written.push(path);
                done.push(target.as_str());
            }
            Err(e) => {
                debug!(target = %target, "atom feed not refreshed: {e}");
                first_error.get_or_insert(e);
            }
        }
    }
    if !due.is_empty() || scope_changed(store) {
        match refresh_all_feed(store, &mut read) {
            Ok(path) => {
                written.push(path);
                store.feeds_written(&done);
            }
            Err(e) => {
                debug!("atom feed for all targets not refreshed: {e}");
                first_error.get_or_insert(e);
            }
        }
    }
    for path in &written {
        debug!("feed written: `{}`", path.display());
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    store.settle()?;
    Ok(written)
}

/// Rewrites only the feed for all targets (`<store>/feed.atom`), after a
/// target was forgotten.
///
/// # Errors
/// [`Error::Store`]; [`Error::Io`] when the feed cannot be rendered.
pub fn refresh_combined_feed(store: &Store) -> Result<PathBuf> {
    if store.files_in_database() {
        return Ok(PathBuf::new());
    }
    let path = refresh_all_feed(store, &mut FeedRedlines::default())?;
    store.settle()?;
    Ok(path)
}

/// Redlines the feeds of one refresh have read, by revision id (`None`: the
/// revision vanished after re-extraction).
#[derive(Default)]
struct FeedRedlines(HashMap<RevisionId, Option<Redline>>);

impl FeedRedlines {
    /// [`stored_redline`] of `row`, read once per refresh.
    fn get(&mut self, store: &Store, row: &StoredRevision) -> Result<Option<Redline>> {
        if let Some(r) = self.0.get(&row.revision.id) {
            return Ok(r.clone());
        }
        let r = stored_redline(store, row, &DiffOptions::default())?;
        self.0.insert(row.revision.id, r.clone());
        Ok(r)
    }
}

fn refresh_target_feed(store: &Store, target: &str, read: &mut FeedRedlines) -> Result<PathBuf> {
    let bytes = target_feed(store, target, read)?;
    Ok(store.write_target_file(target, FEED_FILE, &bytes)?)
}

/// The Atom feed of `target` as `check` writes it to
/// `<store>/<target>/feed.atom` (a store whose files are in its database
/// keeps no feed files: `serve` renders them with this when asked).
///
/// # Errors
/// [`Error::Store`]; [`Error::Io`] when the feed cannot be rendered.
pub fn target_feed_bytes(store: &Store, target: &str) -> Result<Vec<u8>> {
    target_feed(store, target, &mut FeedRedlines::default())
}

/// The Atom feed for all targets, as [`target_feed_bytes`] for `<store>/feed.atom`.
///
/// # Errors
/// As [`target_feed_bytes`].
pub fn combined_feed_bytes(store: &Store) -> Result<Vec<u8>> {
    all_feed(store, &mut FeedRedlines::default())
}

fn target_feed(store: &Store, target: &str, read: &mut FeedRedlines) -> Result<Vec<u8>> {
    let mut rows = store.real_revisions(Some(target), None, None, Some(FEED_ENTRIES))?;
    rows.reverse();
    let mut redlines = Vec::with_capacity(rows.len());
    for row in &rows {
        redlines.extend(read.get(store, row)?);
    }
    let latest = store.recent_snapshots(target, None, 1)?;
    let title = match latest.first().and_then(|s| s.title.as_deref()) {
        Some(t) => format!("{t} ({target}): redlines"),
        None => format!("{target}: redlines"),
    };
    let mut bytes = Vec::new();
    atom_feed(&redlines, &feed_id(Some(target)), &title, &mut bytes).map_err(|e| Error::Io {
        path: FEED_FILE.into(),
        source: e,
    })?;
    Ok(bytes)
}

/// Rewrites the feed for all targets (`<store>/feed.atom`): the newest
/// [`FEED_ENTRIES`] real revisions across targets, read newest first from
/// one indexed query. Equal times list in target order, as the per-target
/// lists merged; only the targets of the store's feed scope
/// ([`Store::set_feed_scope`]), each contributing from its own newest
/// [`FEED_ENTRIES`] at most (what its feed holds).
fn refresh_all_feed(store: &Store, redlines: &mut FeedRedlines) -> Result<PathBuf> {
    let bytes = all_feed(store, redlines)?;
    let path = store.write_root_file(FEED_FILE, &bytes)?;
    store.write_root_file(FEED_SCOPE_FILE, store.feed_scope_key().as_bytes())?;
    store.mark_feed_scope_current();
    Ok(path)
}

fn all_feed(store: &Store, redlines: &mut FeedRedlines) -> Result<Vec<u8>> {
    let mut all = Vec::new();
    let mut per_target: HashMap<String, usize> = HashMap::new();
    let mut read = 0;
    let mut page = FEED_ENTRIES;
    // One page of rows is enough unless revisions vanished after
    // re-extraction: then read on, twice as far each time.
    'pages: loop {
        let rows = store.real_revisions(None, None, None, Some(page))?;
        let more = rows.len() == page;
        for row in rows.iter().skip(read) {
            read += 1;
            if !store.in_feed_scope(&row.revision.target) {
                continue;
            }
            let seen = per_target.entry(row.revision.target.clone()).or_default();
            if *seen >= FEED_ENTRIES {
                continue;
            }
            *seen += 1;
            if let Some(r) = redlines.get(store, row)? {
                all.push(r);
                if all.len() == FEED_ENTRIES {
                    break 'pages;
                }
            }
        }
        if !more {
            break;
        }
        page = page.saturating_mul(2);
    }
    let mut bytes = Vec::new();
    atom_feed(&all, &feed_id(None), "redliner: all targets", &mut bytes).map_err(|e| {
        Error::Io {
            path: FEED_FILE.into(),
            source: e,
        }
    })?;
    Ok(bytes)
}

/// Beside `<store>/feed.atom`: the [`Store::feed_scope_key`] it was
/// written for.
pub const FEED_SCOPE_FILE: &str = "feed.scope";

/// True when the feed for all targets exists and was written for another
/// set of targets than the store's scope now (the config gained or lost
/// targets since). Read once per store session: after each check under
/// `watch` it costs nothing.
fn scope_changed(store: &Store) -> bool {
    if store.feed_scope_current() {
        return false;
    }
    let changed = store.root().join(FEED_FILE).exists()
        && std::fs::read_to_string(store.root().join(FEED_SCOPE_FILE))
            .map_or(true, |k| k.trim() != store.feed_scope_key());
    if !changed {
        store.mark_feed_scope_current();
    }
    changed
}

/// What [`recover`] repaired after a run killed mid-write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Temp files, staging directories and unindexed snapshot directories
    /// cleaned (see [`Store::sweep_unfinished`]).
    pub swept: usize,
    /// Feeds rewritten because they were missing or older than the newest
    /// revision they should hold.
    pub feeds: Vec<PathBuf>,
}

/// Repairs what a run killed mid-write left. A store carrying the clean mark
/// ([`Store::is_clean`]: every earlier write finished, every feed current)
/// needs nothing, and costs one `stat`. Otherwise: sweeps the store
/// ([`Store::sweep_unfinished`]), rewrites every feed that is missing or
/// older (file modification time) than the newest revision of its target (of
/// any target, for `<store>/feed.atom`), as a run killed between its commit
/// and its feed refresh leaves them, and marks the store clean. Call with the
/// store lock held, before checking: `check`, `watch` (before each check)
/// and `reextract` do.
///
/// # Errors
/// [`Error::Store`] when the store cannot be read or a file removed or
/// written; [`Error::Io`] when a feed cannot be rendered.
pub fn recover(store: &Store) -> Result<Recovered> {
    if store.is_clean() {
        return Ok(Recovered::default());
    }
    let swept = store.sweep_unfinished()?;
    let mut feeds = Vec::new();
    let mut newest_all: Option<Timestamp> = None;
    let mut read = FeedRedlines::default();
    for target in store.targets()? {
        let Some(newest) = store.newest_revision_at(&target)? else {
            continue;
        };
        newest_all = newest_all.max(Some(newest));
        if is_stale(&store.root().join(&target).join(FEED_FILE), newest) {
            feeds.push(refresh_target_feed(store, &target, &mut read)?);
        }
    }
    if let Some(newest) = newest_all
        && (is_stale(&store.root().join(FEED_FILE), newest) || scope_changed(store))
    {
        feeds.push(refresh_all_feed(store, &mut read)?);
    }
    for path in &feeds {
        debug!(
            "rewrote `{}`: it was missing or older than the newest revision",
            path.display()
        );
    }
    store.mark_clean()?;
    Ok(Recovered { swept, feeds })
}

/// True when the file is missing, unreadable, or was last written before `newest`.
fn is_stale(path: &std::path::Path, newest: Timestamp) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|m| Timestamp::try_from(m).ok())
        .is_none_or(|written| written < newest)
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
    pub technical: Vec<(SnapshotId, RevisionId)>,
    /// Snapshots that no longer extract with the current rules, as
    /// `(snapshot id, error)`; their documents are kept.
    pub failed: Vec<(SnapshotId, String)>,
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
                warn!(target = %target.id, snapshot = %row.id, "re-extraction failed: {e}");
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
        if let Some(id) = record_reextracted(store, &target.id, &row, &old, &new, now, opts)? {
            done.technical.push((row.id, id));
        }
    }
    if !dry_run && done.changed > 0 {
        refresh_feeds_for(store, &[&target.id])?;
    }
    Ok(done)
}

/// Replaces a snapshot's document `old` by `new`, extracted again from the
/// same raw body, and records their difference (if the diff sees one) as a
/// technical revision from the snapshot to itself: never alerted, never in
/// `history`. Returns the technical revision's id. Used by [`reextract`] and
/// by a check whose previous snapshot was made by another extraction (see
/// [`crate::monitor`]).
///
/// # Errors
/// [`Error::Store`] when the document files or the index cannot be written.
pub fn record_reextracted<S: CheckStore + ?Sized>(
    store: &mut S,
    target: &str,
    row: &SnapshotRow,
    old: &Document,
    new: &Document,
    now: Timestamp,
    opts: &DiffOptions,
) -> Result<Option<RevisionId>> {
    store.replace_document(row, new)?;
    diff::revision(old, new, opts)
        .map(|rev| store.record_technical_revision(target, row.id, row.id, &rev, now))
        .transpose()
        .map_err(Error::from)
}

/// Extracts a stored snapshot's raw body again with `target`'s rules.
///
/// # Errors
/// [`Error::Store`] when the body cannot be read, [`Error::Extract`] when
/// the rules yield no document.
pub fn extract_row<S: CheckStore + ?Sized>(
    store: &S,
    row: &SnapshotRow,
    target: &Target,
) -> Result<Document> {
    let mut body = store.raw_body(row)?;
    // An imported capture is extracted as the backfill did: without the
    // archive's inserts (kept in the stored body as received).
    if row.source.is_some() {
        body = crate::backfill::strip_archive_inserts(&body).0;
    }
    let text = match encoding_rs::Encoding::for_label(row.charset.as_bytes()) {
        Some(enc) => enc.decode_with_bom_removal(&body).0.into_owned(),
        None => fetch::decode(&body, row.content_type.as_deref(), None).text,
    };
    // Same base as a live check: the configured URL (see `monitor::extract_page`).
    extract::extract(&text, Some(&target.url), &target.rules).map_err(|source| Error::Extract {
        target: target.id.clone(),
        url: row.final_url.clone(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::{FetchedPage, Validators};
    use crate::revision::RevisionKind;
    use crate::store::NewSnapshot;
    use crate::target::{Css, Rules};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn target(drop: &[&str]) -> Target {
        Target::new(
            "t",
            url::Url::parse("https://example.org/p").unwrap(),
            Rules {
                name: "test".into(),
                title: None,
                content: vec![Css::parse("main").unwrap()],
                drop: drop.iter().map(|d| Css::parse(d).unwrap()).collect(),
                ignore_text: Vec::new(),
                ignore_link: Vec::new(),
                min_text_chars: 1,
                ..Rules::generic()
            },
        )
    }

    fn html(paragraphs: &[&str]) -> String {
        let ps: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
        format!(
            "<html><head><meta charset=\"utf-8\"></head><body><main><h1>Page</h1><h2>One</h2>{ps}<p class=\"noise\">Request 12 served</p></main></body></html>"
        )
    }

    /// Stores each page in turn as a check would, one day apart, and returns the snapshot ids.
    fn store_pages(store: &mut Store, t: &Target, pages: &[String]) -> Vec<SnapshotId> {
        let mut ids: Vec<SnapshotId> = Vec::new();
        let mut previous: Option<Document> = None;
        for (i, body) in pages.iter().enumerate() {
            let when = at(&format!("2026-11-{:02}T10:00:00Z", 10 + i));
            let page = FetchedPage {
                url: t.url.to_string(),
                final_url: t.url.to_string(),
                status: 200,
                content_type: Some("text/html".into()),
                charset: "UTF-8".into(),
                charset_source: crate::fetch::CharsetSource::Header,
                malformed: 0,
                cut_mid_character: false,
                body: body.clone().into_bytes(),
                text: body.clone(),
                validators: Validators::default(),
                fetched_at: when,
                close_delimited: false,
            };
            let doc = extract::extract(body, None, &t.rules).unwrap();
            let rev = previous
                .as_ref()
                .and_then(|old| diff::revision(old, &doc, &DiffOptions::default()));
            let rec = store
                .record_snapshot(NewSnapshot {
                    target: &t.id,
                    url: t.url.as_str(),
                    page: &page,
                    document: &doc,
                    captured_at: when,
                    started_at: when,
                    duration_ms: 1,
                    previous: ids.last().copied(),
                    revision: rev.as_ref(),
                    redline_markdown: None,
                    alerts: None,
                    technical: false,
                    note: None,
                    source_fingerprint: None,
                    source_mask: None,
                    content_hash: None,
                    archived: None,
                })
                .unwrap();
            ids.push(rec.snapshot_id);
            previous = Some(doc);
        }
        ids
    }

    fn row(store: &Store, id: SnapshotId) -> SnapshotRow {
        store.snapshot("t", id).unwrap().unwrap().row
    }

    #[test]
    fn redlines_between_any_two_snapshots() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        let t = target(&[]);
        let pages = [
            html(&["Alpha text."]),
            html(&["Alpha text.", "Beta text."]),
            html(&["Gamma text."]),
        ];
        let ids = store_pages(&mut store, &t, &pages);
        let opts = DiffOptions::default();
        let cases = [
            // (old, new, kind, words added, words removed)
            (0, 1, Some(RevisionKind::Changed), 2, 0),
            (1, 2, Some(RevisionKind::Changed), 1, 3),
            (0, 2, Some(RevisionKind::Changed), 1, 1),
            (2, 2, None, 0, 0),
        ];
        for (old, new, kind, added, removed) in cases {
            let r = redline_between(
                &store,
                &row(&store, ids[old]),
                &row(&store, ids[new]),
                &opts,
            )
            .unwrap();
            let got = r.as_ref().map(|r| {
                (
                    r.revision.kind,
                    r.revision.summary.words_added,
                    r.revision.summary.words_removed,
                )
            });
            assert_eq!(got, kind.map(|k| (k, added, removed)), "{old} -> {new}");
            if let Some(r) = r {
                assert_eq!(
                    (r.old_snapshot, r.new_snapshot, r.new_captured_at),
                    (
                        Some(ids[old]),
                        Some(ids[new]),
                        row(&store, ids[new]).captured_at
                    )
                );
            }
        }
        let window = |since: &str, until: &str| -> Vec<Option<SnapshotId>> {
            stored_redlines(&store, "t", Some(at(since)), Some(at(until)), None, &opts)
                .unwrap()
                .iter()
                .map(|r| r.new_snapshot)
                .collect()
        };
        assert_eq!(
            window("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"),
            [Some(ids[1]), Some(ids[2])]
        );
        assert_eq!(
            window("2026-11-12T00:00:00Z", "2026-12-01T00:00:00Z"),
            [Some(ids[2])]
        );
        assert_eq!(
            window("2026-11-11T10:00:00Z", "2026-11-12T10:00:00Z"),
            [Some(ids[1])]
        );
        assert_eq!(window("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"), []);
        let newest = stored_redlines(&store, "t", None, None, Some(1), &opts).unwrap();
        assert_eq!(
            newest.iter().map(|r| r.new_snapshot).collect::<Vec<_>>(),
            [Some(ids[2])]
        );
    }

    #[test]
    fn reextract_records_technical_revisions_and_readers_follow_the_new_documents() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        let t = target(&[]);
        // Only a site-specific per-request line changed: a revision that is
        // extraction noise until the rules drop it.
        let noisy = html(&["Alpha text."]).replace("Request 12", "Request 13");
        let ids = store_pages(&mut store, &t, &[html(&["Alpha text."]), noisy]);
        let opts = DiffOptions::default();
        assert_eq!(
            stored_redlines(&store, "t", None, None, None, &opts)
                .unwrap()
                .len(),
            1
        );

        let better = target(&[".noise"]);
        let now = at("2026-12-01T00:00:00Z");
        let dry = reextract(&mut store, &better, true, now, &opts).unwrap();
        assert_eq!((dry.snapshots, dry.changed, dry.technical.len()), (2, 2, 0));
        assert!(store.revisions("t").unwrap().iter().all(|r| !r.technical));

        let done = reextract(&mut store, &better, false, now, &opts).unwrap();
        assert_eq!((done.snapshots, done.changed, done.failed.len()), (2, 2, 0));
        let technical: Vec<(SnapshotId, SnapshotId, bool)> = store
            .revisions("t")
            .unwrap()
            .iter()
            .filter(|r| r.technical)
            .map(|r| {
                (
                    r.old_snapshot_id,
                    r.new_snapshot_id,
                    // these pages have no stamp: `changed`, never `silent-edit`
                    r.kind == RevisionKind::Changed,
                )
            })
            .collect();
        assert_eq!(technical.len(), 2);
        assert!(
            technical.iter().all(|&(o, n, silent)| o == n && silent),
            "{technical:?}"
        );
        for id in &ids {
            let doc = store.snapshot("t", *id).unwrap().unwrap().document;
            assert!(!serde_json::to_string(&doc).unwrap().contains("Request"));
        }
        // The real revision vanished under the new rules: no report, no feed entry.
        assert_eq!(
            stored_redlines(&store, "t", None, None, None, &opts).unwrap(),
            []
        );
        assert_eq!(
            redline_between(&store, &row(&store, ids[0]), &row(&store, ids[1]), &opts).unwrap(),
            None
        );
        let feed = std::fs::read_to_string(root.path().join("t").join(FEED_FILE)).unwrap();
        assert!(!feed.contains("<entry>"), "{feed}");
        assert!(root.path().join(FEED_FILE).is_file());

        // Running it again changes nothing.
        let again = reextract(&mut store, &better, false, now, &opts).unwrap();
        assert_eq!((again.changed, again.technical.len()), (0, 0));
    }

    #[test]
    fn a_page_that_no_longer_extracts_keeps_its_document() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        let t = target(&[]);
        let ids = store_pages(&mut store, &t, &[html(&["Alpha text."])]);
        let before = store.snapshot("t", ids[0]).unwrap().unwrap().document;
        let mut broken = t.clone();
        broken.rules.min_text_chars = 10_000;
        let done = reextract(
            &mut store,
            &broken,
            false,
            at("2026-12-01T00:00:00Z"),
            &DiffOptions::default(),
        )
        .unwrap();
        assert_eq!((done.snapshots, done.changed, done.failed.len()), (1, 0, 1));
        assert_eq!(done.failed[0].0, ids[0]);
        assert_eq!(
            store.snapshot("t", ids[0]).unwrap().unwrap().document,
            before
        );
    }

    /// `recover` at the start of every run listed every snapshot directory
    /// of every target. A store whose writes all finished carries the clean
    /// mark and is not scanned; one a run left unfinished (no mark) is
    /// repaired in full, and marked clean again.
    #[test]
    fn recover_scans_nothing_on_a_clean_store_and_repairs_an_unfinished_one() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        let t = target(&[]);
        store_pages(
            &mut store,
            &t,
            &[html(&["Alpha text."]), html(&["Alpha text.", "Beta text."])],
        );
        // Written and not settled: no mark, and the target's feed is due.
        assert!(!store.is_clean());
        assert_eq!(store.feeds_due(), ["t"]);
        let written = refresh_feeds_for::<&str>(&store, &[]).unwrap();
        assert_eq!(
            written,
            [
                root.path().join("t").join(FEED_FILE),
                root.path().join(FEED_FILE)
            ]
        );
        assert!(store.is_clean());
        assert_eq!(store.feeds_due(), Vec::<String>::new());

        // What a killed run leaves: staging, an unindexed snapshot directory.
        let staging = root.path().join("t").join(".tmp-snapshot-Ab12Cd");
        let unindexed = root.path().join("t").join("2030-01-01T00-00-00Z");
        for dir in [&staging, &unindexed] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("document.json"), "{}").unwrap();
        }
        // With the mark, nothing is listed: they stay.
        let store = Store::open(root.path()).unwrap();
        assert_eq!(recover(&store).unwrap(), Recovered::default());
        assert!(staging.is_dir() && unindexed.is_dir());
        // Without it (the kill removed it before writing), all is repaired.
        std::fs::remove_file(root.path().join(crate::store::CLEAN_FILE)).unwrap();
        let store = Store::open(root.path()).unwrap();
        assert_eq!(recover(&store).unwrap().swept, 2);
        assert!(!staging.exists() && !unindexed.exists());
        assert!(store.is_clean());
    }
}
