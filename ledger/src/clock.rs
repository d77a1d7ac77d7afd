//! The sequencer's clock: where `recorded_at` comes from.
//!
//! Why injected: `recorded_at` is hashed into every record, so a run that reads the wall clock
//! can never be reproduced byte for byte. Production uses the wall clock ([`ClockMode::Wall`]);
//! simulated histories (demo data, benchmarks, tests) use [`ClockMode::Supplied`], where every
//! append request carries its own time, so the same input gives the same bytes and hashes.
//!
//! Either way `recorded_at` never decreases along the ledger: the sequencer stamps each request
//! with `max(last, reading)` ([`Stamper`]). A wall clock that steps back (NTP) therefore holds
//! the ledger's time still until it catches up, rather than writing time backwards.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::record::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time. It may go backwards; the sequencer makes the ledger's time monotonic.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock (UTC).
#[derive(Debug, Clone, Copy, Default)]
pub struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> Timestamp {
        let micros = match SystemTime::now().duration_since(UNIX_EPOCH) {
            // Saturates in the year 294,247: the clock reads the latest time it can state.
            Ok(since) => i64::try_from(since.as_micros()).unwrap_or(i64::MAX),
            // A clock set before 1970 reads as negative microseconds.
            Err(before) => i64::try_from(before.duration().as_micros()).map_or(i64::MIN, |m| -m),
        };
        Timestamp(micros)
    }
}

/// A clock that reads a value set by hand: for tests that need a wall-clock mode with known
/// times (including a clock stepping back).
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock reading `start`.
    #[must_use]
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(start.0)))
    }

    /// Sets the reading (clones share it).
    pub fn set(&self, time: Timestamp) {
        self.0.store(time.0, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::Relaxed))
    }
}

/// Where the sequencer takes `recorded_at` from.
#[derive(Debug, Clone)]
pub enum ClockMode {
    /// Production: read this clock once per request. Requests MUST NOT carry a time.
    Wall(Arc<dyn Clock>),
    /// Simulated histories: every request MUST carry its `recorded_at`.
    Supplied,
}

impl ClockMode {
    /// The system wall clock.
    #[must_use]
    pub fn wall() -> ClockMode {
        ClockMode::Wall(Arc::new(WallClock))
    }
}

impl Default for ClockMode {
    fn default() -> ClockMode {
        ClockMode::wall()
    }
}

/// Why a request's time does not fit the clock mode. → 400 at the API (a client error), never
/// a failure of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// The ledger runs on the supplied clock and the request carries no `recorded_at`.
    #[error("this ledger runs on a supplied clock: the request must carry recorded_at")]
    TimeMissing,
    /// The ledger runs on the wall clock and the request carries a `recorded_at`.
    #[error("this ledger runs on the wall clock: the request must not carry recorded_at")]
    TimeNotAllowed,
}

/// Checks that a request's time fits the clock mode, before it is queued.
///
/// # Errors
/// [`ClockError`] when it does not.
pub fn check_request_time(mode: &ClockMode, supplied: Option<Timestamp>) -> Result<(), ClockError> {
    match (mode, supplied) {
        (ClockMode::Wall(_), None) | (ClockMode::Supplied, Some(_)) => Ok(()),
        (ClockMode::Wall(_), Some(_)) => Err(ClockError::TimeNotAllowed),
        (ClockMode::Supplied, None) => Err(ClockError::TimeMissing),
    }
}

/// Stamps requests with a never-decreasing time. Owned by the sequencer's writer thread.
#[derive(Debug)]
pub struct Stamper {
    mode: ClockMode,
    last: Timestamp,
}

impl Stamper {
    /// A stamper continuing after `last`, the `recorded_at` of the ledger's last record
    /// (`Timestamp(i64::MIN)` for an empty ledger).
    #[must_use]
    pub fn new(mode: ClockMode, last: Timestamp) -> Stamper {
        Stamper { mode, last }
    }

    /// The time for the next request: `max(last, reading)`, where the reading is the wall
    /// clock or the request's own time.
    ///
    /// # Panics
    /// With [`ClockMode::Supplied`] and no `supplied` time: [`check_request_time`] refuses such
    /// a request before it reaches the sequencer, so this is a bug, not input.
    pub fn stamp(&mut self, supplied: Option<Timestamp>) -> Timestamp {
        let reading = match &self.mode {
            ClockMode::Wall(clock) => clock.now(),
            ClockMode::Supplied => {
                supplied.expect("check_request_time refuses a supplied-clock request without time")
            }
        };
        self.last = self.last.max(reading);
        self.last
    }

    /// The last time handed out (or the starting point).
    #[must_use]
    pub fn last(&self) -> Timestamp {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supplied_time_never_decreases() {
        let mut stamper = Stamper::new(ClockMode::Supplied, Timestamp(i64::MIN));
        assert_eq!(stamper.stamp(Some(Timestamp(10))), Timestamp(10));
        assert_eq!(stamper.stamp(Some(Timestamp(5))), Timestamp(10));
        assert_eq!(stamper.stamp(Some(Timestamp(12))), Timestamp(12));
        assert_eq!(stamper.last(), Timestamp(12));
    }

    #[test]
    fn wall_clock_stepping_back_holds_time_still() {
        let clock = ManualClock::new(Timestamp(100));
        let mut stamper = Stamper::new(ClockMode::Wall(Arc::new(clock.clone())), Timestamp(50));
        assert_eq!(stamper.stamp(None), Timestamp(100));
        clock.set(Timestamp(90));
        assert_eq!(stamper.stamp(None), Timestamp(100));
        clock.set(Timestamp(101));
        assert_eq!(stamper.stamp(None), Timestamp(101));
    }

    #[test]
    fn request_time_must_fit_the_mode() {
        assert_eq!(
            check_request_time(&ClockMode::Supplied, None),
            Err(ClockError::TimeMissing)
        );
        assert_eq!(
            check_request_time(&ClockMode::wall(), Some(Timestamp(1))),
            Err(ClockError::TimeNotAllowed)
        );
        assert_eq!(
            check_request_time(&ClockMode::Supplied, Some(Timestamp(1))),
            Ok(())
        );
        assert_eq!(check_request_time(&ClockMode::wall(), None), Ok(()));
    }

    #[test]
    fn wall_clock_reads_after_2020() {
        assert!(WallClock.now() > Timestamp(1_577_836_800_000_000));
    }
}
