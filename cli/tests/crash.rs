//! `kill -9` under HTTP load, again and again: nothing the server acknowledged is ever lost, and
//! the ledger verifies after every crash.
//!
//! Each cycle starts `residence serve` on the same directory, lets concurrent clients record
//! commands over HTTP, kills the process with SIGKILL at a random moment, and then checks, with
//! no server running: `verify_directory` accepts the directory, and every answered command's
//! events are in the ledger at the positions and with the record hashes the answers gave. The
//! next cycle starts on what the crash left.
//!
//! Also here: what an operator does after a crash that left a torn tail (`verify` reports it,
//! `repair` cuts it), and that neither cuts anything a signed checkpoint covers.
//!
//! `RESIDENCE_SERVE_CRASH_CYCLES` sets the number of cycles (default 4, which CI runs; the
//! campaign of issue 11 runs 1,000), `RESIDENCE_SERVE_CRASH_SEED` the seed of the kill times.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng as _, SeedableRng as _};
use residence_ledger::directory::{Create, DirectoryOptions, LedgerDirectory, verify_directory};
use residence_ledger::record::Position;
use serde_json::Value;

mod support;

use support::{BIN, create_token, free_port, request};
/// Concurrent clients recording during a cycle.
const CLIENTS: usize = 8;

/// An answered command: the positions and record hashes of its events.
#[derive(Debug, Clone)]
struct Acknowledged {
    request_id: String,
    events: Vec<(u64, String)>,
}

fn spawn(data: &Path, addr: SocketAddr) -> Child {
    Command::new(BIN)
        .args(["serve", "--data"])
        .arg(data)
        .args([
            "--listen",
            &addr.to_string(),
            "--checkpoint-every-secs",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts")
}

async fn wait_ready(addr: SocketAddr, server: &mut Child) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if let Ok((200, _)) = request(addr, "GET", "/readyz", None, None).await {
            return;
        }
        if let Ok(Some(status)) = server.try_wait() {
            panic!("the server exited with {status} before it was ready");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server at {addr} did not become ready");
}

/// A `record_person` request whose PIN is unique to `n` (men born in Hà Nội in 1900..=1999:
/// prefix 001, century and sex digit 0, two digits of the year, six of the serial).
fn record_person(request_id: &str, n: u64) -> String {
    let year = (n / 1_000_000) % 100;
    let serial = n % 1_000_000;
    assert!(
        n < 100_000_000,
        "the crash loop records fewer than 100 million persons"
    );
    format!(
        r#"{{"request_id":"{request_id}","command":{{"person":"new","pin":"0010{year:02}{serial:06}","name":"Nguyễn Văn Thử","birth_date":"19{year:02}-01-01","sex":"male"}}}}"#
    )
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {text:?}")),
        Err(_) => default,
    }
}

/// Every acknowledged event is in the ledger, where and as its answer said.
fn check_acknowledged(data: &Path, acknowledged: &[Acknowledged], cycle: u64) {
    let directory = LedgerDirectory::open(
        data,
        &DirectoryOptions {
            create: Create::Never,
            ..residence_register::codec::directory_options()
        },
    )
    .unwrap_or_else(|error| panic!("cycle {cycle}: the ledger does not open: {error:#?}"));
    let ledger = directory.ledger();
    for answered in acknowledged {
        for (position, hash) in &answered.events {
            let stored = ledger.read(Position(*position)).unwrap_or_else(|error| {
                panic!(
                    "cycle {cycle}: {} was acknowledged at {position} but is lost: {error}",
                    answered.request_id
                )
            });
            assert_eq!(
                &stored.record_hash.to_string(),
                hash,
                "cycle {cycle}: {} was acknowledged at {position} with another record",
                answered.request_id
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_across_kill_9_under_http_load() {
    let cycles = env_number("RESIDENCE_SERVE_CRASH_CYCLES", 4);
    let seed = env_number("RESIDENCE_SERVE_CRASH_SEED", 11);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    // The directory and a token for the population database's feed.
    let addr = free_port();
    let mut first = spawn(&data, addr);
    wait_ready(addr, &mut first).await;
    let token = Arc::new(create_token(&data, "population-database"));
    first.kill().expect("SIGKILL");
    first.wait().expect("the server is reaped");
    let mut acknowledged: Vec<Acknowledged> = Vec::new();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for cycle in 0..cycles {
        let addr = free_port();
        let mut server = spawn(&data, addr);
        wait_ready(addr, &mut server).await;
        let answered = Arc::new(Mutex::new(Vec::new()));
        let mut clients = Vec::new();
        for client in 0..CLIENTS {
            let token = Arc::clone(&token);
            let answered = Arc::clone(&answered);
            let next = Arc::clone(&next);
            clients.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let request_id = format!("crash-{cycle}-{client}-{n}");
                    let body = record_person(&request_id, n);
                    match request(
                        addr,
                        "POST",
                        "/v1/commands/record_person",
                        Some(&token),
                        Some(&body),
                    )
                    .await
                    {
                        Ok((201, answer)) => {
                            let answer: Value =
                                serde_json::from_str(&answer).expect("an answer is JSON");
                            let events = answer["events"]
                                .as_array()
                                .expect("events")
                                .iter()
                                .map(|event| {
                                    (
                                        event["position"].as_u64().expect("a position"),
                                        event["record_hash"]
                                            .as_str()
                                            .expect("a record hash")
                                            .to_owned(),
                                    )
                                })
                                .collect();
                            answered
                                .lock()
                                .expect("not poisoned")
                                .push(Acknowledged { request_id, events });
                        }
                        Ok((status, answer)) => {
                            // A 503 while the server dies is fine; anything else is a bug.
                            assert!(status == 503, "cycle {cycle}: {status} {answer}");
                        }
                        // The server was killed: the request was not acknowledged.
                        Err(_) => return,
                    }
                }
            }));
        }
        let run = Duration::from_millis(rng.random_range(100..600));
        tokio::time::sleep(run).await;
        server.kill().expect("SIGKILL");
        server.wait().expect("the server is reaped");
        for client in clients {
            client.await.expect("a client ends without panicking");
        }
        acknowledged.extend(answered.lock().expect("not poisoned").drain(..));
        assert!(
            !acknowledged.is_empty() || cycle + 1 < cycles,
            "no command was acknowledged in {cycles} cycles: the test proves nothing"
        );
        let report = verify_directory(&data, &mut |_| {})
            .unwrap_or_else(|error| panic!("cycle {cycle}: the ledger does not verify: {error}"));
        let (verified, _) = report;
        assert!(
            verified.records
                >= acknowledged
                    .iter()
                    .map(|a| a.events.len() as u64)
                    .sum::<u64>(),
            "cycle {cycle}: fewer records than acknowledged events"
        );
        check_acknowledged(&data, &acknowledged, cycle);
    }
    println!(
        "{cycles} kill -9 cycles: {} commands acknowledged, none lost",
        acknowledged.len()
    );
}

/// The last segment file of a ledger directory.
fn last_segment(data: &Path) -> std::path::PathBuf {
    let mut segments: Vec<_> = std::fs::read_dir(data.join("segments"))
        .expect("a segments directory")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "seg"))
        .collect();
    segments.sort();
    segments.pop().expect("a segment file")
}

