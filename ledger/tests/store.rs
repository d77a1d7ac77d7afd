//! The segment stores at their boundary: the conformance suite against the memory and file
//! backends, the file backend's torn-tail repair, damage detection, lock, fault injection and
//! segment rolling, and the store-level crash test (a child process killed with SIGKILL).
//!
//! Two tests here, `crash_child` and `lock_child`, are not checks but the child halves of the
//! process tests: they return at once unless the parent test started them with their environment
//! variable set.

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use residence_ledger::store::conformance::crash::{self, CrashPlan, Cycle};
use residence_ledger::store::conformance::{
    Backend, Durability, Fixture, SplitMix64, record_bytes,
};
use residence_ledger::store::fault::FaultPlan;
use residence_ledger::store::file::{
    FileStore, FileStoreOptions, HEADER_LEN, MAX_RECORD_BYTES, OffsetCache, OpenMode,
};
use residence_ledger::store::memory::MemoryStore;
use residence_ledger::store::{Cover, CoverSource, OpenReport, SegmentStore, StoreError};
use tempfile::TempDir;

const GENESIS: [u8; 32] = [0x42; 32];

fn options(segment_bytes_max: u64) -> FileStoreOptions {
    let mut options = FileStoreOptions::new(GENESIS);
    options.segment_bytes_max = segment_bytes_max;
    options
}

fn faulty(segment_bytes_max: u64, plan: &Arc<FaultPlan>) -> FileStoreOptions {
    let mut options = options(segment_bytes_max);
    options.faults = Some(Arc::clone(plan));
    options
}

/// The records found and the torn bytes dropped of an open report.
fn counts(report: &OpenReport) -> (u64, u64) {
    (report.records, report.torn_bytes_dropped)
}

fn open(dir: &Path, options: FileStoreOptions) -> (FileStore, OpenReport) {
    FileStore::open(dir, options).expect("the store opens")
}

fn record(position: u64, len: usize) -> Vec<u8> {
    record_bytes(position, 0x5EED, len)
}

fn append(store: &FileStore, records: &[Vec<u8>]) {
    let slices: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    store.append(&slices).expect("append");
}

/// Appends `count` records of `len` bytes at the end, in groups of `group`, and returns them.
fn fill(store: &FileStore, count: u64, len: usize, group: usize) -> Vec<Vec<u8>> {
    let first = store.len();
    let records: Vec<Vec<u8>> = (first..first + count).map(|p| record(p, len)).collect();
    for chunk in records.chunks(group) {
        append(store, chunk);
    }
    records
}

fn assert_records(store: &FileStore, expected: &[Vec<u8>]) {
    assert_eq!(store.len(), expected.len() as u64, "number of records");
    for (position, bytes) in expected.iter().enumerate() {
        assert_eq!(
            &store.read(position as u64).expect("read"),
            bytes,
            "record {position}"
        );
    }
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join("segments"))
        .expect("list segments")
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    files
}

fn last_segment(dir: &Path) -> PathBuf {
    segment_files(dir).pop().expect("at least one segment")
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).expect("stat").len()
}

fn set_len(path: &Path, len: u64) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open")
        .set_len(len)
        .expect("set_len");
}

fn write_bytes_at(path: &Path, offset: u64, bytes: &[u8]) {
    let file = OpenOptions::new().write(true).open(path).expect("open");
    file.write_all_at(bytes, offset).expect("write");
}

fn read_bytes_at(path: &Path, offset: u64, len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    fs::File::open(path)
        .expect("open")
        .read_exact_at(&mut bytes, offset)
        .expect("read");
    bytes
}

fn flip_byte(path: &Path, offset: u64) {
    let byte = read_bytes_at(path, offset, 1)[0];
    write_bytes_at(path, offset, &[byte ^ 0x01]);
}

