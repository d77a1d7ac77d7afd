//! The query endpoints: a person's residence on a date as known at a point of the ledger, their
//! history, a household book, the people registered at a unit, and population statistics.
//!
//! Why two time axes on the wire: a court asks "where was this person registered on that date,
//! and what did the register know then?". `on=YYYY-MM-DD` picks the valid-time date (default:
//! today in Vietnam) and `as_known_at=` the state of knowledge, either a ledger position (the
//! records up to and including it) or an RFC 3339 time (the records recorded at or before it);
//! the default is everything the projections have folded. Every answer names the state of
//! knowledge it rests on (`as_known_at.position`), so the same question can be asked again
//! later and gets the same answer, and every residence names the ledger records (positions and
//! event ids) that opened and closed it, for inclusion proofs.
//!
//! Why the access log comes first: every endpoint here except the statistics reads personal
//! data, so it takes the [`Accountable`] extractor (a token and an `X-Purpose`) and awaits
//! [`crate::access_log::AccessLog::record`] after the answer is computed and before the response
//! is built; when the entry cannot be made durable the caller gets 503 and no data. A question
//! whose answer is "not found" discloses no one's data and is not logged.
//!
//! Read-your-writes: every query takes `min_position=N` (the position a command returned) and
//! waits until the projections have folded it.
//!
//! Roles (see [`crate::auth`]): persons, histories and household books are read by officers
//! (any person: an officer registering a newcomer must see where they come from), supervisors,
//! courts and auditors; the people at a unit by officers and supervisors within their
//! jurisdiction, courts and auditors everywhere. Administrators and the population database's
//! feed read no personal data. Statistics are not personal data: any role may read them.
//!
//! Statistics are cached: counting the population is a scan of every person (about 0.2 s per
//! million), so the counts of a date are kept with the projection position they were counted
//! at and served while no record was folded since, or for at most [`STATISTICS_REFRESH`] after
//! that while one recount runs in the background. The answer names its position;
//! `min_position` forces a recount that includes it. The JSON bodies are cached too, so a
//! cached answer costs a lookup.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use residence_domain::address::{Address, PersonName, StreetLine};
use residence_domain::event::{
    AbsenceClause, DeletionGround, Membership, NotifierKind, PermanentBasis, PlaceText,
};
use residence_domain::ids::{DwellingId, HouseholdId, PersonId};
use residence_domain::jurisdiction::OutsideJurisdiction;
use residence_domain::pin::Pin;
use residence_domain::relationship::Relationship;
use residence_domain::timeline::{
    AsKnown, Basis, EndReason, Interval, IntervalKind, Origin, Residence,
};
use residence_domain::units::{ProvinceCode, Scheme, UnitCode, UnitRef, registry};
use residence_ledger::record::Timestamp;
use residence_projections::person::{QueryError, RecordInfo};
use residence_projections::population::{CommuneCounts, Counts, Population, ProvinceCounts};
use residence_projections::residence::SpanKind;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, error_chain};
use super::extract::Accountable;
use crate::auth::{Principal, Role};

/// Who may read one person's or one household's data.
const PERSON_READERS: [Role; 4] = [Role::Officer, Role::Supervisor, Role::Auditor, Role::Court];
/// Who may read the register of a unit (officers and supervisors only within their
/// jurisdiction).
const REGISTER_READERS: [Role; 4] = [Role::Officer, Role::Supervisor, Role::Auditor, Role::Court];
/// The people returned by one page of a register when `limit` is not given.
const RESIDENTS_PAGE_DEFAULT: u64 = 200;
/// How long cached statistics may trail the projections while a recount runs.
pub const STATISTICS_REFRESH: Duration = Duration::from_secs(1);
/// The most dates whose counts are kept.
const STATISTICS_DATES_MAX: usize = 8;
/// The most response bodies kept.
const STATISTICS_BODIES_MAX: usize = 256;

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/persons/{pin}", get(person))
        .route("/v1/persons/{pin}/history", get(history))
        .route("/v1/households/{household}/book", get(book))
        .route("/v1/units/{unit}/residents", get(residents))
        .route("/v1/statistics/population", get(statistics))
        .layer(Extension(Arc::new(StatisticsCache::default())))
}

// ---------------------------------------------------------------------------------------------
// Shared pieces (also used by the ledger and access-log endpoints).

/// A ledger time as RFC 3339 with microseconds, UTC (`2026-11-27T03:00:00.000000Z`).
pub(crate) fn rfc3339(time: Timestamp) -> String {
    time.to_datetime()
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A JSON response, as `axum::Json` answers (the same bytes and headers, the same 500 when the
/// body does not serialise), written into a buffer sized for a typical answer at once rather
/// than grown from 128 bytes.
pub(crate) fn json_response<T: Serialize>(body: &T) -> Response {
    let mut bytes = Vec::with_capacity(4096);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(error) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            error.to_string(),
        )
            .into_response(),
    }
}

