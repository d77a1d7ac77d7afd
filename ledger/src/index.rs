//! In-memory indexes derived from the log: tags → positions, and event ids → positions.
//!
//! Why here and why this shape: conditions, back-links and reads by tag need "which positions
//! carry this stored tag", and idempotency needs "where is this event id", on every append, so
//! both must answer without IO. Both are derived: they are rebuilt from the segments on open
//! (a cache file for fast opening plugs in at [`crate::ledger`]'s rebuild seam), and nothing is
//! ever decided from them that the log could contradict.
//!
//! Memory is the constraint (the ledger's budget is ~100 bytes per record at national scale,
//! hundreds of millions of records), so both indexes are compact:
//!
//! - [`TagIndex`] interns each distinct stored tag once, in one byte arena; a tag is then a
//!   [`TagId`] (u32). Its positions are a list that costs nothing extra while it has one entry
//!   (most person and household tags have very few). The lookup table holds 64-bit keyed
//!   fingerprints only; a fingerprint collision between different tags is resolved exactly
//!   through a small overflow map, so lookups are always exact.
//! - [`IdIndex`] keeps a 64-bit keyed fingerprint of each event id → position (16 bytes per id
//!   plus table overhead). A hit is only a candidate: the caller compares the full id against
//!   the stored record, so collisions cost a read, never a wrong answer. Fingerprints are keyed
//!   with a random per-process key, so clients cannot craft ids that collide on purpose.
//!
//! Path to a bounded design (not built yet): both indexes become on-disk, sorted and immutable
//! runs (per-tag position lists as tiles; ids as sorted `(fingerprint, position)` runs with a
//! per-run Bloom filter), merged in the background like an LSM tree, with only the recent run
//! and a bounded cache in memory. The interfaces here (lookups returning positions, pushes in
//! position order) are what such a store needs, so the sequencer would not change.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

use crate::record::{EventId, Position};

/// A hasher for keys that are already uniformly distributed 64-bit fingerprints.
#[derive(Debug, Default, Clone, Copy)]
pub struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by the maps below; fold anything else in, to stay correct.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type FingerprintMap<V> = HashMap<u64, V, BuildHasherDefault<FingerprintHasher>>;

/// A stored tag, interned: an index into [`TagIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagId(pub u32);

/// The positions carrying one tag, ascending. Up to two are kept inline, without allocation
/// (most person and household tags have very few records); the enum stays 24 bytes.
#[derive(Debug, Clone)]
enum Postings {
    One(u64),
    Two([u64; 2]),
    Many(Vec<u64>),
}

impl Postings {
    fn as_slice(&self) -> &[u64] {
        match self {
            Postings::One(position) => std::slice::from_ref(position),
            Postings::Two(positions) => positions,
            Postings::Many(positions) => positions,
        }
    }
}

/// One interned tag: where its text is in the arena, and its positions (`None` while no
/// durable record carries it yet: tags are interned while a group is formed, before commit).
#[derive(Debug, Clone)]
struct TagEntry {
    /// Offset in the arena (high 56 bits) and length (low 8 bits; tags are ≤ 128 bytes).
    text: u64,
    postings: Option<Postings>,
}

/// Interned stored tags and the positions carrying each.
#[derive(Debug)]
pub struct TagIndex {
    arena: Vec<u8>,
    entries: Vec<TagEntry>,
    table: FingerprintMap<u32>,
    /// Tags whose fingerprint is taken by another tag in `table`.
    overflow: HashMap<Box<[u8]>, u32>,
    keys: RandomState,
    postings_total: u64,
}

impl Default for TagIndex {
    fn default() -> TagIndex {
        TagIndex::new()
    }
}

impl TagIndex {
    /// An empty index.
    #[must_use]
    pub fn new() -> TagIndex {
        TagIndex {
            arena: Vec::new(),
            entries: Vec::new(),
            table: FingerprintMap::default(),
            overflow: HashMap::new(),
            keys: RandomState::new(),
            postings_total: 0,
        }
    }

    fn fingerprint(&self, tag: &[u8]) -> u64 {
        self.keys.hash_one(tag)
    }

    fn text_of(&self, entry: &TagEntry) -> &[u8] {
        let offset = usize::try_from(entry.text >> 8).expect("arena offsets fit in memory");
        let len = (entry.text & 0xFF) as usize;
        &self.arena[offset..offset + len]
    }

    /// The id of a stored tag, if it was interned.
    #[must_use]
    pub fn get(&self, tag: &str) -> Option<TagId> {
        let bytes = tag.as_bytes();
        let id = *self.table.get(&self.fingerprint(bytes))?;
        if self.text_of(&self.entries[id as usize]) == bytes {
            return Some(TagId(id));
        }
        self.overflow.get(bytes).map(|id| TagId(*id))
    }

