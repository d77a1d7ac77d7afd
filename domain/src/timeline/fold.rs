//! The fold proper: from the facts known at one ledger position to the person's intervals on
//! the valid-time axis.
//!
//! Three passes, each simple on its own:
//! 1. **Resolve** corrections and annulments in transaction order: each corrected event's content
//!    is replaced by its latest correction's replacement, in the corrected event's place; the set
//!    of annulled registrations is collected.
//! 2. **Sweep** the resolved events in valid-time order (`effective_on`, then ledger order for
//!    events of one day), opening and closing intervals as the law says.
//! 3. **Finish**: attach address recodings by dwelling, drop intervals that hold on no date, set
//!    the voided ones apart and sort.
//!
//! Sorting by valid time first is what makes events recorded late (with a past `effective_on`)
//! land where they belong: a backdated registration closes the registration that held then, not
//! the one that holds when it was recorded.

use chrono::NaiveDate;

use super::digest::{Body, Fact};
use super::{
    Basis, Change, ChangeKind, EndReason, EventRef, Interval, IntervalKind, Origin, View, Voided,
};
use crate::address::Address;
use crate::event::{DeletionGround, Membership};
use crate::event_id::EventId;
use crate::grounds::{PermanentDeletionGround, TemporaryDeletionGround};
use crate::ids::{DwellingId, HouseholdId};

/// One resolved event: what it says (its own content or its correction's) and where it stands.
#[derive(Debug)]
struct Slot<'f> {
    /// The id annulments and corrections name for this event: the original event's id.
    target: EventId,
    /// What the event says, as known (after corrections).
    body: &'f Body,
    /// Which events recorded and corrected it; `origin.recorded` also gives its ledger order.
    origin: Origin,
}

impl Fact {
    fn event_ref(&self) -> EventRef {
        EventRef {
            known: self.known,
            event_id: self.event_id,
        }
    }

    /// The content a correction carries, or the fact's own content.
    fn content(&self) -> &Body {
        match &self.body {
            Body::Correction { replacement, .. } => replacement,
            body => body,
        }
    }
}

/// The fact holding event `id`, following corrections back to the event they correct: a
/// correction of a correction corrects the original. `Err` carries the original id when that
/// event is not among the facts (it concerned someone else, or the caller did not hand it in).
fn original(facts: &[Fact], id: EventId) -> Result<usize, EventId> {
    let mut id = id;
    // Each step moves to an event named by a correction; more steps than facts means corrections
    // naming each other in a cycle, which no ledger can hold (a correction names an earlier
    // event), so the chain is treated as unknown.
    for _ in 0..=facts.len() {
        let Some((index, fact)) = facts
            .iter()
            .enumerate()
            .find(|(_, fact)| fact.event_id == id)
        else {
            return Err(id);
        };
        match fact.body {
            Body::Correction { corrects, .. } => id = corrects,
            _ => return Ok(index),
        }
    }
    Err(id)
}

/// The id that annulments name for event `id` (the original of a corrected event).
fn canonical(facts: &[Fact], id: EventId) -> EventId {
    match original(facts, id) {
        Ok(index) => facts.get(index).map_or(id, |fact| fact.event_id),
        Err(original) => original,
    }
}

/// Pass 1: every event as known, in ledger order of the event it stands for.
fn resolve(facts: &[Fact]) -> Vec<Slot<'_>> {
    let mut corrected_by: Vec<Option<usize>> = vec![None; facts.len()];
    let mut orphans: Vec<(usize, EventId)> = Vec::new();
    for (index, fact) in facts.iter().enumerate() {
        if let Body::Correction { corrects, .. } = fact.body {
            match original(facts, corrects) {
                // Facts are in ledger order, so a later correction overwrites an earlier one:
                // the latest correction wins.
                Ok(target) => {
                    if let Some(entry) = corrected_by.get_mut(target) {
                        *entry = Some(index);
                    }
                }
                Err(target) => {
                    orphans.retain(|&(_, other)| other != target);
                    orphans.push((index, target));
                }
            }
        }
    }
    let mut slots = Vec::with_capacity(facts.len());
    for (fact, correction) in facts.iter().zip(&corrected_by) {
        if matches!(fact.body, Body::Correction { .. }) {
            continue;
        }
        let correction = correction.and_then(|index| facts.get(index));
        slots.push(Slot {
            target: fact.event_id,
            body: correction.map_or(&fact.body, Fact::content),
            origin: Origin {
                recorded: fact.event_ref(),
                corrected_by: correction.map(Fact::event_ref),
            },
        });
    }
    // A replacement whose original is not among the facts (a registration corrected to concern
    // this person) stands where its correction was recorded.
    for (index, target) in orphans {
        if let Some(correction) = facts.get(index) {
            slots.push(Slot {
                target,
                body: correction.content(),
                origin: Origin {
                    recorded: correction.event_ref(),
                    corrected_by: Some(correction.event_ref()),
                },
            });
        }
    }
    slots
}

