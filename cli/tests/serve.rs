//! The `residence` binary as an operator runs it: `serve` on a real socket, a graceful
//! shutdown on SIGTERM that loses nothing acknowledged, HTTPS with `--tls-cert/--tls-key`,
//! `tokens create`, and `serve --demo`.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use residence_ledger::directory::{Create, DirectoryOptions, LedgerDirectory, verify_directory};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

mod support;

use support::{BIN, create_token, free_port, parse_response, request};

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[&str], addr: SocketAddr) -> Server {
    let child = Command::new(BIN)
        .args(args)
        .args(["--listen", &addr.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    Server { child, addr }
}

async fn wait_ready(addr: SocketAddr) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if let Ok((200, _)) = request(addr, "GET", "/readyz", None, None).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server at {addr} did not become ready");
}

fn record_person(n: u32) -> String {
    // PINs of men born in 1990 in Hà Nội: prefix 001, century/sex digit 0 (male, 1900s),
    // year 90, then six digits.
    format!(
        r#"{{"request_id":"drain-{n}","command":{{"person":"new","pin":"001090{n:06}","name":"Nguyễn Văn {n}","birth_date":"1990-01-01","sex":"male"}}}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_commands_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    let addr = free_port();
    let mut server = spawn(&["serve", "--data", data.to_str().expect("utf-8")], addr);
    wait_ready(server.addr).await;
    let token = Arc::new(create_token(&data, "population-database"));

    // 200 clients send one command each; once 20 have been answered (so the server is busy
    // with the rest), SIGTERM asks it to stop. Requests it had accepted must be answered and
    // recorded; later connections may be refused.
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for n in 0..200 {
        let token = Arc::clone(&token);
        let answered = Arc::clone(&answered);
        tasks.push(tokio::spawn(async move {
            let body = record_person(n);
            let answer = request(
                addr,
                "POST",
                "/v1/commands/record_person",
                Some(&token),
                Some(&body),
            )
            .await;
            answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            (n, answer)
        }));
    }
    let started = Instant::now();
    while answered.load(std::sync::atomic::Ordering::SeqCst) < 20
        && started.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let mut acknowledged = Vec::new();
    for task in tasks {
        let (n, answer) = task.await.expect("the task ends");
        if let Ok((201, body)) = answer {
            let value: serde_json::Value = serde_json::from_str(&body).expect("a JSON answer");
            let position = value["position"].as_u64().expect("a position");
            acknowledged.push((n, position));
        }
    }
    let exit = server.child.wait().expect("the server exits");
    assert!(exit.success(), "a graceful shutdown exits 0, got {exit:?}");
    assert!(
        !acknowledged.is_empty(),
        "some commands were answered before the shutdown"
    );

    // Every acknowledged command is in the ledger, at the position it was told.
    let directory = LedgerDirectory::open(
        &data,
        &DirectoryOptions {
            create: Create::Never,
            ..residence_register::codec::directory_options()
        },
    )
    .expect("the ledger opens");
    for (n, position) in &acknowledged {
        let stored = directory
            .ledger()
            .read(residence_ledger::record::Position(*position))
            .expect("an acknowledged record is readable");
        let metadata: serde_json::Value =
            serde_json::from_slice(&stored.record.metadata).expect("metadata JSON");
        assert_eq!(metadata["request_id"], format!("drain-{n}"));
    }
    drop(directory);
    let (report, _) = verify_directory(&data, &mut |_| {}).expect("the ledger verifies");
    assert!(report.records >= acknowledged.len() as u64);
    let (access, _) =
        verify_directory(&data.join("access"), &mut |_| {}).expect("the access log verifies");
    assert_eq!(access.records, 0, "commands are not personal-data reads");
}

fn tls_files(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, rcgen::Certificate) {
    let key = rcgen::KeyPair::generate().expect("a key pair");
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("certificate params");
    let cert = params.self_signed(&key).expect("a self-signed certificate");
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.pem()).expect("write the certificate");
    std::fs::write(&key_path, key.serialize_pem()).expect("write the key");
    (cert_path, key_path, cert)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    let (cert_path, key_path, cert) = tls_files(dir.path());
    let addr = free_port();
    let _server = spawn(
        &[
            "serve",
            "--data",
            data.to_str().expect("utf-8"),
            "--tls-cert",
            cert_path.to_str().expect("utf-8"),
            "--tls-key",
            key_path.to_str().expect("utf-8"),
        ],
        addr,
    );

    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).expect("a trusted root");
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name =
        tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").expect("a server name");

    let started = Instant::now();
    let response = loop {
        let attempt = async {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            let mut tls = connector.connect(name.clone(), stream).await?;
            tls.write_all(
                b"GET /v1/ledger/public-key HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            )
            .await?;
            let mut response = Vec::new();
            tls.read_to_end(&mut response).await?;
            std::io::Result::Ok(response)
        };
        match attempt.await {
            Ok(response) => break response,
            Err(_) if started.elapsed() < Duration::from_secs(60) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("no HTTPS answer: {error}"),
        }
    };
    let (status, body) = parse_response(&response).expect("an HTTP response");
    assert_eq!(status, 200);
    assert!(
        body.contains("residence-ledger/"),
        "the verifier key: {body}"
    );

    // Plain HTTP on the TLS port is not served.
    let plain = request(addr, "GET", "/healthz", None, None).await;
    assert!(!matches!(plain, Ok((200, _))), "{plain:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seeds_its_own_directory_and_prints_working_tokens() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("demo");
    let addr = free_port();
    let mut server = spawn(
        &[
            "serve",
            "--demo",
            "--demo-persons",
            "300",
            "--data",
            data.to_str().expect("utf-8"),
        ],
        addr,
    );
    let lines = read_guide(&mut server).await;
    let token_of = |role: &str| token_of(&lines, role);
    let officer = token_of("officer");
    let auditor = token_of("auditor");
    wait_ready(addr).await;
    assert!(data.join("DEMO").exists());

    let (status, body) = request(
        addr,
        "GET",
        "/v1/statistics/population",
        Some(&officer),
        None,
    )
    .await
    .expect("an answer");
    assert_eq!(status, 200, "{body}");
    let (status, _) = request(addr, "GET", "/v1/access-log", Some(&auditor), None)
        .await
        .expect("an answer");
    assert_eq!(status, 200);
    let (status, _) = request(addr, "GET", "/v1/access-log", Some("rsd_wrong"), None)
        .await
        .expect("an answer");
    assert_eq!(status, 401);

    // A directory that is not a demo directory is refused.
    let other = dir.path().join("real");
    std::fs::create_dir_all(&other).expect("a directory");
    std::fs::write(other.join("ledger.json"), "{}").expect("a file");
    let refused = Command::new(BIN)
        .args(["serve", "--demo", "--data"])
        .arg(&other)
        .args(["--listen", &free_port().to_string()])
        .output()
        .expect("the binary runs");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not a demo directory"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// The demo's guide, read from the server's stdout up to its last line (the one naming
/// `/docs`). The pipe is drained to the end (a closed pipe would make the server's next print
/// fail).
async fn read_guide(server: &mut Server) -> Vec<String> {
    let stdout = server.child.stdout.take().expect("stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                // The test stopped listening; keep draining.
            }
        }
    });
    tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        while let Ok(line) = receiver.recv_timeout(Duration::from_secs(300)) {
            let done = line.contains("/docs");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    })
    .await
    .expect("the guide is read")
}

