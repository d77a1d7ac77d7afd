//! The household table: every household the ledger names, with what its founding event says
//! (kind, address, dwelling, residence file number), and, rebuilt in memory, which people were
//! ever placed in it.
//!
//! Who belongs to a household on a date is not stored here: it follows from the members' own
//! residence (their registration's household and relationship on that date), so the household
//! book and the registers derive it from the persons' facts and can never disagree with them.

use residence_domain::event::{HouseholdEstablished, HouseholdSplit, RegistrationKind};
use residence_domain::ids::HouseholdId;
use serde::{Deserialize, Serialize};

use crate::compact::FastMap;

pub(crate) use crate::compact::HouseholdIdx;
use crate::compact::PersonIdx;
use crate::compact::{Addr, Day, InternError, Interner};

/// How a household came into being, as its founding event says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Founding {
    /// The ledger position of the founding event.
    pub(crate) position: u64,
    /// The day it came into being.
    pub(crate) on: Day,
    /// Permanent or temporary residents.
    pub(crate) permanent: bool,
    /// Its address when founded.
    pub(crate) addr: Addr,
    /// Its dwelling.
    pub(crate) dwelling: u64,
    /// The household it split from, for a household made by a split.
    pub(crate) split_from: Option<HouseholdIdx>,
}

/// One household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Household {
    /// Its id.
    pub(crate) id: u64,
    /// Its founding, when the ledger holds it (a household imported from a paper book may be
    /// named by registrations only).
    pub(crate) founding: Option<Founding>,
    /// Its residence file number, when one was issued.
    pub(crate) file_number: Option<String>,
}

/// Every household, by dense index.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Households {
    /// The households in first-seen order.
    pub(crate) table: Vec<Household>,
    /// Id → index (rebuilt after decoding).
    #[serde(skip)]
    index: FastMap<u64, HouseholdIdx>,
    /// The people ever placed in each household, by index (rebuilt after decoding).
    #[serde(skip)]
    pub(crate) members: Vec<Vec<PersonIdx>>,
}

impl Households {
    /// The index of `id`, adding the household on first sight.
    pub(crate) fn index_of(&mut self, id: HouseholdId) -> HouseholdIdx {
        if let Some(index) = self.index.get(&id.get()) {
            return *index;
        }
        // More than 4 billion households would exhaust memory long before the index.
        let index = HouseholdIdx(u32::try_from(self.table.len()).unwrap_or(u32::MAX));
        self.table.push(Household {
            id: id.get(),
            founding: None,
            file_number: None,
        });
        self.members.push(Vec::new());
        self.index.insert(id.get(), index);
        index
    }

    /// The index of `id`, if known.
    pub(crate) fn find(&self, id: HouseholdId) -> Option<HouseholdIdx> {
        self.index.get(&id.get()).copied()
    }

    /// The household at `index`.
    pub(crate) fn get(&self, index: HouseholdIdx) -> Option<&Household> {
        self.table.get(index.0 as usize)
    }

    /// The id of the household at `index`.
    pub(crate) fn id_of(&self, index: HouseholdIdx) -> HouseholdId {
        HouseholdId::new(self.get(index).map_or(0, |household| household.id))
    }

    /// Records that `person` was placed in `household` (once).
    pub(crate) fn add_member(&mut self, household: HouseholdIdx, person: PersonIdx) {
        if let Some(members) = self.members.get_mut(household.0 as usize)
            && !members.contains(&person)
        {
            members.push(person);
        }
    }

    /// A household was established.
    pub(crate) fn established(
        &mut self,
        position: u64,
        event: &HouseholdEstablished,
        interner: &mut Interner,
    ) -> Result<(), InternError> {
        let addr = interner.addr(&event.address)?;
        let index = self.index_of(event.household);
        if let Some(household) = self.table.get_mut(index.0 as usize) {
            household.founding = Some(Founding {
                position,
                on: Day(event.effective_on),
                permanent: event.kind == RegistrationKind::Permanent,
                addr,
                dwelling: event.dwelling.get(),
                split_from: None,
            });
            household.file_number = event
                .residence_file_number
                .as_ref()
                .map(|number| number.as_str().to_owned());
        }
        Ok(())
    }

    /// A household split: the new household is founded by the split, with the kind of the one
    /// it split from.
    pub(crate) fn split(
        &mut self,
        position: u64,
        event: &HouseholdSplit,
        interner: &mut Interner,
    ) -> Result<(), InternError> {
        let addr = interner.addr(&event.address)?;
        let from = self.index_of(event.household);
        let permanent = self
            .get(from)
            .and_then(|household| household.founding.as_ref())
            .is_none_or(|founding| founding.permanent);
        let index = self.index_of(event.new_household);
        if let Some(household) = self.table.get_mut(index.0 as usize) {
            household.founding = Some(Founding {
                position,
                on: Day(event.effective_on),
                permanent,
                addr,
                dwelling: event.dwelling.get(),
                split_from: Some(from),
            });
            household.file_number = event
                .residence_file_number
                .as_ref()
                .map(|number| number.as_str().to_owned());
        }
        Ok(())
    }

    /// Rebuilds the id index after decoding (members are rebuilt by the caller).
    pub(crate) fn rebuild(&mut self) {
        self.index = self
            .table
            .iter()
            .enumerate()
            .map(|(index, household)| {
                (
                    household.id,
                    HouseholdIdx(u32::try_from(index).unwrap_or(u32::MAX)),
                )
            })
            .collect();
        self.members = vec![Vec::new(); self.table.len()];
    }

    /// The number of households.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Approximate heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        let table = self.table.capacity() * std::mem::size_of::<Household>();
        let numbers: usize = self
            .table
            .iter()
            .filter_map(|household| household.file_number.as_ref())
            .map(|number| number.capacity() + 16)
            .sum();
        let members: usize = self
            .members
            .iter()
            .map(|members| 24 + members.capacity() * 4)
            .sum();
        table + numbers + members + self.index.capacity() * 16
    }
}
