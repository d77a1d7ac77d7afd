//! Both time axes: a registration recorded late with a past `effective_on`, then a correction
//! recorded later, answer differently "as known then" and "as known now", and both answers are
//! right.

use residence_domain::event::{EventCorrected, Reason};
use residence_domain::ids::{DwellingId, HouseholdId, PersonId};
use residence_domain::relationship::Relationship;
use residence_domain::tag::Tag;
use residence_domain::timeline::AsKnown;

use super::support::*;

const P: PersonId = PersonId::new(0x101);
const H: HouseholdId = HouseholdId::new(0x201);
const D1: DwellingId = DwellingId::new(0xd1);
const D4: DwellingId = DwellingId::new(0xd4);

#[test]
fn a_late_registration_and_its_correction_on_both_axes() {
    let mut world = World::new();
    let phuc_xa = address("legacy:00001", "Số 5 phố Phúc Xá");
    let truc_bach = address("legacy:00004", "Số 9 phố Trúc Bạch");
    world.one(
        "2021-08-02",
        person_recorded(P, "001080000001", "Nguyễn Văn An"),
    );
    let (before_late, _) = world.one(
        "2021-09-01",
        established(H, "2019-05-01", &phuc_xa, D1, "HS-0001"),
    );
    // Recorded on 2022-03-10, effective since 2019-05-01 (a paper-book import).
    let (late, late_id) = world.one(
        "2022-03-10",
        permanent(P, "2019-05-01", &phuc_xa, D1, H, Relationship::ChuHo),
    );
    // Recorded on 2022-06-01: the registration was in fact at Trúc Bạch since 2018-01-15.
    let replacement = permanent(P, "2018-01-15", &truc_bach, D4, H, Relationship::ChuHo);
    let correction = EventCorrected::new(
        late_id,
        vec![Tag::Person(P)],
        Reason::parse("Nhập sai địa chỉ từ sổ hộ khẩu giấy").unwrap(),
        basis(),
        replacement.into(),
    )
    .unwrap();
    let (corrected, _) = world.one("2022-06-01", correction);
    let projections = world.projections();
    let timeline = projections.person_timeline(&world.ledger, P).unwrap();

    // As known before the late registration was recorded: nothing on 2020-01-01.
    let then = AsKnown::AtPosition(before_late);
    let on = timeline.residence_on(day("2020-01-01"), then).residence;
    assert_eq!(on.permanent, None);
    let then = AsKnown::AtTime(World::micros("2022-01-01"));
    assert_eq!(
        timeline
            .residence_on(day("2020-01-01"), then)
            .residence
            .permanent,
        None
    );

    // As known after it, before the correction: Phúc Xá since 2019-05-01, not before.
    let mid = AsKnown::AtTime(World::micros("2022-04-01"));
    let on = timeline.residence_on(day("2020-01-01"), mid).residence;
    let permanent = on.permanent.unwrap();
    assert_eq!(permanent.start, day("2019-05-01"));
    assert_eq!(permanent.address.unwrap(), phuc_xa);
    assert_eq!(permanent.opened_by.recorded.known.position, late);
    assert_eq!(
        timeline
            .residence_on(day("2018-06-01"), mid)
            .residence
            .permanent,
        None
    );

    // As known now: Trúc Bạch since 2018-01-15 (the correction stands in the late event's
    // place), so 2018-06-01 now has an answer and 2020-01-01 a different one.
    for date in ["2018-06-01", "2020-01-01"] {
        let permanent = timeline
            .residence_on(day(date), AsKnown::Now)
            .residence
            .permanent
            .unwrap();
        assert_eq!(permanent.start, day("2018-01-15"));
        assert_eq!(permanent.address.as_ref().unwrap(), &truc_bach);
        assert_eq!(
            permanent.opened_by.corrected_by.unwrap().known.position,
            corrected
        );
        assert_eq!(
            permanent.unit_full_name().unwrap(),
            "Phường Trúc Bạch, Quận Ba Đình, Thành phố Hà Nội"
        );
    }
    // The same answers on the position axis: known at the correction, and just before it.
    assert_eq!(
        timeline
            .residence_on(day("2018-06-01"), AsKnown::AtPosition(corrected))
            .residence,
        timeline
            .residence_on(day("2018-06-01"), AsKnown::Now)
            .residence
    );
    assert_eq!(
        timeline
            .residence_on(day("2018-06-01"), AsKnown::AtPosition(corrected - 1))
            .residence
            .permanent,
        None
    );

    // What changed between the two positions: the Phúc Xá interval gave way to Trúc Bạch.
    let changes = timeline.changes_between(late, corrected);
    assert_eq!(changes.records.len(), 1);
    assert_eq!(changes.records[0].position, corrected);
    assert_eq!(changes.removed.len(), 1);
    assert_eq!(changes.removed[0].start, day("2019-05-01"));
    assert_eq!(changes.added.len(), 1);
    assert_eq!(changes.added[0].start, day("2018-01-15"));

    // The registers, as known now, agree with the corrected answer.
    let register = projections.register(unit("legacy:00004"), None, day("2020-01-01"));
    assert_eq!(register.households.len(), 1);
    assert_eq!(register.households[0].members[0].person, P);
    assert_eq!(register.households[0].members[0].since, day("2018-01-15"));
    let register = projections.register(unit("legacy:00001"), None, day("2020-01-01"));
    assert!(register.households.is_empty());
    // The person is found by PIN.
    assert_eq!(
        projections.person_by_pin("001080000001".parse().unwrap()),
        Some(P)
    );
}

