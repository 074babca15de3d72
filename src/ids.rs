//! The store's row ids as types of their own: a snapshot id cannot be passed
//! where a revision id is wanted, nor an alert id where a check id is.
//!
//! Each is the integer primary key of its table (`snapshots`, `revisions`,
//! `checks`, `alerts`), read and written as that integer
//! ([`crate::store::db::ToSql`], [`crate::store::db::FromSql`]), serialized as a
//! bare JSON number (so the redline JSON keeps its shape), and printed as the
//! number (`show nato-belarus 3` names snapshot 3).

use std::fmt;

use crate::store::db::{FromSql, ToSql, ValueRef};
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
            fn to_sql(&self) -> ValueRef<'_> {
                ValueRef::Integer(self.0)
            }
        }

        impl FromSql for $name {
            fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
                i64::from_sql(value).map($name)
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
