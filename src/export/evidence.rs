//! Evidence bundles: one zip a third party can check with `sha256sum`
//! alone, proving what a page said at a capture (and what changed since an
//! older one).
//!
//! The zip holds one directory, `evidence-<target>-<id>/`:
//!
//! ```text
//! README.txt                  how to verify, step by step
//! SHA256SUMS                  `sha256sum -c` format, every other file
//! manifest.json               the same facts for programs
//! captures.warc.gz            the raw capture(s) as WARC/1.1 (see super::warc)
//! snapshot-<id>/page.html     the body exactly as stored
//! snapshot-<id>/document.json the extracted document, exactly as stored
//! snapshot-<id>/document.md   the document as Markdown
//! redline.html, redline.md    the redline from the older snapshot (with one)
//! ledger/<seq>.txt            the ledger entries, each the exact text its hash is
//!                             taken of, from the oldest entry of these
//!                             snapshots to the head of the chain
//! ```
//!
//! `sha256sum snapshot-<id>/page.html` is the `raw` line of that snapshot's
//! ledger entry, `sha256sum snapshot-<id>/document.json` its `document`
//! line; `sha256sum ledger/<n>.txt` is the `prev` line of the next entry;
//! the last entry's hash is the chain head, which anyone who kept it (from
//! an earlier bundle, a log, a message) can compare.

use std::io::Write;
use std::path::Path;

use jiff::Timestamp;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::ids::SnapshotId;
use crate::report::{Format, Redline};
use crate::store::ledger::{LedgerEntry, sha256_hex};
use crate::store::{SnapshotRow, Store};

/// What a bundle holds, for its `manifest.json` and the caller.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// The target.
    pub target: String,
    /// The page URL.
    pub url: String,
    /// The snapshots in the bundle, older first.
    pub snapshots: Vec<ManifestSnapshot>,
    /// The chain head when the bundle was made.
    pub chain_head: String,
    /// How many ledger entries the bundle holds.
    pub ledger_entries: usize,
    /// When the bundle was made.
    pub made_at: Timestamp,
}

/// One snapshot of a bundle.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestSnapshot {
    /// Its id.
    pub id: SnapshotId,
    /// When it was captured.
    pub captured_at: Timestamp,
    /// Where it came from: `live`, or the archive's name.
    pub source: String,
    /// The archive's replay URL, for an imported capture.
    pub source_url: Option<String>,
    /// SHA-256 hex of `page.html` (the ledger's `raw`).
    pub raw_sha256: String,
    /// SHA-256 hex of `document.json` (the ledger's `document`).
    pub document_sha256: String,
    /// The ledger entries naming it (their numbers).
    pub ledger_seq: Vec<i64>,
    /// The page's stamp, as it showed it.
    pub stamp: Option<String>,
}

