//! The law of place (`residence_domain::jurisdiction`): where each act takes place, so which
//! offices are competent for it, computed before any decision from the command and the state of
//! its boundary.
//!
//! Each test is named after the rule and cites, in its documentation, what makes the office
//! competent. The fixture world: Phúc Xá (legacy 00001 → 2025 00097 Hồng Hà) and Trúc Bạch
//! (legacy 00004 → 2025 00004 Ba Đình) in Hà Nội (province 01); Tân Định (legacy 26734 → 2025
//! 26737) in Hồ Chí Minh City (province 79). `given(events).place(command)` also checks that the
//! boundary's state and the full state give the same place.

use residence_domain::address::PersonName;
use residence_domain::command::*;
use residence_domain::event::*;
use residence_domain::grounds::{PermanentDeletionGround, TemporaryDeletionGround};
use residence_domain::ids::CertificateId;
use residence_domain::jurisdiction::{
    Jurisdiction, JurisdictionError, OutsideJurisdiction, Place, competent,
};
use residence_domain::pin::Pin;
use residence_domain::rejection::Rejection;
use residence_domain::relationship::Relationship;
use residence_domain::units::{ProvinceCode, Scheme, UnitRef, registry};
use unicode_normalization::UnicodeNormalization;

use crate::harness::*;

// --- Offices -------------------------------------------------------------------------------------

/// A jurisdiction from its entries.
fn office(entries: &[&str]) -> Jurisdiction {
    Jurisdiction::parse(entries.iter().copied()).unwrap()
}

/// The office of Phúc Xá, as configured before the reorganisation.
fn phuc_xa_office() -> Jurisdiction {
    office(&["legacy:00001"])
}

/// The office of Trúc Bạch, as configured before the reorganisation.
fn truc_bach_office() -> Jurisdiction {
    office(&["legacy:00004"])
}

/// The office of Tân Định, as configured before the reorganisation.
fn tan_dinh_office() -> Jurisdiction {
    office(&["legacy:26734"])
}

/// Every province of the 2025 map.
fn nationwide_office() -> Jurisdiction {
    let entries: Vec<String> = registry()
        .provinces(Scheme::Y2025)
        .map(|(province, _)| format!("province:{province}"))
        .collect();
    Jurisdiction::parse(entries.iter().map(String::as_str)).unwrap()
}

fn province(code: u8) -> ProvinceCode {
    ProvinceCode::new(code).unwrap()
}

fn all(units: &[UnitRef]) -> Place {
    Place::All(units.to_vec())
}

fn outside(unit: UnitRef) -> OutsideJurisdiction {
    OutsideJurisdiction::Unit { unit }
}

/// The office is refused an act at `place`; the refusal has the stable code and well-formed
/// messages in both languages.
#[track_caller]
fn refused(jurisdiction: &Jurisdiction, place: &Place) -> OutsideJurisdiction {
    let refusal = match competent(jurisdiction, place) {
        Ok(()) => panic!("expected {jurisdiction:?} to be refused {place:?}"),
        Err(refusal) => refusal,
    };
    assert_eq!(refusal.code(), "outside_jurisdiction");
    check_message(&refusal.message_en());
    let vietnamese = refusal.message_vi();
    check_message(&vietnamese);
    assert_eq!(
        vietnamese.nfc().collect::<String>(),
        vietnamese,
        "Vietnamese messages are NFC"
    );
    refusal
}

// --- Histories -----------------------------------------------------------------------------------

/// The family, and Em with his own home at Trúc Bạch (household 5, from 2023-03-01) and a
/// temporary registration at Tân Định (2024-01-01 to 2024-12-31).
fn em_in_two_places() -> Vec<Event> {
    let mut events = family();
    extend_history(
        &mut events,
        [
            own_home(EM, 5, home2(), "2023-03-01").into(),
            temporary(EM, home3(), "2024-01-01", "2024-12-31").into(),
        ],
    );
    events
}

/// Home 1 (Phúc Xá) recoded to 2025 00097 Hồng Hà on 2025-07-01.
fn recode_home1_to_hong_ha() -> RecodeAddress {
    RecodeAddress {
        dwelling: home1().0,
        effective_on: d("2025-07-01"),
        cause: RecodingCause::UnitReorganisation,
        new_address: address(y2025(97), "Số 1 phố Phúc Xá"),
        legal_basis: None,
    }
}

