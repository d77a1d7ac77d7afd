//! Permanent registration (Art 20–23): bases, kinship, consents, floor area, barred places, and
//! what a new registration closes (I1, I2, I5, I6).

use residence_domain::address::Address;
use residence_domain::command::*;
use residence_domain::context::Actor;
use residence_domain::event::*;
use residence_domain::grounds::{Initiator, PermanentDeletionGround, TemporaryDeletionGround};
use residence_domain::ids::DwellingId;
use residence_domain::rejection::Rejection;
use residence_domain::relationship::Relationship;
use residence_domain::rules::Dependency;

use crate::harness::*;

fn established(h: u64, home: (DwellingId, Address), on: &str) -> Event {
    Event::HouseholdEstablished(HouseholdEstablished {
        household: household(h),
        effective_on: d(on),
        kind: RegistrationKind::Permanent,
        address: home.1,
        dwelling: home.0,
        residence_file_number: None,
        legal_basis: basis("Luật Cư trú 2020, Điều 10"),
    })
}

fn registered(command: &RegisterPermanent, relationship: Relationship, legal: &str) -> Event {
    Event::PermanentResidenceRegistered(PermanentResidenceRegistered {
        person: command.person,
        effective_on: command.effective_on,
        basis: command.basis,
        address: command.address.clone(),
        dwelling: command.dwelling,
        membership: Membership {
            household: command.household.household(),
            relationship,
        },
        previous_household: command.leaving_household,
        previous_dwelling: None,
        floor_area: command.floor_area,
        consents: command.consents.clone(),
        legal_basis: basis(legal),
        application: command.application,
    })
}

/// The registration `event` as closing the person's registration at `home`, which decide names
/// from the state (the command does not carry it).
fn leaving(event: Event, home: (DwellingId, Address)) -> Event {
    match event {
        Event::PermanentResidenceRegistered(mut registration) => {
            registration.previous_dwelling = Some(home.0);
            Event::PermanentResidenceRegistered(registration)
        }
        other => panic!("not a permanent registration: {other:?}"),
    }
}

/// A restriction of `home` from `on`.
fn barred(home: (DwellingId, Address), on: &str) -> Event {
    Event::DwellingRestrictionRecorded(DwellingRestrictionRecorded {
        dwelling: home.0,
        effective_on: d(on),
        kind: RestrictionKind::DemolitionDecision,
        address: home.1,
        decision: None,
        legal_basis: basis("Luật Cư trú 2020, Điều 23.5"),
    })
}

/// Home 1 as addressed after the reorganisation (Phúc Xá went whole into Hồng Hà).
fn home1_2025() -> (DwellingId, Address) {
    (dwelling(1), address(y2025(97), "Số 1 phố Phúc Xá"))
}

#[test]
fn a_person_registers_in_their_own_home_founding_a_household() {
    let command = own_home(EM, 5, home3(), "2024-03-01");
    given(everyone()).when(command.clone()).then([
        established(5, home3(), "2024-03-01"),
        registered(&command, Relationship::ChuHo, "Luật Cư trú 2020, Điều 20.1"),
    ]);
}

#[test]
fn a_wife_joins_her_husband() {
    let events = history([
        fixture_person(AN).into(),
        fixture_person(BINH).into(),
        own_home(AN, 1, home1(), "2023-01-10").into(),
    ]);
    let command = join(BINH, 1, AN, Relationship::Vo, home1(), "2023-02-01");
    given(events).when(command.clone()).then([registered(
        &command,
        Relationship::Vo,
        "Luật Cư trú 2020, Điều 20.2.a",
    )]);
}

#[test]
fn an_elderly_aunt_joins_her_nephew_under_20_2_b() {
    let command = join(DUNG, 1, AN, Relationship::DiRuot, home1(), "2024-05-01");
    given(family()).when(command.clone()).then([registered(
        &command,
        Relationship::DiRuot,
        "Luật Cư trú 2020, Điều 20.2.b",
    )]);
}

#[test]
fn a_dependent_joins_a_sibling_under_20_2_b() {
    let mut command = join(EM, 1, AN, Relationship::EmRuot, home1(), "2024-05-01");
    command.dependency = Some(Dependency::UnableToWork);
    given(family()).when(command).accepted();
}

