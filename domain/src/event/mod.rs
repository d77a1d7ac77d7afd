//! The event catalogue: every fact the residence ledger records, and its wire format.
//!
//! Events are stored in an immutable ledger and replayed for ever, so their JSON is a permanent
//! format: a field, a name or a meaning, once written, never changes. Changes come as a new
//! schema version of a type, and old payloads are upcast when decoded (see [`Event::decode`]).
//! Two guards in `tests/events.rs` hold the format: an insta snapshot per type, and frozen
//! fixture payloads, written once and pinned by their hashes, that every later version must still
//! decode.
//!
//! # Wire format
//! - The **payload** of an event is its struct's fields as one compact JSON object
//!   ([`Event::encode`]), with snake_case names in declaration order and **no type tag**: the
//!   ledger record carries the type name ([`EventType::as_str`], PascalCase, never renamed) and
//!   the schema version (`u16`, 1 for every type today) beside the payload.
//! - Unknown fields are refused; duplicate fields are refused. Optional fields are left out when
//!   absent (and read as absent when left out); lists are always written, possibly empty.
//! - Dates are `"YYYY-MM-DD"` local dates in Vietnam (UTC+7). Ids are 16 lowercase hex digits,
//!   event ids 32, PINs 12 digits, unit references `"legacy:00001"` / `"2025:00097"`.
//! - Text is NFC, trimmed, with inner white space folded, and bounded; a decomposed (NFD) input
//!   decodes to the same value as its composed form.
//! - Enumerations are SCREAMING_SNAKE_CASE codes, except where the law names the cases by
//!   letter (deletion grounds, absence clauses: `"a"`, `"dd"` for đ), and the shared
//!   [`crate::pin::Sex`] and [`crate::grounds::Initiator`] (snake_case).
//! - Floor areas are a number of m² with at most one decimal ([`FloorArea`]).
//! - [`EventEnvelope`] is the self-describing form for APIs and snapshots:
//!   `{"type":"…","version":1,"data":{…payload…}}`.
//!
//! # Time
//! Residence events carry `effective_on`, the valid-time date their legal effect starts; the
//! ledger adds the recorded (transaction) time. Record metadata (actor, office, request id) is in
//! the ledger record, not the payload. A permanent registration holds from its `effective_on` up
//! to, not including, the `effective_on` of the deletion or next permanent registration that ends
//! it; a temporary registration holds from `effective_on` through `until` inclusive, unless a
//! deletion ends it earlier (exclusive, as above).
//!
//! # Tags
//! [`Event::tags`] names what an event concerns, as DESIGN.md ("The record") defines: `person:`
//! for every person whose residence, household membership or personal record it concerns,
//! `household:` for every household it touches, `dwelling:` for every dwelling it names, `pin:`
//! where PIN uniqueness is created or changed, `unit:` for the unit of every address it
//! registers, ends or recodes, `application:` for the application it belongs to, and
//! `mass-change` for the reorganisation. People who only consent or file (owners, applicants) are
//! not tagged: the event does not change their residence.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::address::Address;
use crate::event_id::EventId;
use crate::ids::{ApplicationId, DwellingId, HouseholdId, PersonId};
use crate::pin::Pin;
use crate::tag::Tag;

mod admin;
mod application;
mod certificate;
mod correction;
mod declaration;
mod dwelling;
mod household;
mod person;
mod registration;
mod values;

pub use admin::*;
pub use application::*;
pub use certificate::*;
pub use correction::*;
pub use declaration::*;
pub use dwelling::*;
pub use household::*;
pub use person::*;
pub use registration::*;
pub use values::*;

/// What every event payload can say about itself, for the accessors of [`Event`].
pub(crate) trait Payload {
    /// Adds the event's tags (in any order, duplicates allowed).
    fn tags(&self, tags: &mut TagSink);

    /// The valid-time date of the event, if it has one.
    fn effective_on(&self) -> Option<NaiveDate>;

    /// The legal basis the event cites, if it cites one.
    fn legal_basis(&self) -> Option<&LegalBasis>;
}

/// Collects an event's tags; [`TagSink::finish`] sorts and deduplicates them.
#[derive(Debug, Default)]
pub(crate) struct TagSink {
    tags: Vec<Tag>,
}

impl TagSink {
    pub(crate) fn push(&mut self, tag: Tag) {
        self.tags.push(tag);
    }

    pub(crate) fn person(&mut self, person: PersonId) {
        self.push(Tag::Person(person));
    }

    pub(crate) fn persons(&mut self, persons: impl IntoIterator<Item = PersonId>) {
        self.tags.extend(persons.into_iter().map(Tag::Person));
    }

