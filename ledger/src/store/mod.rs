//! The segment store: durable storage of already-formed records by position.
//!
//! A store knows nothing of hashes, tags or households. It keeps opaque record bytes ("frames'
//! contents") in position order, 0-based and gapless, and makes them durable. Everything that
//! gives those bytes meaning (the record codec, the hash chain, tag indexes, conditions,
//! idempotency, the Merkle tree) sits above it in the sequencer and is shared by every backend,
//! so a second backend (EventStoreDB) only has to honour this contract.
//!
//! # Contract
//! - `append` MUST NOT return `Ok` before every record it was given is durable (for the file
//!   backend: written and fdatasync'ed, and the directory fsync'ed when a file was created).
//! - `append` MUST refuse an empty record with [`StoreError::Invalid`] (every stored record has
//!   at least one byte, so a zero length on disk always means damage or a torn write).
//! - `append` MUST assign positions `len()..len()+n` in order, with no gaps and no reordering.
//! - After any `append` error the store MUST be failed: every later `append` MUST return
//!   [`StoreError::Failed`] without touching storage (fail-stop: a failed fsync may have dropped
//!   data from the page cache, so retrying and carrying on could acknowledge lost data).
//! - `read` MUST return exactly the bytes given to `append` for that position, or
//!   [`StoreError::OutOfRange`]; it MUST NOT return bytes of a record that is not durable.
//! - `len` MUST count only durable records.
//! - A store MUST refuse to open a directory that another live process holds open for writing.
//! - `truncate_torn` is only called by the sequencer while opening, for records that were never
//!   acknowledged (a torn tail); a store MUST NOT truncate on its own, except for an incomplete
//!   frame at the very end of its last file, which it drops on open and reports in
//!   [`OpenReport`].
//! - Neither MUST ever cut a record below the [`Cover`] (the records a signed checkpoint or the
//!   synced tree covers, which were acknowledged): damage there is refused with
//!   [`StoreError::DamagedCovered`], naming the file and byte offset, and nothing is cut.
//! - `zero_range` is the only in-place change a store makes: it overwrites bytes of a stored
//!   record with zeros (payload erasure) and makes that durable before returning.

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod fault;
pub mod file;
pub mod memory;

use std::ops::ControlFlow;
use std::path::PathBuf;

/// Where a record lives, for error messages and `verify` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file (or stream) holding the record.
    pub file: PathBuf,
    /// Byte offset of the record's frame within that file.
    pub offset: u64,
}

/// What opening a store found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Number of complete records found.
    pub records: u64,
    /// Bytes of an incomplete frame dropped from the end of the last file (a torn write).
    pub torn_bytes_dropped: u64,
    /// Each torn tail found (an incomplete frame, or an unfinished segment file): what it was and
    /// whether it was removed (a store opened read-only leaves it in place).
    pub torn: Vec<TornBytes>,
    /// The records opening was not allowed to cut, if any were covered.
    pub cover: Option<Cover>,
}

/// Bytes at the end of the log that the torn-write rule (`FORMAT.md` §6.5) found: they were
/// never acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornBytes {
    /// The file.
    pub file: PathBuf,
    /// Where the torn bytes start (the start of the torn frame, or 0 for a whole file).
    pub offset: u64,
    /// How many bytes, to the end of the file.
    pub bytes: u64,
    /// The position the first record in them would have had.
    pub position: u64,
    /// Why they are torn.
    pub detail: String,
    /// Whether they were removed (false when the store was opened read-only).
    pub removed: bool,
}

/// The records (positions `0..records`) that opening MUST NOT cut, and the file that covers
/// them: a signed checkpoint note, or the stored tree's `synced` marker. Both are written only
/// after the records they cover were acknowledged, so damage among them is never a torn write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    /// The number of records covered.
    pub records: u64,
    /// The checkpoint note or tree marker that covers them.
    pub file: PathBuf,
}

impl std::fmt::Display for Cover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "records 0..{} are covered by {}",
            self.records,
            self.file.display()
        )
    }
}

/// Where a store learns its [`Cover`] when it opens.
#[derive(Clone, Default)]
pub enum CoverSource {
    /// Nothing is covered (a new store, tests of the store alone).
    #[default]
    Nothing,
    /// This cover.
    Fixed(Cover),
    /// Asked once the store holds its lock, so that no other process can sign meanwhile (the
    /// ledger directory reads its checkpoints and tree marker).
    Read(std::sync::Arc<dyn Fn() -> Result<Option<Cover>, StoreError> + Send + Sync>),
}

impl CoverSource {
    /// The cover, read now.
    ///
    /// # Errors
    /// Whatever reading it fails with.
    pub fn read(&self) -> Result<Option<Cover>, StoreError> {
        match self {
            CoverSource::Nothing => Ok(None),
            CoverSource::Fixed(cover) => Ok(Some(cover.clone())),
            CoverSource::Read(read) => read(),
        }
    }
}

