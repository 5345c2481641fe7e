//! Authorisations: an issuer may issue given licence types in a jurisdiction during
//! [from, until), as granted by a competent authority. Withdrawn or ended, never deleted: a
//! licence or status change is judged by the authorisation in force when the issuer signed it
//! (its proof's `created`); `validFrom` may predate that.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::identifiers::{DivisionCode, JurisdictionScope, TypeCode, Uscc};

/// One grant.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorisation {
    /// Registry-assigned id (a UUID).
    pub id: String,
    pub issuer: Uscc,
    pub type_codes: Vec<TypeCode>,
    pub jurisdiction: JurisdictionScope,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    /// The granting authority's USCC.
    pub granted_by: Uscc,
    pub granted_at: DateTime<Utc>,
    /// From this time on the authorisation no longer covers anything.
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawal_reason: Option<String>,
}

/// Where a grant stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthorisationStatus {
    /// Granted, but its window has not opened yet.
    Pending,
    Active,
    /// Its `validUntil` has passed.
    Expired,
    /// Withdrawn by the operator (at or before the time asked about).
    Withdrawn,
}

impl AuthorisationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
        }
    }
}

impl Authorisation {
    /// Where the grant stands at `now`.
    pub fn status_at(&self, now: DateTime<Utc>) -> AuthorisationStatus {
        if self.withdrawn_at.is_some_and(|w| w <= now) {
            AuthorisationStatus::Withdrawn
        } else if self.valid_until.is_some_and(|u| u <= now) {
            AuthorisationStatus::Expired
        } else if now < self.valid_from {
            AuthorisationStatus::Pending
        } else {
            AuthorisationStatus::Active
        }
    }

    /// The end of the window in force: the earlier of `validUntil` and the withdrawal.
    pub fn ends_at(&self) -> Option<DateTime<Utc>> {
        match (self.valid_until, self.withdrawn_at) {
            (Some(u), Some(w)) => Some(u.min(w)),
            (u, w) => u.or(w),
        }
    }

    /// Whether this grant lets `issuer` issue `type_code` in `division` at time `at`.
    pub fn covers(
        &self,
        issuer: &Uscc,
        type_code: &TypeCode,
        division: &DivisionCode,
        at: DateTime<Utc>,
    ) -> bool {
        self.covers_unless_withdrawn(issuer, type_code, division, at)
            && self.withdrawn_at.is_none_or(|w| at < w)
    }

    /// [`covers`](Self::covers), as if the grant had never been withdrawn.
    fn covers_unless_withdrawn(
        &self,
        issuer: &Uscc,
        type_code: &TypeCode,
        division: &DivisionCode,
        at: DateTime<Utc>,
    ) -> bool {
        &self.issuer == issuer
            && self.type_codes.contains(type_code)
            && self.jurisdiction.covers(division)
            && self.valid_from <= at
            && self.valid_until.is_none_or(|u| at < u)
    }
}

/// The first grant among `grants` that would have covered the licence at `at` had it not been
/// withdrawn by then: why a licence is no longer authorised (`authorisation_withdrawn`).
pub fn withdrawn_covering<'a>(
    grants: &'a [Authorisation],
    issuer: &Uscc,
    type_code: &TypeCode,
    division: &DivisionCode,
    at: DateTime<Utc>,
) -> Option<&'a Authorisation> {
    grants.iter().find(|g| {
        g.covers_unless_withdrawn(issuer, type_code, division, at)
            && g.withdrawn_at.is_some_and(|w| w <= at)
    })
}

/// The first grant among `grants` that covers the licence, if any.
pub fn covering<'a>(
    grants: &'a [Authorisation],
    issuer: &Uscc,
    type_code: &TypeCode,
    division: &DivisionCode,
    at: DateTime<Utc>,
) -> Option<&'a Authorisation> {
    grants
        .iter()
        .find(|g| g.covers(issuer, type_code, division, at))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0)
            .single()
            .expect("valid date")
    }

    fn grant() -> Authorisation {
        Authorisation {
            id: "a".into(),
            issuer: "11220000013544541J".parse().expect("vector"),
            type_codes: vec!["11100000000013338W032".parse().expect("vector")],
            jurisdiction: "2201".parse().expect("scope"),
            valid_from: at(2024),
            valid_until: Some(at(2030)),
            granted_by: "11100000000013338W".parse().expect("vector"),
            granted_at: at(2024),
            withdrawn_at: None,
            withdrawal_reason: None,
        }
    }

    #[test]
    fn covers_type_place_and_time() {
        let mut g = grant();
        let issuer = g.issuer.clone();
        let code = g.type_codes[0].clone();
        let inside: DivisionCode = "220102".parse().expect("division");
        let outside: DivisionCode = "220203".parse().expect("division");
        assert!(g.covers(&issuer, &code, &inside, at(2025)));
        assert!(!g.covers(&issuer, &code, &outside, at(2025)));
        assert!(!g.covers(&issuer, &code, &inside, at(2023)));
        assert!(!g.covers(&issuer, &code, &inside, at(2030)));
        g.withdrawn_at = Some(at(2026));
        assert!(g.covers(&issuer, &code, &inside, at(2025)));
        assert!(!g.covers(&issuer, &code, &inside, at(2027)));
    }

    #[test]
    fn status_follows_window_and_withdrawal() {
        let mut g = grant();
        assert_eq!(g.status_at(at(2023)), AuthorisationStatus::Pending);
        assert_eq!(g.status_at(at(2024)), AuthorisationStatus::Active);
        assert_eq!(g.status_at(at(2030)), AuthorisationStatus::Expired);
        g.withdrawn_at = Some(at(2026));
        assert_eq!(g.status_at(at(2025)), AuthorisationStatus::Active);
        assert_eq!(g.status_at(at(2026)), AuthorisationStatus::Withdrawn);
        assert_eq!(g.status_at(at(2031)).as_str(), "withdrawn");
        assert_eq!(g.ends_at(), Some(at(2026)));
    }
}
