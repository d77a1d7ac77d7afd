//! The decision state: what the register knows, folded from events, for `decide`.
//!
//! How it is laid out, one job to a file: this file holds the [`State`] type and its read
//! accessors; `person.rs`, `household.rs` and `dwelling.rs` the records it keeps, with the
//! queries on each; `evolve.rs` the fold of one event into the state ([`evolve()`],
//! [`evolve_recorded`]), which never judges; `invariants.rs` what a state must not break
//! ([`State::violations`], [`InvariantViolation`]). Every public item is re-exported here, so
//! callers name it `state::Item` whichever file declares it.
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
//! Invariants: [`State::violations`] lists what a state breaks; `decide` never produces such a
//! state, and a correction that would is refused.
//!
//! Partial states: a decision folds only the events of its command's read tags, so the state may
//! know a person or household only through some of its events (a household seen through one
//! member's registration). Entities whose own tag was read are complete; invariant checks on a
//! partial state are therefore scoped ([`State::violations_among`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::address::Address;
use crate::event::{Event, Procedure};
use crate::event_id::EventId;
use crate::ids::{ApplicationId, DwellingId, HouseholdId, PersonId};
use crate::pin::Pin;
use crate::tag::Tag;

mod dwelling;
mod evolve;
mod household;
mod invariants;
mod person;

pub use dwelling::{DwellingRecord, Restriction};
pub use evolve::{evolve, evolve_recorded};
pub use household::{HouseholdRecord, VacancyCause};
pub use invariants::InvariantViolation;
pub use person::{
    AbsencePeriod, Certificate, CurrentAddress, DeclaredResidence, PermanentInterval, PersonRecord,
    TemporaryInterval,
};

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

impl State {
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

    /// The address of a registration made at `registered` (of `dwelling`) on `since`, as the
    /// register shows it on `date`: with the dwelling's recodings since then.
    pub fn shown_address(
        &self,
        dwelling: DwellingId,
        registered: &Address,
        since: NaiveDate,
        date: NaiveDate,
    ) -> Address {
        self.dwelling(dwelling).map_or_else(
            || registered.clone(),
            |record| record.registered_address(registered, since, date),
        )
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
}
