//! Full verification of a ledger: every hash, chain link, back-link, payload commitment, and the
//! Merkle root at every stored checkpoint.
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
//! Speed: records are visited as borrowed bytes from [`SegmentStore::scan`] and decoded without
//! allocation; the only per-record work is hashing (body, payload commitment, Merkle leaf and
//! node), and a map lookup per tag for back-links.

use std::fs;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use crate::checkpoint::{CheckpointError, NoteParseError, Origin, SignedNote, VerifierKey};
use crate::hash::Hash;
use crate::index::TagIndex;
use crate::merkle::{empty_root, leaf_hash, node_hash};
use crate::record::{
    DecodeError, PayloadRef, Position, StoredRecordRef, Timestamp, decode_content, genesis_hash,
};
use crate::store::{Location, SegmentStore, StoreError};

/// How often (in records) the progress callback is called.
const PROGRESS_EVERY: u64 = 65_536;
/// Bytes of records handed to the hashing thread at a time.
const CHUNK_BYTES: usize = 1 << 20;

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

/// The last position of every stored tag seen so far, for checking back-links: interned tags
/// with only their last position (no position lists, so memory grows with distinct tags only).
#[derive(Debug, Default)]
struct LastByTag {
    tags: TagIndex,
}

impl LastByTag {
    /// Checks the record's back-links against the map, recording the record in it as it goes.
    fn check_and_record(&mut self, view: &StoredRecordRef<'_>) -> Result<(), RecordFault> {
        let position = view.record.position;
        for (tag, found) in view.record.tags.iter() {
            let id = self.tags.intern(tag);
            let expected = self.tags.replace_last(id, position);
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

/// Frame contents copied for the hashing thread, back to back.
#[derive(Debug, Default)]
struct Chunk {
    first: u64,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Chunk {
    fn new(first: u64) -> Chunk {
        Chunk {
            first,
            bytes: Vec::with_capacity(CHUNK_BYTES + 4096),
            ends: Vec::new(),
        }
    }
}

/// What the hashing thread found.
#[derive(Debug)]
struct Hashed {
    /// The first failure: a bad record hash or commitment, or a checkpoint that does not match.
    failure: Option<VerifyError>,
    /// The Merkle tree of the records hashed.
    frontier: Frontier,
    /// Checkpoints checked.
    checkpoints: usize,
}

/// The hashing thread: for every record received, in order, recomputes the record hash and the
/// payload commitment and feeds the Merkle tree; at every checkpoint's size compares the signed
/// root and head. Stops at the first failure (which stops the scan feeding it).
fn hash_chunks(
    chunks: std::sync::mpsc::Receiver<Chunk>,
    checkpoints: &[StoredCheckpoint],
) -> Hashed {
    let mut frontier = Frontier::default();
    let mut pending = checkpoints.iter().filter(|c| c.size > 0).peekable();
    let mut checked = checkpoints.iter().filter(|c| c.size == 0).count();
    for chunk in chunks {
        let mut start = 0;
        for (offset, end) in chunk.ends.iter().enumerate() {
            let position = chunk.first + offset as u64;
            let content = &chunk.bytes[start..*end];
            start = *end;
            // These bytes already decoded on the scanning thread.
            let result = decode_content(content)
                .map_err(RecordFault::Malformed)
                .and_then(|view| check_hashes(&view).map(|()| view.record_hash));
            let record_hash = match result {
                Ok(hash) => hash,
                Err(fault) => {
                    let failure = VerifyError::Record {
                        position: Position(position),
                        location: None,
                        fault,
                    };
                    return Hashed {
                        failure: Some(failure),
                        frontier,
                        checkpoints: checked,
                    };
                }
            };
            frontier.push(&record_hash);
            while let Some(checkpoint) = pending.next_if(|c| c.size == position + 1) {
                if let Err(error) = check_checkpoint(checkpoint, &frontier, record_hash) {
                    return Hashed {
                        failure: Some(error),
                        frontier,
                        checkpoints: checked,
                    };
                }
                checked += 1;
            }
        }
    }
    Hashed {
        failure: None,
        frontier,
        checkpoints: checked,
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

/// Reads and signature-checks every `*.note` file in `dir`, sorted by size.
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
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| VerifyError::CheckpointDir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let file = entry.path();
        if file.extension().is_none_or(|ext| ext != "note") {
            continue;
        }
        let fail = |problem| VerifyError::Checkpoint {
            file: file.clone(),
            problem,
        };
        let bytes = fs::read(&file).map_err(|e| fail(CheckpointProblem::Unreadable(e)))?;
        let note =
            SignedNote::from_bytes(&bytes).map_err(|e| fail(CheckpointProblem::Malformed(e)))?;
        let checkpoint = note
            .verify(keys)
            .map_err(|e| fail(CheckpointProblem::Signature(e)))?;
        if &checkpoint.origin != origin {
            return Err(fail(CheckpointProblem::OriginMismatch {
                found: checkpoint.origin.as_str().to_owned(),
            }));
        }
        let expected_name = format!("{:020}.note", checkpoint.size);
        if file
            .file_name()
            .is_none_or(|name| name.to_string_lossy() != expected_name)
        {
            return Err(fail(CheckpointProblem::NameMismatch {
                size: checkpoint.size,
            }));
        }
        found.push(StoredCheckpoint {
            file,
            size: checkpoint.size,
            root: checkpoint.root,
            head: checkpoint.head,
        });
    }
    found.sort_by_key(|checkpoint| checkpoint.size);
    Ok(found)
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
/// checks position, chain link, `recorded_at` order and every back-link, and that an erased
/// payload is zeroed; it feeds the Merkle tree. At every checkpoint's size it compares the
/// signed root and head with the recomputed ones. `progress` is called with the position
/// reached every 65,536 records and once at the end.
///
/// # Errors
/// The first problem found: [`VerifyError::Record`] (with position, file, offset and fault),
/// [`VerifyError::Checkpoint`], or [`VerifyError::Store`] when the store cannot be read.
pub fn verify(
    store: &dyn SegmentStore,
    options: &VerifyOptions<'_>,
    progress: &mut dyn FnMut(Position),
) -> Result<VerifyReport, VerifyError> {
    let checkpoints = match options.checkpoint_dir {
        Some(dir) => load_checkpoints(dir, options.origin, options.keys)?,
        None => Vec::new(),
    };
    let genesis = genesis_hash(options.origin);
    let len = store.len();
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
    let mut report = VerifyReport {
        records: 0,
        bytes: 0,
        bytes_hashed: 0,
        erased_payloads: 0,
        root: empty_root(),
        head: genesis,
        checkpoints: 0,
    };

    // Two threads: this one scans, decodes and checks what depends on order within the chain
    // (positions, chain links, time, back-links, erasures); a helper recomputes the record
    // hashes and payload commitments, builds the Merkle tree and checks the checkpoints, from
    // copies of the same bytes handed over in chunks. Only records that passed here are handed
    // over, so a failure the helper finds is always at an earlier position than one found here.
    let (scanned, failure, hashed) = std::thread::scope(|scope| {
        let (chunks, receiver) = std::sync::mpsc::sync_channel::<Chunk>(2);
        let checkpoints = &checkpoints;
        let hasher = scope.spawn(move || hash_chunks(receiver, checkpoints));
        let mut chunk = Chunk::new(0);
        let mut failure: Option<VerifyError> = None;
        let scanned = store.scan(0, len, &mut |position, content| {
            let result = (|| {
                let view = decode_content(content).map_err(RecordFault::Malformed)?;
                cursor.check(&view)?;
                tags.check_and_record(&view)?;
                match view.payload {
                    PayloadRef::Present { bytes, .. } => {
                        report.bytes_hashed += bytes.len() as u64 + 32;
                    }
                    PayloadRef::Erased { .. } => {
                        if !erased_is_zero(content, &view) {
                            return Err(RecordFault::ErasedNotZero);
                        }
                        report.erased_payloads += 1;
                    }
                }
                report.bytes_hashed += view.body.len() as u64;
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
            report.records += 1;
            report.bytes += content.len() as u64;
            chunk.bytes.extend_from_slice(content);
            chunk.ends.push(chunk.bytes.len());
            if chunk.bytes.len() >= CHUNK_BYTES {
                let full = std::mem::replace(&mut chunk, Chunk::new(position + 1));
                if chunks.send(full).is_err() {
                    // The hasher stopped at a failure: stop scanning too.
                    return ControlFlow::Break(());
                }
            }
            if (position + 1) % PROGRESS_EVERY == 0 {
                progress(Position(position));
            }
            ControlFlow::Continue(())
        });
        // A send error means the hasher already stopped; its answer says why.
        let _ = chunks.send(chunk);
        drop(chunks);
        // `hash_chunks` does not panic; if it did, that is a bug and is passed on.
        let hashed = hasher
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (scanned, failure, hashed)
    });
    // A failure of the helper is at an earlier position than any found by the scan.
    if let Some(mut error) = hashed.failure.or(failure) {
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
    report.checkpoints = hashed.checkpoints;
    report.root = hashed.frontier.root();
    report.head = cursor.prev_hash;
    Ok(report)
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
