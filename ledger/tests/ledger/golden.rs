//! The golden ledger of format version 1: a small ledger directory written once and committed
//! under `tests/golden/v1/`, which every later version must still verify and read with the same
//! hashes, roots and fields (STYLE: "golden ledger files from earlier versions stay readable
//! and verifiable").
//!
//! What is committed: `ledger.json`, `ledger.pub`, `segments/` and `checkpoints/`, the files an
//! auditor verifies with. The key files are not: verification needs no secret, and the keys are
//! derived from [`KEY_SEED`] (`KeySource::Seeded`), so the test re-creates them in its copy when
//! it needs them (to read a `pin:` tag by its given form, and to append). Derived files (`tree/`,
//! `index/`) and `LOCK` are not committed either; the test works on a copy in a temporary
//! directory, so opening never touches the committed files.
//!
//! The files are written by this test only when `RESIDENCE_WRITE_GOLDEN=1` is set, never in a
//! normal run. Writing is deterministic (seeded keys, supplied clock, fixed content), so the
//! same code writes the same bytes; a version that writes v1 differently must not rewrite them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use residence_ledger::checkpoint::{Origin, SignedNote, VerifierKey};
use residence_ledger::clock::ClockMode;
use residence_ledger::directory::{
    Create, DirectoryOptions, LedgerDirectory, Manifest, verify_directory,
};
use residence_ledger::keys::{KeySource, LedgerKeys};
use residence_ledger::ledger::{
    AppendRequest, AppendStatus, Condition, Erasure, Ledger, LedgerConfig, Limits, NewRecord,
};
use residence_ledger::record::{
    BlindedKinds, EventId, EventType, Payload, Position, SchemaVersion, Tag, Timestamp,
    genesis_hash,
};
use residence_ledger::store::file::{FileStore, FileStoreOptions};

/// Set to `1` to (re)write the golden files.
const WRITE_ENV: &str = "RESIDENCE_WRITE_GOLDEN";
/// The seed of the golden ledger's keys.
const KEY_SEED: [u8; 32] = *b"residence golden ledger v1 seed!";
/// The golden ledger's origin.
const ORIGIN: &str = "residence-ledger/golden-v1";
/// Small segments, so that the golden ledger spans several segment files.
const SEGMENT_BYTES_MAX: u64 = 4096;
/// 2025-07-01T08:30:00Z, the time of the first record.
const T0: i64 = 1_751_358_600_000_000;
/// The record whose payload is erased.
const ERASED: u64 = 2;
/// The PIN carried by record 0, as a `pin:` tag.
const PIN: &str = "pin:001234567890";

// The pinned facts of the golden ledger.
const RECORDS: u64 = 20;
const SEGMENT_FILES: usize = 4;
const CHECKPOINT_SIZES: [u64; 2] = [10, 20];
const HEAD_HASH: &str = "5fd3e551d6a86601898b59a2cac887531bea98bb442f96e92b9f834c4e5be89c";
const ROOT: &str = "320fb5b691bdf70dbfb2aac24783ac9aa716d9fc29f22681041bbfb8d0b8abae";
const ROOT_AT_10: &str = "108870c6ba21e5588ca28255e4b533924fad0bbb51f761a12cfd16fc6d020711";
const RECORD_7_HASH: &str = "bb9532f06ead58c9ce29821172492449cebff31f323109eadf27a36adc11af3f";
const BLINDED_PIN: &str = "pin:89d5df2e94d2b29797cd9be7a570c043";
const PIN_POSITIONS: [u64; 4] = [0, 5, 13, 17];
const ERASED_LEN: u32 = 31;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/v1")
}

/// The golden ledger blinds `pin`, as its manifest says; the kinds are named by the test, since
/// the ledger has no default list.
fn blinded_kinds() -> BlindedKinds {
    BlindedKinds::new(["pin"]).expect("valid kinds")
}

fn options(create: Create) -> DirectoryOptions {
    DirectoryOptions {
        blinded_kinds: blinded_kinds(),
        key_source: KeySource::Seeded(KEY_SEED),
        origin: Some(ORIGIN.to_owned()),
        create,
        clock: ClockMode::Supplied,
        limits: Limits::default(),
        segment_bytes_max: SEGMENT_BYTES_MAX,
    }
}

