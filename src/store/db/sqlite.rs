//! The SQLite side of [`super::Connection`]: parameters bound and rows read
//! through `rusqlite`, every statement from the connection's cache.

use rusqlite::types::{ToSqlOutput, ValueRef as Lite};

use super::{DbError, Result, ValueRef};

/// A [`ValueRef`] bound through `rusqlite`.
struct Bind<'a>(ValueRef<'a>);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            ValueRef::Null => Lite::Null,
            ValueRef::Integer(i) => Lite::Integer(i),
            ValueRef::Real(f) => Lite::Real(f),
            ValueRef::Text(s) => Lite::Text(s.as_bytes()),
            ValueRef::Blob(b) => Lite::Blob(b),
        }))
    }
}

fn binds<'a>(values: &'a [ValueRef<'a>]) -> impl Iterator<Item = Bind<'a>> + 'a {
    values.iter().map(|v| Bind(*v))
}

pub(super) fn execute(
    c: &rusqlite::Connection,
    sql: &str,
    values: &[ValueRef<'_>],
) -> Result<usize> {
    Ok(c.prepare_cached(sql)?
        .execute(rusqlite::params_from_iter(binds(values)))?)
}

pub(super) fn query_each(
    c: &rusqlite::Connection,
    sql: &str,
    values: &[ValueRef<'_>],
    f: &mut dyn FnMut(&rusqlite::Row<'_>) -> Result<bool>,
) -> Result<()> {
    let mut st = c.prepare_cached(sql)?;
    let mut rows = st.query(rusqlite::params_from_iter(binds(values)))?;
    while let Some(r) = rows.next()? {
        if !f(r)? {
            break;
        }
    }
    Ok(())
}

pub(super) fn query_row<T>(
    c: &rusqlite::Connection,
    sql: &str,
    values: &[ValueRef<'_>],
    f: impl FnOnce(&rusqlite::Row<'_>) -> Result<T>,
) -> Result<T> {
    let mut st = c.prepare_cached(sql)?;
    let mut rows = st.query(rusqlite::params_from_iter(binds(values)))?;
    match rows.next()? {
        Some(r) => f(r),
        None => Err(DbError::NoRows),
    }
}

pub(super) fn value<'a>(r: &'a rusqlite::Row<'_>, idx: usize) -> Result<ValueRef<'a>> {
    Ok(match r.get_ref(idx)? {
        Lite::Null => ValueRef::Null,
        Lite::Integer(i) => ValueRef::Integer(i),
        Lite::Real(f) => ValueRef::Real(f),
        Lite::Text(t) => ValueRef::Text(
            std::str::from_utf8(t)
                .map_err(|e| DbError::conversion(idx, format!("text not UTF-8: {e}")))?,
        ),
        Lite::Blob(b) => ValueRef::Blob(b),
    })
}
