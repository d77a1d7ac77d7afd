//! The projections' integration tests: both time axes, the 2025 reorganisation on real unit
//! codes, household books, registers and counts, due lists, determinism under snapshot restarts,
//! the compact fold against the domain's fold, and following the live tail.
//!
//! Every test builds a ledger over an in-memory store with a supplied clock and appends real
//! domain events (type, version, tags and JSON payload as the API writes them), then folds it.

#![allow(
    clippy::unwrap_used,
    reason = "an integration test binary: helpers build known-good values, and a failed unwrap is a failed test"
)]

mod projections {
    pub mod support;

    mod agreement;
    mod bitemporal;
    mod determinism;
    mod due;
    mod follow;
    mod households;
    mod reorganisation;
}
