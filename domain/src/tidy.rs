//! Tidy checks that keep `domain` pure: no IO, no clock, no async, no threads, no environment,
//! no untyped JSON, no randomness of its own.
//!
//! Why a test: "the domain does no IO" is an architecture invariant stated as an absence, and an
//! absence is only kept if something looks for it on every change (the rust-analyzer way: style
//! checked by a test). Every decision must be a pure function of (state, command, context), so
//! that replays and court proofs give the same answer everywhere.
//!
//! How: every `.rs` file under `domain/src` (except this one, which names the patterns) is read
//! line by line; full-line comments are skipped, since documentation may mention what the code
//! must not do. Each forbidden pattern must stand as its own token (so `Instant` does not match
//! `Instantiate`). Grouped imports such as `use std::{fs, io}` are expanded. The crate's chrono
//! dependency is checked not to enable the `clock` (or `now`) feature, which would make
//! `Utc::now()` available. Integration tests under `domain/tests/` are not scanned.

use std::fs;
use std::path::{Path, PathBuf};

/// Forbidden tokens and why each is forbidden.
const FORBIDDEN: &[(&str, &str)] = &[
    ("std::fs", "file IO"),
    ("std::net", "network IO"),
    ("std::io", "IO"),
    ("std::process", "processes"),
    ("std::env", "environment variables"),
    ("std::thread", "threads"),
    ("SystemTime", "reading the clock"),
    ("Instant", "reading the clock"),
    ("Utc::now", "reading the clock"),
    ("Local::now", "reading the clock"),
    ("tokio", "async runtime"),
    ("async", "async code"),
    (".await", "async code"),
    ("serde_json::Value", "untyped JSON"),
    (
        "rand::",
        "randomness (it comes in through the decision context)",
    ),
];

/// Modules of `std` forbidden in a grouped import `use std::{…}`.
const FORBIDDEN_STD_MODULES: &[&str] = &["fs", "net", "io", "process", "env", "thread"];

/// This file, which must name the patterns it forbids.
const THIS_FILE: &str = "tidy.rs";

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `pattern` occurs in `line` as a token: an identifier character at either end of the
/// pattern must not continue into the surrounding text.
fn contains_token(line: &str, pattern: &str) -> bool {
    let starts_ident = pattern.chars().next().is_some_and(is_ident_char);
    let ends_ident = pattern.chars().next_back().is_some_and(is_ident_char);
    line.match_indices(pattern).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + pattern.len()..].chars().next();
        let clean_before = !starts_ident || !before.is_some_and(is_ident_char);
        let clean_after = !ends_ident || !after.is_some_and(is_ident_char);
        clean_before && clean_after
    })
}

/// The first path segments of the items of each `std::{…}` group in `text`, with the 1-based
/// line where the group starts.
fn std_groups(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("std::{") {
        let line = text[..at].matches('\n').count() + 1;
        let body_start = at + "std::{".len();
        let mut depth = 1;
        let mut end = text.len();
        for (offset, c) in text[body_start..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = body_start + offset;
                        break;
                    }
                }
                _ => {}
            }
        }
        // Only top-level items matter: `io` in `std::{io::Write}` is the first segment.
        let mut depth = 0;
        let mut item = String::new();
        let mut items = Vec::new();
        for c in text[body_start..end].chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => items.push(std::mem::take(&mut item)),
                _ if depth == 0 => item.push(c),
                _ => {}
            }
        }
        items.push(item);
        for item in items {
            let first = item
                .trim()
                .split("::")
                .next()
                .unwrap_or("")
                .trim()
                .to_owned();
            if !first.is_empty() {
                found.push((line, first));
            }
        }
    }
    found
}

/// Every `.rs` file under `dir`, sorted so that reports are stable.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The violations in one file's text, as `line: pattern (reason)`.
fn violations(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        for &(pattern, why) in FORBIDDEN {
            if contains_token(line, pattern) {
                found.push(format!("{}: `{pattern}` ({why})", index + 1));
            }
        }
    }
    for (line, module) in std_groups(text) {
        if FORBIDDEN_STD_MODULES.contains(&module.as_str()) {
            found.push(format!(
                "{line}: `std::{{{module}}}` (IO, processes, threads or environment)"
            ));
        }
    }
    found
}

