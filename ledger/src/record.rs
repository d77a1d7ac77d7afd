//! The record: its value types and its byte codec (`FORMAT.md` §1–§4 and §6.3).
//!
//! Why one module: the record body is the thing every hash, proof and checkpoint rests on, and
//! its bytes can never change once ledgers exist. Keeping the types, the encoder and the decoder
//! side by side makes the round trip checkable in one place, and makes the decoder the single
//! gate through which stored bytes become values.
//!
//! Two decoders share one implementation: [`decode_content`] returns a borrowed view
//! ([`StoredRecordRef`]) that allocates nothing, for the hot paths (opening, index rebuild,
//! verification), and [`StoredRecord::decode`] turns that view into owned values for reads. The
//! decoder never panics: every malformed input is a [`DecodeError`] naming the field and the
//! byte offset at which it went wrong.
//!
//! Values validate on construction (an [`EventType`] or [`Tag`] that exists is well formed), so
//! an encoder fed with them produces only bodies the decoder accepts.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::checkpoint::Origin;
use crate::hash::Hash;
use crate::keys::LedgerSecret;

/// Domain-separation prefix of the record hash (`FORMAT.md` §2.1): 26 ASCII bytes and a zero.
pub const RECORD_HASH_PREFIX: &[u8] = b"residence-ledger/v1/record\0";
/// Domain-separation prefix of the genesis hash (`FORMAT.md` §2.2): 27 ASCII bytes and a zero.
pub const GENESIS_HASH_PREFIX: &[u8] = b"residence-ledger/v1/genesis\0";
/// Longest event type, in bytes.
pub const EVENT_TYPE_LEN_MAX: usize = 64;
/// Longest tag (given or stored form), in bytes.
pub const TAG_LEN_MAX: usize = 128;
/// Most tags on one record.
pub const TAGS_PER_RECORD_MAX: usize = 1024;
/// Longest metadata, in bytes.
pub const METADATA_LEN_MAX: usize = 65_535;
/// Longest payload, in bytes (1 MiB).
pub const PAYLOAD_LEN_MAX: usize = 1_048_576;
/// Longest blinded kind: its stored form `kind:` plus 32 hex digits must fit in a tag.
pub const BLINDED_KIND_LEN_MAX: usize = TAG_LEN_MAX - 1 - 32;
/// Longest record body (`FORMAT.md` §2.1), from the field limits above: the fixed fields, the
/// longest event type, the most tags of the longest length, and the longest metadata.
pub const BODY_LEN_MAX: usize = 8
    + 8
    + 16
    + 1
    + EVENT_TYPE_LEN_MAX
    + 2
    + 2
    + TAGS_PER_RECORD_MAX * (1 + TAG_LEN_MAX + 8)
    + 4
    + METADATA_LEN_MAX
    + 32
    + 32;
/// Longest frame content (`FORMAT.md` §6.3): the longest body with the longest payload. Every
/// record the ledger writes is at most this long (asserted when it is encoded), which is what
/// lets a store bound the records it accepts.
pub const CONTENT_LEN_MAX: usize = content_len(BODY_LEN_MAX, PAYLOAD_LEN_MAX);

/// The back-link value meaning "no earlier record carries this tag".
const NO_POSITION: u64 = u64::MAX;
/// Frame content kind byte of a record (`FORMAT.md` §6.3).
const CONTENT_KIND_RECORD: u8 = 0x01;
/// Payload state byte of a present payload.
const PAYLOAD_PRESENT: u8 = 0x01;
/// Payload state byte of an erased payload.
const PAYLOAD_ERASED: u8 = 0x00;

/// Why a value given to a constructor is not valid. Returned to callers building requests;
/// the API maps every variant to 400 (malformed request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidValue {
    /// The event type is empty, longer than 64 bytes, or has a character other than ASCII
    /// letters, digits, `_`, `.`, `-`. → 400.
    #[error("event type must be 1..=64 ASCII letters, digits, '_', '.' or '-'")]
    EventType,
    /// A tag is empty, longer than 128 bytes, or has a byte outside printable ASCII
    /// (0x21..=0x7E). The tag itself is not echoed: it may hold personal data. → 400.
    #[error("tag must be 1..=128 printable ASCII bytes without spaces")]
    Tag,
    /// The schema version is 0. → 400.
    #[error("schema version must be at least 1")]
    SchemaVersion,
    /// A blinded kind is empty, longer than 95 bytes, holds a `:` or a byte outside printable
    /// ASCII. → refuse to create the ledger.
    #[error("blinded tag kind must be 1..=95 printable ASCII bytes without ':'")]
    BlindedKind,
    /// An event id text is not 32 lowercase hex digits. → 400.
    #[error("event id must be 32 lowercase hex digits")]
    EventId,
}

/// A 0-based, gapless position in the ledger.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Position(pub u64);

impl Position {
    /// The position as a number.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }

    /// The position after this one.
    #[must_use]
    pub fn next(self) -> Position {
        Position(self.0.saturating_add(1))
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A point in time: microseconds since 1970-01-01T00:00:00Z (UTC), as stored in `recorded_at`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// Microseconds since the epoch.
    #[must_use]
    pub fn micros(self) -> i64 {
        self.0
    }

    /// The same instant as a chrono date-time, or `None` beyond chrono's range (about ±262,000
    /// years, so only for hand-made values).
    #[must_use]
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_micros(self.0)
    }

    /// The instant of a chrono date-time, truncated to whole microseconds.
    #[must_use]
    pub fn from_datetime(time: DateTime<Utc>) -> Timestamp {
        Timestamp(time.timestamp_micros())
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(time: DateTime<Utc>) -> Timestamp {
        Timestamp::from_datetime(time)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_datetime() {
            Some(time) => write!(f, "{}", time.format("%Y-%m-%dT%H:%M:%S%.6fZ")),
            None => write!(f, "{}µs", self.0),
        }
    }
}

/// The client's idempotency key for one record: 16 bytes, shown as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(pub [u8; 16]);

impl EventId {
    /// The raw bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses 32 lowercase hex digits.
    ///
    /// # Errors
    /// [`InvalidValue::EventId`] for any other text.
    pub fn from_hex(text: &str) -> Result<EventId, InvalidValue> {
        if text.len() != 32 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(InvalidValue::EventId);
        }
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| InvalidValue::EventId)?;
        Ok(EventId(bytes))
    }

    /// 32 lowercase hex digits.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({self})")
    }
}

impl std::str::FromStr for EventId {
    type Err = InvalidValue;

    fn from_str(text: &str) -> Result<EventId, InvalidValue> {
        EventId::from_hex(text)
    }
}

impl serde::Serialize for EventId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for EventId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<EventId, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        EventId::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

fn is_event_type_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-')
}

fn is_valid_event_type(bytes: &[u8]) -> bool {
    (1..=EVENT_TYPE_LEN_MAX).contains(&bytes.len()) && bytes.iter().all(|b| is_event_type_byte(*b))
}

/// A record's event type, e.g. `PermanentResidenceRegistered` (`FORMAT.md` §1).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct EventType(String);

