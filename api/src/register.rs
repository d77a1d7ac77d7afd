//! Command handling: the glue between the law (`domain`) and the log (`ledger`).
//!
//! One command's life, the dynamic-consistency-boundary way (dcb.events):
//! 1. Its event ids are derived from the client's request id, so a retried request finds its
//!    original result before any rule runs (same answer, no duplicate); the same request id
//!    with other content is refused.
//! 2. The records carrying the command's read tags (person, household, dwelling, PIN,
//!    application; never `unit:`) are read up to the head seen at the start, decoded and folded
//!    into the decision state.
//! 3. The pure `decide` runs on that state with the recording date and the actor.
//! 4. A caller's check may look at the decision and the state it was decided on before anything
//!    is written ([`Register::execute_with`]): the HTTP API refuses there what an officer may not
//!    record outside their jurisdiction, which only the decision tells (a deletion acts on the
//!    registration's unit, named nowhere in the command).
//! 5. The events are appended in one atomic request with the condition "no record with any of
//!    the read tags after the position I read". A conflict (another officer changed the same
//!    person or household meanwhile) re-reads, decides and checks again, a bounded number of
//!    times.
//!
//! Neither `domain` nor `ledger` knows the other; this module converts between them.

use std::sync::Arc;

use chrono::NaiveDate;
use residence_domain::command::Command;
use residence_domain::context::{Actor, Context};
use residence_domain::decide::{Decision, Warning, decide};
use residence_domain::event::{DecodeError, Event};
use residence_domain::event_id::EventId as DomainEventId;
use residence_domain::rejection::Rejection;
use residence_domain::state::State;
use residence_domain::tag::Tag as DomainTag;
use residence_ledger::hash::Hash;
use residence_ledger::ledger::{
    AppendError, AppendRequest, AppendStatus, Condition, Ledger, NewRecord, ReadError,
};
use residence_ledger::record::{
    EventId, EventType, InvalidValue, Payload, Position, SchemaVersion, StoredRecord, Tag,
    Timestamp,
};
use serde::{Deserialize, Serialize};

/// How many times a command is re-read and re-decided after a conflicting append.
pub const CONFLICT_RETRIES_MAX: usize = 3;
/// The longest request id accepted.
pub const REQUEST_ID_BYTES_MAX: usize = 128;
/// Records read per tag page while folding the state.
const TAG_PAGE: usize = 5_000;

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

/// A command as it arrives: the client's request id, the command, who records it and when.
#[derive(Debug, Clone)]
pub struct CommandRequest {
    /// The client's idempotency key (1..=128 bytes).
    pub request_id: String,
    /// The command.
    pub command: Command,
    /// Who records it.
    pub recorder: Recorder,
    /// The recording date (Vietnam local date of the recording time).
    pub today: NaiveDate,
    /// With a supplied ledger clock (imports, simulations): the recording time.
    pub recorded_at: Option<Timestamp>,
}

/// One appended event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedEvent {
    /// Its ledger position.
    pub position: u64,
    /// Its record hash.
    pub record_hash: Hash,
    /// Its event id (derived from the request id).
    pub event_id: EventId,
    /// The event itself (serialised as its envelope: type, version, data).
    #[serde(serialize_with = "serialize_event")]
    pub event: Event,
}

fn serialize_event<S: serde::Serializer>(event: &Event, serializer: S) -> Result<S::Ok, S::Error> {
    residence_domain::event::EventEnvelope::new(event.clone()).serialize(serializer)
}

/// The answer to a command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommandOutcome {
    /// The events recorded, in order.
    pub events: Vec<RecordedEvent>,
    /// What the law allows but an officer may want to look at (empty for a replayed answer).
    pub warnings: Vec<Warning>,
    /// Whether this request was already recorded (a retry): then nothing new was written.
    pub replayed: bool,
}

