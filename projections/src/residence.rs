//! The compact residence model: per person, the residence facts the registers and counts need,
//! and a fold from them to valid-time spans (permanent, temporary and absence) as known now.
//!
//! Why a second fold beside the domain's [`residence_domain::timeline`]: registers, counts and
//! due lists look at every person at once, and the domain's timeline keeps full addresses and
//! builds owned views, which at national scale costs more memory than the budget (1 KiB per
//! person). This model keeps each event as a few fixed-size numbers (a `Fact`, about 56 bytes)
//! and folds them with no allocation per person. It mirrors the domain's rules exactly (see the
//! module documentation of `residence_domain::timeline`), restricted to the three kinds of
//! interval that registers count; current residences and stays are kept only as placeholders
//! (they never change a permanent, temporary or absence interval). The property test
//! `compact_fold_agrees_with_the_domain_fold` holds the two folds together.
//!
//! Answers about one person (residence on a date as known at a position or time, history,
//! changes) do not use this model: they fold the person's ledger records with the domain's
//! timeline (see [`crate::person`]).
//!
//! The 2025 reorganisation is not a fact of each person here: it is one date for the whole
//! model (`crate::models::Models` keeps the earliest known), applied when an address is read
//! on a date, exactly as the domain's fold applies it to every interval.

use chrono::NaiveDate;
use residence_domain::address::Address;
use residence_domain::event::{Event, MemberRelationship, Membership};
use residence_domain::grounds::{PermanentDeletionGround, TemporaryDeletionGround};
use residence_domain::ids::{HouseholdId, PersonId};
use residence_domain::units::{Scheme, UnitRef, registry};

use crate::compact::HouseholdIdx;
use crate::compact::{Addr, Day, InternError, Interner, Unit};
use crate::fact::{Body, Fact, Member};
use crate::households::Households;

/// Where the compact digest gets its ids from.
pub(crate) struct Tables<'a> {
    /// Streets and relationships.
    pub(crate) interner: &'a mut Interner,
    /// Households by id.
    pub(crate) households: &'a mut Households,
}

impl Tables<'_> {
    fn member(&mut self, membership: &Membership) -> Result<Member, InternError> {
        Ok(Member {
            household: self.households.index_of(membership.household),
            relationship: self.interner.relationship(&membership.relationship)?,
        })
    }

    fn addr(&mut self, address: &Address) -> Result<Addr, InternError> {
        self.interner.addr(address)
    }
}

/// The relationship a restatement gives `person` (mirrors the domain's digest).
fn restated<'m>(
    person: PersonId,
    new_head: PersonId,
    members: &'m [MemberRelationship],
) -> Option<Restated<'m>> {
    if new_head == person {
        return Some(Restated::Head);
    }
    members
        .iter()
        .find(|member| member.person == person)
        .map(|member| Restated::Member(&member.relationship))
}

/// A restated relationship.
enum Restated<'m> {
    Head,
    Member(&'m residence_domain::relationship::Relationship),
}

