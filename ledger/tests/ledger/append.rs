//! Appends and reads: round trip, chain and back-links, conditions, idempotency, blinding, clock,
//! and reopening. Every test runs on both backends (see `support::backend_tests!`).

use std::sync::Arc;

use residence_ledger::clock::{ClockError, ClockMode, ManualClock};
use residence_ledger::hash::Hash;
use residence_ledger::ledger::{
    AppendError, AppendRequest, AppendStatus, InvalidRequest, Ledger, LedgerConfig,
};
use residence_ledger::record::{
    Payload, Position, Salt, Tag, Timestamp, encode_body, genesis_hash, payload_commitment,
    record_hash,
};

use crate::support::{
    Backend, Backing, Faulty, backend_tests, conditional, config, id, memory_store, open, origin,
    record, request, secret, tags, verify_store,
};

backend_tests!(
    appended_records_read_back_with_every_field,
    back_links_name_the_previous_record_with_each_tag,
    reopening_rebuilds_indexes_and_continues_the_chain,
    records_across_segment_files_read_back_after_reopening,
    conditions_name_the_first_conflicting_position,
    a_condition_sees_records_earlier_in_the_same_group,
    a_resent_request_gets_its_original_answer_and_reused_ids_conflict,
    pin_tags_are_blinded_but_read_and_conditioned_by_their_given_form,
    supplied_time_never_decreases_and_must_be_present,
    wall_clock_time_holds_still_when_the_clock_steps_back,
    malformed_requests_are_refused_before_anything_is_written,
    async_appends_from_many_tasks_all_land_once,
    format_test_vectors_are_reproduced,
);

fn appended_records_read_back_with_every_field(backend: Backend) {
    let backing = Backing::new(backend);
    let store = backing.store();
    let ledger = open(Arc::clone(&store));
    let outcome = ledger
        .append_blocking(request(vec![
            record(1, &["person:p1", "household:h1"]),
            record(2, &["person:p2"]),
        ]))
        .expect("appends");
    assert_eq!(outcome.status, AppendStatus::New);
    assert_eq!(outcome.records.len(), 2);
    assert_eq!(outcome.records[0].position, Position(0));
    assert_eq!(outcome.records[1].position, Position(1));

    let first = ledger.read(Position(0)).expect("reads");
    let given = record(1, &[]);
    assert_eq!(first.record.position, Position(0));
    assert_eq!(first.record.event_id, id(1));
    assert_eq!(first.record.event_type, given.event_type);
    assert_eq!(first.record.schema_version, given.schema_version);
    assert_eq!(first.record.metadata, given.metadata);
    assert_eq!(first.record.recorded_at, Timestamp(1_000_000));
    let stored_tags: Vec<&str> = first.record.tags.iter().map(|l| l.tag.as_str()).collect();
    assert_eq!(
        stored_tags,
        ["household:h1", "person:p1"],
        "tags are sorted"
    );
    assert!(first.record.tags.iter().all(|link| link.prev.is_none()));
    assert_eq!(first.record.prev_hash, genesis_hash(&origin()));
    assert_eq!(first.record_hash, record_hash(&encode_body(&first.record)));
    assert_eq!(first.record_hash, outcome.records[0].record_hash);
    let salt = Salt(secret(1).payload_salt(&id(1).0));
    assert_eq!(
        first.payload,
        Payload::Present {
            salt,
            bytes: given.payload.clone()
        }
    );
    assert_eq!(
        first.record.payload_commitment,
        payload_commitment(&salt, &given.payload)
    );

    let second = ledger.read(Position(1)).expect("reads");
    assert_eq!(second.record.prev_hash, first.record_hash);
    let head = ledger.head();
    assert_eq!((head.size, head.hash), (2, second.record_hash));

    let range = ledger.read_range(Position(0), Position(10)).expect("reads");
    assert_eq!(range, vec![first, second]);
    assert!(matches!(
        ledger.read(Position(2)),
        Err(residence_ledger::ledger::ReadError::OutOfRange { .. })
    ));
    assert_eq!(verify_store(&*store).expect("verifies").records, 2);
}

