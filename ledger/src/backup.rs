//! Online backup: copy a ledger directory, also while a server is writing to it, up to its
//! latest signed checkpoint, then verify the copy on its own.
//!
//! Why up to a checkpoint: segment files are append-only, and everything a checkpoint covers is
//! durable and signed, so a reader that stops at the checkpoint's size never sees a record that
//! is still being written, and needs no lock. When no server holds the ledger, the backup first
//! signs a fresh checkpoint so the copy is complete.
//!
//! What is copied: the manifest, the public key, both key files (0600), the checkpoints up to
//! the one copied to, and the segment frames up to its size. Derived files (`tree/`, `index/`)
//! and `LOCK` are not: the copy rebuilds them when it is opened.
//!
//! Library code: errors are a typed [`BackupError`], and progress goes to a callback the caller
//! passes ([`BackupProgress`]); drawing progress bars or printing is the binary's business.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::clock::ClockMode;
use crate::directory::{
    Create, DirectoryError, DirectoryOptions, LedgerDirectory, MANIFEST_FILE, PUBLIC_KEY_FILE,
    VerifyDirectoryError, verify_directory,
};
use crate::keys::{SECRET_FILE, SIGNING_KEY_FILE};
use crate::ledger::CheckpointWriteError;
use crate::record::BlindedKinds;
use crate::store::StoreError;
use crate::store::file::{HEADER_LEN, MAX_RECORD_BYTES};
use crate::verify::VerifyReport;

/// Records copied between two [`BackupProgress::Copying`] reports.
const COPY_PROGRESS_EVERY: u64 = 65_536;
/// Buffer size of the segment reader and writer.
const COPY_BUFFER_BYTES: usize = 8 << 20;

/// How far a backup has come, reported to the caller's callback in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupProgress {
    /// The source is being opened to sign a checkpoint (skipped silently when a server holds
    /// it: the server checkpoints on its own).
    Checkpointing,
    /// Copying: `done` of the `total` records the checkpoint covers (reported every 65,536
    /// records and once at the end).
    Copying {
        /// Records copied so far.
        done: u64,
        /// Records to copy.
        total: u64,
    },
    /// Verifying the copy: `checked` of `total` records (reported at the start and every
    /// 65,536 records).
    Verifying {
        /// Records verified so far.
        checked: u64,
        /// Records in the copy.
        total: u64,
    },
}

/// What a finished backup copied and verified.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// The size of the checkpoint the copy goes up to (the records copied).
    pub checkpoint_size: u64,
    /// The verification of the copy: records, root, head, checkpoints checked.
    pub verified: VerifyReport,
}

