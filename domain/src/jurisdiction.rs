//! The law of place: in which commune an act takes place, so which residence offices are
//! competent to record it.
//!
//! Why here: residence acts are decided by the registration office of the commune, whose head
//! of commune police is the decider (Luật Cư trú 2020 Art 2.4; TT 55/2021 until 2026-06-30,
//! TT 116/2026 from 2026-07-01). Which office that is for a given act is a rule of the law, so
//! it is written once, in the domain, and tested given/when/then; the API only maps the answer
//! to a status.
//!
//! Why before `decide`: [`place`] reads only the command and the state folded from the
//! command's boundary (its read tags, then the dwellings that fold found, as
//! [`crate::boundary::read`] reads it), never the events a decision produced. So the API can
//! answer 403 before `decide` runs, and a refusal never describes what the caller may not see:
//! an officer of another commune who names the wrong household in a deletion learns nothing of
//! the household the person is really in (say no before you say why).
//!
//! Only the command's own target counts, never the consequences the law attaches to it:
//! registering a permanent residence at B closes the registration at A (and may name a new head
//! there, or end a temporary registration), and the office of B is entitled to that without
//! holding A. Likewise a deletion for death ends the person's other registration.
//!
//! What it is not: it does not decide *who* may record an act (an officer, a supervisor, the
//! population database's feed: [`crate::decide`] answers `actor_not_authorised`), nor whether a
//! caller's jurisdiction is checked at all (the feed is national; the API decides). A place the
//! register does not show is [`Place::Undetermined`], and [`competent`] refuses it for every
//! jurisdiction: the check fails closed.
//!
//! [`Jurisdiction`] is the value an office holds: communes of either map and provinces of the
//! 2025 map. An officer's jurisdiction does not change on 2025-07-01: a legacy ward is covered
//! by the 2025 communes it went into, and a 2025 commune by the legacy wards it took in.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::command::Command;
use crate::event::{DeletionGround, Event};
use crate::ids::{DwellingId, HouseholdId, PersonId};
use crate::state::{PermanentInterval, PersonRecord, State, TemporaryInterval};
use crate::tag::Tag;
use crate::units::{ProvinceCode, Scheme, UnitCode, UnitRef, registry};

// ---------------------------------------------------------------------------------------------
// Place.

/// Where a command acts, so which offices are competent for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Bound to no place: any office may record it.
    Unbound,
    /// Every one of these units must be in the jurisdiction (never empty when [`place`] builds
    /// it; an empty list is refused as undetermined).
    All(Vec<UnitRef>),
    /// One of these units, the places where the person resides, must be in the jurisdiction
    /// (never empty when [`place`] builds it; an empty list is refused as undetermined).
    Any(Vec<UnitRef>),
    /// Every province of the 2025 map must be in the jurisdiction.
    Nationwide,
    /// Bound to a place the register does not show: refused for every jurisdiction.
    Undetermined,
}

