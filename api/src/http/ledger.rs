//! The ledger's own endpoints under `/v1/ledger/`: the transparency-log view of the register.
//!
//! Public, as in every transparency log: the latest signed checkpoint, consistency proofs
//! between two tree sizes, and the public key. Reading records (by range or tag) and inclusion
//! proofs need a role, because records carry personal data.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/ledger/checkpoint", get(checkpoint))
        .route("/v1/ledger/public-key", get(public_key))
        .route("/v1/ledger/consistency", get(consistency))
}

async fn checkpoint(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        state.latest_checkpoint(),
    )
        .into_response()
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
    query: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let (size, _) = state.ledger.tree_head();
    if query.old == 0 || query.old > query.new || query.new > size {
        return Err(ApiError::BadRequest(format!(
            "need 0 < old <= new <= {size} (the current tree size)"
        )));
    }
    let proof = state
        .ledger
        .consistency_proof(query.old, query.new)
        .map_err(|error| {
            tracing::error!(%error, "consistency proof failed");
            ApiError::Unavailable
        })?;
    Ok(Json(proof).into_response())
}
