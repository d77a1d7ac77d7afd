//! `residence bench population`: the whole pipeline on the realistic synthetic population of
//! `residence generate`, in one process and one run, every figure beside the physical limit or
//! baseline measured in the same run, plus the statistics cross-check of issue 5.
//!
//! Why one run: figures on this machine kind vary by 25–40% between runs, so a result is only
//! compared with limits measured next to it. Why the real generator (not the projections'
//! synthetic ledger): the benchmark must see the histories a register sees (moves, corrections,
//! late registrations, the 2025 reorganisation), recorded through the real `decide` and import.
//!
//! Phases, in order, on a scratch directory: the physical limits; generate (commands/s); import
//! (commands/s, events/s); full verification (MB/s hashed); open of the closed ledger from its
//! index cache and with the cache deleted (recovery by rebuilding the indexes); replay into all
//! projections beside a decode-only baseline; the statistics cross-check; point-in-time person
//! queries by PIN; household books; population counts; inclusion and consistency proofs. Each
//! phase reports its throughput, latency percentiles where there are many operations, the
//! resident memory after it and the process's peak so far (`VmHWM`, cumulative), and the bytes
//! on disk at the end.
//!
//! The statistics cross-check compares the projections' population on `until` with the counts
//! the generator kept in its own state (`FILE.stats.json`); see [`compare_statistics`] for the
//! one definition that differs and how it is reconciled.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{Days, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use residence_domain::timeline::AsKnown;
use residence_ledger::clock::ClockMode;
use residence_ledger::directory::{Create, DirectoryOptions, LedgerDirectory, verify_directory};
use residence_ledger::ledger::Ledger;
use residence_ledger::record::Position;
use residence_projections::population::Population;
use residence_projections::replay::decode_only;
use residence_projections::{Projections, replay_all};
use serde::Serialize;

use super::limits::Limits;
use super::{Latencies, dir_bytes, peak_resident_bytes, resident_bytes};
use crate::generate::{GenerateOptions, Stats, generate_file, stats_path};
use crate::progress::Progress;
use residence_register::import::{ImportOptions, import};

/// The key seed of the benchmark's ledger (fixed, so a run's ledger is reproducible).
pub const KEY_SEED: [u8; 32] = [7; 32];

/// The index cache file of a ledger directory (`ledger/FORMAT.md` §7).
const INDEX_CACHE: &str = "index/ledger-index.bin";

/// Options of `residence bench population`.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationBenchOptions {
    /// Persons in the initial population.
    pub persons: u64,
    /// The generator's seed.
    pub seed: u64,
    /// The last day simulated (YYYY-MM-DD).
    pub until: NaiveDate,
    /// Scratch directory (emptied first, removed at the end); defaults to
    /// `target/bench-population`.
    pub dir: Option<PathBuf>,
    /// Write the results as JSON to this file too.
    pub json: Option<PathBuf>,
    /// Point-in-time person queries and inclusion proofs to time (household books and
    /// consistency proofs: a tenth of it).
    pub queries: usize,
    /// Decoding threads for replay.
    pub threads: usize,
    /// Keep the scratch directory (command file, ledger) instead of removing it.
    pub keep: bool,
}

/// A limit or baseline a figure is compared with.
#[derive(Debug, Clone, Serialize)]
pub struct Bound {
    /// What the limit is.
    pub name: String,
    /// The figure, in the limit's unit.
    pub value: f64,
    /// The limit, in the same unit.
    pub limit: f64,
    /// `value / limit`.
    pub fraction: f64,
}

impl Bound {
    fn new(name: &str, value: f64, limit: f64) -> Bound {
        Bound {
            name: name.to_owned(),
            value,
            limit,
            fraction: if limit > 0.0 { value / limit } else { 0.0 },
        }
    }
}

