//! Reading the access log: who read whose personal data, what, when and why.
//!
//! Auditors read it to hold readers to account, administrators to operate the server; no one
//! else. Its entries are personal data too (whose record was read, and the purpose text), so
//! reading them is itself logged: a page read appends one `access_log.read` entry after the
//! page was read (it appears on a later page). `X-Purpose` is optional here (reviewing the log
//! is the reader's standing duty); an entry without one records an empty purpose. Entries are
//! paged by position (`from`) or, for the reads of one subject or by one token, by tag
//! (`tag=person:<id>` or `tag=token:<id>`, with `after`).
//!
//! The access log's checkpoint is signed with the access log's own key (`DATA/access/`), so an
//! auditor can pin its tree head and later check that no entry was removed. The checkpoint of
//! the current size is signed on the first request for it and read from the access log's
//! checkpoint directory after that.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use residence_ledger::record::{Position, StoredRecord, Tag, Timestamp};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, error_chain};
use super::params::{page_limit, rfc3339};
use crate::access_log::{AccessEntry, AccessLogError, AccessRecord, Purpose, decode_entry};
use crate::auth::{Principal, Role};

/// Who may read the access log and its checkpoint.
const ACCESS_LOG_READERS: [Role; 2] = [Role::Auditor, Role::Admin];
/// Entries per page when `limit` is not given.
const ENTRIES_PAGE_DEFAULT: u64 = 100;

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/access-log", get(entries))
        .route("/v1/access-log/checkpoint", get(checkpoint))
}

/// One access-log entry as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryView {
    /// Its position in the access log.
    pub position: u64,
    /// When it was recorded (RFC 3339, UTC, microseconds).
    pub recorded_at: String,
    /// Its record hash (hex).
    pub record_hash: String,
    /// The entry: token, role, action, subject, detail, purpose and the token's holder (absent
    /// in entries written before holders were recorded; `null` when erased).
    pub entry: Option<AccessEntry>,
}

impl EntryView {
    fn of(record: AccessRecord) -> EntryView {
        EntryView {
            position: record.position,
            recorded_at: rfc3339(Timestamp(record.recorded_at_micros)),
            record_hash: record.record_hash,
            entry: record.entry,
        }
    }

    fn of_stored(stored: &StoredRecord) -> Result<EntryView, AccessLogError> {
        Ok(EntryView {
            position: stored.record.position.0,
            recorded_at: rfc3339(stored.record.recorded_at),
            record_hash: stored.record_hash.to_string(),
            entry: decode_entry(stored)?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntriesQuery {
    from: Option<u64>,
    tag: Option<String>,
    after: Option<u64>,
    limit: Option<u64>,
}

/// A page of access-log entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntriesBody {
    /// The number of entries in the access log when read (this read's own entry not included).
    pub size: u64,
    /// The entries, ascending.
    pub entries: Vec<EntryView>,
    /// Where the next page starts: the next `from` of a range, the next `after` of a tag;
    /// `null` on the last page.
    pub next: Option<u64>,
}

async fn entries(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    headers: HeaderMap,
    purpose: Result<Purpose, ApiError>,
    query: Result<Query<EntriesQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require(&ACCESS_LOG_READERS)?;
    // A purpose that is sent must be valid; none at all is recorded as an empty one.
    let purpose = match purpose {
        Ok(purpose) => purpose,
        Err(_) if !headers.contains_key("x-purpose") => Purpose(String::new()),
        Err(error) => return Err(error),
    };
    let Query(query) = query?;
    let limit = page_limit(query.limit, ENTRIES_PAGE_DEFAULT, super::RECORDS_MAX)?;
    let size = state.access.len();
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
                .access
                .directory()
                .ledger()
                .read_by_tag(&tag, query.after.map(Position), limit_records)
                .map_err(|error| {
                    tracing::error!(error = %error_chain(&error), "reading the access log failed");
                    ApiError::Unavailable
                })?;
            let next = if stored.len() == limit_records {
                stored.last().map(|record| record.record.position.0)
            } else {
                None
            };
            let body = EntriesBody {
                size,
                entries: stored
                    .iter()
                    .map(EntryView::of_stored)
                    .collect::<Result<_, _>>()?,
                next,
            };
            let detail = format!(
                "entries of {} after {}, limit {limit}",
                tag.as_str(),
                query
                    .after
                    .map_or_else(|| "the start".to_owned(), |after| after.to_string())
            );
            (body, "access-log".to_owned(), detail)
        }
        (None, from) => {
            if query.after.is_some() {
                return Err(ApiError::BadRequest(
                    "after pages the entries of a tag; page a range with from".to_owned(),
                ));
            }
            let from = from.unwrap_or(0);
            let read = state.access.read(from, limit)?;
            let end = from + read.len() as u64;
            let body = EntriesBody {
                size,
                next: (!read.is_empty() && end < size).then_some(end),
                entries: read.into_iter().map(EntryView::of).collect(),
            };
            (
                body,
                "access-log".to_owned(),
                format!("entries {from}..{end}"),
            )
        }
    };
    state
        .access
        .record(&principal, "access_log.read", &subject, detail, &purpose)
        .await?;
    Ok(Json(body).into_response())
}

/// The access log's checkpoint of its current size: read when stored, signed otherwise.
fn access_checkpoint(state: &AppState) -> Result<String, ApiError> {
    let directory = state.access.directory();
    let size = directory.ledger().head().size;
    let stored = directory
        .dir()
        .join("checkpoints")
        .join(format!("{size:020}.note"));
    if let Ok(note) = std::fs::read_to_string(&stored) {
        return Ok(note);
    }
    let note = directory
        .ledger()
        .checkpoint(&directory.signer())
        .map_err(|error| {
            tracing::error!(error = %error_chain(&error), "signing an access-log checkpoint failed");
            ApiError::Unavailable
        })?;
    Ok(note.to_string())
}

async fn checkpoint(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Response, ApiError> {
    principal.require(&ACCESS_LOG_READERS)?;
    let signer = Arc::clone(&state);
    let note = tokio::task::spawn_blocking(move || access_checkpoint(&signer))
        .await
        .map_err(|error| {
            tracing::error!(%error, "signing an access-log checkpoint stopped");
            ApiError::Internal
        })??;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}
