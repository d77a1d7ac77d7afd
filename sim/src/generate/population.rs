//! The generator's own picture of the population: people with their families, households and
//! dwellings, and what the register shows about each of them.
//!
//! Two kinds of facts live here. The *life* facts (birth, sex, parents, spouse, death) are the
//! simulation's truth and are set by the generator when it decides that something happens. The
//! *register* facts (recorded, permanent and temporary registration, household membership and
//! head, dwelling address, absence) are changed only by folding the events `decide` returned
//! ([`Model::apply`]), so they show exactly what the register knows, also where the law did
//! more than the generator asked (a temporary registration deleted by a permanent one at the same
//! place, I5). Statistics are computed from these register facts.
//!
//! Ids: person, household and dwelling ids are their index in this model plus one, so an event's
//! id finds its entry without a map.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use residence_domain::address::{Address, PersonName};
use residence_domain::event::{Event, RegistrationKind};
use residence_domain::ids::{DwellingId, HouseholdId, PersonId};
use residence_domain::pin::{Pin, Sex};
use residence_domain::relationship::Relationship;
use residence_domain::rules::age_on;
use residence_domain::units::{REORGANISATION_DATE, UnitRef, registry};

use super::names::FamilyName;

/// An index into the model's tables.
pub type Ix = u32;

/// A permanent registration as the register shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permanent {
    /// The household the person belongs to.
    pub household: Ix,
    /// The dwelling.
    pub dwelling: Ix,
    /// The first day.
    pub since: NaiveDate,
    /// The commune of the address as registered (before any recoding of the dwelling).
    pub registered_unit: UnitRef,
}

/// A temporary registration as the register shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Temporary {
    /// The dwelling.
    pub dwelling: Ix,
    /// The temporary household, if the person founded one.
    pub household: Option<Ix>,
    /// The first day.
    pub since: NaiveDate,
    /// The last day of the term.
    pub until: NaiveDate,
}

/// One simulated person.
#[derive(Debug, Clone)]
pub struct Person {
    /// Their PIN (the current one).
    pub pin: Pin,
    /// Sex.
    pub sex: Sex,
    /// Date of birth.
    pub birth: NaiveDate,
    /// Family name (children take the father's).
    pub family: FamilyName,
    /// Full name as recorded.
    pub name: PersonName,
    /// Father, if in the model.
    pub father: Option<Ix>,
    /// Mother, if in the model.
    pub mother: Option<Ix>,
    /// Spouse (cleared on the spouse's death).
    pub spouse: Option<Ix>,
    /// The day they died (life fact; the register learns it from a deletion).
    pub died_on: Option<NaiveDate>,
    /// Whether they settled abroad.
    pub emigrated: bool,
    /// The day of their last child's birth (for women).
    pub last_birth: Option<NaiveDate>,
    /// How many children they had (for women).
    pub children: u8,
    /// Recorded from the population database.
    pub recorded: bool,
    /// The permanent registration holding now.
    pub permanent: Option<Permanent>,
    /// The temporary registration holding now.
    pub temporary: Option<Temporary>,
    /// A declared absence, first and last day.
    pub absence: Option<(NaiveDate, NaiveDate)>,
    /// The earliest day a new permanent registration may start (after every earlier one).
    pub permanent_floor: NaiveDate,
    /// Where in [`Model::living`] the person is, while living in Vietnam and recorded.
    living_slot: Option<usize>,
}

impl Person {
    /// A person not yet recorded.
    pub fn new(pin: Pin, sex: Sex, birth: NaiveDate, family: FamilyName, name: PersonName) -> Self {
        Self {
            pin,
            sex,
            birth,
            family,
            name,
            father: None,
            mother: None,
            spouse: None,
            died_on: None,
            emigrated: false,
            last_birth: None,
            children: 0,
            recorded: false,
            permanent: None,
            temporary: None,
            absence: None,
            permanent_floor: NaiveDate::MIN,
            living_slot: None,
        }
    }

    /// Age in whole years on `date`.
    pub fn age(&self, date: NaiveDate) -> u32 {
        age_on(self.birth, date)
    }

    /// Alive and in Vietnam.
    pub fn is_present(&self) -> bool {
        self.died_on.is_none() && !self.emigrated
    }

