//! The ledger: the sequencer above a segment store, and everything read from it.
//!
//! Why this shape: one writer orders all appends, so conditions, back-links and the hash chain
//! are decided against one sequence without locks per record; concurrent callers still share
//! one fsync per group (group commit), which is what makes durable appends fast. Everything the
//! sequencer needs to decide quickly (tags, ids, the tree) is derived from the log and rebuilt
//! from it on open; the store stays a dumb, durable byte log that a second backend can implement.
//!
//! - [`Ledger::open`] checks the tail of the log (torn writes are truncated, altered records
//!   refuse the open, and nothing a stored checkpoint or the synced tree covers is ever cut),
//!   loads the index cache (`index_cache.rs`, `<ledger>/index/`) when it matches the log and
//!   replays the records after it (or rebuilds the indexes from the whole log), brings the
//!   Merkle tree up to the log and checks it against the latest signed checkpoint (rebuilding a
//!   tree that disagrees). Closing the ledger writes the cache, and so does a checkpoint once
//!   the ledger grew by a quarter since the last one.
//! - [`Ledger::checkpoint`] signs only a tree that extends the latest signed checkpoint, and
//!   stores each note once (`checkpoint_dir`); [`Ledger::checked_inclusion_proof`] and
//!   [`Ledger::checked_consistency_proof`] give out only proofs that verify against it.
//! - [`Ledger::append`] / [`Ledger::append_blocking`] validate and prepare a request in the
//!   caller's thread (tag blinding, salts, payload commitments: the hashing that does not depend
//!   on the position), then queue it to the sequencer (`writer.rs`): a writer thread forms a
//!   group, decides each request in order (idempotency, then the condition), assigns positions,
//!   back-links and `recorded_at`, and hashes and encodes the records; a committer thread makes
//!   the group durable with ONE `store.append`, advances the head and the tree, and only then
//!   answers. The two overlap: group N+1 is formed while group N is being synced.
//! - Reads (`read`, `read_range`, `read_by_tag`, `lookup`, `subscribe`) go to the store and check
//!   what they read (decoding, position, record hash, payload commitment). Position lists by
//!   tag are not held in memory: reads by tag walk the back-links stored in the records
//!   (`tags.rs`), starting from the tag's last (or a sampled) position in the index.
//! - A failed store append makes the ledger fail-stop: every later append is refused with the
//!   cause; reads keep working.
//!
//! Invariants: a position is answered only after `store.append` returned `Ok` for it; readers
//! only ever see durable records (the indexes run ahead of durability by the groups in flight, and
//! every read is bounded by the published durable size); `recorded_at` never decreases; only
//! the writer mutates the indexes, only the committer the head and the tree.

mod index_cache;
mod open;
mod subscribe;
mod tags;
mod writer;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::io;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tokio::sync::{mpsc, oneshot, watch};

pub use open::OpenError;
pub(crate) use open::cover;
pub use subscribe::Subscription;

use crate::checkpoint::{Checkpoint, NoteSigner, Origin, SignedNote, VerifierKey};
use crate::checkpoint_dir::{self, CheckpointFileError};
use crate::clock::{ClockError, ClockMode, check_request_time};
use crate::hash::Hash;
use crate::index::{FingerprintKey, IdIndex, TagFingerprint, TagIndex, id_fingerprint};
use crate::keys::LedgerSecret;
use crate::merkle::{MemoryTree, ProveError};
use crate::proof::{ConsistencyProof, InclusionProof};
use crate::record::{
    BlindedKinds, DecodeError, EventId, EventType, METADATA_LEN_MAX, PAYLOAD_LEN_MAX, PayloadRef,
    Position, Salt, SchemaVersion, StoredRecord, StoredTag, TAGS_PER_RECORD_MAX, Tag, TagBlinding,
    Timestamp, body_len, content_len, decode_content, payload_commitment,
};
use crate::store::{Location, SegmentStore, StoreError};
use crate::tree_store::{TreeAppendError, TreeStore, TreeSyncError};

/// Bounds on everything the ledger accepts and holds (STYLE: a limit on everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most records in one append request. A request is never split across store appends (it
    /// is atomic), so this is at most `group_records_max`.
    pub records_per_request_max: usize,
    /// Most bytes of encoded frames in one append request. A request is never split across
    /// store appends (it is atomic), so this is at most `group_bytes_max`.
    pub request_bytes_max: usize,
    /// Most records in one group commit.
    pub group_records_max: usize,
    /// Most bytes of encoded frames in one group commit (one write, one fsync). Opening treats
    /// the last this-many bytes of the log as the possibly torn tail.
    pub group_bytes_max: usize,
    /// Most requests waiting for the writer; callers wait beyond it (back-pressure).
    pub queue_requests_max: usize,
    /// Most records returned by one read.
    pub read_records_max: usize,
    /// Most tags in one condition.
    pub condition_tags_max: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            records_per_request_max: 4096,
            request_bytes_max: 8 << 20,
            group_records_max: 4096,
            group_bytes_max: 8 << 20,
            queue_requests_max: 4096,
            read_records_max: 10_000,
            condition_tags_max: 1024,
        }
    }
}

/// Everything [`Ledger::open`] needs.
pub struct LedgerConfig {
    /// The segment store holding the records.
    pub store: Arc<dyn SegmentStore>,
    /// Where the Merkle tree is kept (`<ledger>/tree`); `None` keeps it in memory (tests,
    /// tools), which costs about 64 bytes per record. The index cache is kept beside it, in
    /// `index/` of the same parent directory; with `None` there is no index cache.
    pub tree_dir: Option<PathBuf>,
    /// Where signed checkpoints are written (`<ledger>/checkpoints`); `None` writes none.
    pub checkpoint_dir: Option<PathBuf>,
    /// The ledger's origin (fixes the genesis hash).
    pub origin: Origin,
    /// The ledger secret (salts and tag blinding).
    pub secret: LedgerSecret,
    /// The kinds of tag that are blinded (from `ledger.json`).
    pub blinded_kinds: BlindedKinds,
    /// Where `recorded_at` comes from.
    pub clock: ClockMode,
    /// Bounds.
    pub limits: Limits,
}

impl fmt::Debug for LedgerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LedgerConfig")
            .field("store", &self.store)
            .field("tree_dir", &self.tree_dir)
            .field("checkpoint_dir", &self.checkpoint_dir)
            .field("origin", &self.origin)
            .field("blinded_kinds", &self.blinded_kinds)
            .field("clock", &self.clock)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// A record to append, as the caller gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    /// The idempotency key (derived by the caller from its request id).
    pub event_id: EventId,
    /// The event type.
    pub event_type: EventType,
    /// The payload schema version.
    pub schema_version: SchemaVersion,
    /// Tags in given form (blinded kinds are blinded by the ledger; duplicates are dropped).
    pub tags: Vec<Tag>,
    /// Metadata, at most 65,535 bytes (by convention a JSON object).
    pub metadata: Vec<u8>,
    /// The payload (event JSON), at most 1 MiB.
    pub payload: Vec<u8>,
}

/// A DCB-style append condition: fail if any record carrying one of `tags` exists after
/// `after` (anywhere, for `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Tags in given form.
    pub tags: Vec<Tag>,
    /// The last position the caller has seen.
    pub after: Option<Position>,
}

/// One atomic append: all its records, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRequest {
    /// The records, in order.
    pub records: Vec<NewRecord>,
    /// An optional condition.
    pub condition: Option<Condition>,
    /// The request's time: required with [`ClockMode::Supplied`], refused with the wall clock.
    pub recorded_at: Option<Timestamp>,
}

