//! The identity of one event in the ledger.
//!
//! Corrections and annulments must name exactly which earlier event they correct or annul, and
//! that name must survive replays, backups and exports unchanged. An [`EventId`] is 16 opaque
//! bytes (the ledger derives it from the client's request id, so a retried request maps to the
//! same event); the domain never invents one, it only carries the ids it is handed.
//!
//! Wire form: 32 lowercase hexadecimal digits, e.g. `"0123456789abcdef0123456789abcdef"`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The number of bytes in an event id.
pub const EVENT_ID_BYTES: usize = 16;

/// The id of an event in the ledger (16 bytes).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId([u8; EVENT_ID_BYTES]);

/// Why a text is not an event id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event id must be 32 lowercase hexadecimal digits, got {got:?}")]
pub struct EventIdParseError {
    /// The rejected text, clipped to 80 characters (event ids carry no personal data).
    pub got: String,
}

impl EventId {
    /// Wraps 16 raw bytes.
    pub const fn from_bytes(bytes: [u8; EVENT_ID_BYTES]) -> Self {
        Self(bytes)
    }

    /// The 16 raw bytes.
    pub const fn as_bytes(&self) -> &[u8; EVENT_ID_BYTES] {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({self})")
    }
}

/// The value of one lowercase hexadecimal digit.
pub(crate) fn hex_digit(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

/// Decodes exactly `N` bytes from `2 * N` lowercase hexadecimal digits.
pub(crate) fn decode_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut bytes = [0u8; N];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
    }
    Some(bytes)
}

impl FromStr for EventId {
    type Err = EventIdParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        decode_hex::<EVENT_ID_BYTES>(text)
            .map(Self)
            .ok_or_else(|| EventIdParseError {
                got: text.chars().take(80).collect(),
            })
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_round_trip_as_32_lowercase_hex_digits() {
        let id = EventId::from_bytes([
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x10, 0x20, 0x30, 0x40, 0x50,
            0x60, 0xff,
        ]);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"0123456789abcdef00102030405060ff\"");
        assert_eq!(serde_json::from_str::<EventId>(&json).unwrap(), id);
    }

    #[test]
    fn event_ids_reject_other_shapes() {
        for bad in [
            "",
            "0123456789abcdef",
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcdeg",
            "0123456789abcdef0123456789abcdef0",
            "+123456789abcdef0123456789abcdef",
        ] {
            assert!(bad.parse::<EventId>().is_err(), "{bad:?} parsed");
        }
    }
}