/// Writes the bundle of `snapshot` (and `against`, older, when given) of
/// `target` to `out` as a zip.
///
/// # Errors
/// [`Error::Store`] when a file cannot be read; [`Error::Usage`] when a
/// snapshot has no ledger entry or a stored file no longer matches its
/// digest (run `redliner verify`); [`Error::System`] when writing fails.
pub fn write_bundle(
    store: &Store,
    new: &SnapshotRow,
    old: Option<&SnapshotRow>,
    out: impl Write + std::io::Seek,
) -> Result<Manifest> {
    let dir = format!("evidence-{}-{}", new.target, new.id);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let rows: Vec<&SnapshotRow> = old.into_iter().chain(std::iter::once(new)).collect();
    let mut listed = Vec::new();
    let mut oldest_seq = i64::MAX;
    let mut warc = Vec::new();
    let info_id = "<urn:uuid:00000000-0000-8000-8000-000000000000>";
    for row in &rows {
        let body = super::checked_body(store, row)?;
        let (json, document) = super::checked_document(store, row)?;
        let entries: Vec<LedgerEntry> = store.ledger_entries(row.id)?;
        let Some(last) = entries.last() else {
            return Err(Error::Usage(format!(
                "snapshot {} has no ledger entry yet: run `redliner verify` first",
                row.id
            )));
        };
        let (raw_sha, doc_sha) = (sha256_hex(&body), sha256_hex(&json));
        let source =
            crate::store::ledger::source_text(row.source.as_deref(), row.source_url.as_deref());
        if raw_sha != last.raw_sha256 || doc_sha != last.document_sha256 || source != last.source {
            return Err(Error::Usage(format!(
                "snapshot {}: its files no longer match the ledger; run `redliner verify`",
                row.id
            )));
        }
        oldest_seq = oldest_seq.min(entries[0].seq);
        super::warc::write_snapshot(store, row, &body, &mut warc, true, info_id)?;
        // Made from the proven document, never copied from `document.md`.
        let md = crate::store::render_markdown(&document, &row.target).into_bytes();
        let sub = format!("snapshot-{}", row.id);
        files.push((format!("{sub}/page.html"), body));
        files.push((format!("{sub}/document.json"), json));
        files.push((format!("{sub}/document.md"), md));
        listed.push(ManifestSnapshot {
            id: row.id,
            captured_at: row.captured_at,
            source: row.source.clone().unwrap_or_else(|| "live".into()),
            source_url: row.source_url.clone(),
            raw_sha256: raw_sha,
            document_sha256: doc_sha,
            ledger_seq: entries.iter().map(|e| e.seq).collect(),
            // From the proven document, not the row.
            stamp: document.meta.stamp.as_ref().map(|st| st.text.clone()),
        });
    }
    files.push(("captures.warc.gz".into(), warc));
    if let Some(old) = old {
        let a = store.with_document(old.clone())?;
        let b = store.with_document(new.clone())?;
        if let Some(revision) = crate::diff::revision(&a.document, &b.document, &Default::default())
        {
            let redline = Redline {
                target: new.target.clone(),
                url: new.url.clone(),
                title: b.document.meta.title.clone(),
                old_captured_at: Some(old.captured_at),
                new_captured_at: new.captured_at,
                old_snapshot: Some(old.id),
                new_snapshot: Some(new.id),
                revision,
                notes: crate::archive::source_notes(old, new),
                link: None,
            };
            for (name, format) in [
                ("redline.html", Format::Html),
                ("redline.md", Format::Markdown),
            ] {
                let text = crate::report::render_plain(&redline, format).map_err(|source| {
                    Error::System {
                        what: "rendering the redline",
                        source,
                    }
                })?;
                files.push((name.into(), text.into_bytes()));
            }
        }
    }
    let entries = store.ledger_from(oldest_seq)?;
    let head = entries.last().map(|e| e.hash.clone()).unwrap_or_default();
    for e in &entries {
        files.push((format!("ledger/{:08}.txt", e.seq), e.text().into_bytes()));
    }
    let manifest = Manifest {
        target: new.target.clone(),
        url: new.url.clone(),
        snapshots: listed,
        chain_head: head,
        ledger_entries: entries.len(),
        made_at: Timestamp::now(),
    };
    files.push((
        "manifest.json".into(),
        serde_json::to_vec_pretty(&manifest).map_err(|e| Error::System {
            what: "writing the manifest",
            source: std::io::Error::other(e),
        })?,
    ));
    files.push((
        "README.txt".into(),
        readme(&manifest, &entries).into_bytes(),
    ));
    let sums: String = files
        .iter()
        .map(|(name, bytes)| format!("{}  {name}\n", sha256_hex(bytes)))
        .collect();
    files.push(("SHA256SUMS".into(), sums.into_bytes()));

    let zip_err = |e: zip::result::ZipError| Error::System {
        what: "writing the evidence zip",
        source: std::io::Error::other(e),
    };
    let mut zip = zip::ZipWriter::new(out);
    let stamp = zip::DateTime::try_from(
        manifest
            .made_at
            .to_zoned(jiff::tz::TimeZone::UTC)
            .datetime(),
    )
    .unwrap_or_default();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp);
    for (name, bytes) in &files {
        zip.start_file(format!("{dir}/{name}"), options)
            .map_err(zip_err)?;
        zip.write_all(bytes).map_err(|source| Error::System {
            what: "writing the evidence zip",
            source,
        })?;
    }
    zip.finish().map_err(zip_err)?;
    Ok(manifest)
}

