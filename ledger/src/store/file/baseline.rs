//! The physical limit the file store is measured against: a plain append-only file, written and
//! fdatasync'ed once per group, with no framing, no index and no locking.
//!
//! Why: the benchmark targets are fractions of what this disk can do ("≥ 65% of the baseline"),
//! and disks are noisy from one run to the next, so `residence bench ledger` runs this baseline in
//! the same process and the same run as the ledger and reports both.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Appends `groups` groups of `group_size` records of `record_bytes` bytes each to a fresh file
/// in `dir`, with one `write` and one `fdatasync` per group, and returns the time it took. The
/// file is deleted afterwards.
///
/// # Errors
/// The IO error of a failed create, write, sync or removal.
pub fn baseline_append(
    dir: &Path,
    record_bytes: usize,
    group_size: usize,
    groups: usize,
) -> io::Result<Duration> {
    static NEXT_FILE: AtomicU64 = AtomicU64::new(0);
    let unique = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("baseline-{}-{unique}.dat", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    let group = vec![0xA5u8; record_bytes.saturating_mul(group_size)];
    let started = Instant::now();
    let result = (0..groups).try_for_each(|_| {
        file.write_all(&group)?;
        file.sync_data()
    });
    let elapsed = started.elapsed();
    drop(file);
    let removed = fs::remove_file(&path);
    result?;
    removed?;
    Ok(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_cleans_up() {
        let dir = tempfile::tempdir().expect("temp dir");
        let elapsed = baseline_append(dir.path(), 100, 4, 3).expect("baseline");
        assert!(elapsed > Duration::ZERO);
        assert_eq!(
            fs::read_dir(dir.path()).expect("list").count(),
            0,
            "the file is removed"
        );
    }
}