/// Where a record was appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Appended {
    /// Its position.
    pub position: Position,
    /// Its record hash.
    pub record_hash: Hash,
}

/// Whether an append wrote new records or found the request already appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum AppendStatus {
    /// The records were appended now.
    New,
    /// Every event id already existed with the same content: the original positions are
    /// returned and nothing was written.
    Duplicate,
}

/// The answer to a successful append.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppendOutcome {
    /// One entry per record of the request, in order.
    pub records: Vec<Appended>,
    /// New or duplicate.
    pub status: AppendStatus,
}

/// Why a request is malformed. → 400 (or 413 for the size limits) at the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRequest {
    /// The request has no record.
    #[error("request has no records")]
    NoRecords,
    /// More records than [`Limits::records_per_request_max`].
    #[error("request has {count} records, at most {max} are allowed")]
    TooManyRecords {
        /// Records in the request.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// More encoded bytes than [`Limits::request_bytes_max`].
    #[error("request encodes to {bytes} bytes, at most {max} are allowed")]
    TooManyBytes {
        /// Encoded size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// A record has more than 1,024 tags.
    #[error("record {record} has {count} tags, at most 1024 are allowed")]
    TooManyTags {
        /// Index of the record in the request.
        record: usize,
        /// Its tag count.
        count: usize,
    },
    /// A record's metadata is longer than 65,535 bytes.
    #[error("record {record} has {len} bytes of metadata, at most 65535 are allowed")]
    MetadataTooLong {
        /// Index of the record in the request.
        record: usize,
        /// Metadata length.
        len: usize,
    },
    /// A record's payload is longer than 1 MiB.
    #[error("record {record} has a payload of {len} bytes, at most 1048576 are allowed")]
    PayloadTooLong {
        /// Index of the record in the request.
        record: usize,
        /// Payload length.
        len: usize,
    },
    /// Two records of the request share an event id.
    #[error("event id {event_id} appears twice in the request")]
    DuplicateEventId {
        /// The repeated id.
        event_id: EventId,
    },
    /// The condition has more tags than [`Limits::condition_tags_max`].
    #[error("condition has {count} tags, at most {max} are allowed")]
    TooManyConditionTags {
        /// Tags in the condition.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The request's time does not fit the ledger's clock mode.
    #[error(transparent)]
    Clock(#[from] ClockError),
}

/// Why an append did not happen. Nothing of the request was written in any case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// The request is malformed. → 400/413.
    #[error("invalid append request: {0}")]
    Invalid(#[from] InvalidRequest),
    /// The condition failed: a record carrying one of its tags exists after `after`; `position`
    /// is the first such record. → 409; the caller re-reads and decides again.
    #[error("condition failed: record {position} carries a condition tag")]
    Conflict {
        /// The first conflicting position.
        position: Position,
    },
    /// An event id of the request already exists with different content (or the request
    /// mixes new ids with ids already appended). → 409, never retried.
    #[error("event id {event_id} is already used by record {position} with other content")]
    EventIdReused {
        /// The reused id.
        event_id: EventId,
        /// The record that has it.
        position: Position,
    },
    /// The stored record needed to check an event id could not be read. Nothing was written;
    /// the ledger keeps running. → 503, retry later.
    #[error("checking the event id failed: {cause}")]
    Unavailable {
        /// What failed.
        cause: String,
    },
    /// The ledger is failed (fail-stop after a write or sync failure) and accepts no appends
    /// until an operator restarts it. → 503 with the cause.
    #[error("ledger stopped accepting appends: {cause}")]
    Failed {
        /// The first failure.
        cause: String,
    },
    /// The ledger is shutting down. → 503.
    #[error("ledger is closed")]
    Closed,
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The position is not (yet) in the ledger. → 404.
    #[error("position {position} is beyond the end of the ledger ({size} records)")]
    OutOfRange {
        /// The position asked for.
        position: Position,
        /// The ledger's size.
        size: u64,
    },
    /// The store failed. → 500/503.
    #[error("reading the store failed")]
    Store(#[from] StoreError),
    /// A stored record does not decode or check (hash, position, commitment): the log was
    /// altered after it was opened. → 500; run `residence verify`.
    #[error("record {position} is damaged ({detail}); run `residence verify`")]
    Corrupt {
        /// The record's position.
        position: Position,
        /// What is wrong.
        detail: String,
    },
}

/// Why a payload could not be erased.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    /// The record could not be read or checked. → as [`ReadError`].
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Zeroing failed in the store. → 500; the erasure may be partial: run it again.
    #[error("zeroing the payload failed")]
    Store(#[source] StoreError),
}

/// What an erasure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erasure {
    /// The payload (of this many bytes) was present and is now zeroed.
    Erased {
        /// Its length.
        len: u32,
    },
    /// The payload was already erased (its bytes were zeroed again, to finish any interrupted
    /// erasure).
    AlreadyErased,
}

/// Why a proof or root could not be given.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The sizes or index are not in the tree (→ 400/404), or a tree file failed (→ 500).
    #[error(transparent)]
    Prove(#[from] ProveError),
    /// A checked proof was asked for a tree size that no signed checkpoint covers yet (or no
    /// checkpoint was signed). → sign a checkpoint, then ask again (the API signs one).
    #[error("no signed checkpoint covers tree size {size} (latest: {latest:?})")]
    NotCheckpointed {
        /// The size asked for.
        size: u64,
        /// The size of the latest signed checkpoint, if any.
        latest: Option<u64>,
    },
    /// The proof the stored tree gave does not verify against the signed checkpoint: a stored
    /// node is damaged. Nothing is given out; the tree is no longer trusted and the next open
    /// rebuilds it from the log. → 500 (or 503); run `residence verify`, restart.
    #[error(
        "the stored merkle tree gave a proof that does not verify against the signed checkpoint of size {checkpoint}: {detail}"
    )]
    Unverified {
        /// The size of the signed checkpoint checked against.
        checkpoint: u64,
        /// What did not verify.
        detail: String,
    },
    /// The record could not be read for its hash. → as [`ReadError`].
    #[error("reading the record failed")]
    Read(#[source] ReadError),
}

/// An inclusion proof that was checked against a signed checkpoint before it was given out
/// (see [`Ledger::checked_inclusion_proof`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedInclusion {
    /// The inclusion proof of the record in the tree of the size asked for.
    pub proof: InclusionProof,
    /// The record hash (as read from the log and checked against its body).
    pub record_hash: Hash,
    /// The root of the tree of the size asked for.
    pub root: Hash,
    /// The signed checkpoint it was checked against (the latest; its size is at least the size
    /// asked for), as stored.
    pub note: SignedNote,
    /// That checkpoint's body.
    pub checkpoint: Checkpoint,
    /// The consistency proof from the size asked for to the checkpoint's size, when they differ.
    pub consistency: Option<ConsistencyProof>,
}

/// A consistency proof that was checked against a signed checkpoint before it was given out
/// (see [`Ledger::checked_consistency_proof`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedConsistency {
    /// The consistency proof from the old size to the new one.
    pub proof: ConsistencyProof,
    /// The root of the tree of the old size.
    pub old_root: Hash,
    /// The root of the tree of the new size.
    pub new_root: Hash,
    /// The signed checkpoint the new root was checked against (the latest).
    pub note: SignedNote,
    /// That checkpoint's body.
    pub checkpoint: Checkpoint,
}