/// Checks a page size: `None` gives `default`; 0 or more than `max` is refused.
///
/// # Errors
/// [`ApiError::BadRequest`] naming the limit.
pub(crate) fn page_limit(limit: Option<u64>, default: u64, max: u64) -> Result<u64, ApiError> {
    match limit {
        None => Ok(default),
        Some(limit) if (1..=max).contains(&limit) => Ok(limit),
        Some(limit) => Err(ApiError::BadRequest(format!(
            "limit must be 1 to {max}, got {limit}"
        ))),
    }
}

/// Which state of knowledge a question is asked against (`as_known_at=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AsKnownAt {
    /// Everything the projections have folded.
    Head,
    /// The records up to and including this position.
    Position(u64),
    /// The records recorded at or before this time.
    Time(DateTime<Utc>),
}

impl AsKnownAt {
    /// Parses `as_known_at`: digits are a position, anything else an RFC 3339 time not after
    /// `now`.
    ///
    /// # Errors
    /// [`ApiError::BadRequest`].
    pub(crate) fn parse(text: Option<&str>, now: DateTime<Utc>) -> Result<AsKnownAt, ApiError> {
        let Some(text) = text.map(str::trim) else {
            return Ok(AsKnownAt::Head);
        };
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return text.parse().map(AsKnownAt::Position).map_err(|_| {
                ApiError::BadRequest("as_known_at is not a ledger position".to_owned())
            });
        }
        let time = DateTime::parse_from_rfc3339(text)
            .map_err(|_| {
                ApiError::BadRequest(
                    "as_known_at must be a ledger position or an RFC 3339 time".to_owned(),
                )
            })?
            .with_timezone(&Utc);
        if time > now {
            return Err(ApiError::BadRequest(
                "as_known_at is in the future: nothing is known there yet".to_owned(),
            ));
        }
        Ok(AsKnownAt::Time(time))
    }

    /// The domain's form.
    fn domain(self) -> AsKnown {
        match self {
            AsKnownAt::Head => AsKnown::Now,
            AsKnownAt::Position(position) => AsKnown::AtPosition(position),
            AsKnownAt::Time(time) => AsKnown::AtTime(time.timestamp_micros()),
        }
    }

    /// The state of knowledge as answered, `folded` being the projections' position.
    fn view(self, folded: u64) -> AsKnownView {
        match self {
            AsKnownAt::Head => AsKnownView {
                position: folded.checked_sub(1),
                time: None,
            },
            AsKnownAt::Position(position) => AsKnownView {
                position: Some(position),
                time: None,
            },
            AsKnownAt::Time(time) => AsKnownView {
                position: None,
                time: Some(time.to_rfc3339_opts(SecondsFormat::Micros, true)),
            },
        }
    }

    /// The parameter for the access log.
    fn detail(self) -> String {
        match self {
            AsKnownAt::Head => "now".to_owned(),
            AsKnownAt::Position(position) => format!("position {position}"),
            AsKnownAt::Time(time) => time.to_rfc3339_opts(SecondsFormat::Micros, true),
        }
    }

    /// Waits until the projections can answer it: a position must be folded; a time needs every
    /// record durable now (a record recorded before it may still be in flight to the follower).
    async fn settle(self, state: &AppState) -> Result<(), ApiError> {
        match self {
            AsKnownAt::Head => Ok(()),
            AsKnownAt::Position(position) => {
                let size = state.ledger.head().size;
                if position >= size {
                    return Err(ApiError::BadRequest(format!(
                        "as_known_at {position} is beyond the ledger's head ({size} records)"
                    )));
                }
                state.wait_visible(Some(position)).await
            }
            AsKnownAt::Time(_) => {
                let size = state.ledger.head().size;
                state.wait_visible(size.checked_sub(1)).await
            }
        }
    }
}

/// The state of knowledge an answer rests on: `position` is the last ledger record it includes
/// (give it back as `as_known_at` to ask the same question again), or the `time` asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AsKnownView {
    /// The last record included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    /// The recording time asked about (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

fn query_failed(error: QueryError) -> ApiError {
    match error {
        QueryError::UnknownPerson(_) => {
            ApiError::NotFound("the person is not in the register".to_owned())
        }
        QueryError::UnknownHousehold(_) => {
            ApiError::NotFound("no such household in the register".to_owned())
        }
        QueryError::Read(_) => {
            tracing::error!(error = %error_chain(&error), "a query could not read the ledger");
            ApiError::Unavailable
        }
        QueryError::TooManyRecords { .. } | QueryError::Decode(_) | QueryError::Timeline(_) => {
            tracing::error!(error = %error_chain(&error), "a query failed");
            ApiError::Internal
        }
    }
}

fn parse_pin(text: &str) -> Result<Pin, ApiError> {
    // The error never echoes the text: it may be someone's PIN.
    text.parse::<Pin>()
        .map_err(|error| ApiError::BadRequest(error.to_string()))
}

