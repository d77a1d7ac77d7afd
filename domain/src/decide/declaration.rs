//! Declarations and certificates: the Art 19 residence declaration and its refusal, the
//! in-commune address update (I3), stay notifications (Art 30), temporary absences (Art 31) and
//! the residence confirmation (CT07).

use chrono::Months;

use super::{
    Out, address_of, basis_or, dwelling_at, living, period, recorded, same_commune, unit_valid,
};
use crate::command::{
    DeclareCurrentResidence, DeclareTemporaryAbsence, IssueResidenceConfirmation, NotifyStay,
    RefuseResidenceDeclaration, UpdateCurrentAddress,
};
use crate::event::{
    AbsenceClause, CurrentAddressUpdated, CurrentResidenceDeclarationRefused,
    CurrentResidenceDeclared, ResidenceConfirmationIssued, StayNotified, TemporaryAbsenceDeclared,
};
use crate::rejection::Rejection;
use crate::rules::{
    CT07_VALIDITY, ConfirmationBasis, STAY_DAYS_MAX, absence_minimum_months, ct07_valid_until,
    in_force,
};
use crate::state::State;

/// Art 19: a person with neither registration declares where they live.
pub(super) fn declare(
    state: &State,
    c: &DeclareCurrentResidence,
    out: &mut Out,
) -> Result<(), Rejection> {
    let date = c.effective_on;
    let person = living(state, c.person, date)?;
    unit_valid(&c.address, date)?;
    if let Some(dwelling) = c.dwelling {
        dwelling_at(state, dwelling, &c.address, date)?;
    }
    if person.permanent_on(date).is_some() || person.temporary_on(date).is_some() {
        return Err(Rejection::PersonHasRegisteredResidence {
            person: c.person,
            date,
        });
    }
    out.push(CurrentResidenceDeclared {
        person: c.person,
        effective_on: date,
        address: c.address.clone(),
        dwelling: c.dwelling,
        legal_basis: basis_or(c.legal_basis.as_ref(), "Luật Cư trú 2020, Điều 19"),
        application: c.application,
    });
    Ok(())
}

/// NĐ154 Art 4: an unverifiable declaration is refused in writing.
pub(super) fn refuse(
    state: &State,
    c: &RefuseResidenceDeclaration,
    out: &mut Out,
) -> Result<(), Rejection> {
    recorded(state, c.person)?;
    unit_valid(&c.address, c.effective_on)?;
    out.push(CurrentResidenceDeclarationRefused {
        person: c.person,
        effective_on: c.effective_on,
        address: c.address.clone(),
        reason: c.reason.clone(),
        legal_basis: basis_or(c.legal_basis.as_ref(), "Nghị định 154/2024/NĐ-CP, Điều 4"),
        application: c.application,
    });
    Ok(())
}

/// I3: a move inside the commune of a registration updates only the current address.
pub(super) fn update_address(
    state: &State,
    c: &UpdateCurrentAddress,
    out: &mut Out,
) -> Result<(), Rejection> {
    let date = c.effective_on;
    let person = living(state, c.person, date)?;
    unit_valid(&c.address, date)?;
    if let Some(dwelling) = c.dwelling {
        dwelling_at(state, dwelling, &c.address, date)?;
    }
    let mut registered = Vec::new();
    if let Some(permanent) = person.permanent_on(date) {
        registered.push(
            address_of(
                state,
                permanent.dwelling,
                &permanent.address,
                permanent.start,
                date,
            )
            .unit,
        );
    }
    if let Some(temporary) = person.temporary_on(date) {
        registered.push(
            address_of(
                state,
                temporary.dwelling,
                &temporary.address,
                temporary.start,
                date,
            )
            .unit,
        );
    }
    let Some(first) = registered.first().copied() else {
        return Err(Rejection::NoActiveRegistration {
            person: c.person,
            date,
        });
    };
    if !registered
        .iter()
        .any(|unit| same_commune(*unit, c.address.unit, date))
    {
        return Err(Rejection::AddressOutsideRegistrationCommune {
            unit: c.address.unit,
            registered_unit: first,
        });
    }
    out.push(CurrentAddressUpdated {
        person: c.person,
        effective_on: date,
        previous_address: person
            .current_address
            .as_ref()
            .map(|current| current.address.clone()),
        address: c.address.clone(),
        dwelling: c.dwelling,
        legal_basis: basis_or(c.legal_basis.as_ref(), "Thông tư 55/2021/TT-BCA"),
        application: c.application,
    });
    Ok(())
}

