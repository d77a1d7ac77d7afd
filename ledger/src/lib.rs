//! The append-only, hash-chained, Merkle-committed event log.
//!
//! What it is: the ground truth of the residence database. Records are appended by a single
//! sequencer (group commit, acknowledged only after fsync), chained by blake3 hashes, committed
//! to by a Merkle tree with signed checkpoints, indexed by tag, and verifiable by outsiders from
//! the byte-level spec in `ledger/FORMAT.md`.
//!
//! What it is not: it knows nothing about households, people or residence law. Event types,
//! tags and payloads are opaque bytes to it, except that tags of blinded kinds are blinded with
//! the ledger secret before they are hashed or indexed. Which kinds those are is not the
//! ledger's knowledge: the caller names them when it creates or opens a ledger
//! ([`record::BlindedKinds`]), and the manifest keeps them.
//!
//! Layers, bottom up: [`store`] (durable bytes by position; backends), the record codec, the
//! sequencer (chain, tags, conditions, idempotency), the Merkle tree and checkpoints (each
//! signed note stored once, [`checkpoint_dir`]), and verification; beside them, the ledger
//! directory (the embedded deployment, with its explicit [`directory::repair`]) and its online
//! [`backup`].
//!
//! Invariants: nothing a signed checkpoint or the synced tree covers is ever cut; no second
//! note is ever stored for a tree size, and no tree is signed that does not extend the latest
//! signed one; derived files (tree, indexes) are checked against the log and what is signed
//! before they are believed.

pub mod backup;
pub mod checkpoint;
pub mod checkpoint_dir;
pub mod clock;
pub mod directory;
pub mod hash;
pub mod index;
pub mod keys;
pub mod ledger;
pub mod merkle;
pub mod proof;
pub mod record;
pub mod store;
pub mod tree_store;
pub mod verify;
