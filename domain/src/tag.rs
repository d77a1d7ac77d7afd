//! Ledger tags: what a record concerns.
//!
//! The ledger indexes records by tag, chains the records of each tag (back-links), and checks
//! append conditions on tags, so every command can read exactly the history it decides on and a
//! court proof can show that none of a person's records was left out. The domain names the tags of
//! each event ([`crate::event::Event::tags`]); the ledger hashes them into the record. Tags must
//! not reveal personal data: person, household, dwelling and application ids are pseudonymous,
//! and the ledger blinds `pin:` tags (keyed blake3) before they are hashed or stored. The domain
//! hands over the plain, typed tag.
//!
//! Text form (also the serde form), never to be changed:
//!
//! | tag | text |
//! |---|---|
//! | [`Tag::Person`] | `person:<16 hex>` |
//! | [`Tag::Household`] | `household:<16 hex>` |
//! | [`Tag::Dwelling`] | `dwelling:<16 hex>` |
//! | [`Tag::Pin`] | `pin:<12 digits>` |
//! | [`Tag::Unit`] | `unit:legacy:<5 digits>` or `unit:2025:<5 digits>` |
//! | [`Tag::Application`] | `application:<16 hex>` |
//! | [`Tag::MassChange`] | `mass-change` |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{ApplicationId, DwellingId, HouseholdId, PersonId};
use crate::pin::Pin;
use crate::units::UnitRef;

/// The tag kinds whose values are personal data and must be blinded by the ledger (keyed blake3
/// with the ledger secret) before they are hashed or stored: tags are hashed into records that
/// can never be erased, so their values must not reveal a person (DESIGN.md: "a `pin:` tag is
/// blinded"). Every other kind names a pseudonymous id or a public place.
///
/// The ledger keeps no list of its own: the application passes this one when it creates or
/// opens a ledger, and opening refuses a ledger whose manifest does not blind every kind named
/// here. A new tag kind whose value is personal data MUST be added here (the unit test
/// `every_personal_tag_kind_is_blinded` makes that decision explicit for every variant).
pub const BLINDED_TAG_KINDS: &[&str] = &["pin"];

/// What a ledger record concerns.
///
/// The derived order (kind in declaration order, then value) is the order of
/// [`crate::event::Event::tags`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tag {
    /// A person whose residence, household membership or personal record the event concerns.
    Person(PersonId),
    /// A household the event changes.
    Household(HouseholdId),
    /// A dwelling, for place-level rules (floor area per person, barred places).
    Dwelling(DwellingId),
    /// A PIN whose uniqueness the event creates or changes; blinded by the ledger.
    Pin(Pin),
    /// The commune/ward of an address the event registers, ends or recodes. Append conditions
    /// never use it (every command in a commune would conflict); it feeds registers by commune.
    Unit(UnitRef),
    /// An application (CT04 intake) the event belongs to.
    Application(ApplicationId),
    /// An event that changes many people at once (the 2025 reorganisation). It belongs in every
    /// proof it affects.
    MassChange,
}

/// Why a text is not a tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a ledger tag: {got:?}")]
pub struct TagParseError {
    /// The rejected text, clipped to 80 characters.
    pub got: String,
}

impl Tag {
    /// The person of a `person:` tag.
    pub fn person(&self) -> Option<PersonId> {
        match self {
            Self::Person(person) => Some(*person),
            _ => None,
        }
    }

    /// The household of a `household:` tag.
    pub fn household(&self) -> Option<HouseholdId> {
        match self {
            Self::Household(household) => Some(*household),
            _ => None,
        }
    }

    /// The dwelling of a `dwelling:` tag.
    pub fn dwelling(&self) -> Option<DwellingId> {
        match self {
            Self::Dwelling(dwelling) => Some(*dwelling),
            _ => None,
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Person(id) => write!(f, "person:{id}"),
            Self::Household(id) => write!(f, "household:{id}"),
            Self::Dwelling(id) => write!(f, "dwelling:{id}"),
            Self::Pin(pin) => write!(f, "pin:{pin}"),
            Self::Unit(unit) => write!(f, "unit:{unit}"),
            Self::Application(id) => write!(f, "application:{id}"),
            Self::MassChange => f.write_str("mass-change"),
        }
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({self})")
    }
}

