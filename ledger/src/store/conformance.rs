//! The segment-store conformance suite: one check per clause of the contract in [`super`], generic
//! over [`SegmentStore`], so that every backend (memory, files, EventStoreDB) is held to the same
//! promises; plus the crash-test harness ([`crash`]) that kills a writer process at random moments.
//!
//! Why generic: the layers above the store (sequencer, chain, Merkle tree) are shared by every
//! backend and rely only on the contract. A backend that passes this suite can be put under them.
//!
//! How to use it: implement [`Backend`] (a fresh, empty store per clause, wrapped in a [`Fixture`]
//! that can close and reopen it when the backend is durable) and either call [`run_all`] or let
//! [`segment_store_conformance!`](crate::segment_store_conformance) generate one `#[test]` per
//! clause. Compiled for this crate's unit tests and behind the `conformance` feature (which the
//! crate's own integration tests enable through a dev-dependency on itself).
//!
//! Clauses report a [`Violation`] naming the clause instead of panicking, so the suite can also run
//! from a binary (e.g. against a live EventStoreDB) and report every failure.
//!
//! What the suite does not demand, because the trait leaves it to the backend: a limit on record
//! size, and whether an empty record is accepted (the file backend refuses it; FORMAT.md §6.2
//! requires `frame_len ≥ 1`, and the record codec never produces an empty record).

use std::fmt;
use std::ops::ControlFlow;

use super::{SegmentStore, StoreError};

/// Whether a backend keeps its records across a close and reopen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Records survive [`Fixture::reopen`]; the reopen clauses run.
    Durable,
    /// Records live as long as the store value (the memory backend); the reopen clauses are
    /// skipped.
    Volatile,
}

/// A store under test, with what it needs to stay alive (e.g. its temporary directory).
pub trait Fixture {
    /// The store.
    fn store(&self) -> &dyn SegmentStore;

    /// Closes the store and opens it again from what it made durable.
    ///
    /// # Errors
    /// The store's error when it cannot be reopened; [`StoreError::Invalid`] from a volatile
    /// backend, which cannot reopen.
    fn reopen(&mut self) -> Result<(), StoreError>;
}

/// A backend under test.
pub trait Backend {
    /// A fresh, empty store.
    fn fresh(&self) -> Box<dyn Fixture>;

    /// Whether the backend is durable.
    fn durability(&self) -> Durability;
}

/// A broken contract clause.
pub struct Violation {
    /// The clause (the name of its check function).
    pub clause: &'static str,
    /// What was observed.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "segment store contract, clause `{}`: {}",
            self.clause, self.detail
        )
    }
}

// Debug prints the message: a test returning `Err(Violation)` shows it that way.
impl fmt::Debug for Violation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, formatter)
    }
}

impl std::error::Error for Violation {}

/// The outcome of one clause.
pub type Outcome = Result<(), Violation>;

