//! Read models folded from the ledger: residence per person on both time axes, household books,
//! address registers and population counts.
//!
//! Not built yet (see the projections issue). Invariant to keep when it is: every model here is a
//! pure fold of ledger records, so deleting it and replaying gives the same bytes. Nothing here
//! ever writes to the ledger.
