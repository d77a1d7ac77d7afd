//! The synthetic population: its distributions against their stated targets, determinism, and
//! an import of a generated history into a real ledger that verifies and matches the
//! generator's own statistics, also as the projections count the population.
//!
//! Targets and tolerances (a run of 3,000 persons from 2015 to 2026-11-01; sources in
//! `residence_sim::generate`):
//! - every generated command is accepted by `decide` (zero rejections, also on import);
//! - mean permanent household size 3.0–4.0 (2019 census: 3.5);
//! - share of living persons with a temporary registration holding on the last day 2–8%
//!   (target about 4–5%: students and workers);
//! - at least 60% of those temporary registrations in the big cities and industrial provinces
//!   (2025 provinces Hà Nội, Hồ Chí Minh City, Đồng Nai, Bắc Ninh, Hải Phòng, Tây Ninh,
//!   Đà Nẵng, Thái Nguyên, Huế, Cần Thơ);
//! - persons moving their permanent residence 1–5% of the population in every full year
//!   (target 2–3%, a third to a half across provinces);
//! - births 8–25 and deaths 3–14 per 1,000 a year on average (2019 census: 16.3 and 6.3);
//! - aged 0–14 15–30% and 65+ 4–15% of the living on the last day (2019 census: 24.3%, 7.7%);
//! - PINs with a known province prefix, the century/sex digit and the birth year.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use residence_domain::command::Command;
use residence_domain::state::State;
use residence_ledger::directory::{Create, DirectoryOptions, LedgerDirectory, verify_directory};
use residence_ledger::record::Position;
use residence_projections::replay_all;
use residence_register::import::{ImportOptions, Line, import};
use residence_sim::bench::suite::compare_statistics;
use residence_sim::generate::{GenerateOptions, Stats, generate, generate_file};

fn d(text: &str) -> NaiveDate {
    text.parse().expect("test dates are valid")
}

fn run(persons: u64, seed: u64, until: &str) -> (Vec<u8>, Stats) {
    let mut out = Vec::new();
    let options = GenerateOptions {
        persons,
        seed,
        until: d(until),
    };
    let stats = generate(&options, &mut out, Path::new("memory"), &mut |_| {})
        .expect("generating into memory succeeds");
    (out, stats)
}

fn lines(bytes: &[u8]) -> Vec<Line> {
    std::str::from_utf8(bytes)
        .expect("command files are UTF-8")
        .lines()
        .map(|text| Line::parse(text).expect("generated lines parse"))
        .collect()
}

#[test]
fn distributions_are_within_their_tolerances() {
    let (bytes, stats) = run(3_000, 7, "2026-11-01");
    assert!(stats.rejections.is_empty(), "{:?}", stats.rejections);
    let living = stats.persons.living as f64;

    let size = stats.households.mean_size;
    assert!((3.0..=4.0).contains(&size), "mean household size {size}");

    let temporary = stats.on_until.temporary as f64 / living;
    assert!(
        (0.02..=0.08).contains(&temporary),
        "temporary share {temporary}"
    );
    let cities: u64 = stats
        .provinces
        .iter()
        .filter(|p| {
            ["01", "79", "75", "24", "31", "80", "48", "19", "46", "92"].contains(&p.code.as_str())
        })
        .map(|p| p.counts.temporary)
        .sum();
    let concentrated = cities as f64 / stats.on_until.temporary as f64;
    assert!(
        concentrated >= 0.6,
        "temporary in the cities {concentrated}"
    );

    let (mut births, mut deaths, mut years) = (0, 0, 0);
    for year in 2016..=2025 {
        let counts = &stats.years[&year];
        let moves = counts.moves as f64 / living;
        assert!((0.01..=0.05).contains(&moves), "{year}: moves {moves}");
        assert!(counts.interprovincial_moves > 0, "{year}: {counts:?}");
        births += counts.births;
        deaths += counts.deaths;
        years += 1;
    }
    let per_thousand = |n: u64| n as f64 / f64::from(years) / living * 1_000.0;
    assert!(
        (8.0..=25.0).contains(&per_thousand(births)),
        "births {births}"
    );
    assert!(
        (3.0..=14.0).contains(&per_thousand(deaths)),
        "deaths {deaths}"
    );

    let young = stats.persons.aged_0_14 as f64 / living;
    let old = stats.persons.aged_65_plus as f64 / living;
    assert!((0.15..=0.30).contains(&young), "aged 0-14 {young}");
    assert!((0.04..=0.15).contains(&old), "aged 65+ {old}");
    assert!(
        stats.provinces.len() >= 32,
        "{} provinces",
        stats.provinces.len()
    );

    // Every procedure of a life shows up, the reorganisation once.
    for name in [
        "record_person",
        "register_permanent",
        "register_temporary",
        "extend_temporary",
        "delete_permanent",
        "delete_temporary",
        "record_deletion_ground",
        "split_household",
        "change_head",
        "notify_stay",
        "declare_temporary_absence",
        "issue_residence_confirmation",
        "recode_address",
        "correct_event",
    ] {
        assert!(
            stats.commands_by_name.get(name).is_some_and(|n| *n > 0),
            "{name}"
        );
    }
    assert_eq!(stats.commands_by_name.get("apply_reorganisation"), Some(&1));
    assert!(stats.years.values().any(|y| y.late_registrations > 0));

    // PINs follow the structure: a province prefix, the century/sex digit, the birth year.
    let parsed = lines(&bytes);
    assert_eq!(parsed.len() as u64, stats.commands);
    let mut recorded = 0;
    for line in &parsed {
        if let Command::RecordPerson(person) = &line.command {
            let warnings = person
                .pin
                .check(chrono::Datelike::year(&person.birth_date), person.sex)
                .unwrap();
            assert!(warnings.is_empty(), "{:?}: {warnings:?}", person.pin);
            recorded += 1;
        }
    }
    assert_eq!(recorded, stats.persons.recorded);
    // Recording times never go back.
    assert!(
        parsed
            .windows(2)
            .all(|w| w[0].recorded_at <= w[1].recorded_at)
    );
}

