//! redliner watches official web pages and tells a team, section by section,
//! what changed.

pub mod alerting;
pub mod archive;
pub mod config;
pub mod diff;
pub mod document;
pub mod error;
pub mod extract;
pub mod fetch;
pub mod monitor;
pub mod normalize;
pub mod notify;
pub mod report;
pub mod revision;
pub mod schedule;
pub mod stamp;
pub mod store;
pub mod target;
pub mod watch;