impl std::fmt::Debug for CoverSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CoverSource::Nothing => f.write_str("Nothing"),
            CoverSource::Fixed(cover) => f.debug_tuple("Fixed").field(cover).finish(),
            CoverSource::Read(_) => f.write_str("Read(..)"),
        }
    }
}

/// Failures of a segment store. Every variant is a technical failure, never a user error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An IO call failed. On append this fails the store (→ 503, ledger stops accepting appends).
    #[error("{operation} failed on {}: {source}", file.display())]
    Io {
        /// What was being done ("write", "fdatasync", "open", …).
        operation: &'static str,
        /// The file involved.
        file: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An earlier append failed; the store accepts no more appends until reopened by an operator.
    /// → 503 with the original cause.
    #[error("store is failed and accepts no appends: {cause}")]
    Failed {
        /// The first failure, as text.
        cause: String,
    },
    /// A position at or beyond `len()` was asked for. → 404/416 at the API.
    #[error("position {position} is beyond the end of the store ({len} records)")]
    OutOfRange {
        /// The requested position.
        position: u64,
        /// The number of records stored.
        len: u64,
    },
    /// Another process holds the store's lock. → refuse to start.
    #[error("{} is locked by another process", dir.display())]
    Locked {
        /// The store directory.
        dir: PathBuf,
    },
    /// Stored bytes do not have the store's framing (bad magic, version, or a damaged frame that
    /// is not at the tail). → refuse to open and point to `residence verify`.
    #[error("{} is damaged at byte {offset}: {detail}", file.display())]
    Damaged {
        /// The file at fault.
        file: PathBuf,
        /// Byte offset of the damage.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// A bad frame that the torn-tail rule would cut (or an unfinished last segment file) holds
    /// a record the [`Cover`] covers: that record was acknowledged, so this is damage, not a
    /// torn write. Nothing was cut. → refuse to open; run `residence verify`; restore the file
    /// from a backup.
    #[error(
        "{} is damaged at byte {offset} (record {position}): {detail}; {cover}, so this is damage, \
         not a torn write, and nothing was cut: run `residence verify`",
        file.display()
    )]
    DamagedCovered {
        /// The file at fault.
        file: PathBuf,
        /// Byte offset of the bad frame.
        offset: u64,
        /// The position of the record the bad frame holds.
        position: u64,
        /// What is wrong with the frame.
        detail: String,
        /// What covers the record.
        cover: Cover,
    },
    /// The request itself breaks the contract (e.g. a record larger than the store's limit).
    #[error("invalid store request: {0}")]
    Invalid(String),
}

/// Durable storage of formed records by position. See the module docs for the contract.
pub trait SegmentStore: Send + Sync + std::fmt::Debug {
    /// The number of durable records; the next append gets this position.
    fn len(&self) -> u64;

    /// Whether the store holds no record.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends records at positions `len()..len()+records.len()` and makes them durable.
    ///
    /// # Errors
    /// [`StoreError::Io`] on a failed write or sync (the store is failed from then on),
    /// [`StoreError::Failed`] after an earlier failure, [`StoreError::Invalid`] for an
    /// oversized record (the store is not failed by that).
    fn append(&self, records: &[&[u8]]) -> Result<(), StoreError>;

    /// The bytes of the record at `position`.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`], [`StoreError::Io`] on a failed read, or
    /// [`StoreError::Damaged`] when the stored framing around the record is broken.
    fn read(&self, position: u64) -> Result<Vec<u8>, StoreError>;

    /// Visits records `from..to` in order (clamped to `len()`), stopping early on `Break`.
    ///
    /// # Errors
    /// [`StoreError::Io`] on a failed read, [`StoreError::Damaged`] on broken framing.
    fn scan(
        &self,
        from: u64,
        to: u64,
        visit: &mut dyn FnMut(u64, &[u8]) -> ControlFlow<()>,
    ) -> Result<(), StoreError>;

    /// Where the record at `position` is stored, if it is.
    fn location(&self, position: u64) -> Option<Location>;

    /// Drops records `from..len()`: only for a torn tail found by the sequencer while opening.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the truncation cannot be made durable, [`StoreError::Failed`]
    /// on a failed store.
    fn truncate_torn(&self, from: u64) -> Result<(), StoreError>;

    /// Overwrites `len` bytes at `offset` within the record at `position` with zeros, durably.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] for a position beyond the end, [`StoreError::Invalid`] for a
    /// byte range outside the record, [`StoreError::Io`] on failure (the store is then failed),
    /// [`StoreError::Failed`] on a failed store.
    fn zero_range(&self, position: u64, offset: usize, len: usize) -> Result<(), StoreError>;
}
