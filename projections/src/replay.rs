//! Catching up from the ledger and following its live tail.
//!
//! Catch-up decodes in parallel and folds in order: decoder threads each take every n-th chunk
//! of positions, copy it out of the segment store, and decode the records and their JSON
//! payloads; the calling thread receives the chunks in position order from the
//! threads in turn and folds them. Decoding is the expensive part (about 1 µs per event), the
//! fold a few small appends, so the fold thread keeps up with the decoders. Each decoder has at
//! most two chunks in flight, which bounds memory.
//!
//! What catch-up checks: each record's position, and that it links to the previous one
//! (`prev_hash` equals the previous record's stored hash, see [`Projections::apply`]), so a
//! projection never mixes ledgers or skips a record. It does not recompute record hashes and
//! payload commitments (about 1 µs per record, a third of the replay): that is the ledger's
//! work, which checks every record when it opens and in `residence verify`. The ledger is the
//! truth; a projection is a cache of it.
//!
//! Following: [`SharedProjections`] holds the projections behind a lock for queries, folds each
//! record of a ledger subscription as it becomes durable, and publishes the folded position so
//! that a request can wait until its own write is visible ([`SharedProjections::wait_for`]).

use std::future::poll_fn;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::mpsc::{Receiver, Sender, channel, sync_channel};
use std::sync::{RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use futures_core::Stream;
use residence_domain::event::Event;
use residence_ledger::ledger::{Ledger, ReadError};
use residence_ledger::record::{Position, decode_content};
use residence_ledger::store::StoreError;
use residence_register::codec;
use tokio::sync::watch;

use crate::state::{ApplyError, Projections, RecordMeta};

/// Records per decoded chunk.
const CHUNK_RECORDS: u64 = 2048;

/// Chunks each decoder may have decoded ahead of the fold.
const CHUNKS_IN_FLIGHT: usize = 2;

/// Most decoder threads (a limit on everything).
pub const DECODE_THREADS_MAX: usize = 64;

/// Why catching up stopped. The projection keeps every record folded before the failure.
#[derive(Debug, thiserror::Error)]
pub enum CatchUpError {
    /// The segment store could not be read. → a technical failure (500 / restart).
    #[error("store read failed: {0}")]
    Store(#[from] StoreError),
    /// A stored record is damaged (does not decode, wrong position, or its hash does not
    /// match). → stop and point to `residence verify`.
    #[error("record at position {position} is damaged: {detail}")]
    Damaged {
        /// The record's position.
        position: u64,
        /// What is wrong.
        detail: String,
    },
    /// The store returned fewer records than the ledger's head promised. → a technical failure.
    #[error("store ended at position {position} before the ledger head {head}")]
    Short {
        /// Where the records ran out.
        position: u64,
        /// The ledger head.
        head: u64,
    },
    /// A decoder thread stopped without a result (it panicked). → a bug; the panic is reported
    /// on its own.
    #[error("a decoder thread stopped")]
    DecoderStopped,
    /// A record could not be folded.
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// A live-tail read failed.
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// What a catch-up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayStats {
    /// Records folded.
    pub records: u64,
    /// Of which with an erased payload.
    pub erased: u64,
    /// Wall-clock time taken.
    pub elapsed: Duration,
    /// Decoder threads used.
    pub decode_threads: usize,
}

impl ReplayStats {
    /// Records folded per second.
    #[must_use]
    pub fn records_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.records as f64 / seconds
        } else {
            0.0
        }
    }
}

/// One record, ready to fold.
struct Decoded {
    meta: RecordMeta,
    event: Option<Event>,
}

