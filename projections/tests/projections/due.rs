//! Due lists: temporary terms about to run out and absences reaching 12 months, derived from
//! valid-time ends, with no event recorded for them.

use residence_domain::ids::{DwellingId, HouseholdId, PersonId};
use residence_domain::relationship::Relationship;
use residence_projections::due::Scope;

use super::support::*;

const AN: PersonId = PersonId::new(0x701);
const BINH: PersonId = PersonId::new(0x702);
const H: HouseholdId = HouseholdId::new(0x801);
const D: DwellingId = DwellingId::new(0xd1);
const T: DwellingId = DwellingId::new(0xd7);

fn world() -> World {
    let mut world = World::new();
    let home = address("legacy:00004", "Số 9 phố Trúc Bạch");
    let lodging = address("legacy:00001", "Số 3 phố Phúc Xá");
    world.record(
        "2021-08-02",
        &[
            person_recorded(AN, "001080000001", "Nguyễn Văn An").into(),
            person_recorded(BINH, "001180000002", "Trần Thị Bình").into(),
            established(H, "2015-04-01", &home, D, "HS-0801").into(),
            permanent(AN, "2015-04-01", &home, D, H, Relationship::ChuHo).into(),
            permanent(BINH, "2015-04-01", &home, D, H, Relationship::Vo).into(),
        ],
    );
    // Bình lodges temporarily at Phúc Xá until 2024-03-31.
    world.one(
        "2023-04-01",
        temporary(BINH, "2023-04-01", "2024-03-31", &lodging, T),
    );
    // An declares an absence from 2023-02-01 to 2024-06-30.
    world.one("2023-02-01", absence(AN, "2023-02-01", "2024-06-30"));
    world
}

#[test]
fn a_term_is_due_within_the_window_and_not_before() {
    let world = world();
    let projections = world.projections();
    let lists = projections.due_lists(day("2024-03-15"), 30, &Scope::All);
    assert_eq!(lists.expiring.len(), 1);
    assert_eq!(lists.expiring[0].person, BINH);
    assert_eq!(lists.expiring[0].until, day("2024-03-31"));
    assert_eq!(lists.expiring[0].unit, Some(unit("legacy:00001")));
    assert!(
        projections
            .due_lists(day("2024-01-01"), 30, &Scope::All)
            .expiring
            .is_empty()
    );
    // Once the term has run out it is no longer listed: it ended by itself.
    assert!(
        projections
            .due_lists(day("2024-04-01"), 30, &Scope::All)
            .expiring
            .is_empty()
    );
    // A jurisdiction that does not include the unit does not see it.
    let elsewhere = Scope::Units(vec![unit("legacy:00004")]);
    assert!(
        projections
            .due_lists(day("2024-03-15"), 30, &elsewhere)
            .expiring
            .is_empty()
    );
    let here = Scope::Units(vec![unit("legacy:00001")]);
    assert_eq!(
        projections
            .due_lists(day("2024-03-15"), 30, &here)
            .expiring
            .len(),
        1
    );
}

#[test]
fn an_extension_moves_the_due_date_and_a_deletion_removes_it() {
    let mut world = world();
    let lodging = address("legacy:00001", "Số 3 phố Phúc Xá");
    world.one(
        "2024-03-20",
        extended(BINH, T, "2024-03-20", "2024-03-31", "2025-03-31"),
    );
    let projections = world.projections();
    assert!(
        projections
            .due_lists(day("2024-03-21"), 30, &Scope::All)
            .expiring
            .is_empty()
    );
    let lists = projections.due_lists(day("2025-03-10"), 30, &Scope::All);
    assert_eq!(lists.expiring[0].until, day("2025-03-31"));
    world.one(
        "2024-09-01",
        temporary_deleted(BINH, "2024-09-01", &lodging, T),
    );
    let projections = world.projections();
    assert!(
        projections
            .due_lists(day("2025-03-10"), 30, &Scope::All)
            .expiring
            .is_empty()
    );
}

#[test]
fn absences_reaching_twelve_months() {
    let world = world();
    let projections = world.projections();
    let lists = projections.due_lists(day("2024-01-20"), 30, &Scope::All);
    assert_eq!(lists.long_absences.len(), 1);
    let absence = &lists.long_absences[0];
    assert_eq!(absence.person, AN);
    assert_eq!(absence.since, day("2023-02-01"));
    assert_eq!(absence.twelve_months_on, day("2024-02-01"));
    assert_eq!(absence.unit, Some(unit("legacy:00004")));
    assert!(
        projections
            .due_lists(day("2023-06-01"), 30, &Scope::All)
            .long_absences
            .is_empty()
    );
    // Still listed once reached, while the absence holds; not after it ends.
    assert_eq!(
        projections
            .due_lists(day("2024-05-01"), 0, &Scope::All)
            .long_absences
            .len(),
        1
    );
    assert!(
        projections
            .due_lists(day("2024-07-01"), 30, &Scope::All)
            .long_absences
            .is_empty()
    );
    // Counts: the absent person is counted under the permanent registration.
    let population = projections.population_on(day("2024-01-20"));
    assert_eq!(population.totals.absent, 1);
    assert_eq!(population.totals.permanent, 2);
    assert_eq!(population.totals.temporary, 1);
    let truc_bach = population
        .communes
        .iter()
        .find(|row| row.unit == unit("legacy:00004"))
        .unwrap();
    assert_eq!(truc_bach.counts.absent, 1);
    // No event was recorded for any of this.
    assert_eq!(projections.position(), world.ledger.head().size);
}
