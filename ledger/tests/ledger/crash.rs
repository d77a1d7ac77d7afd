//! The full-ledger crash test: a child process runs a ledger directory under load and is killed
//! with SIGKILL at random moments; after every kill the parent reopens the directory, checks that
//! every acknowledged record is there with its record hash, verifies the whole directory
//! (records, chain, back-links, tree, checkpoints) and appends, and the next child carries on
//! from there.
//!
//! Why a child process: only a real kill stops a writer between any two instructions, with
//! group commits in flight, segment files half-written and checkpoints half-renamed. The parent
//! side is the conformance crate's crash harness, shared with the store-level crash test.
//!
//! The child runs several writers at once (threads appending with `append_blocking`, and async
//! tasks on a runtime of their own), mixing single records under a DCB condition, batches of
//! records, resends of acknowledged records (answered as duplicates) and, now and then, a signed
//! checkpoint. After every acknowledged append it writes `ACK <position> <record hash hex>` per
//! record to its acknowledgement file (one write per append, so a line is whole or missing) and
//! then prints the harness's acknowledgement line. Only whole lines count.
//!
//! `RESIDENCE_CRASH_CYCLES` sets the number of cycles (30 by default) and `RESIDENCE_CRASH_SEED`
//! replays a run; the seed is printed.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use residence_ledger::clock::ClockMode;
use residence_ledger::directory::{Create, DirectoryOptions, LedgerDirectory, verify_directory};
use residence_ledger::keys::KeySource;
use residence_ledger::ledger::{
    AppendError, AppendOutcome, AppendRequest, Condition, Ledger, Limits, NewRecord,
};
use residence_ledger::record::{EventId, EventType, Position, SchemaVersion, Tag};
use residence_ledger::store::conformance::crash::{self, CrashPlan, Cycle};

use crate::support::{SEGMENT_BYTES_MAX, blinded_kinds};

/// Cycles of the default run.
const DEFAULT_CYCLES: u32 = 30;
/// The environment variable naming the child's acknowledgement file.
const ACK_FILE_ENV: &str = "RESIDENCE_CRASH_ACK_FILE";
/// The marker of a line of the acknowledgement file.
const ACK: &str = "ACK";
/// Writer threads in the child (besides the one driving async tasks).
const CHILD_THREADS: u64 = 3;
/// Async writer tasks in the child.
const CHILD_TASKS: u64 = 3;
/// The condition tags the writers contend on.
const CONTENDED_TAGS: u64 = 6;
/// Acknowledged records a writer keeps to resend.
const RESEND_POOL: usize = 32;

/// How every process opens the ledger: seeded keys (the directory is created by the first
/// child), the wall clock, small segments so that segment files roll during the run.
fn options() -> DirectoryOptions {
    DirectoryOptions {
        blinded_kinds: blinded_kinds(),
        key_source: KeySource::Seeded([0xC5; 32]),
        origin: Some("test.example/crash".to_owned()),
        create: Create::IfMissing,
        clock: ClockMode::wall(),
        limits: Limits::default(),
        segment_bytes_max: SEGMENT_BYTES_MAX,
    }
}

/// One writer of the child: what it sends next, and what it remembers of what was acknowledged.
struct Writer {
    random: ChaCha8Rng,
    /// Mixed into every event id: unique per child and writer.
    id_prefix: [u8; 8],
    sent: u64,
    acknowledged: Vec<NewRecord>,
}

impl Writer {
    fn new(child_seed: u64, writer: u64) -> Writer {
        let prefix = blake3::hash(format!("{child_seed}/{writer}").as_bytes());
        let mut id_prefix = [0u8; 8];
        id_prefix.copy_from_slice(&prefix.as_bytes()[..8]);
        Writer {
            random: ChaCha8Rng::seed_from_u64(child_seed ^ writer.rotate_left(32)),
            id_prefix,
            sent: 0,
            acknowledged: Vec::new(),
        }
    }

