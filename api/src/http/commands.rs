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
//! idempotency key, scoped to the calling token.
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
//! 1 to [`BATCH_MAX`] items. The items run one after the other, each on its own as if posted
//! alone (one failing does not stop or undo the others); **200** with
//! `{"results": [{"status": 201, "result": {…}}, {"status": 422, "error": {"code": …}}, …]}`,
//! one per item in order, `result` and `error` being exactly what the single endpoint answers.
//!
//! # New ids
//! Persons, households, dwellings, applications and certificates are keyed by pseudonymous
//! ids that the caller allocates (the domain never invents one). A client need not: the string
//! `"new"` in one of the fields `person`, `household`, `new_household`, `dwelling`,
//! `application` or `certificate` of the command object, or in `household.establish.household`
//! (a registration founding a household), is replaced by an id the server mints as the first 16
//! hex digits of `blake3::derive_key("residence-api v1 minted id", actor_id ‖ request_id ‖
//! field path)` (each part length-prefixed). A retry of the request mints the same ids, so it
//! is replayed like any other. The minted ids come back in `ids`, keyed by field name
//! (`household` for the founded household). An id minted for a field that must name an
//! existing thing (the person of a registration) names nothing, and the domain refuses it.
//!
//! # Who may record
//! Officers, supervisors and the population database's feed; they record as the domain actors
//! `officer`, `superior_officer` and `population_database` ([`Role::actor`]), and the domain
//! decides which acts each actor may do (the feed records persons and PINs; only a supervisor
//! annuls as the direct superior), answering 422 `actor_not_authorised` otherwise. Auditors,
//! courts and administrators never write: 403 `forbidden`. Each record's metadata names the
//! actor, the token (`token:<id>`, pseudonymous) and, as the office, the caller's jurisdiction
//! (never the token's label, which may hold an officer's name and would be unerasable there).
//!
//! # Jurisdiction
//! An officer (communes) or a supervisor (provinces) may only record acts at addresses in their
//! jurisdiction (`Jurisdiction::covers`, which reads a legacy ward as the 2025 communes it went
//! into). The population database's feed is national and is not checked. Which units an act is
//! at is decided on the command's **decision**, before anything is appended
//! ([`Register::execute_with`](crate::register::Register::execute_with)), because for most acts
//! on an existing registration only the register knows where it is. The units of a command:
//!
//! | command | units (every one must be covered) |
//! |---|---|
//! | `register_permanent`, `register_temporary`, `declare_current_residence`, `refuse_residence_declaration`, `update_current_address`, `record_dwelling_restriction` | the unit of its `address` |
//! | `notify_stay` | the unit of `host_address` |
//! | `recode_address` | the dwelling's old unit and the new one (the `unit:` tags of its event) |
//! | `delete_permanent`, `delete_temporary`, `split_household` | the unit of the registration deleted or of the household split, as its event records it (the `unit:` tag of that event) |
//! | `annul_registration` | the unit of the registration annulled, as shown now |
//! | `extend_temporary` | the unit of the temporary registration extended, as shown now |
//! | `change_head`, `change_member_relationship`, `revoke_legacy_book` | the household's unit |
//! | `lift_dwelling_restriction` | the dwelling's unit on `effective_on` |
//! | `correct_event` | the units of the corrected event and of its replacement (their `unit:` tags; for events without one, the units of their households, else dwellings, else as for a person below) |
//! | `apply_reorganisation` | every province of the 2025 map (it converts every address) |
//!
//! Acts about a person rather than an address are recorded at any place where the person
//! resides on the act's date; **one** of these units must be covered:
//! `declare_temporary_absence` (the permanent or temporary registration, Art 31.2),
//! `record_deletion_ground` (the registration of the ground's kind) and `adjust_civil_status`
//! (either registration or an Art 19 declaration; a person with none may be adjusted anywhere).
//!
//! Not bound to a place: `record_person` and `reassign_pin` (facts of the national population
//! database), the intake slips `receive_application`, `request_completion` and
//! `refuse_application` (an office answers what it received), and
//! `issue_residence_confirmation` (CT07 is issued by any office nationwide, TT55 Art 17).
//!
//! Only the command's own target counts, never the consequences the law attaches to it:
//! registering a permanent residence at B closes the person's registration at A (and may name
//! a new head there, or end a temporary registration), and the officer at B is entitled to that
//! without holding A. Likewise a deletion for death ends the person's other registration.
//!
//! An act outside the jurisdiction writes nothing and answers 403 `outside_jurisdiction` naming
//! the first unit not covered. A unit that cannot be determined (which a successful decision
//! rules out) is refused the same way: the check fails closed.
//!
//! # Errors
//! | status | code | when |
//! |---|---|---|
//! | 400 | `malformed_json` | the body is not JSON |
//! | 400 | `invalid_body` | a member missing or unknown, a wrong type, an invalid PIN, id, date or unit code, an unknown unit, a bad request id; the message names the field (`command.pin: …`) |
//! | 400 | `bad_request` | no `Content-Type: application/json`; a batch of 0 or more than [`BATCH_MAX`] commands |
//! | 401 | `unauthenticated` | no valid bearer token |
//! | 403 | `forbidden` | a role that never records |
//! | 403 | `outside_jurisdiction` | see above |
//! | 404 | `not_found` | no such procedure |
//! | 409 | `request_id_reused` | the request id was used for other content (with `position`) |
//! | 409 | `conflict` | other changes to the same persons or households kept winning (after [`CONFLICT_RETRIES_MAX`](crate::register::CONFLICT_RETRIES_MAX) re-decisions; with `position`) |
//! | 409 | `history_erased` | a record the decision needs was erased |
//! | 413 | `body_too_large` | a body over [`BODY_BYTES_MAX`](super::BODY_BYTES_MAX) |
//! | 422 | the rejection's code | a rule of the law said no (`message` and `message_vi`); a legacy unit after 2025-06-30 is `unit_not_valid_on_date` |
//! | 503 | `unavailable` | the ledger cannot write |

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::NaiveDate;
use residence_domain::address::Address;
use residence_domain::command::Command;
use residence_domain::decide::Warning;
use residence_domain::event::{DeletionGround, Event};
use residence_domain::ids::{DwellingId, HouseholdId, PersonId};
use residence_domain::state::State as DecisionState;
use residence_domain::tag::Tag;
use residence_domain::units::{Scheme, UnitRef, registry};
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::{AppState, BATCH_MAX};
use crate::auth::{Principal, Role};
use crate::register::{
    CheckedError, CommandOutcome, CommandRequest, Decided, REQUEST_ID_BYTES_MAX, RecordedEvent,
    Recorder,
};

