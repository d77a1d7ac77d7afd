//! The generator's statistics, written beside the command file as `FILE.stats.json`.
//!
//! Everything here is counted from the generator's own state (the commands it emitted, the
//! events `decide` returned, and the register facts of its model), never from projections, so
//! the counts are an independent check of what an import and the projections later show.
//!
//! Definitions (the same as the projections' population counts, so totals can be compared):
//! - `on_until.permanent`: persons whose permanent registration holds on `until`;
//!   `temporary`: persons whose temporary registration holds on `until` (terms end by
//!   themselves at their `until`); `absent`: persons with a declared absence holding on
//!   `until`, counted under their permanent registration, else their temporary one, else in
//!   `absent_unplaced`. A death the register recorded (a registration deleted on the death
//!   ground) ends every registration and absence of the person on the day of death, as the
//!   domain's fold closes them all; the model only drops the registration the deletion named,
//!   so the person's remaining temporary registration and absence are ended here.
//! - Communes and provinces are those of the map in force on `until`: from 2025-07-01 the 2025
//!   commune of the dwelling's address as the register shows it (recoded, or the default
//!   successor of a legacy ward not recoded).
//! - `years`: counts by the year the command was recorded.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use residence_domain::event::{Event, RegistrationKind};
use residence_domain::units::{Scheme, UnitRef, registry};
use serde::Serialize;

use super::population::Model;

/// Counts of one year.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct YearCounts {
    /// Persons born (recorded from the population database after birth registration).
    pub births: u64,
    /// Deaths recorded (permanent or temporary registration deleted on ground a).
    pub deaths: u64,
    /// Marriages (one spouse joining the other or both founding a household).
    pub marriages: u64,
    /// Persons whose permanent registration moved to another dwelling (migration, marriage,
    /// a couple's new home), excluding newborns and the initial load.
    pub moves: u64,
    /// Those of `moves` that crossed a province boundary.
    pub interprovincial_moves: u64,
    /// Permanent registrations recorded with an `effective_on` in the past (late).
    pub late_registrations: u64,
    /// Household splits.
    pub splits: u64,
    /// Changes of head (after a death, a handover, or a head leaving).
    pub head_changes: u64,
    /// Temporary registrations.
    pub temporary_registrations: u64,
    /// Temporary registrations extended.
    pub extensions: u64,
    /// Temporary registrations deleted before their term ended.
    pub temporary_deletions: u64,
    /// Stay notifications.
    pub stays: u64,
    /// Temporary absences declared.
    pub absences: u64,
    /// Residence confirmations (CT07) issued.
    pub confirmations: u64,
    /// Corrections of earlier events.
    pub corrections: u64,
    /// Dwelling addresses recoded.
    pub recodings: u64,
    /// Persons who settled abroad (permanent registration deleted on ground b).
    pub emigrations: u64,
}

/// Running counters kept while generating.
#[derive(Debug, Default)]
pub struct Counters {
    /// Commands emitted, by command name.
    pub commands: BTreeMap<&'static str, u64>,
    /// Events recorded, by event type.
    pub events: BTreeMap<&'static str, u64>,
    /// Commands `decide` refused (each one a generator bug), by `command:code`.
    pub rejections: BTreeMap<String, u64>,
    /// Counts by year.
    pub years: BTreeMap<i32, YearCounts>,
}

impl Counters {
    /// The counts of the year of `date`.
    pub fn year(&mut self, date: NaiveDate) -> &mut YearCounts {
        self.years.entry(date.year()).or_default()
    }

    /// Counts one accepted command and its events.
    pub fn accepted(&mut self, command: &'static str, events: &[Event], today: NaiveDate) {
        *self.commands.entry(command).or_default() += 1;
        for event in events {
            *self.events.entry(event.event_type().as_str()).or_default() += 1;
            let year = self.year(today);
            match event {
                Event::HouseholdHeadChanged(_) => year.head_changes += 1,
                Event::HouseholdSplit(_) => year.splits += 1,
                Event::TemporaryResidenceRegistered(_) => year.temporary_registrations += 1,
                Event::TemporaryResidenceExtended(_) => year.extensions += 1,
                Event::StayNotified(_) => year.stays += 1,
                Event::TemporaryAbsenceDeclared(_) => year.absences += 1,
                Event::ResidenceConfirmationIssued(_) => year.confirmations += 1,
                Event::EventCorrected(_) => year.corrections += 1,
                Event::ResidenceAddressRecoded(_) => year.recodings += 1,
                _ => {}
            }
        }
    }

    /// Counts one refused command.
    pub fn rejected(&mut self, command: &'static str, code: &str) {
        *self
            .rejections
            .entry(format!("{command}:{code}"))
            .or_default() += 1;
    }
}

