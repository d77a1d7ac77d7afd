//! The history a command is decided on: its dynamic consistency boundary, read in two phases.
//!
//! Why here: the register decides a command on the events carrying the command's read tags
//! (person, household, dwelling, PIN, application; never `unit:`), and then also on the events
//! of the dwellings that first fold found, because a dwelling's recodings carry the dwelling's
//! tag, not the tags of the people living there ([`State::dwelling_tags`]). That rule is part of
//! what makes a decision right, so it is written once, next to the state it reads, and every
//! reader runs it: the register over a ledger at a fixed head, the in-memory register of the
//! generator and imports, and the law's property test over a plain list of events. Where the
//! events come from is the [`History`] trait; the domain itself does no reading.

use std::convert::Infallible;

use crate::command::Command;
use crate::event::Event;
use crate::event_id::EventId;
use crate::state::State;
use crate::tag::Tag;

/// Where a decision's events come from.
pub trait History {
    /// Why reading failed.
    type Error;

    /// The state folded from every recorded event that carries at least one of `tags`, each
    /// event once, in recording order.
    ///
    /// # Errors
    /// When the events cannot be read.
    fn fold(&self, tags: &[Tag]) -> Result<State, Self::Error>;
}

/// What a command is decided on: the folded state, and every tag read (which an append
/// condition must guard, so that a change to any of them since the read is a conflict).
#[derive(Debug, Clone)]
pub struct Boundary {
    /// The state folded from the events of [`Boundary::tags`].
    pub state: State,
    /// The command's read tags, then the dwelling tags of the second phase, without repeats.
    pub tags: Vec<Tag>,
}

/// Reads `command`'s boundary from `history`: its read tags, then the dwellings that fold found.
///
/// # Errors
/// The history's error.
pub fn read<H: History + ?Sized>(history: &H, command: &Command) -> Result<Boundary, H::Error> {
    let mut tags = command.read_tags();
    let first = history.fold(&tags)?;
    let read = tags.len();
    for tag in first.dwelling_tags() {
        if !tags[..read].contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() == read {
        return Ok(Boundary { state: first, tags });
    }
    let state = history.fold(&tags)?;
    Ok(Boundary { state, tags })
}

/// A history held as a list of events with their ids, in recording order (tests and small
/// tools; the in-memory register keeps an index by tag instead).
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a>(pub &'a [(EventId, Event)]);

impl History for Recorded<'_> {
    type Error = Infallible;

    fn fold(&self, tags: &[Tag]) -> Result<State, Infallible> {
        Ok(State::from_recorded(
            self.0
                .iter()
                .filter(|(_, event)| event.tags().iter().any(|tag| tags.contains(tag)))
                .map(|(id, event)| (*id, event)),
        ))
    }
}
