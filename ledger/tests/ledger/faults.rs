//! Failures and damage: fail-stop, bit flips found by `verify`, erasure, torn and tampered tails.
//!
//! Every test runs on both backends; on the file backend, damage is written into the segment
//! files and the store is opened again from disk, so truncations and refusals are checked against
//! real files and byte offsets. The last tests inject failures into the file store's own writes
//! and syncs.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use residence_ledger::ledger::{AppendError, Erasure, Ledger, Limits, OpenError};
use residence_ledger::record::{Payload, Position, decode_content};
use residence_ledger::store::fault::FaultPlan;
use residence_ledger::store::{Location, SegmentStore};
use residence_ledger::verify::{RecordFault, VerifyError};

use crate::support::{
    Backend, Backing, Faulty, backend_tests, config, flip_bit, open, record, request, verify_store,
};

backend_tests!(
    a_failed_append_stops_the_ledger_and_loses_nothing_acknowledged,
    verify_names_the_record_of_every_flipped_bit,
    an_erased_payload_still_verifies_and_an_unfinished_erasure_is_reported,
    a_torn_tail_is_truncated_on_open,
    a_tampered_tail_record_makes_open_refuse_with_its_location,
    zeros_before_the_tail_are_never_truncated,
    a_group_formed_behind_a_failed_one_fails_and_is_never_visible,
);

/// A record with a payload of `len` bytes.
fn sized_record(n: u64, len: usize) -> residence_ledger::ledger::NewRecord {
    let mut record = record(n, &["person:big"]);
    record.payload = vec![b'a' + (n % 26) as u8; len];
    record
}

fn a_failed_append_stops_the_ledger_and_loses_nothing_acknowledged(backend: Backend) {
    let backing = Backing::new(backend);
    let faulty = Arc::new(Faulty::new(backing.store()).failing_append(3));
    let ledger = open(faulty.clone());
    ledger
        .append_blocking(request(vec![record(1, &["person:a"])]))
        .expect("append 1");
    ledger
        .append_blocking(request(vec![record(2, &["person:a"])]))
        .expect("append 2");
    let failed = ledger.append_blocking(request(vec![record(3, &["person:a"])]));
    let Err(AppendError::Failed { cause }) = failed else {
        panic!("expected a failure, got {failed:?}");
    };
    assert!(
        cause.contains("injected failure of append 3"),
        "cause: {cause}"
    );
    assert_eq!(
        ledger.append_blocking(request(vec![record(4, &[])])),
        Err(AppendError::Failed {
            cause: cause.clone()
        }),
        "every later append is refused with the first cause"
    );
    assert_eq!(ledger.failure(), Some(cause.as_str()));
    // Reads keep working and see exactly what was acknowledged.
    assert_eq!(ledger.head().size, 2);
    assert_eq!(
        ledger.read(Position(1)).expect("reads").record.event_id,
        crate::support::id(2)
    );
    assert_eq!(faulty.inner().len(), 2);
    assert_eq!(
        verify_store(&**faulty.inner()).expect("verifies").records,
        2
    );
    drop(ledger);
    drop(faulty);
    // Reopened (by an operator), the ledger goes on from the acknowledged records.
    let reopened = open(backing.store());
    assert_eq!(reopened.head().size, 2);
    let outcome = reopened
        .append_blocking(request(vec![record(3, &["person:a"])]))
        .expect("ok");
    assert_eq!(outcome.records[0].position, Position(2));
}

/// Checks that `verify` reports a bad record at `position`, at `location`.
fn assert_reported_at(store: &dyn SegmentStore, position: u64, location: &Location, what: &str) {
    match verify_store(store) {
        Err(VerifyError::Record {
            position: found,
            location: found_location,
            ..
        }) => {
            assert_eq!(found, Position(position), "{what}: wrong position reported");
            assert_eq!(
                found_location.as_ref(),
                Some(location),
                "{what}: wrong location"
            );
        }
        other => panic!("{what}: expected a bad record at {position}, got {other:?}"),
    }
}

fn verify_names_the_record_of_every_flipped_bit(backend: Backend) {
    let backing = Backing::new(backend);
    let store = backing.store();
    let ledger = open(Arc::clone(&store));
    for n in 0..12u64 {
        let tag_texts: &[&str] = match n % 3 {
            0 => &["person:a", "household:h"],
            1 => &["person:b", "pin:012345678901"],
            _ => &[],
        };
        ledger
            .append_blocking(request(vec![record(n, tag_texts)]))
            .expect("appends");
    }
    verify_store(&*store).expect("verifies before damage");
    let locations: Vec<Location> = (0..12)
        .map(|position| store.location(position).expect("located"))
        .collect();

    // Every bit of one record (with tags, back-links, metadata, payload).
    let target = 4;
    let len = store.read(target).expect("reads").len();
    for bit in 0..len * 8 {
        backing.damage(&*store, target, flip_bit(bit));
        assert_reported_at(
            &*store,
            target,
            &locations[target as usize],
            &format!("bit {bit} of record {target}"),
        );
        backing.heal();
    }

    // Sampled bits of every other record.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    for _ in 0..300 {
        let position = rng.random_range(0..12u64);
        let len = store.read(position).expect("reads").len();
        let bit = rng.random_range(0..len * 8);
        backing.damage(&*store, position, flip_bit(bit));
        assert_reported_at(
            &*store,
            position,
            &locations[position as usize],
            &format!("bit {bit} of record {position}"),
        );
        backing.heal();
    }
    verify_store(&*store).expect("verifies after healing");
}

