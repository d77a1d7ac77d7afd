//! A cap on the connections served at once: the listener's acceptor takes a permit for each
//! accepted connection and holds it until the connection is closed; a connection accepted when
//! none is left is closed at once.
//!
//! Why: every connection holds a file descriptor, and the ledger, the access log, checkpoints
//! and snapshots need descriptors too. Timeouts bound how long a slow client holds one
//! (headers, TLS handshakes, bodies: see `serve`), the cap bounds how many are held at a time,
//! so a flood of connections that never finish their requests cannot make the process run out
//! of descriptors (`accept error: Too many open files`) or keep the register from writing.
//! The permit is taken on the TCP connection, before any TLS handshake, so half-finished
//! handshakes count too.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The acceptor of a capped listener (clone it freely: clones share the permits).
#[derive(Debug, Clone)]
pub struct Capped {
    permits: Arc<Semaphore>,
    max: usize,
    refused: Arc<AtomicU64>,
}

impl Capped {
    /// An acceptor serving at most `max` connections at once (at least 1).
    pub fn new(max: usize) -> Capped {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        Capped {
            permits: Arc::new(Semaphore::new(max)),
            max,
            refused: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl<S> Accept<TcpStream, S> for Capped {
    type Stream = Counted<TcpStream>;
    type Service = S;
    type Future = std::future::Ready<io::Result<(Counted<TcpStream>, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => std::future::ready(Ok((
                Counted {
                    inner: stream,
                    _permit: permit,
                },
                service,
            ))),
            Err(_) => {
                // The stream is dropped here: the connection is closed at once. Logged at the
                // 1st, 2nd, 4th, 8th … refusal, so a flood cannot flood the log too.
                let refused = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
                if refused.is_power_of_two() {
                    tracing::warn!(
                        connections_max = self.max,
                        refused,
                        "connection limit reached: new connections are closed at once"
                    );
                }
                std::future::ready(Err(io::Error::other("connection limit reached")))
            }
        }
    }
}

/// A connection holding one permit of its [`Capped`] acceptor until it is dropped.
#[derive(Debug)]
pub struct Counted<I> {
    inner: I,
    _permit: OwnedSemaphorePermit,
}

impl<I: AsyncRead + Unpin> AsyncRead for Counted<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Counted<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
