//! Deletions (Art 24, 29), detected grounds and annulments (Art 35), and the head vacancy they
//! may leave (I6).

use residence_domain::command::*;
use residence_domain::context::Actor;
use residence_domain::event::*;
use residence_domain::grounds::{Initiator, PermanentDeletionGround, TemporaryDeletionGround};
use residence_domain::rejection::Rejection;
use residence_domain::relationship::Relationship;
use residence_domain::state::{State, VacancyCause};

use crate::harness::*;

fn deleted(
    n: u64,
    h: u64,
    ground: PermanentDeletionGround,
    initiator: Initiator,
    on: &str,
    legal: &str,
) -> Event {
    Event::PermanentResidenceDeleted(PermanentResidenceDeleted {
        person: person(n),
        effective_on: d(on),
        ground,
        initiator,
        address: home1().1,
        dwelling: home1().0,
        household: household(h),
        legal_basis: basis(legal),
        application: None,
    })
}

#[test]
fn a_member_who_settles_abroad_is_deleted_on_request() {
    given(family())
        .when(delete_permanent(
            BINH,
            1,
            PermanentDeletionGround::SettledAbroad,
            Requester::PersonConcerned,
            "2024-03-01",
        ))
        .then([deleted(
            BINH,
            1,
            PermanentDeletionGround::SettledAbroad,
            Initiator::Person,
            "2024-03-01",
            "Luật Cư trú 2020, Điều 24.1.b",
        )]);
}

#[test]
fn ground_not_allowed_for_requester_death_is_ex_officio() {
    let rejection = given(family())
        .when(delete_permanent(
            BINH,
            1,
            PermanentDeletionGround::Death,
            Requester::Household,
            "2024-03-01",
        ))
        .then_reject("ground_not_allowed_for_requester");
    assert_eq!(
        rejection,
        Rejection::GroundNotAllowedForRequester {
            ground: "24.1.a",
            requester: Requester::Household
        }
    );
}

#[test]
fn the_heads_death_leaves_the_household_head_vacant() {
    let decision = given(family())
        .when(delete_permanent(
            AN,
            1,
            PermanentDeletionGround::Death,
            Requester::ExOfficio,
            "2024-03-01",
        ))
        .then_warn("household_head_vacated");
    assert_eq!(
        decision.events,
        vec![deleted(
            AN,
            1,
            PermanentDeletionGround::Death,
            Initiator::ExOfficio,
            "2024-03-01",
            "Luật Cư trú 2020, Điều 24.1.a",
        )]
    );
    let mut events = family();
    events.extend(decision.events);
    let state = State::from_events(&events);
    let record = state.household(household(1)).unwrap();
    assert_eq!(record.head, None);
    assert_eq!(record.vacancy, Some(VacancyCause::HeadDied));
    assert_eq!(
        state.person(person(AN)).unwrap().died_on,
        Some(d("2024-03-01"))
    );
}

#[test]
fn an_ex_officio_deletion_of_the_head_also_leaves_the_post_vacant() {
    given(family())
        .when(delete_permanent(
            AN,
            1,
            PermanentDeletionGround::LongAbsence,
            Requester::ExOfficio,
            "2024-03-01",
        ))
        .then_warn("household_head_vacated");
}

#[test]
fn new_head_not_expected_when_the_post_falls_vacant_by_law() {
    let mut command = delete_permanent(
        AN,
        1,
        PermanentDeletionGround::Death,
        Requester::ExOfficio,
        "2024-03-01",
    );
    command.head_succession = Some(HeadSuccession {
        new_head: person(BINH),
        members: vec![member(CUONG, Relationship::ConDe)],
        court_decision: None,
    });
    given(family())
        .when(command)
        .then_reject("new_head_not_expected");
}

#[test]
fn household_head_missing_when_the_head_leaves_on_request() {
    given(family())
        .when(delete_permanent(
            AN,
            1,
            PermanentDeletionGround::SettledAbroad,
            Requester::PersonConcerned,
            "2024-03-01",
        ))
        .then_reject("household_head_missing");
}

