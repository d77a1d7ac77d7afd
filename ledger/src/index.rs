//! The in-memory indexes the sequencer decides with: stored tags → their last position, and
//! event ids → candidate positions.
//!
//! Why they exist: back-links, conditions and idempotency must be decided without scanning
//! the log. They are derived from the log (rebuilt on open, or loaded from the index cache
//! and brought up to the log, see `crate::ledger`), and nothing is ever decided from them
//! that the log could contradict.
//!
//! Memory is the constraint (the ledger's budget is ~100 bytes per record at national scale,
//! hundreds of millions of records), so both indexes are small, fixed-size tables:
//!
//! - [`TagIndex`] keeps, per distinct stored tag, **only** its 128-bit keyed fingerprint, its
//!   last position and its record count (24 bytes in a dense array, plus an 8-byte slot of an
//!   open-addressing table at most 80% full). The **position lists live on disk**: every record
//!   stores, per tag, the back-link to the previous record with that tag (FORMAT.md §2.1), so
//!   the list of a tag is the chain of back-links from its last position, walked with one read
//!   per record (`crate::ledger` does the walking; reads by tag read those records anyway).
//!   For tags with many records, every [`SAMPLE_EVERY`]-th position is kept as well, so a walk
//!   starting anywhere in a long list reads at most [`SAMPLE_EVERY`] records it does not return.
//! - [`IdIndex`] is an open-addressing table of 8-byte slots (24 bits of an event id's keyed
//!   fingerprint and a 40-bit position, at most 80% full) plus 4 bytes per position (32 more
//!   fingerprint bits, to regrow the table and to confirm candidates). A hit is only a
//!   candidate: the caller compares the full id against the stored record, so collisions cost
//!   a read, never a wrong answer. Its fingerprint is the start of the payload salt, which is
//!   already keyed by the ledger secret and computed for every append.
//!
//! Tag identity is the fingerprint: the first 16 bytes of `BLAKE3_KEYED(k, stored tag)`, with a
//! key derived from the ledger secret ([`FingerprintKey`]), so outsiders cannot craft collisions
//! and a cache written by one run is valid for the next. Two distinct tags share a fingerprint
//! with probability about n²/2¹²⁹ (below 2⁻⁶⁰ for 2³⁴ distinct tags); walks by tag read the
//! records and check the tag text, and `residence verify` checks every back-link from the text.
//!
//! National-scale bound: with `t` distinct tags and `n` records, the indexes take about
//! `t · (24 + 8/load) + n · (4 + 8/load)` bytes, with the table load between 0.4 and 0.8
//! (≈ 35 · t + 17 · n on average). 100 million people and 30 million households (≈ 200 million
//! tags with dwellings) over 500 million records is ≈ 16 GB: one node's memory. Beyond that,
//! one ledger per province (`ARCHITECTURE.md`). Positions are 40 bits (≈ 1.1 · 10¹² records).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

use crate::record::Position;

/// Every this-many-th position of a tag is kept in memory (see the module docs).
pub const SAMPLE_EVERY: u64 = 32;

/// Positions the indexes can address: below 2⁴⁰.
pub const POSITION_LIMIT: u64 = 1 << 40;

const POSITION_MASK: u64 = POSITION_LIMIT - 1;

/// Domain separation of the index fingerprint key.
const FINGERPRINT_KEY_CONTEXT: &str = "residence-ledger v1 index fingerprint key";

/// A hasher for keys that are already uniformly distributed 64-bit fingerprints.
#[derive(Debug, Default, Clone, Copy)]
pub struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only integer writes are used by the maps below; fold anything else in, to stay correct.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u32(&mut self, value: u32) {
        // Tag ids are dense small numbers: spread them (Fibonacci hashing).
        self.0 = u64::from(value).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type FingerprintMap<K, V> = HashMap<K, V, BuildHasherDefault<FingerprintHasher>>;

/// The key of the index fingerprints, derived from the ledger secret.
#[derive(Clone)]
pub struct FingerprintKey([u8; 32]);

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(..)")
    }
}

