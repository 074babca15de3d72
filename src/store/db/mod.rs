//! One SQL interface over the store's two databases: SQLite, the embedded
//! default (`rusqlite`), and PostgreSQL (`tokio-postgres` through a
//! `deadpool-postgres` pool), for stores shared by many workers.
//!
//! The store's modules write their SQL once, in the dialect both accept
//! (SQLite's `?N` placeholders, `INSERT OR IGNORE`, `IS` / `IS NOT` between
//! values); [`postgres::translate`] rewrites those few forms for PostgreSQL.
//! What only one of them has (SQLite's FTS5, PostgreSQL's `FOR UPDATE SKIP
//! LOCKED`) is chosen by [`Connection::dialect`].
//!
//! Values cross as [`ValueRef`], SQLite's five storage classes: integers,
//! reals, text, blobs and NULL. On PostgreSQL an integer is bound as the
//! column's own integer width (or a boolean), and `bigint`, `integer`,
//! `smallint` and `boolean` columns are read back as integers, so the same
//! Rust types read both. Every statement is prepared once per connection.
//!
//! All calls are synchronous, as `rusqlite` is: a PostgreSQL call blocks the
//! calling thread while the connection's I/O runs on a runtime of its own
//! (see [`postgres`]), so the store can be called from inside or outside an
//! async context alike.

pub mod postgres;
mod sqlite;

use std::cell::Cell;
use std::fmt;

/// Which database a [`Connection`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3 (bundled with `rusqlite`).
    Sqlite,
    /// PostgreSQL 13 or later.
    Postgres,
}

/// Why a statement failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite failed.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed (the server's message, with its detail and hint).
    #[error("{}", postgres::describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had from the pool.
    #[error("PostgreSQL: {0}")]
    Pool(String),
    /// A query that must return a row returned none.
    #[error("query returned no rows")]
    NoRows,
    /// A column's value is not of the type asked for.
    #[error("column {column}: {message}")]
    Conversion {
        /// The column's 0-based index.
        column: usize,
        /// What was found and what was wanted.
        message: String,
    },
}

impl DbError {
    /// A column whose value could not be read as the type wanted.
    pub fn conversion(column: usize, message: impl Into<String>) -> DbError {
        DbError::Conversion {
            column,
            message: message.into(),
        }
    }

    /// True when the error is about a value's type or range (a row the
    /// store cannot read), not about the database.
    pub fn is_conversion(&self) -> bool {
        matches!(
            self,
            DbError::Conversion { .. }
                | DbError::Sqlite(
                    rusqlite::Error::FromSqlConversionFailure(..)
                        | rusqlite::Error::InvalidColumnType(..)
                        | rusqlite::Error::IntegralValueOutOfRange(..)
                )
        )
    }
}

/// A store result.
pub type Result<T, E = DbError> = std::result::Result<T, E>;

/// A value as bound or read: SQLite's storage classes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// SQL NULL.
    Null,
    /// A 64-bit signed integer (booleans are 0 and 1).
    Integer(i64),
    /// A 64-bit float.
    Real(f64),
    /// UTF-8 text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

impl ValueRef<'_> {
    fn kind(&self) -> &'static str {
        match self {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "an integer",
            ValueRef::Real(_) => "a real",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "a blob",
        }
    }
}

/// An owned value of any storage class: what a column holds, read without
/// knowing its type (copying rows between databases).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit signed integer.
    Integer(i64),
    /// A 64-bit float.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl ToSql for Value {
    fn to_sql(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(t) => ValueRef::Text(t),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl FromSql for Value {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
        Ok(match value {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(t.to_string()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        })
    }
}

/// A Rust value bound as a statement parameter.
pub trait ToSql {
    /// The value to bind.
    fn to_sql(&self) -> ValueRef<'_>;
}

/// A Rust value read from a column. `Err` holds what was wrong (the
/// column's index is added by [`Row::get`]).
pub trait FromSql: Sized {
    /// Reads the value.
    ///
    /// # Errors
    /// A message when the value is not of this type or out of its range.
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String>;
}

fn wrong(value: ValueRef<'_>, wanted: &str) -> String {
    format!("{} where {wanted} was expected", value.kind())
}

macro_rules! integer_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> ValueRef<'_> {
                // Values past i64 (u64, usize) saturate; the store's counts
                // and sizes never come near.
                ValueRef::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
        impl FromSql for $t {
            fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
                match value {
                    ValueRef::Integer(i) => <$t>::try_from(i)
                        .map_err(|_| format!("{i} is out of range for {}", stringify!($t))),
                    v => Err(wrong(v, "an integer")),
                }
            }
        }
    )*};
}
integer_sql!(i64, i32, i16, u8, u16, u32, u64, usize);

