//! The command endpoints: how officers, supervisors and the population database's feed record
//! the acts of the residence law.
//!
//! Why one endpoint per procedure: each procedure of the law is its own act with its own form
//! (CT01, CT03 …), and a URL per act shows in logs, metrics and the OpenAPI document what was
//! asked; the body carries the same JSON the domain reads, so nothing is translated twice.
//!
//! # `POST /v1/commands/{procedure}`
//! `{procedure}` is a command of the domain's catalogue ([`PROCEDURES`], the snake_case names
//! of `residence_domain::command::Command`). The body, with no other members:
//! ```json
//! {"request_id": "ct01-2026-000123", "command": {"person": "…", "effective_on": "2026-11-20", …}}
//! ```
//! `command` holds the fields of that command exactly as the domain reads them (unknown fields
//! are refused; optional ones may be left out). `request_id` (1 to 128 bytes) is the client's
//! idempotency key, scoped to the calling token. How the body is read and checked, and how ids
//! are minted, is [`envelope`](super::envelope)'s: the handlers here receive a
//! [`CommandEnvelope`] and record it.
//!
//! **201** when recorded:
//! ```json
//! {"events": [{"position": 7, "record_hash": "…", "event_id": "…",
//!              "event": {"type": "PermanentResidenceRegistered", "version": 1, "data": {…}}}],
//!  "warnings": [{"code": "household_head_vacated", "household": "…", "message": "…", "message_vi": "…"}],
//!  "replayed": false, "position": 7, "ids": {"dwelling": "…"}}
//! ```
//! `position` is the last event's (the position to wait for with `min_position` on a query);
//! `ids` lists the ids the server minted (below). **200** with the same events and
//! `"replayed": true` answers a retry of a recorded request: the original answer is found
//! before any rule runs and nothing is written (warnings are not stored, so a replay has none).
//!
//! # `POST /v1/commands` (batch)
//! `{"commands": [{"procedure": "record_person", "request_id": "…", "command": {…}}, …]}` with
//! 1 to [`BATCH_MAX`](super::BATCH_MAX) items. The items run one after the other, each on its
//! own as if posted alone (one failing does not stop or undo the others); **200** with
//! `{"results": [{"status": 201, "result": {…}}, {"status": 422, "error": {"code": …}}, …]}`,
//! one per item in order, `result` and `error` being exactly what the single endpoint answers.
//!
//! # New ids
//! The string `"new"` in an id field of the command object (`person`, `household`,
//! `new_household`, `dwelling`, `application`, `certificate`, or `household.establish.household`)
//! asks the server to mint the id, from the calling account, the request id and the field
//! (see [`envelope`](super::envelope) for the derivation), so a retry mints the same ids. The
//! minted ids come back in `ids`, keyed by field name.
//!
//! # Who may record
//! Officers, supervisors and the population database's feed; they record as the domain actors
//! `officer`, `superior_officer` and `population_database` ([`Role::actor`]). Which acts each
//! actor may record is the domain's (`residence_domain::decide::may_record`: the feed records
//! persons and PINs; only a supervisor annuls as the direct superior); it reads the command
//! alone, so it is asked as soon as the body is read, before the jurisdiction or any rule, and
//! a caller who may not record the act gets 403 `forbidden`, the answer of every other role
//! that may not do what it asks (the domain's own `actor_not_authorised` never reaches HTTP).
//! Auditors, courts and administrators never write: 403 `forbidden` before the body is read. Each record's metadata names the
//! actor, the token (`token:<id>`, pseudonymous) and, as the office, the caller's jurisdiction
//! (never the token's label, which may hold an officer's name and would be unerasable there).
//!
//! # Jurisdiction
//! An officer (communes) or a supervisor (provinces) may only record acts that the law of place
//! puts in their jurisdiction: which offices are competent for each procedure, with its
//! article, is the domain's (`residence_domain::jurisdiction::place`, read from the state the
//! command will be decided on, and `competent`, which reads a legacy ward as the 2025 communes
//! it went into). The population database's feed is national and is not checked.
//!
//! The check runs on the folded state **before** the law decides
//! ([`Register::execute_with`](residence_register::Register::execute_with)), after every
//! re-read of a conflict too. An act outside the jurisdiction decides and writes nothing and
//! answers 403 `outside_jurisdiction`, never a 422 that would describe another commune's people.
//! The answer names the unit at fault only when the command names it itself (the address it
//! registers, say); otherwise, and when the register shows no place for the act at all (the
//! check fails closed), it is the same message whatever the register holds
//! (`OutsideJurisdiction::as_told_to`). The attempt is written to the access log (action
//! `command.refused`, subject the person, household, dwelling or application it concerned,
//! purpose the procedure and the refusal as the server saw it, with the unit).
//!
//! # Errors
//! | status | code | when |
//! |---|---|---|
//! | 400 | `malformed_json` | the body is not JSON |
//! | 400 | `invalid_body` | a member missing, unknown or named twice, a wrong type, an invalid PIN, id, date or unit code, an unknown unit, a bad request id; the message names the field (`command.pin: …`) |
//! | 400 | `bad_request` | no `Content-Type: application/json`; a batch of 0 or more than [`BATCH_MAX`](super::BATCH_MAX) commands; two `Authorization` headers |
//! | 401 | `unauthenticated` | no valid bearer token |
//! | 403 | `forbidden` | a role that never records, or a role that may not record this act |
//! | 403 | `outside_jurisdiction` | see above |
//! | 404 | `not_found` | no such procedure |
//! | 409 | `request_id_reused` | the request id was used for other content (with `position`) |
//! | 409 | `conflict` | other changes to the same persons or households kept winning (after [`CONFLICT_RETRIES_MAX`](residence_register::CONFLICT_RETRIES_MAX) re-decisions; with `position`) |
//! | 409 | `history_erased` | a record the decision needs was erased |
//! | 408 | `body_timeout` | the body did not arrive within [`BODY_READ_TIMEOUT`](super::BODY_READ_TIMEOUT) of the headers |
//! | 413 | `body_too_large` | a body over [`BODY_BYTES_MAX`](super::BODY_BYTES_MAX) |
//! | 422 | the rejection's code | a rule of the law said no (`message` and `message_vi`); a legacy unit after 2025-06-30 is `unit_not_valid_on_date` |
//! | 503 | `unavailable` | the ledger cannot write |

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use residence_domain::command::Command;
use residence_domain::decide::{Warning, may_record};
use residence_domain::event::EventEnvelope;
use residence_domain::jurisdiction::{self, OutsideJurisdiction};
use serde::Serialize;
use serde_json::{Map, Value};