#[test]
fn a_head_leaving_on_request_names_the_new_head() {
    let mut command = delete_permanent(
        AN,
        1,
        PermanentDeletionGround::SettledAbroad,
        Requester::PersonConcerned,
        "2024-03-01",
    );
    command.head_succession = Some(HeadSuccession {
        new_head: person(BINH),
        members: vec![member(CUONG, Relationship::ConDe)],
        court_decision: None,
    });
    let decision = given(family()).when(command).accepted();
    assert_eq!(decision.events.len(), 2);
    assert!(matches!(
        &decision.events[1],
        Event::HouseholdHeadChanged(change)
            if change.new_head == person(BINH)
                && change.previous_head == Some(person(AN))
                && change.reason == HeadChangeReason::HeadLeft
    ));
}

#[test]
fn members_not_restated_in_a_succession() {
    let mut command = delete_permanent(
        AN,
        1,
        PermanentDeletionGround::SettledAbroad,
        Requester::PersonConcerned,
        "2024-03-01",
    );
    command.head_succession = Some(HeadSuccession {
        new_head: person(BINH),
        members: Vec::new(),
        court_decision: None,
    });
    let rejection = given(family())
        .when(command)
        .then_reject("members_not_restated");
    assert_eq!(
        rejection,
        Rejection::MembersNotRestated {
            household: household(1),
            missing: vec![person(CUONG)],
            unexpected: Vec::new()
        }
    );
}

#[test]
fn no_active_permanent_registration() {
    given(family())
        .when(delete_permanent(
            EM,
            1,
            PermanentDeletionGround::SettledAbroad,
            Requester::PersonConcerned,
            "2024-03-01",
        ))
        .then_reject("no_active_permanent_registration");
}

#[test]
fn deletion_before_registration_start() {
    given(family())
        .when(delete_permanent(
            BINH,
            1,
            PermanentDeletionGround::SettledAbroad,
            Requester::PersonConcerned,
            "2023-01-15",
        ))
        .then_reject("deletion_before_registration_start");
}

#[test]
fn household_mismatch_a_deletion_names_the_household_left() {
    given(family())
        .when(delete_permanent(
            BINH,
            2,
            PermanentDeletionGround::SettledAbroad,
            Requester::PersonConcerned,
            "2024-03-01",
        ))
        .then_reject("household_mismatch");
}

#[test]
fn annulment_missing() {
    given(family())
        .when(delete_permanent(
            BINH,
            1,
            PermanentDeletionGround::Annulled,
            Requester::ExOfficio,
            "2024-03-01",
        ))
        .then_reject("annulment_missing");
}

#[test]
fn absence_accounted_for() {
    let mut events = family();
    extend_history(
        &mut events,
        [DeclareTemporaryAbsence {
            person: person(BINH),
            effective_on: d("2024-01-01"),
            until: d("2025-01-31"),
            clause: AbsenceClause::LongAbsence,
            destination: PlaceText::parse("Nhật Bản").unwrap(),
            reason: reason("đi làm việc"),
            legal_basis: None,
            application: None,
        }
        .into()],
    );
    given(events)
        .when(delete_permanent(
            BINH,
            1,
            PermanentDeletionGround::LongAbsence,
            Requester::Household,
            "2024-06-01",
        ))
        .then_reject("absence_accounted_for");
}

#[test]
fn death_ends_the_temporary_registration_too() {
    let mut events = family();
    extend_history(
        &mut events,
        [temporary(AN, home3(), "2024-01-01", "2024-12-31").into()],
    );
    let decision = given(events)
        .when(delete_permanent(
            BINH,
            1,
            PermanentDeletionGround::Death,
            Requester::ExOfficio,
            "2024-03-01",
        ))
        .accepted();
    assert_eq!(
        decision.events.len(),
        1,
        "Bình has no temporary registration"
    );
    let mut events = family();
    extend_history(
        &mut events,
        [temporary(BINH, home3(), "2024-01-01", "2024-12-31").into()],
    );
    let decision = given(events)
        .when(delete_permanent(
            BINH,
            1,
            PermanentDeletionGround::Death,
            Requester::ExOfficio,
            "2024-03-01",
        ))
        .accepted();
    assert_eq!(
        decision.events[1],
        Event::TemporaryResidenceDeleted(TemporaryResidenceDeleted {
            person: person(BINH),
            effective_on: d("2024-03-01"),
            ground: TemporaryDeletionGround::Death,
            initiator: Initiator::ExOfficio,
            address: home3().1,
            dwelling: home3().0,
            household: None,
            legal_basis: basis("Luật Cư trú 2020, Điều 29.1.a"),
            application: None,
        })
    );
}

