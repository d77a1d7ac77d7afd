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
//! ([`Register::execute_with`](residence_register::Register::execute_with)), because for most acts
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
//! | 409 | `conflict` | other changes to the same persons or households kept winning (after [`CONFLICT_RETRIES_MAX`](residence_register::CONFLICT_RETRIES_MAX) re-decisions; with `position`) |
//! | 409 | `history_erased` | a record the decision needs was erased |
//! | 413 | `body_too_large` | a body over [`BODY_BYTES_MAX`](super::BODY_BYTES_MAX) |
//! | 422 | the rejection's code | a rule of the law said no (`message` and `message_vi`); a legacy unit after 2025-06-30 is `unit_not_valid_on_date` |
//! | 503 | `unavailable` | the ledger cannot write |

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use residence_domain::command::Command;
use residence_domain::decide::Warning;
use residence_domain::event::EventEnvelope;
use residence_domain::jurisdiction::{self, OutsideJurisdiction};
use residence_domain::units::{UnitRef, registry};
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::ApiError;
use super::{AppState, BATCH_MAX};
use crate::access_log::Purpose;
use crate::auth::{Principal, Role};
use residence_register::execute::Folded;
use residence_register::{
    CheckedError, CommandOutcome, CommandRequest, REQUEST_ID_BYTES_MAX, RecordedEvent, Recorder,
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
    body: Result<CommandBody, JsonRejection>,
) -> Result<Response, ApiError> {
    let recorder = recorder(&principal)?;
    let Path(procedure) = procedure?;
    let procedure = find_procedure(&procedure)?;
    let body = match body? {
        CommandBody::Bytes(bytes) => match fast_envelope(procedure, &bytes) {
            Some((request_id, command)) => {
                check_request_id(&request_id)?;
                let answer = record(
                    &state,
                    &principal,
                    &recorder,
                    request_id,
                    command,
                    BTreeMap::new(),
                )
                .await?;
                return Ok(answer.into_response());
            }
            None => Json::<Value>::from_bytes(&bytes)?.0,
        },
        CommandBody::Value(body) => body,
    };
    let (request_id, command) = envelope(body)?;
    let answer = run(
        &state, &principal, &recorder, procedure, request_id, command,
    )
    .await?;
    Ok(answer.into_response())
}

/// The body of a single command, read as axum's `Json` extractor reads it (the same
/// content-type check, body limit and rejections) but left as bytes when its content type is
/// exactly `application/json`, so that [`fast_envelope`] can read it in one pass.
#[derive(Debug)]
enum CommandBody {
    /// The body's bytes, not parsed yet.
    Bytes(Bytes),
    /// The body parsed by axum's `Json` extractor (any other JSON content type).
    Value(Value),
}

impl<S: Send + Sync> FromRequest<S> for CommandBody {
    type Rejection = JsonRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let exact = request
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes() == b"application/json");
        if !exact {
            // Whatever axum's own content-type check says, and answers, holds here too.
            let Json(value) = Json::<Value>::from_request(request, state).await?;
            return Ok(CommandBody::Value(value));
        }
        Ok(CommandBody::Bytes(
            Bytes::from_request(request, state).await?,
        ))
    }
}

