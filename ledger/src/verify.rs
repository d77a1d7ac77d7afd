//! Full verification of a ledger: every hash, chain link, back-link, payload commitment, that
//! no event id is used twice, the Merkle root at every stored checkpoint (their signatures in
//! order of size, following key rotations, with times that never go back), and, when asked, every
//! node of the stored Merkle tree.
//!
//! Why a pass of its own: opening a ledger checks only what a crash can damage (the tail), so
//! that a node starts in seconds; `residence verify` is what an operator or auditor runs to learn
//! that *nothing* was altered. It trusts no derived file (tree, indexes): it recomputes
//! everything from the segments, and it reports the **first** bad position with its file and byte
//! offset and what is wrong, because everything after a bad record is suspect anyway.
//!
//! The per-record checks ([`ChainCursor`], [`check_hashes`]) are shared with the opening of a
//! ledger, so the two can never disagree about what a good record is.
//!
//! Speed: records are visited as borrowed bytes from [`SegmentStore::scan`] and decoded once,
//! without allocation, on the scanning thread, which also checks what depends on order (chain,
//! time, back-links). The hashing (record hashes, payload commitments, Merkle leaves and the
//! subtrees of each chunk of `CHUNK_RECORDS` records) is what costs: many small inputs, which
//! BLAKE3 hashes one at a time, so it is spread over `HASH_THREADS` threads by chunk; only one
//! node hash per chunk and the checkpoint roots are computed in order.
//!
//! Event ids: each is indexed by a 64-bit fingerprint (SipHash with a key random per run, so
//! ids chosen to collide cannot slow it down); the rare records whose fingerprint matches an
//! earlier one are compared with it after the scan, by reading both.

mod tree;

use std::collections::hash_map::RandomState;
use std::fs;
use std::hash::BuildHasher as _;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::checkpoint::{
    Checkpoint, CheckpointError, NoteParseError, Origin, SignedNote, VerifierKey,
};
use crate::hash::Hash;
use crate::index::{IdIndex, LastByText};
use crate::merkle::{empty_root, leaf_hash, node_hash};
use crate::record::{
    DecodeError, PayloadRef, Position, Salt, StoredRecordRef, Timestamp, decode_content,
    genesis_hash, payload_commitment,
};
use crate::store::{Location, SegmentStore, StoreError};

/// How often (in records) the progress callback is called.
const PROGRESS_EVERY: u64 = 65_536;
/// Records hashed as one unit: a power of two, so that each full chunk is one complete Merkle
/// subtree (of height [`CHUNK_LEVEL`]) and its leaves start at a multiple of it.
const CHUNK_RECORDS: usize = 1 << CHUNK_LEVEL;
const CHUNK_LEVEL: usize = 11;
/// Tags of a record whose table slots are touched before any is looked up.
const TOUCH_AHEAD: usize = 16;
/// Threads hashing chunks beside the scanning thread.
const HASH_THREADS: usize = 2;
/// Chunks waiting for a hashing thread (bounds memory: a chunk is ~1.5 MB of records).
const CHUNKS_QUEUED: usize = 4;

/// What is wrong with one record. Reported by `verify` (→ exit status 1, the record is named
/// with its file and offset) and by opening a ledger (→ refuse to open unless the record is a
/// torn tail, and point to `residence verify`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordFault {
    /// The stored bytes are not a well-formed record.
    #[error("{0}")]
    Malformed(DecodeError),
    /// The stored record hash is not the hash of the body: the body or the hash was altered.
    #[error("stored record hash {stored} differs from the hash of the body {computed}")]
    HashMismatch {
        /// The hash stored beside the body.
        stored: Hash,
        /// The hash of the body as stored.
        computed: Hash,
    },
    /// A present payload does not open the body's commitment: payload or salt was altered.
    #[error("payload and salt do not match the payload commitment")]
    PayloadMismatch,
    /// The record names another position than the one it is stored at.
    #[error("record says it is at position {found}")]
    PositionMismatch {
        /// The position in the body.
        found: Position,
    },
    /// `prev_hash` is not the record hash of the previous position (or the genesis hash).
    #[error("prev_hash {found} differs from the previous record hash {expected}")]
    ChainBroken {
        /// The previous record's hash (the genesis hash at position 0).
        expected: Hash,
        /// The `prev_hash` stored in the body.
        found: Hash,
    },
    /// `recorded_at` is earlier than the previous record's.
    #[error("recorded_at {found} is before the previous record's {previous}")]
    TimeWentBackwards {
        /// The previous record's time.
        previous: Timestamp,
        /// This record's time.
        found: Timestamp,
    },
    /// A back-link does not name the previous record with the same stored tag. The tag is
    /// shown in stored form (blinded kinds are not readable).
    #[error("back-link of tag {tag} is {found:?}, expected {expected:?}")]
    BackLinkWrong {
        /// The stored tag.
        tag: String,
        /// The back-link the log implies.
        expected: Option<Position>,
        /// The back-link stored.
        found: Option<Position>,
    },
    /// The payload state says erased but the salt or payload bytes are not all zero: an
    /// unfinished erasure (run the erasure again) or an altered state byte.
    #[error("payload marked erased but its salt or bytes are not zero")]
    ErasedNotZero,
    /// The record's event id is already the id of an earlier record (ids are unique within a
    /// ledger, `FORMAT.md` §1, §2.1).
    #[error("event id already used by record {first}")]
    DuplicateEventId {
        /// The earlier record with the same id.
        first: Position,
    },
}

