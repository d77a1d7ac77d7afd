//! Household decisions: split (Art 25), change of head and of a member's relationship
//! (Art 26.1(a)), revocation of a legacy book, and the head succession that any decision
//! removing the head from a household must settle (I6).

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::{
    Out, Warning, address_of, basis_or, consent_by, living, require_consent, split_duplicates,
};
use crate::command::{
    ChangeHead, ChangeMemberRelationship, HeadSuccession, RevokeLegacyBook, SplitConsent,
    SplitHousehold,
};
use crate::event::{
    ConsentRole, HeadChangeReason, HouseholdHeadChanged, HouseholdSplit,
    LegacyHouseholdBookRevoked, MemberRelationship, MemberRelationshipChanged, RegistrationKind,
};
use crate::ids::{HouseholdId, PersonId};
use crate::rejection::Rejection;
use crate::relationship::Relationship;
use crate::rules::ADULT_AGE_YEARS;
use crate::state::{HouseholdRecord, State, VacancyCause};

/// The legal basis of a change of head.
const HEAD_CHANGE_BASIS: &str = "Luật Cư trú 2020, Điều 26.1.a";

/// Whether a household with this id exists in the state.
pub(super) fn exists(state: &State, household: HouseholdId) -> bool {
    state
        .household(household)
        .is_some_and(|record| record.established || !record.members.is_empty())
}

/// The household, when it was established.
pub(super) fn established(
    state: &State,
    household: HouseholdId,
) -> Result<&HouseholdRecord, Rejection> {
    state
        .household(household)
        .filter(|record| record.established)
        .ok_or(Rejection::HouseholdUnknown { household })
}

/// A relationship a decision may record for a member who is not the head.
pub(super) fn member_relationship(relationship: &Relationship) -> Result<(), Rejection> {
    match relationship {
        Relationship::ChuHo | Relationship::LegacyText(_) => Err(Rejection::RelationshipInvalid {
            relationship: relationship.clone(),
        }),
        _ => Ok(()),
    }
}

/// How the law treats a head who leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HeadDeparture {
    /// Death or an ex-officio deletion: the post stays vacant for the members or a court.
    VacatesPost,
    /// Any other ground: the same decision names the new head.
    NamesSuccessor,
}

/// Settles the head of `household` when `leaving` leave it on `date`: nothing when the head
/// stays or nobody stays, a warning when the post falls vacant, else the new head named by
/// `succession`, checked and recorded as a [`HouseholdHeadChanged`] pushed to `out`.
pub(super) fn settle_head(
    state: &State,
    household: HouseholdId,
    leaving: &BTreeSet<PersonId>,
    date: NaiveDate,
    departure: HeadDeparture,
    succession: Option<&HeadSuccession>,
    out: &mut Out,
) -> Result<(), Rejection> {
    let record = state.household(household);
    let head_leaves = record
        .and_then(|record| record.head)
        .is_some_and(|head| leaving.contains(&head));
    let remaining: BTreeSet<PersonId> = record
        .map(|record| {
            record
                .members
                .keys()
                .filter(|member| !leaving.contains(member))
                .copied()
                .collect()
        })
        .unwrap_or_default();
    if !head_leaves || remaining.is_empty() {
        return match succession {
            Some(_) => Err(Rejection::NewHeadNotExpected {
                household: Some(household),
            }),
            None => Ok(()),
        };
    }
    match (departure, succession) {
        (HeadDeparture::VacatesPost, Some(_)) => Err(Rejection::NewHeadNotExpected {
            household: Some(household),
        }),
        (HeadDeparture::VacatesPost, None) => {
            out.warn(Warning::HouseholdHeadVacated { household });
            Ok(())
        }
        (HeadDeparture::NamesSuccessor, None) => Err(Rejection::HouseholdHeadMissing { household }),
        (HeadDeparture::NamesSuccessor, Some(succession)) => {
            check_new_head(
                state,
                household,
                &remaining,
                succession.new_head,
                &succession.members,
                succession.court_decision.is_some(),
                date,
            )?;
            out.push(HouseholdHeadChanged {
                household,
                effective_on: date,
                previous_head: record.and_then(|record| record.head),
                new_head: succession.new_head,
                reason: HeadChangeReason::HeadLeft,
                members: succession.members.clone(),
                court_decision: succession.court_decision.clone(),
                legal_basis: basis_or(None, HEAD_CHANGE_BASIS),
                application: None,
            });
            Ok(())
        }
    }
}

