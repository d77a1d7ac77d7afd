//! Inclusion and consistency proofs as values: their binary and JSON encodings and their checks.
//!
//! Why: proofs leave the server (to courts, auditors, other ledgers) and are checked elsewhere,
//! possibly years later and in another language. A proof therefore carries the sizes it speaks
//! about, its hashes in RFC 9162 order, and nothing else; its two encodings are specified in
//! `FORMAT.md`:
//!
//! - binary: the hashes concatenated, 32 bytes each (the sizes travel beside it);
//! - JSON: `{"kind":"inclusion","leaf_index":5,"tree_size":11,"hashes":["<base64>",…]}` and
//!   `{"kind":"consistency","old_size":4,"new_size":11,"hashes":[…]}`, hashes in standard padded
//!   base64, unknown fields rejected.
//!
//! Decoding never trusts the input: lengths are bounded ([`MAX_INCLUSION_HASHES`],
//! [`MAX_CONSISTENCY_HASHES`]) and every hash must be canonical base64 of 32 bytes.

use serde::{Deserialize, Serialize};

use crate::hash::{Hash, HashParseError};
use crate::merkle::{
    self, CheckError, HashReader, MAX_CONSISTENCY_HASHES, MAX_INCLUSION_HASHES, MemoryTree,
    ProveError,
};

/// Proof that a record is leaf `leaf_index` of the tree of size `tree_size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "InclusionWire", into = "InclusionWire")]
pub struct InclusionProof {
    /// The 0-based leaf index (the record's position).
    pub leaf_index: u64,
    /// The size of the tree the proof is for.
    pub tree_size: u64,
    /// The audit path, in RFC 9162 order (from the leaf up).
    pub hashes: Vec<Hash>,
}

/// Proof that the tree of size `old_size` is a prefix of the tree of size `new_size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ConsistencyWire", into = "ConsistencyWire")]
pub struct ConsistencyProof {
    /// The size of the older tree (at least 1).
    pub old_size: u64,
    /// The size of the newer tree (at least `old_size`).
    pub new_size: u64,
    /// The consistency path, in RFC 9162 order; empty when the sizes are equal.
    pub hashes: Vec<Hash>,
}

/// The proofs of an in-memory tree (here, beside the proof values, so that the tree's module
/// does not depend on this one).
impl MemoryTree {
    /// The inclusion proof of leaf `index` in the tree of size `size`.
    ///
    /// # Errors
    ///
    /// As [`merkle::prove_inclusion`].
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, ProveError> {
        InclusionProof::generate(self, index, size)
    }

    /// The consistency proof from size `old` to size `new`.
    ///
    /// # Errors
    ///
    /// As [`merkle::prove_consistency`].
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<ConsistencyProof, ProveError> {
        ConsistencyProof::generate(self, old, new)
    }
}

/// Why bytes or JSON are not a well-formed proof. Handled as bad input (400 on an API, a
/// rejected file in the offline verifier); it says nothing yet about whether the proof holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofDecodeError {
    /// The binary encoding is not a whole number of 32-byte hashes.
    #[error("proof of {len} bytes is not a whole number of 32-byte hashes")]
    NotWholeHashes {
        /// The length of the encoding.
        len: usize,
    },
    /// The proof has more hashes than any tree size allows.
    #[error("proof has {count} hashes, at most {max} are possible")]
    TooManyHashes {
        /// The number of hashes found.
        count: usize,
        /// The maximum for this kind of proof.
        max: usize,
    },
    /// One hash is not canonical base64 of 32 bytes.
    #[error("proof hash {index} is malformed")]
    BadHash {
        /// The 0-based position of the hash in the proof.
        index: usize,
        /// What is wrong with it.
        #[source]
        source: HashParseError,
    },
}

