//! The index cache: the sequencer's indexes (tags and event ids) saved at a position, so that
//! opening a large ledger loads them and replays only the records after that position instead
//! of rebuilding them from the whole log.
//!
//! Why it is safe: the cache is derived and never trusted beyond what it can show. It names the
//! size it covers and the record hash at that size (the head hash, which commits to every
//! record before it through the chain), carries a check of the fingerprint key it was built
//! with, and ends with a BLAKE3 checksum of everything before it. Opening uses it only when all
//! of these match the log (`open.rs`); any mismatch, damage or unknown version
//! makes it ignored, and the indexes are rebuilt from the log. It is written atomically
//! (temporary file, fsync, rename, directory fsync), so a crash leaves the old cache or the new.
//!
//! Layout of `index/ledger-index.bin` (all integers little-endian; described in `FORMAT.md` §7
//! as a derived, non-normative file):
//!
//! ```text
//! [8]  magic          "RLINDEX" 0x00
//! u32  version        1
//! u32  reserved       0
//! u64  size           records covered (positions 0..size)
//! [32] head           record hash at size − 1 (the genesis hash for 0)
//! [32] key_check      check value of the fingerprint key
//! u64  tag_entries    E
//! u64  tag_slots      T
//! u64  sampled_tags   M
//! u64  id_slots       I
//! u64  id_lows        L (= size)
//! E × (u64 fingerprint0, u64 fingerprint1, u64 state)
//! T × u64            tag table slots
//! M × (u32 tag id, u32 count, count × u64 sampled positions)
//! I × u64            id table slots
//! L × u32            low fingerprint bits per position
//! [32] checksum       BLAKE3 of every byte before it
//! ```
//!
//! It is read and written in bounded chunks, so its size costs no extra memory.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::hash::Hash;
use crate::index::{IdIndex, TagEntry, TagIndex};

/// The cache file's name inside the index directory.
pub const FILE_NAME: &str = "ledger-index.bin";

const MAGIC: [u8; 8] = *b"RLINDEX\0";
const VERSION: u32 = 1;
/// Bytes converted at a time.
const CHUNK: usize = 1 << 20;

/// What a loaded cache covers, with the indexes.
#[derive(Debug)]
pub struct Loaded {
    /// Records covered.
    pub size: u64,
    /// The record hash at `size − 1` (the genesis hash for 0).
    pub head: Hash,
    /// The tag index at `size`.
    pub tags: TagIndex,
    /// The event id index at `size`.
    pub ids: IdIndex,
}

/// Why a cache was not loaded (logged; the indexes are then rebuilt from the log).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// There is no cache file.
    #[error("no index cache")]
    Missing,
    /// Reading it failed.
    #[error("reading the index cache failed")]
    Io(#[from] io::Error),
    /// It is not a cache this version wrote for this ledger's key, or it is damaged.
    #[error("the index cache is unusable: {0}")]
    Invalid(&'static str),
}

/// Writes bytes through a BLAKE3 hasher.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: blake3::Hasher,
}

impl<W: Write> HashingWriter<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hasher.update(bytes);
        self.inner.write_all(bytes)
    }

    fn put_u64s(
        &mut self,
        values: impl Iterator<Item = u64>,
        buffer: &mut Vec<u8>,
    ) -> io::Result<()> {
        buffer.clear();
        for value in values {
            buffer.extend_from_slice(&value.to_le_bytes());
            if buffer.len() >= CHUNK {
                self.put(buffer)?;
                buffer.clear();
            }
        }
        self.put(buffer)
    }
}

