//! Commands as JSON (the API's input) and their read tags.

use residence_domain::command::*;
use residence_domain::event::*;
use residence_domain::relationship::Relationship;
use residence_domain::tag::Tag;

use crate::harness::*;

#[test]
fn a_command_reads_from_snake_case_json() {
    let json = r#"{"register_permanent":{
        "person":"0000000000000002",
        "effective_on":"2023-02-01",
        "basis":"JOIN_RELATIVE",
        "address":{"unit":"legacy:00001","street":"Số 1 phố Phúc Xá"},
        "dwelling":"0000000000000201",
        "household":{"join":{"household":"0000000000000101","relationship":"VO"}},
        "consents":[{"role":"HOUSEHOLD_HEAD","person":"0000000000000001"},{"role":"DWELLING_OWNER","person":"0000000000000001"}]
    }}"#;
    let command: Command = serde_json::from_str(json).unwrap();
    assert_eq!(
        command,
        Command::RegisterPermanent(join(BINH, 1, AN, Relationship::Vo, home1(), "2023-02-01"))
    );
    let back = serde_json::to_string(&command).unwrap();
    assert_eq!(serde_json::from_str::<Command>(&back).unwrap(), command);
}

#[test]
fn unknown_fields_and_commands_are_refused() {
    let extra = r#"{"apply_reorganisation":{"force":true}}"#;
    assert!(serde_json::from_str::<Command>(extra).is_err());
    let unknown = r#"{"register_everyone":{}}"#;
    assert!(serde_json::from_str::<Command>(unknown).is_err());
    let extra_in_choice = r#"{"establish":{"household":"0000000000000101","head":"x"}}"#;
    assert!(serde_json::from_str::<HouseholdChoice>(extra_in_choice).is_err());
    let ok: Command = serde_json::from_str(r#"{"apply_reorganisation":{}}"#).unwrap();
    assert_eq!(ok, Command::ApplyReorganisation(ApplyReorganisation {}));
}

#[test]
fn a_correction_carries_its_replacement_as_an_envelope() {
    let replacement = family()[7].clone();
    let command = Command::CorrectEvent(CorrectEvent {
        corrects: event_id(7),
        replacement: EventEnvelope::new(replacement),
        reason: reason("nhập sai ngày"),
        legal_basis: None,
        read_also: vec![Tag::Person(person(DUNG))],
    });
    let json = serde_json::to_string(&command).unwrap();
    assert_eq!(serde_json::from_str::<Command>(&json).unwrap(), command);
}

#[test]
fn read_tags_are_the_narrow_tags_of_the_boundary() {
    let mut moving = own_home(AN, 2, home2(), "2024-06-01");
    moving.leaving_household = Some(household(1));
    moving.head_succession = Some(HeadSuccession {
        new_head: person(BINH),
        members: vec![member(CUONG, Relationship::ConDe)],
        court_decision: None,
    });
    moving.application = Some(application(3));
    let tags = Command::from(moving).read_tags();
    assert_eq!(
        tags,
        vec![
            Tag::Person(person(AN)),
            Tag::Person(person(BINH)),
            Tag::Person(person(CUONG)),
            Tag::Household(household(1)),
            Tag::Household(household(2)),
            Tag::Dwelling(dwelling(2)),
            Tag::Application(application(3)),
        ]
    );
    let recording = Command::from(fixture_person(AN)).read_tags();
    assert_eq!(
        recording,
        vec![Tag::Person(person(AN)), Tag::Pin(fixture_person(AN).pin)]
    );
    assert_eq!(
        Command::from(ApplyReorganisation {}).read_tags(),
        vec![Tag::MassChange]
    );
}

#[test]
fn no_command_reads_unit_tags() {
    let mut correction_tags = family()[7].tags();
    assert!(
        correction_tags
            .iter()
            .any(|tag| matches!(tag, Tag::Unit(_)))
    );
    correction_tags.retain(|tag| !matches!(tag, Tag::Unit(_)));
    let command = Command::CorrectEvent(CorrectEvent {
        corrects: event_id(7),
        replacement: EventEnvelope::new(family()[7].clone()),
        reason: reason("nhập sai"),
        legal_basis: None,
        read_also: vec![Tag::Unit(phuc_xa())],
    });
    assert_eq!(command.read_tags(), correction_tags);
}
