//! The residence confirmation (CT07), the court-facing product.
//!
//! The event records what was certified and at which ledger size, so the certificate can be
//! recomputed and checked later. Its invalidation by a later residence event for the person is
//! derived by projections, not recorded (DOMAIN.md §4.10).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::values::{LegalBasis, Purpose};
use super::{Payload, TagSink};
use crate::ids::{ApplicationId, CertificateId, PersonId};

/// A residence confirmation (xác nhận thông tin về cư trú, CT07) was issued.
///
/// `valid_until` is the last day of validity as printed (the rule depends on `issued_on`: 30 days
/// before 2024, one year from 2024-01-01), unless a later change of the person's residence data
/// voids it first. A recoding of the address does not void it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResidenceConfirmationIssued {
    /// The certificate.
    pub certificate: CertificateId,
    /// The person it confirms.
    pub person: PersonId,
    /// The day it was issued.
    pub issued_on: NaiveDate,
    /// The last day of its validity, included.
    pub valid_until: NaiveDate,
    /// What it is for, as requested.
    pub purpose: Purpose,
    /// The number of ledger records the certificate was computed from (records at positions
    /// `0..ledger_size`).
    pub ledger_size: u64,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
    /// The application it answers, if it came through intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationId>,
}

impl Payload for ResidenceConfirmationIssued {
    fn tags(&self, tags: &mut TagSink) {
        tags.person(self.person);
        tags.application(self.application);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.issued_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}