/// The place `command` acts at, read from `state`: the state folded from the command's
/// boundary before `decide` runs (its read tags, then the dwellings that fold found).
///
/// Registrations are read as the register shows them on the act's date (its `effective_on`,
/// else `today`), with the dwelling's recodings since they were made, so an act after the 2025
/// reorganisation is at the 2025 commune. The place does not depend on whether `decide` will
/// accept the command: a deletion naming the wrong household is still at the unit of the
/// person's real registration.
pub fn place(command: &Command, state: &State, today: NaiveDate) -> Place {
    let date = command.effective_on().unwrap_or(today);
    match command {
        // Facts of the national population database, not of any commune (Luật Căn cước 2023
        // Art 9 and Art 12; DOMAIN.md I7, I12).
        Command::RecordPerson(_) | Command::ReassignPin(_) => Place::Unbound,
        // The intake slips CT04, CT05 and CT06: an office answers what it received.
        Command::ReceiveApplication(_)
        | Command::RequestCompletion(_)
        | Command::RefuseApplication(_) => Place::Unbound,
        // A CT07 may be requested at any registration office nationwide or online (TT 55/2021
        // Art 17 as amended by TT 66/2023).
        Command::IssueResidenceConfirmation(_) => Place::Unbound,
        // The 2025 reorganisation converts every address of the country (NQ 202/2025/QH15,
        // QĐ 19/2025/QĐ-TTg; Công văn 1555/BCA-C06).
        Command::ApplyReorganisation(_) => Place::Nationwide,
        // A permanent registration is filed with the registration office of the place of
        // residence (Luật Cư trú Art 22): a move is registered by the destination commune,
        // which closes the registration left behind without holding it.
        Command::RegisterPermanent(c) => Place::All(vec![c.address.unit]),
        // A temporary registration is registered where the person stays (Art 28).
        Command::RegisterTemporary(c) => Place::All(vec![c.address.unit]),
        // A residence declaration is made to the police of the place where the person lives
        // (Art 19; NĐ 154/2024 Art 4), and refused by them.
        Command::DeclareCurrentResidence(c) => Place::All(vec![c.address.unit]),
        Command::RefuseResidenceDeclaration(c) => Place::All(vec![c.address.unit]),
        // A move inside the commune updates the current address there (DOMAIN.md I3: Art
        // 27.1; TT 55/2021): the office holding a registration of the person on the date,
        // whatever address the command gives (`decide` checks that it is in that commune).
        Command::UpdateCurrentAddress(c) => any_or(
            residences(state, c.person, date, Residences::Registered),
            Place::Undetermined,
        ),
        // An Art 23 restriction is recorded by the office of the commune where the dwelling is.
        Command::RecordDwellingRestriction(c) => Place::All(vec![c.address.unit]),
        // A stay is notified to the police of the place of stay (Art 30).
        Command::NotifyStay(c) => Place::All(vec![c.host_address.unit]),
        // A recoding is an ex-officio update by the commune police (Art 26.1(c); Công văn
        // 1555/BCA-C06): the dwelling's unit on the date and the new one.
        Command::RecodeAddress(c) => match dwelling_unit(state, c.dwelling, date) {
            Some(old) if old == c.new_address.unit => Place::All(vec![old]),
            Some(old) => Place::All(vec![old, c.new_address.unit]),
            None => Place::Undetermined,
        },
        // A permanent registration is deleted by the office holding it (Art 24; NĐ 154/2024
        // Art 9 as amended by NĐ 58/2026): the person's current registration, as shown on the
        // date. Not the household the command names, which `decide` checks. A registration
        // already ended is still its office's to answer for ("no active registration"), so the
        // latest one counts when none is open.
        Command::DeletePermanent(c) => all(state
            .person(c.person)
            .and_then(|record| record.open_permanent().or_else(|| record.permanent.last()))
            .map(|interval| permanent_unit(state, interval, date))),
        // A temporary registration is deleted by the office holding it (Art 29): the person's
        // registration at the dwelling the command names.
        Command::DeleteTemporary(c) => all(state
            .person(c.person)
            .and_then(|record| temporary_to_delete(record, c.dwelling, date))
            .map(|interval| temporary_unit(state, interval, date))),
        // A split is registered by the office holding the household (Art 25).
        Command::SplitHousehold(c) => all(household_unit(state, c.household, date)),
        // An annulment is decided by the registering office, or by the head of its direct
        // superior in complex cases (Art 35): the unit of the registration annulled, as shown
        // on the date.
        Command::AnnulRegistration(c) => all(state
            .event(c.annuls)
            .and_then(|entry| registration_unit(state, &entry.event, date))),
        // An extension is granted like a temporary registration (Art 28.3), by the office
        // holding the registration extended.
        Command::ExtendTemporary(c) => all(state
            .person(c.person)
            .and_then(|record| temporary_to_extend(record, c.dwelling))
            .map(|interval| temporary_unit(state, interval, date))),
        // A change of head (Art 26.1(a)) or of a member's relationship (an adjustment, Art 26)
        // is registered by the office holding the household.
        Command::ChangeHead(c) => all(household_unit(state, c.household, date)),
        Command::ChangeMemberRelationship(c) => all(household_unit(state, c.household, date)),
        // A legacy book is revoked by the office holding the household's registration
        // (TT 55/2021).
        Command::RevokeLegacyBook(c) => all(household_unit(state, c.household, date)),
        // An Art 23 restriction is lifted by the office of the commune where the dwelling is.
        Command::LiftDwellingRestriction(c) => all(dwelling_unit(state, c.dwelling, date)),
        // A temporary absence is declared to the office where the person resides (Art 31):
        // either registration.
        Command::DeclareTemporaryAbsence(c) => any_or(
            residences(state, c.person, date, Residences::Registered),
            Place::Undetermined,
        ),
        // A ground is found against a registration (Art 24.1, Art 29.1): the police of the
        // place verify it and delete ex officio (NĐ 154/2024 Art 9), so the office holding the
        // registration of the ground's kind.
        Command::RecordDeletionGround(c) => {
            let kind = match c.ground {
                DeletionGround::Permanent(_) => Residences::Permanent,
                DeletionGround::Temporary(_) => Residences::Temporary,
            };
            any_or(residences(state, c.person, date, kind), Place::Undetermined)
        }
        // Residence data follow a civil-status decision (Art 26.1(b)) at any office where the
        // person resides (either registration or an Art 19 declaration); a person with none
        // has no residence data bound to a commune, and may be adjusted anywhere.
        Command::AdjustCivilStatus(c) => any_or(
            residences(state, c.person, date, Residences::RegisteredOrDeclared),
            Place::Unbound,
        ),
        // A correction is a compensating event (DOMAIN.md I11: Art 26, Art 35) by the office
        // holding what it corrects: the corrected event's place and its replacement's.
        Command::CorrectEvent(c) => match state.event(c.corrects) {
            Some(entry) => {
                let tags: Vec<Tag> = c
                    .replacement
                    .event()
                    .tags()
                    .into_iter()
                    .chain(entry.tags.iter().copied())
                    .collect();
                event_place(state, &tags, date)
            }
            None => Place::Undetermined,
        },
    }
}