/// Records the ledger cut when it opened: their frames passed the store's framing checks, but
/// the first of them failed its hash checks and held a zero sector (`FORMAT.md` §6.5), beyond
/// everything covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornRecords {
    /// The first position cut.
    pub from: Position,
    /// How many records were cut (`from` to the end of the log).
    pub records: u64,
    /// The bytes of their frames.
    pub bytes: u64,
    /// Where the first of them was.
    pub location: Option<Location>,
    /// What was wrong with the first of them.
    pub fault: crate::verify::RecordFault,
}

/// Why a checkpoint could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointWriteError {
    /// The Merkle tree could not be synced. → 500; the ledger is failed.
    #[error("syncing the merkle tree failed")]
    TreeSync(#[from] TreeSyncError),
    /// The head record could not be read. → 500.
    #[error("reading the head record failed")]
    Read(#[from] ReadError),
    /// The checkpoint's time (the last `recorded_at`, or the clock) is outside the range of a
    /// date-time (about ±262,000 years): only a supplied request time can be. → 500; nothing
    /// was signed.
    #[error("checkpoint time {time:?} is outside the range a checkpoint can state")]
    TimeOutOfRange {
        /// The time, in microseconds since the epoch.
        time: Timestamp,
    },
    /// The checkpoint file could not be written. → 500; nothing was published.
    #[error("writing checkpoint {} failed", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Another note is already stored for this tree size (a fork, or a note not written by this
    /// ledger): it is kept, and nothing was signed over it. → 500; run `residence verify`.
    #[error("a different checkpoint of this size is already stored in {}; refusing to replace it", file.display())]
    Conflict {
        /// The stored note.
        file: PathBuf,
    },
    /// The tree about to be signed does not extend the latest signed checkpoint (its root at
    /// the signed size differs, or a consistency proof fails): signing it would be a fork.
    /// Nothing was signed; the stored tree is no longer trusted and the next open rebuilds it
    /// from the log. → 500; restart the ledger.
    #[error(
        "the tree of size {size} does not extend the signed checkpoint of size {signed}: {detail}"
    )]
    Inconsistent {
        /// The tree size that would have been signed.
        size: u64,
        /// The latest signed size.
        signed: u64,
        /// What did not match.
        detail: String,
    },
    /// The latest checkpoint announced the next key, and the signer is another key (the one it
    /// retired): `verify` would refuse the checkpoint. Nothing was signed. → 500; sign with the
    /// announced key.
    #[error("the latest checkpoint announced key {announced}; refusing to sign with another key")]
    RetiredKey {
        /// The announced key.
        announced: Box<VerifierKey>,
    },
    /// A rotation was asked for at a tree size that already has a checkpoint (without that
    /// announcement): a second note for one size is never written. → 409; append a record
    /// first.
    #[error("tree size {size} already has a signed checkpoint; append before announcing a key")]
    SizeAlreadySigned {
        /// The tree size.
        size: u64,
    },
}

/// The head of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The number of records.
    pub size: u64,
    /// The last record hash, or the genesis hash when empty.
    pub hash: Hash,
    /// The last record's `recorded_at`, if any.
    pub recorded_at: Option<Timestamp>,
}

/// Counts and memory estimates of the in-memory indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexStats {
    /// Records indexed.
    pub records: u64,
    /// Distinct stored tags.
    pub tags: usize,
    /// Estimated heap bytes of the tag index.
    pub tag_index_bytes: usize,
    /// Estimated heap bytes of the event id index.
    pub id_index_bytes: usize,
}

/// The Merkle tree: on disk, or in memory.
#[derive(Debug)]
enum Tree {
    Memory(MemoryTree),
    Disk(Box<TreeStore>),
}

impl Tree {
    fn size(&self) -> u64 {
        match self {
            Tree::Memory(tree) => tree.size(),
            Tree::Disk(tree) => tree.size(),
        }
    }

    fn root(&self) -> Hash {
        match self {
            Tree::Memory(tree) => tree.root(),
            Tree::Disk(tree) => tree.root(),
        }
    }

    fn root_at(&self, size: u64) -> Result<Hash, ProveError> {
        match self {
            Tree::Memory(tree) => tree.root_at(size),
            Tree::Disk(tree) => tree.root_at(size),
        }
    }

    fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, ProveError> {
        match self {
            Tree::Memory(tree) => tree.inclusion_proof(index, size),
            Tree::Disk(tree) => tree.inclusion_proof(index, size),
        }
    }

    fn consistency_proof(&self, old: u64, new: u64) -> Result<ConsistencyProof, ProveError> {
        match self {
            Tree::Memory(tree) => tree.consistency_proof(old, new),
            Tree::Disk(tree) => tree.consistency_proof(old, new),
        }
    }

    /// The leaf at `index`, or `None` when the tree cannot give it (beyond its size, or a tree
    /// file cannot be read): the only caller, opening, then treats the tree as disagreeing with
    /// the log and rebuilds it, which is right for a derived file whatever the reason.
    fn leaf(&self, index: u64) -> Option<Hash> {
        use crate::merkle::HashReader as _;
        match self {
            Tree::Memory(tree) => tree.node(0, index).ok(),
            Tree::Disk(tree) => tree.node(0, index).ok(),
        }
    }

    fn append_leaves(&mut self, record_hashes: &[Hash]) -> Result<(), TreeAppendError> {
        match self {
            Tree::Memory(tree) => {
                tree.append_leaves(record_hashes);
                Ok(())
            }
            Tree::Disk(tree) => tree.append_leaves(record_hashes),
        }
    }

    fn sync(&mut self) -> Result<(), TreeSyncError> {
        match self {
            Tree::Memory(_) => Ok(()),
            Tree::Disk(tree) => tree.sync(),
        }
    }

    /// Whether the tree's root at `old` is `old_root` and, when the tree is larger, the
    /// consistency proof from `old` to its size verifies between `old_root` and its root: the
    /// nodes those need agree with what was signed at `old`. `Err` says what did not.
    fn extends(&self, old: u64, old_root: &Hash) -> Result<(), String> {
        let size = self.size();
        if old > size {
            return Err(format!(
                "the tree holds {size} leaves, fewer than the signed {old}"
            ));
        }
        let at = self.root_at(old).map_err(|error| error.to_string())?;
        if at != *old_root {
            return Err(format!(
                "its root at size {old} is {at}, the signed root is {old_root}"
            ));
        }
        if old > 0 && old < size {
            self.consistency_proof(old, size)
                .map_err(|error| error.to_string())?
                .verify(old_root, &self.root())
                .map_err(|error| {
                    format!("the consistency proof from {old} to {size} does not verify: {error}")
                })?;
        }
        Ok(())
    }

    /// Stops trusting the stored nodes: the next open rebuilds the tree (see
    /// [`TreeStore::distrust`]). A tree in memory is rebuilt on every open anyway.
    fn distrust(&mut self, why: &str) {
        tracing::error!(%why, "the stored merkle tree disagrees with a signed checkpoint; it is rebuilt from the log at the next open");
        if let Tree::Disk(tree) = self
            && let Err(error) = tree.distrust()
        {
            tracing::error!(%error, "removing the tree's synced marker failed; delete tree/ before the next open");
        }
    }
}

/// The latest signed checkpoint: as stored (the note), and its body.
#[derive(Debug, Clone)]
struct Signed {
    note: SignedNote,
    checkpoint: Checkpoint,
}

