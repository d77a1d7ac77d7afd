//! Test support: a ledger, an event writer on a supplied clock, and event builders on real
//! administrative units.

use chrono::NaiveDate;
use residence_domain::address::{Address, PersonName, StreetLine};
use residence_domain::event::*;
use residence_domain::event_id::EventId;
use residence_domain::grounds::{Initiator, PermanentDeletionGround, TemporaryDeletionGround};
use residence_domain::ids::{DwellingId, HouseholdId, PersonId};
use residence_domain::pin::{Pin, Sex};
use residence_domain::relationship::Relationship;
use residence_domain::units::UnitRef;
use residence_ledger::ledger::{AppendRequest, Ledger};
use residence_ledger::record::Timestamp;
use residence_projections::Projections;
use residence_sim::synthetic::{memory_ledger, new_record, recorded_on};

/// A date from `YYYY-MM-DD`.
pub fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// A unit from `legacy:00001` / `2025:00097`.
pub fn unit(text: &str) -> UnitRef {
    text.parse().unwrap()
}

/// An address in `unit_text` at `street`.
pub fn address(unit_text: &str, street: &str) -> Address {
    Address {
        unit: unit(unit_text),
        street: StreetLine::parse(street).unwrap(),
    }
}

/// The legal basis every test event cites.
pub fn basis() -> LegalBasis {
    LegalBasis::parse("Luật Cư trú 2020").unwrap()
}

/// A ledger and a writer whose clock the test sets by date.
pub struct World {
    pub ledger: Ledger,
    seed: u64,
    counter: u64,
    /// The last recorded time used, so that several appends on one day stay in order.
    last: i64,
}

impl World {
    pub fn new() -> World {
        World {
            ledger: memory_ledger().unwrap(),
            seed: 1,
            counter: 0,
            last: i64::MIN,
        }
    }

    /// Appends `events` atomically, recorded on `recorded` (09:00 in Vietnam, later if the
    /// clock is already past it); returns each one's position and id.
    pub fn record(&mut self, recorded: &str, events: &[Event]) -> Vec<(u64, EventId)> {
        let at = recorded_on(day(recorded), 0).0.max(self.last + 1);
        self.last = at;
        let ids: Vec<EventId> = events
            .iter()
            .map(|_| {
                self.counter += 1;
                let mut id = [0u8; 16];
                id[..8].copy_from_slice(&self.seed.to_be_bytes());
                id[8..].copy_from_slice(&self.counter.to_be_bytes());
                EventId::from_bytes(id)
            })
            .collect();
        let request = AppendRequest {
            records: events
                .iter()
                .zip(&ids)
                .map(|(event, id)| new_record(event, *id))
                .collect(),
            condition: None,
            recorded_at: Some(Timestamp(at)),
        };
        let outcome = self.ledger.append_blocking(request).unwrap();
        outcome
            .records
            .iter()
            .map(|appended| appended.position.0)
            .zip(ids)
            .collect()
    }

    /// Records one event; returns its position and id.
    pub fn one(&mut self, recorded: &str, event: impl Into<Event>) -> (u64, EventId) {
        self.record(recorded, &[event.into()])[0]
    }

    /// The time a record made on `recorded` carries at the earliest (for "as known at time").
    pub fn micros(recorded: &str) -> i64 {
        recorded_on(day(recorded), 0).0
    }

    /// Projections folded from scratch with two decoder threads.
    pub fn projections(&self) -> Projections {
        let mut projections = Projections::new(self.ledger.genesis_hash());
        projections.catch_up(&self.ledger, 2).unwrap();
        projections
    }
}

pub fn person_recorded(person: PersonId, pin: &str, name: &str) -> PersonRecorded {
    PersonRecorded {
        person,
        pin: pin.parse::<Pin>().unwrap(),
        name: PersonName::parse(name).unwrap(),
        birth_date: day("1980-05-17"),
        sex: Sex::Male,
    }
}

