//! Administrative units of Vietnam with their validity in time.
//!
//! The same five-digit code names different places before and after the 2025-07-01
//! reorganisation (legacy 00097 Phường Tứ Liên is not new 00097 Phường Hồng Hà), so a code only
//! identifies a unit together with its [`Scheme`]. Addresses carry a [`UnitRef`] (scheme and code),
//! and the [`registry`] answers which units exist on a date, their names, and their successors.
//!
//! The unit data are embedded in the binary: replaying the ledger must never depend on files
//! outside the ledger and the binary.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod registry;

pub use registry::*;

/// The first day of the two-tier administrative map (Resolution 202/2025/QH15).
pub const REORGANISATION_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2025, 7, 1) {
    Some(date) => date,
    None => panic!("2025-07-01 is a valid date"),
};

/// Which administrative map a code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scheme {
    /// Three tiers (province, district, commune), valid until 2025-06-30.
    #[serde(rename = "legacy")]
    Legacy,
    /// Two tiers (province, commune), valid from 2025-07-01.
    #[serde(rename = "2025")]
    Y2025,
}

impl Scheme {
    /// The scheme in force on a date.
    pub fn on(date: NaiveDate) -> Self {
        if date < REORGANISATION_DATE {
            Self::Legacy
        } else {
            Self::Y2025
        }
    }

    /// The wire name, also used in `unit:<scheme>:<code>` tags.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::Y2025 => "2025",
        }
    }
}

/// A five-digit commune/ward code of the National Statistics Office (e.g. `00001`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitCode(u32);

/// A two-digit province code (e.g. `01` Hà Nội).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProvinceCode(u8);

/// Why a text is not a unit reference or code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitParseError {
    /// A commune code must be exactly five ASCII digits.
    #[error("commune code must be 5 digits, got {0:?}")]
    CommuneCode(String),
    /// A province code must be exactly two ASCII digits.
    #[error("province code must be 2 digits, got {0:?}")]
    ProvinceCode(String),
    /// A unit reference is `legacy:<code>` or `2025:<code>`.
    #[error("unit reference must be \"legacy:<5 digits>\" or \"2025:<5 digits>\", got {0:?}")]
    UnitRef(String),
}

fn digits(text: &str, len: usize) -> Option<u32> {
    if text.len() == len && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

fn clipped(text: &str) -> String {
    text.chars().take(40).collect()
}

impl UnitCode {
    /// Builds a code from its number; `None` above 99999.
    pub const fn new(number: u32) -> Option<Self> {
        if number <= 99_999 {
            Some(Self(number))
        } else {
            None
        }
    }

    /// The numeric value of the code.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl ProvinceCode {
    /// Builds a code from its number; `None` above 99.
    pub const fn new(number: u8) -> Option<Self> {
        if number <= 99 {
            Some(Self(number))
        } else {
            None
        }
    }

    /// The numeric value of the code.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:05}", self.0)
    }
}

impl fmt::Debug for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UnitCode({:05})", self.0)
    }
}

impl fmt::Display for ProvinceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

impl fmt::Debug for ProvinceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProvinceCode({:02})", self.0)
    }
}

impl FromStr for UnitCode {
    type Err = UnitParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        digits(text, 5)
            .map(Self)
            .ok_or_else(|| UnitParseError::CommuneCode(clipped(text)))
    }
}

impl FromStr for ProvinceCode {
    type Err = UnitParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        digits(text, 2)
            .and_then(|n| u8::try_from(n).ok())
            .map(Self)
            .ok_or_else(|| UnitParseError::ProvinceCode(clipped(text)))
    }
}

/// A commune/ward code together with the map it belongs to.
///
/// Wire form: `"legacy:00001"` or `"2025:00097"`, the same text as in `unit:` tags.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitRef {
    /// The administrative map.
    pub scheme: Scheme,
    /// The commune code within that map.
    pub code: UnitCode,
}

impl UnitRef {
    /// A legacy (pre-2025-07-01) unit.
    pub const fn legacy(code: UnitCode) -> Self {
        Self {
            scheme: Scheme::Legacy,
            code,
        }
    }

    /// A unit of the 2025 map.
    pub const fn y2025(code: UnitCode) -> Self {
        Self {
            scheme: Scheme::Y2025,
            code,
        }
    }
}

impl fmt::Display for UnitRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scheme.as_str(), self.code)
    }
}

impl fmt::Debug for UnitRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UnitRef({self})")
    }
}

impl FromStr for UnitRef {
    type Err = UnitParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || UnitParseError::UnitRef(clipped(text));
        let (scheme, code) = text.split_once(':').ok_or_else(error)?;
        let scheme = match scheme {
            "legacy" => Scheme::Legacy,
            "2025" => Scheme::Y2025,
            _ => return Err(error()),
        };
        let code = code.parse().map_err(|_| error())?;
        Ok(Self { scheme, code })
    }
}

macro_rules! serde_via_str {
    ($name:ty) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_via_str!(UnitCode);
serde_via_str!(ProvinceCode);
serde_via_str!(UnitRef);
