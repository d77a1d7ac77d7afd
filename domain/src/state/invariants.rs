//! The invariants of DOMAIN.md §2 a decision state is checked against, and what each violation
//! says (in English for logs, in Vietnamese for officers).
//!
//! Why apart from `evolve`: the fold records facts already decided and never judges, so a
//! folded state may break an invariant (a correction can move a registration under a later
//! one; an earlier binary may have accepted what today's rules refuse). `decide` asks here
//! whether the events it would append leave the state sound, and refuses when they do not; the
//! simulation asks of every state it reaches.
//!
//! What is checked, per person: no registration ends (or is extended) before it starts; no
//! deletion or extension matches no registration; no registration holds after a death recorded
//! by a deletion; I1, no two permanent and no two temporary registrations overlap. Per
//! household, I6: the head is a member, there is at most one head, and members are left without
//! one only after the head's death or ex-officio deletion. Over all persons, I12: no PIN is held
//! by two recorded persons.
//!
//! The other end: what the fold keeps by construction (the head is a member) is asserted in
//! `evolve.rs` where a household changes; the check here reads it back, so a state folded by a
//! changed `evolve` or from a damaged history is still caught in release builds.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::NaiveDate;

use super::{HouseholdRecord, PersonRecord, State, VacancyCause};
use crate::ids::{HouseholdId, PersonId};
use crate::pin::Pin;
use crate::relationship::Relationship;

impl State {
    /// Every invariant broken in the state (DOMAIN.md §2: I1 as non-overlapping intervals, I6
    /// with head vacancy, I12), for complete states such as a simulation's.
    pub fn violations(&self) -> Vec<InvariantViolation> {
        let persons: BTreeSet<PersonId> = self.persons.keys().copied().collect();
        let households: BTreeSet<HouseholdId> = self.households.keys().copied().collect();
        self.violations_among(&persons, &households)
    }

    /// The invariants broken by the given persons and households, for a state folded from
    /// their tags (whose records are therefore complete), plus any PIN held twice.
    pub fn violations_among(
        &self,
        persons: &BTreeSet<PersonId>,
        households: &BTreeSet<HouseholdId>,
    ) -> Vec<InvariantViolation> {
        let mut violations = Vec::new();
        for person in persons {
            if let Some(record) = self.persons.get(person) {
                person_violations(*person, record, &mut violations);
            }
        }
        for household in households {
            if let Some(record) = self.households.get(household) {
                household_violations(*household, record, &mut violations);
            }
        }
        pins_shared(&self.persons, &mut violations);
        violations
    }
}

/// Everything one person's registrations break, in a fixed order (callers and tests compare
/// lists).
fn person_violations(
    person: PersonId,
    record: &PersonRecord,
    violations: &mut Vec<InvariantViolation>,
) {
    deletions_without_registration(person, record, violations);
    registered_after_death(person, record, violations);
    extensions_without_registration(person, record, violations);
    ends_before_start(person, record, violations);
    permanent_overlaps(person, record, violations);
    temporary_overlaps(person, record, violations);
}

/// A deletion the fold could match to no registration (the registration was corrected after
/// it was deleted).
fn deletions_without_registration(
    person: PersonId,
    record: &PersonRecord,
    violations: &mut Vec<InvariantViolation>,
) {
    for effective_on in &record.unmatched_deletions {
        violations.push(InvariantViolation::DeletionWithoutRegistration {
            person,
            effective_on: *effective_on,
        });
    }
}

/// A registration that holds on some day after a death recorded by a deletion (a registration
/// that holds on no day is not counted).
fn registered_after_death(
    person: PersonId,
    record: &PersonRecord,
    violations: &mut Vec<InvariantViolation>,
) {
    let Some(died_on) = record.died_on else {
        return;
    };
    let after_death = record
        .permanent
        .iter()
        .filter(|interval| {
            let end = interval.end.unwrap_or(NaiveDate::MAX);
            interval.start < end && died_on < end
        })
        .map(|interval| interval.start)
        .chain(
            record
                .temporary
                .iter()
                .filter(|interval| {
                    let end = interval.end_exclusive();
                    interval.start < end && died_on < end
                })
                .map(|interval| interval.start),
        );
    for start in after_death {
        violations.push(InvariantViolation::RegisteredAfterDeath {
            person,
            start,
            died_on,
        });
    }
}

/// An extension the fold could match to no registration (the registration's term was
/// corrected after it was extended).
fn extensions_without_registration(
    person: PersonId,
    record: &PersonRecord,
    violations: &mut Vec<InvariantViolation>,
) {
    for effective_on in &record.unmatched_extensions {
        violations.push(InvariantViolation::ExtensionWithoutRegistration {
            person,
            effective_on: *effective_on,
        });
    }
}

