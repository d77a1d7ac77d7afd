//! `residence import`: records a command file into a ledger, deciding every command with the
//! domain's `decide` exactly as the API would, on a clock supplied by the file.
//!
//! # The command file (NDJSON)
//! One JSON object per line (UTF-8, `\n` line ends). Lines that are empty or only whitespace,
//! and lines whose first non-blank character is `#`, are skipped (comments in hand-written
//! files). Every other line is one command:
//!
//! ```json
//! {"recorded_at":"2015-01-02T00:30:00.000000Z","request_id":"gen-1","actor":"population_database","actor_id":"npd-feed","command":{"record_person":{"person":"0000000000000001","pin":"001070123456","name":"Nguyễn Văn An","birth_date":"1970-03-01","sex":"male"}}}
//! ```
//!
//! | field | required | meaning |
//! |---|---|---|
//! | `recorded_at` | yes | when the register recorded the command: an RFC 3339 time with any offset (`Z`, `+07:00`); `residence generate` writes UTC with six fractional digits. It becomes the record's `recorded_at` (the ledger runs on the supplied clock), and its date in Vietnam (UTC+7) is the decision's "today". Times MUST NOT decrease from one line to the next (equal is fine). |
//! | `request_id` | yes | the client's idempotency key, 1 to 128 bytes, unique per `actor_id` (`gen-<n>` in generated files). The event ids are derived from it exactly as the API derives them, so a later API request with the same `request_id`, `actor_id` and content gets the imported answer. |
//! | `actor` | yes | who records: `officer`, `superior_officer`, `population_database`, `register_timer` or `import` (legacy paper-book history: may record any command). |
//! | `actor_id` | yes | the recording account or system (pseudonymous, non-empty). |
//! | `office` | no | the recording office (e.g. `CA-legacy-00097`, the commune police). |
//! | `command` | yes | one domain command in its JSON form, externally tagged in snake_case (`{"register_permanent":{…}}`; see `residence_domain::command`). |
//!
//! Unknown fields are refused. A malformed line stops the import with its line number and
//! field; a command the law refuses is a *rejected line*: reported with its line number and
//! rejection code, counted, and skipped (with `--strict`, the import stops there).
//!
//! # How it records
//! The import is the ledger's only writer (the directory is locked), so instead of reading
//! each command's history back from the ledger it keeps every recorded event in memory,
//! indexed by tag (see [`crate::memory`]), and folds from there the same events the API would
//! read. Each command's events form one atomic append request with the command's own
//! `recorded_at`, tags and metadata exactly as [`crate::execute`] writes them; many requests are
//! queued at once so they share group commits. A reader thread reads and parses the lines and
//! derives their event ids and request digests ahead of the decisions. A ledger that already holds records is read
//! into memory first, and lines whose request is already recorded with the same content are
//! skipped (an interrupted import can be resumed with the same file).
//!
//! Other sources record through the same path: [`import_lines`] takes command lines already
//! converted (legacy household books, see `books`), each naming the source line that errors and
//! rejections report.
//!
//! Same key seed and same file into an empty directory give a byte-identical ledger: keys,
//! origin, times, event ids and payloads all come from the seed and the file.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use residence_domain::command::Command;
use residence_domain::context::{Actor, Context};
use residence_ledger::checkpoint::SignedNote;
use residence_ledger::clock::ClockMode;
use residence_ledger::directory::{Create, DirectoryError, DirectoryOptions, LedgerDirectory};
use residence_ledger::hash::Hash;
use residence_ledger::keys::KeySource;
use residence_ledger::ledger::{AppendError, AppendRequest, AppendStatus, Ledger};
use residence_ledger::record::{Position, Timestamp};
use serde::{Deserialize, Serialize};

use crate::codec;
use crate::execute::CommandError;
use crate::import::time::{format_time, parse_time, vietnam_date};
use crate::memory::Engine;
use crate::request::{Recorder, RequestIds, request_digest};

/// Command requests queued per batch (they share group commits).
pub const BATCH_REQUESTS: usize = 2_048;
/// Rejected lines kept in the report (all are counted and logged).
pub const REJECTIONS_KEPT: usize = 1_000;
/// Records read per page when loading an existing ledger.
const LOAD_PAGE: u64 = 5_000;