/// Counts of one unit on `until`.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct UnitCounts {
    /// Persons with a permanent registration holding.
    pub permanent: u64,
    /// Persons with a temporary registration holding.
    pub temporary: u64,
    /// Persons with a declared absence holding, counted where registered.
    pub absent: u64,
}

/// One province's counts.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProvinceStats {
    /// The province code in the map of `until`.
    pub code: String,
    /// Its name.
    pub name: String,
    /// The counts.
    #[serde(flatten)]
    pub counts: UnitCounts,
}

/// One commune's counts.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CommuneStats {
    /// The unit (`legacy:00097` or `2025:00097`).
    pub unit: String,
    /// The counts.
    #[serde(flatten)]
    pub counts: UnitCounts,
}

/// Persons by state.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PersonCounts {
    /// Recorded from the population database.
    pub recorded: u64,
    /// Recorded, alive and in Vietnam on `until`.
    pub living: u64,
    /// Died (truth of the simulation; a death in the last days may not be recorded yet).
    pub died: u64,
    /// Settled abroad.
    pub emigrated: u64,
    /// Living persons by sex.
    pub male: u64,
    /// Living persons by sex.
    pub female: u64,
    /// Living persons aged 0–14 on `until`.
    pub aged_0_14: u64,
    /// Living persons aged 15–64.
    pub aged_15_64: u64,
    /// Living persons aged 65 and over.
    pub aged_65_plus: u64,
}

/// Households with members on `until`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct HouseholdCounts {
    /// Permanent households with members.
    pub permanent: u64,
    /// Temporary households with members.
    pub temporary: u64,
    /// Permanent households without a head (head vacant after a death).
    pub head_vacant: u64,
    /// Mean number of members of a permanent household.
    pub mean_size: f64,
}

/// The statistics file.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    /// Persons asked for.
    pub persons_requested: u64,
    /// The seed.
    pub seed: u64,
    /// The last simulated day.
    pub until: NaiveDate,
    /// Command lines written.
    pub commands: u64,
    /// Events those commands recorded (the ledger size after an import into an empty ledger).
    pub events: u64,
    /// Commands by name.
    pub commands_by_name: BTreeMap<&'static str, u64>,
    /// Events by type (the ledger's event-type counts after the import).
    pub events_by_type: BTreeMap<&'static str, u64>,
    /// Commands `decide` refused while generating (a generator bug; expected empty).
    pub rejections: BTreeMap<String, u64>,
    /// Persons.
    pub persons: PersonCounts,
    /// Households.
    pub households: HouseholdCounts,
    /// The map the counts below use.
    pub scheme: Scheme,
    /// Totals on `until`.
    pub on_until: UnitCounts,
    /// Absences of persons registered nowhere on `until`.
    pub absent_unplaced: u64,
    /// Counts by province (provinces with any count), in code order.
    pub provinces: Vec<ProvinceStats>,
    /// Counts by commune (communes with any count), in unit order.
    pub communes: Vec<CommuneStats>,
    /// Counts by year recorded.
    pub years: BTreeMap<i32, YearCounts>,
}