/// A new head among `remaining` members, with every other remaining member restated exactly
/// once with a relationship a member may have, and with full civil capacity unless no other
/// member has it or a court named them (Art 10).
fn check_new_head(
    state: &State,
    household: HouseholdId,
    remaining: &BTreeSet<PersonId>,
    new_head: PersonId,
    members: &[MemberRelationship],
    court_named: bool,
    date: NaiveDate,
) -> Result<(), Rejection> {
    if !remaining.contains(&new_head) {
        return Err(Rejection::PersonNotMember {
            person: new_head,
            household,
        });
    }
    let (listed, mut unexpected) = split_duplicates(members.iter().map(|member| member.person));
    let expected: BTreeSet<PersonId> = remaining
        .iter()
        .filter(|member| **member != new_head)
        .copied()
        .collect();
    unexpected.extend(listed.difference(&expected).copied());
    let missing: Vec<PersonId> = expected.difference(&listed).copied().collect();
    if !missing.is_empty() || !unexpected.is_empty() {
        return Err(Rejection::MembersNotRestated {
            household,
            missing,
            unexpected,
        });
    }
    for member in members {
        member_relationship(&member.relationship)?;
    }
    let head = living(state, new_head, date)?;
    if court_named {
        return Ok(());
    }
    if let Some(age) = head.age_on(date)
        && age < ADULT_AGE_YEARS
    {
        let an_adult_stays = expected.iter().any(|member| {
            state
                .person(*member)
                .and_then(|record| record.age_on(date))
                .is_some_and(|age| age >= ADULT_AGE_YEARS)
        });
        if an_adult_stays {
            return Err(Rejection::HeadLacksCapacity {
                person: new_head,
                age_years: age,
            });
        }
    }
    Ok(())
}

/// Art 26.1(a): a member becomes head; for a head-vacant household this names the head the
/// death or ex-officio deletion left missing.
pub(super) fn change_head(state: &State, c: &ChangeHead, out: &mut Out) -> Result<(), Rejection> {
    let record = established(state, c.household)?;
    if record.head == Some(c.new_head) {
        return Err(Rejection::HeadUnchanged {
            household: c.household,
            head: c.new_head,
        });
    }
    let members: BTreeSet<PersonId> = record.members.keys().copied().collect();
    check_new_head(
        state,
        c.household,
        &members,
        c.new_head,
        &c.members,
        c.court_decision.is_some(),
        c.effective_on,
    )?;
    let reason = match (record.head, record.vacancy) {
        (Some(_), _) => HeadChangeReason::Handover,
        (None, Some(VacancyCause::HeadDied)) => HeadChangeReason::HeadDied,
        (None, _) => HeadChangeReason::HeadLeft,
    };
    out.push(HouseholdHeadChanged {
        household: c.household,
        effective_on: c.effective_on,
        previous_head: record.head,
        new_head: c.new_head,
        reason,
        members: c.members.clone(),
        court_decision: c.court_decision.clone(),
        legal_basis: basis_or(c.legal_basis.as_ref(), HEAD_CHANGE_BASIS),
        application: c.application,
    });
    Ok(())
}

/// A member's relationship to the head changes (never the head's own, never to `CHU_HO`).
pub(super) fn change_relationship(
    state: &State,
    c: &ChangeMemberRelationship,
    out: &mut Out,
) -> Result<(), Rejection> {
    let record = established(state, c.household)?;
    living(state, c.person, c.effective_on)?;
    let previous = record
        .members
        .get(&c.person)
        .ok_or(Rejection::PersonNotMember {
            person: c.person,
            household: c.household,
        })?;
    if record.head == Some(c.person) {
        return Err(Rejection::RelationshipInvalid {
            relationship: c.relationship.clone(),
        });
    }
    member_relationship(&c.relationship)?;
    if *previous == c.relationship {
        return Err(Rejection::RelationshipUnchanged { person: c.person });
    }
    out.push(MemberRelationshipChanged {
        household: c.household,
        person: c.person,
        effective_on: c.effective_on,
        previous_relationship: previous.clone(),
        relationship: c.relationship.clone(),
        legal_basis: basis_or(c.legal_basis.as_ref(), "Luật Cư trú 2020, Điều 26.1"),
        application: c.application,
    });
    Ok(())
}

