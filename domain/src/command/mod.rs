//! Commands: one per procedure of the residence law, as an officer (or a data feed) asks for it.
//!
//! Why commands are data: the API accepts them as JSON, the simulator generates them, and tests
//! replay them; `decide` turns one into events or a rejection. New ids (persons, households,
//! certificates …) come inside commands: the caller allocates them, the domain never invents one.
//!
//! There is no command that only establishes a household: a household without members would
//! have no head (I6), so a household is founded by the registration of its first member
//! ([`HouseholdChoice::Establish`], which records `HouseholdEstablished` and the registration
//! in one decision) or by a split.
//!
//! # Wire format
//! Externally tagged, snake_case: `{"register_permanent":{…fields…}}`. Every struct refuses
//! unknown fields; optional fields may be left out; lists default to empty. Legal-basis texts
//! are optional: when absent, the decision cites the article the rule comes from.
//!
//! # Consistency boundary
//! [`Command::read_tags`] names the narrow tags (person, household, dwelling, PIN, application,
//! and the one `mass-change` tag of the reorganisation; never `unit:`) whose events the caller
//! folds into the decision state. The decision is correct given only those events, and the
//! caller appends with a condition on the same tags, so a concurrent change to anything the
//! decision read makes the append fail instead of breaking an invariant. This is why commands
//! name the households and dwellings they touch even where the register could look them up
//! (`leaving_household`, `household` of a deletion, `dwelling` of a split): the decision checks
//! that the named ones are the right ones.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::event::Procedure;
use crate::ids::{ApplicationId, PersonId};
use crate::tag::Tag;

mod declaration;
mod household;
mod person;
mod place;
mod registration;

pub use declaration::*;
pub use household::*;
pub use person::*;
pub use place::*;
pub use registration::*;

/// One command of the residence law.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// See [`RecordPerson`].
    RecordPerson(RecordPerson),
    /// See [`ReceiveApplication`].
    ReceiveApplication(ReceiveApplication),
    /// See [`RequestCompletion`].
    RequestCompletion(RequestCompletion),
    /// See [`RefuseApplication`].
    RefuseApplication(RefuseApplication),
    /// See [`RegisterPermanent`].
    RegisterPermanent(RegisterPermanent),
    /// See [`RegisterTemporary`].
    RegisterTemporary(RegisterTemporary),
    /// See [`ExtendTemporary`].
    ExtendTemporary(ExtendTemporary),
    /// See [`DeletePermanent`].
    DeletePermanent(DeletePermanent),
    /// See [`DeleteTemporary`].
    DeleteTemporary(DeleteTemporary),
    /// See [`RecordDwellingRestriction`].
    RecordDwellingRestriction(RecordDwellingRestriction),
    /// See [`LiftDwellingRestriction`].
    LiftDwellingRestriction(LiftDwellingRestriction),
    /// See [`RecordDeletionGround`].
    RecordDeletionGround(RecordDeletionGround),
    /// See [`AnnulRegistration`].
    AnnulRegistration(AnnulRegistration),
    /// See [`SplitHousehold`].
    SplitHousehold(SplitHousehold),
    /// See [`ChangeHead`].
    ChangeHead(ChangeHead),
    /// See [`ChangeMemberRelationship`].
    ChangeMemberRelationship(ChangeMemberRelationship),
    /// See [`AdjustCivilStatus`].
    AdjustCivilStatus(AdjustCivilStatus),
    /// See [`DeclareCurrentResidence`].
    DeclareCurrentResidence(DeclareCurrentResidence),
    /// See [`RefuseResidenceDeclaration`].
    RefuseResidenceDeclaration(RefuseResidenceDeclaration),
    /// See [`UpdateCurrentAddress`].
    UpdateCurrentAddress(UpdateCurrentAddress),
    /// See [`NotifyStay`].
    NotifyStay(NotifyStay),
    /// See [`DeclareTemporaryAbsence`].
    DeclareTemporaryAbsence(DeclareTemporaryAbsence),
    /// See [`RecodeAddress`].
    RecodeAddress(RecodeAddress),
    /// See [`ApplyReorganisation`].
    ApplyReorganisation(ApplyReorganisation),
    /// See [`RevokeLegacyBook`].
    RevokeLegacyBook(RevokeLegacyBook),
    /// See [`IssueResidenceConfirmation`].
    IssueResidenceConfirmation(IssueResidenceConfirmation),
    /// See [`ReassignPin`].
    ReassignPin(ReassignPin),
    /// See [`CorrectEvent`].
    CorrectEvent(CorrectEvent),
}