/// Why a command was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The request id is empty or too long. → 400 `invalid_request_id`.
    #[error("request id must be 1 to {REQUEST_ID_BYTES_MAX} bytes")]
    InvalidRequestId,
    /// A rule of the law said no. → 422 with the rejection's code.
    #[error("rejected: {0}")]
    Rejected(Rejection),
    /// The same request id was used before with other content. → 409 `request_id_reused`.
    #[error("request id was already used for another request (position {position})")]
    RequestIdReused {
        /// The record of the earlier request.
        position: u64,
    },
    /// Other changes to the same people or households kept winning the race. → 409
    /// `conflict`, with the position of the conflicting record; the client may retry.
    #[error("conflicting change at position {position}")]
    Conflict {
        /// The first conflicting record.
        position: u64,
    },
    /// A record the decision needs has an erased payload, so the state cannot be folded.
    /// → 409 `history_erased`.
    #[error("record {position} needed for this decision has an erased payload")]
    HistoryErased {
        /// The record.
        position: u64,
    },
    /// A stored event does not decode: a bug or a newer schema. → 500 (logged).
    #[error("stored event at position {position} does not decode")]
    Undecodable {
        /// The record.
        position: u64,
        /// Why.
        #[source]
        source: DecodeError,
    },
    /// The ledger could not read. → 503.
    #[error("reading the ledger failed")]
    Read(#[from] ReadError),
    /// The ledger refused the append for a technical reason (failed, closed, malformed). → 503.
    #[error("appending to the ledger failed")]
    Append(#[source] AppendError),
    /// A domain value did not fit the ledger's limits (a bug). → 500.
    #[error("an event does not fit the ledger record format")]
    Format(#[from] InvalidValue),
}

/// What a caller's check sees of a decided command, between the decision and the append.
#[derive(Debug, Clone, Copy)]
pub struct Decided<'a> {
    /// The request decided.
    pub request: &'a CommandRequest,
    /// The state folded from the command's read tags, which the decision was taken on.
    pub state: &'a State,
    /// The decision: the events that would be appended.
    pub decision: &'a Decision,
}

/// Why a command recorded with a caller's check ([`Register::execute_with`]) was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum CheckedError<R> {
    /// The command failed as in [`Register::execute`]; handled as [`CommandError`] says.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The caller's check refused the decision: nothing was written. Handled by the caller
    /// (the HTTP API answers 403).
    #[error("the decision was refused by the caller's check")]
    Refused(R),
}

impl<R> From<ReadError> for CheckedError<R> {
    fn from(error: ReadError) -> Self {
        CheckedError::Command(CommandError::Read(error))
    }
}

impl<R> From<InvalidValue> for CheckedError<R> {
    fn from(error: InvalidValue) -> Self {
        CheckedError::Command(CommandError::Format(error))
    }
}

/// The metadata stored with each record of a command (hashed into the record; no personal
/// data: ids are pseudonymous, the command itself is in the payloads).
#[derive(Debug, Serialize, Deserialize)]
struct Metadata {
    request_id: String,
    request_digest: String,
    actor: Actor,
    actor_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    office: Option<String>,
    command: String,
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

/// A hook run after a command's state was read and decided and before its append: tests use
/// it to force a real race between two commands (production servers have none).
pub type BeforeAppend = Arc<
    dyn Fn(&CommandRequest) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        + Send
        + Sync,
>;

/// Records commands on a ledger.
#[derive(Clone)]
pub struct Register {
    ledger: Arc<Ledger>,
    before_append: Option<BeforeAppend>,
}

impl std::fmt::Debug for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Register")
            .field("ledger", &self.ledger)
            .field("before_append", &self.before_append.is_some())
            .finish()
    }
}

impl Register {
    /// A register over `ledger`.
    pub fn new(ledger: Arc<Ledger>) -> Self {
        Self {
            ledger,
            before_append: None,
        }
    }

    /// The same register with a hook between read-and-decide and append.
    #[must_use]
    pub fn with_before_append(mut self, hook: BeforeAppend) -> Self {
        self.before_append = Some(hook);
        self
    }

    /// The ledger.
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// Records a command: replays a retried request, else reads, decides and appends.
    ///
    /// # Errors
    /// [`CommandError`]: a rejection, a conflict, a reused request id, or a ledger failure.
    pub async fn execute(&self, request: &CommandRequest) -> Result<CommandOutcome, CommandError> {
        let pass = |_: &Decided<'_>| Ok::<(), std::convert::Infallible>(());
        self.execute_with(request, &pass)
            .await
            .map_err(|error| match error {
                CheckedError::Command(error) => error,
                CheckedError::Refused(never) => match never {},
            })
    }

