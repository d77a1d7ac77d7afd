//! Small values that several events share: legal texts, document numbers, floor areas, consents,
//! household memberships and decision references.
//!
//! They live beside the events because they exist for the wire format: each one fixes how a piece
//! of an event is written in the ledger, forever. Text values are normalised to NFC and bounded
//! when they are parsed (see [`crate::address::normalise_text`]), so two spellings of one text
//! decode to equal values and nothing unbounded reaches a payload.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::address::{TextError, normalise_text};
use crate::event_id::decode_hex;
use crate::ids::{HouseholdId, PersonId};
use crate::relationship::Relationship;

macro_rules! event_text {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:ident = $limit:literal) => {
        #[doc = concat!("The longest [`", stringify!($name), "`] in characters, after normalisation.")]
        pub const $max: usize = $limit;

        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Normalises (NFC, trimmed, white space folded) and checks `raw`.
            ///
            /// # Errors
            /// [`TextError`] when it is empty, too long or has control characters.
            pub fn parse(raw: &str) -> Result<Self, TextError> {
                normalise_text($field, raw, $max).map(Self)
            }

            /// The normalised text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(de::Error::custom)
            }
        }
    };
}

event_text!(
    /// The legal basis of an act, as an officer or auditor reads it, e.g.
    /// "Luật Cư trú 2020, Điều 20.1". Which rule applied is decided by the event's `effective_on`;
    /// this text records what the office cited.
    LegalBasis,
    "legal_basis",
    LEGAL_BASIS_CHARS_MAX = 200
);
event_text!(
    /// A reason or explanation in free text (a refusal, a correction, an absence).
    Reason,
    "reason",
    REASON_CHARS_MAX = 500
);
event_text!(
    /// What a residence confirmation (CT07) is for, as the citizen stated it.
    Purpose,
    "purpose",
    PURPOSE_CHARS_MAX = 200
);
event_text!(
    /// The number of an official document: a decision ("15/QĐ-CAX"), a paper household book, a
    /// passport.
    DocumentNumber,
    "document_number",
    DOCUMENT_NUMBER_CHARS_MAX = 50
);
event_text!(
    /// The authority that issued a document, e.g. "UBND phường Hồng Hà".
    AuthorityName,
    "authority",
    AUTHORITY_NAME_CHARS_MAX = 200
);
event_text!(
    /// A place described in words where no registered address applies, e.g. the destination of
    /// a temporary absence ("Thành phố Hồ Chí Minh", "Nhật Bản").
    PlaceText,
    "place",
    PLACE_TEXT_CHARS_MAX = 200
);
event_text!(
    /// The residence file number of a household (số hồ sơ cư trú): an attribute, never a key.
    ResidenceFileNumber,
    "residence_file_number",
    RESIDENCE_FILE_NUMBER_CHARS_MAX = 50
);

/// A usable floor area, held exactly in tenths of a square metre.
///
/// Wire form: a JSON number of square metres with at most one decimal: a whole area is written
/// as an integer (`45`), any other with exactly one decimal (`12.5`). Decoding accepts any JSON
/// number that has at most one decimal (`45.0` decodes to 450 tenths and re-encodes as `45`) and
/// refuses more precision (`12.55`), zero, negative numbers and areas above
/// [`FloorArea::TENTHS_MAX`]. Floating point is used only to read and write the JSON number; the
/// value and every comparison are exact integers.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FloorArea(u32);

/// Why a number is not a floor area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FloorAreaError {
    /// Zero or negative. → the payload is malformed (422 at the API).
    #[error("floor area must be positive")]
    NotPositive,
    /// More than [`FloorArea::TENTHS_MAX`] tenths of a square metre. → malformed.
    #[error("floor area must be at most 100000 square metres")]
    TooLarge,
    /// More than one decimal digit of a square metre. → malformed.
    #[error("floor area must have at most one decimal")]
    TooPrecise,
}

impl FloorArea {
    /// The largest floor area we accept: 100,000 m², far above any dwelling.
    pub const TENTHS_MAX: u32 = 1_000_000;