/// One line of a command file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// When the register recorded the command.
    #[serde(with = "rfc3339")]
    pub recorded_at: Timestamp,
    /// The idempotency key.
    pub request_id: String,
    /// Who records.
    pub actor: Actor,
    /// The recording account.
    pub actor_id: String,
    /// The recording office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    /// The command.
    pub command: Command,
}

mod rfc3339 {
    use residence_ledger::record::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&super::format_time(*time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        super::parse_time(&text).map_err(serde::de::Error::custom)
    }
}

/// Why a line is not a command line: the field at fault (if one) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    /// The top-level field at fault.
    pub field: Option<&'static str>,
    /// What is wrong.
    pub message: String,
}

const FIELDS: [&str; 6] = [
    "recorded_at",
    "request_id",
    "actor",
    "actor_id",
    "office",
    "command",
];

impl Line {
    /// Parses one line.
    ///
    /// # Errors
    /// A [`LineProblem`] naming the field at fault.
    pub fn parse(text: &str) -> Result<Line, LineProblem> {
        let line: Line = match serde_json::from_str(text) {
            Ok(line) => line,
            Err(error) => return Err(diagnose(text, &error)),
        };
        line.check()?;
        Ok(line)
    }

    /// Checks what the JSON form does not: the request id's length and a non-empty
    /// `actor_id`.
    ///
    /// # Errors
    /// A [`LineProblem`] naming the field at fault.
    pub fn check(&self) -> Result<(), LineProblem> {
        if self.request_id.is_empty()
            || self.request_id.len() > crate::request::REQUEST_ID_BYTES_MAX
        {
            return Err(LineProblem {
                field: Some("request_id"),
                message: format!(
                    "must be 1 to {} bytes",
                    crate::request::REQUEST_ID_BYTES_MAX
                ),
            });
        }
        if self.actor_id.trim().is_empty() {
            return Err(LineProblem {
                field: Some("actor_id"),
                message: "must not be empty".to_owned(),
            });
        }
        Ok(())
    }

    /// Writes the line (without the line end).
    ///
    /// # Errors
    /// The writer's.
    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        serde_json::to_writer(&mut *out, self).map_err(io::Error::other)
    }

    /// Who records, as the ledger's metadata names them.
    pub fn recorder(&self) -> Recorder {
        Recorder {
            actor: self.actor,
            actor_id: self.actor_id.clone(),
            office: self.office.clone(),
        }
    }
}

/// Finds the field a failed parse is about, by parsing the fields one by one.
fn diagnose(text: &str, error: &serde_json::Error) -> LineProblem {
    let whole = |message: String| LineProblem {
        field: None,
        message,
    };
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(_) => return whole(format!("not a JSON object: {error}")),
    };
    let Some(object) = value.as_object() else {
        return whole("not a JSON object".to_owned());
    };
    for key in object.keys() {
        if !FIELDS.contains(&key.as_str()) {
            return whole(format!(
                "unknown field `{}`",
                key.chars().take(40).collect::<String>()
            ));
        }
    }
    for field in FIELDS {
        let Some(value) = object.get(field) else {
            if field == "office" {
                continue;
            }
            return LineProblem {
                field: Some(field),
                message: "missing".to_owned(),
            };
        };
        let problem = match field {
            "recorded_at" => value
                .as_str()
                .ok_or_else(|| "must be a string".to_owned())
                .and_then(|text| parse_time(text).map(|_| ())),
            "request_id" | "actor_id" => value
                .as_str()
                .map(|_| ())
                .ok_or_else(|| "must be a string".to_owned()),
            "office" => {
                if value.is_null() || value.is_string() {
                    Ok(())
                } else {
                    Err("must be a string".to_owned())
                }
            }
            "actor" => serde_json::from_value::<Actor>(value.clone())
                .map(|_| ())
                .map_err(|e| e.to_string()),
            _ => serde_json::from_value::<Command>(value.clone())
                .map(|_| ())
                .map_err(|e| e.to_string()),
        };
        if let Err(message) = problem {
            return LineProblem {
                field: Some(field),
                message,
            };
        }
    }
    whole(error.to_string())
}

