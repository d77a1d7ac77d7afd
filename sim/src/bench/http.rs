//! `residence bench http`: the API over real HTTP on the realistic population.
//!
//! The server runs in this process on a loopback socket (the same router, state, ledger,
//! access log and projections as `residence serve`), loaded by N concurrent keep-alive clients
//! (hyper) in the same process, so both share the machine's two cores: the figures are a lower
//! bound of a server with a separate load generator. Phases:
//! - **commands**: each client records a new person (population-database token) and then
//!   registers them permanently in a new household at a real 2025 commune (officer token): two
//!   commands per round, each durable (group-committed) before its answer;
//! - **person queries**: residence of a random person of the population on a random date as
//!   known at a random ledger position, each with its access-log entry durable before the
//!   answer;
//! - **statistics**: population counts of a random commune.
//!
//! Each phase reports requests/s, p50/p99 latency and the answers by status.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use residence_domain::units::{Scheme, UnitRef, registry};
use serde::Serialize;

use super::{Latencies, peak_resident_bytes};
use residence_api::auth::{Jurisdiction, Role};
use residence_api::http::{Server, ServerOptions};

use crate::progress::Progress;

/// Options of `residence bench http`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpBenchOptions {
    /// Persons in the realistic population (generated and imported first).
    pub persons: u64,
    /// Concurrent clients.
    pub clients: usize,
    /// Seconds per phase.
    pub seconds: f64,
    /// Scratch directory (emptied first); defaults to `target/bench-http`.
    pub dir: Option<PathBuf>,
    /// Write the results as JSON to this file too.
    pub json: Option<PathBuf>,
}

/// One phase's results.
#[derive(Debug, Serialize)]
pub struct PhaseReport {
    name: &'static str,
    requests: u64,
    requests_per_s: f64,
    p50_us: u64,
    p99_us: u64,
    /// CPU time of the whole process (server, clients and ledger threads) per request, in µs:
    /// on a shared or noisy machine it compares two builds better than requests/s do.
    cpu_us_per_request: f64,
    statuses: BTreeMap<u16, u64>,
}

/// The results.
#[derive(Debug, Serialize)]
pub struct HttpBenchReport {
    persons: u64,
    records_before: u64,
    clients: usize,
    seconds: f64,
    phases: Vec<PhaseReport>,
    access_log_entries: u64,
    peak_rss_bytes: u64,
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Target {
    client: HttpClient,
    base: String,
}

impl Target {
    async fn send(
        &self,
        method: hyper::Method,
        path: &str,
        token: &str,
        purpose: bool,
        body: Option<String>,
    ) -> (anyhow::Result<u16>, Duration) {
        let sent = Instant::now();
        let status = self.exchange(method, path, token, purpose, body).await;
        (status, sent.elapsed())
    }

    async fn exchange(
        &self,
        method: hyper::Method,
        path: &str,
        token: &str,
        purpose: bool,
        body: Option<String>,
    ) -> anyhow::Result<u16> {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {token}"));
        if purpose {
            request = request.header("x-purpose", "bench http");
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))?,
            None => request.body(Full::new(Bytes::new()))?,
        };
        let response = self.client.request(request).await?;
        let status = response.status().as_u16();
        // Read the whole body: a request is done when its answer has arrived.
        response.into_body().collect().await?;
        Ok(status)
    }
}

