//! Benchmarks run by the binary (`residence bench …`), each reported beside the physical limit
//! measured in the same run. Numbers go to `BENCHMARKS.md`; tests never assert on timings.

pub mod baseline;
pub mod ledger;
pub mod limits;
pub mod projections;

use std::path::Path;
use std::time::Duration;

/// Latencies of one run, in microseconds.
#[derive(Debug, Default)]
pub struct Latencies(Vec<u32>);

impl Latencies {
    /// Records one latency.
    pub fn push(&mut self, latency: Duration) {
        self.0
            .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
    }

    /// Adds another run's latencies.
    pub fn extend(&mut self, other: Latencies) {
        self.0.extend(other.0);
    }

    /// The number of latencies recorded.
    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// The `p`th percentile in microseconds (0 when empty).
    pub fn percentile_us(&self, p: f64) -> u64 {
        if self.0.is_empty() {
            return 0;
        }
        let mut sorted = self.0.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
        u64::from(sorted[rank.min(sorted.len() - 1)])
    }
}

/// The process's resident set size in bytes (0 when /proc is unavailable).
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        })
        .map_or(0, |kib| kib * 1024)
}

/// The total size of the files under `dir`.
///
/// # Errors
/// When a directory cannot be listed.
pub fn dir_bytes(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let metadata = entry.metadata()?;
        total += if metadata.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            metadata.len()
        };
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_ranks() {
        let mut latencies = Latencies::default();
        for micros in 1..=100 {
            latencies.push(Duration::from_micros(micros));
        }
        assert_eq!(latencies.percentile_us(50.0), 51);
        assert_eq!(latencies.percentile_us(99.0), 99);
        assert_eq!(latencies.percentile_us(100.0), 100);
        assert_eq!(Latencies::default().percentile_us(99.0), 0);
    }
}