fn delete_temporary_em(dwelling: residence_domain::ids::DwellingId) -> DeleteTemporary {
    DeleteTemporary {
        person: person(EM),
        dwelling,
        household: None,
        effective_on: d("2024-06-01"),
        ground: TemporaryDeletionGround::LodgingEnded,
        requester: Requester::PersonConcerned,
        head_succession: None,
        legal_basis: None,
        application: None,
    }
}

fn absence(n: u64) -> DeclareTemporaryAbsence {
    DeclareTemporaryAbsence {
        person: person(n),
        effective_on: d("2024-02-01"),
        until: d("2024-05-31"),
        clause: AbsenceClause::MilitaryServiceAge,
        destination: PlaceText::parse("Nhật Bản").unwrap(),
        reason: reason("đi làm việc"),
        legal_basis: None,
        application: None,
    }
}

fn ground(n: u64, ground: DeletionGround) -> RecordDeletionGround {
    RecordDeletionGround {
        person: person(n),
        effective_on: d("2024-06-01"),
        ground,
        source: DetectionSource::Report,
        legal_basis: None,
    }
}

fn adjust(n: u64) -> AdjustCivilStatus {
    AdjustCivilStatus {
        person: person(n),
        effective_on: d("2026-02-10"),
        changes: CivilStatusChanges {
            name: Some(PersonName::parse("Nguyễn Văn Ân").unwrap()),
            ..CivilStatusChanges::default()
        },
        decision: decision_ref("12/QĐ-UBND", "2026-02-01"),
        authority: AuthorityName::parse("UBND phường Phúc Xá").unwrap(),
        legal_basis: None,
        application: None,
    }
}

fn declare(
    n: u64,
    home: (
        residence_domain::ids::DwellingId,
        residence_domain::address::Address,
    ),
) -> DeclareCurrentResidence {
    DeclareCurrentResidence {
        person: person(n),
        effective_on: d("2024-05-01"),
        address: home.1,
        dwelling: None,
        legal_basis: None,
        application: None,
    }
}

/// Bình's registration in `family()` (event 7).
fn binh_registration() -> PermanentResidenceRegistered {
    match &family()[7] {
        Event::PermanentResidenceRegistered(registration) => registration.clone(),
        other => panic!("event 7 is {other:?}"),
    }
}

// --- Bound to no place ---------------------------------------------------------------------------

/// Recording a person and re-establishing a PIN are facts of the national population database
/// (Luật Căn cước 2023 Art 9, Art 12); the intake slips CT04, CT05 and CT06 answer what an
/// office received; a CT07 is issued by any registration office nationwide (TT 55/2021 Art 17
/// as amended by TT 66/2023). None is bound to a commune.
#[test]
fn population_facts_intake_slips_and_ct07_are_bound_to_no_place() {
    let given = given(family());
    let commands: Vec<Command> = vec![
        fixture_person(EM).into(),
        ReassignPin {
            person: person(AN),
            effective_on: d("2026-01-05"),
            old: fixture_person(AN).pin,
            new: "001080099999".parse::<Pin>().unwrap(),
            reason: PinReassignmentReason::DataEntryError,
            legal_basis: None,
        }
        .into(),
        ReceiveApplication {
            application: application(1),
            received_on: d("2026-08-01"),
            procedure: Procedure::TemporaryRegistration,
            channel: IntakeChannel::Vneid,
            subjects: vec![person(EM)],
            applicant: None,
            result_due_on: Some(d("2026-08-10")),
        }
        .into(),
        RequestCompletion {
            application: application(1),
            requested_on: d("2026-08-02"),
            missing: vec![reason("thiếu giấy tờ chứng minh chỗ ở")],
            complete_by: None,
        }
        .into(),
        RefuseApplication {
            application: application(1),
            refused_on: d("2026-08-03"),
            reason: reason("không đủ điều kiện"),
            legal_basis: basis("Luật Cư trú 2020, Điều 28"),
        }
        .into(),
        IssueResidenceConfirmation {
            certificate: CertificateId::new(0x400),
            person: person(BINH),
            issued_on: d("2026-08-20"),
            purpose: Purpose::parse("nộp tòa án").unwrap(),
            ledger_size: 9,
            legal_basis: None,
            application: None,
        }
        .into(),
    ];
    for command in commands {
        let name = command.name();
        let place = given.place(command);
        assert_eq!(place, Place::Unbound, "{name}");
        assert_eq!(competent(&tan_dinh_office(), &place), Ok(()), "{name}");
    }
}

