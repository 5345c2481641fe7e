//! Consents: a holder lets one agency read given licences (or every licence of given types) for
//! a purpose until a time. Withdrawal takes effect at once.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::identifiers::{HolderId, LicenceId, TypeCode, Uscc};

/// A consent as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Consent {
    pub id: String,
    pub holder: HolderId,
    pub agency: Uscc,
    /// Licences named by the holder: every version of each is covered.
    pub licences: Vec<LicenceId>,
    pub type_codes: Vec<TypeCode>,
    pub purpose: String,
    pub valid_until: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// Where a consent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentState {
    Active,
    Withdrawn,
    Expired,
}

impl Consent {
    pub fn state(&self, now: DateTime<Utc>) -> ConsentState {
        if self.withdrawn_at.is_some_and(|w| w <= now) {
            ConsentState::Withdrawn
        } else if now >= self.valid_until {
            ConsentState::Expired
        } else {
            ConsentState::Active
        }
    }

    /// Whether, at `now`, this consent lets `agency` read the licence `id`.
    pub fn permits(&self, agency: &Uscc, id: &LicenceId, now: DateTime<Utc>) -> bool {
        &self.agency == agency
            && self.state(now) == ConsentState::Active
            && (self.type_codes.contains(id.type_code())
                || self.licences.iter().any(|l| l.base() == id.base()))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn consent_permits_while_active_only() {
        let now = Utc::now();
        let agency = Uscc::with_check("11220000013544541").expect("uscc");
        let other = Uscc::with_check("91220101MA0000001").expect("uscc");
        let issuer = Uscc::with_check("91220101MA0000002").expect("uscc");
        let licence = LicenceId::build(
            &"11100000000014062K001".parse().expect("type"),
            &issuer,
            "A1",
            1,
        )
        .expect("id");
        let mut consent = Consent {
            id: "c".into(),
            holder: "urn:cn:rid:11010519491231002X".parse().expect("holder"),
            agency: agency.clone(),
            licences: vec![licence.clone()],
            type_codes: vec![],
            purpose: "p".into(),
            valid_until: now + Duration::days(1),
            created_at: now,
            withdrawn_at: None,
        };
        let v2 = licence.with_version(2).expect("v2");
        assert!(consent.permits(&agency, &v2, now));
        assert!(!consent.permits(&other, &licence, now));
        assert!(!consent.permits(&agency, &licence, now + Duration::days(2)));
        consent.withdrawn_at = Some(now);
        assert_eq!(consent.state(now), ConsentState::Withdrawn);
        assert!(!consent.permits(&agency, &licence, now));
    }
}