fn an_erased_payload_still_verifies_and_an_unfinished_erasure_is_reported(backend: Backend) {
    let backing = Backing::new(backend);
    let store = backing.store();
    let ledger = open(Arc::clone(&store));
    for n in 0..4 {
        ledger
            .append_blocking(request(vec![record(n, &["person:a"])]))
            .expect("appends");
    }
    let root = ledger.tree_head().1;
    let len = record(1, &[]).payload.len() as u32;
    assert_eq!(
        ledger.erase_payload(Position(1)).expect("erases"),
        Erasure::Erased { len }
    );
    assert_eq!(
        ledger.read(Position(1)).expect("reads").payload,
        Payload::Erased { len }
    );
    assert_eq!(
        ledger.erase_payload(Position(1)).expect("erases"),
        Erasure::AlreadyErased
    );
    let report = verify_store(&*store).expect("verifies");
    assert_eq!((report.records, report.erased_payloads), (4, 1));
    assert_eq!(report.root, root, "the root does not change");
    assert_eq!(
        ledger
            .read_by_tag(&crate::support::tags(&["person:a"])[0], None, 10)
            .expect("reads")
            .len(),
        4
    );

    // An erasure interrupted after the state byte: the payload bytes are still there.
    let content = store.read(2).expect("reads");
    let view = decode_content(&content).expect("decodes");
    store
        .zero_range(2, view.payload_state_offset, 33)
        .expect("zeroes");
    match verify_store(&*store) {
        Err(VerifyError::Record {
            position,
            fault: RecordFault::ErasedNotZero,
            ..
        }) => {
            assert_eq!(position, Position(2));
        }
        other => panic!("expected an unfinished erasure at 2, got {other:?}"),
    }
    assert_eq!(
        ledger.erase_payload(Position(2)).expect("erases"),
        Erasure::AlreadyErased
    );
    assert_eq!(verify_store(&*store).expect("verifies").erased_payloads, 2);

    // The erasures are durable: a reopened ledger reads them and still verifies.
    drop(ledger);
    drop(store);
    let ledger = open(backing.store());
    assert_eq!(
        ledger.read(Position(2)).expect("reads").payload,
        Payload::Erased { len }
    );
    let report = verify_store(&**ledger.store()).expect("verifies");
    assert_eq!((report.erased_payloads, report.root), (2, root));
}

/// Zeroes the first 512-byte block, aligned in the (real or simulated) segment file, inside the
/// record's frame.
fn zero_a_sector(backing: &Backing, store: &dyn SegmentStore, position: u64) {
    let frame = store.location(position).expect("located").offset;
    let content_start = frame + 4;
    let block = content_start.div_ceil(512) * 512;
    let from = usize::try_from(block - content_start).expect("small");
    let len = store.read(position).expect("reads").len();
    assert!(
        from + 512 <= len,
        "the record is large enough to hold a whole sector"
    );
    backing.damage(
        store,
        position,
        Box::new(move |bytes: &mut Vec<u8>| bytes[from..from + 512].fill(0)),
    );
}

fn a_torn_tail_is_truncated_on_open(backend: Backend) {
    let backing = Backing::new(backend);
    {
        let ledger = open(backing.store());
        for n in 0..5 {
            ledger
                .append_blocking(request(vec![sized_record(n, 2000)]))
                .expect("appends");
        }
    }
    let torn_at = {
        let store = backing.store();
        zero_a_sector(&backing, &*store, 3);
        store.location(3).expect("located")
    };
    let ledger = open(backing.store());
    assert_eq!(
        ledger.head().size,
        3,
        "the torn record and everything after it are dropped"
    );
    assert_eq!(ledger.store().len(), 3);
    if backend == Backend::File {
        let file_len = std::fs::metadata(&torn_at.file).expect("stat").len();
        assert_eq!(
            file_len, torn_at.offset,
            "the file ends where the torn frame began"
        );
    }
    let outcome = ledger
        .append_blocking(request(vec![sized_record(3, 100)]))
        .expect("appends");
    assert_eq!(outcome.records[0].position, Position(3));
    assert_eq!(
        verify_store(&**ledger.store()).expect("verifies").records,
        4
    );
    drop(ledger);
    assert_eq!(
        open(backing.store()).head().size,
        4,
        "the repair was durable"
    );
}

