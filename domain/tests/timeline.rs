//! The residence timeline fold on both time axes, on real administrative units.
//!
//! Each test records events into a miniature ledger ([`Log`]: ascending positions, recorded
//! times on given days, event ids derived from the position), builds the person's timeline and
//! asks where the person resided on a date as known at a position or time. The events are built
//! with the real constructors of the event catalogue, and the units are real: legacy 00001
//! Phường Phúc Xá (Quận Ba Đình) went whole into 2025 00097 Phường Hồng Hà; legacy 00007 Phường
//! Cống Vị was divided between 00008 Phường Ngọc Hà (the default) and 00025 Phường Giảng Võ.

#![allow(
    clippy::unwrap_used,
    reason = "an integration test binary: helpers build known-good values, and a failed unwrap is a failed test"
)]

use chrono::NaiveDate;
use residence_domain::address::{Address, StreetLine};
use residence_domain::event::*;
use residence_domain::event_id::EventId;
use residence_domain::grounds::{Initiator, PermanentDeletionGround, TemporaryDeletionGround};
use residence_domain::ids::{DwellingId, HouseholdId, PersonId};
use residence_domain::pin::Pin;
use residence_domain::relationship::Relationship;
use residence_domain::tag::Tag;
use residence_domain::timeline::*;
use residence_domain::units::UnitRef;

/// The person whose timeline the tests build.
const ME: PersonId = PersonId::new(0x11);
/// Another person.
const SPOUSE: PersonId = PersonId::new(0x12);

const D1: DwellingId = DwellingId::new(0xd1);
const D2: DwellingId = DwellingId::new(0xd2);
const D3: DwellingId = DwellingId::new(0xd3);
const H1: HouseholdId = HouseholdId::new(0x41);
const H2: HouseholdId = HouseholdId::new(0x42);

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn unit(text: &str) -> UnitRef {
    text.parse().unwrap()
}

fn address(unit_text: &str, street: &str) -> Address {
    Address {
        unit: unit(unit_text),
        street: StreetLine::parse(street).unwrap(),
    }
}

fn legal_basis() -> LegalBasis {
    LegalBasis::parse("Luật Cư trú 2020").unwrap()
}

fn membership(household: HouseholdId, relationship: Relationship) -> Membership {
    Membership {
        household,
        relationship,
    }
}

/// A ledger in miniature: positions 10, 20, … (other people's records would sit between).
#[derive(Default)]
struct Log {
    events: Vec<(Known, EventId, Event)>,
}

impl Log {
    /// Records `event` as recorded at noon UTC on `recorded_on`, at the next position.
    fn record(&mut self, recorded_on: &str, event: impl Into<Event>) -> EventRef {
        let position = (self.events.len() as u64 + 1) * 10;
        let recorded_at_micros = day(recorded_on)
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros();
        let known = Known {
            position,
            recorded_at_micros,
        };
        let mut id = [0u8; 16];
        id[8..].copy_from_slice(&position.to_be_bytes());
        let event_id = EventId::from_bytes(id);
        self.events.push((known, event_id, event.into()));
        EventRef { known, event_id }
    }

    fn event(&self, reference: EventRef) -> &Event {
        let found = self
            .events
            .iter()
            .find(|(_, id, _)| *id == reference.event_id);
        &found.unwrap().2
    }

    /// The events as the fold takes them, up to and including `position`.
    fn up_to(&self, position: u64) -> impl Iterator<Item = TimelineEvent<'_>> {
        self.events
            .iter()
            .filter(move |(known, _, _)| known.position <= position)
            .map(|(known, event_id, event)| TimelineEvent {
                known: *known,
                event_id: *event_id,
                event,
            })
    }

    fn timeline_of(&self, person: PersonId) -> Timeline {
        Timeline::build(person, self.up_to(u64::MAX)).unwrap()
    }

    fn timeline(&self) -> Timeline {
        self.timeline_of(ME)
    }
}

fn permanent(
    on: &str,
    unit_text: &str,
    dwelling: DwellingId,
    member: Membership,
) -> PermanentResidenceRegistered {
    PermanentResidenceRegistered {
        person: ME,
        effective_on: day(on),
        basis: PermanentBasis::OwnHome,
        address: address(unit_text, "Số 5 phố Phúc Xá"),
        dwelling,
        membership: member,
        previous_household: None,
        previous_dwelling: None,
        floor_area: None,
        consents: Vec::new(),
        legal_basis: legal_basis(),
        application: None,
    }
}

fn temporary(
    on: &str,
    until: &str,
    unit_text: &str,
    dwelling: DwellingId,
) -> TemporaryResidenceRegistered {
    TemporaryResidenceRegistered {
        person: ME,
        effective_on: day(on),
        until: day(until),
        address: address(unit_text, "Số 12 ngõ 34 phố Đội Cấn"),
        dwelling,
        membership: None,
        consents: Vec::new(),
        legal_basis: legal_basis(),
        application: None,
    }
}

fn permanent_deleted(
    on: &str,
    ground: PermanentDeletionGround,
    unit_text: &str,
    dwelling: DwellingId,
    household: HouseholdId,
) -> PermanentResidenceDeleted {
    PermanentResidenceDeleted {
        person: ME,
        effective_on: day(on),
        ground,
        initiator: Initiator::ExOfficio,
        address: address(unit_text, "Số 5 phố Phúc Xá"),
        dwelling,
        household,
        legal_basis: legal_basis(),
        application: None,
    }
}

fn temporary_deleted(
    on: &str,
    ground: TemporaryDeletionGround,
    unit_text: &str,
    dwelling: DwellingId,
) -> TemporaryResidenceDeleted {
    TemporaryResidenceDeleted {
        person: ME,
        effective_on: day(on),
        ground,
        initiator: Initiator::ExOfficio,
        address: address(unit_text, "Số 12 ngõ 34 phố Đội Cấn"),
        dwelling,
        household: None,
        legal_basis: legal_basis(),
        application: None,
    }
}

fn annulment(
    annuls: EventRef,
    registration: RegistrationKind,
    on: &str,
) -> ResidenceRegistrationAnnulled {
    ResidenceRegistrationAnnulled {
        person: ME,
        annuls: annuls.event_id,
        registration,
        effective_on: day(on),
        decision: DecisionRef {
            number: DocumentNumber::parse("15/QĐ-CAX").unwrap(),
            decided_on: day(on),
        },
        decided_by: AnnulmentAuthority::RegisteringOffice,
        reason: Reason::parse("giấy tờ chỗ ở giả mạo").unwrap(),
        legal_basis: legal_basis(),
    }
}

fn recoded(dwelling: DwellingId, on: &str, old: &str, new: &str) -> ResidenceAddressRecoded {
    ResidenceAddressRecoded {
        dwelling,
        effective_on: day(on),
        cause: RecodingCause::UnitReorganisation,
        old_address: address(old, "Số 5 phố Phúc Xá"),
        new_address: address(new, "Số 5 phố Phúc Xá"),
        households: vec![H1],
        persons: vec![ME],
        legal_basis: LegalBasis::parse("Luật Cư trú 2020, Điều 26.1.c; Công văn 1555/BCA-C06")
            .unwrap(),
    }
}

fn absence(on: &str, until: &str, destination: &str) -> TemporaryAbsenceDeclared {
    TemporaryAbsenceDeclared {
        person: ME,
        effective_on: day(on),
        until: day(until),
        clause: AbsenceClause::LongAbsence,
        destination: PlaceText::parse(destination).unwrap(),
        reason: Reason::parse("đi làm việc").unwrap(),
        legal_basis: legal_basis(),
        application: None,
    }
}

