//! Following the live tail: records appended after catch-up are folded as they become durable,
//! and a reader can wait until its own write is folded (read-your-writes).

use std::sync::Arc;

use residence_domain::ids::{DwellingId, HouseholdId, PersonId};
use residence_domain::relationship::Relationship;
use residence_ledger::ledger::AppendRequest;
use residence_ledger::record::{Position, Timestamp};
use residence_projections::{Projections, SharedProjections};
use residence_sim::synthetic::{memory_ledger, new_record, recorded_on};

use super::support::*;

const AN: PersonId = PersonId::new(0x901);
const H: HouseholdId = HouseholdId::new(0x902);
const D: DwellingId = DwellingId::new(0xd9);

fn request(n: u8, recorded: &str, events: &[residence_domain::event::Event]) -> AppendRequest {
    AppendRequest {
        records: events
            .iter()
            .enumerate()
            .map(|(index, event)| {
                let mut id = [n; 16];
                id[15] = u8::try_from(index).unwrap();
                new_record(event, residence_domain::event_id::EventId::from_bytes(id))
            })
            .collect(),
        condition: None,
        recorded_at: Some(Timestamp(recorded_on(day(recorded), 0).0)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_is_visible_after_waiting_for_its_position() {
    let ledger = memory_ledger().unwrap();
    let home = address("legacy:00001", "Số 5 phố Phúc Xá");
    ledger
        .append(request(
            1,
            "2021-08-02",
            &[person_recorded(AN, "001080000001", "Nguyễn Văn An").into()],
        ))
        .await
        .unwrap();
    let shared = Arc::new(SharedProjections::new(Projections::new(
        ledger.genesis_hash(),
    )));
    shared.catch_up(&ledger, 1).unwrap();
    assert_eq!(shared.position(), 1);
    let subscription = ledger.subscribe(Position(shared.position()));
    let follower = tokio::spawn({
        let shared = Arc::clone(&shared);
        async move { shared.follow(subscription).await }
    });

    let outcome = ledger
        .append(request(
            2,
            "2021-08-03",
            &[
                established(H, "2021-08-01", &home, D, "HS-1").into(),
                permanent(AN, "2021-08-01", &home, D, H, Relationship::ChuHo).into(),
            ],
        ))
        .await
        .unwrap();
    let written = outcome.records[1].position.0;
    shared.wait_for(written).await.unwrap();
    {
        let projections = shared.read();
        assert!(projections.position() > written);
        let spans = projections.spans_on(AN, day("2022-01-01"));
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].address.as_ref().unwrap(), &home);
        assert!(projections.knows_household(H));
    }
    // Waiting for a position already folded returns at once.
    shared.wait_for(0).await.unwrap();

    // Closing the ledger ends the stream and the follower.
    tokio::task::spawn_blocking(move || drop(ledger))
        .await
        .unwrap();
    follower.await.unwrap().unwrap();
    assert_eq!(shared.position(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_are_released_when_the_follower_stops() {
    let ledger = memory_ledger().unwrap();
    ledger
        .append(request(
            1,
            "2021-08-02",
            &[person_recorded(AN, "001080000001", "Nguyễn Văn An").into()],
        ))
        .await
        .unwrap();
    // Projections of another ledger (another genesis) cannot follow this one.
    let shared = Arc::new(SharedProjections::new(Projections::new(
        residence_ledger::hash::Hash([9; 32]),
    )));
    let subscription = ledger.subscribe(Position(0));
    let waiter = tokio::spawn({
        let shared = Arc::clone(&shared);
        async move { shared.wait_for(0).await }
    });
    let result = shared.follow(subscription).await;
    assert!(result.is_err());
    assert!(waiter.await.unwrap().is_err());
    tokio::task::spawn_blocking(move || drop(ledger))
        .await
        .unwrap();
}
