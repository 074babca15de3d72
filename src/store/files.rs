//! The snapshot files under the store root: one directory per snapshot,
//! `<root>/<target>/<captured-at>/`, holding
//!
//! - `page.html.gz`: the body exactly as served (after HTTP content decoding), gzipped;
//! - `document.json`: the extracted [`Document`] (pretty JSON);
//! - `document.md`: the document as Markdown (see [`super::markdown`]);
//! - `redline.md`: the redline against the previous snapshot, when there is one.
//!
//! A snapshot directory appears whole or not at all: the files are written into
//! a hidden temporary directory beside it (each file itself via a temp file and
//! rename), which is then renamed into place.
//!
//! # Durability
//!
//! Alone ([`Durability::Each`]) every file and the renamed directory are
//! fsynced before the write returns, as the rows naming them are committed
//! right after. In a batch ([`Durability::Batch`], see
//! [`super::Store::begin_batch`]) nothing is fsynced here: the batch makes
//! everything it wrote durable in one round ([`sync_store`]) before the one
//! COMMIT that names it, so a crash never leaves a row naming a file that
//! did not reach the disk.
//!
//! # Temp names, and who may remove them
//!
//! Everything the store writes, it writes with the store lock held, through
//! temp names that say so: [`STAGING_PREFIX`] directories and
//! [`LOCKED_TEMP_PREFIX`] files. A run killed mid-write leaves them behind;
//! the next run, holding the lock, knows no one else can be writing them and
//! removes them at once ([`super::Store::sweep_unfinished`]). Other temp
//! files (`.tmpXXXXXX`: a report written into the store with `--output`,
//! which takes no lock, or a run of an older redliner) may belong to a live
//! writer, so they are removed only once older than [`STALE_TEMP_AGE`].

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use jiff::Timestamp;

use crate::document::Document;

/// The raw body file name.
pub const PAGE_FILE: &str = "page.html.gz";
/// The document JSON file name.
pub const DOCUMENT_JSON: &str = "document.json";
/// The document Markdown file name.
pub const DOCUMENT_MD: &str = "document.md";
/// The redline Markdown file name.
pub const REDLINE_MD: &str = "redline.md";

/// Prefix of the staging directory a snapshot is written into before it is
/// renamed into place (`<target>/.tmp-snapshot-XXXXXX`).
pub const STAGING_PREFIX: &str = ".tmp-snapshot-";

/// Prefix of the temp files the store writes with its lock held (snapshot
/// files, feeds, rewritten documents) before renaming them over the real name.
pub const LOCKED_TEMP_PREFIX: &str = ".tmp-redliner-";

/// Prefix every temp name starts with, the store's own and tempfile's default
/// (`.tmpXXXXXX`, used for `--output` files).
pub const TEMP_PREFIX: &str = ".tmp";

/// How old a temp file not named by the store's lock-held writers must be
/// before a sweep removes it: a report written with `--output` into the
/// store (no lock) finishes in seconds, never in an hour.
pub const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// When the files a write makes reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Each file and directory is fsynced before the write returns.
    Each,
    /// Nothing is fsynced; the caller runs [`sync_store`] once for
    /// everything it wrote before committing rows that name it.
    Batch,
}

/// What goes into one snapshot directory.
#[derive(Debug)]
pub struct SnapshotFiles<'a> {
    /// The body as served.
    pub body: &'a [u8],
    /// The extracted document.
    pub document: &'a Document,
    /// Its Markdown rendering.
    pub document_md: &'a str,
    /// The redline, when there is a previous snapshot.
    pub redline_md: Option<&'a str>,
}

/// The directory name for a capture time: UTC, seconds, filesystem-safe
/// (`2026-11-29T10-00-00Z`).
pub fn dir_name(captured_at: Timestamp) -> String {
    captured_at.strftime("%Y-%m-%dT%H-%M-%SZ").to_string()
}

