//! Corrections: nothing in the ledger is edited (I11), so a wrong event is corrected by a new
//! event that names it and carries its corrected content.
//!
//! The corrected event keeps its place in history; readers (the timeline fold, projections) use
//! the replacement in its stead, as known from the correction's recorded time on. A correction
//! replaces the whole event, never a field, so the replacement reads on its own.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::values::{LegalBasis, Reason};
use super::{Event, EventEnvelope, EventType, Payload, TagSink};
use crate::event_id::EventId;
use crate::tag::Tag;

/// Why a correction cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionError {
    /// The replacement is itself a correction. To correct a correction, correct the original
    /// event again: the latest correction wins. → `decide` never builds one; a stored payload
    /// like this is malformed.
    #[error("a correction must not replace an event with another correction")]
    NestedCorrection,
}

/// An earlier event was corrected (I11).
///
/// `replacement` is the corrected event, of the same type as the event it corrects (checked by
/// `decide`, which reads that event; the payload alone cannot show it). `corrected_tags` are the
/// tags of the corrected event, copied by `decide`, so that the correction sits in every chain
/// the corrected event sits in, even when the correction changes who or what the event concerns
/// (a registration recorded for the wrong person). The correction's tags are those and the
/// replacement's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EventCorrectedWire")]
pub struct EventCorrected {
    corrects: EventId,
    corrected_tags: Vec<Tag>,
    reason: Reason,
    legal_basis: LegalBasis,
    replacement: Box<EventEnvelope>,
}

/// The wire shape of [`EventCorrected`], checked on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventCorrectedWire {
    corrects: EventId,
    corrected_tags: Vec<Tag>,
    reason: Reason,
    legal_basis: LegalBasis,
    replacement: Box<EventEnvelope>,
}

impl TryFrom<EventCorrectedWire> for EventCorrected {
    type Error = CorrectionError;

    fn try_from(wire: EventCorrectedWire) -> Result<Self, Self::Error> {
        Self::new(
            wire.corrects,
            wire.corrected_tags,
            wire.reason,
            wire.legal_basis,
            wire.replacement.into_event(),
        )
    }
}

impl EventCorrected {
    /// A correction of event `corrects`, whose tags were `corrected_tags`, by `replacement`.
    /// The tags are sorted and deduplicated.
    ///
    /// # Errors
    /// [`CorrectionError::NestedCorrection`] when the replacement is itself a correction.
    pub fn new(
        corrects: EventId,
        mut corrected_tags: Vec<Tag>,
        reason: Reason,
        legal_basis: LegalBasis,
        replacement: Event,
    ) -> Result<Self, CorrectionError> {
        if replacement.event_type() == EventType::EventCorrected {
            return Err(CorrectionError::NestedCorrection);
        }
        corrected_tags.sort_unstable();
        corrected_tags.dedup();
        Ok(Self {
            corrects,
            corrected_tags,
            reason,
            legal_basis,
            replacement: Box::new(EventEnvelope::new(replacement)),
        })
    }

    /// The event corrected.
    pub fn corrects(&self) -> EventId {
        self.corrects
    }

    /// The tags of the corrected event, sorted.
    pub fn corrected_tags(&self) -> &[Tag] {
        &self.corrected_tags
    }

    /// Why it was corrected.
    pub fn reason(&self) -> &Reason {
        &self.reason
    }

    /// The corrected content, to be read in place of the corrected event.
    pub fn replacement(&self) -> &Event {
        self.replacement.event()
    }
}

impl Payload for EventCorrected {
    fn tags(&self, tags: &mut TagSink) {
        for tag in &self.corrected_tags {
            tags.push(*tag);
        }
        for tag in self.replacement().tags() {
            tags.push(tag);
        }
    }

    /// The valid time of the corrected content.
    fn effective_on(&self) -> Option<NaiveDate> {
        self.replacement().effective_on()
    }

    fn legal_basis(&self) -> Option<&LegalBasis> {
        Some(&self.legal_basis)
    }
}