/// Every procedure of the domain's catalogue, by its snake_case name (its URL segment).
pub const PROCEDURES: [&str; 28] = [
    "record_person",
    "receive_application",
    "request_completion",
    "refuse_application",
    "register_permanent",
    "register_temporary",
    "extend_temporary",
    "delete_permanent",
    "delete_temporary",
    "record_dwelling_restriction",
    "lift_dwelling_restriction",
    "record_deletion_ground",
    "annul_registration",
    "split_household",
    "change_head",
    "change_member_relationship",
    "adjust_civil_status",
    "declare_current_residence",
    "refuse_residence_declaration",
    "update_current_address",
    "notify_stay",
    "declare_temporary_absence",
    "recode_address",
    "apply_reorganisation",
    "revoke_legacy_book",
    "issue_residence_confirmation",
    "reassign_pin",
    "correct_event",
];

/// The roles that record commands.
pub const RECORDING_ROLES: [Role; 3] = [Role::Officer, Role::Supervisor, Role::PopulationDatabase];

/// The value of an id field that asks the server to mint the id.
pub const NEW_ID: &str = "new";

/// The top-level fields of a command object whose `"new"` is minted.
const MINTED_FIELDS: [&str; 6] = [
    "person",
    "household",
    "new_household",
    "dwelling",
    "application",
    "certificate",
];

/// The most jurisdiction entries named in a record's `office` metadata.
const OFFICE_ENTRIES_MAX: usize = 8;

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/commands", post(batch))
        .route("/v1/commands/{procedure}", post(single))
}

/// `POST /v1/commands/{procedure}`.
async fn single(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    procedure: Result<Path<String>, PathRejection>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let recorder = recorder(&principal)?;
    let Path(procedure) = procedure?;
    let procedure = find_procedure(&procedure)?;
    let Json(body) = body?;
    let (request_id, command) = envelope(body)?;
    let answer = run(
        &state, &principal, &recorder, procedure, request_id, command,
    )
    .await?;
    Ok((answer.status, Json(answer.body)).into_response())
}

