//! The OpenAPI document (`/openapi.json`) and interactive documentation (`/docs`).
//!
//! Why written out here rather than derived: the request bodies are the domain's command JSON
//! and the domain crate stays free of HTTP and documentation dependencies. The document is
//! built from one table of endpoints ([`ENDPOINTS`]) plus one real example body per procedure
//! (`command_examples.json`, checked by a test to decode into a domain command, one per
//! procedure). The end-to-end tests (`tests/tests/api/docs.rs`) call every endpoint of the table
//! and every procedure's endpoint, so nothing documented goes unserved; a route added to the
//! router must be added to [`ENDPOINTS`] by hand. Swagger UI is embedded in the
//! binary (`utoipa-swagger-ui`, vendored): no network at build or run time.

use std::sync::{Arc, OnceLock};

use axum::Router;
use serde_json::{Map, Value, json};
use utoipa_swagger_ui::SwaggerUi;

use super::AppState;

/// Example command bodies, one per procedure (the `command` member of a command request).
pub const COMMAND_EXAMPLES: &str = include_str!("command_examples.json");

/// How an endpoint is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token.
    Public,
    /// A token of one of the roles.
    Roles(&'static [&'static str]),
    /// A token of one of the roles, plus `X-Purpose`; the read is written to the access log.
    Personal(&'static [&'static str]),
}

/// One documented endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// The HTTP method (lower case).
    pub method: &'static str,
    /// The path template, OpenAPI style (`{pin}`).
    pub path: &'static str,
    /// Its tag (group in the docs).
    pub tag: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Query parameters: (name, description).
    pub query: &'static [(&'static str, &'static str)],
}

const READERS: &[&str] = &["officer", "supervisor", "auditor", "court"];
const WRITERS: &[&str] = &["officer", "supervisor", "population-database"];
const AS_KNOWN: (&str, &str) = (
    "as_known_at",
    "answer as the register knew it at this ledger position (a number) or time (RFC 3339); default: now",
);
const ON: (&str, &str) = (
    "on",
    "the date asked about (YYYY-MM-DD); default: today in Vietnam",
);
const MIN_POSITION: (&str, &str) = (
    "min_position",
    "read-your-writes: wait until the projections include this ledger position",
);

/// Every endpoint but the per-procedure command endpoints (generated from the examples).
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "get",
        path: "/healthz",
        tag: "operations",
        summary: "Liveness: the process answers",
        access: Access::Public,
        query: &[],
    },
    Endpoint {
        method: "get",
        path: "/readyz",
        tag: "operations",
        summary: "Readiness: the ledger and the access log accept writes",
        access: Access::Public,
        query: &[],
    },
    Endpoint {
        method: "get",
        path: "/metrics",
        tag: "operations",
        summary: "Prometheus metrics",
        access: Access::Public,
        query: &[],
    },
    Endpoint {
        method: "post",
        path: "/v1/commands",
        tag: "commands",
        summary: "A batch of commands, each recorded on its own, in order",
        access: Access::Roles(WRITERS),
        query: &[],
    },
    Endpoint {
        method: "get",
        path: "/v1/persons/{pin}",
        tag: "queries",
        summary: "A person's residence on a date, as known at a position or time",
        access: Access::Personal(READERS),
        query: &[ON, AS_KNOWN, MIN_POSITION],
    },
    Endpoint {
        method: "get",
        path: "/v1/persons/{pin}/history",
        tag: "queries",
        summary: "A person's residence history, as known at a position or time",
        access: Access::Personal(READERS),
        query: &[AS_KNOWN, MIN_POSITION],
    },
    Endpoint {
        method: "get",
        path: "/v1/households/{household}/book",
        tag: "queries",
        summary: "The digital household book on a date",
        access: Access::Personal(READERS),
        query: &[ON, AS_KNOWN, MIN_POSITION],
    },
    Endpoint {
        method: "get",
        path: "/v1/units/{unit}/residents",
        tag: "queries",
        summary: "The register of a commune: people registered there on a date",
        access: Access::Personal(READERS),
        query: &[
            ON,
            ("street", "only this street line"),
            ("after", "the `next` cursor of the previous page"),
            (
                "limit",
                "people per page (default 200, at most 1000; a household is never split)",
            ),
            MIN_POSITION,
        ],
    },
    Endpoint {
        method: "get",
        path: "/v1/statistics/population",
        tag: "queries",
        summary: "Population counts (permanent, temporary, absent) by unit and province",
        access: Access::Roles(&[
            "officer",
            "supervisor",
            "auditor",
            "court",
            "admin",
            "population-database",
        ]),
        query: &[
            ON,
            ("unit", "one commune"),
            ("province", "one province"),
            MIN_POSITION,
        ],
    },
    Endpoint {
        method: "get",
        path: "/v1/ledger/checkpoint",
        tag: "ledger",
        summary: "The latest signed checkpoint (C2SP signed note)",
        access: Access::Public,
        query: &[],
    },
    Endpoint {
        method: "get",
        path: "/v1/ledger/public-key",
        tag: "ledger",
        summary: "The checkpoint verifier key",
        access: Access::Public,
        query: &[],
    },
    Endpoint {
        method: "get",
        path: "/v1/ledger/consistency",
        tag: "ledger",
        summary: "A consistency proof between two tree sizes",
        access: Access::Public,
        query: &[
            ("old", "the older tree size"),
            ("new", "the newer tree size"),
        ],
    },
    Endpoint {
        method: "get",
        path: "/v1/ledger/records",
        tag: "ledger",
        summary: "Records by position range, or by tag",
        access: Access::Personal(&["auditor", "court", "supervisor"]),
        query: &[
            ("from", "first position"),
            ("limit", "at most this many records (≤ 1000)"),
            (
                "tag",
                "only records with this tag (e.g. person:0000000000000001)",
            ),
            ("after", "with tag: records after this position"),
        ],
    },
    Endpoint {
        method: "get",
        path: "/v1/ledger/records/{position}",
        tag: "ledger",
        summary: "One record",
        access: Access::Personal(&["auditor", "court", "supervisor"]),
        query: &[],
    },
    Endpoint {
        method: "get",
        path: "/v1/ledger/proofs/inclusion",
        tag: "ledger",
        summary: "An inclusion proof of a record in a tree size, with the checkpoint to check it against",
        access: Access::Personal(&["auditor", "court", "supervisor"]),
        query: &[
            ("position", "the record"),
            (
                "size",
                "the tree size (default: the latest signed checkpoint's)",
            ),
        ],
    },
    Endpoint {
        method: "get",
        path: "/v1/access-log",
        tag: "access log",
        summary: "Entries of the access log (who read whose data, when, why); reading it is itself logged",
        access: Access::Roles(&["auditor", "admin"]),
        query: &[
            ("from", "first position"),
            (
                "tag",
                "only entries with this tag (token:<id>, person:<id>, household:<id>, unit:…)",
            ),
            ("after", "with tag: entries after this position"),
            ("limit", "at most this many (≤ 1000)"),
        ],
    },
    Endpoint {
        method: "get",
        path: "/v1/access-log/checkpoint",
        tag: "access log",
        summary: "The access log's latest signed checkpoint",
        access: Access::Roles(&["auditor", "admin"]),
        query: &[],
    },
];