fn back_links_name_the_previous_record_with_each_tag(backend: Backend) {
    let backing = Backing::new(backend);
    let store = backing.store();
    let ledger = open(Arc::clone(&store));
    let plan: &[&[&str]] = &[
        &["person:a"],
        &["person:b"],
        &["person:a", "household:x"],
        &["household:x", "person:b"],
        &["person:a"],
    ];
    for (n, tag_texts) in plan.iter().enumerate() {
        ledger
            .append_blocking(request(vec![record(n as u64, tag_texts)]))
            .expect("appends");
    }
    let links = |position: u64| -> Vec<(String, Option<u64>)> {
        ledger
            .read(Position(position))
            .expect("reads")
            .record
            .tags
            .iter()
            .map(|link| (link.tag.as_str().to_owned(), link.prev.map(Position::get)))
            .collect()
    };
    assert_eq!(
        links(2),
        [
            ("household:x".to_owned(), None),
            ("person:a".to_owned(), Some(0))
        ]
    );
    assert_eq!(
        links(3),
        [
            ("household:x".to_owned(), Some(2)),
            ("person:b".to_owned(), Some(1))
        ]
    );
    assert_eq!(links(4), [("person:a".to_owned(), Some(2))]);

    let by_tag = ledger
        .read_by_tag(&tags(&["person:a"])[0], None, 10)
        .expect("reads");
    let positions: Vec<u64> = by_tag.iter().map(|r| r.record.position.0).collect();
    assert_eq!(positions, [0, 2, 4]);
    let after = ledger
        .read_by_tag(&tags(&["person:a"])[0], Some(Position(0)), 1)
        .expect("reads");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].record.position, Position(2));
    verify_store(&*store).expect("verifies");
}

fn reopening_rebuilds_indexes_and_continues_the_chain(backend: Backend) {
    let backing = Backing::new(backend);
    let head = {
        let ledger = open(backing.store());
        ledger
            .append_blocking(request(vec![record(1, &["person:a"])]))
            .expect("appends");
        ledger
            .append_blocking(request(vec![record(2, &["person:a"])]))
            .expect("appends");
        ledger.head()
    };
    // The file store is opened again from its directory: nothing is carried over in memory.
    let ledger = open(backing.store());
    assert_eq!(ledger.head(), head);
    let found = ledger.lookup(&id(2)).expect("looks up").expect("found");
    assert_eq!(found.position, Position(1));
    assert_eq!(
        ledger.append_blocking(conditional(vec![record(3, &[])], &["person:a"], Some(0))),
        Err(AppendError::Conflict {
            position: Position(1)
        })
    );
    ledger
        .append_blocking(request(vec![record(3, &["person:a"])]))
        .expect("appends");
    let third = ledger.read(Position(2)).expect("reads");
    assert_eq!(third.record.tags[0].prev, Some(Position(1)));
    assert_eq!(third.record.prev_hash, head.hash);
    verify_store(&**ledger.store()).expect("verifies");
}

