//! Executing a command: the glue between the law (`domain`) and the log (`ledger`).
//!
//! One command's life, the dynamic-consistency-boundary way (dcb.events):
//! 1. Its event ids are derived from the client's request id ([`crate::request`]), so a retried
//!    request finds its original result before any rule runs (same answer, no duplicate); the
//!    same request id with other content is refused.
//! 2. Its boundary is read from the ledger up to the head seen at the start: the records
//!    carrying the command's read tags (person, household, dwelling, PIN, application; never
//!    `unit:`), then those of the dwellings found (`residence_domain::boundary`), decoded and
//!    folded into the decision state.
//! 3. A caller's check looks at the command and that state **before** the law decides
//!    ([`Register::execute_with`]): the HTTP API refuses there an act outside the caller's
//!    jurisdiction (`residence_domain::jurisdiction`), so that nothing the decision would say
//!    about another commune's people leaves the server.
//! 4. The pure `decide` runs on that state with the recording date and the actor.
//! 5. The events are appended in one atomic request with the condition "no record with any of
//!    the read tags after the position I read". A conflict (another officer changed the same
//!    person or household meanwhile) re-reads, checks and decides again, a bounded number of
//!    times.

use std::sync::Arc;

use chrono::NaiveDate;
use residence_domain::boundary;
use residence_domain::command::Command;
use residence_domain::context::Context;
use residence_domain::decide::{Warning, decide};
use residence_domain::event::{DecodeError, Event};
use residence_domain::rejection::Rejection;
use residence_domain::state::State;
use residence_ledger::hash::Hash;
use residence_ledger::ledger::{
    AppendError, AppendRequest, AppendStatus, Condition, Ledger, ReadError,
};
use residence_ledger::record::{EventId, InvalidValue, Position, Timestamp};
use serde::Serialize;

use crate::boundary::{HistoryError, LedgerHistory};
use crate::codec::{self, RecordDecodeError};
use crate::request::{InvalidRequestId, Recorder, RequestIds, request_digest};

/// How many times a command is re-read and re-decided after a conflicting append.
pub const CONFLICT_RETRIES_MAX: usize = 3;

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
    #[error(transparent)]
    InvalidRequestId(#[from] InvalidRequestId),
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

impl From<RecordDecodeError> for CommandError {
    fn from(error: RecordDecodeError) -> Self {
        match error {
            RecordDecodeError::Erased { position } => CommandError::HistoryErased { position },
            RecordDecodeError::Undecodable(codec::Undecodable { position, source }) => {
                CommandError::Undecodable { position, source }
            }
        }
    }
}

impl From<HistoryError> for CommandError {
    fn from(error: HistoryError) -> Self {
        match error {
            HistoryError::Read(error) => CommandError::Read(error),
            HistoryError::Decode(error) => error.into(),
            HistoryError::Format(error) => CommandError::Format(error),
        }
    }
}

/// What a caller's check sees of a command: the request, and the state its decision will be
/// taken on. The check runs before the law decides, so a refusal tells nothing the decision
/// would have said.
#[derive(Debug, Clone, Copy)]
pub struct Folded<'a> {
    /// The request.
    pub request: &'a CommandRequest,
    /// The state folded from the command's boundary.
    pub state: &'a State,
}

/// Why a command recorded with a caller's check ([`Register::execute_with`]) was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum CheckedError<R> {
    /// The command failed as in [`Register::execute`]; handled as [`CommandError`] says.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The caller's check refused the command: nothing was decided or written. Handled by the
    /// caller (the HTTP API answers 403).
    #[error("the command was refused by the caller's check")]
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

impl<R> From<RecordDecodeError> for CheckedError<R> {
    fn from(error: RecordDecodeError) -> Self {
        CheckedError::Command(error.into())
    }
}

impl<R> From<HistoryError> for CheckedError<R> {
    fn from(error: HistoryError) -> Self {
        CheckedError::Command(error.into())
    }
}

