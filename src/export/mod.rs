//! Exports of the stored history for other tools: WARC files for web
//! archives and their readers ([`warc`]), a git repository with one commit
//! per snapshot ([`git`]), and evidence bundles that prove what a page said
//! and when ([`evidence`]).

pub mod evidence;
pub mod git;
pub mod warc;

use crate::document::Document;
use crate::error::{Error, Result};
use crate::store::ledger::sha256_hex;
use crate::store::{SnapshotRow, Store};

/// A snapshot's raw body, refused when it no longer has the SHA-256 its
/// row records (an edited file): exports never pass on what `verify` would
/// call a break.
///
/// # Errors
/// [`Error::Store`] when it cannot be read; [`Error::Usage`] when it differs.
pub fn checked_body(store: &Store, row: &SnapshotRow) -> Result<Vec<u8>> {
    let body = store.raw_body(row)?;
    if sha256_hex(&body) != row.raw_sha256 {
        return Err(tampered(row, "raw body"));
    }
    Ok(body)
}

/// A snapshot's document JSON as stored and the document it holds, refused
/// when the bytes no longer have the SHA-256 its row records.
///
/// # Errors
/// As [`checked_body`]; [`Error::Usage`] for JSON that does not parse.
pub fn checked_document(store: &Store, row: &SnapshotRow) -> Result<(Vec<u8>, Document)> {
    let (json, _) = store.document_bytes(row)?;
    if row
        .document_sha256
        .as_deref()
        .is_some_and(|d| d != sha256_hex(&json))
    {
        return Err(tampered(row, "document"));
    }
    let document = serde_json::from_slice(&json).map_err(|e| {
        Error::Usage(format!(
            "snapshot {} of {}: unreadable document JSON: {e}",
            row.id, row.target
        ))
    })?;
    Ok((json, document))
}

fn tampered(row: &SnapshotRow, what: &str) -> Error {
    Error::Usage(format!(
        "snapshot {} of {}: its {what} no longer matches the SHA-256 the ledger recorded; \
         run `redliner verify`",
        row.id, row.target
    ))
}
