//! Licence-type codes (证照类型代码, GB/T 36902).

use serde::Deserialize;

use super::{uscc, Ascii, IdentifierError, Uscc};

/// A licence-type code (GB/T 36902): the defining authority's USCC (18 characters, valid check
/// character) followed by a 3-digit sequence 001–999 the authority assigns to its types, e.g.
/// `11100000000013338W032`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct TypeCode(Ascii<21>);

string_identifier!(TypeCode);

impl TypeCode {
    /// Builds the code of the `sequence`-th type (1–999) defined by `authority`.
    pub fn new(authority: &Uscc, sequence: u16) -> Result<Self, IdentifierError> {
        if !(1..=999).contains(&sequence) {
            return Err(IdentifierError::TypeCodeSequence {
                found: sequence.to_string(),
            });
        }
        Self::parse_str(&format!("{authority}{sequence:03}"))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The defining authority's USCC (the first 18 characters).
    pub fn authority(&self) -> Uscc {
        // Parsing proved the first 18 characters are a valid USCC.
        let mut head = [0u8; 18];
        head.copy_from_slice(&self.0 .0[..18]);
        Uscc::from_checked(Ascii(head))
    }

    /// The sequence the authority gave this type, 1–999.
    pub fn sequence(&self) -> u16 {
        // Parsing proved the last three characters are ASCII digits.
        self.0 .0[18..]
            .iter()
            .fold(0, |n, b| n * 10 + u16::from(b - b'0'))
    }

    fn parse_str(s: &str) -> Result<Self, IdentifierError> {
        let ascii = s.len() == 21 && s.is_ascii();
        if !ascii {
            let found = s.chars().count();
            if found != 21 {
                return Err(IdentifierError::TypeCodeLength { found });
            }
        }
        // 21 characters of which the first 18 must be ASCII: find the split as a char index.
        let split = if ascii {
            18
        } else {
            s.char_indices().nth(18).map_or(s.len(), |(i, _)| i)
        };
        let (authority, sequence) = s.split_at(split);
        uscc::validate(authority).map_err(|e| IdentifierError::TypeCodeAuthority {
            source: Box::new(e),
        })?;
        let digits = sequence.len() == 3 && sequence.bytes().all(|b| b.is_ascii_digit());
        if !digits || sequence == "000" {
            return Err(IdentifierError::TypeCodeSequence {
                found: sequence.to_owned(),
            });
        }
        // 18 valid USCC characters and three digits: 21 ASCII bytes.
        Ascii::new(s)
            .map(Self)
            .ok_or(IdentifierError::TypeCodeLength { found: s.len() })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use proptest::prelude::*;

    use super::super::uscc::tests::valid_uscc;
    use super::*;

    /// A valid type code with a random authority and sequence.
    pub(crate) fn valid_type_code() -> impl Strategy<Value = TypeCode> {
        (valid_uscc(), 1u16..=999)
            .prop_map(|(authority, seq)| TypeCode::new(&authority, seq).expect("sequence 1-999"))
    }

    #[test]
    fn refusals_carry_their_codes() {
        let cases = [
            ("11100000000013338W03", "type_code_length"),
            ("11100000000013338W0321", "type_code_length"),
            ("11100000000013338X032", "type_code_authority"),
            ("11100000000013338W000", "type_code_sequence"),
            ("11100000000013338W0A2", "type_code_sequence"),
            ("11100000000013338W03é", "type_code_sequence"),
            ("1110000000001333é8W03", "type_code_authority"),
        ];
        for (input, code) in cases {
            let err = input.parse::<TypeCode>().expect_err(input);
            assert_eq!(err.code(), code, "{input}: {err}");
        }
        let authority: Uscc = "11100000000013338W".parse().expect("vector");
        assert_eq!(
            TypeCode::new(&authority, 0).map_err(|e| e.code()),
            Err("type_code_sequence")
        );
        assert_eq!(
            TypeCode::new(&authority, 1000).map_err(|e| e.code()),
            Err("type_code_sequence")
        );
    }

    proptest! {
        #[test]
        fn built_codes_parse_back_with_their_parts(authority in valid_uscc(), seq in 1u16..=999) {
            let code = TypeCode::new(&authority, seq).expect("sequence 1-999");
            let parsed: TypeCode = code.as_str().parse().expect("built code is valid");
            prop_assert_eq!(parsed.authority(), authority);
            prop_assert_eq!(parsed.sequence(), seq);
        }
    }
}