/// `All` of the one unit, or `Undetermined` when the register does not show it.
fn all(unit: Option<UnitRef>) -> Place {
    unit.map_or(Place::Undetermined, |unit| Place::All(vec![unit]))
}

/// `Any` of `units`, or `otherwise` when there are none.
fn any_or(units: Vec<UnitRef>, otherwise: Place) -> Place {
    if units.is_empty() {
        otherwise
    } else {
        Place::Any(units)
    }
}

/// The place of events with these tags (a correction's): their units; for events without a
/// unit tag, their households' units, else their dwellings', else where their persons reside.
fn event_place(state: &State, tags: &[Tag], date: NaiveDate) -> Place {
    let mut units: Vec<UnitRef> = tags
        .iter()
        .filter_map(|tag| match tag {
            Tag::Unit(unit) => Some(*unit),
            _ => None,
        })
        .collect();
    if units.is_empty() {
        units = tags
            .iter()
            .filter_map(Tag::household)
            .filter_map(|household| household_unit(state, household, date))
            .collect();
    }
    if units.is_empty() {
        units = tags
            .iter()
            .filter_map(Tag::dwelling)
            .filter_map(|dwelling| dwelling_unit(state, dwelling, date))
            .collect();
    }
    if !units.is_empty() {
        units.sort_unstable();
        units.dedup();
        return Place::All(units);
    }
    let mut residences: Vec<UnitRef> = tags
        .iter()
        .filter_map(Tag::person)
        .flat_map(|person| residences(state, person, date, Residences::RegisteredOrDeclared))
        .collect();
    residences.sort_unstable();
    residences.dedup();
    any_or(residences, Place::Unbound)
}

/// Which residences of a person count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Residences {
    /// The permanent registration.
    Permanent,
    /// The temporary registration.
    Temporary,
    /// Either registration.
    Registered,
    /// Either registration or, without one, an Art 19 declaration.
    RegisteredOrDeclared,
}

/// The units where `person` resides on `date`, as the register shows them then.
fn residences(state: &State, person: PersonId, date: NaiveDate, which: Residences) -> Vec<UnitRef> {
    let Some(record) = state.person(person) else {
        return Vec::new();
    };
    let mut units = Vec::new();
    if which != Residences::Temporary
        && let Some(permanent) = record.permanent_on(date)
    {
        units.push(permanent_unit(state, permanent, date));
    }
    if which != Residences::Permanent
        && let Some(temporary) = record.temporary_on(date)
    {
        units.push(temporary_unit(state, temporary, date));
    }
    if which == Residences::RegisteredOrDeclared
        && units.is_empty()
        && let Some(declared) = record.declared_on(date)
    {
        units.push(declared.address.unit);
    }
    units
}

/// The unit of a registration made at `registered` on `since`, as shown on `date` (with the
/// dwelling's recodings since).
fn shown_unit(
    state: &State,
    dwelling: DwellingId,
    registered: &Address,
    since: NaiveDate,
    date: NaiveDate,
) -> UnitRef {
    state.shown_address(dwelling, registered, since, date).unit
}