/// One phase of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// Its name.
    pub name: &'static str,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Operations (or items) done.
    pub count: u64,
    /// What `count` counts.
    pub unit: &'static str,
    /// `count / seconds`.
    pub per_second: f64,
    /// Median latency of one operation, in microseconds (phases of many operations).
    pub p50_us: Option<f64>,
    /// 99th percentile, in microseconds.
    pub p99_us: Option<f64>,
    /// Slowest, in microseconds.
    pub max_us: Option<f64>,
    /// The limits and baselines of the same run.
    pub bounds: Vec<Bound>,
    /// The target of the ledger or projections issue, if one applies.
    pub target: Option<&'static str>,
    /// Extra figures of the phase (e.g. events/s beside commands/s).
    pub notes: Vec<String>,
    /// Resident memory after the phase.
    pub resident_bytes_after: u64,
    /// The process's peak resident memory so far (`VmHWM`, cumulative over the run).
    pub peak_resident_bytes: u64,
}

impl Phase {
    fn new(name: &'static str, elapsed: Duration, count: u64, unit: &'static str) -> Phase {
        let seconds = elapsed.as_secs_f64();
        Phase {
            name,
            seconds,
            count,
            unit,
            per_second: if seconds > 0.0 {
                count as f64 / seconds
            } else {
                0.0
            },
            p50_us: None,
            p99_us: None,
            max_us: None,
            bounds: Vec::new(),
            target: None,
            notes: Vec::new(),
            resident_bytes_after: resident_bytes(),
            peak_resident_bytes: peak_resident_bytes(),
        }
    }

    /// A phase of many timed operations: throughput is operations over their summed latency
    /// (one thread, no time spent choosing the next question).
    fn of_latencies(name: &'static str, latencies: &Latencies, unit: &'static str) -> Phase {
        let mut phase = Phase::new(name, latencies.total(), latencies.count() as u64, unit);
        let micros = |p: f64| latencies.percentile(p).as_secs_f64() * 1e6;
        phase.p50_us = Some(micros(50.0));
        phase.p99_us = Some(micros(99.0));
        phase.max_us = Some(micros(100.0));
        phase
    }

    fn bound(mut self, name: &str, value: f64, limit: f64) -> Phase {
        self.bounds.push(Bound::new(name, value, limit));
        self
    }

    fn target(mut self, target: &'static str) -> Phase {
        self.target = Some(target);
        self
    }

    fn note(mut self, note: String) -> Phase {
        self.notes.push(note);
        self
    }

    fn print(&self) {
        let mut line = format!(
            "{:<28} {:>12.0} {}/s ({} in {:.2} s)",
            self.name, self.per_second, self.unit, self.count, self.seconds
        );
        if let (Some(p50), Some(p99)) = (self.p50_us, self.p99_us) {
            line.push_str(&format!(", p50 {p50:.1} µs, p99 {p99:.1} µs"));
        }
        for bound in &self.bounds {
            line.push_str(&format!(
                " | {:.1}% of {}",
                bound.fraction * 100.0,
                bound.name
            ));
        }
        for note in &self.notes {
            line.push_str(&format!(" | {note}"));
        }
        line.push_str(&format!(
            " | RSS {} MiB, peak {} MiB",
            self.resident_bytes_after >> 20,
            self.peak_resident_bytes >> 20
        ));
        println!("{line}");
    }
}

/// Bytes on disk at the end of the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Disk {
    /// The NDJSON command file.
    pub command_file: u64,
    /// `FILE.stats.json`.
    pub stats_file: u64,
    /// The whole ledger directory.
    pub ledger: u64,
    /// Its segments (the log itself).
    pub segments: u64,
    /// Its Merkle tree levels (derived).
    pub tree: u64,
    /// Its index caches (derived).
    pub index: u64,
    /// Its stored checkpoints.
    pub checkpoints: u64,
    /// Segment bytes per record.
    pub segment_bytes_per_record: f64,
    /// Derived bytes (tree and index caches) per record.
    pub derived_bytes_per_record: f64,
}

/// One count on which the generator and the projections disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// Which count (`total permanent`, `province 01 temporary`, `commune 2025:00097 absent`).
    pub what: String,
    /// The generator's count.
    pub generator: u64,
    /// The projections' count.
    pub projections: u64,
}

/// The statistics cross-check.
#[derive(Debug, Clone, Serialize)]
pub struct CrossCheck {
    /// The date compared.
    pub date: NaiveDate,
    /// Persons with a permanent registration holding (generator's count).
    pub permanent: u64,
    /// Persons with a temporary registration holding.
    pub temporary: u64,
    /// Persons with a declared absence holding (placed and unplaced).
    pub absent: u64,
    /// Provinces compared.
    pub provinces: usize,
    /// Communes compared.
    pub communes: usize,
    /// Every count that differs (empty: the statistics match).
    pub differences: Vec<Difference>,
}

