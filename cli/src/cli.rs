//! The command line: `residence serve | verify | backup | checkpoint | generate | import | bench …`.
//!
//! Each subcommand is a thin layer over library calls; this is the only place that turns typed
//! errors into `anyhow` reports for people, with the file, position or field at fault.
//!
//! Hashes are printed as the signed notes write them: a Merkle root and a head (record) hash in
//! standard base64 (`ledger/FORMAT.md`), so that a root printed by `verify`, `backup` or
//! `import` can be compared with a checkpoint's line 3 as it stands.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use residence_ledger::checkpoint::{Checkpoint, SignedNote};
use residence_ledger::directory::{Create, DirectoryOptions, LedgerDirectory, verify_directory};

use residence_sim::bench;

use crate::serve::ServeArgs;

use crate::output::say;
use crate::progress::{self, Bars};

/// The residence ledger: Vietnam's residence register as a verifiable event log.
#[derive(Debug, Parser)]
#[command(
    name = "residence",
    version,
    about = "The residence ledger: Vietnam's residence register as a verifiable event log"
)]
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
    /// Serve the HTTP API on the embedded ledger in --data (with --demo: on a seeded sample in
    /// its own directory).
    Serve(ServeArgs),
    /// Bearer tokens of a data directory (stored hashed in DATA/tokens.json).
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Replay the whole ledger into the projections (checks that every record folds), print
    /// what they hold, and write a snapshot for a faster next start.
    Replay(ReplayArgs),
    /// Verify every record, chain link, back-link, payload commitment, Merkle root and stored
    /// checkpoint of a ledger directory; reports the first bad position with file and offset.
    Verify(DataArgs),
    /// Cut a torn tail that a crash left beyond the latest signed checkpoint, and print exactly
    /// what was cut; damage that a checkpoint covers is refused, never cut (FORMAT.md §6.5).
    Repair(DataArgs),
    /// Copy a ledger (also while it is being served) up to its latest checkpoint into a new
    /// directory, then verify the copy on its own.
    Backup(BackupArgs),
    /// Sign and store a checkpoint of the ledger's current head, and print the signed note as
    /// stored in DIR/checkpoints/.
    Checkpoint(DataArgs),
    /// Generate a deterministic synthetic population's command history (NDJSON) and its
    /// statistics (FILE.stats.json).
    Generate(GenerateArgs),
    /// Record a command file (NDJSON, see `residence_register::import::commands`) or, with `--format books`,
    /// legacy paper household books (`residence_register::import::books`) into a ledger, on the clock the
    /// file supplies.
    Import(ImportArgs),
    /// Benchmarks (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// The checkpoint directory of a ledger directory (`ledger/FORMAT.md`).
const CHECKPOINT_DIR: &str = "checkpoints";

/// `--data DIR`.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// The ledger directory.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
}

/// `tokens …`.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token and print it (once: only its hash is stored).
    Create(TokenCreateArgs),
    /// List the tokens (ids, roles, holders, jurisdictions; never the tokens).
    List(DataArgs),
}

/// Options of `tokens create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The data directory.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// officer, supervisor, auditor, court, admin or population-database.
    #[arg(long)]
    pub role: residence_api::auth::Role,
    /// Jurisdiction of an officer or supervisor: communes (2025:00004, legacy:00001, or a
    /// bare 2025 code) and provinces (province:01), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub units: Vec<String>,
    /// Who holds the token (a person or system; shown in the access log).
    #[arg(long)]
    pub label: String,
    /// Days until the token expires (never, when absent).
    #[arg(long)]
    pub expires_days: Option<u32>,
}

/// Options of `replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The ledger directory.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Decoding threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Do not write a snapshot.
    #[arg(long)]
    pub no_snapshot: bool,
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

/// The formats `residence import` reads (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ImportFormat {
    /// NDJSON of commands (see `residence_register::import::commands`).
    #[default]
    Commands,
    /// NDJSON of legacy paper household books, one per line (see
    /// `residence_register::import::books`).
    Books,
}

