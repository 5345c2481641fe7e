//! Administrative division codes (行政区划代码, GB/T 2260) and the jurisdiction scopes of
//! authorisations.

use serde::Deserialize;

use super::IdentifierError;

/// A 6-digit administrative division code: province (2), prefecture (2), county (2), e.g.
/// `220000` 吉林省, `220100` 长春市, `220102` 南关区. The province part is never `00`. The code
/// is not checked against the GB/T 2260 list, which changes every year.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct DivisionCode(String);

string_identifier!(DivisionCode);

impl DivisionCode {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn parse_str(s: &str) -> Result<Self, IdentifierError> {
        if is_division_digits(s, &[6]) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdentifierError::DivisionCode {
                found: s.to_owned(),
            })
        }
    }
}

/// The area an authorisation covers: a division-code prefix of 2, 4 or 6 digits. `22` is all
/// of 吉林省, `2201` all of 长春市, `220102` only 南关区.
///
/// A 6-digit scope ending in `00` names a province or prefecture (`220000`, `220100`) and covers
/// that whole area, as the same digits do as a 2- or 4-digit prefix: trailing `00` pairs are
/// dropped before comparing. `as_str()` keeps the text as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct JurisdictionScope(String);

string_identifier!(JurisdictionScope);

impl JurisdictionScope {
    /// The scope as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The significant prefix: the text without trailing `00` pairs (never shorter than 2).
    pub fn prefix(&self) -> &str {
        let mut prefix = self.0.as_str();
        while prefix.len() > 2 && prefix.ends_with("00") {
            prefix = &prefix[..prefix.len() - 2];
        }
        prefix
    }

    /// Whether `division` lies inside this scope.
    pub fn covers(&self, division: &DivisionCode) -> bool {
        division.as_str().starts_with(self.prefix())
    }

    fn parse_str(s: &str) -> Result<Self, IdentifierError> {
        if is_division_digits(s, &[2, 4, 6]) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdentifierError::JurisdictionScope {
                found: s.to_owned(),
            })
        }
    }
}

impl From<DivisionCode> for JurisdictionScope {
    /// The scope of exactly that division (and, for a `…00` code, everything under it).
    fn from(code: DivisionCode) -> Self {
        Self(code.0)
    }
}

/// Whether `s` is ASCII digits of one of the `lengths` with a province part other than `00`.
fn is_division_digits(s: &str, lengths: &[usize]) -> bool {
    lengths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with("00")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> JurisdictionScope {
        s.parse().expect("valid scope")
    }

    fn division(s: &str) -> DivisionCode {
        s.parse().expect("valid division")
    }

    #[test]
    fn prefixes_cover_what_lies_under_them() {
        let changchun_nanguan = division("220102");
        assert!(scope("22").covers(&changchun_nanguan));
        assert!(scope("2201").covers(&changchun_nanguan));
        assert!(scope("220102").covers(&changchun_nanguan));
        assert!(scope("220000").covers(&changchun_nanguan));
        assert!(scope("220100").covers(&changchun_nanguan));
        assert!(!scope("2202").covers(&changchun_nanguan));
        assert!(!scope("33").covers(&changchun_nanguan));
        assert!(!scope("220103").covers(&changchun_nanguan));
        assert_eq!(scope("220000").prefix(), "22");
        assert_eq!(scope("220100").prefix(), "2201");
        assert_eq!(
            JurisdictionScope::from(division("220100")).as_str(),
            "220100"
        );
    }

    #[test]
    fn refusals_carry_their_codes() {
        for bad in ["2201", "2201000", "22010a", "000100", "", "２２０１００"] {
            let err = bad.parse::<DivisionCode>().expect_err(bad);
            assert_eq!(err.code(), "division_code");
        }
        for bad in ["2", "220", "22010", "00", "2201000", "a2"] {
            let err = bad.parse::<JurisdictionScope>().expect_err(bad);
            assert_eq!(err.code(), "jurisdiction_scope");
        }
        assert!(serde_json::from_str::<DivisionCode>("\"22010\"").is_err());
        assert_eq!(
            serde_json::from_str::<DivisionCode>("\"220100\"").expect("valid"),
            division("220100")
        );
    }
}
