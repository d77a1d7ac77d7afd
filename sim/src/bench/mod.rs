//! Benchmarks run by the binary (`residence bench …`), each reported beside the physical limit
//! measured in the same run. Numbers go to `BENCHMARKS.md`; tests never assert on timings.

pub mod baseline;
pub mod http;
pub mod ledger;
pub mod limits;
pub mod projections;
pub mod projections_baseline;
pub mod suite;

use std::path::Path;
use std::time::Duration;

/// Latencies of one run, kept in nanoseconds (sub-microsecond operations such as proof checks
/// need the resolution).
#[derive(Debug, Default)]
pub struct Latencies(Vec<u64>);

impl Latencies {
    /// Records one latency.
    pub fn push(&mut self, latency: Duration) {
        self.0
            .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Adds another run's latencies.
    pub fn extend(&mut self, other: Latencies) {
        self.0.extend(other.0);
    }

    /// The number of latencies recorded.
    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// The `p`th percentile (zero when empty).
    pub fn percentile(&self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = self.0.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
        Duration::from_nanos(sorted[rank.min(sorted.len() - 1)])
    }

    /// The `p`th percentile in whole microseconds (0 when empty).
    pub fn percentile_us(&self, p: f64) -> u64 {
        u64::try_from(self.percentile(p).as_micros()).unwrap_or(u64::MAX)
    }

    /// The sum of all latencies.
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.0.iter().sum())
    }
}

/// The process's resident set size in bytes (0 when /proc is unavailable).
pub fn resident_bytes() -> u64 {
    status_bytes("VmRSS:")
}

/// The process's peak resident set size so far in bytes (`VmHWM`: process-wide and never
/// decreasing; 0 when /proc is unavailable).
pub fn peak_resident_bytes() -> u64 {
    status_bytes("VmHWM:")
}

/// A `kB` field of `/proc/self/status`, in bytes (0 when unavailable).
fn status_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| status_field(&status, field))
        .unwrap_or(0)
}

/// The `kB` field `field` (e.g. `VmRSS:`) of a `/proc/<pid>/status` text, in bytes.
fn status_field(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
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
        assert_eq!(latencies.total(), Duration::from_micros(5050));
    }

    #[test]
    fn sub_microsecond_latencies_keep_their_resolution() {
        let mut latencies = Latencies::default();
        for nanos in [300, 400, 500] {
            latencies.push(Duration::from_nanos(nanos));
        }
        assert_eq!(latencies.percentile(50.0), Duration::from_nanos(400));
        assert_eq!(latencies.percentile_us(50.0), 0);
    }

    #[test]
    fn peak_resident_memory_is_at_least_the_current() {
        // One reading, so both figures describe the same instant.
        let status = std::fs::read_to_string("/proc/self/status").expect("Linux has /proc");
        let current = status_field(&status, "VmRSS:").expect("VmRSS is listed");
        let peak = status_field(&status, "VmHWM:").expect("VmHWM is listed");
        assert!(current > 0);
        assert!(peak >= current, "peak {peak} < current {current}");
        assert_eq!(status_field("VmHWM:\t  2048 kB\n", "VmHWM:"), Some(2 << 20));
        assert_eq!(status_field("VmRSS:\t1 kB\n", "VmHWM:"), None);
    }
}
