//! Where the current time comes from, so that tests and replays can fix it.

use jiff::Timestamp;

/// Where the current time comes from (so tests and replays can fix it).
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}
