//! The bytes of one segment file (FORMAT.md §6): its name, its 64-byte header, its frames, and
//! the open-time walk that finds every frame and classifies a bad tail as torn or damaged.
//!
//! Why a module of its own: this is the part an independent reader re-implements from the spec,
//! so it is kept free of the store's locking and bookkeeping and reads like §6.1, §6.2 and §6.5.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Length of the segment header (§6.1).
pub const HEADER_LEN: u64 = 64;

/// The header's magic bytes: "RESLEDG" and a zero byte.
pub const MAGIC: [u8; 8] = *b"RESLEDG\0";

/// The segment format version this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Bytes a frame adds around its content: the length before it and the trailer after it.
pub const FRAME_OVERHEAD: u64 = 8;

/// The largest record content a frame may carry (2 MiB): a stored record holds at most a 1 MiB
/// payload, 64 KiB of metadata and 1024 tags, so anything larger is garbage, not a record.
pub const MAX_RECORD_BYTES: usize = 2 * 1024 * 1024;

// The sequencer asserts that every record it writes is within `CONTENT_LEN_MAX`; this makes sure
// the store accepts every such record, so the two limits cannot drift apart unnoticed.
const _: () = assert!(crate::record::CONTENT_LEN_MAX <= MAX_RECORD_BYTES);

/// Bytes read at a time when walking frames (open, scans, the torn-tail checks).
pub const CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// A disk sector: the unit a torn write can leave as zeros (§6.5).
const SECTOR_BYTES: u64 = 512;

/// The file name of the segment whose first record is at `first_position`: 20 decimal digits.
pub fn file_name(first_position: u64) -> String {
    format!("{first_position:020}.seg")
}

/// The first position encoded in a segment file name, or `None` when the name is not 20 decimal
/// digits followed by `.seg`.
pub fn parse_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".seg")?;
    if digits.len() != 20 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The decoded header of a segment file (§6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Position of the file's first record.
    pub first_position: u64,
    /// The ledger's genesis hash (§2.2), tying the file to its ledger.
    pub genesis_hash: [u8; 32],
}

impl Header {
    /// The 64 header bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN as usize] {
        let mut bytes = [0u8; HEADER_LEN as usize];
        bytes[0..8].copy_from_slice(&MAGIC);
        bytes[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes[12..16].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
        bytes[16..24].copy_from_slice(&self.first_position.to_le_bytes());
        bytes[24..56].copy_from_slice(&self.genesis_hash);
        bytes
    }

    /// Decodes and checks the 64 header bytes.
    ///
    /// # Errors
    /// A description of the first field that is wrong.
    pub fn decode(bytes: &[u8; HEADER_LEN as usize]) -> Result<Self, String> {
        if bytes[0..8] != MAGIC {
            return Err(format!("bad magic {}", hex::encode(&bytes[0..8])));
        }
        let version = u32_at(bytes, 8);
        if version != FORMAT_VERSION {
            return Err(format!("unsupported format version {version}"));
        }
        let header_len = u32_at(bytes, 12);
        if u64::from(header_len) != HEADER_LEN {
            return Err(format!("header length {header_len} is not {HEADER_LEN}"));
        }
        if bytes[56..64].iter().any(|byte| *byte != 0) {
            return Err("reserved header bytes are not zero".to_owned());
        }
        let mut genesis_hash = [0u8; 32];
        genesis_hash.copy_from_slice(&bytes[24..56]);
        Ok(Self {
            first_position: u64_at(bytes, 16),
            genesis_hash,
        })
    }
}

/// The little-endian u32 at `at` in `bytes`; the caller guarantees the range.
pub fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut le = [0u8; 4];
    le.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(le)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut le = [0u8; 8];
    le.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(le)
}

/// Appends the frame of `content` (§6.2) to `out`.
pub fn push_frame(out: &mut Vec<u8>, content: &[u8]) {
    // The store checks the record size against MAX_RECORD_BYTES before framing.
    let len = u32::try_from(content.len()).expect("record size was checked against the limit");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(content);
    out.extend_from_slice(&len.to_le_bytes());
}

/// Checks a whole frame held in `frame` and returns its content, or what is wrong with it.
pub fn frame_content(frame: &[u8]) -> Result<&[u8], String> {
    if frame.len() < FRAME_OVERHEAD as usize + 1 {
        return Err(format!("frame of {} bytes is too short", frame.len()));
    }
    let len = u32_at(frame, 0) as usize;
    if len + FRAME_OVERHEAD as usize != frame.len() {
        return Err(format!(
            "frame length {len} does not match the index ({})",
            frame.len()
        ));
    }
    let trailer = u32_at(frame, frame.len() - 4) as usize;
    if trailer != len {
        return Err(format!("trailer {trailer} differs from frame length {len}"));
    }
    Ok(&frame[4..4 + len])
}

