//! The HTTP server: the state the handlers share, the router, start-up and graceful shutdown.
//!
//! One process serves one data directory:
//! - `DATA/` the register's ledger (the only source of truth);
//! - `DATA/access/` the access log (a second ledger, see [`crate::access_log`]);
//! - `DATA/tokens.json` hashed bearer tokens ([`crate::auth`]);
//! - `DATA/snapshots/` projection snapshots (a cache: deleting it only slows the start).
//!
//! At start the projections are restored from the newest usable snapshot and caught up with
//! the ledger, then a follower task folds every new record from the ledger's live tail, so
//! queries answer from memory and `min_position` gives read-your-writes. Commands never read
//! projections to decide: they fold their own tags from the ledger (see `residence_register`).
//!
//! Routes live with their handlers: [`commands`], [`queries`], [`statistics`], [`ledger`],
//! [`access`], [`docs`] and [`metrics`] each contribute a `routes()`; the OpenAPI document lists
//! them all. What several of them share has a module of its own, which imports no endpoint
//! module: [`params`] (query parameters and JSON answers), [`envelope`] (a command request's
//! body), [`extract`] (who calls and why), [`deadline`] (how long a body may take) and
//! [`error`].
//!
//! While it runs, the server signs a checkpoint when the head moved
//! ([`Server::start_checkpoints`]) and writes a projection snapshot when the projections moved
//! ([`Server::start_snapshots`]), each on its own period, so that a restart after a crash
//! replays only the ledger's tail since the last snapshot.

pub mod access;
pub mod commands;
pub mod deadline;
pub mod docs;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod ledger;
pub mod metrics;
pub mod params;
pub mod queries;
pub mod statistics;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use residence_ledger::clock::{Clock, ClockMode, WallClock};
use residence_ledger::directory::{Create, DirectoryOptions, LedgerDirectory};
use residence_ledger::keys::KeySource;
use residence_ledger::ledger::Ledger;
use residence_projections::SharedProjections;
use residence_snapshots::{Encoded, SnapshotStore};
use tokio::task::JoinHandle;

use crate::access_log::AccessLog;
use crate::auth::TokenStore;
use residence_register::Register;

/// The largest request body accepted, in bytes (a command is a few hundred bytes; a batch of
/// [`BATCH_MAX`] commands fits comfortably).
pub const BODY_BYTES_MAX: usize = 256 * 1024;
/// The most commands in one batch request.
pub const BATCH_MAX: usize = 100;
/// The most records returned by one ledger range or tag query.
pub const RECORDS_MAX: u64 = 1_000;
/// How long a query waits for `min_position` before answering `not_yet_visible`.
pub const VISIBILITY_WAIT: Duration = Duration::from_secs(5);
/// How long a request's body may take to arrive, counted from the end of its headers: a
/// client that trickles (or stops sending) a body is answered 408 `body_timeout` and its
/// connection closed, so a slow client cannot hold a connection and its memory. 30 s lets a
/// full [`BODY_BYTES_MAX`] body through at under 9 KB/s. (How long headers may take is the
/// listener's, in the binary: hyper reads them.)
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The directory of projection snapshots, inside the data directory.
pub const SNAPSHOT_DIR: &str = "snapshots";
/// How many snapshots are kept (the newest ones).
pub const SNAPSHOTS_KEPT: usize = 3;
/// Vietnam's offset from UTC (no daylight saving time): recording dates are local dates.
pub const VIETNAM_OFFSET_SECONDS: i64 = 7 * 3600;

/// What a server needs besides its data directory; tests inject a fixed clock, seeded keys
/// and a hook between a command's read and its append.
#[derive(Clone)]
pub struct ServerOptions {
    /// The data directory.
    pub data: PathBuf,
    /// Whether a missing ledger may be created.
    pub create: Create,
    /// The clock of both ledgers and of "today" for decisions.
    pub clock: Arc<dyn Clock>,
    /// Where new key material comes from (seeded in tests: reproducible hashes).
    pub key_source: KeySource,
    /// Derives the access log's event ids (random in production).
    pub access_id_key: [u8; 32],
    /// Called after a command's state is read and decided, before its append (tests force
    /// races with it).
    pub before_append: Option<residence_register::BeforeAppend>,
    /// Restore projections from snapshots at start and write one at shutdown (and periodically,
    /// once [`Server::start_snapshots`] is called).
    pub snapshots: bool,
    /// How long a request's body may take to arrive ([`BODY_READ_TIMEOUT`] in production).
    pub body_read_timeout: Duration,
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("data", &self.data)
            .field("create", &self.create)
            .field("key_source", &self.key_source)
            .field("snapshots", &self.snapshots)
            .field("body_read_timeout", &self.body_read_timeout)
            .finish_non_exhaustive()
    }
}