fn expect_damaged(result: Result<(FileStore, OpenReport), StoreError>) -> (PathBuf, u64) {
    match result {
        Err(StoreError::Damaged { file, offset, .. }) => (file, offset),
        Err(other) => panic!("expected Damaged, got {other}"),
        Ok((store, _)) => panic!(
            "expected Damaged, the store opened with {} records",
            store.len()
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Conformance.

struct MemoryBackend;

struct MemoryFixture(MemoryStore);

impl Fixture for MemoryFixture {
    fn store(&self) -> &dyn SegmentStore {
        &self.0
    }

    fn reopen(&mut self) -> Result<(), StoreError> {
        Err(StoreError::Invalid(
            "the memory store keeps nothing across a reopen".to_owned(),
        ))
    }
}

impl Backend for MemoryBackend {
    fn fresh(&self) -> Box<dyn Fixture> {
        Box::new(MemoryFixture(MemoryStore::new()))
    }

    fn durability(&self) -> Durability {
        Durability::Volatile
    }
}

struct FileBackend {
    segment_bytes_max: u64,
}

struct FileFixture {
    dir: TempDir,
    options: FileStoreOptions,
    store: Option<FileStore>,
}

impl Fixture for FileFixture {
    fn store(&self) -> &dyn SegmentStore {
        self.store
            .as_ref()
            .expect("the fixture holds an open store")
    }

    fn reopen(&mut self) -> Result<(), StoreError> {
        // Close first: the lock is released when the store is dropped.
        self.store = None;
        let (store, _) = FileStore::open(self.dir.path(), self.options.clone())?;
        self.store = Some(store);
        Ok(())
    }
}

impl Backend for FileBackend {
    fn fresh(&self) -> Box<dyn Fixture> {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = options(self.segment_bytes_max);
        let (store, _) = open(dir.path(), options.clone());
        Box::new(FileFixture {
            dir,
            options,
            store: Some(store),
        })
    }

    fn durability(&self) -> Durability {
        Durability::Durable
    }
}

mod memory_conformance {
    residence_ledger::segment_store_conformance!(super::MemoryBackend);
}

/// Tiny segments: nearly every append rolls to a new file.
mod file_small_segments_conformance {
    residence_ledger::segment_store_conformance!(
        super::FileBackend {
            segment_bytes_max: 4096
        },
        durable
    );
}

mod file_default_conformance {
    residence_ledger::segment_store_conformance!(
        super::FileBackend {
            segment_bytes_max: residence_ledger::store::file::DEFAULT_SEGMENT_BYTES_MAX
        },
        durable
    );
}

#[test]
fn run_all_reports_every_clause_for_both_backends() {
    residence_ledger::store::conformance::run_all(&MemoryBackend).expect("memory conforms");
    residence_ledger::store::conformance::run_all(&FileBackend {
        segment_bytes_max: 1 << 16,
    })
    .expect("file store conforms");
}

// ---------------------------------------------------------------------------------------------
// Opening, layout and reopening.

#[test]
fn new_directory_gets_layout_lock_and_first_segment() {
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = parent.path().join("ledger");
    let (store, report) = open(&dir, options(4096));
    assert_eq!(counts(&report), (0, 0));
    assert!(dir.join("LOCK").is_file());
    assert!(dir.join("index").is_dir());
    let first = dir.join("segments").join("00000000000000000000.seg");
    assert_eq!(segment_files(&dir), std::slice::from_ref(&first));
    let header = read_bytes_at(&first, 0, HEADER_LEN as usize);
    assert_eq!(&header[0..8], b"RESLEDG\0");
    assert_eq!(header[8..12], 1u32.to_le_bytes(), "format version");
    assert_eq!(header[12..16], 64u32.to_le_bytes(), "header length");
    assert_eq!(header[16..24], 0u64.to_le_bytes(), "first position");
    assert_eq!(header[24..56], GENESIS, "genesis hash");
    assert_eq!(header[56..64], [0; 8], "reserved");
    assert_eq!(store.dir(), dir);
}

#[test]
fn frames_are_laid_out_as_specified() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(1 << 20));
    append(&store, &[b"abc".to_vec(), b"de".to_vec()]);
    let path = last_segment(dir.path());
    let frames = read_bytes_at(&path, HEADER_LEN, 21);
    assert_eq!(
        frames,
        [
            3, 0, 0, 0, b'a', b'b', b'c', 3, 0, 0, 0, 2, 0, 0, 0, b'd', b'e', 2, 0, 0, 0
        ]
    );
    let location = store.location(1).expect("record 1 is stored");
    assert_eq!((location.file, location.offset), (path, HEADER_LEN + 11));
}

#[test]
fn segments_roll_between_records_and_are_named_by_first_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let max = 1000;
    let (store, _) = open(dir.path(), options(max));
    // 100-byte records make 108-byte frames: 8 fit after the 64-byte header (928 bytes).
    let mut expected = fill(&store, 20, 100, 3);
    // One group that spans several segments.
    expected.extend(fill(&store, 30, 100, 30));
    let files = segment_files(dir.path());
    assert_eq!(files, store.segment_files());
    let firsts: Vec<String> = files
        .iter()
        .map(|path| {
            path.file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let wanted: Vec<String> = (0..50)
        .step_by(8)
        .map(|first| format!("{first:020}.seg"))
        .collect();
    assert_eq!(firsts, wanted);
    for (number, path) in files.iter().enumerate() {
        assert!(
            file_len(path) <= max,
            "{} exceeds the segment size",
            path.display()
        );
        let first = u64::from_le_bytes(read_bytes_at(path, 16, 8).try_into().expect("8 bytes"));
        assert_eq!(first, number as u64 * 8, "header's first position");
    }
    // Every sealed segment has an offset cache; the current one has none.
    let caches = fs::read_dir(dir.path().join("index"))
        .expect("list")
        .count();
    assert_eq!(caches, files.len() - 1);
    assert_records(&store, &expected);
    drop(store);
    let (store, report) = open(dir.path(), options(max));
    assert_eq!(counts(&report), (50, 0));
    assert_records(&store, &expected);
}

#[test]
fn a_record_larger_than_a_segment_gets_a_segment_of_its_own() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(200));
    let mut expected = fill(&store, 1, 10, 1);
    expected.extend(fill(&store, 1, 5000, 1));
    expected.extend(fill(&store, 2, 10, 2));
    assert_eq!(segment_files(dir.path()).len(), 3);
    drop(store);
    let (store, _) = open(dir.path(), options(200));
    assert_records(&store, &expected);
}

