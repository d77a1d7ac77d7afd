//! The decision state and `evolve`: what the register knows, folded from events, for `decide`.
//!
//! Why a fold with no rules: the ledger is the ground truth and events are facts that were
//! decided already, so folding one never fails and never judges (the cqrs-es rule: all business
//! logic in `decide`, none in `evolve`). An event that an earlier binary accepted is recorded as
//! it says, even where today's rules would refuse it.
//!
//! What it holds: persons (PIN, name, birth date, sex, death, and their permanent and temporary
//! registrations as valid-time intervals, absences, declarations, current address), households
//! (members with their relationship, head or head vacancy with its cause, dwelling, kind),
//! dwellings (address history, Art 23 restrictions, floor area), PINs with their holders,
//! applications, and the events read (with their ids, when known), so annulments and
//! corrections can find the event they name.
//!
//! Time: registrations are kept as intervals on the valid-time axis, so backdated commands are
//! checked against the whole history. A permanent registration holds from its `effective_on` to
//! the `effective_on` of the deletion or next permanent registration that ends it (exclusive);
//! a temporary one through its `until`, or to a deletion (exclusive). Household membership and
//! heads are the latest recorded facts (the register as it stands), not valid-time intervals.
//! A deletion ends the registration holding on its date (for a temporary one, the one at the
//! dwelling it names), so a backdated deletion cuts a registration shorter; an extension moves
//! the term of the registration at its dwelling whose term ended on its `previous_until`.
//!
//! Invariants: [`State::violations`] lists what a state breaks (overlapping registrations, a
//! registration ending before it starts or holding after its holder's recorded death, a
//! deletion or extension that matches no registration, two heads, a head who is not a member,
//! a household left headless other than by death or ex-officio deletion, a PIN held twice).
//! `decide` never produces such a state; a correction that would is refused.
//!
//! Partial states: a decision folds only the events of its command's read tags, so the state may
//! know a person or household only through some of its events (a household seen through one
//! member's registration). Entities whose own tag was read are complete; invariant checks on a
//! partial state are therefore scoped ([`State::violations_among`]).
//!
//! Corrections: an [`EventCorrected`] replaces the event it names (when that event was folded
//! with its id) and the state is refolded from the events read, so the state reads the
//! replacement in the corrected event's place.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::NaiveDate;

use crate::address::{Address, PersonName};
use crate::event::{
    AbsenceClause, DeletionGround, DocumentNumber, Event, EventCorrected, FloorArea, LegacyBook,
    PermanentBasis, Procedure, RegistrationKind, RestrictionKind,
};
use crate::event_id::EventId;
use crate::grounds::{Initiator, PermanentDeletionGround, TemporaryDeletionGround};
use crate::ids::{ApplicationId, CertificateId, DwellingId, HouseholdId, PersonId};
use crate::pin::{Pin, Sex};
use crate::relationship::Relationship;
use crate::rules::age_on;
use crate::tag::Tag;

/// One permanent registration on the valid-time axis: `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermanentInterval {
    /// The first day.
    pub start: NaiveDate,
    /// The first day it no longer holds (deletion or next permanent registration); `None` while
    /// it holds.
    pub end: Option<NaiveDate>,
    /// The basis.
    pub basis: PermanentBasis,
    /// The dwelling.
    pub dwelling: DwellingId,
    /// The address as registered (the dwelling's recodings apply on top).
    pub address: Address,
    /// The household the person is in by this registration (changed by a split).
    pub household: HouseholdId,
    /// The event that made it, when folded with its id.
    pub event: Option<EventId>,
    /// Whether the registration was annulled (Art 35); it still holds until deleted.
    pub annulled: bool,
}

impl PermanentInterval {
    /// Whether it holds on `date`.
    pub fn holds_on(&self, date: NaiveDate) -> bool {
        self.start <= date && self.end.is_none_or(|end| date < end)
    }
}

/// One temporary registration on the valid-time axis: `[start, until]`, cut short by a
/// deletion at `deleted_on` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporaryInterval {
    /// The first day.
    pub start: NaiveDate,
    /// The last day of the term, included (moved by extensions).
    pub until: NaiveDate,
    /// The day a deletion took effect, if any.
    pub deleted_on: Option<NaiveDate>,
    /// The dwelling.
    pub dwelling: DwellingId,
    /// The address as registered.
    pub address: Address,
    /// The temporary household, if any.
    pub household: Option<HouseholdId>,
    /// The event that made it, when folded with its id.
    pub event: Option<EventId>,
    /// Whether the registration was annulled.
    pub annulled: bool,
    /// The days extensions of it were granted.
    pub extended_on: Vec<NaiveDate>,
}

impl TemporaryInterval {
    /// The first day it no longer holds.
    pub fn end_exclusive(&self) -> NaiveDate {
        let term_end = self.until.succ_opt().unwrap_or(NaiveDate::MAX);
        self.deleted_on
            .map_or(term_end, |deleted| deleted.min(term_end))
    }

    /// Whether it holds on `date`.
    pub fn holds_on(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end_exclusive()
    }
}

/// A declared temporary absence, `[start, until]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsencePeriod {
    /// The first day.
    pub start: NaiveDate,
    /// The last day, included.
    pub until: NaiveDate,
    /// The clause of Art 31.1.
    pub clause: AbsenceClause,
}

/// An Art 19 declaration of current residence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredResidence {
    /// The first day.
    pub start: NaiveDate,
    /// Where.
    pub address: Address,
    /// The dwelling, if known.
    pub dwelling: Option<DwellingId>,
}

/// The current address (nơi ở hiện tại) after an in-commune move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentAddress {
    /// The first day.
    pub start: NaiveDate,
    /// Where.
    pub address: Address,
    /// The dwelling, if known.
    pub dwelling: Option<DwellingId>,
}

