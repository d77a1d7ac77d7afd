//! The ledger's own endpoints under `/v1/ledger/`: the transparency-log view of the register.
//!
//! Public, as in every transparency log: the latest signed checkpoint, consistency proofs
//! between two tree sizes, and the public key. Reading records (by range, by tag, one by
//! position) and inclusion proofs need a role, because records carry personal data: auditors
//! (who verify everything), courts (who check proofs) and supervisors. Officers read persons
//! through the query endpoints instead; administrators and the population database's feed read
//! no records. Every record read is written to the access log before the records leave the
//! server, like every other personal-data read; a position beyond the head is logged before
//! its 404 too.
//!
//! Records are shown as stored: tags in stored form (a `pin:` tag stays blinded), the metadata
//! and payload as the JSON they are, an erased payload as `null` with `erased: true`, and every
//! hash in hex. An inclusion proof comes with everything a court needs to check it offline: the
//! record, its exact body bytes (so that the record hash can be recomputed, `FORMAT.md` §2.1),
//! the payload salt (so that the payload commitment can be), the proof, the Merkle root, and a
//! signed checkpoint whose root it leads to (with a consistency proof when the proof is for an
//! older tree size).

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use residence_ledger::checkpoint::{Checkpoint, SignedNote};
use residence_ledger::hash::Hash;
use residence_ledger::ledger::ProofError;
use residence_ledger::merkle::leaf_hash;
use residence_ledger::proof::{ConsistencyProof, InclusionProof};
use residence_ledger::record::{Payload, Position, StoredRecord, Tag, encode_body};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, error_chain};
use super::extract::{Accountable, logged_not_found};
use super::params::{page_limit, rfc3339};
use crate::auth::Role;

/// Who may read records and inclusion proofs.
const RECORD_READERS: [Role; 3] = [Role::Auditor, Role::Court, Role::Supervisor];
/// Records per page when `limit` is not given.
const RECORDS_PAGE_DEFAULT: u64 = 100;
/// The register's checkpoint directory, inside the data directory.
const CHECKPOINT_DIR: &str = "checkpoints";

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/ledger/checkpoint", get(checkpoint))
        .route("/v1/ledger/public-key", get(public_key))
        .route("/v1/ledger/consistency", get(consistency))
        .route("/v1/ledger/records", get(records))
        .route("/v1/ledger/records/{position}", get(record))
        .route("/v1/ledger/proofs/inclusion", get(inclusion))
}

/// The latest signed checkpoint of the register, as a signed note, with its parsed body.
///
/// The server keeps the latest checkpoint's text; when that is the body alone, the signed note
/// is read from the checkpoint directory, where every signed checkpoint is stored by size.
///
/// # Errors
/// [`ApiError::Unavailable`] when the note cannot be read, [`ApiError::Internal`] when it does
/// not parse.
pub(crate) fn latest_signed_checkpoint(state: &AppState) -> Result<(String, Checkpoint), ApiError> {
    let text = state.latest_checkpoint();
    let unparsable = |error: &dyn std::error::Error| {
        tracing::error!(error = %error_chain(error), "the latest checkpoint does not parse");
        ApiError::Internal
    };
    if let Ok(note) = SignedNote::parse(&text) {
        let checkpoint = Checkpoint::parse_body(note.text()).map_err(|e| unparsable(&e))?;
        return Ok((text, checkpoint));
    }
    let checkpoint = Checkpoint::parse_body(&text).map_err(|e| unparsable(&e))?;
    let path = state
        .directory
        .dir()
        .join(CHECKPOINT_DIR)
        .join(format!("{:020}.note", checkpoint.size));
    let note = std::fs::read_to_string(&path).map_err(|error| {
        tracing::error!(%error, path = %path.display(), "reading the signed checkpoint failed");
        ApiError::Unavailable
    })?;
    Ok((note, checkpoint))
}

