//! The ledger: a tamper-evident record of what every snapshot held, as an
//! append-only hash chain over the whole store (the `ledger` table,
//! migration 011).
//!
//! Each time a snapshot is stored, its document replaced by re-extraction, or
//! the snapshot removed (prune, forget), one entry is appended in the same
//! transaction. An entry's hash is the SHA-256 (hex) of its text
//! ([`LedgerEntry::text`]), which starts with the previous entry's hash, so changing,
//! removing or reordering any entry changes every hash after it. Each
//! snapshot row carries its raw body's and its document's SHA-256 and the hash
//! of its newest entry (`chain_hash`).
//!
//! [`Store::verify`] recomputes the chain, compares every snapshot row with
//! its entry, and hashes every file again; it names each break it finds
//! ([`Break`]), first one first. Anyone holding an entry's hash (from an
//! evidence bundle, a log, a message) can tell that the history before it was
//! not rewritten since.
//!
//! The entry text is plain and line-based so a third party can recompute a
//! hash with `sha256sum` alone:
//!
//! ```text
//! redliner-ledger-v1
//! prev <previous entry's hash, or 64 zeros>
//! seq <entry number>
//! event <stored|replaced|removed>
//! snapshot <snapshot id>
//! target <target id>
//! captured <capture time, RFC 3339 UTC with milliseconds>
//! source <`live`, or the archive's name and the replay URL>
//! raw <SHA-256 hex of the raw body>
//! document <SHA-256 hex of the document JSON>
//! recorded <when the entry was made, RFC 3339 UTC with milliseconds>
//! ```
//!
//! (eleven lines, each ending in `\n`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::db::{self, Connection, OptionalExtension, Row, params};
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::rows::{get_timestamp, ts};
use super::{StoreError, files};
use crate::ids::SnapshotId;
use crate::store::Store;

/// The first entry's previous hash.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display, strum::EnumString)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum LedgerEvent {
    /// The snapshot was stored.
    Stored,
    /// Its document was replaced (re-extraction from the same raw body).
    Replaced,
    /// It was removed (prune, forget).
    Removed,
}

/// One entry of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    /// Its place in the chain (1, 2, …).
    pub seq: i64,
    /// What it records.
    pub event: LedgerEvent,
    /// The snapshot it names.
    pub snapshot_id: SnapshotId,
    /// The snapshot's target.
    pub target: String,
    /// The snapshot's capture time.
    pub captured_at: Timestamp,
    /// Where the capture came from: `live`, or the archive's name, a space
    /// and the replay URL ([`source_text`]).
    pub source: String,
    /// SHA-256 hex of the raw body.
    pub raw_sha256: String,
    /// SHA-256 hex of the document JSON.
    pub document_sha256: String,
    /// When the entry was made.
    pub recorded_at: Timestamp,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// SHA-256 hex of [`LedgerEntry::text`].
    pub hash: String,
}

impl LedgerEntry {
    /// The text whose SHA-256 is the entry's hash (see the module documentation).
    pub fn text(&self) -> String {
        entry_text(&Fields {
            prev_hash: &self.prev_hash,
            seq: self.seq,
            event: self.event,
            snapshot_id: self.snapshot_id,
            target: &self.target,
            captured_at: &ts(self.captured_at),
            source: &self.source,
            raw_sha256: &self.raw_sha256,
            document_sha256: &self.document_sha256,
            recorded_at: &ts(self.recorded_at),
        })
    }

    /// Whether the stored hash is the hash of the entry's text.
    pub fn hash_holds(&self) -> bool {
        sha256_hex(self.text().as_bytes()) == self.hash
    }
}

/// What an entry's hash covers, as stored (times as their stored text).
pub(super) struct Fields<'a> {
    pub prev_hash: &'a str,
    pub seq: i64,
    pub event: LedgerEvent,
    pub snapshot_id: SnapshotId,
    pub target: &'a str,
    pub captured_at: &'a str,
    pub source: &'a str,
    pub raw_sha256: &'a str,
    pub document_sha256: &'a str,
    pub recorded_at: &'a str,
}

