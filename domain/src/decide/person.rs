//! Decisions about a person's own record (recording, PIN re-establishment, civil status) and
//! about intake slips (CT04, CT05, CT06).

use chrono::Datelike;

use super::{Out, Warning, basis_or, living, period, recorded};
use crate::command::{
    AdjustCivilStatus, ReassignPin, ReceiveApplication, RecordPerson, RefuseApplication,
    RequestCompletion,
};
use crate::context::Context;
use crate::event::{
    ApplicationCompletionRequested, ApplicationReceived, ApplicationRefused, PersonRecorded,
    PersonalIdNumberReassigned, ResidentCivilStatusAdjusted,
};
use crate::pin::Pin;
use crate::rejection::Rejection;
use crate::rules::CIVIL_STATUS_FILING_DAYS;
use crate::state::State;

/// The PIN fits the birth year (else a rejection); its other oddities become warnings.
fn check_pin(
    pin: Pin,
    person: crate::ids::PersonId,
    birth_year: i32,
    sex: crate::pin::Sex,
    out: &mut Out,
) -> Result<(), Rejection> {
    let encoded = pin.birth_year();
    if encoded != birth_year {
        return Err(Rejection::PinBirthYearMismatch {
            pin,
            encoded,
            recorded: birth_year,
        });
    }
    // The birth year was checked above, so `check` can only return warnings.
    for warning in pin.check(birth_year, sex).unwrap_or_default() {
        out.warn(Warning::from_pin(person, pin, warning));
    }
    Ok(())
}

/// The PIN is free: nobody holds or held it, except possibly `person` itself.
fn pin_free(state: &State, pin: Pin) -> Result<(), Rejection> {
    match state.pin_holder(pin) {
        Some(holder) => Err(Rejection::PinAlreadyAssigned {
            pin,
            holder: holder.person,
        }),
        None => Ok(()),
    }
}

/// I7, I12: a person enters the register with a PIN nobody else holds.
pub(super) fn record_person(
    state: &State,
    c: &RecordPerson,
    ctx: &Context,
    out: &mut Out,
) -> Result<(), Rejection> {
    if state.person(c.person).is_some_and(|record| record.recorded) {
        return Err(Rejection::PersonAlreadyRecorded { person: c.person });
    }
    if c.birth_date > ctx.today {
        return Err(Rejection::BirthDateInFuture {
            birth_date: c.birth_date,
            today: ctx.today,
        });
    }
    pin_free(state, c.pin)?;
    check_pin(c.pin, c.person, c.birth_date.year(), c.sex, out)?;
    out.push(PersonRecorded {
        person: c.person,
        pin: c.pin,
        name: c.name.clone(),
        birth_date: c.birth_date,
        sex: c.sex,
    });
    Ok(())
}

/// I12: the population database cancels the current PIN and establishes a free one that fits
/// the birth year.
pub(super) fn reassign_pin(state: &State, c: &ReassignPin, out: &mut Out) -> Result<(), Rejection> {
    let record = recorded(state, c.person)?;
    let current = record
        .pin
        .ok_or(Rejection::PersonNotRecorded { person: c.person })?;
    if current != c.old {
        return Err(Rejection::PinNotCurrent {
            person: c.person,
            given: c.old,
            current,
        });
    }
    if c.new == c.old {
        return Err(Rejection::PinUnchanged { pin: c.new });
    }
    pin_free(state, c.new)?;
    if let (Some(birth_date), Some(sex)) = (record.birth_date, record.sex) {
        check_pin(c.new, c.person, birth_date.year(), sex, out)?;
    }
    out.push(PersonalIdNumberReassigned {
        person: c.person,
        effective_on: c.effective_on,
        old: c.old,
        new: c.new,
        reason: c.reason,
        legal_basis: basis_or(c.legal_basis.as_ref(), "Luật Căn cước 2023, Điều 12"),
    });
    Ok(())
}

