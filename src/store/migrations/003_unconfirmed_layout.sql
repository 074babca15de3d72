-- redliner store schema, version 3: two more check outcomes and a note per check.
--   `unconfirmed`     a content change the second fetch did not repeat; nothing stored
--   `layout-changed`  a technical snapshot: the page's template changed, its text did not
--                     (stored, never alerted, never a content revision)
-- `note` says why, in one line (the rule to update, what the second fetch found).
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt (foreign keys are
-- off while migrations run; see schema.rs).

CREATE TABLE checks_new (
    id           INTEGER PRIMARY KEY,
    target_id    TEXT NOT NULL REFERENCES targets(id),
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    url          TEXT NOT NULL,
    final_url    TEXT,
    http_status  INTEGER,
    outcome      TEXT NOT NULL
                 CHECK (outcome IN ('baseline', 'unchanged', 'changed', 'not-modified', 'failed',
                                    'unconfirmed', 'layout-changed')),
    error        TEXT,
    snapshot_id  INTEGER REFERENCES snapshots(id),
    revision_id  INTEGER REFERENCES revisions(id),
    duration_ms  INTEGER NOT NULL,
    note         TEXT
);
INSERT INTO checks_new (id, target_id, started_at, finished_at, url, final_url, http_status,
                        outcome, error, snapshot_id, revision_id, duration_ms)
    SELECT id, target_id, started_at, finished_at, url, final_url, http_status,
           outcome, error, snapshot_id, revision_id, duration_ms
    FROM checks;
DROP TABLE checks;
ALTER TABLE checks_new RENAME TO checks;
CREATE INDEX checks_target_time ON checks(target_id, started_at);
