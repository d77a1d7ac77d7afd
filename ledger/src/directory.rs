//! A ledger directory: the embedded default deployment, everything in one folder.
//!
//! ```text
//! <dir>/ledger.json        identity: format version, origin, blinded tag kinds (written once)
//! <dir>/ledger.pub         the public verifier key (C2SP note verifier key), safe to publish
//! <dir>/signing.key        ed25519 seed, 0600
//! <dir>/ledger.secret      32 random bytes for salts and tag blinding, 0600
//! <dir>/LOCK               held by the one process writing
//! <dir>/segments/          the records (FORMAT.md §6)
//! <dir>/checkpoints/       signed checkpoints, one note per tree size, never replaced
//! <dir>/tree/, index/      derived: deleted and rebuilt at will
//! ```
//!
//! Why a manifest written last: creating a ledger makes several files; `ledger.json` is written
//! (atomically) only after the keys exist, so a directory with a manifest is always complete and
//! a crash during creation leaves a directory that is simply created again.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::checkpoint::{KeyName, NameError, NoteSigner, Origin, VerifierKey};
use crate::checkpoint_dir;
use crate::clock::ClockMode;
use crate::keys::{KeyError, KeySource, LedgerKeys};
use crate::ledger::TornRecords;
use crate::ledger::{Ledger, LedgerConfig, Limits, OpenError};
use crate::record::{BlindedKinds, InvalidValue, genesis_hash};
use crate::store::file::{FileStore, FileStoreOptions, OpenMode};
use crate::store::{Cover, CoverSource, OpenReport, StoreError, TornBytes};

/// The manifest file name.
pub const MANIFEST_FILE: &str = "ledger.json";
/// The public key file name.
pub const PUBLIC_KEY_FILE: &str = "ledger.pub";
/// The format version this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Domain-separation context for a seeded origin (simulated histories are byte-identical).
const SIMULATED_ORIGIN_CONTEXT: &str = "residence-ledger v1 simulated origin";

/// The identity of a ledger, kept in `ledger.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The on-disk format version (FORMAT.md).
    pub format_version: u32,
    /// The origin: first line of every checkpoint, input of the genesis hash, key name.
    pub origin: String,
    /// Tag kinds whose values are blinded (FORMAT.md §3).
    pub blinded_tag_kinds: Vec<String>,
}

/// How to open (or create) a ledger directory. Built with [`DirectoryOptions::new`], which
/// requires the blinded tag kinds; the other fields have defaults a caller may override.
#[derive(Debug, Clone)]
pub struct DirectoryOptions {
    /// The tag kinds whose values are personal data and MUST be blinded (`FORMAT.md` §3). A new
    /// ledger records exactly these in its manifest. An existing ledger MUST already blind every
    /// one of them, or opening is refused ([`DirectoryError::KindNotBlinded`]); kinds the
    /// manifest blinds beyond these stay blinded (the manifest's list is the ledger's).
    pub blinded_kinds: BlindedKinds,
    /// Where new key material and the default origin come from when the ledger is created.
    pub key_source: KeySource,
    /// The origin of a new ledger (`None`: `residence-ledger/<32 hex digits>`).
    pub origin: Option<String>,
    /// Whether a missing ledger may be created.
    pub create: Create,
    /// Where `recorded_at` comes from.
    pub clock: ClockMode,
    /// Sequencer bounds.
    pub limits: Limits,
    /// Segment size before rolling to a new file.
    pub segment_bytes_max: u64,
}

/// Whether opening may create a new ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Create the ledger when the directory has no manifest.
    IfMissing,
    /// Refuse a directory without a ledger (operations on existing data: verify, backup).
    Never,
}

impl DirectoryOptions {
    /// Options that blind `blinded_kinds`, with OS-random keys, a random origin, creation when
    /// missing, the wall clock, default limits and 1 GiB segments.
    #[must_use]
    pub fn new(blinded_kinds: BlindedKinds) -> Self {
        Self {
            blinded_kinds,
            key_source: KeySource::OsRandom,
            origin: None,
            create: Create::IfMissing,
            clock: ClockMode::wall(),
            limits: Limits::default(),
            segment_bytes_max: crate::store::file::DEFAULT_SEGMENT_BYTES_MAX,
        }
    }
}

