//! [`CheckStore`]: what a check needs of the store, so the composition root
//! ([`crate::monitor`]) can be tested with a double that fails at any stage.

use super::*;
#[allow(clippy::wildcard_imports)]
use crate::ids::{CheckId, RevisionId, SnapshotId};

/// The reads and writes of one check: the latest snapshot and its files,
/// the recent history alert planning looks at, and the records a check
/// leaves (a check, a snapshot, a technical revision, a re-extracted
/// document), in batches. [`Store`] is the real one; each method does what
/// the [`Store`] method of the same name does.
pub trait CheckStore: Send {
    /// [`Store::latest_snapshot_row`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn latest_snapshot_row(&self, target: &str) -> Result<Option<SnapshotRow>, StoreError>;
    /// [`Store::last_check_started`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn last_check_started(
        &self,
        target: &str,
        outcomes: &[CheckOutcome],
    ) -> Result<Option<Timestamp>, StoreError>;
    /// [`Store::with_document`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn with_document(&self, row: SnapshotRow) -> Result<StoredSnapshot, StoreError>;
    /// [`Store::raw_body`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn raw_body(&self, row: &SnapshotRow) -> Result<Vec<u8>, StoreError>;
    /// [`Store::recent_snapshots`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn recent_snapshots(
        &self,
        target: &str,
        before: Option<&SnapshotRow>,
        limit: usize,
    ) -> Result<Vec<SnapshotRow>, StoreError>;
    /// [`Store::newest_with_content`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn newest_with_content(
        &self,
        target: &str,
        hash: &str,
        before: Option<&SnapshotRow>,
    ) -> Result<Option<SnapshotId>, StoreError>;
    /// [`Store::run_start`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn run_start(
        &self,
        target: &str,
        contents: [&str; 2],
        before: Option<&SnapshotRow>,
    ) -> Result<Option<SnapshotId>, StoreError>;
    /// [`Store::alternating_alerted_since`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn alternating_alerted_since(
        &self,
        target: &str,
        since_snapshot: SnapshotId,
    ) -> Result<bool, StoreError>;
    /// [`Store::record_check_alerting`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn record_check_alerting(
        &mut self,
        c: &CheckRecord,
        plan: Option<&AlertPlan>,
    ) -> Result<CheckId, StoreError>;
    /// [`Store::record_snapshot`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn record_snapshot(&mut self, new: NewSnapshot<'_>) -> Result<Recorded, StoreError>;
    /// [`Store::set_source_fingerprint`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn set_source_fingerprint(
        &self,
        snapshot: SnapshotId,
        fingerprint: &str,
        mask: Option<&[u8]>,
    ) -> Result<(), StoreError>;
    /// [`Store::record_technical_revision`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn record_technical_revision(
        &mut self,
        target: &str,
        old_snapshot_id: SnapshotId,
        new_snapshot_id: SnapshotId,
        revision: &Revision,
        created_at: Timestamp,
    ) -> Result<RevisionId, StoreError>;
    /// [`Store::replace_document`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn replace_document(
        &mut self,
        row: &SnapshotRow,
        document: &Document,
    ) -> Result<(), StoreError>;
    /// [`Store::checks`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn checks(&self, target: &str, limit: usize) -> Result<Vec<CheckRow>, StoreError>;
    /// [`Store::in_batch`].
    fn in_batch(&self) -> bool;
    /// [`Store::begin_batch`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn begin_batch(&mut self) -> Result<(), StoreError>;
    /// [`Store::commit_batch`].
    ///
    /// # Errors
    /// [`StoreError`].
    fn commit_batch(&mut self) -> Result<(), StoreError>;
}

impl CheckStore for Store {
    fn latest_snapshot_row(&self, target: &str) -> Result<Option<SnapshotRow>, StoreError> {
        Store::latest_snapshot_row(self, target)
    }
    fn last_check_started(
        &self,
        target: &str,
        outcomes: &[CheckOutcome],
    ) -> Result<Option<Timestamp>, StoreError> {
        Store::last_check_started(self, target, outcomes)
    }
    fn with_document(&self, row: SnapshotRow) -> Result<StoredSnapshot, StoreError> {
        Store::with_document(self, row)
    }
    fn raw_body(&self, row: &SnapshotRow) -> Result<Vec<u8>, StoreError> {
        Store::raw_body(self, row)
    }
    fn recent_snapshots(
        &self,
        target: &str,
        before: Option<&SnapshotRow>,
        limit: usize,
    ) -> Result<Vec<SnapshotRow>, StoreError> {
        Store::recent_snapshots(self, target, before, limit)
    }
    fn newest_with_content(
        &self,
        target: &str,
        hash: &str,
        before: Option<&SnapshotRow>,
    ) -> Result<Option<SnapshotId>, StoreError> {
        Store::newest_with_content(self, target, hash, before)
    }
    fn run_start(
        &self,
        target: &str,
        contents: [&str; 2],
        before: Option<&SnapshotRow>,
    ) -> Result<Option<SnapshotId>, StoreError> {
        Store::run_start(self, target, contents, before)
    }
    fn alternating_alerted_since(
        &self,
        target: &str,
        since_snapshot: SnapshotId,
    ) -> Result<bool, StoreError> {
        Store::alternating_alerted_since(self, target, since_snapshot)
    }
    fn record_check_alerting(
        &mut self,
        c: &CheckRecord,
        plan: Option<&AlertPlan>,
    ) -> Result<CheckId, StoreError> {
        Store::record_check_alerting(self, c, plan)
    }
    fn record_snapshot(&mut self, new: NewSnapshot<'_>) -> Result<Recorded, StoreError> {
        Store::record_snapshot(self, new)
    }
    fn set_source_fingerprint(
        &self,
        snapshot: SnapshotId,
        fingerprint: &str,
        mask: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        Store::set_source_fingerprint(self, snapshot, fingerprint, mask)
    }
    fn record_technical_revision(
        &mut self,
        target: &str,
        old_snapshot_id: SnapshotId,
        new_snapshot_id: SnapshotId,
        revision: &Revision,
        created_at: Timestamp,
    ) -> Result<RevisionId, StoreError> {
        Store::record_technical_revision(
            self,
            target,
            old_snapshot_id,
            new_snapshot_id,
            revision,
            created_at,
        )
    }
    fn replace_document(
        &mut self,
        row: &SnapshotRow,
        document: &Document,
    ) -> Result<(), StoreError> {
        Store::replace_document(self, row, document)
    }
    fn checks(&self, target: &str, limit: usize) -> Result<Vec<CheckRow>, StoreError> {
        Store::checks(self, target, limit)
    }
    fn in_batch(&self) -> bool {
        Store::in_batch(self)
    }
    fn begin_batch(&mut self) -> Result<(), StoreError> {
        Store::begin_batch(self)
    }
    fn commit_batch(&mut self) -> Result<(), StoreError> {
        Store::commit_batch(self)
    }
}
