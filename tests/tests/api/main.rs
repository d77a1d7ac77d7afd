//! End-to-end tests of the HTTP API through the router (`oneshot`, no socket): every command
//! endpoint and query, the negative cases with their documented status and code, and the
//! ledger staying verifiable after each. Responses are snapshotted with insta; they are
//! deterministic because the server runs on a fixed clock, seeded keys and a fixed access-log
//! id key (no redaction of hashes).

mod commands;
mod docs;
mod issue_11;
mod queries;
mod support;