/// What `event` says about `person`; `None` when the event's type never changes a residence.
/// Mirrors `residence_domain::timeline::digest` arm by arm; the reorganisation is handled by
/// the caller (it is one date for the whole model).
pub(crate) fn digest(
    person: PersonId,
    event: &Event,
    tables: &mut Tables<'_>,
) -> Result<Option<Body>, InternError> {
    let day = Day;
    let body = match event {
        Event::PermanentResidenceRegistered(e) if e.person == person => Body::Permanent {
            on: day(e.effective_on),
            addr: tables.addr(&e.address)?,
            dwelling: e.dwelling.get(),
            member: tables.member(&e.membership)?,
        },
        Event::TemporaryResidenceRegistered(e) if e.person == person => Body::Temporary {
            on: day(e.effective_on),
            until: day(e.until),
            addr: tables.addr(&e.address)?,
            dwelling: e.dwelling.get(),
            member: match &e.membership {
                Some(membership) => Some(tables.member(membership)?),
                None => None,
            },
        },
        Event::TemporaryResidenceExtended(e) if e.person == person => Body::Extended {
            on: day(e.effective_on),
            dwelling: e.dwelling.get(),
            previous_until: day(e.previous_until),
            until: day(e.until),
        },
        Event::PermanentResidenceDeleted(e) if e.person == person => Body::PermanentDeleted {
            on: day(e.effective_on),
            dwelling: e.dwelling.get(),
            death: e.ground == PermanentDeletionGround::Death,
        },
        Event::TemporaryResidenceDeleted(e) if e.person == person => Body::TemporaryDeleted {
            on: day(e.effective_on),
            dwelling: e.dwelling.get(),
            death: e.ground == TemporaryDeletionGround::Death,
        },
        Event::ResidenceRegistrationAnnulled(e) if e.person == person => Body::Annulled {
            annuls: *e.annuls.as_bytes(),
        },
        Event::HouseholdSplit(e) => match restated(person, e.new_head, &e.members) {
            Some(restated) => Body::Membership {
                on: day(e.effective_on),
                household: tables.households.index_of(e.household),
                now: restated_member(tables, e.new_household, restated)?,
            },
            None => Body::Ignored,
        },
        Event::HouseholdHeadChanged(e) => match restated(person, e.new_head, &e.members) {
            Some(restated) => Body::Membership {
                on: day(e.effective_on),
                household: tables.households.index_of(e.household),
                now: restated_member(tables, e.household, restated)?,
            },
            None => Body::Ignored,
        },
        Event::MemberRelationshipChanged(e) if e.person == person => {
            let household = tables.households.index_of(e.household);
            Body::Membership {
                on: day(e.effective_on),
                household,
                now: Member {
                    household,
                    relationship: tables.interner.relationship(&e.relationship)?,
                },
            }
        }
        Event::TemporaryAbsenceDeclared(e) if e.person == person => Body::Absence {
            on: day(e.effective_on),
            until: day(e.until),
        },
        Event::ResidenceAddressRecoded(e) => Body::Recoded {
            on: day(e.effective_on),
            dwelling: e.dwelling.get(),
            addr: tables.addr(&e.new_address)?,
        },
        Event::EventCorrected(e) => match digest(person, e.replacement(), tables)? {
            Some(replacement) => Body::Correction {
                corrects: *e.corrects().as_bytes(),
                replacement: Box::new(replacement),
            },
            None => return Ok(None),
        },
        // The residence types above when they concern someone else, and current residences and
        // stays, which change no span kept here.
        Event::PermanentResidenceRegistered(_)
        | Event::TemporaryResidenceRegistered(_)
        | Event::TemporaryResidenceExtended(_)
        | Event::PermanentResidenceDeleted(_)
        | Event::TemporaryResidenceDeleted(_)
        | Event::ResidenceRegistrationAnnulled(_)
        | Event::MemberRelationshipChanged(_)
        | Event::TemporaryAbsenceDeclared(_)
        | Event::CurrentResidenceDeclared(_)
        | Event::CurrentAddressUpdated(_)
        | Event::StayNotified(_) => Body::Ignored,
        // The reorganisation is one date of the whole model, and the domain's timeline keeps no
        // fact of the other types.
        Event::AdministrativeUnitsReorganized(_)
        | Event::PersonRecorded(_)
        | Event::ApplicationReceived(_)
        | Event::ApplicationCompletionRequested(_)
        | Event::ApplicationRefused(_)
        | Event::DwellingRestrictionRecorded(_)
        | Event::DwellingRestrictionLifted(_)
        | Event::DeletionGroundDetected(_)
        | Event::HouseholdEstablished(_)
        | Event::ResidentCivilStatusAdjusted(_)
        | Event::CurrentResidenceDeclarationRefused(_)
        | Event::LegacyHouseholdBookRevoked(_)
        | Event::ResidenceConfirmationIssued(_)
        | Event::PersonalIdNumberReassigned(_) => return Ok(None),
    };
    Ok(Some(body))
}

fn restated_member(
    tables: &mut Tables<'_>,
    household: HouseholdId,
    restated: Restated<'_>,
) -> Result<Member, InternError> {
    let relationship = match restated {
        Restated::Head => tables
            .interner
            .relationship(&residence_domain::relationship::Relationship::ChuHo)?,
        Restated::Member(relationship) => tables.interner.relationship(relationship)?,
    };
    Ok(Member {
        household: tables.households.index_of(household),
        relationship,
    })
}

/// The kinds of span the model keeps, in the domain's `IntervalKind` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpanKind {
    /// Thường trú: a permanent registration.
    Permanent,
    /// Tạm trú: a temporary registration.
    Temporary,
    /// Tạm vắng: a declared temporary absence.
    Absence,
}

impl SpanKind {
    fn index(self) -> usize {
        match self {
            Self::Permanent => 0,
            Self::Temporary => 1,
            Self::Absence => 2,
        }
    }
}