/// An interval being built, with the id an annulment would name.
#[derive(Debug)]
struct Draft {
    interval: Interval,
    target: EventId,
}

/// A recoding seen in the sweep, attached to intervals when it ends.
#[derive(Debug)]
struct Recoding<'f> {
    effective_on: NaiveDate,
    dwelling: DwellingId,
    address: &'f Address,
    by: Origin,
}

/// Pass 2: the valid-time sweep.
#[derive(Debug, Default)]
struct Sweep<'f> {
    drafts: Vec<Draft>,
    /// The open interval of each kind (index into `drafts`), by [`IntervalKind::index`].
    open: [Option<usize>; IntervalKind::COUNT],
    recodings: Vec<Recoding<'f>>,
    reorganised_from: Option<NaiveDate>,
}

/// The exclusive end and the end reason of a term whose last day is `until`.
fn term_end(until: NaiveDate) -> (Option<NaiveDate>, Option<EndReason>) {
    match until.succ_opt() {
        Some(end) => (Some(end), Some(EndReason::TermEnded)),
        None => (None, None),
    }
}

/// A new interval opened by `origin` on `start`.
fn opened(kind: IntervalKind, start: NaiveDate, basis: Basis, origin: Origin) -> Interval {
    Interval {
        kind,
        start,
        end: None,
        until: None,
        end_reason: None,
        address: None,
        dwelling: None,
        membership: None,
        basis,
        opened_by: origin,
        closed_by: None,
        extended_by: None,
        changes: Vec::new(),
        reorganised_from: None,
    }
}

impl<'f> Sweep<'f> {
    fn step(&mut self, slot: &Slot<'f>) {
        let origin = slot.origin;
        match slot.body {
            Body::Permanent {
                effective_on,
                basis,
                address,
                dwelling,
                membership,
            } => {
                self.close(
                    IntervalKind::Permanent,
                    *effective_on,
                    EndReason::Superseded,
                    origin,
                );
                self.close(
                    IntervalKind::CurrentResidence,
                    *effective_on,
                    EndReason::Superseded,
                    origin,
                );
                let mut interval = opened(
                    IntervalKind::Permanent,
                    *effective_on,
                    Basis::Permanent(*basis),
                    origin,
                );
                interval.address = Some(address.clone());
                interval.dwelling = Some(*dwelling);
                interval.membership = Some(membership.clone());
                self.open(interval, slot.target);
            }
            Body::Temporary {
                effective_on,
                until,
                address,
                dwelling,
                membership,
            } => {
                self.close(
                    IntervalKind::Temporary,
                    *effective_on,
                    EndReason::Superseded,
                    origin,
                );
                self.close(
                    IntervalKind::CurrentResidence,
                    *effective_on,
                    EndReason::Superseded,
                    origin,
                );
                let mut interval = opened(
                    IntervalKind::Temporary,
                    *effective_on,
                    Basis::Temporary,
                    origin,
                );
                (interval.end, interval.end_reason) = term_end(*until);
                interval.until = Some(*until);
                interval.address = Some(address.clone());
                interval.dwelling = Some(*dwelling);
                interval.membership = membership.clone();
                self.open(interval, slot.target);
            }
            Body::Extended {
                dwelling,
                previous_until,
                until,
                ..
            } => self.extend(*dwelling, *previous_until, *until, origin),
            Body::PermanentDeleted {
                effective_on,
                dwelling,
                ground,
            } => {
                let reason = EndReason::Deleted(DeletionGround::Permanent(*ground));
                self.delete(
                    IntervalKind::Permanent,
                    *dwelling,
                    *effective_on,
                    reason,
                    origin,
                );
                if *ground == PermanentDeletionGround::Death {
                    self.close_all(*effective_on, EndReason::Died, origin);
                }
            }
            Body::TemporaryDeleted {
                effective_on,
                dwelling,
                ground,
            } => {
                let reason = EndReason::Deleted(DeletionGround::Temporary(*ground));
                self.delete(
                    IntervalKind::Temporary,
                    *dwelling,
                    *effective_on,
                    reason,
                    origin,
                );
                if *ground == TemporaryDeletionGround::Death {
                    self.close_all(*effective_on, EndReason::Died, origin);
                }
            }
            Body::Membership {
                effective_on,
                household,
                now,
            } => self.restate(*effective_on, *household, now, origin),
            Body::Current {
                effective_on,
                address,
                dwelling,
                basis,
            } => {
                self.close(
                    IntervalKind::CurrentResidence,
                    *effective_on,
                    EndReason::Superseded,
                    origin,
                );
                let mut interval = opened(
                    IntervalKind::CurrentResidence,
                    *effective_on,
                    basis.clone(),
                    origin,
                );
                interval.address = Some(address.clone());
                interval.dwelling = *dwelling;
                self.open(interval, slot.target);
            }
            Body::Stay {
                effective_on,
                until,
                address,
                dwelling,
                notifier,
            } => {
                self.close(
                    IntervalKind::Stay,
                    *effective_on,
                    EndReason::Superseded,
                    origin,
                );
                let basis = Basis::Stay {
                    notifier: *notifier,
                };
                let mut interval = opened(IntervalKind::Stay, *effective_on, basis, origin);
                (interval.end, interval.end_reason) = term_end(*until);
                interval.until = Some(*until);
                interval.address = Some(address.clone());
                interval.dwelling = *dwelling;
                self.open(interval, slot.target);
            }
            Body::Absence {
                effective_on,
                until,
                clause,
                destination,
            } => {
                self.close(
                    IntervalKind::Absence,
                    *effective_on,
                    EndReason::Superseded,
                    origin,
                );
                let basis = Basis::Absence {
                    clause: *clause,
                    destination: destination.clone(),
                };
                let mut interval = opened(IntervalKind::Absence, *effective_on, basis, origin);
                (interval.end, interval.end_reason) = term_end(*until);
                interval.until = Some(*until);
                self.open(interval, slot.target);
            }
            Body::Recoded {
                effective_on,
                dwelling,
                address,
            } => self.recodings.push(Recoding {
                effective_on: *effective_on,
                dwelling: *dwelling,
                address,
                by: origin,
            }),
            Body::Reorganised { effective_on } => {
                let from = self
                    .reorganised_from
                    .map_or(*effective_on, |known| known.min(*effective_on));
                self.reorganised_from = Some(from);
            }
            Body::Ignored | Body::Annulled { .. } | Body::Correction { .. } => {}
        }
    }