/// The indexes and head. The writer updates the indexes as it decides (they run ahead of
/// durability by the groups in flight), the committer the head after each commit.
#[derive(Debug)]
struct State {
    tags: TagIndex,
    ids: IdIndex,
    head: Head,
    /// Back-links of the groups decided and not yet known to be durable, oldest first: pushed
    /// by the writer before the index names their positions, dropped once durable.
    pending: VecDeque<Arc<tags::PendingLinks>>,
    /// The size the index cache on disk covers (0: none).
    cached_size: u64,
}

/// What the ledger handle, the sequencer threads and subscriptions share.
struct Shared {
    store: Arc<dyn SegmentStore>,
    origin: Origin,
    genesis: Hash,
    secret: LedgerSecret,
    /// The key of the index fingerprints (derived from the secret).
    keys: FingerprintKey,
    blinded_kinds: BlindedKinds,
    clock: ClockMode,
    limits: Limits,
    checkpoint_dir: Option<PathBuf>,
    /// Where the index cache is kept (`<ledger>/index/`), if anywhere.
    index_dir: Option<PathBuf>,
    /// The size of the index cache used on open (0: rebuilt from the log).
    opened_from_cache: u64,
    /// The records cut as a torn tail when the ledger opened.
    torn_at_open: Option<TornRecords>,
    /// The latest checkpoint signed or stored (loaded from `checkpoint_dir` on open).
    signed: Mutex<Option<Signed>>,
    /// Held while a checkpoint is made: two at once could race for one size's file.
    checkpointing: Mutex<()>,
    state: RwLock<State>,
    tree: Mutex<Tree>,
    /// The first append failure; set once, never cleared (fail-stop).
    failure: OnceLock<String>,
    /// The durable size, published by the writer after each commit.
    durable: watch::Receiver<u64>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("store", &self.store)
            .field("origin", &self.origin)
            .field("failure", &self.failure.get())
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A poisoned lock means a panic in the writer while holding it: a bug. The indexes are
        // only changed after a commit, in one step per record, so reading on is still sound.
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn tree(&self) -> std::sync::MutexGuard<'_, Tree> {
        self.tree
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn signed(&self) -> std::sync::MutexGuard<'_, Option<Signed>> {
        self.signed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn durable_size(&self) -> u64 {
        *self.durable.borrow()
    }

    /// Records the first failure (fail-stop); later ones are dropped (the first is the cause).
    fn fail(&self, cause: String) {
        tracing::error!(%cause, "ledger stopped accepting appends");
        // `set` refuses only when a failure is already recorded: that first one stays the
        // cause, and this one was logged above.
        let _ = self.failure.set(cause);
    }

    /// Writes the index cache when the indexes describe exactly the durable records (nothing
    /// decided is in flight), the ledger is not failed, and the cache is older than `grown`
    /// records. The writer waits while it is written (it holds the state's read lock), which is
    /// why checkpoints only rewrite it after the ledger grew by a quarter.
    fn write_index_cache(&self, grown: u64) {
        let Some(dir) = &self.index_dir else {
            return;
        };
        if self.failure.get().is_some() {
            return;
        }
        let written = {
            let state = self.state();
            let size = state.head.size;
            if state.ids.len() as u64 != size || size < state.cached_size.saturating_add(grown) {
                return;
            }
            if size == state.cached_size && size > 0 {
                return;
            }
            let result = index_cache::write(
                dir,
                &self.keys.check(),
                size,
                &state.head.hash,
                &state.tags,
                &state.ids,
            );
            match result {
                Ok(()) => size,
                Err(error) => {
                    tracing::warn!(%error, dir = %dir.display(), "writing the index cache failed; the next open rebuilds the indexes");
                    if let Err(error) = index_cache::remove(dir) {
                        tracing::warn!(%error, "removing the stale index cache failed");
                    }
                    return;
                }
            }
        };
        self.state_mut().cached_size = written;
    }

    fn blinding(&self) -> TagBlinding<'_> {
        TagBlinding {
            kinds: &self.blinded_kinds,
            secret: &self.secret,
        }
    }
}

/// Decodes and checks a record read from the store at `position`.
fn decode_checked(position: u64, content: &[u8]) -> Result<StoredRecord, ReadError> {
    let corrupt = |detail: String| ReadError::Corrupt {
        position: Position(position),
        detail,
    };
    let view = decode_content(content).map_err(|e: DecodeError| corrupt(e.to_string()))?;
    if view.record.position.0 != position {
        return Err(corrupt(format!(
            "it says it is at position {}",
            view.record.position
        )));
    }
    crate::verify::check_hashes(&view).map_err(|fault| corrupt(fault.to_string()))?;
    Ok(view.to_owned_record())
}

/// The back-link of `tag` in the record at `position` (its stored content), checking that the
/// record is the one asked for and carries the tag.
fn back_link(position: u64, content: &[u8], tag: &str) -> Result<Option<u64>, ReadError> {
    let corrupt = |detail: String| ReadError::Corrupt {
        position: Position(position),
        detail,
    };
    let view = decode_content(content).map_err(|e: DecodeError| corrupt(e.to_string()))?;
    if view.record.position.0 != position {
        return Err(corrupt(format!(
            "it says it is at position {}",
            view.record.position
        )));
    }
    view.record
        .tags
        .iter()
        .find(|(stored, _)| *stored == tag)
        .map(|(_, link)| link.map(Position::get))
        .ok_or_else(|| corrupt("it does not carry the tag the index names".to_owned()))
}

/// A request after validation and position-independent hashing, ready for the writer.
#[derive(Debug)]
struct Prepared {
    event_id: EventId,
    event_type: EventType,
    schema_version: SchemaVersion,
    /// Stored form, strictly ascending.
    tags: Vec<StoredTag>,
    /// The index fingerprint of each tag, in the same order.
    tag_fingerprints: Vec<TagFingerprint>,
    /// The index fingerprint of the event id.
    id_fingerprint: u64,
    metadata: Vec<u8>,
    salt: Salt,
    commitment: Hash,
    payload: Vec<u8>,
    /// The exact length of the body.
    body_len: usize,
}

impl Prepared {
    /// Bytes of this record's frame (content plus the two length fields).
    fn frame_bytes(&self) -> usize {
        content_len(self.body_len, self.payload.len()) + 8
    }
}

/// A condition with its tags in stored form, with their index fingerprints.
#[derive(Debug)]
struct PreparedCondition {
    tags: Vec<(StoredTag, TagFingerprint)>,
    after: Option<Position>,
}

/// Where the sequencer sends a request's answer, and where the caller waits for it.
type Reply = oneshot::Sender<Result<AppendOutcome, AppendError>>;
type Answer = oneshot::Receiver<Result<AppendOutcome, AppendError>>;

/// A queued request.
#[derive(Debug)]
struct Request {
    records: Vec<Prepared>,
    condition: Option<PreparedCondition>,
    recorded_at: Option<Timestamp>,
    frame_bytes: usize,
    reply: Reply,
}

