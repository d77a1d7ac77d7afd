//! The file backend: the ledger's records in a directory of append-only segment files
//! (FORMAT.md §6), with the fsync discipline, torn-tail repair and exclusive lock of the contract
//! in [`super`].
//!
//! Directory layout:
//!
//! ```text
//! DIR/LOCK                        held with an exclusive `flock` for the store's lifetime
//! DIR/segments/<20 digits>.seg    segment files, named by their first position (§6)
//! DIR/index/offsets-<20 digits>.bin  derived offset caches of sealed segments (see `cache`)
//! ```
//!
//! How it works:
//! - **Appends** are serialized by a mutex around the writer state. A group's frames are built in
//!   one buffer, written with one positioned write at the end of the current segment and
//!   fdatasync'ed. A new segment starts only between records, when the next record would make the
//!   current one exceed `segment_bytes_max` (and the current one already holds a record); the new
//!   file is created with its header, fsync'ed, and the `segments/` directory is fsync'ed before
//!   any record in it is acknowledged. A group that crosses a segment boundary is written as one
//!   write and one sync per segment, and acknowledged after the last.
//! - **Publication.** Readers use a separate index (per segment, a `Vec<u32>` of frame offsets:
//!   4 bytes of memory per record) behind a read-write lock, and a record count. Both are updated
//!   only after the sync succeeded, so `len`, `read` and `scan` never expose a record that is not
//!   durable, and a read never waits behind an fsync, only behind the short index update.
//! - **Fail-stop.** The first failed write or sync (of a file or a directory) fails the store: that
//!   call returns [`StoreError::Io`], every later `append`, `truncate_torn` and `zero_range`
//!   returns [`StoreError::Failed`] without touching the disk. Nothing is retried.
//! - **Opening** takes the lock, checks every header (magic, version, header length, first
//!   position against the file name and the previous file, genesis hash), rebuilds the index
//!   (from the offset cache of sealed segments when it checks out, otherwise by walking the
//!   frames) and repairs the tail of the last file, see [`FileStore::open`].
//!
//! Limits: a record is 1..=[`MAX_RECORD_BYTES`] bytes; one append carries at most
//! [`MAX_APPEND_BYTES`] of frames; `segment_bytes_max` lies in
//! [`MIN_SEGMENT_BYTES_MAX`]..=[`MAX_SEGMENT_BYTES_MAX`], which keeps every frame offset below
//! 4 GiB so that it fits the index's `u32`.

mod baseline;
mod cache;
mod segment;

use std::fs::{self, File, OpenOptions};
use std::io;
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

pub use baseline::baseline_append;
pub use segment::{FORMAT_VERSION, HEADER_LEN, MAGIC, MAX_RECORD_BYTES};

use self::segment::{CHUNK_BYTES, FRAME_OVERHEAD, Header, Tail};
use super::fault::{FaultPlan, Verdict};
use super::{Cover, CoverSource, Location, OpenReport, SegmentStore, StoreError, TornBytes};

/// The default size at which a new segment file is started (1 GiB).
pub const DEFAULT_SEGMENT_BYTES_MAX: u64 = 1 << 30;

/// The smallest allowed `segment_bytes_max`: a header and one one-byte frame. Tiny segments are
/// for tests that want many files.
pub const MIN_SEGMENT_BYTES_MAX: u64 = HEADER_LEN + FRAME_OVERHEAD + 1;

/// The largest allowed `segment_bytes_max` (3 GiB): a segment then stays below 4 GiB even when
/// its last record is a maximal one, so frame offsets fit in a `u32`.
pub const MAX_SEGMENT_BYTES_MAX: u64 = 3 << 30;

/// The most frame bytes one `append` may carry (256 MiB): a limit on the write buffer.
pub const MAX_APPEND_BYTES: usize = 256 * 1024 * 1024;

/// How long opening keeps trying to take a held lock by default (1 s).
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(1);

/// Whether opening uses and maintains the offset caches in `index/`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OffsetCache {
    /// Load the offsets of sealed segments from their caches when the caches check out, and write
    /// a cache for every sealed segment that lacks one (the default).
    #[default]
    Use,
    /// Walk every segment's frames on open and write no caches (stale caches are still deleted
    /// where the store's invariants require it). For measuring and testing the slow path.
    Ignore,
}

/// Whether opening may change the files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OpenMode {
    /// Cut a torn tail beyond the cover, remove an unfinished last segment file, keep the offset
    /// caches: what a store that will be written needs (the default).
    #[default]
    Repair,
    /// Change nothing (`verify`, a dry run): a torn tail is reported in [`OpenReport::torn`]
    /// and left in place, the records before it are the store's, and every `append`,
    /// `truncate_torn` and `zero_range` is refused with [`StoreError::Failed`].
    ReadOnly,
}

/// How to open a [`FileStore`].
#[derive(Debug, Clone)]
pub struct FileStoreOptions {
    /// A new segment file starts when the next record would make the current one larger than this
    /// ([`DEFAULT_SEGMENT_BYTES_MAX`] by default).
    pub segment_bytes_max: u64,
    /// The ledger's genesis hash (FORMAT.md §2.2): written into every segment header and required
    /// of every existing one.
    pub genesis_hash: [u8; 32],
    /// Injected failures, for tests (see [`super::fault`]); `None` in production.
    pub faults: Option<Arc<FaultPlan>>,
    /// Whether to use the offset caches.
    pub offset_cache: OffsetCache,
    /// How long to keep trying when the lock is held ([`DEFAULT_LOCK_WAIT`] by default). See
    /// [`FileStore::open`] for why a short wait is needed at all.
    pub lock_wait: Duration,
    /// The records opening MUST NOT cut ([`CoverSource::Nothing`] by default; the ledger
    /// directory reads its checkpoints and tree marker).
    pub cover: CoverSource,
    /// Whether opening may change the files ([`OpenMode::Repair`] by default).
    pub mode: OpenMode,
}

