//! The API's typed errors and their JSON form.
//!
//! Every failure leaves the server as `{"code": "...", "message": "..."}` with a stable,
//! documented `code` (clients branch on it) and an English message (people read it); rule
//! violations add the Vietnamese message and conflicts the position. Internals (file paths, OS
//! errors, stack traces) never reach the client: they go to the server's log, and the client
//! gets a generic 500/503.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use residence_domain::jurisdiction::OutsideJurisdiction;
use residence_domain::rejection::Rejection;
use serde::Serialize;

use residence_register::CommandError;

use crate::access_log::AccessLogError;
use crate::auth::Forbidden;

/// A typed API error.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No bearer token, or an unknown or expired one. → 401 `unauthenticated`.
    #[error("a valid bearer token is required")]
    Unauthenticated,
    /// The caller's role may not do this. → 403 `forbidden`.
    #[error("{0}")]
    Forbidden(String),
    /// An officer tried to record an act the law of place (`residence_domain::jurisdiction`)
    /// puts outside their jurisdiction. → 403 `outside_jurisdiction`.
    #[error(transparent)]
    OutsideJurisdiction(OutsideJurisdiction),
    /// The body is not JSON. → 400 `malformed_json`.
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON but not what the endpoint takes (missing field, wrong type, invalid
    /// PIN or unit code); the message names the field. → 400 `invalid_body`.
    #[error("{0}")]
    InvalidBody(String),
    /// A path or query parameter is invalid. → 400 `bad_request`.
    #[error("{0}")]
    BadRequest(String),
    /// A required `X-Purpose` header (why personal data is read) is missing or invalid.
    /// → 400 `purpose_required`.
    #[error(
        "personal data is read only with a purpose: send an X-Purpose header (1 to 200 characters)"
    )]
    PurposeRequired,
    /// The body is larger than the limit. → 413 `body_too_large`.
    #[error("the body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body did not arrive within its deadline ([`super::BODY_READ_TIMEOUT`]); the
    /// connection is closed after the answer. → 408 `body_timeout`.
    #[error("the body did not arrive within {} s of the headers", timeout.as_secs_f64())]
    BodyTimeout {
        /// The deadline.
        timeout: std::time::Duration,
    },
    /// Nothing by that name. → 404 `not_found`.
    #[error("{0}")]
    NotFound(String),
    /// A rule of the law refused the command. → 422 with the rejection's own code.
    #[error("{0}")]
    Rejected(Rejection),
    /// Another change to the same person or household won the race. → 409 `conflict`.
    #[error("a conflicting change was recorded at position {position}; read again and retry")]
    Conflict {
        /// The conflicting record.
        position: u64,
    },
    /// The request id was used before for other content. → 409 `request_id_reused`.
    #[error("request id was already used for another request (position {position})")]
    RequestIdReused {
        /// The earlier request's first record.
        position: u64,
    },
    /// A record the decision needs was erased. → 409 `history_erased`.
    #[error("record {position} needed for this decision has an erased payload")]
    HistoryErased {
        /// The record.
        position: u64,
    },
    /// Read-your-writes: the projections did not reach the requested position in time.
    /// → 503 `not_yet_visible` (retry).
    #[error("position {position} is not visible yet; retry")]
    NotYetVisible {
        /// The position asked for.
        position: u64,
    },
    /// The ledger or a projection cannot answer now. → 503 `unavailable` (details logged).
    #[error("the register is unavailable; retry later")]
    Unavailable,
    /// A bug. → 500 `internal` (details logged).
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::OutsideJurisdiction(_) => StatusCode::FORBIDDEN,
            ApiError::MalformedJson(_)
            | ApiError::InvalidBody(_)
            | ApiError::BadRequest(_)
            | ApiError::PurposeRequired => StatusCode::BAD_REQUEST,
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. }
            | ApiError::RequestIdReused { .. }
            | ApiError::HistoryErased { .. } => StatusCode::CONFLICT,
            ApiError::NotYetVisible { .. } | ApiError::Unavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::OutsideJurisdiction(outside) => outside.code(),
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::InvalidBody(_) => "invalid_body",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::PurposeRequired => "purpose_required",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::BodyTimeout { .. } => "body_timeout",
            ApiError::NotFound(_) => "not_found",
            ApiError::Rejected(rejection) => rejection.code(),
            ApiError::Conflict { .. } => "conflict",
            ApiError::RequestIdReused { .. } => "request_id_reused",
            ApiError::HistoryErased { .. } => "history_erased",
            ApiError::NotYetVisible { .. } => "not_yet_visible",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal => "internal",
        }
    }
}

