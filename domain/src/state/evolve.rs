//! `evolve`: folding one event into the decision state.
//!
//! Why a fold with no rules: the ledger is the ground truth and events are facts that were
//! decided already, so folding one never fails and never judges (the cqrs-es rule: all business
//! logic in `decide`, none in `evolve`). An event that an earlier binary accepted is recorded as
//! it says, even where today's rules would refuse it, so a folded state may break an invariant;
//! `invariants.rs` says which.
//!
//! Corrections: an [`EventCorrected`] replaces the event it names (when that event was folded
//! with its id) and the state is refolded from the events read, so the state reads the
//! replacement in the corrected event's place.
//!
//! What the fold keeps by construction it asserts where it makes it: every change of a
//! household's members goes through `HouseholdRecord::add_member` and
//! `HouseholdRecord::remove_member`, which keep the head a member (the I6 check
//! `HeadNotMember` reads it back) and record a vacancy only for a household with members and no
//! head (the only households whose vacancy the I6 check reads).

use chrono::NaiveDate;

use super::{
    AbsencePeriod, ApplicationRecord, ApplicationStatus, Certificate, CurrentAddress,
    DeclaredResidence, DwellingRecord, HouseholdRecord, LogEntry, PermanentInterval, PersonRecord,
    PinHolder, Restriction, State, TemporaryInterval, VacancyCause,
};
use crate::address::Address;
use crate::event::{DeletionGround, Event, EventCorrected, RegistrationKind};
use crate::event_id::EventId;
use crate::grounds::{Initiator, PermanentDeletionGround, TemporaryDeletionGround};
use crate::ids::{DwellingId, HouseholdId, PersonId};
use crate::relationship::Relationship;
use crate::tag::Tag;

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
}

impl HouseholdRecord {
    /// Adds `person` (again) with `relationship`; a `CHU_HO` makes them the head and ends any
    /// vacancy.
    fn add_member(&mut self, person: PersonId, relationship: Relationship) {
        if relationship == Relationship::ChuHo {
            self.head = Some(person);
            self.vacancy = None;
        }
        self.members.insert(person, relationship);
        self.debug_assert_head_kept();
    }

    /// Removes `person`; when they were the head, the household is left without one for
    /// `cause` (or without a vacancy, when no member is left).
    fn remove_member(&mut self, person: PersonId, cause: VacancyCause) {
        self.members.remove(&person);
        if self.head == Some(person) {
            self.head = None;
            self.vacancy = (!self.members.is_empty()).then_some(cause);
        }
        if self.members.is_empty() {
            self.vacancy = None;
        }
        debug_assert!(!self.members.contains_key(&person));
        self.debug_assert_head_kept();
    }

    /// The fold's end of I6: the head is a member, and a vacancy is recorded only when there
    /// are members and no head. `invariants.rs` checks the first again on the state as read.
    fn debug_assert_head_kept(&self) {
        debug_assert!(
            self.head
                .is_none_or(|head| self.members.contains_key(&head)),
            "the head of a household is a member"
        );
        debug_assert!(
            self.vacancy.is_none() || (self.head.is_none() && !self.members.is_empty()),
            "a vacancy is recorded only for members without a head"
        );
    }
}
