-- redliner store schema, version 1.
-- Times are UTC RFC 3339 text with millisecond precision (`2026-11-29T10:00:00.000Z`),
-- so text order is time order.

CREATE TABLE targets (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    first_seen  TEXT NOT NULL
);

CREATE TABLE snapshots (
    id             INTEGER PRIMARY KEY,
    target_id      TEXT NOT NULL REFERENCES targets(id),
    captured_at    TEXT NOT NULL,
    -- directory of the snapshot's files, relative to the store root, `/`-separated
    dir            TEXT NOT NULL UNIQUE,
    url            TEXT NOT NULL,
    final_url      TEXT NOT NULL,
    http_status    INTEGER NOT NULL,
    content_type   TEXT,
    charset        TEXT NOT NULL,
    etag           TEXT,
    last_modified  TEXT,
    -- Document::fingerprint (SHA-256 hex of the content, stamp excluded)
    content_hash   TEXT NOT NULL,
    -- SHA-256 hex of the raw body as served
    raw_sha256     TEXT NOT NULL,
    title          TEXT,
    stamp_text     TEXT,
    stamp_date     TEXT,
    stamp_time     TEXT,
    stamp_instant  TEXT,
    root_selector  TEXT NOT NULL,
    root_fallback  INTEGER NOT NULL DEFAULT 0,
    sections       INTEGER NOT NULL,
    blocks         INTEGER NOT NULL,
    words          INTEGER NOT NULL
);
CREATE INDEX snapshots_target_time ON snapshots(target_id, captured_at);

CREATE TABLE revisions (
    id               INTEGER PRIMARY KEY,
    target_id        TEXT NOT NULL REFERENCES targets(id),
    old_snapshot_id  INTEGER NOT NULL REFERENCES snapshots(id),
    new_snapshot_id  INTEGER NOT NULL REFERENCES snapshots(id),
    kind             TEXT NOT NULL,
    -- 1 for differences that come only from re-extraction (never reported as page changes)
    technical        INTEGER NOT NULL DEFAULT 0,
    summary_json     TEXT NOT NULL,
    revision_json    TEXT NOT NULL,
    created_at       TEXT NOT NULL
);
CREATE INDEX revisions_target_time ON revisions(target_id, created_at);

CREATE TABLE checks (
    id           INTEGER PRIMARY KEY,
    target_id    TEXT NOT NULL REFERENCES targets(id),
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    url          TEXT NOT NULL,
    final_url    TEXT,
    http_status  INTEGER,
    outcome      TEXT NOT NULL
                 CHECK (outcome IN ('baseline', 'unchanged', 'changed', 'not-modified', 'failed')),
    error        TEXT,
    snapshot_id  INTEGER REFERENCES snapshots(id),
    revision_id  INTEGER REFERENCES revisions(id),
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX checks_target_time ON checks(target_id, started_at);