    fn open(&mut self, interval: Interval, target: EventId) {
        self.open[interval.kind.index()] = Some(self.drafts.len());
        self.drafts.push(Draft { interval, target });
    }

    /// Ends the open interval of `kind` on `date` (exclusive) if it still holds then. An interval
    /// whose term ran out before `date` keeps its end; either way none of that kind is open
    /// after.
    fn close(&mut self, kind: IntervalKind, date: NaiveDate, reason: EndReason, by: Origin) {
        let Some(index) = self.open[kind.index()].take() else {
            return;
        };
        if let Some(draft) = self.drafts.get_mut(index) {
            let interval = &mut draft.interval;
            if interval.end.is_none_or(|end| date < end) {
                // The sweep visits dates in order, so `date` is never before the start.
                interval.end = Some(date.max(interval.start));
                interval.end_reason = Some(reason);
                interval.closed_by = Some(by);
            }
        }
    }

    /// Ends the registration of `kind` at `dwelling` that holds on `date`, on that day: a
    /// deletion.
    ///
    /// The deletion names its dwelling, and only the registration there is ended: the
    /// registration open at the date may be another one, when a temporary deletion recorded
    /// late, or one dated after a backdated deletion already cut its registration short, stands
    /// in the sweep after a newer registration at another dwelling began, or when a correction
    /// moved the start of the deleted registration past the deletion. Registrations of one kind
    /// do not overlap (I1), so at most one at the dwelling holds on the date; when none does
    /// (its term ran out, an earlier deletion already ended it, or it begins later), the
    /// deletion ends nothing.
    fn delete(
        &mut self,
        kind: IntervalKind,
        dwelling: DwellingId,
        date: NaiveDate,
        reason: EndReason,
        by: Origin,
    ) {
        let slot = kind.index();
        let Some(index) = self.drafts.iter().rposition(|draft| {
            draft.interval.kind == kind
                && draft.interval.dwelling == Some(dwelling)
                && draft.interval.holds_on(date)
        }) else {
            return;
        };
        if self.open[slot] == Some(index) {
            self.open[slot] = None;
        }
        if let Some(draft) = self.drafts.get_mut(index) {
            let interval = &mut draft.interval;
            interval.end = Some(date);
            interval.end_reason = Some(reason);
            interval.closed_by = Some(by);
        }
    }

