//! How an ID token is judged beyond the `openidconnect` crate's defaults: only asymmetric
//! signatures (never `none`, never an HMAC keyed with the client secret, whatever the provider
//! advertises), clocks that may differ by [`CLOCK_SKEW`], an `iat` no older than
//! [`MAX_TOKEN_AGE`]; and which check a refused token failed, named without echoing anything
//! from the token (see `docs/oidc.md`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{ClaimsVerificationError, JwsSigningAlgorithm, SignatureVerificationError};

use super::Client;

/// How far the provider's clock may be from ours when judging `exp` and `iat`.
pub const CLOCK_SKEW: Duration = Duration::from_secs(60);
/// How old an ID token's `iat` may be: it was minted for this very login.
pub const MAX_TOKEN_AGE: Duration = Duration::from_secs(10 * 60);

/// The check an ID token failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    /// Not signed by a key of the provider's JWKS with an allowed algorithm.
    Signature,
    /// `iss` is not the configured issuer.
    Issuer,
    /// `aud` does not name this client (or names others it does not trust).
    Audience,
    /// `exp` has passed, beyond the allowed skew.
    Expiry,
    /// `iat` lies in the future or too far back.
    IssueTime,
    /// `nonce` is not the one this sign-in sent.
    Nonce,
    /// Anything else the crate refuses (a malformed token, a missing claim).
    Malformed,
}

impl TokenCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signature => "signature",
            Self::Issuer => "issuer",
            Self::Audience => "audience",
            Self::Expiry => "expiry",
            Self::IssueTime => "issue_time",
            Self::Nonce => "nonce",
            Self::Malformed => "malformed",
        }
    }

    /// The failed check behind the crate's error; its text (which may quote the token) is
    /// dropped.
    pub fn of(error: &ClaimsVerificationError) -> Self {
        match error {
            ClaimsVerificationError::SignatureVerification(_) => Self::Signature,
            ClaimsVerificationError::InvalidIssuer(_) => Self::Issuer,
            ClaimsVerificationError::InvalidAudience(_) => Self::Audience,
            ClaimsVerificationError::InvalidNonce(_) => Self::Nonce,
            ClaimsVerificationError::Expired(why) if why.starts_with(ISSUED) => Self::IssueTime,
            ClaimsVerificationError::Expired(_) => Self::Expiry,
            _ => Self::Malformed,
        }
    }
}

/// The prefix of every refusal of [`issue_time`], to tell it from the crate's `exp` refusal
/// (both come back as `Expired`).
const ISSUED: &str = "issued ";

/// Whether the key set lacks the token's key: the one refusal that a fresh JWKS may cure.
pub fn unknown_key(error: &ClaimsVerificationError) -> bool {
    matches!(
        error,
        ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)
    )
}

/// The client's verifier with the registry's rules; `advertised` is the provider's
/// `id_token_signing_alg_values_supported`.
pub fn verifier<'a>(
    client: &'a Client,
    advertised: &[CoreJwsSigningAlgorithm],
) -> openidconnect::IdTokenVerifier<'a, CoreJsonWebKey> {
    let skew = chrono::Duration::from_std(CLOCK_SKEW).unwrap_or_default();
    client
        .id_token_verifier()
        .set_allowed_algs(allowed_algs(advertised))
        // The crate refuses once `exp` is before its clock: run that clock `skew` behind.
        .set_time_fn(move || Utc::now() - skew)
        .set_issue_time_verifier_fn(move |iat| issue_time(iat, Utc::now()))
}

/// The provider's advertised algorithms, without `none` and without the shared-secret ones;
/// RS256 (the one every provider must offer) when it advertises nothing else.
fn allowed_algs(advertised: &[CoreJwsSigningAlgorithm]) -> Vec<CoreJwsSigningAlgorithm> {
    let allowed: Vec<_> = advertised
        .iter()
        .filter(|alg| alg.key_type().is_some() && !alg.uses_shared_secret())
        .cloned()
        .collect();
    if allowed.is_empty() {
        vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
    } else {
        allowed
    }
}

fn issue_time(iat: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    let skew = chrono::Duration::from_std(CLOCK_SKEW).unwrap_or_default();
    let max_age = chrono::Duration::from_std(MAX_TOKEN_AGE).unwrap_or_default();
    if iat > now + skew {
        Err(format!("{ISSUED}in the future"))
    } else if iat < now - max_age - skew {
        Err(format!("{ISSUED}too long ago"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CoreJwsSigningAlgorithm as Alg;

    #[test]
    fn only_asymmetric_algorithms_are_allowed() {
        let advertised = vec![
            Alg::HmacSha256,
            Alg::None,
            Alg::RsaSsaPkcs1V15Sha256,
            Alg::EdDsa,
        ];
        let allowed = allowed_algs(&advertised);
        assert_eq!(allowed, vec![Alg::RsaSsaPkcs1V15Sha256, Alg::EdDsa]);
        let rs256 = vec![Alg::RsaSsaPkcs1V15Sha256];
        assert_eq!(allowed_algs(&[Alg::HmacSha512]), rs256);
        assert_eq!(allowed_algs(&[]), rs256);
    }

    #[test]
    fn the_issue_time_is_bounded_both_ways_with_skew() {
        let now = Utc::now();
        let secs = chrono::Duration::seconds;
        assert!(issue_time(now, now).is_ok());
        assert!(issue_time(now + secs(59), now).is_ok());
        assert!(issue_time(now + secs(61), now).is_err());
        assert!(issue_time(now - secs(10 * 60 + 59), now).is_ok());
        assert!(issue_time(now - secs(10 * 60 + 61), now).is_err());
    }

    #[test]
    fn refusals_are_named_by_check() {
        let future = ClaimsVerificationError::Expired(
            issue_time(Utc::now() + chrono::Duration::hours(1), Utc::now()).unwrap_err(),
        );
        assert_eq!(TokenCheck::of(&future), TokenCheck::IssueTime);
        let expired = ClaimsVerificationError::Expired("ID token expired at …".into());
        assert_eq!(TokenCheck::of(&expired), TokenCheck::Expiry);
        let key = ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        );
        assert!(unknown_key(&key));
        assert_eq!(TokenCheck::of(&key), TokenCheck::Signature);
        let nonce = ClaimsVerificationError::InvalidNonce("mismatch".into());
        assert_eq!(TokenCheck::of(&nonce).as_str(), "nonce");
        assert!(!unknown_key(&nonce));
    }
}