/// Reads and decodes records `from..to`.
///
/// The raw records are copied out of the store first and decoded after the scan returns: a
/// store may hold a lock while it visits records (the in-memory store does), and decoding under
/// it would serialise the decoder threads.
fn decode_chunk(ledger: &Ledger, from: u64, to: u64) -> Result<Vec<Decoded>, CatchUpError> {
    let mut raw: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::with_capacity(usize::try_from(to - from).unwrap_or(0));
    ledger.store().scan(from, to, &mut |_, content| {
        raw.extend_from_slice(content);
        ends.push(raw.len());
        ControlFlow::Continue(())
    })?;
    if (ends.len() as u64) < to - from {
        return Err(CatchUpError::Short {
            position: from + ends.len() as u64,
            head: to,
        });
    }
    let mut decoded = Vec::with_capacity(ends.len());
    let mut start = 0;
    for (position, end) in (from..to).zip(ends) {
        let content = raw.get(start..end).unwrap_or(&[]);
        start = end;
        decoded.push(decode_one(position, content)?);
    }
    Ok(decoded)
}

/// Checks and decodes the stored record at `position`.
fn decode_one(position: u64, content: &[u8]) -> Result<Decoded, CatchUpError> {
    let damaged = |detail: String| CatchUpError::Damaged { position, detail };
    let view = decode_content(content).map_err(|e| damaged(e.to_string()))?;
    if view.record.position.0 != position {
        return Err(damaged(format!(
            "it says it is at position {}",
            view.record.position
        )));
    }
    let event = codec::decode_payload(
        view.record.event_type,
        view.record.schema_version,
        &view.payload,
    )
    .map_err(|source| ApplyError::Decode { position, source })?;
    Ok(Decoded {
        meta: RecordMeta {
            position: view.record.position,
            recorded_at: view.record.recorded_at,
            event_id: view.record.event_id,
            prev_hash: view.record.prev_hash,
            record_hash: view.record_hash,
        },
        event,
    })
}

impl Projections {
    /// Folds every durable record of `ledger` from [`Projections::position`] to its head,
    /// decoding with `threads` decoder threads (1 to [`DECODE_THREADS_MAX`]).
    ///
    /// # Errors
    /// [`CatchUpError`]; the records folded before the failure stay folded.
    pub fn catch_up(
        &mut self,
        ledger: &Ledger,
        threads: usize,
    ) -> Result<ReplayStats, CatchUpError> {
        let head = ledger.head().size;
        self.catch_up_to(ledger, threads, head)
    }

    /// Folds the records of `ledger` from [`Projections::position`] up to (not including)
    /// `end`, clamped to the ledger's head.
    ///
    /// # Errors
    /// As [`Projections::catch_up`].
    pub fn catch_up_to(
        &mut self,
        ledger: &Ledger,
        threads: usize,
        end: u64,
    ) -> Result<ReplayStats, CatchUpError> {
        let started = Instant::now();
        let threads = threads.clamp(1, DECODE_THREADS_MAX);
        let start = self.position();
        let end = end.min(ledger.head().size);
        let erased_before = self.counters().erased;
        if start < end {
            self.catch_up_range(ledger, threads, start, end)?;
        }
        Ok(ReplayStats {
            records: self.position() - start,
            erased: self.counters().erased - erased_before,
            elapsed: started.elapsed(),
            decode_threads: threads,
        })
    }

    fn catch_up_range(
        &mut self,
        ledger: &Ledger,
        threads: usize,
        start: u64,
        head: u64,
    ) -> Result<(), CatchUpError> {
        pipeline(ledger, threads, start, head, |decoded| {
            for record in decoded {
                self.apply(&record.meta, record.event.as_ref())?;
            }
            Ok(())
        })
    }
}

