//! The 32-byte hash value used everywhere in the ledger.
//!
//! Why a newtype: record hashes, Merkle nodes, roots and chain heads are all 32 bytes, and a bare
//! `[u8; 32]` says nothing about what it is or how it prints. `Hash` prints as lowercase hex (the
//! form used in logs, JSON and `FORMAT.md`), converts to and from the standard padded base64 used
//! in checkpoints and proofs, and serializes with serde as a lowercase hex string.
//!
//! Parsing is canonical: exactly 64 lowercase hex digits, or exactly the one base64 text that
//! encodes the 32 bytes. Two different texts never parse to the same hash, so a flipped character
//! in a proof or checkpoint is always noticed.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A 32-byte hash (BLAKE3 output, Merkle node, root, record hash or chain head).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

/// Why a text is not a valid [`Hash`](struct@Hash).
///
/// Returned by [`Hash::from_hex`] and [`Hash::from_base64`]; callers turn it into their own
/// "bad input" error (for example a 400 response or a proof decoding error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    /// The text does not have the length of an encoded 32-byte hash (64 hex digits or 44 base64
    /// characters). Handled as malformed input.
    #[error("hash text has {actual} characters, expected {expected}")]
    WrongLength {
        /// The number of characters found.
        actual: usize,
        /// The number of characters required.
        expected: usize,
    },
    /// The text contains a character other than `0-9a-f` (uppercase is rejected so the text form
    /// is canonical). Handled as malformed input.
    #[error("hash text is not lowercase hex")]
    NotLowercaseHex,
    /// The text is not canonical standard padded base64 of 32 bytes. Handled as malformed input.
    #[error("hash text is not canonical base64 of 32 bytes")]
    NotBase64,
}

impl Hash {
    /// The number of bytes in a hash.
    pub const LEN: usize = 32;

    /// The all-zero hash. It is never the output of BLAKE3 in practice; it marks "no hash" in
    /// fixed-size layouts.
    pub const ZERO: Hash = Hash([0; 32]);

    /// The raw bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// BLAKE3 (default, unkeyed mode) of `data`.
    #[must_use]
    pub fn blake3(data: &[u8]) -> Hash {
        Hash(*blake3::hash(data).as_bytes())
    }

    /// Lowercase hex, 64 characters.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses exactly 64 lowercase hex digits.
    ///
    /// # Errors
    ///
    /// [`HashParseError::WrongLength`] or [`HashParseError::NotLowercaseHex`].
    pub fn from_hex(text: &str) -> Result<Hash, HashParseError> {
        if text.len() != 64 {
            return Err(HashParseError::WrongLength {
                actual: text.len(),
                expected: 64,
            });
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(HashParseError::NotLowercaseHex);
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| HashParseError::NotLowercaseHex)?;
        Ok(Hash(bytes))
    }

    /// Standard (RFC 4648 §4) padded base64, 44 characters.
    #[must_use]
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Parses canonical standard padded base64 of exactly 32 bytes.
    ///
    /// # Errors
    ///
    /// [`HashParseError::WrongLength`] or [`HashParseError::NotBase64`].
    pub fn from_base64(text: &str) -> Result<Hash, HashParseError> {
        if text.len() != 44 {
            return Err(HashParseError::WrongLength {
                actual: text.len(),
                expected: 44,
            });
        }
        let mut bytes = [0u8; 32];
        match STANDARD.decode_slice(text, &mut bytes) {
            Ok(32) => Ok(Hash(bytes)),
            _ => Err(HashParseError::NotBase64),
        }
    }

    /// The hash in a 32-byte slice, or `None` when the slice has another length.
    #[must_use]
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; 32]>::try_from(bytes).ok().map(Hash)
    }
}

impl From<blake3::Hash> for Hash {
    fn from(hash: blake3::Hash) -> Hash {
        Hash(*hash.as_bytes())
    }
}

impl From<[u8; 32]> for Hash {
    fn from(bytes: [u8; 32]) -> Hash {
        Hash(bytes)
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

impl std::str::FromStr for Hash {
    type Err = HashParseError;

    fn from_str(text: &str) -> Result<Hash, HashParseError> {
        Hash::from_hex(text)
    }
}

impl serde::Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Hash, D::Error> {
        struct HexVisitor;

        impl serde::de::Visitor<'_> for HexVisitor {
            type Value = Hash;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a hash as 64 lowercase hex digits")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Hash, E> {
                Hash::from_hex(text).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(HexVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Hash {
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::try_from(i * 7 + 3).expect("small");
        }
        Hash(bytes)
    }

    #[test]
    fn hex_round_trip_is_lowercase_and_canonical() {
        let hash = sample();
        let text = hash.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text, text.to_lowercase());
        assert_eq!(Hash::from_hex(&text), Ok(hash));
        assert_eq!(
            Hash::from_hex(&text.to_uppercase()),
            Err(HashParseError::NotLowercaseHex)
        );
        assert_eq!(
            Hash::from_hex(&text[1..]),
            Err(HashParseError::WrongLength {
                actual: 63,
                expected: 64
            })
        );
        assert_eq!(format!("{hash:?}"), format!("Hash({text})"));
    }

    #[test]
    fn base64_round_trip_rejects_non_canonical_text() {
        let hash = sample();
        let text = hash.to_base64();
        assert_eq!(text.len(), 44);
        assert!(text.ends_with('='));
        assert_eq!(Hash::from_base64(&text), Ok(hash));
        // The last character before the padding carries two unused bits; setting one of them gives
        // a non-canonical text for the same bytes, which must be refused.
        let mut chars: Vec<char> = text.chars().collect();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let value = alphabet.find(chars[42]).expect("base64 character");
        chars[42] = alphabet.chars().nth(value ^ 1).expect("in range");
        let altered: String = chars.into_iter().collect();
        assert_eq!(Hash::from_base64(&altered), Err(HashParseError::NotBase64));
        assert_eq!(
            Hash::from_base64("AAAA"),
            Err(HashParseError::WrongLength {
                actual: 4,
                expected: 44
            })
        );
    }

    #[test]
    fn serde_uses_lowercase_hex_strings() {
        let hash = sample();
        let json = serde_json::to_string(&hash).expect("serializes");
        assert_eq!(json, format!("\"{hash}\""));
        let back: Hash = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, hash);
        let upper = json.to_uppercase();
        assert!(serde_json::from_str::<Hash>(&upper).is_err());
    }

    #[test]
    fn blake3_helper_matches_the_crate() {
        assert_eq!(Hash::blake3(b"abc"), Hash::from(blake3::hash(b"abc")));
        assert_eq!(Hash::ZERO.0, [0u8; 32]);
        assert_eq!(Hash::from_slice(&[1u8; 32]), Some(Hash([1u8; 32])));
        assert_eq!(Hash::from_slice(&[1u8; 31]), None);
    }
}
