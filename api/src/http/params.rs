//! Query and path parameters as every read endpoint parses them, and the response pieces they
//! share.
//!
//! Why one module: the person queries, the statistics, the ledger's records and the access log
//! all take a page `limit`, name times, answer JSON, and the query endpoints all take units,
//! PINs and `as_known_at`. Read in one place, a parameter means the same thing and is refused
//! with the same words on every endpoint; a second copy would be a divergence waiting to
//! happen. Nothing here knows an endpoint: the endpoint modules import from here, never the
//! reverse.
//!
//! Errors never echo personal data: a PIN that does not parse is refused without repeating it.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use residence_domain::pin::Pin;
use residence_domain::timeline::AsKnown;
use residence_domain::units::{UnitCode, UnitRef, registry};
use residence_ledger::record::Timestamp;
use residence_projections::person::QueryError;
use serde::Serialize;

use super::AppState;
use super::error::{ApiError, error_chain};

/// A ledger time as RFC 3339 with microseconds, UTC (`2026-11-27T03:00:00.000000Z`).
pub(crate) fn rfc3339(time: Timestamp) -> String {
    match time.to_datetime() {
        Some(time) => time.to_rfc3339_opts(SecondsFormat::Micros, true),
        // Beyond chrono's calendar (the ledger refuses to record such a time, so only a
        // damaged or foreign ledger shows one): said as it is, never as another date.
        None => format!(
            "{} µs from the Unix epoch (beyond the calendar)",
            time.micros()
        ),
    }
}

/// A JSON response, as `axum::Json` answers (the same bytes and headers, the same 500 when the
/// body does not serialise), written into a buffer sized for a typical answer at once rather
/// than grown from 128 bytes.
pub(crate) fn json_response<T: Serialize>(body: &T) -> Response {
    let mut bytes = Vec::with_capacity(4096);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(error) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            error.to_string(),
        )
            .into_response(),
    }
}

/// Checks a page size: `None` gives `default`; 0 or more than `max` is refused.
///
/// # Errors
/// [`ApiError::BadRequest`] naming the limit.
pub(crate) fn page_limit(limit: Option<u64>, default: u64, max: u64) -> Result<u64, ApiError> {
    match limit {
        None => Ok(default),
        Some(limit) if (1..=max).contains(&limit) => Ok(limit),
        Some(limit) => Err(ApiError::BadRequest(format!(
            "limit must be 1 to {max}, got {limit}"
        ))),
    }
}

/// Which state of knowledge a question is asked against (`as_known_at=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AsKnownAt {
    /// Everything the projections have folded.
    Head,
    /// The records up to and including this position.
    Position(u64),
    /// The records recorded at or before this time.
    Time(DateTime<Utc>),
}

impl AsKnownAt {
    /// Parses `as_known_at`: digits are a position, anything else an RFC 3339 time not after
    /// `now`.
    ///
    /// # Errors
    /// [`ApiError::BadRequest`].
    pub(crate) fn parse(text: Option<&str>, now: DateTime<Utc>) -> Result<AsKnownAt, ApiError> {
        let Some(text) = text.map(str::trim) else {
            return Ok(AsKnownAt::Head);
        };
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return text.parse().map(AsKnownAt::Position).map_err(|_| {
                ApiError::BadRequest("as_known_at is not a ledger position".to_owned())
            });
        }
        let time = DateTime::parse_from_rfc3339(text)
            .map_err(|_| {
                ApiError::BadRequest(
                    "as_known_at must be a ledger position or an RFC 3339 time".to_owned(),
                )
            })?
            .with_timezone(&Utc);
        if time > now {
            return Err(ApiError::BadRequest(
                "as_known_at is in the future: nothing is known there yet".to_owned(),
            ));
        }
        Ok(AsKnownAt::Time(time))
    }

    /// The domain's form.
    pub(crate) fn domain(self) -> AsKnown {
        match self {
            AsKnownAt::Head => AsKnown::Now,
            AsKnownAt::Position(position) => AsKnown::AtPosition(position),
            AsKnownAt::Time(time) => AsKnown::AtTime(time.timestamp_micros()),
        }
    }

    /// The state of knowledge as answered, `folded` being the projections' position.
    pub(crate) fn view(self, folded: u64) -> AsKnownView {
        match self {
            AsKnownAt::Head => AsKnownView {
                position: folded.checked_sub(1),
                time: None,
            },
            AsKnownAt::Position(position) => AsKnownView {
                position: Some(position),
                time: None,
            },
            AsKnownAt::Time(time) => AsKnownView {
                position: None,
                time: Some(time.to_rfc3339_opts(SecondsFormat::Micros, true)),
            },
        }
    }

    /// The parameter for the access log.
    pub(crate) fn detail(self) -> String {
        match self {
            AsKnownAt::Head => "now".to_owned(),
            AsKnownAt::Position(position) => format!("position {position}"),
            AsKnownAt::Time(time) => time.to_rfc3339_opts(SecondsFormat::Micros, true),
        }
    }

    /// Waits until the projections can answer it: a position must be folded; a time needs every
    /// record durable now (a record recorded before it may still be in flight to the follower).
    ///
    /// # Errors
    /// [`ApiError::BadRequest`] for a position beyond the head; the errors of
    /// [`AppState::wait_visible`].
    pub(crate) async fn settle(self, state: &AppState) -> Result<(), ApiError> {
        match self {
            AsKnownAt::Head => Ok(()),
            AsKnownAt::Position(position) => {
                let size = state.ledger.head().size;
                if position >= size {
                    return Err(ApiError::BadRequest(format!(
                        "as_known_at {position} is beyond the ledger's head ({size} records)"
                    )));
                }
                state.wait_visible(Some(position)).await
            }
            AsKnownAt::Time(_) => {
                let size = state.ledger.head().size;
                state.wait_visible(size.checked_sub(1)).await
            }
        }
    }
}

