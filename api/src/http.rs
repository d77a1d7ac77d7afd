//! The HTTP server: health, and the public transparency-log endpoints of the ledger.
//!
//! What is here today is the part of the API that needs no role: the latest signed checkpoint,
//! consistency proofs between two tree sizes, and the public key, as in every transparency log.
//! Command and query endpoints with roles and the access log come with the API issue.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use residence_ledger::directory::{DirectoryOptions, LedgerDirectory};
use serde::{Deserialize, Serialize};

use crate::cli::ServeArgs;

/// Shared state of the handlers.
#[derive(Debug)]
pub struct AppState {
    directory: LedgerDirectory,
    /// The text of the latest signed checkpoint: GET never signs (a public endpoint must not
    /// make the server write), the checkpoint loop does.
    latest_checkpoint: std::sync::RwLock<String>,
}

impl AppState {
    /// Opens the state over a ledger directory, signing a first checkpoint.
    ///
    /// # Errors
    /// When the checkpoint cannot be signed or stored.
    pub fn new(directory: LedgerDirectory) -> anyhow::Result<AppState> {
        let note = directory
            .ledger()
            .checkpoint(&directory.signer())
            .context("signing a checkpoint")?;
        Ok(AppState {
            directory,
            latest_checkpoint: std::sync::RwLock::new(note.text().to_owned()),
        })
    }

    fn sign_checkpoint(&self) -> anyhow::Result<()> {
        let note = self
            .directory
            .ledger()
            .checkpoint(&self.directory.signer())?;
        let mut latest = self
            .latest_checkpoint
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *latest = note.text().to_owned();
        Ok(())
    }
}

/// A typed API error; its body is `{"code": …, "message": …}` and never carries internals.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter is out of range. → 400 `bad_request`.
    #[error("{0}")]
    BadRequest(String),
    /// The ledger could not answer. → 503 `ledger_unavailable` (details go to the log).
    #[error("the ledger is unavailable")]
    Unavailable,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "ledger_unavailable"),
        };
        (
            status,
            Json(ErrorBody {
                code,
                message: self.to_string(),
            }),
        )
            .into_response()
    }
}

/// The router over an opened ledger.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/v1/ledger/checkpoint", get(checkpoint))
        .route("/v1/ledger/public-key", get(public_key))
        .route("/v1/ledger/consistency", get(consistency))
        .with_state(state)
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.directory.ledger().failure() {
        None => (StatusCode::OK, "ready").into_response(),
        Some(cause) => {
            tracing::error!(%cause, "ledger is failed");
            (StatusCode::SERVICE_UNAVAILABLE, "ledger failed").into_response()
        }
    }
}

async fn checkpoint(State(state): State<Arc<AppState>>) -> Response {
    let text = state
        .latest_checkpoint
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
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
    Query(query): Query<ConsistencyQuery>,
) -> Result<Response, ApiError> {
    let (size, _) = state.directory.ledger().tree_head();
    if query.old == 0 || query.old > query.new || query.new > size {
        return Err(ApiError::BadRequest(format!(
            "need 0 < old <= new <= {size} (the current tree size)"
        )));
    }
    let proof = state
        .directory
        .ledger()
        .consistency_proof(query.old, query.new)
        .map_err(|error| {
            tracing::error!(%error, "consistency proof failed");
            ApiError::Unavailable
        })?;
    Ok(Json(proof).into_response())
}

/// `residence serve`: opens (or creates) the ledger and serves until SIGTERM or Ctrl-C, then
/// drains in-flight requests, signs a last checkpoint and closes the ledger.
///
/// # Errors
/// When the ledger cannot be opened or the address cannot be bound.
pub fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let directory = LedgerDirectory::open(&args.data, &DirectoryOptions::default())
            .with_context(|| format!("opening the ledger in {}", args.data.display()))?;
        let head = directory.ledger().head();
        tracing::info!(
            data = %args.data.display(),
            origin = %directory.manifest().origin,
            records = head.size,
            "ledger open"
        );
        let state = Arc::new(AppState::new(directory)?);
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        tracing::info!(listen = %args.listen, "serving");
        let checkpoints = tokio::spawn(checkpoint_loop(
            Arc::clone(&state),
            Duration::from_secs(args.checkpoint_every_secs.max(1)),
        ));
        axum::serve(listener, router(Arc::clone(&state)))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving")?;
        checkpoints.abort();
        if let Err(error) = state.sign_checkpoint() {
            tracing::error!(%error, "the last checkpoint failed");
        }
        tracing::info!("stopped");
        anyhow::Ok(())
    })
}

/// Signs a checkpoint whenever the head moved since the last one.
async fn checkpoint_loop(state: Arc<AppState>, every: Duration) {
    let mut signed_size = None;
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        let size = state.directory.ledger().head().size;
        if signed_size == Some(size) {
            continue;
        }
        match state.sign_checkpoint() {
            Ok(()) => signed_size = Some(size),
            Err(error) => tracing::error!(%error, "automatic checkpoint failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "listening for ctrl-c failed");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "listening for SIGTERM failed");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}
