//! Time for simulated histories: the Vietnamese date of a recording time, office hours, and the
//! RFC 3339 form of `recorded_at` in the command files.
//!
//! Why here: the law's dates are local dates in Vietnam (UTC+7, no daylight saving), while the
//! ledger stamps records in UTC microseconds. A command recorded at 2015-01-02T01:00:00Z is
//! decided "today = 2015-01-02"; one recorded at 2015-01-02T18:00:00Z already on 2015-01-03.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use residence_ledger::record::Timestamp;

/// Vietnam's offset from UTC, in microseconds (UTC+7 all year).
pub const VIETNAM_OFFSET_MICROS: i64 = 7 * 3_600 * 1_000_000;

/// Microseconds in a day.
const DAY_MICROS: i64 = 86_400 * 1_000_000;

/// When simulated offices open: 07:30 in Vietnam (00:30 UTC).
const OFFICE_OPENS_LOCAL_MICROS: i64 = (7 * 3_600 + 30 * 60) * 1_000_000;

/// How long simulated offices are open: 9.5 hours (07:30 to 17:00).
pub const OFFICE_SPAN_MICROS: i64 = 9 * 3_600 * 1_000_000 + 30 * 60 * 1_000_000;

/// The date in Vietnam of a UTC time.
pub fn vietnam_date(time: Timestamp) -> Option<NaiveDate> {
    let local = time.micros().checked_add(VIETNAM_OFFSET_MICROS)?;
    let days = local.div_euclid(DAY_MICROS);
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::TimeDelta::days(days))
}

/// The UTC time at which a date's office hours open in Vietnam.
pub fn office_opens(date: NaiveDate) -> Timestamp {
    let midnight_utc = date.and_time(NaiveTime::MIN).and_utc().timestamp_micros();
    Timestamp(midnight_utc - VIETNAM_OFFSET_MICROS + OFFICE_OPENS_LOCAL_MICROS)
}

/// `date` plus `days` (saturating at the end of the calendar).
pub fn plus_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days))
        .unwrap_or(NaiveDate::MAX)
}

/// `date` minus `days` (saturating at the start of the calendar).
pub fn minus_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_sub_days(Days::new(days))
        .unwrap_or(NaiveDate::MIN)
}

/// `date` plus whole months (the last day of the month when the day does not exist).
pub fn plus_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(chrono::Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// A recording time as the command files write it: RFC 3339 in UTC with microseconds,
/// e.g. `2015-01-02T00:30:00.000000Z`.
pub fn format_time(time: Timestamp) -> String {
    time.to_string()
}

/// Parses an RFC 3339 time with any offset into UTC microseconds (finer digits are cut off).
///
/// # Errors
/// The reason, for the caller to report with the line and field.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    let parsed = DateTime::parse_from_rfc3339(text)
        .map_err(|error| format!("not an RFC 3339 time ({error})"))?;
    Ok(Timestamp::from_datetime(parsed.with_timezone(&Utc)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn office_hours_fall_on_the_same_vietnamese_date() {
        let opens = office_opens(d("2015-01-02"));
        assert_eq!(format_time(opens), "2015-01-02T00:30:00.000000Z");
        assert_eq!(vietnam_date(opens), Some(d("2015-01-02")));
        let closes = Timestamp(opens.micros() + OFFICE_SPAN_MICROS - 1);
        assert_eq!(vietnam_date(closes), Some(d("2015-01-02")));
        // 17:00 UTC is already midnight in Vietnam.
        let evening = parse_time("2015-01-02T17:00:00Z").unwrap();
        assert_eq!(vietnam_date(evening), Some(d("2015-01-03")));
    }

    #[test]
    fn times_round_trip_and_accept_offsets() {
        let time = parse_time("2025-07-01T08:15:30.123456+07:00").unwrap();
        assert_eq!(format_time(time), "2025-07-01T01:15:30.123456Z");
        assert_eq!(parse_time(&format_time(time)), Ok(time));
        assert!(parse_time("2025-07-01 08:15").is_err());
    }
}