#[test]
fn opening_with_and_without_offset_caches_agrees() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(2048));
    let mut random = SplitMix64::new(7);
    let mut expected = Vec::new();
    for _ in 0..60 {
        let first = store.len();
        let group: Vec<Vec<u8>> = (first..first + random.between(1, 5))
            .map(|p| record(p, random.between(1, 400) as usize))
            .collect();
        append(&store, &group);
        expected.extend(group);
    }
    drop(store);
    let mut ignore = options(2048);
    ignore.offset_cache = OffsetCache::Ignore;
    let (store, _) = open(dir.path(), ignore);
    assert_records(&store, &expected);
    drop(store);

    // A corrupted cache and a cache of another segment are both refused, not trusted.
    let index = dir.path().join("index");
    let mut caches: Vec<PathBuf> = fs::read_dir(&index)
        .expect("list")
        .map(|entry| entry.expect("entry").path())
        .collect();
    caches.sort();
    assert!(caches.len() >= 3, "several sealed segments");
    flip_byte(&caches[0], 60);
    fs::copy(&caches[2], &caches[1]).expect("copy a cache over another");
    let (store, _) = open(dir.path(), options(2048));
    assert_records(&store, &expected);
}

#[test]
fn options_out_of_range_are_invalid() {
    let dir = tempfile::tempdir().expect("temp dir");
    for max in [0, 72, 4 << 30] {
        match FileStore::open(dir.path(), options(max)) {
            Err(StoreError::Invalid(_)) => {}
            other => panic!("segment_bytes_max {max}: expected Invalid, got {other:?}"),
        }
    }
}

#[test]
fn invalid_records_are_refused_without_failing_the_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(1 << 20));
    let expected = fill(&store, 2, 10, 2);
    let empty: &[u8] = &[];
    let huge = vec![7u8; MAX_RECORD_BYTES + 1];
    let largest = vec![7u8; MAX_RECORD_BYTES];
    // 129 maximal records are more than one append may carry (the slices share one buffer).
    let too_many: Vec<&[u8]> = (0..129).map(|_| largest.as_slice()).collect();
    for group in [
        vec![b"ok".as_slice(), empty],
        vec![huge.as_slice()],
        too_many,
    ] {
        match store.append(&group) {
            Err(StoreError::Invalid(_)) => {}
            other => panic!("expected Invalid, got {other:?}"),
        }
    }
    assert_eq!(store.failure(), None);
    assert_records(&store, &expected);
    store
        .append(&[largest.as_slice()])
        .expect("a maximal record is accepted");
    assert_eq!(store.read(2).expect("read"), largest);
}

// ---------------------------------------------------------------------------------------------
// Torn tails.

#[test]
fn a_tail_cut_at_every_byte_of_the_last_frame_is_dropped() {
    let content_len = 20usize;
    let frame_len = content_len as u64 + 8;
    for kept in 0..frame_len {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, _) = open(dir.path(), options(1 << 20));
        let mut expected = fill(&store, 2, 50, 1);
        fill(&store, 1, content_len, 1);
        drop(store);
        let path = last_segment(dir.path());
        set_len(&path, file_len(&path) - frame_len + kept);

        let (store, report) = open(dir.path(), options(1 << 20));
        assert_eq!(counts(&report), (2, kept), "kept {kept}");
        assert_eq!(
            file_len(&path),
            HEADER_LEN + 2 * 58,
            "truncated to the previous frame"
        );
        assert_records(&store, &expected);
        expected.extend(fill(&store, 1, 30, 1));
        drop(store);
        let (store, report) = open(dir.path(), options(1 << 20));
        assert_eq!(report.torn_bytes_dropped, 0);
        assert_records(&store, &expected);
    }
}