/// The temporary registration a deletion at `dwelling` on `date` ends, as `decide` finds it
/// (not deleted, holding on the date); for a deletion dated outside every term, which `decide`
/// refuses, the latest one not deleted, else the latest one deleted, so that the refusal is the
/// holding office's to give.
fn temporary_to_delete(
    record: &PersonRecord,
    dwelling: DwellingId,
    date: NaiveDate,
) -> Option<&TemporaryInterval> {
    let at_dwelling = |interval: &&TemporaryInterval| {
        interval.dwelling == dwelling && interval.deleted_on.is_none()
    };
    record
        .temporary
        .iter()
        .rev()
        .filter(at_dwelling)
        .find(|interval| interval.holds_on(date))
        .or_else(|| record.temporary.iter().rev().find(at_dwelling))
        .or_else(|| {
            record
                .temporary
                .iter()
                .rev()
                .find(|interval| interval.dwelling == dwelling)
        })
}

/// The temporary registration an extension at `dwelling` extends, as `decide` finds it: the
/// latest one not deleted; else the latest one deleted, whose office answers the refusal.
fn temporary_to_extend(record: &PersonRecord, dwelling: DwellingId) -> Option<&TemporaryInterval> {
    let mut at_dwelling = record
        .temporary
        .iter()
        .rev()
        .filter(|interval| interval.dwelling == dwelling);
    let latest = at_dwelling.clone().next();
    at_dwelling
        .find(|interval| interval.deleted_on.is_none())
        .or(latest)
}

/// The unit of a permanent registration, as shown on `date`.
fn permanent_unit(state: &State, interval: &PermanentInterval, date: NaiveDate) -> UnitRef {
    shown_unit(
        state,
        interval.dwelling,
        &interval.address,
        interval.start,
        date,
    )
}

/// The unit of a temporary registration, as shown on `date`.
fn temporary_unit(state: &State, interval: &TemporaryInterval, date: NaiveDate) -> UnitRef {
    shown_unit(
        state,
        interval.dwelling,
        &interval.address,
        interval.start,
        date,
    )
}

/// The unit of a registration event, as shown on `date`.
fn registration_unit(state: &State, event: &Event, date: NaiveDate) -> Option<UnitRef> {
    let (dwelling, address, since) = match event {
        Event::PermanentResidenceRegistered(e) => (e.dwelling, &e.address, e.effective_on),
        Event::TemporaryResidenceRegistered(e) => (e.dwelling, &e.address, e.effective_on),
        _ => return None,
    };
    Some(shown_unit(state, dwelling, address, since, date))
}

/// A household's unit on `date`.
fn household_unit(state: &State, household: HouseholdId, date: NaiveDate) -> Option<UnitRef> {
    let record = state.household(household)?;
    let address = record.address.as_ref()?;
    Some(match (record.dwelling, record.established_on) {
        (Some(dwelling), Some(since)) => shown_unit(state, dwelling, address, since, date),
        _ => address.unit,
    })
}

/// A dwelling's unit on `date`.
fn dwelling_unit(state: &State, dwelling: DwellingId, date: NaiveDate) -> Option<UnitRef> {
    state
        .dwelling(dwelling)
        .and_then(|record| record.address_on(date))
        .map(|address| address.unit)
}

// ---------------------------------------------------------------------------------------------
// Jurisdiction.

/// Where an officer or supervisor may record acts.
///
/// Text form of one entry: a commune `2025:00097` or `legacy:00001` (a bare five-digit code
/// means the 2025 map), or a province `province:01` (2025 province codes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jurisdiction {
    /// Communes of either map.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub communes: BTreeSet<UnitRef>,
    /// Provinces of the 2025 map.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub provinces: BTreeSet<ProvinceCode>,
}

/// Why a jurisdiction entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JurisdictionError {
    /// Not a commune or province reference.
    #[error("{0:?} is not a unit (2025:NNNNN, legacy:NNNNN, NNNNN or province:NN)")]
    Syntax(String),
    /// A well-formed code that the administrative map does not have.
    #[error("{0} is not a unit of the administrative map")]
    Unknown(String),
}

