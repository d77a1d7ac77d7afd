//! The person table: every person the ledger names, with their current PIN and their compact
//! residence facts, plus the PIN index officers and courts look people up by.
//!
//! Persons get a dense index in the order the ledger first names them, so the table's bytes are
//! the same however it was reached. The maps by id and by PIN are rebuilt from the table after
//! decoding a snapshot.

use residence_domain::ids::PersonId;
use residence_domain::pin::Pin;
use serde::{Deserialize, Serialize};

use crate::compact::FastMap;

pub(crate) use crate::compact::PersonIdx;
use crate::fact::Fact;

/// One person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Person {
    /// Their id.
    pub(crate) id: u64,
    /// Their current PIN (12 digits as a number), once recorded.
    pub(crate) pin: Option<u64>,
    /// Their residence facts in ledger order.
    pub(crate) facts: Vec<Fact>,
}

/// Every person, by dense index.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Persons {
    /// The persons in first-seen order.
    #[serde(with = "chunked")]
    pub(crate) table: Vec<Person>,
    /// Current PIN → person, as sorted pairs in the encoding (rebuilt into the map on decode).
    #[serde(skip)]
    by_pin: FastMap<u64, PersonIdx>,
    /// Id → index (rebuilt after decoding).
    #[serde(skip)]
    index: FastMap<u64, PersonIdx>,
}

impl Persons {
    /// The index of `id`, adding the person on first sight.
    pub(crate) fn index_of(&mut self, id: PersonId) -> PersonIdx {
        if let Some(index) = self.index.get(&id.get()) {
            return *index;
        }
        // More than 4 billion persons would exhaust memory long before the index.
        let index = PersonIdx(u32::try_from(self.table.len()).unwrap_or(u32::MAX));
        self.table.push(Person {
            id: id.get(),
            pin: None,
            facts: Vec::new(),
        });
        self.index.insert(id.get(), index);
        index
    }

    /// The index of `id`, if known.
    pub(crate) fn find(&self, id: PersonId) -> Option<PersonIdx> {
        self.index.get(&id.get()).copied()
    }

    /// The person at `index`.
    pub(crate) fn get(&self, index: PersonIdx) -> Option<&Person> {
        self.table.get(index.0 as usize)
    }

    /// The person at `index`, mutably.
    pub(crate) fn get_mut(&mut self, index: PersonIdx) -> Option<&mut Person> {
        self.table.get_mut(index.0 as usize)
    }

    /// The id of the person at `index`.
    pub(crate) fn id_of(&self, index: PersonIdx) -> PersonId {
        PersonId::new(self.get(index).map_or(0, |person| person.id))
    }

    /// The person holding `pin` now.
    pub(crate) fn by_pin(&self, pin: Pin) -> Option<PersonIdx> {
        self.by_pin.get(&pin.get()).copied()
    }

    /// `person` holds `pin` from now on; `released` is a PIN they no longer hold.
    pub(crate) fn set_pin(&mut self, person: PersonIdx, pin: Pin, released: Option<Pin>) {
        if let Some(old) = released
            && self.by_pin.get(&old.get()) == Some(&person)
        {
            self.by_pin.remove(&old.get());
        }
        if let Some(entry) = self.get_mut(person) {
            if let Some(previous) = entry.pin.replace(pin.get())
                && previous != pin.get()
                && self.by_pin.get(&previous) == Some(&person)
            {
                self.by_pin.remove(&previous);
            }
            self.by_pin.insert(pin.get(), person);
        }
    }

    /// The PIN index as sorted pairs (the encoded form).
    pub(crate) fn pin_pairs(&self) -> Vec<(u64, u32)> {
        let mut pairs: Vec<(u64, u32)> = self
            .by_pin
            .iter()
            .map(|(pin, person)| (*pin, person.0))
            .collect();
        pairs.sort_unstable();
        pairs
    }

    /// The maps by id and by PIN, rebuilt from the table and the encoded PIN pairs.
    pub(crate) fn maps(
        &self,
        pins: &[(u64, u32)],
    ) -> (FastMap<u64, PersonIdx>, FastMap<u64, PersonIdx>) {
        let index = self
            .table
            .iter()
            .enumerate()
            .map(|(index, person)| {
                (
                    person.id,
                    PersonIdx(u32::try_from(index).unwrap_or(u32::MAX)),
                )
            })
            .collect();
        let by_pin = pins
            .iter()
            .map(|&(pin, person)| (pin, PersonIdx(person)))
            .collect();
        (index, by_pin)
    }

    /// Installs maps built by [`Persons::maps`].
    pub(crate) fn set_maps(&mut self, maps: (FastMap<u64, PersonIdx>, FastMap<u64, PersonIdx>)) {
        (self.index, self.by_pin) = maps;
    }