impl EventType {
    /// Validates an event type.
    ///
    /// # Errors
    /// [`InvalidValue::EventType`] unless the text is 1..=64 ASCII letters, digits, `_`, `.`, `-`.
    pub fn new(text: impl Into<String>) -> Result<EventType, InvalidValue> {
        let text = text.into();
        if is_valid_event_type(text.as_bytes()) {
            Ok(EventType(text))
        } else {
            Err(InvalidValue::EventType)
        }
    }

    /// The event type as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for EventType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<EventType, D::Error> {
        EventType::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The version of an event type's payload schema, at least 1.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "u16", into = "u16")]
pub struct SchemaVersion(u16);

impl SchemaVersion {
    /// Validates a schema version.
    ///
    /// # Errors
    /// [`InvalidValue::SchemaVersion`] for 0.
    pub fn new(version: u16) -> Result<SchemaVersion, InvalidValue> {
        if version == 0 {
            Err(InvalidValue::SchemaVersion)
        } else {
            Ok(SchemaVersion(version))
        }
    }

    /// The version number.
    #[must_use]
    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for SchemaVersion {
    type Error = InvalidValue;

    fn try_from(version: u16) -> Result<SchemaVersion, InvalidValue> {
        SchemaVersion::new(version)
    }
}

impl From<SchemaVersion> for u16 {
    fn from(version: SchemaVersion) -> u16 {
        version.0
    }
}

impl fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

fn is_valid_tag(bytes: &[u8]) -> bool {
    (1..=TAG_LEN_MAX).contains(&bytes.len()) && bytes.iter().all(|b| (0x21..=0x7E).contains(b))
}

/// The kind of a tag: the bytes before its first `:`, or the whole tag without one.
fn tag_kind(tag: &str) -> &str {
    tag.split_once(':').map_or(tag, |(kind, _)| kind)
}

/// A tag in its **given form**, as callers write it: `kind:value` (`FORMAT.md` §3).
///
/// A given tag of a blinded kind (`pin:…`) may hold personal data, so its `Debug` output hides
/// the value and it is never echoed in an error.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl TryFrom<String> for Tag {
    type Error = InvalidValue;

    fn try_from(text: String) -> Result<Tag, InvalidValue> {
        Tag::new(text)
    }
}

impl From<Tag> for String {
    fn from(tag: Tag) -> String {
        tag.0
    }
}

impl Tag {
    /// Validates a tag in given form.
    ///
    /// # Errors
    /// [`InvalidValue::Tag`] unless the text is 1..=128 printable ASCII bytes (0x21..=0x7E).
    pub fn new(text: impl Into<String>) -> Result<Tag, InvalidValue> {
        let text = text.into();
        if is_valid_tag(text.as_bytes()) {
            Ok(Tag(text))
        } else {
            Err(InvalidValue::Tag)
        }
    }

    /// The tag as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bytes before the first `:` (the whole tag without one).
    #[must_use]
    pub fn kind(&self) -> &str {
        tag_kind(&self.0)
    }

    /// The bytes after the first `:`; empty for a tag without one.
    #[must_use]
    pub fn value(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, value)| value)
    }

    /// The stored form of this tag (`FORMAT.md` §3): tags of a blinded kind become
    /// `kind:` followed by 32 lowercase hex digits of `BLAKE3_KEYED(tag_key, value)[0..16]`;
    /// other tags are stored as given. A blinded-kind tag without `:` has an empty value.
    #[must_use]
    pub fn to_stored(&self, blinding: &TagBlinding<'_>) -> StoredTag {
        self.blinded(blinding)
            .unwrap_or_else(|| StoredTag(self.0.clone()))
    }

    /// As [`Tag::to_stored`], reusing this tag's text when it is stored as given.
    #[must_use]
    pub fn into_stored(self, blinding: &TagBlinding<'_>) -> StoredTag {
        self.blinded(blinding).unwrap_or(StoredTag(self.0))
    }

    /// The blinded stored form, or `None` when the tag's kind is not blinded.
    fn blinded(&self, blinding: &TagBlinding<'_>) -> Option<StoredTag> {
        let kind = self.kind();
        if !blinding.kinds.contains(kind) {
            return None;
        }
        let keyed = blinding.secret.blind_tag_value(self.value().as_bytes());
        let mut text = String::with_capacity(kind.len() + 1 + 32);
        text.push_str(kind);
        text.push(':');
        for byte in &keyed[..16] {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
        Some(StoredTag(text))
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The kind is never personal data; the value may be (a PIN).
        write!(f, "Tag({}:…)", self.kind())
    }
}

/// The kinds of tag that are blinded, fixed when a ledger is created (`FORMAT.md` §3).
///
/// The ledger has no list of its own: which kinds carry personal data is the caller's knowledge
/// (the domain's), so the caller names them when it creates or opens a ledger, and the manifest
/// keeps them. There is deliberately no `Default`: a default would let a caller forget a kind
/// and store its values unblinded, forever.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct BlindedKinds(Vec<String>);

impl BlindedKinds {
    /// Validates a list of blinded kinds (sorted and deduplicated here).
    ///
    /// # Errors
    /// [`InvalidValue::BlindedKind`] for a kind that is empty, longer than 95 bytes, or holds a
    /// `:` or a byte outside printable ASCII.
    pub fn new<I, S>(kinds: I) -> Result<BlindedKinds, InvalidValue>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut list = Vec::new();
        for kind in kinds {
            let kind = kind.into();
            let ok = (1..=BLINDED_KIND_LEN_MAX).contains(&kind.len())
                && kind
                    .bytes()
                    .all(|b| (0x21..=0x7E).contains(&b) && b != b':');
            if !ok {
                return Err(InvalidValue::BlindedKind);
            }
            list.push(kind);
        }
        list.sort();
        list.dedup();
        Ok(BlindedKinds(list))
    }

    /// No blinded kinds (for tests of unblinded behaviour).
    #[must_use]
    pub fn none() -> BlindedKinds {
        BlindedKinds(Vec::new())
    }

    /// Whether tags of `kind` are blinded.
    #[must_use]
    pub fn contains(&self, kind: &str) -> bool {
        self.0.binary_search_by(|k| k.as_str().cmp(kind)).is_ok()
    }

    /// The kinds, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl TryFrom<Vec<String>> for BlindedKinds {
    type Error = InvalidValue;

    fn try_from(kinds: Vec<String>) -> Result<BlindedKinds, InvalidValue> {
        BlindedKinds::new(kinds)
    }
}

impl From<BlindedKinds> for Vec<String> {
    fn from(kinds: BlindedKinds) -> Vec<String> {
        kinds.0
    }
}

/// What turns a given tag into its stored form: the blinded kinds and the ledger secret.
#[derive(Debug, Clone, Copy)]
pub struct TagBlinding<'a> {
    /// The kinds that are blinded.
    pub kinds: &'a BlindedKinds,
    /// The secret from which the tag key is derived.
    pub secret: &'a LedgerSecret,
}

/// A tag in its **stored form** (`FORMAT.md` §3): what is hashed into records and indexed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct StoredTag(String);

