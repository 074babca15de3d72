//! The index's rows as Rust values: what a check, a snapshot and a revision
//! record, and how a row of SQLite reads back into them (every text column
//! parsed, a bad value named with its column).

use super::*;
#[allow(clippy::wildcard_imports)]
use crate::ids::{CheckId, RevisionId, SnapshotId};

/// How a check ended. Stored as the kebab-case string.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
    strum::VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum CheckOutcome {
    /// The first snapshot of the target was stored.
    Baseline,
    /// Content and stamp equal the latest snapshot; nothing stored but the check.
    Unchanged,
    /// A new snapshot and a revision were stored.
    Changed,
    /// The server answered 304 to the conditional GET.
    NotModified,
    /// Fetching or extracting failed; nothing stored but the check and its error.
    Failed,
    /// The content changed but a second fetch did not give the same content
    /// (a flapping server, a cut body): nothing stored; the next run tries again.
    Unconfirmed,
    /// The page's template changed and its text did not: a technical snapshot
    /// was stored (later checks compare against it), never alerted, never a
    /// content revision.
    LayoutChanged,
}

impl CheckOutcome {
    /// The stored name (`baseline`, `unchanged`, `changed`, `not-modified`,
    /// `failed`, `unconfirmed`, `layout-changed`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A check that stored no new snapshot (unchanged, not modified, failed,
/// unconfirmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRecord {
    /// Target id.
    pub target: String,
    /// The target's URL.
    pub url: String,
    /// When the check began.
    pub started_at: Timestamp,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// How it ended.
    pub outcome: CheckOutcome,
    /// The URL after redirects, when a page came back.
    pub final_url: Option<String>,
    /// The HTTP status, when the server answered.
    pub http_status: Option<u16>,
    /// The error in one line, for failed checks.
    pub error: Option<String>,
    /// The snapshot the check compared against (the latest), if any.
    pub snapshot_id: Option<SnapshotId>,
    /// Why, in one line, for outcomes that need it (unconfirmed: what the
    /// second fetch found).
    pub note: Option<String>,
}

/// A new snapshot to record, with the check that made it.
#[derive(Debug, Clone, Copy)]
pub struct NewSnapshot<'a> {
    /// Target id (`[a-z0-9-]+`; used as a directory name).
    pub target: &'a str,
    /// The target's URL.
    pub url: &'a str,
    /// The page as fetched; its body is kept exactly.
    pub page: &'a FetchedPage,
    /// The document extracted from it.
    pub document: &'a Document,
    /// The capture time (names the snapshot directory).
    pub captured_at: Timestamp,
    /// When the check began.
    pub started_at: Timestamp,
    /// How long the check took, in milliseconds.
    pub duration_ms: i64,
    /// The latest snapshot before this one; `None` for a baseline.
    pub previous: Option<SnapshotId>,
    /// The revision from `previous` to this snapshot (needs `previous`).
    pub revision: Option<&'a Revision>,
    /// The rendered redline, saved as `redline.md` beside the snapshot.
    pub redline_markdown: Option<&'a str>,
    /// Alerts to queue in the same transaction (the revision's, and a
    /// "recovered" one when due); `None` queues nothing.
    pub alerts: Option<&'a AlertPlan>,
    /// True for a technical snapshot (the page's template changed, its text
    /// did not): the check is `layout-changed` and `revision`, if given, is
    /// recorded as technical (never reported, never a content revision).
    pub technical: bool,
    /// The check's note (for a technical snapshot: the rule to update).
    pub note: Option<&'a str>,
    /// What the page gave the extractor ([`crate::extract::fingerprint`]),
    /// stored so that a later page with the same one is recorded unchanged
    /// without extracting; `None` stores none (never matched).
    pub source_fingerprint: Option<&'a str>,
    /// The page's source mask ([`crate::extract::fingerprint::SourceMask::to_bytes`]),
    /// which spares a later page that fits it the tokenizer pass.
    pub source_mask: Option<&'a [u8]>,
    /// `document`'s fingerprint ([`Document::fingerprint`]) when the caller
    /// has it already; `None`: computed here.
    pub content_hash: Option<&'a str>,
    /// The web archive the capture was imported from; `None` for a page
    /// fetched live.
    pub archived: Option<&'a Archived>,
}

/// Where an imported capture came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archived {
    /// The archive's name (`wayback`, or an `[archives.NAME]` of the config).
    pub archive: String,
    /// The archive's replay URL of the capture.
    pub url: String,
    /// The capture's time as the archive writes it (14 digits, UTC).
    pub timestamp: String,
    /// The URL the archive captured.
    pub original: String,
    /// The archive's digest of the capture, if it gives one.
    pub digest: Option<String>,
}

