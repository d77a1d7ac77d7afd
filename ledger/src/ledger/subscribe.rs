//! The live tail: a stream of records from a position on, following new appends.
//!
//! Why a watch of the durable size: followers (projections, replicas, the access log) must see
//! every record exactly once and in order, and must never see one that is not durable. The
//! writer publishes the durable size after each commit; the stream reads from the store up to
//! that size in bounded batches, then waits for the size to change. A slow subscriber therefore
//! costs nothing but its own reads: nothing is buffered for it beyond one batch.

use std::collections::VecDeque;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::sync::watch;

use super::{ReadError, Shared, decode_checked};
use crate::record::{Position, StoredRecord};

/// Records read from the store per batch.
const BATCH: u64 = 64;

type Changed = Pin<Box<dyn Future<Output = (watch::Receiver<u64>, bool)> + Send>>;

/// Waiting for the durable size to change.
enum Watch {
    /// Not waiting; the receiver is at hand.
    Idle(watch::Receiver<u64>),
    /// Waiting; the future gives the receiver back, and whether the writer is gone.
    Waiting(Changed),
    /// Transient state while switching.
    Empty,
}

/// A stream of [`StoredRecord`]s from a position on (see [`super::Ledger::subscribe`]).
///
/// Each item is a record or a read error; after an error the stream ends. The stream ends
/// normally once the ledger is closed and every durable record was delivered.
pub struct Subscription {
    shared: Arc<Shared>,
    next: u64,
    buffer: VecDeque<StoredRecord>,
    watch: Watch,
    /// The writer is gone: end once caught up.
    closed: bool,
    /// An error was delivered: end.
    ended: bool,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("next", &self.next)
            .field("buffered", &self.buffer.len())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    pub(super) fn new(shared: Arc<Shared>, from: Position) -> Subscription {
        let receiver = shared.durable.clone();
        Subscription {
            shared,
            next: from.0,
            buffer: VecDeque::new(),
            watch: Watch::Idle(receiver),
            closed: false,
            ended: false,
        }
    }

    /// The position of the next record the stream will yield.
    #[must_use]
    pub fn next_position(&self) -> Position {
        Position(self.next)
    }

    /// Reads up to one batch of durable records into the buffer.
    fn fill(&mut self, durable: u64) -> Result<(), ReadError> {
        let to = durable.min(self.next.saturating_add(BATCH));
        let mut failure = None;
        let buffer = &mut self.buffer;
        self.shared.store.scan(
            self.next,
            to,
            &mut |position, content| match decode_checked(position, content) {
                Ok(record) => {
                    buffer.push_back(record);
                    ControlFlow::Continue(())
                }
                Err(error) => {
                    failure = Some(error);
                    ControlFlow::Break(())
                }
            },
        )?;
        self.next += self.buffer.len() as u64;
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

impl Stream for Subscription {
    type Item = Result<StoredRecord, ReadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(record) = this.buffer.pop_front() {
                return Poll::Ready(Some(Ok(record)));
            }
            if this.ended {
                return Poll::Ready(None);
            }
            match std::mem::replace(&mut this.watch, Watch::Empty) {
                Watch::Idle(mut receiver) => {
                    let durable = *receiver.borrow_and_update();
                    if this.next < durable {
                        this.watch = Watch::Idle(receiver);
                        if let Err(error) = this.fill(durable) {
                            this.ended = true;
                            return Poll::Ready(Some(Err(error)));
                        }
                        continue;
                    }
                    if this.closed {
                        this.ended = true;
                        continue;
                    }
                    this.watch = Watch::Waiting(Box::pin(async move {
                        let closed = receiver.changed().await.is_err();
                        (receiver, closed)
                    }));
                }
                Watch::Waiting(mut changed) => match changed.as_mut().poll(cx) {
                    Poll::Ready((receiver, closed)) => {
                        this.closed |= closed;
                        this.watch = Watch::Idle(receiver);
                    }
                    Poll::Pending => {
                        this.watch = Watch::Waiting(changed);
                        return Poll::Pending;
                    }
                },
                Watch::Empty => {
                    // Only reachable if a previous poll panicked midway; end the stream.
                    this.ended = true;
                }
            }
        }
    }
}