/// Checks the stored record hash and a present payload's commitment of a decoded record.
///
/// # Errors
/// [`RecordFault::HashMismatch`] or [`RecordFault::PayloadMismatch`].
pub fn check_hashes(view: &StoredRecordRef<'_>) -> Result<(), RecordFault> {
    let computed = crate::record::record_hash(view.body);
    if computed != view.record_hash {
        return Err(RecordFault::HashMismatch {
            stored: view.record_hash,
            computed,
        });
    }
    if !view.payload_matches() {
        return Err(RecordFault::PayloadMismatch);
    }
    Ok(())
}

/// Where the chain stands: the position expected next, the hash it must link to, and the
/// time it must not go below.
#[derive(Debug, Clone, Copy)]
pub struct ChainCursor {
    /// The position the next record must have.
    pub next: u64,
    /// The record hash of the previous position (the genesis hash before position 0).
    pub prev_hash: Hash,
    /// The previous record's `recorded_at`, if there is one.
    pub prev_time: Option<Timestamp>,
}

impl ChainCursor {
    /// The cursor before position 0 of a ledger with this genesis hash.
    #[must_use]
    pub fn start(genesis: Hash) -> ChainCursor {
        ChainCursor {
            next: 0,
            prev_hash: genesis,
            prev_time: None,
        }
    }

    /// Checks a record's position, chain link and time against the cursor (not its hashes or
    /// back-links).
    ///
    /// # Errors
    /// [`RecordFault::PositionMismatch`], [`RecordFault::ChainBroken`] or
    /// [`RecordFault::TimeWentBackwards`].
    pub fn check(&self, view: &StoredRecordRef<'_>) -> Result<(), RecordFault> {
        let record = &view.record;
        if record.position.0 != self.next {
            return Err(RecordFault::PositionMismatch {
                found: record.position,
            });
        }
        if record.prev_hash != self.prev_hash {
            return Err(RecordFault::ChainBroken {
                expected: self.prev_hash,
                found: record.prev_hash,
            });
        }
        if let Some(previous) = self.prev_time
            && record.recorded_at < previous
        {
            return Err(RecordFault::TimeWentBackwards {
                previous,
                found: record.recorded_at,
            });
        }
        Ok(())
    }

    /// Moves past a record that was checked.
    pub fn advance(&mut self, view: &StoredRecordRef<'_>) {
        self.next += 1;
        self.prev_hash = view.record_hash;
        self.prev_time = Some(view.record.recorded_at);
    }
}

/// The Merkle tree's frontier: the roots of the complete subtrees covering the leaves so far
/// (at most 64), enough to compute the root at the current size.
#[derive(Debug, Clone)]
pub struct Frontier {
    size: u64,
    nodes: [Hash; 64],
}

impl Default for Frontier {
    fn default() -> Frontier {
        Frontier {
            size: 0,
            nodes: [Hash::ZERO; 64],
        }
    }
}

impl Frontier {
    /// Appends the leaf of a record with this record hash.
    pub fn push(&mut self, record_hash: &Hash) {
        let mut hash = leaf_hash(record_hash);
        let mut level = 0;
        while (self.size >> level) & 1 == 1 {
            hash = node_hash(&self.nodes[level], &hash);
            level += 1;
        }
        self.nodes[level] = hash;
        self.size += 1;
    }

    /// The number of leaves.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a complete subtree of `2^level` leaves with root `hash`; the size must be a
    /// multiple of `2^level`.
    fn push_subtree(&mut self, level: usize, hash: Hash) {
        debug_assert_eq!(self.size % (1 << level), 0, "subtree aligned");
        let mut hash = hash;
        let mut at = level;
        while (self.size >> at) & 1 == 1 {
            hash = node_hash(&self.nodes[at], &hash);
            at += 1;
        }
        self.nodes[at] = hash;
        self.size += 1 << level;
    }

    /// The frontier of this frontier's leaves followed by the leaves of `local`, where this
    /// size is a multiple of `2^CHUNK_LEVEL` and `local` holds at most that many leaves.
    fn extended(&self, local: &Frontier) -> Frontier {
        let mut merged = self.clone();
        if local.size == CHUNK_RECORDS as u64 {
            merged.push_subtree(CHUNK_LEVEL, local.nodes[CHUNK_LEVEL]);
        } else {
            merged.size = self.size + local.size;
            merged.nodes[..CHUNK_LEVEL].copy_from_slice(&local.nodes[..CHUNK_LEVEL]);
        }
        merged
    }