fn event_id(n: u8) -> EventId {
    let mut id = *b"golden-v1-event-";
    id[15] = n;
    EventId(id)
}

/// Record `n` of the golden ledger.
fn golden_record(n: u8, event_type: &str, tags: &[&str], payload: String) -> NewRecord {
    NewRecord {
        event_id: event_id(n),
        event_type: EventType::new(event_type).expect("valid"),
        schema_version: SchemaVersion::new(1 + u16::from(n % 3 == 2)).expect("valid"),
        tags: tags
            .iter()
            .map(|text| Tag::new(*text).expect("valid tag"))
            .collect(),
        metadata: if n % 5 == 4 {
            Vec::new()
        } else {
            format!(r#"{{"actor":"officer-{}","request":"r-{n:04}"}}"#, n % 3).into_bytes()
        },
        payload: payload.into_bytes(),
    }
}

fn at(second: i64, records: Vec<NewRecord>, condition: Option<Condition>) -> AppendRequest {
    AppendRequest {
        records,
        condition,
        recorded_at: Some(Timestamp(T0 + second * 1_000_000)),
    }
}

/// Writes the golden ledger into the (new) directory `dir`.
fn write_golden_ledger(dir: &Path) {
    let directory = LedgerDirectory::open(dir, &options(Create::IfMissing)).expect("creates");
    let ledger = directory.ledger();
    let signer = directory.signer();
    let append = |request: AppendRequest| {
        let outcome = ledger.append_blocking(request).expect("appends");
        assert_eq!(outcome.status, AppendStatus::New);
    };
    append(at(
        0,
        vec![golden_record(
            0,
            "PermanentResidenceRegistered",
            &[
                "person:p-000001",
                PIN,
                "household:h-000001",
                "unit:2025:00001",
            ],
            r#"{"pin":"001234567890","name":"Nguyễn Văn An","address":"12 Hàng Bạc"}"#.to_owned(),
        )],
        None,
    ));
    // A household of three registered in one request.
    append(at(
        60,
        (1..=3)
            .map(|n| {
                golden_record(
                    n,
                    "HouseholdMemberAdded",
                    &[
                        "household:h-000001",
                        &format!("person:p-00000{}", n + 1),
                        &format!("pin:00123456789{n}"),
                    ],
                    format!(r#"{{"member":{n},"relation":"child"}}"#),
                )
            })
            .collect(),
        None,
    ));
    // Decided against the household's last record (3): no record with its tag since.
    append(at(
        120,
        vec![golden_record(
            4,
            "HeadOfHouseholdChanged",
            &["household:h-000001", "person:p-000001"],
            "{}".to_owned(),
        )],
        Some(Condition {
            tags: vec![Tag::new("household:h-000001").expect("valid")],
            after: Some(Position(3)),
        }),
    ));
    append(at(
        180,
        vec![golden_record(
            5,
            "TemporaryResidenceRegistered",
            &["person:p-000005", "unit:2025:00002", PIN],
            format!(r#"{{"until":"2026-06-30","note":"{}"}}"#, "x".repeat(1500)),
        )],
        None,
    ));
    append(at(
        240,
        (6..=9)
            .map(|n| {
                golden_record(
                    n,
                    "AddressRecoded",
                    &["unit:legacy:00001", "unit:2025:00003"],
                    format!(r#"{{"address":{n}}}"#),
                )
            })
            .collect(),
        None,
    ));
    ledger.checkpoint(&signer).expect("checkpoint at 10");
    for n in 10..20u8 {
        let tags: Vec<String> = match n % 4 {
            0 => vec![format!("person:p-0000{n}"), "household:h-000002".to_owned()],
            1 => vec![format!("person:p-0000{n}"), PIN.to_owned()],
            2 => Vec::new(),
            _ => vec!["unit:2025:00001".to_owned()],
        };
        let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
        append(at(
            300 + i64::from(n),
            vec![golden_record(
                n,
                "ResidenceCorrected",
                &tags,
                format!(
                    r#"{{"correction":{n},"text":"{}"}}"#,
                    "y".repeat(usize::from(n) * 40)
                ),
            )],
            None,
        ));
    }
    // Personal data erased after the first checkpoint: every proof must still hold.
    assert!(matches!(
        ledger.erase_payload(Position(ERASED)).expect("erases"),
        Erasure::Erased { .. }
    ));
    ledger.checkpoint(&signer).expect("checkpoint at 20");
}

/// Copies the files of `from` that make up a ledger (see the module docs) into `to`.
fn copy_ledger_files(from: &Path, to: &Path) {
    for name in ["ledger.json", "ledger.pub"] {
        std::fs::create_dir_all(to).expect("creates");
        std::fs::copy(from.join(name), to.join(name)).expect("copies");
    }
    for (folder, extension) in [("segments", "seg"), ("checkpoints", "note")] {
        std::fs::create_dir_all(to.join(folder)).expect("creates");
        for entry in std::fs::read_dir(from.join(folder)).expect("lists") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|ext| ext == extension) {
                let name = path.file_name().expect("a file name");
                std::fs::copy(&path, to.join(folder).join(name)).expect("copies");
            }
        }
    }
}

/// Rewrites the committed golden files (only with `RESIDENCE_WRITE_GOLDEN=1`).
fn write_golden_files() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    write_golden_ledger(&dir);
    let golden = golden_dir();
    match std::fs::remove_dir_all(&golden) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => panic!("removing {}: {error}", golden.display()),
    }
    copy_ledger_files(&dir, &golden);
    println!("wrote the golden ledger to {}", golden.display());
}