use super::AppState;
use super::envelope::{CommandEnvelope, JsonBytes, batch_item, batch_items, json_value};
use super::error::ApiError;
use crate::access_log::Purpose;
use crate::auth::{Principal, Role};
use residence_register::execute::Folded;
use residence_register::{CheckedError, CommandOutcome, CommandRequest, RecordedEvent, Recorder};

/// The catalogue of procedures (the URL segments of the single endpoint) and the id value that
/// asks for minting, declared with the envelope that reads them.
pub use super::envelope::{NEW_ID, PROCEDURES};

/// The roles that record commands.
pub const RECORDING_ROLES: [Role; 3] = [Role::Officer, Role::Supervisor, Role::PopulationDatabase];

/// The most jurisdiction entries named in a record's `office` metadata.
const OFFICE_ENTRIES_MAX: usize = 8;

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/commands", post(batch))
        .route("/v1/commands/{procedure}", post(single))
}

/// `POST /v1/commands/{procedure}`. The caller's role is checked before the envelope's errors
/// are looked at: a caller who may not record learns nothing about their body.
async fn single(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    envelope: Result<CommandEnvelope, ApiError>,
) -> Result<Response, ApiError> {
    let recorder = recorder(&principal)?;
    let answer = record(&state, &principal, &recorder, envelope?).await?;
    Ok(answer.into_response())
}

