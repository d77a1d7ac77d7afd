//! The body of a command request, read and checked: which procedure, which request id, which
//! command, which ids the server minted. The handlers in [`super::commands`] receive a
//! [`CommandEnvelope`] (or an [`ApiError`]) and never look at the body themselves.
//!
//! Why a module of its own: reading a body is the busiest work of a command endpoint besides
//! the append, and it is done twice over. The **general path** reads the body as a JSON value,
//! splits the envelope (`envelope`), mints ids (`mint_ids`) and re-reads the command object
//! as the domain's command (`parse_command`): every error it answers names the member at
//! fault. The **fast path** (`fast_envelope`) reads the bytes once, straight into the domain's
//! command, and defers to the general path (`None`) whenever that could answer otherwise. The
//! two MUST agree: for any body, the fast path answers nothing or exactly what the general path
//! answers, which a corpus test checks on every example of `command_examples.json` and on the
//! errors derived from each. Batch items are read by the general path alone.
//!
//! This module MUST NOT import [`super::commands`]: the handlers depend on the envelope, never
//! the reverse.
//!
//! # The envelope
//! `{"request_id": "ct01-2026-000123", "command": {…}}` with no other members. `command` holds
//! the fields of the procedure's command exactly as the domain reads them (unknown fields are
//! refused; optional ones may be left out); a well-formed unit code that the administrative map
//! does not have is refused with its path. `request_id` (1 to 128 bytes) is the client's
//! idempotency key, scoped to the calling token. A batch item adds `procedure`. An object
//! anywhere in a body (single or batch) that names a member twice is refused with its place
//! (`command.address: duplicate field \`unit\``), never resolved: a JSON value would keep the
//! last one silently, so the general path scans the text for them first ([`json_value`]) and the
//! fast path defers every body that has one.
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

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header;
use residence_domain::command::Command;
use residence_domain::units::{UnitRef, registry};
use serde::Deserialize;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde_json::{Map, Value};

use super::error::ApiError;
use super::{AppState, BATCH_MAX};
use crate::auth::Principal;
use residence_register::REQUEST_ID_BYTES_MAX;

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

/// A single command's request, read and checked: the handler of
/// `POST /v1/commands/{procedure}` takes it and records it.
///
/// As an extractor it reads the `{procedure}` of the path, then the body as axum's `Json`
/// extractor reads it (the same content-type check, body limit and rejections), then the
/// envelope by the fast path or else the general one, and mints the ids for the calling
/// account. Its errors come in that order: 400 for the path, 404 for an unknown procedure, the
/// body's rejection, then the envelope's errors as the general path names them.
///
/// The handler MUST take [`Principal`] before it and check the caller's role before looking at
/// it, so that a caller who may not record learns nothing about their body; the extractor then
/// reads the caller that [`Principal`]'s extractor kept in the request, rather than
/// authenticating the token a second time.
#[derive(Debug, PartialEq)]
pub struct CommandEnvelope {
    /// The procedure, as the catalogue ([`PROCEDURES`]) names it.
    pub procedure: &'static str,
    /// The client's idempotency key, 1 to [`REQUEST_ID_BYTES_MAX`] bytes.
    pub request_id: String,
    /// The command, as the domain reads it, with its minted ids.
    pub command: Command,
    /// The ids minted for fields given as `"new"`, by field name.
    pub ids: BTreeMap<String, String>,
}

impl FromRequest<Arc<AppState>> for CommandEnvelope {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let (mut parts, body) = request.into_parts();
        let Path(procedure) = Path::<String>::from_request_parts(&mut parts, state).await?;
        let procedure = find_procedure(&procedure)?;
        // Ids are minted for the calling account: the caller was authenticated by the
        // handler's `Principal`, and is read back from the request here.
        let actor_id = Principal::from_request_parts(&mut parts, state)
            .await?
            .actor_id();
        let JsonBytes(bytes) =
            JsonBytes::from_request(Request::from_parts(parts, body), state).await?;
        match fast_envelope(procedure, &bytes) {
            Some(read) => read,
            None => general_envelope(procedure, &actor_id, &bytes),
        }
    }
}

