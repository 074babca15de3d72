//! The store: files under the store root (`snapshots/` by default) plus the
//! SQLite index `redliner.sqlite` there.
