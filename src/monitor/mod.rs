//! The composition root: runs the pipeline (fetch → extract → store → diff →
//! report) for one target at a time and turns each run into an [`Outcome`].
//!
//! A failure at any stage records a failed check and nothing else: no snapshot,
//! no revision, the previous baseline untouched.
//!
//! Two checks guard the record from what is not a revision (see
//! [`crate::layout`]):
//!
//! - a page whose template changed (content root, stamp's place) and whose
//!   text did not is stored as a technical "layout changed" snapshot: later
//!   checks compare against it, it is never alerted and never a content
//!   revision, and a warning names the rule to update. Another page in its
//!   place (little shared text, much shorter) is refused;
//! - a body whose charset cannot decode it is refused (a failed check),
//!   unless the previous snapshot's body had such bytes too;
//! - a body that looks cut (see [`layout::looks_cut`]) and differs from the
//!   last snapshot is fetched again at once: whole and equal to the last
//!   snapshot, the check is `unchanged` with a warning; cut the same way
//!   twice, it is stored and flagged; anything else is `unconfirmed`;
//! - a content change is confirmed by a second, plain GET after the target's
//!   `confirm_after`: stored and alerted only when both fetches give the same
//!   content fingerprint, else the check is `unconfirmed`, nothing is stored
//!   and the next run tries again.

use crate::ids::SnapshotId;
use std::ops::ControlFlow;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use jiff::Timestamp;
use tracing::{debug, info, warn};

use crate::archive;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::diff::{self, DiffOptions};
use crate::document::{Document, Extraction};
use crate::error::{Error, Result};
use crate::extract;
use crate::extract::fingerprint::{Match, Source};
use crate::fetch::{self, Fetch, Fetched, FetchedPage, Fetcher};
use crate::layout;
use crate::report::{self, Format, Redline};
use crate::revision::{Revision, RevisionKind};
use crate::store::{
    CheckOutcome, CheckRecord, CheckStore, NewSnapshot, SnapshotRow, Store, StoreError,
    StoredSnapshot,
};
use crate::target::Target;

mod second_look;
use second_look::{Confirmation, CutSeen, InHand, cut_confirmed_note};

/// What one check of one target found.
#[derive(Debug)]
pub enum Outcome {
    /// The first snapshot of the target was stored.
    Baseline {
        /// The new snapshot's id.
        snapshot: SnapshotId,
        /// Sections in the document.
        sections: usize,
        /// The stamp's display text, if any.
        stamp: Option<String>,
        /// True when the content root came from a fallback.
        fallback: bool,
    },
    /// Content and stamp equal the latest snapshot; only the check was recorded.
    Unchanged,
    /// The server answered 304 Not Modified to a conditional GET.
    NotModified,
    /// Content or stamp changed: a snapshot and a revision were stored.
    Changed {
        /// The new snapshot's id.
        snapshot: SnapshotId,
        /// The redline of the revision.
        redline: Box<Redline>,
    },
    /// The page's template changed and its text did not: a technical
    /// snapshot was stored, nothing alerted.
    LayoutChanged {
        /// The new snapshot's id.
        snapshot: SnapshotId,
        /// The warning naming the rule to update.
        note: String,
    },
    /// The content changed but the second fetch did not give the same
    /// content: nothing stored; the next run tries again.
    Unconfirmed {
        /// What the second fetch found.
        note: String,
    },
}

impl Outcome {
    /// The outcome as the store records it.
    pub fn check_outcome(&self) -> CheckOutcome {
        match self {
            Outcome::Baseline { .. } => CheckOutcome::Baseline,
            Outcome::Unchanged => CheckOutcome::Unchanged,
            Outcome::NotModified => CheckOutcome::NotModified,
            Outcome::Changed { .. } => CheckOutcome::Changed,
            Outcome::LayoutChanged { .. } => CheckOutcome::LayoutChanged,
            Outcome::Unconfirmed { .. } => CheckOutcome::Unconfirmed,
        }
    }

    /// One line for a person: `baseline stored (4 sections, stamp ...)`, `unchanged`, ...
    pub fn describe(&self) -> String {
        match self {
            Outcome::Baseline {
                sections,
                stamp,
                fallback,
                ..
            } => format!(
                "baseline stored ({sections} sections, stamp {}){}",
                stamp.as_deref().unwrap_or("none"),
                if *fallback {
                    ", content root found by fallback"
                } else {
                    ""
                }
            ),
            Outcome::Unchanged => "unchanged".into(),
            Outcome::LayoutChanged { note, .. } => {
                format!("layout changed (stored, not a revision): {note}")
            }
            Outcome::Unconfirmed { note } => format!("unconfirmed, nothing stored: {note}"),
            Outcome::NotModified => "not modified (HTTP 304)".into(),
            Outcome::Changed { redline, .. } => {
                format!(
                    "{}: {}",
                    redline.revision.kind,
                    report::summary_line(redline)
                )
            }
        }
    }
}

/// Runs checks against one store with one HTTP client.
///
/// Shared by the checks in flight (`&self`; see [`crate::run`]): the HTTP
/// client is shared as it is, and the store has one writer, behind a mutex
/// locked around each store call and never across an `await`.
pub struct Monitor<F = Fetcher, S = Store> {
    store: Mutex<S>,
    fetcher: F,
    clock: Box<dyn Clock>,
    diff: DiffOptions,
    /// Alert expiry for the alerts the checks queue.
    delivery: crate::config::DeliverySettings,
    /// Fetch without validators when the last full (200) fetch is older than this.
    unconditional_every: std::time::Duration,
    /// Where checks count their outcomes and time their stages, if anywhere.
    metrics: Option<std::sync::Arc<crate::metrics::Metrics>>,
}

/// How many snapshots stored before search existed one run indexes.
pub const SEARCH_CATCH_UP: usize = 1000;

