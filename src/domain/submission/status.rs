//! Status change items: `{"statusChange": {licence, action, reason, effectiveFrom, previous}}`,
//! covered by the envelope's proof. Each names the licence's previous event (or its head version
//! when it has none) so that events form a chain.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{date_member, ItemError};
use crate::crypto::digest::digest_value;
use crate::domain::authorisation::{covering, Authorisation};
use crate::domain::identifiers::{LicenceId, Uscc};
use crate::domain::licence::LicenceChain;
use crate::domain::licence::{LicenceState, StatusAction};

const MEMBERS: [&str; 5] = ["licence", "action", "reason", "effectiveFrom", "previous"];
/// Longest reason accepted, in characters.
const MAX_REASON: usize = 1000;

/// A well-formed status change.
#[derive(Debug, Clone)]
pub struct StatusClaims {
    pub licence: LicenceId,
    pub action: StatusAction,
    pub reason: String,
    pub effective_from: DateTime<Utc>,
    pub previous: String,
    /// Multibase SHA-256 of the JCS form of the `statusChange` object.
    pub digest: String,
}

/// Checks the shape of the `statusChange` object.
pub fn parse(body: &Value) -> Result<StatusClaims, ItemError> {
    let malformed = |m: String| ItemError::new("status_malformed", m);
    let object = body
        .as_object()
        .ok_or_else(|| malformed("statusChange must be an object".into()))?;
    if let Some(unknown) = object.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
        return Err(malformed(format!("unknown member {unknown:?}")));
    }
    let text = |name: &str| object.get(name).and_then(Value::as_str);
    let licence = text("licence")
        .ok_or_else(|| malformed("licence is required".into()))
        .and_then(|s| {
            LicenceId::from_urn(s).map_err(|e| ItemError::new("licence_id_invalid", e.to_string()))
        })?;
    let action = text("action")
        .and_then(StatusAction::parse)
        .ok_or_else(|| {
            ItemError::new("action_invalid", "action must be suspend, resume or revoke")
        })?;
    let reason = text("reason")
        .map(str::trim)
        .filter(|r| !r.is_empty() && r.chars().count() <= MAX_REASON)
        .ok_or_else(|| {
            ItemError::new(
                "reason_missing",
                format!("reason is required (1 to {MAX_REASON} characters)"),
            )
        })?;
    let effective_from = date_member(object, "effectiveFrom", "effective_from_invalid")?;
    let previous = text("previous")
        .ok_or_else(|| ItemError::new("previous_mismatch", "previous is required"))?;
    Ok(StatusClaims {
        licence,
        action,
        reason: reason.to_owned(),
        effective_from,
        previous: previous.to_owned(),
        digest: digest_value(body),
    })
}

/// Checks the change against the licence: it exists and is the issuer's, the action is allowed
/// from its state, and `previous` names its latest event (or head version). Answers the new
/// state.
pub fn check(
    claims: &StatusClaims,
    issuer: &Uscc,
    version_exists: bool,
    chain: Option<&LicenceChain>,
) -> Result<LicenceState, ItemError> {
    if claims.licence.issuer() != issuer {
        return Err(ItemError::new(
            "licence_not_owned",
            "the licence belongs to another issuer",
        ));
    }
    let chain = chain
        .filter(|_| version_exists)
        .ok_or_else(|| ItemError::new("licence_unknown", "no such licence"))?;
    let next = chain.state.apply(claims.action).ok_or_else(|| {
        ItemError::new(
            "transition_invalid",
            format!(
                "{} is not allowed on a {} licence",
                claims.action.as_str(),
                chain.state.as_str()
            ),
        )
    })?;
    if claims.previous != chain.event_anchor() {
        return Err(ItemError::new(
            "previous_mismatch",
            format!("previous must be {}", chain.event_anchor()),
        ));
    }
    Ok(next)
}

/// Checks that the issuer may make this change at `signed_at`, the envelope proof's `created`:
/// a grant for the licence's type and its current version's jurisdiction is in force then
/// (`not_authorised`).
///
/// A revocation is the exception: the licence's own issuer ([`check`] refuses any other) may
/// revoke it after its grant has ended or been withdrawn, so long as its key is valid (the
/// envelope's proof). A grant ending must not freeze its licences as valid forever. Suspend and
/// resume still need the grant: resuming is issuing again.
pub fn check_authorised(
    claims: &StatusClaims,
    chain: &LicenceChain,
    grants: &[Authorisation],
    issuer: &Uscc,
    signed_at: DateTime<Utc>,
) -> Result<(), ItemError> {
    if claims.action == StatusAction::Revoke {
        return Ok(());
    }
    let code = claims.licence.type_code();
    match covering(grants, issuer, code, &chain.jurisdiction, signed_at) {
        Some(_) => Ok(()),
        None => Err(ItemError::new(
            "not_authorised",
            format!(
                "no authorisation covers this issuer for type {code} in {} when the envelope \
                 was signed (proof.created)",
                chain.jurisdiction
            ),
        )),
    }
}
