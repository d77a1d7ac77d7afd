//! Deletions (Art 24, Art 29), detected deletion grounds, and annulments (Art 35).
//!
//! Who may ask for which ground is the law's ([`crate::grounds`]): death, annulment and loss of
//! nationality (and, for temporary registrations, a permanent registration at the same place)
//! are deleted ex officio only; the other grounds are filed by the person, the household or a
//! legal representative, or deleted ex officio when nobody files. A head who dies or is deleted
//! ex officio leaves the household head vacant; a head who leaves otherwise names a successor
//! in the same command. Death ends both registrations: a deletion for death deletes the other
//! registration too, in the same decision.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::household::{HeadDeparture, settle_head};
use super::{Out, address_of, basis_or, period, recorded};
use crate::command::{AnnulRegistration, DeletePermanent, DeleteTemporary, RecordDeletionGround};
use crate::context::Context;
use crate::event::{
    DeletionGround, DeletionGroundDetected, Event, PermanentResidenceDeleted, RegistrationKind,
    ResidenceRegistrationAnnulled, TemporaryResidenceDeleted,
};
use crate::grounds::{Initiator, PermanentDeletionGround, TemporaryDeletionGround};
use crate::ids::PersonId;
use crate::rejection::Rejection;
use crate::state::{PersonRecord, State};

/// The ground as "24.1.a" (đ written "dd").
fn permanent_label(ground: PermanentDeletionGround) -> &'static str {
    match ground {
        PermanentDeletionGround::Death => "24.1.a",
        PermanentDeletionGround::SettledAbroad => "24.1.b",
        PermanentDeletionGround::Annulled => "24.1.c",
        PermanentDeletionGround::LongAbsence => "24.1.d",
        PermanentDeletionGround::NationalityLost => "24.1.dd",
        PermanentDeletionGround::LodgingEnded => "24.1.e",
        PermanentDeletionGround::DwellingTransferred => "24.1.g",
        PermanentDeletionGround::OwnerRefuses => "24.1.h",
        PermanentDeletionGround::DwellingGone => "24.1.i",
    }
}

/// The ground as "29.1.a" (đ written "dd").
fn temporary_label(ground: TemporaryDeletionGround) -> &'static str {
    match ground {
        TemporaryDeletionGround::Death => "29.1.a",
        TemporaryDeletionGround::Annulled => "29.1.b",
        TemporaryDeletionGround::LongAbsence => "29.1.c",
        TemporaryDeletionGround::NationalityLost => "29.1.d",
        TemporaryDeletionGround::PermanentAtSamePlace => "29.1.dd",
        TemporaryDeletionGround::LodgingEnded => "29.1.e",
        TemporaryDeletionGround::DwellingTransferred => "29.1.g",
        TemporaryDeletionGround::DwellingGone => "29.1.h",
    }
}

/// The legal basis text of a ground, with the letter đ as the law writes it.
fn ground_basis(label: &str) -> String {
    format!("Luật Cư trú 2020, Điều {}", label.replace("dd", "đ"))
}

/// Ground 24.1.d: the absence is not covered by a temporary registration or a declared absence.
fn absence_unaccounted(
    person: PersonId,
    record: &PersonRecord,
    date: NaiveDate,
) -> Result<(), Rejection> {
    if record.temporary_on(date).is_some() || record.absent_on(date) {
        return Err(Rejection::AbsenceAccountedFor { person, date });
    }
    Ok(())
}

/// A death on `date` ends every registration holding then; a registration that starts after
/// it was made after the death and must be dealt with (annulled or corrected) first.
fn no_registration_after(record: &PersonRecord, date: NaiveDate) -> Result<(), Rejection> {
    let later = record
        .permanent
        .iter()
        .map(|interval| interval.start)
        .chain(record.temporary.iter().map(|interval| interval.start))
        .filter(|start| *start > date)
        .min();
    match later {
        Some(start) => Err(Rejection::DeletionBeforeRegistrationStart {
            start,
            effective_on: date,
        }),
        None => Ok(()),
    }
}