/// `POST /v1/commands`.
async fn batch(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let recorder = recorder(&principal)?;
    let Json(body) = body?;
    let items = batch_items(body)?;
    let mut results = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let answer = match batch_item(index, item) {
            Ok((procedure, request_id, command)) => {
                run(
                    &state, &principal, &recorder, procedure, request_id, command,
                )
                .await
            }
            Err(error) => Err(error),
        };
        let mut result = Map::new();
        match answer {
            Ok(answer) => {
                result.insert("status".into(), answer.status.as_u16().into());
                result.insert("result".into(), answer.body);
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
    body: Value,
}

/// The JSON of a recorded command.
#[derive(Debug, Serialize)]
struct CommandResponse<'a> {
    events: &'a [RecordedEvent],
    warnings: Vec<WarningBody<'a>>,
    replayed: bool,
    position: Option<u64>,
    ids: &'a BTreeMap<String, String>,
}

/// A warning with its messages.
#[derive(Debug, Serialize)]
struct WarningBody<'a> {
    #[serde(flatten)]
    warning: &'a Warning,
    message: String,
    message_vi: String,
}

/// Mints ids, parses, checks and records one command.
async fn run(
    state: &AppState,
    principal: &Principal,
    recorder: &Recorder,
    procedure: &'static str,
    request_id: String,
    mut command: Map<String, Value>,
) -> Result<Answer, ApiError> {
    if request_id.is_empty() || request_id.len() > REQUEST_ID_BYTES_MAX {
        return Err(ApiError::InvalidBody(format!(
            "request_id must be 1 to {REQUEST_ID_BYTES_MAX} bytes"
        )));
    }
    let ids = mint_ids(&recorder.actor_id, &request_id, &mut command);
    let command = parse_command(procedure, command)?;
    let request = CommandRequest {
        request_id,
        command,
        recorder: recorder.clone(),
        today: state.today(),
        recorded_at: None,
    };
    let check = |decided: &Decided<'_>| check_jurisdiction(principal, decided);
    let outcome = state
        .register
        .execute_with(&request, &check)
        .await
        .map_err(|error| match error {
            CheckedError::Command(error) => ApiError::from(error),
            CheckedError::Refused(error) => error,
        })?;
    Ok(answer(&outcome, &ids))
}

/// The response to a recorded or replayed command.
fn answer(outcome: &CommandOutcome, ids: &BTreeMap<String, String>) -> Answer {
    let response = CommandResponse {
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
        replayed: outcome.replayed,
        position: outcome.events.last().map(|event| event.position),
        ids,
    };
    let status = if outcome.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    match serde_json::to_value(&response) {
        Ok(body) => Answer { status, body },
        Err(error) => {
            // The events are recorded: the client retries and gets the replayed answer.
            tracing::error!(%error, "serialising a command response failed");
            Answer {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                body: error_body(&ApiError::Internal),
            }
        }
    }
}