/// Parses a unit as in paths and filters: `2025:00004`, `legacy:00001`, or a bare five-digit
/// code of the 2025 map; a code the map does not have is not found.
fn parse_unit(text: &str) -> Result<UnitRef, ApiError> {
    let unit = if text.contains(':') {
        text.parse::<UnitRef>()
    } else {
        text.parse::<UnitCode>().map(UnitRef::y2025)
    }
    .map_err(|error| ApiError::BadRequest(error.to_string()))?;
    if registry().get(unit).is_none() {
        return Err(ApiError::NotFound(format!(
            "{unit} is not a unit of the administrative map"
        )));
    }
    Ok(unit)
}

// ---------------------------------------------------------------------------------------------
// Views: the JSON shapes of the answers.

/// An address with the full name of its unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressView {
    /// The unit (`legacy:NNNNN` or `2025:NNNNN`).
    pub unit: UnitRef,
    /// Its full name, e.g. "Phường Trúc Bạch, Quận Ba Đình, Thành phố Hà Nội".
    pub unit_name: Option<String>,
    /// The street line.
    pub street: StreetLine,
}

impl AddressView {
    fn of(address: &Address) -> AddressView {
        AddressView {
            unit: address.unit,
            unit_name: registry().full_name(address.unit),
            street: address.street.clone(),
        }
    }
}

/// A unit with its full name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitView {
    /// The unit.
    pub unit: UnitRef,
    /// Its full name.
    pub name: Option<String>,
}

impl UnitView {
    fn of(unit: UnitRef) -> UnitView {
        UnitView {
            unit,
            name: registry().full_name(unit),
        }
    }
}

/// A ledger event behind a residence fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRefView {
    /// Its ledger position.
    pub position: u64,
    /// When the ledger recorded it.
    pub recorded_at: String,
    /// Its event id (hex).
    pub event_id: String,
}

/// The events behind a fact: the event as recorded and the correction read instead, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OriginView {
    /// Its ledger position.
    pub position: u64,
    /// When the ledger recorded it.
    pub recorded_at: String,
    /// Its event id (hex).
    pub event_id: String,
    /// The latest correction whose replacement is read instead.
    pub corrected_by: Option<EventRefView>,
}

impl OriginView {
    fn of(origin: &Origin) -> OriginView {
        OriginView {
            position: origin.recorded.known.position,
            recorded_at: rfc3339(Timestamp(origin.recorded.known.recorded_at_micros)),
            event_id: origin.recorded.event_id.to_string(),
            corrected_by: origin.corrected_by.map(|by| EventRefView {
                position: by.known.position,
                recorded_at: rfc3339(Timestamp(by.known.recorded_at_micros)),
                event_id: by.event_id.to_string(),
            }),
        }
    }
}

/// Why an interval ends: `term_ended`, `superseded`, `deleted` (with the ground) or `died`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndReasonView {
    /// The reason.
    pub reason: &'static str,
    /// The deletion ground, for `deleted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ground: Option<DeletionGround>,
}

impl EndReasonView {
    fn of(reason: EndReason) -> EndReasonView {
        let (reason, ground) = match reason {
            EndReason::TermEnded => ("term_ended", None),
            EndReason::Superseded => ("superseded", None),
            EndReason::Deleted(ground) => ("deleted", Some(ground)),
            EndReason::Died => ("died", None),
        };
        EndReasonView { reason, ground }
    }
}

/// On what an interval rests: `kind` is `permanent` (with `permanent_basis`), `temporary`,
/// `declared`, `address_updated`, `absence` (with `clause` and `destination`) or `stay` (with
/// `notifier`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BasisView {
    /// The kind of basis.
    pub kind: &'static str,
    /// The Art 20 basis of a permanent registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permanent_basis: Option<PermanentBasis>,
    /// The Art 31.1 clause of an absence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clause: Option<AbsenceClause>,
    /// Where an absent person went, as declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<PlaceText>,
    /// Who notified a stay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifier: Option<NotifierKind>,
}

impl BasisView {
    fn of(basis: &Basis) -> BasisView {
        let mut view = BasisView {
            kind: "",
            permanent_basis: None,
            clause: None,
            destination: None,
            notifier: None,
        };
        match basis {
            Basis::Permanent(basis) => {
                view.kind = "permanent";
                view.permanent_basis = Some(*basis);
            }
            Basis::Temporary => view.kind = "temporary",
            Basis::Declared => view.kind = "declared",
            Basis::AddressUpdated => view.kind = "address_updated",
            Basis::Absence {
                clause,
                destination,
            } => {
                view.kind = "absence";
                view.clause = Some(*clause);
                view.destination = Some(destination.clone());
            }
            Basis::Stay { notifier } => {
                view.kind = "stay";
                view.notifier = Some(*notifier);
            }
        }
        view
    }
}

fn kind_name(kind: IntervalKind) -> &'static str {
    match kind {
        IntervalKind::Permanent => "permanent",
        IntervalKind::Temporary => "temporary",
        IntervalKind::CurrentResidence => "current_residence",
        IntervalKind::Absence => "absence",
        IntervalKind::Stay => "stay",
    }
}

