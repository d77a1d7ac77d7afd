//! Recording persons, re-establishing PINs, civil-status adjustments and intake slips.

use residence_domain::address::PersonName;
use residence_domain::command::*;
use residence_domain::context::Actor;
use residence_domain::decide::Warning;
use residence_domain::event::*;
use residence_domain::pin::{Pin, Sex};
use residence_domain::rejection::Rejection;
use residence_domain::relationship::Relationship;

use crate::harness::*;

fn pin(text: &str) -> Pin {
    text.parse().unwrap()
}

// --- Recording a person (I7, I12) ----------------------------------------------------------

#[test]
fn a_person_from_the_population_database_is_recorded() {
    given([])
        .by(Actor::PopulationDatabase)
        .when(fixture_person(AN))
        .then([recorded(AN)]);
}

#[test]
fn an_unknown_pin_prefix_is_a_warning_not_a_rejection() {
    let decision = given([])
        .when(RecordPerson {
            pin: pin("999080012345"),
            ..fixture_person(AN)
        })
        .then_warn("pin_unknown_prefix");
    assert_eq!(
        decision.warnings,
        vec![Warning::PinUnknownPrefix {
            person: person(AN),
            pin: pin("999080012345"),
            prefix: 999
        }]
    );
}

#[test]
fn a_pin_parity_that_disagrees_with_the_sex_is_a_warning() {
    given([])
        .when(RecordPerson {
            pin: pin("001180012345"),
            ..fixture_person(AN)
        })
        .then_warn("pin_sex_mismatch");
}

#[test]
fn person_already_recorded() {
    given([recorded(AN)])
        .when(fixture_person(AN))
        .then_reject("person_already_recorded");
}

#[test]
fn pin_already_assigned_to_another_person() {
    let rejection = given([recorded(AN)])
        .when(RecordPerson {
            person: person(99),
            ..fixture_person(AN)
        })
        .then_reject("pin_already_assigned");
    assert_eq!(
        rejection,
        Rejection::PinAlreadyAssigned {
            pin: fixture_person(AN).pin,
            holder: person(AN)
        }
    );
}

#[test]
fn pin_birth_year_mismatch() {
    let rejection = given([])
        .when(RecordPerson {
            pin: pin("001085012345"),
            ..fixture_person(AN)
        })
        .then_reject("pin_birth_year_mismatch");
    assert_eq!(
        rejection,
        Rejection::PinBirthYearMismatch {
            pin: pin("001085012345"),
            encoded: 1985,
            recorded: 1980
        }
    );
}

#[test]
fn birth_date_in_future() {
    given([])
        .when(RecordPerson {
            pin: pin("001227012345"),
            birth_date: d("2027-01-01"),
            ..fixture_person(AN)
        })
        .then_reject("birth_date_in_future");
}

#[test]
fn actor_not_authorised_a_timer_records_no_person() {
    given([])
        .by(Actor::RegisterTimer)
        .when(fixture_person(AN))
        .then_reject("actor_not_authorised");
}

// --- PIN re-established (I12) ---------------------------------------------------------------

fn reassign(new: &str) -> ReassignPin {
    ReassignPin {
        person: person(AN),
        effective_on: d("2026-01-05"),
        old: fixture_person(AN).pin,
        new: pin(new),
        reason: PinReassignmentReason::DataEntryError,
        legal_basis: None,
    }
}

#[test]
fn the_population_database_re_establishes_a_pin() {
    given([recorded(AN)])
        .by(Actor::PopulationDatabase)
        .when(reassign("001080099999"))
        .then([Event::PersonalIdNumberReassigned(
            PersonalIdNumberReassigned {
                person: person(AN),
                effective_on: d("2026-01-05"),
                old: fixture_person(AN).pin,
                new: pin("001080099999"),
                reason: PinReassignmentReason::DataEntryError,
                legal_basis: basis("Luật Căn cước 2023, Điều 12"),
            },
        )]);
}

#[test]
fn actor_not_authorised_an_officer_does_not_re_establish_a_pin() {
    given([recorded(AN)])
        .when(reassign("001080099999"))
        .then_reject("actor_not_authorised");
}

#[test]
fn pin_not_current() {
    given([recorded(AN)])
        .by(Actor::PopulationDatabase)
        .when(ReassignPin {
            old: pin("001080054321"),
            ..reassign("001080099999")
        })
        .then_reject("pin_not_current");
}

#[test]
fn pin_unchanged() {
    given([recorded(AN)])
        .by(Actor::PopulationDatabase)
        .when(reassign("001080012345"))
        .then_reject("pin_unchanged");
}

