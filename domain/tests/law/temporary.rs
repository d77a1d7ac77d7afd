//! Temporary registration and extension (Art 27–28; I1, I3, I4, I9).

use residence_domain::command::*;
use residence_domain::event::*;
use residence_domain::rejection::Rejection;
use residence_domain::relationship::Relationship;

use crate::harness::*;

fn registered(command: &RegisterTemporary, membership: Option<Membership>) -> Event {
    Event::TemporaryResidenceRegistered(TemporaryResidenceRegistered {
        person: command.person,
        effective_on: command.effective_on,
        until: command.until,
        address: command.address.clone(),
        dwelling: command.dwelling,
        membership,
        consents: command.consents.clone(),
        legal_basis: basis("Luật Cư trú 2020, Điều 27"),
        application: command.application,
    })
}

/// Em's temporary registration at home 3 from 2024-01-01 through 2024-12-31.
fn em_in_saigon() -> Vec<Event> {
    let mut events = everyone();
    extend_history(
        &mut events,
        [temporary(EM, home3(), "2024-01-01", "2024-12-31").into()],
    );
    events
}

#[test]
fn a_temporary_registration_is_recorded() {
    let command = temporary(EM, home3(), "2024-01-01", "2024-12-31");
    given(everyone())
        .when(command.clone())
        .then([registered(&command, None)]);
}

#[test]
fn a_temporary_registration_founds_a_temporary_household() {
    let mut command = temporary(EM, home3(), "2024-01-01", "2024-12-31");
    command.household = Some(HouseholdChoice::Establish {
        household: household(7),
        residence_file_number: None,
    });
    given(everyone()).when(command.clone()).then([
        Event::HouseholdEstablished(HouseholdEstablished {
            household: household(7),
            effective_on: d("2024-01-01"),
            kind: RegistrationKind::Temporary,
            address: home3().1,
            dwelling: home3().0,
            residence_file_number: None,
            legal_basis: basis("Luật Cư trú 2020, Điều 10"),
        }),
        registered(
            &command,
            Some(Membership {
                household: household(7),
                relationship: Relationship::ChuHo,
            }),
        ),
    ]);
}

#[test]
fn temporary_term_too_long_i4() {
    let rejection = given(everyone())
        .when(temporary(EM, home3(), "2024-01-01", "2026-01-02"))
        .then_reject("temporary_term_too_long");
    assert_eq!(
        rejection,
        Rejection::TemporaryTermTooLong {
            from: d("2024-01-01"),
            until: d("2026-01-02"),
            maximum_until: d("2026-01-01")
        }
    );
}

#[test]
fn a_term_of_exactly_two_years_is_accepted() {
    given(everyone())
        .when(temporary(EM, home3(), "2024-01-01", "2026-01-01"))
        .accepted();
}

#[test]
fn period_invalid_a_term_ending_before_it_starts() {
    given(everyone())
        .when(temporary(EM, home3(), "2024-01-01", "2023-12-31"))
        .then_reject("period_invalid");
}

#[test]
fn temporary_registration_overlaps_i1() {
    let rejection = given(em_in_saigon())
        .when(temporary(EM, home2(), "2024-12-31", "2025-03-31"))
        .then_reject("temporary_registration_overlaps");
    assert_eq!(
        rejection,
        Rejection::TemporaryRegistrationOverlaps {
            person: person(EM),
            effective_on: d("2024-12-31"),
            until: d("2025-03-31"),
            existing_start: d("2024-01-01"),
            existing_until: d("2024-12-31")
        }
    );
}

#[test]
fn a_backdated_temporary_registration_fits_a_gap() {
    given(em_in_saigon())
        .when(temporary(EM, home2(), "2023-01-01", "2023-12-31"))
        .accepted();
    given(em_in_saigon())
        .when(temporary(EM, home2(), "2025-01-01", "2025-03-31"))
        .accepted();
}

#[test]
fn temporary_in_permanent_commune_i3() {
    let rejection = given(family())
        .when(temporary(AN, home4(), "2024-01-01", "2024-06-30"))
        .then_reject("temporary_in_permanent_commune");
    assert_eq!(
        rejection,
        Rejection::TemporaryInPermanentCommune {
            person: person(AN),
            unit: phuc_xa()
        }
    );
}

#[test]
fn a_temporary_registration_in_another_ward_of_the_district_is_fine() {
    given(family())
        .when(temporary(AN, home2(), "2024-01-01", "2024-06-30"))
        .accepted();
}

#[test]
fn the_commune_is_compared_across_the_reorganisation() {
    // Home 1 (legacy Phúc Xá) lies in 2025 Hồng Hà: a temporary registration there in 2026 is
    // in An's permanent commune.
    let mut command = temporary(AN, home4(), "2026-01-01", "2026-06-30");
    command.address = address(y2025(97), "Số 5 phố Phúc Xá");
    given(family())
        .when(command)
        .then_reject("temporary_in_permanent_commune");
}