/// `POST /v1/commands`.
async fn batch(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    body: Result<JsonBytes, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let recorder = recorder(&principal)?;
    let JsonBytes(bytes) = body?;
    let items = batch_items(json_value(&bytes)?)?;
    let mut results = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let answer = match batch_item(index, item, &recorder.actor_id) {
            Ok(envelope) => record(&state, &principal, &recorder, envelope).await,
            Err(error) => Err(error),
        };
        let mut result = Map::new();
        match answer {
            Ok(answer) => {
                let (status, body) = answer.value();
                result.insert("status".into(), status.as_u16().into());
                result.insert("result".into(), body);
            }
            Err(error) => {
                result.insert("status".into(), error.status().as_u16().into());
                result.insert("error".into(), error_body(&error));
            }
        }
        results.push(Value::Object(result));
    }
    let mut body = Map::new();
    body.insert("results".into(), Value::Array(results));
    Ok(Json(Value::Object(body)))
}

/// A recorded (or replayed) command's answer.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    outcome: CommandOutcome,
    ids: BTreeMap<String, String>,
}

impl Answer {
    /// The answer as the single endpoint sends it: the body written straight to bytes, with the
    /// same members in the same order as the JSON value of [`Answer::value`] (serde_json's
    /// objects sort their members by name).
    fn into_response(self) -> Response {
        let mut bytes = Vec::with_capacity(1024);
        match serde_json::to_writer(&mut bytes, &self.response()) {
            Ok(()) => (
                self.status,
                [(header::CONTENT_TYPE, "application/json")],
                bytes,
            )
                .into_response(),
            Err(error) => {
                // The events are recorded: the client retries and gets the replayed answer.
                tracing::error!(%error, "serialising a command response failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(error_body(&ApiError::Internal)),
                )
                    .into_response()
            }
        }
    }

    /// The answer as a batch item holds it: its status and its body as a JSON value.
    fn value(&self) -> (StatusCode, Value) {
        match serde_json::to_value(self.response()) {
            Ok(body) => (self.status, body),
            Err(error) => {
                tracing::error!(%error, "serialising a command response failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    error_body(&ApiError::Internal),
                )
            }
        }
    }

    fn response(&self) -> CommandResponse<'_> {
        CommandResponse {
            events: self.outcome.events.iter().map(EventBody).collect(),
            ids: &self.ids,
            position: self.outcome.events.last().map(|event| event.position),
            replayed: self.outcome.replayed,
            warnings: self.outcome.warnings.iter().map(WarningValue).collect(),
        }
    }
}

/// The JSON of a recorded command. Its members (and those of each event) are declared in the
/// order of their names: the body is written directly, and must read exactly as the JSON value
/// it was first built as (serde_json's objects sort their members).
#[derive(Debug, Serialize)]
struct CommandResponse<'a> {
    events: Vec<EventBody<'a>>,
    ids: &'a BTreeMap<String, String>,
    position: Option<u64>,
    replayed: bool,
    warnings: Vec<WarningValue<'a>>,
}

/// A warning of a command's answer with its messages. Its members are the domain's (declared
/// in no particular order): they are sorted through a JSON value.
#[derive(Debug)]
struct WarningValue<'a>(&'a Warning);

impl Serialize for WarningValue<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let warning = self.0;
        serde_json::to_value(WarningBody {
            warning,
            message: warning.message_en(),
            message_vi: warning.message_vi(),
        })
        .map_err(serde::ser::Error::custom)?
        .serialize(serializer)
    }
}

/// One recorded event of a command's answer, its members in the order of their names.
#[derive(Debug)]
struct EventBody<'a>(&'a RecordedEvent);

