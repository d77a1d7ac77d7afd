//! The request extractors of the server's own types: who calls ([`Principal`], from the bearer
//! token), why they read ([`Purpose`], from `X-Purpose`), and both at once ([`Accountable`]).
//!
//! Why here and not beside the types: `auth` and `access_log` are the server's models of
//! tokens and of the access ledger; reading them out of an HTTP request needs the server's
//! state and its error type, which would make those models import the server that imports
//! them.
//!
//! `Authorization` and `X-Purpose` are each taken from exactly one header: a request sending
//! either twice is refused with 400 `bad_request`, never answered for one of them.
//!
//! A request's caller is authenticated once: the first extraction of a [`Principal`] keeps it
//! in the request's extensions, and a later extractor that needs the caller too (the command
//! envelope mints ids for the calling account, [`super::envelope::CommandEnvelope`]) reads it
//! there, so both see the same caller and the token is looked up once.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};

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
        let header = single_header(&parts.headers, AUTHORIZATION.as_str(), "Authorization")?
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
        single_header(&parts.headers, "x-purpose", "X-Purpose")?
            .and_then(|value| Purpose::parse(value.as_bytes()))
            .ok_or(ApiError::PurposeRequired)
    }
}

/// The one value of header `name` (lowercase), if sent. A header that decides who calls or
/// why is never chosen among several: two are refused, whatever they say, rather than the
/// first (or last) silently winning.
///
/// # Errors
/// [`ApiError::BadRequest`] naming the header (`shown`) when it is sent more than once.
fn single_header<'a>(
    headers: &'a HeaderMap,
    name: &str,
    shown: &str,
) -> Result<Option<&'a HeaderValue>, ApiError> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(ApiError::BadRequest(format!(
            "send one {shown} header, not several"
        )));
    }
    Ok(first)
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

/// The 404 of a personal-data read that found nothing, written to the access log first: a
/// look-up of a PIN or household that the register does not hold is as accountable as one it
/// does (otherwise anyone with a token could probe who exists, untraced). `subject` is what
/// was asked for (`pin:…`, `household:…`, `unit:…`, or `ledger` for a record position); `detail`
/// the query's parameters, if any were read.
///
/// Returns the error to answer: [`ApiError::NotFound`] with `message` once the entry is
/// durable, else the access log's failure (→ 503, and no answer at all about the subject).
pub(crate) async fn logged_not_found(
    state: &AppState,
    principal: &Principal,
    purpose: &Purpose,
    action: &str,
    subject: &str,
    detail: String,
    message: &str,
) -> ApiError {
    let recorded = state
        .access
        .record(
            principal,
            action,
            subject,
            if detail.is_empty() {
                "not found".to_owned()
            } else {
                format!("{detail}; not found")
            },
            purpose,
        )
        .await;
    match recorded {
        Ok(_) => ApiError::NotFound(message.to_owned()),
        Err(error) => error.into(),
    }
}