#[test]
fn a_re_established_pin_must_be_free() {
    given([recorded(AN), recorded(BINH)])
        .by(Actor::PopulationDatabase)
        .when(ReassignPin {
            new: fixture_person(BINH).pin,
            ..reassign("001080099999")
        })
        .then_reject("pin_already_assigned");
}

#[test]
fn a_cancelled_pin_is_never_given_again() {
    let events = history([fixture_person(AN).into(), {
        let mut c = reassign("001080099999");
        c.effective_on = d("2025-01-01");
        c.into()
    }]);
    given(events)
        .by(Actor::PopulationDatabase)
        .when(RecordPerson {
            person: person(42),
            ..fixture_person(AN)
        })
        .then_reject("pin_already_assigned");
}

#[test]
fn a_re_established_pin_fits_the_birth_year() {
    given([recorded(AN)])
        .by(Actor::PopulationDatabase)
        .when(reassign("001081099999"))
        .then_reject("pin_birth_year_mismatch");
}

#[test]
fn person_not_recorded() {
    given([])
        .by(Actor::PopulationDatabase)
        .when(reassign("001080099999"))
        .then_reject("person_not_recorded");
}

// --- Civil-status adjustment (Art 26.1(b)) -------------------------------------------------

fn rename(on: &str, decided: &str) -> AdjustCivilStatus {
    AdjustCivilStatus {
        person: person(AN),
        effective_on: d(on),
        changes: CivilStatusChanges {
            name: Some(PersonName::parse("Nguyễn Văn Ân").unwrap()),
            ..CivilStatusChanges::default()
        },
        decision: decision_ref("12/QĐ-UBND", decided),
        authority: AuthorityName::parse("UBND phường Phúc Xá").unwrap(),
        legal_basis: None,
        application: None,
    }
}

#[test]
fn residence_data_follow_a_civil_status_decision() {
    let command = rename("2026-02-10", "2026-02-01");
    given([recorded(AN)])
        .when(command.clone())
        .then([Event::ResidentCivilStatusAdjusted(
            ResidentCivilStatusAdjusted {
                person: person(AN),
                effective_on: d("2026-02-10"),
                changes: command.changes,
                decision: command.decision,
                authority: command.authority,
                legal_basis: basis("Luật Cư trú 2020, Điều 26.1.b"),
                application: None,
            },
        )]);
}

#[test]
fn a_filing_after_30_days_is_recorded_with_a_warning() {
    given([recorded(AN)])
        .when(rename("2026-04-10", "2026-02-01"))
        .then_warn("civil_status_filed_late");
}

#[test]
fn a_corrected_birth_year_warns_that_the_pin_no_longer_matches() {
    given([recorded(AN)])
        .when(AdjustCivilStatus {
            changes: CivilStatusChanges {
                birth_date: Some(d("1981-05-10")),
                ..CivilStatusChanges::default()
            },
            ..rename("2026-02-10", "2026-02-01")
        })
        .then_warn("pin_no_longer_matches");
}

#[test]
fn civil_status_unchanged() {
    given([recorded(AN)])
        .when(AdjustCivilStatus {
            changes: CivilStatusChanges {
                sex: Some(Sex::Male),
                ..CivilStatusChanges::default()
            },
            ..rename("2026-02-10", "2026-02-01")
        })
        .then_reject("civil_status_unchanged");
}

#[test]
fn period_invalid_the_decision_follows_the_adjustment() {
    given([recorded(AN)])
        .when(rename("2026-02-10", "2026-03-01"))
        .then_reject("period_invalid");
}

// --- Intake (CT04, CT05, CT06) ---------------------------------------------------------------

fn receive(n: u64, procedure: Procedure) -> ReceiveApplication {
    ReceiveApplication {
        application: application(n),
        received_on: d("2026-08-01"),
        procedure,
        channel: IntakeChannel::Vneid,
        subjects: vec![person(EM)],
        applicant: None,
        result_due_on: Some(d("2026-08-10")),
    }
}

#[test]
fn an_application_is_received() {
    let command = receive(1, Procedure::TemporaryRegistration);
    given([recorded(EM)])
        .when(command.clone())
        .then([Event::ApplicationReceived(ApplicationReceived {
            application: application(1),
            received_on: command.received_on,
            procedure: command.procedure,
            channel: command.channel,
            subjects: command.subjects,
            applicant: None,
            result_due_on: command.result_due_on,
        })]);
}

