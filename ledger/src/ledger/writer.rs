//! The sequencer: a writer thread that forms groups and a committer thread that makes them
//! durable, in a two-stage pipeline.
//!
//! Why one writer: the order of records is decided in exactly one place, so conditions,
//! back-links and the chain need no locks per record and no retries. Why groups: an fsync costs
//! the same for one record or four thousand, so everything queued is decided and written
//! together, with ONE `store.append` (one fsync). Why a pipeline: while the committer waits for
//! the disk with group N, the writer already decides and hashes group N+1, so the CPU work of the
//! sequencer overlaps the disk's.
//!
//! Writer, per group:
//! 1. take every queued request, bounded by the group limits (a request that does not fit is
//!    carried to the next group, never split: a request is atomic);
//! 2. under the state's write lock: decide each request in order (idempotency first, so a
//!    retried request gets its original answer before any rule runs; then the condition), and
//!    for an accepted request assign positions, `recorded_at` and back-links and add its records
//!    to the indexes at once, so that later requests (in this group or the next, even before this
//!    one is durable) see them;
//! 3. outside the lock: encode bodies, hash them along the chain, build the frame contents, and
//!    work out every answer;
//! 4. hand the group to the committer (at most `FORMED_AHEAD` groups wait for it).
//!
//! Committer, in order: every formed group waiting when it is ready (within the group limits)
//! goes into ONE `store.append`; then the head, the Merkle tree and the published durable size;
//! then the answers. So the writer forming small groups eagerly never costs extra fsyncs. On a
//! store error: fail-stop, and these groups and every later one are answered `Failed`.
//!
//! Because the indexes run ahead of durability, readers filter what they get from them by the
//! published durable size; the writer itself may see records of groups still in flight, whose
//! bytes it keeps (`in_flight`) until they are durable. If such a group then fails, nothing
//! after it is ever committed (fail-stop), so no decision based on it is ever acknowledged.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::{Receiver as CommitReceiver, SyncSender};

use tokio::sync::{mpsc, watch};

use super::tags::{PendingLinks, walk};
use super::{
    AppendError, AppendOutcome, AppendStatus, Appended, Prepared, PreparedCondition, Reply,
    Request, Shared, State,
};
use crate::clock::Stamper;
use crate::hash::Hash;
use crate::index::{POSITION_LIMIT, TagId};
use crate::record::{
    BodyFields, CONTENT_LEN_MAX, Position, Timestamp, chain_link, check_round_trip, content_len,
    decode_content, record_hash, write_body, write_content_head, write_content_tail,
};

/// What was decided for one request of the group.
#[derive(Debug)]
enum Decision {
    /// Appended at positions `first..first + n`.
    Accept { first: u64 },
    /// Every id already exists with the same content.
    Duplicate(Vec<Original>),
    /// Refused; nothing written.
    Reject(AppendError),
}

/// The original record of a duplicate.
#[derive(Debug, Clone, Copy)]
enum Original {
    /// Durable or in flight: its hash is known.
    Known(Appended),
    /// Accepted earlier in this group: its hash is known once the group is encoded.
    InGroup(u64),
}

/// One record accepted into the group being formed.
#[derive(Debug, Clone, Copy)]
struct GroupRecord {
    request: usize,
    record: usize,
    recorded_at: Timestamp,
    /// Range of its back-links in `Writer::links`.
    links_start: usize,
    links_len: usize,
}

/// A formed group: the frame contents of its records, back to back, and their hashes.
#[derive(Debug)]
struct Formed {
    start: u64,
    /// The head the group continues: the record hash before `start` (or the genesis hash).
    prev_head: Hash,
    contents: Vec<u8>,
    ends: Vec<usize>,
    hashes: Vec<Hash>,
}

impl Formed {
    fn end(&self) -> u64 {
        self.start + self.ends.len() as u64
    }

