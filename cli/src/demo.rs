//! `residence serve --demo`: a working register in one command, for newcomers.
//!
//! The demo seeds a realistic sample (the synthetic population generator: a few thousand
//! households over real communes of all provinces, with history from 2015 to yesterday, so it
//! crosses the 2025-07-01 reorganisation) into its **own** directory, then serves it with a
//! token for every role and prints example requests that work as printed.
//!
//! Why its own directory: a demo must never write synthetic people into a real register. The
//! demo directory carries a marker file; `--demo` refuses any existing directory without it,
//! and reuses one with it, saying so. New tokens are printed at each start (stored tokens are
//! hashed and cannot be shown again) and the demo tokens of earlier starts are revoked first,
//! so exactly one set works at a time (their records stay, as the access log names them).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use residence_domain::units::UnitRef;
use residence_ledger::directory::{Create, DirectoryOptions, LedgerDirectory};
use residence_projections::Projections;

use residence_api::auth::{Jurisdiction, Role, TokenStore};
use residence_register::import::{ImportOptions, import};
use residence_sim::generate::{GenerateOptions, generate_file};

use crate::progress;

/// The marker file of a demo directory.
pub const DEMO_MARKER: &str = "DEMO";
/// Persons in the demo population (about 2,500 households).
pub const DEMO_PERSONS: u64 = 8_000;
/// The demo's seed (the same sample every time).
pub const DEMO_SEED: u64 = 7;

/// The label of every demo token starts with this (`demo officer` …): how a later start finds
/// the tokens to revoke.
pub const DEMO_LABEL_PREFIX: &str = "demo ";

/// What a start found of an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reused {
    /// The records of the existing demo ledger.
    pub records: u64,
    /// The demo tokens of earlier starts, revoked now.
    pub revoked: usize,
}

/// What the demo printed: tokens by role and the sample subjects of the examples.
#[derive(Debug, Clone)]
pub struct DemoGuide {
    /// The existing demo register this start reused; `None` when it was seeded now.
    pub reused: Option<Reused>,
    /// `(role, token, jurisdiction)`.
    pub tokens: Vec<(Role, String, String)>,
    /// The officer's commune.
    pub commune: UnitRef,
    /// A PIN registered in that commune.
    pub pin: Option<String>,
    /// That person's household.
    pub household: Option<String>,
}

/// Prepares the demo directory `dir` (creating and seeding it with `persons` when missing) and creates a fresh
/// token for every role. The ledger is closed again before returning.
///
/// # Errors
/// When `dir` exists and is not a demo directory, or seeding fails.
pub fn prepare(
    dir: &Path,
    persons: u64,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<DemoGuide> {
    let marker = dir.join(DEMO_MARKER);
    if dir.exists() && !marker.exists() {
        let empty = std::fs::read_dir(dir)
            .map(|mut entries| entries.next().is_none())
            .unwrap_or(false);
        if !empty {
            anyhow::bail!(
                "{} exists and is not a demo directory: --demo never writes into an existing ledger (choose another --data)",
                dir.display()
            );
        }
    }
    let seeded_before = marker.exists();
    if !seeded_before {
        seed(dir, persons, today)?;
    }
    let directory = LedgerDirectory::open(
        dir,
        &DirectoryOptions {
            create: Create::Never,
            ..residence_register::codec::directory_options()
        },
    )
    .with_context(|| format!("opening the demo ledger in {}", dir.display()))?;
    let (projections, _) = residence_projections::replay_all(directory.ledger(), 2)
        .context("replaying the demo ledger")?;
    let (commune, pin, household) = busiest_commune(&projections, today)
        .context("the demo population has nobody registered today")?;
    let tokens = TokenStore::open(dir).context("reading the demo tokens")?;
    let revoked = tokens
        .revoke(now, |record| record.label.starts_with(DEMO_LABEL_PREFIX))
        .context("revoking the demo tokens of earlier starts")?;
    let reused = seeded_before.then_some(Reused {
        records: directory.ledger().head().size,
        revoked: revoked.len(),
    });
    let mut created = Vec::new();
    for role in Role::ALL {
        let units: Vec<String> = match role {
            Role::Officer => vec![commune.to_string()],
            Role::Supervisor => vec![format!(
                "province:{}",
                residence_domain::units::registry()
                    .province_of(commune)
                    .map_or_else(|| "01".to_owned(), |province| province.to_string())
            )],
            _ => Vec::new(),
        };
        let jurisdiction = Jurisdiction::parse(units.iter().map(String::as_str))
            .context("the demo jurisdiction")?;
        let (token, _) = tokens
            .create(
                role,
                &format!("{DEMO_LABEL_PREFIX}{role}"),
                jurisdiction,
                now,
                None,
            )
            .context("creating a demo token")?;
        created.push((role, token, units.join(",")));
    }
    Ok(DemoGuide {
        reused,
        tokens: created,
        commune,
        pin,
        household,
    })
}

fn seed(dir: &Path, persons: u64, today: NaiveDate) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let until = today.pred_opt().unwrap_or(today);
    let file = dir.join("demo-commands.ndjson");
    let options = GenerateOptions {
        persons,
        seed: DEMO_SEED,
        until,
    };
    let start = residence_sim::generate::sim::START;
    let days = (until - start).num_days().max(0) as u64 + 1;
    let bar = progress::bar(days, "demo: generating a sample population", "days");
    let stats = generate_file(&options, &file, &mut |day| {
        bar.set_position((day - start).num_days().max(0) as u64 + 1);
    });
    bar.finish_and_clear();
    let stats = stats.context("generating the demo population")?;
    let size = residence_register::import::file_size(&file);
    let bar = progress::bar(size, "demo: recording its history", "bytes");
    let report = import(
        &ImportOptions {
            file: file.clone(),
            data: dir.to_path_buf(),
            key_seed: None,
            strict: true,
        },
        &mut |bytes| bar.set_position(bytes),
    );
    bar.finish_and_clear();
    let report = report.context("importing the demo population")?;
    std::fs::write(
        dir.join(DEMO_MARKER),
        format!(
            "A demo register seeded by `residence serve --demo`: {} synthetic persons, seed {}, history 2015-01-01..{until}, {} records.\nNever copy into a real register.\n",
            stats.persons.recorded, DEMO_SEED, report.size
        ),
    )
    .with_context(|| format!("writing {}", dir.join(DEMO_MARKER).display()))?;
    // The command file and its statistics stay beside the ledger as the demo's source.
    Ok(())
}