#[test]
fn a_zero_filled_tail_is_dropped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(1 << 20));
    let mut expected = fill(&store, 5, 100, 2);
    drop(store);
    let path = last_segment(dir.path());
    let len = file_len(&path);
    set_len(&path, len + 4096);
    let (store, report) = open(dir.path(), options(1 << 20));
    assert_eq!(counts(&report), (5, 4096));
    assert_eq!(file_len(&path), len);
    expected.extend(fill(&store, 3, 10, 3));
    drop(store);
    let (store, _) = open(dir.path(), options(1 << 20));
    assert_records(&store, &expected);
}

/// Issue 11: the torn-tail rule never cuts a covered record, and a read-only open cuts nothing.
#[test]
fn a_torn_tail_is_cut_only_beyond_the_cover_and_never_read_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(1 << 20));
    let expected = fill(&store, 5, 100, 1);
    drop(store);
    let path = last_segment(dir.path());
    let len = file_len(&path);
    let last = len - (100 + 8);
    set_len(&path, len - 3);
    let covered = |records| {
        let mut covered = options(1 << 20);
        covered.cover = CoverSource::Fixed(Cover {
            records,
            file: dir.path().join("checkpoints/00000000000000000005.note"),
        });
        covered
    };
    match FileStore::open(dir.path(), covered(5)) {
        Err(StoreError::DamagedCovered {
            file,
            offset,
            position,
            cover,
            ..
        }) => {
            assert_eq!(
                (file, offset, position, cover.records),
                (path.clone(), last, 4, 5)
            );
        }
        other => panic!("expected damage below the cover, got {other:?}"),
    }
    assert_eq!(file_len(&path), len - 3, "nothing was cut");
    let mut read_only = covered(4);
    read_only.mode = OpenMode::ReadOnly;
    let (store, report) = open(dir.path(), read_only);
    assert_eq!(counts(&report), (4, 0));
    assert_eq!(report.torn.len(), 1);
    assert!(!report.torn[0].removed);
    assert_records(&store, &expected[..4]);
    assert!(matches!(
        store.append(&[b"refused".as_slice()]),
        Err(StoreError::Failed { .. })
    ));
    drop(store);
    assert_eq!(file_len(&path), len - 3, "nothing was cut");
    let (store, report) = open(dir.path(), covered(4));
    assert_eq!(counts(&report), (4, 100 + 8 - 3));
    assert_eq!(file_len(&path), last);
    assert_records(&store, &expected[..4]);
}

#[test]
fn a_garbage_tail_is_dropped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(1 << 20));
    let expected = fill(&store, 3, 100, 1);
    drop(store);
    let path = last_segment(dir.path());
    let len = file_len(&path);
    // A length beyond the limit, then bytes that form no frame.
    write_bytes_at(
        &path,
        len,
        &[0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    let (store, report) = open(dir.path(), options(1 << 20));
    assert_eq!(counts(&report), (3, 13));
    assert_records(&store, &expected);
}

#[test]
fn a_write_torn_out_of_order_with_a_zero_sector_is_dropped() {
    // A power loss can persist a later sector of one write but not an earlier one. Frames A, B, C
    // are one group; the sector holding B's trailer never reached the disk, C did.
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(1 << 20));
    let expected = fill(&store, 1, 100, 1);
    // A ends at 64 + 108 = 172; B's frame of 9044 bytes ends at 9216, a sector boundary.
    append(&store, &[record(1, 9036), record(2, 50)]);
    drop(store);
    let path = last_segment(dir.path());
    write_bytes_at(&path, 9216 - 512, &[0; 512]);
    let (store, report) = open(dir.path(), options(1 << 20));
    assert_eq!(counts(&report), (1, 9044 + 58));
    assert_records(&store, &expected);
}

#[test]
fn an_unfinished_segment_creation_is_dropped() {
    for garbage in [vec![b'R'; 30], vec![0u8; 64], vec![0u8; 100]] {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, _) = open(dir.path(), options(1 << 20));
        let mut expected = fill(&store, 4, 10, 4);
        drop(store);
        let next = dir.path().join("segments").join(format!("{:020}.seg", 4));
        fs::write(&next, &garbage).expect("write");
        let (store, report) = open(dir.path(), options(1 << 20));
        assert_eq!(report.torn_bytes_dropped, garbage.len() as u64);
        assert!(!next.exists(), "the unfinished file is deleted");
        expected.extend(fill(&store, 2, 10, 2));
        assert_records(&store, &expected);
    }
}

// ---------------------------------------------------------------------------------------------
// Damage.

