//! The snapshot files under the store root: one directory per snapshot,
//! `<root>/<target>/<captured-at>/`, holding
//!
//! - `document.json.zst`: the extracted [`Document`] (pretty JSON, zstd);
//! - `document.md`: the document as Markdown (see [`super::markdown`]), plain,
//!   to read and `git diff`;
//! - `redline.md`: the redline against the previous snapshot, when there is one;
//!
//! and the raw bodies, exactly as served (after HTTP content decoding), stored
//! once per distinct body for the whole store: `<root>/.raw/<h[0..2]>/<h>.html.zst`
//! where `h` is the body's SHA-256 in hex (the snapshot row's `raw_sha256`;
//! the row's `raw_path` names the file). Identical bodies (a target that
//! returns to an earlier version, two targets on one URL) share one file.
//!
//! Snapshots stored before this layout keep their `page.html.gz` (gzip) and a
//! plain `document.json` in their directory; every reader takes both
//! ([`read_document`], [`read_gz`]).
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

use flate2::read::GzDecoder;
use jiff::Timestamp;

use crate::document::Document;

/// The raw body file name of snapshots stored before the content-addressed
/// layout (gzip, in the snapshot directory).
pub const PAGE_FILE: &str = "page.html.gz";
/// The document JSON file name (zstd).
pub const DOCUMENT_JSON_ZST: &str = "document.json.zst";
/// The plain document JSON file name of snapshots stored before
/// [`DOCUMENT_JSON_ZST`].
pub const DOCUMENT_JSON: &str = "document.json";
/// The directory of the raw bodies under the store root (hidden: it is not
/// a target, and no target id starts with a dot).
pub const RAW_DIR: &str = ".raw";

/// zstd level of the stored files: level 3 (zstd's default) compresses a
/// 29 KB page in a fraction of gzip's time, to about gzip's size.
const ZSTD_LEVEL: i32 = 3;
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

/// What goes into one snapshot directory (the raw body goes to
/// [`write_raw`]).
#[derive(Debug)]
pub struct SnapshotFiles<'a> {
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
/// directory's name and the SHA-256 (hex) of the document JSON written
/// (before compression). `durability` says whether the files are fsynced here.
///
/// # Errors
/// Any I/O error, with the path it concerns; nothing is left visible on failure.
pub fn write_snapshot(
    target_dir: &Path,
    captured_at: Timestamp,
    files: &SnapshotFiles<'_>,
    durability: Durability,
) -> Result<(String, String), (PathBuf, io::Error)> {
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

    let plain = document_bytes(files.document).map_err(|e| (dir.join(DOCUMENT_JSON_ZST), e))?;
    let document_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&plain));
    let json = compress(&plain).map_err(|e| (dir.join(DOCUMENT_JSON_ZST), e))?;
    // The staging directory is the unit that appears whole or not at all, so
    // its files are written in place (no temp file and rename each: on a
    // first run of many targets that inode churn was a fifth of the CPU).
    write_new_with(&dir.join(DOCUMENT_JSON_ZST), &json, durability)?;
    write_new_with(
        &dir.join(DOCUMENT_MD),
        files.document_md.as_bytes(),
        durability,
    )?;
    if let Some(redline) = files.redline_md {
        write_new_with(&dir.join(REDLINE_MD), redline.as_bytes(), durability)?;
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
                return Ok((name, document_sha256));
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

/// The document as stored: pretty JSON with a final newline, zstd.
///
/// # Errors
/// A serialisation or compression error.
pub fn document_json(document: &Document) -> io::Result<Vec<u8>> {
    compress(&document_bytes(document)?)
}

/// The document JSON before compression: pretty, with a final newline. Its
/// SHA-256 is the snapshot's `document_sha256`.
///
/// # Errors
/// A serialisation error.
pub fn document_bytes(document: &Document) -> io::Result<Vec<u8>> {
    let mut json = serde_json::to_vec_pretty(document).map_err(io::Error::other)?;
    json.push(b'\n');
    Ok(json)
}

/// `bytes` compressed at [`ZSTD_LEVEL`], with this thread's compression
/// context (made once: making one per file was a tenth of zstd's time).
///
/// # Errors
/// A compression error.
pub(super) fn compress(bytes: &[u8]) -> io::Result<Vec<u8>> {
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = match cell.as_mut() {
            Some(c) => c,
            None => cell.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL)?),
        };
        compressor.compress(bytes)
    })
}

