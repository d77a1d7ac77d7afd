//! Who is calling: bearer tokens, roles and jurisdictions.
//!
//! Why tokens are random and stored hashed: a token is a password for a machine or a person's
//! session. The server keeps only `blake3(token)` in `DATA/tokens.json`, so a copy of the data
//! directory (a backup, a disk sent for repair) cannot be used to call the API. A token is shown
//! once, by `residence tokens create`, and never again.
//!
//! Roles follow the people who use the register (DOMAIN.md, Law on Residence Art 2.4, 35):
//! - **officer**: a residence officer of a commune police office. Records changes only for
//!   addresses in their jurisdiction (a set of communes); reads persons to do so.
//! - **supervisor**: a provincial supervisor (the officer's direct superior in Art 35); records
//!   anything in the provinces of their jurisdiction, including annulments.
//! - **auditor**: reads and verifies everything (records, proofs, the access log); never writes.
//! - **court**: histories and point-in-time proofs of persons; never writes.
//! - **admin**: operates the server (tokens, checkpoints, metrics); reads no personal data.
//! - **population-database**: the data-sharing feed of the national population database
//!   (persons recorded, deaths, PIN changes); records only what that actor may.
//!
//! The tokens file is re-read when a presented token is not known and the file changed, so
//! `residence tokens create` takes effect on a running server without a restart.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::RwLock;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use rand::TryRngCore as _;
use residence_domain::context::Actor;
use serde::{Deserialize, Serialize};

/// The file holding the hashed tokens, in the data directory.
pub const TOKENS_FILE: &str = "tokens.json";
/// The prefix of every token (so leaked tokens are easy to find in logs and repositories).
pub const TOKEN_PREFIX: &str = "rsd_";

/// A role (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A commune residence officer.
    Officer,
    /// A provincial supervisor.
    Supervisor,
    /// An auditor.
    Auditor,
    /// A court.
    Court,
    /// An administrator.
    Admin,
    /// The national population database's feed.
    PopulationDatabase,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 6] = [
        Role::Officer,
        Role::Supervisor,
        Role::Auditor,
        Role::Court,
        Role::Admin,
        Role::PopulationDatabase,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
            Role::Court => "court",
            Role::Admin => "admin",
            Role::PopulationDatabase => "population-database",
        }
    }

    /// The domain actor this role records as; `None` for roles that never write.
    pub fn actor(self) -> Option<Actor> {
        match self {
            Role::Officer => Some(Actor::Officer),
            Role::Supervisor => Some(Actor::SuperiorOfficer),
            Role::PopulationDatabase => Some(Actor::PopulationDatabase),
            Role::Auditor | Role::Court | Role::Admin => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<_> = Role::ALL.iter().map(|role| role.as_str()).collect();
                format!("unknown role {text:?} (one of {})", names.join(", "))
            })
    }
}

pub use residence_domain::jurisdiction::{Jurisdiction, JurisdictionError};

/// A token as stored: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// A public name of the token (the first 12 hex digits of its hash), used in logs and the
    /// access log.
    pub id: String,
    /// `blake3(token)` in hex.
    pub hash: String,
    /// The role.
    pub role: Role,
    /// Who holds it (e.g. "officer Nguyễn Văn A, Phường Ba Đình").
    pub label: String,
    /// Where the holder may record changes (officers and supervisors).
    #[serde(default)]
    pub jurisdiction: Jurisdiction,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked ([`TokenStore::revoke`]); a revoked token never works again, and
    /// its record stays, so the access log's token ids keep a holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's public id.
    pub token_id: String,
    /// The role.
    pub role: Role,
    /// The holder.
    pub label: String,
    /// Where they may record changes.
    pub jurisdiction: Jurisdiction,
}

/// A role that may not do what was asked (→ 403 `forbidden`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the {role} role may not do this")]
pub struct Forbidden {
    /// The caller's role.
    pub role: Role,
}

impl Principal {
    /// Refuses callers whose role is not in `allowed`.
    ///
    /// # Errors
    /// [`Forbidden`] naming the caller's role.
    pub fn require(&self, allowed: &[Role]) -> Result<(), Forbidden> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(Forbidden { role: self.role })
        }
    }

    /// The account id recorded in the ledger's metadata (pseudonymous: the token id).
    pub fn actor_id(&self) -> String {
        format!("token:{}", self.token_id)
    }
}

/// Why the tokens file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Reading or writing the file failed.
    #[error("{operation} {} failed", path.display())]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a tokens file.
    #[error("{} is not a valid tokens file", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// Where the JSON is wrong.
        #[source]
        source: serde_json::Error,
    },
    /// The operating system's random source failed.
    #[error("the random source failed: {0}")]
    Random(String),
    /// An officer or supervisor token needs a jurisdiction; other roles must not have one.
    #[error("{0}")]
    Jurisdiction(String),
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokensFile {
    tokens: Vec<TokenRecord>,
}

#[derive(Debug, Default)]
struct Table {
    by_hash: HashMap<String, TokenRecord>,
    modified: Option<SystemTime>,
}

/// The tokens of a data directory.
#[derive(Debug)]
pub struct TokenStore {
    path: PathBuf,
    table: RwLock<Table>,
}