    /// The temporary registration holding on `date` (terms end by themselves).
    pub fn temporary_on(&self, date: NaiveDate) -> Option<Temporary> {
        self.temporary
            .filter(|temporary| temporary.since <= date && date <= temporary.until)
    }

    /// Whether a declared absence holds on `date`.
    pub fn absent_on(&self, date: NaiveDate) -> bool {
        self.absence
            .is_some_and(|(from, until)| from <= date && date <= until)
    }
}

/// One household (permanent or temporary) as the register shows it.
#[derive(Debug, Clone)]
pub struct Household {
    /// Permanent or temporary.
    pub kind: RegistrationKind,
    /// Its dwelling.
    pub dwelling: Ix,
    /// Its head; `None` while head vacant (or before it is established).
    pub head: Option<Ix>,
    /// Members with their relationship to the head.
    pub members: Vec<(Ix, Relationship)>,
    /// Whether the register has it (its `HouseholdEstablished` or split was recorded).
    pub established: bool,
}

impl Household {
    fn remove(&mut self, person: Ix) {
        self.members.retain(|(member, _)| *member != person);
        if self.head == Some(person) {
            self.head = None;
        }
    }

    fn add(&mut self, person: Ix, relationship: Relationship) {
        self.members.retain(|(member, _)| *member != person);
        if relationship == Relationship::ChuHo {
            self.head = Some(person);
        }
        self.members.push((person, relationship));
    }
}

/// One dwelling.
#[derive(Debug, Clone)]
pub struct Dwelling {
    /// Its address as the register shows it (the first address, or the latest recoding).
    pub address: Address,
    /// Usable floor area in tenths of m².
    pub floor_tenths: u32,
    /// A rented room (temporary residents) rather than a family home.
    pub rental: bool,
    /// Persons with a permanent registration here now.
    pub permanent_residents: u32,
    /// Persons with a temporary registration here now.
    pub temporary_residents: u32,
    /// Whether the register has seen it in an event.
    pub known: bool,
}

impl Dwelling {
    /// The address to give on `date`: the register's address, in the map valid on that date (a
    /// legacy address read through its default successor after the reorganisation).
    pub fn address_on(&self, date: NaiveDate) -> Address {
        let mut address = self.address.clone();
        if date >= REORGANISATION_DATE
            && let Some(unit) = registry().on_date(address.unit, date)
        {
            address.unit = unit;
        }
        address
    }

    /// The commune the dwelling is in on `date`.
    pub fn unit_on(&self, date: NaiveDate) -> UnitRef {
        self.address_on(date).unit
    }
}

/// The whole population.
#[derive(Debug, Default)]
pub struct Model {
    /// People, by index (id − 1).
    pub persons: Vec<Person>,
    /// Households, by index (id − 1).
    pub households: Vec<Household>,
    /// Dwellings, by index (id − 1).
    pub dwellings: Vec<Dwelling>,
    /// Recorded people alive and in Vietnam, in no particular order (for sampling).
    pub living: Vec<Ix>,
    /// Rented rooms by commune, for temporary residents.
    pub rentals: BTreeMap<UnitRef, Vec<Ix>>,
    /// Whether the 2025 reorganisation was recorded.
    pub reorganised: bool,
}

/// The id of the person at `ix`.
pub fn person_id(ix: Ix) -> PersonId {
    PersonId::new(u64::from(ix) + 1)
}

/// The id of the household at `ix`.
pub fn household_id(ix: Ix) -> HouseholdId {
    HouseholdId::new(u64::from(ix) + 1)
}

/// The id of the dwelling at `ix`.
pub fn dwelling_id(ix: Ix) -> DwellingId {
    DwellingId::new(u64::from(ix) + 1)
}

fn ix_of(raw: u64) -> Ix {
    Ix::try_from(raw.saturating_sub(1)).unwrap_or(Ix::MAX)
}

fn to_ix(len: usize) -> Ix {
    Ix::try_from(len).expect("the model holds fewer than 4 billion entries")
}

impl Model {
    /// Adds a person (not yet recorded).
    pub fn add_person(&mut self, person: Person) -> Ix {
        self.persons.push(person);
        to_ix(self.persons.len() - 1)
    }