pub fn established(
    household: HouseholdId,
    on: &str,
    at: &Address,
    dwelling: DwellingId,
    file_number: &str,
) -> HouseholdEstablished {
    HouseholdEstablished {
        household,
        effective_on: day(on),
        kind: RegistrationKind::Permanent,
        address: at.clone(),
        dwelling,
        residence_file_number: Some(ResidenceFileNumber::parse(file_number).unwrap()),
        legal_basis: basis(),
    }
}

pub fn permanent(
    person: PersonId,
    on: &str,
    at: &Address,
    dwelling: DwellingId,
    household: HouseholdId,
    relationship: Relationship,
) -> PermanentResidenceRegistered {
    PermanentResidenceRegistered {
        person,
        effective_on: day(on),
        basis: PermanentBasis::OwnHome,
        address: at.clone(),
        dwelling,
        membership: Membership {
            household,
            relationship,
        },
        previous_household: None,
        previous_dwelling: None,
        floor_area: None,
        consents: Vec::new(),
        legal_basis: basis(),
        application: None,
    }
}

pub fn temporary(
    person: PersonId,
    on: &str,
    until: &str,
    at: &Address,
    dwelling: DwellingId,
) -> TemporaryResidenceRegistered {
    TemporaryResidenceRegistered {
        person,
        effective_on: day(on),
        until: day(until),
        address: at.clone(),
        dwelling,
        membership: None,
        consents: Vec::new(),
        legal_basis: basis(),
        application: None,
    }
}

pub fn extended(
    person: PersonId,
    dwelling: DwellingId,
    on: &str,
    previous_until: &str,
    until: &str,
) -> TemporaryResidenceExtended {
    TemporaryResidenceExtended {
        person,
        dwelling,
        effective_on: day(on),
        previous_until: day(previous_until),
        until: day(until),
        consents: Vec::new(),
        legal_basis: basis(),
        application: None,
    }
}

pub fn died(
    person: PersonId,
    on: &str,
    at: &Address,
    dwelling: DwellingId,
    household: HouseholdId,
) -> PermanentResidenceDeleted {
    PermanentResidenceDeleted {
        person,
        effective_on: day(on),
        ground: PermanentDeletionGround::Death,
        initiator: Initiator::ExOfficio,
        address: at.clone(),
        dwelling,
        household,
        legal_basis: basis(),
        application: None,
    }
}

pub fn temporary_deleted(
    person: PersonId,
    on: &str,
    at: &Address,
    dwelling: DwellingId,
) -> TemporaryResidenceDeleted {
    TemporaryResidenceDeleted {
        person,
        effective_on: day(on),
        ground: TemporaryDeletionGround::LodgingEnded,
        initiator: Initiator::Person,
        address: at.clone(),
        dwelling,
        household: None,
        legal_basis: basis(),
        application: None,
    }
}

pub fn absence(person: PersonId, on: &str, until: &str) -> TemporaryAbsenceDeclared {
    TemporaryAbsenceDeclared {
        person,
        effective_on: day(on),
        until: day(until),
        clause: AbsenceClause::LongAbsence,
        destination: PlaceText::parse("Nhật Bản").unwrap(),
        reason: Reason::parse("Đi làm việc").unwrap(),
        legal_basis: basis(),
        application: None,
    }
}

pub fn recoded(
    dwelling: DwellingId,
    on: &str,
    old: &Address,
    new: &Address,
    households: Vec<HouseholdId>,
    persons: Vec<PersonId>,
) -> ResidenceAddressRecoded {
    ResidenceAddressRecoded {
        dwelling,
        effective_on: day(on),
        cause: RecodingCause::UnitReorganisation,
        old_address: old.clone(),
        new_address: new.clone(),
        households,
        persons,
        legal_basis: basis(),
    }
}

pub fn reorganisation() -> AdministrativeUnitsReorganized {
    AdministrativeUnitsReorganized::embedded()
}
