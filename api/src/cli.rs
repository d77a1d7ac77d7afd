//! The command line: `residence serve | verify | backup | checkpoint | generate | import | bench …`.
//!
//! Each subcommand is a thin layer over library calls; this is the only place that turns typed
//! errors into `anyhow` reports for people, with the file, position or field at fault.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use residence_ledger::directory::{Create, DirectoryOptions, LedgerDirectory, verify_directory};

use crate::{backup, bench, http, progress};

/// The residence ledger: Vietnam's residence register as a verifiable event log.
#[derive(Debug, Parser)]
#[command(name = "residence", version, about)]
pub struct Cli {
    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API on the embedded ledger in --data.
    Serve(ServeArgs),
    /// Verify every record, chain link, back-link, payload commitment, Merkle root and stored
    /// checkpoint of a ledger directory; reports the first bad position with file and offset.
    Verify(DataArgs),
    /// Copy a ledger (also while it is being served) up to its latest checkpoint into a new
    /// directory, then verify the copy on its own.
    Backup(BackupArgs),
    /// Sign and store a checkpoint of the ledger's current head, and print it.
    Checkpoint(DataArgs),
    /// Generate a deterministic synthetic population's command history (NDJSON) and its
    /// statistics (FILE.stats.json).
    Generate(GenerateArgs),
    /// Record a command file (NDJSON, see `residence_api::import`) into a ledger on the clock
    /// the file supplies.
    Import(ImportArgs),
    /// Benchmarks (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// `--data DIR`.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// The ledger directory.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
}

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The ledger directory (created on first start).
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Seconds between automatic checkpoints (when the head moved).
    #[arg(long, default_value_t = 10)]
    pub checkpoint_every_secs: u64,
}

/// Options of `backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The ledger directory to copy.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// The new directory (must not exist).
    #[arg(long)]
    pub to: PathBuf,
}

/// Options of `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Persons in the initial population.
    #[arg(long)]
    pub persons: u64,
    /// The seed of every random choice.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// The last day simulated (YYYY-MM-DD).
    #[arg(long)]
    pub until: chrono::NaiveDate,
    /// The command file to write.
    #[arg(long)]
    pub out: PathBuf,
}

/// Options of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The command file.
    pub file: PathBuf,
    /// The ledger directory (created when missing).
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Derive the keys and origin of a new ledger from this seed (64 hex digits), for
    /// byte-identical ledgers.
    #[arg(long, value_parser = parse_seed)]
    pub key_seed: Option<[u8; 32]>,
    /// Stop at the first rejected command.
    #[arg(long)]
    pub strict: bool,
}

fn parse_seed(text: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(text).map_err(|error| format!("not hexadecimal: {error}"))?;
    bytes
        .try_into()
        .map_err(|bytes: Vec<u8>| format!("must be 32 bytes (64 hex digits), got {}", bytes.len()))
}

/// `bench …`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The ledger: durable appends from 1/16/256 writers, bulk import, verification, open time,
    /// memory and disk per record, each beside the plain-file baseline of the same run.
    Ledger(bench::ledger::LedgerBenchArgs),
    /// Projections: replay beside a decode-only baseline, point-in-time queries, memory per
    /// person, snapshot write and start-up, on a synthetic population.
    Projections(bench::projections::ProjectionsBenchArgs),
    /// The physical limits of this machine: blake3, fdatasync, sequential writes, JSON.
    Limits(DirArgs),
    /// The realistic population end to end: generate, import, verify, open, replay, queries,
    /// proofs, each beside its same-run limit, and the statistics cross-check (fails when the
    /// projections' population differs from the generator's statistics).
    Population(bench::suite::PopulationBenchArgs),
}

/// `--dir DIR` for scratch files.
#[derive(Debug, Args)]
pub struct DirArgs {
    /// Scratch directory on the disk to measure.
    #[arg(long, default_value = "target/bench-limits")]
    pub dir: PathBuf,
}

