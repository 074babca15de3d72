-- redliner store schema, version 8: where a snapshot's page may differ from a later page with
-- the same source fingerprint.
--   `source_mask`  extract::fingerprint::SourceMask::to_bytes of the snapshot's page: a version
--                  byte, a SHA-256 digest of the page's decoded text outside the left-out spans
--                  (unread attribute values, comments' and scripts' text), then the spans as
--                  LEB128 pairs. A later page that fits it has the stored fingerprint without a
--                  tokenizer pass. NULL when none was recorded (the pass runs, then records one).
ALTER TABLE snapshots ADD COLUMN source_mask BLOB;