async fn checkpoint(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let (note, _) = latest_signed_checkpoint(&state)?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

async fn public_key(State(state): State<Arc<AppState>>) -> Response {
    let text = format!("{}\n", state.directory.verifier_key());
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    old: u64,
    new: u64,
}

async fn consistency(
    State(state): State<Arc<AppState>>,
    query: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let (size, _) = state.ledger.tree_head();
    if query.old == 0 || query.old > query.new || query.new > size {
        return Err(ApiError::BadRequest(format!(
            "need 0 < old <= new <= {size} (the current tree size)"
        )));
    }
    // Checked against the latest signed checkpoint before it leaves the server; a size beyond
    // it is proved once a checkpoint covers it.
    let proof = match state.ledger.checked_consistency_proof(query.old, query.new) {
        Ok(checked) => checked.proof,
        Err(ProofError::NotCheckpointed { .. }) => {
            sign_now(&state).await?;
            state
                .ledger
                .checked_consistency_proof(query.old, query.new)
                .map_err(|error| proof_unavailable(&error))?
                .proof
        }
        Err(error) => return Err(proof_unavailable(&error)),
    };
    Ok(Json(proof).into_response())
}

// ---------------------------------------------------------------------------------------------
// Records.

/// One tag of a record in stored form, with the position of the previous record carrying it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagView {
    /// The tag as stored (`pin:` tags blinded).
    pub tag: String,
    /// The previous record with this tag (`null` for the first).
    pub prev: Option<u64>,
}

/// A ledger record as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordView {
    /// Its position.
    pub position: u64,
    /// When the ledger recorded it (RFC 3339, UTC, microseconds).
    pub recorded_at: String,
    /// Its event id (hex).
    pub event_id: String,
    /// Its event type.
    pub event_type: String,
    /// Its payload schema version.
    pub version: u16,
    /// Its tags, as stored.
    pub tags: Vec<TagView>,
    /// Its metadata (the JSON object recorded with it; `null` when empty).
    pub metadata: serde_json::Value,
    /// Its payload, the event's JSON (`null` when erased).
    pub payload: serde_json::Value,
    /// Whether the payload was erased.
    pub erased: bool,
    /// The payload commitment (hex).
    pub payload_commitment: Hash,
    /// The previous record's hash (hex).
    pub prev_hash: Hash,
    /// This record's hash (hex).
    pub record_hash: Hash,
}

fn json_or_text(bytes: &[u8]) -> serde_json::Value {
    if bytes.is_empty() {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

impl RecordView {
    /// The view of a stored record.
    #[must_use]
    pub fn of(stored: &StoredRecord) -> RecordView {
        let record = &stored.record;
        let (payload, erased) = match &stored.payload {
            Payload::Present { bytes, .. } => (json_or_text(bytes), false),
            Payload::Erased { .. } => (serde_json::Value::Null, true),
        };
        RecordView {
            position: record.position.0,
            recorded_at: rfc3339(record.recorded_at),
            event_id: record.event_id.to_hex(),
            event_type: record.event_type.as_str().to_owned(),
            version: record.schema_version.get(),
            tags: record
                .tags
                .iter()
                .map(|link| TagView {
                    tag: link.tag.as_str().to_owned(),
                    prev: link.prev.map(Position::get),
                })
                .collect(),
            metadata: json_or_text(&record.metadata),
            payload,
            erased,
            payload_commitment: record.payload_commitment,
            prev_hash: record.prev_hash,
            record_hash: stored.record_hash,
        }
    }
}

/// The access-log subject of one record: the person it concerns first, else the household,
/// else the ledger itself.
fn record_subject(stored: &StoredRecord) -> String {
    let tags = &stored.record.tags;
    ["person", "household"]
        .iter()
        .find_map(|kind| {
            tags.iter()
                .find(|link| link.tag.kind() == *kind)
                .map(|link| link.tag.as_str().to_owned())
        })
        .unwrap_or_else(|| "ledger".to_owned())
}

fn read_failed(error: &dyn std::error::Error) -> ApiError {
    tracing::error!(error = %error_chain(error), "reading the ledger failed");
    ApiError::Unavailable
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordsQuery {
    from: Option<u64>,
    tag: Option<String>,
    after: Option<u64>,
    limit: Option<u64>,
}

/// A page of records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordsBody {
    /// The ledger's size when read.
    pub size: u64,
    /// The records, ascending.
    pub records: Vec<RecordView>,
    /// Where the next page starts: the next `from` of a range, the next `after` of a tag;
    /// `null` on the last page.
    pub next: Option<u64>,
}

async fn records(
    State(state): State<Arc<AppState>>,
    accountable: Accountable,
    query: Result<Query<RecordsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Accountable { principal, purpose } = accountable;
    principal.require(&RECORD_READERS)?;
    let Query(query) = query?;
    let limit = page_limit(query.limit, RECORDS_PAGE_DEFAULT, super::RECORDS_MAX)?;
    let size = state.ledger.head().size;
    let (body, subject, detail) = match (query.tag, query.from) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give from (a range) or tag (with after), not both".to_owned(),
            ));
        }
        (Some(tag), None) => {
            let tag = Tag::new(tag).map_err(|_| {
                ApiError::BadRequest(
                    "tag must be 1 to 128 printable ASCII characters, e.g. person:<16 hex>"
                        .to_owned(),
                )
            })?;
            let limit_records = usize::try_from(limit).unwrap_or(usize::MAX);
            let stored = state
                .ledger
                .read_by_tag(&tag, query.after.map(Position), limit_records)
                .map_err(|e| read_failed(&e))?;
            let next = if stored.len() == limit_records {
                stored.last().map(|record| record.record.position.0)
            } else {
                None
            };
            let detail = format!(
                "records by tag after {}, limit {limit}",
                query
                    .after
                    .map_or_else(|| "the start".to_owned(), |after| after.to_string())
            );
            let body = RecordsBody {
                size,
                records: stored.iter().map(RecordView::of).collect(),
                next,
            };
            (body, tag.as_str().to_owned(), detail)
        }
        (None, from) => {
            if query.after.is_some() {
                return Err(ApiError::BadRequest(
                    "after pages the records of a tag; page a range with from".to_owned(),
                ));
            }
            let from = from.unwrap_or(0);
            let to = size.min(from.saturating_add(limit));
            let stored = if from < to {
                state
                    .ledger
                    .read_range(Position(from), Position(to))
                    .map_err(|e| read_failed(&e))?
            } else {
                Vec::new()
            };
            let end = from + stored.len() as u64;
            let body = RecordsBody {
                size,
                records: stored.iter().map(RecordView::of).collect(),
                next: (!stored.is_empty() && end < size).then_some(end),
            };
            let detail = format!("records {from}..{end}");
            (body, "ledger".to_owned(), detail)
        }
    };
    state
        .access
        .record(&principal, "ledger.records", &subject, detail, &purpose)
        .await?;
    Ok(Json(body).into_response())
}

