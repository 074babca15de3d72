-- redliner store schema for PostgreSQL, version 2: the files, in the database.
--
-- A SQLite store keeps each snapshot's document and each distinct raw body as files
-- under its root. A PostgreSQL store keeps them here, so that workers on several
-- machines need no shared filesystem: one row per distinct content, named by the
-- SHA-256 (hex) of its bytes before compression, zstd-compressed.
--   raw bodies  `snapshots.raw_sha256` names the body exactly as served
--   documents   `snapshots.document_sha256` names the document JSON (pretty, with a
--               final newline: the bytes a SQLite store keeps in `document.json.zst`)
-- Identical bodies or documents (a page that reverts, two targets on one URL) share a
-- row. Markdown (`document.md`, `redline.md`) is made from the document when asked for,
-- not kept. A blob no snapshot names any more is removed by `prune` and `forget`.
CREATE TABLE blobs (
    sha256  TEXT COLLATE "C" PRIMARY KEY,
    -- bytes before compression
    size    BIGINT NOT NULL,
    zstd    BYTEA NOT NULL
);
CREATE INDEX snapshots_raw_sha256 ON snapshots(raw_sha256);
CREATE INDEX snapshots_document_sha256 ON snapshots(document_sha256);
