//! The W3C VC-API over `eddsa-jcs-2022`: issuing with the registry-hosted interoperability key
//! and verifying outside credentials, in the shapes the W3C vc-di-eddsa test suite relies on.
//!
//! Pure: requests come in as JSON values and leave as typed results or a [`VcApiError`] with a
//! stable code. Key lookup for the registry's own `did:web` issuers is passed in by the caller,
//! so nothing here touches storage or HTTP.

use std::future::Future;

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde_json::{Map, Value};

use crate::crypto::keys::KeyPair;
use crate::crypto::multikey::{self, resolve_did_key};
use crate::crypto::proof::{self, PreparedProof, ProofError, ProofOptions};
use crate::domain::identifiers::Uscc;
use crate::domain::issuer::{parse_issuer_did, IssuerKey, KeyUnusable};
use crate::domain::time::seconds;

/// First `@context` entry of a VC Data Model 1.1 credential.
pub const VC_V1_CONTEXT: &str = "https://www.w3.org/2018/credentials/v1";
/// First `@context` entry of a VC Data Model 2.0 credential.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The Data Integrity context a VC 1.1 credential needs for a `DataIntegrityProof`.
pub const DATA_INTEGRITY_V2_CONTEXT: &str = "https://w3id.org/security/data-integrity/v2";
/// The purpose verification expects unless the request names another.
pub const DEFAULT_PURPOSE: &str = "assertionMethod";

/// Why an issue or verify request was refused. [`VcApiError::is_request`] tells a malformed
/// request (400) from a credential that does not verify (422).
#[derive(Debug, thiserror::Error)]
pub enum VcApiError {
    /// The request is not in the VC-API shape.
    #[error("{detail}")]
    Request { code: &'static str, detail: String },
    /// The proof is malformed or its signature does not verify.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// The proof was made for another purpose than the expected one.
    #[error("proofPurpose is {found:?}, expected {expected:?}")]
    PurposeMismatch { expected: String, found: String },
    /// The verification method names no key this service can resolve.
    #[error("verification method {method:?} could not be resolved: {reason}")]
    KeyUnresolved { method: String, reason: String },
    /// The registry issuer's key did not vouch for signatures at the proof's `created`.
    #[error("verification method {method:?}: {reason}")]
    KeyUnusable { method: String, reason: KeyUnusable },
    /// Looking a registry key up failed (the database, not the credential).
    #[error("key lookup failed")]
    Lookup(#[source] anyhow::Error),
}

impl VcApiError {
    fn request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Request {
            code,
            detail: detail.into(),
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Request { code, .. } => code,
            Self::Proof(e) => e.code(),
            Self::PurposeMismatch { .. } => "proof_purpose_mismatch",
            Self::KeyUnresolved { .. } => ProofError::KeyUnresolved.code(),
            Self::KeyUnusable { reason, .. } => reason.code(),
            Self::Lookup(_) => "internal",
        }
    }

    /// Whether the request itself is malformed (as opposed to a credential that fails).
    pub fn is_request(&self) -> bool {
        matches!(
            self,
            Self::Request { .. } | Self::Proof(ProofError::DocumentNotObject)
        )
    }
}

/// The registry-hosted `did:key` of an issuing key: the bare DID.
pub fn did_key(key: &KeyPair) -> String {
    format!("did:key:{}", key.multikey())
}

/// The verification method of an issuing key: `did:key:<mk>#<mk>`.
pub fn did_key_method(key: &KeyPair) -> String {
    let multikey = key.multikey();
    format!("did:key:{multikey}#{multikey}")
}

/// A parsed `POST /credentials/issue` body.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueRequest {
    credential: Map<String, Value>,
    version: VcVersion,
    /// `options.created`, checked to be an RFC 3339 (and XML Schema) date-time.
    created: Option<String>,
}

/// The data model a credential follows, from its first `@context`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VcVersion {
    V1,
    V2,
}

impl TryFrom<Value> for IssueRequest {
    type Error = VcApiError;

