//! Rejections: a rule of the residence law said no to a command.
//!
//! Why one enum: every rule that can refuse a command is one variant here, with a stable
//! machine-readable [`Rejection::code`] (snake_case, never renamed: clients and tests match on
//! it), the offending values as fields, and a message in Vietnamese ([`Rejection::message_vi`],
//! NFC, full diacritics) and English ([`Rejection::message_en`], also the `Display` text). A
//! rejection is an answer about the world, not a technical failure: nothing was recorded, and
//! the API answers 422 with the code and both messages (409 is reserved for append conflicts,
//! which are not rejections). Each variant's documentation names the rule it stands for.
//!
//! Messages name internal ids and dates, never a person's name or address text beyond the unit
//! code, so they can be logged.

use chrono::NaiveDate;

use crate::address::Address;
use crate::command::Requester;
use crate::context::Actor;
use crate::event::{
    AbsenceClause, ConsentRole, DocumentNumber, EventType, FloorArea, PermanentBasis, Procedure,
    RegistrationKind, RestrictionKind,
};
use crate::event_id::EventId;
use crate::ids::{ApplicationId, DwellingId, HouseholdId, PersonId};
use crate::pin::Pin;
use crate::relationship::Relationship;
use crate::state::InvariantViolation;
use crate::units::UnitRef;