impl StoredTag {
    /// Validates a tag already in stored form (as read from a record or a proof).
    ///
    /// # Errors
    /// [`InvalidValue::Tag`] unless the text is 1..=128 printable ASCII bytes.
    pub fn new(text: impl Into<String>) -> Result<StoredTag, InvalidValue> {
        let text = text.into();
        if is_valid_tag(text.as_bytes()) {
            Ok(StoredTag(text))
        } else {
            Err(InvalidValue::Tag)
        }
    }

    /// The stored form as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bytes before the first `:`.
    #[must_use]
    pub fn kind(&self) -> &str {
        tag_kind(&self.0)
    }
}

impl fmt::Display for StoredTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One tag of a record with its back-link: the previous position carrying the same stored tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagLink {
    /// The tag, in stored form.
    pub tag: StoredTag,
    /// The largest earlier position whose record carries `tag`, or `None`.
    pub prev: Option<Position>,
}

/// The salt of a payload commitment (`FORMAT.md` §4). Not secret once handed out with a proof,
/// but unpredictable without the ledger secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Salt(pub [u8; 32]);

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Salt({})", hex::encode(self.0))
    }
}

/// `BLAKE3(salt ‖ payload)`, the commitment hashed into the record (`FORMAT.md` §4).
#[must_use]
pub fn payload_commitment(salt: &Salt, payload: &[u8]) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&salt.0);
    hasher.update(payload);
    Hash::from(hasher.finalize())
}

/// The hashed part of a record (`FORMAT.md` §1, §2.1), owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 0-based, gapless position.
    pub position: Position,
    /// When the sequencer recorded it; never decreasing along the ledger.
    pub recorded_at: Timestamp,
    /// The client's idempotency key.
    pub event_id: EventId,
    /// The event type.
    pub event_type: EventType,
    /// The payload schema version.
    pub schema_version: SchemaVersion,
    /// Tags in stored form, strictly ascending, with back-links.
    pub tags: Vec<TagLink>,
    /// Opaque metadata (by convention a JSON object), at most 65,535 bytes.
    pub metadata: Vec<u8>,
    /// `BLAKE3(salt ‖ payload)`.
    pub payload_commitment: Hash,
    /// The record hash of the previous position, or the genesis hash at position 0.
    pub prev_hash: Hash,
}

/// A payload as stored beside its record.
#[derive(Clone, PartialEq, Eq)]
pub enum Payload {
    /// Salt and bytes are stored; the commitment can be recomputed.
    Present {
        /// The salt.
        salt: Salt,
        /// The payload bytes (the event JSON).
        bytes: Vec<u8>,
    },
    /// Salt and bytes were overwritten with zeros; only the length is kept.
    Erased {
        /// The payload's length before erasure.
        len: u32,
    },
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Payload bytes are personal data: show only their length.
        match self {
            Payload::Present { bytes, .. } => write!(f, "Present({} bytes)", bytes.len()),
            Payload::Erased { len } => write!(f, "Erased({len} bytes)"),
        }
    }
}

/// A record as stored: the hashed record, its hash, and its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// The hashed part.
    pub record: Record,
    /// The record hash stored with it (checked against the body when decoded by the ledger).
    pub record_hash: Hash,
    /// The payload, present or erased.
    pub payload: Payload,
}

/// `BLAKE3("residence-ledger/v1/genesis" ‖ 0x00 ‖ origin)` (`FORMAT.md` §2.2).
#[must_use]
pub fn genesis_hash(origin: &Origin) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(GENESIS_HASH_PREFIX);
    hasher.update(origin.as_str().as_bytes());
    Hash::from(hasher.finalize())
}

/// `BLAKE3("residence-ledger/v1/record" ‖ 0x00 ‖ body)` (`FORMAT.md` §2.1).
#[must_use]
pub fn record_hash(body: &[u8]) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(RECORD_HASH_PREFIX);
    hasher.update(body);
    Hash::from(hasher.finalize())
}

/// The fields of a record body, borrowed, as the encoder takes them.
///
/// The sequencer fills this from prepared requests without building owned [`Record`]s.
/// `tags` yields stored tags with their back-links and MUST be strictly ascending bytewise.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyFields<'a> {
    pub position: Position,
    pub recorded_at: Timestamp,
    pub event_id: &'a EventId,
    pub event_type: &'a str,
    pub schema_version: SchemaVersion,
    pub metadata: &'a [u8],
    pub payload_commitment: &'a Hash,
    pub prev_hash: &'a Hash,
}

/// Appends the record body (`FORMAT.md` §2.1) to `out`.
///
/// The caller guarantees the lengths are in range (they come from validated values); this is
/// asserted, since a violation would be a bug in the ledger, not bad input.
pub(crate) fn write_body<'t>(
    out: &mut Vec<u8>,
    fields: &BodyFields<'_>,
    tags: impl ExactSizeIterator<Item = (&'t str, Option<Position>)>,
) {
    let event_type_len =
        u8::try_from(fields.event_type.len()).expect("event type length validated to ≤ 64");
    let tag_count = u16::try_from(tags.len()).expect("tag count validated to ≤ 1024");
    let metadata_len = u32::try_from(fields.metadata.len()).expect("metadata validated to ≤ 65535");
    out.extend_from_slice(&fields.position.0.to_le_bytes());
    out.extend_from_slice(&fields.recorded_at.0.to_le_bytes());
    out.extend_from_slice(&fields.event_id.0);
    out.push(event_type_len);
    out.extend_from_slice(fields.event_type.as_bytes());
    out.extend_from_slice(&fields.schema_version.0.to_le_bytes());
    out.extend_from_slice(&tag_count.to_le_bytes());
    for (tag, prev) in tags {
        let tag_len = u8::try_from(tag.len()).expect("tag length validated to ≤ 128");
        out.push(tag_len);
        out.extend_from_slice(tag.as_bytes());
        out.extend_from_slice(&prev.map_or(NO_POSITION, Position::get).to_le_bytes());
    }
    out.extend_from_slice(&metadata_len.to_le_bytes());
    out.extend_from_slice(fields.metadata);
    out.extend_from_slice(&fields.payload_commitment.0);
    out.extend_from_slice(&fields.prev_hash.0);
}

/// The exact bytes of a record body (`FORMAT.md` §2.1).
///
/// The record's tags must be strictly ascending (as every decoded or sequenced record's are);
/// this is asserted in debug builds.
#[must_use]
pub fn encode_body(record: &Record) -> Vec<u8> {
    debug_assert!(
        record
            .tags
            .windows(2)
            .all(|pair| pair[0].tag.as_str() < pair[1].tag.as_str()),
        "tags must be strictly ascending"
    );
    let mut out = Vec::with_capacity(body_len_hint(record));
    let fields = BodyFields {
        position: record.position,
        recorded_at: record.recorded_at,
        event_id: &record.event_id,
        event_type: record.event_type.as_str(),
        schema_version: record.schema_version,
        metadata: &record.metadata,
        payload_commitment: &record.payload_commitment,
        prev_hash: &record.prev_hash,
    };
    write_body(
        &mut out,
        &fields,
        record
            .tags
            .iter()
            .map(|link| (link.tag.as_str(), link.prev)),
    );
    out
}

