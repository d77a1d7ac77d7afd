//! The household book after a split and a head change, as of dates and as known at positions.

use residence_domain::event::{
    HeadChangeReason, HouseholdHeadChanged, HouseholdSplit, MemberRelationship,
};
use residence_domain::ids::{DwellingId, HouseholdId, PersonId};
use residence_domain::relationship::Relationship;
use residence_domain::timeline::{AsKnown, IntervalKind};

use super::support::*;

const AN: PersonId = PersonId::new(0x501);
const BINH: PersonId = PersonId::new(0x502);
const CHI: PersonId = PersonId::new(0x503);
const DUNG: PersonId = PersonId::new(0x504);
const H: HouseholdId = HouseholdId::new(0x601);
const H2: HouseholdId = HouseholdId::new(0x602);
const D: DwellingId = DwellingId::new(0xd1);

struct Story {
    world: World,
    split: u64,
    death: u64,
    head_change: u64,
}

/// An (head), Bình (wife), Chi and Dũng (children) since 2015. Chi splits off with Dũng on
/// 2023-05-01; An dies on 2024-01-10 (head vacant); Bình is named head on 2024-02-01.
fn story() -> Story {
    let mut world = World::new();
    let home = address("legacy:00004", "Số 9 phố Trúc Bạch");
    world.record(
        "2021-08-02",
        &[
            person_recorded(AN, "001060000001", "Nguyễn Văn An").into(),
            person_recorded(BINH, "001165000002", "Trần Thị Bình").into(),
            person_recorded(CHI, "001095000003", "Nguyễn Văn Chi").into(),
            person_recorded(DUNG, "001198000004", "Nguyễn Thị Dũng").into(),
            established(H, "2015-04-01", &home, D, "HS-0601").into(),
            permanent(AN, "2015-04-01", &home, D, H, Relationship::ChuHo).into(),
            permanent(BINH, "2015-04-01", &home, D, H, Relationship::Vo).into(),
            permanent(CHI, "2015-04-01", &home, D, H, Relationship::ConDe).into(),
            permanent(DUNG, "2015-04-01", &home, D, H, Relationship::ConDe).into(),
        ],
    );
    let (split, _) = world.one(
        "2023-05-03",
        HouseholdSplit {
            household: H,
            new_household: H2,
            effective_on: day("2023-05-01"),
            dwelling: D,
            address: home.clone(),
            new_head: CHI,
            members: vec![MemberRelationship {
                person: DUNG,
                relationship: Relationship::EmRuot,
            }],
            consents: Vec::new(),
            residence_file_number: Some(
                residence_domain::event::ResidenceFileNumber::parse("HS-0602").unwrap(),
            ),
            legal_basis: basis(),
            application: None,
        },
    );
    let (death, _) = world.one("2024-01-11", died(AN, "2024-01-10", &home, D, H));
    let (head_change, _) = world.one(
        "2024-02-01",
        HouseholdHeadChanged {
            household: H,
            effective_on: day("2024-02-01"),
            previous_head: None,
            new_head: BINH,
            reason: HeadChangeReason::HeadDied,
            members: Vec::new(),
            court_decision: None,
            legal_basis: basis(),
            application: None,
        },
    );
    Story {
        world,
        split,
        death,
        head_change,
    }
}

fn members(book: &residence_projections::book::HouseholdBook) -> Vec<(PersonId, Relationship)> {
    book.members
        .iter()
        .map(|member| (member.person, member.relationship.clone()))
        .collect()
}

