//! The given/when/then harness and the fixture world of the law tests.
//!
//! `given(events).when(command)` decides the command twice: against the state folded from only
//! the events whose tags meet the command's read tags (as the API will), and against the state
//! folded from every given event. Both must give the same answer, so every test also checks that
//! the command's consistency boundary holds what its decision needs. `then(events)` compares the
//! decided events with the expected ones as typed values; `then_reject(code)` and
//! `then_warn(code)` compare stable codes, never message text. An accepted decision is folded
//! into the full state, which must then break no invariant. `given(events).place(command)`
//! computes where the command acts (the law of place), before any decision, on the command's
//! boundary and on the full state, and requires the same answer.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use residence_domain::address::{Address, PersonName, StreetLine};
use residence_domain::boundary::{self, Recorded};
use residence_domain::command::*;
use residence_domain::context::{Actor, Context};
use residence_domain::decide::{Decision, decide};
use residence_domain::event::*;
use residence_domain::event_id::EventId;
use residence_domain::ids::{ApplicationId, DwellingId, HouseholdId, PersonId};
use residence_domain::jurisdiction::{Place, place};
use residence_domain::pin::{Pin, Sex};
use residence_domain::rejection::Rejection;
use residence_domain::relationship::Relationship;
use residence_domain::state::{State, evolve_recorded};
use residence_domain::tag::Tag;
use residence_domain::units::{UnitCode, UnitRef};
use unicode_normalization::UnicodeNormalization;

// ---------------------------------------------------------------------------------------------
// The harness.

/// The id of the `n`th event of a history (stable, so tests can name earlier events).
pub fn event_id(n: usize) -> EventId {
    let mut bytes = [0u8; 16];
    bytes[8..].copy_from_slice(&(n as u64 + 1).to_be_bytes());
    EventId::from_bytes(bytes)
}

/// A history of events with ids, and the context of the next decision.
#[derive(Debug, Clone)]
pub struct Given {
    events: Vec<(EventId, Event)>,
    ctx: Context,
}

/// Starts a scenario from these events (ids `event_id(0)`, `event_id(1)`, …), decided on
/// [`TODAY`] by an officer.
pub fn given(events: impl IntoIterator<Item = Event>) -> Given {
    Given {
        events: events
            .into_iter()
            .enumerate()
            .map(|(n, event)| (event_id(n), event))
            .collect(),
        ctx: Context::new(TODAY, Actor::Officer),
    }
}

/// The state folded from the events (with ids) that carry one of `tags`.
pub fn narrow_state(events: &[(EventId, Event)], tags: &[Tag]) -> State {
    let wanted: BTreeSet<Tag> = tags.iter().copied().collect();
    State::from_recorded(
        events
            .iter()
            .filter(|(_, event)| event.tags().iter().any(|tag| wanted.contains(tag)))
            .map(|(id, event)| (*id, event)),
    )
}

impl Given {
    /// The recording date of the decision.
    pub fn on(mut self, today: NaiveDate) -> Self {
        self.ctx.today = today;
        self
    }

    /// The actor recording the decision.
    pub fn by(mut self, actor: Actor) -> Self {
        self.ctx.actor = actor;
        self
    }

    /// Decides `command`.
    #[track_caller]
    pub fn when(self, command: impl Into<Command>) -> When {
        let command = command.into();
        let narrow = narrow_state(&self.events, &command.read_tags());
        let full = State::from_recorded(self.events.iter().map(|(id, event)| (*id, event)));
        let result = decide(&narrow, &command, &self.ctx);
        let full_result = decide(&full, &command, &self.ctx);
        assert_eq!(
            result, full_result,
            "the decision differs between the read tags' state and the full state for {command:?}"
        );
        When {
            given: self,
            command,
            result,
        }
    }
}

/// A decided command.
#[derive(Debug)]
pub struct When {
    given: Given,
    command: Command,
    result: Result<Decision, Rejection>,
}

