//! Registration events: permanent and temporary registration, extension, both deletions, the
//! annulment of a registration, and a detected deletion ground.
//!
//! These are the events the residence timeline folds. Each carries the full address and the
//! dwelling and household ids, so that one event read alone (as in a court proof) says where the
//! person was registered, from when, on what basis, and in which household.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::values::RegistrationKind;
use super::values::{Consent, DecisionRef, FloorArea, LegalBasis, Membership, Reason};
use super::{Payload, TagSink};
use crate::address::Address;
use crate::event_id::EventId;
use crate::grounds::{Initiator, PermanentDeletionGround, TemporaryDeletionGround};
use crate::ids::{ApplicationId, DwellingId, HouseholdId, PersonId};

/// The basis of a permanent registration: the seven cases of Art 20 (DOMAIN.md §4.1).
///
/// The clause within a basis (e.g. 20.2.a, b or c for joining a relative) is written in the
/// event's legal basis text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PermanentBasis {
    /// 20.1: a lawful dwelling the person owns.
    OwnHome,
    /// 20.2: joining a relative, with the head's and the owner's consent.
    JoinRelative,
    /// 20.3: a rented, borrowed or shared dwelling, with the owner's consent and enough floor
    /// area per person.
    RentedBorrowedShared,
    /// 20.4: a religious establishment with an ancillary dwelling.
    ReligiousEstablishment,
    /// 20.5: a social-care facility or a caring household.
    SocialCare,
    /// 20.6: a vehicle used as a dwelling.
    Vehicle,
    /// Barracks or housing of a unit of the armed forces, on an introduction letter.
    UnitBarracks,
}

/// A permanent registration (đăng ký thường trú) took effect.
///
/// It closes the person's previous permanent registration, if any, on the same day (I2: there is
/// no transfer paper and no separate deletion); when that registration was in another household,
/// `previous_household` names it so both households are tagged, and `previous_dwelling` names
/// its dwelling so that dwelling is tagged too. A new household is founded by a
/// [`super::HouseholdEstablished`] in the same decision, and the founder registers with
/// relationship `CHU_HO`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermanentResidenceRegistered {
    /// The person registered.
    pub person: PersonId,
    /// The first day of the registration (valid time).
    pub effective_on: NaiveDate,
    /// The Art 20 basis.
    pub basis: PermanentBasis,
    /// The registered address.
    pub address: Address,
    /// The dwelling at that address.
    pub dwelling: DwellingId,
    /// The household joined (or founded) and the relationship to its head.
    pub membership: Membership,
    /// The household the person leaves by this registration, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_household: Option<HouseholdId>,
    /// The dwelling of the registration this one closes, if any. It is tagged, so whoever reads
    /// that dwelling's events (the floor-area head count, the residents listed by a recoding)
    /// sees the person leave it. Absent in events recorded before the field existed: readers of
    /// those fall back to the person's open registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_dwelling: Option<DwellingId>,
    /// The dwelling's total usable floor area as declared, where the basis needs it (rented,
    /// borrowed or shared: the minimum area per person is checked against it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_area: Option<FloorArea>,
    /// The consents the registration needed and got (may be empty, e.g. for an own home).
    pub consents: Vec<Consent>,
    /// The legal basis cited, e.g. "Luật Cư trú 2020, Điều 20.2.a".
    pub legal_basis: LegalBasis,
    /// The application it answers, if it came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for PermanentResidenceRegistered {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
        tags.household(self.membership.household);
        if let Some(previous) = self.previous_household {
            tags.household(previous);
        }
        tags.dwelling(self.dwelling);
        if let Some(previous) = self.previous_dwelling {
            tags.dwelling(previous);
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

/// A temporary registration (đăng ký tạm trú) took effect.
///
/// It runs from `effective_on` through `until`, both days included, and ends by itself after
/// `until` with no further event; an extension moves `until`. A list registration filed by an
/// organisation (workers, students) may place the person in no household: `membership` is then
/// absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporaryResidenceRegistered {
    /// The person registered.
    pub person: PersonId,
    /// The first day of the term (valid time).
    pub effective_on: NaiveDate,
    /// The last day of the term, included.
    pub until: NaiveDate,
    /// The registered address.
    pub address: Address,
    /// The dwelling at that address.
    pub dwelling: DwellingId,
    /// The household joined (or founded) and the relationship to its head, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership: Option<Membership>,
    /// The consents the registration needed and got.
    pub consents: Vec<Consent>,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
    /// The application it answers, if it came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for TemporaryResidenceRegistered {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
        if let Some(membership) = &self.membership {
            tags.household(membership.household);
        }
        tags.dwelling(self.dwelling);
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

/// A temporary registration was extended (gia hạn tạm trú): its last day moves from
/// `previous_until` to `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporaryResidenceExtended {
    /// The person whose registration is extended.
    pub person: PersonId,
    /// The dwelling of the registration extended.
    pub dwelling: DwellingId,
    /// The day the extension was granted.
    pub effective_on: NaiveDate,
    /// The last day of the term before the extension.
    pub previous_until: NaiveDate,
    /// The new last day of the term, included.
    pub until: NaiveDate,
    /// The consents the extension needed and got (the owner's).
    pub consents: Vec<Consent>,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
    /// The application it answers, if it came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for TemporaryResidenceExtended {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
        tags.dwelling(self.dwelling);
        tags.application(self.application);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}