impl ServerOptions {
    /// Production options for `data`: the wall clock and random keys.
    ///
    /// # Errors
    /// When the operating system's random source fails.
    pub fn production(data: PathBuf) -> anyhow::Result<ServerOptions> {
        use rand::TryRngCore as _;
        let mut access_id_key = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut access_id_key)
            .map_err(|error| anyhow::anyhow!("the random source failed: {error}"))?;
        Ok(ServerOptions {
            data,
            create: Create::IfMissing,
            clock: Arc::new(WallClock),
            key_source: KeySource::OsRandom,
            access_id_key,
            before_append: None,
            snapshots: true,
            body_read_timeout: BODY_READ_TIMEOUT,
        })
    }
}

/// Shared state of the handlers.
#[derive(Debug)]
pub struct AppState {
    /// The register's ledger directory.
    pub directory: LedgerDirectory,
    /// Its ledger.
    pub ledger: Arc<Ledger>,
    /// Command handling.
    pub register: Register,
    /// The projections, followed from the ledger's live tail.
    pub projections: Arc<SharedProjections>,
    /// Bearer tokens.
    pub tokens: TokenStore,
    /// The access log.
    pub access: AccessLog,
    /// Counters for `/metrics`.
    pub metrics: metrics::Metrics,
    clock: Arc<dyn Clock>,
    /// The text of the latest signed checkpoint: GET never signs (a public endpoint must not
    /// make the server write), the checkpoint loop does.
    latest_checkpoint: std::sync::RwLock<String>,
    /// How long a request's body may take to arrive.
    body_read_timeout: Duration,
}

impl AppState {
    /// Now, from the server's clock.
    pub fn now_utc(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.clock.now().micros()).unwrap_or_default()
    }

    /// Today in Vietnam (UTC+7): the recording date of commands.
    pub fn today(&self) -> NaiveDate {
        (self.now_utc() + chrono::Duration::seconds(VIETNAM_OFFSET_SECONDS)).date_naive()
    }

    /// The latest signed checkpoint's text.
    pub fn latest_checkpoint(&self) -> String {
        self.latest_checkpoint
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Signs a checkpoint of the register and of the access log.
    ///
    /// # Errors
    /// When a checkpoint cannot be signed or stored.
    pub fn sign_checkpoint(&self) -> anyhow::Result<()> {
        let note = self.ledger.checkpoint(&self.directory.signer())?;
        let access = self.access.directory();
        access.ledger().checkpoint(&access.signer())?;
        let mut latest = self
            .latest_checkpoint
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *latest = note.to_string();
        Ok(())
    }

    /// Waits until the projections have folded `position` (read-your-writes).
    ///
    /// # Errors
    /// [`error::ApiError::NotYetVisible`] after [`VISIBILITY_WAIT`], or
    /// [`error::ApiError::Unavailable`] when the follower stopped.
    pub async fn wait_visible(&self, position: Option<u64>) -> Result<(), error::ApiError> {
        let Some(position) = position else {
            return Ok(());
        };
        if position >= self.ledger.head().size {
            return Err(error::ApiError::BadRequest(format!(
                "min_position {position} is beyond the ledger's head ({} records)",
                self.ledger.head().size
            )));
        }
        match tokio::time::timeout(VISIBILITY_WAIT, self.projections.wait_for(position)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => {
                tracing::error!(%error, "projections stopped");
                Err(error::ApiError::Unavailable)
            }
            Err(_) => Err(error::ApiError::NotYetVisible { position }),
        }
    }
}

/// A running server's state and background tasks (the projection follower, checkpoints and
/// snapshots).
#[derive(Debug)]
pub struct Server {
    /// The shared state.
    pub state: Arc<AppState>,
    /// How the projections were brought up at open.
    pub start: StartReport,
    tasks: Vec<JoinHandle<()>>,
    snapshots: Option<SnapshotStore>,
    /// The periodic snapshot task and the switch that stops it between two writes.
    snapshot_task: Option<(tokio::sync::watch::Sender<bool>, JoinHandle<()>)>,
}