impl When {
    /// The command was accepted; its events are folded into the full state, which must break
    /// no invariant.
    #[track_caller]
    pub fn accepted(self) -> Decision {
        let decision = match self.result {
            Ok(decision) => decision,
            Err(rejection) => panic!(
                "expected {:?} to be accepted, got {} ({rejection})",
                self.command,
                rejection.code()
            ),
        };
        let mut full =
            State::from_recorded(self.given.events.iter().map(|(id, event)| (*id, event)));
        let base = self.given.events.len();
        for (offset, event) in decision.events.iter().enumerate() {
            evolve_recorded(&mut full, event_id(base + offset), event);
        }
        assert_eq!(
            full.violations(),
            Vec::new(),
            "invariants after {:?}",
            self.command
        );
        decision
    }

    /// The command was accepted with exactly these events, in this order.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = Event>) -> Decision {
        let decision = self.accepted();
        let expected: Vec<Event> = expected.into_iter().collect();
        assert_eq!(decision.events, expected);
        decision
    }

    /// The command was accepted with a warning of this code.
    #[track_caller]
    pub fn then_warn(self, code: &str) -> Decision {
        let decision = self.accepted();
        assert!(
            decision
                .warnings
                .iter()
                .any(|warning| warning.code() == code),
            "expected warning {code}, got {:?}",
            decision.warnings
        );
        decision
    }

    /// The command was rejected with this code; the messages are well formed.
    #[track_caller]
    pub fn then_reject(self, code: &str) -> Rejection {
        let rejection = match self.result {
            Ok(decision) => panic!(
                "expected {code} for {:?}, got {:?}",
                self.command, decision.events
            ),
            Err(rejection) => rejection,
        };
        assert_eq!(rejection.code(), code, "{rejection}");
        check_message(&rejection.message_en());
        let vietnamese = rejection.message_vi();
        check_message(&vietnamese);
        assert_eq!(
            vietnamese.nfc().collect::<String>(),
            vietnamese,
            "Vietnamese messages are NFC"
        );
        rejection
    }
}

impl Given {
    /// The place of `command` ([`place`]), computed before any decision: on the state of its
    /// boundary as the register reads it (two phases, [`boundary::read`]) and on the full
    /// state. Both must agree, so the place needs nothing outside the command's boundary.
    #[track_caller]
    pub fn place(&self, command: impl Into<Command>) -> Place {
        let command = command.into();
        let Ok(read) = boundary::read(&Recorded(&self.events), &command);
        let full = State::from_recorded(self.events.iter().map(|(id, event)| (*id, event)));
        let narrow = place(&command, &read.state, self.ctx.today);
        assert_eq!(
            narrow,
            place(&command, &full, self.ctx.today),
            "the place differs between the boundary's state and the full state for {command:?}"
        );
        narrow
    }
}

/// A message is non-empty, has no trailing period and no capital first letter.
#[track_caller]
pub fn check_message(message: &str) {
    assert!(!message.is_empty());
    assert!(!message.ends_with('.'), "{message}");
    let first = message.chars().next().unwrap_or(' ');
    assert!(!first.is_uppercase(), "{message}");
}

/// Decides `commands` one after the other (as an import on [`TODAY`]) and returns every event,
/// so a test can set up a history by the same rules it tests.
#[track_caller]
pub fn history(commands: impl IntoIterator<Item = Command>) -> Vec<Event> {
    let mut events = Vec::new();
    extend_history(&mut events, commands);
    events
}