    /// The frame content of the record at `position`, if it is in this group.
    fn content(&self, position: u64) -> Option<&[u8]> {
        let index = usize::try_from(position.checked_sub(self.start)?).ok()?;
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some(&self.contents[start..end])
    }

    fn slices(&self) -> Vec<&[u8]> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|end| {
                let content = &self.contents[start..*end];
                start = *end;
                content
            })
            .collect()
    }
}

/// A formed group on its way to the committer, with every answer already worked out.
struct Commit {
    formed: Arc<Formed>,
    head: Hash,
    recorded_at: Option<Timestamp>,
    answers: Vec<(Reply, Result<AppendOutcome, AppendError>)>,
}

impl Commit {
    /// Records and frame bytes (content plus framing) of the group.
    fn size(&self) -> (usize, usize) {
        let records = self.formed.ends.len();
        (records, self.formed.contents.len() + 8 * records)
    }
}

/// How many records ahead the index slots of a request's records are touched, so that their
/// cache misses overlap instead of following one another.
const TOUCH_AHEAD: usize = 4;

/// How many formed groups may wait for the committer: enough for the writer to keep forming
/// while the disk syncs, few enough to bound the memory held (each is at most one group).
const FORMED_AHEAD: usize = 4;

/// Starts the sequencer: the committer thread, then the writer thread, joined by a bounded
/// channel (at most `FORMED_AHEAD` formed groups wait for the committer). Returns both handles,
/// the writer's first: dropping every request sender stops the writer, which stops the
/// committer once everything handed to it is committed.
pub(super) fn start(
    shared: Arc<Shared>,
    requests: mpsc::Receiver<Request>,
    durable: watch::Sender<u64>,
    stamper: Stamper,
    size: u64,
    head: Hash,
) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
    let (commits, receiver) = std::sync::mpsc::sync_channel(FORMED_AHEAD);
    let committer = Committer {
        shared: Arc::clone(&shared),
        commits: receiver,
        durable,
    };
    let committer = std::thread::Builder::new()
        .name("ledger-commit".to_owned())
        .spawn(move || committer.run())?;
    let writer = Writer {
        shared,
        requests,
        commits,
        stamper,
        next_position: size,
        head,
        carry: None,
        batch: Vec::new(),
        decisions: Vec::new(),
        records: Vec::new(),
        links: Vec::new(),
        in_flight: VecDeque::new(),
    };
    let writer = std::thread::Builder::new()
        .name("ledger-writer".to_owned())
        .spawn(move || writer.run())?;
    Ok(vec![writer, committer])
}

/// The writer thread: decides and forms groups.
struct Writer {
    shared: Arc<Shared>,
    requests: mpsc::Receiver<Request>,
    commits: SyncSender<Commit>,
    stamper: Stamper,
    /// The next position to assign (runs ahead of the durable size).
    next_position: u64,
    /// The hash of the last record formed (runs ahead of the durable head).
    head: Hash,
    carry: Option<Request>,
    batch: Vec<Request>,
    decisions: Vec<Decision>,
    records: Vec<GroupRecord>,
    /// Per accepted record and tag: the tag and its back-link.
    links: Vec<(TagId, Option<Position>)>,
    /// Groups handed to the committer and not yet known to be durable.
    in_flight: VecDeque<Arc<Formed>>,
}

impl Writer {
    /// Runs until every request sender is gone; dropping the commit sender then stops the
    /// committer once it has committed everything handed to it.
    fn run(mut self) {
        while self.collect() {
            self.form_group();
        }
    }

    /// Waits for a request, then takes every queued request that fits the group limits.
    /// Returns false when the channel is closed and empty.
    fn collect(&mut self) -> bool {
        self.batch.clear();
        let first = match self.carry.take() {
            Some(request) => request,
            None => match self.requests.blocking_recv() {
                Some(request) => request,
                None => return false,
            },
        };
        let limits = &self.shared.limits;
        let mut records = first.records.len();
        let mut bytes = first.frame_bytes;
        self.batch.push(first);
        while let Ok(request) = self.requests.try_recv() {
            let fits = records + request.records.len() <= limits.group_records_max
                && bytes + request.frame_bytes <= limits.group_bytes_max;
            if !fits {
                self.carry = Some(request);
                break;
            }
            records += request.records.len();
            bytes += request.frame_bytes;
            self.batch.push(request);
        }
        true
    }

