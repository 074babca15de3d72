//! The library's one [`Error`] type: every failure a user can see, carrying what
//! they need to act (target id, URL, path, status) and a [`Error::hint`].

use crate::config::ConfigError;
use crate::extract::ExtractError;
use crate::fetch::FetchError;
use crate::store::StoreError;

/// Any failure of a redliner run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file is unusable (exit 2, nothing written).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Fetching a target failed; no snapshot was made.
    #[error("target `{target}`: {source}")]
    Fetch {
        /// Target id.
        target: String,
        /// The fetch failure.
        #[source]
        source: FetchError,
    },
    /// A page was fetched but yielded no usable document; no snapshot was made.
    #[error("target `{target}`: extracting `{url}`: {source}")]
    Extract {
        /// Target id.
        target: String,
        /// The final URL of the page.
        url: String,
        /// The extraction failure.
        #[source]
        source: ExtractError,
    },
    /// A page named on the command line without a target (`extract FILE|URL`,
    /// `diff OLD NEW` without `--target`) could not be fetched.
    #[error(transparent)]
    FetchPage(FetchError),
    /// A page named on the command line without a target yielded no usable
    /// document.
    #[error("extracting `{input}`: {source}")]
    ExtractPage {
        /// The file or URL as given.
        input: String,
        /// The extraction failure.
        #[source]
        source: ExtractError,
    },
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another run holds the store lock (exit 2, nothing written).
    #[error(transparent)]
    Locked(#[from] crate::store::lock::LockError),
    /// A file could not be read or written.
    #[error("`{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// A facility of the operating system failed outside any file: the
    /// async runtime, a signal handler, standard output, rendering into
    /// memory.
    #[error("{what}: {source}")]
    System {
        /// What was being done, e.g. `starting the async runtime`.
        what: &'static str,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// Something the user asked for does not exist (a snapshot, a target in the store).
    #[error("{0}")]
    NotFound(String),
    /// Bad command-line usage detected after parsing.
    #[error("{0}")]
    Usage(String),

    /// A web archive could not list or replay captures (`redliner backfill`).
    #[error("archive `{archive}`: {message}")]
    Archive {
        /// The archive's name.
        archive: String,
        /// What went wrong, in one line.
        message: String,
    },
}

impl Error {
    /// A short suggestion of what to do next, when there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::Locked(crate::store::lock::LockError::Busy { .. }) => Some(
                "wait for the other run to finish, or raise `settings.lock_wait`; the lock is released when its holder exits",
            ),
            // A page refused for its cost is no matter of rules: the one
            // line says what the page did.
            Error::Extract {
                source: ExtractError::TooDeep { .. } | ExtractError::TooCostly { .. },
                ..
            }
            | Error::ExtractPage {
                source: ExtractError::TooDeep { .. } | ExtractError::TooCostly { .. },
                ..
            } => None,
            Error::Extract { .. } => Some(
                "the page may be an error page or the site's markup changed; check the target's rules",
            ),
            Error::ExtractPage { .. } => Some(
                "the page may be an error page, or need a configured target's rules (`--target ID`)",
            ),
            _ => None,
        }
    }

    /// True when retrying later may succeed (network trouble, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Fetch { source, .. } if source.is_transient())
    }
}

/// Shorthand for results with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