impl FileStoreOptions {
    /// Default options for the ledger with this genesis hash.
    pub fn new(genesis_hash: [u8; 32]) -> Self {
        Self {
            segment_bytes_max: DEFAULT_SEGMENT_BYTES_MAX,
            genesis_hash,
            faults: None,
            offset_cache: OffsetCache::Use,
            lock_wait: DEFAULT_LOCK_WAIT,
            cover: CoverSource::Nothing,
            mode: OpenMode::Repair,
        }
    }
}

/// One segment file as the readers see it.
struct Segment {
    /// Position of its first record.
    first: u64,
    path: Arc<Path>,
    file: Arc<File>,
    /// File offset of every published frame.
    offsets: Vec<u32>,
    /// End of the last published frame.
    end: u64,
}

impl Segment {
    fn count(&self) -> u64 {
        self.offsets.len() as u64
    }

    /// The offset where frame `index` starts, or the end of the published frames.
    fn boundary(&self, index: usize) -> u64 {
        self.offsets
            .get(index)
            .map_or(self.end, |offset| u64::from(*offset))
    }
}

/// The appender's state, behind the writer mutex.
struct Writer {
    current: Arc<File>,
    current_path: Arc<Path>,
    /// Length of the current segment file: where the next frame goes.
    size: u64,
    /// Position of the next record.
    next_position: u64,
    /// The first failure, once the store has failed.
    failed: Option<String>,
    /// The frame buffer, reused from one append to the next.
    buf: Vec<u8>,
}

/// What a successful group write adds to the index.
struct Group {
    /// Offsets added to the segment that was current when the append began.
    current_offsets: Vec<u32>,
    /// Where that segment's frames end after the append.
    current_end: u64,
    /// Segments created by the append, with their offsets.
    created: Vec<Segment>,
}

/// A frame found in the index.
struct FrameRef {
    file: Arc<File>,
    path: Arc<Path>,
    offset: u64,
    frame_bytes: u64,
}

/// Whole frames of one segment that `scan` reads with one `pread`.
struct Chunk {
    file: Arc<File>,
    path: Arc<Path>,
    /// Offset of the first frame.
    start: u64,
    /// End of the last frame.
    end: u64,
    /// Number of frames.
    count: usize,
}

/// The embedded segment store: see the module docs.
pub struct FileStore {
    dir: PathBuf,
    segments_dir: PathBuf,
    index_dir: PathBuf,
    segment_bytes_max: u64,
    genesis_hash: [u8; 32],
    faults: Option<Arc<FaultPlan>>,
    offset_cache: OffsetCache,
    writer: Mutex<Writer>,
    index: RwLock<Vec<Segment>>,
    len: AtomicU64,
    /// Held open for the store's lifetime: closing it releases the `flock`.
    _lock: File,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FileStore")
            .field("dir", &self.dir)
            .field("len", &self.len())
            .field("segments", &self.index_read().len())
            .field("segment_bytes_max", &self.segment_bytes_max)
            .finish_non_exhaustive()
    }
}

