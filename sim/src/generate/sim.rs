//! The simulation: day by day from 2015-01-01 to `until`, the initial population first, then
//! life. Every command is decided by the domain's `decide` on the register's own history
//! ([`Engine`]) before it is written; a refused command is not written and is counted as a
//! generator bug (the tests require none).
//!
//! Processes run by thinning: each day a process draws its expected number of candidates (the
//! living population times its highest yearly rate, over 365) and accepts each with its own
//! rate over that highest rate, so the expected count of each event is the sum of the
//! individual rates without visiting every person every day.
//!
//! Yearly rates (sources in comments beside each): mortality by age, fertility of married women
//! by age, first marriages, permanent moves, temporary registrations (students and workers),
//! stays, absences (military service, work abroad), confirmations, household splits and head
//! handovers, and a few civil-status adjustments, PIN re-establishments and settlements abroad.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::ops::Range;

use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use residence_domain::address::Address;
use residence_domain::command::{
    AdjustCivilStatus, ApplyReorganisation, ChangeHead, Command, CorrectEvent,
    DeclareTemporaryAbsence, DeletePermanent, DeleteTemporary, ExtendTemporary, HeadSuccession,
    HouseholdChoice, IssueResidenceConfirmation, NotifyStay, ReassignPin, RecodeAddress,
    RecordDeletionGround, RecordPerson, RegisterPermanent, RegisterTemporary, Requester,
    SplitConsent, SplitHousehold, UpdateCurrentAddress,
};
use residence_domain::context::{Actor, Context};
use residence_domain::event::{
    AbsenceClause, AuthorityName, CivilStatusChanges, Consent, ConsentRole, DecisionRef,
    DeletionGround, DetectionSource, DocumentNumber, Event, EventEnvelope, FloorArea, Guest,
    IdentityDocument, MemberRelationship, NotifierKind, PermanentBasis, PinReassignmentReason,
    PlaceText, Reason, RecodingCause, RegistrationKind,
};
use residence_domain::grounds::{PermanentDeletionGround, TemporaryDeletionGround};
use residence_domain::ids::CertificateId;
use residence_domain::pin::Sex;
use residence_domain::relationship::Relationship;
use residence_domain::rules::{
    ADULT_AGE_YEARS, floor_area_minimum, join_clause, temporary_until_max,
};
use residence_domain::tag::Tag;
use residence_domain::units::{Conversion, REORGANISATION_DATE, Scheme, UnitRef, registry};
use residence_ledger::record::Timestamp;

use super::households::{self, Plan};
use super::names::{family_name, full_name};
use super::pins::PinBook;
use super::places::{self, Places, Trip};
use super::population::{Ix, Model, Person, dwelling_id, household_id, person_id};
use super::stats::Counters;
use residence_register::codec;
use residence_register::import::Line;
use residence_register::import::time::{
    OFFICE_SPAN_MICROS, minus_days, office_opens, plus_days, plus_months,
};
use residence_register::memory::Engine;
use residence_register::request::{Recorder, RequestIds};

/// The first simulated day.
pub const START: NaiveDate = match NaiveDate::from_ymd_opt(2015, 1, 1) {
    Some(date) => date,
    None => panic!("2015-01-01 is a date"),
};

/// Persons loaded per day of the initial migration (at most [`LOAD_DAYS_MAX`] days).
const LOAD_PERSONS_PER_DAY: u64 = 50_000;
/// The initial load takes at most this many days (January 2015).
pub const LOAD_DAYS_MAX: u64 = 28;

// Yearly rates, as the highest rate of each thinned process.

/// Mortality: the highest age-specific rate (85 and over), see [`mortality`].
const DEATH_RATE_MAX: f64 = 0.14;
/// Fertility of married women: the highest age-specific rate, see [`fertility`].
const BIRTH_RATE_MAX: f64 = 0.31;
/// First marriages of single women aged 20–34, see [`marriage`].
const MARRIAGE_RATE_MAX: f64 = 0.20;
/// Permanent moves of adults (a mover takes spouse and minor children along).
const MOVE_RATE: f64 = 0.011;
/// Household splits by married children living with their parents.
const SPLIT_RATE: f64 = 0.06;
/// Handover of the head's post by heads aged 65 and over to an adult child.
const HANDOVER_RATE: f64 = 0.04;
/// Temporary registrations (students and workers aged 18–40), see [`temporary_weight`].
const TEMPORARY_RATE_MAX: f64 = 0.09;
/// Stays notified, per person.
const STAY_RATE: f64 = 0.03;
/// Absences: the thinning rate of the two absence processes.
const ABSENCE_RATE_MAX: f64 = 0.03;
/// Residence confirmations (CT07), per adult.
const CONFIRMATION_RATE: f64 = 0.01;
/// Name changes after a civil-status decision.
const CIVIL_STATUS_RATE: f64 = 0.000_3;
/// PINs re-established after a data-entry error.
const PIN_REASSIGNMENT_RATE: f64 = 0.000_03;
/// Settlement abroad (permanent registration deleted on ground b).
const EMIGRATION_RATE: f64 = 0.000_8;
/// Moves within the commune (current address updated, no new registration).
const ADDRESS_UPDATE_RATE: f64 = 0.002;
/// Share of permanent moves registered late (effective in the past, Art 22.4 gives 12 months).
const LATE_SHARE: f64 = 0.12;
/// Share of single-event registrations corrected later (a wrong date entered).
const CORRECTION_SHARE: f64 = 0.02;
/// Share of dwellings in divided legacy wards that officers recode in the second half of 2025.
const RECODE_SHARE: f64 = 0.6;

/// Mortality by age, per year: a rough reading of Vietnam's life table (GSO 2019: life
/// expectancy 73.6 years; infant mortality about 14 per 1,000; crude death rate 6.3 per 1,000).
fn mortality(age: u32) -> f64 {
    match age {
        0 => 0.014,
        1..=4 => 0.001,
        5..=14 => 0.000_4,
        15..=29 => 0.000_9,
        30..=44 => 0.001_8,
        45..=54 => 0.004,
        55..=64 => 0.009,
        65..=74 => 0.022,
        75..=84 => 0.06,
        _ => 0.14,
    }
}

/// Births per married woman and year by age: shaped like the 2019 census age-specific
/// fertility (total fertility 2.09, peak at 25–29), applied to married women.
fn fertility(age: u32) -> f64 {
    match age {
        18..=19 => 0.09,
        20..=24 => 0.27,
        25..=29 => 0.31,
        30..=34 => 0.20,
        35..=39 => 0.09,
        40..=45 => 0.02,
        _ => 0.0,
    }
}

/// First marriages per single woman and year by age (median age at first marriage about 25
/// for women, 2019 census).
fn marriage(age: u32) -> f64 {
    match age {
        18..=19 => 0.04,
        20..=24 => 0.20,
        25..=29 => 0.20,
        30..=34 => 0.08,
        _ => 0.0,
    }
}

/// The weight of starting a temporary registration by age (students 18–22, workers to 40).
fn temporary_weight(age: u32) -> f64 {
    match age {
        18..=22 => 1.0,
        23..=30 => 0.8,
        31..=40 => 0.4,
        _ => 0.0,
    }
}

/// Scheduled work.
#[derive(Debug, Clone)]
enum Task {
    /// The birth is registered: the person is recorded from the population database.
    RecordBirth { child: Ix },
    /// The newborn's residence is registered at a parent's household.
    RegisterNewborn { child: Ix, attempts: u8 },
    /// A death reaches the register: ground detected, registration deleted ex officio.
    ReportDeath { person: Ix },
    /// The members of a head-vacant household name a new head.
    NameHead { household: Ix, attempts: u8 },
    /// A temporary term nears its end: extend, leave early, or let it run out.
    ReviewTemporary { person: Ix, until: NaiveDate },
    /// A temporary term ended by itself (no event; the model follows the register).
    ExpireTemporary { person: Ix },
    /// An officer recodes a dwelling of a divided legacy ward.
    Recode { dwelling: Ix },
    /// An officer corrects the date of a registration entered wrongly.
    Correct { person: Ix, position: u64 },
}

/// A command decided today, waiting for its recording time.
#[derive(Debug)]
struct Pending {
    request_id: String,
    recorder: Recorder,
    command: Command,
}