/// The recorder of a caller allowed to record.
fn recorder(principal: &Principal) -> Result<Recorder, ApiError> {
    principal.require(&RECORDING_ROLES)?;
    let actor = principal.role.actor().ok_or_else(|| {
        ApiError::Forbidden(format!("the {} role may not record", principal.role))
    })?;
    let office = match principal.role {
        Role::Officer | Role::Supervisor => {
            let entries = principal.jurisdiction.entries();
            let mut office = entries
                .iter()
                .take(OFFICE_ENTRIES_MAX)
                .cloned()
                .collect::<Vec<_>>()
                .join(",");
            if entries.len() > OFFICE_ENTRIES_MAX {
                office.push_str(&format!(",+{}", entries.len() - OFFICE_ENTRIES_MAX));
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

/// The catalogue's name for `procedure`.
fn find_procedure(procedure: &str) -> Result<&'static str, ApiError> {
    PROCEDURES
        .iter()
        .find(|known| **known == procedure)
        .copied()
        .ok_or_else(|| {
            let shown: String = procedure.chars().take(64).collect();
            ApiError::NotFound(format!(
                "no procedure named {shown:?}; the catalogue is in /openapi.json"
            ))
        })
}

/// Splits `{"request_id": …, "command": {…}}`.
fn envelope(body: Value) -> Result<(String, Map<String, Value>), ApiError> {
    let Value::Object(members) = body else {
        return Err(ApiError::InvalidBody(
            "the body must be an object with request_id and command".to_owned(),
        ));
    };
    let (request_id, command) = request_members(members, &["request_id", "command"], "")?;
    Ok((request_id, command))
}

/// Splits `{"commands": [...]}` into its items.
fn batch_items(body: Value) -> Result<Vec<Value>, ApiError> {
    let Value::Object(mut members) = body else {
        return Err(ApiError::InvalidBody(
            "the body must be an object with commands".to_owned(),
        ));
    };
    if let Some(unknown) = members.keys().find(|key| *key != "commands") {
        return Err(ApiError::InvalidBody(format!(
            "unknown field `{unknown}`, expected `commands`"
        )));
    }
    let Some(commands) = members.remove("commands") else {
        return Err(ApiError::InvalidBody("missing field `commands`".to_owned()));
    };
    let Value::Array(items) = commands else {
        return Err(ApiError::InvalidBody(
            "commands: expected an array".to_owned(),
        ));
    };
    if items.is_empty() || items.len() > BATCH_MAX {
        return Err(ApiError::BadRequest(format!(
            "a batch holds 1 to {BATCH_MAX} commands, got {}",
            items.len()
        )));
    }
    Ok(items)
}

/// Splits one batch item `{"procedure": …, "request_id": …, "command": {…}}`.
fn batch_item(
    index: usize,
    item: Value,
) -> Result<(&'static str, String, Map<String, Value>), ApiError> {
    let at = format!("commands[{index}].");
    let Value::Object(mut members) = item else {
        return Err(ApiError::InvalidBody(format!(
            "commands[{index}]: expected an object with procedure, request_id and command"
        )));
    };
    let procedure = match members.remove("procedure") {
        Some(Value::String(procedure)) => find_procedure(&procedure)?,
        Some(_) => {
            return Err(ApiError::InvalidBody(format!(
                "{at}procedure: expected a string"
            )));
        }
        None => return Err(missing(&at, "procedure")),
    };
    let (request_id, command) = request_members(members, &["request_id", "command"], &at)?;
    Ok((procedure, request_id, command))
}

/// Takes `request_id` (a string) and `command` (an object) from `members`, refusing others.
fn request_members(
    mut members: Map<String, Value>,
    expected: &[&str],
    at: &str,
) -> Result<(String, Map<String, Value>), ApiError> {
    if let Some(unknown) = members.keys().find(|key| !expected.contains(&key.as_str())) {
        return Err(ApiError::InvalidBody(format!(
            "{at}{unknown}: unknown field, expected `request_id` and `command`"
        )));
    }
    let request_id = match members.remove("request_id") {
        Some(Value::String(request_id)) => request_id,
        Some(_) => {
            return Err(ApiError::InvalidBody(format!(
                "{at}request_id: expected a string"
            )));
        }
        None => return Err(missing(at, "request_id")),
    };
    let command = match members.remove("command") {
        Some(Value::Object(command)) => command,
        Some(_) => {
            return Err(ApiError::InvalidBody(format!(
                "{at}command: expected an object"
            )));
        }
        None => return Err(missing(at, "command")),
    };
    Ok((request_id, command))
}

/// A missing member `field` of the object at `at` (empty or ending with a dot).
fn missing(at: &str, field: &str) -> ApiError {
    let at = at.trim_end_matches('.');
    if at.is_empty() {
        ApiError::InvalidBody(format!("missing field `{field}`"))
    } else {
        ApiError::InvalidBody(format!("{at}: missing field `{field}`"))
    }
}

/// Replaces every `"new"` id of the command (see the module documentation) by a minted one;
/// returns the minted ids by field name.
fn mint_ids(
    actor_id: &str,
    request_id: &str,
    command: &mut Map<String, Value>,
) -> BTreeMap<String, String> {
    let mut minted = BTreeMap::new();
    for field in MINTED_FIELDS {
        if let Some(value) = command.get_mut(field)
            && value.as_str() == Some(NEW_ID)
        {
            let id = mint(actor_id, request_id, field);
            *value = Value::String(id.clone());
            minted.insert(field.to_owned(), id);
        }
    }
    if let Some(Value::Object(choice)) = command.get_mut("household")
        && let Some(Value::Object(establish)) = choice.get_mut("establish")
        && let Some(value) = establish.get_mut("household")
        && value.as_str() == Some(NEW_ID)
    {
        let id = mint(actor_id, request_id, "household.establish.household");
        *value = Value::String(id.clone());
        minted.insert("household".to_owned(), id);
    }
    minted
}

/// The id minted for `field` of request `request_id` by `actor_id`: 16 hex digits.
fn mint(actor_id: &str, request_id: &str, field: &str) -> String {
    let mut material = Vec::with_capacity(actor_id.len() + request_id.len() + field.len() + 24);
    for part in [actor_id, request_id, field] {
        material.extend_from_slice(&(part.len() as u64).to_le_bytes());
        material.extend_from_slice(part.as_bytes());
    }
    let key = blake3::derive_key("residence-api v1 minted id", &material);
    hex::encode(&key[..8])
}

/// Reads the command object as the domain's `procedure` command.
///
/// The domain's own deserialisers do every check of form (ids, PINs, dates, unit codes, NFC
/// text, unknown fields); axum's JSON reader tracks the path of the value at fault, which is
/// reported from `command.` on. A well-formed unit code that the administrative map does not
/// have is refused here too, with its path: it is a typing error, not a rule of the law.
fn parse_command(
    procedure: &'static str,
    command: Map<String, Value>,
) -> Result<Command, ApiError> {
    let mut wrapper = Map::new();
    wrapper.insert(procedure.to_owned(), Value::Object(command));
    let wrapper = Value::Object(wrapper);
    let bytes = serde_json::to_vec(&wrapper).map_err(|error| {
        tracing::error!(%error, "re-serialising a command failed");
        ApiError::Internal
    })?;
    let Json(parsed) =
        Json::<Command>::from_bytes(&bytes).map_err(|rejection| match rejection {
            JsonRejection::JsonDataError(error) => {
                ApiError::InvalidBody(data_error_text(procedure, &error.body_text()))
            }
            other => ApiError::from(other),
        })?;
    if let Some(command) = wrapper.get(procedure) {
        let mut path = "command".to_owned();
        if let Some((path, unit)) = unknown_unit(command, &mut path) {
            return Err(ApiError::InvalidBody(format!(
                "{path}: unknown administrative unit {unit}"
            )));
        }
    }
    Ok(parsed)
}

/// The useful part of axum's data-error text, with the path from `command` on: axum writes
/// "Failed to deserialize the JSON body into the target type: register_permanent.pin: …
/// at line 1 column 57", whose position is in the re-serialised text, not the client's.
fn data_error_text(procedure: &str, text: &str) -> String {
    let detail = text
        .split_once("target type: ")
        .map_or(text, |(_, detail)| detail);
    let detail = detail
        .rfind(" at line ")
        .and_then(|end| detail.get(..end))
        .unwrap_or(detail);
    match detail.strip_prefix(procedure) {
        Some(rest) => format!("command{rest}"),
        None => detail.to_owned(),
    }
}

/// The first `unit` member (at `path`) holding a well-formed unit code that the administrative
/// map does not have.
fn unknown_unit(value: &Value, path: &mut String) -> Option<(String, UnitRef)> {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                let length = path.len();
                path.push('.');
                path.push_str(key);
                if key == "unit"
                    && let Some(unit) = member.as_str().and_then(|text| text.parse().ok())
                    && registry().get(unit).is_none()
                {
                    return Some((path.clone(), unit));
                }
                if let Some(found) = unknown_unit(member, path) {
                    return Some(found);
                }
                path.truncate(length);
            }
            None
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let length = path.len();
                path.push_str(&format!("[{index}]"));
                if let Some(found) = unknown_unit(item, path) {
                    return Some(found);
                }
                path.truncate(length);
            }
            None
        }
        _ => None,
    }
}