    /// Adds a household (not yet established).
    pub fn add_household(&mut self, kind: RegistrationKind, dwelling: Ix) -> Ix {
        self.households.push(Household {
            kind,
            dwelling,
            head: None,
            members: Vec::new(),
            established: false,
        });
        to_ix(self.households.len() - 1)
    }

    /// Adds a dwelling (not yet known to the register).
    pub fn add_dwelling(&mut self, address: Address, floor_tenths: u32, rental: bool) -> Ix {
        let unit = address.unit;
        self.dwellings.push(Dwelling {
            address,
            floor_tenths,
            rental,
            permanent_residents: 0,
            temporary_residents: 0,
            known: false,
        });
        let ix = to_ix(self.dwellings.len() - 1);
        if rental {
            self.rentals.entry(unit).or_default().push(ix);
        }
        ix
    }

    /// The person at `ix`.
    pub fn person(&self, ix: Ix) -> &Person {
        &self.persons[ix as usize]
    }

    /// The person at `ix`, to change life facts.
    pub fn person_mut(&mut self, ix: Ix) -> &mut Person {
        &mut self.persons[ix as usize]
    }

    /// The household at `ix`.
    pub fn household(&self, ix: Ix) -> &Household {
        &self.households[ix as usize]
    }

    /// The dwelling at `ix`.
    pub fn dwelling(&self, ix: Ix) -> &Dwelling {
        &self.dwellings[ix as usize]
    }

    /// The dwelling at `ix`, to change its floor area.
    pub fn dwelling_mut(&mut self, ix: Ix) -> &mut Dwelling {
        &mut self.dwellings[ix as usize]
    }

    /// Takes a person out of the living list (death, emigration).
    pub fn leave_living(&mut self, ix: Ix) {
        let Some(slot) = self.persons[ix as usize].living_slot.take() else {
            return;
        };
        self.living.swap_remove(slot);
        if let Some(&moved) = self.living.get(slot) {
            self.persons[moved as usize].living_slot = Some(slot);
        }
    }

    fn enter_living(&mut self, ix: Ix) {
        let person = &mut self.persons[ix as usize];
        if person.living_slot.is_none() && person.is_present() {
            person.living_slot = Some(self.living.len());
            self.living.push(ix);
        }
    }

    /// Ends temporary registrations whose term ended before `date` (no event: terms end by
    /// themselves) for one person.
    pub fn expire_temporary(&mut self, ix: Ix, date: NaiveDate) {
        let person = &mut self.persons[ix as usize];
        if let Some(temporary) = person.temporary
            && temporary.until < date
        {
            person.temporary = None;
            let dwelling = &mut self.dwellings[temporary.dwelling as usize];
            dwelling.temporary_residents = dwelling.temporary_residents.saturating_sub(1);
            if let Some(household) = temporary.household {
                self.households[household as usize].remove(ix);
            }
        }
    }

