//! The embedded deployment on real files: a ledger directory (manifest, keys, segments, tree,
//! checkpoints) whose segment files are cut short, zeroed or altered between runs, reopened with
//! `LedgerDirectory::open` and checked with `verify_directory`, as an operator would.
//!
//! What these add to the backend-generic tests in `faults.rs`: the store's own repair of a torn
//! frame (the file ends inside a frame, or its trailer never reached the disk), damage to the
//! framing itself, and the file and byte offset named by both the refusal to open and `verify`.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use residence_ledger::directory::{
    DirectoryError, DirectoryOptions, LedgerDirectory, VerifyDirectoryError, verify_directory,
};
use residence_ledger::ledger::{AppendRequest, Appended, NewRecord, OpenError};
use residence_ledger::record::{BlindedKinds, Position, Tag, Timestamp};
use residence_ledger::store::{Location, StoreError};
use residence_ledger::verify::{RecordFault, VerifyError};

use crate::support::{record, write_at};

/// Seeded keys, supplied time, small segments.
fn options() -> DirectoryOptions {
    crate::support::directory_options("test.example/directory")
}

/// Record `n` with a payload of about 5,000 bytes, so that 30 of them fill three segments.
fn big_record(n: u64) -> NewRecord {
    let mut new = record(n, &["person:p", "pin:001234567890"]);
    new.payload = format!("{n:06}")
        .repeat(800 + (n as usize % 5) * 20)
        .into_bytes();
    new
}

fn at(micros: i64, records: Vec<NewRecord>) -> AppendRequest {
    AppendRequest {
        records,
        condition: None,
        recorded_at: Some(Timestamp(micros)),
    }
}

/// What a test remembers of the ledger it wrote.
struct Written {
    acknowledged: Vec<Appended>,
    locations: Vec<Location>,
    lens: Vec<usize>,
}

/// Creates a ledger in `dir` with records `0..count` (one per request), a checkpoint at
/// `checkpoint_at`, and returns what was acknowledged and where each record is.
fn write_ledger(dir: &Path, count: u64, checkpoint_at: u64) -> Written {
    let directory = LedgerDirectory::open(dir, &options()).expect("creates the ledger");
    let ledger = directory.ledger();
    let mut acknowledged = Vec::new();
    for n in 0..count {
        if n == checkpoint_at {
            ledger.checkpoint(&directory.signer()).expect("checkpoint");
        }
        let outcome = ledger
            .append_blocking(at(1_000_000 + n as i64, vec![big_record(n)]))
            .expect("appends");
        acknowledged.extend(outcome.records);
    }
    let store = ledger.store();
    let locations = (0..count)
        .map(|position| store.location(position).expect("located"))
        .collect();
    let lens = (0..count)
        .map(|position| store.read(position).expect("reads").len())
        .collect();
    Written {
        acknowledged,
        locations,
        lens,
    }
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("segments"))
        .expect("lists segments")
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    files
}

fn set_len(file: &Path, len: u64) {
    OpenOptions::new()
        .write(true)
        .open(file)
        .and_then(|handle| handle.set_len(len))
        .expect("truncates");
}

fn flip_byte_bit(file: &Path, offset: u64, bit: u8) {
    let mut byte = [0u8; 1];
    std::os::unix::fs::FileExt::read_exact_at(
        &std::fs::File::open(file).expect("opens"),
        &mut byte,
        offset,
    )
    .expect("reads");
    byte[0] ^= 1 << bit;
    write_at(file, offset, &byte);
}

/// Deletes the stored tree, as a crash leaves it: synced only up to the last checkpoint.
fn forget_the_synced_tree(dir: &Path) {
    std::fs::remove_dir_all(dir.join("tree")).expect("deletes the tree");
}

/// Checks that every acknowledged record is in the reopened ledger with its hash.
fn assert_acknowledged_present(directory: &LedgerDirectory, acknowledged: &[Appended]) {
    for appended in acknowledged {
        let stored = directory
            .ledger()
            .read(appended.position)
            .expect("an acknowledged record reads back");
        assert_eq!(stored.record_hash, appended.record_hash);
    }
}