    /// Moves the last day of the temporary registration at `dwelling` whose term ended on
    /// `previous_until` to `until`.
    ///
    /// An extension names the term it extends, so it applies to that registration only, open or
    /// not (an extension granted after the term ran out, on an application filed in time,
    /// revives the term). When no registration at the dwelling has that term as known, the
    /// extension describes none of the person's registrations (the registration was corrected
    /// since, or it was never handed in), and moving the term of another one would invent a
    /// residence the register never granted: the fold ignores it, as the decision state lists
    /// it among the extensions without a registration. A registration that an event ended
    /// (a deletion, a newer registration, a death) keeps that end: the term moves, the end
    /// does not.
    fn extend(
        &mut self,
        dwelling: DwellingId,
        previous_until: NaiveDate,
        until: NaiveDate,
        by: Origin,
    ) {
        let Some(draft) = self.drafts.iter_mut().rev().find(|draft| {
            draft.interval.kind == IntervalKind::Temporary
                && draft.interval.dwelling == Some(dwelling)
                && draft.interval.until == Some(previous_until)
        }) else {
            return;
        };
        let interval = &mut draft.interval;
        interval.until = Some(until);
        interval.extended_by = Some(by);
        if interval.closed_by.is_none() {
            (interval.end, interval.end_reason) = term_end(until);
        }
    }

    /// Ends every open interval on `date`: the person died.
    fn close_all(&mut self, date: NaiveDate, reason: EndReason, by: Origin) {
        for kind in IntervalKind::ALL {
            self.close(kind, date, reason, by);
        }
    }

    /// Records that the person's membership in `household` is `now` from `date`, on the
    /// registration (permanent first, then temporary) that places them in that household then.
    fn restate(&mut self, date: NaiveDate, household: HouseholdId, now: &Membership, by: Origin) {
        for kind in [IntervalKind::Permanent, IntervalKind::Temporary] {
            let open = self.open[kind.index()];
            let Some(draft) = open.and_then(|index| self.drafts.get_mut(index)) else {
                continue;
            };
            let interval = &mut draft.interval;
            let in_household = interval.membership_on(date).map(|m| m.household) == Some(household);
            if interval.holds_on(date) && in_household {
                interval.changes.push(Change {
                    from: date,
                    kind: ChangeKind::Membership(now.clone()),
                    by,
                });
                return;
            }
        }
    }

    /// Pass 3.
    fn finish(self, annulled: &[(EventId, Origin)], last_folded_position: Option<u64>) -> View {
        let mut intervals = Vec::with_capacity(self.drafts.len());
        let mut voided = Vec::new();
        for Draft {
            mut interval,
            target,
        } in self.drafts
        {
            // A registration that ended the day it began (or a term that ends before it starts)
            // holds on no date, so no answer can show it.
            if interval.end.is_some_and(|end| end <= interval.start) {
                continue;
            }
            if let Some(dwelling) = interval.dwelling {
                for recoding in &self.recodings {
                    // A recoding before the start is already in the registered address.
                    if recoding.dwelling == dwelling && recoding.effective_on >= interval.start {
                        interval.changes.push(Change {
                            from: recoding.effective_on,
                            kind: ChangeKind::Address(recoding.address.clone()),
                            by: recoding.by,
                        });
                    }
                }
            }
            interval
                .changes
                .sort_by_key(|change| (change.from, change.by.recorded.known.position));
            interval.reorganised_from = self.reorganised_from;
            match annulled.iter().find(|(annulled, _)| *annulled == target) {
                Some((_, annulled_by)) => voided.push(Voided {
                    interval,
                    annulled_by: *annulled_by,
                }),
                None => intervals.push(interval),
            }
        }
        intervals.sort_by_key(|interval| {
            (
                interval.start,
                interval.kind,
                interval.opened_by.recorded.known.position,
            )
        });
        View {
            intervals,
            voided,
            reorganised_from: self.reorganised_from,
            last_folded_position,
        }
    }
}

/// The person's timeline as known from `facts` (a prefix of the timeline's facts).
pub(super) fn fold(facts: &[Fact]) -> View {
    let slots = resolve(facts);
    let annulled: Vec<(EventId, Origin)> = slots
        .iter()
        .filter_map(|slot| match slot.body {
            Body::Annulled { annuls } => Some((canonical(facts, *annuls), slot.origin)),
            _ => None,
        })
        .collect();
    let mut dated: Vec<(NaiveDate, &Slot<'_>)> = slots
        .iter()
        .filter_map(|slot| slot.body.effective_on().map(|date| (date, slot)))
        .collect();
    // Valid time first; events of one day in the ledger order of the events they stand for.
    dated.sort_by_key(|(date, slot)| (*date, slot.origin.recorded.known.position));
    let mut sweep = Sweep::default();
    for (_, slot) in dated {
        sweep.step(slot);
    }
    sweep.finish(&annulled, facts.last().map(|fact| fact.known.position))
}