fn body_len_hint(record: &Record) -> usize {
    let tags: usize = record
        .tags
        .iter()
        .map(|link| 9 + link.tag.as_str().len())
        .sum();
    8 + 8
        + 16
        + 1
        + record.event_type.as_str().len()
        + 2
        + 2
        + tags
        + 4
        + record.metadata.len()
        + 64
}

/// Appends a frame content (`FORMAT.md` §6.3) with a present payload to `out`.
pub(crate) fn write_content_present(
    out: &mut Vec<u8>,
    body: &[u8],
    record_hash: &Hash,
    salt: &Salt,
    payload: &[u8],
) {
    write_content_head(out, body.len());
    out.extend_from_slice(body);
    write_content_tail(out, record_hash, salt, payload);
}

/// The length of a frame content with a body of `body_len` and a payload of `payload_len` bytes.
pub(crate) const fn content_len(body_len: usize, payload_len: usize) -> usize {
    1 + 4 + body_len + 32 + 1 + 32 + 4 + payload_len
}

/// The exact length of a record body with these field lengths (`FORMAT.md` §2.1).
pub(crate) fn body_len(
    event_type_len: usize,
    tag_lens: impl Iterator<Item = usize>,
    metadata_len: usize,
) -> usize {
    let tags: usize = tag_lens.map(|len| 1 + len + 8).sum();
    8 + 8 + 16 + 1 + event_type_len + 2 + 2 + tags + 4 + metadata_len + 32 + 32
}

/// Appends the start of a frame content (kind and `body_len`) to `out`; the body follows.
pub(crate) fn write_content_head(out: &mut Vec<u8>, body_len: usize) {
    let body_len = u32::try_from(body_len).expect("record body is bounded far below 4 GiB");
    out.push(CONTENT_KIND_RECORD);
    out.extend_from_slice(&body_len.to_le_bytes());
}

/// Appends the end of a frame content (after the body) with a present payload to `out`.
pub(crate) fn write_content_tail(
    out: &mut Vec<u8>,
    record_hash: &Hash,
    salt: &Salt,
    payload: &[u8],
) {
    let payload_len = u32::try_from(payload.len()).expect("payload validated to ≤ 1 MiB");
    out.extend_from_slice(&record_hash.0);
    out.push(PAYLOAD_PRESENT);
    out.extend_from_slice(&salt.0);
    out.extend_from_slice(&payload_len.to_le_bytes());
    out.extend_from_slice(payload);
}

/// The fields of a frame content that chain it into the ledger, read without decoding the rest:
/// the sequencer checks them on every record just before it is written (a cheap check that the
/// encoded bytes, not only the values they were made from, carry the chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChainLink {
    /// `position`, the first field of the body.
    pub position: Position,
    /// `prev_hash`, the last field of the body.
    pub prev_hash: Hash,
    /// The stored `record_hash`, right after the body.
    pub record_hash: Hash,
}

/// Reads the [`ChainLink`] of a frame content, or `None` when the content is too short for the
/// `body_len` it states. Only the framing around the body is checked, not the body.
pub(crate) fn chain_link(content: &[u8]) -> Option<ChainLink> {
    let body_len = u32::from_le_bytes(content.get(1..5)?.try_into().ok()?) as usize;
    let body = content.get(5..5usize.checked_add(body_len)?)?;
    let position = u64::from_le_bytes(body.get(0..8)?.try_into().ok()?);
    let prev_hash = body.get(body_len.checked_sub(32)?..)?;
    let record_hash = content.get(5 + body_len..5 + body_len + 32)?;
    Some(ChainLink {
        position: Position(position),
        prev_hash: Hash(prev_hash.try_into().ok()?),
        record_hash: Hash(record_hash.try_into().ok()?),
    })
}

/// Decodes a frame content just encoded from `fields`, `tags`, `record_hash`, `salt` and
/// `payload`, and names the first field that does not come back as it went in.
///
/// The encoder's half of the paired check (the decoder's half runs on every read): a full decode
/// per record is too dear for the write path in release builds, so the sequencer runs this in
/// `debug_assert`s, which every test build has on.
///
/// # Errors
/// A description of the first field that differs, or of the decode error.
pub(crate) fn check_round_trip<'t>(
    content: &[u8],
    fields: &BodyFields<'_>,
    tags: impl Iterator<Item = (&'t str, Option<Position>)>,
    record_hash: &Hash,
    salt: &Salt,
    payload: &[u8],
) -> Result<(), String> {
    let view = decode_content(content).map_err(|error| format!("does not decode: {error}"))?;
    let record = &view.record;
    let differs = |field: &str| Err(format!("{field} differs from what was encoded"));
    if record.position != fields.position {
        return differs("position");
    }
    if record.recorded_at != fields.recorded_at {
        return differs("recorded_at");
    }
    if record.event_id != *fields.event_id {
        return differs("event_id");
    }
    if record.event_type != fields.event_type {
        return differs("event_type");
    }
    if record.schema_version != fields.schema_version {
        return differs("schema_version");
    }
    let mut stored = record.tags.iter();
    for (tag, prev) in tags {
        if stored.next() != Some((tag, prev)) {
            return differs("tags");
        }
    }
    if stored.next().is_some() {
        return differs("tags");
    }
    if record.metadata != fields.metadata {
        return differs("metadata");
    }
    if record.payload_commitment != *fields.payload_commitment {
        return differs("payload_commitment");
    }
    if record.prev_hash != *fields.prev_hash {
        return differs("prev_hash");
    }
    if view.record_hash != *record_hash || !view.hash_matches() {
        return differs("record_hash");
    }
    match view.payload {
        PayloadRef::Present {
            salt: stored,
            bytes,
        } if *stored == salt.0 && bytes == payload => {}
        _ => return differs("payload"),
    }
    if !view.payload_matches() {
        return differs("payload commitment of the stored payload");
    }
    Ok(())
}

impl StoredRecord {
    /// The frame content (`FORMAT.md` §6.3) of this record: body, stored hash and payload.
    ///
    /// The stored `record_hash` is written as it is, even if it does not match the body (tests
    /// use this to build damaged records).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let body = encode_body(&self.record);
        let payload_len = match &self.payload {
            Payload::Present { bytes, .. } => bytes.len(),
            Payload::Erased { len } => *len as usize,
        };
        let mut out = Vec::with_capacity(content_len(body.len(), payload_len));
        match &self.payload {
            Payload::Present { salt, bytes } => {
                write_content_present(&mut out, &body, &self.record_hash, salt, bytes);
            }
            Payload::Erased { len } => {
                let body_len = u32::try_from(body.len()).expect("bounded body");
                out.push(CONTENT_KIND_RECORD);
                out.extend_from_slice(&body_len.to_le_bytes());
                out.extend_from_slice(&body);
                out.extend_from_slice(&self.record_hash.0);
                out.push(PAYLOAD_ERASED);
                out.extend_from_slice(&[0u8; 32]);
                out.extend_from_slice(&len.to_le_bytes());
                out.resize(out.len() + *len as usize, 0);
            }
        }
        out
    }

    /// Decodes a frame content into owned values. The stored record hash is returned as it is;
    /// checking it against the body is the caller's business ([`StoredRecordRef::hash_matches`]).
    ///
    /// # Errors
    /// [`DecodeError`] naming the first malformed field and its byte offset.
    pub fn decode(content: &[u8]) -> Result<StoredRecord, DecodeError> {
        Ok(decode_content(content)?.to_owned_record())
    }
}