/// Art 26.1(b): the residence data follow a civil-status decision; a late filing and a PIN
/// that no longer fits are warnings.
pub(super) fn adjust_civil_status(
    state: &State,
    c: &AdjustCivilStatus,
    out: &mut Out,
) -> Result<(), Rejection> {
    let record = living(state, c.person, c.effective_on)?;
    let changes = &c.changes;
    let changes_something = changes
        .name
        .as_ref()
        .is_some_and(|name| record.name.as_ref() != Some(name))
        || changes
            .birth_date
            .is_some_and(|birth| record.birth_date != Some(birth))
        || changes.sex.is_some_and(|sex| record.sex != Some(sex));
    if !changes_something {
        return Err(Rejection::CivilStatusUnchanged { person: c.person });
    }
    if let Some(birth_date) = changes.birth_date
        && birth_date > c.effective_on
    {
        return Err(Rejection::BirthDateInFuture {
            birth_date,
            today: c.effective_on,
        });
    }
    period(c.decision.decided_on, c.effective_on)?;
    let filed_on = c
        .application
        .and_then(|application| state.application(application))
        .map_or(c.effective_on, |application| application.received_on);
    if (filed_on - c.decision.decided_on).num_days() > CIVIL_STATUS_FILING_DAYS {
        out.warn(Warning::CivilStatusFiledLate {
            person: c.person,
            decided_on: c.decision.decided_on,
            filed_on,
        });
    }
    if let Some(pin) = record.pin {
        let birth_year = changes
            .birth_date
            .or(record.birth_date)
            .map(|birth| birth.year());
        if let Some(birth_year) = birth_year
            && pin.birth_year() != birth_year
        {
            out.warn(Warning::PinNoLongerMatches {
                person: c.person,
                pin,
                birth_year,
            });
        }
        if let Some(sex) = changes.sex
            && pin.sex() != sex
        {
            out.warn(Warning::PinSexMismatch {
                person: c.person,
                pin,
                encoded: pin.sex(),
                recorded: sex,
            });
        }
    }
    out.push(ResidentCivilStatusAdjusted {
        person: c.person,
        effective_on: c.effective_on,
        changes: changes.clone(),
        decision: c.decision.clone(),
        authority: c.authority.clone(),
        legal_basis: basis_or(c.legal_basis.as_ref(), "Luật Cư trú 2020, Điều 26.1.b"),
        application: c.application,
    });
    Ok(())
}

/// CT04: an application about recorded persons, under a fresh id.
pub(super) fn receive_application(
    state: &State,
    c: &ReceiveApplication,
    out: &mut Out,
) -> Result<(), Rejection> {
    if state.application(c.application).is_some() {
        return Err(Rejection::ApplicationExists {
            application: c.application,
        });
    }
    if c.subjects.is_empty() {
        return Err(Rejection::ApplicationWithoutSubjects {
            application: c.application,
        });
    }
    for person in c.subjects.iter().chain(c.applicant.iter()) {
        recorded(state, *person)?;
    }
    if let Some(due) = c.result_due_on {
        period(c.received_on, due)?;
    }
    out.push(ApplicationReceived {
        application: c.application,
        received_on: c.received_on,
        procedure: c.procedure,
        channel: c.channel,
        subjects: c.subjects.clone(),
        applicant: c.applicant,
        result_due_on: c.result_due_on,
    });
    Ok(())
}

/// The application exists and has no result yet.
fn open_application(
    state: &State,
    application: crate::ids::ApplicationId,
) -> Result<&crate::state::ApplicationRecord, Rejection> {
    let record = state
        .application(application)
        .ok_or(Rejection::ApplicationUnknown { application })?;
    if record.status != crate::state::ApplicationStatus::Open {
        return Err(Rejection::ApplicationClosed { application });
    }
    Ok(record)
}

/// CT05: ask for named missing items of an open application.
pub(super) fn request_completion(
    state: &State,
    c: &RequestCompletion,
    out: &mut Out,
) -> Result<(), Rejection> {
    let record = open_application(state, c.application)?;
    if c.missing.is_empty() {
        return Err(Rejection::CompletionWithoutItems {
            application: c.application,
        });
    }
    period(record.received_on, c.requested_on)?;
    if let Some(by) = c.complete_by {
        period(c.requested_on, by)?;
    }
    out.push(ApplicationCompletionRequested {
        application: c.application,
        requested_on: c.requested_on,
        missing: c.missing.clone(),
        complete_by: c.complete_by,
    });
    Ok(())
}

/// CT06: refuse an open application.
pub(super) fn refuse_application(
    state: &State,
    c: &RefuseApplication,
    out: &mut Out,
) -> Result<(), Rejection> {
    let record = open_application(state, c.application)?;
    period(record.received_on, c.refused_on)?;
    out.push(ApplicationRefused {
        application: c.application,
        refused_on: c.refused_on,
        reason: c.reason.clone(),
        legal_basis: c.legal_basis.clone(),
    });
    Ok(())
}
