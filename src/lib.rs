//! redliner watches official web pages and tells a team, section by section,
//! what changed.
//!
//! # The pipeline
//!
//! Each stage is a value that can be printed, and each stage but the edges is a
//! pure function of its inputs:
//!
//! 1. [`config`] reads `config/redliner.toml` into [`config::Settings`] and
//!    [`target::Target`]s (extraction rules, schedules, alert channels).
//! 2. [`fetch`] gets the page over HTTP ([`fetch::Fetcher`]: timeouts, redirects,
//!    size cap, charset, conditional GET) as a [`fetch::FetchedPage`].
//! 3. [`extract`] turns its HTML into a [`document::Document`]: title, the
//!    "Last updated" [`stamp::Stamp`], and sections of blocks keyed by heading path.
//! 4. [`store`] keeps dated snapshots (files under `snapshots/` plus a SQLite
//!    index) and records every check, failures too.
//! 5. [`diff`] aligns two documents section by section into a
//!    [`revision::Revision`], classified as `revised`, `silent-edit`, `changed` or
//!    `stamp-only`.
//! 6. [`report`] renders it as a redline (terminal, Markdown, HTML, JSON, Atom);
//!    [`alerting`] and [`notify`] deliver alerts once per revision and channel.
//!
//! [`monitor`] composes the stages for one target (a content change is
//! confirmed by a second fetch before it is stored; [`layout`] tells a
//! redesign from a revision and a cut body from a whole one); [`run`] checks
//! many targets at once, one at a time per host, for `check` and `watch`;
//! [`watch`] and [`schedule`] say when each is due.
//!
//! # Example
//!
//! ```
//! use redliner::diff::{revision, DiffOptions};
//! use redliner::extract::extract;
//! use redliner::revision::{RevisionKind, SectionChange};
//! use redliner::target::Rules;
//!
//! let page = |stamp: &str, text: &str| format!(
//!     "<html><body><h1>Relations with Belarus</h1><ul><li>{stamp}</li></ul>\
//!      <main><p>NATO worked to build a partnership with Belarus for many years, \
//!      developing dialogue and practical cooperation in areas of common interest.</p>\
//!      <h2>Evolution of relations</h2><p>{text}</p></main></body></html>");
//! let mut rules = Rules::generic();
//! rules.min_text_chars = 50;
//! let old = extract(&page("Last updated: 28 Aug. 2024 11:27",
//!     "Belarus’ diplomatic mission to NATO opened in April 1998."), None, &rules)?;
//! let new = extract(&page("Last updated: 14 Nov. 2024 09:05",
//!     "Belarus’ diplomatic mission to NATO opened in April 1998 and closed in 2025."), None, &rules)?;
//!
//! let rev = revision(&old, &new, &DiffOptions::default()).expect("a change");
//! assert_eq!(rev.kind, RevisionKind::Revised);
//! assert_eq!(rev.sections.len(), 1);
//! assert_eq!(rev.sections[0].heading, "Evolution of relations");
//! assert_eq!(rev.sections[0].change, SectionChange::Modified);
//! # Ok::<(), redliner::extract::ExtractError>(())
//! ```

pub mod alerting;
pub mod archive;
pub mod backfill;
pub mod clock;
pub mod config;
pub mod diff;
pub mod document;
pub mod duration;
pub mod error;
pub mod export;
pub mod extract;
pub mod fetch;
pub mod ids;
pub mod layout;
pub mod metrics;
pub mod monitor;
pub mod normalize;
pub mod notify;
pub mod report;
pub mod revision;
pub mod run;
pub mod schedule;
pub mod section_history;
pub mod serve;
pub mod stamp;
pub mod store;
pub mod target;
pub mod watch;
