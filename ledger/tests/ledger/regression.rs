//! Regression tests, named after the issue that found what they pin down.
//!
//! Issue 11 (an independent audit): one damaged byte must never be repaired silently or signed
//! over. A torn-tail rule never cuts a record that a signed checkpoint or the synced tree
//! covers; a checkpoint file is never replaced and never contradicted; the stored Merkle tree is
//! a cache that is checked before it is believed; and `verify` refuses what FORMAT.md forbids.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use residence_ledger::checkpoint::{Checkpoint, NoteSigner, SignedNote, VerifierKey};
use residence_ledger::clock::ClockMode;
use residence_ledger::directory::{
    DirectoryError, DirectoryOptions, LedgerDirectory, VerifyDirectoryError, repair,
    verify_directory,
};
use residence_ledger::hash::Hash;
use residence_ledger::ledger::{
    AppendRequest, CheckpointWriteError, Ledger, NewRecord, OpenError, ProofError,
};
use residence_ledger::record::encode_body;
use residence_ledger::record::{Payload, Position, StoredRecord, Timestamp, record_hash};
use residence_ledger::store::{Location, StoreError};
use residence_ledger::verify::{CheckpointProblem, RecordFault, VerifyError};

use crate::support::{config, memory_store, record, request, verify_store, write_at};

/// Seeded keys, supplied time, small segments.
fn options() -> DirectoryOptions {
    crate::support::directory_options("test.example/regression")
}

/// Record `n` with a payload of about 5,000 bytes (so a frame holds whole 512-byte sectors).
fn big_record(n: u64) -> NewRecord {
    let mut new = record(n, &["person:p"]);
    new.payload = format!("{n:06}").repeat(800).into_bytes();
    new
}

fn at(micros: i64, records: Vec<NewRecord>) -> AppendRequest {
    AppendRequest {
        records,
        condition: None,
        recorded_at: Some(Timestamp(micros)),
    }
}

/// Creates a ledger in `dir` with records `0..count`, signing a checkpoint whenever the ledger
/// holds one of `checkpoint_sizes` records; returns where each record is.
fn write(dir: &Path, count: u64, checkpoint_sizes: &[u64]) -> Vec<Location> {
    let directory = LedgerDirectory::open(dir, &options()).expect("creates the ledger");
    let ledger = directory.ledger();
    for n in 0..=count {
        if checkpoint_sizes.contains(&n) {
            ledger.checkpoint(&directory.signer()).expect("checkpoint");
        }
        if n < count {
            ledger
                .append_blocking(at(1_000_000 + n as i64, vec![big_record(n)]))
                .expect("appends");
        }
    }
    (0..count)
        .map(|position| ledger.store().location(position).expect("located"))
        .collect()
}

fn file_len(file: &Path) -> u64 {
    std::fs::metadata(file).expect("stat").len()
}

fn flip(file: &Path, offset: u64, mask: u8) {
    let mut bytes = std::fs::read(file).expect("reads");
    let at = usize::try_from(offset).expect("small");
    bytes[at] ^= mask;
    write_at(file, offset, &bytes[at..=at]);
}

fn note_file(dir: &Path, size: u64) -> PathBuf {
    dir.join("checkpoints").join(format!("{size:020}.note"))
}

/// Checks that `error` is the refusal of damage at `location` that `covered` records cover.
fn assert_covered_frame(error: &StoreError, location: &Location, covered: u64) {
    match error {
        StoreError::DamagedCovered {
            file,
            offset,
            position,
            cover,
            ..
        } => {
            assert_eq!((file, *offset), (&location.file, location.offset));
            assert_eq!(*position, covered - 1);
            assert_eq!(cover.records, covered);
        }
        other => panic!("expected damage below the cover, got {other:?}"),
    }
}

