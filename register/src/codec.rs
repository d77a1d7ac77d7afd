//! The only conversion between domain events and ledger records, both ways.
//!
//! Why one place: the bytes a record holds (its type, schema version, tags, metadata and
//! payload) are hashed and signed, so every writer (the API, imports, the generator, tests that
//! build ledgers) must produce them identically, and every reader (decisions, projections,
//! replay) must read them identically. The domain hands over typed tags and events; the ledger
//! takes validated strings and bytes; this module is the seam.
//!
//! A record's metadata (hashed into the record; no personal data: ids are pseudonymous and the
//! command itself is in the payloads) is one JSON object with the members of [`Metadata`] in its
//! order: `request_id`, `request_digest`, `actor`, `actor_id`, `office` (left out when none) and
//! `command` (the procedure's snake_case name).

use residence_domain::context::Actor;
use residence_domain::event::{DecodeError, Event};
use residence_domain::event_id::EventId as DomainEventId;
use residence_domain::tag::Tag as DomainTag;
use residence_ledger::directory::DirectoryOptions;
use residence_ledger::ledger::NewRecord;
use residence_ledger::record::{
    BlindedKinds, EventId, EventType, InvalidValue, Payload, PayloadRef, SchemaVersion,
    StoredRecord, Tag,
};
use serde::{Deserialize, Serialize};

use crate::request::Recorder;

/// Why a stored record gives no domain event.
#[derive(Debug, thiserror::Error)]
pub enum RecordDecodeError {
    /// Its payload was erased, so the event it held cannot be folded.
    #[error("record {position} has an erased payload")]
    Erased {
        /// The record.
        position: u64,
    },
    /// Its payload does not decode: a bug or a newer schema.
    #[error(transparent)]
    Undecodable(#[from] Undecodable),
}

/// A stored record whose payload does not decode: a bug or a newer schema.
#[derive(Debug, thiserror::Error)]
#[error("stored event at position {position} does not decode")]
pub struct Undecodable {
    /// The record.
    pub position: u64,
    /// Why.
    #[source]
    pub source: DecodeError,
}

/// The metadata every record of a request carries (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The client's request id.
    pub request_id: String,
    /// [`crate::request::request_digest`] of the request.
    pub request_digest: String,
    /// The kind of actor that recorded it.
    pub actor: Actor,
    /// The recording account or system (pseudonymous).
    pub actor_id: String,
    /// The recording office, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    /// The procedure (the command's snake_case name).
    pub command: String,
}

/// [`Metadata`] as written, borrowing its parts (the same members in the same order, so the
/// same bytes).
#[derive(Debug, Serialize)]
struct MetadataRef<'a> {
    request_id: &'a str,
    request_digest: &'a str,
    actor: Actor,
    actor_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    office: Option<&'a str>,
    command: &'a str,
}

/// The metadata bytes every record of a request carries.
pub fn metadata(
    request_id: &str,
    recorder: &Recorder,
    command_name: &str,
    digest: &str,
) -> Vec<u8> {
    let metadata = MetadataRef {
        request_id,
        request_digest: digest,
        actor: recorder.actor,
        actor_id: &recorder.actor_id,
        office: recorder.office.as_deref(),
        command: command_name,
    };
    // Strings and a unit enum always serialise: an error here is a programmer's error.
    serde_json::to_vec(&metadata).expect("record metadata of strings serialises to JSON")
}

/// A stored record's metadata, `None` when it is not a command's (an access-log record, a
/// record written by another tool).
pub fn read_metadata(stored: &StoredRecord) -> Option<Metadata> {
    serde_json::from_slice(&stored.record.metadata).ok()
}

/// The ledger tag of a domain tag.
///
/// # Errors
/// [`InvalidValue`] when the tag's text does not fit the ledger's tag syntax (a bug).
pub fn ledger_tag(tag: &DomainTag) -> Result<Tag, InvalidValue> {
    Tag::new(tag.to_string())
}

