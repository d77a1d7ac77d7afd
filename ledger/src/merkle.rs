//! The Merkle tree over all records: RFC 9162 (RFC 6962) with BLAKE3 instead of SHA-256.
//!
//! Why: a court or auditor holding a signed checkpoint (tree size and root) must be able to check,
//! offline and with a few hashes, that one record is in the log (inclusion proof) and that a later
//! checkpoint extends an earlier one without rewriting it (consistency proof). The algorithms are
//! the ones of RFC 9162 §2.1, word for word, so that an independent verifier can be written from
//! the RFC and `FORMAT.md` alone; only the hash function differs.
//!
//! - The leaf data of record `i` is its 32-byte record hash; `leaf_hash = BLAKE3(0x00 ‖ data)`.
//! - An inner node is `BLAKE3(0x01 ‖ left ‖ right)`; the root of the empty tree is `BLAKE3("")`.
//!
//! Proofs are computed from stored **complete subtrees** only (like Go's `sumdb/tlog` and its
//! `HashReader`): [`HashReader::node`]`(k, j)` is the root of the complete subtree over the `2^k`
//! leaves `[j·2^k, (j+1)·2^k)`. The incomplete right edge of a tree of any size is composed from
//! complete subtrees on the fly, so nothing stored ever changes once written. The naming follows
//! `tlog`: [`leaf_hash`]/[`node_hash`] (`RecordHash`/`NodeHash`), [`prove_inclusion`]/
//! [`check_inclusion`] (`ProveRecord`/`CheckRecord`), [`prove_consistency`]/[`check_consistency`]
//! (`ProveTree`/`CheckTree`).
//!
//! Invariant: every function here is pure apart from the reads of the [`HashReader`] it is given;
//! verification functions ([`check_inclusion`], [`check_consistency`]) read nothing and never
//! panic, whatever the input.

use crate::hash::Hash;

/// The byte prepended to leaf data before hashing (RFC 9162 §2.1.1).
pub const LEAF_PREFIX: u8 = 0x00;
/// The byte prepended to two child hashes before hashing (RFC 9162 §2.1.1).
pub const NODE_PREFIX: u8 = 0x01;

/// The most hashes an inclusion proof can have: a tree size is a `u64`, so a path has at most 64
/// steps. Decoders reject longer proofs before verifying them.
pub const MAX_INCLUSION_HASHES: usize = 64;
/// The most hashes a consistency proof can have (64 steps plus the starting hash).
pub const MAX_CONSISTENCY_HASHES: usize = 65;

/// The Merkle leaf hash of a record: `BLAKE3(0x00 ‖ record_hash)`.
#[must_use]
pub fn leaf_hash(record_hash: &Hash) -> Hash {
    // One-shot hashing of a stack buffer: much cheaper than a streaming hasher for 33 bytes.
    let mut input = [0u8; 1 + Hash::LEN];
    input[0] = LEAF_PREFIX;
    input[1..].copy_from_slice(&record_hash.0);
    Hash::blake3(&input)
}

/// The hash of an inner node: `BLAKE3(0x01 ‖ left ‖ right)`.
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut input = [0u8; 1 + 2 * Hash::LEN];
    input[0] = NODE_PREFIX;
    input[1..=Hash::LEN].copy_from_slice(&left.0);
    input[1 + Hash::LEN..].copy_from_slice(&right.0);
    Hash::blake3(&input)
}

/// The root of the empty tree: `BLAKE3("")`.
#[must_use]
pub fn empty_root() -> Hash {
    Hash::blake3(&[])
}

/// Read access to the complete subtrees of a tree, the only thing proofs are computed from.
///
/// Contract: `node(k, j)` MUST return the root of the complete subtree over leaves
/// `[j·2^k, (j+1)·2^k)` whenever `(j+1)·2^k <= size()`, and MUST return an error (never a wrong
/// or made-up hash) otherwise. A node, once readable, MUST NOT change.
pub trait HashReader {
    /// The number of leaves the reader holds.
    fn size(&self) -> u64;

    /// The root of the complete subtree of `2^level` leaves starting at leaf `index << level`.
    ///
    /// # Errors
    ///
    /// [`NodeReadError::OutOfRange`] when that subtree is not complete within [`Self::size`],
    /// [`NodeReadError::Io`] when the storage behind the reader fails.
    fn node(&self, level: u8, index: u64) -> Result<Hash, NodeReadError>;
}

