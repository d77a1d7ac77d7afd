//! Wire-format guards for the event catalogue.
//!
//! Events live for ever in an immutable ledger, so their JSON must never change by accident.
//! Three guards hold it:
//!
//! 1. **Snapshots**: one insta snapshot per event type of a representative envelope
//!    (`tests/snapshots/events__<EventType>.snap`). A change to a field shows up in review.
//! 2. **Frozen fixtures**: `tests/fixtures/events/<EventType>.v<version>[.<label>].json` hold
//!    payloads exactly as the ledger stores them (compact JSON, no trailing newline), the type and
//!    version taken from the file name. They were written once and are never regenerated: every
//!    later binary must decode them, and a payload at the current version must re-encode to the
//!    identical bytes. Their blake3 hashes are pinned in [`FIXTURE_BLAKE3`], so adding, removing
//!    or editing a fixture fails until the table is updated in the same change (which a reviewer
//!    then sees). When a type gets a new version, add fixtures for it and keep the old ones.
//! 3. **Decode errors and tags**: typed errors for bad input; the tags of events whose tags
//!    matter most.
//!
//! Updating snapshots: `INSTA_UPDATE=always cargo test -p residence-domain --test events`, then
//! review the diff. CI runs with `CI=true`, where insta refuses to write, so every `.snap` file
//! must be committed.

#![allow(
    clippy::unwrap_used,
    reason = "an integration test binary: helpers build known-good values, and a failed unwrap is a failed test"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use residence_domain::address::{Address, PersonName, StreetLine};
use residence_domain::event::*;
use residence_domain::event_id::EventId;
use residence_domain::grounds::{Initiator, PermanentDeletionGround, TemporaryDeletionGround};
use residence_domain::ids::{ApplicationId, CertificateId, DwellingId, HouseholdId, PersonId};
use residence_domain::pin::{Pin, Sex};
use residence_domain::relationship::Relationship;
use residence_domain::tag::Tag;
use residence_domain::units::conversion_table_hash;

/// The blake3 hash (hex) of every fixture file. A fixture is frozen: never edit one to make a
/// test pass. Only add rows (for new fixtures) or, for a deliberate change, explain it in review.
const FIXTURE_BLAKE3: &[(&str, &str)] = &[
    (
        "AdministrativeUnitsReorganized.v1.json",
        "baf96b61892c590a402215c2f15423506334f240d9726433d4765c988419ef4c",
    ),
    (
        "ApplicationCompletionRequested.v1.json",
        "5a6573615b25ba7599e119d08449ac05759c5b259e0fba56e9e58d6b85ae42d9",
    ),
    (
        "ApplicationReceived.v1.json",
        "fc77e8f656b1390374841dec0d4a31f0f09599de991b7a0a09a7cdd2a6a1a2db",
    ),
    (
        "ApplicationRefused.v1.json",
        "0f843a4fbaf4a5d2442412fa774c5492135f7d6f1f2d6bff50e6b7d0a5b1da9b",
    ),
    (
        "CurrentAddressUpdated.v1.json",
        "53952b357a8caa3ca16c54253a71d059a3dff3d1219bc52b4c4b340243960d73",
    ),
    (
        "CurrentResidenceDeclarationRefused.v1.json",
        "ea7674a0c7f68c4c77fad25ef710cc7be3c931b339a1817f9622c8e2ffaee366",
    ),
    (
        "CurrentResidenceDeclared.v1.json",
        "34bf5e9a615054dcbab71af3e78f0b801e43fde13ae6711a63bf6992f11941bb",
    ),
    (
        "DeletionGroundDetected.v1.json",
        "8b609a08a065b4f8b9079a06c4200fba8626b1b1487f54cab85b90fe41173e1c",
    ),
    (
        "DeletionGroundDetected.v1.temporary.json",
        "ed83bbe356f7075ed9540f8899ba0125fee33f523afa5002b1f829faa473859c",
    ),
    (
        "DwellingRestrictionLifted.v1.json",
        "b9dd9b741dbeace834d43466b065a2e61e39d29c03c7f999fcff0aea1bdd8cbf",
    ),
    (
        "DwellingRestrictionRecorded.v1.json",
        "f61e0281c206233c9e647dd6420c5b75c8eb5d3e94da14581c01a60b4713a7f2",
    ),
    (
        "EventCorrected.v1.json",
        "81c755fd1f02d23bf25e8d3a0798ec573108fa881352701801f7d133c36a1157",
    ),
    (
        "HouseholdEstablished.v1.json",
        "770ff91ae4153d5c99c8eacc7b8b82d6c4736c4e7ebae3c85337d3855fb79fe9",
    ),
    (
        "HouseholdHeadChanged.v1.head-vacant.json",
        "792c711b48977175c90c5777d98f9fd2adf2bdbaac3619597885c2085dd88f94",
    ),
    (
        "HouseholdHeadChanged.v1.json",
        "3b5bad68011f879c6bf0e34d1b9bedebed37d75ddf3351a13e81736dc19d1318",
    ),
    (
        "HouseholdSplit.v1.json",
        "9ac2c425b8c57b689a347abfdd6e4566663ce028daaf4f59c416ca559509cd1e",
    ),
    (
        "LegacyHouseholdBookRevoked.v1.json",
        "5690bf9e19a41c7b90a94d0118f8d0a9d8d361a583474a2de201a36448a7d470",
    ),
    (
        "MemberRelationshipChanged.v1.json",
        "4160513f15ab9e048cf7a328e02cc0d51ebdf4779d4eced3f8fc0581a9e32a50",
    ),
    (
        "PermanentResidenceDeleted.v1.json",
        "2acd8409eac04b086bd84c181483a3793fcaaa3bc80bdc01adc322dc2344c585",
    ),
    (
        "PermanentResidenceRegistered.v1.json",
        "25c1b1b037d61cbbda7c1dfdc0f0a37e0becd6324aa6e5f518c8b9109c45cb21",
    ),
    (
        "PermanentResidenceRegistered.v1.legacy-relationship.json",
        "395a7537c19fc7804ff6cce0ecec2fd3743bf1b9196f4ebf4e4db5847c4ba61e",
    ),
    (
        "PermanentResidenceRegistered.v1.own-home.json",
        "8e72d7b942de1a72ebf1db88c029b23ba4b2ca0989401cd7cce025abb782296d",
    ),
    (
        "PermanentResidenceRegistered.v1.previous-dwelling.json",
        "aaf0e5b166813ac4d3a36b69f7e82858e90652aae68fc311a6f36ac9faee3ef7",
    ),
    (
        "PersonRecorded.v1.json",
        "1163b8969011fcc99ec64cd6c5f4cac40e958b18bf6ecd3a8da9f564e3e2fdd7",
    ),
    (
        "PersonalIdNumberReassigned.v1.json",
        "7c77b6515d4c6fcb4a95b421c29d890e5002a6e4a7e914afe91a0e0c8dcd1b0f",
    ),
    (
        "ResidenceAddressRecoded.v1.json",
        "05c4cbe402953ca15e2e4df780cbd269baca2b86cd279dbd338f7b25ad0ef702",
    ),
    (
        "ResidenceConfirmationIssued.v1.json",
        "5ada78fde3bcdae04c49f980d19c661b64d2551f94571140d53ba95688876340",
    ),
    (
        "ResidenceRegistrationAnnulled.v1.json",
        "491298c61b8637d495d76d3139c9b4cd4abd698b76e88d9d86c5ef5ce8262c53",
    ),
    (
        "ResidentCivilStatusAdjusted.v1.all-fields.json",
        "f95e2d7d6fe81ef4ea56883b900031d1d341cb238421355566d512b85b7ab1ef",
    ),
    (
        "ResidentCivilStatusAdjusted.v1.json",
        "59f323cbe68b5f42f562c12ce99de2348f1b5768a38504e9cd47d83f94c0f1e8",
    ),
    (
        "StayNotified.v1.json",
        "55dfa26f904cf0fb1dcedfb7c09befafcdb58513ff956cdea75b8cf235b92256",
    ),
    (
        "StayNotified.v1.registered-guest.json",
        "800cd09c03bfcfbeefa771237b62a66614d834a4e42a4d5a401c912624b6faca",
    ),
    (
        "TemporaryAbsenceDeclared.v1.json",
        "5a0f0dcda7a5a0aaf3938f85c2411e5b199cb34b397a8a88dfd4ecaf92e6a0c2",
    ),
    (
        "TemporaryResidenceDeleted.v1.json",
        "2cc8cc3eb7402abee47156fab6ec87621b3d150028b26d46a78d18b115042dd1",
    ),
    (
        "TemporaryResidenceExtended.v1.json",
        "1e23e52974783812da8899c7a9d83300d9cc89248defecd5783507b8fc3c40f4",
    ),
    (
        "TemporaryResidenceRegistered.v1.json",
        "82d484baddf3bf61b04096b179e67ec9613c0f04780baf2f5fc6f522d6f8c4f3",
    ),
    (
        "TemporaryResidenceRegistered.v1.list.json",
        "2d98023a0c3ba9a51256b913b1b674c1b8dfa25ba26cf69dff1fbac016e6a8bf",
    ),
];

