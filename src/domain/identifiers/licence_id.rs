//! Licence identifiers (电子证照标识, GB/T 36904) and their `urn:elicence:` form.

use serde::Deserialize;

use super::{IdentifierError, TypeCode, Uscc};

/// The OID arc every licence identifier starts with.
const ROOT: &str = "1.2.156.3005.2.";
/// Prefix of a licence identifier used as a VC `id`.
const URN_PREFIX: &str = "urn:elicence:";
/// Longest serial accepted. GB/T 36904 leaves the serial to the issuer; 32 characters hold a
/// UUID without dashes or a date plus a long counter, and keep the identifier (≤ 91 characters)
/// small enough for QR codes.
const MAX_SERIAL: usize = 32;
/// Where the serial starts: after the root, the type code and the issuer, each with its dot.
const SERIAL_START: usize = ROOT.len() + 21 + 1 + 18 + 1;

/// A licence identifier (GB/T 36904):
/// `1.2.156.3005.2.<type code 21>.<issuer USCC 18>.<serial>.<version 3>.<check>`.
///
/// The serial is 1–32 characters of `0-9A-Z`, the version three digits `001`–`999`, and the
/// check character ISO/IEC 7064 MOD 37,36 over type code + issuer + serial + version joined
/// without dots. All versions of one licence share [`base`](Self::base).
///
/// Equality, order and hash are the identifier text's: the segments are read from it.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct LicenceId {
    id: String,
    type_code: TypeCode,
    issuer: Uscc,
    version: u16,
    check: char,
}

string_identifier!(LicenceId);

impl PartialEq for LicenceId {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for LicenceId {}

impl std::hash::Hash for LicenceId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl PartialOrd for LicenceId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for LicenceId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(&other.id)
    }
}

impl LicenceId {
    /// Builds the identifier of `version` (1–999) of the licence `serial` of type `type_code`
    /// issued by `issuer`, computing its check character.
    pub fn build(
        type_code: &TypeCode,
        issuer: &Uscc,
        serial: &str,
        version: u16,
    ) -> Result<Self, IdentifierError> {
        check_serial(serial)?;
        if !(1..=999).contains(&version) {
            return Err(IdentifierError::LicenceIdVersion {
                found: version.to_string(),
            });
        }
        let digits = three_digits(version);
        // Invariant: three ASCII digits.
        let version_text = std::str::from_utf8(&digits).unwrap_or("000");
        Ok(Self::assemble(
            type_code.clone(),
            issuer.clone(),
            serial,
            version,
            version_text,
        ))
    }

    /// The identifier of validated segments, its check character computed.
    fn assemble(
        type_code: TypeCode,
        issuer: Uscc,
        serial: &str,
        version: u16,
        version_text: &str,
    ) -> Self {
        let check = mod37_36(&[type_code.as_str(), issuer.as_str(), serial, version_text]);
        let mut id = String::with_capacity(
            ROOT.len() + type_code.as_str().len() + issuer.as_str().len() + serial.len() + 7,
        );
        for part in [
            ROOT,
            type_code.as_str(),
            ".",
            issuer.as_str(),
            ".",
            serial,
            ".",
        ] {
            id.push_str(part);
        }
        id.push_str(version_text);
        id.push('.');
        id.push(check);
        Self {
            id,
            type_code,
            issuer,
            version,
            check,
        }
    }

    /// Parses the `urn:elicence:<identifier>` form used as a VC `id`.
    pub fn from_urn(urn: &str) -> Result<Self, IdentifierError> {
        let id = urn
            .strip_prefix(URN_PREFIX)
            .ok_or(IdentifierError::LicenceUrn)?;
        Self::parse_str(id)
    }