/// The bytes of a JSON body, read as axum's `Json` extractor reads them (the same content-type
/// check, body limit and rejections) but not parsed, so that a command's body can be read in
/// one pass ([`fast_envelope`]) and every body checked for members named twice
/// ([`json_value`]) before a JSON value keeps only the last of them.
#[derive(Debug)]
pub(super) struct JsonBytes(pub(super) Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = JsonRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let exact = request
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes() == b"application/json");
        if !exact {
            // Any other content type is judged by axum's `Json` extractor itself, on the
            // headers alone (an empty body): whatever it refuses, and how, holds here too.
            let mut probe = Request::new(axum::body::Body::empty());
            *probe.headers_mut() = request.headers().clone();
            if let Err(JsonRejection::MissingJsonContentType(rejection)) =
                Json::<de::IgnoredAny>::from_request(probe, state).await
            {
                return Err(rejection.into());
            }
        }
        Ok(JsonBytes(Bytes::from_request(request, state).await?))
    }
}

/// A JSON body's value, refusing an object that names a member twice (a JSON value would keep
/// the last one silently): the answer names the object and the member, as every other error
/// of a body does ("command.address: duplicate field \`unit\`").
///
/// # Errors
/// [`ApiError::MalformedJson`] for a body that is not JSON, [`ApiError::InvalidBody`] for a
/// member named twice.
pub(super) fn json_value(bytes: &[u8]) -> Result<Value, ApiError> {
    let Json(value) = Json::<Value>::from_bytes(bytes)?;
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    // The text parsed as a value just now, so the scan (of the same grammar) reads it too.
    let scan = Scan::deserialize(&mut reader).map_err(|error| {
        tracing::error!(%error, "a JSON text that parsed did not scan");
        ApiError::Internal
    })?;
    match scan.duplicate {
        Some(duplicate) => Err(ApiError::InvalidBody(duplicate)),
        None => Ok(value),
    }
}

/// The general path over a body's bytes: parsed as a JSON value (refusing members named twice,
/// [`json_value`]), then read by [`value_envelope`].
///
/// # Errors
/// [`ApiError::MalformedJson`] for a body that is not JSON; those of [`json_value`] and
/// [`value_envelope`].
fn general_envelope(
    procedure: &'static str,
    actor_id: &str,
    bytes: &[u8],
) -> Result<CommandEnvelope, ApiError> {
    value_envelope(procedure, actor_id, json_value(bytes)?)
}

/// The general path over a body parsed as a JSON value: the envelope split, its ids minted for
/// `actor_id`, the command read as the domain's `procedure` command.
///
/// # Errors
/// [`ApiError::InvalidBody`] naming the member at fault.
fn value_envelope(
    procedure: &'static str,
    actor_id: &str,
    body: Value,
) -> Result<CommandEnvelope, ApiError> {
    let (request_id, command) = envelope(body)?;
    checked(procedure, actor_id, request_id, command)
}

/// Checks the request id, mints the ids and reads the command object: the steps every command
/// of the general path goes through, single or batched, in this order.
fn checked(
    procedure: &'static str,
    actor_id: &str,
    request_id: String,
    mut command: Map<String, Value>,
) -> Result<CommandEnvelope, ApiError> {
    check_request_id(&request_id)?;
    let ids = mint_ids(actor_id, &request_id, &mut command);
    let command = parse_command(procedure, command)?;
    Ok(CommandEnvelope {
        procedure,
        request_id,
        command,
        ids,
    })
}

