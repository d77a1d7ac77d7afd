//! Dated rule parameters: which rule of the residence law is in force on a date.
//!
//! Why a module of its own: the law changed several times (Law 68/2020 from 2021-07-01, TT66 from
//! 2024-01-01, TT116 from 2026-07-01) and the register judges every act by the rules in force on
//! its `effective_on`, including acts recorded years later (imported paper books, corrections).
//! Keeping every number and list here, as data keyed by the date it took effect, lets `decide`
//! ask "what was the rule on that day" and lets a reader audit the parameters in one place.
//!
//! Acts dated before 2021-07-01 (imported or generated history) are judged by the rules of
//! 2021-07-01 ([`rules_date`]): the project does not model the 2006 law.
//!
//! Facts marked **\[M\]** follow DOMAIN.md and still need checking against the official text.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::{Datelike, Months, NaiveDate};

use crate::event::{AbsenceClause, PermanentBasis};
use crate::relationship::Relationship;
use crate::units::{ProvinceCode, Scheme, UnitCode, UnitRef, registry};

/// Builds a date from constant parts; the parts below are all valid dates.
const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("rule dates are valid calendar dates"),
    }
}

/// Luật Cư trú 68/2020/QH14 takes effect.
pub const LAW_2020_IN_FORCE: NaiveDate = date(2021, 7, 1);
/// TT 66/2023/TT-BCA takes effect (new CT07 validity, VNeID channel).
pub const TT66_IN_FORCE: NaiveDate = date(2024, 1, 1);
/// TT 116/2026/TT-BCA takes effect (Art 23 places admit 20.2.a permanent registrations) \[M\].
pub const TT116_IN_FORCE: NaiveDate = date(2026, 7, 1);

/// The date whose rules judge an act effective on `effective_on`: the act's own date, or
/// 2021-07-01 for anything earlier.
pub fn rules_date(effective_on: NaiveDate) -> NaiveDate {
    effective_on.max(LAW_2020_IN_FORCE)
}

/// A rule parameter and the first day it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dated<T: 'static> {
    /// The first day the value applies.
    pub from: NaiveDate,
    /// The value.
    pub value: T,
    /// The instrument that set it.
    pub source: &'static str,
}

