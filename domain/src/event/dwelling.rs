//! Place-level events: a dwelling where new registration is barred (Art 23), and the lifting of
//! that bar.
//!
//! They are tagged with the dwelling only, so every registration at the dwelling (which also
//! carries the `dwelling:` tag) conflicts with a concurrent restriction.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::values::{DecisionRef, LegalBasis};
use super::{Payload, TagSink};
use crate::address::Address;
use crate::ids::DwellingId;

/// The five kinds of place where Art 23 bars new registration.
///
/// A dwelling can be restricted on several kinds at once; each kind is recorded and lifted on its
/// own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RestrictionKind {
    /// 23.1: in a prohibited zone or a protection zone (defence, security, heritage, …).
    ProhibitedOrProtectedZone,
    /// 23.2: built on encroached land or land where building is not allowed.
    EncroachedOrUnbuildableLand,
    /// 23.3: land under a recovery decision, or a dwelling whose ownership is disputed.
    LandRecoveryOrDispute,
    /// 23.4: a confiscated dwelling, or a vehicle whose registration was withdrawn.
    ConfiscatedOrDeregistered,
    /// 23.5: a dwelling under a demolition decision.
    DemolitionDecision,
}

/// A dwelling became a place where new registration is barred (Art 23).
///
/// From `effective_on`, new permanent and temporary registrations there are refused, except
/// (from 2026-07-01) a permanent registration joining a spouse, child or parent (TT116 Art 6.7);
/// existing registrations are not ended by this event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DwellingRestrictionRecorded {
    /// The dwelling.
    pub dwelling: DwellingId,
    /// The first day of the restriction.
    pub effective_on: NaiveDate,
    /// Which kind of place it is.
    pub kind: RestrictionKind,
    /// The dwelling's address, so the event reads on its own.
    pub address: Address,
    /// The decision that makes it such a place (zone plan, recovery or demolition decision), if
    /// there is one to cite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionRef>,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
}

impl Payload for DwellingRestrictionRecorded {
    fn tags(&self, tags: &mut TagSink) {
        tags.dwelling(self.dwelling);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}

/// A restriction of one kind on a dwelling was lifted (the zone changed, the dispute was settled,
/// the decision was withdrawn).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DwellingRestrictionLifted {
    /// The dwelling.
    pub dwelling: DwellingId,
    /// The first day registration is possible again (for this kind).
    pub effective_on: NaiveDate,
    /// Which restriction is lifted.
    pub kind: RestrictionKind,
    /// The decision that lifts it, if there is one to cite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionRef>,
    /// The legal basis cited.
    pub legal_basis: LegalBasis,
}

impl Payload for DwellingRestrictionLifted {
    fn tags(&self, tags: &mut TagSink) {
        tags.dwelling(self.dwelling);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}
