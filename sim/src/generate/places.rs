//! Where the simulated people live: real communes of both administrative maps, weighted like
//! Vietnam's population, and the destinations of migrants and of temporary residents.
//!
//! Sources of the weights (figures rounded; the simulation needs shapes, not exact numbers):
//! - Province populations: GSO, *Kết quả toàn bộ Tổng điều tra dân số và nhà ở năm 2019*
//!   (the 2019 census), in thousands, for the 63 provinces before 2025-07-01. The 2025 provinces
//!   weigh the sum of the legacy provinces merged into them (Resolution 202/2025/QH15).
//! - Within a province, an urban ward (phường) weighs 2.5, a township (thị trấn) 1.5 and a rural
//!   commune (xã, đặc khu) 1: wards are more populous (the 2019 census counts ~34% of the
//!   population urban in ~18% of the communes) \[approximation\].
//! - Internal migration and temporary residence go mostly to Hồ Chí Minh City, Bình Dương,
//!   Hà Nội, Đồng Nai and Bắc Ninh, then to the other industrial provinces: the 2019 census
//!   migration report (GSO/UNFPA 2020, *Migration and urbanization in Viet Nam*) names these as
//!   the largest net receivers; the shares below are this project's rounding of that ranking.

use rand::Rng;
use residence_domain::address::{Address, StreetLine};
use residence_domain::units::{ProvinceCode, Scheme, UnitCode, UnitRef, registry};

/// Legacy province code and 2019 census population in thousands.
pub const PROVINCE_POPULATION_2019: [(u8, u32); 63] = [
    (1, 8_054),
    (2, 855),
    (4, 531),
    (6, 314),
    (8, 785),
    (10, 731),
    (11, 599),
    (12, 460),
    (14, 1_249),
    (15, 822),
    (17, 855),
    (19, 1_287),
    (20, 782),
    (22, 1_321),
    (24, 1_804),
    (25, 1_464),
    (26, 1_152),
    (27, 1_369),
    (30, 1_893),
    (31, 2_029),
    (33, 1_253),
    (34, 1_861),
    (35, 853),
    (36, 1_781),
    (37, 983),
    (38, 3_641),
    (40, 3_328),
    (42, 1_289),
    (44, 896),
    (45, 633),
    (46, 1_129),
    (48, 1_135),
    (49, 1_496),
    (51, 1_232),
    (52, 1_487),
    (54, 873),
    (56, 1_232),
    (58, 591),
    (60, 1_231),
    (62, 541),
    (64, 1_514),
    (66, 1_870),
    (67, 623),
    (68, 1_297),
    (70, 995),
    (72, 1_170),
    (74, 2_456),
    (75, 3_097),
    (77, 1_149),
    (79, 8_993),
    (80, 1_689),
    (82, 1_765),
    (83, 1_289),
    (84, 1_009),
    (86, 1_023),
    (87, 1_600),
    (89, 1_908),
    (91, 1_724),
    (92, 1_236),
    (93, 734),
    (94, 1_200),
    (95, 907),
    (96, 1_194),
];

/// Where workers on temporary registration go (legacy province code, weight in percent): the
/// industrial zones of the south-east and the Red River delta.
pub const WORKER_DESTINATIONS: [(u8, u32); 16] = [
    (79, 28),
    (74, 18),
    (1, 14),
    (75, 10),
    (27, 7),
    (80, 4),
    (31, 4),
    (24, 3),
    (48, 3),
    (19, 2),
    (30, 2),
    (26, 2),
    (77, 2),
    (33, 1),
    (22, 1),
    (92, 1),
];

/// Where students on temporary registration go: the university cities.
pub const STUDENT_DESTINATIONS: [(u8, u32); 9] = [
    (1, 36),
    (79, 34),
    (48, 7),
    (46, 5),
    (92, 5),
    (19, 5),
    (40, 4),
    (52, 2),
    (56, 2),
];

/// Where people move their permanent residence to when they leave their province.
pub const MIGRATION_DESTINATIONS: [(u8, u32); 12] = [
    (79, 26),
    (74, 16),
    (1, 16),
    (75, 9),
    (27, 5),
    (48, 4),
    (80, 4),
    (31, 4),
    (24, 3),
    (77, 3),
    (92, 3),
    (56, 2),
    // The remaining 5% go anywhere, weighted by population (see `Places::migration_province`).
];

