//! The composition root with test doubles: a scripted [`Fetch`] (no HTTP)
//! and a [`CheckStore`] that wraps a real store in a temp directory and
//! fails on demand. Every outcome of a check, and a failure at every stage
//! (fetch, extract, store read, store write, recording the check), with what
//! each leaves in the store.

use crate::ids::{CheckId, RevisionId, SnapshotId};
use std::collections::VecDeque;
use std::sync::Mutex;

use super::*;
use crate::fetch::{CharsetSource, FetchError, Reach, Validators};
use crate::store::{AlertPlan, CheckRow, NewSnapshot, Recorded, SnapshotRow, StoredSnapshot};

/// Answers each fetch with the next scripted reply and notes the
/// validators it was sent.
struct ScriptedFetch {
    replies: Mutex<VecDeque<Result<Fetched, FetchError>>>,
    sent: Mutex<Vec<Option<Validators>>>,
}

impl ScriptedFetch {
    fn new(replies: impl IntoIterator<Item = Result<Fetched, FetchError>>) -> Self {
        ScriptedFetch {
            replies: Mutex::new(replies.into_iter().collect()),
            sent: Mutex::new(Vec::new()),
        }
    }

    fn push(&self, reply: Result<Fetched, FetchError>) {
        self.replies.lock().unwrap().push_back(reply);
    }
}

impl Fetch for ScriptedFetch {
    fn fetch_within(
        &self,
        url: &url::Url,
        validators: Option<&Validators>,
        _reach: Reach,
    ) -> impl std::future::Future<Output = std::result::Result<Fetched, FetchError>> + Send {
        self.sent.lock().unwrap().push(validators.cloned());
        let reply = self.replies.lock().unwrap().pop_front().unwrap_or_else(|| {
            Err(FetchError::Transport {
                url: url.to_string(),
                cause: "no scripted reply left".into(),
                retryable: false,
            })
        });
        std::future::ready(reply)
    }
}

/// Which store call fails, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The index fails (SQLite).
    Index(&'static str),
    /// A file fails (I/O, as a full disk or a deleted directory).
    File(&'static str),
}

/// A real store that fails the call named by its fault, once set.
struct FaultyStore {
    inner: Store,
    fault: Mutex<Option<Fault>>,
}

impl FaultyStore {
    fn check(&self, call: &'static str) -> std::result::Result<(), StoreError> {
        match *self.fault.lock().unwrap() {
            Some(Fault::Index(c)) if c == call => Err(StoreError::Database {
                path: "test double".into(),
                source: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
                    Some(format!("injected failure of {call}")),
                )
                .into(),
            }),
            Some(Fault::File(c)) if c == call => Err(StoreError::Io {
                path: "test double".into(),
                source: std::io::Error::other(format!("injected failure of {call}")),
            }),
            _ => Ok(()),
        }
    }
}

type StoreResult<T> = std::result::Result<T, StoreError>;