impl FileStore {
    /// Opens (or creates) the store in `dir`.
    ///
    /// Creates `dir`, `dir/segments/` and `dir/index/` when missing (fsyncing each new directory's
    /// parent), takes the exclusive lock on `dir/LOCK`, checks every segment header, rebuilds the
    /// position index and repairs the tail of the last segment file (FORMAT.md §6.5, store part):
    /// - a last file shorter than a header, or entirely zero, is a segment whose creation never
    ///   completed (no record in it was acknowledged): it is deleted;
    /// - the first bad frame of the last file (the file ends inside it, its length is zero or
    ///   beyond [`MAX_RECORD_BYTES`], or its trailer differs from its length) is a torn write when
    ///   nothing that looks like an acknowledged record follows it: walking the file backwards
    ///   from its end (trailer, length, trailer, …) finds no well-formed frame after it, or the
    ///   bytes between it and the well-formed frames that follow hold a sector-aligned 512-byte
    ///   block of zeros (a sector that never reached the disk while later ones of the same write
    ///   did). A torn frame is cut off with everything after it and the truncation fsync'ed.
    ///   Otherwise acknowledged records follow the bad frame, and it is damage.
    ///
    /// The bytes dropped are reported in [`OpenReport::torn_bytes_dropped`] and
    /// [`OpenReport::torn`].
    ///
    /// Nothing the cover covers is ever cut (`FORMAT.md` §6.5): the cover is read once the lock
    /// is held, and a bad frame or unfinished segment file that holds a covered record is
    /// refused with [`StoreError::DamagedCovered`], naming the file and byte offset, whatever
    /// the torn-write rule says. With [`OpenMode::ReadOnly`] nothing is cut or removed at all:
    /// the store ends before the torn bytes and refuses every change.
    ///
    /// The lock is an `flock`, which belongs to the open file, and a process that spawns a child
    /// shares its open files with the child from the fork until the child's `exec` closes them. A
    /// store closed and reopened while another thread spawns a process can therefore find its own
    /// lock still held for a moment; opening retries for up to `lock_wait` before it reports
    /// [`StoreError::Locked`].
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for options out of range; [`StoreError::Locked`] when another
    /// `FileStore` (in this or another process) holds the directory; [`StoreError::Damaged`] for a
    /// bad segment name or header, a gap between segments, a foreign genesis hash, or a bad frame
    /// anywhere but the torn tail of the last file; [`StoreError::DamagedCovered`] for a torn-looking
    /// tail that holds a covered record; [`StoreError::Io`] when the file system fails, and
    /// whatever reading the cover fails with.
    pub fn open(
        dir: impl AsRef<Path>,
        options: FileStoreOptions,
    ) -> Result<(Self, OpenReport), StoreError> {
        let dir = dir.as_ref().to_path_buf();
        if !(MIN_SEGMENT_BYTES_MAX..=MAX_SEGMENT_BYTES_MAX).contains(&options.segment_bytes_max) {
            return Err(StoreError::Invalid(format!(
                "segment_bytes_max {} is outside {MIN_SEGMENT_BYTES_MAX}..={MAX_SEGMENT_BYTES_MAX}",
                options.segment_bytes_max
            )));
        }
        let faults = options.faults.as_deref();
        ensure_dir(&dir, faults)?;
        let lock = take_lock(&dir, options.lock_wait)?;
        let segments_dir = dir.join("segments");
        ensure_dir(&segments_dir, faults)?;
        let index_dir = dir.join("index");
        ensure_dir(&index_dir, faults)?;
        // Read under the lock: no other process can sign a checkpoint from here on.
        let cover = options.cover.read()?;
        let covered = cover.as_ref().map_or(0, |cover| cover.records);
        let read_only = options.mode == OpenMode::ReadOnly;

        let mut report = OpenReport {
            cover: cover.clone(),
            ..OpenReport::default()
        };
        let mut buf = Vec::new();
        let mut names = list_segments(&segments_dir)?;
        if let Some((name_first, path)) = names.last() {
            let stale_len = unfinished_segment_len(path, &mut buf)?;
            if let Some(stale_len) = stale_len {
                let detail = "the segment file is shorter than its header or entirely zero \
                              (its creation never completed)"
                    .to_owned();
                if let Some(cover) = cover.as_ref().filter(|_| *name_first < covered) {
                    return Err(StoreError::DamagedCovered {
                        file: path.clone(),
                        offset: 0,
                        position: *name_first,
                        detail,
                        cover: cover.clone(),
                    });
                }
                if !read_only {
                    fs::remove_file(path).map_err(io_error("remove", path))?;
                    sync_dir(faults, &segments_dir)?;
                    report.torn_bytes_dropped += stale_len;
                    tracing::warn!(file = %path.display(), bytes = stale_len, "removed an unfinished segment file");
                }
                report.torn.push(TornBytes {
                    file: path.clone(),
                    offset: 0,
                    bytes: stale_len,
                    position: *name_first,
                    detail,
                    removed: !read_only,
                });
                names.pop();
            }
        }

        let opener = SegmentOpener {
            index_dir: &index_dir,
            genesis_hash: options.genesis_hash,
            faults,
            offset_cache: options.offset_cache,
            cover: cover.as_ref(),
            read_only,
        };
        let mut segments = Vec::with_capacity(names.len().max(1));
        let mut next_first = 0;
        for (number, (name_first, path)) in names.iter().enumerate() {
            let is_last = number + 1 == names.len();
            let (segment, torn) = opener.open(path, *name_first, next_first, is_last, &mut buf)?;
            if let Some(torn) = torn {
                if torn.removed {
                    report.torn_bytes_dropped += torn.bytes;
                }
                report.torn.push(torn);
            }
            next_first = segment.first + segment.count();
            segments.push(segment);
        }
        drop(buf);
        report.records = next_first;
        let writer = if read_only {
            // Nothing is written through the writer: its file is only a placeholder when there
            // is no segment file (a ledger whose first segment was never created).
            let (current, current_path, size) = match segments.last() {
                Some(last) => (Arc::clone(&last.file), Arc::clone(&last.path), last.end),
                None => {
                    let placeholder =
                        File::open(&segments_dir).map_err(io_error("open", &segments_dir))?;
                    (Arc::new(placeholder), Arc::from(segments_dir.as_path()), 0)
                }
            };
            Writer {
                current,
                current_path,
                size,
                next_position: next_first,
                failed: Some("the store was opened read-only".to_owned()),
                buf: Vec::new(),
            }
        } else {
            if segments.is_empty() {
                let (file, path) = create_segment(faults, &segments_dir, 0, options.genesis_hash)?;
                segments.push(Segment {
                    first: 0,
                    path,
                    file,
                    offsets: Vec::new(),
                    end: HEADER_LEN,
                });
            }
            let last = segments.last().expect("the store has at least one segment");
            Writer {
                current: Arc::clone(&last.file),
                current_path: Arc::clone(&last.path),
                size: last.end,
                next_position: next_first,
                failed: None,
                buf: Vec::new(),
            }
        };
        let store = Self {
            dir,
            segments_dir,
            index_dir,
            segment_bytes_max: options.segment_bytes_max,
            genesis_hash: options.genesis_hash,
            faults: options.faults,
            offset_cache: options.offset_cache,
            writer: Mutex::new(writer),
            index: RwLock::new(segments),
            len: AtomicU64::new(next_first),
            _lock: lock,
        };
        Ok((store, report))
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The segment files, in position order.
    pub fn segment_files(&self) -> Vec<PathBuf> {
        self.index_read()
            .iter()
            .map(|segment| segment.path.to_path_buf())
            .collect()
    }

    /// The cause of the failure that stopped the store, if it has failed.
    pub fn failure(&self) -> Option<String> {
        self.lock_writer().failed.clone()
    }

    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|poisoned| {
            // A panic while appending leaves the files in an unknown state: fail the store.
            let mut writer = poisoned.into_inner();
            writer
                .failed
                .get_or_insert_with(|| "an append panicked".to_owned());
            writer
        })
    }

    fn index_read(&self) -> RwLockReadGuard<'_, Vec<Segment>> {
        // The index is only changed by short, panic-free updates; a poisoned lock still holds a
        // consistent index.
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn index_write(&self) -> RwLockWriteGuard<'_, Vec<Segment>> {
        self.index.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Finds the frame of a published record.
    fn locate(&self, position: u64) -> Result<FrameRef, StoreError> {
        let len = self.len.load(Ordering::Acquire);
        let out_of_range = StoreError::OutOfRange { position, len };
        if position >= len {
            return Err(out_of_range);
        }
        let index = self.index_read();
        let Some(number) = index
            .partition_point(|segment| segment.first <= position)
            .checked_sub(1)
        else {
            return Err(out_of_range);
        };
        let segment = &index[number];
        let Some(frame) = usize::try_from(position - segment.first)
            .ok()
            .filter(|frame| *frame < segment.offsets.len())
        else {
            return Err(out_of_range);
        };
        let offset = u64::from(segment.offsets[frame]);
        Ok(FrameRef {
            file: Arc::clone(&segment.file),
            path: Arc::clone(&segment.path),
            offset,
            frame_bytes: segment.boundary(frame + 1) - offset,
        })
    }

    /// The next chunk of a scan at `position` (below `to`): frames of one segment, at most
    /// [`CHUNK_BYTES`] unless a single frame is larger, at least one frame; `None` when the
    /// position is not indexed (any more). Holds the read lock only while choosing.
    fn next_chunk(&self, position: u64, to: u64) -> Option<Chunk> {
        let index = self.index_read();
        let segment = &index[index
            .partition_point(|segment| segment.first <= position)
            .checked_sub(1)?];
        let first = usize::try_from(position - segment.first).ok()?;
        let stop = usize::try_from((to - segment.first).min(segment.count())).ok()?;
        if first >= stop {
            return None;
        }
        let start = segment.boundary(first);
        let limit = start + CHUNK_BYTES as u64;
        // The number of boundaries after the first frame that lie within the limit.
        let fitting =
            segment.offsets[first + 1..stop].partition_point(|offset| u64::from(*offset) <= limit);
        let mut last = first + 1 + fitting;
        if segment.boundary(last) > limit && last > first + 1 {
            last -= 1;
        }
        Some(Chunk {
            file: Arc::clone(&segment.file),
            path: Arc::clone(&segment.path),
            start,
            end: segment.boundary(last),
            count: last - first,
        })
    }

    /// Writes a group's frames, rolling to new segments as needed, and syncs them.
    ///
    /// The writing end of the store's paired checks (opening and reads hold the other): a
    /// segment grows beyond `segment_bytes_max` only by its first record, every frame is its
    /// content and [`FRAME_OVERHEAD`] bytes, and every record gets exactly one frame offset.
    /// `append` has already refused the sizes a caller can get wrong (a record outside
    /// 1..=[`MAX_RECORD_BYTES`], a group beyond [`MAX_APPEND_BYTES`]), so these are asserted.
    fn write_group(&self, writer: &mut Writer, records: &[&[u8]]) -> Result<Group, StoreError> {
        let faults = self.faults.as_deref();
        let mut group = Group {
            current_offsets: Vec::new(),
            current_end: writer.size,
            created: Vec::new(),
        };
        let mut offsets = Vec::with_capacity(records.len());
        writer.buf.clear();
        for (number, record) in records.iter().enumerate() {
            let frame_bytes = record.len() as u64 + FRAME_OVERHEAD;
            let end = writer.size + writer.buf.len() as u64;
            if end > HEADER_LEN && end + frame_bytes > self.segment_bytes_max {
                flush(faults, writer)?;
                let first = writer.next_position + number as u64;
                let (file, path) =
                    create_segment(faults, &self.segments_dir, first, self.genesis_hash)?;
                finish_segment(&mut group, std::mem::take(&mut offsets), writer.size);
                group.created.push(Segment {
                    first,
                    path: Arc::clone(&path),
                    file: Arc::clone(&file),
                    offsets: Vec::new(),
                    end: HEADER_LEN,
                });
                writer.current = file;
                writer.current_path = path;
                writer.size = HEADER_LEN;
            }
            let offset = writer.size + writer.buf.len() as u64;
            assert!(
                offset == HEADER_LEN || offset + frame_bytes <= self.segment_bytes_max,
                "a segment exceeds segment_bytes_max only by its first record"
            );
            offsets
                .push(u32::try_from(offset).expect("segment_bytes_max keeps offsets below 4 GiB"));
            let buffered = writer.buf.len();
            segment::push_frame(&mut writer.buf, record);
            assert_eq!(
                (writer.buf.len() - buffered) as u64,
                frame_bytes,
                "a frame is its content and FRAME_OVERHEAD bytes"
            );
        }
        flush(faults, writer)?;
        finish_segment(&mut group, offsets, writer.size);
        let indexed = group.current_offsets.len()
            + group
                .created
                .iter()
                .map(|segment| segment.offsets.len())
                .sum::<usize>();
        assert_eq!(
            indexed,
            records.len(),
            "every record of a group gets exactly one frame offset"
        );
        writer.next_position += records.len() as u64;
        Ok(group)
    }

    /// Makes a written group visible to readers, then writes the caches of sealed segments.
    ///
    /// Asserts that the published positions stay gapless: the segments follow one another
    /// without a gap, and the published length is the writer's next position.
    fn publish(&self, writer: &Writer, group: Group) {
        let mut sealed = Vec::new();
        {
            let mut index = self.index_write();
            let current = index
                .last_mut()
                .expect("the store has at least one segment");
            current.offsets.extend_from_slice(&group.current_offsets);
            current.end = group.current_end;
            if !group.created.is_empty() {
                current.offsets.shrink_to_fit();
                sealed.push(index.len() - 1);
            }
            let created = group.created.len();
            for segment in group.created {
                let previous = index.last().expect("the store has at least one segment");
                assert_eq!(
                    segment.first,
                    previous.first + previous.count(),
                    "a new segment starts right after the records of the one before"
                );
                index.push(segment);
            }
            let last = index.last().expect("the store has at least one segment");
            assert_eq!(
                last.first + last.count(),
                writer.next_position,
                "the published positions are gapless: the last segment ends at the next position"
            );
            // Every created segment but the new current one is sealed too.
            sealed.extend((index.len() - created..index.len()).take(created.saturating_sub(1)));
            self.len.store(writer.next_position, Ordering::Release);
        }
        if self.offset_cache == OffsetCache::Use {
            let index = self.index_read();
            for number in sealed {
                let segment = &index[number];
                write_cache(&self.index_dir, segment);
            }
        }
    }

    fn truncate_locked(&self, writer: &mut Writer, from: u64) -> Result<(), StoreError> {
        let faults = self.faults.as_deref();
        let mut index = self.index_write();
        self.len.store(from, Ordering::Release);
        let number = index
            .partition_point(|segment| segment.first <= from)
            .checked_sub(1)
            .expect("the first segment starts at position 0");
        // Caches first, durably: a cache must never describe content that changed under it.
        let mut removed_cache = false;
        for segment in &index[number..] {
            removed_cache |= cache::remove(&self.index_dir, segment.first).map_err(io_error(
                "remove",
                &cache::path(&self.index_dir, segment.first),
            ))?;
        }
        if removed_cache {
            sync_dir(faults, &self.index_dir)?;
        }
        // Later segment files, last first, so that a crash in between leaves no gap.
        for segment in index[number + 1..].iter().rev() {
            fs::remove_file(&segment.path).map_err(io_error("remove", &segment.path))?;
        }
        if number + 1 < index.len() {
            sync_dir(faults, &self.segments_dir)?;
            index.truncate(number + 1);
        }
        let segment = &mut index[number];
        let keep = usize::try_from(from - segment.first).expect("the index holds the position");
        let cut = segment.boundary(keep);
        segment
            .file
            .set_len(cut)
            .map_err(io_error("truncate", &segment.path))?;
        sync(faults, &segment.file, &segment.path, SyncKind::All)?;
        segment.offsets.truncate(keep);
        segment.end = cut;
        writer.current = Arc::clone(&segment.file);
        writer.current_path = Arc::clone(&segment.path);
        writer.size = cut;
        writer.next_position = from;
        Ok(())
    }
}