/// Decodes records `start..end` with `threads` decoder threads and hands each chunk, in
/// position order, to `fold` on the calling thread.
fn pipeline(
    ledger: &Ledger,
    threads: usize,
    start: u64,
    end: u64,
    mut fold: impl FnMut(&[Decoded]) -> Result<(), CatchUpError>,
) -> Result<(), CatchUpError> {
    let chunks = end.saturating_sub(start).div_ceil(CHUNK_RECORDS);
    std::thread::scope(|scope| {
        let mut receivers: Vec<Receiver<Result<Vec<Decoded>, CatchUpError>>> = Vec::new();
        let mut recyclers: Vec<Sender<Vec<Decoded>>> = Vec::new();
        for thread in 0..threads {
            let (sender, receiver) = sync_channel(CHUNKS_IN_FLIGHT);
            // Folded chunks go back to the thread that decoded them, to be dropped there:
            // freeing memory in the thread that allocated it is much cheaper with the system
            // allocator, and it keeps that work off the fold thread.
            let (recycle, recycled) = channel::<Vec<Decoded>>();
            receivers.push(receiver);
            recyclers.push(recycle);
            scope.spawn(move || {
                let mut chunk = thread as u64;
                while chunk < chunks {
                    while let Ok(done) = recycled.try_recv() {
                        drop(done);
                    }
                    let from = start + chunk * CHUNK_RECORDS;
                    let to = (from + CHUNK_RECORDS).min(end);
                    let result = decode_chunk(ledger, from, to);
                    let failed = result.is_err();
                    // A closed channel means the fold stopped: stop too.
                    if sender.send(result).is_err() || failed {
                        break;
                    }
                    chunk += threads as u64;
                }
                // Drop what the fold hands back until it is done with this thread's chunks.
                while let Ok(done) = recycled.recv() {
                    drop(done);
                }
            });
        }
        for chunk in 0..chunks {
            let slot = (chunk % threads as u64) as usize;
            let receiver = receivers.get(slot).ok_or(CatchUpError::DecoderStopped)?;
            let decoded = receiver
                .recv()
                .map_err(|_| CatchUpError::DecoderStopped)??;
            let folded = fold(&decoded);
            if let Some(recycle) = recyclers.get(slot) {
                // A decoder that already stopped drops nothing more: the chunk is then dropped
                // here.
                let _ = recycle.send(decoded);
            }
            folded?;
        }
        // Closing the recycling channels lets the decoders finish.
        drop(recyclers);
        Ok(())
    })
}

/// Reads and decodes every record of `ledger` with the catch-up pipeline, without folding (the
/// benchmark's baseline: what no projection can avoid, measured in the same run).
pub fn decode_only(ledger: &Ledger, threads: usize) -> Result<ReplayStats, CatchUpError> {
    let started = Instant::now();
    let threads = threads.clamp(1, DECODE_THREADS_MAX);
    let mut records = 0u64;
    let mut erased = 0u64;
    pipeline(ledger, threads, 0, ledger.head().size, |decoded| {
        records += decoded.len() as u64;
        erased += decoded
            .iter()
            .filter(|record| record.event.is_none())
            .count() as u64;
        Ok(())
    })?;
    Ok(ReplayStats {
        records,
        erased,
        elapsed: started.elapsed(),
        decode_threads: threads,
    })
}

/// Builds projections of `ledger` from scratch with `threads` decoder threads (the benchmark's
/// "replay into all projections").
///
/// # Errors
/// [`CatchUpError`].
pub fn replay_all(
    ledger: &Ledger,
    threads: usize,
) -> Result<(Projections, ReplayStats), CatchUpError> {
    let mut projections = Projections::new(ledger.genesis_hash());
    let stats = projections.catch_up(ledger, threads)?;
    Ok((projections, stats))
}

/// Why waiting for a position failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaitError {
    /// The follower stopped before reaching the position. → 503 with the cause.
    #[error("the projection follower stopped: {0}")]
    Stopped(String),
}

/// How far the follower got.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Progress {
    /// Records folded.
    position: u64,
    /// Why the follower stopped, if it did.
    stopped: Option<String>,
}

/// Projections shared between a follower (the only writer) and readers.
#[derive(Debug)]
pub struct SharedProjections {
    state: RwLock<Projections>,
    progress: watch::Sender<Progress>,
}

