//! Household commands (split, change of head, change of a member's relationship, revocation of a
//! legacy book) and the household parts of registration commands.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::event::{
    Consent, DecisionRef, DocumentNumber, LegacyBook, LegalBasis, MemberRelationship,
    ResidenceFileNumber,
};
use crate::ids::{ApplicationId, DwellingId, HouseholdId, PersonId};
use crate::relationship::Relationship;

/// Which household a registration places the person in.
///
/// Wire form: `{"join":{"household":"…","relationship":"VO"}}` or
/// `{"establish":{"household":"…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HouseholdChoice {
    /// Join an existing household at the dwelling, with this relationship to its head.
    Join {
        /// The household.
        household: HouseholdId,
        /// The relationship to its head (never `CHU_HO`).
        relationship: Relationship,
    },
    /// Found a new household at the dwelling, with the person as its head.
    Establish {
        /// The id allocated for the new household.
        household: HouseholdId,
        /// Its residence file number, if one is issued.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        residence_file_number: Option<ResidenceFileNumber>,
    },
}

impl HouseholdChoice {
    /// The household joined or founded.
    pub fn household(&self) -> HouseholdId {
        match self {
            Self::Join { household, .. } | Self::Establish { household, .. } => *household,
        }
    }
}

/// The new head of a household whose head leaves, named in the same command (I6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadSuccession {
    /// The new head, a member who stays.
    pub new_head: PersonId,
    /// Every other member who stays, with their relationship to the new head.
    #[serde(default)]
    pub members: Vec<MemberRelationship>,
    /// The court decision naming the head, when the members did not agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub court_decision: Option<DecisionRef>,
}

/// How the consents of a split are settled (Art 25.1(b)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitConsent {
    /// The head and the owner agreed (their consents are in `consents`).
    Consented,
    /// A divorced spouse still entitled to use the dwelling splits off: no consent is needed
    /// (proof of the divorce and the right of use is in the dossier).
    DivorcedSpouseEntitled,
}

/// Tách hộ: members split off into a new household at the same dwelling (Art 25).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitHousehold {
    /// The household split from.
    pub household: HouseholdId,
    /// The id allocated for the new household.
    pub new_household: HouseholdId,
    /// The dwelling of the household (a split never moves anyone).
    pub dwelling: DwellingId,
    /// The day the split takes effect.
    pub effective_on: NaiveDate,
    /// The head of the new household.
    pub new_head: PersonId,
    /// The other members moving, with their relationship to the new head.
    #[serde(default)]
    pub members: Vec<MemberRelationship>,
    /// How consent is settled.
    pub consent: SplitConsent,
    /// The consents given.
    #[serde(default)]
    pub consents: Vec<Consent>,
    /// The new head of the old household, when its head splits off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_household_succession: Option<HeadSuccession>,
    /// The new household's residence file number, if one is issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residence_file_number: Option<ResidenceFileNumber>,
    /// The legal basis to cite (default: Art 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

/// Điều chỉnh thông tin – đổi chủ hộ: a member becomes head (Art 26.1(a)); every other member's
/// relationship is restated relative to the new head.
///
/// For a head-vacant household this is how the members (or a court) name the new head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeHead {
    /// The household.
    pub household: HouseholdId,
    /// The day the new head takes over.
    pub effective_on: NaiveDate,
    /// The new head.
    pub new_head: PersonId,
    /// Every other member with their relationship to the new head.
    #[serde(default)]
    pub members: Vec<MemberRelationship>,
    /// The court decision naming the head, when the members did not agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub court_decision: Option<DecisionRef>,
    /// The legal basis to cite (default: Art 26.1(a)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

/// A member's relationship to the head changed or was corrected (a marriage, an adoption).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeMemberRelationship {
    /// The household.
    pub household: HouseholdId,
    /// The member.
    pub person: PersonId,
    /// The day the change takes effect.
    pub effective_on: NaiveDate,
    /// The new relationship to the head.
    pub relationship: Relationship,
    /// The legal basis to cite (default: Art 26.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

/// Revoke a legacy paper book whose data a procedure changed (TT55 Art 26).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeLegacyBook {
    /// The household the book belongs to.
    pub household: HouseholdId,
    /// The day it is revoked.
    pub effective_on: NaiveDate,
    /// Which book.
    pub book: LegacyBook,
    /// The number printed on it.
    pub book_number: DocumentNumber,
    /// The legal basis to cite (default: TT55 Art 26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
}