/// What [`Store::record_snapshot`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The new snapshot's id.
    pub snapshot_id: SnapshotId,
    /// The check row's id.
    pub check_id: CheckId,
    /// The revision row's id, when a revision was given.
    pub revision_id: Option<RevisionId>,
    /// The snapshot directory (store root joined with the relative dir).
    pub dir: PathBuf,
}

/// One row of the `snapshots` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotRow {
    /// Snapshot id.
    pub id: SnapshotId,
    /// Target id.
    pub target: String,
    /// Capture time.
    pub captured_at: Timestamp,
    /// Directory of the files, relative to the store root, `/`-separated.
    pub dir: String,
    /// The URL requested.
    pub url: String,
    /// The URL after redirects.
    pub final_url: String,
    /// HTTP status.
    pub http_status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The charset the body was decoded with.
    pub charset: String,
    /// How the charset was chosen (`header`, `meta`, `bom`, `detected`,
    /// `utf8-validity`, `utf16-pattern`, `override`; see
    /// [`crate::fetch::CharsetSource`]); `None` for snapshots stored before
    /// it was recorded.
    pub charset_source: Option<String>,
    /// The `ETag` the server sent.
    pub etag: Option<String>,
    /// The `Last-Modified` the server sent.
    pub last_modified: Option<String>,
    /// [`Document::fingerprint`] (stamp excluded).
    pub content_hash: String,
    /// SHA-256 (hex) of the raw body.
    pub raw_sha256: String,
    /// The raw body's file, relative to the store root
    /// (`.raw/<sha[0..2]>/<sha>.html.zst`); `None` for snapshots stored
    /// before it, whose body is `page.html.gz` in their directory.
    pub raw_path: Option<String>,
    /// Page title.
    pub title: Option<String>,
    /// The stamp as served.
    pub stamp_text: Option<String>,
    /// The stamp's date.
    pub stamp_date: Option<Date>,
    /// The stamp's Brussels wall-clock time.
    pub stamp_time: Option<Time>,
    /// The stamp's instant.
    pub stamp_instant: Option<Timestamp>,
    /// The content root used.
    pub root_selector: String,
    /// True when the configured root was not found.
    pub root_fallback: bool,
    /// Number of sections.
    pub sections: usize,
    /// Number of blocks.
    pub blocks: usize,
    /// Number of words.
    pub words: usize,
    /// What the page gave the extractor ([`crate::extract::fingerprint`]);
    /// `None` for snapshots stored before it was recorded, or pages the
    /// streaming pass could not follow. Not shown: an internal key.
    #[serde(skip)]
    pub source_fingerprint: Option<String>,
    /// The source mask stored with the fingerprint
    /// ([`crate::extract::fingerprint::SourceMask::to_bytes`]); `None` when
    /// none was. Not shown: an internal key.
    #[serde(skip)]
    pub source_mask: Option<Vec<u8>>,
    /// The web archive the snapshot was imported from (`redliner
    /// backfill`); `None` for a capture redliner fetched itself.
    pub source: Option<String>,
    /// The archive's replay URL of the capture; `None` for live captures.
    pub source_url: Option<String>,
    /// SHA-256 (hex) of the document JSON as stored; `None` until the
    /// ledger has entered a snapshot stored before it.
    pub document_sha256: Option<String>,
    /// The hash of the snapshot's newest ledger entry ([`crate::store::ledger`]).
    pub chain_hash: Option<String>,
}

impl SnapshotRow {
    /// The validators for the next conditional GET.
    pub fn validators(&self) -> Validators {
        Validators {
            etag: self.etag.clone(),
            last_modified: self.last_modified.clone(),
        }
    }
}

/// A snapshot with its document loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSnapshot {
    /// Snapshot id (same as `row.id`).
    pub id: SnapshotId,
    /// Capture time (same as `row.captured_at`).
    pub captured_at: Timestamp,
    /// The index row.
    pub row: SnapshotRow,
    /// The document from `document.json`.
    pub document: Document,
    /// The validators the server sent with this snapshot.
    pub validators: Validators,
}