async fn record(
    State(state): State<Arc<AppState>>,
    accountable: Accountable,
    path: Result<Path<u64>, PathRejection>,
) -> Result<Response, ApiError> {
    let Accountable { principal, purpose } = accountable;
    principal.require(&RECORD_READERS)?;
    let Path(position) = path?;
    let stored = match read_one(&state, position) {
        Ok(stored) => stored,
        Err(ApiError::NotFound(message)) => {
            return Err(logged_not_found(
                &state,
                &principal,
                &purpose,
                "ledger.record",
                "ledger",
                format!("record {position}"),
                &message,
            )
            .await);
        }
        Err(error) => return Err(error),
    };
    let body = RecordView::of(&stored);
    state
        .access
        .record(
            &principal,
            "ledger.record",
            &record_subject(&stored),
            format!("record {position}"),
            &purpose,
        )
        .await?;
    Ok(Json(body).into_response())
}

fn read_one(state: &AppState, position: u64) -> Result<StoredRecord, ApiError> {
    let size = state.ledger.head().size;
    if position >= size {
        return Err(ApiError::NotFound(format!(
            "no record at position {position} (the ledger has {size})"
        )));
    }
    state
        .ledger
        .read(Position(position))
        .map_err(|e| read_failed(&e))
}

// ---------------------------------------------------------------------------------------------
// Inclusion proofs.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionQuery {
    position: u64,
    size: Option<u64>,
}

/// An inclusion proof with everything needed to check it offline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InclusionBody {
    /// The record's position (its leaf index).
    pub position: u64,
    /// The tree size the proof is for.
    pub tree_size: u64,
    /// The record's hash (hex).
    pub record_hash: Hash,
    /// Its leaf hash, `BLAKE3(0x00 ‖ record_hash)` (hex).
    pub leaf_hash: Hash,
    /// The Merkle root of the tree of `tree_size` records (hex).
    pub root: Hash,
    /// The proof (`FORMAT.md` JSON encoding: hashes in base64).
    pub proof: InclusionProof,
    /// A signed checkpoint of the register (a C2SP signed note) with `checkpoint_size` ≥
    /// `tree_size`.
    pub checkpoint: String,
    /// The checkpoint's tree size.
    pub checkpoint_size: u64,
    /// When `tree_size` < `checkpoint_size`: the proof that the tree of `tree_size` is a prefix
    /// of the checkpoint's tree.
    pub consistency: Option<ConsistencyProof>,
    /// The record.
    pub record: RecordView,
    /// The record's body bytes in hex: `record_hash = BLAKE3("residence-ledger/v1/record" ‖
    /// 0x00 ‖ body)`.
    pub record_body: String,
    /// The payload's exact bytes in hex (`record.payload` is the same JSON, re-encoded); `null`
    /// when the payload was erased.
    pub payload_bytes: Option<String>,
    /// The payload's salt in hex (`payload_commitment = BLAKE3(salt ‖ payload_bytes)`); `null`
    /// when the payload was erased.
    pub payload_salt: Option<String>,
}