/// One residence fact as shown on the date asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResidenceView {
    /// `permanent`, `temporary`, `current_residence`, `absence` or `stay`.
    pub kind: &'static str,
    /// Its first day.
    pub start: NaiveDate,
    /// The first day it no longer holds (`null` while open).
    pub end: Option<NaiveDate>,
    /// The last day of its term, if it has one.
    pub until: Option<NaiveDate>,
    /// Why it ends, when it ends.
    pub end_reason: Option<EndReasonView>,
    /// The address valid on the date, under the unit valid on the date (`null` for an absence).
    pub address: Option<AddressView>,
    /// The 2025 unit the address is in today.
    pub today_unit: Option<UnitView>,
    /// The dwelling.
    pub dwelling: Option<DwellingId>,
    /// The household and relationship to its head on the date.
    pub household: Option<Membership>,
    /// On what it rests.
    pub basis: BasisView,
    /// The event that opened it.
    pub opened_by: OriginView,
    /// The event that closed it.
    pub closed_by: Option<OriginView>,
}

impl ResidenceView {
    fn of(residence: &Residence) -> ResidenceView {
        ResidenceView {
            kind: kind_name(residence.kind),
            start: residence.start,
            end: residence.end,
            until: residence.until,
            end_reason: residence.end_reason.map(EndReasonView::of),
            address: residence.address.as_ref().map(AddressView::of),
            today_unit: residence.today_unit.map(UnitView::of),
            dwelling: residence.dwelling,
            household: residence.membership.clone(),
            basis: BasisView::of(&residence.basis),
            opened_by: OriginView::of(&residence.opened_by),
            closed_by: residence.closed_by.as_ref().map(OriginView::of),
        }
    }
}

/// One ledger record about the subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordInfoView {
    /// Its position.
    pub position: u64,
    /// When it was recorded.
    pub recorded_at: String,
    /// Its event type (`null` when the payload was erased).
    pub event_type: Option<&'static str>,
    /// The event's valid-time date, if it has one.
    pub effective_on: Option<NaiveDate>,
    /// Whether its payload was erased.
    pub erased: bool,
}

impl RecordInfoView {
    fn of(info: &RecordInfo) -> RecordInfoView {
        RecordInfoView {
            position: info.position,
            recorded_at: rfc3339(info.recorded_at),
            event_type: info.event_type.map(|event_type| event_type.as_str()),
            effective_on: info.effective_on,
            erased: info.erased,
        }
    }
}

/// Whether a record is known at `as_known`.
fn known(as_known: AsKnown, info: &RecordInfo) -> bool {
    match as_known {
        AsKnown::Now => true,
        AsKnown::AtPosition(position) => info.position <= position,
        AsKnown::AtTime(micros) => info.recorded_at.micros() <= micros,
    }
}

fn records_known(records: &[RecordInfo], as_known: AsKnown) -> Vec<RecordInfoView> {
    records
        .iter()
        .filter(|info| known(as_known, info))
        .map(RecordInfoView::of)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// GET /v1/persons/{pin}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonQuery {
    on: Option<NaiveDate>,
    as_known_at: Option<String>,
    min_position: Option<u64>,
}

/// A person's residence on one date as known at one point of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonResidenceBody {
    /// The person's internal id.
    pub person: PersonId,
    /// The PIN the person holds, as recorded now.
    pub pin: Option<Pin>,
    /// The name, as recorded now.
    pub name: Option<PersonName>,
    /// The date asked about.
    pub on: NaiveDate,
    /// The state of knowledge of the answer.
    pub as_known_at: AsKnownView,
    /// The household and relationship of the permanent registration (else the temporary one).
    pub household: Option<Membership>,
    /// The permanent registration holding on the date.
    pub permanent: Option<ResidenceView>,
    /// The temporary registration holding on the date.
    pub temporary: Option<ResidenceView>,
    /// The declared current residence holding on the date.
    pub current_residence: Option<ResidenceView>,
    /// The declared absence holding on the date.
    pub absence: Option<ResidenceView>,
    /// The notified stay holding on the date.
    pub stay: Option<ResidenceView>,
    /// The records about the person (and the reorganisation) known then: what the answer rests on.
    pub records: Vec<RecordInfoView>,
    /// How many of the person's records were erased and could not be read.
    pub erased_records: u32,
}