impl Jurisdiction {
    /// Parses entries as given on the command line (comma-separated lists are split by the
    /// caller).
    ///
    /// # Errors
    /// [`JurisdictionError`] naming the first bad entry.
    pub fn parse<'a>(
        entries: impl IntoIterator<Item = &'a str>,
    ) -> Result<Jurisdiction, JurisdictionError> {
        let mut jurisdiction = Jurisdiction::default();
        for entry in entries {
            let entry = entry.trim();
            if let Some(province) = entry.strip_prefix("province:") {
                let code: ProvinceCode = province
                    .parse()
                    .map_err(|_| JurisdictionError::Syntax(entry.to_owned()))?;
                if registry().province_name(Scheme::Y2025, code).is_none() {
                    return Err(JurisdictionError::Unknown(entry.to_owned()));
                }
                jurisdiction.provinces.insert(code);
                continue;
            }
            let unit = if entry.contains(':') {
                entry.parse::<UnitRef>()
            } else {
                entry.parse::<UnitCode>().map(UnitRef::y2025)
            }
            .map_err(|_| JurisdictionError::Syntax(entry.to_owned()))?;
            if registry().get(unit).is_none() {
                return Err(JurisdictionError::Unknown(unit.to_string()));
            }
            jurisdiction.communes.insert(unit);
        }
        Ok(jurisdiction)
    }

    /// Whether nothing is covered.
    pub fn is_empty(&self) -> bool {
        self.communes.is_empty() && self.provinces.is_empty()
    }

    /// Whether `unit` lies in this jurisdiction, on either map: a legacy ward is covered by the
    /// 2025 communes it became part of, and a 2025 commune by the legacy wards it took in (an
    /// officer's jurisdiction does not change on 2025-07-01).
    pub fn covers(&self, unit: UnitRef) -> bool {
        if self.communes.contains(&unit) {
            return true;
        }
        let registry = registry();
        let successors: Vec<UnitRef> = match unit.scheme {
            Scheme::Legacy => registry
                .successors(unit.code)
                .iter()
                .map(|successor| UnitRef::y2025(successor.code))
                .collect(),
            Scheme::Y2025 => vec![unit],
        };
        if successors.iter().any(|new| self.communes.contains(new)) {
            return true;
        }
        if unit.scheme == Scheme::Y2025
            && self.communes.iter().any(|held| {
                held.scheme == Scheme::Legacy
                    && registry
                        .successors(held.code)
                        .iter()
                        .any(|successor| successor.code == unit.code)
            })
        {
            return true;
        }
        successors.iter().any(|new| {
            registry
                .province_of(*new)
                .is_some_and(|province| self.provinces.contains(&province))
        })
    }

    /// The entries in text form.
    pub fn entries(&self) -> Vec<String> {
        self.communes
            .iter()
            .map(ToString::to_string)
            .chain(
                self.provinces
                    .iter()
                    .map(|province| format!("province:{province}")),
            )
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Competence.

/// An act outside the caller's jurisdiction. Every variant is answered with 403 and
/// [`OutsideJurisdiction::code`], before the command is decided, so nothing of the decision
/// is described.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OutsideJurisdiction {
    /// The act is at a commune the jurisdiction does not cover (the first such, for an act at
    /// several; the first residence, for an act at any of a person's residences). → 403
    #[error("the act is at {}, outside the jurisdiction", unit_text(*.unit))]
    Unit {
        /// The commune.
        unit: UnitRef,
    },
    /// The act concerns the whole country and the jurisdiction does not hold this province
    /// (the first such, in code order). → 403
    #[error(
        "the act concerns the whole country, and province {} is outside the jurisdiction",
        province_text(*.province)
    )]
    Province {
        /// The 2025 province.
        province: ProvinceCode,
    },
    /// What a caller is told instead of [`OutsideJurisdiction::Unit`] for a unit the command
    /// does not name itself, and instead of [`OutsideJurisdiction::Undetermined`]
    /// ([`OutsideJurisdiction::as_told_to`]): one answer whether the register shows the person,
    /// household or dwelling elsewhere or not at all, so an office outside the jurisdiction
    /// learns nothing of another commune's people, not even whether they exist. → 403
    #[error("the register shows nothing in the jurisdiction that this act could concern")]
    Elsewhere,
    /// The act is bound to a place the register does not show (e.g. the deletion of a
    /// registration the person does not have): refused for every jurisdiction, since the check
    /// fails closed. → 403
    #[error("the register does not show the commune of the act, so no jurisdiction covers it")]
    Undetermined,
}