/// Helpers that turn observations into [`Violation`]s of one clause.
#[derive(Debug, Clone, Copy)]
struct Clause(&'static str);

impl Clause {
    fn fail<T>(self, detail: impl Into<String>) -> Result<T, Violation> {
        Err(Violation {
            clause: self.0,
            detail: detail.into(),
        })
    }

    /// Unwraps a store result that the contract says must succeed.
    fn ok<T>(self, what: &str, result: Result<T, StoreError>) -> Result<T, Violation> {
        result.or_else(|error| self.fail(format!("{what} failed: {error}")))
    }

    fn ensure(self, condition: bool, detail: impl FnOnce() -> String) -> Outcome {
        if condition {
            Ok(())
        } else {
            self.fail(detail())
        }
    }

    fn equal<T: PartialEq + fmt::Debug>(self, what: &str, actual: T, expected: T) -> Outcome {
        self.ensure(actual == expected, || {
            format!("{what}: got {actual:?}, expected {expected:?}")
        })
    }

    /// Checks that a record reads back as `expected` (compared without printing megabytes).
    fn read_equals(self, store: &dyn SegmentStore, position: u64, expected: &[u8]) -> Outcome {
        let actual = self.ok(&format!("read({position})"), store.read(position))?;
        self.ensure(actual == expected, || {
            format!(
                "read({position}) returned {} bytes that differ from the {} bytes appended",
                actual.len(),
                expected.len()
            )
        })
    }

    fn out_of_range(self, what: &str, result: Result<Vec<u8>, StoreError>, len: u64) -> Outcome {
        match result {
            Err(StoreError::OutOfRange { len: reported, .. }) if reported == len => Ok(()),
            Err(error) => self.fail(format!(
                "{what}: expected OutOfRange (len {len}), got {error}"
            )),
            Ok(bytes) => self.fail(format!(
                "{what}: expected OutOfRange, got a record of {}",
                bytes.len()
            )),
        }
    }

    /// Scans `from..to` and returns what was visited.
    fn scan(
        self,
        store: &dyn SegmentStore,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, Violation> {
        let mut seen = Vec::new();
        let mut visit = |position: u64, bytes: &[u8]| {
            seen.push((position, bytes.to_vec()));
            ControlFlow::Continue(())
        };
        self.ok(
            &format!("scan({from}, {to})"),
            store.scan(from, to, &mut visit),
        )?;
        Ok(seen)
    }

    /// Checks that every position below `expected.len()` reads back, by `read` and by `scan`.
    fn all_equal(self, store: &dyn SegmentStore, expected: &[Vec<u8>]) -> Outcome {
        self.equal("len()", store.len(), expected.len() as u64)?;
        for (position, bytes) in expected.iter().enumerate() {
            self.read_equals(store, position as u64, bytes)?;
        }
        let seen = self.scan(store, 0, u64::MAX)?;
        self.equal("records visited by a full scan", seen.len(), expected.len())?;
        for (number, (position, bytes)) in seen.iter().enumerate() {
            self.equal("scan position", *position, number as u64)?;
            self.ensure(bytes == &expected[number], || {
                format!("scan at {position} visited bytes that differ from the ones appended")
            })?;
        }
        Ok(())
    }
}

/// Deterministic record bytes for `position`: `len` bytes of a keyed pseudo-random stream, so
/// that a reader can tell a record from its neighbours and from the same position in another run
/// (`salt`). Also used by the crash tests, where the checking process regenerates what the
/// killed process appended.
pub fn record_bytes(position: u64, salt: u64, len: usize) -> Vec<u8> {
    let mut state = SplitMix64::new(position.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt);
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        bytes.extend_from_slice(&state.next_u64().to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// A tiny, version-stable pseudo-random generator (SplitMix64) for test data and kill delays.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high` (`low` when the range is empty).
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            low
        } else {
            low + self.next_u64() % (high - low + 1)
        }
    }
}

/// Appends `records` and checks that `len()` grew by their number.
fn append_all(clause: Clause, store: &dyn SegmentStore, records: &[Vec<u8>]) -> Outcome {
    let before = store.len();
    let slices: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    clause.ok("append", store.append(&slices))?;
    clause.equal(
        "len() after append",
        store.len(),
        before + records.len() as u64,
    )
}

/// A new store is empty: `len()` is 0, nothing reads, nothing is located, a scan visits nothing.
///
/// # Errors
/// The [`Violation`] observed.
pub fn empty_store(backend: &dyn Backend) -> Outcome {
    let clause = Clause("empty_store");
    let fixture = backend.fresh();
    let store = fixture.store();
    clause.equal("len()", store.len(), 0)?;
    clause.ensure(store.is_empty(), || "is_empty() is false".to_owned())?;
    clause.out_of_range("read(0)", store.read(0), 0)?;
    clause.equal("location(0)", store.location(0), None)?;
    clause.equal("records visited", clause.scan(store, 0, u64::MAX)?.len(), 0)
}

/// `read` returns exactly the bytes given to `append`, for records of many sizes (one byte to
/// over a mebibyte), appended one by one and as one group.
///
/// # Errors
/// The [`Violation`] observed.
pub fn round_trip_sizes(backend: &dyn Backend) -> Outcome {
    let clause = Clause("round_trip_sizes");
    let fixture = backend.fresh();
    let store = fixture.store();
    let sizes = [
        1usize,
        2,
        7,
        255,
        256,
        4095,
        4096,
        4097,
        65_536,
        (1 << 20) + 3,
        3,
    ];
    let mut expected = Vec::new();
    for size in sizes {
        let record = record_bytes(expected.len() as u64, 1, size);
        append_all(clause, store, std::slice::from_ref(&record))?;
        expected.push(record);
    }
    let group: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(number, size)| record_bytes((expected.len() + number) as u64, 1, *size))
        .collect();
    append_all(clause, store, &group)?;
    expected.extend(group);
    clause.all_equal(store, &expected)
}