    /// Decides, encodes and hands over one group.
    fn form_group(&mut self) {
        if let Some(cause) = self.shared.failure.get() {
            let cause = cause.clone();
            for request in self.batch.drain(..) {
                // A caller that stopped waiting loses nothing: nothing of its request was written.
                let _ = request.reply.send(Err(AppendError::Failed {
                    cause: cause.clone(),
                }));
            }
            return;
        }
        let durable = self.shared.durable_size();
        while self
            .in_flight
            .front()
            .is_some_and(|formed| formed.end() <= durable)
        {
            self.in_flight.pop_front();
        }
        let group_start = self.next_position;
        self.records.clear();
        self.links.clear();
        self.decisions.clear();
        {
            let shared = Arc::clone(&self.shared);
            let mut state = shared.state_mut();
            while state
                .pending
                .front()
                .is_some_and(|group| group.end() <= durable)
            {
                state.pending.pop_front();
            }
            for index in 0..self.batch.len() {
                let decision = self.decide(&mut state, group_start, index);
                self.decisions.push(decision);
            }
            if !self.records.is_empty() {
                // Published before the lock is released, so that a reader who sees these
                // positions in the index finds their back-links.
                let mut ends = Vec::with_capacity(self.records.len());
                for record in &self.records {
                    let end = record.links_start + record.links_len;
                    ends.push(u32::try_from(end).expect("a group has fewer than 2^32 links"));
                }
                state.pending.push_back(Arc::new(PendingLinks {
                    start: group_start,
                    ends,
                    links: self.links.clone(),
                }));
            }
        }
        let formed = Arc::new(self.encode(group_start));
        self.next_position = formed.end();
        let answers = self.answers(&formed);
        if !formed.ends.is_empty() {
            self.in_flight.push_back(Arc::clone(&formed));
        }
        let commit = Commit {
            formed,
            head: self.head,
            recorded_at: self.records.last().map(|record| record.recorded_at),
            answers,
        };
        // The committer only goes away if it panicked; the callers then see `Closed`.
        let _ = self.commits.send(commit);
    }

    /// Decides request `index` of the batch (see the module docs for the order of checks).
    fn decide(&mut self, state: &mut State, group_start: u64, index: usize) -> Decision {
        let request = &self.batch[index];

        // Idempotency, before any rule: all ids known with the same content → the original
        // answer; some known and some not → the ids were reused.
        let mut originals = Vec::new();
        let mut any_new = false;
        for record in &request.records {
            match self.find_existing(state, group_start, record) {
                Err(error) => return Decision::Reject(error),
                Ok(None) => any_new = true,
                Ok(Some((original, same_content))) => {
                    if !same_content {
                        return Decision::Reject(AppendError::EventIdReused {
                            event_id: record.event_id,
                            position: Position(original.position()),
                        });
                    }
                    originals.push((record.event_id, original));
                }
            }
        }
        if let Some(&(event_id, original)) = originals.first() {
            if !any_new {
                return Decision::Duplicate(originals.into_iter().map(|(_, o)| o).collect());
            }
            return Decision::Reject(AppendError::EventIdReused {
                event_id,
                position: Position(original.position()),
            });
        }

        if let Some(condition) = &request.condition {
            match self.first_conflict(state, group_start, condition) {
                Ok(None) => {}
                Ok(Some(position)) => return Decision::Reject(AppendError::Conflict { position }),
                Err(error) => return Decision::Reject(error),
            }
        }

        // Accepted: positions, time, back-links, and the indexes at once.
        let first = group_start + self.records.len() as u64;
        if first + request.records.len() as u64 >= POSITION_LIMIT - 1 {
            return Decision::Reject(AppendError::Unavailable {
                cause: "the ledger holds the most records its indexes address (2^40)".to_owned(),
            });
        }
        let recorded_at = self.stamper.stamp(request.recorded_at);
        for (offset, record) in request.records.iter().enumerate() {
            if let Some(ahead) = request.records.get(offset + TOUCH_AHEAD) {
                for fingerprint in &ahead.tag_fingerprints {
                    state.tags.touch(*fingerprint);
                }
                state.ids.touch(ahead.id_fingerprint);
            }
            let position = Position(first + offset as u64);
            let links_start = self.links.len();
            for fingerprint in &record.tag_fingerprints {
                self.links.push(state.tags.push(*fingerprint, position));
            }
            state.ids.insert(record.id_fingerprint, position);
            self.records.push(GroupRecord {
                request: index,
                record: offset,
                recorded_at,
                links_start,
                links_len: record.tags.len(),
            });
        }
        Decision::Accept { first }
    }

