-- redliner store schema, version 7: indexes for reads bounded by one target's newest rows,
-- so a check, a feed and a recurrence test read a few rows whatever the history's length.
--
-- A real (not technical) revision's `created_at` is its new snapshot's `captured_at`: both are
-- written from one value in one transaction (see `Store::record_snapshot`). The feeds order real
-- revisions by it, newest first, with a LIMIT.
CREATE INDEX revisions_real_target ON revisions(target_id, created_at) WHERE technical = 0;
CREATE INDEX revisions_real_time ON revisions(created_at) WHERE technical = 0;
-- whether a snapshot was re-extracted (a technical revision from it to itself)
CREATE INDEX revisions_new_snapshot ON revisions(new_snapshot_id, old_snapshot_id);
-- the newest earlier snapshot with the same content (a revert)
CREATE INDEX snapshots_target_hash ON snapshots(target_id, content_hash, captured_at);