/// Positions are assigned `len()..len()+n` in order, gapless, across many appends of groups of
/// varying sizes.
///
/// # Errors
/// The [`Violation`] observed.
pub fn positions_gapless(backend: &dyn Backend) -> Outcome {
    let clause = Clause("positions_gapless");
    let fixture = backend.fresh();
    let store = fixture.store();
    let mut random = SplitMix64::new(2);
    let mut expected: Vec<Vec<u8>> = Vec::new();
    for _ in 0..150 {
        let count = random.between(1, 17) as usize;
        let group: Vec<Vec<u8>> = (0..count)
            .map(|number| {
                let size = random.between(1, 300) as usize;
                record_bytes((expected.len() + number) as u64, 2, size)
            })
            .collect();
        append_all(clause, store, &group)?;
        expected.extend(group);
    }
    clause.all_equal(store, &expected)
}

/// Appending an empty group changes nothing.
///
/// # Errors
/// The [`Violation`] observed.
pub fn empty_group(backend: &dyn Backend) -> Outcome {
    let clause = Clause("empty_group");
    let fixture = backend.fresh();
    let store = fixture.store();
    let record = record_bytes(0, 3, 10);
    append_all(clause, store, std::slice::from_ref(&record))?;
    clause.ok("append of no records", store.append(&[]))?;
    clause.all_equal(store, &[record])
}