// ---------------------------------------------------------------------------------------------
// Representative events
// ---------------------------------------------------------------------------------------------

const AN: PersonId = PersonId::new(0x11);
const BINH: PersonId = PersonId::new(0x12);
const CHI: PersonId = PersonId::new(0x13);
const DUNG: PersonId = PersonId::new(0x14);
const EM: PersonId = PersonId::new(0x15);
const GIANG: PersonId = PersonId::new(0x16);

const HOUSEHOLD_AN: HouseholdId = HouseholdId::new(0x21);
const HOUSEHOLD_NGOC_HA: HouseholdId = HouseholdId::new(0x22);
const HOUSEHOLD_HCM: HouseholdId = HouseholdId::new(0x23);
const HOUSEHOLD_DUNG: HouseholdId = HouseholdId::new(0x24);

const DWELLING_PHUC_XA: DwellingId = DwellingId::new(0x31);
const DWELLING_BA_DINH: DwellingId = DwellingId::new(0x32);
const DWELLING_BEN_THANH: DwellingId = DwellingId::new(0x33);
const DWELLING_DOI_CAN: DwellingId = DwellingId::new(0x34);
const DWELLING_HONG_HA: DwellingId = DwellingId::new(0x35);

const APPLICATION: ApplicationId = ApplicationId::new(0x41);
const CERTIFICATE: CertificateId = CertificateId::new(0x51);

const EVENT_ANNULLED: EventId = EventId::from_bytes([
    0x6f, 0x1e, 0x2a, 0x90, 0x11, 0x4c, 0x4b, 0x8d, 0x9a, 0x3b, 0x27, 0xc0, 0x5e, 0x71, 0xd4, 0x02,
]);
const EVENT_CORRECTED: EventId = EventId::from_bytes([
    0x0b, 0x7c, 0x55, 0x12, 0xe3, 0x48, 0x4f, 0x21, 0x86, 0x90, 0x3d, 0xaa, 0x17, 0x64, 0xc8, 0x9f,
]);

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn pin(text: &str) -> Pin {
    text.parse().unwrap()
}

fn name(text: &str) -> PersonName {
    PersonName::parse(text).unwrap()
}

fn address(unit: &str, street: &str) -> Address {
    Address {
        unit: unit.parse().unwrap(),
        street: StreetLine::parse(street).unwrap(),
    }
}

/// Số 5, ngõ 12 phố Phúc Xá in legacy Phường Phúc Xá, Quận Ba Đình.
fn phuc_xa_legacy() -> Address {
    address("legacy:00001", "Số 5, ngõ 12 phố Phúc Xá")
}

/// The same house in Phường Hồng Hà, its successor from 2025-07-01.
fn phuc_xa_2025() -> Address {
    address("2025:00097", "Số 5, ngõ 12 phố Phúc Xá")
}

fn ba_dinh() -> Address {
    address("2025:00004", "Số 18 phố Phan Đình Phùng")
}

fn ben_thanh() -> Address {
    address("2025:26743", "Số 45 đường Lê Lợi")
}

fn basis(text: &str) -> LegalBasis {
    LegalBasis::parse(text).unwrap()
}

fn reason(text: &str) -> Reason {
    Reason::parse(text).unwrap()
}

fn number(text: &str) -> DocumentNumber {
    DocumentNumber::parse(text).unwrap()
}

