//! A property test: random appends (with and without conditions, resent and reused ids,
//! malformed requests) sent in batches that share group commits, checked against a simple
//! sequential reference model; reads by tag and lookups are compared along the way, and after
//! reopening (on the file backend: from the files).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use residence_ledger::ledger::{
    AppendError, AppendOutcome, AppendRequest, AppendStatus, Condition, InvalidRequest, Ledger,
    NewRecord,
};
use residence_ledger::record::{EventId, Position, Tag, Timestamp};
use std::collections::HashMap;

use crate::support::{Backend, Backing, backend_tests, id, open, record, tags, verify_store};

backend_tests!(random_appends_match_the_reference_model);

/// The seeds of the memory backend; the file backend runs the first few of them (every group is
/// an fsync there, and the backends share all the logic the model checks).
const SEEDS: [u64; 5] = [1, 2, 3, 0xDEC0DE, 20_250_701];
const FILE_SEEDS: usize = 2;
const STEPS: usize = 1000;
const TAG_POOL: [&str; 12] = [
    "person:0",
    "person:1",
    "person:2",
    "person:3",
    "person:4",
    "person:5",
    "household:0",
    "household:1",
    "household:2",
    "pin:001234567890",
    "pin:009876543210",
    "unit:legacy:00001",
];

/// What the model remembers of a record: what idempotency compares, and its stored tags.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Content {
    event_type: String,
    metadata: Vec<u8>,
    payload: Vec<u8>,
    stored_tags: Vec<String>,
}

/// The reference: a vector of records, decided one request at a time.
#[derive(Debug, Default)]
struct Model {
    records: Vec<(EventId, Content)>,
    by_id: HashMap<EventId, u64>,
}

/// The expected answer to one request.
#[derive(Debug, PartialEq, Eq)]
enum Expected {
    Appended {
        positions: Vec<u64>,
        status: AppendStatus,
    },
    Conflict(u64),
    Reused(EventId, u64),
    DuplicateInRequest(EventId),
}

impl Model {
    fn content(ledger: &Ledger, record: &NewRecord) -> Content {
        let mut stored_tags: Vec<String> = record
            .tags
            .iter()
            .map(|tag| ledger.stored_tag(tag).as_str().to_owned())
            .collect();
        stored_tags.sort();
        stored_tags.dedup();
        Content {
            event_type: record.event_type.as_str().to_owned(),
            metadata: record.metadata.clone(),
            payload: record.payload.clone(),
            stored_tags,
        }
    }

    fn apply(&mut self, ledger: &Ledger, request: &AppendRequest) -> Expected {
        let mut seen = std::collections::HashSet::new();
        for record in &request.records {
            if !seen.insert(record.event_id) {
                // The ledger reports the smallest repeated id.
                let mut ids: Vec<EventId> = request.records.iter().map(|r| r.event_id).collect();
                ids.sort();
                let repeated = ids.windows(2).find(|w| w[0] == w[1]).map(|w| w[0]);
                return Expected::DuplicateInRequest(repeated.expect("a repeated id"));
            }
        }
        let mut existing = Vec::new();
        let mut any_new = false;
        for record in &request.records {
            match self.by_id.get(&record.event_id) {
                None => any_new = true,
                Some(&position) => {
                    let stored = &self.records[position as usize].1;
                    if *stored != Self::content(ledger, record) {
                        return Expected::Reused(record.event_id, position);
                    }
                    existing.push((record.event_id, position));
                }
            }
        }
        if let Some(&(event_id, position)) = existing.first() {
            if !any_new {
                return Expected::Appended {
                    positions: existing.iter().map(|(_, p)| *p).collect(),
                    status: AppendStatus::Duplicate,
                };
            }
            return Expected::Reused(event_id, position);
        }
        if let Some(condition) = &request.condition {
            let wanted: Vec<String> = condition
                .tags
                .iter()
                .map(|tag| ledger.stored_tag(tag).as_str().to_owned())
                .collect();
            let start = condition.after.map_or(0, |after| after.0 + 1);
            let conflict = (start..self.records.len() as u64).find(|position| {
                let content = &self.records[*position as usize].1;
                content.stored_tags.iter().any(|tag| wanted.contains(tag))
            });
            if let Some(position) = conflict {
                return Expected::Conflict(position);
            }
        }
        let mut positions = Vec::new();
        for record in &request.records {
            let position = self.records.len() as u64;
            self.by_id.insert(record.event_id, position);
            self.records
                .push((record.event_id, Self::content(ledger, record)));
            positions.push(position);
        }
        Expected::Appended {
            positions,
            status: AppendStatus::New,
        }
    }

    fn positions_with(&self, stored_tag: &str, after: Option<u64>, limit: usize) -> Vec<u64> {
        let start = after.map_or(0, |after| after + 1);
        (start..self.records.len() as u64)
            .filter(|position| {
                self.records[*position as usize]
                    .1
                    .stored_tags
                    .iter()
                    .any(|t| t == stored_tag)
            })
            .take(limit)
            .collect()
    }
}