// --- Temporary deletion -------------------------------------------------------------------

fn em_in_saigon() -> Vec<Event> {
    let mut events = everyone();
    extend_history(
        &mut events,
        [temporary(EM, home3(), "2024-01-01", "2024-12-31").into()],
    );
    events
}

fn delete_temporary(
    ground: TemporaryDeletionGround,
    requester: Requester,
    on: &str,
) -> DeleteTemporary {
    DeleteTemporary {
        person: person(EM),
        dwelling: home3().0,
        household: None,
        effective_on: d(on),
        ground,
        requester,
        head_succession: None,
        legal_basis: None,
        application: None,
    }
}

#[test]
fn a_temporary_registration_is_deleted_when_the_lease_ends() {
    given(em_in_saigon())
        .when(delete_temporary(
            TemporaryDeletionGround::LodgingEnded,
            Requester::PersonConcerned,
            "2024-06-01",
        ))
        .then([Event::TemporaryResidenceDeleted(
            TemporaryResidenceDeleted {
                person: person(EM),
                effective_on: d("2024-06-01"),
                ground: TemporaryDeletionGround::LodgingEnded,
                initiator: Initiator::Person,
                address: home3().1,
                dwelling: home3().0,
                household: None,
                legal_basis: basis("Luật Cư trú 2020, Điều 29.1.e"),
                application: None,
            },
        )]);
}

#[test]
fn a_temporary_deletion_on_an_ex_officio_ground_needs_the_police() {
    given(em_in_saigon())
        .when(delete_temporary(
            TemporaryDeletionGround::PermanentAtSamePlace,
            Requester::PersonConcerned,
            "2024-06-01",
        ))
        .then_reject("ground_not_allowed_for_requester");
}

#[test]
fn no_active_temporary_registration_after_the_term() {
    given(em_in_saigon())
        .when(delete_temporary(
            TemporaryDeletionGround::LodgingEnded,
            Requester::PersonConcerned,
            "2025-01-01",
        ))
        .then_reject("no_active_temporary_registration");
}

#[test]
fn a_temporary_deletion_before_the_term_starts() {
    given(em_in_saigon())
        .when(delete_temporary(
            TemporaryDeletionGround::LodgingEnded,
            Requester::PersonConcerned,
            "2023-12-01",
        ))
        .then_reject("deletion_before_registration_start");
}

#[test]
fn a_temporary_deletion_names_the_temporary_household() {
    let mut command = delete_temporary(
        TemporaryDeletionGround::LodgingEnded,
        Requester::PersonConcerned,
        "2024-06-01",
    );
    command.household = Some(household(7));
    given(em_in_saigon())
        .when(command)
        .then_reject("household_mismatch");
}

// --- Detected grounds -------------------------------------------------------------------------

fn ground(ground: DeletionGround, source: DetectionSource, on: &str) -> RecordDeletionGround {
    RecordDeletionGround {
        person: person(BINH),
        effective_on: d(on),
        ground,
        source,
        legal_basis: None,
    }
}

#[test]
fn a_timer_detects_twelve_months_of_absence() {
    given(family())
        .by(Actor::RegisterTimer)
        .when(ground(
            DeletionGround::Permanent(PermanentDeletionGround::LongAbsence),
            DetectionSource::Timer,
            "2025-02-01",
        ))
        .then([Event::DeletionGroundDetected(DeletionGroundDetected {
            person: person(BINH),
            effective_on: d("2025-02-01"),
            ground: DeletionGround::Permanent(PermanentDeletionGround::LongAbsence),
            source: DetectionSource::Timer,
            legal_basis: basis("Luật Cư trú 2020, Điều 24.1.d"),
        })]);
}

#[test]
fn actor_not_authorised_a_timer_does_not_file_reports() {
    given(family())
        .by(Actor::RegisterTimer)
        .when(ground(
            DeletionGround::Permanent(PermanentDeletionGround::LongAbsence),
            DetectionSource::Report,
            "2025-02-01",
        ))
        .then_reject("actor_not_authorised");
}

