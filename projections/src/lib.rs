//! Read models folded from the ledger: residence per person on both time axes, household books,
//! address registers, population counts and officers' due lists.
//!
//! What it is: [`Projections`] holds every model at one ledger position. It is a pure fold of
//! ledger records in position order ([`Projections::apply`]); it catches up from a ledger in
//! parallel ([`Projections::catch_up`]), follows the live tail ([`SharedProjections::follow`])
//! and lets a caller wait until a position is folded (read-your-writes). Its state encodes to
//! canonical bytes ([`Projections::to_bytes`]) for snapshots.
//!
//! What it is not: it never writes to the ledger, and it is never the truth. Deleting it and
//! replaying gives the same bytes.
//!
//! Two paths to an answer:
//! - **About one person or one household** (residence on a date as known at a position or time,
//!   full history, what changed between two positions, the household book): the person's records
//!   are read through the ledger's tag index and folded by the domain's timeline
//!   (`residence_domain::timeline`), the same code the offline proof verifier runs. The models
//!   only say who exists and which PIN they hold now. See [`person`] and [`book`].
//! - **About many people at once** (address register, population counts, due lists): a compact
//!   twin of the domain's fold over facts kept in memory (see [`residence`]), as known now.

pub mod book;
mod compact;
pub mod due;
mod fact;
mod households;
pub mod models;
pub mod person;
mod persons;
pub mod population;
pub mod register;
pub mod replay;
pub mod residence;
mod spans;
mod state;

pub use compact::InternError;
pub use models::{Counters, FoldError};
pub use replay::{CatchUpError, ReplayStats, SharedProjections, WaitError, replay_all};
pub use state::{
    ApplyError, Projections, RecordMeta, STATE_VERSION, StateDecodeError, decode_record,
};
