//! Changes of the administrative map: the 2025 reorganisation itself and the recoding of one
//! dwelling's address.
//!
//! Recoding is not a move (DOMAIN.md §8): registrations keep their start dates and a CT07 issued
//! before stays valid. The reorganisation is one event for the whole country, tagged
//! `mass-change` so it belongs in every proof; it names the official conversion table by the
//! blake3 hash of the copy the binary embeds, so a replay on different data is detectable.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::values::{Blake3Digest, LegalBasis};
use super::{Payload, TagSink};
use crate::address::Address;
use crate::ids::{DwellingId, HouseholdId, PersonId};
use crate::units::{REORGANISATION_DATE, conversion_table_hash};

/// Why an address was recoded (Art 26.1(c)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecodingCause {
    /// Units were merged, divided or abolished (the 2025 reorganisation and others like it).
    UnitReorganisation,
    /// A unit boundary moved and the dwelling now lies in another unit.
    BoundaryChange,
    /// A unit was renamed.
    UnitRenamed,
    /// A street, hamlet or residential group was renamed.
    StreetRenamed,
    /// House numbers were reassigned.
    HouseRenumbered,
}

/// The address of a dwelling was recoded ex officio; the dwelling, its households and its
/// residents stay the same.
///
/// `households` and `persons` list everyone whose registered address this recodes, so each chain
/// shows the new address. The registrations keep their start dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResidenceAddressRecoded {
    /// The dwelling (it keeps its id).
    pub dwelling: DwellingId,
    /// The first day the new address applies.
    pub effective_on: NaiveDate,
    /// Why the address changed.
    pub cause: RecodingCause,
    /// The address before.
    pub old_address: Address,
    /// The address after.
    pub new_address: Address,
    /// The households registered at the dwelling.
    pub households: Vec<HouseholdId>,
    /// The people registered at the dwelling.
    pub persons: Vec<PersonId>,
    /// The legal basis cited, e.g. "Luật Cư trú 2020, Điều 26.1.c; Công văn 1555/BCA-C06".
    pub legal_basis: LegalBasis,
}

impl Payload for ResidenceAddressRecoded {
    fn tags(&self, tags: &mut TagSink) {
        tags.persons(self.persons.iter().copied());
        for household in &self.households {
            tags.household(*household);
        }
        tags.dwelling(self.dwelling);
        tags.unit(&self.old_address);
        tags.unit(&self.new_address);
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}

/// The 2025 reorganisation of administrative units took effect: from `effective_on` every legacy
/// unit is read through the official conversion table until its addresses are recoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdministrativeUnitsReorganized {
    /// The first day of the new map: 2025-07-01.
    pub effective_on: NaiveDate,
    /// The blake3 hash of the embedded conversion table the event applies
    /// ([`conversion_table_hash`]).
    pub conversion_table_blake3: Blake3Digest,
    /// The legal basis cited: "Nghị quyết 202/2025/QH15".
    pub legal_basis: LegalBasis,
}

impl AdministrativeUnitsReorganized {
    /// The legal basis the reorganisation event cites.
    pub const LEGAL_BASIS: &str = "Nghị quyết 202/2025/QH15";

    /// The reorganisation as this binary knows it: effective 2025-07-01, naming the embedded
    /// conversion table.
    pub fn embedded() -> Self {
        Self {
            effective_on: REORGANISATION_DATE,
            conversion_table_blake3: Blake3Digest::from_bytes(conversion_table_hash()),
            legal_basis: LegalBasis::parse(Self::LEGAL_BASIS)
                .expect("the reorganisation's legal basis is a valid constant"),
        }
    }

    /// Whether the event names the conversion table this binary embeds.
    pub fn matches_embedded_table(&self) -> bool {
        self.conversion_table_blake3.as_bytes() == &conversion_table_hash()
    }
}

impl Payload for AdministrativeUnitsReorganized {
    fn tags(&self, tags: &mut TagSink) {
        tags.mass_change();
    }

    fn effective_on(&self) -> Option<NaiveDate> {
        Some(self.effective_on)
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}
