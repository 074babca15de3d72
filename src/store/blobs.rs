//! The files of a PostgreSQL store, in its database: raw bodies and
//! documents, one `blobs` row per distinct content, named by the SHA-256
//! (hex) of its bytes before compression and kept zstd-compressed
//! (`src/store/migrations/postgres/002_blobs.sql`). A SQLite store keeps the
//! same bytes as files (see the `files` module); the digests are the same,
//! so the ledger and `verify` read both alike.

use super::db::{self, Connection, OptionalExtension, params};
use super::files;

/// Stores `plain` under its SHA-256 `sha256` (hex) unless a row has it.
///
/// # Errors
/// The database's error; a compression error as [`db::DbError::Conversion`].
pub(super) fn put(conn: &Connection, sha256: &str, plain: &[u8]) -> db::Result<()> {
    let have = conn
        .query_row(
            "SELECT 1 FROM blobs WHERE sha256 = ?1",
            [sha256],
            |_| Ok(()),
        )
        .optional()?;
    if have.is_some() {
        return Ok(());
    }
    let zstd =
        files::compress(plain).map_err(|e| db::DbError::conversion(0, format!("zstd: {e}")))?;
    conn.execute(
        "INSERT OR IGNORE INTO blobs (sha256, size, zstd) VALUES (?1, ?2, ?3)",
        params![sha256, plain.len(), zstd],
    )?;
    Ok(())
}

/// The size recorded for `sha256` and its bytes, compressed (zstd); `None`
/// when no row has them.
///
/// # Errors
/// The database's error.
pub(super) fn get(conn: &Connection, sha256: &str) -> db::Result<Option<(i64, Vec<u8>)>> {
    conn.query_row(
        "SELECT size, zstd FROM blobs WHERE sha256 = ?1",
        [sha256],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// True when a row holds `sha256`.
///
/// # Errors
/// The database's error.
pub(super) fn exists(conn: &Connection, sha256: &str) -> db::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM blobs WHERE sha256 = ?1")?
        .exists([sha256])
}

/// Removes the blobs no snapshot names any more (after `prune` or
/// `forget`); the number removed.
///
/// # Errors
/// The database's error.
pub(super) fn remove_unreferenced(conn: &Connection) -> db::Result<usize> {
    conn.execute(
        "DELETE FROM blobs WHERE NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.raw_sha256 = blobs.sha256)
                             AND NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.document_sha256 = blobs.sha256)",
        (),
    )
}

impl super::Store {
    /// True when the store's files are in its database (PostgreSQL), not
    /// under its root.
    pub fn files_in_database(&self) -> bool {
        self.conn.dialect() == db::Dialect::Postgres
    }

    /// What messages name for the blob `sha256`: `<database>#blobs/<sha256>`.
    pub(super) fn blob_name(&self, sha256: &str) -> String {
        format!("{}#blobs/{sha256}", self.index.display())
    }

    /// The bytes of blob `sha256`, decompressed.
    ///
    /// # Errors
    /// [`super::StoreError::Io`] naming the blob when no row has it (`NotFound`) or
    /// its bytes are not zstd (`InvalidData`); [`super::StoreError::Database`].
    pub(super) fn read_blob(&self, sha256: &str) -> Result<Vec<u8>, super::StoreError> {
        let io = |source| super::StoreError::Io {
            path: self.blob_name(sha256),
            source,
        };
        let (size, zstd) = get(&self.conn, sha256)
            .map_err(self.sql())?
            .ok_or_else(|| {
                io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such blob",
                ))
            })?;
        let bytes = zstd::decode_all(&zstd[..]).map_err(io)?;
        if i64::try_from(bytes.len()) != Ok(size) {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} bytes where its row records {size}", bytes.len()),
            )));
        }
        Ok(bytes)
    }
}
