//! The ledger's key material: the checkpoint signing key and the ledger secret.
//!
//! Why: checkpoints are signed with an ed25519 key that must survive restarts, and payload salts
//! and tags of blinded kinds are keyed with a secret that must never change for the life of the
//! ledger (otherwise no commitment could be reopened and no blinded tag found again). Both live
//! in the ledger directory, readable by the owner only:
//!
//! - `signing.key`: exactly 32 raw bytes, the ed25519 private key seed (RFC 8032);
//! - `ledger.secret`: exactly 32 raw bytes of randomness.
//!
//! Contracts:
//! - Files are created with mode 0600 and written atomically (temporary file, fsync, rename,
//!   fsync of the directory); a file with any group or other permission bit is refused.
//! - [`LedgerKeys::load_or_create`] MUST only be used when the ledger is new or when it is known
//!   that no record was written yet; a ledger with records uses [`LedgerKeys::load`], so a lost
//!   secret is reported instead of silently replaced.
//! - Secrets never appear in `Debug` output.
//!
//! Derivations (also in `FORMAT.md`): `salt_key = BLAKE3_DERIVE_KEY("residence-ledger v1 payload
//! salt", secret)`, `tag_key = BLAKE3_DERIVE_KEY("residence-ledger v1 tag blinding", secret)`,
//! `salt = BLAKE3_KEYED(salt_key, event_id)`, `blinded = BLAKE3_KEYED(tag_key, value)`.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use rand::TryRngCore as _;
use rand::rngs::OsRng;

use crate::checkpoint::{KeyName, NoteSigner, VerifierKey};

/// The file name of the signing key in the ledger directory.
pub const SIGNING_KEY_FILE: &str = "signing.key";
/// The file name of the ledger secret in the ledger directory.
pub const SECRET_FILE: &str = "ledger.secret";
/// The BLAKE3 key-derivation context of the payload salt key.
pub const SALT_KEY_CONTEXT: &str = "residence-ledger v1 payload salt";
/// The BLAKE3 key-derivation context of the tag blinding key.
pub const TAG_KEY_CONTEXT: &str = "residence-ledger v1 tag blinding";
/// The BLAKE3 key-derivation context of a simulated signing key (from a seed).
pub const SIMULATED_SIGNING_CONTEXT: &str = "residence-ledger v1 simulated signing key";
/// The BLAKE3 key-derivation context of a simulated ledger secret (from a seed).
pub const SIMULATED_SECRET_CONTEXT: &str = "residence-ledger v1 simulated ledger secret";

/// The permission bits a key file may have: owner read and write.
const OWNER_ONLY: u32 = 0o600;

/// Why key material could not be loaded or created. Every variant makes the ledger refuse to
/// start, with the message naming the file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading, writing, syncing or renaming a key file failed.
    #[error("key file {path} could not be read or written")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// A key file is missing where it must exist (a ledger with records lost its keys).
    /// Handled by restoring the file from backup; never by creating a new one.
    #[error("key file {path} is missing")]
    Missing {
        /// The missing file.
        path: PathBuf,
    },
    /// A key file is readable or writable by others than its owner. Handled by the operator:
    /// `chmod 600` after checking that the key did not leak.
    #[error("key file {path} has mode {mode:o}, more open than 600")]
    TooPermissive {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key file is not a regular file (a directory, a symlink, a device).
    #[error("key file {path} is not a regular file")]
    NotAFile {
        /// The file.
        path: PathBuf,
    },
    /// A key file does not hold exactly 32 bytes.
    #[error("key file {path} has {len} bytes, expected 32")]
    WrongLength {
        /// The file.
        path: PathBuf,
        /// Its length.
        len: u64,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system random number generator failed")]
    Randomness(#[source] rand::rand_core::OsError),
}

/// Where new key material comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The operating system's random number generator (production).
    OsRandom,
    /// Derived from a seed (simulated histories, benchmarks, tests): the same seed always gives
    /// the same key bytes.
    Seeded([u8; 32]),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::OsRandom => f.write_str("OsRandom"),
            KeySource::Seeded(_) => f.write_str("Seeded(..)"),
        }
    }
}