impl FingerprintKey {
    /// The key of a ledger with this secret:
    /// `BLAKE3_DERIVE_KEY("residence-ledger v1 index fingerprint key", secret)`.
    #[must_use]
    pub fn derive(secret: &[u8; 32]) -> FingerprintKey {
        FingerprintKey(blake3::derive_key(FINGERPRINT_KEY_CONTEXT, secret))
    }

    /// The fingerprint of a stored tag.
    #[must_use]
    pub fn tag(&self, stored: &str) -> TagFingerprint {
        let hash = blake3::keyed_hash(&self.0, stored.as_bytes());
        let bytes = hash.as_bytes();
        TagFingerprint([le_u64(&bytes[0..8]), le_u64(&bytes[8..16])])
    }

    /// A check value of the key itself (stored in the index cache, so that a cache made under
    /// another secret is never used).
    #[must_use]
    pub fn check(&self) -> [u8; 32] {
        *blake3::keyed_hash(&self.0, b"index cache key check").as_bytes()
    }
}

fn le_u64(bytes: &[u8]) -> u64 {
    let mut array = [0_u8; 8];
    array.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(array)
}

/// The fingerprint of an event id for [`IdIndex`]: the first 8 bytes of its payload salt
/// (`BLAKE3_KEYED(salt_key, event_id)`, already computed for every append), so it costs
/// nothing on the append path and is keyed by the ledger secret.
#[must_use]
pub fn id_fingerprint(salt: &[u8; 32]) -> u64 {
    le_u64(&salt[..8])
}

/// A stored tag's 128-bit keyed fingerprint: its identity in [`TagIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagFingerprint(pub [u64; 2]);

/// A stored tag, interned: an index into [`TagIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagId(pub u32);

/// One interned tag: 24 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TagEntry {
    pub(crate) fingerprint: [u64; 2],
    /// Low 40 bits: last position + 1 (0: none yet); high 24 bits: the record count modulo
    /// 2²⁴ (a multiple of [`SAMPLE_EVERY`], so sampling stays exact across the wrap).
    pub(crate) state: u64,
}

impl TagEntry {
    fn last(self) -> Option<u64> {
        (self.state & POSITION_MASK).checked_sub(1)
    }
}

/// What a walk of one tag's chain after some position needs, copied out of the index.
///
/// The tag's records are cut into blocks of [`SAMPLE_EVERY`] by the sampled positions; a walk
/// after `after` starts at the end of the block holding the first record after `after`, and
/// follows back-links down to `after`, then takes the next block (from its end down to the
/// previous end), and so on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagChain {
    /// The tag's id (`None`: no record carries it).
    pub id: Option<TagId>,
    /// The ends of the blocks to walk, ascending: sampled positions after `after`, then the
    /// tag's last position when every block up to it was included.
    pub ends: Vec<u64>,
}

/// Stored tags → last position (and sampled positions), by fingerprint.
#[derive(Debug, Default)]
pub struct TagIndex {
    entries: Vec<TagEntry>,
    /// Open addressing, linear probing; 0 is empty, else `(fingerprint[0] >> 32) << 32 | id+1`.
    table: Vec<u64>,
    /// Sampled positions of tags with at least [`SAMPLE_EVERY`] records.
    samples: FingerprintMap<u32, Vec<u64>>,
    sampled: usize,
}

/// The slot check bits of a tag fingerprint.
fn tag_check(fingerprint: TagFingerprint) -> u64 {
    fingerprint.0[0] & 0xFFFF_FFFF_0000_0000
}

impl TagIndex {
    /// An empty index.
    #[must_use]
    pub fn new() -> TagIndex {
        TagIndex::default()
    }

