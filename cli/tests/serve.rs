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

const BIN: &str = env!("CARGO_BIN_EXE_residence");

/// A free loopback port (bound and released; a race with another process is unlikely).
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address")
}

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

/// One HTTP/1.1 request on a fresh connection; returns the status and body.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = token {
        text.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        text.push_str("Content-Type: application/json\r\n");
    }
    text.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(text.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    parse_response(&response)
}

fn parse_response(response: &[u8]) -> std::io::Result<(u16, String)> {
    let text = String::from_utf8_lossy(response);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {text:?}")))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
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

fn create_token(data: &Path, role: &str) -> String {
    let output = Command::new(BIN)
        .args(["tokens", "create", "--data"])
        .arg(data)
        .args(["--role", role, "--label", "test"])
        .output()
        .expect("tokens create runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(token.starts_with("rsd_"), "{token}");
    token
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
    // The guide is printed once the server is about to listen. The pipe is drained to the
    // end (a closed pipe would make the server's next print fail).
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
    let lines = tokio::task::spawn_blocking(move || {
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
    .expect("the guide is read");
    let token_of = |role: &str| {
        lines
            .iter()
            .find_map(|line| {
                let mut words = line.split_whitespace();
                (words.next() == Some(role)).then(|| words.next().map(str::to_owned))?
            })
            .unwrap_or_else(|| panic!("no {role} token in {lines:#?}"))
    };
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