/// The audit's fork: one flipped bit in the last frame's length or trailer made every open
/// (and `verify`) cut a record that a signed checkpoint covered. Now open, `verify` and `repair`
/// refuse, naming the file and byte offset, and cut nothing.
#[test]
fn issue_11_a_damaged_covered_last_frame_is_refused_by_open_verify_and_repair() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let locations = write(&dir, 12, &[12]);
    // Only the checkpoint covers the records (the tree, a cache, is gone).
    std::fs::remove_dir_all(dir.join("tree")).expect("deletes the tree");
    let last = &locations[11];
    let before = file_len(&last.file);
    let content_len = u64::from(u32::from_le_bytes(
        std::fs::read(&last.file).expect("reads")[last.offset as usize..last.offset as usize + 4]
            .try_into()
            .expect("four bytes"),
    ));
    // The length (the frame then runs past the end of the file), then the trailer.
    for (offset, mask) in [(last.offset + 1, 1), (last.offset + 4 + content_len, 4)] {
        flip(&last.file, offset, mask);
        match LedgerDirectory::open(&dir, &options()) {
            Err(DirectoryError::Store(error)) => assert_covered_frame(&error, last, 12),
            other => panic!("expected a refusal, got {other:?}"),
        }
        match verify_directory(&dir, &mut |_| {}) {
            Err(VerifyDirectoryError::Directory(DirectoryError::Store(error))) => {
                assert_covered_frame(&error, last, 12);
            }
            other => panic!("expected verify to name the damage, got {other:?}"),
        }
        match repair(&dir, &options()) {
            Err(DirectoryError::Store(error)) => assert_covered_frame(&error, last, 12),
            other => panic!("expected repair to refuse, got {other:?}"),
        }
        assert_eq!(file_len(&last.file), before, "nothing was cut");
        flip(&last.file, offset, mask);
    }
    let directory = LedgerDirectory::open(&dir, &options()).expect("opens once restored");
    assert_eq!(directory.ledger().head().size, 12);
}

/// The synced tree covers what it holds as a checkpoint does: its records were acknowledged.
#[test]
fn issue_11_the_synced_tree_covers_its_records() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let locations = write(&dir, 6, &[]);
    let last = &locations[5];
    let before = file_len(&last.file);
    flip(&last.file, last.offset + 1, 1);
    match LedgerDirectory::open(&dir, &options()) {
        Err(DirectoryError::Store(error)) => assert_covered_frame(&error, last, 6),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(file_len(&last.file), before, "nothing was cut");
}

/// A record whose content holds a zero sector looks torn; below the cover it is damage.
#[test]
fn issue_11_a_torn_looking_covered_record_is_refused() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let locations = write(&dir, 8, &[8]);
    std::fs::remove_dir_all(dir.join("tree")).expect("deletes the tree");
    let last = &locations[7];
    let before = file_len(&last.file);
    let sector = (last.offset + 1024).div_ceil(512) * 512;
    assert!(sector + 512 < before, "a whole sector inside the frame");
    let original = std::fs::read(&last.file).expect("reads");
    write_at(&last.file, sector, &[0; 512]);
    match LedgerDirectory::open(&dir, &options()) {
        Err(DirectoryError::Ledger(OpenError::DamagedCovered {
            position,
            file,
            offset,
            cover,
            ..
        })) => {
            assert_eq!(position, Position(7));
            assert_eq!((&file, offset), (&last.file, last.offset));
            assert_eq!(cover.records, 8);
        }
        other => panic!("expected a refusal naming record 7, got {other:?}"),
    }
    assert_eq!(file_len(&last.file), before, "nothing was cut");
    let at = usize::try_from(sector).expect("small");
    write_at(&last.file, sector, &original[at..at + 512]);
    LedgerDirectory::open(&dir, &options()).expect("opens once restored");
}