/// `scan` visits `from..to` clamped to `len()`, in order, and stops at the first `Break`.
///
/// # Errors
/// The [`Violation`] observed.
pub fn scan_ranges(backend: &dyn Backend) -> Outcome {
    let clause = Clause("scan_ranges");
    let fixture = backend.fresh();
    let store = fixture.store();
    let expected: Vec<Vec<u8>> = (0..40u64)
        .map(|position| record_bytes(position, 4, 1 + (position as usize * 37) % 500))
        .collect();
    for group in expected.chunks(7) {
        append_all(clause, store, group)?;
    }
    let len = expected.len() as u64;
    let ranges = [
        (0, len),
        (0, 1),
        (5, 6),
        (5, 20),
        (39, 40),
        (10, 10),
        (20, 10),
        (30, 1000),
    ];
    let beyond = [(len, len + 5), (len + 1, u64::MAX), (u64::MAX, u64::MAX)];
    for (from, to) in ranges.into_iter().chain(beyond) {
        let seen = clause.scan(store, from, to)?;
        let wanted: Vec<u64> = (from..to.min(len)).collect();
        let positions: Vec<u64> = seen.iter().map(|(position, _)| *position).collect();
        clause.equal(
            &format!("positions visited by scan({from}, {to})"),
            positions,
            wanted,
        )?;
        for (position, bytes) in &seen {
            let matches = usize::try_from(*position)
                .ok()
                .and_then(|index| expected.get(index))
                .is_some_and(|wanted| wanted == bytes);
            clause.ensure(matches, || {
                format!("scan visited wrong bytes at {position}")
            })?;
        }
    }
    for stop_after in [1usize, 3, 40] {
        let mut visited = 0usize;
        let mut visit = |_: u64, _: &[u8]| {
            visited += 1;
            if visited == stop_after {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        clause.ok("scan with early break", store.scan(0, len, &mut visit))?;
        clause.equal(
            "records visited before and at the break",
            visited,
            stop_after,
        )?;
    }
    Ok(())
}

/// Reads at or beyond `len()` fail with `OutOfRange` carrying the length.
///
/// # Errors
/// The [`Violation`] observed.
pub fn out_of_range_reads(backend: &dyn Backend) -> Outcome {
    let clause = Clause("out_of_range_reads");
    let fixture = backend.fresh();
    let store = fixture.store();
    let records: Vec<Vec<u8>> = (0..3)
        .map(|position| record_bytes(position, 5, 20))
        .collect();
    append_all(clause, store, &records)?;
    clause.out_of_range("read(len)", store.read(3), 3)?;
    clause.out_of_range("read(len + 1)", store.read(4), 3)?;
    clause.out_of_range("read(u64::MAX)", store.read(u64::MAX), 3)
}

/// `location` names a distinct place for every stored record and nothing beyond `len()`.
///
/// # Errors
/// The [`Violation`] observed.
pub fn locations(backend: &dyn Backend) -> Outcome {
    let clause = Clause("locations");
    let fixture = backend.fresh();
    let store = fixture.store();
    let records: Vec<Vec<u8>> = (0..25)
        .map(|position| record_bytes(position, 6, 100))
        .collect();
    for group in records.chunks(4) {
        append_all(clause, store, group)?;
    }
    let mut seen = std::collections::HashSet::new();
    for position in 0..25 {
        let Some(location) = store.location(position) else {
            return clause.fail(format!("location({position}) is None for a stored record"));
        };
        clause.ensure(
            seen.insert((location.file.clone(), location.offset)),
            || format!("location({position}) = {location:?} is shared with another record"),
        )?;
    }
    clause.equal("location(len)", store.location(25), None)?;
    clause.equal("location(u64::MAX)", store.location(u64::MAX), None)
}

/// `truncate_torn(from)` drops `from..len()`, keeps everything before, is a no-op at or beyond
/// `len()`, and appending continues at `from`.
///
/// # Errors
/// The [`Violation`] observed.
pub fn truncate_torn(backend: &dyn Backend) -> Outcome {
    let clause = Clause("truncate_torn");
    let fixture = backend.fresh();
    let store = fixture.store();
    let mut expected: Vec<Vec<u8>> = (0..30)
        .map(|position| record_bytes(position, 7, 50 + position as usize))
        .collect();
    for group in expected.chunks(6) {
        append_all(clause, store, group)?;
    }
    clause.ok("truncate_torn(len)", store.truncate_torn(30))?;
    clause.ok("truncate_torn(len + 5)", store.truncate_torn(35))?;
    clause.all_equal(store, &expected)?;

    clause.ok("truncate_torn(17)", store.truncate_torn(17))?;
    expected.truncate(17);
    clause.all_equal(store, &expected)?;
    clause.out_of_range("read(17) after truncation", store.read(17), 17)?;
    clause.equal("location(17) after truncation", store.location(17), None)?;

    let again: Vec<Vec<u8>> = (17..22)
        .map(|position| record_bytes(position, 8, 70))
        .collect();
    append_all(clause, store, &again)?;
    expected.extend(again);
    clause.all_equal(store, &expected)?;

    clause.ok("truncate_torn(0)", store.truncate_torn(0))?;
    clause.all_equal(store, &[])?;
    let fresh = vec![record_bytes(0, 9, 5)];
    append_all(clause, store, &fresh)?;
    clause.all_equal(store, &fresh)
}

/// `zero_range` zeroes exactly the requested bytes of one record, refuses a position beyond
/// `len()` with `OutOfRange` and a byte range outside the record with an error (`Invalid` or
/// `OutOfRange`), and changes nothing when it refuses.
///
/// # Errors
/// The [`Violation`] observed.
pub fn zero_range(backend: &dyn Backend) -> Outcome {
    let clause = Clause("zero_range");
    let fixture = backend.fresh();
    let store = fixture.store();
    let mut expected: Vec<Vec<u8>> = (0..5)
        .map(|position| record_bytes(position, 10, 100))
        .collect();
    append_all(clause, store, &expected)?;

    clause.ok("zero_range(2, 10, 20)", store.zero_range(2, 10, 20))?;
    expected[2][10..30].fill(0);
    clause.ok("zero_range(4, 0, 100)", store.zero_range(4, 0, 100))?;
    expected[4].fill(0);
    clause.ok("zero_range(1, 50, 0)", store.zero_range(1, 50, 0))?;
    clause.all_equal(store, &expected)?;

    match store.zero_range(5, 0, 1) {
        Err(StoreError::OutOfRange { .. }) => {}
        other => {
            return clause.fail(format!(
                "zero_range(len, 0, 1): expected OutOfRange, got {other:?}"
            ));
        }
    }
    for (offset, len) in [(90usize, 11usize), (100, 1), (0, 101), (usize::MAX, 2)] {
        match store.zero_range(3, offset, len) {
            Err(StoreError::Invalid(_) | StoreError::OutOfRange { .. }) => {}
            other => {
                return clause.fail(format!(
                    "zero_range(3, {offset}, {len}) outside the record: expected Invalid or \
                     OutOfRange, got {other:?}"
                ));
            }
        }
    }
    clause.all_equal(store, &expected)?;
    let next = vec![record_bytes(5, 10, 9)];
    append_all(clause, store, &next)?;
    expected.extend(next);
    clause.all_equal(store, &expected)
}

/// While one thread appends, readers see only complete records: every position below the `len()`
/// they observe reads back with the bytes that were appended.
///
/// # Errors
/// The [`Violation`] observed.
pub fn reads_during_appends(backend: &dyn Backend) -> Outcome {
    let clause = Clause("reads_during_appends");
    let fixture = backend.fresh();
    let store = fixture.store();
    let total = 400u64;
    let record = |position: u64| record_bytes(position, 11, 1 + (position as usize * 13) % 700);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| -> Outcome {
            let mut position = 0;
            while position < total {
                let group: Vec<Vec<u8>> =
                    (position..(position + 3).min(total)).map(record).collect();
                append_all(clause, store, &group)?;
                position += group.len() as u64;
            }
            Ok(())
        });
        let reader = scope.spawn(|| -> Outcome {
            let mut checked = 0u64;
            loop {
                let len = store.len();
                for position in checked..len {
                    clause.read_equals(store, position, &record(position))?;
                }
                let mut next = checked;
                let mut visit = |position: u64, bytes: &[u8]| {
                    if position != next || bytes != record(position).as_slice() {
                        return ControlFlow::Break(());
                    }
                    next += 1;
                    ControlFlow::Continue(())
                };
                clause.ok("scan during appends", store.scan(checked, len, &mut visit))?;
                clause.equal("positions scanned during appends", next, len)?;
                checked = len;
                if len >= total {
                    return Ok(());
                }
                std::thread::yield_now();
            }
        });
        let written = writer
            .join()
            .unwrap_or_else(|_| clause.fail("the writer thread panicked"));
        let read = reader
            .join()
            .unwrap_or_else(|_| clause.fail("the reader thread panicked"));
        written.and(read)
    })
}