#[test]
fn the_golden_v1_ledger_stays_readable_and_verifiable() {
    if std::env::var(WRITE_ENV).is_ok_and(|value| value == "1") {
        write_golden_files();
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("ledger");
    copy_ledger_files(&golden_dir(), &dir);
    let segment_files = std::fs::read_dir(dir.join("segments"))
        .expect("lists")
        .count();
    assert_eq!(segment_files, SEGMENT_FILES);

    // As an auditor: from the files alone, with no secret.
    let (report, records) =
        verify_directory(&dir, &mut |_| {}).expect("the golden ledger verifies");
    assert_eq!((records, report.records), (RECORDS, RECORDS));
    assert_eq!(report.checkpoints, CHECKPOINT_SIZES.len());
    assert_eq!(report.erased_payloads, 1);
    assert_eq!(report.head.to_hex(), HEAD_HASH);
    assert_eq!(report.root.to_hex(), ROOT);

    // As a reader: the records through the ledger, keyed with the secret derived from the seed.
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("ledger.json")).expect("reads"))
            .expect("a v1 manifest");
    assert_eq!(manifest.format_version, 1);
    assert_eq!(manifest.origin, ORIGIN);
    assert_eq!(manifest.blinded_tag_kinds, ["pin"]);
    let origin = Origin::new(&manifest.origin).expect("valid origin");
    let (store, _) = FileStore::open(&dir, FileStoreOptions::new(genesis_hash(&origin).0))
        .expect("the store opens");
    let keys = LedgerKeys::from_seed(&KEY_SEED);
    let ledger = Ledger::open(LedgerConfig {
        store: Arc::new(store),
        tree_dir: None,
        checkpoint_dir: None,
        origin: origin.clone(),
        secret: keys.secret().clone(),
        blinded_kinds: BlindedKinds::new(manifest.blinded_tag_kinds.iter().cloned())
            .expect("valid kinds"),
        clock: ClockMode::Supplied,
        limits: Limits::default(),
    })
    .expect("the golden ledger opens");
    assert_eq!(ledger.head().size, RECORDS);
    assert_eq!(ledger.head().hash.to_hex(), HEAD_HASH);
    assert_eq!(ledger.tree_head().1.to_hex(), ROOT);
    assert_eq!(ledger.root_at(10).expect("root").to_hex(), ROOT_AT_10);

    let seventh = ledger.read(Position(7)).expect("reads");
    assert_eq!(seventh.record_hash.to_hex(), RECORD_7_HASH);
    assert_eq!(seventh.record.position, Position(7));
    assert_eq!(seventh.record.recorded_at, Timestamp(T0 + 240 * 1_000_000));
    assert_eq!(seventh.record.event_id, event_id(7));
    assert_eq!(seventh.record.event_type.as_str(), "AddressRecoded");
    assert_eq!(
        seventh.record.schema_version,
        SchemaVersion::new(1).expect("valid")
    );
    let links: Vec<(&str, Option<u64>)> = seventh
        .record
        .tags
        .iter()
        .map(|link| (link.tag.as_str(), link.prev.map(Position::get)))
        .collect();
    assert_eq!(
        links,
        [("unit:2025:00003", Some(6)), ("unit:legacy:00001", Some(6))]
    );
    assert_eq!(
        seventh.record.metadata,
        br#"{"actor":"officer-1","request":"r-0007"}"#
    );
    assert_eq!(
        seventh.payload,
        Payload::Present {
            salt: residence_ledger::record::Salt(keys.secret().payload_salt(&event_id(7).0)),
            bytes: br#"{"address":7}"#.to_vec(),
        }
    );
    assert_eq!(
        seventh.record.prev_hash,
        ledger.read(Position(6)).expect("reads").record_hash
    );
    assert_eq!(
        ledger.read(Position(ERASED)).expect("reads").payload,
        Payload::Erased { len: ERASED_LEN }
    );
    let first = ledger.read(Position(0)).expect("reads");
    let stored_pin = first
        .record
        .tags
        .iter()
        .find(|link| link.tag.kind() == "pin")
        .expect("record 0 carries a pin tag");
    assert_eq!(stored_pin.tag.as_str(), BLINDED_PIN);
    let by_pin: Vec<u64> = ledger
        .positions_by_tag(&Tag::new(PIN).expect("valid"), None, 10)
        .iter()
        .map(|position| position.0)
        .collect();
    assert_eq!(by_pin, PIN_POSITIONS);
    assert_eq!(
        ledger
            .lookup(&event_id(13))
            .expect("looks up")
            .map(|found| found.position),
        Some(Position(13))
    );

    // The checkpoints: signed by the published key, with proofs against them.
    let key_text = std::fs::read_to_string(dir.join("ledger.pub")).expect("reads");
    let key = VerifierKey::parse(key_text.trim()).expect("a verifier key");
    let checkpoints: Vec<_> = CHECKPOINT_SIZES
        .iter()
        .map(|size| {
            let file = dir.join("checkpoints").join(format!("{size:020}.note"));
            SignedNote::from_bytes(&std::fs::read(file).expect("reads"))
                .expect("a signed note")
                .verify(std::slice::from_ref(&key))
                .expect("signed by the golden key")
        })
        .collect();
    assert_eq!(checkpoints[0].root.to_hex(), ROOT_AT_10);
    assert_eq!(checkpoints[1].root.to_hex(), ROOT);
    assert_eq!(checkpoints[1].head.to_hex(), HEAD_HASH);
    ledger
        .inclusion_proof(ERASED, 10)
        .expect("proof")
        .verify(
            &ledger.read(Position(ERASED)).expect("reads").record_hash,
            &checkpoints[0].root,
        )
        .expect("the erased record is still in the first checkpoint");
    ledger
        .consistency_proof(10, 20)
        .expect("proof")
        .verify(&checkpoints[0].root, &checkpoints[1].root)
        .expect("the second checkpoint extends the first");
    drop(ledger);

    // As the operator of an upgraded node: with the key files derived from the seed, the
    // directory opens and appending continues the chain.
    LedgerKeys::load_or_create(&dir, &KeySource::Seeded(KEY_SEED)).expect("key files");
    let directory = LedgerDirectory::open(&dir, &options(Create::Never)).expect("opens");
    assert_eq!(directory.verifier_key(), key);
    let outcome = directory
        .ledger()
        .append_blocking(at(
            1000,
            vec![golden_record(
                20,
                "ResidenceCorrected",
                &[PIN],
                "{}".to_owned(),
            )],
            None,
        ))
        .expect("appends");
    assert_eq!(outcome.records[0].position, Position(RECORDS));
    let appended_hash = outcome.records[0].record_hash;
    let appended = directory.ledger().read(Position(RECORDS)).expect("reads");
    assert_eq!(appended.record.prev_hash.to_hex(), HEAD_HASH);
    let pin_link = &appended.record.tags[0];
    assert_eq!(pin_link.tag.as_str(), BLINDED_PIN);
    assert_eq!(pin_link.prev, PIN_POSITIONS.last().copied().map(Position));
    drop(directory);
    let (report, _) = verify_directory(&dir, &mut |_| {}).expect("verifies after the append");
    assert_eq!(report.records, RECORDS + 1);
    assert_eq!(report.head, appended_hash);
}
