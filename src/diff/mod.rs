//! The diff stage: two documents to a [`Revision`].

use crate::document::Document;
use crate::revision::Revision;

/// Options bounding the cost of a diff.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Give up word-level detail after this long and degrade to block level.
    pub deadline: std::time::Duration,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions { deadline: std::time::Duration::from_secs(2) }
    }
}

/// Compares two documents. `None` when neither content nor stamp changed.
pub fn revision(old: &Document, new: &Document, opts: &DiffOptions) -> Option<Revision> {
    let _ = (old, new, opts);
    None
}
