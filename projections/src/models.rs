//! The in-memory models and their fold: one step per ledger event, in position order.
//!
//! What a step does: it records a PIN, founds a household, notes the reorganisation date, and
//! appends the event's compact `Fact` to every person the event is tagged with (the same
//! records the domain's timeline of that person would fold). Nothing is derived eagerly: spans
//! are folded from the facts when a query needs them, so a step costs a few small appends and
//! the state is a function of the events alone (however the replay was batched or restarted).
//!
//! What an erased payload does: the record still advances the position and is counted; it adds
//! no fact, so every model shows the register as if that event had not been recorded, which is
//! also what the domain's timeline shows when it is folded from the ledger (it cannot read the
//! event either). Answers about a person report how many of their records were erased.

use std::collections::BTreeMap;

use residence_domain::event::Event;
use serde::{Deserialize, Serialize};

use crate::compact::{Day, InternError, Interner, Unit};
use crate::fact::Fact;
use crate::households::Households;
use crate::persons::{PersonIdx, Persons};
use crate::residence::{Folder, Span, Tables, digest};

/// Why an event could not be folded. Replay stops (fail-stop): a model that skipped an event
/// would answer wrongly for ever after.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    /// A reorganisation event names a conversion table other than the embedded one. → replay
    /// stops; the ledger must be read with the binary whose table it names.
    #[error("reorganisation event at position {position} names a foreign conversion table")]
    ForeignConversionTable {
        /// The event's position.
        position: u64,
    },
    /// An interning table is full. → replay stops.
    #[error("at position {position}: {source}")]
    Intern {
        /// The event's position.
        position: u64,
        /// What is full.
        source: InternError,
    },
}

/// Counters of what the fold has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Records folded (events and erased payloads).
    pub records: u64,
    /// Records whose payload was erased (folded as if absent).
    pub erased: u64,
    /// Facts kept across all persons.
    pub facts: u64,
}

/// The models: persons, households, interned values, the reorganisation and the counters.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Models {
    pub(crate) persons: Persons,
    pub(crate) households: Households,
    pub(crate) interner: Interner,
    /// The earliest `effective_on` of a known reorganisation event.
    pub(crate) reorganised_from: Option<Day>,
    /// Positions of the events that change many people at once (the reorganisation), which
    /// every person's timeline includes.
    pub(crate) mass_changes: Vec<u64>,
    pub(crate) counters: Counters,
    /// Every unit a person's facts name → those persons, ascending (rebuilt after decoding).
    #[serde(skip)]
    pub(crate) by_unit: BTreeMap<Unit, Vec<PersonIdx>>,
}

impl Models {
    /// Folds one decoded event at `position`.
    pub(crate) fn apply(
        &mut self,
        position: u64,
        event_id: [u8; 16],
        event: &Event,
    ) -> Result<(), FoldError> {
        let intern = |source| FoldError::Intern { position, source };
        self.counters.records += 1;
        match event {
            Event::PersonRecorded(e) => {
                let person = self.persons.index_of(e.person);
                self.persons.set_pin(person, e.pin, None);
            }
            Event::PersonalIdNumberReassigned(e) => {
                let person = self.persons.index_of(e.person);
                self.persons.set_pin(person, e.new, Some(e.old));
            }
            Event::HouseholdEstablished(e) => self
                .households
                .established(position, e, &mut self.interner)
                .map_err(intern)?,
            Event::HouseholdSplit(e) => self
                .households
                .split(position, e, &mut self.interner)
                .map_err(intern)?,
            Event::AdministrativeUnitsReorganized(e) => {
                if !e.matches_embedded_table() {
                    return Err(FoldError::ForeignConversionTable { position });
                }
                let from = Day(e.effective_on);
                self.reorganised_from =
                    Some(self.reorganised_from.map_or(from, |known| known.min(from)));
                self.mass_changes.push(position);
            }
            _ => {}
        }
        for person in event.persons() {
            let mut tables = Tables {
                interner: &mut self.interner,
                households: &mut self.households,
            };
            let Some(body) = digest(person, event, &mut tables).map_err(intern)? else {
                continue;
            };
            let index = self.persons.index_of(person);
            if let Some(addr) = body.addresses() {
                let known = self.persons.get(index).is_some_and(|entry| {
                    entry
                        .facts
                        .iter()
                        .any(|fact| fact.body.addresses().map(|a| a.unit) == Some(addr.unit))
                });
                if !known {
                    self.by_unit.entry(addr.unit).or_default().push(index);
                }
            }
            for household in body.households().into_iter().flatten() {
                self.households.add_member(household, index);
            }
            if let Some(entry) = self.persons.get_mut(index) {
                entry.facts.push(Fact {
                    position,
                    event_id,
                    body,
                });
                self.counters.facts += 1;
            }
        }
        Ok(())
    }

    /// Folds a record whose payload was erased.
    pub(crate) fn apply_erased(&mut self) {
        self.counters.records += 1;
        self.counters.erased += 1;
    }

