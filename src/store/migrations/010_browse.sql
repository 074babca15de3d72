-- redliner store schema, version 10: what `serve` reads quickly.
--
-- revision_sections: which sections each revision touched (its redline's
-- `sections[].key` and `.change`), kept by triggers from `revision_json`
-- itself, so every writer (check, watch, reextract, import) keeps it without
-- knowing of it. A section's history is one index range, never a scan of
-- every stored redline.
CREATE TABLE revision_sections (
    revision_id  INTEGER NOT NULL REFERENCES revisions(id) ON DELETE CASCADE,
    target_id    TEXT NOT NULL,
    -- the section's key as a JSON array of headings (`["Background","Sanctions"]`, `[]` for the lead)
    key_json     TEXT NOT NULL,
    change       TEXT NOT NULL,
    PRIMARY KEY (revision_id, key_json)
) WITHOUT ROWID;
CREATE INDEX revision_sections_key ON revision_sections(target_id, key_json, revision_id);

CREATE TRIGGER revision_sections_insert AFTER INSERT ON revisions BEGIN
    INSERT OR IGNORE INTO revision_sections (revision_id, target_id, key_json, change)
    SELECT NEW.id, NEW.target_id, json(json_extract(s.value, '$.key')), json_extract(s.value, '$.change')
      FROM json_each(NEW.revision_json, '$.sections') AS s;
END;

CREATE TRIGGER revision_sections_update AFTER UPDATE OF revision_json ON revisions BEGIN
    DELETE FROM revision_sections WHERE revision_id = NEW.id;
    INSERT OR IGNORE INTO revision_sections (revision_id, target_id, key_json, change)
    SELECT NEW.id, NEW.target_id, json(json_extract(s.value, '$.key')), json_extract(s.value, '$.change')
      FROM json_each(NEW.revision_json, '$.sections') AS s;
END;

INSERT OR IGNORE INTO revision_sections (revision_id, target_id, key_json, change)
SELECT r.id, r.target_id, json(json_extract(s.value, '$.key')), json_extract(s.value, '$.change')
  FROM revisions AS r, json_each(r.revision_json, '$.sections') AS s;

-- Full-text search over every snapshot's text: one row per section of each
-- snapshot (its heading and its blocks' text), SQLite FTS5. `check` adds a
-- snapshot's rows in the transaction that stores it; snapshots stored before
-- this version are indexed by the next writer (`Store::index_for_search`),
-- since their text lives in files a migration cannot read.
CREATE TABLE snapshot_sections (
    id           INTEGER PRIMARY KEY,
    snapshot_id  INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    -- 1-based, in page order
    position     INTEGER NOT NULL,
    key_json     TEXT NOT NULL,
    UNIQUE (snapshot_id, position)
);

CREATE VIRTUAL TABLE search_text USING fts5(
    heading, body, tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER snapshot_sections_delete AFTER DELETE ON snapshot_sections BEGIN
    DELETE FROM search_text WHERE rowid = OLD.id;
END;

-- Snapshots whose text is in search_text (a snapshot of no section has no
-- row in snapshot_sections but is indexed all the same).
CREATE TABLE search_indexed (
    snapshot_id  INTEGER PRIMARY KEY REFERENCES snapshots(id) ON DELETE CASCADE
);