impl Monitor {
    /// Opens the store named in `settings` and builds the HTTP client.
    ///
    /// # Errors
    /// [`Error::Store`] when the store cannot be opened, [`Error::Fetch`] when the
    /// HTTP client cannot be built.
    pub fn open(settings: &Settings) -> Result<Monitor> {
        let mut store = settings.open_store()?;
        store.set_public_url(settings.serve.public_url.clone());
        // Snapshots stored before search existed: a bounded batch per run
        // (each in its own short transaction), so an old store is indexed
        // over its next runs without delaying one by much. A failure here
        // costs search, never the check.
        if let Err(e) = store.index_for_search(SEARCH_CATCH_UP) {
            tracing::warn!("indexing older snapshots for search: {e}");
        }
        // Snapshots stored before the ledger: entered once (see
        // `store::ledger`); a failure is said and tried again next run.
        if let Err(e) = store.seal_unsealed() {
            tracing::warn!("entering older snapshots in the ledger: {e}");
        }
        let fetcher = Fetcher::new(settings.fetch.clone()).map_err(|source| Error::Fetch {
            target: "*".into(),
            source,
        })?;
        Ok(Monitor::with_parts(store, fetcher, settings))
    }
}

impl<F: Fetch, S: CheckStore> Monitor<F, S> {
    /// A monitor over `store` that fetches with `fetcher`, with the
    /// settings' delivery and conditional-GET choices (the composition
    /// root's tests pass doubles of both).
    pub fn with_parts(store: S, fetcher: F, settings: &Settings) -> Self {
        Monitor {
            store: Mutex::new(store),
            fetcher,
            clock: Box::new(SystemClock),
            diff: DiffOptions::default(),
            delivery: settings.delivery.clone(),
            unconditional_every: settings.watch.unconditional_every,
            metrics: None,
        }
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Box<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Counts every check's outcome and times its fetches and extractions
    /// into `metrics`.
    pub fn with_metrics(mut self, metrics: std::sync::Arc<crate::metrics::Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// [`extract_page`], timed into the metrics.
    fn extract(&self, target: &Target, page: &FetchedPage) -> Result<Document> {
        let started = Instant::now();
        let document = extract_page(target, page);
        if let Some(m) = &self.metrics {
            m.extracted(started.elapsed());
        }
        document
    }

    /// [`Fetcher::fetch_within`] for `target`, timed into the metrics.
    async fn fetch(
        &self,
        target: &Target,
        validators: Option<&fetch::Validators>,
    ) -> std::result::Result<Fetched, fetch::FetchError> {
        let started = Instant::now();
        let fetched = self
            .fetcher
            .fetch_within(&target.url, validators, target.reach())
            .await;
        if let Some(m) = &self.metrics {
            m.fetched(started.elapsed());
        }
        fetched
    }

    /// The alerts a check of `target` may queue now (health alerts; the
    /// revision's are added by [`crate::alerting::plan_change`]); `None`
    /// without channels.
    fn alert_plan(&self, target: &Target) -> Option<crate::store::AlertPlan> {
        crate::alerting::plan(target, &self.delivery, self.clock.now())
    }

    /// The store, locked for the caller until the guard is dropped. Hold it
    /// for a store call or two, never across an `await` (the other checks in
    /// flight wait for it). A check that panicked while holding it left no
    /// half-written row (each record is a transaction), so a poisoned lock is
    /// taken over.
    pub fn store(&self) -> MutexGuard<'_, S> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens a batch of checks on the store unless one is open
    /// ([`Store::begin_batch`]): the checks' rows commit together in
    /// [`Monitor::commit_batch`], their files are made durable in one round.
    ///
    /// # Errors
    /// None today (the `Result` is the store's).
    pub fn begin_batch(&self) -> Result<()> {
        let mut store = self.store();
        if !store.in_batch() {
            store.begin_batch()?;
        }
        Ok(())
    }

    /// Commits the open batch ([`Store::commit_batch`]; a no-op without
    /// one) and, with `reopen`, opens the next at once under the same lock
    /// (for the checks still in flight). Call before releasing the store
    /// lock and before delivering alerts.
    ///
    /// # Errors
    /// [`Error::Store`]: the batch's checks were not recorded.
    pub fn commit_batch(&self, reopen: bool) -> Result<()> {
        let mut store = self.store();
        let committed = store.commit_batch();
        if reopen {
            store.begin_batch()?;
        }
        Ok(committed?)
    }

    /// Checks one target: fetch, extract, compare with the latest snapshot, and
    /// record the check (and a snapshot and revision on change).
    ///
    /// # Errors
    /// [`Error::Fetch`] or [`Error::Extract`] (recorded as a failed check; nothing
    /// else written), or [`Error::Store`].
    pub async fn check(&self, target: &Target) -> Result<Outcome> {
        let started = Started {
            at: self.clock.now(),
            timer: Instant::now(),
        };
        let result = self.check_inner(target, started).await;
        if let Some(m) = &self.metrics {
            m.check(match &result {
                Ok(outcome) => outcome.check_outcome(),
                Err(_) => CheckOutcome::Failed,
            });
        }
        // Every failed check is recorded with its error: fetch and extract
        // failures, and a store that could not read the baseline or write the
        // snapshot's files (a missing snapshot directory, a full disk).
        if let Err(e) = &result
            && matches!(
                e,
                Error::Fetch { .. } | Error::Extract { .. } | Error::Store(StoreError::Io { .. })
            )
        {
            info!(target = %target.id, "check failed: {e}");
            let http_status = match e {
                Error::Fetch { source, .. } => source.status(),
                _ => None,
            };
            let record = CheckRecord {
                http_status,
                error: Some(e.to_string()),
                ..check_record(target, started, CheckOutcome::Failed)
            };
            let recorded = self.record_check(target, &record);
            if let (Err(record_error), Error::Store(_)) = (&recorded, e) {
                // The store is the trouble: report the first error, not this one.
                debug!(target = %target.id, "recording the failed check: {record_error}");
            } else {
                recorded?;
            }
        }
        result
    }

    /// Records a check that stored no snapshot and queues its health alerts.
    ///
    /// # Errors
    /// [`Error::Store`].
    fn record_check(&self, target: &Target, record: &CheckRecord) -> Result<()> {
        let plan = self.alert_plan(target);
        self.store().record_check_alerting(record, plan.as_ref())?;
        Ok(())
    }

    async fn check_inner(&self, target: &Target, started: Started) -> Result<Outcome> {
        // The row first: its document is read only when the page must be
        // extracted (see `unchanged_by_fingerprint`).
        let latest_row = self.store().latest_snapshot_row(&target.id)?;
        let Some(page) = self
            .fetch_page(target, latest_row.as_ref(), started)
            .await?
        else {
            return Ok(Outcome::NotModified);
        };
        let moved_note = self.moved(target, latest_row.as_ref(), &page)?;
        let decode_note = self.decoding_checked(target, latest_row.as_ref(), &page)?;
        let notes = [moved_note.as_deref(), decode_note.as_deref()];
        // What the comparison's pass over this page took, for the snapshot.
        let taken = match self.unchanged_by_fingerprint(
            target,
            latest_row.as_ref(),
            &page,
            notes,
            started,
        )? {
            Ok(outcome) => return Ok(outcome),
            Err(taken) => taken,
        };
        let latest = latest_row
            .map(|row| self.store().with_document(row))
            .transpose()?;

        // A body cut in transit is fetched again at once, before anything is
        // compared or stored (see `Monitor::look_again_if_cut`).
        let document = self.extract(target, &page);
        let hash = document.as_ref().ok().map(Document::fingerprint);
        let mut hand = InHand {
            page,
            document,
            hash,
            taken,
        };
        let cut = match self
            .look_again_if_cut(target, latest.as_ref(), &mut hand)
            .await
        {
            Ok(cut) => cut,
            Err(note) => {
                warn!(target = %target.id, "nothing stored: {note}");
                let previous = latest.as_ref().map(|p| p.id);
                return self.record_unconfirmed(target, &hand.page, previous, note, started);
            }
        };
        let InHand {
            page,
            document,
            hash,
            taken,
        } = hand;
        let document = document?;
        let content_hash = hash.unwrap_or_else(|| document.fingerprint());
        info!(
            target = %target.id,
            sections = document.sections.len(),
            blocks = document.block_count(),
            stamp = document.meta.stamp.as_ref().map_or("none", |s| s.text.as_str()),
            root = %document.meta.root.selector,
            fallback = document.meta.root.fallback,
            "extracted"
        );

        // Like with like: the previous snapshot as today's extraction makes it.
        let (latest, compare_note) = match latest {
            Some(previous) => {
                let (previous, note) = self.same_extraction(target, previous)?;
                (Some(previous), note)
            }
            None => (None, None),
        };
        let seen = Seen {
            cut,
            decode_note,
            // Compared as the current extraction makes the previous
            // snapshot: then a page found unchanged may lend it its
            // fingerprint.
            like_with_like: compare_note.is_none(),
            compare_note: match (compare_note, moved_note) {
                (Some(c), Some(m)) => Some(format!("{m}; {c}")),
                (c, m) => m.or(c),
            },
        };
        let capture = Capture {
            target,
            page: &page,
            document: &document,
            content_hash: &content_hash,
            started,
            captured_at: self.clock.now(),
        };
        match latest {
            None => {
                let cut_note = cut
                    .repaired
                    .map(|sign| {
                        format!(
                            "the first fetch looked cut ({}); a second fetch gave the whole page",
                            sign.describe()
                        )
                    })
                    .or_else(|| cut.confirmed.map(cut_confirmed_note));
                self.store_baseline(&capture, taken, [cut_note, seen.decode_note])
            }
            Some(previous) => self.compare(&capture, taken, &previous, seen).await,
        }
    }

    /// Compares the page with the previous snapshot and records what it
    /// found: nothing stored when a page fetched twice because it looked
    /// cut differs from the stored one, a template change ([`Monitor::template_changed`]),
    /// `unchanged`, or a content revision, confirmed by a second fetch
    /// unless only the stamp moved.
    ///
    /// # Errors
    /// [`Error::Extract`] for another page in this one's place;
    /// [`Error::Store`].
    async fn compare(
        &self,
        capture: &Capture<'_>,
        mut taken: Option<Source>,
        previous: &StoredSnapshot,
        seen: Seen,
    ) -> Result<Outcome> {
        let (target, page, document) = (capture.target, capture.page, capture.document);
        let started = capture.started;
        let mut revision = diff::revision(&previous.document, document, &self.diff);
        let template = layout::template_change(&previous.document, document);
        if let Some(sign) = seen.cut.repaired
            && (revision.is_some() || template.is_some())
        {
            let note = format!(
                "the first fetch looked cut ({}); a second fetch gave the whole page, \
                 other than the stored one",
                sign.describe()
            );
            warn!(target = %target.id, "nothing stored: {note}");
            return self.record_unconfirmed(target, page, Some(previous.id), note, started);
        }
        let layout_note = match &template {
            Some(change) => {
                match self.template_changed(capture, &mut taken, previous, &mut revision, change)? {
                    ControlFlow::Break(outcome) => return Ok(outcome),
                    ControlFlow::Continue(note) => Some(note),
                }
            }
            None => None,
        };

        let Some(revision) = revision else {
            debug!(target = %target.id, "content fingerprint and stamp equal the latest snapshot");
            let cut_note = seen.cut.repaired.map(|sign| {
                format!(
                    "the first fetch looked cut ({}); a second fetch gave the whole page, unchanged",
                    sign.describe()
                )
            });
            if let Some(note) = &cut_note {
                warn!(target = %target.id, "{note}");
            }
            // Compared like with like and not cut: the page may lend the
            // previous snapshot its fingerprint.
            let cut_seen = seen.cut.repaired.is_some() || seen.cut.confirmed.is_some();
            let lend = seen.like_with_like && !cut_seen;
            return self.unchanged_after_extraction(
                capture,
                &previous.row,
                lend.then_some(taken),
                [seen.compare_note, cut_note, seen.decode_note],
            );
        };

        // Confirm a content change with a second fetch before storing it. A
        // stamp-only revision is not confirmed: it is never a content
        // revision and alerts by no default rule, and the content it stores
        // is the content already stored.
        let mut confirmed = seen.cut.confirmed.is_some();
        let cut_note = seen.cut.confirmed.map(cut_confirmed_note);
        if revision.kind != RevisionKind::StampOnly && !confirmed {
            match self.confirm(target, document).await {
                Confirmation::NotNeeded => {}
                Confirmation::Confirmed => confirmed = true,
                Confirmation::Refuted(note) => {
                    info!(target = %target.id, "unconfirmed: {note}");
                    return self.record_unconfirmed(target, page, Some(previous.id), note, started);
                }
            }
        }
        info!(target = %target.id, kind = %revision.kind, confirmed, "changed");
        let large_removal = layout::large_removal(&previous.document, document)
            .map(|(lost, total)| layout::large_removal_note(lost, total, confirmed));
        let notes = [
            cut_note,
            seen.decode_note,
            large_removal,
            layout_note,
            seen.compare_note,
        ];
        self.store_change(capture, taken, previous, revision, notes)
    }

    /// The page's template changed (content root, stamp's place). Another
    /// page in this one's place (an error, login or interstitial page)
    /// shares little of its text: refused, never a revision. The same text
    /// under the new template is stored as a technical snapshot
    /// ([`Monitor::record_layout`]): `Break` with its outcome. Otherwise the
    /// check goes on (`Continue`) with the note to put on the revision: a
    /// new stamp with the same text makes `revision` stamp-only (never the
    /// template's reshuffling of the text).
    ///
    /// # Errors
    /// [`Error::Extract`] for another page; [`Error::Store`].
    fn template_changed(
        &self,
        capture: &Capture<'_>,
        taken: &mut Option<Source>,
        previous: &StoredSnapshot,
        revision: &mut Option<Revision>,
        change: &layout::TemplateChange,
    ) -> Result<ControlFlow<Outcome, String>> {
        let (target, document) = (capture.target, capture.document);
        if layout::unlike(&previous.document, document) {
            return Err(Error::Extract {
                target: target.id.clone(),
                url: capture.page.final_url.clone(),
                source: extract::ExtractError::UnlikePrevious {
                    root: document.meta.root.selector.clone(),
                    shared_percent: percent(layout::shared_text(&previous.document, document)),
                },
            });
        }
        let warning = change.warning(&target.rules);
        if layout::redesign_only(&previous.document, document, revision.as_ref()).is_some() {
            let outcome =
                self.record_layout(capture, taken.take(), previous, revision.as_ref(), &warning)?;
            return Ok(ControlFlow::Break(outcome));
        }
        if let Some(stamp_only) = layout::restamped(&previous.document, document, revision.as_ref())
        {
            warn!(target = %target.id, "layout changed and the stamp too: {warning}");
            *revision = Some(stamp_only);
        } else {
            warn!(target = %target.id, "layout changed and the text too: {warning}");
        }
        Ok(ControlFlow::Continue(format!("layout changed: {warning}")))
    }

    /// Fetches the target's page: a conditional GET with the latest
    /// snapshot's validators, unless the last full (200) fetch is older than
    /// `unconditional_every` (then a plain GET, so a server answering stale
    /// 304s is still read in full); decoded with the target's charset when
    /// one is configured. `None`: the server answered 304 Not Modified, and
    /// the check is recorded.
    ///
    /// # Errors
    /// [`Error::Fetch`]; [`Error::Store`].
    async fn fetch_page(
        &self,
        target: &Target,
        latest_row: Option<&SnapshotRow>,
        started: Started,
    ) -> Result<Option<FetchedPage>> {
        let last_page = self.store().last_check_started(
            &target.id,
            &[
                CheckOutcome::Baseline,
                CheckOutcome::Unchanged,
                CheckOutcome::Changed,
                CheckOutcome::LayoutChanged,
                CheckOutcome::Unconfirmed,
            ],
        )?;
        let conditional =
            crate::schedule::send_validators(last_page, started.at, self.unconditional_every);
        let validators = latest_row
            .filter(|_| conditional)
            .map(SnapshotRow::validators);
        debug!(target = %target.id, conditional, "validators chosen");
        info!(target = %target.id, url = %target.url, "fetching");
        let fetched = self
            .fetch(target, validators.as_ref())
            .await
            .map_err(|source| Error::Fetch {
                target: target.id.clone(),
                source,
            })?;
        let mut page = match fetched {
            Fetched::NotModified => {
                info!(target = %target.id, "not modified (304)");
                let record = CheckRecord {
                    http_status: Some(304),
                    snapshot_id: latest_row.map(|s| s.id),
                    ..check_record(target, started, CheckOutcome::NotModified)
                };
                self.record_check(target, &record)?;
                return Ok(None);
            }
            Fetched::Page(p) => p,
        };
        if target.charset.is_some() {
            page.decode(target.charset);
        }
        info!(
            target = %target.id,
            status = page.status,
            bytes = page.body.len(),
            charset = %page.charset,
            charset_source = %page.charset_source,
            final_url = %page.final_url,
            "fetched"
        );
        Ok(Some(page))
    }

    /// Stores the first snapshot of a target, with its notes (a body found
    /// cut, a decoding note) as the check's note.
    ///
    /// # Errors
    /// [`Error::Store`].
    fn store_baseline(
        &self,
        capture: &Capture<'_>,
        taken: Option<Source>,
        notes: [Option<String>; 2],
    ) -> Result<Outcome> {
        let (target, document) = (capture.target, capture.document);
        // Said once, when the target starts; later checks warn only when
        // the root found changes (see `layout::template_change`).
        if document.meta.root.fallback {
            warn!(
                target = %target.id,
                "configured content root not found; used fallback `{}`",
                document.meta.root.selector
            );
        }
        if let Some(note) = &notes[0] {
            warn!(target = %target.id, "baseline: {note}");
        }
        let note = notes.into_iter().flatten().collect::<Vec<_>>().join("; ");
        let plan = self.alert_plan(target);
        let source = SourceParts::of(target, capture.page, document, taken);
        let recorded = self.store().record_snapshot(NewSnapshot {
            alerts: plan.as_ref(),
            note: (!note.is_empty()).then_some(note.as_str()),
            ..capture.snapshot(source.as_ref())
        })?;
        info!(target = %target.id, snapshot = %recorded.snapshot_id, "baseline stored");
        Ok(Outcome::Baseline {
            snapshot: recorded.snapshot_id,
            sections: document.sections.len(),
            stamp: document.meta.stamp.as_ref().map(|s| s.display_value()),
            fallback: document.meta.root.fallback,
        })
    }

    /// Stores a content revision from `previous`: builds its redline, plans
    /// its alerts (revert, alternation, rules), puts `notes` (after the
    /// recurrence note, before the document's own) at the top of the
    /// redline, and stores the snapshot with the rendered redline and the
    /// alerts in one transaction.
    ///
    /// # Errors
    /// [`Error::Store`]; [`Error::System`] when the redline cannot be rendered.
    fn store_change(
        &self,
        capture: &Capture<'_>,
        taken: Option<Source>,
        previous: &StoredSnapshot,
        revision: Revision,
        notes: [Option<String>; 5],
    ) -> Result<Outcome> {
        let (target, document) = (capture.target, capture.document);
        let mut redline =
            Redline::of_capture(target, previous, document, revision, capture.captured_at);
        // Alert planning (revert, alternation, rules); the alerts are queued
        // in the snapshot's transaction.
        let (mut plan, recurrence) = crate::alerting::plan_change(
            &*self.store(),
            target,
            &self.delivery,
            &redline,
            capture.content_hash,
            capture.captured_at,
        )?;
        // What the reader must not miss, said at the top of the redline in
        // every format (and in the alert, which carries the redline).
        redline.notes = recurrence
            .map(crate::alerting::Recurrence::note)
            .into_iter()
            .chain(notes.into_iter().flatten())
            .chain(report::document_notes(&document.meta))
            .collect();
        if let Some(planned) = plan.as_mut().and_then(|p| p.revision.as_mut()) {
            planned.redline.notes = redline.notes.clone();
        }
        let markdown =
            report::render_plain(&redline, Format::Markdown).map_err(|source| Error::System {
                what: "rendering the redline",
                source,
            })?;
        let source = SourceParts::of(target, capture.page, document, taken);
        let recorded = self.store().record_snapshot(NewSnapshot {
            previous: Some(previous.id),
            revision: Some(&redline.revision),
            redline_markdown: Some(&markdown),
            alerts: plan.as_ref(),
            ..capture.snapshot(source.as_ref())
        })?;
        redline.new_snapshot = Some(recorded.snapshot_id);
        // The feeds are rewritten once per run, not per change: the run
        // loop calls `archive::refresh_feeds_for` (the store remembers which
        // targets' feeds are due).
        Ok(Outcome::Changed {
            snapshot: recorded.snapshot_id,
            redline: Box::new(redline),
        })
    }

    /// Whether the page came from another page than the target's: when its
    /// final URL is not the same page ([`fetch::same_page`]) as the
    /// configured URL, nor as the last snapshot's or last good check's final
    /// URL (the address last accepted), the target moved (a redirect to the
    /// home page, a search or login page, another article). Without
    /// `follow_moves` that fails the check; with it, the returned note says
    /// the new address was accepted (once: the next check knows it).
    ///
    /// # Errors
    /// [`Error::Fetch`] with [`fetch::FetchError::Moved`]; [`Error::Store`]
    /// when the last checks cannot be read.
    fn moved(
        &self,
        target: &Target,
        latest: Option<&SnapshotRow>,
        page: &FetchedPage,
    ) -> Result<Option<String>> {
        let Ok(now) = url::Url::parse(&page.final_url) else {
            return Ok(None);
        };
        if fetch::same_page(&target.url, &now) {
            return Ok(None);
        }
        let last_check = self
            .store()
            .checks(&target.id, 20)?
            .into_iter()
            .filter(|c| c.outcome != CheckOutcome::Failed)
            .find_map(|c| c.final_url);
        let accepted = latest
            .map(|s| s.final_url.clone())
            .into_iter()
            .chain(last_check)
            .filter_map(|u| url::Url::parse(&u).ok());
        for known in accepted {
            if fetch::same_page(&known, &now) {
                return Ok(None);
            }
        }
        if !target.follow_moves {
            return Err(Error::Fetch {
                target: target.id.clone(),
                source: fetch::FetchError::Moved {
                    url: page.url.clone(),
                    to: page.final_url.clone(),
                },
            });
        }
        let note = format!(
            "the target moved to `{}`; accepted (follow_moves = true)",
            page.final_url
        );
        warn!(target = %target.id, "{note}");
        Ok(Some(note))
    }

    /// The previous snapshot as the current extraction makes it, so that a
    /// check compares like with like: when its document was made by another
    /// extractor version ([`extract::EXTRACTOR_VERSION`]) or other rules (the
    /// target's rules were edited), its raw body is extracted again with the
    /// current rules and the document replaced, the difference recorded as a
    /// technical revision as `redliner reextract` does (never alerted).
    ///
    /// When the raw body no longer extracts (missing, or an error page by the
    /// new rules), the stored document is kept and the returned note says the
    /// comparison may show the extraction's differences.
    ///
    /// # Errors
    /// [`Error::Store`] when the re-extracted document cannot be written.
    fn same_extraction(
        &self,
        target: &Target,
        mut previous: StoredSnapshot,
    ) -> Result<(StoredSnapshot, Option<String>)> {
        let current = Extraction {
            extractor: extract::EXTRACTOR_VERSION,
            rules: target.rules.fingerprint(),
        };
        let old = previous.document.meta.extraction.as_ref();
        if old == Some(&current) {
            return Ok((previous, None));
        }
        let why = extraction_change(old, &current);
        // The store lock is held for the read only (the match below writes).
        let extracted = archive::extract_row(&*self.store(), &previous.row, target);
        let new = match extracted {
            Ok(document) => document,
            Err(e) => {
                warn!(
                    target = %target.id,
                    snapshot = %previous.id,
                    "previous snapshot not re-extracted ({why}): {e}"
                );
                let note = format!(
                    "compared with the previous snapshot as stored: it was extracted by {why} and its page no longer extracts ({e}), so some differences may be the extraction's, not the page's"
                );
                return Ok((previous, Some(note)));
            }
        };
        if new != previous.document {
            let technical = archive::record_reextracted(
                &mut *self.store(),
                &target.id,
                &previous.row,
                &previous.document,
                &new,
                self.clock.now(),
                &self.diff,
            )?;
            match technical {
                Some(revision) => {
                    info!(
                        target = %target.id,
                        snapshot = %previous.id,
                        %revision,
                        "previous snapshot re-extracted ({why}): its document changed; technical revision recorded, not alerted"
                    );
                }
                None => info!(
                    target = %target.id,
                    snapshot = %previous.id,
                    "previous snapshot re-extracted ({why}): same content"
                ),
            }
            previous.document = new;
        }
        Ok((previous, None))
    }

    /// Stores a technical "layout changed" snapshot: the check is
    /// `layout-changed`, the revision (if the documents differ at all) is
    /// technical, only health alerts ("recovered") may be queued.
    fn record_layout(
        &self,
        capture: &Capture<'_>,
        taken: Option<Source>,
        previous: &StoredSnapshot,
        revision: Option<&Revision>,
        warning: &str,
    ) -> Result<Outcome> {
        let target = capture.target;
        warn!(target = %target.id, "layout changed (same text, stored quietly): {warning}");
        let plan = self.alert_plan(target);
        let source = SourceParts::of(target, capture.page, capture.document, taken);
        let recorded = self.store().record_snapshot(NewSnapshot {
            previous: Some(previous.id),
            revision,
            alerts: plan.as_ref(),
            technical: true,
            note: Some(warning),
            ..capture.snapshot(source.as_ref())
        })?;
        info!(target = %target.id, snapshot = %recorded.snapshot_id, "layout changed");
        Ok(Outcome::LayoutChanged {
            snapshot: recorded.snapshot_id,
            note: warning.to_string(),
        })
    }

    /// The fast path of an unchanged page: when the page's source fingerprint
    /// ([`extract::fingerprint`]) equals the latest snapshot's, the page
    /// extracts to that snapshot's document, so the check is recorded
    /// `unchanged` (with the notes the full path would give it: the move and
    /// decoding notes) without extracting the page or reading the document.
    /// `Err` when the fingerprints differ or the snapshot has none: the
    /// page is extracted as usual, and the new snapshot may keep the
    /// fingerprint and mask the comparison took (`Err(Some)`).
    ///
    /// The fingerprint names the extractor version and the rules, so a
    /// snapshot made by another extraction (which the full path re-extracts
    /// and notes) never matches. A body cut in transit is not looked for:
    /// the full path does not either when the document is unchanged.
    ///
    /// # Errors
    /// [`Error::Store`] when the check cannot be recorded.
    fn unchanged_by_fingerprint(
        &self,
        target: &Target,
        latest: Option<&SnapshotRow>,
        page: &FetchedPage,
        notes: [Option<&str>; 2],
        started: Started,
    ) -> Result<std::result::Result<Outcome, Option<Source>>> {
        let Some((row, stored)) = latest.and_then(|r| Some((r, r.source_fingerprint.as_deref()?)))
        else {
            return Ok(Err(None));
        };
        match extract::fingerprint::compare(
            stored,
            row.source_mask.as_deref(),
            &page.text,
            &target.url,
            &target.rules,
        ) {
            Match::No(taken) => {
                debug!(target = %target.id, "fingerprint differs from the latest snapshot's; extracting");
                return Ok(Err(taken));
            }
            Match::Masked => {
                debug!(target = %target.id, snapshot = %row.id, "fingerprint equal; not extracted (the page fits the source mask)");
            }
            Match::Whole(mask) => {
                debug!(target = %target.id, snapshot = %row.id, "fingerprint equal; not extracted");
                // The page did not fit the stored mask (a token of another
                // length) or there was none: this page's mask serves the next.
                if let Err(e) =
                    self.store()
                        .set_source_fingerprint(row.id, stored, Some(&mask.to_bytes()))
                {
                    debug!(target = %target.id, "source mask not recorded: {e}");
                }
            }
        }
        let note = notes.into_iter().flatten().collect::<Vec<_>>().join("; ");
        self.record_unchanged(target, page, row.id, note, started)?;
        info!(target = %target.id, "unchanged");
        Ok(Ok(Outcome::Unchanged))
    }

    /// Records an `unchanged` check of `page` against snapshot `snapshot_id`
    /// (with `note` unless empty) and queues its health alerts.
    ///
    /// # Errors
    /// [`Error::Store`].
    fn record_unchanged(
        &self,
        target: &Target,
        page: &FetchedPage,
        snapshot_id: SnapshotId,
        note: String,
        started: Started,
    ) -> Result<()> {
        let record = CheckRecord {
            snapshot_id: Some(snapshot_id),
            note: (!note.is_empty()).then_some(note),
            ..page_record(target, started, CheckOutcome::Unchanged, page)
        };
        self.record_check(target, &record)
    }

    /// Records a page that was extracted and found unchanged from
    /// `previous` (with the notes said), and lends `previous` its
    /// fingerprint when `lend` is given (see
    /// [`Monitor::lend_fingerprint`]).
    ///
    /// # Errors
    /// [`Error::Store`].
    fn unchanged_after_extraction(
        &self,
        capture: &Capture<'_>,
        previous: &SnapshotRow,
        lend: Option<Option<Source>>,
        notes: [Option<String>; 3],
    ) -> Result<Outcome> {
        let target = capture.target;
        let note = notes.into_iter().flatten().collect::<Vec<_>>().join("; ");
        self.record_unchanged(target, capture.page, previous.id, note, capture.started)?;
        if let Some(taken) = lend {
            self.lend_fingerprint(target, previous, (capture.page, taken), capture.document);
        }
        info!(target = %target.id, "unchanged");
        Ok(Outcome::Unchanged)
    }

    /// After a page was extracted and found unchanged from `previous`, gives
    /// `previous` the page's fingerprint when it has another (none yet, an
    /// older extractor's, a per-request token in a script): a later page
    /// with this fingerprint extracts to this document, which is unchanged
    /// from `previous`, so the next such check takes the fast path. A store
    /// that cannot record it only loses that speed.
    fn lend_fingerprint(
        &self,
        target: &Target,
        previous: &SnapshotRow,
        (page, taken): (&FetchedPage, Option<Source>),
        document: &Document,
    ) {
        let Some(source) = source_fingerprint(target, page, document, taken) else {
            return;
        };
        if previous.source_fingerprint.as_deref() == Some(source.fingerprint.as_str()) {
            return;
        }
        match self.store().set_source_fingerprint(
            previous.id,
            &source.fingerprint,
            Some(&source.mask.to_bytes()),
        ) {
            Ok(()) => debug!(target = %target.id, snapshot = %previous.id, "fingerprint recorded"),
            Err(e) => debug!(target = %target.id, "fingerprint not recorded: {e}"),
        }
    }

    /// Records an `unconfirmed` check (nothing stored) and returns its outcome.
    fn record_unconfirmed(
        &self,
        target: &Target,
        page: &FetchedPage,
        previous: Option<SnapshotId>,
        note: String,
        started: Started,
    ) -> Result<Outcome> {
        let record = CheckRecord {
            snapshot_id: previous,
            note: Some(note.clone()),
            ..page_record(target, started, CheckOutcome::Unconfirmed, page)
        };
        self.record_check(target, &record)?;
        Ok(Outcome::Unconfirmed { note })
    }
}

/// What a check learnt on the way to the comparison, besides the page.
struct Seen {
    /// Whether the page looked cut, and what its second fetch made of it.
    cut: CutSeen,
    /// The page's bytes could not all be decoded (the previous's neither).
    decode_note: Option<String>,
    /// The page moved and was followed, or the previous snapshot was
    /// re-extracted to compare like with like (joined).
    compare_note: Option<String>,
    /// The previous snapshot's document is what today's extraction makes.
    like_with_like: bool,
}

/// When a check began: the clock's time (recorded) and a monotonic timer
/// (for its duration).
#[derive(Debug, Clone, Copy)]
struct Started {
    at: Timestamp,
    timer: Instant,
}

impl Started {
    /// Milliseconds since the check began.
    fn elapsed_ms(self) -> i64 {
        i64::try_from(self.timer.elapsed().as_millis()).unwrap_or(i64::MAX)
    }
}

/// The row of a check of `target` that ended with `outcome`, timed from
/// `started`; what else it found is left empty for the caller to set.
fn check_record(target: &Target, started: Started, outcome: CheckOutcome) -> CheckRecord {
    CheckRecord {
        target: target.id.clone(),
        url: target.url.to_string(),
        started_at: started.at,
        duration_ms: started.elapsed_ms(),
        outcome,
        final_url: None,
        http_status: None,
        error: None,
        snapshot_id: None,
        note: None,
    }
}

/// As [`check_record`], for a check that got `page` (its final URL and
/// status recorded).
fn page_record(
    target: &Target,
    started: Started,
    outcome: CheckOutcome,
    page: &FetchedPage,
) -> CheckRecord {
    CheckRecord {
        final_url: Some(page.final_url.clone()),
        http_status: Some(page.status),
        ..check_record(target, started, outcome)
    }
}

/// What a check that stores a snapshot has in hand: the target, the page
/// (after any second fetch), its document and that document's fingerprint,
/// when the check began and when the page was captured.
struct Capture<'a> {
    target: &'a Target,
    page: &'a FetchedPage,
    document: &'a Document,
    content_hash: &'a str,
    started: Started,
    captured_at: Timestamp,
}

impl Capture<'_> {
    /// The snapshot to store, as a baseline that queues nothing; the
    /// caller sets the previous snapshot, the revision, the alerts and the
    /// note by struct update.
    fn snapshot<'b>(&'b self, source: Option<&'b SourceParts>) -> NewSnapshot<'b> {
        NewSnapshot {
            target: &self.target.id,
            url: self.target.url.as_str(),
            page: self.page,
            document: self.document,
            captured_at: self.captured_at,
            started_at: self.started.at,
            duration_ms: self.started.elapsed_ms(),
            previous: None,
            revision: None,
            redline_markdown: None,
            alerts: None,
            technical: false,
            note: None,
            source_fingerprint: source.map(|s| s.fingerprint.as_str()),
            source_mask: source.map(|s| s.mask.as_slice()),
            content_hash: Some(self.content_hash),
            archived: None,
        }
    }
}