/// What to import where.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The command file.
    pub file: PathBuf,
    /// The ledger directory (created when missing).
    pub data: PathBuf,
    /// Derive the keys (signing key and ledger secret) and origin of a new ledger from this
    /// seed, for byte-identical ledgers; `None` draws them from the OS.
    pub key_seed: Option<[u8; 32]>,
    /// Stop at the first rejected line.
    pub strict: bool,
}

/// One rejected line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedLine {
    /// Its line number (1-based).
    pub line: u64,
    /// Its request id.
    pub request_id: String,
    /// The command's name.
    pub command: &'static str,
    /// The rejection code.
    pub code: &'static str,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// Command lines read (comments and blank lines not counted).
    pub commands: u64,
    /// Commands recorded now.
    pub recorded: u64,
    /// Events appended now.
    pub events: u64,
    /// Commands found already recorded (same request, same content) and skipped.
    pub already_recorded: u64,
    /// Lines rejected (by the law, or a request id reused with other content).
    pub rejected: u64,
    /// Rejections by `command:code`.
    pub rejections_by_code: BTreeMap<String, u64>,
    /// The first rejected lines.
    pub rejected_lines: Vec<RejectedLine>,
    /// Records in the ledger after the import.
    pub size: u64,
    /// The ledger's head hash after the import.
    pub head: Hash,
    /// The checkpoint signed at the end.
    #[serde(skip)]
    pub checkpoint: Option<SignedNote>,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The command file could not be opened. → exit with the path.
    #[error("opening {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Reading the command file failed (also: a line that is not UTF-8). → exit with the line.
    #[error("reading line {line}")]
    Read {
        /// The line.
        line: u64,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A line is not a command line. → exit naming line and field; nothing after it is read.
    #[error("line {line}{}: {message}", field.map(|f| format!(", field `{f}`")).unwrap_or_default())]
    Malformed {
        /// The line.
        line: u64,
        /// The field at fault.
        field: Option<&'static str>,
        /// What is wrong.
        message: String,
    },
    /// A line's `recorded_at` is earlier than the line before it, or a line not yet recorded
    /// is earlier than the ledger's last record. → exit naming the line.
    #[error("line {line}, field `recorded_at`: {given} is before {previous}")]
    TimeGoesBack {
        /// The line.
        line: u64,
        /// The time before.
        previous: String,
        /// The time given.
        given: String,
    },
    /// The ledger directory could not be opened or created.
    #[error("opening the ledger")]
    Ledger(#[from] DirectoryError),
    /// A record of the existing ledger could not be read or decoded.
    #[error("loading record {position} of the existing ledger")]
    Load {
        /// The record.
        position: u64,
        /// Why.
        #[source]
        source: CommandError,
    },
    /// Building a record failed (a domain value does not fit the record format: a bug).
    #[error("line {line}: building its records")]
    Record {
        /// The line.
        line: u64,
        /// Why.
        #[source]
        source: CommandError,
    },
    /// The ledger refused an append (a technical failure; fail-stop). → exit naming the line.
    #[error("line {line}: appending to the ledger failed")]
    Append {
        /// The line.
        line: u64,
        /// Why.
        #[source]
        source: AppendError,
    },
    /// `--strict` and a line was rejected. → exit naming line and code; the lines before it
    /// are recorded.
    #[error("line {line}: {command} rejected: {code}: {message}")]
    Rejected {
        /// The line.
        line: u64,
        /// The command.
        command: &'static str,
        /// The rejection code.
        code: &'static str,
        /// The rejection in English.
        message: String,
    },
    /// Signing the final checkpoint failed.
    #[error("signing the final checkpoint")]
    Checkpoint(#[source] residence_ledger::ledger::CheckpointWriteError),
}

/// The queued requests and the line each came from.
struct Batch {
    requests: Vec<AppendRequest>,
    lines: Vec<u64>,
}

impl Batch {
    fn new() -> Self {
        Self {
            requests: Vec::with_capacity(BATCH_REQUESTS),
            lines: Vec::with_capacity(BATCH_REQUESTS),
        }
    }

    fn flush(&mut self, ledger: &Ledger, report: &mut ImportReport) -> Result<(), ImportError> {
        if self.requests.is_empty() {
            return Ok(());
        }
        let requests = std::mem::replace(&mut self.requests, Vec::with_capacity(BATCH_REQUESTS));
        let lines = std::mem::take(&mut self.lines);
        for (result, line) in ledger.append_all_blocking(requests).into_iter().zip(lines) {
            let outcome = result.map_err(|source| ImportError::Append { line, source })?;
            if outcome.status == AppendStatus::New {
                report.events += outcome.records.len() as u64;
            }
        }
        Ok(())
    }
}

/// Chunks of lines the reader thread may run ahead of the decisions.
const READ_AHEAD_CHUNKS: usize = 16;
/// Lines per chunk sent by the reader thread.
const CHUNK_LINES: usize = 1_024;

/// A command line ready for a decision: parsed, with its decision date, event ids and digest.
struct ParsedLine {
    line: Line,
    today: chrono::NaiveDate,
    ids: RequestIds,
    digest: String,
}

/// What the reader made of one line.
enum Parsed {
    /// A blank line or a comment.
    Skip,
    /// A command line.
    Command(Box<ParsedLine>),
    /// A line that stops the import.
    Failed(ImportError),
}

/// One line read, with its number and the bytes read through it.
struct Item {
    number: u64,
    bytes: u64,
    parsed: Parsed,
}

/// Parses one line's text (without its line end).
fn parse_item(number: u64, text: &str) -> Parsed {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Parsed::Skip;
    }
    let malformed = |field, message| {
        Parsed::Failed(ImportError::Malformed {
            line: number,
            field,
            message,
        })
    };
    match Line::parse(trimmed) {
        Ok(line) => prepare(number, line),
        Err(problem) => malformed(problem.field, problem.message),
    }
}

/// Readies a checked line for its decision: its decision date, event ids and digest.
fn prepare(number: u64, line: Line) -> Parsed {
    let malformed = |field, message| {
        Parsed::Failed(ImportError::Malformed {
            line: number,
            field,
            message,
        })
    };
    let Some(today) = vietnam_date(line.recorded_at) else {
        return malformed(Some("recorded_at"), "outside the calendar".to_owned());
    };
    let ids = match RequestIds::derive(&line.actor_id, &line.request_id) {
        Ok(ids) => ids,
        Err(error) => return malformed(Some("request_id"), error.to_string()),
    };
    let digest = request_digest(&line.recorder(), &line.command);
    Parsed::Command(Box::new(ParsedLine {
        line,
        today,
        ids,
        digest,
    }))
}

/// The reader thread: reads and parses lines in chunks until the end, the first line that
/// stops the import, or the receiver hanging up.
fn read_lines(file: File, sender: &std::sync::mpsc::SyncSender<Vec<Item>>) {
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut text = String::new();
    let mut number = 0_u64;
    let mut bytes = 0_u64;
    let mut chunk = Vec::with_capacity(CHUNK_LINES);
    loop {
        text.clear();
        number += 1;
        let (parsed, last) = match reader.read_line(&mut text) {
            Ok(0) => break,
            Ok(read) => {
                bytes += read as u64;
                let parsed = parse_item(number, &text);
                let last = matches!(parsed, Parsed::Failed(_));
                (parsed, last)
            }
            Err(source) => (
                Parsed::Failed(ImportError::Read {
                    line: number,
                    source,
                }),
                true,
            ),
        };
        chunk.push(Item {
            number,
            bytes,
            parsed,
        });
        if last {
            break;
        }
        if chunk.len() >= CHUNK_LINES {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_LINES));
            if sender.send(full).is_err() {
                return;
            }
        }
    }
    if !chunk.is_empty() {
        // A failed send means the import stopped; nothing is left to tell.
        let _ = sender.send(chunk);
    }
}