/// Everything the run measured.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    /// Persons asked for.
    pub persons: u64,
    /// The generator's seed.
    pub seed: u64,
    /// The last simulated day.
    pub until: NaiveDate,
    /// Command lines generated.
    pub commands: u64,
    /// Records in the ledger.
    pub records: u64,
    /// Persons and households the projections know.
    pub projection_persons: u64,
    /// Households the projections know.
    pub projection_households: u64,
    /// The ledger's head hash (hex), identical for the same persons, seed, until and key seed.
    pub head: String,
    /// The 1-, 5- and 15-minute load averages at the start and at the end.
    pub load_average: [String; 2],
    /// The physical limits measured first.
    pub limits: Limits,
    /// The phases.
    pub phases: Vec<Phase>,
    /// Bytes on disk.
    pub disk: Disk,
    /// The statistics cross-check.
    pub statistics: CrossCheck,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// Runs the suite, prints a table and writes the JSON.
///
/// # Errors
/// Generation, import, ledger and projection failures, a proof that does not verify, and
/// statistics that differ from the generator's (after the table and the JSON are written).
pub fn run(args: &PopulationBenchOptions, progress: &dyn Progress) -> anyhow::Result<()> {
    let root = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/bench-population"));
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("emptying {}", root.display()))?;
    }
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let report = measure(args, &root, progress)?;
    print_table(&report);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if !args.keep {
        std::fs::remove_dir_all(&root).with_context(|| format!("cleaning {}", root.display()))?;
    }
    let differences = &report.statistics.differences;
    if differences.is_empty() {
        println!(
            "statistics match: {} permanent, {} temporary, {} absent on {} in {} provinces and {} communes",
            report.statistics.permanent,
            report.statistics.temporary,
            report.statistics.absent,
            report.statistics.date,
            report.statistics.provinces,
            report.statistics.communes
        );
        Ok(())
    } else {
        for difference in differences.iter().take(40) {
            println!(
                "statistics differ: {}: generator {}, projections {}",
                difference.what, difference.generator, difference.projections
            );
        }
        anyhow::bail!(
            "the projections' population on {} differs from the generator's statistics in {} counts",
            report.statistics.date,
            differences.len()
        )
    }
}