    /// The record already holding `record.event_id` (in this group, in flight, or durable)
    /// and whether its content is the same.
    fn find_existing(
        &self,
        state: &State,
        group_start: u64,
        record: &Prepared,
    ) -> Result<Option<(Original, bool)>, AppendError> {
        for candidate in state.ids.candidates(record.id_fingerprint) {
            let position = candidate.0;
            if position >= group_start {
                let offset = usize::try_from(position - group_start).expect("in group");
                let earlier = self.records[offset];
                let other = &self.batch[earlier.request].records[earlier.record];
                if other.event_id != record.event_id {
                    continue;
                }
                let same_content = other.event_type == record.event_type
                    && other.schema_version == record.schema_version
                    && other.tags == record.tags
                    && other.metadata == record.metadata
                    && other.commitment == record.commitment;
                return Ok(Some((Original::InGroup(position), same_content)));
            }
            let unavailable = |detail: String| AppendError::Unavailable {
                cause: format!("record {position}: {detail}"),
            };
            let in_flight = self
                .in_flight
                .iter()
                .find_map(|formed| formed.content(position));
            let read;
            let content = match in_flight {
                Some(content) => content,
                None => {
                    read = self
                        .shared
                        .store
                        .read(position)
                        .map_err(|error| unavailable(error.to_string()))?;
                    &read
                }
            };
            let stored = decode_content(content).map_err(|error| unavailable(error.to_string()))?;
            if stored.record.event_id != record.event_id {
                continue;
            }
            let body = &stored.record;
            let same_content = body.event_type == record.event_type.as_str()
                && body.schema_version == record.schema_version
                && body.tags.len() == record.tags.len()
                && body
                    .tags
                    .iter()
                    .zip(&record.tags)
                    .all(|((tag, _), mine)| tag == mine.as_str())
                && body.metadata == record.metadata.as_slice()
                && body.payload_commitment == record.commitment;
            let appended = Appended {
                position: candidate,
                record_hash: stored.record_hash,
            };
            return Ok(Some((Original::Known(appended), same_content)));
        }
        Ok(None)
    }