/// Records a finished segment's offsets in the group: the current segment's if nothing was
/// created yet, else the last created one's.
fn finish_segment(group: &mut Group, offsets: Vec<u32>, end: u64) {
    match group.created.last_mut() {
        None => {
            group.current_offsets = offsets;
            group.current_end = end;
        }
        Some(segment) => {
            segment.offsets = offsets;
            segment.end = end;
        }
    }
}

/// Writes the buffered frames at the end of the current segment and syncs them.
fn flush(faults: Option<&FaultPlan>, writer: &mut Writer) -> Result<(), StoreError> {
    if writer.buf.is_empty() {
        return Ok(());
    }
    write_at(
        faults,
        &writer.current,
        &writer.current_path,
        &writer.buf,
        writer.size,
    )?;
    writer.size += writer.buf.len() as u64;
    writer.buf.clear();
    sync(
        faults,
        &writer.current,
        &writer.current_path,
        SyncKind::Data,
    )
}

fn write_cache(index_dir: &Path, segment: &Segment) {
    if let Err(error) = cache::store(index_dir, segment.first, segment.end, &segment.offsets) {
        tracing::warn!(
            segment = %segment.path.display(),
            %error,
            "could not write the offset cache; the next open walks the segment instead"
        );
    }
}

impl SegmentStore for FileStore {
    fn len(&self) -> u64 {
        self.len.load(Ordering::Acquire)
    }

