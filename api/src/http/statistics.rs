//! The population statistics (`GET /v1/statistics/population`): counts of people with a
//! permanent registration, a temporary one or a declared absence, by province and commune, on
//! one date.
//!
//! Why apart from the person queries: counts are not personal data (any role may read them and
//! nothing is written to the access log), and answering them is a matter of caching, not of
//! reading one person's records. Counting the population is a scan of every person (about
//! 0.2 s per million), so the counts of a date are kept with the projection position they were
//! counted at and served while no record was folded since, or for at most
//! [`STATISTICS_REFRESH`] after that while one recount runs in the background. The answer names
//! its position; `min_position` forces a recount that includes it. The JSON bodies are cached
//! too, so a cached answer costs a lookup. The cache is bounded (`STATISTICS_DATES_MAX` dates,
//! `STATISTICS_BODIES_MAX` bodies): dates are the caller's choice, memory is not.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use chrono::NaiveDate;
use residence_domain::units::{ProvinceCode, Scheme, UnitRef, registry};
use residence_projections::population::{CommuneCounts, Counts, Population, ProvinceCounts};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use super::params::{AsKnownAt, AsKnownView, parse_unit};
use crate::auth::Principal;

/// How long cached statistics may trail the projections while a recount runs.
pub const STATISTICS_REFRESH: Duration = Duration::from_secs(1);
/// The most dates whose counts are kept.
const STATISTICS_DATES_MAX: usize = 8;
/// The most response bodies kept.
const STATISTICS_BODIES_MAX: usize = 256;

/// The routes of this module, with the cache they share.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/statistics/population", get(statistics))
        .layer(Extension(Arc::new(StatisticsCache::default())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatisticsQuery {
    on: Option<NaiveDate>,
    unit: Option<String>,
    province: Option<String>,
    min_position: Option<u64>,
}

/// What part of the counts is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Scope {
    /// The whole country by province.
    All,
    /// One province of the 2025 map, by commune.
    Province(ProvinceCode),
    /// One commune or ward.
    Unit(UnitRef),
}

impl Scope {
    fn parse(unit: Option<&str>, province: Option<&str>) -> Result<Scope, ApiError> {
        match (unit, province) {
            (None, None) => Ok(Scope::All),
            (Some(unit), None) => parse_unit(unit).map(Scope::Unit),
            (None, Some(province)) => {
                let code: ProvinceCode = province.parse().map_err(
                    |error: residence_domain::units::UnitParseError| {
                        ApiError::BadRequest(error.to_string())
                    },
                )?;
                if registry().province_name(Scheme::Y2025, code).is_none() {
                    return Err(ApiError::NotFound(format!(
                        "{code} is not a province of the 2025 map"
                    )));
                }
                Ok(Scope::Province(code))
            }
            (Some(_), Some(_)) => Err(ApiError::BadRequest(
                "give unit or province, not both".to_owned(),
            )),
        }
    }

    fn text(self) -> String {
        match self {
            Scope::All => "all".to_owned(),
            Scope::Province(code) => format!("province:{code}"),
            Scope::Unit(unit) => format!("unit:{unit}"),
        }
    }
}

/// Counts of people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CountsView {
    /// With a permanent registration holding on the date.
    pub permanent: u64,
    /// With a temporary registration holding on the date.
    pub temporary: u64,
    /// With a declared temporary absence holding on the date.
    pub absent: u64,
}

impl From<Counts> for CountsView {
    fn from(counts: Counts) -> CountsView {
        CountsView {
            permanent: counts.permanent,
            temporary: counts.temporary,
            absent: counts.absent,
        }
    }
}

/// Counts of one province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvinceCountsView {
    /// The map it belongs to (`legacy` or `2025`).
    pub scheme: Scheme,
    /// Its code.
    pub province: ProvinceCode,
    /// Its name.
    pub name: Option<&'static str>,
    /// The counts.
    pub counts: CountsView,
}

impl ProvinceCountsView {
    fn of(row: &ProvinceCounts) -> ProvinceCountsView {
        ProvinceCountsView {
            scheme: row.scheme,
            province: row.province,
            name: row.name,
            counts: row.counts.into(),
        }
    }
}

/// Counts of one commune or ward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommuneCountsView {
    /// The unit.
    pub unit: UnitRef,
    /// Its full name.
    pub name: Option<String>,
    /// The counts.
    pub counts: CountsView,
}

impl CommuneCountsView {
    fn of(row: &CommuneCounts) -> CommuneCountsView {
        CommuneCountsView {
            unit: row.unit,
            name: row.name.clone(),
            counts: row.counts.into(),
        }
    }
}