    fn try_from(body: Value) -> Result<Self, VcApiError> {
        let mut body = into_object(body, "request body")?;
        let credential = body
            .shift_remove("credential")
            .ok_or_else(|| VcApiError::request("credential_missing", "credential is required"))?;
        let credential = into_object(credential, "credential")?;
        let version = credential_version(&credential)?;
        if !credential.contains_key("credentialSubject") {
            return Err(VcApiError::request(
                "credential_subject_missing",
                "credential has no credentialSubject",
            ));
        }
        if credential.contains_key("proof") {
            return Err(ProofError::AlreadySigned.into());
        }
        let options = options(body.shift_remove("options"))?;
        let created = match options.get("created") {
            None => None,
            Some(Value::String(s)) if is_xml_date_time(s) => Some(s.clone()),
            Some(_) => {
                return Err(VcApiError::request(
                    "invalid_option",
                    "options.created must be an RFC 3339 date-time with a time zone",
                ))
            }
        };
        Ok(Self {
            credential,
            version,
            created,
        })
    }
}

/// Completes a credential for the hosted key (issuer, id, issuance date, VC 1.1 context) and
/// signs it with an `assertionMethod` proof created at `options.created` or `now`.
pub fn issue(
    request: IssueRequest,
    key: &KeyPair,
    now: DateTime<Utc>,
) -> Result<Value, VcApiError> {
    let IssueRequest {
        mut credential,
        version,
        created,
    } = request;
    let now_text = seconds(now);
    match credential.get_mut("issuer") {
        Some(Value::Object(issuer)) => {
            issuer.insert("id".into(), did_key(key).into());
        }
        _ => {
            credential.insert("issuer".into(), did_key(key).into());
        }
    }
    if !credential.contains_key("id") {
        credential.insert(
            "id".into(),
            format!("urn:uuid:{}", uuid::Uuid::new_v4()).into(),
        );
    }
    let date_member = match version {
        VcVersion::V1 => {
            add_data_integrity_context(&mut credential);
            "issuanceDate"
        }
        VcVersion::V2 => "validFrom",
    };
    if !credential.contains_key(date_member) {
        credential.insert(date_member.into(), now_text.clone().into());
    }
    let options = ProofOptions {
        verification_method: did_key_method(key),
        created: created.unwrap_or(now_text),
        proof_purpose: DEFAULT_PURPOSE.to_owned(),
        context: None,
    };
    Ok(proof::sign(&Value::Object(credential), key, &options)?)
}

/// A parsed `POST /credentials/verify` body.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyRequest {
    credential: Value,
    expected_purpose: String,
}

impl TryFrom<Value> for VerifyRequest {
    type Error = VcApiError;

    fn try_from(body: Value) -> Result<Self, VcApiError> {
        let mut body = into_object(body, "request body")?;
        let credential = body.shift_remove("verifiableCredential").ok_or_else(|| {
            VcApiError::request(
                "verifiable_credential_missing",
                "verifiableCredential is required",
            )
        })?;
        let options = options(body.shift_remove("options"))?;
        let expected_purpose = match options.get("expectedProofPurpose") {
            None => DEFAULT_PURPOSE.to_owned(),
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => {
                return Err(VcApiError::request(
                    "invalid_option",
                    "options.expectedProofPurpose must be a non-empty string",
                ))
            }
        };
        Ok(Self {
            credential,
            expected_purpose,
        })
    }
}

/// Verifies every proof of the credential: shape, expected purpose, key, signature.
///
/// `did:key` methods resolve by themselves; `did:web:<host>:issuers:<USCC>#<multikey>` methods
/// go through `lookup`, which answers the issuer's key with that Multikey, if any. A proof
/// without `created` is judged against the issuer key's window at `now`.
pub async fn verify<F, Fut>(
    request: &VerifyRequest,
    host: Option<&str>,
    now: DateTime<Utc>,
    lookup: F,
) -> Result<(), VcApiError>
where
    F: Fn(Uscc, String) -> Fut,
    Fut: Future<Output = Result<Option<IssuerKey>, VcApiError>>,
{
    let proofs = proof::prepare_set(&request.credential)?;
    for prepared in &proofs {
        if prepared.proof_purpose != request.expected_purpose {
            return Err(VcApiError::PurposeMismatch {
                expected: request.expected_purpose.clone(),
                found: prepared.proof_purpose.clone(),
            });
        }
    }
    for prepared in proofs {
        let key = resolve_key(&prepared, host, now, &lookup).await?;
        prepared.verify_with(&key)?;
    }
    Ok(())
}