#[test]
fn a_bad_trailer_followed_by_good_frames_is_damage() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(1 << 20));
    fill(&store, 5, 100, 1);
    let location = store.location(1).expect("stored");
    drop(store);
    // The trailer of record 1: its frame is 108 bytes.
    flip_byte(&location.file, location.offset + 104);
    let (file, offset) = expect_damaged(FileStore::open(dir.path(), options(1 << 20)));
    assert_eq!((file, offset), (location.file, location.offset));
}

#[test]
fn a_bad_length_followed_by_good_frames_is_damage() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(1 << 20));
    fill(&store, 5, 100, 5);
    let location = store.location(2).expect("stored");
    drop(store);
    for length in [0u32, 50, 5000, 3_000_000, u32::MAX] {
        write_bytes_at(&location.file, location.offset, &length.to_le_bytes());
        let (file, offset) = expect_damaged(FileStore::open(dir.path(), options(1 << 20)));
        assert_eq!(
            (file, offset),
            (location.file.clone(), location.offset),
            "length {length}"
        );
    }
}

#[test]
fn damage_in_a_sealed_segment_is_found_on_open_or_on_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(1000));
    fill(&store, 30, 100, 2);
    let location = store.location(3).expect("stored");
    assert_ne!(
        location.file,
        last_segment(dir.path()),
        "record 3 is in a sealed segment"
    );
    drop(store);
    flip_byte(&location.file, location.offset + 104);

    // Walking the frames finds it on open.
    let mut ignore = options(1000);
    ignore.offset_cache = OffsetCache::Ignore;
    let (file, offset) = expect_damaged(FileStore::open(dir.path(), ignore));
    assert_eq!((file, offset), (location.file.clone(), location.offset));

    // With the offset cache, open reads only the ends of a sealed segment; a read finds it.
    let (store, _) = open(dir.path(), options(1000));
    match store.read(3) {
        Err(StoreError::Damaged { file, offset, .. }) => {
            assert_eq!((file, offset), (location.file.clone(), location.offset));
        }
        other => panic!("expected Damaged, got {other:?}"),
    }
    let mut visit = |_: u64, _: &[u8]| std::ops::ControlFlow::Continue(());
    match store.scan(0, 30, &mut visit) {
        Err(StoreError::Damaged { file, offset, .. }) => {
            assert_eq!((file, offset), (location.file.clone(), location.offset));
        }
        other => panic!("expected Damaged, got {other:?}"),
    }
}

#[test]
fn a_sealed_segment_cut_short_is_damage() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(1000));
    fill(&store, 30, 100, 2);
    drop(store);
    let first = &segment_files(dir.path())[0];
    let len = file_len(first);
    set_len(first, len - 1);
    let (file, offset) = expect_damaged(FileStore::open(dir.path(), options(1000)));
    assert_eq!((&file, offset), (first, len - 108));
}

#[test]
fn bad_headers_are_damage() {
    // (byte to change, new value, offset the error must name)
    let cases: [(u64, u8, u64); 4] = [(0, b'X', 0), (8, 2, 0), (12, 65, 0), (60, 1, 0)];
    for (at, value, named) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, _) = open(dir.path(), options(1000));
        fill(&store, 20, 100, 4);
        drop(store);
        let second = segment_files(dir.path())[1].clone();
        write_bytes_at(&second, at, &[value]);
        let (file, offset) = expect_damaged(FileStore::open(dir.path(), options(1000)));
        assert_eq!((file, offset), (second, named), "header byte {at}");
    }
}

#[test]
fn a_foreign_genesis_hash_is_damage() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(1000));
    fill(&store, 3, 10, 3);
    drop(store);
    let mut foreign = options(1000);
    foreign.genesis_hash = [0x43; 32];
    let (file, offset) = expect_damaged(FileStore::open(dir.path(), foreign));
    assert_eq!((file, offset), (segment_files(dir.path())[0].clone(), 24));
}

#[test]
fn a_missing_or_misnamed_segment_is_damage() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(1000));
    fill(&store, 30, 100, 2);
    drop(store);
    let files = segment_files(dir.path());
    let misnamed = dir.path().join("segments").join("17.seg");
    fs::write(&misnamed, b"whatever").expect("write");
    let (file, _) = expect_damaged(FileStore::open(dir.path(), options(1000)));
    assert_eq!(file, misnamed);
    fs::remove_file(&misnamed).expect("remove");

    fs::remove_file(&files[1]).expect("remove a middle segment");
    let (file, offset) = expect_damaged(FileStore::open(dir.path(), options(1000)));
    assert_eq!((file, offset), (files[2].clone(), 16));

    // A header that disagrees with its file name.
    let renamed = dir.path().join("segments").join(format!("{:020}.seg", 8));
    fs::rename(&files[2], &renamed).expect("rename");
    let (file, offset) = expect_damaged(FileStore::open(dir.path(), options(1000)));
    assert_eq!((file, offset), (renamed, 16));
}