/// A read window over a file: the last chunk read, so that walking frames costs one `pread` per
/// chunk rather than per frame.
pub struct Window<'a> {
    file: &'a File,
    file_len: u64,
    buf: &'a mut Vec<u8>,
    start: u64,
    filled: usize,
}

impl<'a> Window<'a> {
    /// A window over the first `file_len` bytes of `file`, reading into `buf`.
    pub fn new(file: &'a File, file_len: u64, buf: &'a mut Vec<u8>) -> Self {
        Self {
            file,
            file_len,
            buf,
            start: 0,
            filled: 0,
        }
    }

    /// The `n` bytes at `offset`, reading forward from `offset` when they are not in the window.
    /// The caller guarantees `offset + n <= file_len` and `n <= CHUNK_BYTES`.
    pub fn forward(&mut self, offset: u64, n: usize) -> io::Result<&[u8]> {
        if !self.holds(offset, n) {
            let want = (self.file_len - offset).min(CHUNK_BYTES as u64) as usize;
            self.load(offset, want)?;
        }
        Ok(self.slice(offset, n))
    }

    /// The `n` bytes at `offset`, reading the chunk that ends at `offset + n` when they are not in
    /// the window (for walking a file backwards).
    pub fn backward(&mut self, offset: u64, n: usize) -> io::Result<&[u8]> {
        if !self.holds(offset, n) {
            let end = offset + n as u64;
            let start = end.saturating_sub(CHUNK_BYTES as u64);
            self.load(start, (end - start) as usize)?;
        }
        Ok(self.slice(offset, n))
    }

    fn holds(&self, offset: u64, n: usize) -> bool {
        offset >= self.start && offset + n as u64 <= self.start + self.filled as u64
    }

    fn load(&mut self, start: u64, len: usize) -> io::Result<()> {
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
        self.filled = 0;
        self.file.read_exact_at(&mut self.buf[..len], start)?;
        self.start = start;
        self.filled = len;
        Ok(())
    }

    fn slice(&self, offset: u64, n: usize) -> &[u8] {
        let at = (offset - self.start) as usize;
        &self.buf[at..at + n]
    }
}

/// How the frames of a file end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    /// The last frame ends exactly at the end of the file.
    Clean,
    /// The file ends inside the frame at `offset` (its length field or its declared extent runs
    /// past the end of the file).
    Incomplete {
        /// Where the incomplete frame starts.
        offset: u64,
        /// What is missing.
        detail: String,
    },
    /// The frame at `offset` lies within the file but is not well formed: zero length, a length
    /// beyond the limit, or a trailer that differs from the length.
    Malformed {
        /// Where the bad frame starts.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
}

/// Walks the frames of a file from `start` (the header's end) to `file_len`, pushing the offset
/// of every well-formed frame onto `offsets` and stopping at the first bad one.
///
/// # Errors
/// The IO error of a failed read.
pub fn walk_frames(
    file: &File,
    start: u64,
    file_len: u64,
    buf: &mut Vec<u8>,
    offsets: &mut Vec<u32>,
) -> io::Result<Tail> {
    let mut window = Window::new(file, file_len, buf);
    let mut offset = start;
    while offset < file_len {
        let remaining = file_len - offset;
        if remaining < 4 {
            let detail = format!("the file ends {remaining} bytes into the frame length");
            return Ok(Tail::Incomplete { offset, detail });
        }
        let len = u64::from(u32_at(window.forward(offset, 4)?, 0));
        if len == 0 {
            return Ok(Tail::Malformed {
                offset,
                detail: "zero frame length".to_owned(),
            });
        }
        if len > MAX_RECORD_BYTES as u64 {
            let detail = format!("frame length {len} exceeds the {MAX_RECORD_BYTES}-byte limit");
            return Ok(Tail::Malformed { offset, detail });
        }
        let frame_bytes = len + FRAME_OVERHEAD;
        if remaining < frame_bytes {
            let detail = format!("frame of {frame_bytes} bytes but only {remaining} remain");
            return Ok(Tail::Incomplete { offset, detail });
        }
        let trailer = u64::from(u32_at(window.forward(offset + 4 + len, 4)?, 0));
        if trailer != len {
            let detail = format!("trailer {trailer} differs from frame length {len}");
            return Ok(Tail::Malformed { offset, detail });
        }
        // Offsets fit in u32: the store refuses segment files of 4 GiB or more.
        offsets.push(u32::try_from(offset).expect("segment files are smaller than 4 GiB"));
        offset += frame_bytes;
    }
    Ok(Tail::Clean)
}