async fn person(
    State(state): State<Arc<AppState>>,
    accountable: Accountable,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<PersonQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Accountable { principal, purpose } = accountable;
    principal.require(&PERSON_READERS)?;
    let Path(pin) = path?;
    let pin = parse_pin(&pin)?;
    let Query(query) = query?;
    let as_known_at = AsKnownAt::parse(query.as_known_at.as_deref(), state.now_utc())?;
    state.wait_visible(query.min_position).await?;
    as_known_at.settle(&state).await?;
    let on = query.on.unwrap_or_else(|| state.today());
    let body = {
        let projections = state.projections.read();
        let person = projections.person_by_pin(pin).ok_or_else(|| {
            ApiError::NotFound("no person in the register holds this PIN".to_owned())
        })?;
        let timeline = projections
            .person_timeline(&state.ledger, person)
            .map_err(query_failed)?;
        let as_known = as_known_at.domain();
        let answer = timeline.residence_on(on, as_known).residence;
        let household = answer
            .permanent
            .as_ref()
            .and_then(|residence| residence.membership.clone())
            .or_else(|| {
                answer
                    .temporary
                    .as_ref()
                    .and_then(|residence| residence.membership.clone())
            });
        PersonResidenceBody {
            person,
            pin: timeline.pin(),
            name: timeline.name().cloned(),
            on,
            as_known_at: as_known_at.view(projections.position()),
            household,
            permanent: answer.permanent.as_ref().map(ResidenceView::of),
            temporary: answer.temporary.as_ref().map(ResidenceView::of),
            current_residence: answer.current.as_ref().map(ResidenceView::of),
            absence: answer.absence.as_ref().map(ResidenceView::of),
            stay: answer.stay.as_ref().map(ResidenceView::of),
            records: records_known(timeline.records(), as_known),
            erased_records: timeline.erased_records(),
        }
    };
    state
        .access
        .record(
            &principal,
            "person.residence",
            &format!("person:{}", body.person),
            format!("on {on}, as known at {}", as_known_at.detail()),
            &purpose,
        )
        .await?;
    Ok(json_response(&body))
}

// ---------------------------------------------------------------------------------------------
// GET /v1/persons/{pin}/history

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    as_known_at: Option<String>,
    min_position: Option<u64>,
}

/// A piece of an interval over which the address and household stay the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentView {
    /// Its first day.
    pub from: NaiveDate,
    /// The first day after it (`null` while the interval is open).
    pub to: Option<NaiveDate>,
    /// The address shown over the piece, under the unit valid then.
    pub address: Option<AddressView>,
    /// The household and relationship over the piece.
    pub household: Option<Membership>,
}

/// One interval of residence on the valid-time axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntervalView {
    /// `permanent`, `temporary`, `current_residence`, `absence` or `stay`.
    pub kind: &'static str,
    /// Its first day.
    pub start: NaiveDate,
    /// The first day it no longer holds (`null` while open).
    pub end: Option<NaiveDate>,
    /// The last day of its term, if it has one.
    pub until: Option<NaiveDate>,
    /// Why it ends, when it ends.
    pub end_reason: Option<EndReasonView>,
    /// The address as registered (`null` for an absence).
    pub address: Option<AddressView>,
    /// The 2025 unit the address is in today.
    pub today_unit: Option<UnitView>,
    /// The dwelling.
    pub dwelling: Option<DwellingId>,
    /// The household and relationship on its first day.
    pub household: Option<Membership>,
    /// On what it rests.
    pub basis: BasisView,
    /// The event that opened it.
    pub opened_by: OriginView,
    /// The event that closed it.
    pub closed_by: Option<OriginView>,
    /// The latest extension of its term.
    pub extended_by: Option<OriginView>,
    /// The interval cut where what it shows changes (recoding, the reorganisation, household).
    pub segments: Vec<SegmentView>,
}

impl IntervalView {
    fn of(interval: &Interval) -> IntervalView {
        IntervalView {
            kind: kind_name(interval.kind),
            start: interval.start,
            end: interval.end,
            until: interval.until,
            end_reason: interval.end_reason.map(EndReasonView::of),
            address: interval.address.as_ref().map(AddressView::of),
            today_unit: interval.today_unit().map(UnitView::of),
            dwelling: interval.dwelling,
            household: interval.membership.clone(),
            basis: BasisView::of(&interval.basis),
            opened_by: OriginView::of(&interval.opened_by),
            closed_by: interval.closed_by.as_ref().map(OriginView::of),
            extended_by: interval.extended_by.as_ref().map(OriginView::of),
            segments: interval
                .segments()
                .iter()
                .map(|segment| SegmentView {
                    from: segment.from,
                    to: segment.to,
                    address: segment.address.as_ref().map(AddressView::of),
                    household: segment.membership.clone(),
                })
                .collect(),
        }
    }
}

/// A registration voided by an annulment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoidedView {
    /// The interval the registration would have had.
    pub interval: IntervalView,
    /// The annulment.
    pub annulled_by: OriginView,
}

/// A person's residence history as known at one point of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonHistoryBody {
    /// The person's internal id.
    pub person: PersonId,
    /// The PIN the person holds, as recorded now.
    pub pin: Option<Pin>,
    /// The name, as recorded now.
    pub name: Option<PersonName>,
    /// The state of knowledge of the answer.
    pub as_known_at: AsKnownView,
    /// Every interval, by start date.
    pub intervals: Vec<IntervalView>,
    /// Registrations voided by annulments.
    pub voided: Vec<VoidedView>,
    /// The records about the person (and the reorganisation) known then.
    pub records: Vec<RecordInfoView>,
    /// How many of the person's records were erased and could not be read.
    pub erased_records: u32,
}