/// Art 25: members split off into a new household at the same dwelling.
pub(super) fn split(state: &State, c: &SplitHousehold, out: &mut Out) -> Result<(), Rejection> {
    let record = established(state, c.household)?;
    let kind = record.kind.unwrap_or(RegistrationKind::Permanent);
    if kind != RegistrationKind::Permanent {
        return Err(Rejection::HouseholdKindMismatch {
            household: c.household,
            expected: RegistrationKind::Permanent,
            found: kind,
        });
    }
    if record.dwelling != Some(c.dwelling) {
        return Err(Rejection::HouseholdNotAtDwelling {
            household: c.household,
            dwelling: c.dwelling,
        });
    }
    if exists(state, c.new_household) || c.new_household == c.household {
        return Err(Rejection::HouseholdExists {
            household: c.new_household,
        });
    }
    let (moving, repeated) = split_duplicates(
        std::iter::once(c.new_head).chain(c.members.iter().map(|member| member.person)),
    );
    if !repeated.is_empty() {
        return Err(Rejection::MembersNotRestated {
            household: c.household,
            missing: Vec::new(),
            unexpected: repeated,
        });
    }
    for person in &moving {
        if !record.members.contains_key(person) {
            return Err(Rejection::PersonNotMember {
                person: *person,
                household: c.household,
            });
        }
        living(state, *person, c.effective_on)?;
    }
    if record.members.keys().all(|member| moving.contains(member)) {
        return Err(Rejection::SplitLeavesHouseholdEmpty {
            household: c.household,
        });
    }
    for member in &c.members {
        member_relationship(&member.relationship)?;
    }
    let capable = moving.iter().any(|person| {
        state
            .person(*person)
            .and_then(|record| record.age_on(c.effective_on))
            .is_some_and(|age| age >= ADULT_AGE_YEARS)
    });
    if !capable {
        return Err(Rejection::SplitMemberLacksCapacity {
            household: c.household,
        });
    }
    if c.consent == SplitConsent::Consented {
        let head = record.head.ok_or(Rejection::HouseholdHeadVacant {
            household: c.household,
        })?;
        require_consent(&c.consents, ConsentRole::HouseholdHead)?;
        consent_by(&c.consents, ConsentRole::HouseholdHead, head)?;
        require_consent(&c.consents, ConsentRole::DwellingOwner)?;
    }
    if let Some(kind) = state
        .dwelling(c.dwelling)
        .and_then(|dwelling| dwelling.restriction_on(c.effective_on))
    {
        return Err(Rejection::PlaceBarredArt23 {
            dwelling: c.dwelling,
            kind,
        });
    }
    let fallback = record.address.clone().ok_or(Rejection::HouseholdUnknown {
        household: c.household,
    })?;
    let since = record.established_on.unwrap_or(c.effective_on);
    let address = address_of(state, c.dwelling, &fallback, since, c.effective_on);
    let mut settled = Out::default();
    settle_head(
        state,
        c.household,
        &moving,
        c.effective_on,
        HeadDeparture::NamesSuccessor,
        c.old_household_succession.as_ref(),
        &mut settled,
    )?;
    out.push(HouseholdSplit {
        household: c.household,
        new_household: c.new_household,
        effective_on: c.effective_on,
        dwelling: c.dwelling,
        address,
        new_head: c.new_head,
        members: c.members.clone(),
        consents: c.consents.clone(),
        residence_file_number: c.residence_file_number.clone(),
        legal_basis: basis_or(c.legal_basis.as_ref(), "Luật Cư trú 2020, Điều 25"),
        application: c.application,
    });
    out.events.extend(settled.events);
    for warning in settled.warnings {
        out.warn(warning);
    }
    Ok(())
}

/// A legacy paper book is revoked once.
pub(super) fn revoke_book(
    state: &State,
    c: &RevokeLegacyBook,
    out: &mut Out,
) -> Result<(), Rejection> {
    let record = established(state, c.household)?;
    if record
        .revoked_books
        .iter()
        .any(|(_, number)| *number == c.book_number)
    {
        return Err(Rejection::LegacyBookAlreadyRevoked {
            household: c.household,
            book_number: c.book_number.clone(),
        });
    }
    out.push(LegacyHouseholdBookRevoked {
        household: c.household,
        effective_on: c.effective_on,
        book: c.book,
        book_number: c.book_number.clone(),
        legal_basis: basis_or(c.legal_basis.as_ref(), "Thông tư 55/2021/TT-BCA, Điều 26"),
    });
    Ok(())
}