/// The entry of `table` in force on `date` (judged by [`rules_date`]): the last entry whose
/// `from` is on or before it. Tables start on 2021-07-01, so every date finds one.
pub fn in_force<T>(table: &'static [Dated<T>], date: NaiveDate) -> &'static Dated<T> {
    let date = rules_date(date);
    let index = table.partition_point(|entry| entry.from <= date);
    let fallback = table
        .first()
        .expect("every rule table has an entry from 2021-07-01");
    index
        .checked_sub(1)
        .and_then(|index| table.get(index))
        .unwrap_or(fallback)
}

// ---------------------------------------------------------------------------------------------
// Ages.

/// Full age in years on `on` of a person born on `birth_date` (0 before the first birthday).
pub fn age_on(birth_date: NaiveDate, on: NaiveDate) -> u32 {
    let mut years = on.year() - birth_date.year();
    if (on.month(), on.day()) < (birth_date.month(), birth_date.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// Full civil capacity starts at 18 (Civil Code Art 20); a younger person is a minor (I8).
pub const ADULT_AGE_YEARS: u32 = 18;

/// An elderly person is 60 or older (Law on the Elderly 2009 Art 2), for Art 20.2(b).
pub const ELDERLY_AGE_YEARS: u32 = 60;

// ---------------------------------------------------------------------------------------------
// Temporary registration (Art 27–28).

/// The longest temporary term, in months (Art 27.2: at most 2 years; unlimited extensions).
pub const TEMPORARY_TERM_MONTHS_MAX: u32 = 24;

/// The last day a temporary term starting on `from` may run to: the same calendar day two years
/// later (for 29 February, 28 February). A term from 2024-03-10 may run through 2026-03-10.
pub fn temporary_until_max(from: NaiveDate) -> NaiveDate {
    from.checked_add_months(Months::new(TEMPORARY_TERM_MONTHS_MAX))
        .unwrap_or(NaiveDate::MAX)
}

/// An extension is filed within the 15 days before the term ends (TT55 Art 7 \[S2, S65\]).
pub const EXTENSION_WINDOW_DAYS: u64 = 15;

/// The filing window of an extension of a term ending on `until`: from `until − 15 days`
/// (included) to `until` (excluded).
pub fn extension_window(until: NaiveDate) -> (NaiveDate, NaiveDate) {
    let opens = until
        .checked_sub_days(chrono::Days::new(EXTENSION_WINDOW_DAYS))
        .unwrap_or(NaiveDate::MIN);
    (opens, until)
}

// ---------------------------------------------------------------------------------------------
// Stay notification and temporary absence (Art 30–31).

/// A stay (lưu trú) is shorter than 30 days (Art 2): at most 29 days counted inclusively.
pub const STAY_DAYS_MAX: i64 = 29;

/// The shortest absence, in months, that each clause of Art 31.1 is about: (a) and (b) apply
/// from one day on, (c) from 3 continuous months, (d) from 12 continuous months.
pub fn absence_minimum_months(clause: AbsenceClause) -> u32 {
    match clause {
        AbsenceClause::Sentenced | AbsenceClause::AdministrativeMeasure => 0,
        AbsenceClause::MilitaryServiceAge => 3,
        AbsenceClause::LongAbsence => 12,
    }
}

// ---------------------------------------------------------------------------------------------
// Civil-status adjustment (Art 26.1(b)).

/// The person files within 30 days of the civil-status decision; a later filing is still
/// recorded (the delay is an administrative offence, not a ground for refusal), with a warning.
pub const CIVIL_STATUS_FILING_DAYS: i64 = 30;

// ---------------------------------------------------------------------------------------------
// Residence confirmation (CT07).

/// How long a CT07 stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ct07Validity {
    /// Days of validity when the person has a permanent or temporary registration (0: months).
    pub days: u64,
    /// Months of validity when the person has a permanent or temporary registration (0: days).
    pub months: u32,
    /// Months of validity when the confirmation rests on an Art 19 declaration only.
    pub declaration_months: u32,
}

/// CT07 validity: 30 days (6 months for Art 19 declarations) under TT55 until 2023-12-31; one
/// year from 2024-01-01 (TT66) for every case, kept under TT116 \[M\].
pub const CT07_VALIDITY: &[Dated<Ct07Validity>] = &[
    Dated {
        from: LAW_2020_IN_FORCE,
        value: Ct07Validity {
            days: 30,
            months: 0,
            declaration_months: 6,
        },
        source: "Thông tư 55/2021/TT-BCA, Điều 17",
    },
    Dated {
        from: TT66_IN_FORCE,
        value: Ct07Validity {
            days: 0,
            months: 12,
            declaration_months: 12,
        },
        source: "Thông tư 66/2023/TT-BCA, Điều 17",
    },
];

/// What a confirmation rests on, for its validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmationBasis {
    /// A permanent or temporary registration.
    Registration,
    /// Only an Art 19 declaration of current residence.
    Declaration,
}

/// The last day of validity of a CT07 issued on `issued_on`, counting the issue day: 30 days
/// from 2023-03-01 run through 2023-03-30, one year from 2024-03-10 through 2025-03-09.
pub fn ct07_valid_until(issued_on: NaiveDate, basis: ConfirmationBasis) -> NaiveDate {
    let rule = in_force(CT07_VALIDITY, issued_on).value;
    let end_exclusive = match basis {
        ConfirmationBasis::Declaration => {
            issued_on.checked_add_months(Months::new(rule.declaration_months))
        }
        ConfirmationBasis::Registration if rule.months > 0 => {
            issued_on.checked_add_months(Months::new(rule.months))
        }
        ConfirmationBasis::Registration => issued_on.checked_add_days(chrono::Days::new(rule.days)),
    };
    end_exclusive
        .and_then(|day| day.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

// ---------------------------------------------------------------------------------------------
// Art 23 barred places.

/// Whether a permanent registration on `basis` with `relationship` to the head is admitted at
/// an Art 23 place on `date`: only joining a spouse, child or parent (Art 20.2.a), and only from
/// 2026-07-01 (TT116 Art 6.7 \[S67\], read from an unofficial copy \[M\]). Temporary
/// registrations are never admitted.
pub fn art23_admits_permanent(
    date: NaiveDate,
    basis: PermanentBasis,
    relationship: Option<&Relationship>,
) -> bool {
    rules_date(date) >= TT116_IN_FORCE
        && basis == PermanentBasis::JoinRelative
        && relationship.is_some_and(|relationship| JOIN_SPOUSE_CHILD_PARENT.contains(relationship))
}

// ---------------------------------------------------------------------------------------------
// Art 20.2: the closed kinship lists for joining a relative.
//
// A relationship in this project is what the member is to the head (CT01 item 8), so each clause
// of the law ("X comes to live with Y") is turned around: Y is the head, and the list holds
// what X is to Y.

/// 20.2(a): a wife or husband joining their spouse, a child joining a parent, a parent joining a
/// child. Adoptive parents and children count as parents and children (Law on Adoption Art 24);
/// step-parents and in-laws do not \[M\].
pub const JOIN_SPOUSE_CHILD_PARENT: &[Relationship] = &[
    Relationship::Vo,
    Relationship::Chong,
    Relationship::ConDe,
    Relationship::ConNuoi,
    Relationship::ChaDe,
    Relationship::MeDe,
    Relationship::ChaNuoi,
    Relationship::MeNuoi,
];

/// 20.2(b), first case: an elderly person joining a sibling or a cháu ruột. The joining person
/// is then the head's sibling, uncle or aunt (head = nephew or niece) or grandparent (head =
/// grandchild). Half-siblings are not "ruột" \[M\].
pub const JOIN_ELDERLY: &[Relationship] = &[
    Relationship::AnhRuot,
    Relationship::ChiRuot,
    Relationship::EmRuot,
    Relationship::BacRuot,
    Relationship::ChuRuot,
    Relationship::CauRuot,
    Relationship::CoRuot,
    Relationship::DiRuot,
    Relationship::OngNoi,
    Relationship::BaNoi,
    Relationship::OngNgoai,
    Relationship::BaNgoai,
];

/// 20.2(b), second case: a person with a severe disability, unable to work or mentally ill
/// joining a grandparent, sibling, uncle or aunt, cháu ruột or guardian.
pub const JOIN_DEPENDENT: &[Relationship] = &[
    Relationship::ChauNoi,
    Relationship::ChauNgoai,
    Relationship::AnhRuot,
    Relationship::ChiRuot,
    Relationship::EmRuot,
    Relationship::ChauRuot,
    Relationship::BacRuot,
    Relationship::ChuRuot,
    Relationship::CauRuot,
    Relationship::CoRuot,
    Relationship::DiRuot,
    Relationship::OngNoi,
    Relationship::BaNoi,
    Relationship::OngNgoai,
    Relationship::BaNgoai,
    Relationship::NguoiDuocGiamHo,
];

/// 20.2(c): a minor joining a great-grandparent, grandparent, sibling, uncle or aunt, or
/// guardian.
pub const JOIN_MINOR: &[Relationship] = &[
    Relationship::ChatRuot,
    Relationship::ChauNoi,
    Relationship::ChauNgoai,
    Relationship::AnhRuot,
    Relationship::ChiRuot,
    Relationship::EmRuot,
    Relationship::ChauRuot,
    Relationship::NguoiDuocGiamHo,
];

/// The circumstance of Art 20.2(b) that is not read from the register: the person's age is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dependency {
    /// Khuyết tật đặc biệt nặng, nặng: a severe disability.
    SevereDisability,
    /// Không có khả năng lao động: unable to work.
    UnableToWork,
    /// Bị bệnh tâm thần hoặc bệnh khác làm mất khả năng nhận thức: mentally ill.
    MentalIllness,
}

/// The clause of Art 20.2 under which a person may join a relative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinClause {
    /// (a) spouse, child or parent.
    SpouseChildParent,
    /// (b) an elderly person.
    Elderly,
    /// (b) a dependent person.
    Dependent,
    /// (c) a minor.
    Minor,
}

/// The first clause of Art 20.2 that admits a person of `age` with `relationship` to the head
/// and the declared `dependency`, or `None` when none does.
pub fn join_clause(
    relationship: &Relationship,
    age_years: u32,
    dependency: Option<Dependency>,
) -> Option<JoinClause> {
    if JOIN_SPOUSE_CHILD_PARENT.contains(relationship) {
        Some(JoinClause::SpouseChildParent)
    } else if age_years >= ELDERLY_AGE_YEARS && JOIN_ELDERLY.contains(relationship) {
        Some(JoinClause::Elderly)
    } else if dependency.is_some() && JOIN_DEPENDENT.contains(relationship) {
        Some(JoinClause::Dependent)
    } else if age_years < ADULT_AGE_YEARS && JOIN_MINOR.contains(relationship) {
        Some(JoinClause::Minor)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Art 20.3: minimum floor area per person for rented, borrowed or shared dwellings.

/// The national floor: never less than 8 m² of floor per person (Art 20.3), in tenths of m².
pub const FLOOR_AREA_NATIONAL_TENTHS: u32 = 80;

/// A provincial minimum that overrides the national floor for part of a province.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloorAreaOverride {
    /// The legacy province (before 2025-07-01) the rule was made for.
    pub legacy_province: ProvinceCode,
    /// The legacy districts (3-digit codes) where `minimum_tenths` applies.
    pub legacy_districts: &'static [&'static str],
    /// The minimum in tenths of m² per person inside those districts.
    pub minimum_tenths: u32,
    /// The minimum elsewhere in the province.
    pub elsewhere_tenths: u32,
    /// The first day the provincial rule applies.
    pub from: NaiveDate,
    /// The instrument.
    pub source: &'static str,
    /// Whether the date and figures were checked against the official text.
    pub verified: bool,
}

/// The provincial overrides.
///
/// Hà Nội: 15 m²/person in the 12 inner urban districts (quận) and 8 m² elsewhere, "to 2030"
/// (HĐND Hà Nội, Nghị quyết 06/2023/NQ-HĐND) \[S48\]. The effective date 2024-01-01 is a
/// choice of this project, unverified \[M\]. After 2025-07-01 districts no longer exist; a 2025
/// ward takes the inner-district minimum when any part of a legacy ward of those districts went
/// into it (the stricter reading) \[M\].
pub const FLOOR_AREA_OVERRIDES: &[FloorAreaOverride] = &[FloorAreaOverride {
    legacy_province: match ProvinceCode::new(1) {
        Some(code) => code,
        None => panic!("01 is a province code"),
    },
    legacy_districts: &[
        "001", "002", "003", "004", "005", "006", "007", "008", "009", "019", "021", "268",
    ],
    minimum_tenths: 150,
    elsewhere_tenths: 80,
    from: date(2024, 1, 1),
    source: "Nghị quyết 06/2023/NQ-HĐND thành phố Hà Nội",
    verified: false,
}];

/// The minimum floor area per person that applies to a dwelling in `unit` on `date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloorAreaMinimum {
    /// The minimum in tenths of m² per person.
    pub tenths_per_person: u32,
    /// The rule it comes from.
    pub source: &'static str,
}