/// Xóa đăng ký thường trú.
pub(super) fn delete_permanent(
    state: &State,
    c: &DeletePermanent,
    out: &mut Out,
) -> Result<(), Rejection> {
    let date = c.effective_on;
    let person = recorded(state, c.person)?;
    let initiator = c.requester.initiator();
    if !c.ground.allows(initiator) {
        return Err(Rejection::GroundNotAllowedForRequester {
            ground: permanent_label(c.ground),
            requester: c.requester,
        });
    }
    let interval = person
        .open_permanent()
        .ok_or(Rejection::NoActivePermanentRegistration {
            person: c.person,
            date,
        })?;
    if date < interval.start {
        return Err(Rejection::DeletionBeforeRegistrationStart {
            start: interval.start,
            effective_on: date,
        });
    }
    if interval.household != c.household {
        return Err(Rejection::HouseholdMismatch {
            person: c.person,
            recorded: Some(interval.household),
            given: Some(c.household),
        });
    }
    if c.ground == PermanentDeletionGround::Death {
        no_registration_after(person, date)?;
    }
    match c.ground {
        PermanentDeletionGround::Annulled if !interval.annulled => {
            return Err(Rejection::AnnulmentMissing { person: c.person });
        }
        PermanentDeletionGround::LongAbsence => absence_unaccounted(c.person, person, date)?,
        _ => {}
    }
    let departure =
        if c.ground == PermanentDeletionGround::Death || initiator == Initiator::ExOfficio {
            HeadDeparture::VacatesPost
        } else {
            HeadDeparture::NamesSuccessor
        };
    let mut after = Out::default();
    settle_head(
        state,
        c.household,
        &BTreeSet::from([c.person]),
        date,
        departure,
        c.head_succession.as_ref(),
        &mut after,
    )?;
    let label = permanent_label(c.ground);
    out.push(PermanentResidenceDeleted {
        person: c.person,
        effective_on: date,
        ground: c.ground,
        initiator,
        address: address_of(
            state,
            interval.dwelling,
            &interval.address,
            interval.start,
            date,
        ),
        dwelling: interval.dwelling,
        household: interval.household,
        legal_basis: basis_or(c.legal_basis.as_ref(), &ground_basis(label)),
        application: c.application,
    });
    // Death ends the temporary registration too, ex officio, the same day.
    if c.ground == PermanentDeletionGround::Death
        && let Some(temporary) = person.temporary_on(date)
    {
        out.push(TemporaryResidenceDeleted {
            person: c.person,
            effective_on: date,
            ground: TemporaryDeletionGround::Death,
            initiator: Initiator::ExOfficio,
            address: address_of(
                state,
                temporary.dwelling,
                &temporary.address,
                temporary.start,
                date,
            ),
            dwelling: temporary.dwelling,
            household: temporary.household,
            legal_basis: basis_or(None, &ground_basis("29.1.a")),
            application: None,
        });
    }
    out.events.extend(after.events);
    for warning in after.warnings {
        out.warn(warning);
    }
    Ok(())
}

/// Xóa đăng ký tạm trú.
pub(super) fn delete_temporary(
    state: &State,
    c: &DeleteTemporary,
    out: &mut Out,
) -> Result<(), Rejection> {
    let date = c.effective_on;
    let person = recorded(state, c.person)?;
    let initiator = c.requester.initiator();
    if !c.ground.allows(initiator) {
        return Err(Rejection::GroundNotAllowedForRequester {
            ground: temporary_label(c.ground),
            requester: c.requester,
        });
    }
    let at_dwelling = |interval: &&crate::state::TemporaryInterval| {
        interval.dwelling == c.dwelling && interval.deleted_on.is_none()
    };
    let Some(interval) = person
        .temporary
        .iter()
        .rev()
        .filter(at_dwelling)
        .find(|interval| interval.holds_on(date))
    else {
        if let Some(later) = person
            .temporary
            .iter()
            .filter(at_dwelling)
            .find(|interval| date < interval.start)
        {
            return Err(Rejection::DeletionBeforeRegistrationStart {
                start: later.start,
                effective_on: date,
            });
        }
        return Err(Rejection::NoActiveTemporaryRegistration {
            person: c.person,
            dwelling: Some(c.dwelling),
            date,
        });
    };
    if interval.household != c.household {
        return Err(Rejection::HouseholdMismatch {
            person: c.person,
            recorded: interval.household,
            given: c.household,
        });
    }
    if c.ground == TemporaryDeletionGround::Annulled && !interval.annulled {
        return Err(Rejection::AnnulmentMissing { person: c.person });
    }
    // Death also ends the permanent registration that holds on the day (even one a later
    // deletion ended), and no registration may start after the death.
    if c.ground == TemporaryDeletionGround::Death {
        no_registration_after(person, date)?;
    }
    let mut after = Out::default();
    if let Some(household) = interval.household {
        let departure =
            if c.ground == TemporaryDeletionGround::Death || initiator == Initiator::ExOfficio {
                HeadDeparture::VacatesPost
            } else {
                HeadDeparture::NamesSuccessor
            };
        settle_head(
            state,
            household,
            &BTreeSet::from([c.person]),
            date,
            departure,
            c.head_succession.as_ref(),
            &mut after,
        )?;
    } else if c.head_succession.is_some() {
        return Err(Rejection::NewHeadNotExpected { household: None });
    }
    let label = temporary_label(c.ground);
    out.push(TemporaryResidenceDeleted {
        person: c.person,
        effective_on: date,
        ground: c.ground,
        initiator,
        address: address_of(
            state,
            interval.dwelling,
            &interval.address,
            interval.start,
            date,
        ),
        dwelling: interval.dwelling,
        household: interval.household,
        legal_basis: basis_or(c.legal_basis.as_ref(), &ground_basis(label)),
        application: c.application,
    });
    // Death ends the permanent registration too, ex officio, the same day.
    if c.ground == TemporaryDeletionGround::Death
        && let Some(permanent) = person.permanent_on(date)
    {
        out.push(PermanentResidenceDeleted {
            person: c.person,
            effective_on: date,
            ground: PermanentDeletionGround::Death,
            initiator: Initiator::ExOfficio,
            address: address_of(
                state,
                permanent.dwelling,
                &permanent.address,
                permanent.start,
                date,
            ),
            dwelling: permanent.dwelling,
            household: permanent.household,
            legal_basis: basis_or(None, &ground_basis("24.1.a")),
            application: None,
        });
    }
    out.events.extend(after.events);
    for warning in after.warnings {
        out.warn(warning);
    }
    Ok(())
}