/// The token the guide prints for `role`.
fn token_of(lines: &[String], role: &str) -> String {
    lines
        .iter()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some(role)).then(|| words.next().map(str::to_owned))?
        })
        .unwrap_or_else(|| panic!("no {role} token in {lines:#?}"))
}

/// The commands of the README's tour (between its `tour:start` and `tour:end` markers), each
/// with the status its trailing comment promises (`# 201: …`).
fn readme_tour() -> Vec<(String, u16)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let start = readme.find("<!-- tour:start").expect("a tour:start marker");
    let end = readme.find("<!-- tour:end").expect("a tour:end marker");
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in readme[start..end].lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(continued) = line.strip_suffix('\\') {
            pending.push_str(continued);
            continue;
        }
        pending.push_str(line);
        let full = std::mem::take(&mut pending);
        let (command, comment) = full
            .rsplit_once("   # ")
            .unwrap_or_else(|| full.rsplit_once(" # ").expect("a trailing status comment"));
        let status = comment
            .trim_start_matches(|c: char| !c.is_ascii_digit())
            .get(..3)
            .and_then(|digits| digits.parse().ok())
            .unwrap_or_else(|| panic!("no status in the comment of {full}"));
        commands.push((command.trim().to_owned(), status));
    }
    commands
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_tour_answers_as_it_says() {
    let tour = readme_tour();
    assert!(tour.len() >= 15, "the tour has {} commands", tour.len());
    let curl = Command::new("curl").arg("--version").output();
    assert!(
        curl.is_ok_and(|output| output.status.success()),
        "the README tour needs curl (.ci/run installs it)"
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("demo");
    let addr = free_port();
    let mut server = spawn(
        &[
            "serve",
            "--demo",
            "--demo-persons",
            "2000",
            "--data",
            data.to_str().expect("utf-8"),
        ],
        addr,
    );
    let stdout = server.child.stdout.take().expect("stdout");
    let exports = tokio::task::spawn_blocking(move || {
        let mut exports = Vec::new();
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if line.trim_start().starts_with("export ") {
                exports.push(line.trim().to_owned());
                if exports.len() == 2 {
                    break;
                }
            }
        }
        // Keep draining: a closed pipe would fail the server's next print.
        std::thread::spawn(move || lines.for_each(drop));
        exports
    })
    .await
    .expect("the exports are read");
    assert_eq!(exports.len(), 2, "the demo prints two export lines");
    wait_ready(addr).await;
    let mut script = exports.join("\n");
    script.push('\n');
    for (index, (command, _)) in tour.iter().enumerate() {
        script.push_str(&format!(
            "echo \"{index} $({command} -o /dev/null -w '%{{http_code}}')\"\n"
        ));
    }
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("bash runs");
    let answered = String::from_utf8_lossy(&output.stdout);
    let statuses: Vec<u16> = answered
        .lines()
        .filter_map(|line| line.split_once(' ')?.1.parse().ok())
        .collect();
    assert_eq!(statuses.len(), tour.len(), "{answered}");
    for ((command, expected), got) in tour.iter().zip(statuses) {
        assert_eq!(got, *expected, "{command}");
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 11: slow and numerous clients, periodic snapshots, what the CLI prints.

/// Whether the server closed `stream` within `within`: a read ends (EOF or reset) rather than
/// waiting. Whatever the server answered first (a 408) is returned.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buffer = [0u8; 1024];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| answer)
}

/// Item 6: connections that never finish their headers (or their bodies) neither lock other
/// clients out nor stay open: the server answers a normal client at once and closes the slow
/// ones after the header timeout (a slow body gets 408 `body_timeout` first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_slow_clients_are_closed_after_the_timeout_and_others_are_served() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    let addr = free_port();
    let _server = spawn(
        &[
            "serve",
            "--data",
            data.to_str().expect("utf-8"),
            "--header-read-timeout-secs",
            "2",
            "--body-read-timeout-secs",
            "2",
        ],
        addr,
    );
    wait_ready(addr).await;
    let token = create_token(&data, "population-database");

    // 400 connections that never finish their headers: some send nothing, some half a
    // request line, some every header but the blank line that ends them.
    let partial = [
        String::new(),
        "GET /v1/ledger/checkpoint HT".to_owned(),
        format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nX-Slow: 1\r\n"),
    ];
    let mut slow = Vec::new();
    for n in 0..400 {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("a connection");
        stream
            .write_all(partial[n % partial.len()].as_bytes())
            .await
            .expect("a partial request");
        slow.push(stream);
    }
    // 20 more send a command's headers and a tenth of its body.
    let body = record_person(1);
    let mut trickling = Vec::new();
    for _ in 0..20 {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("a connection");
        let head = format!(
            "POST /v1/commands/record_person HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
            body.len(),
            &body[..body.len() / 10]
        );
        stream.write_all(head.as_bytes()).await.expect("headers");
        trickling.push(stream);
    }
    let started = Instant::now();

    // A normal client is answered meanwhile, at once.
    let answer = tokio::time::timeout(
        Duration::from_secs(1),
        request(addr, "GET", "/v1/ledger/checkpoint", None, None),
    )
    .await
    .expect("a normal client is answered within a second")
    .expect("an answer");
    assert_eq!(answer.0, 200, "{answer:?}");

    // Every slow connection is closed after the timeout (2 s), none much later.
    for (n, stream) in slow.iter_mut().enumerate() {
        let left = Duration::from_secs(6).saturating_sub(started.elapsed());
        let answer = closed_within(stream, left).await;
        assert!(
            answer.is_some(),
            "slow connection {n} is still open after 6 s"
        );
    }
    for stream in &mut trickling {
        let left = Duration::from_secs(8).saturating_sub(started.elapsed());
        let answer = closed_within(stream, left)
            .await
            .expect("a trickling body's connection is closed");
        let (status, body) = parse_response(&answer).expect("an HTTP answer");
        assert_eq!(status, 408, "{body}");
        assert!(body.contains("body_timeout"), "{body}");
    }
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "nothing was closed before its timeout: {:?}",
        started.elapsed()
    );
    // And the server still serves.
    let (status, _) = request(addr, "GET", "/readyz", None, None)
        .await
        .expect("an answer");
    assert_eq!(status, 200);
}

