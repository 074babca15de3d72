-- redliner store schema, version 2: the alert outbox.
-- An alert row is one alert for one channel, written in the same transaction as
-- the check (and snapshot and revision) that raised it; every delivery attempt
-- is a `deliveries` row. Payloads hold the serialized notify::Alert, never a
-- secret (webhook URLs, keys and passwords are read from the environment when sending).

CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    target_id        TEXT NOT NULL REFERENCES targets(id),
    -- the revision announced (revision, revert, alternating alerts)
    revision_id      INTEGER REFERENCES revisions(id),
    -- the new snapshot (revision alerts) or the check's snapshot
    snapshot_id      INTEGER REFERENCES snapshots(id),
    -- the check that raised it
    check_id         INTEGER REFERENCES checks(id),
    channel_id       TEXT NOT NULL,
    kind             TEXT NOT NULL
                     CHECK (kind IN ('revision', 'revert', 'alternating', 'failing', 'recovered')),
    -- `<alert key>:<channel>`; also sent to the receiver, which can drop a repeat
    idempotency_key  TEXT NOT NULL UNIQUE,
    payload_json     TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'delivered', 'failed', 'expired')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    -- while `sending`: the claim ends here; a later run may take the alert over
    lease_until      TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT,
    expires_at       TEXT,
    last_error       TEXT
);
CREATE INDEX alerts_due ON alerts(state, next_attempt_at);
CREATE INDEX alerts_target ON alerts(target_id, kind, id);

CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY,
    alert_id      INTEGER NOT NULL REFERENCES alerts(id),
    attempted_at  TEXT NOT NULL,
    ok            INTEGER NOT NULL,
    -- HTTP status, SMTP reply code or exit code
    http_status   INTEGER,
    error         TEXT,
    duration_ms   INTEGER NOT NULL
);
CREATE INDEX deliveries_alert ON deliveries(alert_id);