/// Options of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to import (NDJSON of commands, or of legacy household books with
    /// `--format books`).
    pub file: PathBuf,
    /// What the file holds: `commands` (see `residence_register::import::commands`) or `books`, legacy paper
    /// household books, one per line (see `residence_register::import::books`).
    #[arg(long, value_enum, default_value_t = ImportFormat::Commands)]
    pub format: ImportFormat,
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
    Ledger(crate::bench_args::LedgerBenchArgs),
    /// Projections: replay beside a decode-only baseline, point-in-time queries, memory per
    /// person, snapshot write and start-up, on a synthetic population.
    Projections(crate::bench_args::ProjectionsBenchArgs),
    /// The HTTP API on the realistic population: commands/s, person queries/s with their
    /// access-log entries durable, statistics queries/s, from concurrent keep-alive clients.
    Http(crate::bench_args::HttpBenchArgs),
    /// The physical limits of this machine: blake3, fdatasync, sequential writes, JSON.
    Limits(DirArgs),
    /// The realistic population end to end: generate, import, verify, open, replay, queries,
    /// proofs, each beside its same-run limit, and the statistics cross-check (fails when the
    /// projections' population differs from the generator's statistics).
    Population(crate::bench_args::PopulationBenchArgs),
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
        Command::Serve(args) => crate::serve::serve(&args),
        Command::Tokens(TokensCommand::Create(args)) => tokens_create(&args),
        Command::Tokens(TokensCommand::List(args)) => tokens_list(&args),
        Command::Replay(args) => replay(&args),
        Command::Verify(args) => verify(&args),
        Command::Repair(args) => repair(&args),
        Command::Backup(args) => backup(&args.data, &args.to),
        Command::Checkpoint(args) => checkpoint(&args),
        Command::Generate(args) => generate(&args),
        Command::Import(args) => import(&args),
        Command::Bench(BenchCommand::Ledger(args)) => bench::ledger::run(&args.into(), &Bars),
        Command::Bench(BenchCommand::Projections(args)) => {
            bench::projections::run(&args.into(), &Bars)
        }
        Command::Bench(BenchCommand::Http(args)) => bench::http::run(&args.into(), &Bars),
        Command::Bench(BenchCommand::Population(args)) => bench::suite::run(&args.into(), &Bars),
        Command::Bench(BenchCommand::Limits(args)) => {
            let limits = bench::limits::measure(&args.dir)?;
            bench::limits::print(&limits);
            Ok(())
        }
    }
}

fn tokens_create(args: &TokenCreateArgs) -> anyhow::Result<()> {
    if !args.data.join("ledger.json").exists() {
        anyhow::bail!(
            "{} holds no ledger (start `residence serve --data {}` once, or import, first)",
            args.data.display(),
            args.data.display()
        );
    }
    let jurisdiction =
        residence_api::auth::Jurisdiction::parse(args.units.iter().map(String::as_str))
            .context("--units")?;
    let store = residence_api::auth::TokenStore::open(&args.data)?;
    let now = residence_api::http::wall_now();
    let expires = args
        .expires_days
        .map(|days| now + chrono::Duration::days(i64::from(days)));
    let (token, record) = store.create(args.role, &args.label, jurisdiction, now, expires)?;
    say!("{token}")?;
    eprintln!(
        "token {} for {} ({}{}) stored hashed in {}; it is shown only now",
        record.id,
        record.label,
        record.role,
        if record.jurisdiction.is_empty() {
            String::new()
        } else {
            format!(", {}", record.jurisdiction.entries().join(","))
        },
        args.data.join(residence_api::auth::TOKENS_FILE).display()
    );
    Ok(())
}

