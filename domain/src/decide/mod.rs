//! `decide`: the residence law as a pure function from (state, command, context) to events or a
//! rejection.
//!
//! Why here and nowhere else: every business rule lives in `decide` (the cqrs-es and
//! disintegrate rule), so `evolve` can fold any recorded event without judging it and a replay
//! never depends on today's rules. `decide` reads no clock, does no IO and draws no random
//! numbers: the recording date and the actor come in the [`Context`], new ids in the command.
//!
//! Rules apply as in force on the command's `effective_on` ([`crate::rules`]); acts dated before
//! 2021-07-01 are judged by the rules of 2021-07-01 and carry a warning saying so.
//!
//! One file per procedure group: `person` (recording, PINs, civil status, intake),
//! `permanent`, `temporary`, `deletion` (both deletions, detected grounds, annulment),
//! `household` (split, head, relationship, legacy books, and the head succession every
//! leaving member may need), `declaration` (Art 19, current address, stays, absences, CT07),
//! `place` (restrictions, recoding, reorganisation) and `correction`.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;

use crate::address::Address;
use crate::command::Command;
use crate::context::{Actor, Context};
use crate::event::{Consent, ConsentRole, Event, LegalBasis};
use crate::ids::{DwellingId, HouseholdId, PersonId};
use crate::pin::{Pin, PinWarning, Sex};
use crate::rejection::Rejection;
use crate::rules::LAW_2020_IN_FORCE;
use crate::state::{ApplicationStatus, PersonRecord, State};
use crate::units::{UnitError, UnitRef, registry};

mod correction;
mod declaration;
mod deletion;
mod household;
mod permanent;
mod person;
mod place;
mod temporary;

/// What a command decided: the events to append, in order, and warnings for the officer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// The events, in the order they are appended and folded.
    pub events: Vec<Event>,
    /// Things the law allows but an officer may want to look at.
    pub warnings: Vec<Warning>,
}

/// Something odd that the law allows, returned beside the events, never as a rejection.
///
/// Wire form: an object tagged by its stable code, e.g.
/// `{"code":"pin_unknown_prefix","person":"…","pin":"…","prefix":999}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Warning {
    /// The PIN's first three digits are not one of the 63 province codes (perhaps a country
    /// code of a birth registered abroad).
    PinUnknownPrefix {
        /// The person.
        person: PersonId,
        /// The PIN.
        pin: Pin,
        /// The prefix.
        prefix: u16,
    },
    /// The PIN's century digit encodes another sex than the recorded one (possible after a
    /// re-determination of sex).
    PinSexMismatch {
        /// The person.
        person: PersonId,
        /// The PIN.
        pin: Pin,
        /// The sex the PIN encodes.
        encoded: Sex,
        /// The recorded sex.
        recorded: Sex,
    },
    /// After a civil-status adjustment the PIN encodes another birth year: the population
    /// database should re-establish it.
    PinNoLongerMatches {
        /// The person.
        person: PersonId,
        /// The PIN.
        pin: Pin,
        /// The adjusted birth year.
        birth_year: i32,
    },
    /// The adjustment was filed more than 30 days after the civil-status decision (an
    /// administrative offence, not a ground for refusal).
    CivilStatusFiledLate {
        /// The person.
        person: PersonId,
        /// The decision's date.
        decided_on: NaiveDate,
        /// The filing day.
        filed_on: NaiveDate,
    },
    /// The decision leaves the household head vacant until the members or a court name a head.
    HouseholdHeadVacated {
        /// The household.
        household: HouseholdId,
    },
    /// The act is dated before 2021-07-01 and was judged by the rules of 2021-07-01.
    #[serde(rename = "judged_by_rules_of_2021_07_01")]
    JudgedByRulesOf2021 {
        /// The act's date.
        effective_on: NaiveDate,
    },
}