/// Where tourists and visitors stay in hotels (stay notifications by accommodation).
pub const TOURIST_DESTINATIONS: [(u8, u32); 8] = [
    (1, 20),
    (79, 20),
    (48, 15),
    (56, 12),
    (22, 10),
    (68, 8),
    (91, 8),
    (46, 7),
];

/// Common street names, for urban street lines.
const STREETS: [&str; 40] = [
    "Trần Hưng Đạo",
    "Lê Lợi",
    "Nguyễn Trãi",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Quang Trung",
    "Nguyễn Huệ",
    "Lê Duẩn",
    "Trần Phú",
    "Hùng Vương",
    "Nguyễn Du",
    "Lê Lai",
    "Phan Chu Trinh",
    "Phan Bội Châu",
    "Hoàng Diệu",
    "Điện Biên Phủ",
    "Võ Thị Sáu",
    "Nguyễn Văn Cừ",
    "Lạc Long Quân",
    "Bạch Đằng",
    "Ngô Quyền",
    "Lê Hồng Phong",
    "Nguyễn Thái Học",
    "Trường Chinh",
    "Cách Mạng Tháng Tám",
    "Nguyễn Chí Thanh",
    "Tôn Đức Thắng",
    "Lê Thánh Tông",
    "Nguyễn Công Trứ",
    "Hoàng Văn Thụ",
    "Chu Văn An",
    "Lý Thái Tổ",
    "Đinh Tiên Hoàng",
    "Nguyễn Trung Trực",
    "Lê Văn Sỹ",
    "Kim Mã",
    "Bà Triệu",
    "Hàng Bông",
    "Phạm Văn Đồng",
    "Nguyễn Văn Linh",
];

/// Communes of one province with cumulative weights.
#[derive(Debug, Clone, Default)]
struct Communes {
    units: Vec<UnitCode>,
    /// Cumulative weights in tenths, parallel to `units`.
    cumulative: Vec<u32>,
}

impl Communes {
    fn push(&mut self, code: UnitCode, weight_tenths: u32) {
        let total = self.cumulative.last().copied().unwrap_or(0);
        self.units.push(code);
        self.cumulative.push(total + weight_tenths);
    }

    fn pick(&self, rng: &mut impl Rng) -> Option<UnitCode> {
        let total = *self.cumulative.last()?;
        let draw = rng.random_range(0..total);
        let index = self.cumulative.partition_point(|&c| c <= draw);
        self.units.get(index).copied()
    }
}

/// A weighted choice among items.
#[derive(Debug, Clone)]
pub struct Weighted<T> {
    items: Vec<T>,
    cumulative: Vec<u64>,
}

impl<T: Copy> Weighted<T> {
    /// Items with weights (zero weights are never drawn).
    pub fn new(pairs: impl IntoIterator<Item = (T, u64)>) -> Self {
        let mut items = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0;
        for (item, weight) in pairs {
            if weight == 0 {
                continue;
            }
            total += weight;
            items.push(item);
            cumulative.push(total);
        }
        Self { items, cumulative }
    }

    /// One item, drawn by weight.
    pub fn pick(&self, rng: &mut impl Rng) -> Option<T> {
        let total = *self.cumulative.last()?;
        let draw = rng.random_range(0..total);
        let index = self.cumulative.partition_point(|&c| c <= draw);
        self.items.get(index).copied()
    }
}

/// The weighted maps of both schemes.
#[derive(Debug)]
pub struct Places {
    legacy_provinces: Weighted<ProvinceCode>,
    provinces_2025: Weighted<ProvinceCode>,
    /// Communes by province code (index = code), per scheme.
    legacy_communes: Vec<Communes>,
    communes_2025: Vec<Communes>,
    workers: Weighted<ProvinceCode>,
    students: Weighted<ProvinceCode>,
    migrants: Weighted<ProvinceCode>,
    tourists: Weighted<ProvinceCode>,
}

fn province(code: u8) -> ProvinceCode {
    ProvinceCode::new(code).expect("province codes of the tables are two digits")
}