fn correction(log: &Log, corrects: EventRef, replacement: impl Into<Event>) -> EventCorrected {
    EventCorrected::new(
        corrects.event_id,
        log.event(corrects).tags(),
        Reason::parse("nhập sai địa chỉ").unwrap(),
        legal_basis(),
        replacement.into(),
    )
    .unwrap()
}

fn origin(recorded: EventRef) -> Origin {
    Origin {
        recorded,
        corrected_by: None,
    }
}

/// The permanent registration on `date` as known at `as_known`.
fn permanent_on(timeline: &Timeline, date: &str, as_known: AsKnown) -> Option<Residence> {
    timeline.residence_on(day(date), as_known).permanent
}

fn unit_on(residence: &Residence) -> UnitRef {
    residence.address.as_ref().unwrap().unit
}

#[test]
fn a_legacy_ward_is_shown_under_its_2025_successor_from_2025_07_01_with_an_unchanged_start() {
    let mut log = Log::default();
    let registered = log.record(
        "2019-03-15",
        permanent(
            "2019-03-15",
            "legacy:00001",
            D1,
            membership(H1, Relationship::ChuHo),
        ),
    );
    log.record("2025-07-01", AdministrativeUnitsReorganized::embedded());
    let timeline = log.timeline();

    let before = permanent_on(&timeline, "2025-06-30", AsKnown::Now).unwrap();
    assert_eq!(unit_on(&before), unit("legacy:00001"));
    assert_eq!(
        before.unit_full_name().as_deref(),
        Some("Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội")
    );
    assert_eq!(
        before.today_full_name().as_deref(),
        Some("Phường Hồng Hà, Thành phố Hà Nội")
    );

    let after = permanent_on(&timeline, "2025-07-01", AsKnown::Now).unwrap();
    assert_eq!(unit_on(&after), unit("2025:00097"));
    assert_eq!(
        after.unit_full_name().as_deref(),
        Some("Phường Hồng Hà, Thành phố Hà Nội")
    );
    assert_eq!(
        after.address.as_ref().unwrap().street.as_str(),
        "Số 5 phố Phúc Xá"
    );
    assert_eq!(after.start, day("2019-03-15"));
    assert_eq!(after.end, None);
    assert_eq!(after.opened_by, origin(registered));
    assert_eq!(after.membership, Some(membership(H1, Relationship::ChuHo)));
    assert_eq!(after.basis, Basis::Permanent(PermanentBasis::OwnHome));

    // Before the reorganisation event was recorded, the register still showed the legacy ward.
    let unaware = permanent_on(
        &timeline,
        "2025-07-01",
        AsKnown::AtPosition(registered.known.position),
    );
    assert_eq!(unit_on(&unaware.unwrap()), unit("legacy:00001"));

    // One registration, printed in two pieces.
    let history = timeline.history(AsKnown::Now);
    assert_eq!(history.len(), 1);
    let segments = history[0].segments();
    let pieces: Vec<_> = segments
        .iter()
        .map(|s| (s.from, s.to, s.address.as_ref().unwrap().unit))
        .collect();
    assert_eq!(
        pieces,
        [
            (
                day("2019-03-15"),
                Some(day("2025-07-01")),
                unit("legacy:00001")
            ),
            (day("2025-07-01"), None, unit("2025:00097")),
        ]
    );
}

#[test]
fn a_divided_ward_shows_its_default_until_the_dwelling_is_recoded() {
    let mut log = Log::default();
    log.record(
        "2019-03-15",
        permanent(
            "2019-03-15",
            "legacy:00007",
            D1,
            membership(H1, Relationship::ChuHo),
        ),
    );
    log.record("2025-07-01", AdministrativeUnitsReorganized::embedded());
    let recoding = log.record(
        "2025-08-20",
        recoded(D1, "2025-08-15", "legacy:00007", "2025:00025"),
    );
    let timeline = log.timeline();
    let now = AsKnown::Now;

    let legacy = permanent_on(&timeline, "2025-06-30", now).unwrap();
    assert_eq!(unit_on(&legacy), unit("legacy:00007"));
    assert_eq!(
        legacy.unit_full_name().as_deref(),
        Some("Phường Cống Vị, Quận Ba Đình, Thành phố Hà Nội")
    );
    let default = permanent_on(&timeline, "2025-08-14", now).unwrap();
    assert_eq!(unit_on(&default), unit("2025:00008"));
    assert_eq!(
        default.unit_full_name().as_deref(),
        Some("Phường Ngọc Hà, Thành phố Hà Nội")
    );
    let recoded_ward = permanent_on(&timeline, "2025-08-15", now).unwrap();
    assert_eq!(unit_on(&recoded_ward), unit("2025:00025"));
    assert_eq!(
        recoded_ward.unit_full_name().as_deref(),
        Some("Phường Giảng Võ, Thành phố Hà Nội")
    );
    // Recoding is not a move.
    assert_eq!(recoded_ward.start, day("2019-03-15"));
    // Today's equivalent of the 2024 address follows the recoding.
    let in_2024 = permanent_on(&timeline, "2024-01-01", now).unwrap();
    assert_eq!(in_2024.today_unit, Some(unit("2025:00025")));

    // As known before the recoding was recorded: still the default ward, also for today.
    let before_recoding = AsKnown::AtTime(recoding.known.recorded_at_micros - 1);
    let unrecoded = permanent_on(&timeline, "2025-08-15", before_recoding).unwrap();
    assert_eq!(unit_on(&unrecoded), unit("2025:00008"));
    assert_eq!(unrecoded.today_unit, Some(unit("2025:00008")));

    let history = timeline.history(now);
    let segments = history[0].segments();
    let pieces: Vec<_> = segments
        .iter()
        .map(|s| (s.from, s.address.as_ref().unwrap().unit))
        .collect();
    assert_eq!(
        pieces,
        [
            (day("2019-03-15"), unit("legacy:00007")),
            (day("2025-07-01"), unit("2025:00008")),
            (day("2025-08-15"), unit("2025:00025")),
        ]
    );
    assert_eq!(history[0].changes()[0].by, origin(recoding));
}