impl OutsideJurisdiction {
    /// The stable machine-readable code, the same for every variant.
    pub fn code(&self) -> &'static str {
        "outside_jurisdiction"
    }

    /// The message in English (lowercase, no trailing period); the same as `Display`.
    pub fn message_en(&self) -> String {
        self.to_string()
    }

    /// What the caller of `command` may be told: the unit at fault only when the command names
    /// it itself (an address it gives), the province of a nationwide act, else
    /// [`OutsideJurisdiction::Elsewhere`]. The untold refusal is for the server's own records
    /// (the access log).
    #[must_use]
    pub fn as_told_to(self, command: &Command) -> OutsideJurisdiction {
        match self {
            Self::Unit { unit } if named_units(command).contains(&unit) => self,
            Self::Province { .. } => self,
            Self::Unit { .. } | Self::Undetermined | Self::Elsewhere => Self::Elsewhere,
        }
    }

    /// The message in Vietnamese (NFC, full diacritics, lowercase, no trailing period).
    pub fn message_vi(&self) -> String {
        match self {
            Self::Elsewhere => {
                "cơ sở dữ liệu không có nơi cư trú, hộ hay chỗ ở nào trong địa bàn có \
                                 thẩm quyền mà việc này có thể liên quan"
                    .to_owned()
            }
            Self::Unit { unit } => format!(
                "việc này thuộc {}, ngoài địa bàn có thẩm quyền",
                unit_text(*unit)
            ),
            Self::Province { province } => format!(
                "việc này liên quan đến toàn quốc, mà tỉnh {} ngoài địa bàn có thẩm quyền",
                province_text(*province)
            ),
            Self::Undetermined => "cơ sở dữ liệu không cho biết việc này thuộc xã nào, nên không \
                                   địa bàn nào có thẩm quyền"
                .to_owned(),
        }
    }
}

/// The units `command` names itself and is bound to by that naming alone (the addresses it
/// registers, declares, restricts, hosts or recodes to): a refusal may repeat them without
/// telling anything the register holds.
pub fn named_units(command: &Command) -> Vec<UnitRef> {
    match command {
        Command::RegisterPermanent(c) => vec![c.address.unit],
        Command::RegisterTemporary(c) => vec![c.address.unit],
        Command::DeclareCurrentResidence(c) => vec![c.address.unit],
        Command::RefuseResidenceDeclaration(c) => vec![c.address.unit],
        Command::RecordDwellingRestriction(c) => vec![c.address.unit],
        Command::NotifyStay(c) => vec![c.host_address.unit],
        Command::RecodeAddress(c) => vec![c.new_address.unit],
        _ => Vec::new(),
    }
}

/// "2025:00097 (Phường Hồng Hà, Thành phố Hà Nội)": unit names are public.
fn unit_text(unit: UnitRef) -> String {
    match registry().full_name(unit) {
        Some(name) => format!("{unit} ({name})"),
        None => unit.to_string(),
    }
}

/// "01 (Thành phố Hà Nội)".
fn province_text(province: ProvinceCode) -> String {
    match registry().province_name(Scheme::Y2025, province) {
        Some(name) => format!("{province} ({name})"),
        None => province.to_string(),
    }
}

/// Whether an office holding `jurisdiction` is competent for an act at `place`.
///
/// # Errors
/// [`OutsideJurisdiction`] naming the first unit (or province) not covered, or
/// [`OutsideJurisdiction::Undetermined`] for a place the register does not show (also for an
/// `All` or `Any` without units, which [`place`] never builds).
pub fn competent(jurisdiction: &Jurisdiction, place: &Place) -> Result<(), OutsideJurisdiction> {
    match place {
        Place::Unbound => Ok(()),
        Place::All(units) => {
            if units.is_empty() {
                return Err(OutsideJurisdiction::Undetermined);
            }
            match units.iter().find(|unit| !jurisdiction.covers(**unit)) {
                Some(unit) => Err(OutsideJurisdiction::Unit { unit: *unit }),
                None => Ok(()),
            }
        }
        Place::Any(units) => {
            if units.iter().any(|unit| jurisdiction.covers(*unit)) {
                return Ok(());
            }
            match units.first() {
                Some(unit) => Err(OutsideJurisdiction::Unit { unit: *unit }),
                None => Err(OutsideJurisdiction::Undetermined),
            }
        }
        Place::Nationwide => match registry()
            .provinces(Scheme::Y2025)
            .find(|(province, _)| !jurisdiction.provinces.contains(province))
        {
            Some((province, _)) => Err(OutsideJurisdiction::Province { province }),
            None => Ok(()),
        },
        Place::Undetermined => Err(OutsideJurisdiction::Undetermined),
    }
}
