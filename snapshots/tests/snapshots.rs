//! Snapshots: written atomically, the newest few kept, used only when intact and confirmed by
//! the ledger; a corrupted, stale, older-code or other-unit-data snapshot is skipped and the
//! result is always what a full replay gives.

#![allow(
    clippy::unwrap_used,
    reason = "an integration test binary: a failed unwrap is a failed test"
)]

use std::fs;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use residence_ledger::ledger::Ledger;
use residence_projections::Projections;
use residence_sim::synthetic::{SyntheticConfig, generate, memory_ledger};
use residence_snapshots::{HEADER_BYTES, SkipReason, SnapshotStore};

fn synthetic(persons: u64, seed: u64) -> Ledger {
    let ledger = memory_ledger().unwrap();
    generate(&ledger, &SyntheticConfig { persons, seed }).unwrap();
    ledger
}

/// Projections of `ledger` folded up to `position`.
fn at(ledger: &Ledger, position: u64) -> Projections {
    let mut projections = Projections::new(ledger.genesis_hash());
    projections.catch_up_to(ledger, 2, position).unwrap();
    projections
}

fn rebuilt(ledger: &Ledger) -> Vec<u8> {
    at(ledger, u64::MAX).to_bytes()
}

/// Rewrites a snapshot file's header field at `offset` and fixes the checksum, as an older
/// binary (or one with other unit data) would have written it.
fn rewrite_header(path: &std::path::Path, offset: usize, value: &[u8]) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset..offset + value.len()].copy_from_slice(value);
    let mut hasher = blake3::Hasher::new();
    hasher.update(&bytes[..96]);
    hasher.update(&bytes[HEADER_BYTES..]);
    let checksum = *hasher.finalize().as_bytes();
    bytes[96..128].copy_from_slice(&checksum);
    fs::write(path, bytes).unwrap();
}

#[test]
fn restore_uses_the_newest_snapshot_and_replays_only_the_tail() {
    let ledger = synthetic(60, 1);
    let head = ledger.head().size;
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(dir.path(), 3).unwrap();
    let written = store.write(&at(&ledger, head / 2)).unwrap();
    assert_eq!(written.file.position, head / 2);
    assert!(written.removed.is_empty());
    let restored = store.restore(&ledger, 2).unwrap();
    assert_eq!(restored.used, Some(written.file));
    assert!(restored.skipped.is_empty());
    assert_eq!(restored.replay.records, head - head / 2);
    assert_eq!(restored.projections.to_bytes(), rebuilt(&ledger));
    // Nothing but the snapshot is left in the directory (no temporary file).
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, [format!("snapshot-{:020}.bin", head / 2)]);
}

#[test]
fn only_the_newest_few_are_kept() {
    let ledger = synthetic(30, 2);
    let head = ledger.head().size;
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(dir.path(), 3).unwrap();
    let positions = [head / 5, 2 * head / 5, 3 * head / 5, 4 * head / 5, head];
    for position in positions {
        store.write(&at(&ledger, position)).unwrap();
    }
    let kept: Vec<u64> = store.list().unwrap().iter().map(|f| f.position).collect();
    assert_eq!(kept, [positions[4], positions[3], positions[2]]);
}

#[test]
fn a_corrupted_snapshot_is_detected_and_the_older_one_used() {
    let ledger = synthetic(40, 3);
    let head = ledger.head().size;
    let expected = rebuilt(&ledger);
    let seed: u64 = StdRng::from_os_rng().random();
    println!("seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..8 {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path(), 3).unwrap();
        let older = store.write(&at(&ledger, head / 3)).unwrap();
        let newer = store.write(&at(&ledger, 2 * head / 3)).unwrap();
        // Flip one bit anywhere in the newer file: header or body.
        let mut bytes = fs::read(&newer.file.path).unwrap();
        let bit = rng.random_range(0..bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        fs::write(&newer.file.path, bytes).unwrap();
        let restored = store.restore(&ledger, 2).unwrap();
        assert_eq!(restored.skipped.len(), 1, "bit {bit} (seed {seed})");
        assert_eq!(restored.skipped[0].file, newer.file);
        assert_eq!(
            restored.used,
            Some(older.file.clone()),
            "bit {bit} (seed {seed})"
        );
        assert_eq!(restored.projections.to_bytes(), expected);
    }
}

#[test]
fn a_stale_snapshot_of_another_history_is_not_used() {
    // Two ledgers with the same genesis (same origin) but different records: a snapshot of one
    // names a head the other does not have.
    let ledger = synthetic(40, 4);
    let other = synthetic(40, 5);
    let position = ledger.head().size.min(other.head().size) / 2;
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(dir.path(), 3).unwrap();
    store.write(&at(&other, position)).unwrap();
    let restored = store.restore(&ledger, 2).unwrap();
    assert_eq!(restored.used, None);
    assert_eq!(
        restored.skipped[0].reason,
        SkipReason::HeadMismatch { position }
    );
    assert_eq!(restored.projections.to_bytes(), rebuilt(&ledger));
    // A snapshot ahead of the ledger (e.g. the ledger was restored from an older backup).
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(dir.path(), 3).unwrap();
    let ahead = other.head().size;
    let short = ledger_prefix(&other, ahead / 2);
    store.write(&at(&other, ahead)).unwrap();
    let restored = store.restore(&short, 1).unwrap();
    assert!(matches!(
        restored.skipped[0].reason,
        SkipReason::AheadOfLedger { .. }
    ));
    assert_eq!(restored.projections.to_bytes(), rebuilt(&short));
}

/// A ledger holding the first `size` records of `source`.
fn ledger_prefix(source: &Ledger, size: u64) -> Ledger {
    use residence_ledger::ledger::{AppendRequest, NewRecord};
    use residence_ledger::record::{Payload, Position};
    let copy = memory_ledger().unwrap();
    for record in source.read_range(Position(0), Position(size)).unwrap() {
        // The generator erases nothing, so every payload is present.
        let Payload::Present { bytes, .. } = record.payload else {
            continue;
        };
        let tags = record
            .record
            .tags
            .iter()
            .map(|link| residence_ledger::record::Tag::new(link.tag.as_str()).unwrap())
            .collect();
        copy.append_blocking(AppendRequest {
            records: vec![NewRecord {
                event_id: record.record.event_id,
                event_type: record.record.event_type.clone(),
                schema_version: record.record.schema_version,
                tags,
                metadata: record.record.metadata.clone(),
                payload: bytes,
            }],
            condition: None,
            recorded_at: Some(record.record.recorded_at),
        })
        .unwrap();
    }
    assert_eq!(copy.head().size, size);
    copy
}

#[test]
fn older_code_and_other_unit_data_are_not_used() {
    let ledger = synthetic(30, 6);
    let head = ledger.head().size;
    let expected = rebuilt(&ledger);
    for (offset, value, reason) in [
        (
            12,
            (residence_projections::STATE_VERSION - 1)
                .to_le_bytes()
                .to_vec(),
            SkipReason::CodeVersion {
                found: residence_projections::STATE_VERSION - 1,
            },
        ),
        (16, vec![0xAB; 32], SkipReason::UnitData),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(dir.path(), 3).unwrap();
        let written = store.write(&at(&ledger, head / 2)).unwrap();
        rewrite_header(&written.file.path, offset, &value);
        let restored = store.restore(&ledger, 2).unwrap();
        assert_eq!(restored.used, None);
        assert_eq!(restored.skipped.len(), 1);
        assert_eq!(restored.skipped[0].reason, reason);
        assert_eq!(restored.replay.records, head, "a full replay");
        assert_eq!(restored.projections.to_bytes(), expected);
    }
}