/// A ground against a registration that holds on the day it arose.
pub(super) fn record_ground(
    state: &State,
    c: &RecordDeletionGround,
    _ctx: &Context,
    out: &mut Out,
) -> Result<(), Rejection> {
    let date = c.effective_on;
    let person = recorded(state, c.person)?;
    let label = match c.ground {
        DeletionGround::Permanent(ground) => {
            if person.permanent_on(date).is_none() {
                return Err(Rejection::NoActivePermanentRegistration {
                    person: c.person,
                    date,
                });
            }
            if ground == PermanentDeletionGround::LongAbsence {
                absence_unaccounted(c.person, person, date)?;
            }
            permanent_label(ground)
        }
        DeletionGround::Temporary(ground) => {
            if person.temporary_on(date).is_none() {
                return Err(Rejection::NoActiveTemporaryRegistration {
                    person: c.person,
                    dwelling: None,
                    date,
                });
            }
            temporary_label(ground)
        }
    };
    out.push(DeletionGroundDetected {
        person: c.person,
        effective_on: date,
        ground: c.ground,
        source: c.source,
        legal_basis: basis_or(c.legal_basis.as_ref(), &ground_basis(label)),
    });
    Ok(())
}

/// Art 35: annul a registration of the person; if it still holds, delete it ex officio the same
/// day (ground 24.1.c or 29.1.b).
pub(super) fn annul(
    state: &State,
    c: &AnnulRegistration,
    _ctx: &Context,
    out: &mut Out,
) -> Result<(), Rejection> {
    let date = c.effective_on;
    let person = recorded(state, c.person)?;
    let unknown = Rejection::AnnulledEventUnknown { event: c.annuls };
    let entry = state.event(c.annuls).ok_or(unknown.clone())?;
    let registered_on = match (&entry.event, c.registration) {
        (Event::PermanentResidenceRegistered(e), RegistrationKind::Permanent)
            if e.person == c.person =>
        {
            e.effective_on
        }
        (Event::TemporaryResidenceRegistered(e), RegistrationKind::Temporary)
            if e.person == c.person =>
        {
            e.effective_on
        }
        _ => return Err(unknown),
    };
    let already = state.log().iter().any(|entry| {
        matches!(&entry.event, Event::ResidenceRegistrationAnnulled(e) if e.annuls == c.annuls)
    });
    if already {
        return Err(Rejection::RegistrationAlreadyAnnulled { event: c.annuls });
    }
    period(registered_on, date)?;
    out.push(ResidenceRegistrationAnnulled {
        person: c.person,
        annuls: c.annuls,
        registration: c.registration,
        effective_on: date,
        decision: c.decision.clone(),
        decided_by: c.decided_by,
        reason: c.reason.clone(),
        legal_basis: basis_or(c.legal_basis.as_ref(), "Luật Cư trú 2020, Điều 35"),
    });
    match c.registration {
        RegistrationKind::Permanent => {
            if let Some(interval) = person
                .permanent
                .iter()
                .find(|interval| interval.event == Some(c.annuls) && interval.end.is_none())
            {
                out.push(PermanentResidenceDeleted {
                    person: c.person,
                    effective_on: date,
                    ground: PermanentDeletionGround::Annulled,
                    initiator: Initiator::ExOfficio,
                    address: address_of(
                        state,
                        interval.dwelling,
                        &interval.address,
                        interval.start,
                        date,
                    ),
                    dwelling: interval.dwelling,
                    household: interval.household,
                    legal_basis: basis_or(None, &ground_basis("24.1.c")),
                    application: None,
                });
            }
        }
        RegistrationKind::Temporary => {
            if let Some(interval) = person.temporary.iter().find(|interval| {
                interval.event == Some(c.annuls)
                    && interval.deleted_on.is_none()
                    && interval.holds_on(date)
            }) {
                out.push(TemporaryResidenceDeleted {
                    person: c.person,
                    effective_on: date,
                    ground: TemporaryDeletionGround::Annulled,
                    initiator: Initiator::ExOfficio,
                    address: address_of(
                        state,
                        interval.dwelling,
                        &interval.address,
                        interval.start,
                        date,
                    ),
                    dwelling: interval.dwelling,
                    household: interval.household,
                    legal_basis: basis_or(None, &ground_basis("29.1.b")),
                    application: None,
                });
            }
        }
    }
    Ok(())
}