impl ToSql for bool {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Integer(i64::from(*self))
    }
}

impl FromSql for bool {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Integer(i) => Ok(i != 0),
            v => Err(wrong(v, "a boolean")),
        }
    }
}

impl ToSql for f64 {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Real(*self)
    }
}

impl FromSql for f64 {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Real(f) => Ok(f),
            #[allow(clippy::cast_precision_loss)]
            ValueRef::Integer(i) => Ok(i as f64),
            v => Err(wrong(v, "a real")),
        }
    }
}

impl ToSql for str {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToSql for String {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl FromSql for String {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Text(s) => Ok(s.to_string()),
            v => Err(wrong(v, "text")),
        }
    }
}

impl ToSql for [u8] {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToSql for Vec<u8> {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl FromSql for Vec<u8> {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            // SQLite hands back text stored in a blob column as text.
            ValueRef::Text(s) => Ok(s.as_bytes().to_vec()),
            v => Err(wrong(v, "a blob")),
        }
    }
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_sql(&self) -> ValueRef<'_> {
        (**self).to_sql()
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self) -> ValueRef<'_> {
        self.as_ref().map_or(ValueRef::Null, ToSql::to_sql)
    }
}

impl<T: FromSql> FromSql for Option<T> {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Null => Ok(None),
            v => T::from_sql(v).map(Some),
        }
    }
}

/// The parameters of one statement: `params![a, b]`, `[]`, or a slice of
/// `&dyn ToSql` built at run time.
pub trait Params {
    /// The values, in order (`?1` first).
    fn values(&self) -> Vec<ValueRef<'_>>;
}

impl Params for &[&dyn ToSql] {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(|v| v.to_sql()).collect()
    }
}

impl<T: ToSql, const N: usize> Params for [T; N] {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(ToSql::to_sql).collect()
    }
}

impl Params for () {
    fn values(&self) -> Vec<ValueRef<'_>> {
        Vec::new()
    }
}

/// `params![a, b, c]`: the parameters `?1`, `?2`, `?3` of a statement.
#[macro_export]
#[doc(hidden)]
macro_rules! __store_params {
    () => { &[] as &[&dyn $crate::store::db::ToSql] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::store::db::ToSql),+] as &[&dyn $crate::store::db::ToSql] };
}
pub use crate::__store_params as params;

/// `.optional()` on a one-row query: `Ok(None)` for no row.
pub trait OptionalExtension<T> {
    /// `Ok(Some(v))` for a row, `Ok(None)` for none, `Err` for a failure.
    ///
    /// # Errors
    /// The query's error, unless it is [`DbError::NoRows`].
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRows) => Ok(None),
            Err(DbError::Sqlite(rusqlite::Error::QueryReturnedNoRows)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One result row.
pub struct Row<'a>(RowInner<'a>);

enum RowInner<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a tokio_postgres::Row),
}

/// A column index: 0-based.
pub trait RowIndex {
    /// The index.
    fn index(self) -> usize;
}

impl RowIndex for usize {
    fn index(self) -> usize {
        self
    }
}

impl Row<'_> {
    /// The value of column `idx` as a `T`.
    ///
    /// # Errors
    /// [`DbError::Conversion`] when it is not a `T`; the database's error
    /// when there is no such column.
    pub fn get<I: RowIndex, T: FromSql>(&self, idx: I) -> Result<T> {
        let idx = idx.index();
        let value = self.get_ref(idx)?;
        T::from_sql(value).map_err(|m| DbError::conversion(idx, m))
    }

    /// The value of column `idx` as it is stored.
    ///
    /// # Errors
    /// The database's error when there is no such column, or its type is
    /// one the store never uses.
    pub fn get_ref(&self, idx: usize) -> Result<ValueRef<'_>> {
        match &self.0 {
            RowInner::Sqlite(r) => sqlite::value(r, idx),
            RowInner::Postgres(r) => postgres::value(r, idx),
        }
    }
}

/// A connection to the store's database.
pub struct Connection {
    inner: Inner,
    /// What error messages name: the index file, or the database URL with
    /// its password left out.
    name: String,
    /// Open transaction and savepoint depth.
    depth: Cell<u32>,
}

enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres(postgres::PgConnection),
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("dialect", &self.dialect())
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Wraps an open SQLite connection (see `schema::open`).
    pub fn sqlite(conn: rusqlite::Connection) -> Connection {
        let name = conn.path().unwrap_or_default().to_string();
        Connection {
            inner: Inner::Sqlite(conn),
            name,
            depth: Cell::new(0),
        }
    }

    /// Wraps a PostgreSQL connection.
    pub fn postgres(conn: postgres::PgConnection) -> Connection {
        let name = conn.name().to_string();
        Connection {
            inner: Inner::Postgres(conn),
            name,
            depth: Cell::new(0),
        }
    }

    /// The database's dialect.
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            Inner::Sqlite(_) => Dialect::Sqlite,
            Inner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (`PRAGMA`, backups,
    /// traces); `None` on PostgreSQL.
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }

    /// The index file, or the database URL without its password: what
    /// error messages name.
    pub fn path(&self) -> Option<&str> {
        Some(&self.name)
    }

    /// A statement, prepared on first use and kept for the connection's
    /// life.
    ///
    /// # Errors
    /// None here; a statement that does not compile fails when it runs.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(Statement {
            conn: self,
            sql: sql.to_string(),
        })
    }

    /// [`Connection::prepare_cached`].
    ///
    /// # Errors
    /// As [`Connection::prepare_cached`].
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        self.prepare_cached(sql)
    }

    /// Runs one statement; the number of rows changed.
    ///
    /// # Errors
    /// The database's error.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        let values = params.values();
        match &self.inner {
            Inner::Sqlite(c) => sqlite::execute(c, sql, &values),
            Inner::Postgres(c) => c.execute(sql, &values, self.depth.get() > 0),
        }
    }

    /// Runs one statement returning rows, calling `f` on each, in order.
    ///
    /// # Errors
    /// The database's error, or the first error `f` returned.
    pub fn query_each<P: Params>(
        &self,
        sql: &str,
        params: P,
        mut f: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        self.query_while(sql, params, |r| f(r).map(|()| true))
    }

    /// Runs one statement returning rows, calling `f` on each in order
    /// until it returns `false`.
    ///
    /// # Errors
    /// The database's error, or the first error `f` returned.
    pub fn query_while<P: Params>(
        &self,
        sql: &str,
        params: P,
        mut f: impl FnMut(&Row<'_>) -> Result<bool>,
    ) -> Result<()> {
        let values = params.values();
        match &self.inner {
            Inner::Sqlite(c) => {
                sqlite::query_each(c, sql, &values, &mut |r| f(&Row(RowInner::Sqlite(r))))
            }
            Inner::Postgres(c) => {
                for r in c.query(sql, &values, self.depth.get() > 0)? {
                    if !f(&Row(RowInner::Postgres(&r)))? {
                        break;
                    }
                }
                Ok(())
            }
        }
    }

    /// The first row of a query, read by `f`.
    ///
    /// # Errors
    /// [`DbError::NoRows`] when there is none; else as
    /// [`Connection::query_each`].
    pub fn query_row<T, P: Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        if let Inner::Sqlite(c) = &self.inner {
            let values = params.values();
            return sqlite::query_row(c, sql, &values, |r| f(&Row(RowInner::Sqlite(r))));
        }
        let mut f = Some(f);
        let mut out = None;
        self.query_each(sql, params, |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(())
        })?;
        out.ok_or(DbError::NoRows)
    }

    /// Every row of a query, each read by `f`.
    ///
    /// # Errors
    /// As [`Connection::query_each`].
    pub fn query_vec<T, P: Params>(
        &self,
        sql: &str,
        params: P,
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query_each(sql, params, |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs several statements separated by `;`, without parameters.
    ///
    /// # Errors
    /// The database's error.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.inner {
            Inner::Sqlite(c) => c.execute_batch(sql).map_err(DbError::from),
            Inner::Postgres(c) => c.batch_execute_in(sql, self.depth.get() > 0),
        }
    }

    /// True when no transaction is open.
    pub fn is_autocommit(&self) -> bool {
        match &self.inner {
            Inner::Sqlite(c) => c.is_autocommit(),
            Inner::Postgres(_) => self.depth.get() == 0,
        }
    }

    /// Opens a transaction that takes the write lock at once (SQLite's
    /// `BEGIN IMMEDIATE`; a plain `BEGIN` on PostgreSQL, whose writers lock
    /// rows, not the database). Ends with [`Connection::commit`] or
    /// [`Connection::rollback`].
    ///
    /// # Errors
    /// The database's error (on SQLite, `database is locked` after the busy
    /// timeout).
    pub fn begin_immediate(&self) -> Result<()> {
        self.execute_batch(match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        })?;
        self.depth.set(self.depth.get() + 1);
        Ok(())
    }

    /// Commits the transaction [`Connection::begin_immediate`] opened.
    ///
    /// # Errors
    /// The database's error.
    pub fn commit(&self) -> Result<()> {
        self.execute_batch("COMMIT")?;
        self.depth.set(self.depth.get().saturating_sub(1));
        Ok(())
    }

    /// Rolls the open transaction back.
    ///
    /// # Errors
    /// The database's error.
    pub fn rollback(&self) -> Result<()> {
        self.depth.set(self.depth.get().saturating_sub(1));
        self.execute_batch("ROLLBACK")
    }

    /// A transaction (deferred on SQLite), rolled back when dropped
    /// uncommitted.
    ///
    /// # Errors
    /// The database's error.
    pub fn transaction(&self) -> Result<Transaction<'_>> {
        self.begin(false)
    }

    /// A transaction that takes SQLite's write lock at once (see
    /// [`Connection::begin_immediate`]).
    ///
    /// # Errors
    /// The database's error.
    pub fn immediate_transaction(&self) -> Result<Transaction<'_>> {
        self.begin(true)
    }

    fn begin(&self, immediate: bool) -> Result<Transaction<'_>> {
        self.open(immediate, false)
    }

    fn open(&self, immediate: bool, savepoint: bool) -> Result<Transaction<'_>> {
        // SQLite starts a transaction with a SAVEPOINT as well; PostgreSQL
        // has savepoints only inside one.
        let nested = !self.is_autocommit() || (savepoint && self.dialect() == Dialect::Sqlite);
        let name = format!("redliner_sp{}", self.depth.get());
        if nested {
            self.execute_batch(&format!("SAVEPOINT {name}"))?;
        } else if immediate {
            self.execute_batch(match self.dialect() {
                Dialect::Sqlite => "BEGIN IMMEDIATE",
                Dialect::Postgres => "BEGIN",
            })?;
        } else {
            self.execute_batch("BEGIN")?;
        }
        self.depth.set(self.depth.get() + 1);
        Ok(Transaction {
            conn: self,
            savepoint: nested.then_some(name),
            done: false,
        })
    }

    /// A savepoint: inside an open transaction, a part of it that can be
    /// rolled back alone; outside one, a transaction of its own.
    ///
    /// # Errors
    /// The database's error.
    pub fn savepoint(&self) -> Result<Transaction<'_>> {
        self.open(false, true)
    }
}