/// A registration that ends before it starts, or was extended before it started (a deletion,
/// a next registration or an extension dated before it, as a correction could make it).
fn ends_before_start(
    person: PersonId,
    record: &PersonRecord,
    violations: &mut Vec<InvariantViolation>,
) {
    let inverted = record
        .permanent
        .iter()
        .filter(|interval| interval.end.is_some_and(|end| end < interval.start))
        .map(|interval| interval.start)
        .chain(
            record
                .temporary
                .iter()
                .filter(|interval| {
                    interval.until < interval.start
                        || interval.deleted_on.is_some_and(|end| end < interval.start)
                        || interval.extended_on.iter().any(|on| *on < interval.start)
                })
                .map(|interval| interval.start),
        );
    for start in inverted {
        violations.push(InvariantViolation::EndsBeforeStart { person, start });
    }
}

/// I1: a person has at most one permanent registration on any day; each overlapping pair is
/// reported once.
fn permanent_overlaps(
    person: PersonId,
    record: &PersonRecord,
    violations: &mut Vec<InvariantViolation>,
) {
    for (index, first) in record.permanent.iter().enumerate() {
        for second in record.permanent.iter().skip(index + 1) {
            let first_end = first.end.unwrap_or(NaiveDate::MAX);
            let second_end = second.end.unwrap_or(NaiveDate::MAX);
            if first.start < second_end && second.start < first_end {
                violations.push(InvariantViolation::PermanentOverlap {
                    person,
                    first_start: first.start,
                    second_start: second.start,
                });
            }
        }
    }
}

/// I1: a person has at most one temporary registration on any day; each overlapping pair is
/// reported once.
fn temporary_overlaps(
    person: PersonId,
    record: &PersonRecord,
    violations: &mut Vec<InvariantViolation>,
) {
    for (index, first) in record.temporary.iter().enumerate() {
        for second in record.temporary.iter().skip(index + 1) {
            if first.start < second.end_exclusive() && second.start < first.end_exclusive() {
                violations.push(InvariantViolation::TemporaryOverlap {
                    person,
                    first_start: first.start,
                    second_start: second.start,
                });
            }
        }
    }
}

/// I6 for one household: a head who is a member and the only member recorded as `CHU_HO`; or
/// no members; or members without a head after the head's death or ex-officio deletion, with
/// none of them recorded as `CHU_HO`.
fn household_violations(
    household: HouseholdId,
    record: &HouseholdRecord,
    violations: &mut Vec<InvariantViolation>,
) {
    let chu_ho: Vec<PersonId> = record
        .members
        .iter()
        .filter(|(_, relationship)| **relationship == Relationship::ChuHo)
        .map(|(person, _)| *person)
        .collect();
    match record.head {
        // The fold never makes this (it asserts so in `evolve.rs`); this is the reading end.
        Some(head) if !record.members.contains_key(&head) => {
            violations.push(InvariantViolation::HeadNotMember { household, head });
        }
        Some(head) if chu_ho.iter().any(|person| *person != head) => {
            violations.push(InvariantViolation::SeveralHeads {
                household,
                persons: chu_ho,
            });
        }
        Some(_) => {}
        None if record.members.is_empty() => {}
        None => match record.vacancy {
            Some(VacancyCause::HeadDied | VacancyCause::HeadDeletedExOfficio)
                if chu_ho.is_empty() => {}
            Some(VacancyCause::HeadDied | VacancyCause::HeadDeletedExOfficio) => {
                violations.push(InvariantViolation::SeveralHeads {
                    household,
                    persons: chu_ho,
                });
            }
            Some(VacancyCause::HeadLeft) | None => {
                violations.push(InvariantViolation::HeadlessWithoutCause { household });
            }
        },
    }
}

/// I12: no two persons recorded from the population database (I7) hold the same current PIN.
/// Checked over every person the state knows, whatever the scope, since a PIN's other holder
/// may be anyone.
fn pins_shared(
    persons: &BTreeMap<PersonId, PersonRecord>,
    violations: &mut Vec<InvariantViolation>,
) {
    let mut current: BTreeMap<Pin, PersonId> = BTreeMap::new();
    for (person, record) in persons {
        if let Some(pin) = record.pin
            && record.recorded
            && let Some(other) = current.insert(pin, *person)
        {
            violations.push(InvariantViolation::PinShared {
                pin,
                first: other,
                second: *person,
            });
        }
    }
}

