//! An in-memory segment store: the reference model for the conformance suite and the backend
//! of tests that exercise the layers above storage. It is not durable and never used by the
//! `residence` binary for a real ledger.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::RwLock;

use super::{Location, SegmentStore, StoreError};

/// Records kept in a vector; "durable" as soon as `append` returns.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: RwLock<Vec<Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn records(&self) -> std::sync::RwLockReadGuard<'_, Vec<Vec<u8>>> {
        // A poisoned lock means a panic while holding it, which is a bug in this file.
        self.records
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn records_mut(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Vec<u8>>> {
        self.records
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SegmentStore for MemoryStore {
    fn len(&self) -> u64 {
        self.records().len() as u64
    }

    fn append(&self, records: &[&[u8]]) -> Result<(), StoreError> {
        if records.iter().any(|record| record.is_empty()) {
            return Err(StoreError::Invalid("empty record".to_owned()));
        }
        self.records_mut()
            .extend(records.iter().map(|record| record.to_vec()));
        Ok(())
    }

    fn read(&self, position: u64) -> Result<Vec<u8>, StoreError> {
        let records = self.records();
        let len = records.len() as u64;
        usize::try_from(position)
            .ok()
            .and_then(|index| records.get(index))
            .cloned()
            .ok_or(StoreError::OutOfRange { position, len })
    }

    fn scan(
        &self,
        from: u64,
        to: u64,
        visit: &mut dyn FnMut(u64, &[u8]) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let records = self.records();
        let to = to.min(records.len() as u64);
        for position in from..to {
            let index = usize::try_from(position).map_err(|_| StoreError::OutOfRange {
                position,
                len: records.len() as u64,
            })?;
            if visit(position, &records[index]).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn location(&self, position: u64) -> Option<Location> {
        (position < self.len()).then(|| Location {
            file: PathBuf::from("<memory>"),
            offset: position,
        })
    }

    fn truncate_torn(&self, from: u64) -> Result<(), StoreError> {
        let mut records = self.records_mut();
        let keep = usize::try_from(from)
            .unwrap_or(usize::MAX)
            .min(records.len());
        records.truncate(keep);
        Ok(())
    }

    fn zero_range(&self, position: u64, offset: usize, len: usize) -> Result<(), StoreError> {
        let mut records = self.records_mut();
        let count = records.len() as u64;
        let out_of_range = StoreError::OutOfRange {
            position,
            len: count,
        };
        let record = usize::try_from(position)
            .ok()
            .and_then(|index| records.get_mut(index))
            .ok_or(out_of_range)?;
        let end = offset
            .checked_add(len)
            .filter(|end| *end <= record.len())
            .ok_or(StoreError::Invalid(format!(
                "zero range {offset}+{len} outside record {position}"
            )))?;
        record[offset..end].fill(0);
        Ok(())
    }
}
