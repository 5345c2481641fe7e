//! The checks after the signature, each against what the [`RegistryView`] knows. The credential's
//! own shape is read once with the submission parser ([`licence::parse`]), so a licence verifies
//! by the same rules it was accepted by.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::signature::{Prepared, SignatureFailure};
use super::{
    licence_id_of, time, Check, Details, LicenceLookup, RegistryView, SchemaLookup, Summary,
    Verification,
};
use crate::crypto::digest::digest_value;
use crate::crypto::strict_json::Member as _;
use crate::domain::authorisation::{covering, withdrawn_covering};
use crate::domain::identifiers::{LicenceId, Uscc};
use crate::domain::issuer::{issuer_did, parse_issuer_did, Issuer};
use crate::domain::licence::LicenceState;
use crate::domain::submission::licence::{self, LicenceClaims, Submitter};
use crate::domain::submission::ItemError;

/// Schema messages reported per credential.
const MAX_SCHEMA_MESSAGES: usize = 5;

/// What the checks share about one credential.
struct Subject<'a> {
    credential: &'a Value,
    /// The credential's `issuer` when it is a registry issuer's DID (of `uscc`).
    issuer_did: Option<&'a str>,
    uscc: Option<Uscc>,
    issuer: Option<&'a Issuer>,
    claims: Result<LicenceClaims, ItemError>,
    /// The credential's licence identifier when `claims` failed (else it is `claims.id`).
    unclaimed_id: Option<LicenceId>,
}

impl Subject<'_> {
    /// The licence identifier the credential names, if it is one.
    fn id(&self) -> Option<&LicenceId> {
        match &self.claims {
            Ok(claims) => Some(&claims.id),
            Err(_) => self.unclaimed_id.as_ref(),
        }
    }
}

/// Runs every check after the signature and assembles the answer.
#[tracing::instrument(level = "debug", skip_all)]
pub(super) fn run(
    mut prepared: Prepared<'_>,
    signature: Result<(), SignatureFailure>,
    view: &dyn RegistryView,
    at: DateTime<Utc>,
) -> Verification {
    let known_id = prepared.known_id.take();
    let prepared = &prepared;
    let subject = read(prepared, known_id, view);
    let mut checks = Vec::with_capacity(8);
    checks.push(match signature {
        Ok(()) => Check::new("signature", true, "signature_valid"),
        Err((code, reason)) => Check::new("signature", false, code).with(json!({"reason": reason})),
    });
    checks.push(issuer_key(prepared, &subject));
    checks.push(authorisation(prepared, &subject, view));
    checks.push(schema(&subject, view));
    checks.push(validity(&subject, at));
    let (registration, proof_needed) = registration(&subject, view);
    checks.extend(registration);
    Verification {
        verified: checks.iter().all(|c| c.ok),
        checked_at: time(at),
        summary: summary(&subject, view),
        checks,
        proof_needed,
    }
}

#[tracing::instrument(level = "debug", skip_all)]
fn read<'a>(
    prepared: &Prepared<'a>,
    known_id: Option<LicenceId>,
    view: &'a dyn RegistryView,
) -> Subject<'a> {
    let credential = prepared.credential;
    let licence_id = || licence_id_of(credential);
    let id = known_id.or_else(licence_id);
    let issuer_text = credential.member("issuer").and_then(Value::as_str);
    let uscc = issuer_text.and_then(|d| parse_issuer_did(d, view.did_host()));
    let issuer_did_text = issuer_text.filter(|_| uscc.is_some());
    let issuer = uscc.as_ref().and_then(|u| view.issuer(u));
    // Parse as if submitted by the issuer the credential names (or, failing that, the one its
    // identifier names), so a mismatch between the two shows as `issuer_mismatch`.
    // The DID is the credential's own text when it named a registry issuer.
    let by = match (&uscc, issuer_did_text, &id) {
        (Some(uscc), Some(did), _) => Some((Cow::Borrowed(uscc), Cow::Borrowed(did))),
        (_, _, Some(id)) => Some((
            Cow::Owned(id.issuer().clone()),
            Cow::Owned(issuer_did(view.did_host(), id.issuer())),
        )),
        _ => None,
    };
    let claims = match by {
        Some((by, did)) => {
            let submitter = Submitter {
                issuer: &by,
                issuer_did: &did,
                public_base: view.public_base(),
            };
            let digest = prepared.proof().map(|p| p.document_digest());
            licence::parse_known(credential, &submitter, digest, id)
        }
        None => Err(ItemError::new(
            "licence_id_invalid",
            "id is not a licence URN",
        )),
    };
    // The parse took the identifier; a credential that fails it is rare enough to parse again.
    let unclaimed_id = claims.is_err().then(licence_id).flatten();
    Subject {
        credential,
        issuer_did: issuer_did_text,
        uscc,
        issuer,
        claims,
        unclaimed_id,
    }
}

