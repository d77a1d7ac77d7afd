//! The Merkle tree on disk: every complete subtree hash, one append-only file per level.
//!
//! Why: at national scale (hundreds of millions of records) the tree's inner nodes cannot live in
//! memory (budget: under ~100 bytes per record for the whole ledger), yet every inclusion or
//! consistency proof must be answered with a few reads. Storing each complete subtree once, in
//! a file per level, makes every node an O(1) positioned read and every proof at most ~2·log2(n)
//! reads; the incomplete right edge of any tree size is composed from complete subtrees
//! ([`crate::merkle`]), so nothing written ever changes.
//!
//! Layout (see `FORMAT.md`): `level-KK.hashes` (KK = two decimal digits) is the concatenation of
//! 32-byte hashes where entry `j` is `node(K, j)`, the root of leaves `[j·2^K, (j+1)·2^K)`; for a
//! tree of `n` leaves it holds exactly `n >> K` entries. `synced` records the size (and root) up
//! to which the level files were fsynced.
//!
//! Contracts:
//! - The store is a **derived cache**: it MUST NOT be trusted beyond what it can check, and it can
//!   always be deleted and rebuilt from the record hashes. [`TreeStore::open`] truncates every level
//!   to the last size that was both synced and fully present, and reports it; the caller MUST
//!   re-append the record hashes from that size on.
//! - In memory it keeps only the frontier (the ≤ 64 complete subtrees that cover the current
//!   tree, enough for the current root) and a bounded cache of [`CACHE_SLOTS`] nodes.
//! - A failed write or fsync makes the store refuse further appends and syncs (fail-stop); reopen
//!   it to recover.
//! - One process at a time: the ledger's exclusive lock covers this directory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::hash::Hash;
use crate::merkle::{self, HashReader, NodeReadError, ProveError, leaf_hash, node_hash};
use crate::proof::{ConsistencyProof, InclusionProof};

/// The number of nodes kept in the read cache (direct-mapped, about 200 KiB).
pub const CACHE_SLOTS: usize = 4096;

/// The name of the file that records the synced size and root.
const SYNCED_FILE: &str = "synced";
/// The name of the temporary file the synced marker is written to before it is renamed.
const SYNCED_TEMP_FILE: &str = "synced.tmp";
/// The magic bytes that open the synced marker: `RLTREE` and two zero bytes.
const SYNCED_MAGIC: [u8; 8] = *b"RLTREE\0\0";
/// The format version of the tree directory.
const FORMAT_VERSION: u32 = 1;
/// The length of the synced marker in bytes.
const SYNCED_LEN: usize = 88;
/// The number of levels a tree of `u64` leaves can have.
const MAX_LEVELS: usize = 64;

/// Why the stored tree could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum TreeOpenError {
    /// A file of the tree directory could not be created, read, truncated or synced. Handled as a
    /// storage failure: the ledger refuses to open and says which file.
    #[error("tree store file {path} failed")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// The `synced` marker is not a valid marker (wrong length, magic, version or checksum). It
    /// is only ever replaced by an atomic rename, so this is damage, not a crash. Handled by
    /// deleting the tree directory and rebuilding it from the record hashes.
    #[error("tree store marker {path} is damaged")]
    BadMarker {
        /// The marker file.
        path: PathBuf,
    },
    /// The level files hold every node of the synced size, but the root they give differs from
    /// the root recorded at sync time: a level file was altered. Handled like
    /// [`TreeOpenError::BadMarker`]: delete the directory and rebuild.
    #[error("stored tree of size {size} does not give the root recorded when it was synced")]
    RootMismatch {
        /// The synced size.
        size: u64,
    },
}