/// How a server's projections were brought up at open: from which snapshot, and how many
/// records of the ledger's tail were replayed after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartReport {
    /// The position of the snapshot used; `None` when the projections were rebuilt from the
    /// start (no usable snapshot, or snapshots off).
    pub snapshot: Option<u64>,
    /// Snapshots skipped (damaged, stale, of other code); each was logged.
    pub skipped: usize,
    /// Records replayed after the snapshot (all of them without one).
    pub replayed: u64,
}

impl Server {
    /// Opens the data directory, restores and catches up the projections, and starts the
    /// follower. Must run inside a Tokio runtime.
    ///
    /// # Errors
    /// When the ledger, the access log, the tokens or the projections cannot be opened.
    pub fn open(options: ServerOptions) -> anyhow::Result<Server> {
        let directory_options = DirectoryOptions {
            key_source: options.key_source.clone(),
            create: options.create,
            clock: ClockMode::Wall(Arc::clone(&options.clock)),
            ..residence_register::codec::directory_options()
        };
        let directory = LedgerDirectory::open(&options.data, &directory_options)
            .with_context(|| format!("opening the ledger in {}", options.data.display()))?;
        let ledger = directory.shared_ledger();
        let access_options = DirectoryOptions {
            key_source: match &options.key_source {
                KeySource::OsRandom => KeySource::OsRandom,
                KeySource::Seeded(seed) => {
                    KeySource::Seeded(*blake3::keyed_hash(seed, b"access log").as_bytes())
                }
            },
            create: Create::IfMissing,
            ..directory_options
        };
        let access = AccessLog::open(&options.data, &access_options, options.access_id_key)
            .with_context(|| format!("opening the access log in {}", options.data.display()))?;
        let tokens = TokenStore::open(&options.data).context("reading the tokens")?;
        let (projections, snapshots, start) = if options.snapshots {
            let store = SnapshotStore::open(&options.data.join(SNAPSHOT_DIR), SNAPSHOTS_KEPT)
                .context("opening the snapshot directory")?;
            let restored = store
                .restore(&ledger, 2)
                .context("restoring the projections")?;
            for skipped in &restored.skipped {
                tracing::warn!(?skipped, "snapshot not used");
            }
            let start = StartReport {
                snapshot: restored.used.as_ref().map(|used| used.position),
                skipped: restored.skipped.len(),
                replayed: restored.replay.records,
            };
            (restored.projections, Some(store), start)
        } else {
            let (projections, replay) =
                residence_projections::replay_all(&ledger, 2).context("replaying the ledger")?;
            let start = StartReport {
                snapshot: None,
                skipped: 0,
                replayed: replay.records,
            };
            (projections, None, start)
        };
        let projections = Arc::new(SharedProjections::new(projections));
        let mut register = Register::new(Arc::clone(&ledger));
        if let Some(hook) = options.before_append {
            register = register.with_before_append(hook);
        }
        let note = ledger
            .checkpoint(&directory.signer())
            .context("signing a checkpoint")?;
        let state = Arc::new(AppState {
            directory,
            ledger: Arc::clone(&ledger),
            register,
            projections: Arc::clone(&projections),
            tokens,
            access,
            metrics: metrics::Metrics::default(),
            clock: options.clock,
            latest_checkpoint: std::sync::RwLock::new(note.to_string()),
            body_read_timeout: options.body_read_timeout,
        });
        let follower = tokio::spawn(async move {
            if let Err(error) = projections.follow_ledger(&ledger).await {
                tracing::error!(%error, "the projection follower stopped");
            }
        });
        Ok(Server {
            state,
            start,
            tasks: vec![follower],
            snapshots,
            snapshot_task: None,
        })
    }

    /// The router over this server's state.
    pub fn router(&self) -> Router {
        router(Arc::clone(&self.state))
    }

    /// Starts signing checkpoints every `every` when the head moved.
    pub fn start_checkpoints(&mut self, every: Duration) {
        self.tasks.push(tokio::spawn(checkpoint_loop(
            Arc::clone(&self.state),
            every,
        )));
    }