#[tracing::instrument(level = "debug", skip_all)]
fn issuer_key(prepared: &Prepared<'_>, s: &Subject<'_>) -> Check {
    let fail = |code| Check::new("issuerKey", false, code);
    let (Some(did), Some(issuer)) = (s.issuer_did, s.issuer) else {
        return fail("issuer_unknown");
    };
    let Some(proof) = prepared.proof() else {
        return fail("not_checked");
    };
    let Some(fragment) = proof
        .verification_method
        .strip_prefix(did)
        .and_then(|rest| rest.strip_prefix('#'))
    else {
        return fail("issuer_mismatch");
    };
    let Some(key) = issuer.key(fragment) else {
        return fail("key_unknown").with(json!({"key": fragment}));
    };
    let Some(created) = proof
        .created
        .as_deref()
        .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
    else {
        return fail("proof_created_missing");
    };
    let created = created.with_timezone(&Utc);
    let details = Details::Key {
        key: fragment.to_owned(),
        signed_at: created,
        revoked_at: key.revoked_at,
        compromised_since: key.compromised_since,
    };
    match key.usable_at(created) {
        Ok(()) => Check::new("issuerKey", true, "key_valid").with(details),
        Err(e) => fail(e.code()).with(details),
    }
}

/// A grant covered the type and jurisdiction when the licence was signed (`proof.created`),
/// the instant intake judged it at; `validFrom` may predate it.
#[tracing::instrument(level = "debug", skip_all)]
fn authorisation(prepared: &Prepared<'_>, s: &Subject<'_>, view: &dyn RegistryView) -> Check {
    let signed_at = prepared
        .proof()
        .and_then(|p| p.created.as_deref())
        .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
        .map(|c| c.with_timezone(&Utc));
    let (Ok(claims), Some(uscc), Some(from)) = (&s.claims, &s.uscc, signed_at) else {
        return Check::new("authorisation", false, "not_checked");
    };
    let grants = view.authorisations(uscc);
    let code = claims.id.type_code();
    let division = &claims.jurisdiction;
    if let Some(grant) = covering(grants, uscc, code, division, from) {
        return Check::new("authorisation", true, "authorised").with(Details::Grant {
            authorisation: grant.id.clone(),
            granted_by: grant.granted_by.clone(),
        });
    }
    match withdrawn_covering(grants, uscc, code, division, from) {
        Some(g) => Check::new("authorisation", false, "authorisation_withdrawn").with(json!({
            "authorisation": g.id, "withdrawnAt": g.withdrawn_at.map(time),
        })),
        None => Check::new("authorisation", false, "not_authorised"),
    }
}

#[tracing::instrument(level = "debug", skip_all)]
fn schema(s: &Subject<'_>, view: &dyn RegistryView) -> Check {
    let fail = |code| Check::new("schema", false, code);
    let claims = match &s.claims {
        Ok(claims) => claims,
        Err(e) => return fail(e.code).with(json!({"reason": e.detail})),
    };
    let code = claims.id.type_code();
    let Some(t) = view.licence_type(code) else {
        return fail("type_unknown");
    };
    let lookup = view.schema(code, claims.schema_version);
    let has_version = !matches!(lookup, SchemaLookup::NotFound);
    if let Err(e) = licence::check_fit(claims, code, has_version, t.holder_category, t.validity) {
        return fail(e.code).with(json!({"reason": e.detail}));
    }
    let details = Details::TypeVersion {
        type_code: code.clone(),
        schema_version: claims.schema_version,
    };
    match lookup {
        SchemaLookup::NotFound => fail("schema_unknown").with(details),
        SchemaLookup::Unavailable => fail("schema_unavailable").with(details),
        SchemaLookup::Compiled(compiled) => {
            match compiled.validate(&s.credential["credentialSubject"], MAX_SCHEMA_MESSAGES) {
                Ok(()) => Check::new("schema", true, "schema_valid").with(details),
                Err(errors) => fail("schema_invalid").with(json!({
                    "typeCode": code.as_str(), "schemaVersion": claims.schema_version,
                    "errors": errors,
                })),
            }
        }
    }
}

