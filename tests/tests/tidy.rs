//! The house rules of ARCHITECTURE.md, enforced over `cargo metadata` (and, where a rule is
//! about calls rather than dependencies, over the sources).
//!
//! Why a test: the layering is what keeps the law testable without IO, the ledger independent
//! of the domain, and the HTTP crate free of the command line; it erodes one convenient import
//! at a time, and a reviewer does not see a line added to a `Cargo.toml` deep in a diff. The
//! rules, each an absence:
//! - crates depend one way, down the layers `domain`, `ledger` → `register` → `projections` →
//!   `snapshots` → `api` → `sim` → `residence` (the binary) → `residence-tests` (normal
//!   dependencies; a test may reach above its crate through a dev-dependency);
//! - `domain` and `ledger` know nothing of each other (nor of any crate of ours);
//! - `domain` has no IO, async or clock dependency (no tokio, futures, tracing, rand; chrono
//!   without its `clock` and `now` features);
//! - `projections` never appends to a ledger;
//! - nothing below the binary depends on clap (the command line is the binary's: `api` has no
//!   command line, and the benchmarks take plain options);
//! - nothing below the binary depends on indicatif (libraries report progress by callback).
//!
//! What a broken rule looks like (adding `clap.workspace = true` to `api/Cargo.toml`):
//! ```text
//! ---- the_architectures_absences_hold stdout ----
//! thread 'the_architectures_absences_hold' panicked at tests/tests/tidy.rs:210:5:
//! the house rules of ARCHITECTURE.md are broken:
//! - residence-api depends on clap (only the binary has a command line)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The workspace's crates, bottom layer first: a normal dependency must point to a lower layer.
const LAYERS: [(&str, u8); 9] = [
    ("residence-domain", 0),
    ("residence-ledger", 0),
    ("residence-register", 1),
    ("residence-projections", 2),
    ("residence-snapshots", 3),
    ("residence-api", 4),
    ("residence-sim", 5),
    ("residence", 6),
    ("residence-tests", 7),
];

/// What the domain may not depend on: IO, async, randomness from the OS, logging.
const DOMAIN_FORBIDDEN: [&str; 8] = [
    "tokio",
    "futures",
    "futures-core",
    "async-trait",
    "tracing",
    "rand",
    "getrandom",
    "residence-ledger",
];

/// One dependency as `cargo metadata` declares it.
#[derive(Debug)]
struct Dependency {
    name: String,
    /// `None` for a normal dependency, else `dev` or `build`.
    kind: Option<String>,
    features: Vec<String>,
    default_features: bool,
}

/// The workspace's packages and their declared dependencies.
fn packages() -> BTreeMap<String, Vec<Dependency>> {
    let root = workspace_root();
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata is JSON");
    let mut packages = BTreeMap::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("a package name").to_owned();
        let dependencies = package["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .map(|dependency| Dependency {
                name: dependency["name"].as_str().expect("a name").to_owned(),
                kind: dependency["kind"].as_str().map(str::to_owned),
                features: dependency["features"]
                    .as_array()
                    .expect("features")
                    .iter()
                    .map(|feature| feature.as_str().expect("a feature").to_owned())
                    .collect(),
                default_features: dependency["uses_default_features"]
                    .as_bool()
                    .expect("uses_default_features"),
            })
            .collect();
        packages.insert(name, dependencies);
    }
    packages
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

fn layer(package: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == package)
        .map(|(_, layer)| *layer)
}

/// Every broken rule, in words.
fn broken_rules(packages: &BTreeMap<String, Vec<Dependency>>) -> Vec<String> {
    let mut broken = Vec::new();
    for (package, dependencies) in packages {
        let Some(own) = layer(package) else {
            broken.push(format!(
                "{package} is not in a layer of ARCHITECTURE.md (add it to LAYERS)"
            ));
            continue;
        };
        for dependency in dependencies {
            let normal = dependency.kind.is_none();
            if let Some(theirs) = layer(&dependency.name)
                && normal
                && theirs >= own
            {
                broken.push(format!(
                    "{package} depends on {} (a crate of the same or a higher layer)",
                    dependency.name
                ));
            }
            if dependency.name == "indicatif" && package != "residence" {
                broken.push(format!(
                    "{package} depends on indicatif (only the binary draws progress)"
                ));
            }
            if dependency.name == "clap" && normal && package != "residence" {
                broken.push(format!(
                    "{package} depends on clap (only the binary has a command line)"
                ));
            }
        }
    }
    let normal = |package: &str| -> Vec<&Dependency> {
        packages
            .get(package)
            .unwrap_or_else(|| panic!("{package} is a workspace package"))
            .iter()
            .filter(|dependency| dependency.kind.is_none())
            .collect()
    };
    for dependency in normal("residence-domain") {
        if DOMAIN_FORBIDDEN.contains(&dependency.name.as_str())
            || dependency.name.starts_with("residence-")
        {
            broken.push(format!(
                "residence-domain depends on {} (the law is pure: no IO, async, clock or crate of ours)",
                dependency.name
            ));
        }
        if dependency.name == "chrono"
            && (dependency.default_features
                || dependency
                    .features
                    .iter()
                    .any(|feature| feature == "clock" || feature == "now"))
        {
            broken.push(
                "residence-domain's chrono can read the clock (default features, clock or now)"
                    .to_owned(),
            );
        }
    }
    for dependency in normal("residence-ledger") {
        if dependency.name.starts_with("residence-") {
            broken.push(format!(
                "residence-ledger depends on {} (the ledger knows no domain)",
                dependency.name
            ));
        }
    }
    broken
}