/// Why a ledger directory could not be opened. Every variant refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Reading or writing a file of the directory failed.
    #[error("{operation} {} failed", path.display())]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// `Create::Never` and the directory holds no ledger.
    #[error("{} holds no ledger (no {MANIFEST_FILE})", dir.display())]
    NoLedger {
        /// The directory.
        dir: PathBuf,
    },
    /// `ledger.json` is not a manifest this version understands.
    #[error("{} is not a valid ledger manifest: {detail}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The origin is not acceptable (FORMAT.md §2.2).
    #[error("invalid origin {origin:?}")]
    Origin {
        /// The origin text.
        origin: String,
        /// Why.
        #[source]
        source: NameError,
    },
    /// The blinded kinds of the manifest are invalid.
    #[error("invalid blinded tag kinds in the manifest")]
    BlindedKinds(#[source] InvalidValue),
    /// The caller requires a tag kind to be blinded that the existing ledger does not blind
    /// (the domain added a personal tag kind after the ledger was created). Opening is refused
    /// rather than storing such tags in the clear, which could never be undone; the blinded
    /// kinds of a ledger are fixed at creation, so this needs a decision by an operator (a new
    /// ledger, or keeping the kind out of tags). → refuse to start.
    #[error("tag kind {kind:?} must be blinded, but {} does not blind it", manifest.display())]
    KindNotBlinded {
        /// The kind the caller requires and the manifest lacks (a kind name, never a value).
        kind: String,
        /// The manifest file.
        manifest: PathBuf,
    },
    /// The key files could not be created or loaded.
    #[error("ledger keys")]
    Keys(#[from] KeyError),
    /// The segment store refused to open.
    #[error("segment store")]
    Store(#[from] StoreError),
    /// The sequencer refused to open (damaged record, tree).
    #[error("ledger")]
    Ledger(#[from] OpenError),
}

/// An open ledger directory.
#[derive(Debug)]
pub struct LedgerDirectory {
    dir: PathBuf,
    manifest: Manifest,
    keys: LedgerKeys,
    key_name: KeyName,
    ledger: Arc<Ledger>,
    store_report: OpenReport,
}

impl LedgerDirectory {
    /// Opens the ledger in `dir`, creating it first when allowed and missing.
    ///
    /// # Errors
    /// [`DirectoryError`], naming the file at fault; [`DirectoryError::KindNotBlinded`] when
    /// `options.blinded_kinds` names a kind the existing ledger does not blind.
    pub fn open(dir: &Path, options: &DirectoryOptions) -> Result<LedgerDirectory, DirectoryError> {
        let manifest_path = dir.join(MANIFEST_FILE);
        let manifest = if manifest_exists(&manifest_path)? {
            read_manifest(&manifest_path)?
        } else if options.create == Create::IfMissing {
            create(dir, options)?
        } else {
            return Err(DirectoryError::NoLedger {
                dir: dir.to_path_buf(),
            });
        };
        let origin = Origin::new(&manifest.origin).map_err(|source| DirectoryError::Origin {
            origin: manifest.origin.clone(),
            source,
        })?;
        let key_name = KeyName::new(&manifest.origin).map_err(|source| DirectoryError::Origin {
            origin: manifest.origin.clone(),
            source,
        })?;
        // The manifest's kinds are the ledger's; the caller's must be among them.
        let blinded_kinds = BlindedKinds::new(manifest.blinded_tag_kinds.iter().cloned())
            .map_err(DirectoryError::BlindedKinds)?;
        if let Some(kind) = options
            .blinded_kinds
            .iter()
            .find(|kind| !blinded_kinds.contains(kind))
        {
            return Err(DirectoryError::KindNotBlinded {
                kind: kind.to_owned(),
                manifest: manifest_path,
            });
        }
        let keys = LedgerKeys::load(dir)?;
        let genesis = genesis_hash(&origin);
        let mut store_options = store_options(dir, genesis.0, OpenMode::Repair);
        store_options.segment_bytes_max = options.segment_bytes_max;
        let (store, store_report) = FileStore::open(dir, store_options)?;
        let ledger = Ledger::open(LedgerConfig {
            store: Arc::new(store),
            tree_dir: Some(dir.join(TREE_DIR)),
            checkpoint_dir: Some(dir.join(checkpoint_dir::DIR_NAME)),
            origin,
            secret: keys.secret().clone(),
            blinded_kinds,
            clock: options.clock.clone(),
            limits: options.limits.clone(),
        })?;
        let directory = LedgerDirectory {
            dir: dir.to_path_buf(),
            manifest,
            keys,
            key_name,
            ledger: Arc::new(ledger),
            store_report,
        };
        directory.write_public_key()?;
        Ok(directory)
    }

    /// The ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The ledger, shared (for servers whose tasks outlive a borrow of the directory).
    pub fn shared_ledger(&self) -> Arc<Ledger> {
        Arc::clone(&self.ledger)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// What opening the store found (records, torn bytes dropped).
    pub fn store_report(&self) -> &OpenReport {
        &self.store_report
    }

    /// The checkpoint signer (key name = origin).
    pub fn signer(&self) -> NoteSigner {
        self.keys.signer(self.key_name.clone())
    }

    /// The public verifier key, safe to publish.
    pub fn verifier_key(&self) -> VerifierKey {
        self.keys.verifier_key(self.key_name.clone())
    }

    /// The key material (the secret is needed to open commitments of handed-over payloads).
    pub fn keys(&self) -> &LedgerKeys {
        &self.keys
    }

    fn write_public_key(&self) -> Result<(), DirectoryError> {
        let text = format!("{}\n", self.verifier_key());
        let path = self.dir.join(PUBLIC_KEY_FILE);
        // Any read error (missing, unreadable, not text) just means the file is rewritten: it
        // is derived from the signing key, so writing it again is always right.
        if fs::read_to_string(&path).is_ok_and(|existing| existing == text) {
            return Ok(());
        }
        write_atomically(&self.dir, PUBLIC_KEY_FILE, text.as_bytes())
    }
}

/// The name of the stored tree's directory.
const TREE_DIR: &str = "tree";

/// Options for the store of the ledger in `dir`: its cover (the records no torn-tail rule may
/// cut) is read from the directory's checkpoints and tree marker once the store holds the lock.
fn store_options(dir: &Path, genesis: [u8; 32], mode: OpenMode) -> FileStoreOptions {
    let checkpoints = dir.join(checkpoint_dir::DIR_NAME);
    let tree = dir.join(TREE_DIR);
    let mut options = FileStoreOptions::new(genesis);
    options.mode = mode;
    options.cover = CoverSource::Read(Arc::new(move || {
        crate::ledger::cover(Some(&checkpoints), Some(&tree)).map_err(|(file, source)| {
            StoreError::Io {
                operation: "read",
                file,
                source,
            }
        })
    }));
    options
}

/// What [`repair`] found and cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairReport {
    /// The records in the log after the repair.
    pub records: u64,
    /// Torn bytes the store cut at the end of the last segment file (a frame the file ends
    /// inside, or whose length or trailer is bad), or an unfinished segment file it removed.
    pub torn_frames: Vec<TornBytes>,
    /// Records the ledger cut: well framed, but the first failed its hash checks and held a
    /// zero sector.
    pub torn_records: Option<TornRecords>,
    /// The records no cut could reach (the latest checkpoint or the synced tree), if any.
    pub cover: Option<Cover>,
}

/// Repairs the ledger in `dir` explicitly, as an operator does after a crash left a torn tail,
/// and reports exactly what was cut: it opens the ledger (which applies the torn-write rules of
/// `FORMAT.md` §6.5 beyond the cover, rebuilds derived files that disagree with the log and its
/// signed checkpoint) and closes it again. It never creates a ledger, and it MUST NOT cut a
/// record that a stored checkpoint or the synced tree covers: damage there refuses, as opening
/// does. Every cut is also logged.
///
/// # Errors
/// As [`LedgerDirectory::open`]: [`StoreError::DamagedCovered`] and
/// [`OpenError::DamagedCovered`] for damage among covered records,
/// [`OpenError::CoveredRecordsMissing`] when covered records are gone.
pub fn repair(dir: &Path, options: &DirectoryOptions) -> Result<RepairReport, DirectoryError> {
    let options = DirectoryOptions {
        create: Create::Never,
        ..options.clone()
    };
    let directory = LedgerDirectory::open(dir, &options)?;
    let report = RepairReport {
        records: directory.ledger().head().size,
        torn_frames: directory.store_report().torn.clone(),
        torn_records: directory.ledger().torn_at_open().cloned(),
        cover: directory.store_report().cover.clone(),
    };
    tracing::info!(
        records = report.records,
        torn_frames = report.torn_frames.len(),
        torn_records = report.torn_records.as_ref().map_or(0, |torn| torn.records),
        "repaired the ledger"
    );
    Ok(report)
}

/// Whether the manifest exists. Not `Path::exists`, which reads an error (a directory the
/// process may not search) as "missing", and would let `Create::IfMissing` create a second
/// ledger over the first.
fn manifest_exists(path: &Path) -> Result<bool, DirectoryError> {
    path.try_exists().map_err(|source| DirectoryError::Io {
        operation: "checking",
        path: path.to_path_buf(),
        source,
    })
}

fn read_manifest(path: &Path) -> Result<Manifest, DirectoryError> {
    let bytes = fs::read(path).map_err(|source| DirectoryError::Io {
        operation: "reading",
        path: path.to_path_buf(),
        source,
    })?;
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|error| DirectoryError::Manifest {
            path: path.to_path_buf(),
            detail: error.to_string(),
        })?;
    if manifest.format_version != FORMAT_VERSION {
        return Err(DirectoryError::Manifest {
            path: path.to_path_buf(),
            detail: format!(
                "format version {} is not supported (this build reads {FORMAT_VERSION})",
                manifest.format_version
            ),
        });
    }
    Ok(manifest)
}

fn create(dir: &Path, options: &DirectoryOptions) -> Result<Manifest, DirectoryError> {
    let io = |operation, path: &Path| {
        let path = path.to_path_buf();
        move |source| DirectoryError::Io {
            operation,
            path,
            source,
        }
    };
    fs::create_dir_all(dir).map_err(io("creating", dir))?;
    // Segments hold personal data (payloads): only the owner may list or read the directory.
    fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .map_err(io("restricting", dir))?;
    LedgerKeys::load_or_create(dir, &options.key_source)?;
    let origin = match (&options.origin, &options.key_source) {
        (Some(origin), _) => origin.clone(),
        (None, KeySource::Seeded(seed)) => {
            let derived = blake3::derive_key(SIMULATED_ORIGIN_CONTEXT, seed);
            format!("residence-ledger/{}", hex::encode(&derived[..16]))
        }
        (None, KeySource::OsRandom) => {
            let mut random = [0_u8; 16];
            rand::TryRngCore::try_fill_bytes(&mut rand::rngs::OsRng, &mut random)
                .map_err(KeyError::Randomness)?;
            format!("residence-ledger/{}", hex::encode(random))
        }
    };
    Origin::new(&origin).map_err(|source| DirectoryError::Origin {
        origin: origin.clone(),
        source,
    })?;
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        origin,
        blinded_tag_kinds: options.blinded_kinds.iter().map(str::to_owned).collect(),
    };
    let mut text =
        serde_json::to_vec_pretty(&manifest).map_err(|error| DirectoryError::Manifest {
            path: dir.join(MANIFEST_FILE),
            detail: error.to_string(),
        })?;
    text.push(b'\n');
    write_atomically(dir, MANIFEST_FILE, &text)?;
    Ok(manifest)
}

/// Writes `dir/name` by temp file, fsync, rename and directory fsync, so a crash leaves either
/// the old file or the new one, never a torn one.
///
/// # Errors
/// [`DirectoryError::Io`] naming the file.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), DirectoryError> {
    let target = dir.join(name);
    let temp = dir.join(format!(".{name}.tmp"));
    let io = |operation, path: &Path| {
        let path = path.to_path_buf();
        move |source| DirectoryError::Io {
            operation,
            path,
            source,
        }
    };
    let mut file = fs::File::create(&temp).map_err(io("creating", &temp))?;
    file.write_all(bytes).map_err(io("writing", &temp))?;
    file.sync_all().map_err(io("syncing", &temp))?;
    drop(file);
    fs::rename(&temp, &target).map_err(io("renaming", &target))?;
    fs::File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io("syncing", dir))?;
    Ok(())
}

