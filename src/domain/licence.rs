//! Licences and their status: the states a licence can be in and the issuer actions that move
//! it between them. Expiry is computed from `validUntil` and supersession by a newer version;
//! neither is a stored state.

use serde::Serialize;

use crate::domain::identifiers::{DivisionCode, HolderId, LicenceId};

/// The issuer-controlled state of a licence (all its versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LicenceState {
    Active,
    Suspended,
    Revoked,
}

impl LicenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }

    /// The state `action` leads to, or `None` when it is not allowed from this one:
    /// active → suspend | revoke; suspended → resume | revoke; revoked → nothing.
    pub fn apply(self, action: StatusAction) -> Option<Self> {
        match (self, action) {
            (Self::Active, StatusAction::Suspend) => Some(Self::Suspended),
            (Self::Suspended, StatusAction::Resume) => Some(Self::Active),
            (Self::Active | Self::Suspended, StatusAction::Revoke) => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// What a status change item asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusAction {
    Suspend,
    Resume,
    Revoke,
}

impl StatusAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suspend => "suspend",
            Self::Resume => "resume",
            Self::Revoke => "revoke",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "suspend" => Some(Self::Suspend),
            "resume" => Some(Self::Resume),
            "revoke" => Some(Self::Revoke),
            _ => None,
        }
    }
}

impl std::str::FromStr for StatusAction {
    type Err = String;

    /// The wire name, as the issuer command line takes it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
            .ok_or_else(|| format!("unknown action {s:?}: expected suspend, resume or revoke"))
    }
}

impl std::fmt::Display for StatusAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of one licence (all versions sharing a base), as the write path needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceChain {
    /// The identifier without version and check character.
    pub base: String,
    /// The head (newest) version.
    pub head: LicenceId,
    /// The head version's digest.
    pub head_digest: String,
    pub state: LicenceState,
    /// The digest of the latest status event, if any.
    pub last_event: Option<String>,
    /// The holder every version names (`credentialSubject.id`); it never changes.
    pub holder: HolderId,
    /// The head version's jurisdiction: where a status change must be authorised.
    pub jurisdiction: DivisionCode,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        use LicenceState::*;
        use StatusAction::*;
        assert_eq!(Active.apply(Suspend), Some(Suspended));
        assert_eq!(Active.apply(Revoke), Some(Revoked));
        assert_eq!(Active.apply(Resume), None);
        assert_eq!(Suspended.apply(Resume), Some(Active));
        assert_eq!(Suspended.apply(Revoke), Some(Revoked));
        assert_eq!(Suspended.apply(Suspend), None);
        for action in [Suspend, Resume, Revoke] {
            assert_eq!(Revoked.apply(action), None);
        }
    }
}