    /// A licence as requests name it: its `urn:elicence:` URN or its bare identifier. The one
    /// parser of licence references (paths, bodies, forms).
    pub fn parse_reference(text: &str) -> Result<Self, IdentifierError> {
        if text.starts_with(URN_PREFIX) {
            Self::from_urn(text)
        } else {
            Self::parse_str(text)
        }
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The `urn:elicence:<identifier>` form used as a VC `id`.
    pub fn urn(&self) -> String {
        format!("{URN_PREFIX}{}", self.id)
    }

    /// The licence type's code.
    pub fn type_code(&self) -> &TypeCode {
        &self.type_code
    }

    /// The issuer's USCC.
    pub fn issuer(&self) -> &Uscc {
        &self.issuer
    }

    /// The issuer-assigned serial.
    pub fn serial(&self) -> &str {
        // `<root><type code 21>.<issuer 18>.<serial>.<version 3>.<check>`, all ASCII.
        &self.id[SERIAL_START..self.id.len() - 6]
    }

    /// The version, 1–999.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The MOD 37,36 check character.
    pub fn check(&self) -> char {
        self.check
    }

    /// The identifier of `version` of the same licence (same type, issuer and serial).
    pub fn with_version(&self, version: u16) -> Result<Self, IdentifierError> {
        Self::build(&self.type_code, &self.issuer, self.serial(), version)
    }

    /// The identifier without version and check character,
    /// `1.2.156.3005.2.<type>.<issuer>.<serial>`: the licence across all its versions.
    pub fn base(&self) -> String {
        self.base_str().to_owned()
    }

    /// [`base`](Self::base) without allocating: the identifier up to the dot before its
    /// version.
    pub fn base_str(&self) -> &str {
        // The identifier ends with `.<3-digit version>.<check>`, six ASCII bytes.
        &self.id[..self.id.len() - 6]
    }

    fn parse_str(s: &str) -> Result<Self, IdentifierError> {
        let rest = s
            .strip_prefix(ROOT)
            .ok_or(IdentifierError::LicenceIdFormat {
                reason: "it must start with the root 1.2.156.3005.2",
            })?;
        let mut segments = rest.split('.');
        let mut next = || segments.next();
        let (Some(type_code), Some(issuer), Some(serial), Some(version), Some(check), None) =
            (next(), next(), next(), next(), next(), next())
        else {
            return Err(IdentifierError::LicenceIdFormat {
                reason: "after the root come exactly five segments: type code, issuer, serial, \
                         version, check character",
            });
        };
        let type_code: TypeCode =
            type_code
                .parse()
                .map_err(|e| IdentifierError::LicenceIdTypeCode {
                    source: Box::new(e),
                })?;
        let issuer: Uscc = issuer
            .parse()
            .map_err(|e| IdentifierError::LicenceIdIssuer {
                source: Box::new(e),
            })?;
        check_serial(serial)?;
        let number = parse_version(version)?;
        let built = Self::assemble(type_code, issuer, serial, number, version);
        let mut check_chars = check.chars();
        let found = match (check_chars.next(), check_chars.next()) {
            (Some(c), None) if value(c).is_some() => c,
            _ => {
                return Err(IdentifierError::LicenceIdFormat {
                    reason: "the check segment is one character of 0-9 and A-Z",
                })
            }
        };
        if found != built.check {
            return Err(IdentifierError::LicenceIdCheck {
                expected: built.check,
                found,
            });
        }
        Ok(built)
    }
}

/// `version` (0–999) as three ASCII digits.
fn three_digits(version: u16) -> [u8; 3] {
    let digit = |d: u16| b'0' + u8::try_from(d % 10).unwrap_or(0);
    [digit(version / 100), digit(version / 10), digit(version)]
}

/// Refuses a serial that is empty, too long, or not `[0-9A-Z]`.
fn check_serial(serial: &str) -> Result<(), IdentifierError> {
    let ok = (1..=MAX_SERIAL).contains(&serial.len())
        && serial
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    if ok {
        Ok(())
    } else {
        Err(IdentifierError::LicenceIdSerial {
            found: serial.to_owned(),
        })
    }
}

/// Parses a version segment, three digits `001`–`999`.
fn parse_version(version: &str) -> Result<u16, IdentifierError> {
    let err = || IdentifierError::LicenceIdVersion {
        found: version.to_owned(),
    };
    if version.len() != 3 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    match version.parse::<u16>() {
        Ok(v) if v >= 1 => Ok(v),
        _ => Err(err()),
    }
}

/// The value of a MOD 37,36 character: `0-9` → 0–9, `A-Z` → 10–35.
fn value(c: char) -> Option<u32> {
    match c {
        '0'..='9' | 'A'..='Z' => c.to_digit(36),
        _ => None,
    }
}

/// ISO/IEC 7064 MOD 37,36 check character over the concatenation of `parts`, all of whose
/// characters the caller has checked are `0-9A-Z`.
fn mod37_36(parts: &[&str]) -> char {
    let mut p = 36u8;
    for &b in parts.iter().flat_map(|part| part.as_bytes()) {
        // Callers pass validated segments; an unexpected character would only weaken the check,
        // so it counts as 0 rather than panicking.
        let v = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'Z' => b - b'A' + 10,
            _ => 0,
        };
        p = STEP[usize::from(p)][usize::from(v)];
    }
    let check = (37 - u32::from(p)) % 36;
    // `check` < 36, so it is a base-36 digit.
    char::from_digit(check, 36).map_or('0', |c| c.to_ascii_uppercase())
}

/// One MOD 37,36 step, tabulated: from `p` (1–36) and a character's value `v` (0–35),
/// s = (p + v) mod 36 with 0 read as 36, then 2s mod 37. A lookup per character instead of two
/// divisions in a chain (a licence identifier has ~45 characters to check).
const STEP: [[u8; 36]; 37] = {
    let mut table = [[0u8; 36]; 37];
    let mut p = 1;
    while p <= 36 {
        let mut v = 0;
        while v < 36 {
            let s = match (p + v) % 36 {
                0 => 36,
                s => s,
            };
            // 2s ≤ 72, so the remainder fits a byte.
            table[p][v] = ((2 * s) % 37) as u8;
            v += 1;
        }
        p += 1;
    }
    table
};

#[cfg(test)]
#[path = "licence_id/tests.rs"]
mod tests;
