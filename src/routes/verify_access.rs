//! Who is verifying, and the access records of agency verifications.
//!
//! `POST /v1/verify` and `/v1/verify/batch` are open to anyone (rate-limited per address). An
//! agency identifies itself with its API key; then the key must carry the `verify` scope, and
//! every licence it verifies becomes an access record (with the use cause from the body's
//! `purpose`) written before the answer is sent, so that no agency use goes unrecorded.

use actix_web::{FromRequest, HttpRequest};
use serde_json::Value;

use crate::auth::{bearer, Agency};
use crate::domain::access::{Channel, NewAccessRecord};
use crate::domain::agency::Scope;
use crate::domain::identifiers::{HolderId, Uscc};
use crate::error::ApiError;
use crate::state::AppState;
use crate::verify::Verification;

/// Longest use cause accepted, in characters.
const MAX_PURPOSE: usize = 200;

/// The caller of a verification.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No credentials: rate-limited per client address, not recorded.
    Anonymous,
    /// An agency key with the `verify` scope: recorded, not rate-limited.
    Agency(Uscc),
}

/// The caller: anonymous without an `Authorization` header, else an agency key with the
/// `verify` scope (401 for a bad key, 403 `scope_missing` without the scope).
pub async fn caller(req: &HttpRequest) -> Result<Caller, ApiError> {
    if bearer(req)?.is_none() {
        return Ok(Caller::Anonymous);
    }
    let agency = Agency::extract(req).await?;
    agency.require(Scope::Verify)?;
    Ok(Caller::Agency(agency.0.uscc.clone()))
}

/// The optional `purpose` (use cause) of a verification body.
pub fn purpose(body: &Value) -> Result<String, ApiError> {
    match body.get("purpose") {
        None | Some(Value::Null) => Ok("verification".to_owned()),
        Some(Value::String(p)) if !p.trim().is_empty() && p.chars().count() <= MAX_PURPOSE => {
            Ok(p.trim().to_owned())
        }
        Some(_) => Err(ApiError::bad_request(
            "invalid_purpose",
            format!("purpose must be a non-empty string of at most {MAX_PURPOSE} characters"),
        )),
    }
}

/// Whom and what an agency's verification of a credential concerns, read before the
/// credential is handed to the verifier (nothing for an anonymous caller, who is not recorded).
#[derive(Debug, Clone, Default)]
pub struct Subject {
    holder: Option<HolderId>,
    licence: Option<String>,
}

/// The [`Subject`] of a credential verified by `caller`.
pub fn subject(caller: &Caller, credential: &Value) -> Subject {
    if matches!(caller, Caller::Anonymous) {
        return Subject::default();
    }
    Subject {
        holder: credential
            .pointer("/credentialSubject/id")
            .and_then(Value::as_str)
            .and_then(|id| HolderId::from_urn(id).ok()),
        licence: credential
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

/// Writes one access record per verified credential for an agency caller (in one
/// transaction); does nothing for an anonymous one.
pub async fn record(
    state: &AppState,
    caller: &Caller,
    verified: &[(Subject, &Verification)],
    purpose: &str,
    route: &str,
) -> Result<(), ApiError> {
    let Caller::Agency(agency) = caller else {
        return Ok(());
    };
    let records: Vec<NewAccessRecord> = verified
        .iter()
        .map(|(subject, result)| NewAccessRecord {
            channel: Channel::Verify,
            agency: Some(agency.clone()),
            holder: subject.holder.clone(),
            licence: subject.licence.clone(),
            purpose: purpose.to_owned(),
            route: route.to_owned(),
            result: outcome(result),
            application: None,
        })
        .collect();
    if records.is_empty() {
        return Ok(());
    }
    state
        .store
        .append_access(records, chrono::Utc::now())
        .await?;
    Ok(())
}

/// `valid`, or the code of the first failing check.
fn outcome(result: &Verification) -> String {
    if result.verified {
        return "valid".to_owned();
    }
    result
        .checks
        .iter()
        .find(|c| !c.ok)
        .map_or("not_verified", |c| c.code)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn outcome_names_the_first_failure() {
        use crate::verify::{Check, Summary};
        let answer = |checks: Vec<Check>| Verification {
            verified: checks.iter().all(|c| c.ok),
            checked_at: String::new(),
            summary: Summary::default(),
            checks,
            proof_needed: None,
        };
        assert_eq!(outcome(&answer(vec![])), "valid");
        let failed = answer(vec![
            Check::new("signature", true, "signature_valid"),
            Check::new("status", false, "revoked"),
            Check::new("chain", false, "superseded"),
        ]);
        assert_eq!(outcome(&failed), "revoked");
    }

    #[test]
    fn purpose_is_bounded() {
        assert_eq!(purpose(&json!({})).ok().as_deref(), Some("verification"));
        assert_eq!(
            purpose(&json!({"purpose": " 开户 "})).ok().as_deref(),
            Some("开户")
        );
        assert!(purpose(&json!({"purpose": ""})).is_err());
        assert!(purpose(&json!({"purpose": 5})).is_err());
        assert!(purpose(&json!({"purpose": "x".repeat(201)})).is_err());
    }
}