/// A CT07 issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The certificate.
    pub certificate: CertificateId,
    /// The day of issue.
    pub issued_on: NaiveDate,
    /// The last day of validity.
    pub valid_until: NaiveDate,
}

/// What the register knows about a person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonRecord {
    /// Whether the person was recorded from the population database (I7).
    pub recorded: bool,
    /// The current PIN.
    pub pin: Option<Pin>,
    /// The name.
    pub name: Option<PersonName>,
    /// The date of birth.
    pub birth_date: Option<NaiveDate>,
    /// The sex.
    pub sex: Option<Sex>,
    /// The date of death (or of a declaration of death or disappearance) of a deletion on
    /// ground a, when one was recorded.
    pub died_on: Option<NaiveDate>,
    /// The date of death a detected ground reports, before any deletion.
    pub death_reported_on: Option<NaiveDate>,
    /// Permanent registrations, in the order recorded.
    pub permanent: Vec<PermanentInterval>,
    /// Temporary registrations, in the order recorded.
    pub temporary: Vec<TemporaryInterval>,
    /// Declared absences.
    pub absences: Vec<AbsencePeriod>,
    /// Art 19 declarations.
    pub declared: Vec<DeclaredResidence>,
    /// The latest current address, if one was recorded.
    pub current_address: Option<CurrentAddress>,
    /// Deletion grounds detected, with the day they arose.
    pub grounds: Vec<(NaiveDate, DeletionGround)>,
    /// CT07s issued.
    pub certificates: Vec<Certificate>,
    /// The days of extensions that matched no registration (the registration's term was
    /// corrected after it was extended).
    pub unmatched_extensions: Vec<NaiveDate>,
    /// The days of deletions that matched no registration (the registration was corrected
    /// after it was deleted).
    pub unmatched_deletions: Vec<NaiveDate>,
}

impl PersonRecord {
    /// The earliest date of death known, from a deletion or a detected ground.
    pub fn death_known_on(&self) -> Option<NaiveDate> {
        match (self.died_on, self.death_reported_on) {
            (Some(died), Some(reported)) => Some(died.min(reported)),
            (died, reported) => died.or(reported),
        }
    }

    /// The permanent registration holding on `date`.
    pub fn permanent_on(&self, date: NaiveDate) -> Option<&PermanentInterval> {
        self.permanent
            .iter()
            .find(|interval| interval.holds_on(date))
    }

    /// The permanent registration that has not ended (the latest one), if any.
    pub fn open_permanent(&self) -> Option<&PermanentInterval> {
        self.permanent
            .iter()
            .rev()
            .find(|interval| interval.end.is_none())
    }

    /// The temporary registration holding on `date`.
    pub fn temporary_on(&self, date: NaiveDate) -> Option<&TemporaryInterval> {
        self.temporary
            .iter()
            .find(|interval| interval.holds_on(date))
    }

    /// Whether a declared absence covers `date`.
    pub fn absent_on(&self, date: NaiveDate) -> bool {
        self.absences
            .iter()
            .any(|absence| absence.start <= date && date <= absence.until)
    }

    /// The latest Art 19 declaration starting on or before `date`.
    pub fn declared_on(&self, date: NaiveDate) -> Option<&DeclaredResidence> {
        self.declared
            .iter()
            .filter(|declared| declared.start <= date)
            .max_by_key(|declared| declared.start)
    }

    /// Full age in years on `date`, when the birth date is known.
    pub fn age_on(&self, date: NaiveDate) -> Option<u32> {
        self.birth_date.map(|birth| age_on(birth, date))
    }

    /// The permanent household the person is in now (by their open registration).
    pub fn permanent_household(&self) -> Option<HouseholdId> {
        self.open_permanent().map(|interval| interval.household)
    }
}

/// Why a household has no head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VacancyCause {
    /// The head died or was declared dead or missing.
    HeadDied,
    /// The head's registration was deleted ex officio.
    HeadDeletedExOfficio,
    /// The head left otherwise. The law requires a new head in the same decision, so a
    /// household is never left like this once a decision's events are all folded.
    HeadLeft,
}

/// What the register knows about a household.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdRecord {
    /// Whether its establishment (or the split that created it) was folded.
    pub established: bool,
    /// The day it came into being.
    pub established_on: Option<NaiveDate>,
    /// Permanent or temporary residents.
    pub kind: Option<RegistrationKind>,
    /// Its dwelling.
    pub dwelling: Option<DwellingId>,
    /// Its address as established or last recoded.
    pub address: Option<Address>,
    /// Members with their relationship to the head (the head with `CHU_HO`).
    pub members: BTreeMap<PersonId, Relationship>,
    /// The head.
    pub head: Option<PersonId>,
    /// Why there is no head, when there are members and no head.
    pub vacancy: Option<VacancyCause>,
    /// Legacy books revoked.
    pub revoked_books: Vec<(LegacyBook, DocumentNumber)>,
}

impl HouseholdRecord {
    fn add_member(&mut self, person: PersonId, relationship: Relationship) {
        if relationship == Relationship::ChuHo {
            self.head = Some(person);
            self.vacancy = None;
        }
        self.members.insert(person, relationship);
    }

    fn remove_member(&mut self, person: PersonId, cause: VacancyCause) {
        self.members.remove(&person);
        if self.head == Some(person) {
            self.head = None;
            self.vacancy = (!self.members.is_empty()).then_some(cause);
        }
        if self.members.is_empty() {
            self.vacancy = None;
        }
    }
}

/// An Art 23 restriction of one kind, `[from, lifted_on)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    /// The kind.
    pub kind: RestrictionKind,
    /// The first day.
    pub from: NaiveDate,
    /// The day it was lifted, if it was.
    pub lifted_on: Option<NaiveDate>,
}