/// Runs every phase in `root`.
fn measure(
    args: &PopulationBenchOptions,
    root: &Path,
    progress: &dyn Progress,
) -> anyhow::Result<SuiteReport> {
    let load_at_start = load_average();
    let limits = super::limits::measure(&root.join("limits"))?;
    super::limits::print(&limits);
    let mut phases = Vec::new();

    // Generate.
    let file = root.join("population.ndjson");
    let options = GenerateOptions {
        persons: args.persons,
        seed: args.seed,
        until: args.until,
    };
    let start = crate::generate::sim::START;
    let days = (args.until - start).num_days().max(0) as u64 + 1;
    let bar = progress.bar(days, "generating", "days");
    let started = Instant::now();
    let generated = generate_file(&options, &file, &mut |day| {
        bar.set_position((day - start).num_days().max(0) as u64 + 1);
    });
    drop(bar);
    let stats = generated.with_context(|| format!("generating {}", file.display()))?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        stats.rejections.is_empty(),
        "the generator's own commands were refused (a generator bug): {:?}",
        stats.rejections
    );
    let command_bytes = std::fs::metadata(&file).map_or(0, |m| m.len());
    let phase = Phase::new("generate", elapsed, stats.commands, "commands")
        .bound(
            "JSON encodes (one core)",
            stats.commands as f64 / elapsed.as_secs_f64(),
            limits.json_encodes_per_s,
        )
        .note(format!(
            "{} persons recorded, {:.1} MB of commands",
            stats.persons.recorded,
            command_bytes as f64 / 1e6
        ));
    phase.print();
    phases.push(phase);

    // Import.
    let data = root.join("ledger");
    let bar = progress.bar(command_bytes, "importing", "bytes");
    let started = Instant::now();
    let imported = import(
        &ImportOptions {
            file: file.clone(),
            data: data.clone(),
            key_seed: Some(KEY_SEED),
            strict: true,
        },
        &mut |bytes| bar.set_position(bytes),
    );
    drop(bar);
    let imported = imported.with_context(|| format!("importing {}", file.display()))?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        imported.size == stats.events,
        "the ledger holds {} records, the generator recorded {} events",
        imported.size,
        stats.events
    );
    let segment_bytes = dir_bytes(&data.join("segments"))?;
    let seconds = elapsed.as_secs_f64();
    let phase = Phase::new("import", elapsed, imported.recorded, "commands")
        .bound(
            "JSON decodes (one core)",
            imported.recorded as f64 / seconds,
            limits.json_decodes_per_s,
        )
        .bound(
            "sequential write",
            segment_bytes as f64 / seconds,
            limits.sequential_write_bytes_per_s,
        )
        .note(format!(
            "{:.0} events/s, {:.0} MB/s of segments",
            imported.events as f64 / seconds,
            segment_bytes as f64 / seconds / 1e6
        ));
    phase.print();
    phases.push(phase);

    // Verify.
    let bar = progress.bar(imported.size, "verifying", "records");
    let started = Instant::now();
    let verified = verify_directory(&data, &mut |position| bar.set_position(position.0));
    drop(bar);
    let (verified, _) = verified.with_context(|| format!("verifying {}", data.display()))?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        verified.records == imported.size && verified.head == imported.head,
        "verification saw {} records and head {}, the import {} and {}",
        verified.records,
        verified.head,
        imported.size,
        imported.head
    );
    let hashed_per_s = verified.bytes_hashed as f64 / elapsed.as_secs_f64();
    let phase = Phase::new("verify", elapsed, verified.records, "records")
        .bound("blake3", hashed_per_s, limits.blake3_bytes_per_s)
        .target("≥ 50% of blake3")
        .note(format!("{:.0} MB/s hashed", hashed_per_s / 1e6));
    phase.print();
    phases.push(phase);

    // Open from the index cache, then recovery without it (the indexes are rebuilt).
    let records = imported.size;
    let (phase, directory) = open_phase("open (index cache)", &data, records, progress)?;
    phase.print();
    phases.push(phase);
    drop(directory);
    let cache = data.join(INDEX_CACHE);
    anyhow::ensure!(
        cache.exists(),
        "closing the ledger wrote no index cache at {}",
        cache.display()
    );
    std::fs::remove_file(&cache).with_context(|| format!("deleting {}", cache.display()))?;
    let (phase, directory) = open_phase("open (indexes rebuilt)", &data, records, progress)?;
    phase.print();
    phases.push(phase);
    let ledger = directory.ledger();

    // Replay, beside decoding alone.
    let spinner = progress.spinner("decoding (baseline)");
    let baseline = decode_only(ledger, args.threads)?;
    drop(spinner);
    let before = resident_bytes();
    let spinner = progress.spinner("replaying");
    let (projections, replayed) = replay_all(ledger, args.threads)?;
    drop(spinner);
    let growth = resident_bytes().saturating_sub(before);
    let (persons, households) = projections.sizes();
    let phase = Phase::new("replay", replayed.elapsed, replayed.records, "records")
        .bound(
            "decode-only baseline",
            replayed.records_per_second(),
            baseline.records_per_second(),
        )
        .target("≥ 1,000,000 records/s")
        .note(format!(
            "{} threads; resident growth {:.0} B/person (≤ 1 KiB), heap {:.0} B/person",
            args.threads,
            growth as f64 / persons.max(1) as f64,
            projections.heap_bytes() as f64 / persons.max(1) as f64
        ));
    phase.print();
    phases.push(phase);

    // The statistics cross-check.
    let started = Instant::now();
    let population = projections.population_on(args.until);
    let elapsed = started.elapsed();
    let statistics = cross_check(&stats, &population);
    println!(
        "statistics on {}: {} (population query {:.0} ms)",
        args.until,
        if statistics.differences.is_empty() {
            "match".to_owned()
        } else {
            format!("{} differences", statistics.differences.len())
        },
        elapsed.as_secs_f64() * 1e3
    );

    let mut rng = StdRng::seed_from_u64(args.seed);
    let phase = person_queries(&projections, ledger, args, &mut rng, progress)?;
    phase.print();
    phases.push(phase);
    let phase = household_books(&projections, ledger, args, &mut rng, progress)?;
    phase.print();
    phases.push(phase);
    let phase = population_queries(&projections, args, &mut rng);
    phase.print();
    phases.push(phase);
    for phase in proofs(ledger, args, &mut rng, progress)? {
        phase.print();
        phases.push(phase);
    }

    let head = ledger.head();
    drop(projections);
    drop(directory);
    let disk = disk(&file, &data, records)?;
    Ok(SuiteReport {
        persons: args.persons,
        seed: args.seed,
        until: args.until,
        commands: stats.commands,
        records,
        projection_persons: persons as u64,
        projection_households: households as u64,
        head: head.hash.to_string(),
        load_average: [load_at_start, load_average()],
        limits,
        phases,
        disk,
        statistics,
    })
}