#[tracing::instrument(level = "debug", skip_all)]
fn validity(s: &Subject<'_>, at: DateTime<Utc>) -> Check {
    let Ok(claims) = &s.claims else {
        return Check::new("validityPeriod", false, "not_checked");
    };
    let details = Details::Validity {
        valid_from: claims.valid_from,
        valid_until: claims.valid_until,
        at,
    };
    let code = if at < claims.valid_from {
        "not_yet_valid"
    } else if at >= claims.valid_until {
        "expired"
    } else {
        return Check::new("validityPeriod", true, "within_validity").with(details);
    };
    Check::new("validityPeriod", false, code).with(details)
}

/// The `status`, `registered` and `chain` checks, from one lookup; and the leaf whose inclusion
/// proof the caller should attach.
#[tracing::instrument(level = "debug", skip_all)]
fn registration(s: &Subject<'_>, view: &dyn RegistryView) -> (Vec<Check>, Option<u64>) {
    let Some(id) = s.id() else {
        let not_checked = |name| Check::new(name, false, "not_checked");
        return (
            vec![
                not_checked("status"),
                not_checked("registered"),
                not_checked("chain"),
            ],
            None,
        );
    };
    match view.licence(id) {
        LicenceLookup::NotRegistered => {
            let missing = |name| Check::new(name, false, "not_registered");
            let checks = vec![missing("status"), missing("registered"), missing("chain")];
            (checks, None)
        }
        LicenceLookup::AsOf {
            state,
            superseded,
            receipt,
            as_of,
        } => {
            let digest = match &s.claims {
                Ok(claims) => Cow::Borrowed(claims.digest.as_str()),
                Err(_) => Cow::Owned(digest_value(s.credential)),
            };
            let facts = super::offline::Facts {
                state,
                superseded,
                receipt,
                as_of,
            };
            (facts.checks(&digest), None)
        }
        LicenceLookup::Registered(r) => {
            let head = Details::Head(r.head.clone());
            let status = match r.state {
                LicenceState::Active if r.head == id => Check::new("status", true, "active"),
                LicenceState::Active => {
                    Check::new("status", false, "superseded").with(head.clone())
                }
                other => Check::new("status", false, state_code(other))
                    .with(json!({"since": r.since.map(time)})),
            };
            let same_digest = match &s.claims {
                Ok(claims) => claims.digest == r.digest,
                Err(_) => digest_value(s.credential) == r.digest,
            };
            let leaf = Details::Leaf {
                leaf_index: r.leaf_index,
                leaf_hash: r.leaf_hash,
                proof: None,
            };
            let (registered, proof) = if same_digest {
                (
                    Check::new("registered", true, "registered").with(leaf),
                    Some(r.leaf_index),
                )
            } else {
                (Check::new("registered", false, "digest_mismatch"), None)
            };
            let chain = if r.head == id {
                Check::new("chain", true, "head").with(head)
            } else {
                Check::new("chain", false, "superseded").with(head)
            };
            (vec![status, registered, chain], proof)
        }
    }
}

pub(super) fn state_code(state: LicenceState) -> &'static str {
    match state {
        LicenceState::Active => "active",
        LicenceState::Suspended => "suspended",
        LicenceState::Revoked => "revoked",
    }
}

fn summary(s: &Subject<'_>, view: &dyn RegistryView) -> Summary {
    let text = |name: &str| {
        s.credential
            .member(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let id = s.id();
    let licence_type = id.and_then(|id| view.licence_type(id.type_code()));
    Summary {
        type_code: id.map(|id| id.type_code().clone()),
        type_name: licence_type.map(|t| super::Message {
            zh: t.name_zh.to_owned().into(),
            en: t.name_en.to_owned().into(),
        }),
        identifier: id.map(|id| id.as_str().to_owned()),
        issuer_name: s.issuer.map(|i| i.name.clone()),
        issuer_uscc: s.uscc.clone(),
        holder_category: match &s.claims {
            Ok(claims) => Some(claims.holder.category()),
            Err(_) => licence_type.map(|t| t.holder_category.into()),
        },
        valid_from: text("validFrom"),
        valid_until: text("validUntil"),
        version: id.map(LicenceId::version),
    }
}
