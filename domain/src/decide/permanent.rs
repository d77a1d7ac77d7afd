//! Permanent registration (Art 20–23): the seven bases, the closed kinship list, consents, the
//! floor-area rule, barred places, and what a registration closes (I1, I2, I5, I6).
//!
//! Backdating: a permanent registration has no end when it is made, so it must start after
//! every registration the person had: strictly after the start of the current one (which it
//! closes on its own first day, I2) and not before the end of any ended one. A registration
//! starting on or before the current one's start is refused as an overlap.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::household::{HeadDeparture, exists, member_relationship, settle_head};
use super::{
    Out, address_of, basis_or, consent_by, dwelling_at, living, outlives, require_consent,
    same_commune, unit_valid,
};
use crate::command::{HouseholdChoice, RegisterPermanent};
use crate::event::{
    ConsentRole, HouseholdEstablished, Membership, PermanentBasis, PermanentResidenceRegistered,
    RegistrationKind, TemporaryResidenceDeleted,
};
use crate::grounds::{Initiator, TemporaryDeletionGround};
use crate::ids::PersonId;
use crate::rejection::Rejection;
use crate::relationship::Relationship;
use crate::rules::{
    ADULT_AGE_YEARS, JoinClause, art23_admits_permanent, floor_area_minimum, join_clause,
};
use crate::state::{PersonRecord, State};

/// I1/I2: a new permanent registration from `date` overlaps none of the person's others.
pub(super) fn check_permanent_slot(
    person: PersonId,
    record: &PersonRecord,
    date: NaiveDate,
) -> Result<(), Rejection> {
    for interval in &record.permanent {
        let overlaps = match interval.end {
            None => date <= interval.start,
            Some(end) => date < end,
        };
        if overlaps {
            return Err(Rejection::PermanentRegistrationOverlaps {
                person,
                effective_on: date,
                existing_start: interval.start,
                existing_end: interval.end,
            });
        }
    }
    Ok(())
}

/// The article a registration on `basis` cites by default.
fn default_basis(basis: PermanentBasis, clause: Option<JoinClause>) -> &'static str {
    match (basis, clause) {
        (PermanentBasis::OwnHome, _) => "Luật Cư trú 2020, Điều 20.1",
        (PermanentBasis::JoinRelative, Some(JoinClause::SpouseChildParent)) => {
            "Luật Cư trú 2020, Điều 20.2.a"
        }
        (PermanentBasis::JoinRelative, Some(JoinClause::Elderly | JoinClause::Dependent)) => {
            "Luật Cư trú 2020, Điều 20.2.b"
        }
        (PermanentBasis::JoinRelative, Some(JoinClause::Minor)) => "Luật Cư trú 2020, Điều 20.2.c",
        (PermanentBasis::JoinRelative, None) => "Luật Cư trú 2020, Điều 20.2",
        (PermanentBasis::RentedBorrowedShared, _) => "Luật Cư trú 2020, Điều 20.3",
        (PermanentBasis::ReligiousEstablishment, _) => "Luật Cư trú 2020, Điều 20.4",
        (PermanentBasis::SocialCare, _) => "Luật Cư trú 2020, Điều 20.5",
        (PermanentBasis::Vehicle, _) => "Luật Cư trú 2020, Điều 20.6",
        (PermanentBasis::UnitBarracks, _) => "Luật Cư trú 2020, Điều 20",
    }
}