#[test]
fn the_initial_population_covers_the_legacy_provinces() {
    let (_, stats) = run(6_000, 3, "2015-01-02");
    assert!(stats.rejections.is_empty(), "{:?}", stats.rejections);
    assert_eq!(stats.persons.recorded, 6_000);
    assert_eq!(stats.on_until.permanent, 6_000, "everyone is registered");
    assert!(
        stats.provinces.len() >= 58,
        "{} provinces",
        stats.provinces.len()
    );
    let share = |codes: &[&str]| {
        let n: u64 = stats
            .provinces
            .iter()
            .filter(|p| codes.contains(&p.code.as_str()))
            .map(|p| p.counts.permanent)
            .sum();
        n as f64 / 6_000.0
    };
    // Hà Nội and Hồ Chí Minh City: 17.7% of the 2019 census population.
    let big = share(&["01", "79"]);
    assert!((0.13..=0.23).contains(&big), "{big}");
    let size = stats.households.mean_size;
    assert!((3.2..=3.8).contains(&size), "{size}");
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_others() {
    let (a, stats_a) = run(400, 1, "2016-06-30");
    let (b, stats_b) = run(400, 1, "2016-06-30");
    let (c, _) = run(400, 2, "2016-06-30");
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_eq!(stats_a, stats_b);
    assert_ne!(a, c);
}

/// Counts the event types of a ledger and folds its events into one domain state.
fn read_ledger(dir: &Path) -> (BTreeMap<String, u64>, State, u64) {
    let directory = LedgerDirectory::open(
        dir,
        &DirectoryOptions {
            create: Create::Never,
            ..residence_register::codec::directory_options()
        },
    )
    .expect("the imported ledger opens");
    let ledger = directory.ledger();
    let size = ledger.head().size;
    let mut counts = BTreeMap::new();
    let mut events = Vec::new();
    let mut from = 0;
    while from < size {
        let records = ledger
            .read_range(Position(from), Position(size))
            .expect("records read");
        for stored in &records {
            *counts
                .entry(stored.record.event_type.as_str().to_owned())
                .or_default() += 1;
            let event = residence_register::codec::decode(stored).expect("stored events decode");
            events.push((residence_register::codec::event_id(stored), event));
        }
        from += records.len() as u64;
    }
    let state = State::from_recorded(events.iter().map(|(id, event)| (*id, event)));
    (counts, state, size)
}

#[test]
fn an_imported_history_verifies_matches_the_statistics_and_is_reproducible() {
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("population.ndjson");
    let until = d("2026-11-01");
    let options = GenerateOptions {
        persons: 1_500,
        seed: 11,
        until,
    };
    let stats = generate_file(&options, &file, &mut |_| {}).unwrap();
    assert!(stats.rejections.is_empty(), "{:?}", stats.rejections);
    let written: serde_json::Value = serde_json::from_slice(
        &std::fs::read(scratch.path().join("population.ndjson.stats.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(written["events"], stats.events);

    let import_into = |name: &str| {
        let data = scratch.path().join(name);
        let report = import(
            &ImportOptions {
                file: file.clone(),
                data: data.clone(),
                key_seed: Some([7; 32]),
                strict: true,
            },
            &mut |_| {},
        )
        .unwrap();
        (data, report)
    };
    let (first, report) = import_into("first");
    assert_eq!(report.rejected, 0);
    assert_eq!(report.recorded, stats.commands);
    assert_eq!(report.events, stats.events);
    assert_eq!(report.size, stats.events);

    let (verified, _) = verify_directory(&first, &mut |_| {}).unwrap();
    assert_eq!(verified.records, stats.events);
    assert_eq!(verified.head, report.head);

    let (counts, state, size) = read_ledger(&first);
    assert_eq!(size, stats.events);
    let expected: BTreeMap<String, u64> = stats
        .events_by_type
        .iter()
        .map(|(name, count)| ((*name).to_owned(), *count))
        .collect();
    assert_eq!(counts, expected);
    // The domain's own fold of the ledger agrees with the generator's register facts.
    assert!(state.violations().is_empty(), "{:?}", state.violations());
    let permanent = state
        .persons()
        .filter(|(_, p)| p.permanent_on(until).is_some_and(|i| !i.annulled))
        .count() as u64;
    let temporary = state
        .persons()
        .filter(|(_, p)| p.temporary_on(until).is_some_and(|i| !i.annulled))
        .count() as u64;
    assert_eq!(permanent, stats.on_until.permanent);
    assert_eq!(temporary, stats.on_until.temporary);

    // The same file and key seed give the same head and the same bytes.
    let (second, again) = import_into("second");
    assert_eq!(again.head, report.head);
    for sub in ["segments", "checkpoints"] {
        let mut names: Vec<_> = std::fs::read_dir(first.join(sub))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        names.sort();
        assert!(!names.is_empty());
        for name in names {
            assert_eq!(
                std::fs::read(first.join(sub).join(&name)).unwrap(),
                std::fs::read(second.join(sub).join(&name)).unwrap(),
                "{sub}/{name:?}"
            );
        }
    }

    // Importing the file again into the same ledger records nothing new.
    let (_, resumed) = import_into("first");
    assert_eq!(resumed.recorded, 0);
    assert_eq!(resumed.already_recorded, stats.commands);
    assert_eq!(resumed.head, report.head);
}

#[test]
fn the_projections_population_equals_the_generators_statistics() {
    let scratch = tempfile::tempdir().unwrap();
    let until = d("2026-11-01");
    let options = GenerateOptions {
        persons: 2_500,
        seed: 5,
        until,
    };
    let file = scratch.path().join("population.ndjson");
    let stats = generate_file(&options, &file, &mut |_| {}).unwrap();
    assert!(stats.rejections.is_empty(), "{:?}", stats.rejections);

    // The same options again, over the 2025 reorganisation: the same bytes and statistics.
    let again = scratch.path().join("again.ndjson");
    let stats_again = generate_file(&options, &again, &mut |_| {}).unwrap();
    assert_eq!(stats_again, stats);
    assert!(std::fs::read(&file).unwrap() == std::fs::read(&again).unwrap());
    assert_eq!(
        std::fs::read(scratch.path().join("population.ndjson.stats.json")).unwrap(),
        std::fs::read(scratch.path().join("again.ndjson.stats.json")).unwrap()
    );

    let data = scratch.path().join("ledger");
    let report = import(
        &ImportOptions {
            file,
            data: data.clone(),
            key_seed: Some([7; 32]),
            strict: true,
        },
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(report.size, stats.events);
    let directory = LedgerDirectory::open(
        &data,
        &DirectoryOptions {
            create: Create::Never,
            ..residence_register::codec::directory_options()
        },
    )
    .unwrap();
    let (projections, replayed) = replay_all(directory.ledger(), 2).unwrap();
    assert_eq!(replayed.records, stats.events);
    let population = projections.population_on(until);

    // Real numbers are compared: registrations of both kinds, absences, many units.
    assert!(stats.on_until.permanent > 2_000, "{:?}", stats.on_until);
    assert!(stats.on_until.temporary > 0, "{:?}", stats.on_until);
    assert!(stats.on_until.absent > 0, "{:?}", stats.on_until);
    assert!(stats.provinces.len() >= 30 && stats.communes.len() >= 500);
    assert_eq!(population.totals.permanent, stats.on_until.permanent);
    assert_eq!(population.totals.temporary, stats.on_until.temporary);
    let differences = compare_statistics(&stats, &population);
    assert!(differences.is_empty(), "{differences:#?}");

    // The comparison reports each count that differs.
    let mut altered = stats.clone();
    altered.on_until.temporary += 1;
    altered.communes[0].counts.absent += 2;
    let found = compare_statistics(&altered, &population);
    let what: Vec<&str> = found.iter().map(|d| d.what.as_str()).collect();
    assert_eq!(
        what,
        [
            "total temporary".to_owned(),
            format!("commune {} absent", stats.communes[0].unit)
        ]
    );
    assert_eq!(found[1].generator, found[1].projections + 2);
}
