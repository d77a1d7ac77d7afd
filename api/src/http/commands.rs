//! Placeholder: filled in by the API issue's work in progress.

use std::sync::Arc;

use axum::Router;

use super::AppState;

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