async fn history(
    State(state): State<Arc<AppState>>,
    accountable: Accountable,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Accountable { principal, purpose } = accountable;
    principal.require(&PERSON_READERS)?;
    let Path(pin) = path?;
    let pin = parse_pin(&pin)?;
    let Query(query) = query?;
    let as_known_at = AsKnownAt::parse(query.as_known_at.as_deref(), state.now_utc())?;
    state.wait_visible(query.min_position).await?;
    as_known_at.settle(&state).await?;
    let body = {
        let projections = state.projections.read();
        let person = projections.person_by_pin(pin).ok_or_else(|| {
            ApiError::NotFound("no person in the register holds this PIN".to_owned())
        })?;
        let timeline = projections
            .person_timeline(&state.ledger, person)
            .map_err(query_failed)?;
        let as_known = as_known_at.domain();
        let view = timeline.timeline().view(as_known);
        PersonHistoryBody {
            person,
            pin: timeline.pin(),
            name: timeline.name().cloned(),
            as_known_at: as_known_at.view(projections.position()),
            intervals: view.intervals().iter().map(IntervalView::of).collect(),
            voided: view
                .voided()
                .iter()
                .map(|voided| VoidedView {
                    interval: IntervalView::of(&voided.interval),
                    annulled_by: OriginView::of(&voided.annulled_by),
                })
                .collect(),
            records: records_known(timeline.records(), as_known),
            erased_records: timeline.erased_records(),
        }
    };
    state
        .access
        .record(
            &principal,
            "person.history",
            &format!("person:{}", body.person),
            format!("as known at {}", as_known_at.detail()),
            &purpose,
        )
        .await?;
    Ok(json_response(&body))
}

// ---------------------------------------------------------------------------------------------
// GET /v1/households/{household}/book

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BookQuery {
    on: Option<NaiveDate>,
    as_known_at: Option<String>,
    min_position: Option<u64>,
}

/// One member in a household book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookMemberView {
    /// The member's internal id.
    pub person: PersonId,
    /// Their PIN, as recorded now.
    pub pin: Option<Pin>,
    /// Their name, as recorded now.
    pub name: Option<PersonName>,
    /// Their relationship to the head on the date.
    pub relationship: Relationship,
    /// The registration placing them in the household: `permanent` or `temporary`.
    pub registration: &'static str,
    /// The first day of that registration.
    pub registered_since: NaiveDate,
    /// The position of the event that opened it.
    pub opened_at: u64,
}

/// The digital household book (sổ hộ khẩu) on one date as known at one point of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HouseholdBookBody {
    /// The household.
    pub household: HouseholdId,
    /// The date the book shows.
    pub on: NaiveDate,
    /// The state of knowledge of the answer.
    pub as_known_at: AsKnownView,
    /// The residence file number, when one was issued.
    pub file_number: Option<String>,
    /// The day the household came into being.
    pub founded_on: Option<NaiveDate>,
    /// Whether it is a household of permanent residents.
    pub permanent: Option<bool>,
    /// The household it split from.
    pub split_from: Option<HouseholdId>,
    /// The address on the date, under the unit valid on the date.
    pub address: Option<AddressView>,
    /// The 2025 unit the address is in today.
    pub today_unit: Option<UnitView>,
    /// The head on the date.
    pub head: Option<PersonId>,
    /// The household has members but no head.
    pub head_vacant: bool,
    /// The members on the date, the head first.
    pub members: Vec<BookMemberView>,
    /// Every record about the household known then.
    pub history: Vec<RecordInfoView>,
}

async fn book(
    State(state): State<Arc<AppState>>,
    accountable: Accountable,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<BookQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Accountable { principal, purpose } = accountable;
    principal.require(&PERSON_READERS)?;
    let Path(household) = path?;
    let household: HouseholdId =
        household
            .parse()
            .map_err(|error: residence_domain::ids::IdParseError| {
                ApiError::BadRequest(error.to_string())
            })?;
    let Query(query) = query?;
    let as_known_at = AsKnownAt::parse(query.as_known_at.as_deref(), state.now_utc())?;
    state.wait_visible(query.min_position).await?;
    as_known_at.settle(&state).await?;
    let on = query.on.unwrap_or_else(|| state.today());
    let body = {
        let projections = state.projections.read();
        let book = projections
            .household_book(&state.ledger, household, on, as_known_at.domain())
            .map_err(query_failed)?;
        let mut members = Vec::with_capacity(book.members.len());
        for member in &book.members {
            let name = projections
                .person_timeline(&state.ledger, member.person)
                .map_err(query_failed)?
                .name()
                .cloned();
            members.push(BookMemberView {
                person: member.person,
                pin: member.pin,
                name,
                relationship: member.relationship.clone(),
                registration: kind_name(member.registration),
                registered_since: member.registered_since,
                opened_at: member.opened_at,
            });
        }
        HouseholdBookBody {
            household,
            on,
            as_known_at: as_known_at.view(projections.position()),
            file_number: book.file_number.clone(),
            founded_on: book.founded_on,
            permanent: book.permanent,
            split_from: book.split_from,
            address: book.address.as_ref().map(AddressView::of),
            today_unit: book.today_unit.map(UnitView::of),
            head: book.head,
            head_vacant: book.head_vacant,
            members,
            history: book.history.iter().map(RecordInfoView::of).collect(),
        }
    };
    state
        .access
        .record(
            &principal,
            "household.book",
            &format!("household:{household}"),
            format!("on {on}, as known at {}", as_known_at.detail()),
            &purpose,
        )
        .await?;
    Ok(json_response(&body))
}