/// The JSON error body of `error`, as its response carries it (for batch items).
fn error_body(error: &ApiError) -> Value {
    serde_json::to_value(error.body()).unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------------------------
// Jurisdiction.

/// Where a decided command acts (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// Bound to no address.
    Unbound,
    /// Every one of these units.
    All(Vec<UnitRef>),
    /// Any one of these places where a person resides.
    Any(Vec<UnitRef>),
    /// Every province.
    Nationwide,
    /// Bound to an address the register does not show (fails closed).
    Undetermined,
}

/// Refuses an officer's or supervisor's decision at a place outside their jurisdiction.
fn check_jurisdiction(principal: &Principal, decided: &Decided<'_>) -> Result<(), ApiError> {
    if !matches!(principal.role, Role::Officer | Role::Supervisor) {
        return Ok(());
    }
    let jurisdiction = &principal.jurisdiction;
    let outside = |unit: UnitRef| ApiError::OutsideJurisdiction {
        unit: match registry().full_name(unit) {
            Some(name) => format!("{unit} ({name})"),
            None => unit.to_string(),
        },
    };
    match place(decided) {
        Place::Unbound => Ok(()),
        Place::All(units) => match units.into_iter().find(|unit| !jurisdiction.covers(*unit)) {
            Some(unit) => Err(outside(unit)),
            None => Ok(()),
        },
        Place::Any(units) => {
            if units.iter().any(|unit| jurisdiction.covers(*unit)) {
                Ok(())
            } else {
                match units.first() {
                    Some(unit) => Err(outside(*unit)),
                    None => Ok(()),
                }
            }
        }
        Place::Nationwide => match registry()
            .provinces(Scheme::Y2025)
            .find(|(province, _)| !jurisdiction.provinces.contains(province))
        {
            Some((province, name)) => Err(ApiError::OutsideJurisdiction {
                unit: format!("province:{province} ({name})"),
            }),
            None => Ok(()),
        },
        Place::Undetermined => Err(ApiError::OutsideJurisdiction {
            unit: "the unit of this act (not shown by the register)".to_owned(),
        }),
    }
}

