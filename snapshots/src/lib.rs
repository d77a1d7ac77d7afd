//! Projection state persisted at a (position, head hash) pair, loaded only after the ledger
//! confirms that head, then brought up to date by replaying the tail.
//!
//! What it is: a cache that makes start-up fast. A snapshot is never the truth: every load
//! checks the file's own integrity (magic, versions, checksum) and then asks the ledger whether
//! the record before the snapshot's position has the snapshot's head hash. A damaged, stale,
//! older-code or other-unit-data snapshot is skipped with a warning and the next older one is
//! tried; when none is usable the projections are rebuilt from the start. Deleting every
//! snapshot loses nothing.
//!
//! # File format (version 1)
//! One file per snapshot, `snapshot-<position, 20 digits>.bin`, in the snapshot directory. All
//! integers are little-endian. A 128-byte header, then the body:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `RESSNAP\0` |
//! | 8 | 4 | format version (`u32`, 1) |
//! | 12 | 4 | projection state version ([`residence_projections::STATE_VERSION`]) |
//! | 16 | 32 | `unit_data_hash()` of the embedded administrative units |
//! | 48 | 8 | position: the number of records folded (`u64`) |
//! | 56 | 32 | head hash: the record hash of position − 1, or the genesis hash at 0 |
//! | 88 | 8 | body length in bytes (`u64`) |
//! | 96 | 32 | checksum: `BLAKE3(header bytes 0..96 ‖ body)` |
//! | 128 | n | body: [`Projections::to_bytes`] |
//!
//! The checksum covers the header too, so a flipped bit anywhere is detected.
//!
//! # Writing
//! The file is written under a temporary name (`.snapshot-<position>.tmp`), fsynced, renamed to
//! its final name, and the directory is fsynced, so a crash leaves either the old set of
//! snapshots or the new one, never a partial file under a final name. Then all but the newest
//! `keep` snapshots are removed (3 by default).
//!
//! A server writes one at a clean stop and periodically while it runs (so that a restart after
//! a crash replays only the tail since the last period): it encodes under its projections'
//! read lock ([`Encoded::of`]) and writes after releasing it ([`SnapshotStore::write_encoded`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use residence_domain::units::unit_data_hash;
use residence_ledger::hash::Hash;
use residence_ledger::ledger::Ledger;
use residence_ledger::record::Position;
use residence_projections::{
    CatchUpError, Projections, ReplayStats, STATE_VERSION, StateDecodeError,
};

/// The magic bytes opening a snapshot file.
pub const MAGIC: [u8; 8] = *b"RESSNAP\0";

/// The version of the file format (the header and its checksum).
pub const FORMAT_VERSION: u32 = 1;

/// The header's length in bytes.
pub const HEADER_BYTES: usize = 128;

/// How many snapshots are kept by default.
pub const KEEP_DEFAULT: usize = 3;

/// The largest snapshot body read (a limit on everything): 64 GiB.
pub const BODY_BYTES_MAX: u64 = 64 << 30;

/// The bytes of the header covered by the checksum (everything before it).
const CHECKED_HEADER_BYTES: usize = 96;

/// A snapshot file and the position it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    /// Its path.
    pub path: PathBuf,
    /// The position in its name.
    pub position: u64,
}

/// Why a snapshot was not used. Each is logged with `tracing::warn` and the next older snapshot
/// is tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    /// The file could not be read.
    #[error("unreadable: {0}")]
    Unreadable(String),
    /// The file is shorter than its header says, or has bytes after the body.
    #[error("truncated or padded")]
    Length,
    /// The file does not start with the snapshot magic.
    #[error("not a snapshot file")]
    Magic,
    /// Another file format version.
    #[error("file format version {found}, this binary reads {FORMAT_VERSION}")]
    FormatVersion {
        /// The version found.
        found: u32,
    },
    /// Written by another projection code version (the state layout changed).
    #[error("projection state version {found}, this binary writes {STATE_VERSION}")]
    CodeVersion {
        /// The version found.
        found: u32,
    },
    /// Built on other administrative unit data than this binary embeds.
    #[error("built on other administrative unit data")]
    UnitData,
    /// The checksum does not match: the file is damaged.
    #[error("checksum mismatch")]
    Checksum,
    /// The file name and the header name different positions.
    #[error("file name says position {named}, header says {header}")]
    NameMismatch {
        /// The position in the name.
        named: u64,
        /// The position in the header.
        header: u64,
    },
    /// The snapshot is ahead of the ledger (the ledger was restored from an older backup, or
    /// the snapshot belongs to another ledger).
    #[error("snapshot at position {position} is ahead of the ledger head {head}")]
    AheadOfLedger {
        /// The snapshot's position.
        position: u64,
        /// The ledger's head.
        head: u64,
    },
    /// The ledger's record before the snapshot's position has another hash: the snapshot is
    /// stale or of another ledger.
    #[error("the ledger's head at position {position} differs from the snapshot's")]
    HeadMismatch {
        /// The snapshot's position.
        position: u64,
    },
    /// The ledger could not be read to check the head.
    #[error("the ledger could not be read to check the head: {0}")]
    LedgerRead(String),
    /// The body does not decode as projection state.
    #[error("body: {0}")]
    State(StateDecodeError),
    /// The decoded body names another position or head than the header.
    #[error("body and header disagree")]
    BodyMismatch,
}

