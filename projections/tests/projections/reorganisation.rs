//! The 2025 reorganisation on real unit codes: legacy ward 00001 (Phường Phúc Xá, Quận Ba Đình)
//! went whole into 2025 ward 00097 (Phường Hồng Hà); legacy 00007 (Phường Cống Vị) was divided
//! between 00008 (Phường Ngọc Hà, the default) and 00025 (Phường Giảng Võ). Recoding is not a
//! move: start dates stay.

use residence_domain::ids::{DwellingId, HouseholdId, PersonId};
use residence_domain::relationship::Relationship;
use residence_domain::timeline::AsKnown;
use residence_domain::units::{ProvinceCode, Scheme};

use super::support::*;

const AN: PersonId = PersonId::new(0x301);
const BINH: PersonId = PersonId::new(0x302);
const CHI: PersonId = PersonId::new(0x303);
const H1: HouseholdId = HouseholdId::new(0x401);
const H2: HouseholdId = HouseholdId::new(0x402);
const H3: HouseholdId = HouseholdId::new(0x403);
const D1: DwellingId = DwellingId::new(0xd1);
const D2: DwellingId = DwellingId::new(0xd2);
const D3: DwellingId = DwellingId::new(0xd3);

/// An in Phúc Xá since 2019; Bình and Chi in Cống Vị (divided) since 2020, Bình's dwelling
/// recoded to Giảng Võ by an officer, Chi's left on the default ward. Returns the position of
/// the reorganisation event.
fn world() -> (World, u64) {
    let mut world = World::new();
    let phuc_xa = address("legacy:00001", "Số 5 phố Phúc Xá");
    let cong_vi_b = address("legacy:00007", "Số 12 ngõ 34 phố Đội Cấn");
    let cong_vi_c = address("legacy:00007", "Số 80 phố Đội Cấn");
    world.record(
        "2021-08-02",
        &[
            person_recorded(AN, "001080000001", "Nguyễn Văn An").into(),
            person_recorded(BINH, "001080000002", "Trần Thị Bình").into(),
            person_recorded(CHI, "001080000003", "Lê Văn Chi").into(),
        ],
    );
    world.record(
        "2021-08-03",
        &[
            established(H1, "2019-03-15", &phuc_xa, D1, "HS-0001").into(),
            permanent(AN, "2019-03-15", &phuc_xa, D1, H1, Relationship::ChuHo).into(),
            established(H2, "2020-10-01", &cong_vi_b, D2, "HS-0002").into(),
            permanent(BINH, "2020-10-01", &cong_vi_b, D2, H2, Relationship::ChuHo).into(),
            established(H3, "2020-11-01", &cong_vi_c, D3, "HS-0003").into(),
            permanent(CHI, "2020-11-01", &cong_vi_c, D3, H3, Relationship::ChuHo).into(),
        ],
    );
    let (reorganised, _) = world.one("2025-07-01", reorganisation());
    world.one(
        "2025-07-02",
        recoded(
            D2,
            "2025-07-01",
            &cong_vi_b,
            &address("2025:00025", "Số 12 ngõ 34 phố Đội Cấn"),
            vec![H2],
            vec![BINH],
        ),
    );
    (world, reorganised)
}

#[test]
fn phuc_xa_since_2019_is_shown_in_hong_ha_from_2025_07_01_with_its_start_date() {
    let (world, reorganised) = world();
    let projections = world.projections();
    let timeline = projections.person_timeline(&world.ledger, AN).unwrap();

    let before = timeline
        .residence_on(day("2025-06-30"), AsKnown::Now)
        .residence;
    let permanent = before.permanent.unwrap();
    assert_eq!(permanent.start, day("2019-03-15"));
    assert_eq!(
        permanent.address.as_ref().unwrap().unit,
        unit("legacy:00001")
    );
    assert_eq!(
        permanent.unit_full_name().unwrap(),
        "Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội"
    );
    assert_eq!(permanent.today_unit, Some(unit("2025:00097")));
    assert_eq!(
        permanent.today_full_name().unwrap(),
        "Phường Hồng Hà, Thành phố Hà Nội"
    );

    let after = timeline
        .residence_on(day("2025-07-01"), AsKnown::Now)
        .residence;
    let permanent = after.permanent.unwrap();
    assert_eq!(permanent.start, day("2019-03-15"), "recoding is not a move");
    assert_eq!(permanent.address.as_ref().unwrap().unit, unit("2025:00097"));
    assert_eq!(
        permanent.address.as_ref().unwrap().street.as_str(),
        "Số 5 phố Phúc Xá"
    );
    assert_eq!(
        permanent.unit_full_name().unwrap(),
        "Phường Hồng Hà, Thành phố Hà Nội"
    );
    assert_eq!(permanent.end, None);

    // As known before the reorganisation event was recorded, the register still showed the
    // legacy ward on 2025-07-01.
    let unknown = timeline
        .residence_on(day("2025-07-01"), AsKnown::AtPosition(reorganised - 1))
        .residence
        .permanent
        .unwrap();
    assert_eq!(unknown.address.unwrap().unit, unit("legacy:00001"));

    // The compact model used by the registers shows the same.
    let spans = projections.spans_on(AN, day("2025-07-01"));
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].address.as_ref().unwrap().unit, unit("2025:00097"));
    assert_eq!(spans[0].span.start, day("2019-03-15"));
}

