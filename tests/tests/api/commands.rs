//! The command endpoints end to end: every procedure recorded once through the router (a small
//! story in Phường Ba Đình), the batch endpoint, the jurisdiction rule, and every documented
//! refusal with its status and code, each leaving the ledger verifiable and, where nothing may
//! be written, its head unchanged. Races are forced with the hook between a command's read and
//! its append.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{Method, StatusCode};
use residence_api::auth::{Jurisdiction, Role};
use residence_api::http::BODY_BYTES_MAX;
use residence_domain::units::{Scheme, registry};
use residence_register::{BeforeAppend, CONFLICT_RETRIES_MAX, CommandRequest};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::support::{NOW, TestServer};

/// Where the story happens: Phường Ba Đình, the test officer's commune.
const BA_DINH: &str = "2025:00004";
/// Phường Hồng Hà, Hà Nội: outside the officer's commune, inside the supervisor's province.
const HONG_HA: &str = "2025:00097";
/// Phường Bến Thành, Hồ Chí Minh City: outside both.
const BEN_THANH: &str = "2025:26743";

/// Posts one command; returns the status and the body.
async fn post(
    server: &TestServer,
    token: &str,
    procedure: &str,
    request_id: &str,
    command: Value,
) -> (StatusCode, Value) {
    server
        .call(
            Method::POST,
            &format!("/v1/commands/{procedure}"),
            Some(token),
            None,
            Some(&json!({"request_id": request_id, "command": command})),
        )
        .await
}

/// Posts one command that must be recorded; returns the body.
#[track_caller]
fn recorded(answer: (StatusCode, Value)) -> Value {
    let (status, body) = answer;
    assert_eq!(status, StatusCode::CREATED, "{body:#}");
    assert_eq!(body["replayed"], false, "{body:#}");
    body
}

/// The minted id of `field` in a command's answer.
#[track_caller]
fn minted(body: &Value, field: &str) -> String {
    body["ids"][field]
        .as_str()
        .unwrap_or_else(|| panic!("no minted {field} in {body:#}"))
        .to_owned()
}

/// The event id of the answer's event of type `event_type`.
#[track_caller]
fn event_id(body: &Value, event_type: &str) -> String {
    body["events"]
        .as_array()
        .and_then(|events| {
            events
                .iter()
                .find(|event| event["event"]["type"] == event_type)
        })
        .and_then(|event| event["event_id"].as_str())
        .unwrap_or_else(|| panic!("no {event_type} in {body:#}"))
        .to_owned()
}