fn decision(text: &str, decided_on: NaiveDate) -> DecisionRef {
    DecisionRef {
        number: number(text),
        decided_on,
    }
}

fn consent(role: ConsentRole, person: Option<PersonId>) -> Consent {
    Consent { role, person }
}

fn member(person: PersonId, relationship: Relationship) -> MemberRelationship {
    MemberRelationship {
        person,
        relationship,
    }
}

/// An own-home registration imported from a paper book, used as a variant and as the
/// replacement of the representative correction.
fn own_home_registration(effective_on: NaiveDate) -> PermanentResidenceRegistered {
    PermanentResidenceRegistered {
        person: AN,
        effective_on,
        basis: PermanentBasis::OwnHome,
        address: phuc_xa_legacy(),
        dwelling: DWELLING_PHUC_XA,
        membership: Membership {
            household: HOUSEHOLD_AN,
            relationship: Relationship::ChuHo,
        },
        previous_household: None,
        previous_dwelling: None,
        floor_area: None,
        consents: vec![],
        legal_basis: basis("Luật Cư trú 2006, Điều 19.1"),
        application: None,
    }
}

/// A head change after the head died, named by a court because the members did not agree.
fn head_vacant_head_change() -> HouseholdHeadChanged {
    HouseholdHeadChanged {
        household: HOUSEHOLD_AN,
        effective_on: date(2026, 9, 14),
        previous_head: None,
        new_head: CHI,
        reason: HeadChangeReason::HeadDied,
        members: vec![member(BINH, Relationship::MeDe)],
        court_decision: Some(decision("05/2026/QĐ-TA", date(2026, 9, 1))),
        legal_basis: basis("Luật Cư trú 2020, Điều 10.4"),
        application: None,
    }
}

fn household_split() -> HouseholdSplit {
    HouseholdSplit {
        household: HOUSEHOLD_AN,
        new_household: HOUSEHOLD_DUNG,
        effective_on: date(2025, 11, 20),
        dwelling: DWELLING_PHUC_XA,
        address: phuc_xa_2025(),
        new_head: DUNG,
        members: vec![
            member(EM, Relationship::Vo),
            member(GIANG, Relationship::ConDe),
        ],
        consents: vec![
            consent(ConsentRole::HouseholdHead, Some(AN)),
            consent(ConsentRole::DwellingOwner, Some(AN)),
        ],
        residence_file_number: Some(ResidenceFileNumber::parse("HN-00097-2025-000456").unwrap()),
        legal_basis: basis("Luật Cư trú 2020, Điều 25"),
        application: Some(APPLICATION),
    }
}

fn correction() -> EventCorrected {
    let wrong = own_home_registration(date(2015, 6, 1));
    let corrected_tags = Event::from(wrong).tags();
    EventCorrected::new(
        EVENT_CORRECTED,
        corrected_tags,
        reason("Nhập sai ngày bắt đầu thường trú từ sổ hộ khẩu"),
        basis("Luật Cư trú 2020, Điều 26"),
        own_home_registration(date(2015, 1, 6)).into(),
    )
    .unwrap()
}

