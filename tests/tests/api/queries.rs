//! The query, ledger-record and access-log endpoints end to end: a small history seeded through
//! the register (the code path of the command endpoint), every query snapshotted, both time
//! axes, read-your-writes, the access log growing by exactly one entry per personal-data read,
//! inclusion proofs checked offline against the signed checkpoint, and the negative cases with
//! their documented status and code. Every test ends with the data directory verifying.

use axum::http::{Method, StatusCode};
use residence_domain::command::Command;
use residence_domain::context::Actor;
use residence_ledger::checkpoint::{Checkpoint, SignedNote, VerifierKey};
use residence_ledger::hash::Hash;
use residence_ledger::proof::{ConsistencyProof, InclusionProof};
use residence_ledger::record::{Salt, Timestamp, payload_commitment, record_hash};
use residence_register::{CommandOutcome, CommandRequest, Recorder};
use serde_json::{Value, json};

use crate::support::TestServer;

const PURPOSE: &str = "court case 45/2026/DS-ST";
const AN: &str = "0000000000000001";
const BINH: &str = "0000000000000002";
const CUONG: &str = "0000000000000003";
const AN_PIN: &str = "001090012345";
const BINH_PIN: &str = "001195054321";
const HOUSEHOLD: &str = "0000000000000010";

/// Where the seeded history put things.
struct Seeded {
    /// The last position before Bình's late temporary registration.
    before_late: u64,
    /// The position of Bình's temporary registration.
    late: u64,
}

/// Records one command as an officer would (the same path as `POST /v1/commands/…`).
async fn execute(server: &TestServer, request_id: &str, command: Value) -> CommandOutcome {
    let command: Command = serde_json::from_value(command).expect("a valid command");
    let state = &server.server.state;
    state
        .register
        .execute(&CommandRequest {
            request_id: request_id.to_owned(),
            command,
            recorder: Recorder {
                actor: Actor::Officer,
                actor_id: "token:seed".to_owned(),
                office: None,
            },
            today: state.today(),
            recorded_at: None,
        })
        .await
        .unwrap_or_else(|error| panic!("{request_id} is recorded: {error:?}"))
}

fn last_position(outcome: &CommandOutcome) -> u64 {
    outcome.events.last().expect("events").position
}

/// Nguyễn Văn An registers permanently in legacy ward Trúc Bạch (2019), his wife Bình joins
/// (2020), the reorganisation is applied, and an hour later Bình's temporary registration in
/// Phường Hồng Hà from 2026-10-01 is recorded late, together with Cường's.
async fn seed(server: &TestServer) -> Seeded {
    let home = json!({"unit": "legacy:00004", "street": "Số 12 phố Trúc Bạch"});
    execute(
        server,
        "q-1",
        json!({"record_person": {"person": AN, "pin": AN_PIN, "name": "Nguyễn Văn An",
            "birth_date": "1990-05-01", "sex": "male"}}),
    )
    .await;
    execute(
        server,
        "q-2",
        json!({"record_person": {"person": BINH, "pin": BINH_PIN, "name": "Trần Thị Bình",
            "birth_date": "1995-08-12", "sex": "female"}}),
    )
    .await;
    execute(
        server,
        "q-3",
        json!({"record_person": {"person": CUONG, "pin": "001200012345", "name": "Lê Văn Cường",
            "birth_date": "2000-01-20", "sex": "male"}}),
    )
    .await;
    execute(
        server,
        "q-4",
        json!({"register_permanent": {"person": AN, "effective_on": "2019-03-01",
            "basis": "OWN_HOME", "address": home, "dwelling": "0000000000000100",
            "household": {"establish": {"household": HOUSEHOLD}}}}),
    )
    .await;
    execute(
        server,
        "q-5",
        json!({"register_permanent": {"person": BINH, "effective_on": "2020-06-15",
            "basis": "JOIN_RELATIVE", "address": home, "dwelling": "0000000000000100",
            "household": {"join": {"household": HOUSEHOLD, "relationship": "VO"}},
            "consents": [{"role": "HOUSEHOLD_HEAD", "person": AN},
                         {"role": "DWELLING_OWNER", "person": AN}]}}),
    )
    .await;
    let reorganised = execute(server, "q-6", json!({"apply_reorganisation": {}})).await;
    let before_late = last_position(&reorganised);
    server.clock.set(Timestamp::from_datetime(
        "2026-11-27T04:00:00Z".parse().expect("a time"),
    ));
    let late = execute(
        server,
        "q-7",
        json!({"register_temporary": {"person": BINH, "effective_on": "2026-10-01",
            "until": "2027-09-30",
            "address": {"unit": "2025:00097", "street": "Số 5 phố Phúc Xá"},
            "dwelling": "0000000000000200",
            "consents": [{"role": "DWELLING_OWNER"}]}}),
    )
    .await;
    let late = last_position(&late);
    let cuong = execute(
        server,
        "q-8",
        json!({"register_temporary": {"person": CUONG, "effective_on": "2026-09-01",
            "until": "2027-08-31",
            "address": {"unit": "2025:00097", "street": "Số 7 phố Phúc Xá"},
            "dwelling": "0000000000000300",
            "consents": [{"role": "DWELLING_OWNER"}]}}),
    )
    .await;
    server
        .server
        .state
        .wait_visible(Some(last_position(&cuong)))
        .await
        .expect("the projections fold the history");
    Seeded { before_late, late }
}

