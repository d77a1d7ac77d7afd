//! Test support: the backends every test runs against, a ledger configuration, record builders,
//! and a store wrapper that injects faults (failed appends, damaged bytes, held appends, file
//! offsets).
//!
//! Why a [`Backing`] rather than a bare store: a test that reopens must reopen the same data, which
//! for the file backend means dropping the store and opening the directory again (the lock is
//! released only then), and a test that damages a record must damage what a reopened store will
//! read, which for the file backend means the bytes in the segment file. [`Backing`] hides both
//! differences, so one test body serves both backends (see [`backend_tests!`]).

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use residence_ledger::checkpoint::{KeyName, NoteSigner, Origin, VerifierKey};
use residence_ledger::clock::ClockMode;
use residence_ledger::keys::LedgerSecret;
use residence_ledger::ledger::{AppendRequest, Condition, Ledger, LedgerConfig, Limits, NewRecord};
use residence_ledger::record::{
    BlindedKinds, EventId, EventType, Position, SchemaVersion, Tag, Timestamp, genesis_hash,
};
use residence_ledger::store::fault::FaultPlan;
use residence_ledger::store::file::{FileStore, FileStoreOptions};
use residence_ledger::store::memory::MemoryStore;
use residence_ledger::store::{Location, OpenReport, SegmentStore, StoreError};
use residence_ledger::verify::{VerifyError, VerifyOptions, VerifyReport, verify};

/// The segment size of file-backed tests: small, so that ordinary tests roll segments.
pub const SEGMENT_BYTES_MAX: u64 = 64 * 1024;

/// Generates one `#[test]` per backend for each listed function, which takes a [`Backend`]:
/// `memory::name` and `file::name`.
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod memory {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::support::Backend::Memory);
                }
            )+
        }
        mod file {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::support::Backend::File);
                }
            )+
        }
    };
}
pub(crate) use backend_tests;

/// The segment store a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The in-memory store, wrapped to report file offsets as the file store would.
    Memory,
    /// The file store in a temporary directory, with [`SEGMENT_BYTES_MAX`] segments.
    File,
}

/// The data behind a test's store, which outlives every store opened on it: a memory store, or a
/// temporary directory of segment files. It also provides a scratch directory (for the tree and
/// checkpoints).
#[derive(Debug)]
pub struct Backing {
    backend: Backend,
    dir: tempfile::TempDir,
    genesis: [u8; 32],
    /// The memory store (wrapped), shared by every "opening" of it.
    memory: Arc<Faulty>,
    /// File backend: the original content of every record damaged in its file, for [`Backing::heal`].
    originals: Mutex<BTreeMap<u64, (Location, Vec<u8>)>>,
}

impl Backing {
    /// A new, empty backing for a ledger with the test [`origin`].
    pub fn new(backend: Backend) -> Backing {
        Backing::with_origin(backend, &origin())
    }

    /// A new, empty backing for a ledger with `origin` (the file store writes its genesis hash
    /// into every segment header).
    pub fn with_origin(backend: Backend, origin: &Origin) -> Backing {
        Backing {
            backend,
            dir: tempfile::tempdir().expect("temp dir"),
            genesis: genesis_hash(origin).0,
            memory: Arc::new(Faulty::new(Arc::new(MemoryStore::new())).with_simulated_offsets()),
            originals: Mutex::new(BTreeMap::new()),
        }
    }

    /// A path in the backing's scratch directory (e.g. for `tree/` or `checkpoints/`).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The directory of the file store.
    pub fn store_dir(&self) -> PathBuf {
        self.path("store")
    }

    /// Opens the store: the memory store is simply shared again; the file store is opened from its
    /// directory, so every store opened before must have been dropped (it holds the lock).
    pub fn store(&self) -> Arc<dyn SegmentStore> {
        self.store_with_faults(None).0
    }

