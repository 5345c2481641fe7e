//! The one error type of the identifier parsers, with stable machine-readable codes.

/// Why a string is not a valid identifier.
///
/// Positions are 1-based character positions within the identifier (or segment) named by the
/// variant. [`code`](Self::code) gives a stable snake_case code for API problem details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// A USCC (or the 17 characters before its check character) has the wrong length.
    #[error("a unified social credit code needs {expected} characters, found {found}")]
    UsccLength {
        /// Characters required.
        expected: usize,
        /// Characters given.
        found: usize,
    },
    /// A USCC character is outside `0-9A-HJ-NPQRTUWXY` (lowercase letters are refused too).
    #[error(
        "character {ch:?} at position {position} is not allowed in a unified social credit code \
         (digits and uppercase letters except I, O, S, V, Z)"
    )]
    UsccCharset {
        /// 1-based position.
        position: usize,
        /// The offending character.
        ch: char,
    },
    /// A USCC's check character does not match its first 17 characters.
    #[error("unified social credit code check character is {found:?}, expected {expected:?}")]
    UsccCheck {
        /// Check character computed from the first 17.
        expected: char,
        /// Check character given.
        found: char,
    },
    /// A resident ID number (or its first 17 digits) has the wrong length.
    #[error("a resident ID number needs {expected} characters, found {found}")]
    RidLength {
        /// Characters required.
        expected: usize,
        /// Characters given.
        found: usize,
    },
    /// A resident ID character is not a digit (or, last, an uppercase `X`).
    #[error(
        "character {ch:?} at position {position} is not allowed in a resident ID number \
         (17 digits, then a digit or uppercase X)"
    )]
    RidCharset {
        /// 1-based position.
        position: usize,
        /// The offending character.
        ch: char,
    },
    /// Positions 7–14 of a resident ID are not a calendar date from 1800 on.
    #[error("resident ID number birth date {date} is not a real date")]
    RidBirthdate {
        /// The eight digits found.
        date: String,
    },
    /// A resident ID's check character does not match its first 17 digits.
    #[error("resident ID number check character is {found:?}, expected {expected:?}")]
    RidCheck {
        /// Check character computed from the first 17 digits.
        expected: char,
        /// Check character given.
        found: char,
    },
    /// A licence-type code is not 21 characters long.
    #[error("a licence type code needs 21 characters, found {found}")]
    TypeCodeLength {
        /// Characters given.
        found: usize,
    },
    /// The first 18 characters of a licence-type code are not a valid USCC.
    #[error("licence type code's defining authority is not a valid USCC: {source}")]
    TypeCodeAuthority {
        /// Why the USCC part was refused.
        source: Box<IdentifierError>,
    },
    /// The last 3 characters of a licence-type code are not a sequence 001–999.
    #[error("licence type code sequence {found:?} is not three digits 001-999")]
    TypeCodeSequence {
        /// The sequence given.
        found: String,
    },
    /// A licence identifier does not have the GB/T 36904 shape (root, five segments).
    #[error("not a licence identifier: {reason}")]
    LicenceIdFormat {
        /// What is wrong with the shape.
        reason: &'static str,
    },
    /// The type-code segment of a licence identifier is invalid.
    #[error("licence identifier's type code segment is invalid: {source}")]
    LicenceIdTypeCode {
        /// Why the type code was refused.
        source: Box<IdentifierError>,
    },
    /// The issuer segment of a licence identifier is not a valid USCC.
    #[error("licence identifier's issuer segment is invalid: {source}")]
    LicenceIdIssuer {
        /// Why the issuer USCC was refused.
        source: Box<IdentifierError>,
    },
    /// The serial segment is empty, longer than 32 characters, or not `[0-9A-Z]`.
    #[error("licence serial {found:?} must be 1 to 32 characters of 0-9 and A-Z")]
    LicenceIdSerial {
        /// The serial given.
        found: String,
    },
    /// The version segment is not three digits 001–999.
    #[error("licence version {found:?} is not three digits 001-999")]
    LicenceIdVersion {
        /// The version given.
        found: String,
    },
    /// The licence identifier's MOD 37,36 check character does not match.
    #[error("licence identifier check character is {found:?}, expected {expected:?}")]
    LicenceIdCheck {
        /// Check character computed from the middle segments.
        expected: char,
        /// Check character given.
        found: char,
    },
    /// A licence URN does not start with `urn:elicence:`.
    #[error("a licence URN starts with \"urn:elicence:\"")]
    LicenceUrn,
    /// A holder URN is neither `urn:cn:rid:…` nor `urn:cn:uscc:…`.
    #[error("a holder identifier is \"urn:cn:rid:<resident ID>\" or \"urn:cn:uscc:<USCC>\"")]
    HolderUrn,
    /// An administrative division code is not six digits (with a province part other than 00).
    #[error("administrative division code {found:?} is not six digits")]
    DivisionCode {
        /// The code given.
        found: String,
    },
    /// A jurisdiction scope is not 2, 4 or 6 digits (with a province part other than 00).
    #[error("jurisdiction scope {found:?} is not 2, 4 or 6 digits")]
    JurisdictionScope {
        /// The scope given.
        found: String,
    },
}

impl IdentifierError {
    /// The stable machine-readable code of this failure, e.g. `"uscc_check"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UsccLength { .. } => "uscc_length",
            Self::UsccCharset { .. } => "uscc_charset",
            Self::UsccCheck { .. } => "uscc_check",
            Self::RidLength { .. } => "rid_length",
            Self::RidCharset { .. } => "rid_charset",
            Self::RidBirthdate { .. } => "rid_birthdate",
            Self::RidCheck { .. } => "rid_check",
            Self::TypeCodeLength { .. } => "type_code_length",
            Self::TypeCodeAuthority { .. } => "type_code_authority",
            Self::TypeCodeSequence { .. } => "type_code_sequence",
            Self::LicenceIdFormat { .. } => "licence_id_format",
            Self::LicenceIdTypeCode { .. } => "licence_id_type_code",
            Self::LicenceIdIssuer { .. } => "licence_id_issuer",
            Self::LicenceIdSerial { .. } => "licence_id_serial",
            Self::LicenceIdVersion { .. } => "licence_id_version",
            Self::LicenceIdCheck { .. } => "licence_id_check",
            Self::LicenceUrn => "licence_urn",
            Self::HolderUrn => "holder_urn",
            Self::DivisionCode { .. } => "division_code",
            Self::JurisdictionScope { .. } => "jurisdiction_scope",
        }
    }

    /// The innermost cause: for a nested failure (a licence id whose issuer USCC has a bad check
    /// character) the USCC error, otherwise `self`.
    pub fn root(&self) -> &IdentifierError {
        match self {
            Self::TypeCodeAuthority { source }
            | Self::LicenceIdTypeCode { source }
            | Self::LicenceIdIssuer { source } => source.root(),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_errors_keep_their_own_code_and_expose_the_root() {
        let inner = IdentifierError::UsccCheck {
            expected: 'W',
            found: 'X',
        };
        let outer = IdentifierError::LicenceIdTypeCode {
            source: Box::new(IdentifierError::TypeCodeAuthority {
                source: Box::new(inner.clone()),
            }),
        };
        assert_eq!(outer.code(), "licence_id_type_code");
        assert_eq!(outer.root(), &inner);
        assert!(std::error::Error::source(&outer).is_some());
        assert!(outer.to_string().contains("expected 'W'"));
    }
}
