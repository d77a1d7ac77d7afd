//! The command line: `residence serve | verify | backup | checkpoint | bench …`.
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

/// `bench …`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The ledger: durable appends from 1/16/256 writers, bulk import, verification, open time,
    /// memory and disk per record, each beside the plain-file baseline of the same run.
    Ledger(bench::ledger::LedgerBenchArgs),
    /// The physical limits of this machine: blake3, fdatasync, sequential writes, JSON.
    Limits(DirArgs),
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
        Command::Bench(BenchCommand::Ledger(args)) => bench::ledger::run(&args),
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
