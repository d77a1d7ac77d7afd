//! Household procedures: change of head (I6, head vacancy), change of relationship, split
//! (Art 25), legacy books.

use residence_domain::command::*;
use residence_domain::event::*;
use residence_domain::grounds::PermanentDeletionGround;
use residence_domain::rejection::Rejection;
use residence_domain::relationship::Relationship;

use crate::harness::*;

fn handover(new_head: u64, members: Vec<MemberRelationship>) -> ChangeHead {
    ChangeHead {
        household: household(1),
        effective_on: d("2024-06-01"),
        new_head: person(new_head),
        members,
        court_decision: None,
        legal_basis: None,
        application: None,
    }
}

#[test]
fn the_members_agree_on_a_new_head() {
    let members = vec![
        member(AN, Relationship::Chong),
        member(CUONG, Relationship::ConDe),
    ];
    given(family())
        .when(handover(BINH, members.clone()))
        .then([Event::HouseholdHeadChanged(HouseholdHeadChanged {
            household: household(1),
            effective_on: d("2024-06-01"),
            previous_head: Some(person(AN)),
            new_head: person(BINH),
            reason: HeadChangeReason::Handover,
            members,
            court_decision: None,
            legal_basis: basis("Luật Cư trú 2020, Điều 26.1.a"),
            application: None,
        })]);
}

#[test]
fn a_head_vacant_household_gets_its_head_from_the_members() {
    let mut events = family();
    extend_history(
        &mut events,
        [delete_permanent(
            AN,
            1,
            PermanentDeletionGround::Death,
            Requester::ExOfficio,
            "2024-03-01",
        )
        .into()],
    );
    let decision = given(events)
        .when(handover(BINH, vec![member(CUONG, Relationship::ConDe)]))
        .accepted();
    assert!(matches!(
        &decision.events[..],
        [Event::HouseholdHeadChanged(change)]
            if change.previous_head.is_none() && change.reason == HeadChangeReason::HeadDied
    ));
}

#[test]
fn head_unchanged() {
    given(family())
        .when(handover(
            AN,
            vec![
                member(BINH, Relationship::Vo),
                member(CUONG, Relationship::ConDe),
            ],
        ))
        .then_reject("head_unchanged");
}

#[test]
fn person_not_member() {
    given(family())
        .when(handover(EM, vec![]))
        .then_reject("person_not_member");
}

#[test]
fn members_not_restated_in_a_change_of_head() {
    let rejection = given(family())
        .when(handover(
            BINH,
            vec![
                member(AN, Relationship::Chong),
                member(EM, Relationship::EmRuot),
            ],
        ))
        .then_reject("members_not_restated");
    assert_eq!(
        rejection,
        Rejection::MembersNotRestated {
            household: household(1),
            missing: vec![person(CUONG)],
            unexpected: vec![person(EM)]
        }
    );
}

#[test]
fn relationship_invalid_two_heads() {
    given(family())
        .when(handover(
            BINH,
            vec![
                member(AN, Relationship::ChuHo),
                member(CUONG, Relationship::ConDe),
            ],
        ))
        .then_reject("relationship_invalid");
}

#[test]
fn head_lacks_capacity() {
    let rejection = given(family())
        .when(handover(
            CUONG,
            vec![
                member(AN, Relationship::ChaDe),
                member(BINH, Relationship::MeDe),
            ],
        ))
        .then_reject("head_lacks_capacity");
    assert_eq!(
        rejection,
        Rejection::HeadLacksCapacity {
            person: person(CUONG),
            age_years: 8
        }
    );
}

#[test]
fn a_court_may_name_a_minor_head() {
    let mut command = handover(
        CUONG,
        vec![
            member(AN, Relationship::ChaDe),
            member(BINH, Relationship::MeDe),
        ],
    );
    command.court_decision = Some(decision_ref("09/2024/QĐ-TA", "2024-05-20"));
    given(family()).when(command).accepted();
}

#[test]
fn household_unknown_for_a_change_of_head() {
    given(family())
        .when(ChangeHead {
            household: household(9),
            ..handover(BINH, vec![])
        })
        .then_reject("household_unknown");
}

// --- Relationship ------------------------------------------------------------------------------

fn relationship(n: u64, relationship: Relationship) -> ChangeMemberRelationship {
    ChangeMemberRelationship {
        household: household(1),
        person: person(n),
        effective_on: d("2024-06-01"),
        relationship,
        legal_basis: None,
        application: None,
    }
}

#[test]
fn a_members_relationship_changes() {
    given(family())
        .when(relationship(CUONG, Relationship::ConNuoi))
        .then([Event::MemberRelationshipChanged(
            MemberRelationshipChanged {
                household: household(1),
                person: person(CUONG),
                effective_on: d("2024-06-01"),
                previous_relationship: Relationship::ConDe,
                relationship: Relationship::ConNuoi,
                legal_basis: basis("Luật Cư trú 2020, Điều 26.1"),
                application: None,
            },
        )]);
}

#[test]
fn relationship_unchanged() {
    given(family())
        .when(relationship(CUONG, Relationship::ConDe))
        .then_reject("relationship_unchanged");
}

#[test]
fn relationship_invalid_the_heads_own_relationship_is_fixed() {
    given(family())
        .when(relationship(AN, Relationship::Chong))
        .then_reject("relationship_invalid");
}

#[test]
fn relationship_of_a_non_member() {
    given(family())
        .when(relationship(EM, Relationship::EmRuot))
        .then_reject("person_not_member");
}

// --- Split -------------------------------------------------------------------------------------