impl CheckStore for FaultyStore {
    fn latest_snapshot_row(&self, target: &str) -> StoreResult<Option<SnapshotRow>> {
        self.check("latest_snapshot_row")?;
        self.inner.latest_snapshot_row(target)
    }
    fn last_check_started(
        &self,
        target: &str,
        outcomes: &[CheckOutcome],
    ) -> StoreResult<Option<Timestamp>> {
        self.check("last_check_started")?;
        self.inner.last_check_started(target, outcomes)
    }
    fn with_document(&self, row: SnapshotRow) -> StoreResult<StoredSnapshot> {
        self.check("with_document")?;
        self.inner.with_document(row)
    }
    fn raw_body(&self, row: &SnapshotRow) -> StoreResult<Vec<u8>> {
        self.check("raw_body")?;
        self.inner.raw_body(row)
    }
    fn recent_snapshots(
        &self,
        target: &str,
        before: Option<&SnapshotRow>,
        limit: usize,
    ) -> StoreResult<Vec<SnapshotRow>> {
        self.check("recent_snapshots")?;
        self.inner.recent_snapshots(target, before, limit)
    }
    fn newest_with_content(
        &self,
        target: &str,
        hash: &str,
        before: Option<&SnapshotRow>,
    ) -> StoreResult<Option<SnapshotId>> {
        self.inner.newest_with_content(target, hash, before)
    }
    fn run_start(
        &self,
        target: &str,
        contents: [&str; 2],
        before: Option<&SnapshotRow>,
    ) -> StoreResult<Option<SnapshotId>> {
        self.inner.run_start(target, contents, before)
    }
    fn alternating_alerted_since(&self, target: &str, since: SnapshotId) -> StoreResult<bool> {
        self.inner.alternating_alerted_since(target, since)
    }
    fn record_check_alerting(
        &mut self,
        c: &CheckRecord,
        plan: Option<&AlertPlan>,
    ) -> StoreResult<CheckId> {
        self.check("record_check_alerting")?;
        self.inner.record_check_alerting(c, plan)
    }
    fn record_snapshot(&mut self, new: NewSnapshot<'_>) -> StoreResult<Recorded> {
        self.check("record_snapshot")?;
        self.inner.record_snapshot(new)
    }
    fn set_source_fingerprint(
        &self,
        snapshot: SnapshotId,
        fingerprint: &str,
        mask: Option<&[u8]>,
    ) -> StoreResult<()> {
        self.inner
            .set_source_fingerprint(snapshot, fingerprint, mask)
    }
    fn record_technical_revision(
        &mut self,
        target: &str,
        old: SnapshotId,
        new: SnapshotId,
        revision: &Revision,
        created_at: Timestamp,
    ) -> StoreResult<RevisionId> {
        self.inner
            .record_technical_revision(target, old, new, revision, created_at)
    }
    fn replace_document(&mut self, row: &SnapshotRow, document: &Document) -> StoreResult<()> {
        self.inner.replace_document(row, document)
    }
    fn checks(&self, target: &str, limit: usize) -> StoreResult<Vec<CheckRow>> {
        self.inner.checks(target, limit)
    }
    fn in_batch(&self) -> bool {
        self.inner.in_batch()
    }
    fn begin_batch(&mut self) -> StoreResult<()> {
        self.inner.begin_batch()
    }
    fn commit_batch(&mut self) -> StoreResult<()> {
        self.inner.commit_batch()
    }
}

const FILLER: &str = "The council agreed on regular political dialogue and practical \
                      cooperation in areas of common interest, including preparedness. ";

/// A page of the generic rules' shape; `version` names its text, `root` the
/// element that holds the content (`main` or `article`: a template change).
fn html(version: usize, root: &str) -> String {
    format!(
        "<html><head><title>Composed page</title></head><body><{root}><h1>Composed page</h1>\
         <p>Last updated: 28 Aug. 2024 11:27</p>\
         <h2>Relations</h2><p>{FILLER}{FILLER}</p><p>Text of version {version}.</p>\
         <h2>Partners</h2><p>{FILLER}</p></{root}></body></html>"
    )
}

/// A 200 answer with `html`, UTF-8, an ETag.
fn page(html: &str) -> std::result::Result<Fetched, FetchError> {
    Ok(Fetched::Page(FetchedPage {
        url: "https://example.org/p".into(),
        final_url: "https://example.org/p".into(),
        status: 200,
        content_type: Some("text/html; charset=utf-8".into()),
        charset: "UTF-8".into(),
        charset_source: CharsetSource::Header,
        malformed: 0,
        cut_mid_character: false,
        body: html.as_bytes().to_vec(),
        text: html.to_string(),
        validators: Validators {
            etag: Some("\"v\"".into()),
            last_modified: None,
        },
        fetched_at: Timestamp::now(),
        close_delimited: false,
    }))
}

fn unavailable() -> std::result::Result<Fetched, FetchError> {
    Err(FetchError::Status {
        url: "https://example.org/p".into(),
        status: 503,
        retry_after: None,
    })
}

struct Rig {
    _dir: tempfile::TempDir,
    monitor: Monitor<ScriptedFetch, FaultyStore>,
    target: Target,
    rt: tokio::runtime::Runtime,
}

impl Rig {
    /// A monitor over a fresh store; `confirm_after` for the target.
    fn new(confirm_after: &str) -> Rig {
        Rig::counted(confirm_after, None)
    }

