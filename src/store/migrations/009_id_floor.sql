-- redliner store schema, version 9: snapshot ids are never reused.
-- SQLite gives a new row the largest id in its table plus one, so after
-- `redliner forget` removed the newest snapshots a later snapshot would take
-- an id a removed one had, and with it that snapshot's alert idempotency key
-- (`redliner:<target>:<snapshot id>`), which receivers use to drop repeats.
--   `name`   the table (`snapshots`)
--   `floor`  the largest id ever removed from it; new ids are above it
CREATE TABLE id_floor (
    name   TEXT PRIMARY KEY,
    floor  INTEGER NOT NULL
) WITHOUT ROWID;