/// The reader thread of [`import_lines`]: checks and readies the lines in chunks until the end,
/// the first line that stops the import, or the receiver hanging up.
fn feed_lines(
    lines: impl Iterator<Item = Result<SourceLine, ImportError>>,
    sender: &std::sync::mpsc::SyncSender<Vec<Item>>,
) {
    let mut chunk = Vec::with_capacity(CHUNK_LINES);
    let mut bytes = 0_u64;
    for next in lines {
        let (item, last) = match next {
            Ok(source) => {
                bytes = source.bytes;
                let parsed = match source.line.check() {
                    Ok(()) => prepare(source.number, source.line),
                    Err(problem) => Parsed::Failed(ImportError::Malformed {
                        line: source.number,
                        field: problem.field,
                        message: problem.message,
                    }),
                };
                let last = matches!(parsed, Parsed::Failed(_));
                let item = Item {
                    number: source.number,
                    bytes,
                    parsed,
                };
                (item, last)
            }
            Err(error) => {
                let number = match &error {
                    ImportError::Read { line, .. } | ImportError::Malformed { line, .. } => *line,
                    _ => 0,
                };
                let item = Item {
                    number,
                    bytes,
                    parsed: Parsed::Failed(error),
                };
                (item, true)
            }
        };
        chunk.push(item);
        if last {
            break;
        }
        if chunk.len() >= CHUNK_LINES {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_LINES));
            if sender.send(full).is_err() {
                return;
            }
        }
    }
    if !chunk.is_empty() {
        // A failed send means the import stopped; nothing is left to tell.
        let _ = sender.send(chunk);
    }
}