/// The representative event of each type, as snapshotted.
fn representative(event_type: EventType) -> Event {
    match event_type {
        EventType::PersonRecorded => PersonRecorded {
            person: AN,
            pin: pin("001090012345"),
            name: name("Nguyễn Văn An"),
            birth_date: date(1990, 3, 15),
            sex: Sex::Male,
        }
        .into(),
        EventType::ApplicationReceived => ApplicationReceived {
            application: APPLICATION,
            received_on: date(2025, 8, 4),
            procedure: Procedure::PermanentRegistration,
            channel: IntakeChannel::Vneid,
            subjects: vec![BINH],
            applicant: Some(BINH),
            result_due_on: Some(date(2025, 8, 13)),
        }
        .into(),
        EventType::ApplicationCompletionRequested => ApplicationCompletionRequested {
            application: APPLICATION,
            requested_on: date(2025, 8, 5),
            missing: vec![
                reason("Văn bản đồng ý của chủ sở hữu chỗ ở"),
                reason("Giấy tờ chứng minh diện tích nhà ở"),
            ],
            complete_by: Some(date(2025, 8, 20)),
        }
        .into(),
        EventType::ApplicationRefused => ApplicationRefused {
            application: APPLICATION,
            refused_on: date(2025, 8, 12),
            reason: reason("Chỗ ở thuộc địa điểm không được đăng ký thường trú mới"),
            legal_basis: basis("Luật Cư trú 2020, Điều 23"),
        }
        .into(),
        EventType::PermanentResidenceRegistered => PermanentResidenceRegistered {
            person: BINH,
            effective_on: date(2025, 8, 12),
            basis: PermanentBasis::RentedBorrowedShared,
            address: ba_dinh(),
            dwelling: DWELLING_BA_DINH,
            membership: Membership {
                household: HOUSEHOLD_NGOC_HA,
                relationship: Relationship::OThue,
            },
            previous_household: Some(HOUSEHOLD_AN),
            previous_dwelling: Some(DWELLING_PHUC_XA),
            floor_area: Some(FloorArea::from_tenths(455).unwrap()),
            consents: vec![
                consent(ConsentRole::HouseholdHead, Some(DUNG)),
                consent(ConsentRole::DwellingOwner, None),
            ],
            legal_basis: basis("Luật Cư trú 2020, Điều 20.3"),
            application: Some(APPLICATION),
        }
        .into(),
        EventType::TemporaryResidenceRegistered => TemporaryResidenceRegistered {
            person: CHI,
            effective_on: date(2025, 9, 1),
            until: date(2027, 8, 31),
            address: ben_thanh(),
            dwelling: DWELLING_BEN_THANH,
            membership: Some(Membership {
                household: HOUSEHOLD_HCM,
                relationship: Relationship::ChuHo,
            }),
            consents: vec![consent(ConsentRole::DwellingOwner, None)],
            legal_basis: basis("Luật Cư trú 2020, Điều 27"),
            application: Some(APPLICATION),
        }
        .into(),
        EventType::TemporaryResidenceExtended => TemporaryResidenceExtended {
            person: CHI,
            dwelling: DWELLING_BEN_THANH,
            effective_on: date(2027, 8, 20),
            previous_until: date(2027, 8, 31),
            until: date(2029, 8, 31),
            consents: vec![consent(ConsentRole::DwellingOwner, None)],
            legal_basis: basis("Luật Cư trú 2020, Điều 28.3"),
            application: Some(APPLICATION),
        }
        .into(),
        EventType::PermanentResidenceDeleted => PermanentResidenceDeleted {
            person: AN,
            effective_on: date(2026, 3, 10),
            ground: PermanentDeletionGround::SettledAbroad,
            initiator: Initiator::Person,
            address: phuc_xa_2025(),
            dwelling: DWELLING_PHUC_XA,
            household: HOUSEHOLD_AN,
            legal_basis: basis("Luật Cư trú 2020, Điều 24.1.b"),
            application: Some(APPLICATION),
        }
        .into(),
        EventType::TemporaryResidenceDeleted => TemporaryResidenceDeleted {
            person: CHI,
            effective_on: date(2026, 5, 4),
            ground: TemporaryDeletionGround::LodgingEnded,
            initiator: Initiator::ExOfficio,
            address: ben_thanh(),
            dwelling: DWELLING_BEN_THANH,
            household: Some(HOUSEHOLD_HCM),
            legal_basis: basis("Luật Cư trú 2020, Điều 29.1.e"),
            application: None,
        }
        .into(),
        EventType::DwellingRestrictionRecorded => DwellingRestrictionRecorded {
            dwelling: DWELLING_DOI_CAN,
            effective_on: date(2026, 1, 15),
            kind: RestrictionKind::DemolitionDecision,
            address: address("2025:00004", "Số 2 ngõ 7 phố Đội Cấn"),
            decision: Some(decision("125/QĐ-UBND", date(2026, 1, 10))),
            legal_basis: basis("Luật Cư trú 2020, Điều 23.5"),
        }
        .into(),
        EventType::DwellingRestrictionLifted => DwellingRestrictionLifted {
            dwelling: DWELLING_DOI_CAN,
            effective_on: date(2026, 6, 1),
            kind: RestrictionKind::DemolitionDecision,
            decision: Some(decision("310/QĐ-UBND", date(2026, 5, 28))),
            legal_basis: basis("Luật Cư trú 2020, Điều 23.5"),
        }
        .into(),
        EventType::DeletionGroundDetected => DeletionGroundDetected {
            person: AN,
            effective_on: date(2026, 2, 1),
            ground: DeletionGround::Permanent(PermanentDeletionGround::LongAbsence),
            source: DetectionSource::Timer,
            legal_basis: basis("Luật Cư trú 2020, Điều 24.1.d"),
        }
        .into(),
        EventType::ResidenceRegistrationAnnulled => ResidenceRegistrationAnnulled {
            person: BINH,
            annuls: EVENT_ANNULLED,
            registration: RegistrationKind::Permanent,
            effective_on: date(2025, 10, 3),
            decision: decision("15/QĐ-CAP", date(2025, 10, 3)),
            decided_by: AnnulmentAuthority::RegisteringOffice,
            reason: reason("Hồ sơ dùng giấy tờ giả để chứng minh chỗ ở hợp pháp"),
            legal_basis: basis("Luật Cư trú 2020, Điều 35"),
        }
        .into(),
        EventType::HouseholdEstablished => HouseholdEstablished {
            household: HOUSEHOLD_NGOC_HA,
            effective_on: date(2025, 8, 12),
            kind: RegistrationKind::Permanent,
            address: ba_dinh(),
            dwelling: DWELLING_BA_DINH,
            residence_file_number: Some(
                ResidenceFileNumber::parse("HN-00004-2025-000123").unwrap(),
            ),
            legal_basis: basis("Luật Cư trú 2020, Điều 20.1"),
        }
        .into(),
        EventType::HouseholdSplit => household_split().into(),
        EventType::HouseholdHeadChanged => HouseholdHeadChanged {
            household: HOUSEHOLD_AN,
            effective_on: date(2026, 4, 2),
            previous_head: Some(AN),
            new_head: BINH,
            reason: HeadChangeReason::Handover,
            members: vec![
                member(AN, Relationship::Chong),
                member(CHI, Relationship::ConDe),
            ],
            court_decision: None,
            legal_basis: basis("Luật Cư trú 2020, Điều 26.1.a"),
            application: Some(APPLICATION),
        }
        .into(),
        EventType::MemberRelationshipChanged => MemberRelationshipChanged {
            household: HOUSEHOLD_AN,
            person: EM,
            effective_on: date(2025, 12, 1),
            previous_relationship: Relationship::ONho,
            relationship: Relationship::ConDau,
            legal_basis: basis("Luật Cư trú 2020, Điều 26.1"),
            application: Some(APPLICATION),
        }
        .into(),
        EventType::ResidentCivilStatusAdjusted => ResidentCivilStatusAdjusted {
            person: CHI,
            effective_on: date(2025, 12, 15),
            changes: CivilStatusChanges {
                name: Some(name("Nguyễn Thị Chi Mai")),
                birth_date: None,
                sex: None,
            },
            decision: decision("102/QĐ-UBND", date(2025, 12, 1)),
            authority: AuthorityName::parse("UBND phường Hồng Hà").unwrap(),
            legal_basis: basis("Luật Cư trú 2020, Điều 26.1.b"),
            application: Some(APPLICATION),
        }
        .into(),
        EventType::CurrentResidenceDeclared => CurrentResidenceDeclared {
            person: GIANG,
            effective_on: date(2025, 10, 20),
            address: address("2025:00004", "Số 9 phố Nguyễn Thái Học"),
            dwelling: None,
            legal_basis: basis("Luật Cư trú 2020, Điều 19"),
            application: Some(APPLICATION),
        }
        .into(),
        EventType::CurrentResidenceDeclarationRefused => CurrentResidenceDeclarationRefused {
            person: GIANG,
            effective_on: date(2025, 11, 18),
            address: address("2025:00004", "Số 9 phố Nguyễn Thái Học"),
            reason: reason("Không xác minh được nơi ở hiện tại"),
            legal_basis: basis("Nghị định 154/2024/NĐ-CP, Điều 4"),
            application: Some(APPLICATION),
        }
        .into(),
        EventType::CurrentAddressUpdated => CurrentAddressUpdated {
            person: DUNG,
            effective_on: date(2026, 2, 10),
            previous_address: Some(phuc_xa_2025()),
            address: address("2025:00097", "Số 20 phố Hồng Hà"),
            dwelling: Some(DWELLING_HONG_HA),
            legal_basis: basis("Luật Cư trú 2020, Điều 27.1"),
            application: None,
        }
        .into(),
        EventType::StayNotified => StayNotified {
            guest: Guest {
                person: None,
                name: name("Kim Min-jun"),
                document: IdentityDocument::Passport(number("M12345678")),
            },
            effective_on: date(2025, 12, 20),
            until: date(2025, 12, 27),
            host_address: ba_dinh(),
            dwelling: Some(DWELLING_BA_DINH),
            reason: reason("Du lịch"),
            notifier: NotifierKind::HostMember,
            legal_basis: basis("Luật Cư trú 2020, Điều 30"),
        }
        .into(),
        EventType::TemporaryAbsenceDeclared => TemporaryAbsenceDeclared {
            person: DUNG,
            effective_on: date(2026, 3, 1),
            until: date(2026, 8, 31),
            clause: AbsenceClause::MilitaryServiceAge,
            destination: PlaceText::parse("Thành phố Đà Nẵng").unwrap(),
            reason: reason("Học tập"),
            legal_basis: basis("Luật Cư trú 2020, Điều 31.1.c"),
            application: Some(APPLICATION),
        }
        .into(),
        EventType::ResidenceAddressRecoded => ResidenceAddressRecoded {
            dwelling: DWELLING_PHUC_XA,
            effective_on: date(2025, 7, 1),
            cause: RecodingCause::UnitReorganisation,
            old_address: phuc_xa_legacy(),
            new_address: phuc_xa_2025(),
            households: vec![HOUSEHOLD_AN],
            persons: vec![AN, BINH, CHI],
            legal_basis: basis("Luật Cư trú 2020, Điều 26.1.c; Công văn 1555/BCA-C06"),
        }
        .into(),
        EventType::AdministrativeUnitsReorganized => {
            AdministrativeUnitsReorganized::embedded().into()
        }
        EventType::LegacyHouseholdBookRevoked => LegacyHouseholdBookRevoked {
            household: HOUSEHOLD_AN,
            effective_on: date(2021, 9, 15),
            book: LegacyBook::HouseholdBook,
            book_number: number("010123456"),
            legal_basis: basis("Thông tư 55/2021/TT-BCA, Điều 26"),
        }
        .into(),
        EventType::ResidenceConfirmationIssued => ResidenceConfirmationIssued {
            certificate: CERTIFICATE,
            person: AN,
            issued_on: date(2025, 11, 3),
            valid_until: date(2026, 11, 2),
            purpose: Purpose::parse("Bổ sung hồ sơ vay vốn ngân hàng").unwrap(),
            ledger_size: 1_234_567,
            legal_basis: basis("Thông tư 55/2021/TT-BCA, Điều 17"),
            application: Some(APPLICATION),
        }
        .into(),
        EventType::PersonalIdNumberReassigned => PersonalIdNumberReassigned {
            person: AN,
            effective_on: date(2025, 10, 1),
            old: pin("001090012345"),
            new: pin("001190054321"),
            reason: PinReassignmentReason::SexRedetermined,
            legal_basis: basis("Luật Căn cước 2023, Điều 12"),
        }
        .into(),
        EventType::EventCorrected => correction().into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Guard 1: snapshots
// ---------------------------------------------------------------------------------------------

#[test]
fn every_type_has_a_representative_of_that_type() {
    for event_type in EventType::ALL {
        assert_eq!(representative(*event_type).event_type(), *event_type);
    }
}

#[test]
fn snapshot_of_every_event_type() {
    for event_type in EventType::ALL {
        let envelope = EventEnvelope::new(representative(*event_type));
        let pretty = serde_json::to_string_pretty(&envelope).unwrap();
        insta::assert_snapshot!(event_type.as_str(), pretty);
        let back: EventEnvelope = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back, envelope, "{event_type} envelope round trip");
    }
}

#[test]
fn payload_round_trips_through_encode_and_decode() {
    for event_type in EventType::ALL {
        let event = representative(*event_type);
        let payload = event.encode();
        let back = Event::decode(event_type.as_str(), event.schema_version(), &payload).unwrap();
        assert_eq!(back, event);
        assert_eq!(
            back.encode(),
            payload,
            "{event_type} encoding is deterministic"
        );
    }
}

#[test]
fn payloads_carry_no_type_tag() {
    let payload = representative(EventType::PersonRecorded).encode();
    assert!(payload.starts_with(br#"{"person":"0000000000000011","pin":"#));
}

// ---------------------------------------------------------------------------------------------
// Guard 2: frozen fixtures
// ---------------------------------------------------------------------------------------------

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/events")
}

/// One fixture file: its name, type, version and bytes.
struct Fixture {
    file: String,
    event_type: EventType,
    version: u16,
    bytes: Vec<u8>,
}

/// Every fixture file, by name. The name is `<EventType>.v<version>[.<label>].json`; any other
/// file in the directory fails the test.
fn fixtures() -> Vec<Fixture> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap().to_owned();
        let stem = file
            .strip_suffix(".json")
            .unwrap_or_else(|| panic!("{file}: fixtures are .json files"));
        let mut parts = stem.split('.');
        let event_type: EventType = parts.next().unwrap().parse().unwrap_or_else(|error| {
            panic!("{file}: {error}");
        });
        let version: u16 = parts
            .next()
            .and_then(|v| v.strip_prefix('v'))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                panic!("{file}: name must be <EventType>.v<version>[.<label>].json")
            });
        assert!(parts.count() <= 1, "{file}: at most one label");
        let bytes = std::fs::read(&path).unwrap();
        found.push(Fixture {
            file,
            event_type,
            version,
            bytes,
        });
    }
    found.sort_by(|a, b| a.file.cmp(&b.file));
    found
}