/// The entry text (see the module documentation): eleven `\n`-ended lines.
pub(super) fn entry_text(f: &Fields<'_>) -> String {
    format!(
        "redliner-ledger-v1\nprev {}\nseq {}\nevent {}\nsnapshot {}\ntarget {}\ncaptured {}\n\
         source {}\nraw {}\ndocument {}\nrecorded {}\n",
        f.prev_hash,
        f.seq,
        f.event,
        f.snapshot_id,
        f.target,
        f.captured_at,
        f.source,
        f.raw_sha256,
        f.document_sha256,
        f.recorded_at
    )
}

/// The ledger's `source` of a snapshot row's `source` and `source_url`:
/// `live`, or the archive's name, a space and the replay URL (control
/// characters and line breaks, which would change the entry's lines, made
/// spaces).
pub fn source_text(archive: Option<&str>, url: Option<&str>) -> String {
    let text = match archive {
        None => "live".to_string(),
        Some(a) => format!("{a} {}", url.unwrap_or("")).trim_end().to_string(),
    };
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What one snapshot's entry records (besides the event).
pub(super) struct Subject<'a> {
    pub snapshot_id: SnapshotId,
    pub target: &'a str,
    /// Stored text of the capture time.
    pub captured_at: &'a str,
    /// [`source_text`].
    pub source: &'a str,
    pub raw_sha256: &'a str,
    pub document_sha256: &'a str,
}

/// Appends an entry in `tx` and sets the snapshot row's `chain_hash` (and
/// `document_sha256`) unless the event is a removal. Returns the entry's hash.
/// The `pg_advisory_xact_lock` key that makes appends to a PostgreSQL
/// store's ledger take turns: `ledger` in ASCII.
const LEDGER_LOCK: i64 = 0x6c65_6467_6572;

pub(super) fn append(
    tx: &Connection,
    event: LedgerEvent,
    subject: &Subject<'_>,
    now: Timestamp,
) -> db::Result<String> {
    if tx.dialect() == db::Dialect::Postgres {
        // Writers on other connections append too: one at a time, each
        // after the last one committed, until this transaction ends.
        tx.query_row(
            "SELECT pg_advisory_xact_lock(?1)::text",
            [LEDGER_LOCK],
            |_| Ok(()),
        )?;
    }
    let last: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1")?
        .query_row((), |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let recorded_at = ts(now);
    let text = entry_text(&Fields {
        prev_hash: &prev_hash,
        seq,
        event,
        snapshot_id: subject.snapshot_id,
        target: subject.target,
        captured_at: subject.captured_at,
        source: subject.source,
        raw_sha256: subject.raw_sha256,
        document_sha256: subject.document_sha256,
        recorded_at: &recorded_at,
    });
    let hash = sha256_hex(text.as_bytes());
    tx.prepare_cached(
        "INSERT INTO ledger (seq, event, snapshot_id, target_id, captured_at, source, raw_sha256,
                             document_sha256, recorded_at, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        seq,
        event.to_string(),
        subject.snapshot_id,
        subject.target,
        subject.captured_at,
        subject.source,
        subject.raw_sha256,
        subject.document_sha256,
        recorded_at,
        prev_hash,
        hash,
    ])?;
    if event != LedgerEvent::Removed {
        tx.prepare_cached(
            "UPDATE snapshots SET document_sha256 = ?2, chain_hash = ?3 WHERE id = ?1",
        )?
        .execute(params![subject.snapshot_id, subject.document_sha256, hash])?;
    }
    Ok(hash)
}

/// Appends a `removed` entry for each snapshot in the temp table
/// `gone_snapshots` (prune, forget), in id order.
pub(super) fn append_removals(tx: &Connection, now: Timestamp) -> db::Result<()> {
    type Gone = (SnapshotId, String, String, String, Option<String>, String);
    let gone: Vec<Gone> = {
        let mut st = tx.prepare(
            "SELECT id, target_id, captured_at, raw_sha256, document_sha256, source, source_url
             FROM snapshots WHERE id IN (SELECT id FROM gone_snapshots) ORDER BY id",
        )?;
        st.query_map((), |r| {
            let (a, u): (Option<String>, Option<String>) = (r.get(5)?, r.get(6)?);
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                source_text(a.as_deref(), u.as_deref()),
            ))
        })?
        .collect::<db::Result<_>>()?
    };
    for (id, target, captured_at, raw, document, source) in gone {
        append(
            tx,
            LedgerEvent::Removed,
            &Subject {
                snapshot_id: id,
                target: &target,
                captured_at: &captured_at,
                source: &source,
                raw_sha256: &raw,
                document_sha256: document.as_deref().unwrap_or(""),
            },
            now,
        )?;
    }
    Ok(())
}