async fn get(server: &TestServer, path: &str, token: &str) -> (StatusCode, Value) {
    server
        .call(Method::GET, path, Some(token), Some(PURPOSE), None)
        .await
}

async fn get_ok(server: &TestServer, path: &str, token: &str) -> Value {
    let (status, body) = get(server, path, token).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

fn assert_error(response: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(response.0, status, "{}", response.1);
    assert_eq!(response.1["code"], code, "{}", response.1);
}

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "hex of whole bytes");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digits"))
        .collect()
}

#[tokio::test]
async fn a_person_is_answered_now_and_on_any_date_under_the_units_valid_then() {
    let server = TestServer::start().await;
    seed(&server).await;
    let now = get_ok(&server, &format!("/v1/persons/{AN_PIN}"), &server.officer).await;
    insta::assert_json_snapshot!("person_an_now", now);
    assert_eq!(now["permanent"]["address"]["unit"], "2025:00004");
    assert_eq!(now["household"]["relationship"], "CHU_HO");
    // Before 2025-07-01 the same registration shows the legacy ward it was made in.
    let before = get_ok(
        &server,
        &format!("/v1/persons/{AN_PIN}?on=2025-06-30"),
        &server.court,
    )
    .await;
    assert_eq!(before["permanent"]["address"]["unit"], "legacy:00004");
    assert_eq!(
        before["permanent"]["address"]["unit_name"],
        "Phường Trúc Bạch, Quận Ba Đình, Thành phố Hà Nội"
    );
    assert_eq!(before["permanent"]["today_unit"]["unit"], "2025:00004");
    insta::assert_json_snapshot!("person_an_2025_06_30", before);
    // Before the registration, nothing.
    let earlier = get_ok(
        &server,
        &format!("/v1/persons/{AN_PIN}?on=2018-12-31"),
        &server.supervisor,
    )
    .await;
    assert_eq!(earlier["permanent"], Value::Null);
    assert_eq!(earlier["household"], Value::Null);
    server.assert_verifiable();
}