/// `From<struct> for Command` for every command struct, so callers can write `cmd.into()`.
macro_rules! into_command {
    ($($name:ident),* $(,)?) => {
        $(
            impl From<$name> for Command {
                fn from(command: $name) -> Self {
                    Self::$name(command)
                }
            }
        )*
    };
}

into_command!(
    RecordPerson,
    ReceiveApplication,
    RequestCompletion,
    RefuseApplication,
    RegisterPermanent,
    RegisterTemporary,
    ExtendTemporary,
    DeletePermanent,
    DeleteTemporary,
    RecordDwellingRestriction,
    LiftDwellingRestriction,
    RecordDeletionGround,
    AnnulRegistration,
    SplitHousehold,
    ChangeHead,
    ChangeMemberRelationship,
    AdjustCivilStatus,
    DeclareCurrentResidence,
    RefuseResidenceDeclaration,
    UpdateCurrentAddress,
    NotifyStay,
    DeclareTemporaryAbsence,
    RecodeAddress,
    ApplyReorganisation,
    RevokeLegacyBook,
    IssueResidenceConfirmation,
    ReassignPin,
    CorrectEvent,
);

/// Collects read tags, skipping `unit:` tags (never part of a consistency boundary).
#[derive(Default)]
struct Reads(Vec<Tag>);

impl Reads {
    fn tag(&mut self, tag: Tag) -> &mut Self {
        if !matches!(tag, Tag::Unit(_)) {
            self.0.push(tag);
        }
        self
    }

    fn person(&mut self, person: PersonId) -> &mut Self {
        self.tag(Tag::Person(person))
    }

    fn persons(&mut self, persons: impl IntoIterator<Item = PersonId>) -> &mut Self {
        for person in persons {
            self.person(person);
        }
        self
    }

    fn application(&mut self, application: Option<ApplicationId>) -> &mut Self {
        if let Some(application) = application {
            self.tag(Tag::Application(application));
        }
        self
    }

    fn succession(&mut self, succession: Option<&HeadSuccession>) -> &mut Self {
        if let Some(succession) = succession {
            self.person(succession.new_head);
            self.persons(succession.members.iter().map(|member| member.person));
        }
        self
    }

    fn finish(mut self) -> Vec<Tag> {
        self.0.sort_unstable();
        self.0.dedup();
        self.0
    }
}

