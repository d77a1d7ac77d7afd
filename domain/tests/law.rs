//! The residence law as given/when/then tests, and a property test over random command
//! sequences.
//!
//! Every procedure has a test for its success and one for each of its rejections, named after
//! the rule. Tests compare typed values and stable codes, never message text. The harness
//! (`law/harness.rs`) decides every command against the state of its read tags only and against
//! the full state, and requires the same answer, so every test also checks the command's
//! consistency boundary.

#![allow(
    clippy::unwrap_used,
    reason = "an integration test binary: helpers build known-good values, and a failed unwrap is a failed test"
)]

#[path = "law/correction.rs"]
mod correction;
#[path = "law/declaration.rs"]
mod declaration;
#[path = "law/deletion.rs"]
mod deletion;
#[path = "law/harness.rs"]
mod harness;
#[path = "law/household.rs"]
mod household;
#[path = "law/jurisdiction.rs"]
mod jurisdiction;
#[path = "law/permanent.rs"]
mod permanent;
#[path = "law/person.rs"]
mod person;
#[path = "law/place.rs"]
mod place;
#[path = "law/property.rs"]
mod property;
#[path = "law/temporary.rs"]
mod temporary;
#[path = "law/wire.rs"]
mod wire;
