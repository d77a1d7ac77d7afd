//! Commands that declare or certify without registering: the Art 19 residence declaration and
//! its refusal, the in-commune address update, stay notification, temporary absence and the
//! residence confirmation (CT07).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::event::{AbsenceClause, Guest, LegalBasis, NotifierKind, PlaceText, Purpose, Reason};
use crate::ids::{ApplicationId, CertificateId, DwellingId, PersonId};

/// Khai báo thông tin về cư trú (Art 19): a person with no permanent and no temporary
/// registration declares where they live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclareCurrentResidence {
    /// The person.
    pub person: PersonId,
    /// The first day of the declared residence.
    pub effective_on: NaiveDate,
    /// Where they live.
    pub address: Address,
    /// The dwelling there, if the register knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dwelling: Option<DwellingId>,
    /// The legal basis to cite (default: Art 19).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

/// Refuse an unverifiable Art 19 declaration in writing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefuseResidenceDeclaration {
    /// The person.
    pub person: PersonId,
    /// The day of the refusal.
    pub effective_on: NaiveDate,
    /// The place declared.
    pub address: Address,
    /// Why.
    pub reason: Reason,
    /// The legal basis to cite (default: NĐ154 Art 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

/// Update the current address (nơi ở hiện tại) after a move within the commune of the
/// registration (I3): the registration itself does not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCurrentAddress {
    /// The person.
    pub person: PersonId,
    /// The first day at the new address.
    pub effective_on: NaiveDate,
    /// The new address.
    pub address: Address,
    /// The dwelling there, if the register knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dwelling: Option<DwellingId>,
    /// The legal basis to cite (default: TT55).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

/// Thông báo lưu trú (Art 30): notify a stay of less than 30 days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyStay {
    /// The guest.
    pub guest: Guest,
    /// The first day of the stay.
    pub effective_on: NaiveDate,
    /// The last day, included.
    pub until: NaiveDate,
    /// Where the guest stays.
    pub host_address: Address,
    /// The dwelling there, if the register knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dwelling: Option<DwellingId>,
    /// Why the guest stays.
    pub reason: Reason,
    /// Who notifies.
    pub notifier: NotifierKind,
    /// The legal basis to cite (default: Art 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
}

/// Khai báo tạm vắng (Art 31): declare a temporary absence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclareTemporaryAbsence {
    /// The person absent.
    pub person: PersonId,
    /// The first day of the absence.
    pub effective_on: NaiveDate,
    /// The last day, included.
    pub until: NaiveDate,
    /// The clause of Art 31.1.
    pub clause: AbsenceClause,
    /// Where the person goes.
    pub destination: PlaceText,
    /// Why.
    pub reason: Reason,
    /// The legal basis to cite (default: Art 31.1 with the clause).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

/// Issue a residence confirmation (CT07); its validity follows the rule in force on
/// `issued_on`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueResidenceConfirmation {
    /// The id allocated for the certificate.
    pub certificate: CertificateId,
    /// The person confirmed.
    pub person: PersonId,
    /// The day of issue.
    pub issued_on: NaiveDate,
    /// What it is for.
    pub purpose: Purpose,
    /// The number of ledger records the certificate was computed from.
    pub ledger_size: u64,
    /// The legal basis to cite (default: the CT07 rule in force).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}
