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
//! Seam for fast opening: the rebuild scans the whole log. A later index cache (a file holding
//! the indexes at a position and head hash, checked against the log per `FORMAT.md` §7) replaces
//! the scan of `0..cached` with loading it, and nothing else changes.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tokio::sync::{mpsc, watch};

use super::writer;
use super::{Head, Ledger, LedgerConfig, Shared, State, Tree};
use crate::clock::Stamper;
use crate::hash::Hash;
use crate::index::{IdIndex, TagIndex};
use crate::merkle::{MemoryTree, leaf_hash};
use crate::record::{Position, Timestamp, decode_content, genesis_hash};
use crate::store::{Location, SegmentStore, StoreError};
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
    let len = store.len();
    let tail_start = tail_start(&*store, len, &limits)?;

    let mut tree = open_tree(tree_dir.as_deref())?;
    if !tree_agrees(&tree, &*store, len)? {
        tracing::warn!("merkle tree disagrees with the log; rebuilding it");
        tree = reset_tree(tree_dir.as_deref())?;
    }

    let mut rebuild = Rebuild {
        cursor: ChainCursor::start(genesis),
        tags: TagIndex::new(),
        ids: IdIndex::new(),
        tree_from: tree.size(),
        leaves: Vec::new(),
        tail_start,
    };
    let mut outcome: Result<(), ScanStop> = Ok(());
    let mut tree_error = None;
    store.scan(0, len, &mut |position, content| {
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
    match outcome {
        Ok(()) => {}
        Err(ScanStop::Suspect {
            position,
            fault,
            content,
        }) => {
            let location = store.location(position);
            if location
                .as_ref()
                .is_some_and(|l| has_zero_sector(l.offset, &content))
            {
                tracing::warn!(position, "truncating a torn tail");
                store.truncate_torn(position)?;
            } else {
                return Err(damaged(&*store, position, fault));
            }
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

    let head = Head {
        size,
        hash: rebuild.cursor.prev_hash,
        recorded_at: rebuild.cursor.prev_time,
    };
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
        blinded_kinds,
        clock,
        limits,
        checkpoint_dir,
        state: RwLock::new(State {
            tags: rebuild.tags,
            ids: rebuild.ids,
            head,
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
struct Rebuild {
    cursor: ChainCursor,
    tags: TagIndex,
    ids: IdIndex,
    /// Leaves from this position on are missing from the tree.
    tree_from: u64,
    leaves: Vec<Hash>,
    tail_start: u64,
}

impl Rebuild {
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
            let id = self.tags.intern(tag);
            let expected = self.tags.last(id);
            if expected != found {
                return Err(damaged(RecordFault::BackLinkWrong {
                    tag: tag.to_owned(),
                    expected,
                    found,
                }));
            }
            self.tags.push(id, record_position);
        }
        self.ids.insert(&view.record.event_id, record_position);
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
    let Ok(frame_len) = u32::try_from(content.len()) else {
        return false;
    };
    let len_bytes = frame_len.to_le_bytes();
    let frame_size = content.len() as u64 + 8;
    let byte_at = |at: u64| -> u8 {
        // `at` is an offset within the frame, below `frame_size`.
        let at = usize::try_from(at).unwrap_or(usize::MAX);
        if at < 4 {
            len_bytes[at]
        } else if at < 4 + content.len() {
            content[at - 4]
        } else {
            len_bytes.get(at - 4 - content.len()).copied().unwrap_or(1)
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
    let Ok(view) = decode_content(&content) else {
        return Ok(false);
    };
    Ok(tree.leaf(size - 1) == Some(leaf_hash(&view.record_hash)))
}

/// Appends the leaves of records `tree.size()..size` from the store.
fn refill_tree(tree: &mut Tree, store: &dyn SegmentStore, size: u64) -> Result<(), OpenError> {
    let mut leaves = Vec::new();
    let mut failure = None;
    store.scan(
        tree.size(),
        size,
        &mut |position, content| match decode_content(content) {
            Ok(view) => {
                leaves.push(view.record_hash);
                ControlFlow::Continue(())
            }
            Err(error) => {
                failure = Some((position, RecordFault::Malformed(error)));
                ControlFlow::Break(())
            }
        },
    )?;
    if let Some((position, fault)) = failure {
        return Err(damaged(store, position, fault));
    }
    tree.append_leaves(&leaves)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
