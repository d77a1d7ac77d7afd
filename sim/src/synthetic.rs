//! Synthetic populations for benchmarks and tests, and a helper that appends domain events to a
//! ledger the way the API does (type, version, tags, payload).
//!
//! Why here: projections are the first crate that knows both the domain and the ledger, and
//! their benchmark needs a realistic ledger of a million persons. The generator is seeded and
//! runs on a supplied clock, so the same seed gives the same records, hashes and projections.
//!
//! The history it writes, in recorded order:
//! 1. **Import** (recorded from 2021-07-01): households with their members, each a
//!    `HouseholdEstablished`, a `PersonRecorded` and a `PermanentResidenceRegistered` per member,
//!    with past `effective_on` dates (1995–2021), in legacy wards across the country.
//! 2. **Activity** (2021-07 to 2025-06): temporary registrations elsewhere and their extensions,
//!    declared absences, moves to new households (with a head change when the head leaves),
//!    deaths (leaving the household head vacant, or followed by a new head), and splits. About
//!    one event in fifty is recorded weeks after its `effective_on`.
//! 3. **The reorganisation** (2025-07-01): `AdministrativeUnitsReorganized`, then an address
//!    recoding for half the dwellings of divided wards, to a ward other than the default.
//! 4. **Activity** (2025-07 to 2026-06) in 2025 communes.
//!
//! Events are plausible, not judged: the generator does not run `decide`.

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use residence_domain::address::{Address, PersonName, StreetLine};
use residence_domain::event::{
    AbsenceClause, AdministrativeUnitsReorganized, Event, HeadChangeReason, HouseholdEstablished,
    HouseholdHeadChanged, HouseholdSplit, LegalBasis, MemberRelationship, Membership,
    PermanentBasis, PermanentResidenceDeleted, PermanentResidenceRegistered, PersonRecorded,
    PlaceText, Reason, RecodingCause, RegistrationKind, ResidenceAddressRecoded,
    ResidenceFileNumber, TemporaryAbsenceDeclared, TemporaryResidenceExtended,
    TemporaryResidenceRegistered,
};
use residence_domain::event_id::EventId as DomainEventId;
use residence_domain::grounds::{Initiator, PermanentDeletionGround};
use residence_domain::ids::{DwellingId, HouseholdId, PersonId};
use residence_domain::pin::{Pin, Sex};
use residence_domain::relationship::Relationship;
use residence_domain::units::{Conversion, Scheme, UnitCode, UnitRef, registry};
use residence_ledger::checkpoint::Origin;
use residence_ledger::clock::ClockMode;
use residence_ledger::keys::LedgerSecret;
use residence_ledger::ledger::OpenError;
use residence_ledger::ledger::{
    AppendError, AppendRequest, Ledger, LedgerConfig, Limits, NewRecord,
};
use residence_ledger::record::{EventId, Timestamp};
use residence_ledger::store::memory::MemoryStore;
use residence_register::codec;

/// Opens an empty ledger over an in-memory store, with a supplied clock and an in-memory tree
/// (tests and benchmarks).
///
/// # Errors
/// [`OpenError`] from the ledger.
pub fn memory_ledger() -> Result<Ledger, OpenError> {
    Ledger::open(LedgerConfig {
        store: Arc::new(MemoryStore::new()),
        tree_dir: None,
        checkpoint_dir: None,
        origin: Origin::new("synthetic.example/residence").expect("a valid constant origin"),
        secret: LedgerSecret::from_bytes([7; 32]),
        blinded_kinds: codec::blinded_kinds(),
        clock: ClockMode::Supplied,
        limits: Limits::default(),
    })
}

/// The ledger record of a domain event (the register's codec), with the metadata of synthetic
/// records.
#[must_use]
pub fn new_record(event: &Event, event_id: DomainEventId) -> NewRecord {
    codec::new_record(
        br#"{"actor":"synthetic"}"#.to_vec(),
        EventId(*event_id.as_bytes()),
        event,
    )
    .expect("the domain's events fit the ledger record format")
}