#[test]
fn every_fixture_decodes_and_current_ones_reencode_to_identical_bytes() {
    let fixtures = fixtures();
    assert!(!fixtures.is_empty());
    for fixture in &fixtures {
        let event = Event::decode(fixture.event_type.as_str(), fixture.version, &fixture.bytes)
            .unwrap_or_else(|error| panic!("{}: {error}", fixture.file));
        assert_eq!(event.event_type(), fixture.event_type, "{}", fixture.file);
        if fixture.version == fixture.event_type.current_version() {
            assert_eq!(
                String::from_utf8_lossy(&event.encode()),
                String::from_utf8_lossy(&fixture.bytes),
                "{}: re-encoding changed the bytes",
                fixture.file
            );
        }
    }
}

#[test]
fn fixture_hashes_are_pinned() {
    let actual: BTreeMap<String, String> = fixtures()
        .into_iter()
        .map(|fixture| {
            let hash = blake3::hash(&fixture.bytes).to_hex().to_string();
            (fixture.file, hash)
        })
        .collect();
    let pinned: BTreeMap<String, String> = FIXTURE_BLAKE3
        .iter()
        .map(|(file, hash)| ((*file).to_owned(), (*hash).to_owned()))
        .collect();
    assert_eq!(
        pinned.len(),
        FIXTURE_BLAKE3.len(),
        "a fixture is pinned twice"
    );
    if actual != pinned {
        let table: String = actual
            .iter()
            .map(|(file, hash)| format!("    (\"{file}\", \"{hash}\"),\n"))
            .collect();
        panic!(
            "fixture files differ from FIXTURE_BLAKE3; fixtures are frozen. The files now hash to:\n{table}"
        );
    }
}

