//! The households of the initial population: their size and who lives in them.
//!
//! Sources: the 2019 census (GSO, *Kết quả toàn bộ Tổng điều tra dân số và nhà ở năm 2019*)
//! reports 3.5 persons per household on average, about a tenth of households with one person
//! and two generations as the common form; its age pyramid has about 24% of the population
//! aged 0–14 and 7.7% aged 65 and over, and 99.1 men per 100 women. The size shares below are
//! this project's approximation of that distribution (mean 3.47) \[approximation\]; the
//! compositions (couples, their children, a widowed or elderly parent of the head, an unmarried
//! younger sibling) follow the common forms, with the husband as head in most couples.

use chrono::NaiveDate;
use rand::Rng;
use residence_domain::pin::Sex;

use residence_register::import::time::minus_days;

/// Household sizes 1..=8 and their weights in percent.
pub const SIZE_SHARES: [(usize, u32); 8] = [
    (1, 11),
    (2, 19),
    (3, 21),
    (4, 26),
    (5, 12),
    (6, 7),
    (7, 3),
    (8, 1),
];

/// One member of a planned household; links are indices into the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Sex.
    pub sex: Sex,
    /// Date of birth.
    pub birth: NaiveDate,
    /// Father, within the plan.
    pub father: Option<usize>,
    /// Mother, within the plan.
    pub mother: Option<usize>,
    /// Spouse, within the plan.
    pub spouse: Option<usize>,
}

/// A planned household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The members.
    pub members: Vec<Planned>,
    /// The head, an index into `members`.
    pub head: usize,
}

/// A household size drawn from [`SIZE_SHARES`].
pub fn size(rng: &mut impl Rng) -> usize {
    let total: u32 = SIZE_SHARES.iter().map(|&(_, w)| w).sum();
    let mut draw = rng.random_range(0..total);
    for &(size, weight) in &SIZE_SHARES {
        if draw < weight {
            return size;
        }
        draw -= weight;
    }
    4
}

struct Builder<'r, R: Rng> {
    rng: &'r mut R,
    reference: NaiveDate,
    members: Vec<Planned>,
    ages: Vec<u32>,
}