    /// The slot of `fingerprint`, or the empty slot where it would go.
    fn find(&self, fingerprint: TagFingerprint) -> (usize, Option<u32>) {
        let mask = self.table.len() - 1;
        let check = tag_check(fingerprint);
        let mut slot = (fingerprint.0[1] as usize) & mask;
        loop {
            let value = self.table[slot];
            if value == 0 {
                return (slot, None);
            }
            if value & 0xFFFF_FFFF_0000_0000 == check {
                let id = (value & 0xFFFF_FFFF) as u32 - 1;
                if self.entries[id as usize].fingerprint == fingerprint.0 {
                    return (slot, Some(id));
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Loads the table slot where `fingerprint` starts, so that the cache misses of several
    /// coming lookups overlap (the sequencer touches a few records ahead).
    pub fn touch(&self, fingerprint: TagFingerprint) {
        if !self.table.is_empty() {
            let mask = self.table.len() - 1;
            std::hint::black_box(self.table[(fingerprint.0[1] as usize) & mask]);
        }
    }

    /// The id of a tag, if it was interned.
    #[must_use]
    pub fn get(&self, fingerprint: TagFingerprint) -> Option<TagId> {
        if self.table.is_empty() {
            return None;
        }
        self.find(fingerprint).1.map(TagId)
    }

    fn grow(&mut self) {
        let capacity = (self.table.len() * 2).max(1024);
        let mut table = vec![0_u64; capacity];
        let mask = capacity - 1;
        for (id, entry) in self.entries.iter().enumerate() {
            let fingerprint = TagFingerprint(entry.fingerprint);
            let mut slot = (fingerprint.0[1] as usize) & mask;
            while table[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            table[slot] = tag_check(fingerprint) | (id as u64 + 1);
        }
        self.table = table;
    }

    /// Records that the record at `position` carries the tag (interning it if it is new) and
    /// returns its id and its previous last position: the record's back-link.
    ///
    /// # Panics
    /// When positions are not pushed in ascending order per tag, a position is not below
    /// [`POSITION_LIMIT`], or more than 2³² − 2 distinct tags exist: the sequencer's
    /// invariants and limits, so programming errors.
    pub fn push(
        &mut self,
        fingerprint: TagFingerprint,
        position: Position,
    ) -> (TagId, Option<Position>) {
        assert!(position.0 < POSITION_MASK, "positions are below 2^40 - 1");
        if (self.entries.len() + 1) * 5 > self.table.len() * 4 {
            self.grow();
        }
        let (slot, found) = self.find(fingerprint);
        let id = match found {
            Some(id) => id,
            None => {
                let id = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|id| *id < u32::MAX - 1)
                    .expect("fewer than 2^32 - 2 distinct tags");
                self.entries.push(TagEntry {
                    fingerprint: fingerprint.0,
                    state: 0,
                });
                self.table[slot] = tag_check(fingerprint) | (u64::from(id) + 1);
                id
            }
        };
        let entry = &mut self.entries[id as usize];
        let previous = entry.last();
        assert!(
            previous.is_none_or(|last| last < position.0),
            "tag positions are pushed in ascending order"
        );
        let count = (entry.state >> 40).wrapping_add(1) & 0xFF_FFFF;
        entry.state = (count << 40) | (position.0 + 1);
        if count.is_multiple_of(SAMPLE_EVERY) {
            self.samples.entry(id).or_default().push(position.0);
            self.sampled += 1;
        }
        (TagId(id), previous.map(Position))
    }

    /// The last position carrying the tag.
    #[must_use]
    pub fn last(&self, id: TagId) -> Option<Position> {
        self.entries
            .get(id.0 as usize)
            .and_then(|entry| entry.last())
            .map(Position)
    }

    /// The sampled positions of the tag.
    #[must_use]
    pub fn samples(&self, id: TagId) -> &[u64] {
        self.samples.get(&id.0).map_or(&[], Vec::as_slice)
    }

    /// What a walk of the tag's records after `after` needs (see [`TagChain`]), with at most
    /// `blocks` block ends.
    #[must_use]
    pub fn chain(
        &self,
        fingerprint: TagFingerprint,
        after: Option<u64>,
        blocks: usize,
    ) -> TagChain {
        let Some(id) = self.get(fingerprint) else {
            return TagChain::default();
        };
        let samples = self.samples(id);
        let start = after.map_or(0, |after| samples.partition_point(|s| *s <= after));
        let blocks = blocks.max(1);
        let to = start.saturating_add(blocks).min(samples.len());
        let mut ends = samples[start..to].to_vec();
        if ends.len() < blocks
            && let Some(last) = self.last(id)
            && after.is_none_or(|after| last.0 > after)
            && ends.last().is_none_or(|end| *end < last.0)
        {
            ends.push(last.0);
        }
        TagChain { id: Some(id), ends }
    }

    /// The number of distinct tags interned.
    #[must_use]
    pub fn tag_count(&self) -> usize {
        self.entries.len()
    }

    /// The heap memory held, in bytes (for the memory budget and benchmarks).
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<TagEntry>()
            + self.table.capacity() * 8
            + self.samples.capacity() * 40
            + self.sampled * 8
    }

    /// The parts, for the index cache.
    pub(crate) fn parts(&self) -> (&[TagEntry], &[u64], &FingerprintMap<u32, Vec<u64>>) {
        (&self.entries, &self.table, &self.samples)
    }

    /// An index from cached parts; `None` when they are inconsistent (the cache is then not
    /// used). Checks what a lookup relies on: the table's size, and that every slot names an
    /// entry whose fingerprint has the slot's check bits.
    pub(crate) fn from_parts(
        entries: Vec<TagEntry>,
        table: Vec<u64>,
        samples: FingerprintMap<u32, Vec<u64>>,
    ) -> Option<TagIndex> {
        if !table.len().is_power_of_two() && !table.is_empty() {
            return None;
        }
        if (entries.len() + 1) * 5 > table.len() * 4 && !(entries.is_empty() && table.is_empty()) {
            return None;
        }
        let mut used = 0usize;
        for value in &table {
            if *value == 0 {
                continue;
            }
            let id = (value & 0xFFFF_FFFF) as usize;
            let entry = entries.get(id.checked_sub(1)?)?;
            if tag_check(TagFingerprint(entry.fingerprint)) != value & 0xFFFF_FFFF_0000_0000 {
                return None;
            }
            used += 1;
        }
        if used != entries.len() {
            return None;
        }
        if samples.keys().any(|id| *id as usize >= entries.len()) {
            return None;
        }
        let sampled = samples.values().map(Vec::len).sum();
        Some(TagIndex {
            entries,
            table,
            samples,
            sampled,
        })
    }
}

/// Event id fingerprints → positions. Hits are candidates to be confirmed against the record.
#[derive(Debug, Default)]
pub struct IdIndex {
    /// Open addressing, linear probing from the slot named by the fingerprint's low bits; 0 is
    /// empty, else `fingerprint's top 24 bits << 40 | position + 1`.
    table: Vec<u64>,
    /// The low 32 bits of the fingerprint of the id at each position (every position has one):
    /// what re-places an entry when the table grows, and a second check of a candidate.
    low: Vec<u32>,
}

fn id_check(fingerprint: u64) -> u64 {
    fingerprint & !POSITION_MASK
}

impl IdIndex {
    /// An empty index.
    #[must_use]
    pub fn new() -> IdIndex {
        IdIndex::default()
    }

    /// Loads the table slot where `fingerprint` starts (see [`TagIndex::touch`]).
    pub fn touch(&self, fingerprint: u64) {
        if !self.table.is_empty() {
            let mask = self.table.len() - 1;
            std::hint::black_box(self.table[(fingerprint as u32 as usize) & mask]);
        }
    }

    /// Positions whose event id may have this fingerprint (confirm each against the stored
    /// record; with 56 bits compared, another id is a candidate about once in 2⁵⁶ lookups
    /// per stored id with the same home).
    pub fn candidates(&self, fingerprint: u64) -> impl Iterator<Item = Position> + '_ {
        let mask = self.table.len().wrapping_sub(1);
        let check = id_check(fingerprint);
        let low = fingerprint as u32;
        let mut slot = (low as usize) & mask;
        let mut done = self.table.is_empty();
        std::iter::from_fn(move || {
            while !done {
                let value = self.table[slot];
                if value == 0 {
                    done = true;
                    return None;
                }
                slot = (slot + 1) & mask;
                if id_check(value) == check {
                    let position = (value & POSITION_MASK) - 1;
                    let same_low = usize::try_from(position)
                        .ok()
                        .and_then(|index| self.low.get(index))
                        .is_some_and(|stored| *stored == low);
                    if same_low {
                        return Some(Position(position));
                    }
                }
            }
            None
        })
    }

    fn place(table: &mut [u64], value: u64, low: u32) {
        let mask = table.len() - 1;
        let mut slot = (low as usize) & mask;
        while table[slot] != 0 {
            slot = (slot + 1) & mask;
        }
        table[slot] = value;
    }

    /// Records that the record at `position` has an event id with this fingerprint. Every
    /// position is inserted, in order.
    ///
    /// # Panics
    /// When `position` is not the next position (the sequencer's and the rebuild's invariant)
    /// or not below [`POSITION_LIMIT`] − 1 (the sequencer's limit).
    pub fn insert(&mut self, fingerprint: u64, position: Position) {
        assert!(position.0 < POSITION_MASK, "positions are below 2^40 - 1");
        assert_eq!(
            position.0,
            self.low.len() as u64,
            "event ids are indexed for every position, in order"
        );
        if (self.low.len() + 1) * 5 > self.table.len() * 4 {
            let capacity = (self.table.len() * 2).max(1024);
            assert!(capacity <= 1 << 32, "at most 2^32 slots");
            let mut table = vec![0_u64; capacity];
            for value in self.table.iter().copied().filter(|value| *value != 0) {
                let index = usize::try_from((value & POSITION_MASK) - 1).expect("in memory");
                Self::place(&mut table, value, self.low[index]);
            }
            self.table = table;
        }
        let low = fingerprint as u32;
        Self::place(
            &mut self.table,
            id_check(fingerprint) | (position.0 + 1),
            low,
        );
        self.low.push(low);
    }

    /// The number of ids indexed (the number of positions).
    #[must_use]
    pub fn len(&self) -> usize {
        self.low.len()
    }

    /// Whether no id is indexed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.low.is_empty()
    }

    /// The heap memory held, in bytes.
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        self.table.capacity() * 8 + self.low.len() * 4
    }

