//! What the register knows about a dwelling: its address history (the first address an event
//! gave it, then every recoding), its Art 23 restrictions and its floor area, with the queries
//! that read them on a date.
//!
//! Why a module of its own: a registration's address as shown on a date, and whether a
//! restriction is in force, are asked by decisions, certificates and checks alike, so each
//! question is declared once, here.

use chrono::NaiveDate;

use crate::address::Address;
use crate::event::{FloorArea, RestrictionKind};

/// An Art 23 restriction of one kind, `[from, lifted_on)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    /// The kind.
    pub kind: RestrictionKind,
    /// The first day.
    pub from: NaiveDate,
    /// The day it was lifted, if it was.
    pub lifted_on: Option<NaiveDate>,
}

impl Restriction {
    /// Whether it is in force on `date`.
    pub fn holds_on(&self, date: NaiveDate) -> bool {
        self.from <= date && self.lifted_on.is_none_or(|lifted| date < lifted)
    }
}

/// What the register knows about a dwelling.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DwellingRecord {
    /// Its addresses, each with the first day it applies, in the order recorded: the first
    /// address an event gave it, then every recoding.
    pub addresses: Vec<(NaiveDate, Address)>,
    /// Its recodings only, each with the first day the new address applies.
    pub recodings: Vec<(NaiveDate, Address)>,
    /// Art 23 restrictions.
    pub restrictions: Vec<Restriction>,
    /// The latest floor area declared.
    pub floor_area: Option<FloorArea>,
}

impl DwellingRecord {
    /// The address of a registration made at `registered` on `since`, as shown on `date`: the
    /// latest recoding of the dwelling from `since` through `date`, else the address as
    /// registered. Recodings before `since` are already in the registered address.
    pub fn registered_address(
        &self,
        registered: &Address,
        since: NaiveDate,
        date: NaiveDate,
    ) -> Address {
        self.recodings
            .iter()
            .filter(|(from, _)| since <= *from && *from <= date)
            .max_by_key(|(from, _)| *from)
            .map_or_else(|| registered.clone(), |(_, address)| address.clone())
    }

    /// Its address on `date`: the latest one applying then, else the earliest one known.
    pub fn address_on(&self, date: NaiveDate) -> Option<&Address> {
        self.addresses
            .iter()
            .filter(|(from, _)| *from <= date)
            .max_by_key(|(from, _)| *from)
            .or_else(|| self.addresses.iter().min_by_key(|(from, _)| *from))
            .map(|(_, address)| address)
    }

    /// The first restriction in force on `date`, if any.
    pub fn restriction_on(&self, date: NaiveDate) -> Option<RestrictionKind> {
        self.restrictions
            .iter()
            .find(|restriction| restriction.holds_on(date))
            .map(|restriction| restriction.kind)
    }
}