/// The ledger secret and the keys derived from it.
#[derive(Clone, PartialEq, Eq)]
pub struct LedgerSecret {
    secret: [u8; 32],
    salt_key: [u8; 32],
    tag_key: [u8; 32],
}

impl LedgerSecret {
    /// The secret with these 32 bytes.
    #[must_use]
    pub fn from_bytes(secret: [u8; 32]) -> LedgerSecret {
        LedgerSecret {
            secret,
            salt_key: blake3::derive_key(SALT_KEY_CONTEXT, &secret),
            tag_key: blake3::derive_key(TAG_KEY_CONTEXT, &secret),
        }
    }

    /// The raw secret bytes (to write them to disk or to a backup).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The salt of the payload of event `event_id`: `BLAKE3_KEYED(salt_key, event_id)`.
    #[must_use]
    pub fn payload_salt(&self, event_id: &[u8; 16]) -> [u8; 32] {
        *blake3::keyed_hash(&self.salt_key, event_id).as_bytes()
    }

    /// The blinded form of a tag value: `BLAKE3_KEYED(tag_key, value)`.
    #[must_use]
    pub fn blind_tag_value(&self, value: &[u8]) -> [u8; 32] {
        *blake3::keyed_hash(&self.tag_key, value).as_bytes()
    }
}

impl fmt::Debug for LedgerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LedgerSecret(..)")
    }
}

/// The key material of one ledger.
#[derive(Debug, Clone)]
pub struct LedgerKeys {
    signing_key: SigningKey,
    secret: LedgerSecret,
}

impl LedgerKeys {
    /// Key material derived from `seed` without touching the disk: the signing key seed is
    /// `BLAKE3_DERIVE_KEY("residence-ledger v1 simulated signing key", seed)` and the secret
    /// `BLAKE3_DERIVE_KEY("residence-ledger v1 simulated ledger secret", seed)`.
    #[must_use]
    pub fn from_seed(seed: &[u8; 32]) -> LedgerKeys {
        LedgerKeys {
            signing_key: SigningKey::from_bytes(&blake3::derive_key(
                SIMULATED_SIGNING_CONTEXT,
                seed,
            )),
            secret: LedgerSecret::from_bytes(blake3::derive_key(SIMULATED_SECRET_CONTEXT, seed)),
        }
    }

    /// Loads both files from `dir`; both must exist.
    ///
    /// # Errors
    ///
    /// [`KeyError::Missing`] when a file does not exist, and the errors of reading a key file
    /// ([`KeyError::TooPermissive`], [`KeyError::NotAFile`], [`KeyError::WrongLength`],
    /// [`KeyError::Io`]).
    pub fn load(dir: &Path) -> Result<LedgerKeys, KeyError> {
        let signing = read_key_file(&dir.join(SIGNING_KEY_FILE))?;
        let secret = read_key_file(&dir.join(SECRET_FILE))?;
        Ok(LedgerKeys {
            signing_key: SigningKey::from_bytes(&signing),
            secret: LedgerSecret::from_bytes(secret),
        })
    }

    /// Loads both files from `dir`, first creating each one that does not exist from `source`.
    /// Only for a new ledger (see the module contracts).
    ///
    /// # Errors
    ///
    /// As [`LedgerKeys::load`] (except [`KeyError::Missing`]), plus [`KeyError::Randomness`]
    /// when the operating system cannot supply random bytes.
    pub fn load_or_create(dir: &Path, source: &KeySource) -> Result<LedgerKeys, KeyError> {
        let (signing_bytes, secret_bytes) = match source {
            KeySource::OsRandom => (None, None),
            KeySource::Seeded(seed) => {
                let keys = LedgerKeys::from_seed(seed);
                (
                    Some(keys.signing_key.to_bytes()),
                    Some(*keys.secret.as_bytes()),
                )
            }
        };
        create_if_missing(dir, SIGNING_KEY_FILE, signing_bytes)?;
        create_if_missing(dir, SECRET_FILE, secret_bytes)?;
        LedgerKeys::load(dir)
    }

    /// The ed25519 signing key.
    #[must_use]
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// The ledger secret.
    #[must_use]
    pub fn secret(&self) -> &LedgerSecret {
        &self.secret
    }

