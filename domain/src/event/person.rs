//! Events about a person's own record: recorded from the population database, PIN reassigned,
//! civil status adjusted.
//!
//! A person is keyed by their internal [`PersonId`]; the PIN and the civil-status data are
//! attributes that these events set and change (I12: a PIN can be cancelled and re-established).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::values::{AuthorityName, DecisionRef, LegalBasis};
use super::{Payload, TagSink};
use crate::address::PersonName;
use crate::ids::{ApplicationId, PersonId};
use crate::pin::{Pin, Sex};

/// A person known to the national population database (I7) enters the residence register.
///
/// Every other event about a person presupposes this one. It is not a residence event: it has no
/// `effective_on` and no legal basis, and it registers no residence. The birth date is a full
/// date as the population database holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRecorded {
    /// The internal id given to the person.
    pub person: PersonId,
    /// Their personal identification number at the time of recording.
    pub pin: Pin,
    /// Their full name (NFC).
    pub name: PersonName,
    /// Their date of birth.
    pub birth_date: NaiveDate,
    /// Their sex.
    pub sex: Sex,
}

impl Payload for PersonRecorded {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
        tags.pin(self.pin);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        None
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        None
    }
}

/// Why a PIN was cancelled and re-established.
///
/// The PIN encodes the birth year and the sex (century digit), so it is re-established when one of
/// those is corrected or when it was issued from wrongly entered data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PinReassignmentReason {
    /// Xác định lại giới tính: the person's sex was re-determined.
    SexRedetermined,
    /// Cải chính năm sinh: the year of birth was corrected.
    BirthYearCorrected,
    /// Sai sót dữ liệu: the number was issued from wrongly entered data.
    DataEntryError,
}

/// The population database cancelled a person's PIN and established a new one (I12).
///
/// Both numbers are tagged: the old one is released and the new one is taken, so a concurrent
/// use of either conflicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalIdNumberReassigned {
    /// The person.
    pub person: PersonId,
    /// The day the new number takes effect.
    pub effective_on: NaiveDate,
    /// The cancelled number.
    pub old: Pin,
    /// The new number.
    pub new: Pin,
    /// Why it was re-established.
    pub reason: PinReassignmentReason,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
}

impl Payload for PersonalIdNumberReassigned {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
        tags.pin(self.old);
        tags.pin(self.new);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}

/// The new values of the civil-status fields an adjustment changes; a field that is absent did
/// not change.
///
/// A PIN that changes with the civil status (sex, birth year) is a separate
/// [`PersonalIdNumberReassigned`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CivilStatusChanges {
    /// The new full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<PersonName>,
    /// The new date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    /// The new sex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
}

impl CivilStatusChanges {
    /// True when no field changes (a command producing this is refused by `decide`).
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.birth_date.is_none() && self.sex.is_none()
    }
}

/// Residence data adjusted after a civil-status decision (Art 26.1(b)): the person filed within
/// 30 days of the decision of the civil-status authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResidentCivilStatusAdjusted {
    /// The person.
    pub person: PersonId,
    /// The day the adjustment takes effect in the residence database.
    pub effective_on: NaiveDate,
    /// The fields that changed, with their new values.
    pub changes: CivilStatusChanges,
    /// The civil-status decision (e.g. a name change or correction) the adjustment follows.
    pub decision: DecisionRef,
    /// The civil-status authority that made the decision.
    pub authority: AuthorityName,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
    /// The application it answers, if it came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for ResidentCivilStatusAdjusted {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
        tags.application(self.application);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}
