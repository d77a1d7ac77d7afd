//! The API documents itself: `/openapi.json` lists every endpoint the router serves, `/docs`
//! serves the interactive documentation from the binary, and `/metrics` counts requests by
//! route template (never by a concrete path, which may carry a PIN).

use axum::http::{Method, StatusCode};
use residence_api::http::docs::ENDPOINTS;

use crate::support::TestServer;

fn concrete(path: &str) -> String {
    path.replace("{pin}", "001090000001")
        .replace("{household}", "0000000000000001")
        .replace("{unit}", "2025:00004")
        .replace("{position}", "0")
}

#[tokio::test]
async fn every_documented_endpoint_is_served() {
    let server = TestServer::start().await;
    for endpoint in ENDPOINTS {
        let method = match endpoint.method {
            "get" => Method::GET,
            "post" => Method::POST,
            other => panic!("undocumented method {other}"),
        };
        let (status, body) = server
            .call(
                method,
                &concrete(endpoint.path),
                Some(&server.auditor),
                Some("docs test"),
                None,
            )
            .await;
        let unrouted = status == StatusCode::NOT_FOUND && body["message"] == "no such endpoint";
        assert!(
            !unrouted,
            "{} {} is documented but not served",
            endpoint.method, endpoint.path
        );
    }
    let (status, body) = server
        .call(Method::GET, "/no/such/thing", None, None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn the_openapi_document_has_a_command_endpoint_per_procedure_and_docs_are_served() {
    let server = TestServer::start().await;
    let (status, document) = server
        .call(Method::GET, "/openapi.json", None, None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().expect("paths");
    for procedure in residence_api::http::commands::PROCEDURES {
        let path = format!("/v1/commands/{procedure}");
        assert!(paths.contains_key(&path), "{path} is not documented");
        let (status, body) = server
            .call(
                Method::POST,
                &path,
                Some(&server.auditor),
                None,
                Some(&serde_json::json!({})),
            )
            .await;
        assert_ne!(body["message"], "no such endpoint", "{path} is not served");
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{path}: an auditor never writes"
        );
    }
    let (status, page) = server.call(Method::GET, "/docs/", None, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.as_str().is_some_and(|html| html.contains("swagger")),
        "{page}"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let server = TestServer::start().await;
    let (status, _) = server
        .call(
            Method::GET,
            "/v1/persons/001090000001",
            Some(&server.court),
            Some("metrics test"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, text) = server.call(Method::GET, "/metrics", None, None, None).await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().expect("text");
    assert!(
        text.contains(r#"residence_http_requests_total{method="GET",route="/v1/persons/{pin}",status="404"} 1"#),
        "{text}"
    );
    assert!(
        !text.contains("001090000001"),
        "a PIN leaked into the metrics"
    );
    assert!(text.contains("residence_ledger_records 0"));
}
