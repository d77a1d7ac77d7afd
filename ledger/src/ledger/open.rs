//! Opening a ledger: check the tail, rebuild the indexes, bring the tree up to the log.
//!
//! Why the tail is special (`FORMAT.md` §6.5): only the last group can have been cut short by a
//! crash, since every earlier group was fsynced before it was acknowledged. A record there that
//! fails its hash check and contains a 512-byte aligned block of zeros is a sector that never
//! reached the disk: it and everything after it were never acknowledged, so they are truncated.
//! Any other bad record is corruption or tampering, and the ledger refuses to open, naming the
//! position, file and offset.
//!
//! The tail is the last [`Limits::group_bytes_max`] bytes (and at most
//! [`Limits::group_records_max`] records) of the log: no group is larger, so the last group lies
//! within it. Records in the tail are fully checked (hashes and payload commitments); records
//! before it get the structural checks (position, chain link to the stored hashes, time order,
//! back-links) while the indexes are rebuilt, since full hashing of everything is what
//! `residence verify` is for.
//!
//! What is covered is never cut (`FORMAT.md` §6.5): the records a stored checkpoint or the synced
//! tree covers were acknowledged, so a bad record among them is damage whatever it looks like,
//! and a log shorter than them lost acknowledged records. Both refuse the open
//! ([`OpenError::DamagedCovered`], [`OpenError::CoveredRecordsMissing`]).
//!
//! The stored tree is a cache (`FORMAT.md` §7, §8.6): once it is brought up to the log, its root
//! at the latest checkpoint's size and a consistency proof from there to its current root are
//! checked against the signed root (a few dozen node reads). A tree that fails is rebuilt from
//! the log; a log that then still disagrees with its signed checkpoint refuses the open
//! ([`OpenError::CheckpointDisagrees`]).
//!
//! Fast opening: the index cache (`index_cache.rs`, written when the ledger is closed and at
//! checkpoints) holds the indexes at a position and head hash. When it loads and matches the
//! log (its size is within the log, the record hash there is its head, and any of its records
//! inside the tail pass the tail's full checks), the scan starts at its size instead of 0.
//! Otherwise it is ignored and everything is rebuilt from the log, exactly as without it.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tokio::sync::{mpsc, watch};

use super::index_cache;
use super::writer;
use super::{Head, Ledger, LedgerConfig, Shared, Signed, State, TornRecords, Tree};
use crate::checkpoint_dir::{self, CheckpointFileError, StoredNote};
use crate::clock::Stamper;
use crate::hash::Hash;
use crate::index::{FingerprintKey, IdIndex, TagIndex, id_fingerprint};
use crate::keys::LedgerSecret;
use crate::merkle::{MemoryTree, leaf_hash};
use crate::record::{Position, Timestamp, decode_content, genesis_hash};
use crate::store::{Cover, Location, SegmentStore, StoreError};
use crate::tree_store::{TreeAppendError, TreeOpenError, TreeStore};
use crate::verify::{ChainCursor, RecordFault, check_hashes};

/// How many leaves are buffered before they are appended to the tree while opening.
const TREE_CHUNK: usize = 65_536;
/// The sector size of the torn-write rule.
const SECTOR: u64 = 512;