impl FromStr for Tag {
    type Err = TagParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || TagParseError {
            got: text.chars().take(80).collect(),
        };
        if text == "mass-change" {
            return Ok(Self::MassChange);
        }
        let (kind, value) = text.split_once(':').ok_or_else(error)?;
        let tag = match kind {
            "person" => value.parse().map(Self::Person).ok(),
            "household" => value.parse().map(Self::Household).ok(),
            "dwelling" => value.parse().map(Self::Dwelling).ok(),
            "pin" => value.parse().map(Self::Pin).ok(),
            "unit" => value.parse().map(Self::Unit).ok(),
            "application" => value.parse().map(Self::Application).ok(),
            _ => None,
        };
        tag.ok_or_else(error)
    }
}

impl Serialize for Tag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_through_their_text_form() {
        for text in [
            "person:00000000000004d2",
            "household:000000000000beef",
            "dwelling:0000000000000001",
            "pin:001090012345",
            "unit:legacy:00001",
            "unit:2025:00097",
            "application:00000000000000aa",
            "mass-change",
        ] {
            let tag: Tag = text.parse().unwrap();
            assert_eq!(tag.to_string(), text);
        }
    }

    #[test]
    fn malformed_tags_are_refused() {
        for bad in [
            "",
            "person",
            "person:4d2",
            "pin:12345",
            "unit:00001",
            "unit:2024:00001",
            "mass-change:1",
            "citizen:00000000000004d2",
        ] {
            assert!(bad.parse::<Tag>().is_err(), "{bad:?} parsed");
        }
    }

    /// Whether a tag's value is personal data. The match is exhaustive, so a new variant does
    /// not compile until someone decides this for it (and adds a sample below).
    fn value_is_personal_data(tag: &Tag) -> bool {
        match tag {
            // A PIN identifies a citizen.
            Tag::Pin(_) => true,
            // Internal, pseudonymous ids: they reveal nobody without the register itself.
            Tag::Person(_) | Tag::Household(_) | Tag::Dwelling(_) | Tag::Application(_) => false,
            // Public administrative units and the reorganisation marker name no one.
            Tag::Unit(_) | Tag::MassChange => false,
        }
    }

    #[test]
    fn every_personal_tag_kind_is_blinded() {
        // One sample per variant, in declaration order.
        let samples: Vec<Tag> = [
            "person:00000000000004d2",
            "household:000000000000beef",
            "dwelling:0000000000000001",
            "pin:001090012345",
            "unit:2025:00097",
            "application:00000000000000aa",
            "mass-change",
        ]
        .iter()
        .map(|text| text.parse().unwrap())
        .collect();
        let kind_of = |tag: &Tag| {
            let text = tag.to_string();
            text.split_once(':')
                .map_or(text.clone(), |(kind, _)| kind.to_owned())
        };
        for tag in &samples {
            let kind = kind_of(tag);
            assert_eq!(
                BLINDED_TAG_KINDS.contains(&kind.as_str()),
                value_is_personal_data(tag),
                "tag kind {kind:?}: blinded if and only if its value is personal data"
            );
        }
        // No stale entry: every blinded kind is the kind of some tag.
        for kind in BLINDED_TAG_KINDS {
            assert!(
                samples.iter().any(|tag| kind_of(tag) == *kind),
                "{kind:?} is blinded but no tag has that kind"
            );
        }
    }

    #[test]
    fn tags_order_by_kind_then_value() {
        let mut tags = vec![
            Tag::MassChange,
            Tag::Household(HouseholdId::new(1)),
            Tag::Person(PersonId::new(2)),
            Tag::Person(PersonId::new(1)),
        ];
        tags.sort();
        assert_eq!(
            tags,
            vec![
                Tag::Person(PersonId::new(1)),
                Tag::Person(PersonId::new(2)),
                Tag::Household(HouseholdId::new(1)),
                Tag::MassChange,
            ]
        );
    }
}