/// After a close and reopen, a durable store holds exactly what it acknowledged, zeroed ranges
/// included, and appending continues at the next position.
///
/// # Errors
/// The [`Violation`] observed.
pub fn reopen_keeps_everything(backend: &dyn Backend) -> Outcome {
    let clause = Clause("reopen_keeps_everything");
    let mut fixture = backend.fresh();
    let mut expected: Vec<Vec<u8>> = Vec::new();
    let mut random = SplitMix64::new(12);
    for _ in 0..40 {
        let count = random.between(1, 9) as usize;
        let group: Vec<Vec<u8>> = (0..count)
            .map(|number| {
                let size = random.between(1, 2_000) as usize;
                record_bytes((expected.len() + number) as u64, 12, size)
            })
            .collect();
        append_all(clause, fixture.store(), &group)?;
        expected.extend(group);
    }
    clause.ok("zero_range(3, 0, 1)", fixture.store().zero_range(3, 0, 1))?;
    expected[3][0] = 0;
    clause.ok("reopen", fixture.reopen())?;
    clause.all_equal(fixture.store(), &expected)?;
    let more = vec![record_bytes(expected.len() as u64, 12, 33)];
    append_all(clause, fixture.store(), &more)?;
    expected.extend(more);
    clause.ok("second reopen", fixture.reopen())?;
    clause.all_equal(fixture.store(), &expected)
}

/// A truncation by `truncate_torn` is durable: after reopen the dropped records stay dropped and
/// appending continues at the truncation point.
///
/// # Errors
/// The [`Violation`] observed.
pub fn reopen_after_truncate(backend: &dyn Backend) -> Outcome {
    let clause = Clause("reopen_after_truncate");
    let mut fixture = backend.fresh();
    let mut expected: Vec<Vec<u8>> = (0..60)
        .map(|position| record_bytes(position, 13, 200))
        .collect();
    for group in expected.chunks(5) {
        append_all(clause, fixture.store(), group)?;
    }
    clause.ok("truncate_torn(23)", fixture.store().truncate_torn(23))?;
    expected.truncate(23);
    clause.ok("reopen", fixture.reopen())?;
    clause.all_equal(fixture.store(), &expected)?;
    let more: Vec<Vec<u8>> = (23..30)
        .map(|position| record_bytes(position, 14, 90))
        .collect();
    append_all(clause, fixture.store(), &more)?;
    expected.extend(more);
    clause.ok("second reopen", fixture.reopen())?;
    clause.all_equal(fixture.store(), &expected)
}

/// The check of one clause.
pub type Check = fn(&dyn Backend) -> Outcome;

