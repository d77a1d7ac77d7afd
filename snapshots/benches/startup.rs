//! The projection benchmark on a synthetic population: replay into all projections beside a
//! decode-only baseline, point-in-time query latency, memory per person, and snapshot write,
//! load and start-up times. Numbers go to `BENCHMARKS.md`; nothing here asserts a time.
//!
//! `PERSONS` (default 1,000,000), `THREADS` (default 2) and `SEED` (default 1) are read from the
//! environment.

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark binary: a failure aborts the run, and results are printed"
)]

use std::time::Instant;

use residence_projections::bench::{decode_only, point_queries, resident_bytes};
use residence_projections::replay_all;
use residence_projections::synthetic::{SyntheticConfig, generate, memory_ledger};
use residence_snapshots::SnapshotStore;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let persons = env("PERSONS", 1_000_000);
    let threads = usize::try_from(env("THREADS", 2)).unwrap();
    let seed = env("SEED", 1);
    let ledger = memory_ledger().unwrap();
    let started = Instant::now();
    let summary = generate(&ledger, &SyntheticConfig { persons, seed }).unwrap();
    println!(
        "synthetic: {} persons, {} households, {} records in {:.1} s",
        summary.persons,
        summary.households,
        summary.records,
        started.elapsed().as_secs_f64()
    );

    for round in 1..=3 {
        let baseline = decode_only(&ledger, threads).unwrap();
        let before = resident_bytes().unwrap_or(0);
        let (projections, stats) = replay_all(&ledger, threads).unwrap();
        let after = resident_bytes().unwrap_or(0);
        println!(
            "round {round}: replay {:.0} records/s ({:.2} s); decode-only baseline {:.0} records/s ({:.2} s); {} threads",
            stats.records_per_second(),
            stats.elapsed.as_secs_f64(),
            baseline.records_per_second(),
            baseline.elapsed.as_secs_f64(),
            threads
        );
        if round == 1 {
            let (persons, households) = projections.sizes();
            println!(
                "memory: heap estimate {:.0} B/person, resident growth {:.0} B/person ({persons} persons, {households} households)",
                projections.heap_bytes() as f64 / persons as f64,
                after.saturating_sub(before) as f64 / persons as f64,
            );
        }
        if round == 3 {
            let latency = point_queries(&projections, &ledger, 20_000, seed).unwrap();
            println!(
                "point-in-time query: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs ({} queries)",
                latency.p50.as_secs_f64() * 1e6,
                latency.p99.as_secs_f64() * 1e6,
                latency.max.as_secs_f64() * 1e6,
                latency.queries
            );
            let date = chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
            let counted = Instant::now();
            let population = projections.population_on(date);
            println!(
                "population on {date}: {} permanent, {} temporary, {} absent in {:.0} ms",
                population.totals.permanent,
                population.totals.temporary,
                population.totals.absent,
                counted.elapsed().as_secs_f64() * 1e3
            );
            let dir = tempfile::tempdir().unwrap();
            let store = SnapshotStore::open(dir.path(), 3).unwrap();
            let written = store.write(&projections).unwrap();
            println!(
                "snapshot write: {:.2} s, {:.1} MiB ({:.0} B/person)",
                written.elapsed.as_secs_f64(),
                mib(written.bytes),
                written.bytes as f64 / persons as f64
            );
            let bytes = std::fs::read(&written.file.path).unwrap();
            let decoding = Instant::now();
            let decoded = residence_projections::Projections::from_bytes(
                &bytes[residence_snapshots::HEADER_BYTES..],
            )
            .unwrap();
            println!(
                "state decode alone: {:.2} s (checksum over the file: {:.3} s)",
                decoding.elapsed().as_secs_f64(),
                {
                    let hashing = Instant::now();
                    std::hint::black_box(blake3::hash(&bytes));
                    hashing.elapsed().as_secs_f64()
                }
            );
            drop(decoded);
            drop(projections);
            let restored = store.restore(&ledger, threads).unwrap();
            println!(
                "start-up from snapshot: load {:.2} s, tail replay {} records in {:.3} s",
                restored.load_elapsed.as_secs_f64(),
                restored.replay.records,
                restored.replay.elapsed.as_secs_f64()
            );
        }
    }
}
