//! Comparing the stored Merkle tree (`tree/`, `FORMAT.md` §8.6) with the tree recomputed from
//! the log, node by node.
//!
//! Why: the stored tree is a cache that proofs are read from, so a damaged node would be handed
//! to a court as a proof that fails. `verify` trusts no derived file, so it checks every entry:
//! level 0 against the leaf hashes of the records (as the log is scanned, chunk by chunk), then
//! each higher level against the node hashes of the level below, which is by then known to be
//! right. The first wrong entry is named by its file and byte offset.
//!
//! What the comparison allows: a level file may hold fewer entries than the level below
//! supports, and a last partial entry (appends after the last sync that a crash cut short, which
//! opening truncates and redoes). It refuses an entry that differs, more leaves than the log has
//! records, more entries than the level below supports, and a `synced` marker that is not valid
//! or whose root is not the root of the stored nodes at its size.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use super::VerifyError;
use crate::hash::Hash;
use crate::merkle::{HashReader, NodeReadError, node_hash, tree_root};
use crate::tree_store;

/// The number of levels a tree of `u64` leaves can have.
const LEVELS: usize = 64;

/// Bytes of each level file read at a time when comparing levels.
const READ_BYTES: usize = 1 << 20;

/// The stored tree being compared: the level-0 file, read as the log's leaves arrive.
#[derive(Debug)]
pub(super) struct StoredTree {
    dir: PathBuf,
    level0: Option<File>,
    /// Whole entries in level 0.
    leaves: u64,
}

fn tree_error(file: &Path, offset: u64, detail: String) -> VerifyError {
    VerifyError::Tree {
        file: file.to_path_buf(),
        offset,
        detail,
    }
}

fn io_error(file: &Path) -> impl FnOnce(io::Error) -> VerifyError + '_ {
    move |error| tree_error(file, 0, format!("cannot be read: {error}"))
}

/// Opens level `level` of the tree in `dir` and its number of whole entries; `None` when the
/// file does not exist.
fn open_level(dir: &Path, level: usize) -> Result<Option<(File, u64)>, VerifyError> {
    let path = tree_store::level_file(dir, level);
    match File::open(&path) {
        Ok(file) => {
            let len = file.metadata().map_err(io_error(&path))?.len();
            Ok(Some((file, len / Hash::LEN as u64)))
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io_error(&path)(error)),
    }
}

impl StoredTree {
    /// The stored tree in `dir`, for a log of `records` records; `None` when there is none.
    ///
    /// # Errors
    /// [`VerifyError::Tree`] when level 0 holds more leaves than the log has records, or cannot
    /// be read.
    pub(super) fn open(dir: &Path, records: u64) -> Result<Option<StoredTree>, VerifyError> {
        if !dir.is_dir() {
            return Ok(None);
        }
        let (level0, leaves) = match open_level(dir, 0)? {
            Some((file, leaves)) => (Some(file), leaves),
            None => (None, 0),
        };
        if leaves > records {
            return Err(tree_error(
                &tree_store::level_file(dir, 0),
                records * Hash::LEN as u64,
                format!("the stored tree holds {leaves} leaves, the log only {records} records"),
            ));
        }
        Ok(Some(StoredTree {
            dir: dir.to_path_buf(),
            level0,
            leaves,
        }))
    }

    /// Compares the stored leaves `first..` with `leaves` (leaf hashes of the records from
    /// position `first`), as far as the file holds them; the error carries the position of the
    /// first that differs.
    pub(super) fn check_leaves(
        &self,
        first: u64,
        leaves: &[Hash],
    ) -> Result<(), (u64, VerifyError)> {
        let Some(file) = &self.level0 else {
            return Ok(());
        };
        let end = (first + leaves.len() as u64).min(self.leaves);
        if end <= first {
            return Ok(());
        }
        let path = tree_store::level_file(&self.dir, 0);
        let count = usize::try_from(end - first).expect("a chunk of leaves fits usize");
        let mut bytes = vec![0_u8; count * Hash::LEN];
        file.read_exact_at(&mut bytes, first * Hash::LEN as u64)
            .map_err(|error| (first, io_error(&path)(error)))?;
        for (index, (stored, leaf)) in bytes.chunks_exact(Hash::LEN).zip(leaves).enumerate() {
            if stored != leaf.0 {
                let position = first + index as u64;
                let detail =
                    format!("leaf {position} differs from the leaf hash of record {position}");
                return Err((
                    position,
                    tree_error(&path, position * Hash::LEN as u64, detail),
                ));
            }
        }
        Ok(())
    }