/// The procedures with an example, in order.
///
/// # Panics
/// Never at run time: the embedded examples are checked by a unit test.
pub fn command_examples() -> &'static Map<String, Value> {
    static EXAMPLES: OnceLock<Map<String, Value>> = OnceLock::new();
    EXAMPLES.get_or_init(|| serde_json::from_str(COMMAND_EXAMPLES).unwrap_or_default())
}

fn error_responses(access: Access) -> Map<String, Value> {
    let error = json!({"$ref": "#/components/responses/Error"});
    let mut responses = Map::new();
    match access {
        Access::Public => {}
        Access::Roles(_) | Access::Personal(_) => {
            responses.insert("401".into(), error.clone());
            responses.insert("403".into(), error.clone());
        }
    }
    if matches!(access, Access::Personal(_)) {
        responses.insert("400".into(), error.clone());
    }
    responses.insert("503".into(), error);
    responses
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
        })
        .collect()
}

fn operation(endpoint: &Endpoint) -> Value {
    let mut parameters = path_parameters(endpoint.path);
    for (name, description) in endpoint.query {
        parameters.push(json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}}));
    }
    let (security, roles) = match endpoint.access {
        Access::Public => (json!([]), String::from("public")),
        Access::Roles(roles) => (json!([{"bearer": []}]), roles.join(", ")),
        Access::Personal(roles) => {
            parameters.push(json!({"name": "X-Purpose", "in": "header", "required": true, "description": "why this personal data is read (1 to 200 characters); written to the access log", "schema": {"type": "string"}}));
            (
                json!([{"bearer": []}]),
                format!("{}; written to the access log", roles.join(", ")),
            )
        }
    };
    let mut responses = error_responses(endpoint.access);
    responses.insert(
        "200".into(),
        json!({"description": "success", "content": {"application/json": {}}}),
    );
    json!({
        "tags": [endpoint.tag],
        "summary": endpoint.summary,
        "description": format!("Roles: {roles}."),
        "parameters": parameters,
        "security": security,
        "responses": responses,
    })
}