#[test]
fn the_architectures_absences_hold() {
    let packages = packages();
    for (name, _) in LAYERS {
        assert!(
            packages.contains_key(name),
            "{name} is not a workspace package any more: update LAYERS and ARCHITECTURE.md"
        );
    }
    let broken = broken_rules(&packages);
    assert!(
        broken.is_empty(),
        "the house rules of ARCHITECTURE.md are broken:\n- {}",
        broken.join("\n- ")
    );
}

/// A declared dependency on `name` (normal when `kind` is `None`), without features.
fn dependency(name: &str, kind: Option<&str>) -> Dependency {
    Dependency {
        name: name.to_owned(),
        kind: kind.map(str::to_owned),
        features: Vec::new(),
        default_features: false,
    }
}

#[test]
fn each_rule_catches_what_it_forbids() {
    let clean = packages();
    assert!(broken_rules(&clean).is_empty());
    let cases: [(&str, Dependency, &str); 9] = [
        (
            "residence-domain",
            dependency("tokio", None),
            "residence-domain depends on tokio",
        ),
        (
            "residence-domain",
            Dependency {
                features: vec!["clock".to_owned()],
                ..dependency("chrono", None)
            },
            "can read the clock",
        ),
        (
            "residence-ledger",
            dependency("residence-domain", None),
            "the ledger knows no domain",
        ),
        (
            "residence-domain",
            dependency("residence-ledger", None),
            "residence-domain depends on residence-ledger",
        ),
        (
            "residence-api",
            dependency("clap", None),
            "residence-api depends on clap",
        ),
        (
            "residence-sim",
            dependency("clap", None),
            "residence-sim depends on clap",
        ),
        (
            "residence-register",
            dependency("indicatif", None),
            "only the binary draws progress",
        ),
        (
            "residence-projections",
            dependency("residence-sim", None),
            "residence-projections depends on residence-sim",
        ),
        (
            "residence-register",
            dependency("residence-api", None),
            "residence-register depends on residence-api",
        ),
    ];
    for (package, added, expected) in cases {
        let mut packages = packages();
        packages
            .get_mut(package)
            .expect("a workspace package")
            .push(added);
        let broken = broken_rules(&packages);
        assert!(
            broken.iter().any(|rule| rule.contains(expected)),
            "adding to {package} should break \"{expected}\", got {broken:?}"
        );
    }
    // A dev-dependency may reach above its crate (tests drive the layers above them).
    let mut packages = packages();
    packages
        .get_mut("residence-projections")
        .expect("projections")
        .push(dependency("residence-sim", Some("dev")));
    assert!(broken_rules(&packages).is_empty());
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn projections_never_append() {
    let mut files = Vec::new();
    sources(&workspace_root().join("projections/src"), &mut files);
    assert!(files.len() > 5, "the projections' sources are found");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a readable source");
        for forbidden in [
            "AppendRequest",
            ".append(",
            "append_blocking",
            "append_all_blocking",
        ] {
            assert!(
                !text.contains(forbidden),
                "{} uses {forbidden}: the projections read the ledger, never write it",
                file.display()
            );
        }
    }
}

/// The places in `text` where stdout is printed with `print!` or `println!` (not `eprint…`).
fn stdout_prints(text: &str) -> Vec<usize> {
    let mut found = Vec::new();
    for macro_name in ["print!(", "println!("] {
        let mut from = 0;
        while let Some(at) = text[from..].find(macro_name) {
            let at = from + at;
            let before = text[..at].chars().next_back();
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                found.push(at);
            }
            from = at + macro_name.len();
        }
    }
    found
}

/// The binary prints through `cli/src/output.rs` only: `println!` panics when stdout is a
/// closed pipe (`residence verify … | head -1`, issue 11).
#[test]
fn the_binary_prints_through_its_output_module() {
    assert_eq!(
        stdout_prints("println!(\"x\"); eprintln!(\"y\"); print!(\"z\")").len(),
        2
    );
    let mut files = Vec::new();
    sources(&workspace_root().join("cli/src"), &mut files);
    assert!(files.len() > 3, "the binary's sources are found");
    for file in files {
        if file.ends_with("output.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a readable source");
        assert!(
            stdout_prints(&text).is_empty(),
            "{} prints with print!/println!: use `say!` (cli/src/output.rs), which a closed pipe does not make panic",
            file.display()
        );
    }
}