/// The clauses every backend must pass, by name.
pub const CLAUSES: &[(&str, Check)] = &[
    ("empty_store", empty_store),
    ("round_trip_sizes", round_trip_sizes),
    ("positions_gapless", positions_gapless),
    ("empty_group", empty_group),
    ("scan_ranges", scan_ranges),
    ("out_of_range_reads", out_of_range_reads),
    ("locations", locations),
    ("truncate_torn", truncate_torn),
    ("zero_range", zero_range),
    ("reads_during_appends", reads_during_appends),
];

/// The clauses only a durable backend must pass.
pub const DURABLE_CLAUSES: &[(&str, Check)] = &[
    ("reopen_keeps_everything", reopen_keeps_everything),
    ("reopen_after_truncate", reopen_after_truncate),
];

/// Runs every clause that applies to the backend and returns every violation.
///
/// # Errors
/// The violations, in clause order.
pub fn run_all(backend: &dyn Backend) -> Result<(), Vec<Violation>> {
    let durable = match backend.durability() {
        Durability::Durable => DURABLE_CLAUSES,
        Durability::Volatile => &[],
    };
    let violations: Vec<Violation> = CLAUSES
        .iter()
        .chain(durable)
        .filter_map(|(_, clause)| clause(backend).err())
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// Generates one `#[test]` per conformance clause for a backend: `segment_store_conformance!(expr)`
/// for a volatile backend, `segment_store_conformance!(expr, durable)` to add the reopen clauses.
/// `expr` must evaluate to a value implementing [`Backend`]; it is evaluated once per test.
#[macro_export]
macro_rules! segment_store_conformance {
    (@tests $backend:expr; $($clause:ident)*) => {
        $(
            #[test]
            fn $clause() -> $crate::store::conformance::Outcome {
                $crate::store::conformance::$clause(&$backend)
            }
        )*
    };
    ($backend:expr) => {
        $crate::segment_store_conformance!(@tests $backend;
            empty_store round_trip_sizes positions_gapless empty_group scan_ranges
            out_of_range_reads locations truncate_torn zero_range reads_during_appends);
    };
    ($backend:expr, durable) => {
        $crate::segment_store_conformance!($backend);
        $crate::segment_store_conformance!(@tests $backend;
            reopen_keeps_everything reopen_after_truncate);
    };
}

pub mod crash {
    //! The crash-test harness: a child process appends in a loop and prints every acknowledged
    //! position; the parent kills it with SIGKILL at a random moment, waits for it, and checks the
    //! store; then again, for many cycles, on the same directory.
    //!
    //! Generic over what the child does and what the check asserts, so that the store-level test
    //! and the full-ledger test share it. The child side only needs [`acknowledge`]; the parent
    //! side is [`crash_cycles`].

    use std::fmt;
    use std::io::{self, BufRead, BufReader, Read, Write};
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, ExitStatus, Stdio};
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    use super::SplitMix64;

    /// Environment variable a crash child finds its directory in (the child test returns at once
    /// when it is absent).
    pub const CHILD_ENV: &str = "RESIDENCE_CRASH_CHILD";
    /// Environment variable carrying the child's random seed.
    pub const CHILD_SEED_ENV: &str = "RESIDENCE_CRASH_CHILD_SEED";
    /// Environment variable overriding the number of cycles.
    pub const CYCLES_ENV: &str = "RESIDENCE_CRASH_CYCLES";
    /// Environment variable fixing the seed (to replay a run).
    pub const SEED_ENV: &str = "RESIDENCE_CRASH_SEED";

    /// The marker of an acknowledgement line: `RESIDENCE-ACK <last acknowledged position>`.
    pub const ACK_MARKER: &str = "RESIDENCE-ACK ";

    /// How long to wait for a child's first acknowledgement before calling it stuck.
    const FIRST_ACK_TIMEOUT: Duration = Duration::from_secs(60);

    /// Prints the acknowledgement of every position up to `last_position` on its own line and
    /// flushes it (child side; call it only after the append returned `Ok`).
    ///
    /// # Errors
    /// The IO error of the write.
    pub fn acknowledge(out: &mut impl Write, last_position: u64) -> io::Result<()> {
        writeln!(out, "{ACK_MARKER}{last_position}")?;
        out.flush()
    }

    /// The number in the environment variable `name`, or `None` when it is not set.
    ///
    /// # Panics
    /// When the variable is set but is not a number: a run asked for a seed or a count and
    /// would silently get another one (a replay of a failing seed would replay something else).
    fn number_from_env<T: std::str::FromStr>(name: &str) -> Option<T> {
        match std::env::var(name) {
            Err(std::env::VarError::NotPresent) => None,
            Ok(text) => Some(
                text.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}={text:?} is not a number")),
            ),
            Err(std::env::VarError::NotUnicode(text)) => {
                panic!("{name}={text:?} is not a number")
            }
        }
    }

    /// The number of cycles: `RESIDENCE_CRASH_CYCLES` when set, else `default`.
    ///
    /// # Panics
    /// When `RESIDENCE_CRASH_CYCLES` is set but is not a number.
    pub fn cycles_from_env(default: u32) -> u32 {
        number_from_env(CYCLES_ENV).unwrap_or(default)
    }

    /// The seed: `RESIDENCE_CRASH_SEED` when set, else a fresh one from the clock and the process
    /// id. Print it, so that a failing run can be replayed.
    ///
    /// # Panics
    /// When `RESIDENCE_CRASH_SEED` is set but is not a number.
    pub fn seed_from_env() -> u64 {
        number_from_env(SEED_ENV).unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos() as u64);
            SplitMix64::new(nanos ^ u64::from(std::process::id())).next_u64()
        })
    }

    /// How the parent runs the cycles.
    #[derive(Debug, Clone)]
    pub struct CrashPlan {
        /// Number of kill cycles.
        pub cycles: u32,
        /// Seed of the kill delays (and of the child seeds handed to `child_command`).
        pub seed: u64,
        /// Shortest delay between the child's first acknowledgement and the kill.
        pub min_delay: Duration,
        /// Longest such delay.
        pub max_delay: Duration,
    }

    /// What one cycle observed, handed to the check.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Cycle {
        /// The cycle number, from 0.
        pub number: u32,
        /// The child's seed for this cycle (derived from the plan's seed).
        pub child_seed: u64,
        /// The highest position the child acknowledged in this cycle, if any.
        pub acknowledged: Option<u64>,
        /// How long after the first acknowledgement the child was killed.
        pub killed_after: Duration,
    }

    /// What the whole run observed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CrashSummary {
        /// The seed used.
        pub seed: u64,
        /// Cycles run.
        pub cycles: u32,
        /// The highest position acknowledged in any cycle.
        pub acknowledged: Option<u64>,
        /// The number of acknowledgement lines read over all cycles.
        pub acknowledgements: u64,
    }

    /// Why a crash run failed.
    #[derive(Debug)]
    pub enum CrashError {
        /// The child could not be started or waited for.
        Spawn(io::Error),
        /// The child exited on its own instead of being killed (it failed); its output follows.
        ChildExited {
            /// The cycle.
            cycle: u32,
            /// How it exited.
            status: ExitStatus,
            /// The last lines it printed (stdout and stderr).
            output: String,
        },
        /// The child printed no acknowledgement in time.
        NoProgress {
            /// The cycle.
            cycle: u32,
            /// The last lines it printed.
            output: String,
        },
        /// The check failed after a kill.
        Check {
            /// The cycle.
            cycle: u32,
            /// The seed, for a replay.
            seed: u64,
            /// What the check reported.
            detail: String,
        },
    }

    impl fmt::Display for CrashError {
        fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Self::Spawn(error) => write!(formatter, "cannot run the crash child: {error}"),
                Self::ChildExited {
                    cycle,
                    status,
                    output,
                } => write!(
                    formatter,
                    "crash child exited on its own in cycle {cycle} ({status}); output:\n{output}"
                ),
                Self::NoProgress { cycle, output } => write!(
                    formatter,
                    "crash child acknowledged nothing in cycle {cycle}; output:\n{output}"
                ),
                Self::Check {
                    cycle,
                    seed,
                    detail,
                } => {
                    write!(
                        formatter,
                        "check failed after the kill in cycle {cycle} (seed {seed}): {detail}"
                    )
                }
            }
        }
    }

    impl std::error::Error for CrashError {}

    enum Line {
        Ack(u64),
        Other(String),
        End,
    }

    /// Forwards a child's output as lines; only complete lines count as acknowledgements.
    fn forward(stream: impl Read, sender: mpsc::Sender<Line>) {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line);
            let complete = text.ends_with('\n');
            let ack = text
                .find(ACK_MARKER)
                .filter(|_| complete)
                .and_then(|at| text[at + ACK_MARKER.len()..].trim().parse().ok());
            let message = match ack {
                Some(position) => Line::Ack(position),
                None => Line::Other(text.trim_end().to_owned()),
            };
            if sender.send(message).is_err() {
                return;
            }
        }
        // The receiver may be gone already; nothing to do then.
        let _ = sender.send(Line::End);
    }

    /// Runs `plan.cycles` kill cycles. In each: starts `child_command(cycle, child_seed)` with its
    /// stdout and stderr piped, waits for its first acknowledgement, lets it run for a random delay
    /// from the plan, kills it with SIGKILL, waits for it, reads every acknowledgement it printed
    /// and calls `check` (which reopens and asserts whatever it must).
    ///
    /// # Errors
    /// [`CrashError`] when the child cannot run, stops on its own, makes no progress, or a check
    /// fails.
    pub fn crash_cycles(
        plan: &CrashPlan,
        child_command: &mut dyn FnMut(u32, u64) -> Command,
        check: &mut dyn FnMut(&Cycle) -> Result<(), String>,
    ) -> Result<CrashSummary, CrashError> {
        let mut random = SplitMix64::new(plan.seed);
        let mut summary = CrashSummary {
            seed: plan.seed,
            cycles: 0,
            acknowledged: None,
            acknowledgements: 0,
        };
        for number in 0..plan.cycles {
            let child_seed = random.next_u64();
            let min = plan.min_delay.as_micros() as u64;
            let max = plan.max_delay.as_micros() as u64;
            let delay = Duration::from_micros(random.between(min, max));
            let mut child = child_command(number, child_seed)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(CrashError::Spawn)?;
            let (sender, receiver) = mpsc::channel();
            let mut forwarders = Vec::new();
            if let Some(stdout) = child.stdout.take() {
                let sender = sender.clone();
                forwarders.push(thread::spawn(move || forward(stdout, sender)));
            }
            if let Some(stderr) = child.stderr.take() {
                let sender = sender.clone();
                forwarders.push(thread::spawn(move || forward(stderr, sender)));
            }
            drop(sender);

            let mut acknowledged = None;
            let mut acknowledgements = 0u64;
            let mut output = std::collections::VecDeque::new();
            let mut note = |line: Line, acknowledged: &mut Option<u64>| match line {
                Line::Ack(position) => {
                    acknowledgements += 1;
                    *acknowledged =
                        Some(acknowledged.map_or(position, |old: u64| old.max(position)));
                }
                Line::Other(text) => {
                    output.push_back(text);
                    if output.len() > 60 {
                        output.pop_front();
                    }
                }
                Line::End => {}
            };
            // Wait for the first acknowledgement: the kill should land while appends run.
            let mut started = false;
            while !started {
                match receiver.recv_timeout(FIRST_ACK_TIMEOUT) {
                    Ok(line @ Line::Ack(_)) => {
                        note(line, &mut acknowledged);
                        started = true;
                    }
                    Ok(line) => note(line, &mut acknowledged),
                    // Every forwarder ended (the child closed its output) or the child is stuck.
                    Err(_) => break,
                }
            }
            if started {
                thread::sleep(delay);
            }
            // The child may have exited on its own; then kill fails and `wait` tells why.
            let _ = child.kill();
            let status = child.wait().map_err(CrashError::Spawn)?;
            for forwarder in forwarders {
                // A forwarder only ends by itself; a panic in it would be a bug in `forward`.
                let _ = forwarder.join();
            }
            for line in receiver.try_iter() {
                note(line, &mut acknowledged);
            }
            let output = Vec::from(output).join("\n");
            // Killed by our SIGKILL (signal 9), or it stopped on its own: a failure.
            if status.signal() != Some(9) {
                return Err(CrashError::ChildExited {
                    cycle: number,
                    status,
                    output,
                });
            }
            if !started {
                return Err(CrashError::NoProgress {
                    cycle: number,
                    output,
                });
            }
            let cycle = Cycle {
                number,
                child_seed,
                acknowledged,
                killed_after: delay,
            };
            check(&cycle).map_err(|detail| CrashError::Check {
                cycle: number,
                seed: plan.seed,
                detail,
            })?;
            summary.cycles += 1;
            summary.acknowledgements += acknowledgements;
            summary.acknowledged = summary.acknowledged.max(acknowledged);
        }
        Ok(summary)
    }
}