#[test]
fn household_kind_mismatch_a_temporary_resident_joins_no_permanent_household() {
    let mut command = temporary(DUNG, home1(), "2024-01-01", "2024-06-30");
    command.household = Some(HouseholdChoice::Join {
        household: household(1),
        relationship: Relationship::DiRuot,
    });
    command
        .consents
        .push(consent(ConsentRole::HouseholdHead, Some(AN)));
    given(family())
        .when(command)
        .then_reject("household_kind_mismatch");
}

#[test]
fn joining_a_temporary_household_needs_its_head() {
    let mut events = everyone();
    let mut founding = temporary(EM, home3(), "2024-01-01", "2024-12-31");
    founding.household = Some(HouseholdChoice::Establish {
        household: household(7),
        residence_file_number: None,
    });
    extend_history(&mut events, [founding.into()]);
    let mut joining = temporary(DUNG, home3(), "2024-02-01", "2024-12-31");
    joining.household = Some(HouseholdChoice::Join {
        household: household(7),
        relationship: Relationship::MeDe,
    });
    given(events.clone())
        .when(joining.clone())
        .then_reject("consent_missing");
    joining
        .consents
        .push(consent(ConsentRole::HouseholdHead, Some(EM)));
    given(events).when(joining).accepted();
}

#[test]
fn consent_missing_the_owner_agrees_to_a_temporary_registration() {
    let mut command = temporary(EM, home3(), "2024-01-01", "2024-12-31");
    command.consents.clear();
    given(everyone())
        .when(command)
        .then_reject("consent_missing");
}

#[test]
fn place_barred_art23_bars_every_temporary_registration() {
    let mut events = everyone();
    events.push(Event::DwellingRestrictionRecorded(
        DwellingRestrictionRecorded {
            dwelling: home3().0,
            effective_on: d("2023-06-01"),
            kind: RestrictionKind::ProhibitedOrProtectedZone,
            address: home3().1,
            decision: None,
            legal_basis: basis("Luật Cư trú 2020, Điều 23.1"),
        },
    ));
    given(events)
        .when(temporary(EM, home3(), "2024-01-01", "2024-12-31"))
        .then_reject("place_barred_art23");
}

// --- Extension -------------------------------------------------------------------------------

fn extend(on: &str, until: &str) -> ExtendTemporary {
    ExtendTemporary {
        person: person(EM),
        dwelling: home3().0,
        effective_on: d(on),
        until: d(until),
        consents: vec![consent(ConsentRole::DwellingOwner, None)],
        legal_basis: None,
        application: None,
    }
}

#[test]
fn a_term_is_extended_within_the_15_days_before_it_ends() {
    given(em_in_saigon())
        .when(extend("2024-12-16", "2025-06-30"))
        .then([Event::TemporaryResidenceExtended(
            TemporaryResidenceExtended {
                person: person(EM),
                dwelling: home3().0,
                effective_on: d("2024-12-16"),
                previous_until: d("2024-12-31"),
                until: d("2025-06-30"),
                consents: vec![consent(ConsentRole::DwellingOwner, None)],
                legal_basis: basis("Luật Cư trú 2020, Điều 28.3"),
                application: None,
            },
        )]);
}

#[test]
fn extension_outside_window_too_early() {
    let rejection = given(em_in_saigon())
        .when(extend("2024-12-15", "2025-06-30"))
        .then_reject("extension_outside_window");
    assert_eq!(
        rejection,
        Rejection::ExtensionOutsideWindow {
            filed_on: d("2024-12-15"),
            until: d("2024-12-31"),
            window_opens: d("2024-12-16")
        }
    );
}

#[test]
fn extension_outside_window_on_the_last_day() {
    given(em_in_saigon())
        .when(extend("2024-12-31", "2025-06-30"))
        .then_reject("extension_outside_window");
}

#[test]
fn the_filing_day_is_the_day_the_application_was_received() {
    let mut events = em_in_saigon();
    extend_history(
        &mut events,
        [ReceiveApplication {
            application: application(1),
            received_on: d("2024-12-20"),
            procedure: Procedure::TemporaryExtension,
            channel: IntakeChannel::OnlinePortal,
            subjects: vec![person(EM)],
            applicant: None,
            result_due_on: None,
        }
        .into()],
    );
    let mut command = extend("2025-01-03", "2025-06-30");
    command.application = Some(application(1));
    given(events).when(command).accepted();
}

#[test]
fn extension_not_later() {
    given(em_in_saigon())
        .when(extend("2024-12-20", "2024-12-31"))
        .then_reject("extension_not_later");
}

#[test]
fn an_extension_adds_two_years_at_most() {
    given(em_in_saigon())
        .when(extend("2024-12-20", "2027-01-02"))
        .then_reject("temporary_term_too_long");
    given(em_in_saigon())
        .when(extend("2024-12-20", "2027-01-01"))
        .accepted();
}

#[test]
fn no_active_temporary_registration() {
    let mut command = extend("2024-12-20", "2025-06-30");
    command.dwelling = home2().0;
    given(em_in_saigon())
        .when(command)
        .then_reject("no_active_temporary_registration");
}

#[test]
fn consent_missing_for_an_extension() {
    let mut command = extend("2024-12-20", "2025-06-30");
    command.consents.clear();
    given(em_in_saigon())
        .when(command)
        .then_reject("consent_missing");
}