/// The JSON body of an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    /// The stable code.
    pub code: &'static str,
    /// What went wrong, in English.
    pub message: String,
    /// The same in Vietnamese (rule violations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_vi: Option<String>,
    /// The ledger position concerned (conflicts, reused request ids).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
}

impl ApiError {
    /// The JSON body (also used for the items of a batch).
    pub fn body(&self) -> ErrorBody {
        let (message, message_vi) = match self {
            ApiError::Rejected(rejection) => (rejection.message_en(), Some(rejection.message_vi())),
            ApiError::OutsideJurisdiction(outside) => {
                (outside.message_en(), Some(outside.message_vi()))
            }
            other => (other.to_string(), None),
        };
        let position = match self {
            ApiError::Conflict { position }
            | ApiError::RequestIdReused { position }
            | ApiError::HistoryErased { position }
            | ApiError::NotYetVisible { position } => Some(*position),
            _ => None,
        };
        ErrorBody {
            code: self.code(),
            message,
            message_vi,
            position,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

/// The useful part of axum's JSON syntax-error text ("Failed to parse the request body as
/// JSON: <serde's message>").
fn syntax_detail(text: &str) -> String {
    text.split_once("as JSON: ")
        .map_or(text, |(_, detail)| detail)
        .to_owned()
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if let Some(timed_out) = super::deadline::timed_out(&rejection) {
            return timed_out;
        }
        match rejection {
            JsonRejection::JsonSyntaxError(error) => {
                ApiError::MalformedJson(syntax_detail(&error.body_text()))
            }
            JsonRejection::JsonDataError(error) => ApiError::InvalidBody(error.body_text()),
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::BadRequest("send Content-Type: application/json".to_owned())
            }
            JsonRejection::BytesRejection(_) => ApiError::BodyTooLarge {
                limit: crate::http::BODY_BYTES_MAX,
            },
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::InvalidRequestId(_) => ApiError::InvalidBody(error.to_string()),
            CommandError::Rejected(rejection) => ApiError::Rejected(rejection),
            CommandError::RequestIdReused { position } => ApiError::RequestIdReused { position },
            CommandError::Conflict { position } => ApiError::Conflict { position },
            CommandError::HistoryErased { position } => ApiError::HistoryErased { position },
            CommandError::Read(_) | CommandError::Append(_) => {
                tracing::error!(error = %error_chain(&error), "command failed in the ledger");
                ApiError::Unavailable
            }
            CommandError::Undecodable { .. } | CommandError::Format(_) => {
                tracing::error!(error = %error_chain(&error), "command failed");
                ApiError::Internal
            }
        }
    }
}

impl From<Forbidden> for ApiError {
    fn from(error: Forbidden) -> Self {
        ApiError::Forbidden(error.to_string())
    }
}

impl From<AccessLogError> for ApiError {
    fn from(error: AccessLogError) -> Self {
        tracing::error!(error = %error_chain(&error), "the access log failed");
        match error {
            AccessLogError::Format(_) | AccessLogError::Undecodable { .. } => ApiError::Internal,
            AccessLogError::Append(_) | AccessLogError::Read(_) => ApiError::Unavailable,
        }
    }
}

/// An error with its sources, for the server's log.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