// ---------------------------------------------------------------------------------------------
// The lock.

const LOCK_CHILD_ENV: &str = "RESIDENCE_LOCK_CHILD";

#[test]
fn a_second_open_is_locked_until_the_first_is_dropped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(4096));
    let mut no_wait = options(4096);
    no_wait.lock_wait = Duration::ZERO;
    match FileStore::open(dir.path(), no_wait) {
        Err(StoreError::Locked { dir: locked }) => assert_eq!(locked, dir.path()),
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(store);
    let (store, _) = open(dir.path(), options(4096));
    assert_eq!(store.len(), 0);
}

/// Child half of `another_process_is_locked_out`: holds the store until its stdin closes.
#[test]
fn lock_child() {
    let Some(dir) = std::env::var_os(LOCK_CHILD_ENV) else {
        return;
    };
    let (store, _) = open(Path::new(&dir), options(4096));
    let mut out = std::io::stdout().lock();
    writeln!(out, "HOLDING {}", store.len()).expect("print");
    out.flush().expect("flush");
    let mut rest = Vec::new();
    std::io::stdin()
        .read_to_end(&mut rest)
        .expect("wait for stdin to close");
}

#[test]
fn another_process_is_locked_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "lock_child", "--nocapture", "--test-threads=1"])
        .env(LOCK_CHILD_ENV, dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the lock child");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let holding = lines
        .by_ref()
        .map(|line| line.expect("child output"))
        .any(|line| line.contains("HOLDING"));
    assert!(holding, "the child opened the store");
    let mut no_wait = options(4096);
    no_wait.lock_wait = Duration::from_millis(50);
    let locked = FileStore::open(dir.path(), no_wait);
    // Closing the child's stdin ends it; its lock goes with it. Its output is read to the end, or
    // it would fail to print its test result.
    drop(child.stdin.take());
    let rest: Vec<String> = lines.map(|line| line.expect("child output")).collect();
    let status = child.wait().expect("wait for the lock child");
    assert!(status.success(), "lock child: {status}; output: {rest:?}");
    match locked {
        Err(StoreError::Locked { .. }) => {}
        other => panic!("expected Locked while the child held the store, got {other:?}"),
    }
    open(dir.path(), options(4096));
}

// ---------------------------------------------------------------------------------------------
// Fault injection.

#[test]
fn a_failed_sync_stops_appends_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = Arc::new(FaultPlan::new());
    let (store, _) = open(dir.path(), faulty(1 << 20, &plan));
    let expected = fill(&store, 10, 100, 3);
    plan.fail_sync(plan.syncs() + 1);
    let group = [record(10, 100), record(11, 100)];
    match store.append(&[group[0].as_slice(), group[1].as_slice()]) {
        Err(StoreError::Io { operation, .. }) => assert_eq!(operation, "fdatasync"),
        other => panic!("expected Io, got {other:?}"),
    }
    assert_eq!(store.len(), 10, "the failed group is not visible");
    assert!(store.failure().is_some());
    for _ in 0..3 {
        match store.append(&[group[0].as_slice()]) {
            Err(StoreError::Failed { .. }) => {}
            other => panic!("expected Failed, got {other:?}"),
        }
    }
    assert!(matches!(
        store.truncate_torn(5),
        Err(StoreError::Failed { .. })
    ));
    assert!(matches!(
        store.zero_range(1, 0, 1),
        Err(StoreError::Failed { .. })
    ));
    let syncs = plan.syncs();
    let writes = plan.writes();
    assert!(matches!(
        store.append(&[group[0].as_slice()]),
        Err(StoreError::Failed { .. })
    ));
    assert_eq!(
        (plan.syncs(), plan.writes()),
        (syncs, writes),
        "a failed store touches nothing"
    );
    assert_records(&store, &expected);
    drop(store);

    // The frames of the failed group were written before the sync failed; they are complete and
    // reappear, unacknowledged, for the sequencer to judge.
    let (store, report) = open(dir.path(), options(1 << 20));
    assert_eq!(counts(&report), (12, 0));
    for (position, bytes) in expected.iter().chain(&group).enumerate() {
        assert_eq!(&store.read(position as u64).expect("read"), bytes);
    }
}