/// The ledger tags of domain tags, in order.
///
/// # Errors
/// As [`ledger_tag`].
pub fn ledger_tags(tags: &[DomainTag]) -> Result<Vec<Tag>, InvalidValue> {
    tags.iter().map(ledger_tag).collect()
}

/// The record of `event` under `event_id`, with the request's `metadata` bytes.
///
/// # Errors
/// [`InvalidValue`] when a domain value does not fit the record format (a bug).
pub fn new_record(
    metadata: Vec<u8>,
    event_id: EventId,
    event: &Event,
) -> Result<NewRecord, InvalidValue> {
    Ok(NewRecord {
        event_id,
        event_type: EventType::new(event.event_type().as_str())?,
        schema_version: SchemaVersion::new(event.schema_version())?,
        tags: ledger_tags(&event.tags())?,
        metadata,
        payload: event.encode(),
    })
}

/// The tag kinds the ledger blinds, as the domain names them (the ledger keeps none of its own).
pub fn blinded_kinds() -> BlindedKinds {
    BlindedKinds::new(residence_domain::tag::BLINDED_TAG_KINDS.iter().copied())
        .expect("the domain's blinded tag kinds are valid ledger tag kinds")
}

/// Options for a register's ledger directory: the domain's blinded tag kinds, and the ledger's
/// defaults for everything else.
pub fn directory_options() -> DirectoryOptions {
    DirectoryOptions::new(blinded_kinds())
}

/// The domain event id of a stored record (the same 16 bytes).
pub fn event_id(stored: &StoredRecord) -> DomainEventId {
    domain_event_id(stored.record.event_id)
}

/// The domain event id of a ledger event id (the same 16 bytes).
pub fn domain_event_id(id: EventId) -> DomainEventId {
    DomainEventId::from_bytes(id.0)
}

/// The event of a record's payload, borrowed from a decoded record view; `None` when erased.
///
/// # Errors
/// [`DecodeError`] when the payload does not decode as that event type and version.
pub fn decode_payload(
    event_type: &str,
    schema_version: SchemaVersion,
    payload: &PayloadRef<'_>,
) -> Result<Option<Event>, DecodeError> {
    match payload {
        PayloadRef::Present { bytes, .. } => {
            Event::decode(event_type, schema_version.get(), bytes).map(Some)
        }
        PayloadRef::Erased { .. } => Ok(None),
    }
}

/// The event of a stored record; `None` when its payload was erased.
///
/// # Errors
/// [`Undecodable`].
pub fn decode_stored(stored: &StoredRecord) -> Result<Option<Event>, Undecodable> {
    let position = stored.record.position.0;
    match &stored.payload {
        Payload::Present { bytes, .. } => Event::decode(
            stored.record.event_type.as_str(),
            stored.record.schema_version.get(),
            bytes,
        )
        .map(Some)
        .map_err(|source| Undecodable { position, source }),
        Payload::Erased { .. } => Ok(None),
    }
}

/// The event of a stored record that a decision needs: an erased payload is an error.
///
/// # Errors
/// [`RecordDecodeError`].
pub fn decode(stored: &StoredRecord) -> Result<Event, RecordDecodeError> {
    decode_stored(stored)?.ok_or(RecordDecodeError::Erased {
        position: stored.record.position.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn officer(office: Option<String>) -> Recorder {
        Recorder {
            actor: Actor::Officer,
            actor_id: "officer-7".into(),
            office,
        }
    }

    #[test]
    fn the_metadata_is_written_as_the_owned_form_writes_it() {
        for office in [Some("CA-00097".to_owned()), None] {
            let recorder = officer(office);
            let owned = Metadata {
                request_id: "r-1".into(),
                request_digest: "abc".into(),
                actor: recorder.actor,
                actor_id: recorder.actor_id.clone(),
                office: recorder.office.clone(),
                command: "record_person".into(),
            };
            let written = metadata("r-1", &recorder, "record_person", "abc");
            assert_eq!(written, serde_json::to_vec(&owned).unwrap());
            let read: Metadata = serde_json::from_slice(&written).unwrap();
            assert_eq!(read, owned);
        }
    }
}
