//! What the register knows about a household: its members with their relationship to the
//! head, the head or why there is none, its dwelling, kind and revoked legacy books.
//!
//! Why a module of its own: the household's shape is read by the decisions on heads and
//! members and by the I6 check; keeping the record apart from the fold that writes it
//! (`evolve.rs`) and the checks that read it (`invariants.rs`) lets each be read alone.
//! Household membership and heads are the latest recorded facts, not valid-time intervals.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::address::Address;
use crate::event::{DocumentNumber, LegacyBook, RegistrationKind};
use crate::ids::{DwellingId, PersonId};
use crate::relationship::Relationship;

/// Why a household has no head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VacancyCause {
    /// The head died or was declared dead or missing.
    HeadDied,
    /// The head's registration was deleted ex officio.
    HeadDeletedExOfficio,
    /// The head left otherwise. The law requires a new head in the same decision, so a
    /// household is never left like this once a decision's events are all folded.
    HeadLeft,
}

/// What the register knows about a household.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdRecord {
    /// Whether its establishment (or the split that created it) was folded.
    pub established: bool,
    /// The day it came into being.
    pub established_on: Option<NaiveDate>,
    /// Permanent or temporary residents.
    pub kind: Option<RegistrationKind>,
    /// Its dwelling.
    pub dwelling: Option<DwellingId>,
    /// Its address as established or last recoded.
    pub address: Option<Address>,
    /// Members with their relationship to the head (the head with `CHU_HO`).
    pub members: BTreeMap<PersonId, Relationship>,
    /// The head.
    pub head: Option<PersonId>,
    /// Why there is no head, when there are members and no head.
    pub vacancy: Option<VacancyCause>,
    /// Legacy books revoked.
    pub revoked_books: Vec<(LegacyBook, DocumentNumber)>,
}