/// The place a decided command acts at.
fn place(decided: &Decided<'_>) -> Place {
    let state = decided.state;
    let events = &decided.decision.events;
    let command = &decided.request.command;
    let date = command.effective_on().unwrap_or(decided.request.today);
    let all = |units: Vec<UnitRef>| {
        if units.is_empty() {
            Place::Undetermined
        } else {
            Place::All(units)
        }
    };
    match command {
        Command::RecordPerson(_)
        | Command::ReassignPin(_)
        | Command::ReceiveApplication(_)
        | Command::RequestCompletion(_)
        | Command::RefuseApplication(_)
        | Command::IssueResidenceConfirmation(_) => Place::Unbound,
        Command::ApplyReorganisation(_) => Place::Nationwide,
        Command::RegisterPermanent(c) => Place::All(vec![c.address.unit]),
        Command::RegisterTemporary(c) => Place::All(vec![c.address.unit]),
        Command::DeclareCurrentResidence(c) => Place::All(vec![c.address.unit]),
        Command::RefuseResidenceDeclaration(c) => Place::All(vec![c.address.unit]),
        Command::UpdateCurrentAddress(c) => Place::All(vec![c.address.unit]),
        Command::RecordDwellingRestriction(c) => Place::All(vec![c.address.unit]),
        Command::NotifyStay(c) => Place::All(vec![c.host_address.unit]),
        Command::RecodeAddress(c) => all(events
            .iter()
            .filter_map(|event| match event {
                Event::ResidenceAddressRecoded(e) if e.dwelling == c.dwelling => {
                    Some([e.old_address.unit, e.new_address.unit])
                }
                _ => None,
            })
            .flatten()
            .collect()),
        Command::DeletePermanent(c) => all(events
            .iter()
            .filter_map(|event| match event {
                Event::PermanentResidenceDeleted(e) if e.person == c.person => Some(e.address.unit),
                _ => None,
            })
            .take(1)
            .collect()),
        Command::DeleteTemporary(c) => all(events
            .iter()
            .filter_map(|event| match event {
                Event::TemporaryResidenceDeleted(e)
                    if e.person == c.person && e.dwelling == c.dwelling =>
                {
                    Some(e.address.unit)
                }
                _ => None,
            })
            .take(1)
            .collect()),
        Command::SplitHousehold(c) => all(events
            .iter()
            .filter_map(|event| match event {
                Event::HouseholdSplit(e) if e.household == c.household => Some(e.address.unit),
                _ => None,
            })
            .take(1)
            .collect()),
        Command::AnnulRegistration(c) => all(state
            .event(c.annuls)
            .and_then(|entry| registration_address(state, &entry.event, date))
            .map(|address| address.unit)
            .into_iter()
            .collect()),
        Command::ExtendTemporary(c) => all(state
            .person(c.person)
            .and_then(|person| {
                person.temporary.iter().rev().find(|interval| {
                    interval.dwelling == c.dwelling && interval.deleted_on.is_none()
                })
            })
            .map(|interval| {
                shown_address(
                    state,
                    interval.dwelling,
                    &interval.address,
                    interval.start,
                    date,
                )
                .unit
            })
            .into_iter()
            .collect()),
        Command::ChangeHead(c) => all(household_unit(state, c.household, date)
            .into_iter()
            .collect()),
        Command::ChangeMemberRelationship(c) => all(household_unit(state, c.household, date)
            .into_iter()
            .collect()),
        Command::RevokeLegacyBook(c) => all(household_unit(state, c.household, date)
            .into_iter()
            .collect()),
        Command::LiftDwellingRestriction(c) => {
            all(dwelling_unit(state, c.dwelling, date).into_iter().collect())
        }
        Command::DeclareTemporaryAbsence(c) => any_or(
            residences(state, c.person, date, Residences::Registered),
            Place::Undetermined,
        ),
        Command::RecordDeletionGround(c) => {
            let kind = match c.ground {
                DeletionGround::Permanent(_) => Residences::Permanent,
                DeletionGround::Temporary(_) => Residences::Temporary,
            };
            any_or(residences(state, c.person, date, kind), Place::Undetermined)
        }
        Command::AdjustCivilStatus(c) => any_or(
            residences(state, c.person, date, Residences::RegisteredOrDeclared),
            Place::Unbound,
        ),
        Command::CorrectEvent(c) => {
            let mut tags: Vec<Tag> = c.replacement.event().tags();
            if let Some(entry) = state.event(c.corrects) {
                tags.extend(entry.tags.iter().copied());
            }
            event_place(state, &tags, date)
        }
    }
}

