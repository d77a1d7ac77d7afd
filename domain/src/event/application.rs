//! Intake events: an application received (CT04), asked to be completed (CT05), refused (CT06).
//!
//! A procedure's result event (a registration, a split, …) names the application it answers, so
//! the intake history and the result share the `application:` tag and an application cannot be
//! both refused and granted.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::values::{LegalBasis, Reason};
use super::{Payload, TagSink};
use crate::ids::{ApplicationId, PersonId};

/// The procedure an application asks for (DOMAIN.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Procedure {
    /// Đăng ký thường trú.
    PermanentRegistration,
    /// Đăng ký tạm trú.
    TemporaryRegistration,
    /// Gia hạn tạm trú.
    TemporaryExtension,
    /// Xóa đăng ký thường trú.
    PermanentDeletion,
    /// Xóa đăng ký tạm trú.
    TemporaryDeletion,
    /// Tách hộ.
    HouseholdSplit,
    /// Điều chỉnh thông tin: đổi chủ hộ.
    HeadChange,
    /// Điều chỉnh thông tin: quan hệ với chủ hộ.
    RelationshipChange,
    /// Điều chỉnh thông tin: hộ tịch.
    CivilStatusAdjustment,
    /// Khai báo thông tin về cư trú (Art 19).
    ResidenceDeclaration,
    /// Cập nhật nơi ở hiện tại trong cùng xã.
    CurrentAddressUpdate,
    /// Khai báo tạm vắng.
    TemporaryAbsence,
    /// Xác nhận thông tin về cư trú (CT07).
    ResidenceConfirmation,
}

/// How an application reached the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IntakeChannel {
    /// Filed in person at the office.
    InPerson,
    /// Sent by post.
    Post,
    /// Filed on the national or ministry public-service portal (DVC).
    OnlinePortal,
    /// Filed in the VNeID application.
    Vneid,
}

/// An application was received and a receipt and appointment slip (CT04) issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationReceived {
    /// The id given to the application.
    pub application: ApplicationId,
    /// The day it was received.
    pub received_on: NaiveDate,
    /// The procedure asked for.
    pub procedure: Procedure,
    /// How it arrived.
    pub channel: IntakeChannel,
    /// The people whose residence or record the application concerns.
    pub subjects: Vec<PersonId>,
    /// Who filed it, when that is a registered person (a parent for a minor, the head for the
    /// household); absent for an organisation filing a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant: Option<PersonId>,
    /// The day the result is promised on the slip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_due_on: Option<NaiveDate>,
}

impl Payload for ApplicationReceived {
    fn tags(&self, tags: &mut TagSink) {
        tags.application(Some(self.application));
        tags.persons(self.subjects.iter().copied());
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.received_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        None
    }
}

/// The applicant was asked to complete the file (CT05).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationCompletionRequested {
    /// The application.
    pub application: ApplicationId,
    /// The day the slip was issued.
    pub requested_on: NaiveDate,
    /// What is missing or must be corrected, one item per entry.
    pub missing: Vec<Reason>,
    /// The day by which the file should be completed, if the slip names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_by: Option<NaiveDate>,
}

impl Payload for ApplicationCompletionRequested {
    fn tags(&self, tags: &mut TagSink) {
        tags.application(Some(self.application));
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.requested_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        None
    }
}

/// The application was refused, in writing with reasons (CT06).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRefused {
    /// The application.
    pub application: ApplicationId,
    /// The day the refusal was issued.
    pub refused_on: NaiveDate,
    /// Why it was refused, as written on the slip.
    pub reason: Reason,
    /// The legal basis of the refusal.
    pub legal_basis: LegalBasis,
}

impl Payload for ApplicationRefused {
    fn tags(&self, tags: &mut TagSink) {
        tags.application(Some(self.application));
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.refused_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}