/// Writes the files into a new directory `<target_dir>/<dir_name(captured_at)>`
/// (with `-2`, `-3`, ... appended when that name is taken) and returns the
/// directory's name. `durability` says whether the files are fsynced here.
///
/// # Errors
/// Any I/O error, with the path it concerns; nothing is left visible on failure.
pub fn write_snapshot(
    target_dir: &Path,
    captured_at: Timestamp,
    files: &SnapshotFiles<'_>,
    durability: Durability,
) -> Result<String, (PathBuf, io::Error)> {
    fs::create_dir_all(target_dir).map_err(|e| (target_dir.to_path_buf(), e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(STAGING_PREFIX);
    // tempdir's default is 0700: a snapshot directory is as readable as any
    // directory the user makes (0777 less the umask, usually 0755).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o777));
    let staging = builder
        .tempdir_in(target_dir)
        .map_err(|e| (target_dir.to_path_buf(), e))?;
    let dir = staging.path();

    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(files.body)
        .map_err(|e| (dir.join(PAGE_FILE), e))?;
    let gz = gz.finish().map_err(|e| (dir.join(PAGE_FILE), e))?;
    write_atomic_with(&dir.join(PAGE_FILE), &gz, durability)?;

    let mut json = serde_json::to_vec_pretty(files.document)
        .map_err(|e| (dir.join(DOCUMENT_JSON), io::Error::other(e)))?;
    json.push(b'\n');
    write_atomic_with(&dir.join(DOCUMENT_JSON), &json, durability)?;
    write_atomic_with(
        &dir.join(DOCUMENT_MD),
        files.document_md.as_bytes(),
        durability,
    )?;
    if let Some(redline) = files.redline_md {
        write_atomic_with(&dir.join(REDLINE_MD), redline.as_bytes(), durability)?;
    }

    let base = dir_name(captured_at);
    for n in 1..1000 {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let dest = target_dir.join(&name);
        if dest.exists() {
            continue;
        }
        // rename(2) onto an existing non-empty directory fails, so a racing
        // writer that took the name first makes us try the next suffix.
        match fs::rename(dir, &dest) {
            Ok(()) => {
                // The staging directory has moved; don't let its guard delete anything.
                let _ = staging.keep();
                if durability == Durability::Each {
                    sync_dir(target_dir);
                }
                return Ok(name);
            }
            Err(_) if dest.exists() => continue,
            Err(e) => return Err((dest, e)),
        }
    }
    Err((
        target_dir.join(base),
        io::Error::other("too many snapshots in the same second"),
    ))
}

/// Writes `bytes` to `path` via a temp file in the same directory
/// ([`LOCKED_TEMP_PREFIX`]: call with the store lock held), synced, then renamed.
///
/// # Errors
/// The I/O error and the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), (PathBuf, io::Error)> {
    write_atomic_with(path, bytes, Durability::Each)
}

/// [`write_atomic`], fsyncing the file only with [`Durability::Each`].
///
/// # Errors
/// The I/O error and the path.
pub fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    durability: Durability,
) -> Result<(), (PathBuf, io::Error)> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let err = |e| (path.to_path_buf(), e);
    let mut tmp = temp_file_in(parent, LOCKED_TEMP_PREFIX).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    if durability == Durability::Each {
        fsync(tmp.as_file()).map_err(err)?;
    }
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Makes everything written under `root` durable in one round: `syncfs(2)`
/// on the store's filesystem on Linux (one journal commit, however many
/// files), elsewhere an fsync of each of `written` (files and directories)
/// and of their parents.
///
/// # Errors
/// The I/O error and the path it concerns.
pub fn sync_store(root: &Path, written: &[PathBuf]) -> Result<(), (PathBuf, io::Error)> {
    count_sync();
    #[cfg(target_os = "linux")]
    {
        let _ = written;
        let dir = fs::File::open(root).map_err(|e| (root.to_path_buf(), e))?;
        rustix::fs::syncfs(&dir).map_err(|e| (root.to_path_buf(), io::Error::from(e)))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let mut parents = std::collections::BTreeSet::new();
        for path in written {
            fs::File::open(path)
                .and_then(|f| f.sync_all())
                .map_err(|e| (path.clone(), e))?;
            if let Some(p) = path.parent() {
                parents.insert(p.to_path_buf());
            }
        }
        for p in parents {
            sync_dir(&p);
        }
        let _ = root;
        Ok(())
    }
}

/// `File::sync_all`, counted in tests.
fn fsync(file: &fs::File) -> io::Result<()> {
    count_sync();
    file.sync_all()
}

#[cfg(test)]
thread_local! {
    /// fsync and syncfs calls made by this thread (tests count them; each
    /// test runs on its own thread).
    pub static SYNCS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn count_sync() {
    #[cfg(test)]
    SYNCS.with(|n| n.set(n.get() + 1));
}

/// A temp file in `dir` (named `.tmp...`, to be persisted over the real name)
/// with the mode any file the user writes gets: 0666 less the umask (usually
/// 0644) on Unix. `NamedTempFile::new_in` makes 0600 files, which renaming
/// keeps, so the store's files and `--output` files would be private to the
/// user while everything else they write is not.
///
/// # Errors
/// The I/O error of creating the file.
pub fn new_temp_file(dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    temp_file_in(dir, TEMP_PREFIX)
}

fn temp_file_in(dir: &Path, prefix: &str) -> io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    builder.tempfile_in(dir)
}