/// Runs the benchmark and prints a table.
///
/// # Errors
/// When the population cannot be generated or imported, or the server cannot start.
pub fn run(args: &HttpBenchOptions, progress: &dyn Progress) -> anyhow::Result<()> {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/bench-http"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let data = dir.join("data");
    let today = residence_api::http::wall_now().date_naive();
    let until = today.pred_opt().unwrap_or(today);
    let file = dir.join("population.ndjson");
    let bar = progress.spinner(&format!("generating {} persons", args.persons));
    let generated = crate::generate::generate_file(
        &crate::generate::GenerateOptions {
            persons: args.persons,
            seed: 7,
            until,
        },
        &file,
        &mut |_| bar.inc(1),
    );
    drop(bar);
    generated.context("generating the population")?;
    let size = residence_register::import::file_size(&file);
    let bar = progress.bar(size, "importing", "bytes");
    let imported = residence_register::import::import(
        &residence_register::import::ImportOptions {
            file,
            data: data.clone(),
            key_seed: Some([7; 32]),
            strict: true,
        },
        &mut |bytes| bar.set_position(bytes),
    );
    drop(bar);
    let imported = imported.context("importing the population")?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(async {
        let mut options = ServerOptions::production(data.clone())?;
        options.snapshots = false;
        let server = Server::open(options)?;
        let state = Arc::clone(&server.state);
        let provinces: Vec<String> = registry()
            .provinces(Scheme::Y2025)
            .map(|(code, _)| format!("province:{code}"))
            .collect();
        let now = residence_api::http::wall_now();
        let officer = state
            .tokens
            .create(
                Role::Officer,
                "bench officer",
                Jurisdiction::parse(provinces.iter().map(String::as_str))?,
                now,
                None,
            )?
            .0;
        let feed = state
            .tokens
            .create(
                Role::PopulationDatabase,
                "bench feed",
                Jurisdiction::default(),
                now,
                None,
            )?
            .0;
        let court = state
            .tokens
            .create(Role::Court, "bench court", Jurisdiction::default(), now, None)?
            .0;
        let auditor = state
            .tokens
            .create(Role::Auditor, "bench auditor", Jurisdiction::default(), now, None)?
            .0;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let router = server.router();
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "the bench server stopped");
            }
        });
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(args.clients)
            .build(connector);
        let target = Arc::new(Target {
            client,
            base: format!("http://{addr}"),
        });

        // Samples for the queries: PINs of the population and communes of the 2025 map.
        let (pins, head) = {
            let projections = state.projections.read();
            let (persons, _) = projections.sizes();
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            let pins: Vec<String> = (0..10_000)
                .filter_map(|_| {
                    let person = projections.person_at(rng.random_range(0..persons.max(1)))?;
                    projections.pin_of(person).map(|pin| pin.to_string())
                })
                .collect();
            (pins, projections.position())
        };
        let communes: Vec<UnitRef> = registry()
            .units(Scheme::Y2025)
            .map(|info| info.unit)
            .collect();
        let duration = Duration::from_secs_f64(args.seconds);
        let counter = Arc::new(AtomicU64::new(0));
        let officer = Arc::new(officer);
        let feed = Arc::new(feed);
        let court = Arc::new(court);
        let auditor = Arc::new(auditor);
        let pins = Arc::new(pins);
        let communes = Arc::new(communes);

        let mut phases = Vec::new();
        let today_text = today.to_string();
        phases.push(
            phase("commands", args.clients, duration, {
                let target = Arc::clone(&target);
                let communes = Arc::clone(&communes);
                move |client, rng| {
                    let target = Arc::clone(&target);
                    let communes = Arc::clone(&communes);
                    let counter = Arc::clone(&counter);
                    let officer = Arc::clone(&officer);
                    let feed = Arc::clone(&feed);
                    let today = today_text.clone();
                    let unit = communes[rng.random_range(0..communes.len())];
                    let ids: [u64; 3] = [rng.random(), rng.random(), rng.random()];
                    async move {
                        let k = counter.fetch_add(1, Ordering::Relaxed);
                        let [person, dwelling, household] = ids.map(|id| format!("{id:016x}"));
                        // Men born 1901..1999 in Hà Nội: prefix 001, century/sex digit 0.
                        let year = 1 + (k / 1_000_000) % 99;
                        let pin = format!("0010{year:02}{:06}", k % 1_000_000);
                        let first = target
                            .send(
                                hyper::Method::POST,
                                "/v1/commands/record_person",
                                &feed,
                                false,
                                Some(format!(
                                    r#"{{"request_id":"bench-p-{client}-{k}","command":{{"person":"{person}","pin":"{pin}","name":"Nguyễn Văn Bench","birth_date":"19{year:02}-01-01","sex":"male"}}}}"#
                                )),
                            )
                            .await;
                        let second = target
                            .send(
                                hyper::Method::POST,
                                "/v1/commands/register_permanent",
                                &officer,
                                false,
                                Some(format!(
                                    r#"{{"request_id":"bench-r-{client}-{k}","command":{{"person":"{person}","effective_on":"{today}","basis":"OWN_HOME","address":{{"unit":"{unit}","street":"Số {k} đường Thử Nghiệm"}},"dwelling":"{dwelling}","household":{{"establish":{{"household":"{household}"}}}},"consents":[]}}}}"#
                                )),
                            )
                            .await;
                        vec![first, second]
                    }
                }
            }, progress)
            .await,
        );
        phases.push(
            phase("person queries", args.clients, duration, {
                let target = Arc::clone(&target);
                move |_client, rng| {
                    let target = Arc::clone(&target);
                    let court = Arc::clone(&court);
                    let pin = pins[rng.random_range(0..pins.len().max(1))].clone();
                    let day = rng.random_range(0..(until - crate::generate::sim::START).num_days().max(1));
                    let on = crate::generate::sim::START + chrono::Duration::days(day);
                    let known = rng.random_range(1..head.max(2));
                    async move {
                        vec![
                            target
                                .send(
                                    hyper::Method::GET,
                                    &format!("/v1/persons/{pin}?on={on}&as_known_at={known}"),
                                    &court,
                                    true,
                                    None,
                                )
                                .await,
                        ]
                    }
                }
            }, progress)
            .await,
        );
        phases.push(
            phase("statistics", args.clients, duration, {
                let target = Arc::clone(&target);
                move |_client, rng| {
                    let target = Arc::clone(&target);
                    let token = Arc::clone(&auditor);
                    let unit = communes[rng.random_range(0..communes.len())];
                    async move {
                        vec![
                            target
                                .send(
                                    hyper::Method::GET,
                                    &format!("/v1/statistics/population?unit={unit}"),
                                    &token,
                                    false,
                                    None,
                                )
                                .await,
                        ]
                    }
                }
            }, progress)
            .await,
        );
        let access_log_entries = state.access.len();
        server.close().await;
        anyhow::Ok(HttpBenchReport {
            persons: args.persons,
            records_before: imported.size,
            clients: args.clients,
            seconds: args.seconds,
            phases,
            access_log_entries,
            peak_rss_bytes: peak_resident_bytes(),
        })
    })?;
    print(&report);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Runs `clients` loops of `round` for `duration`; each round returns the status and latency
