//! Service matters (事项): what a citizen or company applies for, which agency handles it, and
//! the licence types that stand in for its paper materials.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::identifiers::{TypeCode, Uscc};

/// The longest matter code accepted.
pub const MAX_CODE_LEN: usize = 12;

/// One licence type a matter asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    pub type_code: TypeCode,
    /// Required, or optional (an optional one never blocks the application).
    pub required: bool,
    /// The schema versions accepted; empty accepts every version.
    #[serde(default)]
    pub accepted_versions: Vec<u32>,
}

impl Requirement {
    pub fn accepts_version(&self, version: u32) -> bool {
        self.accepted_versions.is_empty() || self.accepted_versions.contains(&version)
    }
}

/// A service matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Matter {
    pub code: String,
    pub name: String,
    /// The USCC of the handling agency.
    pub agency: Uscc,
    pub requirements: Vec<Requirement>,
    pub created_at: DateTime<Utc>,
}

/// Why a matter definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatterError {
    #[error("code must be 1 to {MAX_CODE_LEN} characters of A-Z, a-z, 0-9, '-' or '_'")]
    Code,
    #[error("a matter needs at least one licence type")]
    NoRequirements,
    #[error("licence type {0} is listed twice")]
    DuplicateType(String),
}

impl MatterError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Code => "invalid_matter_code",
            Self::NoRequirements => "no_requirements",
            Self::DuplicateType(_) => "duplicate_requirement",
        }
    }
}

/// Checks a matter code.
pub fn check_code(code: &str) -> Result<(), MatterError> {
    let ok = !code.is_empty()
        && code.chars().count() <= MAX_CODE_LEN
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(MatterError::Code)
    }
}

/// Checks the requirement list: not empty, each type once.
pub fn check_requirements(requirements: &[Requirement]) -> Result<(), MatterError> {
    if requirements.is_empty() {
        return Err(MatterError::NoRequirements);
    }
    for (i, r) in requirements.iter().enumerate() {
        if requirements[..i].iter().any(|o| o.type_code == r.type_code) {
            return Err(MatterError::DuplicateType(r.type_code.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert!(check_code("BIZ-0001").is_ok());
        assert!(check_code("ABCDEFGHIJKL").is_ok());
        for bad in ["", "ABCDEFGHIJKLM", "A B", "事项"] {
            assert_eq!(check_code(bad), Err(MatterError::Code), "{bad}");
        }
    }

    #[test]
    fn requirements_are_unique_and_present() {
        let r = Requirement {
            type_code: "11100000000014062K001".parse().expect("code"),
            required: true,
            accepted_versions: vec![],
        };
        assert!(r.accepts_version(7));
        assert_eq!(check_requirements(&[]), Err(MatterError::NoRequirements));
        assert!(check_requirements(std::slice::from_ref(&r)).is_ok());
        assert!(matches!(
            check_requirements(&[r.clone(), r]),
            Err(MatterError::DuplicateType(_))
        ));
    }
}
