//! The query endpoints that read personal data: a person's residence on a date as known at a
//! point of the ledger, their history, a household book, and the people registered at a unit.
//!
//! Why two time axes on the wire: a court asks "where was this person registered on that date,
//! and what did the register know then?". `on=YYYY-MM-DD` picks the valid-time date (default:
//! today in Vietnam) and `as_known_at=` the state of knowledge, either a ledger position (the
//! records up to and including it) or an RFC 3339 time (the records recorded at or before it);
//! the default is everything the projections have folded. Every answer names the state of
//! knowledge it rests on (`as_known_at.position`), so the same question can be asked again
//! later and gets the same answer, and every residence names the ledger records (positions and
//! event ids) that opened and closed it, for inclusion proofs. How the parameters are read is
//! shared with the other endpoints ([`super::params`]).
//!
//! Why the access log comes first: every endpoint here reads personal data, so it takes the
//! [`Accountable`] extractor (a token and an `X-Purpose`) and awaits
//! [`crate::access_log::AccessLog::record`] after the answer is computed and before the response
//! is built; when the entry cannot be made durable the caller gets 503 and no data. A question
//! whose answer is "not found" is logged too, before the 404 is answered (subject the PIN or
//! household asked for, detail ending in "not found"): whether a PIN is held is itself what a
//! prober wants to learn, and no one may learn it untraced.
//!
//! Read-your-writes: every query takes `min_position=N` (the position a command returned) and
//! waits until the projections have folded it.
//!
//! Roles (see [`crate::auth`]): persons, histories and household books are read by officers
//! (any person: an officer registering a newcomer must see where they come from), supervisors,
//! courts and auditors; the people at a unit by officers and supervisors within their
//! jurisdiction, courts and auditors everywhere. Administrators and the population database's
//! feed read no personal data. Population counts are not personal data: they are served apart
//! ([`super::statistics`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
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
use residence_domain::units::{UnitRef, registry};
use residence_ledger::record::Timestamp;
use residence_projections::person::{QueryError, RecordInfo};
use residence_projections::residence::SpanKind;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use super::extract::{Accountable, logged_not_found};
use super::params::{
    AsKnownAt, AsKnownView, json_response, page_limit, parse_pin, parse_unit, query_failed, rfc3339,
};
use crate::auth::Role;

/// Who may read one person's or one household's data.
const PERSON_READERS: [Role; 4] = [Role::Officer, Role::Supervisor, Role::Auditor, Role::Court];
/// Who may read the register of a unit (officers and supervisors only within their
/// jurisdiction).
const REGISTER_READERS: [Role; 4] = [Role::Officer, Role::Supervisor, Role::Auditor, Role::Court];
/// The answer to a PIN that no person holds (the same for a PIN never issued and one since
/// reassigned: the register says nothing about which).
const PIN_UNKNOWN: &str = "no person in the register holds this PIN";
/// The answer to a household the register does not hold.
const HOUSEHOLD_UNKNOWN: &str = "no such household in the register";
/// The people returned by one page of a register when `limit` is not given.
const RESIDENTS_PAGE_DEFAULT: u64 = 200;

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/persons/{pin}", get(person))
        .route("/v1/persons/{pin}/history", get(history))
        .route("/v1/households/{household}/book", get(book))
        .route("/v1/units/{unit}/residents", get(residents))
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

/// One residence fact: what a person's residence on a date shows of each fact holding then,
/// and what each interval of a history starts with (flattened into [`IntervalView`], whose
/// members continue after these).
///
/// Declared once for both answers so that a fact reads the same wherever it is shown; the two
/// differ only in the moment the address and household are taken at, said per member.
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
    /// On a date: the address valid on the date, under the unit valid on the date; in a
    /// history: the address as registered (`null` for an absence).
    pub address: Option<AddressView>,
    /// The 2025 unit the address is in today.
    pub today_unit: Option<UnitView>,
    /// The dwelling.
    pub dwelling: Option<DwellingId>,
    /// The household and relationship to its head: on the date, or in a history on the
    /// interval's first day.
    pub household: Option<Membership>,
    /// On what it rests.
    pub basis: BasisView,
    /// The event that opened it.
    pub opened_by: OriginView,
    /// The event that closed it.
    pub closed_by: Option<OriginView>,
}

impl ResidenceView {
    /// A fact as shown on the date asked about.
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