    /// Compares every higher level with the node hashes of the level below (level 0 having been
    /// checked against the log), then the `synced` marker with the stored nodes.
    ///
    /// # Errors
    /// [`VerifyError::Tree`] naming the first wrong entry.
    pub(super) fn check_levels(&self) -> Result<(), VerifyError> {
        let mut below = open_level(&self.dir, 0)?;
        let mut held = vec![self.leaves];
        for level in 1..LEVELS {
            let above = open_level(&self.dir, level)?;
            let supported = below.as_ref().map_or(0, |(_, entries)| entries / 2);
            let entries = above.as_ref().map_or(0, |(_, entries)| *entries);
            let path = tree_store::level_file(&self.dir, level);
            if entries > supported {
                return Err(tree_error(
                    &path,
                    supported * Hash::LEN as u64,
                    format!(
                        "level {level} holds {entries} nodes, the level below supports {supported}"
                    ),
                ));
            }
            if let (Some((children, _)), Some((parents, _))) = (&below, &above) {
                compare_level(&self.dir, level, children, parents, entries)?;
            }
            held.push(entries);
            below = above;
        }
        self.check_marker(held)
    }

    /// A present marker must be valid and, when the levels hold every node of its size, give
    /// the root of those nodes.
    fn check_marker(&self, held: Vec<u64>) -> Result<(), VerifyError> {
        let path = tree_store::marker_path(&self.dir);
        let marker = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(io_error(&path)(error)),
        };
        let Some((size, root)) = tree_store::parse_marker(&marker) else {
            return Err(tree_error(
                &path,
                0,
                "is not a valid synced marker".to_owned(),
            ));
        };
        let complete = held
            .iter()
            .enumerate()
            .all(|(level, entries)| (size >> level) <= *entries);
        if !complete {
            // A level lost synced entries: opening rebuilds them and rewrites the marker.
            return Ok(());
        }
        let reader = Levels {
            dir: self.dir.clone(),
            size,
        };
        let computed = tree_root(&reader, size).map_err(|error| {
            tree_error(&path, 0, format!("its root cannot be computed: {error}"))
        })?;
        if computed != root {
            return Err(tree_error(
                &path,
                24,
                format!("records root {root} for size {size}, the stored nodes give {computed}"),
            ));
        }
        Ok(())
    }
}

/// Compares the first `entries` nodes of `parents` (level `level`) with the hashes of their two
/// children in `children`, reading both with positioned reads, a block at a time.
fn compare_level(
    dir: &Path,
    level: usize,
    children: &File,
    parents: &File,
    entries: u64,
) -> Result<(), VerifyError> {
    let child_path = tree_store::level_file(dir, level - 1);
    let parent_path = tree_store::level_file(dir, level);
    let block = (READ_BYTES / Hash::LEN) as u64;
    let mut pairs = Vec::new();
    let mut stored = Vec::new();
    let mut first = 0;
    while first < entries {
        let count = usize::try_from(block.min(entries - first)).expect("a block fits usize");
        pairs.resize(2 * count * Hash::LEN, 0);
        stored.resize(count * Hash::LEN, 0);
        children
            .read_exact_at(&mut pairs, 2 * first * Hash::LEN as u64)
            .map_err(io_error(&child_path))?;
        parents
            .read_exact_at(&mut stored, first * Hash::LEN as u64)
            .map_err(io_error(&parent_path))?;
        let nodes = pairs
            .chunks_exact(2 * Hash::LEN)
            .zip(stored.chunks_exact(Hash::LEN));
        for (offset, (pair, node)) in nodes.enumerate() {
            let left = Hash::from_slice(&pair[..Hash::LEN]).expect("32 bytes");
            let right = Hash::from_slice(&pair[Hash::LEN..]).expect("32 bytes");
            if node_hash(&left, &right).0 != node {
                let index = first + offset as u64;
                return Err(tree_error(
                    &parent_path,
                    index * Hash::LEN as u64,
                    format!("node {index} of level {level} is not the hash of its two children"),
                ));
            }
        }
        first += count as u64;
    }
    Ok(())
}

/// The stored level files as a [`HashReader`] of a tree of `size` leaves, read with `pread`.
struct Levels {
    dir: PathBuf,
    size: u64,
}

impl HashReader for Levels {
    fn size(&self) -> u64 {
        self.size
    }

    fn node(&self, level: u8, index: u64) -> Result<Hash, NodeReadError> {
        if usize::from(level) >= LEVELS || index >= self.size >> level {
            return Err(NodeReadError::OutOfRange {
                level,
                index,
                size: self.size,
            });
        }
        let read = || -> io::Result<Hash> {
            let file = File::open(tree_store::level_file(&self.dir, usize::from(level)))?;
            let mut bytes = [0_u8; Hash::LEN];
            file.read_exact_at(&mut bytes, index * Hash::LEN as u64)?;
            Ok(Hash(bytes))
        };
        read().map_err(|source| NodeReadError::Io {
            level,
            index,
            source,
        })
    }
}