fn command_operation(procedure: &str, example: &Value) -> Value {
    let mut responses = error_responses(Access::Roles(WRITERS));
    responses.insert("201".into(), json!({"description": "recorded: the new events with their positions and hashes", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CommandOutcome"}}}}));
    responses.insert("200".into(), json!({"description": "a retry of an already recorded request: the original answer (`replayed: true`), nothing new written", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CommandOutcome"}}}}));
    responses.insert(
        "400".into(),
        json!({"$ref": "#/components/responses/Error"}),
    );
    responses.insert("409".into(), json!({"description": "`conflict` (another change to the same person or household won; `position` names it) or `request_id_reused`", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}));
    responses.insert(
        "413".into(),
        json!({"$ref": "#/components/responses/Error"}),
    );
    responses.insert("422".into(), json!({"description": "a rule of the law refused it: `code` is the domain's rejection code, with English and Vietnamese messages", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}));
    json!({
        "tags": ["commands"],
        "summary": format!("Record `{procedure}`"),
        "description": "Roles: officer (addresses in their jurisdiction), supervisor (their provinces), population-database. Id fields given as \"new\" are minted by the server from the request id (a retry mints the same ids).",
        "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/CommandRequest"},
            "example": {"request_id": format!("example-{procedure}-1"), "command": example},
        }}},
        "responses": responses,
    })
}

/// The OpenAPI 3.1 document.
pub fn openapi() -> Value {
    let mut paths = Map::new();
    for endpoint in ENDPOINTS {
        let entry = paths
            .entry(endpoint.path.to_owned())
            .or_insert_with(|| json!({}));
        if let Value::Object(methods) = entry {
            methods.insert(endpoint.method.to_owned(), operation(endpoint));
        }
    }
    for (procedure, example) in command_examples() {
        paths.insert(
            format!("/v1/commands/{procedure}"),
            json!({"post": command_operation(procedure, example)}),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Residence ledger API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Vietnam's residence register as a verifiable event log: commands for residence officers, point-in-time queries for officers and courts, records, proofs and the access log for auditors. Every read of personal data is written to a hash-chained access log before it is answered. Errors are `{code, message}` with stable codes.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "a token from `residence tokens create` (rsd_…)"}},
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "description": "stable error code"},
                    "message": {"type": "string"},
                    "message_vi": {"type": "string", "description": "Vietnamese message (rule violations)"},
                    "position": {"type": "integer", "description": "the ledger position concerned (conflicts)"},
                }},
                "CommandRequest": {"type": "object", "required": ["request_id", "command"], "additionalProperties": false, "properties": {
                    "request_id": {"type": "string", "minLength": 1, "maxLength": 128, "description": "the client's idempotency key"},
                    "command": {"type": "object", "description": "the procedure's fields (see the example)"},
                }},
                "CommandOutcome": {"type": "object", "properties": {
                    "events": {"type": "array", "items": {"type": "object", "properties": {
                        "position": {"type": "integer"},
                        "record_hash": {"type": "string"},
                        "event_id": {"type": "string"},
                        "event": {"type": "object", "description": "{type, version, data}"},
                    }}},
                    "warnings": {"type": "array", "items": {"type": "object"}},
                    "replayed": {"type": "boolean"},
                    "position": {"type": "integer", "description": "the last event's position: pass it as min_position to read your write"},
                    "ids": {"type": "object", "description": "ids minted for fields given as \"new\""},
                }},
            },
            "responses": {"Error": {"description": "a typed error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
        "paths": paths,
    })
}

/// The routes of this module: `/openapi.json` and the Swagger UI at `/docs`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::from(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", openapi()))
}

#[cfg(test)]
mod tests {
    use residence_domain::command::Command;

    use super::*;

    /// The example with each id given as `"new"` (minted by the server) replaced by an id.
    fn minted(value: &Value) -> Value {
        match value {
            Value::String(text) if text == crate::http::commands::NEW_ID => {
                Value::String("00000000000000aa".to_owned())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, value)| (key.clone(), minted(value)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(minted).collect()),
            other => other.clone(),
        }
    }

    #[test]
    fn every_example_decodes_into_its_procedure() {
        let examples: Map<String, Value> =
            serde_json::from_str(COMMAND_EXAMPLES).expect("the examples are JSON");
        let procedures: Vec<&str> = examples.keys().map(String::as_str).collect();
        let mut expected = crate::http::commands::PROCEDURES.to_vec();
        expected.sort_unstable();
        assert_eq!(procedures, expected, "one example per procedure");
        for (procedure, body) in &examples {
            let command: Command =
                serde_json::from_value(json!({ procedure.clone(): minted(body) }))
                    .unwrap_or_else(|error| panic!("{procedure}: {error}"));
            assert_eq!(command.name(), procedure);
        }
    }

    #[test]
    fn the_document_lists_every_endpoint_once_with_its_security() {
        let document = openapi();
        let paths = document["paths"].as_object().expect("paths");
        for endpoint in ENDPOINTS {
            let operation = &paths[endpoint.path][endpoint.method];
            assert!(
                operation.is_object(),
                "{} {}",
                endpoint.method,
                endpoint.path
            );
            let secured = !operation["security"]
                .as_array()
                .expect("security")
                .is_empty();
            assert_eq!(
                secured,
                endpoint.access != Access::Public,
                "{}",
                endpoint.path
            );
        }
        for procedure in command_examples().keys() {
            assert!(paths[&format!("/v1/commands/{procedure}")]["post"]["requestBody"].is_object());
        }
    }
}