/// An invariant of DOMAIN.md §2 that a state breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvariantViolation {
    /// A registration ends before it starts, or was extended before it started (a deletion,
    /// a next registration or an extension dated before it, as a correction could make it).
    EndsBeforeStart {
        /// The person.
        person: PersonId,
        /// The registration's start.
        start: NaiveDate,
    },
    /// An extension names a term that no registration of the person has (the registration was
    /// corrected without its extension).
    ExtensionWithoutRegistration {
        /// The person.
        person: PersonId,
        /// The day the extension was granted.
        effective_on: NaiveDate,
    },
    /// A deletion names a registration that the person does not have (it was corrected
    /// after the deletion).
    DeletionWithoutRegistration {
        /// The person.
        person: PersonId,
        /// The day of the deletion.
        effective_on: NaiveDate,
    },
    /// A registration holds after the person's death was recorded by a deletion.
    RegisteredAfterDeath {
        /// The person.
        person: PersonId,
        /// The registration's start.
        start: NaiveDate,
        /// The date of death.
        died_on: NaiveDate,
    },
    /// I1: two permanent registrations of one person overlap.
    PermanentOverlap {
        /// The person.
        person: PersonId,
        /// The first registration's start.
        first_start: NaiveDate,
        /// The second registration's start.
        second_start: NaiveDate,
    },
    /// I1: two temporary registrations of one person overlap.
    TemporaryOverlap {
        /// The person.
        person: PersonId,
        /// The first registration's start.
        first_start: NaiveDate,
        /// The second registration's start.
        second_start: NaiveDate,
    },
    /// I6: the head is not a member.
    HeadNotMember {
        /// The household.
        household: HouseholdId,
        /// The head.
        head: PersonId,
    },
    /// I6: more than one member is recorded as head.
    SeveralHeads {
        /// The household.
        household: HouseholdId,
        /// The members with relationship `CHU_HO`.
        persons: Vec<PersonId>,
    },
    /// I6: members without a head, other than after the head's death or ex-officio deletion.
    HeadlessWithoutCause {
        /// The household.
        household: HouseholdId,
    },
    /// I12: two persons hold the same PIN.
    PinShared {
        /// The PIN.
        pin: Pin,
        /// One holder.
        first: PersonId,
        /// The other.
        second: PersonId,
    },
}

impl fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EndsBeforeStart { person, start } => write!(
                f,
                "a registration of person {person} from {start} ends before it starts"
            ),
            Self::DeletionWithoutRegistration {
                person,
                effective_on,
            } => write!(
                f,
                "the deletion of {effective_on} matches no registration of person {person}"
            ),
            Self::RegisteredAfterDeath {
                person,
                start,
                died_on,
            } => write!(
                f,
                "a registration of person {person} from {start} holds after their death on {died_on}"
            ),
            Self::ExtensionWithoutRegistration {
                person,
                effective_on,
            } => write!(
                f,
                "the extension of {effective_on} matches no temporary registration of person {person}"
            ),
            Self::PermanentOverlap {
                person,
                first_start,
                second_start,
            } => write!(
                f,
                "permanent registrations of person {person} from {first_start} and {second_start} overlap"
            ),
            Self::TemporaryOverlap {
                person,
                first_start,
                second_start,
            } => write!(
                f,
                "temporary registrations of person {person} from {first_start} and {second_start} overlap"
            ),
            Self::HeadNotMember { household, head } => {
                write!(
                    f,
                    "the head {head} of household {household} is not a member"
                )
            }
            Self::SeveralHeads { household, persons } => {
                write!(f, "household {household} has several heads {persons:?}")
            }
            Self::HeadlessWithoutCause { household } => write!(
                f,
                "household {household} has no head without the head's death or ex-officio deletion"
            ),
            Self::PinShared { pin, first, second } => {
                write!(f, "persons {first} and {second} hold the same number {pin}")
            }
        }
    }
}

impl InvariantViolation {
    /// The description in Vietnamese.
    pub fn message_vi(&self) -> String {
        match self {
            Self::EndsBeforeStart { person, start } => {
                format!("một đăng ký của công dân {person} từ {start} kết thúc trước khi bắt đầu")
            }
            Self::DeletionWithoutRegistration {
                person,
                effective_on,
            } => format!(
                "việc xóa đăng ký ngày {effective_on} không ứng với đăng ký nào của công dân {person}"
            ),
            Self::RegisteredAfterDeath {
                person,
                start,
                died_on,
            } => format!(
                "đăng ký của công dân {person} từ {start} còn hiệu lực sau ngày chết {died_on}"
            ),
            Self::ExtensionWithoutRegistration {
                person,
                effective_on,
            } => format!(
                "việc gia hạn ngày {effective_on} không ứng với đăng ký tạm trú nào của công dân {person}"
            ),
            Self::PermanentOverlap {
                person,
                first_start,
                second_start,
            } => format!(
                "các đăng ký thường trú của công dân {person} từ {first_start} và {second_start} trùng nhau"
            ),
            Self::TemporaryOverlap {
                person,
                first_start,
                second_start,
            } => format!(
                "các đăng ký tạm trú của công dân {person} từ {first_start} và {second_start} trùng nhau"
            ),
            Self::HeadNotMember { household, head } => {
                format!("chủ hộ {head} của hộ {household} không phải thành viên hộ")
            }
            Self::SeveralHeads { household, .. } => {
                format!("hộ {household} có nhiều hơn một chủ hộ")
            }
            Self::HeadlessWithoutCause { household } => format!(
                "hộ {household} không có chủ hộ mà không phải do chủ hộ chết hoặc bị xóa đăng ký"
            ),
            Self::PinShared { pin, first, second } => {
                format!("công dân {first} và {second} cùng mang số định danh {pin}")
            }
        }
    }
}