/// of each request it sent.
async fn phase<F, Fut>(
    name: &'static str,
    clients: usize,
    duration: Duration,
    round: F,
    progress: &dyn Progress,
) -> PhaseReport
where
    F: Fn(usize, &mut ChaCha8Rng) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Vec<(anyhow::Result<u16>, Duration)>> + Send + 'static,
{
    let round = Arc::new(round);
    let bar = progress.spinner(&format!("bench http: {name}"));
    let cpu_before = process_cpu_ns();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let round = Arc::clone(&round);
        let bar = bar.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(client as u64);
            let mut latencies = Latencies::default();
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            while started.elapsed() < duration {
                let answers = round(client, &mut rng).await;
                for (answer, elapsed) in answers {
                    latencies.push(elapsed);
                    *statuses.entry(answer.unwrap_or(0)).or_default() += 1;
                    bar.inc(1);
                }
            }
            (latencies, statuses)
        }));
    }
    let mut latencies = Latencies::default();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    for task in tasks {
        if let Ok((mine, counts)) = task.await {
            latencies.extend(mine);
            for (status, count) in counts {
                *statuses.entry(status).or_default() += count;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_ns = process_cpu_ns().saturating_sub(cpu_before);
    drop(bar);
    let requests = latencies.count() as u64;
    PhaseReport {
        name,
        requests,
        requests_per_s: requests as f64 / elapsed.max(1e-9),
        p50_us: latencies.percentile_us(50.0),
        p99_us: latencies.percentile_us(99.0),
        cpu_us_per_request: cpu_ns as f64 / 1e3 / (requests.max(1) as f64),
        statuses,
    }
}

/// The CPU time the process's live threads have run, in ns (`/proc/self/task/*/schedstat`;
/// 0 where unavailable).
fn process_cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn print(report: &HttpBenchReport) {
    println!(
        "bench http: {} persons ({} records before), {} clients, {:.0} s per phase",
        report.persons, report.records_before, report.clients, report.seconds
    );
    println!(
        "{:<16} {:>10} {:>12} {:>10} {:>10} {:>10}  statuses",
        "phase", "requests", "requests/s", "p50 µs", "p99 µs", "CPU µs/req"
    );
    for phase in &report.phases {
        println!(
            "{:<16} {:>10} {:>12.0} {:>10} {:>10} {:>10.1}  {:?}",
            phase.name,
            phase.requests,
            phase.requests_per_s,
            phase.p50_us,
            phase.p99_us,
            phase.cpu_us_per_request,
            phase.statuses
        );
    }
    println!(
        "access-log entries written: {}; peak RSS {:.0} MB",
        report.access_log_entries,
        report.peak_rss_bytes as f64 / 1e6
    );
}