#[test]
fn a_minor_joins_a_grandmother_under_20_2_c() {
    let mut events = family();
    extend_history(
        &mut events,
        [own_home(DUNG, 4, home2(), "2023-03-01").into()],
    );
    let mut command = join(
        CUONG,
        4,
        DUNG,
        Relationship::ChauNgoai,
        home2(),
        "2024-05-01",
    );
    command.leaving_household = Some(household(1));
    command
        .consents
        .push(consent(ConsentRole::ParentOrGuardian, Some(BINH)));
    let decision = given(events).when(command.clone()).then([leaving(
        registered(
            &command,
            Relationship::ChauNgoai,
            "Luật Cư trú 2020, Điều 20.2.c",
        ),
        home1(),
    )]);
    assert!(decision.warnings.is_empty());
}

#[test]
fn relationship_not_eligible_for_join() {
    let rejection = given(family())
        .when(join(EM, 1, AN, Relationship::EmRuot, home1(), "2024-05-01"))
        .then_reject("relationship_not_eligible_for_join");
    assert_eq!(
        rejection,
        Rejection::RelationshipNotEligibleForJoin {
            relationship: Relationship::EmRuot,
            age_years: 33
        }
    );
}

#[test]
fn basis_requires_joining_household() {
    let command = RegisterPermanent {
        basis: PermanentBasis::JoinRelative,
        ..own_home(EM, 5, home3(), "2024-03-01")
    };
    given(everyone())
        .when(command)
        .then_reject("basis_requires_joining_household");
}

#[test]
fn relationship_invalid_a_joining_member_is_not_head() {
    given(family())
        .when(join(
            DUNG,
            1,
            AN,
            Relationship::ChuHo,
            home1(),
            "2024-05-01",
        ))
        .then_reject("relationship_invalid");
}

#[test]
fn consent_missing_the_owner_must_agree() {
    let mut command = join(DUNG, 1, AN, Relationship::DiRuot, home1(), "2024-05-01");
    command
        .consents
        .retain(|consent| consent.role != ConsentRole::DwellingOwner);
    let rejection = given(family()).when(command).then_reject("consent_missing");
    assert_eq!(
        rejection,
        Rejection::ConsentMissing {
            role: ConsentRole::DwellingOwner
        }
    );
}

#[test]
fn consent_missing_a_minor_needs_a_parent_i8() {
    let events = history([
        fixture_person(AN).into(),
        fixture_person(CUONG).into(),
        own_home(AN, 1, home1(), "2023-01-10").into(),
    ]);
    let rejection = given(events)
        .when(join(
            CUONG,
            1,
            AN,
            Relationship::ConDe,
            home1(),
            "2023-02-01",
        ))
        .then_reject("consent_missing");
    assert_eq!(
        rejection,
        Rejection::ConsentMissing {
            role: ConsentRole::ParentOrGuardian
        }
    );
}

#[test]
fn a_court_fixed_residence_needs_no_parental_consent() {
    let events = history([
        fixture_person(AN).into(),
        fixture_person(CUONG).into(),
        own_home(AN, 1, home1(), "2023-01-10").into(),
    ]);
    let mut command = join(CUONG, 1, AN, Relationship::ConDe, home1(), "2023-02-01");
    command.court_fixed_residence = Some(decision_ref("05/2023/QĐ-TA", "2023-01-20"));
    given(events).when(command).accepted();
}

#[test]
fn consent_by_wrong_person() {
    let mut command = join(DUNG, 1, AN, Relationship::DiRuot, home1(), "2024-05-01");
    command.consents[0] = consent(ConsentRole::HouseholdHead, Some(BINH));
    given(family())
        .when(command)
        .then_reject("consent_by_wrong_person");
}

fn rented(n: u64, h: u64, home: (DwellingId, Address), on: &str, area: u32) -> RegisterPermanent {
    RegisterPermanent {
        basis: PermanentBasis::RentedBorrowedShared,
        floor_area: Some(FloorArea::from_tenths(area * 10).unwrap()),
        consents: vec![consent(ConsentRole::DwellingOwner, Some(AN))],
        ..own_home(n, h, home, on)
    }
}