    /// The root of the tree of all leaves pushed so far.
    #[must_use]
    pub fn root(&self) -> Hash {
        let mut root: Option<Hash> = None;
        for level in 0..64 {
            if (self.size >> level) & 1 == 1 {
                let node = self.nodes[level];
                root = Some(match root {
                    None => node,
                    Some(right) => node_hash(&node, &right),
                });
            }
        }
        root.unwrap_or_else(empty_root)
    }
}

/// The last position of every stored tag seen so far, for checking back-links: memory grows
/// with distinct tags only.
#[derive(Debug, Default)]
struct LastByTag {
    tags: LastByText,
}

impl LastByTag {
    /// Checks the record's back-links against the map, recording the record in it as it goes.
    fn check_and_record(&mut self, view: &StoredRecordRef<'_>) -> Result<(), RecordFault> {
        let position = view.record.position;
        // Hash every tag and touch its slot first, so that their cache misses overlap.
        let mut hashes = [0_u64; TOUCH_AHEAD];
        for (hash, (tag, _)) in hashes.iter_mut().zip(view.record.tags.iter()) {
            *hash = self.tags.hash(tag);
            self.tags.touch(*hash);
        }
        for (index, (tag, found)) in view.record.tags.iter().enumerate() {
            let hash = match hashes.get(index) {
                Some(hash) => *hash,
                None => self.tags.hash(tag),
            };
            let expected = self.tags.replace(tag, hash, position.0).map(Position);
            if expected != found {
                return Err(RecordFault::BackLinkWrong {
                    tag: tag.to_owned(),
                    expected,
                    found,
                });
            }
        }
        Ok(())
    }
}

/// Where the hashed parts of one record are inside its chunk's bytes.
#[derive(Debug, Clone, Copy)]
struct Spans {
    /// The body.
    body: (u32, u32),
    /// The stored record hash.
    hash: u32,
    /// Salt and payload of a present payload: salt offset, payload offset and length.
    payload: Option<(u32, u32, u32)>,
    /// The body's payload commitment, as stored.
    commitment: Hash,
}

/// Records copied for a hashing thread, back to back, with where their parts are.
#[derive(Debug, Default)]
struct Chunk {
    /// The chunk's number (its first position is `number · CHUNK_RECORDS`).
    number: u64,
    bytes: Vec<u8>,
    records: Vec<Spans>,
}

impl Chunk {
    fn first(&self) -> u64 {
        self.number * CHUNK_RECORDS as u64
    }
}

/// The ordering of failures: a record's own (at its position) comes before a checkpoint that
/// ends with it (which fails because of it).
type FailureKey = (u64, u8);

/// What a hashing thread found in one chunk.
#[derive(Debug)]
struct Hashed {
    number: u64,
    /// The first bad record hash or commitment.
    failure: Option<(u64, RecordFault)>,
    /// The Merkle frontier of the chunk's leaves alone.
    frontier: Frontier,
    /// For each checkpoint ending inside the chunk: its index in the checkpoint list, the
    /// frontier of the chunk's leaves up to it, and the record hash at its size − 1.
    at_checkpoints: Vec<(usize, Frontier, Hash)>,
    /// The leaf hashes of the chunk's records, when the stored tree is compared.
    leaves: Vec<Hash>,
}

/// Hashes one chunk: every record hash and present payload commitment is recomputed and
/// compared, and the chunk's leaves are folded into a Merkle frontier (snapshotted at every
/// checkpoint size inside the chunk).
fn hash_chunk(chunk: &Chunk, checkpoints: &[StoredCheckpoint], with_leaves: bool) -> Hashed {
    let first = chunk.first();
    let mut frontier = Frontier::default();
    let mut at_checkpoints = Vec::new();
    let mut leaves = Vec::with_capacity(if with_leaves { chunk.records.len() } else { 0 });
    let mut next_checkpoint = checkpoints.partition_point(|c| c.size <= first);
    let span = |(start, len): (u32, u32)| &chunk.bytes[start as usize..(start + len) as usize];
    let mut hasher = blake3::Hasher::new();
    for (offset, record) in chunk.records.iter().enumerate() {
        let position = first + offset as u64;
        hasher.reset();
        hasher.update(crate::record::RECORD_HASH_PREFIX);
        hasher.update(span(record.body));
        let computed = Hash::from(hasher.finalize());
        let mut stored = Hash::ZERO;
        stored.0.copy_from_slice(span((record.hash, 32)));
        let fault = if computed != stored {
            Some(RecordFault::HashMismatch { stored, computed })
        } else if let Some((salt, payload, len)) = record.payload {
            let mut salt_bytes = [0_u8; 32];
            salt_bytes.copy_from_slice(span((salt, 32)));
            let commitment = payload_commitment(&Salt(salt_bytes), span((payload, len)));
            (commitment != record.commitment).then_some(RecordFault::PayloadMismatch)
        } else {
            None
        };
        if let Some(fault) = fault {
            return Hashed {
                number: chunk.number,
                failure: Some((position, fault)),
                frontier,
                at_checkpoints,
                leaves,
            };
        }
        frontier.push(&stored);
        if with_leaves {
            leaves.push(leaf_hash(&stored));
        }
        while checkpoints
            .get(next_checkpoint)
            .is_some_and(|c| c.size == position + 1)
        {
            at_checkpoints.push((next_checkpoint, frontier.clone(), stored));
            next_checkpoint += 1;
        }
    }
    Hashed {
        number: chunk.number,
        failure: None,
        frontier,
        at_checkpoints,
        leaves,
    }
}