/// The simulation state.
pub struct Sim<'w> {
    rng: ChaCha8Rng,
    today: NaiveDate,
    until: NaiveDate,
    persons_wanted: u64,
    /// The model of the population (life facts and register facts).
    pub model: Model,
    /// The register's history.
    pub engine: Engine,
    places: Places,
    pins: PinBook,
    agenda: BTreeMap<NaiveDate, Vec<Task>>,
    pending: Vec<Pending>,
    out: &'w mut dyn Write,
    lines: u64,
    certificates: u64,
    loaded: u64,
    load_days: u64,
    load_end: NaiveDate,
    /// Counters for the statistics.
    pub counters: Counters,
}

impl std::fmt::Debug for Sim<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("today", &self.today)
            .field("persons", &self.model.persons.len())
            .field("lines", &self.lines)
            .finish_non_exhaustive()
    }
}

fn owner() -> Consent {
    Consent {
        role: ConsentRole::DwellingOwner,
        person: None,
    }
}

fn head_consent(head: Ix) -> Consent {
    Consent {
        role: ConsentRole::HouseholdHead,
        person: Some(person_id(head)),
    }
}

fn parent_consent() -> Consent {
    Consent {
        role: ConsentRole::ParentOrGuardian,
        person: None,
    }
}

fn text<T>(parse: impl Fn(&str) -> Result<T, residence_domain::address::TextError>, s: &str) -> T {
    parse(s).expect("generated texts are short plain text")
}

fn unit_label(unit: UnitRef) -> String {
    format!("{}-{}", unit.scheme.as_str(), unit.code)
}

/// An officer of the commune police of `unit`.
fn officer(unit: UnitRef) -> Recorder {
    Recorder {
        actor: Actor::Officer,
        actor_id: format!("officer-{}", unit_label(unit)),
        office: Some(format!("CA-{}", unit_label(unit))),
    }
}

/// The population database's data-sharing feed.
fn population_database() -> Recorder {
    Recorder {
        actor: Actor::PopulationDatabase,
        actor_id: "npd-feed".to_owned(),
        office: None,
    }
}

/// The migration of legacy paper books into the register (January 2015).
fn legacy_import(unit: UnitRef) -> Recorder {
    Recorder {
        actor: Actor::Import,
        actor_id: "legacy-books".to_owned(),
        office: Some(format!("CA-{}", unit_label(unit))),
    }
}

