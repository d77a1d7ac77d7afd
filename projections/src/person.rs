//! Answers about one person: residence on a date as known at a position or time, full history,
//! and what changed between two positions.
//!
//! Why through the ledger: these are the answers a court receives, so they come from the
//! domain's timeline fold (`residence_domain::timeline`) over the person's own records (every
//! record tagged with the person, read through the ledger's tag index) merged with the events
//! that change everyone (the 2025 reorganisation), exactly as the offline proof verifier folds
//! them. Only records the projection has folded (positions below [`Projections::position`]) are
//! read, so an answer never runs ahead of the registers. A record whose payload was erased
//! cannot be folded: it is skipped and counted in the answer (`erased_records`), so the reader
//! knows the history has a gap.

use chrono::NaiveDate;
use residence_domain::address::PersonName;
use residence_domain::event::{Event, EventType};
use residence_domain::ids::PersonId;
use residence_domain::pin::Pin;
use residence_domain::tag::Tag as DomainTag;
use residence_domain::timeline::{
    AsKnown, Interval, Known, ResidenceOn, Timeline, TimelineError, TimelineEvent,
};
use residence_ledger::ledger::{Ledger, ReadError};
use residence_ledger::record::{Position, StoredRecord, Timestamp};
use residence_register::{boundary, codec};

use crate::state::{ApplyError, Projections, decode_record};

/// Most records read for one subject (a person or a household). A person with more records than
/// this is refused rather than read without bound.
pub const SUBJECT_RECORDS_MAX: usize = 100_000;

/// Why a question about one person or household could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The projection does not know the person. → 404.
    #[error("unknown person {0}")]
    UnknownPerson(PersonId),
    /// The projection does not know the household. → 404.
    #[error("unknown household {0}")]
    UnknownHousehold(residence_domain::ids::HouseholdId),
    /// The subject has more records than [`SUBJECT_RECORDS_MAX`]. → 413/500; raise the limit
    /// deliberately if a real person ever has that many.
    #[error("more than {SUBJECT_RECORDS_MAX} records concern {subject}")]
    TooManyRecords {
        /// The tag of the subject.
        subject: String,
    },
    /// The ledger could not be read. → 500 (a technical failure).
    #[error("ledger read failed: {0}")]
    Read(#[from] ReadError),
    /// A record could not be decoded. → 500; the same record stops replay, so this means the
    /// ledger changed under the projection.
    #[error(transparent)]
    Decode(#[from] ApplyError),
    /// The domain's timeline refused the records. → 500.
    #[error("timeline: {0}")]
    Timeline(#[from] TimelineError),
}

/// One record concerning a subject, as listed in a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordInfo {
    /// Its ledger position.
    pub position: u64,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// Its event type; `None` when the payload was erased (the type is in the record, but
    /// nothing else can be read).
    pub event_type: Option<EventType>,
    /// The event's valid-time date, if it has one and the payload is present.
    pub effective_on: Option<NaiveDate>,
    /// Whether the payload was erased.
    pub erased: bool,
}

/// A subject's records, decoded, in ledger order.
pub(crate) struct Records {
    /// Each record with its event (`None` when erased).
    pub(crate) records: Vec<(StoredRecord, Option<Event>)>,
}

impl Records {
    /// Reads every record carrying `tag` that the projection has folded, merged with the
    /// reorganisation events when `with_mass_changes`.
    pub(crate) fn read(
        projections: &Projections,
        ledger: &Ledger,
        tag: &DomainTag,
        with_mass_changes: bool,
    ) -> Result<Records, QueryError> {
        let end = projections.position();
        let ledger_tag =
            codec::ledger_tag(tag).expect("the domain's tag texts are valid ledger tags");
        let Some(mut stored) =
            boundary::read_tag_at_most(ledger, &ledger_tag, end, SUBJECT_RECORDS_MAX)?
        else {
            return Err(QueryError::TooManyRecords {
                subject: tag.to_string(),
            });
        };
        if with_mass_changes {
            for &position in &projections.models.mass_changes {
                if position < end && !stored.iter().any(|r| r.record.position.0 == position) {
                    stored.push(ledger.read(Position(position))?);
                }
            }
            stored.sort_by_key(|record| record.record.position);
        }
        let mut records = Vec::with_capacity(stored.len());
        for record in stored {
            let event = decode_record(&record)?;
            records.push((record, event));
        }
        Ok(Records { records })
    }

    /// The records as listed in a history.
    pub(crate) fn infos(&self) -> Vec<RecordInfo> {
        self.records
            .iter()
            .map(|(record, event)| RecordInfo {
                position: record.record.position.0,
                recorded_at: record.record.recorded_at,
                event_type: event.as_ref().map(Event::event_type),
                effective_on: event.as_ref().and_then(Event::effective_on),
                erased: event.is_none(),
            })
            .collect()
    }
}

/// A person's timeline from the ledger, ready to answer on both time axes.
#[derive(Debug)]
pub struct PersonTimeline {
    person: PersonId,
    timeline: Timeline,
    records: Vec<RecordInfo>,
    erased: u32,
    name: Option<PersonName>,
    pin: Option<Pin>,
}

/// A person's residence on one date, as known at one point of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidenceAnswer {
    /// The person.
    pub person: PersonId,
    /// The state of knowledge asked about.
    pub as_known: AsKnown,
    /// The residence on the date (the domain's answer: each interval with the address valid on
    /// the date, today's unit, household and relationship, and the opening and closing events).
    pub residence: ResidenceOn,
    /// How many of the person's records were erased (and so could not be folded).
    pub erased_records: u32,
}