impl Serialize for EventBody<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let recorded = self.0;
        // The event's own members are the domain's (declared in no particular order): they
        // are sorted through a JSON value.
        let event = serde_json::to_value(EventEnvelope::new(recorded.event.clone()))
            .map_err(serde::ser::Error::custom)?;
        let mut members = serializer.serialize_struct("RecordedEvent", 4)?;
        members.serialize_field("event", &event)?;
        members.serialize_field("event_id", &recorded.event_id)?;
        members.serialize_field("position", &recorded.position)?;
        members.serialize_field("record_hash", &recorded.record_hash)?;
        members.end()
    }
}

/// A warning with its messages.
#[derive(Debug, Serialize)]
struct WarningBody<'a> {
    #[serde(flatten)]
    warning: &'a Warning,
    message: String,
    message_vi: String,
}

/// Checks the jurisdiction of and records one read command.
async fn record(
    state: &AppState,
    principal: &Principal,
    recorder: &Recorder,
    envelope: CommandEnvelope,
) -> Result<Answer, ApiError> {
    let CommandEnvelope {
        procedure,
        request_id,
        command,
        ids,
    } = envelope;
    // Say no before saying why: a caller who may not record this act at all learns nothing
    // about the register (no jurisdiction check, no rule is run).
    if !may_record(&command, recorder.actor) {
        return Err(ApiError::Forbidden(format!(
            "the {} role may not record {procedure}",
            principal.role
        )));
    }
    let request = CommandRequest {
        request_id,
        command,
        recorder: recorder.clone(),
        today: state.today(),
        recorded_at: None,
    };
    let check = |folded: &Folded<'_>| check_jurisdiction(principal, folded);
    let outcome = match state.register.execute_with(&request, &check).await {
        Ok(outcome) => outcome,
        Err(CheckedError::Command(error)) => return Err(ApiError::from(error)),
        Err(CheckedError::Refused(outside)) => {
            // The attempt is accountable like a read; the log keeps the refusal as the server
            // saw it (with the unit at fault), the caller is told only what it named.
            let purpose = Purpose(format!(
                "{} refused: {}",
                request.command.name(),
                outside.message_en()
            ));
            state
                .access
                .record(
                    principal,
                    "command.refused",
                    &refused_subject(&request.command),
                    format!("request {}", request.request_id),
                    &purpose,
                )
                .await?;
            return Err(ApiError::OutsideJurisdiction(
                outside.as_told_to(&request.command),
            ));
        }
    };
    let status = if outcome.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(Answer {
        status,
        outcome,
        ids,
    })
}

/// Refuses an officer's or supervisor's command at a place outside their jurisdiction, on the
/// state the command will be decided on and before it is: the law of place is the domain's
/// (`residence_domain::jurisdiction`). The population database's feed is national.
fn check_jurisdiction(
    principal: &Principal,
    folded: &Folded<'_>,
) -> Result<(), OutsideJurisdiction> {
    if !matches!(principal.role, Role::Officer | Role::Supervisor) {
        return Ok(());
    }
    let command = &folded.request.command;
    let place = jurisdiction::place(command, folded.state, folded.request.today);
    jurisdiction::competent(&principal.jurisdiction, &place)
}

/// The access-log subject of a refused command: the person it concerns, else its household,
/// dwelling or application (the narrow tags it would have been decided on), else the ledger.
fn refused_subject(command: &Command) -> String {
    let tags = command.read_tags();
    ["person", "household", "dwelling", "application", "pin"]
        .iter()
        .find_map(|kind| {
            tags.iter()
                .map(ToString::to_string)
                .find(|tag| tag.split(':').next() == Some(kind))
        })
        .unwrap_or_else(|| "ledger".to_owned())
}