    /// A floor area of `tenths` tenths of a square metre.
    ///
    /// # Errors
    /// [`FloorAreaError::NotPositive`] for zero, [`FloorAreaError::TooLarge`] above the maximum.
    pub const fn from_tenths(tenths: u32) -> Result<Self, FloorAreaError> {
        if tenths == 0 {
            Err(FloorAreaError::NotPositive)
        } else if tenths > Self::TENTHS_MAX {
            Err(FloorAreaError::TooLarge)
        } else {
            Ok(Self(tenths))
        }
    }

    /// The area in tenths of a square metre.
    pub const fn tenths(self) -> u32 {
        self.0
    }
}

impl fmt::Display for FloorArea {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, tenth) = (self.0 / 10, self.0 % 10);
        if tenth == 0 {
            write!(f, "{whole} m²")
        } else {
            write!(f, "{whole}.{tenth} m²")
        }
    }
}

impl fmt::Debug for FloorArea {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FloorArea({self})")
    }
}

impl Serialize for FloorArea {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(10) {
            serializer.serialize_u32(self.0 / 10)
        } else {
            // The nearest double to n/10 prints as exactly one decimal (shortest round trip).
            serializer.serialize_f64(f64::from(self.0) / 10.0)
        }
    }
}

impl<'de> Deserialize<'de> for FloorArea {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AreaVisitor;

        impl Visitor<'_> for AreaVisitor {
            type Value = FloorArea;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a floor area in square metres with at most one decimal")
            }

            fn visit_u64<E: de::Error>(self, square_metres: u64) -> Result<FloorArea, E> {
                let tenths = square_metres
                    .checked_mul(10)
                    .and_then(|tenths| u32::try_from(tenths).ok())
                    .ok_or(FloorAreaError::TooLarge)
                    .map_err(E::custom)?;
                FloorArea::from_tenths(tenths).map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, square_metres: i64) -> Result<FloorArea, E> {
                match u64::try_from(square_metres) {
                    Ok(square_metres) => self.visit_u64(square_metres),
                    Err(_) => Err(E::custom(FloorAreaError::NotPositive)),
                }
            }

            fn visit_f64<E: de::Error>(self, square_metres: f64) -> Result<FloorArea, E> {
                if square_metres.is_nan() || square_metres <= 0.0 {
                    return Err(E::custom(FloorAreaError::NotPositive));
                }
                if square_metres > f64::from(FloorArea::TENTHS_MAX) / 10.0 {
                    return Err(E::custom(FloorAreaError::TooLarge));
                }
                let scaled = square_metres * 10.0;
                let rounded = scaled.round();
                // A decimal with one digit lands within rounding noise of an integer after
                // scaling; a second digit lands at least 0.01 away.
                if (scaled - rounded).abs() > 1e-6 {
                    return Err(E::custom(FloorAreaError::TooPrecise));
                }
                // The range was checked above, so the conversion is exact.
                FloorArea::from_tenths(rounded as u32).map_err(E::custom)
            }
        }

        deserializer.deserialize_any(AreaVisitor)
    }
}

/// A blake3 digest, written as 64 lowercase hexadecimal digits.
///
/// It names content by its hash, e.g. the embedded conversion table of the 2025 reorganisation,
/// so that a replay can tell whether it runs on the same table the event was recorded with.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Blake3Digest([u8; 32]);

/// Why a text is not a blake3 digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("blake3 digest must be 64 lowercase hexadecimal digits")]
pub struct DigestParseError;

impl Blake3Digest {
    /// Wraps 32 raw bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Blake3Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Blake3Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blake3Digest({self})")
    }
}

impl std::str::FromStr for Blake3Digest {
    type Err = DigestParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        decode_hex::<32>(text).map(Self).ok_or(DigestParseError)
    }
}

impl Serialize for Blake3Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Blake3Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// Which of a person's two registrations something concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RegistrationKind {
    /// Thường trú: the permanent registration.
    Permanent,
    /// Tạm trú: the temporary registration.
    Temporary,
}