/// A snapshot that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub file: SnapshotFile,
    /// Why.
    pub reason: SkipReason,
}

/// Why the snapshot directory could not be used at all.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// An IO call failed on the directory or a file. → writing a snapshot failed (the old ones
    /// stay); the service carries on without a new snapshot and reports it.
    #[error("{operation} {}: {source}", path.display())]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

/// Why restoring failed. Skipped snapshots never cause this: only the replay can.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The snapshot directory could not be listed.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// Replaying the tail failed. → start-up fails with the cause (see [`CatchUpError`]).
    #[error(transparent)]
    Replay(#[from] CatchUpError),
}

/// What a snapshot write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file written.
    pub file: SnapshotFile,
    /// Its size in bytes.
    pub bytes: u64,
    /// Snapshots removed because more than `keep` existed.
    pub removed: Vec<SnapshotFile>,
    /// How long it took.
    pub elapsed: Duration,
}

/// The result of loading.
#[derive(Debug)]
pub struct Loaded {
    /// The projections: from the newest usable snapshot, or empty.
    pub projections: Projections,
    /// The snapshot used, if any.
    pub used: Option<SnapshotFile>,
    /// The snapshots tried first and skipped.
    pub skipped: Vec<Skipped>,
    /// How long loading took (reading, checking, decoding).
    pub elapsed: Duration,
}

/// The result of restoring (loading, then replaying the tail).
#[derive(Debug)]
pub struct Restored {
    /// The projections, caught up with the ledger's head.
    pub projections: Projections,
    /// The snapshot used, if any.
    pub used: Option<SnapshotFile>,
    /// The snapshots skipped.
    pub skipped: Vec<Skipped>,
    /// How long loading took.
    pub load_elapsed: Duration,
    /// The tail replay.
    pub replay: ReplayStats,
}

/// A directory of snapshots.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
    keep: usize,
}

fn io_error(operation: &'static str, path: &Path) -> impl FnOnce(io::Error) -> SnapshotError {
    let path = path.to_path_buf();
    move |source| SnapshotError::Io {
        operation,
        path,
        source,
    }
}

/// The final name of the snapshot at `position`.
fn file_name(position: u64) -> String {
    format!("snapshot-{position:020}.bin")
}

/// The position a final snapshot name names.
fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("snapshot-")?.strip_suffix(".bin")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The header of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    format: u32,
    code: u32,
    unit_data: [u8; 32],
    position: u64,
    head: [u8; 32],
    body_len: u64,
    checksum: [u8; 32],
}

impl Header {
    fn encode(&self) -> [u8; HEADER_BYTES] {
        let mut bytes = [0u8; HEADER_BYTES];
        bytes[0..8].copy_from_slice(&MAGIC);
        bytes[8..12].copy_from_slice(&self.format.to_le_bytes());
        bytes[12..16].copy_from_slice(&self.code.to_le_bytes());
        bytes[16..48].copy_from_slice(&self.unit_data);
        bytes[48..56].copy_from_slice(&self.position.to_le_bytes());
        bytes[56..88].copy_from_slice(&self.head);
        bytes[88..96].copy_from_slice(&self.body_len.to_le_bytes());
        bytes[96..128].copy_from_slice(&self.checksum);
        bytes
    }

    fn decode(bytes: &[u8; HEADER_BYTES]) -> Result<Header, SkipReason> {
        let array = |range: std::ops::Range<usize>| -> [u8; 32] {
            let mut out = [0u8; 32];
            if let Some(slice) = bytes.get(range) {
                out.copy_from_slice(slice);
            }
            out
        };
        let u32_at = |at: usize| {
            let mut out = [0u8; 4];
            if let Some(slice) = bytes.get(at..at + 4) {
                out.copy_from_slice(slice);
            }
            u32::from_le_bytes(out)
        };
        let u64_at = |at: usize| {
            let mut out = [0u8; 8];
            if let Some(slice) = bytes.get(at..at + 8) {
                out.copy_from_slice(slice);
            }
            u64::from_le_bytes(out)
        };
        if bytes.get(0..8) != Some(MAGIC.as_slice()) {
            return Err(SkipReason::Magic);
        }
        Ok(Header {
            format: u32_at(8),
            code: u32_at(12),
            unit_data: array(16..48),
            position: u64_at(48),
            head: array(56..88),
            body_len: u64_at(88),
            checksum: array(96..128),
        })
    }
}

