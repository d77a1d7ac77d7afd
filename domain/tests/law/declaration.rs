//! Art 19 declarations, in-commune address updates (I3), stays (Art 30), absences (Art 31) and
//! residence confirmations (CT07).

use residence_domain::address::PersonName;
use residence_domain::command::*;
use residence_domain::event::*;
use residence_domain::ids::CertificateId;
use residence_domain::rejection::Rejection;

use crate::harness::*;

// --- Art 19 -------------------------------------------------------------------------------------

fn declare(n: u64, on: &str) -> DeclareCurrentResidence {
    DeclareCurrentResidence {
        person: person(n),
        effective_on: d(on),
        address: home3().1,
        dwelling: None,
        legal_basis: None,
        application: None,
    }
}

#[test]
fn a_person_without_registration_declares_where_they_live() {
    given(everyone())
        .when(declare(EM, "2024-05-01"))
        .then([Event::CurrentResidenceDeclared(CurrentResidenceDeclared {
            person: person(EM),
            effective_on: d("2024-05-01"),
            address: home3().1,
            dwelling: None,
            legal_basis: basis("Luật Cư trú 2020, Điều 19"),
            application: None,
        })]);
}

#[test]
fn person_has_registered_residence() {
    given(family())
        .when(declare(AN, "2024-05-01"))
        .then_reject("person_has_registered_residence");
}

#[test]
fn an_unverifiable_declaration_is_refused() {
    given(everyone())
        .when(RefuseResidenceDeclaration {
            person: person(EM),
            effective_on: d("2024-05-01"),
            address: home3().1,
            reason: reason("không xác minh được nơi ở"),
            legal_basis: None,
            application: None,
        })
        .then([Event::CurrentResidenceDeclarationRefused(
            CurrentResidenceDeclarationRefused {
                person: person(EM),
                effective_on: d("2024-05-01"),
                address: home3().1,
                reason: reason("không xác minh được nơi ở"),
                legal_basis: basis("Nghị định 154/2024/NĐ-CP, Điều 4"),
                application: None,
            },
        )]);
}

#[test]
fn a_refusal_concerns_a_recorded_person() {
    given([])
        .when(RefuseResidenceDeclaration {
            person: person(EM),
            effective_on: d("2024-05-01"),
            address: home3().1,
            reason: reason("không xác minh được nơi ở"),
            legal_basis: None,
            application: None,
        })
        .then_reject("person_not_recorded");
}

// --- Current address (I3) ----------------------------------------------------------------------

fn update(
    n: u64,
    home: (
        residence_domain::ids::DwellingId,
        residence_domain::address::Address,
    ),
) -> UpdateCurrentAddress {
    UpdateCurrentAddress {
        person: person(n),
        effective_on: d("2024-05-01"),
        address: home.1,
        dwelling: Some(home.0),
        legal_basis: None,
        application: None,
    }
}

#[test]
fn a_move_within_the_commune_updates_the_current_address() {
    given(family())
        .when(update(AN, home4()))
        .then([Event::CurrentAddressUpdated(CurrentAddressUpdated {
            person: person(AN),
            effective_on: d("2024-05-01"),
            previous_address: None,
            address: home4().1,
            dwelling: Some(home4().0),
            legal_basis: basis("Thông tư 55/2021/TT-BCA"),
            application: None,
        })]);
}

#[test]
fn address_outside_registration_commune() {
    let rejection = given(family())
        .when(update(AN, home2()))
        .then_reject("address_outside_registration_commune");
    assert_eq!(
        rejection,
        Rejection::AddressOutsideRegistrationCommune {
            unit: truc_bach(),
            registered_unit: phuc_xa()
        }
    );
}

#[test]
fn no_active_registration_for_an_address_update() {
    given(family())
        .when(update(EM, home4()))
        .then_reject("no_active_registration");
}

// --- Stays (Art 30) ------------------------------------------------------------------------------

fn stay(from: &str, until: &str) -> NotifyStay {
    NotifyStay {
        guest: Guest {
            person: Some(person(EM)),
            name: PersonName::parse("Phạm Văn Em").unwrap(),
            document: IdentityDocument::Pin(fixture_person(EM).pin),
        },
        effective_on: d(from),
        until: d(until),
        host_address: home1().1,
        dwelling: Some(home1().0),
        reason: reason("thăm người thân"),
        notifier: NotifierKind::HostMember,
        legal_basis: None,
    }
}

#[test]
fn a_stay_is_notified() {
    let command = stay("2024-05-01", "2024-05-10");
    given(family())
        .when(command.clone())
        .then([Event::StayNotified(StayNotified {
            guest: command.guest,
            effective_on: d("2024-05-01"),
            until: d("2024-05-10"),
            host_address: home1().1,
            dwelling: Some(home1().0),
            reason: command.reason,
            notifier: NotifierKind::HostMember,
            legal_basis: basis("Luật Cư trú 2020, Điều 30"),
        })]);
}