/// Reads the existing records of `ledger` into `engine`.
fn load(ledger: &Ledger, engine: &mut Engine) -> Result<(), ImportError> {
    let size = ledger.head().size;
    let mut from = 0;
    while from < size {
        let to = (from + LOAD_PAGE).min(size);
        let records = ledger
            .read_range(Position(from), Position(to))
            .map_err(|error| ImportError::Load {
                position: from,
                source: CommandError::Read(error),
            })?;
        if records.is_empty() {
            break;
        }
        for stored in &records {
            let event = codec::decode(stored).map_err(|source| ImportError::Load {
                position: stored.record.position.0,
                source: source.into(),
            })?;
            engine.append(codec::event_id(stored), event);
        }
        from += records.len() as u64;
    }
    Ok(())
}

/// Whether the request was recorded before: `Some(true)` with the same content, `Some(false)`
/// with other content, `None` when not.
fn recorded_before(
    ledger: &Ledger,
    ids: &RequestIds,
    digest: &str,
    line: u64,
) -> Result<Option<bool>, ImportError> {
    let found = ledger
        .lookup(&ids.event_id(0))
        .map_err(|error| ImportError::Load {
            position: 0,
            source: CommandError::Read(error),
        })?;
    let Some(appended) = found else {
        return Ok(None);
    };
    let stored = ledger
        .read(appended.position)
        .map_err(|error| ImportError::Record {
            line,
            source: CommandError::Read(error),
        })?;
    // A record under the request's first event id that is not a command's (no metadata of
    // ours) was written for another request: "other content".
    let same =
        codec::read_metadata(&stored).is_some_and(|metadata| metadata.request_digest == digest);
    Ok(Some(same))
}

/// Imports a command file into a ledger directory.
///
/// `progress` is called with the number of bytes of the file read so far.
///
/// # Errors
/// [`ImportError`]: the file, a malformed line, the ledger, or (strict) a rejected line.
pub fn import(
    options: &ImportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let file = File::open(&options.file).map_err(|source| ImportError::Open {
        path: options.file.clone(),
        source,
    })?;
    record(options, move |sender| read_lines(file, sender), progress)
}

/// One command line from a source other than a command file (e.g. legacy household books
/// converted by `books`).
#[derive(Debug, Clone)]
pub struct SourceLine {
    /// The line of the source that errors and rejections name (several command lines may
    /// share one).
    pub number: u64,
    /// The bytes of the source read through this line, for progress.
    pub bytes: u64,
    /// The command line.
    pub line: Line,
}