/// The checksum of a header's first 96 bytes and a body.
fn checksum(header: &[u8; HEADER_BYTES], body: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(header.get(..CHECKED_HEADER_BYTES).unwrap_or(&[]));
    hasher.update(body);
    *hasher.finalize().as_bytes()
}

/// The complete bytes of a snapshot of `projections` (header and body).
#[must_use]
pub fn encode(projections: &Projections) -> Vec<u8> {
    let body = projections.to_bytes();
    let mut header = Header {
        format: FORMAT_VERSION,
        code: STATE_VERSION,
        unit_data: unit_data_hash(),
        position: projections.position(),
        head: projections.head_hash().0,
        body_len: body.len() as u64,
        checksum: [0; 32],
    };
    header.checksum = checksum(&header.encode(), &body);
    let mut bytes = Vec::with_capacity(HEADER_BYTES + body.len());
    bytes.extend_from_slice(&header.encode());
    bytes.extend_from_slice(&body);
    bytes
}

/// A snapshot's complete bytes (header and body) and the position they are of: encoded from
/// projections, not yet written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    position: u64,
    bytes: Vec<u8>,
}

impl Encoded {
    /// The snapshot of `projections` ([`encode`]).
    #[must_use]
    pub fn of(projections: &Projections) -> Encoded {
        Encoded {
            position: projections.position(),
            bytes: encode(projections),
        }
    }

    /// The number of records folded into it.
    #[must_use]
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Its size in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether it has no bytes (never: a header is always there).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Checks a snapshot's bytes on their own (not against a ledger) and returns its header and
/// body.
fn check_bytes(bytes: &[u8]) -> Result<(Header, &[u8]), SkipReason> {
    let (head, body) = bytes
        .split_first_chunk::<HEADER_BYTES>()
        .ok_or(SkipReason::Length)?;
    let header = Header::decode(head)?;
    if header.format != FORMAT_VERSION {
        return Err(SkipReason::FormatVersion {
            found: header.format,
        });
    }
    if body.len() as u64 != header.body_len {
        return Err(SkipReason::Length);
    }
    if checksum(head, body) != header.checksum {
        return Err(SkipReason::Checksum);
    }
    if header.code != STATE_VERSION {
        return Err(SkipReason::CodeVersion { found: header.code });
    }
    if header.unit_data != unit_data_hash() {
        return Err(SkipReason::UnitData);
    }
    Ok((header, body))
}

impl SnapshotStore {
    /// A store in `dir` (created if missing) keeping the newest `keep` snapshots (at least 1).
    ///
    /// # Errors
    /// [`SnapshotError::Io`] when the directory cannot be created.
    pub fn open(dir: &Path, keep: usize) -> Result<SnapshotStore, SnapshotError> {
        fs::create_dir_all(dir).map_err(io_error("create", dir))?;
        Ok(SnapshotStore {
            dir: dir.to_path_buf(),
            keep: keep.max(1),
        })
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The snapshots in the directory, newest (highest position) first. Files with other names
    /// are ignored.
    ///
    /// # Errors
    /// [`SnapshotError::Io`] when the directory cannot be listed.
    pub fn list(&self) -> Result<Vec<SnapshotFile>, SnapshotError> {
        let mut files = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_error("list", &self.dir))? {
            let entry = entry.map_err(io_error("list", &self.dir))?;
            let name = entry.file_name();
            if let Some(position) = name.to_str().and_then(parse_name) {
                files.push(SnapshotFile {
                    path: entry.path(),
                    position,
                });
            }
        }
        files.sort_by_key(|file| std::cmp::Reverse(file.position));
        Ok(files)
    }

    /// Writes a snapshot of `projections` atomically, then removes all but the newest `keep`.
    ///
    /// # Errors
    /// [`SnapshotError::Io`]; a failed write leaves the earlier snapshots as they were.
    pub fn write(&self, projections: &Projections) -> Result<Written, SnapshotError> {
        let started = Instant::now();
        let mut written = self.write_encoded(&Encoded::of(projections))?;
        written.elapsed = started.elapsed();
        Ok(written)
    }