/// Records a checkpoint covers that are simply gone (a frame-aligned cut) refuse the open,
/// rather than let the ledger sign a smaller tree and later a second root for the same size.
#[test]
fn issue_11_a_log_shorter_than_its_checkpoint_is_refused() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let locations = write(&dir, 10, &[10]);
    std::fs::remove_dir_all(dir.join("tree")).expect("deletes the tree");
    let last = &locations[9];
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last.file)
        .and_then(|file| file.set_len(last.offset))
        .expect("cuts the last frame");
    match LedgerDirectory::open(&dir, &options()) {
        Err(DirectoryError::Ledger(OpenError::CoveredRecordsMissing { records, cover })) => {
            assert_eq!(records, 9);
            assert_eq!(cover.records, 10);
            assert_eq!(cover.file, note_file(&dir, 10));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A torn tail beyond everything covered is still cut, and `repair` says exactly what it cut.
#[test]
fn issue_11_repair_cuts_a_torn_tail_beyond_the_checkpoint_and_reports_it() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let locations = write(&dir, 10, &[6]);
    // As after a crash: the tree was last synced at the checkpoint, not at a clean close.
    std::fs::remove_dir_all(dir.join("tree")).expect("deletes the tree");
    let last = &locations[9];
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last.file)
        .and_then(|file| file.set_len(last.offset + 100))
        .expect("tears the last frame");
    let report = repair(&dir, &options()).expect("repairs");
    assert_eq!(report.records, 9);
    assert_eq!(report.cover.as_ref().map(|cover| cover.records), Some(6));
    assert_eq!(report.torn_frames.len(), 1, "{report:?}");
    let torn = &report.torn_frames[0];
    assert_eq!((&torn.file, torn.offset), (&last.file, last.offset));
    assert_eq!((torn.bytes, torn.position, torn.removed), (100, 9, true));
    assert!(report.torn_records.is_none());
    let again = repair(&dir, &options()).expect("repairs again");
    assert_eq!(again.records, 9);
    assert!(again.torn_frames.is_empty() && again.torn_records.is_none());
}

/// `verify` changes nothing: a torn tail beyond the cover is reported and left for the next
/// open (which cuts it), and the records before it are verified.
#[test]
fn issue_11_verify_changes_nothing_and_reports_a_torn_tail() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let locations = write(&dir, 10, &[6]);
    std::fs::remove_dir_all(dir.join("tree")).expect("deletes the tree");
    let last = &locations[9];
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last.file)
        .and_then(|file| file.set_len(last.offset + 100))
        .expect("tears the last frame");
    let (report, records) = verify_directory(&dir, &mut |_| {}).expect("verifies");
    assert_eq!((records, report.records, report.checkpoints), (9, 9, 1));
    assert_eq!(report.torn.len(), 1);
    assert_eq!(
        (
            &report.torn[0].file,
            report.torn[0].offset,
            report.torn[0].removed
        ),
        (&last.file, last.offset, false)
    );
    assert_eq!(file_len(&last.file), last.offset + 100, "nothing was cut");
    let directory = LedgerDirectory::open(&dir, &options()).expect("opens");
    assert_eq!(directory.store_report().torn_bytes_dropped, 100);
    assert_eq!(file_len(&last.file), last.offset, "the open cut it");
}

/// Signing at a size that already has a note returns the stored note: the file is never
/// replaced (here the wall clock would have given a second, different note).
#[test]
fn issue_11_a_second_checkpoint_of_the_same_size_never_replaces_the_first() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let mut wall = options();
    wall.clock = ClockMode::wall();
    let directory = LedgerDirectory::open(&dir, &wall).expect("creates");
    let ledger = directory.ledger();
    let mut new = request(vec![record(1, &["person:a"])]);
    new.recorded_at = None;
    ledger.append_blocking(new).expect("appends");
    let first = ledger.checkpoint(&directory.signer()).expect("checkpoint");
    let stored = std::fs::read(note_file(&dir, 1)).expect("stored");
    std::thread::sleep(std::time::Duration::from_millis(3));
    let second = ledger.checkpoint(&directory.signer()).expect("checkpoint");
    assert_eq!(second, first, "the stored note is returned");
    assert_eq!(std::fs::read(note_file(&dir, 1)).expect("stored"), stored);
}

