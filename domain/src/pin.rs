//! The 12-digit personal identification number (số định danh cá nhân, DOMAIN.md §6).
//!
//! Why a type: a PIN is how courts and officers find a person, so a malformed one must never get
//! into the ledger, and its structure (birth-registration prefix, century/sex digit, birth year)
//! is checked against the person's recorded birth year and sex. The PIN is an attribute of a
//! person, not their key: a PIN can be cancelled and re-established (I12), which is why a parity
//! that disagrees with the recorded sex is only a warning.
//!
//! Layout: `d1–3` the province (or country) code of birth registration, `d4` century and sex
//! (0/1 = 1900s, 2/3 = 2000s, … 8/9 = 2300s; even = male, odd = female), `d5–6` the last two
//! digits of the birth year, `d7–12` random. There is no check digit.
//!
//! Wire form: the 12 digits as a JSON string, leading zeros kept (`"001090012345"`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Sex as recorded in the population database; the PIN's century digit encodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Nam.
    Male,
    /// Nữ.
    Female,
}

/// A 12-digit personal identification number (số định danh cá nhân).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pin(u64);

/// Why a text is not a PIN, or why a PIN does not fit the person it is recorded for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// The text is not 12 characters long (`len` counts characters). → 422 `pin_invalid`
    #[error("personal identification number must be 12 digits, got {len} characters")]
    Length {
        /// The number of characters received.
        len: usize,
    },
    /// The text is 12 characters long but not all of them are ASCII digits. → 422 `pin_invalid`
    #[error("personal identification number must contain only the digits 0-9")]
    NotDigits,
    /// The century digit and the two year digits give a birth year other than the recorded one;
    /// the PIN belongs to someone else or was mistyped. → 422 `pin_birth_year_mismatch`
    #[error(
        "personal identification number encodes birth year {encoded}, but the recorded birth year is {recorded}"
    )]
    BirthYearMismatch {
        /// The birth year the PIN encodes.
        encoded: i32,
        /// The birth year recorded for the person.
        recorded: i32,
    },
}

/// Something odd about a PIN that the law allows, so it is reported beside the result rather
/// than rejected (DOMAIN.md §6).
///
/// Wire form: an object tagged by its stable code, e.g.
/// `{"code":"unknown_prefix","prefix":999}` or
/// `{"code":"sex_mismatch","encoded":"male","recorded":"female"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum PinWarning {
    /// The parity of the century digit disagrees with the recorded sex. Possible after a
    /// re-established PIN or a change of sex; an officer may want to look.
    SexMismatch {
        /// The sex the PIN encodes.
        encoded: Sex,
        /// The sex recorded for the person.
        recorded: Sex,
    },
    /// The first three digits are not one of the 63 province codes of birth registration; it
    /// may be a country code for a birth registered abroad, a list the project does not have.
    UnknownPrefix {
        /// The three-digit prefix as a number (`999` for `"999…"`).
        prefix: u16,
    },
}

impl PinWarning {
    /// The stable machine-readable code, the same as the `code` field of the wire form.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SexMismatch { .. } => "sex_mismatch",
            Self::UnknownPrefix { .. } => "unknown_prefix",
        }
    }
}

