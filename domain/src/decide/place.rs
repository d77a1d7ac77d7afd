//! Place-level decisions: Art 23 restrictions, address recoding (Art 26.1(c)) and the 2025
//! reorganisation.

use super::{Out, basis_or, dwelling_at, unit_valid};
use crate::command::{LiftDwellingRestriction, RecodeAddress, RecordDwellingRestriction};
use crate::context::Context;
use crate::event::{
    AdministrativeUnitsReorganized, DwellingRestrictionLifted, DwellingRestrictionRecorded,
    RecodingCause, ResidenceAddressRecoded, RestrictionKind,
};
use crate::rejection::Rejection;
use crate::state::State;
use crate::units::{REORGANISATION_DATE, Scheme, registry};

/// The clause of Art 23 a restriction kind stands for.
fn clause(kind: RestrictionKind) -> &'static str {
    match kind {
        RestrictionKind::ProhibitedOrProtectedZone => "Luật Cư trú 2020, Điều 23.1",
        RestrictionKind::EncroachedOrUnbuildableLand => "Luật Cư trú 2020, Điều 23.2",
        RestrictionKind::LandRecoveryOrDispute => "Luật Cư trú 2020, Điều 23.3",
        RestrictionKind::ConfiscatedOrDeregistered => "Luật Cư trú 2020, Điều 23.4",
        RestrictionKind::DemolitionDecision => "Luật Cư trú 2020, Điều 23.5",
    }
}

/// A restriction of a kind not already recorded (and not lifted) for the dwelling.
pub(super) fn restrict(
    state: &State,
    c: &RecordDwellingRestriction,
    out: &mut Out,
) -> Result<(), Rejection> {
    unit_valid(&c.address, c.effective_on)?;
    dwelling_at(state, c.dwelling, &c.address, c.effective_on)?;
    let active = state.dwelling(c.dwelling).is_some_and(|dwelling| {
        dwelling.restrictions.iter().any(|restriction| {
            restriction.kind == c.kind
                && (restriction.lifted_on.is_none() || restriction.holds_on(c.effective_on))
        })
    });
    if active {
        return Err(Rejection::RestrictionAlreadyActive {
            dwelling: c.dwelling,
            kind: c.kind,
        });
    }
    out.push(DwellingRestrictionRecorded {
        dwelling: c.dwelling,
        effective_on: c.effective_on,
        kind: c.kind,
        address: c.address.clone(),
        decision: c.decision.clone(),
        legal_basis: basis_or(c.legal_basis.as_ref(), clause(c.kind)),
    });
    Ok(())
}

/// Lifts a restriction in force (recorded on or before the date and not lifted).
pub(super) fn lift(
    state: &State,
    c: &LiftDwellingRestriction,
    out: &mut Out,
) -> Result<(), Rejection> {
    let active = state.dwelling(c.dwelling).is_some_and(|dwelling| {
        dwelling.restrictions.iter().any(|restriction| {
            restriction.kind == c.kind
                && restriction.lifted_on.is_none()
                && restriction.from <= c.effective_on
        })
    });
    if !active {
        return Err(Rejection::RestrictionNotActive {
            dwelling: c.dwelling,
            kind: c.kind,
        });
    }
    out.push(DwellingRestrictionLifted {
        dwelling: c.dwelling,
        effective_on: c.effective_on,
        kind: c.kind,
        decision: c.decision.clone(),
        legal_basis: basis_or(c.legal_basis.as_ref(), clause(c.kind)),
    });
    Ok(())
}

/// Art 26.1(c): a known dwelling's address is recoded; a recoding by the reorganisation goes
/// to a successor of the legacy ward. Everyone registered there on the date is listed.
pub(super) fn recode(state: &State, c: &RecodeAddress, out: &mut Out) -> Result<(), Rejection> {
    let date = c.effective_on;
    let old = state
        .dwelling(c.dwelling)
        .and_then(|dwelling| dwelling.address_on(date))
        .ok_or(Rejection::DwellingUnknown {
            dwelling: c.dwelling,
        })?
        .clone();
    unit_valid(&c.new_address, date)?;
    if old == c.new_address {
        return Err(Rejection::AddressUnchanged {
            dwelling: c.dwelling,
        });
    }
    if c.cause == RecodingCause::UnitReorganisation
        && old.unit.scheme == Scheme::Legacy
        && c.new_address.unit.scheme == Scheme::Y2025
        && !registry()
            .successors(old.unit.code)
            .iter()
            .any(|row| row.code == c.new_address.unit.code)
    {
        return Err(Rejection::RecodingNotASuccessor {
            old: old.unit,
            new: c.new_address.unit,
        });
    }
    out.push(ResidenceAddressRecoded {
        dwelling: c.dwelling,
        effective_on: date,
        cause: c.cause,
        old_address: old,
        new_address: c.new_address.clone(),
        households: state.households_at(c.dwelling),
        persons: state.residents(c.dwelling, date),
        legal_basis: basis_or(
            c.legal_basis.as_ref(),
            "Luật Cư trú 2020, Điều 26.1.c; Công văn 1555/BCA-C06",
        ),
    });
    Ok(())
}

/// The 2025 reorganisation, once, from 2025-07-01.
pub(super) fn reorganise(state: &State, ctx: &Context, out: &mut Out) -> Result<(), Rejection> {
    if ctx.today < REORGANISATION_DATE {
        return Err(Rejection::ReorganisationNotInForce { today: ctx.today });
    }
    if state.reorganised() {
        return Err(Rejection::ReorganisationAlreadyApplied);
    }
    out.push(AdministrativeUnitsReorganized::embedded());
    Ok(())
}