/// Imports command lines from `lines` instead of a file, exactly as [`import`] records a
/// command file: same checks, ids, skipping of recorded requests and report. `options.file`
/// is not opened. The iterator runs on a reader thread ahead of the decisions; an `Err` from
/// it stops the import there (what was decided before it is recorded).
///
/// # Errors
/// As [`import`], and the first `Err` of `lines`.
pub fn import_lines<I>(
    options: &ImportOptions,
    lines: I,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportReport, ImportError>
where
    I: IntoIterator<Item = Result<SourceLine, ImportError>>,
    I::IntoIter: Send,
{
    let lines = lines.into_iter();
    record(options, move |sender| feed_lines(lines, sender), progress)
}

/// Records the lines `reader` sends (from a thread of its own) into the ledger directory of
/// `options`.
fn record(
    options: &ImportOptions,
    reader: impl FnOnce(&std::sync::mpsc::SyncSender<Vec<Item>>) + Send,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let directory = LedgerDirectory::open(
        &options.data,
        &DirectoryOptions {
            key_source: options
                .key_seed
                .map_or(KeySource::OsRandom, KeySource::Seeded),
            create: Create::IfMissing,
            clock: ClockMode::Supplied,
            ..crate::codec::directory_options()
        },
    )?;
    let ledger = directory.ledger();
    let mut engine = Engine::new();
    load(ledger, &mut engine)?;
    let resuming = !engine.is_empty();
    let mut report = ImportReport {
        commands: 0,
        recorded: 0,
        events: 0,
        already_recorded: 0,
        rejected: 0,
        rejections_by_code: BTreeMap::new(),
        rejected_lines: Vec::new(),
        size: 0,
        head: ledger.head().hash,
        checkpoint: None,
    };
    // Lines must not go back in time; new records must not go back before the ledger's last.
    let ledger_last = ledger.head().recorded_at;
    let mut last_time: Option<Timestamp> = None;
    let mut seen: HashSet<u128> = HashSet::new();
    let mut batch = Batch::new();
    let mut bytes = 0_u64;
    // A reader thread reads, parses and hashes the lines (work that needs no state) while this
    // thread decides and records, in file order.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Item>>(READ_AHEAD_CHUNKS);
    let outcome = std::thread::scope(|scope| -> Result<(), ImportError> {
        scope.spawn(move || reader(&sender));
        for chunk in receiver {
            for item in chunk {
                bytes = item.bytes;
                if item.number.is_multiple_of(4_096) {
                    progress(bytes);
                }
                let parsed = match item.parsed {
                    Parsed::Skip => continue,
                    Parsed::Failed(error) => return Err(error),
                    Parsed::Command(parsed) => *parsed,
                };
                report.commands += 1;
                let number = item.number;
                let ParsedLine {
                    line,
                    today,
                    ids,
                    digest,
                } = parsed;
                if let Some(previous) = last_time
                    && line.recorded_at < previous
                {
                    return Err(ImportError::TimeGoesBack {
                        line: number,
                        previous: format_time(previous),
                        given: format_time(line.recorded_at),
                    });
                }
                last_time = Some(line.recorded_at);
                let recorder = line.recorder();
                let reject = |code: &'static str, message: String, report: &mut ImportReport| {
                    report.rejected += 1;
                    *report
                        .rejections_by_code
                        .entry(format!("{}:{code}", line.command.name()))
                        .or_default() += 1;
                    if report.rejected_lines.len() < REJECTIONS_KEPT {
                        report.rejected_lines.push(RejectedLine {
                            line: number,
                            request_id: line.request_id.clone(),
                            command: line.command.name(),
                            code,
                        });
                    }
                    tracing::warn!(
                        line = number,
                        command = line.command.name(),
                        code,
                        "rejected: {message}"
                    );
                    if options.strict {
                        Err(ImportError::Rejected {
                            line: number,
                            command: line.command.name(),
                            code,
                            message,
                        })
                    } else {
                        Ok(())
                    }
                };
                if !seen.insert(u128::from_le_bytes(ids.event_id(0).0)) {
                    batch.flush(ledger, &mut report)?;
                    reject(
                        "request_id_reused",
                        "the request id was used by an earlier line of this file".to_owned(),
                        &mut report,
                    )?;
                    continue;
                }
                if resuming {
                    match recorded_before(ledger, &ids, &digest, number)? {
                        Some(true) => {
                            report.already_recorded += 1;
                            continue;
                        }
                        Some(false) => {
                            reject(
                                "request_id_reused",
                                "the request id is recorded with other content".to_owned(),
                                &mut report,
                            )?;
                            continue;
                        }
                        None => {}
                    }
                }
                if let Some(previous) = ledger_last
                    && line.recorded_at < previous
                {
                    return Err(ImportError::TimeGoesBack {
                        line: number,
                        previous: format_time(previous),
                        given: format_time(line.recorded_at),
                    });
                }
                let context = Context::new(today, line.actor);
                let decision = match engine.decide(&line.command, &context) {
                    Ok(decision) => decision,
                    Err(rejection) => {
                        batch.flush(ledger, &mut report)?;
                        reject(rejection.code(), rejection.message_en(), &mut report)?;
                        continue;
                    }
                };
                let metadata =
                    codec::metadata(&line.request_id, &recorder, line.command.name(), &digest);
                let mut records = Vec::with_capacity(decision.events.len());
                for (index, event) in decision.events.iter().enumerate() {
                    let record = codec::new_record(metadata.clone(), ids.event_id(index), event)
                        .map_err(|source| ImportError::Record {
                            line: number,
                            source: CommandError::Format(source),
                        })?;
                    records.push(record);
                }
                for (index, event) in decision.events.into_iter().enumerate() {
                    engine.append(codec::domain_event_id(ids.event_id(index)), event);
                }
                report.recorded += 1;
                batch.requests.push(AppendRequest {
                    records,
                    condition: None,
                    recorded_at: Some(line.recorded_at),
                });
                batch.lines.push(number);
                if batch.requests.len() >= BATCH_REQUESTS {
                    batch.flush(ledger, &mut report)?;
                }
            }
        }
        Ok(())
    });
    // On an error the reader stops at its next send (the receiver is gone); what was decided
    // before the failing line is still recorded.
    batch.flush(ledger, &mut report)?;
    outcome?;
    progress(bytes);
    let note = ledger
        .checkpoint(&directory.signer())
        .map_err(ImportError::Checkpoint)?;
    let head = ledger.head();
    report.size = head.size;
    report.head = head.hash;
    report.checkpoint = Some(note);
    Ok(report)
}