/// Why a ledger could not be opened. Every variant means: do not start; an operator looks.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The store failed while reading or truncating. → refuse to start.
    #[error("the segment store failed")]
    Store(#[from] StoreError),
    /// A complete record is damaged and is not a torn tail: corruption or tampering.
    /// → refuse to start; run `residence verify`.
    #[error(
        "record {position} at {} byte {} is damaged ({fault}); refusing to open: run `residence verify`",
        file.display(),
        offset
    )]
    Damaged {
        /// The record's position.
        position: Position,
        /// The file holding it (`<unknown>` when the store has no files).
        file: PathBuf,
        /// The byte offset of its frame.
        offset: u64,
        /// What is wrong.
        fault: RecordFault,
    },
    /// The tree directory could not be opened or rebuilt. → refuse to start; the directory is
    /// derived and may be deleted.
    #[error("the merkle tree could not be opened")]
    TreeOpen(#[from] TreeOpenError),
    /// Appending leaves to the tree while rebuilding failed. → refuse to start.
    #[error("the merkle tree could not be rebuilt")]
    TreeAppend(#[from] TreeAppendError),
    /// A derived directory could not be removed for a rebuild. → refuse to start.
    #[error("removing {} for a rebuild failed", path.display())]
    Remove {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A sequencer thread could not be started. → refuse to start.
    #[error("starting a sequencer thread failed")]
    Thread(#[source] std::io::Error),
    /// A record that looks torn (it fails its hash checks and holds a zero sector) is one the
    /// cover covers: it was acknowledged, so this is damage, and nothing was cut. → refuse to
    /// start; run `residence verify`; restore the segment file from a backup.
    #[error(
        "record {position} at {} byte {} is damaged ({fault}); {cover}, so it was acknowledged \
         and is not cut: refusing to open, run `residence verify`",
        file.display(),
        offset
    )]
    DamagedCovered {
        /// The record's position.
        position: Position,
        /// The file holding it (`<unknown>` when the store has no files).
        file: PathBuf,
        /// The byte offset of its frame.
        offset: u64,
        /// What is wrong.
        fault: RecordFault,
        /// What covers it (boxed: the error stays small on the happy path).
        cover: Box<Cover>,
    },
    /// The log holds fewer records than a stored checkpoint or the synced tree covers:
    /// acknowledged records are gone (a segment file cut or removed). → refuse to start; restore
    /// the segments from a backup (after restoring an older copy on purpose, delete `tree/`, and
    /// move the later checkpoints away).
    #[error("the log holds {records} records, but {cover}: acknowledged records are missing")]
    CoveredRecordsMissing {
        /// The records in the log.
        records: u64,
        /// What covers more.
        cover: Cover,
    },
    /// The cover could not be read (the tree's `synced` marker). → refuse to start.
    #[error("reading {} failed", path.display())]
    CoverRead {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The stored checkpoints could not be read, or the latest is not a checkpoint of this
    /// ledger: a damaged normative file. → refuse to start; run `residence verify`.
    #[error("the stored checkpoints")]
    Checkpoint(#[from] CheckpointFileError),
    /// The log disagrees with its latest signed checkpoint (the root recomputed from the
    /// records, or the head record): what was signed is not what is stored. → refuse to start;
    /// run `residence verify`.
    #[error("the log disagrees with the signed checkpoint {}: {detail}", file.display())]
    CheckpointDisagrees {
        /// The checkpoint.
        file: PathBuf,
        /// What differs.
        detail: String,
    },
}

/// The records no torn-tail rule may cut: those of the stored checkpoint of the largest size
/// (by file name) in `checkpoint_dir`, or of the tree synced in `tree_dir`, whichever covers
/// more.
///
/// # Errors
/// The file and IO error of a failed listing or read.
pub(crate) fn cover(
    checkpoint_dir: Option<&Path>,
    tree_dir: Option<&Path>,
) -> Result<Option<Cover>, (PathBuf, std::io::Error)> {
    let latest = match checkpoint_dir {
        Some(dir) => checkpoint_dir::list(dir)
            .map_err(|error| match error {
                CheckpointFileError::Io { path, source, .. } => (path, source),
                other => (dir.to_path_buf(), std::io::Error::other(other.to_string())),
            })?
            .pop(),
        None => None,
    };
    cover_from(latest, tree_dir)
}

/// The cover given the latest checkpoint file (its size and path) and the tree in `tree_dir`.
fn cover_from(
    latest: Option<(u64, PathBuf)>,
    tree_dir: Option<&Path>,
) -> Result<Option<Cover>, (PathBuf, std::io::Error)> {
    let mut cover = latest.map(|(records, file)| Cover { records, file });
    if let Some(dir) = tree_dir {
        let marker = crate::tree_store::marker_path(dir);
        let synced =
            crate::tree_store::synced_size(dir).map_err(|source| (marker.clone(), source))?;
        if let Some(records) = synced
            && cover.as_ref().is_none_or(|cover| records > cover.records)
        {
            cover = Some(Cover {
                records,
                file: marker,
            });
        }
    }
    Ok(cover.filter(|cover| cover.records > 0))
}

pub(super) fn open(config: LedgerConfig) -> Result<Ledger, OpenError> {
    let LedgerConfig {
        store,
        tree_dir,
        checkpoint_dir,
        origin,
        secret,
        blinded_kinds,
        clock,
        limits,
    } = config;
    let genesis = genesis_hash(&origin);
    let keys = FingerprintKey::derive(secret.as_bytes());
    let index_dir = tree_dir
        .as_deref()
        .and_then(Path::parent)
        .map(|ledger| ledger.join("index"));
    // One listing of `checkpoints/` (it grows by a note per checkpoint): the latest note, read
    // and parsed, and the cover.
    let latest_file = match checkpoint_dir.as_deref() {
        Some(dir) => checkpoint_dir::list(dir)?.pop(),
        None => None,
    };
    let latest = match &latest_file {
        Some((size, file)) => Some(checkpoint_dir::read(file, *size)?),
        None => None,
    };
    if let Some(note) = &latest
        && note.checkpoint.origin != origin
    {
        return Err(CheckpointFileError::Malformed {
            file: note.file.clone(),
            detail: format!(
                "it names origin {}, not this ledger's",
                note.checkpoint.origin
            ),
        }
        .into());
    }
    let cover = cover_from(latest_file, tree_dir.as_deref())
        .map_err(|(path, source)| OpenError::CoverRead { path, source })?;
    let len = store.len();
    if let Some(cover) = &cover
        && len < cover.records
    {
        return Err(OpenError::CoveredRecordsMissing {
            records: len,
            cover: cover.clone(),
        });
    }
    let tail_start = tail_start(&*store, len, &limits)?;

    let mut tree = open_tree(tree_dir.as_deref())?;
    if !tree_agrees(&tree, &*store, len)? {
        tracing::warn!("merkle tree disagrees with the log; rebuilding it");
        tree = reset_tree(tree_dir.as_deref())?;
    }

    let cached = match &index_dir {
        Some(dir) => load_cache(dir, &keys, &*store, len, tail_start, genesis)?,
        None => None,
    };
    let (cursor, tags, ids) = match cached {
        Some(cached) => (cached.cursor, cached.tags, cached.ids),
        None => (ChainCursor::start(genesis), TagIndex::new(), IdIndex::new()),
    };
    let cached_size = cursor.next;
    if tree.size() < cached_size {
        refill_tree(&mut tree, &*store, cached_size)?;
    }
    let mut rebuild = Rebuild {
        cursor,
        tags,
        ids,
        keys: &keys,
        secret: &secret,
        tree_from: tree.size(),
        leaves: Vec::new(),
        tail_start,
    };
    let mut outcome: Result<(), ScanStop> = Ok(());
    let mut tree_error = None;
    store.scan(cached_size, len, &mut |position, content| {
        match rebuild.record(position, content) {
            Ok(()) => {}
            Err(stop) => {
                outcome = Err(stop);
                return ControlFlow::Break(());
            }
        }
        if rebuild.leaves.len() >= TREE_CHUNK
            && let Err(error) = tree.append_leaves(&rebuild.leaves)
        {
            tree_error = Some(error);
            return ControlFlow::Break(());
        }
        if rebuild.leaves.len() >= TREE_CHUNK {
            rebuild.leaves.clear();
        }
        ControlFlow::Continue(())
    })?;
    if let Some(error) = tree_error {
        return Err(error.into());
    }
    let mut torn = None;
    match outcome {
        Ok(()) => {}
        Err(ScanStop::Suspect {
            position,
            fault,
            content,
        }) => {
            let location = store.location(position);
            if !location
                .as_ref()
                .is_some_and(|l| has_zero_sector(l.offset, &content))
            {
                return Err(damaged(&*store, position, fault));
            }
            if let Some(cover) = cover.as_ref().filter(|cover| position < cover.records) {
                let Location { file, offset } = location.expect("the zero-sector rule located it");
                return Err(OpenError::DamagedCovered {
                    position: Position(position),
                    file,
                    offset,
                    fault,
                    cover: Box::new(cover.clone()),
                });
            }
            let mut bytes = 0;
            for cut in position..len {
                bytes += store.read(cut)?.len() as u64 + 8;
            }
            tracing::warn!(
                position,
                records = len - position,
                bytes,
                location = ?location,
                %fault,
                "cutting a torn tail"
            );
            store.truncate_torn(position)?;
            torn = Some(TornRecords {
                from: Position(position),
                records: len - position,
                bytes,
                location,
                fault,
            });
        }
        Err(ScanStop::Damaged { position, fault }) => {
            return Err(damaged(&*store, position, fault));
        }
    }
    tree.append_leaves(&rebuild.leaves)?;
    let size = rebuild.cursor.next;
    if tree.size() > size {
        // The tree held leaves of records that were just truncated (acknowledged records never
        // are, so the store lost data it had reported durable): rebuild it from the log.
        tracing::warn!(
            tree = tree.size(),
            size,
            "merkle tree ahead of the log; rebuilding it"
        );
        tree = reset_tree(tree_dir.as_deref())?;
        refill_tree(&mut tree, &*store, size)?;
    }

    if let Some(note) = &latest {
        check_against_checkpoint(&mut tree, tree_dir.as_deref(), &*store, note, genesis)?;
    }
    let signed = latest.map(|note| Signed {
        note: note.note,
        checkpoint: note.checkpoint,
    });

    let head = Head {
        size,
        hash: rebuild.cursor.prev_hash,
        recorded_at: rebuild.cursor.prev_time,
    };
    let (tags, ids) = (rebuild.tags, rebuild.ids);
    // An empty ledger has no last time: every time is at or after the earliest one.
    let stamper = Stamper::new(
        clock.clone(),
        head.recorded_at.unwrap_or(Timestamp(i64::MIN)),
    );
    let (durable_tx, durable_rx) = watch::channel(size);
    let (sender, receiver) = mpsc::channel(limits.queue_requests_max.max(1));
    let shared = Arc::new(Shared {
        store,
        origin,
        genesis,
        secret,
        keys,
        blinded_kinds,
        clock,
        limits,
        checkpoint_dir,
        index_dir,
        opened_from_cache: cached_size,
        torn_at_open: torn,
        signed: Mutex::new(signed),
        checkpointing: Mutex::new(()),
        state: RwLock::new(State {
            tags,
            ids,
            head,
            pending: std::collections::VecDeque::new(),
            cached_size,
        }),
        tree: Mutex::new(tree),
        failure: OnceLock::new(),
        durable: durable_rx,
    });
    let threads = writer::start(
        Arc::clone(&shared),
        receiver,
        durable_tx,
        stamper,
        size,
        head.hash,
    )
    .map_err(OpenError::Thread)?;
    Ok(Ledger {
        shared,
        sender: Some(sender),
        threads,
    })
}

/// Why the rebuild scan stopped early.
#[derive(Debug)]
enum ScanStop {
    /// A record in the tail failed its hash checks: torn if it holds a zero sector.
    Suspect {
        position: u64,
        fault: RecordFault,
        content: Vec<u8>,
    },
    /// A damaged record: refuse to open.
    Damaged { position: u64, fault: RecordFault },
}

/// The state of the rebuild scan.
struct Rebuild<'k> {
    cursor: ChainCursor,
    tags: TagIndex,
    ids: IdIndex,
    keys: &'k FingerprintKey,
    secret: &'k LedgerSecret,
    /// Leaves from this position on are missing from the tree.
    tree_from: u64,
    leaves: Vec<Hash>,
    tail_start: u64,
}

impl Rebuild<'_> {
    /// Checks one record and adds it to the indexes.
    fn record(&mut self, position: u64, content: &[u8]) -> Result<(), ScanStop> {
        let in_tail = position >= self.tail_start;
        let damaged = |fault| ScanStop::Damaged { position, fault };
        // The checks a torn sector can fail: decoding and the hashes.
        let hash_checked = decode_content(content)
            .map_err(RecordFault::Malformed)
            .and_then(|view| {
                if in_tail {
                    check_hashes(&view)?;
                }
                Ok(view)
            });
        let view = match hash_checked {
            Ok(view) => view,
            // Whether it is torn needs its file offset: decided after the scan, so that the
            // store is not called back while it is scanning.
            Err(fault) if in_tail => {
                return Err(ScanStop::Suspect {
                    position,
                    fault,
                    content: content.to_vec(),
                });
            }
            Err(fault) => return Err(damaged(fault)),
        };
        self.cursor.check(&view).map_err(damaged)?;
        // One lookup per tag: check the back-link and index the record in the same step (a
        // failure refuses the open, so a half-indexed record does not matter).
        let record_position = view.record.position;
        for (tag, found) in view.record.tags.iter() {
            let (_, expected) = self.tags.push(self.keys.tag(tag), record_position);
            if expected != found {
                return Err(damaged(RecordFault::BackLinkWrong {
                    tag: tag.to_owned(),
                    expected,
                    found,
                }));
            }
        }
        // The salt is derived from the id (FORMAT.md §4), so it is recomputed rather than
        // read: erased payloads have no salt left.
        let salt = self.secret.payload_salt(&view.record.event_id.0);
        self.ids.insert(id_fingerprint(&salt), record_position);
        if position >= self.tree_from {
            self.leaves.push(view.record_hash);
        }
        self.cursor.advance(&view);
        Ok(())
    }
}

/// The refusal to open for a damaged record, with its file and offset.
fn damaged(store: &dyn SegmentStore, position: u64, fault: RecordFault) -> OpenError {
    let (file, offset) = store.location(position).map_or(
        (PathBuf::from("<unknown>"), 0),
        |Location { file, offset }| (file, offset),
    );
    OpenError::Damaged {
        position: Position(position),
        file,
        offset,
        fault,
    }
}

/// The first position of the tail: the records within the last `group_bytes_max` bytes and
/// `group_records_max` records of the log.
fn tail_start(
    store: &dyn SegmentStore,
    len: u64,
    limits: &super::Limits,
) -> Result<u64, StoreError> {
    let mut start = len;
    let mut bytes = 0usize;
    while start > 0 && (len - start) < limits.group_records_max as u64 {
        let frame = store.read(start - 1)?.len() + 8;
        if bytes + frame > limits.group_bytes_max {
            break;
        }
        bytes += frame;
        start -= 1;
    }
    Ok(start)
}

/// Whether the frame at `frame_offset` with this content contains an entirely zero 512-byte
/// block at a file offset that is a multiple of 512 (`FORMAT.md` §6.5). The frame's bytes are
/// `frame_len ‖ content ‖ frame_len`.
fn has_zero_sector(frame_offset: u64, content: &[u8]) -> bool {
    let frame_len =
        u32::try_from(content.len()).expect("a stored content's length came from a u32 field");
    let len_bytes = frame_len.to_le_bytes();
    let frame_size = content.len() as u64 + 8;
    let byte_at = |at: u64| -> u8 {
        assert!(at < frame_size, "a sector offset lies within the frame");
        let at = usize::try_from(at).expect("an offset within a frame fits usize");
        if at < 4 {
            len_bytes[at]
        } else if at < 4 + content.len() {
            content[at - 4]
        } else {
            len_bytes[at - 4 - content.len()]
        }
    };
    let end = frame_offset + frame_size;
    let mut block = frame_offset.div_ceil(SECTOR) * SECTOR;
    while block + SECTOR <= end {
        if (block..block + SECTOR).all(|at| byte_at(at - frame_offset) == 0) {
            return true;
        }
        block += SECTOR;
    }
    false
}

fn open_tree(dir: Option<&Path>) -> Result<Tree, OpenError> {
    let Some(dir) = dir else {
        return Ok(Tree::Memory(MemoryTree::new()));
    };
    match TreeStore::open(dir) {
        Ok(tree) => Ok(Tree::Disk(Box::new(tree))),
        Err(TreeOpenError::BadMarker { .. } | TreeOpenError::RootMismatch { .. }) => {
            tracing::warn!(dir = %dir.display(), "merkle tree directory is damaged; rebuilding it");
            reset_tree(Some(dir))
        }
        Err(error) => Err(error.into()),
    }
}

/// Deletes the tree (it is derived) and opens an empty one.
fn reset_tree(dir: Option<&Path>) -> Result<Tree, OpenError> {
    let Some(dir) = dir else {
        return Ok(Tree::Memory(MemoryTree::new()));
    };
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(OpenError::Remove {
                path: dir.to_path_buf(),
                source,
            });
        }
    }
    Ok(Tree::Disk(Box::new(TreeStore::open(dir)?)))
}