    /// The number of persons.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Approximate heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        let table = self.table.capacity() * std::mem::size_of::<Person>();
        let facts: usize = self
            .table
            .iter()
            .map(|person| {
                person.facts.capacity() * std::mem::size_of::<Fact>()
                    + person
                        .facts
                        .iter()
                        .filter(|fact| matches!(fact.body, crate::fact::Body::Correction { .. }))
                        .count()
                        * std::mem::size_of::<crate::fact::Body>()
            })
            .sum();
        // A hash map slot holds the key, the value and a control byte, at 7/8 load.
        let maps = (self.index.capacity() + self.by_pin.capacity()) * 13;
        table + facts + maps
    }
}

/// The person table encoded as independent blocks of [`chunked::PERSONS_PER_BLOCK`] persons, so
/// that a snapshot's largest part is encoded and decoded on several threads (start-up time is a
/// target). The block size is fixed, so the bytes do not depend on the number of threads.
mod chunked {
    use serde::de::{Error as _, Visitor};
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Person;

    /// Persons per encoded block.
    pub(super) const PERSONS_PER_BLOCK: usize = 1 << 16;

    /// Threads used to encode or decode the blocks.
    const THREADS: usize = 2;

    /// One encoded block, written as a byte string.
    struct Blob<'a>(&'a [u8]);

    impl Serialize for Blob<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(self.0)
        }
    }

    impl<'de> Deserialize<'de> for Blob<'de> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Borrowed;

            impl<'de> Visitor<'de> for Borrowed {
                type Value = Blob<'de>;

                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an encoded block of persons")
                }

                fn visit_borrowed_bytes<E: serde::de::Error>(
                    self,
                    bytes: &'de [u8],
                ) -> Result<Blob<'de>, E> {
                    Ok(Blob(bytes))
                }
            }

            deserializer.deserialize_bytes(Borrowed)
        }
    }

    /// Runs `work` on every block index, spread over [`THREADS`] threads; results in block
    /// order.
    fn parallel<T: Send>(blocks: usize, work: impl Fn(usize) -> T + Sync) -> Vec<Option<T>> {
        let work = &work;
        let mut results: Vec<Option<T>> = (0..blocks).map(|_| None).collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|thread| {
                    scope.spawn(move || {
                        (thread..blocks)
                            .step_by(THREADS)
                            .map(|block| (block, work(block)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for handle in handles {
                // A panicking block leaves its slot empty, which the callers report as an
                // encoding failure.
                for (block, result) in handle.join().unwrap_or_default() {
                    if let Some(slot) = results.get_mut(block) {
                        *slot = Some(result);
                    }
                }
            }
        });
        results
    }

    pub(super) fn serialize<S: Serializer>(
        table: &[Person],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let blocks: Vec<&[Person]> = table.chunks(PERSONS_PER_BLOCK).collect();
        let encoded = parallel(blocks.len(), |block| {
            postcard::to_allocvec(blocks.get(block).copied().unwrap_or(&[]))
        });
        let mut bytes = Vec::with_capacity(encoded.len());
        for block in encoded {
            bytes.push(
                block
                    .ok_or_else(|| S::Error::custom("a block encoder stopped"))?
                    .map_err(S::Error::custom)?,
            );
        }
        let blobs: Vec<Blob<'_>> = bytes.iter().map(|block| Blob(block)).collect();
        blobs.serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Person>, D::Error> {
        let blobs: Vec<Blob<'de>> = Vec::deserialize(deserializer)?;
        let decoded = parallel(blobs.len(), |block| {
            postcard::from_bytes::<Vec<Person>>(blobs.get(block).map_or(&[][..], |blob| blob.0))
        });
        let count = decoded.len();
        let mut table = Vec::with_capacity(count * PERSONS_PER_BLOCK);
        for (index, block) in decoded.into_iter().enumerate() {
            let block = block
                .ok_or_else(|| D::Error::custom("a block decoder stopped"))?
                .map_err(D::Error::custom)?;
            // Every block but the last is full: anything else is a damaged encoding.
            if index + 1 < count && block.len() != PERSONS_PER_BLOCK {
                return Err(D::Error::custom("short block of persons"));
            }
            table.extend(block);
        }
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_of_several_blocks_round_trips() {
        let mut persons = Persons::default();
        let count = chunked::PERSONS_PER_BLOCK * 2 + 17;
        for id in 0..count as u64 {
            let index = persons.index_of(PersonId::new(id * 7 + 1));
            persons.set_pin(index, "001080000001".parse().unwrap(), None);
        }
        let bytes = postcard::to_allocvec(&persons).unwrap();
        let mut back: Persons = postcard::from_bytes(&bytes).unwrap();
        back.set_maps(back.maps(&persons.pin_pairs()));
        assert_eq!(back.table, persons.table);
        assert_eq!(
            back.find(PersonId::new(7 * 70_000 + 1)),
            Some(PersonIdx(70_000))
        );
        assert_eq!(postcard::to_allocvec(&back).unwrap(), bytes);
    }
}
