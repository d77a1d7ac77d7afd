//! The request extractors of the server's own types: who calls ([`Principal`], from the bearer
//! token), why they read ([`Purpose`], from `X-Purpose`), and both at once ([`Accountable`]).
//!
//! Why here and not beside the types: `auth` and `access_log` are the server's models of
//! tokens and of the access ledger; reading them out of an HTTP request needs the server's
//! state and its error type, which would make those models import the server that imports
//! them.
//!
//! A request's caller is authenticated once: the first extraction of a [`Principal`] keeps it
//! in the request's extensions, and a later extractor that needs the caller too (the command
//! envelope mints ids for the calling account, [`super::envelope::CommandEnvelope`]) reads it
//! there, so both see the same caller and the token is looked up once.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::access_log::Purpose;
use crate::auth::Principal;

/// The caller authenticated once for this request, kept in its extensions so that a second
/// extractor (the command envelope mints ids with the caller's account) does not look the token
/// up again. Private: only this module can put one there.
#[derive(Debug, Clone)]
struct Authenticated(Principal);

impl FromRequestParts<Arc<AppState>> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        if let Some(Authenticated(principal)) = parts.extensions.get::<Authenticated>() {
            return Ok(principal.clone());
        }
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthenticated)?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthenticated)?;
        let principal = state
            .tokens
            .authenticate(token, state.now_utc())
            .ok_or(ApiError::Unauthenticated)?;
        parts.extensions.insert(Authenticated(principal.clone()));
        Ok(principal)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Purpose {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .headers
            .get("x-purpose")
            .and_then(|value| Purpose::parse(value.as_bytes()))
            .ok_or(ApiError::PurposeRequired)
    }
}

/// A personal-data read's accountability: the caller and the purpose, extracted together so a
/// handler cannot forget either.
#[derive(Debug, Clone)]
pub struct Accountable {
    /// Who.
    pub principal: Principal,
    /// Why.
    pub purpose: Purpose,
}

impl FromRequestParts<Arc<AppState>> for Accountable {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let purpose = Purpose::from_request_parts(parts, state).await?;
        Ok(Accountable { principal, purpose })
    }
}
