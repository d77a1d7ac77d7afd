//! `residence serve`: the server on an embedded ledger, over HTTP or HTTPS, with the demo.
//!
//! HTTP and HTTPS are served by one listener (axum-server), with the same limits on slow and
//! numerous clients: [`HEADER_READ_TIMEOUT`] for headers and TLS handshakes,
//! `residence_api::http::BODY_READ_TIMEOUT` for bodies, [`CONNECTIONS_MAX`] connections at once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use clap::Args;

use crate::connections::Capped;

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The ledger directory (created on first start; with --demo, default `demo-data`).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Seed a realistic sample (a few thousand households, history 2015..yesterday) into its
    /// own directory, print a token for every role and example requests, and serve it.
    #[arg(long)]
    pub demo: bool,
    /// Persons in the demo population.
    #[arg(long, default_value_t = crate::demo::DEMO_PERSONS, requires = "demo")]
    pub demo_persons: u64,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Seconds between automatic checkpoints (when the head moved).
    #[arg(long, default_value_t = 10)]
    pub checkpoint_every_secs: u64,
    /// Seconds between projection snapshots (when the projections moved): a restart after a
    /// crash replays at most the records of one period.
    #[arg(long, default_value_t = SNAPSHOT_EVERY.as_secs())]
    pub snapshot_every_secs: u64,
    /// Seconds a client may take to send a request's headers (and, with TLS, to finish its
    /// handshake); a slower connection is closed.
    #[arg(long, default_value_t = HEADER_READ_TIMEOUT.as_secs())]
    pub header_read_timeout_secs: u64,
    /// Seconds a request's body may take to arrive after its headers (then 408 `body_timeout`).
    #[arg(long, default_value_t = residence_api::http::BODY_READ_TIMEOUT.as_secs())]
    pub body_read_timeout_secs: u64,
    /// The most connections served at once; a connection beyond them is closed at once.
    #[arg(long, default_value_t = CONNECTIONS_MAX)]
    pub connections_max: usize,
}

/// File descriptors kept for the ledger, the access log, checkpoints and snapshots when the cap
/// on connections is fitted under the process's limit.
const RESERVED_DESCRIPTORS: usize = 256;

/// The cap on connections: `asked`, lowered to fit under the process's open-file limit (read
/// from `/proc/self/limits`) less [`RESERVED_DESCRIPTORS`], so that the cap, not the limit,
/// is what a flood of connections meets (a common default limit is 1,024).
fn connections_max(asked: usize) -> usize {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|line| line.starts_with("Max open files"))
                .and_then(|line| line.split_whitespace().nth(3))
                .and_then(|soft| soft.parse::<usize>().ok())
        });
    match limit {
        Some(limit) if limit.saturating_sub(RESERVED_DESCRIPTORS) < asked => {
            let fitted = limit.saturating_sub(RESERVED_DESCRIPTORS).max(1);
            tracing::warn!(
                asked,
                open_files_limit = limit,
                connections_max = fitted,
                "the connection cap is lowered to fit the open-file limit"
            );
            fitted
        }
        _ => asked,
    }
}

/// How long a shutdown waits for in-flight requests before it closes their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How long a client may take to send a request's headers, and to finish a TLS handshake
/// (`--header-read-timeout-secs`). Also bounds an idle keep-alive connection: the next request's
/// headers are waited for this long. A client that has not sent its headers in 10 s is broken
/// or hostile (a request's headers are a few hundred bytes).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The most connections served at once (`--connections-max`): well under the usual
/// descriptor limits of a service (the register keeps a few hundred descriptors of its own).
pub const CONNECTIONS_MAX: usize = 4096;

/// How often a running server writes a projection snapshot when the projections moved
/// (`--snapshot-every-secs`). A snapshot of a million persons takes about a second to write
/// (BENCHMARKS.md); a restart after a crash replays at most a minute of records.
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(60);