// --- Nationwide ----------------------------------------------------------------------------------

/// The 2025 reorganisation converts every address of the country (NQ 202/2025/QH15, QĐ
/// 19/2025/QĐ-TTg): only a jurisdiction over every province covers it, and a refusal names the
/// first province missing.
#[test]
fn the_reorganisation_is_nationwide_and_only_every_province_covers_it() {
    let place = given([]).place(ApplyReorganisation {});
    assert_eq!(place, Place::Nationwide);
    assert_eq!(competent(&nationwide_office(), &place), Ok(()));
    assert_eq!(
        refused(&office(&["province:01"]), &place),
        OutsideJurisdiction::Province {
            province: province(4)
        }
    );
    assert_eq!(
        refused(&phuc_xa_office(), &place),
        OutsideJurisdiction::Province {
            province: province(1)
        }
    );
}

// --- Bound to the address the command names ------------------------------------------------------

/// A permanent registration is filed with the office of the place of residence (Luật Cư trú
/// Art 22), so a move is registered by the destination commune. Only the command's own target
/// counts: closing the registration at Phúc Xá is a consequence, and the office of Trúc Bạch
/// is entitled to it without holding Phúc Xá.
#[test]
fn a_move_is_registered_by_the_destination_commune_alone() {
    let mut command = own_home(BINH, 2, home2(), "2024-03-01");
    command.leaving_household = Some(household(1));
    given(family()).when(command.clone()).accepted();
    let place = given(family()).place(command.clone());
    assert_eq!(place, all(&[truc_bach()]));
    assert_eq!(competent(&truc_bach_office(), &place), Ok(()));
    assert_eq!(refused(&phuc_xa_office(), &place), outside(truc_bach()));
    // The command names the destination itself, so a refusal may repeat it.
    assert_eq!(
        refused(&phuc_xa_office(), &place).as_told_to(&command.into()),
        outside(truc_bach())
    );
}

/// A temporary registration is registered where the person stays (Art 28).
#[test]
fn a_temporary_registration_is_at_the_commune_of_its_address() {
    let place = given(family()).place(temporary(EM, home3(), "2024-01-01", "2024-12-31"));
    assert_eq!(place, all(&[tan_dinh()]));
    assert_eq!(competent(&tan_dinh_office(), &place), Ok(()));
    assert_eq!(refused(&phuc_xa_office(), &place), outside(tan_dinh()));
}

/// A residence declaration is made to, and refused by, the police of the place where the person
/// lives (Art 19; NĐ 154/2024 Art 4).
#[test]
fn a_residence_declaration_and_its_refusal_are_at_the_declared_address() {
    let given = given(family());
    assert_eq!(given.place(declare(EM, home3())), all(&[tan_dinh()]));
    let refusal = RefuseResidenceDeclaration {
        person: person(EM),
        effective_on: d("2024-05-01"),
        address: home3().1,
        reason: reason("không xác minh được nơi ở"),
        legal_basis: None,
        application: None,
    };
    assert_eq!(given.place(refusal), all(&[tan_dinh()]));
}

/// A move inside the commune is recorded by the office holding the person's registration (DOMAIN.md
/// I3: Art 27.1), whatever address the command gives: An is registered at Phúc Xá, so an
/// office of Tân Định that names an address in Tân Định is refused, and told nothing of
/// where An is registered.
#[test]
fn an_address_update_is_at_the_commune_of_the_registration_not_of_the_address_given() {
    let update = UpdateCurrentAddress {
        person: person(AN),
        effective_on: d("2024-05-01"),
        address: home3().1,
        dwelling: Some(home3().0),
        legal_basis: None,
        application: None,
    };
    let place = given(family()).place(update.clone());
    assert_eq!(place, Place::Any(vec![phuc_xa()]));
    assert_eq!(competent(&phuc_xa_office(), &place), Ok(()));
    let refusal = refused(&tan_dinh_office(), &place);
    assert_eq!(refusal, outside(phuc_xa()));
    assert_eq!(
        refusal.as_told_to(&update.into()),
        OutsideJurisdiction::Elsewhere
    );
}

