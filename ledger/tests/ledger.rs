//! Integration tests of the ledger above a segment store: the sequencer (chain, back-links,
//! conditions, idempotency, blinding, clock), fail-stop, corruption and torn tails, the live
//! tail, checkpoints and proofs, a property test against a reference model, the ledger
//! directory on real files and its online backup, the full-ledger crash test, the golden
//! ledger of format v1, and regression tests named after the issue that found them.
//!
//! Most tests are written once, taking a `support::Backend`, and `support::backend_tests!`
//! runs each on the memory store (`…::memory::name`) and on the file store in a temporary
//! directory (`…::file::name`), reopened from disk wherever a test reopens.
//!
//! One test is not a check but the half of another: `crash::crash_child` is the child process
//! of the crash test and returns at once unless the crash test started it.
//!
//! Environment: `RESIDENCE_CRASH_CYCLES` and `RESIDENCE_CRASH_SEED` (the crash test),
//! `RESIDENCE_WRITE_GOLDEN=1` (rewrites `tests/golden/v1/`; never set in a normal run).

#[path = "ledger/append.rs"]
mod append;
#[path = "ledger/backup.rs"]
mod backup;
#[path = "ledger/crash.rs"]
mod crash;
#[path = "ledger/directory.rs"]
mod directory;
#[path = "ledger/faults.rs"]
mod faults;
#[path = "ledger/golden.rs"]
mod golden;
#[path = "ledger/model.rs"]
mod model;
#[path = "ledger/regression.rs"]
mod regression;
#[path = "ledger/support.rs"]
mod support;
#[path = "ledger/tail.rs"]
mod tail;