/// Checks the log and the tree (brought up to the log) against the latest stored checkpoint:
/// the record at its size − 1 passes its hash checks and has its head hash, and the tree's root at its size is its root
/// and extends to the tree's current root (a consistency proof, so every node a proof to it
/// needs is checked). A tree that fails is rebuilt from the log and checked again.
fn check_against_checkpoint(
    tree: &mut Tree,
    tree_dir: Option<&Path>,
    store: &dyn SegmentStore,
    note: &StoredNote,
    genesis: Hash,
) -> Result<(), OpenError> {
    let signed = &note.checkpoint;
    let disagrees = |detail: String| OpenError::CheckpointDisagrees {
        file: note.file.clone(),
        detail,
    };
    let head = if signed.size == 0 {
        genesis
    } else {
        let position = signed.size - 1;
        let content = store.read(position)?;
        let view = decode_content(&content)
            .map_err(RecordFault::Malformed)
            .and_then(|view| check_hashes(&view).map(|()| view))
            .map_err(|fault| damaged(store, position, fault))?;
        view.record_hash
    };
    if head != signed.head {
        return Err(disagrees(format!(
            "it signs head {} but record {} has hash {head}",
            signed.head,
            signed.size.saturating_sub(1)
        )));
    }
    if let Err(detail) = tree.extends(signed.size, &signed.root) {
        tracing::warn!(
            checkpoint = %note.file.display(),
            %detail,
            "the stored merkle tree disagrees with the signed checkpoint; rebuilding it"
        );
        let size = tree.size();
        *tree = reset_tree(tree_dir)?;
        refill_tree(tree, store, size)?;
        tree.extends(signed.size, &signed.root)
            .map_err(|detail| disagrees(format!("the tree recomputed from the log: {detail}")))?;
    }
    Ok(())
}