    pub(crate) fn household(&mut self, household: HouseholdId) {
        self.push(Tag::Household(household));
    }

    pub(crate) fn dwelling(&mut self, dwelling: DwellingId) {
        self.push(Tag::Dwelling(dwelling));
    }

    pub(crate) fn pin(&mut self, pin: Pin) {
        self.push(Tag::Pin(pin));
    }

    pub(crate) fn unit(&mut self, address: &Address) {
        self.push(Tag::Unit(address.unit));
    }

    pub(crate) fn application(&mut self, application: Option<ApplicationId>) {
        if let Some(application) = application {
            self.push(Tag::Application(application));
        }
    }

    pub(crate) fn mass_change(&mut self) {
        self.push(Tag::MassChange);
    }

    fn finish(mut self) -> Vec<Tag> {
        self.tags.sort_unstable();
        self.tags.dedup();
        self.tags
    }
}

/// Declares the catalogue: each event type with its current schema version.
macro_rules! catalogue {
    ($($name:ident => $version:literal,)*) => {
        /// One event of the catalogue.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Event {
            $(
                #[doc = concat!("See [`", stringify!($name), "`].")]
                $name($name),
            )*
        }

        /// The type of an event, as the ledger record names it. Names never change.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum EventType {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                $name,
            )*
        }

        impl EventType {
            /// Every event type, in catalogue order.
            pub const ALL: &'static [EventType] = &[$(Self::$name),*];

            /// The type name written in ledger records (PascalCase).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$name => stringify!($name),)*
                }
            }

            /// The schema version this binary writes for the type.
            pub const fn current_version(self) -> u16 {
                match self {
                    $(Self::$name => $version,)*
                }
            }

            fn from_name(name: &str) -> Option<Self> {
                match name {
                    $(stringify!($name) => Some(Self::$name),)*
                    _ => None,
                }
            }
        }

        impl Event {
            /// The event's type.
            pub fn event_type(&self) -> EventType {
                match self {
                    $(Self::$name(_) => EventType::$name,)*
                }
            }

            fn payload(&self) -> &dyn Payload {
                match self {
                    $(Self::$name(data) => data,)*
                }
            }
        }

        /// Decodes a payload written at the type's current version.
        fn decode_current(
            event_type: EventType,
            payload: &[u8],
        ) -> Result<Event, serde_json::Error> {
            match event_type {
                $(EventType::$name => serde_json::from_slice::<$name>(payload).map(Event::$name),)*
            }
        }

        /// Serialises an event's payload (its struct, without a type tag).
        struct PayloadRef<'a>(&'a Event);

        impl Serialize for PayloadRef<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self.0 {
                    $(Event::$name(data) => data.serialize(serializer),)*
                }
            }
        }

        $(
            impl From<$name> for Event {
                fn from(data: $name) -> Self {
                    Self::$name(data)
                }
            }
        )*
    };
}

catalogue! {
    PersonRecorded => 1,
    ApplicationReceived => 1,
    ApplicationCompletionRequested => 1,
    ApplicationRefused => 1,
    PermanentResidenceRegistered => 1,
    TemporaryResidenceRegistered => 1,
    TemporaryResidenceExtended => 1,
    PermanentResidenceDeleted => 1,
    TemporaryResidenceDeleted => 1,
    DwellingRestrictionRecorded => 1,
    DwellingRestrictionLifted => 1,
    DeletionGroundDetected => 1,
    ResidenceRegistrationAnnulled => 1,
    HouseholdEstablished => 1,
    HouseholdSplit => 1,
    HouseholdHeadChanged => 1,
    MemberRelationshipChanged => 1,
    ResidentCivilStatusAdjusted => 1,
    CurrentResidenceDeclared => 1,
    CurrentResidenceDeclarationRefused => 1,
    CurrentAddressUpdated => 1,
    StayNotified => 1,
    TemporaryAbsenceDeclared => 1,
    ResidenceAddressRecoded => 1,
    AdministrativeUnitsReorganized => 1,
    LegacyHouseholdBookRevoked => 1,
    ResidenceConfirmationIssued => 1,
    PersonalIdNumberReassigned => 1,
    EventCorrected => 1,
}

/// The longest type name echoed back in an error, in characters.
const ECHO_CHARS_MAX: usize = 64;

/// The longest decoder message kept in [`DecodeError::Malformed`], in characters.
const DETAIL_CHARS_MAX: usize = 300;