/// Signs a checkpoint of the register now (the latest does not cover what was asked).
/// A proof that could not be given (a tree file failed, or the stored tree disagrees with the
/// signed checkpoint: it will be rebuilt at the next open). → 503, logged.
fn proof_unavailable(error: &ProofError) -> ApiError {
    tracing::error!(error = %error_chain(error), "a proof failed its check");
    ApiError::Unavailable
}

async fn sign_now(state: &Arc<AppState>) -> Result<(String, Checkpoint), ApiError> {
    let signer = Arc::clone(state);
    tokio::task::spawn_blocking(move || signer.sign_checkpoint())
        .await
        .map_err(|error| {
            tracing::error!(%error, "signing a checkpoint stopped");
            ApiError::Internal
        })?
        .map_err(|error| {
            tracing::error!(error = %format!("{error:#}"), "signing a checkpoint failed");
            ApiError::Unavailable
        })?;
    latest_signed_checkpoint(state)
}

async fn inclusion(
    State(state): State<Arc<AppState>>,
    accountable: Accountable,
    query: Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Accountable { principal, purpose } = accountable;
    principal.require(&RECORD_READERS)?;
    let Query(query) = query?;
    let position = query.position;
    let stored = match read_one(&state, position) {
        Ok(stored) => stored,
        Err(ApiError::NotFound(message)) => {
            return Err(logged_not_found(
                &state,
                &principal,
                &purpose,
                "ledger.inclusion_proof",
                "ledger",
                format!("record {position}"),
                &message,
            )
            .await);
        }
        Err(error) => return Err(error),
    };
    let (tree_size, _) = state.ledger.tree_head();
    if let Some(size) = query.size
        && (size <= position || size > tree_size)
    {
        return Err(ApiError::BadRequest(format!(
            "need position < size <= {tree_size} (the current tree size)"
        )));
    }
    // The proof is for the size asked, else for the latest signed checkpoint; a checkpoint is
    // signed now when the latest does not cover the record or the size asked.
    let wanted = query.size.unwrap_or(position + 1);
    let (_, mut latest) = latest_signed_checkpoint(&state)?;
    if latest.size < wanted {
        (_, latest) = sign_now(&state).await?;
    }
    if latest.size < wanted {
        // The record is durable but not yet in the tree (an instant after its append).
        return Err(ApiError::NotYetVisible { position });
    }
    let size = query.size.unwrap_or(latest.size);
    // The proof leaves the server only after it was checked against the signed root (a damaged
    // stored tree node is refused here, never handed to a court).
    let checked = state
        .ledger
        .checked_inclusion_proof(position, size)
        .map_err(|error| {
            tracing::error!(error = %error_chain(&error), "an inclusion proof failed its check");
            ApiError::Unavailable
        })?;
    assert_eq!(
        checked.record_hash, stored.record_hash,
        "the checked proof is of the record read"
    );
    let (proof, root, consistency) = (checked.proof, checked.root, checked.consistency);
    let (note, checkpoint) = (checked.note.to_string(), checked.checkpoint);
    let body = InclusionBody {
        position,
        tree_size: size,
        record_hash: stored.record_hash,
        leaf_hash: leaf_hash(&stored.record_hash),
        root,
        proof,
        checkpoint: note,
        checkpoint_size: checkpoint.size,
        consistency,
        record: RecordView::of(&stored),
        record_body: hex::encode(encode_body(&stored.record)),
        payload_bytes: match &stored.payload {
            Payload::Present { bytes, .. } => Some(hex::encode(bytes)),
            Payload::Erased { .. } => None,
        },
        payload_salt: match &stored.payload {
            Payload::Present { salt, .. } => Some(hex::encode(salt.0)),
            Payload::Erased { .. } => None,
        },
    };
    state
        .access
        .record(
            &principal,
            "ledger.inclusion_proof",
            &record_subject(&stored),
            format!("record {position} in tree size {size}"),
            &purpose,
        )
        .await?;
    Ok(Json(body).into_response())
}