/// Why appending failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The ledger refused or failed the append.
    #[error(transparent)]
    Append(#[from] AppendError),
}

/// Appends domain events to a ledger with derived event ids and supplied times.
#[derive(Debug)]
pub struct EventWriter<'l> {
    ledger: &'l Ledger,
    seed: u64,
    next: u64,
}

impl<'l> EventWriter<'l> {
    /// A writer whose event ids derive from `seed` and a counter.
    #[must_use]
    pub fn new(ledger: &'l Ledger, seed: u64) -> EventWriter<'l> {
        EventWriter {
            ledger,
            seed,
            next: 0,
        }
    }

    /// The next event id.
    pub fn next_id(&mut self) -> DomainEventId {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"residence-synthetic/event-id");
        hasher.update(&self.seed.to_le_bytes());
        hasher.update(&self.next.to_le_bytes());
        self.next += 1;
        let mut id = [0u8; 16];
        id.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        DomainEventId::from_bytes(id)
    }

    /// The request appending `events` atomically at `recorded_at`, with their ids.
    pub fn request(
        &mut self,
        recorded_at: Timestamp,
        events: &[Event],
    ) -> (AppendRequest, Vec<DomainEventId>) {
        let ids: Vec<DomainEventId> = events.iter().map(|_| self.next_id()).collect();
        let records = events
            .iter()
            .zip(&ids)
            .map(|(event, id)| new_record(event, *id))
            .collect();
        (
            AppendRequest {
                records,
                condition: None,
                recorded_at: Some(recorded_at),
            },
            ids,
        )
    }

    /// Appends `events` atomically at `recorded_at`; returns each one's position and id.
    ///
    /// # Errors
    /// [`WriteError::Append`].
    pub fn append(
        &mut self,
        recorded_at: Timestamp,
        events: &[Event],
    ) -> Result<Vec<(u64, DomainEventId)>, WriteError> {
        let (request, ids) = self.request(recorded_at, events);
        let outcome = self.ledger.append_blocking(request)?;
        Ok(outcome
            .records
            .iter()
            .map(|appended| appended.position.0)
            .zip(ids)
            .collect())
    }

    /// Appends many requests, in order, sharing group commits.
    ///
    /// # Errors
    /// The first [`WriteError::Append`].
    pub fn append_all(&mut self, requests: Vec<AppendRequest>) -> Result<(), WriteError> {
        for outcome in self.ledger.append_all_blocking(requests) {
            outcome?;
        }
        Ok(())
    }
}

/// The microseconds since the epoch of 09:00 (UTC+7) on `date`, plus `offset_micros`.
#[must_use]
pub fn recorded_on(date: NaiveDate, offset_micros: i64) -> Timestamp {
    let base = date
        .and_hms_opt(2, 0, 0)
        .map_or(0, |time| time.and_utc().timestamp_micros());
    Timestamp(base + offset_micros)
}

/// How large a population to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticConfig {
    /// Persons to create (households are added until this many persons exist).
    pub persons: u64,
    /// The seed of every random choice and event id.
    pub seed: u64,
}

/// What the generator wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyntheticSummary {
    /// Persons created.
    pub persons: u64,
    /// Households created (including by moves and splits).
    pub households: u64,
    /// Records appended.
    pub records: u64,
}

/// One generated household.
#[derive(Debug, Clone)]
struct GenHousehold {
    id: HouseholdId,
    dwelling: DwellingId,
    address: Address,
    /// Current members with their relationship; the head is the one with `CHU_HO`.
    members: Vec<(usize, Relationship)>,
}

/// One generated person.
#[derive(Debug, Clone)]
struct GenPerson {
    id: PersonId,
    household: Option<usize>,
    alive: bool,
    /// The dwelling and last day of an open temporary registration.
    temporary: Option<(DwellingId, NaiveDate)>,
}

