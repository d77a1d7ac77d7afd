//! Which address a residence shows on a date: the address as registered, as recoded since, and
//! read through the 2025 conversion table once the reorganisation applies.
//!
//! Why apart from the fold: recoding is not a move (DOMAIN.md §8). A registration keeps its start
//! date and its dwelling while the name of its place changes under it, so the address is not a
//! property of the interval but of the interval and the date asked about. The same rules serve
//! the fold, the printed history and callers that hold a bare address.

use std::borrow::Cow;

use chrono::NaiveDate;

use crate::address::Address;
use crate::event::ResidenceAddressRecoded;
use crate::ids::DwellingId;
use crate::units::{REORGANISATION_DATE, Scheme, UnitRef, registry};

/// Whether the 2025 reorganisation applies on `date`: from 2025-07-01 on, a legacy unit is read
/// as its 2025 successor.
pub fn reorganisation_applies(date: NaiveDate) -> bool {
    date >= REORGANISATION_DATE
}

/// The address a dwelling registered at `address` has on `date`, given recoding events (e.g.
/// the person's own).
///
/// The latest recoding of `dwelling` with `effective_on` on or before `date` gives the address
/// (on equal dates, the later one in `recodings` wins); recodings of other dwellings are skipped.
/// If the result is still a legacy address and the reorganisation applies on `date`, it is read
/// as the default successor of its ward (the whole successor, or the default ward of a divided
/// ward). A legacy ward the conversion table does not know keeps its legacy unit.
pub fn address_on<'a>(
    address: &Address,
    dwelling: DwellingId,
    date: NaiveDate,
    recodings: impl IntoIterator<Item = &'a ResidenceAddressRecoded>,
) -> Address {
    let mut latest: Option<&ResidenceAddressRecoded> = None;
    for recoding in recodings {
        let applies = recoding.dwelling == dwelling && recoding.effective_on <= date;
        if applies && latest.is_none_or(|best| recoding.effective_on >= best.effective_on) {
            latest = Some(recoding);
        }
    }
    let base = latest.map_or(address, |recoding| &recoding.new_address);
    let reorganised_from = reorganisation_applies(date).then_some(REORGANISATION_DATE);
    through_conversion(base, date, reorganised_from).into_owned()
}

/// `address` read on `date`: unchanged unless it is legacy and the reorganisation (known to take
/// effect on `reorganised_from`) applies by then, in which case its ward is the default
/// successor.
pub(super) fn through_conversion(
    address: &Address,
    date: NaiveDate,
    reorganised_from: Option<NaiveDate>,
) -> Cow<'_, Address> {
    let converts =
        address.unit.scheme == Scheme::Legacy && reorganised_from.is_some_and(|from| date >= from);
    if !converts {
        return Cow::Borrowed(address);
    }
    match registry().default_successor(address.unit.code) {
        Some(code) => Cow::Owned(Address {
            unit: UnitRef::y2025(code),
            street: address.street.clone(),
        }),
        None => Cow::Borrowed(address),
    }
}

/// The 2025 unit `unit` is in today: its default successor if it is legacy (or itself when the
/// table has no row for it), itself otherwise.
pub(super) fn today_unit(unit: UnitRef) -> UnitRef {
    match unit.scheme {
        Scheme::Y2025 => unit,
        Scheme::Legacy => registry()
            .default_successor(unit.code)
            .map_or(unit, UnitRef::y2025),
    }
}