/// `residence serve`: opens (or creates) the ledger and serves until SIGTERM or Ctrl-C, then
/// drains in-flight requests, signs a last checkpoint, writes a snapshot and closes. With
/// `--demo`, first seeds the demo directory and prints tokens and example requests.
///
/// # Errors
/// When the ledger cannot be opened or the address cannot be bound.
pub fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let data = match (&args.data, args.demo) {
        (Some(data), _) => data.clone(),
        (None, true) => crate::demo::default_dir(),
        (None, false) => PathBuf::from("data"),
    };
    let guide = if args.demo {
        let now = residence_api::http::wall_now();
        let today = (now + chrono::Duration::seconds(residence_api::http::VIETNAM_OFFSET_SECONDS))
            .date_naive();
        Some(crate::demo::prepare(&data, args.demo_persons, today, now)?)
    } else {
        None
    };
    let header_read_timeout = Duration::from_secs(args.header_read_timeout_secs.max(1));
    runtime.block_on(async {
        let mut options = residence_api::http::ServerOptions::production(data.clone())?;
        options.body_read_timeout = Duration::from_secs(args.body_read_timeout_secs.max(1));
        let mut server = residence_api::http::Server::open(options)?;
        tracing::info!(
            data = %data.display(),
            origin = %server.state.directory.manifest().origin,
            records = server.state.ledger.head().size,
            projections = server.state.projections.position(),
            snapshot = ?server.start.snapshot,
            replayed = server.start.replayed,
            "ledger open"
        );
        server.start_checkpoints(Duration::from_secs(args.checkpoint_every_secs.max(1)));
        server.start_snapshots(Duration::from_secs(args.snapshot_every_secs.max(1)));
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
            _ => None,
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        if let Some(guide) = &guide {
            let base = format!("{scheme}://{}", args.listen);
            crate::output::print(&crate::demo::guide_text(guide, &base))?;
        }
        let listener = std::net::TcpListener::bind(args.listen)
            .with_context(|| format!("binding {}", args.listen))?;
        let capped = Capped::new(connections_max(args.connections_max));
        let handle = axum_server::Handle::new();
        let drain = handle.clone();
        tokio::spawn(async move {
            residence_api::http::shutdown_signal().await;
            drain.graceful_shutdown(Some(SHUTDOWN_GRACE));
        });
        let router = server.router();
        match tls {
            None => {
                let listening = axum_server::from_tcp(listener)
                    .with_context(|| format!("listening on {}", args.listen))?
                    .acceptor(capped);
                tracing::info!(listen = %args.listen, "serving http");
                bounded(listening, header_read_timeout)
                    .handle(handle)
                    .serve(router.into_make_service())
                    .await
                    .with_context(|| format!("serving http on {}", args.listen))?;
            }
            Some((cert, key)) => {
                // ring is the only provider compiled in; installing it twice is harmless.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                    .await
                    .with_context(|| {
                        format!(
                            "loading the TLS certificate {} and key {}",
                            cert.display(),
                            key.display()
                        )
                    })?;
                // HTTP/1.1 only, as on plain HTTP (see `bounded`): clients must not negotiate h2.
                let mut tls_config = (*config.get_inner()).clone();
                tls_config.alpn_protocols = vec![b"http/1.1".to_vec()];
                config.reload_from_config(std::sync::Arc::new(tls_config));
                let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
                    .handshake_timeout(header_read_timeout)
                    .acceptor(capped);
                let listening = axum_server::from_tcp(listener)
                    .with_context(|| format!("listening on {}", args.listen))?
                    .acceptor(acceptor);
                tracing::info!(listen = %args.listen, "serving https");
                bounded(listening, header_read_timeout)
                    .handle(handle)
                    .serve(router.into_make_service())
                    .await
                    .with_context(|| format!("serving https on {}", args.listen))?;
            }
        }
        server.close().await;
        tracing::info!("stopped");
        anyhow::Ok(())
    })
}

/// The limits of a listener, HTTP or HTTPS alike: HTTP/1.1 only, headers within
/// `header_read_timeout` (hyper closes the connection otherwise; the timer is axum-server's),
/// and a first request within it too (which also bounds the time before hyper starts reading).
/// How long a body may take is the router's (`residence_api::http::deadline`), how many
/// connections at once the acceptor's ([`Capped`]).
///
/// Why HTTP/1.1 only: hyper's header-read timeout exists for HTTP/1 alone; an HTTP/2 connection
/// could stay open and idle without bound. The register's clients (officers' systems, courts,
/// curl) all speak HTTP/1.1.
fn bounded<Acc>(
    server: axum_server::Server<std::net::SocketAddr, Acc>,
    header_read_timeout: Duration,
) -> axum_server::Server<std::net::SocketAddr, Acc> {
    let mut server = server
        .http1_only()
        .first_request_timeout(header_read_timeout);
    server
        .http_builder()
        .http1()
        .header_read_timeout(header_read_timeout);
    server
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_fits_under_the_open_file_limit() {
        let limits = std::fs::read_to_string("/proc/self/limits").expect("Linux /proc");
        let soft: usize = limits
            .lines()
            .find(|line| line.starts_with("Max open files"))
            .and_then(|line| line.split_whitespace().nth(3))
            .and_then(|soft| soft.parse().ok())
            .expect("a numeric soft limit on this machine");
        assert_eq!(
            connections_max(usize::MAX),
            soft.saturating_sub(RESERVED_DESCRIPTORS).max(1)
        );
        assert_eq!(connections_max(1), 1, "a cap under the limit is kept");
    }
}
