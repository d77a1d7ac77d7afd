//! Vietnamese names for simulated people: family name, middle name and given name.
//!
//! Family names follow the commonly cited shares (Wikipedia, "Vietnamese name", after
//! Lê Trung Hoa's survey): Nguyễn ~38%, Trần ~11%, Lê ~9.5%, Phạm ~7%, Hoàng/Huỳnh ~5%,
//! Phan ~4.5%, Vũ/Võ ~3.9%, Đặng ~2.1%, Bùi ~2%, Đỗ ~1.4%, Hồ ~1.3%, Ngô ~1.3%, Dương ~1%,
//! Lý ~0.5%; the rest is shared by less common names. Children take their father's family name.
//! Middle and given names are common ones by sex; no real person is meant.

use rand::Rng;
use residence_domain::address::PersonName;
use residence_domain::pin::Sex;

/// Family names with weights in tenths of a percent.
const FAMILY_NAMES: [(&str, u32); 20] = [
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Hoàng", 30),
    ("Huỳnh", 21),
    ("Phan", 45),
    ("Vũ", 20),
    ("Võ", 19),
    ("Đặng", 21),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
    ("Đinh", 10),
    ("Trương", 10),
    ("Mai", 8),
    ("Cao", 6),
];

const MIDDLE_MALE: [&str; 8] = ["Văn", "Đức", "Minh", "Quốc", "Hữu", "Công", "Thành", "Xuân"];
const MIDDLE_FEMALE: [&str; 8] = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Phương"];

const GIVEN_MALE: [&str; 30] = [
    "An", "Bình", "Cường", "Dũng", "Dương", "Đạt", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khang",
    "Khoa", "Kiên", "Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài",
    "Thắng", "Thành", "Tiến", "Trung", "Tuấn", "Việt",
];
const GIVEN_FEMALE: [&str; 30] = [
    "Anh", "Châu", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hồng", "Huyền",
    "Hương", "Lan", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc", "Nhung", "Oanh", "Phương",
    "Quỳnh", "Thảo", "Trang", "Trinh", "Vân", "Yến",
];

/// The index of a family name in the table.
pub type FamilyName = u8;

/// A family name drawn by its share.
pub fn family_name(rng: &mut impl Rng) -> FamilyName {
    let total: u32 = FAMILY_NAMES.iter().map(|&(_, w)| w).sum();
    let mut draw = rng.random_range(0..total);
    for (index, &(_, weight)) in FAMILY_NAMES.iter().enumerate() {
        if draw < weight {
            return u8::try_from(index).unwrap_or(0);
        }
        draw -= weight;
    }
    0
}

/// A full name with the given family name.
pub fn full_name(family: FamilyName, sex: Sex, rng: &mut impl Rng) -> PersonName {
    let family = FAMILY_NAMES
        .get(usize::from(family))
        .map_or("Nguyễn", |&(name, _)| name);
    let (middles, givens): (&[&str], &[&str]) = match sex {
        Sex::Male => (&MIDDLE_MALE, &GIVEN_MALE),
        Sex::Female => (&MIDDLE_FEMALE, &GIVEN_FEMALE),
    };
    let middle = middles[rng.random_range(0..middles.len())];
    let given = givens[rng.random_range(0..givens.len())];
    PersonName::parse(&format!("{family} {middle} {given}"))
        .expect("generated names are short plain text")
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn nguyen_is_the_most_common_family_name() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let draws = 10_000;
        let nguyen = (0..draws).filter(|_| family_name(&mut rng) == 0).count();
        // 380 of 900 tenths: about 42% of the drawn names.
        assert!((3_900..4_600).contains(&nguyen), "{nguyen}");
        let name = full_name(0, Sex::Female, &mut rng);
        assert!(name.as_str().starts_with("Nguyễn "), "{name}");
    }
}