    fn new_record(&mut self, tags: &[String]) -> NewRecord {
        self.sent += 1;
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&self.id_prefix);
        id[8..].copy_from_slice(&self.sent.to_be_bytes());
        // Mostly small payloads; now and then one large enough to span sectors and fill
        // segments quickly.
        let len = if self.random.random_ratio(1, 25) {
            self.random.random_range(2_000..20_000)
        } else {
            self.random.random_range(10..600)
        };
        let filler = b'a' + self.random.random_range(0..26u8);
        let mut payload = format!(r#"{{"n":{},"text":""#, self.sent).into_bytes();
        payload.resize(len, filler);
        payload.extend_from_slice(b"\"}");
        NewRecord {
            event_id: EventId(id),
            event_type: EventType::new("CrashTestEvent").expect("valid"),
            schema_version: SchemaVersion::new(1).expect("valid"),
            tags: tags
                .iter()
                .map(|text| Tag::new(text).expect("valid tag"))
                .collect(),
            metadata: br#"{"actor":"crash-test"}"#.to_vec(),
            payload,
        }
    }

    /// The next request: a conditional single record (half the time), a batch, or a resend.
    fn next_request(&mut self, ledger: &Ledger) -> AppendRequest {
        let roll = self.random.random_range(0..100);
        if roll < 10 && !self.acknowledged.is_empty() {
            let earlier = self.random.random_range(0..self.acknowledged.len());
            return AppendRequest {
                records: vec![self.acknowledged[earlier].clone()],
                condition: None,
                recorded_at: None,
            };
        }
        if roll < 60 {
            // Decide against the head, as a command handler would: fails if another writer
            // appended a record with this tag since.
            let tag = format!("person:{}", self.random.random_range(0..CONTENDED_TAGS));
            let after = ledger.head().size.checked_sub(1).map(Position);
            let pin = format!("pin:{:012}", self.random.random_range(0..1000u64));
            let record = self.new_record(&[tag.clone(), pin]);
            return AppendRequest {
                records: vec![record],
                condition: Some(Condition {
                    tags: vec![Tag::new(&tag).expect("valid tag")],
                    after,
                }),
                recorded_at: None,
            };
        }
        let household = format!("household:{}", self.random.random_range(0..50u64));
        let count = self.random.random_range(2..=8);
        let records = (0..count)
            .map(|member| {
                let person = format!("person:{}", 100 + self.random.random_range(0..400u64));
                let tags = if member == 0 {
                    vec![household.clone()]
                } else {
                    vec![household.clone(), person]
                };
                self.new_record(&tags)
            })
            .collect();
        AppendRequest {
            records,
            condition: None,
            recorded_at: None,
        }
    }

    /// Records what an append answered; returns the acknowledgement lines to write, if any.
    fn settle(
        &mut self,
        request: AppendRequest,
        answer: Result<AppendOutcome, AppendError>,
    ) -> Option<String> {
        match answer {
            Ok(outcome) => {
                let mut lines = String::new();
                for appended in &outcome.records {
                    lines.push_str(&format!(
                        "{ACK} {} {}\n",
                        appended.position.0,
                        appended.record_hash.to_hex()
                    ));
                }
                if self.acknowledged.len() < RESEND_POOL {
                    self.acknowledged.extend(request.records);
                }
                Some(lines)
            }
            Err(AppendError::Conflict { .. }) => None,
            Err(other) => panic!("the crash child's append failed: {other}"),
        }
    }
}

/// Writes the acknowledgement lines of one append (one write), then the harness's line.
fn acknowledge(acks: &Mutex<File>, lines: &str) {
    let last = lines
        .lines()
        .filter_map(|line| line.split(' ').nth(1)?.parse::<u64>().ok())
        .max()
        .expect("an acknowledgement names a position");
    acks.lock()
        .expect("lock")
        .write_all(lines.as_bytes())
        .expect("write the acknowledgements");
    crash::acknowledge(&mut std::io::stdout().lock(), last).expect("print the acknowledgement");
}