    fn append(&self, records: &[&[u8]]) -> Result<(), StoreError> {
        let mut writer = self.lock_writer();
        if let Some(cause) = &writer.failed {
            return Err(StoreError::Failed {
                cause: cause.clone(),
            });
        }
        let mut total = 0usize;
        for (number, record) in records.iter().enumerate() {
            if record.is_empty() || record.len() > MAX_RECORD_BYTES {
                return Err(StoreError::Invalid(format!(
                    "record {number} of the group has {} bytes, outside 1..={MAX_RECORD_BYTES}",
                    record.len()
                )));
            }
            total += record.len() + FRAME_OVERHEAD as usize;
        }
        if total > MAX_APPEND_BYTES {
            return Err(StoreError::Invalid(format!(
                "a group of {total} frame bytes exceeds the {MAX_APPEND_BYTES}-byte limit"
            )));
        }
        if records.is_empty() {
            return Ok(());
        }
        match self.write_group(&mut writer, records) {
            Ok(group) => {
                self.publish(&writer, group);
                // A huge group leaves a huge buffer behind; do not keep it for the next one.
                if writer.buf.capacity() > CHUNK_BYTES {
                    writer.buf = Vec::new();
                }
                Ok(())
            }
            Err(error) => {
                writer.failed = Some(error.to_string());
                Err(error)
            }
        }
    }

