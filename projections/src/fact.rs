//! What one event says about one person, in the compact model's numbers: the input of the
//! compact fold ([`crate::residence`]) and what each person's entry keeps
//! ([`crate::persons`]).
//!
//! Why a module of its own: the person table stores facts and the fold reads them; with the
//! facts in the fold's module, the table and the fold would import each other.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::compact::{Addr, Day, HouseholdIdx, RelId};

/// A person's place in a household, compact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Member {
    /// The household.
    pub(crate) household: HouseholdIdx,
    /// The relationship to its head.
    pub(crate) relationship: RelId,
}

/// One event as it concerns one person, in ledger order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fact {
    /// The ledger position of the record.
    pub(crate) position: u64,
    /// The event id, which corrections and annulments name.
    #[serde(with = "crate::compact::id_bytes")]
    pub(crate) event_id: [u8; 16],
    /// What the event says about the person.
    pub(crate) body: Body,
}

/// What one event says about a person, reduced to what the spans need (mirrors the domain's
/// timeline digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Body {
    /// An event of a residence type that changes none of the person's spans here: about someone
    /// else, or a current residence or stay (kept so a correction naming it finds its place).
    Ignored,
    /// A permanent registration began.
    Permanent {
        on: Day,
        addr: Addr,
        dwelling: u64,
        member: Member,
    },
    /// A temporary registration began; its last day is `until`.
    Temporary {
        on: Day,
        until: Day,
        addr: Addr,
        dwelling: u64,
        member: Option<Member>,
    },
    /// The last day of the temporary registration at `dwelling`, which was `previous_until`,
    /// moved to `until`.
    Extended {
        on: Day,
        dwelling: u64,
        previous_until: Day,
        until: Day,
    },
    /// The permanent registration at `dwelling` was deleted (`death`: on ground a).
    PermanentDeleted { on: Day, dwelling: u64, death: bool },
    /// The temporary registration at `dwelling` was deleted (`death`: on ground a).
    TemporaryDeleted { on: Day, dwelling: u64, death: bool },
    /// The registration recorded by event `annuls` was annulled.
    Annulled {
        #[serde(with = "crate::compact::id_bytes")]
        annuls: [u8; 16],
    },
    /// The person's membership in `household` became `now`.
    Membership {
        on: Day,
        household: HouseholdIdx,
        now: Member,
    },
    /// A temporary absence was declared, through `until`.
    Absence { on: Day, until: Day },
    /// A dwelling's address was recoded.
    Recoded { on: Day, dwelling: u64, addr: Addr },
    /// Event `corrects` is to be read as `replacement`.
    Correction {
        #[serde(with = "crate::compact::id_bytes")]
        corrects: [u8; 16],
        replacement: Box<Body>,
    },
}

impl Body {
    /// The valid-time date the fold sorts by; `None` for what has no place in valid time or
    /// changes nothing here.
    pub(crate) fn effective_on(&self) -> Option<NaiveDate> {
        match self {
            Self::Ignored | Self::Annulled { .. } | Self::Correction { .. } => None,
            Self::Permanent { on, .. }
            | Self::Temporary { on, .. }
            | Self::Extended { on, .. }
            | Self::PermanentDeleted { on, .. }
            | Self::TemporaryDeleted { on, .. }
            | Self::Membership { on, .. }
            | Self::Absence { on, .. }
            | Self::Recoded { on, .. } => Some(on.0),
        }
    }

    /// Every address the body names (for the unit index).
    pub(crate) fn addresses(&self) -> Option<Addr> {
        match self {
            Self::Permanent { addr, .. }
            | Self::Temporary { addr, .. }
            | Self::Recoded { addr, .. } => Some(*addr),
            Self::Correction { replacement, .. } => replacement.addresses(),
            _ => None,
        }
    }

    /// Every household the body names (for the household member index).
    pub(crate) fn households(&self) -> [Option<HouseholdIdx>; 2] {
        match self {
            Self::Permanent { member, .. } => [Some(member.household), None],
            Self::Temporary { member, .. } => [member.map(|m| m.household), None],
            Self::Membership { household, now, .. } => [Some(*household), Some(now.household)],
            Self::Correction { replacement, .. } => replacement.households(),
            _ => [None, None],
        }
    }
}
