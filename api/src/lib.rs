//! The HTTP API and the command-line operations of the `residence` binary.
//!
//! This is the only crate that knows HTTP, the command line and the process: it wires the
//! domain, the ledger, projections and snapshots together. Library code here returns typed
//! errors; only the command-line layer (`cli`) turns them into `anyhow` reports for people.

pub mod access_log;
pub mod auth;
pub mod backup;
pub mod bench;
pub mod books;
pub mod cli;
pub mod demo;
pub mod generate;
pub mod http;
pub mod import;
pub mod progress;
pub mod register;