/// A different note already stored for the size about to be signed is a fork: refused, and the
/// stored note is kept byte for byte.
#[test]
fn issue_11_a_conflicting_note_of_the_same_size_is_refused_and_kept() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let directory = LedgerDirectory::open(&dir, &options()).expect("creates");
    let ledger = directory.ledger();
    for n in 0..3 {
        ledger
            .append_blocking(at(1_000_000, vec![record(n, &["person:a"])]))
            .expect("appends");
    }
    let (root, head) = (ledger.tree_head().1, ledger.head().hash);
    let planted = Checkpoint {
        origin: ledger.origin().clone(),
        size: 3,
        root: Hash([root.0[0] ^ 1; 32]),
        time: Timestamp(1_000_000).to_datetime().expect("a time"),
        head,
        next_key: None,
    }
    .sign(&directory.signer())
    .to_string();
    std::fs::create_dir_all(dir.join("checkpoints")).expect("creates");
    std::fs::write(note_file(&dir, 3), &planted).expect("plants");
    match ledger.checkpoint(&directory.signer()) {
        Err(CheckpointWriteError::Conflict { file, .. }) => {
            assert_eq!(file, note_file(&dir, 3));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(note_file(&dir, 3)).expect("reads"),
        planted
    );
}

/// The root about to be signed must extend the last signed one: a stored tree that gives
/// another root at the old size is not signed over (and the next open rebuilds the tree).
#[test]
fn issue_11_a_checkpoint_inconsistent_with_the_last_one_is_not_signed() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    {
        let directory = LedgerDirectory::open(&dir, &options()).expect("creates");
        let ledger = directory.ledger();
        for n in 0..15 {
            if n == 10 {
                ledger.checkpoint(&directory.signer()).expect("checkpoint");
            }
            ledger
                .append_blocking(at(1_000_000, vec![record(n, &[])]))
                .expect("appends");
        }
        // node(1, 4) (leaves 8 and 9) is in the proof from 10 to 15 and not on the frontier.
        flip(&dir.join("tree").join("level-01.hashes"), 4 * 32, 0x20);
        match ledger.checkpoint(&directory.signer()) {
            Err(CheckpointWriteError::Inconsistent { size, .. }) => assert_eq!(size, 15),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(!note_file(&dir, 15).exists(), "nothing was signed");
    }
    let directory = LedgerDirectory::open(&dir, &options()).expect("reopens");
    let note = directory
        .ledger()
        .checkpoint(&directory.signer())
        .expect("the rebuilt tree is signed");
    let checkpoint = note.verify(&[directory.verifier_key()]).expect("verifies");
    assert_eq!(checkpoint.size, 15);
    drop(directory);
    verify_directory(&dir, &mut |_| {}).expect("verifies");
}

/// Every node of every stored level file is compared with the tree recomputed from the log.
#[test]
fn issue_11_verify_compares_every_stored_tree_node() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    write(&dir, 30, &[30]);
    verify_directory(&dir, &mut |_| {}).expect("verifies");
    for (level, entry) in [(0, 3), (2, 1), (1, 0)] {
        let file = dir.join("tree").join(format!("level-{level:02}.hashes"));
        let offset = entry * 32 + 5;
        flip(&file, offset, 0x80);
        match verify_directory(&dir, &mut |_| {}) {
            Err(VerifyDirectoryError::Verify(VerifyError::Tree {
                file: found,
                offset: found_offset,
                ..
            })) => {
                assert_eq!((&found, found_offset), (&file, entry * 32), "level {level}");
            }
            other => panic!("expected a damaged tree node at level {level}, got {other:?}"),
        }
        flip(&file, offset, 0x80);
    }
    verify_directory(&dir, &mut |_| {}).expect("verifies again");
}