impl Restriction {
    /// Whether it is in force on `date`.
    pub fn holds_on(&self, date: NaiveDate) -> bool {
        self.from <= date && self.lifted_on.is_none_or(|lifted| date < lifted)
    }
}

/// What the register knows about a dwelling.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DwellingRecord {
    /// Its addresses, each with the first day it applies, in the order recorded: the first
    /// address an event gave it, then every recoding.
    pub addresses: Vec<(NaiveDate, Address)>,
    /// Its recodings only, each with the first day the new address applies.
    pub recodings: Vec<(NaiveDate, Address)>,
    /// Art 23 restrictions.
    pub restrictions: Vec<Restriction>,
    /// The latest floor area declared.
    pub floor_area: Option<FloorArea>,
}

impl DwellingRecord {
    /// The address of a registration made at `registered` on `since`, as shown on `date`: the
    /// latest recoding of the dwelling from `since` through `date`, else the address as
    /// registered. Recodings before `since` are already in the registered address.
    pub fn registered_address(
        &self,
        registered: &Address,
        since: NaiveDate,
        date: NaiveDate,
    ) -> Address {
        self.recodings
            .iter()
            .filter(|(from, _)| since <= *from && *from <= date)
            .max_by_key(|(from, _)| *from)
            .map_or_else(|| registered.clone(), |(_, address)| address.clone())
    }

    /// Its address on `date`: the latest one applying then, else the earliest one known.
    pub fn address_on(&self, date: NaiveDate) -> Option<&Address> {
        self.addresses
            .iter()
            .filter(|(from, _)| *from <= date)
            .max_by_key(|(from, _)| *from)
            .or_else(|| self.addresses.iter().min_by_key(|(from, _)| *from))
            .map(|(_, address)| address)
    }

    /// The first restriction in force on `date`, if any.
    pub fn restriction_on(&self, date: NaiveDate) -> Option<RestrictionKind> {
        self.restrictions
            .iter()
            .find(|restriction| restriction.holds_on(date))
            .map(|restriction| restriction.kind)
    }
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationStatus {
    /// Received, no result yet.
    Open,
    /// Refused (CT06).
    Refused,
    /// A result event names it.
    Answered,
}

/// What the register knows about an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRecord {
    /// The procedure asked for.
    pub procedure: Procedure,
    /// The day it was received.
    pub received_on: NaiveDate,
    /// Where it stands.
    pub status: ApplicationStatus,
}

/// Who holds a PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinHolder {
    /// The person.
    pub person: PersonId,
    /// Whether it is still their current PIN (false once cancelled).
    pub current: bool,
}

/// One event folded, with its id when known; a correction replaces `event`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The event's id, when folded with one.
    pub id: Option<EventId>,
    /// The event as the register reads it now (a corrected event's replacement).
    pub event: Event,
    /// The tags of the event as recorded and of every replacement of it.
    pub tags: Vec<Tag>,
}

/// The decision state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    log: Vec<LogEntry>,
    persons: BTreeMap<PersonId, PersonRecord>,
    households: BTreeMap<HouseholdId, HouseholdRecord>,
    dwellings: BTreeMap<DwellingId, DwellingRecord>,
    pins: BTreeMap<Pin, PinHolder>,
    applications: BTreeMap<ApplicationId, ApplicationRecord>,
    reorganised: bool,
}

/// Folds one event (without its id) into the state. Never fails and applies no rule.
pub fn evolve(state: &mut State, event: &Event) {
    state.apply(None, event);
}

/// Folds one event with its ledger id, so annulments and corrections can name it.
pub fn evolve_recorded(state: &mut State, id: EventId, event: &Event) {
    state.apply(Some(id), event);
}