    /// [`Rig::new`], counting into `metrics` when given.
    fn counted(
        confirm_after: &str,
        metrics: Option<std::sync::Arc<crate::metrics::Metrics>>,
    ) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "[settings]\nconfirm_after = \"{confirm_after}\"\n\n\
             [[target]]\nid = \"composed\"\nurl = \"https://example.org/p\"\n"
        );
        let settings =
            crate::config::parse(&config, std::path::Path::new("t.toml"), Some(dir.path()))
                .unwrap();
        let store = FaultyStore {
            inner: settings.open_store().unwrap(),
            fault: Mutex::new(None),
        };
        let mut monitor = Monitor::with_parts(store, ScriptedFetch::new([]), &settings);
        if let Some(m) = metrics {
            monitor = monitor.with_metrics(m);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Rig {
            _dir: dir,
            target: settings.targets[0].clone(),
            monitor,
            rt,
        }
    }

    fn check(
        &self,
        replies: impl IntoIterator<Item = std::result::Result<Fetched, FetchError>>,
    ) -> Result<Outcome> {
        for r in replies {
            self.monitor.fetcher.push(r);
        }
        self.rt.block_on(self.monitor.check(&self.target))
    }

    fn fail(&self, fault: Option<Fault>) {
        *self.monitor.store().fault.lock().unwrap() = fault;
    }

    fn snapshots(&self) -> usize {
        self.monitor
            .store()
            .inner
            .snapshots("composed")
            .unwrap()
            .len()
    }

    /// The outcomes of the recorded checks, oldest first.
    fn recorded(&self) -> Vec<CheckOutcome> {
        let mut checks = self.monitor.store().inner.checks("composed", 100).unwrap();
        checks.reverse();
        checks.into_iter().map(|c| c.outcome).collect()
    }
}

#[test]
fn every_outcome_of_a_check() {
    use CheckOutcome as C;
    let rig = Rig::new("0s");
    let baseline = rig.check([page(&html(0, "main"))]).unwrap();
    assert!(
        matches!(baseline, Outcome::Baseline { sections: 2, .. }),
        "{}",
        baseline.describe()
    );
    assert_eq!(rig.snapshots(), 1);

    let same = rig.check([page(&html(0, "main"))]).unwrap();
    assert!(matches!(same, Outcome::Unchanged), "{}", same.describe());
    // A later check sends the stored validators (conditional GET)...
    let sent = rig.monitor.fetcher.sent.lock().unwrap().clone();
    assert_eq!(sent[0], None);
    assert_eq!(
        sent[1].as_ref().and_then(|v| v.etag.as_deref()),
        Some("\"v\"")
    );
    // ...and a 304 is recorded as such, nothing stored.
    let not_modified = rig.check([Ok(Fetched::NotModified)]).unwrap();
    assert!(matches!(not_modified, Outcome::NotModified));
    assert_eq!(rig.snapshots(), 1);

    let changed = rig.check([page(&html(1, "main"))]).unwrap();
    let Outcome::Changed { redline, .. } = &changed else {
        panic!("{}", changed.describe());
    };
    assert_eq!(redline.revision.kind, RevisionKind::SilentEdit);
    assert_eq!(rig.snapshots(), 2);

    // The same text in another template: a technical snapshot, no revision.
    let layout = rig.check([page(&html(1, "article"))]).unwrap();
    assert!(
        matches!(layout, Outcome::LayoutChanged { .. }),
        "{}",
        layout.describe()
    );
    assert_eq!(rig.snapshots(), 3);

    assert_eq!(
        rig.recorded(),
        [
            C::Baseline,
            C::Unchanged,
            C::NotModified,
            C::Changed,
            C::LayoutChanged
        ]
    );
}

#[test]
fn a_change_the_second_fetch_does_not_repeat_is_unconfirmed() {
    let rig = Rig::new("1ms");
    rig.check([page(&html(0, "main"))]).unwrap();
    let outcome = rig
        .check([page(&html(1, "main")), page(&html(2, "main"))])
        .unwrap();
    assert!(
        matches!(outcome, Outcome::Unconfirmed { .. }),
        "{}",
        outcome.describe()
    );
    assert_eq!(rig.snapshots(), 1);
    // The second fetch failing is no confirmation either.
    let outcome = rig.check([page(&html(1, "main")), unavailable()]).unwrap();
    assert!(
        matches!(outcome, Outcome::Unconfirmed { .. }),
        "{}",
        outcome.describe()
    );
    // Both fetches agreeing: stored.
    let outcome = rig
        .check([page(&html(1, "main")), page(&html(1, "main"))])
        .unwrap();
    assert!(
        matches!(outcome, Outcome::Changed { .. }),
        "{}",
        outcome.describe()
    );
    assert_eq!(rig.snapshots(), 2);
    assert_eq!(
        rig.recorded(),
        [
            CheckOutcome::Baseline,
            CheckOutcome::Unconfirmed,
            CheckOutcome::Unconfirmed,
            CheckOutcome::Changed
        ]
    );
}

