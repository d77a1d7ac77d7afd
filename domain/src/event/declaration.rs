//! Declarations that are not registrations: the current residence of a person with none
//! (Art 19), the current address within the same commune, stay notifications (Art 30) and
//! temporary absence (Art 31).
//!
//! None of them creates or ends a permanent or temporary registration; the timeline shows them
//! beside the registrations (the current residence and the absence status are fields of the
//! residence database).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::values::{DocumentNumber, LegalBasis, PlaceText, Reason};
use super::{Payload, TagSink};
use crate::address::{Address, PersonName};
use crate::ids::{ApplicationId, DwellingId, PersonId};
use crate::pin::Pin;

/// A person with neither a permanent nor a temporary residence declared where they live
/// (khai báo thông tin về cư trú, Art 19); the place becomes their residence in the register.
///
/// The place may have no lawful dwelling (then `dwelling` is absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurrentResidenceDeclared {
    /// The person.
    pub person: PersonId,
    /// The first day of the declared residence.
    pub effective_on: NaiveDate,
    /// Where they live.
    pub address: Address,
    /// The dwelling there, if it is one the register knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dwelling: Option<DwellingId>,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
    /// The application it answers, if it came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for CurrentResidenceDeclared {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
        if let Some(dwelling) = self.dwelling {
            tags.dwelling(dwelling);
        }
        tags.unit(&self.address);
        tags.application(self.application);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}

/// A residence declaration could not be verified and was refused in writing (Art 19, NĐ154
/// Art 4). The register is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurrentResidenceDeclarationRefused {
    /// The person.
    pub person: PersonId,
    /// The day of the refusal.
    pub effective_on: NaiveDate,
    /// The place declared.
    pub address: Address,
    /// Why it was refused.
    pub reason: Reason,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
    /// The application it answers, if it came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for CurrentResidenceDeclarationRefused {
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

/// A person moved within the commune of their registration: only the current address (nơi ở
/// hiện tại) changes, the registration does not (I3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurrentAddressUpdated {
    /// The person.
    pub person: PersonId,
    /// The first day at the new address.
    pub effective_on: NaiveDate,
    /// The current address before, if one was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_address: Option<Address>,
    /// The new current address.
    pub address: Address,
    /// The dwelling at the new address, if the register knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dwelling: Option<DwellingId>,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
    /// The application it answers, if it came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for CurrentAddressUpdated {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
        if let Some(dwelling) = self.dwelling {
            tags.dwelling(dwelling);
        }
        if let Some(previous) = &self.previous_address {
            tags.unit(previous);
        }
        tags.unit(&self.address);
        tags.application(self.application);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}

/// The identity document a guest was notified with.
///
/// Wire form: `{"kind":"PIN","number":"001090012345"}`, `{"kind":"IDENTITY_CARD","number":…}` or
/// `{"kind":"PASSPORT","number":…}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    content = "number",
    rename_all = "SCREAMING_SNAKE_CASE",
    deny_unknown_fields
)]
pub enum IdentityDocument {
    /// A personal identification number.
    Pin(Pin),
    /// An old 9-digit identity card (chứng minh nhân dân).
    IdentityCard(DocumentNumber),
    /// A passport (foreigners, overseas Vietnamese).
    Passport(DocumentNumber),
}

/// The guest of a stay notification, as notified.
///
/// Guests are often not in the register (foreigners, people not yet recorded), so the
/// notification keeps the name and document as given; `person` links it when the guest is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guest {
    /// The guest's id, when they are in the register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonId>,
    /// The guest's name as notified.
    pub name: PersonName,
    /// The document the guest was identified by.
    pub document: IdentityDocument,
}

/// Who notified a stay (Art 30.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotifierKind {
    /// A member of the host household, or the person in charge of the place.
    HostMember,
    /// A hotel, guest house or other accommodation business.
    Accommodation,
    /// A hospital or medical facility.
    MedicalFacility,
    /// A dormitory of a school, employer or other organisation.
    Dormitory,
    /// The guest, because the host was absent.
    Guest,
}

/// A stay of less than 30 days was notified (thông báo lưu trú, Art 30).
///
/// The stay runs from `effective_on` through `until`, both days included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StayNotified {
    /// Who stays.
    pub guest: Guest,
    /// The first day of the stay.
    pub effective_on: NaiveDate,
    /// The last day of the stay, included.
    pub until: NaiveDate,
    /// Where the guest stays.
    pub host_address: Address,
    /// The dwelling there, if the register knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dwelling: Option<DwellingId>,
    /// Why the guest stays, as notified.
    pub reason: Reason,
    /// Who notified.
    pub notifier: NotifierKind,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
}

impl Payload for StayNotified {
    fn tags(&self, tags: &mut TagSink) {
        if let Some(person) = self.guest.person {
            tags.person(person);
        }
        if let Some(dwelling) = self.dwelling {
            tags.dwelling(dwelling);
        }
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}

/// Which case of Art 31.1 obliges the person to declare an absence. Wire form: the letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AbsenceClause {
    /// a: on bail, with an unexecuted, postponed or suspended sentence, on probation,
    /// non-custodial reform or conditional release, leaving the commune for 1 day or more.
    #[serde(rename = "a")]
    Sentenced,
    /// b: under commune education or a pending administrative measure, leaving the commune for
    /// 1 day or more.
    #[serde(rename = "b")]
    AdministrativeMeasure,
    /// c: of military-service age or with other State duties, leaving the district for 3
    /// continuous months or more. After 2025-07-01 there are no districts; which scope applies
    /// is the decision rules' business, not the event's.
    #[serde(rename = "c")]
    MilitaryServiceAge,
    /// d: anyone else leaving the permanent-residence commune for 12 continuous months or more,
    /// unless temporarily registered elsewhere or abroad.
    #[serde(rename = "d")]
    LongAbsence,
}

/// A temporary absence was declared (khai báo tạm vắng, Art 31).
///
/// The absence runs from `effective_on` through `until`, both days included. A declared absence
/// stops the 12-month clock of Art 24.1(d).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporaryAbsenceDeclared {
    /// The person absent.
    pub person: PersonId,
    /// The first day of the absence.
    pub effective_on: NaiveDate,
    /// The last day of the absence, included.
    pub until: NaiveDate,
    /// Which case of Art 31.1 applies.
    pub clause: AbsenceClause,
    /// Where the person goes, as declared.
    pub destination: PlaceText,
    /// Why, as declared.
    pub reason: Reason,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
    /// The application it answers, if it came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for TemporaryAbsenceDeclared {
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