    /// As [`Backing::store`], with the file store consulting `faults` (the memory store ignores
    /// them), and what opening the file store found.
    pub fn store_with_faults(
        &self,
        faults: Option<Arc<FaultPlan>>,
    ) -> (Arc<dyn SegmentStore>, OpenReport) {
        match self.backend {
            Backend::Memory => {
                let records = self.memory.len();
                let report = OpenReport {
                    records,
                    ..OpenReport::default()
                };
                (self.memory.clone(), report)
            }
            Backend::File => {
                let mut options = FileStoreOptions::new(self.genesis);
                options.segment_bytes_max = SEGMENT_BYTES_MAX;
                options.faults = faults;
                let (store, report) =
                    FileStore::open(self.store_dir(), options).expect("the file store opens");
                (Arc::new(store), report)
            }
        }
    }

    /// Damages the content of the record at `position` as `store` holds it, so that every store
    /// opened on this backing from now on reads the damaged bytes: the memory store through the
    /// wrapper, the file store in the segment file itself (only the frame's content changes, never
    /// its length or trailer).
    pub fn damage(&self, store: &dyn SegmentStore, position: u64, damage: Damage) {
        match self.backend {
            Backend::Memory => self.memory.damage(position, damage),
            Backend::File => {
                let location = store.location(position).expect("the record is stored");
                let original = store.read(position).expect("reads");
                let mut damaged = original.clone();
                damage(&mut damaged);
                assert_eq!(damaged.len(), original.len(), "damage keeps the length");
                write_at(&location.file, location.offset + 4, &damaged);
                self.originals
                    .lock()
                    .expect("lock")
                    .entry(position)
                    .or_insert((location, original));
            }
        }
    }

    /// Undoes every [`Backing::damage`] (of records still stored).
    pub fn heal(&self) {
        match self.backend {
            Backend::Memory => self.memory.heal(),
            Backend::File => {
                let originals = std::mem::take(&mut *self.originals.lock().expect("lock"));
                for (location, original) in originals.into_values() {
                    write_at(&location.file, location.offset + 4, &original);
                }
            }
        }
    }
}

/// Overwrites bytes of a file in place (without syncing: the page cache is what readers see).
pub fn write_at(file: &Path, offset: u64, bytes: &[u8]) {
    OpenOptions::new()
        .write(true)
        .open(file)
        .and_then(|handle| handle.write_all_at(bytes, offset))
        .unwrap_or_else(|error| panic!("writing {}: {error}", file.display()));
}

/// A memory store for ledgers a test needs beside the one under test.
pub fn memory_store() -> Arc<dyn SegmentStore> {
    Arc::new(MemoryStore::new())
}

/// The origin of test ledgers.
pub fn origin() -> Origin {
    Origin::new("test.example/ledger").expect("valid origin")
}

/// A fixed ledger secret.
pub fn secret(seed: u8) -> LedgerSecret {
    LedgerSecret::from_bytes([seed; 32])
}

/// A fixed signer (and its verifier key) for checkpoints.
pub fn signer() -> (NoteSigner, VerifierKey) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let signer = NoteSigner::new(KeyName::new(origin().as_str()).expect("valid name"), key);
    let verifier = signer.verifier_key();
    (signer, verifier)
}

/// The blinded kinds the tests name: `pin`, as the domain does. The ledger has no default list.
/// How the directory tests open their ledgers: seeded keys, origin `origin`, supplied time,
/// small segments.
pub fn directory_options(origin: &str) -> residence_ledger::directory::DirectoryOptions {
    residence_ledger::directory::DirectoryOptions {
        blinded_kinds: blinded_kinds(),
        key_source: residence_ledger::keys::KeySource::Seeded([7; 32]),
        origin: Some(origin.to_owned()),
        create: residence_ledger::directory::Create::IfMissing,
        clock: residence_ledger::clock::ClockMode::Supplied,
        limits: residence_ledger::ledger::Limits::default(),
        segment_bytes_max: SEGMENT_BYTES_MAX,
    }
}

pub fn blinded_kinds() -> BlindedKinds {
    BlindedKinds::new(["pin"]).expect("valid kinds")
}

