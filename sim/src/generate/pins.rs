//! Personal identification numbers with the real structure (DOMAIN.md §6; NĐ 137/2015 Art 13):
//! the three-digit code of the province where the birth was registered, the century/sex digit
//! (0/1 for the 1900s, 2/3 for the 2000s; even male, odd female), the last two digits of the
//! birth year, and six random digits. Every number issued is unique.

use std::collections::HashSet;

use rand::Rng;
use residence_domain::pin::{Pin, Sex};

/// The numbers issued so far.
#[derive(Debug, Default)]
pub struct PinBook {
    used: HashSet<u64>,
}

/// The century/sex digit of a birth year and sex.
pub fn century_sex_digit(birth_year: i32, sex: Sex) -> u64 {
    let century = u64::try_from((birth_year.div_euclid(100) - 19).max(0)).unwrap_or(0) * 2;
    century + u64::from(sex == Sex::Female)
}

impl PinBook {
    /// A new, unused PIN for a birth registered in province `prefix` (a legacy two-digit code).
    pub fn issue(&mut self, prefix: u8, birth_year: i32, sex: Sex, rng: &mut impl Rng) -> Pin {
        let year = u64::try_from(birth_year.rem_euclid(100)).unwrap_or(0);
        let base = u64::from(prefix) * 1_000_000_000
            + century_sex_digit(birth_year, sex) * 100_000_000
            + year * 1_000_000;
        loop {
            let number = base + rng.random_range(0..1_000_000);
            if self.used.insert(number) {
                return format!("{number:012}")
                    .parse()
                    .expect("twelve digits built from valid parts");
            }
        }
    }

    /// Marks a number as used (a number issued elsewhere).
    pub fn reserve(&mut self, pin: Pin) {
        self.used.insert(pin.get());
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn issued_numbers_follow_the_structure_and_never_repeat() {
        let mut book = PinBook::default();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let a = book.issue(79, 1990, Sex::Male, &mut rng);
        assert_eq!(a.birth_registration_code(), 79);
        assert_eq!(a.birth_year(), 1990);
        assert_eq!(a.sex(), Sex::Male);
        assert!(a.check(1990, Sex::Male).unwrap().is_empty());
        let b = book.issue(1, 2016, Sex::Female, &mut rng);
        assert_eq!(b.to_string()[..6], *"001316");
        assert!(b.check(2016, Sex::Female).unwrap().is_empty());
        let mut seen = HashSet::new();
        for _ in 0..5_000 {
            assert!(seen.insert(book.issue(1, 2000, Sex::Male, &mut rng)));
        }
    }
}