/// Why a [`HashReader`] could not return a node.
#[derive(Debug, thiserror::Error)]
pub enum NodeReadError {
    /// The subtree is not complete in the tree the reader holds. A proof function only asks for
    /// complete subtrees of sizes it has checked, so this means a bug or a reader that lost data;
    /// handled as an internal error (500), never as bad input.
    #[error("node at level {level} index {index} is not complete in a tree of size {size}")]
    OutOfRange {
        /// The level asked for.
        level: u8,
        /// The index asked for.
        index: u64,
        /// The reader's tree size.
        size: u64,
    },
    /// Reading stored hashes failed. Handled as a storage failure (500); the stored tree is a
    /// cache and can be rebuilt from the record hashes.
    #[error("reading the node at level {level} index {index} failed")]
    Io {
        /// The level asked for.
        level: u8,
        /// The index asked for.
        index: u64,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
}

/// Why a root or proof could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The leaf index is not below the tree size (RFC 9162: no proof exists). Handled as bad
    /// input (400 or 404, the record is not in that tree).
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size asked for.
        size: u64,
    },
    /// The tree size asked for is larger than the tree the reader holds. Handled as bad input
    /// (400 or 404, that tree does not exist yet).
    #[error("tree size {size} is larger than the stored tree of size {tree_size}")]
    SizeBeyondTree {
        /// The tree size asked for.
        size: u64,
        /// The size of the stored tree.
        tree_size: u64,
    },
    /// A consistency proof from the empty tree was asked for; RFC 9162 leaves it undefined.
    /// Handled as bad input (400).
    #[error("a consistency proof from the empty tree is undefined")]
    EmptyOldTree,
    /// A consistency proof from a larger to a smaller tree was asked for. Handled as bad input
    /// (400).
    #[error("old tree size {old} is larger than new tree size {new}")]
    OldSizeTooLarge {
        /// The old tree size.
        old: u64,
        /// The new tree size.
        new: u64,
    },
    /// The reader failed. Handled as a storage failure (500).
    #[error("reading stored tree hashes failed")]
    Read(#[from] NodeReadError),
}

/// Why a proof did not verify.
///
/// Every variant means "do not trust the claim". They are distinct only so that a report can say
/// what was wrong; a verifier handles all of them the same way (reject, 422 on an API).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The leaf index is not below the tree size, so no inclusion proof can exist.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// The old tree size of a consistency proof is zero (undefined in RFC 9162).
    #[error("a consistency proof from the empty tree is undefined")]
    EmptyOldTree,
    /// The old tree size of a consistency proof is larger than the new one.
    #[error("old tree size {old} is larger than new tree size {new}")]
    OldSizeTooLarge {
        /// The claimed old size.
        old: u64,
        /// The claimed new size.
        new: u64,
    },
    /// The proof has more hashes than the sizes allow.
    #[error("the proof has too many hashes")]
    PathTooLong,
    /// The proof has fewer hashes than the sizes require (including an empty consistency proof
    /// between different sizes).
    #[error("the proof has too few hashes")]
    PathTooShort,
    /// A consistency proof between equal sizes must be empty.
    #[error("a consistency proof between equal tree sizes must be empty")]
    UnexpectedHashes,
    /// The root computed from an inclusion proof differs from the claimed root.
    #[error("the computed root does not match the tree root")]
    RootMismatch,
    /// The old root computed from a consistency proof differs from the claimed old root.
    #[error("the computed old root does not match the old tree root")]
    OldRootMismatch,
    /// The new root computed from a consistency proof differs from the claimed new root.
    #[error("the computed new root does not match the new tree root")]
    NewRootMismatch,
}

/// The largest power of two strictly less than `n`. Callers guarantee `n >= 2`.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2, "split point of a tree with fewer than two leaves");
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The level of a complete subtree of `len` leaves (`len` is a power of two).
fn level_of(len: u64) -> u8 {
    debug_assert!(
        len.is_power_of_two(),
        "subtree length {len} is not a power of two"
    );
    // A u64 has at most 63 trailing zeros in a nonzero value, so this always fits.
    u8::try_from(len.trailing_zeros()).expect("trailing zeros of a u64 fit in u8")
}