/// Whose agreement a registration or split needed (Art 20, 21, 25, 27).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConsentRole {
    /// Chủ hộ: the head of the household being joined or split.
    HouseholdHead,
    /// Chủ sở hữu chỗ ở: the owner of the dwelling (or the lessor, lender or host).
    DwellingOwner,
    /// Cha, mẹ hoặc người giám hộ: for a minor or a person under guardianship (Art 20.7).
    ParentOrGuardian,
    /// The head of a religious establishment or social-care facility (Art 20.4, 20.5).
    EstablishmentHead,
    /// The commanding unit that issued an introduction letter (barracks, Art 20 for the armed
    /// forces). The letter is recorded as the unit's consent.
    CommandingUnit,
}

/// One recorded consent: who agreed, in which role.
///
/// The consent itself (signature on CT01, a written document, a VNeID confirmation) stays in the
/// dossier; the event records that it was given and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// The role in which consent was given.
    pub role: ConsentRole,
    /// The consenting person when they are in the population register; absent for an
    /// organisation (a company owning the dwelling, a facility, a military unit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonId>,
}

/// A person's place in a household: which household and their relationship to its head.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    /// The household joined (or founded, with relationship `CHU_HO`).
    pub household: HouseholdId,
    /// The relationship to the head; `CHU_HO` for the head.
    pub relationship: Relationship,
}

/// One member's relationship to the head, as restated by a head change or a split.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberRelationship {
    /// The member.
    pub person: PersonId,
    /// Their relationship to the (new) head.
    pub relationship: Relationship,
}

/// A reference to an official decision: its number and the day it was made.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRef {
    /// The decision's number, e.g. "15/QĐ-CAX".
    pub number: DocumentNumber,
    /// The day the decision was signed.
    pub decided_on: chrono::NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(json: &str) -> Result<FloorArea, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn floor_areas_are_square_metres_with_at_most_one_decimal() {
        assert_eq!(area("45").unwrap().tenths(), 450);
        assert_eq!(area("45.0").unwrap().tenths(), 450);
        assert_eq!(area("12.3").unwrap().tenths(), 123);
        assert_eq!(area("0.1").unwrap().tenths(), 1);
        assert_eq!(area("100000").unwrap().tenths(), FloorArea::TENTHS_MAX);
        let written = |tenths| serde_json::to_string(&FloorArea::from_tenths(tenths).unwrap());
        assert_eq!(written(450).unwrap(), "45");
        assert_eq!(written(123).unwrap(), "12.3");
        assert_eq!(written(1).unwrap(), "0.1");
        assert_eq!(written(999_999).unwrap(), "99999.9");
    }

    #[test]
    fn every_tenth_round_trips_exactly() {
        for tenths in (1..=20_000).chain(FloorArea::TENTHS_MAX - 2_000..=FloorArea::TENTHS_MAX) {
            let value = FloorArea::from_tenths(tenths).unwrap();
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(area(&json).unwrap(), value, "{json}");
        }
    }

    #[test]
    fn floor_areas_refuse_zero_negative_too_large_and_too_precise() {
        for bad in [
            "0",
            "0.0",
            "-1",
            "-0.5",
            "12.55",
            "12.01",
            "100000.1",
            "4294967296",
        ] {
            assert!(area(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(FloorArea::from_tenths(0), Err(FloorAreaError::NotPositive));
        assert_eq!(
            FloorArea::from_tenths(FloorArea::TENTHS_MAX + 1),
            Err(FloorAreaError::TooLarge)
        );
    }

    #[test]
    fn legal_basis_is_nfc_and_bounded() {
        let decomposed = LegalBasis::parse("Lua\u{323}\u{302}t Cu\u{31b} tru\u{301} 2020").unwrap();
        assert_eq!(decomposed.as_str(), "Luật Cư trú 2020");
        assert!(LegalBasis::parse(&"x".repeat(LEGAL_BASIS_CHARS_MAX + 1)).is_err());
        assert!(LegalBasis::parse(" ").is_err());
    }

    #[test]
    fn digests_are_64_lowercase_hex_digits() {
        let text = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";
        let digest: Blake3Digest = text.parse().unwrap();
        assert_eq!(digest.to_string(), text);
        assert!(text.to_uppercase().parse::<Blake3Digest>().is_err());
        assert!(text[..62].parse::<Blake3Digest>().is_err());
    }
}
