//! The store lock: one advisory lock (`std::fs::File::try_lock`, `flock` on
//! Unix) on `<store>/redliner.lock`, so two redliner runs never write the same
//! store at once.
//!
//! Who holds it, and for how long:
//!
//! - `redliner check` takes it before opening the store and holds it for the
//!   whole run;
//! - the `watch` daemon takes it around each target's check (fetch, compare,
//!   record) and releases it between checks, so a `check` from cron can run
//!   while the daemon sleeps.
//!
//! The holder writes `pid`, `command` and `since` lines into the file, so a run
//! that finds the store busy can say who holds it, and empties the file when
//! it releases the lock, so a later holder that writes nothing (another tool
//! taking the same lock) is "holder unknown", not a redliner run long gone.
//! The file itself is never deleted (deleting a lock file races with the next
//! run opening it); the operating system drops the lock when the holder
//! exits, even on a crash (a crashed holder's lines stay, and are shown with
//! a note when its pid no longer runs).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;

/// The lock file's name inside the store root.
pub const LOCK_FILE: &str = "redliner.lock";

/// How often a waiting run tries the lock again.
pub const POLL: Duration = Duration::from_millis(100);

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another run held the lock for the whole wait.
    #[error(
        "store `{}` is locked by another redliner run ({}); gave up after {}",
        store.display(),
        holder.as_deref().unwrap_or("holder unknown"),
        waited_text(*waited)
    )]
    Busy {
        /// The store root.
        store: PathBuf,
        /// The lock file.
        path: PathBuf,
        /// What the holder wrote: `pid 123, `watch`, since 2026-...Z`, if readable.
        holder: Option<String>,
        /// How long this run was allowed to wait (`settings.lock_wait`).
        waited: Duration,
    },
    /// The store root or its lock file could not be created, read or written.
    #[error("store lock `{}`: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
}

impl LockError {
    /// The lock file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            LockError::Busy { path, .. } | LockError::Io { path, .. } => path,
        }
    }
}

fn waited_text(d: Duration) -> String {
    jiff::SignedDuration::try_from(d)
        .map_or_else(|_| format!("{}s", d.as_secs()), |s| format!("{s:#}"))
}

/// A held store lock; released when dropped.
#[derive(Debug)]
pub struct StoreLock {
    held: Held,
    path: PathBuf,
}

/// What holds the lock: the lock file, or, for a store in PostgreSQL, a
/// session advisory lock on a connection kept for as long as it is held.
enum Held {
    File(File),
    /// The connection, and whether the lock is the shared one.
    Database(Box<crate::store::db::Connection>, bool),
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Held::File(file) => f.debug_tuple("File").field(file).finish(),
            Held::Database(c, shared) => f.debug_tuple("Database").field(c).field(shared).finish(),
        }
    }
}

/// The `pg_advisory_lock` key of a PostgreSQL store's lock: `redlock` in
/// ASCII.
const DATABASE_LOCK: i64 = 0x0072_6564_6c6f_636b;

