//! The benchmarks' command-line options, turned into the plain options of `residence_sim`'s
//! benchmarks (the library never sees clap).

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;
use residence_sim::bench::http::HttpBenchOptions;
use residence_sim::bench::ledger::LedgerBenchOptions;
use residence_sim::bench::projections::ProjectionsBenchOptions;
use residence_sim::bench::suite::PopulationBenchOptions;

/// Options of `residence bench ledger`.
#[derive(Debug, Args)]
pub struct LedgerBenchArgs {
    /// Scratch directory (emptied first); defaults to `target/bench-ledger`.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Concurrent writer counts for the durable-append runs.
    #[arg(long, value_delimiter = ',', default_value = "1,16,256")]
    pub writers: Vec<usize>,
    /// Seconds per durable-append run.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Records for the bulk import (and the verification of its result).
    #[arg(long, default_value_t = 2_000_000)]
    pub bulk_records: u64,
    /// Records in the ledger whose open time is measured (0 skips it).
    #[arg(long, default_value_t = 10_000_000)]
    pub open_records: u64,
    /// Payload bytes per record (an event JSON is ~320 bytes).
    #[arg(long, default_value_t = 320)]
    pub payload_bytes: usize,
    /// Write the results as JSON to this file too.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

impl From<LedgerBenchArgs> for LedgerBenchOptions {
    fn from(args: LedgerBenchArgs) -> Self {
        LedgerBenchOptions {
            dir: args.dir,
            writers: args.writers,
            seconds: args.seconds,
            bulk_records: args.bulk_records,
            open_records: args.open_records,
            payload_bytes: args.payload_bytes,
            json: args.json,
        }
    }
}

/// Options of `residence bench projections`.
#[derive(Debug, Args)]
pub struct ProjectionsBenchArgs {
    /// Persons in the synthetic population.
    #[arg(long, default_value_t = 1_000_000)]
    pub persons: u64,
    /// Decoding threads for replay.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Seed of the synthetic population.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Scratch directory for snapshots (emptied first); defaults to `target/bench-projections`.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Write the results as JSON to this file too.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

impl From<ProjectionsBenchArgs> for ProjectionsBenchOptions {
    fn from(args: ProjectionsBenchArgs) -> Self {
        ProjectionsBenchOptions {
            persons: args.persons,
            threads: args.threads,
            seed: args.seed,
            dir: args.dir,
            json: args.json,
        }
    }
}

/// Options of `residence bench http`.
#[derive(Debug, Args)]
pub struct HttpBenchArgs {
    /// Persons in the realistic population (generated and imported first).
    #[arg(long, default_value_t = 100_000)]
    pub persons: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Seconds per phase.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Scratch directory (emptied first); defaults to `target/bench-http`.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Write the results as JSON to this file too.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

impl From<HttpBenchArgs> for HttpBenchOptions {
    fn from(args: HttpBenchArgs) -> Self {
        HttpBenchOptions {
            persons: args.persons,
            clients: args.clients,
            seconds: args.seconds,
            dir: args.dir,
            json: args.json,
        }
    }
}

/// Options of `residence bench population`.
#[derive(Debug, Args)]
pub struct PopulationBenchArgs {
    /// Persons in the initial population.
    #[arg(long, default_value_t = 100_000)]
    pub persons: u64,
    /// The generator's seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// The last day simulated (YYYY-MM-DD).
    #[arg(long, default_value = "2026-11-01")]
    pub until: NaiveDate,
    /// Scratch directory (emptied first, removed at the end); defaults to
    /// `target/bench-population`.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Write the results as JSON to this file too.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Point-in-time person queries and inclusion proofs to time (household books and
    /// consistency proofs: a tenth of it).
    #[arg(long, default_value_t = 20_000)]
    pub queries: usize,
    /// Decoding threads for replay.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Keep the scratch directory (command file, ledger) instead of removing it.
    #[arg(long)]
    pub keep: bool,
}

impl From<PopulationBenchArgs> for PopulationBenchOptions {
    fn from(args: PopulationBenchArgs) -> Self {
        PopulationBenchOptions {
            persons: args.persons,
            seed: args.seed,
            until: args.until,
            dir: args.dir,
            json: args.json,
            queries: args.queries,
            threads: args.threads,
            keep: args.keep,
        }
    }
}