/// Sets up logging on stderr (`RUST_LOG` overrides `-v`).
pub fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Runs a parsed command line.
///
/// # Errors
/// Whatever the subcommand reports, with context for people.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => http::serve(&args),
        Command::Verify(args) => verify(&args),
        Command::Backup(args) => backup::run(&args.data, &args.to),
        Command::Checkpoint(args) => checkpoint(&args),
        Command::Generate(args) => generate(&args),
        Command::Import(args) => import(&args),
        Command::Bench(BenchCommand::Ledger(args)) => bench::ledger::run(&args),
        Command::Bench(BenchCommand::Projections(args)) => bench::projections::run(&args),
        Command::Bench(BenchCommand::Population(args)) => bench::suite::run(&args),
        Command::Bench(BenchCommand::Limits(args)) => {
            let limits = bench::limits::measure(&args.dir)?;
            bench::limits::print(&limits);
            Ok(())
        }
    }
}

fn verify(args: &DataArgs) -> anyhow::Result<()> {
    let bar = progress::spinner(&format!("verifying {}", args.data.display()));
    let started = std::time::Instant::now();
    let outcome = verify_directory(&args.data, &mut |position| bar.set_position(position.0));
    bar.finish_and_clear();
    let (report, _) = outcome.with_context(|| format!("verifying {}", args.data.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "ok: {} records, {} checkpoints, {} erased payloads; root {}, head {}",
        report.records, report.checkpoints, report.erased_payloads, report.root, report.head
    );
    println!(
        "{:.1} MB hashed in {seconds:.2} s ({:.0} MB/s)",
        report.bytes_hashed as f64 / 1e6,
        report.bytes_hashed as f64 / 1e6 / seconds.max(1e-9)
    );
    Ok(())
}

fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let options = crate::generate::GenerateOptions {
        persons: args.persons,
        seed: args.seed,
        until: args.until,
    };
    let start = crate::generate::sim::START;
    let days = (args.until - start).num_days().max(0) as u64 + 1;
    let bar = progress::bar(days, &format!("generating {}", args.out.display()), "days");
    let started = std::time::Instant::now();
    let outcome = crate::generate::generate_file(&options, &args.out, &mut |day| {
        bar.set_position((day - start).num_days().max(0) as u64 + 1);
    });
    bar.finish_and_clear();
    let stats = outcome?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "ok: {} commands, {} events, {} persons recorded ({} living) in {seconds:.1} s ({:.0} commands/s); statistics in {}",
        stats.commands,
        stats.events,
        stats.persons.recorded,
        stats.persons.living,
        stats.commands as f64 / seconds.max(1e-9),
        crate::generate::stats_path(&args.out).display()
    );
    let rejected: u64 = stats.rejections.values().sum();
    if rejected > 0 {
        anyhow::bail!(
            "the generator's own commands were refused {rejected} times (a generator bug): {:?}",
            stats.rejections
        );
    }
    Ok(())
}

fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let options = crate::import::ImportOptions {
        file: args.file.clone(),
        data: args.data.clone(),
        key_seed: args.key_seed,
        strict: args.strict,
    };
    let size = crate::import::file_size(&args.file);
    let bar = progress::bar(size, &format!("importing {}", args.file.display()), "bytes");
    let started = std::time::Instant::now();
    let outcome = crate::import::import(&options, &mut |bytes| bar.set_position(bytes));
    bar.finish_and_clear();
    let report = outcome.with_context(|| format!("importing {}", args.file.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "ok: {} commands recorded ({} events, {:.0} commands/s, {:.0} events/s), {} already recorded, {} rejected; {} records, head {}",
        report.recorded,
        report.events,
        report.recorded as f64 / seconds.max(1e-9),
        report.events as f64 / seconds.max(1e-9),
        report.already_recorded,
        report.rejected,
        report.size,
        report.head
    );
    for (code, count) in &report.rejections_by_code {
        println!("rejected {count} × {code}");
    }
    for rejected in report.rejected_lines.iter().take(20) {
        println!(
            "line {}: {} ({}) rejected: {}",
            rejected.line, rejected.command, rejected.request_id, rejected.code
        );
    }
    Ok(())
}

fn checkpoint(args: &DataArgs) -> anyhow::Result<()> {
    let options = DirectoryOptions {
        create: Create::Never,
        ..DirectoryOptions::default()
    };
    let directory = LedgerDirectory::open(&args.data, &options)
        .with_context(|| format!("opening {}", args.data.display()))?;
    let note = directory
        .ledger()
        .checkpoint(&directory.signer())
        .context("signing a checkpoint")?;
    print!("{}", note.text());
    Ok(())
}