/// Opens the closed ledger in `data` and times it; reports resident bytes per record.
fn open_phase(
    name: &'static str,
    data: &Path,
    records: u64,
    progress: &dyn Progress,
) -> anyhow::Result<(Phase, LedgerDirectory)> {
    let before = resident_bytes();
    let spinner = progress.spinner(name);
    let started = Instant::now();
    let directory = LedgerDirectory::open(
        data,
        &DirectoryOptions {
            create: Create::Never,
            clock: ClockMode::Supplied,
            ..residence_register::codec::directory_options()
        },
    );
    let elapsed = started.elapsed();
    drop(spinner);
    let directory = directory.with_context(|| format!("opening {}", data.display()))?;
    anyhow::ensure!(
        directory.ledger().head().size == records,
        "the reopened ledger has {} records, not {records}",
        directory.ledger().head().size
    );
    let per_record = |bytes: u64| bytes as f64 / records.max(1) as f64;
    let growth = per_record(resident_bytes().saturating_sub(before));
    let indexes = directory.ledger().index_stats();
    let heap = per_record((indexes.tag_index_bytes + indexes.id_index_bytes) as u64);
    let phase = Phase::new(name, elapsed, records, "records")
        .target("10 M records ≤ 3 s; ≤ 100 B/record")
        .note(format!(
            "{:.2} s; index heap {heap:.0} B/record ({} tags), resident growth {growth:.0} B/record",
            elapsed.as_secs_f64(),
            indexes.tags
        ));
    Ok((phase, directory))
}

/// A random day from 2015-01-01 to `until`.
fn random_date(rng: &mut StdRng, until: NaiveDate) -> NaiveDate {
    let start = crate::generate::sim::START;
    let days = (until - start).num_days().max(0) as u64;
    start
        .checked_add_days(Days::new(rng.random_range(0..=days)))
        .unwrap_or(start)
}

/// Now half of the time, else a random position folded by `projections`.
fn random_as_known(rng: &mut StdRng, projections: &Projections) -> AsKnown {
    if rng.random_bool(0.5) {
        AsKnown::Now
    } else {
        AsKnown::AtPosition(rng.random_range(0..projections.position().max(1)))
    }
}

/// Point-in-time person questions: for a random PIN of the population, the residence on a
/// random date as known now or at a random position (PIN lookup, tag-index read, decode, fold).
fn person_queries(
    projections: &Projections,
    ledger: &Ledger,
    args: &PopulationBenchOptions,
    rng: &mut StdRng,
    progress: &dyn Progress,
) -> anyhow::Result<Phase> {
    let persons = projections.sizes().0;
    anyhow::ensure!(persons > 0, "the projections know no person");
    let bar = progress.bar(args.queries as u64, "person queries", "queries");
    let mut latencies = Latencies::default();
    let mut found = 0_u64;
    for _ in 0..args.queries {
        let Some(pin) = projections
            .person_at(rng.random_range(0..persons))
            .and_then(|person| projections.pin_of(person))
        else {
            continue;
        };
        let date = random_date(rng, args.until);
        let as_known = random_as_known(rng, projections);
        let started = Instant::now();
        let person = projections
            .person_by_pin(pin)
            .with_context(|| format!("no person holds the PIN {pin:?} the projections listed"))?;
        let answer = projections.residence_on(ledger, person, date, as_known)?;
        latencies.push(started.elapsed());
        if answer.residence.permanent.is_some() || answer.residence.temporary.is_some() {
            found += 1;
        }
        bar.inc(1);
    }
    drop(bar);
    Ok(
        Phase::of_latencies("person query by PIN", &latencies, "queries")
            .target("p99 ≤ 50 µs")
            .note(format!("{found} answers with a registration")),
    )
}