    /// Rebuilds every derived index after decoding.
    pub(crate) fn rebuild(&mut self, pins: &[(u64, u32)]) -> Result<(), InternError> {
        // The three parts are independent: rebuild them side by side (start-up time counts).
        let Models {
            persons,
            households,
            interner,
            by_unit,
            ..
        } = self;
        households.rebuild();
        let shared: &Persons = persons;
        let (interned, by_unit_built, maps) = std::thread::scope(|scope| {
            let interning = scope.spawn(|| interner.rebuild());
            let indexing = scope.spawn(|| Self::unit_and_member_index(shared, households));
            let maps = shared.maps(pins);
            (interning.join(), indexing.join(), maps)
        });
        persons.set_maps(maps);
        // A panic in a rebuild thread is a bug; report it as inconsistent state rather than
        // tearing the process down during start-up.
        interned.map_err(|_| InternError::Streets)??;
        *by_unit = by_unit_built.map_err(|_| InternError::Streets)?;
        Ok(())
    }

    /// The unit index, and each household's members (filled into `households`).
    fn unit_and_member_index(
        persons: &Persons,
        households: &mut Households,
    ) -> BTreeMap<Unit, Vec<PersonIdx>> {
        let mut by_unit: BTreeMap<Unit, Vec<PersonIdx>> = BTreeMap::new();
        let mut units = Vec::new();
        let mut members = Vec::new();
        for (index, entry) in persons.table.iter().enumerate() {
            let person = PersonIdx(u32::try_from(index).unwrap_or(u32::MAX));
            units.clear();
            members.clear();
            for fact in &entry.facts {
                if let Some(addr) = fact.body.addresses() {
                    units.push(addr.unit);
                }
                members.extend(fact.body.households().into_iter().flatten());
            }
            units.sort_unstable();
            units.dedup();
            for unit in &units {
                by_unit.entry(*unit).or_default().push(person);
            }
            for household in &members {
                households.add_member(*household, person);
            }
        }
        by_unit
    }

    /// Whether every index inside the state points into its tables (checked after decoding,
    /// so that a snapshot that passed its checksum but was written by a buggy binary cannot
    /// make a query index out of bounds).
    pub(crate) fn is_consistent(&self) -> bool {
        let households = self.households.len();
        let household_ok = |index: crate::households::HouseholdIdx| (index.0 as usize) < households;
        let member_ok = |member: &crate::fact::Member| {
            household_ok(member.household) && self.interner.knows_relationship(member.relationship)
        };
        let addr_ok = |addr: &crate::compact::Addr| self.interner.knows_street(addr.street);
        fn body_ok(
            body: &crate::fact::Body,
            household_ok: &dyn Fn(crate::households::HouseholdIdx) -> bool,
            member_ok: &dyn Fn(&crate::fact::Member) -> bool,
            addr_ok: &dyn Fn(&crate::compact::Addr) -> bool,
        ) -> bool {
            use crate::fact::Body;
            match body {
                Body::Permanent { addr, member, .. } => addr_ok(addr) && member_ok(member),
                Body::Temporary { addr, member, .. } => {
                    addr_ok(addr) && member.as_ref().is_none_or(member_ok)
                }
                Body::Membership { household, now, .. } => {
                    household_ok(*household) && member_ok(now)
                }
                Body::Recoded { addr, .. } => addr_ok(addr),
                Body::Correction { replacement, .. } => {
                    !matches!(**replacement, Body::Correction { .. })
                        && body_ok(replacement, household_ok, member_ok, addr_ok)
                }
                _ => true,
            }
        }
        let persons_ok = self.persons.table.iter().all(|person| {
            person
                .facts
                .iter()
                .all(|fact| body_ok(&fact.body, &household_ok, &member_ok, &addr_ok))
        });
        let households_ok = self.households.table.iter().all(|household| {
            household.founding.as_ref().is_none_or(|founding| {
                addr_ok(&founding.addr) && founding.split_from.is_none_or(household_ok)
            })
        });
        persons_ok && households_ok
    }

    /// The reorganisation date, if known.
    pub(crate) fn reorganised_from(&self) -> Option<chrono::NaiveDate> {
        self.reorganised_from.map(|day| day.0)
    }

    /// Visits every person's spans as known now.
    pub(crate) fn for_each_spans(&self, mut visit: impl FnMut(PersonIdx, &[Span])) {
        let mut folder = Folder::default();
        for (index, person) in self.persons.table.iter().enumerate() {
            if person.facts.is_empty() {
                continue;
            }
            let spans = folder.fold(&person.facts);
            visit(PersonIdx(u32::try_from(index).unwrap_or(u32::MAX)), spans);
        }
    }

    /// Approximate heap bytes held by the models.
    pub(crate) fn heap_bytes(&self) -> usize {
        let units: usize = self
            .by_unit
            .values()
            .map(|persons| 48 + persons.capacity() * 4)
            .sum();
        self.persons.heap_bytes()
            + self.households.heap_bytes()
            + self.interner.heap_bytes()
            + units
    }
}