#[test]
fn every_event_type_has_a_fixture_at_every_version() {
    let files: Vec<String> = fixtures().into_iter().map(|fixture| fixture.file).collect();
    for event_type in EventType::ALL {
        for version in 1..=event_type.current_version() {
            let file = format!("{event_type}.v{version}.json");
            assert!(files.contains(&file), "missing fixture {file}");
        }
    }
}

#[test]
fn the_reorganisation_fixture_names_the_embedded_conversion_table() {
    let bytes =
        std::fs::read(fixture_dir().join("AdministrativeUnitsReorganized.v1.json")).unwrap();
    let Event::AdministrativeUnitsReorganized(event) =
        Event::decode("AdministrativeUnitsReorganized", 1, &bytes).unwrap()
    else {
        panic!("the fixture decodes to another type");
    };
    assert_eq!(
        event.conversion_table_blake3.as_bytes(),
        &conversion_table_hash()
    );
    assert!(event.matches_embedded_table());
    assert_eq!(event, AdministrativeUnitsReorganized::embedded());
}

// ---------------------------------------------------------------------------------------------
// Guard 3: decode errors
// ---------------------------------------------------------------------------------------------

const PERSON_RECORDED: &str = r#"{"person":"0000000000000011","pin":"001090012345","name":"Nguyễn Văn An","birth_date":"1990-03-15","sex":"male"}"#;

fn decode_person(payload: &str) -> Result<Event, DecodeError> {
    Event::decode("PersonRecorded", 1, payload.as_bytes())
}

fn assert_malformed(result: Result<Event, DecodeError>, expected_type: EventType, case: &str) {
    match result {
        Err(DecodeError::Malformed {
            event_type,
            version,
            ..
        }) => {
            assert_eq!(event_type, expected_type, "{case}");
            assert_eq!(version, 1, "{case}");
        }
        other => panic!("{case}: expected a malformed payload, got {other:?}"),
    }
}

#[test]
fn the_reference_payload_decodes() {
    let event = decode_person(PERSON_RECORDED).unwrap();
    assert_eq!(event, representative(EventType::PersonRecorded));
    assert_eq!(event.encode(), PERSON_RECORDED.as_bytes());
}

#[test]
fn an_unknown_type_is_refused() {
    assert_eq!(
        Event::decode("PersonMoved", 1, PERSON_RECORDED.as_bytes()),
        Err(DecodeError::UnknownType {
            event_type: "PersonMoved".to_owned()
        })
    );
    assert!(matches!(
        Event::decode("person_recorded", 1, PERSON_RECORDED.as_bytes()),
        Err(DecodeError::UnknownType { .. })
    ));
}

#[test]
fn an_unsupported_version_is_refused() {
    for version in [0, 2, u16::MAX] {
        assert_eq!(
            Event::decode("PersonRecorded", version, PERSON_RECORDED.as_bytes()),
            Err(DecodeError::UnsupportedVersion {
                event_type: EventType::PersonRecorded,
                version
            })
        );
    }
}