/// An Art 23 restriction is recorded by the office of the commune where the dwelling is.
#[test]
fn a_restriction_is_recorded_at_the_dwellings_address() {
    let restriction = RecordDwellingRestriction {
        dwelling: home3().0,
        effective_on: d("2024-02-01"),
        kind: RestrictionKind::DemolitionDecision,
        address: home3().1,
        decision: None,
        legal_basis: None,
    };
    assert_eq!(given(family()).place(restriction), all(&[tan_dinh()]));
}

/// A stay is notified to the police of the place of stay (Art 30), not of the guest's
/// residence.
#[test]
fn a_stay_is_notified_at_the_hosts_address() {
    let stay = NotifyStay {
        guest: Guest {
            person: Some(person(EM)),
            name: PersonName::parse("Phạm Văn Em").unwrap(),
            document: IdentityDocument::Pin(fixture_person(EM).pin),
        },
        effective_on: d("2024-05-01"),
        until: d("2024-05-10"),
        host_address: home1().1,
        dwelling: Some(home1().0),
        reason: reason("thăm người thân"),
        notifier: NotifierKind::HostMember,
        legal_basis: None,
    };
    assert_eq!(given(em_in_two_places()).place(stay), all(&[phuc_xa()]));
}

// --- Acts on an existing registration ------------------------------------------------------------

/// A permanent registration is deleted by the office holding it (Art 24; NĐ 154/2024 Art 9 as
/// amended by NĐ 58/2026).
#[test]
fn a_permanent_deletion_is_at_the_registration_deleted() {
    let command = delete_permanent(
        BINH,
        1,
        PermanentDeletionGround::SettledAbroad,
        Requester::PersonConcerned,
        "2024-06-01",
    );
    given(family()).when(command.clone()).accepted();
    let place = given(family()).place(command);
    assert_eq!(place, all(&[phuc_xa()]));
    assert_eq!(competent(&phuc_xa_office(), &place), Ok(()));
    assert_eq!(refused(&truc_bach_office(), &place), outside(phuc_xa()));
}

/// Say no before you say why: a deletion naming the wrong household, which `decide` refuses
/// with a 422 naming the household the person is really in, is still at the unit of the
/// person's real registration (Art 24), so the office of another commune is refused before
/// anything of the decision exists. The office of Tân Định holds household 5, which the
/// command names, and is refused all the same.
#[test]
fn a_permanent_deletion_naming_the_wrong_household_is_at_the_persons_real_registration() {
    let mut events = family();
    extend_history(&mut events, [own_home(EM, 5, home3(), "2023-03-01").into()]);
    let command = delete_permanent(
        BINH,
        5,
        PermanentDeletionGround::SettledAbroad,
        Requester::PersonConcerned,
        "2024-06-01",
    );
    let rejection = given(events.clone())
        .when(command.clone())
        .then_reject("household_mismatch");
    assert_eq!(
        rejection,
        Rejection::HouseholdMismatch {
            person: person(BINH),
            recorded: Some(household(1)),
            given: Some(household(5)),
        }
    );
    let place = given(events).place(command.clone());
    assert_eq!(place, all(&[phuc_xa()]));
    assert_eq!(refused(&tan_dinh_office(), &place), outside(phuc_xa()));
    assert_eq!(competent(&phuc_xa_office(), &place), Ok(()));
    // The office outside is not told where Bình is registered: the command names no unit.
    assert_eq!(
        refused(&tan_dinh_office(), &place).as_told_to(&command.clone().into()),
        OutsideJurisdiction::Elsewhere
    );
}