/// Writes the cache of `tags` and `ids` at `size` (head hash `head`) into `dir` atomically.
///
/// # Errors
/// Any IO error; the previous cache (if any) is then left as it was, or removed when the
/// rename already happened (a cache is only ever an optimisation).
pub fn write(
    dir: &Path,
    key_check: &[u8; 32],
    size: u64,
    head: &Hash,
    tags: &TagIndex,
    ids: &IdIndex,
) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let temp = dir.join(format!(".{FILE_NAME}.tmp"));
    let target = dir.join(FILE_NAME);
    let file = File::create(&temp)?;
    let mut out = HashingWriter {
        inner: BufWriter::with_capacity(CHUNK, file),
        hasher: blake3::Hasher::new(),
    };
    let (entries, tag_table, samples) = tags.parts();
    let (id_table, lows) = ids.parts();
    let mut header = Vec::with_capacity(128);
    header.extend_from_slice(&MAGIC);
    header.extend_from_slice(&VERSION.to_le_bytes());
    header.extend_from_slice(&0_u32.to_le_bytes());
    header.extend_from_slice(&size.to_le_bytes());
    header.extend_from_slice(&head.0);
    header.extend_from_slice(key_check);
    for count in [
        entries.len(),
        tag_table.len(),
        samples.len(),
        id_table.len(),
        lows.len(),
    ] {
        header.extend_from_slice(&(count as u64).to_le_bytes());
    }
    out.put(&header)?;
    let mut buffer = Vec::with_capacity(CHUNK + 64);
    out.put_u64s(
        entries
            .iter()
            .flat_map(|entry| [entry.fingerprint[0], entry.fingerprint[1], entry.state]),
        &mut buffer,
    )?;
    out.put_u64s(tag_table.iter().copied(), &mut buffer)?;
    let mut sampled: Vec<(&u32, &Vec<u64>)> = samples.iter().collect();
    sampled.sort_unstable_by_key(|(id, _)| **id);
    for (id, positions) in sampled {
        let count = u32::try_from(positions.len())
            .map_err(|_| io::Error::other("too many sampled positions for one tag"))?;
        let mut head = [0_u8; 8];
        head[..4].copy_from_slice(&id.to_le_bytes());
        head[4..].copy_from_slice(&count.to_le_bytes());
        out.put(&head)?;
        out.put_u64s(positions.iter().copied(), &mut buffer)?;
    }
    out.put_u64s(id_table.iter().copied(), &mut buffer)?;
    buffer.clear();
    for low in lows {
        buffer.extend_from_slice(&low.to_le_bytes());
        if buffer.len() >= CHUNK {
            out.put(&buffer)?;
            buffer.clear();
        }
    }
    out.put(&buffer)?;
    let checksum = out.hasher.finalize();
    let mut file = out
        .inner
        .into_inner()
        .map_err(io::IntoInnerError::into_error)?;
    file.write_all(checksum.as_bytes())?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temp, &target)?;
    File::open(dir)?.sync_all()
}