impl<'w> Sim<'w> {
    /// A simulation of `persons` initial persons from `seed`, writing lines to `out`.
    pub fn new(persons: u64, seed: u64, until: NaiveDate, out: &'w mut dyn Write) -> Self {
        let load_days = persons
            .div_ceil(LOAD_PERSONS_PER_DAY)
            .clamp(1, LOAD_DAYS_MAX);
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            today: START,
            until,
            persons_wanted: persons,
            model: Model::default(),
            engine: Engine::new(),
            places: Places::new(),
            pins: PinBook::default(),
            agenda: BTreeMap::new(),
            pending: Vec::new(),
            out,
            lines: 0,
            certificates: 0,
            loaded: 0,
            load_days,
            load_end: plus_days(START, load_days),
            counters: Counters::default(),
        }
    }

    /// The number of days the initial load takes.
    pub fn load_days(&self) -> u64 {
        self.load_days
    }

    // ---------------------------------------------------------------------------------------
    // Randomness.

    fn chance(&mut self, probability: f64) -> bool {
        self.rng.random_bool(probability.clamp(0.0, 1.0))
    }

    fn range(&mut self, range: Range<u64>) -> u64 {
        if range.is_empty() {
            range.start
        } else {
            self.rng.random_range(range)
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            let index = self.rng.random_range(0..items.len());
            items.get(index).copied()
        }
    }

    /// The number of candidates a process with highest yearly rate `rate` draws today: the
    /// expected number, rounded up or down at random so the mean is exact. Only exact
    /// arithmetic is used (no `exp`, `ln`, `cos`, whose last bits may differ between C
    /// libraries), so the same seed gives the same bytes on every machine.
    fn trials(&mut self, rate: f64) -> u64 {
        let expected = self.model.living.len() as f64 * rate / 365.0;
        let whole = expected.floor();
        let extra = u64::from(self.rng.random::<f64>() < expected - whole);
        whole as u64 + extra
    }

    /// A random living person.
    fn anyone(&mut self) -> Option<Ix> {
        let living = &self.model.living;
        if living.is_empty() {
            return None;
        }
        let index = self.rng.random_range(0..living.len());
        living.get(index).copied()
    }

    fn schedule(&mut self, date: NaiveDate, task: Task) {
        if date <= self.until {
            self.agenda.entry(date).or_default().push(task);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Recording.

    /// Decides `command` on the register's history; when accepted, records its events, folds
    /// them into the model and queues the line. Returns the positions of the events.
    fn submit(&mut self, recorder: Recorder, command: Command) -> Option<Range<u64>> {
        let context = Context::new(self.today, recorder.actor);
        let decision = match self.engine.decide(&command, &context) {
            Ok(decision) => decision,
            Err(rejection) => {
                self.counters.rejected(command.name(), rejection.code());
                tracing::debug!(
                    today = %self.today,
                    code = rejection.code(),
                    "generator bug: {} refused: {}; {}",
                    command.name(),
                    rejection.message_en(),
                    serde_json::to_string(&command).unwrap_or_default()
                );
                return None;
            }
        };
        self.lines += 1;
        let request_id = format!("gen-{}", self.lines);
        let ids = RequestIds::derive(&recorder.actor_id, &request_id)
            .expect("generated request ids are short and not empty");
        let start = self.engine.len();
        self.counters
            .accepted(command.name(), &decision.events, self.today);
        for (index, event) in decision.events.into_iter().enumerate() {
            self.model.apply(&event);
            self.engine
                .append(codec::domain_event_id(ids.event_id(index)), event);
        }
        self.pending.push(Pending {
            request_id,
            recorder,
            command,
        });
        Some(start..self.engine.len())
    }

    /// Writes the day's lines with recording times spread over office hours.
    fn flush_day(&mut self) -> io::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        let count = i64::try_from(pending.len()).unwrap_or(i64::MAX).max(1);
        let step = (OFFICE_SPAN_MICROS / count).max(1);
        let opens = office_opens(self.today).micros();
        for (index, line) in pending.into_iter().enumerate() {
            let jitter = self.rng.random_range(0..step);
            let at = opens + i64::try_from(index).unwrap_or(i64::MAX) * step + jitter;
            let line = Line {
                recorded_at: Timestamp(at),
                request_id: line.request_id,
                actor: line.recorder.actor,
                actor_id: line.recorder.actor_id,
                office: line.recorder.office,
                command: line.command,
            };
            line.write(&mut self.out)?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // The day loop.

    /// Runs the simulation through `until`, calling `progress` after each day.
    ///
    /// # Errors
    /// Writing the output failed.
    pub fn run(&mut self, progress: &mut dyn FnMut(NaiveDate)) -> io::Result<()> {
        let mut day = START;
        let mut index = 0_u64;
        while day <= self.until {
            self.today = day;
            if index < self.load_days {
                self.load(index);
            }
            if day == REORGANISATION_DATE {
                self.reorganise();
            }
            self.run_agenda();
            if index >= self.load_days {
                self.live();
            }
            self.flush_day()?;
            progress(day);
            index += 1;
            day = plus_days(day, 1);
        }
        Ok(())
    }

    fn run_agenda(&mut self) {
        let Some(tasks) = self.agenda.remove(&self.today) else {
            return;
        };
        for task in tasks {
            match task {
                Task::RecordBirth { child } => self.record_birth(child),
                Task::RegisterNewborn { child, attempts } => self.register_newborn(child, attempts),
                Task::ReportDeath { person } => self.report_death(person),
                Task::NameHead {
                    household,
                    attempts,
                } => self.name_head(household, attempts),
                Task::ReviewTemporary { person, until } => self.review_temporary(person, until),
                Task::ExpireTemporary { person } => {
                    self.model.expire_temporary(person, self.today);
                }
                Task::Recode { dwelling } => self.recode(dwelling),
                Task::Correct { person, position } => self.correct(person, position),
            }
        }
    }

    fn live(&mut self) {
        for _ in 0..self.trials(DEATH_RATE_MAX) {
            if let Some(person) = self.anyone() {
                let age = self.model.person(person).age(self.today);
                if self.chance(mortality(age) / DEATH_RATE_MAX) {
                    self.die(person);
                }
            }
        }
        for _ in 0..self.trials(BIRTH_RATE_MAX) {
            if let Some(person) = self.anyone() {
                self.maybe_birth(person);
            }
        }
        for _ in 0..self.trials(MARRIAGE_RATE_MAX) {
            if let Some(person) = self.anyone() {
                self.maybe_marry(person);
            }
        }
        for _ in 0..self.trials(MOVE_RATE) {
            if let Some(person) = self.anyone() {
                self.maybe_move(person);
            }
        }
        for _ in 0..self.trials(SPLIT_RATE) {
            if let Some(person) = self.anyone() {
                self.maybe_split(person);
            }
        }
        for _ in 0..self.trials(HANDOVER_RATE) {
            if let Some(person) = self.anyone() {
                self.maybe_hand_over(person);
            }
        }
        for _ in 0..self.trials(TEMPORARY_RATE_MAX) {
            if let Some(person) = self.anyone() {
                self.maybe_temporary(person);
            }
        }
        for _ in 0..self.trials(STAY_RATE) {
            if let Some(person) = self.anyone() {
                self.stay(person);
            }
        }
        for _ in 0..self.trials(ABSENCE_RATE_MAX) {
            if let Some(person) = self.anyone() {
                self.maybe_absence(person);
            }
        }
        for _ in 0..self.trials(CONFIRMATION_RATE) {
            if let Some(person) = self.anyone() {
                self.confirmation(person);
            }
        }
        for _ in 0..self.trials(CIVIL_STATUS_RATE) {
            if let Some(person) = self.anyone() {
                self.civil_status(person);
            }
        }
        for _ in 0..self.trials(PIN_REASSIGNMENT_RATE) {
            if let Some(person) = self.anyone() {
                self.reassign_pin(person);
            }
        }
        for _ in 0..self.trials(EMIGRATION_RATE) {
            if let Some(person) = self.anyone() {
                self.maybe_emigrate(person);
            }
        }
        for _ in 0..self.trials(ADDRESS_UPDATE_RATE) {
            if let Some(person) = self.anyone() {
                self.update_address(person);
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Places and households.

    /// A new dwelling in `unit` for `persons` people.
    fn new_dwelling(&mut self, unit: UnitRef, persons: u32, rental: bool) -> Ix {
        let address = places::address(unit, &mut self.rng);
        let floor = if rental {
            u32::try_from(self.range(150..400)).unwrap_or(200)
        } else {
            // About 25 m² per person (the 2019 census average), never below 20 m² each.
            let base = u64::from(persons.max(1)) * 200 + 200;
            u32::try_from(base + self.range(0..base)).unwrap_or(600)
        };
        self.model.add_dwelling(address, floor, rental)
    }

    /// The unit of `dwelling` on today's map.
    fn unit_now(&self, dwelling: Ix) -> UnitRef {
        self.model.dwelling(dwelling).unit_on(self.today)
    }

    /// Whether the household has a head who is alive.
    fn head_present(&self, household: Ix) -> Option<Ix> {
        self.model
            .household(household)
            .head
            .filter(|head| self.model.person(*head).is_present())
    }

    /// A new head among `candidates`: the old head's spouse if an adult stays, else the eldest
    /// adult, else the eldest; only people alive. `None` when nobody alive can take over, or
    /// when the only adults died and the register does not know it yet (a minor may be head
    /// only when no adult stays, Art 10).
    fn choose_head(&self, candidates: &[Ix], old_head: Option<Ix>) -> Option<Ix> {
        let today = self.today;
        let present: Vec<Ix> = candidates
            .iter()
            .copied()
            .filter(|c| self.model.person(*c).is_present())
            .collect();
        let adult = |c: &Ix| self.model.person(*c).age(today) >= ADULT_AGE_YEARS;
        if !present.iter().any(adult) && candidates.iter().any(adult) {
            return None;
        }
        if let Some(spouse) = old_head.and_then(|h| self.model.person(h).spouse)
            && present.contains(&spouse)
            && adult(&spouse)
        {
            return Some(spouse);
        }
        let eldest = |list: &mut dyn Iterator<Item = Ix>| {
            list.min_by_key(|c| (self.model.person(*c).birth, *c))
        };
        eldest(&mut present.iter().copied().filter(adult))
            .or_else(|| eldest(&mut present.iter().copied()))
    }

    /// Every member of `household` but `head` and `excluded`, with what they are to `head`.
    fn restate(&self, household: Ix, head: Ix, excluded: &[Ix]) -> Vec<MemberRelationship> {
        self.model
            .members(household)
            .iter()
            .map(|(member, _)| *member)
            .filter(|member| *member != head && !excluded.contains(member))
            .map(|member| MemberRelationship {
                person: person_id(member),
                relationship: self.model.kin(member, head),
            })
            .collect()
    }

    /// The head succession when `leaving` leave `household`: `Ok(None)` when the head stays or
    /// nobody stays, `Err(())` when nobody alive could take over.
    fn succession(&self, household: Ix, leaving: &[Ix]) -> Result<Option<HeadSuccession>, ()> {
        let record = self.model.household(household);
        let Some(head) = record.head else {
            return Ok(None);
        };
        if !leaving.contains(&head) {
            return Ok(None);
        }
        let remaining: Vec<Ix> = record
            .members
            .iter()
            .map(|(member, _)| *member)
            .filter(|member| !leaving.contains(member))
            .collect();
        if remaining.is_empty() {
            return Ok(None);
        }
        let new_head = self.choose_head(&remaining, Some(head)).ok_or(())?;
        let mut excluded = leaving.to_vec();
        excluded.push(head);
        Ok(Some(HeadSuccession {
            new_head: person_id(new_head),
            members: self.restate(household, new_head, &excluded),
            court_decision: None,
        }))
    }

    /// A floor area large enough for one more permanent resident of `dwelling` under any
    /// provincial minimum, recorded in the model.
    fn floor_for_one_more(&mut self, dwelling: Ix, date: NaiveDate) -> FloorArea {
        let record = self.model.dwelling(dwelling);
        let minimum = floor_area_minimum(record.address_on(date).unit, date).tenths_per_person;
        let needed = minimum * (record.permanent_residents + 2) + 50;
        let floor = record.floor_tenths.max(needed);
        self.model.dwelling_mut(dwelling).floor_tenths = floor;
        FloorArea::from_tenths(floor.min(FloorArea::TENTHS_MAX))
            .expect("floor areas here are positive and bounded")
    }

    /// `person` registers permanently in household `household` (which has a living head).
    fn join(&mut self, person: Ix, household: Ix, date: NaiveDate, recorder: Recorder) -> bool {
        let Some(head) = self.head_present(household) else {
            return false;
        };
        if self.model.person(person).permanent_floor > date {
            // Registered again on the same day: one registration a day per person.
            return false;
        }
        let dwelling = self.model.household(household).dwelling;
        let relationship = self.model.kin(person, head);
        let age = self.model.person(person).age(date);
        let basis = if join_clause(&relationship, age, None).is_some() {
            PermanentBasis::JoinRelative
        } else {
            PermanentBasis::RentedBorrowedShared
        };
        let floor_area = (basis == PermanentBasis::RentedBorrowedShared)
            .then(|| self.floor_for_one_more(dwelling, date));
        let mut consents = vec![head_consent(head), owner()];
        if age < ADULT_AGE_YEARS {
            consents.push(parent_consent());
        }
        let leaving = self.model.person(person).permanent.map(|p| p.household);
        let head_succession = match leaving {
            Some(left) => match self.succession(left, &[person]) {
                Ok(succession) => succession,
                Err(()) => return false,
            },
            None => None,
        };
        let command = RegisterPermanent {
            person: person_id(person),
            effective_on: date,
            basis,
            address: self.model.dwelling(dwelling).address_on(date),
            dwelling: dwelling_id(dwelling),
            household: HouseholdChoice::Join {
                household: household_id(household),
                relationship,
            },
            leaving_household: leaving.map(household_id),
            head_succession,
            floor_area,
            consents,
            dependency: None,
            court_fixed_residence: None,
            legal_basis: None,
            application: None,
        };
        let accepted = self.submit(recorder, command.into());
        // Paper books migrated in January 2015 were checked more carefully than daily work.
        let share = if self.today < self.load_end {
            CORRECTION_SHARE / 4.0
        } else {
            CORRECTION_SHARE
        };
        if let Some(positions) = &accepted
            && positions.end - positions.start == 1
            && self.chance(share)
        {
            let when = plus_days(self.today, self.range(8..31));
            self.schedule(
                when,
                Task::Correct {
                    person,
                    position: positions.start,
                },
            );
        }
        accepted.is_some()
    }

    /// `person` founds a new permanent household at `dwelling`.
    fn establish(
        &mut self,
        person: Ix,
        dwelling: Ix,
        date: NaiveDate,
        basis: PermanentBasis,
        recorder: Recorder,
    ) -> Option<Ix> {
        if self.model.person(person).permanent_floor > date {
            return None;
        }
        let household = self
            .model
            .add_household(RegistrationKind::Permanent, dwelling);
        let leaving = self.model.person(person).permanent.map(|p| p.household);
        let head_succession = match leaving {
            Some(left) => self.succession(left, &[person]).ok()?,
            None => None,
        };
        let floor_area = (basis == PermanentBasis::RentedBorrowedShared)
            .then(|| self.floor_for_one_more(dwelling, date));
        let mut consents = Vec::new();
        if basis != PermanentBasis::OwnHome {
            consents.push(owner());
        }
        if self.model.person(person).age(date) < ADULT_AGE_YEARS {
            consents.push(parent_consent());
        }
        let command = RegisterPermanent {
            person: person_id(person),
            effective_on: date,
            basis,
            address: self.model.dwelling(dwelling).address_on(date),
            dwelling: dwelling_id(dwelling),
            household: HouseholdChoice::Establish {
                household: household_id(household),
                residence_file_number: None,
            },
            leaving_household: leaving.map(household_id),
            head_succession,
            floor_area,
            consents,
            dependency: None,
            court_fixed_residence: None,
            legal_basis: None,
            application: None,
        };
        self.submit(recorder, command.into()).map(|_| household)
    }

    // ---------------------------------------------------------------------------------------
    // The initial population (January 2015): persons recorded from the population database,
    // their households migrated from the paper books with the dates the books show.

    fn load(&mut self, day_index: u64) {
        let target = self.persons_wanted * (day_index + 1) / self.load_days;
        while self.loaded < target {
            let remaining = usize::try_from(target - self.loaded).unwrap_or(usize::MAX);
            let size = households::size(&mut self.rng).min(remaining);
            let plan = households::plan(size, START, &mut self.rng);
            self.loaded += plan.members.len() as u64;
            self.materialise(&plan);
        }
    }

    fn materialise(&mut self, plan: &Plan) {
        let province = self.places.province(Scheme::Legacy, &mut self.rng);
        let unit = self.places.commune(Scheme::Legacy, province, &mut self.rng);
        let size = u32::try_from(plan.members.len()).unwrap_or(1);
        let dwelling = self.new_dwelling(unit, size, false);
        let head_plan = &plan.members[plan.head];
        let family = family_name(&mut self.rng);
        // Indices of the plan's members in the model.
        let mut ixs: Vec<Ix> = Vec::with_capacity(plan.members.len());
        for member in &plan.members {
            let age = residence_domain::rules::age_on(member.birth, START);
            // Most people were born where they live; adults more often elsewhere.
            let born_here = if age < 15 { 0.95 } else { 0.8 };
            let prefix = if self.chance(born_here) {
                province.get()
            } else {
                self.places.province(Scheme::Legacy, &mut self.rng).get()
            };
            let pin = self
                .pins
                .issue(prefix, member.birth.year(), member.sex, &mut self.rng);
            let name_family = if member.spouse.is_some() && member.sex != head_plan.sex {
                family_name(&mut self.rng)
            } else {
                family
            };
            let name = full_name(name_family, member.sex, &mut self.rng);
            let ix = self.model.add_person(Person::new(
                pin,
                member.sex,
                member.birth,
                name_family,
                name,
            ));
            ixs.push(ix);
        }
        for (member, &ix) in plan.members.iter().zip(&ixs) {
            let person = self.model.person_mut(ix);
            person.father = member.father.map(|i| ixs[i]);
            person.mother = member.mother.map(|i| ixs[i]);
            person.spouse = member.spouse.map(|i| ixs[i]);
        }
        for &ix in &ixs {
            let person = self.model.person(ix).clone();
            if let Some(mother) = person.mother {
                let record = self.model.person_mut(mother);
                record.children = record.children.saturating_add(1);
                record.last_birth = record.last_birth.max(Some(person.birth));
            }
            self.submit(
                population_database(),
                RecordPerson {
                    person: person_id(ix),
                    pin: person.pin,
                    name: person.name,
                    birth_date: person.birth,
                    sex: person.sex,
                }
                .into(),
            );
        }
        let head = ixs[plan.head];
        let head_birth = self.model.person(head).birth;
        let earliest = plus_days(head_birth, 20 * 365).max(ymd(1985, 1, 1));
        let latest = ymd(2014, 12, 31);
        let since = if earliest >= latest {
            latest
        } else {
            let span = u64::try_from((latest - earliest).num_days()).unwrap_or(0);
            plus_days(earliest, self.range(0..span + 1))
        };
        let recorder = legacy_import(unit);
        let Some(household) = self.establish(
            head,
            dwelling,
            since,
            PermanentBasis::OwnHome,
            recorder.clone(),
        ) else {
            return;
        };
        for &ix in &ixs {
            if ix == head {
                continue;
            }
            let birth = self.model.person(ix).birth;
            let date = since.max(plus_days(birth, 30)).min(self.today);
            self.join(ix, household, date, recorder.clone());
        }
    }

    // ---------------------------------------------------------------------------------------
    // Births.

    fn maybe_birth(&mut self, mother: Ix) {
        let today = self.today;
        let woman = self.model.person(mother);
        if woman.sex != Sex::Female || woman.permanent.is_none() || !woman.is_present() {
            return;
        }
        let Some(father) = woman.spouse else {
            return;
        };
        if !self.model.person(father).is_present() {
            return;
        }
        if woman
            .last_birth
            .is_some_and(|last| (today - last).num_days() < 450)
        {
            return;
        }
        let mut rate = fertility(woman.age(today));
        if woman.children >= 2 {
            // The two-child norm: third births are rarer.
            rate *= 0.3;
        }
        let dwelling = woman.permanent.map(|p| p.dwelling).unwrap_or_default();
        if !self.chance(rate / BIRTH_RATE_MAX) {
            return;
        }
        let sex = if self.chance(0.527) {
            // 111.5 boys per 100 girls at birth (2019 census).
            Sex::Male
        } else {
            Sex::Female
        };
        let family = self.model.person(father).family;
        let name = full_name(family, sex, &mut self.rng);
        let prefix = places::province_of(self.unit_now(dwelling), Scheme::on(today)).get();
        let pin = self.pins.issue(prefix, today.year(), sex, &mut self.rng);
        let mut child = Person::new(pin, sex, today, family, name);
        child.father = Some(father);
        child.mother = Some(mother);
        let child = self.model.add_person(child);
        let record = self.model.person_mut(mother);
        record.last_birth = Some(today);
        record.children = record.children.saturating_add(1);
        // The birth is registered within days to weeks (civil status), which issues the PIN.
        let when = plus_days(today, self.range(3..31));
        self.schedule(when, Task::RecordBirth { child });
    }

    fn record_birth(&mut self, child: Ix) {
        let person = self.model.person(child).clone();
        if !person.is_present() {
            return;
        }
        let accepted = self.submit(
            population_database(),
            RecordPerson {
                person: person_id(child),
                pin: person.pin,
                name: person.name,
                birth_date: person.birth,
                sex: person.sex,
            }
            .into(),
        );
        if accepted.is_some() {
            self.counters.year(self.today).births += 1;
            // Residence registration within 60 days of the birth registration (NĐ154).
            let when = plus_days(self.today, self.range(1..45));
            self.schedule(when, Task::RegisterNewborn { child, attempts: 0 });
        }
    }

    fn register_newborn(&mut self, child: Ix, attempts: u8) {
        let person = self.model.person(child).clone();
        if !person.is_present() || person.permanent.is_some() {
            return;
        }
        let parents = [person.mother, person.father];
        let household = parents.into_iter().flatten().find_map(|parent| {
            let parent = self.model.person(parent);
            parent
                .is_present()
                .then_some(parent.permanent)
                .flatten()
                .map(|p| p.household)
                .filter(|h| self.head_present(*h).is_some())
        });
        let Some(household) = household else {
            if attempts < 6 {
                let when = plus_days(self.today, 10);
                self.schedule(
                    when,
                    Task::RegisterNewborn {
                        child,
                        attempts: attempts + 1,
                    },
                );
            }
            return;
        };
        let unit = self.unit_now(self.model.household(household).dwelling);
        self.join(child, household, self.today, officer(unit));
    }

    // ---------------------------------------------------------------------------------------
    // Deaths.

    fn die(&mut self, person: Ix) {
        let today = self.today;
        self.model.person_mut(person).died_on = Some(today);
        self.model.leave_living(person);
        let when = plus_days(today, self.range(1..4));
        self.schedule(when, Task::ReportDeath { person });
    }

    fn report_death(&mut self, person: Ix) {
        let record = self.model.person(person).clone();
        let Some(died_on) = record.died_on else {
            return;
        };
        if let Some(permanent) = record.permanent {
            let unit = self.unit_now(permanent.dwelling);
            self.submit(
                population_database(),
                RecordDeletionGround {
                    person: person_id(person),
                    effective_on: died_on,
                    ground: DeletionGround::Permanent(PermanentDeletionGround::Death),
                    source: DetectionSource::PopulationDatabase,
                    legal_basis: None,
                }
                .into(),
            );
            let accepted = self.submit(
                officer(unit),
                DeletePermanent {
                    person: person_id(person),
                    household: household_id(permanent.household),
                    effective_on: died_on,
                    ground: PermanentDeletionGround::Death,
                    requester: Requester::ExOfficio,
                    head_succession: None,
                    legal_basis: None,
                    application: None,
                }
                .into(),
            );
            if accepted.is_some() {
                self.counters.year(self.today).deaths += 1;
                self.after_head_left(permanent.household);
            }
        } else if let Some(temporary) = record.temporary_on(died_on) {
            let unit = self.unit_now(temporary.dwelling);
            let accepted = self.submit(
                officer(unit),
                DeleteTemporary {
                    person: person_id(person),
                    dwelling: dwelling_id(temporary.dwelling),
                    household: temporary.household.map(household_id),
                    effective_on: died_on,
                    ground: TemporaryDeletionGround::Death,
                    requester: Requester::ExOfficio,
                    head_succession: None,
                    legal_basis: None,
                    application: None,
                }
                .into(),
            );
            if accepted.is_some() {
                self.counters.year(self.today).deaths += 1;
                if let Some(household) = temporary.household {
                    self.after_head_left(household);
                }
            }
        }
    }

    /// Schedules the naming of a new head when the household is left head vacant.
    fn after_head_left(&mut self, household: Ix) {
        let record = self.model.household(household);
        if record.head.is_none() && !record.members.is_empty() {
            let when = plus_days(self.today, self.range(7..46));
            self.schedule(
                when,
                Task::NameHead {
                    household,
                    attempts: 0,
                },
            );
        }
    }

    fn name_head(&mut self, household: Ix, attempts: u8) {
        let record = self.model.household(household);
        if record.head.is_some() || record.members.is_empty() {
            return;
        }
        let members: Vec<Ix> = record.members.iter().map(|(m, _)| *m).collect();
        let Some(new_head) = self.choose_head(&members, None) else {
            if attempts < 6 {
                let when = plus_days(self.today, 30);
                self.schedule(
                    when,
                    Task::NameHead {
                        household,
                        attempts: attempts + 1,
                    },
                );
            }
            return;
        };
        let unit = self.unit_now(record.dwelling);
        let members = self.restate(household, new_head, &[]);
        self.submit(
            officer(unit),
            ChangeHead {
                household: household_id(household),
                effective_on: self.today,
                new_head: person_id(new_head),
                members,
                court_decision: None,
                legal_basis: None,
                application: None,
            }
            .into(),
        );
    }

    // ---------------------------------------------------------------------------------------
    // Marriages, splits and head handovers.

    fn is_single(&self, person: Ix) -> bool {
        self.model
            .person(person)
            .spouse
            .is_none_or(|spouse| !self.model.person(spouse).is_present())
    }

    fn maybe_marry(&mut self, woman: Ix) {
        let today = self.today;
        let record = self.model.person(woman);
        if record.sex != Sex::Female
            || !self.is_single(woman)
            || record.absent_on(today)
            || !record.is_present()
        {
            return;
        }
        let Some(her_home) = record.permanent else {
            return;
        };
        if !self.chance(marriage(record.age(today)) / MARRIAGE_RATE_MAX) {
            return;
        }
        let her_province = places::province_of(self.unit_now(her_home.dwelling), Scheme::on(today));
        let mut husband = None;
        for attempt in 0..120 {
            let Some(candidate) = self.anyone() else {
                break;
            };
            let man = self.model.person(candidate);
            let Some(his_home) = man.permanent else {
                continue;
            };
            if man.sex != Sex::Male
                || !(22..=40).contains(&man.age(today))
                || !self.is_single(candidate)
                || man.absent_on(today)
                || his_home.household == her_home.household
                || self.model.kin(candidate, woman) != Relationship::ONho
            {
                continue;
            }
            let same_province =
                places::province_of(self.unit_now(his_home.dwelling), Scheme::on(today))
                    == her_province;
            // Most couples come from the same province.
            if attempt < 60 && !same_province {
                continue;
            }
            husband = Some(candidate);
            break;
        }
        let Some(husband) = husband else {
            return;
        };
        if [woman, husband]
            .iter()
            .any(|p| self.model.person(*p).permanent_floor > today)
        {
            return;
        }
        self.model.person_mut(woman).spouse = Some(husband);
        self.model.person_mut(husband).spouse = Some(woman);
        self.counters.year(today).marriages += 1;
        let his_household = self
            .model
            .person(husband)
            .permanent
            .map(|p| p.household)
            .unwrap_or_default();
        let roll = self.range(0..100);
        let moved = if roll < 65 && self.head_present(his_household).is_some() {
            // She joins his household (the common, patrilocal case).
            let unit = self.unit_now(self.model.household(his_household).dwelling);
            u64::from(self.join(woman, his_household, today, officer(unit)))
        } else if roll < 90 {
            // They found their own household in a new home near his.
            self.couple_moves_out(husband, woman)
        } else {
            let her_household = her_home.household;
            if self.head_present(her_household).is_some() {
                let unit = self.unit_now(self.model.household(her_household).dwelling);
                u64::from(self.join(husband, her_household, today, officer(unit)))
            } else {
                0
            }
        };
        self.counters.year(today).moves += moved;
    }

    /// A newly married couple founds a household in a new home in the husband's commune or
    /// province; returns how many of them moved.
    fn couple_moves_out(&mut self, husband: Ix, wife: Ix) -> u64 {
        let today = self.today;
        let Some(home) = self.model.person(husband).permanent else {
            return 0;
        };
        let current = self.unit_now(home.dwelling);
        let unit = if self.chance(0.5) {
            current
        } else {
            let province = places::province_of(current, Scheme::on(today));
            self.places
                .commune(Scheme::on(today), province, &mut self.rng)
        };
        let dwelling = self.new_dwelling(unit, 3, false);
        let basis = if self.chance(0.6) {
            PermanentBasis::OwnHome
        } else {
            PermanentBasis::RentedBorrowedShared
        };
        let Some(household) = self.establish(husband, dwelling, today, basis, officer(unit)) else {
            return 0;
        };
        1 + u64::from(self.join(wife, household, today, officer(unit)))
    }

    fn maybe_split(&mut self, person: Ix) {
        let today = self.today;
        let record = self.model.person(person);
        if record.sex != Sex::Male || record.age(today) < 22 || !record.is_present() {
            return;
        }
        let (Some(wife), Some(home)) = (record.spouse, record.permanent) else {
            return;
        };
        let household = home.household;
        let Some(head) = self.head_present(household) else {
            return;
        };
        let wife_record = self.model.person(wife);
        if head == person
            || head == wife
            || !wife_record.is_present()
            || wife_record.permanent.map(|p| p.household) != Some(household)
        {
            return;
        }
        let members = self.model.members(household);
        let moving: Vec<Ix> = members
            .iter()
            .map(|(m, _)| *m)
            .filter(|m| {
                *m != head
                    && (*m == wife || {
                        let child = self.model.person(*m);
                        child.father == Some(person) && child.is_present()
                    })
            })
            .collect();
        if members.len() <= moving.len() + 1 {
            return;
        }
        let dwelling = self.model.household(household).dwelling;
        let new_household = self
            .model
            .add_household(RegistrationKind::Permanent, dwelling);
        let unit = self.unit_now(dwelling);
        let members: Vec<MemberRelationship> = moving
            .iter()
            .map(|m| MemberRelationship {
                person: person_id(*m),
                relationship: self.model.kin(*m, person),
            })
            .collect();
        self.submit(
            officer(unit),
            SplitHousehold {
                household: household_id(household),
                new_household: household_id(new_household),
                dwelling: dwelling_id(dwelling),
                effective_on: today,
                new_head: person_id(person),
                members,
                consent: SplitConsent::Consented,
                consents: vec![head_consent(head), owner()],
                old_household_succession: None,
                residence_file_number: None,
                legal_basis: None,
                application: None,
            }
            .into(),
        );
    }

    fn maybe_hand_over(&mut self, person: Ix) {
        let today = self.today;
        let record = self.model.person(person);
        if record.age(today) < 65 || !record.is_present() {
            return;
        }
        let Some(home) = record.permanent else {
            return;
        };
        let household = home.household;
        if self.model.household(household).head != Some(person) {
            return;
        }
        let successor = self
            .model
            .members(household)
            .iter()
            .map(|(m, _)| *m)
            .filter(|m| {
                let child = self.model.person(*m);
                (child.father == Some(person) || child.mother == Some(person))
                    && child.is_present()
                    && child.age(today) >= 25
            })
            .min_by_key(|m| {
                let child = self.model.person(*m);
                (child.sex != Sex::Male, child.birth, *m)
            });
        let Some(successor) = successor else {
            return;
        };
        let unit = self.unit_now(home.dwelling);
        let members = self.restate(household, successor, &[]);
        self.submit(
            officer(unit),
            ChangeHead {
                household: household_id(household),
                effective_on: today,
                new_head: person_id(successor),
                members,
                court_decision: None,
                legal_basis: None,
                application: None,
            }
            .into(),
        );
    }

    // ---------------------------------------------------------------------------------------
    // Permanent moves.

    fn maybe_move(&mut self, person: Ix) {
        let today = self.today;
        let record = self.model.person(person);
        if !(18..=70).contains(&record.age(today))
            || !record.is_present()
            || record.absent_on(today)
        {
            return;
        }
        let Some(home) = record.permanent else {
            return;
        };
        let household = home.household;
        // The group: the person, a spouse in the same household, and their minor children.
        let mut group = vec![person];
        if let Some(spouse) = record.spouse
            && self.model.person(spouse).is_present()
            && self.model.person(spouse).permanent.map(|p| p.household) == Some(household)
        {
            group.push(spouse);
        }
        for (member, _) in self.model.members(household) {
            let child = self.model.person(*member);
            if (child.father == Some(person) || child.mother == Some(person))
                && child.is_present()
                && child.age(today) < ADULT_AGE_YEARS
            {
                group.push(*member);
            }
        }
        // The old head, if moving, leaves last, so the household left keeps a head throughout.
        let old_head = self.model.household(household).head;
        group.sort_by_key(|m| (Some(*m) == old_head, *m));
        let founder = group
            .iter()
            .copied()
            .find(|m| self.model.person(*m).age(today) >= ADULT_AGE_YEARS)
            .unwrap_or(person);
        let current = self.unit_now(home.dwelling);
        let scheme = Scheme::on(today);
        let here = places::province_of(current, scheme);
        let unit = if self.chance(0.35) {
            self.places.commune(scheme, here, &mut self.rng)
        } else {
            let mut province = here;
            for _ in 0..5 {
                province = self
                    .places
                    .destination(Trip::Migration, scheme, &mut self.rng);
                if province != here {
                    break;
                }
            }
            self.places.commune(scheme, province, &mut self.rng)
        };
        if unit == current {
            return;
        }
        // Half of those who move alone register in a relative's or host's household there.
        if group.len() == 1 && self.chance(0.5) {
            let province = places::province_of(unit, scheme);
            if let Some(host) = self.find_host(province, household) {
                let host_unit = self.unit_now(self.model.household(host).dwelling);
                if self.join(person, host, today, officer(host_unit)) {
                    let year = self.counters.year(today);
                    year.moves += 1;
                    if province != here {
                        year.interprovincial_moves += 1;
                    }
                }
                return;
            }
        }
        if group
            .iter()
            .any(|m| self.model.person(*m).permanent_floor > today)
        {
            return;
        }
        let date = self.move_date(&group);
        let size = u32::try_from(group.len()).unwrap_or(1);
        let dwelling = self.new_dwelling(unit, size, false);
        let basis = if self.chance(0.7) {
            PermanentBasis::OwnHome
        } else {
            PermanentBasis::RentedBorrowedShared
        };
        let Some(new_household) = self.establish(founder, dwelling, date, basis, officer(unit))
        else {
            return;
        };
        let mut moved = 1;
        for member in group.iter().copied().filter(|m| *m != founder) {
            moved += u64::from(self.join(member, new_household, date, officer(unit)));
        }
        let year = self.counters.year(today);
        year.moves += moved;
        if places::province_of(unit, scheme) != here {
            year.interprovincial_moves += moved;
        }
        if date < today {
            year.late_registrations += moved;
        }
        // A husband who joined his wife's new household often takes over as head.
        if founder != person && self.chance(0.5) && self.head_present(new_household).is_some() {
            let members = self.restate(new_household, person, &[]);
            if self
                .model
                .household(new_household)
                .members
                .iter()
                .any(|(m, _)| *m == person)
            {
                self.submit(
                    officer(unit),
                    ChangeHead {
                        household: household_id(new_household),
                        effective_on: today,
                        new_head: person_id(person),
                        members,
                        court_decision: None,
                        legal_basis: None,
                        application: None,
                    }
                    .into(),
                );
            }
        }
    }

    /// A permanent household with a living head in `province` (other than `excluded`).
    fn find_host(
        &mut self,
        province: residence_domain::units::ProvinceCode,
        excluded: Ix,
    ) -> Option<Ix> {
        let scheme = Scheme::on(self.today);
        for _ in 0..40 {
            let candidate = self.anyone()?;
            let Some(home) = self.model.person(candidate).permanent else {
                continue;
            };
            if home.household != excluded
                && self.head_present(home.household).is_some()
                && places::province_of(self.unit_now(home.dwelling), scheme) == province
            {
                return Some(home.household);
            }
        }
        None
    }

    /// The effective date of a move: today, or (late registrations) up to ten months back,
    /// never before a registration of the group and never across the 2025 reorganisation.
    fn move_date(&mut self, group: &[Ix]) -> NaiveDate {
        let today = self.today;
        if !self.chance(LATE_SHARE) {
            return today;
        }
        let mut floor = ymd(2015, 3, 1);
        if today >= REORGANISATION_DATE {
            floor = floor.max(REORGANISATION_DATE);
        }
        for member in group {
            let record = self.model.person(*member);
            floor = floor.max(record.permanent_floor);
            if let Some(temporary) = record.temporary {
                floor = floor.max(plus_days(temporary.since, 1));
            }
        }
        let back = minus_days(today, self.range(15..301));
        back.max(floor).min(today)
    }

    // ---------------------------------------------------------------------------------------
    // Temporary registrations.

    fn maybe_temporary(&mut self, person: Ix) {
        let today = self.today;
        self.model.expire_temporary(person, today);
        let record = self.model.person(person);
        let age = record.age(today);
        if record.temporary.is_some() || !record.is_present() || record.absent_on(today) {
            return;
        }
        let Some(home) = record.permanent else {
            return;
        };
        if !self.chance(temporary_weight(age)) {
            return;
        }
        let trip = if age <= 22 && self.chance(0.6) {
            Trip::Study
        } else {
            Trip::Work
        };
        let scheme = Scheme::on(today);
        let province = self.places.destination(trip, scheme, &mut self.rng);
        let mut unit = self.places.commune(scheme, province, &mut self.rng);
        for _ in 0..3 {
            if places::is_urban(unit) {
                break;
            }
            unit = self.places.commune(scheme, province, &mut self.rng);
        }
        // I3, read both on the address as registered and on the dwelling's recoded address, so
        // the check holds whether or not the register applies recodings to registrations.
        if same_commune(home.registered_unit, unit, today)
            || same_commune(self.model.dwelling(home.dwelling).address.unit, unit, today)
        {
            return;
        }
        let reuse = self.chance(0.7).then(|| {
            self.model.rentals.get(&unit).and_then(|rooms| {
                rooms
                    .iter()
                    .rev()
                    .take(8)
                    .copied()
                    .find(|room| self.model.dwelling(*room).temporary_residents < 4)
            })
        });
        let dwelling = match reuse.flatten() {
            Some(room) => room,
            None => self.new_dwelling(unit, 1, true),
        };
        let household = self.chance(0.2).then(|| {
            self.model
                .add_household(RegistrationKind::Temporary, dwelling)
        });
        let months = match trip {
            Trip::Study => 10,
            _ => u32::try_from(self.range(6..25)).unwrap_or(12),
        };
        let until = minus_days(plus_months(today, months), 1).min(temporary_until_max(today));
        let command = RegisterTemporary {
            person: person_id(person),
            effective_on: today,
            until,
            address: self.model.dwelling(dwelling).address_on(today),
            dwelling: dwelling_id(dwelling),
            household: household.map(|h| HouseholdChoice::Establish {
                household: household_id(h),
                residence_file_number: None,
            }),
            consents: vec![owner()],
            court_fixed_residence: None,
            legal_basis: None,
            application: None,
        };
        if self.submit(officer(unit), command.into()).is_some() {
            let review = minus_days(until, self.range(1..15));
            self.schedule(
                review.max(plus_days(today, 1)),
                Task::ReviewTemporary { person, until },
            );
        }
    }

    fn review_temporary(&mut self, person: Ix, until: NaiveDate) {
        let today = self.today;
        let record = self.model.person(person);
        let Some(temporary) = record.temporary else {
            return;
        };
        if temporary.until != until || !record.is_present() {
            return;
        }
        if today >= until {
            // Too late to file an extension: the term runs out.
            self.schedule(plus_days(until, 1), Task::ExpireTemporary { person });
            return;
        }
        let unit = self.unit_now(temporary.dwelling);
        let roll = self.range(0..100);
        if roll < 55 {
            let months = u32::try_from(self.range(6..25)).unwrap_or(12);
            let next_day = plus_days(until, 1);
            let new_until = plus_months(until, months).min(temporary_until_max(next_day));
            let accepted = self.submit(
                officer(unit),
                ExtendTemporary {
                    person: person_id(person),
                    dwelling: dwelling_id(temporary.dwelling),
                    effective_on: today,
                    until: new_until,
                    consents: vec![owner()],
                    legal_basis: None,
                    application: None,
                }
                .into(),
            );
            if accepted.is_some() {
                let review = minus_days(new_until, self.range(1..15));
                self.schedule(
                    review,
                    Task::ReviewTemporary {
                        person,
                        until: new_until,
                    },
                );
            }
        } else if roll < 70 {
            let accepted = self.submit(
                officer(unit),
                DeleteTemporary {
                    person: person_id(person),
                    dwelling: dwelling_id(temporary.dwelling),
                    household: temporary.household.map(household_id),
                    effective_on: today,
                    ground: TemporaryDeletionGround::LodgingEnded,
                    requester: Requester::PersonConcerned,
                    head_succession: None,
                    legal_basis: None,
                    application: None,
                }
                .into(),
            );
            if accepted.is_some() {
                self.counters.year(today).temporary_deletions += 1;
            }
        } else {
            self.schedule(plus_days(until, 1), Task::ExpireTemporary { person });
        }
    }

    // ---------------------------------------------------------------------------------------
    // Stays, absences, confirmations and the rarer acts.

    fn stay(&mut self, guest: Ix) {
        let today = self.today;
        let record = self.model.person(guest).clone();
        if !record.is_present() {
            return;
        }
        let until = plus_days(today, self.range(0..10));
        let guest_data = Guest {
            person: Some(person_id(guest)),
            name: record.name.clone(),
            document: IdentityDocument::Pin(record.pin),
        };
        let scheme = Scheme::on(today);
        let (host_address, dwelling, notifier, reason, unit) = if self.chance(0.6) {
            // Visiting relatives or friends: a household elsewhere notifies.
            let Some(host) = self.anyone() else {
                return;
            };
            let Some(home) = self.model.person(host).permanent else {
                return;
            };
            if Some(home.household) == record.permanent.map(|p| p.household) {
                return;
            }
            let address = self.model.dwelling(home.dwelling).address_on(today);
            let unit = address.unit;
            (
                address,
                Some(dwelling_id(home.dwelling)),
                NotifierKind::HostMember,
                "thăm người thân",
                unit,
            )
        } else {
            let province = self
                .places
                .destination(Trip::Tourism, scheme, &mut self.rng);
            let unit = self.places.commune(scheme, province, &mut self.rng);
            let address = Address {
                unit,
                street: places::hotel_line(&mut self.rng),
            };
            (address, None, NotifierKind::Accommodation, "du lịch", unit)
        };
        self.submit(
            officer(unit),
            NotifyStay {
                guest: guest_data,
                effective_on: today,
                until,
                host_address,
                dwelling,
                reason: text(Reason::parse, reason),
                notifier,
                legal_basis: None,
            }
            .into(),
        );
    }

    fn maybe_absence(&mut self, person: Ix) {
        let today = self.today;
        let record = self.model.person(person);
        let age = record.age(today);
        if !record.is_present() || record.absent_on(today) || record.temporary_on(today).is_some() {
            return;
        }
        let Some(home) = record.permanent else {
            return;
        };
        // Military service: about 100,000 conscripts a year of some 4 million men aged 18–25
        // (2.5% a year); work abroad: about 150,000 contract workers a year (DOLAB), 0.5% a
        // year of adults aged 20–40.
        let (clause, until, destination, reason) = if record.sex == Sex::Male
            && (18..=25).contains(&age)
            && self.chance(0.025 / ABSENCE_RATE_MAX)
        {
            (
                AbsenceClause::MilitaryServiceAge,
                minus_days(plus_months(today, 24), 1),
                "Đơn vị Quân đội nhân dân Việt Nam",
                "thực hiện nghĩa vụ quân sự",
            )
        } else if (20..=40).contains(&age) && self.chance(0.005 / ABSENCE_RATE_MAX) {
            let months = u32::try_from(self.range(12..37)).unwrap_or(24);
            let country = ["Nhật Bản", "Hàn Quốc", "Đài Loan (Trung Quốc)"]
                [usize::try_from(self.range(0..3)).unwrap_or(0)];
            (
                AbsenceClause::LongAbsence,
                plus_months(today, months),
                country,
                "đi làm việc ở nước ngoài theo hợp đồng",
            )
        } else {
            return;
        };
        let unit = self.unit_now(home.dwelling);
        self.submit(
            officer(unit),
            DeclareTemporaryAbsence {
                person: person_id(person),
                effective_on: today,
                until,
                clause,
                destination: text(PlaceText::parse, destination),
                reason: text(Reason::parse, reason),
                legal_basis: None,
                application: None,
            }
            .into(),
        );
    }

    fn confirmation(&mut self, person: Ix) {
        let today = self.today;
        let record = self.model.person(person);
        if !record.is_present() || record.age(today) < ADULT_AGE_YEARS {
            return;
        }
        let Some(dwelling) = record
            .permanent
            .map(|p| p.dwelling)
            .or(record.temporary_on(today).map(|t| t.dwelling))
        else {
            return;
        };
        let purposes = [
            "bổ sung hồ sơ xin việc",
            "nhập học cho con",
            "thủ tục vay vốn ngân hàng",
            "nộp tòa án",
            "đăng ký kết hôn",
        ];
        let purpose = purposes[usize::try_from(self.range(0..5)).unwrap_or(0)];
        self.certificates += 1;
        let unit = self.unit_now(dwelling);
        self.submit(
            officer(unit),
            IssueResidenceConfirmation {
                certificate: CertificateId::new(self.certificates),
                person: person_id(person),
                issued_on: today,
                purpose: text(residence_domain::event::Purpose::parse, purpose),
                ledger_size: self.engine.len(),
                legal_basis: None,
                application: None,
            }
            .into(),
        );
    }

    fn civil_status(&mut self, person: Ix) {
        let today = self.today;
        let record = self.model.person(person).clone();
        if !record.is_present() {
            return;
        }
        let Some(home) = record.permanent else {
            return;
        };
        let name = full_name(record.family, record.sex, &mut self.rng);
        if name == record.name {
            return;
        }
        let decided_on = minus_days(today, self.range(1..26));
        let number = self.range(1..500);
        let unit = self.unit_now(home.dwelling);
        self.submit(
            officer(unit),
            AdjustCivilStatus {
                person: person_id(person),
                effective_on: today,
                changes: CivilStatusChanges {
                    name: Some(name),
                    ..CivilStatusChanges::default()
                },
                decision: DecisionRef {
                    number: text(DocumentNumber::parse, &format!("{number}/QĐ-UBND")),
                    decided_on,
                },
                authority: text(AuthorityName::parse, "Ủy ban nhân dân cấp xã"),
                legal_basis: None,
                application: None,
            }
            .into(),
        );
    }

    fn reassign_pin(&mut self, person: Ix) {
        let today = self.today;
        let record = self.model.person(person).clone();
        if !record.is_present() {
            return;
        }
        let prefix = u8::try_from(record.pin.birth_registration_code()).unwrap_or(1);
        let new = self
            .pins
            .issue(prefix, record.birth.year(), record.sex, &mut self.rng);
        self.submit(
            population_database(),
            ReassignPin {
                person: person_id(person),
                effective_on: today,
                old: record.pin,
                new,
                reason: PinReassignmentReason::DataEntryError,
                legal_basis: None,
            }
            .into(),
        );
    }

    fn maybe_emigrate(&mut self, person: Ix) {
        let today = self.today;
        let record = self.model.person(person);
        if !(25..=60).contains(&record.age(today))
            || !record.is_present()
            || record.temporary.is_some()
            || record.absent_on(today)
        {
            return;
        }
        let Some(home) = record.permanent else {
            return;
        };
        let Ok(head_succession) = self.succession(home.household, &[person]) else {
            return;
        };
        let unit = self.unit_now(home.dwelling);
        let accepted = self.submit(
            officer(unit),
            DeletePermanent {
                person: person_id(person),
                household: household_id(home.household),
                effective_on: today,
                ground: PermanentDeletionGround::SettledAbroad,
                requester: Requester::PersonConcerned,
                head_succession,
                legal_basis: None,
                application: None,
            }
            .into(),
        );
        if accepted.is_some() {
            self.model.person_mut(person).emigrated = true;
            self.model.leave_living(person);
            self.counters.year(today).emigrations += 1;
        }
    }

    fn update_address(&mut self, person: Ix) {
        let today = self.today;
        let record = self.model.person(person);
        if !record.is_present() || record.temporary_on(today).is_some() {
            return;
        }
        let Some(home) = record.permanent else {
            return;
        };
        // The commune of the registration: only when the dwelling was not recoded away from
        // it, so the register reads the same commune with or without recodings applied.
        let unit = self.unit_now(home.dwelling);
        if registry().on_date(home.registered_unit, today) != Some(unit) {
            return;
        }
        let address = places::address(unit, &mut self.rng);
        self.submit(
            officer(unit),
            UpdateCurrentAddress {
                person: person_id(person),
                effective_on: today,
                address,
                dwelling: None,
                legal_basis: None,
                application: None,
            }
            .into(),
        );
    }

    // ---------------------------------------------------------------------------------------
    // The 2025 reorganisation and recodings.

    fn reorganise(&mut self) {
        let recorder = Recorder {
            actor: Actor::Officer,
            actor_id: "c06-officer".to_owned(),
            office: Some("C06".to_owned()),
        };
        if self
            .submit(recorder, ApplyReorganisation {}.into())
            .is_none()
        {
            return;
        }
        let last = ymd(2025, 12, 31).min(self.until);
        let span = u64::try_from((last - self.today).num_days()).unwrap_or(0);
        for dwelling in 0..self.model.dwellings.len() {
            let record = &self.model.dwellings[dwelling];
            if !record.known || record.address.unit.scheme != Scheme::Legacy {
                continue;
            }
            let divided = matches!(
                registry().conversion(record.address.unit.code),
                Some(Conversion::Divided { .. })
            );
            if divided && self.chance(RECODE_SHARE) && span > 0 {
                let when = plus_days(self.today, 1 + self.range(0..span));
                let dwelling = Ix::try_from(dwelling).unwrap_or(Ix::MAX);
                self.schedule(when, Task::Recode { dwelling });
            }
        }
    }

    fn recode(&mut self, dwelling: Ix) {
        let record = self.model.dwelling(dwelling);
        if record.address.unit.scheme != Scheme::Legacy {
            return;
        }
        let Some(Conversion::Divided { receiving, .. }) =
            registry().conversion(record.address.unit.code)
        else {
            return;
        };
        let codes: Vec<_> = receiving.iter().map(|row| row.code).collect();
        let street = record.address.street.clone();
        let Some(code) = self.pick(&codes) else {
            return;
        };
        let unit = UnitRef::y2025(code);
        let new_address = Address { unit, street };
        self.submit(
            officer(unit),
            RecodeAddress {
                dwelling: dwelling_id(dwelling),
                effective_on: self.today,
                cause: RecodingCause::UnitReorganisation,
                new_address,
                legal_basis: None,
            }
            .into(),
        );
    }

    /// Corrects the date of a registration that was entered a few days too early, when nothing
    /// else happened to the person since.
    fn correct(&mut self, person: Ix, position: u64) {
        let today = self.today;
        if self.engine.last_position(&Tag::Person(person_id(person))) != Some(position) {
            return;
        }
        let Some((id, Event::PermanentResidenceRegistered(original))) =
            self.engine.get(position).cloned()
        else {
            return;
        };
        // The corrected date stays before today and on the same side of the reorganisation
        // (the address's unit must be valid on it).
        let mut last = minus_days(today, 1);
        if original.effective_on < REORGANISATION_DATE {
            last = last.min(minus_days(REORGANISATION_DATE, 1));
        }
        let room = (last - original.effective_on).num_days();
        let Ok(room) = u64::try_from(room) else {
            return;
        };
        if room == 0 {
            return;
        }
        let shift = self.range(1..room.min(7) + 1);
        let mut replacement = original.clone();
        replacement.effective_on = plus_days(original.effective_on, shift);
        let unit = original.address.unit;
        let unit = registry().on_date(unit, today).unwrap_or(unit);
        self.submit(
            officer(unit),
            CorrectEvent {
                corrects: id,
                replacement: EventEnvelope::new(Event::PermanentResidenceRegistered(replacement)),
                reason: text(Reason::parse, "nhập sai ngày đăng ký"),
                legal_basis: None,
                read_also: Vec::new(),
            }
            .into(),
        );
    }
}

/// Whether an address in `recorded` and one in `given` are in the same commune on `date`, as
/// the domain reads it (I3): the same unit on that date's map, or `given` one of the wards a
/// divided legacy `recorded` ward went into.
fn same_commune(recorded: UnitRef, given: UnitRef, date: NaiveDate) -> bool {
    let registry = registry();
    let on = |unit| registry.on_date(unit, date).unwrap_or(unit);
    on(recorded) == on(given)
        || (recorded.scheme == Scheme::Legacy
            && given.scheme == Scheme::Y2025
            && registry
                .successors(recorded.code)
                .iter()
                .any(|row| row.code == given.code))
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("constant dates are valid")
}