/// The recorder of a caller allowed to record.
fn recorder(principal: &Principal) -> Result<Recorder, ApiError> {
    principal.require(&RECORDING_ROLES)?;
    let actor = principal.role.actor().ok_or_else(|| {
        ApiError::Forbidden(format!("the {} role may not record", principal.role))
    })?;
    let office = match principal.role {
        Role::Officer | Role::Supervisor => {
            // The first entries of `Jurisdiction::entries` (communes, then provinces), written
            // without building the whole list: a national supervisor holds every province.
            let jurisdiction = &principal.jurisdiction;
            let count = jurisdiction.communes.len() + jurisdiction.provinces.len();
            let mut office = String::new();
            let communes = jurisdiction
                .communes
                .iter()
                .map(|commune| (None, commune as &dyn std::fmt::Display));
            let provinces = jurisdiction
                .provinces
                .iter()
                .map(|province| (Some("province:"), province as &dyn std::fmt::Display));
            for (index, (prefix, entry)) in communes
                .chain(provinces)
                .take(OFFICE_ENTRIES_MAX)
                .enumerate()
            {
                if index > 0 {
                    office.push(',');
                }
                write!(office, "{}{entry}", prefix.unwrap_or_default())
                    .expect("writing to a String cannot fail");
            }
            if count > OFFICE_ENTRIES_MAX {
                write!(office, ",+{}", count - OFFICE_ENTRIES_MAX)
                    .expect("writing to a String cannot fail");
            }
            Some(office)
        }
        _ => None,
    };
    Ok(Recorder {
        actor,
        actor_id: principal.actor_id(),
        office,
    })
}

