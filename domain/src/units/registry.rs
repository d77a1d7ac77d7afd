//! PLACEHOLDER API (being filled in by the units work): the embedded unit registry.
//! Signatures here are the contract other modules code against.

use chrono::NaiveDate;

use super::{ProvinceCode, Scheme, UnitCode, UnitRef};

/// Why a unit reference is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// No unit with this code exists in that scheme. → 422 `unit_unknown`
    #[error("unknown administrative unit {0}")]
    Unknown(UnitRef),
    /// The unit exists but is not valid on the date (e.g. a legacy ward after 2025-06-30).
    /// → 422 `unit_not_valid_on_date`
    #[error("administrative unit {unit} is not valid on {date}")]
    NotValidOn {
        /// The unit asked for.
        unit: UnitRef,
        /// The date it was asked for.
        date: NaiveDate,
    },
}

/// One commune/ward as the registry knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitInfo {
    /// The unit itself.
    pub unit: UnitRef,
    /// Its name with type prefix, e.g. "Phường Phúc Xá".
    pub name: &'static str,
    /// Its type: "Phường", "Xã", "Thị trấn", "Đặc khu".
    pub kind: &'static str,
    /// Legacy units only: the district code (3 digits) and name, e.g. ("001", "Quận Ba Đình").
    pub district: Option<(&'static str, &'static str)>,
    /// The province in the same scheme.
    pub province: ProvinceCode,
    /// The province name with type prefix, e.g. "Thành phố Hà Nội".
    pub province_name: &'static str,
}

/// One row of the official conversion table for a legacy ward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Successor {
    /// The 2025 ward receiving (part of) the legacy ward.
    pub code: UnitCode,
    /// The legacy ward was divided between several new wards.
    pub partial: bool,
    /// The new ward that took the largest part (the default for addresses not yet recoded).
    pub default: bool,
}

/// The embedded registry of units, parsed once on first use.
#[derive(Debug)]
pub struct Registry {
    _private: (),
}

/// The process-wide registry.
pub fn registry() -> &'static Registry {
    static REGISTRY: Registry = Registry { _private: () };
    &REGISTRY
}

impl Registry {
    /// The unit, whatever the date.
    pub fn get(&self, _unit: UnitRef) -> Option<UnitInfo> {
        None
    }

    /// The unit if it is valid on `date` (legacy until 2025-06-30, 2025 from 2025-07-01).
    ///
    /// # Errors
    /// [`UnitError::Unknown`] or [`UnitError::NotValidOn`].
    pub fn valid_on(&self, unit: UnitRef, _date: NaiveDate) -> Result<UnitInfo, UnitError> {
        Err(UnitError::Unknown(unit))
    }

    /// "Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội" (legacy) or "Phường Hồng Hà, Thành phố Hà Nội".
    pub fn full_name(&self, _unit: UnitRef) -> Option<String> {
        None
    }

    /// The conversion rows for a legacy ward (empty if it has none).
    pub fn successors(&self, _legacy: UnitCode) -> &[Successor] {
        &[]
    }

    /// The 2025 ward an address in this legacy ward takes on 2025-07-01 until an officer recodes
    /// it: the whole successor, or the default one of a divided ward.
    pub fn default_successor(&self, _legacy: UnitCode) -> Option<UnitCode> {
        None
    }

    /// The province of a unit in its own scheme.
    pub fn province_of(&self, _unit: UnitRef) -> Option<ProvinceCode> {
        None
    }

    /// The 2025 province a legacy province went into.
    pub fn province_successor(&self, _legacy: ProvinceCode) -> Option<ProvinceCode> {
        None
    }

    /// The unit valid on `date` that an address in `unit` belongs to on that date: itself when
    /// its scheme is in force, its default successor for a legacy unit after 2025-06-30.
    pub fn on_date(&self, _unit: UnitRef, _date: NaiveDate) -> Option<UnitRef> {
        None
    }

    /// All units of a scheme, in code order.
    pub fn units(&self, _scheme: Scheme) -> impl Iterator<Item = UnitInfo> + '_ {
        std::iter::empty()
    }
}

/// blake3 of the embedded conversion table file, as named by the reorganisation event.
pub fn conversion_table_hash() -> [u8; 32] {
    [0; 32]
}

/// blake3 over all embedded unit data files, so snapshots can tell which data they were built on.
pub fn unit_data_hash() -> [u8; 32] {
    [0; 32]
}
