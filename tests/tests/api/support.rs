//! The test harness: a server on a temporary data directory with a fixed clock, seeded keys
//! and one token per role, and a `call` that drives the router with `oneshot`.

#![allow(dead_code)] // Each test module uses its own part of the harness.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{DateTime, Utc};
use residence_api::auth::{Jurisdiction, Role};
use residence_api::http::{Server, ServerOptions};
use residence_ledger::clock::ManualClock;
use residence_ledger::directory::Create;
use residence_ledger::keys::KeySource;
use residence_ledger::record::Timestamp;
use residence_register::BeforeAppend;
use serde_json::Value;
use tower::ServiceExt as _;

/// The fixed time of every test server: 2026-11-27 10:00 in Vietnam.
pub const NOW: &str = "2026-11-27T03:00:00Z";
/// The commune of the test officer: Phường Ba Đình (2025 map), successor of Phúc Xá and others.
pub const OFFICER_UNIT: &str = "2025:00004";

/// A server under test with its tokens.
pub struct TestServer {
    pub server: Server,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
    pub officer: String,
    pub supervisor: String,
    pub auditor: String,
    pub court: String,
    pub admin: String,
    pub feed: String,
}

fn now() -> DateTime<Utc> {
    NOW.parse().expect("a valid time")
}

/// Options of a test server in `dir`.
pub fn options(dir: &Path, clock: &ManualClock, hook: Option<BeforeAppend>) -> ServerOptions {
    ServerOptions {
        data: dir.to_path_buf(),
        create: Create::IfMissing,
        clock: Arc::new(clock.clone()),
        key_source: KeySource::Seeded([7; 32]),
        access_id_key: [9; 32],
        before_append: hook,
        snapshots: false,
        body_read_timeout: residence_api::http::BODY_READ_TIMEOUT,
    }
}

impl TestServer {
    /// A fresh server with one token per role (the officer's jurisdiction is
    /// [`OFFICER_UNIT`], the supervisor's the province of Hà Nội).
    pub async fn start() -> TestServer {
        TestServer::start_with(None).await
    }

    /// As [`TestServer::start`], with a hook between a command's read and its append.
    pub async fn start_with(hook: Option<BeforeAppend>) -> TestServer {
        TestServer::start_configured(hook, |_| {}).await
    }

    /// As [`TestServer::start_with`], with the options edited by `edit` first.
    pub async fn start_configured(
        hook: Option<BeforeAppend>,
        edit: impl FnOnce(&mut ServerOptions),
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let clock = ManualClock::new(Timestamp::from_datetime(now()));
        let mut options = options(dir.path(), &clock, hook);
        edit(&mut options);
        let server = Server::open(options).expect("the server opens");
        let tokens = &server.state.tokens;
        let make = |role: Role, units: &[&str], n: u8| {
            let jurisdiction = Jurisdiction::parse(units.iter().copied()).expect("valid units");
            tokens
                .create_from_secret(
                    role,
                    &format!("test {role}"),
                    jurisdiction,
                    now(),
                    None,
                    [n; 32],
                )
                .expect("a token")
                .0
        };
        let officer = make(Role::Officer, &[OFFICER_UNIT], 1);
        let supervisor = make(Role::Supervisor, &["province:01"], 2);
        let auditor = make(Role::Auditor, &[], 3);
        let court = make(Role::Court, &[], 4);
        let admin = make(Role::Admin, &[], 5);
        let feed = make(Role::PopulationDatabase, &[], 6);
        TestServer {
            server,
            clock,
            dir,
            officer,
            supervisor,
            auditor,
            court,
            admin,
            feed,
        }
    }

    /// Sends a request; returns the status and the body as JSON (a non-JSON body becomes a
    /// JSON string).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        purpose: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(|value| serde_json::to_vec(value).expect("serialisable"));
        self.call_raw(method, path, token, purpose, body).await
    }

    /// As [`TestServer::call`] with a raw body (malformed JSON, oversize bodies).
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        purpose: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(purpose) = purpose {
            request = request.header("x-purpose", purpose);
        }
        let request = match body {
            Some(bytes) => request
                .header("content-type", "application/json")
                .body(Body::from(bytes)),
            None => request.body(Body::empty()),
        }
        .expect("a valid request");
        self.send(request).await
    }

    /// Sends a request built by the test (repeated headers, streamed bodies); returns the status
    /// and the body as JSON (a non-JSON body becomes a JSON string).
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self
            .server
            .router()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
            .await
            .expect("a body");
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    /// Checks both live ledgers (register and access log) record by record, against a fresh
    /// signed checkpoint and the tree's root. (The offline `verify_directory` needs the
    /// directory lock, which the running server holds.)
    pub fn assert_verifiable(&self) {
        let state = &self.server.state;
        state.sign_checkpoint().expect("a checkpoint is signed");
        let ledgers = [
            ("register", self.dir.path().to_path_buf(), &state.directory),
            (
                "access",
                self.dir.path().join("access"),
                state.access.directory(),
            ),
        ];
        for (name, dir, directory) in ledgers {
            let ledger = directory.ledger();
            let checkpoints = dir.join("checkpoints");
            let report = residence_ledger::verify::verify(
                ledger.store().as_ref(),
                &residence_ledger::verify::VerifyOptions {
                    origin: ledger.origin(),
                    checkpoint_dir: Some(&checkpoints),
                    keys: &[directory.verifier_key()],
                },
                &mut |_| {},
            )
            .unwrap_or_else(|error| panic!("the {name} ledger does not verify: {error:?}"));
            assert_eq!(report.records, ledger.head().size, "{name}: every record");
            assert_eq!(report.root, ledger.tree_head().1, "{name}: the tree's root");
            assert!(
                report.checkpoints > 0,
                "{name}: its checkpoints were checked"
            );
        }
    }
}
