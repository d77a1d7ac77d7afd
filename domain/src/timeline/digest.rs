//! Digesting events into the few facts the timeline folds.
//!
//! Why: a timeline keeps one person's events for as long as it lives and refolds them for every
//! "as known at" position, so it keeps only what the fold reads (dates, addresses, households,
//! relationships), already narrowed to this person, and never the legal bases, consents or
//! applications of the full events. Events that cannot change a residence are dropped here.
//!
//! The match over [`Event`] has no catch-all arm on purpose: a new event type must be classified
//! here before the crate compiles.

use chrono::NaiveDate;

use super::{Basis, Known, TimelineError};
use crate::address::Address;
use crate::event::{
    AbsenceClause, Event, MemberRelationship, Membership, NotifierKind, PermanentBasis, PlaceText,
};
use crate::event_id::EventId;
use crate::grounds::{PermanentDeletionGround, TemporaryDeletionGround};
use crate::ids::{DwellingId, HouseholdId, PersonId};
use crate::relationship::Relationship;

/// One kept event: where the ledger has it, its id and what it says about the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fact {
    /// The event's transaction coordinates.
    pub(super) known: Known,
    /// The event's id, which corrections and annulments name.
    pub(super) event_id: EventId,
    /// What the event says about the person.
    pub(super) body: Body,
}

/// What one event says about the person, reduced to what the fold reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Body {
    /// An event of a residence type that does not concern this person (kept so that a correction
    /// naming it can take its place in ledger order).
    Ignored,
    /// A permanent registration began.
    Permanent {
        effective_on: NaiveDate,
        basis: PermanentBasis,
        address: Address,
        dwelling: DwellingId,
        membership: Membership,
    },
    /// A temporary registration began; its last day is `until`.
    Temporary {
        effective_on: NaiveDate,
        until: NaiveDate,
        address: Address,
        dwelling: DwellingId,
        membership: Option<Membership>,
    },
    /// The last day of the temporary registration at `dwelling` whose term ended on
    /// `previous_until` moved to `until`.
    Extended {
        effective_on: NaiveDate,
        dwelling: DwellingId,
        previous_until: NaiveDate,
        until: NaiveDate,
    },
    /// The permanent registration at `dwelling` was deleted.
    PermanentDeleted {
        effective_on: NaiveDate,
        dwelling: DwellingId,
        ground: PermanentDeletionGround,
    },
    /// The temporary registration at `dwelling` was deleted.
    TemporaryDeleted {
        effective_on: NaiveDate,
        dwelling: DwellingId,
        ground: TemporaryDeletionGround,
    },
    /// The registration recorded by event `annuls` was annulled.
    Annulled { annuls: EventId },
    /// The person's membership in `household` became `now` (a split, a head change or a
    /// relationship change).
    Membership {
        effective_on: NaiveDate,
        household: HouseholdId,
        now: Membership,
    },
    /// A current residence was declared, or the current address moved within the commune.
    Current {
        effective_on: NaiveDate,
        address: Address,
        dwelling: Option<DwellingId>,
        basis: Basis,
    },
    /// A stay was notified, through `until`.
    Stay {
        effective_on: NaiveDate,
        until: NaiveDate,
        address: Address,
        dwelling: Option<DwellingId>,
        notifier: NotifierKind,
    },
    /// A temporary absence was declared, through `until`.
    Absence {
        effective_on: NaiveDate,
        until: NaiveDate,
        clause: AbsenceClause,
        destination: PlaceText,
    },
    /// A dwelling's address was recoded.
    Recoded {
        effective_on: NaiveDate,
        dwelling: DwellingId,
        address: Address,
    },
    /// The 2025 reorganisation took effect.
    Reorganised { effective_on: NaiveDate },
    /// Event `corrects` is to be read as `replacement`.
    Correction {
        corrects: EventId,
        replacement: Box<Body>,
    },
}

impl Body {
    /// The valid-time date the fold sorts by; `None` for what has no place in valid time.
    pub(super) fn effective_on(&self) -> Option<NaiveDate> {
        match self {
            Self::Ignored | Self::Annulled { .. } | Self::Correction { .. } => None,
            Self::Permanent { effective_on, .. }
            | Self::Temporary { effective_on, .. }
            | Self::Extended { effective_on, .. }
            | Self::PermanentDeleted { effective_on, .. }
            | Self::TemporaryDeleted { effective_on, .. }
            | Self::Membership { effective_on, .. }
            | Self::Current { effective_on, .. }
            | Self::Stay { effective_on, .. }
            | Self::Absence { effective_on, .. }
            | Self::Recoded { effective_on, .. }
            | Self::Reorganised { effective_on } => Some(*effective_on),
        }
    }
}

/// The relationship to the head that a restatement gives `person`: `CHU_HO` for the new head,
/// the listed relationship for a listed member, `None` when the person is not named.
fn restated(
    person: PersonId,
    new_head: PersonId,
    members: &[MemberRelationship],
) -> Option<Relationship> {
    if new_head == person {
        return Some(Relationship::ChuHo);
    }
    members
        .iter()
        .find(|member| member.person == person)
        .map(|member| member.relationship.clone())
}