/// Resolves a proof's verification method to its public key.
async fn resolve_key<F, Fut>(
    prepared: &PreparedProof,
    host: Option<&str>,
    now: DateTime<Utc>,
    lookup: &F,
) -> Result<VerifyingKey, VcApiError>
where
    F: Fn(Uscc, String) -> Fut,
    Fut: Future<Output = Result<Option<IssuerKey>, VcApiError>>,
{
    let method = prepared.verification_method.as_str();
    let unresolved = |reason: &str| VcApiError::KeyUnresolved {
        method: method.to_owned(),
        reason: reason.to_owned(),
    };
    if method.starts_with("did:key:") {
        return resolve_did_key(method).map_err(|e| unresolved(&e.to_string()));
    }
    let (did, fragment) = method.split_once('#').unwrap_or((method, ""));
    let uscc = host
        .and_then(|host| parse_issuer_did(did, host))
        .ok_or_else(|| unresolved("only did:key and this registry's did:web issuers resolve"))?;
    if fragment.is_empty() {
        return Err(unresolved(
            "a registry issuer method names its key in the fragment",
        ));
    }
    let key = lookup(uscc, fragment.to_owned())
        .await?
        .ok_or_else(|| unresolved("the issuer has no such key"))?;
    let signed_at = match &prepared.created {
        // `prepare` checked `created` is RFC 3339.
        Some(created) => DateTime::parse_from_rfc3339(created)
            .map_err(|_| ProofError::CreatedInvalid)?
            .with_timezone(&Utc),
        None => now,
    };
    key.usable_at(signed_at)
        .map_err(|reason| VcApiError::KeyUnusable {
            method: method.to_owned(),
            reason,
        })?;
    multikey::decode(&key.multikey).map_err(|e| unresolved(&e.to_string()))
}

/// The credential's data model, from its first `@context` entry.
fn credential_version(credential: &Map<String, Value>) -> Result<VcVersion, VcApiError> {
    let first = match credential.get("@context") {
        Some(Value::Array(contexts)) => contexts.first().and_then(Value::as_str),
        _ => None,
    };
    match first {
        Some(VC_V1_CONTEXT) => Ok(VcVersion::V1),
        Some(VC_V2_CONTEXT) => Ok(VcVersion::V2),
        _ => Err(VcApiError::request(
            "invalid_context",
            format!("@context must be an array starting with {VC_V2_CONTEXT} or {VC_V1_CONTEXT}"),
        )),
    }
}

/// Appends the Data Integrity context to a VC 1.1 `@context` unless it is there already.
fn add_data_integrity_context(credential: &mut Map<String, Value>) {
    if let Some(Value::Array(contexts)) = credential.get_mut("@context") {
        if !contexts.iter().any(|c| c == DATA_INTEGRITY_V2_CONTEXT) {
            contexts.push(DATA_INTEGRITY_V2_CONTEXT.into());
        }
    }
}

/// `options`: absent or null is empty; anything else must be an object (unknown keys ignored).
fn options(options: Option<Value>) -> Result<Map<String, Value>, VcApiError> {
    match options {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(VcApiError::request(
            "invalid_option",
            "options must be a JSON object",
        )),
    }
}

fn into_object(value: Value, what: &str) -> Result<Map<String, Value>, VcApiError> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(VcApiError::request(
            "not_an_object",
            format!("{what} must be a JSON object"),
        )),
    }
}

/// An RFC 3339 date-time that is also an XML Schema `dateTime`: upper-case `T` separator and a
/// time zone (`Z` or an offset), as proofs require.
fn is_xml_date_time(s: &str) -> bool {
    DateTime::parse_from_rfc3339(s).is_ok()
        && s.as_bytes().get(10) == Some(&b'T')
        && !s.ends_with('z')
}

#[cfg(test)]
mod tests;