fn tokens_list(args: &DataArgs) -> anyhow::Result<()> {
    let store = residence_api::auth::TokenStore::open(&args.data)?;
    for record in store.list() {
        say!(
            "{}  {:<20} {:<40} {}{}{}",
            record.id,
            record.role.as_str(),
            record.label,
            record.jurisdiction.entries().join(","),
            record
                .expires_at
                .map(|at| format!("  expires {at}"))
                .unwrap_or_default(),
            record
                .revoked_at
                .map(|at| format!("  revoked {at}"))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

fn replay(args: &ReplayArgs) -> anyhow::Result<()> {
    let options = DirectoryOptions {
        create: Create::Never,
        ..residence_register::codec::directory_options()
    };
    let directory = LedgerDirectory::open(&args.data, &options)
        .with_context(|| format!("opening {}", args.data.display()))?;
    let ledger = directory.ledger();
    let size = ledger.head().size;
    let bar = progress::bar(
        size,
        &format!("replaying {}", args.data.display()),
        "records",
    );
    let mut projections = residence_projections::Projections::new(ledger.genesis_hash());
    let started = std::time::Instant::now();
    // Fold in slices so the bar moves; each slice is a catch-up to a bound.
    let step = (size / 100).max(10_000);
    let mut to = 0;
    while to < size {
        to = (to + step).min(size);
        projections
            .catch_up_to(ledger, args.threads, to)
            .with_context(|| format!("replaying {} up to record {to}", args.data.display()))?;
        bar.set_position(to);
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let (persons, households) = projections.sizes();
    say!(
        "ok: {size} records folded in {seconds:.2} s ({:.0} records/s); {persons} persons, {households} households; head {}",
        size as f64 / seconds.max(1e-9),
        projections.head_hash().to_base64()
    )?;
    if !args.no_snapshot {
        let store = residence_snapshots::SnapshotStore::open(
            &args.data.join(residence_api::http::SNAPSHOT_DIR),
            3,
        )
        .context("opening the snapshot directory")?;
        let written = store.write(&projections).context("writing a snapshot")?;
        say!(
            "snapshot written: {} ({} bytes, {:.2} s)",
            written.file.path.display(),
            written.bytes,
            written.elapsed.as_secs_f64()
        )?;
    }
    Ok(())
}

fn verify(args: &DataArgs) -> anyhow::Result<()> {
    let bar = progress::spinner(&format!("verifying {}", args.data.display()));
    let started = std::time::Instant::now();
    let outcome = verify_directory(&args.data, &mut |position| bar.set_position(position.0));
    bar.finish_and_clear();
    let (report, _) = outcome.with_context(|| format!("verifying {}", args.data.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    say!(
        "ok: {} records, {} checkpoints, {} erased payloads; root {}, head {}",
        report.records,
        report.checkpoints,
        report.erased_payloads,
        report.root.to_base64(),
        report.head.to_base64()
    )?;
    say!(
        "{:.1} MB hashed in {seconds:.2} s ({:.0} MB/s)",
        report.bytes_hashed as f64 / 1e6,
        report.bytes_hashed as f64 / 1e6 / seconds.max(1e-9)
    )?;
    for torn in &report.torn {
        say!(
            "torn tail (not covered by a checkpoint; the next open or `residence repair` cuts it): \
             {} bytes at offset {} of {} (position {}): {}",
            torn.bytes,
            torn.offset,
            torn.file.display(),
            torn.position,
            torn.detail
        )?;
    }
    Ok(())
}

fn repair(args: &DataArgs) -> anyhow::Result<()> {
    let report = residence_ledger::directory::repair(
        &args.data,
        &residence_register::codec::directory_options(),
    )
    .with_context(|| format!("repairing {}", args.data.display()))?;
    for torn in &report.torn_frames {
        say!(
            "cut {} bytes at offset {} of {} (position {}): {}",
            torn.bytes,
            torn.offset,
            torn.file.display(),
            torn.position,
            torn.detail
        )?;
    }
    if let Some(records) = &report.torn_records {
        say!(
            "cut {} records ({} bytes) from position {}: {:?}",
            records.records,
            records.bytes,
            records.from.0,
            records.fault
        )?;
    }
    if let Some(cover) = &report.cover {
        say!("untouched: {cover}")?;
    }
    say!(
        "ok: {} records{}",
        report.records,
        if report.torn_frames.is_empty() && report.torn_records.is_none() {
            ", nothing to cut"
        } else {
            ""
        }
    )?;
    Ok(())
}

fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let options = residence_sim::generate::GenerateOptions {
        persons: args.persons,
        seed: args.seed,
        until: args.until,
    };
    let start = residence_sim::generate::sim::START;
    let days = (args.until - start).num_days().max(0) as u64 + 1;
    let bar = progress::bar(days, &format!("generating {}", args.out.display()), "days");
    let started = std::time::Instant::now();
    let outcome = residence_sim::generate::generate_file(&options, &args.out, &mut |day| {
        bar.set_position((day - start).num_days().max(0) as u64 + 1);
    });
    bar.finish_and_clear();
    let stats = outcome?;
    let seconds = started.elapsed().as_secs_f64();
    say!(
        "ok: {} commands, {} events, {} persons recorded ({} living) in {seconds:.1} s ({:.0} commands/s); statistics in {}",
        stats.commands,
        stats.events,
        stats.persons.recorded,
        stats.persons.living,
        stats.commands as f64 / seconds.max(1e-9),
        residence_sim::generate::stats_path(&args.out).display()
    )?;
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
    let options = residence_register::import::ImportOptions {
        file: args.file.clone(),
        data: args.data.clone(),
        key_seed: args.key_seed,
        strict: args.strict,
    };
    let size = residence_register::import::file_size(&args.file);
    let bar = progress::bar(size, &format!("importing {}", args.file.display()), "bytes");
    let started = std::time::Instant::now();
    let mut on_bytes = |bytes| bar.set_position(bytes);
    let outcome = match args.format {
        ImportFormat::Commands => residence_register::import::import(&options, &mut on_bytes)
            .map(|report| (report, None))
            .map_err(anyhow::Error::from),
        ImportFormat::Books => residence_register::import::import_books(&options, &mut on_bytes)
            .map(|books| {
                (
                    books.import,
                    Some((books.books, books.members, books.persons_known)),
                )
            })
            .map_err(anyhow::Error::from),
    };
    bar.finish_and_clear();
    let (report, books) = outcome.with_context(|| format!("importing {}", args.file.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some((books, members, known)) = books {
        say!(
            "{books} books with {members} members converted ({known} PINs already in the register)"
        )?;
    }
    say!(
        "ok: {} commands recorded ({} events, {:.0} commands/s, {:.0} events/s), {} already recorded, {} rejected; {} records, head {}",
        report.recorded,
        report.events,
        report.recorded as f64 / seconds.max(1e-9),
        report.events as f64 / seconds.max(1e-9),
        report.already_recorded,
        report.rejected,
        report.size,
        report.head.to_base64()
    )?;
    for (code, count) in &report.rejections_by_code {
        say!("rejected {count} × {code}")?;
    }
    for rejected in report.rejected_lines.iter().take(20) {
        say!(
            "line {}: {} ({}) rejected: {}",
            rejected.line,
            rejected.command,
            rejected.request_id,
            rejected.code
        )?;
    }
    Ok(())
}

fn checkpoint(args: &DataArgs) -> anyhow::Result<()> {
    let options = DirectoryOptions {
        create: Create::Never,
        ..residence_register::codec::directory_options()
    };
    let directory = LedgerDirectory::open(&args.data, &options)
        .with_context(|| format!("opening {}", args.data.display()))?;
    let note = directory
        .ledger()
        .checkpoint(&directory.signer())
        .context("signing a checkpoint")?;
    // What is printed is what is stored, byte for byte: the signed note in the checkpoint
    // directory (the ledger keeps the first note of a size; its time may be earlier than the
    // note just signed), never a text of our own.
    let signed =
        Checkpoint::parse_body(note.text()).context("the checkpoint just signed does not parse")?;
    let path = args
        .data
        .join(CHECKPOINT_DIR)
        .join(format!("{:020}.note", signed.size));
    let bytes = std::fs::read(&path)
        .with_context(|| format!("reading the stored checkpoint {}", path.display()))?;
    let unparsable = || format!("the stored checkpoint {} does not parse", path.display());
    let stored = SignedNote::from_bytes(&bytes).with_context(unparsable)?;
    let stored = Checkpoint::parse_body(stored.text()).with_context(unparsable)?;
    if (stored.size, stored.root) != (signed.size, signed.root) {
        anyhow::bail!(
            "the stored checkpoint {} names size {} and root {}, the tree has root {}",
            path.display(),
            stored.size,
            stored.root.to_base64(),
            signed.root.to_base64()
        );
    }
    let text = std::str::from_utf8(&bytes).context("a signed note is UTF-8")?;
    crate::output::print(text)?;
    Ok(())
}

/// `residence backup`: the ledger's online backup, with bars.
fn backup(source: &std::path::Path, target: &std::path::Path) -> anyhow::Result<()> {
    use residence_ledger::backup::BackupProgress;
    let mut copying: Option<indicatif::ProgressBar> = None;
    let mut verifying: Option<indicatif::ProgressBar> = None;
    let report = residence_ledger::backup::backup(
        source,
        target,
        residence_ledger::clock::ClockMode::wall(),
        &mut |step| match step {
            BackupProgress::Checkpointing => {}
            BackupProgress::Copying { done, total } => copying
                .get_or_insert_with(|| progress::bar(total, "copying", "records"))
                .set_position(done),
            BackupProgress::Verifying { checked, total } => {
                if let Some(bar) = copying.take() {
                    bar.finish_and_clear();
                }
                verifying
                    .get_or_insert_with(|| progress::bar(total, "verifying the copy", "records"))
                    .set_position(checked);
            }
        },
    );
    for bar in [copying, verifying].into_iter().flatten() {
        bar.finish_and_clear();
    }
    let report = report
        .with_context(|| format!("backing up {} to {}", source.display(), target.display()))?;
    say!(
        "backup of {} records to {} verified: root {}, {} checkpoints",
        report.verified.records,
        target.display(),
        report.verified.root.to_base64(),
        report.verified.checkpoints
    )?;
    Ok(())
}
