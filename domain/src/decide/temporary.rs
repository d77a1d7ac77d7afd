//! Temporary registration and its extension (Art 27–28; I1, I3, I4, I9).
//!
//! A temporary registration is a closed interval, so a backdated one may sit in a gap of the
//! person's history as long as it overlaps no other temporary registration.

use chrono::NaiveDate;

use super::household::{established, exists, member_relationship};
use super::{
    Out, address_of, basis_or, consent_by, dwelling_at, living, outlives, period, require_consent,
    same_commune, unit_valid,
};
use crate::command::{ExtendTemporary, HouseholdChoice, RegisterTemporary};
use crate::event::{
    ConsentRole, HouseholdEstablished, Membership, RegistrationKind, TemporaryResidenceExtended,
    TemporaryResidenceRegistered,
};
use crate::ids::PersonId;
use crate::rejection::Rejection;
use crate::relationship::Relationship;
use crate::rules::{ADULT_AGE_YEARS, extension_window, temporary_until_max};
use crate::state::{PersonRecord, State, TemporaryInterval};

/// I1: the term `[from, until]` overlaps no temporary registration of the person other than
/// `except`.
fn check_temporary_slot(
    person: PersonId,
    record: &PersonRecord,
    from: NaiveDate,
    until: NaiveDate,
    except: Option<&TemporaryInterval>,
) -> Result<(), Rejection> {
    let end = until.succ_opt().unwrap_or(NaiveDate::MAX);
    for interval in &record.temporary {
        if except.is_some_and(|except| std::ptr::eq(except, interval)) {
            continue;
        }
        if from < interval.end_exclusive() && interval.start < end {
            return Err(Rejection::TemporaryRegistrationOverlaps {
                person,
                effective_on: from,
                until,
                existing_start: interval.start,
                existing_until: interval.until,
            });
        }
    }
    Ok(())
}

/// I4: a term from `from` runs two years at most.
fn check_term(from: NaiveDate, until: NaiveDate) -> Result<(), Rejection> {
    let maximum_until = temporary_until_max(from);
    if until > maximum_until {
        return Err(Rejection::TemporaryTermTooLong {
            from,
            until,
            maximum_until,
        });
    }
    Ok(())
}