    /// The parts, for the index cache.
    pub(crate) fn parts(&self) -> (&[u64], &[u32]) {
        (&self.table, &self.low)
    }

    /// An index from cached parts; `None` when they are inconsistent (the cache is then not
    /// used): every slot must name a distinct position below `low.len()`, and every position
    /// must have a slot.
    pub(crate) fn from_parts(table: Vec<u64>, low: Vec<u32>) -> Option<IdIndex> {
        if !table.is_empty() && !table.len().is_power_of_two() {
            return None;
        }
        if !low.is_empty() && (low.len() + 1) * 5 > table.len() * 4 {
            return None;
        }
        let mut used = 0usize;
        for value in &table {
            if *value == 0 {
                continue;
            }
            let position = (value & POSITION_MASK).checked_sub(1)?;
            if position >= low.len() as u64 {
                return None;
            }
            used += 1;
        }
        if used != low.len() {
            return None;
        }
        Some(IdIndex { table, low })
    }
}

/// Exact stored-tag text → last position, for verification (which has no ledger secret, so no
/// fingerprint key): interned text in one arena, looked up through a table of 64-bit hashes
/// under a per-process random key, with the text compared on every hit.
#[derive(Debug)]
pub(crate) struct LastByText {
    arena: Vec<u8>,
    /// Per tag: offset in the arena (high 56 bits) and length (low 8 bits), last position + 1,
    /// and the tag's hash (so that growing the table needs no rehashing).
    entries: Vec<[u64; 3]>,
    /// 0 is empty, else `hash's top 32 bits << 32 | id + 1`.
    table: Vec<u64>,
    keys: RandomState,
}

