//! Household events: established, split, head changed, a member's relationship changed, and the
//! revocation of a legacy paper book.
//!
//! Household events tag every member they affect, so each member's chain shows every change to
//! their household membership. Relationships are always stated relative to the head; the head's
//! own relationship is `CHU_HO` by definition and is never listed beside the head's id, so a
//! payload cannot name two heads.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::values::{
    Consent, DecisionRef, DocumentNumber, LegalBasis, MemberRelationship, RegistrationKind,
    ResidenceFileNumber,
};
use super::{Payload, TagSink};
use crate::address::Address;
use crate::ids::{ApplicationId, DwellingId, HouseholdId, PersonId};
use crate::relationship::Relationship;

/// A new household was established at a dwelling.
///
/// It has no members yet: the founder registers into it in the same decision (a
/// [`super::PermanentResidenceRegistered`] or [`super::TemporaryResidenceRegistered`] with
/// relationship `CHU_HO`), and others join by their own registrations. Households created by a
/// split are established by [`HouseholdSplit`] itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdEstablished {
    /// The id given to the household.
    pub household: HouseholdId,
    /// The day it comes into being.
    pub effective_on: NaiveDate,
    /// Whether it is a household of permanent or of temporary residents.
    pub kind: RegistrationKind,
    /// Its address.
    pub address: Address,
    /// Its dwelling.
    pub dwelling: DwellingId,
    /// Its residence file number, when one was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residence_file_number: Option<ResidenceFileNumber>,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
}

impl Payload for HouseholdEstablished {
    fn tags(&self, tags: &mut TagSink) {
        tags.household(self.household);
        tags.dwelling(self.dwelling);
        tags.unit(&self.address);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}

/// Members split off into a new household at the same dwelling (tách hộ, Art 25).
///
/// The moving members keep their registration (same address, same start date); only their
/// household and their relationship (now to the new head) change. `members` lists every moving
/// member other than the new head, whose relationship is `CHU_HO`. A head who splits off leaves
/// the old household needing a [`HouseholdHeadChanged`] in the same decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdSplit {
    /// The household split from.
    pub household: HouseholdId,
    /// The new household.
    pub new_household: HouseholdId,
    /// The day the split takes effect.
    pub effective_on: NaiveDate,
    /// The dwelling both households share.
    pub dwelling: DwellingId,
    /// The address of that dwelling.
    pub address: Address,
    /// The head of the new household.
    pub new_head: PersonId,
    /// The other moving members with their relationship to the new head (may be empty).
    pub members: Vec<MemberRelationship>,
    /// The consents the split needed and got (head and owner, Art 25.1(b)).
    pub consents: Vec<Consent>,
    /// The new household's residence file number, when one was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residence_file_number: Option<ResidenceFileNumber>,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
    /// The application it answers, if it came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for HouseholdSplit {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.new_head);
        tags.persons(self.members.iter().map(|member| member.person));
        tags.household(self.household);
        tags.household(self.new_household);
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

/// Why a household's head changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HeadChangeReason {
    /// The head stays a member and the members agreed on a new head.
    Handover,
    /// The head died or was declared dead or missing.
    HeadDied,
    /// The head left the household: their registration there was deleted, or they split off or
    /// registered elsewhere.
    HeadLeft,
}

/// A household's head changed (đổi chủ hộ, Art 26.1(a)); every member's relationship is restated
/// relative to the new head.
///
/// Head vacant: after the head's death or ex-officio deletion the household has no head until
/// the members (or a court) name one; that later event has no `previous_head` and the reason that
/// emptied the post. When the members could not agree and a court named the head,
/// `court_decision` refers to the judgment. `members` lists every member other than the new head
/// (including the previous head if they stay) with their relationship to the new head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdHeadChanged {
    /// The household.
    pub household: HouseholdId,
    /// The day the new head takes over.
    pub effective_on: NaiveDate,
    /// The head before, absent when the household was head vacant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_head: Option<PersonId>,
    /// The new head.
    pub new_head: PersonId,
    /// Why the head changes.
    pub reason: HeadChangeReason,
    /// Every other member with their relationship to the new head.
    pub members: Vec<MemberRelationship>,
    /// The court decision naming the head, when the members did not agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub court_decision: Option<DecisionRef>,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
    /// The application it answers, if it came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for HouseholdHeadChanged {
    fn tags(&self, tags: &mut TagSink) {
        if let Some(previous) = self.previous_head {
            tags.person(previous);
        }
        tags.person(self.new_head);
        tags.persons(self.members.iter().map(|member| member.person));
        tags.household(self.household);
        tags.application(self.application);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}

/// One member's relationship to the head was corrected or changed (e.g. after a marriage or an
/// adoption), without a change of head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberRelationshipChanged {
    /// The household.
    pub household: HouseholdId,
    /// The member.
    pub person: PersonId,
    /// The day the change takes effect.
    pub effective_on: NaiveDate,
    /// The relationship before.
    pub previous_relationship: Relationship,
    /// The relationship now.
    pub relationship: Relationship,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
    /// The application it answers, if it came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for MemberRelationshipChanged {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
        tags.household(self.household);
        tags.application(self.application);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}

/// Which paper book was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LegacyBook {
    /// Sổ hộ khẩu: the household registration book.
    HouseholdBook,
    /// Sổ tạm trú: the temporary residence book.
    TemporaryResidenceBook,
}

/// A legacy paper book was revoked because a procedure changed the data it shows (TT55 Art 26;
/// the books lost all validity on 2023-01-01, Art 38.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyHouseholdBookRevoked {
    /// The household the book belonged to.
    pub household: HouseholdId,
    /// The day it was revoked.
    pub effective_on: NaiveDate,
    /// Which book.
    pub book: LegacyBook,
    /// The number printed on the book.
    pub book_number: DocumentNumber,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
}

impl Payload for LegacyHouseholdBookRevoked {
    fn tags(&self, tags: &mut TagSink) {
        tags.household(self.household);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}