/// A deletion is bound to the registration it deletes; Em has no permanent registration, so
/// the register shows no place for it and every office is refused, even a nationwide one (the
/// check fails closed).
#[test]
fn deleting_a_permanent_registration_the_person_does_not_have_is_undetermined_and_refused() {
    let command = delete_permanent(
        EM,
        1,
        PermanentDeletionGround::SettledAbroad,
        Requester::PersonConcerned,
        "2024-06-01",
    );
    given(family())
        .when(command.clone())
        .then_reject("no_active_permanent_registration");
    let place = given(family()).place(command.clone());
    assert_eq!(place, Place::Undetermined);
    assert_eq!(
        refused(&phuc_xa_office(), &place),
        OutsideJurisdiction::Undetermined
    );
    assert_eq!(
        refused(&nationwide_office(), &place),
        OutsideJurisdiction::Undetermined
    );
    // The caller is told the same as for another commune's registration: one answer whether
    // the register shows the person elsewhere or not at all.
    assert_eq!(
        refused(&phuc_xa_office(), &place).as_told_to(&command.clone().into()),
        OutsideJurisdiction::Elsewhere
    );
    assert_eq!(
        outside(tan_dinh()).as_told_to(&command.into()),
        OutsideJurisdiction::Elsewhere
    );
}

/// A registration is shown with its dwelling's recodings (Art 26.1(c); Công văn 1555/BCA-C06):
/// after Phúc Xá was recoded to Hồng Hà, a deletion is at 2025 00097, and the office configured
/// as legacy Phúc Xá keeps it (its jurisdiction does not change on 2025-07-01).
#[test]
fn after_the_2025_recoding_the_legacy_wards_office_keeps_its_registrations() {
    let mut events = family();
    extend_history(&mut events, [recode_home1_to_hong_ha().into()]);
    let place = given(events).place(delete_permanent(
        BINH,
        1,
        PermanentDeletionGround::SettledAbroad,
        Requester::PersonConcerned,
        "2026-01-05",
    ));
    assert_eq!(place, all(&[y2025(97)]));
    assert_eq!(competent(&phuc_xa_office(), &place), Ok(()));
    assert_eq!(competent(&office(&["2025:00097"]), &place), Ok(()));
    assert_eq!(refused(&truc_bach_office(), &place), outside(y2025(97)));
}

/// The other way round: the office of a 2025 commune covers the legacy wards it took in, so
/// Hồng Hà's office deletes a registration still shown at legacy Phúc Xá.
#[test]
fn a_2025_communes_office_covers_the_legacy_wards_it_took_in() {
    let place = given(family()).place(delete_permanent(
        BINH,
        1,
        PermanentDeletionGround::SettledAbroad,
        Requester::PersonConcerned,
        "2024-06-01",
    ));
    assert_eq!(place, all(&[phuc_xa()]));
    assert_eq!(competent(&office(&["00097"]), &place), Ok(()));
    assert_eq!(refused(&office(&["00004"]), &place), outside(phuc_xa()));
}

/// A temporary registration is deleted by the office holding it (Art 29): the one at the
/// dwelling the command names, not the person's permanent one. A dwelling where the person has
/// no temporary registration shows no place.
#[test]
fn a_temporary_deletion_is_at_the_registration_at_the_named_dwelling() {
    let given = given(em_in_two_places());
    let place = given.place(delete_temporary_em(home3().0));
    assert_eq!(place, all(&[tan_dinh()]));
    assert_eq!(competent(&tan_dinh_office(), &place), Ok(()));
    assert_eq!(refused(&truc_bach_office(), &place), outside(tan_dinh()));
    assert_eq!(
        given.place(delete_temporary_em(home1().0)),
        Place::Undetermined
    );
}

/// A split is registered by the office holding the household (Art 25).
#[test]
fn a_split_is_at_the_households_unit() {
    let split = SplitHousehold {
        household: household(1),
        new_household: household(2),
        dwelling: home1().0,
        effective_on: d("2024-06-01"),
        new_head: person(BINH),
        members: vec![member(CUONG, Relationship::ConDe)],
        consent: SplitConsent::Consented,
        consents: vec![
            consent(ConsentRole::HouseholdHead, Some(AN)),
            consent(ConsentRole::DwellingOwner, Some(AN)),
        ],
        old_household_succession: None,
        residence_file_number: None,
        legal_basis: None,
        application: None,
    };
    let place = given(family()).place(split);
    assert_eq!(place, all(&[phuc_xa()]));
    assert_eq!(refused(&tan_dinh_office(), &place), outside(phuc_xa()));
}

