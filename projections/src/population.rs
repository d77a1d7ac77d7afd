//! Population counts by province, district and commune: people with a permanent registration,
//! with a temporary registration, and absent (a declared temporary absence), on any date, under
//! the units valid on that date and re-expressed in today's units.
//!
//! Units valid on a date: before 2025-07-01 an address is counted under its legacy ward,
//! district and province; from then (once the reorganisation event is known) under its 2025
//! commune and province, through the conversion table and every recoding of its dwelling, the
//! way the domain's timeline shows it. "Today's units" counts every address under the 2025 unit
//! it is in today, whatever the date, so that counts of different years can be compared.
//!
//! An absent person is counted where they are registered on the date: under their permanent
//! registration, else their temporary one; an absence of someone registered nowhere on the date
//! is counted in `absent_unplaced`. "Current" counts are counts on today's date, which the
//! caller supplies (the projections read no clock).

use chrono::NaiveDate;
use residence_domain::units::{ProvinceCode, Scheme, UnitRef, registry};

use crate::compact::Unit;
use crate::residence::{Span, SpanKind, shown_on};
use crate::state::Projections;

/// Counts of one unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// People with a permanent registration holding on the date.
    pub permanent: u64,
    /// People with a temporary registration holding on the date.
    pub temporary: u64,
    /// People with a declared temporary absence holding on the date.
    pub absent: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.permanent += other.permanent;
        self.temporary += other.temporary;
        self.absent += other.absent;
    }

    fn bump(&mut self, kind: SpanKind) {
        match kind {
            SpanKind::Permanent => self.permanent += 1,
            SpanKind::Temporary => self.temporary += 1,
            SpanKind::Absence => self.absent += 1,
        }
    }

    fn is_zero(self) -> bool {
        self == Counts::default()
    }
}

/// Counts of one commune or ward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommuneCounts {
    /// The unit.
    pub unit: UnitRef,
    /// Its full name (with district and province), if the registry knows it.
    pub name: Option<String>,
    /// Its province in its own scheme.
    pub province: Option<ProvinceCode>,
    /// Its district code, for a legacy unit.
    pub district: Option<&'static str>,
    /// The counts.
    pub counts: Counts,
}

/// Counts of one legacy district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistrictCounts {
    /// The legacy province.
    pub province: ProvinceCode,
    /// The three-digit district code.
    pub district: &'static str,
    /// The district name.
    pub name: &'static str,
    /// The counts.
    pub counts: Counts,
}

/// Counts of one province.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvinceCounts {
    /// The map the province belongs to.
    pub scheme: Scheme,
    /// The province.
    pub province: ProvinceCode,
    /// Its name.
    pub name: Option<&'static str>,
    /// The counts.
    pub counts: Counts,
}

/// The population on one date, as known now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Population {
    /// The date counted.
    pub date: NaiveDate,
    /// All units together.
    pub totals: Counts,
    /// Absences of people registered nowhere on the date.
    pub absent_unplaced: u64,
    /// By commune or ward as shown on the date (legacy wards before the reorganisation, 2025
    /// communes after), in unit order.
    pub communes: Vec<CommuneCounts>,
    /// By legacy district (only for units shown under the legacy map).
    pub districts: Vec<DistrictCounts>,
    /// By province of the map each unit belongs to.
    pub provinces: Vec<ProvinceCounts>,
    /// By today's (2025) commune.
    pub today_communes: Vec<CommuneCounts>,
    /// By today's (2025) province.
    pub today_provinces: Vec<ProvinceCounts>,
}

/// Slots per scheme in the flat count table (codes are five digits).
const CODES: usize = 100_000;

/// A flat table of counts by unit.
struct Table(Vec<Counts>);

impl Table {
    fn new() -> Table {
        Table(vec![Counts::default(); 2 * CODES])
    }

    fn slot(unit: UnitRef) -> usize {
        let base = match unit.scheme {
            Scheme::Legacy => 0,
            Scheme::Y2025 => CODES,
        };
        base + unit.code.get() as usize
    }

    fn bump(&mut self, unit: UnitRef, kind: SpanKind) {
        if let Some(counts) = self.0.get_mut(Table::slot(unit)) {
            counts.bump(kind);
        }
    }

