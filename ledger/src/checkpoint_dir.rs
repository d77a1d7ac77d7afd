//! The `checkpoints/` directory: one signed note per tree size, each written once and never
//! replaced (`FORMAT.md` §8.10).
//!
//! Why write-once: whoever received a note may keep it as evidence of what the ledger said.
//! Replacing the file with another note of the same size would be a fork that only they could
//! see. So a note is created under its final name by a hard link from a temporary file that was
//! written and fsynced first (`link` fails when the name exists): a crash leaves either no note
//! or the whole note, and an existing name is never written again. Storing a note for a size that
//! has one is a no-op when the bytes are identical, and a [`CheckpointFileError::Conflict`]
//! otherwise.
//!
//! What it is not: it checks no signature (the ledger has no verifier key; `verify` has) and no
//! root (the ledger compares the stored tree with the latest note when it opens).

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::checkpoint::{BodyError, Checkpoint, NoteParseError, SignedNote};

/// The directory's name inside a ledger directory.
pub const DIR_NAME: &str = "checkpoints";

/// The suffix of a checkpoint file.
const SUFFIX: &str = ".note";

/// The digits of a checkpoint file name.
const DIGITS: usize = 20;

/// The file name of the note for tree size `size`: 20 decimal digits and `.note`.
#[must_use]
pub fn file_name(size: u64) -> String {
    format!("{size:020}{SUFFIX}")
}

/// The tree size named by a checkpoint file name, or `None` when the name is not 20 decimal
/// digits followed by `.note`.
#[must_use]
pub fn parse_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SUFFIX)?;
    if digits.len() != DIGITS || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Why the checkpoint directory could not be read or a note not stored.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointFileError {
    /// Listing, reading, writing or syncing failed. → a storage failure: refuse (to open, to
    /// sign) and name the file.
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
    /// Another note is already stored for this size: storing this one would be a second signed
    /// root (or a second text) for one tree size. → refuse; the stored note is kept untouched.
    #[error("{} already holds another note for this tree size; refusing to replace it", file.display())]
    Conflict {
        /// The stored note.
        file: PathBuf,
    },
    /// A stored note is not a signed note with a checkpoint body: a damaged normative file. →
    /// refuse to open or sign; run `residence verify`.
    #[error("{} is not a signed checkpoint: {detail}", file.display())]
    Malformed {
        /// The note.
        file: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A stored note's tree size is not the one its file name gives. → as
    /// [`CheckpointFileError::Malformed`].
    #[error("{} holds a checkpoint of size {size}, not the size its name gives", file.display())]
    NameMismatch {
        /// The note.
        file: PathBuf,
        /// The size in the note.
        size: u64,
    },
}

fn io_error(operation: &'static str, path: &Path) -> impl FnOnce(io::Error) -> CheckpointFileError {
    let path = path.to_path_buf();
    move |source| CheckpointFileError::Io {
        operation,
        path,
        source,
    }
}

/// The checkpoint files of `dir` (named `<20 digits>.note`) with their sizes, ascending. A
/// missing directory has none. Other names are not checkpoints (temporary files of a note being
/// written start with `.`); `verify` reports other `*.note` names.
///
/// # Errors
/// [`CheckpointFileError::Io`] when the directory cannot be listed.
pub fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>, CheckpointFileError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(io_error("listing", dir)(error)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_error("listing", dir))?;
        let size = entry.file_name().to_str().and_then(parse_file_name);
        if let Some(size) = size {
            found.push((size, entry.path()));
        }
    }
    found.sort_unstable();
    Ok(found)
}

/// A note read from the directory: parsed, its body a checkpoint of the size its name gives.
/// Its signatures are NOT checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNote {
    /// The file.
    pub file: PathBuf,
    /// The note.
    pub note: SignedNote,
    /// Its body.
    pub checkpoint: Checkpoint,
}

/// Reads and parses the note `file`, which its name says is of tree size `size`.
///
/// # Errors
/// [`CheckpointFileError::Io`], [`CheckpointFileError::Malformed`],
/// [`CheckpointFileError::NameMismatch`].
pub fn read(file: &Path, size: u64) -> Result<StoredNote, CheckpointFileError> {
    let bytes = fs::read(file).map_err(io_error("reading", file))?;
    let malformed = |detail: String| CheckpointFileError::Malformed {
        file: file.to_path_buf(),
        detail,
    };
    let note = SignedNote::from_bytes(&bytes)
        .map_err(|error: NoteParseError| malformed(error.to_string()))?;
    let checkpoint = Checkpoint::parse_body(note.text())
        .map_err(|error: BodyError| malformed(error.to_string()))?;
    if checkpoint.size != size {
        return Err(CheckpointFileError::NameMismatch {
            file: file.to_path_buf(),
            size: checkpoint.size,
        });
    }
    Ok(StoredNote {
        file: file.to_path_buf(),
        note,
        checkpoint,
    })
}