#[test]
fn the_book_before_and_after_the_split() {
    let story = story();
    let projections = story.world.projections();
    let ledger = &story.world.ledger;
    let book = projections
        .household_book(ledger, H, day("2023-04-30"), AsKnown::Now)
        .unwrap();
    assert_eq!(book.head, Some(AN));
    assert_eq!(
        members(&book),
        [
            (AN, Relationship::ChuHo),
            (BINH, Relationship::Vo),
            (CHI, Relationship::ConDe),
            (DUNG, Relationship::ConDe)
        ]
    );
    assert_eq!(book.file_number.as_deref(), Some("HS-0601"));
    assert_eq!(book.founded_on, Some(day("2015-04-01")));
    assert_eq!(
        book.unit_name.as_deref(),
        Some("Phường Trúc Bạch, Quận Ba Đình, Thành phố Hà Nội")
    );
    assert!(
        book.members
            .iter()
            .all(|m| m.registration == IntervalKind::Permanent
                && m.registered_since == day("2015-04-01"))
    );

    let book = projections
        .household_book(ledger, H, day("2023-05-01"), AsKnown::Now)
        .unwrap();
    assert_eq!(
        members(&book),
        [(AN, Relationship::ChuHo), (BINH, Relationship::Vo)]
    );
    let new = projections
        .household_book(ledger, H2, day("2023-05-01"), AsKnown::Now)
        .unwrap();
    assert_eq!(new.head, Some(CHI));
    assert_eq!(
        members(&new),
        [(CHI, Relationship::ChuHo), (DUNG, Relationship::EmRuot)]
    );
    assert_eq!(new.split_from, Some(H));
    assert_eq!(new.file_number.as_deref(), Some("HS-0602"));
    // A split keeps the registration: same start date.
    assert!(
        new.members
            .iter()
            .all(|m| m.registered_since == day("2015-04-01"))
    );
    // As known before the split was recorded, the new household did not exist and the old one
    // still had four members on 2023-05-01.
    let then = AsKnown::AtPosition(story.split - 1);
    let old_then = projections
        .household_book(ledger, H, day("2023-05-01"), then)
        .unwrap();
    assert_eq!(old_then.members.len(), 4);
    let new_then = projections
        .household_book(ledger, H2, day("2023-05-01"), then)
        .unwrap();
    assert!(new_then.members.is_empty());
    assert_eq!(new_then.founded_on, None);
}

#[test]
fn the_book_after_the_heads_death_and_the_new_head() {
    let story = story();
    let projections = story.world.projections();
    let ledger = &story.world.ledger;
    let vacant = projections
        .household_book(ledger, H, day("2024-01-15"), AsKnown::Now)
        .unwrap();
    assert_eq!(vacant.head, None);
    assert!(vacant.head_vacant);
    assert_eq!(members(&vacant), [(BINH, Relationship::Vo)]);
    let named = projections
        .household_book(ledger, H, day("2024-02-01"), AsKnown::Now)
        .unwrap();
    assert_eq!(named.head, Some(BINH));
    assert!(!named.head_vacant);
    assert_eq!(members(&named), [(BINH, Relationship::ChuHo)]);
    // Known just after the death: head vacant even on 2024-03-01.
    let known = projections
        .household_book(
            ledger,
            H,
            day("2024-03-01"),
            AsKnown::AtPosition(story.death),
        )
        .unwrap();
    assert!(known.head_vacant);
    // The history lists every record of the household, up to what was known.
    let positions: Vec<u64> = named.history.iter().map(|r| r.position).collect();
    assert!(positions.contains(&story.split));
    assert!(positions.contains(&story.death));
    assert!(positions.contains(&story.head_change));
    assert!(known.history.iter().all(|r| r.position <= story.death));
    // The PIN is on the book.
    assert_eq!(named.members[0].pin, Some("001165000002".parse().unwrap()));
}

#[test]
fn head_vacant_households_are_due() {
    let story = story();
    let projections = story.world.projections();
    let lists = projections.due_lists(day("2024-01-15"), 30, &Default::default());
    assert_eq!(lists.head_vacant.len(), 1);
    assert_eq!(lists.head_vacant[0].household, H);
    assert_eq!(lists.head_vacant[0].members, [BINH]);
    let lists = projections.due_lists(day("2024-02-01"), 30, &Default::default());
    assert!(lists.head_vacant.is_empty());
}