/// Why a span ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanEnd {
    /// Its term ran out after `until`.
    TermEnded,
    /// A newer span of its kind began.
    Superseded,
    /// The registration was deleted.
    Deleted,
    /// The person died.
    Died,
}

/// A change inside a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpanChange {
    /// The first day of the change.
    pub(crate) from: NaiveDate,
    /// The new address or membership.
    pub(crate) kind: SpanChangeKind,
    /// The ledger position of the event that changed it.
    pub(crate) by: u64,
}

/// What a [`SpanChange`] changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanChangeKind {
    /// The dwelling's address was recoded to this.
    Address(Addr),
    /// The household or relationship became this.
    Member(Member),
}

/// One valid-time span of a person as known now (the compact twin of the domain's
/// `timeline::Interval`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) kind: SpanKind,
    pub(crate) start: NaiveDate,
    pub(crate) end: Option<NaiveDate>,
    pub(crate) until: Option<NaiveDate>,
    pub(crate) end_reason: Option<SpanEnd>,
    pub(crate) addr: Option<Addr>,
    pub(crate) dwelling: Option<u64>,
    pub(crate) member: Option<Member>,
    /// The position of the record that opened it (the original, for a corrected event).
    pub(crate) opened: u64,
    /// The position of the record that closed it, if an event did.
    pub(crate) closed: Option<u64>,
    /// Recodings and household changes, by first day.
    pub(crate) changes: Vec<SpanChange>,
    /// The event id an annulment names for it.
    target: [u8; 16],
}

impl Span {
    /// Whether the span holds on `date`.
    pub(crate) fn holds_on(&self, date: NaiveDate) -> bool {
        self.start <= date && self.end.is_none_or(|end| date < end)
    }

    /// The address before conversion on `date`: as registered, recoded since.
    fn raw_addr_on(&self, date: NaiveDate) -> Option<Addr> {
        let mut addr = self.addr?;
        for change in &self.changes {
            if change.from > date {
                break;
            }
            if let SpanChangeKind::Address(recoded) = change.kind {
                addr = recoded;
            }
        }
        Some(addr)
    }

    /// The address shown on `date` (mirrors `Interval::address_on`): recoded, then read
    /// through the conversion table once the reorganisation (known from `reorganised_from`)
    /// applies.
    pub(crate) fn addr_on(
        &self,
        date: NaiveDate,
        reorganised_from: Option<NaiveDate>,
    ) -> Option<Addr> {
        let addr = self.raw_addr_on(date)?;
        let unit = addr.unit.unpack();
        let converts =
            unit.scheme == Scheme::Legacy && reorganised_from.is_some_and(|from| date >= from);
        if !converts {
            return Some(addr);
        }
        Some(match registry().default_successor(unit.code) {
            Some(code) => Addr {
                unit: Unit::pack(UnitRef::y2025(code)),
                street: addr.street,
            },
            None => addr,
        })
    }

    /// The 2025 unit the span's address is in today (mirrors `Interval::today_unit`).
    pub(crate) fn today_unit(&self) -> Option<UnitRef> {
        let mut addr = self.addr?;
        for change in &self.changes {
            if let SpanChangeKind::Address(recoded) = change.kind {
                addr = recoded;
            }
        }
        Some(today_unit_of(addr.unit.unpack()))
    }

    /// The membership on `date` (mirrors `Interval::membership_on`).
    pub(crate) fn member_on(&self, date: NaiveDate) -> Option<Member> {
        let mut member = self.member;
        for change in &self.changes {
            if change.from > date {
                break;
            }
            if let SpanChangeKind::Member(now) = change.kind {
                member = Some(now);
            }
        }
        member
    }
}

/// The 2025 unit `unit` is in today: its default successor if it is legacy (itself when the
/// table has no row for it), itself otherwise (mirrors the domain's `today_unit`).
pub(crate) fn today_unit_of(unit: UnitRef) -> UnitRef {
    match unit.scheme {
        Scheme::Y2025 => unit,
        Scheme::Legacy => registry()
            .default_successor(unit.code)
            .map_or(unit, UnitRef::y2025),
    }
}

/// The span of each kind shown on `date` (permanent, temporary, absence): of the spans of a
/// kind holding then, the last in the fold's order, as the domain's `View::residence_on` shows
/// it (spans of one kind overlap only when an extension revived a term that a newer
/// registration had already followed).
pub(crate) fn shown_on(spans: &[Span], date: NaiveDate) -> [Option<&Span>; 3] {
    let mut shown = [None; 3];
    for span in spans {
        if span.start > date {
            break;
        }
        if span.holds_on(date)
            && let Some(slot) = shown.get_mut(span.kind.index())
        {
            *slot = Some(span);
        }
    }
    shown
}

