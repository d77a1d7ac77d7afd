//! `residence bench ledger`: the ledger's numbers beside the physical limits of the same run.
//!
//! Every figure is measured next to its limit in the same process, because runs on this
//! machine kind vary by 25–40% between rounds: durable appends from 1, 16 and 256 concurrent
//! writers (one record each, with a condition and a fresh id) beside a plain group-committed
//! file; bulk import beside plain writes of the same bytes and group size; verification beside
//! blake3 over one buffer; the open time of a large ledger; resident memory and bytes on disk
//! per record.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use residence_ledger::directory::{DirectoryOptions, LedgerDirectory, verify_directory};
use residence_ledger::keys::KeySource;
use residence_ledger::ledger::{AppendRequest, Condition, NewRecord};
use residence_ledger::record::{EventId, EventType, SchemaVersion, Tag};
use serde::Serialize;

use super::baseline::{PlainFileLog, bulk};
use super::{Latencies, dir_bytes, resident_bytes};
use crate::progress::Progress;

/// Options of `residence bench ledger`.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerBenchOptions {
    /// Scratch directory (emptied first); defaults to `target/bench-ledger`.
    pub dir: Option<PathBuf>,
    /// Concurrent writer counts for the durable-append runs.
    pub writers: Vec<usize>,
    /// Seconds per durable-append run.
    pub seconds: f64,
    /// Records for the bulk import (and the verification of its result).
    pub bulk_records: u64,
    /// Records in the ledger whose open time is measured (0 skips it).
    pub open_records: u64,
    /// Payload bytes per record (an event JSON is ~320 bytes).
    pub payload_bytes: usize,
    /// Write the results as JSON to this file too.
    pub json: Option<PathBuf>,
}

/// One durable-append run.
#[derive(Debug, Serialize)]
pub struct AppendRun {
    writers: usize,
    ledger_events_per_s: f64,
    ledger_p50_us: u64,
    ledger_p99_us: u64,
    baseline_events_per_s: f64,
    baseline_p50_us: u64,
    baseline_p99_us: u64,
    fraction_of_baseline: f64,
}

/// All results.
#[derive(Debug, Serialize)]
pub struct LedgerBenchReport {
    limits: super::limits::Limits,
    appends: Vec<AppendRun>,
    bulk_records: u64,
    bulk_events_per_s: f64,
    bulk_baseline_events_per_s: f64,
    bulk_fraction_of_baseline: f64,
    verify_bytes_per_s: f64,
    blake3_bytes_per_s: f64,
    verify_fraction_of_blake3: f64,
    open_records: u64,
    open_seconds: f64,
    resident_bytes_per_record: f64,
    disk_bytes_per_record: f64,
}

/// Runs the benchmark and prints a table.
///
/// # Errors
/// IO and ledger errors, with the directory at fault.
pub fn run(args: &LedgerBenchOptions, progress: &dyn Progress) -> anyhow::Result<()> {
    let root = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/bench-ledger"));
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("emptying {}", root.display()))?;
    }
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let payload = vec![b'x'; args.payload_bytes];
    let limits = super::limits::measure(&root.join("limits"))?;
    super::limits::print(&limits);

    let mut appends = Vec::new();
    for &writers in &args.writers {
        let run = runtime.block_on(append_run(&root, writers, args.seconds, &payload, progress))?;
        println!(
            "durable appends, {writers:>3} writers: ledger {:>9.0} ev/s p50 {:>5} µs p99 {:>6} µs | plain file {:>9.0} ev/s p50 {:>5} µs p99 {:>6} µs | {:>5.1}% of baseline",
            run.ledger_events_per_s,
            run.ledger_p50_us,
            run.ledger_p99_us,
            run.baseline_events_per_s,
            run.baseline_p50_us,
            run.baseline_p99_us,
            run.fraction_of_baseline * 100.0
        );
        appends.push(run);
    }

    let bulk_dir = root.join("bulk");
    let (bulk_rate, bulk_frame_bytes) =
        bulk_import(&bulk_dir, args.bulk_records, &payload, progress)?;
    let baseline_rate = bulk_baseline(&root, bulk_frame_bytes, args.bulk_records)?;
    println!(
        "bulk import of {} records: ledger {bulk_rate:.0} ev/s | plain file {baseline_rate:.0} ev/s | {:.1}% of baseline",
        args.bulk_records,
        bulk_rate / baseline_rate * 100.0
    );

    let (verify_rate, blake3_rate) = verify_run(&bulk_dir)?;
    println!(
        "verification: {:.0} MB/s hashed | blake3 over one buffer {:.0} MB/s | {:.1}% of blake3",
        verify_rate / 1e6,
        blake3_rate / 1e6,
        verify_rate / blake3_rate * 100.0
    );

    let (open_seconds, resident_per_record, disk_per_record) = if args.open_records > 0 {
        open_run(&root.join("open"), args.open_records, &payload, progress)?
    } else {
        (0.0, 0.0, 0.0)
    };
    if args.open_records > 0 {
        println!(
            "open of {} records: {open_seconds:.2} s; resident memory {resident_per_record:.1} B/record; segments on disk {disk_per_record:.1} B/record",
            args.open_records
        );
    }

    let report = LedgerBenchReport {
        limits,
        appends,
        bulk_records: args.bulk_records,
        bulk_events_per_s: bulk_rate,
        bulk_baseline_events_per_s: baseline_rate,
        bulk_fraction_of_baseline: bulk_rate / baseline_rate,
        verify_bytes_per_s: verify_rate,
        blake3_bytes_per_s: blake3_rate,
        verify_fraction_of_blake3: verify_rate / blake3_rate,
        open_records: args.open_records,
        open_seconds,
        resident_bytes_per_record: resident_per_record,
        disk_bytes_per_record: disk_per_record,
    };
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    std::fs::remove_dir_all(&root).with_context(|| format!("cleaning {}", root.display()))?;
    Ok(())
}