#[test]
fn a_late_registration_and_its_correction_give_three_answers_for_one_date() {
    let mut log = Log::default();
    log.record(
        "2015-01-05",
        permanent(
            "2015-01-05",
            "legacy:00004",
            D1,
            membership(H1, Relationship::ConDe),
        ),
    );
    // Recorded in 2024 with effect from 2022: the register learnt of it late.
    let late = permanent(
        "2022-01-10",
        "legacy:00001",
        D2,
        membership(H2, Relationship::ChuHo),
    );
    let late_ref = log.record("2024-03-01", late.clone());
    // Corrected in 2025: the registration was at another ward, from another day.
    let corrected = PermanentResidenceRegistered {
        effective_on: day("2022-03-01"),
        address: address("legacy:00006", "Số 7 phố Đội Cấn"),
        ..late
    };
    let correction_ref = log.record("2025-02-01", correction(&log, late_ref, corrected));
    let timeline = log.timeline();

    let in_2023 = AsKnown::AtTime(
        day("2023-12-31")
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros(),
    );
    let in_2024 = AsKnown::AtPosition(late_ref.known.position);

    let known_2023 = permanent_on(&timeline, "2023-06-01", in_2023).unwrap();
    assert_eq!(unit_on(&known_2023), unit("legacy:00004"));
    assert_eq!(known_2023.start, day("2015-01-05"));
    assert_eq!(known_2023.end, None);

    let known_2024 = permanent_on(&timeline, "2023-06-01", in_2024).unwrap();
    assert_eq!(unit_on(&known_2024), unit("legacy:00001"));
    assert_eq!(known_2024.start, day("2022-01-10"));
    assert_eq!(known_2024.opened_by, origin(late_ref));

    let known_now = permanent_on(&timeline, "2023-06-01", AsKnown::Now).unwrap();
    assert_eq!(unit_on(&known_now), unit("legacy:00006"));
    assert_eq!(known_now.start, day("2022-03-01"));
    assert_eq!(
        known_now.opened_by,
        Origin {
            recorded: late_ref,
            corrected_by: Some(correction_ref),
        }
    );

    // The corrected start moves the end of the previous registration too.
    let february_2022 =
        |as_known| unit_on(&permanent_on(&timeline, "2022-02-01", as_known).unwrap());
    assert_eq!(february_2022(in_2024), unit("legacy:00001"));
    assert_eq!(february_2022(AsKnown::Now), unit("legacy:00004"));
    let history = timeline.history(AsKnown::Now);
    assert_eq!(history[0].end, Some(day("2022-03-01")));
    assert_eq!(history[0].end_reason, Some(EndReason::Superseded));
    assert_eq!(
        history[0].closed_by.map(|by| by.corrected_by),
        Some(Some(correction_ref))
    );
}

#[test]
fn an_annulled_registration_is_void_from_its_start_as_known_from_the_annulment_on() {
    let mut log = Log::default();
    let first = log.record(
        "2018-05-01",
        permanent(
            "2018-05-01",
            "legacy:00004",
            D1,
            membership(H1, Relationship::ConDe),
        ),
    );
    let annulled = log.record(
        "2023-01-02",
        permanent(
            "2023-01-01",
            "legacy:00001",
            D2,
            membership(H2, Relationship::ChuHo),
        ),
    );
    let annulling = log.record(
        "2023-06-01",
        annulment(annulled, RegistrationKind::Permanent, "2023-06-01"),
    );
    log.record(
        "2023-06-02",
        permanent_deleted(
            "2023-06-02",
            PermanentDeletionGround::Annulled,
            "legacy:00001",
            D2,
            H2,
        ),
    );
    let timeline = log.timeline();

    // Before the annulment the register showed the registration.
    let before = permanent_on(
        &timeline,
        "2023-03-01",
        AsKnown::AtPosition(annulled.known.position),
    );
    assert_eq!(unit_on(&before.unwrap()), unit("legacy:00001"));

    // From the annulment on, it never held; the registration it superseded is not revived.
    assert_eq!(permanent_on(&timeline, "2023-03-01", AsKnown::Now), None);
    assert_eq!(permanent_on(&timeline, "2023-07-01", AsKnown::Now), None);
    let previous = permanent_on(&timeline, "2022-12-31", AsKnown::Now).unwrap();
    assert_eq!(previous.opened_by, origin(first));
    assert_eq!(previous.end, Some(day("2023-01-01")));

    let view = timeline.view(AsKnown::Now);
    assert_eq!(view.intervals().len(), 1);
    assert_eq!(view.voided().len(), 1);
    let voided = &view.voided()[0];
    assert_eq!(voided.annulled_by, origin(annulling));
    assert_eq!(voided.interval.opened_by, origin(annulled));
    assert_eq!(voided.interval.start, day("2023-01-01"));
    assert_eq!(
        voided.interval.end_reason,
        Some(EndReason::Deleted(DeletionGround::Permanent(
            PermanentDeletionGround::Annulled
        )))
    );
}

#[test]
fn an_annulled_temporary_registration_is_void_too() {
    let mut log = Log::default();
    let registered = log.record(
        "2024-01-01",
        temporary("2024-01-01", "2025-06-30", "legacy:00001", D1),
    );
    log.record(
        "2024-03-01",
        annulment(registered, RegistrationKind::Temporary, "2024-03-01"),
    );
    log.record(
        "2024-03-02",
        temporary_deleted(
            "2024-03-02",
            TemporaryDeletionGround::Annulled,
            "legacy:00001",
            D1,
        ),
    );
    let timeline = log.timeline();
    let on = |as_known| timeline.residence_on(day("2024-02-01"), as_known).temporary;
    assert!(on(AsKnown::AtPosition(registered.known.position)).is_some());
    assert_eq!(on(AsKnown::Now), None);
    assert!(timeline.history(AsKnown::Now).is_empty());
}

#[test]
fn a_temporary_registration_ends_by_itself_after_its_until_date() {
    let mut log = Log::default();
    let registered = log.record(
        "2024-01-01",
        temporary("2024-01-01", "2024-12-31", "legacy:00001", D1),
    );
    let timeline = log.timeline();
    let on = |date| timeline.residence_on(day(date), AsKnown::Now).temporary;
    assert_eq!(on("2023-12-31"), None);
    let last_day = on("2024-12-31").unwrap();
    assert_eq!(last_day.start, day("2024-01-01"));
    assert_eq!(last_day.until, Some(day("2024-12-31")));
    assert_eq!(last_day.end, Some(day("2025-01-01")));
    assert_eq!(last_day.end_reason, Some(EndReason::TermEnded));
    assert_eq!(last_day.closed_by, None);
    assert_eq!(last_day.opened_by, origin(registered));
    assert_eq!(last_day.basis, Basis::Temporary);
    assert_eq!(on("2025-01-01"), None);
}

#[test]
fn an_extension_moves_the_end_of_a_temporary_registration() {
    let mut log = Log::default();
    let registered = log.record(
        "2024-01-01",
        temporary("2024-01-01", "2024-12-31", "legacy:00001", D1),
    );
    let extended = log.record(
        "2024-12-20",
        TemporaryResidenceExtended {
            person: ME,
            dwelling: D1,
            effective_on: day("2024-12-20"),
            previous_until: day("2024-12-31"),
            until: day("2025-06-30"),
            consents: Vec::new(),
            legal_basis: legal_basis(),
            application: None,
        },
    );
    let timeline = log.timeline();
    let before = AsKnown::AtPosition(registered.known.position);
    assert_eq!(
        timeline.residence_on(day("2025-03-01"), before).temporary,
        None
    );
    let history = timeline.history(AsKnown::Now);
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].until, Some(day("2025-06-30")));
    assert_eq!(history[0].end, Some(day("2025-07-01")));
    assert_eq!(history[0].extended_by, Some(origin(extended)));
    assert!(history[0].holds_on(day("2025-06-30")));
    assert!(!history[0].holds_on(day("2025-07-01")));
}

#[test]
fn a_deletion_closes_a_temporary_registration_before_its_term() {
    let mut log = Log::default();
    log.record(
        "2024-01-01",
        temporary("2024-01-01", "2025-12-31", "legacy:00001", D1),
    );
    let deleted = log.record(
        "2024-06-03",
        temporary_deleted(
            "2024-06-01",
            TemporaryDeletionGround::LodgingEnded,
            "legacy:00001",
            D1,
        ),
    );
    let timeline = log.timeline();
    let on = |date| timeline.residence_on(day(date), AsKnown::Now).temporary;
    assert!(on("2024-05-31").is_some());
    assert_eq!(on("2024-06-01"), None);
    let history = timeline.history(AsKnown::Now);
    assert_eq!(history[0].end, Some(day("2024-06-01")));
    assert_eq!(
        history[0].end_reason,
        Some(EndReason::Deleted(DeletionGround::Temporary(
            TemporaryDeletionGround::LodgingEnded
        )))
    );
    assert_eq!(history[0].closed_by, Some(origin(deleted)));
    // The term is still on record.
    assert_eq!(history[0].until, Some(day("2025-12-31")));
}