/// One break [`Store::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    /// The ledger entry concerned, when there is one.
    pub seq: Option<i64>,
    /// The snapshot concerned, when there is one.
    pub snapshot_id: Option<SnapshotId>,
    /// Its target, when known.
    pub target: Option<String>,
    /// What is wrong, in one line.
    pub what: String,
    /// The file concerned, for a file that differs from its digest.
    pub path: Option<PathBuf>,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.snapshot_id, &self.target) {
            (Some(id), Some(t)) => write!(f, "snapshot {id} of {t}: ")?,
            (Some(id), None) => write!(f, "snapshot {id}: ")?,
            _ => {}
        }
        if let Some(seq) = self.seq {
            write!(f, "ledger entry {seq}: ")?;
        }
        f.write_str(&self.what)?;
        if let Some(p) = &self.path {
            write!(f, " ({})", p.display())?;
        }
        Ok(())
    }
}

/// What [`Store::verify`] checked and found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Ledger entries rechecked (the whole chain, whatever the target).
    pub entries: usize,
    /// Snapshot rows compared with their entries.
    pub snapshots: usize,
    /// Files hashed again (raw bodies and documents).
    pub files: usize,
    /// The newest entry's hash: the head of the chain.
    pub head: Option<String>,
    /// The breaks, in the order found: the chain in entry order, then the
    /// snapshots in capture order.
    pub breaks: Vec<Break>,
}

impl Verification {
    /// True when nothing is broken.
    pub fn holds(&self) -> bool {
        self.breaks.is_empty()
    }
}

fn entry_row(r: &Row<'_>) -> db::Result<LedgerEntry> {
    let event: String = r.get(1)?;
    Ok(LedgerEntry {
        seq: r.get(0)?,
        event: event
            .parse()
            .map_err(|_| super::rows::bad_value(1, "ledger event", &event))?,
        snapshot_id: r.get(2)?,
        target: r.get(3)?,
        captured_at: get_timestamp(r, 4)?,
        source: r.get(5)?,
        raw_sha256: r.get(6)?,
        document_sha256: r.get(7)?,
        recorded_at: get_timestamp(r, 8)?,
        prev_hash: r.get(9)?,
        hash: r.get(10)?,
    })
}

const ENTRY_COLUMNS: &str = "seq, event, snapshot_id, target_id, captured_at, source, \
     raw_sha256, document_sha256, recorded_at, prev_hash, hash";