impl InclusionProof {
    /// Computes the proof of leaf `leaf_index` in the tree of size `tree_size` from `reader`.
    ///
    /// # Errors
    ///
    /// As [`merkle::prove_inclusion`].
    pub fn generate<R: HashReader + ?Sized>(
        reader: &R,
        leaf_index: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, ProveError> {
        let hashes = merkle::prove_inclusion(reader, leaf_index, tree_size)?;
        Ok(InclusionProof {
            leaf_index,
            tree_size,
            hashes,
        })
    }

    /// Checks that the record with hash `record_hash` is leaf `leaf_index` of the tree of size
    /// `tree_size` whose root is `root`. The leaf hash `BLAKE3(0x00 ‖ record_hash)` is computed
    /// here.
    ///
    /// # Errors
    ///
    /// A [`CheckError`] when the proof does not hold.
    pub fn verify(&self, record_hash: &Hash, root: &Hash) -> Result<(), CheckError> {
        let leaf = merkle::leaf_hash(record_hash);
        merkle::check_inclusion(&leaf, self.leaf_index, self.tree_size, &self.hashes, root)
    }

    /// The binary encoding: the hashes concatenated.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        hashes_to_bytes(&self.hashes)
    }

    /// Decodes the binary encoding, with the index and size that travel beside it.
    ///
    /// # Errors
    ///
    /// [`ProofDecodeError::NotWholeHashes`] or [`ProofDecodeError::TooManyHashes`].
    pub fn from_bytes(
        leaf_index: u64,
        tree_size: u64,
        bytes: &[u8],
    ) -> Result<InclusionProof, ProofDecodeError> {
        let hashes = hashes_from_bytes(bytes, MAX_INCLUSION_HASHES)?;
        Ok(InclusionProof {
            leaf_index,
            tree_size,
            hashes,
        })
    }
}

impl ConsistencyProof {
    /// Computes the proof from size `old_size` to size `new_size` from `reader`.
    ///
    /// # Errors
    ///
    /// As [`merkle::prove_consistency`].
    pub fn generate<R: HashReader + ?Sized>(
        reader: &R,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, ProveError> {
        let hashes = merkle::prove_consistency(reader, old_size, new_size)?;
        Ok(ConsistencyProof {
            old_size,
            new_size,
            hashes,
        })
    }

    /// Checks that the tree of size `old_size` with root `old_root` is a prefix of the tree of
    /// size `new_size` with root `new_root`.
    ///
    /// # Errors
    ///
    /// A [`CheckError`] when the proof does not hold.
    pub fn verify(&self, old_root: &Hash, new_root: &Hash) -> Result<(), CheckError> {
        merkle::check_consistency(
            self.old_size,
            self.new_size,
            &self.hashes,
            old_root,
            new_root,
        )
    }

    /// The binary encoding: the hashes concatenated.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        hashes_to_bytes(&self.hashes)
    }

    /// Decodes the binary encoding, with the sizes that travel beside it.
    ///
    /// # Errors
    ///
    /// [`ProofDecodeError::NotWholeHashes`] or [`ProofDecodeError::TooManyHashes`].
    pub fn from_bytes(
        old_size: u64,
        new_size: u64,
        bytes: &[u8],
    ) -> Result<ConsistencyProof, ProofDecodeError> {
        let hashes = hashes_from_bytes(bytes, MAX_CONSISTENCY_HASHES)?;
        Ok(ConsistencyProof {
            old_size,
            new_size,
            hashes,
        })
    }
}

fn hashes_to_bytes(hashes: &[Hash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hashes.len() * Hash::LEN);
    for hash in hashes {
        out.extend_from_slice(&hash.0);
    }
    out
}

fn hashes_from_bytes(bytes: &[u8], max: usize) -> Result<Vec<Hash>, ProofDecodeError> {
    if !bytes.len().is_multiple_of(Hash::LEN) {
        return Err(ProofDecodeError::NotWholeHashes { len: bytes.len() });
    }
    let count = bytes.len() / Hash::LEN;
    if count > max {
        return Err(ProofDecodeError::TooManyHashes { count, max });
    }
    Ok(bytes
        .chunks_exact(Hash::LEN)
        .map(|chunk| Hash::from_slice(chunk).expect("chunks_exact yields 32-byte chunks"))
        .collect())
}