impl State {
    /// The state folded from events without ids.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut state = Self::default();
        for event in events {
            evolve(&mut state, event);
        }
        state
    }

    /// The state folded from events with their ledger ids, in ledger order.
    pub fn from_recorded<'a>(events: impl IntoIterator<Item = (EventId, &'a Event)>) -> Self {
        let mut state = Self::default();
        for (id, event) in events {
            evolve_recorded(&mut state, id, event);
        }
        state
    }

    /// A person.
    pub fn person(&self, person: PersonId) -> Option<&PersonRecord> {
        self.persons.get(&person)
    }

    /// Every person known, in id order.
    pub fn persons(&self) -> impl Iterator<Item = (PersonId, &PersonRecord)> {
        self.persons.iter().map(|(id, record)| (*id, record))
    }

    /// A household.
    pub fn household(&self, household: HouseholdId) -> Option<&HouseholdRecord> {
        self.households.get(&household)
    }

    /// Every household known, in id order.
    pub fn households(&self) -> impl Iterator<Item = (HouseholdId, &HouseholdRecord)> {
        self.households.iter().map(|(id, record)| (*id, record))
    }

    /// The `dwelling:` tags of every dwelling this state knows of: a command's second read
    /// phase. A dwelling's recodings are tagged with the dwelling (not with every person living
    /// there), so a decision about a person folds the dwellings of the registrations its first
    /// read found, and guards them in its append condition.
    pub fn dwelling_tags(&self) -> Vec<crate::tag::Tag> {
        self.dwellings
            .keys()
            .map(|dwelling| crate::tag::Tag::Dwelling(*dwelling))
            .collect()
    }

    /// A dwelling.
    pub fn dwelling(&self, dwelling: DwellingId) -> Option<&DwellingRecord> {
        self.dwellings.get(&dwelling)
    }

    /// Who holds or held a PIN.
    pub fn pin_holder(&self, pin: Pin) -> Option<PinHolder> {
        self.pins.get(&pin).copied()
    }

    /// An application.
    pub fn application(&self, application: ApplicationId) -> Option<&ApplicationRecord> {
        self.applications.get(&application)
    }

    /// Whether the 2025 reorganisation was folded.
    pub fn reorganised(&self) -> bool {
        self.reorganised
    }

    /// The events folded, in order, each as the register reads it now.
    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    /// The event folded with `id`, as the register reads it now (corrections are entries of
    /// their own and are not returned for the id they correct).
    pub fn event(&self, id: EventId) -> Option<&LogEntry> {
        self.log.iter().find(|entry| entry.id == Some(id))
    }

    /// The persons with a permanent registration at `dwelling` on `date`, in id order.
    pub fn permanent_residents(&self, dwelling: DwellingId, date: NaiveDate) -> Vec<PersonId> {
        self.persons
            .iter()
            .filter(|(_, person)| {
                person
                    .permanent
                    .iter()
                    .any(|interval| interval.dwelling == dwelling && interval.holds_on(date))
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// The persons with a permanent or temporary registration at `dwelling` on `date`.
    pub fn residents(&self, dwelling: DwellingId, date: NaiveDate) -> Vec<PersonId> {
        self.persons
            .iter()
            .filter(|(_, person)| {
                person
                    .permanent
                    .iter()
                    .any(|interval| interval.dwelling == dwelling && interval.holds_on(date))
                    || person
                        .temporary
                        .iter()
                        .any(|interval| interval.dwelling == dwelling && interval.holds_on(date))
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// The households at `dwelling` that have members, in id order.
    pub fn households_at(&self, dwelling: DwellingId) -> Vec<HouseholdId> {
        self.households
            .iter()
            .filter(|(_, household)| {
                household.dwelling == Some(dwelling) && !household.members.is_empty()
            })
            .map(|(id, _)| *id)
            .collect()
    }

    fn apply(&mut self, id: Option<EventId>, event: &Event) {
        if let Event::EventCorrected(correction) = event {
            self.log.push(LogEntry {
                id,
                event: event.clone(),
                tags: event.tags(),
            });
            self.apply_correction(correction);
            return;
        }
        self.log.push(LogEntry {
            id,
            event: event.clone(),
            tags: event.tags(),
        });
        self.apply_effect(id, event);
    }

    /// Replaces the corrected event by its replacement and refolds, when it was folded.
    fn apply_correction(&mut self, correction: &EventCorrected) {
        let target = self.log.iter_mut().find(|entry| {
            entry.id == Some(correction.corrects())
                && entry.event.event_type() != crate::event::EventType::EventCorrected
        });
        let Some(target) = target else {
            return;
        };
        target.event = correction.replacement().clone();
        for tag in correction.replacement().tags() {
            if !target.tags.contains(&tag) {
                target.tags.push(tag);
            }
        }
        target.tags.sort_unstable();
        self.refold();
    }

    /// Rebuilds everything but the log from the log.
    fn refold(&mut self) {
        let log = std::mem::take(&mut self.log);
        *self = Self::default();
        for entry in &log {
            if !matches!(entry.event, Event::EventCorrected(_)) {
                self.apply_effect(entry.id, &entry.event);
            }
        }
        self.log = log;
    }

    fn person_mut(&mut self, person: PersonId) -> &mut PersonRecord {
        self.persons.entry(person).or_default()
    }

    fn household_mut(&mut self, household: HouseholdId) -> &mut HouseholdRecord {
        self.households.entry(household).or_default()
    }

    fn dwelling_mut(&mut self, dwelling: DwellingId) -> &mut DwellingRecord {
        self.dwellings.entry(dwelling).or_default()
    }

    /// Notes an address for a dwelling that has none yet.
    fn note_address(&mut self, dwelling: DwellingId, on: NaiveDate, address: &Address) {
        let record = self.dwelling_mut(dwelling);
        if record.addresses.is_empty() {
            record.addresses.push((on, address.clone()));
        }
    }

    fn note_death(&mut self, person: PersonId, on: NaiveDate) {
        let record = self.person_mut(person);
        record.died_on = Some(record.died_on.map_or(on, |died| died.min(on)));
    }

    fn leave_household(&mut self, household: HouseholdId, person: PersonId, cause: VacancyCause) {
        self.household_mut(household).remove_member(person, cause);
    }

    /// The effect of one (non-correction) event on everything but the log.
    fn apply_effect(&mut self, id: Option<EventId>, event: &Event) {
        // Any event naming an application is its result, except the intake slips themselves.
        if !matches!(
            event,
            Event::ApplicationReceived(_)
                | Event::ApplicationCompletionRequested(_)
                | Event::ApplicationRefused(_)
        ) {
            for application in event.tags().into_iter().filter_map(|tag| match tag {
                Tag::Application(application) => Some(application),
                _ => None,
            }) {
                if let Some(record) = self.applications.get_mut(&application) {
                    record.status = ApplicationStatus::Answered;
                }
            }
        }
        match event {
            Event::PersonRecorded(e) => {
                let record = self.person_mut(e.person);
                record.recorded = true;
                record.pin = Some(e.pin);
                record.name = Some(e.name.clone());
                record.birth_date = Some(e.birth_date);
                record.sex = Some(e.sex);
                self.pins.insert(
                    e.pin,
                    PinHolder {
                        person: e.person,
                        current: true,
                    },
                );
            }
            Event::ApplicationReceived(e) => {
                self.applications.insert(
                    e.application,
                    ApplicationRecord {
                        procedure: e.procedure,
                        received_on: e.received_on,
                        status: ApplicationStatus::Open,
                    },
                );
            }
            Event::ApplicationCompletionRequested(_) => {}
            Event::ApplicationRefused(e) => {
                if let Some(record) = self.applications.get_mut(&e.application) {
                    record.status = ApplicationStatus::Refused;
                }
            }
            Event::PermanentResidenceRegistered(e) => {
                let person = self.person_mut(e.person);
                let mut left = None;
                // The registration it closes: the open one at the dwelling the event names, so
                // a partial state read through that dwelling's tag counts the person out of it
                // even beside a stale open registration elsewhere; the latest open one for
                // events that name no dwelling (recorded before the field existed) or when the
                // state does not know one open there.
                let closing = e
                    .previous_dwelling
                    .and_then(|previous| {
                        person.permanent.iter().rposition(|interval| {
                            interval.end.is_none() && interval.dwelling == previous
                        })
                    })
                    .or_else(|| {
                        person
                            .permanent
                            .iter()
                            .rposition(|interval| interval.end.is_none())
                    });
                if let Some(open) = closing.and_then(|index| person.permanent.get_mut(index)) {
                    open.end = Some(e.effective_on);
                    left = Some(open.household);
                }
                person.permanent.push(PermanentInterval {
                    start: e.effective_on,
                    end: None,
                    basis: e.basis,
                    dwelling: e.dwelling,
                    address: e.address.clone(),
                    household: e.membership.household,
                    event: id,
                    annulled: false,
                });
                // The event names the household left; the open registration's household is
                // the fallback for events that do not (it may be stale in a partial state).
                if let Some(left) = e.previous_household.or(left) {
                    self.leave_household(left, e.person, VacancyCause::HeadLeft);
                }
                let household = self.household_mut(e.membership.household);
                household.add_member(e.person, e.membership.relationship.clone());
                household.dwelling.get_or_insert(e.dwelling);
                household.kind.get_or_insert(RegistrationKind::Permanent);
                self.note_address(e.dwelling, e.effective_on, &e.address);
                if let Some(area) = e.floor_area {
                    self.dwelling_mut(e.dwelling).floor_area = Some(area);
                }
            }
            Event::TemporaryResidenceRegistered(e) => {
                self.person_mut(e.person).temporary.push(TemporaryInterval {
                    start: e.effective_on,
                    until: e.until,
                    deleted_on: None,
                    dwelling: e.dwelling,
                    address: e.address.clone(),
                    household: e.membership.as_ref().map(|m| m.household),
                    event: id,
                    annulled: false,
                    extended_on: Vec::new(),
                });
                if let Some(membership) = &e.membership {
                    let household = self.household_mut(membership.household);
                    household.add_member(e.person, membership.relationship.clone());
                    household.dwelling.get_or_insert(e.dwelling);
                    household.kind.get_or_insert(RegistrationKind::Temporary);
                }
                self.note_address(e.dwelling, e.effective_on, &e.address);
            }
            Event::TemporaryResidenceExtended(e) => {
                // The registration it extends: the one at the dwelling whose term ended on
                // `previous_until` (a corrected registration whose term no longer does is not
                // extended).
                if let Some(interval) =
                    self.person_mut(e.person)
                        .temporary
                        .iter_mut()
                        .rev()
                        .find(|interval| {
                            interval.dwelling == e.dwelling && interval.until == e.previous_until
                        })
                {
                    interval.until = e.until;
                    interval.extended_on.push(e.effective_on);
                } else {
                    self.person_mut(e.person)
                        .unmatched_extensions
                        .push(e.effective_on);
                }
            }
            Event::PermanentResidenceDeleted(e) => {
                let person = self.person_mut(e.person);
                // The registration at the dwelling the event names that holds on the date:
                // normally the open one; a backdated deletion for death may cut one that a
                // later event already ended. A deletion never ends a registration at another
                // dwelling, even one holding on its date (a correction may have moved the
                // registration it names).
                if let Some(holding) = person.permanent.iter_mut().rev().find(|interval| {
                    interval.dwelling == e.dwelling && interval.holds_on(e.effective_on)
                }) {
                    holding.end = Some(e.effective_on);
                } else if let Some(open) = person
                    .permanent
                    .iter_mut()
                    .rev()
                    .find(|interval| interval.dwelling == e.dwelling && interval.end.is_none())
                {
                    // An open registration starting after the date (only a corrected history
                    // has one): ended as the event says, and reported as inverted.
                    open.end = Some(e.effective_on);
                } else {
                    person.unmatched_deletions.push(e.effective_on);
                }
                let cause = if e.ground == PermanentDeletionGround::Death {
                    VacancyCause::HeadDied
                } else if e.initiator == Initiator::ExOfficio {
                    VacancyCause::HeadDeletedExOfficio
                } else {
                    VacancyCause::HeadLeft
                };
                if e.ground == PermanentDeletionGround::Death {
                    self.note_death(e.person, e.effective_on);
                }
                // The event names the household left (a no-op when a backdated deletion for death
                // cuts a registration the person had already left).
                self.leave_household(e.household, e.person, cause);
            }
            Event::TemporaryResidenceDeleted(e) => {
                let person = self.person_mut(e.person);
                // The registration at the dwelling that started last on or before the date and
                // was not deleted by then (a backdated deletion cuts it shorter).
                if let Some(interval) = person
                    .temporary
                    .iter_mut()
                    .filter(|interval| {
                        interval.dwelling == e.dwelling
                            && interval
                                .deleted_on
                                .is_none_or(|deleted| deleted > e.effective_on)
                            && interval.start <= e.effective_on
                    })
                    .max_by_key(|interval| interval.start)
                {
                    interval.deleted_on = Some(e.effective_on);
                } else {
                    person.unmatched_deletions.push(e.effective_on);
                }
                let cause = if e.ground == TemporaryDeletionGround::Death {
                    VacancyCause::HeadDied
                } else if e.initiator == Initiator::ExOfficio {
                    VacancyCause::HeadDeletedExOfficio
                } else {
                    VacancyCause::HeadLeft
                };
                if e.ground == TemporaryDeletionGround::Death {
                    self.note_death(e.person, e.effective_on);
                }
                if let Some(household) = e.household {
                    self.leave_household(household, e.person, cause);
                }
            }
            Event::DwellingRestrictionRecorded(e) => {
                self.note_address(e.dwelling, e.effective_on, &e.address);
                self.dwelling_mut(e.dwelling)
                    .restrictions
                    .push(Restriction {
                        kind: e.kind,
                        from: e.effective_on,
                        lifted_on: None,
                    });
            }
            Event::DwellingRestrictionLifted(e) => {
                if let Some(restriction) = self
                    .dwelling_mut(e.dwelling)
                    .restrictions
                    .iter_mut()
                    .rev()
                    .find(|restriction| {
                        restriction.kind == e.kind && restriction.lifted_on.is_none()
                    })
                {
                    restriction.lifted_on = Some(e.effective_on);
                }
            }
            Event::DeletionGroundDetected(e) => {
                self.person_mut(e.person)
                    .grounds
                    .push((e.effective_on, e.ground));
                if matches!(
                    e.ground,
                    DeletionGround::Permanent(PermanentDeletionGround::Death)
                        | DeletionGround::Temporary(TemporaryDeletionGround::Death)
                ) {
                    let record = self.person_mut(e.person);
                    record.death_reported_on = Some(
                        record
                            .death_reported_on
                            .map_or(e.effective_on, |reported| reported.min(e.effective_on)),
                    );
                }
            }
            Event::ResidenceRegistrationAnnulled(e) => {
                let person = self.person_mut(e.person);
                for interval in &mut person.permanent {
                    if interval.event == Some(e.annuls) {
                        interval.annulled = true;
                    }
                }
                for interval in &mut person.temporary {
                    if interval.event == Some(e.annuls) {
                        interval.annulled = true;
                    }
                }
            }
            Event::HouseholdEstablished(e) => {
                let household = self.household_mut(e.household);
                household.established = true;
                household.established_on = Some(e.effective_on);
                household.kind = Some(e.kind);
                household.dwelling = Some(e.dwelling);
                household.address = Some(e.address.clone());
                self.note_address(e.dwelling, e.effective_on, &e.address);
            }
            Event::HouseholdSplit(e) => {
                let kind = self.household_mut(e.household).kind;
                let moving: Vec<(PersonId, Relationship)> =
                    std::iter::once((e.new_head, Relationship::ChuHo))
                        .chain(
                            e.members
                                .iter()
                                .map(|member| (member.person, member.relationship.clone())),
                        )
                        .collect();
                for (person, _) in &moving {
                    self.leave_household(e.household, *person, VacancyCause::HeadLeft);
                }
                let new = self.household_mut(e.new_household);
                new.established = true;
                new.established_on = Some(e.effective_on);
                new.kind = kind.or(Some(RegistrationKind::Permanent));
                new.dwelling = Some(e.dwelling);
                new.address = Some(e.address.clone());
                for (person, relationship) in &moving {
                    new.add_member(*person, relationship.clone());
                }
                for (person, _) in &moving {
                    let record = self.person_mut(*person);
                    if let Some(open) = record.permanent.iter_mut().rev().find(|interval| {
                        interval.end.is_none() && interval.household == e.household
                    }) {
                        open.household = e.new_household;
                    }
                    for interval in &mut record.temporary {
                        if interval.household == Some(e.household) {
                            interval.household = Some(e.new_household);
                        }
                    }
                }
                self.note_address(e.dwelling, e.effective_on, &e.address);
            }
            Event::HouseholdHeadChanged(e) => {
                let household = self.household_mut(e.household);
                for member in &e.members {
                    household
                        .members
                        .insert(member.person, member.relationship.clone());
                }
                household.add_member(e.new_head, Relationship::ChuHo);
            }
            Event::MemberRelationshipChanged(e) => {
                self.household_mut(e.household)
                    .members
                    .insert(e.person, e.relationship.clone());
            }
            Event::ResidentCivilStatusAdjusted(e) => {
                let record = self.person_mut(e.person);
                if let Some(name) = &e.changes.name {
                    record.name = Some(name.clone());
                }
                if let Some(birth_date) = e.changes.birth_date {
                    record.birth_date = Some(birth_date);
                }
                if let Some(sex) = e.changes.sex {
                    record.sex = Some(sex);
                }
            }
            Event::CurrentResidenceDeclared(e) => {
                self.person_mut(e.person).declared.push(DeclaredResidence {
                    start: e.effective_on,
                    address: e.address.clone(),
                    dwelling: e.dwelling,
                });
                if let Some(dwelling) = e.dwelling {
                    self.note_address(dwelling, e.effective_on, &e.address);
                }
            }
            Event::CurrentResidenceDeclarationRefused(_) | Event::StayNotified(_) => {}
            Event::CurrentAddressUpdated(e) => {
                self.person_mut(e.person).current_address = Some(CurrentAddress {
                    start: e.effective_on,
                    address: e.address.clone(),
                    dwelling: e.dwelling,
                });
                if let Some(dwelling) = e.dwelling {
                    self.note_address(dwelling, e.effective_on, &e.address);
                }
            }
            Event::TemporaryAbsenceDeclared(e) => {
                self.person_mut(e.person).absences.push(AbsencePeriod {
                    start: e.effective_on,
                    until: e.until,
                    clause: e.clause,
                });
            }
            Event::ResidenceAddressRecoded(e) => {
                let record = self.dwelling_mut(e.dwelling);
                if record.addresses.is_empty() {
                    record
                        .addresses
                        .push((NaiveDate::MIN, e.old_address.clone()));
                }
                record
                    .addresses
                    .push((e.effective_on, e.new_address.clone()));
                record
                    .recodings
                    .push((e.effective_on, e.new_address.clone()));
                for household in &e.households {
                    self.household_mut(*household).address = Some(e.new_address.clone());
                }
            }
            Event::AdministrativeUnitsReorganized(_) => self.reorganised = true,
            Event::LegacyHouseholdBookRevoked(e) => {
                self.household_mut(e.household)
                    .revoked_books
                    .push((e.book, e.book_number.clone()));
            }
            Event::ResidenceConfirmationIssued(e) => {
                self.person_mut(e.person).certificates.push(Certificate {
                    certificate: e.certificate,
                    issued_on: e.issued_on,
                    valid_until: e.valid_until,
                });
            }
            Event::PersonalIdNumberReassigned(e) => {
                self.pins.insert(
                    e.old,
                    PinHolder {
                        person: e.person,
                        current: false,
                    },
                );
                self.pins.insert(
                    e.new,
                    PinHolder {
                        person: e.person,
                        current: true,
                    },
                );
                self.person_mut(e.person).pin = Some(e.new);
            }
            // Corrections are handled in `apply` and skipped when refolding.
            Event::EventCorrected(_) => {}
        }
    }

    /// Every invariant broken in the state (DOMAIN.md §2: I1 as non-overlapping intervals, I6
    /// with head vacancy, I12), for complete states such as a simulation's.
    pub fn violations(&self) -> Vec<InvariantViolation> {
        let persons: BTreeSet<PersonId> = self.persons.keys().copied().collect();
        let households: BTreeSet<HouseholdId> = self.households.keys().copied().collect();
        self.violations_among(&persons, &households)
    }

    /// The invariants broken by the given persons and households, for a state folded from
    /// their tags (whose records are therefore complete), plus any PIN held twice.
    pub fn violations_among(
        &self,
        persons: &BTreeSet<PersonId>,
        households: &BTreeSet<HouseholdId>,
    ) -> Vec<InvariantViolation> {
        let mut violations = Vec::new();
        for person in persons {
            let Some(record) = self.persons.get(person) else {
                continue;
            };
            let inverted = record
                .permanent
                .iter()
                .filter(|interval| interval.end.is_some_and(|end| end < interval.start))
                .map(|interval| interval.start)
                .chain(
                    record
                        .temporary
                        .iter()
                        .filter(|interval| {
                            interval.until < interval.start
                                || interval.deleted_on.is_some_and(|end| end < interval.start)
                                || interval.extended_on.iter().any(|on| *on < interval.start)
                        })
                        .map(|interval| interval.start),
                );
            for effective_on in &record.unmatched_deletions {
                violations.push(InvariantViolation::DeletionWithoutRegistration {
                    person: *person,
                    effective_on: *effective_on,
                });
            }
            if let Some(died_on) = record.died_on {
                let after_death = record
                    .permanent
                    .iter()
                    .filter(|interval| {
                        let end = interval.end.unwrap_or(NaiveDate::MAX);
                        interval.start < end && died_on < end
                    })
                    .map(|interval| interval.start)
                    .chain(
                        record
                            .temporary
                            .iter()
                            .filter(|interval| {
                                let end = interval.end_exclusive();
                                interval.start < end && died_on < end
                            })
                            .map(|interval| interval.start),
                    );
                for start in after_death {
                    violations.push(InvariantViolation::RegisteredAfterDeath {
                        person: *person,
                        start,
                        died_on,
                    });
                }
            }
            for effective_on in &record.unmatched_extensions {
                violations.push(InvariantViolation::ExtensionWithoutRegistration {
                    person: *person,
                    effective_on: *effective_on,
                });
            }
            for start in inverted {
                violations.push(InvariantViolation::EndsBeforeStart {
                    person: *person,
                    start,
                });
            }
            for (index, first) in record.permanent.iter().enumerate() {
                for second in record.permanent.iter().skip(index + 1) {
                    let first_end = first.end.unwrap_or(NaiveDate::MAX);
                    let second_end = second.end.unwrap_or(NaiveDate::MAX);
                    if first.start < second_end && second.start < first_end {
                        violations.push(InvariantViolation::PermanentOverlap {
                            person: *person,
                            first_start: first.start,
                            second_start: second.start,
                        });
                    }
                }
            }
            for (index, first) in record.temporary.iter().enumerate() {
                for second in record.temporary.iter().skip(index + 1) {
                    if first.start < second.end_exclusive() && second.start < first.end_exclusive()
                    {
                        violations.push(InvariantViolation::TemporaryOverlap {
                            person: *person,
                            first_start: first.start,
                            second_start: second.start,
                        });
                    }
                }
            }
        }
        for household in households {
            let Some(record) = self.households.get(household) else {
                continue;
            };
            let chu_ho: Vec<PersonId> = record
                .members
                .iter()
                .filter(|(_, relationship)| **relationship == Relationship::ChuHo)
                .map(|(person, _)| *person)
                .collect();
            match record.head {
                Some(head) if !record.members.contains_key(&head) => {
                    violations.push(InvariantViolation::HeadNotMember {
                        household: *household,
                        head,
                    });
                }
                Some(head) if chu_ho.iter().any(|person| *person != head) => {
                    violations.push(InvariantViolation::SeveralHeads {
                        household: *household,
                        persons: chu_ho,
                    });
                }
                Some(_) => {}
                None if record.members.is_empty() => {}
                None => match record.vacancy {
                    Some(VacancyCause::HeadDied | VacancyCause::HeadDeletedExOfficio)
                        if chu_ho.is_empty() => {}
                    Some(VacancyCause::HeadDied | VacancyCause::HeadDeletedExOfficio) => {
                        violations.push(InvariantViolation::SeveralHeads {
                            household: *household,
                            persons: chu_ho,
                        });
                    }
                    Some(VacancyCause::HeadLeft) | None => {
                        violations.push(InvariantViolation::HeadlessWithoutCause {
                            household: *household,
                        });
                    }
                },
            }
        }
        let mut current: BTreeMap<Pin, PersonId> = BTreeMap::new();
        for (person, record) in &self.persons {
            if let Some(pin) = record.pin
                && record.recorded
                && let Some(other) = current.insert(pin, *person)
            {
                violations.push(InvariantViolation::PinShared {
                    pin,
                    first: other,
                    second: *person,
                });
            }
        }
        violations
    }
}

/// An invariant of DOMAIN.md §2 that a state breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvariantViolation {
    /// A registration ends before it starts, or was extended before it started (a deletion,
    /// a next registration or an extension dated before it, as a correction could make it).
    EndsBeforeStart {
        /// The person.
        person: PersonId,
        /// The registration's start.
        start: NaiveDate,
    },
    /// An extension names a term that no registration of the person has (the registration was
    /// corrected without its extension).
    ExtensionWithoutRegistration {
        /// The person.
        person: PersonId,
        /// The day the extension was granted.
        effective_on: NaiveDate,
    },
    /// A deletion names a registration that the person does not have (it was corrected
    /// after the deletion).
    DeletionWithoutRegistration {
        /// The person.
        person: PersonId,
        /// The day of the deletion.
        effective_on: NaiveDate,
    },
    /// A registration holds after the person's death was recorded by a deletion.
    RegisteredAfterDeath {
        /// The person.
        person: PersonId,
        /// The registration's start.
        start: NaiveDate,
        /// The date of death.
        died_on: NaiveDate,
    },
    /// I1: two permanent registrations of one person overlap.
    PermanentOverlap {
        /// The person.
        person: PersonId,
        /// The first registration's start.
        first_start: NaiveDate,
        /// The second registration's start.
        second_start: NaiveDate,
    },
    /// I1: two temporary registrations of one person overlap.
    TemporaryOverlap {
        /// The person.
        person: PersonId,
        /// The first registration's start.
        first_start: NaiveDate,
        /// The second registration's start.
        second_start: NaiveDate,
    },
    /// I6: the head is not a member.
    HeadNotMember {
        /// The household.
        household: HouseholdId,
        /// The head.
        head: PersonId,
    },
    /// I6: more than one member is recorded as head.
    SeveralHeads {
        /// The household.
        household: HouseholdId,
        /// The members with relationship `CHU_HO`.
        persons: Vec<PersonId>,
    },
    /// I6: members without a head, other than after the head's death or ex-officio deletion.
    HeadlessWithoutCause {
        /// The household.
        household: HouseholdId,
    },
    /// I12: two persons hold the same PIN.
    PinShared {
        /// The PIN.
        pin: Pin,
        /// One holder.
        first: PersonId,
        /// The other.
        second: PersonId,
    },
}

impl fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EndsBeforeStart { person, start } => write!(
                f,
                "a registration of person {person} from {start} ends before it starts"
            ),
            Self::DeletionWithoutRegistration {
                person,
                effective_on,
            } => write!(
                f,
                "the deletion of {effective_on} matches no registration of person {person}"
            ),
            Self::RegisteredAfterDeath {
                person,
                start,
                died_on,
            } => write!(
                f,
                "a registration of person {person} from {start} holds after their death on {died_on}"
            ),
            Self::ExtensionWithoutRegistration {
                person,
                effective_on,
            } => write!(
                f,
                "the extension of {effective_on} matches no temporary registration of person {person}"
            ),
            Self::PermanentOverlap {
                person,
                first_start,
                second_start,
            } => write!(
                f,
                "permanent registrations of person {person} from {first_start} and {second_start} overlap"
            ),
            Self::TemporaryOverlap {
                person,
                first_start,
                second_start,
            } => write!(
                f,
                "temporary registrations of person {person} from {first_start} and {second_start} overlap"
            ),
            Self::HeadNotMember { household, head } => {
                write!(
                    f,
                    "the head {head} of household {household} is not a member"
                )
            }
            Self::SeveralHeads { household, persons } => {
                write!(f, "household {household} has several heads {persons:?}")
            }
            Self::HeadlessWithoutCause { household } => write!(
                f,
                "household {household} has no head without the head's death or ex-officio deletion"
            ),
            Self::PinShared { pin, first, second } => {
                write!(f, "persons {first} and {second} hold the same number {pin}")
            }
        }
    }
}

impl InvariantViolation {
    /// The description in Vietnamese.
    pub fn message_vi(&self) -> String {
        match self {
            Self::EndsBeforeStart { person, start } => {
                format!("một đăng ký của công dân {person} từ {start} kết thúc trước khi bắt đầu")
            }
            Self::DeletionWithoutRegistration {
                person,
                effective_on,
            } => format!(
                "việc xóa đăng ký ngày {effective_on} không ứng với đăng ký nào của công dân {person}"
            ),
            Self::RegisteredAfterDeath {
                person,
                start,
                died_on,
            } => format!(
                "đăng ký của công dân {person} từ {start} còn hiệu lực sau ngày chết {died_on}"
            ),
            Self::ExtensionWithoutRegistration {
                person,
                effective_on,
            } => format!(
                "việc gia hạn ngày {effective_on} không ứng với đăng ký tạm trú nào của công dân {person}"
            ),
            Self::PermanentOverlap {
                person,
                first_start,
                second_start,
            } => format!(
                "các đăng ký thường trú của công dân {person} từ {first_start} và {second_start} trùng nhau"
            ),
            Self::TemporaryOverlap {
                person,
                first_start,
                second_start,
            } => format!(
                "các đăng ký tạm trú của công dân {person} từ {first_start} và {second_start} trùng nhau"
            ),
            Self::HeadNotMember { household, head } => {
                format!("chủ hộ {head} của hộ {household} không phải thành viên hộ")
            }
            Self::SeveralHeads { household, .. } => {
                format!("hộ {household} có nhiều hơn một chủ hộ")
            }
            Self::HeadlessWithoutCause { household } => format!(
                "hộ {household} không có chủ hộ mà không phải do chủ hộ chết hoặc bị xóa đăng ký"
            ),
            Self::PinShared { pin, first, second } => {
                format!("công dân {first} và {second} cùng mang số định danh {pin}")
            }
        }
    }
}