// ---------------------------------------------------------------------------------------------
// GET /v1/units/{unit}/residents

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResidentsQuery {
    on: Option<NaiveDate>,
    street: Option<String>,
    after: Option<String>,
    limit: Option<u64>,
    min_position: Option<u64>,
}

/// Where a page of a register continues: after a household (households come first, by id), or
/// after a person of the individuals (registered in no household, by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Household(HouseholdId),
    Person(PersonId),
}

impl Cursor {
    fn parse(text: &str) -> Result<Cursor, ApiError> {
        let bad = || {
            ApiError::BadRequest(
                "after must be the `next` of a previous page (household:<id> or person:<id>)"
                    .to_owned(),
            )
        };
        match text.split_once(':') {
            Some(("household", id)) => id.parse().map(Cursor::Household).map_err(|_| bad()),
            Some(("person", id)) => id.parse().map(Cursor::Person).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }

    fn text(self) -> String {
        match self {
            Cursor::Household(id) => format!("household:{id}"),
            Cursor::Person(id) => format!("person:{id}"),
        }
    }
}

/// One person registered at the unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResidentView {
    /// The person's internal id.
    pub person: PersonId,
    /// Their PIN, as recorded now.
    pub pin: Option<Pin>,
    /// `permanent` or `temporary`.
    pub registration: &'static str,
    /// The first day of the registration.
    pub since: NaiveDate,
    /// The last day of a temporary term.
    pub until: Option<NaiveDate>,
    /// The address as shown on the date.
    pub address: AddressView,
    /// The relationship to the head of the household, for members of one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relationship: Option<Relationship>,
}

/// One household with members registered at the unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResidentHouseholdView {
    /// The household.
    pub household: HouseholdId,
    /// Its residence file number.
    pub file_number: Option<String>,
    /// Its head on the date, if registered here.
    pub head: Option<PersonId>,
    /// Its members registered here.
    pub members: Vec<ResidentView>,
}

/// One page of the register of a unit on a date, as known now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResidentsBody {
    /// The unit.
    pub unit: UnitView,
    /// The street line, for the register of one address.
    pub street: Option<StreetLine>,
    /// The date.
    pub on: NaiveDate,
    /// The state of knowledge of the answer.
    pub as_known_at: AsKnownView,
    /// Households in the whole register.
    pub households_total: usize,
    /// People (registrations) in the whole register.
    pub people_total: usize,
    /// This page's households, by id.
    pub households: Vec<ResidentHouseholdView>,
    /// This page's people registered in no household, by id.
    pub individuals: Vec<ResidentView>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next: Option<String>,
}

fn span_name(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::Permanent => "permanent",
        SpanKind::Temporary => "temporary",
        SpanKind::Absence => "absence",
    }
}