/// A permanent registration was deleted (xóa đăng ký thường trú, Art 24).
///
/// The registration ends on `effective_on` (the last day registered is the day before) and the
/// person leaves `household`. When the person was the head, the same decision also records a
/// [`super::HouseholdHeadChanged`], except after death or an ex-officio deletion, which leave the
/// household head vacant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermanentResidenceDeleted {
    /// The person whose registration is deleted.
    pub person: PersonId,
    /// The day the deletion takes effect (the registration no longer holds on it).
    pub effective_on: NaiveDate,
    /// The Art 24.1 ground.
    pub ground: PermanentDeletionGround,
    /// Who set the deletion in motion.
    pub initiator: Initiator,
    /// The address whose registration ends.
    pub address: Address,
    /// The dwelling at that address.
    pub dwelling: DwellingId,
    /// The household the person leaves.
    pub household: HouseholdId,
    /// The legal basis cited, e.g. "Luật Cư trú 2020, Điều 24.1.a".
    pub legal_basis: LegalBasis,
    /// The application it answers, if the person or household filed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for PermanentResidenceDeleted {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
        tags.household(self.household);
        tags.dwelling(self.dwelling);
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

/// A temporary registration was deleted before its term ended (xóa đăng ký tạm trú, Art 29).
///
/// Its end is `effective_on` (exclusive), as for a permanent deletion. A term that simply runs out
/// needs no event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporaryResidenceDeleted {
    /// The person whose registration is deleted.
    pub person: PersonId,
    /// The day the deletion takes effect (the registration no longer holds on it).
    pub effective_on: NaiveDate,
    /// The Art 29.1 ground.
    pub ground: TemporaryDeletionGround,
    /// Who set the deletion in motion.
    pub initiator: Initiator,
    /// The address whose registration ends.
    pub address: Address,
    /// The dwelling at that address.
    pub dwelling: DwellingId,
    /// The household the person leaves, if the registration placed them in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<HouseholdId>,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
    /// The application it answers, if the person or household filed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for TemporaryResidenceDeleted {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
        if let Some(household) = self.household {
            tags.household(household);
        }
        tags.dwelling(self.dwelling);
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

/// Who annulled a registration (Art 35).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AnnulmentAuthority {
    /// The office that made the registration.
    RegisteringOffice,
    /// The head of that office's direct superior (complex cases).
    DirectSuperior,
}

/// A registration made against the law was annulled (hủy bỏ đăng ký, Art 35).
///
/// The annulment is a decision about the registration event `annuls`: a registration made against
/// the law was never valid, so as known from the annulment on, the residence timeline voids it
/// from its start (it is listed as voided, with this event, not silently dropped; as known before
/// the annulment it still shows). The deletion that follows (permanent ground `c`, temporary
/// ground `b`, within one day) records the administrative act of removing it from the register
/// and ends nothing else. A previous registration the annulled one had replaced is not revived:
/// the person must register again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResidenceRegistrationAnnulled {
    /// The person whose registration is annulled.
    pub person: PersonId,
    /// The registration event annulled.
    pub annuls: EventId,
    /// Which kind of registration it was.
    pub registration: RegistrationKind,
    /// The day the annulment takes effect (normally the day of the decision).
    pub effective_on: NaiveDate,
    /// The annulment decision.
    pub decision: DecisionRef,
    /// Who made it.
    pub decided_by: AnnulmentAuthority,
    /// Why the registration was against the law.
    pub reason: Reason,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
}

impl Payload for ResidenceRegistrationAnnulled {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}

/// A deletion ground of either registration.
///
/// Wire form: `{"registration":"PERMANENT","ground":"d"}` or
/// `{"registration":"TEMPORARY","ground":"c"}`, the ground being the letter of the law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    tag = "registration",
    content = "ground",
    rename_all = "SCREAMING_SNAKE_CASE",
    deny_unknown_fields
)]
pub enum DeletionGround {
    /// A ground of Art 24.1 against the permanent registration.
    Permanent(PermanentDeletionGround),
    /// A ground of Art 29.1 against the temporary registration.
    Temporary(TemporaryDeletionGround),
}

impl DeletionGround {
    /// Which registration the ground is against.
    pub fn registration(self) -> RegistrationKind {
        match self {
            Self::Permanent(_) => RegistrationKind::Permanent,
            Self::Temporary(_) => RegistrationKind::Temporary,
        }
    }
}

/// How a deletion ground came to light.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DetectionSource {
    /// A period counted on the register's own data ran out (e.g. 12 months' absence).
    Timer,
    /// Data shared by the population database or a connected database (death, nationality).
    PopulationDatabase,
    /// A report by the household head, the owner or another person, or an officer's check.
    Report,
}

/// A deletion ground was detected: the registration is now due for deletion.
///
/// Detection deletes nothing; a deletion needs an officer's decision (DOMAIN.md §4.3), which
/// records a [`PermanentResidenceDeleted`] or [`TemporaryResidenceDeleted`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeletionGroundDetected {
    /// The person concerned.
    pub person: PersonId,
    /// The day the ground arose (e.g. the date of death, the day the absence reached 12 months).
    pub effective_on: NaiveDate,
    /// The ground and the registration it is against.
    pub ground: DeletionGround,
    /// How it came to light.
    pub source: DetectionSource,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
}

impl Payload for DeletionGroundDetected {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}