fn extended(
    dwelling: DwellingId,
    on: &str,
    previous_until: &str,
    until: &str,
) -> TemporaryResidenceExtended {
    TemporaryResidenceExtended {
        person: ME,
        dwelling,
        effective_on: day(on),
        previous_until: day(previous_until),
        until: day(until),
        consents: Vec::new(),
        legal_basis: legal_basis(),
        application: None,
    }
}

/// The property test's seed 85341, reduced: a backdated deletion (ground đ) cut the registration
/// at D1 short, a registration at D2 began in the gap, and the deletion of D1 recorded first,
/// dated later, must not end the registration at D2.
#[test]
fn a_deletion_ends_only_the_registration_at_the_dwelling_it_names() {
    let mut log = Log::default();
    let first = log.record(
        "2023-10-04",
        temporary("2023-10-04", "2025-05-18", "legacy:00001", D1),
    );
    log.record(
        "2024-02-18",
        temporary_deleted(
            "2024-02-18",
            TemporaryDeletionGround::LodgingEnded,
            "legacy:00001",
            D1,
        ),
    );
    let cut = log.record(
        "2024-05-10",
        temporary_deleted(
            "2023-11-25",
            TemporaryDeletionGround::PermanentAtSamePlace,
            "legacy:00001",
            D1,
        ),
    );
    let second = log.record(
        "2024-08-31",
        temporary("2024-01-04", "2025-05-13", "legacy:26734", D2),
    );
    let timeline = log.timeline();
    let on = |date| timeline.residence_on(day(date), AsKnown::Now).temporary;
    assert_eq!(on("2023-11-24").unwrap().opened_by, origin(first));
    assert_eq!(on("2023-11-25"), None);
    for date in ["2024-01-04", "2024-02-18", "2025-05-12", "2025-05-13"] {
        let held = on(date).unwrap();
        assert_eq!(held.opened_by, origin(second), "on {date}");
        assert_eq!(held.dwelling, Some(D2));
    }
    assert_eq!(on("2025-05-14"), None);
    let history = timeline.history(AsKnown::Now);
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].end, Some(day("2023-11-25")));
    assert_eq!(history[0].closed_by, Some(origin(cut)));
    assert_eq!(history[1].end, Some(day("2025-05-14")));
    assert_eq!(history[1].end_reason, Some(EndReason::TermEnded));
    assert_eq!(history[1].closed_by, None);
}

/// The property test's seed 164457, reduced: a correction moved the start of the registration
/// at D2 past its deletion. The deletion names D2, so it must not end the registration at D1
/// that holds on its date; D1 ends when the registration at D2 begins (I2).
#[test]
fn a_permanent_deletion_ends_only_the_registration_at_the_dwelling_it_names() {
    let mut log = Log::default();
    let first = log.record(
        "2023-03-23",
        permanent(
            "2023-03-23",
            "legacy:00001",
            D1,
            membership(H1, Relationship::ChuHo),
        ),
    );
    let second = PermanentResidenceRegistered {
        previous_household: Some(H1),
        previous_dwelling: Some(D1),
        ..permanent(
            "2023-06-28",
            "legacy:26734",
            D2,
            membership(H2, Relationship::OThue),
        )
    };
    let moved = log.record("2023-06-28", second.clone());
    let deletion = log.record(
        "2023-07-12",
        permanent_deleted(
            "2023-07-12",
            PermanentDeletionGround::OwnerRefuses,
            "legacy:26734",
            D2,
            H2,
        ),
    );
    let corrected = log.record(
        "2023-11-20",
        correction(
            &log,
            moved,
            PermanentResidenceRegistered {
                effective_on: day("2023-08-24"),
                ..second
            },
        ),
    );
    let timeline = log.timeline();
    // As known before the correction, the deletion ended the registration at D2.
    let before = AsKnown::AtPosition(deletion.known.position);
    assert_eq!(
        permanent_on(&timeline, "2023-07-11", before)
            .unwrap()
            .dwelling,
        Some(D2)
    );
    assert_eq!(permanent_on(&timeline, "2023-07-12", before), None);
    // Now the registration at D1 holds until the corrected start at D2.
    for date in ["2023-07-12", "2023-08-23"] {
        let held = permanent_on(&timeline, date, AsKnown::Now).unwrap();
        assert_eq!(held.opened_by, origin(first), "on {date}");
    }
    let held = permanent_on(&timeline, "2023-08-24", AsKnown::Now).unwrap();
    assert_eq!(held.dwelling, Some(D2));
    assert_eq!(held.opened_by.corrected_by, Some(corrected));
    let history = timeline.history(AsKnown::Now);
    assert_eq!(history[0].end, Some(day("2023-08-24")));
    assert_eq!(history[0].end_reason, Some(EndReason::Superseded));
    assert!(
        history
            .iter()
            .all(|interval| interval.closed_by != Some(origin(deletion)))
    );
}

/// A correction moved the registration at D1 two months earlier, so its term ran out before
/// the deletion recorded earlier takes effect; a registration at D2 began in between. The
/// deletion finds nothing holding at D1 and ends nothing.
#[test]
fn a_deletion_after_the_corrected_term_of_its_registration_ends_nothing_else() {
    let mut log = Log::default();
    let first = log.record(
        "2024-01-01",
        temporary("2024-01-01", "2024-06-30", "legacy:00001", D1),
    );
    let deleted = log.record(
        "2024-06-01",
        temporary_deleted(
            "2024-06-01",
            TemporaryDeletionGround::LodgingEnded,
            "legacy:00001",
            D1,
        ),
    );
    log.record(
        "2024-06-10",
        correction(
            &log,
            first,
            temporary("2023-11-02", "2024-05-01", "legacy:00001", D1),
        ),
    );
    let second = log.record(
        "2024-06-15",
        temporary("2024-05-10", "2025-05-09", "legacy:26734", D2),
    );
    let timeline = log.timeline();
    // As known before the correction, the deletion ended the registration at D1.
    let before = timeline.history(AsKnown::AtPosition(deleted.known.position));
    assert_eq!(before[0].end, Some(day("2024-06-01")));
    assert_eq!(before[0].closed_by, Some(origin(deleted)));
    let on = |date| timeline.residence_on(day(date), AsKnown::Now).temporary;
    assert_eq!(on("2024-05-01").unwrap().dwelling, Some(D1));
    assert_eq!(on("2024-05-02"), None);
    for date in ["2024-05-10", "2024-06-01", "2025-05-09"] {
        assert_eq!(on(date).unwrap().opened_by, origin(second), "on {date}");
    }
    let history = timeline.history(AsKnown::Now);
    assert_eq!(history[0].end, Some(day("2024-05-02")));
    assert_eq!(history[0].end_reason, Some(EndReason::TermEnded));
    assert_eq!(history[0].closed_by, None);
    assert_eq!(history[1].closed_by, None);
}