#[test]
fn malformed_payloads_are_refused() {
    let cases = [
        ("empty", String::new()),
        ("not json", "person".to_owned()),
        ("an array", "[]".to_owned()),
        ("trailing bytes", format!("{PERSON_RECORDED} {{}}")),
        (
            "a missing field",
            PERSON_RECORDED.replace(r#","sex":"male""#, ""),
        ),
        (
            "an unknown field",
            PERSON_RECORDED.replace(r#""sex":"male""#, r#""sex":"male","note":"x""#),
        ),
        (
            "a type tag inside the payload",
            PERSON_RECORDED.replace('{', r#"{"type":"PersonRecorded","#),
        ),
        (
            "a duplicate field",
            PERSON_RECORDED.replace(r#""sex":"male""#, r#""sex":"male","sex":"female""#),
        ),
        (
            "a short PIN",
            PERSON_RECORDED.replace("001090012345", "00109001234"),
        ),
        (
            "a PIN with a letter",
            PERSON_RECORDED.replace("001090012345", "00109001234x"),
        ),
        (
            "a PIN as a number",
            PERSON_RECORDED.replace(r#""001090012345""#, "1090012345"),
        ),
        (
            "an uppercase id",
            PERSON_RECORDED.replace("0000000000000011", "00000000000000AA"),
        ),
        (
            "a date with a time",
            PERSON_RECORDED.replace("1990-03-15", "1990-03-15T00:00:00"),
        ),
        (
            "an impossible date",
            PERSON_RECORDED.replace("1990-03-15", "1990-02-30"),
        ),
        (
            "an empty name",
            PERSON_RECORDED.replace("Nguyễn Văn An", "  "),
        ),
        (
            "a name with a line break",
            PERSON_RECORDED.replace("Nguyễn Văn An", "Nguyễn\\nAn"),
        ),
        (
            "an unknown sex",
            PERSON_RECORDED.replace(r#""male""#, r#""MALE""#),
        ),
    ];
    for (case, payload) in cases {
        assert_malformed(decode_person(&payload), EventType::PersonRecorded, case);
    }
}

#[test]
fn invalid_unit_references_are_refused() {
    let payload =
        String::from_utf8(representative(EventType::HouseholdEstablished).encode()).unwrap();
    assert!(payload.contains(r#""unit":"2025:00004""#));
    for bad in [
        "2025:0004",
        "2024:00004",
        "00004",
        "legacy:0000a",
        "LEGACY:00004",
    ] {
        let broken = payload.replace("2025:00004", bad);
        assert_malformed(
            Event::decode("HouseholdEstablished", 1, broken.as_bytes()),
            EventType::HouseholdEstablished,
            bad,
        );
    }
}

#[test]
fn a_decomposed_name_decodes_to_the_composed_value() {
    let decomposed = PERSON_RECORDED.replace("Nguyễn Văn An", "Nguye\u{302}\u{303}n Va\u{306}n An");
    assert_ne!(decomposed, PERSON_RECORDED);
    let event = decode_person(&decomposed).unwrap();
    assert_eq!(event, decode_person(PERSON_RECORDED).unwrap());
    assert_eq!(event.encode(), PERSON_RECORDED.as_bytes());
}

#[test]
fn floor_areas_with_two_decimals_are_refused() {
    let payload =
        String::from_utf8(representative(EventType::PermanentResidenceRegistered).encode())
            .unwrap();
    assert!(payload.contains(r#""floor_area":45.5,"#));
    let decode = |area: &str| {
        let changed = payload.replace("45.5", area);
        Event::decode("PermanentResidenceRegistered", 1, changed.as_bytes())
    };
    assert!(decode("45").is_ok());
    for bad in ["45.55", "0", "-3", "\"45.5\""] {
        assert_malformed(decode(bad), EventType::PermanentResidenceRegistered, bad);
    }
}

#[test]
fn a_correction_must_not_replace_with_a_correction() {
    let nested = EventCorrected::new(
        EVENT_CORRECTED,
        vec![],
        reason("Sửa lại"),
        basis("Luật Cư trú 2020, Điều 26"),
        correction().into(),
    );
    assert_eq!(nested, Err(CorrectionError::NestedCorrection));

    // The same shape arriving as a stored payload is malformed.
    let inner = serde_json::to_string(&EventEnvelope::new(correction().into())).unwrap();
    let outer = format!(
        r#"{{"corrects":"{EVENT_CORRECTED}","corrected_tags":[],"reason":"Sửa lại","legal_basis":"Luật Cư trú 2020","replacement":{inner}}}"#
    );
    assert_malformed(
        Event::decode("EventCorrected", 1, outer.as_bytes()),
        EventType::EventCorrected,
        "nested correction",
    );
}

#[test]
fn envelopes_read_in_any_member_order_and_refuse_strangers() {
    let data = PERSON_RECORDED;
    let expected = EventEnvelope::new(representative(EventType::PersonRecorded));
    let ordered = format!(r#"{{"type":"PersonRecorded","version":1,"data":{data}}}"#);
    let reordered = format!(r#"{{"data":{data},"version":1,"type":"PersonRecorded"}}"#);
    for json in [&ordered, &reordered] {
        assert_eq!(
            serde_json::from_str::<EventEnvelope>(json).unwrap(),
            expected
        );
    }
    assert_eq!(serde_json::to_string(&expected).unwrap(), ordered);
    for bad in [
        r#"{"type":"PersonRecorded","version":1}"#.to_owned(),
        format!(r#"{{"type":"PersonRecorded","data":{data}}}"#),
        format!(r#"{{"version":1,"data":{data}}}"#),
        format!(r#"{{"type":"PersonRecorded","version":1,"data":{data},"extra":0}}"#),
        format!(r#"{{"type":"PersonRecorded","type":"PersonRecorded","version":1,"data":{data}}}"#),
        format!(r#"{{"type":"PersonRecorded","version":2,"data":{data}}}"#),
        format!(r#"{{"type":"Nobody","version":1,"data":{data}}}"#),
        format!(r#"{{"type":"PersonRecorded","version":-1,"data":{data}}}"#),
        format!(r#"{{"type":"StayNotified","version":1,"data":{data}}}"#),
    ] {
        assert!(
            serde_json::from_str::<EventEnvelope>(&bad).is_err(),
            "{bad}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Guard 4: tags and accessors
// ---------------------------------------------------------------------------------------------

fn unit_tag(unit: &str) -> Tag {
    Tag::Unit(unit.parse().unwrap())
}

#[test]
fn a_split_tags_every_moving_member_the_new_head_and_both_households() {
    let event: Event = household_split().into();
    assert_eq!(
        event.tags(),
        vec![
            Tag::Person(DUNG),
            Tag::Person(EM),
            Tag::Person(GIANG),
            Tag::Household(HOUSEHOLD_AN),
            Tag::Household(HOUSEHOLD_DUNG),
            Tag::Dwelling(DWELLING_PHUC_XA),
            unit_tag("2025:00097"),
            Tag::Application(APPLICATION),
        ]
    );
    assert_eq!(event.persons().collect::<Vec<_>>(), vec![DUNG, EM, GIANG]);
    assert_eq!(
        event.households().collect::<Vec<_>>(),
        vec![HOUSEHOLD_AN, HOUSEHOLD_DUNG]
    );
}

#[test]
fn a_registration_that_leaves_a_household_names_both_households() {
    let event = representative(EventType::PermanentResidenceRegistered);
    assert_eq!(
        event.tags(),
        vec![
            Tag::Person(BINH),
            Tag::Household(HOUSEHOLD_AN),
            Tag::Household(HOUSEHOLD_NGOC_HA),
            Tag::Dwelling(DWELLING_PHUC_XA),
            Tag::Dwelling(DWELLING_BA_DINH),
            unit_tag("2025:00004"),
            Tag::Application(APPLICATION),
        ]
    );
    // Consenting people are not tagged: their residence does not change.
    assert!(!event.persons().any(|person| person == DUNG));
}

#[test]
fn the_dwelling_left_is_optional_on_the_wire_and_tagged_when_present() {
    let decode = |file: &str| {
        let bytes = std::fs::read(fixture_dir().join(file)).unwrap();
        match Event::decode("PermanentResidenceRegistered", 1, &bytes).unwrap() {
            Event::PermanentResidenceRegistered(registration) => registration,
            other => panic!("{file} decodes to {other:?}"),
        }
    };
    // Recorded before the field existed: no dwelling left, and only the new one is tagged.
    let before = decode("PermanentResidenceRegistered.v1.json");
    assert_eq!(before.previous_dwelling, None);
    assert!(
        !Event::from(before)
            .tags()
            .contains(&Tag::Dwelling(DWELLING_PHUC_XA))
    );
    let with = decode("PermanentResidenceRegistered.v1.previous-dwelling.json");
    assert_eq!(with.previous_dwelling, Some(DWELLING_PHUC_XA));
    let event = Event::from(with);
    assert_eq!(
        event,
        representative(EventType::PermanentResidenceRegistered)
    );
    assert!(event.tags().contains(&Tag::Dwelling(DWELLING_PHUC_XA)));
}

#[test]
fn a_pin_reassignment_names_both_pins() {
    let event = representative(EventType::PersonalIdNumberReassigned);
    assert_eq!(
        event.tags(),
        vec![
            Tag::Person(AN),
            Tag::Pin(pin("001090012345")),
            Tag::Pin(pin("001190054321")),
        ]
    );
    let recorded = representative(EventType::PersonRecorded);
    assert_eq!(
        recorded.tags(),
        vec![Tag::Person(AN), Tag::Pin(pin("001090012345"))]
    );
}

#[test]
fn the_reorganisation_is_a_mass_change_and_nothing_else() {
    let event = representative(EventType::AdministrativeUnitsReorganized);
    assert_eq!(event.tags(), vec![Tag::MassChange]);
    assert_eq!(event.effective_on(), Some(date(2025, 7, 1)));
    assert_eq!(
        event.legal_basis().map(LegalBasis::as_str),
        Some("Nghị quyết 202/2025/QH15")
    );
}

#[test]
fn a_recoding_names_the_old_and_new_units_and_everyone_at_the_dwelling() {
    let event = representative(EventType::ResidenceAddressRecoded);
    assert_eq!(
        event.tags(),
        vec![
            Tag::Person(AN),
            Tag::Person(BINH),
            Tag::Person(CHI),
            Tag::Household(HOUSEHOLD_AN),
            Tag::Dwelling(DWELLING_PHUC_XA),
            unit_tag("legacy:00001"),
            unit_tag("2025:00097"),
        ]
    );
}

#[test]
fn a_head_change_tags_every_member_once() {
    let handover = representative(EventType::HouseholdHeadChanged);
    // The previous head is also listed as a member; the tag appears once.
    assert_eq!(handover.persons().collect::<Vec<_>>(), vec![AN, BINH, CHI]);
    let vacant: Event = head_vacant_head_change().into();
    assert_eq!(
        vacant.tags(),
        vec![
            Tag::Person(BINH),
            Tag::Person(CHI),
            Tag::Household(HOUSEHOLD_AN)
        ]
    );
}

#[test]
fn a_correction_sits_in_the_chains_of_the_corrected_event_and_its_replacement() {
    let wrong_person = PermanentResidenceRegistered {
        person: EM,
        ..own_home_registration(date(2015, 6, 1))
    };
    let corrected = EventCorrected::new(
        EVENT_CORRECTED,
        Event::from(wrong_person).tags(),
        reason("Ghi nhầm người"),
        basis("Luật Cư trú 2020, Điều 26"),
        own_home_registration(date(2015, 6, 1)).into(),
    )
    .unwrap();
    let event: Event = corrected.into();
    assert_eq!(event.persons().collect::<Vec<_>>(), vec![AN, EM]);
    assert_eq!(event.target_event(), Some(EVENT_CORRECTED));
    assert_eq!(event.effective_on(), Some(date(2015, 6, 1)));
}

#[test]
fn accessors_give_valid_time_and_targets() {
    assert_eq!(
        representative(EventType::PersonRecorded).effective_on(),
        None
    );
    assert_eq!(
        representative(EventType::TemporaryResidenceRegistered).effective_on(),
        Some(date(2025, 9, 1))
    );
    assert_eq!(
        representative(EventType::ResidenceConfirmationIssued).effective_on(),
        Some(date(2025, 11, 3))
    );
    assert_eq!(
        representative(EventType::ResidenceRegistrationAnnulled).target_event(),
        Some(EVENT_ANNULLED)
    );
    assert_eq!(
        representative(EventType::PermanentResidenceDeleted).target_event(),
        None
    );
}

#[test]
fn tags_are_sorted_and_unique_for_every_type() {
    for event_type in EventType::ALL {
        let tags = representative(*event_type).tags();
        assert!(!tags.is_empty(), "{event_type} has no tags");
        assert!(
            tags.windows(2).all(|pair| pair[0] < pair[1]),
            "{event_type}: {tags:?}"
        );
    }
}

#[test]
fn nested_objects_refuse_unknown_members_too() {
    let cases = [
        (
            EventType::DeletionGroundDetected,
            r#""ground":"d"}"#,
            r#""ground":"d","x":1}"#,
        ),
        (
            EventType::DeletionGroundDetected,
            r#""registration":"PERMANENT""#,
            r#""registration":"OTHER""#,
        ),
        (
            EventType::StayNotified,
            r#""number":"M12345678"}"#,
            r#""number":"M12345678","x":1}"#,
        ),
        (
            EventType::HouseholdSplit,
            r#""relationship":"VO"}"#,
            r#""relationship":"VO","x":1}"#,
        ),
        (
            EventType::HouseholdSplit,
            r#""role":"DWELLING_OWNER","#,
            r#""role":"DWELLING_OWNER","x":1,"#,
        ),
    ];
    for (event_type, from, to) in cases {
        let original = String::from_utf8(representative(event_type).encode()).unwrap();
        assert!(original.contains(from), "{from} not in {original}");
        let payload = original.replace(from, to);
        assert_malformed(
            Event::decode(event_type.as_str(), 1, payload.as_bytes()),
            event_type,
            &payload,
        );
    }
}