/// A page's source fingerprint and mask in the form a [`NewSnapshot`]
/// borrows (the mask as [`extract::fingerprint::SourceMask::to_bytes`]).
struct SourceParts {
    fingerprint: String,
    mask: Vec<u8>,
}

impl SourceParts {
    /// [`source_fingerprint`] of the page, kept for the snapshot.
    fn of(
        target: &Target,
        page: &FetchedPage,
        document: &Document,
        taken: Option<Source>,
    ) -> Option<SourceParts> {
        source_fingerprint(target, page, document, taken).map(|s| SourceParts {
            mask: s.mask.to_bytes(),
            fingerprint: s.fingerprint,
        })
    }
}

/// Extracts a fetched page with the target's rules.
///
/// Relative links are resolved against the target's configured URL, not the
/// final URL after redirects: a site that redirects between `www.` and the bare
/// host, or http and https, would otherwise change every link target between
/// two checks of the same text (a `<base href>` in the page still applies).
///
/// # Errors
/// [`Error::Extract`] naming the target and final URL.
pub fn extract_page(target: &Target, page: &FetchedPage) -> Result<Document> {
    extract::extract(&page.text, Some(&target.url), &target.rules).map_err(|source| {
        Error::Extract {
            target: target.id.clone(),
            url: page.final_url.clone(),
            source,
        }
    })
}