/// Household books: the book of a random person's permanent household on a random date, as
/// known now or at a random position (every member's timeline is read and folded).
fn household_books(
    projections: &Projections,
    ledger: &Ledger,
    args: &PopulationBenchOptions,
    rng: &mut StdRng,
    progress: &dyn Progress,
) -> anyhow::Result<Phase> {
    let persons = projections.sizes().0;
    let wanted = (args.queries / 10).max(1);
    let mut households = Vec::with_capacity(wanted);
    for _ in 0..wanted * 4 {
        if households.len() == wanted {
            break;
        }
        let Some(person) = projections.person_at(rng.random_range(0..persons.max(1))) else {
            continue;
        };
        let answer = projections.residence_on(ledger, person, args.until, AsKnown::Now)?;
        if let Some(membership) = answer
            .residence
            .permanent
            .and_then(|residence| residence.membership)
        {
            households.push(membership.household);
        }
    }
    let bar = progress.bar(households.len() as u64, "household books", "books");
    let mut latencies = Latencies::default();
    let mut members = 0_u64;
    for household in households {
        let date = random_date(rng, args.until);
        let as_known = random_as_known(rng, projections);
        let started = Instant::now();
        let book = projections.household_book(ledger, household, date, as_known)?;
        latencies.push(started.elapsed());
        members += book.members.len() as u64;
        bar.inc(1);
    }
    drop(bar);
    let books = latencies.count().max(1) as f64;
    Ok(
        Phase::of_latencies("household book", &latencies, "books").note(format!(
            "{:.2} members per book on its date",
            members as f64 / books
        )),
    )
}

/// Population counts by unit on random dates (and on `until`), as known now.
fn population_queries(
    projections: &Projections,
    args: &PopulationBenchOptions,
    rng: &mut StdRng,
) -> Phase {
    let mut latencies = Latencies::default();
    let mut counted = 0_u64;
    for round in 0..10 {
        let date = if round == 0 {
            args.until
        } else {
            random_date(rng, args.until)
        };
        let started = Instant::now();
        let population = projections.population_on(date);
        latencies.push(started.elapsed());
        counted += population.totals.permanent;
    }
    Phase::of_latencies("population counts", &latencies, "queries").note(format!(
        "{:.0} permanent residents counted per query",
        counted as f64 / 10.0
    ))
}

/// Inclusion proofs of random records in the whole tree, and consistency proofs between random
/// sizes: generation and verification timed apart.
fn proofs(
    ledger: &Ledger,
    args: &PopulationBenchOptions,
    rng: &mut StdRng,
    progress: &dyn Progress,
) -> anyhow::Result<Vec<Phase>> {
    let size = ledger.head().size;
    anyhow::ensure!(size > 0, "the ledger is empty");
    let root = ledger.root_at(size)?;
    let mut generated = Latencies::default();
    let mut verified = Latencies::default();
    let mut proof_bytes = 0_u64;
    let bar = progress.bar(args.queries as u64, "inclusion proofs", "proofs");
    for _ in 0..args.queries {
        let index = rng.random_range(0..size);
        let record_hash = ledger.read(Position(index))?.record_hash;
        let started = Instant::now();
        let proof = ledger.inclusion_proof(index, size)?;
        generated.push(started.elapsed());
        let started = Instant::now();
        let checked = proof.verify(&record_hash, &root);
        verified.push(started.elapsed());
        checked
            .with_context(|| format!("the inclusion proof of record {index} does not verify"))?;
        proof_bytes += proof.to_bytes().len() as u64;
        bar.inc(1);
    }
    drop(bar);
    let proofs = generated.count().max(1) as f64;
    let mut phases = vec![
        Phase::of_latencies("inclusion proof: generate", &generated, "proofs").note(format!(
            "{:.0} bytes per proof",
            proof_bytes as f64 / proofs
        )),
        Phase::of_latencies("inclusion proof: verify", &verified, "proofs"),
    ];

    let mut generated = Latencies::default();
    let mut verified = Latencies::default();
    for _ in 0..(args.queries / 10).max(1) {
        let old = rng.random_range(1..=size);
        let new = rng.random_range(old..=size);
        let (old_root, new_root) = (ledger.root_at(old)?, ledger.root_at(new)?);
        let started = Instant::now();
        let proof = ledger.consistency_proof(old, new)?;
        generated.push(started.elapsed());
        let started = Instant::now();
        let checked = proof.verify(&old_root, &new_root);
        verified.push(started.elapsed());
        checked.with_context(|| {
            format!("the consistency proof from {old} to {new} does not verify")
        })?;
    }
    phases.push(Phase::of_latencies(
        "consistency proof: generate",
        &generated,
        "proofs",
    ));
    phases.push(Phase::of_latencies(
        "consistency proof: verify",
        &verified,
        "proofs",
    ));
    Ok(phases)
}