/// `Any` of `units`, or `otherwise` when there are none.
fn any_or(units: Vec<UnitRef>, otherwise: Place) -> Place {
    if units.is_empty() {
        otherwise
    } else {
        Place::Any(units)
    }
}

/// The place of events with these tags (a correction's): their units; for events without a
/// unit tag, their households' units, else their dwellings', else where their persons reside.
fn event_place(state: &DecisionState, tags: &[Tag], date: NaiveDate) -> Place {
    let mut units: Vec<UnitRef> = tags
        .iter()
        .filter_map(|tag| match tag {
            Tag::Unit(unit) => Some(*unit),
            _ => None,
        })
        .collect();
    if units.is_empty() {
        units = tags
            .iter()
            .filter_map(Tag::household)
            .filter_map(|household| household_unit(state, household, date))
            .collect();
    }
    if units.is_empty() {
        units = tags
            .iter()
            .filter_map(Tag::dwelling)
            .filter_map(|dwelling| dwelling_unit(state, dwelling, date))
            .collect();
    }
    if !units.is_empty() {
        units.sort_unstable();
        units.dedup();
        return Place::All(units);
    }
    let residences: Vec<UnitRef> = tags
        .iter()
        .filter_map(Tag::person)
        .flat_map(|person| residences(state, person, date, Residences::RegisteredOrDeclared))
        .collect();
    any_or(residences, Place::Unbound)
}

/// Which residences of a person count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Residences {
    /// The permanent registration.
    Permanent,
    /// The temporary registration.
    Temporary,
    /// Either registration.
    Registered,
    /// Either registration or an Art 19 declaration.
    RegisteredOrDeclared,
}

/// The units where `person` resides on `date`, as the register shows them then.
fn residences(
    state: &DecisionState,
    person: PersonId,
    date: NaiveDate,
    which: Residences,
) -> Vec<UnitRef> {
    let Some(record) = state.person(person) else {
        return Vec::new();
    };
    let mut units = Vec::new();
    if which != Residences::Temporary
        && let Some(permanent) = record.permanent_on(date)
    {
        units.push(
            shown_address(
                state,
                permanent.dwelling,
                &permanent.address,
                permanent.start,
                date,
            )
            .unit,
        );
    }
    if which != Residences::Permanent
        && let Some(temporary) = record.temporary_on(date)
    {
        units.push(
            shown_address(
                state,
                temporary.dwelling,
                &temporary.address,
                temporary.start,
                date,
            )
            .unit,
        );
    }
    if which == Residences::RegisteredOrDeclared
        && units.is_empty()
        && let Some(declared) = record.declared_on(date)
    {
        units.push(declared.address.unit);
    }
    units
}