fn hashes_from_base64(texts: &[String], max: usize) -> Result<Vec<Hash>, ProofDecodeError> {
    if texts.len() > max {
        return Err(ProofDecodeError::TooManyHashes {
            count: texts.len(),
            max,
        });
    }
    texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            Hash::from_base64(text).map_err(|source| ProofDecodeError::BadHash { index, source })
        })
        .collect()
}

/// The `kind` field of an inclusion proof; only `"inclusion"` deserializes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum InclusionKind {
    #[serde(rename = "inclusion")]
    Inclusion,
}

/// The `kind` field of a consistency proof; only `"consistency"` deserializes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum ConsistencyKind {
    #[serde(rename = "consistency")]
    Consistency,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionWire {
    kind: InclusionKind,
    leaf_index: u64,
    tree_size: u64,
    hashes: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyWire {
    kind: ConsistencyKind,
    old_size: u64,
    new_size: u64,
    hashes: Vec<String>,
}

impl From<InclusionProof> for InclusionWire {
    fn from(proof: InclusionProof) -> InclusionWire {
        InclusionWire {
            kind: InclusionKind::Inclusion,
            leaf_index: proof.leaf_index,
            tree_size: proof.tree_size,
            hashes: proof.hashes.iter().map(Hash::to_base64).collect(),
        }
    }
}

impl TryFrom<InclusionWire> for InclusionProof {
    type Error = ProofDecodeError;

    fn try_from(wire: InclusionWire) -> Result<InclusionProof, ProofDecodeError> {
        let InclusionWire {
            kind: InclusionKind::Inclusion,
            leaf_index,
            tree_size,
            hashes,
        } = wire;
        let hashes = hashes_from_base64(&hashes, MAX_INCLUSION_HASHES)?;
        Ok(InclusionProof {
            leaf_index,
            tree_size,
            hashes,
        })
    }
}

impl From<ConsistencyProof> for ConsistencyWire {
    fn from(proof: ConsistencyProof) -> ConsistencyWire {
        ConsistencyWire {
            kind: ConsistencyKind::Consistency,
            old_size: proof.old_size,
            new_size: proof.new_size,
            hashes: proof.hashes.iter().map(Hash::to_base64).collect(),
        }
    }
}

impl TryFrom<ConsistencyWire> for ConsistencyProof {
    type Error = ProofDecodeError;

    fn try_from(wire: ConsistencyWire) -> Result<ConsistencyProof, ProofDecodeError> {
        let ConsistencyWire {
            kind: ConsistencyKind::Consistency,
            old_size,
            new_size,
            hashes,
        } = wire;
        let hashes = hashes_from_base64(&hashes, MAX_CONSISTENCY_HASHES)?;
        Ok(ConsistencyProof {
            old_size,
            new_size,
            hashes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::MemoryTree;
    use crate::merkle::tests::record_hashes;

    #[test]
    fn inclusion_proof_json_and_binary_round_trip() {
        let data = record_hashes(11);
        let tree = MemoryTree::from_leaves(&data);
        let proof = tree.inclusion_proof(5, 11).expect("proof exists");
        assert_eq!(proof.verify(&data[5], &tree.root()), Ok(()));
        assert!(proof.verify(&data[4], &tree.root()).is_err());

        let json = serde_json::to_string(&proof).expect("serializes");
        let prefix = r#"{"kind":"inclusion","leaf_index":5,"tree_size":11,"hashes":[""#;
        assert!(json.starts_with(prefix), "{json}");
        let back: InclusionProof = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, proof);

        let bytes = proof.to_bytes();
        assert_eq!(bytes.len(), proof.hashes.len() * 32);
        assert_eq!(InclusionProof::from_bytes(5, 11, &bytes), Ok(proof.clone()));
        assert_eq!(
            InclusionProof::from_bytes(5, 11, &bytes[1..]),
            Err(ProofDecodeError::NotWholeHashes {
                len: bytes.len() - 1
            })
        );
        assert_eq!(
            InclusionProof::from_bytes(5, 11, &[0u8; 65 * 32]),
            Err(ProofDecodeError::TooManyHashes { count: 65, max: 64 })
        );
    }

    #[test]
    fn consistency_proof_json_and_binary_round_trip() {
        let data = record_hashes(11);
        let tree = MemoryTree::from_leaves(&data);
        let proof = tree.consistency_proof(4, 11).expect("proof exists");
        let old_root = tree.root_at(4).expect("root");
        assert_eq!(proof.verify(&old_root, &tree.root()), Ok(()));
        assert!(proof.verify(&tree.root(), &tree.root()).is_err());

        let json = serde_json::to_string(&proof).expect("serializes");
        let prefix = r#"{"kind":"consistency","old_size":4,"new_size":11,"hashes":[""#;
        assert!(json.starts_with(prefix), "{json}");
        let back: ConsistencyProof = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, proof);
        assert_eq!(
            ConsistencyProof::from_bytes(4, 11, &proof.to_bytes()),
            Ok(proof)
        );
    }

    #[test]
    fn malformed_json_is_refused() {
        let hash = Hash::blake3(b"x").to_base64();
        let wrong_kind =
            format!(r#"{{"kind":"consistency","leaf_index":0,"tree_size":1,"hashes":["{hash}"]}}"#);
        assert!(serde_json::from_str::<InclusionProof>(&wrong_kind).is_err());
        let unknown_field = format!(
            r#"{{"kind":"inclusion","leaf_index":0,"tree_size":1,"hashes":["{hash}"],"x":1}}"#
        );
        assert!(serde_json::from_str::<InclusionProof>(&unknown_field).is_err());
        let hex_hash = format!(
            r#"{{"kind":"inclusion","leaf_index":0,"tree_size":1,"hashes":["{}"]}}"#,
            Hash::blake3(b"x")
        );
        assert!(serde_json::from_str::<InclusionProof>(&hex_hash).is_err());
        let too_many = format!(
            r#"{{"kind":"consistency","old_size":1,"new_size":2,"hashes":[{}]}}"#,
            vec![format!("\"{hash}\""); 66].join(",")
        );
        assert!(serde_json::from_str::<ConsistencyProof>(&too_many).is_err());
        let missing_kind = format!(r#"{{"leaf_index":0,"tree_size":1,"hashes":["{hash}"]}}"#);
        assert!(serde_json::from_str::<InclusionProof>(&missing_kind).is_err());
    }

    #[test]
    fn a_flipped_bit_in_the_json_of_a_proof_never_verifies() {
        // Leaves beyond the proven size give the true root of any size a flip can produce: a
        // verifier takes the root from the checkpoint of the size the proof names.
        let data = record_hashes(128);
        let tree = MemoryTree::from_leaves(&data);
        let root = tree.root_at(11).expect("root");
        let proof = tree.inclusion_proof(5, 11).expect("proof exists");
        let json = serde_json::to_vec(&proof).expect("serializes");
        for byte in 0..json.len() {
            for bit in 0..8 {
                let mut bad = json.clone();
                bad[byte] ^= 1 << bit;
                if let Ok(decoded) = serde_json::from_slice::<InclusionProof>(&bad) {
                    let claimed_root = tree.root_at(decoded.tree_size).unwrap_or(root);
                    assert!(
                        decoded.verify(&data[5], &claimed_root).is_err(),
                        "bit {bit} of byte {byte} flipped still verifies"
                    );
                }
            }
        }
    }
}