/// The JSON error body of `error`, as its response carries it (for batch items).
fn error_body(error: &ApiError) -> Value {
    serde_json::to_value(error.body()).expect("an error body of strings and numbers is JSON")
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;

    use super::*;

    #[test]
    fn an_answer_is_written_as_the_json_value_it_was_first_built_as() {
        use chrono::NaiveDate;
        use residence_domain::context::{Actor, Context};
        use residence_domain::decide::decide;
        use residence_domain::state::State as DecisionState;
        // A PIN with an unknown province prefix: one event and one warning.
        let command: Command = serde_json::from_value(serde_json::json!({"record_person": {
            "person": "0000000000000001", "pin": "999090012345", "name": "Nguyễn Văn An",
            "birth_date": "1990-05-01", "sex": "male"}}))
        .expect("a valid command");
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("a date");
        let decision = decide(
            &DecisionState::default(),
            &command,
            &Context::new(today, Actor::PopulationDatabase),
        )
        .expect("recorded");
        assert!(!decision.warnings.is_empty(), "the example has a warning");
        let events: Vec<RecordedEvent> = decision
            .events
            .into_iter()
            .enumerate()
            .map(|(index, event)| RecordedEvent {
                position: 40 + index as u64,
                record_hash: residence_ledger::hash::Hash([index as u8 + 1; 32]),
                event_id: residence_ledger::record::EventId([7; 16]),
                event,
            })
            .collect();
        let ids: BTreeMap<String, String> =
            [("person".to_owned(), "00000000000000aa".to_owned())].into();
        for replayed in [false, true] {
            let outcome = CommandOutcome {
                events: events.clone(),
                warnings: decision.warnings.clone(),
                replayed,
            };
            // The body as first built: a struct in another member order, through a JSON value.
            #[derive(Serialize)]
            struct First<'a> {
                events: &'a [RecordedEvent],
                warnings: Vec<WarningBody<'a>>,
                replayed: bool,
                position: Option<u64>,
                ids: &'a BTreeMap<String, String>,
            }
            let first = serde_json::to_value(First {
                events: &outcome.events,
                warnings: outcome
                    .warnings
                    .iter()
                    .map(|warning| WarningBody {
                        warning,
                        message: warning.message_en(),
                        message_vi: warning.message_vi(),
                    })
                    .collect(),
                replayed,
                position: outcome.events.last().map(|event| event.position),
                ids: &ids,
            })
            .expect("serialises");
            let expected = serde_json::to_vec(&first).expect("serialises");
            let answer = Answer {
                status: StatusCode::CREATED,
                outcome,
                ids: ids.clone(),
            };
            assert_eq!(answer.value().1, first);
            let response = answer.into_response();
            assert_eq!(response.status(), StatusCode::CREATED);
            assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
            let bytes = futures_body(response);
            assert_eq!(
                String::from_utf8_lossy(&bytes),
                String::from_utf8_lossy(&expected)
            );
        }
    }

    /// The API's refusal of an actor (403 before deciding) and the domain's
    /// (`actor_not_authorised` from `decide`) are one rule: for every procedure of the catalogue,
    /// each variant the rule reads (a ground's source, an annulment's authority) and every
    /// actor, `may_record` says no exactly when `decide` refuses the actor.
    #[test]
    fn the_actor_check_asked_before_deciding_agrees_with_decide_for_every_procedure() {
        use chrono::NaiveDate;
        use residence_domain::context::{Actor, Context};
        use residence_domain::decide::decide;
        use residence_domain::rejection::Rejection;
        use residence_domain::state::State as DecisionState;
        // Every example is dated before this day, so `decide` judges the actor first.
        let today = NaiveDate::from_ymd_opt(2030, 1, 1).expect("a date");
        let actors = [
            Actor::Officer,
            Actor::SuperiorOfficer,
            Actor::PopulationDatabase,
            Actor::RegisterTimer,
            Actor::Import,
        ];
        let examples = crate::http::docs::command_examples();
        let mut commands = Vec::new();
        // Ids the server would mint, given.
        fn concrete(value: &Value) -> Value {
            match value {
                Value::String(text) if text == NEW_ID => "00000000000000aa".into(),
                Value::Object(members) => Value::Object(
                    members
                        .iter()
                        .map(|(key, member)| (key.clone(), concrete(member)))
                        .collect(),
                ),
                Value::Array(items) => Value::Array(items.iter().map(concrete).collect()),
                other => other.clone(),
            }
        }
        for procedure in PROCEDURES {
            let example = &concrete(&examples[procedure]);
            let variants: Vec<Value> = match procedure {
                "record_deletion_ground" => ["TIMER", "POPULATION_DATABASE", "REPORT"]
                    .iter()
                    .map(|source| {
                        let mut example = example.clone();
                        example["source"] = (*source).into();
                        example
                    })
                    .collect(),
                "annul_registration" => ["REGISTERING_OFFICE", "DIRECT_SUPERIOR"]
                    .iter()
                    .map(|authority| {
                        let mut example = example.clone();
                        example["decided_by"] = (*authority).into();
                        example
                    })
                    .collect(),
                _ => vec![example.clone()],
            };
            for variant in variants {
                let command: Command =
                    serde_json::from_value(serde_json::json!({ procedure: variant }))
                        .unwrap_or_else(|error| panic!("{procedure}: {error}"));
                commands.push((procedure, command));
            }
        }
        let mut refused = 0;
        for (procedure, command) in &commands {
            for actor in actors {
                let decided = decide(
                    &DecisionState::default(),
                    command,
                    &Context::new(today, actor),
                );
                let refused_by_decide =
                    matches!(decided, Err(Rejection::ActorNotAuthorised { .. }));
                assert_eq!(
                    !may_record(command, actor),
                    refused_by_decide,
                    "{procedure} by {actor:?}: {decided:?}"
                );
                refused += usize::from(refused_by_decide);
            }
        }
        assert!(commands.len() > PROCEDURES.len());
        // The rule refuses someone for every procedure but the ones any office may record.
        assert!(refused > PROCEDURES.len(), "{refused} refusals");
    }

    /// The whole body of a response.
    fn futures_body(response: Response) -> Bytes {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
            .expect("a body")
    }
}