/// Why a directory could not be verified.
#[derive(Debug, thiserror::Error)]
pub enum VerifyDirectoryError {
    /// The directory could not be opened for verification (no ledger, manifest, store framing).
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// The public key file is missing or not a verifier key.
    #[error("{} does not hold a verifier key: {detail}", path.display())]
    PublicKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The log itself does not verify.
    #[error(transparent)]
    Verify(#[from] crate::verify::VerifyError),
}

/// Verifies the ledger in `dir` from its files alone, as an auditor would with a copy: the
/// manifest, the public key in `ledger.pub`, the segments, the stored checkpoints and the stored
/// tree (every node, see [`crate::verify::verify_with_tree`]). No secret is needed. The store's
/// lock is taken, so a ledger being served is verified through a backup.
///
/// Nothing is changed: the store is opened read-only. A torn tail beyond the cover is left in
/// place and reported in [`crate::verify::VerifyReport::torn`] (the next open or [`repair`]
/// cuts it); damage among covered records is refused exactly as opening refuses it
/// ([`StoreError::DamagedCovered`]).
///
/// # Errors
/// [`VerifyDirectoryError`]: the first bad record, checkpoint or tree node, or why the files
/// could not be read.
pub fn verify_directory(
    dir: &Path,
    progress: &mut dyn FnMut(crate::record::Position),
) -> Result<(crate::verify::VerifyReport, u64), VerifyDirectoryError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    if !manifest_exists(&manifest_path)? {
        return Err(DirectoryError::NoLedger {
            dir: dir.to_path_buf(),
        }
        .into());
    }
    let manifest = read_manifest(&manifest_path)?;
    let origin = Origin::new(&manifest.origin).map_err(|source| DirectoryError::Origin {
        origin: manifest.origin.clone(),
        source,
    })?;
    let key_path = dir.join(PUBLIC_KEY_FILE);
    let key_text =
        fs::read_to_string(&key_path).map_err(|error| VerifyDirectoryError::PublicKey {
            path: key_path.clone(),
            detail: error.to_string(),
        })?;
    let key =
        VerifierKey::parse(key_text.trim()).map_err(|error| VerifyDirectoryError::PublicKey {
            path: key_path.clone(),
            detail: error.to_string(),
        })?;
    let options = store_options(dir, genesis_hash(&origin).0, OpenMode::ReadOnly);
    let (store, store_report) = FileStore::open(dir, options).map_err(DirectoryError::from)?;
    let records = crate::store::SegmentStore::len(&store);
    let checkpoint_dir = dir.join(checkpoint_dir::DIR_NAME);
    let mut report = crate::verify::verify_with_tree(
        &store,
        &crate::verify::VerifyOptions {
            origin: &origin,
            checkpoint_dir: Some(&checkpoint_dir),
            keys: std::slice::from_ref(&key),
        },
        &dir.join(TREE_DIR),
        progress,
    )?;
    report.torn = store_report.torn;
    Ok((report, records))
}