/// Reads and gunzips a `page.html.gz`.
///
/// # Errors
/// The I/O (or gzip) error.
pub fn read_gz(path: &Path) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    GzDecoder::new(fs::File::open(path)?).read_to_end(&mut out)?;
    Ok(out)
}

/// Makes a rename durable where the platform allows; best effort.
fn sync_dir(dir: &Path) {
    if let Ok(f) = fs::File::open(dir) {
        let _ = fsync(&f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Block, BlockKind, DocumentMeta, Section, SectionKey};

    fn doc() -> Document {
        Document {
            meta: DocumentMeta::default(),
            sections: vec![Section {
                key: SectionKey::lead(),
                heading: None,
                level: 0,
                blocks: vec![Block::new(BlockKind::Paragraph, "x")],
            }],
        }
    }

    #[test]
    fn dir_names_are_utc_seconds() {
        let cases = [
            ("2026-11-29T10:00:00Z", "2026-11-29T10-00-00Z"),
            ("2026-11-29T10:00:00.999Z", "2026-11-29T10-00-00Z"),
            ("2026-11-29T11:00:05+01:00", "2026-11-29T10-00-05Z"),
        ];
        for (at, want) in cases {
            assert_eq!(dir_name(at.parse().unwrap()), want);
        }
    }

    #[test]
    fn same_second_gets_suffixes_and_no_staging_dir_remains() {
        let root = tempfile::tempdir().unwrap();
        let at: Timestamp = "2026-11-29T10:00:00Z".parse().unwrap();
        let d = doc();
        let files = SnapshotFiles {
            body: b"<p>x</p>",
            document: &d,
            document_md: "# x\n",
            redline_md: None,
        };
        let names: Vec<String> = (0..3)
            .map(|_| write_snapshot(root.path(), at, &files, Durability::Each).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "2026-11-29T10-00-00Z",
                "2026-11-29T10-00-00Z-2",
                "2026-11-29T10-00-00Z-3"
            ]
        );
        let mut listed: Vec<String> = fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        listed.sort();
        assert_eq!(listed, names);
        let mut inside: Vec<String> = fs::read_dir(root.path().join(&names[0]))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        inside.sort();
        assert_eq!(inside, [DOCUMENT_JSON, DOCUMENT_MD, PAGE_FILE]);
        assert_eq!(
            read_gz(&root.path().join(&names[0]).join(PAGE_FILE)).unwrap(),
            b"<p>x</p>"
        );
    }

    /// Snapshot files and directories get the modes `fs::write` and
    /// `fs::create_dir` give under the same umask (0644 and 0755 under the
    /// usual 022), not tempfile's private 0600 and 0700.
    #[cfg(unix)]
    #[test]
    fn snapshot_files_and_directories_get_the_usual_modes() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let (plain_file, plain_dir) = (root.path().join("plain"), root.path().join("plain-dir"));
        fs::write(&plain_file, b"").unwrap();
        fs::create_dir(&plain_dir).unwrap();
        let (file_mode, dir_mode) = (mode(&plain_file), mode(&plain_dir));

        let target = root.path().join("nato-belarus");
        let d = doc();
        let files = SnapshotFiles {
            body: b"<p>x</p>",
            document: &d,
            document_md: "# x\n",
            redline_md: Some("# redline\n"),
        };
        let at: Timestamp = "2026-11-29T10:00:00Z".parse().unwrap();
        let name = write_snapshot(&target, at, &files, Durability::Each).unwrap();
        let dir = target.join(&name);
        write_atomic(&target.join("feed.atom"), b"<feed/>").unwrap();
        let mut got = vec![(name.clone(), mode(&dir))];
        for f in [PAGE_FILE, DOCUMENT_JSON, DOCUMENT_MD, REDLINE_MD] {
            got.push((f.to_string(), mode(&dir.join(f))));
        }
        got.push(("feed.atom".into(), mode(&target.join("feed.atom"))));
        let want: Vec<(String, u32)> = [
            (name.as_str(), dir_mode),
            (PAGE_FILE, file_mode),
            (DOCUMENT_JSON, file_mode),
            (DOCUMENT_MD, file_mode),
            (REDLINE_MD, file_mode),
            ("feed.atom", file_mode),
        ]
        .into_iter()
        .map(|(n, m)| (n.to_string(), m))
        .collect();
        assert_eq!(got, want);
    }
}
