//! Issuers: authorised third-party providers, identified by USCC, holding Ed25519 keys.
//!
//! A key signs for the issuer inside its validity window. Revoking a key stops it signing
//! from the revocation time on; marking it compromised since a time voids every signature whose
//! `proof.created` is at or after that time, including licences accepted earlier.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::identifiers::Uscc;

/// Whether an issuer may submit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssuerStatus {
    Active,
    Suspended,
}

impl IssuerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }
}

/// An issuer with all its keys (current and withdrawn).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issuer {
    pub uscc: Uscc,
    pub name: String,
    pub contact: Option<String>,
    pub status: IssuerStatus,
    pub created_at: DateTime<Utc>,
    pub keys: Vec<IssuerKey>,
}

/// One Ed25519 key of an issuer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuerKey {
    /// The public key as a Multikey (`z6Mk…`); also the key's id and DID URL fragment.
    pub multikey: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub compromised_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Why a key may not vouch for a signature made at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyUnusable {
    #[error("the key was not yet valid when the signature was made")]
    NotYetValid,
    #[error("the key had expired when the signature was made")]
    Expired,
    #[error("the key had been revoked when the signature was made")]
    Revoked,
    #[error("the key is compromised: signatures made at or after that time are void")]
    Compromised,
}

impl KeyUnusable {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotYetValid => "key_not_yet_valid",
            Self::Expired => "key_expired",
            Self::Revoked => "key_revoked",
            Self::Compromised => "key_compromised",
        }
    }
}

impl IssuerKey {
    /// Whether a signature created at `signed_at` is vouched for by this key.
    pub fn usable_at(&self, signed_at: DateTime<Utc>) -> Result<(), KeyUnusable> {
        if self.compromised_since.is_some_and(|c| signed_at >= c) {
            return Err(KeyUnusable::Compromised);
        }
        if signed_at < self.valid_from {
            return Err(KeyUnusable::NotYetValid);
        }
        if self.valid_until.is_some_and(|u| signed_at >= u) {
            return Err(KeyUnusable::Expired);
        }
        if self.revoked_at.is_some_and(|r| signed_at >= r) {
            return Err(KeyUnusable::Revoked);
        }
        Ok(())
    }

    /// Listed in the DID document: neither revoked nor compromised, not expired at `now`.
    pub fn is_current(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none()
            && self.compromised_since.is_none()
            && self.valid_until.is_none_or(|u| now < u)
    }
}

/// Why a request to revoke a key (or mark it compromised) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RevocationRefused {
    /// Revoked already; only a missing compromise time may still be added.
    #[error("the key is already revoked")]
    AlreadyRevoked { at: DateTime<Utc> },
    #[error("compromisedSince must not be after the revocation time")]
    CompromisedAfterRevocation,
}

impl IssuerKey {
    /// The revocation time a revoke request leads to (`revoked_at`, defaulting to `now`; for a
    /// key already revoked, which may only gain a compromise time, the stored time).
    pub fn revocation_time(
        &self,
        revoked_at: Option<DateTime<Utc>>,
        compromised_since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, RevocationRefused> {
        let effective = match self.revoked_at {
            Some(at)
                if revoked_at.is_none()
                    && compromised_since.is_some()
                    && self.compromised_since.is_none() =>
            {
                at
            }
            Some(at) => return Err(RevocationRefused::AlreadyRevoked { at }),
            None => revoked_at.unwrap_or(now),
        };
        if compromised_since.is_some_and(|c| c > effective) {
            return Err(RevocationRefused::CompromisedAfterRevocation);
        }
        Ok(effective)
    }
}

impl Issuer {
    /// The key with this Multikey, if the issuer has it.
    pub fn key(&self, multikey: &str) -> Option<&IssuerKey> {
        self.keys.iter().find(|k| k.multikey == multikey)
    }
}

/// `did:web:<host>:issuers:<uscc>`; `host` is already did:web-encoded (`:` as `%3A`).
pub fn issuer_did(host: &str, uscc: &Uscc) -> String {
    format!("did:web:{host}:issuers:{uscc}")
}

/// The USCC of a registry issuer DID on this host, if `did` is one.
pub fn parse_issuer_did(did: &str, host: &str) -> Option<Uscc> {
    did.strip_prefix("did:web:")?
        .strip_prefix(host)?
        .strip_prefix(":issuers:")?
        .parse()
        .ok()
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

    fn key() -> IssuerKey {
        IssuerKey {
            multikey: "z6Mk".into(),
            valid_from: at(2020),
            valid_until: Some(at(2030)),
            revoked_at: None,
            compromised_since: None,
            created_at: at(2020),
        }
    }

    #[test]
    fn key_windows() {
        let mut k = key();
        assert_eq!(k.usable_at(at(2019)), Err(KeyUnusable::NotYetValid));
        assert_eq!(k.usable_at(at(2025)), Ok(()));
        assert_eq!(k.usable_at(at(2030)), Err(KeyUnusable::Expired));
        k.revoked_at = Some(at(2026));
        assert_eq!(k.usable_at(at(2025)), Ok(()));
        assert_eq!(k.usable_at(at(2027)), Err(KeyUnusable::Revoked));
        k.compromised_since = Some(at(2024));
        assert_eq!(k.usable_at(at(2023)), Ok(()));
        assert_eq!(k.usable_at(at(2024)), Err(KeyUnusable::Compromised));
    }

    #[test]
    fn did_round_trip() {
        let uscc: Uscc = "11220000013544541J".parse().expect("vector USCC");
        let did = issuer_did("registry.example.gov.cn", &uscc);
        assert_eq!(
            did,
            "did:web:registry.example.gov.cn:issuers:11220000013544541J"
        );
        assert_eq!(
            parse_issuer_did(&did, "registry.example.gov.cn"),
            Some(uscc)
        );
        assert_eq!(parse_issuer_did(&did, "other.example"), None);
    }

    #[test]
    fn revocation_time_rules() {
        let mut k = key();
        assert_eq!(k.revocation_time(None, None, at(2025)), Ok(at(2025)));
        assert_eq!(
            k.revocation_time(Some(at(2024)), None, at(2025)),
            Ok(at(2024))
        );
        assert_eq!(
            k.revocation_time(None, Some(at(2026)), at(2025)),
            Err(RevocationRefused::CompromisedAfterRevocation)
        );
        k.revoked_at = Some(at(2024));
        let already = Err(RevocationRefused::AlreadyRevoked { at: at(2024) });
        assert_eq!(k.revocation_time(None, None, at(2025)), already);
        assert_eq!(
            k.revocation_time(Some(at(2025)), Some(at(2023)), at(2025)),
            already
        );
        assert_eq!(
            k.revocation_time(None, Some(at(2023)), at(2025)),
            Ok(at(2024))
        );
        k.compromised_since = Some(at(2023));
        assert_eq!(k.revocation_time(None, Some(at(2022)), at(2025)), already);
    }
}