#[test]
fn a_tenant_registers_with_enough_floor_area() {
    let command = rented(EM, 5, home1(), "2024-03-01", 60);
    given(family()).when(command.clone()).then([
        established(5, home1(), "2024-03-01"),
        registered(&command, Relationship::ChuHo, "Luật Cư trú 2020, Điều 20.3"),
    ]);
}

#[test]
fn floor_area_below_minimum_in_hanoi_inner_districts() {
    // Three persons are registered at home 1 (Ba Đình); with the tenant four need 4 × 15 m².
    let rejection = given(family())
        .when(rented(EM, 5, home1(), "2024-03-01", 40))
        .then_reject("floor_area_below_minimum");
    assert_eq!(
        rejection,
        Rejection::FloorAreaBelowMinimum {
            floor_area: FloorArea::from_tenths(400).unwrap(),
            persons: 4,
            minimum_tenths_per_person: 150
        }
    );
}

#[test]
fn the_floor_area_rule_follows_the_date() {
    // Before the Hà Nội rule (chosen effective 2024-01-01) the national 8 m² applied.
    given(family())
        .when(rented(EM, 5, home1(), "2023-06-01", 40))
        .accepted();
}

#[test]
fn floor_area_missing() {
    let command = RegisterPermanent {
        floor_area: None,
        ..rented(EM, 5, home2(), "2024-03-01", 40)
    };
    given(family())
        .when(command)
        .then_reject("floor_area_missing");
}

#[test]
fn place_barred_art23() {
    let mut events = everyone();
    events.push(barred(home3(), "2024-01-01"));
    let rejection = given(events)
        .when(own_home(EM, 5, home3(), "2024-03-01"))
        .then_reject("place_barred_art23");
    assert_eq!(
        rejection,
        Rejection::PlaceBarredArt23 {
            dwelling: dwelling(3),
            kind: RestrictionKind::DemolitionDecision
        }
    );
}

#[test]
fn from_2026_07_01_a_spouse_may_join_at_a_barred_place() {
    let mut events = history([
        fixture_person(AN).into(),
        fixture_person(BINH).into(),
        own_home(AN, 1, home1(), "2023-01-10").into(),
    ]);
    events.push(barred(home1(), "2024-01-01"));
    let on_the_eve = join(BINH, 1, AN, Relationship::Vo, home1_2025(), "2026-06-30");
    given(events.clone())
        .when(on_the_eve)
        .then_reject("place_barred_art23");
    let from_tt116 = join(BINH, 1, AN, Relationship::Vo, home1_2025(), "2026-07-01");
    given(events).when(from_tt116).accepted();
}

#[test]
fn unit_not_valid_on_date_a_legacy_ward_after_the_reorganisation() {
    let rejection = given(everyone())
        .when(own_home(EM, 5, home3(), "2025-07-01"))
        .then_reject("unit_not_valid_on_date");
    assert_eq!(
        rejection,
        Rejection::UnitNotValidOnDate {
            unit: tan_dinh(),
            date: d("2025-07-01")
        }
    );
}

#[test]
fn unit_not_valid_on_date_a_2025_ward_before_the_reorganisation() {
    let mut command = own_home(EM, 5, home3(), "2025-06-30");
    command.address = address(y2025(26737), "Số 3 đường Hai Bà Trưng");
    given(everyone())
        .when(command)
        .then_reject("unit_not_valid_on_date");
}

#[test]
fn unit_unknown() {
    let mut command = own_home(EM, 5, home3(), "2024-03-01");
    command.address = address(legacy(99999), "Số 3");
    given(everyone()).when(command).then_reject("unit_unknown");
}

#[test]
fn dwelling_address_mismatch() {
    let mut command = own_home(EM, 5, home1(), "2024-03-01");
    command.address = address(phuc_xa(), "Số 99 phố Phúc Xá");
    given(family())
        .when(command)
        .then_reject("dwelling_address_mismatch");
}

#[test]
fn a_dwelling_keeps_its_address_across_the_reorganisation() {
    // Home 1 was registered under legacy Phúc Xá; after 2025-07-01 it is addressed in Hồng Hà.
    let command = join(
        DUNG,
        1,
        AN,
        Relationship::DiRuot,
        home1_2025(),
        "2025-08-01",
    );
    given(family()).when(command).accepted();
}

#[test]
fn person_not_recorded_i7() {
    given([])
        .when(own_home(EM, 5, home3(), "2024-03-01"))
        .then_reject("person_not_recorded");
}

