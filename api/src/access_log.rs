//! The access log: who read whose personal data, what, when and why.
//!
//! Why a second ledger: reads of personal data must be as accountable as writes (Law on
//! Residence Art 13; Decree 13/2023 on personal data protection), so the access log gets the
//! same guarantees as the register itself: hash-chained records, group-committed with fsync, a
//! Merkle tree and signed checkpoints, `residence verify --data DATA/access`. It lives in its
//! own ledger directory (`DATA/access/`, its own keys and origin) so that access entries never
//! mix with the register's history and can be retained and erased on their own schedule.
//!
//! An entry is appended and durable **before** the data leaves the server: a handler calls
//! [`AccessLog::record`] and awaits it before it builds its response, so a crash can lose a
//! response but never the trace of a read that was answered.
//!
//! Record layout: event type `access.read`, version 1; tags `token:<id>` (who) and the subject
//! (`person:<16 hex>`, `household:<16 hex>`, `pin:<12 digits>`, blinded by the ledger like every
//! PIN tag, or `unit:<scheme>:<code>`), so an auditor can list the reads of one person or by
//! one token; metadata `{"token": id, "role": role}`; payload [`AccessEntry`] as JSON, which
//! alone names the token's holder (payloads can be erased, tags and metadata cannot).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use residence_ledger::directory::{DirectoryError, DirectoryOptions, LedgerDirectory};
use residence_ledger::ledger::{AppendError, AppendRequest, Ledger, NewRecord, ReadError};
use residence_ledger::record::{
    EventId, EventType, InvalidValue, Payload, Position, SchemaVersion, StoredRecord, Tag,
};
use serde::{Deserialize, Serialize};

use crate::auth::Principal;