    /// An interval's fact as registered: its address as registered, its household on its
    /// first day (what changes later is in its segments).
    fn of_interval(interval: &Interval) -> ResidenceView {
        ResidenceView {
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
    let detail = format!("on {on}, as known at {}", as_known_at.detail());
    // The projections' guard is held within the block only (never across an await).
    let found = 'found: {
        let projections = state.projections.read();
        let Some(person) = projections.person_by_pin(pin) else {
            break 'found None;
        };
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
        Some(PersonResidenceBody {
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
        })
    };
    let Some(body) = found else {
        return Err(logged_not_found(
            &state,
            &principal,
            &purpose,
            "person.residence",
            &format!("pin:{pin}"),
            detail,
            PIN_UNKNOWN,
        )
        .await);
    };
    state
        .access
        .record(
            &principal,
            "person.residence",
            &format!("person:{}", body.person),
            detail,
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

/// One interval of residence on the valid-time axis: the members of [`ResidenceView`] (the
/// fact as registered) followed by its extension and its segments, in one flat object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntervalView {
    /// The fact as registered: the address as registered, the household on its first day.
    #[serde(flatten)]
    pub fact: ResidenceView,
    /// The latest extension of its term.
    pub extended_by: Option<OriginView>,
    /// The interval cut where what it shows changes (recoding, the reorganisation, household).
    pub segments: Vec<SegmentView>,
}

impl IntervalView {
    fn of(interval: &Interval) -> IntervalView {
        IntervalView {
            fact: ResidenceView::of_interval(interval),
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
    let detail = format!("as known at {}", as_known_at.detail());
    // The projections' guard is held within the block only (never across an await).
    let found = 'found: {
        let projections = state.projections.read();
        let Some(person) = projections.person_by_pin(pin) else {
            break 'found None;
        };
        let timeline = projections
            .person_timeline(&state.ledger, person)
            .map_err(query_failed)?;
        let as_known = as_known_at.domain();
        let view = timeline.timeline().view(as_known);
        Some(PersonHistoryBody {
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
        })
    };
    let Some(body) = found else {
        return Err(logged_not_found(
            &state,
            &principal,
            &purpose,
            "person.history",
            &format!("pin:{pin}"),
            detail,
            PIN_UNKNOWN,
        )
        .await);
    };
    state
        .access
        .record(
            &principal,
            "person.history",
            &format!("person:{}", body.person),
            detail,
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
    let detail = format!("on {on}, as known at {}", as_known_at.detail());
    // The projections' guard is held within the block only (never across an await).
    let found = 'found: {
        let projections = state.projections.read();
        let book =
            match projections.household_book(&state.ledger, household, on, as_known_at.domain()) {
                Ok(book) => book,
                Err(QueryError::UnknownHousehold(_)) => break 'found None,
                Err(error) => return Err(query_failed(error)),
            };
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
        Some(HouseholdBookBody {
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
        })
    };
    let Some(body) = found else {
        return Err(logged_not_found(
            &state,
            &principal,
            &purpose,
            "household.book",
            &format!("household:{household}"),
            detail,
            HOUSEHOLD_UNKNOWN,
        )
        .await);
    };
    state
        .access
        .record(
            &principal,
            "household.book",
            &format!("household:{household}"),
            detail,
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
    let unit = match parse_unit(&unit) {
        Ok(unit) => unit,
        Err(ApiError::NotFound(message)) => {
            // A well-formed code the map does not have (the text is only a unit code).
            return Err(logged_not_found(
                &state,
                &principal,
                &purpose,
                "unit.residents",
                &format!("unit:{unit}"),
                String::new(),
                &message,
            )
            .await);
        }
        Err(error) => return Err(error),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A fact with every member given, for the wire-format checks.
    fn fact() -> ResidenceView {
        let origin = |position: u64| OriginView {
            position,
            recorded_at: "2026-11-27T03:00:00.000000Z".to_owned(),
            event_id: "2763a7fda97f367b713e5f1b237f304b".to_owned(),
            corrected_by: None,
        };
        let address = AddressView {
            unit: "2025:00004".parse().unwrap(),
            unit_name: Some("Phường Ba Đình, Thành phố Hà Nội".to_owned()),
            street: serde_json::from_value(serde_json::json!("Số 12 phố Trúc Bạch")).unwrap(),
        };
        ResidenceView {
            kind: "temporary",
            start: "2026-10-01".parse().unwrap(),
            end: Some("2027-10-01".parse().unwrap()),
            until: Some("2027-09-30".parse().unwrap()),
            end_reason: Some(EndReasonView::of(EndReason::TermEnded)),
            address: Some(address),
            today_unit: Some(UnitView::of("2025:00004".parse().unwrap())),
            dwelling: Some(serde_json::from_value(serde_json::json!("0000000000000200")).unwrap()),
            household: Some(
                serde_json::from_value(
                    serde_json::json!({"household": "0000000000000010", "relationship": "VO"}),
                )
                .unwrap(),
            ),
            basis: BasisView::of(&Basis::Temporary),
            opened_by: origin(7),
            closed_by: Some(origin(9)),
        }
    }

    #[test]
    fn an_interval_is_written_as_the_flat_object_it_always_was() {
        // The members of an interval as they were declared before an interval shared the
        // fact's members: the same names in the same order, in one object.
        #[derive(Serialize)]
        struct Flat<'a> {
            kind: &'a str,
            start: NaiveDate,
            end: Option<NaiveDate>,
            until: Option<NaiveDate>,
            end_reason: &'a Option<EndReasonView>,
            address: &'a Option<AddressView>,
            today_unit: &'a Option<UnitView>,
            dwelling: Option<DwellingId>,
            household: &'a Option<Membership>,
            basis: &'a BasisView,
            opened_by: &'a OriginView,
            closed_by: &'a Option<OriginView>,
            extended_by: &'a Option<OriginView>,
            segments: &'a [SegmentView],
        }
        let fact = fact();
        let interval = IntervalView {
            fact: fact.clone(),
            extended_by: Some(fact.opened_by.clone()),
            segments: vec![SegmentView {
                from: fact.start,
                to: fact.end,
                address: fact.address.clone(),
                household: fact.household.clone(),
            }],
        };
        let flat = Flat {
            kind: fact.kind,
            start: fact.start,
            end: fact.end,
            until: fact.until,
            end_reason: &fact.end_reason,
            address: &fact.address,
            today_unit: &fact.today_unit,
            dwelling: fact.dwelling,
            household: &fact.household,
            basis: &fact.basis,
            opened_by: &fact.opened_by,
            closed_by: &fact.closed_by,
            extended_by: &interval.extended_by,
            segments: &interval.segments,
        };
        assert_eq!(
            serde_json::to_string(&interval).unwrap(),
            serde_json::to_string(&flat).unwrap()
        );
        // A residence on a date is the fact's members alone, in the same order.
        let text = serde_json::to_string(&fact).unwrap();
        let flat_text = serde_json::to_string(&flat).unwrap();
        let shared = flat_text
            .split_once(",\"extended_by\"")
            .map(|(fact, _)| format!("{fact}}}"))
            .unwrap();
        assert_eq!(text, shared);
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