/// Reads a snapshot directory's document JSON: `document.json.zst`, or the
/// plain `document.json` of a snapshot stored before it. Returns the bytes
/// and the file read, for messages. When neither exists, the error names
/// `document.json.zst`, or `document.json` when `old_layout` says the
/// snapshot predates it.
///
/// # Errors
/// The I/O (or zstd) error and the path.
pub fn read_document(
    dir: &Path,
    old_layout: bool,
) -> Result<(Vec<u8>, PathBuf), (PathBuf, io::Error)> {
    let zst = dir.join(DOCUMENT_JSON_ZST);
    match read_zst(&zst) {
        Ok(bytes) => return Ok((bytes, zst)),
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err((zst, e)),
        Err(_) => {}
    }
    let plain = dir.join(DOCUMENT_JSON);
    match fs::read(&plain) {
        Ok(bytes) => Ok((bytes, plain)),
        Err(e) if e.kind() == io::ErrorKind::NotFound && !old_layout => Err((zst, e)),
        Err(e) => Err((plain, e)),
    }
}

/// The file [`read_document`] would read, found by its metadata alone (the
/// same errors, nothing read).
///
/// # Errors
/// As [`read_document`]'s, for a missing or unreadable file.
pub fn document_file(dir: &Path, old_layout: bool) -> Result<PathBuf, (PathBuf, io::Error)> {
    let zst = dir.join(DOCUMENT_JSON_ZST);
    match fs::metadata(&zst) {
        Ok(_) => return Ok(zst),
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err((zst, e)),
        Err(_) => {}
    }
    let plain = dir.join(DOCUMENT_JSON);
    match fs::metadata(&plain) {
        Ok(_) => Ok(plain),
        Err(e) if e.kind() == io::ErrorKind::NotFound && !old_layout => Err((zst, e)),
        Err(e) => Err((plain, e)),
    }
}

/// The raw body's file, relative to the store root, `/`-separated:
/// `.raw/<sha[0..2]>/<sha>.html.zst`.
pub fn raw_path(sha256_hex: &str) -> String {
    let fan = sha256_hex.get(..2).unwrap_or("00");
    format!("{RAW_DIR}/{fan}/{sha256_hex}.html.zst")
}

/// Stores a raw body under its SHA-256 (`sha256_hex`, of `body`) unless the
/// store holds it already, and returns its root-relative path
/// ([`raw_path`]) and, when this call wrote the file, its absolute path (to
/// remove again if the rows naming it never commit). A file already there
/// is used only when it decodes to `body` (one left by a run killed before
/// its sync could be cut); otherwise it is written again.
///
/// # Errors
/// The I/O error and the path.
pub fn write_raw(
    root: &Path,
    sha256_hex: &str,
    body: &[u8],
    durability: Durability,
) -> Result<(String, Option<PathBuf>), (PathBuf, io::Error)> {
    let rel = raw_path(sha256_hex);
    let path = rel
        .split('/')
        .fold(root.to_path_buf(), |p, part| p.join(part));
    if read_zst(&path).is_ok_and(|stored| stored == body) {
        if durability == Durability::Each {
            // It may be a killed batch's, never synced.
            fs::File::open(&path)
                .and_then(|f| fsync(&f))
                .map_err(|e| (path.clone(), e))?;
        }
        return Ok((rel, None));
    }
    let raw_dir = root.join(RAW_DIR);
    let fan_dir = path.parent().unwrap_or(&raw_dir).to_path_buf();
    let created = !fan_dir.is_dir();
    fs::create_dir_all(&fan_dir).map_err(|e| (fan_dir.clone(), e))?;
    let zst = compress(body).map_err(|e| (path.clone(), e))?;
    // The temp file sits in `.raw/` itself, where a sweep finds it without
    // listing the fan-out directories.
    let err = |e| (path.clone(), e);
    let mut tmp = temp_file_in(&raw_dir, LOCKED_TEMP_PREFIX).map_err(err)?;
    tmp.write_all(&zst).map_err(err)?;
    if durability == Durability::Each {
        fsync(tmp.as_file()).map_err(err)?;
    }
    tmp.persist(&path).map_err(|e| err(e.error))?;
    if durability == Durability::Each {
        sync_dir(&fan_dir);
        sync_dir(&raw_dir);
        if created {
            sync_dir(root);
        }
    }
    Ok((rel, Some(path)))
}