    /// Encodes every accepted record of the group, hashing along the chain from `self.head`.
    ///
    /// The encoding end of the paired checks (the committer holds the writing end): each frame
    /// content is as long as its request was charged for and within [`CONTENT_LEN_MAX`], the
    /// group within the group limits, and (in debug builds) each record decodes back to the
    /// fields it was encoded from.
    fn encode(&mut self, group_start: u64) -> Formed {
        let bytes: usize = self
            .records
            .iter()
            .map(|record| self.batch[record.request].records[record.record].frame_bytes())
            .sum();
        let mut formed = Formed {
            start: group_start,
            prev_head: self.head,
            contents: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(self.records.len()),
            hashes: Vec::with_capacity(self.records.len()),
        };
        for (offset, record) in self.records.iter().enumerate() {
            let prepared = &self.batch[record.request].records[record.record];
            let fields = BodyFields {
                position: Position(group_start + offset as u64),
                recorded_at: record.recorded_at,
                event_id: &prepared.event_id,
                event_type: prepared.event_type.as_str(),
                schema_version: prepared.schema_version,
                metadata: &prepared.metadata,
                payload_commitment: &prepared.commitment,
                prev_hash: &self.head,
            };
            let links = &self.links[record.links_start..record.links_start + record.links_len];
            let tags = || {
                prepared
                    .tags
                    .iter()
                    .map(|tag| tag.as_str())
                    .zip(links.iter().map(|(_, link)| *link))
            };
            let out = &mut formed.contents;
            let content_start = out.len();
            write_content_head(out, prepared.body_len);
            let body_start = out.len();
            write_body(out, &fields, tags());
            // The head already states `body_len`: a body of another length would misframe
            // every field after it. Cheap, so checked in release builds too.
            assert_eq!(
                out.len() - body_start,
                prepared.body_len,
                "a record body is as long as precomputed for its content head"
            );
            let hash = record_hash(&out[body_start..]);
            write_content_tail(out, &hash, &prepared.salt, &prepared.payload);
            let content = &out[content_start..];
            assert_eq!(
                content.len(),
                content_len(prepared.body_len, prepared.payload.len()),
                "a frame content is as long as its request was charged for (group limits)"
            );
            assert!(
                content.len() <= CONTENT_LEN_MAX,
                "a frame content is within CONTENT_LEN_MAX: {} bytes",
                content.len()
            );
            debug_assert_eq!(
                check_round_trip(
                    content,
                    &fields,
                    tags(),
                    &hash,
                    &prepared.salt,
                    &prepared.payload
                ),
                Ok(()),
                "an encoded record decodes back to the fields it was encoded from"
            );
            formed.ends.push(out.len());
            formed.hashes.push(hash);
            self.head = hash;
        }
        let (records, frame_bytes) = (
            formed.ends.len(),
            formed.contents.len() + 8 * formed.ends.len(),
        );
        let limits = &self.shared.limits;
        assert!(
            records <= limits.group_records_max && frame_bytes <= limits.group_bytes_max,
            "a formed group is within the group limits: {records} records, {frame_bytes} bytes"
        );
        formed
    }

    /// Works out the answer of every request of the group (sent after the commit).
    fn answers(&mut self, formed: &Formed) -> Vec<(Reply, Result<AppendOutcome, AppendError>)> {
        let appended = |position: u64| Appended {
            position: Position(position),
            record_hash: formed.hashes
                [usize::try_from(position - formed.start).expect("position in group")],
        };
        self.batch
            .drain(..)
            .zip(self.decisions.drain(..))
            .map(|(request, decision)| {
                let result = match decision {
                    Decision::Accept { first } => Ok(AppendOutcome {
                        records: (first..first + request.records.len() as u64)
                            .map(appended)
                            .collect(),
                        status: AppendStatus::New,
                    }),
                    Decision::Duplicate(originals) => Ok(AppendOutcome {
                        records: originals
                            .into_iter()
                            .map(|original| match original {
                                Original::Known(known) => known,
                                Original::InGroup(position) => appended(position),
                            })
                            .collect(),
                        status: AppendStatus::Duplicate,
                    }),
                    Decision::Reject(error) => Err(error),
                };
                (request.reply, result)
            })
            .collect()
    }
}