fn run(args: &[&str], data: &Path) -> (bool, String) {
    let output = Command::new(BIN)
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// A crash's torn tail beyond the latest checkpoint: `verify` reports it and changes nothing,
/// `repair` cuts it and says exactly what it cut, and the ledger then verifies clean. The same
/// bytes inside what a checkpoint covers are refused by both, and nothing is cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_a_torn_tail_and_repair_cuts_only_what_no_checkpoint_covers() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    let addr = free_port();
    let mut server = spawn(&data, addr);
    wait_ready(addr, &mut server).await;
    let token = create_token(&data, "population-database");
    for n in 0..5 {
        let (status, body) = request(
            addr,
            "POST",
            "/v1/commands/record_person",
            Some(&token),
            Some(&record_person(&format!("torn-{n}"), n)),
        )
        .await
        .expect("the server answers");
        assert_eq!(status, 201, "{body}");
    }
    server.kill().expect("SIGKILL");
    server.wait().expect("the server is reaped");
    let (ok, text) = run(&["checkpoint"], &data);
    assert!(ok, "{text}");
    // A torn frame after the last record: a length that runs past the end of the file.
    let segment = last_segment(&data);
    let clean = std::fs::read(&segment).expect("the segment");
    let mut torn = clean.clone();
    torn.extend_from_slice(&[0x40, 0, 0, 0, 1, 2, 3]);
    std::fs::write(&segment, &torn).expect("write");
    let (ok, text) = run(&["verify"], &data);
    assert!(ok, "{text}");
    assert!(text.contains("torn tail"), "{text}");
    assert_eq!(
        std::fs::read(&segment).expect("the segment"),
        torn,
        "verify cut nothing"
    );
    let (ok, text) = run(&["repair"], &data);
    assert!(ok, "{text}");
    assert!(text.contains("cut 7 bytes"), "{text}");
    assert_eq!(std::fs::read(&segment).expect("the segment"), clean);
    let (ok, text) = run(&["verify"], &data);
    assert!(ok && !text.contains("torn tail"), "{text}");
    // One flipped bit in the last covered frame's trailer: refused by verify and repair alike,
    // and nothing is cut.
    let mut damaged = clean.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 0x01;
    std::fs::write(&segment, &damaged).expect("write");
    let (ok, text) = run(&["verify"], &data);
    assert!(!ok, "{text}");
    let (ok, text) = run(&["repair"], &data);
    assert!(!ok, "{text}");
    assert_eq!(
        std::fs::read(&segment).expect("the segment"),
        damaged,
        "nothing a checkpoint covers is cut"
    );
}
