//! Officers' due lists: temporary registrations about to expire, declared absences reaching
//! 12 months, and households left head vacant.
//!
//! Derived, never recorded: each list is read off the valid-time ends the register already holds
//! (a term's `until`, an absence's start, the relationships of a household's members on the
//! date), as known now. No event is invented for them: a term that runs out ends by itself
//! (DOMAIN.md decisions), and what an officer does about an item is recorded as an ordinary
//! event when it is done.

use std::collections::BTreeMap;

use chrono::{Days, Months, NaiveDate};
use residence_domain::ids::{HouseholdId, PersonId};
use residence_domain::units::UnitRef;

use crate::residence::{SpanEnd, SpanKind, shown_on};
use crate::state::Projections;

/// Which units a due list covers (an officer's jurisdiction).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every unit (a national or audit view).
    #[default]
    All,
    /// These units only, as shown on the date.
    Units(Vec<UnitRef>),
}

impl Scope {
    fn covers(&self, unit: Option<UnitRef>) -> bool {
        match self {
            Scope::All => true,
            Scope::Units(units) => unit.is_some_and(|unit| units.contains(&unit)),
        }
    }
}

/// A temporary registration whose term ends within the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringTemporary {
    /// The person.
    pub person: PersonId,
    /// The last day of the term.
    pub until: NaiveDate,
    /// The unit of the address on the date.
    pub unit: Option<UnitRef>,
    /// The household the registration places them in, if any.
    pub household: Option<HouseholdId>,
}

/// A declared absence that reaches 12 months within the window (or already has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongAbsence {
    /// The person.
    pub person: PersonId,
    /// The first day of the absence.
    pub since: NaiveDate,
    /// The day it reaches 12 months.
    pub twelve_months_on: NaiveDate,
    /// The last day declared.
    pub until: Option<NaiveDate>,
    /// The unit of the person's permanent registration on the date, if any.
    pub unit: Option<UnitRef>,
}

/// A household with members but no head on the date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadVacant {
    /// The household.
    pub household: HouseholdId,
    /// Its members on the date, by id.
    pub members: Vec<PersonId>,
    /// The unit of the first member's address on the date.
    pub unit: Option<UnitRef>,
}

/// The due lists on one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueLists {
    /// The date.
    pub date: NaiveDate,
    /// The window in days.
    pub window_days: u32,
    /// Temporary registrations holding on the date whose term ends by `date + window`, by
    /// last day then person.
    pub expiring: Vec<ExpiringTemporary>,
    /// Absences holding on the date that reach 12 months by `date + window`, by that day then
    /// person.
    pub long_absences: Vec<LongAbsence>,
    /// Households head vacant on the date, by household id.
    pub head_vacant: Vec<HeadVacant>,
}

/// A household's members on the date, and whether one is the head.
#[derive(Default)]
struct Tally {
    members: Vec<PersonId>,
    head: bool,
    unit: Option<UnitRef>,
}

impl Projections {
    /// The due lists on `date` for a window of `window_days`, within `scope`.
    #[must_use]
    pub fn due_lists(&self, date: NaiveDate, window_days: u32, scope: &Scope) -> DueLists {
        let horizon = date
            .checked_add_days(Days::new(u64::from(window_days)))
            .unwrap_or(NaiveDate::MAX);
        let reorganised_from = self.models.reorganised_from();
        let interner = &self.models.interner;
        let households = &self.models.households;
        let mut expiring = Vec::new();
        let mut long_absences = Vec::new();
        let mut tallies: BTreeMap<HouseholdId, Tally> = BTreeMap::new();
        self.models.for_each_spans(|index, spans| {
            let person = self.models.persons.id_of(index);
            let shown = shown_on(spans, date);
            let permanent_unit = shown[0]
                .and_then(|span| span.addr_on(date, reorganised_from))
                .map(|addr| addr.unit.unpack());
            for span in shown.into_iter().flatten() {
                let unit = span
                    .addr_on(date, reorganised_from)
                    .map(|addr| addr.unit.unpack());
                match span.kind {
                    SpanKind::Temporary => {
                        let ends_by_term = span.end_reason == Some(SpanEnd::TermEnded);
                        if let Some(until) = span.until
                            && ends_by_term
                            && until <= horizon
                            && scope.covers(unit)
                        {
                            expiring.push(ExpiringTemporary {
                                person,
                                until,
                                unit,
                                household: span
                                    .member_on(date)
                                    .map(|member| households.id_of(member.household)),
                            });
                        }
                    }
                    SpanKind::Absence => {
                        let unit = permanent_unit;
                        if let Some(mark) = span.start.checked_add_months(Months::new(12))
                            && mark <= horizon
                            && scope.covers(unit)
                        {
                            long_absences.push(LongAbsence {
                                person,
                                since: span.start,
                                twelve_months_on: mark,
                                until: span.until,
                                unit,
                            });
                        }
                    }
                    SpanKind::Permanent => {}
                }
                if let Some(member) = span.member_on(date) {
                    let tally = tallies
                        .entry(households.id_of(member.household))
                        .or_default();
                    if !tally.members.contains(&person) {
                        tally.members.push(person);
                    }
                    tally.head |= interner.is_head(member.relationship);
                    if tally.unit.is_none() {
                        tally.unit = unit;
                    }
                }
            }
        });
        expiring.sort_by_key(|item| (item.until, item.person));
        long_absences.sort_by_key(|item| (item.twelve_months_on, item.person));
        let head_vacant = tallies
            .into_iter()
            .filter(|(_, tally)| !tally.head && !tally.members.is_empty())
            .filter(|(_, tally)| scope.covers(tally.unit))
            .map(|(household, mut tally)| {
                tally.members.sort_unstable();
                HeadVacant {
                    household,
                    members: tally.members,
                    unit: tally.unit,
                }
            })
            .collect();
        DueLists {
            date,
            window_days,
            expiring,
            long_absences,
            head_vacant,
        }
    }
}
