//! Regression tests of issue 11 ("integrity without conditions"), named after its items: what
//! the router does with hostile or unlucky requests. Each failed on the code before the fix.
//! (Slow connections and periodic snapshots need a socket and a killed process: they are the
//! binary's tests, `cli/tests/serve.rs`.)

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode};
use residence_ledger::record::Position;
use serde_json::{Value, json};

use crate::support::TestServer;

const PURPOSE: &str = "case 45/2026/DS-ST";
const AN: &str = "0000000000000001";
const AN_PIN: &str = "001090012345";

/// Records Nguyễn Văn An through the feed's endpoint.
async fn record_an(server: &TestServer) {
    let (status, body) = server
        .call(
            Method::POST,
            "/v1/commands/record_person",
            Some(&server.feed),
            None,
            Some(
                &json!({"request_id": "an", "command": {"person": AN, "pin": AN_PIN,
                "name": "Nguyễn Văn An", "birth_date": "1990-05-01", "sex": "male"}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body:#}");
}

fn head(server: &TestServer) -> u64 {
    server.server.state.ledger.head().size
}

/// The access entry at `position` as the auditor reads it, and its stored record's tags and
/// metadata as text.
fn access_entry(server: &TestServer, position: u64) -> (Value, Vec<String>, String) {
    let access = &server.server.state.access;
    let records = access.read(position, 1).expect("the access log reads");
    let entry = serde_json::to_value(&records[0].entry).expect("an entry serialises");
    let stored = access
        .directory()
        .ledger()
        .read(Position(position))
        .expect("the record reads");
    let tags = stored
        .record
        .tags
        .iter()
        .map(|link| link.tag.as_str().to_owned())
        .collect();
    let metadata = String::from_utf8(stored.record.metadata.clone()).expect("JSON metadata");
    (entry, tags, metadata)
}

/// Item 9: a look-up of a PIN (or household, or record) that the register does not hold leaves
/// an access entry before its 404, so nobody probes who exists untraced; every entry names the
/// token's holder in its payload, never in its tags or metadata.
#[tokio::test]
async fn item_9_a_look_up_that_finds_nobody_is_logged_before_its_404_with_the_holder() {
    let server = TestServer::start().await;
    record_an(&server).await;
    let unknown = [
        (
            "/v1/persons/001099999999",
            &server.officer,
            "person.residence",
            "pin:001099999999",
            "test officer",
        ),
        (
            "/v1/persons/001099999999/history",
            &server.court,
            "person.history",
            "pin:001099999999",
            "test court",
        ),
        (
            "/v1/households/00000000000000ff/book",
            &server.supervisor,
            "household.book",
            "household:00000000000000ff",
            "test supervisor",
        ),
        (
            "/v1/ledger/records/99",
            &server.auditor,
            "ledger.record",
            "ledger",
            "test auditor",
        ),
    ];
    for (path, token, action, subject, holder) in unknown {
        let position = server.server.state.access.len();
        let (status, body) = server
            .call(Method::GET, path, Some(token), Some(PURPOSE), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body:#}");
        assert_eq!(body["code"], "not_found");
        assert_eq!(
            server.server.state.access.len(),
            position + 1,
            "{path}: one entry"
        );
        let (entry, tags, metadata) = access_entry(&server, position);
        assert_eq!(entry["action"], action, "{entry:#}");
        assert_eq!(entry["subject"], subject, "{entry:#}");
        assert_eq!(entry["purpose"], PURPOSE, "{entry:#}");
        assert_eq!(entry["holder"], holder, "{entry:#}");
        assert!(
            entry["detail"]
                .as_str()
                .is_some_and(|detail| detail.ends_with("not found")),
            "{entry:#}"
        );
        // The label is in the payload alone (erasable); a PIN tag is stored blinded.
        assert!(!metadata.contains(holder), "{metadata}");
        assert!(tags.iter().all(|tag| !tag.contains(holder)), "{tags:?}");
        assert!(
            tags.iter().all(|tag| !tag.contains("001099999999")),
            "{tags:?}"
        );
    }
    // A read that finds its person names the holder too.
    let position = server.server.state.access.len();
    let (status, _) = server
        .call(
            Method::GET,
            &format!("/v1/persons/{AN_PIN}"),
            Some(&server.officer),
            Some(PURPOSE),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (entry, _, metadata) = access_entry(&server, position);
    assert_eq!(entry["subject"], format!("person:{AN}"));
    assert_eq!(entry["holder"], "test officer");
    assert!(!entry["detail"].as_str().unwrap_or("").contains("not found"));
    assert!(!metadata.contains("test officer"), "{metadata}");
    // A caller refused before reading (no purpose, wrong role) leaves nothing.
    let before = server.server.state.access.len();
    let (status, _) = server
        .call(
            Method::GET,
            "/v1/persons/001099999999",
            Some(&server.officer),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = server
        .call(
            Method::GET,
            "/v1/persons/001099999999",
            Some(&server.admin),
            Some(PURPOSE),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(server.server.state.access.len(), before);
    server.assert_verifiable();
}

/// Item 10: a body naming a member twice is refused by name, never resolved (the last one
/// used to win silently), on the single endpoint and in a batch.
#[tokio::test]
async fn item_10_a_member_named_twice_is_refused_by_name() {
    let server = TestServer::start().await;
    let bodies = [
        (
            r#"{"request_id":"r-1","command":{"person":"new","pin":"001090012345","name":"Nguyễn Văn An","birth_date":"1990-05-01","sex":"male","pin":"001090054321"}}"#,
            "command: duplicate field `pin`",
        ),
        (
            r#"{"request_id":"r-1","request_id":"r-2","command":{"person":"new","pin":"001090012345","name":"Nguyễn Văn An","birth_date":"1990-05-01","sex":"male"}}"#,
            "duplicate field `request_id`",
        ),
        // Without an id to mint (the one-pass reading of the body).
        (
            r#"{"request_id":"r-1","command":{"person":"0000000000000001","pin":"001090012345","name":"Nguyễn Văn An","birth_date":"1990-05-01","sex":"male","sex":"female"}}"#,
            "command: duplicate field `sex`",
        ),
    ];
    for (body, message) in bodies {
        let (status, answer) = server
            .call_raw(
                Method::POST,
                "/v1/commands/record_person",
                Some(&server.feed),
                None,
                Some(body.as_bytes().to_vec()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer:#}");
        assert_eq!(
            answer,
            json!({"code": "invalid_body", "message": message}),
            "{body}"
        );
    }
    let batch = r#"{"commands":[{"procedure":"record_person","request_id":"r-1","command":{"person":"new","pin":"001090012345","name":"Nguyễn Văn An","birth_date":"1990-05-01","sex":"male"},"procedure":"reassign_pin"}]}"#;
    let (status, answer) = server
        .call_raw(
            Method::POST,
            "/v1/commands",
            Some(&server.feed),
            None,
            Some(batch.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer:#}");
    assert_eq!(
        answer,
        json!({"code": "invalid_body", "message": "commands[0]: duplicate field `procedure`"})
    );
    assert_eq!(head(&server), 0, "nothing was recorded");
}

/// A request with `headers` (name, value) on top of the path, and a JSON body if any.
fn request(
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(body).expect("JSON"))),
        None => builder.body(Body::empty()),
    }
    .expect("a valid request")
}

/// Item 10: who calls and why are each taken from one header: two `Authorization` or two
/// `X-Purpose` headers are refused (the first used to win), whatever they hold.
#[tokio::test]
async fn item_10_two_authorization_or_purpose_headers_are_refused() {
    let server = TestServer::start().await;
    record_an(&server).await;
    let officer = format!("Bearer {}", server.officer);
    let court = format!("Bearer {}", server.court);
    let person = format!("/v1/persons/{AN_PIN}");
    let cases = [
        vec![
            ("authorization", officer.as_str()),
            ("authorization", court.as_str()),
            ("x-purpose", PURPOSE),
        ],
        vec![
            ("authorization", officer.as_str()),
            ("authorization", "Bearer rsd_not-a-token"),
            ("x-purpose", PURPOSE),
        ],
        vec![
            ("authorization", officer.as_str()),
            ("authorization", officer.as_str()),
            ("x-purpose", PURPOSE),
        ],
        vec![
            ("authorization", officer.as_str()),
            ("x-purpose", PURPOSE),
            ("x-purpose", "another purpose"),
        ],
    ];
    let before = server.server.state.access.len();
    for headers in &cases {
        let (status, body) = server
            .send(request(Method::GET, &person, headers, None))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{headers:?}: {body:#}");
        assert_eq!(body["code"], "bad_request", "{body:#}");
    }
    assert_eq!(server.server.state.access.len(), before, "nothing was read");
    // Reviewing the access log (a purpose is optional there) and recording a command.
    let auditor = format!("Bearer {}", server.auditor);
    let (status, _) = server
        .send(request(
            Method::GET,
            "/v1/access-log",
            &[
                ("authorization", &auditor),
                ("x-purpose", "a"),
                ("x-purpose", "b"),
            ],
            None,
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let feed = format!("Bearer {}", server.feed);
    let command = json!({"request_id": "r-2", "command": {"person": "new",
        "pin": "001090054321", "name": "Trần Văn Bình", "birth_date": "1990-05-01",
        "sex": "male"}});
    let (status, body) = server
        .send(request(
            Method::POST,
            "/v1/commands/record_person",
            &[("authorization", &feed), ("authorization", &feed)],
            Some(&command),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    assert_eq!(body["code"], "bad_request");
    assert_eq!(head(&server), 1, "only An was recorded");
}

/// Item 10: one kind of refusal, one status. A recording role that may not record the act
/// (an officer re-establishing a PIN, the feed registering a residence, an officer annulling as
/// the direct superior) is refused 403 `forbidden` like every other wrong role (it used to be
/// 422 `actor_not_authorised`), before the jurisdiction or any rule is looked at.
#[tokio::test]
async fn item_10_a_role_that_may_not_record_the_act_is_forbidden_before_deciding() {
    let server = TestServer::start().await;
    record_an(&server).await;
    let refused = [
        (
            &server.officer,
            "reassign_pin",
            json!({"person": AN, "effective_on": "2026-11-27", "old": AN_PIN,
                   "new": "001090054321", "reason": "DATA_ENTRY_ERROR"}),
        ),
        (
            &server.feed,
            "register_permanent",
            json!({"person": AN, "effective_on": "2026-11-27", "basis": "OWN_HOME",
                   "address": {"unit": "2025:26743", "street": "Số 1 Lê Lợi"},
                   "dwelling": "0000000000000005",
                   "household": {"establish": {"household": "0000000000000010"}},
                   "consents": []}),
        ),
        (
            &server.officer,
            "annul_registration",
            json!({"annuls": "e23249bcbc2b28d51708cb79c98bcfc0", "decided_by": "DIRECT_SUPERIOR",
                   "decision": {"decided_on": "2026-11-27", "number": "15/QĐ-CAT"},
                   "effective_on": "2026-11-27", "person": AN,
                   "reason": "Hồ sơ dùng hợp đồng thuê nhà giả", "registration": "PERMANENT"}),
        ),
    ];
    let access = server.server.state.access.len();
    for (token, procedure, command) in &refused {
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/v1/commands/{procedure}"),
                Some(token),
                None,
                Some(&json!({"request_id": format!("x-{procedure}"), "command": command})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{procedure}: {body:#}");
        assert_eq!(body["code"], "forbidden", "{procedure}: {body:#}");
        assert!(body.get("message_vi").is_none(), "no rule spoke: {body:#}");
        // In a batch, the item's answer is the same.
        let (status, batch) = server
            .call(
                Method::POST,
                "/v1/commands",
                Some(token),
                None,
                Some(&json!({"commands": [{"procedure": procedure,
                    "request_id": format!("b-{procedure}"), "command": command}]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{batch:#}");
        assert_eq!(batch["results"][0]["status"], 403, "{batch:#}");
        assert_eq!(batch["results"][0]["error"], body, "{batch:#}");
    }
    // Refused before the jurisdiction was checked: no `command.refused` entry.
    assert_eq!(server.server.state.access.len(), access);
    // A supervisor may annul as the direct superior: the actor check lets the command through
    // (to the law of place, which finds nothing of the register in the jurisdiction).
    let (status, body) = server
        .call(
            Method::POST,
            "/v1/commands/annul_registration",
            Some(&server.supervisor),
            None,
            Some(&json!({"request_id": "s-annul", "command": refused[2].2})),
        )
        .await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::FORBIDDEN, &json!("outside_jurisdiction")),
        "{body:#}"
    );
    assert_eq!(head(&server), 1, "only An was recorded");
}

/// A body that sends its first bytes and then nothing (a slow client holding its connection).
struct Stalled {
    sent: bool,
}

impl futures_core::Stream for Stalled {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.sent {
            // Never ready, and never woken: only the server's deadline ends the wait.
            return Poll::Pending;
        }
        self.sent = true;
        Poll::Ready(Some(Ok(Bytes::from_static(b"{\"request_id\":\"slow\","))))
    }
}

/// Item 6: a request body that does not arrive within the deadline after the headers is
/// answered 408 `body_timeout` (it used to be waited for forever), on the single and the batch
/// endpoint, and nothing is recorded.
#[tokio::test]
async fn item_6_a_body_that_does_not_arrive_in_time_is_refused_408() {
    let timeout = Duration::from_millis(300);
    let server = TestServer::start_configured(None, |options| {
        options.body_read_timeout = timeout;
    })
    .await;
    let feed = format!("Bearer {}", server.feed);
    for path in ["/v1/commands/record_person", "/v1/commands"] {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("authorization", &feed)
            .header("content-type", "application/json")
            .body(Body::from_stream(Stalled { sent: false }))
            .expect("a valid request");
        let started = std::time::Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(10), server.send(request)).await;
        let (status, body) = answer.unwrap_or_else(|_| panic!("{path}: no answer in 10 s"));
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{path}: {body:#}");
        assert_eq!(body["code"], "body_timeout", "{body:#}");
        assert!(started.elapsed() >= timeout, "{:?}", started.elapsed());
    }
    // A body that arrives in time is read as ever.
    record_an(&server).await;
    assert_eq!(head(&server), 1);
}