/// An annulment is decided by the registering office, or by the head of its direct superior in
/// complex cases (Art 35): at the registration annulled. A supervisor over the province covers
/// it, a supervisor over another province does not; an event the register does not show gives
/// no place.
#[test]
fn an_annulment_is_at_the_registration_annulled() {
    let annul = AnnulRegistration {
        person: person(BINH),
        annuls: event_id(7),
        registration: RegistrationKind::Permanent,
        effective_on: d("2024-04-01"),
        decision: decision_ref("21/QĐ-CAP", "2024-04-01"),
        decided_by: AnnulmentAuthority::DirectSuperior,
        reason: reason("hồ sơ giả mạo giấy tờ chỗ ở"),
        legal_basis: None,
    };
    let given = given(family());
    let place = given.place(annul.clone());
    assert_eq!(place, all(&[phuc_xa()]));
    assert_eq!(competent(&phuc_xa_office(), &place), Ok(()));
    assert_eq!(competent(&office(&["province:01"]), &place), Ok(()));
    assert_eq!(
        refused(&office(&["province:79"]), &place),
        outside(phuc_xa())
    );
    let unknown = AnnulRegistration {
        annuls: event_id(99),
        ..annul
    };
    assert_eq!(given.place(unknown), Place::Undetermined);
}

/// An extension is granted like a temporary registration (Art 28.3), by the office holding the
/// registration extended.
#[test]
fn an_extension_is_at_the_registration_extended() {
    let extend = ExtendTemporary {
        person: person(EM),
        dwelling: home3().0,
        effective_on: d("2024-12-16"),
        until: d("2025-06-30"),
        consents: vec![consent(ConsentRole::DwellingOwner, None)],
        legal_basis: None,
        application: None,
    };
    let place = given(em_in_two_places()).place(extend);
    assert_eq!(place, all(&[tan_dinh()]));
    assert_eq!(refused(&truc_bach_office(), &place), outside(tan_dinh()));
}

/// A change of head is an adjustment (Art 26.1(a)) registered by the office holding the
/// household.
#[test]
fn a_change_of_head_is_at_the_households_unit() {
    let change = ChangeHead {
        household: household(1),
        effective_on: d("2024-06-01"),
        new_head: person(BINH),
        members: vec![
            member(AN, Relationship::Chong),
            member(CUONG, Relationship::ConDe),
        ],
        court_decision: None,
        legal_basis: None,
        application: None,
    };
    let place = given(family()).place(change);
    assert_eq!(place, all(&[phuc_xa()]));
    assert_eq!(refused(&tan_dinh_office(), &place), outside(phuc_xa()));
}

/// A change of a member's relationship is an adjustment (Art 26) registered by the office
/// holding the household.
#[test]
fn a_change_of_relationship_is_at_the_households_unit() {
    let change = ChangeMemberRelationship {
        household: household(1),
        person: person(CUONG),
        effective_on: d("2024-06-01"),
        relationship: Relationship::ConNuoi,
        legal_basis: None,
        application: None,
    };
    assert_eq!(given(family()).place(change), all(&[phuc_xa()]));
}

/// A legacy book is revoked by the office holding the household's registration (TT 55/2021).
#[test]
fn a_legacy_book_is_revoked_at_the_households_unit() {
    let revoke = RevokeLegacyBook {
        household: household(1),
        effective_on: d("2023-02-01"),
        book: LegacyBook::HouseholdBook,
        book_number: DocumentNumber::parse("HK-0012345").unwrap(),
        legal_basis: None,
    };
    assert_eq!(given(family()).place(revoke), all(&[phuc_xa()]));
}

/// An Art 23 restriction is lifted by the office of the commune where the dwelling is, as the
/// register shows the dwelling on the date.
#[test]
fn a_restriction_is_lifted_at_the_dwellings_unit() {
    let mut events = family();
    extend_history(
        &mut events,
        [RecordDwellingRestriction {
            dwelling: home1().0,
            effective_on: d("2024-02-01"),
            kind: RestrictionKind::DemolitionDecision,
            address: home1().1,
            decision: None,
            legal_basis: None,
        }
        .into()],
    );
    let lift = LiftDwellingRestriction {
        dwelling: home1().0,
        effective_on: d("2024-05-01"),
        kind: RestrictionKind::DemolitionDecision,
        decision: None,
        legal_basis: None,
    };
    assert_eq!(given(events).place(lift), all(&[phuc_xa()]));
}