/// The 63 birth-registration prefixes (the pre-2025 province codes with a leading zero) and the
/// province names as the legacy unit data spell them, sorted by code.
///
/// A registry test checks that this table equals the provinces of the embedded legacy unit file.
/// The prefix is a historical code: it MUST NOT be used to derive a person's province today.
const PREFIXES: [(u16, &str); 63] = [
    (1, "Thành phố Hà Nội"),
    (2, "Tỉnh Hà Giang"),
    (4, "Tỉnh Cao Bằng"),
    (6, "Tỉnh Bắc Kạn"),
    (8, "Tỉnh Tuyên Quang"),
    (10, "Tỉnh Lào Cai"),
    (11, "Tỉnh Điện Biên"),
    (12, "Tỉnh Lai Châu"),
    (14, "Tỉnh Sơn La"),
    (15, "Tỉnh Yên Bái"),
    (17, "Tỉnh Hòa Bình"),
    (19, "Tỉnh Thái Nguyên"),
    (20, "Tỉnh Lạng Sơn"),
    (22, "Tỉnh Quảng Ninh"),
    (24, "Tỉnh Bắc Giang"),
    (25, "Tỉnh Phú Thọ"),
    (26, "Tỉnh Vĩnh Phúc"),
    (27, "Tỉnh Bắc Ninh"),
    (30, "Tỉnh Hải Dương"),
    (31, "Thành phố Hải Phòng"),
    (33, "Tỉnh Hưng Yên"),
    (34, "Tỉnh Thái Bình"),
    (35, "Tỉnh Hà Nam"),
    (36, "Tỉnh Nam Định"),
    (37, "Tỉnh Ninh Bình"),
    (38, "Tỉnh Thanh Hóa"),
    (40, "Tỉnh Nghệ An"),
    (42, "Tỉnh Hà Tĩnh"),
    (44, "Tỉnh Quảng Bình"),
    (45, "Tỉnh Quảng Trị"),
    (46, "Thành phố Huế"),
    (48, "Thành phố Đà Nẵng"),
    (49, "Tỉnh Quảng Nam"),
    (51, "Tỉnh Quảng Ngãi"),
    (52, "Tỉnh Bình Định"),
    (54, "Tỉnh Phú Yên"),
    (56, "Tỉnh Khánh Hòa"),
    (58, "Tỉnh Ninh Thuận"),
    (60, "Tỉnh Bình Thuận"),
    (62, "Tỉnh Kon Tum"),
    (64, "Tỉnh Gia Lai"),
    (66, "Tỉnh Đắk Lắk"),
    (67, "Tỉnh Đắk Nông"),
    (68, "Tỉnh Lâm Đồng"),
    (70, "Tỉnh Bình Phước"),
    (72, "Tỉnh Tây Ninh"),
    (74, "Tỉnh Bình Dương"),
    (75, "Tỉnh Đồng Nai"),
    (77, "Tỉnh Bà Rịa - Vũng Tàu"),
    (79, "Thành phố Hồ Chí Minh"),
    (80, "Tỉnh Long An"),
    (82, "Tỉnh Tiền Giang"),
    (83, "Tỉnh Bến Tre"),
    (84, "Tỉnh Trà Vinh"),
    (86, "Tỉnh Vĩnh Long"),
    (87, "Tỉnh Đồng Tháp"),
    (89, "Tỉnh An Giang"),
    (91, "Tỉnh Kiên Giang"),
    (92, "Thành phố Cần Thơ"),
    (93, "Tỉnh Hậu Giang"),
    (94, "Tỉnh Sóc Trăng"),
    (95, "Tỉnh Bạc Liêu"),
    (96, "Tỉnh Cà Mau"),
];

/// The province whose code a birth-registration prefix is (`1` → "Thành phố Hà Nội"), or `None`
/// for a prefix outside the 63 known codes.
///
/// The name is the province as it was before 2025-07-01; prefixes are historical and never
/// say where a person belongs today.
pub fn province_name_of_prefix(code: u16) -> Option<&'static str> {
    PREFIXES
        .binary_search_by_key(&code, |&(prefix, _)| prefix)
        .ok()
        .and_then(|index| PREFIXES.get(index))
        .map(|&(_, name)| name)
}

impl Pin {
    /// The PIN as a number (leading zeros are not part of the number; [`fmt::Display`] restores
    /// them).
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The province (or country) code of birth registration: the first three digits.
    pub const fn birth_registration_code(self) -> u16 {
        // At most 999 because the PIN has 12 digits, so the cast cannot truncate.
        (self.0 / 1_000_000_000) as u16
    }

    /// The fourth digit, encoding century and sex.
    pub const fn century_sex_digit(self) -> u8 {
        ((self.0 / 100_000_000) % 10) as u8
    }

    /// The birth year the PIN encodes: the century from the fourth digit (0/1 → 1900s, 2/3 →
    /// 2000s, 4/5 → 2100s, 6/7 → 2200s, 8/9 → 2300s) plus the fifth and sixth digits.
    pub const fn birth_year(self) -> i32 {
        let century = 1900 + (self.century_sex_digit() as i32 / 2) * 100;
        let year_in_century = ((self.0 / 1_000_000) % 100) as i32;
        century + year_in_century
    }

    /// The sex the PIN encodes: an even century digit is male, an odd one female.
    pub const fn sex(self) -> Sex {
        if self.century_sex_digit().is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Checks the PIN against a person's recorded birth year and sex (DOMAIN.md §6).
    ///
    /// Returns the warnings, in a fixed order (sex first, then prefix), when the PIN is
    /// acceptable.
    ///
    /// # Errors
    /// [`PinError::BirthYearMismatch`] when the encoded birth year differs from `birth_year`.
    pub fn check(&self, birth_year: i32, sex: Sex) -> Result<Vec<PinWarning>, PinError> {
        let encoded_year = self.birth_year();
        if encoded_year != birth_year {
            return Err(PinError::BirthYearMismatch {
                encoded: encoded_year,
                recorded: birth_year,
            });
        }
        let mut warnings = Vec::new();
        if self.sex() != sex {
            warnings.push(PinWarning::SexMismatch {
                encoded: self.sex(),
                recorded: sex,
            });
        }
        let prefix = self.birth_registration_code();
        if province_name_of_prefix(prefix).is_none() {
            warnings.push(PinWarning::UnknownPrefix { prefix });
        }
        Ok(warnings)
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:012}", self.0)
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pin({:012})", self.0)
    }
}