/// The 2025 wards that received any part of a legacy ward in the districts of `rule`.
fn inner_wards_2025(rule: &FloorAreaOverride) -> BTreeSet<UnitCode> {
    let registry = registry();
    registry
        .units(Scheme::Legacy)
        .filter(|info| {
            info.province == rule.legacy_province
                && info
                    .district
                    .is_some_and(|(code, _)| rule.legacy_districts.contains(&code))
        })
        .flat_map(|info| {
            registry
                .successors(info.unit.code)
                .iter()
                .map(|row| row.code)
        })
        .collect()
}

/// Whether `unit` lies in the districts of `rule` (for a 2025 unit: received part of them).
fn override_covers(rule: &FloorAreaOverride, unit: UnitRef) -> Option<bool> {
    let registry = registry();
    let info = registry.get(unit)?;
    match unit.scheme {
        Scheme::Legacy => {
            if info.province != rule.legacy_province {
                return None;
            }
            Some(
                info.district
                    .is_some_and(|(code, _)| rule.legacy_districts.contains(&code)),
            )
        }
        Scheme::Y2025 => {
            if registry.province_successor(rule.legacy_province) != Some(info.province) {
                return None;
            }
            // One table per override; there is one override today, so one cache suffices.
            static INNER: OnceLock<BTreeSet<UnitCode>> = OnceLock::new();
            let inner = INNER.get_or_init(|| inner_wards_2025(rule));
            Some(inner.contains(&unit.code))
        }
    }
}

