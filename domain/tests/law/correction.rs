//! Corrections of earlier events (I11).

use residence_domain::command::*;
use residence_domain::event::*;
use residence_domain::relationship::Relationship;
use residence_domain::state::State;
use residence_domain::tag::Tag;

use crate::harness::*;

/// Bình's registration in `family()` (event 7), as recorded.
fn binh_registration() -> PermanentResidenceRegistered {
    match &family()[7] {
        Event::PermanentResidenceRegistered(registration) => registration.clone(),
        other => panic!("event 7 is {other:?}"),
    }
}

fn correct(replacement: Event) -> CorrectEvent {
    CorrectEvent {
        corrects: event_id(7),
        replacement: EventEnvelope::new(replacement),
        reason: reason("nhập sai ngày đăng ký"),
        legal_basis: None,
        read_also: Vec::new(),
    }
}

#[test]
fn a_wrong_start_date_is_corrected() {
    let mut fixed = binh_registration();
    fixed.effective_on = d("2023-02-05");
    let replacement = Event::PermanentResidenceRegistered(fixed);
    let expected = EventCorrected::new(
        event_id(7),
        family()[7].tags(),
        reason("nhập sai ngày đăng ký"),
        basis("Luật Cư trú 2020, Điều 26, Điều 35"),
        replacement.clone(),
    )
    .unwrap();
    let decision = given(family())
        .when(correct(replacement))
        .then([Event::EventCorrected(expected)]);
    let mut events = family();
    events.extend(decision.events);
    let state = State::from_recorded(events.iter().enumerate().map(|(n, e)| (event_id(n), e)));
    let interval = &state.person(person(BINH)).unwrap().permanent[0];
    assert_eq!(interval.start, d("2023-02-05"));
}

#[test]
fn a_registration_recorded_for_the_wrong_person_is_moved() {
    let mut fixed = binh_registration();
    fixed.person = person(DUNG);
    fixed.membership.relationship = Relationship::DiRuot;
    let mut command = correct(Event::PermanentResidenceRegistered(fixed));
    // The household and dwelling tags already read Bình's event; naming her keeps her chain
    // guarded too.
    command.read_also = vec![Tag::Person(person(BINH))];
    let decision = given(family()).when(command).accepted();
    let Event::EventCorrected(correction) = &decision.events[0] else {
        panic!("a correction");
    };
    assert!(
        correction
            .corrected_tags()
            .contains(&Tag::Person(person(BINH)))
    );
    assert!(
        decision.events[0]
            .tags()
            .contains(&Tag::Person(person(DUNG)))
    );
}

#[test]
fn corrected_event_unknown() {
    let mut command = correct(family()[7].clone());
    command.corrects = event_id(99);
    given(family())
        .when(command)
        .then_reject("corrected_event_unknown");
}

#[test]
fn correction_type_mismatch() {
    given(family())
        .when(correct(recorded(BINH)))
        .then_reject("correction_type_mismatch");
}

#[test]
fn correction_changes_nothing() {
    given(family())
        .when(correct(family()[7].clone()))
        .then_reject("correction_changes_nothing");
}

#[test]
fn correction_nested() {
    let mut fixed = binh_registration();
    fixed.effective_on = d("2023-02-05");
    let inner = EventCorrected::new(
        event_id(7),
        family()[7].tags(),
        reason("nhập sai"),
        basis("Luật Cư trú 2020, Điều 26"),
        Event::PermanentResidenceRegistered(fixed),
    )
    .unwrap();
    given(family())
        .when(correct(Event::EventCorrected(inner)))
        .then_reject("correction_nested");
}

#[test]
fn correction_breaks_invariant() {
    let mut events = everyone();
    extend_history(
        &mut events,
        [
            temporary(EM, home3(), "2024-01-01", "2024-03-31").into(),
            temporary(EM, home2(), "2024-06-01", "2024-12-31").into(),
        ],
    );
    let second = events.len() - 1;
    let Event::TemporaryResidenceRegistered(mut moved) = events[second].clone() else {
        panic!("a temporary registration");
    };
    moved.effective_on = d("2024-03-01");
    let command = CorrectEvent {
        corrects: event_id(second),
        ..correct(Event::TemporaryResidenceRegistered(moved))
    };
    given(events)
        .when(command)
        .then_reject("correction_breaks_invariant");
}

#[test]
fn a_corrected_address_must_be_valid_on_its_date() {
    let mut fixed = binh_registration();
    fixed.address = address(y2025(97), "Số 1 phố Phúc Xá");
    given(family())
        .when(correct(Event::PermanentResidenceRegistered(fixed)))
        .then_reject("unit_not_valid_on_date");
}