/// Child half of `ledger_crash_cycles_lose_nothing_acknowledged`: runs writers on the ledger in
/// the directory it is given until it is killed. Returns at once when not started by it.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(crash::CHILD_ENV) else {
        return;
    };
    let ack_file = std::env::var_os(ACK_FILE_ENV).expect("the acknowledgement file is named");
    let seed: u64 = std::env::var(crash::CHILD_SEED_ENV)
        .ok()
        .and_then(|seed| seed.parse().ok())
        .expect("the child seed is given");
    let directory =
        Arc::new(LedgerDirectory::open(Path::new(&dir), &options()).expect("the ledger opens"));
    let acks = Arc::new(Mutex::new(
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(ack_file)
            .expect("the acknowledgement file opens"),
    ));
    // Any failure in any writer must end the child at once, visibly (a child that exits on its
    // own fails the test), rather than leave the other writers running until the kill.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        std::process::abort();
    }));
    for number in 0..CHILD_THREADS {
        let directory = Arc::clone(&directory);
        let acks = Arc::clone(&acks);
        std::thread::spawn(move || {
            let mut writer = Writer::new(seed, number);
            let signer = directory.signer();
            let ledger = directory.ledger();
            let mut first = true;
            loop {
                // The first writer signs a checkpoint when it starts and now and then after.
                if number == 0 && (first || writer.random.random_ratio(1, 16)) {
                    first = false;
                    ledger
                        .checkpoint(&signer)
                        .expect("the crash child checkpoints");
                }
                let request = writer.next_request(ledger);
                let answer = ledger.append_blocking(request.clone());
                if let Some(lines) = writer.settle(request, answer) {
                    acknowledge(&acks, &lines);
                }
            }
        });
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    for number in CHILD_THREADS..CHILD_THREADS + CHILD_TASKS {
        let directory = Arc::clone(&directory);
        let acks = Arc::clone(&acks);
        runtime.spawn(async move {
            let mut writer = Writer::new(seed, number);
            let ledger = directory.ledger();
            loop {
                let request = writer.next_request(ledger);
                let answer = ledger.append(request.clone()).await;
                if let Some(lines) = writer.settle(request, answer) {
                    acknowledge(&acks, &lines);
                }
            }
        });
    }
    // This thread drives the async writers until the kill.
    runtime.block_on(std::future::pending::<()>());
}

/// What the parent has learnt over the cycles.
#[derive(Default)]
struct Observed {
    /// Every acknowledged position with its record hash (hex).
    acknowledged: BTreeMap<u64, String>,
    /// Cycles whose reopening dropped a torn tail (frames, or records truncated by the ledger).
    torn: u32,
    /// Checkpoints verified after the last cycle.
    checkpoints: usize,
}

/// Reads the whole `ACK <position> <hash>` lines of an acknowledgement file.
fn read_acks(file: &Path, observed: &mut Observed) -> Result<(), String> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(format!("reading {}: {error}", file.display())),
    };
    // The last line may be cut short by the kill: only lines ending in a newline count.
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    for line in whole.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let [ACK, position, hash] = fields[..] else {
            return Err(format!("malformed acknowledgement line {line:?}"));
        };
        let position: u64 = position
            .parse()
            .map_err(|_| format!("malformed acknowledgement line {line:?}"))?;
        if let Some(earlier) = observed.acknowledged.insert(position, hash.to_owned())
            && earlier != hash
        {
            return Err(format!(
                "position {position} was acknowledged with hash {earlier} and then {hash}"
            ));
        }
    }
    Ok(())
}

