//! Progress of long-running work, reported through a callback the caller provides.
//!
//! Why a trait and not progress bars: only the binary knows the terminal (and `indicatif`);
//! the generator and benchmarks are libraries that tests and other tools also call, where
//! nothing should be drawn. The binary passes an implementation that draws bars on stderr;
//! everyone else passes [`Silent`].

use std::sync::Arc;

/// Where a library reports its progress.
pub trait Progress: Sync {
    /// Starts a task counting `total` items of `unit` (`None` when its length is unknown). The
    /// task is finished when the last clone of the returned handle is dropped.
    fn task(&self, message: &str, total: Option<u64>, unit: &str) -> Arc<dyn Task>;
}

/// One running task of a [`Progress`].
pub trait Task: Send + Sync {
    /// Sets the number of items done.
    fn set_position(&self, done: u64);
    /// Adds `delta` items done.
    fn inc(&self, delta: u64);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn task(&self, _message: &str, _total: Option<u64>, _unit: &str) -> Arc<dyn Task> {
        Arc::new(Silent)
    }
}

impl Task for Silent {
    fn set_position(&self, _done: u64) {}
    fn inc(&self, _delta: u64) {}
}

impl dyn Progress + '_ {
    /// A task counting `total` items of `unit`.
    pub fn bar(&self, total: u64, message: &str, unit: &str) -> Arc<dyn Task> {
        self.task(message, Some(total), unit)
    }

    /// A task of unknown length.
    pub fn spinner(&self, message: &str) -> Arc<dyn Task> {
        self.task(message, None, "")
    }
}