/// Item 6: beyond `--connections-max`, a connection is closed as soon as it is accepted (the
/// descriptors stay bounded); once the slow ones time out, clients are served again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_connections_beyond_the_cap_are_closed_at_once() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    let addr = free_port();
    let _server = spawn(
        &[
            "serve",
            "--data",
            data.to_str().expect("utf-8"),
            "--header-read-timeout-secs",
            "3",
            "--connections-max",
            "32",
        ],
        addr,
    );
    wait_ready(addr).await;
    // Let the probes of `wait_ready` release their permits.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut idle = Vec::new();
    for _ in 0..48 {
        idle.push(
            tokio::net::TcpStream::connect(addr)
                .await
                .expect("the kernel accepts the connection"),
        );
    }
    // The server accepts all of them at once and closes those beyond the cap then: they are
    // looked for until 16 are found, well within the header timeout (3 s).
    let connected = Instant::now();
    let mut closed = vec![false; idle.len()];
    while closed.iter().filter(|closed| **closed).count() < 16
        && connected.elapsed() < Duration::from_secs(2)
    {
        for (stream, closed) in idle.iter_mut().zip(&mut closed) {
            if !*closed
                && closed_within(stream, Duration::from_millis(5))
                    .await
                    .is_some()
            {
                *closed = true;
            }
        }
    }
    let closed_at_once = closed.iter().filter(|closed| **closed).count();
    assert_eq!(
        closed_at_once, 16,
        "the 16 connections beyond the 32 allowed"
    );
    // After the header timeout the slow ones are gone and a client is served.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (status, _) = request(addr, "GET", "/readyz", None, None)
        .await
        .expect("an answer");
    assert_eq!(status, 200);
}