/// One row of the `checks` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckRow {
    /// Check id.
    pub id: CheckId,
    /// Target id.
    pub target: String,
    /// When it began.
    pub started_at: Timestamp,
    /// When it ended.
    pub finished_at: Timestamp,
    /// The URL requested.
    pub url: String,
    /// The URL after redirects.
    pub final_url: Option<String>,
    /// HTTP status, when the server answered.
    pub http_status: Option<u16>,
    /// How it ended.
    pub outcome: CheckOutcome,
    /// The error, for failed checks.
    pub error: Option<String>,
    /// The snapshot made (baseline, changed) or compared against.
    pub snapshot_id: Option<SnapshotId>,
    /// The revision made (changed).
    pub revision_id: Option<RevisionId>,
    /// Duration in milliseconds.
    pub duration_ms: i64,
    /// Why, in one line (layout changed: the rule to update; unconfirmed:
    /// what the second fetch found).
    pub note: Option<String>,
}

/// One row of the `revisions` table (the full revision via [`Store::revision`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevisionRow {
    /// Revision id.
    pub id: RevisionId,
    /// Target id.
    pub target: String,
    /// The old snapshot.
    pub old_snapshot_id: SnapshotId,
    /// The new snapshot.
    pub new_snapshot_id: SnapshotId,
    /// The classification.
    pub kind: RevisionKind,
    /// True for differences that come only from re-extraction; never a page change.
    pub technical: bool,
    /// Counts.
    pub summary: ChangeSummary,
    /// When it was recorded.
    pub created_at: Timestamp,
}

/// One line of `redliner history`: a check with its snapshot and revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// Check id.
    pub check_id: CheckId,
    /// When the check began.
    pub at: Timestamp,
    /// How it ended.
    pub outcome: CheckOutcome,
    /// HTTP status, when the server answered.
    pub http_status: Option<u16>,
    /// The snapshot made or compared against.
    pub snapshot_id: Option<SnapshotId>,
    /// That snapshot's stamp as served.
    pub stamp: Option<String>,
    /// That snapshot's number of sections.
    pub sections: Option<usize>,
    /// The revision made, for changed checks.
    pub revision_id: Option<RevisionId>,
    /// Its kind.
    pub kind: Option<RevisionKind>,
    /// Its counts.
    pub summary: Option<ChangeSummary>,
    /// The error, for failed checks.
    pub error: Option<String>,
    /// Why, for layout-changed and unconfirmed checks.
    pub note: Option<String>,
}

pub(super) const SNAPSHOT_COLUMNS: &str = "id, target_id, captured_at, dir, url, final_url, http_status, \
     content_type, charset, etag, last_modified, content_hash, raw_sha256, title, stamp_text, \
     stamp_date, stamp_time, stamp_instant, root_selector, root_fallback, sections, blocks, words, \
     charset_source, raw_path, source_fingerprint, source_mask, source, source_url, \
     document_sha256, chain_hash";

pub(super) const CHECK_COLUMNS: &str = "id, target_id, started_at, finished_at, url, final_url, http_status, \
     outcome, error, snapshot_id, revision_id, duration_ms, note";

