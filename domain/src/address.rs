//! Addresses: an administrative unit (with its scheme) and a street line in NFC.
//!
//! Vietnamese text reaches us in both composed (NFC) and decomposed (NFD) Unicode, depending on
//! the keyboard and the operating system. Two spellings of one street must compare equal and
//! hash equal, so every text value is normalised to NFC when it is parsed, never later.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

use crate::units::UnitRef;

/// The longest street line we accept, in characters (after normalisation).
pub const STREET_LINE_CHARS_MAX: usize = 200;

/// The longest person name we accept, in characters (after normalisation).
pub const NAME_CHARS_MAX: usize = 100;

/// Why a text value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty or only white space.
    #[error("{field} must not be empty")]
    Empty {
        /// The field at fault.
        field: &'static str,
    },
    /// Longer than the limit after normalisation.
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// The field at fault.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// Contains a control character (line breaks, NUL, …).
    #[error("{field} contains a control character")]
    ControlCharacter {
        /// The field at fault.
        field: &'static str,
    },
}

/// Normalises a text field: NFC, trimmed, inner runs of white space folded to one space, no
/// control characters, within `max` characters.
///
/// # Errors
/// [`TextError`] naming `field`.
pub fn normalise_text(field: &'static str, raw: &str, max: usize) -> Result<String, TextError> {
    if raw.chars().any(char::is_control) {
        return Err(TextError::ControlCharacter { field });
    }
    // Fast path (replay decodes millions of stored, already normalised values): text that is
    // already folded (single ASCII spaces between words, none at the ends) and quick-checks as
    // NFC is its own normal form; only other text is rebuilt.
    let folded_already = !raw.starts_with(char::is_whitespace)
        && !raw.ends_with(char::is_whitespace)
        && !raw.contains("  ")
        && !raw.chars().any(|c| c.is_whitespace() && c != ' ');
    let text: String = if folded_already
        && unicode_normalization::is_nfc_quick(raw.chars())
            == unicode_normalization::IsNormalized::Yes
    {
        raw.to_owned()
    } else {
        let folded = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        folded.nfc().collect()
    };
    if text.is_empty() {
        return Err(TextError::Empty { field });
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong { field, max });
    }
    Ok(text)
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Normalises and checks `raw`.
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
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

text_type!(
    /// A street line: house number, lane, street, hamlet (e.g. "Số 12, ngõ 34, phố Phúc Xá").
    StreetLine,
    "street",
    STREET_LINE_CHARS_MAX
);
text_type!(
    /// A relationship term from an imported paper household book that matches no official term.
    LegacyRelationshipText,
    "relationship",
    NAME_CHARS_MAX
);
text_type!(
    /// A person's full name as in the population database (e.g. "Nguyễn Văn An").
    PersonName,
    "name",
    NAME_CHARS_MAX
);

/// A residence address: a commune/ward of a given map and a street line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// The commune or ward, with its scheme.
    pub unit: UnitRef,
    /// The street line within the unit.
    pub street: StreetLine,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_and_composed_names_are_equal() {
        let composed = PersonName::parse("Nguyễn Văn An").unwrap();
        let decomposed = PersonName::parse("Nguye\u{302}\u{303}n Va\u{306}n An").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(decomposed.as_str(), "Nguyễn Văn An");
    }

    #[test]
    fn text_is_trimmed_and_checked() {
        assert_eq!(
            StreetLine::parse("  Số 1   phố Huế ").unwrap().as_str(),
            "Số 1 phố Huế"
        );
        assert_eq!(
            StreetLine::parse("   "),
            Err(TextError::Empty { field: "street" })
        );
        assert_eq!(
            StreetLine::parse("a\u{0}b"),
            Err(TextError::ControlCharacter { field: "street" })
        );
        let long = "x".repeat(STREET_LINE_CHARS_MAX + 1);
        assert!(matches!(
            StreetLine::parse(&long),
            Err(TextError::TooLong { .. })
        ));
    }

    #[test]
    fn address_wire_form() {
        let json = r#"{"unit":"legacy:00001","street":"Số 5 phố Phúc Xá"}"#;
        let address: Address = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&address).unwrap(), json);
    }
}