    /// The non-zero rows, in unit order.
    fn rows(&self) -> Vec<CommuneCounts> {
        let mut rows = Vec::new();
        for (slot, counts) in self.0.iter().enumerate() {
            if counts.is_zero() {
                continue;
            }
            let (scheme, code) = if slot < CODES {
                (Scheme::Legacy, slot)
            } else {
                (Scheme::Y2025, slot - CODES)
            };
            let Some(code) = u32::try_from(code)
                .ok()
                .and_then(residence_domain::units::UnitCode::new)
            else {
                continue;
            };
            let unit = UnitRef { scheme, code };
            let info = registry().get(unit);
            rows.push(CommuneCounts {
                unit,
                name: registry().full_name(unit),
                province: info.map(|info| info.province),
                district: info.and_then(|info| info.district).map(|(code, _)| code),
                counts: *counts,
            });
        }
        rows
    }
}

/// Province totals of commune rows.
fn provinces(rows: &[CommuneCounts]) -> Vec<ProvinceCounts> {
    let mut totals: std::collections::BTreeMap<(Scheme, ProvinceCode), Counts> =
        std::collections::BTreeMap::new();
    for row in rows {
        if let Some(province) = row.province {
            totals
                .entry((row.unit.scheme, province))
                .or_default()
                .add(row.counts);
        }
    }
    totals
        .into_iter()
        .map(|((scheme, province), counts)| ProvinceCounts {
            scheme,
            province,
            name: registry().province_name(scheme, province),
            counts,
        })
        .collect()
}

/// District totals of legacy commune rows.
fn districts(rows: &[CommuneCounts]) -> Vec<DistrictCounts> {
    let mut totals: std::collections::BTreeMap<
        (ProvinceCode, &'static str),
        (&'static str, Counts),
    > = std::collections::BTreeMap::new();
    for row in rows {
        let Some(info) = registry().get(row.unit) else {
            continue;
        };
        if let Some((code, name)) = info.district {
            totals
                .entry((info.province, code))
                .or_insert((name, Counts::default()))
                .1
                .add(row.counts);
        }
    }
    totals
        .into_iter()
        .map(|((province, district), (name, counts))| DistrictCounts {
            province,
            district,
            name,
            counts,
        })
        .collect()
}

impl Projections {
    /// The population on `date` as known now (pass today's date for current counts).
    #[must_use]
    pub fn population_on(&self, date: NaiveDate) -> Population {
        let reorganised_from = self.models.reorganised_from();
        let mut shown = Table::new();
        let mut today = Table::new();
        let mut totals = Counts::default();
        let mut absent_unplaced = 0;
        self.models.for_each_spans(|_, spans| {
            let on = shown_on(spans, date);
            let holding = |kind: SpanKind| -> Option<&Span> {
                match kind {
                    SpanKind::Permanent => on[0],
                    SpanKind::Temporary => on[1],
                    SpanKind::Absence => on[2],
                }
            };
            let placed = |span: &Span| -> Option<(Unit, UnitRef)> {
                let addr = span.addr_on(date, reorganised_from)?;
                Some((addr.unit, span.today_unit()?))
            };
            for kind in [SpanKind::Permanent, SpanKind::Temporary, SpanKind::Absence] {
                let Some(span) = holding(kind) else {
                    continue;
                };
                let place = match kind {
                    SpanKind::Absence => holding(SpanKind::Permanent)
                        .or_else(|| holding(SpanKind::Temporary))
                        .and_then(placed),
                    _ => placed(span),
                };
                totals.bump(kind);
                match place {
                    Some((unit, today_unit)) => {
                        shown.bump(unit.unpack(), kind);
                        today.bump(today_unit, kind);
                    }
                    None => absent_unplaced += 1,
                }
            }
        });
        let communes = shown.rows();
        let today_communes = today.rows();
        Population {
            date,
            totals,
            absent_unplaced,
            districts: districts(&communes),
            provinces: provinces(&communes),
            today_provinces: provinces(&today_communes),
            communes,
            today_communes,
        }
    }
}
