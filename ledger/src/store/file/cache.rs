//! The offset cache: for each sealed segment, the byte offsets of its frames, so that opening a
//! large ledger does not read every segment file end to end.
//!
//! Why: opening must rebuild the position index (one `u32` per record). Walking the frames of
//! ten million records means reading every byte of every segment once; reading a cache of four
//! bytes per record does not. The cache is derived data (FORMAT.md §7): it lives in
//! `index/offsets-<first position>.bin`, may be deleted at any time, and is trusted only after it
//! is checked against the segment it describes.
//!
//! Layout (little-endian), written only for a sealed segment (one that a later segment follows,
//! so its frames never change again except by payload erasure, which keeps every offset):
//!
//! ```text
//! [8]  magic          "RESLOFF" 0x00
//! u32  version        1
//! u32  reserved       0
//! u64  first_position the segment's first position
//! u64  segment_len    the segment file's length in bytes
//! u64  count          number of frames
//! [count] u32         frame offsets, strictly increasing
//! [32] checksum       BLAKE3 of every byte above
//! ```
//!
//! Trust rules: the checksum must match, the first position and file length must equal the
//! segment's, the offsets must start right after the header, grow by at least a minimal frame
//! and by at most a maximal one, and the store then reads the first and the last frame's length
//! and trailer to confirm them. The invariant that makes this enough: a cache file exists only for
//! a segment sealed with exactly the content it describes, because `truncate_torn` durably deletes
//! the caches of every segment it touches before it truncates, and opening durably deletes the
//! cache of the last segment before anything is appended to it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::segment::{FRAME_OVERHEAD, HEADER_LEN, MAX_RECORD_BYTES, u32_at};

const MAGIC: [u8; 8] = *b"RESLOFF\0";
const VERSION: u32 = 1;
const PREFIX_LEN: usize = 40;
const CHECKSUM_LEN: usize = 32;

/// The cache file of the segment starting at `first_position`.
pub fn path(index_dir: &Path, first_position: u64) -> PathBuf {
    index_dir.join(format!("offsets-{first_position:020}.bin"))
}

/// Loads the cached offsets of a segment, or `None` when there is no cache or it fails any of
/// the structural checks (see the module docs); the caller still checks the frames at both ends.
pub fn load(index_dir: &Path, first_position: u64, segment_len: u64) -> Option<Vec<u32>> {
    let file = path(index_dir, first_position);
    let bytes = match fs::read(&file) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return None,
        // The cache is derived: an unreadable one is walked around like a missing one, but said.
        Err(error) => {
            tracing::warn!(cache = %file.display(), %error, "could not read the offset cache; walking the segment instead");
            return None;
        }
    };
    if bytes.len() < PREFIX_LEN + CHECKSUM_LEN
        || !(bytes.len() - PREFIX_LEN - CHECKSUM_LEN).is_multiple_of(4)
    {
        return None;
    }
    let (body, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    if blake3::hash(body).as_bytes() != checksum {
        return None;
    }
    let field = |at: usize| {
        let mut le = [0u8; 8];
        le.copy_from_slice(&body[at..at + 8]);
        u64::from_le_bytes(le)
    };
    let header_ok = body[0..8] == MAGIC
        && u32_at(body, 8) == VERSION
        && u32_at(body, 12) == 0
        && field(16) == first_position
        && field(24) == segment_len;
    let count = usize::try_from(field(32)).ok()?;
    if !header_ok || count != (body.len() - PREFIX_LEN) / 4 {
        return None;
    }
    let offsets: Vec<u32> = body[PREFIX_LEN..]
        .chunks_exact(4)
        .map(|chunk| u32_at(chunk, 0))
        .collect();
    let frame_sizes = FRAME_OVERHEAD + 1..=FRAME_OVERHEAD + MAX_RECORD_BYTES as u64;
    let mut previous: Option<u64> = None;
    for offset in offsets.iter().map(|offset| u64::from(*offset)) {
        let plausible = match previous {
            None => offset == HEADER_LEN,
            Some(previous) => offset
                .checked_sub(previous)
                .is_some_and(|gap| frame_sizes.contains(&gap)),
        };
        if !plausible {
            return None;
        }
        previous = Some(offset);
    }
    if let Some(last) = offsets.last() {
        let last_len = segment_len.checked_sub(u64::from(*last))?;
        if !frame_sizes.contains(&last_len) {
            return None;
        }
    } else if segment_len != HEADER_LEN {
        return None;
    }
    Some(offsets)
}

/// Writes the cache of a sealed segment (to a temporary file, then renamed over the old one).
/// It is not fsynced: a cache lost or torn by a crash fails its checksum and is rebuilt.
///
/// # Errors
/// The IO error of a failed write or rename; the caller logs it and carries on.
pub fn store(
    index_dir: &Path,
    first_position: u64,
    segment_len: u64,
    offsets: &[u32],
) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(PREFIX_LEN + offsets.len() * 4 + CHECKSUM_LEN);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&first_position.to_le_bytes());
    bytes.extend_from_slice(&segment_len.to_le_bytes());
    bytes.extend_from_slice(&(offsets.len() as u64).to_le_bytes());
    for offset in offsets {
        bytes.extend_from_slice(&offset.to_le_bytes());
    }
    let checksum = blake3::hash(&bytes);
    bytes.extend_from_slice(checksum.as_bytes());
    let final_path = path(index_dir, first_position);
    let temporary = final_path.with_extension("tmp");
    fs::write(&temporary, &bytes)?;
    fs::rename(&temporary, &final_path)
}

/// Deletes the cache of a segment; `Ok(true)` when there was one.
///
/// # Errors
/// The IO error of a failed removal (a missing file is not an error).
pub fn remove(index_dir: &Path, first_position: u64) -> io::Result<bool> {
    match fs::remove_file(path(index_dir, first_position)) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let dir = tempfile::tempdir().expect("temp dir");
        let offsets = [64u32, 80, 100];
        let segment_len = 100 + 8 + 5;
        store(dir.path(), 7, segment_len, &offsets).expect("store");
        assert_eq!(load(dir.path(), 7, segment_len), Some(offsets.to_vec()));
        assert_eq!(
            load(dir.path(), 7, segment_len + 1),
            None,
            "length must match"
        );
        assert_eq!(
            load(dir.path(), 8, segment_len),
            None,
            "no cache for another segment"
        );

        let file = path(dir.path(), 7);
        let mut bytes = fs::read(&file).expect("read");
        bytes[45] ^= 1;
        fs::write(&file, &bytes).expect("write");
        assert_eq!(
            load(dir.path(), 7, segment_len),
            None,
            "checksum must match"
        );

        assert!(remove(dir.path(), 7).expect("remove"));
        assert!(!remove(dir.path(), 7).expect("remove again"));
    }

    #[test]
    fn offsets_must_be_plausible() {
        let dir = tempfile::tempdir().expect("temp dir");
        store(dir.path(), 0, 200, &[64, 70]).expect("store");
        assert_eq!(
            load(dir.path(), 0, 200),
            None,
            "frames closer than a minimal frame"
        );
        store(dir.path(), 0, 200, &[65]).expect("store");
        assert_eq!(
            load(dir.path(), 0, 200),
            None,
            "first frame must follow the header"
        );
        store(dir.path(), 0, 64, &[]).expect("store");
        assert_eq!(load(dir.path(), 0, 64), Some(Vec::new()));
    }
}