/// Stored time text: UTC RFC 3339 with exactly three fractional digits, so text
/// order is time order.
pub(super) fn ts(t: Timestamp) -> String {
    let t = t.round(Unit::Millisecond).unwrap_or(t);
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub(super) fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

pub(super) fn limit_param(limit: usize) -> i64 {
    to_i64(limit)
}

pub(super) fn bad_value(idx: usize, what: &str, value: &str) -> db::DbError {
    db::DbError::conversion(idx, format!("not a valid {what}: `{value}`"))
}

pub(super) fn parse_text<T: std::str::FromStr>(
    r: &Row<'_>,
    idx: usize,
    what: &str,
) -> db::Result<Option<T>> {
    let text: Option<String> = r.get(idx)?;
    text.map(|s| s.parse::<T>().map_err(|_| bad_value(idx, what, &s)))
        .transpose()
}

pub(super) fn get_timestamp(r: &Row<'_>, idx: usize) -> db::Result<Timestamp> {
    parse_text(r, idx, "timestamp")?
        .ok_or_else(|| db::DbError::conversion(idx, "NULL where a time was expected"))
}

pub(super) fn get_outcome(r: &Row<'_>, idx: usize) -> db::Result<CheckOutcome> {
    let s: String = r.get(idx)?;
    s.parse::<CheckOutcome>()
        .map_err(|_| bad_value(idx, "check outcome", &s))
}

pub(super) fn get_kind_opt(r: &Row<'_>, idx: usize) -> db::Result<Option<RevisionKind>> {
    let s: Option<String> = r.get(idx)?;
    s.map(|s| {
        s.parse::<RevisionKind>()
            .map_err(|_| bad_value(idx, "revision kind", &s))
    })
    .transpose()
}

pub(super) fn parse_json<T: serde::de::DeserializeOwned>(s: &str, idx: usize) -> db::Result<T> {
    serde_json::from_str(s)
        .map_err(|e| db::DbError::conversion(idx, format!("not valid JSON: {e}")))
}

pub(super) fn snapshot_row(r: &Row<'_>) -> db::Result<SnapshotRow> {
    snapshot_row_at(r, 0)
}

/// A snapshot row from [`SNAPSHOT_COLUMNS`] starting at column `at`.
pub(super) fn snapshot_row_at(r: &Row<'_>, at: usize) -> db::Result<SnapshotRow> {
    Ok(SnapshotRow {
        id: r.get(at)?,
        target: r.get(at + 1)?,
        captured_at: get_timestamp(r, at + 2)?,
        dir: r.get(at + 3)?,
        url: r.get(at + 4)?,
        final_url: r.get(at + 5)?,
        http_status: r.get(at + 6)?,
        content_type: r.get(at + 7)?,
        charset: r.get(at + 8)?,
        etag: r.get(at + 9)?,
        last_modified: r.get(at + 10)?,
        content_hash: r.get(at + 11)?,
        raw_sha256: r.get(at + 12)?,
        title: r.get(at + 13)?,
        stamp_text: r.get(at + 14)?,
        stamp_date: parse_text(r, at + 15, "date")?,
        stamp_time: parse_text(r, at + 16, "time")?,
        stamp_instant: parse_text(r, at + 17, "timestamp")?,
        root_selector: r.get(at + 18)?,
        root_fallback: r.get(at + 19)?,
        sections: to_usize(r.get(at + 20)?),
        blocks: to_usize(r.get(at + 21)?),
        words: to_usize(r.get(at + 22)?),
        charset_source: r.get(at + 23)?,
        raw_path: r.get(at + 24)?,
        source_fingerprint: r.get(at + 25)?,
        source_mask: r.get(at + 26)?,
        source: r.get(at + 27)?,
        source_url: r.get(at + 28)?,
        document_sha256: r.get(at + 29)?,
        chain_hash: r.get(at + 30)?,
    })
}

pub(super) fn check_row(r: &Row<'_>) -> db::Result<CheckRow> {
    Ok(CheckRow {
        id: r.get(0)?,
        target: r.get(1)?,
        started_at: get_timestamp(r, 2)?,
        finished_at: get_timestamp(r, 3)?,
        url: r.get(4)?,
        final_url: r.get(5)?,
        http_status: r.get(6)?,
        outcome: get_outcome(r, 7)?,
        error: r.get(8)?,
        snapshot_id: r.get(9)?,
        revision_id: r.get(10)?,
        duration_ms: r.get(11)?,
        note: r.get(12)?,
    })
}

/// A revision row (`id, target_id, old_snapshot_id, new_snapshot_id, kind,
/// technical, summary_json, created_at`) starting at column `at`.
pub(super) fn revision_row_at(r: &Row<'_>, at: usize) -> db::Result<RevisionRow> {
    let kind: String = r.get(at + 4)?;
    let summary: String = r.get(at + 6)?;
    Ok(RevisionRow {
        id: r.get(at)?,
        target: r.get(at + 1)?,
        old_snapshot_id: r.get(at + 2)?,
        new_snapshot_id: r.get(at + 3)?,
        kind: kind
            .parse::<RevisionKind>()
            .ok()
            .ok_or_else(|| bad_value(at + 4, "revision kind", &kind))?,
        technical: r.get(at + 5)?,
        summary: parse_json(&summary, at + 6)?,
        created_at: get_timestamp(r, at + 7)?,
    })
}

/// `query_row` and `execute` through the connection's statement cache: a
/// check runs the same few statements for every target, so each is prepared
/// once per connection, never once per call.
pub(super) trait Cached {
    /// [`Connection::query_row`] with a cached statement.
    fn cached_row<T, P: db::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row<'_>) -> db::Result<T>,
    ) -> db::Result<T>;

    /// [`Connection::execute`] with a cached statement.
    fn cached_execute<P: db::Params>(&self, sql: &str, params: P) -> db::Result<usize>;
}

impl Cached for Connection {
    fn cached_row<T, P: db::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row<'_>) -> db::Result<T>,
    ) -> db::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    fn cached_execute<P: db::Params>(&self, sql: &str, params: P) -> db::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
}