/// What `event` says about `person`: `None` when the event's type never changes a residence.
///
/// # Errors
/// [`TimelineError::ForeignConversionTable`] for a reorganisation event that names another
/// conversion table than the embedded one.
pub(super) fn digest(
    person: PersonId,
    event: &Event,
    position: u64,
) -> Result<Option<Body>, TimelineError> {
    let mine = |subject: PersonId, body: Body| {
        if subject == person {
            body
        } else {
            Body::Ignored
        }
    };
    let body = match event {
        Event::PermanentResidenceRegistered(e) => mine(
            e.person,
            Body::Permanent {
                effective_on: e.effective_on,
                basis: e.basis,
                address: e.address.clone(),
                dwelling: e.dwelling,
                membership: e.membership.clone(),
            },
        ),
        Event::TemporaryResidenceRegistered(e) => mine(
            e.person,
            Body::Temporary {
                effective_on: e.effective_on,
                until: e.until,
                address: e.address.clone(),
                dwelling: e.dwelling,
                membership: e.membership.clone(),
            },
        ),
        Event::TemporaryResidenceExtended(e) => mine(
            e.person,
            Body::Extended {
                effective_on: e.effective_on,
                dwelling: e.dwelling,
                previous_until: e.previous_until,
                until: e.until,
            },
        ),
        Event::PermanentResidenceDeleted(e) => mine(
            e.person,
            Body::PermanentDeleted {
                effective_on: e.effective_on,
                dwelling: e.dwelling,
                ground: e.ground,
            },
        ),
        Event::TemporaryResidenceDeleted(e) => mine(
            e.person,
            Body::TemporaryDeleted {
                effective_on: e.effective_on,
                dwelling: e.dwelling,
                ground: e.ground,
            },
        ),
        Event::ResidenceRegistrationAnnulled(e) => {
            mine(e.person, Body::Annulled { annuls: e.annuls })
        }
        Event::HouseholdSplit(e) => match restated(person, e.new_head, &e.members) {
            Some(relationship) => Body::Membership {
                effective_on: e.effective_on,
                household: e.household,
                now: Membership {
                    household: e.new_household,
                    relationship,
                },
            },
            None => Body::Ignored,
        },
        Event::HouseholdHeadChanged(e) => match restated(person, e.new_head, &e.members) {
            Some(relationship) => Body::Membership {
                effective_on: e.effective_on,
                household: e.household,
                now: Membership {
                    household: e.household,
                    relationship,
                },
            },
            None => Body::Ignored,
        },
        Event::MemberRelationshipChanged(e) => mine(
            e.person,
            Body::Membership {
                effective_on: e.effective_on,
                household: e.household,
                now: Membership {
                    household: e.household,
                    relationship: e.relationship.clone(),
                },
            },
        ),
        Event::CurrentResidenceDeclared(e) => mine(
            e.person,
            Body::Current {
                effective_on: e.effective_on,
                address: e.address.clone(),
                dwelling: e.dwelling,
                basis: Basis::Declared,
            },
        ),
        Event::CurrentAddressUpdated(e) => mine(
            e.person,
            Body::Current {
                effective_on: e.effective_on,
                address: e.address.clone(),
                dwelling: e.dwelling,
                basis: Basis::AddressUpdated,
            },
        ),
        Event::StayNotified(e) => match e.guest.person {
            Some(guest) if guest == person => Body::Stay {
                effective_on: e.effective_on,
                until: e.until,
                address: e.host_address.clone(),
                dwelling: e.dwelling,
                notifier: e.notifier,
            },
            _ => Body::Ignored,
        },
        Event::TemporaryAbsenceDeclared(e) => mine(
            e.person,
            Body::Absence {
                effective_on: e.effective_on,
                until: e.until,
                clause: e.clause,
                destination: e.destination.clone(),
            },
        ),
        // A recoding is matched to the person's intervals by dwelling, not by its list of
        // persons: the dwelling keeps its id when its address changes, and an interval that
        // ended before the recoding still needs it for "today's equivalent".
        Event::ResidenceAddressRecoded(e) => Body::Recoded {
            effective_on: e.effective_on,
            dwelling: e.dwelling,
            address: e.new_address.clone(),
        },
        Event::AdministrativeUnitsReorganized(e) => {
            if !e.matches_embedded_table() {
                return Err(TimelineError::ForeignConversionTable { position });
            }
            Body::Reorganised {
                effective_on: e.effective_on,
            }
        }
        Event::EventCorrected(e) => match digest(person, e.replacement(), position)? {
            Some(replacement) => Body::Correction {
                corrects: e.corrects(),
                replacement: Box::new(replacement),
            },
            None => return Ok(None),
        },
        // Attributes of the person, intake, place rules and certificates: none of them starts,
        // ends or moves a residence (a PIN reassignment and a civil-status adjustment change
        // who the person is recorded as, not where they live).
        Event::PersonRecorded(_)
        | Event::ApplicationReceived(_)
        | Event::ApplicationCompletionRequested(_)
        | Event::ApplicationRefused(_)
        | Event::DwellingRestrictionRecorded(_)
        | Event::DwellingRestrictionLifted(_)
        | Event::DeletionGroundDetected(_)
        | Event::HouseholdEstablished(_)
        | Event::ResidentCivilStatusAdjusted(_)
        | Event::CurrentResidenceDeclarationRefused(_)
        | Event::LegacyHouseholdBookRevoked(_)
        | Event::ResidenceConfirmationIssued(_)
        | Event::PersonalIdNumberReassigned(_) => return Ok(None),
    };
    Ok(Some(body))
}