/// An extension of the registration at D1 recorded before a backdated deletion cut that
/// registration short; a registration at D2 then began before the extension's date. The
/// extension moves the term of D1 (which stays deleted), not that of D2.
#[test]
fn an_extension_moves_only_the_term_it_names() {
    let mut log = Log::default();
    log.record(
        "2024-01-01",
        temporary("2024-01-01", "2024-12-31", "legacy:00001", D1),
    );
    let extension = log.record(
        "2024-12-20",
        extended(D1, "2024-12-20", "2024-12-31", "2025-06-30"),
    );
    let deletion = log.record(
        "2025-01-05",
        temporary_deleted(
            "2024-12-10",
            TemporaryDeletionGround::LodgingEnded,
            "legacy:00001",
            D1,
        ),
    );
    let second = log.record(
        "2025-01-10",
        temporary("2024-12-15", "2025-03-31", "legacy:26734", D2),
    );
    let timeline = log.timeline();
    let on = |date| timeline.residence_on(day(date), AsKnown::Now).temporary;
    assert_eq!(on("2024-12-09").unwrap().dwelling, Some(D1));
    assert_eq!(on("2024-12-10"), None);
    let held = on("2025-03-31").unwrap();
    assert_eq!(held.opened_by, origin(second));
    assert_eq!(held.until, Some(day("2025-03-31")));
    assert_eq!(on("2025-04-01"), None);
    let history = timeline.history(AsKnown::Now);
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].until, Some(day("2025-06-30")));
    assert_eq!(history[0].extended_by, Some(origin(extension)));
    assert_eq!(history[0].end, Some(day("2024-12-10")));
    assert_eq!(history[0].closed_by, Some(origin(deletion)));
    assert_eq!(history[1].extended_by, None);
}

#[test]
fn an_extension_naming_another_dwelling_or_another_term_is_ignored() {
    let mut log = Log::default();
    log.record(
        "2024-01-01",
        temporary("2024-01-01", "2024-12-31", "legacy:00001", D1),
    );
    log.record(
        "2024-12-20",
        extended(D2, "2024-12-20", "2024-12-31", "2025-06-30"),
    );
    log.record(
        "2024-12-21",
        extended(D1, "2024-12-21", "2024-11-30", "2025-09-30"),
    );
    let history = log.timeline().history(AsKnown::Now);
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].until, Some(day("2024-12-31")));
    assert_eq!(history[0].end, Some(day("2025-01-01")));
    assert_eq!(history[0].extended_by, None);
}

/// An extension granted after the term ran out, on an application filed in time, extends it:
/// the registration holds again from the day after its old last day.
#[test]
fn an_extension_granted_after_the_term_ran_out_moves_it() {
    let mut log = Log::default();
    log.record(
        "2024-01-01",
        temporary("2024-01-01", "2024-12-31", "legacy:00001", D1),
    );
    let extension = log.record(
        "2025-01-06",
        extended(D1, "2025-01-06", "2024-12-31", "2025-06-30"),
    );
    let timeline = log.timeline();
    let known_before = AsKnown::AtPosition(extension.known.position - 1);
    assert_eq!(
        timeline
            .residence_on(day("2025-01-02"), known_before)
            .temporary,
        None
    );
    let held = timeline
        .residence_on(day("2025-01-02"), AsKnown::Now)
        .temporary
        .unwrap();
    assert_eq!(held.until, Some(day("2025-06-30")));
    assert_eq!(held.end, Some(day("2025-07-01")));
}

#[test]
fn a_new_permanent_registration_closes_the_previous_one() {
    let mut log = Log::default();
    let first = log.record(
        "2019-03-15",
        permanent(
            "2019-03-15",
            "legacy:00001",
            D1,
            membership(H1, Relationship::ChuHo),
        ),
    );
    let second = log.record(
        "2024-05-01",
        permanent(
            "2024-05-01",
            "legacy:00004",
            D2,
            membership(H2, Relationship::Vo),
        ),
    );
    let timeline = log.timeline();
    let day_before = permanent_on(&timeline, "2024-04-30", AsKnown::Now).unwrap();
    assert_eq!(day_before.opened_by, origin(first));
    assert_eq!(day_before.end, Some(day("2024-05-01")));
    assert_eq!(day_before.end_reason, Some(EndReason::Superseded));
    assert_eq!(day_before.closed_by, Some(origin(second)));
    let day_of = permanent_on(&timeline, "2024-05-01", AsKnown::Now).unwrap();
    assert_eq!(day_of.opened_by, origin(second));
    assert_eq!(unit_on(&day_of), unit("legacy:00004"));
    assert_eq!(day_of.membership, Some(membership(H2, Relationship::Vo)));
    assert_eq!(timeline.history(AsKnown::Now).len(), 2);
}

#[test]
fn a_permanent_registration_at_the_temporary_address_closes_the_temporary_one_by_ground_dd() {
    let mut log = Log::default();
    log.record(
        "2023-01-01",
        temporary("2023-01-01", "2024-12-31", "legacy:00004", D2),
    );
    log.record(
        "2024-03-01",
        permanent(
            "2024-03-01",
            "legacy:00004",
            D2,
            membership(H2, Relationship::ChuHo),
        ),
    );
    let deletion = log.record(
        "2024-03-01",
        temporary_deleted(
            "2024-03-01",
            TemporaryDeletionGround::PermanentAtSamePlace,
            "legacy:00004",
            D2,
        ),
    );
    let timeline = log.timeline();
    let before = timeline.residence_on(day("2024-02-29"), AsKnown::Now);
    assert!(before.temporary.is_some());
    assert_eq!(before.permanent, None);
    let after = timeline.residence_on(day("2024-03-01"), AsKnown::Now);
    assert_eq!(after.temporary, None);
    assert!(after.permanent.is_some());
    let closed = before.temporary.unwrap();
    assert_eq!(
        closed.end_reason,
        Some(EndReason::Deleted(DeletionGround::Temporary(
            TemporaryDeletionGround::PermanentAtSamePlace
        )))
    );
    assert_eq!(closed.closed_by, Some(origin(deletion)));
}

#[test]
fn absences_hold_through_their_until_date_beside_the_registration() {
    let mut log = Log::default();
    log.record(
        "2019-03-15",
        permanent(
            "2019-03-15",
            "legacy:00001",
            D1,
            membership(H1, Relationship::ChuHo),
        ),
    );
    let first = log.record(
        "2024-01-30",
        absence("2024-02-01", "2024-08-31", "Nhật Bản"),
    );
    let second = log.record(
        "2024-08-19",
        absence("2024-08-20", "2025-02-28", "Thành phố Hồ Chí Minh"),
    );
    let timeline = log.timeline();
    let absence_on = |date| timeline.residence_on(day(date), AsKnown::Now).absence;
    assert_eq!(absence_on("2024-01-31"), None);
    let away = absence_on("2024-02-01").unwrap();
    assert_eq!(away.opened_by, origin(first));
    assert_eq!(away.address, None);
    assert_eq!(
        away.basis,
        Basis::Absence {
            clause: AbsenceClause::LongAbsence,
            destination: PlaceText::parse("Nhật Bản").unwrap(),
        }
    );
    // The second declaration, starting within the first, ends it.
    assert_eq!(away.end, Some(day("2024-08-20")));
    assert_eq!(away.end_reason, Some(EndReason::Superseded));
    assert_eq!(absence_on("2024-08-20").unwrap().opened_by, origin(second));
    assert_eq!(absence_on("2025-02-28").unwrap().opened_by, origin(second));
    assert_eq!(absence_on("2025-03-01"), None);
    // The registration holds throughout.
    for date in ["2024-02-01", "2024-08-20", "2025-03-01"] {
        assert!(
            permanent_on(&timeline, date, AsKnown::Now).is_some(),
            "{date}"
        );
    }
}

