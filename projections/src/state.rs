//! The [`Projections`] facade: every model at one ledger position, the fold step, and the
//! state's byte encoding.
//!
//! Invariants: the state after folding records `0..position` is a function of those records
//! alone; [`Projections::to_bytes`] is canonical (ordered tables, no hash-map order), so a state
//! rebuilt from scratch and one maintained incrementally with snapshot restarts encode to the
//! same bytes; `head_hash` is the record hash of `position − 1` (the genesis hash at 0), and a
//! record is folded only if its `prev_hash` links to it, so a projection can never mix two
//! ledgers.

use chrono::NaiveDate;
use residence_domain::event::{DecodeError, Event};
use residence_domain::ids::{HouseholdId, PersonId};
use residence_domain::pin::Pin;
use residence_ledger::hash::Hash;
use residence_ledger::record::{EventId, Position, StoredRecord, Timestamp};
use residence_register::codec;
use serde::{Deserialize, Serialize};

use crate::models::{Counters, FoldError, Models};

/// The version of the state layout. Bump it whenever [`Projections::to_bytes`] would encode the
/// same ledger differently (a field added, a model changed, a rule of the compact fold changed):
/// snapshots written under another version are not used.
pub const STATE_VERSION: u32 = 1;

/// The magic bytes opening an encoded state.
const STATE_MAGIC: &[u8; 8] = b"RESPROJ1";

/// The coordinates of one ledger record, as the fold needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordMeta {
    /// Its position.
    pub position: Position,
    /// When the ledger recorded it.
    pub recorded_at: Timestamp,
    /// Its event id.
    pub event_id: EventId,
    /// The record hash of the previous position (the genesis hash at 0).
    pub prev_hash: Hash,
    /// Its own record hash.
    pub record_hash: Hash,
}

impl RecordMeta {
    /// The coordinates of a stored record.
    #[must_use]
    pub fn of(record: &StoredRecord) -> RecordMeta {
        RecordMeta {
            position: record.record.position,
            recorded_at: record.record.recorded_at,
            event_id: record.record.event_id,
            prev_hash: record.record.prev_hash,
            record_hash: record.record_hash,
        }
    }
}

/// Why a record could not be folded. Every variant stops the replay or the follower: folding on
/// past it would make every later answer wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The record is not the next one. → a bug in the caller (records must come in position
    /// order, each once); the follower stops.
    #[error("expected the record at position {expected}, got position {got}")]
    OutOfOrder {
        /// The position expected.
        expected: u64,
        /// The position handed in.
        got: u64,
    },
    /// The record does not link to the head hash: it comes from another ledger (or the state
    /// was loaded from a snapshot of another ledger). → stop; rebuild from this ledger.
    #[error("record at position {position} does not link to the projection's head hash")]
    ChainBroken {
        /// The record's position.
        position: u64,
    },
    /// The payload cannot be decoded by this binary. → stop; see the domain's `DecodeError`.
    #[error("record at position {position}: {source}")]
    Decode {
        /// The record's position.
        position: u64,
        /// Why.
        source: DecodeError,
    },
    /// The fold refused the event.
    #[error(transparent)]
    Fold(#[from] FoldError),
}

/// Why an encoded state cannot be read. The caller (the snapshot loader) skips such a state and
/// replays from an older snapshot or from the start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateDecodeError {
    /// The bytes do not start with the state magic.
    #[error("not an encoded projection state")]
    Magic,
    /// The state was written under another [`STATE_VERSION`].
    #[error("projection state version {found}, this binary reads {STATE_VERSION}")]
    Version {
        /// The version found.
        found: u32,
    },
    /// The body does not decode.
    #[error("projection state body does not decode: {0}")]
    Body(String),
    /// The body decodes but points outside its own tables.
    #[error("projection state is inconsistent")]
    Inconsistent,
}

/// The encoded body: everything but the magic and version.
#[derive(Serialize)]
struct BodyRef<'a> {
    position: u64,
    head_hash: [u8; 32],
    last_recorded_at: Option<i64>,
    models: &'a Models,
    pins: Vec<(u64, u32)>,
}

/// The decoded body.
#[derive(Deserialize)]
struct BodyOwned {
    position: u64,
    head_hash: [u8; 32],
    last_recorded_at: Option<i64>,
    models: Models,
    pins: Vec<(u64, u32)>,
}

/// Every read model at one ledger position.
#[derive(Debug)]
pub struct Projections {
    /// The number of records folded: the next position to fold.
    position: u64,
    /// The record hash of `position − 1`, or the genesis hash.
    head_hash: Hash,
    /// When the last folded record was recorded.
    last_recorded_at: Option<i64>,
    /// The models.
    pub(crate) models: Models,
}

impl Projections {
    /// Empty projections of the ledger whose genesis hash is `genesis`.
    #[must_use]
    pub fn new(genesis: Hash) -> Projections {
        Projections {
            position: 0,
            head_hash: genesis,
            last_recorded_at: None,
            models: Models::default(),
        }
    }

    /// The number of records folded, which is the position of the next record to fold.
    #[must_use]
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The record hash of the last folded record (the genesis hash when none was folded).
    #[must_use]
    pub fn head_hash(&self) -> Hash {
        self.head_hash
    }

    /// When the last folded record was recorded, if any.
    #[must_use]
    pub fn last_recorded_at(&self) -> Option<Timestamp> {
        self.last_recorded_at.map(Timestamp)
    }

    /// Counters of what was folded.
    #[must_use]
    pub fn counters(&self) -> Counters {
        self.models.counters
    }