/// Item 6 over HTTPS: TCP connections that never start (or finish) their TLS handshake are
/// closed after the header timeout, and a TLS client is served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_slow_tls_handshakes_are_closed_after_the_timeout() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    let (cert_path, key_path, cert) = tls_files(dir.path());
    let addr = free_port();
    let _server = spawn(
        &[
            "serve",
            "--data",
            data.to_str().expect("utf-8"),
            "--tls-cert",
            cert_path.to_str().expect("utf-8"),
            "--tls-key",
            key_path.to_str().expect("utf-8"),
            "--header-read-timeout-secs",
            "2",
        ],
        addr,
    );
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).expect("a trusted root");
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name =
        tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").expect("a server name");
    let https_get = |path: &'static str| {
        let connector = connector.clone();
        let name = name.clone();
        async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            let mut tls = connector.connect(name, stream).await?;
            tls.write_all(
                format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await?;
            let mut response = Vec::new();
            tls.read_to_end(&mut response).await?;
            parse_response(&response)
        }
    };
    let started = Instant::now();
    while https_get("/readyz").await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no HTTPS server"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut slow = Vec::new();
    for n in 0..100 {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("a connection");
        if n % 2 == 1 {
            // The first bytes of a TLS record header, never the rest.
            stream.write_all(&[0x16, 0x03]).await.expect("bytes");
        }
        slow.push(stream);
    }
    let started = Instant::now();
    let (status, _) = tokio::time::timeout(Duration::from_secs(1), https_get("/readyz"))
        .await
        .expect("a TLS client is answered within a second")
        .expect("an answer");
    assert_eq!(status, 200);
    for (n, stream) in slow.iter_mut().enumerate() {
        let left = Duration::from_secs(6).saturating_sub(started.elapsed());
        assert!(
            closed_within(stream, left).await.is_some(),
            "slow TLS connection {n} is still open after 6 s"
        );
    }
}