impl Default for LastByText {
    fn default() -> LastByText {
        LastByText {
            arena: Vec::new(),
            entries: Vec::new(),
            table: vec![0; 1024],
            keys: RandomState::new(),
        }
    }
}

impl LastByText {
    fn text(&self, entry: &[u64; 3]) -> &[u8] {
        let offset = usize::try_from(entry[0] >> 8).expect("arena offsets fit in memory");
        let len = (entry[0] & 0xFF) as usize;
        &self.arena[offset..offset + len]
    }

    /// The hash of a tag under this map's key.
    pub(crate) fn hash(&self, tag: &str) -> u64 {
        self.keys.hash_one(tag.as_bytes())
    }

    /// Loads the table slot where `hash` starts, so that the lookups of a record's tags miss
    /// the cache together rather than one after the other.
    pub(crate) fn touch(&self, hash: u64) {
        let mask = self.table.len() - 1;
        std::hint::black_box(self.table[(hash as usize) & mask]);
    }

    fn grow(&mut self) {
        let capacity = self.table.len() * 2;
        let mut table = vec![0_u64; capacity];
        let mask = capacity - 1;
        for (id, entry) in self.entries.iter().enumerate() {
            let hash = entry[2];
            let mut slot = (hash as usize) & mask;
            while table[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            table[slot] = (hash & 0xFFFF_FFFF_0000_0000) | (id as u64 + 1);
        }
        self.table = table;
    }

    /// Records `position` as the tag's last position and returns the previous one; `hash` is
    /// [`LastByText::hash`] of the tag.
    ///
    /// # Panics
    /// On a tag longer than 255 bytes (decoded tags are at most 128) or more than 2³² − 2
    /// distinct tags.
    pub(crate) fn replace(&mut self, tag: &str, hash: u64, position: u64) -> Option<u64> {
        let bytes = tag.as_bytes();
        if (self.entries.len() + 1) * 5 > self.table.len() * 4 {
            self.grow();
        }
        let mask = self.table.len() - 1;
        let check = hash & 0xFFFF_FFFF_0000_0000;
        let mut slot = (hash as usize) & mask;
        loop {
            let value = self.table[slot];
            if value == 0 {
                break;
            }
            if value & 0xFFFF_FFFF_0000_0000 == check {
                let id = (value & 0xFFFF_FFFF) as usize - 1;
                if self.text(&self.entries[id]) == bytes {
                    let previous = self.entries[id][1].checked_sub(1);
                    self.entries[id][1] = position + 1;
                    return previous;
                }
            }
            slot = (slot + 1) & mask;
        }
        let id = self.entries.len();
        assert!(
            id < u32::MAX as usize - 1,
            "fewer than 2^32 - 2 distinct tags"
        );
        let len = u64::try_from(bytes.len()).expect("small");
        assert!(len <= 0xFF, "stored tags are at most 128 bytes");
        let offset = self.arena.len() as u64;
        self.arena.extend_from_slice(bytes);
        self.entries.push([(offset << 8) | len, position + 1, hash]);
        self.table[slot] = check | (id as u64 + 1);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FingerprintKey {
        FingerprintKey::derive(&[9; 32])
    }

    #[test]
    fn tags_keep_their_last_position_and_samples() {
        let key = key();
        let mut index = TagIndex::new();
        let a = key.tag("person:a");
        let b = key.tag("person:b");
        assert_eq!(index.get(a), None);
        let (id_a, previous) = index.push(a, Position(1));
        assert_eq!(previous, None);
        let (id_b, _) = index.push(b, Position(2));
        assert_ne!(id_a, id_b);
        assert_eq!(index.push(a, Position(4)), (id_a, Some(Position(1))));
        assert_eq!(index.get(a), Some(id_a));
        assert_eq!(index.get(key.tag("person:c")), None);
        assert_eq!(index.last(id_a), Some(Position(4)));
        assert_eq!(index.tag_count(), 2);
        assert!(index.samples(id_a).is_empty());
        for position in 10..10 + 2 * SAMPLE_EVERY {
            index.push(b, Position(position));
        }
        // person:b has 1 + 64 records: its 32nd and 64th are sampled.
        assert_eq!(
            index.samples(id_b),
            &[10 + SAMPLE_EVERY - 2, 10 + 2 * SAMPLE_EVERY - 2]
        );
        let chain = index.chain(b, Some(10 + SAMPLE_EVERY), 1);
        assert_eq!(chain.id, Some(id_b));
        assert_eq!(chain.ends, vec![10 + 2 * SAMPLE_EVERY - 2]);
        let chain = index.chain(b, Some(10 + SAMPLE_EVERY), 5);
        assert_eq!(
            chain.ends,
            vec![10 + 2 * SAMPLE_EVERY - 2, 10 + 2 * SAMPLE_EVERY - 1]
        );
        assert_eq!(index.chain(b, Some(1000), 5).ends, Vec::<u64>::new());
        assert_eq!(index.chain(b, None, 1).ends, vec![10 + SAMPLE_EVERY - 2]);
        assert_eq!(std::mem::size_of::<TagEntry>(), 24);
    }

    #[test]
    fn tag_table_grows_and_keeps_every_tag() {
        let key = key();
        let mut index = TagIndex::new();
        for number in 0..5000_u64 {
            index.push(key.tag(&format!("person:{number}")), Position(number));
        }
        for number in 0..5000_u64 {
            let id = index
                .get(key.tag(&format!("person:{number}")))
                .expect("interned");
            assert_eq!(index.last(id), Some(Position(number)));
        }
        let (entries, table, samples) = index.parts();
        let copy =
            TagIndex::from_parts(entries.to_vec(), table.to_vec(), samples.clone()).expect("ok");
        assert_eq!(
            copy.get(key.tag("person:77")),
            index.get(key.tag("person:77"))
        );
        let mut broken = table.to_vec();
        let slot = broken.iter().position(|v| *v != 0).expect("used");
        broken[slot] ^= 1 << 40;
        assert!(TagIndex::from_parts(entries.to_vec(), broken, samples.clone()).is_none());
    }

    #[test]
    fn id_index_returns_all_candidates_across_growth() {
        let mut ids = IdIndex::new();
        let fingerprint = |n: u64| n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (n << 7);
        for position in 0..3000 {
            ids.insert(fingerprint(position % 2000), Position(position));
        }
        assert_eq!(ids.len(), 3000);
        let found: Vec<Position> = ids.candidates(fingerprint(5)).collect();
        assert_eq!(found, vec![Position(5), Position(2005)]);
        assert_eq!(
            ids.candidates(fingerprint(1999)).collect::<Vec<_>>(),
            vec![Position(1999)]
        );
        assert_eq!(ids.candidates(fingerprint(7777)).count(), 0);
        let (table, low) = ids.parts();
        let copy = IdIndex::from_parts(table.to_vec(), low.to_vec()).expect("consistent");
        assert_eq!(copy.candidates(fingerprint(5)).count(), 2);
        assert!(IdIndex::from_parts(table.to_vec(), low[..10].to_vec()).is_none());
    }

    #[test]
    fn last_by_text_is_exact() {
        let mut map = LastByText::default();
        let mut replace = |tag: &str, position| {
            let hash = map.hash(tag);
            map.touch(hash);
            map.replace(tag, hash, position)
        };
        assert_eq!(replace("kind:a", 1), None);
        assert_eq!(replace("kind:b", 2), None);
        assert_eq!(replace("kind:a", 3), Some(1));
        for number in 0..3000 {
            replace(&format!("person:{number}"), 10 + number);
        }
        assert_eq!(replace("kind:b", 5000), Some(2));
        assert_eq!(replace("person:17", 6000), Some(27));
    }
}