#[tokio::test]
async fn a_late_registration_changes_the_past_only_as_known_from_its_position() {
    let server = TestServer::start().await;
    let seeded = seed(&server).await;
    let path = format!("/v1/persons/{BINH_PIN}?on=2026-10-15");
    let now = get_ok(&server, &path, &server.court).await;
    assert_eq!(now["temporary"]["address"]["unit"], "2025:00097");
    assert_eq!(now["temporary"]["opened_by"]["position"], seeded.late);
    insta::assert_json_snapshot!("person_binh_2026_10_15_now", now);
    // As known before the late record: no temporary registration on that date.
    let then = get_ok(
        &server,
        &format!("{path}&as_known_at={}", seeded.before_late),
        &server.court,
    )
    .await;
    assert_eq!(then["temporary"], Value::Null);
    assert_eq!(then["permanent"]["address"]["unit"], "2025:00004");
    assert_eq!(then["as_known_at"]["position"], seeded.before_late);
    insta::assert_json_snapshot!("person_binh_2026_10_15_as_known_before", then);
    // The same by recording time: the late record was recorded at 04:00Z.
    let by_time = get_ok(
        &server,
        &format!("{path}&as_known_at=2026-11-27T10:30:00%2B07:00"),
        &server.court,
    )
    .await;
    assert_eq!(by_time["temporary"], Value::Null);
    assert_eq!(
        by_time["as_known_at"]["time"],
        "2026-11-27T03:30:00.000000Z"
    );
    // Asking again with the position an answer names gives the same answer.
    let again = get_ok(
        &server,
        &format!("{path}&as_known_at={}", now["as_known_at"]["position"]),
        &server.court,
    )
    .await;
    assert_eq!(again, now);
    server.assert_verifiable();
}

