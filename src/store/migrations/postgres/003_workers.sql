-- redliner store schema for PostgreSQL, version 3: workers that share the checks.
--
-- Any number of `redliner watch` processes (and `redliner check --due` from cron) on any
-- number of machines work on one store. They share three tables:
--   workers  one row per process that checks: who it is, where, and when it last said so
--   work     one row per target: when it is due next and which worker holds it (a lease)
--   hosts    one row per host (`host:port`): which worker is fetching from it (a lease)
--            and when it may be fetched from next (the end of the last check plus
--            `min_host_delay`)
-- A worker claims a due target and its host together, in one transaction, with
-- `SELECT … FOR UPDATE SKIP LOCKED`, and sets both leases; it renews them while the
-- check runs and clears them when it ends. A worker that dies stops renewing: its leases
-- run out and the targets return to the queue. Lease times are the database's clock, so
-- machines whose clocks differ still agree; due times are the checking worker's clock,
-- as the `checks` table records it.
CREATE TABLE workers (
    id            TEXT COLLATE "C" PRIMARY KEY,
    -- the machine's host name and the process id
    hostname      TEXT COLLATE "C" NOT NULL,
    pid           BIGINT NOT NULL,
    -- `watch` or `check`
    command       TEXT COLLATE "C" NOT NULL,
    version       TEXT COLLATE "C" NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    heartbeat_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    -- set when the process stopped cleanly; NULL while it runs (or after it died)
    stopped_at    TIMESTAMPTZ,
    checks        BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE hosts (
    host         TEXT COLLATE "C" PRIMARY KEY,
    worker       TEXT COLLATE "C",
    lease_until  TIMESTAMPTZ,
    free_at      TIMESTAMPTZ
);
CREATE TABLE work (
    target_id    TEXT COLLATE "C" PRIMARY KEY,
    host         TEXT COLLATE "C" NOT NULL REFERENCES hosts(host),
    -- when the target is due next, in milliseconds since 1970 (UTC)
    due_ms       BIGINT NOT NULL,
    -- the target's place in the config, ties broken by it
    ord          BIGINT NOT NULL DEFAULT 0,
    worker       TEXT COLLATE "C",
    lease_until  TIMESTAMPTZ
);
CREATE INDEX work_due ON work(due_ms, ord);
CREATE INDEX work_worker ON work(worker) WHERE worker IS NOT NULL;
CREATE INDEX hosts_worker ON hosts(worker) WHERE worker IS NOT NULL;