/// An open transaction or savepoint; rolled back when dropped uncommitted.
pub struct Transaction<'c> {
    conn: &'c Connection,
    savepoint: Option<String>,
    done: bool,
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Transaction<'_> {
    /// Commits (releases a savepoint).
    ///
    /// # Errors
    /// The database's error; the transaction is then rolled back.
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        let sql = match &self.savepoint {
            Some(name) => format!("RELEASE {name}"),
            None => "COMMIT".to_string(),
        };
        let result = self.conn.execute_batch(&sql);
        self.conn.depth.set(self.conn.depth.get().saturating_sub(1));
        if result.is_err() {
            self.abort();
        }
        result
    }

    fn abort(&self) {
        let sql = match &self.savepoint {
            Some(name) => format!("ROLLBACK TO {name}; RELEASE {name}"),
            None => "ROLLBACK".to_string(),
        };
        let _ = self.conn.execute_batch(&sql);
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.abort();
            self.conn.depth.set(self.conn.depth.get().saturating_sub(1));
        }
    }
}

/// A statement to run on its connection (prepared once per connection).
pub struct Statement<'c> {
    conn: &'c Connection,
    sql: String,
}

impl Statement<'_> {
    /// [`Connection::execute`].
    ///
    /// # Errors
    /// The database's error.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        self.conn.execute(&self.sql, params)
    }

    /// [`Connection::query_row`].
    ///
    /// # Errors
    /// As [`Connection::query_row`].
    pub fn query_row<T, P: Params>(
        &mut self,
        params: P,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.conn.query_row(&self.sql, params, f)
    }

    /// Every row, each read by `f`, as an iterator of results (read in
    /// whole before the first is returned).
    ///
    /// # Errors
    /// The database's error.
    pub fn query_map<T, P: Params>(
        &mut self,
        params: P,
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        let mut out = Vec::new();
        self.conn.query_each(&self.sql, params, |r| {
            out.push(f(r));
            Ok(())
        })?;
        Ok(out.into_iter())
    }

    /// [`Connection::query_while`].
    ///
    /// # Errors
    /// As [`Connection::query_while`].
    pub fn query_while<P: Params>(
        &mut self,
        params: P,
        f: impl FnMut(&Row<'_>) -> Result<bool>,
    ) -> Result<()> {
        self.conn.query_while(&self.sql, params, f)
    }

    /// True when the query returns a row.
    ///
    /// # Errors
    /// The database's error.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        let mut any = false;
        self.conn.query_while(&self.sql, params, |_| {
            any = true;
            Ok(false)
        })?;
        Ok(any)
    }
}

#[cfg(test)]
pub(crate) mod tests;