/// A type name that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type {got:?}")]
pub struct UnknownEventType {
    /// The rejected name, clipped to 64 characters.
    pub got: String,
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::from_name(name).ok_or_else(|| UnknownEventType {
            got: name.chars().take(ECHO_CHARS_MAX).collect(),
        })
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(de::Error::custom)
    }
}

/// Why a stored payload could not be decoded.
///
/// Replay treats every variant as fatal (fail-stop): a ledger that this binary cannot read must
/// not be half-folded. The API answers 422 when a client hands in an undecodable envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The type name is not in this binary's catalogue (a ledger written by a newer binary, or a
    /// corrupt record). → replay stops and names the type; upgrade the binary.
    #[error("unknown event type {event_type:?}")]
    UnknownType {
        /// The type name as found, clipped to 64 characters.
        event_type: String,
    },
    /// The type is known but this binary has no decoder for the version (newer than it writes,
    /// or a version that never existed). → replay stops; upgrade the binary.
    #[error("event type {event_type} has no schema version {version}")]
    UnsupportedVersion {
        /// The event type.
        event_type: EventType,
        /// The version found.
        version: u16,
    },
    /// The payload is not valid for the type and version: not JSON, a missing or unknown field,
    /// or a value that fails validation (a PIN, a unit reference, a text limit). → replay stops
    /// and points at the record; the stored payload is corrupt or was written by a buggy binary.
    #[error("malformed {event_type} v{version} payload: {detail}")]
    Malformed {
        /// The event type.
        event_type: EventType,
        /// The version.
        version: u16,
        /// The decoder's message, clipped to 300 characters. It may quote part of the payload,
        /// so it is personal data: log it only where payloads may be seen.
        detail: String,
    },
}

/// Decodes a payload of `event_type` written at schema `version`.
///
/// This is the one place that knows old versions. When a type gets version 2: raise its version
/// in the catalogue, keep the version-1 struct in a `v1` module beside the event (frozen, with
/// `deny_unknown_fields`), implement `From<v1::Struct>` for the new struct (the upcaster: fill new
/// fields with what the old payload implies), and add an arm here before the refusal, e.g.
/// `(EventType::X, 1) => serde_json::from_slice::<x::v1::X>(payload).map(|old| Event::X(old.into()))`.
/// Keep the old fixtures: the fixture test decodes every version.
fn decode_version(
    event_type: EventType,
    version: u16,
    payload: &[u8],
) -> Result<Event, DecodeError> {
    let malformed = |error: serde_json::Error| DecodeError::Malformed {
        event_type,
        version,
        detail: error.to_string().chars().take(DETAIL_CHARS_MAX).collect(),
    };
    if version == event_type.current_version() {
        return decode_current(event_type, payload).map_err(malformed);
    }
    // No type has an older version yet, so there is no upcaster to dispatch to.
    Err(DecodeError::UnsupportedVersion {
        event_type,
        version,
    })
}

impl Event {
    /// The schema version [`Event::encode`] writes (the type's current version).
    pub fn schema_version(&self) -> u16 {
        self.event_type().current_version()
    }

    /// The payload as stored in the ledger: compact JSON of the event's fields, without a type
    /// tag. Encoding is deterministic: equal events give equal bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(&PayloadRef(self))
            .expect("event payloads are plain data without maps and always serialise")
    }

    /// Decodes a stored payload of the named type and schema version, upcasting older versions
    /// to the current one.
    ///
    /// # Errors
    /// [`DecodeError::UnknownType`], [`DecodeError::UnsupportedVersion`] or
    /// [`DecodeError::Malformed`].
    pub fn decode(
        event_type: &str,
        schema_version: u16,
        payload: &[u8],
    ) -> Result<Event, DecodeError> {
        let event_type =
            EventType::from_name(event_type).ok_or_else(|| DecodeError::UnknownType {
                event_type: event_type.chars().take(ECHO_CHARS_MAX).collect(),
            })?;
        decode_version(event_type, schema_version, payload)
    }

    /// What the event concerns, sorted (by [`Tag`]'s order) and without duplicates.
    pub fn tags(&self) -> Vec<Tag> {
        let mut sink = TagSink::default();
        self.payload().tags(&mut sink);
        sink.finish()
    }

    /// Every person the event concerns (its `person:` tags), in id order.
    pub fn persons(&self) -> impl Iterator<Item = PersonId> + use<> {
        self.tags().into_iter().filter_map(|tag| tag.person())
    }

    /// Every household the event touches (its `household:` tags), in id order.
    pub fn households(&self) -> impl Iterator<Item = HouseholdId> + use<> {
        self.tags().into_iter().filter_map(|tag| tag.household())
    }

    /// Every dwelling the event names (its `dwelling:` tags), in id order.
    pub fn dwellings(&self) -> impl Iterator<Item = DwellingId> + use<> {
        self.tags().into_iter().filter_map(|tag| tag.dwelling())
    }

    /// The valid-time date of the event: when its legal effect starts (for slips and
    /// certificates, the day they were issued; for a correction, that of its replacement).
    /// `None` for [`PersonRecorded`], which records a person rather than a legal act.
    pub fn effective_on(&self) -> Option<NaiveDate> {
        self.payload().effective_on()
    }

    /// The legal basis the event cites, if any.
    pub fn legal_basis(&self) -> Option<&LegalBasis> {
        self.payload().legal_basis()
    }

    /// The earlier event this one corrects or annuls, if any.
    pub fn target_event(&self) -> Option<EventId> {
        match self {
            Self::EventCorrected(correction) => Some(correction.corrects()),
            Self::ResidenceRegistrationAnnulled(annulment) => Some(annulment.annuls),
            _ => None,
        }
    }
}

