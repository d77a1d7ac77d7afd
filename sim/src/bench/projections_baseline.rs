//! Measurements for `residence bench projections` and `BENCHMARKS.md`: a decode-only replay
//! baseline, point-in-time query latency, and resident memory.
//!
//! Why a decode-only baseline: replay cost is dominated by reading records and decoding their
//! JSON payloads, which no projection can avoid; running the same parallel pipeline without the
//! fold, in the same process and run, shows what the models themselves cost.

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use residence_domain::timeline::AsKnown;
use residence_ledger::ledger::Ledger;

use residence_projections::Projections;
use residence_projections::person::QueryError;

/// Latency of a set of queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    /// Queries run.
    pub queries: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

impl Latency {
    fn of(mut samples: Vec<Duration>) -> Latency {
        samples.sort_unstable();
        let at = |quantile: f64| {
            let index = ((samples.len() as f64 - 1.0) * quantile).round() as usize;
            samples.get(index).copied().unwrap_or_default()
        };
        Latency {
            queries: samples.len(),
            p50: at(0.50),
            p99: at(0.99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

/// Runs `queries` point-in-time questions ("where was this person registered on date D, as
/// known at position P"), each for a random person, date and position (half of them as known
/// now), and times each one in process: reading the person's records through the ledger's tag
/// index, decoding them and folding the domain timeline.
///
/// # Errors
/// The first [`QueryError`].
pub fn point_queries(
    projections: &Projections,
    ledger: &Ledger,
    queries: usize,
    seed: u64,
) -> Result<Latency, QueryError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let persons = projections.sizes().0;
    let first = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap_or(NaiveDate::MIN);
    let mut samples = Vec::with_capacity(queries);
    for _ in 0..queries.min(persons.saturating_mul(100)) {
        let Some(person) = projections.person_at(rng.random_range(0..persons.max(1))) else {
            continue;
        };
        let date = first
            .checked_add_days(Days::new(rng.random_range(0..4_200)))
            .unwrap_or(first);
        let as_known = if rng.random_bool(0.5) {
            AsKnown::Now
        } else {
            AsKnown::AtPosition(rng.random_range(0..projections.position().max(1)))
        };
        let started = Instant::now();
        let answer = projections.residence_on(ledger, person, date, as_known)?;
        samples.push(started.elapsed());
        std::hint::black_box(answer);
    }
    Ok(Latency::of(samples))
}