/// A stored tree whose root at the signed size differs from the signed root is rebuilt on
/// open, never believed.
#[test]
fn issue_11_open_rebuilds_a_stored_tree_that_disagrees_with_the_signed_checkpoint() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    write(&dir, 30, &[20]);
    // root(20) = node(4, 0) ‖ node(2, 4); at size 30, node(2, 4) is read from its file.
    let file = dir.join("tree").join("level-02.hashes");
    let original = std::fs::read(&file).expect("reads");
    flip(&file, 4 * 32, 1);
    let directory = LedgerDirectory::open(&dir, &options()).expect("opens");
    assert_eq!(std::fs::read(&file).expect("reads"), original, "rebuilt");
    let ledger = directory.ledger();
    let checkpoint = ledger.latest_checkpoint().expect("a checkpoint").1;
    for position in 0..20 {
        let checked = ledger
            .checked_inclusion_proof(position, 20)
            .expect("a checked proof");
        checked
            .proof
            .verify(&checked.record_hash, &checkpoint.root)
            .expect("verifies against the signed root");
    }
}

/// Proofs are checked against the signed checkpoint before they are given out: a damaged
/// stored node makes the proofs that use it fail, never reach a caller.
#[test]
fn issue_11_checked_proofs_refuse_a_damaged_tree() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let directory = LedgerDirectory::open(&dir, &options()).expect("creates");
    let ledger = directory.ledger();
    for n in 0..13 {
        ledger
            .append_blocking(at(1_000_000, vec![record(n, &[])]))
            .expect("appends");
    }
    let note = ledger.checkpoint(&directory.signer()).expect("checkpoint");
    let signed = note.verify(&[directory.verifier_key()]).expect("verifies");
    // Leaf 3 is in the proof of leaf 2, not in that of leaf 5 (nor on the frontier of 13).
    flip(&dir.join("tree").join("level-00.hashes"), 3 * 32, 0x04);
    let refused = ledger.checked_inclusion_proof(2, 13);
    assert!(
        matches!(refused, Err(ProofError::Unverified { .. })),
        "{refused:?}"
    );
    assert!(
        ledger.inclusion_proof(2, 13).is_ok(),
        "the unchecked proof is wrong"
    );
    let checked = ledger.checked_inclusion_proof(5, 13).expect("a good proof");
    checked
        .proof
        .verify(&checked.record_hash, &signed.root)
        .expect("verifies");
    // Consistency from 3 (whose root holds leaf 3) to the signed size.
    let refused = ledger.checked_consistency_proof(3, 13);
    assert!(
        matches!(refused, Err(ProofError::Unverified { .. })),
        "{refused:?}"
    );
    ledger
        .checked_consistency_proof(8, 13)
        .expect("a proof that does not use leaf 3");
    // Beyond the latest signed checkpoint there is nothing to check against.
    ledger
        .append_blocking(at(1_000_000, vec![record(13, &[])]))
        .expect("appends");
    assert!(matches!(
        ledger.checked_inclusion_proof(13, 14),
        Err(ProofError::NotCheckpointed { size: 14, .. })
    ));
}

/// An appended record that reuses an event id is refused by `verify`.
#[test]
fn issue_11_verify_refuses_a_reused_event_id() {
    let store = memory_store();
    let ledger = Ledger::open(config(Arc::clone(&store))).expect("opens");
    for n in 0..3 {
        ledger
            .append_blocking(request(vec![record(n, &[])]))
            .expect("appends");
    }
    let earlier = ledger.read(Position(1)).expect("reads");
    let head = ledger.head().hash;
    drop(ledger);
    let mut copy: StoredRecord = earlier.clone();
    copy.record.position = Position(3);
    copy.record.prev_hash = head;
    copy.record_hash = record_hash(&encode_body(&copy.record));
    assert!(matches!(copy.payload, Payload::Present { .. }));
    store.append(&[&copy.encode()]).expect("stores");
    match verify_store(&*store) {
        Err(VerifyError::Record {
            position,
            fault: RecordFault::DuplicateEventId { first },
            ..
        }) => {
            assert_eq!((position, first), (Position(3), Position(1)));
        }
        other => panic!("expected a reused event id, got {other:?}"),
    }
}