/// The lock of the store in the PostgreSQL database `url`: a session
/// advisory lock, its holder named by the connection's `application_name`
/// (`redliner <command>, pid <pid> on <host>`), which [`busy`] reads back
/// from `pg_stat_activity`.
fn try_acquire_database(
    url: &str,
    command: &str,
    shared: bool,
) -> Result<Option<StoreLock>, LockError> {
    use crate::store::db::postgres::{PgConnection, PgTarget};
    let target = PgTarget {
        url: url.to_string(),
        password: crate::store::db::postgres::password_for(url),
    };
    let path = PathBuf::from(target.display());
    let io = |e: crate::store::db::DbError| LockError::Io {
        path: path.clone(),
        source: std::io::Error::other(e.to_string()),
    };
    let conn = crate::store::db::Connection::postgres(PgConnection::connect(&target).map_err(io)?);
    let got: bool = conn
        .query_row(
            if shared {
                "SELECT pg_try_advisory_lock_shared(?1)"
            } else {
                "SELECT pg_try_advisory_lock(?1)"
            },
            [DATABASE_LOCK],
            |r| r.get(0),
        )
        .map_err(io)?;
    if !got {
        return Ok(None);
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name = format!(
        "redliner {command}, pid {} on {}",
        std::process::id(),
        host.trim()
    );
    conn.query_row(
        "SELECT set_config('application_name', ?1, false)",
        [&name],
        |_| Ok(()),
    )
    .map_err(io)?;
    Ok(Some(StoreLock {
        held: Held::Database(Box::new(conn), shared),
        path,
    }))
}

/// Who holds the lock of the store in PostgreSQL `url`, as its
/// `application_name` and since when; `None` when it cannot be read.
fn database_holder(url: &str) -> Option<String> {
    use crate::store::db::postgres::{PgConnection, PgTarget};
    let target = PgTarget {
        url: url.to_string(),
        password: crate::store::db::postgres::password_for(url),
    };
    let conn = crate::store::db::Connection::postgres(PgConnection::connect(&target).ok()?);
    conn.query_row(
        "SELECT a.application_name, to_char(a.backend_start AT TIME ZONE 'UTC',
                                             'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted
            AND ((l.classid::bigint << 32) | l.objid::bigint) = ?1
          LIMIT 1",
        [DATABASE_LOCK],
        |r| {
            Ok(format!(
                "{}, connected since {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?
            ))
        },
    )
    .ok()
}

impl StoreLock {
    /// The lock file of the store at `root`.
    pub fn path_in(root: &Path) -> PathBuf {
        root.join(LOCK_FILE)
    }

    /// Tries once to take the lock of the store at `root` (creating the root and
    /// the lock file if missing). `command` names the holder in the file
    /// (`check`, `watch`). `Ok(None)` when another run holds it.
    ///
    /// # Errors
    /// [`LockError::Io`] when the directory or file cannot be created, or the
    /// lock call fails for another reason than contention.
    pub fn try_acquire(root: &Path, command: &str) -> Result<Option<StoreLock>, LockError> {
        if let Some(url) = root
            .to_str()
            .filter(|r| crate::store::db::postgres::is_url(r))
        {
            return try_acquire_database(url, command, false);
        }
        if let Some(other) = root.to_str().filter(|r| {
            crate::store::db::postgres::store_kind(r)
                == crate::store::db::postgres::StoreKind::OtherUrl
        }) {
            return Err(LockError::Io {
                path: PathBuf::from(crate::store::db::postgres::redact(other)),
                source: std::io::Error::other(crate::store::db::postgres::other_url_message(other)),
            });
        }
        let path = Self::path_in(root);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        if root.exists() && !root.is_dir() {
            return Err(LockError::Io {
                path: root.to_path_buf(),
                source: std::io::Error::other("the store root exists and is not a directory"),
            });
        }
        std::fs::create_dir_all(root).map_err(|source| LockError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        // Not truncated on open: the holder's lines stay readable for the
        // runs that find it busy.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let mut file = file;
        write_holder(&mut file, command).map_err(io)?;
        let lock = StoreLock {
            held: Held::File(file),
            path: path.clone(),
        };
        Ok(Some(lock))
    }

    /// Tries once to take the lock of the store at `root` shared: for a
    /// store in PostgreSQL, any number of workers hold it at once, and
    /// [`StoreLock::try_acquire`] (maintenance: `prune`, `forget`,
    /// `reextract`) waits until none does. For a store in a directory it
    /// is [`StoreLock::try_acquire`].
    ///
    /// # Errors
    /// As [`StoreLock::try_acquire`].
    pub fn try_acquire_shared(root: &Path, command: &str) -> Result<Option<StoreLock>, LockError> {
        match root
            .to_str()
            .filter(|r| crate::store::db::postgres::is_url(r))
        {
            Some(url) => try_acquire_database(url, command, true),
            None => Self::try_acquire(root, command),
        }
    }

    /// [`StoreLock::acquire`], shared (see [`StoreLock::try_acquire_shared`]).
    ///
    /// # Errors
    /// As [`StoreLock::acquire`].
    pub fn acquire_shared(
        root: &Path,
        command: &str,
        wait: Duration,
    ) -> Result<StoreLock, LockError> {
        let start = Instant::now();
        loop {
            if let Some(lock) = Self::try_acquire_shared(root, command)? {
                return Ok(lock);
            }
            let waited = start.elapsed();
            if waited >= wait {
                return Err(busy(root, wait));
            }
            std::thread::sleep(POLL.min(wait - waited));
        }
    }

    /// Takes the lock of the store at `root`, trying every [`POLL`] for up to
    /// `wait` (blocking the calling thread between tries).
    ///
    /// # Errors
    /// [`LockError::Busy`] naming the store, the lock file and the holder when
    /// the wait ran out; [`LockError::Io`] as [`StoreLock::try_acquire`].
    pub fn acquire(root: &Path, command: &str, wait: Duration) -> Result<StoreLock, LockError> {
        let start = Instant::now();
        loop {
            if let Some(lock) = Self::try_acquire(root, command)? {
                return Ok(lock);
            }
            let waited = start.elapsed();
            if waited >= wait {
                return Err(busy(root, wait));
            }
            std::thread::sleep(POLL.min(wait - waited));
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Writes the holder lines (`pid`, `command`, `since`) into the lock file.
fn write_holder(file: &mut File, command: &str) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    write!(
        file,
        "pid={}\ncommand={command}\nsince={}\n",
        std::process::id(),
        Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or(Timestamp::now())
    )?;
    file.flush()
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        let file = match &mut self.held {
            Held::File(file) => file,
            Held::Database(conn, shared) => {
                let unlock = if *shared {
                    "SELECT pg_advisory_unlock_shared(?1)"
                } else {
                    "SELECT pg_advisory_unlock(?1)"
                };
                let _ = conn.query_row(unlock, [DATABASE_LOCK], |_| Ok(()));
                let _ = conn.execute_batch("RESET application_name");
                return;
            }
        };
        // The holder lines go first, while the lock is still ours: the next
        // holder writes its own, and one that writes none is unknown.
        let _ = file.set_len(0);
        // Closing the file releases the lock too; unlocking first makes the
        // release immediate even if the handle were shared.
        let _ = file.unlock();
    }
}

/// The [`LockError::Busy`] for the store at `root` after waiting `waited` (shown
/// as given: pass the configured wait, not a measured one),
/// with what the holder wrote in the lock file.
pub fn busy(root: &Path, waited: Duration) -> LockError {
    if let Some(url) = root
        .to_str()
        .filter(|r| crate::store::db::postgres::is_url(r))
    {
        let shown = crate::store::db::postgres::redact(url);
        return LockError::Busy {
            store: PathBuf::from(&shown),
            holder: database_holder(url),
            path: PathBuf::from(shown),
            waited,
        };
    }
    let path = StoreLock::path_in(root);
    LockError::Busy {
        store: root.to_path_buf(),
        holder: read_holder(&path),
        path,
        waited,
    }
}

/// What the holder wrote, as `pid 123, `watch`, since T, lock `PATH``; `None`
/// when the file is unreadable or names no pid.
fn read_holder(path: &Path) -> Option<String> {
    let mut text = String::new();
    File::open(path).ok()?.read_to_string(&mut text).ok()?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let pid = field("pid")?;
    let mut parts = vec![format!("pid {pid}")];
    if let Some(c) = field("command") {
        parts.push(format!("`{c}`"));
    }
    if let Some(s) = field("since") {
        parts.push(format!("since {s}"));
    }
    parts.push(format!("lock `{}`", path.display()));
    let text = parts.join(", ");
    // Lines left by a holder that crashed: whoever holds the lock now is not it.
    if pid_has_exited(pid) {
        return Some(format!(
            "holder unknown; the lock file still names {text}, which has exited"
        ));
    }
    Some(text)
}

/// True when `pid` is known not to run: Linux only (`/proc`); elsewhere, or
/// when the pid is unreadable, we can't tell and say false.
fn pid_has_exited(pid: &str) -> bool {
    let proc_root = Path::new("/proc/self");
    pid.parse::<u32>().is_ok() && proc_root.exists() && !Path::new("/proc").join(pid).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_taker_waits_then_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let first = StoreLock::acquire(&root, "watch", Duration::ZERO).unwrap();
        assert!(StoreLock::try_acquire(&root, "check").unwrap().is_none());
        let start = Instant::now();
        let err = StoreLock::acquire(&root, "check", Duration::from_millis(300)).unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(300));
        let LockError::Busy { holder, path, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(path, &root.join(LOCK_FILE));
        let holder = holder.as_deref().unwrap();
        let pid = format!("pid {}, `watch`, since ", std::process::id());
        assert!(holder.starts_with(&pid), "{holder}");
        assert!(
            holder.ends_with(&format!("lock `{}`", path.display())),
            "{holder}"
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "store `{}` is locked by another redliner run (pid ",
                root.display()
            )),
            "{msg}"
        );
        assert!(msg.ends_with("; gave up after 300ms"), "{msg}");
        drop(first);
        let second = StoreLock::acquire(&root, "check", Duration::ZERO).unwrap();
        let text = std::fs::read_to_string(second.path()).unwrap();
        assert!(text.contains("command=check\n"), "{text}");
    }

    #[test]
    fn holder_text_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        let shown = format!("lock `{}`", path.display());
        // A live pid (ours), so the text does not depend on what else runs.
        let me = std::process::id();
        let cases = [
            (String::new(), None),
            ("garbage".into(), None),
            ("pid=\n".into(), None),
            (format!("pid={me}\n"), Some(format!("pid {me}, {shown}"))),
            (
                format!("pid={me}\ncommand=check\nsince=2026-05-01T10:00:00Z\n"),
                Some(format!(
                    "pid {me}, `check`, since 2026-05-01T10:00:00Z, {shown}"
                )),
            ),
        ];
        for (text, want) in cases {
            std::fs::write(&path, &text).unwrap();
            assert_eq!(read_holder(&path), want, "{text:?}");
        }
    }

    /// Linux pids stop at 2^22, so this one never runs.
    #[cfg(target_os = "linux")]
    #[test]
    fn holder_lines_of_an_exited_run_are_not_named_as_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        std::fs::write(
            &path,
            "pid=99999999\ncommand=watch\nsince=2026-05-01T10:00:00Z\n",
        )
        .unwrap();
        assert_eq!(
            read_holder(&path).unwrap(),
            format!(
                "holder unknown; the lock file still names pid 99999999, `watch`, since 2026-05-01T10:00:00Z, lock `{}`, which has exited",
                path.display()
            )
        );
    }

    #[test]
    fn release_empties_the_file_so_another_locker_is_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let lock = StoreLock::acquire(&root, "check", Duration::ZERO).unwrap();
        let path = lock.path().to_path_buf();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("command=check\n")
        );
        drop(lock);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");

        // Another tool takes the same lock and writes nothing.
        let other = File::options().read(true).write(true).open(&path).unwrap();
        other.try_lock().unwrap();
        let err = StoreLock::acquire(&root, "check", Duration::ZERO).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "store `{}` is locked by another redliner run (holder unknown); gave up after 0s",
                root.display()
            )
        );
    }
}