impl Command {
    /// The stable snake_case name of the command (its JSON tag).
    pub fn name(&self) -> &'static str {
        match self {
            Self::RecordPerson(_) => "record_person",
            Self::ReceiveApplication(_) => "receive_application",
            Self::RequestCompletion(_) => "request_completion",
            Self::RefuseApplication(_) => "refuse_application",
            Self::RegisterPermanent(_) => "register_permanent",
            Self::RegisterTemporary(_) => "register_temporary",
            Self::ExtendTemporary(_) => "extend_temporary",
            Self::DeletePermanent(_) => "delete_permanent",
            Self::DeleteTemporary(_) => "delete_temporary",
            Self::RecordDwellingRestriction(_) => "record_dwelling_restriction",
            Self::LiftDwellingRestriction(_) => "lift_dwelling_restriction",
            Self::RecordDeletionGround(_) => "record_deletion_ground",
            Self::AnnulRegistration(_) => "annul_registration",
            Self::SplitHousehold(_) => "split_household",
            Self::ChangeHead(_) => "change_head",
            Self::ChangeMemberRelationship(_) => "change_member_relationship",
            Self::AdjustCivilStatus(_) => "adjust_civil_status",
            Self::DeclareCurrentResidence(_) => "declare_current_residence",
            Self::RefuseResidenceDeclaration(_) => "refuse_residence_declaration",
            Self::UpdateCurrentAddress(_) => "update_current_address",
            Self::NotifyStay(_) => "notify_stay",
            Self::DeclareTemporaryAbsence(_) => "declare_temporary_absence",
            Self::RecodeAddress(_) => "recode_address",
            Self::ApplyReorganisation(_) => "apply_reorganisation",
            Self::RevokeLegacyBook(_) => "revoke_legacy_book",
            Self::IssueResidenceConfirmation(_) => "issue_residence_confirmation",
            Self::ReassignPin(_) => "reassign_pin",
            Self::CorrectEvent(_) => "correct_event",
        }
    }

    /// The procedure an application for this command asks for, for commands that answer
    /// applications.
    pub fn procedure(&self) -> Option<Procedure> {
        Some(match self {
            Self::RegisterPermanent(_) => Procedure::PermanentRegistration,
            Self::RegisterTemporary(_) => Procedure::TemporaryRegistration,
            Self::ExtendTemporary(_) => Procedure::TemporaryExtension,
            Self::DeletePermanent(_) => Procedure::PermanentDeletion,
            Self::DeleteTemporary(_) => Procedure::TemporaryDeletion,
            Self::SplitHousehold(_) => Procedure::HouseholdSplit,
            Self::ChangeHead(_) => Procedure::HeadChange,
            Self::ChangeMemberRelationship(_) => Procedure::RelationshipChange,
            Self::AdjustCivilStatus(_) => Procedure::CivilStatusAdjustment,
            Self::DeclareCurrentResidence(_) | Self::RefuseResidenceDeclaration(_) => {
                Procedure::ResidenceDeclaration
            }
            Self::UpdateCurrentAddress(_) => Procedure::CurrentAddressUpdate,
            Self::DeclareTemporaryAbsence(_) => Procedure::TemporaryAbsence,
            Self::IssueResidenceConfirmation(_) => Procedure::ResidenceConfirmation,
            _ => return None,
        })
    }

    /// The application this command answers, if it names one.
    pub fn application(&self) -> Option<ApplicationId> {
        match self {
            Self::RegisterPermanent(c) => c.application,
            Self::RegisterTemporary(c) => c.application,
            Self::ExtendTemporary(c) => c.application,
            Self::DeletePermanent(c) => c.application,
            Self::DeleteTemporary(c) => c.application,
            Self::SplitHousehold(c) => c.application,
            Self::ChangeHead(c) => c.application,
            Self::ChangeMemberRelationship(c) => c.application,
            Self::AdjustCivilStatus(c) => c.application,
            Self::DeclareCurrentResidence(c) => c.application,
            Self::RefuseResidenceDeclaration(c) => c.application,
            Self::UpdateCurrentAddress(c) => c.application,
            Self::DeclareTemporaryAbsence(c) => c.application,
            Self::IssueResidenceConfirmation(c) => c.application,
            _ => None,
        }
    }

    /// The date the act takes effect (for intake slips and certificates, the day of issue;
    /// `None` for a person recorded or the reorganisation, whose date is fixed).
    pub fn effective_on(&self) -> Option<NaiveDate> {
        Some(match self {
            Self::RecordPerson(_) | Self::ApplyReorganisation(_) => return None,
            Self::ReceiveApplication(c) => c.received_on,
            Self::RequestCompletion(c) => c.requested_on,
            Self::RefuseApplication(c) => c.refused_on,
            Self::RegisterPermanent(c) => c.effective_on,
            Self::RegisterTemporary(c) => c.effective_on,
            Self::ExtendTemporary(c) => c.effective_on,
            Self::DeletePermanent(c) => c.effective_on,
            Self::DeleteTemporary(c) => c.effective_on,
            Self::RecordDwellingRestriction(c) => c.effective_on,
            Self::LiftDwellingRestriction(c) => c.effective_on,
            Self::RecordDeletionGround(c) => c.effective_on,
            Self::AnnulRegistration(c) => c.effective_on,
            Self::SplitHousehold(c) => c.effective_on,
            Self::ChangeHead(c) => c.effective_on,
            Self::ChangeMemberRelationship(c) => c.effective_on,
            Self::AdjustCivilStatus(c) => c.effective_on,
            Self::DeclareCurrentResidence(c) => c.effective_on,
            Self::RefuseResidenceDeclaration(c) => c.effective_on,
            Self::UpdateCurrentAddress(c) => c.effective_on,
            Self::NotifyStay(c) => c.effective_on,
            Self::DeclareTemporaryAbsence(c) => c.effective_on,
            Self::RecodeAddress(c) => c.effective_on,
            Self::RevokeLegacyBook(c) => c.effective_on,
            Self::IssueResidenceConfirmation(c) => c.issued_on,
            Self::ReassignPin(c) => c.effective_on,
            Self::CorrectEvent(c) => c.replacement.event().effective_on()?,
        })
    }

    /// The narrow tags whose events the caller must fold into the state before deciding, and
    /// that the append condition must guard: sorted, without duplicates, never `unit:`.
    pub fn read_tags(&self) -> Vec<Tag> {
        let mut reads = Reads::default();
        match self {
            Self::RecordPerson(c) => {
                reads.person(c.person).tag(Tag::Pin(c.pin));
            }
            Self::ReceiveApplication(c) => {
                reads
                    .application(Some(c.application))
                    .persons(c.subjects.iter().copied())
                    .persons(c.applicant);
            }
            Self::RequestCompletion(c) => {
                reads.application(Some(c.application));
            }
            Self::RefuseApplication(c) => {
                reads.application(Some(c.application));
            }
            Self::RegisterPermanent(c) => {
                reads
                    .person(c.person)
                    .tag(Tag::Household(c.household.household()))
                    .tag(Tag::Dwelling(c.dwelling))
                    .succession(c.head_succession.as_ref())
                    .application(c.application);
                if let Some(leaving) = c.leaving_household {
                    reads.tag(Tag::Household(leaving));
                }
            }
            Self::RegisterTemporary(c) => {
                reads
                    .person(c.person)
                    .tag(Tag::Dwelling(c.dwelling))
                    .application(c.application);
                if let Some(choice) = &c.household {
                    reads.tag(Tag::Household(choice.household()));
                }
            }
            Self::ExtendTemporary(c) => {
                reads
                    .person(c.person)
                    .tag(Tag::Dwelling(c.dwelling))
                    .application(c.application);
            }
            Self::DeletePermanent(c) => {
                reads
                    .person(c.person)
                    .tag(Tag::Household(c.household))
                    .succession(c.head_succession.as_ref())
                    .application(c.application);
            }
            Self::DeleteTemporary(c) => {
                reads
                    .person(c.person)
                    .tag(Tag::Dwelling(c.dwelling))
                    .succession(c.head_succession.as_ref())
                    .application(c.application);
                if let Some(household) = c.household {
                    reads.tag(Tag::Household(household));
                }
            }
            Self::RecordDwellingRestriction(c) => {
                reads.tag(Tag::Dwelling(c.dwelling));
            }
            Self::LiftDwellingRestriction(c) => {
                reads.tag(Tag::Dwelling(c.dwelling));
            }
            Self::RecordDeletionGround(c) => {
                reads.person(c.person);
            }
            Self::AnnulRegistration(c) => {
                reads.person(c.person);
            }
            Self::SplitHousehold(c) => {
                reads
                    .tag(Tag::Household(c.household))
                    .tag(Tag::Household(c.new_household))
                    .tag(Tag::Dwelling(c.dwelling))
                    .person(c.new_head)
                    .persons(c.members.iter().map(|member| member.person))
                    .succession(c.old_household_succession.as_ref())
                    .application(c.application);
            }
            Self::ChangeHead(c) => {
                reads
                    .tag(Tag::Household(c.household))
                    .person(c.new_head)
                    .persons(c.members.iter().map(|member| member.person))
                    .application(c.application);
            }
            Self::ChangeMemberRelationship(c) => {
                reads
                    .tag(Tag::Household(c.household))
                    .person(c.person)
                    .application(c.application);
            }
            Self::AdjustCivilStatus(c) => {
                reads.person(c.person).application(c.application);
            }
            Self::DeclareCurrentResidence(c) => {
                reads.person(c.person).application(c.application);
                if let Some(dwelling) = c.dwelling {
                    reads.tag(Tag::Dwelling(dwelling));
                }
            }
            Self::RefuseResidenceDeclaration(c) => {
                reads.person(c.person).application(c.application);
            }
            Self::UpdateCurrentAddress(c) => {
                reads.person(c.person).application(c.application);
                if let Some(dwelling) = c.dwelling {
                    reads.tag(Tag::Dwelling(dwelling));
                }
            }
            Self::NotifyStay(c) => {
                reads.persons(c.guest.person);
                if let Some(dwelling) = c.dwelling {
                    reads.tag(Tag::Dwelling(dwelling));
                }
            }
            Self::DeclareTemporaryAbsence(c) => {
                reads.person(c.person).application(c.application);
            }
            Self::RecodeAddress(c) => {
                reads.tag(Tag::Dwelling(c.dwelling));
            }
            Self::ApplyReorganisation(_) => {
                reads.tag(Tag::MassChange);
            }
            Self::RevokeLegacyBook(c) => {
                reads.tag(Tag::Household(c.household));
            }
            Self::IssueResidenceConfirmation(c) => {
                reads.person(c.person).application(c.application);
            }
            Self::ReassignPin(c) => {
                reads
                    .person(c.person)
                    .tag(Tag::Pin(c.old))
                    .tag(Tag::Pin(c.new));
            }
            Self::CorrectEvent(c) => {
                for tag in c.replacement.event().tags() {
                    reads.tag(tag);
                }
                for tag in &c.read_also {
                    reads.tag(*tag);
                }
            }
        }
        reads.finish()
    }
}