/// Removes the cache in `dir` (when it no longer matches the log and cannot be rewritten).
///
/// # Errors
/// An IO error other than the file not existing.
pub fn remove(dir: &Path) -> io::Result<()> {
    match fs::remove_file(dir.join(FILE_NAME)) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// The cache path in `dir`.
#[must_use]
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Reads bytes through a BLAKE3 hasher, counting what remains.
struct HashingReader<R: Read> {
    inner: R,
    hasher: blake3::Hasher,
    remaining: u64,
    buffer: Vec<u8>,
}

impl<R: Read> HashingReader<R> {
    fn take(&mut self, len: usize) -> Result<&[u8], LoadError> {
        if len as u64 > self.remaining {
            return Err(LoadError::Invalid("shorter than its counts say"));
        }
        self.buffer.resize(len, 0);
        self.inner.read_exact(&mut self.buffer)?;
        self.hasher.update(&self.buffer);
        self.remaining -= len as u64;
        Ok(&self.buffer)
    }

    fn u64(&mut self) -> Result<u64, LoadError> {
        Ok(u64_at(self.take(8)?, 0))
    }

    /// Reads `count` u64s in bounded chunks.
    fn u64s(&mut self, count: u64, mut push: impl FnMut(u64)) -> Result<(), LoadError> {
        if count.saturating_mul(8) > self.remaining {
            return Err(LoadError::Invalid("shorter than its counts say"));
        }
        let mut left = usize::try_from(count).map_err(|_| LoadError::Invalid("too large"))?;
        while left > 0 {
            let now = left.min(CHUNK / 8);
            let bytes = self.take(now * 8)?;
            for at in 0..now {
                push(u64_at(bytes, at * 8));
            }
            left -= now;
        }
        Ok(())
    }
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut array = [0_u8; 8];
    array.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(array)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut array = [0_u8; 4];
    array.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(array)
}

/// Loads the cache in `dir` if it is complete, undamaged, of this version and built with the
/// key whose check is `key_check`. Whether it matches the log is for the caller to check
/// (size and head hash).
///
/// # Errors
/// [`LoadError`]: the cache is then ignored.
pub fn load(dir: &Path, key_check: &[u8; 32]) -> Result<Loaded, LoadError> {
    let file = match File::open(path(dir)) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Err(LoadError::Missing),
        Err(error) => return Err(error.into()),
    };
    let len = file.metadata()?.len();
    let body_len = len
        .checked_sub(32)
        .ok_or(LoadError::Invalid("shorter than a header"))?;
    let mut reader = HashingReader {
        inner: BufReader::with_capacity(CHUNK, file),
        hasher: blake3::Hasher::new(),
        remaining: body_len,
        buffer: Vec::with_capacity(CHUNK),
    };
    let header = reader.take(8 + 4 + 4 + 8 + 32 + 32)?.to_vec();
    if header[..8] != MAGIC {
        return Err(LoadError::Invalid("bad magic"));
    }
    if u32_at(&header, 8) != VERSION || u32_at(&header, 12) != 0 {
        return Err(LoadError::Invalid("unknown version"));
    }
    let size = u64_at(&header, 16);
    let mut head = [0_u8; 32];
    head.copy_from_slice(&header[24..56]);
    if header[56..88] != key_check[..] {
        return Err(LoadError::Invalid("built with another key"));
    }
    let entry_count = reader.u64()?;
    let tag_slots = reader.u64()?;
    let sampled_tags = reader.u64()?;
    let id_slots = reader.u64()?;
    let id_lows = reader.u64()?;
    if id_lows != size {
        return Err(LoadError::Invalid("event ids do not cover its size"));
    }
    let capacity = |count: u64, unit: u64| -> Result<usize, LoadError> {
        if count.saturating_mul(unit) > body_len {
            return Err(LoadError::Invalid("counts exceed the file"));
        }
        usize::try_from(count).map_err(|_| LoadError::Invalid("too large"))
    };
    let mut entries = Vec::with_capacity(capacity(entry_count, 24)?);
    let mut words = [0_u64; 3];
    let mut filled = 0;
    reader.u64s(entry_count.saturating_mul(3), |word| {
        words[filled] = word;
        filled += 1;
        if filled == 3 {
            entries.push(TagEntry {
                fingerprint: [words[0], words[1]],
                state: words[2],
            });
            filled = 0;
        }
    })?;
    let mut tag_table = Vec::with_capacity(capacity(tag_slots, 8)?);
    reader.u64s(tag_slots, |slot| tag_table.push(slot))?;
    let mut samples = std::collections::HashMap::default();
    samples.reserve(capacity(sampled_tags, 8)?);
    for _ in 0..sampled_tags {
        let head = reader.take(8)?;
        let (id, count) = (u32_at(head, 0), u32_at(head, 4));
        let mut positions = Vec::with_capacity(capacity(u64::from(count), 8)?);
        reader.u64s(u64::from(count), |position| positions.push(position))?;
        if !positions.is_sorted() || samples.insert(id, positions).is_some() {
            return Err(LoadError::Invalid("sampled positions out of order"));
        }
    }
    let mut id_table = Vec::with_capacity(capacity(id_slots, 8)?);
    reader.u64s(id_slots, |slot| id_table.push(slot))?;
    let mut lows = Vec::with_capacity(capacity(id_lows, 4)?);
    let mut left = id_lows;
    while left > 0 {
        let now = left.min((CHUNK / 4) as u64);
        let bytes = reader.take(usize::try_from(now * 4).expect("chunk"))?;
        lows.extend(bytes.chunks_exact(4).map(|b| u32_at(b, 0)));
        left -= now;
    }
    if reader.remaining != 0 {
        return Err(LoadError::Invalid("longer than its counts say"));
    }
    let computed = reader.hasher.finalize();
    let mut stored = [0_u8; 32];
    reader.inner.read_exact(&mut stored)?;
    if computed.as_bytes() != &stored {
        return Err(LoadError::Invalid("checksum mismatch"));
    }
    let tags = TagIndex::from_parts(entries, tag_table, samples)
        .ok_or(LoadError::Invalid("tag index inconsistent"))?;
    let ids =
        IdIndex::from_parts(id_table, lows).ok_or(LoadError::Invalid("id index inconsistent"))?;
    Ok(Loaded {
        size,
        head: Hash(head),
        tags,
        ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::FingerprintKey;
    use crate::record::Position;

    fn indexes(records: u64) -> (TagIndex, IdIndex) {
        let key = FingerprintKey::derive(&[1; 32]);
        let mut tags = TagIndex::new();
        let mut ids = IdIndex::new();
        for position in 0..records {
            tags.push(key.tag(&format!("person:{position}")), Position(position));
            tags.push(
                key.tag(&format!("unit:{}", position % 3)),
                Position(position),
            );
            ids.insert(
                position.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                Position(position),
            );
        }
        (tags, ids)
    }

    #[test]
    fn a_cache_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = FingerprintKey::derive(&[1; 32]);
        let (tags, ids) = indexes(500);
        write(dir.path(), &key.check(), 500, &Hash([7; 32]), &tags, &ids).expect("writes");
        let loaded = load(dir.path(), &key.check()).expect("loads");
        assert_eq!(loaded.size, 500);
        assert_eq!(loaded.head, Hash([7; 32]));
        assert_eq!(loaded.tags.tag_count(), tags.tag_count());
        let unit = key.tag("unit:1");
        let id = loaded.tags.get(unit).expect("interned");
        assert_eq!(loaded.tags.last(id), Some(Position(499)));
        assert_eq!(loaded.tags.samples(id), tags.samples(id));
        assert_eq!(
            loaded
                .ids
                .candidates(7_u64.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .collect::<Vec<_>>(),
            vec![Position(7)]
        );
    }

    #[test]
    fn a_damaged_or_foreign_cache_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = FingerprintKey::derive(&[1; 32]);
        let (tags, ids) = indexes(300);
        write(dir.path(), &key.check(), 300, &Hash([7; 32]), &tags, &ids).expect("writes");
        let other = FingerprintKey::derive(&[2; 32]);
        assert!(matches!(
            load(dir.path(), &other.check()),
            Err(LoadError::Invalid(_))
        ));
        let bytes = fs::read(path(dir.path())).expect("reads");
        for at in [
            0,
            20,
            200,
            bytes.len() / 2,
            bytes.len() - 40,
            bytes.len() - 1,
        ] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            fs::write(path(dir.path()), &damaged).expect("writes");
            assert!(
                matches!(load(dir.path(), &key.check()), Err(LoadError::Invalid(_))),
                "byte {at} flipped"
            );
        }
        fs::write(path(dir.path()), &bytes[..bytes.len() - 100]).expect("writes");
        assert!(load(dir.path(), &key.check()).is_err(), "truncated");
        remove(dir.path()).expect("removes");
        assert!(matches!(
            load(dir.path(), &key.check()),
            Err(LoadError::Missing)
        ));
    }
}