    /// Folds one event the register recorded into the register facts.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::PersonRecorded(e) => {
                let ix = ix_of(e.person.get());
                self.persons[ix as usize].recorded = true;
                self.enter_living(ix);
            }
            Event::HouseholdEstablished(e) => {
                let household = &mut self.households[ix_of(e.household.get()) as usize];
                household.established = true;
                self.dwellings[ix_of(e.dwelling.get()) as usize].known = true;
            }
            Event::PermanentResidenceRegistered(e) => {
                let ix = ix_of(e.person.get());
                let dwelling = ix_of(e.dwelling.get());
                if let Some(previous) = self.persons[ix as usize].permanent {
                    self.households[previous.household as usize].remove(ix);
                    let old = &mut self.dwellings[previous.dwelling as usize];
                    old.permanent_residents = old.permanent_residents.saturating_sub(1);
                }
                let household = ix_of(e.membership.household.get());
                self.households[household as usize].add(ix, e.membership.relationship.clone());
                let target = &mut self.dwellings[dwelling as usize];
                target.permanent_residents += 1;
                target.known = true;
                let person = &mut self.persons[ix as usize];
                person.permanent = Some(Permanent {
                    household,
                    dwelling,
                    since: e.effective_on,
                    registered_unit: e.address.unit,
                });
                person.permanent_floor = e.effective_on.succ_opt().unwrap_or(e.effective_on);
            }
            Event::PermanentResidenceDeleted(e) => {
                let ix = ix_of(e.person.get());
                let person = &mut self.persons[ix as usize];
                if let Some(permanent) = person.permanent.take() {
                    person.permanent_floor = person.permanent_floor.max(e.effective_on);
                    self.households[permanent.household as usize].remove(ix);
                    let dwelling = &mut self.dwellings[permanent.dwelling as usize];
                    dwelling.permanent_residents = dwelling.permanent_residents.saturating_sub(1);
                }
            }
            Event::TemporaryResidenceRegistered(e) => {
                let ix = ix_of(e.person.get());
                let dwelling = ix_of(e.dwelling.get());
                let household = e.membership.as_ref().map(|membership| {
                    let household = ix_of(membership.household.get());
                    self.households[household as usize].add(ix, membership.relationship.clone());
                    household
                });
                let target = &mut self.dwellings[dwelling as usize];
                target.temporary_residents += 1;
                target.known = true;
                self.persons[ix as usize].temporary = Some(Temporary {
                    dwelling,
                    household,
                    since: e.effective_on,
                    until: e.until,
                });
            }
            Event::TemporaryResidenceExtended(e) => {
                let person = &mut self.persons[ix_of(e.person.get()) as usize];
                if let Some(temporary) = person.temporary.as_mut()
                    && temporary.dwelling == ix_of(e.dwelling.get())
                {
                    temporary.until = e.until;
                }
            }
            Event::TemporaryResidenceDeleted(e) => {
                let ix = ix_of(e.person.get());
                let person = &mut self.persons[ix as usize];
                if let Some(temporary) = person.temporary
                    && temporary.dwelling == ix_of(e.dwelling.get())
                {
                    person.temporary = None;
                    let dwelling = &mut self.dwellings[temporary.dwelling as usize];
                    dwelling.temporary_residents = dwelling.temporary_residents.saturating_sub(1);
                    if let Some(household) = temporary.household {
                        self.households[household as usize].remove(ix);
                    }
                }
            }
            Event::HouseholdSplit(e) => {
                let old = ix_of(e.household.get());
                let new = ix_of(e.new_household.get());
                let moving = std::iter::once((e.new_head, Relationship::ChuHo)).chain(
                    e.members
                        .iter()
                        .map(|member| (member.person, member.relationship.clone())),
                );
                self.households[new as usize].established = true;
                for (person, relationship) in moving {
                    let ix = ix_of(person.get());
                    self.households[old as usize].remove(ix);
                    self.households[new as usize].add(ix, relationship);
                    if let Some(permanent) = self.persons[ix as usize].permanent.as_mut() {
                        permanent.household = new;
                    }
                }
            }
            Event::HouseholdHeadChanged(e) => {
                let household = &mut self.households[ix_of(e.household.get()) as usize];
                let head = ix_of(e.new_head.get());
                household.head = Some(head);
                for (member, relationship) in household.members.iter_mut() {
                    if *member == head {
                        *relationship = Relationship::ChuHo;
                    } else if let Some(restated) = e
                        .members
                        .iter()
                        .find(|restated| ix_of(restated.person.get()) == *member)
                    {
                        *relationship = restated.relationship.clone();
                    }
                }
            }
            Event::MemberRelationshipChanged(e) => {
                let household = &mut self.households[ix_of(e.household.get()) as usize];
                let person = ix_of(e.person.get());
                for (member, relationship) in household.members.iter_mut() {
                    if *member == person {
                        *relationship = e.relationship.clone();
                    }
                }
            }
            Event::ResidenceAddressRecoded(e) => {
                self.dwellings[ix_of(e.dwelling.get()) as usize].address = e.new_address.clone();
            }
            Event::AdministrativeUnitsReorganized(_) => self.reorganised = true,
            Event::TemporaryAbsenceDeclared(e) => {
                self.persons[ix_of(e.person.get()) as usize].absence =
                    Some((e.effective_on, e.until));
            }
            Event::PersonalIdNumberReassigned(e) => {
                self.persons[ix_of(e.person.get()) as usize].pin = e.new;
            }
            Event::ResidentCivilStatusAdjusted(e) => {
                if let Some(name) = &e.changes.name {
                    self.persons[ix_of(e.person.get()) as usize].name = name.clone();
                }
            }
            Event::EventCorrected(e) => {
                if let Event::PermanentResidenceRegistered(replacement) = e.replacement() {
                    let person = &mut self.persons[ix_of(replacement.person.get()) as usize];
                    if let Some(permanent) = person.permanent.as_mut()
                        && permanent.dwelling == ix_of(replacement.dwelling.get())
                    {
                        permanent.since = replacement.effective_on;
                        person.permanent_floor = replacement
                            .effective_on
                            .succ_opt()
                            .unwrap_or(replacement.effective_on);
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether `a` and `b` share a parent.
    fn siblings(&self, a: Ix, b: Ix) -> bool {
        let (pa, pb) = (self.person(a), self.person(b));
        (pa.father.is_some() && pa.father == pb.father)
            || (pa.mother.is_some() && pa.mother == pb.mother)
    }

    fn parents(&self, ix: Ix) -> impl Iterator<Item = Ix> + '_ {
        let person = self.person(ix);
        person.father.into_iter().chain(person.mother)
    }

    fn is_child_of(&self, child: Ix, parent: Ix) -> bool {
        self.parents(child).any(|p| p == parent)
    }

    /// What `x` is to `head` (CT01 item 8), from the family links; a lodger staying free
    /// (`ONho`) when they are not related. Never `CHU_HO`.
    pub fn kin(&self, x: Ix, head: Ix) -> Relationship {
        use Relationship as R;
        let px = self.person(x);
        let ph = self.person(head);
        let male = px.sex == Sex::Male;
        let pick = |m: R, f: R| if male { m } else { f };
        if ph.spouse == Some(x) || px.spouse == Some(head) {
            return pick(R::Chong, R::Vo);
        }
        if self.is_child_of(x, head) {
            return R::ConDe;
        }
        if self.is_child_of(head, x) {
            return pick(R::ChaDe, R::MeDe);
        }
        if let Some(spouse) = ph.spouse {
            if self.is_child_of(x, spouse) {
                return R::ConRieng;
            }
            if self.is_child_of(spouse, x) {
                return match ph.sex {
                    Sex::Male => pick(R::ChaVo, R::MeVo),
                    Sex::Female => pick(R::ChaChong, R::MeChong),
                };
            }
        }
        if let Some(partner) = px.spouse
            && self.is_child_of(partner, head)
        {
            return pick(R::ConRe, R::ConDau);
        }
        for parent in self.parents(x) {
            if self.is_child_of(parent, head) {
                return if self.person(parent).sex == Sex::Male {
                    R::ChauNoi
                } else {
                    R::ChauNgoai
                };
            }
            for grandparent in self.parents(parent) {
                if self.is_child_of(grandparent, head) {
                    return R::ChatRuot;
                }
            }
        }
        for parent in self.parents(head) {
            if self.is_child_of(parent, x) {
                return match (self.person(parent).sex, male) {
                    (Sex::Male, true) => R::OngNoi,
                    (Sex::Male, false) => R::BaNoi,
                    (Sex::Female, true) => R::OngNgoai,
                    (Sex::Female, false) => R::BaNgoai,
                };
            }
            for grandparent in self.parents(parent) {
                if self.is_child_of(grandparent, x) {
                    return if self.person(parent).sex == Sex::Male {
                        R::CuNoi
                    } else {
                        R::CuNgoai
                    };
                }
            }
        }
        if self.siblings(x, head) {
            return if px.birth < ph.birth {
                pick(R::AnhRuot, R::ChiRuot)
            } else {
                R::EmRuot
            };
        }
        for parent in self.parents(x) {
            if self.siblings(parent, head) {
                return R::ChauRuot;
            }
        }
        for parent in self.parents(head) {
            if self.siblings(x, parent) {
                let parent_person = self.person(parent);
                return if px.birth < parent_person.birth {
                    R::BacRuot
                } else {
                    match (parent_person.sex, male) {
                        (Sex::Male, true) => R::ChuRuot,
                        (Sex::Male, false) => R::CoRuot,
                        (Sex::Female, true) => R::CauRuot,
                        (Sex::Female, false) => R::DiRuot,
                    }
                };
            }
        }
        if let Some(partner) = px.spouse
            && self.siblings(partner, head)
        {
            let older = self.person(partner).birth < ph.birth;
            return match (male, older) {
                (true, true) => R::AnhRe,
                (true, false) => R::EmRe,
                (false, true) => R::ChiDau,
                (false, false) => R::EmDau,
            };
        }
        R::ONho
    }

    /// The members of household `ix` as the register shows them, with their relationship.
    pub fn members(&self, ix: Ix) -> &[(Ix, Relationship)] {
        &self.household(ix).members
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(model: &mut Model, sex: Sex, birth: &str) -> Ix {
        let pin: Pin = "001070000001".parse().unwrap();
        let name = PersonName::parse("Nguyễn Văn An").unwrap();
        model.add_person(Person::new(pin, sex, birth.parse().unwrap(), 0, name))
    }

    #[test]
    fn kinship_follows_the_family_links() {
        use Relationship as R;
        let mut m = Model::default();
        let grandfather = person(&mut m, Sex::Male, "1940-01-01");
        let grandmother = person(&mut m, Sex::Female, "1942-01-01");
        let son = person(&mut m, Sex::Male, "1965-01-01");
        let daughter = person(&mut m, Sex::Female, "1968-01-01");
        let wife = person(&mut m, Sex::Female, "1967-01-01");
        let grandson = person(&mut m, Sex::Male, "1990-01-01");
        let granddaughter = person(&mut m, Sex::Female, "1992-01-01");
        let lodger = person(&mut m, Sex::Male, "1980-01-01");
        for child in [son, daughter] {
            m.person_mut(child).father = Some(grandfather);
            m.person_mut(child).mother = Some(grandmother);
        }
        m.person_mut(grandfather).spouse = Some(grandmother);
        m.person_mut(grandmother).spouse = Some(grandfather);
        m.person_mut(son).spouse = Some(wife);
        m.person_mut(wife).spouse = Some(son);
        m.person_mut(grandson).father = Some(son);
        m.person_mut(grandson).mother = Some(wife);
        m.person_mut(granddaughter).mother = Some(daughter);

        assert_eq!(m.kin(grandmother, grandfather), R::Vo);
        assert_eq!(m.kin(son, grandfather), R::ConDe);
        assert_eq!(m.kin(grandfather, son), R::ChaDe);
        assert_eq!(m.kin(wife, grandfather), R::ConDau);
        assert_eq!(m.kin(grandfather, wife), R::ChaChong);
        assert_eq!(m.kin(grandson, grandfather), R::ChauNoi);
        assert_eq!(m.kin(granddaughter, grandfather), R::ChauNgoai);
        assert_eq!(m.kin(grandmother, grandson), R::BaNoi);
        assert_eq!(m.kin(daughter, son), R::EmRuot);
        assert_eq!(m.kin(son, daughter), R::AnhRuot);
        assert_eq!(m.kin(granddaughter, son), R::ChauRuot);
        assert_eq!(m.kin(daughter, grandson), R::CoRuot);
        // Older than her mother: bác.
        assert_eq!(m.kin(son, granddaughter), R::BacRuot);
        assert_eq!(m.kin(wife, daughter), R::ChiDau);
        assert_eq!(m.kin(lodger, grandfather), R::ONho);
    }

    #[test]
    fn a_dwelling_shows_its_legacy_address_in_the_map_of_the_date() {
        let unit: UnitRef = "legacy:00001".parse().unwrap();
        let dwelling = Dwelling {
            address: Address {
                unit,
                street: residence_domain::address::StreetLine::parse("Số 1 phố Phúc Xá").unwrap(),
            },
            floor_tenths: 500,
            rental: false,
            permanent_residents: 0,
            temporary_residents: 0,
            known: true,
        };
        assert_eq!(dwelling.unit_on("2025-06-30".parse().unwrap()), unit);
        let after = dwelling.unit_on(REORGANISATION_DATE);
        assert_eq!(
            after,
            registry().on_date(unit, REORGANISATION_DATE).unwrap()
        );
        assert_eq!(after.scheme, residence_domain::units::Scheme::Y2025);
    }
}
