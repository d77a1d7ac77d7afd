//! Integration tests of the ledger above a segment store: the sequencer (chain, back-links,
//! conditions, idempotency, blinding, clock), fail-stop, corruption and torn tails, the live
//! tail, checkpoints and proofs, and a property test against a reference model.
//!
//! Every test builds its store through `support::make_store`, so the same tests run against
//! any backend.

#[path = "ledger/append.rs"]
mod append;
#[path = "ledger/faults.rs"]
mod faults;
#[path = "ledger/model.rs"]
mod model;
#[path = "ledger/support.rs"]
mod support;
#[path = "ledger/tail.rs"]
mod tail;