/// A field of the stored record, for [`DecodeError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The content kind byte.
    Kind,
    /// `body_len`.
    BodyLen,
    /// `position`.
    Position,
    /// `recorded_at`.
    RecordedAt,
    /// `event_id`.
    EventId,
    /// `event_type_len`.
    EventTypeLen,
    /// `event_type`.
    EventType,
    /// `schema_version`.
    SchemaVersion,
    /// `tag_count`.
    TagCount,
    /// `tag_len` of the tag with this index.
    TagLen(u16),
    /// The tag with this index.
    Tag(u16),
    /// `prev_position` of the tag with this index.
    TagPrevPosition(u16),
    /// `metadata_len`.
    MetadataLen,
    /// `metadata`.
    Metadata,
    /// `payload_commitment`.
    PayloadCommitment,
    /// `prev_hash`.
    PrevHash,
    /// The body as a whole (trailing bytes).
    Body,
    /// The stored `record_hash`.
    RecordHash,
    /// `payload_state`.
    PayloadState,
    /// `salt`.
    Salt,
    /// `payload_len`.
    PayloadLen,
    /// `payload`.
    Payload,
    /// The content as a whole (trailing bytes).
    Content,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Kind => f.write_str("kind"),
            Field::BodyLen => f.write_str("body_len"),
            Field::Position => f.write_str("position"),
            Field::RecordedAt => f.write_str("recorded_at"),
            Field::EventId => f.write_str("event_id"),
            Field::EventTypeLen => f.write_str("event_type_len"),
            Field::EventType => f.write_str("event_type"),
            Field::SchemaVersion => f.write_str("schema_version"),
            Field::TagCount => f.write_str("tag_count"),
            Field::TagLen(index) => write!(f, "tag_len of tag {index}"),
            Field::Tag(index) => write!(f, "tag {index}"),
            Field::TagPrevPosition(index) => write!(f, "prev_position of tag {index}"),
            Field::MetadataLen => f.write_str("metadata_len"),
            Field::Metadata => f.write_str("metadata"),
            Field::PayloadCommitment => f.write_str("payload_commitment"),
            Field::PrevHash => f.write_str("prev_hash"),
            Field::Body => f.write_str("body"),
            Field::RecordHash => f.write_str("record_hash"),
            Field::PayloadState => f.write_str("payload_state"),
            Field::Salt => f.write_str("salt"),
            Field::PayloadLen => f.write_str("payload_len"),
            Field::Payload => f.write_str("payload"),
            Field::Content => f.write_str("content"),
        }
    }
}

/// What is wrong with a field, for [`DecodeError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeProblem {
    /// The bytes end before the field does.
    Truncated,
    /// A length or count outside its range.
    OutOfRange {
        /// The value found.
        value: u64,
    },
    /// Bytes that are not allowed in the field (a character set, a zero version).
    InvalidBytes,
    /// A tag not strictly greater than the one before it.
    NotAscending,
    /// A back-link not smaller than the record's own position.
    BackLinkNotBefore,
    /// Bytes left over after the last field.
    Trailing {
        /// How many.
        count: usize,
    },
    /// An unknown kind or payload-state byte.
    Unknown {
        /// The byte found.
        value: u8,
    },
}

impl fmt::Display for DecodeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeProblem::Truncated => f.write_str("truncated"),
            DecodeProblem::OutOfRange { value } => write!(f, "value {value} out of range"),
            DecodeProblem::InvalidBytes => f.write_str("invalid bytes"),
            DecodeProblem::NotAscending => f.write_str("not strictly ascending"),
            DecodeProblem::BackLinkNotBefore => {
                f.write_str("back-link not before the record's position")
            }
            DecodeProblem::Trailing { count } => write!(f, "{count} trailing bytes"),
            DecodeProblem::Unknown { value } => write!(f, "unknown value 0x{value:02x}"),
        }
    }
}

/// Stored bytes that are not a well-formed record. Raised while opening (→ refuse to open
/// unless the record is a torn tail), while reading (→ 500, point to `residence verify`) and by
/// `verify` (reported with the position, file and offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed {field} at byte {offset}: {problem}")]
pub struct DecodeError {
    /// The field at fault.
    pub field: Field,
    /// Byte offset within the frame content where the field starts.
    pub offset: usize,
    /// What is wrong.
    pub problem: DecodeProblem,
}

/// A bounds-checked reader over a byte slice; every read names its field.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, field: Field) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(DecodeError {
                field,
                offset: self.at,
                problem: DecodeProblem::Truncated,
            })?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, field: Field) -> Result<&'a [u8; N], DecodeError> {
        let slice = self.take(N, field)?;
        Ok(slice.try_into().expect("take returned exactly N bytes"))
    }

    fn u8(&mut self, field: Field) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: Field) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(*self.array(field)?))
    }

    fn u32(&mut self, field: Field) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(*self.array(field)?))
    }

    fn u64(&mut self, field: Field) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(*self.array(field)?))
    }

    fn error(&self, field: Field, offset: usize, problem: DecodeProblem) -> DecodeError {
        DecodeError {
            field,
            offset,
            problem,
        }
    }
}

/// The tags of a decoded body: already validated, iterated without allocation.
#[derive(Debug, Clone, Copy)]
pub struct TagsRef<'a> {
    bytes: &'a [u8],
    count: u16,
}

impl<'a> TagsRef<'a> {
    /// The number of tags.
    #[must_use]
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// Whether the record has no tag.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The tags (stored form) with their back-links, in stored (ascending) order.
    #[must_use]
    pub fn iter(&self) -> TagsIter<'a> {
        TagsIter {
            bytes: self.bytes,
            remaining: self.count,
        }
    }
}

impl<'a> IntoIterator for TagsRef<'a> {
    type Item = (&'a str, Option<Position>);
    type IntoIter = TagsIter<'a>;

    fn into_iter(self) -> TagsIter<'a> {
        self.iter()
    }
}

/// Iterator over [`TagsRef`].
#[derive(Debug, Clone)]
pub struct TagsIter<'a> {
    bytes: &'a [u8],
    remaining: u16,
}