/// Whether the tree is not longer than the log and its last leaf is the log's record there.
fn tree_agrees(tree: &Tree, store: &dyn SegmentStore, len: u64) -> Result<bool, OpenError> {
    let size = tree.size();
    if size == 0 {
        return Ok(true);
    }
    if size > len {
        return Ok(false);
    }
    let content = store.read(size - 1)?;
    // A record that does not decode cannot vouch for the tree: the tree is then rebuilt, and
    // the rebuild reads that record again and names the damage (`refill_tree`).
    let Ok(view) = decode_content(&content) else {
        return Ok(false);
    };
    Ok(tree.leaf(size - 1) == Some(leaf_hash(&view.record_hash)))
}

/// Appends the leaves of records `tree.size()..size` from the store.
fn refill_tree(tree: &mut Tree, store: &dyn SegmentStore, size: u64) -> Result<(), OpenError> {
    let mut leaves = Vec::new();
    let mut failure = None;
    let mut tree_error = None;
    store.scan(tree.size(), size, &mut |position, content| {
        match decode_content(content) {
            Ok(view) => leaves.push(view.record_hash),
            Err(error) => {
                failure = Some((position, RecordFault::Malformed(error)));
                return ControlFlow::Break(());
            }
        }
        if leaves.len() >= TREE_CHUNK {
            if let Err(error) = tree.append_leaves(&leaves) {
                tree_error = Some(error);
                return ControlFlow::Break(());
            }
            leaves.clear();
        }
        ControlFlow::Continue(())
    })?;
    if let Some(error) = tree_error {
        return Err(error.into());
    }
    if let Some((position, fault)) = failure {
        return Err(damaged(store, position, fault));
    }
    tree.append_leaves(&leaves)?;
    Ok(())
}