#[test]
fn effective_date_in_future() {
    let mut command = own_home(EM, 5, home3(), "2026-09-02");
    command.address = address(y2025(26737), "Số 3 đường Hai Bà Trưng");
    let rejection = given(everyone())
        .when(command)
        .then_reject("effective_date_in_future");
    assert_eq!(
        rejection,
        Rejection::EffectiveDateInFuture {
            effective_on: d("2026-09-02"),
            today: TODAY
        }
    );
}

#[test]
fn person_deceased() {
    let mut events = family();
    events.extend(
        given(family())
            .when(delete_permanent(
                BINH,
                1,
                PermanentDeletionGround::Death,
                Requester::ExOfficio,
                "2024-01-01",
            ))
            .accepted()
            .events,
    );
    given(events)
        .when(own_home(BINH, 5, home3(), "2024-03-01"))
        .then_reject("person_deceased");
}

// --- What a new registration closes -----------------------------------------------------------

#[test]
fn a_head_who_moves_names_the_new_head_in_the_same_decision() {
    let mut command = own_home(AN, 2, home2(), "2024-06-01");
    command.leaving_household = Some(household(1));
    command.head_succession = Some(HeadSuccession {
        new_head: person(BINH),
        members: vec![member(CUONG, Relationship::ConDe)],
        court_decision: None,
    });
    given(family()).when(command.clone()).then([
        established(2, home2(), "2024-06-01"),
        leaving(
            registered(&command, Relationship::ChuHo, "Luật Cư trú 2020, Điều 20.1"),
            home1(),
        ),
        Event::HouseholdHeadChanged(HouseholdHeadChanged {
            household: household(1),
            effective_on: d("2024-06-01"),
            previous_head: Some(person(AN)),
            new_head: person(BINH),
            reason: HeadChangeReason::HeadLeft,
            members: vec![member(CUONG, Relationship::ConDe)],
            court_decision: None,
            legal_basis: basis("Luật Cư trú 2020, Điều 26.1.a"),
            application: None,
        }),
    ]);
}

#[test]
fn household_head_missing_when_the_head_moves_alone() {
    let mut command = own_home(AN, 2, home2(), "2024-06-01");
    command.leaving_household = Some(household(1));
    given(family())
        .when(command)
        .then_reject("household_head_missing");
}

#[test]
fn new_head_not_expected_when_a_member_moves() {
    let mut command = own_home(BINH, 2, home2(), "2024-06-01");
    command.leaving_household = Some(household(1));
    command.head_succession = Some(HeadSuccession {
        new_head: person(CUONG),
        members: Vec::new(),
        court_decision: None,
    });
    given(family())
        .when(command)
        .then_reject("new_head_not_expected");
}

#[test]
fn household_mismatch_the_household_left_is_named_rightly() {
    let command = own_home(BINH, 2, home2(), "2024-06-01");
    let rejection = given(family())
        .when(command)
        .then_reject("household_mismatch");
    assert_eq!(
        rejection,
        Rejection::HouseholdMismatch {
            person: person(BINH),
            recorded: Some(household(1)),
            given: None
        }
    );
}

#[test]
fn permanent_registration_overlaps_when_backdated_before_the_current_start() {
    let mut command = own_home(BINH, 2, home2(), "2023-02-01");
    command.leaving_household = Some(household(1));
    let rejection = given(family())
        .when(command)
        .then_reject("permanent_registration_overlaps");
    assert_eq!(
        rejection,
        Rejection::PermanentRegistrationOverlaps {
            person: person(BINH),
            effective_on: d("2023-02-01"),
            existing_start: d("2023-02-01"),
            existing_end: None
        }
    );
}

#[test]
fn a_backdated_registration_may_not_reach_into_an_ended_one() {
    let mut events = family();
    let deleted = given(family())
        .when(delete_permanent(
            BINH,
            1,
            PermanentDeletionGround::SettledAbroad,
            Requester::PersonConcerned,
            "2024-01-01",
        ))
        .accepted()
        .events;
    events.extend(deleted);
    given(events.clone())
        .when(own_home(BINH, 2, home2(), "2023-12-01"))
        .then_reject("permanent_registration_overlaps");
    given(events)
        .when(own_home(BINH, 2, home2(), "2024-01-01"))
        .accepted();
}