/// The ledger handle. Cheap to share behind an `Arc`; dropping the last handle stops the writer
/// after it has answered everything queued.
#[derive(Debug)]
pub struct Ledger {
    shared: Arc<Shared>,
    sender: Option<mpsc::Sender<Request>>,
    /// The writer, then the committer: joined in this order on drop.
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Ledger {
    /// Opens the ledger over `config.store`: checks the tail (truncating a torn one beyond the
    /// records a stored checkpoint or the synced tree covers, `FORMAT.md` §6.5), rebuilds the
    /// indexes, brings the Merkle tree up to the log, checks the log and the tree against the
    /// latest stored checkpoint (rebuilding a tree that disagrees) and starts the sequencer
    /// threads.
    ///
    /// This does blocking IO; from async code call it in `spawn_blocking`.
    ///
    /// # Errors
    /// [`OpenError`]: a damaged record (naming position, file and offset), damage or missing
    /// records among the covered ones ([`OpenError::DamagedCovered`],
    /// [`OpenError::CoveredRecordsMissing`]), a damaged stored checkpoint or a log that
    /// disagrees with it, a store or tree failure.
    pub fn open(config: LedgerConfig) -> Result<Ledger, OpenError> {
        open::open(config)
    }

    /// Appends a request and waits until it is durable (or refused).
    ///
    /// # Errors
    /// [`AppendError`]; nothing of the request is written on any error.
    pub async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, AppendError> {
        let (request, answer) = self.prepare(request)?;
        let sender = self.sender.as_ref().ok_or(AppendError::Closed)?;
        sender
            .send(request)
            .await
            .map_err(|_| AppendError::Closed)?;
        answer.await.map_err(|_| AppendError::Closed)?
    }

    /// Appends a request from a thread that is not running async code (CLI, benchmarks,
    /// importers).
    ///
    /// # Panics
    /// When called from within an async runtime's task (tokio forbids blocking there); use
    /// [`Ledger::append`] instead.
    ///
    /// # Errors
    /// As [`Ledger::append`].
    pub fn append_blocking(&self, request: AppendRequest) -> Result<AppendOutcome, AppendError> {
        let (request, answer) = self.prepare(request)?;
        let sender = self.sender.as_ref().ok_or(AppendError::Closed)?;
        sender
            .blocking_send(request)
            .map_err(|_| AppendError::Closed)?;
        answer.blocking_recv().map_err(|_| AppendError::Closed)?
    }

    /// Queues every request in order, then waits for all their answers (for importers,
    /// benchmarks and tests): the requests are decided in this order, and usually share group
    /// commits. Each answer is independent: one refusal does not affect the others.
    ///
    /// # Panics
    /// When called from within an async runtime's task, as [`Ledger::append_blocking`].
    pub fn append_all_blocking(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Vec<Result<AppendOutcome, AppendError>> {
        let mut waiting = Vec::with_capacity(requests.len());
        for request in requests {
            let queued = self.prepare(request).and_then(|(request, answer)| {
                let sender = self.sender.as_ref().ok_or(AppendError::Closed)?;
                sender
                    .blocking_send(request)
                    .map_err(|_| AppendError::Closed)?;
                Ok(answer)
            });
            waiting.push(queued);
        }
        waiting
            .into_iter()
            .map(|queued| queued?.blocking_recv().map_err(|_| AppendError::Closed)?)
            .collect()
    }

    /// The number of requests waiting for the writer (for metrics and tests).
    #[must_use]
    pub fn queued_requests(&self) -> usize {
        self.sender
            .as_ref()
            .map_or(0, |sender| sender.max_capacity() - sender.capacity())
    }

    /// Validates a request and does the hashing that does not depend on its position.
    fn prepare(&self, request: AppendRequest) -> Result<(Request, Answer), AppendError> {
        let shared = &self.shared;
        if let Some(cause) = shared.failure.get() {
            return Err(AppendError::Failed {
                cause: cause.clone(),
            });
        }
        let limits = &shared.limits;
        check_request_time(&shared.clock, request.recorded_at).map_err(InvalidRequest::from)?;
        let count = request.records.len();
        if count == 0 {
            return Err(InvalidRequest::NoRecords.into());
        }
        // A request is never split across groups (it is atomic), so it is also bounded by the
        // group limit, as its bytes are below: the writer relies on every group being within
        // the group limits, and opening on every store append being so.
        let max = limits.records_per_request_max.min(limits.group_records_max);
        if count > max {
            return Err(InvalidRequest::TooManyRecords { count, max }.into());
        }
        let blinding = shared.blinding();
        let mut records = Vec::with_capacity(count);
        let mut frame_bytes = 0usize;
        for (index, record) in request.records.into_iter().enumerate() {
            if record.tags.len() > TAGS_PER_RECORD_MAX {
                let count = record.tags.len();
                return Err(InvalidRequest::TooManyTags {
                    record: index,
                    count,
                }
                .into());
            }
            if record.metadata.len() > METADATA_LEN_MAX {
                let len = record.metadata.len();
                return Err(InvalidRequest::MetadataTooLong { record: index, len }.into());
            }
            if record.payload.len() > PAYLOAD_LEN_MAX {
                let len = record.payload.len();
                return Err(InvalidRequest::PayloadTooLong { record: index, len }.into());
            }
            let count = record.tags.len();
            let mut tags: Vec<StoredTag> = Vec::with_capacity(count);
            tags.extend(
                record
                    .tags
                    .into_iter()
                    .map(|tag| tag.into_stored(&blinding)),
            );
            tags.sort_unstable();
            tags.dedup();
            let tag_fingerprints = tags
                .iter()
                .map(|tag| shared.keys.tag(tag.as_str()))
                .collect();
            let salt = Salt(shared.secret.payload_salt(&record.event_id.0));
            let commitment = payload_commitment(&salt, &record.payload);
            let body_len = body_len(
                record.event_type.as_str().len(),
                tags.iter().map(|tag| tag.as_str().len()),
                record.metadata.len(),
            );
            let prepared = Prepared {
                event_id: record.event_id,
                event_type: record.event_type,
                schema_version: record.schema_version,
                tags,
                tag_fingerprints,
                id_fingerprint: id_fingerprint(&salt.0),
                metadata: record.metadata,
                salt,
                commitment,
                payload: record.payload,
                body_len,
            };
            frame_bytes = frame_bytes.saturating_add(prepared.frame_bytes());
            records.push(prepared);
        }
        let max_bytes = limits.request_bytes_max.min(limits.group_bytes_max);
        if frame_bytes > max_bytes {
            return Err(InvalidRequest::TooManyBytes {
                bytes: frame_bytes,
                max: max_bytes,
            }
            .into());
        }
        if records.len() > 1 {
            let mut ids: Vec<&EventId> = records.iter().map(|r| &r.event_id).collect();
            ids.sort_unstable();
            if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
                return Err(InvalidRequest::DuplicateEventId { event_id: *pair[0] }.into());
            }
        }
        let condition = match request.condition {
            None => None,
            Some(condition) => {
                if condition.tags.len() > limits.condition_tags_max {
                    let (count, max) = (condition.tags.len(), limits.condition_tags_max);
                    return Err(InvalidRequest::TooManyConditionTags { count, max }.into());
                }
                let tags: BTreeMap<StoredTag, TagFingerprint> = condition
                    .tags
                    .iter()
                    .map(|tag| {
                        let stored = tag.to_stored(&blinding);
                        let fingerprint = shared.keys.tag(stored.as_str());
                        (stored, fingerprint)
                    })
                    .collect();
                Some(PreparedCondition {
                    tags: tags.into_iter().collect(),
                    after: condition.after,
                })
            }
        };
        let (reply, answer) = oneshot::channel();
        let request = Request {
            records,
            condition,
            recorded_at: request.recorded_at,
            frame_bytes,
            reply,
        };
        Ok((request, answer))
    }

    /// The head: size, head hash and last `recorded_at`.
    #[must_use]
    pub fn head(&self) -> Head {
        self.shared.state().head
    }

    /// The origin.
    #[must_use]
    pub fn origin(&self) -> &Origin {
        &self.shared.origin
    }

    /// The genesis hash.
    #[must_use]
    pub fn genesis_hash(&self) -> Hash {
        self.shared.genesis
    }

    /// The cause of the fail-stop, if the ledger stopped accepting appends.
    #[must_use]
    pub fn failure(&self) -> Option<&str> {
        self.shared.failure.get().map(String::as_str)
    }

    /// The stored form of a tag under this ledger's blinding (for callers that show or compare
    /// stored tags, e.g. proof builders).
    #[must_use]
    pub fn stored_tag(&self, tag: &Tag) -> StoredTag {
        tag.to_stored(&self.shared.blinding())
    }

    /// The record at `position`.
    ///
    /// # Errors
    /// [`ReadError::OutOfRange`] beyond the head, [`ReadError::Store`], [`ReadError::Corrupt`].
    pub fn read(&self, position: Position) -> Result<StoredRecord, ReadError> {
        let size = self.shared.durable_size();
        if position.0 >= size {
            return Err(ReadError::OutOfRange { position, size });
        }
        let content = self.shared.store.read(position.0)?;
        decode_checked(position.0, &content)
    }

    /// Records `from..to` (clamped to the head), at most [`Limits::read_records_max`] of them:
    /// a caller wanting more continues from the last position returned plus one.
    ///
    /// # Errors
    /// [`ReadError::Store`], [`ReadError::Corrupt`].
    pub fn read_range(&self, from: Position, to: Position) -> Result<Vec<StoredRecord>, ReadError> {
        let size = self.shared.durable_size();
        let limit = self.shared.limits.read_records_max as u64;
        let to = to.0.min(size).min(from.0.saturating_add(limit));
        if from.0 >= to {
            return Ok(Vec::new());
        }
        let mut records = Vec::with_capacity(
            usize::try_from(to - from.0).expect("a range is at most read_records_max, a usize"),
        );
        let mut failure = None;
        self.shared
            .store
            .scan(
                from.0,
                to,
                &mut |position, content| match decode_checked(position, content) {
                    Ok(record) => {
                        records.push(record);
                        ControlFlow::Continue(())
                    }
                    Err(error) => {
                        failure = Some(error);
                        ControlFlow::Break(())
                    }
                },
            )?;
        match failure {
            Some(error) => Err(error),
            None => Ok(records),
        }
    }

    /// The positions of records carrying `tag` (given form) after `after`, ascending, at most
    /// `limit` (itself capped at [`Limits::read_records_max`]).
    ///
    /// The lists live in the log (back-links), so this reads the records it walks: about one
    /// per position returned, plus at most [`SAMPLE_EVERY`](crate::index::SAMPLE_EVERY).
    ///
    /// # Errors
    /// [`ReadError::Store`], [`ReadError::Corrupt`] (also when a walked record does not carry
    /// the tag its index names).
    pub fn try_positions_by_tag(
        &self,
        tag: &Tag,
        after: Option<Position>,
        limit: usize,
    ) -> Result<Vec<Position>, ReadError> {
        let mut walked = HashMap::new();
        let positions = self.walk_tag(tag, after, limit, &mut walked, false)?;
        Ok(positions.into_iter().map(Position).collect())
    }

    /// As [`Ledger::try_positions_by_tag`], for callers that cannot handle a read error here:
    /// on one (the store failed, or the log was altered under the running ledger) it logs the
    /// error and returns the positions found before it, so a caller MUST read the records it
    /// needs and handle their read errors. Prefer [`Ledger::try_positions_by_tag`].
    #[must_use]
    pub fn positions_by_tag(
        &self,
        tag: &Tag,
        after: Option<Position>,
        limit: usize,
    ) -> Vec<Position> {
        let limit = limit.min(self.shared.limits.read_records_max);
        let mut walked = HashMap::new();
        if let Ok(positions) = self.walk_tag(tag, after, limit, &mut walked, false) {
            return positions.into_iter().map(Position).collect();
        }
        let mut found = Vec::new();
        let mut after = after;
        // Walk again block by block, so that the error keeps what was found before it.
        while found.len() < limit {
            let step = (limit - found.len()).min(crate::index::SAMPLE_EVERY as usize);
            match self.walk_tag(tag, after, step, &mut walked, false) {
                Ok(positions) => {
                    let done = positions.len() < step;
                    after = positions.last().copied().map(Position).or(after);
                    found.extend(positions.into_iter().map(Position));
                    if done {
                        break;
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "reading the records of a tag failed");
                    break;
                }
            }
        }
        found
    }

    /// Walks the tag's chain (see `tags.rs`); when `keep`, the contents of durable records
    /// read on the way are kept in `walked` for the caller.
    fn walk_tag(
        &self,
        tag: &Tag,
        after: Option<Position>,
        limit: usize,
        walked: &mut HashMap<u64, Vec<u8>>,
        keep: bool,
    ) -> Result<Vec<u64>, ReadError> {
        let stored = self.stored_tag(tag);
        let fingerprint = self.shared.keys.tag(stored.as_str());
        let limit = limit.min(self.shared.limits.read_records_max);
        let after = after.map(Position::get);
        // The indexes run ahead of durability (see `writer.rs`): keep durable positions only,
        // and follow the links of records in flight from the writer's pending groups.
        let durable = self.shared.durable_size();
        let blocks = limit / crate::index::SAMPLE_EVERY as usize + 2;
        let (chain, pending) = {
            let state = self.shared.state();
            let chain = state.tags.chain(fingerprint, after, blocks);
            let pending: Vec<Arc<tags::PendingLinks>> = state
                .pending
                .iter()
                .filter(|group| group.end() > durable)
                .cloned()
                .collect();
            (chain, pending)
        };
        let Some(id) = chain.id else {
            return Ok(Vec::new());
        };
        let store = &self.shared.store;
        tags::walk(&chain, after, durable, limit, &mut |position| {
            if position >= durable
                && let Some(link) = pending.iter().find_map(|group| group.link(position, id))
            {
                return Ok(link);
            }
            let content = store.read(position)?;
            let link = back_link(position, &content, stored.as_str())?;
            if keep {
                walked.insert(position, content);
            }
            Ok(link)
        })
    }

    /// The records carrying `tag` (given form) after `after`, ascending, at most `limit` (itself
    /// capped at [`Limits::read_records_max`]). Each record carries its back-links.
    ///
    /// # Errors
    /// [`ReadError::Store`], [`ReadError::Corrupt`].
    pub fn read_by_tag(
        &self,
        tag: &Tag,
        after: Option<Position>,
        limit: usize,
    ) -> Result<Vec<StoredRecord>, ReadError> {
        let mut walked = HashMap::new();
        let positions = self.walk_tag(tag, after, limit, &mut walked, true)?;
        let mut records = Vec::with_capacity(positions.len());
        for position in positions {
            let content = match walked.remove(&position) {
                Some(content) => content,
                None => self.shared.store.read(position)?,
            };
            records.push(decode_checked(position, &content)?);
        }
        Ok(records)
    }

    /// The position and record hash of the record with `event_id`, if there is one.
    ///
    /// # Errors
    /// [`ReadError::Store`] or [`ReadError::Corrupt`] when a candidate record cannot be read.
    pub fn lookup(&self, event_id: &EventId) -> Result<Option<Appended>, ReadError> {
        let durable = self.shared.durable_size();
        let fingerprint = id_fingerprint(&self.shared.secret.payload_salt(&event_id.0));
        let candidates: Vec<Position> = self
            .shared
            .state()
            .ids
            .candidates(fingerprint)
            .filter(|position| position.0 < durable)
            .collect();
        for position in candidates {
            let content = self.shared.store.read(position.0)?;
            let record = decode_content(&content).map_err(|e| ReadError::Corrupt {
                position,
                detail: e.to_string(),
            })?;
            if record.record.event_id == *event_id {
                return Ok(Some(Appended {
                    position,
                    record_hash: record.record_hash,
                }));
            }
        }
        Ok(None)
    }

    /// A stream of the records from `from` on: it catches up from the store, then follows new
    /// appends as they become durable. It ends after the ledger is dropped, once caught up.
    #[must_use]
    pub fn subscribe(&self, from: Position) -> Subscription {
        Subscription::new(Arc::clone(&self.shared), from)
    }

    /// Erases the payload of the record at `position`: overwrites payload state, salt and
    /// payload with zeros in place, durably. Every hash, proof and checkpoint stays valid.
    ///
    /// The state byte and salt are zeroed first, then the payload: if interrupted, the record
    /// already reads as erased, and `verify` reports the leftover bytes until the erasure is
    /// run again.
    ///
    /// # Errors
    /// [`EraseError::Read`] when the record cannot be read or is damaged,
    /// [`EraseError::Store`] when zeroing fails.
    pub fn erase_payload(&self, position: Position) -> Result<Erasure, EraseError> {
        let size = self.shared.durable_size();
        if position.0 >= size {
            return Err(ReadError::OutOfRange { position, size }.into());
        }
        let content = self
            .shared
            .store
            .read(position.0)
            .map_err(ReadError::from)?;
        let view = decode_content(&content).map_err(|e| ReadError::Corrupt {
            position,
            detail: e.to_string(),
        })?;
        let (erasure, len) = match view.payload {
            PayloadRef::Present { bytes, .. } => {
                let len = u32::try_from(bytes.len()).expect("payload validated to ≤ 1 MiB");
                (Erasure::Erased { len }, bytes.len())
            }
            PayloadRef::Erased { len } => (Erasure::AlreadyErased, len as usize),
        };
        let store = &self.shared.store;
        store
            .zero_range(position.0, view.payload_state_offset, 33)
            .map_err(EraseError::Store)?;
        if len > 0 {
            store
                .zero_range(position.0, view.payload_offset, len)
                .map_err(EraseError::Store)?;
        }
        Ok(erasure)
    }

    /// The Merkle root of the first `size` records.
    ///
    /// # Errors
    /// [`ProofError`] when `size` is beyond the tree or a tree file fails.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        Ok(self.shared.tree().root_at(size)?)
    }