/// A recoding is an ex-officio update by the commune police (Art 26.1(c); Công văn
/// 1555/BCA-C06): at the dwelling's unit on the date and at the new one (once when a street is
/// renamed in the same commune). A dwelling the register does not know gives no place.
#[test]
fn a_recoding_is_at_the_old_and_the_new_unit() {
    let given = given(family());
    let place = given.place(recode_home1_to_hong_ha());
    assert_eq!(place, all(&[phuc_xa(), y2025(97)]));
    assert_eq!(competent(&phuc_xa_office(), &place), Ok(()));
    assert_eq!(competent(&office(&["2025:00097"]), &place), Ok(()));
    assert_eq!(refused(&truc_bach_office(), &place), outside(phuc_xa()));
    let renamed = RecodeAddress {
        effective_on: d("2024-07-01"),
        cause: RecodingCause::StreetRenamed,
        new_address: address(phuc_xa(), "Số 1 phố Hồng Hà"),
        ..recode_home1_to_hong_ha()
    };
    assert_eq!(given.place(renamed), all(&[phuc_xa()]));
    let unknown = RecodeAddress {
        dwelling: dwelling(8),
        ..recode_home1_to_hong_ha()
    };
    assert_eq!(given.place(unknown), Place::Undetermined);
}

// --- Acts about a person, at any place where the person resides ----------------------------------

/// A temporary absence is declared to the office where the person resides (Art 31): either of
/// Em's registrations will do, and a refusal names the first. A person with no registration
/// shows no place.
#[test]
fn a_temporary_absence_is_declared_where_the_person_resides() {
    let given = given(em_in_two_places());
    let place = given.place(absence(EM));
    assert_eq!(place, Place::Any(vec![truc_bach(), tan_dinh()]));
    assert_eq!(competent(&truc_bach_office(), &place), Ok(()));
    assert_eq!(competent(&tan_dinh_office(), &place), Ok(()));
    assert_eq!(refused(&phuc_xa_office(), &place), outside(truc_bach()));
    assert_eq!(given.place(absence(DUNG)), Place::Undetermined);
}

/// A deletion ground is found against a registration (Art 24.1, Art 29.1), which the police of
/// the place verify and delete ex officio (NĐ 154/2024 Art 9): at the registration of the
/// ground's kind.
#[test]
fn a_deletion_ground_is_recorded_where_the_registration_of_its_kind_is() {
    let given = given(em_in_two_places());
    let permanent = given.place(ground(
        EM,
        DeletionGround::Permanent(PermanentDeletionGround::LongAbsence),
    ));
    assert_eq!(permanent, Place::Any(vec![truc_bach()]));
    let temporary = given.place(ground(
        EM,
        DeletionGround::Temporary(TemporaryDeletionGround::LodgingEnded),
    ));
    assert_eq!(temporary, Place::Any(vec![tan_dinh()]));
    assert_eq!(
        refused(&truc_bach_office(), &temporary),
        outside(tan_dinh())
    );
    assert_eq!(
        given.place(ground(
            DUNG,
            DeletionGround::Permanent(PermanentDeletionGround::LongAbsence)
        )),
        Place::Undetermined
    );
}

/// Residence data follow a civil-status decision (Art 26.1(b)) at any office where the person
/// resides: a registration, or without one an Art 19 declaration. A person with neither has no
/// residence data bound to a commune and may be adjusted anywhere.
#[test]
fn a_civil_status_adjustment_is_where_the_person_resides_or_anywhere_without_residence() {
    let mut events = family();
    extend_history(&mut events, [declare(EM, home3()).into()]);
    let given = given(events);
    let registered = given.place(adjust(AN));
    assert_eq!(registered, Place::Any(vec![phuc_xa()]));
    assert_eq!(refused(&tan_dinh_office(), &registered), outside(phuc_xa()));
    assert_eq!(given.place(adjust(EM)), Place::Any(vec![tan_dinh()]));
    assert_eq!(given.place(adjust(DUNG)), Place::Unbound);
}