/// One resolved event (mirrors the domain fold's `Slot`).
#[derive(Debug, Clone, Copy)]
struct Slot<'f> {
    /// The id annulments and corrections name for it: the original event's.
    target: [u8; 16],
    /// What it says, as known (after corrections).
    body: &'f Body,
    /// The position of the event as recorded (its ledger order, and the origin of spans).
    recorded: u64,
}

/// A recoding seen in the sweep.
#[derive(Debug, Clone, Copy)]
struct Recoding {
    on: NaiveDate,
    dwelling: u64,
    addr: Addr,
    by: u64,
}

/// Reusable buffers for folding many people one after the other with few allocations.
#[derive(Debug, Default)]
pub(crate) struct Folder {
    corrected_by: Vec<Option<usize>>,
    orphans: Vec<(usize, [u8; 16])>,
    annulled: Vec<[u8; 16]>,
    dated: Vec<(NaiveDate, u64, usize)>,
    recodings: Vec<Recoding>,
    spans: Vec<Span>,
}

/// The fact holding event `id`, following corrections back to the original; `Err` carries the
/// original id when that event is not among the facts.
fn original(facts: &[Fact], id: [u8; 16]) -> Result<usize, [u8; 16]> {
    let mut id = id;
    // A correction names an earlier event, so a chain longer than the facts is a cycle that no
    // ledger can hold; it is treated as unknown, as the domain does.
    for _ in 0..=facts.len() {
        let Some(index) = facts.iter().position(|fact| fact.event_id == id) else {
            return Err(id);
        };
        match facts.get(index).map(|fact| &fact.body) {
            Some(Body::Correction { corrects, .. }) => id = *corrects,
            _ => return Ok(index),
        }
    }
    Err(id)
}

/// The id annulments name for event `id` (the original of a corrected event).
fn canonical(facts: &[Fact], id: [u8; 16]) -> [u8; 16] {
    match original(facts, id) {
        Ok(index) => facts.get(index).map_or(id, |fact| fact.event_id),
        Err(original) => original,
    }
}

/// A fact's content: its correction's replacement or its own body.
fn content(fact: &Fact) -> &Body {
    match &fact.body {
        Body::Correction { replacement, .. } => replacement,
        body => body,
    }
}

/// The exclusive end and reason of a term whose last day is `until`.
fn term_end(until: NaiveDate) -> (Option<NaiveDate>, Option<SpanEnd>) {
    match until.succ_opt() {
        Some(end) => (Some(end), Some(SpanEnd::TermEnded)),
        None => (None, None),
    }
}

/// A new span.
fn opened(kind: SpanKind, start: NaiveDate, slot: &Slot<'_>) -> Span {
    Span {
        kind,
        start,
        end: None,
        until: None,
        end_reason: None,
        addr: None,
        dwelling: None,
        member: None,
        opened: slot.recorded,
        closed: None,
        changes: Vec::new(),
        target: slot.target,
    }
}

/// The valid-time sweep over resolved events (mirrors the domain fold's `Sweep`).
struct Sweep<'a> {
    spans: &'a mut Vec<Span>,
    recodings: &'a mut Vec<Recoding>,
    /// The open span of each kind (index into `spans`).
    open: [Option<usize>; 3],
}