/// A loaded index cache that matches the log: the indexes at `cursor.next`.
struct Cached {
    cursor: ChainCursor,
    tags: TagIndex,
    ids: IdIndex,
}

/// Loads the index cache in `dir` and checks it against the log: its size is within the log,
/// the record there has its head hash, and its records inside the tail (from `tail_start`)
/// pass the tail's checks (decoding, hashes, chain, time). `None` (logged) when it does not
/// match or cannot be loaded: the caller then rebuilds from the log.
fn load_cache(
    dir: &Path,
    keys: &FingerprintKey,
    store: &dyn SegmentStore,
    len: u64,
    tail_start: u64,
    genesis: Hash,
) -> Result<Option<Cached>, OpenError> {
    let loaded = match index_cache::load(dir, &keys.check()) {
        Ok(loaded) => loaded,
        Err(index_cache::LoadError::Missing) => return Ok(None),
        Err(error) => {
            tracing::warn!(%error, "index cache not used; rebuilding the indexes from the log");
            return Ok(None);
        }
    };
    let ignore = |why: &str| {
        tracing::warn!(
            why,
            "index cache does not match the log; rebuilding the indexes"
        );
    };
    if loaded.size > len {
        ignore("it covers more records than the log holds");
        return Ok(None);
    }
    let mut cursor = ChainCursor::start(genesis);
    if loaded.size > 0 {
        let check_from = tail_start.min(loaded.size - 1);
        let mut problem: Option<&str> = None;
        store.scan(check_from, loaded.size, &mut |position, content| {
            let Ok(view) = decode_content(content) else {
                problem = Some("a record it covers does not decode");
                return ControlFlow::Break(());
            };
            if position >= tail_start && check_hashes(&view).is_err() {
                problem = Some("a record it covers in the tail fails its hash checks");
                return ControlFlow::Break(());
            }
            if position > check_from && cursor.check(&view).is_err() {
                problem = Some("the chain breaks in the records it covers in the tail");
                return ControlFlow::Break(());
            }
            cursor = ChainCursor {
                next: position + 1,
                prev_hash: view.record_hash,
                prev_time: Some(view.record.recorded_at),
            };
            ControlFlow::Continue(())
        })?;
        if let Some(why) = problem {
            ignore(why);
            return Ok(None);
        }
        if cursor.next != loaded.size {
            ignore("the log ended while checking it");
            return Ok(None);
        }
    }
    if cursor.prev_hash != loaded.head {
        ignore("its head hash differs from the log's");
        return Ok(None);
    }
    Ok(Some(Cached {
        cursor,
        tags: loaded.tags,
        ids: loaded.ids,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Origin;
    use crate::clock::ClockMode;
    use crate::ledger::{AppendRequest, Limits, NewRecord};
    use crate::record::{BlindedKinds, EventId, EventType, SchemaVersion, Tag, Timestamp};
    use crate::store::memory::MemoryStore;

    fn config(store: &Arc<MemoryStore>, dir: &Path) -> LedgerConfig {
        LedgerConfig {
            store: Arc::clone(store) as Arc<dyn SegmentStore>,
            tree_dir: Some(dir.join("tree")),
            checkpoint_dir: None,
            origin: Origin::new("test.example/cache").expect("valid origin"),
            secret: LedgerSecret::from_bytes([5; 32]),
            blinded_kinds: BlindedKinds::new(["pin"]).expect("valid kinds"),
            clock: ClockMode::Supplied,
            limits: Limits::default(),
        }
    }

    /// Appends records `from..to`, each tagged with its own person and one of three units;
    /// `salt` varies the payloads, so that two histories of the same length differ.
    fn append(ledger: &Ledger, from: u64, to: u64, salt: u8) {
        for n in from..to {
            let mut id = [salt; 16];
            id[..8].copy_from_slice(&n.to_le_bytes());
            let record = NewRecord {
                event_id: EventId(id),
                event_type: EventType::new("TestEvent").expect("valid"),
                schema_version: SchemaVersion::new(1).expect("valid"),
                tags: vec![
                    Tag::new(format!("person:{n}")).expect("valid"),
                    Tag::new(format!("unit:{}", n % 3)).expect("valid"),
                ],
                metadata: Vec::new(),
                payload: vec![salt; 10],
            };
            ledger
                .append_blocking(AppendRequest {
                    records: vec![record],
                    condition: None,
                    recorded_at: Some(Timestamp(i64::try_from(n).expect("small"))),
                })
                .expect("appends");
        }
    }

    /// What the indexes must say after `records` records: reads by tag and the back-links of
    /// a new append.
    fn check_indexes(ledger: &Ledger, records: u64) {
        assert_eq!(ledger.head().size, records);
        let unit = Tag::new("unit:1").expect("valid");
        let expected: Vec<u64> = (0..records).filter(|n| n % 3 == 1).collect();
        let found: Vec<u64> = ledger
            .try_positions_by_tag(&unit, None, 10_000)
            .expect("walks")
            .iter()
            .map(|position| position.0)
            .collect();
        assert_eq!(found, expected);
        let after = ledger
            .try_positions_by_tag(&unit, Some(Position(records / 2)), 3)
            .expect("walks");
        let expected_after: Vec<Position> = (records / 2 + 1..records)
            .filter(|n| n % 3 == 1)
            .take(3)
            .map(Position)
            .collect();
        assert_eq!(after, expected_after);
        let person = Tag::new("person:7").expect("valid");
        assert_eq!(
            ledger
                .try_positions_by_tag(&person, None, 10)
                .expect("walks"),
            vec![Position(7)]
        );
    }

    #[test]
    fn the_index_cache_is_used_only_when_it_matches_the_log() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(MemoryStore::new());
        {
            let ledger = Ledger::open(config(&store, dir.path())).expect("opens");
            append(&ledger, 0, 100, 1);
        }
        let cache = index_cache::path(&dir.path().join("index"));
        assert!(cache.exists(), "closing writes the cache");
        let at_100 = std::fs::read(&cache).expect("reads");
        {
            let ledger = Ledger::open(config(&store, dir.path())).expect("opens");
            assert_eq!(ledger.opened_from_index_cache(), 100, "the cache is used");
            check_indexes(&ledger, 100);
            append(&ledger, 100, 140, 1);
            check_indexes(&ledger, 140);
        }

        // An older cache (as after a crash): used, and the records after it are replayed.
        std::fs::write(&cache, &at_100).expect("writes");
        {
            let ledger = Ledger::open(config(&store, dir.path())).expect("opens");
            assert_eq!(ledger.opened_from_index_cache(), 100);
            check_indexes(&ledger, 140);
            append(&ledger, 140, 150, 1);
            let record = ledger.read(Position(149)).expect("reads");
            let unit = record
                .record
                .tags
                .iter()
                .find(|link| link.tag.as_str() == "unit:2")
                .expect("tagged");
            assert_eq!(unit.prev, Some(Position(146)), "back-link after the replay");
        }

        // Another log of the same length: the head hash differs, so the cache is ignored. The
        // stored tree belongs to the first log (and covers its 150 records: opening a shorter
        // log with it is refused), so the other log starts without one.
        let other = Arc::new(MemoryStore::new());
        std::fs::remove_dir_all(dir.path().join("tree")).expect("deletes the tree");
        {
            let ledger = Ledger::open(config(&other, dir.path())).expect("opens");
            assert_eq!(ledger.opened_from_index_cache(), 0, "another log: rebuilt");
            append(&ledger, 0, 150, 2);
        }
        // The store of the first log with the other log's cache: same size, other head.
        {
            let ledger = Ledger::open(config(&store, dir.path())).expect("opens");
            assert_eq!(ledger.opened_from_index_cache(), 0, "head differs: rebuilt");
            check_indexes(&ledger, 150);
        }

        // A cache covering more records than the log, and a damaged cache: ignored.
        let short = Arc::new(MemoryStore::new());
        std::fs::remove_dir_all(dir.path().join("tree")).expect("deletes the tree");
        {
            let ledger = Ledger::open(config(&short, dir.path())).expect("opens");
            assert_eq!(
                ledger.opened_from_index_cache(),
                0,
                "beyond the log: rebuilt"
            );
            append(&ledger, 0, 20, 1);
        }
        let mut damaged = std::fs::read(&cache).expect("reads");
        let middle = damaged.len() / 2;
        damaged[middle] ^= 1;
        std::fs::write(&cache, &damaged).expect("writes");
        {
            let ledger = Ledger::open(config(&short, dir.path())).expect("opens");
            assert_eq!(ledger.opened_from_index_cache(), 0, "damaged: rebuilt");
            check_indexes(&ledger, 20);
        }
    }

    #[test]
    fn zero_sector_rule_needs_an_aligned_block_inside_the_frame() {
        let mut content = vec![7u8; 2000];
        // Zeros from content offset 600 to 1200: frame bytes 604..1204.
        content[600..1200].fill(0);
        // Frame at offset 0: the aligned block 1024..1536 is not all zero (1204..1536 are 7s),
        // and 512..1024 starts in the zeros only at 604: not all zero either.
        assert!(!has_zero_sector(0, &content));
        // Frame at offset 420: zeros at file offsets 1024..1624 hold the block 1024..1536.
        assert!(has_zero_sector(420, &content));
        // A short frame can never hold a whole block.
        assert!(!has_zero_sector(0, &[0u8; 400]));
    }
}
