//! Compact values the models keep in memory for every person: packed unit references, interned
//! street lines and relationships, and dates that serialise as day numbers.
//!
//! Why: the models hold the residence facts of the whole population in memory (the budget is
//! 1 KiB per person), so each fact is a few fixed-size numbers. Street lines and relationships
//! repeat across millions of facts and are interned: a fact holds a 32-bit or 16-bit id into a
//! table kept in first-seen order, which is the ledger order and therefore the same however the
//! state was reached (the determinism requirement of snapshots).

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::NaiveDate;
use residence_domain::address::{Address, StreetLine};
use residence_domain::relationship::Relationship;
use residence_domain::units::{Scheme, UnitCode, UnitRef};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A fast hasher for the in-memory lookup maps (the Fx multiply-rotate scheme).
///
/// Why not the standard SipHash: replay looks up a person, a household and a street for every
/// event, and SipHash was a tenth of the fold's time. The keys are pseudonymous random ids and
/// street lines from the ledger, which only officers write, so flooding a map with colliding
/// keys is not a threat these maps need to resist. The maps are never serialised, so their
/// order never reaches the state's bytes.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            if let Some(head) = word.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map with [`FastHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A unit reference packed in 32 bits: the scheme in bit 20 (0 legacy, 1 the 2025 map), the
/// five-digit code below it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Unit(u32);

/// The bit marking a unit of the 2025 map.
const Y2025_BIT: u32 = 1 << 20;

impl Unit {
    /// Packs a unit reference.
    pub(crate) fn pack(unit: UnitRef) -> Unit {
        let scheme = match unit.scheme {
            Scheme::Legacy => 0,
            Scheme::Y2025 => Y2025_BIT,
        };
        Unit(scheme | unit.code.get())
    }

    /// The unit reference.
    pub(crate) fn unpack(self) -> UnitRef {
        // The code bits were a `UnitCode` when packed, and decoding checks them, so they are a
        // valid code.
        let code = UnitCode::new(self.0 & (Y2025_BIT - 1)).expect("packed unit codes are valid");
        if self.0 & Y2025_BIT == 0 {
            UnitRef::legacy(code)
        } else {
            UnitRef::y2025(code)
        }
    }
}

impl fmt::Debug for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.unpack())
    }
}

impl Serialize for Unit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = u32::deserialize(deserializer)?;
        let code = raw & !Y2025_BIT;
        if UnitCode::new(code).is_none() || code >= Y2025_BIT {
            return Err(D::Error::custom("packed unit out of range"));
        }
        Ok(Unit(raw))
    }
}

/// A date kept in memory as chrono's 4-byte `NaiveDate` and serialised as its day number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Day(pub(crate) NaiveDate);

impl fmt::Debug for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use chrono::Datelike as _;
        self.0.num_days_from_ce().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let days = i32::deserialize(deserializer)?;
        NaiveDate::from_num_days_from_ce_opt(days)
            .map(Day)
            .ok_or_else(|| D::Error::custom("day number out of range"))
    }
}

/// Event ids serialised as one byte string (16 bytes behind a length), which decodes in one step
/// rather than as sixteen separate elements.
pub(crate) mod id_bytes {
    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    /// Writes the id as bytes.
    pub(crate) fn serialize<S: Serializer>(
        id: &[u8; 16],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(id)
    }

    /// Reads an id written by [`serialize`].
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<[u8; 16], D::Error> {
        struct Id;

        impl Visitor<'_> for Id {
            type Value = [u8; 16];

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("16 bytes")
            }

            fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<[u8; 16], E> {
                <[u8; 16]>::try_from(bytes).map_err(|_| E::invalid_length(bytes.len(), &self))
            }
        }

        deserializer.deserialize_bytes(Id)
    }
}

/// An interned street line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct StreetId(pub(crate) u32);

/// An interned relationship to the household head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct RelId(pub(crate) u16);

/// An address as the models keep it: packed unit and interned street line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct Addr {
    /// The commune or ward with its scheme.
    pub(crate) unit: Unit,
    /// The street line.
    pub(crate) street: StreetId,
}

/// Interned street lines and relationships, in first-seen (ledger) order.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Interner {
    /// Street lines by id.
    streets: Vec<StreetLine>,
    /// Relationships by id.
    relationships: Vec<Relationship>,
    /// Street line → id (rebuilt after decoding).
    #[serde(skip)]
    street_ids: FastMap<StreetLine, StreetId>,
    /// Relationship → id (rebuilt after decoding).
    #[serde(skip)]
    relationship_ids: FastMap<Relationship, RelId>,
}

/// Why interning failed: a table is full. → replay stops (fail-stop); the limits are far
/// beyond any real register (4 billion street lines, 65,536 relationship terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InternError {
    /// More distinct street lines than a 32-bit id can name.
    #[error("more than 2^32 distinct street lines")]
    Streets,
    /// More distinct relationship terms than a 16-bit id can name.
    #[error("more than 65536 distinct relationship terms")]
    Relationships,
}

impl Interner {
    /// The id of `street`, interning it on first sight.
    pub(crate) fn street(&mut self, street: &StreetLine) -> Result<StreetId, InternError> {
        if let Some(id) = self.street_ids.get(street) {
            return Ok(*id);
        }
        let id = StreetId(u32::try_from(self.streets.len()).map_err(|_| InternError::Streets)?);
        self.streets.push(street.clone());
        self.street_ids.insert(street.clone(), id);
        Ok(id)
    }