/// A rule said no. Every variant is answered with 422 and its [`Rejection::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    // --- Any command -------------------------------------------------------------------------
    /// The act would take effect after the recording date: the register records acts that
    /// have taken effect. → 422
    #[error("the act takes effect on {effective_on}, after today {today}")]
    EffectiveDateInFuture {
        /// The date asked for.
        effective_on: NaiveDate,
        /// The recording date.
        today: NaiveDate,
    },
    /// The actor may not record this command (e.g. a data feed deleting a registration, an
    /// officer re-establishing a PIN). → 422
    #[error("a {} may not record {command}", .actor.as_str())]
    ActorNotAuthorised {
        /// Who tried.
        actor: Actor,
        /// The command's name.
        command: &'static str,
    },
    /// I7: the person was never recorded from the population database. → 422
    #[error("person {person} is not recorded from the population database")]
    PersonNotRecorded {
        /// The person.
        person: PersonId,
    },
    /// The person died (or was declared dead or missing) before the act. → 422
    #[error("person {person} died on {died_on}")]
    PersonDeceased {
        /// The person.
        person: PersonId,
        /// The date of death as recorded.
        died_on: NaiveDate,
    },
    /// The unit code exists in neither map under that scheme. → 422
    #[error("unknown administrative unit {unit}")]
    UnitUnknown {
        /// The unit.
        unit: UnitRef,
    },
    /// The unit is not valid on the act's date: a legacy code after 2025-06-30 or a 2025 code
    /// before 2025-07-01. → 422
    #[error("administrative unit {unit} is not valid on {date}")]
    UnitNotValidOnDate {
        /// The unit.
        unit: UnitRef,
        /// The date.
        date: NaiveDate,
    },
    /// The dwelling is recorded at another address: a dwelling has one address at a time,
    /// changed only by recoding. → 422
    #[error("dwelling {dwelling} is at {}, not {}", show(.recorded), show(.given))]
    DwellingAddressMismatch {
        /// The dwelling.
        dwelling: DwellingId,
        /// Its address in the register on the act's date.
        recorded: Address,
        /// The address in the command.
        given: Address,
    },
    /// A period ends before it starts. → 422
    #[error("the period from {from} to {until} ends before it starts")]
    PeriodInvalid {
        /// The first day.
        from: NaiveDate,
        /// The last day.
        until: NaiveDate,
    },
    // --- Intake ------------------------------------------------------------------------------
    /// The command names an application that was never received. → 422
    #[error("application {application} was never received")]
    ApplicationUnknown {
        /// The application.
        application: ApplicationId,
    },
    /// The application was already refused or answered: an application gets one result. → 422
    #[error("application {application} was already refused or answered")]
    ApplicationClosed {
        /// The application.
        application: ApplicationId,
    },
    /// The application asked for another procedure than the command performs. → 422
    #[error("application {application} asks for {}, not {}", procedure_en(*.applied_for), procedure_en(*.command))]
    ApplicationProcedureMismatch {
        /// The application.
        application: ApplicationId,
        /// What it asked for.
        applied_for: Procedure,
        /// What the command does.
        command: Procedure,
    },
    /// The application id is taken. → 422
    #[error("application {application} was already received")]
    ApplicationExists {
        /// The application.
        application: ApplicationId,
    },
    /// An application concerns at least one person. → 422
    #[error("application {application} names no person it concerns")]
    ApplicationWithoutSubjects {
        /// The application.
        application: ApplicationId,
    },
    /// A completion slip (CT05) names at least one missing item. → 422
    #[error("the completion request for application {application} names nothing missing")]
    CompletionWithoutItems {
        /// The application.
        application: ApplicationId,
    },
    // --- Persons and PINs --------------------------------------------------------------------
    /// The person id is taken. → 422
    #[error("person {person} is already recorded")]
    PersonAlreadyRecorded {
        /// The person.
        person: PersonId,
    },
    /// I12: the PIN belongs (or belonged) to another person. → 422
    #[error("personal identification number {pin} is assigned to person {holder}")]
    PinAlreadyAssigned {
        /// The PIN.
        pin: Pin,
        /// Who holds or held it.
        holder: PersonId,
    },
    /// The PIN's century digit and year digits give another birth year than the recorded one.
    /// → 422
    #[error("personal identification number {pin} encodes birth year {encoded}, not {recorded}")]
    PinBirthYearMismatch {
        /// The PIN.
        pin: Pin,
        /// The year it encodes.
        encoded: i32,
        /// The recorded birth year.
        recorded: i32,
    },
    /// A birth date after the recording date. → 422
    #[error("birth date {birth_date} is after today {today}")]
    BirthDateInFuture {
        /// The birth date.
        birth_date: NaiveDate,
        /// The recording date.
        today: NaiveDate,
    },
    /// The PIN to cancel is not the person's current one. → 422
    #[error("person {person} holds {current}, not {given}")]
    PinNotCurrent {
        /// The person.
        person: PersonId,
        /// The PIN in the command.
        given: Pin,
        /// The PIN in the register.
        current: Pin,
    },
    /// The new PIN equals the old one. → 422
    #[error("the new personal identification number {pin} equals the old one")]
    PinUnchanged {
        /// The PIN.
        pin: Pin,
    },
    /// A civil-status adjustment changes nothing. → 422
    #[error("the adjustment changes no civil-status data of person {person}")]
    CivilStatusUnchanged {
        /// The person.
        person: PersonId,
    },
    // --- Permanent registration --------------------------------------------------------------
    /// I1/I2: the new permanent registration would overlap an existing one (it starts on or
    /// before the start of the current one, or before the end of a later-ended one). → 422
    #[error(
        "permanent registration of person {person} from {effective_on} overlaps the one from {existing_start}"
    )]
    PermanentRegistrationOverlaps {
        /// The person.
        person: PersonId,
        /// The new start.
        effective_on: NaiveDate,
        /// The start of the registration overlapped.
        existing_start: NaiveDate,
        /// Its end (exclusive), if it has ended.
        existing_end: Option<NaiveDate>,
    },
    /// The person is already registered in this household at this dwelling. → 422
    #[error("person {person} is already registered in household {household} there")]
    AlreadyRegisteredThere {
        /// The person.
        person: PersonId,
        /// The household.
        household: HouseholdId,
    },
    /// The household was never established. → 422
    #[error("household {household} does not exist")]
    HouseholdUnknown {
        /// The household.
        household: HouseholdId,
    },
    /// The household id is taken. → 422
    #[error("household {household} already exists")]
    HouseholdExists {
        /// The household.
        household: HouseholdId,
    },
    /// A permanent registration joins a household of permanent residents, a temporary one a
    /// household of temporary residents; a split concerns a permanent household. → 422
    #[error("household {household} is a {} household, not a {} one", kind_en(*.found), kind_en(*.expected))]
    HouseholdKindMismatch {
        /// The household.
        household: HouseholdId,
        /// The kind needed.
        expected: RegistrationKind,
        /// Its kind.
        found: RegistrationKind,
    },
    /// The household lives at another dwelling (a household is at one dwelling; a split never
    /// moves anyone). → 422
    #[error("household {household} is not at dwelling {dwelling}")]
    HouseholdNotAtDwelling {
        /// The household.
        household: HouseholdId,
        /// The dwelling in the command.
        dwelling: DwellingId,
    },
    /// The household the command names is not the one the register shows for the person
    /// (a stale or wrong file). → 422
    #[error("person {person} is in household {}, not {}", show_household(*.recorded), show_household(*.given))]
    HouseholdMismatch {
        /// The person.
        person: PersonId,
        /// The household in the register.
        recorded: Option<HouseholdId>,
        /// The household in the command.
        given: Option<HouseholdId>,
    },
    /// I6: the head leaves on a ground other than death or ex-officio deletion while others
    /// stay, and the command names no new head. → 422
    #[error("the head of household {household} leaves and no new head is named")]
    HouseholdHeadMissing {
        /// The household.
        household: HouseholdId,
    },
    /// The household is head vacant: nobody can consent as head until one is named. → 422
    #[error("household {household} has no head")]
    HouseholdHeadVacant {
        /// The household.
        household: HouseholdId,
    },
    /// The command names a new head where the law names none: the person leaving is not the
    /// head, nobody stays, or the head's death or ex-officio deletion leaves the post vacant for
    /// the members (or a court) to fill. → 422
    #[error("no new head may be named for household {} by this command", show_household(*.household))]
    NewHeadNotExpected {
        /// The household, if the person leaves one.
        household: Option<HouseholdId>,
    },
    /// Joining a relative (Art 20.2) means joining their household. → 422
    #[error("a registration on basis {} must join an existing household", basis_en(*.basis))]
    BasisRequiresJoiningHousehold {
        /// The basis.
        basis: PermanentBasis,
    },
    /// Art 20.2: the relationship is not on the closed list for the person's age and
    /// circumstances. → 422
    #[error("relationship {} to the head, at age {age_years}, is not one of Art 20.2", .relationship.vietnamese())]
    RelationshipNotEligibleForJoin {
        /// The relationship to the head.
        relationship: Relationship,
        /// The person's age on the date.
        age_years: u32,
    },
    /// The relationship cannot be used here: `CHU_HO` for a member who is not the head, a
    /// legacy paper-book text in a new act, or a change of the head's own relationship. → 422
    #[error("relationship {} cannot be used here", .relationship.vietnamese())]
    RelationshipInvalid {
        /// The relationship.
        relationship: Relationship,
    },
    /// A consent the law requires is missing (Art 20, 21, 25, 27, 28; I8 for minors). → 422
    #[error("the consent of the {} is missing", consent_en(*.role))]
    ConsentMissing {
        /// The role whose consent is missing.
        role: ConsentRole,
    },
    /// A consent was given by someone other than the person holding the role. → 422
    #[error("the {} is person {expected}, not {given}", consent_en(*.role))]
    ConsentByWrongPerson {
        /// The role.
        role: ConsentRole,
        /// Who holds it.
        expected: PersonId,
        /// Who consented.
        given: PersonId,
    },
    /// Art 20.3: the floor area of a rented, borrowed or shared dwelling is needed and unknown.
    /// → 422
    #[error("the floor area of dwelling {dwelling} is not known")]
    FloorAreaMissing {
        /// The dwelling.
        dwelling: DwellingId,
    },
    /// Art 20.3: less floor per person than the provincial minimum (never below 8 m²). → 422
    #[error("{floor_area} for {persons} persons is below {} per person", tenths_en(*.minimum_tenths_per_person))]
    FloorAreaBelowMinimum {
        /// The dwelling's floor area.
        floor_area: FloorArea,
        /// The persons registered there with the newcomer.
        persons: u32,
        /// The minimum per person, in tenths of m².
        minimum_tenths_per_person: u32,
    },
    /// I9, Art 23: new registration is barred at this place (from 2026-07-01 a permanent
    /// registration joining a spouse, child or parent is admitted). → 422
    #[error("dwelling {dwelling} is an Art 23 place ({}): registration is barred", restriction_en(*.kind))]
    PlaceBarredArt23 {
        /// The dwelling.
        dwelling: DwellingId,
        /// The restriction in force.
        kind: RestrictionKind,
    },
    // --- Temporary registration --------------------------------------------------------------
    /// I1: the term would overlap another temporary registration of the person. → 422
    #[error(
        "temporary registration of person {person} from {effective_on} to {until} overlaps the one from {existing_start} to {existing_until}"
    )]
    TemporaryRegistrationOverlaps {
        /// The person.
        person: PersonId,
        /// The new first day.
        effective_on: NaiveDate,
        /// The new last day.
        until: NaiveDate,
        /// The other registration's first day.
        existing_start: NaiveDate,
        /// The other registration's last day.
        existing_until: NaiveDate,
    },
    /// I4: a temporary term is at most two years. → 422
    #[error("a temporary term from {from} may run to {maximum_until} at the latest, not {until}")]
    TemporaryTermTooLong {
        /// The first day of the term.
        from: NaiveDate,
        /// The last day asked for.
        until: NaiveDate,
        /// The latest last day allowed.
        maximum_until: NaiveDate,
    },
    /// I3: a temporary registration is only for living outside the commune of the permanent
    /// residence; a move inside it is a current-address update. → 422
    #[error(
        "person {person} is permanently registered in {unit}: update the current address instead"
    )]
    TemporaryInPermanentCommune {
        /// The person.
        person: PersonId,
        /// The commune.
        unit: UnitRef,
    },
    /// An extension is filed within the 15 days before the term ends. → 422
    #[error(
        "an extension of a term ending {until} is filed from {window_opens} until the day before, not on {filed_on}"
    )]
    ExtensionOutsideWindow {
        /// The filing day.
        filed_on: NaiveDate,
        /// The last day of the term.
        until: NaiveDate,
        /// The first filing day.
        window_opens: NaiveDate,
    },
    /// An extension moves the last day later. → 422
    #[error("the extension to {until} does not go beyond {previous_until}")]
    ExtensionNotLater {
        /// The current last day.
        previous_until: NaiveDate,
        /// The last day asked for.
        until: NaiveDate,
    },
    /// No temporary registration of the person (at that dwelling) holds on the date. → 422
    #[error("person {person} has no temporary registration{} on {date}", at_dwelling(*.dwelling))]
    NoActiveTemporaryRegistration {
        /// The person.
        person: PersonId,
        /// The dwelling named, if any.
        dwelling: Option<DwellingId>,
        /// The date.
        date: NaiveDate,
    },
    /// No permanent registration of the person holds on the date. → 422
    #[error("person {person} has no permanent registration on {date}")]
    NoActivePermanentRegistration {
        /// The person.
        person: PersonId,
        /// The date.
        date: NaiveDate,
    },
    /// The person has neither a permanent nor a temporary registration on the date. → 422
    #[error("person {person} has no registration on {date}")]
    NoActiveRegistration {
        /// The person.
        person: PersonId,
        /// The date.
        date: NaiveDate,
    },
    // --- Deletion and annulment --------------------------------------------------------------
    /// NĐ154 Art 9–10 (NĐ58/2026): this requester may not set a deletion on this ground in
    /// motion (death, annulment and nationality are ex officio only). → 422
    #[error("a deletion on ground {ground} cannot be requested by {}", .requester.as_str())]
    GroundNotAllowedForRequester {
        /// The ground as "24.1.a" or "29.1.b".
        ground: &'static str,
        /// Who asked.
        requester: Requester,
    },
    /// A deletion cannot take effect before the registration started. → 422
    #[error("the deletion on {effective_on} is before the registration started on {start}")]
    DeletionBeforeRegistrationStart {
        /// The registration's first day.
        start: NaiveDate,
        /// The deletion's date.
        effective_on: NaiveDate,
    },
    /// Ground 24.1.c / 29.1.b needs an annulment of the registration first (Art 35). → 422
    #[error("the registration of person {person} was not annulled")]
    AnnulmentMissing {
        /// The person.
        person: PersonId,
    },
    /// Ground 24.1.d: the absence is accounted for by a temporary registration or a declared
    /// absence on the date. → 422
    #[error(
        "the absence of person {person} on {date} is covered by a temporary registration or a declared absence"
    )]
    AbsenceAccountedFor {
        /// The person.
        person: PersonId,
        /// The date.
        date: NaiveDate,
    },
    /// The event to annul is not a registration of this person and kind in the register.
    /// → 422
    #[error("event {event} is not a registration of this person of that kind")]
    AnnulledEventUnknown {
        /// The event.
        event: EventId,
    },
    /// The registration was already annulled. → 422
    #[error("registration {event} was already annulled")]
    RegistrationAlreadyAnnulled {
        /// The event.
        event: EventId,
    },
    // --- Places ------------------------------------------------------------------------------
    /// The dwelling is not in the register. → 422
    #[error("dwelling {dwelling} is not in the register")]
    DwellingUnknown {
        /// The dwelling.
        dwelling: DwellingId,
    },
    /// The restriction is already in force. → 422
    #[error("dwelling {dwelling} is already restricted as {}", restriction_en(*.kind))]
    RestrictionAlreadyActive {
        /// The dwelling.
        dwelling: DwellingId,
        /// The kind.
        kind: RestrictionKind,
    },
    /// No restriction of that kind is in force to lift. → 422
    #[error("dwelling {dwelling} is not restricted as {}", restriction_en(*.kind))]
    RestrictionNotActive {
        /// The dwelling.
        dwelling: DwellingId,
        /// The kind.
        kind: RestrictionKind,
    },
    // --- Households --------------------------------------------------------------------------
    /// The person is not a member of the household. → 422
    #[error("person {person} is not a member of household {household}")]
    PersonNotMember {
        /// The person.
        person: PersonId,
        /// The household.
        household: HouseholdId,
    },
    /// The new head is already the head. → 422
    #[error("person {head} is already the head of household {household}")]
    HeadUnchanged {
        /// The household.
        household: HouseholdId,
        /// The head.
        head: PersonId,
    },
    /// A change of head restates every other member's relationship, exactly once each. → 422
    #[error(
        "household {household}: members not restated {missing:?}, not members or repeated {unexpected:?}"
    )]
    MembersNotRestated {
        /// The household.
        household: HouseholdId,
        /// Members left out.
        missing: Vec<PersonId>,
        /// Persons listed who are not (other) members, or listed twice.
        unexpected: Vec<PersonId>,
    },
    /// Art 10: the head has full civil capacity, unless no member has it or a court decided.
    /// → 422
    #[error("person {person}, aged {age_years}, lacks full civil capacity to be head")]
    HeadLacksCapacity {
        /// The person.
        person: PersonId,
        /// Their age.
        age_years: u32,
    },
    /// The relationship is the same as before. → 422
    #[error("the relationship of person {person} does not change")]
    RelationshipUnchanged {
        /// The person.
        person: PersonId,
    },
    /// Art 25.1(a): at least one person splitting off has full civil capacity. → 422
    #[error("nobody splitting off from household {household} has full civil capacity")]
    SplitMemberLacksCapacity {
        /// The household.
        household: HouseholdId,
    },
    /// A split leaves at least one member in the old household. → 422
    #[error("the split would leave household {household} without members")]
    SplitLeavesHouseholdEmpty {
        /// The household.
        household: HouseholdId,
    },
    /// The book was already revoked. → 422
    #[error("book {book_number} of household {household} was already revoked")]
    LegacyBookAlreadyRevoked {
        /// The household.
        household: HouseholdId,
        /// The book number.
        book_number: DocumentNumber,
    },
    // --- Declarations ------------------------------------------------------------------------
    /// Art 19 is for people with neither a permanent nor a temporary registration. → 422
    #[error("person {person} has a registered residence on {date}")]
    PersonHasRegisteredResidence {
        /// The person.
        person: PersonId,
        /// The date.
        date: NaiveDate,
    },
    /// I3: a current-address update stays inside the commune of the registration. → 422
    #[error("{unit} is outside the commune of the registration {registered_unit}")]
    AddressOutsideRegistrationCommune {
        /// The new address's unit.
        unit: UnitRef,
        /// The registration's unit.
        registered_unit: UnitRef,
    },
    /// A stay (lưu trú) is shorter than 30 days. → 422
    #[error("a stay from {from} to {until} is longer than {days_max} days")]
    StayTooLong {
        /// The first day.
        from: NaiveDate,
        /// The last day.
        until: NaiveDate,
        /// The longest stay in days.
        days_max: i64,
    },
    /// Art 31.1: the absence is shorter than the clause is about. → 422
    #[error("clause {} concerns absences of {minimum_months} months or more", clause_letter(*.clause))]
    AbsenceShorterThanClause {
        /// The clause.
        clause: AbsenceClause,
        /// The minimum months.
        minimum_months: u32,
    },
    // --- Recoding and the reorganisation -----------------------------------------------------
    /// The new address equals the old one. → 422
    #[error("the address of dwelling {dwelling} does not change")]
    AddressUnchanged {
        /// The dwelling.
        dwelling: DwellingId,
    },
    /// A recoding by the reorganisation moves a legacy ward to one of its successors. → 422
    #[error("{new} is not a successor of {old} in the conversion table")]
    RecodingNotASuccessor {
        /// The old unit.
        old: UnitRef,
        /// The new unit.
        new: UnitRef,
    },
    /// The 2025 reorganisation is recorded once. → 422
    #[error("the 2025 reorganisation is already recorded")]
    ReorganisationAlreadyApplied,
    /// The reorganisation takes effect on 2025-07-01 and cannot be recorded before. → 422
    #[error("the 2025 reorganisation is not in force on {today}")]
    ReorganisationNotInForce {
        /// The recording date.
        today: NaiveDate,
    },
    // --- Certificates ------------------------------------------------------------------------
    /// A CT07 confirms a registration or an Art 19 declaration; the person has none. → 422
    #[error("person {person} has no residence to confirm on {date}")]
    NoResidenceToConfirm {
        /// The person.
        person: PersonId,
        /// The date.
        date: NaiveDate,
    },
    // --- Corrections -------------------------------------------------------------------------
    /// The event to correct is not among the events read. → 422
    #[error("event {event} is not in the register read for this correction")]
    CorrectedEventUnknown {
        /// The event.
        event: EventId,
    },
    /// A correction neither replaces with nor corrects a correction: correct the original
    /// again. → 422
    #[error("event {event} is or would be a correction of a correction")]
    CorrectionNested {
        /// The event named.
        event: EventId,
    },
    /// The replacement has another type than the corrected event. → 422
    #[error("a {expected} cannot be replaced by a {found}")]
    CorrectionTypeMismatch {
        /// The corrected event's type.
        expected: EventType,
        /// The replacement's type.
        found: EventType,
    },
    /// The replacement equals what the register already reads. → 422
    #[error("the correction of event {event} changes nothing")]
    CorrectionChangesNothing {
        /// The event.
        event: EventId,
    },
    /// With the replacement, the register would break an invariant. → 422
    #[error("the correction would break an invariant: {violation}")]
    CorrectionBreaksInvariant {
        /// The invariant broken.
        violation: InvariantViolation,
    },
}