impl<R> From<InvalidRequestId> for CheckedError<R> {
    fn from(error: InvalidRequestId) -> Self {
        CheckedError::Command(error.into())
    }
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
        let pass = |_: &Folded<'_>| Ok::<(), std::convert::Infallible>(());
        self.execute_with(request, &pass)
            .await
            .map_err(|error| match error {
                CheckedError::Command(error) => error,
                CheckedError::Refused(never) => match never {},
            })
    }

    /// As [`Register::execute`], with `check` run on the command and its folded state before
    /// every decision (after each re-read of a conflict too). A refusal decides and writes
    /// nothing. A retried request is answered from the ledger before any check: it was checked
    /// when it was recorded.
    ///
    /// # Errors
    /// [`CheckedError::Refused`] with the check's refusal, else [`CheckedError::Command`] as
    /// for [`Register::execute`].
    pub async fn execute_with<R>(
        &self,
        request: &CommandRequest,
        check: &(dyn Fn(&Folded<'_>) -> Result<(), R> + Sync),
    ) -> Result<CommandOutcome, CheckedError<R>> {
        let ids = RequestIds::derive(&request.recorder.actor_id, &request.request_id)?;
        let digest = request_digest(&request.recorder, &request.command);
        if let Some(outcome) = self.replay(&ids, &digest)? {
            return Ok(outcome);
        }
        let metadata = codec::metadata(
            &request.request_id,
            &request.recorder,
            request.command.name(),
            &digest,
        );
        let mut attempt = 0;
        loop {
            let history = LedgerHistory::now(&self.ledger);
            let boundary = boundary::read(&history, &request.command)?;
            check(&Folded {
                request,
                state: &boundary.state,
            })
            .map_err(CheckedError::Refused)?;
            let context = Context::new(request.today, request.recorder.actor);
            let decision = decide(&boundary.state, &request.command, &context)
                .map_err(CommandError::Rejected)?;
            let records = decision
                .events
                .iter()
                .enumerate()
                .map(|(index, event)| {
                    codec::new_record(metadata.clone(), ids.event_id(index), event)
                })
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(hook) = &self.before_append {
                hook(request).await;
            }
            let append = AppendRequest {
                records,
                condition: Some(Condition {
                    tags: codec::ledger_tags(&boundary.tags)?,
                    after: history.seen(),
                }),
                recorded_at: request.recorded_at,
            };
            match self.ledger.append(append).await {
                Ok(outcome) => {
                    assert_eq!(
                        outcome.records.len(),
                        decision.events.len(),
                        "the ledger appends every event of a decision, or none"
                    );
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
            let metadata = codec::read_metadata(&stored);
            if metadata.is_none_or(|metadata| metadata.request_digest != digest) {
                return Err(CommandError::RequestIdReused {
                    position: position.0,
                });
            }
            events.push(RecordedEvent {
                position: position.0,
                record_hash: stored.record_hash,
                event_id: stored.record.event_id,
                event: codec::decode(&stored)?,
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
}

#[cfg(test)]
mod tests {
    use residence_ledger::checkpoint::Origin;
    use residence_ledger::clock::ClockMode;
    use residence_ledger::keys::LedgerSecret;
    use residence_ledger::ledger::{LedgerConfig, Limits};
    use residence_ledger::store::memory::MemoryStore;

    use residence_domain::context::Actor;
    use residence_domain::ids::PersonId;

    use super::*;

    fn register() -> Register {
        let ledger = Ledger::open(LedgerConfig {
            store: Arc::new(MemoryStore::new()),
            tree_dir: None,
            checkpoint_dir: None,
            origin: Origin::new("residence-ledger/test").unwrap(),
            secret: LedgerSecret::from_bytes([3; 32]),
            blinded_kinds: codec::blinded_kinds(),
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
            let metadata = codec::read_metadata(&stored).unwrap();
            assert_eq!(metadata.request_id, "r-2");
            assert_eq!(metadata.command, "register_permanent");
        });
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
    fn a_refused_command_is_neither_decided_nor_written_and_a_passed_one_is_appended() {
        let register = register();
        runtime().block_on(async {
            register.execute(&request("r-1", RECORD_AN)).await.unwrap();
            let seen = std::sync::Mutex::new(Vec::new());
            // REGISTER_AN would be rejected by the law if it were decided without the person's
            // record; the check sees the command and the folded state, before any decision.
            let refuse = |folded: &Folded<'_>| {
                seen.lock().unwrap().push((
                    folded.request.command.name().to_owned(),
                    folded.state.person(PersonId::new(1)).is_some(),
                ));
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
            // The check saw the command and the state it would be decided on.
            assert_eq!(
                seen.lock().unwrap().as_slice(),
                [("register_permanent".to_owned(), true)]
            );
            // A refusal comes before the law: a command the law would reject is refused too.
            let error = register
                .execute_with(
                    &request(
                        "r-9",
                        &REGISTER_AN.replace("0000000000000001", "0000000000000009"),
                    ),
                    &refuse,
                )
                .await
                .unwrap_err();
            assert!(
                matches!(error, CheckedError::Refused("outside")),
                "{error:?}"
            );
            let pass = |_: &Folded<'_>| Ok::<(), &str>(());
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
            let events: Vec<(_, Event)> = records
                .iter()
                .map(|stored| (codec::event_id(stored), codec::decode(stored).unwrap()))
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