/// Reads and decompresses a zstd file.
///
/// # Errors
/// The I/O (or zstd) error.
pub fn read_zst(path: &Path) -> io::Result<Vec<u8>> {
    zstd::stream::decode_all(fs::File::open(path)?)
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

/// Writes `bytes` to `path`, a file that must not exist yet, inside a
/// directory no reader sees until it is renamed into place (a snapshot's
/// staging directory); fsynced when `durability` is [`Durability::Each`].
///
/// # Errors
/// The I/O error (`AlreadyExists` when the file exists) and the path.
fn write_new_with(
    path: &Path,
    bytes: &[u8],
    durability: Durability,
) -> Result<(), (PathBuf, io::Error)> {
    let err = |e| (path.to_path_buf(), e);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(err)?;
    file.write_all(bytes).map_err(err)?;
    if durability == Durability::Each {
        fsync(&file).map_err(err)?;
    }
    Ok(())
}

/// From how many written files a durability round is one `syncfs(2)` rather
/// than an fsync per file: syncfs is one journal commit however many files,
/// but it also flushes whatever else is waiting on the filesystem, which a
/// round of a few files (a `watch` check) should not wait for.
pub const SYNCFS_FROM: usize = 32;

/// Makes everything written under `root` durable in one round: `written`
/// lists the files and directories (a directory stands for itself and the
/// files in it). From [`SYNCFS_FROM`] files on (on Linux), one `syncfs(2)` on
/// the store's filesystem; below, an fsync of each file, then of each
/// directory between them and `root`, each once.
///
/// # Errors
/// The I/O error and the path it concerns.
pub fn sync_store(root: &Path, written: &[PathBuf]) -> Result<(), (PathBuf, io::Error)> {
    let mut files = Vec::new();
    let mut dirs = std::collections::BTreeSet::new();
    for path in written {
        match fs::read_dir(path) {
            Ok(entries) => {
                files.extend(entries.flatten().map(|e| e.path()));
                dirs.insert(path.clone());
            }
            Err(_) => files.push(path.clone()),
        }
    }
    if cfg!(target_os = "linux") && files.len() >= SYNCFS_FROM {
        return syncfs(root);
    }
    for file in &files {
        fs::File::open(file)
            .and_then(|f| fsync(&f))
            .map_err(|e| (file.clone(), e))?;
    }
    for path in files.iter().chain(written) {
        let mut parent = path.parent();
        while let Some(p) = parent.filter(|p| p.starts_with(root)) {
            dirs.insert(p.to_path_buf());
            parent = p.parent();
        }
    }
    for dir in dirs {
        fs::File::open(&dir)
            .and_then(|f| fsync(&f))
            .map_err(|e| (dir.clone(), e))?;
    }
    Ok(())
}

/// `syncfs(2)` on the filesystem holding `root`, counted in tests.
#[cfg(target_os = "linux")]
fn syncfs(root: &Path) -> Result<(), (PathBuf, io::Error)> {
    count_sync();
    let dir = fs::File::open(root).map_err(|e| (root.to_path_buf(), e))?;
    rustix::fs::syncfs(&dir).map_err(|e| (root.to_path_buf(), io::Error::from(e)))
}

#[cfg(not(target_os = "linux"))]
fn syncfs(root: &Path) -> Result<(), (PathBuf, io::Error)> {
    let _ = root;
    Ok(())
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
            document: &d,
            document_md: "# x\n",
            redline_md: None,
        };
        let names: Vec<String> = (0..3)
            .map(|_| {
                write_snapshot(root.path(), at, &files, Durability::Each)
                    .unwrap()
                    .0
            })
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
        assert_eq!(inside, [DOCUMENT_JSON_ZST, DOCUMENT_MD]);
        let (json, _) = read_document(&root.path().join(&names[0]), false).unwrap();
        assert_eq!(serde_json::from_slice::<Document>(&json).unwrap(), d);
    }

    /// One file per distinct body, whoever stores it; a file already there
    /// is used only when it holds the body.
    #[test]
    fn raw_bodies_are_stored_once_per_distinct_body() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let body = b"<html><p>Body</p></html>".as_slice();
        let sha = "3fa9";
        let (rel, written) = write_raw(root, sha, body, Durability::Each).unwrap();
        assert_eq!(rel, ".raw/3f/3fa9.html.zst");
        let path = root.join(".raw/3f/3fa9.html.zst");
        assert_eq!(written.as_deref(), Some(path.as_path()));
        assert_eq!(read_zst(&path).unwrap(), body);
        for durability in [Durability::Each, Durability::Batch] {
            let (again, written) = write_raw(root, sha, body, durability).unwrap();
            assert_eq!((again.as_str(), written), (rel.as_str(), None));
        }
        // A cut file (a crash before a sync) is written again.
        fs::write(&path, b"cut").unwrap();
        let (_, written) = write_raw(root, sha, body, Durability::Batch).unwrap();
        assert!(written.is_some());
        assert_eq!(read_zst(&path).unwrap(), body);
        let mut listed: Vec<String> = fs::read_dir(root.join(RAW_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        listed.sort();
        assert_eq!(listed, ["3f"], "no temp file is left");
    }

    /// The old layout's plain `document.json` reads; a missing document is
    /// named after the layout the snapshot was stored with.
    #[test]
    fn documents_of_both_layouts_read() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let missing = |old| read_document(dir, old).unwrap_err().0;
        assert_eq!(missing(false), dir.join(DOCUMENT_JSON_ZST));
        assert_eq!(missing(true), dir.join(DOCUMENT_JSON));
        fs::write(dir.join(DOCUMENT_JSON), b"{}").unwrap();
        assert_eq!(
            read_document(dir, true).unwrap(),
            (b"{}".to_vec(), dir.join(DOCUMENT_JSON))
        );
        let d = doc();
        fs::write(dir.join(DOCUMENT_JSON_ZST), document_json(&d).unwrap()).unwrap();
        let (json, path) = read_document(dir, true).unwrap();
        assert_eq!(path, dir.join(DOCUMENT_JSON_ZST), "the compressed one wins");
        assert_eq!(serde_json::from_slice::<Document>(&json).unwrap(), d);
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
            document: &d,
            document_md: "# x\n",
            redline_md: Some("# redline\n"),
        };
        let at: Timestamp = "2026-11-29T10:00:00Z".parse().unwrap();
        let (name, _) = write_snapshot(&target, at, &files, Durability::Each).unwrap();
        let dir = target.join(&name);
        write_atomic(&target.join("feed.atom"), b"<feed/>").unwrap();
        let mut got = vec![(name.clone(), mode(&dir))];
        let (raw, _) = write_raw(root.path(), "ab12", b"<p>x</p>", Durability::Batch).unwrap();
        let raw = root.path().join(raw);
        got.push(("raw".into(), mode(&raw)));
        got.push((RAW_DIR.into(), mode(&root.path().join(RAW_DIR))));
        for f in [DOCUMENT_JSON_ZST, DOCUMENT_MD, REDLINE_MD] {
            got.push((f.to_string(), mode(&dir.join(f))));
        }
        got.push(("feed.atom".into(), mode(&target.join("feed.atom"))));
        let want: Vec<(String, u32)> = [
            (name.as_str(), dir_mode),
            ("raw", file_mode),
            (RAW_DIR, dir_mode),
            (DOCUMENT_JSON_ZST, file_mode),
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