impl Rejection {
    /// The stable machine-readable code (snake_case).
    pub fn code(&self) -> &'static str {
        match self {
            Self::EffectiveDateInFuture { .. } => "effective_date_in_future",
            Self::ActorNotAuthorised { .. } => "actor_not_authorised",
            Self::PersonNotRecorded { .. } => "person_not_recorded",
            Self::PersonDeceased { .. } => "person_deceased",
            Self::UnitUnknown { .. } => "unit_unknown",
            Self::UnitNotValidOnDate { .. } => "unit_not_valid_on_date",
            Self::DwellingAddressMismatch { .. } => "dwelling_address_mismatch",
            Self::PeriodInvalid { .. } => "period_invalid",
            Self::ApplicationUnknown { .. } => "application_unknown",
            Self::ApplicationClosed { .. } => "application_closed",
            Self::ApplicationProcedureMismatch { .. } => "application_procedure_mismatch",
            Self::ApplicationExists { .. } => "application_exists",
            Self::ApplicationWithoutSubjects { .. } => "application_without_subjects",
            Self::CompletionWithoutItems { .. } => "completion_without_items",
            Self::PersonAlreadyRecorded { .. } => "person_already_recorded",
            Self::PinAlreadyAssigned { .. } => "pin_already_assigned",
            Self::PinBirthYearMismatch { .. } => "pin_birth_year_mismatch",
            Self::BirthDateInFuture { .. } => "birth_date_in_future",
            Self::PinNotCurrent { .. } => "pin_not_current",
            Self::PinUnchanged { .. } => "pin_unchanged",
            Self::CivilStatusUnchanged { .. } => "civil_status_unchanged",
            Self::PermanentRegistrationOverlaps { .. } => "permanent_registration_overlaps",
            Self::AlreadyRegisteredThere { .. } => "already_registered_there",
            Self::HouseholdUnknown { .. } => "household_unknown",
            Self::HouseholdExists { .. } => "household_exists",
            Self::HouseholdKindMismatch { .. } => "household_kind_mismatch",
            Self::HouseholdNotAtDwelling { .. } => "household_not_at_dwelling",
            Self::HouseholdMismatch { .. } => "household_mismatch",
            Self::HouseholdHeadMissing { .. } => "household_head_missing",
            Self::HouseholdHeadVacant { .. } => "household_head_vacant",
            Self::NewHeadNotExpected { .. } => "new_head_not_expected",
            Self::BasisRequiresJoiningHousehold { .. } => "basis_requires_joining_household",
            Self::RelationshipNotEligibleForJoin { .. } => "relationship_not_eligible_for_join",
            Self::RelationshipInvalid { .. } => "relationship_invalid",
            Self::ConsentMissing { .. } => "consent_missing",
            Self::ConsentByWrongPerson { .. } => "consent_by_wrong_person",
            Self::FloorAreaMissing { .. } => "floor_area_missing",
            Self::FloorAreaBelowMinimum { .. } => "floor_area_below_minimum",
            Self::PlaceBarredArt23 { .. } => "place_barred_art23",
            Self::TemporaryRegistrationOverlaps { .. } => "temporary_registration_overlaps",
            Self::TemporaryTermTooLong { .. } => "temporary_term_too_long",
            Self::TemporaryInPermanentCommune { .. } => "temporary_in_permanent_commune",
            Self::ExtensionOutsideWindow { .. } => "extension_outside_window",
            Self::ExtensionNotLater { .. } => "extension_not_later",
            Self::NoActiveTemporaryRegistration { .. } => "no_active_temporary_registration",
            Self::NoActivePermanentRegistration { .. } => "no_active_permanent_registration",
            Self::NoActiveRegistration { .. } => "no_active_registration",
            Self::GroundNotAllowedForRequester { .. } => "ground_not_allowed_for_requester",
            Self::DeletionBeforeRegistrationStart { .. } => "deletion_before_registration_start",
            Self::AnnulmentMissing { .. } => "annulment_missing",
            Self::AbsenceAccountedFor { .. } => "absence_accounted_for",
            Self::AnnulledEventUnknown { .. } => "annulled_event_unknown",
            Self::RegistrationAlreadyAnnulled { .. } => "registration_already_annulled",
            Self::DwellingUnknown { .. } => "dwelling_unknown",
            Self::RestrictionAlreadyActive { .. } => "restriction_already_active",
            Self::RestrictionNotActive { .. } => "restriction_not_active",
            Self::PersonNotMember { .. } => "person_not_member",
            Self::HeadUnchanged { .. } => "head_unchanged",
            Self::MembersNotRestated { .. } => "members_not_restated",
            Self::HeadLacksCapacity { .. } => "head_lacks_capacity",
            Self::RelationshipUnchanged { .. } => "relationship_unchanged",
            Self::SplitMemberLacksCapacity { .. } => "split_member_lacks_capacity",
            Self::SplitLeavesHouseholdEmpty { .. } => "split_leaves_household_empty",
            Self::LegacyBookAlreadyRevoked { .. } => "legacy_book_already_revoked",
            Self::PersonHasRegisteredResidence { .. } => "person_has_registered_residence",
            Self::AddressOutsideRegistrationCommune { .. } => {
                "address_outside_registration_commune"
            }
            Self::StayTooLong { .. } => "stay_too_long",
            Self::AbsenceShorterThanClause { .. } => "absence_shorter_than_clause",
            Self::AddressUnchanged { .. } => "address_unchanged",
            Self::RecodingNotASuccessor { .. } => "recoding_not_a_successor",
            Self::ReorganisationAlreadyApplied => "reorganisation_already_applied",
            Self::ReorganisationNotInForce { .. } => "reorganisation_not_in_force",
            Self::NoResidenceToConfirm { .. } => "no_residence_to_confirm",
            Self::CorrectedEventUnknown { .. } => "corrected_event_unknown",
            Self::CorrectionNested { .. } => "correction_nested",
            Self::CorrectionTypeMismatch { .. } => "correction_type_mismatch",
            Self::CorrectionChangesNothing { .. } => "correction_changes_nothing",
            Self::CorrectionBreaksInvariant { .. } => "correction_breaks_invariant",
        }
    }

    /// The message in English (lowercase, no trailing period); the same as `Display`.
    pub fn message_en(&self) -> String {
        self.to_string()
    }

    /// The message in Vietnamese (NFC, full diacritics, lowercase, no trailing period).
    pub fn message_vi(&self) -> String {
        match self {
            Self::EffectiveDateInFuture {
                effective_on,
                today,
            } => {
                format!("ngày có hiệu lực {effective_on} sau ngày hôm nay {today}")
            }
            Self::ActorNotAuthorised { actor, command } => {
                format!(
                    "{} không có thẩm quyền ghi nhận {command}",
                    actor_vi(*actor)
                )
            }
            Self::PersonNotRecorded { person } => {
                format!("công dân {person} chưa được ghi nhận từ cơ sở dữ liệu quốc gia về dân cư")
            }
            Self::PersonDeceased { person, died_on } => {
                format!("công dân {person} đã chết ngày {died_on}")
            }
            Self::UnitUnknown { unit } => format!("không có đơn vị hành chính {unit}"),
            Self::UnitNotValidOnDate { unit, date } => {
                format!("đơn vị hành chính {unit} không có hiệu lực vào ngày {date}")
            }
            Self::DwellingAddressMismatch {
                dwelling,
                recorded,
                given,
            } => format!(
                "chỗ ở {dwelling} có địa chỉ {}, không phải {}",
                show(recorded),
                show(given)
            ),
            Self::PeriodInvalid { from, until } => {
                format!("khoảng thời gian từ {from} đến {until} kết thúc trước khi bắt đầu")
            }
            Self::ApplicationUnknown { application } => {
                format!("chưa tiếp nhận hồ sơ {application}")
            }
            Self::ApplicationClosed { application } => {
                format!("hồ sơ {application} đã bị từ chối hoặc đã có kết quả")
            }
            Self::ApplicationProcedureMismatch {
                application,
                applied_for,
                command,
            } => format!(
                "hồ sơ {application} đề nghị {}, không phải {}",
                procedure_vi(*applied_for),
                procedure_vi(*command)
            ),
            Self::ApplicationExists { application } => {
                format!("hồ sơ {application} đã được tiếp nhận")
            }
            Self::ApplicationWithoutSubjects { application } => {
                format!("hồ sơ {application} không nêu công dân nào")
            }
            Self::CompletionWithoutItems { application } => {
                format!(
                    "phiếu hướng dẫn bổ sung hồ sơ {application} không nêu nội dung cần bổ sung"
                )
            }
            Self::PersonAlreadyRecorded { person } => {
                format!("công dân {person} đã được ghi nhận")
            }
            Self::PinAlreadyAssigned { pin, holder } => {
                format!("số định danh cá nhân {pin} đã được cấp cho công dân {holder}")
            }
            Self::PinBirthYearMismatch {
                pin,
                encoded,
                recorded,
            } => {
                format!("số định danh cá nhân {pin} mang năm sinh {encoded}, không phải {recorded}")
            }
            Self::BirthDateInFuture { birth_date, today } => {
                format!("ngày sinh {birth_date} sau ngày hôm nay {today}")
            }
            Self::PinNotCurrent {
                person,
                given,
                current,
            } => format!("công dân {person} mang số {current}, không phải {given}"),
            Self::PinUnchanged { pin } => {
                format!("số định danh cá nhân mới {pin} trùng với số cũ")
            }
            Self::CivilStatusUnchanged { person } => {
                format!(
                    "việc điều chỉnh không thay đổi thông tin hộ tịch nào của công dân {person}"
                )
            }
            Self::PermanentRegistrationOverlaps {
                person,
                effective_on,
                existing_start,
                ..
            } => format!(
                "đăng ký thường trú của công dân {person} từ {effective_on} trùng với đăng ký từ {existing_start}"
            ),
            Self::AlreadyRegisteredThere { person, household } => {
                format!(
                    "công dân {person} đã đăng ký thường trú trong hộ {household} tại chỗ ở này"
                )
            }
            Self::HouseholdUnknown { household } => format!("không có hộ gia đình {household}"),
            Self::HouseholdExists { household } => format!("hộ gia đình {household} đã tồn tại"),
            Self::HouseholdKindMismatch {
                household,
                expected,
                found,
            } => format!(
                "hộ {household} là hộ {}, không phải hộ {}",
                kind_vi(*found),
                kind_vi(*expected)
            ),
            Self::HouseholdNotAtDwelling {
                household,
                dwelling,
            } => format!("hộ {household} không ở tại chỗ ở {dwelling}"),
            Self::HouseholdMismatch {
                person,
                recorded,
                given,
            } => format!(
                "công dân {person} thuộc hộ {}, không phải {}",
                show_household_vi(*recorded),
                show_household_vi(*given)
            ),
            Self::HouseholdHeadMissing { household } => {
                format!("chủ hộ {household} rời hộ mà không có chủ hộ mới")
            }
            Self::HouseholdHeadVacant { household } => {
                format!("hộ {household} đang không có chủ hộ")
            }
            Self::NewHeadNotExpected { household } => {
                format!(
                    "không được xác định chủ hộ mới của hộ {} trong thủ tục này",
                    show_household_vi(*household)
                )
            }
            Self::BasisRequiresJoiningHousehold { basis } => format!(
                "đăng ký thường trú theo căn cứ {} phải nhập vào hộ đã có",
                basis_vi(*basis)
            ),
            Self::RelationshipNotEligibleForJoin {
                relationship,
                age_years,
            } => format!(
                "quan hệ \"{}\" với chủ hộ, ở tuổi {age_years}, không thuộc các trường hợp của khoản 2 Điều 20",
                relationship.vietnamese()
            ),
            Self::RelationshipInvalid { relationship } => format!(
                "không được dùng quan hệ \"{}\" trong trường hợp này",
                relationship.vietnamese()
            ),
            Self::ConsentMissing { role } => {
                format!("thiếu ý kiến đồng ý của {}", consent_vi(*role))
            }
            Self::ConsentByWrongPerson {
                role,
                expected,
                given,
            } => format!(
                "{} là công dân {expected}, không phải {given}",
                consent_vi(*role)
            ),
            Self::FloorAreaMissing { dwelling } => {
                format!("chưa có diện tích sàn của chỗ ở {dwelling}")
            }
            Self::FloorAreaBelowMinimum {
                floor_area,
                persons,
                minimum_tenths_per_person,
            } => format!(
                "diện tích {floor_area} cho {persons} người thấp hơn mức tối thiểu {} mỗi người",
                tenths_en(*minimum_tenths_per_person)
            ),
            Self::PlaceBarredArt23 { dwelling, kind } => format!(
                "chỗ ở {dwelling} thuộc địa điểm không được đăng ký cư trú mới theo Điều 23 ({})",
                restriction_vi(*kind)
            ),
            Self::TemporaryRegistrationOverlaps {
                person,
                effective_on,
                until,
                existing_start,
                existing_until,
            } => format!(
                "đăng ký tạm trú của công dân {person} từ {effective_on} đến {until} trùng với đăng ký từ {existing_start} đến {existing_until}"
            ),
            Self::TemporaryTermTooLong {
                from,
                until,
                maximum_until,
            } => format!(
                "thời hạn tạm trú từ {from} chỉ được đến muộn nhất {maximum_until}, không phải {until}"
            ),
            Self::TemporaryInPermanentCommune { person, unit } => format!(
                "công dân {person} đã đăng ký thường trú tại {unit}: cần cập nhật nơi ở hiện tại thay vì đăng ký tạm trú"
            ),
            Self::ExtensionOutsideWindow {
                filed_on,
                until,
                window_opens,
            } => format!(
                "gia hạn thời hạn tạm trú hết ngày {until} phải nộp từ {window_opens} đến trước ngày đó, không phải ngày {filed_on}"
            ),
            Self::ExtensionNotLater {
                previous_until,
                until,
            } => format!("gia hạn đến {until} không vượt quá thời hạn hiện tại {previous_until}"),
            Self::NoActiveTemporaryRegistration {
                person,
                dwelling,
                date,
            } => format!(
                "công dân {person} không có đăng ký tạm trú{} vào ngày {date}",
                at_dwelling_vi(*dwelling)
            ),
            Self::NoActivePermanentRegistration { person, date } => {
                format!("công dân {person} không có đăng ký thường trú vào ngày {date}")
            }
            Self::NoActiveRegistration { person, date } => {
                format!("công dân {person} không có đăng ký cư trú vào ngày {date}")
            }
            Self::GroundNotAllowedForRequester { ground, requester } => format!(
                "{} không được đề nghị xóa đăng ký theo điểm {ground}",
                requester_vi(*requester)
            ),
            Self::DeletionBeforeRegistrationStart {
                start,
                effective_on,
            } => format!("ngày xóa đăng ký {effective_on} trước ngày bắt đầu đăng ký {start}"),
            Self::AnnulmentMissing { person } => {
                format!("đăng ký của công dân {person} chưa bị hủy bỏ")
            }
            Self::AbsenceAccountedFor { person, date } => format!(
                "việc vắng mặt của công dân {person} vào ngày {date} đã có đăng ký tạm trú hoặc khai báo tạm vắng"
            ),
            Self::AnnulledEventUnknown { event } => {
                format!("sự kiện {event} không phải là đăng ký loại này của công dân")
            }
            Self::RegistrationAlreadyAnnulled { event } => {
                format!("đăng ký {event} đã bị hủy bỏ")
            }
            Self::DwellingUnknown { dwelling } => {
                format!("chỗ ở {dwelling} chưa có trong cơ sở dữ liệu")
            }
            Self::RestrictionAlreadyActive { dwelling, kind } => format!(
                "chỗ ở {dwelling} đã thuộc địa điểm hạn chế ({})",
                restriction_vi(*kind)
            ),
            Self::RestrictionNotActive { dwelling, kind } => format!(
                "chỗ ở {dwelling} không thuộc địa điểm hạn chế ({})",
                restriction_vi(*kind)
            ),
            Self::PersonNotMember { person, household } => {
                format!("công dân {person} không phải thành viên hộ {household}")
            }
            Self::HeadUnchanged { household, head } => {
                format!("công dân {head} đã là chủ hộ {household}")
            }
            Self::MembersNotRestated {
                household,
                missing,
                unexpected,
            } => format!(
                "hộ {household}: chưa xác định lại quan hệ của {}; không phải thành viên hoặc bị lặp: {}",
                list(missing),
                list(unexpected)
            ),
            Self::HeadLacksCapacity { person, age_years } => format!(
                "công dân {person}, {age_years} tuổi, chưa có năng lực hành vi dân sự đầy đủ để làm chủ hộ"
            ),
            Self::RelationshipUnchanged { person } => {
                format!("quan hệ với chủ hộ của công dân {person} không thay đổi")
            }
            Self::SplitMemberLacksCapacity { household } => {
                format!("không ai tách khỏi hộ {household} có năng lực hành vi dân sự đầy đủ")
            }
            Self::SplitLeavesHouseholdEmpty { household } => {
                format!("tách hộ sẽ khiến hộ {household} không còn thành viên")
            }
            Self::LegacyBookAlreadyRevoked {
                household,
                book_number,
            } => format!("sổ {book_number} của hộ {household} đã bị thu hồi"),
            Self::PersonHasRegisteredResidence { person, date } => {
                format!("công dân {person} đã có nơi cư trú đăng ký vào ngày {date}")
            }
            Self::AddressOutsideRegistrationCommune {
                unit,
                registered_unit,
            } => format!("{unit} nằm ngoài xã, phường nơi đăng ký {registered_unit}"),
            Self::StayTooLong {
                from,
                until,
                days_max,
            } => format!("thời gian lưu trú từ {from} đến {until} dài hơn {days_max} ngày"),
            Self::AbsenceShorterThanClause {
                clause,
                minimum_months,
            } => format!(
                "điểm {} khoản 1 Điều 31 áp dụng khi vắng mặt từ {minimum_months} tháng trở lên",
                clause_letter_vi(*clause)
            ),
            Self::AddressUnchanged { dwelling } => {
                format!("địa chỉ của chỗ ở {dwelling} không thay đổi")
            }
            Self::RecodingNotASuccessor { old, new } => {
                format!("{new} không phải đơn vị kế thừa {old} theo bảng chuyển đổi")
            }
            Self::ReorganisationAlreadyApplied => {
                "việc sắp xếp đơn vị hành chính năm 2025 đã được ghi nhận".to_owned()
            }
            Self::ReorganisationNotInForce { today } => {
                format!("việc sắp xếp đơn vị hành chính năm 2025 chưa có hiệu lực vào ngày {today}")
            }
            Self::NoResidenceToConfirm { person, date } => {
                format!("công dân {person} không có thông tin cư trú để xác nhận vào ngày {date}")
            }
            Self::CorrectedEventUnknown { event } => {
                format!("không tìm thấy sự kiện {event} trong dữ liệu đã đọc để đính chính")
            }
            Self::CorrectionNested { event } => {
                format!("sự kiện {event} là hoặc sẽ là đính chính của một đính chính")
            }
            Self::CorrectionTypeMismatch { expected, found } => {
                format!("không thể thay {expected} bằng {found}")
            }
            Self::CorrectionChangesNothing { event } => {
                format!("việc đính chính sự kiện {event} không thay đổi gì")
            }
            Self::CorrectionBreaksInvariant { violation } => {
                format!(
                    "việc đính chính sẽ vi phạm ràng buộc: {}",
                    violation.message_vi()
                )
            }
        }
    }
}