/// After a checkpoint announces the next key, the ledger signs only with that key, and `verify`
/// follows the rotation from the key in `ledger.pub`.
#[test]
fn issue_11_a_checkpoint_is_never_signed_by_a_retired_key() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    let (next_signer, next) = signer_of([9; 32]);
    {
        let directory = LedgerDirectory::open(&dir, &options()).expect("creates");
        let ledger = directory.ledger();
        ledger
            .append_blocking(at(1_000_000, vec![record(0, &[])]))
            .expect("appends");
        ledger
            .checkpoint_announcing(&directory.signer(), &next)
            .expect("announces");
        ledger
            .append_blocking(at(1_000_001, vec![record(1, &[])]))
            .expect("appends");
        match ledger.checkpoint(&directory.signer()) {
            Err(CheckpointWriteError::RetiredKey { announced }) => assert_eq!(*announced, next),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(!note_file(&dir, 2).exists(), "nothing was signed");
        ledger
            .checkpoint(&next_signer)
            .expect("the announced key signs");
    }
    let (report, _) = verify_directory(&dir, &mut |_| {}).expect("verifies");
    assert_eq!(report.checkpoints, 2);
}

/// Replaces the note of `size` in `dir` with one of the same tree signed by `signer`, with
/// `time` and `next_key`.
fn resign(dir: &Path, size: u64, signer: &NoteSigner, time: i64, next_key: Option<VerifierKey>) {
    let file = note_file(dir, size);
    let note = SignedNote::from_bytes(&std::fs::read(&file).expect("reads")).expect("parses");
    let mut checkpoint = Checkpoint::parse_body(note.text()).expect("a checkpoint");
    checkpoint.time = Timestamp(time).to_datetime().expect("a time");
    checkpoint.next_key = next_key;
    std::fs::write(&file, checkpoint.sign(signer).to_string()).expect("writes");
}

/// Stored checkpoints whose time goes back as the size grows are refused by `verify`.
#[test]
fn issue_11_verify_refuses_checkpoint_times_that_go_back() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    write(&dir, 6, &[3, 6]);
    let signer = LedgerDirectory::open(&dir, &options())
        .expect("opens")
        .signer();
    verify_directory(&dir, &mut |_| {}).expect("verifies");
    resign(&dir, 6, &signer, 1_000_000, None);
    resign(&dir, 3, &signer, 5_000_000, None);
    match verify_directory(&dir, &mut |_| {}) {
        Err(VerifyDirectoryError::Verify(VerifyError::Checkpoint {
            file,
            problem: CheckpointProblem::TimeWentBackwards { previous, .. },
        })) => {
            assert_eq!(file, note_file(&dir, 6));
            assert_eq!(previous, note_file(&dir, 3));
        }
        other => panic!("expected times going back, got {other:?}"),
    }
}

/// Once a checkpoint announces the next key, a later checkpoint signed by the announcing
/// (retired) key is refused by `verify`.
#[test]
fn issue_11_verify_refuses_checkpoints_signed_by_a_retired_key() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    write(&dir, 6, &[3, 6]);
    let signer = LedgerDirectory::open(&dir, &options())
        .expect("opens")
        .signer();
    let (_, next) = signer_of([9; 32]);
    resign(&dir, 3, &signer, 1_000_002, Some(next));
    match verify_directory(&dir, &mut |_| {}) {
        Err(VerifyDirectoryError::Verify(VerifyError::Checkpoint {
            file,
            problem: CheckpointProblem::RetiredKey { announced_in, .. },
        })) => {
            assert_eq!(file, note_file(&dir, 6));
            assert_eq!(announced_in, note_file(&dir, 3));
        }
        other => panic!("expected a retired key, got {other:?}"),
    }
}

fn signer_of(seed: [u8; 32]) -> (NoteSigner, VerifierKey) {
    let name =
        residence_ledger::checkpoint::KeyName::new("test.example/regression").expect("valid name");
    let signer = NoteSigner::new(name, ed25519_dalek::SigningKey::from_bytes(&seed));
    let key = signer.verifier_key();
    (signer, key)
}
