//! Online backup of a ledger directory (`residence_ledger::backup`): an idle ledger is
//! checkpointed and copied whole, a held one up to its server's latest checkpoint; the copy
//! verifies and opens on its own; a backup never writes into an existing directory.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use residence_ledger::backup::{BackupError, BackupProgress, backup};
use residence_ledger::clock::ClockMode;
use residence_ledger::directory::{Create, DirectoryOptions, LedgerDirectory, MANIFEST_FILE};
use residence_ledger::keys::{KeySource, SECRET_FILE, SIGNING_KEY_FILE};
use residence_ledger::ledger::{Appended, Limits};
use residence_ledger::record::Tag;

use crate::support::{SEGMENT_BYTES_MAX, blinded_kinds, record, request};

const PIN: &str = "pin:001234567890";

fn options() -> DirectoryOptions {
    DirectoryOptions {
        blinded_kinds: blinded_kinds(),
        key_source: KeySource::Seeded([11; 32]),
        origin: Some("test.example/backup".to_owned()),
        create: Create::IfMissing,
        clock: ClockMode::Supplied,
        limits: Limits::default(),
        segment_bytes_max: SEGMENT_BYTES_MAX,
    }
}

/// Appends records `from..to` (every third carries the PIN tag) and returns their answers.
fn append(directory: &LedgerDirectory, from: u64, to: u64) -> Vec<Appended> {
    let mut appended = Vec::new();
    for n in from..to {
        let tags: &[&str] = if n % 3 == 0 {
            &["person:p", PIN]
        } else {
            &["person:p"]
        };
        let mut new = record(n, tags);
        // About 1,000 bytes each, so that the ledger spans several segment files.
        new.payload = format!("{n:08}").repeat(125).into_bytes();
        let outcome = directory
            .ledger()
            .append_blocking(request(vec![new]))
            .expect("appends");
        appended.extend(outcome.records);
    }
    appended
}

fn run(source: &Path, target: &Path) -> (Result<u64, BackupError>, Vec<BackupProgress>) {
    let mut reported = Vec::new();
    let result = backup(source, target, ClockMode::Supplied, &mut |step| {
        reported.push(step);
    });
    (
        result.map(|report| {
            assert_eq!(report.verified.records, report.checkpoint_size);
            report.checkpoint_size
        }),
        reported,
    )
}

#[test]
fn an_idle_ledger_is_checkpointed_copied_whole_and_the_copy_verifies_and_opens() {
    let temp = tempfile::tempdir().expect("temp dir");
    let source = temp.path().join("ledger");
    let target = temp.path().join("copy");
    let (appended, root) = {
        let directory = LedgerDirectory::open(&source, &options()).expect("creates the ledger");
        let appended = append(&directory, 0, 150);
        (appended, directory.ledger().tree_head().1)
    };
    assert!(
        std::fs::read_dir(source.join("segments"))
            .expect("lists segments")
            .count()
            > 1,
        "the ledger spans several segment files"
    );

    let (result, reported) = run(&source, &target);
    assert_eq!(result.expect("the backup succeeds"), 150);
    assert_eq!(reported.first(), Some(&BackupProgress::Checkpointing));
    assert!(reported.contains(&BackupProgress::Copying {
        done: 150,
        total: 150
    }));
    assert!(reported.contains(&BackupProgress::Verifying {
        checked: 0,
        total: 150
    }));
    let copying = reported
        .iter()
        .position(|step| matches!(step, BackupProgress::Copying { .. }));
    let verifying = reported
        .iter()
        .position(|step| matches!(step, BackupProgress::Verifying { .. }));
    assert!(copying < verifying, "copying is reported before verifying");

    let mode = |path: &Path| {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&target), 0o700);
    assert_eq!(mode(&target.join(SIGNING_KEY_FILE)), 0o600);
    assert_eq!(mode(&target.join(SECRET_FILE)), 0o600);

    let copy = LedgerDirectory::open(
        &target,
        &DirectoryOptions {
            create: Create::Never,
            ..options()
        },
    )
    .expect("the copy opens");
    assert_eq!(copy.ledger().head().size, 150);
    assert_eq!(copy.ledger().tree_head().1, root);
    for expected in &appended {
        let stored = copy.ledger().read(expected.position).expect("reads");
        assert_eq!(stored.record_hash, expected.record_hash);
    }
    // The keys came along: the copy finds the PIN's records by its given form.
    let pin = Tag::new(PIN).expect("valid tag");
    assert_eq!(
        copy.ledger()
            .try_positions_by_tag(&pin, None, 1000)
            .expect("reads by tag")
            .len(),
        50
    );
}

/// A ledger held by a running server is copied up to the server's latest checkpoint, not
/// beyond: the records appended after it are left for the next backup.
#[test]
fn a_held_ledger_is_copied_up_to_its_latest_checkpoint() {
    let temp = tempfile::tempdir().expect("temp dir");
    let source = temp.path().join("ledger");
    let directory = LedgerDirectory::open(&source, &options()).expect("creates the ledger");
    append(&directory, 0, 40);

    let (result, _) = run(&source, &temp.path().join("too-early"));
    match result {
        Err(BackupError::NoCheckpoint { source_dir }) => assert_eq!(source_dir, source),
        other => panic!("expected NoCheckpoint, got {other:?}"),
    }

    directory
        .ledger()
        .checkpoint(&directory.signer())
        .expect("checkpoint");
    append(&directory, 40, 55);
    let (result, _) = run(&source, &temp.path().join("copy"));
    assert_eq!(result.expect("the backup succeeds"), 40);
    assert_eq!(
        directory.ledger().head().size,
        55,
        "the source is untouched"
    );
}

#[test]
fn a_backup_refuses_an_existing_target_and_writes_nothing_into_it() {
    let temp = tempfile::tempdir().expect("temp dir");
    let source = temp.path().join("ledger");
    drop(LedgerDirectory::open(&source, &options()).expect("creates the ledger"));
    let target = temp.path().join("existing");
    std::fs::create_dir(&target).expect("creates the target");

    let (result, reported) = run(&source, &target);
    match result {
        Err(BackupError::TargetExists { target: named }) => assert_eq!(named, target),
        other => panic!("expected TargetExists, got {other:?}"),
    }
    assert!(reported.is_empty(), "refused before any work: {reported:?}");
    assert_eq!(
        std::fs::read_dir(&target)
            .expect("lists the target")
            .count(),
        0
    );
}

#[test]
fn a_backup_refuses_a_source_without_a_ledger() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (result, _) = run(temp.path(), &temp.path().join("copy"));
    match result {
        Err(BackupError::NoLedger { source_dir }) => {
            assert_eq!(source_dir, temp.path());
            assert!(!source_dir.join(MANIFEST_FILE).exists());
        }
        other => panic!("expected NoLedger, got {other:?}"),
    }
    assert!(!temp.path().join("copy").exists());
}