    /// The id of `relationship`, interning it on first sight.
    pub(crate) fn relationship(
        &mut self,
        relationship: &Relationship,
    ) -> Result<RelId, InternError> {
        if let Some(id) = self.relationship_ids.get(relationship) {
            return Ok(*id);
        }
        let id =
            RelId(u16::try_from(self.relationships.len()).map_err(|_| InternError::Relationships)?);
        self.relationships.push(relationship.clone());
        self.relationship_ids.insert(relationship.clone(), id);
        Ok(id)
    }

    /// The interned address of `address`.
    pub(crate) fn addr(&mut self, address: &Address) -> Result<Addr, InternError> {
        Ok(Addr {
            unit: Unit::pack(address.unit),
            street: self.street(&address.street)?,
        })
    }

    /// The street line of an id handed out by this interner.
    pub(crate) fn street_line(&self, id: StreetId) -> &StreetLine {
        // Ids are only handed out by `street`, and decoding checks every id in the state.
        self.streets
            .get(id.0 as usize)
            .expect("street ids come from this interner")
    }

    /// The relationship of an id handed out by this interner.
    pub(crate) fn relationship_of(&self, id: RelId) -> &Relationship {
        self.relationships
            .get(usize::from(id.0))
            .expect("relationship ids come from this interner")
    }

    /// Whether the relationship is `CHU_HO` (the head).
    pub(crate) fn is_head(&self, id: RelId) -> bool {
        matches!(self.relationship_of(id), Relationship::ChuHo)
    }

    /// The full address of an interned one.
    pub(crate) fn address(&self, addr: Addr) -> Address {
        Address {
            unit: addr.unit.unpack(),
            street: self.street_line(addr.street).clone(),
        }
    }

    /// Approximate heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        let strings: usize = self
            .streets
            .iter()
            .map(|street| street.as_str().len() + 16)
            .sum();
        // Each street is held twice (table and map key) plus the map's slot.
        strings * 2 + self.streets.capacity() * 24 + self.street_ids.capacity() * 32
    }

    /// Rebuilds the lookup maps after decoding.
    pub(crate) fn rebuild(&mut self) -> Result<(), InternError> {
        self.street_ids = FastMap::default();
        self.street_ids.reserve(self.streets.len());
        for (index, street) in self.streets.iter().enumerate() {
            let id = StreetId(u32::try_from(index).map_err(|_| InternError::Streets)?);
            self.street_ids.insert(street.clone(), id);
        }
        self.relationship_ids = FastMap::default();
        for (index, relationship) in self.relationships.iter().enumerate() {
            let id = RelId(u16::try_from(index).map_err(|_| InternError::Relationships)?);
            self.relationship_ids.insert(relationship.clone(), id);
        }
        Ok(())
    }

    /// Whether every id is one this interner handed out (checked after decoding).
    pub(crate) fn knows_street(&self, id: StreetId) -> bool {
        (id.0 as usize) < self.streets.len()
    }

    /// Whether the relationship id is one this interner handed out.
    pub(crate) fn knows_relationship(&self, id: RelId) -> bool {
        usize::from(id.0) < self.relationships.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_pack_and_unpack() {
        for text in ["legacy:00001", "2025:00097", "legacy:99999", "2025:00000"] {
            let unit: UnitRef = text.parse().unwrap();
            assert_eq!(Unit::pack(unit).unpack(), unit);
        }
        let legacy: UnitRef = "legacy:00097".parse().unwrap();
        let new: UnitRef = "2025:00097".parse().unwrap();
        assert_ne!(Unit::pack(legacy), Unit::pack(new));
    }

    #[test]
    fn out_of_range_packed_units_do_not_decode() {
        let bytes = postcard::to_allocvec(&(Y2025_BIT | 100_000)).unwrap();
        assert!(postcard::from_bytes::<Unit>(&bytes).is_err());
        let bytes = postcard::to_allocvec(&(1u32 << 21)).unwrap();
        assert!(postcard::from_bytes::<Unit>(&bytes).is_err());
    }

    #[test]
    fn interning_is_first_seen_order_and_survives_a_round_trip() {
        let mut interner = Interner::default();
        let a = StreetLine::parse("Số 1 phố Huế").unwrap();
        let b = StreetLine::parse("Số 2 phố Huế").unwrap();
        assert_eq!(interner.street(&a).unwrap(), StreetId(0));
        assert_eq!(interner.street(&b).unwrap(), StreetId(1));
        assert_eq!(interner.street(&a).unwrap(), StreetId(0));
        let head = interner.relationship(&Relationship::ChuHo).unwrap();
        assert!(interner.is_head(head));
        let bytes = postcard::to_allocvec(&interner).unwrap();
        let mut back: Interner = postcard::from_bytes(&bytes).unwrap();
        back.rebuild().unwrap();
        assert_eq!(back.street(&b).unwrap(), StreetId(1));
        assert_eq!(back.street_line(StreetId(0)), &a);
    }
}

/// A person's index in the person table (dense, in first-seen ledger order).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub(crate) struct PersonIdx(pub(crate) u32);

/// A household's index in the household table (dense, in first-seen ledger order).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub(crate) struct HouseholdIdx(pub(crate) u32);