/// An address as `unit street`.
fn show(address: &Address) -> String {
    format!("{} {}", address.unit, address.street)
}

fn show_household(household: Option<HouseholdId>) -> String {
    household.map_or_else(|| "none".to_owned(), |id| id.to_string())
}

fn show_household_vi(household: Option<HouseholdId>) -> String {
    household.map_or_else(|| "không hộ nào".to_owned(), |id| id.to_string())
}

fn list(persons: &[PersonId]) -> String {
    if persons.is_empty() {
        return "-".to_owned();
    }
    persons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn at_dwelling(dwelling: Option<DwellingId>) -> String {
    dwelling.map_or_else(String::new, |id| format!(" at dwelling {id}"))
}

fn at_dwelling_vi(dwelling: Option<DwellingId>) -> String {
    dwelling.map_or_else(String::new, |id| format!(" tại chỗ ở {id}"))
}

/// Tenths of a square metre as "15 m²" or "7.5 m²".
fn tenths_en(tenths: u32) -> String {
    if tenths.is_multiple_of(10) {
        format!("{} m²", tenths / 10)
    } else {
        format!("{}.{} m²", tenths / 10, tenths % 10)
    }
}

fn actor_vi(actor: Actor) -> &'static str {
    match actor {
        Actor::Officer => "cán bộ đăng ký cư trú",
        Actor::SuperiorOfficer => "thủ trưởng cơ quan cấp trên trực tiếp",
        Actor::PopulationDatabase => "cơ sở dữ liệu quốc gia về dân cư",
        Actor::RegisterTimer => "bộ đếm thời hạn của cơ sở dữ liệu",
        Actor::Import => "việc chuyển đổi dữ liệu sổ cũ",
    }
}

