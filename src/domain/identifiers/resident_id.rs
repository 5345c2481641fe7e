//! Resident identity card numbers (公民身份号码, GB 11643-1999).

use std::fmt;

use serde::Deserialize;

use super::IdentifierError;

/// Weight of each of the first 17 digits, 2^(17−i) mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character indexed by Σ aᵢwᵢ mod 11.
const CHECK: &[u8; 11] = b"10X98765432";
/// Earliest birth year accepted; the 1999 numbering was never given to anyone born earlier.
const MIN_BIRTH_YEAR: u32 = 1800;

/// A resident ID number (GB 11643-1999): a 6-digit division code, an 8-digit birth date
/// `YYYYMMDD` (a real calendar date, year 1800 or later), a 3-digit sequence and a check
/// character `10X98765432`[Σ aᵢwᵢ mod 11]. Only an uppercase `X` is accepted.
///
/// `Debug` masks the birth date and sequence, so the number does not end up in logs whole;
/// `Display` and serde give the full number.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct ResidentId(String);

string_identifier!(ResidentId);

impl ResidentId {
    /// Computes the check character for the first 17 digits of a resident ID number.
    pub fn check_char(first17: &str) -> Result<char, IdentifierError> {
        let found = first17.chars().count();
        if found != 17 {
            return Err(IdentifierError::RidLength {
                expected: 17,
                found,
            });
        }
        let mut sum = 0;
        for (i, (ch, weight)) in first17.chars().zip(WEIGHTS).enumerate() {
            let digit = ch.to_digit(10).ok_or_else(|| IdentifierError::RidCharset {
                position: i + 1,
                ch,
            })?;
            sum += digit * weight;
        }
        Ok(char::from(CHECK[(sum % 11) as usize]))
    }

    /// Builds a resident ID number from its first 17 digits by appending the check character.
    pub fn with_check(first17: &str) -> Result<Self, IdentifierError> {
        let check = Self::check_char(first17)?;
        Self::parse_str(&format!("{first17}{check}"))
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date as (year, month, day).
    pub fn birth_date(&self) -> (u16, u8, u8) {
        let digits = |range: std::ops::Range<usize>| {
            self.0.as_bytes()[range]
                .iter()
                .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'))
        };
        // Parsing proved positions 7-14 are digits forming a real date, so month and day fit u8.
        (digits(6..10), digits(10..12) as u8, digits(12..14) as u8)
    }

    fn parse_str(s: &str) -> Result<Self, IdentifierError> {
        let found = s.chars().count();
        if found != 18 {
            return Err(IdentifierError::RidLength {
                expected: 18,
                found,
            });
        }
        for (i, ch) in s.chars().enumerate() {
            if !(ch.is_ascii_digit() || (i == 17 && ch == 'X')) {
                return Err(IdentifierError::RidCharset {
                    position: i + 1,
                    ch,
                });
            }
        }
        let date = &s[6..14];
        if !is_real_date(date) {
            return Err(IdentifierError::RidBirthdate {
                date: date.to_owned(),
            });
        }
        let expected = Self::check_char(&s[..17])?;
        let found = char::from(s.as_bytes()[17]);
        if expected != found {
            return Err(IdentifierError::RidCheck { expected, found });
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The string is 18 ASCII characters (parsing proved it).
        write!(f, "ResidentId({}********{})", &self.0[..6], &self.0[14..])
    }
}

/// Whether eight ASCII digits `YYYYMMDD` name a real date in or after [`MIN_BIRTH_YEAR`].
fn is_real_date(yyyymmdd: &str) -> bool {
    let Ok(n) = yyyymmdd.parse::<u32>() else {
        return false;
    };
    let (year, month, day) = (n / 10_000, n / 100 % 100, n % 100);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= MIN_BIRTH_YEAR && (1..=days_in_month).contains(&day)
}

#[cfg(test)]
pub(super) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A valid resident ID number with a random division code, date and sequence.
    pub(crate) fn valid_resident_id() -> impl Strategy<Value = ResidentId> {
        (
            110_000u32..=659_999,
            1900u32..=2025,
            1u32..=12,
            1u32..=28,
            0u32..=999,
        )
            .prop_map(|(division, year, month, day, sequence)| {
                let first17 = format!("{division:06}{year:04}{month:02}{day:02}{sequence:03}");
                ResidentId::with_check(&first17).expect("digits with a real date")
            })
    }

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        assert!(is_real_date("20000229"));
        assert!(is_real_date("20240229"));
        assert!(!is_real_date("19000229"));
        assert!(!is_real_date("20230229"));
        assert!(!is_real_date("20230431"));
        assert!(!is_real_date("20231301"));
        assert!(!is_real_date("20230100"));
        assert!(!is_real_date("17991231"));
    }

    #[test]
    fn debug_masks_the_birth_date_and_sequence() {
        let rid: ResidentId = "11010519491231002X".parse().expect("vector");
        assert_eq!(format!("{rid:?}"), "ResidentId(110105********002X)");
        assert_eq!(rid.to_string(), "11010519491231002X");
        assert_eq!(rid.birth_date(), (1949, 12, 31));
    }

    #[test]
    fn refusals_carry_their_codes() {
        let cases = [
            ("11010519491231002", "rid_length"),
            ("11010519491231002x", "rid_charset"),
            ("1101051949123100X2", "rid_charset"),
            ("A1010519491231002X", "rid_charset"),
            ("110105194902300021", "rid_birthdate"),
            ("110105194913010021", "rid_birthdate"),
            ("110105194912310021", "rid_check"),
        ];
        for (input, code) in cases {
            let err = input.parse::<ResidentId>().expect_err(input);
            assert_eq!(err.code(), code, "{input}: {err}");
        }
    }

    proptest! {
        #[test]
        fn built_numbers_parse_back(rid in valid_resident_id()) {
            let parsed: ResidentId = rid.as_str().parse().expect("built number is valid");
            prop_assert_eq!(parsed, rid);
        }

        /// MOD 11-2 detects every single substitution: 11 is prime and no weight is 0 mod 11.
        /// A change inside the birth date may be caught as `rid_birthdate` first.
        #[test]
        fn every_single_substitution_is_refused(rid in valid_resident_id()) {
            let bytes = rid.as_str().as_bytes();
            for position in 0..18 {
                let allowed: &[u8] = if position == 17 { b"0123456789X" } else { b"0123456789" };
                for &other in allowed.iter().filter(|&&a| a != bytes[position]) {
                    let mut mutated = bytes.to_vec();
                    mutated[position] = other;
                    let mutated = String::from_utf8(mutated).expect("ASCII");
                    let err = mutated.parse::<ResidentId>().expect_err("substitution detected");
                    prop_assert!(["rid_check", "rid_birthdate"].contains(&err.code()));
                }
            }
        }
    }
}