/// Bytes on disk of the command file and the (closed) ledger.
fn disk(file: &Path, data: &Path, records: u64) -> anyhow::Result<Disk> {
    let size = |path: &Path| std::fs::metadata(path).map_or(0, |m| m.len());
    let sub = |name: &str| -> anyhow::Result<u64> {
        let path = data.join(name);
        if path.exists() {
            dir_bytes(&path).with_context(|| format!("measuring {}", path.display()))
        } else {
            Ok(0)
        }
    };
    let records = records.max(1) as f64;
    let (segments, tree, index) = (sub("segments")?, sub("tree")?, sub("index")?);
    Ok(Disk {
        command_file: size(file),
        stats_file: size(&stats_path(file)),
        ledger: dir_bytes(data).with_context(|| format!("measuring {}", data.display()))?,
        segments,
        tree,
        index,
        checkpoints: sub("checkpoints")?,
        segment_bytes_per_record: segments as f64 / records,
        derived_bytes_per_record: (tree + index) as f64 / records,
    })
}

/// The counts of one unit, by field name.
fn fields(permanent: u64, temporary: u64, absent: u64) -> [(&'static str, u64); 3] {
    [
        ("permanent", permanent),
        ("temporary", temporary),
        ("absent", absent),
    ]
}

/// Compares the rows of two keyed count tables, adding a difference per count that differs
/// (a row missing on one side counts as zeros there).
fn compare_rows(
    kind: &str,
    generator: &BTreeMap<String, [(&'static str, u64); 3]>,
    projections: &BTreeMap<String, [(&'static str, u64); 3]>,
    differences: &mut Vec<Difference>,
) {
    let zero = fields(0, 0, 0);
    let keys: std::collections::BTreeSet<&String> =
        generator.keys().chain(projections.keys()).collect();
    for key in keys {
        let ours = generator.get(key).unwrap_or(&zero);
        let theirs = projections.get(key).unwrap_or(&zero);
        for ((field, expected), (_, found)) in ours.iter().zip(theirs) {
            if expected != found {
                differences.push(Difference {
                    what: format!("{kind} {key} {field}"),
                    generator: *expected,
                    projections: *found,
                });
            }
        }
    }
}

/// Compares the projections' population on the generator's `until` with the generator's own
/// counts: totals, absences of persons registered nowhere, every province and every commune of
/// the map in force on `until`. Returns every count that differs (empty when they match).
///
/// One definition differs and is reconciled here: the projections' total of absent persons
/// includes the absences of persons registered nowhere on the date (also given apart as
/// `absent_unplaced`), while the generator's `on_until.absent` counts only the placed ones; so
/// the generator's side of that total is `on_until.absent + absent_unplaced`. Provinces and
/// communes are compared by code; a row of the projections under another map than the
/// generator's shows as a difference (its key carries the map's name).
pub fn compare_statistics(stats: &Stats, population: &Population) -> Vec<Difference> {
    let mut differences = Vec::new();
    let mut total = |what: &str, generator: u64, projections: u64| {
        if generator != projections {
            differences.push(Difference {
                what: what.to_owned(),
                generator,
                projections,
            });
        }
    };
    if population.date != stats.until {
        total(
            "date compared (days after the generator's until)",
            0,
            u64::try_from((population.date - stats.until).num_days()).unwrap_or(u64::MAX),
        );
    }
    total(
        "total permanent",
        stats.on_until.permanent,
        population.totals.permanent,
    );
    total(
        "total temporary",
        stats.on_until.temporary,
        population.totals.temporary,
    );
    total(
        "total absent (placed and unplaced)",
        stats.on_until.absent + stats.absent_unplaced,
        population.totals.absent,
    );
    total(
        "absent unplaced",
        stats.absent_unplaced,
        population.absent_unplaced,
    );

    let generator: BTreeMap<String, _> = stats
        .provinces
        .iter()
        .map(|p| {
            let c = p.counts;
            (p.code.clone(), fields(c.permanent, c.temporary, c.absent))
        })
        .collect();
    let projections: BTreeMap<String, _> = population
        .provinces
        .iter()
        .map(|p| {
            let key = if p.scheme == stats.scheme {
                p.province.to_string()
            } else {
                format!("{}:{}", p.scheme.as_str(), p.province)
            };
            let c = p.counts;
            (key, fields(c.permanent, c.temporary, c.absent))
        })
        .collect();
    compare_rows("province", &generator, &projections, &mut differences);

    let generator: BTreeMap<String, _> = stats
        .communes
        .iter()
        .map(|row| {
            let c = row.counts;
            (row.unit.clone(), fields(c.permanent, c.temporary, c.absent))
        })
        .collect();
    let projections: BTreeMap<String, _> = population
        .communes
        .iter()
        .map(|row| {
            let c = row.counts;
            (
                row.unit.to_string(),
                fields(c.permanent, c.temporary, c.absent),
            )
        })
        .collect();
    compare_rows("commune", &generator, &projections, &mut differences);
    differences
}

/// The cross-check's summary and differences.
fn cross_check(stats: &Stats, population: &Population) -> CrossCheck {
    CrossCheck {
        date: stats.until,
        permanent: stats.on_until.permanent,
        temporary: stats.on_until.temporary,
        absent: stats.on_until.absent + stats.absent_unplaced,
        provinces: stats.provinces.len(),
        communes: stats.communes.len(),
        differences: compare_statistics(stats, population),
    }
}

/// Prints the results as a Markdown table (the form `BENCHMARKS.md` shows them in).
fn print_table(report: &SuiteReport) {
    println!();
    println!(
        "population: {} persons (seed {}, until {}), {} commands, {} records, head {}",
        report.persons, report.seed, report.until, report.commands, report.records, report.head
    );
    println!();
    println!(
        "| phase | result | p50 | p99 | limit or baseline (same run) | target | RSS after | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for phase in &report.phases {
        let micros = |value: Option<f64>| value.map_or_else(String::new, |v| format!("{v:.1} µs"));
        let result = if phase.p50_us.is_some() {
            format!("{:.0} {}/s", phase.per_second, phase.unit)
        } else {
            format!(
                "{:.0} {}/s ({} in {:.2} s)",
                phase.per_second, phase.unit, phase.count, phase.seconds
            )
        };
        let bounds = phase
            .bounds
            .iter()
            .map(|bound| format!("{:.1}% of {}", bound.fraction * 100.0, bound.name))
            .collect::<Vec<_>>()
            .join("; ");
        println!(
            "| {} | {result} | {} | {} | {bounds} | {} | {} MiB | {} MiB |",
            phase.name,
            micros(phase.p50_us),
            micros(phase.p99_us),
            phase.target.unwrap_or(""),
            phase.resident_bytes_after >> 20,
            phase.peak_resident_bytes >> 20
        );
    }
    for phase in &report.phases {
        if !phase.notes.is_empty() {
            println!("{}: {}", phase.name, phase.notes.join("; "));
        }
    }
    let disk = &report.disk;
    println!(
        "disk: commands {:.1} MB, ledger {:.1} MB (segments {:.1} MB = {:.0} B/record, tree + index {:.1} MB = {:.0} B/record, checkpoints {} B)",
        disk.command_file as f64 / 1e6,
        disk.ledger as f64 / 1e6,
        disk.segments as f64 / 1e6,
        disk.segment_bytes_per_record,
        (disk.tree + disk.index) as f64 / 1e6,
        disk.derived_bytes_per_record,
        disk.checkpoints
    );
    println!(
        "load average at start {}, at end {}",
        report.load_average[0], report.load_average[1]
    );
}