fn requester_vi(requester: Requester) -> &'static str {
    match requester {
        Requester::PersonConcerned => "công dân",
        Requester::Household => "hộ gia đình",
        Requester::LegalRepresentative => "người đại diện hợp pháp",
        Requester::ExOfficio => "cơ quan đăng ký cư trú",
    }
}

fn procedure_en(procedure: Procedure) -> &'static str {
    match procedure {
        Procedure::PermanentRegistration => "permanent registration",
        Procedure::TemporaryRegistration => "temporary registration",
        Procedure::TemporaryExtension => "extension of temporary residence",
        Procedure::PermanentDeletion => "deletion of permanent registration",
        Procedure::TemporaryDeletion => "deletion of temporary registration",
        Procedure::HouseholdSplit => "household split",
        Procedure::HeadChange => "change of head",
        Procedure::RelationshipChange => "change of relationship",
        Procedure::CivilStatusAdjustment => "civil-status adjustment",
        Procedure::ResidenceDeclaration => "residence declaration",
        Procedure::CurrentAddressUpdate => "current-address update",
        Procedure::TemporaryAbsence => "temporary absence",
        Procedure::ResidenceConfirmation => "residence confirmation",
    }
}

fn procedure_vi(procedure: Procedure) -> &'static str {
    match procedure {
        Procedure::PermanentRegistration => "đăng ký thường trú",
        Procedure::TemporaryRegistration => "đăng ký tạm trú",
        Procedure::TemporaryExtension => "gia hạn tạm trú",
        Procedure::PermanentDeletion => "xóa đăng ký thường trú",
        Procedure::TemporaryDeletion => "xóa đăng ký tạm trú",
        Procedure::HouseholdSplit => "tách hộ",
        Procedure::HeadChange => "điều chỉnh thông tin chủ hộ",
        Procedure::RelationshipChange => "điều chỉnh quan hệ với chủ hộ",
        Procedure::CivilStatusAdjustment => "điều chỉnh thông tin hộ tịch",
        Procedure::ResidenceDeclaration => "khai báo thông tin về cư trú",
        Procedure::CurrentAddressUpdate => "cập nhật nơi ở hiện tại",
        Procedure::TemporaryAbsence => "khai báo tạm vắng",
        Procedure::ResidenceConfirmation => "xác nhận thông tin về cư trú",
    }
}