fn kind_weight(kind: &str) -> u32 {
    match kind {
        "Phường" => 25,
        "Thị trấn" => 15,
        _ => 10,
    }
}

impl Places {
    /// Builds the tables from the embedded unit registry.
    pub fn new() -> Self {
        let registry = registry();
        let mut legacy_communes = vec![Communes::default(); 100];
        let mut communes_2025 = vec![Communes::default(); 100];
        for (scheme, table) in [
            (Scheme::Legacy, &mut legacy_communes),
            (Scheme::Y2025, &mut communes_2025),
        ] {
            for info in registry.units(scheme) {
                if let Some(communes) = table.get_mut(usize::from(info.province.get())) {
                    communes.push(info.unit.code, kind_weight(info.kind));
                }
            }
        }
        let legacy_weights: Vec<(ProvinceCode, u64)> = PROVINCE_POPULATION_2019
            .iter()
            .map(|&(code, thousands)| (province(code), u64::from(thousands)))
            .collect();
        let mut weights_2025: Vec<(ProvinceCode, u64)> = registry
            .provinces(Scheme::Y2025)
            .map(|(code, _)| (code, 0))
            .collect();
        for &(legacy, weight) in &legacy_weights {
            if let Some(successor) = registry.province_successor(legacy)
                && let Some(slot) = weights_2025.iter_mut().find(|(code, _)| *code == successor)
            {
                slot.1 += weight;
            }
        }
        let table = |pairs: &[(u8, u32)]| {
            Weighted::new(
                pairs
                    .iter()
                    .map(|&(code, weight)| (province(code), u64::from(weight))),
            )
        };
        Self {
            legacy_provinces: Weighted::new(legacy_weights),
            provinces_2025: Weighted::new(weights_2025),
            legacy_communes,
            communes_2025,
            workers: table(&WORKER_DESTINATIONS),
            students: table(&STUDENT_DESTINATIONS),
            migrants: table(&MIGRATION_DESTINATIONS),
            tourists: table(&TOURIST_DESTINATIONS),
        }
    }

    /// A province of `scheme`, weighted by population.
    pub fn province(&self, scheme: Scheme, rng: &mut impl Rng) -> ProvinceCode {
        let table = match scheme {
            Scheme::Legacy => &self.legacy_provinces,
            Scheme::Y2025 => &self.provinces_2025,
        };
        table.pick(rng).unwrap_or(province(1))
    }

    /// A commune of `province` (a province of `scheme`), weighted by kind.
    pub fn commune(&self, scheme: Scheme, province: ProvinceCode, rng: &mut impl Rng) -> UnitRef {
        let table = match scheme {
            Scheme::Legacy => &self.legacy_communes,
            Scheme::Y2025 => &self.communes_2025,
        };
        let code = table
            .get(usize::from(province.get()))
            .and_then(|communes| communes.pick(rng))
            .or_else(|| {
                table
                    .iter()
                    .find_map(|communes| communes.units.first().copied())
            })
            .expect("the embedded registry has communes");
        UnitRef { scheme, code }
    }

    /// A destination province (legacy code) for a worker, a student, a migrant or a tourist,
    /// expressed in `scheme` (a 2025 province is the successor of the legacy one).
    pub fn destination(&self, trip: Trip, scheme: Scheme, rng: &mut impl Rng) -> ProvinceCode {
        let table = match trip {
            Trip::Work => &self.workers,
            Trip::Study => &self.students,
            Trip::Migration => {
                // One migrant in twenty goes anywhere, by population.
                if rng.random_bool(0.05) {
                    &self.legacy_provinces
                } else {
                    &self.migrants
                }
            }
            Trip::Tourism => &self.tourists,
        };
        let legacy = table.pick(rng).unwrap_or(province(79));
        in_scheme(legacy, scheme)
    }
}

impl Default for Places {
    fn default() -> Self {
        Self::new()
    }
}

/// Why someone goes to a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trip {
    /// A job (temporary registration near an industrial zone).
    Work,
    /// University (temporary registration in a university city).
    Study,
    /// A new permanent residence in another province.
    Migration,
    /// A short stay in a hotel.
    Tourism,
}