/// The source fingerprint (and mask) stored with a snapshot of `page` whose
/// document is `document` ([`extract::fingerprint::for_document`]).
fn source_fingerprint(
    target: &Target,
    page: &FetchedPage,
    document: &Document,
    taken: Option<Source>,
) -> Option<Source> {
    extract::fingerprint::for_document_from(taken, &page.text, &target.url, &target.rules, document)
}

/// What made a stored document's extraction other than `current`, in words
/// for a log line or note: `an older redliner (no extractor version
/// recorded)`, `extractor version 1 (now 2)`, `other rules (the target's
/// rules were edited)`, or both of the last two.
fn extraction_change(old: Option<&Extraction>, current: &Extraction) -> String {
    let Some(old) = old else {
        return "an older redliner (no extractor version recorded)".into();
    };
    let version = (old.extractor != current.extractor).then(|| {
        format!(
            "extractor version {} (now {})",
            old.extractor, current.extractor
        )
    });
    let rules = (old.rules != current.rules).then(|| "other rules".to_string());
    match (version, rules) {
        (Some(v), Some(r)) => format!("{v} and {r}"),
        (Some(v), None) => v,
        (None, Some(_)) => "other rules (the target's rules were edited)".into(),
        (None, None) => "the same extraction".into(),
    }
}