fn kind_en(kind: RegistrationKind) -> &'static str {
    match kind {
        RegistrationKind::Permanent => "permanent",
        RegistrationKind::Temporary => "temporary",
    }
}

fn kind_vi(kind: RegistrationKind) -> &'static str {
    match kind {
        RegistrationKind::Permanent => "thường trú",
        RegistrationKind::Temporary => "tạm trú",
    }
}

fn basis_en(basis: PermanentBasis) -> &'static str {
    match basis {
        PermanentBasis::OwnHome => "own home (20.1)",
        PermanentBasis::JoinRelative => "joining a relative (20.2)",
        PermanentBasis::RentedBorrowedShared => "rented, borrowed or shared (20.3)",
        PermanentBasis::ReligiousEstablishment => "religious establishment (20.4)",
        PermanentBasis::SocialCare => "social care (20.5)",
        PermanentBasis::Vehicle => "vehicle (20.6)",
        PermanentBasis::UnitBarracks => "unit barracks",
    }
}

fn basis_vi(basis: PermanentBasis) -> &'static str {
    match basis {
        PermanentBasis::OwnHome => "chỗ ở hợp pháp thuộc quyền sở hữu (khoản 1 Điều 20)",
        PermanentBasis::JoinRelative => "về ở với người thân (khoản 2 Điều 20)",
        PermanentBasis::RentedBorrowedShared => "thuê, mượn, ở nhờ (khoản 3 Điều 20)",
        PermanentBasis::ReligiousEstablishment => "cơ sở tín ngưỡng, tôn giáo (khoản 4 Điều 20)",
        PermanentBasis::SocialCare => "cơ sở trợ giúp xã hội (khoản 5 Điều 20)",
        PermanentBasis::Vehicle => "phương tiện (khoản 6 Điều 20)",
        PermanentBasis::UnitBarracks => "đơn vị đóng quân",
    }
}