#[test]
fn a_household_split_changes_the_household_from_its_date_and_a_head_change_restates_it() {
    let mut log = Log::default();
    log.record(
        "2019-03-15",
        permanent(
            "2019-03-15",
            "legacy:00001",
            D1,
            membership(H1, Relationship::ConDe),
        ),
    );
    let split = log.record(
        "2024-09-01",
        HouseholdSplit {
            household: H1,
            new_household: H2,
            effective_on: day("2024-09-01"),
            dwelling: D1,
            address: address("legacy:00001", "Số 5 phố Phúc Xá"),
            new_head: ME,
            members: vec![MemberRelationship {
                person: SPOUSE,
                relationship: Relationship::Vo,
            }],
            consents: Vec::new(),
            residence_file_number: None,
            legal_basis: legal_basis(),
            application: None,
        },
    );
    log.record(
        "2025-01-10",
        HouseholdHeadChanged {
            household: H2,
            effective_on: day("2025-01-10"),
            previous_head: Some(ME),
            new_head: SPOUSE,
            reason: HeadChangeReason::Handover,
            members: vec![MemberRelationship {
                person: ME,
                relationship: Relationship::Chong,
            }],
            court_decision: None,
            legal_basis: legal_basis(),
            application: None,
        },
    );
    let timeline = log.timeline();
    let member_on = |date| {
        permanent_on(&timeline, date, AsKnown::Now)
            .unwrap()
            .membership
    };
    assert_eq!(
        member_on("2024-08-31"),
        Some(membership(H1, Relationship::ConDe))
    );
    assert_eq!(
        member_on("2024-09-01"),
        Some(membership(H2, Relationship::ChuHo))
    );
    assert_eq!(
        member_on("2025-01-10"),
        Some(membership(H2, Relationship::Chong))
    );
    let after = permanent_on(&timeline, "2024-09-01", AsKnown::Now).unwrap();
    assert_eq!(after.start, day("2019-03-15"));
    assert_eq!(timeline.history(AsKnown::Now).len(), 1);
    let as_known_then = permanent_on(
        &timeline,
        "2024-09-01",
        AsKnown::AtPosition(split.known.position - 1),
    );
    assert_eq!(
        as_known_then.unwrap().membership,
        Some(membership(H1, Relationship::ConDe))
    );
}

#[test]
fn a_split_of_another_household_changes_nothing() {
    let mut log = Log::default();
    log.record(
        "2019-03-15",
        permanent(
            "2019-03-15",
            "legacy:00001",
            D1,
            membership(H1, Relationship::ChuHo),
        ),
    );
    log.record(
        "2024-09-01",
        HouseholdSplit {
            household: H1,
            new_household: H2,
            effective_on: day("2024-09-01"),
            dwelling: D1,
            address: address("legacy:00001", "Số 5 phố Phúc Xá"),
            new_head: SPOUSE,
            members: Vec::new(),
            consents: Vec::new(),
            residence_file_number: None,
            legal_basis: legal_basis(),
            application: None,
        },
    );
    let timeline = log.timeline();
    let member = permanent_on(&timeline, "2024-10-01", AsKnown::Now)
        .unwrap()
        .membership;
    assert_eq!(member, Some(membership(H1, Relationship::ChuHo)));
}

#[test]
fn a_deletion_for_death_ends_every_interval() {
    let mut log = Log::default();
    log.record(
        "2019-03-15",
        permanent(
            "2019-03-15",
            "legacy:00001",
            D1,
            membership(H1, Relationship::ChuHo),
        ),
    );
    log.record(
        "2024-01-01",
        temporary("2024-01-01", "2025-12-31", "legacy:00004", D2),
    );
    log.record(
        "2024-02-01",
        absence("2024-02-01", "2025-01-31", "Nhật Bản"),
    );
    let death = log.record(
        "2024-05-02",
        permanent_deleted(
            "2024-05-01",
            PermanentDeletionGround::Death,
            "legacy:00001",
            D1,
            H1,
        ),
    );
    let timeline = log.timeline();
    let alive = timeline.residence_on(day("2024-04-30"), AsKnown::Now);
    assert!(alive.permanent.is_some() && alive.temporary.is_some() && alive.absence.is_some());
    let dead = timeline.residence_on(day("2024-05-01"), AsKnown::Now);
    assert_eq!(
        (dead.permanent, dead.temporary, dead.absence),
        (None, None, None)
    );
    let temporary = alive.temporary.unwrap();
    assert_eq!(temporary.end_reason, Some(EndReason::Died));
    assert_eq!(temporary.closed_by, Some(origin(death)));
    assert_eq!(
        alive.permanent.unwrap().end_reason,
        Some(EndReason::Deleted(DeletionGround::Permanent(
            PermanentDeletionGround::Death
        )))
    );
}

#[test]
fn a_declared_current_residence_ends_when_a_registration_begins() {
    let mut log = Log::default();
    let declared = log.record(
        "2023-01-01",
        CurrentResidenceDeclared {
            person: ME,
            effective_on: day("2023-01-01"),
            address: address("legacy:00007", "Lều dưới chân cầu"),
            dwelling: None,
            legal_basis: legal_basis(),
            application: None,
        },
    );
    let registered = log.record(
        "2023-06-01",
        temporary("2023-06-01", "2024-05-31", "legacy:00001", D1),
    );
    let timeline = log.timeline();
    let current = timeline
        .residence_on(day("2023-05-31"), AsKnown::Now)
        .current
        .unwrap();
    assert_eq!(current.kind, IntervalKind::CurrentResidence);
    assert_eq!(current.basis, Basis::Declared);
    assert_eq!(current.opened_by, origin(declared));
    assert_eq!(current.end, Some(day("2023-06-01")));
    assert_eq!(current.closed_by, Some(origin(registered)));
    let later = timeline.residence_on(day("2023-06-01"), AsKnown::Now);
    assert_eq!(later.current, None);
    assert!(later.temporary.is_some());
}

#[test]
fn an_updated_current_address_follows_the_recoding_of_its_dwelling() {
    let mut log = Log::default();
    log.record(
        "2019-03-15",
        permanent(
            "2019-03-15",
            "legacy:00007",
            D1,
            membership(H1, Relationship::ChuHo),
        ),
    );
    log.record(
        "2024-01-01",
        CurrentAddressUpdated {
            person: ME,
            effective_on: day("2024-01-01"),
            previous_address: None,
            address: address("legacy:00007", "Số 9 phố Kim Mã"),
            dwelling: Some(D3),
            legal_basis: legal_basis(),
            application: None,
        },
    );
    log.record("2025-07-01", AdministrativeUnitsReorganized::embedded());
    log.record(
        "2025-09-01",
        recoded(D3, "2025-09-01", "legacy:00007", "2025:00025"),
    );
    let timeline = log.timeline();
    let current_unit = |date| {
        unit_on(
            &timeline
                .residence_on(day(date), AsKnown::Now)
                .current
                .unwrap(),
        )
    };
    assert_eq!(current_unit("2024-01-01"), unit("legacy:00007"));
    assert_eq!(current_unit("2025-08-31"), unit("2025:00008"));
    assert_eq!(current_unit("2025-09-01"), unit("2025:00025"));
    // The permanent registration is at another dwelling, not recoded: it keeps the default.
    let registered = permanent_on(&timeline, "2025-09-01", AsKnown::Now).unwrap();
    assert_eq!(unit_on(&registered), unit("2025:00008"));
    let current = timeline
        .residence_on(day("2025-09-01"), AsKnown::Now)
        .current
        .unwrap();
    assert_eq!(current.basis, Basis::AddressUpdated);
    assert_eq!(current.start, day("2024-01-01"));
}

