//! `residence generate`: a deterministic synthetic population of Vietnam and the commands its
//! register would have recorded from 2015-01-01 to a given day.
//!
//! Why: no real citizen's data may be used, yet speed, memory and correctness at national scale
//! must be measured on data that behaves like Vietnam's. The same seed, person count and end day
//! always give the same bytes, so benchmarks and demos are reproducible.
//!
//! What it simulates (sources of the figures in the submodules):
//! - January 2015: the initial population is recorded from the national population database
//!   (`record_person`) and its households are migrated from the paper books with the dates the
//!   books show (`register_permanent` by the `import` actor: heads found households, members
//!   join with their real relationship to the head). Households follow the 2019 census (mean
//!   size about 3.5, [`households`]); addresses are real communes of all 63 legacy provinces,
//!   weighted by the 2019 census population ([`places`]); PINs have the real structure
//!   ([`pins`]); names are Vietnamese ([`names`]).
//! - Then every day: births (recorded after birth registration, registered at a parent's
//!   household within 60 days), deaths (ground detected by the population database, deletion
//!   ex officio on ground a; a head's death leaves the household head vacant until the members
//!   name a head), marriages (a spouse joins the other's household, or the couple founds one),
//!   household splits, head handovers, permanent moves within and across provinces (a few
//!   percent a year, some registered late with a past `effective_on`), temporary registrations
//!   of students and workers concentrated in Hồ Chí Minh City, Bình Dương, Hà Nội and the
//!   industrial provinces (extended, ended early, or left to run out), stay notifications,
//!   absences (military service, work abroad), residence confirmations, corrections of
//!   registration dates, name changes, PIN re-establishments and settlement abroad.
//! - 2025-07-01: the reorganisation is recorded; from then on addresses use the 2025 units, and
//!   officers recode part of the dwellings of divided legacy wards over the following months.
//!
//! Every command is decided by the real `decide` on the register's history before it is written
//! (`residence_register::memory`); a refused command is a generator bug, counted in the statistics and not written.
//! The output is the NDJSON command file of `residence_register::import`, plus `FILE.stats.json`
//! ([`stats`]), computed from the generator's own state.

pub mod households;
pub mod names;
pub mod pins;
pub mod places;
pub mod population;
pub mod sim;
pub mod stats;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

pub use stats::Stats;

/// The most persons the generator accepts (the model keeps everyone in memory).
pub const PERSONS_MAX: u64 = 20_000_000;
/// The last day the generator simulates to.
pub const UNTIL_MAX: NaiveDate = match NaiveDate::from_ymd_opt(2035, 12, 31) {
    Some(date) => date,
    None => panic!("2035-12-31 is a date"),
};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    /// The initial population.
    pub persons: u64,
    /// The seed of every random choice.
    pub seed: u64,
    /// The last day simulated (included).
    pub until: NaiveDate,
}

/// Why nothing (or not everything) was generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The person count is zero or above [`PERSONS_MAX`]. → exit, nothing written.
    #[error("persons must be 1 to {PERSONS_MAX}, got {0}")]
    Persons(u64),
    /// `until` ends before the initial load is done or after [`UNTIL_MAX`]. → exit.
    #[error("until must be from {earliest} to {UNTIL_MAX}, got {until}")]
    Until {
        /// The day given.
        until: NaiveDate,
        /// The earliest day allowed for this person count.
        earliest: NaiveDate,
    },
    /// Writing the command file or the statistics failed. → exit naming the file.
    #[error("writing {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

/// The earliest `until` for `persons`: the day after the initial load.
pub fn earliest_until(persons: u64) -> NaiveDate {
    let days = persons.div_ceil(50_000).clamp(1, sim::LOAD_DAYS_MAX);
    residence_register::import::time::plus_days(sim::START, days)
}

/// Generates the command lines into `out` and returns the statistics.
///
/// `progress` is called after each simulated day.
///
/// # Errors
/// [`GenerateError`] for invalid options or a failed write (`path` names the output in it).
pub fn generate(
    options: &GenerateOptions,
    out: &mut dyn Write,
    path: &Path,
    progress: &mut dyn FnMut(NaiveDate),
) -> Result<Stats, GenerateError> {
    if options.persons == 0 || options.persons > PERSONS_MAX {
        return Err(GenerateError::Persons(options.persons));
    }
    let earliest = earliest_until(options.persons);
    if options.until < earliest || options.until > UNTIL_MAX {
        return Err(GenerateError::Until {
            until: options.until,
            earliest,
        });
    }
    let write_error = |source| GenerateError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut simulation = sim::Sim::new(options.persons, options.seed, options.until, out);
    simulation.run(progress).map_err(write_error)?;
    Ok(stats::compute(
        &simulation.model,
        &simulation.counters,
        options.persons,
        options.seed,
        options.until,
        simulation.engine.len(),
    ))
}

/// The statistics file beside a command file: `FILE.stats.json`.
pub fn stats_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".stats.json");
    PathBuf::from(name)
}

/// Generates into `file` and writes the statistics to `FILE.stats.json`.
///
/// # Errors
/// [`GenerateError`].
pub fn generate_file(
    options: &GenerateOptions,
    file: &Path,
    progress: &mut dyn FnMut(NaiveDate),
) -> Result<Stats, GenerateError> {
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| GenerateError::Write { path, source }
    };
    let handle = File::create(file).map_err(write_error(file))?;
    let mut out = BufWriter::with_capacity(1 << 20, handle);
    let stats = generate(options, &mut out, file, progress)?;
    out.flush().map_err(write_error(file))?;
    out.into_inner()
        .map_err(|error| error.into_error())
        .and_then(|file| file.sync_all())
        .map_err(write_error(file))?;
    let stats_file = stats_path(file);
    let json = serde_json::to_vec_pretty(&stats).map_err(|error| GenerateError::Write {
        path: stats_file.clone(),
        source: io::Error::other(error),
    })?;
    std::fs::write(&stats_file, json).map_err(write_error(&stats_file))?;
    Ok(stats)
}