#[test]
fn a_ground_against_a_registration_that_does_not_hold() {
    given(family())
        .by(Actor::PopulationDatabase)
        .when(ground(
            DeletionGround::Temporary(TemporaryDeletionGround::Death),
            DetectionSource::PopulationDatabase,
            "2025-02-01",
        ))
        .then_reject("no_active_temporary_registration");
    given(family())
        .by(Actor::PopulationDatabase)
        .when(ground(
            DeletionGround::Permanent(PermanentDeletionGround::Death),
            DetectionSource::PopulationDatabase,
            "2022-02-01",
        ))
        .then_reject("no_active_permanent_registration");
}

// --- Annulment --------------------------------------------------------------------------------

/// In `family()`, event 7 is Bình's registration.
fn annul(by: AnnulmentAuthority) -> AnnulRegistration {
    AnnulRegistration {
        person: person(BINH),
        annuls: event_id(7),
        registration: RegistrationKind::Permanent,
        effective_on: d("2024-04-01"),
        decision: decision_ref("21/QĐ-CAP", "2024-04-01"),
        decided_by: by,
        reason: reason("hồ sơ giả mạo giấy tờ chỗ ở"),
        legal_basis: None,
    }
}

#[test]
fn an_annulled_registration_is_deleted_the_same_day() {
    assert!(matches!(
        &family()[7],
        Event::PermanentResidenceRegistered(e) if e.person == person(BINH)
    ));
    given(family())
        .when(annul(AnnulmentAuthority::RegisteringOffice))
        .then([
            Event::ResidenceRegistrationAnnulled(ResidenceRegistrationAnnulled {
                person: person(BINH),
                annuls: event_id(7),
                registration: RegistrationKind::Permanent,
                effective_on: d("2024-04-01"),
                decision: decision_ref("21/QĐ-CAP", "2024-04-01"),
                decided_by: AnnulmentAuthority::RegisteringOffice,
                reason: reason("hồ sơ giả mạo giấy tờ chỗ ở"),
                legal_basis: basis("Luật Cư trú 2020, Điều 35"),
            }),
            deleted(
                BINH,
                1,
                PermanentDeletionGround::Annulled,
                Initiator::ExOfficio,
                "2024-04-01",
                "Luật Cư trú 2020, Điều 24.1.c",
            ),
        ]);
}

#[test]
fn a_complex_case_is_annulled_by_the_direct_superior() {
    given(family())
        .when(annul(AnnulmentAuthority::DirectSuperior))
        .then_reject("actor_not_authorised");
    given(family())
        .by(Actor::SuperiorOfficer)
        .when(annul(AnnulmentAuthority::DirectSuperior))
        .accepted();
}

#[test]
fn annulled_event_unknown() {
    given(family())
        .when(AnnulRegistration {
            annuls: event_id(6),
            ..annul(AnnulmentAuthority::RegisteringOffice)
        })
        .then_reject("annulled_event_unknown");
}

#[test]
fn registration_already_annulled() {
    let mut events = family();
    events.extend(
        given(family())
            .when(annul(AnnulmentAuthority::RegisteringOffice))
            .accepted()
            .events,
    );
    given(events)
        .when(AnnulRegistration {
            effective_on: d("2024-05-01"),
            ..annul(AnnulmentAuthority::RegisteringOffice)
        })
        .then_reject("registration_already_annulled");
}

#[test]
fn after_an_annulment_ground_c_may_be_applied() {
    // An annulment of a registration recorded without its deletion (an import) leaves ground c
    // for an officer to apply.
    let mut events = family();
    events.push(Event::ResidenceRegistrationAnnulled(
        ResidenceRegistrationAnnulled {
            person: person(BINH),
            annuls: event_id(7),
            registration: RegistrationKind::Permanent,
            effective_on: d("2024-04-01"),
            decision: decision_ref("21/QĐ-CAP", "2024-04-01"),
            decided_by: AnnulmentAuthority::RegisteringOffice,
            reason: reason("hồ sơ giả mạo giấy tờ chỗ ở"),
            legal_basis: basis("Luật Cư trú 2020, Điều 35"),
        },
    ));
    given(events)
        .when(delete_permanent(
            BINH,
            1,
            PermanentDeletionGround::Annulled,
            Requester::ExOfficio,
            "2024-04-02",
        ))
        .accepted();
}
