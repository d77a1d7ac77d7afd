//! Prometheus metrics at `/metrics` (text exposition format 0.0.4).
//!
//! Why hand-written: a handful of counters and one latency histogram per route, kept in
//! atomics, need no registry crate; the ledger, access log and projection gauges are read at
//! scrape time from their owners, so they can never drift from the truth.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, seconds: f64) {
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }
}

/// Request counts by method, then route, then status.
type RequestCounts = BTreeMap<String, BTreeMap<String, BTreeMap<u16, u64>>>;

/// The server's request metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests by method, route and status (nested, so that counting a request already seen
    /// looks its keys up without allocating; iterated in the order of the triple).
    requests: Mutex<RequestCounts>,
    /// Latency by route.
    latency: Mutex<BTreeMap<String, Arc<Histogram>>>,
}

impl Metrics {
    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        {
            let mut requests = self
                .requests
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !requests.contains_key(method) {
                requests.insert(method.to_owned(), BTreeMap::new());
            }
            let routes = requests
                .get_mut(method)
                .expect("the method's counts were just inserted");
            if !routes.contains_key(route) {
                routes.insert(route.to_owned(), BTreeMap::new());
            }
            *routes
                .get_mut(route)
                .expect("the route's counts were just inserted")
                .entry(status)
                .or_default() += 1;
        }
        let histogram = {
            let mut latency = self
                .latency
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match latency.get(route) {
                Some(histogram) => Arc::clone(histogram),
                None => Arc::clone(latency.entry(route.to_owned()).or_default()),
            }
        };
        histogram.observe(seconds);
    }

    fn render(&self, state: &AppState) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP residence_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE residence_http_requests_total counter\n");
        {
            let requests = self
                .requests
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (method, routes) in requests.iter() {
                for (route, statuses) in routes {
                    for (status, count) in statuses {
                        let _ = writeln!(
                            out,
                            "residence_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {count}"
                        );
                    }
                }
            }
        }
        out.push_str("# HELP residence_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE residence_http_request_duration_seconds histogram\n");
        let latency: Vec<(String, Arc<Histogram>)> = self
            .latency
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(route, histogram)| (route.clone(), Arc::clone(histogram)))
            .collect();
        for (route, histogram) in latency {
            for (bound, bucket) in BUCKETS.iter().zip(&histogram.buckets) {
                let _ = writeln!(
                    out,
                    "residence_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    bucket.load(Ordering::Relaxed)
                );
            }
            let count = histogram.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "residence_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "residence_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                histogram.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "residence_http_request_duration_seconds_count{{route=\"{route}\"}} {count}"
            );
        }
        let gauges = [
            (
                "residence_ledger_records",
                "Records in the register's ledger.",
                state.ledger.head().size,
            ),
            (
                "residence_projections_position",
                "Records folded into the projections.",
                state.projections.position(),
            ),
            (
                "residence_access_log_entries",
                "Entries in the access log.",
                state.access.len(),
            ),
            (
                "residence_ledger_queued_requests",
                "Append requests waiting for the sequencer.",
                state.ledger.queued_requests() as u64,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        let failed = u64::from(state.ledger.failure().is_some());
        let _ = writeln!(
            out,
            "# HELP residence_ledger_failed Whether the ledger stopped after a storage failure.\n# TYPE residence_ledger_failed gauge\nresidence_ledger_failed {failed}"
        );
        out
    }
}

/// Middleware: counts every request by its route template (never its concrete path, which
/// may carry a PIN).
pub async fn track(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Cheap clones (a standard method holds no allocation; a matched path is shared).
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    state.metrics.record(
        method.as_str(),
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&state),
    )
        .into_response()
}