/// The address of a registration made at `registered` on `since`, as shown on `date` (with the
/// dwelling's later recodings).
fn shown_address(
    state: &DecisionState,
    dwelling: DwellingId,
    registered: &Address,
    since: NaiveDate,
    date: NaiveDate,
) -> Address {
    state.dwelling(dwelling).map_or_else(
        || registered.clone(),
        |record| record.registered_address(registered, since, date),
    )
}

/// The address of a registration event, as shown on `date`.
fn registration_address(state: &DecisionState, event: &Event, date: NaiveDate) -> Option<Address> {
    let (dwelling, address, since) = match event {
        Event::PermanentResidenceRegistered(e) => (e.dwelling, &e.address, e.effective_on),
        Event::TemporaryResidenceRegistered(e) => (e.dwelling, &e.address, e.effective_on),
        _ => return None,
    };
    Some(shown_address(state, dwelling, address, since, date))
}

/// A household's unit on `date`.
fn household_unit(
    state: &DecisionState,
    household: HouseholdId,
    date: NaiveDate,
) -> Option<UnitRef> {
    let record = state.household(household)?;
    let address = record.address.as_ref()?;
    let unit = match (record.dwelling, record.established_on) {
        (Some(dwelling), Some(since)) => shown_address(state, dwelling, address, since, date).unit,
        _ => address.unit,
    };
    Some(unit)
}

/// A dwelling's unit on `date`.
fn dwelling_unit(state: &DecisionState, dwelling: DwellingId, date: NaiveDate) -> Option<UnitRef> {
    state
        .dwelling(dwelling)
        .and_then(|record| record.address_on(date))
        .map(|address| address.unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_every_command_of_the_domain() {
        // serde names every variant of the command enum when it meets an unknown one.
        let error = serde_json::from_str::<Command>(r#"{"no_such_command":{}}"#)
            .expect_err("an unknown command is refused")
            .to_string();
        let listed: Vec<&str> = error.split('`').skip(3).step_by(2).collect();
        assert_eq!(listed, PROCEDURES, "{error}");
    }

    #[test]
    fn minted_ids_depend_on_account_request_and_field() {
        let a = mint("token:a", "r-1", "person");
        assert_eq!(a.len(), 16);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(a, mint("token:a", "r-1", "person"));
        assert_ne!(a, mint("token:b", "r-1", "person"));
        assert_ne!(a, mint("token:a", "r-2", "person"));
        assert_ne!(a, mint("token:a", "r-1", "dwelling"));
        // Length prefixes keep the parts apart.
        assert_ne!(mint("ab", "c", "person"), mint("a", "bc", "person"));
    }

    #[test]
    fn new_ids_are_minted_at_the_documented_places_only() {
        let mut command = serde_json::json!({
            "person": "new",
            "dwelling": "0000000000000001",
            "household": {"establish": {"household": "new"}},
            "consents": [{"role": "DWELLING_OWNER", "person": "new"}],
        });
        let Value::Object(members) = &mut command else {
            panic!("an object")
        };
        let minted = mint_ids("token:a", "r-1", members);
        assert_eq!(
            minted.keys().map(String::as_str).collect::<Vec<_>>(),
            ["household", "person"]
        );
        assert_eq!(command["person"], minted["person"].as_str());
        assert_eq!(
            command["household"]["establish"]["household"],
            minted["household"].as_str()
        );
        assert_eq!(command["dwelling"], "0000000000000001");
        assert_eq!(command["consents"][0]["person"], "new");
    }

    #[test]
    fn data_errors_name_the_field_from_command_on() {
        let text = "Failed to deserialize the JSON body into the target type: \
                    record_person.pin: personal identification number must be 12 digits, got 3 \
                    characters at line 1 column 40";
        assert_eq!(
            data_error_text("record_person", text),
            "command.pin: personal identification number must be 12 digits, got 3 characters"
        );
    }

    #[test]
    fn unknown_units_are_found_with_their_path() {
        let command = serde_json::json!({
            "address": {"unit": "2025:00004", "street": "Số 1"},
            "list": [{"unit": "2025:99999"}],
        });
        let mut path = "command".to_owned();
        let (path, unit) = unknown_unit(&command, &mut path).expect("an unknown unit");
        assert_eq!(path, "command.list[0].unit");
        assert_eq!(unit.to_string(), "2025:99999");
        let known = serde_json::json!({"address": {"unit": "legacy:00001", "street": "x"}});
        assert_eq!(unknown_unit(&known, &mut "command".to_owned()), None);
    }
}