#[test]
fn a_notified_stay_holds_through_its_last_day() {
    let mut log = Log::default();
    log.record(
        "2024-03-01",
        StayNotified {
            guest: Guest {
                person: Some(ME),
                name: residence_domain::address::PersonName::parse("Nguyễn Văn An").unwrap(),
                document: IdentityDocument::Pin("001090012345".parse::<Pin>().unwrap()),
            },
            effective_on: day("2024-03-01"),
            until: day("2024-03-05"),
            host_address: address("legacy:00001", "Khách sạn Phúc Xá"),
            dwelling: None,
            reason: Reason::parse("du lịch").unwrap(),
            notifier: NotifierKind::Accommodation,
            legal_basis: legal_basis(),
        },
    );
    let timeline = log.timeline();
    let stay = |date| timeline.residence_on(day(date), AsKnown::Now).stay;
    assert_eq!(
        stay("2024-03-05").unwrap().basis,
        Basis::Stay {
            notifier: NotifierKind::Accommodation
        }
    );
    assert_eq!(stay("2024-03-06"), None);
    assert_eq!(stay("2024-02-29"), None);
}

#[test]
fn a_registration_corrected_to_concern_another_person_moves_to_that_person() {
    let mut log = Log::default();
    let wrong = permanent(
        "2022-01-10",
        "legacy:00001",
        D1,
        membership(H1, Relationship::ChuHo),
    );
    let wrong_ref = log.record("2022-01-10", wrong.clone());
    let right = PermanentResidenceRegistered {
        person: SPOUSE,
        ..wrong
    };
    let fixed = log.record("2022-02-01", correction(&log, wrong_ref, right));
    let mine = log.timeline();
    let then = AsKnown::AtPosition(wrong_ref.known.position);
    assert!(permanent_on(&mine, "2022-01-20", then).is_some());
    assert_eq!(permanent_on(&mine, "2022-01-20", AsKnown::Now), None);

    // The spouse's chain holds only the correction (it carries the replacement's tags).
    let spouse_events = log
        .up_to(u64::MAX)
        .filter(|e| e.event.persons().any(|p| p == SPOUSE));
    let theirs = Timeline::build(SPOUSE, spouse_events).unwrap();
    let registered = theirs
        .residence_on(day("2022-01-20"), AsKnown::Now)
        .permanent
        .unwrap();
    assert_eq!(registered.start, day("2022-01-10"));
    assert_eq!(
        registered.opened_by,
        Origin {
            recorded: fixed,
            corrected_by: Some(fixed),
        }
    );
}

#[test]
fn the_latest_correction_wins_and_a_correction_of_a_correction_corrects_the_original() {
    let mut log = Log::default();
    let original = permanent(
        "2022-01-10",
        "legacy:00001",
        D1,
        membership(H1, Relationship::ChuHo),
    );
    let original_ref = log.record("2022-01-10", original.clone());
    let first_fix = log.record(
        "2023-01-01",
        correction(
            &log,
            original_ref,
            PermanentResidenceRegistered {
                address: address("legacy:00004", "Số 5 phố Phúc Xá"),
                ..original.clone()
            },
        ),
    );
    // This one names the first correction; it corrects the original.
    let second_fix = log.record(
        "2024-01-01",
        correction(
            &log,
            first_fix,
            PermanentResidenceRegistered {
                address: address("legacy:00006", "Số 5 phố Phúc Xá"),
                ..original
            },
        ),
    );
    let timeline = log.timeline();
    let unit_as_known =
        |as_known| unit_on(&permanent_on(&timeline, "2022-06-01", as_known).unwrap());
    assert_eq!(
        unit_as_known(AsKnown::AtPosition(original_ref.known.position)),
        unit("legacy:00001")
    );
    assert_eq!(
        unit_as_known(AsKnown::AtPosition(first_fix.known.position)),
        unit("legacy:00004")
    );
    assert_eq!(unit_as_known(AsKnown::Now), unit("legacy:00006"));
    let history = timeline.history(AsKnown::Now);
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].opened_by.recorded, original_ref);
    assert_eq!(history[0].opened_by.corrected_by, Some(second_fix));
}

#[test]
fn attributes_of_the_person_are_not_residence() {
    let mut log = Log::default();
    log.record(
        "2019-03-15",
        permanent(
            "2019-03-15",
            "legacy:00001",
            D1,
            membership(H1, Relationship::ChuHo),
        ),
    );
    let before = log.timeline().view(AsKnown::Now).into_owned();
    log.record(
        "2024-01-01",
        PersonalIdNumberReassigned {
            person: ME,
            effective_on: day("2024-01-01"),
            old: "001090012345".parse().unwrap(),
            new: "001190012345".parse().unwrap(),
            reason: PinReassignmentReason::SexRedetermined,
            legal_basis: legal_basis(),
        },
    );
    let after = log.timeline();
    assert_eq!(*after.view(AsKnown::Now), before);
    assert_eq!(after.last_known().map(|known| known.position), Some(20));
    assert_eq!(after.view(AsKnown::Now).last_folded_position(), Some(10));
}

/// A history with late records, a correction, an annulment, a split, the reorganisation and a
/// recoding: every "as known" view must equal the view of a timeline built from that prefix, and
/// pushing one event at a time must answer like building at once.
fn busy_log() -> Log {
    let mut log = Log::default();
    log.record(
        "2015-01-05",
        permanent(
            "2015-01-05",
            "legacy:00004",
            D1,
            membership(H1, Relationship::ConDe),
        ),
    );
    let late = permanent(
        "2022-01-10",
        "legacy:00007",
        D2,
        membership(H2, Relationship::ChuHo),
    );
    let late_ref = log.record("2024-03-01", late.clone());
    let temp = log.record(
        "2024-04-01",
        temporary("2024-04-01", "2024-10-31", "legacy:00001", D3),
    );
    log.record(
        "2024-06-01",
        annulment(temp, RegistrationKind::Temporary, "2024-06-01"),
    );
    log.record(
        "2024-06-02",
        temporary_deleted(
            "2024-06-02",
            TemporaryDeletionGround::Annulled,
            "legacy:00001",
            D3,
        ),
    );
    log.record(
        "2024-09-01",
        HouseholdSplit {
            household: H2,
            new_household: H1,
            effective_on: day("2024-09-01"),
            dwelling: D2,
            address: address("legacy:00007", "Số 5 phố Phúc Xá"),
            new_head: ME,
            members: Vec::new(),
            consents: Vec::new(),
            residence_file_number: None,
            legal_basis: legal_basis(),
            application: None,
        },
    );
    log.record(
        "2025-02-01",
        correction(
            &log,
            late_ref,
            PermanentResidenceRegistered {
                effective_on: day("2022-03-01"),
                ..late
            },
        ),
    );
    log.record("2025-07-01", AdministrativeUnitsReorganized::embedded());
    log.record(
        "2025-08-20",
        recoded(D2, "2025-08-15", "legacy:00007", "2025:00025"),
    );
    log.record(
        "2025-09-01",
        absence("2025-09-01", "2026-08-31", "Hàn Quốc"),
    );
    log
}