impl Writer {
    /// The first position after the condition's `after` carrying one of its tags. The index
    /// holds every record decided so far (durable, in flight, and earlier in this group); the
    /// position is found by walking the tag's back-links from the block after `after`.
    fn first_conflict(
        &self,
        state: &State,
        group_start: u64,
        condition: &PreparedCondition,
    ) -> Result<Option<Position>, AppendError> {
        let after = condition.after.map(Position::get);
        let mut first: Option<u64> = None;
        for (tag, fingerprint) in &condition.tags {
            let Some(id) = state.tags.get(*fingerprint) else {
                continue;
            };
            let conflicts = state
                .tags
                .last(id)
                .is_some_and(|last| after.is_none_or(|after| last.0 > after));
            if !conflicts {
                continue;
            }
            let chain = state.tags.chain(*fingerprint, after, 1);
            let found = walk(&chain, after, u64::MAX, 1, &mut |position| {
                self.back_link(state, group_start, id, tag.as_str(), position)
            })?;
            if let Some(position) = found.first() {
                first = Some(first.map_or(*position, |earlier| earlier.min(*position)));
            }
        }
        Ok(first.map(Position))
    }

    /// The back-link of tag `id` (stored form `tag`) in the record at `position`: from this
    /// group, the groups in flight, or the store.
    fn back_link(
        &self,
        state: &State,
        group_start: u64,
        id: TagId,
        tag: &str,
        position: u64,
    ) -> Result<Option<u64>, AppendError> {
        if position >= group_start {
            let offset = usize::try_from(position - group_start).expect("in group");
            let record = self.records[offset];
            let links = &self.links[record.links_start..record.links_start + record.links_len];
            return Ok(links
                .iter()
                .find(|(tag_id, _)| *tag_id == id)
                .and_then(|(_, link)| link.map(Position::get)));
        }
        if let Some(link) = state
            .pending
            .iter()
            .find_map(|group| group.link(position, id))
        {
            return Ok(link);
        }
        let unavailable = |detail: String| AppendError::Unavailable {
            cause: format!("record {position}: {detail}"),
        };
        let content = self
            .shared
            .store
            .read(position)
            .map_err(|error| unavailable(error.to_string()))?;
        super::back_link(position, &content, tag).map_err(|error| unavailable(error.to_string()))
    }
}

impl Original {
    fn position(&self) -> u64 {
        match self {
            Original::Known(appended) => appended.position.0,
            Original::InGroup(position) => *position,
        }
    }
}

/// The committer thread: makes formed groups durable, in order, and answers them.
struct Committer {
    shared: Arc<Shared>,
    commits: CommitReceiver<Commit>,
    durable: watch::Sender<u64>,
}

impl Committer {
    /// Runs until the writer is gone, then syncs the tree. Every formed group waiting when the
    /// committer is ready joins one store append (within the group limits), so that the
    /// writer forming small groups eagerly never costs extra fsyncs.
    fn run(self) {
        let limits = &self.shared.limits;
        let mut carry: Option<Commit> = None;
        loop {
            let first = match carry.take() {
                Some(commit) => commit,
                None => match self.commits.recv() {
                    Ok(commit) => commit,
                    Err(_) => break,
                },
            };
            let (mut records, mut bytes) = first.size();
            let mut commits = vec![first];
            while let Ok(next) = self.commits.try_recv() {
                let (more_records, more_bytes) = next.size();
                // Every store append stays within the group limits: opening relies on it to
                // know how far back a torn write can reach.
                if records + more_records > limits.group_records_max
                    || bytes + more_bytes > limits.group_bytes_max
                {
                    carry = Some(next);
                    break;
                }
                records += more_records;
                bytes += more_bytes;
                commits.push(next);
            }
            self.commit(commits);
        }
        if let Err(error) = self.shared.tree().sync() {
            tracing::warn!(%error, "syncing the merkle tree on close failed; it is rebuilt on open");
        }
    }