    /// The number of persons and households known.
    #[must_use]
    pub fn sizes(&self) -> (usize, usize) {
        (self.models.persons.len(), self.models.households.len())
    }

    /// The first day of the 2025 reorganisation, once its event is folded.
    #[must_use]
    pub fn reorganised_from(&self) -> Option<NaiveDate> {
        self.models.reorganised_from()
    }

    /// The person who holds `pin` now.
    #[must_use]
    pub fn person_by_pin(&self, pin: Pin) -> Option<PersonId> {
        self.models
            .persons
            .by_pin(pin)
            .map(|index| self.models.persons.id_of(index))
    }

    /// The PIN `person` holds now, if recorded.
    #[must_use]
    pub fn pin_of(&self, person: PersonId) -> Option<Pin> {
        let index = self.models.persons.find(person)?;
        let pin = self.models.persons.get(index)?.pin?;
        format!("{pin:012}").parse().ok()
    }

    /// The person with dense index `index` (persons are indexed in the order the ledger first
    /// names them), for sampling.
    #[must_use]
    pub fn person_at(&self, index: usize) -> Option<PersonId> {
        let index = crate::persons::PersonIdx(u32::try_from(index).ok()?);
        self.models.persons.get(index)?;
        Some(self.models.persons.id_of(index))
    }

    /// Whether the household is known.
    #[must_use]
    pub fn knows_household(&self, household: HouseholdId) -> bool {
        self.models.households.find(household).is_some()
    }

    /// Whether the person is known.
    #[must_use]
    pub fn knows_person(&self, person: PersonId) -> bool {
        self.models.persons.find(person).is_some()
    }

    /// Folds the next record: `event` is its decoded payload, `None` when the payload was
    /// erased (see [`crate::models`] for what every model then shows).
    ///
    /// # Errors
    /// [`ApplyError::OutOfOrder`], [`ApplyError::ChainBroken`] or [`ApplyError::Fold`]; the
    /// state is then unchanged.
    pub fn apply(&mut self, meta: &RecordMeta, event: Option<&Event>) -> Result<(), ApplyError> {
        if meta.position.0 != self.position {
            return Err(ApplyError::OutOfOrder {
                expected: self.position,
                got: meta.position.0,
            });
        }
        if meta.prev_hash != self.head_hash {
            return Err(ApplyError::ChainBroken {
                position: meta.position.0,
            });
        }
        match event {
            Some(event) => self.models.apply(meta.position.0, meta.event_id.0, event)?,
            None => self.models.apply_erased(),
        }
        self.position += 1;
        self.head_hash = meta.record_hash;
        self.last_recorded_at = Some(meta.recorded_at.micros());
        Ok(())
    }

    /// Decodes and folds a stored record.
    ///
    /// # Errors
    /// As [`Projections::apply`], and [`ApplyError::Decode`] for a payload this binary cannot
    /// decode.
    pub fn apply_record(&mut self, record: &StoredRecord) -> Result<(), ApplyError> {
        let meta = RecordMeta::of(record);
        let event = decode_record(record)?;
        self.apply(&meta, event.as_ref())
    }

    /// The canonical encoding of the whole state (position, head hash and models).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(64 + self.models.counters.facts as usize * 48);
        bytes.extend_from_slice(STATE_MAGIC);
        bytes.extend_from_slice(&STATE_VERSION.to_le_bytes());
        let body = BodyRef {
            position: self.position,
            head_hash: self.head_hash.0,
            last_recorded_at: self.last_recorded_at,
            models: &self.models,
            pins: self.models.persons.pin_pairs(),
        };
        postcard::to_io(&body, &mut bytes)
            .expect("the state is plain data and a Vec accepts every write");
        bytes
    }

    /// Reads a state written by [`Projections::to_bytes`].
    ///
    /// # Errors
    /// [`StateDecodeError`] when the bytes are not a state of this version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Projections, StateDecodeError> {
        let rest = bytes
            .strip_prefix(STATE_MAGIC.as_slice())
            .ok_or(StateDecodeError::Magic)?;
        let (version, body) = rest
            .split_first_chunk::<4>()
            .ok_or(StateDecodeError::Magic)?;
        let found = u32::from_le_bytes(*version);
        if found != STATE_VERSION {
            return Err(StateDecodeError::Version { found });
        }
        let (body, rest): (BodyOwned, &[u8]) =
            postcard::take_from_bytes(body).map_err(|e| StateDecodeError::Body(e.to_string()))?;
        if !rest.is_empty() {
            return Err(StateDecodeError::Body("trailing bytes".to_owned()));
        }
        let mut models = body.models;
        if !models.is_consistent() {
            return Err(StateDecodeError::Inconsistent);
        }
        let persons = models.persons.len();
        if body
            .pins
            .iter()
            .any(|&(_, person)| person as usize >= persons)
        {
            return Err(StateDecodeError::Inconsistent);
        }
        models
            .rebuild(&body.pins)
            .map_err(|_| StateDecodeError::Inconsistent)?;
        Ok(Projections {
            position: body.position,
            head_hash: Hash(body.head_hash),
            last_recorded_at: body.last_recorded_at,
            models,
        })
    }

    /// Approximate heap bytes held by the models (the benchmark's memory per person).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.models.heap_bytes()
    }
}

/// The event of a stored record, `None` for an erased payload.
///
/// # Errors
/// [`ApplyError::Decode`].
pub fn decode_record(record: &StoredRecord) -> Result<Option<Event>, ApplyError> {
    codec::decode_stored(record)
        .map_err(|codec::Undecodable { position, source }| ApplyError::Decode { position, source })
}
