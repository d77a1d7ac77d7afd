//! A command's history read from the ledger at a fixed head: the ledger's side of the domain's
//! two-phase boundary read (`residence_domain::boundary`).
//!
//! Why a fixed head: the append condition says "no record with any of the read tags after the
//! position I read", so every tag must be read up to the same position, whatever is appended
//! meanwhile; records past the head are left for the next attempt.

use std::collections::BTreeMap;

use residence_domain::boundary::History;
use residence_domain::state::State;
use residence_domain::tag::Tag as DomainTag;
use residence_ledger::ledger::{Ledger, ReadError};
use residence_ledger::record::{InvalidValue, Position, StoredRecord, Tag};

use crate::codec::{self, RecordDecodeError};

/// Records read per tag page.
pub const TAG_PAGE: usize = 5_000;

/// Why a history could not be read from the ledger.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The ledger could not read.
    #[error("reading the ledger failed")]
    Read(#[from] ReadError),
    /// A stored record gives no event a decision can fold.
    #[error(transparent)]
    Decode(#[from] RecordDecodeError),
    /// A domain tag does not fit the ledger's tag syntax (a bug).
    #[error("a tag does not fit the ledger record format")]
    Format(#[from] InvalidValue),
}

/// Every record carrying `tag` before position `head`, in ledger order (page by page, following
/// the tag's back-links).
///
/// # Errors
/// [`ReadError`].
pub fn read_tag(ledger: &Ledger, tag: &Tag, head: u64) -> Result<Vec<StoredRecord>, ReadError> {
    Ok(read_tag_at_most(ledger, tag, head, usize::MAX)?
        .expect("no tag has more than usize::MAX records"))
}

/// As [`read_tag`], stopping early with `None` once more than `max` records were found (a
/// query's bound on one subject's history).
///
/// # Errors
/// [`ReadError`].
pub fn read_tag_at_most(
    ledger: &Ledger,
    tag: &Tag,
    head: u64,
    max: usize,
) -> Result<Option<Vec<StoredRecord>>, ReadError> {
    let mut records = Vec::new();
    let mut after: Option<Position> = None;
    loop {
        let page = ledger.read_by_tag(tag, after, TAG_PAGE)?;
        let done = page.len() < TAG_PAGE;
        after = page.last().map(|stored| stored.record.position);
        records.extend(
            page.into_iter()
                .filter(|stored| stored.record.position.0 < head),
        );
        if records.len() > max {
            return Ok(None);
        }
        if done || after.is_some_and(|last| last.0 + 1 >= head) {
            break;
        }
    }
    debug_assert!(
        records
            .windows(2)
            .all(|pair| pair[0].record.position < pair[1].record.position),
        "a tag's records come in increasing position"
    );
    Ok(Some(records))
}

/// The ledger as a decision's history, up to (not including) position `head`.
#[derive(Debug, Clone, Copy)]
pub struct LedgerHistory<'a> {
    ledger: &'a Ledger,
    head: u64,
}

impl<'a> LedgerHistory<'a> {
    /// The ledger's history as it is now (up to its current head).
    pub fn now(ledger: &'a Ledger) -> Self {
        Self {
            ledger,
            head: ledger.head().size,
        }
    }

    /// The last position this history covers (`None` for an empty ledger): the position an
    /// append condition names.
    pub fn seen(&self) -> Option<Position> {
        self.head.checked_sub(1).map(Position)
    }

    /// The records carrying any of `tags`, each once, in position order.
    ///
    /// # Errors
    /// [`HistoryError`].
    pub fn records(&self, tags: &[DomainTag]) -> Result<Vec<StoredRecord>, HistoryError> {
        let mut records = BTreeMap::new();
        for tag in tags {
            for stored in read_tag(self.ledger, &codec::ledger_tag(tag)?, self.head)? {
                records.entry(stored.record.position).or_insert(stored);
            }
        }
        Ok(records.into_values().collect())
    }
}

impl History for LedgerHistory<'_> {
    type Error = HistoryError;

    fn fold(&self, tags: &[DomainTag]) -> Result<State, HistoryError> {
        fold_records(&self.records(tags)?)
    }
}

/// Folds stored records (in position order) into a decision state.
///
/// # Errors
/// [`RecordDecodeError`] when a record's event is erased or does not decode.
pub fn fold_records(records: &[StoredRecord]) -> Result<State, HistoryError> {
    let mut events = Vec::with_capacity(records.len());
    for stored in records {
        events.push((codec::event_id(stored), codec::decode(stored)?));
    }
    Ok(State::from_recorded(
        events.iter().map(|(id, event)| (*id, event)),
    ))
}