impl Warning {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PinUnknownPrefix { .. } => "pin_unknown_prefix",
            Self::PinSexMismatch { .. } => "pin_sex_mismatch",
            Self::PinNoLongerMatches { .. } => "pin_no_longer_matches",
            Self::CivilStatusFiledLate { .. } => "civil_status_filed_late",
            Self::HouseholdHeadVacated { .. } => "household_head_vacated",
            Self::JudgedByRulesOf2021 { .. } => "judged_by_rules_of_2021_07_01",
        }
    }

    /// The message in English.
    pub fn message_en(&self) -> String {
        match self {
            Self::PinUnknownPrefix { pin, prefix, .. } => {
                format!("personal identification number {pin} has the unknown prefix {prefix:03}")
            }
            Self::PinSexMismatch { pin, .. } => {
                format!("personal identification number {pin} encodes another sex than recorded")
            }
            Self::PinNoLongerMatches {
                pin, birth_year, ..
            } => format!(
                "personal identification number {pin} does not encode birth year {birth_year}"
            ),
            Self::CivilStatusFiledLate {
                decided_on,
                filed_on,
                ..
            } => {
                format!("filed on {filed_on}, more than 30 days after the decision of {decided_on}")
            }
            Self::HouseholdHeadVacated { household } => {
                format!("household {household} is left without a head")
            }
            Self::JudgedByRulesOf2021 { effective_on } => {
                format!("the act of {effective_on} is judged by the rules in force on 2021-07-01")
            }
        }
    }

    /// The message in Vietnamese.
    pub fn message_vi(&self) -> String {
        match self {
            Self::PinUnknownPrefix { pin, prefix, .. } => {
                format!(
                    "số định danh cá nhân {pin} có mã nơi đăng ký khai sinh {prefix:03} không xác định"
                )
            }
            Self::PinSexMismatch { pin, .. } => {
                format!("số định danh cá nhân {pin} mang giới tính khác với giới tính đã ghi nhận")
            }
            Self::PinNoLongerMatches {
                pin, birth_year, ..
            } => format!("số định danh cá nhân {pin} không mang năm sinh {birth_year}"),
            Self::CivilStatusFiledLate {
                decided_on,
                filed_on,
                ..
            } => format!("nộp ngày {filed_on}, quá 30 ngày kể từ quyết định ngày {decided_on}"),
            Self::HouseholdHeadVacated { household } => {
                format!("hộ {household} không còn chủ hộ")
            }
            Self::JudgedByRulesOf2021 { effective_on } => {
                format!(
                    "việc ngày {effective_on} được xét theo quy định có hiệu lực ngày 01/07/2021"
                )
            }
        }
    }

    fn from_pin(person: PersonId, pin: Pin, warning: PinWarning) -> Self {
        match warning {
            PinWarning::SexMismatch { encoded, recorded } => Self::PinSexMismatch {
                person,
                pin,
                encoded,
                recorded,
            },
            PinWarning::UnknownPrefix { prefix } => Self::PinUnknownPrefix {
                person,
                pin,
                prefix,
            },
        }
    }
}

/// The decision under construction.
#[derive(Debug, Default)]
struct Out {
    events: Vec<Event>,
    warnings: Vec<Warning>,
}

impl Out {
    fn push(&mut self, event: impl Into<Event>) {
        self.events.push(event.into());
    }

    fn warn(&mut self, warning: Warning) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }
}

/// Decides a command against the state folded from the events of its read tags.
///
/// # Errors
/// The [`Rejection`] of the first rule the command breaks; nothing is to be appended then.
pub fn decide(state: &State, command: &Command, ctx: &Context) -> Result<Decision, Rejection> {
    if let Some(effective_on) = command.effective_on() {
        not_future(effective_on, ctx)?;
    }
    authorise(command, ctx)?;
    check_application(state, command)?;
    let mut out = Out::default();
    match command {
        Command::RecordPerson(c) => person::record_person(state, c, ctx, &mut out),
        Command::ReassignPin(c) => person::reassign_pin(state, c, &mut out),
        Command::AdjustCivilStatus(c) => person::adjust_civil_status(state, c, &mut out),
        Command::ReceiveApplication(c) => person::receive_application(state, c, &mut out),
        Command::RequestCompletion(c) => person::request_completion(state, c, &mut out),
        Command::RefuseApplication(c) => person::refuse_application(state, c, &mut out),
        Command::RegisterPermanent(c) => permanent::register(state, c, &mut out),
        Command::RegisterTemporary(c) => temporary::register(state, c, &mut out),
        Command::ExtendTemporary(c) => temporary::extend(state, c, &mut out),
        Command::DeletePermanent(c) => deletion::delete_permanent(state, c, &mut out),
        Command::DeleteTemporary(c) => deletion::delete_temporary(state, c, &mut out),
        Command::RecordDeletionGround(c) => deletion::record_ground(state, c, ctx, &mut out),
        Command::AnnulRegistration(c) => deletion::annul(state, c, ctx, &mut out),
        Command::SplitHousehold(c) => household::split(state, c, &mut out),
        Command::ChangeHead(c) => household::change_head(state, c, &mut out),
        Command::ChangeMemberRelationship(c) => household::change_relationship(state, c, &mut out),
        Command::RevokeLegacyBook(c) => household::revoke_book(state, c, &mut out),
        Command::DeclareCurrentResidence(c) => declaration::declare(state, c, &mut out),
        Command::RefuseResidenceDeclaration(c) => declaration::refuse(state, c, &mut out),
        Command::UpdateCurrentAddress(c) => declaration::update_address(state, c, &mut out),
        Command::NotifyStay(c) => declaration::notify_stay(state, c, &mut out),
        Command::DeclareTemporaryAbsence(c) => declaration::absence(state, c, &mut out),
        Command::IssueResidenceConfirmation(c) => declaration::confirm(state, c, &mut out),
        Command::RecordDwellingRestriction(c) => place::restrict(state, c, &mut out),
        Command::LiftDwellingRestriction(c) => place::lift(state, c, &mut out),
        Command::RecodeAddress(c) => place::recode(state, c, &mut out),
        Command::ApplyReorganisation(_) => place::reorganise(state, ctx, &mut out),
        Command::CorrectEvent(c) => correction::correct(state, c, &mut out),
    }?;
    if let Some(effective_on) = command.effective_on()
        && effective_on < LAW_2020_IN_FORCE
    {
        out.warn(Warning::JudgedByRulesOf2021 { effective_on });
    }
    Ok(Decision {
        events: out.events,
        warnings: out.warnings,
    })
}