    /// Makes consecutive formed groups durable with one store append, then answers them.
    fn commit(&self, commits: Vec<Commit>) {
        if let Some(cause) = self.shared.failure.get() {
            for commit in commits {
                answer_failed(commit.answers, cause);
            }
            return;
        }
        let last_formed = commits
            .iter()
            .rev()
            .find(|commit| !commit.formed.ends.is_empty());
        if let Some(last) = last_formed {
            let slices: Vec<&[u8]> = commits
                .iter()
                .flat_map(|commit| commit.formed.slices())
                .collect();
            self.check_before_write(&commits, &slices);
            if let Err(error) = self.shared.store.append(&slices) {
                self.shared.fail(format!("store append failed: {error}"));
                let cause = self
                    .shared
                    .failure
                    .get()
                    .cloned()
                    .expect("fail() set the failure, and it is never cleared");
                for commit in commits {
                    answer_failed(commit.answers, &cause);
                }
                return;
            }
            let size = last.formed.end();
            {
                let mut state = self.shared.state_mut();
                state.head.size = size;
                state.head.hash = last.head;
                state.head.recorded_at = last.recorded_at;
            }
            let hashes: Vec<Hash> = commits
                .iter()
                .flat_map(|commit| commit.formed.hashes.iter().copied())
                .collect();
            if let Err(error) = self.shared.tree().append_leaves(&hashes) {
                // The groups are durable and are answered; the tree is rebuilt on open, but the
                // ledger must not go on committing records it cannot prove.
                self.shared
                    .fail(format!("merkle tree append failed: {error}"));
            }
            self.durable.send_replace(size);
        }
        for commit in commits {
            for (reply, result) in commit.answers {
                // A caller that stopped waiting changes nothing: the records are durable.
                let _ = reply.send(result);
            }
        }
    }
}

impl Committer {
    /// The writing end of the paired checks, on the bytes about to be appended (`slices`, the
    /// records of `commits` in order): the append is within the group limits (opening relies on
    /// it to bound the torn tail); the groups follow the durable head without a gap; and every
    /// record's encoded position is the next one, its encoded `prev_hash` the hash of the record
    /// before it, and its stored record hash the one the group answers with. Reads only the
    /// framing and two fields of each record, so it runs in release builds.
    fn check_before_write(&self, commits: &[Commit], slices: &[&[u8]]) {
        let limits = &self.shared.limits;
        let frame_bytes: usize = slices.iter().map(|content| content.len() + 8).sum();
        assert!(
            slices.len() <= limits.group_records_max && frame_bytes <= limits.group_bytes_max,
            "a store append is within the group limits: {} records, {frame_bytes} bytes",
            slices.len()
        );
        let (mut next, mut head) = {
            let state = self.shared.state();
            (state.head.size, state.head.hash)
        };
        let mut contents = slices.iter();
        for commit in commits {
            let formed = &commit.formed;
            assert_eq!(
                formed.start, next,
                "groups reach the store gapless and in order, after the durable size"
            );
            assert_eq!(
                formed.prev_head, head,
                "each group continues the chain from the head before it"
            );
            for (offset, hash) in formed.hashes.iter().enumerate() {
                let content = contents
                    .next()
                    .expect("one slice per record of the groups being committed");
                let link = chain_link(content).expect("a formed record has a whole body");
                assert_eq!(
                    link.position,
                    Position(formed.start + offset as u64),
                    "positions are gapless and increasing"
                );
                assert_eq!(
                    link.prev_hash, head,
                    "the prev_hash of each record is the record hash of the one before it"
                );
                assert_eq!(
                    link.record_hash, *hash,
                    "the stored record hash is the one the append is answered with"
                );
                head = *hash;
            }
            assert_eq!(head, commit.head, "a group's head is its last record hash");
            next = formed.end();
        }
        assert!(
            contents.next().is_none(),
            "no slice beyond the records of the groups being committed"
        );
    }
}

fn answer_failed(answers: Vec<(Reply, Result<AppendOutcome, AppendError>)>, cause: &str) {
    for (reply, _) in answers {
        // A caller that stopped waiting loses nothing: nothing of its request was written.
        let _ = reply.send(Err(AppendError::Failed {
            cause: cause.to_owned(),
        }));
    }
}