#[test]
fn application_exists() {
    let events = history([
        fixture_person(EM).into(),
        receive(1, Procedure::TemporaryRegistration).into(),
    ]);
    given(events)
        .when(receive(1, Procedure::TemporaryRegistration))
        .then_reject("application_exists");
}

#[test]
fn application_without_subjects() {
    given([])
        .when(ReceiveApplication {
            subjects: Vec::new(),
            ..receive(1, Procedure::TemporaryRegistration)
        })
        .then_reject("application_without_subjects");
}

#[test]
fn the_subjects_of_an_application_are_recorded() {
    given([])
        .when(receive(1, Procedure::TemporaryRegistration))
        .then_reject("person_not_recorded");
}

fn with_application() -> Vec<residence_domain::event::Event> {
    history([
        fixture_person(EM).into(),
        receive(1, Procedure::TemporaryRegistration).into(),
    ])
}

#[test]
fn completion_is_requested() {
    let command = RequestCompletion {
        application: application(1),
        requested_on: d("2026-08-02"),
        missing: vec![reason("thiếu văn bản đồng ý của chủ sở hữu chỗ ở")],
        complete_by: None,
    };
    given(with_application())
        .when(command.clone())
        .then([Event::ApplicationCompletionRequested(
            ApplicationCompletionRequested {
                application: application(1),
                requested_on: command.requested_on,
                missing: command.missing,
                complete_by: None,
            },
        )]);
}

#[test]
fn completion_without_items() {
    given(with_application())
        .when(RequestCompletion {
            application: application(1),
            requested_on: d("2026-08-02"),
            missing: Vec::new(),
            complete_by: None,
        })
        .then_reject("completion_without_items");
}

#[test]
fn application_unknown() {
    given([])
        .when(RequestCompletion {
            application: application(7),
            requested_on: d("2026-08-02"),
            missing: vec![reason("thiếu giấy tờ")],
            complete_by: None,
        })
        .then_reject("application_unknown");
}

fn refuse() -> RefuseApplication {
    RefuseApplication {
        application: application(1),
        refused_on: d("2026-08-03"),
        reason: reason("chỗ ở không hợp pháp"),
        legal_basis: basis("Luật Cư trú 2020, Điều 27"),
    }
}

#[test]
fn an_application_is_refused() {
    given(with_application())
        .when(refuse())
        .then([Event::ApplicationRefused(ApplicationRefused {
            application: application(1),
            refused_on: d("2026-08-03"),
            reason: refuse().reason,
            legal_basis: refuse().legal_basis,
        })]);
}

#[test]
fn application_closed_after_a_refusal() {
    let mut events = with_application();
    extend_history(
        &mut events,
        [
            fixture_person(DUNG).into(),
            receive(2, Procedure::TemporaryRegistration).into(),
        ],
    );
    let refused = Event::ApplicationRefused(ApplicationRefused {
        application: application(1),
        refused_on: d("2026-08-03"),
        reason: refuse().reason,
        legal_basis: refuse().legal_basis,
    });
    events.push(refused);
    given(events)
        .when(refuse())
        .then_reject("application_closed");
}

#[test]
fn application_closed_once_a_result_answers_it() {
    let mut command = temporary(EM, home3(), "2026-08-05", "2027-08-04");
    command.address = address(y2025(26737), "Số 3 đường Hai Bà Trưng");
    command.application = Some(application(1));
    let mut events = with_application();
    events.extend(given(with_application()).when(command).accepted().events);
    given(events)
        .when(refuse())
        .then_reject("application_closed");
}

#[test]
fn application_procedure_mismatch() {
    let mut command = own_home(EM, 5, home3(), "2026-08-05");
    command.address = address(y2025(26737), "Số 3 đường Hai Bà Trưng");
    command.application = Some(application(1));
    let rejection = given(with_application())
        .when(command)
        .then_reject("application_procedure_mismatch");
    assert_eq!(
        rejection,
        Rejection::ApplicationProcedureMismatch {
            application: application(1),
            applied_for: Procedure::TemporaryRegistration,
            command: Procedure::PermanentRegistration
        }
    );
}

#[test]
fn acts_before_the_2020_law_are_judged_by_the_rules_of_2021_07_01() {
    given([recorded(AN)])
        .by(Actor::Import)
        .when(own_home(AN, 1, home1(), "2015-03-01"))
        .then_warn("judged_by_rules_of_2021_07_01");
}

#[test]
fn relationship_terms_print_in_vietnamese() {
    assert_eq!(Relationship::ChauRuot.vietnamese(), "Cháu ruột");
}
