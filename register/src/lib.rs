//! Domain events in the ledger: the application layer between the law (`residence-domain`) and
//! the log (`residence-ledger`), which know nothing of each other.
//!
//! Why a crate of its own: every way a command reaches the ledger (the HTTP API, an import of a
//! command file, the paper household books, the generator) must decide it on the same history,
//! read the same way, and write the same bytes, so a retry through the API finds what an import
//! wrote. Each of these jobs is written once, here:
//! - [`codec`]: the only conversion between domain events and ledger records (both ways);
//! - [`boundary`]: the history a command is decided on, read from a ledger at a fixed head (the
//!   two-phase read itself is the domain's [`residence_domain::boundary::read`]);
//! - [`request`]: request ids, the event ids derived from them and the request digest;
//! - [`execute`]: read, fold, check, decide and append with a condition, with bounded retries;
//! - [`memory`]: the same register in memory, for the generator and fast imports;
//! - [`import`]: command files and legacy paper household books.

pub mod boundary;
pub mod codec;
pub mod execute;
pub mod import;
pub mod memory;
pub mod request;

pub use execute::{
    BeforeAppend, CONFLICT_RETRIES_MAX, CheckedError, CommandError, CommandOutcome, CommandRequest,
    RecordedEvent, Register,
};
pub use request::{REQUEST_ID_BYTES_MAX, Recorder, RequestIds, request_digest};