#[test]
fn as_known_at_time_and_at_position_agree_on_record_boundaries() {
    let mut world = World::new();
    let phuc_xa = address("legacy:00001", "Số 5 phố Phúc Xá");
    world.one(
        "2021-08-02",
        person_recorded(P, "001080000001", "Nguyễn Văn An"),
    );
    let (first, _) = world.one(
        "2021-08-03",
        permanent(P, "2021-08-01", &phuc_xa, D1, H, Relationship::ChuHo),
    );
    let (deleted, _) = world.one("2023-02-01", died(P, "2023-01-20", &phuc_xa, D1, H));
    let projections = world.projections();
    let timeline = projections.person_timeline(&world.ledger, P).unwrap();
    let on = |as_known| {
        timeline
            .residence_on(day("2023-06-01"), as_known)
            .residence
            .permanent
    };
    // Known at the registration: still registered on 2023-06-01; known at the deletion: not.
    assert!(on(AsKnown::AtPosition(first)).is_some());
    assert!(on(AsKnown::AtTime(World::micros("2022-12-31"))).is_some());
    assert_eq!(on(AsKnown::AtPosition(deleted)), None);
    assert_eq!(on(AsKnown::AtTime(World::micros("2023-02-01"))), None);
    assert_eq!(on(AsKnown::Now), None);
    // The interval as known now ends on the day of death and says who closed it.
    let history = timeline.history(AsKnown::Now);
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].end, Some(day("2023-01-20")));
    assert_eq!(
        history[0].closed_by.unwrap().recorded.known.position,
        deleted
    );
}

#[test]
fn an_erased_payload_advances_the_position_and_is_reported() {
    let mut world = World::new();
    let phuc_xa = address("legacy:00001", "Số 5 phố Phúc Xá");
    world.one(
        "2021-08-02",
        person_recorded(P, "001080000001", "Nguyễn Văn An"),
    );
    world.one(
        "2021-08-03",
        established(H, "2019-05-01", &phuc_xa, D1, "HS-0001"),
    );
    let (registered, _) = world.one(
        "2021-08-04",
        permanent(P, "2019-05-01", &phuc_xa, D1, H, Relationship::ChuHo),
    );
    world
        .ledger
        .erase_payload(residence_ledger::record::Position(registered))
        .unwrap();
    let projections = world.projections();
    assert_eq!(projections.position(), world.ledger.head().size);
    assert_eq!(projections.counters().erased, 1);
    let timeline = projections.person_timeline(&world.ledger, P).unwrap();
    assert_eq!(timeline.erased_records(), 1);
    let answer = timeline.residence_on(day("2020-01-01"), AsKnown::Now);
    assert_eq!(answer.erased_records, 1);
    assert_eq!(answer.residence.permanent, None);
    assert!(
        timeline
            .records()
            .iter()
            .any(|record| record.position == registered
                && record.erased
                && record.event_type.is_none())
    );
    // The registers agree: the registration cannot be read, so nobody is listed.
    assert!(
        projections
            .register(unit("legacy:00001"), None, day("2020-01-01"))
            .households
            .is_empty()
    );
    assert_eq!(
        projections
            .population_on(day("2020-01-01"))
            .totals
            .permanent,
        0
    );
}