/// After a kill: reopen (torn tails are repaired), find every acknowledged record with its hash,
/// append, and verify the directory.
fn check_after_kill(
    dir: &Path,
    ack_file: &Path,
    cycle: &Cycle,
    observed: &mut Observed,
) -> Result<(), String> {
    read_acks(ack_file, observed)?;
    if let Some(last) = cycle.acknowledged
        && !observed.acknowledged.contains_key(&last)
    {
        return Err(format!(
            "position {last} was acknowledged on stdout but not in the acknowledgement file"
        ));
    }
    let directory = LedgerDirectory::open(dir, &options())
        .map_err(|error| format!("reopen failed: {error:?}"))?;
    let ledger = directory.ledger();
    let size = ledger.head().size;
    if directory.store_report().torn_bytes_dropped > 0 || size < directory.store_report().records {
        observed.torn += 1;
    }
    if let Some((&last, _)) = observed.acknowledged.last_key_value()
        && last >= size
    {
        return Err(format!(
            "position {last} was acknowledged but the ledger has {size} records"
        ));
    }
    let mut from = 0;
    while from < size {
        let records = ledger
            .read_range(Position(from), Position(size))
            .map_err(|error| format!("reading from {from} failed: {error}"))?;
        for stored in &records {
            let position = stored.record.position.0;
            if let Some(hash) = observed.acknowledged.get(&position)
                && *hash != stored.record_hash.to_hex()
            {
                return Err(format!(
                    "position {position} was acknowledged with hash {hash} but holds {}",
                    stored.record_hash
                ));
            }
        }
        from += records.len() as u64;
        if records.is_empty() {
            return Err(format!("reading from {from} returned nothing"));
        }
    }

    // Appending goes on from the repaired tail, under a condition that sees the whole log.
    let tag = format!("parent:{}", cycle.number);
    let outcome = ledger
        .append_blocking(AppendRequest {
            records: vec![
                Writer::new(cycle.child_seed, u64::MAX).new_record(std::slice::from_ref(&tag)),
            ],
            condition: Some(Condition {
                tags: vec![Tag::new(&tag).expect("valid tag")],
                after: None,
            }),
            recorded_at: None,
        })
        .map_err(|error| format!("appending after reopening failed: {error}"))?;
    let appended = outcome.records[0];
    if appended.position != Position(size) {
        return Err(format!(
            "the parent's append got {:?}, not position {size}",
            appended.position
        ));
    }
    observed
        .acknowledged
        .insert(size, appended.record_hash.to_hex());
    drop(directory);

    let (report, records) = verify_directory(dir, &mut |_| {})
        .map_err(|error| format!("verification failed: {error:?}"))?;
    if (records, report.records, report.head) != (size + 1, size + 1, appended.record_hash) {
        return Err(format!(
            "verification saw {} records ending in {}, expected {} ending in {}",
            report.records,
            report.head,
            size + 1,
            appended.record_hash
        ));
    }
    observed.checkpoints = report.checkpoints;
    Ok(())
}

#[test]
fn ledger_crash_cycles_lose_nothing_acknowledged() {
    let seed = crash::seed_from_env();
    let cycles = crash::cycles_from_env(DEFAULT_CYCLES);
    println!(
        "ledger crash test: seed {seed}, {cycles} cycles; replay with {}={seed}",
        crash::SEED_ENV
    );
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let ack_file = |number: u32| -> PathBuf { temp.path().join(format!("acks-{number:05}.log")) };
    let exe = std::env::current_exe().expect("test binary");
    let plan = CrashPlan {
        cycles,
        seed,
        min_delay: Duration::ZERO,
        max_delay: Duration::from_millis(60),
    };
    let mut observed = Observed::default();
    let summary = crash::crash_cycles(
        &plan,
        &mut |number, child_seed| {
            let mut command = Command::new(&exe);
            command
                .args([
                    "--exact",
                    "crash::crash_child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(crash::CHILD_ENV, &dir)
                .env(crash::CHILD_SEED_ENV, child_seed.to_string())
                .env(ACK_FILE_ENV, ack_file(number));
            command
        },
        &mut |cycle| check_after_kill(&dir, &ack_file(cycle.number), cycle, &mut observed),
    )
    .unwrap_or_else(|error| panic!("{error}"));
    println!(
        "ledger crash test: {} cycles, {} acknowledged positions, {} records, {} torn tails \
         repaired, {} checkpoints verified",
        summary.cycles,
        observed.acknowledged.len(),
        observed
            .acknowledged
            .last_key_value()
            .map_or(0, |(last, _)| last + 1),
        observed.torn,
        observed.checkpoints,
    );
    assert_eq!(summary.cycles, cycles);
    assert!(
        summary.acknowledgements >= u64::from(cycles),
        "every cycle acknowledged something"
    );
    assert!(
        observed.acknowledged.len() as u64 > u64::from(cycles),
        "the children acknowledged records besides the parent's"
    );
    assert!(
        observed.checkpoints > 0,
        "the children's checkpoints were verified"
    );
}