impl Store {
    /// Enters in the ledger the snapshots stored before it existed (ids up
    /// to the migration's `sealed_through`) that have no entry yet, reading
    /// each one's document file for its digest (a missing or unreadable file
    /// is entered with an empty digest, which [`Store::verify`] reports).
    /// Call with the store lock held. Returns how many were entered.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn seal_unsealed(&mut self) -> Result<usize, StoreError> {
        type Pending = (SnapshotId, String, String, String, String, bool, String);
        let pending: Vec<Pending> = {
            let sql = self.sql();
            let mut st = self
                .conn
                .prepare(
                    "SELECT id, target_id, captured_at, raw_sha256, dir, raw_path IS NULL,
                            source, source_url
                     FROM snapshots
                     WHERE chain_hash IS NULL
                       AND id <= (SELECT sealed_through FROM ledger_start)
                     ORDER BY id",
                )
                .map_err(&sql)?;
            st.query_map((), |r| {
                let (a, u): (Option<String>, Option<String>) = (r.get(6)?, r.get(7)?);
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    source_text(a.as_deref(), u.as_deref()),
                ))
            })
            .map_err(&sql)?
            .collect::<db::Result<_>>()
            .map_err(&sql)?
        };
        if pending.is_empty() {
            return Ok(0);
        }
        self.unsettle()?;
        let now = Timestamp::now();
        let root = self.root.clone();
        let index = self.index.display().to_string();
        let sql = |source| StoreError::Database {
            path: index.clone(),
            source,
        };
        let tx = self.write_unit()?;
        for (id, target, captured_at, raw, dir, old_layout, source) in &pending {
            let document = files::read_document(&rel_join(&root, dir), *old_layout)
                .map(|(bytes, _)| sha256_hex(&bytes))
                .unwrap_or_default();
            append(
                &tx,
                LedgerEvent::Stored,
                &Subject {
                    snapshot_id: *id,
                    target,
                    captured_at,
                    source,
                    raw_sha256: raw,
                    document_sha256: &document,
                },
                now,
            )
            .map_err(&sql)?;
        }
        tx.commit().map_err(&sql)?;
        Ok(pending.len())
    }

    /// The ledger entries naming `snapshot`, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn ledger_entries(&self, snapshot: SnapshotId) -> Result<Vec<LedgerEntry>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM ledger WHERE snapshot_id = ?1 ORDER BY seq"
            ))
            .map_err(self.sql())?;
        st.query_map([snapshot], entry_row)
            .map_err(self.sql())?
            .collect::<db::Result<_>>()
            .map_err(self.sql())
    }

    /// The ledger entries from `seq` on (to the head), in order.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn ledger_from(&self, seq: i64) -> Result<Vec<LedgerEntry>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM ledger WHERE seq >= ?1 ORDER BY seq"
            ))
            .map_err(self.sql())?;
        st.query_map([seq], entry_row)
            .map_err(self.sql())?
            .collect::<db::Result<_>>()
            .map_err(self.sql())
    }

    /// The ledger entry whose hash is `hash`, if the chain holds one.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn ledger_entry_by_hash(&self, hash: &str) -> Result<Option<LedgerEntry>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {ENTRY_COLUMNS} FROM ledger WHERE hash = ?1"),
                [hash],
                entry_row,
            )
            .optional()
            .map_err(self.sql())
    }

    /// The newest ledger entry (the head of the chain), if any.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn ledger_head(&self) -> Result<Option<LedgerEntry>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {ENTRY_COLUMNS} FROM ledger ORDER BY seq DESC LIMIT 1"),
                (),
                entry_row,
            )
            .optional()
            .map_err(self.sql())
    }

    /// Rechecks the record: every ledger entry's hash and link to the one
    /// before it; every snapshot row against its newest entry (target,
    /// capture time, digests, `chain_hash`), and every entry whose snapshot
    /// is gone without a `removed` entry; then, for the snapshots of `target`
    /// (all targets when `None`), the raw body and document files hashed
    /// again. `progress` is called once per snapshot whose files were hashed.
    ///
    /// Reads only; call [`Store::seal_unsealed`] first on a store that may
    /// hold snapshots stored before the ledger.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the index cannot be read (a file that
    /// cannot be read is a [`Break`], not an error).
    pub fn verify(
        &self,
        target: Option<&str>,
        progress: &mut dyn FnMut(),
    ) -> Result<Verification, StoreError> {
        let sql = self.sql();
        let mut out = Verification::default();
        // 0. The guards that keep the ledger append-only.
        let (guards_sql, want) = match self.conn.dialect() {
            db::Dialect::Sqlite => (
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'
                 AND name IN ('ledger_append_only_update', 'ledger_append_only_delete')",
                2,
            ),
            db::Dialect::Postgres => (
                // Enabled, and still calling a function that refuses.
                "SELECT COUNT(*) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                 WHERE t.tgrelid = 'ledger'::regclass
                   AND NOT t.tgisinternal AND t.tgenabled <> 'D'
                   AND t.tgname IN ('ledger_append_only_update', 'ledger_append_only_delete',
                                    'ledger_append_only_truncate')
                   AND p.prosrc LIKE '%RAISE EXCEPTION%append-only%'",
                3,
            ),
        };
        let guards: i64 = self
            .conn
            .query_row(guards_sql, (), |r| r.get(0))
            .map_err(&sql)?;
        if guards != want {
            out.breaks.push(Break {
                seq: None,
                snapshot_id: None,
                target: None,
                what: "the triggers that keep the ledger append-only were dropped, disabled or \
                       changed"
                    .into(),
                path: None,
            });
        }
        // 1. The chain itself.
        let mut newest: HashMap<SnapshotId, LedgerEntry> = HashMap::new();
        {
            let mut prev: Option<LedgerEntry> = None;
            let query = format!("SELECT {ENTRY_COLUMNS} FROM ledger ORDER BY seq");
            self.conn
                .query_each(&query, (), |row| {
                    let entry = entry_row(row)?;
                    out.entries += 1;
                    let at = |what: String| Break {
                        seq: Some(entry.seq),
                        snapshot_id: Some(entry.snapshot_id),
                        target: Some(entry.target.clone()),
                        what,
                        path: None,
                    };
                    let (want_seq, want_prev) = match &prev {
                        Some(p) => (p.seq + 1, p.hash.as_str()),
                        None => (1, GENESIS),
                    };
                    if entry.prev_hash != want_prev {
                        out.breaks.push(at(match &prev {
                            Some(p) => format!(
                                "does not follow entry {} (its previous hash is not that entry's \
                             hash): entries were removed, inserted or reordered",
                                p.seq
                            ),
                            None => "the first entry does not start the chain: entries before it \
                                 were removed"
                                .to_string(),
                        }));
                    } else if entry.seq != want_seq {
                        out.breaks.push(at(format!(
                            "numbered {} where {want_seq} was due: entries were renumbered",
                            entry.seq
                        )));
                    }
                    if !entry.hash_holds() {
                        out.breaks.push(at(
                            "altered: its hash is not the hash of what it records".to_string()
                        ));
                    }
                    newest.insert(entry.snapshot_id, entry.clone());
                    prev = Some(entry);
                    Ok(())
                })
                .map_err(&sql)?;
            out.head = prev.map(|p| p.hash);
        }
        // 2. The rows against the chain, in capture order.
        let rows: Vec<super::SnapshotRow> = {
            let mut st = self
                .conn
                .prepare(&format!(
                    "SELECT {} FROM snapshots ORDER BY captured_at, id",
                    super::rows::SNAPSHOT_COLUMNS
                ))
                .map_err(&sql)?;
            st.query_map((), super::rows::snapshot_row)
                .map_err(&sql)?
                .collect::<db::Result<_>>()
                .map_err(&sql)?
        };
        let sealed_through: i64 = self
            .conn
            .query_row("SELECT sealed_through FROM ledger_start", (), |r| r.get(0))
            .map_err(&sql)?;
        let mut present = std::collections::HashSet::new();
        for row in &rows {
            present.insert(row.id);
            out.snapshots += 1;
            let at = |what: String| Break {
                seq: None,
                snapshot_id: Some(row.id),
                target: Some(row.target.clone()),
                what,
                path: None,
            };
            let Some(entry) = newest.get(&row.id) else {
                out.breaks.push(at(if row.id.0 <= sealed_through {
                    "not entered in the ledger yet (stored before it)".to_string()
                } else {
                    "has no ledger entry: the row was added outside redliner, or its \
                     entry removed"
                        .to_string()
                }));
                continue;
            };
            let mut differs: Vec<String> = Vec::new();
            if entry.event == LedgerEvent::Removed {
                differs.push("it was recorded as removed".into());
            }
            if entry.target != row.target {
                differs.push(format!(
                    "target: recorded {}, now {}",
                    entry.target, row.target
                ));
            }
            if entry.captured_at != row.captured_at {
                differs.push(format!(
                    "capture time: recorded {}, now {}",
                    entry.captured_at, row.captured_at
                ));
            }
            let source = source_text(row.source.as_deref(), row.source_url.as_deref());
            if entry.source != source {
                differs.push(format!("source: recorded {}, now {source}", entry.source));
            }
            if entry.raw_sha256 != row.raw_sha256 {
                differs.push("raw body digest".into());
            }
            if row.document_sha256.as_deref() != Some(entry.document_sha256.as_str()) {
                differs.push("document digest".into());
            }
            if row.chain_hash.as_deref() != Some(entry.hash.as_str()) {
                differs.push("chain hash".into());
            }
            if !differs.is_empty() {
                out.breaks.push(Break {
                    seq: Some(entry.seq),
                    ..at(format!(
                        "the row differs from its ledger entry ({}): rows were edited or reordered",
                        differs.join(", ")
                    ))
                });
            }
        }
        let mut missing: Vec<&LedgerEntry> = newest
            .values()
            .filter(|e| e.event != LedgerEvent::Removed && !present.contains(&e.snapshot_id))
            .collect();
        missing.sort_by_key(|e| e.seq);
        for entry in missing {
            out.breaks.push(Break {
                seq: Some(entry.seq),
                snapshot_id: Some(entry.snapshot_id),
                target: Some(entry.target.clone()),
                what: format!(
                    "deleted (captured {}): its row is gone and no removal was recorded",
                    entry.captured_at
                ),
                path: None,
            });
        }
        // 3. Snapshot directories no row names (a row and its entry removed
        // together leave their files behind).
        let named: std::collections::HashSet<&str> = rows.iter().map(|r| r.dir.as_str()).collect();
        let mut targets_seen: Vec<&str> = rows.iter().map(|r| r.target.as_str()).collect();
        targets_seen.extend(newest.values().map(|e| e.target.as_str()));
        targets_seen.sort_unstable();
        targets_seen.dedup();
        for t in targets_seen
            .iter()
            .filter(|t| target.is_none_or(|want| want == **t))
        {
            if self.files_in_database() {
                break;
            }
            let Ok(entries) = std::fs::read_dir(self.root.join(t)) else {
                continue;
            };
            let mut stray: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|f| f.is_dir()))
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .filter(|e| {
                    !named.contains(format!("{t}/{}", e.file_name().to_string_lossy()).as_str())
                })
                .map(|e| e.path())
                .collect();
            stray.sort();
            for path in stray {
                out.breaks.push(Break {
                    seq: None,
                    snapshot_id: None,
                    target: Some((*t).to_string()),
                    what: "a snapshot directory no row names: its row was removed outside redliner"
                        .into(),
                    path: Some(path),
                });
            }
        }
        // 4. The files.
        for row in rows.iter().filter(|r| target.is_none_or(|t| r.target == t)) {
            progress();
            let dir = self.snapshot_dir(row);
            let (raw_file, raw) = if self.files_in_database() {
                let raw = self.read_blob(&row.raw_sha256).map_err(|e| match e {
                    StoreError::Io { source, .. } => source,
                    other => std::io::Error::other(other.to_string()),
                });
                (PathBuf::from(self.blob_name(&row.raw_sha256)), raw)
            } else {
                let raw_file = match &row.raw_path {
                    Some(rel) => rel_join(&self.root, rel),
                    None => dir.join(files::PAGE_FILE),
                };
                let raw = if row.raw_path.is_some() {
                    files::read_zst(&raw_file)
                } else {
                    files::read_gz(&raw_file)
                };
                (raw_file, raw)
            };
            out.files += 1;
            let file_break = |what: String, path: &Path| Break {
                seq: None,
                snapshot_id: Some(row.id),
                target: Some(row.target.clone()),
                what,
                path: Some(path.to_path_buf()),
            };
            match raw {
                Ok(body) if sha256_hex(&body) == row.raw_sha256 => {}
                Ok(_) => out.breaks.push(file_break(
                    "raw body file edited: its SHA-256 is not the recorded one".into(),
                    &raw_file,
                )),
                Err(e) => out.breaks.push(file_break(
                    format!("raw body file unreadable: {e}"),
                    &raw_file,
                )),
            }
            out.files += 1;
            let document = if self.files_in_database() {
                self.document_bytes(row).map_err(|e| match e {
                    StoreError::Io { path, source } => (PathBuf::from(path), source),
                    other => (dir.clone(), std::io::Error::other(other.to_string())),
                })
            } else {
                files::read_document(&dir, row.raw_path.is_none())
            };
            match document {
                Ok((bytes, path)) => {
                    if Some(sha256_hex(&bytes)) != row.document_sha256 {
                        out.breaks.push(file_break(
                            "document file edited: its SHA-256 is not the recorded one".into(),
                            &path,
                        ));
                    }
                }
                Err((path, e)) => out
                    .breaks
                    .push(file_break(format!("document file unreadable: {e}"), &path)),
            }
        }
        Ok(out)
    }
}

/// `root` joined with a `/`-separated relative path.
fn rel_join(root: &Path, rel: &str) -> PathBuf {
    rel.split('/')
        .fold(root.to_path_buf(), |p, part| p.join(part))
}