/// Enough data for several segment files of the file backend, read back whole after reopening.
fn records_across_segment_files_read_back_after_reopening(backend: Backend) {
    let backing = Backing::new(backend);
    let big = |n: u64| {
        let mut new = record(n, &["person:big", "household:h"]);
        new.payload = vec![b'a' + (n % 26) as u8; 3000 + (n as usize % 7) * 1000];
        new
    };
    let (head, root) = {
        let ledger = open(backing.store());
        for n in 0..30u64 {
            let records = if n % 5 == 0 {
                vec![big(1000 + n), big(n)]
            } else {
                vec![big(n)]
            };
            ledger.append_blocking(request(records)).expect("appends");
        }
        (ledger.head(), ledger.tree_head().1)
    };
    assert_eq!(head.size, 36);
    if backend == Backend::File {
        let segments = std::fs::read_dir(backing.store_dir().join("segments"))
            .expect("lists segments")
            .count();
        assert!(segments >= 3, "{segments} segment files");
    }
    let ledger = open(backing.store());
    assert_eq!(ledger.head(), head);
    assert_eq!(ledger.tree_head().1, root);
    let records = ledger
        .read_range(Position(0), Position(100))
        .expect("reads");
    assert_eq!(records.len(), 36);
    for (position, stored) in (0u64..).zip(&records) {
        assert_eq!(stored.record.position, Position(position));
        let event = stored.record.event_id;
        let n = u64::from_be_bytes(event.0[8..].try_into().expect("8 bytes"));
        assert_eq!(
            stored.payload,
            Payload::Present {
                salt: Salt(secret(1).payload_salt(&id(n).0)),
                bytes: big(n).payload
            },
            "record {position}"
        );
    }
    let by_tag = ledger
        .read_by_tag(&tags(&["household:h"])[0], Some(Position(30)), 10)
        .expect("reads");
    let positions: Vec<u64> = by_tag.iter().map(|r| r.record.position.0).collect();
    assert_eq!(positions, [31, 32, 33, 34, 35]);
    let report = verify_store(&**ledger.store()).expect("verifies");
    assert_eq!(
        (report.records, report.head, report.root),
        (36, head.hash, root)
    );
}

fn conditions_name_the_first_conflicting_position(backend: Backend) {
    let backing = Backing::new(backend);
    let ledger = open(backing.store());
    for n in 0..6 {
        let tag = if n % 2 == 1 { "person:x" } else { "person:y" };
        ledger
            .append_blocking(request(vec![record(n, &[tag])]))
            .expect("appends");
    }
    // person:x is at 1, 3, 5; person:y at 0, 2, 4.
    let check = |condition_tags: &[&str], after: Option<u64>| {
        ledger.append_blocking(conditional(
            vec![record(100, &["person:z"])],
            condition_tags,
            after,
        ))
    };
    assert_eq!(
        check(&["person:x"], None),
        Err(AppendError::Conflict {
            position: Position(1)
        })
    );
    assert_eq!(
        check(&["person:x"], Some(2)),
        Err(AppendError::Conflict {
            position: Position(3)
        })
    );
    assert_eq!(
        check(&["person:x", "person:y"], Some(2)),
        Err(AppendError::Conflict {
            position: Position(3)
        })
    );
    assert_eq!(
        check(&["person:y"], Some(1)),
        Err(AppendError::Conflict {
            position: Position(2)
        })
    );
    assert_eq!(
        check(&["person:nobody"], None).map(|o| o.status),
        Ok(AppendStatus::New)
    );
    assert_eq!(
        check(&["person:x"], Some(5)).map(|o| o.status),
        Ok(AppendStatus::Duplicate),
        "event 100 was appended just before with the same content"
    );
    let outcome = ledger
        .append_blocking(conditional(
            vec![record(101, &["person:x"])],
            &["person:x"],
            Some(5),
        ))
        .expect("no record with person:x after 5");
    assert_eq!(outcome.records[0].position, Position(7));
}