async fn residents(
    State(state): State<Arc<AppState>>,
    accountable: Accountable,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<ResidentsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Accountable { principal, purpose } = accountable;
    principal.require(&REGISTER_READERS)?;
    let Path(unit) = path?;
    let unit = parse_unit(&unit)?;
    if matches!(principal.role, Role::Officer | Role::Supervisor)
        && !principal.jurisdiction.covers(unit)
    {
        return Err(ApiError::OutsideJurisdiction(OutsideJurisdiction::Unit {
            unit,
        }));
    }
    let Query(query) = query?;
    let limit = page_limit(query.limit, RESIDENTS_PAGE_DEFAULT, super::RECORDS_MAX)?;
    let street = query
        .street
        .as_deref()
        .map(StreetLine::parse)
        .transpose()
        .map_err(|error| ApiError::BadRequest(error.to_string()))?;
    let after = query.after.as_deref().map(Cursor::parse).transpose()?;
    state.wait_visible(query.min_position).await?;
    let on = query.on.unwrap_or_else(|| state.today());
    let body = {
        let projections = state.projections.read();
        let register = projections.register(unit, street.as_ref(), on);
        let resident = |entry: &residence_projections::register::RegisterEntry| ResidentView {
            person: entry.person,
            pin: projections.pin_of(entry.person),
            registration: span_name(entry.kind),
            since: entry.since,
            until: entry.until,
            address: AddressView::of(&entry.address),
            relationship: entry
                .household
                .as_ref()
                .map(|(_, relationship)| relationship.clone()),
        };
        let people_total = register
            .households
            .iter()
            .map(|household| household.members.len())
            .sum::<usize>()
            + register.individuals.len();
        let mut rows: u64 = 0;
        let mut last: Option<Cursor> = None;
        let mut next: Option<Cursor> = None;
        let mut households = Vec::new();
        let mut individuals = Vec::new();
        let skip_households = matches!(after, Some(Cursor::Person(_)));
        for household in &register.households {
            if skip_households
                || matches!(after, Some(Cursor::Household(id)) if household.household <= id)
            {
                continue;
            }
            let size = household.members.len() as u64;
            if rows > 0 && rows + size > limit {
                next = last;
                break;
            }
            rows += size;
            last = Some(Cursor::Household(household.household));
            households.push(ResidentHouseholdView {
                household: household.household,
                file_number: household.file_number.clone(),
                head: household.head,
                members: household.members.iter().map(resident).collect(),
            });
        }
        if next.is_none() {
            for entry in &register.individuals {
                if matches!(after, Some(Cursor::Person(id)) if entry.person <= id) {
                    continue;
                }
                // Never split the two registrations of one person between pages.
                if rows >= limit && last != Some(Cursor::Person(entry.person)) {
                    next = last;
                    break;
                }
                rows += 1;
                last = Some(Cursor::Person(entry.person));
                individuals.push(resident(entry));
            }
        }
        ResidentsBody {
            unit: UnitView::of(unit),
            street,
            on,
            as_known_at: AsKnownAt::Head.view(projections.position()),
            households_total: register.households.len(),
            people_total,
            households,
            individuals,
            next: next.map(Cursor::text),
        }
    };
    state
        .access
        .record(
            &principal,
            "unit.residents",
            &format!("unit:{unit}"),
            format!(
                "on {on}{}{}",
                body.street
                    .as_ref()
                    .map(|street| format!(", street {street}"))
                    .unwrap_or_default(),
                after
                    .map(|after| format!(", after {}", after.text()))
                    .unwrap_or_default()
            ),
            &purpose,
        )
        .await?;
    Ok(json_response(&body))
}

// ---------------------------------------------------------------------------------------------
// GET /v1/statistics/population

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

    fn now() -> DateTime<Utc> {
        "2026-11-27T03:00:00Z".parse().unwrap()
    }

    #[test]
    fn as_known_at_is_a_position_or_a_past_time() {
        assert_eq!(AsKnownAt::parse(None, now()).unwrap(), AsKnownAt::Head);
        assert_eq!(
            AsKnownAt::parse(Some("12"), now()).unwrap(),
            AsKnownAt::Position(12)
        );
        assert_eq!(
            AsKnownAt::parse(Some("2026-11-27T09:00:00+07:00"), now()).unwrap(),
            AsKnownAt::Time("2026-11-27T02:00:00Z".parse().unwrap())
        );
        for bad in ["", "yesterday", "-1", "2026-11-27", "2026-11-28T00:00:00Z"] {
            assert!(
                matches!(
                    AsKnownAt::parse(Some(bad), now()),
                    Err(ApiError::BadRequest(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_state_of_knowledge_names_the_last_record_included() {
        assert_eq!(AsKnownAt::Head.view(0).position, None);
        assert_eq!(AsKnownAt::Head.view(7).position, Some(6));
        assert_eq!(AsKnownAt::Position(3).view(7).position, Some(3));
    }

    #[test]
    fn page_limits_are_bounded() {
        assert_eq!(page_limit(None, 200, 1000).unwrap(), 200);
        assert_eq!(page_limit(Some(1000), 200, 1000).unwrap(), 1000);
        assert!(matches!(
            page_limit(Some(0), 200, 1000),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            page_limit(Some(1001), 200, 1000),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn units_parse_on_either_map_and_must_exist() {
        assert_eq!(
            parse_unit("2025:00004").unwrap(),
            UnitRef::y2025(UnitCode::new(4).unwrap())
        );
        assert_eq!(
            parse_unit("00004").unwrap(),
            UnitRef::y2025(UnitCode::new(4).unwrap())
        );
        assert_eq!(
            parse_unit("legacy:00001").unwrap(),
            UnitRef::legacy(UnitCode::new(1).unwrap())
        );
        assert!(matches!(parse_unit("2025:4"), Err(ApiError::BadRequest(_))));
        assert!(matches!(
            parse_unit("2025:99998"),
            Err(ApiError::NotFound(_))
        ));
    }

    #[test]
    fn register_cursors_round_trip() {
        for cursor in [
            Cursor::Household(HouseholdId::new(16)),
            Cursor::Person(PersonId::new(1)),
        ] {
            assert_eq!(Cursor::parse(&cursor.text()).unwrap(), cursor);
        }
        assert!(matches!(
            Cursor::parse("dwelling:0000000000000001"),
            Err(ApiError::BadRequest(_))
        ));
    }
}
