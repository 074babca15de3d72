//! The clean mark (`<store>/.clean`): present while every write to the store
//! has finished and every feed is current, so a run that finds it skips the
//! repair scan (which lists every snapshot directory of every target) and a
//! clean store costs one `stat` to open for checking.
//!
//! The store removes the mark (durably: the root is synced) before the first
//! write of a session that can leave something to repair: snapshot files, a
//! rewritten document, a feed, a revision the feeds must show. It puts the
//! mark back in [`Store::settle`], once every transaction is committed and
//! every feed due is rewritten (see `archive::refresh_feeds_for`). A run
//! killed in between leaves no mark, and the next run repairs the store in
//! full (`archive::recover`), then marks it clean. A store without the mark
//! for any other reason (new, or written by an older redliner) is repaired
//! the same way once: the mark's absence is always the safe side.

use std::path::PathBuf;

use super::{Store, StoreError};

/// The clean mark's file name in the store root.
pub const CLEAN_FILE: &str = ".clean";

impl Store {
    /// The clean mark's path.
    fn clean_path(&self) -> PathBuf {
        self.root.join(CLEAN_FILE)
    }

    /// True when the store carries the clean mark: no write was left
    /// unfinished and no feed is stale.
    pub fn is_clean(&self) -> bool {
        // A store whose files are in its database has nothing on disk to
        // repair: its writes are transactions.
        self.files_in_database() || self.clean_path().is_file()
    }

    /// Removes the clean mark before a write, once per session (until
    /// [`Store::settle`]).
    ///
    /// # Errors
    /// [`StoreError::Io`] when the mark cannot be removed.
    pub(super) fn unsettle(&self) -> Result<(), StoreError> {
        if self.unsettled.get() || self.files_in_database() {
            return Ok(());
        }
        let path = self.clean_path();
        match std::fs::remove_file(&path) {
            Ok(()) => {
                // Durable before the files it vouches for: a power cut must
                // not bring the mark back beside a half-written snapshot.
                if let Ok(dir) = std::fs::File::open(&self.root) {
                    let _ = dir.sync_all();
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.display().to_string(),
                    source,
                });
            }
        }
        self.unsettled.set(true);
        Ok(())
    }

    /// Notes that `target`'s feed (and the feed for all targets) must be
    /// rewritten before the store is clean again.
    pub(super) fn feed_due(&self, target: &str) {
        self.feeds_due.borrow_mut().insert(target.to_string());
    }

    /// The targets whose feeds this session's writes made stale and that
    /// were not rewritten since ([`Store::feeds_written`]), sorted.
    pub fn feeds_due(&self) -> Vec<String> {
        self.feeds_due.borrow().iter().cloned().collect()
    }

    /// Notes that the feeds of `targets` (and the feed for all targets)
    /// were rewritten.
    pub fn feeds_written<S: AsRef<str>>(&self, targets: &[S]) {
        let mut due = self.feeds_due.borrow_mut();
        for t in targets {
            due.remove(t.as_ref());
        }
    }

    /// Puts the clean mark back when this session removed it and every
    /// write is finished: no transaction open (a batch not yet committed
    /// keeps it off) and no feed due. Returns whether the store is marked
    /// clean by this session now. Call with the store lock held.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the mark cannot be written.
    pub fn settle(&self) -> Result<bool, StoreError> {
        if !self.unsettled.get() {
            return Ok(false);
        }
        if !self.conn.is_autocommit() || !self.feeds_due.borrow().is_empty() {
            return Ok(false);
        }
        self.mark_clean()?;
        Ok(true)
    }

    /// Marks the store clean (after a full repair). Call with the store lock
    /// held, with nothing left to repair.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the mark cannot be written.
    pub fn mark_clean(&self) -> Result<(), StoreError> {
        if self.files_in_database() {
            self.feeds_due.borrow_mut().clear();
            return Ok(());
        }
        let path = self.clean_path();
        std::fs::write(&path, b"").map_err(|source| StoreError::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.feeds_due.borrow_mut().clear();
        self.unsettled.set(false);
        Ok(())
    }
}