/// The minimum floor area per person for a rented, borrowed or shared dwelling in `unit` on
/// `date`: the provincial override where one is in force, else the national 8 m².
pub fn floor_area_minimum(unit: UnitRef, date: NaiveDate) -> FloorAreaMinimum {
    let date = rules_date(date);
    for rule in FLOOR_AREA_OVERRIDES {
        if date < rule.from {
            continue;
        }
        if let Some(inner) = override_covers(rule, unit) {
            let tenths = if inner {
                rule.minimum_tenths
            } else {
                rule.elsewhere_tenths
            };
            return FloorAreaMinimum {
                tenths_per_person: tenths.max(FLOOR_AREA_NATIONAL_TENTHS),
                source: rule.source,
            };
        }
    }
    FloorAreaMinimum {
        tenths_per_person: FLOOR_AREA_NATIONAL_TENTHS,
        source: "Luật Cư trú 2020, Điều 20.3",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().expect("test dates are valid")
    }

    #[test]
    fn earlier_acts_are_judged_by_the_rules_of_2021_07_01() {
        assert_eq!(rules_date(d("2015-03-01")), LAW_2020_IN_FORCE);
        assert_eq!(rules_date(d("2022-03-01")), d("2022-03-01"));
        assert_eq!(
            in_force(CT07_VALIDITY, d("2019-05-01")).from,
            LAW_2020_IN_FORCE
        );
        assert_eq!(
            ct07_valid_until(d("2019-05-01"), ConfirmationBasis::Registration),
            d("2019-05-30")
        );
    }

    #[test]
    fn ct07_validity_follows_the_issue_date() {
        assert_eq!(
            ct07_valid_until(d("2023-03-01"), ConfirmationBasis::Registration),
            d("2023-03-30")
        );
        assert_eq!(
            ct07_valid_until(d("2023-03-01"), ConfirmationBasis::Declaration),
            d("2023-08-31")
        );
        assert_eq!(
            ct07_valid_until(d("2024-03-10"), ConfirmationBasis::Registration),
            d("2025-03-09")
        );
        assert_eq!(
            ct07_valid_until(d("2024-03-10"), ConfirmationBasis::Declaration),
            d("2025-03-09")
        );
    }

    #[test]
    fn temporary_terms_and_extension_windows() {
        assert_eq!(temporary_until_max(d("2024-03-10")), d("2026-03-10"));
        assert_eq!(temporary_until_max(d("2024-02-29")), d("2026-02-28"));
        assert_eq!(
            extension_window(d("2025-06-30")),
            (d("2025-06-15"), d("2025-06-30"))
        );
    }

    #[test]
    fn ages_count_full_years() {
        assert_eq!(age_on(d("2000-06-15"), d("2018-06-14")), 17);
        assert_eq!(age_on(d("2000-06-15"), d("2018-06-15")), 18);
        assert_eq!(age_on(d("2000-06-15"), d("1999-01-01")), 0);
    }

    #[test]
    fn hanoi_inner_districts_need_15_square_metres_from_2024() {
        let phuc_xa = UnitRef::legacy(UnitCode::new(1).expect("code"));
        let hong_ha = UnitRef::y2025(UnitCode::new(97).expect("code"));
        assert_eq!(
            floor_area_minimum(phuc_xa, d("2023-12-31")).tenths_per_person,
            80
        );
        assert_eq!(
            floor_area_minimum(phuc_xa, d("2024-01-01")).tenths_per_person,
            150
        );
        assert_eq!(
            floor_area_minimum(hong_ha, d("2025-07-01")).tenths_per_person,
            150
        );
        // Xã Minh Châu (Huyện Ba Vì) is outside the inner districts.
        let ba_vi = registry()
            .units(Scheme::Legacy)
            .find(|info| info.district.is_some_and(|(code, _)| code == "271"))
            .expect("Ba Vì has communes");
        assert_eq!(
            floor_area_minimum(ba_vi.unit, d("2024-06-01")).tenths_per_person,
            80
        );
        // Elsewhere in the country the national floor applies.
        let hcm = registry()
            .units(Scheme::Legacy)
            .find(|info| info.province.get() == 79)
            .expect("Hồ Chí Minh City has wards");
        assert_eq!(
            floor_area_minimum(hcm.unit, d("2024-06-01")).tenths_per_person,
            80
        );
    }

    #[test]
    fn art23_admits_spouse_child_parent_from_tt116() {
        let basis = PermanentBasis::JoinRelative;
        assert!(!art23_admits_permanent(
            d("2026-06-30"),
            basis,
            Some(&Relationship::Vo)
        ));
        assert!(art23_admits_permanent(
            d("2026-07-01"),
            basis,
            Some(&Relationship::Vo)
        ));
        assert!(!art23_admits_permanent(
            d("2026-07-01"),
            basis,
            Some(&Relationship::EmRuot)
        ));
        assert!(!art23_admits_permanent(
            d("2026-07-01"),
            PermanentBasis::OwnHome,
            None
        ));
    }

    #[test]
    fn kinship_clauses() {
        assert_eq!(
            join_clause(&Relationship::ConDe, 30, None),
            Some(JoinClause::SpouseChildParent)
        );
        assert_eq!(
            join_clause(&Relationship::EmRuot, 65, None),
            Some(JoinClause::Elderly)
        );
        assert_eq!(join_clause(&Relationship::EmRuot, 40, None), None);
        assert_eq!(
            join_clause(&Relationship::ChauRuot, 40, Some(Dependency::UnableToWork)),
            Some(JoinClause::Dependent)
        );
        assert_eq!(
            join_clause(&Relationship::ChauNoi, 10, None),
            Some(JoinClause::Minor)
        );
        assert_eq!(join_clause(&Relationship::OThue, 10, None), None);
    }
}