/// The commune with the most permanent residents today, one PIN registered there and its
/// household.
fn busiest_commune(
    projections: &Projections,
    today: NaiveDate,
) -> Option<(UnitRef, Option<String>, Option<String>)> {
    let population = projections.population_on(today);
    let commune = population
        .today_communes
        .iter()
        .max_by_key(|commune| (commune.counts.permanent, std::cmp::Reverse(commune.unit)))
        .map(|commune| commune.unit)?;
    let register = projections.register(commune, None, today);
    let member = register.households.iter().find_map(|household| {
        household
            .members
            .first()
            .map(|member| (member.person, household.household))
    });
    let pin = member.and_then(|(person, _)| projections.pin_of(person).map(|pin| pin.to_string()));
    let household = member.map(|(_, household)| household.to_string());
    Some((commune, pin, household))
}

/// The text printed at the start of a demo server: tokens and requests to try.
pub fn guide_text(guide: &DemoGuide, base: &str) -> String {
    let mut text = String::new();
    if let Some(reused) = guide.reused {
        let _ = writeln!(
            text,
            "\nExisting demo data reused ({} records, seeded by an earlier start); the {} demo tokens of earlier starts were revoked.",
            reused.records, reused.revoked
        );
    }
    let _ = writeln!(
        text,
        "\nDemo register ready. Tokens (shown once; stored hashed in tokens.json; earlier demo tokens no longer work):"
    );
    for (role, token, units) in &guide.tokens {
        let units = if units.is_empty() {
            String::new()
        } else {
            format!("  [{units}]")
        };
        let _ = writeln!(text, "  {:<20} {token}{units}", role.as_str());
    }
    let token_of = |wanted: Role| {
        guide
            .tokens
            .iter()
            .find(|(role, _, _)| *role == wanted)
            .map_or("", |(_, token, _)| token.as_str())
    };
    let _ = writeln!(
        text,
        "\nSet these in your shell (the README's tour uses them):"
    );
    let _ = writeln!(
        text,
        "  export BASE={base} COMMUNE={} PIN={} HOUSEHOLD={}",
        guide.commune,
        guide.pin.as_deref().unwrap_or(""),
        guide.household.as_deref().unwrap_or("")
    );
    let _ = writeln!(
        text,
        "  export OFFICER={} SUPERVISOR={} AUDITOR={} COURT={} ADMIN={} FEED={}",
        token_of(Role::Officer),
        token_of(Role::Supervisor),
        token_of(Role::Auditor),
        token_of(Role::Court),
        token_of(Role::Admin),
        token_of(Role::PopulationDatabase)
    );
    let _ = writeln!(text, "\nTry:");
    let _ = writeln!(text, "  curl -s {base}/v1/ledger/checkpoint");
    let _ = writeln!(
        text,
        "  curl -s -H \"Authorization: Bearer $OFFICER\" '{base}/v1/statistics/population?unit={}'",
        guide.commune
    );
    if let Some(pin) = &guide.pin {
        let _ = writeln!(
            text,
            "  curl -s -H \"Authorization: Bearer $OFFICER\" -H 'X-Purpose: demo lookup' {base}/v1/persons/{pin}"
        );
        let _ = writeln!(
            text,
            "  curl -s -H \"Authorization: Bearer $OFFICER\" -H 'X-Purpose: demo lookup' '{base}/v1/persons/{pin}?on=2025-06-30'"
        );
    }
    if let Some(household) = &guide.household {
        let _ = writeln!(
            text,
            "  curl -s -H \"Authorization: Bearer $OFFICER\" -H 'X-Purpose: demo lookup' {base}/v1/households/{household}/book"
        );
    }
    let _ = writeln!(
        text,
        "  curl -s -H \"Authorization: Bearer $AUDITOR\" '{base}/v1/access-log?from=0&limit=5'"
    );
    let _ = writeln!(text, "  open {base}/docs  (interactive API documentation)");
    text
}

/// The default demo directory.
pub fn default_dir() -> PathBuf {
    PathBuf::from("demo-data")
}