/// Art 30: a stay shorter than 30 days.
pub(super) fn notify_stay(state: &State, c: &NotifyStay, out: &mut Out) -> Result<(), Rejection> {
    period(c.effective_on, c.until)?;
    let days = (c.until - c.effective_on).num_days() + 1;
    if days > STAY_DAYS_MAX {
        return Err(Rejection::StayTooLong {
            from: c.effective_on,
            until: c.until,
            days_max: STAY_DAYS_MAX,
        });
    }
    unit_valid(&c.host_address, c.effective_on)?;
    if let Some(dwelling) = c.dwelling {
        dwelling_at(state, dwelling, &c.host_address, c.effective_on)?;
    }
    if let Some(guest) = c.guest.person {
        living(state, guest, c.effective_on)?;
    }
    out.push(StayNotified {
        guest: c.guest.clone(),
        effective_on: c.effective_on,
        until: c.until,
        host_address: c.host_address.clone(),
        dwelling: c.dwelling,
        reason: c.reason.clone(),
        notifier: c.notifier,
        legal_basis: basis_or(c.legal_basis.as_ref(), "Luật Cư trú 2020, Điều 30"),
    });
    Ok(())
}

/// Art 31: an absence from a registered residence, as long as its clause is about.
pub(super) fn absence(
    state: &State,
    c: &DeclareTemporaryAbsence,
    out: &mut Out,
) -> Result<(), Rejection> {
    let date = c.effective_on;
    let person = living(state, c.person, date)?;
    period(date, c.until)?;
    if c.clause == AbsenceClause::LongAbsence {
        if person.permanent_on(date).is_none() {
            return Err(Rejection::NoActivePermanentRegistration {
                person: c.person,
                date,
            });
        }
    } else if person.permanent_on(date).is_none() && person.temporary_on(date).is_none() {
        return Err(Rejection::NoActiveRegistration {
            person: c.person,
            date,
        });
    }
    let minimum_months = absence_minimum_months(c.clause);
    if minimum_months > 0 {
        let long_enough = date
            .checked_add_months(Months::new(minimum_months))
            .is_none_or(|end| c.until.succ_opt().is_none_or(|after| after >= end));
        if !long_enough {
            return Err(Rejection::AbsenceShorterThanClause {
                clause: c.clause,
                minimum_months,
            });
        }
    }
    let letter = match c.clause {
        AbsenceClause::Sentenced => "a",
        AbsenceClause::AdministrativeMeasure => "b",
        AbsenceClause::MilitaryServiceAge => "c",
        AbsenceClause::LongAbsence => "d",
    };
    out.push(TemporaryAbsenceDeclared {
        person: c.person,
        effective_on: date,
        until: c.until,
        clause: c.clause,
        destination: c.destination.clone(),
        reason: c.reason.clone(),
        legal_basis: basis_or(
            c.legal_basis.as_ref(),
            &format!("Luật Cư trú 2020, Điều 31.1.{letter}"),
        ),
        application: c.application,
    });
    Ok(())
}

/// CT07: confirms a registration (or an Art 19 declaration) holding on the day of issue, valid
/// as the rule in force that day says.
pub(super) fn confirm(
    state: &State,
    c: &IssueResidenceConfirmation,
    out: &mut Out,
) -> Result<(), Rejection> {
    let date = c.issued_on;
    let person = living(state, c.person, date)?;
    let basis = if person.permanent_on(date).is_some() || person.temporary_on(date).is_some() {
        ConfirmationBasis::Registration
    } else if person.declared_on(date).is_some() {
        ConfirmationBasis::Declaration
    } else {
        return Err(Rejection::NoResidenceToConfirm {
            person: c.person,
            date,
        });
    };
    out.push(ResidenceConfirmationIssued {
        certificate: c.certificate,
        person: c.person,
        issued_on: date,
        valid_until: ct07_valid_until(date, basis),
        purpose: c.purpose.clone(),
        ledger_size: c.ledger_size,
        legal_basis: basis_or(c.legal_basis.as_ref(), in_force(CT07_VALIDITY, date).source),
        application: c.application,
    });
    Ok(())
}
