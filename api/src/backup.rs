//! Online backup: copy a ledger directory, also while a server is writing to it, up to its
//! latest signed checkpoint, then verify the copy on its own.
//!
//! Why up to a checkpoint: segment files are append-only, and everything a checkpoint covers is
//! durable and signed, so a reader that stops at the checkpoint's size never sees a record that
//! is still being written, and needs no lock. When no server holds the ledger, the backup first
//! signs a fresh checkpoint so the copy is complete.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use residence_ledger::directory::{
    Create, DirectoryError, DirectoryOptions, LedgerDirectory, MANIFEST_FILE, PUBLIC_KEY_FILE,
    verify_directory,
};
use residence_ledger::keys::{SECRET_FILE, SIGNING_KEY_FILE};
use residence_ledger::store::StoreError;
use residence_ledger::store::file::HEADER_LEN;

use crate::progress;

/// Copies `source` into the new directory `target` and verifies the copy.
///
/// # Errors
/// When `target` exists, the source has no checkpoint to copy up to, a file cannot be read or
/// written, or the copy does not verify.
pub fn run(source: &Path, target: &Path) -> anyhow::Result<()> {
    if target.exists() {
        bail!(
            "{} already exists: a backup goes into a new directory",
            target.display()
        );
    }
    if !source.join(MANIFEST_FILE).exists() {
        bail!("{} holds no ledger (no {MANIFEST_FILE})", source.display());
    }
    checkpoint_if_idle(source)?;
    let size = latest_checkpoint_size(&source.join("checkpoints"))?.with_context(|| {
        format!(
            "{} has no checkpoint yet; a running server writes one every few seconds",
            source.display()
        )
    })?;

    fs::create_dir_all(target.join("segments"))
        .with_context(|| format!("creating {}", target.display()))?;
    fs::create_dir_all(target.join("checkpoints"))?;
    fs::set_permissions(target, fs::Permissions::from_mode(0o700))?;
    for name in [MANIFEST_FILE, PUBLIC_KEY_FILE] {
        copy_file(&source.join(name), &target.join(name))?;
    }
    for name in [SIGNING_KEY_FILE, SECRET_FILE] {
        copy_file(&source.join(name), &target.join(name))?;
        fs::set_permissions(target.join(name), fs::Permissions::from_mode(0o600))?;
    }
    copy_checkpoints(
        &source.join("checkpoints"),
        &target.join("checkpoints"),
        size,
    )?;
    let bar = progress::bar(size, "copying", "records");
    copy_segments(
        &source.join("segments"),
        &target.join("segments"),
        size,
        &mut |copied| {
            bar.set_position(copied);
        },
    )?;
    bar.finish_and_clear();
    sync_dir(&target.join("segments"))?;
    sync_dir(&target.join("checkpoints"))?;
    sync_dir(target)?;

    let verifying = progress::spinner("verifying the copy");
    let outcome = verify_directory(target, &mut |position| verifying.set_position(position.0));
    verifying.finish_and_clear();
    let (report, _) =
        outcome.with_context(|| format!("verifying the copy {}", target.display()))?;
    println!(
        "backup of {} records to {} verified: root {}, {} checkpoints",
        report.records,
        target.display(),
        report.root,
        report.checkpoints
    );
    Ok(())
}

/// Signs a checkpoint when nobody holds the ledger; a held ledger is left alone (its server
/// checkpoints on its own).
fn checkpoint_if_idle(source: &Path) -> anyhow::Result<()> {
    let options = DirectoryOptions {
        create: Create::Never,
        ..DirectoryOptions::default()
    };
    match LedgerDirectory::open(source, &options) {
        Ok(directory) => {
            directory
                .ledger()
                .checkpoint(&directory.signer())
                .context("signing a checkpoint")?;
            Ok(())
        }
        Err(DirectoryError::Store(StoreError::Locked { .. })) => Ok(()),
        Err(error) => Err(error).with_context(|| format!("opening {}", source.display())),
    }
}

fn checkpoint_files(dir: &Path) -> anyhow::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        let size = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".note"))
            .filter(|digits| digits.len() == 20)
            .and_then(|digits| digits.parse::<u64>().ok());
        if let Some(size) = size {
            found.push((size, path));
        }
    }
    found.sort();
    Ok(found)
}

fn latest_checkpoint_size(dir: &Path) -> anyhow::Result<Option<u64>> {
    if !dir.exists() {
        return Ok(None);
    }
    Ok(checkpoint_files(dir)?.last().map(|(size, _)| *size))
}

fn copy_checkpoints(source: &Path, target: &Path, size_max: u64) -> anyhow::Result<()> {
    for (size, path) in checkpoint_files(source)? {
        if size <= size_max
            && let Some(name) = path.file_name()
        {
            copy_file(&path, &target.join(name))?;
        }
    }
    Ok(())
}

fn copy_file(source: &Path, target: &Path) -> anyhow::Result<()> {
    let bytes = fs::read(source).with_context(|| format!("reading {}", source.display()))?;
    let mut file =
        File::create(target).with_context(|| format!("creating {}", target.display()))?;
    file.write_all(&bytes)?;
    file.sync_all()
        .with_context(|| format!("syncing {}", target.display()))?;
    Ok(())
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

/// Copies whole frames of the segment files in order until `records` records are copied.
fn copy_segments(
    source: &Path,
    target: &Path,
    records: u64,
    progress: &mut dyn FnMut(u64),
) -> anyhow::Result<()> {
    let mut names: Vec<PathBuf> = fs::read_dir(source)
        .with_context(|| format!("listing {}", source.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "seg"))
        .collect();
    names.sort();
    let mut copied = 0_u64;
    let mut content = Vec::new();
    for path in names {
        if copied == records {
            break;
        }
        let name = path.file_name().context("segment file without a name")?;
        let mut reader = BufReader::with_capacity(
            8 << 20,
            File::open(&path).with_context(|| format!("opening {}", path.display()))?,
        );
        let out_path = target.join(name);
        let out =
            File::create(&out_path).with_context(|| format!("creating {}", out_path.display()))?;
        let mut writer = BufWriter::with_capacity(8 << 20, out);
        let mut header = [0_u8; HEADER_LEN as usize];
        reader
            .read_exact(&mut header)
            .with_context(|| format!("reading the header of {}", path.display()))?;
        writer.write_all(&header)?;
        let mut offset = HEADER_LEN;
        while copied < records {
            let mut len_bytes = [0_u8; 4];
            if reader.read_exact(&mut len_bytes).is_err() {
                break; // End of this segment: continue with the next file.
            }
            let len = u32::from_le_bytes(len_bytes) as usize;
            content.resize(len + 4, 0);
            reader.read_exact(&mut content).with_context(|| {
                format!("reading the frame at byte {offset} of {}", path.display())
            })?;
            writer.write_all(&len_bytes)?;
            writer.write_all(&content)?;
            offset += 4 + content.len() as u64;
            copied += 1;
            if copied.is_multiple_of(65_536) {
                progress(copied);
            }
        }
        let file = writer.into_inner().map_err(|error| error.into_error())?;
        file.sync_all()
            .with_context(|| format!("syncing {}", out_path.display()))?;
    }
    progress(copied);
    if copied < records {
        bail!("the segments hold only {copied} of the {records} records the checkpoint covers");
    }
    Ok(())
}