/// Reads `{"request_id": …, "command": {…}}` straight into the domain's `procedure` command,
/// in one pass over the bytes (no JSON value, no re-serialisation); `None` whenever the general
/// path could answer otherwise: a body that does not parse, an id to mint (any `"new"` or
/// `\u` escape in the body), or an unknown unit, so that its error (or minting) comes from
/// [`envelope`], [`mint_ids`] and [`parse_command`] exactly as before.
fn fast_envelope(procedure: &'static str, bytes: &[u8]) -> Option<(String, Command)> {
    if contains(bytes, b"\"new\"") || contains(bytes, b"\\u") {
        return None;
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let envelope = EnvelopeSeed { procedure }
        .deserialize(&mut deserializer)
        .ok()?;
    deserializer.end().ok()?;
    let mut scan = serde_json::Deserializer::from_slice(bytes);
    let UnitScan(unknown) = UnitScan::deserialize(&mut scan).ok()?;
    if unknown {
        return None;
    }
    Some(envelope)
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Reads the envelope object of a single command (its two members once each, nothing else).
struct EnvelopeSeed {
    procedure: &'static str,
}

/// The members of an envelope.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum EnvelopeField {
    RequestId,
    Command,
}

impl<'de> DeserializeSeed<'de> for EnvelopeSeed {
    type Value = (String, Command);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeSeed {
    type Value = (String, Command);

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("an object with request_id and command")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut request_id = None;
        let mut command = None;
        while let Some(field) = map.next_key::<EnvelopeField>()? {
            match field {
                EnvelopeField::RequestId if request_id.is_none() => {
                    request_id = Some(map.next_value::<String>()?);
                }
                EnvelopeField::Command if command.is_none() => {
                    command = Some(map.next_value_seed(CommandSeed {
                        procedure: self.procedure,
                    })?);
                }
                EnvelopeField::RequestId => return Err(de::Error::duplicate_field("request_id")),
                EnvelopeField::Command => return Err(de::Error::duplicate_field("command")),
            }
        }
        match (request_id, command) {
            (Some(request_id), Some(command)) => Ok((request_id, command)),
            (None, _) => Err(de::Error::missing_field("request_id")),
            (_, None) => Err(de::Error::missing_field("command")),
        }
    }
}

/// Reads a command object as the domain's `procedure` command: the domain's enum sees the
/// variant `procedure` holding the object, as if the body had been `{procedure: {…}}`.
struct CommandSeed {
    procedure: &'static str,
}

impl<'de> DeserializeSeed<'de> for CommandSeed {
    type Value = Command;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Command, D::Error> {
        Command::deserialize(Variant {
            procedure: self.procedure,
            object: deserializer,
        })
    }
}

/// A deserialiser presenting an object as the variant `procedure` of an enum; only newtype
/// variants holding an object are read (anything else fails, and the general path answers).
struct Variant<D> {
    procedure: &'static str,
    object: D,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Variant<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, D::Error> {
        Err(de::Error::custom("a command is an enum"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

impl<'de, D: Deserializer<'de>> EnumAccess<'de> for Variant<D> {
    type Error = D::Error;
    type Variant = ObjectOnly<D>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, ObjectOnly<D>), D::Error> {
        let name = seed.deserialize(de::value::StrDeserializer::<D::Error>::new(self.procedure))?;
        Ok((name, ObjectOnly(self.object)))
    }
}

/// The content of a command variant: an object, read as a map (never an array, which a
/// derived struct would otherwise accept and the general path refuses).
struct ObjectOnly<D>(D);

impl<'de, D: Deserializer<'de>> VariantAccess<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn unit_variant(self) -> Result<(), D::Error> {
        Err(de::Error::custom("a command holds an object"))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, D::Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, D::Error> {
        Err(de::Error::custom("a command holds an object"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, D::Error> {
        Err(de::Error::custom("a command holds an object"))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct enum identifier
        ignored_any
    }
}

/// Whether a JSON text holds a `unit` member with a well-formed unit code that the
/// administrative map does not have, found in one pass without building a JSON value (what
/// [`unknown_unit`] finds on a value).
struct UnitScan(bool);

impl<'de> Deserialize<'de> for UnitScan {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<UnitScan, D::Error> {
        deserializer.deserialize_any(ScanVisitor { unit: false })
    }
}

/// Walks a JSON value; `unit` says whether it is the value of a `unit` member.
struct ScanVisitor {
    unit: bool,
}

impl<'de> DeserializeSeed<'de> for ScanVisitor {
    type Value = UnitScan;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<UnitScan, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Whether an object key is `unit`.
struct IsUnitKey;

impl<'de> DeserializeSeed<'de> for IsUnitKey {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for IsUnitKey {
    type Value = bool;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == "unit")
    }
}

impl<'de> Visitor<'de> for ScanVisitor {
    type Value = UnitScan;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<UnitScan, E> {
        Ok(UnitScan(false))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<UnitScan, E> {
        Ok(UnitScan(false))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<UnitScan, E> {
        Ok(UnitScan(false))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<UnitScan, E> {
        Ok(UnitScan(false))
    }

    fn visit_unit<E: de::Error>(self) -> Result<UnitScan, E> {
        Ok(UnitScan(false))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<UnitScan, E> {
        Ok(UnitScan(
            self.unit
                && text
                    .parse::<UnitRef>()
                    .is_ok_and(|unit| registry().get(unit).is_none()),
        ))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<UnitScan, A::Error> {
        let mut found = false;
        while let Some(UnitScan(unknown)) = items.next_element_seed(ScanVisitor { unit: false })? {
            found |= unknown;
        }
        Ok(UnitScan(found))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<UnitScan, A::Error> {
        let mut found = false;
        while let Some(unit) = members.next_key_seed(IsUnitKey)? {
            let UnitScan(unknown) = members.next_value_seed(ScanVisitor { unit })?;
            found |= unknown;
        }
        Ok(UnitScan(found))
    }
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

/// Refuses a request id that is empty or too long.
fn check_request_id(request_id: &str) -> Result<(), ApiError> {
    if request_id.is_empty() || request_id.len() > REQUEST_ID_BYTES_MAX {
        return Err(ApiError::InvalidBody(format!(
            "request_id must be 1 to {REQUEST_ID_BYTES_MAX} bytes"
        )));
    }
    Ok(())
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
    check_request_id(&request_id)?;
    let ids = mint_ids(&recorder.actor_id, &request_id, &mut command);
    let command = parse_command(procedure, command)?;
    record(state, principal, recorder, request_id, command, ids).await
}

/// Checks and records one parsed command.
async fn record(
    state: &AppState,
    principal: &Principal,
    recorder: &Recorder,
    request_id: String,
    command: Command,
    ids: BTreeMap<String, String>,
) -> Result<Answer, ApiError> {
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
            // The attempt is accountable like a read: the officer learnt that the person or
            // household exists outside their jurisdiction, and nothing else.
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
            return Err(ApiError::OutsideJurisdiction(outside));
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
    let place = jurisdiction::place(&folded.request.command, folded.state, folded.request.today);
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
                let _ = write!(office, "{}{entry}", prefix.unwrap_or_default());
            }
            if count > OFFICE_ENTRIES_MAX {
                let _ = write!(office, ",+{}", count - OFFICE_ENTRIES_MAX);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The general path: the body as a JSON value, its ids minted, re-read as the command.
    fn general(procedure: &'static str, body: &[u8]) -> Result<(String, Command), String> {
        let Json(value) = Json::<Value>::from_bytes(body).map_err(|e| e.body_text())?;
        let (request_id, mut command) = envelope(value).map_err(|e| format!("{e:?}"))?;
        mint_ids("token:a", &request_id, &mut command);
        let command = parse_command(procedure, command).map_err(|e| format!("{e:?}"))?;
        Ok((request_id, command))
    }

    fn body(command: &Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"request_id": "r-1", "command": command}))
            .expect("a JSON value serialises")
    }

    #[test]
    fn the_one_pass_reading_of_a_body_gives_the_command_the_general_path_gives() {
        let examples = super::super::docs::command_examples();
        let mut fast = 0;
        for procedure in PROCEDURES {
            let example = &examples[procedure];
            let bytes = body(example);
            let expected = general(procedure, &bytes).expect("every example is a valid command");
            if let Some(read) = fast_envelope(procedure, &bytes) {
                assert_eq!(read, expected, "{procedure}");
                fast += 1;
            }
            // The members in another order, and written with whitespace, read the same.
            let text = format!(
                "{{ \"command\" : {} ,\n \"request_id\": \"r-1\" }}",
                serde_json::to_string_pretty(example).expect("a JSON value serialises")
            );
            if let Some(read) = fast_envelope(procedure, text.as_bytes()) {
                assert_eq!(read, expected, "{procedure} reordered");
            }
        }
        // Only examples asking for a minted id, or naming a text with "new", take the
        // general path.
        assert!(
            fast >= PROCEDURES.len() - 3,
            "{fast} of {}",
            PROCEDURES.len()
        );
    }

    #[test]
    fn whatever_the_general_path_could_answer_otherwise_is_left_to_it() {
        let example = &super::super::docs::command_examples()["register_permanent"];
        let procedure = "register_permanent";
        assert!(fast_envelope(procedure, &body(example)).is_some());
        let with = |edit: &dyn Fn(&mut Value)| {
            let mut command = example.clone();
            edit(&mut command);
            fast_envelope(procedure, &body(&command))
        };
        // An id to mint, an unknown unit, an unknown member, a wrong type.
        assert_eq!(
            with(&|c| c["household"] = serde_json::json!({"establish": {"household": "new"}})),
            None
        );
        assert_eq!(with(&|c| c["address"]["unit"] = "2025:99999".into()), None);
        assert_eq!(with(&|c| c["surprise"] = true.into()), None);
        assert_eq!(with(&|c| c["effective_on"] = 7.into()), None);
        let text = String::from_utf8(body(example)).expect("JSON is UTF-8");
        let raw = |text: &str| fast_envelope(procedure, text.as_bytes());
        // A duplicate member (the general path keeps the last one), an array for the command
        // object (a derived struct would read it), an escaped text, other members, trailing
        // characters, not JSON.
        assert_eq!(
            raw(&text.replacen(
                "\"request_id\":\"r-1\"",
                "\"request_id\":\"r-0\",\"request_id\":\"r-1\"",
                1
            )),
            None
        );
        let command = serde_json::to_string(example).expect("a JSON value serialises");
        assert_eq!(
            raw(&format!(
                "{{\"request_id\":\"r-1\",\"command\":{command},\"command\":{command}}}"
            )),
            None
        );
        let values: Vec<&Value> = example.as_object().expect("an object").values().collect();
        let array = serde_json::to_string(&values).expect("a JSON value serialises");
        assert_eq!(
            raw(&format!("{{\"request_id\":\"r-1\",\"command\":{array}}}")),
            None
        );
        assert_eq!(raw(&text.replacen("r-1", "r\\u002d1", 1)), None);
        assert_eq!(
            raw(&format!(
                "{{\"request_id\":\"r-1\",\"command\":{command},\"x\":1}}"
            )),
            None
        );
        assert_eq!(raw(&format!("{text} x")), None);
        assert_eq!(raw("{\"request_id\":"), None);
        assert!(raw(&text).is_some());
    }

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

    /// The whole body of a response.
    fn futures_body(response: Response) -> Bytes {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
            .expect("a body")
    }

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