#[test]
fn a_torn_frame_at_the_end_of_the_last_segment_is_dropped_on_open() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let written = write_ledger(&dir, 30, 20);
    let files = segment_files(&dir);
    assert!(files.len() >= 3, "{} segment files", files.len());
    let last = &written.locations[29];
    assert_eq!(
        Some(&last.file),
        files.last(),
        "record 29 is in the last file"
    );

    // Only the first 100 bytes of the last frame reached the disk. In a crash the tree is not
    // synced past the checkpoint either (a clean close synced it to 30, which would cover the
    // record): without it, the checkpoint at 20 is what no cut may reach.
    set_len(&last.file, last.offset + 100);
    forget_the_synced_tree(&dir);
    let replaced = {
        let directory = LedgerDirectory::open(&dir, &options()).expect("reopens");
        assert_eq!(directory.store_report().torn_bytes_dropped, 100);
        assert_eq!(directory.ledger().head().size, 29);
        assert_acknowledged_present(&directory, &written.acknowledged[..29]);
        // The record was never acknowledged (in this story): sending it again appends it.
        let outcome = directory
            .ledger()
            .append_blocking(at(2_000_000, vec![big_record(29)]))
            .expect("appends");
        assert_eq!(outcome.records[0].position, Position(29));
        directory.ledger().store().location(29).expect("located")
    };
    assert_eq!(replaced.offset, last.offset);

    // The frame's first sector reached the disk; the later ones (and its trailer) did not.
    let frame_end = std::fs::metadata(&replaced.file).expect("stat").len();
    let first_lost = (replaced.offset + 4).div_ceil(512) * 512;
    write_at(
        &replaced.file,
        first_lost,
        &vec![0; usize::try_from(frame_end - first_lost).expect("small")],
    );
    forget_the_synced_tree(&dir);
    {
        let directory = LedgerDirectory::open(&dir, &options()).expect("reopens");
        assert_eq!(
            directory.store_report().torn_bytes_dropped,
            frame_end - replaced.offset,
            "the whole frame is dropped"
        );
        assert_eq!(directory.ledger().head().size, 29);
        assert_acknowledged_present(&directory, &written.acknowledged[..29]);
    }
    let (report, records) = verify_directory(&dir, &mut |_| {}).expect("verifies");
    assert_eq!((records, report.records, report.checkpoints), (29, 29, 1));
}

#[test]
fn damage_is_named_with_its_file_and_offset_by_open_and_by_verify() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let written = write_ledger(&dir, 30, 30);
    let (report, _) = verify_directory(&dir, &mut |_| {}).expect("verifies");
    assert_eq!((report.records, report.checkpoints), (30, 0));

    // A flipped payload bit in the last record: opening refuses, naming it.
    let last = &written.locations[29];
    let in_payload = last.offset + 4 + written.lens[29] as u64 - 10;
    flip_byte_bit(&last.file, in_payload, 3);
    match LedgerDirectory::open(&dir, &options()) {
        Err(DirectoryError::Ledger(OpenError::Damaged {
            position,
            file,
            offset,
            fault,
        })) => {
            assert_eq!(position, Position(29));
            assert_eq!((&file, offset), (&last.file, last.offset));
            assert_eq!(fault, RecordFault::PayloadMismatch);
        }
        other => panic!("expected a refusal naming record 29, got {other:?}"),
    }
    assert_record_reported(&dir, 29, last);
    flip_byte_bit(&last.file, in_payload, 3);

    // A flipped bit in a record of the first segment: `verify` names its file and offset.
    let early = &written.locations[3];
    assert_eq!(early.file, segment_files(&dir)[0]);
    let in_payload = early.offset + 4 + written.lens[3] as u64 - 10;
    flip_byte_bit(&early.file, in_payload, 0);
    assert_record_reported(&dir, 3, early);
    flip_byte_bit(&early.file, in_payload, 0);

    // Broken framing in a sealed segment (a length prefix): the store names the frame.
    flip_byte_bit(&early.file, early.offset + 2, 7);
    let refusal = LedgerDirectory::open(&dir, &options()).expect_err("refuses to open");
    let (file, offset) = framing_damage(&refusal)
        .unwrap_or_else(|| panic!("expected damaged framing, got {refusal:?}"));
    assert_eq!((file, offset), (&early.file, early.offset));
    let failure = verify_directory(&dir, &mut |_| {}).expect_err("fails");
    let store_error = match &failure {
        VerifyDirectoryError::Directory(DirectoryError::Store(error))
        | VerifyDirectoryError::Verify(VerifyError::Store(error)) => error,
        other => panic!("expected damaged framing, got {other:?}"),
    };
    let StoreError::Damaged { file, offset, .. } = store_error else {
        panic!("expected damaged framing, got {store_error:?}");
    };
    assert_eq!((file, *offset), (&early.file, early.offset));
    flip_byte_bit(&early.file, early.offset + 2, 7);

    // Restored, everything verifies and opens again, with nothing lost.
    let (report, _) = verify_directory(&dir, &mut |_| {}).expect("verifies");
    assert_eq!(report.records, 30);
    let directory = LedgerDirectory::open(&dir, &options()).expect("opens");
    assert_acknowledged_present(&directory, &written.acknowledged);
}