/// No act takes effect after the recording date.
fn not_future(effective_on: NaiveDate, ctx: &Context) -> Result<(), Rejection> {
    if effective_on > ctx.today {
        return Err(Rejection::EffectiveDateInFuture {
            effective_on,
            today: ctx.today,
        });
    }
    Ok(())
}

/// Whether `actor` may record `command` at all, whatever the register holds: the population
/// database records persons and PINs (an officer may also record a person), timers detect
/// grounds, offices record every act of a residence office; an import may record anything.
///
/// It reads the command alone (its procedure, and for a detected ground its source, for an
/// annulment the deciding authority), never the state, so a caller can ask it before anything
/// is read or decided: [`decide`] refuses with `actor_not_authorised` exactly when this is
/// `false`, and the HTTP API refuses such a caller with 403 before deciding.
pub fn may_record(command: &Command, actor: Actor) -> bool {
    use crate::event::{AnnulmentAuthority, DetectionSource};
    match (command, actor) {
        (_, Actor::Import) => true,
        (Command::RecordPerson(_), actor) => {
            matches!(actor, Actor::PopulationDatabase) || actor.is_office()
        }
        (Command::ReassignPin(_), actor) => actor == Actor::PopulationDatabase,
        (Command::RecordDeletionGround(c), actor) => match c.source {
            DetectionSource::Timer => actor == Actor::RegisterTimer || actor.is_office(),
            DetectionSource::PopulationDatabase => {
                actor == Actor::PopulationDatabase || actor.is_office()
            }
            DetectionSource::Report => actor.is_office(),
        },
        (Command::AnnulRegistration(c), actor) => match c.decided_by {
            AnnulmentAuthority::RegisteringOffice => actor.is_office(),
            AnnulmentAuthority::DirectSuperior => actor == Actor::SuperiorOfficer,
        },
        (_, actor) => actor.is_office(),
    }
}

/// Refuses an actor who may not record the command ([`may_record`]).
fn authorise(command: &Command, ctx: &Context) -> Result<(), Rejection> {
    if may_record(command, ctx.actor) {
        Ok(())
    } else {
        Err(Rejection::ActorNotAuthorised {
            actor: ctx.actor,
            command: command.name(),
        })
    }
}

/// A command answering an application needs an open application for its procedure.
fn check_application(state: &State, command: &Command) -> Result<(), Rejection> {
    let (Some(application), Some(procedure)) = (command.application(), command.procedure()) else {
        return Ok(());
    };
    let record = state
        .application(application)
        .ok_or(Rejection::ApplicationUnknown { application })?;
    if record.status != ApplicationStatus::Open {
        return Err(Rejection::ApplicationClosed { application });
    }
    if record.procedure != procedure {
        return Err(Rejection::ApplicationProcedureMismatch {
            application,
            applied_for: record.procedure,
            command: procedure,
        });
    }
    Ok(())
}

/// I7: the person was recorded from the population database.
fn recorded(state: &State, person: PersonId) -> Result<&PersonRecord, Rejection> {
    state
        .person(person)
        .filter(|record| record.recorded)
        .ok_or(Rejection::PersonNotRecorded { person })
}