/// The bundle's README: what it holds and how to check it with
/// `sha256sum` alone.
fn readme(m: &Manifest, entries: &[LedgerEntry]) -> String {
    let mut s = format!(
        "Evidence of what {url} said, made by redliner on {made}.\n\n",
        url = m.url,
        made = m.made_at.strftime("%Y-%m-%d %H:%M UTC")
    );
    for snap in &m.snapshots {
        s.push_str(&format!(
            "snapshot-{id}/  captured {at} ({source}{replay}){stamp}\n",
            id = snap.id,
            at = snap.captured_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            source = if snap.source == "live" {
                "fetched by redliner".to_string()
            } else {
                format!("imported from the `{}` web archive", snap.source)
            },
            replay = snap
                .source_url
                .as_deref()
                .map_or_else(String::new, |u| format!(", {u}")),
            stamp = snap
                .stamp
                .as_deref()
                .map_or_else(String::new, |t| format!("; the page said \"{t}\"")),
        ));
    }
    let two = m.snapshots.len() > 1;
    s.push_str(&format!(
        "\nFiles: page.html is the body exactly as received (from a web archive: as the \
         archive replayed it); document.json is the text redliner extracted from it, section \
         by section; document.md is made from document.json, as Markdown; captures.warc.gz \
         holds the capture{} as a standard web archive file (WARC/1.1);{} ledger/ holds the \
         entries of redliner's append-only hash chain that record page.html and \
         document.json.\n\n\
         How to verify, with sha256sum alone:\n\n\
         1. Every file is intact:\n       sha256sum -c SHA256SUMS\n\n\
         2. The files are the ones the ledger recorded. For each snapshot-N, find the entry \
         naming it (`snapshot N` in ledger/*.txt; the newest such entry counts):\n",
        if two { "s" } else { "" },
        if two {
            " redline.html and redline.md show what changed between the two snapshots;"
        } else {
            ""
        },
    ));
    for snap in &m.snapshots {
        let seq = snap.ledger_seq.last().copied().unwrap_or_default();
        s.push_str(&format!(
            "       sha256sum snapshot-{id}/page.html      # must print {raw} (the `raw` line of ledger/{seq:08}.txt)\n\
             \x20      sha256sum snapshot-{id}/document.json  # must print {doc} (its `document` line)\n",
            id = snap.id,
            raw = snap.raw_sha256,
            doc = snap.document_sha256,
        ));
    }
    s.push_str(
        "\n3. The entries form an unbroken chain: each file's SHA-256 is the `prev` line of \
         the next one. This prints OK, or the first file that breaks it:\n\
         \x20      prev=; r=OK; for f in ledger/*.txt; do [ -z \"$prev\" ] || grep -qx \"prev $prev\" \"$f\" || { r=\"BROKEN at $f\"; break; }; prev=$(sha256sum \"$f\" | cut -c1-64); done; echo \"$r (last hash $prev)\"\n\n\
         4. The last entry's SHA-256 is the chain head when this bundle was made:\n",
    );
    if let Some(last) = entries.last() {
        s.push_str(&format!(
            "       sha256sum ledger/{:08}.txt   # {}\n",
            last.seq, last.hash
        ));
    }
    s.push_str(
        "   Anyone who kept that head (or a later bundle's chain, which must pass through it) \
         can tell that none of these records was altered afterwards: changing any byte of an \
         entry, or of a file it records, changes every hash after it.\n",
    );
    s
}

/// Writes a bundle to `path` through a temp file beside it, renamed when whole.
///
/// # Errors
/// As [`write_bundle`]; [`Error::Io`] naming `path`.
pub fn write_bundle_file(
    store: &Store,
    new: &SnapshotRow,
    old: Option<&SnapshotRow>,
    path: &Path,
) -> Result<Manifest> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let mut tmp = crate::store::new_temp_file(&parent).map_err(io)?;
    let manifest = write_bundle(store, new, old, tmp.as_file_mut())?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(manifest)
}