impl FromStr for Pin {
    type Err = PinError;

    /// Parses exactly 12 ASCII digits; no whitespace or separators are accepted.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            let number = text
                .bytes()
                .fold(0_u64, |number, digit| number * 10 + u64::from(digit - b'0'));
            return Ok(Self(number));
        }
        // Length is counted in characters so that the message matches what a person typed.
        let len = text.chars().count();
        if len == 12 {
            Err(PinError::NotDigits)
        } else {
            Err(PinError::Length { len })
        }
    }
}

impl Serialize for Pin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Pin {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(text: &str) -> Pin {
        text.parse().expect("test PIN is well formed")
    }

    #[test]
    fn accessors_read_the_layout() {
        let p = pin("001090012345");
        assert_eq!(p.birth_registration_code(), 1);
        assert_eq!(p.century_sex_digit(), 0);
        assert_eq!(p.birth_year(), 1990);
        assert_eq!(p.sex(), Sex::Male);
        assert_eq!(p.get(), 1_090_012_345);

        let p = pin("079305123456");
        assert_eq!(p.birth_registration_code(), 79);
        assert_eq!(p.century_sex_digit(), 3);
        assert_eq!(p.birth_year(), 2005);
        assert_eq!(p.sex(), Sex::Female);
    }

    #[test]
    fn every_century_digit_against_matching_and_mismatching_years() {
        // (digit, century start, sex)
        let expected = [
            (0, 1900, Sex::Male),
            (1, 1900, Sex::Female),
            (2, 2000, Sex::Male),
            (3, 2000, Sex::Female),
            (4, 2100, Sex::Male),
            (5, 2100, Sex::Female),
            (6, 2200, Sex::Male),
            (7, 2200, Sex::Female),
            (8, 2300, Sex::Male),
            (9, 2300, Sex::Female),
        ];
        for (digit, century, sex) in expected {
            for yy in [0, 1, 47, 99] {
                let p = pin(&format!("001{digit}{yy:02}000042"));
                let year = century + yy;
                assert_eq!(p.century_sex_digit(), digit);
                assert_eq!(p.birth_year(), year, "digit {digit} yy {yy}");
                assert_eq!(p.sex(), sex, "digit {digit}");
                assert_eq!(p.check(year, sex), Ok(vec![]), "digit {digit} yy {yy}");
                // The same two year digits in the neighbouring centuries do not match.
                for wrong in [year - 100, year + 100, year + 1] {
                    assert_eq!(
                        p.check(wrong, sex),
                        Err(PinError::BirthYearMismatch {
                            encoded: year,
                            recorded: wrong
                        }),
                        "digit {digit} yy {yy} against {wrong}"
                    );
                }
            }
        }
    }

    #[test]
    fn birth_year_mismatch_wins_over_warnings() {
        // Unknown prefix and wrong sex, but the year is what rejects it.
        let p = pin("999185000001");
        assert_eq!(
            p.check(1984, Sex::Female),
            Err(PinError::BirthYearMismatch {
                encoded: 1985,
                recorded: 1984
            })
        );
    }

    #[test]
    fn sex_parity_mismatch_is_a_warning() {
        let p = pin("001190012345");
        assert_eq!(p.sex(), Sex::Female);
        assert_eq!(
            p.check(1990, Sex::Male),
            Ok(vec![PinWarning::SexMismatch {
                encoded: Sex::Female,
                recorded: Sex::Male
            }])
        );
    }

    #[test]
    fn valid_prefixes_give_no_warning() {
        for (code, name) in PREFIXES {
            assert_eq!(province_name_of_prefix(code), Some(name));
            let p = pin(&format!("{code:03}090000001"));
            assert_eq!(p.birth_registration_code(), code);
            assert_eq!(p.check(1990, Sex::Male), Ok(vec![]), "prefix {code:03}");
        }
        assert_eq!(province_name_of_prefix(1), Some("Thành phố Hà Nội"));
        assert_eq!(province_name_of_prefix(15), Some("Tỉnh Yên Bái"));
        assert_eq!(province_name_of_prefix(96), Some("Tỉnh Cà Mau"));
    }