impl SharedProjections {
    /// Shares `projections`.
    #[must_use]
    pub fn new(projections: Projections) -> SharedProjections {
        let progress = watch::Sender::new(Progress {
            position: projections.position(),
            stopped: None,
        });
        SharedProjections {
            state: RwLock::new(projections),
            progress,
        }
    }

    /// Read access for queries. Hold it briefly: the follower waits for it.
    pub fn read(&self) -> RwLockReadGuard<'_, Projections> {
        // A panic while folding leaves a state that is at worst one record behind its position
        // counter; queries still answer from it, and the follower reports the failure.
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The number of records folded.
    #[must_use]
    pub fn position(&self) -> u64 {
        self.progress.borrow().position
    }

    /// Waits until the record at `position` is folded (read-your-writes: pass the position an
    /// append returned). Returns at once if it already is. Callers bound the wait with a
    /// timeout.
    ///
    /// # Errors
    /// [`WaitError::Stopped`] when the follower stopped first.
    pub async fn wait_for(&self, position: u64) -> Result<(), WaitError> {
        let mut receiver = self.progress.subscribe();
        let progress = receiver
            .wait_for(|progress| progress.position > position || progress.stopped.is_some())
            .await
            .map_err(|_| WaitError::Stopped("the follower is gone".to_owned()))?;
        if progress.position > position {
            return Ok(());
        }
        Err(WaitError::Stopped(
            progress.stopped.clone().unwrap_or_default(),
        ))
    }

    /// Folds every durable record of `ledger` not folded yet (used before following).
    ///
    /// # Errors
    /// As [`Projections::catch_up`].
    pub fn catch_up(&self, ledger: &Ledger, threads: usize) -> Result<ReplayStats, CatchUpError> {
        let result = {
            let mut state = self
                .state
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let result = state.catch_up(ledger, threads);
            let position = state.position();
            self.progress
                .send_modify(|progress| progress.position = position);
            result
        };
        if let Err(error) = &result {
            self.stop(error.to_string());
        }
        result
    }

    /// Folds the records of `subscription` as they arrive, until the stream ends (the ledger
    /// closed). The subscription must start at [`SharedProjections::position`]
    /// (`ledger.subscribe(Position(shared.position()))`).
    ///
    /// # Errors
    /// The first read or fold failure; waiters are then released with [`WaitError::Stopped`].
    pub async fn follow<S>(&self, mut subscription: S) -> Result<(), CatchUpError>
    where
        S: Stream<Item = Result<residence_ledger::record::StoredRecord, ReadError>> + Unpin,
    {
        loop {
            let next = poll_fn(|cx| Pin::new(&mut subscription).poll_next(cx)).await;
            let record = match next {
                None => return Ok(()),
                Some(Ok(record)) => record,
                Some(Err(error)) => {
                    self.stop(error.to_string());
                    return Err(error.into());
                }
            };
            // Decode outside the lock, so readers wait only for the fold.
            let event = match crate::state::decode_record(&record) {
                Ok(event) => event,
                Err(error) => {
                    self.stop(error.to_string());
                    return Err(error.into());
                }
            };
            let meta = RecordMeta::of(&record);
            let result = {
                let mut state = self
                    .state
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                state
                    .apply(&meta, event.as_ref())
                    .map(|()| state.position())
            };
            match result {
                Ok(position) => self
                    .progress
                    .send_modify(|progress| progress.position = position),
                Err(error) => {
                    self.stop(error.to_string());
                    return Err(error.into());
                }
            }
        }
    }

    /// Follows from the current position of `ledger`'s live tail.
    ///
    /// # Errors
    /// As [`SharedProjections::follow`].
    pub async fn follow_ledger(&self, ledger: &Ledger) -> Result<(), CatchUpError> {
        let subscription = ledger.subscribe(Position(self.position()));
        self.follow(subscription).await
    }

    fn stop(&self, cause: String) {
        self.progress
            .send_modify(|progress| progress.stopped = Some(cause));
    }
}