impl<R: Rng> Builder<'_, R> {
    /// The head of a couple: the husband in most households.
    fn head_of_couple(&mut self, husband: usize, wife: usize) -> usize {
        if self.rng.random_bool(0.85) {
            husband
        } else {
            wife
        }
    }

    fn person(&mut self, sex: Sex, age: u32) -> usize {
        let days = u64::from(age) * 365 + u64::from(age / 4) + self.rng.random_range(0..365);
        self.members.push(Planned {
            sex,
            birth: minus_days(self.reference, days + 1),
            father: None,
            mother: None,
            spouse: None,
        });
        self.ages.push(age);
        self.members.len() - 1
    }

    fn random_sex(&mut self) -> Sex {
        // 99.1 men per 100 women (2019 census).
        if self.rng.random_bool(0.498) {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// A married couple; the husband is `age`, the wife 0–5 years younger (at least 18).
    fn couple(&mut self, age: u32) -> (usize, usize) {
        let husband = self.person(Sex::Male, age);
        let gap = self.rng.random_range(0..=5);
        let wife = self.person(Sex::Female, age.saturating_sub(gap).max(18));
        self.members[husband].spouse = Some(wife);
        self.members[wife].spouse = Some(husband);
        (husband, wife)
    }

    /// A child of the couple, born when the mother was 20–36 (none when she is too young).
    fn child(&mut self, father: Option<usize>, mother: usize) -> Option<usize> {
        let mother_age = self.ages[mother];
        let at_birth = self.rng.random_range(20..=36);
        let age = mother_age.checked_sub(at_birth)?;
        let sex = self.random_sex();
        let child = self.person(sex, age);
        self.members[child].father = father;
        self.members[child].mother = Some(mother);
        Some(child)
    }

    /// The parents of `person` (father 22–35 years older, mother up to 5 years younger than
    /// him): both, or one of them (a widowed parent, more often the mother).
    fn parents_of(&mut self, person: usize, both: bool) {
        let age = self.ages[person] + self.rng.random_range(22..=35);
        let (father, mother) = if both {
            let (father, mother) = self.couple(age);
            (Some(father), Some(mother))
        } else if self.rng.random_bool(0.7) {
            (None, Some(self.person(Sex::Female, age)))
        } else {
            (Some(self.person(Sex::Male, age)), None)
        };
        self.members[person].father = father;
        self.members[person].mother = mother;
    }

    fn finish(self, head: usize) -> Plan {
        Plan {
            members: self.members,
            head,
        }
    }
}

/// Plans a household of `size` members with ages as on `reference`.
pub fn plan(size: usize, reference: NaiveDate, rng: &mut impl Rng) -> Plan {
    let mut b = Builder {
        rng,
        reference,
        members: Vec::with_capacity(size),
        ages: Vec::with_capacity(size),
    };
    match size {
        0 | 1 => {
            let head = if b.rng.random_bool(0.62) {
                let age = b.rng.random_range(20..=40);
                let sex = b.random_sex();
                b.person(sex, age)
            } else {
                let age = b.rng.random_range(60..=90);
                let sex = if b.rng.random_bool(0.6) {
                    Sex::Female
                } else {
                    Sex::Male
                };
                b.person(sex, age)
            };
            b.finish(head)
        }
        2 => {
            let roll = b.rng.random_range(0..100);
            if roll < 48 {
                let age = b.rng.random_range(22..=35);
                let (h, w) = b.couple(age);
                let head = b.head_of_couple(h, w);
                b.finish(head)
            } else if roll < 75 {
                let age = b.rng.random_range(55..=82);
                let (h, w) = b.couple(age);
                let head = b.head_of_couple(h, w);
                b.finish(head)
            } else {
                let age = b.rng.random_range(30..=55);
                let mother = b.person(Sex::Female, age);
                if b.child(None, mother).is_none() {
                    let sex = b.random_sex();
                    let child = b.person(sex, 5);
                    b.members[child].mother = Some(mother);
                }
                b.finish(mother)
            }
        }
        _ => {
            // Couples with children, and from four members up often a parent of the head.
            let three_generations = match size {
                3 => false,
                4 => b.rng.random_bool(0.25),
                5 => b.rng.random_bool(0.55),
                _ => true,
            };
            let elderly_with_adult_child = size == 3 && b.rng.random_bool(0.15);
            let age = if elderly_with_adult_child {
                b.rng.random_range(55..=75)
            } else if three_generations {
                b.rng.random_range(28..=48)
            } else {
                b.rng.random_range(27..=60)
            };
            let (husband, wife) = b.couple(age);
            let head = b.head_of_couple(husband, wife);
            let parents = if three_generations {
                match size {
                    4 | 5 => 1,
                    6 => {
                        if b.rng.random_bool(0.5) {
                            2
                        } else {
                            1
                        }
                    }
                    _ => 2,
                }
            } else {
                0
            };
            if parents > 0 {
                b.parents_of(head, parents == 2);
            }
            let sibling = size >= 8;
            let children = size - 2 - parents - usize::from(sibling);
            for _ in 0..children {
                if b.child(Some(husband), wife).is_none() {
                    // A young couple: the children are small.
                    let sex = b.random_sex();
                    let age = b.rng.random_range(0..=3);
                    let child = b.person(sex, age);
                    b.members[child].father = Some(husband);
                    b.members[child].mother = Some(wife);
                }
            }
            if sibling {
                let (father, mother) = (b.members[head].father, b.members[head].mother);
                let age = b.ages[head]
                    .saturating_sub(b.rng.random_range(2..=10))
                    .max(16);
                let sex = b.random_sex();
                let younger = b.person(sex, age);
                b.members[younger].father = father;
                b.members[younger].mother = mother;
            }
            b.finish(head)
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn plans_have_the_size_asked_and_consistent_links() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let reference: NaiveDate = "2015-01-01".parse().unwrap();
        let mut total = 0;
        let households = 5_000;
        for _ in 0..households {
            let wanted = size(&mut rng);
            let plan = plan(wanted, reference, &mut rng);
            assert_eq!(plan.members.len(), wanted);
            total += wanted;
            for (index, member) in plan.members.iter().enumerate() {
                assert!(member.birth < reference);
                if let Some(spouse) = member.spouse {
                    assert_eq!(plan.members[spouse].spouse, Some(index));
                }
                for parent in member.father.into_iter().chain(member.mother) {
                    assert!(plan.members[parent].birth < member.birth);
                }
            }
        }
        let mean = total as f64 / f64::from(households);
        assert!((3.3..3.7).contains(&mean), "{mean}");
    }
}
