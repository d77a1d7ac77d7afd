//! Commands about a person's own record and about intake: recording a person from the
//! population database, re-establishing a PIN, adjusting civil status, and the intake slips.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::address::PersonName;
use crate::event::{
    AuthorityName, CivilStatusChanges, DecisionRef, IntakeChannel, LegalBasis,
    PinReassignmentReason, Procedure, Reason,
};
use crate::ids::{ApplicationId, PersonId};
use crate::pin::{Pin, Sex};

/// Record a person known to the national population database (I7); every other command about
/// a person needs this first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordPerson {
    /// The id allocated for the person.
    pub person: PersonId,
    /// Their PIN.
    pub pin: Pin,
    /// Their full name.
    pub name: PersonName,
    /// Their date of birth.
    pub birth_date: NaiveDate,
    /// Their sex.
    pub sex: Sex,
}

/// The population database cancelled a PIN and established a new one (I12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReassignPin {
    /// The person.
    pub person: PersonId,
    /// The day the new number takes effect.
    pub effective_on: NaiveDate,
    /// The cancelled number (the person's current one).
    pub old: Pin,
    /// The new number.
    pub new: Pin,
    /// Why.
    pub reason: PinReassignmentReason,
    /// The legal basis to cite (default: Luật Căn cước 2023, Điều 12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
}

/// Điều chỉnh thông tin – hộ tịch: residence data follow a civil-status decision (Art 26.1(b)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustCivilStatus {
    /// The person.
    pub person: PersonId,
    /// The day the adjustment takes effect.
    pub effective_on: NaiveDate,
    /// The new values.
    pub changes: CivilStatusChanges,
    /// The civil-status decision.
    pub decision: DecisionRef,
    /// The authority that made it.
    pub authority: AuthorityName,
    /// The legal basis to cite (default: Art 26.1(b)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// The application answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

/// Receive an application and issue the receipt slip (CT04).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiveApplication {
    /// The id allocated for the application.
    pub application: ApplicationId,
    /// The day it was received.
    pub received_on: NaiveDate,
    /// The procedure asked for.
    pub procedure: Procedure,
    /// How it arrived.
    pub channel: IntakeChannel,
    /// The people it concerns (at least one).
    pub subjects: Vec<PersonId>,
    /// Who filed it, when that is a registered person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant: Option<PersonId>,
    /// The day the result is promised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_due_on: Option<NaiveDate>,
}

/// Ask the applicant to complete the file (CT05).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestCompletion {
    /// The application.
    pub application: ApplicationId,
    /// The day the slip is issued.
    pub requested_on: NaiveDate,
    /// What is missing (at least one item).
    pub missing: Vec<Reason>,
    /// The day by which the file should be completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_by: Option<NaiveDate>,
}

/// Refuse an application in writing (CT06).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefuseApplication {
    /// The application.
    pub application: ApplicationId,
    /// The day of the refusal.
    pub refused_on: NaiveDate,
    /// Why.
    pub reason: Reason,
    /// The legal basis of the refusal.
    pub legal_basis: LegalBasis,
}
