-- redliner store schema, version 11: where each snapshot came from, and the
-- tamper-evident record of what each one held.
--
-- snapshots:
--   `source`           NULL for a capture redliner fetched itself; else the name of
--                      the web archive it was imported from (`wayback`, or an
--                      `[archives.NAME]` of the config)
--   `source_url`       the archive's replay URL of the capture (NULL for live ones)
--   `document_sha256`  SHA-256 hex of the document JSON as stored (the bytes inside
--                      `document.json.zst`, or a plain `document.json`)
--   `chain_hash`       the hash of the newest ledger entry of this snapshot
ALTER TABLE snapshots ADD COLUMN source TEXT;
ALTER TABLE snapshots ADD COLUMN source_url TEXT;
ALTER TABLE snapshots ADD COLUMN document_sha256 TEXT;
ALTER TABLE snapshots ADD COLUMN chain_hash TEXT;

-- The ledger: an append-only hash chain over the store. One entry each time a
-- snapshot is stored, its document replaced (re-extraction) or it is removed
-- (prune, forget). `hash` is the SHA-256 hex of the entry's text (see
-- src/store/ledger.rs, `entry_text`), which begins with the previous entry's
-- `hash` (`prev_hash`; 64 zeros for the first). Entries name snapshots by id
-- without a foreign key: they outlive the snapshots they name.
CREATE TABLE ledger (
    seq              INTEGER PRIMARY KEY,
    event            TEXT NOT NULL CHECK (event IN ('stored', 'replaced', 'removed')),
    snapshot_id      INTEGER NOT NULL,
    target_id        TEXT NOT NULL,
    captured_at      TEXT NOT NULL,
    -- `live`, or the archive's name, a space and the replay URL
    source           TEXT NOT NULL,
    raw_sha256       TEXT NOT NULL,
    document_sha256  TEXT NOT NULL,
    recorded_at      TEXT NOT NULL,
    prev_hash        TEXT NOT NULL,
    hash             TEXT NOT NULL UNIQUE
);
CREATE INDEX ledger_snapshot ON ledger(snapshot_id, seq);
CREATE TRIGGER ledger_append_only_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;
CREATE TRIGGER ledger_append_only_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;

-- The snapshots stored before the ledger existed (ids up to `sealed_through`)
-- are entered by the next writer that holds the store lock, reading their
-- document files; any later snapshot without an entry is a break.
CREATE TABLE ledger_start (
    one             INTEGER PRIMARY KEY CHECK (one = 1),
    sealed_through  INTEGER NOT NULL
);
INSERT INTO ledger_start (one, sealed_through)
    VALUES (1, coalesce((SELECT max(id) FROM snapshots), 0));

-- Archive captures a backfill has looked at: what became of each (a snapshot,
-- or why not), so an interrupted backfill resumes where it stopped and a
-- second one adds nothing.
--   `archive`      the archive's name
--   `timestamp`    the capture's 14-digit UTC time as the archive writes it
--   `digest`       the archive's digest of the capture (CDX `digest`), if given
--   `outcome`      `snapshot` (stored: `snapshot_id`), `unchanged` (same document
--                  and stamp as the snapshot before it), `duplicate` (a digest
--                  already looked at), `refused` (error page, empty extraction,
--                  undecodable, not HTML; `note` says why)
CREATE TABLE archive_captures (
    target_id    TEXT NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
    archive      TEXT NOT NULL,
    timestamp    TEXT NOT NULL,
    original     TEXT NOT NULL,
    digest       TEXT,
    outcome      TEXT NOT NULL
                 CHECK (outcome IN ('snapshot', 'unchanged', 'duplicate', 'refused')),
    snapshot_id  INTEGER REFERENCES snapshots(id) ON DELETE SET NULL,
    note         TEXT,
    looked_at    TEXT NOT NULL,
    PRIMARY KEY (target_id, archive, timestamp)
) WITHOUT ROWID;