    /// The id of a stored tag, interning it if it is new.
    ///
    /// # Panics
    /// Only on a tag longer than 255 bytes (stored tags are validated to ≤ 128) or more than
    /// `u32::MAX` distinct tags, both programming errors.
    pub fn intern(&mut self, tag: &str) -> TagId {
        let bytes = tag.as_bytes();
        let fingerprint = self.fingerprint(bytes);
        let taken = match self.table.get(&fingerprint) {
            Some(id) if self.text_of(&self.entries[*id as usize]) == bytes => {
                return TagId(*id);
            }
            Some(_) => {
                if let Some(id) = self.overflow.get(bytes) {
                    return TagId(*id);
                }
                true
            }
            None => false,
        };
        let id = u32::try_from(self.entries.len()).expect("fewer than 2^32 distinct tags");
        let len = u64::try_from(bytes.len()).expect("small");
        assert!(len <= 0xFF, "stored tags are at most 128 bytes");
        let offset = self.arena.len() as u64;
        self.arena.extend_from_slice(bytes);
        self.entries.push(TagEntry {
            text: (offset << 8) | len,
            postings: None,
        });
        if taken {
            self.overflow.insert(bytes.into(), id);
        } else {
            self.table.insert(fingerprint, id);
        }
        TagId(id)
    }

    /// The stored tag of an id.
    ///
    /// # Panics
    /// For an id this index did not hand out (a programming error).
    #[must_use]
    pub fn text(&self, id: TagId) -> &str {
        // Interned tags are validated ASCII.
        std::str::from_utf8(self.text_of(&self.entries[id.0 as usize])).unwrap_or("")
    }

    /// The positions of records carrying the tag, ascending.
    #[must_use]
    pub fn positions(&self, id: TagId) -> &[u64] {
        self.entries
            .get(id.0 as usize)
            .and_then(|entry| entry.postings.as_ref())
            .map_or(&[], Postings::as_slice)
    }

    /// The last position carrying the tag.
    #[must_use]
    pub fn last(&self, id: TagId) -> Option<Position> {
        self.positions(id).last().copied().map(Position)
    }

    /// The first position carrying the tag that is after `after` (any position for `None`).
    #[must_use]
    pub fn first_after(&self, id: TagId, after: Option<Position>) -> Option<Position> {
        let positions = self.positions(id);
        let start = match after {
            None => 0,
            Some(after) => positions.partition_point(|p| *p <= after.0),
        };
        positions.get(start).copied().map(Position)
    }

    /// Up to `limit` positions carrying the tag after `after`, ascending.
    #[must_use]
    pub fn positions_after(&self, id: TagId, after: Option<Position>, limit: usize) -> &[u64] {
        let positions = self.positions(id);
        let start = match after {
            None => 0,
            Some(after) => positions.partition_point(|p| *p <= after.0),
        };
        let end = start.saturating_add(limit).min(positions.len());
        &positions[start..end]
    }

    /// Records that the record at `position` carries the tag. Positions MUST be pushed in
    /// ascending order (asserted: the sequencer commits in position order).
    pub fn push(&mut self, id: TagId, position: Position) {
        let entry = &mut self.entries[id.0 as usize];
        let ascending = entry
            .postings
            .as_ref()
            .is_none_or(|postings| postings.as_slice().last().is_none_or(|l| *l < position.0));
        assert!(ascending, "tag positions are pushed in ascending order");
        entry.postings = Some(match entry.postings.take() {
            None => Postings::One(position.0),
            Some(Postings::One(first)) => Postings::Two([first, position.0]),
            Some(Postings::Two([first, second])) => {
                // Four, not three: the growth steps stay powers of two (4, 8, 16, …).
                let mut positions = Vec::with_capacity(4);
                positions.extend_from_slice(&[first, second, position.0]);
                Postings::Many(positions)
            }
            Some(Postings::Many(mut positions)) => {
                positions.push(position.0);
                Postings::Many(positions)
            }
        });
        self.postings_total += 1;
    }

    /// Records `position` as the tag's only position and returns the last one before it: for
    /// passes that need back-links but not the lists (verification), at no memory per record.
    /// Do not mix with [`TagIndex::push`] on one index.
    pub fn replace_last(&mut self, id: TagId, position: Position) -> Option<Position> {
        let entry = &mut self.entries[id.0 as usize];
        let previous = entry
            .postings
            .as_ref()
            .and_then(|p| p.as_slice().last().copied());
        entry.postings = Some(Postings::One(position.0));
        previous.map(Position)
    }

    /// The number of distinct tags interned.
    #[must_use]
    pub fn tag_count(&self) -> usize {
        self.entries.len()
    }

