//! `redliner backup FILE`: the whole store in one tar archive (gzip when the
//! name ends in `.gz` or `.tgz`): the index copied with SQLite's online
//! backup API (a consistent copy even while another process reads it), then
//! every snapshot directory, raw body and feed as they are on disk.
//! Unpacked into an empty directory it is a store again (`tar xf FILE -C
//! DIR`, then `redliner --store DIR ...`).
//!
//! Left out: the lock file, the clean mark (a restored store is checked in
//! full once, the safe side), SQLite's `-wal`/`-shm` files (the backup copy
//! holds their content) and temp files.

#[allow(clippy::wildcard_imports)]
use super::*;
use files::TEMP_PREFIX;

use std::io::Write;

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// Files archived, the index included.
    pub files: usize,
    /// Bytes of file content archived (before compression).
    pub bytes: u64,
}

impl Store {
    /// Writes the store to `dest` as a tar archive (see the module docs).
    /// Take the store lock first: files written during the backup may be
    /// missed or cut.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when SQLite's `quick_check` finds the index
    /// damaged (nothing is written); [`StoreError::Database`] when the index
    /// cannot be copied,
    /// [`StoreError::Io`] when `dest` or a store file cannot be written or
    /// read. `dest` is written through a temp file renamed at the end, so a
    /// failed backup never leaves a cut archive under its name.
    pub fn backup(&self, dest: &Path) -> Result<BackupSummary, StoreError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| StoreError::Io { path, source }
        };
        let Some(lite) = self.conn.as_sqlite() else {
            return Err(StoreError::Invalid {
                path: self.index.display().to_string(),
                message: "`backup` copies a SQLite store; back a PostgreSQL store up with \
                          `pg_dump`"
                    .into(),
            });
        };
        // A damaged index is said, not archived as if it were good: the
        // backup reads every page anyway, and so does this check.
        let verdict: String = self
            .conn
            .query_row("PRAGMA quick_check(1)", (), |r| r.get(0))
            .map_err(self.sql())?;
        if verdict != "ok" {
            return Err(StoreError::Invalid {
                path: self.index.display().to_string(),
                message: format!(
                    "the index is damaged (SQLite's quick_check: {verdict}); not backed up: \
                     restore the last good backup, or recover the index with \
                     `sqlite3 redliner.sqlite .recover`"
                ),
            });
        }
        let scratch = tempfile::tempdir_in(&self.root).map_err(io(&self.root))?;
        let copy = scratch.path().join(INDEX_FILE);
        lite.backup(rusqlite::MAIN_DB, &copy, None)
            .map_err(|e| self.sql()(e.into()))?;

        let dir = dest
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let out = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
        let name = dest
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let summary = if name.ends_with(".gz") || name.ends_with(".tgz") {
            let gz = flate2::write::GzEncoder::new(out.as_file(), flate2::Compression::default());
            let mut tar = tar::Builder::new(gz);
            let summary = self.archive(&mut tar, &copy, scratch.path())?;
            tar.into_inner()
                .and_then(flate2::write::GzEncoder::finish)
                .map_err(io(dest))?;
            summary
        } else {
            let mut tar = tar::Builder::new(out.as_file());
            let summary = self.archive(&mut tar, &copy, scratch.path())?;
            tar.into_inner().map_err(io(dest))?;
            summary
        };
        out.as_file().sync_all().map_err(io(dest))?;
        out.persist(dest).map_err(|e| io(dest)(e.error))?;
        Ok(summary)
    }

    /// Appends the index copy `copy` and every store file but those the
    /// module docs leave out (and `scratch`, where the copy is) to `tar`.
    fn archive<W: Write>(
        &self,
        tar: &mut tar::Builder<W>,
        copy: &Path,
        scratch: &Path,
    ) -> Result<BackupSummary, StoreError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| StoreError::Io { path, source }
        };
        tar.follow_symlinks(false);
        let mut summary = BackupSummary { files: 0, bytes: 0 };
        let mut add = |tar: &mut tar::Builder<W>, path: &Path, name: &Path| {
            let len = std::fs::metadata(path).map_err(io(path))?.len();
            tar.append_path_with_name(path, name).map_err(io(path))?;
            summary.files += 1;
            summary.bytes += len;
            Ok::<(), StoreError>(())
        };
        add(tar, copy, Path::new(INDEX_FILE))?;
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            let here = self.root.join(&rel);
            let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(&here)
                .map_err(io(&here))?
                .collect::<Result<_, _>>()
                .map_err(io(&here))?;
            entries.sort_by_key(std::fs::DirEntry::file_name);
            for entry in entries {
                let name = entry.file_name();
                let name_str = name.to_string_lossy();
                let at_root = rel.as_os_str().is_empty();
                let skip = name_str.starts_with(TEMP_PREFIX)
                    || (at_root
                        && (name_str.starts_with(INDEX_FILE)
                            || name_str == lock::LOCK_FILE
                            || name_str == CLEAN_FILE
                            || entry.path() == scratch));
                if skip {
                    continue;
                }
                let rel_path = rel.join(&name);
                let kind = entry.file_type().map_err(io(&entry.path()))?;
                if kind.is_dir() {
                    stack.push(rel_path);
                } else if kind.is_file() {
                    add(tar, &entry.path(), &rel_path)?;
                }
            }
        }
        Ok(summary)
    }
}