#[test]
fn a_short_write_is_torn_on_reopen_and_nothing_acknowledged_is_lost() {
    // The group: two frames of 108 bytes. Keep 0, part of the first, exactly the first, part of
    // the second.
    for (keep, complete, torn) in [(0usize, 0u64, 0u64), (50, 0, 50), (108, 1, 0), (150, 1, 42)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let plan = Arc::new(FaultPlan::new());
        let (store, _) = open(dir.path(), faulty(1 << 20, &plan));
        let expected = fill(&store, 4, 100, 2);
        plan.fail_write(plan.writes() + 1, keep);
        let group = [record(4, 100), record(5, 100)];
        match store.append(&[group[0].as_slice(), group[1].as_slice()]) {
            Err(StoreError::Io { operation, .. }) => assert_eq!(operation, "write"),
            other => panic!("expected Io, got {other:?}"),
        }
        assert!(matches!(
            store.append(&[group[0].as_slice()]),
            Err(StoreError::Failed { .. })
        ));
        drop(store);
        let (store, report) = open(dir.path(), options(1 << 20));
        assert_eq!(counts(&report), (4 + complete, torn), "keep {keep}");
        for (position, bytes) in expected
            .iter()
            .chain(&group)
            .take(4 + complete as usize)
            .enumerate()
        {
            assert_eq!(&store.read(position as u64).expect("read"), bytes);
        }
        store
            .append(&[b"after".as_slice()])
            .expect("appends continue after reopen");
    }
}

#[test]
fn a_write_budget_crossed_inside_a_group_tears_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = Arc::new(FaultPlan::new());
    let (store, _) = open(dir.path(), faulty(1 << 20, &plan));
    let expected = fill(&store, 3, 100, 1);
    plan.write_budget(plan.bytes_written() + 300);
    let group: Vec<Vec<u8>> = (3..8).map(|p| record(p, 100)).collect();
    let slices: Vec<&[u8]> = group.iter().map(Vec::as_slice).collect();
    assert!(matches!(store.append(&slices), Err(StoreError::Io { .. })));
    drop(store);
    let (store, report) = open(dir.path(), options(1 << 20));
    // 300 bytes: two complete frames of 108 and 84 bytes of the third.
    assert_eq!(counts(&report), (5, 84));
    for (position, bytes) in expected.iter().chain(&group).take(5).enumerate() {
        assert_eq!(&store.read(position as u64).expect("read"), bytes);
    }
}

#[test]
fn a_failed_directory_sync_while_rolling_stops_appends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = Arc::new(FaultPlan::new());
    let (store, _) = open(dir.path(), faulty(1000, &plan));
    let expected = fill(&store, 8, 100, 4);
    // The next append rolls: file fsync, then directory fsync (the second sync) fails.
    plan.fail_sync(plan.syncs() + 2);
    match store.append(&[record(8, 100).as_slice()]) {
        Err(StoreError::Io { operation, .. }) => assert_eq!(operation, "fsync directory"),
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(matches!(
        store.append(&[b"x".as_slice()]),
        Err(StoreError::Failed { .. })
    ));
    assert_records(&store, &expected);
    drop(store);
    let (store, report) = open(dir.path(), options(1000));
    assert_eq!(report.records, 8);
    let mut expected = expected;
    expected.extend(fill(&store, 3, 100, 3));
    assert_records(&store, &expected);
}

#[test]
fn a_failed_erasure_sync_fails_the_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = Arc::new(FaultPlan::new());
    let (store, _) = open(dir.path(), faulty(1 << 20, &plan));
    fill(&store, 2, 100, 2);
    plan.fail_sync(plan.syncs() + 1);
    assert!(matches!(
        store.zero_range(0, 0, 10),
        Err(StoreError::Io { .. })
    ));
    assert!(matches!(
        store.append(&[b"x".as_slice()]),
        Err(StoreError::Failed { .. })
    ));
}

#[test]
fn truncation_across_segments_deletes_later_files_and_their_caches() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = open(dir.path(), options(1000));
    let mut expected = fill(&store, 40, 100, 4);
    assert_eq!(segment_files(dir.path()).len(), 5);
    store.truncate_torn(13).expect("truncate");
    expected.truncate(13);
    assert_eq!(segment_files(dir.path()).len(), 2);
    // Segment 8.. is current again: no cache may describe it.
    assert_eq!(
        fs::read_dir(dir.path().join("index"))
            .expect("list")
            .count(),
        1
    );
    expected.extend(fill(&store, 10, 100, 10));
    drop(store);
    let (store, report) = open(dir.path(), options(1000));
    assert_eq!(report.records, 23);
    assert_records(&store, &expected);
}

// ---------------------------------------------------------------------------------------------
// The crash test.

const CRASH_SEGMENT_BYTES_MAX: u64 = 256 * 1024;
const CRASH_SALT: u64 = 0xC0FFEE;