fn bench_options() -> DirectoryOptions {
    DirectoryOptions {
        key_source: KeySource::Seeded([7; 32]),
        ..residence_register::codec::directory_options()
    }
}

/// A record like a residence event: four tags, ~100 bytes of metadata, the given payload.
fn record(sequence: u64, payload: &[u8]) -> anyhow::Result<NewRecord> {
    let mut id = [0_u8; 16];
    id[..8].copy_from_slice(&sequence.to_le_bytes());
    id[8..].copy_from_slice(&blake3::hash(&sequence.to_le_bytes()).as_bytes()[..8]);
    let household = sequence / 4;
    Ok(NewRecord {
        event_id: EventId(id),
        event_type: EventType::new("PermanentResidenceRegistered")?,
        schema_version: SchemaVersion::new(1)?,
        tags: vec![
            Tag::new(format!("person:{sequence:016x}"))?,
            Tag::new(format!("household:{household:016x}"))?,
            Tag::new(format!("dwelling:{household:016x}"))?,
            Tag::new(format!("unit:2025:{:05}", sequence % 3321))?,
        ],
        metadata: format!(
            r#"{{"actor":"officer-{:04}","office":"CA-{:05}","request_id":"{sequence:016x}"}}"#,
            sequence % 1000,
            sequence % 3321
        )
        .into_bytes(),
        payload: payload.to_vec(),
    })
}

async fn append_run(
    root: &Path,
    writers: usize,
    seconds: f64,
    payload: &[u8],
    progress: &dyn Progress,
) -> anyhow::Result<AppendRun> {
    let dir = root.join(format!("appends-{writers}"));
    let directory = Arc::new(LedgerDirectory::open(&dir, &bench_options())?);
    let deadline = Duration::from_secs_f64(seconds);
    let frame_bytes = {
        let ledger = directory.ledger();
        ledger.append(one_request(u64::MAX - 1, payload)?).await?;
        let read = ledger.read(residence_ledger::record::Position(0))?;
        read.encode().len()
    };
    let bar = progress.spinner(&format!("ledger, {writers} writers"));
    let ledger_latencies = {
        let mut tasks = Vec::new();
        for writer in 0..writers {
            let directory = Arc::clone(&directory);
            let payload = payload.to_vec();
            let bar = bar.clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies = Latencies::default();
                let started = Instant::now();
                let mut sequence = writer as u64;
                while started.elapsed() < deadline {
                    let request = one_request(sequence, &payload)?;
                    let begun = Instant::now();
                    directory.ledger().append(request).await?;
                    latencies.push(begun.elapsed());
                    bar.inc(1);
                    sequence += writers as u64;
                }
                anyhow::Ok(latencies)
            }));
        }
        join_latencies(tasks).await?
    };
    drop(bar);
    drop(directory);

    let baseline = Arc::new(PlainFileLog::create(root)?);
    let baseline_latencies = {
        let mut tasks = Vec::new();
        for _ in 0..writers {
            let baseline = Arc::clone(&baseline);
            tasks.push(tokio::spawn(async move {
                let mut latencies = Latencies::default();
                let started = Instant::now();
                while started.elapsed() < deadline {
                    let begun = Instant::now();
                    baseline.append(vec![0x5a; frame_bytes]).await?;
                    latencies.push(begun.elapsed());
                }
                anyhow::Ok(latencies)
            }));
        }
        join_latencies(tasks).await?
    };
    let ledger_rate = ledger_latencies.count() as f64 / seconds;
    let baseline_rate = baseline_latencies.count() as f64 / seconds;
    Ok(AppendRun {
        writers,
        ledger_events_per_s: ledger_rate,
        ledger_p50_us: ledger_latencies.percentile_us(50.0),
        ledger_p99_us: ledger_latencies.percentile_us(99.0),
        baseline_events_per_s: baseline_rate,
        baseline_p50_us: baseline_latencies.percentile_us(50.0),
        baseline_p99_us: baseline_latencies.percentile_us(99.0),
        fraction_of_baseline: ledger_rate / baseline_rate,
    })
}