    /// An estimate of the heap memory held, in bytes (for the memory budget and benchmarks).
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        let lists: usize = self
            .entries
            .iter()
            .map(|entry| match &entry.postings {
                Some(Postings::Many(positions)) => positions.capacity() * 8,
                _ => 0,
            })
            .sum();
        self.arena.capacity()
            + self.entries.capacity() * std::mem::size_of::<TagEntry>()
            + self.table.capacity() * (16 + 1)
            + self.overflow.len() * 48
            + lists
    }
}

/// Event id fingerprints → positions. Hits are candidates to be confirmed against the record.
#[derive(Debug)]
pub struct IdIndex {
    table: FingerprintMap<u64>,
    /// Further positions whose ids share a fingerprint with the one in `table`.
    more: FingerprintMap<Vec<u64>>,
    keys: RandomState,
}

impl Default for IdIndex {
    fn default() -> IdIndex {
        IdIndex::new()
    }
}

impl IdIndex {
    /// An empty index.
    #[must_use]
    pub fn new() -> IdIndex {
        IdIndex {
            table: FingerprintMap::default(),
            more: FingerprintMap::default(),
            keys: RandomState::new(),
        }
    }

    fn fingerprint(&self, id: &EventId) -> u64 {
        let mut hasher = self.keys.build_hasher();
        hasher.write(&id.0);
        hasher.finish()
    }

    /// Positions whose event id may be `id` (confirm each against the stored record).
    pub fn candidates(&self, id: &EventId) -> impl Iterator<Item = Position> + '_ {
        let fingerprint = self.fingerprint(id);
        let first = self.table.get(&fingerprint).copied();
        let more = self.more.get(&fingerprint).map_or(&[][..], Vec::as_slice);
        first.into_iter().chain(more.iter().copied()).map(Position)
    }

    /// Records that the record at `position` has event id `id`.
    pub fn insert(&mut self, id: &EventId, position: Position) {
        let fingerprint = self.fingerprint(id);
        match self.table.entry(fingerprint) {
            std::collections::hash_map::Entry::Occupied(_) => {
                self.more.entry(fingerprint).or_default().push(position.0);
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(position.0);
            }
        }
    }

    /// The number of ids indexed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.table.len() + self.more.values().map(Vec::len).sum::<usize>()
    }

    /// Whether no id is indexed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// An estimate of the heap memory held, in bytes.
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        self.table.capacity() * (8 + 8 + 1) + self.more.len() * 64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_interned_once_and_keep_ascending_positions() {
        let mut index = TagIndex::new();
        let a = index.intern("person:a");
        let b = index.intern("person:b");
        assert_eq!(index.intern("person:a"), a);
        assert_ne!(a, b);
        assert_eq!(index.get("person:b"), Some(b));
        assert_eq!(index.get("person:c"), None);
        assert_eq!(index.text(b), "person:b");
        assert_eq!(index.last(a), None);
        for position in [1, 4, 9] {
            index.push(a, Position(position));
        }
        assert_eq!(index.positions(a), &[1, 4, 9]);
        assert_eq!(index.last(a), Some(Position(9)));
        assert_eq!(index.first_after(a, None), Some(Position(1)));
        assert_eq!(index.first_after(a, Some(Position(4))), Some(Position(9)));
        assert_eq!(index.first_after(a, Some(Position(9))), None);
        assert_eq!(index.positions_after(a, Some(Position(0)), 2), &[1, 4]);
        assert_eq!(index.tag_count(), 2);
        assert_eq!(
            std::mem::size_of::<Postings>(),
            24,
            "two positions fit inline"
        );
    }

    #[test]
    fn fingerprint_collisions_stay_exact() {
        // Force every tag onto one fingerprint by reusing the table slot of the first tag.
        let mut index = TagIndex::new();
        let a = index.intern("kind:a");
        let fingerprint = index.fingerprint(b"kind:b");
        index.table.insert(fingerprint, a.0);
        let b = index.intern("kind:b");
        assert_ne!(a, b);
        assert_eq!(index.get("kind:b"), Some(b));
        assert_eq!(index.get("kind:a"), Some(a));
        assert_eq!(index.intern("kind:b"), b);
    }

    #[test]
    fn id_index_returns_all_candidates() {
        let mut ids = IdIndex::new();
        let id = EventId([1; 16]);
        ids.insert(&id, Position(3));
        ids.insert(&id, Position(8));
        assert_eq!(
            ids.candidates(&id).collect::<Vec<_>>(),
            vec![Position(3), Position(8)]
        );
        assert_eq!(ids.candidates(&EventId([2; 16])).count(), 0);
        assert_eq!(ids.len(), 2);
    }
}