fn hash_token(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

impl TokenStore {
    /// Opens the tokens of the data directory `data` (a missing file means no tokens).
    ///
    /// # Errors
    /// [`TokenError`] when the file exists but cannot be read or parsed.
    pub fn open(data: &Path) -> Result<TokenStore, TokenError> {
        let store = TokenStore {
            path: data.join(TOKENS_FILE),
            table: RwLock::new(Table::default()),
        };
        store.reload()?;
        Ok(store)
    }

    fn modified(&self) -> Option<SystemTime> {
        std::fs::metadata(&self.path)
            .and_then(|metadata| metadata.modified())
            .ok()
    }

    fn read_file(&self) -> Result<TokensFile, TokenError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| TokenError::Format {
                path: self.path.clone(),
                source,
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(TokensFile::default()),
            Err(source) => Err(TokenError::Io {
                operation: "read",
                path: self.path.clone(),
                source,
            }),
        }
    }

    fn reload(&self) -> Result<(), TokenError> {
        let modified = self.modified();
        let file = self.read_file()?;
        let mut table = self
            .table
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        table.by_hash = file
            .tokens
            .into_iter()
            .map(|record| (record.hash.clone(), record))
            .collect();
        table.modified = modified;
        Ok(())
    }

    /// The caller presenting `token` at `now`, if the token is known and not expired.
    pub fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Option<Principal> {
        let hash = hash_token(token);
        let found = self.lookup(&hash);
        let found = match found {
            Some(record) => Some(record),
            None => {
                // A token created since the last read: re-read the file once it changed.
                let changed = {
                    let table = self
                        .table
                        .read()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    table.modified != self.modified()
                };
                if changed && let Err(error) = self.reload() {
                    tracing::error!(%error, "re-reading the tokens file failed");
                }
                self.lookup(&hash)
            }
        }?;
        if found.expires_at.is_some_and(|expires| expires <= now) || found.revoked_at.is_some() {
            return None;
        }
        Some(Principal {
            token_id: found.id,
            role: found.role,
            label: found.label,
            jurisdiction: found.jurisdiction,
        })
    }

    fn lookup(&self, hash: &str) -> Option<TokenRecord> {
        self.table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .by_hash
            .get(hash)
            .cloned()
    }

    /// Creates a token, stores its hash (atomically replacing the file) and returns the token
    /// (shown once) with its record.
    ///
    /// # Errors
    /// [`TokenError`]: a bad jurisdiction for the role, the random source, or the file.
    pub fn create(
        &self,
        role: Role,
        label: &str,
        jurisdiction: Jurisdiction,
        created_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(String, TokenRecord), TokenError> {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut secret)
            .map_err(|error| TokenError::Random(error.to_string()))?;
        self.create_from_secret(role, label, jurisdiction, created_at, expires_at, secret)
    }

    /// As [`TokenStore::create`] with given secret bytes (the demo and tests derive them from a
    /// seed, so their tokens are reproducible).
    ///
    /// # Errors
    /// As [`TokenStore::create`].
    pub fn create_from_secret(
        &self,
        role: Role,
        label: &str,
        jurisdiction: Jurisdiction,
        created_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
        secret: [u8; 32],
    ) -> Result<(String, TokenRecord), TokenError> {
        let writes = matches!(role, Role::Officer | Role::Supervisor);
        if writes && jurisdiction.is_empty() {
            return Err(TokenError::Jurisdiction(format!(
                "a {role} token needs --units (communes or provinces)"
            )));
        }
        if !writes && !jurisdiction.is_empty() {
            return Err(TokenError::Jurisdiction(format!(
                "a {role} token has no jurisdiction; drop --units"
            )));
        }
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
        let hash = hash_token(&token);
        let record = TokenRecord {
            id: hash[..12].to_owned(),
            hash,
            role,
            label: label.to_owned(),
            jurisdiction,
            created_at,
            expires_at,
            revoked_at: None,
        };
        let mut file = self.read_file()?;
        file.tokens.push(record.clone());
        self.write_file(&file)?;
        Ok((token, record))
    }

    /// Revokes, at `at`, every token not revoked yet that `which` picks; returns their records
    /// as revoked. The records stay in the file (the access log names their ids). A server
    /// that has the store open sees the revocation when it next re-reads the file (a restart,
    /// or a token it does not know yet).
    ///
    /// # Errors
    /// [`TokenError`] when the file cannot be read or written.
    pub fn revoke(
        &self,
        at: DateTime<Utc>,
        which: impl Fn(&TokenRecord) -> bool,
    ) -> Result<Vec<TokenRecord>, TokenError> {
        let mut file = self.read_file()?;
        let mut revoked = Vec::new();
        for record in &mut file.tokens {
            if record.revoked_at.is_none() && which(record) {
                record.revoked_at = Some(at);
                revoked.push(record.clone());
            }
        }
        if !revoked.is_empty() {
            self.write_file(&file)?;
        }
        Ok(revoked)
    }

    /// Replaces the file atomically with `file`, then reloads the table from it.
    fn write_file(&self, file: &TokensFile) -> Result<(), TokenError> {
        let bytes = serde_json::to_vec_pretty(file).map_err(|source| TokenError::Format {
            path: self.path.clone(),
            source,
        })?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        residence_ledger::directory::write_atomically(dir, TOKENS_FILE, &bytes).map_err(
            |error| TokenError::Io {
                operation: "write",
                path: self.path.clone(),
                source: std::io::Error::other(error.to_string()),
            },
        )?;
        self.reload()
    }

    /// Every stored token record (no secrets).
    pub fn list(&self) -> Vec<TokenRecord> {
        let mut records: Vec<_> = self
            .table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .by_hash
            .values()
            .cloned()
            .collect();
        records.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        records
    }
}
