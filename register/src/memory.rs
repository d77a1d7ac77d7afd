//! An in-memory register: every event recorded so far, indexed by tag, and `decide` on the
//! state folded from the events of a command's read tags.
//!
//! Why not one global `State`: the domain state is built for the narrow fold the register does
//! per command (DESIGN.md, "Consistency"). Some of its questions scan everything it holds
//! (the residents of a dwelling, the event an annulment names) and a correction refolds it
//! whole, so one state of a million people would make those commands cost seconds each. This
//! engine folds, for each command, exactly the events [`crate::execute`] reads from the ledger
//! (the same two-phase boundary read, `residence_domain::boundary`, over this index instead of
//! the ledger's), so the generator and the import decide every command the way the API would
//! decide it on the same ledger, at in-memory speed.
//!
//! Invariant: events are appended in the order the ledger records them, with the event ids the
//! ledger records (derived from request ids, [`crate::request`]).

use std::collections::HashMap;
use std::convert::Infallible;

use residence_domain::boundary::{self, History};
use residence_domain::command::Command;
use residence_domain::context::Context;
use residence_domain::decide::{Decision, decide};
use residence_domain::event::Event;
use residence_domain::event_id::EventId;
use residence_domain::rejection::Rejection;
use residence_domain::state::State;
use residence_domain::tag::Tag;

impl History for Engine {
    type Error = Infallible;

    fn fold(&self, tags: &[Tag]) -> Result<State, Infallible> {
        let mut positions: Vec<u32> = Vec::new();
        for tag in tags {
            if let Some(list) = self.by_tag.get(tag) {
                positions.extend_from_slice(list);
            }
        }
        positions.sort_unstable();
        positions.dedup();
        Ok(State::from_recorded(positions.iter().map(|&position| {
            let (id, event) = &self.events[position as usize];
            (*id, event)
        })))
    }
}

/// The events recorded so far, with an index by tag.
#[derive(Debug, Default)]
pub struct Engine {
    events: Vec<(EventId, Event)>,
    by_tag: HashMap<Tag, Vec<u32>>,
}

impl Engine {
    /// An empty register.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of events recorded (the ledger size when the ledger holds nothing else).
    pub fn len(&self) -> u64 {
        self.events.len() as u64
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The decision state for `command`, read as the register reads it from a ledger.
    pub fn state_for(&self, command: &Command) -> State {
        let Ok(boundary) = boundary::read(self, command);
        boundary.state
    }

    /// Decides `command` as the register would on this history.
    ///
    /// # Errors
    /// The domain's [`Rejection`].
    pub fn decide(&self, command: &Command, context: &Context) -> Result<Decision, Rejection> {
        decide(&self.state_for(command), command, context)
    }

    /// Records one event under its id.
    pub fn append(&mut self, id: EventId, event: Event) {
        let position = u32::try_from(self.events.len())
            .expect("an in-memory register holds fewer than 4 billion events");
        for tag in event.tags() {
            // `unit:` tags never enter a decision (DESIGN.md): not indexing them saves memory.
            if !matches!(tag, Tag::Unit(_)) {
                self.by_tag.entry(tag).or_default().push(position);
            }
        }
        self.events.push((id, event));
    }

    /// The event at `position`.
    pub fn get(&self, position: u64) -> Option<&(EventId, Event)> {
        self.events.get(usize::try_from(position).ok()?)
    }

    /// The position of the last event carrying `tag`.
    pub fn last_position(&self, tag: &Tag) -> Option<u64> {
        self.by_tag
            .get(tag)
            .and_then(|list| list.last())
            .map(|&position| u64::from(position))
    }

    /// The recorded events, in order.
    pub fn events(&self) -> impl Iterator<Item = &(EventId, Event)> {
        self.events.iter()
    }
}