#[tokio::test]
async fn the_history_and_the_household_book_on_both_time_axes() {
    let server = TestServer::start().await;
    let seeded = seed(&server).await;
    let history = get_ok(
        &server,
        &format!("/v1/persons/{BINH_PIN}/history"),
        &server.court,
    )
    .await;
    let kinds: Vec<&str> = history["intervals"]
        .as_array()
        .expect("intervals")
        .iter()
        .map(|interval| interval["kind"].as_str().expect("a kind"))
        .collect();
    assert_eq!(kinds, ["permanent", "temporary"]);
    insta::assert_json_snapshot!("history_binh", history);
    let before = get_ok(
        &server,
        &format!(
            "/v1/persons/{BINH_PIN}/history?as_known_at={}",
            seeded.before_late
        ),
        &server.auditor,
    )
    .await;
    assert_eq!(before["intervals"].as_array().map(Vec::len), Some(1));

    let book = get_ok(
        &server,
        &format!("/v1/households/{HOUSEHOLD}/book"),
        &server.officer,
    )
    .await;
    let members: Vec<&str> = book["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|member| member["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(members, ["Nguyễn Văn An", "Trần Thị Bình"]);
    insta::assert_json_snapshot!("household_book_now", book);
    // In 2019 An lived there alone, under the legacy ward.
    let book_2019 = get_ok(
        &server,
        &format!("/v1/households/{HOUSEHOLD}/book?on=2019-12-31"),
        &server.court,
    )
    .await;
    assert_eq!(book_2019["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(book_2019["address"]["unit"], "legacy:00004");
    insta::assert_json_snapshot!("household_book_2019", book_2019);
    server.assert_verifiable();
}

#[tokio::test]
async fn the_register_of_a_unit_is_paged_and_bounded_by_jurisdiction() {
    let server = TestServer::start().await;
    seed(&server).await;
    let own = get_ok(&server, "/v1/units/2025:00004/residents", &server.officer).await;
    assert_eq!(own["people_total"], 2);
    insta::assert_json_snapshot!("residents_ba_dinh", own);
    // Hồng Hà is outside the officer's commune, inside the supervisor's province.
    assert_error(
        &get(&server, "/v1/units/2025:00097/residents", &server.officer).await,
        StatusCode::FORBIDDEN,
        "outside_jurisdiction",
    );
    let first = get_ok(
        &server,
        "/v1/units/2025:00097/residents?limit=1",
        &server.supervisor,
    )
    .await;
    assert_eq!(first["individuals"].as_array().map(Vec::len), Some(1));
    assert_eq!(first["next"], format!("person:{BINH}"));
    insta::assert_json_snapshot!("residents_hong_ha_page_1", first);
    let second = get_ok(
        &server,
        &format!("/v1/units/2025:00097/residents?limit=1&after=person:{BINH}"),
        &server.auditor,
    )
    .await;
    assert_eq!(second["individuals"][0]["person"], CUONG);
    assert_eq!(second["next"], Value::Null);
    // One address only (NFD spelling of the street finds the NFC one).
    let street = get_ok(
        &server,
        "/v1/units/2025:00097/residents?street=S%E1%BB%91%207%20pho%CC%82%CC%81%20Phu%CC%81c%20Xa%CC%81",
        &server.court,
    )
    .await;
    assert_eq!(street["people_total"], 1);
    assert_eq!(street["individuals"][0]["person"], CUONG);
    // Before 2025-07-01 the households are registered under the legacy ward.
    let legacy = get_ok(
        &server,
        "/v1/units/legacy:00004/residents?on=2020-12-31",
        &server.officer,
    )
    .await;
    assert_eq!(legacy["people_total"], 2);
    assert_error(
        &get(
            &server,
            "/v1/units/2025:00004/residents?limit=1001",
            &server.officer,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &get(&server, "/v1/units/2025:99998/residents", &server.court).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    server.assert_verifiable();
}

#[tokio::test]
async fn statistics_are_for_every_role_and_not_logged() {
    let server = TestServer::start().await;
    seed(&server).await;
    let logged = server.server.state.access.len();
    let all = get_ok(&server, "/v1/statistics/population", &server.admin).await;
    assert_eq!(
        all["totals"],
        json!({"permanent": 2, "temporary": 2, "absent": 0})
    );
    insta::assert_json_snapshot!("statistics_all", all);
    let province = get_ok(
        &server,
        "/v1/statistics/population?province=01",
        &server.feed,
    )
    .await;
    insta::assert_json_snapshot!("statistics_province_01", province);
    let unit = get_ok(
        &server,
        "/v1/statistics/population?unit=2025:00004&on=2025-06-30",
        &server.officer,
    )
    .await;
    // On 2025-06-30 the couple was counted under the legacy ward; today's unit has them.
    assert_eq!(unit["unit"]["counts"]["permanent"], 0);
    assert_eq!(unit["unit"]["today_counts"]["permanent"], 2);
    insta::assert_json_snapshot!("statistics_unit_2025_06_30", unit);
    // Without a purpose too: statistics are not personal data.
    let (status, _) = server
        .call(
            Method::GET,
            "/v1/statistics/population",
            Some(&server.court),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(server.server.state.access.len(), logged);
    assert_error(
        &server
            .call(Method::GET, "/v1/statistics/population", None, None, None)
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &get(
            &server,
            "/v1/statistics/population?unit=2025:00004&province=01",
            &server.admin,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    server.assert_verifiable();
}

#[tokio::test]
async fn a_query_with_min_position_sees_the_write_it_names() {
    let server = TestServer::start().await;
    seed(&server).await;
    let moved = execute(
        &server,
        "q-9",
        json!({"declare_temporary_absence": {"person": AN, "effective_on": "2026-11-20",
            "until": "2027-12-20", "clause": "d", "destination": "Thành phố Hồ Chí Minh",
            "reason": "làm việc"}}),
    )
    .await;
    let position = last_position(&moved);
    let body = get_ok(
        &server,
        &format!("/v1/persons/{AN_PIN}?min_position={position}"),
        &server.officer,
    )
    .await;
    assert_eq!(body["absence"]["opened_by"]["position"], position);
    assert_eq!(body["absence"]["basis"]["clause"], "d");
    let statistics = get_ok(
        &server,
        &format!("/v1/statistics/population?min_position={position}"),
        &server.admin,
    )
    .await;
    assert_eq!(statistics["totals"]["absent"], 1);
    assert_eq!(statistics["as_known_at"]["position"], position);
    let head = server.server.state.ledger.head().size;
    assert_error(
        &get(
            &server,
            &format!("/v1/persons/{AN_PIN}?min_position={head}"),
            &server.officer,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    server.assert_verifiable();
}

/// A GET through one router: its statistics cache lives as long as the router does (the
/// harness builds a new router per call).
async fn get_through(router: &axum::Router, path: &str, token: &str) -> Value {
    use tower::ServiceExt as _;
    let request = axum::http::Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body");
    serde_json::from_slice(&bytes).expect("JSON")
}

#[tokio::test]
async fn cached_statistics_name_their_position_and_min_position_forces_a_recount() {
    let server = TestServer::start().await;
    seed(&server).await;
    let router = server.server.router();
    let path = "/v1/statistics/population";
    let first = get_through(&router, path, &server.admin).await;
    let counted = first["as_known_at"]["position"]
        .as_u64()
        .expect("a position");
    assert_eq!(counted + 1, server.server.state.ledger.head().size);
    let absence = json!({"declare_temporary_absence": {"person": AN,
        "effective_on": "2026-11-20", "until": "2027-12-20", "clause": "d",
        "destination": "Thành phố Hồ Chí Minh", "reason": "làm việc"}});
    let position = last_position(&execute(&server, "q-9", absence).await);
    // Without min_position the cached counts may still be served: they say so.
    let cached = get_through(&router, path, &server.admin).await;
    let at = cached["as_known_at"]["position"]
        .as_u64()
        .expect("a position");
    assert!(at == counted || at == position, "{at}");
    // With it, the counts include the write.
    let fresh = get_through(
        &router,
        &format!("{path}?min_position={position}"),
        &server.admin,
    )
    .await;
    assert_eq!(fresh["as_known_at"]["position"], position);
    assert_eq!(fresh["totals"]["absent"], 1);
    // And the recount is what everyone gets from then on.
    assert_eq!(get_through(&router, path, &server.court).await, fresh);
    server.assert_verifiable();
}

#[tokio::test]
async fn every_personal_data_read_leaves_exactly_one_access_entry() {
    let server = TestServer::start().await;
    seed(&server).await;
    let reads = [
        (format!("/v1/persons/{AN_PIN}"), server.officer.clone()),
        (
            format!("/v1/persons/{BINH_PIN}/history"),
            server.court.clone(),
        ),
        (
            format!("/v1/households/{HOUSEHOLD}/book"),
            server.supervisor.clone(),
        ),
        (
            "/v1/units/2025:00004/residents".to_owned(),
            server.officer.clone(),
        ),
        (
            "/v1/ledger/records?limit=2".to_owned(),
            server.auditor.clone(),
        ),
        (
            format!("/v1/ledger/records?tag=person:{AN}"),
            server.court.clone(),
        ),
        ("/v1/ledger/records/3".to_owned(), server.supervisor.clone()),
        (
            "/v1/ledger/proofs/inclusion?position=3".to_owned(),
            server.court.clone(),
        ),
    ];
    for (path, token) in &reads {
        let before = server.server.state.access.len();
        get_ok(&server, path, token).await;
        assert_eq!(server.server.state.access.len(), before + 1, "{path}");
    }
    // A read refused (outside the officer's jurisdiction) leaves nothing; a look-up that finds
    // nobody leaves its entry before the 404 (issue 11).
    let before = server.server.state.access.len();
    get(&server, "/v1/units/2025:00097/residents", &server.officer).await;
    assert_eq!(server.server.state.access.len(), before);
    get(&server, "/v1/persons/001099999999", &server.officer).await;
    assert_eq!(server.server.state.access.len(), before + 1);
    // The auditor reads them back; that read is logged too.
    let log = get_ok(&server, "/v1/access-log", &server.auditor).await;
    assert_eq!(
        log["entries"].as_array().map(Vec::len),
        Some(reads.len() + 1)
    );
    assert_eq!(
        log["entries"][0]["entry"]["subject"],
        format!("person:{AN}")
    );
    assert_eq!(log["entries"][0]["entry"]["purpose"], PURPOSE);
    insta::assert_json_snapshot!("access_log", log);
    assert_eq!(server.server.state.access.len(), reads.len() as u64 + 2);
    // The reads of one person, by tag.
    let an = get_ok(
        &server,
        &format!("/v1/access-log?tag=person:{AN}"),
        &server.admin,
    )
    .await;
    let actions: Vec<&str> = an["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| entry["entry"]["action"].as_str().expect("an action"))
        .collect();
    assert_eq!(actions, ["person.residence", "ledger.records"]);
    // Reviewing the log needs no purpose (an empty one is recorded); a bad one is refused.
    let before = server.server.state.access.len();
    let (status, _) = server
        .call(
            Method::GET,
            "/v1/access-log?limit=1",
            Some(&server.admin),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(server.server.state.access.len(), before + 1);
    let last = get_ok(
        &server,
        &format!("/v1/access-log?from={before}"),
        &server.auditor,
    )
    .await;
    assert_eq!(last["entries"][0]["entry"]["role"], "admin");
    assert_eq!(last["entries"][0]["entry"]["purpose"], "");
    let long = "x".repeat(201);
    assert_error(
        &server
            .call(
                Method::GET,
                "/v1/access-log",
                Some(&server.auditor),
                Some(&long),
                None,
            )
            .await,
        StatusCode::BAD_REQUEST,
        "purpose_required",
    );
    // Its checkpoint, signed with the access log's own key.
    let (status, note) = server
        .call(
            Method::GET,
            "/v1/access-log/checkpoint",
            Some(&server.auditor),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let note = SignedNote::parse(note.as_str().expect("text")).expect("a signed note");
    let key = server.server.state.access.directory().verifier_key();
    let checkpoint = note.verify(&[key]).expect("signed by the access log's key");
    assert_eq!(checkpoint.size, server.server.state.access.len());
    assert_error(
        &get(&server, "/v1/access-log", &server.officer).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &server
            .call(
                Method::GET,
                "/v1/access-log/checkpoint",
                Some(&server.court),
                None,
                None,
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    server.assert_verifiable();
}

#[tokio::test]
async fn records_are_read_by_range_tag_and_position_as_stored() {
    let server = TestServer::start().await;
    seed(&server).await;
    let range = get_ok(
        &server,
        "/v1/ledger/records?from=0&limit=2",
        &server.auditor,
    )
    .await;
    assert_eq!(range["next"], 2);
    insta::assert_json_snapshot!("records_range", range);
    let by_tag = get_ok(
        &server,
        &format!("/v1/ledger/records?tag=person:{BINH}"),
        &server.court,
    )
    .await;
    let types: Vec<&str> = by_tag["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|record| record["event_type"].as_str().expect("a type"))
        .collect();
    assert_eq!(
        types,
        [
            "PersonRecorded",
            "PermanentResidenceRegistered",
            "TemporaryResidenceRegistered"
        ]
    );
    // A PIN tag is asked for in given form and stays blinded in the answer.
    let by_pin = get_ok(
        &server,
        &format!("/v1/ledger/records?tag=pin:{BINH_PIN}"),
        &server.auditor,
    )
    .await;
    assert_eq!(by_pin["records"][0]["position"], 1);
    let tags = by_pin["records"][0]["tags"].to_string();
    assert!(tags.contains("pin:") && !tags.contains(BINH_PIN), "{tags}");
    let one = get_ok(&server, "/v1/ledger/records/4", &server.supervisor).await;
    insta::assert_json_snapshot!("record_4", one);
    assert_error(
        &get(&server, "/v1/ledger/records/999", &server.auditor).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &get(&server, "/v1/ledger/records?limit=1001", &server.auditor).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &get(
            &server,
            "/v1/ledger/records?from=0&tag=person:x",
            &server.auditor,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &get(&server, "/v1/ledger/records", &server.officer).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    server.assert_verifiable();
}

/// Checks an inclusion answer the way a court would, offline: the signed checkpoint against the
/// public key, the record hash from the body bytes, the payload commitment from payload and
/// salt, the proof against the root, and the root against the checkpoint.
fn check_offline(answer: &Value, key: &VerifierKey) -> Checkpoint {
    let note = SignedNote::parse(answer["checkpoint"].as_str().expect("a note")).expect("a note");
    let checkpoint = note.verify(std::slice::from_ref(key)).expect("signed");
    assert_eq!(answer["checkpoint_size"], checkpoint.size);
    let body = unhex(answer["record_body"].as_str().expect("body"));
    let hash = record_hash(&body);
    assert_eq!(answer["record_hash"], hash.to_string());
    let mut salt = [0u8; 32];
    salt.copy_from_slice(&unhex(answer["payload_salt"].as_str().expect("salt")));
    let payload = unhex(answer["payload_bytes"].as_str().expect("payload"));
    assert_eq!(
        answer["record"]["payload_commitment"],
        payload_commitment(&Salt(salt), &payload).to_string()
    );
    let proof: InclusionProof = serde_json::from_value(answer["proof"].clone()).expect("a proof");
    let root: Hash = answer["root"].as_str().expect("root").parse().expect("hex");
    proof.verify(&hash, &root).expect("the proof holds");
    if proof.tree_size == checkpoint.size {
        assert_eq!(root, checkpoint.root);
    } else {
        let consistency: ConsistencyProof =
            serde_json::from_value(answer["consistency"].clone()).expect("a consistency proof");
        consistency
            .verify(&root, &checkpoint.root)
            .expect("the proof's tree is a prefix of the checkpoint's");
    }
    let mut flipped = proof.clone();
    if let Some(first) = flipped.hashes.first_mut() {
        first.0[0] ^= 1;
        assert!(flipped.verify(&hash, &root).is_err());
    }
    checkpoint
}

#[tokio::test]
async fn an_inclusion_proof_verifies_offline_against_the_signed_checkpoint() {
    let server = TestServer::start().await;
    let seeded = seed(&server).await;
    let (status, key) = server
        .call(Method::GET, "/v1/ledger/public-key", None, None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let key = VerifierKey::parse(key.as_str().expect("text").trim()).expect("a verifier key");
    // The latest checkpoint (signed at start, size 0) does not cover the record: one is signed.
    let path = format!("/v1/ledger/proofs/inclusion?position={}", seeded.late);
    let answer = get_ok(&server, &path, &server.court).await;
    let checkpoint = check_offline(&answer, &key);
    assert_eq!(checkpoint.size, server.server.state.ledger.head().size);
    insta::assert_json_snapshot!("inclusion_proof", answer);
    // The public checkpoint is now that signed note.
    let (status, public) = server
        .call(Method::GET, "/v1/ledger/checkpoint", None, None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(public, answer["checkpoint"]);
    // A proof for an older tree size comes with the consistency proof to the checkpoint.
    let older = get_ok(
        &server,
        "/v1/ledger/proofs/inclusion?position=3&size=5",
        &server.auditor,
    )
    .await;
    assert_eq!(older["tree_size"], 5);
    check_offline(&older, &key);
    assert_error(
        &get(
            &server,
            "/v1/ledger/proofs/inclusion?position=3&size=3",
            &server.auditor,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &get(
            &server,
            "/v1/ledger/proofs/inclusion?position=999",
            &server.court,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &get(
            &server,
            "/v1/ledger/proofs/inclusion?position=3",
            &server.admin,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    server.assert_verifiable();
}

#[tokio::test]
async fn queries_refuse_what_they_must_with_their_documented_codes() {
    let server = TestServer::start().await;
    seed(&server).await;
    let person = format!("/v1/persons/{AN_PIN}");
    assert_error(
        &server
            .call(Method::GET, &person, None, Some(PURPOSE), None)
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &server
            .call(
                Method::GET,
                &person,
                Some("rsd_not-a-token"),
                Some(PURPOSE),
                None,
            )
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    for token in [&server.admin, &server.feed] {
        assert_error(
            &get(&server, &person, token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    assert_error(
        &server
            .call(Method::GET, &person, Some(&server.officer), None, None)
            .await,
        StatusCode::BAD_REQUEST,
        "purpose_required",
    );
    for bad in ["00109001234", "00109001234x", "%20001090012345"] {
        assert_error(
            &get(&server, &format!("/v1/persons/{bad}"), &server.officer).await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        );
    }
    assert_error(
        &get(&server, "/v1/persons/001099999999", &server.officer).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &get(&server, "/v1/persons/001099999999/history", &server.court).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &get(
            &server,
            "/v1/households/00000000000000ff/book",
            &server.officer,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &get(&server, "/v1/households/HH-1/book", &server.officer).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    for query in [
        "on=2026-13-01",
        "as_known_at=yesterday",
        "as_known_at=2030-01-01T00:00:00Z",
        "as_known_at=999",
        "min_position=-1",
        "colour=blue",
    ] {
        assert_error(
            &get(&server, &format!("{person}?{query}"), &server.officer).await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        );
    }
    assert_error(
        &get(&server, "/v1/access-log?limit=1001", &server.auditor).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    server.assert_verifiable();
}
