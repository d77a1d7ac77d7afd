//! Failures and damage: fail-stop, bit flips found by `verify`, erasure, torn and tampered tails.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use residence_ledger::ledger::{AppendError, Erasure, Ledger, Limits, OpenError};
use residence_ledger::record::{Payload, Position, decode_content};
use residence_ledger::store::SegmentStore;
use residence_ledger::verify::{RecordFault, VerifyError};

use crate::support::{Faulty, config, flip_bit, make_store, open, record, request, verify_store};

/// A record with a payload of `len` bytes.
fn sized_record(n: u64, len: usize) -> residence_ledger::ledger::NewRecord {
    let mut record = record(n, &["person:big"]);
    record.payload = vec![b'a' + (n % 26) as u8; len];
    record
}

#[test]
fn a_failed_append_stops_the_ledger_and_loses_nothing_acknowledged() {
    let faulty = Arc::new(Faulty::new(make_store()).failing_append(3));
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
    // Reopened (by an operator), the ledger goes on from the acknowledged records.
    let reopened = open(Arc::clone(faulty.inner()));
    let outcome = reopened
        .append_blocking(request(vec![record(3, &["person:a"])]))
        .expect("ok");
    assert_eq!(outcome.records[0].position, Position(2));
}

fn assert_reported_at(store: &dyn SegmentStore, position: u64, what: &str) {
    match verify_store(store) {
        Err(VerifyError::Record {
            position: found,
            location,
            ..
        }) => {
            assert_eq!(found, Position(position), "{what}: wrong position reported");
            assert!(location.is_some(), "{what}: no location");
        }
        other => panic!("{what}: expected a bad record at {position}, got {other:?}"),
    }
}

#[test]
fn verify_names_the_record_of_every_flipped_bit() {
    let faulty = Arc::new(Faulty::new(make_store()));
    let ledger = open(faulty.clone());
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
    verify_store(&*faulty).expect("verifies before damage");

    // Every bit of one record (with tags, back-links, metadata, payload).
    let target = 4;
    let len = faulty.inner().read(target).expect("reads").len();
    for bit in 0..len * 8 {
        faulty.damage(target, flip_bit(bit));
        assert_reported_at(&*faulty, target, &format!("bit {bit} of record {target}"));
    }
    faulty.heal();

    // Sampled bits of every other record.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    for _ in 0..300 {
        let position = rng.random_range(0..12u64);
        let len = faulty.inner().read(position).expect("reads").len();
        let bit = rng.random_range(0..len * 8);
        faulty.heal();
        faulty.damage(position, flip_bit(bit));
        assert_reported_at(
            &*faulty,
            position,
            &format!("bit {bit} of record {position}"),
        );
    }
    faulty.heal();
    verify_store(&*faulty).expect("verifies after healing");
}

#[test]
fn an_erased_payload_still_verifies_and_an_unfinished_erasure_is_reported() {
    let store = make_store();
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
}

/// Zeroes the first 512-byte block, aligned in the (simulated) file, inside the record's frame.
fn zero_a_sector(faulty: &Faulty, position: u64) {
    let frame = faulty.location(position).expect("located").offset;
    let content_start = frame + 4;
    let block = content_start.div_ceil(512) * 512;
    let from = usize::try_from(block - content_start).expect("small");
    let len = faulty.inner().read(position).expect("reads").len();
    assert!(
        from + 512 <= len,
        "the record is large enough to hold a whole sector"
    );
    faulty.damage(
        position,
        Box::new(move |bytes: &mut Vec<u8>| bytes[from..from + 512].fill(0)),
    );
}

#[test]
fn a_torn_tail_is_truncated_on_open() {
    let faulty = Arc::new(Faulty::new(make_store()).with_simulated_offsets());
    {
        let ledger = open(faulty.clone());
        for n in 0..5 {
            ledger
                .append_blocking(request(vec![sized_record(n, 2000)]))
                .expect("appends");
        }
    }
    zero_a_sector(&faulty, 3);
    let ledger = open(faulty.clone());
    assert_eq!(
        ledger.head().size,
        3,
        "the torn record and everything after it are dropped"
    );
    assert_eq!(faulty.inner().len(), 3);
    let outcome = ledger
        .append_blocking(request(vec![sized_record(3, 100)]))
        .expect("appends");
    assert_eq!(outcome.records[0].position, Position(3));
    assert_eq!(verify_store(&*faulty).expect("verifies").records, 4);
}

#[test]
fn a_tampered_tail_record_makes_open_refuse_with_its_location() {
    let faulty = Arc::new(Faulty::new(make_store()).with_simulated_offsets());
    {
        let ledger = open(faulty.clone());
        for n in 0..5 {
            ledger
                .append_blocking(request(vec![sized_record(n, 600)]))
                .expect("appends");
        }
    }
    // A flipped bit in the payload: the hash checks fail and there is no zero sector.
    let len = faulty.inner().read(4).expect("reads").len();
    faulty.damage(4, flip_bit((len - 10) * 8));
    let expected_offset = faulty.location(4).expect("located").offset;
    match Ledger::open(crate::support::config(faulty.clone())) {
        Err(OpenError::Damaged {
            position,
            file,
            offset,
            fault,
        }) => {
            assert_eq!(position, Position(4));
            assert_eq!(offset, expected_offset);
            assert!(file.to_string_lossy().ends_with(".seg"));
            assert_eq!(fault, RecordFault::PayloadMismatch);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(faulty.inner().len(), 5, "nothing was truncated");

    // A broken chain link in the tail (the record's own hash recomputed to match) also refuses.
    faulty.heal();
    let mut bytes = faulty.inner().read(4).expect("reads");
    let view = decode_content(&bytes).expect("decodes");
    let mut record = view.to_owned_record();
    record.record.prev_hash = residence_ledger::hash::Hash([7; 32]);
    record.record_hash = residence_ledger::record::record_hash(
        &residence_ledger::record::encode_body(&record.record),
    );
    bytes = record.encode();
    faulty.damage(
        4,
        Box::new(move |stored: &mut Vec<u8>| stored.clone_from(&bytes)),
    );
    match Ledger::open(crate::support::config(faulty.clone())) {
        Err(OpenError::Damaged {
            position,
            fault: RecordFault::ChainBroken { .. },
            ..
        }) => {
            assert_eq!(position, Position(4));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn zeros_before_the_tail_are_never_truncated() {
    let faulty = Arc::new(Faulty::new(make_store()).with_simulated_offsets());
    let small_groups = || {
        let mut config = config(faulty.clone());
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
    zero_a_sector(&faulty, 1);
    let ledger = Ledger::open(small_groups()).expect("opens: record 1 is not in the tail");
    assert_eq!(ledger.head().size, 5, "acknowledged records are kept");
    match verify_store(&*faulty) {
        Err(VerifyError::Record { position, .. }) => assert_eq!(position, Position(1)),
        other => panic!("expected verify to find record 1, got {other:?}"),
    }
}

#[test]
fn a_group_formed_behind_a_failed_one_fails_and_is_never_visible() {
    let faulty = Arc::new(Faulty::new(make_store()).failing_append(2));
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
