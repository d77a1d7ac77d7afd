//! The HTTP API: the only crate that knows HTTP.
//!
//! It serves the register (`residence-register`), the projections and snapshots over axum:
//! tokens and roles ([`auth`]), the durable access log of personal-data reads
//! ([`access_log`]), and the endpoints ([`http`]). It holds no command line, no generator and
//! no benchmark: those sit above it (`residence-sim`, the `residence` binary).

pub mod access_log;
pub mod auth;
pub mod http;