/// A failure at each stage is an error of that stage, never a snapshot;
/// the check is recorded as failed when the store can still record it, and
/// the next good check compares against the untouched baseline.
#[test]
fn a_failure_at_every_stage_stores_nothing() {
    let rig = Rig::new("0s");
    rig.check([page(&html(0, "main"))]).unwrap();

    // fetch
    let e = rig.check([unavailable()]).unwrap_err();
    assert!(matches!(e, Error::Fetch { .. }), "{e}");
    // extract: a page with too little text for any content root
    let e = rig
        .check([page(
            "<html><body><main><p>Down for maintenance.</p></main></body></html>",
        )])
        .unwrap_err();
    assert!(matches!(e, Error::Extract { .. }), "{e}");
    assert_eq!(rig.snapshots(), 1);
    assert_eq!(
        rig.recorded()[1..],
        [CheckOutcome::Failed, CheckOutcome::Failed]
    );

    // store read: the index fails before the fetch; nothing more is recorded
    rig.fail(Some(Fault::Index("latest_snapshot_row")));
    let fetches = rig.monitor.fetcher.sent.lock().unwrap().len();
    let e = rig.check([]).unwrap_err();
    assert_eq!(
        rig.monitor.fetcher.sent.lock().unwrap().len(),
        fetches,
        "fetched anyway"
    );
    assert!(
        matches!(e, Error::Store(StoreError::Database { .. })),
        "{e}"
    );
    // store write: the snapshot's files cannot be written; the failed check
    // is recorded with the error
    rig.fail(Some(Fault::File("record_snapshot")));
    let e = rig.check([page(&html(1, "main"))]).unwrap_err();
    assert!(matches!(e, Error::Store(StoreError::Io { .. })), "{e}");
    assert_eq!(rig.snapshots(), 1);
    let last = rig.monitor.store().inner.checks("composed", 1).unwrap();
    assert_eq!(last[0].outcome, CheckOutcome::Failed);
    assert!(
        last[0]
            .error
            .as_deref()
            .unwrap()
            .contains("injected failure of record_snapshot")
    );
    // recording an unchanged check fails: the error says so
    rig.fail(Some(Fault::Index("record_check_alerting")));
    let e = rig.check([page(&html(0, "main"))]).unwrap_err();
    assert!(
        e.to_string()
            .contains("injected failure of record_check_alerting"),
        "{e}"
    );
    assert_eq!(rig.recorded().len(), 4);

    // All well again: the change is found against the untouched baseline.
    rig.fail(None);
    let outcome = rig.check([page(&html(1, "main"))]).unwrap();
    let Outcome::Changed { redline, .. } = &outcome else {
        panic!("{}", outcome.describe());
    };
    assert_eq!(redline.old_snapshot, Some(SnapshotId(1)));
    assert_eq!(rig.snapshots(), 2);
}

/// The metrics count each outcome the root returns, failures included.
#[test]
fn metrics_count_what_the_root_returns() {
    let metrics = std::sync::Arc::new(crate::metrics::Metrics::default());
    let rig = Rig::counted("0s", Some(std::sync::Arc::clone(&metrics)));
    rig.check([page(&html(0, "main"))]).unwrap();
    rig.check([page(&html(0, "main"))]).unwrap();
    rig.check([unavailable()]).unwrap_err();
    let text = metrics
        .render(&rig.monitor.store().inner, &["composed"])
        .unwrap();
    for line in [
        "redliner_checks_total{outcome=\"baseline\"} 1",
        "redliner_checks_total{outcome=\"unchanged\"} 1",
        "redliner_checks_total{outcome=\"failed\"} 1",
        "redliner_fetch_duration_seconds_count 3",
        // the unchanged page matched its source fingerprint: not extracted
        "redliner_extract_duration_seconds_count 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in {text}");
    }
}
