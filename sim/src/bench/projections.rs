//! `residence bench projections`: replay into all projections beside a decode-only baseline of
//! the same records in the same run, point-in-time query latency, memory per person, and
//! snapshot write, load and start-up times, on a synthetic population in an in-memory ledger.

use std::path::PathBuf;
use std::time::Instant;

use crate::bench::projections_baseline::point_queries;
use crate::synthetic::{SyntheticConfig, generate, memory_ledger};
use anyhow::Context as _;
use residence_projections::replay::decode_only;
use residence_projections::replay_all;
use residence_snapshots::SnapshotStore;
use serde::Serialize;

use super::resident_bytes;
use crate::progress::Progress;

/// Options of `residence bench projections`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionsBenchOptions {
    /// Persons in the synthetic population.
    pub persons: u64,
    /// Decoding threads for replay.
    pub threads: usize,
    /// Seed of the synthetic population.
    pub seed: u64,
    /// Scratch directory for snapshots (emptied first); defaults to `target/bench-projections`.
    pub dir: Option<PathBuf>,
    /// Write the results as JSON to this file too.
    pub json: Option<PathBuf>,
}

/// The results (medians of three replay rounds where repeated).
#[derive(Debug, Serialize)]
pub struct ProjectionsBenchReport {
    persons: u64,
    records: u64,
    replay_records_per_s: f64,
    decode_only_records_per_s: f64,
    query_p50_us: f64,
    query_p99_us: f64,
    heap_bytes_per_person: f64,
    resident_bytes_per_person: f64,
    snapshot_write_s: f64,
    snapshot_bytes: u64,
    startup_from_snapshot_s: f64,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Runs the benchmark and prints a table.
///
/// # Errors
/// Ledger, projection and snapshot errors.
pub fn run(args: &ProjectionsBenchOptions, progress: &dyn Progress) -> anyhow::Result<()> {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/bench-projections"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    let ledger = memory_ledger().context("opening an in-memory ledger")?;
    let spinner = progress.spinner(&format!("generating {} persons", args.persons));
    let started = Instant::now();
    let summary = generate(
        &ledger,
        &SyntheticConfig {
            persons: args.persons,
            seed: args.seed,
        },
    )
    .context("generating the synthetic population")?;
    drop(spinner);
    println!(
        "synthetic: {} persons, {} households, {} records in {:.1} s",
        summary.persons,
        summary.households,
        summary.records,
        started.elapsed().as_secs_f64()
    );

    let mut replay_rates = Vec::new();
    let mut decode_rates = Vec::new();
    let mut heap_per_person = 0.0;
    let mut resident_per_person = 0.0;
    let mut last = None;
    for round in 1..=3 {
        let baseline = decode_only(&ledger, args.threads)?;
        let before = resident_bytes();
        let (projections, stats) = replay_all(&ledger, args.threads)?;
        let after = resident_bytes();
        println!(
            "round {round}: replay {:.0} records/s | decode-only baseline {:.0} records/s | {:.1}% of baseline ({} threads)",
            stats.records_per_second(),
            baseline.records_per_second(),
            stats.records_per_second() / baseline.records_per_second() * 100.0,
            args.threads
        );
        replay_rates.push(stats.records_per_second());
        decode_rates.push(baseline.records_per_second());
        if round == 1 {
            let (persons, _) = projections.sizes();
            let persons = persons.max(1) as f64;
            heap_per_person = projections.heap_bytes() as f64 / persons;
            resident_per_person = after.saturating_sub(before) as f64 / persons;
        }
        last = Some(projections);
    }
    let projections = last.context("no replay round ran")?;
    println!(
        "memory: heap estimate {heap_per_person:.0} B/person, resident growth {resident_per_person:.0} B/person"
    );
    let latency = point_queries(&projections, &ledger, 20_000, args.seed)?;
    println!(
        "point-in-time person query (in process): p50 {:.1} µs, p99 {:.1} µs ({} queries)",
        latency.p50.as_secs_f64() * 1e6,
        latency.p99.as_secs_f64() * 1e6,
        latency.queries
    );
    let store = SnapshotStore::open(&dir, 3)?;
    let written = store.write(&projections)?;
    println!(
        "snapshot write: {:.2} s, {:.1} MiB",
        written.elapsed.as_secs_f64(),
        written.bytes as f64 / (1024.0 * 1024.0)
    );
    drop(projections);
    let restored = store.restore(&ledger, args.threads)?;
    let startup = restored.load_elapsed + restored.replay.elapsed;
    println!(
        "start-up from snapshot: {:.2} s (load {:.2} s, tail {} records)",
        startup.as_secs_f64(),
        restored.load_elapsed.as_secs_f64(),
        restored.replay.records
    );

    let report = ProjectionsBenchReport {
        persons: summary.persons,
        records: summary.records,
        replay_records_per_s: median(replay_rates),
        decode_only_records_per_s: median(decode_rates),
        query_p50_us: latency.p50.as_secs_f64() * 1e6,
        query_p99_us: latency.p99.as_secs_f64() * 1e6,
        heap_bytes_per_person: heap_per_person,
        resident_bytes_per_person: resident_per_person,
        snapshot_write_s: written.elapsed.as_secs_f64(),
        snapshot_bytes: written.bytes,
        startup_from_snapshot_s: startup.as_secs_f64(),
    };
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    std::fs::remove_dir_all(&dir).with_context(|| format!("cleaning {}", dir.display()))?;
    Ok(())
}
