//! Art 23 restrictions, address recoding (Art 26.1(c)) and the 2025 reorganisation, on real
//! unit codes.

use residence_domain::command::*;
use residence_domain::context::Actor;
use residence_domain::event::*;
use residence_domain::rejection::Rejection;

use crate::harness::*;

fn restrict(on: &str) -> RecordDwellingRestriction {
    RecordDwellingRestriction {
        dwelling: home1().0,
        effective_on: d(on),
        kind: RestrictionKind::DemolitionDecision,
        address: home1().1,
        decision: Some(decision_ref("88/QĐ-UBND", on)),
        legal_basis: None,
    }
}

fn lift(on: &str) -> LiftDwellingRestriction {
    LiftDwellingRestriction {
        dwelling: home1().0,
        effective_on: d(on),
        kind: RestrictionKind::DemolitionDecision,
        decision: None,
        legal_basis: None,
    }
}

#[test]
fn a_dwelling_under_a_demolition_decision_is_restricted() {
    given(family())
        .when(restrict("2024-02-01"))
        .then([Event::DwellingRestrictionRecorded(
            DwellingRestrictionRecorded {
                dwelling: home1().0,
                effective_on: d("2024-02-01"),
                kind: RestrictionKind::DemolitionDecision,
                address: home1().1,
                decision: Some(decision_ref("88/QĐ-UBND", "2024-02-01")),
                legal_basis: basis("Luật Cư trú 2020, Điều 23.5"),
            },
        )]);
}

#[test]
fn restriction_already_active() {
    let mut events = family();
    extend_history(&mut events, [restrict("2024-02-01").into()]);
    given(events)
        .when(restrict("2024-03-01"))
        .then_reject("restriction_already_active");
}

#[test]
fn a_restriction_is_lifted_and_registration_is_possible_again() {
    let mut events = family();
    extend_history(&mut events, [restrict("2024-02-01").into()]);
    given(events.clone())
        .when(lift("2024-05-01"))
        .then([Event::DwellingRestrictionLifted(
            DwellingRestrictionLifted {
                dwelling: home1().0,
                effective_on: d("2024-05-01"),
                kind: RestrictionKind::DemolitionDecision,
                decision: None,
                legal_basis: basis("Luật Cư trú 2020, Điều 23.5"),
            },
        )]);
    extend_history(&mut events, [lift("2024-05-01").into()]);
    let mut tenant = own_home(EM, 5, home1(), "2024-06-01");
    tenant.basis = PermanentBasis::OwnHome;
    given(events).when(tenant).accepted();
}

#[test]
fn restriction_not_active() {
    given(family())
        .when(lift("2024-05-01"))
        .then_reject("restriction_not_active");
}

// --- Recoding --------------------------------------------------------------------------------

fn recode(unit: residence_domain::units::UnitRef) -> RecodeAddress {
    RecodeAddress {
        dwelling: home1().0,
        effective_on: d("2025-07-01"),
        cause: RecodingCause::UnitReorganisation,
        new_address: address(unit, "Số 1 phố Phúc Xá"),
        legal_basis: None,
    }
}

#[test]
fn phuc_xa_is_recoded_to_hong_ha_and_nobody_moves() {
    given(family())
        .when(recode(y2025(97)))
        .then([Event::ResidenceAddressRecoded(ResidenceAddressRecoded {
            dwelling: home1().0,
            effective_on: d("2025-07-01"),
            cause: RecodingCause::UnitReorganisation,
            old_address: home1().1,
            new_address: address(y2025(97), "Số 1 phố Phúc Xá"),
            households: vec![household(1)],
            persons: vec![person(AN), person(BINH), person(CUONG)],
            legal_basis: basis("Luật Cư trú 2020, Điều 26.1.c; Công văn 1555/BCA-C06"),
        })]);
}

#[test]
fn recoding_not_a_successor() {
    let rejection = given(family())
        .when(recode(y2025(4)))
        .then_reject("recoding_not_a_successor");
    assert_eq!(
        rejection,
        Rejection::RecodingNotASuccessor {
            old: phuc_xa(),
            new: y2025(4)
        }
    );
}

#[test]
fn a_divided_ward_is_recoded_to_any_of_its_receiving_wards() {
    // Legacy 00097 Phường Tứ Liên was divided: 00097 Hồng Hà (default) and 00103 Tây Hồ.
    let tu_lien = (dwelling(9), address(legacy(97), "Số 9 ngõ 12 Âu Cơ"));
    let mut events = everyone();
    extend_history(&mut events, [own_home(EM, 9, tu_lien, "2024-01-01").into()]);
    let command = RecodeAddress {
        dwelling: dwelling(9),
        effective_on: d("2025-07-01"),
        cause: RecodingCause::UnitReorganisation,
        new_address: address(y2025(103), "Số 9 ngõ 12 Âu Cơ"),
        legal_basis: None,
    };
    given(events).when(command).accepted();
}

#[test]
fn address_unchanged() {
    given(family())
        .when(RecodeAddress {
            effective_on: d("2024-07-01"),
            cause: RecodingCause::StreetRenamed,
            ..recode(phuc_xa())
        })
        .then_reject("address_unchanged");
}

#[test]
fn dwelling_unknown() {
    given(family())
        .when(RecodeAddress {
            dwelling: dwelling(8),
            ..recode(y2025(97))
        })
        .then_reject("dwelling_unknown");
}

#[test]
fn a_recoding_uses_units_valid_on_its_date() {
    given(family())
        .when(RecodeAddress {
            effective_on: d("2025-07-01"),
            cause: RecodingCause::StreetRenamed,
            new_address: address(phuc_xa(), "Số 1 phố Hồng Hà"),
            ..recode(y2025(97))
        })
        .then_reject("unit_not_valid_on_date");
}

// --- The reorganisation ------------------------------------------------------------------------

#[test]
fn the_2025_reorganisation_is_recorded_once() {
    given([])
        .when(ApplyReorganisation {})
        .then([Event::AdministrativeUnitsReorganized(
            AdministrativeUnitsReorganized::embedded(),
        )]);
    given([Event::AdministrativeUnitsReorganized(
        AdministrativeUnitsReorganized::embedded(),
    )])
    .when(ApplyReorganisation {})
    .then_reject("reorganisation_already_applied");
}

#[test]
fn reorganisation_not_in_force() {
    given([])
        .on(d("2025-06-30"))
        .by(Actor::Import)
        .when(ApplyReorganisation {})
        .then_reject("reorganisation_not_in_force");
}
