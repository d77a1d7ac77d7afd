//! Fault injection for the file store: make a chosen write or sync fail, or make a write short.
//!
//! Why: the store's hardest promises are about failures (fail-stop after a failed write or fsync,
//! nothing acknowledged ever lost, a torn frame dropped on the next open), and real disks do not
//! fail on demand. A [`FaultPlan`] is handed to
//! [`FileStore::open`](super::file::FileStore::open) through
//! [`FileStoreOptions::faults`](super::file::FileStoreOptions::faults); the store consults it before
//! every write and every sync (file and directory syncs alike) and obeys its verdict.
//!
//! This is test support, but it is compiled in always: the integration tests and the crash test
//! of the layers above need it, and when no plan is given (the production case) it costs one
//! `Option` check per write and per sync, which is nothing beside an fdatasync. A cargo feature
//! would make the store's code paths differ between the tests and production, which is the one
//! thing a fault test must not do.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// "Never": the value of a trigger that is not armed.
const NEVER: u64 = u64::MAX;

/// What the store must do with the write or sync it is about to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Do it normally.
    Proceed,
    /// Do not do it; fail with an injected IO error.
    Fail,
    /// Write only this many bytes of the buffer (fewer than asked), then fail with an injected IO
    /// error: a torn write. Only returned for writes.
    Short(usize),
}

/// A shared, thread-safe plan of failures, counted from the plan's creation.
///
/// Triggers (all optional, combinable):
/// - [`fail_sync`](Self::fail_sync): the n-th sync (1-based) fails, and so does every later one;
/// - [`fail_write`](Self::fail_write): the n-th write (1-based) writes only `k` bytes and fails;
/// - [`write_budget`](Self::write_budget): writes succeed until their total would exceed `bytes`;
///   the write that crosses the budget writes up to the budget and fails, and later writes fail.
///
/// Counters ([`syncs`](Self::syncs), [`writes`](Self::writes),
/// [`bytes_written`](Self::bytes_written)) let a test aim its trigger at a point it has observed.
#[derive(Debug)]
pub struct FaultPlan {
    syncs: AtomicU64,
    writes: AtomicU64,
    bytes_written: AtomicU64,
    fail_sync_at: AtomicU64,
    fail_write_at: AtomicU64,
    fail_write_keep: AtomicU64,
    write_budget: AtomicU64,
}

impl Default for FaultPlan {
    fn default() -> Self {
        Self::new()
    }
}

impl FaultPlan {
    /// A plan that injects nothing (until a trigger is armed) and only counts.
    pub fn new() -> Self {
        Self {
            syncs: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            fail_sync_at: AtomicU64::new(NEVER),
            fail_write_at: AtomicU64::new(NEVER),
            fail_write_keep: AtomicU64::new(0),
            write_budget: AtomicU64::new(NEVER),
        }
    }

    /// Arms the sync trigger: the `n`-th sync counted from the plan's creation (1-based) and every
    /// sync after it fail. `n` is absolute, so a test that has already done some syncs adds
    /// [`syncs`](Self::syncs) to aim at "the next one".
    pub fn fail_sync(&self, n: u64) -> &Self {
        self.fail_sync_at.store(n, Ordering::SeqCst);
        self
    }

    /// Arms the write trigger: the `n`-th write (1-based, absolute) writes only its first `keep`
    /// bytes and fails; every later write fails without writing.
    pub fn fail_write(&self, n: u64, keep: usize) -> &Self {
        self.fail_write_keep.store(keep as u64, Ordering::SeqCst);
        self.fail_write_at.store(n, Ordering::SeqCst);
        self
    }

    /// Arms the byte budget: writes succeed while the total bytes written stay within `bytes`.
    pub fn write_budget(&self, bytes: u64) -> &Self {
        self.write_budget.store(bytes, Ordering::SeqCst);
        self
    }

    /// The number of syncs the store has asked about so far.
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::SeqCst)
    }

    /// The number of writes the store has asked about so far.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    /// The number of bytes the plan allowed to be written so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written.load(Ordering::SeqCst)
    }

    /// Called by the store before a sync.
    pub fn before_sync(&self) -> Verdict {
        let n = self.syncs.fetch_add(1, Ordering::SeqCst) + 1;
        if n >= self.fail_sync_at.load(Ordering::SeqCst) {
            Verdict::Fail
        } else {
            Verdict::Proceed
        }
    }

    /// Called by the store before writing `len` bytes.
    pub fn before_write(&self, len: usize) -> Verdict {
        let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        let len = len as u64;
        let written = self.bytes_written.load(Ordering::SeqCst);
        let at = self.fail_write_at.load(Ordering::SeqCst);
        let mut allowed = len;
        let mut fails = false;
        if n > at {
            allowed = 0;
            fails = true;
        } else if n == at {
            allowed = allowed.min(self.fail_write_keep.load(Ordering::SeqCst));
            fails = true;
        }
        let budget = self.write_budget.load(Ordering::SeqCst);
        if budget != NEVER && written.saturating_add(len) > budget {
            allowed = allowed.min(budget.saturating_sub(written));
            fails = true;
        }
        self.bytes_written.fetch_add(allowed, Ordering::SeqCst);
        match (fails, allowed) {
            (false, _) => Verdict::Proceed,
            (true, 0) => Verdict::Fail,
            // `allowed` is below `len`, which came from a `usize`.
            (true, keep) => Verdict::Short(usize::try_from(keep).unwrap_or(usize::MAX)),
        }
    }

    /// The error the store reports for an injected failure.
    pub fn injected_error(what: &str) -> io::Error {
        io::Error::other(format!("injected fault: {what}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nth_sync_and_later_fail() {
        let plan = FaultPlan::new();
        plan.fail_sync(3);
        let verdicts: Vec<_> = (0..4).map(|_| plan.before_sync()).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Proceed,
                Verdict::Proceed,
                Verdict::Fail,
                Verdict::Fail
            ]
        );
        assert_eq!(plan.syncs(), 4);
    }

    #[test]
    fn nth_write_is_short_then_all_fail() {
        let plan = FaultPlan::new();
        plan.fail_write(2, 5);
        assert_eq!(plan.before_write(10), Verdict::Proceed);
        assert_eq!(plan.before_write(10), Verdict::Short(5));
        assert_eq!(plan.before_write(10), Verdict::Fail);
        assert_eq!(plan.bytes_written(), 15);
    }

    #[test]
    fn budget_cuts_the_crossing_write() {
        let plan = FaultPlan::new();
        plan.write_budget(25);
        assert_eq!(plan.before_write(10), Verdict::Proceed);
        assert_eq!(plan.before_write(10), Verdict::Proceed);
        assert_eq!(plan.before_write(10), Verdict::Short(5));
        assert_eq!(plan.before_write(10), Verdict::Fail);
        assert_eq!(plan.bytes_written(), 25);
    }

    #[test]
    fn unarmed_plan_only_counts() {
        let plan = FaultPlan::new();
        assert_eq!(plan.before_write(1 << 20), Verdict::Proceed);
        assert_eq!(plan.before_sync(), Verdict::Proceed);
        assert_eq!(
            (plan.writes(), plan.syncs(), plan.bytes_written()),
            (1, 1, 1 << 20)
        );
    }
}