    /// Writes a snapshot encoded earlier ([`Encoded::of`]) atomically, then removes all but the
    /// newest `keep`. A server encodes while it holds its projections (the follower waits
    /// meanwhile) and writes after it let them go.
    ///
    /// Writes of one store MUST NOT run concurrently: two writes of one position share a
    /// temporary file name.
    ///
    /// # Errors
    /// [`SnapshotError::Io`]; a failed write leaves the earlier snapshots as they were.
    pub fn write_encoded(&self, snapshot: &Encoded) -> Result<Written, SnapshotError> {
        let started = Instant::now();
        let Encoded { position, bytes } = snapshot;
        let position = *position;
        let temporary = self.dir.join(format!(".snapshot-{position:020}.tmp"));
        let path = self.dir.join(file_name(position));
        {
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&temporary)
                .map_err(io_error("create", &temporary))?;
            file.write_all(bytes)
                .map_err(io_error("write", &temporary))?;
            file.sync_all().map_err(io_error("fsync", &temporary))?;
        }
        fs::rename(&temporary, &path).map_err(io_error("rename", &temporary))?;
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error("fsync", &self.dir))?;
        let mut removed = Vec::new();
        for old in self.list()?.into_iter().skip(self.keep) {
            fs::remove_file(&old.path).map_err(io_error("remove", &old.path))?;
            removed.push(old);
        }
        Ok(Written {
            file: SnapshotFile { path, position },
            bytes: bytes.len() as u64,
            removed,
            elapsed: started.elapsed(),
        })
    }

    /// Loads the newest snapshot that passes every check against `ledger` (see the module
    /// documentation), or empty projections of the ledger when none does. Skipped snapshots
    /// are logged and returned; they are left on disk for inspection.
    ///
    /// # Errors
    /// [`SnapshotError::Io`] when the directory cannot be listed.
    pub fn load(&self, ledger: &Ledger) -> Result<Loaded, SnapshotError> {
        let started = Instant::now();
        let mut skipped = Vec::new();
        for file in self.list()? {
            match load_one(&file, ledger) {
                Ok(projections) => {
                    return Ok(Loaded {
                        projections,
                        used: Some(file),
                        skipped,
                        elapsed: started.elapsed(),
                    });
                }
                Err(reason) => {
                    tracing::warn!(
                        path = %file.path.display(),
                        position = file.position,
                        %reason,
                        "snapshot skipped"
                    );
                    skipped.push(Skipped { file, reason });
                }
            }
        }
        Ok(Loaded {
            projections: Projections::new(ledger.genesis_hash()),
            used: None,
            skipped,
            elapsed: started.elapsed(),
        })
    }

    /// Loads the newest usable snapshot and replays the ledger's tail after it with `threads`
    /// decoder threads.
    ///
    /// # Errors
    /// [`RestoreError`].
    pub fn restore(&self, ledger: &Ledger, threads: usize) -> Result<Restored, RestoreError> {
        let Loaded {
            mut projections,
            used,
            skipped,
            elapsed,
        } = self.load(ledger)?;
        let replay = projections.catch_up(ledger, threads)?;
        Ok(Restored {
            projections,
            used,
            skipped,
            load_elapsed: elapsed,
            replay,
        })
    }
}

/// Reads and checks one snapshot against `ledger`.
fn load_one(file: &SnapshotFile, ledger: &Ledger) -> Result<Projections, SkipReason> {
    let mut handle = File::open(&file.path).map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    let length = handle
        .metadata()
        .map_err(|e| SkipReason::Unreadable(e.to_string()))?
        .len();
    if length > BODY_BYTES_MAX + HEADER_BYTES as u64 {
        return Err(SkipReason::Length);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    handle
        .read_to_end(&mut bytes)
        .map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    let (header, body) = check_bytes(&bytes)?;
    if header.position != file.position {
        return Err(SkipReason::NameMismatch {
            named: file.position,
            header: header.position,
        });
    }
    check_head(ledger, header.position, Hash(header.head))?;
    let projections = Projections::from_bytes(body).map_err(SkipReason::State)?;
    if projections.position() != header.position || projections.head_hash() != Hash(header.head) {
        return Err(SkipReason::BodyMismatch);
    }
    Ok(projections)
}

/// Whether the ledger's record at `position − 1` (the genesis at 0) has hash `head`.
fn check_head(ledger: &Ledger, position: u64, head: Hash) -> Result<(), SkipReason> {
    let size = ledger.head().size;
    if position > size {
        return Err(SkipReason::AheadOfLedger {
            position,
            head: size,
        });
    }
    let actual = match position.checked_sub(1) {
        None => ledger.genesis_hash(),
        Some(last) => {
            ledger
                .read(Position(last))
                .map_err(|e| SkipReason::LedgerRead(e.to_string()))?
                .record_hash
        }
    };
    if actual == head {
        Ok(())
    } else {
        Err(SkipReason::HeadMismatch { position })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(parse_name(&file_name(42)), Some(42));
        assert_eq!(parse_name(&file_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_name("snapshot-42.bin"), None);
        assert_eq!(parse_name(".snapshot-00000000000000000042.tmp"), None);
    }

    #[test]
    fn header_round_trips() {
        let header = Header {
            format: 1,
            code: 2,
            unit_data: [3; 32],
            position: 4,
            head: [5; 32],
            body_len: 6,
            checksum: [7; 32],
        };
        assert_eq!(Header::decode(&header.encode()), Ok(header));
    }
}