fn consent_en(role: ConsentRole) -> &'static str {
    match role {
        ConsentRole::HouseholdHead => "household head",
        ConsentRole::DwellingOwner => "dwelling owner",
        ConsentRole::ParentOrGuardian => "parent or guardian",
        ConsentRole::EstablishmentHead => "head of the establishment",
        ConsentRole::CommandingUnit => "commanding unit",
    }
}

fn consent_vi(role: ConsentRole) -> &'static str {
    match role {
        ConsentRole::HouseholdHead => "chủ hộ",
        ConsentRole::DwellingOwner => "chủ sở hữu chỗ ở hợp pháp",
        ConsentRole::ParentOrGuardian => "cha, mẹ hoặc người giám hộ",
        ConsentRole::EstablishmentHead => "người đứng đầu cơ sở",
        ConsentRole::CommandingUnit => "thủ trưởng đơn vị",
    }
}

fn restriction_en(kind: RestrictionKind) -> &'static str {
    match kind {
        RestrictionKind::ProhibitedOrProtectedZone => "prohibited or protected zone",
        RestrictionKind::EncroachedOrUnbuildableLand => "encroached or unbuildable land",
        RestrictionKind::LandRecoveryOrDispute => "land under recovery or in dispute",
        RestrictionKind::ConfiscatedOrDeregistered => "confiscated or deregistered",
        RestrictionKind::DemolitionDecision => "under a demolition decision",
    }
}