/// A configuration over `store` with the supplied clock, an in-memory tree and default limits.
pub fn config(store: Arc<dyn SegmentStore>) -> LedgerConfig {
    LedgerConfig {
        store,
        tree_dir: None,
        checkpoint_dir: None,
        origin: origin(),
        secret: secret(1),
        blinded_kinds: blinded_kinds(),
        clock: ClockMode::Supplied,
        limits: Limits::default(),
    }
}

/// Opens a ledger over `store` with [`config`].
pub fn open(store: Arc<dyn SegmentStore>) -> Ledger {
    Ledger::open(config(store)).expect("ledger opens")
}

/// An event id from a number.
pub fn id(n: u64) -> EventId {
    let mut bytes = [0u8; 16];
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    EventId(bytes)
}

/// Tags in given form.
pub fn tags(texts: &[&str]) -> Vec<Tag> {
    texts
        .iter()
        .map(|text| Tag::new(*text).expect("valid tag"))
        .collect()
}

/// A record with event id `n`, these tags, and a small payload naming `n`.
pub fn record(n: u64, tag_texts: &[&str]) -> NewRecord {
    NewRecord {
        event_id: id(n),
        event_type: EventType::new("TestEvent").expect("valid"),
        schema_version: SchemaVersion::new(1).expect("valid"),
        tags: tags(tag_texts),
        metadata: format!(r#"{{"n":{n}}}"#).into_bytes(),
        payload: format!(r#"{{"payload":{n},"text":"residence"}}"#).into_bytes(),
    }
}

/// A request for these records at time 1,000,000 µs, without a condition.
pub fn request(records: Vec<NewRecord>) -> AppendRequest {
    AppendRequest {
        records,
        condition: None,
        recorded_at: Some(Timestamp(1_000_000)),
    }
}

/// A request with a condition.
pub fn conditional(
    records: Vec<NewRecord>,
    condition_tags: &[&str],
    after: Option<u64>,
) -> AppendRequest {
    AppendRequest {
        records,
        condition: Some(Condition {
            tags: tags(condition_tags),
            after: after.map(Position),
        }),
        recorded_at: Some(Timestamp(1_000_000)),
    }
}

/// Verifies `store` as the `residence verify` command would (no checkpoints).
pub fn verify_store(store: &dyn SegmentStore) -> Result<VerifyReport, VerifyError> {
    let origin = origin();
    let options = VerifyOptions {
        origin: &origin,
        checkpoint_dir: None,
        keys: &[],
    };
    verify(store, &options, &mut |_| {})
}

/// A change applied to a record's bytes whenever they are read.
pub type Damage = Box<dyn Fn(&mut Vec<u8>) + Send + Sync>;

/// Flips one bit of a byte string.
pub fn flip_bit(bit: usize) -> Damage {
    Box::new(move |bytes: &mut Vec<u8>| {
        if let Some(byte) = bytes.get_mut(bit / 8) {
            *byte ^= 1 << (bit % 8);
        }
    })
}

/// A store wrapper that injects faults into any inner store:
/// - the n-th append (1-based) fails, and the wrapper is failed from then on (as the contract
///   requires of a real store);
/// - damage applied to a record's bytes on every read or scan (bit flips, zeroed ranges);
/// - appends can be held at a gate until the test releases them;
/// - optionally, realistic file offsets (64-byte header, then frames of `len + 8` bytes) for a
///   store that has no files, so the torn-write rule can be exercised.
pub struct Faulty {
    inner: Arc<dyn SegmentStore>,
    fail_append: Option<u64>,
    appends: AtomicU64,
    failed: Mutex<Option<String>>,
    damage: Mutex<BTreeMap<u64, Damage>>,
    simulated_offsets: bool,
    gate: Mutex<bool>,
    gate_changed: Condvar,
    held: AtomicU64,
    /// The number of records in each successful append.
    pub group_sizes: Mutex<Vec<usize>>,
}

impl std::fmt::Debug for Faulty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faulty")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl Faulty {
    /// A wrapper with no faults.
    pub fn new(inner: Arc<dyn SegmentStore>) -> Faulty {
        Faulty {
            inner,
            fail_append: None,
            appends: AtomicU64::new(0),
            failed: Mutex::new(None),
            damage: Mutex::new(BTreeMap::new()),
            simulated_offsets: false,
            gate: Mutex::new(false),
            gate_changed: Condvar::new(),
            held: AtomicU64::new(0),
            group_sizes: Mutex::new(Vec::new()),
        }
    }

    /// The `n`-th append (1-based) fails.
    pub fn failing_append(mut self, n: u64) -> Faulty {
        self.fail_append = Some(n);
        self
    }

    /// Locations are computed as a file store would have them (when the inner store has none).
    pub fn with_simulated_offsets(mut self) -> Faulty {
        self.simulated_offsets = true;
        self
    }

    /// Damages the record at `position` on every read.
    pub fn damage(&self, position: u64, damage: Damage) {
        self.damage.lock().expect("lock").insert(position, damage);
    }

    /// Removes all damage.
    pub fn heal(&self) {
        self.damage.lock().expect("lock").clear();
    }

    /// Holds every append until [`Faulty::release`].
    pub fn hold(&self) {
        *self.gate.lock().expect("lock") = true;
    }

    /// Lets held appends proceed.
    pub fn release(&self) {
        *self.gate.lock().expect("lock") = false;
        self.gate_changed.notify_all();
    }

    /// How many appends were held at the gate so far.
    pub fn held_appends(&self) -> u64 {
        self.held.load(Ordering::SeqCst)
    }

    /// The inner store.
    pub fn inner(&self) -> &Arc<dyn SegmentStore> {
        &self.inner
    }

    fn damaged(&self, position: u64, bytes: &[u8]) -> Option<Vec<u8>> {
        let damage = self.damage.lock().expect("lock");
        let apply = damage.get(&position)?;
        let mut copy = bytes.to_vec();
        apply(&mut copy);
        Some(copy)
    }
}

impl SegmentStore for Faulty {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn append(&self, records: &[&[u8]]) -> Result<(), StoreError> {
        {
            let mut held = self.gate.lock().expect("lock");
            if *held {
                self.held.fetch_add(1, Ordering::SeqCst);
            }
            while *held {
                held = self.gate_changed.wait(held).expect("lock");
            }
        }
        if let Some(cause) = self.failed.lock().expect("lock").clone() {
            return Err(StoreError::Failed { cause });
        }
        let n = self.appends.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_append == Some(n) {
            let cause = format!("injected failure of append {n}");
            *self.failed.lock().expect("lock") = Some(cause.clone());
            return Err(StoreError::Io {
                operation: "fdatasync",
                file: PathBuf::from("<injected>"),
                source: std::io::Error::other(cause),
            });
        }
        self.inner.append(records)?;
        self.group_sizes.lock().expect("lock").push(records.len());
        Ok(())
    }

    fn read(&self, position: u64) -> Result<Vec<u8>, StoreError> {
        let bytes = self.inner.read(position)?;
        Ok(self.damaged(position, &bytes).unwrap_or(bytes))
    }

    fn scan(
        &self,
        from: u64,
        to: u64,
        visit: &mut dyn FnMut(u64, &[u8]) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        self.inner.scan(
            from,
            to,
            &mut |position, bytes| match self.damaged(position, bytes) {
                Some(copy) => visit(position, &copy),
                None => visit(position, bytes),
            },
        )
    }

    fn location(&self, position: u64) -> Option<Location> {
        if !self.simulated_offsets {
            return self.inner.location(position);
        }
        if position >= self.inner.len() {
            return None;
        }
        let mut offset = 64u64;
        self.inner
            .scan(0, position, &mut |_, bytes| {
                offset += bytes.len() as u64 + 8;
                ControlFlow::Continue(())
            })
            .ok()?;
        Some(Location {
            file: PathBuf::from("segments/00000000000000000000.seg"),
            offset,
        })
    }

    fn truncate_torn(&self, from: u64) -> Result<(), StoreError> {
        self.damage
            .lock()
            .expect("lock")
            .retain(|position, _| *position < from);
        self.inner.truncate_torn(from)
    }

    fn zero_range(&self, position: u64, offset: usize, len: usize) -> Result<(), StoreError> {
        self.inner.zero_range(position, offset, len)
    }
}