/// The state of knowledge an answer rests on: `position` is the last ledger record it includes
/// (give it back as `as_known_at` to ask the same question again), or the `time` asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AsKnownView {
    /// The last record included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    /// The recording time asked about (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// The answer to a failed projection query: an unknown person or household is not found, a
/// ledger that cannot be read is unavailable, anything else is a bug (details logged).
pub(crate) fn query_failed(error: QueryError) -> ApiError {
    match error {
        QueryError::UnknownPerson(_) => {
            ApiError::NotFound("the person is not in the register".to_owned())
        }
        QueryError::UnknownHousehold(_) => {
            ApiError::NotFound("no such household in the register".to_owned())
        }
        QueryError::Read(_) => {
            tracing::error!(error = %error_chain(&error), "a query could not read the ledger");
            ApiError::Unavailable
        }
        QueryError::TooManyRecords { .. } | QueryError::Decode(_) | QueryError::Timeline(_) => {
            tracing::error!(error = %error_chain(&error), "a query failed");
            ApiError::Internal
        }
    }
}

/// Parses a PIN of a path.
///
/// # Errors
/// [`ApiError::BadRequest`] saying what is wrong with it, without echoing it.
pub(crate) fn parse_pin(text: &str) -> Result<Pin, ApiError> {
    // The error never echoes the text: it may be someone's PIN.
    text.parse::<Pin>()
        .map_err(|error| ApiError::BadRequest(error.to_string()))
}

/// Parses a unit as in paths and filters: `2025:00004`, `legacy:00001`, or a bare five-digit
/// code of the 2025 map; a code the map does not have is not found.
///
/// # Errors
/// [`ApiError::BadRequest`] for a malformed unit, [`ApiError::NotFound`] for one the
/// administrative map does not have.
pub(crate) fn parse_unit(text: &str) -> Result<UnitRef, ApiError> {
    let unit = if text.contains(':') {
        text.parse::<UnitRef>()
    } else {
        text.parse::<UnitCode>().map(UnitRef::y2025)
    }
    .map_err(|error| ApiError::BadRequest(error.to_string()))?;
    if registry().get(unit).is_none() {
        return Err(ApiError::NotFound(format!(
            "{unit} is not a unit of the administrative map"
        )));
    }
    Ok(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-27T03:00:00Z".parse().unwrap()
    }

    #[test]
    fn as_known_at_is_a_position_or_a_past_time() {
        assert_eq!(AsKnownAt::parse(None, now()).unwrap(), AsKnownAt::Head);
        assert_eq!(
            AsKnownAt::parse(Some("12"), now()).unwrap(),
            AsKnownAt::Position(12)
        );
        assert_eq!(
            AsKnownAt::parse(Some("2026-11-27T09:00:00+07:00"), now()).unwrap(),
            AsKnownAt::Time("2026-11-27T02:00:00Z".parse().unwrap())
        );
        for bad in ["", "yesterday", "-1", "2026-11-27", "2026-11-28T00:00:00Z"] {
            assert!(
                matches!(
                    AsKnownAt::parse(Some(bad), now()),
                    Err(ApiError::BadRequest(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_state_of_knowledge_names_the_last_record_included() {
        assert_eq!(AsKnownAt::Head.view(0).position, None);
        assert_eq!(AsKnownAt::Head.view(7).position, Some(6));
        assert_eq!(AsKnownAt::Position(3).view(7).position, Some(3));
    }

    #[test]
    fn page_limits_are_bounded() {
        assert_eq!(page_limit(None, 200, 1000).unwrap(), 200);
        assert_eq!(page_limit(Some(1000), 200, 1000).unwrap(), 1000);
        assert!(matches!(
            page_limit(Some(0), 200, 1000),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            page_limit(Some(1001), 200, 1000),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn units_parse_on_either_map_and_must_exist() {
        assert_eq!(
            parse_unit("2025:00004").unwrap(),
            UnitRef::y2025(UnitCode::new(4).unwrap())
        );
        assert_eq!(
            parse_unit("00004").unwrap(),
            UnitRef::y2025(UnitCode::new(4).unwrap())
        );
        assert_eq!(
            parse_unit("legacy:00001").unwrap(),
            UnitRef::legacy(UnitCode::new(1).unwrap())
        );
        assert!(matches!(parse_unit("2025:4"), Err(ApiError::BadRequest(_))));
        assert!(matches!(
            parse_unit("2025:99998"),
            Err(ApiError::NotFound(_))
        ));
    }
}
