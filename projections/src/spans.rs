//! The compact model's spans of one person, for comparing the compact fold with the domain's
//! timeline (answers about one person come from the timeline, [`crate::person`]).

use chrono::NaiveDate;
use residence_domain::event::Membership;
use residence_domain::ids::PersonId;

use crate::residence::{Folder, Span, SpanOn, SpanSummary, shown_on};
use crate::state::Projections;

impl Projections {
    /// The compact model's spans of `person`, as known now (empty for an unknown person).
    #[must_use]
    pub fn spans(&self, person: PersonId) -> Vec<SpanSummary> {
        let Some(entry) = self
            .models
            .persons
            .find(person)
            .and_then(|index| self.models.persons.get(index))
        else {
            return Vec::new();
        };
        Folder::default()
            .fold(&entry.facts)
            .iter()
            .map(Span::summary)
            .collect()
    }

    /// The compact model's spans of `person` shown on `date` (at most one of each kind), as
    /// shown on that date.
    #[must_use]
    pub fn spans_on(&self, person: PersonId, date: NaiveDate) -> Vec<SpanOn> {
        let Some(entry) = self
            .models
            .persons
            .find(person)
            .and_then(|index| self.models.persons.get(index))
        else {
            return Vec::new();
        };
        let reorganised_from = self.models.reorganised_from();
        let interner = &self.models.interner;
        let mut folder = Folder::default();
        let spans = folder.fold(&entry.facts);
        shown_on(spans, date)
            .into_iter()
            .flatten()
            .map(|span| SpanOn {
                span: span.summary(),
                address: span
                    .addr_on(date, reorganised_from)
                    .map(|addr| interner.address(addr)),
                today_unit: span.today_unit(),
                membership: span.member_on(date).map(|member| Membership {
                    household: self.models.households.id_of(member.household),
                    relationship: interner.relationship_of(member.relationship).clone(),
                }),
            })
            .collect()
    }
}
