//! `residence serve`: the server on an embedded ledger, over HTTP or HTTPS, with the demo.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use clap::Args;

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
}

/// How long a TLS shutdown waits for in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

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
    runtime.block_on(async {
        let options = residence_api::http::ServerOptions::production(data.clone())?;
        let mut server = residence_api::http::Server::open(options)?;
        tracing::info!(
            data = %data.display(),
            origin = %server.state.directory.manifest().origin,
            records = server.state.ledger.head().size,
            projections = server.state.projections.position(),
            "ledger open"
        );
        server.start_checkpoints(Duration::from_secs(args.checkpoint_every_secs.max(1)));
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
            _ => None,
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        if let Some(guide) = &guide {
            let base = format!("{scheme}://{}", args.listen);
            println!("{}", crate::demo::guide_text(guide, &base));
        }
        match tls {
            None => {
                let listener = tokio::net::TcpListener::bind(args.listen)
                    .await
                    .with_context(|| format!("binding {}", args.listen))?;
                tracing::info!(listen = %args.listen, "serving http");
                axum::serve(listener, server.router())
                    .with_graceful_shutdown(residence_api::http::shutdown_signal())
                    .await
                    .context("serving")?;
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
                let handle = axum_server::Handle::new();
                let drain = handle.clone();
                tokio::spawn(async move {
                    residence_api::http::shutdown_signal().await;
                    drain.graceful_shutdown(Some(SHUTDOWN_GRACE));
                });
                tracing::info!(listen = %args.listen, "serving https");
                axum_server::bind_rustls(args.listen, config)
                    .handle(handle)
                    .serve(server.router().into_make_service())
                    .await
                    .with_context(|| format!("serving https on {}", args.listen))?;
            }
        }
        server.close().await;
        tracing::info!("stopped");
        anyhow::Ok(())
    })
}
