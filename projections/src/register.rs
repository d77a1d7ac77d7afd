//! The address register: the households and people registered (permanently or temporarily) at
//! a commune, or at one address, on a date, as known now.
//!
//! Which unit: the one the address shows on that date (the legacy ward before 2025-07-01, the
//! 2025 commune after, through the conversion table and recodings), so a register of 2025
//! commune 00097 on 2025-07-01 lists the people registered since 2019 in legacy ward 00001,
//! which it absorbed. Candidates come from an index of every unit a person's facts ever named
//! (plus, for a 2025 commune, the legacy wards whose default successor it is); each candidate's
//! spans are then folded and checked on the date.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use chrono::NaiveDate;
use residence_domain::address::{Address, StreetLine};
use residence_domain::ids::{HouseholdId, PersonId};
use residence_domain::relationship::Relationship;
use residence_domain::units::{Scheme, UnitCode, UnitRef, registry};

use crate::compact::Unit;
use crate::persons::PersonIdx;
use crate::residence::{Folder, SpanKind, shown_on};
use crate::state::Projections;

/// One person in a register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterEntry {
    /// The person.
    pub person: PersonId,
    /// Permanent or temporary.
    pub kind: SpanKind,
    /// The first day of the registration (unchanged by recoding).
    pub since: NaiveDate,
    /// The last day of a temporary term.
    pub until: Option<NaiveDate>,
    /// The address as shown on the date.
    pub address: Address,
    /// The household and relationship on the date, if any.
    pub household: Option<(HouseholdId, Relationship)>,
}

/// One household in a register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterHousehold {
    /// The household.
    pub household: HouseholdId,
    /// Its residence file number, when one was issued.
    pub file_number: Option<String>,
    /// Its head on the date, if any member registered here is the head.
    pub head: Option<PersonId>,
    /// Its members registered here on the date, by person id.
    pub members: Vec<RegisterEntry>,
}

/// A register of one unit (or address) on one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    /// The unit.
    pub unit: UnitRef,
    /// Its full name, if the registry knows it.
    pub unit_name: Option<String>,
    /// The street line, for a register of one address.
    pub street: Option<StreetLine>,
    /// The date.
    pub date: NaiveDate,
    /// Households with members registered here, by household id.
    pub households: Vec<RegisterHousehold>,
    /// People registered here in no household (e.g. temporary residents on an organisation's
    /// list), by person id.
    pub individuals: Vec<RegisterEntry>,
}

/// For each 2025 commune, the legacy wards whose default successor it is.
fn predecessors() -> &'static HashMap<UnitCode, Vec<UnitCode>> {
    static MAP: OnceLock<HashMap<UnitCode, Vec<UnitCode>>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: HashMap<UnitCode, Vec<UnitCode>> = HashMap::new();
        for info in registry().units(Scheme::Legacy) {
            if let Some(successor) = registry().default_successor(info.unit.code) {
                map.entry(successor).or_default().push(info.unit.code);
            }
        }
        map
    })
}

impl Projections {
    /// The persons whose facts could place them in `unit`.
    fn candidates(&self, unit: UnitRef) -> Vec<PersonIdx> {
        let mut candidates: Vec<PersonIdx> = Vec::new();
        let mut add = |unit: UnitRef| {
            if let Some(persons) = self.models.by_unit.get(&Unit::pack(unit)) {
                candidates.extend_from_slice(persons);
            }
        };
        add(unit);
        if unit.scheme == Scheme::Y2025
            && let Some(legacy) = predecessors().get(&unit.code)
        {
            for code in legacy {
                add(UnitRef::legacy(*code));
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }

    /// The register of `unit` on `date`, restricted to one street line when `street` is given.
    #[must_use]
    pub fn register(
        &self,
        unit: UnitRef,
        street: Option<&StreetLine>,
        date: NaiveDate,
    ) -> Register {
        let reorganised_from = self.models.reorganised_from();
        let interner = &self.models.interner;
        let mut folder = Folder::default();
        let mut households: BTreeMap<HouseholdId, RegisterHousehold> = BTreeMap::new();
        let mut individuals: Vec<RegisterEntry> = Vec::new();
        let target = Unit::pack(unit);
        for candidate in self.candidates(unit) {
            let Some(person) = self.models.persons.get(candidate) else {
                continue;
            };
            let id = self.models.persons.id_of(candidate);
            let spans = folder.fold(&person.facts);
            for span in shown_on(spans, date).into_iter().flatten() {
                if span.kind == SpanKind::Absence {
                    continue;
                }
                let Some(addr) = span.addr_on(date, reorganised_from) else {
                    continue;
                };
                if addr.unit != target
                    || street.is_some_and(|street| interner.street_line(addr.street) != street)
                {
                    continue;
                }
                let member = span.member_on(date);
                let entry = RegisterEntry {
                    person: id,
                    kind: span.kind,
                    since: span.start,
                    until: span.until,
                    address: interner.address(addr),
                    household: member.map(|member| {
                        (
                            self.models.households.id_of(member.household),
                            interner.relationship_of(member.relationship).clone(),
                        )
                    }),
                };
                match member {
                    Some(member) => {
                        let household = self.models.households.id_of(member.household);
                        let row =
                            households
                                .entry(household)
                                .or_insert_with(|| RegisterHousehold {
                                    household,
                                    file_number: self
                                        .models
                                        .households
                                        .get(member.household)
                                        .and_then(|entry| entry.file_number.clone()),
                                    head: None,
                                    members: Vec::new(),
                                });
                        if interner.is_head(member.relationship) {
                            row.head = Some(id);
                        }
                        row.members.push(entry);
                    }
                    None => individuals.push(entry),
                }
            }
        }
        let mut households: Vec<RegisterHousehold> = households.into_values().collect();
        for household in &mut households {
            household
                .members
                .sort_by_key(|entry| (entry.person, entry.kind));
        }
        individuals.sort_by_key(|entry| (entry.person, entry.kind));
        Register {
            unit,
            unit_name: registry().full_name(unit),
            street: street.cloned(),
            date,
            households,
            individuals,
        }
    }
}
