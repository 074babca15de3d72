//! What a store opening after a crash or a lost index must do: refuse an index
//! that lost its snapshot directories, and set aside what an unfinished run
//! left behind (staging directories, unindexed snapshots, temp files).

#[allow(clippy::wildcard_imports)]
use super::*;

impl Store {
    /// Snapshot directories (`<root>/<target>/<dir>/` holding
    /// `document.json.zst`, or `document.json` for the old layout)
    /// on disk, as root-relative `target/dir` paths, sorted. Hidden entries
    /// (temp and set-aside directories) are skipped.
    pub(super) fn snapshot_dirs_on_disk(&self) -> Vec<String> {
        let visible = |e: &std::fs::DirEntry| {
            e.file_type().is_ok_and(|t| t.is_dir())
                && !e.file_name().to_string_lossy().starts_with('.')
        };
        let mut found = Vec::new();
        let Ok(targets) = std::fs::read_dir(&self.root) else {
            return found;
        };
        for t in targets.flatten().filter(visible) {
            let Ok(dirs) = std::fs::read_dir(t.path()) else {
                continue;
            };
            for d in dirs.flatten().filter(visible) {
                let dir = d.path();
                if dir.join(files::DOCUMENT_JSON_ZST).is_file()
                    || dir.join(files::DOCUMENT_JSON).is_file()
                {
                    found.push(format!(
                        "{}/{}",
                        t.file_name().to_string_lossy(),
                        d.file_name().to_string_lossy()
                    ));
                }
            }
        }
        found.sort();
        found
    }

    /// An index with no snapshots beside snapshot directories on disk means the
    /// index was lost or replaced: starting a new baseline would orphan the
    /// history, so refuse.
    pub(super) fn refuse_lost_index(&self) -> Result<(), StoreError> {
        // EXISTS, not COUNT(*): counting reads the whole table.
        let any: bool = self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM snapshots)", (), |r| r.get(0))
            .map_err(|source| StoreError::Database {
                path: self.index.display().to_string(),
                source,
            })?;
        if any {
            return Ok(());
        }
        let on_disk = self.snapshot_dirs_on_disk();
        match on_disk.first() {
            None => Ok(()),
            Some(first) => Err(StoreError::Invalid {
                path: self.index.display().to_string(),
                message: format!(
                    "the index holds no snapshots but {} snapshot directories exist (first `{first}`): \
                     the index was lost or replaced; restore it from a backup, or move the \
                     target directories away to start afresh",
                    on_disk.len()
                ),
            }),
        }
    }

    /// Cleans up after a run that was killed mid-write. Call with the store
    /// lock held. Removes
    ///
    /// - staging directories (`<target>/.tmp-snapshot-*`) and the temp files
    ///   the store writes under its lock (`.tmp-redliner-*`: snapshot files,
    ///   feeds, rewritten documents, raw bodies) in the root, the target
    ///   directories, the snapshot directories and `.raw/`: with the lock
    ///   held, no live run is writing them;
    /// - other temp files there (`.tmpXXXXXX`: a report written into the
    ///   store with `--output`, which takes no lock, or an older redliner's)
    ///   once older than [`STALE_TEMP_AGE`] (an hour);
    ///
    /// and moves snapshot directories that no index row names (renamed into
    /// place, transaction never committed) to `<root>/.orphaned/<target>/<dir>`,
    /// so nothing is lost and nothing unindexed looks like a snapshot. A raw
    /// body written by a run killed before its commit is left in `.raw/`:
    /// it is whole (renamed into place), content-addressed, and harmless; a
    /// later snapshot of the same body uses it after checking it. SQLite's
    /// own journal is SQLite's to recover. Returns how many entries were cleaned.
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Io`].
    pub fn sweep_unfinished(&self) -> Result<usize, StoreError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| StoreError::Io { path, source }
        };
        let mut cleaned = 0;
        let now = std::time::SystemTime::now();
        // The root, the target directories and the snapshot directories;
        // hidden directories (staging, `.orphaned`) are not entered.
        let mut dirs = vec![(self.root.clone(), 0)];
        while let Some((dir, depth)) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                let Ok(kind) = e.file_type() else {
                    continue;
                };
                if !name.starts_with(files::TEMP_PREFIX) {
                    if kind.is_dir() && !name.starts_with('.') && depth < 2 {
                        dirs.push((e.path(), depth + 1));
                    } else if kind.is_dir() && depth == 0 && name == files::RAW_DIR {
                        // Raw bodies are written through temp files in
                        // `.raw/` itself; its fan-out directories hold
                        // finished files only.
                        dirs.push((e.path(), 2));
                    }
                    continue;
                }
                let path = e.path();
                let removed = if kind.is_dir() {
                    if !name.starts_with(files::STAGING_PREFIX) {
                        continue;
                    }
                    std::fs::remove_dir_all(&path)
                } else {
                    let ours = name.starts_with(files::LOCKED_TEMP_PREFIX);
                    let stale = e.metadata().and_then(|m| m.modified()).is_ok_and(|m| {
                        now.duration_since(m).unwrap_or_default() > files::STALE_TEMP_AGE
                    });
                    if !ours && !stale {
                        continue;
                    }
                    std::fs::remove_file(&path)
                };
                match removed {
                    Ok(()) => {
                        tracing::debug!(
                            "removed `{}`, left by a run killed mid-write",
                            path.display()
                        );
                        cleaned += 1;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io(&path)(e)),
                }
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT dir FROM snapshots")
            .map_err(|source| StoreError::Database {
                path: self.index.display().to_string(),
                source,
            })?;
        let indexed: std::collections::HashSet<String> = stmt
            .query_map((), |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect())
            .map_err(|source| StoreError::Database {
                path: self.index.display().to_string(),
                source,
            })?;
        for rel in self.snapshot_dirs_on_disk() {
            if indexed.contains(&rel) {
                continue;
            }
            let from = rel
                .split('/')
                .fold(self.root.clone(), |p, part| p.join(part));
            let to = rel
                .split('/')
                .fold(self.root.join(".orphaned"), |p, part| p.join(part));
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::rename(&from, &to).map_err(io(&from))?;
            tracing::warn!("moved unindexed snapshot directory `{rel}` to `.orphaned/{rel}`");
            cleaned += 1;
        }
        Ok(cleaned)
    }
}