fn a_tampered_tail_record_makes_open_refuse_with_its_location(backend: Backend) {
    let backing = Backing::new(backend);
    {
        let ledger = open(backing.store());
        for n in 0..5 {
            ledger
                .append_blocking(request(vec![sized_record(n, 600)]))
                .expect("appends");
        }
    }
    // A flipped bit in the payload: the hash checks fail and there is no zero sector.
    let (expected, original) = {
        let store = backing.store();
        let original = store.read(4).expect("reads");
        backing.damage(&*store, 4, flip_bit((original.len() - 10) * 8));
        (store.location(4).expect("located"), original)
    };
    match Ledger::open(config(backing.store())) {
        Err(OpenError::Damaged {
            position,
            file,
            offset,
            fault,
        }) => {
            assert_eq!(position, Position(4));
            assert_eq!(offset, expected.offset);
            assert_eq!(file, expected.file);
            assert!(file.to_string_lossy().ends_with(".seg"));
            assert_eq!(fault, RecordFault::PayloadMismatch);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(backing.store().len(), 5, "nothing was truncated");

    // A broken chain link in the tail (the record's own hash recomputed to match) also refuses.
    backing.heal();
    let view = decode_content(&original).expect("decodes");
    let mut record = view.to_owned_record();
    record.record.prev_hash = residence_ledger::hash::Hash([7; 32]);
    record.record_hash = residence_ledger::record::record_hash(
        &residence_ledger::record::encode_body(&record.record),
    );
    let relinked = record.encode();
    {
        let store = backing.store();
        backing.damage(
            &*store,
            4,
            Box::new(move |stored: &mut Vec<u8>| stored.clone_from(&relinked)),
        );
    }
    match Ledger::open(config(backing.store())) {
        Err(OpenError::Damaged {
            position,
            file,
            offset,
            fault: RecordFault::ChainBroken { .. },
        }) => {
            assert_eq!(position, Position(4));
            assert_eq!((file, offset), (expected.file, expected.offset));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(backing.store().len(), 5, "nothing was truncated");
}

fn zeros_before_the_tail_are_never_truncated(backend: Backend) {
    let backing = Backing::new(backend);
    let small_groups = || {
        let mut config = config(backing.store());
        config.limits = Limits {
            group_bytes_max: 4096,
            request_bytes_max: 4096,
            ..Limits::default()
        };
        config
    };
    {
        let ledger = Ledger::open(small_groups()).expect("opens");
        for n in 0..5 {
            ledger
                .append_blocking(request(vec![sized_record(n, 2000)]))
                .expect("appends");
        }
    }
    let damaged_at = {
        let store = backing.store();
        zero_a_sector(&backing, &*store, 1);
        store.location(1).expect("located")
    };
    let ledger = Ledger::open(small_groups()).expect("opens: record 1 is not in the tail");
    assert_eq!(ledger.head().size, 5, "acknowledged records are kept");
    match verify_store(&**ledger.store()) {
        Err(VerifyError::Record {
            position, location, ..
        }) => {
            assert_eq!(position, Position(1));
            assert_eq!(location, Some(damaged_at));
        }
        other => panic!("expected verify to find record 1, got {other:?}"),
    }
}

fn a_group_formed_behind_a_failed_one_fails_and_is_never_visible(backend: Backend) {
    let backing = Backing::new(backend);
    let faulty = Arc::new(Faulty::new(backing.store()).failing_append(2));
    let ledger = Arc::new(open(faulty.clone()));
    ledger
        .append_blocking(request(vec![record(1, &["person:a"])]))
        .expect("append 1");

    // The second append (a barrier) is held in the store and then fails; behind it the writer
    // forms a group that refers to it (a resend) and adds a new record to the indexes.
    faulty.hold();
    let barrier = {
        let ledger = Arc::clone(&ledger);
        std::thread::spawn(move || ledger.append_blocking(request(vec![record(2, &["person:b"])])))
    };
    while faulty.held_appends() == 0 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let tags_before = ledger.index_stats().tags;
    let behind = {
        let ledger = Arc::clone(&ledger);
        std::thread::spawn(move || {
            ledger.append_all_blocking(vec![
                request(vec![record(3, &["person:c"])]),
                request(vec![record(2, &["person:b"])]),
            ])
        })
    };
    while ledger.index_stats().tags == tags_before {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    // Formed but not durable: invisible to readers.
    assert!(
        ledger
            .read_by_tag(&crate::support::tags(&["person:c"])[0], None, 10)
            .expect("reads")
            .is_empty()
    );
    assert_eq!(
        ledger.lookup(&crate::support::id(2)).expect("looks up"),
        None
    );
    faulty.release();
    assert!(matches!(
        barrier.join().expect("joins"),
        Err(AppendError::Failed { .. })
    ));
    for answer in behind.join().expect("joins") {
        assert!(
            matches!(answer, Err(AppendError::Failed { .. })),
            "got {answer:?}"
        );
    }
    assert_eq!(ledger.head().size, 1);
    assert!(
        ledger
            .read_by_tag(&crate::support::tags(&["person:c"])[0], None, 10)
            .expect("reads")
            .is_empty()
    );
    assert_eq!(
        ledger.lookup(&crate::support::id(3)).expect("looks up"),
        None
    );
    assert!(matches!(
        ledger.read(Position(1)),
        Err(residence_ledger::ledger::ReadError::OutOfRange { .. })
    ));
    assert_eq!(verify_store(&*faulty).expect("verifies").records, 1);
}

// Failures of the file store's own writes and syncs.

/// The file store's fsync fails: the ledger stops without touching the disk again, and a reopened
/// ledger holds every acknowledged record. The group whose sync failed was never acknowledged;
/// its bytes may have reached the disk anyway, in which case a resend gets its original answer.
#[test]
fn a_failed_fsync_of_the_file_store_stops_the_ledger_and_loses_nothing_acknowledged() {
    let backing = Backing::new(Backend::File);
    let plan = Arc::new(FaultPlan::new());
    let ledger = open(backing.store_with_faults(Some(Arc::clone(&plan))).0);
    let mut acknowledged = Vec::new();
    for n in 0..3 {
        let outcome = ledger
            .append_blocking(request(vec![record(n, &["person:a"])]))
            .expect("appends");
        acknowledged.extend(outcome.records);
    }
    plan.fail_sync(plan.syncs() + 1);
    let failed = ledger.append_blocking(request(vec![record(3, &["person:a"])]));
    let Err(AppendError::Failed { cause }) = failed else {
        panic!("expected a failure, got {failed:?}");
    };
    assert_eq!(ledger.failure(), Some(cause.as_str()));
    let (writes, syncs) = (plan.writes(), plan.syncs());
    assert_eq!(
        ledger.append_blocking(request(vec![record(4, &[])])),
        Err(AppendError::Failed {
            cause: cause.clone()
        })
    );
    assert_eq!(
        (plan.writes(), plan.syncs()),
        (writes, syncs),
        "a failed ledger does not touch the disk"
    );
    assert_eq!(ledger.head().size, 3);
    drop(ledger);

    let ledger = open(backing.store());
    assert!(ledger.head().size >= 3, "size {}", ledger.head().size);
    for appended in &acknowledged {
        assert_eq!(
            ledger.read(appended.position).expect("reads").record_hash,
            appended.record_hash
        );
    }
    verify_store(&**ledger.store()).expect("verifies");
    let resent = ledger
        .append_blocking(request(vec![record(3, &["person:a"])]))
        .expect("appends");
    assert_eq!(resent.records[0].position, Position(3));
}

/// A write that reaches the disk only in part leaves a torn frame at the end of the segment:
/// the ledger stops, and reopening drops the partial frame and goes on from the acknowledged
/// records.
#[test]
fn a_short_write_of_the_file_store_leaves_a_torn_frame_that_reopening_drops() {
    let backing = Backing::new(Backend::File);
    let plan = Arc::new(FaultPlan::new());
    let ledger = open(backing.store_with_faults(Some(Arc::clone(&plan))).0);
    let mut acknowledged = Vec::new();
    for n in 0..3 {
        let outcome = ledger
            .append_blocking(request(vec![sized_record(n, 700)]))
            .expect("appends");
        acknowledged.extend(outcome.records);
    }
    plan.fail_write(plan.writes() + 1, 100);
    let failed = ledger.append_blocking(request(vec![sized_record(3, 700), sized_record(4, 700)]));
    assert!(
        matches!(failed, Err(AppendError::Failed { .. })),
        "got {failed:?}"
    );
    drop(ledger);

    let (store, report) = backing.store_with_faults(None);
    assert_eq!(report.torn_bytes_dropped, 100);
    assert_eq!(report.records, 3);
    let ledger = open(store);
    assert_eq!(ledger.head().size, 3);
    for appended in &acknowledged {
        assert_eq!(
            ledger.read(appended.position).expect("reads").record_hash,
            appended.record_hash
        );
    }
    let outcome = ledger
        .append_blocking(request(vec![sized_record(3, 700)]))
        .expect("appends");
    assert_eq!(outcome.records[0].position, Position(3));
    assert_eq!(
        verify_store(&**ledger.store()).expect("verifies").records,
        4
    );
}