/// The note of the largest tree size in `dir`, if any.
///
/// # Errors
/// As [`list`] and [`read`].
pub fn latest(dir: &Path) -> Result<Option<StoredNote>, CheckpointFileError> {
    match list(dir)?.pop() {
        Some((size, file)) => Ok(Some(read(&file, size)?)),
        None => Ok(None),
    }
}

/// What [`store`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The note was written under its name.
    Created,
    /// The same bytes were already stored under its name: nothing was written.
    AlreadyStored,
}

/// Stores `note` (of tree size `size`) in `dir`, creating the directory when missing: the
/// bytes go to `.<name>.tmp`, which is fsynced, hard-linked to `<name>` (which fails when the
/// name exists) and removed; then the directory is fsynced. The name is never written over.
///
/// # Errors
/// [`CheckpointFileError::Conflict`] when another note is stored for `size` (it is kept),
/// [`CheckpointFileError::Io`] when a step fails.
pub fn store(dir: &Path, size: u64, note: &SignedNote) -> Result<Stored, CheckpointFileError> {
    let name = file_name(size);
    let bytes = note.to_string().into_bytes();
    if !dir.try_exists().map_err(io_error("checking", dir))? {
        fs::create_dir_all(dir).map_err(io_error("creating", dir))?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
    }
    let target = dir.join(&name);
    let temp = dir.join(format!(".{name}.tmp"));
    let mut file = fs::File::create(&temp).map_err(io_error("creating", &temp))?;
    file.write_all(&bytes).map_err(io_error("writing", &temp))?;
    file.sync_all().map_err(io_error("syncing", &temp))?;
    drop(file);
    let linked = fs::hard_link(&temp, &target);
    fs::remove_file(&temp).map_err(io_error("removing", &temp))?;
    let stored = match linked {
        Ok(()) => Stored::Created,
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            let existing = fs::read(&target).map_err(io_error("reading", &target))?;
            if existing != bytes {
                return Err(CheckpointFileError::Conflict { file: target });
            }
            Stored::AlreadyStored
        }
        Err(error) => return Err(io_error("linking", &target)(error)),
    };
    sync_dir(dir)?;
    Ok(stored)
}

fn sync_dir(dir: &Path) -> Result<(), CheckpointFileError> {
    fs::File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io_error("syncing", dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{KeyName, NoteSigner, Origin};
    use crate::hash::Hash;

    fn note(size: u64, root: u8) -> SignedNote {
        let origin = Origin::new("test.example/notes").expect("valid");
        let signer = NoteSigner::new(
            KeyName::new(origin.as_str()).expect("valid"),
            ed25519_dalek::SigningKey::from_bytes(&[3; 32]),
        );
        Checkpoint {
            origin,
            size,
            root: Hash([root; 32]),
            time: chrono::DateTime::from_timestamp_micros(1).expect("a time"),
            head: Hash([0; 32]),
            next_key: None,
        }
        .sign(&signer)
    }

    #[test]
    fn a_note_is_written_once_and_never_replaced() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join(DIR_NAME);
        assert_eq!(latest(&dir).expect("reads"), None);
        assert_eq!(
            store(&dir, 7, &note(7, 1)).expect("stores"),
            Stored::Created
        );
        assert_eq!(
            store(&dir, 7, &note(7, 1)).expect("stores"),
            Stored::AlreadyStored
        );
        match store(&dir, 7, &note(7, 2)) {
            Err(CheckpointFileError::Conflict { file }) => assert_eq!(file, dir.join(file_name(7))),
            other => panic!("expected a conflict, got {other:?}"),
        }
        store(&dir, 3, &note(3, 1)).expect("stores");
        let found = latest(&dir).expect("reads").expect("a note");
        assert_eq!((found.checkpoint.size, found.note), (7, note(7, 1)));
        let names: Vec<u64> = list(&dir).expect("lists").iter().map(|(s, _)| *s).collect();
        assert_eq!(names, [3, 7], "no temporary file is left");
        assert_eq!(fs::read_dir(&dir).expect("lists").count(), 2);
    }

    #[test]
    fn names_and_sizes_must_agree() {
        assert_eq!(file_name(7), "00000000000000000007.note");
        assert_eq!(parse_file_name("00000000000000000007.note"), Some(7));
        assert_eq!(parse_file_name("7.note"), None);
        assert_eq!(parse_file_name(".00000000000000000007.note.tmp"), None);
        let temp = tempfile::tempdir().expect("temp dir");
        let file = temp.path().join(file_name(8));
        fs::write(&file, note(7, 1).to_string()).expect("writes");
        assert!(matches!(
            read(&file, 8),
            Err(CheckpointFileError::NameMismatch { size: 7, .. })
        ));
        fs::write(&file, "not a note").expect("writes");
        assert!(matches!(
            read(&file, 8),
            Err(CheckpointFileError::Malformed { .. })
        ));
    }
}