/// Whether a bad frame at `bad` in the last file (incomplete or malformed) is a torn write
/// (§6.5, store level).
///
/// The file is walked backwards from its end: the trailer of the last frame gives its length,
/// the length gives its start, whose length field must repeat it, and so on. If that walk finds no
/// well-formed frame after `bad`, nothing that looks like an acknowledged record follows the bad
/// frame, and the tail is torn. If it does find well-formed frames from `resync` to the end, the
/// bad bytes are torn only when `bad..resync` contains a sector-aligned 512-byte block of zeros (a
/// sector that never reached the disk while later sectors of the same write did); otherwise they
/// are damage in front of acknowledged data, and `Err(resync)` is returned.
///
/// A frame that a crash left incomplete is a prefix of what was written, so the walk starts in
/// the middle of record content and stops at once unless that content happens to end in two
/// equal `u32` values exactly one plausible frame apart.
///
/// # Errors
/// The IO error of a failed read.
pub fn bad_tail_is_torn(
    file: &File,
    bad: u64,
    file_len: u64,
    buf: &mut Vec<u8>,
) -> io::Result<Result<(), u64>> {
    let mut window = Window::new(file, file_len, buf);
    let mut end = file_len;
    let mut resync = None;
    while end > bad + FRAME_OVERHEAD {
        let len = u64::from(u32_at(window.backward(end - 4, 4)?, 0));
        if len == 0 || len > MAX_RECORD_BYTES as u64 || len + FRAME_OVERHEAD > end - bad {
            break;
        }
        let start = end - len - FRAME_OVERHEAD;
        if start <= bad || u64::from(u32_at(window.backward(start, 4)?, 0)) != len {
            break;
        }
        resync = Some(start);
        end = start;
    }
    let Some(resync) = resync else {
        return Ok(Ok(()));
    };
    let mut sector = bad.div_ceil(SECTOR_BYTES) * SECTOR_BYTES;
    while sector + SECTOR_BYTES <= resync {
        if window
            .forward(sector, SECTOR_BYTES as usize)?
            .iter()
            .all(|byte| *byte == 0)
        {
            return Ok(Ok(()));
        }
        sector += SECTOR_BYTES;
    }
    Ok(Err(resync))
}

/// Whether the whole of the first `file_len` bytes of `file` are zero (a file whose creation never
/// reached the disk).
///
/// # Errors
/// The IO error of a failed read.
pub fn all_zero(file: &File, file_len: u64, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut window = Window::new(file, file_len, buf);
    let mut offset = 0;
    while offset < file_len {
        let n = (file_len - offset).min(CHUNK_BYTES as u64) as usize;
        if window.forward(offset, n)?.iter().any(|byte| *byte != 0) {
            return Ok(false);
        }
        offset += n as u64;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_checks() {
        let header = Header {
            first_position: 1_048_576,
            genesis_hash: [7; 32],
        };
        let bytes = header.encode();
        assert_eq!(&bytes[0..8], b"RESLEDG\0");
        assert_eq!(Header::decode(&bytes), Ok(header));
        let mut bad = bytes;
        bad[8] = 2;
        assert!(Header::decode(&bad).is_err());
        let mut bad = bytes;
        bad[60] = 1;
        assert!(Header::decode(&bad).is_err());
    }

    #[test]
    fn file_names() {
        assert_eq!(file_name(1_048_576), "00000000000001048576.seg");
        assert_eq!(parse_file_name("00000000000001048576.seg"), Some(1_048_576));
        assert_eq!(parse_file_name("1048576.seg"), None);
        assert_eq!(parse_file_name("0000000000000104857x.seg"), None);
        assert_eq!(parse_file_name("00000000000001048576.tmp"), None);
    }

    #[test]
    fn frames_round_trip() {
        let mut out = Vec::new();
        push_frame(&mut out, b"abc");
        assert_eq!(out, [3, 0, 0, 0, b'a', b'b', b'c', 3, 0, 0, 0]);
        assert_eq!(frame_content(&out), Ok(&b"abc"[..]));
        out[7] = 4;
        assert!(frame_content(&out).is_err());
    }
}