    fn read(&self, position: u64) -> Result<Vec<u8>, StoreError> {
        let frame = self.locate(position)?;
        let frame_len = usize::try_from(frame.frame_bytes).expect("frames are at most 2 MiB");
        let mut bytes = vec![0u8; frame_len];
        frame
            .file
            .read_exact_at(&mut bytes, frame.offset)
            .map_err(io_error("read", &frame.path))?;
        let content_len = match segment::frame_content(&bytes) {
            Ok(content) => content.len(),
            Err(detail) => {
                return Err(StoreError::Damaged {
                    file: frame.path.to_path_buf(),
                    offset: frame.offset,
                    detail,
                });
            }
        };
        bytes.truncate(4 + content_len);
        bytes.drain(..4);
        Ok(bytes)
    }

    fn scan(
        &self,
        from: u64,
        to: u64,
        visit: &mut dyn FnMut(u64, &[u8]) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let to = to.min(self.len());
        let mut position = from;
        let mut buf = Vec::new();
        while position < to {
            // Under the read lock only long enough to pick the next chunk: whole frames of one
            // segment, at most CHUNK_BYTES (a frame is at most 2 MiB + 8, so at least one fits).
            // A truncation (only while opening) can remove records under a running scan; the
            // scan then ends where the store now ends.
            let Some(chunk) = self.next_chunk(position, to) else {
                return Ok(());
            };
            let (start, count, path) = (chunk.start, chunk.count, &chunk.path);
            let chunk_len = usize::try_from(chunk.end - start).expect("chunks are at most 8 MiB");
            if buf.len() < chunk_len {
                buf.resize(chunk_len, 0);
            }
            let bytes = &mut buf[..chunk_len];
            chunk
                .file
                .read_exact_at(bytes, start)
                .map_err(io_error("read", path))?;
            let mut at = 0usize;
            for _ in 0..count {
                let damaged = |detail: String| StoreError::Damaged {
                    file: path.to_path_buf(),
                    offset: start + at as u64,
                    detail,
                };
                if chunk_len - at < FRAME_OVERHEAD as usize + 1 {
                    return Err(damaged("frame runs past its indexed end".to_owned()));
                }
                let len = segment::u32_at(bytes, at) as usize;
                let frame_end = at + len + FRAME_OVERHEAD as usize;
                if frame_end > chunk_len {
                    return Err(damaged(format!(
                        "frame length {len} runs past its indexed end"
                    )));
                }
                let content = segment::frame_content(&bytes[at..frame_end]).map_err(damaged)?;
                if visit(position, content).is_break() {
                    return Ok(());
                }
                position += 1;
                at = frame_end;
            }
            if at != chunk_len {
                return Err(StoreError::Damaged {
                    file: path.to_path_buf(),
                    offset: start + at as u64,
                    detail: "frames do not end where the index says".to_owned(),
                });
            }
        }
        Ok(())
    }

    fn location(&self, position: u64) -> Option<Location> {
        let frame = self.locate(position).ok()?;
        Some(Location {
            file: frame.path.to_path_buf(),
            offset: frame.offset,
        })
    }

    fn truncate_torn(&self, from: u64) -> Result<(), StoreError> {
        let mut writer = self.lock_writer();
        if let Some(cause) = &writer.failed {
            return Err(StoreError::Failed {
                cause: cause.clone(),
            });
        }
        if from >= self.len() {
            return Ok(());
        }
        let result = self.truncate_locked(&mut writer, from);
        if let Err(error) = &result {
            writer.failed = Some(error.to_string());
        }
        result
    }

    fn zero_range(&self, position: u64, offset: usize, len: usize) -> Result<(), StoreError> {
        let mut writer = self.lock_writer();
        if let Some(cause) = &writer.failed {
            return Err(StoreError::Failed {
                cause: cause.clone(),
            });
        }
        let frame = self.locate(position)?;
        let content_len = frame.frame_bytes - FRAME_OVERHEAD;
        let inside = offset
            .checked_add(len)
            .is_some_and(|end| u64::try_from(end).is_ok_and(|end| end <= content_len));
        if !inside {
            return Err(StoreError::Invalid(format!(
                "zero range {offset}+{len} outside record {position} of {content_len} bytes"
            )));
        }
        if len == 0 {
            return Ok(());
        }
        let faults = self.faults.as_deref();
        let zeros = vec![0u8; len];
        let at = frame.offset + 4 + offset as u64;
        let result = write_at(faults, &frame.file, &frame.path, &zeros, at)
            .and_then(|()| sync(faults, &frame.file, &frame.path, SyncKind::Data));
        if let Err(error) = &result {
            writer.failed = Some(error.to_string());
        }
        result
    }
}

/// What opening needs to know to check and index one segment file.
struct SegmentOpener<'a> {
    index_dir: &'a Path,
    genesis_hash: [u8; 32],
    faults: Option<&'a FaultPlan>,
    offset_cache: OffsetCache,
    /// The records no cut may reach.
    cover: Option<&'a Cover>,
    /// Change nothing: no cut, no cache written or removed.
    read_only: bool,
}