/// One record whose condition is "no record with my person tag yet": fresh id, fresh subject.
fn one_request(sequence: u64, payload: &[u8]) -> anyhow::Result<AppendRequest> {
    let record = record(sequence, payload)?;
    let condition = Condition {
        tags: vec![record.tags[0].clone()],
        after: None,
    };
    Ok(AppendRequest {
        records: vec![record],
        condition: Some(condition),
        recorded_at: None,
    })
}

async fn join_latencies(
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<Latencies>>>,
) -> anyhow::Result<Latencies> {
    let mut all = Latencies::default();
    for task in tasks {
        all.extend(task.await.context("a writer task panicked")??);
    }
    Ok(all)
}

const BULK_BATCH: u64 = 4096;
/// Threads preparing and submitting bulk batches.
const BULK_THREADS: usize = 4;

/// Appends `records` in batches of 4096 from four threads (so the sequencer always has the next
/// batches queued while one is being synced); returns events/s and the size of one encoded frame.
fn bulk_import(
    dir: &Path,
    records: u64,
    payload: &[u8],
    progress: &dyn Progress,
) -> anyhow::Result<(f64, usize)> {
    let directory = LedgerDirectory::open(dir, &bench_options())?;
    let ledger = directory.ledger();
    let bar = progress.bar(records, "bulk import", "records");
    let started = Instant::now();
    let next = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut threads = Vec::new();
        for _ in 0..BULK_THREADS {
            threads.push(scope.spawn(|| -> anyhow::Result<()> {
                loop {
                    let first = next.fetch_add(BULK_BATCH, std::sync::atomic::Ordering::Relaxed);
                    if first >= records {
                        return Ok(());
                    }
                    let last = (first + BULK_BATCH).min(records);
                    let batch = (first..last)
                        .map(|sequence| record(sequence, payload))
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    ledger.append_blocking(AppendRequest {
                        records: batch,
                        condition: None,
                        recorded_at: None,
                    })?;
                    bar.inc(last - first);
                }
            }));
        }
        for thread in threads {
            thread
                .join()
                .map_err(|_| anyhow::anyhow!("a bulk import thread panicked"))??;
        }
        Ok(())
    })?;
    let seconds = started.elapsed().as_secs_f64();
    drop(bar);
    let frame_bytes = ledger
        .read(residence_ledger::record::Position(0))?
        .encode()
        .len();
    directory.ledger().checkpoint(&directory.signer())?;
    Ok((records as f64 / seconds, frame_bytes))
}

fn bulk_baseline(root: &Path, frame_bytes: usize, records: u64) -> anyhow::Result<f64> {
    let group = BULK_BATCH as usize;
    let groups = usize::try_from(records / BULK_BATCH)
        .unwrap_or(usize::MAX)
        .max(1);
    let started = Instant::now();
    bulk(root, frame_bytes + 8, group, groups)?;
    Ok((group * groups) as f64 / started.elapsed().as_secs_f64())
}

/// Verifies the bulk ledger; returns bytes hashed per second, and blake3's rate over one buffer
/// of the same size (capped at 512 MiB).
fn verify_run(dir: &Path) -> anyhow::Result<(f64, f64)> {
    let started = Instant::now();
    let (report, _) = verify_directory(dir, &mut |_| {})?;
    let verify_rate = report.bytes_hashed as f64 / started.elapsed().as_secs_f64();
    let len = usize::try_from(report.bytes_hashed.min(512 << 20)).unwrap_or(512 << 20);
    let buffer = vec![0x5a_u8; len];
    let started = Instant::now();
    let digest = blake3::hash(&buffer);
    let blake3_rate = len as f64 / started.elapsed().as_secs_f64();
    std::hint::black_box(digest);
    Ok((verify_rate, blake3_rate))
}

/// Builds a ledger of `records`, closes it, and times a fresh open; also measures resident
/// memory growth per record across the open and bytes on disk per record.
fn open_run(
    dir: &Path,
    records: u64,
    payload: &[u8],
    progress: &dyn Progress,
) -> anyhow::Result<(f64, f64, f64)> {
    bulk_import(dir, records, payload, progress)?;
    let before = resident_bytes();
    let started = Instant::now();
    let directory = LedgerDirectory::open(dir, &bench_options())?;
    let seconds = started.elapsed().as_secs_f64();
    let after = resident_bytes();
    let head = directory.ledger().head();
    anyhow::ensure!(
        head.size == records,
        "reopened ledger has {} records",
        head.size
    );
    let resident = after.saturating_sub(before) as f64 / records as f64;
    drop(directory);
    // The log itself; the derived tree and index caches are reported apart.
    let disk = dir_bytes(&dir.join("segments"))? as f64 / records as f64;
    let derived =
        (dir_bytes(&dir.join("tree"))? + dir_bytes(&dir.join("index"))?) as f64 / records as f64;
    println!("derived files (tree, index caches): {derived:.1} B/record");
    Ok((seconds, resident, disk))
}