/// Why leaves could not be appended.
#[derive(Debug, thiserror::Error)]
pub enum TreeAppendError {
    /// Writing a level file failed. The store is now failed (fail-stop); handled like any ledger
    /// write failure: stop appending, report, reopen to recover.
    #[error("writing tree level file {path} failed")]
    Io {
        /// The level file.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// An earlier write or sync failed; the store accepts nothing more until it is reopened.
    #[error("the tree store stopped after an earlier write or sync failure")]
    Failed,
    /// The tree would exceed `u64::MAX` leaves. Cannot happen with real data; handled as an
    /// internal error.
    #[error("the tree cannot hold more than u64::MAX leaves")]
    Full,
}

/// Why the store could not be made durable.
#[derive(Debug, thiserror::Error)]
pub enum TreeSyncError {
    /// An fsync or the marker write failed. The store is now failed (fail-stop); handled like any
    /// ledger sync failure.
    #[error("syncing tree store file {path} failed")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// An earlier write or sync failed; the store accepts nothing more until it is reopened.
    #[error("the tree store stopped after an earlier write or sync failure")]
    Failed,
}

/// One level file and whether it has writes not yet fsynced.
#[derive(Debug)]
struct LevelFile {
    file: File,
    dirty: bool,
}

/// A direct-mapped cache of nodes: bounded, no eviction bookkeeping.
struct NodeCache {
    slots: Vec<Option<(u8, u64, Hash)>>,
}

impl NodeCache {
    fn new() -> NodeCache {
        NodeCache {
            slots: vec![None; CACHE_SLOTS],
        }
    }

    fn slot(level: u8, index: u64) -> usize {
        let mixed = (index ^ (u64::from(level) << 58)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // CACHE_SLOTS is a power of two: keep the top bits of the product.
        usize::try_from(mixed >> (64 - CACHE_SLOTS.trailing_zeros())).expect("slot fits usize")
    }

    fn get(&self, level: u8, index: u64) -> Option<Hash> {
        match self.slots[Self::slot(level, index)] {
            Some((l, i, hash)) if l == level && i == index => Some(hash),
            _ => None,
        }
    }

    fn put(&mut self, level: u8, index: u64, hash: Hash) {
        self.slots[Self::slot(level, index)] = Some((level, index, hash));
    }

    fn clear(&mut self) {
        self.slots.fill(None);
    }
}

impl std::fmt::Debug for NodeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let used = self.slots.iter().filter(|slot| slot.is_some()).count();
        write!(f, "NodeCache({used}/{} slots)", self.slots.len())
    }
}

/// The Merkle tree stored in a directory, one append-only file per level.
pub struct TreeStore {
    dir: PathBuf,
    /// `levels[k]` is the open file of level `k`, when it exists.
    levels: Vec<Option<LevelFile>>,
    size: u64,
    /// `frontier[k]` is `node(k, (size >> k) - 1)` when bit `k` of `size` is set.
    frontier: [Hash; MAX_LEVELS],
    cache: Mutex<NodeCache>,
    synced_size: u64,
    directory_dirty: bool,
    failed: bool,
    /// A node was found to disagree with what is signed: the marker is gone and is not written
    /// again, so that the next open rebuilds the tree.
    distrusted: bool,
}

impl std::fmt::Debug for TreeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeStore")
            .field("dir", &self.dir)
            .field("size", &self.size)
            .field("root", &self.root())
            .field("synced_size", &self.synced_size)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

fn level_path(dir: &Path, level: usize) -> PathBuf {
    dir.join(format!("level-{level:02}.hashes"))
}

fn open_io(path: &Path) -> impl FnOnce(io::Error) -> TreeOpenError + '_ {
    move |source| TreeOpenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sync_io(path: &Path) -> impl FnOnce(io::Error) -> TreeSyncError + '_ {
    move |source| TreeSyncError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sync_directory(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn marker_bytes(size: u64, root: &Hash) -> [u8; SYNCED_LEN] {
    let mut out = [0u8; SYNCED_LEN];
    out[0..8].copy_from_slice(&SYNCED_MAGIC);
    out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    // Bytes 12..16 are reserved and zero.
    out[16..24].copy_from_slice(&size.to_le_bytes());
    out[24..56].copy_from_slice(&root.0);
    let checksum = blake3::hash(&out[0..56]);
    out[56..88].copy_from_slice(checksum.as_bytes());
    out
}

/// Parses the marker; `None` when it is not a valid marker.
pub(crate) fn parse_marker(bytes: &[u8]) -> Option<(u64, Hash)> {
    if bytes.len() != SYNCED_LEN
        || bytes[0..8] != SYNCED_MAGIC
        || bytes[8..12] != FORMAT_VERSION.to_le_bytes()
        || bytes[12..16] != [0u8; 4]
        || bytes[56..88] != *blake3::hash(&bytes[0..56]).as_bytes()
    {
        return None;
    }
    let size = u64::from_le_bytes(bytes[16..24].try_into().ok()?);
    let root = Hash::from_slice(&bytes[24..56])?;
    Some((size, root))
}

/// Writes the marker atomically: temporary file, fsync, rename, fsync of the directory.
fn write_marker(dir: &Path, size: u64, root: &Hash) -> Result<(), (PathBuf, io::Error)> {
    let temp = dir.join(SYNCED_TEMP_FILE);
    let target = dir.join(SYNCED_FILE);
    let write = || -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)?;
        file.write_all(&marker_bytes(size, root))?;
        file.sync_all()
    };
    write().map_err(|source| (temp.clone(), source))?;
    fs::rename(&temp, &target).map_err(|source| (target.clone(), source))?;
    sync_directory(dir).map_err(|source| (dir.to_path_buf(), source))
}