// --- Corrections ---------------------------------------------------------------------------------

/// A correction is a compensating event (DOMAIN.md I11: Art 26, Art 35) by the office holding
/// what it corrects: at the corrected event's unit and its replacement's. A correction of an
/// event the register does not show gives no place.
#[test]
fn a_correction_is_at_the_corrected_event_and_its_replacement() {
    let mut moved = binh_registration();
    moved.address = home2().1;
    moved.dwelling = home2().0;
    let correction = CorrectEvent {
        corrects: event_id(7),
        replacement: EventEnvelope::new(Event::PermanentResidenceRegistered(moved)),
        reason: reason("nhập sai địa chỉ"),
        legal_basis: None,
        read_also: Vec::new(),
    };
    let given = given(family());
    let place = given.place(correction.clone());
    assert_eq!(place, all(&[phuc_xa(), truc_bach()]));
    assert_eq!(refused(&phuc_xa_office(), &place), outside(truc_bach()));
    assert_eq!(competent(&office(&["province:01"]), &place), Ok(()));
    let unknown = CorrectEvent {
        corrects: event_id(99),
        ..correction
    };
    assert_eq!(given.place(unknown), Place::Undetermined);
}

// --- Competence ----------------------------------------------------------------------------------

/// A supervisor's provinces (2025 map) cover every commune in them, on either map.
#[test]
fn a_supervisor_covers_every_commune_of_the_province_on_either_map() {
    let hanoi = office(&["province:01"]);
    for unit in [phuc_xa(), truc_bach(), y2025(97), y2025(4)] {
        assert_eq!(competent(&hanoi, &all(&[unit])), Ok(()), "{unit}");
    }
    assert_eq!(refused(&hanoi, &all(&[tan_dinh()])), outside(tan_dinh()));
    assert_eq!(
        refused(&hanoi, &all(&[phuc_xa(), tan_dinh()])),
        outside(tan_dinh())
    );
}

/// A list of units that names none cannot be covered: `competent` refuses it as undetermined
/// rather than read it as vacuously covered (no silent fallback).
#[test]
fn an_empty_list_of_units_is_refused_as_undetermined() {
    for place in [Place::All(Vec::new()), Place::Any(Vec::new())] {
        assert_eq!(
            refused(&nationwide_office(), &place),
            OutsideJurisdiction::Undetermined
        );
    }
}

/// Jurisdiction entries name communes of either map (a bare code is the 2025 map) and provinces
/// of the 2025 map; codes the map does not have are refused. The serde form is the sets of
/// entries, and an empty set is left out.
#[test]
fn jurisdiction_entries_name_communes_of_either_map_and_provinces_of_2025() {
    let jurisdiction = office(&["2025:00097", "legacy:00001", "00004", " province:79 "]);
    assert_eq!(
        jurisdiction.communes,
        [y2025(97), phuc_xa(), y2025(4)].into_iter().collect()
    );
    assert_eq!(jurisdiction.provinces, [province(79)].into_iter().collect());
    let entries = jurisdiction.entries();
    assert_eq!(
        Jurisdiction::parse(entries.iter().map(String::as_str)),
        Ok(jurisdiction.clone())
    );
    let json = serde_json::to_string(&jurisdiction).unwrap();
    assert_eq!(
        serde_json::from_str::<Jurisdiction>(&json).unwrap(),
        jurisdiction
    );
    assert_eq!(
        serde_json::to_string(&office(&["legacy:00001"])).unwrap(),
        r#"{"communes":["legacy:00001"]}"#
    );
    assert!(Jurisdiction::default().is_empty());
    assert_eq!(
        Jurisdiction::parse(["province:1"]),
        Err(JurisdictionError::Syntax("province:1".to_owned()))
    );
    assert_eq!(
        Jurisdiction::parse(["province:99"]),
        Err(JurisdictionError::Unknown("province:99".to_owned()))
    );
    assert_eq!(
        Jurisdiction::parse(["phường 7"]),
        Err(JurisdictionError::Syntax("phường 7".to_owned()))
    );
    assert_eq!(
        Jurisdiction::parse(["legacy:99999"]),
        Err(JurisdictionError::Unknown("legacy:99999".to_owned()))
    );
}