/// Why a backup failed. A failed backup may leave a partial target directory behind; it is never
/// valid (it did not verify) and must be deleted before the backup is run again.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The target exists: a backup goes into a new directory, never over another one.
    /// → refuse; the operator chooses another target.
    #[error("{} already exists: a backup goes into a new directory", target.display())]
    TargetExists {
        /// The target directory.
        target: PathBuf,
    },
    /// The source holds no ledger (no manifest). → refuse.
    #[error("{} holds no ledger (no {MANIFEST_FILE})", source_dir.display())]
    NoLedger {
        /// The source directory.
        source_dir: PathBuf,
    },
    /// The source has no checkpoint to copy up to (a server holds it and has not written one
    /// yet). → retry in a few seconds: a running server checkpoints every few seconds.
    #[error("{} has no checkpoint yet; a running server writes one every few seconds", source_dir.display())]
    NoCheckpoint {
        /// The source directory.
        source_dir: PathBuf,
    },
    /// The idle source could not be opened to sign a checkpoint. → as [`DirectoryError`].
    #[error("opening {} to sign a checkpoint", source_dir.display())]
    Open {
        /// The source directory.
        source_dir: PathBuf,
        /// Why it could not be opened (boxed: it is large, and rare).
        #[source]
        source: Box<DirectoryError>,
    },
    /// Signing or storing the checkpoint of the idle source failed. → as
    /// [`CheckpointWriteError`].
    #[error("signing a checkpoint of the source")]
    Checkpoint(#[source] CheckpointWriteError),
    /// A file or directory could not be read, written or synced.
    #[error("{operation} {} failed", path.display())]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A source segment's framing is broken within the records the checkpoint covers.
    /// → the source is damaged: run `verify` on it.
    #[error("{} is damaged at byte {offset}: {detail}", file.display())]
    Damaged {
        /// The segment file.
        file: PathBuf,
        /// Byte offset of the bad frame.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// The source segments end before the checkpoint's size. → the source is damaged (records
    /// a checkpoint signed are gone): run `verify` on it.
    #[error("the segments hold only {copied} of the {records} records the checkpoint covers")]
    ShortSegments {
        /// Records found and copied.
        copied: u64,
        /// Records the checkpoint covers.
        records: u64,
    },
    /// The copy does not verify: it must not be used. → delete it; verify the source.
    #[error("verifying the copy {}", target.display())]
    Verify {
        /// The target directory.
        target: PathBuf,
        /// Why it does not verify (boxed: it is large, and rare).
        #[source]
        source: Box<VerifyDirectoryError>,
    },
}

/// Copies the ledger in `source` into the new directory `target`, up to the source's latest
/// checkpoint, and verifies the copy.
///
/// When no process holds the source, it is opened (with `clock` for the checkpoint's time) and
/// a fresh checkpoint is signed first, so that the copy holds every record. When a server holds
/// it, the copy goes up to the server's latest checkpoint. The source is never changed otherwise.
///
/// A backup MUST NOT write into an existing directory, and MUST NOT report success for a copy
/// that does not verify from its own files.
///
/// # Errors
/// [`BackupError`]: the target exists, the source holds no ledger or no checkpoint, a file
/// cannot be read or written, a source segment is damaged or short, or the copy does not verify.
pub fn backup(
    source: &Path,
    target: &Path,
    clock: ClockMode,
    progress: &mut dyn FnMut(BackupProgress),
) -> Result<BackupReport, BackupError> {
    if target.try_exists().map_err(io_error("checking", target))? {
        return Err(BackupError::TargetExists {
            target: target.to_path_buf(),
        });
    }
    let manifest = source.join(MANIFEST_FILE);
    if !manifest
        .try_exists()
        .map_err(io_error("checking", &manifest))?
    {
        return Err(BackupError::NoLedger {
            source_dir: source.to_path_buf(),
        });
    }
    progress(BackupProgress::Checkpointing);
    checkpoint_if_idle(source, clock)?;
    let source_checkpoints = source.join("checkpoints");
    let size =
        latest_checkpoint_size(&source_checkpoints)?.ok_or_else(|| BackupError::NoCheckpoint {
            source_dir: source.to_path_buf(),
        })?;

    let target_segments = target.join("segments");
    let target_checkpoints = target.join("checkpoints");
    fs::create_dir_all(&target_segments).map_err(io_error("creating", &target_segments))?;
    fs::create_dir_all(&target_checkpoints).map_err(io_error("creating", &target_checkpoints))?;
    // The copy holds the secret and personal data (payloads): only the owner may read it.
    fs::set_permissions(target, fs::Permissions::from_mode(0o700))
        .map_err(io_error("restricting", target))?;
    for name in [MANIFEST_FILE, PUBLIC_KEY_FILE] {
        copy_file(&source.join(name), &target.join(name))?;
    }
    for name in [SIGNING_KEY_FILE, SECRET_FILE] {
        let copied = target.join(name);
        copy_file(&source.join(name), &copied)?;
        fs::set_permissions(&copied, fs::Permissions::from_mode(0o600))
            .map_err(io_error("restricting", &copied))?;
    }
    copy_checkpoints(&source_checkpoints, &target_checkpoints, size)?;
    copy_segments(
        &source.join("segments"),
        &target_segments,
        size,
        &mut |done| progress(BackupProgress::Copying { done, total: size }),
    )?;
    sync_dir(&target_segments)?;
    sync_dir(&target_checkpoints)?;
    sync_dir(target)?;

    progress(BackupProgress::Verifying {
        checked: 0,
        total: size,
    });
    let (verified, _) = verify_directory(target, &mut |position| {
        progress(BackupProgress::Verifying {
            checked: position.get() + 1,
            total: size,
        });
    })
    .map_err(|source| BackupError::Verify {
        target: target.to_path_buf(),
        source: Box::new(source),
    })?;
    assert_eq!(
        verified.records, size,
        "a verified copy holds exactly the records its checkpoint covers"
    );
    Ok(BackupReport {
        checkpoint_size: size,
        verified,
    })
}

/// Signs a checkpoint when nobody holds the ledger; a held ledger is left alone (its server
/// checkpoints on its own).
fn checkpoint_if_idle(source: &Path, clock: ClockMode) -> Result<(), BackupError> {
    // A backup appends no record, so it requires no kind to be blinded: the manifest's kinds
    // stay the ledger's (opening never narrows them), and a ledger is backed up whatever the
    // application now requires of it.
    let options = DirectoryOptions {
        create: Create::Never,
        clock,
        ..DirectoryOptions::new(BlindedKinds::none())
    };
    match LedgerDirectory::open(source, &options) {
        Ok(directory) => {
            directory
                .ledger()
                .checkpoint(&directory.signer())
                .map_err(BackupError::Checkpoint)?;
            Ok(())
        }
        Err(DirectoryError::Store(StoreError::Locked { .. })) => Ok(()),
        Err(source_error) => Err(BackupError::Open {
            source_dir: source.to_path_buf(),
            source: Box::new(source_error),
        }),
    }
}

/// The checkpoint files of `dir` (`<size, 20 digits>.note`) with their sizes, ascending (see
/// [`crate::checkpoint_dir::list`]).
fn checkpoint_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>, BackupError> {
    crate::checkpoint_dir::list(dir).map_err(|error| match error {
        crate::checkpoint_dir::CheckpointFileError::Io {
            operation,
            path,
            source,
        } => io_error(operation, &path)(source),
        other => io_error("listing", dir)(io::Error::other(other.to_string())),
    })
}

fn latest_checkpoint_size(dir: &Path) -> Result<Option<u64>, BackupError> {
    if !dir.try_exists().map_err(io_error("checking", dir))? {
        return Ok(None);
    }
    Ok(checkpoint_files(dir)?.last().map(|(size, _)| *size))
}

fn copy_checkpoints(source: &Path, target: &Path, size_max: u64) -> Result<(), BackupError> {
    for (size, path) in checkpoint_files(source)? {
        if size > size_max {
            continue;
        }
        let name = path
            .file_name()
            .expect("a checkpoint file was found by its name");
        copy_file(&path, &target.join(name))?;
    }
    Ok(())
}

fn copy_file(source: &Path, target: &Path) -> Result<(), BackupError> {
    let bytes = fs::read(source).map_err(io_error("reading", source))?;
    let mut file = File::create(target).map_err(io_error("creating", target))?;
    file.write_all(&bytes)
        .map_err(io_error("writing", target))?;
    file.sync_all().map_err(io_error("syncing", target))
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io_error("syncing", dir))
}