/// The size recorded in the `synced` marker of the tree in `dir`, when the marker exists and is
/// valid; a damaged marker says nothing (the tree is then rebuilt). Read before the log is
/// opened: the records it covers were acknowledged, so opening never cuts them (`FORMAT.md`
/// §6.5).
///
/// # Errors
/// The IO error of a failed read (a missing marker is `Ok(None)`).
pub fn synced_size(dir: &Path) -> io::Result<Option<u64>> {
    match fs::read(dir.join(SYNCED_FILE)) {
        Ok(bytes) => Ok(parse_marker(&bytes).map(|(size, _)| size)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// The path of the `synced` marker of the tree in `dir`.
#[must_use]
pub fn marker_path(dir: &Path) -> PathBuf {
    dir.join(SYNCED_FILE)
}

/// The path of the level file `level` of the tree in `dir`.
#[must_use]
pub fn level_file(dir: &Path, level: usize) -> PathBuf {
    level_path(dir, level)
}

/// The largest tree size whose nodes the level files (with `entries[k]` whole entries each) all
/// hold: `n <= entries[0]` and `n >> k <= entries[k]` for every level `k`.
fn consistent_size(entries: &[u64]) -> u64 {
    let mut size = entries.first().copied().unwrap_or(0);
    for (level, &count) in entries.iter().enumerate().skip(1) {
        // `n >> k <= count` holds exactly for `n < (count + 1) << k`.
        let bound = (u128::from(count) + 1) << level;
        if u128::from(size) >= bound {
            size = u64::try_from(bound - 1).expect("bound - 1 is below the previous size");
        }
    }
    size
}

impl TreeStore {
    /// Opens (creating if needed) the tree stored in `dir` (the ledger uses `<ledger>/tree`).
    ///
    /// Keeps only what is trustworthy: the size recorded by the last [`TreeStore::sync`], reduced
    /// further if a level file is shorter than that size implies (a lost or truncated file).
    /// Everything after it is truncated. The caller MUST then re-append the record hashes from
    /// [`TreeStore::size`] on.
    ///
    /// # Errors
    ///
    /// [`TreeOpenError::Io`] when a file operation fails, [`TreeOpenError::BadMarker`] or
    /// [`TreeOpenError::RootMismatch`] when the directory is damaged (delete it and rebuild).
    pub fn open(dir: &Path) -> Result<TreeStore, TreeOpenError> {
        fs::create_dir_all(dir).map_err(open_io(dir))?;
        let marker_path = dir.join(SYNCED_FILE);
        let synced = match fs::read(&marker_path) {
            Ok(bytes) => Some(
                parse_marker(&bytes).ok_or_else(|| TreeOpenError::BadMarker {
                    path: marker_path.clone(),
                })?,
            ),
            Err(error) if error.kind() == io::ErrorKind::NotFound => None,
            Err(error) => return Err(open_io(&marker_path)(error)),
        };
        let (synced_size, synced_root) = synced.unwrap_or((0, merkle::empty_root()));

        let mut levels = Vec::with_capacity(MAX_LEVELS);
        let mut entries = Vec::with_capacity(MAX_LEVELS);
        let mut lengths = Vec::with_capacity(MAX_LEVELS);
        for level in 0..MAX_LEVELS {
            let path = level_path(dir, level);
            match OpenOptions::new().read(true).append(true).open(&path) {
                Ok(file) => {
                    let len = file.metadata().map_err(open_io(&path))?.len();
                    entries.push(len / Hash::LEN as u64);
                    lengths.push(len);
                    levels.push(Some(LevelFile { file, dirty: false }));
                }
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    entries.push(0);
                    lengths.push(0);
                    levels.push(None);
                }
                Err(error) => return Err(open_io(&path)(error)),
            }
        }
        let size = consistent_size(&entries).min(synced_size);
        for (level, slot) in levels.iter().enumerate() {
            if let Some(level_file) = slot {
                let keep = (size >> level) * Hash::LEN as u64;
                if lengths[level] != keep {
                    level_file
                        .file
                        .set_len(keep)
                        .map_err(open_io(&level_path(dir, level)))?;
                }
            }
        }

        let mut store = TreeStore {
            dir: dir.to_path_buf(),
            levels,
            size,
            frontier: [Hash::ZERO; MAX_LEVELS],
            cache: Mutex::new(NodeCache::new()),
            synced_size: size,
            directory_dirty: false,
            failed: false,
            distrusted: false,
        };
        for level in 0..MAX_LEVELS {
            if (size >> level) & 1 == 1 {
                let level_u8 = u8::try_from(level).expect("level below 64");
                let node = store.read_stored(level_u8, (size >> level) - 1);
                store.frontier[level] = node.map_err(open_io(&level_path(dir, level)))?;
            }
        }
        let root = store.root();
        if size == synced_size {
            if root != synced_root {
                return Err(TreeOpenError::RootMismatch { size });
            }
        } else {
            // A level file lost synced entries: record the smaller size so that entries written
            // later, before the next sync, are never mistaken for synced ones.
            write_marker(dir, size, &root)
                .map_err(|(path, source)| TreeOpenError::Io { path, source })?;
        }
        Ok(store)
    }

    /// The number of leaves.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the whole tree, from the in-memory frontier (no IO).
    #[must_use]
    pub fn root(&self) -> Hash {
        let mut root: Option<Hash> = None;
        for level in 0..MAX_LEVELS {
            if (self.size >> level) & 1 == 1 {
                let node = self.frontier[level];
                root = Some(match root {
                    None => node,
                    Some(right) => node_hash(&node, &right),
                });
            }
        }
        root.unwrap_or_else(merkle::empty_root)
    }

    /// The root of the tree of the first `size` leaves, for any `size <= self.size()`.
    ///
    /// # Errors
    ///
    /// [`ProveError::SizeBeyondTree`] when `size > self.size()`, [`ProveError::Read`] when a level
    /// file cannot be read.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProveError> {
        if size == self.size {
            return Ok(self.root());
        }
        merkle::tree_root(self, size)
    }

    /// The inclusion proof of leaf `index` in the tree of size `size`.
    ///
    /// # Errors
    ///
    /// As [`merkle::prove_inclusion`].
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, ProveError> {
        InclusionProof::generate(self, index, size)
    }

    /// The consistency proof from size `old` to size `new`.
    ///
    /// # Errors
    ///
    /// As [`merkle::prove_consistency`].
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<ConsistencyProof, ProveError> {
        ConsistencyProof::generate(self, old, new)
    }

    /// Appends leaves whose data are `record_hashes` (the leaf hashes are computed here), in
    /// order, with one write per touched level file. Not durable until [`TreeStore::sync`].
    ///
    /// # Errors
    ///
    /// [`TreeAppendError::Io`] when a write fails (the store is then failed),
    /// [`TreeAppendError::Failed`] after an earlier failure, [`TreeAppendError::Full`] at
    /// `u64::MAX` leaves.
    pub fn append_leaves(&mut self, record_hashes: &[Hash]) -> Result<(), TreeAppendError> {
        if self.failed {
            return Err(TreeAppendError::Failed);
        }
        if record_hashes.is_empty() {
            return Ok(());
        }
        let mut size = self.size;
        let mut frontier = self.frontier;
        let mut buffers: Vec<Vec<u8>> = Vec::new();
        for record_hash in record_hashes {
            let mut hash = leaf_hash(record_hash);
            let mut level = 0;
            loop {
                if buffers.len() == level {
                    buffers.push(Vec::new());
                }
                buffers[level].extend_from_slice(&hash.0);
                if (size >> level) & 1 == 0 {
                    break;
                }
                hash = node_hash(&frontier[level], &hash);
                level += 1;
            }
            frontier[level] = hash;
            size = size.checked_add(1).ok_or(TreeAppendError::Full)?;
        }
        for (level, buffer) in buffers.iter().enumerate() {
            if let Err(source) = self.write_level(level, buffer) {
                self.failed = true;
                return Err(TreeAppendError::Io {
                    path: level_path(&self.dir, level),
                    source,
                });
            }
        }
        self.size = size;
        self.frontier = frontier;
        Ok(())
    }

    fn write_level(&mut self, level: usize, bytes: &[u8]) -> io::Result<()> {
        if self.levels[level].is_none() {
            let file = OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .open(level_path(&self.dir, level))?;
            self.levels[level] = Some(LevelFile { file, dirty: false });
            self.directory_dirty = true;
        }
        let level_file = self.levels[level]
            .as_mut()
            .expect("level file opened above");
        level_file.dirty = true;
        level_file.file.write_all(bytes)
    }

    /// Makes everything appended so far durable: fsyncs the written level files (and the
    /// directory when files were created), then atomically records the synced size and root.
    /// The tree is a cache, so the ledger MAY sync it rarely (it re-appends the rest on open).
    ///
    /// # Errors
    ///
    /// [`TreeSyncError::Io`] when an fsync or the marker write fails (the store is then failed),
    /// [`TreeSyncError::Failed`] after an earlier failure.
    pub fn sync(&mut self) -> Result<(), TreeSyncError> {
        if self.failed {
            return Err(TreeSyncError::Failed);
        }
        let result = self.sync_inner();
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn sync_inner(&mut self) -> Result<(), TreeSyncError> {
        for (level, slot) in self.levels.iter_mut().enumerate() {
            if let Some(level_file) = slot
                && level_file.dirty
            {
                level_file
                    .file
                    .sync_data()
                    .map_err(sync_io(&level_path(&self.dir, level)))?;
                level_file.dirty = false;
            }
        }
        if self.directory_dirty {
            sync_directory(&self.dir).map_err(sync_io(&self.dir))?;
            self.directory_dirty = false;
        }
        if self.synced_size != self.size && !self.distrusted {
            write_marker(&self.dir, self.size, &self.root())
                .map_err(|(path, source)| TreeSyncError::Io { path, source })?;
            self.synced_size = self.size;
        }
        Ok(())
    }

    /// Stops trusting the stored nodes: a node was found to disagree with a signed root. The
    /// `synced` marker is removed (durably) and never written again by this store, so the next
    /// open rebuilds the whole tree from the record hashes; until then the store keeps
    /// appending (the frontier, and so the current root, is kept in memory).
    ///
    /// # Errors
    /// The IO error of removing the marker or syncing the directory.
    pub fn distrust(&mut self) -> io::Result<()> {
        self.distrusted = true;
        self.lock_cache().clear();
        match fs::remove_file(self.dir.join(SYNCED_FILE)) {
            Ok(()) => sync_directory(&self.dir),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Reads `node(level, index)` from its level file (through the cache).
    fn read_stored(&self, level: u8, index: u64) -> io::Result<Hash> {
        // The lock is not held during the read, so concurrent proofs do not queue behind IO.
        let cached = self.lock_cache().get(level, index);
        if let Some(hash) = cached {
            return Ok(hash);
        }
        let level_file = self.levels[usize::from(level)].as_ref().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "level file missing for a complete subtree",
            )
        })?;
        let mut bytes = [0u8; 32];
        level_file
            .file
            .read_exact_at(&mut bytes, index * Hash::LEN as u64)?;
        let hash = Hash(bytes);
        self.lock_cache().put(level, index, hash);
        Ok(hash)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, NodeCache> {
        // A panic while holding the lock cannot leave a slot half-written (a slot is one
        // assignment), so a poisoned cache is still valid.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl HashReader for TreeStore {
    fn size(&self) -> u64 {
        self.size
    }

    fn node(&self, level: u8, index: u64) -> Result<Hash, NodeReadError> {
        let count = if usize::from(level) < MAX_LEVELS {
            self.size >> level
        } else {
            0
        };
        if index >= count {
            return Err(NodeReadError::OutOfRange {
                level,
                index,
                size: self.size,
            });
        }
        if index == count - 1 && count & 1 == 1 {
            return Ok(self.frontier[usize::from(level)]);
        }
        self.read_stored(level, index)
            .map_err(|source| NodeReadError::Io {
                level,
                index,
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng as _, SeedableRng as _};

    use super::*;
    use crate::merkle::MemoryTree;
    use crate::merkle::tests::record_hashes;

    fn assert_matches(store: &TreeStore, reference: &MemoryTree, seed: u64) {
        let size = store.size();
        assert_eq!(size, reference.size(), "seed {seed}");
        assert_eq!(store.root(), reference.root(), "seed {seed} size {size}");
        for old in 0..=size {
            assert_eq!(
                store.root_at(old).expect("within the tree"),
                reference.root_at(old).expect("within the tree"),
                "seed {seed} size {size} root_at {old}"
            );
        }
        for index in 0..size {
            assert_eq!(
                store.inclusion_proof(index, size).expect("proof exists"),
                reference
                    .inclusion_proof(index, size)
                    .expect("proof exists"),
                "seed {seed} size {size} index {index}"
            );
        }
        for old in 1..=size {
            assert_eq!(
                store.consistency_proof(old, size).expect("proof exists"),
                reference
                    .consistency_proof(old, size)
                    .expect("proof exists"),
                "seed {seed} size {size} old {old}"
            );
        }
    }

    #[test]
    fn matches_the_memory_tree_in_random_batches_and_across_reopen() {
        let seed = 0x7265_7369_6465_6e63;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let dir = tempfile::tempdir().expect("tempdir");
        let data = record_hashes(300);
        let mut reference = MemoryTree::new();
        let mut store = TreeStore::open(dir.path()).expect("opens");
        assert_eq!(store.size(), 0);
        assert_eq!(store.root(), merkle::empty_root());
        let mut next = 0;
        let mut batches = 0;
        while next < data.len() {
            let batch = rng.random_range(1..=24).min(data.len() - next);
            store
                .append_leaves(&data[next..next + batch])
                .expect("appends");
            reference.append_leaves(&data[next..next + batch]);
            next += batch;
            batches += 1;
            assert_matches(&store, &reference, seed);
            if batches % 5 == 0 {
                store.sync().expect("syncs");
                drop(store);
                store = TreeStore::open(dir.path()).expect("reopens");
                assert_matches(&store, &reference, seed);
            }
        }
        store.sync().expect("syncs");
        drop(store);
        let store = TreeStore::open(dir.path()).expect("reopens");
        assert_matches(&store, &reference, seed);
        // Each level file holds exactly size >> level entries.
        for level in 0..=8 {
            let len = fs::metadata(level_path(dir.path(), level))
                .expect("exists")
                .len();
            assert_eq!(len, (300u64 >> level) * 32, "level {level}");
        }
    }

    #[test]
    fn appends_after_the_last_sync_are_dropped_on_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = record_hashes(80);
        let mut store = TreeStore::open(dir.path()).expect("opens");
        store.append_leaves(&data[..50]).expect("appends");
        store.sync().expect("syncs");
        store.append_leaves(&data[50..]).expect("appends");
        assert_eq!(store.size(), 80);
        drop(store);
        let mut store = TreeStore::open(dir.path()).expect("reopens");
        assert_eq!(store.size(), 50);
        assert_eq!(store.root(), MemoryTree::from_leaves(&data[..50]).root());
        store.append_leaves(&data[50..]).expect("appends");
        assert_matches(&store, &MemoryTree::from_leaves(&data), 0);
    }

    #[test]
    fn recovers_from_truncated_level_files() {
        let data = record_hashes(300);
        let reference = MemoryTree::from_leaves(&data);
        // (level truncated, entries kept, bytes of a torn entry, size expected after reopen)
        let cases = [
            (0usize, 250u64, 7u64, 250u64),
            (3, 10, 31, 87),
            (8, 0, 5, 255),
            (1, 0, 0, 1),
        ];
        for (level, kept, torn, expected) in cases {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut store = TreeStore::open(dir.path()).expect("opens");
            store.append_leaves(&data).expect("appends");
            store.sync().expect("syncs");
            drop(store);
            let file = OpenOptions::new()
                .write(true)
                .open(level_path(dir.path(), level))
                .expect("level file exists");
            file.set_len(kept * 32 + torn).expect("truncates");
            drop(file);

            let mut store = TreeStore::open(dir.path()).expect("reopens");
            assert_eq!(store.size(), expected, "level {level}");
            assert_eq!(
                store.root(),
                reference.root_at(expected).expect("root"),
                "level {level}"
            );
            let missing = usize::try_from(expected).expect("small");
            store.append_leaves(&data[missing..]).expect("re-appends");
            assert_matches(&store, &reference, 0);
            store.sync().expect("syncs");
            drop(store);
            let store = TreeStore::open(dir.path()).expect("reopens again");
            assert_eq!(store.size(), 300);
            assert_eq!(store.root(), reference.root());
        }
    }

    #[test]
    fn a_lost_tail_is_never_trusted_after_a_second_crash() {
        // A level file loses synced entries; open records the smaller size, so the entries
        // re-appended later (not yet synced) are not mistaken for synced ones after a crash.
        let data = record_hashes(64);
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = TreeStore::open(dir.path()).expect("opens");
        store.append_leaves(&data).expect("appends");
        store.sync().expect("syncs");
        drop(store);
        let file = OpenOptions::new()
            .write(true)
            .open(level_path(dir.path(), 0))
            .expect("level 0");
        file.set_len(40 * 32).expect("truncates");
        drop(file);
        let mut store = TreeStore::open(dir.path()).expect("reopens");
        assert_eq!(store.size(), 40);
        store.append_leaves(&data[40..]).expect("re-appends");
        drop(store);
        let store = TreeStore::open(dir.path()).expect("reopens");
        assert_eq!(store.size(), 40);
    }

    #[test]
    fn damaged_files_are_refused() {
        let data = record_hashes(300);
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = TreeStore::open(dir.path()).expect("opens");
        store.append_leaves(&data).expect("appends");
        store.sync().expect("syncs");
        drop(store);

        // 300 = 0b1_0010_1100: node(8, 0) is on the frontier, so altering it changes the root.
        let path = level_path(dir.path(), 8);
        let mut bytes = fs::read(&path).expect("reads");
        bytes[3] ^= 0x10;
        fs::write(&path, &bytes).expect("writes");
        assert!(matches!(
            TreeStore::open(dir.path()),
            Err(TreeOpenError::RootMismatch { size: 300 })
        ));
        bytes[3] ^= 0x10;
        fs::write(&path, &bytes).expect("writes");
        assert_eq!(TreeStore::open(dir.path()).expect("opens").size(), 300);

        let marker = dir.path().join(SYNCED_FILE);
        let mut bytes = fs::read(&marker).expect("reads");
        for byte in 0..bytes.len() {
            bytes[byte] ^= 1;
            fs::write(&marker, &bytes).expect("writes");
            assert!(
                matches!(
                    TreeStore::open(dir.path()),
                    Err(TreeOpenError::BadMarker { .. })
                ),
                "byte {byte}"
            );
            bytes[byte] ^= 1;
        }
        fs::write(&marker, &bytes[..40]).expect("writes");
        assert!(matches!(
            TreeStore::open(dir.path()),
            Err(TreeOpenError::BadMarker { .. })
        ));
    }

    #[test]
    fn consistent_size_follows_the_shortest_level() {
        assert_eq!(consistent_size(&[]), 0);
        assert_eq!(consistent_size(&[300, 150, 75, 37, 18, 9, 4, 2, 1]), 300);
        assert_eq!(consistent_size(&[300, 150, 75, 10, 18, 9, 4, 2, 1]), 87);
        assert_eq!(consistent_size(&[300, 150, 75, 37, 18, 9, 4, 2, 0]), 255);
        assert_eq!(consistent_size(&[5, 0]), 1);
        assert_eq!(consistent_size(&[u64::MAX, u64::MAX >> 1]), u64::MAX);
    }

    #[test]
    fn the_node_cache_returns_only_what_was_stored() {
        let mut cache = NodeCache::new();
        let hash = Hash::blake3(b"node");
        assert_eq!(cache.get(3, 17), None);
        cache.put(3, 17, hash);
        assert_eq!(cache.get(3, 17), Some(hash));
        assert_eq!(cache.get(4, 17), None);
        assert_eq!(cache.get(3, 18), None);
        assert!(NodeCache::slot(63, u64::MAX) < CACHE_SLOTS);
        assert_eq!(format!("{cache:?}"), "NodeCache(1/4096 slots)");
    }
}