/// The population statistics of one scope on one date, as known at one position.
///
/// Every scope has `on`, `as_known_at` and `scope`; `all` adds `totals`, `absent_unplaced`,
/// `provinces` (under the map valid on the date) and `today_provinces` (under the 2025 map);
/// `province:NN` adds `province` (its totals under today's units), `communes` (the units shown
/// on the date that lie in it today) and `today_communes`; `unit:…` adds `unit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatisticsBody {
    /// The date counted.
    pub on: NaiveDate,
    /// The state of knowledge of the counts.
    pub as_known_at: AsKnownView,
    /// `all`, `province:NN` or `unit:<scheme>:<code>`.
    pub scope: String,
    /// Everyone counted (scope `all`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<CountsView>,
    /// Absences of people registered nowhere on the date (scope `all`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absent_unplaced: Option<u64>,
    /// By province of the map valid on the date (scope `all`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provinces: Option<Vec<ProvinceCountsView>>,
    /// By today's (2025) province (scope `all`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub today_provinces: Option<Vec<ProvinceCountsView>>,
    /// The province's counts under today's units (scope `province`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province: Option<ProvinceCountsView>,
    /// The units shown on the date that lie in the province today (scope `province`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communes: Option<Vec<CommuneCountsView>>,
    /// The province's 2025 communes (scope `province`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub today_communes: Option<Vec<CommuneCountsView>>,
    /// The unit's counts (scope `unit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitCountsView>,
}

/// The counts of one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitCountsView {
    /// The unit.
    pub unit: UnitRef,
    /// Its full name.
    pub name: Option<String>,
    /// The people counted under it on the date (zero when it is not a unit of the map valid
    /// on the date).
    pub counts: CountsView,
    /// The people whose address is in it today (2025 units only).
    pub today_counts: Option<CountsView>,
}

/// The 2025 province of a row's unit.
fn province_today(row: &CommuneCounts) -> Option<ProvinceCode> {
    match row.unit.scheme {
        Scheme::Y2025 => row.province,
        Scheme::Legacy => registry().province_successor(row.province?),
    }
}

fn statistics_body(population: &Population, position: u64, scope: Scope) -> StatisticsBody {
    let mut body = StatisticsBody {
        on: population.date,
        as_known_at: AsKnownAt::Head.view(position),
        scope: scope.text(),
        totals: None,
        absent_unplaced: None,
        provinces: None,
        today_provinces: None,
        province: None,
        communes: None,
        today_communes: None,
        unit: None,
    };
    match scope {
        Scope::All => {
            body.totals = Some(population.totals.into());
            body.absent_unplaced = Some(population.absent_unplaced);
            body.provinces = Some(
                population
                    .provinces
                    .iter()
                    .map(ProvinceCountsView::of)
                    .collect(),
            );
            body.today_provinces = Some(
                population
                    .today_provinces
                    .iter()
                    .map(ProvinceCountsView::of)
                    .collect(),
            );
        }
        Scope::Province(code) => {
            body.province = Some(
                population
                    .today_provinces
                    .iter()
                    .find(|row| row.province == code)
                    .map_or_else(
                        || ProvinceCountsView {
                            scheme: Scheme::Y2025,
                            province: code,
                            name: registry().province_name(Scheme::Y2025, code),
                            counts: Counts::default().into(),
                        },
                        ProvinceCountsView::of,
                    ),
            );
            body.communes = Some(
                population
                    .communes
                    .iter()
                    .filter(|row| province_today(row) == Some(code))
                    .map(CommuneCountsView::of)
                    .collect(),
            );
            body.today_communes = Some(
                population
                    .today_communes
                    .iter()
                    .filter(|row| row.province == Some(code))
                    .map(CommuneCountsView::of)
                    .collect(),
            );
        }
        Scope::Unit(unit) => {
            let counts = population
                .communes
                .iter()
                .find(|row| row.unit == unit)
                .map_or_else(Counts::default, |row| row.counts);
            let today_counts = (unit.scheme == Scheme::Y2025).then(|| {
                population
                    .today_communes
                    .iter()
                    .find(|row| row.unit == unit)
                    .map_or_else(Counts::default, |row| row.counts)
                    .into()
            });
            body.unit = Some(UnitCountsView {
                unit,
                name: registry().full_name(unit),
                counts: counts.into(),
                today_counts,
            });
        }
    }
    body
}

/// The population of one date, counted at one projection position.
#[derive(Debug)]
struct Counted {
    /// The projections' position (records folded) when counted.
    position: u64,
    /// When it was counted.
    at: Instant,
    /// The counts.
    population: Population,
}

/// Cached population counts and response bodies (see the module documentation).
#[derive(Debug, Default)]
pub struct StatisticsCache {
    populations: Mutex<HashMap<NaiveDate, Arc<Counted>>>,
    bodies: Mutex<HashMap<(NaiveDate, Scope), (u64, Bytes)>>,
    /// Held while counting, so that one count runs at a time.
    counting: tokio::sync::Mutex<()>,
    /// Dates with a background recount in flight.
    refreshing: Mutex<HashSet<NaiveDate>>,
}