impl SegmentOpener<'_> {
    /// Opens, checks and indexes one segment file; returns it with the torn tail it found (cut
    /// unless read-only).
    fn open(
        &self,
        path: &Path,
        name_first: u64,
        expected_first: u64,
        is_last: bool,
        buf: &mut Vec<u8>,
    ) -> Result<(Segment, Option<TornBytes>), StoreError> {
        let file = OpenOptions::new()
            .read(true)
            .write(!self.read_only)
            .open(path)
            .map_err(io_error("open", path))?;
        let file_len = file.metadata().map_err(io_error("stat", path))?.len();
        let damaged = |offset: u64, detail: String| StoreError::Damaged {
            file: path.to_path_buf(),
            offset,
            detail,
        };
        if file_len < HEADER_LEN {
            return Err(damaged(
                0,
                format!("file of {file_len} bytes has no complete header"),
            ));
        }
        if file_len > u64::from(u32::MAX) {
            return Err(damaged(
                0,
                format!("segment of {file_len} bytes is larger than 4 GiB"),
            ));
        }
        let mut header_bytes = [0u8; HEADER_LEN as usize];
        file.read_exact_at(&mut header_bytes, 0)
            .map_err(io_error("read", path))?;
        let header = Header::decode(&header_bytes).map_err(|detail| damaged(0, detail))?;
        if header.first_position != name_first {
            return Err(damaged(
                16,
                format!(
                    "header says the first position is {}, the file name says {name_first}",
                    header.first_position
                ),
            ));
        }
        if header.first_position != expected_first {
            return Err(damaged(
                16,
                format!(
                    "first position {} does not follow the previous segments, which end before \
                     position {expected_first}",
                    header.first_position
                ),
            ));
        }
        if header.genesis_hash != self.genesis_hash {
            return Err(damaged(
                24,
                format!(
                    "genesis hash {} is not this ledger's {}",
                    hex::encode(header.genesis_hash),
                    hex::encode(self.genesis_hash)
                ),
            ));
        }
        let file = Arc::new(file);
        let path: Arc<Path> = Arc::from(path);
        let first = header.first_position;
        let segment = |offsets: Vec<u32>, end: u64| Segment {
            first,
            path: Arc::clone(&path),
            file: Arc::clone(&file),
            offsets,
            end,
        };

        if is_last && !self.read_only {
            // The last segment will change: no cache may describe it.
            if cache::remove(self.index_dir, first)
                .map_err(io_error("remove", &cache::path(self.index_dir, first)))?
            {
                sync_dir(self.faults, self.index_dir)?;
            }
        } else if !is_last
            && self.offset_cache == OffsetCache::Use
            && let Some(offsets) = cache::load(self.index_dir, first, file_len)
            && ends_match(&file, &offsets, file_len).map_err(io_error("read", &path))?
        {
            return Ok((segment(offsets, file_len), None));
        }

        let mut offsets = Vec::new();
        let tail = segment::walk_frames(&file, HEADER_LEN, file_len, buf, &mut offsets)
            .map_err(io_error("read", &path))?;
        let cut = match tail {
            Tail::Clean => None,
            Tail::Incomplete { offset, detail } | Tail::Malformed { offset, detail } => {
                if !is_last {
                    let detail = format!("{detail} (in a segment that is not the last)");
                    return Err(damaged(offset, detail));
                }
                let position = first + offsets.len() as u64;
                if let Some(cover) = self.cover.filter(|cover| position < cover.records) {
                    // The record was acknowledged: whatever the torn-write rule would say, this
                    // is damage. Decided before the rule, so nothing is read or cut for it.
                    return Err(StoreError::DamagedCovered {
                        file: path.to_path_buf(),
                        offset,
                        position,
                        detail,
                        cover: cover.clone(),
                    });
                }
                match segment::bad_tail_is_torn(&file, offset, file_len, buf)
                    .map_err(io_error("read", &path))?
                {
                    Ok(()) => Some(TornBytes {
                        file: path.to_path_buf(),
                        offset,
                        bytes: file_len - offset,
                        position,
                        detail,
                        removed: !self.read_only,
                    }),
                    Err(resync) => {
                        return Err(damaged(
                            offset,
                            format!(
                                "{detail}, and well-formed frames follow from byte {resync}: \
                                 damage, not a torn write"
                            ),
                        ));
                    }
                }
            }
        };
        let end = cut.as_ref().map_or(file_len, |torn| torn.offset);
        if let Some(torn) = cut.as_ref().filter(|torn| torn.removed) {
            file.set_len(torn.offset)
                .map_err(io_error("truncate", &path))?;
            sync(self.faults, &file, &path, SyncKind::All)?;
            tracing::warn!(
                file = %path.display(),
                offset = torn.offset,
                bytes = torn.bytes,
                position = torn.position,
                detail = %torn.detail,
                "cut a torn tail"
            );
        }
        if is_last {
            Ok((segment(offsets, end), cut))
        } else {
            offsets.shrink_to_fit();
            let sealed = segment(offsets, end);
            if self.offset_cache == OffsetCache::Use && !self.read_only {
                write_cache(self.index_dir, &sealed);
            }
            Ok((sealed, cut))
        }
    }
}

/// Whether the first and last frames named by cached offsets have matching lengths and trailers.
fn ends_match(file: &File, offsets: &[u32], file_len: u64) -> io::Result<bool> {
    let Some(first) = offsets.first() else {
        return Ok(file_len == HEADER_LEN);
    };
    let first_end = offsets.get(1).map_or(file_len, |offset| u64::from(*offset));
    let last = offsets
        .last()
        .map_or(HEADER_LEN, |offset| u64::from(*offset));
    Ok(frame_matches(file, u64::from(*first), first_end)? && frame_matches(file, last, file_len)?)
}

/// Whether the frame from `start` to `end` has the length and trailer its extent implies.
fn frame_matches(file: &File, start: u64, end: u64) -> io::Result<bool> {
    let mut length = [0u8; 4];
    let mut trailer = [0u8; 4];
    file.read_exact_at(&mut length, start)?;
    file.read_exact_at(&mut trailer, end - 4)?;
    let expected = end - start - FRAME_OVERHEAD;
    Ok(u64::from(u32::from_le_bytes(length)) == expected
        && u64::from(u32::from_le_bytes(trailer)) == expected)
}