#[test]
fn divided_wards_take_the_default_until_recoded() {
    let (world, _) = world();
    let projections = world.projections();
    let on = |person| {
        projections
            .residence_on(&world.ledger, person, day("2025-07-01"), AsKnown::Now)
            .unwrap()
            .residence
            .permanent
            .unwrap()
    };
    let binh = on(BINH);
    assert_eq!(binh.address.as_ref().unwrap().unit, unit("2025:00025"));
    assert_eq!(binh.start, day("2020-10-01"));
    assert_eq!(binh.today_unit, Some(unit("2025:00025")));
    let chi = on(CHI);
    assert_eq!(chi.address.as_ref().unwrap().unit, unit("2025:00008"));
    assert_eq!(
        chi.today_full_name().unwrap(),
        "Phường Ngọc Hà, Thành phố Hà Nội"
    );
    // Before the reorganisation both are in Cống Vị.
    let before = projections
        .residence_on(&world.ledger, BINH, day("2025-06-30"), AsKnown::Now)
        .unwrap()
        .residence
        .permanent
        .unwrap();
    assert_eq!(before.address.unwrap().unit, unit("legacy:00007"));
    assert_eq!(before.today_unit, Some(unit("2025:00025")));
}

#[test]
fn population_counts_before_and_after_the_reorganisation() {
    let (world, _) = world();
    let projections = world.projections();

    let before = projections.population_on(day("2025-06-30"));
    assert_eq!(before.totals.permanent, 3);
    let communes: Vec<(String, u64)> = before
        .communes
        .iter()
        .map(|row| (row.unit.to_string(), row.counts.permanent))
        .collect();
    assert_eq!(
        communes,
        [
            ("legacy:00001".to_owned(), 1),
            ("legacy:00007".to_owned(), 2)
        ]
    );
    assert_eq!(before.districts.len(), 1);
    assert_eq!(before.districts[0].name, "Quận Ba Đình");
    assert_eq!(before.districts[0].counts.permanent, 3);
    assert_eq!(before.provinces.len(), 1);
    assert_eq!(before.provinces[0].scheme, Scheme::Legacy);
    assert_eq!(before.provinces[0].province, ProvinceCode::new(1).unwrap());
    // Re-expressed in today's units: Hồng Hà 1, Ngọc Hà 1, Giảng Võ 1.
    let today: Vec<(String, u64)> = before
        .today_communes
        .iter()
        .map(|row| (row.unit.to_string(), row.counts.permanent))
        .collect();
    assert_eq!(
        today,
        [
            ("2025:00008".to_owned(), 1),
            ("2025:00025".to_owned(), 1),
            ("2025:00097".to_owned(), 1)
        ]
    );

    let after = projections.population_on(day("2025-07-01"));
    let communes: Vec<(String, u64)> = after
        .communes
        .iter()
        .map(|row| (row.unit.to_string(), row.counts.permanent))
        .collect();
    assert_eq!(
        communes, today,
        "after the reorganisation the units are today's"
    );
    assert!(after.districts.is_empty(), "the 2025 map has no districts");
    assert_eq!(after.provinces[0].scheme, Scheme::Y2025);
    assert_eq!(after.provinces[0].name, Some("Thành phố Hà Nội"));
    assert_eq!(after.provinces[0].counts.permanent, 3);
    assert_eq!(after.today_communes, after.communes);
    assert_eq!(
        after.communes[2].name.as_deref(),
        Some("Phường Hồng Hà, Thành phố Hà Nội")
    );
}

#[test]
fn address_registers_follow_the_units_valid_on_the_date() {
    let (world, _) = world();
    let projections = world.projections();
    let legacy = projections.register(unit("legacy:00001"), None, day("2025-06-30"));
    assert_eq!(legacy.households.len(), 1);
    assert_eq!(legacy.households[0].household, H1);
    assert_eq!(legacy.households[0].head, Some(AN));
    assert_eq!(legacy.households[0].file_number.as_deref(), Some("HS-0001"));
    assert_eq!(
        legacy.unit_name.as_deref(),
        Some("Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội")
    );
    // The same people under Hồng Hà from 2025-07-01, and nobody there before.
    let hong_ha = projections.register(unit("2025:00097"), None, day("2025-07-01"));
    assert_eq!(hong_ha.households.len(), 1);
    assert_eq!(hong_ha.households[0].members[0].since, day("2019-03-15"));
    assert_eq!(
        hong_ha.households[0].members[0].address.unit,
        unit("2025:00097")
    );
    let early = projections.register(unit("2025:00097"), None, day("2025-06-30"));
    assert!(early.households.is_empty());
    assert!(
        projections
            .register(unit("legacy:00001"), None, day("2025-07-01"))
            .households
            .is_empty()
    );
    // One address of the divided ward: Bình's dwelling is in Giảng Võ, Chi's in Ngọc Hà.
    let street = residence_domain::address::StreetLine::parse("Số 12 ngõ 34 phố Đội Cấn").unwrap();
    let giang_vo = projections.register(unit("2025:00025"), Some(&street), day("2025-07-01"));
    assert_eq!(giang_vo.households.len(), 1);
    assert_eq!(giang_vo.households[0].members[0].person, BINH);
    let ngoc_ha = projections.register(unit("2025:00008"), None, day("2025-08-01"));
    assert_eq!(ngoc_ha.households.len(), 1);
    assert_eq!(ngoc_ha.households[0].members[0].person, CHI);
}
