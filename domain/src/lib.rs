//! Vietnamese residence law as pure code.
//!
//! What it is: identifiers and values ([`ids`], [`pin`], [`units`], [`address`],
//! [`relationship`], [`grounds`]), the event catalogue, the commands with their `decide`
//! functions, `evolve`, the law of place ([`jurisdiction`]: which offices are competent for an
//! act, decided before `decide` runs), and the residence timeline fold shared by projections and
//! the offline court-proof verifier.
//!
//! What it is not: it does no IO, reads no clock, spawns nothing and knows nothing of the ledger
//! or of HTTP. Time and ids come in through commands and a decision context, so every decision
//! is a pure function of (state, command, context) and can be replayed and tested exactly.
//!
//! Invariants: every value type validates on construction (a `Pin`, `UnitRef`, `StreetLine`
//! that exists is well formed); text is NFC; the administrative unit data are embedded.

pub mod address;
pub mod boundary;
pub mod command;
pub mod context;
pub mod decide;
pub mod event;
pub mod event_id;
pub mod grounds;
pub mod ids;
pub mod jurisdiction;
pub mod pin;
pub mod rejection;
pub mod relationship;
pub mod rules;
pub mod state;
pub mod tag;
#[cfg(test)]
mod tidy;
pub mod timeline;
pub mod units;
