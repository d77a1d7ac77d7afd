//! Corrections of earlier events (I11): nothing is edited, a new event names the corrected one
//! and carries its replacement.
//!
//! The replacement is judged like the state it produces: the state is refolded with the
//! replacement in the corrected event's place, and the correction is refused if that breaks an
//! invariant (overlapping registrations, a head who is not a member, a shared PIN) that did not
//! already fail before. Invariants are checked for the persons and households whose tags were
//! read, the only ones the state knows completely.

use std::collections::BTreeSet;

use super::{Out, basis_or, unit_valid};
use crate::command::CorrectEvent;
use crate::event::{Event, EventCorrected};
use crate::ids::{HouseholdId, PersonId};
use crate::rejection::Rejection;
use crate::state::{State, evolve};
use crate::tag::Tag;

/// The addresses a registering replacement records, each with the date it must be valid on.
fn check_units(replacement: &Event) -> Result<(), Rejection> {
    match replacement {
        Event::PermanentResidenceRegistered(e) => unit_valid(&e.address, e.effective_on),
        Event::TemporaryResidenceRegistered(e) => unit_valid(&e.address, e.effective_on),
        Event::HouseholdEstablished(e) => unit_valid(&e.address, e.effective_on),
        Event::CurrentResidenceDeclared(e) => unit_valid(&e.address, e.effective_on),
        Event::DwellingRestrictionRecorded(e) => unit_valid(&e.address, e.effective_on),
        _ => Ok(()),
    }
}

/// Correct an event the state folded with its id.
pub(super) fn correct(state: &State, c: &CorrectEvent, out: &mut Out) -> Result<(), Rejection> {
    let replacement = c.replacement.event();
    let nested = Rejection::CorrectionNested { event: c.corrects };
    if matches!(replacement, Event::EventCorrected(_)) {
        return Err(nested);
    }
    let entry = state
        .event(c.corrects)
        .ok_or(Rejection::CorrectedEventUnknown { event: c.corrects })?;
    if matches!(entry.event, Event::EventCorrected(_)) {
        return Err(nested);
    }
    if entry.event.event_type() != replacement.event_type() {
        return Err(Rejection::CorrectionTypeMismatch {
            expected: entry.event.event_type(),
            found: replacement.event_type(),
        });
    }
    if entry.event == *replacement {
        return Err(Rejection::CorrectionChangesNothing { event: c.corrects });
    }
    check_units(replacement)?;
    let correction = EventCorrected::new(
        c.corrects,
        entry.tags.clone(),
        c.reason.clone(),
        basis_or(c.legal_basis.as_ref(), "Luật Cư trú 2020, Điều 26, Điều 35"),
        replacement.clone(),
    )
    .map_err(|_| nested)?;

    // The scope: what the command read, hence what the state knows completely.
    let read: Vec<Tag> = replacement
        .tags()
        .into_iter()
        .chain(c.read_also.iter().copied())
        .collect();
    let persons: BTreeSet<PersonId> = read.iter().filter_map(Tag::person).collect();
    let households: BTreeSet<HouseholdId> = read.iter().filter_map(Tag::household).collect();
    let before = state.violations_among(&persons, &households);
    let mut trial = state.clone();
    evolve(&mut trial, &Event::EventCorrected(correction.clone()));
    if let Some(violation) = trial
        .violations_among(&persons, &households)
        .into_iter()
        .find(|violation| !before.contains(violation))
    {
        return Err(Rejection::CorrectionBreaksInvariant { violation });
    }
    out.push(correction);
    Ok(())
}