    #[test]
    fn prefix_table_is_sorted_and_has_63_codes() {
        assert!(PREFIXES.windows(2).all(|pair| pair[0].0 < pair[1].0));
        let known = (0..=999)
            .filter(|&code| province_name_of_prefix(code).is_some())
            .count();
        assert_eq!(known, 63);
    }

    #[test]
    fn invalid_prefixes_warn() {
        // 000, codes between provinces, the first code after the last province, and 999.
        for code in [0_u16, 3, 5, 9, 13, 97, 100, 999] {
            assert_eq!(province_name_of_prefix(code), None, "prefix {code:03}");
            let p = pin(&format!("{code:03}090000001"));
            assert_eq!(
                p.check(1990, Sex::Male),
                Ok(vec![PinWarning::UnknownPrefix { prefix: code }]),
                "prefix {code:03}"
            );
        }
        let both = pin("003190000001").check(1990, Sex::Male);
        assert_eq!(
            both,
            Ok(vec![
                PinWarning::SexMismatch {
                    encoded: Sex::Female,
                    recorded: Sex::Male
                },
                PinWarning::UnknownPrefix { prefix: 3 }
            ])
        );
    }

    #[test]
    fn lengths_other_than_12_are_rejected() {
        assert_eq!("".parse::<Pin>(), Err(PinError::Length { len: 0 }));
        assert_eq!(
            "00109001234".parse::<Pin>(),
            Err(PinError::Length { len: 11 })
        );
        assert_eq!(
            "0010900123456".parse::<Pin>(),
            Err(PinError::Length { len: 13 })
        );
        assert_eq!("001090012345".parse::<Pin>(), Ok(Pin(1_090_012_345)));
        // Whitespace is not trimmed.
        assert_eq!(
            " 001090012345".parse::<Pin>(),
            Err(PinError::Length { len: 13 })
        );
    }

    #[test]
    fn non_digits_are_rejected() {
        for text in [
            "00109001234a",
            "+01090012345",
            "-01090012345",
            "001 90012345",
            "00109001234.",
            // Full-width digits are 12 characters but not ASCII digits.
            "００１０９００１２３４５",
            // Arabic-Indic digit at the end.
            "00109001234٥",
        ] {
            assert_eq!(text.parse::<Pin>(), Err(PinError::NotDigits), "{text}");
        }
    }

    #[test]
    fn leading_zeros_round_trip() {
        for text in [
            "000000000000",
            "001090012345",
            "000100000007",
            "999999999999",
        ] {
            let p = pin(text);
            assert_eq!(p.to_string(), text);
            let json = serde_json::to_string(&p).expect("a PIN serialises");
            assert_eq!(json, format!("\"{text}\""));
            let back: Pin = serde_json::from_str(&json).expect("a PIN deserialises");
            assert_eq!(back, p);
        }
        assert_eq!(format!("{:?}", pin("001090012345")), "Pin(001090012345)");
    }

    #[test]
    fn wire_form_rejects_numbers_and_bad_text() {
        assert!(serde_json::from_str::<Pin>("1090012345").is_err());
        assert!(serde_json::from_str::<Pin>("\"1090012345\"").is_err());
        assert!(serde_json::from_str::<Pin>("\"00109001234x\"").is_err());
    }

    #[test]
    fn warnings_serialise_with_their_codes() {
        let sex = PinWarning::SexMismatch {
            encoded: Sex::Male,
            recorded: Sex::Female,
        };
        let prefix = PinWarning::UnknownPrefix { prefix: 999 };
        assert_eq!(sex.code(), "sex_mismatch");
        assert_eq!(prefix.code(), "unknown_prefix");
        assert_eq!(
            serde_json::to_string(&sex).expect("a warning serialises"),
            r#"{"code":"sex_mismatch","encoded":"male","recorded":"female"}"#
        );
        assert_eq!(
            serde_json::to_string(&prefix).expect("a warning serialises"),
            r#"{"code":"unknown_prefix","prefix":999}"#
        );
        for warning in [sex, prefix] {
            let json = serde_json::to_string(&warning).expect("a warning serialises");
            assert!(json.starts_with(&format!(r#"{{"code":"{}""#, warning.code())));
            let back: PinWarning = serde_json::from_str(&json).expect("a warning deserialises");
            assert_eq!(back, warning);
        }
    }
}