/// The newest snapshot file's position in `dir`, if any.
fn newest_snapshot(dir: &Path) -> Option<u64> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("snapshot-")?
                .strip_suffix(".bin")?
                .parse()
                .ok()
        })
        .max()
}

/// Item 8: a running server writes projection snapshots on its own (not only at a clean stop),
/// so a server killed with SIGKILL restarts from the newest of them and replays only the
/// ledger's tail after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_a_killed_server_restarts_from_a_periodic_snapshot() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    let addr = free_port();
    let mut server = spawn(
        &[
            "serve",
            "--data",
            data.to_str().expect("utf-8"),
            "--snapshot-every-secs",
            "1",
        ],
        addr,
    );
    wait_ready(addr).await;
    let token = create_token(&data, "population-database");
    for n in 0..30 {
        let (status, body) = request(
            addr,
            "POST",
            "/v1/commands/record_person",
            Some(&token),
            Some(&record_person(n)),
        )
        .await
        .expect("an answer");
        assert_eq!(status, 201, "{body}");
    }
    // Within a few periods the projections (30 persons) are on disk.
    let snapshots = data.join("snapshots");
    let started = Instant::now();
    while newest_snapshot(&snapshots) < Some(30) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no snapshot of the 30 records was written: {:?}",
            newest_snapshot(&snapshots)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A tail the snapshot may not hold, then a crash.
    for n in 30..35 {
        let (status, body) = request(
            addr,
            "POST",
            "/v1/commands/record_person",
            Some(&token),
            Some(&record_person(n)),
        )
        .await
        .expect("an answer");
        assert_eq!(status, 201, "{body}");
    }
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("the server is gone");
    let newest = newest_snapshot(&snapshots).expect("a snapshot");

    let reopened = residence_api::http::Server::open(
        residence_api::http::ServerOptions::production(data.clone()).expect("options"),
    )
    .expect("the data directory opens after the crash");
    let head = reopened.state.ledger.head().size;
    assert_eq!(head, 35, "every acknowledged record");
    assert_eq!(
        reopened.start.snapshot,
        Some(newest),
        "{:?}",
        reopened.start
    );
    assert_eq!(reopened.start.skipped, 0);
    assert_eq!(
        reopened.start.replayed,
        head - newest,
        "only the tail is replayed"
    );
    assert_eq!(reopened.state.projections.position(), head);
    reopened.close().await;
}

/// A ledger directory with a few records, made by a server that stopped cleanly.
async fn small_ledger(data: &Path) {
    let server = residence_api::http::Server::open(
        residence_api::http::ServerOptions::production(data.to_path_buf()).expect("options"),
    )
    .expect("a new ledger");
    let token = server
        .state
        .tokens
        .create(
            residence_api::auth::Role::PopulationDatabase,
            "feed",
            residence_api::auth::Jurisdiction::default(),
            residence_api::http::wall_now(),
            None,
        )
        .expect("a token")
        .0;
    let router = server.router();
    for n in 0..3 {
        use tower::ServiceExt as _;
        let request = axum::http::Request::post("/v1/commands/record_person")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(record_person(n)))
            .expect("a request");
        let response = router.clone().oneshot(request).await.expect("an answer");
        assert_eq!(response.status(), 201);
    }
    server.close().await;
}