/// The person is recorded and alive on `date`.
fn living(state: &State, person: PersonId, date: NaiveDate) -> Result<&PersonRecord, Rejection> {
    let record = recorded(state, person)?;
    if let Some(died_on) = record.death_known_on()
        && died_on <= date
    {
        return Err(Rejection::PersonDeceased { person, died_on });
    }
    Ok(record)
}

/// A term through `until` ends before the person's recorded death (a backdated registration or
/// extension must not outlive them).
fn outlives(person: PersonId, record: &PersonRecord, until: NaiveDate) -> Result<(), Rejection> {
    match record.death_known_on() {
        Some(died_on) if died_on <= until => Err(Rejection::PersonDeceased { person, died_on }),
        _ => Ok(()),
    }
}

/// The unit of `address` exists and is valid on `date`.
fn unit_valid(address: &Address, date: NaiveDate) -> Result<(), Rejection> {
    registry()
        .valid_on(address.unit, date)
        .map(|_| ())
        .map_err(|error| match error {
            UnitError::Unknown(unit) => Rejection::UnitUnknown { unit },
            UnitError::NotValidOn { unit, date } => Rejection::UnitNotValidOnDate { unit, date },
        })
}

/// The unit an address belongs to on `date` (a legacy unit after the reorganisation reads as
/// its default successor), for comparing communes across schemes.
fn commune_on(unit: UnitRef, date: NaiveDate) -> UnitRef {
    registry().on_date(unit, date).unwrap_or(unit)
}

/// Whether two units are the same commune on `date`, or `given` is one of the wards a divided
/// legacy `recorded` unit went into.
fn same_commune(recorded: UnitRef, given: UnitRef, date: NaiveDate) -> bool {
    if commune_on(recorded, date) == commune_on(given, date) {
        return true;
    }
    recorded.scheme == crate::units::Scheme::Legacy
        && given.scheme == crate::units::Scheme::Y2025
        && registry()
            .successors(recorded.code)
            .iter()
            .any(|row| row.code == given.code)
}

/// The dwelling, when the register knows it, is at `address` on `date` (same street line, and
/// the same commune or a successor of its legacy commune).
fn dwelling_at(
    state: &State,
    dwelling: DwellingId,
    address: &Address,
    date: NaiveDate,
) -> Result<(), Rejection> {
    let Some(recorded) = state.dwelling(dwelling).and_then(|d| d.address_on(date)) else {
        return Ok(());
    };
    if recorded.street == address.street && same_commune(recorded.unit, address.unit, date) {
        Ok(())
    } else {
        Err(Rejection::DwellingAddressMismatch {
            dwelling,
            recorded: recorded.clone(),
            given: address.clone(),
        })
    }
}

/// The address of a registration made at `registered` on `since` at `dwelling`, as shown on
/// `date` (with the dwelling's later recodings).
fn address_of(
    state: &State,
    dwelling: DwellingId,
    registered: &Address,
    since: NaiveDate,
    date: NaiveDate,
) -> Address {
    state.shown_address(dwelling, registered, since, date)
}

/// A consent in `role` is among `consents`.
fn require_consent(consents: &[Consent], role: ConsentRole) -> Result<(), Rejection> {
    if consents.iter().any(|consent| consent.role == role) {
        Ok(())
    } else {
        Err(Rejection::ConsentMissing { role })
    }
}

/// A consent in `role` given by a named person is given by `holder`.
fn consent_by(consents: &[Consent], role: ConsentRole, holder: PersonId) -> Result<(), Rejection> {
    for consent in consents.iter().filter(|consent| consent.role == role) {
        if let Some(given) = consent.person
            && given != holder
        {
            return Err(Rejection::ConsentByWrongPerson {
                role,
                expected: holder,
                given,
            });
        }
    }
    Ok(())
}

/// The legal basis given, or the default text.
fn basis_or(given: Option<&LegalBasis>, default: &str) -> LegalBasis {
    given.cloned().unwrap_or_else(|| {
        LegalBasis::parse(default).expect("default legal basis texts are valid constants")
    })
}

/// A period's last day is not before its first.
fn period(from: NaiveDate, until: NaiveDate) -> Result<(), Rejection> {
    if until < from {
        Err(Rejection::PeriodInvalid { from, until })
    } else {
        Ok(())
    }
}

/// The persons among `candidates` that are unique, and those repeated.
fn split_duplicates(
    candidates: impl IntoIterator<Item = PersonId>,
) -> (BTreeSet<PersonId>, Vec<PersonId>) {
    let mut seen = BTreeSet::new();
    let mut repeated = Vec::new();
    for person in candidates {
        if !seen.insert(person) {
            repeated.push(person);
        }
    }
    (seen, repeated)
}
