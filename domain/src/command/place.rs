//! Place-level commands: Art 23 restrictions on a dwelling, address recoding, the 2025
//! reorganisation, and corrections of earlier events.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::event::{
    DecisionRef, EventEnvelope, LegalBasis, Reason, RecodingCause, RestrictionKind,
};
use crate::event_id::EventId;
use crate::ids::DwellingId;
use crate::tag::Tag;

/// Record that a dwelling became an Art 23 place where new registration is barred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordDwellingRestriction {
    /// The dwelling.
    pub dwelling: DwellingId,
    /// The first day of the restriction.
    pub effective_on: NaiveDate,
    /// Which kind of place.
    pub kind: RestrictionKind,
    /// The dwelling's address.
    pub address: Address,
    /// The decision behind it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionRef>,
    /// The legal basis to cite (default: Art 23 with the clause).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
}

/// Lift one kind of Art 23 restriction from a dwelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiftDwellingRestriction {
    /// The dwelling.
    pub dwelling: DwellingId,
    /// The first day registration is possible again.
    pub effective_on: NaiveDate,
    /// Which restriction.
    pub kind: RestrictionKind,
    /// The decision lifting it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionRef>,
    /// The legal basis to cite (default: Art 23).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
}

/// Recode a dwelling's address ex officio (Art 26.1(c)); nobody moves. The decision lists
/// every household and person registered at the dwelling on `effective_on`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecodeAddress {
    /// The dwelling.
    pub dwelling: DwellingId,
    /// The first day of the new address.
    pub effective_on: NaiveDate,
    /// Why.
    pub cause: RecodingCause,
    /// The new address.
    pub new_address: Address,
    /// The legal basis to cite (default: Art 26.1(c); CV 1555/BCA-C06).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
}

/// Record the 2025 reorganisation of administrative units, once, naming the embedded
/// conversion table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyReorganisation {}

/// Correct an earlier event (I11): `replacement` is read in its stead from now on.
///
/// The decision copies the corrected event's tags into the correction. When the corrected
/// event concerns people or places other than the replacement (a registration recorded for the
/// wrong person), `read_also` names their narrow tags so the caller reads the corrected event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectEvent {
    /// The event corrected.
    pub corrects: EventId,
    /// The corrected content, of the same type.
    pub replacement: EventEnvelope,
    /// Why.
    pub reason: Reason,
    /// The legal basis to cite (default: Art 26 and Art 35).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    /// More tags to read, when the corrected event concerns others than the replacement.
    #[serde(default)]
    pub read_also: Vec<Tag>,
}