/// Folds hashed chunks into the whole tree, in order, checking the checkpoints.
#[derive(Debug)]
struct Folder<'a> {
    checkpoints: &'a [StoredCheckpoint],
    /// The stored tree whose leaves are compared with the chunks', if any.
    tree: Option<&'a tree::StoredTree>,
    /// The tree of every chunk folded so far (all full).
    frontier: Frontier,
    /// Chunks hashed ahead of their turn.
    waiting: std::collections::BTreeMap<u64, Hashed>,
    next: u64,
    /// The first failure found by hashing or at a checkpoint.
    failure: Option<(FailureKey, VerifyError)>,
    checked: usize,
    /// Whether a chunk with fewer than `CHUNK_RECORDS` records was folded (the last one).
    ended: bool,
}

impl Folder<'_> {
    fn fail(&mut self, key: FailureKey, error: VerifyError) {
        if self
            .failure
            .as_ref()
            .is_none_or(|(earlier, _)| key < *earlier)
        {
            self.failure = Some((key, error));
        }
    }

    fn add(&mut self, hashed: Hashed) {
        self.waiting.insert(hashed.number, hashed);
        while let Some(hashed) = self.waiting.remove(&self.next) {
            self.next += 1;
            self.fold(hashed);
        }
    }

    fn fold(&mut self, hashed: Hashed) {
        if self.ended {
            return;
        }
        for (index, local, head) in &hashed.at_checkpoints {
            let checkpoint = &self.checkpoints[*index];
            let merged = self.frontier.extended(local);
            if let Err(error) = check_checkpoint(checkpoint, &merged, *head) {
                self.fail((checkpoint.size - 1, 1), error);
            } else {
                self.checked += 1;
            }
        }
        if let Some((position, fault)) = hashed.failure {
            self.fail(
                (position, 0),
                VerifyError::Record {
                    position: Position(position),
                    location: None,
                    fault,
                },
            );
        }
        if let Some(tree) = self.tree
            && let Err((position, error)) =
                tree.check_leaves(hashed.number * CHUNK_RECORDS as u64, &hashed.leaves)
        {
            // After the record's own faults and its checkpoints: the log is the truth.
            self.fail((position, 2), error);
        }
        if self.failure.is_some() {
            // The tree is not needed past a failure (and this chunk's may be cut short).
            self.ended = true;
            return;
        }
        self.frontier = self.frontier.extended(&hashed.frontier);
        if hashed.frontier.size() < CHUNK_RECORDS as u64 {
            self.ended = true;
        }
    }
}

/// What to verify a store against.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// The ledger's origin (it fixes the genesis hash).
    pub origin: &'a Origin,
    /// The directory of stored checkpoints (`checkpoints/`), if any.
    pub checkpoint_dir: Option<&'a Path>,
    /// The keys trusted to have signed the checkpoints (the current one and retired ones).
    pub keys: &'a [VerifierKey],
}

/// What a successful verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The number of records verified.
    pub records: u64,
    /// Bytes of stored records read (frame contents).
    pub bytes: u64,
    /// Bytes hashed for record hashes and payload commitments.
    pub bytes_hashed: u64,
    /// Records whose payload is erased (their commitments still verify the chain).
    pub erased_payloads: u64,
    /// The Merkle root of all records.
    pub root: Hash,
    /// The head hash (the last record hash, or the genesis hash of an empty ledger).
    pub head: Hash,
    /// The number of checkpoints whose signature, root and head were checked.
    pub checkpoints: usize,
    /// Torn bytes at the end of the log that were not verified (they were never acknowledged):
    /// [`crate::directory::verify_directory`] opens the store read-only and leaves them for the
    /// next open (or `repair`) to cut. Empty from [`verify`] itself.
    pub torn: Vec<crate::store::TornBytes>,
}