#[test]
fn domain_source_does_no_io_and_reads_no_clock() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = rust_files(&src);
    assert!(
        files.iter().any(|file| file.ends_with("lib.rs")),
        "tidy found no lib.rs under {}",
        src.display()
    );
    let mut report = Vec::new();
    for file in &files {
        if file.file_name().is_some_and(|name| name == THIS_FILE) {
            continue;
        }
        let text =
            fs::read_to_string(file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        let relative = file.strip_prefix(&src).unwrap_or(file);
        for violation in violations(&text) {
            report.push(format!("domain/src/{}:{violation}", relative.display()));
        }
    }
    assert!(
        report.is_empty(),
        "domain must be pure (no IO, clock, async, threads, env, untyped JSON, randomness):\n{}",
        report.join("\n")
    );
}

#[test]
fn tidy_patterns_match_tokens_only() {
    let bad = "use std::fs;\nlet t = Instant::now();\nlet n = chrono::Utc::now();\nasync fn f() { g().await }\n";
    let found = violations(bad);
    assert_eq!(
        found,
        [
            "1: `std::fs` (file IO)",
            "2: `Instant` (reading the clock)",
            "3: `Utc::now` (reading the clock)",
            "4: `async` (async code)",
            "4: `.await` (async code)",
        ]
    );
    let grouped = "use std::{\n    collections::BTreeMap,\n    io::{self, Write},\n};\n";
    assert_eq!(
        violations(grouped),
        ["1: `std::{io}` (IO, processes, threads or environment)"]
    );
    // Lookalikes and comments are fine.
    let fine = "// std::fs is forbidden\nfn instantiate() {}\nlet x = Instantly;\nlet operand::x = 1;\nuse std::{fmt, str::FromStr};\nlet is_async = 1;\n";
    assert_eq!(violations(fine), Vec::<String>::new());
}

/// The dependency lines for chrono in a Cargo.toml, with their 1-based line numbers; also any
/// `[…chrono]` table header, which the line check cannot see into and so is reported.
fn chrono_lines(toml: &str) -> Vec<(usize, &str)> {
    toml.lines()
        .enumerate()
        .filter(|(_, line)| {
            let line = line.trim_start();
            line.strip_prefix("chrono")
                .is_some_and(|rest| rest.trim_start().starts_with(['=', '.']))
                || (line.starts_with('[') && line.contains("chrono"))
        })
        .map(|(index, line)| (index + 1, line))
        .collect()
}

fn enables_clock(line: &str) -> bool {
    line.contains("\"clock\"") || line.contains("\"now\"")
}

#[test]
fn chrono_cannot_read_the_clock() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |path: &Path| {
        fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    };
    let root = read(&crate_dir.join("../Cargo.toml"));
    let own = read(&crate_dir.join("Cargo.toml"));

    let root_lines = chrono_lines(&root);
    assert_eq!(
        root_lines.len(),
        1,
        "the root Cargo.toml should declare chrono once, inline: {root_lines:?}"
    );
    for (line, text) in &root_lines {
        assert!(
            text.contains("default-features = false") && !enables_clock(text),
            "Cargo.toml:{line}: chrono must have default-features = false and no clock feature"
        );
        assert!(
            !text.starts_with('['),
            "Cargo.toml:{line}: declare chrono inline"
        );
    }

    let own_lines = chrono_lines(&own);
    assert!(
        !own_lines.is_empty(),
        "domain/Cargo.toml has no chrono dependency"
    );
    for (line, text) in &own_lines {
        assert!(
            !text.starts_with('['),
            "domain/Cargo.toml:{line}: declare chrono inline"
        );
        assert!(
            !enables_clock(text),
            "domain/Cargo.toml:{line}: chrono must not enable the clock feature"
        );
        assert!(
            text.contains("workspace = true")
                || text.contains(".workspace")
                || text.contains("default-features = false"),
            "domain/Cargo.toml:{line}: chrono must come from the workspace or disable default features"
        );
    }
}