fn split(new_head: u64, members: Vec<MemberRelationship>) -> SplitHousehold {
    SplitHousehold {
        household: household(1),
        new_household: household(2),
        dwelling: home1().0,
        effective_on: d("2024-06-01"),
        new_head: person(new_head),
        members,
        consent: SplitConsent::Consented,
        consents: vec![
            consent(ConsentRole::HouseholdHead, Some(AN)),
            consent(ConsentRole::DwellingOwner, Some(AN)),
        ],
        old_household_succession: None,
        residence_file_number: None,
        legal_basis: None,
        application: None,
    }
}

#[test]
fn a_mother_and_son_split_off_at_the_same_dwelling() {
    let command = split(BINH, vec![member(CUONG, Relationship::ConDe)]);
    given(family())
        .when(command.clone())
        .then([Event::HouseholdSplit(HouseholdSplit {
            household: household(1),
            new_household: household(2),
            effective_on: d("2024-06-01"),
            dwelling: home1().0,
            address: home1().1,
            new_head: person(BINH),
            members: command.members,
            consents: command.consents,
            residence_file_number: None,
            legal_basis: basis("Luật Cư trú 2020, Điều 25"),
            application: None,
        })]);
}

#[test]
fn a_head_who_splits_off_leaves_a_named_head_behind() {
    let mut command = split(AN, vec![member(CUONG, Relationship::ConDe)]);
    given(family())
        .when(command.clone())
        .then_reject("household_head_missing");
    command.old_household_succession = Some(HeadSuccession {
        new_head: person(BINH),
        members: Vec::new(),
        court_decision: None,
    });
    let decision = given(family()).when(command).accepted();
    assert!(matches!(
        &decision.events[..],
        [Event::HouseholdSplit(_), Event::HouseholdHeadChanged(change)]
            if change.household == household(1) && change.new_head == person(BINH)
    ));
}

#[test]
fn split_leaves_household_empty() {
    given(family())
        .when(split(
            AN,
            vec![
                member(BINH, Relationship::Vo),
                member(CUONG, Relationship::ConDe),
            ],
        ))
        .then_reject("split_leaves_household_empty");
}

#[test]
fn split_member_lacks_capacity() {
    given(family())
        .when(split(CUONG, vec![]))
        .then_reject("split_member_lacks_capacity");
}

#[test]
fn a_split_founds_a_new_household() {
    given(family())
        .when(SplitHousehold {
            new_household: household(1),
            ..split(BINH, vec![])
        })
        .then_reject("household_exists");
}

#[test]
fn a_split_stays_at_the_dwelling() {
    given(family())
        .when(SplitHousehold {
            dwelling: home2().0,
            ..split(BINH, vec![])
        })
        .then_reject("household_not_at_dwelling");
}

#[test]
fn a_split_needs_the_owners_consent() {
    let mut command = split(BINH, vec![]);
    command
        .consents
        .retain(|consent| consent.role != ConsentRole::DwellingOwner);
    given(family()).when(command).then_reject("consent_missing");
}

#[test]
fn a_divorced_spouse_splits_off_without_consent() {
    let command = SplitHousehold {
        consent: SplitConsent::DivorcedSpouseEntitled,
        consents: Vec::new(),
        ..split(BINH, vec![])
    };
    given(family()).when(command).accepted();
}

#[test]
fn a_split_at_a_barred_place() {
    let mut events = family();
    events.push(Event::DwellingRestrictionRecorded(
        DwellingRestrictionRecorded {
            dwelling: home1().0,
            effective_on: d("2024-01-01"),
            kind: RestrictionKind::LandRecoveryOrDispute,
            address: home1().1,
            decision: None,
            legal_basis: basis("Luật Cư trú 2020, Điều 23.3"),
        },
    ));
    given(events)
        .when(split(BINH, vec![]))
        .then_reject("place_barred_art23");
}

#[test]
fn a_split_from_a_head_vacant_household_needs_a_head_to_consent() {
    let mut events = family();
    extend_history(
        &mut events,
        [delete_permanent(
            AN,
            1,
            PermanentDeletionGround::Death,
            Requester::ExOfficio,
            "2024-03-01",
        )
        .into()],
    );
    given(events)
        .when(split(BINH, vec![]))
        .then_reject("household_head_vacant");
}

#[test]
fn a_split_is_for_permanent_households() {
    let mut events = everyone();
    let mut founding = temporary(EM, home3(), "2024-01-01", "2024-12-31");
    founding.household = Some(HouseholdChoice::Establish {
        household: household(7),
        residence_file_number: None,
    });
    extend_history(&mut events, [founding.into()]);
    given(events)
        .when(SplitHousehold {
            household: household(7),
            dwelling: home3().0,
            ..split(EM, vec![])
        })
        .then_reject("household_kind_mismatch");
}

// --- Legacy books --------------------------------------------------------------------------------

fn revoke() -> RevokeLegacyBook {
    RevokeLegacyBook {
        household: household(1),
        effective_on: d("2023-02-01"),
        book: LegacyBook::HouseholdBook,
        book_number: DocumentNumber::parse("HK-0012345").unwrap(),
        legal_basis: None,
    }
}

#[test]
fn a_legacy_book_is_revoked() {
    given(family())
        .when(revoke())
        .then([Event::LegacyHouseholdBookRevoked(
            LegacyHouseholdBookRevoked {
                household: household(1),
                effective_on: d("2023-02-01"),
                book: LegacyBook::HouseholdBook,
                book_number: revoke().book_number,
                legal_basis: basis("Thông tư 55/2021/TT-BCA, Điều 26"),
            },
        )]);
}

#[test]
fn legacy_book_already_revoked() {
    let mut events = family();
    extend_history(&mut events, [revoke().into()]);
    given(events)
        .when(revoke())
        .then_reject("legacy_book_already_revoked");
}