/// Decides `commands` after `events` (as an import on [`TODAY`]) and appends their events.
#[track_caller]
pub fn extend_history(events: &mut Vec<Event>, commands: impl IntoIterator<Item = Command>) {
    let mut state = State::from_recorded(
        events
            .iter()
            .enumerate()
            .map(|(n, event)| (event_id(n), event)),
    );
    let ctx = Context::new(TODAY, Actor::Import);
    for command in commands {
        let decision = match decide(&state, &command, &ctx) {
            Ok(decision) => decision,
            Err(rejection) => panic!("history command {command:?} rejected: {rejection}"),
        };
        for event in decision.events {
            evolve_recorded(&mut state, event_id(events.len()), &event);
            events.push(event);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fixture world.

/// A date from its text.
pub fn d(text: &str) -> NaiveDate {
    text.parse().expect("test dates are valid")
}

/// The default recording date.
pub const TODAY: NaiveDate = match NaiveDate::from_ymd_opt(2026, 9, 1) {
    Some(date) => date,
    None => panic!("valid"),
};

/// A legacy unit.
pub fn legacy(code: u32) -> UnitRef {
    UnitRef::legacy(UnitCode::new(code).expect("code"))
}

/// A 2025 unit.
pub fn y2025(code: u32) -> UnitRef {
    UnitRef::y2025(UnitCode::new(code).expect("code"))
}

/// Phường Phúc Xá, Quận Ba Đình, Hà Nội (legacy 00001 → 2025 00097 Phường Hồng Hà).
pub fn phuc_xa() -> UnitRef {
    legacy(1)
}

/// Phường Trúc Bạch, Quận Ba Đình, Hà Nội (legacy 00004 → 2025 00004 Phường Ba Đình).
pub fn truc_bach() -> UnitRef {
    legacy(4)
}

/// Phường Tân Định, Quận 1, TP Hồ Chí Minh (legacy 26734 → 2025 26737).
pub fn tan_dinh() -> UnitRef {
    legacy(26734)
}

/// An address.
pub fn address(unit: UnitRef, street: &str) -> Address {
    Address {
        unit,
        street: StreetLine::parse(street).expect("street"),
    }
}

/// A person.
pub fn person(n: u64) -> PersonId {
    PersonId::new(n)
}

/// A household.
pub fn household(n: u64) -> HouseholdId {
    HouseholdId::new(0x100 + n)
}

/// A dwelling.
pub fn dwelling(n: u64) -> DwellingId {
    DwellingId::new(0x200 + n)
}

/// An application.
pub fn application(n: u64) -> ApplicationId {
    ApplicationId::new(0x300 + n)
}

/// An, male, born 1980-05-10.
pub const AN: u64 = 1;
/// Bình, female, born 1982-02-20 (An's wife).
pub const BINH: u64 = 2;
/// Cường, male, born 2015-09-01 (their son, a minor).
pub const CUONG: u64 = 3;
/// Dung, female, born 1950-01-15 (elderly).
pub const DUNG: u64 = 4;
/// Em, male, born 1990-12-01.
pub const EM: u64 = 5;

/// The fixture persons: id, PIN, name, birth date, sex.
pub fn fixture_person(n: u64) -> RecordPerson {
    let (pin, name, birth, sex) = match n {
        AN => ("001080012345", "Nguyễn Văn An", "1980-05-10", Sex::Male),
        BINH => ("001182012346", "Trần Thị Bình", "1982-02-20", Sex::Female),
        CUONG => ("001215012347", "Nguyễn Văn Cường", "2015-09-01", Sex::Male),
        DUNG => ("001150012348", "Lê Thị Dung", "1950-01-15", Sex::Female),
        EM => ("079090012349", "Phạm Văn Em", "1990-12-01", Sex::Male),
        _ => panic!("no fixture person {n}"),
    };
    RecordPerson {
        person: person(n),
        pin: pin.parse::<Pin>().expect("pin"),
        name: PersonName::parse(name).expect("name"),
        birth_date: d(birth),
        sex,
    }
}

/// The `PersonRecorded` of a fixture person.
pub fn recorded(n: u64) -> Event {
    let c = fixture_person(n);
    Event::PersonRecorded(PersonRecorded {
        person: c.person,
        pin: c.pin,
        name: c.name,
        birth_date: c.birth_date,
        sex: c.sex,
    })
}

/// Every fixture person recorded.
pub fn everyone() -> Vec<Event> {
    [AN, BINH, CUONG, DUNG, EM]
        .into_iter()
        .map(recorded)
        .collect()
}

/// Dwelling 1: Số 1 phố Phúc Xá (legacy Phúc Xá).
pub fn home1() -> (DwellingId, Address) {
    (dwelling(1), address(phuc_xa(), "Số 1 phố Phúc Xá"))
}

/// Dwelling 2: Số 2 phố Trúc Bạch (legacy Trúc Bạch, same district, another ward).
pub fn home2() -> (DwellingId, Address) {
    (dwelling(2), address(truc_bach(), "Số 2 phố Trúc Bạch"))
}

/// Dwelling 3: Số 3 đường Hai Bà Trưng (legacy Tân Định, Hồ Chí Minh City).
pub fn home3() -> (DwellingId, Address) {
    (dwelling(3), address(tan_dinh(), "Số 3 đường Hai Bà Trưng"))
}

/// Dwelling 4: Số 5 phố Phúc Xá, another dwelling in Phúc Xá.
pub fn home4() -> (DwellingId, Address) {
    (dwelling(4), address(phuc_xa(), "Số 5 phố Phúc Xá"))
}

/// A legal basis text.
pub fn basis(text: &str) -> LegalBasis {
    LegalBasis::parse(text).expect("basis")
}

/// A reason text.
pub fn reason(text: &str) -> Reason {
    Reason::parse(text).expect("reason")
}

/// A decision reference.
pub fn decision_ref(number: &str, on: &str) -> DecisionRef {
    DecisionRef {
        number: DocumentNumber::parse(number).expect("number"),
        decided_on: d(on),
    }
}

/// A consent by a role, optionally by a named person.
pub fn consent(role: ConsentRole, by: Option<u64>) -> Consent {
    Consent {
        role,
        person: by.map(person),
    }
}

/// A member restatement.
pub fn member(n: u64, relationship: Relationship) -> MemberRelationship {
    MemberRelationship {
        person: person(n),
        relationship,
    }
}

/// A permanent registration founding household `h` at `home` on `date` (own home).
pub fn own_home(n: u64, h: u64, home: (DwellingId, Address), date: &str) -> RegisterPermanent {
    RegisterPermanent {
        person: person(n),
        effective_on: d(date),
        basis: PermanentBasis::OwnHome,
        address: home.1,
        dwelling: home.0,
        household: HouseholdChoice::Establish {
            household: household(h),
            residence_file_number: None,
        },
        leaving_household: None,
        head_succession: None,
        floor_area: None,
        consents: Vec::new(),
        dependency: None,
        court_fixed_residence: None,
        legal_basis: None,
        application: None,
    }
}

/// A permanent registration joining household `h` (headed by `head`) at `home` as a relative.
pub fn join(
    n: u64,
    h: u64,
    head: u64,
    relationship: Relationship,
    home: (DwellingId, Address),
    date: &str,
) -> RegisterPermanent {
    RegisterPermanent {
        basis: PermanentBasis::JoinRelative,
        household: HouseholdChoice::Join {
            household: household(h),
            relationship,
        },
        consents: vec![
            consent(ConsentRole::HouseholdHead, Some(head)),
            consent(ConsentRole::DwellingOwner, Some(head)),
        ],
        ..own_home(n, h, home, date)
    }
}

/// A temporary registration at `home` from `from` through `until`, without a household.
pub fn temporary(
    n: u64,
    home: (DwellingId, Address),
    from: &str,
    until: &str,
) -> RegisterTemporary {
    RegisterTemporary {
        person: person(n),
        effective_on: d(from),
        until: d(until),
        address: home.1,
        dwelling: home.0,
        household: None,
        consents: vec![consent(ConsentRole::DwellingOwner, None)],
        court_fixed_residence: None,
        legal_basis: None,
        application: None,
    }
}

/// A permanent deletion of `n` from household `h`.
pub fn delete_permanent(
    n: u64,
    h: u64,
    ground: residence_domain::grounds::PermanentDeletionGround,
    requester: Requester,
    date: &str,
) -> DeletePermanent {
    DeletePermanent {
        person: person(n),
        household: household(h),
        effective_on: d(date),
        ground,
        requester,
        head_succession: None,
        legal_basis: None,
        application: None,
    }
}

/// The family: An founds household 1 at home 1 on 2023-01-10; Bình (wife) and Cường (son)
/// join on 2023-02-01. Everyone is recorded.
pub fn family() -> Vec<Event> {
    let mut commands: Vec<Command> = [AN, BINH, CUONG, DUNG, EM]
        .into_iter()
        .map(|n| fixture_person(n).into())
        .collect();
    commands.push(own_home(AN, 1, home1(), "2023-01-10").into());
    commands.push(join(BINH, 1, AN, Relationship::Vo, home1(), "2023-02-01").into());
    let mut son = join(CUONG, 1, AN, Relationship::ConDe, home1(), "2023-02-01");
    son.consents
        .push(consent(ConsentRole::ParentOrGuardian, Some(BINH)));
    commands.push(son.into());
    history(commands)
}