/// Runs the binary with `args`; returns its stdout (it must succeed).
fn run(args: &[&str]) -> String {
    let output = Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Item 12: `residence checkpoint` prints the signed note it stored, byte for byte (it used to
/// print the unsigned body), and every root the CLI prints is in the signed note's encoding
/// (base64; `verify` used to print hex).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_the_cli_prints_checkpoints_and_roots_as_they_are_stored() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    small_ledger(&data).await;
    let data_arg = data.to_str().expect("utf-8");
    for _ in 0..2 {
        let printed = run(&["checkpoint", "--data", data_arg]);
        let note = residence_ledger::checkpoint::SignedNote::parse(&printed)
            .unwrap_or_else(|error| panic!("not a signed note ({error}): {printed}"));
        assert!(!note.signatures().is_empty());
        let checkpoint = residence_ledger::checkpoint::Checkpoint::parse_body(note.text())
            .expect("a checkpoint body");
        let stored = std::fs::read_to_string(
            data.join("checkpoints")
                .join(format!("{:020}.note", checkpoint.size)),
        )
        .expect("the stored note");
        assert_eq!(printed, stored, "what is printed is what is stored");
    }
    let printed = run(&["checkpoint", "--data", data_arg]);
    let root_line = printed.lines().nth(2).expect("the root line").to_owned();
    let head_line = printed.lines().nth(4).expect("the head line").to_owned();
    let verified = run(&["verify", "--data", data_arg]);
    assert!(
        verified.contains(&format!("root {root_line},")),
        "verify prints the root as the checkpoint does ({root_line}): {verified}"
    );
    assert!(
        verified.contains(&format!("head {}", head_line.trim_start_matches("head "))),
        "verify prints the head as the checkpoint does ({head_line}): {verified}"
    );
    let backup = dir.path().join("copy");
    let copied = run(&[
        "backup",
        "--data",
        data_arg,
        "--to",
        backup.to_str().expect("utf-8"),
    ]);
    assert!(
        copied.contains(&format!("root {root_line},")),
        "backup prints the root as the checkpoint does ({root_line}): {copied}"
    );
}

/// Item 12 (and 4): a CLI whose stdout was closed (`residence verify … | head -1`) ends quietly
/// and successfully; it used to panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_a_closed_stdout_ends_the_cli_quietly() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    small_ledger(&data).await;
    for args in [
        vec!["verify", "--data", data.to_str().expect("utf-8")],
        vec!["checkpoint", "--data", data.to_str().expect("utf-8")],
        vec!["tokens", "list", "--data", data.to_str().expect("utf-8")],
    ] {
        // A pipe whose reading end is closed before the binary writes anything.
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let output = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{args:?}: {:?} {stderr}",
            output.status
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("error: "), "{args:?}: {stderr}");
    }
    // `| head -1` as people type it.
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; {BIN} verify --data {} | head -1",
            data.display()
        ))
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("ok: "));
}

/// Item 12: a restarted demo says that it reused the existing demo data and revokes the tokens
/// of its earlier start (each restart used to add six more valid tokens).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_11_a_restarted_demo_reuses_its_data_and_revokes_the_earlier_tokens() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("demo");
    let args = [
        "serve",
        "--demo",
        "--demo-persons",
        "300",
        "--data",
        data.to_str().expect("utf-8"),
    ];
    let first_addr = free_port();
    let mut first = spawn(&args, first_addr);
    let first_lines = read_guide(&mut first).await;
    assert!(
        !first_lines.iter().any(|line| line.contains("reused")),
        "{first_lines:#?}"
    );
    let old_officer = token_of(&first_lines, "officer");
    wait_ready(first_addr).await;
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("stopped");

    let addr = free_port();
    let mut second = spawn(&args, addr);
    let lines = read_guide(&mut second).await;
    assert!(
        lines
            .iter()
            .any(|line| line.contains("Existing demo data reused")
                && line.contains("6 demo tokens of earlier starts were revoked")),
        "{lines:#?}"
    );
    let officer = token_of(&lines, "officer");
    assert_ne!(officer, old_officer);
    wait_ready(addr).await;
    let path = "/v1/statistics/population";
    let (status, _) = request(addr, "GET", path, Some(&officer), None)
        .await
        .expect("an answer");
    assert_eq!(status, 200);
    let (status, _) = request(addr, "GET", path, Some(&old_officer), None)
        .await
        .expect("an answer");
    assert_eq!(status, 401, "the earlier start's token is revoked");
    // Six tokens work, whatever the number of starts.
    let listed = run(&["tokens", "list", "--data", data.to_str().expect("utf-8")]);
    let valid = listed
        .lines()
        .filter(|line| !line.contains("revoked"))
        .count();
    assert_eq!(valid, 6, "{listed}");
}