    /// As [`Register::execute`], with `check` run on every decision (after each re-read of a
    /// conflict too) before anything is appended. A refusal writes nothing. A retried request
    /// is answered from the ledger before any check: it was checked when it was recorded.
    ///
    /// # Errors
    /// [`CheckedError::Refused`] with the check's refusal, else [`CheckedError::Command`] as
    /// for [`Register::execute`].
    pub async fn execute_with<R>(
        &self,
        request: &CommandRequest,
        check: &(dyn Fn(&Decided<'_>) -> Result<(), R> + Sync),
    ) -> Result<CommandOutcome, CheckedError<R>> {
        let ids = RequestIds::new(request)?;
        let digest = request_digest(&request.recorder, &request.command);
        if let Some(outcome) = self.replay(&ids, &digest)? {
            return Ok(outcome);
        }
        let read_tags = request.command.read_tags();
        let ledger_tags = read_tags
            .iter()
            .map(|tag| Tag::new(tag.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let metadata = metadata(
            &request.request_id,
            &request.recorder,
            request.command.name(),
            &digest,
        );
        let mut attempt = 0;
        loop {
            let (state, seen, ledger_tags) = self.fold_phases(&read_tags, &ledger_tags)?;
            let context = Context::new(request.today, request.recorder.actor);
            let decision =
                decide(&state, &request.command, &context).map_err(CommandError::Rejected)?;
            check(&Decided {
                request,
                state: &state,
                decision: &decision,
            })
            .map_err(CheckedError::Refused)?;
            let records = decision
                .events
                .iter()
                .enumerate()
                .map(|(index, event)| record_with(metadata.clone(), ids.event_id(index), event))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(hook) = &self.before_append {
                hook(request).await;
            }
            let append = AppendRequest {
                records,
                condition: Some(Condition {
                    tags: ledger_tags.clone(),
                    after: seen,
                }),
                recorded_at: request.recorded_at,
            };
            match self.ledger.append(append).await {
                Ok(outcome) => {
                    let events = outcome
                        .records
                        .iter()
                        .zip(decision.events)
                        .enumerate()
                        .map(|(index, (appended, event))| RecordedEvent {
                            position: appended.position.0,
                            record_hash: appended.record_hash,
                            event_id: ids.event_id(index),
                            event,
                        })
                        .collect();
                    return Ok(CommandOutcome {
                        events,
                        warnings: decision.warnings,
                        replayed: outcome.status == AppendStatus::Duplicate,
                    });
                }
                Err(AppendError::Conflict { position }) => {
                    attempt += 1;
                    if attempt > CONFLICT_RETRIES_MAX {
                        return Err(CommandError::Conflict {
                            position: position.0,
                        }
                        .into());
                    }
                }
                Err(AppendError::EventIdReused { .. }) => {
                    // A concurrent retry of the same request may have won: answer as it did.
                    return match self.replay(&ids, &digest)? {
                        Some(outcome) => Ok(outcome),
                        None => Err(CommandError::Conflict {
                            position: self.ledger.head().size,
                        }
                        .into()),
                    };
                }
                Err(other) => return Err(CommandError::Append(other).into()),
            }
        }
    }

    /// The original answer of an already recorded request, or `None`.
    fn replay(
        &self,
        ids: &RequestIds,
        digest: &str,
    ) -> Result<Option<CommandOutcome>, CommandError> {
        let Some(first) = self.ledger.lookup(&ids.event_id(0))? else {
            return Ok(None);
        };
        let mut events = Vec::new();
        let mut position = first.position;
        loop {
            let stored = self.ledger.read(position)?;
            if stored.record.event_id != ids.event_id(events.len()) {
                break;
            }
            let metadata: Option<Metadata> = serde_json::from_slice(&stored.record.metadata).ok();
            if metadata.is_none_or(|metadata| metadata.request_digest != digest) {
                return Err(CommandError::RequestIdReused {
                    position: position.0,
                });
            }
            events.push(RecordedEvent {
                position: position.0,
                record_hash: stored.record_hash,
                event_id: stored.record.event_id,
                event: decode(&stored)?,
            });
            position = Position(position.0 + 1);
            if position.0 >= self.ledger.head().size {
                break;
            }
        }
        Ok(Some(CommandOutcome {
            events,
            warnings: Vec::new(),
            replayed: true,
        }))
    }

    /// The two read phases of a decision: the command's read tags, then the dwellings the first
    /// fold found (a dwelling's recodings carry its tag, not the tags of the people living
    /// there; `State::dwelling_tags`). Returns the state, the last position it covers, and every
    /// tag read, which the append condition guards.
    fn fold_phases(
        &self,
        read_tags: &[DomainTag],
        ledger_tags: &[Tag],
    ) -> Result<(State, Option<Position>, Vec<Tag>), CommandError> {
        let (state, seen) = self.fold(ledger_tags)?;
        let mut more = state
            .dwelling_tags()
            .into_iter()
            .filter(|tag| !read_tags.contains(tag))
            .peekable();
        if more.peek().is_none() {
            return Ok((state, seen, ledger_tags.to_vec()));
        }
        let mut tags = ledger_tags.to_vec();
        for tag in more {
            tags.push(Tag::new(tag.to_string())?);
        }
        let (state, seen) = self.fold(&tags)?;
        Ok((state, seen, tags))
    }

    /// Folds every record carrying one of `tags` up to the current head; returns the state and
    /// the last position the fold covers (`None` for an empty ledger).
    fn fold(&self, tags: &[Tag]) -> Result<(State, Option<Position>), CommandError> {
        let head = self.ledger.head().size;
        let seen = head.checked_sub(1).map(Position);
        // Records carrying several of the tags are read once per tag and kept once, by
        // position; a tag's records are read page by page by following its back-links.
        let mut records = std::collections::BTreeMap::new();
        for tag in tags {
            let mut after = None;
            loop {
                let page = self.ledger.read_by_tag(tag, after, TAG_PAGE)?;
                let done = page.len() < TAG_PAGE;
                after = page.last().map(|stored| stored.record.position);
                for stored in page {
                    if stored.record.position.0 < head {
                        records.entry(stored.record.position).or_insert(stored);
                    }
                }
                if done || after.is_some_and(|last| last.0 + 1 >= head) {
                    break;
                }
            }
        }
        let mut recorded = Vec::with_capacity(records.len());
        for stored in records.values() {
            recorded.push((
                DomainEventId::from_bytes(stored.record.event_id.0),
                decode(stored)?,
            ));
        }
        let state = State::from_recorded(recorded.iter().map(|(id, event)| (*id, event)));
        Ok((state, seen))
    }
}

/// The ledger record of the `index`-th event of a command: its event id, type, version, the
/// event's tags, the metadata every record of a request carries, and the payload. Imports build
/// their records here too, so an imported request is found by a later retry through the API.
///
/// # Errors
/// [`CommandError::Format`] when a domain value does not fit the record format (a bug).
pub(crate) fn new_record(
    request_id: &str,
    recorder: &Recorder,
    command_name: &str,
    digest: &str,
    event_id: EventId,
    event: &Event,
) -> Result<NewRecord, CommandError> {
    let metadata = metadata(request_id, recorder, command_name, digest);
    record_with(metadata, event_id, event)
}

/// The metadata bytes every record of a request carries (see [`new_record`]).
fn metadata(request_id: &str, recorder: &Recorder, command_name: &str, digest: &str) -> Vec<u8> {
    let metadata = MetadataRef {
        request_id,
        request_digest: digest,
        actor: recorder.actor,
        actor_id: &recorder.actor_id,
        office: recorder.office.as_deref(),
        command: command_name,
    };
    serde_json::to_vec(&metadata).unwrap_or_default()
}

/// As [`new_record`], with the request's metadata already written (once per request, not per
/// event).
fn record_with(
    metadata: Vec<u8>,
    event_id: EventId,
    event: &Event,
) -> Result<NewRecord, CommandError> {
    Ok(NewRecord {
        event_id,
        event_type: EventType::new(event.event_type().as_str())?,
        schema_version: SchemaVersion::new(event.schema_version())?,
        tags: event
            .tags()
            .iter()
            .map(|tag: &DomainTag| Tag::new(tag.to_string()))
            .collect::<Result<_, _>>()?,
        metadata,
        payload: event.encode(),
    })
}

/// Decodes a stored record's payload into a domain event.
///
/// # Errors
/// [`CommandError::HistoryErased`] or [`CommandError::Undecodable`].
pub fn decode(stored: &StoredRecord) -> Result<Event, CommandError> {
    let position = stored.record.position.0;
    match &stored.payload {
        Payload::Present { bytes, .. } => Event::decode(
            stored.record.event_type.as_str(),
            stored.record.schema_version.into(),
            bytes,
        )
        .map_err(|source| CommandError::Undecodable { position, source }),
        Payload::Erased { .. } => Err(CommandError::HistoryErased { position }),
    }
}

/// The event ids of one request: `blake3_keyed(key, index)[..16]`, where the key is derived
/// from the recording account and the request id, so two accounts' request ids never collide.
#[derive(Debug)]
pub(crate) struct RequestIds {
    key: [u8; 32],
}

impl RequestIds {
    fn new(request: &CommandRequest) -> Result<Self, CommandError> {
        Self::derive(&request.recorder.actor_id, &request.request_id)
    }

    /// The event ids of request `request_id` recorded by account `actor_id`.
    ///
    /// # Errors
    /// [`CommandError::InvalidRequestId`] for an empty or too long request id.
    pub(crate) fn derive(actor_id: &str, request_id: &str) -> Result<Self, CommandError> {
        let id = request_id.as_bytes();
        if id.is_empty() || id.len() > REQUEST_ID_BYTES_MAX {
            return Err(CommandError::InvalidRequestId);
        }
        let mut material = Vec::with_capacity(id.len() + actor_id.len() + 8);
        for part in [actor_id.as_bytes(), id] {
            material.extend_from_slice(&(part.len() as u32).to_le_bytes());
            material.extend_from_slice(part);
        }
        Ok(Self {
            key: blake3::derive_key("residence-api v1 event id", &material),
        })
    }

    /// The id of the request's `index`-th event.
    pub(crate) fn event_id(&self, index: usize) -> EventId {
        let hash = blake3::keyed_hash(&self.key, &(index as u64).to_le_bytes());
        let mut id = [0_u8; 16];
        id.copy_from_slice(&hash.as_bytes()[..16]);
        EventId(id)
    }
}

/// A digest of what the request asks (command and recording account), so a retry with the same
/// content is recognised and one with other content refused.
pub(crate) fn request_digest(recorder: &Recorder, command: &Command) -> String {
    let mut command_json = Vec::with_capacity(512);
    if serde_json::to_writer(&mut command_json, command).is_err() {
        command_json.clear();
    }
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
    use residence_ledger::checkpoint::Origin;
    use residence_ledger::clock::ClockMode;
    use residence_ledger::keys::LedgerSecret;
    use residence_ledger::ledger::{LedgerConfig, Limits};
    use residence_ledger::record::BlindedKinds;
    use residence_ledger::store::memory::MemoryStore;

    use residence_domain::ids::PersonId;

    use super::*;

    fn register() -> Register {
        let ledger = Ledger::open(LedgerConfig {
            store: Arc::new(MemoryStore::new()),
            tree_dir: None,
            checkpoint_dir: None,
            origin: Origin::new("residence-ledger/test").unwrap(),
            secret: LedgerSecret::from_bytes([3; 32]),
            blinded_kinds: BlindedKinds::default(),
            clock: ClockMode::wall(),
            limits: Limits::default(),
        })
        .unwrap();
        Register::new(Arc::new(ledger))
    }

    fn officer() -> Recorder {
        Recorder {
            actor: Actor::Officer,
            actor_id: "officer-7".into(),
            office: Some("CA-00097".into()),
        }
    }

    fn request(request_id: &str, command: &str) -> CommandRequest {
        CommandRequest {
            request_id: request_id.into(),
            command: serde_json::from_str(command).unwrap(),
            recorder: officer(),
            today: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
            recorded_at: None,
        }
    }

    const RECORD_AN: &str = r#"{"record_person":{"person":"0000000000000001","pin":"001090012345","name":"Nguyễn Văn An","birth_date":"1990-05-01","sex":"male"}}"#;
    const REGISTER_AN: &str = r#"{"register_permanent":{"person":"0000000000000001","effective_on":"2026-11-20","basis":"OWN_HOME","address":{"unit":"2025:00097","street":"Số 5 phố Phúc Xá"},"dwelling":"0000000000000100","household":{"establish":{"household":"0000000000000010"}}}}"#;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn a_command_is_decided_on_its_history_and_appended_with_its_tags() {
        let register = register();
        runtime().block_on(async {
            let recorded = register.execute(&request("r-1", RECORD_AN)).await.unwrap();
            assert_eq!(recorded.events.len(), 1);
            assert!(!recorded.replayed);
            let registered = register
                .execute(&request("r-2", REGISTER_AN))
                .await
                .unwrap();
            let types: Vec<&str> = registered
                .events
                .iter()
                .map(|e| e.event.event_type().as_str())
                .collect();
            assert_eq!(
                types,
                ["HouseholdEstablished", "PermanentResidenceRegistered"]
            );
            assert_eq!(registered.events[0].position, 1);
            let stored = register.ledger().read(Position(2)).unwrap();
            let tags: Vec<&str> = stored
                .record
                .tags
                .iter()
                .map(|link| link.tag.as_str())
                .collect();
            assert!(tags.contains(&"person:0000000000000001"), "{tags:?}");
            assert!(tags.contains(&"unit:2025:00097"), "{tags:?}");
            let person_link = stored
                .record
                .tags
                .iter()
                .find(|link| link.tag.as_str() == "person:0000000000000001")
                .unwrap();
            assert_eq!(
                person_link.prev,
                Some(Position(0)),
                "back-link to the person's record"
            );
            let metadata: Metadata = serde_json::from_slice(&stored.record.metadata).unwrap();
            assert_eq!(metadata.request_id, "r-2");
            assert_eq!(metadata.command, "register_permanent");
        });
    }

    #[test]
    fn the_metadata_is_written_as_the_owned_form_writes_it() {
        for office in [Some("CA-00097".to_owned()), None] {
            let recorder = Recorder {
                office,
                ..officer()
            };
            let owned = Metadata {
                request_id: "r-1".into(),
                request_digest: "abc".into(),
                actor: recorder.actor,
                actor_id: recorder.actor_id.clone(),
                office: recorder.office.clone(),
                command: "record_person".into(),
            };
            assert_eq!(
                metadata("r-1", &recorder, "record_person", "abc"),
                serde_json::to_vec(&owned).unwrap()
            );
        }
    }

    #[test]
    fn a_retried_request_gets_the_original_answer_and_writes_nothing() {
        let register = register();
        runtime().block_on(async {
            register.execute(&request("r-1", RECORD_AN)).await.unwrap();
            let first = register
                .execute(&request("r-2", REGISTER_AN))
                .await
                .unwrap();
            let size = register.ledger().head().size;
            let retry = register
                .execute(&request("r-2", REGISTER_AN))
                .await
                .unwrap();
            assert!(retry.replayed);
            assert_eq!(retry.events, first.events);
            assert_eq!(register.ledger().head().size, size);
        });
    }

    #[test]
    fn the_same_request_id_with_other_content_is_refused() {
        let register = register();
        runtime().block_on(async {
            register.execute(&request("r-1", RECORD_AN)).await.unwrap();
            let other = RECORD_AN.replace("Nguyễn Văn An", "Trần Thị Bình");
            let error = register.execute(&request("r-1", &other)).await.unwrap_err();
            assert!(
                matches!(error, CommandError::RequestIdReused { position: 0 }),
                "{error:?}"
            );
            assert_eq!(register.ledger().head().size, 1);
        });
    }

    #[test]
    fn a_rejection_writes_nothing() {
        let register = register();
        runtime().block_on(async {
            // Registering a person never recorded from the population database breaks I7.
            let error = register
                .execute(&request("r-9", REGISTER_AN))
                .await
                .unwrap_err();
            let CommandError::Rejected(rejection) = error else {
                panic!("{error:?}")
            };
            assert_eq!(rejection.code(), "person_not_recorded");
            assert_eq!(register.ledger().head().size, 0);
        });
    }

    #[test]
    fn a_refused_decision_writes_nothing_and_a_passed_one_is_appended() {
        let register = register();
        runtime().block_on(async {
            register.execute(&request("r-1", RECORD_AN)).await.unwrap();
            let seen = std::sync::Mutex::new(Vec::new());
            let refuse = |decided: &Decided<'_>| {
                let types: Vec<&str> = decided
                    .decision
                    .events
                    .iter()
                    .map(|event| event.event_type().as_str())
                    .collect();
                seen.lock().unwrap().push(types.join(","));
                // The check sees the state the decision was taken on.
                assert!(decided.state.person(PersonId::new(1)).is_some());
                Err("outside")
            };
            let error = register
                .execute_with(&request("r-2", REGISTER_AN), &refuse)
                .await
                .unwrap_err();
            assert!(
                matches!(error, CheckedError::Refused("outside")),
                "{error:?}"
            );
            assert_eq!(register.ledger().head().size, 1, "nothing was written");
            assert_eq!(
                seen.lock().unwrap().as_slice(),
                ["HouseholdEstablished,PermanentResidenceRegistered"]
            );
            let pass = |_: &Decided<'_>| Ok::<(), &str>(());
            let recorded = register
                .execute_with(&request("r-2", REGISTER_AN), &pass)
                .await
                .unwrap();
            assert_eq!(recorded.events.len(), 2);
            // A retry is answered from the ledger before any check.
            let retry = register
                .execute_with(&request("r-2", REGISTER_AN), &refuse)
                .await
                .unwrap();
            assert!(retry.replayed);
        });
    }

    #[test]
    fn request_ids_are_scoped_to_the_recording_account() {
        let mut first = request("same", RECORD_AN);
        let mut second = first.clone();
        second.recorder.actor_id = "officer-8".into();
        first.request_id = "same".into();
        let a = RequestIds::new(&first).unwrap().event_id(0);
        let b = RequestIds::new(&second).unwrap().event_id(0);
        assert_ne!(a, b);
        assert!(RequestIds::new(&request("", RECORD_AN)).is_err());
        assert!(RequestIds::new(&request(&"x".repeat(129), RECORD_AN)).is_err());
    }

    #[test]
    fn concurrent_conflicting_commands_are_re_decided_not_lost() {
        let register = register();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            register.execute(&request("r-1", RECORD_AN)).await.unwrap();
            // Two officers register the same person in two new households at once: one wins,
            // the other is re-read and decided again against the winner's registration.
            let other = REGISTER_AN
                .replace("0000000000000010", "0000000000000011")
                .replace("0000000000000100", "0000000000000101")
                .replace("2026-11-20", "2026-11-21");
            let a = {
                let register = register.clone();
                tokio::spawn(async move { register.execute(&request("a", REGISTER_AN)).await })
            };
            let b = {
                let register = register.clone();
                tokio::spawn(async move { register.execute(&request("b", &other)).await })
            };
            let (a, b) = (a.await.unwrap(), b.await.unwrap());
            assert!(a.is_ok() || b.is_ok());
            // Whatever the order, the ledger holds a consistent history: folding it breaks no
            // invariant.
            let size = register.ledger().head().size;
            let records = register
                .ledger()
                .read_range(Position(0), Position(size))
                .unwrap();
            let events: Vec<(DomainEventId, Event)> = records
                .iter()
                .map(|stored| {
                    (
                        DomainEventId::from_bytes(stored.record.event_id.0),
                        decode(stored).unwrap(),
                    )
                })
                .collect();
            let state = State::from_recorded(events.iter().map(|(id, event)| (*id, event)));
            assert!(state.violations().is_empty(), "{:?}", state.violations());
            let registrations = events
                .iter()
                .filter(|(_, event)| matches!(event, Event::PermanentResidenceRegistered(_)))
                .count();
            let accepted = usize::from(a.is_ok()) + usize::from(b.is_ok());
            assert_eq!(
                registrations, accepted,
                "every accepted command, and only those, landed"
            );
            for outcome in [&a, &b] {
                if let Err(error) = outcome {
                    assert!(matches!(error, CommandError::Rejected(_)), "{error:?}");
                }
            }
        });
    }
}