/// Reads `{"request_id": …, "command": {…}}` straight into the domain's `procedure` command,
/// in one pass over the bytes (no JSON value, no re-serialisation), and checks the request id.
/// `None` whenever the general path could answer otherwise: a body that does not parse, an id
/// to mint (any `"new"` or `\u` escape in the body), an unknown unit or a member named twice,
/// so that its error (or minting) comes from [`json_value`], [`envelope`], [`mint_ids`] and
/// [`parse_command`]. Nothing is minted
/// here, so the answer's ids are empty.
fn fast_envelope(
    procedure: &'static str,
    bytes: &[u8],
) -> Option<Result<CommandEnvelope, ApiError>> {
    if contains(bytes, b"\"new\"") || contains(bytes, b"\\u") {
        return None;
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let (request_id, command) = EnvelopeSeed { procedure }
        .deserialize(&mut deserializer)
        .ok()?;
    deserializer.end().ok()?;
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let scan = Scan::deserialize(&mut reader).ok()?;
    if scan.unknown_unit || scan.duplicate.is_some() {
        return None;
    }
    Some(check_request_id(&request_id).map(|()| CommandEnvelope {
        procedure,
        request_id,
        command,
        ids: BTreeMap::new(),
    }))
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

/// What one pass over a JSON text finds, without building a JSON value: a `unit` member with a
/// well-formed unit code that the administrative map does not have (what [`unknown_unit`] finds
/// on a value), and the first object that names a member twice (which a value cannot show: it
/// keeps the last).
#[derive(Debug, Default)]
struct Scan {
    /// A `unit` member holds a unit code the map does not have.
    unknown_unit: bool,
    /// The first member named twice, as the error names it ("command.address: duplicate field
    /// \`unit\`").
    duplicate: Option<String>,
}

impl Scan {
    /// Adds what a later part of the text holds (the first duplicate stays the first).
    fn merge(&mut self, later: Scan) {
        self.unknown_unit |= later.unknown_unit;
        if self.duplicate.is_none() {
            self.duplicate = later.duplicate;
        }
    }
}

impl<'de> Deserialize<'de> for Scan {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Scan, D::Error> {
        deserializer.deserialize_any(ScanVisitor {
            unit: false,
            place: Place::Root,
        })
    }
}

/// Where a value is in the text: the body, a member of an object, an item of an array. Only
/// shown when a duplicate is found, so walking builds no strings.
#[derive(Debug, Clone, Copy)]
enum Place<'a> {
    /// The body itself.
    Root,
    /// The member `key` of the object at the place.
    Member(&'a Place<'a>, &'a str),
    /// The item `index` of the array at the place.
    Item(&'a Place<'a>, usize),
}

impl Place<'_> {
    /// The place as errors name it: `command.consents[0].role`, empty for the body.
    fn show(&self, into: &mut String) {
        match self {
            Place::Root => {}
            Place::Member(parent, key) => {
                parent.show(into);
                if !into.is_empty() {
                    into.push('.');
                }
                into.push_str(key);
            }
            Place::Item(parent, index) => {
                parent.show(into);
                into.push_str(&format!("[{index}]"));
            }
        }
    }

    /// The error for the member `key` named twice in the object at this place.
    fn duplicate(&self, key: &str) -> String {
        let mut at = String::new();
        self.show(&mut at);
        if at.is_empty() {
            format!("duplicate field `{key}`")
        } else {
            format!("{at}: duplicate field `{key}`")
        }
    }
}

/// Walks a JSON value at `place`; `unit` says whether it is the value of a `unit` member.
struct ScanVisitor<'p> {
    unit: bool,
    place: Place<'p>,
}

impl<'de> DeserializeSeed<'de> for ScanVisitor<'_> {
    type Value = Scan;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Scan, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(key.to_owned()))
    }
}