/// The size of a file, for a progress bar (0 when unknown).
pub fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |metadata| metadata.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"recorded_at":"2026-11-20T01:00:00Z","request_id":"r-1","actor":"population_database","actor_id":"npd","command":{"record_person":{"person":"0000000000000001","pin":"001090012345","name":"Nguyễn Văn An","birth_date":"1990-05-01","sex":"male"}}}"#;
    const REGISTER: &str = r#"{"recorded_at":"2026-11-20T02:00:00+00:00","request_id":"r-2","actor":"officer","actor_id":"officer-7","office":"CA-00097","command":{"register_permanent":{"person":"0000000000000001","effective_on":"2026-11-20","basis":"OWN_HOME","address":{"unit":"2025:00097","street":"Số 5 phố Phúc Xá"},"dwelling":"0000000000000100","household":{"establish":{"household":"0000000000000010"}}}}}"#;
    /// Registers a person never recorded: the law refuses it (I7).
    const UNRECORDED: &str = r#"{"recorded_at":"2026-11-20T03:00:00Z","request_id":"r-3","actor":"officer","actor_id":"officer-7","command":{"register_permanent":{"person":"0000000000000002","effective_on":"2026-11-20","basis":"OWN_HOME","address":{"unit":"2025:00097","street":"Số 7 phố Phúc Xá"},"dwelling":"0000000000000101","household":{"establish":{"household":"0000000000000011"}}}}}"#;

    fn problem(text: &str) -> LineProblem {
        Line::parse(text).unwrap_err()
    }

    #[test]
    fn a_line_round_trips_and_bad_lines_name_their_field() {
        let line = Line::parse(REGISTER).unwrap();
        assert_eq!(line.office.as_deref(), Some("CA-00097"));
        let mut written = Vec::new();
        line.write(&mut written).unwrap();
        assert_eq!(
            Line::parse(std::str::from_utf8(&written).unwrap()).unwrap(),
            line
        );
        assert!(
            std::str::from_utf8(&written)
                .unwrap()
                .starts_with(r#"{"recorded_at":"2026-11-20T02:00:00.000000Z","request_id":"r-2""#)
        );

        assert_eq!(problem("[1]").field, None);
        assert_eq!(problem("not json").field, None);
        let unknown = problem(&RECORD.replace("\"actor_id\"", "\"actor_name\""));
        assert!(unknown.message.contains("actor_name"), "{unknown:?}");
        assert_eq!(
            problem(&RECORD.replace("2026-11-20T01:00:00Z", "yesterday")).field,
            Some("recorded_at")
        );
        assert_eq!(
            problem(&RECORD.replace("population_database", "mayor")).field,
            Some("actor")
        );
        let command = problem(&RECORD.replace("\"sex\":\"male\"", "\"sex\":\"x\""));
        assert_eq!(command.field, Some("command"));
        let missing = problem(&RECORD.replace(",\"actor\":\"population_database\"", ""));
        assert_eq!(missing.field, Some("actor"));
        assert_eq!(
            problem(&RECORD.replace("\"r-1\"", "\"\"")).field,
            Some("request_id")
        );
    }

    fn write_file(dir: &Path, lines: &[&str]) -> PathBuf {
        let file = dir.join("commands.ndjson");
        std::fs::write(&file, lines.join("\n")).unwrap();
        file
    }

    fn options(file: PathBuf, data: PathBuf, strict: bool) -> ImportOptions {
        ImportOptions {
            file,
            data,
            key_seed: Some([1; 32]),
            strict,
        }
    }

    #[test]
    fn a_hand_written_file_is_recorded_with_comments_and_rejections_reported() {
        let dir = tempfile::tempdir().unwrap();
        let file = write_file(
            dir.path(),
            &["# a comment", RECORD, "", REGISTER, UNRECORDED],
        );
        let report = import(
            &options(file.clone(), dir.path().join("data"), false),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(report.commands, 3);
        assert_eq!(report.recorded, 2);
        assert_eq!(report.events, 3, "person, household, registration");
        assert_eq!(report.size, 3);
        assert_eq!(report.rejected, 1);
        assert_eq!(
            report.rejected_lines,
            [RejectedLine {
                line: 5,
                request_id: "r-3".to_owned(),
                command: "register_permanent",
                code: "person_not_recorded",
            }]
        );

        let error =
            import(&options(file, dir.path().join("strict"), true), &mut |_| {}).unwrap_err();
        assert!(
            matches!(
                error,
                ImportError::Rejected {
                    line: 5,
                    code: "person_not_recorded",
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn malformed_lines_and_time_going_back_stop_the_import_at_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = write_file(
            dir.path(),
            &[RECORD, &REGISTER.replace("\"basis\"", "\"base\"")],
        );
        let error = import(&options(file, dir.path().join("a"), false), &mut |_| {}).unwrap_err();
        assert!(
            matches!(
                error,
                ImportError::Malformed {
                    line: 2,
                    field: Some("command"),
                    ..
                }
            ),
            "{error:?}"
        );
        let earlier = REGISTER.replace("2026-11-20T02:00:00+00:00", "2026-11-20T00:59:59Z");
        let file = write_file(dir.path(), &[RECORD, &earlier]);
        let error = import(&options(file, dir.path().join("b"), false), &mut |_| {}).unwrap_err();
        assert!(
            matches!(error, ImportError::TimeGoesBack { line: 2, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn a_request_id_used_twice_in_a_file_is_rejected_not_recorded_twice() {
        let dir = tempfile::tempdir().unwrap();
        let file = write_file(dir.path(), &[RECORD, RECORD]);
        let report = import(&options(file, dir.path().join("data"), false), &mut |_| {}).unwrap();
        assert_eq!(report.recorded, 1);
        assert_eq!(report.size, 1);
        assert_eq!(
            report
                .rejections_by_code
                .get("record_person:request_id_reused"),
            Some(&1)
        );
    }
}