/// Why the access log could not record or read.
#[derive(Debug, thiserror::Error)]
pub enum AccessLogError {
    /// An entry does not fit the record format: its subject is not a tag (a programmer's
    /// error: subjects are built from typed ids), or a token id is malformed. → 500.
    #[error("an access entry does not fit the record format")]
    Format(#[from] InvalidValue),
    /// The entry could not be made durable: the data must not be answered. → 503.
    #[error("the access log refused an entry")]
    Append(#[from] AppendError),
    /// The log could not be read. → 503.
    #[error("reading the access log failed")]
    Read(#[from] ReadError),
    /// A stored entry's payload (hash-checked by the ledger) is not an entry: a bug in what
    /// wrote it. → 500.
    #[error("access entry {position} does not decode")]
    Undecodable {
        /// The entry's position.
        position: u64,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// The entry a stored access record holds; `None` when its payload was erased.
///
/// # Errors
/// [`AccessLogError::Undecodable`].
pub fn decode_entry(stored: &StoredRecord) -> Result<Option<AccessEntry>, AccessLogError> {
    match &stored.payload {
        Payload::Present { bytes, .. } => {
            serde_json::from_slice(bytes)
                .map(Some)
                .map_err(|source| AccessLogError::Undecodable {
                    position: stored.record.position.0,
                    source,
                })
        }
        Payload::Erased { .. } => Ok(None),
    }
}

/// The access log's directory inside the data directory.
pub const ACCESS_DIR: &str = "access";
/// The event type of an access entry.
pub const ACCESS_EVENT_TYPE: &str = "access.read";
/// The longest purpose accepted, in characters.
pub const PURPOSE_CHARS_MAX: usize = 200;

/// Why personal data is read: the `X-Purpose` header (e.g. "CT07 confirmation request
/// 2026/123", "court case 45/2026/DS-ST"), required on every personal-data read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purpose(pub String);

impl Purpose {
    /// The purpose given in an `X-Purpose` header value: 1 to [`PURPOSE_CHARS_MAX`] characters
    /// of UTF-8 (purposes are written in Vietnamese) without control characters, trimmed.
    pub fn parse(value: &[u8]) -> Option<Purpose> {
        let value = std::str::from_utf8(value).ok()?.trim();
        let chars = value.chars().count();
        if chars == 0 || chars > PURPOSE_CHARS_MAX || value.chars().any(char::is_control) {
            return None;
        }
        Some(Purpose(value.to_owned()))
    }
}

/// One read of personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// The token's public id.
    pub token: String,
    /// Its role.
    pub role: String,
    /// What was read: the operation (e.g. `person.residence`, `household.book`).
    pub action: String,
    /// Whose data: a tag text (`person:…`, `household:…`, `pin:…`, `unit:…`).
    pub subject: String,
    /// The query's parameters that shape the answer (date, as-known-at), for the record.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Why (the `X-Purpose` header).
    pub purpose: String,
    /// Who held the token: its label (a person or a system, e.g. "officer Nguyễn Văn A"), as
    /// it was when the entry was written. In the payload only, never in the tags or the
    /// metadata: a label may name a person, and only a payload can be erased. `None` in entries
    /// written before the label was recorded (they decode as they always did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
}

/// An access entry as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessRecord {
    /// Its position in the access log.
    pub position: u64,
    /// When it was recorded (µs since the Unix epoch, UTC).
    pub recorded_at_micros: i64,
    /// Its record hash (hex).
    pub record_hash: String,
    /// The entry (`None` if its payload was erased).
    pub entry: Option<AccessEntry>,
}

/// The access log of a data directory.
#[derive(Debug)]
pub struct AccessLog {
    directory: LedgerDirectory,
    ledger: Arc<Ledger>,
    id_key: [u8; 32],
    counter: AtomicU64,
}

impl AccessLog {
    /// Opens (creating on first start) the access log in `DATA/access`, with the same clock
    /// and key source as the register. `id_key` derives the entries' event ids (random in
    /// production, a seed in tests so that their bytes are reproducible).
    ///
    /// # Errors
    /// [`DirectoryError`] naming the file at fault.
    pub fn open(
        data: &Path,
        options: &DirectoryOptions,
        id_key: [u8; 32],
    ) -> Result<AccessLog, DirectoryError> {
        let directory = LedgerDirectory::open(&data.join(ACCESS_DIR), options)?;
        let ledger = directory.shared_ledger();
        let counter = AtomicU64::new(ledger.head().size);
        Ok(AccessLog {
            directory,
            ledger,
            id_key,
            counter,
        })
    }

    /// The access log's ledger directory (checkpoints, keys).
    pub fn directory(&self) -> &LedgerDirectory {
        &self.directory
    }

    /// Records a read and waits until it is durable; returns its position.
    ///
    /// # Errors
    /// [`AccessLogError`] when the entry could not be made durable: the caller must then not
    /// answer with the data.
    pub async fn record(
        &self,
        principal: &Principal,
        action: &str,
        subject: &str,
        detail: String,
        purpose: &Purpose,
    ) -> Result<u64, AccessLogError> {
        let entry = AccessEntry {
            token: principal.token_id.clone(),
            role: principal.role.as_str().to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            detail,
            purpose: purpose.0.clone(),
            holder: Some(principal.label.clone()),
        };
        let record = self.new_record(&entry)?;
        let outcome = self
            .ledger
            .append(AppendRequest {
                records: vec![record],
                condition: None,
                recorded_at: None,
            })
            .await?;
        assert_eq!(
            outcome.records.len(),
            1,
            "an append of one record reports one record"
        );
        Ok(outcome.records[0].position.0)
    }

    fn new_record(&self, entry: &AccessEntry) -> Result<NewRecord, InvalidValue> {
        let number = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut id = [0u8; 16];
        id.copy_from_slice(
            &blake3::keyed_hash(&self.id_key, &number.to_le_bytes()).as_bytes()[..16],
        );
        let tags = vec![
            Tag::new(format!("token:{}", entry.token))?,
            Tag::new(entry.subject.clone())?,
        ];
        // The members in the order of their names, as the JSON object first written here had
        // them: the metadata's bytes are hashed into the record and must not change.
        #[derive(Serialize)]
        struct Metadata<'a> {
            role: &'a str,
            token: &'a str,
        }
        let metadata = Metadata {
            role: &entry.role,
            token: &entry.token,
        };
        let mut payload = Vec::with_capacity(256);
        // Strings only: serialising cannot fail, and an empty payload would hide the read.
        serde_json::to_writer(&mut payload, entry).expect("an access entry serialises to JSON");
        Ok(NewRecord {
            event_id: EventId(id),
            event_type: EventType::new(ACCESS_EVENT_TYPE)?,
            schema_version: SchemaVersion::new(1)?,
            tags,
            metadata: serde_json::to_vec(&metadata).expect("access metadata serialises to JSON"),
            payload,
        })
    }

    /// The number of entries.
    pub fn len(&self) -> u64 {
        self.ledger.head().size
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Up to `limit` entries from position `from`.
    ///
    /// # Errors
    /// [`AccessLogError::Read`] when the log cannot be read.
    pub fn read(&self, from: u64, limit: u64) -> Result<Vec<AccessRecord>, AccessLogError> {
        let size = self.len();
        if from >= size || limit == 0 {
            return Ok(Vec::new());
        }
        let to = size.min(from.saturating_add(limit));
        let stored = self.ledger.read_range(Position(from), Position(to))?;
        stored
            .into_iter()
            .map(|stored| {
                Ok(AccessRecord {
                    position: stored.record.position.0,
                    recorded_at_micros: stored.record.recorded_at.micros(),
                    record_hash: stored.record_hash.to_string(),
                    entry: decode_entry(&stored)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry as it was first written (before `holder`), byte for byte.
    const ENTRY_V1: &str = r#"{"token":"0123456789ab","role":"court","action":"person.residence","subject":"person:0000000000000001","detail":"on 2026-11-27, as known at now","purpose":"vụ án 45/2026"}"#;

    fn open_log(name: &str) -> (std::path::PathBuf, AccessLog) {
        let directory = std::env::temp_dir().join(format!(
            "residence-access-log-test-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&directory);
        let log = AccessLog::open(
            &directory,
            &residence_register::codec::directory_options(),
            [1; 32],
        )
        .unwrap();
        (directory, log)
    }

    fn entry(holder: Option<&str>) -> AccessEntry {
        AccessEntry {
            token: "0123456789ab".into(),
            role: "court".into(),
            action: "person.residence".into(),
            subject: "person:0000000000000001".into(),
            detail: "on 2026-11-27, as known at now".into(),
            purpose: "vụ án 45/2026".into(),
            holder: holder.map(str::to_owned),
        }
    }

    #[test]
    fn an_entry_record_holds_the_bytes_it_always_held() {
        let (directory, log) = open_log("bytes");
        // Without a holder, the bytes of the first version.
        let old = log.new_record(&entry(None)).unwrap();
        assert_eq!(
            String::from_utf8(old.payload).unwrap(),
            ENTRY_V1,
            "the payload of version 1"
        );
        assert_eq!(
            String::from_utf8(old.metadata).unwrap(),
            r#"{"role":"court","token":"0123456789ab"}"#
        );
        let tags: Vec<&str> = old.tags.iter().map(Tag::as_str).collect();
        assert_eq!(tags, ["token:0123456789ab", "person:0000000000000001"]);
        // A new entry adds the holder at the end of the payload, and only there.
        let holder = "toà án nhân dân quận Ba Đình, thẩm phán Lê Thị C";
        let new = log.new_record(&entry(Some(holder))).unwrap();
        let expected = format!(
            "{},\"holder\":{}}}",
            ENTRY_V1.trim_end_matches('}'),
            serde_json::to_string(holder).unwrap()
        );
        assert_eq!(String::from_utf8(new.payload.clone()).unwrap(), expected);
        assert_eq!(
            String::from_utf8(new.metadata).unwrap(),
            r#"{"role":"court","token":"0123456789ab"}"#,
            "the holder is never in the metadata"
        );
        let tags: Vec<&str> = new.tags.iter().map(Tag::as_str).collect();
        assert_eq!(
            tags,
            ["token:0123456789ab", "person:0000000000000001"],
            "the holder is never in the tags"
        );
        // Both decode: an entry of version 1 has no holder.
        assert_eq!(
            serde_json::from_str::<AccessEntry>(ENTRY_V1).unwrap(),
            entry(None)
        );
        assert_eq!(
            serde_json::from_slice::<AccessEntry>(&new.payload).unwrap(),
            entry(Some(holder))
        );
        drop(log);
        let _ = std::fs::remove_dir_all(&directory);
    }
}