    /// A note signer with this signing key under `name` (the ledger's origin).
    #[must_use]
    pub fn signer(&self, name: KeyName) -> NoteSigner {
        NoteSigner::new(name, self.signing_key.clone())
    }

    /// The public verifier key under `name` (safe to publish).
    #[must_use]
    pub fn verifier_key(&self, name: KeyName) -> VerifierKey {
        VerifierKey::new(name, self.signing_key.verifying_key())
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a 32-byte key file after checking that it is a regular file with mode 0600 or less.
fn read_key_file(path: &Path) -> Result<[u8; 32], KeyError> {
    let link = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(KeyError::Missing {
                path: path.to_path_buf(),
            });
        }
        Err(error) => return Err(io_error(path)(error)),
    };
    if !link.file_type().is_file() {
        return Err(KeyError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mut file = File::open(path).map_err(io_error(path))?;
    // Check the opened file itself, so a file swapped in after the first check is caught too.
    let metadata = file.metadata().map_err(io_error(path))?;
    if !metadata.file_type().is_file() {
        return Err(KeyError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mode = metadata.permissions().mode() & 0o777;
    if mode & !OWNER_ONLY != 0 {
        return Err(KeyError::TooPermissive {
            path: path.to_path_buf(),
            mode,
        });
    }
    if metadata.len() != 32 {
        return Err(KeyError::WrongLength {
            path: path.to_path_buf(),
            len: metadata.len(),
        });
    }
    let mut bytes = [0u8; 32];
    file.read_exact(&mut bytes).map_err(io_error(path))?;
    Ok(bytes)
}

/// Creates `dir/name` with `bytes` (or fresh random bytes) unless it exists, atomically.
fn create_if_missing(dir: &Path, name: &str, bytes: Option<[u8; 32]>) -> Result<(), KeyError> {
    let path = dir.join(name);
    match fs::symlink_metadata(&path) {
        Ok(_) => return Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(io_error(&path)(error)),
    }
    let bytes = match bytes {
        Some(bytes) => bytes,
        None => {
            let mut bytes = [0u8; 32];
            OsRng
                .try_fill_bytes(&mut bytes)
                .map_err(KeyError::Randomness)?;
            bytes
        }
    };
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let temp = dir.join(format!("{name}.tmp"));
    match fs::remove_file(&temp) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(io_error(&temp)(error)),
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(OWNER_ONLY)
        .open(&temp)
        .map_err(io_error(&temp))?;
    file.write_all(&bytes).map_err(io_error(&temp))?;
    file.sync_all().map_err(io_error(&temp))?;
    drop(file);
    fs::rename(&temp, &path).map_err(io_error(&path))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("exists").permissions().mode() & 0o777
    }

    #[test]
    fn created_keys_are_owner_only_and_load_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            LedgerKeys::load(dir.path()),
            Err(KeyError::Missing { .. })
        ));
        let created =
            LedgerKeys::load_or_create(dir.path(), &KeySource::OsRandom).expect("creates");
        for name in [SIGNING_KEY_FILE, SECRET_FILE] {
            let path = dir.path().join(name);
            assert_eq!(mode(&path), 0o600, "{name}");
            assert_eq!(fs::metadata(&path).expect("exists").len(), 32, "{name}");
            assert!(!dir.path().join(format!("{name}.tmp")).exists());
        }
        assert_eq!(
            fs::read(dir.path().join(SIGNING_KEY_FILE)).expect("reads"),
            created.signing_key().to_bytes()
        );
        let loaded = LedgerKeys::load(dir.path()).expect("loads");
        assert_eq!(
            loaded.signing_key().to_bytes(),
            created.signing_key().to_bytes()
        );
        assert_eq!(loaded.secret(), created.secret());
        // A second start loads, never replaces.
        let again = LedgerKeys::load_or_create(dir.path(), &KeySource::OsRandom).expect("loads");
        assert_eq!(again.secret(), created.secret());
        assert_ne!(created.secret().as_bytes(), &[0u8; 32]);
    }

