//! Internal, pseudonymous identifiers.
//!
//! People, households and dwellings are keyed by ids that carry no personal data, because they
//! appear in ledger tags, which are hashed into records that can never be erased. The PIN is an
//! attribute of a person (it can be cancelled and re-established, I12), never the key.
//!
//! On the wire an id is 16 lowercase hexadecimal digits (a 64-bit value), e.g. `"00000000000004d2"`.
//! Ids are allocated outside the domain (the API draws them from its id source) and handed in
//! through commands; the domain never invents one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} id must be 16 lowercase hexadecimal digits, got {got:?}")]
pub struct IdParseError {
    /// Which kind of id was expected.
    pub kind: &'static str,
    /// The rejected text (ids are pseudonymous, so echoing it leaks nothing).
    pub got: String,
}

fn parse_hex64(kind: &'static str, text: &str) -> Result<u64, IdParseError> {
    let error = || IdParseError {
        kind,
        got: text.chars().take(40).collect(),
    };
    if text.len() != 16
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(error());
    }
    u64::from_str_radix(text, 16).map_err(|_| error())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u64);

        impl $name {
            /// Wraps a raw 64-bit value.
            pub const fn new(raw: u64) -> Self {
                Self(raw)
            }

            /// The raw 64-bit value.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:016x}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($kind, ":{:016x}"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                parse_hex64($kind, text).map(Self)
            }
        }

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

id_type!(
    /// A person, stable for life, independent of their PIN.
    PersonId,
    "person"
);
id_type!(
    /// A household (hộ gia đình); the residence file number is an attribute, not the key.
    HouseholdId,
    "household"
);
id_type!(
    /// A dwelling (chỗ ở hợp pháp). It keeps its id when its address is recoded.
    DwellingId,
    "dwelling"
);
id_type!(
    /// A residence confirmation (CT07) certificate.
    CertificateId,
    "certificate"
);
id_type!(
    /// An application received at intake (CT04), so that later slips can refer to it.
    ApplicationId,
    "application"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_as_sixteen_hex_digits() {
        let id = PersonId::new(0x04d2);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"00000000000004d2\"");
        assert_eq!(serde_json::from_str::<PersonId>(&json).unwrap(), id);
    }

    #[test]
    fn ids_reject_other_shapes() {
        for bad in [
            "",
            "4d2",
            "00000000000004D2",
            "00000000000004d2x",
            "g000000000000000",
            "-000000000000001",
        ] {
            assert!(bad.parse::<HouseholdId>().is_err(), "{bad:?} parsed");
        }
    }
}
