//! `residence bench limits`: the physical limits of this machine, measured in the same run as
//! the benchmarks they bound, so every result can be shown as a fraction of its limit.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use residence_domain::event::{Event, EventType};
use serde::Serialize;

use super::Latencies;

/// The measured limits.
#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    /// blake3 over one large buffer, one core.
    pub blake3_bytes_per_s: f64,
    /// Median latency of a 4 KiB write + fdatasync.
    pub fdatasync_p50_us: u64,
    /// 99th percentile of the same.
    pub fdatasync_p99_us: u64,
    /// Sequential write bandwidth (8 MiB writes, one fsync at the end).
    pub sequential_write_bytes_per_s: f64,
    /// serde_json encodes per second of a ~320-byte event, one core.
    pub json_encodes_per_s: f64,
    /// serde_json decodes per second of the same event, one core.
    pub json_decodes_per_s: f64,
    /// The size of that event's JSON.
    pub json_event_bytes: usize,
}

/// A representative event: a permanent registration joining a relative.
const SAMPLE_EVENT: &str = r#"{"person":"00000000000004d2","effective_on":"2024-03-15","basis":"JOIN_RELATIVE","address":{"unit":"2025:00097","street":"Số 12, ngõ 34, phố Phúc Xá"},"dwelling":"000000000000162e","membership":{"household":"0000000000000b17","relationship":"CON_DE"},"consents":[{"role":"HOUSEHOLD_HEAD","person":"0000000000000b18"},{"role":"DWELLING_OWNER"}],"legal_basis":"Luật Cư trú 2020, Điều 20.2.a"}"#;

/// Measures the limits, using `dir` for the disk measurements.
///
/// # Errors
/// IO errors naming the file, or a broken sample event (a bug).
pub fn measure(dir: &Path) -> anyhow::Result<Limits> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;

    let buffer = vec![0x5a_u8; 256 << 20];
    let started = Instant::now();
    std::hint::black_box(blake3::hash(&buffer));
    let blake3_bytes_per_s = buffer.len() as f64 / started.elapsed().as_secs_f64();

    let path = dir.join("limits-fsync.bin");
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    let block = vec![0x5a_u8; 4096];
    let mut latencies = Latencies::default();
    for _ in 0..2000 {
        let begun = Instant::now();
        file.write_all(&block)?;
        file.sync_data()
            .with_context(|| format!("fdatasync {}", path.display()))?;
        latencies.push(begun.elapsed());
    }
    drop(file);

    let path = dir.join("limits-sequential.bin");
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    let chunk = vec![0x5a_u8; 8 << 20];
    let started = Instant::now();
    for _ in 0..128 {
        file.write_all(&chunk)?;
    }
    file.sync_all()?;
    let sequential_write_bytes_per_s = (chunk.len() * 128) as f64 / started.elapsed().as_secs_f64();
    drop(file);
    std::fs::remove_file(&path)?;
    std::fs::remove_file(dir.join("limits-fsync.bin"))?;

    let event_type = EventType::PermanentResidenceRegistered.as_str();
    let event = Event::decode(event_type, 1, SAMPLE_EVENT.as_bytes())
        .context("the sample event does not decode")?;
    let rounds = 300_000;
    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..rounds {
        bytes += std::hint::black_box(event.encode()).len();
    }
    let json_encodes_per_s = f64::from(rounds) / started.elapsed().as_secs_f64();
    let payload = event.encode();
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(Event::decode(event_type, 1, &payload).context("decoding")?);
    }
    let json_decodes_per_s = f64::from(rounds) / started.elapsed().as_secs_f64();
    std::hint::black_box(bytes);

    Ok(Limits {
        blake3_bytes_per_s,
        fdatasync_p50_us: latencies.percentile_us(50.0),
        fdatasync_p99_us: latencies.percentile_us(99.0),
        sequential_write_bytes_per_s,
        json_encodes_per_s,
        json_decodes_per_s,
        json_event_bytes: payload.len(),
    })
}

/// Prints the limits as lines of the benchmark table.
pub fn print(limits: &Limits) {
    println!(
        "limit: blake3 {:.0} MB/s (one core, one buffer)",
        limits.blake3_bytes_per_s / 1e6
    );
    println!(
        "limit: 4 KiB write + fdatasync p50 {} µs, p99 {} µs",
        limits.fdatasync_p50_us, limits.fdatasync_p99_us
    );
    println!(
        "limit: sequential write {:.0} MB/s",
        limits.sequential_write_bytes_per_s / 1e6
    );
    println!(
        "limit: serde_json {:.2} M encodes/s, {:.2} M decodes/s of a {}-byte event (one core)",
        limits.json_encodes_per_s / 1e6,
        limits.json_decodes_per_s / 1e6,
        limits.json_event_bytes
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_event_is_a_valid_registration_of_realistic_size() {
        let event = Event::decode(
            EventType::PermanentResidenceRegistered.as_str(),
            1,
            SAMPLE_EVENT.as_bytes(),
        )
        .expect("decodes");
        let payload = event.encode();
        assert!(
            (250..=450).contains(&payload.len()),
            "{} bytes",
            payload.len()
        );
        assert_eq!(payload, SAMPLE_EVENT.as_bytes());
    }
}
