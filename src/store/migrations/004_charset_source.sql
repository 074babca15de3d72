-- redliner store schema, version 4: how each snapshot's charset was chosen.
--   `charset_source`  override | bom | header | meta | utf8-validity | utf16-pattern | detected
--                     (NULL for snapshots stored before it was recorded)
ALTER TABLE snapshots ADD COLUMN charset_source TEXT;