/// What is wrong with a stored checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointProblem {
    /// The file could not be read.
    #[error("cannot be read")]
    Unreadable(#[source] io::Error),
    /// The file is not a signed note.
    #[error("is not a signed note")]
    Malformed(#[source] NoteParseError),
    /// No trusted signature verifies, or the body is not a checkpoint.
    #[error("does not verify")]
    Signature(#[source] CheckpointError),
    /// The checkpoint names another origin.
    #[error("names origin {found}, not this ledger's")]
    OriginMismatch {
        /// The origin in the checkpoint.
        found: String,
    },
    /// The file name does not give the checkpoint's size as 20 digits.
    #[error("file name does not match its tree size {size}")]
    NameMismatch {
        /// The size in the checkpoint.
        size: u64,
    },
    /// A `*.note` file whose name is not 20 decimal digits and `.note`.
    #[error("is not named <20 digits>.note")]
    BadName,
    /// The checkpoint's time is earlier than that of the checkpoint of the next smaller size:
    /// times never go back as the tree grows.
    #[error("has time {time}, earlier than {previous_time} of {}", previous.display())]
    TimeWentBackwards {
        /// The checkpoint of the next smaller size.
        previous: PathBuf,
        /// Its time.
        previous_time: DateTime<Utc>,
        /// This checkpoint's time.
        time: DateTime<Utc>,
    },
    /// A smaller checkpoint announced the next key, but this one is still signed by the key it
    /// retired (and not by the announced one).
    #[error("is signed by key {key}, which {} retired by announcing the next key", announced_in.display())]
    RetiredKey {
        /// The checkpoint that announced the next key.
        announced_in: PathBuf,
        /// The retired key that signed this one.
        key: String,
    },
    /// The checkpoint covers more records than the log holds: records were lost or removed.
    #[error("covers {size} records but the log holds {len}")]
    BeyondLog {
        /// The checkpoint's size.
        size: u64,
        /// The number of records in the log.
        len: u64,
    },
    /// The Merkle root of the log at the checkpoint's size differs from the signed root.
    #[error("signs root {signed} but the log gives {computed}")]
    RootMismatch {
        /// The signed root.
        signed: Hash,
        /// The root recomputed from the log.
        computed: Hash,
    },
    /// The head hash at the checkpoint's size differs from the signed head.
    #[error("signs head {signed} but the log gives {computed}")]
    HeadMismatch {
        /// The signed head.
        signed: Hash,
        /// The head recomputed from the log.
        computed: Hash,
    },
}

/// Why verification failed. The CLI exits with 1 for a bad record or checkpoint (the log is
/// not what it should be) and 2 when the store could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The store could not be read (IO error, or broken framing that the store reports with
    /// its own file and offset). → exit 2.
    #[error("reading the store failed")]
    Store(#[from] StoreError),
    /// The first bad record. → exit 1.
    #[error(
        "record {position} at {} byte {}: {fault}",
        location_file(location),
        location_offset(location)
    )]
    Record {
        /// The record's position.
        position: Position,
        /// Its file and the byte offset of its frame, when the store knows them.
        location: Option<Location>,
        /// What is wrong.
        fault: RecordFault,
    },
    /// A stored checkpoint that does not verify against the log. → exit 1.
    #[error("checkpoint {} {problem}", file.display())]
    Checkpoint {
        /// The checkpoint file.
        file: PathBuf,
        /// What is wrong.
        problem: CheckpointProblem,
    },
    /// A node of the stored Merkle tree (`tree/`) differs from the tree recomputed from the log,
    /// or the stored tree is larger than the log. The tree is a cache: the ledger rebuilds it
    /// (delete `tree/`, or open the ledger, whose check of the signed root finds most damage).
    /// → exit 1.
    #[error("stored tree file {} at byte {offset}: {detail}", file.display())]
    Tree {
        /// The level file or marker.
        file: PathBuf,
        /// The byte offset of the first wrong entry.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// The checkpoint directory could not be listed. → exit 2.
    #[error("listing checkpoints in {} failed", dir.display())]
    CheckpointDir {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

fn location_file(location: &Option<Location>) -> String {
    location
        .as_ref()
        .map_or_else(|| "<unknown>".to_owned(), |l| l.file.display().to_string())
}

fn location_offset(location: &Option<Location>) -> String {
    location
        .as_ref()
        .map_or_else(|| "?".to_owned(), |l| l.offset.to_string())
}

/// A checkpoint read from disk, its signature already checked.
#[derive(Debug)]
struct StoredCheckpoint {
    file: PathBuf,
    size: u64,
    root: Hash,
    head: Hash,
}

/// The keys a checkpoint must be signed by: at first the trusted ones, after an announcement
/// only the announced key.
#[derive(Debug)]
enum Signers<'k> {
    Trusted(&'k [VerifierKey]),
    Announced {
        key: Box<VerifierKey>,
        announced_in: PathBuf,
        retired: Vec<VerifierKey>,
    },
}

/// Reads every `*.note` file in `dir` and checks them in order of size (the size their names
/// give): each signature under the keys current at that point (after a checkpoint that
/// announces a key, only that key), then its body (origin, size against the name), and that
/// times never go back.
fn load_checkpoints(
    dir: &Path,
    origin: &Origin,
    keys: &[VerifierKey],
) -> Result<Vec<StoredCheckpoint>, VerifyError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(VerifyError::CheckpointDir {
                dir: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut named = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| VerifyError::CheckpointDir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let file = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.ends_with(".note") || name.starts_with('.') {
            continue;
        }
        match crate::checkpoint_dir::parse_file_name(&name) {
            Some(size) => named.push((size, file)),
            None => {
                return Err(VerifyError::Checkpoint {
                    file,
                    problem: CheckpointProblem::BadName,
                });
            }
        }
    }
    named.sort_unstable();
    let mut signers = Signers::Trusted(keys);
    let mut previous: Option<(PathBuf, DateTime<Utc>)> = None;
    let mut found = Vec::with_capacity(named.len());
    for (size, file) in named {
        let checkpoint = check_note(&file, &signers)?;
        let fail = |problem| VerifyError::Checkpoint {
            file: file.clone(),
            problem,
        };
        if &checkpoint.origin != origin {
            return Err(fail(CheckpointProblem::OriginMismatch {
                found: checkpoint.origin.as_str().to_owned(),
            }));
        }
        if checkpoint.size != size {
            return Err(fail(CheckpointProblem::NameMismatch {
                size: checkpoint.size,
            }));
        }
        if let Some((previous, previous_time)) = &previous
            && checkpoint.time < *previous_time
        {
            return Err(fail(CheckpointProblem::TimeWentBackwards {
                previous: previous.clone(),
                previous_time: *previous_time,
                time: checkpoint.time,
            }));
        }
        if let Some(next) = &checkpoint.next_key {
            let retired = match &signers {
                Signers::Trusted(keys) => keys.to_vec(),
                Signers::Announced { key, .. } => vec![(**key).clone()],
            };
            signers = Signers::Announced {
                key: Box::new(next.clone()),
                announced_in: file.clone(),
                retired,
            };
        }
        previous = Some((file.clone(), checkpoint.time));
        found.push(StoredCheckpoint {
            file,
            size: checkpoint.size,
            root: checkpoint.root,
            head: checkpoint.head,
        });
    }
    Ok(found)
}

/// Reads the note `file` and checks its signature under `signers`; only then is its body
/// parsed.
fn check_note(file: &Path, signers: &Signers<'_>) -> Result<Checkpoint, VerifyError> {
    let fail = |problem| VerifyError::Checkpoint {
        file: file.to_path_buf(),
        problem,
    };
    let bytes = fs::read(file).map_err(|e| fail(CheckpointProblem::Unreadable(e)))?;
    let note = SignedNote::from_bytes(&bytes).map_err(|e| fail(CheckpointProblem::Malformed(e)))?;
    match signers {
        Signers::Trusted(keys) => note
            .verify(keys)
            .map_err(|e| fail(CheckpointProblem::Signature(e))),
        Signers::Announced {
            key,
            announced_in,
            retired,
        } => note.verify(std::slice::from_ref(&**key)).map_err(|error| {
            match note.verify_signatures(retired) {
                Ok(old) => fail(CheckpointProblem::RetiredKey {
                    announced_in: announced_in.clone(),
                    key: old.to_string(),
                }),
                Err(_) => fail(CheckpointProblem::Signature(error)),
            }
        }),
    }
}

fn check_checkpoint(
    checkpoint: &StoredCheckpoint,
    frontier: &Frontier,
    head: Hash,
) -> Result<(), VerifyError> {
    let fail = |problem| VerifyError::Checkpoint {
        file: checkpoint.file.clone(),
        problem,
    };
    let computed = frontier.root();
    if computed != checkpoint.root {
        return Err(fail(CheckpointProblem::RootMismatch {
            signed: checkpoint.root,
            computed,
        }));
    }
    if head != checkpoint.head {
        return Err(fail(CheckpointProblem::HeadMismatch {
            signed: checkpoint.head,
            computed: head,
        }));
    }
    Ok(())
}

/// Whether an erased payload's salt and bytes are all zero.
fn erased_is_zero(content: &[u8], view: &StoredRecordRef<'_>) -> bool {
    let salt = view.payload_state_offset + 1..view.payload_state_offset + 33;
    content
        .get(salt)
        .is_some_and(|salt| salt.iter().all(|b| *b == 0))
        && content
            .get(view.payload_offset..)
            .is_some_and(|bytes| bytes.iter().all(|b| *b == 0))
}

/// Verifies every record of `store` and every checkpoint in `options.checkpoint_dir`.
///
/// Per record: it decodes, recomputes the record hash and a present payload's commitment,
/// checks position, chain link, `recorded_at` order, every back-link, that its event id is not
/// an earlier record's, and that an erased payload is zeroed; it feeds the Merkle tree. The
/// checkpoints are checked in order of size (signatures under the key current at each, after
/// rotations; times never going back), and at every checkpoint's size the signed root and head
/// are compared with the recomputed ones. `progress` is called with the position reached every
/// 65,536 records and once at the end.
///
/// # Errors
/// The first problem found: [`VerifyError::Record`] (with position, file, offset and fault),
/// [`VerifyError::Checkpoint`], or [`VerifyError::Store`] when the store cannot be read.
pub fn verify(
    store: &dyn SegmentStore,
    options: &VerifyOptions<'_>,
    progress: &mut dyn FnMut(Position),
) -> Result<VerifyReport, VerifyError> {
    verify_inner(store, options, None, progress)
}

/// As [`verify`], and also compares every node of the stored Merkle tree in `tree_dir`
/// (`FORMAT.md` §8.6) with the tree recomputed from the log (see the `tree` module): level 0
/// with the records' leaf hashes, each higher level with the hashes of the level below, and the
/// `synced` marker's root with the stored nodes. A missing `tree_dir` is not checked.
///
/// # Errors
/// As [`verify`], and [`VerifyError::Tree`] naming the file and byte offset of the first wrong
/// entry (after any problem of the log itself, which is the truth).
pub fn verify_with_tree(
    store: &dyn SegmentStore,
    options: &VerifyOptions<'_>,
    tree_dir: &Path,
    progress: &mut dyn FnMut(Position),
) -> Result<VerifyReport, VerifyError> {
    verify_inner(store, options, Some(tree_dir), progress)
}

fn verify_inner(
    store: &dyn SegmentStore,
    options: &VerifyOptions<'_>,
    tree_dir: Option<&Path>,
    progress: &mut dyn FnMut(Position),
) -> Result<VerifyReport, VerifyError> {
    let checkpoints = match options.checkpoint_dir {
        Some(dir) => load_checkpoints(dir, options.origin, options.keys)?,
        None => Vec::new(),
    };
    let genesis = genesis_hash(options.origin);
    let len = store.len();
    let stored_tree = match tree_dir {
        Some(dir) => tree::StoredTree::open(dir, len)?,
        None => None,
    };
    let with_leaves = stored_tree.is_some();
    if let Some(beyond) = checkpoints.iter().find(|checkpoint| checkpoint.size > len) {
        return Err(VerifyError::Checkpoint {
            file: beyond.file.clone(),
            problem: CheckpointProblem::BeyondLog {
                size: beyond.size,
                len,
            },
        });
    }

    for checkpoint in checkpoints.iter().filter(|checkpoint| checkpoint.size == 0) {
        check_checkpoint(checkpoint, &Frontier::default(), genesis)?;
    }
    let mut cursor = ChainCursor::start(genesis);
    let mut tags = LastByTag::default();
    let mut ids = IdIndex::new();
    let id_hasher = RandomState::new();
    // (earlier, later) positions whose event ids have the same fingerprint: compared after
    // the scan.
    let mut same_fingerprint: Vec<(u64, u64)> = Vec::new();
    let mut report = VerifyReport {
        records: 0,
        bytes: 0,
        bytes_hashed: 0,
        erased_payloads: 0,
        root: empty_root(),
        head: genesis,
        checkpoints: 0,
        torn: Vec::new(),
    };

    // This thread scans, decodes and checks what depends on order within the chain
    // (positions, chain links, time, back-links, erasures); hashing threads recompute the record
    // hashes and payload commitments and the Merkle subtree of each chunk, from copies of the
    // same bytes; this thread folds their chunks in order and checks the checkpoints. The first
    // failure by position wins, wherever it was found.
    let (chunks, receiver) = std::sync::mpsc::sync_channel::<Chunk>(CHUNKS_QUEUED);
    let receiver = std::sync::Mutex::new(receiver);
    let (scanned, failure, folder) = std::thread::scope(|scope| {
        let (results, hashed) = std::sync::mpsc::channel::<Hashed>();
        let checkpoints = &checkpoints;
        for _ in 0..HASH_THREADS {
            let receiver = &receiver;
            let results = results.clone();
            scope.spawn(move || {
                loop {
                    // The lock is held only to take the next chunk.
                    let next = receiver
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .recv();
                    let Ok(chunk) = next else {
                        return;
                    };
                    if results
                        .send(hash_chunk(&chunk, checkpoints, with_leaves))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        drop(results);
        let mut folder = Folder {
            checkpoints,
            tree: stored_tree.as_ref(),
            frontier: Frontier::default(),
            waiting: std::collections::BTreeMap::new(),
            next: 0,
            failure: None,
            checked: 0,
            ended: false,
        };
        let mut chunk = Chunk {
            number: 0,
            bytes: Vec::with_capacity(CHUNK_RECORDS * 800),
            records: Vec::with_capacity(CHUNK_RECORDS),
        };
        let mut failure: Option<VerifyError> = None;
        let scanned = store.scan(0, len, &mut |position, content| {
            let base = chunk.bytes.len();
            let result = (|| {
                let view = decode_content(content).map_err(RecordFault::Malformed)?;
                cursor.check(&view)?;
                tags.check_and_record(&view)?;
                let fingerprint = id_hasher.hash_one(view.record.event_id.0);
                same_fingerprint.extend(
                    ids.candidates(fingerprint)
                        .map(|earlier| (earlier.0, position)),
                );
                ids.insert(fingerprint, Position(position));
                let offset = |part: &[u8]| {
                    // `part` lies inside `content`: its offset there, plus where the content
                    // starts in the chunk.
                    let inside = part.as_ptr() as usize - content.as_ptr() as usize;
                    u32::try_from(base + inside).expect("chunks are far below 4 GiB")
                };
                let len32 = |part: &[u8]| u32::try_from(part.len()).expect("records are small");
                let payload = match view.payload {
                    PayloadRef::Present { salt, bytes } => {
                        report.bytes_hashed += bytes.len() as u64 + 32;
                        Some((offset(salt), offset(bytes), len32(bytes)))
                    }
                    PayloadRef::Erased { .. } => {
                        if !erased_is_zero(content, &view) {
                            return Err(RecordFault::ErasedNotZero);
                        }
                        report.erased_payloads += 1;
                        None
                    }
                };
                report.bytes_hashed += view.body.len() as u64;
                let body_end = offset(view.body) + len32(view.body);
                chunk.records.push(Spans {
                    body: (offset(view.body), len32(view.body)),
                    // The stored record hash follows the body (FORMAT.md §6.3).
                    hash: body_end,
                    payload,
                    commitment: view.record.payload_commitment,
                });
                cursor.advance(&view);
                Ok(())
            })();
            if let Err(fault) = result {
                failure = Some(VerifyError::Record {
                    position: Position(position),
                    location: None,
                    fault,
                });
                return ControlFlow::Break(());
            }
            chunk.bytes.extend_from_slice(content);
            report.records += 1;
            report.bytes += content.len() as u64;
            if chunk.records.len() == CHUNK_RECORDS {
                let number = chunk.number + 1;
                let full = std::mem::replace(
                    &mut chunk,
                    Chunk {
                        number,
                        bytes: Vec::with_capacity(CHUNK_RECORDS * 800),
                        records: Vec::with_capacity(CHUNK_RECORDS),
                    },
                );
                if chunks.send(full).is_err() {
                    return ControlFlow::Break(());
                }
                while let Ok(hashed) = hashed.try_recv() {
                    folder.add(hashed);
                }
                if folder.failure.is_some() {
                    // A hashing thread found a bad record: nothing after it matters.
                    return ControlFlow::Break(());
                }
            }
            if (position + 1) % PROGRESS_EVERY == 0 {
                progress(Position(position));
            }
            ControlFlow::Continue(())
        });
        // The send fails only when every hashing thread has ended, which they do early only by
        // panicking; the scope re-raises that panic when it joins them.
        let _ = chunks.send(chunk);
        drop(chunks);
        for result in hashed {
            folder.add(result);
        }
        (scanned, failure, folder)
    });
    let scan_failure = failure.map(|error| match &error {
        VerifyError::Record { position, .. } => ((position.0, 0), error),
        _ => ((0, 0), error),
    });
    let mut failure = match (folder.failure, scan_failure) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    // A reused id counts at the later record's position, as if the scan had found it there.
    for (earlier, later) in same_fingerprint {
        if failure.as_ref().is_some_and(|(key, _)| key.0 <= later) {
            break;
        }
        if event_id_at(store, earlier)? == event_id_at(store, later)? {
            failure = Some((
                (later, 0),
                VerifyError::Record {
                    position: Position(later),
                    location: None,
                    fault: RecordFault::DuplicateEventId {
                        first: Position(earlier),
                    },
                },
            ));
            break;
        }
    }
    let failure = failure.map(|(_, error)| error);
    if let Some(mut error) = failure {
        if let VerifyError::Record {
            position, location, ..
        } = &mut error
        {
            *location = store.location(position.0);
        }
        return Err(error);
    }
    scanned?;
    if report.records != len {
        // The store returned fewer records than it reported: it changed underneath us or lost
        // records; name the first missing position.
        return Err(VerifyError::Store(StoreError::OutOfRange {
            position: report.records,
            len,
        }));
    }
    if len > 0 {
        progress(Position(len - 1));
    }
    report.checkpoints = folder.checked + checkpoints.iter().filter(|c| c.size == 0).count();
    debug_assert!(folder.ended || len.is_multiple_of(CHUNK_RECORDS as u64));
    report.root = folder.frontier.root();
    report.head = cursor.prev_hash;
    if let Some(stored_tree) = &stored_tree {
        stored_tree.check_levels()?;
    }
    Ok(report)
}

/// The event id of the record at `position` (read again to confirm a fingerprint match).
fn event_id_at(store: &dyn SegmentStore, position: u64) -> Result<[u8; 16], VerifyError> {
    let content = store.read(position)?;
    let view = decode_content(&content).map_err(|error| VerifyError::Record {
        position: Position(position),
        location: None,
        fault: RecordFault::Malformed(error),
    })?;
    Ok(view.record.event_id.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::MemoryTree;

    #[test]
    fn frontier_root_matches_the_memory_tree() {
        let mut frontier = Frontier::default();
        let mut leaves = Vec::new();
        assert_eq!(frontier.root(), MemoryTree::new().root());
        for i in 0u8..40 {
            let hash = Hash([i; 32]);
            leaves.push(hash);
            frontier.push(&hash);
            assert_eq!(
                frontier.root(),
                MemoryTree::from_leaves(&leaves).root(),
                "size {}",
                i + 1
            );
        }
    }
}
