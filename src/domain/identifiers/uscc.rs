//! Unified social credit codes (统一社会信用代码, GB 32100-2015).

use serde::Deserialize;

use super::{Ascii, IdentifierError};

/// The 31 characters of a USCC; a character's value is its position.
pub(super) const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weight of each of the first 17 positions, 3^i mod 31.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A unified social credit code (GB 32100-2015): 18 characters over
/// `0123456789ABCDEFGHJKLMNPQRTUWXY` whose last is the check character
/// 31 − (Σ vᵢwᵢ mod 31), with 31 written as `0`.
///
/// Only uppercase is accepted: the standard defines uppercase letters, and accepting lowercase
/// would give one organisation two spellings (and two keys in every index). Callers that take
/// human input may uppercase it first, knowingly. The registration-authority and
/// organisation-type characters (positions 1–2) and the division code (3–8) are not checked
/// against their code lists, which change over time; the check character catches typing errors.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct Uscc(Ascii<18>);

string_identifier!(Uscc);

impl Uscc {
    /// Computes the check character for the first 17 characters of a USCC.
    pub fn check_char(first17: &str) -> Result<char, IdentifierError> {
        let found = first17.chars().count();
        if found != 17 {
            return Err(IdentifierError::UsccLength {
                expected: 17,
                found,
            });
        }
        weighted_check(first17)
    }

    /// Builds a USCC from its first 17 characters by appending the check character.
    pub fn with_check(first17: &str) -> Result<Self, IdentifierError> {
        let check = Self::check_char(first17)?;
        Self::parse_str(&format!("{first17}{check}"))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Wraps a string the caller has already checked (the head of a parsed type code).
    pub(super) fn from_checked(s: Ascii<18>) -> Self {
        Self(s)
    }

    fn parse_str(s: &str) -> Result<Self, IdentifierError> {
        validate(s)?;
        // `validate` proved 18 ASCII characters.
        Ascii::new(s).map(Self).ok_or(IdentifierError::UsccLength {
            expected: 18,
            found: s.chars().count(),
        })
    }
}

/// Checks that `s` is a USCC (length, charset, check character) without building one: for
/// callers that hold it inside a longer identifier.
pub(super) fn validate(s: &str) -> Result<(), IdentifierError> {
    let bytes = s.as_bytes();
    // Every valid character is one ASCII byte; count characters only to report an error.
    if bytes.len() != 18 || !s.is_ascii() {
        let found = s.chars().count();
        if found != 18 {
            return Err(IdentifierError::UsccLength {
                expected: 18,
                found,
            });
        }
        return Err(first_outside(s));
    }
    let expected = weighted_check(s)?;
    let found = char::from(bytes[17]);
    if value(bytes[17]).is_none() {
        return Err(IdentifierError::UsccCharset {
            position: 18,
            ch: found,
        });
    }
    if expected != found {
        return Err(IdentifierError::UsccCheck { expected, found });
    }
    Ok(())
}

/// The check character over the first 17 bytes of `s`, or the charset error at the first
/// character of `s` outside the alphabet.
fn weighted_check(s: &str) -> Result<char, IdentifierError> {
    let mut sum = 0;
    for (&byte, weight) in s.as_bytes().iter().zip(WEIGHTS) {
        match value(byte) {
            Some(v) => sum += u32::from(v) * weight,
            None => return Err(first_outside(s)),
        }
    }
    let check = (31 - sum % 31) % 31;
    Ok(char::from(ALPHABET[check as usize]))
}

/// The charset error for the first character of `s` outside the alphabet.
fn first_outside(s: &str) -> IdentifierError {
    s.chars()
        .enumerate()
        .find(|&(_, ch)| !u8::try_from(ch).is_ok_and(|b| value(b).is_some()))
        .map_or(
            IdentifierError::UsccLength {
                expected: 18,
                found: s.chars().count(),
            },
            |(i, ch)| IdentifierError::UsccCharset {
                position: i + 1,
                ch,
            },
        )
}

/// Each byte's value in the alphabet (its position), or `NONE`.
const VALUES: [u8; 256] = {
    let mut table = [NONE; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};
const NONE: u8 = u8::MAX;

/// The value of a USCC byte, if it is one of the alphabet.
fn value(byte: u8) -> Option<u8> {
    match VALUES[usize::from(byte)] {
        NONE => None,
        v => Some(v),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Any 17 characters of the alphabet, made valid by their check character.
    pub(crate) fn valid_uscc() -> impl Strategy<Value = Uscc> {
        proptest::collection::vec(proptest::sample::select(ALPHABET.to_vec()), 17).prop_map(
            |bytes| {
                let first17 = String::from_utf8(bytes).expect("alphabet is ASCII");
                Uscc::with_check(&first17).expect("17 alphabet characters")
            },
        )
    }

    #[test]
    fn accepts_a_real_code_and_serialises_as_a_string() {
        let uscc: Uscc = "91110000101623741K".parse().expect("real USCC");
        assert_eq!(
            serde_json::to_string(&uscc).expect("serialise"),
            "\"91110000101623741K\""
        );
        let back: Uscc = serde_json::from_str("\"91110000101623741K\"").expect("deserialise");
        assert_eq!(back, uscc);
        assert!(serde_json::from_str::<Uscc>("\"91110000101623741A\"").is_err());
    }

    #[test]
    fn check_char_31_is_written_zero() {
        // Σ = 0 gives 31 − 0 = 31, which the standard writes as '0'.
        assert_eq!(Uscc::check_char("00000000000000000"), Ok('0'));
        assert!("000000000000000000".parse::<Uscc>().is_ok());
    }

    #[test]
    fn refusals_carry_their_codes() {
        let cases = [
            ("91110000101623741", "uscc_length"),
            ("91110000101623741KK", "uscc_length"),
            ("91110000101623741k", "uscc_charset"),
            ("9111000010162374IK", "uscc_charset"),
            ("91110000101623741Ｋ", "uscc_charset"),
            ("91110000101623741J", "uscc_check"),
        ];
        for (input, code) in cases {
            let err = input.parse::<Uscc>().expect_err(input);
            assert_eq!(err.code(), code, "{input}: {err}");
        }
        assert_eq!(
            "91110000101623741J".parse::<Uscc>(),
            Err(IdentifierError::UsccCheck {
                expected: 'K',
                found: 'J'
            })
        );
    }

    proptest! {
        #[test]
        fn built_codes_parse_back(uscc in valid_uscc()) {
            let parsed: Uscc = uscc.as_str().parse().expect("built code is valid");
            prop_assert_eq!(parsed, uscc);
        }

        /// GB 32100 detects every single substitution: 31 is prime and no weight is 0 mod 31,
        /// so changing one value changes the sum mod 31. Tried exhaustively per code.
        #[test]
        fn every_single_substitution_is_refused(uscc in valid_uscc()) {
            let bytes = uscc.as_str().as_bytes();
            for position in 0..18 {
                for &other in ALPHABET.iter().filter(|&&a| a != bytes[position]) {
                    let mut mutated = bytes.to_vec();
                    mutated[position] = other;
                    let mutated = String::from_utf8(mutated).expect("ASCII");
                    let err = mutated.parse::<Uscc>().expect_err("substitution detected");
                    prop_assert_eq!(err.code(), "uscc_check");
                }
            }
        }
    }
}
