-- redliner store schema, version 6: what each snapshot's page gave the extractor.
--   `source_fingerprint`  extract::fingerprint of the snapshot's page (`m1:` or `r1:` and
--                         SHA-256 hex); a later page with the same one extracts to the same
--                         document, so a check records it unchanged without extracting.
--                         NULL for snapshots stored before it was recorded (never matches).
ALTER TABLE snapshots ADD COLUMN source_fingerprint TEXT;