fn a_condition_sees_records_earlier_in_the_same_group(backend: Backend) {
    let backing = Backing::new(backend);
    let faulty = Arc::new(Faulty::new(backing.store()));
    let ledger = Arc::new(open(faulty.clone()));
    ledger
        .append_blocking(request(vec![record(1, &["person:x"])]))
        .expect("appends");

    // Hold the store: a barrier blocks the committer in the store, so nothing decided after it
    // becomes durable until the test releases it. Three requests are decided behind it.
    faulty.hold();
    let barrier = {
        let ledger = Arc::clone(&ledger);
        std::thread::spawn(move || ledger.append_blocking(request(vec![record(2, &["barrier:1"])])))
    };
    while faulty.held_appends() == 0 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let tags_before = ledger.index_stats().tags;
    let group = {
        let ledger = Arc::clone(&ledger);
        std::thread::spawn(move || {
            ledger.append_all_blocking(vec![
                request(vec![record(3, &["person:x"])]),
                conditional(vec![record(4, &["person:y"])], &["person:x"], Some(0)),
                request(vec![record(5, &["person:z"])]),
            ])
        })
    };
    while ledger.index_stats().tags == tags_before {
        // Wait until the last request was decided: its tag `person:z` is then interned.
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(
        ledger
            .read_by_tag(&tags(&["person:z"])[0], None, 10)
            .expect("reads")
            .is_empty(),
        "decided records stay invisible until they are durable"
    );
    assert_eq!(
        ledger.head().size,
        1,
        "nothing after the barrier is durable yet"
    );
    faulty.release();
    barrier.join().expect("joins").expect("barrier appends");
    let answers = group.join().expect("joins");
    let first = answers[0].as_ref().expect("appends");
    assert_eq!(first.records[0].position, Position(2));
    assert_eq!(
        answers[1],
        Err(AppendError::Conflict {
            position: Position(2)
        }),
        "the condition saw a record decided before it, not yet durable"
    );
    assert_eq!(
        answers[2].as_ref().expect("appends").records[0].position,
        Position(3)
    );
    // The first record, the barrier alone, then records 3 and 5 in one store append.
    assert_eq!(*faulty.group_sizes.lock().expect("lock"), [1, 1, 2]);
}

fn a_resent_request_gets_its_original_answer_and_reused_ids_conflict(backend: Backend) {
    let backing = Backing::new(backend);
    let store = backing.store();
    let ledger = open(Arc::clone(&store));
    let original = ledger
        .append_blocking(request(vec![
            record(1, &["person:a"]),
            record(2, &["person:b"]),
        ]))
        .expect("appends");
    ledger
        .append_blocking(request(vec![record(3, &["person:a"])]))
        .expect("appends");

    let again = ledger
        .append_blocking(request(vec![
            record(1, &["person:a"]),
            record(2, &["person:b"]),
        ]))
        .expect("duplicate is answered");
    assert_eq!(again.status, AppendStatus::Duplicate);
    assert_eq!(again.records, original.records);
    assert_eq!(ledger.head().size, 3, "nothing new was written");

    // A duplicate is answered before its condition is looked at.
    let guarded = conditional(vec![record(1, &["person:a"])], &["person:a"], None);
    assert_eq!(
        ledger.append_blocking(guarded).map(|o| o.status),
        Ok(AppendStatus::Duplicate)
    );

    let mut changed = record(1, &["person:a"]);
    changed.payload = b"{}".to_vec();
    assert_eq!(
        ledger.append_blocking(request(vec![changed])),
        Err(AppendError::EventIdReused {
            event_id: id(1),
            position: Position(0)
        })
    );
    let mut retagged = record(2, &["person:c"]);
    retagged.tags = tags(&["person:c"]);
    assert_eq!(
        ledger.append_blocking(request(vec![retagged])),
        Err(AppendError::EventIdReused {
            event_id: id(2),
            position: Position(1)
        })
    );
    assert_eq!(
        ledger.append_blocking(request(vec![record(9, &[]), record(3, &["person:a"])])),
        Err(AppendError::EventIdReused {
            event_id: id(3),
            position: Position(2)
        }),
        "a request mixing new ids with existing ones is a reuse"
    );
    assert_eq!(
        ledger.append_blocking(request(vec![record(7, &[]), record(7, &[])])),
        Err(AppendError::Invalid(InvalidRequest::DuplicateEventId {
            event_id: id(7)
        }))
    );
    let found = ledger.lookup(&id(2)).expect("looks up").expect("found");
    assert_eq!(found, original.records[1]);
    assert_eq!(ledger.lookup(&id(99)).expect("looks up"), None);

    // Within one batch, a resend right after the original gets the original's answer.
    let answers = ledger.append_all_blocking(vec![
        request(vec![record(20, &["person:d"])]),
        request(vec![record(20, &["person:d"])]),
    ]);
    let first = answers[0].as_ref().expect("appends");
    let second = answers[1].as_ref().expect("duplicate");
    assert_eq!(second.status, AppendStatus::Duplicate);
    assert_eq!(second.records, first.records);
    assert_eq!(ledger.head().size, 4);
    verify_store(&*store).expect("verifies");
}

fn pin_tags_are_blinded_but_read_and_conditioned_by_their_given_form(backend: Backend) {
    let backing = Backing::new(backend);
    let store = backing.store();
    let ledger = open(Arc::clone(&store));
    let pin = "pin:001234567890";
    ledger
        .append_blocking(request(vec![record(1, &[pin, "person:p1"])]))
        .expect("appends");
    let stored = ledger.read(Position(0)).expect("reads");
    assert_eq!(
        stored.record.tags[0].tag.as_str(),
        "person:p1",
        "other kinds are kept"
    );
    let pin_tag = &stored.record.tags[1].tag;
    assert_eq!(pin_tag.kind(), "pin");
    assert_eq!(pin_tag.as_str().len(), 4 + 32);
    assert!(
        !pin_tag.as_str().contains("1234567890"),
        "the PIN is not readable"
    );
    assert_eq!(pin_tag, &ledger.stored_tag(&Tag::new(pin).expect("valid")));

    let by_pin = ledger
        .read_by_tag(&Tag::new(pin).expect("valid"), None, 10)
        .expect("reads");
    assert_eq!(by_pin.len(), 1);
    assert_eq!(
        ledger.append_blocking(conditional(vec![record(2, &[])], &[pin], None)),
        Err(AppendError::Conflict {
            position: Position(0)
        })
    );

    let mut other_config: LedgerConfig = config(memory_store());
    other_config.secret = crate::support::secret(2);
    let other = Ledger::open(other_config).expect("opens");
    let other_form = other.stored_tag(&Tag::new(pin).expect("valid"));
    assert_ne!(&other_form, pin_tag, "another secret blinds differently");
    assert_eq!(other_form.kind(), "pin");
    verify_store(&*store).expect("verifies");
}

fn supplied_time_never_decreases_and_must_be_present(backend: Backend) {
    let backing = Backing::new(backend);
    let ledger = open(backing.store());
    let at = |n: u64, micros: i64| AppendRequest {
        records: vec![record(n, &[])],
        condition: None,
        recorded_at: Some(Timestamp(micros)),
    };
    ledger.append_blocking(at(1, 500)).expect("appends");
    ledger.append_blocking(at(2, 300)).expect("appends");
    ledger.append_blocking(at(3, 900)).expect("appends");
    let times: Vec<i64> = ledger
        .read_range(Position(0), Position(3))
        .expect("reads")
        .iter()
        .map(|r| r.record.recorded_at.0)
        .collect();
    assert_eq!(times, [500, 500, 900]);
    let missing = AppendRequest {
        records: vec![record(4, &[])],
        condition: None,
        recorded_at: None,
    };
    assert_eq!(
        ledger.append_blocking(missing),
        Err(AppendError::Invalid(InvalidRequest::Clock(
            ClockError::TimeMissing
        )))
    );
}

fn wall_clock_time_holds_still_when_the_clock_steps_back(backend: Backend) {
    let clock = ManualClock::new(Timestamp(10_000));
    let backing = Backing::new(backend);
    let mut wall_config = config(backing.store());
    wall_config.clock = ClockMode::Wall(Arc::new(clock.clone()));
    let ledger = Ledger::open(wall_config).expect("opens");
    let plain = |n: u64| AppendRequest {
        records: vec![record(n, &[])],
        condition: None,
        recorded_at: None,
    };
    ledger.append_blocking(plain(1)).expect("appends");
    clock.set(Timestamp(5_000));
    ledger.append_blocking(plain(2)).expect("appends");
    clock.set(Timestamp(12_000));
    ledger.append_blocking(plain(3)).expect("appends");
    let times: Vec<i64> = ledger
        .read_range(Position(0), Position(3))
        .expect("reads")
        .iter()
        .map(|r| r.record.recorded_at.0)
        .collect();
    assert_eq!(times, [10_000, 10_000, 12_000]);
    assert_eq!(
        ledger.append_blocking(request(vec![record(4, &[])])),
        Err(AppendError::Invalid(InvalidRequest::Clock(
            ClockError::TimeNotAllowed
        )))
    );
}

fn malformed_requests_are_refused_before_anything_is_written(backend: Backend) {
    let backing = Backing::new(backend);
    let ledger = open(backing.store());
    assert_eq!(
        ledger.append_blocking(request(vec![])),
        Err(AppendError::Invalid(InvalidRequest::NoRecords))
    );
    let mut big = record(1, &[]);
    big.payload = vec![b'x'; 1_048_577];
    assert_eq!(
        ledger.append_blocking(request(vec![big])),
        Err(AppendError::Invalid(InvalidRequest::PayloadTooLong {
            record: 0,
            len: 1_048_577
        }))
    );
    let mut meta = record(1, &[]);
    meta.metadata = vec![b'x'; 65_536];
    assert_eq!(
        ledger.append_blocking(request(vec![meta])),
        Err(AppendError::Invalid(InvalidRequest::MetadataTooLong {
            record: 0,
            len: 65_536
        }))
    );
    assert_eq!(ledger.head().size, 0);
    assert_eq!(ledger.head().hash, genesis_hash(&origin()));
    assert_ne!(ledger.head().hash, Hash::ZERO);
    drop(ledger);

    // A request is atomic and never split across groups, so it is bounded by the group's
    // record limit as well as its own (the sequencer asserts every group is within it).
    let mut config = config(backing.store());
    config.limits.records_per_request_max = 8;
    config.limits.group_records_max = 4;
    let ledger = Ledger::open(config).expect("ledger opens");
    let five = (1..=5).map(|n| record(n, &[])).collect();
    assert_eq!(
        ledger.append_blocking(request(five)),
        Err(AppendError::Invalid(InvalidRequest::TooManyRecords {
            count: 5,
            max: 4
        }))
    );
    let four = (1..=4).map(|n| record(n, &[])).collect();
    assert!(ledger.append_blocking(request(four)).is_ok());
    assert_eq!(ledger.head().size, 4);
}

fn async_appends_from_many_tasks_all_land_once(backend: Backend) {
    let backing = Backing::new(backend);
    let store = backing.store();
    let ledger = Arc::new(open(Arc::clone(&store)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let positions = runtime.block_on(async {
        let mut tasks = Vec::new();
        for n in 0..64u64 {
            let ledger = Arc::clone(&ledger);
            tasks.push(tokio::spawn(async move {
                let tag = format!("person:{}", n % 8);
                let outcome = ledger
                    .append(request(vec![record(n, &[tag.as_str()])]))
                    .await
                    .expect("appends");
                outcome.records[0].position.0
            }));
        }
        let mut positions = Vec::new();
        for task in tasks {
            positions.push(task.await.expect("task"));
        }
        positions
    });
    let mut sorted = positions.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..64).collect::<Vec<u64>>());
    assert_eq!(verify_store(&*store).expect("verifies").records, 64);
}

/// The record test vectors for `FORMAT.md` (computed independently from the text of §2–§5 with
/// a separate implementation): two records of a ledger with origin `residence-ledger/example`
/// and the secret of 32 bytes 0x09.
fn format_test_vectors_are_reproduced(backend: Backend) {
    let vector_origin =
        residence_ledger::checkpoint::Origin::new("residence-ledger/example").expect("valid");
    let backing = Backing::with_origin(backend, &vector_origin);
    let mut vector_config = config(backing.store());
    vector_config.origin = vector_origin;
    vector_config.secret = residence_ledger::keys::LedgerSecret::from_bytes([9; 32]);
    let ledger = Ledger::open(vector_config).expect("opens");
    assert_eq!(
        ledger.genesis_hash().to_hex(),
        "72612c5cd3b1a07267119e8817e8701a6ab5826cf131a5bd2742fd2e97ea71bc"
    );
    let new =
        |id: [u8; 16], event_type: &str, tag_texts: &[&str], metadata: &[u8], payload: &[u8]| {
            residence_ledger::ledger::NewRecord {
                event_id: residence_ledger::record::EventId(id),
                event_type: residence_ledger::record::EventType::new(event_type).expect("valid"),
                schema_version: residence_ledger::record::SchemaVersion::new(1).expect("valid"),
                tags: tags(tag_texts),
                metadata: metadata.to_vec(),
                payload: payload.to_vec(),
            }
        };
    let first_id: [u8; 16] = std::array::from_fn(|i| i as u8);
    let second_id: [u8; 16] = std::array::from_fn(|i| 16 + i as u8);
    let at = |micros: i64, record| AppendRequest {
        records: vec![record],
        condition: None,
        recorded_at: Some(Timestamp(micros)),
    };
    let first = new(
        first_id,
        "PermanentResidenceRegistered",
        &[
            "person:p-000001",
            "pin:001234567890",
            "household:h-000001",
            "unit:2025:00001",
        ],
        br#"{"actor":"officer-1"}"#,
        br#"{"pin":"001234567890"}"#,
    );
    let second = new(
        second_id,
        "HeadOfHouseholdChanged",
        &["household:h-000001", "person:p-000001"],
        b"",
        b"{}",
    );
    ledger
        .append_blocking(at(1_751_358_600_123_456, first))
        .expect("appends");
    ledger
        .append_blocking(at(1_751_358_600_124_456, second))
        .expect("appends");

    let record = ledger.read(Position(0)).expect("reads");
    let stored: Vec<&str> = record.record.tags.iter().map(|l| l.tag.as_str()).collect();
    assert_eq!(
        stored,
        [
            "household:h-000001",
            "person:p-000001",
            "pin:356e047210342d2ea1a47c581a23e956",
            "unit:2025:00001"
        ]
    );
    let Payload::Present { salt, .. } = &record.payload else {
        panic!("payload present")
    };
    assert_eq!(
        hex::encode(salt.0),
        "087a5318c887043b303db21ecafbef5f88a93f076963f665e297dfcc15aa6ea4"
    );
    assert_eq!(
        record.record.payload_commitment.to_hex(),
        "94d62dabfdeb9df1dc3a5e4dc0194518e88269cc7706017c67e1dd3b19775f97"
    );
    assert_eq!(
        hex::encode(encode_body(&record.record)),
        "000000000000000040143cf3d9380600000102030405060708090a0b0c0d0e0f1c5065726d616e656e74\
         5265736964656e6365526567697374657265640100040012686f757365686f6c643a682d303030303031\
         ffffffffffffffff0f706572736f6e3a702d303030303031ffffffffffffffff2470696e3a3335366530\
         343732313033343264326561316134376335383161323365393536ffffffffffffffff0f756e69743a32\
         3032353a3030303031ffffffffffffffff150000007b226163746f72223a226f6666696365722d31227d\
         94d62dabfdeb9df1dc3a5e4dc0194518e88269cc7706017c67e1dd3b19775f9772612c5cd3b1a0726711\
         9e8817e8701a6ab5826cf131a5bd2742fd2e97ea71bc"
    );
    assert_eq!(
        record.record_hash.to_hex(),
        "1567efa85208a55fae48e60f3d5ca5a937c2a9e505014d9657957d3817a1ae3b"
    );
    let record = ledger.read(Position(1)).expect("reads");
    assert_eq!(
        hex::encode(encode_body(&record.record)),
        "010000000000000028183cf3d9380600101112131415161718191a1b1c1d1e1f16486561644f6648\
         6f757365686f6c644368616e6765640100020012686f757365686f6c643a682d30303030303100000000\
         000000000f706572736f6e3a702d30303030303100000000000000000000000036796e58a3bbbaa3c148\
         475644e7d43c57af5b7c7f757ec463e4acf712eeffcb1567efa85208a55fae48e60f3d5ca5a937c2a9e5\
         05014d9657957d3817a1ae3b"
    );
    assert_eq!(
        record.record_hash.to_hex(),
        "16187ce1ee8d9c1774ff1c174bb6f505414a28ecae4cc0dcbd7d328a6ee9a662"
    );
}
