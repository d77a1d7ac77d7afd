//! The deterministic synthetic population and the benchmark suite.
//!
//! Why a crate of its own: the generator ([`generate`], and the small synthetic histories of
//! [`synthetic`]) and the benchmarks ([`mod@bench`]) sit on top of everything else (they drive the
//! register, the projections and the HTTP server as users would), and nothing below them may
//! depend on them. Progress is reported through [`progress::Progress`]; only the binary draws.

pub mod bench;
pub mod generate;
pub mod progress;
pub mod synthetic;