/// A share (0.0..=1.0) as a whole percentage.
fn percent(share: f64) -> u8 {
    (share.clamp(0.0, 1.0) * 100.0).round() as u8
}

#[cfg(test)]
mod composition_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    use crate::store::SqlCount;

    fn made_by(extractor: u32, rules: &str) -> Extraction {
        Extraction {
            extractor,
            rules: rules.into(),
        }
    }

    /// A check holds no store guard (which is not `Send`) across an
    /// `await`: the checks in flight would wait on each other's fetches.
    #[test]
    fn a_check_holds_the_store_lock_across_no_await() {
        fn send<T: Send>(_: &T) {}
        fn probe(monitor: &Monitor, target: &Target) {
            send(&monitor.check(target));
        }
        let _ = probe;
    }

    #[test]
    fn extraction_change_names_what_differs() {
        let current = made_by(2, "r2");
        let cases: [(Option<Extraction>, &str); 5] = [
            (None, "an older redliner (no extractor version recorded)"),
            (Some(made_by(1, "r2")), "extractor version 1 (now 2)"),
            (
                Some(made_by(2, "r1")),
                "other rules (the target's rules were edited)",
            ),
            (
                Some(made_by(1, "r1")),
                "extractor version 1 (now 2) and other rules",
            ),
            (Some(made_by(2, "r2")), "the same extraction"),
        ];
        for (old, want) in cases {
            assert_eq!(extraction_change(old.as_ref(), &current), want, "{old:?}");
        }
    }

    /// The page at `version`: enough text for the generic rules, one
    /// sentence naming the version.
    fn page(version: usize) -> String {
        let filler = "The council agreed on regular political dialogue and practical \
                      cooperation in areas of common interest, including preparedness. ";
        format!(
            "<html><head><title>Counted page</title></head><body><main><h1>Counted page</h1>\
             <h2>Relations</h2><p>{filler}{filler}</p><p>Text of version {version}.</p>\
             <h2>Partners</h2><p>{filler}</p></main></body></html>"
        )
    }

    /// A server answering every request with the page set last.
    fn serve() -> (u16, Arc<Mutex<String>>) {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let body = Arc::new(Mutex::new(String::new()));
        let served = body.clone();
        std::thread::spawn(move || {
            for req in server.incoming_requests() {
                let text = served.lock().unwrap().clone();
                let header =
                    tiny_http::Header::from_bytes("Content-Type", "text/html; charset=utf-8")
                        .unwrap();
                let _ = req.respond(tiny_http::Response::from_string(text).with_header(header));
            }
        });
        (port, body)
    }

    /// Checks target `t000` (with a webhook channel, so alerts are planned)
    /// through versions 0..=`history` of the page (a baseline, `history`
    /// revisions), then, with `others` targets beside it holding a copy of
    /// its whole history, counts the SQL of an unchanged check, a change and
    /// a revert.
    fn counted_checks(history: usize, others: usize) -> Vec<(&'static str, SqlCount)> {
        let (port, body) = serve();
        let root = tempfile::tempdir().unwrap();
        let config = format!(
            "[settings]\ntimeout = \"5s\"\nretries = 0\nmin_host_delay = \"0s\"\n\
             confirm_after = \"0s\"\n\n\
             [[channel]]\nid = \"hook\"\nkind = \"webhook\"\nurl_env = \"COUNTED_HOOK\"\n\n\
             [[target]]\nid = \"t000\"\nurl = \"http://127.0.0.1:{port}/page\"\n\
             channels = [\"hook\"]\n"
        );
        let settings = crate::config::parse(
            &config,
            std::path::Path::new("redliner.toml"),
            Some(root.path()),
        )
        .unwrap();
        let target = settings.targets[0].clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let monitor = Monitor::open(&settings).unwrap();
        for version in 0..=history {
            *body.lock().unwrap() = page(version);
            rt.block_on(monitor.check(&target)).unwrap();
        }
        for i in 1..=others {
            monitor.store().clone_history("t000", &format!("t{i:03}"));
        }
        let mut counted = Vec::new();
        for (what, version, changed) in [
            ("unchanged", history, false),
            ("changed", 100, true),
            ("revert", 3, true),
        ] {
            *body.lock().unwrap() = page(version);
            let counting = monitor.store().start_counting();
            let outcome = rt.block_on(monitor.check(&target)).unwrap();
            let count = monitor.store().stop_counting(counting);
            assert_eq!(
                matches!(outcome, Outcome::Changed { .. }),
                changed,
                "{what}: {}",
                outcome.describe()
            );
            if let (Outcome::Changed { redline, .. }, "revert") = (&outcome, what) {
                assert!(
                    redline.notes.iter().any(|n| n.starts_with("Revert")),
                    "{:?}",
                    redline.notes
                );
            }
            counted.push((what, count));
        }
        counted
    }

    /// A check read every snapshot of its target to find a revert, and the
    /// feeds it rewrote read every revision of every target. Now a check of
    /// one target runs the same statements, reads the same rows and does the
    /// same work in a store of 200 targets × 20 revisions as in a store of
    /// that one target, and as with a history of 4 revisions.
    #[test]
    fn a_check_runs_the_same_sql_in_a_store_of_200_targets_as_in_a_store_of_one() {
        let short = counted_checks(4, 0);
        let one = counted_checks(20, 0);
        let many = counted_checks(20, 199);
        for ((what, one), (_, short)) in one.iter().zip(&short) {
            assert_eq!(
                (one.statements, one.rows, one.vm_steps),
                (short.statements, short.rows, short.vm_steps),
                "{what}: 20 revisions as 4: {:#?}",
                one.sql
            );
        }
        for ((what, one), (_, many)) in one.iter().zip(&many) {
            println!(
                "{what}: {} statements, {} rows, {} steps",
                many.statements, many.rows, many.vm_steps
            );
            // No statement scans a table: every one is served by an index.
            assert_eq!(
                (one.fullscan_steps, many.fullscan_steps),
                (0, 0),
                "{what}: {:#?}",
                many.sql
            );
            assert_eq!(one.sql, many.sql, "{what}: the same statements");
            assert_eq!(
                (one.statements, one.rows, one.vm_steps),
                (many.statements, many.rows, many.vm_steps),
                "{what}: the same rows read and work done"
            );
            // O(1) rows: a few per statement, whatever the history.
            assert!(one.rows <= 2 * one.statements + 4, "{what}: {one:#?}");
        }
    }
}