/// Checks that `verify_directory` reports record `position` at `location`.
fn assert_record_reported(dir: &Path, position: u64, location: &Location) {
    match verify_directory(dir, &mut |_| {}) {
        Err(VerifyDirectoryError::Verify(VerifyError::Record {
            position: found,
            location: found_location,
            ..
        })) => {
            assert_eq!(found, Position(position));
            assert_eq!(found_location.as_ref(), Some(location));
        }
        other => panic!("expected verify to name record {position}, got {other:?}"),
    }
}

/// The file and offset of a framing error, whether the store found it while opening or the
/// ledger while scanning.
fn framing_damage(error: &DirectoryError) -> Option<(&PathBuf, u64)> {
    match error {
        DirectoryError::Store(StoreError::Damaged { file, offset, .. })
        | DirectoryError::Ledger(OpenError::Store(StoreError::Damaged { file, offset, .. })) => {
            Some((file, *offset))
        }
        _ => None,
    }
}

/// The blinded kinds a caller names are a requirement on an existing ledger, never a change to
/// it: a kind the manifest does not blind refuses the open (its tags would otherwise be stored
/// in the clear for ever), and kinds the manifest blinds beyond the caller's stay blinded.
#[test]
fn opening_refuses_a_required_blinded_kind_the_manifest_lacks() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let written = write_ledger(&dir, 3, u64::MAX);
    let manifest_path = dir.join(residence_ledger::directory::MANIFEST_FILE);

    let mut wider = options();
    wider.blinded_kinds = BlindedKinds::new(["pin", "address"]).expect("valid kinds");
    let refusal = LedgerDirectory::open(&dir, &wider).expect_err("address is not blinded");
    match &refusal {
        DirectoryError::KindNotBlinded { kind, manifest } => {
            assert_eq!(kind, "address");
            assert_eq!(manifest, &manifest_path);
        }
        other => panic!("expected KindNotBlinded, got {other:?}"),
    }

    let mut narrower = options();
    narrower.blinded_kinds = BlindedKinds::none();
    let directory = LedgerDirectory::open(&dir, &narrower).expect("a narrower list opens");
    assert_eq!(directory.manifest().blinded_tag_kinds, ["pin"]);
    let pin = Tag::new("pin:001234567890").expect("valid tag");
    let stored = directory.ledger().stored_tag(&pin);
    assert_ne!(
        stored.as_str(),
        pin.as_str(),
        "the manifest's pin stays blinded"
    );
    assert_acknowledged_present(&directory, &written.acknowledged);
}

/// A new ledger records exactly the kinds its creator names.
#[test]
fn a_new_ledger_blinds_the_kinds_its_creator_names() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let mut named = options();
    named.blinded_kinds = BlindedKinds::new(["pin", "address"]).expect("valid kinds");
    let directory = LedgerDirectory::open(&dir, &named).expect("creates the ledger");
    assert_eq!(directory.manifest().blinded_tag_kinds, ["address", "pin"]);
    let address = Tag::new("address:somewhere").expect("valid tag");
    assert_ne!(
        directory.ledger().stored_tag(&address).as_str(),
        address.as_str()
    );
    let person = Tag::new("person:p").expect("valid tag");
    assert_eq!(
        directory.ledger().stored_tag(&person).as_str(),
        person.as_str()
    );
}
