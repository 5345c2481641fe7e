//! Agencies (用证部门): relying parties that verify licences, handle applications by reference
//! and read licences they are entitled to. Each holds API keys with scopes.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::identifiers::{JurisdictionScope, Uscc};

/// What an agency key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `POST /v1/verify` and the batch form, as an identified agency.
    Verify,
    /// Filing and reading applications by reference.
    Applications,
    /// Reading licences a holder consented to.
    Read,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Verify, Scope::Applications, Scope::Read];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Applications => "applications",
            Self::Read => "read",
        }
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("unknown scope {s:?}: expected verify, applications or read"))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Agency {
    pub uscc: Uscc,
    pub name: String,
    /// The administrative division (or prefix) it serves.
    pub jurisdiction: JurisdictionScope,
    /// Sorted, without duplicates.
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
}

impl Agency {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// One API key of an agency, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgencyKey {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
        assert!("admin".parse::<Scope>().is_err());
    }
}