#[test]
fn already_registered_there() {
    let mut command = join(BINH, 1, AN, Relationship::Vo, home1(), "2024-06-01");
    command.leaving_household = Some(household(1));
    given(family())
        .when(command)
        .then_reject("already_registered_there");
}

#[test]
fn household_unknown() {
    given(family())
        .when(join(EM, 9, AN, Relationship::Vo, home1(), "2024-06-01"))
        .then_reject("household_unknown");
}

#[test]
fn household_exists() {
    given(family())
        .when(own_home(EM, 1, home2(), "2024-06-01"))
        .then_reject("household_exists");
}

#[test]
fn household_kind_mismatch() {
    let mut events = everyone();
    let mut temporary_household = temporary(EM, home3(), "2024-01-01", "2024-12-31");
    temporary_household.household = Some(HouseholdChoice::Establish {
        household: household(7),
        residence_file_number: None,
    });
    events.extend(
        given(everyone())
            .when(temporary_household)
            .accepted()
            .events,
    );
    given(events)
        .when(join(DUNG, 7, EM, Relationship::MeDe, home3(), "2024-06-01"))
        .then_reject("household_kind_mismatch");
}

#[test]
fn household_not_at_dwelling() {
    given(family())
        .when(join(
            DUNG,
            1,
            AN,
            Relationship::DiRuot,
            home2(),
            "2024-06-01",
        ))
        .then_reject("household_not_at_dwelling");
}

#[test]
fn household_head_vacant_nobody_can_consent_as_head() {
    let mut events = family();
    events.extend(
        given(family())
            .when(delete_permanent(
                AN,
                1,
                PermanentDeletionGround::Death,
                Requester::ExOfficio,
                "2024-01-01",
            ))
            .accepted()
            .events,
    );
    given(events)
        .when(join(
            DUNG,
            1,
            AN,
            Relationship::DiRuot,
            home1(),
            "2024-06-01",
        ))
        .then_reject("household_head_vacant");
}

#[test]
fn a_permanent_registration_at_the_temporary_address_deletes_the_temporary_one_i5() {
    let mut events = everyone();
    events.extend(
        given(everyone())
            .when(temporary(EM, home3(), "2024-01-01", "2025-06-30"))
            .accepted()
            .events,
    );
    let command = own_home(EM, 5, home3(), "2024-06-01");
    given(events).when(command.clone()).then([
        established(5, home3(), "2024-06-01"),
        registered(&command, Relationship::ChuHo, "Luật Cư trú 2020, Điều 20.1"),
        Event::TemporaryResidenceDeleted(TemporaryResidenceDeleted {
            person: person(EM),
            effective_on: d("2024-06-01"),
            ground: TemporaryDeletionGround::PermanentAtSamePlace,
            initiator: Initiator::ExOfficio,
            address: home3().1,
            dwelling: home3().0,
            household: None,
            legal_basis: basis("Luật Cư trú 2020, Điều 29.1.đ"),
            application: None,
        }),
    ]);
}

#[test]
fn other_bases_need_their_own_consents() {
    let cases = [
        (
            PermanentBasis::ReligiousEstablishment,
            ConsentRole::EstablishmentHead,
        ),
        (PermanentBasis::SocialCare, ConsentRole::EstablishmentHead),
        (PermanentBasis::Vehicle, ConsentRole::DwellingOwner),
        (PermanentBasis::UnitBarracks, ConsentRole::CommandingUnit),
    ];
    for (basis_kind, role) in cases {
        let command = RegisterPermanent {
            basis: basis_kind,
            ..own_home(EM, 5, home3(), "2024-03-01")
        };
        let rejection = given(everyone())
            .when(command.clone())
            .then_reject("consent_missing");
        assert_eq!(rejection, Rejection::ConsentMissing { role });
        let consented = RegisterPermanent {
            consents: vec![consent(role, None)],
            ..command
        };
        given(everyone()).when(consented).accepted();
    }
}

#[test]
fn actor_not_authorised_a_data_feed_registers_nobody() {
    given(everyone())
        .by(Actor::PopulationDatabase)
        .when(own_home(EM, 5, home3(), "2024-03-01"))
        .then_reject("actor_not_authorised");
}