impl<'a> Iterator for TagsIter<'a> {
    type Item = (&'a str, Option<Position>);

    fn next(&mut self) -> Option<Self::Item> {
        // The bytes were validated by `decode_body`, so the `get`s below always succeed; they
        // are written without indexing so that even a bug here cannot panic.
        if self.remaining == 0 {
            return None;
        }
        let (&len, rest) = self.bytes.split_first()?;
        let len = usize::from(len);
        let tag = rest.get(..len)?;
        let prev = rest.get(len..len + 8)?;
        self.bytes = rest.get(len + 8..)?;
        self.remaining -= 1;
        let tag = std::str::from_utf8(tag).ok()?;
        let prev = u64::from_le_bytes(prev.try_into().ok()?);
        Some((tag, (prev != NO_POSITION).then_some(Position(prev))))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (
            usize::from(self.remaining),
            Some(usize::from(self.remaining)),
        )
    }
}

impl ExactSizeIterator for TagsIter<'_> {}

/// A decoded record body, borrowing the bytes it was decoded from.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    /// `position`.
    pub position: Position,
    /// `recorded_at`.
    pub recorded_at: Timestamp,
    /// `event_id`.
    pub event_id: EventId,
    /// `event_type` (validated).
    pub event_type: &'a str,
    /// `schema_version` (≥ 1).
    pub schema_version: SchemaVersion,
    /// The tags with back-links (validated: lengths, characters, order, back-links).
    pub tags: TagsRef<'a>,
    /// `metadata`.
    pub metadata: &'a [u8],
    /// `payload_commitment`.
    pub payload_commitment: Hash,
    /// `prev_hash`.
    pub prev_hash: Hash,
}

impl RecordRef<'_> {
    /// Owned values of this body.
    #[must_use]
    pub fn to_owned_record(&self) -> Record {
        Record {
            position: self.position,
            recorded_at: self.recorded_at,
            event_id: self.event_id,
            event_type: EventType(self.event_type.to_owned()),
            schema_version: self.schema_version,
            tags: self
                .tags
                .iter()
                .map(|(tag, prev)| TagLink {
                    tag: StoredTag(tag.to_owned()),
                    prev,
                })
                .collect(),
            metadata: self.metadata.to_vec(),
            payload_commitment: self.payload_commitment,
            prev_hash: self.prev_hash,
        }
    }
}

/// A stored payload, borrowed.
#[derive(Debug, Clone, Copy)]
pub enum PayloadRef<'a> {
    /// Salt and bytes are stored.
    Present {
        /// The salt.
        salt: &'a [u8; 32],
        /// The payload bytes.
        bytes: &'a [u8],
    },
    /// Erased; only the length is kept. The zeroed bytes are not inspected.
    Erased {
        /// The payload's length.
        len: u32,
    },
}

/// A decoded frame content (`FORMAT.md` §6.3), borrowing its bytes.
#[derive(Debug, Clone, Copy)]
pub struct StoredRecordRef<'a> {
    /// The decoded body.
    pub record: RecordRef<'a>,
    /// The body's exact bytes (what the record hash covers).
    pub body: &'a [u8],
    /// The record hash as stored (not yet checked).
    pub record_hash: Hash,
    /// The payload.
    pub payload: PayloadRef<'a>,
    /// Offset of `payload_state` within the content.
    pub payload_state_offset: usize,
    /// Offset of the payload bytes within the content.
    pub payload_offset: usize,
}

impl StoredRecordRef<'_> {
    /// Whether the stored record hash is the hash of the body.
    #[must_use]
    pub fn hash_matches(&self) -> bool {
        record_hash(self.body) == self.record_hash
    }

    /// Whether a present payload matches the body's commitment (an erased one always does:
    /// its commitment can no longer be opened, and need not be).
    #[must_use]
    pub fn payload_matches(&self) -> bool {
        match self.payload {
            PayloadRef::Present { salt, bytes } => {
                payload_commitment(&Salt(*salt), bytes) == self.record.payload_commitment
            }
            PayloadRef::Erased { .. } => true,
        }
    }

    /// Owned values of this stored record.
    #[must_use]
    pub fn to_owned_record(&self) -> StoredRecord {
        StoredRecord {
            record: self.record.to_owned_record(),
            record_hash: self.record_hash,
            payload: match self.payload {
                PayloadRef::Present { salt, bytes } => Payload::Present {
                    salt: Salt(*salt),
                    bytes: bytes.to_vec(),
                },
                PayloadRef::Erased { len } => Payload::Erased { len },
            },
        }
    }
}

/// Decodes and validates a record body (`FORMAT.md` §2.1). Offsets in errors are relative to
/// `base`, the body's offset within whatever holds it.
///
/// # Errors
/// [`DecodeError`] for trailing bytes, a length outside its range, bad characters, tags out of
/// order, a back-link not smaller than the position, or a schema version of 0.
pub fn decode_body(body: &[u8], base: usize) -> Result<RecordRef<'_>, DecodeError> {
    let mut r = Reader { bytes: body, at: 0 };
    let err = |field, offset: usize, problem| DecodeError {
        field,
        offset: base + offset,
        problem,
    };
    let rebase = |mut e: DecodeError| {
        e.offset += base;
        e
    };
    let position = Position(r.u64(Field::Position).map_err(rebase)?);
    let recorded_at = Timestamp(i64::from_le_bytes(
        *r.array(Field::RecordedAt).map_err(rebase)?,
    ));
    let event_id = EventId(*r.array(Field::EventId).map_err(rebase)?);
    let at = r.at;
    let event_type_len = usize::from(r.u8(Field::EventTypeLen).map_err(rebase)?);
    if !(1..=EVENT_TYPE_LEN_MAX).contains(&event_type_len) {
        return Err(err(
            Field::EventTypeLen,
            at,
            DecodeProblem::OutOfRange {
                value: event_type_len as u64,
            },
        ));
    }
    let at = r.at;
    let event_type = r.take(event_type_len, Field::EventType).map_err(rebase)?;
    if !is_valid_event_type(event_type) {
        return Err(err(Field::EventType, at, DecodeProblem::InvalidBytes));
    }
    let event_type = std::str::from_utf8(event_type)
        .map_err(|_| err(Field::EventType, at, DecodeProblem::InvalidBytes))?;
    let at = r.at;
    let schema_version = SchemaVersion::new(r.u16(Field::SchemaVersion).map_err(rebase)?)
        .map_err(|_| err(Field::SchemaVersion, at, DecodeProblem::InvalidBytes))?;
    let at = r.at;
    let tag_count = r.u16(Field::TagCount).map_err(rebase)?;
    if usize::from(tag_count) > TAGS_PER_RECORD_MAX {
        return Err(err(
            Field::TagCount,
            at,
            DecodeProblem::OutOfRange {
                value: tag_count.into(),
            },
        ));
    }
    let tags_start = r.at;
    let mut previous: Option<&[u8]> = None;
    for index in 0..tag_count {
        let at = r.at;
        let tag_len = usize::from(r.u8(Field::TagLen(index)).map_err(rebase)?);
        if !(1..=TAG_LEN_MAX).contains(&tag_len) {
            return Err(err(
                Field::TagLen(index),
                at,
                DecodeProblem::OutOfRange {
                    value: tag_len as u64,
                },
            ));
        }
        let at = r.at;
        let tag = r.take(tag_len, Field::Tag(index)).map_err(rebase)?;
        if !is_valid_tag(tag) {
            return Err(err(Field::Tag(index), at, DecodeProblem::InvalidBytes));
        }
        if previous.is_some_and(|before| before >= tag) {
            return Err(err(Field::Tag(index), at, DecodeProblem::NotAscending));
        }
        previous = Some(tag);
        let at = r.at;
        let prev = r.u64(Field::TagPrevPosition(index)).map_err(rebase)?;
        if prev != NO_POSITION && prev >= position.0 {
            return Err(err(
                Field::TagPrevPosition(index),
                at,
                DecodeProblem::BackLinkNotBefore,
            ));
        }
    }
    let tags = TagsRef {
        bytes: &body[tags_start..r.at],
        count: tag_count,
    };
    let at = r.at;
    let metadata_len = r.u32(Field::MetadataLen).map_err(rebase)?;
    if metadata_len as usize > METADATA_LEN_MAX {
        return Err(err(
            Field::MetadataLen,
            at,
            DecodeProblem::OutOfRange {
                value: metadata_len.into(),
            },
        ));
    }
    let metadata = r
        .take(metadata_len as usize, Field::Metadata)
        .map_err(rebase)?;
    let payload_commitment = Hash(*r.array(Field::PayloadCommitment).map_err(rebase)?);
    let prev_hash = Hash(*r.array(Field::PrevHash).map_err(rebase)?);
    if r.at != body.len() {
        return Err(err(
            Field::Body,
            r.at,
            DecodeProblem::Trailing {
                count: body.len() - r.at,
            },
        ));
    }
    Ok(RecordRef {
        position,
        recorded_at,
        event_id,
        event_type,
        schema_version,
        tags,
        metadata,
        payload_commitment,
        prev_hash,
    })
}

