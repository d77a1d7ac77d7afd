//! Registration commands: permanent and temporary registration, extension, both deletions, a
//! detected deletion ground and an annulment.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::household::{HeadSuccession, HouseholdChoice};
use crate::address::Address;
use crate::event::{
    AnnulmentAuthority, Consent, DecisionRef, DeletionGround, DetectionSource, FloorArea,
    LegalBasis, PermanentBasis, Reason, RegistrationKind,
};
use crate::event_id::EventId;
use crate::grounds::{Initiator, PermanentDeletionGround, TemporaryDeletionGround};
use crate::ids::{ApplicationId, DwellingId, HouseholdId, PersonId};
use crate::rules::Dependency;

/// Đăng ký thường trú: register a person's permanent residence (Art 20–22).
///
/// The registration closes the person's previous permanent registration on the same day (I2).
/// When the person leaves a household by it, `leaving_household` must name that household (the
/// register checks it), and when they were its head and others stay, `head_succession` names
/// the new head in the same decision. A new household is founded with
/// [`HouseholdChoice::Establish`]: the decision records `HouseholdEstablished` before the
/// registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterPermanent {
    /// The person registered.
    pub person: PersonId,
    /// The first day of the registration.
    pub effective_on: NaiveDate,
    /// The Art 20 basis.
    pub basis: PermanentBasis,
    /// The address registered, in the unit scheme valid on `effective_on`.
    pub address: Address,
    /// The dwelling at that address (a new id for a dwelling the register has not seen).
    pub dwelling: DwellingId,
    /// The household joined or founded.
    pub household: HouseholdChoice,
    /// The household the person leaves by this registration, as the register shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaving_household: Option<HouseholdId>,
    /// The new head of the household left, when the person was its head and others stay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_succession: Option<HeadSuccession>,
    /// The dwelling's usable floor area, for a rented, borrowed or shared dwelling (else the
    /// last area recorded for the dwelling is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_area: Option<FloorArea>,
    /// The consents given.
    #[serde(default)]
    pub consents: Vec<Consent>,
    /// For Art 20.2(b): the person's disability or incapacity, which the register cannot read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency: Option<Dependency>,
    /// For a minor whose residence a court fixed: the judgment (no parental consent is needed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub court_fixed_residence: Option<DecisionRef>,
    /// The legal basis to cite; the decision fills in the article of the basis when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered, if the act came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

/// Đăng ký tạm trú: register a temporary residence from `effective_on` through `until`
/// (Art 27–28).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterTemporary {
    /// The person registered.
    pub person: PersonId,
    /// The first day of the term.
    pub effective_on: NaiveDate,
    /// The last day of the term, included.
    pub until: NaiveDate,
    /// The address registered.
    pub address: Address,
    /// The dwelling at that address.
    pub dwelling: DwellingId,
    /// The temporary household joined or founded; absent for a list filing by an organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<HouseholdChoice>,
    /// The consents given (the owner's; the head's when joining; a parent's for a minor).
    #[serde(default)]
    pub consents: Vec<Consent>,
    /// For a minor whose residence a court fixed: the judgment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub court_fixed_residence: Option<DecisionRef>,
    /// The legal basis to cite (default: Art 27).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

/// Gia hạn tạm trú: extend the temporary registration at `dwelling` to `until`.
///
/// The filing day is the application's receipt day when the command names an application,
/// else `effective_on`; it must fall within the 15 days before the term ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendTemporary {
    /// The person.
    pub person: PersonId,
    /// The dwelling of the registration extended.
    pub dwelling: DwellingId,
    /// The day the extension is granted.
    pub effective_on: NaiveDate,
    /// The new last day of the term.
    pub until: NaiveDate,
    /// The consents given (the owner's).
    #[serde(default)]
    pub consents: Vec<Consent>,
    /// The legal basis to cite (default: Art 28.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

/// Who asked for a deletion (NĐ154 Art 9–10 as amended by NĐ58/2026).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requester {
    /// The person whose registration is deleted.
    PersonConcerned,
    /// A member of their household, on the household's behalf.
    Household,
    /// Their legal representative (a parent, a guardian).
    LegalRepresentative,
    /// Nobody: the police act on their own motion.
    ExOfficio,
}

impl Requester {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PersonConcerned => "person_concerned",
            Self::Household => "household",
            Self::LegalRepresentative => "legal_representative",
            Self::ExOfficio => "ex_officio",
        }
    }

    /// Who set the deletion in motion, as the event records it.
    pub fn initiator(self) -> Initiator {
        match self {
            Self::ExOfficio => Initiator::ExOfficio,
            Self::PersonConcerned | Self::Household | Self::LegalRepresentative => {
                Initiator::Person
            }
        }
    }
}

/// Xóa đăng ký thường trú: delete a permanent registration on an Art 24.1 ground.
///
/// `household` is the household the person leaves, as the register shows it. When the person is
/// its head and others stay: after death or an ex-officio deletion the household is left head
/// vacant (and `head_succession` must be absent); on any other ground `head_succession` names
/// the new head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeletePermanent {
    /// The person.
    pub person: PersonId,
    /// The household they leave.
    pub household: HouseholdId,
    /// The day the deletion takes effect.
    pub effective_on: NaiveDate,
    /// The ground.
    pub ground: PermanentDeletionGround,
    /// Who asked for it.
    pub requester: Requester,
    /// The new head, when the head leaves on a ground that is neither death nor ex officio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_succession: Option<HeadSuccession>,
    /// The legal basis to cite (default: Art 24.1 with the ground's letter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

/// Xóa đăng ký tạm trú: delete a temporary registration on an Art 29.1 ground.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteTemporary {
    /// The person.
    pub person: PersonId,
    /// The dwelling of the registration.
    pub dwelling: DwellingId,
    /// The temporary household they leave, as the register shows it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<HouseholdId>,
    /// The day the deletion takes effect.
    pub effective_on: NaiveDate,
    /// The ground.
    pub ground: TemporaryDeletionGround,
    /// Who asked for it.
    pub requester: Requester,
    /// The new head of the temporary household, as for [`DeletePermanent`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_succession: Option<HeadSuccession>,
    /// The legal basis to cite (default: Art 29.1 with the ground's letter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

/// Record that a deletion ground arose (a timer ran out, the population database reported a
/// death, a report came in). Nothing is deleted: an officer decides later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordDeletionGround {
    /// The person.
    pub person: PersonId,
    /// The day the ground arose.
    pub effective_on: NaiveDate,
    /// The ground and the registration it is against.
    pub ground: DeletionGround,
    /// How it came to light.
    pub source: DetectionSource,
    /// The legal basis to cite (default: the article of the ground).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
}

/// Hủy bỏ đăng ký (Art 35): annul a registration made against the law.
///
/// When the annulled registration still holds on `effective_on`, the decision also deletes it
/// ex officio the same day (permanent ground c, temporary ground b).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnulRegistration {
    /// The person.
    pub person: PersonId,
    /// The registration event annulled.
    pub annuls: EventId,
    /// Which registration it is.
    pub registration: RegistrationKind,
    /// The day the annulment takes effect.
    pub effective_on: NaiveDate,
    /// The annulment decision.
    pub decision: DecisionRef,
    /// Who made it.
    pub decided_by: AnnulmentAuthority,
    /// Why the registration was against the law.
    pub reason: Reason,
    /// The legal basis to cite (default: Art 35).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
}
