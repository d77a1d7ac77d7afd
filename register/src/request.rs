//! Request ids: the client's idempotency key, the event ids derived from it, and the digest
//! that tells a retry (same content) from a reused id (other content).
//!
//! Why derived ids: a retried request must find its original answer before any rule runs, and
//! an import must write the very records the API would, so a later API retry finds them. Both
//! hold when a request's event ids are a pure function of who records and the request id.

use residence_domain::command::Command;
use residence_domain::context::Actor;
use residence_ledger::record::EventId;
use serde::{Deserialize, Serialize};

/// The longest request id accepted.
pub const REQUEST_ID_BYTES_MAX: usize = 128;

/// Who is recording, as the ledger's metadata names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorder {
    /// The kind of actor (decides what the law lets them do).
    pub actor: Actor,
    /// The account or system recording (e.g. an officer's user id); pseudonymous.
    pub actor_id: String,
    /// The office (commune police) recording, if any.
    pub office: Option<String>,
}

/// A request id that is empty or longer than [`REQUEST_ID_BYTES_MAX`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("request id must be 1 to {REQUEST_ID_BYTES_MAX} bytes")]
pub struct InvalidRequestId;

/// The event ids of one request: `blake3_keyed(key, index)[..16]`, where the key is derived
/// from the recording account and the request id, so two accounts' request ids never collide.
#[derive(Debug, Clone)]
pub struct RequestIds {
    key: [u8; 32],
}

impl RequestIds {
    /// The event ids of request `request_id` recorded by account `actor_id`.
    ///
    /// # Errors
    /// [`InvalidRequestId`] for an empty or too long request id.
    pub fn derive(actor_id: &str, request_id: &str) -> Result<Self, InvalidRequestId> {
        let id = request_id.as_bytes();
        if id.is_empty() || id.len() > REQUEST_ID_BYTES_MAX {
            return Err(InvalidRequestId);
        }
        let mut material = Vec::with_capacity(id.len() + actor_id.len() + 8);
        for part in [actor_id.as_bytes(), id] {
            let len = u32::try_from(part.len()).expect("ids are far shorter than 4 GiB");
            material.extend_from_slice(&len.to_le_bytes());
            material.extend_from_slice(part);
        }
        Ok(Self {
            key: blake3::derive_key("residence-api v1 event id", &material),
        })
    }

    /// The id of the request's `index`-th event.
    pub fn event_id(&self, index: usize) -> EventId {
        let hash = blake3::keyed_hash(&self.key, &(index as u64).to_le_bytes());
        let mut id = [0_u8; 16];
        id.copy_from_slice(&hash.as_bytes()[..16]);
        EventId(id)
    }
}

/// A digest of what the request asks (command and recording account), so a retry with the same
/// content is recognised and one with other content refused.
pub fn request_digest(recorder: &Recorder, command: &Command) -> String {
    let mut command_json = Vec::with_capacity(512);
    // A command is plain data with string map keys: serialising it cannot fail, and hashing a
    // half-written command would make two different requests look alike.
    serde_json::to_writer(&mut command_json, command).expect("a command serialises to JSON");
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"residence-api v1 request digest\0");
    hasher.update(recorder.actor.as_str().as_bytes());
    hasher.update(&[0]);
    hasher.update(recorder.actor_id.as_bytes());
    hasher.update(&[0]);
    hasher.update(&command_json);
    hasher.finalize().to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_scoped_to_the_recording_account() {
        let a = RequestIds::derive("officer-7", "same").unwrap().event_id(0);
        let b = RequestIds::derive("officer-8", "same").unwrap().event_id(0);
        assert_ne!(a, b);
        assert_ne!(
            a,
            RequestIds::derive("officer-7", "same").unwrap().event_id(1)
        );
        assert_eq!(
            RequestIds::derive("officer-7", "").unwrap_err(),
            InvalidRequestId
        );
        assert!(RequestIds::derive("officer-7", &"x".repeat(128)).is_ok());
        assert_eq!(
            RequestIds::derive("officer-7", &"x".repeat(129)).unwrap_err(),
            InvalidRequestId
        );
    }
}