impl Sweep<'_> {
    fn step(&mut self, slot: &Slot<'_>) {
        let by = slot.recorded;
        match *slot.body {
            Body::Permanent {
                on,
                addr,
                dwelling,
                member,
            } => {
                self.close(SpanKind::Permanent, on.0, SpanEnd::Superseded, by);
                let mut span = opened(SpanKind::Permanent, on.0, slot);
                span.addr = Some(addr);
                span.dwelling = Some(dwelling);
                span.member = Some(member);
                self.open(span);
            }
            Body::Temporary {
                on,
                until,
                addr,
                dwelling,
                member,
            } => {
                self.close(SpanKind::Temporary, on.0, SpanEnd::Superseded, by);
                let mut span = opened(SpanKind::Temporary, on.0, slot);
                (span.end, span.end_reason) = term_end(until.0);
                span.until = Some(until.0);
                span.addr = Some(addr);
                span.dwelling = Some(dwelling);
                span.member = member;
                self.open(span);
            }
            Body::Extended {
                dwelling,
                previous_until,
                until,
                ..
            } => self.extend(dwelling, previous_until.0, until.0),
            Body::PermanentDeleted {
                on,
                dwelling,
                death,
            } => {
                self.delete(SpanKind::Permanent, dwelling, on.0, SpanEnd::Deleted, by);
                if death {
                    self.close_all(on.0, by);
                }
            }
            Body::TemporaryDeleted {
                on,
                dwelling,
                death,
            } => {
                self.delete(SpanKind::Temporary, dwelling, on.0, SpanEnd::Deleted, by);
                if death {
                    self.close_all(on.0, by);
                }
            }
            Body::Membership { on, household, now } => self.restate(on.0, household, now, by),
            Body::Absence { on, until } => {
                self.close(SpanKind::Absence, on.0, SpanEnd::Superseded, by);
                let mut span = opened(SpanKind::Absence, on.0, slot);
                (span.end, span.end_reason) = term_end(until.0);
                span.until = Some(until.0);
                self.open(span);
            }
            Body::Recoded { on, dwelling, addr } => self.recodings.push(Recoding {
                on: on.0,
                dwelling,
                addr,
                by,
            }),
            Body::Ignored | Body::Annulled { .. } | Body::Correction { .. } => {}
        }
    }

    fn open(&mut self, span: Span) {
        self.open[span.kind.index()] = Some(self.spans.len());
        self.spans.push(span);
    }

    /// Ends the open span of `kind` on `date` if it still holds then; none is open after.
    fn close(&mut self, kind: SpanKind, date: NaiveDate, reason: SpanEnd, by: u64) {
        let Some(index) = self.open[kind.index()].take() else {
            return;
        };
        if let Some(span) = self.spans.get_mut(index)
            && span.end.is_none_or(|end| date < end)
        {
            span.end = Some(date.max(span.start));
            span.end_reason = Some(reason);
            span.closed = Some(by);
        }
    }

    /// Ends the registration of `kind` at `dwelling` that holds on `date`, on that day (mirrors
    /// the domain fold's `delete`: only the registration at the named dwelling is ended).
    fn delete(&mut self, kind: SpanKind, dwelling: u64, date: NaiveDate, reason: SpanEnd, by: u64) {
        let Some(index) = self.spans.iter().rposition(|span| {
            span.kind == kind && span.dwelling == Some(dwelling) && span.holds_on(date)
        }) else {
            return;
        };
        let slot = kind.index();
        if self.open[slot] == Some(index) {
            self.open[slot] = None;
        }
        if let Some(span) = self.spans.get_mut(index) {
            span.end = Some(date);
            span.end_reason = Some(reason);
            span.closed = Some(by);
        }
    }

    /// Moves the last day of the temporary registration at `dwelling` whose term ended on
    /// `previous_until` to `until` (mirrors the domain fold's `extend`: an end an event made
    /// stays).
    fn extend(&mut self, dwelling: u64, previous_until: NaiveDate, until: NaiveDate) {
        let Some(span) = self.spans.iter_mut().rev().find(|span| {
            span.kind == SpanKind::Temporary
                && span.dwelling == Some(dwelling)
                && span.until == Some(previous_until)
        }) else {
            return;
        };
        span.until = Some(until);
        if span.closed.is_none() {
            (span.end, span.end_reason) = term_end(until);
        }
    }

    /// Ends every open span: the person died.
    fn close_all(&mut self, date: NaiveDate, by: u64) {
        for kind in [SpanKind::Permanent, SpanKind::Temporary, SpanKind::Absence] {
            self.close(kind, date, SpanEnd::Died, by);
        }
    }

    /// The membership in `household` becomes `now` from `date`, on the registration (permanent
    /// first) that places the person in that household then.
    fn restate(&mut self, date: NaiveDate, household: HouseholdIdx, now: Member, by: u64) {
        for kind in [SpanKind::Permanent, SpanKind::Temporary] {
            let open = self.open[kind.index()];
            let Some(span) = open.and_then(|index| self.spans.get_mut(index)) else {
                continue;
            };
            let in_household = span.member_on(date).map(|m| m.household) == Some(household);
            if span.holds_on(date) && in_household {
                span.changes.push(SpanChange {
                    from: date,
                    kind: SpanChangeKind::Member(now),
                    by,
                });
                return;
            }
        }
    }
}