    /// The tree's current size and root (may trail [`Ledger::head`] by one group for an
    /// instant).
    #[must_use]
    pub fn tree_head(&self) -> (u64, Hash) {
        let tree = self.shared.tree();
        (tree.size(), tree.root())
    }

    /// The inclusion proof of record `index` in the tree of size `size`.
    ///
    /// # Errors
    /// [`ProofError`] for an index or size outside the tree, or a tree file failure.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, ProofError> {
        Ok(self.shared.tree().inclusion_proof(index, size)?)
    }

    /// The consistency proof from size `old` to size `new`.
    ///
    /// # Errors
    /// [`ProofError`] for sizes outside the tree, or a tree file failure.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<ConsistencyProof, ProofError> {
        Ok(self.shared.tree().consistency_proof(old, new)?)
    }

    /// Signs a checkpoint of the current tree with `signer` and, when a checkpoint directory is
    /// configured, stores it as `<size, 20 digits>.note`, created once and never replaced (see
    /// [`checkpoint_dir::store`]). The tree is synced first, so a stored checkpoint never covers
    /// leaves the tree could lose.
    ///
    /// Contracts: it MUST NOT sign a tree that does not extend the latest signed checkpoint
    /// (same size: same root; larger: the tree's root at the signed size is the signed root and
    /// the consistency proof from there holds), and MUST NOT write a second note for a size:
    /// when the tree has the size and root of the latest checkpoint, that stored note is
    /// returned and nothing is signed. Checkpoint times never decrease.
    ///
    /// # Errors
    /// [`CheckpointWriteError`]: [`CheckpointWriteError::Inconsistent`] for a tree that does not
    /// extend the latest checkpoint, [`CheckpointWriteError::Conflict`] when another note is
    /// stored for the size, [`CheckpointWriteError::RetiredKey`] when the latest checkpoint
    /// announced another key than the signer's.
    pub fn checkpoint(&self, signer: &NoteSigner) -> Result<SignedNote, CheckpointWriteError> {
        self.make_checkpoint(signer, None)
    }

    /// As [`Ledger::checkpoint`], announcing `next_key` as the next signing key (rotation: the
    /// checkpoint is signed by the current key).
    ///
    /// # Errors
    /// [`CheckpointWriteError`].
    pub fn checkpoint_announcing(
        &self,
        signer: &NoteSigner,
        next_key: &VerifierKey,
    ) -> Result<SignedNote, CheckpointWriteError> {
        self.make_checkpoint(signer, Some(next_key.clone()))
    }

    fn make_checkpoint(
        &self,
        signer: &NoteSigner,
        next_key: Option<VerifierKey>,
    ) -> Result<SignedNote, CheckpointWriteError> {
        // One checkpoint at a time: the latest signed one is read, extended and replaced.
        let _one = self
            .shared
            .checkpointing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let latest = self.shared.signed().clone();
        let (size, root) = {
            let mut tree = self.shared.tree();
            if let Err(error) = tree.sync() {
                self.shared
                    .fail(format!("syncing the merkle tree failed: {error}"));
                return Err(error.into());
            }
            let (size, root) = (tree.size(), tree.root());
            if let Some(latest) = &latest {
                let signed = &latest.checkpoint;
                if signed.size == size && signed.root == root {
                    if next_key.is_none() || next_key == signed.next_key {
                        return Ok(latest.note.clone());
                    }
                    return Err(CheckpointWriteError::SizeAlreadySigned { size });
                }
                if let Err(detail) = tree.extends(signed.size, &signed.root) {
                    tree.distrust(&detail);
                    return Err(CheckpointWriteError::Inconsistent {
                        size,
                        signed: signed.size,
                        detail,
                    });
                }
                if let Some(announced) = &signed.next_key
                    && signer.verifier_key() != *announced
                {
                    return Err(CheckpointWriteError::RetiredKey {
                        announced: Box::new(announced.clone()),
                    });
                }
            }
            (size, root)
        };
        let head = if size == 0 {
            self.shared.genesis
        } else {
            let content = self.shared.store.read(size - 1).map_err(ReadError::from)?;
            decode_checked(size - 1, &content)?.record_hash
        };
        // An empty ledger has no time yet; its checkpoint is dated by the clock, or the epoch.
        let last = self.head().recorded_at.unwrap_or(Timestamp::EPOCH);
        let time = match &self.shared.clock {
            ClockMode::Wall(clock) => clock.now().max(last),
            ClockMode::Supplied => last,
        };
        // A supplied `recorded_at` may lie beyond what a checkpoint can state (about ±262,000
        // years): refused, never signed as some other time.
        let time = time
            .to_datetime()
            .ok_or(CheckpointWriteError::TimeOutOfRange { time })?;
        // Checkpoint times never decrease, even when the wall clock stepped back.
        let time = latest
            .as_ref()
            .map_or(time, |latest| time.max(latest.checkpoint.time));
        let checkpoint = Checkpoint {
            origin: self.shared.origin.clone(),
            size,
            root,
            time,
            head,
            next_key,
        };
        let note = checkpoint.sign(signer);
        if let Some(dir) = &self.shared.checkpoint_dir {
            match checkpoint_dir::store(dir, size, &note) {
                Ok(_) => {}
                Err(CheckpointFileError::Conflict { file }) => {
                    return Err(CheckpointWriteError::Conflict { file });
                }
                Err(CheckpointFileError::Io { path, source, .. }) => {
                    return Err(CheckpointWriteError::Write { path, source });
                }
                Err(other) => {
                    unreachable!("storing a note only fails with a conflict or IO: {other}")
                }
            }
        }
        *self.shared.signed() = Some(Signed {
            note: note.clone(),
            checkpoint,
        });
        let cached = self.shared.state().cached_size;
        self.shared
            .write_index_cache((cached / 4).max(CACHE_GROWTH_MIN));
        Ok(note)
    }

    /// The latest signed checkpoint (the stored note with the largest size when the ledger
    /// opened, or the last one signed since), with its body; `None` when none was signed.
    #[must_use]
    pub fn latest_checkpoint(&self) -> Option<(SignedNote, Checkpoint)> {
        self.shared
            .signed()
            .as_ref()
            .map(|signed| (signed.note.clone(), signed.checkpoint.clone()))
    }

    /// The latest signed checkpoint if it covers tree size `size`.
    fn signed_covering(&self, size: u64) -> Result<Signed, ProofError> {
        let latest = self.shared.signed().clone();
        match latest {
            Some(signed) if signed.checkpoint.size >= size => Ok(signed),
            other => Err(ProofError::NotCheckpointed {
                size,
                latest: other.map(|signed| signed.checkpoint.size),
            }),
        }
    }

    /// Refuses a proof that did not verify, and stops trusting the stored tree.
    fn unverified(&self, signed: &Signed, detail: String) -> ProofError {
        self.shared.tree().distrust(&detail);
        ProofError::Unverified {
            checkpoint: signed.checkpoint.size,
            detail,
        }
    }

    /// The inclusion proof of record `index` in the tree of size `size`, checked before it is
    /// given out: it MUST verify with the record's hash (read from the log) against the root at
    /// `size`, and that root MUST be the root of the latest signed checkpoint or, for a smaller
    /// size, extend to it (a consistency proof, returned beside it). Only a proof that passes
    /// leaves the ledger, so a damaged stored node never reaches a caller.
    ///
    /// # Errors
    /// [`ProofError::Prove`] for an index or size outside the tree or a tree file failure,
    /// [`ProofError::NotCheckpointed`] when no signed checkpoint covers `size`,
    /// [`ProofError::Unverified`] when the stored tree gave a proof that does not verify (the
    /// tree is then distrusted, see [`ProofError::Unverified`]), [`ProofError::Read`].
    pub fn checked_inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<CheckedInclusion, ProofError> {
        let signed = self.signed_covering(size)?;
        let signed_size = signed.checkpoint.size;
        let (proof, root, consistency) = {
            let tree = self.shared.tree();
            let proof = tree.inclusion_proof(index, size)?;
            let root = tree.root_at(size)?;
            let consistency = if size < signed_size {
                Some(tree.consistency_proof(size, signed_size)?)
            } else {
                None
            };
            (proof, root, consistency)
        };
        let record_hash = self
            .read(Position(index))
            .map_err(ProofError::Read)?
            .record_hash;
        let checked = proof
            .verify(&record_hash, &root)
            .map_err(|error| format!("inclusion of record {index} in size {size}: {error}"))
            .and_then(|()| anchor(size, &root, consistency.as_ref(), &signed));
        if let Err(detail) = checked {
            return Err(self.unverified(&signed, detail));
        }
        Ok(CheckedInclusion {
            proof,
            record_hash,
            root,
            note: signed.note,
            checkpoint: signed.checkpoint,
            consistency,
        })
    }

    /// The consistency proof from size `old` to size `new`, checked before it is given out: it
    /// MUST verify between the tree's roots at `old` and `new`, and the root at `new` MUST be
    /// the root of the latest signed checkpoint or extend to it.
    ///
    /// # Errors
    /// As [`Ledger::checked_inclusion_proof`].
    pub fn checked_consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<CheckedConsistency, ProofError> {
        let signed = self.signed_covering(new)?;
        let signed_size = signed.checkpoint.size;
        let (proof, old_root, new_root, to_signed) = {
            let tree = self.shared.tree();
            let proof = tree.consistency_proof(old, new)?;
            let old_root = tree.root_at(old)?;
            let new_root = tree.root_at(new)?;
            let to_signed = if new < signed_size {
                Some(tree.consistency_proof(new, signed_size)?)
            } else {
                None
            };
            (proof, old_root, new_root, to_signed)
        };
        let checked = proof
            .verify(&old_root, &new_root)
            .map_err(|error| format!("consistency from {old} to {new}: {error}"))
            .and_then(|()| anchor(new, &new_root, to_signed.as_ref(), &signed));
        if let Err(detail) = checked {
            return Err(self.unverified(&signed, detail));
        }
        Ok(CheckedConsistency {
            proof,
            old_root,
            new_root,
            note: signed.note,
            checkpoint: signed.checkpoint,
        })
    }

    /// The records this ledger cut as a torn tail when it opened (beyond everything covered),
    /// for operators and `repair`; the store's own cuts are in its open report.
    #[must_use]
    pub fn torn_at_open(&self) -> Option<&TornRecords> {
        self.shared.torn_at_open.as_ref()
    }

    /// Counts and memory estimates of the indexes (for benchmarks and the memory budget).
    #[must_use]
    pub fn index_stats(&self) -> IndexStats {
        let state = self.shared.state();
        IndexStats {
            records: state.head.size,
            tags: state.tags.tag_count(),
            tag_index_bytes: state.tags.memory_bytes(),
            id_index_bytes: state.ids.memory_bytes(),
        }
    }

    /// The number of records whose indexes were loaded from the index cache when the ledger
    /// was opened (0: they were rebuilt from the whole log), for operators and tests.
    #[must_use]
    pub fn opened_from_index_cache(&self) -> u64 {
        self.shared.opened_from_cache
    }

    /// The store under the ledger.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn SegmentStore> {
        &self.shared.store
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        // Closing the channel lets the writer form what is queued and exit; the committer then
        // commits and answers the rest, syncs the tree and exits.
        self.sender.take();
        let mut panicked = false;
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!("a ledger sequencer thread panicked");
                panicked = true;
            }
        }
        if !panicked {
            self.shared.write_index_cache(0);
        }
    }
}

/// Checkpoints rewrite the index cache only after the ledger grew by a quarter, and at least
/// by this many records.
const CACHE_GROWTH_MIN: u64 = 65_536;

/// Whether `root`, the tree's root at `size`, is the signed checkpoint's root (same size) or
/// extends to it by `consistency` (a smaller size). `Err` says what did not verify.
fn anchor(
    size: u64,
    root: &Hash,
    consistency: Option<&ConsistencyProof>,
    signed: &Signed,
) -> Result<(), String> {
    let checkpoint = &signed.checkpoint;
    match consistency {
        Some(proof) => proof.verify(root, &checkpoint.root).map_err(|error| {
            format!(
                "consistency from {size} to the signed size {}: {error}",
                checkpoint.size
            )
        }),
        None if *root == checkpoint.root => Ok(()),
        None => Err(format!(
            "the root at the signed size {size} is {root}, the signed root is {}",
            checkpoint.root
        )),
    }
}
