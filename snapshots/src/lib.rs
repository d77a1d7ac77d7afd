//! Projection state persisted at a (position, head hash) pair, loaded only after the ledger
//! confirms that head, then brought up to date by replaying the tail.
//!
//! Not built yet (see the projections issue). A snapshot is a cache, never a source of truth: a
//! damaged or mismatched snapshot is skipped, not trusted.