/// Đăng ký thường trú.
pub(super) fn register(
    state: &State,
    c: &RegisterPermanent,
    out: &mut Out,
) -> Result<(), Rejection> {
    let date = c.effective_on;
    let person = living(state, c.person, date)?;
    // A permanent registration has no end: nobody whose death is recorded gets one, even
    // backdated to their lifetime.
    outlives(c.person, person, NaiveDate::MAX)?;
    unit_valid(&c.address, date)?;
    dwelling_at(state, c.dwelling, &c.address, date)?;
    check_permanent_slot(c.person, person, date)?;

    let current = person.permanent_household();
    if current != c.leaving_household {
        return Err(Rejection::HouseholdMismatch {
            person: c.person,
            recorded: current,
            given: c.leaving_household,
        });
    }
    let new_household = c.household.household();
    if current == Some(new_household) {
        return Err(Rejection::AlreadyRegisteredThere {
            person: c.person,
            household: new_household,
        });
    }

    // The household joined (with its head) or founded.
    let (relationship, head) = match &c.household {
        HouseholdChoice::Join {
            household,
            relationship,
        } => {
            let record = super::household::established(state, *household)?;
            let kind = record.kind.unwrap_or(RegistrationKind::Permanent);
            if kind != RegistrationKind::Permanent {
                return Err(Rejection::HouseholdKindMismatch {
                    household: *household,
                    expected: RegistrationKind::Permanent,
                    found: kind,
                });
            }
            if record.dwelling != Some(c.dwelling) {
                return Err(Rejection::HouseholdNotAtDwelling {
                    household: *household,
                    dwelling: c.dwelling,
                });
            }
            member_relationship(relationship)?;
            let head = record.head.ok_or(Rejection::HouseholdHeadVacant {
                household: *household,
            })?;
            (relationship.clone(), Some(head))
        }
        HouseholdChoice::Establish { household, .. } => {
            if exists(state, *household) {
                return Err(Rejection::HouseholdExists {
                    household: *household,
                });
            }
            if c.basis == PermanentBasis::JoinRelative {
                return Err(Rejection::BasisRequiresJoiningHousehold { basis: c.basis });
            }
            (Relationship::ChuHo, None)
        }
    };
    let head_consent = |consents: &[crate::event::Consent]| -> Result<(), Rejection> {
        require_consent(consents, ConsentRole::HouseholdHead)?;
        if let Some(head) = head {
            consent_by(consents, ConsentRole::HouseholdHead, head)?;
        }
        Ok(())
    };

    // The basis: kinship, consents and floor area.
    let age = person.age_on(date).unwrap_or(ADULT_AGE_YEARS);
    let mut clause = None;
    match c.basis {
        PermanentBasis::OwnHome => {}
        PermanentBasis::JoinRelative => {
            clause = join_clause(&relationship, age, c.dependency);
            if clause.is_none() {
                return Err(Rejection::RelationshipNotEligibleForJoin {
                    relationship,
                    age_years: age,
                });
            }
            head_consent(&c.consents)?;
            require_consent(&c.consents, ConsentRole::DwellingOwner)?;
        }
        PermanentBasis::RentedBorrowedShared => {
            require_consent(&c.consents, ConsentRole::DwellingOwner)?;
            if head.is_some() {
                head_consent(&c.consents)?;
            }
            check_floor_area(state, c)?;
        }
        PermanentBasis::ReligiousEstablishment => {
            require_consent(&c.consents, ConsentRole::EstablishmentHead)?;
        }
        PermanentBasis::SocialCare => {
            if head.is_some() {
                head_consent(&c.consents)?;
                require_consent(&c.consents, ConsentRole::DwellingOwner)?;
            } else {
                require_consent(&c.consents, ConsentRole::EstablishmentHead)?;
            }
        }
        PermanentBasis::Vehicle => require_consent(&c.consents, ConsentRole::DwellingOwner)?,
        PermanentBasis::UnitBarracks => {
            require_consent(&c.consents, ConsentRole::CommandingUnit)?;
        }
    }
    // I8: a minor needs a parent's or guardian's consent unless a court fixed the residence.
    if age < ADULT_AGE_YEARS && c.court_fixed_residence.is_none() {
        require_consent(&c.consents, ConsentRole::ParentOrGuardian)?;
    }
    // I9: Art 23 places.
    if let Some(kind) = state
        .dwelling(c.dwelling)
        .and_then(|dwelling| dwelling.restriction_on(date))
        && !art23_admits_permanent(date, c.basis, Some(&relationship))
    {
        return Err(Rejection::PlaceBarredArt23 {
            dwelling: c.dwelling,
            kind,
        });
    }

    // I6: the household left, if the person was its head.
    let mut after = Out::default();
    match current {
        Some(left) => settle_head(
            state,
            left,
            &BTreeSet::from([c.person]),
            date,
            HeadDeparture::NamesSuccessor,
            c.head_succession.as_ref(),
            &mut after,
        )?,
        None if c.head_succession.is_some() => {
            return Err(Rejection::NewHeadNotExpected {
                household: Some(new_household),
            });
        }
        None => {}
    }

    // I5 (and I3): a temporary registration at the same place ends the same day.
    if let Some(temporary) = person.temporary_on(date) {
        let temporary_address = address_of(
            state,
            temporary.dwelling,
            &temporary.address,
            temporary.start,
            date,
        );
        if temporary.dwelling == c.dwelling
            || same_commune(temporary_address.unit, c.address.unit, date)
        {
            after.push(TemporaryResidenceDeleted {
                person: c.person,
                effective_on: date,
                ground: TemporaryDeletionGround::PermanentAtSamePlace,
                initiator: Initiator::ExOfficio,
                address: temporary_address,
                dwelling: temporary.dwelling,
                household: temporary.household,
                legal_basis: basis_or(None, "Luật Cư trú 2020, Điều 29.1.đ"),
                application: None,
            });
        }
    }

    if let HouseholdChoice::Establish {
        household,
        residence_file_number,
    } = &c.household
    {
        out.push(HouseholdEstablished {
            household: *household,
            effective_on: date,
            kind: RegistrationKind::Permanent,
            address: c.address.clone(),
            dwelling: c.dwelling,
            residence_file_number: residence_file_number.clone(),
            legal_basis: basis_or(None, "Luật Cư trú 2020, Điều 10"),
        });
    }
    out.push(PermanentResidenceRegistered {
        person: c.person,
        effective_on: date,
        basis: c.basis,
        address: c.address.clone(),
        dwelling: c.dwelling,
        membership: Membership {
            household: new_household,
            relationship,
        },
        previous_household: current,
        // The dwelling of the registration this one closes (I2), tagged so that readers of
        // that dwelling see the person leave it.
        previous_dwelling: person.open_permanent().map(|open| open.dwelling),
        floor_area: c.floor_area,
        consents: c.consents.clone(),
        legal_basis: basis_or(c.legal_basis.as_ref(), default_basis(c.basis, clause)),
        application: c.application,
    });
    out.events.extend(after.events);
    for warning in after.warnings {
        out.warn(warning);
    }
    Ok(())
}

/// Art 20.3: enough floor per person, counting the persons registered at the dwelling on the
/// date and the newcomer.
fn check_floor_area(state: &State, c: &RegisterPermanent) -> Result<(), Rejection> {
    let floor_area = c
        .floor_area
        .or_else(|| state.dwelling(c.dwelling).and_then(|d| d.floor_area))
        .ok_or(Rejection::FloorAreaMissing {
            dwelling: c.dwelling,
        })?;
    let others = state
        .permanent_residents(c.dwelling, c.effective_on)
        .into_iter()
        .filter(|resident| *resident != c.person)
        .count();
    let persons = u32::try_from(others).unwrap_or(u32::MAX).saturating_add(1);
    let minimum = floor_area_minimum(c.address.unit, c.effective_on);
    if u64::from(floor_area.tenths()) < u64::from(minimum.tenths_per_person) * u64::from(persons) {
        return Err(Rejection::FloorAreaBelowMinimum {
            floor_area,
            persons,
            minimum_tenths_per_person: minimum.tenths_per_person,
        });
    }
    Ok(())
}