/// Decodes and validates a frame content (`FORMAT.md` §6.3) without allocating. The stored
/// record hash and the payload commitment are not checked here (see
/// [`StoredRecordRef::hash_matches`] and [`StoredRecordRef::payload_matches`]).
///
/// # Errors
/// [`DecodeError`] naming the first malformed field and its byte offset within `content`.
pub fn decode_content(content: &[u8]) -> Result<StoredRecordRef<'_>, DecodeError> {
    let mut r = Reader {
        bytes: content,
        at: 0,
    };
    let kind = r.u8(Field::Kind)?;
    if kind != CONTENT_KIND_RECORD {
        return Err(r.error(Field::Kind, 0, DecodeProblem::Unknown { value: kind }));
    }
    let at = r.at;
    let body_len = r.u32(Field::BodyLen)? as usize;
    if body_len > content.len() {
        return Err(r.error(
            Field::BodyLen,
            at,
            DecodeProblem::OutOfRange {
                value: body_len as u64,
            },
        ));
    }
    let body_start = r.at;
    let body = r.take(body_len, Field::Body)?;
    let record = decode_body(body, body_start)?;
    let record_hash = Hash(*r.array(Field::RecordHash)?);
    let payload_state_offset = r.at;
    let state = r.u8(Field::PayloadState)?;
    let salt = r.array::<32>(Field::Salt)?;
    let at = r.at;
    let payload_len = r.u32(Field::PayloadLen)?;
    if payload_len as usize > PAYLOAD_LEN_MAX {
        return Err(r.error(
            Field::PayloadLen,
            at,
            DecodeProblem::OutOfRange {
                value: payload_len.into(),
            },
        ));
    }
    let payload_offset = r.at;
    let bytes = r.take(payload_len as usize, Field::Payload)?;
    if r.at != content.len() {
        return Err(r.error(
            Field::Content,
            r.at,
            DecodeProblem::Trailing {
                count: content.len() - r.at,
            },
        ));
    }
    let payload = match state {
        PAYLOAD_PRESENT => PayloadRef::Present { salt, bytes },
        PAYLOAD_ERASED => PayloadRef::Erased { len: payload_len },
        value => {
            return Err(r.error(
                Field::PayloadState,
                payload_state_offset,
                DecodeProblem::Unknown { value },
            ));
        }
    };
    Ok(StoredRecordRef {
        record,
        body,
        record_hash,
        payload,
        payload_state_offset,
        payload_offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngCore, SeedableRng};

    fn sample_record() -> StoredRecord {
        let salt = Salt([7; 32]);
        let payload = br#"{"person":"p1"}"#.to_vec();
        StoredRecord {
            record: Record {
                position: Position(5),
                recorded_at: Timestamp(1_700_000_000_000_000),
                event_id: EventId([0xAB; 16]),
                event_type: EventType::new("PermanentResidenceRegistered").expect("valid"),
                schema_version: SchemaVersion::new(1).expect("valid"),
                tags: vec![
                    TagLink {
                        tag: StoredTag::new("household:h1").expect("valid"),
                        prev: None,
                    },
                    TagLink {
                        tag: StoredTag::new("person:p1").expect("valid"),
                        prev: Some(Position(2)),
                    },
                ],
                metadata: br#"{"actor":"a"}"#.to_vec(),
                payload_commitment: payload_commitment(&salt, &payload),
                prev_hash: Hash([9; 32]),
            },
            record_hash: Hash::ZERO,
            payload: Payload::Present {
                salt,
                bytes: payload,
            },
        }
    }

    #[test]
    fn content_round_trips_and_hash_covers_exact_body() {
        let mut stored = sample_record();
        stored.record_hash = record_hash(&encode_body(&stored.record));
        let bytes = stored.encode();
        let view = decode_content(&bytes).expect("decodes");
        assert!(view.hash_matches());
        assert!(view.payload_matches());
        assert_eq!(view.body, encode_body(&stored.record).as_slice());
        assert_eq!(StoredRecord::decode(&bytes).expect("decodes"), stored);
        assert_eq!(bytes[view.payload_state_offset], PAYLOAD_PRESENT);
        assert_eq!(&bytes[view.payload_offset..], br#"{"person":"p1"}"#);
    }

    /// The writer's two checks on encoded bytes: the chain fields read without decoding, and
    /// the round trip that names the field that did not come back.
    #[test]
    fn chain_link_and_round_trip_check_read_what_was_encoded() {
        let mut stored = sample_record();
        stored.record_hash = record_hash(&encode_body(&stored.record));
        let bytes = stored.encode();
        assert_eq!(
            chain_link(&bytes),
            Some(ChainLink {
                position: Position(5),
                prev_hash: Hash([9; 32]),
                record_hash: stored.record_hash,
            })
        );
        for len in 0..bytes.len() {
            // Never a panic on a short content; `None` once the stored hash is cut off.
            let link = chain_link(&bytes[..len]);
            assert!(link.is_none() || len >= 5 + encode_body(&stored.record).len() + 32);
        }

        let record = &stored.record;
        let fields = BodyFields {
            position: record.position,
            recorded_at: record.recorded_at,
            event_id: &record.event_id,
            event_type: record.event_type.as_str(),
            schema_version: record.schema_version,
            metadata: &record.metadata,
            payload_commitment: &record.payload_commitment,
            prev_hash: &record.prev_hash,
        };
        let tags = || {
            record
                .tags
                .iter()
                .map(|link| (link.tag.as_str(), link.prev))
        };
        let Payload::Present {
            salt,
            bytes: payload,
        } = &stored.payload
        else {
            panic!("the sample payload is present");
        };
        let check = |content: &[u8]| {
            check_round_trip(content, &fields, tags(), &stored.record_hash, salt, payload)
        };
        assert_eq!(check(&bytes), Ok(()));
        // Damage to the position, the payload or the tags is named.
        let body_start = 5;
        let mut damaged = bytes.clone();
        damaged[body_start] ^= 1;
        assert_eq!(
            check(&damaged),
            Err("position differs from what was encoded".to_owned())
        );
        let mut damaged = bytes.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert_eq!(
            check(&damaged),
            Err("payload differs from what was encoded".to_owned())
        );
        let mut fewer = stored.clone();
        fewer.record.tags.pop();
        assert_eq!(
            check(&fewer.encode()),
            Err("tags differs from what was encoded".to_owned())
        );
    }

    /// The limits the writer asserts against are the longest a record can be.
    #[test]
    fn length_limits_are_the_longest_encodable_record() {
        let body = body_len(
            EVENT_TYPE_LEN_MAX,
            std::iter::repeat_n(TAG_LEN_MAX, TAGS_PER_RECORD_MAX),
            METADATA_LEN_MAX,
        );
        assert_eq!(body, BODY_LEN_MAX);
        assert_eq!(content_len(body, PAYLOAD_LEN_MAX), CONTENT_LEN_MAX);
    }

    #[test]
    fn erased_payload_round_trips_with_length_kept() {
        let mut stored = sample_record();
        stored.payload = Payload::Erased { len: 15 };
        let bytes = stored.encode();
        let back = StoredRecord::decode(&bytes).expect("decodes");
        assert_eq!(back.payload, Payload::Erased { len: 15 });
        assert!(decode_content(&bytes).expect("decodes").payload_matches());
    }

    #[test]
    fn decoder_names_field_and_offset() {
        let stored = sample_record();
        let mut bytes = stored.encode();
        // The event type length byte sits after kind, body_len, position, recorded_at, event_id.
        let offset = 1 + 4 + 8 + 8 + 16;
        bytes[offset] = 0;
        let error = decode_content(&bytes).expect_err("zero event type length");
        assert_eq!(error.field, Field::EventTypeLen);
        assert_eq!(error.offset, offset);
        assert_eq!(error.problem, DecodeProblem::OutOfRange { value: 0 });

        let mut bytes = stored.encode();
        bytes[0] = 2;
        assert_eq!(
            decode_content(&bytes).expect_err("bad kind").problem,
            DecodeProblem::Unknown { value: 2 }
        );
    }

    #[test]
    fn tags_out_of_order_and_forward_back_links_are_rejected() {
        let mut stored = sample_record();
        stored.record.tags.swap(0, 1);
        let mut body = Vec::new();
        let fields = BodyFields {
            position: stored.record.position,
            recorded_at: stored.record.recorded_at,
            event_id: &stored.record.event_id,
            event_type: stored.record.event_type.as_str(),
            schema_version: stored.record.schema_version,
            metadata: &stored.record.metadata,
            payload_commitment: &stored.record.payload_commitment,
            prev_hash: &stored.record.prev_hash,
        };
        write_body(
            &mut body,
            &fields,
            stored.record.tags.iter().map(|l| (l.tag.as_str(), l.prev)),
        );
        assert_eq!(
            decode_body(&body, 0).expect_err("order").problem,
            DecodeProblem::NotAscending
        );

        let mut stored = sample_record();
        stored.record.tags[1].prev = Some(Position(5));
        let body = encode_body(&stored.record);
        let error = decode_body(&body, 0).expect_err("back-link");
        assert_eq!(error.problem, DecodeProblem::BackLinkNotBefore);
        assert_eq!(error.field, Field::TagPrevPosition(1));
    }

    #[test]
    fn decoder_never_panics_on_truncated_or_random_bytes() {
        let bytes = sample_record().encode();
        for len in 0..bytes.len() {
            assert!(
                decode_content(&bytes[..len]).is_err(),
                "prefix of {len} bytes decoded"
            );
        }
        let mut extended = bytes.clone();
        extended.push(0);
        assert_eq!(
            decode_content(&extended).expect_err("trailing").problem,
            DecodeProblem::Trailing { count: 1 }
        );
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut decoded = 0usize;
        for _ in 0..20_000 {
            let len = rng.random_range(0..400);
            let mut random = vec![0u8; len];
            rng.fill_bytes(&mut random);
            if rng.random_bool(0.5) {
                // Start from a valid record and corrupt a few bytes, to reach deeper fields.
                random = bytes.clone();
                for _ in 0..rng.random_range(1..4) {
                    let at = rng.random_range(0..random.len());
                    random[at] = rng.random();
                }
            }
            if let Ok(view) = decode_content(&random) {
                decoded += 1;
                let owned = view.to_owned_record();
                assert_eq!(owned.encode().len(), random.len());
            }
        }
        // Some corruptions hit free-form bytes (ids, hashes, metadata) and still decode.
        assert!(decoded > 0);
    }

    #[test]
    fn value_types_validate() {
        assert!(EventType::new("Person.Moved-v2_x").is_ok());
        assert_eq!(EventType::new(""), Err(InvalidValue::EventType));
        assert_eq!(EventType::new("a b"), Err(InvalidValue::EventType));
        assert_eq!(EventType::new("x".repeat(65)), Err(InvalidValue::EventType));
        assert_eq!(Tag::new("has space"), Err(InvalidValue::Tag));
        assert_eq!(Tag::new("t".repeat(129)), Err(InvalidValue::Tag));
        let tag = Tag::new("unit:2025:00001").expect("valid");
        assert_eq!(tag.kind(), "unit");
        assert_eq!(tag.value(), "2025:00001");
        let bare = Tag::new("mass-change").expect("valid");
        assert_eq!(bare.kind(), "mass-change");
        assert_eq!(bare.value(), "");
        assert_eq!(SchemaVersion::new(0), Err(InvalidValue::SchemaVersion));
        assert_eq!(BlindedKinds::new(["p:n"]), Err(InvalidValue::BlindedKind));
        let kinds = BlindedKinds::new(["pin", "pin"]).expect("valid");
        assert!(kinds.contains("pin"));
        assert!(!kinds.contains("person"));
        assert_eq!(kinds.iter().collect::<Vec<_>>(), ["pin"]);
        let id = EventId([0x0f; 16]);
        assert_eq!(EventId::from_hex(&id.to_string()), Ok(id));
        assert_eq!(
            EventId::from_hex(&id.to_string().to_uppercase()),
            Err(InvalidValue::EventId)
        );
        let json = serde_json::to_string(&id).expect("serializes");
        assert_eq!(serde_json::from_str::<EventId>(&json).expect("parses"), id);
        assert!(!format!("{:?}", Tag::new("pin:012345678901").expect("valid")).contains("0123"));
    }

    #[test]
    fn timestamps_convert_to_and_from_chrono() {
        let time = DateTime::from_timestamp_micros(1_751_328_000_123_456).expect("in range");
        let stamp = Timestamp::from(time);
        assert_eq!(stamp.micros(), 1_751_328_000_123_456);
        assert_eq!(stamp.to_datetime(), Some(time));
        assert_eq!(stamp.to_string(), "2025-07-01T00:00:00.123456Z");
    }
}