/// An event with its type and version: `{"type":"…","version":1,"data":{…}}`.
///
/// The self-describing form for APIs, snapshots and the replacement inside a correction. It is
/// written through [`Event::encode`]'s serialisation and read through [`Event::decode`], so it
/// accepts exactly what the ledger accepts; the members may come in any order. Reading needs a
/// JSON deserialiser (`serde_json`), because `data` is decoded only once `type` and `version`
/// are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    event: Event,
}

impl EventEnvelope {
    /// Wraps an event.
    pub fn new(event: Event) -> Self {
        Self { event }
    }

    /// The event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// Unwraps the event.
    pub fn into_event(self) -> Event {
        self.event
    }
}

impl From<Event> for EventEnvelope {
    fn from(event: Event) -> Self {
        Self::new(event)
    }
}

impl Serialize for EventEnvelope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut envelope = serializer.serialize_struct("EventEnvelope", 3)?;
        envelope.serialize_field("type", self.event.event_type().as_str())?;
        envelope.serialize_field("version", &self.event.schema_version())?;
        envelope.serialize_field("data", &PayloadRef(&self.event))?;
        envelope.end()
    }
}

/// The members of an envelope.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum EnvelopeField {
    Type,
    Version,
    Data,
}

impl<'de> Deserialize<'de> for EventEnvelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EnvelopeVisitor;

        impl<'de> Visitor<'de> for EnvelopeVisitor {
            type Value = EventEnvelope;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event envelope {\"type\", \"version\", \"data\"}")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventEnvelope, A::Error> {
                let mut event_type: Option<String> = None;
                let mut version: Option<u16> = None;
                let mut data: Option<Box<RawValue>> = None;
                while let Some(field) = map.next_key::<EnvelopeField>()? {
                    match field {
                        EnvelopeField::Type if event_type.is_some() => {
                            return Err(de::Error::duplicate_field("type"));
                        }
                        EnvelopeField::Type => event_type = Some(map.next_value()?),
                        EnvelopeField::Version if version.is_some() => {
                            return Err(de::Error::duplicate_field("version"));
                        }
                        EnvelopeField::Version => version = Some(map.next_value()?),
                        EnvelopeField::Data if data.is_some() => {
                            return Err(de::Error::duplicate_field("data"));
                        }
                        EnvelopeField::Data => data = Some(map.next_value()?),
                    }
                }
                let event_type = event_type.ok_or_else(|| de::Error::missing_field("type"))?;
                let version = version.ok_or_else(|| de::Error::missing_field("version"))?;
                let data = data.ok_or_else(|| de::Error::missing_field("data"))?;
                Event::decode(&event_type, version, data.get().as_bytes())
                    .map(EventEnvelope::new)
                    .map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_struct(
            "EventEnvelope",
            &["type", "version", "data"],
            EnvelopeVisitor,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip_and_are_unique() {
        let mut names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        for event_type in EventType::ALL {
            assert_eq!(event_type.as_str().parse::<EventType>(), Ok(*event_type));
            assert_eq!(event_type.current_version(), 1);
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EventType::ALL.len());
        assert_eq!(EventType::ALL.len(), 29);
        assert!("personRecorded".parse::<EventType>().is_err());
    }

    #[test]
    fn an_unknown_type_name_is_echoed_clipped() {
        let long = "X".repeat(1_000);
        let error = Event::decode(&long, 1, b"{}").unwrap_err();
        assert_eq!(
            error,
            DecodeError::UnknownType {
                event_type: "X".repeat(ECHO_CHARS_MAX)
            }
        );
    }
}