/// A legacy province expressed in `scheme`.
pub fn in_scheme(legacy: ProvinceCode, scheme: Scheme) -> ProvinceCode {
    match scheme {
        Scheme::Legacy => legacy,
        Scheme::Y2025 => registry().province_successor(legacy).unwrap_or(legacy),
    }
}

/// The province of a unit, expressed in `scheme`.
pub fn province_of(unit: UnitRef, scheme: Scheme) -> ProvinceCode {
    let registry = registry();
    let own = registry.province_of(unit).unwrap_or(province(1));
    match (unit.scheme, scheme) {
        (Scheme::Legacy, Scheme::Y2025) => in_scheme(own, scheme),
        _ => own,
    }
}

/// Whether a unit is an urban ward.
pub fn is_urban(unit: UnitRef) -> bool {
    registry()
        .get(unit)
        .is_some_and(|info| info.kind == "Phường")
}

/// A plausible street line for a dwelling in `unit`: a house on a named street in a ward, a
/// house in a hamlet elsewhere (thôn in the north, ấp in the south, bản in the mountains).
pub fn street_line(unit: UnitRef, rng: &mut impl Rng) -> StreetLine {
    let number = rng.random_range(1..400);
    let text = if is_urban(unit) {
        let street = STREETS[rng.random_range(0..STREETS.len())];
        if rng.random_bool(0.4) {
            let lane = rng.random_range(1..200);
            format!("Số {number}, ngõ {lane}, đường {street}")
        } else {
            format!("Số {number} đường {street}")
        }
    } else {
        let province = province_of(unit, Scheme::Legacy).get();
        let hamlet = rng.random_range(1..20);
        let word = match province {
            70.. => "ấp",
            2..=17 if unit.scheme == Scheme::Legacy => "bản",
            _ => "thôn",
        };
        format!("Nhà số {number}, {word} {hamlet}")
    };
    StreetLine::parse(&text).expect("generated street lines are short plain text")
}

/// A hotel's street line, for stays notified by accommodation businesses.
pub fn hotel_line(rng: &mut impl Rng) -> StreetLine {
    let number = rng.random_range(1..300);
    let street = STREETS[rng.random_range(0..STREETS.len())];
    StreetLine::parse(&format!("Khách sạn, số {number} đường {street}"))
        .expect("generated street lines are short plain text")
}

/// An address in `unit` with a fresh street line.
pub fn address(unit: UnitRef, rng: &mut impl Rng) -> Address {
    Address {
        unit,
        street: street_line(unit, rng),
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn the_census_table_covers_the_63_legacy_provinces() {
        let registry = registry();
        let legacy: Vec<u8> = registry
            .provinces(Scheme::Legacy)
            .map(|(code, _)| code.get())
            .collect();
        let table: Vec<u8> = PROVINCE_POPULATION_2019.iter().map(|&(c, _)| c).collect();
        assert_eq!(legacy, table);
        let total: u32 = PROVINCE_POPULATION_2019.iter().map(|&(_, p)| p).sum();
        // The 2019 census counted 96.2 million people.
        assert!((95_500..97_000).contains(&total), "{total}");
    }

    #[test]
    fn communes_are_real_and_big_cities_weigh_most() {
        let places = Places::new();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut hanoi_or_hcm = 0;
        for _ in 0..10_000 {
            let province = places.province(Scheme::Legacy, &mut rng);
            let unit = places.commune(Scheme::Legacy, province, &mut rng);
            assert_eq!(registry().province_of(unit), Some(province));
            if matches!(province.get(), 1 | 79) {
                hanoi_or_hcm += 1;
            }
        }
        // Hà Nội and Hồ Chí Minh City hold 17.7% of the 2019 population.
        assert!((1_550..2_000).contains(&hanoi_or_hcm), "{hanoi_or_hcm}");
        for _ in 0..1_000 {
            let province = places.province(Scheme::Y2025, &mut rng);
            let unit = places.commune(Scheme::Y2025, province, &mut rng);
            assert_eq!(unit.scheme, Scheme::Y2025);
            assert_eq!(registry().province_of(unit), Some(province));
        }
    }
}