/// What changed for a person between two ledger positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeReport {
    /// The person.
    pub person: PersonId,
    /// The earlier position (known then: records up to and including it).
    pub from: u64,
    /// The later position.
    pub to: u64,
    /// The person's records recorded after `from` up to and including `to`.
    pub records: Vec<RecordInfo>,
    /// Intervals known at `to` that were not known (in that form) at `from`.
    pub added: Vec<Interval>,
    /// Intervals known at `from` that are no longer known (in that form) at `to`.
    pub removed: Vec<Interval>,
}

impl PersonTimeline {
    /// The person.
    #[must_use]
    pub fn person(&self) -> PersonId {
        self.person
    }

    /// The person's name as last recorded (personal data).
    #[must_use]
    pub fn name(&self) -> Option<&PersonName> {
        self.name.as_ref()
    }

    /// The PIN the person holds as last recorded.
    #[must_use]
    pub fn pin(&self) -> Option<Pin> {
        self.pin
    }

    /// Every record of the person (and the reorganisation), in ledger order.
    #[must_use]
    pub fn records(&self) -> &[RecordInfo] {
        &self.records
    }

    /// The number of the person's records whose payload was erased.
    #[must_use]
    pub fn erased_records(&self) -> u32 {
        self.erased
    }

    /// The domain timeline itself.
    #[must_use]
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// The residence on `date` as known at `as_known`.
    #[must_use]
    pub fn residence_on(&self, date: NaiveDate, as_known: AsKnown) -> ResidenceAnswer {
        ResidenceAnswer {
            person: self.person,
            as_known,
            residence: self.timeline.residence_on(date, as_known),
            erased_records: self.erased,
        }
    }

    /// Every interval as known at `as_known`, by start date.
    #[must_use]
    pub fn history(&self, as_known: AsKnown) -> Vec<Interval> {
        self.timeline.history(as_known)
    }

    /// What changed between positions `from` and `to` (`from ≤ to`; the positions are swapped
    /// otherwise).
    #[must_use]
    pub fn changes_between(&self, from: u64, to: u64) -> ChangeReport {
        let (from, to) = if from <= to { (from, to) } else { (to, from) };
        let before = self.timeline.history(AsKnown::AtPosition(from));
        let after = self.timeline.history(AsKnown::AtPosition(to));
        let added = after
            .iter()
            .filter(|interval| !before.contains(interval))
            .cloned()
            .collect();
        let removed = before
            .iter()
            .filter(|interval| !after.contains(interval))
            .cloned()
            .collect();
        ChangeReport {
            person: self.person,
            from,
            to,
            records: self
                .records
                .iter()
                .filter(|record| record.position > from && record.position <= to)
                .cloned()
                .collect(),
            added,
            removed,
        }
    }
}

impl Projections {
    /// The timeline of `person` from the ledger, as far as this projection has folded.
    ///
    /// # Errors
    /// [`QueryError::UnknownPerson`] and the read, decode and timeline failures of
    /// [`QueryError`].
    pub fn person_timeline(
        &self,
        ledger: &Ledger,
        person: PersonId,
    ) -> Result<PersonTimeline, QueryError> {
        if !self.knows_person(person) {
            return Err(QueryError::UnknownPerson(person));
        }
        let records = Records::read(self, ledger, &DomainTag::Person(person), true)?;
        let mut timeline = Timeline::new(person);
        let mut erased = 0;
        let mut name = None;
        let mut pin = None;
        for (record, event) in &records.records {
            let Some(event) = event else {
                erased += 1;
                continue;
            };
            match event {
                Event::PersonRecorded(e) if e.person == person => {
                    name = Some(e.name.clone());
                    pin = Some(e.pin);
                }
                Event::ResidentCivilStatusAdjusted(e) if e.person == person => {
                    if let Some(new) = &e.changes.name {
                        name = Some(new.clone());
                    }
                }
                Event::PersonalIdNumberReassigned(e) if e.person == person => pin = Some(e.new),
                _ => {}
            }
            timeline.push(TimelineEvent {
                known: Known {
                    position: record.record.position.0,
                    recorded_at_micros: record.record.recorded_at.micros(),
                },
                event_id: codec::event_id(record),
                event,
            })?;
        }
        Ok(PersonTimeline {
            person,
            timeline,
            records: records.infos(),
            erased,
            name,
            pin,
        })
    }

    /// The residence of `person` on `date` as known at `as_known` (a convenience over
    /// [`Projections::person_timeline`] for a single question).
    ///
    /// # Errors
    /// As [`Projections::person_timeline`].
    pub fn residence_on(
        &self,
        ledger: &Ledger,
        person: PersonId,
        date: NaiveDate,
        as_known: AsKnown,
    ) -> Result<ResidenceAnswer, QueryError> {
        Ok(self
            .person_timeline(ledger, person)?
            .residence_on(date, as_known))
    }
}