impl<'de> Visitor<'de> for ScanVisitor<'_> {
    type Value = Scan;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scan, E> {
        Ok(Scan::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Scan, E> {
        Ok(Scan::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Scan, E> {
        Ok(Scan::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scan, E> {
        Ok(Scan::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scan, E> {
        Ok(Scan::default())
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Scan, E> {
        Ok(Scan {
            unknown_unit: self.unit
                && text
                    .parse::<UnitRef>()
                    .is_ok_and(|unit| registry().get(unit).is_none()),
            duplicate: None,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Scan, A::Error> {
        let mut scan = Scan::default();
        let mut index = 0;
        while let Some(item) = items.next_element_seed(ScanVisitor {
            unit: false,
            place: Place::Item(&self.place, index),
        })? {
            scan.merge(item);
            index += 1;
        }
        Ok(scan)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Scan, A::Error> {
        let mut scan = Scan::default();
        // Objects of a body have a few dozen members at most: a list is the cheapest set.
        let mut keys: Vec<Cow<'de, str>> = Vec::new();
        while let Some(key) = members.next_key_seed(KeySeed)? {
            if scan.duplicate.is_none() && keys.contains(&key) {
                scan.duplicate = Some(self.place.duplicate(&key));
            }
            let value = members.next_value_seed(ScanVisitor {
                unit: key == "unit",
                place: Place::Member(&self.place, &key),
            })?;
            scan.merge(value);
            keys.push(key);
        }
        Ok(scan)
    }
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
///
/// # Errors
/// [`ApiError::InvalidBody`] for another shape, [`ApiError::BadRequest`] for 0 or more than
/// [`BATCH_MAX`] items.
pub(super) fn batch_items(body: Value) -> Result<Vec<Value>, ApiError> {
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

/// Reads one batch item `{"procedure": …, "request_id": …, "command": {…}}` as the general
/// path reads a single command's body, minting its ids for `actor_id`.
///
/// # Errors
/// [`ApiError::InvalidBody`] naming the member at fault (`commands[2].command.pin: …`),
/// [`ApiError::NotFound`] for an unknown procedure.
pub(super) fn batch_item(
    index: usize,
    item: Value,
    actor_id: &str,
) -> Result<CommandEnvelope, ApiError> {
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
    checked(procedure, actor_id, request_id, command)
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

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use axum::http::StatusCode;

    use super::*;
    use crate::http::docs::command_examples;
    use crate::http::error::ErrorBody;

    /// The account the tests mint ids for.
    const ACTOR: &str = "token:a";

    /// An answer made comparable: the envelope, or the error's status and JSON body (what the
    /// client would see).
    type Outcome = Result<CommandEnvelope, (StatusCode, ErrorBody)>;

    fn outcome(result: Result<CommandEnvelope, ApiError>) -> Outcome {
        result.map_err(|error| (error.status(), error.body()))
    }

    /// What the fast path did with a body.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Taken {
        /// It left the body to the general path.
        Deferred,
        /// It read the envelope.
        Read,
        /// It refused the envelope.
        Refused,
    }

    /// The one check of the corpus: the fast path defers, or answers exactly what the general
    /// path answers.
    fn check(procedure: &'static str, case: &str, body: &[u8]) -> Taken {
        let general = outcome(general_envelope(procedure, ACTOR, body));
        let Some(fast) = fast_envelope(procedure, body) else {
            return Taken::Deferred;
        };
        let fast = outcome(fast);
        assert_eq!(
            fast,
            general,
            "{procedure}, {case}: {}",
            String::from_utf8_lossy(body)
        );
        if fast.is_ok() {
            Taken::Read
        } else {
            Taken::Refused
        }
    }

    /// A body holding the request id and the command as written (JSON texts).
    fn body(request_id: &str, command: &str) -> Vec<u8> {
        format!("{{\"request_id\":{request_id},\"command\":{command}}}").into_bytes()
    }

    fn text(value: &Value) -> String {
        serde_json::to_string(value).expect("a JSON value serialises")
    }

    /// One step into a JSON value.
    #[derive(Debug, Clone)]
    enum Step {
        Member(String),
        Item(usize),
    }

    /// Every member and item inside `value`, by path.
    fn paths(value: &Value, at: &mut Vec<Step>, found: &mut Vec<Vec<Step>>) {
        let inner: Vec<(Step, &Value)> = match value {
            Value::Object(members) => members
                .iter()
                .map(|(key, member)| (Step::Member(key.clone()), member))
                .collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(index, item)| (Step::Item(index), item))
                .collect(),
            _ => Vec::new(),
        };
        for (step, value) in inner {
            at.push(step);
            found.push(at.clone());
            paths(value, at, found);
            at.pop();
        }
    }

    fn at_mut<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut Value {
        path.iter().fold(value, |value, step| match step {
            Step::Member(key) => &mut value[key.as_str()],
            Step::Item(index) => &mut value[*index],
        })
    }

    fn show(path: &[Step]) -> String {
        let mut shown = "command".to_owned();
        for step in path {
            match step {
                Step::Member(key) => write!(shown, ".{key}"),
                Step::Item(index) => write!(shown, "[{index}]"),
            }
            .expect("writing to a string");
        }
        shown
    }

    /// A string replaced by raw JSON text once the command is written.
    const RAW: &str = "\u{E000}raw\u{E000}";

    /// The command written with the value at `path` replaced by the JSON text `raw` (which
    /// may add members after it, which no JSON value can hold).
    fn with_raw(command: &Value, path: &[Step], raw: &str) -> String {
        let mut command = command.clone();
        *at_mut(&mut command, path) = Value::String(RAW.to_owned());
        text(&command).replacen(&format!("\"{RAW}\""), raw, 1)
    }

    /// The command without the member or item at `path`.
    fn without(command: &Value, path: &[Step]) -> Value {
        let mut command = command.clone();
        if let Some((last, parent)) = path.split_last() {
            match (last, at_mut(&mut command, parent)) {
                (Step::Member(key), Value::Object(members)) => {
                    members.remove(key);
                }
                (Step::Item(index), Value::Array(items)) => {
                    items.remove(*index);
                }
                (step, parent) => panic!("{step:?} is not in {parent}"),
            }
        }
        command
    }

    /// `text` as a JSON string whose characters from the `from`th on are `\u` escapes.
    fn escaped(text: &str, from: usize) -> String {
        let mut written = String::from("\"");
        for (index, character) in text.chars().enumerate() {
            if index < from {
                let plain =
                    serde_json::to_string(&character.to_string()).expect("a string serialises");
                written.push_str(&plain[1..plain.len() - 1]);
            } else {
                let mut units = [0; 2];
                for unit in character.encode_utf16(&mut units) {
                    write!(written, "\\u{unit:04x}").expect("writing to a string");
                }
            }
        }
        written.push('"');
        written
    }

    /// The example with each id given as `"new"` replaced by an id.
    fn concrete_ids(value: &Value) -> Value {
        match value {
            Value::String(text) if text == NEW_ID => Value::String("00000000000000aa".to_owned()),
            Value::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(key, member)| (key.clone(), concrete_ids(member)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(concrete_ids).collect()),
            other => other.clone(),
        }
    }

    /// The bodies derived from one example's command: (what was done, the body).
    fn derived(command: &Value) -> Vec<(String, Vec<u8>)> {
        let plain = text(command);
        let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
        let mut case = |name: String, body: Vec<u8>| cases.push((name, body));
        // The envelope: members missing, unknown, of the wrong type, duplicated; other bodies.
        let envelope_texts = [
            ("no request_id", format!("{{\"command\":{plain}}}")),
            ("no command", "{\"request_id\":\"r-1\"}".to_owned()),
            ("an empty object", "{}".to_owned()),
            (
                "an unknown envelope member",
                format!("{{\"request_id\":\"r-1\",\"command\":{plain},\"x\":1}}"),
            ),
            (
                "request_id twice, the same",
                format!("{{\"request_id\":\"r-1\",\"request_id\":\"r-1\",\"command\":{plain}}}"),
            ),
            (
                "request_id twice, another first",
                format!("{{\"request_id\":\"r-0\",\"request_id\":\"r-1\",\"command\":{plain}}}"),
            ),
            (
                "command twice",
                format!("{{\"request_id\":\"r-1\",\"command\":{plain},\"command\":{plain}}}"),
            ),
            (
                "command twice, another first",
                format!("{{\"request_id\":\"r-1\",\"command\":{{}},\"command\":{plain}}}"),
            ),
            (
                "request_id twice, once escaped",
                format!(
                    "{{\"request_id\":\"r-1\",\"request\\u005fid\":\"r-1\",\"command\":{plain}}}"
                ),
            ),
            (
                "reordered, with whitespace",
                format!(
                    "{{ \"command\" : {} ,\n\t\"request_id\" :\r\n \"r-1\" }}",
                    serde_json::to_string_pretty(command).expect("a JSON value serialises")
                ),
            ),
            (
                "whitespace around",
                format!(
                    " \n{}\t ",
                    String::from_utf8_lossy(&body("\"r-1\"", &plain))
                ),
            ),
            (
                "trailing characters",
                format!("{} x", String::from_utf8_lossy(&body("\"r-1\"", &plain))),
            ),
            (
                "a trailing brace",
                format!("{}}}", String::from_utf8_lossy(&body("\"r-1\"", &plain))),
            ),
            ("an array", "[]".to_owned()),
            ("a string", "\"x\"".to_owned()),
            ("a number", "7".to_owned()),
            ("null", "null".to_owned()),
            ("nothing", String::new()),
            ("an open brace", "{".to_owned()),
        ];
        for (name, text) in envelope_texts {
            case(name.to_owned(), text.into_bytes());
        }
        let whole = body("\"r-1\"", &plain);
        case(
            "cut in half".to_owned(),
            whole.get(..whole.len() / 2).unwrap_or_default().to_vec(),
        );
        let values: Vec<&Value> = command
            .as_object()
            .map(|members| members.values().collect())
            .unwrap_or_default();
        for (name, wrong) in [
            (
                "an array",
                text(&Value::from(
                    values.into_iter().cloned().collect::<Vec<_>>(),
                )),
            ),
            ("a string", "\"x\"".to_owned()),
            ("a number", "7".to_owned()),
            ("null", "null".to_owned()),
        ] {
            case(format!("command as {name}"), body("\"r-1\"", &wrong));
        }
        // The request id: wrong types, bounds, escapes.
        let long = |character: &str, count: usize| format!("\"{}\"", character.repeat(count));
        for (name, request_id) in [
            ("a number", "7".to_owned()),
            ("null", "null".to_owned()),
            ("an array", "[\"r-1\"]".to_owned()),
            ("an object", "{\"r\":1}".to_owned()),
            ("empty", "\"\"".to_owned()),
            ("128 bytes", long("x", 128)),
            ("129 bytes", long("x", 129)),
            ("128 bytes in 64 characters", long("ư", 64)),
            ("130 bytes in 65 characters", long("ư", 65)),
            ("an escaped slash", "\"r\\/1\"".to_owned()),
            ("an escaped backslash", "\"r\\\\1\"".to_owned()),
            ("an escaped quote", "\"r\\\"1\"".to_owned()),
            ("an escaped newline", "\"r\\n1\"".to_owned()),
            ("a \\u escape", "\"r\\u002d1\"".to_owned()),
            ("\"new\"", "\"new\"".to_owned()),
        ] {
            case(format!("request_id {name}"), body(&request_id, &plain));
        }
        // The command: unknown members, ids to mint.
        let mut extended = command.clone();
        if let Value::Object(members) = &mut extended {
            members.insert("surprise".to_owned(), true.into());
        }
        case(
            "an unknown member".to_owned(),
            body("\"r-1\"", &text(&extended)),
        );
        for field in MINTED_FIELDS {
            if command.get(field).is_none() {
                let mut added = command.clone();
                if let Value::Object(members) = &mut added {
                    members.insert(field.to_owned(), NEW_ID.into());
                }
                case(
                    format!("{field} \"new\" added"),
                    body("\"r-1\"", &text(&added)),
                );
            }
        }
        // Every member and item: left out, of another type or value, written otherwise,
        // duplicated.
        let mut found = Vec::new();
        paths(command, &mut Vec::new(), &mut found);
        let others: [Value; 11] = [
            7.into(),
            (-1).into(),
            1.5.into(),
            true.into(),
            Value::Null,
            "x".into(),
            "".into(),
            Value::Array(Vec::new()),
            Value::Object(Map::new()),
            NEW_ID.into(),
            "2025:99999".into(),
        ];
        for path in &found {
            let at = show(path);
            case(
                format!("{at} left out"),
                body("\"r-1\"", &text(&without(command, path))),
            );
            for other in &others {
                case(
                    format!("{at} = {other}"),
                    body("\"r-1\"", &with_raw(command, path, &text(other))),
                );
            }
            let mut copy = command.clone();
            let value = at_mut(&mut copy, path).clone();
            let written = text(&value);
            if let Value::String(string) = &value {
                case(
                    format!("{at} with a \\u escape"),
                    body("\"r-1\"", &with_raw(command, path, &escaped(string, 0))),
                );
                case(
                    format!("{at} escaped after its first character"),
                    body("\"r-1\"", &with_raw(command, path, &escaped(string, 1))),
                );
                if string.contains('/') {
                    case(
                        format!("{at} with escaped slashes"),
                        body(
                            "\"r-1\"",
                            &with_raw(command, path, &written.replace('/', "\\/")),
                        ),
                    );
                }
                case(
                    format!("{at} with a combining mark"),
                    body(
                        "\"r-1\"",
                        &with_raw(command, path, &text(&format!("{string}\u{301}").into())),
                    ),
                );
                case(
                    format!("{at} padded"),
                    body(
                        "\"r-1\"",
                        &with_raw(command, path, &text(&format!(" {string} ").into())),
                    ),
                );
            }
            if let Some(Step::Member(key)) = path.last() {
                if key == "unit" {
                    for unit in ["legacy:99999", "2025:4", "2025:00004", "legacy:00001"] {
                        case(
                            format!("{at} = {unit}"),
                            body("\"r-1\"", &with_raw(command, path, &text(&unit.into()))),
                        );
                    }
                }
                let key = text(&key.as_str().into());
                for (name, raw) in [
                    ("duplicated", format!("{written},{key}:{written}")),
                    ("duplicated, another last", format!("{written},{key}:7")),
                    ("duplicated, another first", format!("7,{key}:{written}")),
                ] {
                    case(
                        format!("{at} {name}"),
                        body("\"r-1\"", &with_raw(command, path, &raw)),
                    );
                }
            }
            if value.is_object() {
                let mut extended = command.clone();
                if let Value::Object(members) = at_mut(&mut extended, path) {
                    members.insert("surprise".to_owned(), true.into());
                }
                case(
                    format!("{at} with an unknown member"),
                    body("\"r-1\"", &text(&extended)),
                );
            }
        }
        cases
    }

    #[test]
    fn the_fast_path_answers_what_the_general_path_answers_or_defers_on_the_whole_corpus() {
        let examples = command_examples();
        let mut plain_read = 0;
        let mut checked = 0;
        let mut read = 0;
        let mut refused = 0;
        let mut duplicates = 0;
        for procedure in PROCEDURES {
            let example = &examples[procedure];
            // The example as written: it must take the fast path unless it holds a "new".
            let plain = body("\"r-1\"", &text(example));
            let taken = check(procedure, "the example", &plain);
            if !contains(&plain, b"\"new\"") {
                assert_eq!(taken, Taken::Read, "{procedure}: the example is read fast");
                plain_read += 1;
            }
            // Its ids given rather than minted: fast too, unless a member is named "new".
            let concrete = body("\"r-1\"", &text(&concrete_ids(example)));
            let taken = check(procedure, "its ids given", &concrete);
            if !contains(&concrete, b"\"new\"") {
                assert_eq!(taken, Taken::Read, "{procedure}: its ids given, read fast");
            }
            for (case, bytes) in derived(example) {
                if case.contains("twice") || case.contains("duplicated") {
                    // A member named twice is refused, whatever the two values.
                    let general = outcome(general_envelope(procedure, ACTOR, &bytes));
                    assert!(
                        matches!(&general, Err((StatusCode::BAD_REQUEST, body))
                            if body.code == "invalid_body"
                                && body.message.contains("duplicate field")),
                        "{procedure}, {case}: {general:?}"
                    );
                    duplicates += 1;
                }
                match check(procedure, &case, &bytes) {
                    Taken::Deferred => {}
                    Taken::Read => read += 1,
                    Taken::Refused => refused += 1,
                }
                checked += 1;
            }
        }
        // Only the examples asking for a minted id (or naming a member "new") are deferred.
        assert!(plain_read >= PROCEDURES.len() - 3, "{plain_read} read fast");
        // The corpus reaches both answers of the fast path: commands read, and request ids
        // refused with the general path's very error.
        assert!(
            read > PROCEDURES.len() * 4,
            "{read} derived bodies read fast"
        );
        assert!(
            refused >= (PROCEDURES.len() - 3) * 3,
            "{refused} refused fast"
        );
        assert!(checked > 4_000, "{checked} derived bodies");
        assert!(
            duplicates > PROCEDURES.len() * 8,
            "{duplicates} bodies naming a member twice"
        );
    }

    #[test]
    fn a_member_named_twice_is_refused_with_its_place_never_resolved() {
        let example = &command_examples()["register_permanent"];
        let command = serde_json::to_string(example).expect("a JSON value serialises");
        let plain = String::from_utf8(body("\"r-1\"", &command)).expect("JSON is UTF-8");
        let refused = |text: &str, expected: &str| {
            let general = outcome(general_envelope(
                "register_permanent",
                ACTOR,
                text.as_bytes(),
            ));
            assert_eq!(
                general,
                Err((
                    StatusCode::BAD_REQUEST,
                    ErrorBody {
                        code: "invalid_body",
                        message: expected.to_owned(),
                        message_vi: None,
                        position: None,
                    }
                )),
                "{text}"
            );
            // The fast path leaves it to the general path.
            assert!(fast_envelope("register_permanent", text.as_bytes()).is_none());
        };
        refused(
            &plain.replacen(
                "\"request_id\":\"r-1\"",
                "\"request_id\":\"r-0\",\"request_id\":\"r-1\"",
                1,
            ),
            "duplicate field `request_id`",
        );
        refused(
            &plain.replacen(
                "\"effective_on\":",
                "\"effective_on\":\"2026-01-01\",\"effective_on\":",
                1,
            ),
            "command: duplicate field `effective_on`",
        );
        refused(
            &plain.replacen("\"unit\":", "\"unit\":\"2025:00004\",\"unit\":", 1),
            "command.address: duplicate field `unit`",
        );
        // Escapes do not hide a name: `\u0070` is `p`.
        refused(
            &plain.replacen(
                "\"person\":",
                "\"person\":\"0000000000000001\",\"\\u0070erson\":",
                1,
            ),
            "command: duplicate field `person`",
        );
        // In an object of an array: a batch item.
        let batch = format!(
            "{{\"commands\":[{{\"procedure\":\"register_permanent\",\"request_id\":\"r-1\",\"command\":{command},\"command\":{command}}}]}}"
        );
        let error = json_value(batch.as_bytes()).expect_err("refused");
        assert_eq!(
            (error.status(), error.body().code, error.body().message),
            (
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "commands[0]: duplicate field `command`".to_owned()
            )
        );
        // The same members in separate objects are no duplicates.
        assert!(
            outcome(general_envelope(
                "register_permanent",
                ACTOR,
                plain.as_bytes()
            ))
            .is_ok()
        );
    }

    #[test]
    fn the_one_pass_reading_of_a_body_gives_the_command_the_general_path_gives() {
        let examples = command_examples();
        let mut fast = 0;
        for procedure in PROCEDURES {
            let example = &examples[procedure];
            let bytes = body("\"r-1\"", &text(example));
            let expected = outcome(general_envelope(procedure, ACTOR, &bytes));
            assert!(expected.is_ok(), "every example is a valid command");
            if let Some(read) = fast_envelope(procedure, &bytes) {
                assert_eq!(outcome(read), expected, "{procedure}");
                fast += 1;
            }
            // The members in another order, and written with whitespace, read the same.
            let text = format!(
                "{{ \"command\" : {} ,\n \"request_id\": \"r-1\" }}",
                serde_json::to_string_pretty(example).expect("a JSON value serialises")
            );
            if let Some(read) = fast_envelope(procedure, text.as_bytes()) {
                assert_eq!(outcome(read), expected, "{procedure} reordered");
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
        let example = &command_examples()["register_permanent"];
        let procedure = "register_permanent";
        let plain = body("\"r-1\"", &text(example));
        assert!(fast_envelope(procedure, &plain).is_some());
        let deferred = |edit: &dyn Fn(&mut Value)| {
            let mut command = example.clone();
            edit(&mut command);
            fast_envelope(procedure, &body("\"r-1\"", &text(&command))).is_none()
        };
        // An id to mint, an unknown unit, an unknown member, a wrong type.
        assert!(deferred(
            &|c| c["household"] = serde_json::json!({"establish": {"household": "new"}})
        ));
        assert!(deferred(&|c| c["address"]["unit"] = "2025:99999".into()));
        assert!(deferred(&|c| c["surprise"] = true.into()));
        assert!(deferred(&|c| c["effective_on"] = 7.into()));
        let text = String::from_utf8(plain).expect("JSON is UTF-8");
        let raw = |text: &str| fast_envelope(procedure, text.as_bytes()).is_none();
        // A duplicate member (the general path refuses it by name), an array for the command
        // object (a derived struct would read it), an escaped text, other members, trailing
        // characters, not JSON.
        assert!(raw(&text.replacen(
            "\"request_id\":\"r-1\"",
            "\"request_id\":\"r-0\",\"request_id\":\"r-1\"",
            1
        )));
        let command = serde_json::to_string(example).expect("a JSON value serialises");
        assert!(raw(&format!(
            "{{\"request_id\":\"r-1\",\"command\":{command},\"command\":{command}}}"
        )));
        let values: Vec<&Value> = example.as_object().expect("an object").values().collect();
        let array = serde_json::to_string(&values).expect("a JSON value serialises");
        assert!(raw(&format!(
            "{{\"request_id\":\"r-1\",\"command\":{array}}}"
        )));
        assert!(raw(&text.replacen("r-1", "r\\u002d1", 1)));
        assert!(raw(&format!(
            "{{\"request_id\":\"r-1\",\"command\":{command},\"x\":1}}"
        )));
        assert!(raw(&format!("{text} x")));
        assert!(raw("{\"request_id\":"));
        assert!(!raw(&text));
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