/// `MTH(D[start:end])` from complete subtrees.
///
/// Precondition (guaranteed by the RFC recursion that calls it): `start < end` and `start` is a
/// multiple of the smallest power of two that is at least `end - start`. Then the range splits
/// into complete, aligned subtrees.
fn range_hash<R: HashReader + ?Sized>(
    reader: &R,
    start: u64,
    end: u64,
) -> Result<Hash, NodeReadError> {
    let len = end - start;
    if len.is_power_of_two() {
        debug_assert_eq!(start % len, 0, "unaligned complete subtree");
        let level = level_of(len);
        return reader.node(level, start >> level);
    }
    let k = split_point(len);
    debug_assert_eq!(start % k, 0, "unaligned left subtree");
    let level = level_of(k);
    let left = reader.node(level, start >> level)?;
    let right = range_hash(reader, start + k, end)?;
    Ok(node_hash(&left, &right))
}

/// RFC 9162 `PATH(m, D[start:end])` with `m` an absolute leaf index, appended to `out` in RFC
/// order (from the leaf up).
fn path<R: HashReader + ?Sized>(
    reader: &R,
    m: u64,
    start: u64,
    end: u64,
    out: &mut Vec<Hash>,
) -> Result<(), NodeReadError> {
    if end - start == 1 {
        return Ok(());
    }
    let k = split_point(end - start);
    if m < start + k {
        path(reader, m, start, start + k, out)?;
        out.push(range_hash(reader, start + k, end)?);
    } else {
        path(reader, m, start + k, end, out)?;
        out.push(range_hash(reader, start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 `SUBPROOF(m, D[start:end], b)` with `old_end = start + m` absolute.
fn subproof<R: HashReader + ?Sized>(
    reader: &R,
    old_end: u64,
    start: u64,
    end: u64,
    start_is_old_root: bool,
    out: &mut Vec<Hash>,
) -> Result<(), NodeReadError> {
    if old_end == end {
        if !start_is_old_root {
            out.push(range_hash(reader, start, end)?);
        }
        return Ok(());
    }
    let k = split_point(end - start);
    if old_end - start <= k {
        subproof(reader, old_end, start, start + k, start_is_old_root, out)?;
        out.push(range_hash(reader, start + k, end)?);
    } else {
        subproof(reader, old_end, start + k, end, false, out)?;
        out.push(range_hash(reader, start, start + k)?);
    }
    Ok(())
}

/// The root of the tree of the first `size` leaves (`MTH(D[0:size])`).
///
/// # Errors
///
/// [`ProveError::SizeBeyondTree`] when `size > reader.size()`, [`ProveError::Read`] when the
/// reader fails.
pub fn tree_root<R: HashReader + ?Sized>(reader: &R, size: u64) -> Result<Hash, ProveError> {
    check_size(reader, size)?;
    if size == 0 {
        return Ok(empty_root());
    }
    Ok(range_hash(reader, 0, size)?)
}

/// The inclusion proof of leaf `index` in the tree of size `size` (RFC 9162 §2.1.3.1), hashes in
/// RFC order.
///
/// # Errors
///
/// [`ProveError::IndexOutOfRange`] when `index >= size`, [`ProveError::SizeBeyondTree`] when
/// `size > reader.size()`, [`ProveError::Read`] when the reader fails.
pub fn prove_inclusion<R: HashReader + ?Sized>(
    reader: &R,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProveError> {
    if index >= size {
        return Err(ProveError::IndexOutOfRange { index, size });
    }
    check_size(reader, size)?;
    let mut out = Vec::with_capacity(64 - size.leading_zeros() as usize);
    path(reader, index, 0, size, &mut out)?;
    Ok(out)
}

/// The consistency proof from the tree of size `old` to the tree of size `new` (RFC 9162
/// §2.1.4.1), hashes in RFC order. Equal sizes give an empty proof.
///
/// # Errors
///
/// [`ProveError::EmptyOldTree`] when `old == 0`, [`ProveError::OldSizeTooLarge`] when
/// `old > new`, [`ProveError::SizeBeyondTree`] when `new > reader.size()`, [`ProveError::Read`]
/// when the reader fails.
pub fn prove_consistency<R: HashReader + ?Sized>(
    reader: &R,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, ProveError> {
    if old == 0 {
        return Err(ProveError::EmptyOldTree);
    }
    if old > new {
        return Err(ProveError::OldSizeTooLarge { old, new });
    }
    check_size(reader, new)?;
    let mut out = Vec::with_capacity(65 - new.leading_zeros() as usize);
    if old < new {
        subproof(reader, old, 0, new, true, &mut out)?;
    }
    Ok(out)
}

fn check_size<R: HashReader + ?Sized>(reader: &R, size: u64) -> Result<(), ProveError> {
    let tree_size = reader.size();
    if size > tree_size {
        return Err(ProveError::SizeBeyondTree { size, tree_size });
    }
    Ok(())
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2): that `leaf` (a Merkle leaf hash, see
/// [`leaf_hash`]) is leaf `index` of the tree of size `size` whose root is `root`.
///
/// # Errors
///
/// A [`CheckError`] saying why the proof does not hold.
pub fn check_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), CheckError> {
    if index >= size {
        return Err(CheckError::IndexOutOfRange { index, size });
    }
    if proof.len() > MAX_INCLUSION_HASHES {
        return Err(CheckError::PathTooLong);
    }
    let mut f_n = index;
    let mut s_n = size - 1;
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return Err(CheckError::PathTooLong);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(CheckError::PathTooShort);
    }
    if r != *root {
        return Err(CheckError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof (RFC 9162 §2.1.4.2): that the tree of size `old` with root
/// `old_root` is a prefix of the tree of size `new` with root `new_root`. For `old == new` the
/// proof must be empty and the roots equal.
///
/// # Errors
///
/// A [`CheckError`] saying why the proof does not hold.
pub fn check_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), CheckError> {
    if old == 0 {
        return Err(CheckError::EmptyOldTree);
    }
    if old > new {
        return Err(CheckError::OldSizeTooLarge { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(CheckError::UnexpectedHashes);
        }
        if old_root != new_root {
            return Err(CheckError::NewRootMismatch);
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(CheckError::PathTooShort);
    }
    if proof.len() > MAX_CONSISTENCY_HASHES {
        return Err(CheckError::PathTooLong);
    }
    // Step 2: when the old size is a power of two, the old root itself starts the path.
    let (first, rest) = if old.is_power_of_two() {
        (*old_root, proof)
    } else {
        (proof[0], &proof[1..])
    };
    let mut f_n = old - 1;
    let mut s_n = new - 1;
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let mut f_r = first;
    let mut s_r = first;
    for c in rest {
        if s_n == 0 {
            return Err(CheckError::PathTooLong);
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(CheckError::PathTooShort);
    }
    if f_r != *old_root {
        return Err(CheckError::OldRootMismatch);
    }
    if s_r != *new_root {
        return Err(CheckError::NewRootMismatch);
    }
    Ok(())
}

/// A Merkle tree held entirely in memory: every complete subtree of every level.
///
/// For tests, for verifiers that rebuild a tree from record hashes, and as the reference the
/// on-disk [`crate::tree_store::TreeStore`] is checked against. Memory is about 64 bytes per leaf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    /// `levels[k][j]` is `node(k, j)`; `levels[0]` holds the leaf hashes.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// The empty tree.
    #[must_use]
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// The tree whose leaf data are `record_hashes`, in order.
    #[must_use]
    pub fn from_leaves(record_hashes: &[Hash]) -> MemoryTree {
        let mut tree = MemoryTree::new();
        tree.append_leaves(record_hashes);
        tree
    }

    /// Appends one leaf whose data is `record_hash` (the leaf hash is computed here).
    pub fn push(&mut self, record_hash: &Hash) {
        let mut hash = leaf_hash(record_hash);
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(hash);
            let len = row.len();
            if len % 2 == 1 {
                break;
            }
            hash = node_hash(&row[len - 2], &row[len - 1]);
            level += 1;
        }
    }

    /// Appends leaves whose data are `record_hashes`, in order.
    pub fn append_leaves(&mut self, record_hashes: &[Hash]) {
        for record_hash in record_hashes {
            self.push(record_hash);
        }
    }

    /// The number of leaves.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// The root of the whole tree.
    #[must_use]
    pub fn root(&self) -> Hash {
        tree_root(self, self.size()).expect("a memory tree holds every complete subtree it reports")
    }

    /// The root of the tree of the first `size` leaves.
    ///
    /// # Errors
    ///
    /// [`ProveError::SizeBeyondTree`] when `size` exceeds [`Self::size`].
    pub fn root_at(&self, size: u64) -> Result<Hash, ProveError> {
        tree_root(self, size)
    }
}

impl HashReader for MemoryTree {
    fn size(&self) -> u64 {
        MemoryTree::size(self)
    }

    fn node(&self, level: u8, index: u64) -> Result<Hash, NodeReadError> {
        let out_of_range = || NodeReadError::OutOfRange {
            level,
            index,
            size: self.size(),
        };
        let row = self
            .levels
            .get(usize::from(level))
            .ok_or_else(out_of_range)?;
        let slot = usize::try_from(index).map_err(|_| out_of_range())?;
        row.get(slot).copied().ok_or_else(out_of_range)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `MTH(D)` written straight from RFC 9162 §2.1.1 over the leaf data (record hashes).
    pub(crate) fn reference_root(data: &[Hash]) -> Hash {
        match data.len() {
            0 => Hash::blake3(b""),
            1 => {
                let mut input = vec![0x00];
                input.extend_from_slice(&data[0].0);
                Hash::blake3(&input)
            }
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                let mut input = vec![0x01];
                input.extend_from_slice(&reference_root(&data[..k]).0);
                input.extend_from_slice(&reference_root(&data[k..]).0);
                Hash::blake3(&input)
            }
        }
    }

    fn reference_split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// `PATH(m, D[n])` from RFC 9162 §2.1.3.1, straight from the definition.
    fn reference_path(m: usize, data: &[Hash]) -> Vec<Hash> {
        if data.len() <= 1 {
            return Vec::new();
        }
        let k = reference_split(data.len());
        if m < k {
            let mut out = reference_path(m, &data[..k]);
            out.push(reference_root(&data[k..]));
            out
        } else {
            let mut out = reference_path(m - k, &data[k..]);
            out.push(reference_root(&data[..k]));
            out
        }
    }

    /// `SUBPROOF(m, D[n], b)` from RFC 9162 §2.1.4.1, straight from the definition.
    fn reference_subproof(m: usize, data: &[Hash], b: bool) -> Vec<Hash> {
        let n = data.len();
        if m == n {
            return if b {
                Vec::new()
            } else {
                vec![reference_root(data)]
            };
        }
        let k = reference_split(n);
        if m <= k {
            let mut out = reference_subproof(m, &data[..k], b);
            out.push(reference_root(&data[k..]));
            out
        } else {
            let mut out = reference_subproof(m - k, &data[k..], false);
            out.push(reference_root(&data[..k]));
            out
        }
    }

    pub(crate) fn record_hashes(count: usize) -> Vec<Hash> {
        (0..count)
            .map(|i| Hash::blake3(format!("record {i}").as_bytes()))
            .collect()
    }

    /// The largest tree size whose proofs get every one of the 256 bits of every hash flipped in
    /// the default run. Larger sizes get eight flips per hash, one in each 4-byte word, with the
    /// byte and bit positions rotating with `salt` so that every position is exercised across
    /// the suite. With the environment variable `RESIDENCE_EXHAUSTIVE_MERKLE` set, every bit is
    /// flipped for every size (about 30 s of CPU instead of 2).
    const ALL_BITS_UP_TO_SIZE: usize = 16;

    fn exhaustive() -> bool {
        std::env::var_os("RESIDENCE_EXHAUSTIVE_MERKLE").is_some()
    }

    fn bits_to_flip(size: usize, salt: usize) -> Vec<usize> {
        if size <= ALL_BITS_UP_TO_SIZE || exhaustive() {
            (0..256).collect()
        } else {
            (0..8)
                .map(|word| (word * 4 + (salt + word) % 4) * 8 + (salt + 3 * word) % 8)
                .collect()
        }
    }

    fn flip(hash: &Hash, bit: usize) -> Hash {
        let mut out = *hash;
        out.0[bit / 8] ^= 1 << (bit % 8);
        out
    }

    #[test]
    fn primitives_match_their_definitions() {
        let data = Hash::blake3(b"record 0");
        let mut leaf_input = vec![0x00];
        leaf_input.extend_from_slice(&data.0);
        assert_eq!(leaf_hash(&data), Hash::blake3(&leaf_input));
        let other = Hash::blake3(b"record 1");
        let mut node_input = vec![0x01];
        node_input.extend_from_slice(&data.0);
        node_input.extend_from_slice(&other.0);
        assert_eq!(node_hash(&data, &other), Hash::blake3(&node_input));
        assert_eq!(empty_root(), Hash::blake3(b""));
        assert_eq!(MemoryTree::new().root(), empty_root());
    }

    #[test]
    fn split_point_is_the_largest_power_of_two_below() {
        for n in 2..=1000u64 {
            assert_eq!(
                split_point(n) as usize,
                reference_split(n as usize),
                "n = {n}"
            );
        }
        assert_eq!(split_point(u64::MAX), 1 << 63);
        assert_eq!(split_point((1 << 63) + 1), 1 << 63);
        assert_eq!(split_point(1 << 63), 1 << 62);
    }

    #[test]
    fn roots_match_the_reference_for_every_size() {
        let data = record_hashes(130);
        let tree = MemoryTree::from_leaves(&data);
        for size in 0..=data.len() {
            let expected = reference_root(&data[..size]);
            assert_eq!(
                tree.root_at(size as u64).expect("within the tree"),
                expected
            );
            assert_eq!(
                MemoryTree::from_leaves(&data[..size]).root(),
                expected,
                "size {size}"
            );
        }
    }

    /// Checks every inclusion proof of every tree size in `sizes`, flipping every bit of every
    /// proof hash, of the leaf, of the root, of the index and of the size.
    fn check_inclusion_sizes(sizes: std::ops::RangeInclusive<usize>) {
        // Leaves beyond the largest size give the true roots of sizes a flipped bit can reach.
        let data = record_hashes(256);
        let tree = MemoryTree::from_leaves(&data);
        let roots: Vec<Hash> = (0..=256).map(|n| tree.root_at(n).expect("root")).collect();
        for n in sizes {
            let root = reference_root(&data[..n]);
            let size = n as u64;
            for i in 0..n {
                let index = i as u64;
                let proof = prove_inclusion(&tree, index, size).expect("proof exists");
                assert_eq!(proof, reference_path(i, &data[..n]), "index {i} size {n}");
                let leaf = leaf_hash(&data[i]);
                assert_eq!(check_inclusion(&leaf, index, size, &proof, &root), Ok(()));
                let bits = bits_to_flip(n, i);
                let mut bad = proof.clone();
                for j in 0..proof.len() {
                    for &bit in &bits {
                        bad[j] = flip(&proof[j], bit);
                        assert!(
                            check_inclusion(&leaf, index, size, &bad, &root).is_err(),
                            "flipped bit {bit} of hash {j} verified: index {i} size {n}"
                        );
                    }
                    bad[j] = proof[j];
                }
                for &bit in &bits {
                    assert!(
                        check_inclusion(&flip(&leaf, bit), index, size, &proof, &root).is_err()
                    );
                    assert!(
                        check_inclusion(&leaf, index, size, &proof, &flip(&root, bit)).is_err()
                    );
                }
                for bit in 0..64 {
                    let bad_index = index ^ (1 << bit);
                    assert!(check_inclusion(&leaf, bad_index, size, &proof, &root).is_err());
                    // A tree size is only meaningful with its root (a checkpoint signs both), so
                    // a flipped size is checked against the true root of that size where it
                    // exists, and against the original root beyond.
                    let bad_size = size ^ (1 << bit);
                    let bad_root = usize::try_from(bad_size)
                        .ok()
                        .and_then(|s| roots.get(s))
                        .unwrap_or(&root);
                    assert!(
                        check_inclusion(&leaf, index, bad_size, &proof, bad_root).is_err(),
                        "size with bit {bit} flipped verified: index {i} size {n}"
                    );
                }
                // A proof with a hash removed or added never verifies either.
                if !proof.is_empty() {
                    let short = &proof[..proof.len() - 1];
                    assert!(check_inclusion(&leaf, index, size, short, &root).is_err());
                }
                let mut long = proof.clone();
                long.push(root);
                assert!(check_inclusion(&leaf, index, size, &long, &root).is_err());
            }
        }
    }

    #[test]
    fn inclusion_proofs_for_sizes_1_to_50() {
        check_inclusion_sizes(1..=50);
    }

    #[test]
    fn inclusion_proofs_for_sizes_51_to_80() {
        check_inclusion_sizes(51..=80);
    }

    #[test]
    fn inclusion_proofs_for_sizes_81_to_100() {
        check_inclusion_sizes(81..=100);
    }

    #[test]
    fn consistency_proofs_for_every_pair_up_to_100() {
        let data = record_hashes(256);
        let tree = MemoryTree::from_leaves(&data);
        let roots: Vec<Hash> = (0..=256).map(|n| reference_root(&data[..n])).collect();
        for n in 1..=100usize {
            for m in 1..=n {
                let (old, new) = (m as u64, n as u64);
                let proof = prove_consistency(&tree, old, new).expect("proof exists");
                let expected = if m == n {
                    Vec::new()
                } else {
                    reference_subproof(m, &data[..n], true)
                };
                assert_eq!(proof, expected, "m {m} n {n}");
                assert_eq!(
                    check_consistency(old, new, &proof, &roots[m], &roots[n]),
                    Ok(())
                );
                // Wrong roots never verify.
                if m != n {
                    assert!(check_consistency(old, new, &proof, &roots[n], &roots[n]).is_err());
                }
                assert!(check_consistency(old, new, &proof, &roots[m], &roots[m - 1]).is_err());
                // Sizes up to 40 get the same flips as inclusion proofs; beyond, one bit per
                // hash (rotating) keeps the run short, unless the exhaustive run is asked for.
                let bits = if n <= 40 || exhaustive() {
                    bits_to_flip(n, m)
                } else {
                    vec![(m * 37 + n * 11) % 256]
                };
                let mut bad = proof.clone();
                for j in 0..proof.len() {
                    for &bit in &bits {
                        bad[j] = flip(&proof[j], bit);
                        assert!(
                            check_consistency(old, new, &bad, &roots[m], &roots[n]).is_err(),
                            "flipped bit {bit} of hash {j} verified: m {m} n {n}"
                        );
                    }
                    bad[j] = proof[j];
                }
                for &bit in &bits {
                    let bad_old = flip(&roots[m], bit);
                    let bad_new = flip(&roots[n], bit);
                    assert!(check_consistency(old, new, &proof, &bad_old, &roots[n]).is_err());
                    assert!(check_consistency(old, new, &proof, &roots[m], &bad_new).is_err());
                }
                for bit in 0..64 {
                    // As for inclusion proofs: a flipped size is checked against the true root
                    // of that size where it exists.
                    let root_of = |size: u64, fallback: &Hash| {
                        usize::try_from(size)
                            .ok()
                            .and_then(|s| roots.get(s))
                            .copied()
                            .unwrap_or(*fallback)
                    };
                    let bad_old = old ^ (1 << bit);
                    let bad_new = new ^ (1 << bit);
                    let bad_old_root = root_of(bad_old, &roots[m]);
                    let bad_new_root = root_of(bad_new, &roots[n]);
                    assert!(
                        check_consistency(bad_old, new, &proof, &bad_old_root, &roots[n]).is_err(),
                        "old size with bit {bit} flipped verified: m {m} n {n}"
                    );
                    assert!(
                        check_consistency(old, bad_new, &proof, &roots[m], &bad_new_root).is_err(),
                        "new size with bit {bit} flipped verified: m {m} n {n}"
                    );
                }
                if !proof.is_empty() {
                    let short = &proof[..proof.len() - 1];
                    assert!(check_consistency(old, new, short, &roots[m], &roots[n]).is_err());
                }
                let mut long = proof.clone();
                long.push(roots[n]);
                assert!(check_consistency(old, new, &long, &roots[m], &roots[n]).is_err());
            }
        }
    }

    #[test]
    fn edge_cases_are_typed_errors() {
        let data = record_hashes(10);
        let tree = MemoryTree::from_leaves(&data);
        assert!(matches!(
            prove_inclusion(&tree, 10, 10),
            Err(ProveError::IndexOutOfRange {
                index: 10,
                size: 10
            })
        ));
        assert!(matches!(
            prove_inclusion(&tree, 0, 0),
            Err(ProveError::IndexOutOfRange { index: 0, size: 0 })
        ));
        assert!(matches!(
            prove_inclusion(&tree, 3, 11),
            Err(ProveError::SizeBeyondTree {
                size: 11,
                tree_size: 10
            })
        ));
        assert!(matches!(
            prove_consistency(&tree, 0, 5),
            Err(ProveError::EmptyOldTree)
        ));
        assert!(matches!(
            prove_consistency(&tree, 6, 5),
            Err(ProveError::OldSizeTooLarge { old: 6, new: 5 })
        ));
        assert!(matches!(
            prove_consistency(&tree, 5, 11),
            Err(ProveError::SizeBeyondTree {
                size: 11,
                tree_size: 10
            })
        ));
        assert_eq!(
            prove_consistency(&tree, 7, 7).expect("defined"),
            Vec::<Hash>::new()
        );
        let root = tree.root();
        let leaf = leaf_hash(&data[0]);
        assert_eq!(
            check_inclusion(&leaf, 10, 10, &[], &root),
            Err(CheckError::IndexOutOfRange {
                index: 10,
                size: 10
            })
        );
        assert_eq!(
            check_consistency(0, 10, &[], &root, &root),
            Err(CheckError::EmptyOldTree)
        );
        assert_eq!(
            check_consistency(11, 10, &[], &root, &root),
            Err(CheckError::OldSizeTooLarge { old: 11, new: 10 })
        );
        assert_eq!(check_consistency(10, 10, &[], &root, &root), Ok(()));
        assert_eq!(
            check_consistency(10, 10, &[root], &root, &root),
            Err(CheckError::UnexpectedHashes)
        );
        assert_eq!(
            check_consistency(4, 10, &[], &root, &root),
            Err(CheckError::PathTooShort)
        );
        // Oversized proofs are refused before any hashing.
        let huge = vec![root; MAX_CONSISTENCY_HASHES + 1];
        assert_eq!(
            check_consistency(4, 10, &huge, &root, &root),
            Err(CheckError::PathTooLong)
        );
        assert_eq!(
            check_inclusion(&leaf, 0, 10, &huge[..MAX_INCLUSION_HASHES + 1], &root),
            Err(CheckError::PathTooLong)
        );
        assert!(matches!(
            tree.node(0, 10),
            Err(NodeReadError::OutOfRange {
                level: 0,
                index: 10,
                size: 10
            })
        ));
    }

    #[test]
    fn proofs_for_huge_sizes_have_the_documented_maximum_length() {
        // A reader that claims every subtree exists lets us exercise sizes near u64::MAX without
        // storing anything: the proof shapes depend only on the sizes.
        struct Everything;
        impl HashReader for Everything {
            fn size(&self) -> u64 {
                u64::MAX
            }
            fn node(&self, level: u8, index: u64) -> Result<Hash, NodeReadError> {
                let mut input = vec![level];
                input.extend_from_slice(&index.to_le_bytes());
                Ok(Hash::blake3(&input))
            }
        }
        let inclusion = prove_inclusion(&Everything, 0, u64::MAX).expect("proof exists");
        assert_eq!(inclusion.len(), MAX_INCLUSION_HASHES);
        // The stored nodes of this reader are not hashes of their children, so the roots cannot
        // match; reaching the root comparison shows that the proof has exactly the right length.
        let leaf = Everything.node(0, 0).expect("node");
        let root = tree_root(&Everything, u64::MAX).expect("root");
        assert_eq!(
            check_inclusion(&leaf, 0, u64::MAX, &inclusion, &root),
            Err(CheckError::RootMismatch)
        );
        for old in [
            1,
            2,
            3,
            5,
            1 << 62,
            (1 << 62) + 1,
            (1 << 63) + 1,
            u64::MAX - 1,
        ] {
            let consistency = prove_consistency(&Everything, old, u64::MAX).expect("proof exists");
            assert!(consistency.len() <= MAX_CONSISTENCY_HASHES, "old {old}");
            let old_root = tree_root(&Everything, old).expect("root");
            let outcome = check_consistency(old, u64::MAX, &consistency, &old_root, &root);
            assert!(
                matches!(
                    outcome,
                    Ok(()) | Err(CheckError::OldRootMismatch | CheckError::NewRootMismatch)
                ),
                "old {old}: {outcome:?}"
            );
        }
    }
}
