-- redliner store schema, version 5: raw bodies stored once per distinct body.
--   `raw_path`  the body's file relative to the store root, `/`-separated:
--               `.raw/<sha[0..2]>/<sha>.html.zst` (zstd), `sha` being `raw_sha256`;
--               NULL for snapshots stored before, whose body is `page.html.gz`
--               (gzip) in their directory
ALTER TABLE snapshots ADD COLUMN raw_path TEXT;