/// What the crash child appends at `position`: mostly small records, now and then a large one
/// that spans many pages.
fn crash_record(position: u64) -> Vec<u8> {
    let mut random = SplitMix64::new(position ^ CRASH_SALT);
    let len = if random.between(0, 49) == 0 {
        random.between(4096, 40_000)
    } else {
        random.between(1, 600)
    };
    record_bytes(position, CRASH_SALT, len as usize)
}

/// Child half of `crash_kill_cycles_lose_nothing_acknowledged`: appends groups forever and
/// acknowledges each one on stdout.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(crash::CHILD_ENV) else {
        return;
    };
    let seed: u64 = std::env::var(crash::CHILD_SEED_ENV)
        .ok()
        .and_then(|seed| seed.parse().ok())
        .expect("the crash test gives its child a seed");
    let (store, _) = open(Path::new(&dir), options(CRASH_SEGMENT_BYTES_MAX));
    let mut random = SplitMix64::new(seed);
    let mut out = std::io::stdout().lock();
    loop {
        let first = store.len();
        let group: Vec<Vec<u8>> = (first..first + random.between(1, 8))
            .map(crash_record)
            .collect();
        let slices: Vec<&[u8]> = group.iter().map(Vec::as_slice).collect();
        store.append(&slices).expect("the crash child appends");
        crash::acknowledge(&mut out, first + group.len() as u64 - 1).expect("print the ack");
    }
}

/// After a kill: everything ever acknowledged is present with its bytes (and so is every complete
/// unacknowledged record), and appending continues.
fn check_after_kill(
    dir: &Path,
    cycle: &Cycle,
    highest: &mut Option<u64>,
    torn: &mut u32,
) -> Result<(), String> {
    *highest = (*highest).max(cycle.acknowledged);
    let (store, report) = FileStore::open(dir, options(CRASH_SEGMENT_BYTES_MAX))
        .map_err(|error| format!("reopen failed: {error}"))?;
    if report.torn_bytes_dropped > 0 {
        *torn += 1;
    }
    if let Some(highest) = *highest
        && store.len() <= highest
    {
        return Err(format!(
            "position {highest} was acknowledged but the store has {}",
            store.len()
        ));
    }
    let mut bad = None;
    let mut visit = |position: u64, bytes: &[u8]| {
        if bytes != crash_record(position).as_slice() {
            bad = Some(position);
            return std::ops::ControlFlow::Break(());
        }
        std::ops::ControlFlow::Continue(())
    };
    store
        .scan(0, u64::MAX, &mut visit)
        .map_err(|error| format!("scan failed: {error}"))?;
    if let Some(position) = bad {
        return Err(format!("record {position} has the wrong bytes"));
    }
    let first = store.len();
    let group: Vec<Vec<u8>> = (first..first + 2).map(crash_record).collect();
    let slices: Vec<&[u8]> = group.iter().map(Vec::as_slice).collect();
    store
        .append(&slices)
        .map_err(|error| format!("append after reopen failed: {error}"))?;
    for (position, bytes) in (first..).zip(&group) {
        if &store
            .read(position)
            .map_err(|error| format!("read failed: {error}"))?
            != bytes
        {
            return Err(format!(
                "record {position} appended after reopen reads back wrong"
            ));
        }
    }
    Ok(())
}

#[test]
fn crash_kill_cycles_lose_nothing_acknowledged() {
    let seed = crash::seed_from_env();
    let cycles = crash::cycles_from_env(50);
    println!("crash test: seed {seed}, {cycles} cycles; replay with RESIDENCE_CRASH_SEED={seed}");
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = std::env::current_exe().expect("test binary");
    let plan = CrashPlan {
        cycles,
        seed,
        min_delay: Duration::ZERO,
        max_delay: Duration::from_millis(40),
    };
    let mut highest = None;
    let mut torn = 0u32;
    let summary = crash::crash_cycles(
        &plan,
        &mut |_, child_seed| {
            let mut command = Command::new(&exe);
            command
                .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
                .env(crash::CHILD_ENV, dir.path())
                .env(crash::CHILD_SEED_ENV, child_seed.to_string());
            command
        },
        &mut |cycle| check_after_kill(dir.path(), cycle, &mut highest, &mut torn),
    )
    .unwrap_or_else(|error| panic!("{error}"));
    println!(
        "crash test: {} cycles, {} acknowledgements, highest position {:?}, {torn} torn tails",
        summary.cycles, summary.acknowledgements, summary.acknowledged
    );
    assert_eq!(summary.cycles, cycles);
    assert!(
        summary.acknowledgements >= u64::from(cycles),
        "every cycle acknowledged something"
    );
}