impl StatisticsCache {
    fn cached(&self, date: NaiveDate) -> Option<Arc<Counted>> {
        self.populations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&date)
            .cloned()
    }

    fn store(&self, date: NaiveDate, counted: Arc<Counted>) {
        let mut populations = self
            .populations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if populations.len() >= STATISTICS_DATES_MAX && !populations.contains_key(&date) {
            // Evict the oldest count: dates are the caller's choice, memory is not.
            if let Some(oldest) = populations
                .iter()
                .min_by_key(|(_, counted)| counted.at)
                .map(|(date, _)| *date)
            {
                populations.remove(&oldest);
            }
        }
        let newer = populations
            .get(&date)
            .is_none_or(|old| old.position <= counted.position);
        if newer {
            populations.insert(date, counted);
        }
    }

    /// Counts the population of `date` now.
    async fn count(state: &Arc<AppState>, date: NaiveDate) -> Result<Arc<Counted>, ApiError> {
        let state = Arc::clone(state);
        tokio::task::spawn_blocking(move || {
            let projections = state.projections.read();
            Arc::new(Counted {
                position: projections.position(),
                at: Instant::now(),
                population: projections.population_on(date),
            })
        })
        .await
        .map_err(|error| {
            tracing::error!(%error, "counting the population failed");
            ApiError::Internal
        })
    }

    /// The counts of `date` including at least `needed` folded records.
    async fn population(
        self: &Arc<Self>,
        state: &Arc<AppState>,
        date: NaiveDate,
        needed: u64,
    ) -> Result<Arc<Counted>, ApiError> {
        if let Some(counted) = self.cached(date)
            && counted.position >= needed
        {
            if counted.position < state.projections.position()
                && counted.at.elapsed() >= STATISTICS_REFRESH
            {
                self.refresh(state, date);
            }
            return Ok(counted);
        }
        let _counting = self.counting.lock().await;
        if let Some(counted) = self.cached(date)
            && counted.position >= needed
        {
            return Ok(counted);
        }
        let counted = StatisticsCache::count(state, date).await?;
        self.store(date, Arc::clone(&counted));
        Ok(counted)
    }

    /// Recounts `date` in the background unless a recount is already running.
    fn refresh(self: &Arc<Self>, state: &Arc<AppState>, date: NaiveDate) {
        {
            let mut refreshing = self
                .refreshing
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !refreshing.insert(date) {
                return;
            }
        }
        let cache = Arc::clone(self);
        let state = Arc::clone(state);
        tokio::spawn(async move {
            {
                let _counting = cache.counting.lock().await;
                match StatisticsCache::count(&state, date).await {
                    Ok(counted) => cache.store(date, counted),
                    Err(error) => tracing::error!(%error, "recounting the population failed"),
                }
            }
            cache
                .refreshing
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&date);
        });
    }

    /// The JSON body of `scope` on `date` from `counted`, built once per count.
    fn body(&self, counted: &Counted, scope: Scope) -> Result<Bytes, ApiError> {
        let key = (counted.population.date, scope);
        if let Some((position, bytes)) = self
            .bodies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            && *position == counted.position
        {
            return Ok(bytes.clone());
        }
        let body = statistics_body(&counted.population, counted.position, scope);
        let bytes = Bytes::from(serde_json::to_vec(&body).map_err(|error| {
            tracing::error!(%error, "statistics do not serialise");
            ApiError::Internal
        })?);
        let mut bodies = self.bodies.lock().unwrap_or_else(PoisonError::into_inner);
        if bodies.len() >= STATISTICS_BODIES_MAX {
            bodies.clear();
        }
        bodies.insert(key, (counted.position, bytes.clone()));
        Ok(bytes)
    }
}

async fn statistics(
    State(state): State<Arc<AppState>>,
    Extension(cache): Extension<Arc<StatisticsCache>>,
    // Any role: counts are not personal data, but a token is still required.
    _caller: Principal,
    query: Result<Query<StatisticsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let scope = Scope::parse(query.unit.as_deref(), query.province.as_deref())?;
    state.wait_visible(query.min_position).await?;
    let needed = query.min_position.map_or(0, |position| position + 1);
    let on = query.on.unwrap_or_else(|| state.today());
    let counted = cache.population(&state, on, needed).await?;
    let bytes = cache.body(&counted, scope)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_everything_a_province_or_a_unit() {
        assert_eq!(Scope::parse(None, None).unwrap(), Scope::All);
        assert_eq!(
            Scope::parse(None, Some("01")).unwrap(),
            Scope::Province("01".parse().unwrap())
        );
        assert_eq!(
            Scope::parse(Some("2025:00004"), None).unwrap().text(),
            "unit:2025:00004"
        );
        assert!(matches!(
            Scope::parse(Some("2025:00004"), Some("01")),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            Scope::parse(None, Some("99")),
            Err(ApiError::NotFound(_))
        ));
    }
}