fn restriction_vi(kind: RestrictionKind) -> &'static str {
    match kind {
        RestrictionKind::ProhibitedOrProtectedZone => "khu vực cấm, khu vực bảo vệ",
        RestrictionKind::EncroachedOrUnbuildableLand => "lấn, chiếm hoặc đất không được xây dựng",
        RestrictionKind::LandRecoveryOrDispute => "đất có quyết định thu hồi hoặc đang tranh chấp",
        RestrictionKind::ConfiscatedOrDeregistered => "bị tịch thu hoặc phương tiện bị xóa đăng ký",
        RestrictionKind::DemolitionDecision => "có quyết định phá dỡ",
    }
}

fn clause_letter(clause: AbsenceClause) -> &'static str {
    match clause {
        AbsenceClause::Sentenced => "31.1.a",
        AbsenceClause::AdministrativeMeasure => "31.1.b",
        AbsenceClause::MilitaryServiceAge => "31.1.c",
        AbsenceClause::LongAbsence => "31.1.d",
    }
}

fn clause_letter_vi(clause: AbsenceClause) -> &'static str {
    match clause {
        AbsenceClause::Sentenced => "a",
        AbsenceClause::AdministrativeMeasure => "b",
        AbsenceClause::MilitaryServiceAge => "c",
        AbsenceClause::LongAbsence => "d",
    }
}