impl Folder {
    /// Folds one person's facts (in ledger order) into spans as known now, in the domain's
    /// order (start, kind, opening position). The spans are valid until the next call.
    pub(crate) fn fold(&mut self, facts: &[Fact]) -> &[Span] {
        self.spans.clear();
        self.recodings.clear();
        self.annulled.clear();
        self.dated.clear();
        self.orphans.clear();
        self.corrected_by.clear();
        self.corrected_by.resize(facts.len(), None);
        // Pass 1: resolve corrections and annulments in ledger order.
        for (index, fact) in facts.iter().enumerate() {
            if let Body::Correction { corrects, .. } = fact.body {
                match original(facts, corrects) {
                    // The latest correction wins.
                    Ok(target) => {
                        if let Some(entry) = self.corrected_by.get_mut(target) {
                            *entry = Some(index);
                        }
                    }
                    Err(target) => {
                        self.orphans.retain(|&(_, other)| other != target);
                        self.orphans.push((index, target));
                    }
                }
            }
        }
        let mut slots: Vec<Slot<'_>> = Vec::with_capacity(facts.len());
        for (fact, correction) in facts.iter().zip(&self.corrected_by) {
            if matches!(fact.body, Body::Correction { .. }) {
                continue;
            }
            let correction = correction.and_then(|index| facts.get(index));
            slots.push(Slot {
                target: fact.event_id,
                body: correction.map_or(&fact.body, content),
                recorded: fact.position,
            });
        }
        // A replacement whose original is not among the facts stands where it was recorded.
        for &(index, target) in &self.orphans {
            if let Some(correction) = facts.get(index) {
                slots.push(Slot {
                    target,
                    body: content(correction),
                    recorded: correction.position,
                });
            }
        }
        for slot in &slots {
            if let Body::Annulled { annuls } = slot.body {
                self.annulled.push(canonical(facts, *annuls));
            }
        }
        for (index, slot) in slots.iter().enumerate() {
            if let Some(date) = slot.body.effective_on() {
                self.dated.push((date, slot.recorded, index));
            }
        }
        // Valid time first; events of one day in ledger order.
        self.dated
            .sort_by_key(|&(date, recorded, _)| (date, recorded));
        // Pass 2: the sweep.
        let mut sweep = Sweep {
            spans: &mut self.spans,
            recodings: &mut self.recodings,
            open: [None; 3],
        };
        for &(_, _, index) in &self.dated {
            if let Some(slot) = slots.get(index) {
                sweep.step(slot);
            }
        }
        // Pass 3: drop spans that hold on no date and annulled ones, attach recodings.
        let annulled = &self.annulled;
        let recodings = &self.recodings;
        self.spans.retain_mut(|span| {
            if span.end.is_some_and(|end| end <= span.start) || annulled.contains(&span.target) {
                return false;
            }
            if let Some(dwelling) = span.dwelling {
                for recoding in recodings {
                    if recoding.dwelling == dwelling && recoding.on >= span.start {
                        span.changes.push(SpanChange {
                            from: recoding.on,
                            kind: SpanChangeKind::Address(recoding.addr),
                            by: recoding.by,
                        });
                    }
                }
            }
            if span.changes.len() > 1 {
                span.changes.sort_by_key(|change| (change.from, change.by));
            }
            true
        });
        self.spans
            .sort_by_key(|span| (span.start, span.kind, span.opened));
        &self.spans
    }
}

/// One span of a person as the compact model holds it, as known now: what registers and counts
/// use. Answers about one person come from the domain's timeline instead
/// ([`crate::Projections::person_timeline`]); this view exists so the two can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanSummary {
    /// The kind.
    pub kind: SpanKind,
    /// Its first day.
    pub start: NaiveDate,
    /// The first day it no longer holds.
    pub end: Option<NaiveDate>,
    /// The last day of its term.
    pub until: Option<NaiveDate>,
    /// Why it ends.
    pub end_reason: Option<SpanEnd>,
    /// The position of the record that opened it.
    pub opened: u64,
    /// The position of the record that closed it.
    pub closed: Option<u64>,
}

/// One span as shown on one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanOn {
    /// The span.
    pub span: SpanSummary,
    /// The address shown on the date (`None` for an absence).
    pub address: Option<Address>,
    /// The 2025 unit of the address today.
    pub today_unit: Option<UnitRef>,
    /// The household and relationship on the date.
    pub membership: Option<Membership>,
}

impl Span {
    pub(crate) fn summary(&self) -> SpanSummary {
        SpanSummary {
            kind: self.kind,
            start: self.start,
            end: self.end,
            until: self.until,
            end_reason: self.end_reason,
            opened: self.opened,
            closed: self.closed,
        }
    }
}