/// The length of the last segment file when its creation never completed (shorter than a header,
/// or all zeros: no record in it can have been acknowledged, because the header is fsync'ed
/// before any frame is written), else `None`.
fn unfinished_segment_len(path: &Path, buf: &mut Vec<u8>) -> Result<Option<u64>, StoreError> {
    let file = File::open(path).map_err(io_error("open", path))?;
    let len = file.metadata().map_err(io_error("stat", path))?.len();
    if len < HEADER_LEN || segment::all_zero(&file, len, buf).map_err(io_error("read", path))? {
        Ok(Some(len))
    } else {
        Ok(None)
    }
}

/// The segment files in `segments_dir`, sorted by first position. Files not ending in `.seg` are
/// ignored; a `.seg` file with a malformed name is damage.
fn list_segments(segments_dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let mut found = Vec::new();
    let entries = fs::read_dir(segments_dir).map_err(io_error("list", segments_dir))?;
    for entry in entries {
        let entry = entry.map_err(io_error("list", segments_dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.ends_with(".seg") {
            continue;
        }
        let path = entry.path();
        let first = segment::parse_file_name(name).ok_or_else(|| StoreError::Damaged {
            file: path.clone(),
            offset: 0,
            detail: "segment file name is not 20 decimal digits and `.seg`".to_owned(),
        })?;
        found.push((first, path));
    }
    found.sort_unstable();
    Ok(found)
}

/// Creates a segment file with its header and makes it durable: the file fsync'ed, then the
/// directory.
fn create_segment(
    faults: Option<&FaultPlan>,
    segments_dir: &Path,
    first_position: u64,
    genesis_hash: [u8; 32],
) -> Result<(Arc<File>, Arc<Path>), StoreError> {
    let path = segments_dir.join(segment::file_name(first_position));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io_error("create", &path))?;
    let header = Header {
        first_position,
        genesis_hash,
    }
    .encode();
    write_at(faults, &file, &path, &header, 0)?;
    sync(faults, &file, &path, SyncKind::All)?;
    sync_dir(faults, segments_dir)?;
    Ok((Arc::new(file), Arc::from(path)))
}

/// Creates `dir` if missing and makes its entry durable by fsyncing its parent.
fn ensure_dir(dir: &Path, faults: Option<&FaultPlan>) -> Result<(), StoreError> {
    match fs::create_dir(dir) {
        Ok(()) => {
            let parent = match dir.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            sync_dir(faults, parent)
        }
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(error) => Err(io_error("create directory", dir)(error)),
    }
}

/// Takes the exclusive lock on `dir/LOCK`, retrying with growing pauses for up to `wait`.
fn take_lock(dir: &Path, wait: Duration) -> Result<File, StoreError> {
    let path = dir.join("LOCK");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_error("open", &path))?;
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                std::thread::sleep(pause.min(wait.saturating_sub(started.elapsed())));
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    dir: dir.to_path_buf(),
                });
            }
            Err(fs::TryLockError::Error(error)) => return Err(io_error("lock", &path)(error)),
        }
    }
}

fn io_error(operation: &'static str, file: &Path) -> impl FnOnce(io::Error) -> StoreError {
    let file = file.to_path_buf();
    move |source| StoreError::Io {
        operation,
        file,
        source,
    }
}

/// A positioned write of all of `bytes`, after asking the fault plan.
fn write_at(
    faults: Option<&FaultPlan>,
    file: &File,
    path: &Path,
    bytes: &[u8],
    offset: u64,
) -> Result<(), StoreError> {
    if let Some(plan) = faults {
        match plan.before_write(bytes.len()) {
            Verdict::Proceed => {}
            Verdict::Fail => {
                return Err(io_error("write", path)(FaultPlan::injected_error(
                    "write fails",
                )));
            }
            Verdict::Short(keep) => {
                let keep = keep.min(bytes.len());
                file.write_all_at(&bytes[..keep], offset)
                    .map_err(io_error("write", path))?;
                let what = format!("short write of {keep} of {} bytes", bytes.len());
                return Err(io_error("write", path)(FaultPlan::injected_error(&what)));
            }
        }
    }
    file.write_all_at(bytes, offset)
        .map_err(io_error("write", path))
}

#[derive(Debug, Clone, Copy)]
enum SyncKind {
    /// fdatasync: the data and the metadata needed to read it (the file length).
    Data,
    /// fsync: everything, for new files, truncations and directories.
    All,
}

/// A sync of a file, after asking the fault plan.
fn sync(
    faults: Option<&FaultPlan>,
    file: &File,
    path: &Path,
    kind: SyncKind,
) -> Result<(), StoreError> {
    let operation = match kind {
        SyncKind::Data => "fdatasync",
        SyncKind::All => "fsync",
    };
    if let Some(plan) = faults
        && plan.before_sync() == Verdict::Fail
    {
        return Err(io_error(operation, path)(FaultPlan::injected_error(
            operation,
        )));
    }
    match kind {
        SyncKind::Data => file.sync_data(),
        SyncKind::All => file.sync_all(),
    }
    .map_err(io_error(operation, path))
}

/// An fsync of a directory, after asking the fault plan.
fn sync_dir(faults: Option<&FaultPlan>, dir: &Path) -> Result<(), StoreError> {
    let handle = File::open(dir).map_err(io_error("open directory", dir))?;
    if let Some(plan) = faults
        && plan.before_sync() == Verdict::Fail
    {
        return Err(io_error("fsync directory", dir)(FaultPlan::injected_error(
            "directory fsync",
        )));
    }
    handle.sync_all().map_err(io_error("fsync directory", dir))
}