/// The generator's state.
struct Generator<'l> {
    rng: StdRng,
    writer: EventWriter<'l>,
    persons: Vec<GenPerson>,
    households: Vec<GenHousehold>,
    legacy_wards: Vec<UnitCode>,
    wards_2025: Vec<UnitCode>,
    /// The time of the last append, never decreasing.
    clock: i64,
    records: u64,
    pending: Vec<AppendRequest>,
    pending_records: usize,
    basis: LegalBasis,
}

/// Surnames, middle and given names for generated persons.
const SURNAMES: [&str; 8] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ",
];
const MIDDLES: [&str; 6] = ["Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc"];
const GIVEN: [&str; 10] = [
    "An", "Bình", "Chi", "Dũng", "Hà", "Hùng", "Lan", "Mai", "Nam", "Tú",
];
const STREETS: [&str; 8] = [
    "phố Phúc Xá",
    "phố Đội Cấn",
    "đường Láng",
    "phố Huế",
    "đường Nguyễn Trãi",
    "phố Hàng Bông",
    "đường Lê Lợi",
    "đường Trần Phú",
];

/// Records per batch of appends.
const BATCH_RECORDS: usize = 2048;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid constant date")
}

impl<'l> Generator<'l> {
    fn new(ledger: &'l Ledger, seed: u64) -> Generator<'l> {
        let legacy_wards: Vec<UnitCode> = registry()
            .units(Scheme::Legacy)
            .map(|info| info.unit.code)
            .filter(|code| registry().default_successor(*code).is_some())
            .collect();
        let wards_2025: Vec<UnitCode> = registry()
            .units(Scheme::Y2025)
            .map(|info| info.unit.code)
            .collect();
        Generator {
            rng: StdRng::seed_from_u64(seed),
            writer: EventWriter::new(ledger, seed),
            persons: Vec::new(),
            households: Vec::new(),
            legacy_wards,
            wards_2025,
            clock: recorded_on(day(2021, 7, 1), 0).0,
            records: 0,
            pending: Vec::new(),
            pending_records: 0,
            basis: LegalBasis::parse("Luật Cư trú 2020").expect("a valid constant"),
        }
    }

    /// Queues `events` as one request recorded at `at` (or later, the clock never going back).
    fn emit(&mut self, at: Timestamp, events: &[Event]) -> Result<(), WriteError> {
        if events.is_empty() {
            return Ok(());
        }
        self.clock = self.clock.max(at.0) + 1;
        let (request, _) = self.writer.request(Timestamp(self.clock), events);
        self.records += events.len() as u64;
        self.pending_records += events.len();
        self.pending.push(request);
        if self.pending_records >= BATCH_RECORDS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), WriteError> {
        let requests = std::mem::take(&mut self.pending);
        self.pending_records = 0;
        self.writer.append_all(requests)
    }

    fn random_id(&mut self) -> u64 {
        self.rng.random::<u64>()
    }

    fn address(&mut self, unit: UnitRef) -> Address {
        let number = self.rng.random_range(1..400);
        let lane = self.rng.random_range(1..80);
        let street = STREETS[self.rng.random_range(0..STREETS.len())];
        Address {
            unit,
            street: StreetLine::parse(&format!("Số {number}, ngõ {lane}, {street}"))
                .expect("a generated street line is valid"),
        }
    }

    fn random_unit(&mut self, scheme: Scheme) -> UnitRef {
        match scheme {
            Scheme::Legacy => UnitRef::legacy(
                self.legacy_wards[self.rng.random_range(0..self.legacy_wards.len())],
            ),
            Scheme::Y2025 => {
                UnitRef::y2025(self.wards_2025[self.rng.random_range(0..self.wards_2025.len())])
            }
        }
    }

    fn random_date(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(1);
        let offset = self.rng.random_range(0..span);
        from.checked_add_days(Days::new(u64::try_from(offset).unwrap_or(0)))
            .unwrap_or(from)
    }

    fn new_person(&mut self, birth: NaiveDate, sex: Sex) -> (usize, PersonRecorded) {
        let index = self.persons.len();
        let id = PersonId::new(self.random_id());
        use chrono::Datelike as _;
        let year = birth.year();
        let century = match (year >= 2000, sex) {
            (false, Sex::Male) => 0,
            (false, Sex::Female) => 1,
            (true, Sex::Male) => 2,
            (true, Sex::Female) => 3,
        };
        // Prefix and sequence are unique per person up to 63 million persons.
        let prefixes = [
            1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31,
        ];
        let prefix = prefixes[(index / 1_000_000) % prefixes.len()];
        let text = format!(
            "{prefix:03}{century}{:02}{:06}",
            year.rem_euclid(100),
            index % 1_000_000
        );
        let pin: Pin = text.parse().expect("a generated PIN has 12 digits");
        let name = format!(
            "{} {} {}",
            SURNAMES[self.rng.random_range(0..SURNAMES.len())],
            MIDDLES[self.rng.random_range(0..MIDDLES.len())],
            GIVEN[self.rng.random_range(0..GIVEN.len())]
        );
        self.persons.push(GenPerson {
            id,
            household: None,
            alive: true,
            temporary: None,
        });
        (
            index,
            PersonRecorded {
                person: id,
                pin,
                name: PersonName::parse(&name).expect("a generated name is valid"),
                birth_date: birth,
                sex,
            },
        )
    }

    fn permanent(
        &self,
        person: usize,
        on: NaiveDate,
        household: usize,
        relationship: Relationship,
        previous: Option<(HouseholdId, DwellingId)>,
    ) -> Event {
        let entry = &self.households[household];
        PermanentResidenceRegistered {
            person: self.persons[person].id,
            effective_on: on,
            basis: PermanentBasis::OwnHome,
            address: entry.address.clone(),
            dwelling: entry.dwelling,
            membership: Membership {
                household: entry.id,
                relationship,
            },
            previous_household: previous.map(|(household, _)| household),
            previous_dwelling: previous.map(|(_, dwelling)| dwelling),
            floor_area: None,
            consents: Vec::new(),
            legal_basis: self.basis.clone(),
            application: None,
        }
        .into()
    }

    fn new_household(&mut self, unit: UnitRef, on: NaiveDate) -> (usize, Event) {
        let id = HouseholdId::new(self.random_id());
        let dwelling = DwellingId::new(self.random_id());
        let address = self.address(unit);
        let index = self.households.len();
        let number = format!("HS-{:010}", index);
        self.households.push(GenHousehold {
            id,
            dwelling,
            address: address.clone(),
            members: Vec::new(),
        });
        let event = HouseholdEstablished {
            household: id,
            effective_on: on,
            kind: RegistrationKind::Permanent,
            address,
            dwelling,
            residence_file_number: Some(
                ResidenceFileNumber::parse(&number).expect("a generated file number is valid"),
            ),
            legal_basis: self.basis.clone(),
        };
        (index, event.into())
    }

    /// Phase 1: one imported household.
    fn import_household(&mut self, size: usize) -> Result<(), WriteError> {
        let unit = self.random_unit(Scheme::Legacy);
        let founded = self.random_date(day(1995, 1, 1), day(2021, 6, 1));
        let (household, established) = self.new_household(unit, founded);
        let mut events = vec![established];
        let mut registrations = Vec::new();
        for member in 0..size {
            let (relationship, birth) = match member {
                0 => (
                    Relationship::ChuHo,
                    self.random_date(day(1940, 1, 1), day(1990, 1, 1)),
                ),
                1 => (
                    Relationship::Vo,
                    self.random_date(day(1945, 1, 1), day(1995, 1, 1)),
                ),
                _ => (
                    Relationship::ConDe,
                    self.random_date(day(1970, 1, 1), day(2020, 1, 1)),
                ),
            };
            let sex = if self.rng.random_bool(0.5) {
                Sex::Male
            } else {
                Sex::Female
            };
            let (person, recorded) = self.new_person(birth, sex);
            events.push(recorded.into());
            let on = founded.max(birth);
            registrations.push(self.permanent(person, on, household, relationship.clone(), None));
            self.persons[person].household = Some(household);
            self.households[household]
                .members
                .push((person, relationship));
        }
        events.extend(registrations);
        let at = Timestamp(self.clock + 1_000);
        self.emit(at, &events)
    }

    /// A living person in a household, if the draw finds one.
    fn pick_member(&mut self) -> Option<usize> {
        if self.persons.is_empty() {
            return None;
        }
        let person = self.rng.random_range(0..self.persons.len());
        let entry = &self.persons[person];
        (entry.alive && entry.household.is_some()).then_some(person)
    }

    fn head_of(&self, household: usize) -> Option<usize> {
        self.households[household]
            .members
            .iter()
            .find(|(_, relationship)| matches!(relationship, Relationship::ChuHo))
            .map(|(person, _)| *person)
    }

    /// Removes `person` from their household's member list.
    fn leave(&mut self, person: usize) -> Option<usize> {
        let household = self.persons[person].household.take()?;
        self.households[household]
            .members
            .retain(|(member, _)| *member != person);
        Some(household)
    }

    /// A head change naming the first remaining member as head (reason `reason`).
    fn head_change(
        &mut self,
        household: usize,
        on: NaiveDate,
        previous_head: Option<PersonId>,
        reason: HeadChangeReason,
    ) -> Option<Event> {
        let entry = &mut self.households[household];
        let (new_head, _) = entry.members.first().cloned()?;
        let mut members = Vec::new();
        for (member, relationship) in &mut entry.members {
            *relationship = if *member == new_head {
                Relationship::ChuHo
            } else {
                Relationship::ConDe
            };
        }
        for (member, relationship) in &entry.members {
            if *member != new_head {
                members.push(MemberRelationship {
                    person: self.persons[*member].id,
                    relationship: relationship.clone(),
                });
            }
        }
        Some(
            HouseholdHeadChanged {
                household: entry.id,
                effective_on: on,
                previous_head,
                new_head: self.persons[new_head].id,
                reason,
                members,
                court_decision: None,
                legal_basis: self.basis.clone(),
                application: None,
            }
            .into(),
        )
    }

    /// One activity event recorded on `recorded` in the map `scheme`.
    fn activity(&mut self, recorded: NaiveDate, scheme: Scheme) -> Result<(), WriteError> {
        let Some(person) = self.pick_member() else {
            return Ok(());
        };
        // One event in fifty is recorded weeks after it took effect.
        let late = self.rng.random_bool(0.02);
        let on = if late {
            recorded
                .checked_sub_days(Days::new(self.rng.random_range(20..120)))
                .unwrap_or(recorded)
        } else {
            recorded
        };
        let at = recorded_on(
            recorded,
            i64::from(self.rng.random_range(0..28_800)) * 1_000_000,
        );
        let id = self.persons[person].id;
        let roll = self.rng.random_range(0..100);
        let mut events: Vec<Event> = Vec::new();
        match roll {
            // A temporary registration elsewhere, or the extension of an open one.
            0..=39 => match self.persons[person].temporary {
                Some((dwelling, until)) if until >= recorded => {
                    let new_until = until
                        .checked_add_days(Days::new(self.rng.random_range(180..700)))
                        .unwrap_or(until);
                    self.persons[person].temporary = Some((dwelling, new_until));
                    events.push(
                        TemporaryResidenceExtended {
                            person: id,
                            dwelling,
                            effective_on: recorded,
                            previous_until: until,
                            until: new_until,
                            consents: Vec::new(),
                            legal_basis: self.basis.clone(),
                            application: None,
                        }
                        .into(),
                    );
                }
                _ => {
                    let unit = self.random_unit(scheme);
                    let address = self.address(unit);
                    let dwelling = DwellingId::new(self.random_id());
                    let until = on
                        .checked_add_days(Days::new(self.rng.random_range(90..730)))
                        .unwrap_or(on);
                    self.persons[person].temporary = Some((dwelling, until));
                    events.push(
                        TemporaryResidenceRegistered {
                            person: id,
                            effective_on: on,
                            until,
                            address,
                            dwelling,
                            membership: None,
                            consents: Vec::new(),
                            legal_basis: self.basis.clone(),
                            application: None,
                        }
                        .into(),
                    );
                }
            },
            // A declared absence.
            40..=51 => {
                let until = on
                    .checked_add_days(Days::new(self.rng.random_range(180..540)))
                    .unwrap_or(on);
                events.push(
                    TemporaryAbsenceDeclared {
                        person: id,
                        effective_on: on,
                        until,
                        clause: AbsenceClause::LongAbsence,
                        destination: PlaceText::parse("Thành phố Hồ Chí Minh")
                            .expect("a valid constant"),
                        reason: Reason::parse("Đi làm ăn xa").expect("a valid constant"),
                        legal_basis: self.basis.clone(),
                        application: None,
                    }
                    .into(),
                );
            }
            // A move to a new household elsewhere.
            52..=79 => {
                let was_head = self.persons[person]
                    .household
                    .is_some_and(|household| self.head_of(household) == Some(person));
                let old = self.leave(person);
                let unit = self.random_unit(scheme);
                let (household, established) = self.new_household(unit, on);
                events.push(established);
                let previous =
                    old.map(|old| (self.households[old].id, self.households[old].dwelling));
                events.push(self.permanent(person, on, household, Relationship::ChuHo, previous));
                self.persons[person].household = Some(household);
                self.households[household]
                    .members
                    .push((person, Relationship::ChuHo));
                if let Some(old) = old
                    && was_head
                    && let Some(change) =
                        self.head_change(old, on, Some(id), HeadChangeReason::HeadLeft)
                {
                    events.push(change);
                }
            }
            // A death; the household is left head vacant, or names a new head.
            80..=91 => {
                let household = self.persons[person].household;
                let was_head = household.is_some_and(|h| self.head_of(h) == Some(person));
                let Some(household) = self.leave(person) else {
                    return Ok(());
                };
                self.persons[person].alive = false;
                let entry = &self.households[household];
                events.push(
                    PermanentResidenceDeleted {
                        person: id,
                        effective_on: on,
                        ground: PermanentDeletionGround::Death,
                        initiator: Initiator::ExOfficio,
                        address: entry.address.clone(),
                        dwelling: entry.dwelling,
                        household: entry.id,
                        legal_basis: self.basis.clone(),
                        application: None,
                    }
                    .into(),
                );
                // Half the households whose head died name a new head the same day; the other
                // half stay head vacant.
                if was_head
                    && self.rng.random_bool(0.5)
                    && let Some(change) =
                        self.head_change(household, on, None, HeadChangeReason::HeadDied)
                {
                    events.push(change);
                }
            }
            // A split: a member (not the head) founds a household at the same dwelling.
            _ => {
                let Some(household) = self.persons[person].household else {
                    return Ok(());
                };
                if self.head_of(household) == Some(person)
                    || self.households[household].members.len() < 3
                {
                    return Ok(());
                }
                self.leave(person);
                let old = self.households[household].clone();
                let new = self.households.len();
                let new_id = HouseholdId::new(self.random_id());
                self.households.push(GenHousehold {
                    id: new_id,
                    dwelling: old.dwelling,
                    address: old.address.clone(),
                    members: vec![(person, Relationship::ChuHo)],
                });
                self.persons[person].household = Some(new);
                events.push(
                    HouseholdSplit {
                        household: old.id,
                        new_household: new_id,
                        effective_on: on,
                        dwelling: old.dwelling,
                        address: old.address,
                        new_head: id,
                        members: Vec::new(),
                        consents: Vec::new(),
                        residence_file_number: None,
                        legal_basis: self.basis.clone(),
                        application: None,
                    }
                    .into(),
                );
            }
        }
        self.emit(at, &events)
    }

    /// Phase 3: the reorganisation and the recoding of divided wards' dwellings.
    fn reorganise(&mut self) -> Result<(), WriteError> {
        let on = day(2025, 7, 1);
        self.emit(
            recorded_on(on, 0),
            &[AdministrativeUnitsReorganized::embedded().into()],
        )?;
        let mut by_dwelling: std::collections::HashMap<DwellingId, Vec<usize>> =
            std::collections::HashMap::new();
        for (index, entry) in self.households.iter().enumerate() {
            by_dwelling.entry(entry.dwelling).or_default().push(index);
        }
        for index in 0..self.households.len() {
            let entry = &self.households[index];
            if entry.members.is_empty() || entry.address.unit.scheme != Scheme::Legacy {
                continue;
            }
            let Some(Conversion::Divided { receiving, default }) =
                registry().conversion(entry.address.unit.code)
            else {
                continue;
            };
            let others: Vec<UnitCode> = receiving
                .iter()
                .map(|successor| successor.code)
                .filter(|code| *code != default)
                .collect();
            if others.is_empty() || !self.rng.random_bool(0.5) {
                continue;
            }
            let code = others[self.rng.random_range(0..others.len())];
            let entry = &self.households[index];
            let new_address = Address {
                unit: UnitRef::y2025(code),
                street: entry.address.street.clone(),
            };
            // Every household at the dwelling is recoded with it.
            let dwelling = entry.dwelling;
            let sharing: Vec<usize> = by_dwelling.get(&dwelling).cloned().unwrap_or_default();
            let mut households = Vec::new();
            let mut persons = Vec::new();
            for &other in &sharing {
                households.push(self.households[other].id);
                persons.extend(
                    self.households[other]
                        .members
                        .iter()
                        .map(|(person, _)| self.persons[*person].id),
                );
            }
            let event = ResidenceAddressRecoded {
                dwelling,
                effective_on: on,
                cause: RecodingCause::UnitReorganisation,
                old_address: self.households[index].address.clone(),
                new_address: new_address.clone(),
                households,
                persons,
                legal_basis: self.basis.clone(),
            };
            for other in sharing {
                self.households[other].address = new_address.clone();
            }
            self.emit(recorded_on(on, 3_600_000_000), &[event.into()])?;
        }
        Ok(())
    }
}

/// Writes a synthetic population of `config.persons` persons into `ledger` (see the module
/// documentation for the history it writes).
///
/// # Errors
/// [`WriteError`] when an append fails.
pub fn generate(ledger: &Ledger, config: &SyntheticConfig) -> Result<SyntheticSummary, WriteError> {
    let mut generator = Generator::new(ledger, config.seed);
    while (generator.persons.len() as u64) < config.persons {
        let left = config.persons - generator.persons.len() as u64;
        let size = generator.rng.random_range(1..=5).min(left as usize).max(1);
        generator.import_household(size)?;
    }
    let imported = generator.persons.len();
    // About one activity event per four persons before the reorganisation, one per eight after.
    let before = imported / 4;
    let phase_start = day(2021, 7, 1);
    let phase_end = day(2025, 6, 30);
    let mut days: Vec<NaiveDate> = (0..before)
        .map(|_| generator.random_date(phase_start, phase_end))
        .collect();
    days.sort_unstable();
    for recorded in days {
        generator.activity(recorded, Scheme::Legacy)?;
    }
    generator.reorganise()?;
    let after = imported / 8;
    let mut days: Vec<NaiveDate> = (0..after)
        .map(|_| generator.random_date(day(2025, 7, 2), day(2026, 6, 30)))
        .collect();
    days.sort_unstable();
    for recorded in days {
        generator.activity(recorded, Scheme::Y2025)?;
    }
    generator.flush()?;
    Ok(SyntheticSummary {
        persons: generator.persons.len() as u64,
        households: generator.households.len() as u64,
        records: generator.records,
    })
}