#[test]
fn stay_too_long() {
    given(family())
        .when(stay("2024-05-01", "2024-05-30"))
        .then_reject("stay_too_long");
    given(family())
        .when(stay("2024-05-01", "2024-05-29"))
        .accepted();
}

// --- Absence (Art 31) ----------------------------------------------------------------------------

fn absence(n: u64, clause: AbsenceClause, from: &str, until: &str) -> DeclareTemporaryAbsence {
    DeclareTemporaryAbsence {
        person: person(n),
        effective_on: d(from),
        until: d(until),
        clause,
        destination: PlaceText::parse("Nhật Bản").unwrap(),
        reason: reason("đi làm việc"),
        legal_basis: None,
        application: None,
    }
}

#[test]
fn a_long_absence_is_declared() {
    let command = absence(BINH, AbsenceClause::LongAbsence, "2024-01-01", "2024-12-31");
    given(family())
        .when(command.clone())
        .then([Event::TemporaryAbsenceDeclared(TemporaryAbsenceDeclared {
            person: person(BINH),
            effective_on: d("2024-01-01"),
            until: d("2024-12-31"),
            clause: AbsenceClause::LongAbsence,
            destination: command.destination,
            reason: command.reason,
            legal_basis: basis("Luật Cư trú 2020, Điều 31.1.d"),
            application: None,
        })]);
}

#[test]
fn absence_shorter_than_clause() {
    let rejection = given(family())
        .when(absence(
            BINH,
            AbsenceClause::LongAbsence,
            "2024-01-01",
            "2024-12-30",
        ))
        .then_reject("absence_shorter_than_clause");
    assert_eq!(
        rejection,
        Rejection::AbsenceShorterThanClause {
            clause: AbsenceClause::LongAbsence,
            minimum_months: 12
        }
    );
}

#[test]
fn a_one_day_absence_under_clause_a() {
    given(family())
        .when(absence(
            AN,
            AbsenceClause::Sentenced,
            "2024-01-01",
            "2024-01-01",
        ))
        .accepted();
}

#[test]
fn a_long_absence_is_from_the_permanent_residence() {
    let mut events = everyone();
    extend_history(
        &mut events,
        [temporary(EM, home3(), "2024-01-01", "2024-12-31").into()],
    );
    given(events.clone())
        .when(absence(
            EM,
            AbsenceClause::LongAbsence,
            "2024-02-01",
            "2025-01-31",
        ))
        .then_reject("no_active_permanent_registration");
    given(events)
        .when(absence(
            EM,
            AbsenceClause::MilitaryServiceAge,
            "2024-02-01",
            "2024-05-31",
        ))
        .accepted();
}

#[test]
fn no_active_registration_for_an_absence() {
    given(everyone())
        .when(absence(
            EM,
            AbsenceClause::Sentenced,
            "2024-01-01",
            "2024-01-05",
        ))
        .then_reject("no_active_registration");
}

// --- CT07 ----------------------------------------------------------------------------------------

fn confirm(n: u64, on: &str) -> IssueResidenceConfirmation {
    IssueResidenceConfirmation {
        certificate: CertificateId::new(0x400),
        person: person(n),
        issued_on: d(on),
        purpose: Purpose::parse("nộp tòa án").unwrap(),
        ledger_size: 9,
        legal_basis: None,
        application: None,
    }
}

fn confirmed(n: u64, on: &str, until: &str, legal: &str) -> Event {
    Event::ResidenceConfirmationIssued(ResidenceConfirmationIssued {
        certificate: CertificateId::new(0x400),
        person: person(n),
        issued_on: d(on),
        valid_until: d(until),
        purpose: Purpose::parse("nộp tòa án").unwrap(),
        ledger_size: 9,
        legal_basis: basis(legal),
        application: None,
    })
}

#[test]
fn a_ct07_issued_in_2023_is_valid_30_days() {
    given(family())
        .when(confirm(AN, "2023-03-01"))
        .then([confirmed(
            AN,
            "2023-03-01",
            "2023-03-30",
            "Thông tư 55/2021/TT-BCA, Điều 17",
        )]);
}

#[test]
fn a_ct07_issued_from_2024_is_valid_one_year() {
    given(family())
        .when(confirm(AN, "2024-03-10"))
        .then([confirmed(
            AN,
            "2024-03-10",
            "2025-03-09",
            "Thông tư 66/2023/TT-BCA, Điều 17",
        )]);
}

#[test]
fn a_ct07_on_an_art_19_declaration_was_valid_six_months_before_2024() {
    let mut events = everyone();
    extend_history(&mut events, [declare(EM, "2023-01-05").into()]);
    given(events)
        .when(confirm(EM, "2023-03-01"))
        .then([confirmed(
            EM,
            "2023-03-01",
            "2023-08-31",
            "Thông tư 55/2021/TT-BCA, Điều 17",
        )]);
}

#[test]
fn no_residence_to_confirm() {
    given(everyone())
        .when(confirm(EM, "2024-03-10"))
        .then_reject("no_residence_to_confirm");
}
