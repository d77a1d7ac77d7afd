//! The digital household book (sổ hộ khẩu): a household's head, members with their
//! relationships, address, residence file number and history, as of any date and as known at
//! any position or time.
//!
//! Why from the members' timelines: membership is a fact of each member's registration (its
//! household and relationship on a date, changed by splits, head changes and relationship
//! changes), so the book is assembled from the domain's timeline of every person ever placed in
//! the household. A book can therefore never disagree with the residence a court is shown for one
//! of its members. The household's own facts (founding, file number) come from the models; its
//! history is every record tagged with it.

use chrono::NaiveDate;
use residence_domain::address::Address;
use residence_domain::ids::{HouseholdId, PersonId};
use residence_domain::pin::Pin;
use residence_domain::relationship::Relationship;
use residence_domain::tag::Tag as DomainTag;
use residence_domain::timeline::{AsKnown, IntervalKind, address_on};
use residence_domain::units::{UnitRef, registry};
use residence_ledger::ledger::Ledger;

use crate::person::{QueryError, RecordInfo, Records};
use crate::state::Projections;

/// One member in a household book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookMember {
    /// The member.
    pub person: PersonId,
    /// Their PIN as last recorded.
    pub pin: Option<Pin>,
    /// Their relationship to the head on the date.
    pub relationship: Relationship,
    /// The registration that places them in the household (permanent or temporary).
    pub registration: IntervalKind,
    /// The first day of that registration.
    pub registered_since: NaiveDate,
    /// The position of the event that opened it.
    pub opened_at: u64,
}

/// A household book as of one date, as known at one point of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdBook {
    /// The household.
    pub household: HouseholdId,
    /// The date the book shows.
    pub date: NaiveDate,
    /// The state of knowledge it shows.
    pub as_known: AsKnown,
    /// The residence file number, when one was issued.
    pub file_number: Option<String>,
    /// The day the household came into being, when its founding is known.
    pub founded_on: Option<NaiveDate>,
    /// Whether it is a household of permanent residents (`false`: temporary), when known.
    pub permanent: Option<bool>,
    /// The household it split from, if it was made by a split.
    pub split_from: Option<HouseholdId>,
    /// The address on the date, with the unit valid on that date.
    pub address: Option<Address>,
    /// The full name of that unit, as valid on the date.
    pub unit_name: Option<String>,
    /// Today's equivalent unit.
    pub today_unit: Option<UnitRef>,
    /// Its full name.
    pub today_unit_name: Option<String>,
    /// The head on the date (`None` when head vacant or empty).
    pub head: Option<PersonId>,
    /// The members on the date, the head first, then by id.
    pub members: Vec<BookMember>,
    /// The household has members but no head (after the head's death or ex-officio deletion).
    pub head_vacant: bool,
    /// Every record tagged with the household, known at `as_known`, in ledger order.
    pub history: Vec<RecordInfo>,
}

/// Whether a record at `position`, recorded at `micros`, is known at `as_known`.
fn known(as_known: AsKnown, position: u64, micros: i64) -> bool {
    match as_known {
        AsKnown::Now => true,
        AsKnown::AtPosition(at) => position <= at,
        AsKnown::AtTime(at) => micros <= at,
    }
}

impl Projections {
    /// The book of `household` on `date` as known at `as_known`.
    ///
    /// # Errors
    /// [`QueryError::UnknownHousehold`] and the read, decode and timeline failures of
    /// [`QueryError`].
    pub fn household_book(
        &self,
        ledger: &Ledger,
        household: HouseholdId,
        date: NaiveDate,
        as_known: AsKnown,
    ) -> Result<HouseholdBook, QueryError> {
        let index = self
            .models
            .households
            .find(household)
            .ok_or(QueryError::UnknownHousehold(household))?;
        let entry = self.models.households.get(index);
        let history: Vec<RecordInfo> =
            Records::read(self, ledger, &DomainTag::Household(household), false)?
                .infos()
                .into_iter()
                .filter(|record| known(as_known, record.position, record.recorded_at.micros()))
                .collect();
        let founding = entry
            .and_then(|entry| entry.founding.as_ref())
            .filter(|founding| history.iter().any(|r| r.position == founding.position));
        let mut members: Vec<BookMember> = Vec::new();
        let mut address: Option<Address> = None;
        let mut today_unit: Option<UnitRef> = None;
        let candidates = self
            .models
            .households
            .members
            .get(index.0 as usize)
            .cloned()
            .unwrap_or_default();
        for candidate in candidates {
            let person = self.models.persons.id_of(candidate);
            let timeline = self.person_timeline(ledger, person)?;
            let on = timeline.residence_on(date, as_known).residence;
            let placed = [on.permanent.as_ref(), on.temporary.as_ref()]
                .into_iter()
                .flatten()
                .find(|residence| {
                    residence
                        .membership
                        .as_ref()
                        .is_some_and(|membership| membership.household == household)
                });
            let Some(residence) = placed else {
                continue;
            };
            let Some(membership) = &residence.membership else {
                continue;
            };
            let is_head = matches!(membership.relationship, Relationship::ChuHo);
            if address.is_none() || is_head {
                address.clone_from(&residence.address);
                today_unit = residence.today_unit;
            }
            members.push(BookMember {
                person,
                pin: timeline.pin(),
                relationship: membership.relationship.clone(),
                registration: residence.kind,
                registered_since: residence.start,
                opened_at: residence.opened_by.recorded.known.position,
            });
        }
        members.sort_by_key(|member| {
            (
                !matches!(member.relationship, Relationship::ChuHo),
                member.person,
            )
        });
        let head = members
            .first()
            .filter(|member| matches!(member.relationship, Relationship::ChuHo))
            .map(|member| member.person);
        if address.is_none()
            && let Some(founding) = founding
        {
            let founded = self.models.interner.address(founding.addr);
            let shown = address_on(
                &founded,
                residence_domain::ids::DwellingId::new(founding.dwelling),
                date,
                [],
            );
            today_unit = Some(crate::residence::today_unit_of(founded.unit));
            address = Some(shown);
        }
        Ok(HouseholdBook {
            household,
            date,
            as_known,
            file_number: founding.and(entry.and_then(|entry| entry.file_number.clone())),
            founded_on: founding.map(|founding| founding.on.0),
            permanent: founding.map(|founding| founding.permanent),
            split_from: founding
                .and_then(|founding| founding.split_from)
                .map(|from| self.models.households.id_of(from)),
            unit_name: address
                .as_ref()
                .and_then(|address| registry().full_name(address.unit)),
            address,
            today_unit_name: today_unit.and_then(|unit| registry().full_name(unit)),
            today_unit,
            head_vacant: !members.is_empty() && head.is_none(),
            head,
            members,
            history,
        })
    }
}