fn observed(answer: &Result<AppendOutcome, AppendError>) -> Expected {
    match answer {
        Ok(outcome) => Expected::Appended {
            positions: outcome.records.iter().map(|r| r.position.0).collect(),
            status: outcome.status,
        },
        Err(AppendError::Conflict { position }) => Expected::Conflict(position.0),
        Err(AppendError::EventIdReused { event_id, position }) => {
            Expected::Reused(*event_id, position.0)
        }
        Err(AppendError::Invalid(InvalidRequest::DuplicateEventId { event_id })) => {
            Expected::DuplicateInRequest(*event_id)
        }
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

fn random_tags(rng: &mut ChaCha8Rng, max: usize) -> Vec<&'static str> {
    let count = rng.random_range(0..=max);
    (0..count)
        .map(|_| TAG_POOL[rng.random_range(0..TAG_POOL.len())])
        .collect()
}

fn random_request(
    rng: &mut ChaCha8Rng,
    next_id: &mut u64,
    sent: &[AppendRequest],
    model_len: u64,
) -> AppendRequest {
    let roll = rng.random_range(0..100);
    let mut records: Vec<NewRecord> = Vec::new();
    if roll < 15 && !sent.is_empty() {
        // Resend an earlier request as it was.
        let earlier = &sent[rng.random_range(0..sent.len())];
        records = earlier.records.clone();
    } else if roll < 25 && !sent.is_empty() {
        // Reuse an earlier id with other content.
        let earlier = &sent[rng.random_range(0..sent.len())];
        let mut changed = earlier.records[0].clone();
        changed.payload.extend_from_slice(b" changed");
        records.push(changed);
    } else if roll < 30 && !sent.is_empty() {
        // Mix an earlier record with a new one.
        let earlier = &sent[rng.random_range(0..sent.len())];
        records.push(earlier.records[0].clone());
        *next_id += 1;
        records.push(record(*next_id, &random_tags(rng, 2)));
    } else if roll < 34 {
        // The same id twice in one request.
        *next_id += 1;
        records.push(record(*next_id, &random_tags(rng, 2)));
        records.push(record(*next_id, &random_tags(rng, 2)));
    } else {
        for _ in 0..rng.random_range(1..=3) {
            *next_id += 1;
            records.push(record(*next_id, &random_tags(rng, 4)));
        }
    }
    let condition = rng.random_bool(0.5).then(|| Condition {
        tags: tags(&random_tags(rng, 2)),
        after: if rng.random_bool(0.2) {
            None
        } else {
            Some(Position(
                rng.random_range(0..=model_len + 2).saturating_sub(1),
            ))
        },
    });
    AppendRequest {
        records,
        condition,
        recorded_at: Some(Timestamp(1_000_000)),
    }
}

fn check_reads(ledger: &Ledger, model: &Model, rng: &mut ChaCha8Rng, seed: u64, step: usize) {
    let given = TAG_POOL[rng.random_range(0..TAG_POOL.len())];
    let tag = Tag::new(given).expect("valid");
    let stored = ledger.stored_tag(&tag);
    let after = rng
        .random_bool(0.7)
        .then(|| rng.random_range(0..=model.records.len() as u64));
    let limit = rng.random_range(1..20);
    let found: Vec<u64> = ledger
        .read_by_tag(&tag, after.map(Position), limit)
        .unwrap_or_else(|e| panic!("seed {seed} step {step}: read by tag failed: {e}"))
        .iter()
        .map(|r| r.record.position.0)
        .collect();
    assert_eq!(
        found,
        model.positions_with(stored.as_str(), after, limit),
        "seed {seed} step {step}: read_by_tag({given}, {after:?}, {limit})"
    );
    if !model.records.is_empty() {
        let position = rng.random_range(0..model.records.len() as u64);
        let (event_id, _) = model.records[position as usize];
        let found = ledger
            .lookup(&event_id)
            .expect("looks up")
            .expect("known id");
        assert_eq!(
            found.position.0, position,
            "seed {seed} step {step}: lookup"
        );
    }
    let unknown = id(u64::MAX - step as u64);
    assert_eq!(ledger.lookup(&unknown).expect("looks up"), None);
}

fn run(seed: u64, backend: Backend) {
    let backing = Backing::new(backend);
    let mut ledger = open(backing.store());
    let mut model = Model::default();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut next_id = 0u64;
    let mut sent: Vec<AppendRequest> = Vec::new();
    let mut step = 0;
    while step < STEPS {
        let batch_len = rng.random_range(1..=6);
        let batch: Vec<AppendRequest> = (0..batch_len)
            .map(|_| random_request(&mut rng, &mut next_id, &sent, model.records.len() as u64))
            .collect();
        let answers = ledger.append_all_blocking(batch.clone());
        for (request, answer) in batch.iter().zip(&answers) {
            let expected = model.apply(&ledger, request);
            assert_eq!(
                observed(answer),
                expected,
                "seed {seed} step {step}: {request:?}"
            );
            if let Ok(outcome) = answer {
                for appended in &outcome.records {
                    let stored = ledger.read(appended.position).expect("reads");
                    assert_eq!(
                        stored.record_hash, appended.record_hash,
                        "seed {seed} step {step}"
                    );
                }
            }
            step += 1;
        }
        sent.extend(batch);
        check_reads(&ledger, &model, &mut rng, seed, step);
        if step % 400 < 6 && step > 6 {
            // Reopen: the indexes are rebuilt from the log and must agree with the model.
            drop(ledger);
            ledger = open(backing.store());
        }
    }
    assert_eq!(
        ledger.head().size,
        model.records.len() as u64,
        "seed {seed}: size"
    );
    let report =
        verify_store(&**ledger.store()).unwrap_or_else(|e| panic!("seed {seed}: verify: {e}"));
    assert_eq!(report.records, model.records.len() as u64);
    assert_eq!(report.head, ledger.head().hash);
}

fn random_appends_match_the_reference_model(backend: Backend) {
    let seeds = match backend {
        Backend::Memory => &SEEDS[..],
        Backend::File => &SEEDS[..FILE_SEEDS],
    };
    for seed in seeds {
        run(*seed, backend);
    }
}
