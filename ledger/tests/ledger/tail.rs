//! The live tail, checkpoints, proofs and the on-disk tree, on both backends.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;

use futures_core::Stream;
use residence_ledger::checkpoint::SignedNote;
use residence_ledger::ledger::{Ledger, Subscription};
use residence_ledger::record::{Position, StoredRecord};
use residence_ledger::verify::{CheckpointProblem, VerifyError, VerifyOptions, verify};

use crate::support::{
    Backend, Backing, backend_tests, config, open, origin, record, request, signer, write_at,
};

backend_tests!(
    a_subscription_catches_up_then_follows_new_appends,
    checkpoints_are_signed_stored_and_checked_by_verify,
    the_disk_tree_survives_reopening_and_is_rebuilt_when_deleted,
);

async fn next(subscription: &mut Subscription) -> Option<StoredRecord> {
    poll_fn(|cx| Pin::new(&mut *subscription).poll_next(cx))
        .await
        .map(|item| item.expect("reads"))
}

fn a_subscription_catches_up_then_follows_new_appends(backend: Backend) {
    let backing = Backing::new(backend);
    let ledger = Arc::new(open(backing.store()));
    for n in 0..3 {
        ledger
            .append_blocking(request(vec![record(n, &["person:a"])]))
            .expect("appends");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let mut subscription = ledger.subscribe(Position(1));
    let seen = runtime.block_on(async {
        let mut seen = Vec::new();
        for _ in 0..2 {
            seen.push(
                next(&mut subscription)
                    .await
                    .expect("record")
                    .record
                    .position
                    .0,
            );
        }
        // New appends arrive while the subscriber waits.
        let writer = {
            let ledger = Arc::clone(&ledger);
            tokio::task::spawn_blocking(move || {
                for n in 3..6 {
                    ledger
                        .append_blocking(request(vec![record(n, &[])]))
                        .expect("appends");
                }
            })
        };
        for _ in 0..3 {
            seen.push(
                next(&mut subscription)
                    .await
                    .expect("record")
                    .record
                    .position
                    .0,
            );
        }
        writer.await.expect("writer");
        seen
    });
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    assert_eq!(subscription.next_position(), Position(6));
    // Once the ledger is closed the stream ends after the last durable record.
    let mut late = ledger.subscribe(Position(4));
    drop(Arc::into_inner(ledger).expect("last handle"));
    let rest = runtime.block_on(async {
        let mut rest = Vec::new();
        while let Some(record) = next(&mut late).await {
            rest.push(record.record.position.0);
        }
        rest
    });
    assert_eq!(rest, [4, 5]);
}

fn checkpoints_are_signed_stored_and_checked_by_verify(backend: Backend) {
    let backing = Backing::new(backend);
    let checkpoints = backing.path("checkpoints");
    let store = backing.store();
    let ledger = checkpointing_ledger(&backing, Arc::clone(&store));
    let (signer, verifier) = signer();

    let empty = ledger
        .checkpoint(&signer)
        .expect("checkpoint of the empty ledger");
    let empty = empty
        .verify(std::slice::from_ref(&verifier))
        .expect("signature verifies");
    assert_eq!(empty.size, 0);
    assert_eq!(empty.head, ledger.genesis_hash());
    for n in 0..7 {
        ledger
            .append_blocking(request(vec![record(n, &["person:a"])]))
            .expect("appends");
    }
    let note = ledger.checkpoint(&signer).expect("checkpoint");
    let checkpoint = note
        .verify(std::slice::from_ref(&verifier))
        .expect("signature verifies");
    assert_eq!(checkpoint.size, 7);
    assert_eq!(checkpoint.origin, origin());
    assert_eq!(checkpoint.head, ledger.head().hash);
    assert_eq!(checkpoint.root, ledger.root_at(7).expect("root"));
    let file = checkpoints.join("00000000000000000007.note");
    let stored = SignedNote::from_bytes(&std::fs::read(&file).expect("stored")).expect("parses");
    assert_eq!(stored, note);

    // Every record is provably in the checkpointed tree; the earlier tree is a prefix.
    for index in 0..7u64 {
        let proof = ledger.inclusion_proof(index, 7).expect("proof");
        let hash = ledger.read(Position(index)).expect("reads").record_hash;
        proof
            .verify(&hash, &checkpoint.root)
            .expect("inclusion verifies");
    }
    ledger
        .append_blocking(request(vec![record(7, &[])]))
        .expect("appends");
    let consistency = ledger.consistency_proof(7, 8).expect("proof");
    consistency
        .verify(&checkpoint.root, &ledger.root_at(8).expect("root"))
        .expect("consistency verifies");

    let keys = [verifier];
    let origin = origin();
    let options = VerifyOptions {
        origin: &origin,
        checkpoint_dir: Some(&checkpoints),
        keys: &keys,
    };
    let report = verify(&*store, &options, &mut |_| {}).expect("verifies");
    assert_eq!((report.records, report.checkpoints), (8, 2));

    // A checkpoint beyond the log means records were lost.
    drop(ledger);
    store.truncate_torn(6).expect("truncates");
    match verify(&*store, &options, &mut |_| {}) {
        Err(VerifyError::Checkpoint {
            problem: CheckpointProblem::BeyondLog { size, len },
            ..
        }) => {
            assert_eq!((size, len), (7, 6));
        }
        other => panic!("expected a checkpoint beyond the log, got {other:?}"),
    }
}

/// A ledger over `store` that keeps its tree and checkpoints in the backing's directory.
fn checkpointing_ledger(
    backing: &Backing,
    store: Arc<dyn residence_ledger::store::SegmentStore>,
) -> Ledger {
    let mut ledger_config = config(store);
    ledger_config.checkpoint_dir = Some(backing.path("checkpoints"));
    ledger_config.tree_dir = Some(backing.path("tree"));
    Ledger::open(ledger_config).expect("opens")
}

/// The stored checkpoint is the same file whatever the backend, so this runs on one.
#[test]
fn every_flipped_bit_of_a_stored_checkpoint_is_detected() {
    let backing = Backing::new(Backend::Memory);
    let store = backing.store();
    let ledger = checkpointing_ledger(&backing, Arc::clone(&store));
    let (signer, verifier) = signer();
    for n in 0..7 {
        ledger
            .append_blocking(request(vec![record(n, &["person:a"])]))
            .expect("appends");
    }
    ledger.checkpoint(&signer).expect("checkpoint");
    let checkpoints = backing.path("checkpoints");
    let file = checkpoints.join("00000000000000000007.note");
    let keys = [verifier];
    let origin = origin();
    let options = VerifyOptions {
        origin: &origin,
        checkpoint_dir: Some(&checkpoints),
        keys: &keys,
    };
    assert_eq!(
        verify(&*store, &options, &mut |_| {})
            .expect("verifies")
            .checkpoints,
        1
    );
    let original = std::fs::read(&file).expect("reads");
    for bit in 0..original.len() * 8 {
        let mut damaged = original.clone();
        damaged[bit / 8] ^= 1 << (bit % 8);
        // Overwritten in place: truncating and rewriting makes ext4 flush the file each time.
        write_at(&file, 0, &damaged);
        let result = verify(&*store, &options, &mut |_| {});
        assert!(
            matches!(result, Err(VerifyError::Checkpoint { .. })),
            "bit {bit} of the checkpoint went unnoticed: {result:?}"
        );
    }
    write_at(&file, 0, &original);
    verify(&*store, &options, &mut |_| {}).expect("verifies again");
}

fn the_disk_tree_survives_reopening_and_is_rebuilt_when_deleted(backend: Backend) {
    let backing = Backing::new(backend);
    let tree_config = || {
        let mut ledger_config = config(backing.store());
        ledger_config.tree_dir = Some(backing.path("tree"));
        ledger_config
    };
    let root = {
        let ledger = Ledger::open(tree_config()).expect("opens");
        for n in 0..10 {
            ledger
                .append_blocking(request(vec![record(n, &[])]))
                .expect("appends");
        }
        ledger.tree_head()
    };
    assert_eq!(root.0, 10);
    let ledger = Ledger::open(tree_config()).expect("reopens");
    assert_eq!(ledger.tree_head(), root);
    drop(ledger);
    std::fs::remove_dir_all(backing.path("tree")).expect("deletes");
    let ledger = Ledger::open(tree_config()).expect("reopens");
    assert_eq!(ledger.tree_head(), root, "rebuilt from the log");
    ledger
        .append_blocking(request(vec![record(10, &[])]))
        .expect("appends");
    let origin = origin();
    let options = VerifyOptions {
        origin: &origin,
        checkpoint_dir: None,
        keys: &[],
    };
    assert_eq!(
        verify(&**ledger.store(), &options, &mut |_| {})
            .expect("verifies")
            .root,
        ledger.tree_head().1
    );
}

/// A supplied request time beyond what a date-time can hold is stored (it is the caller's
/// time), but a checkpoint refuses to be signed with it rather than state some other time.
#[test]
fn a_checkpoint_refuses_a_time_it_cannot_state() {
    let ledger = open(crate::support::memory_store());
    let mut far = request(vec![record(1, &["person:a"])]);
    far.recorded_at = Some(residence_ledger::record::Timestamp(i64::MAX));
    ledger.append_blocking(far).expect("appends");
    let (signer, _) = signer();
    match ledger.checkpoint(&signer) {
        Err(residence_ledger::ledger::CheckpointWriteError::TimeOutOfRange { time }) => {
            assert_eq!(time.micros(), i64::MAX);
        }
        other => panic!("expected TimeOutOfRange, got {other:?}"),
    }
}
