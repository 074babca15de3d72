//! The store's row ids as types of their own: a snapshot id cannot be passed
//! where a revision id is wanted, nor an alert id where a check id is.
//!
//! Each is the SQLite `INTEGER PRIMARY KEY` of its table (`snapshots`,
//! `revisions`, `checks`, `alerts`), read and written as that integer
//! ([`rusqlite::types::ToSql`], [`rusqlite::types::FromSql`]), serialized as a
//! bare JSON number (so the redline JSON keeps its shape), and printed as the
//! number (`show nato-belarus 3` names snapshot 3).

use std::fmt;

use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            schemars::JsonSchema,
        )]
        #[serde(transparent)]
        // Inlined: the redline JSON Schema says `integer`, as it did before
        // ids had types of their own.
        #[schemars(inline)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                i64::column_result(value).map($name)
            }
        }
    };
}

row_id!(
    /// A row of `snapshots`: one stored capture of a page.
    SnapshotId
);
row_id!(
    /// A row of `revisions`: one change between two snapshots.
    RevisionId
);
row_id!(
    /// A row of `checks`: one fetch of a target, whatever its outcome.
    CheckId
);
row_id!(
    /// A row of `alerts` (the outbox): one alert to deliver.
    AlertId
);