/// Builds the statistics from the model on `until`.
pub fn compute(
    model: &Model,
    counters: &Counters,
    persons_requested: u64,
    seed: u64,
    until: NaiveDate,
    events: u64,
) -> Stats {
    let scheme = if model.reorganised {
        Scheme::Y2025
    } else {
        Scheme::Legacy
    };
    let unit_on = |dwelling: u32| -> UnitRef {
        let dwelling = model.dwelling(dwelling);
        if scheme == Scheme::Y2025 {
            dwelling.unit_on(until)
        } else {
            dwelling.address.unit
        }
    };
    let mut communes: BTreeMap<UnitRef, UnitCounts> = BTreeMap::new();
    let mut totals = UnitCounts::default();
    let mut absent_unplaced = 0;
    let mut persons = PersonCounts::default();
    for person in &model.persons {
        if !person.recorded {
            continue;
        }
        persons.recorded += 1;
        if person.died_on.is_some() {
            persons.died += 1;
        } else if person.emigrated {
            persons.emigrated += 1;
        } else {
            persons.living += 1;
            match person.sex {
                residence_domain::pin::Sex::Male => persons.male += 1,
                residence_domain::pin::Sex::Female => persons.female += 1,
            }
            match person.age(until) {
                0..=14 => persons.aged_0_14 += 1,
                15..=64 => persons.aged_15_64 += 1,
                _ => persons.aged_65_plus += 1,
            }
        }
        // The register recorded the death when it deleted the permanent registration on the
        // death ground, effective on the day of death (which raised the floor for a new one to
        // that day); until then the model keeps the registration, as the register does.
        let death_recorded = person
            .died_on
            .is_some_and(|died| person.permanent.is_none() && person.permanent_floor >= died);
        let permanent = person.permanent.filter(|p| p.since <= until);
        let temporary = person.temporary_on(until).filter(|_| !death_recorded);
        if let Some(permanent) = permanent {
            communes
                .entry(unit_on(permanent.dwelling))
                .or_default()
                .permanent += 1;
            totals.permanent += 1;
        }
        if let Some(temporary) = temporary {
            communes
                .entry(unit_on(temporary.dwelling))
                .or_default()
                .temporary += 1;
            totals.temporary += 1;
        }
        if person.absent_on(until) && !death_recorded {
            let place = permanent
                .map(|p| p.dwelling)
                .or(temporary.map(|t| t.dwelling));
            match place {
                Some(dwelling) => {
                    communes.entry(unit_on(dwelling)).or_default().absent += 1;
                    totals.absent += 1;
                }
                None => absent_unplaced += 1,
            }
        }
    }
    let mut provinces: BTreeMap<u8, UnitCounts> = BTreeMap::new();
    for (unit, counts) in &communes {
        let province = registry().province_of(*unit).map_or(0, |code| code.get());
        let entry = provinces.entry(province).or_default();
        entry.permanent += counts.permanent;
        entry.temporary += counts.temporary;
        entry.absent += counts.absent;
    }
    let mut households = HouseholdCounts::default();
    let mut members = 0_u64;
    for household in &model.households {
        if household.members.is_empty() {
            continue;
        }
        match household.kind {
            RegistrationKind::Permanent => {
                households.permanent += 1;
                members += household.members.len() as u64;
                if household.head.is_none() {
                    households.head_vacant += 1;
                }
            }
            RegistrationKind::Temporary => households.temporary += 1,
        }
    }
    if households.permanent > 0 {
        households.mean_size = members as f64 / households.permanent as f64;
    }
    Stats {
        persons_requested,
        seed,
        until,
        commands: counters.commands.values().sum(),
        events,
        commands_by_name: counters.commands.clone(),
        events_by_type: counters.events.clone(),
        rejections: counters.rejections.clone(),
        persons,
        households,
        scheme,
        on_until: totals,
        absent_unplaced,
        provinces: provinces
            .into_iter()
            .map(|(code, counts)| ProvinceStats {
                code: format!("{code:02}"),
                name: residence_domain::units::ProvinceCode::new(code)
                    .and_then(|code| registry().province_name(scheme, code))
                    .unwrap_or_default()
                    .to_owned(),
                counts,
            })
            .collect(),
        communes: communes
            .into_iter()
            .map(|(unit, counts)| CommuneStats {
                unit: unit.to_string(),
                counts,
            })
            .collect(),
        years: counters.years.clone(),
    }
}

#[cfg(test)]
mod tests {
    use residence_domain::address::{Address, PersonName, StreetLine};
    use residence_domain::pin::{Pin, Sex};

    use super::super::population::{Dwelling, Person, Temporary};
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("test dates are valid")
    }

    /// A recorded man with a declared absence and a temporary registration, but (no longer) a
    /// permanent one.
    fn absent_person() -> Person {
        let pin: Pin = "001090012345".parse().expect("a valid PIN");
        let name = PersonName::parse("Nguyễn Văn An").expect("a valid name");
        let mut person = Person::new(pin, Sex::Male, day("1990-05-01"), 0, name);
        person.recorded = true;
        person.absence = Some((day("2025-05-05"), day("2027-06-05")));
        person.temporary = Some(Temporary {
            dwelling: 0,
            household: None,
            since: day("2026-01-01"),
            until: day("2027-12-31"),
        });
        person
    }

    #[test]
    fn a_recorded_death_ends_the_absence_and_the_temporary_registration() {
        let until = day("2026-11-01");
        let mut model = Model::default();
        model.dwellings.push(Dwelling {
            address: Address {
                unit: "legacy:00001".parse().expect("a valid unit"),
                street: StreetLine::parse("Số 1 phố Phúc Xá").expect("a valid street"),
            },
            floor_tenths: 300,
            rental: true,
            permanent_residents: 0,
            temporary_residents: 1,
            known: true,
        });
        // Died during the absence; the deletion of the permanent registration on the death
        // ground (effective on the day of death) was recorded.
        let mut dead = absent_person();
        dead.died_on = Some(day("2026-07-26"));
        dead.permanent_floor = day("2026-07-26");
        // The same facts for a living person: the absence and the registration hold.
        let living = absent_person();
        model.persons = vec![dead, living];

        let stats = compute(&model, &Counters::default(), 2, 7, until, 0);
        assert_eq!(stats.scheme, Scheme::Legacy);
        assert_eq!(
            stats.on_until,
            UnitCounts {
                permanent: 0,
                temporary: 1,
                absent: 1,
            }
        );
        assert_eq!(stats.absent_unplaced, 0);
        assert_eq!(stats.communes.len(), 1);
        assert_eq!(stats.communes[0].unit, "legacy:00001");
        assert_eq!(stats.persons.died, 1);
        assert_eq!(stats.persons.living, 1);
    }
}