    #[test]
    fn wider_permissions_and_wrong_files_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        LedgerKeys::load_or_create(dir.path(), &KeySource::Seeded([1; 32])).expect("creates");
        let secret = dir.path().join(SECRET_FILE);
        for wider in [0o640, 0o604, 0o644, 0o700, 0o666] {
            fs::set_permissions(&secret, fs::Permissions::from_mode(wider)).expect("chmod");
            assert!(
                matches!(
                    LedgerKeys::load(dir.path()),
                    Err(KeyError::TooPermissive { mode, .. }) if mode == wider
                ),
                "mode {wider:o}"
            );
        }
        fs::set_permissions(&secret, fs::Permissions::from_mode(0o400)).expect("chmod");
        assert!(LedgerKeys::load(dir.path()).is_ok());
        fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).expect("chmod");
        fs::write(&secret, [0u8; 33]).expect("writes");
        assert!(matches!(
            LedgerKeys::load(dir.path()),
            Err(KeyError::WrongLength { len: 33, .. })
        ));
        fs::remove_file(&secret).expect("removes");
        fs::create_dir(&secret).expect("mkdir");
        assert!(matches!(
            LedgerKeys::load(dir.path()),
            Err(KeyError::NotAFile { .. })
        ));
    }

    #[test]
    fn seeded_keys_are_deterministic() {
        let (a, b, c) = (
            tempfile::tempdir(),
            tempfile::tempdir(),
            tempfile::tempdir(),
        );
        let (a, b, c) = (
            a.expect("tempdir"),
            b.expect("tempdir"),
            c.expect("tempdir"),
        );
        let first = LedgerKeys::load_or_create(a.path(), &KeySource::Seeded([7; 32])).expect("a");
        let second = LedgerKeys::load_or_create(b.path(), &KeySource::Seeded([7; 32])).expect("b");
        let other = LedgerKeys::load_or_create(c.path(), &KeySource::Seeded([8; 32])).expect("c");
        for name in [SIGNING_KEY_FILE, SECRET_FILE] {
            assert_eq!(
                fs::read(a.path().join(name)).expect("reads"),
                fs::read(b.path().join(name)).expect("reads")
            );
        }
        assert_eq!(first.secret(), second.secret());
        assert_ne!(first.secret(), other.secret());
        assert_ne!(
            first.signing_key().to_bytes(),
            other.signing_key().to_bytes()
        );
        let expected = blake3::derive_key(SIMULATED_SECRET_CONTEXT, &[7; 32]);
        assert_eq!(first.secret().as_bytes(), &expected);
        assert_eq!(
            LedgerKeys::from_seed(&[7; 32]).signing_key().to_bytes(),
            first.signing_key().to_bytes()
        );
    }

    #[test]
    fn derivations_follow_the_spec_and_debug_hides_secrets() {
        let secret = LedgerSecret::from_bytes([9; 32]);
        let salt_key = blake3::derive_key("residence-ledger v1 payload salt", &[9; 32]);
        let tag_key = blake3::derive_key("residence-ledger v1 tag blinding", &[9; 32]);
        let event_id = [3u8; 16];
        assert_eq!(
            secret.payload_salt(&event_id),
            *blake3::keyed_hash(&salt_key, &event_id).as_bytes()
        );
        assert_eq!(
            secret.blind_tag_value(b"012345678901"),
            *blake3::keyed_hash(&tag_key, b"012345678901").as_bytes()
        );
        assert_ne!(
            secret.payload_salt(&event_id),
            secret.blind_tag_value(&event_id)
        );
        let keys = LedgerKeys::from_seed(&[5; 32]);
        let debug = format!("{keys:?} {secret:?} {:?}", KeySource::Seeded([5; 32]));
        assert!(!debug.contains(&hex::encode([9u8; 32])), "{debug}");
        assert!(
            !debug.contains(&hex::encode(keys.secret().as_bytes())),
            "{debug}"
        );
        assert!(!debug.contains("9, 9, 9"), "{debug}");
        assert!(!debug.contains("5, 5, 5"), "{debug}");
        let signing = keys.signing_key().to_bytes();
        assert!(!debug.contains(&format!("{signing:?}")), "{debug}");
    }
}
