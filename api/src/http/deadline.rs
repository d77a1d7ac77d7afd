//! How long a request's body may take to arrive: a deadline on the body, counted from the end
//! of its headers.
//!
//! Why a deadline on the whole body, not a timeout between its pieces: a client sending one byte
//! every few seconds never lets a per-piece timeout fire and holds its connection (and the
//! buffer of a body up to [`BODY_BYTES_MAX`](super::BODY_BYTES_MAX)) for days; thousands of
//! them hold every file descriptor. Hyper bounds how long headers take (the listener's
//! `header_read_timeout`, set by the binary) but not bodies: this layer does. A body that misses
//! its deadline fails as it is read, which the extractors answer with 408 `body_timeout`
//! ([`ApiError::BodyTimeout`]); the connection is then closed, its body unread.
//!
//! Requests without a body (every GET) are passed through untouched: no timer is armed.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;

use super::error::ApiError;

/// The error a body fails with when its deadline passed before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the body did not arrive within {} s", .0.as_secs_f64())]
pub struct BodyTimedOut(pub Duration);

/// A body that fails with [`BodyTimedOut`] once `deadline` passed before its end.
#[derive(Debug)]
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    timeout: Duration,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut(this.timeout)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The middleware: arms the deadline of a request's body (`timeout` from now, the end of the
/// headers) unless it has none.
pub(super) async fn limit(timeout: Duration, request: Request, next: Next) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let (parts, inner) = request.into_parts();
    let body = Body::new(DeadlineBody {
        inner,
        deadline: Box::pin(tokio::time::sleep(timeout)),
        timeout,
    });
    next.run(Request::from_parts(parts, body)).await
}

/// The [`ApiError::BodyTimeout`] behind a body's read error, if its deadline is what failed it.
pub(super) fn timed_out(error: &(dyn std::error::Error + 'static)) -> Option<ApiError> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(BodyTimedOut(timeout)) = error.downcast_ref::<BodyTimedOut>() {
            return Some(ApiError::BodyTimeout { timeout: *timeout });
        }
        cause = error.source();
    }
    None
}
