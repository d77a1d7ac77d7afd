//! What the register knows about a person: their permanent and temporary registrations as
//! valid-time intervals, absences, Art 19 declarations, current address, death, detected
//! deletion grounds and certificates, with the queries on them.
//!
//! Why a module of its own: every `decide` asks what held for a person on a date, so the
//! question is declared once, here, beside the record it reads (a second copy of "which
//! registration holds on this date" is a bug waiting for its first divergence). `evolve.rs`
//! writes these records; nothing here changes them.

use chrono::NaiveDate;

use crate::address::{Address, PersonName};
use crate::event::{AbsenceClause, DeletionGround, PermanentBasis};
use crate::event_id::EventId;
use crate::ids::{CertificateId, DwellingId, HouseholdId};
use crate::pin::{Pin, Sex};
use crate::rules::age_on;

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