/// Đăng ký tạm trú.
pub(super) fn register(
    state: &State,
    c: &RegisterTemporary,
    out: &mut Out,
) -> Result<(), Rejection> {
    let date = c.effective_on;
    let person = living(state, c.person, date)?;
    unit_valid(&c.address, date)?;
    dwelling_at(state, c.dwelling, &c.address, date)?;
    period(date, c.until)?;
    check_term(date, c.until)?;
    outlives(c.person, person, c.until)?;
    check_temporary_slot(c.person, person, date, c.until, None)?;
    // I3: only outside the commune of the permanent residence.
    if let Some(permanent) = person.permanent_on(date) {
        let permanent_address = address_of(
            state,
            permanent.dwelling,
            &permanent.address,
            permanent.start,
            date,
        );
        if same_commune(permanent_address.unit, c.address.unit, date) {
            return Err(Rejection::TemporaryInPermanentCommune {
                person: c.person,
                unit: permanent_address.unit,
            });
        }
    }
    let membership = match &c.household {
        None => None,
        Some(HouseholdChoice::Join {
            household,
            relationship,
        }) => {
            let record = established(state, *household)?;
            let kind = record.kind.unwrap_or(RegistrationKind::Temporary);
            if kind != RegistrationKind::Temporary {
                return Err(Rejection::HouseholdKindMismatch {
                    household: *household,
                    expected: RegistrationKind::Temporary,
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
            require_consent(&c.consents, ConsentRole::HouseholdHead)?;
            consent_by(&c.consents, ConsentRole::HouseholdHead, head)?;
            Some(Membership {
                household: *household,
                relationship: relationship.clone(),
            })
        }
        Some(HouseholdChoice::Establish { household, .. }) => {
            if exists(state, *household) {
                return Err(Rejection::HouseholdExists {
                    household: *household,
                });
            }
            Some(Membership {
                household: *household,
                relationship: Relationship::ChuHo,
            })
        }
    };
    require_consent(&c.consents, ConsentRole::DwellingOwner)?;
    let age = person.age_on(date).unwrap_or(ADULT_AGE_YEARS);
    if age < ADULT_AGE_YEARS && c.court_fixed_residence.is_none() {
        require_consent(&c.consents, ConsentRole::ParentOrGuardian)?;
    }
    if let Some(kind) = state
        .dwelling(c.dwelling)
        .and_then(|dwelling| dwelling.restriction_on(date))
    {
        return Err(Rejection::PlaceBarredArt23 {
            dwelling: c.dwelling,
            kind,
        });
    }
    if let Some(HouseholdChoice::Establish {
        household,
        residence_file_number,
    }) = &c.household
    {
        out.push(HouseholdEstablished {
            household: *household,
            effective_on: date,
            kind: RegistrationKind::Temporary,
            address: c.address.clone(),
            dwelling: c.dwelling,
            residence_file_number: residence_file_number.clone(),
            legal_basis: basis_or(None, "Luật Cư trú 2020, Điều 10"),
        });
    }
    out.push(TemporaryResidenceRegistered {
        person: c.person,
        effective_on: date,
        until: c.until,
        address: c.address.clone(),
        dwelling: c.dwelling,
        membership,
        consents: c.consents.clone(),
        legal_basis: basis_or(c.legal_basis.as_ref(), "Luật Cư trú 2020, Điều 27"),
        application: c.application,
    });
    Ok(())
}

/// Gia hạn tạm trú: filed in the 15 days before the term ends, moving the end later by at
/// most two years, with the owner's consent.
pub(super) fn extend(state: &State, c: &ExtendTemporary, out: &mut Out) -> Result<(), Rejection> {
    let person = living(state, c.person, c.effective_on)?;
    let interval = person
        .temporary
        .iter()
        .rev()
        .find(|interval| interval.dwelling == c.dwelling && interval.deleted_on.is_none())
        .ok_or(Rejection::NoActiveTemporaryRegistration {
            person: c.person,
            dwelling: Some(c.dwelling),
            date: c.effective_on,
        })?;
    let filed_on = c
        .application
        .and_then(|application| state.application(application))
        .map_or(c.effective_on, |application| application.received_on);
    let (window_opens, window_closes) = extension_window(interval.until);
    // It never opens before the registration started or before the extension that set the
    // current term was granted.
    let window_opens = interval
        .extended_on
        .iter()
        .copied()
        .fold(window_opens.max(interval.start), NaiveDate::max);
    if filed_on < window_opens || filed_on >= window_closes {
        return Err(Rejection::ExtensionOutsideWindow {
            filed_on,
            until: interval.until,
            window_opens,
        });
    }
    // The extension is granted on or after the filing day.
    period(filed_on, c.effective_on)?;
    if c.until <= interval.until {
        return Err(Rejection::ExtensionNotLater {
            previous_until: interval.until,
            until: c.until,
        });
    }
    let next_day = interval.until.succ_opt().unwrap_or(NaiveDate::MAX);
    check_term(next_day, c.until)?;
    outlives(c.person, person, c.until)?;
    check_temporary_slot(c.person, person, interval.start, c.until, Some(interval))?;
    require_consent(&c.consents, ConsentRole::DwellingOwner)?;
    out.push(TemporaryResidenceExtended {
        person: c.person,
        dwelling: c.dwelling,
        effective_on: c.effective_on,
        previous_until: interval.until,
        until: c.until,
        consents: c.consents.clone(),
        legal_basis: basis_or(c.legal_basis.as_ref(), "Luật Cư trú 2020, Điều 28.3"),
        application: c.application,
    });
    Ok(())
}