    /// Starts writing a projection snapshot every `every` when the projections moved since the
    /// last one (restored or written), off the request path, so that a restart after a crash
    /// replays at most the records of one period. Encoding holds the projections' read lock
    /// (queries go on; the follower waits), writing does not. Without snapshots
    /// ([`ServerOptions::snapshots`]) it does nothing.
    pub fn start_snapshots(&mut self, every: Duration) {
        let Some(store) = self.snapshots.clone() else {
            return;
        };
        if self.snapshot_task.is_some() {
            return;
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(snapshot_loop(
            Arc::clone(&self.state),
            store,
            every,
            self.start.snapshot,
            stopped,
        ));
        self.snapshot_task = Some((stop, task));
    }

    /// Stops the background tasks, signs a last checkpoint and writes a snapshot.
    pub async fn close(mut self) {
        // A periodic snapshot being written is finished first: two writes of one store must
        // not overlap.
        if let Some((stop, task)) = self.snapshot_task.take() {
            let _ = stop.send(true);
            if let Err(error) = task.await {
                tracing::error!(%error, "the snapshot task failed");
            }
        }
        if let Err(error) = self.state.sign_checkpoint() {
            tracing::error!(%error, "the last checkpoint failed");
        }
        // Let the follower fold what was acknowledged before it is stopped, so the snapshot
        // is as fresh as the ledger.
        let head = self.state.ledger.head().size;
        if let Some(last) = head.checked_sub(1) {
            let _ = tokio::time::timeout(
                Duration::from_secs(10),
                self.state.projections.wait_for(last),
            )
            .await;
        }
        for task in &self.tasks {
            task.abort();
        }
        if let Some(store) = &self.snapshots {
            let written = store.write(&self.state.projections.read());
            if let Err(error) = written {
                tracing::error!(%error, "writing a snapshot at shutdown failed");
            }
        }
    }
}

/// The router over an opened server state.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .merge(commands::routes())
        .merge(queries::routes())
        .merge(statistics::routes())
        .merge(ledger::routes())
        .merge(access::routes())
        .merge(docs::routes())
        .merge(metrics::routes())
        .fallback(|| async { error::ApiError::NotFound("no such endpoint".to_owned()) })
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(axum::middleware::from_fn({
            let timeout = state.body_read_timeout;
            move |request, next| deadline::limit(timeout, request, next)
        }))
        .with_state(state)
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if let Some(cause) = state.ledger.failure() {
        tracing::error!(%cause, "ledger is failed");
        return (StatusCode::SERVICE_UNAVAILABLE, "ledger failed").into_response();
    }
    if let Some(cause) = state.access.directory().ledger().failure() {
        tracing::error!(%cause, "access log is failed");
        return (StatusCode::SERVICE_UNAVAILABLE, "access log failed").into_response();
    }
    (StatusCode::OK, "ready").into_response()
}

/// The wall clock's time (chrono's clock feature is off workspace-wide: only the ledger's clock
/// reads the time).
pub fn wall_now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(WallClock.now().micros()).unwrap_or_default()
}

/// Signs a checkpoint whenever the head moved since the last one.
async fn checkpoint_loop(state: Arc<AppState>, every: Duration) {
    let mut signed_size = None;
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        let size = state.ledger.head().size;
        if signed_size == Some(size) {
            continue;
        }
        match state.sign_checkpoint() {
            Ok(()) => signed_size = Some(size),
            Err(error) => tracing::error!(%error, "automatic checkpoint failed"),
        }
    }
}

/// Writes a snapshot every `every` when the projections moved since `written` (the position of
/// the last snapshot restored or written), until `stop` turns true. A failed write is logged
/// and tried again at the next period: snapshots are a cache, the service goes on without.
async fn snapshot_loop(
    state: Arc<AppState>,
    store: SnapshotStore,
    every: Duration,
    mut written: Option<u64>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate: the projections were just restored.
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
        let position = state.projections.position();
        if written == Some(position) || (written.is_none() && position == 0) {
            continue;
        }
        let writer = Arc::clone(&state);
        let target = store.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let encoded = Encoded::of(&writer.projections.read());
            target.write_encoded(&encoded)
        })
        .await;
        match outcome {
            Ok(Ok(done)) => {
                tracing::info!(
                    position = done.file.position,
                    bytes = done.bytes,
                    seconds = done.elapsed.as_secs_f64(),
                    "periodic snapshot written"
                );
                written = Some(done.file.position);
            }
            Ok(Err(error)) => tracing::error!(%error, "writing a periodic snapshot failed"),
            Err(error) => tracing::error!(%error, "the periodic snapshot stopped"),
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "listening for ctrl-c failed");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "listening for SIGTERM failed");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}