/// The types of the answer's events, in order.
fn event_types(body: &Value) -> Vec<String> {
    body["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter_map(|event| event["event"]["type"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn address(unit: &str, street: &str) -> Value {
    json!({"unit": unit, "street": street})
}

fn record_person(pin: &str, name: &str, birth_date: &str, sex: &str) -> Value {
    json!({"person": "new", "pin": pin, "name": name, "birth_date": birth_date, "sex": sex})
}

/// The number of records in the register's ledger.
fn head(server: &TestServer) -> u64 {
    server.server.state.ledger.head().size
}

/// A supervisor token whose jurisdiction is every province (the reorganisation converts every
/// address, so only such a holder may record it).
fn national_supervisor(server: &TestServer) -> String {
    let provinces: Vec<String> = registry()
        .provinces(Scheme::Y2025)
        .map(|(code, _)| format!("province:{code}"))
        .collect();
    let jurisdiction =
        Jurisdiction::parse(provinces.iter().map(String::as_str)).expect("valid provinces");
    server
        .server
        .state
        .tokens
        .create_from_secret(
            Role::Supervisor,
            "national supervisor",
            jurisdiction,
            NOW.parse().expect("a valid time"),
            None,
            [11; 32],
        )
        .expect("a token")
        .0
}

#[tokio::test]
async fn every_procedure_is_recorded_through_its_endpoint() {
    let server = TestServer::start().await;
    let (feed, officer, supervisor) = (&server.feed, &server.officer, &server.supervisor);

    // The population database records the people of the story.
    let an = recorded(
        post(
            &server,
            feed,
            "record_person",
            "npd-an",
            record_person("001080012345", "Nguyễn Văn An", "1980-03-15", "male"),
        )
        .await,
    );
    insta::assert_json_snapshot!("record_person", an);
    let an = minted(&an, "person");
    let mut people = Vec::new();
    for (request, pin, name, birth, sex) in [
        (
            "npd-binh",
            "001182012346",
            "Trần Thị Bình",
            "1982-07-20",
            "female",
        ),
        (
            "npd-cuong",
            "001205012347",
            "Nguyễn Văn Cường",
            "2005-01-10",
            "male",
        ),
        (
            "npd-em",
            "001303012349",
            "Lê Thị Em",
            "2003-05-05",
            "female",
        ),
        (
            "npd-dung",
            "001090012348",
            "Phạm Văn Dũng",
            "1990-09-09",
            "male",
        ),
        (
            "npd-phuong",
            "001198012350",
            "Đỗ Thị Phương",
            "1998-02-02",
            "female",
        ),
    ] {
        let body = recorded(
            post(
                &server,
                feed,
                "record_person",
                request,
                record_person(pin, name, birth, sex),
            )
            .await,
        );
        people.push(minted(&body, "person"));
    }
    let [binh, cuong, em, dung, phuong] = <[String; 5]>::try_from(people).expect("five people");

    // An applies for permanent registration at his own home; the officer receives it and
    // registers him, founding a household at a dwelling new to the register.
    let application = recorded(
        post(
            &server,
            officer,
            "receive_application",
            "ct04-1",
            json!({
                "application": "new", "received_on": "2026-11-20",
                "procedure": "PERMANENT_REGISTRATION", "channel": "IN_PERSON",
                "subjects": [an], "applicant": an, "result_due_on": "2026-12-01",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("receive_application", application);
    let application = minted(&application, "application");
    let home = address(BA_DINH, "Số 12 phố Phan Đình Phùng");
    let registered = recorded(
        post(
            &server,
            officer,
            "register_permanent",
            "ct01-an",
            json!({
                "person": an, "effective_on": "2026-11-24", "basis": "OWN_HOME",
                "address": home, "dwelling": "new",
                "household": {"establish": {"household": "new",
                                            "residence_file_number": "HN-00004-2026-000123"}},
                "application": application,
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("register_permanent", registered);
    let household = minted(&registered, "household");
    let dwelling = minted(&registered, "dwelling");

    // His wife and son join the household; a lodger rents a room in it.
    let consents = json!([
        {"role": "HOUSEHOLD_HEAD", "person": an},
        {"role": "DWELLING_OWNER", "person": an},
    ]);
    for (request, person, relationship) in
        [("ct01-binh", &binh, "VO"), ("ct01-cuong", &cuong, "CON_DE")]
    {
        recorded(
            post(
                &server,
                officer,
                "register_permanent",
                request,
                json!({
                    "person": person, "effective_on": "2026-11-24", "basis": "JOIN_RELATIVE",
                    "address": home, "dwelling": dwelling,
                    "household": {"join": {"household": household, "relationship": relationship}},
                    "consents": consents,
                }),
            )
            .await,
        );
    }
    let lodger = recorded(
        post(
            &server,
            officer,
            "register_permanent",
            "ct01-em",
            json!({
                "person": em, "effective_on": "2026-11-24", "basis": "RENTED_BORROWED_SHARED",
                "address": home, "dwelling": dwelling,
                "household": {"join": {"household": household, "relationship": "O_NHO"}},
                "floor_area": 120.0, "consents": consents,
            }),
        )
        .await,
    );
    let em_registration = event_id(&lodger, "PermanentResidenceRegistered");

    // The lodger marries the son; the young couple split off into their own household.
    let married = recorded(
        post(
            &server,
            officer,
            "change_member_relationship",
            "ct02-em",
            json!({
                "household": household, "person": em, "effective_on": "2026-11-25",
                "relationship": "CON_DAU",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("change_member_relationship", married);
    let split = recorded(
        post(
            &server,
            officer,
            "split_household",
            "ct02-split",
            json!({
                "household": household, "new_household": "new", "dwelling": dwelling,
                "effective_on": "2026-11-26", "new_head": cuong,
                "members": [{"person": em, "relationship": "VO"}],
                "consent": "consented", "consents": consents,
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("split_household", split);
    let young = minted(&split, "new_household");

    // Bình becomes head; the old paper book is revoked.
    let head_changed = recorded(
        post(
            &server,
            officer,
            "change_head",
            "ct02-head",
            json!({
                "household": household, "effective_on": "2026-11-27", "new_head": binh,
                "members": [{"person": an, "relationship": "CHONG"}],
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("change_head", head_changed);
    let revoked = recorded(
        post(
            &server,
            officer,
            "revoke_legacy_book",
            "revoke-1",
            json!({
                "household": household, "effective_on": "2026-11-27",
                "book": "HOUSEHOLD_BOOK", "book_number": "010123456",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("revoke_legacy_book", revoked);

    // An moves within the ward; a foreign guest stays at the family home; Cường goes away to
    // study and declares his absence.
    let moved = recorded(
        post(
            &server,
            officer,
            "update_current_address",
            "move-an",
            json!({
                "person": an, "effective_on": "2026-11-27",
                "address": address(BA_DINH, "Số 40 phố Đội Cấn"),
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("update_current_address", moved);
    let stay = recorded(
        post(
            &server,
            officer,
            "notify_stay",
            "stay-1",
            json!({
                "guest": {"name": "Kim Min-jun",
                          "document": {"kind": "PASSPORT", "number": "M12345678"}},
                "effective_on": "2026-11-25", "until": "2026-11-30",
                "host_address": home, "dwelling": dwelling,
                "reason": "Du lịch", "notifier": "HOST_MEMBER",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("notify_stay", stay);
    let absence = recorded(
        post(
            &server,
            officer,
            "declare_temporary_absence",
            "absence-cuong",
            json!({
                "person": cuong, "effective_on": "2026-11-27", "until": "2027-05-31",
                "clause": "c", "destination": "Thành phố Đà Nẵng", "reason": "Học tập",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("declare_temporary_absence", absence);
    let absence_event = absence["events"][0].clone();

    // A wrong destination is corrected.
    let mut replacement = absence_event["event"].clone();
    replacement["data"]["destination"] = json!("Thành phố Huế");
    let corrected = recorded(
        post(
            &server,
            officer,
            "correct_event",
            "correct-absence",
            json!({
                "corrects": absence_event["event_id"], "replacement": replacement,
                "reason": "Nhập sai nơi đến",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("correct_event", corrected);

    // Dũng rents a room in the ward: a temporary registration, extended in the 15 days before
    // it ends, a reported absence, and its deletion when the lease ends.
    let room = address(BA_DINH, "Số 3 ngõ 5 phố Đội Cấn");
    let temporary = recorded(
        post(
            &server,
            officer,
            "register_temporary",
            "ct01-dung",
            json!({
                "person": dung, "effective_on": "2025-12-06", "until": "2026-12-05",
                "address": room, "dwelling": "new",
                "household": {"establish": {"household": "new"}},
                "consents": [{"role": "DWELLING_OWNER"}],
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("register_temporary", temporary);
    let room_dwelling = minted(&temporary, "dwelling");
    let room_household = minted(&temporary, "household");
    let extended = recorded(
        post(
            &server,
            officer,
            "extend_temporary",
            "extend-dung",
            json!({
                "person": dung, "dwelling": room_dwelling, "effective_on": "2026-11-27",
                "until": "2027-12-05", "consents": [{"role": "DWELLING_OWNER"}],
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("extend_temporary", extended);
    let ground = recorded(
        post(
            &server,
            officer,
            "record_deletion_ground",
            "ground-dung",
            json!({
                "person": dung, "effective_on": "2026-11-27",
                "ground": {"registration": "TEMPORARY", "ground": "c"}, "source": "REPORT",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("record_deletion_ground", ground);
    let deleted = recorded(
        post(
            &server,
            officer,
            "delete_temporary",
            "ct01-dung-end",
            json!({
                "person": dung, "dwelling": room_dwelling, "household": room_household,
                "effective_on": "2026-11-27", "ground": "e", "requester": "person_concerned",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("delete_temporary", deleted);

    // Phương applies for a temporary registration that cannot be granted, then declares where
    // she lives (Art 19); a second declaration that cannot be verified is refused.
    let second = recorded(
        post(
            &server,
            officer,
            "receive_application",
            "ct04-2",
            json!({
                "application": "new", "received_on": "2026-11-25",
                "procedure": "TEMPORARY_REGISTRATION", "channel": "VNEID",
                "subjects": [phuong],
            }),
        )
        .await,
    );
    let second = minted(&second, "application");
    let completion = recorded(
        post(
            &server,
            officer,
            "request_completion",
            "ct05-2",
            json!({
                "application": second, "requested_on": "2026-11-26",
                "missing": ["Văn bản đồng ý của chủ sở hữu chỗ ở"], "complete_by": "2026-12-10",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("request_completion", completion);
    let refusal = recorded(
        post(
            &server,
            officer,
            "refuse_application",
            "ct06-2",
            json!({
                "application": second, "refused_on": "2026-11-27",
                "reason": "Không bổ sung hồ sơ", "legal_basis": "Luật Cư trú 2020, Điều 27",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("refuse_application", refusal);
    let declared = recorded(
        post(
            &server,
            officer,
            "declare_current_residence",
            "art19-phuong",
            json!({
                "person": phuong, "effective_on": "2026-11-20",
                "address": address(BA_DINH, "Số 9 phố Nguyễn Thái Học"),
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("declare_current_residence", declared);
    let refused = recorded(
        post(
            &server,
            officer,
            "refuse_residence_declaration",
            "art19-phuong-2",
            json!({
                "person": phuong, "effective_on": "2026-11-27",
                "address": address(BA_DINH, "Số 11 phố Nguyễn Thái Học"),
                "reason": "Không xác minh được nơi ở hiện tại",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("refuse_residence_declaration", refused);

    // The population database re-establishes Phương's PIN; Bình's name is adjusted after a
    // civil-status decision, filed late (a warning, not a refusal).
    let reassigned = recorded(
        post(
            &server,
            feed,
            "reassign_pin",
            "npd-pin-phuong",
            json!({
                "person": phuong, "effective_on": "2026-11-27", "old": "001198012350",
                "new": "001198054321", "reason": "DATA_ENTRY_ERROR",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("reassign_pin", reassigned);
    let adjusted = recorded(
        post(
            &server,
            officer,
            "adjust_civil_status",
            "civil-binh",
            json!({
                "person": binh, "effective_on": "2026-11-27",
                "changes": {"name": "Trần Thị Bình An"},
                "decision": {"number": "102/QĐ-UBND", "decided_on": "2026-10-15"},
                "authority": "UBND phường Ba Đình",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("adjust_civil_status", adjusted);
    assert_eq!(adjusted["warnings"][0]["code"], "civil_status_filed_late");

    // A CT07 for An's bank.
    let confirmation = recorded(
        post(
            &server,
            officer,
            "issue_residence_confirmation",
            "ct07-an",
            json!({
                "certificate": "new", "person": an, "issued_on": "2026-11-27",
                "purpose": "Bổ sung hồ sơ vay vốn ngân hàng", "ledger_size": head(&server),
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("issue_residence_confirmation", confirmation);

    // A house under a demolition decision, later lifted; the family home is renumbered.
    let restricted = recorded(
        post(
            &server,
            officer,
            "record_dwelling_restriction",
            "art23-1",
            json!({
                "dwelling": "new", "effective_on": "2026-11-20", "kind": "DEMOLITION_DECISION",
                "address": address(BA_DINH, "Số 2 ngõ 7 phố Đội Cấn"),
                "decision": {"number": "125/QĐ-UBND", "decided_on": "2026-11-18"},
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("record_dwelling_restriction", restricted);
    let lifted = recorded(
        post(
            &server,
            officer,
            "lift_dwelling_restriction",
            "art23-1-lift",
            json!({
                "dwelling": minted(&restricted, "dwelling"), "effective_on": "2026-11-27",
                "kind": "DEMOLITION_DECISION",
                "decision": {"number": "310/QĐ-UBND", "decided_on": "2026-11-26"},
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("lift_dwelling_restriction", lifted);
    let recoded = recorded(
        post(
            &server,
            officer,
            "recode_address",
            "recode-home",
            json!({
                "dwelling": dwelling, "effective_on": "2026-11-27", "cause": "HOUSE_RENUMBERED",
                "new_address": address(BA_DINH, "Số 12A phố Phan Đình Phùng"),
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("recode_address", recoded);

    // Cường settles abroad: his registration is deleted and his wife heads the young household.
    let abroad = recorded(
        post(
            &server,
            officer,
            "delete_permanent",
            "ct01-cuong-end",
            json!({
                "person": cuong, "household": young, "effective_on": "2026-11-27",
                "ground": "b", "requester": "person_concerned",
                "head_succession": {"new_head": em},
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("delete_permanent", abroad);

    // The supervisor annuls Em's registration, made on a forged lease: it is deleted the same
    // day and her household is left without a head.
    let annulled = recorded(
        post(
            &server,
            supervisor,
            "annul_registration",
            "annul-em",
            json!({
                "person": em, "annuls": em_registration, "registration": "PERMANENT",
                "effective_on": "2026-11-27",
                "decision": {"number": "15/QĐ-CAT", "decided_on": "2026-11-27"},
                "decided_by": "DIRECT_SUPERIOR",
                "reason": "Hồ sơ dùng hợp đồng thuê nhà giả",
            }),
        )
        .await,
    );
    insta::assert_json_snapshot!("annul_registration", annulled);

    // The 2025 reorganisation, recorded once by a supervisor of the whole country.
    let national = national_supervisor(&server);
    let reorganised = recorded(
        post(
            &server,
            &national,
            "apply_reorganisation",
            "nq-202-2025",
            json!({}),
        )
        .await,
    );
    insta::assert_json_snapshot!("apply_reorganisation", reorganised);

    assert_eq!(
        reorganised["position"].as_u64(),
        Some(head(&server) - 1),
        "the last answer's position is the ledger's last record"
    );
    server.assert_verifiable();
}

#[tokio::test]
async fn a_batch_runs_each_command_on_its_own() {
    let server = TestServer::start().await;
    let batch = json!({"commands": [
        {"procedure": "record_person", "request_id": "b-1",
         "command": record_person("001080022345", "Vũ Văn Hải", "1980-01-01", "male")},
        {"procedure": "record_person", "request_id": "b-2",
         "command": {"person": "new", "pin": "12"}},
        {"procedure": "no_such_procedure", "request_id": "b-3", "command": {}},
        {"procedure": "record_person", "request_id": "b-4",
         "command": record_person("001182022346", "Vũ Thị Hà", "1982-01-01", "female")},
        {"procedure": "record_person", "request_id": "b-1",
         "command": record_person("001080022345", "Vũ Văn Hải", "1980-01-01", "male")},
    ]});
    let (status, body) = server
        .call(
            Method::POST,
            "/v1/commands",
            Some(&server.feed),
            None,
            Some(&batch),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let statuses: Vec<u64> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|result| result["status"].as_u64())
        .collect();
    assert_eq!(statuses, [201, 400, 404, 201, 200]);
    assert_eq!(body["results"][1]["error"]["code"], "invalid_body");
    assert_eq!(body["results"][2]["error"]["code"], "not_found");
    assert_eq!(
        body["results"][4]["result"]["events"], body["results"][0]["result"]["events"],
        "a repeated item is replayed"
    );
    assert_eq!(head(&server), 2, "only the two new persons were written");
    insta::assert_json_snapshot!("batch", body);

    for commands in [
        Vec::new(),
        vec![json!({}); residence_api::http::BATCH_MAX + 1],
    ] {
        let (status, body) = server
            .call(
                Method::POST,
                "/v1/commands",
                Some(&server.feed),
                None,
                Some(&json!({ "commands": commands })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
        assert_eq!(body["code"], "bad_request");
    }
    let (status, body) = server
        .call(
            Method::POST,
            "/v1/commands",
            Some(&server.auditor),
            None,
            Some(&batch),
        )
        .await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::FORBIDDEN, &json!("forbidden"))
    );
    assert_eq!(head(&server), 2);
    server.assert_verifiable();
}

/// A person recorded by the feed and registered permanently by `token` at `unit`; returns the
/// person, household and dwelling.
async fn settled(
    server: &TestServer,
    token: &str,
    tag: &str,
    pin: &str,
    unit: &str,
) -> (String, String, String) {
    let person = recorded(
        post(
            server,
            &server.feed,
            "record_person",
            &format!("npd-{tag}"),
            record_person(pin, "Ngô Văn Tâm", "1985-04-04", "male"),
        )
        .await,
    );
    let person = minted(&person, "person");
    let registered = recorded(
        post(
            server,
            token,
            "register_permanent",
            &format!("ct01-{tag}"),
            json!({
                "person": person, "effective_on": "2026-11-20", "basis": "OWN_HOME",
                "address": address(unit, &format!("Số 1 ngõ {tag} phố Hàng Bún")),
                "dwelling": "new", "household": {"establish": {"household": "new"}},
            }),
        )
        .await,
    );
    (
        person,
        minted(&registered, "household"),
        minted(&registered, "dwelling"),
    )
}

#[tokio::test]
async fn an_officer_records_only_in_their_jurisdiction() {
    let server = TestServer::start().await;
    let officer = &server.officer;

    // A registration at an address in another ward writes nothing.
    let person = recorded(
        post(
            &server,
            &server.feed,
            "record_person",
            "npd-1",
            record_person("001085032345", "Ngô Văn Tâm", "1985-04-04", "male"),
        )
        .await,
    );
    let person = minted(&person, "person");
    let before = head(&server);
    let (status, body) = post(
        &server,
        officer,
        "register_permanent",
        "ct01-outside",
        json!({
            "person": person, "effective_on": "2026-11-20", "basis": "OWN_HOME",
            "address": address(HONG_HA, "Số 5 phố Phúc Xá"),
            "dwelling": "new", "household": {"establish": {"household": "new"}},
        }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body:#}");
    assert_eq!(body["code"], "outside_jurisdiction");
    insta::assert_json_snapshot!("outside_jurisdiction", body);
    assert_eq!(head(&server), before, "nothing was written");
    server.assert_verifiable();

    // The supervisor of Hà Nội may; the registration at Hồng Hà is now the person's.
    let registered = recorded(
        post(
            &server,
            &server.supervisor,
            "register_permanent",
            "ct01-outside",
            json!({
                "person": person, "effective_on": "2026-11-20", "basis": "OWN_HOME",
                "address": address(HONG_HA, "Số 5 phố Phúc Xá"),
                "dwelling": "new", "household": {"establish": {"household": "new"}},
            }),
        )
        .await,
    );
    let household = minted(&registered, "household");
    let restricted = recorded(
        post(
            &server,
            &server.supervisor,
            "record_dwelling_restriction",
            "art23-hong-ha",
            json!({
                "dwelling": "new", "effective_on": "2026-11-20", "kind": "DEMOLITION_DECISION",
                "address": address(HONG_HA, "Số 7 phố Hồng Hà"),
                "decision": {"number": "77/QĐ-UBND", "decided_on": "2026-11-18"},
            }),
        )
        .await,
    );
    let mut corrected = restricted["events"][0]["event"].clone();
    corrected["data"]["decision"]["number"] = json!("78/QĐ-UBND");
    let lodger = recorded(
        post(
            &server,
            &server.feed,
            "record_person",
            "npd-2",
            record_person("001190062345", "Đinh Thị Lan", "1990-06-06", "female"),
        )
        .await,
    );
    let lodger = minted(&lodger, "person");
    let temporary = recorded(
        post(
            &server,
            &server.supervisor,
            "register_temporary",
            "ct01-lan",
            json!({
                "person": lodger, "effective_on": "2025-12-06", "until": "2026-12-05",
                "address": address(HONG_HA, "Số 9 phố Hồng Hà"), "dwelling": "new",
                "consents": [{"role": "DWELLING_OWNER"}],
            }),
        )
        .await,
    );

    // Acts on what is at Hồng Hà are at Hồng Hà although no address is in the command.
    let before = head(&server);
    for (procedure, command) in [
        (
            "lift_dwelling_restriction",
            json!({"dwelling": minted(&restricted, "dwelling"), "effective_on": "2026-11-27",
                   "kind": "DEMOLITION_DECISION"}),
        ),
        (
            "correct_event",
            json!({"corrects": restricted["events"][0]["event_id"], "replacement": corrected,
                   "reason": "Nhập sai số quyết định"}),
        ),
        (
            "extend_temporary",
            json!({"person": lodger, "dwelling": minted(&temporary, "dwelling"),
                   "effective_on": "2026-11-27", "until": "2027-12-05",
                   "consents": [{"role": "DWELLING_OWNER"}]}),
        ),
        (
            "record_deletion_ground",
            json!({"person": lodger, "effective_on": "2026-11-27",
                   "ground": {"registration": "TEMPORARY", "ground": "c"}, "source": "REPORT"}),
        ),
        (
            "delete_permanent",
            json!({"person": person, "household": household, "effective_on": "2026-11-27",
                   "ground": "b", "requester": "person_concerned"}),
        ),
        (
            "revoke_legacy_book",
            json!({"household": household, "effective_on": "2026-11-27",
                   "book": "HOUSEHOLD_BOOK", "book_number": "010999999"}),
        ),
        (
            "declare_temporary_absence",
            json!({"person": person, "effective_on": "2026-11-27", "until": "2027-05-31",
                   "clause": "c", "destination": "Thành phố Huế", "reason": "Học tập"}),
        ),
    ] {
        let (status, body) = post(&server, officer, procedure, procedure, command).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{procedure}: {body:#}");
        assert_eq!(body["code"], "outside_jurisdiction", "{procedure}");
    }
    assert_eq!(head(&server), before, "nothing was written");

    // A CT07 is issued by any office nationwide.
    recorded(
        post(
            &server,
            officer,
            "issue_residence_confirmation",
            "ct07-outside",
            json!({"certificate": "new", "person": person, "issued_on": "2026-11-27",
                   "purpose": "Xin việc", "ledger_size": head(&server)}),
        )
        .await,
    );

    // Moving to Ba Đình closes the registration at Hồng Hà: the officer at the new address is
    // entitled to that without holding Hồng Hà.
    let moved = recorded(
        post(
            &server,
            officer,
            "register_permanent",
            "ct01-move",
            json!({
                "person": person, "effective_on": "2026-11-27", "basis": "OWN_HOME",
                "address": address(BA_DINH, "Số 8 phố Quán Thánh"),
                "dwelling": "new", "household": {"establish": {"household": "new"}},
                "leaving_household": household,
            }),
        )
        .await,
    );
    assert_eq!(
        event_types(&moved),
        ["HouseholdEstablished", "PermanentResidenceRegistered"]
    );
    assert_eq!(
        moved["events"][1]["event"]["data"]["previous_household"],
        json!(household)
    );

    // The supervisor of Hà Nội may not register in Hồ Chí Minh City; the reorganisation needs
    // the whole country.
    let before = head(&server);
    let person = recorded(
        post(
            &server,
            &server.feed,
            "record_person",
            "npd-hcm",
            record_person("079085052345", "Lý Văn Minh", "1985-04-04", "male"),
        )
        .await,
    );
    let person = minted(&person, "person");
    let (status, body) = post(
        &server,
        &server.supervisor,
        "register_permanent",
        "ct01-hcm",
        json!({
            "person": person, "effective_on": "2026-11-20", "basis": "OWN_HOME",
            "address": address(BEN_THANH, "Số 45 đường Lê Lợi"),
            "dwelling": "new", "household": {"establish": {"household": "new"}},
        }),
    )
    .await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::FORBIDDEN, &json!("outside_jurisdiction")),
        "{body:#}"
    );
    let (status, body) = post(
        &server,
        &server.supervisor,
        "apply_reorganisation",
        "nq-202",
        json!({}),
    )
    .await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::FORBIDDEN, &json!("outside_jurisdiction")),
        "{body:#}"
    );
    assert_eq!(head(&server), before + 1, "only the person was recorded");
    server.assert_verifiable();
}

/// The access-log entries of action `command.refused`, as an auditor reads them.
async fn refused_entries(server: &TestServer) -> Vec<Value> {
    let (status, log) = server
        .call(
            Method::GET,
            "/v1/access-log?limit=1000",
            Some(&server.auditor),
            Some("kiểm tra nhật ký"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{log:#}");
    log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|entry| entry["entry"]["action"] == "command.refused")
        .cloned()
        .collect()
}

/// The jurisdiction is checked on the state a command will be decided on, before the law
/// decides: an officer outside it gets 403 for every procedure that acts on an existing
/// registration, household or dwelling, even with a command the law would refuse (wrong
/// household, no such member, dates out of term), and the refusal says nothing of where the
/// people live. Inside the jurisdiction the same command gets the law's 422. Each refused
/// attempt is in the access log, under the person or household it concerned.
#[tokio::test]
async fn outside_the_jurisdiction_the_answer_is_403_before_the_law_says_anything() {
    let server = TestServer::start().await;
    let inside = &server.supervisor;
    // Tâm is registered at Hồng Hà with his own household; Lan stays there temporarily; Tâm's
    // registration event is what annulments and corrections name.
    let tam = minted(
        &recorded(
            post(
                &server,
                &server.feed,
                "record_person",
                "npd-tam",
                record_person("001085032345", "Ngô Văn Tâm", "1985-04-04", "male"),
            )
            .await,
        ),
        "person",
    );
    let lan = minted(
        &recorded(
            post(
                &server,
                &server.feed,
                "record_person",
                "npd-lan",
                record_person("001190062345", "Đinh Thị Lan", "1990-06-06", "female"),
            )
            .await,
        ),
        "person",
    );
    let registered = recorded(
        post(
            &server,
            inside,
            "register_permanent",
            "ct01-tam",
            json!({
                "person": tam, "effective_on": "2026-01-05", "basis": "OWN_HOME",
                "address": address(HONG_HA, "Số 5 phố Phúc Xá"),
                "dwelling": "new", "household": {"establish": {"household": "new"}},
            }),
        )
        .await,
    );
    let household = minted(&registered, "household");
    let home = minted(&registered, "dwelling");
    let registration = event_id(&registered, "PermanentResidenceRegistered");
    let lodging = recorded(
        post(
            &server,
            inside,
            "register_temporary",
            "ct01-lan",
            json!({
                "person": lan, "effective_on": "2025-12-06", "until": "2026-12-05",
                "address": address(HONG_HA, "Số 9 phố Hồng Hà"), "dwelling": "new",
                "consents": [{"role": "DWELLING_OWNER"}],
            }),
        )
        .await,
    );
    let lodging = minted(&lodging, "dwelling");
    let revoked = json!({"household": household, "effective_on": "2026-01-05",
                         "book": "HOUSEHOLD_BOOK", "book_number": "010999999"});
    recorded(
        post(
            &server,
            inside,
            "revoke_legacy_book",
            "revoke-once",
            revoked.clone(),
        )
        .await,
    );
    // Tâm has declared an absence: a long-absence ground for him is refused by the law.
    recorded(
        post(
            &server,
            inside,
            "declare_temporary_absence",
            "absence-tam",
            json!({"person": tam, "effective_on": "2026-11-01", "until": "2027-05-31",
                   "clause": "c", "destination": "Thành phố Huế", "reason": "Học tập"}),
        )
        .await,
    );
    let wrong_household = "00000000000000ff";

    let cases = [
        (
            "delete_permanent",
            json!({"person": tam, "household": wrong_household, "effective_on": "2026-11-27",
                   "ground": "b", "requester": "person_concerned"}),
        ),
        (
            "delete_temporary",
            json!({"person": lan, "dwelling": lodging, "effective_on": "2025-11-01",
                   "ground": "e", "requester": "person_concerned"}),
        ),
        (
            "split_household",
            json!({"household": household, "new_household": "new", "dwelling": home,
                   "effective_on": "2026-11-27", "new_head": lan, "members": [],
                   "consent": "consented", "consents": [{"role": "HOUSEHOLD_HEAD", "person": tam}]}),
        ),
        (
            "annul_registration",
            // As the registering office: an officer may never annul as the direct superior
            // (403 `forbidden` before any place is looked at).
            json!({"annuls": registration, "decided_by": "REGISTERING_OFFICE",
                   "decision": {"decided_on": "2026-11-27", "number": "15/QĐ-CAT"},
                   "effective_on": "2026-11-27", "person": tam,
                   "reason": "Hồ sơ giả", "registration": "TEMPORARY"}),
        ),
        (
            "extend_temporary",
            json!({"person": lan, "dwelling": lodging, "effective_on": "2026-11-27",
                   "until": "2026-01-01", "consents": [{"role": "DWELLING_OWNER"}]}),
        ),
        (
            "change_head",
            json!({"household": household, "effective_on": "2026-11-27", "new_head": lan,
                   "members": []}),
        ),
        (
            "change_member_relationship",
            json!({"household": household, "effective_on": "2026-11-27", "person": lan,
                   "relationship": "VO"}),
        ),
        ("revoke_legacy_book", revoked),
        (
            "lift_dwelling_restriction",
            json!({"dwelling": home, "effective_on": "2026-11-27", "kind": "DEMOLITION_DECISION",
                   "decision": {"decided_on": "2026-11-26", "number": "310/QĐ-UBND"}}),
        ),
        (
            "recode_address",
            json!({"dwelling": home, "effective_on": "2025-01-01", "cause": "UNIT_REORGANISATION",
                   "new_address": address(BA_DINH, "Số 5 phố Quán Thánh")}),
        ),
        (
            "declare_temporary_absence",
            json!({"person": tam, "effective_on": "2026-11-27", "until": "2026-01-01",
                   "clause": "c", "destination": "Thành phố Huế", "reason": "Học tập"}),
        ),
        (
            "record_deletion_ground",
            json!({"person": tam, "effective_on": "2026-11-27",
                   "ground": {"registration": "PERMANENT", "ground": "d"}, "source": "REPORT"}),
        ),
        (
            "adjust_civil_status",
            json!({"person": tam, "effective_on": "2026-11-27", "changes": {},
                   "decision": {"number": "101/QĐ-UBND", "decided_on": "2026-11-26"},
                   "authority": "Ủy ban nhân dân cấp xã"}),
        ),
        (
            "update_current_address",
            json!({"person": tam, "effective_on": "2026-11-27",
                   "address": address(BA_DINH, "Số 8 phố Quán Thánh")}),
        ),
        (
            "update_current_address",
            json!({"person": tam, "effective_on": "2026-11-27",
                   "address": address(BA_DINH, "Số 8 phố Quán Thánh")}),
        ),
        (
            "correct_event",
            json!({"corrects": registration, "replacement": registered["events"][0]["event"],
                   "reason": "Nhập sai loại sự kiện"}),
        ),
    ];
    let before = head(&server);
    let refused_before = refused_entries(&server).await.len();
    let mut answers = Vec::new();
    for (procedure, command) in &cases {
        let (status, body) = post(
            &server,
            &server.officer,
            procedure,
            &format!("outside-{procedure}"),
            command.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{procedure}: {body:#}");
        assert_eq!(body["code"], "outside_jurisdiction", "{procedure}");
        assert!(body["message_vi"].is_string(), "{procedure}: {body:#}");
        let text = body.to_string();
        for secret in [HONG_HA, household.as_str(), "Hồng Hà"] {
            assert!(
                !text.contains(secret),
                "{procedure}: the refusal tells where the people live: {body:#}"
            );
        }
        answers.push(body);
    }
    // One answer for all: nothing in it depends on what the register holds, not even whether
    // the person exists (a person the register does not know gets the same words).
    let (status, unknown) = post(
        &server,
        &server.officer,
        "delete_permanent",
        "outside-unknown-person",
        json!({"person": "00000000000000ee", "household": wrong_household,
               "effective_on": "2026-11-27", "ground": "b", "requester": "person_concerned"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{unknown:#}");
    answers.push(unknown);
    for answer in &answers {
        assert_eq!(answer, &answers[0]);
    }
    assert_eq!(head(&server), before, "nothing was written");
    let refused = refused_entries(&server).await;
    assert_eq!(
        refused.len() - refused_before,
        cases.len() + 1,
        "{refused:#?}"
    );
    // The auditor reads the refusal as the server saw it, with the commune at fault.
    assert!(
        refused[refused_before]["entry"]["purpose"]
            .as_str()
            .is_some_and(|purpose| purpose.contains(HONG_HA)),
        "{:#}",
        refused[refused_before]
    );
    for ((procedure, _), entry) in cases.iter().zip(&refused[refused_before..]) {
        assert_eq!(entry["entry"]["role"], "officer");
        let subject = entry["entry"]["subject"].as_str().expect("a subject");
        assert!(
            subject.starts_with("person:")
                || subject.starts_with("household:")
                || subject.starts_with("dwelling:"),
            "{procedure}: {entry:#}"
        );
        assert!(
            entry["entry"]["purpose"]
                .as_str()
                .is_some_and(|purpose| purpose.starts_with(procedure)),
            "{procedure}: {entry:#}"
        );
    }
    // Inside the jurisdiction the same commands reach the law, which refuses each.
    for (procedure, command) in &cases {
        let (status, body) = post(
            &server,
            inside,
            procedure,
            &format!("inside-{procedure}"),
            command.clone(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{procedure}: {body:#}"
        );
    }
    assert_eq!(head(&server), before, "nothing was written");
    server.assert_verifiable();
}

#[tokio::test]
async fn callers_without_a_recording_role_are_refused() {
    let server = TestServer::start().await;
    let command = json!({
        "request_id": "r-1",
        "command": record_person("001080012345", "Nguyễn Văn An", "1980-03-15", "male"),
    });
    let (status, body) = server
        .call(
            Method::POST,
            "/v1/commands/record_person",
            None,
            None,
            Some(&command),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body:#}");
    assert_eq!(body["code"], "unauthenticated");
    insta::assert_json_snapshot!("unauthenticated", body);
    let (status, body) = server
        .call(
            Method::POST,
            "/v1/commands/record_person",
            Some("rsd_not-a-token"),
            None,
            Some(&command),
        )
        .await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("unauthenticated"))
    );
    for token in [&server.auditor, &server.court, &server.admin] {
        let (status, body) = server
            .call(
                Method::POST,
                "/v1/commands/record_person",
                Some(token),
                None,
                Some(&command),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body:#}");
        assert_eq!(body["code"], "forbidden");
    }
    // The domain decides what each recording actor may do (an officer does not re-establish
    // PINs); a role that may not record the act is refused like any other wrong role.
    let (status, body) = post(
        &server,
        &server.officer,
        "reassign_pin",
        "pin-1",
        json!({"person": "0000000000000001", "effective_on": "2026-11-27",
               "old": "001080012345", "new": "001080054321", "reason": "DATA_ENTRY_ERROR"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body:#}");
    assert_eq!(body["code"], "forbidden");
    assert_eq!(head(&server), 0);
    server.assert_verifiable();
}

#[tokio::test]
async fn bad_bodies_are_refused_with_the_field_at_fault() {
    let server = TestServer::start().await;
    let feed = &server.feed;
    let refusals = [
        (
            "wrong_type",
            "record_person",
            json!({"person": "new", "pin": "001080012345", "name": "Nguyễn Văn An",
                   "birth_date": 19800315, "sex": "male"}),
            "command.birth_date",
        ),
        (
            "missing_field",
            "record_person",
            json!({"person": "new", "name": "Nguyễn Văn An", "birth_date": "1980-03-15",
                   "sex": "male"}),
            "command",
        ),
        (
            "unknown_field",
            "record_person",
            json!({"person": "new", "pin": "001080012345", "name": "Nguyễn Văn An",
                   "birth_date": "1980-03-15", "sex": "male", "nickname": "Tí"}),
            "command.nickname",
        ),
        (
            "invalid_pin",
            "record_person",
            record_person("00108001234X", "Nguyễn Văn An", "1980-03-15", "male"),
            "command.pin",
        ),
        (
            "invalid_id",
            "register_permanent",
            json!({"person": "An", "effective_on": "2026-11-20", "basis": "OWN_HOME",
                   "address": address(BA_DINH, "Số 1 phố Huế"), "dwelling": "new",
                   "household": {"establish": {"household": "new"}}}),
            "command.person",
        ),
        (
            "unknown_unit",
            "register_permanent",
            json!({"person": "0000000000000001", "effective_on": "2026-11-20",
                   "basis": "OWN_HOME", "address": address("2025:99999", "Số 1 phố Huế"),
                   "dwelling": "new", "household": {"establish": {"household": "new"}}}),
            "command.address.unit",
        ),
        (
            "malformed_unit",
            "register_permanent",
            json!({"person": "0000000000000001", "effective_on": "2026-11-20",
                   "basis": "OWN_HOME", "address": address("Ba Đình", "Số 1 phố Huế"),
                   "dwelling": "new", "household": {"establish": {"household": "new"}}}),
            "command.address.unit",
        ),
    ];
    for (name, procedure, command, field) in refusals {
        let (status, body) = post(&server, feed, procedure, name, command).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body:#}");
        assert_eq!(body["code"], "invalid_body", "{name}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(&format!("{field}:")),
            "{name}: the message names {field}: {message}"
        );
        insta::assert_json_snapshot!(format!("invalid_body_{name}"), body);
    }

    // The envelope itself.
    for (name, body) in [
        ("no_request_id", json!({"command": {}})),
        (
            "unknown_member",
            json!({"request_id": "x", "command": {}, "priority": 1}),
        ),
        (
            "command_not_object",
            json!({"request_id": "x", "command": "record_person"}),
        ),
        ("empty_request_id", json!({"request_id": "", "command": {}})),
        ("not_an_object", json!(["record_person"])),
    ] {
        let (status, answer) = server
            .call(
                Method::POST,
                "/v1/commands/record_person",
                Some(feed),
                None,
                Some(&body),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {answer:#}");
        assert_eq!(answer["code"], "invalid_body", "{name}");
    }

    // Not JSON at all.
    let (status, body) = server
        .call_raw(
            Method::POST,
            "/v1/commands/record_person",
            Some(feed),
            None,
            Some(br#"{"request_id": "x", "command": {"#.to_vec()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    assert_eq!(body["code"], "malformed_json");
    insta::assert_json_snapshot!("malformed_json", body);

    // An unknown procedure names nothing internal.
    let (status, body) = post(&server, feed, "register_everyone", "x", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body:#}");
    assert_eq!(body["code"], "not_found");
    insta::assert_json_snapshot!("unknown_procedure", body);

    assert_eq!(head(&server), 0, "nothing was written");
    server.assert_verifiable();
}

#[tokio::test]
async fn an_oversize_body_is_refused() {
    let server = TestServer::start().await;
    let mut body = br#"{"request_id": "big", "command": {"name": ""#.to_vec();
    body.extend(std::iter::repeat_n(b'a', BODY_BYTES_MAX));
    body.extend_from_slice(br#""}}"#);
    let (status, answer) = server
        .call_raw(
            Method::POST,
            "/v1/commands/record_person",
            Some(&server.feed),
            None,
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer:#}");
    assert_eq!(answer["code"], "body_too_large");
    insta::assert_json_snapshot!("body_too_large", answer);
    assert_eq!(head(&server), 0);
    server.assert_verifiable();
}

#[tokio::test]
async fn a_legacy_unit_after_the_reorganisation_is_a_rule_violation() {
    let server = TestServer::start().await;
    let person = recorded(
        post(
            &server,
            &server.feed,
            "record_person",
            "npd-1",
            record_person("001080012345", "Nguyễn Văn An", "1980-03-15", "male"),
        )
        .await,
    );
    let person = minted(&person, "person");
    let before = head(&server);
    // Phường Trúc Bạch (legacy 00004) became part of Phường Ba Đình on 2025-07-01.
    let (status, body) = post(
        &server,
        &server.officer,
        "register_permanent",
        "ct01-legacy",
        json!({
            "person": person, "effective_on": "2026-11-20", "basis": "OWN_HOME",
            "address": address("legacy:00004", "Số 1 phố Trúc Bạch"),
            "dwelling": "new", "household": {"establish": {"household": "new"}},
        }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:#}");
    assert_eq!(body["code"], "unit_not_valid_on_date");
    insta::assert_json_snapshot!("unit_not_valid_on_date", body);
    assert_eq!(head(&server), before);
    server.assert_verifiable();
}

#[tokio::test]
async fn names_in_decomposed_unicode_are_stored_composed() {
    let server = TestServer::start().await;
    let composed = "Nguyễn Thị Phương";
    let decomposed = "Nguye\u{302}\u{303}n Thi\u{323} Phu\u{31b}o\u{31b}ng";
    assert_ne!(composed, decomposed);
    let body = recorded(
        post(
            &server,
            &server.feed,
            "record_person",
            "npd-nfd",
            record_person("001198012350", decomposed, "1998-02-02", "female"),
        )
        .await,
    );
    assert_eq!(body["events"][0]["event"]["data"]["name"], composed);
    insta::assert_json_snapshot!("nfd_name", body);

    // The ledger holds the composed form, byte for byte.
    let stored = server
        .server
        .state
        .ledger
        .read(residence_ledger::record::Position(0))
        .expect("the record reads");
    let residence_ledger::record::Payload::Present { bytes, .. } = &stored.payload else {
        panic!("the payload is present")
    };
    let payload = String::from_utf8_lossy(bytes);
    assert!(payload.contains(composed), "{payload}");
    assert!(!payload.contains(decomposed), "{payload}");

    // The same request in the composed spelling is the same request: replayed.
    let (status, again) = post(
        &server,
        &server.feed,
        "record_person",
        "npd-nfd",
        record_person("001198012350", composed, "1998-02-02", "female"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{again:#}");
    assert_eq!(again["events"], body["events"]);
    assert_eq!(head(&server), 1);
    server.assert_verifiable();
}

#[tokio::test]
async fn a_retried_request_is_answered_as_before_and_a_reused_id_is_refused() {
    let server = TestServer::start().await;
    let command = record_person("001080012345", "Nguyễn Văn An", "1980-03-15", "male");
    let first = recorded(
        post(
            &server,
            &server.feed,
            "record_person",
            "r-1",
            command.clone(),
        )
        .await,
    );
    let (status, retry) = post(&server, &server.feed, "record_person", "r-1", command).await;
    assert_eq!(status, StatusCode::OK, "{retry:#}");
    assert_eq!(retry["replayed"], true);
    assert_eq!(retry["events"], first["events"]);
    assert_eq!(retry["ids"], first["ids"], "a retry mints the same ids");
    insta::assert_json_snapshot!("replayed", retry);
    assert_eq!(head(&server), 1, "no duplicate");

    let other = record_person("001182012346", "Trần Thị Bình", "1982-07-20", "female");
    let (status, body) = post(&server, &server.feed, "record_person", "r-1", other).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body:#}");
    assert_eq!(body["code"], "request_id_reused");
    assert_eq!(body["position"], 0);
    insta::assert_json_snapshot!("request_id_reused", body);
    assert_eq!(head(&server), 1);
    server.assert_verifiable();
}

/// A hook that holds the command with request id `held` before its append, on its first
/// `holds` attempts: each time it signals `reached` and waits for `release`.
fn holding_hook(
    held: &'static str,
    holds: usize,
    reached: &Arc<Notify>,
    release: &Arc<Notify>,
) -> BeforeAppend {
    let attempts = Arc::new(AtomicUsize::new(0));
    let (reached, release) = (Arc::clone(reached), Arc::clone(release));
    Arc::new(move |request: &CommandRequest| {
        let hold = request.request_id == held && attempts.fetch_add(1, Ordering::SeqCst) < holds;
        let (reached, release) = (Arc::clone(&reached), Arc::clone(&release));
        Box::pin(async move {
            if hold {
                reached.notify_one();
                release.notified().await;
            }
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_race_lost_is_decided_again_on_the_winner() {
    let (reached, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let hook = holding_hook("race-a", 1, &reached, &release);
    let server = Arc::new(TestServer::start_with(Some(hook)).await);
    let (person, household, _) =
        settled(&server, &server.officer, "race", "001085012345", BA_DINH).await;

    // Two officers delete the same registration at once: A has read and decided, B goes
    // through, then A appends.
    let deletion = |ground: &str| {
        json!({"person": person, "household": household, "effective_on": "2026-11-27",
               "ground": ground, "requester": "person_concerned"})
    };
    let a = {
        let server = Arc::clone(&server);
        let command = deletion("b");
        tokio::spawn(async move {
            post(
                &server,
                &server.officer,
                "delete_permanent",
                "race-a",
                command,
            )
            .await
        })
    };
    reached.notified().await;
    let b = recorded(
        post(
            &server,
            &server.supervisor,
            "delete_permanent",
            "race-b",
            deletion("e"),
        )
        .await,
    );
    let after_b = head(&server);
    release.notify_one();
    let (status, body) = a.await.expect("the task ends");

    // A's append met B's record, A was read and decided again, and the law refused it: the
    // registration is already deleted.
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:#}");
    assert_eq!(body["code"], "no_active_permanent_registration");
    assert_eq!(event_types(&b), ["PermanentResidenceDeleted"]);
    assert_eq!(head(&server), after_b, "the loser wrote nothing");
    server.assert_verifiable();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_race_lost_every_time_is_a_conflict_with_its_position() {
    let (reached, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let hook = holding_hook("hot", CONFLICT_RETRIES_MAX + 1, &reached, &release);
    let server = Arc::new(TestServer::start_with(Some(hook)).await);
    let (person, household, _) =
        settled(&server, &server.officer, "hot", "001085012345", BA_DINH).await;

    // A revokes the household's paper book; before each of its appends another officer
    // changes the same household (a new book revoked), so A's condition fails every time.
    let a = {
        let server = Arc::clone(&server);
        let command = json!({"household": household, "effective_on": "2026-11-27",
                             "book": "HOUSEHOLD_BOOK", "book_number": "010000000"});
        tokio::spawn(async move {
            post(
                &server,
                &server.officer,
                "revoke_legacy_book",
                "hot",
                command,
            )
            .await
        })
    };
    let mut last = None;
    for round in 1..=CONFLICT_RETRIES_MAX + 1 {
        reached.notified().await;
        let winner = recorded(
            post(
                &server,
                &server.supervisor,
                "revoke_legacy_book",
                &format!("winner-{round}"),
                json!({"household": household, "effective_on": "2026-11-27",
                       "book": "HOUSEHOLD_BOOK", "book_number": format!("01000000{round}")}),
            )
            .await,
        );
        last = winner["position"].as_u64();
        release.notify_one();
    }
    let (status, body) = a.await.expect("the task ends");
    assert_eq!(status, StatusCode::CONFLICT, "{body:#}");
    assert_eq!(body["code"], "conflict");
    assert_eq!(
        body["position"].as_u64(),
        last,
        "the conflict names the record that won the last race"
    );
    insta::assert_json_snapshot!("conflict", body);
    assert!(!person.is_empty());
    assert_eq!(
        head(&server),
        last.map_or(0, |position| position + 1),
        "the loser wrote nothing"
    );
    server.assert_verifiable();
}