/// Copies whole frames of the segment files in order until `records` records are copied. Each
/// frame's length is checked against the store's limit and its trailer before it is copied, so
/// a damaged length never makes the copy allocate or read gigabytes.
fn copy_segments(
    source: &Path,
    target: &Path,
    records: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<(), BackupError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(source).map_err(io_error("listing", source))? {
        let path = entry.map_err(io_error("listing", source))?.path();
        if path.extension().is_some_and(|ext| ext == "seg") {
            names.push(path);
        }
    }
    names.sort();
    let mut copied = 0_u64;
    let mut content = Vec::new();
    for path in names {
        if copied == records {
            break;
        }
        let name = path
            .file_name()
            .expect("a segment file was found by its name");
        let reader = File::open(&path).map_err(io_error("opening", &path))?;
        let mut reader = BufReader::with_capacity(COPY_BUFFER_BYTES, reader);
        let out_path = target.join(name);
        let out = File::create(&out_path).map_err(io_error("creating", &out_path))?;
        let mut writer = BufWriter::with_capacity(COPY_BUFFER_BYTES, out);
        let mut header = [0_u8; HEADER_LEN as usize];
        reader
            .read_exact(&mut header)
            .map_err(io_error("reading the header of", &path))?;
        writer
            .write_all(&header)
            .map_err(io_error("writing", &out_path))?;
        let mut offset = HEADER_LEN;
        while copied < records {
            let Some(len_bytes) =
                read_frame_len(&mut reader).map_err(io_error("reading", &path))?
            else {
                break; // The end of this segment, at a frame boundary: on with the next file.
            };
            let damaged = |detail: String| BackupError::Damaged {
                file: path.clone(),
                offset,
                detail,
            };
            let len = u32::from_le_bytes(len_bytes) as usize;
            if !(1..=MAX_RECORD_BYTES).contains(&len) {
                return Err(damaged(format!("frame length {len} is out of range")));
            }
            content.resize(len + 4, 0);
            reader
                .read_exact(&mut content)
                .map_err(io_error("reading a frame of", &path))?;
            if content[len..] != len_bytes {
                return Err(damaged(
                    "the frame's trailer differs from its length".to_owned(),
                ));
            }
            writer
                .write_all(&len_bytes)
                .and_then(|()| writer.write_all(&content))
                .map_err(io_error("writing", &out_path))?;
            offset += 4 + content.len() as u64;
            copied += 1;
            if copied.is_multiple_of(COPY_PROGRESS_EVERY) {
                progress(copied);
            }
        }
        let file = writer
            .into_inner()
            .map_err(|error| io_error("writing", &out_path)(error.into_error()))?;
        file.sync_all().map_err(io_error("syncing", &out_path))?;
    }
    progress(copied);
    if copied < records {
        return Err(BackupError::ShortSegments { copied, records });
    }
    Ok(())
}

/// The 4 length bytes of the next frame, or `None` at the end of the file. A file that ends
/// inside the length is an error: within the records a checkpoint covers, frames are whole.
fn read_frame_len(reader: &mut impl Read) -> io::Result<Option<[u8; 4]>> {
    let mut bytes = [0_u8; 4];
    let mut filled = 0;
    while filled < bytes.len() {
        match reader.read(&mut bytes[filled..]) {
            Ok(0) if filled == 0 => return Ok(None),
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file ends inside a frame length",
                ));
            }
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(Some(bytes))
}

fn io_error(operation: &'static str, path: &Path) -> impl FnOnce(io::Error) -> BackupError {
    let path = path.to_path_buf();
    move |source| BackupError::Io {
        operation,
        path,
        source,
    }
}