const PROBE_DATES: [&str; 8] = [
    "2015-01-05",
    "2022-02-01",
    "2022-03-01",
    "2024-05-01",
    "2024-09-01",
    "2025-07-01",
    "2025-08-15",
    "2026-01-01",
];

#[test]
fn every_as_known_view_equals_the_view_of_the_prefix() {
    let log = busy_log();
    let timeline = log.timeline();
    for (known, _, _) in &log.events {
        let prefix = Timeline::build(ME, log.up_to(known.position)).unwrap();
        let expected = prefix.view(AsKnown::Now);
        assert_eq!(
            *timeline.view(AsKnown::AtPosition(known.position)),
            *expected,
            "at position {}",
            known.position
        );
        assert_eq!(
            *timeline.view(AsKnown::AtTime(known.recorded_at_micros)),
            *expected,
            "at time {}",
            known.recorded_at_micros
        );
        for date in PROBE_DATES {
            assert_eq!(
                timeline.residence_on(day(date), AsKnown::AtPosition(known.position)),
                expected.residence_on(day(date)),
                "{date} at position {}",
                known.position
            );
        }
    }
    // Before the first event nothing is known.
    assert!(timeline.history(AsKnown::AtPosition(0)).is_empty());
    // A position past the last event is "now".
    assert_eq!(
        *timeline.view(AsKnown::AtPosition(u64::MAX)),
        *timeline.view(AsKnown::Now)
    );
}

#[test]
fn pushing_one_event_at_a_time_answers_like_building_at_once() {
    let log = busy_log();
    let mut pushed = Timeline::new(ME);
    for event in log.up_to(u64::MAX) {
        pushed.push(event).unwrap();
        // Asking between pushes fills the cache, which the next push must invalidate.
        let built = Timeline::build(ME, log.up_to(event.known.position)).unwrap();
        for date in PROBE_DATES {
            assert_eq!(
                pushed.residence_on(day(date), AsKnown::Now),
                built.residence_on(day(date), AsKnown::Now),
                "{date} after position {}",
                event.known.position
            );
        }
    }
    assert_eq!(
        pushed.history(AsKnown::Now),
        log.timeline().history(AsKnown::Now)
    );
}

#[test]
fn the_busy_history_reads_as_the_rules_say() {
    let timeline = busy_log().timeline();
    let on = |date| timeline.residence_on(day(date), AsKnown::Now);
    // The corrected late registration superseded the first on its corrected date.
    assert_eq!(
        unit_on(&on("2022-02-01").permanent.unwrap()),
        unit("legacy:00004")
    );
    let moved = on("2022-03-01").permanent.unwrap();
    assert_eq!(unit_on(&moved), unit("legacy:00007"));
    assert_eq!(moved.membership, Some(membership(H2, Relationship::ChuHo)));
    // The annulled temporary registration never held.
    assert_eq!(on("2024-05-01").temporary, None);
    // The split moved the person to H1 as its head, at the same registration.
    let split = on("2024-09-01").permanent.unwrap();
    assert_eq!(split.membership, Some(membership(H1, Relationship::ChuHo)));
    assert_eq!(split.start, day("2022-03-01"));
    // Reorganisation, then recoding of the dwelling.
    assert_eq!(
        unit_on(&on("2025-07-01").permanent.unwrap()),
        unit("2025:00008")
    );
    assert_eq!(
        unit_on(&on("2025-08-15").permanent.unwrap()),
        unit("2025:00025")
    );
    assert!(on("2026-01-01").absence.is_some());
}

#[test]
fn events_must_come_in_ledger_order() {
    let mut log = Log::default();
    log.record(
        "2019-03-15",
        permanent(
            "2019-03-15",
            "legacy:00001",
            D1,
            membership(H1, Relationship::ChuHo),
        ),
    );
    let event = Event::from(temporary("2024-01-01", "2024-12-31", "legacy:00004", D2));
    let mut timeline = log.timeline();
    let first = timeline.last_known().unwrap();

    let same_position = TimelineEvent {
        known: first,
        event_id: EventId::from_bytes([7; 16]),
        event: &event,
    };
    assert_eq!(
        timeline.push(same_position),
        Err(TimelineError::PositionNotAscending {
            previous: first.position,
            position: first.position,
        })
    );
    let earlier_time = TimelineEvent {
        known: Known {
            position: first.position + 1,
            recorded_at_micros: first.recorded_at_micros - 1,
        },
        event_id: EventId::from_bytes([7; 16]),
        event: &event,
    };
    assert_eq!(
        timeline.push(earlier_time),
        Err(TimelineError::TimeWentBackwards {
            position: first.position + 1,
            previous_micros: first.recorded_at_micros,
            recorded_at_micros: first.recorded_at_micros - 1,
        })
    );
    // A refused event leaves the timeline as it was.
    assert_eq!(timeline.last_known(), Some(first));
    assert_eq!(timeline.history(AsKnown::Now).len(), 1);
}

#[test]
fn a_reorganisation_naming_a_foreign_conversion_table_is_refused() {
    let mut log = Log::default();
    log.record(
        "2025-07-01",
        AdministrativeUnitsReorganized {
            conversion_table_blake3: Blake3Digest::from_bytes([0; 32]),
            ..AdministrativeUnitsReorganized::embedded()
        },
    );
    let result = Timeline::build(ME, log.up_to(u64::MAX));
    assert_eq!(
        result.err(),
        Some(TimelineError::ForeignConversionTable { position: 10 })
    );
}

#[test]
fn address_on_maps_a_legacy_address_through_the_recodings_and_the_conversion_table() {
    assert!(!reorganisation_applies(day("2025-06-30")));
    assert!(reorganisation_applies(day("2025-07-01")));

    let registered = address("legacy:00007", "Số 5 phố Phúc Xá");
    let recodings = [
        recoded(D1, "2025-08-15", "legacy:00007", "2025:00025"),
        // Another dwelling's recoding does not apply.
        recoded(D2, "2025-07-20", "legacy:00007", "2025:00097"),
    ];
    let on = |date| address_on(&registered, D1, day(date), &recodings).unit;
    assert_eq!(on("2025-06-30"), unit("legacy:00007"));
    assert_eq!(on("2025-07-01"), unit("2025:00008"));
    assert_eq!(on("2025-07-20"), unit("2025:00008"));
    assert_eq!(on("2025-08-15"), unit("2025:00025"));
    assert_eq!(
        address_on(&registered, D1, day("2025-08-15"), &recodings).street,
        registered.street
    );
    // A whole merger needs no recoding.
    let whole = address("legacy:00001", "Số 5 phố Phúc Xá");
    assert_eq!(
        address_on(&whole, D1, day("2025-07-01"), []).unit,
        unit("2025:00097")
    );
}

#[test]
fn tags_of_a_correction_reach_the_corrected_persons_chain() {
    // The fold relies on a correction carrying the corrected event's tags, so that it sits in the
    // chain of the person whose registration it removes.
    let mut log = Log::default();
    let wrong = permanent(
        "2022-01-10",
        "legacy:00001",
        D1,
        membership(H1, Relationship::ChuHo),
    );
    let wrong_ref = log.record("2022-01-10", wrong.clone());
    let fixed = correction(
        &log,
        wrong_ref,
        PermanentResidenceRegistered {
            person: SPOUSE,
            ..wrong
        },
    );
    let tags = Event::from(fixed).tags();
    assert!(tags.contains(&Tag::Person(ME)));
    assert!(tags.contains(&Tag::Person(SPOUSE)));
}
