//! W3C Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite
//! (vc-di-eddsa §3.3): create and verify a `DataIntegrityProof` over a JSON
//! document canonicalised with JCS.
//!
//! hashData = SHA-256(JCS(proof config)) ‖ SHA-256(JCS(document without
//! `proof`)); the signature is pure Ed25519 over those 64 bytes and
//! `proofValue` is `z` + base58btc(signature). The proof config is the proof
//! without `proofValue`; its `@context`, when present, must be a prefix of the
//! document's `@context`.
//!
//! [`prepare`] and [`verify`] take exactly one proof: a `proof` object, or an
//! array of exactly one; more are refused (`proof_multiple`) rather than
//! half-checked. [`prepare_set`] checks a proof set (an array of proofs, each
//! made independently over the document without `proof`) for callers that
//! require every proof to verify. Proof chains (`previousProof`) are not
//! supported: a chained proof fails as `signature_invalid`.

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, VerifyingKey, SIGNATURE_LENGTH};
use serde_json::{Map, Value};

use sha2::{Digest as _, Sha256};

use crate::crypto::comb::KeyTable;
use crate::crypto::digest::multibase_of;
use crate::crypto::jcs::{canonicalize_signed, SignedForms};
use crate::crypto::strict_json::Member as _;

/// The proof `type` this module produces and accepts.
pub const PROOF_TYPE: &str = "DataIntegrityProof";
/// The cryptosuite this module produces and accepts.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";

/// Why a proof could not be created or did not verify. Each variant has a
/// stable machine-readable [`code`](ProofError::code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The document is not a JSON object.
    #[error("document is not a JSON object")]
    DocumentNotObject,
    /// Signing: the document already has a `proof`.
    #[error("document already has a proof")]
    AlreadySigned,
    /// The document has no `proof`.
    #[error("document has no proof")]
    Missing,
    /// `proof` is neither an object nor an array of one object.
    #[error("proof is not a JSON object")]
    Malformed,
    /// `proof` is an array of more or fewer than one proof.
    #[error("exactly one proof is supported, found {0}")]
    Multiple(usize),
    /// `type` is not `DataIntegrityProof`.
    #[error("proof type is not DataIntegrityProof")]
    Type,
    /// `cryptosuite` is not `eddsa-jcs-2022`.
    #[error("proof cryptosuite is not eddsa-jcs-2022")]
    Cryptosuite,
    /// `proofPurpose` is absent, empty or not a string.
    #[error("proof has no proofPurpose")]
    PurposeMissing,
    /// `verificationMethod` is absent, empty or not a string.
    #[error("proof has no verificationMethod")]
    VerificationMethodMissing,
    /// `proofValue` is absent or not a string.
    #[error("proof has no proofValue")]
    ProofValueMissing,
    /// `proofValue` is not `z` + base58btc of 64 bytes.
    #[error("proofValue is not a base58btc Ed25519 signature")]
    ProofValueEncoding,
    /// The proof's `@context` is not a prefix of the document's.
    #[error("proof @context is not a prefix of the document @context")]
    ContextMismatch,
    /// `created` is present but not an RFC 3339 date-time with offset.
    #[error("proof created is not an RFC 3339 date-time")]
    CreatedInvalid,
    /// The caller could not resolve the verification method to a key.
    #[error("verification method could not be resolved to a key")]
    KeyUnresolved,
    /// The signature does not verify.
    #[error("signature does not verify")]
    SignatureInvalid,
}

impl ProofError {
    /// Stable machine-readable code, for problem details and logs.
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::DocumentNotObject => "document_not_object",
            ProofError::AlreadySigned => "proof_already_present",
            ProofError::Missing => "proof_missing",
            ProofError::Malformed => "proof_malformed",
            ProofError::Multiple(_) => "proof_multiple",
            ProofError::Type => "proof_type",
            ProofError::Cryptosuite => "proof_cryptosuite",
            ProofError::PurposeMissing => "proof_purpose_missing",
            ProofError::VerificationMethodMissing => "verification_method_missing",
            ProofError::ProofValueMissing => "proof_value_missing",
            ProofError::ProofValueEncoding => "proof_value_encoding",
            ProofError::ContextMismatch => "proof_context_mismatch",
            ProofError::CreatedInvalid => "created_invalid",
            ProofError::KeyUnresolved => "key_unresolved",
            ProofError::SignatureInvalid => "signature_invalid",
        }
    }
}

/// What to put in a new proof besides the fixed type and cryptosuite.
#[derive(Debug, Clone, PartialEq)]
pub struct ProofOptions {
    /// DID URL of the signing key, e.g. `did:web:…#key-1`.
    pub verification_method: String,
    /// RFC 3339 date-time with offset, e.g. `2023-02-24T23:36:38Z`.
    pub created: String,
    /// Usually `assertionMethod`.
    pub proof_purpose: String,
    /// The proof's `@context`; `None` copies the document's `@context` (as the
    /// W3C vectors do). Must be a prefix of the document's `@context`.
    pub context: Option<Value>,
}

impl ProofOptions {
    /// Options for an `assertionMethod` proof created at `created` (to the
    /// second, in UTC) that copies the document's `@context`.
    pub fn assertion(verification_method: impl Into<String>, created: DateTime<Utc>) -> Self {
        ProofOptions {
            verification_method: verification_method.into(),
            created: created.to_rfc3339_opts(SecondsFormat::Secs, true),
            proof_purpose: "assertionMethod".to_owned(),
            context: None,
        }
    }
}

/// A proof whose shape has been checked, ready for a signature check with a
/// key the caller resolves (possibly in a batch with `ed25519_dalek::verify_batch`,
/// which is less strict than [`PreparedProof::verify_with`]).
#[derive(Debug, Clone)]
pub struct PreparedProof {
    /// hashData: the 64 bytes that were signed.
    pub message: [u8; 64],
    /// The decoded `proofValue`.
    pub signature: Signature,
    /// The proof's `verificationMethod`.
    pub verification_method: String,
    /// The proof's `created`, if any (already checked to be RFC 3339).
    pub created: Option<String>,
    /// The proof's `proofPurpose`.
    pub proof_purpose: String,
    /// The canonical form of the whole document, proof included ([`Self::document_digest`]).
    canonical: Vec<u8>,
    /// SHA-256 over the canonical form up to the `proof` member, which the form without the
    /// proof shares: the digest continues from it instead of hashing that part again.
    before_proof: (Sha256, usize),
}

/// What a verified proof asserts. The caller decides whether the method and
/// purpose are acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The proof's `verificationMethod`.
    pub verification_method: String,
    /// The proof's `created`, if any.
    pub created: Option<String>,
    /// The proof's `proofPurpose`.
    pub proof_purpose: String,
}

impl PreparedProof {
    /// The multibase SHA-256 of the whole document's canonical form, proof included: what the
    /// registry records as a licence's digest ([`crate::crypto::digest::digest_value`]), from
    /// the form already written for the signature.
    pub fn document_digest(&self) -> String {
        multibase_of(&self.document_sha256())
    }

    /// The SHA-256 inside [`Self::document_digest`].
    pub fn document_sha256(&self) -> [u8; 32] {
        let (hashed, len) = &self.before_proof;
        hashed
            .clone()
            .chain_update(&self.canonical[*len..])
            .finalize()
            .into()
    }

    /// Checks the signature with `key` using strict Ed25519 verification.
    pub fn verify_with(self, key: &VerifyingKey) -> Result<VerifiedProof, ProofError> {
        self.verify_by(key, None)
    }

    /// [`Self::verify_with`], by `key`'s comb table when there is one (the same answer, about
    /// half the work: [`crate::crypto::comb`]).
    pub fn verify_by(
        self,
        key: &VerifyingKey,
        table: Option<&KeyTable>,
    ) -> Result<VerifiedProof, ProofError> {
        self.begin(key, table).finish()
    }
}

/// Checks the proof's shape and computes the signed message, leaving key
/// resolution and the signature check to the caller.
pub fn prepare(document: &Value) -> Result<PreparedProof, ProofError> {
    prepare_with(document, canonicalize_signed)
}

/// [`prepare`], with the document's canonical forms from `canonical` (which must give what
/// [`canonicalize_signed`] gives, such as forms written earlier or written reusing others).
pub fn prepare_with(
    document: &Value,
    canonical: impl FnOnce(&Map<String, Value>) -> Option<SignedForms>,
) -> Result<PreparedProof, ProofError> {
    let fields = document.as_object().ok_or(ProofError::DocumentNotObject)?;
    let proof = single_proof(fields.member("proof").ok_or(ProofError::Missing)?)?;
    let Some(Value::String(proof_value)) = proof.member("proofValue") else {
        return Err(ProofError::ProofValueMissing);
    };
    // The proof config is the proof without `proofValue`, which the checks never read.
    let (verification_method, proof_purpose, created) = check_config(fields, proof)?;
    let signature = decode_proof_value(proof_value)?;
    // One canonical pass gives both signed forms (and the whole document's, for its digest).
    let forms = canonical(fields).ok_or(ProofError::Malformed)?;
    let hash = |parts: [&[u8]; 2]| -> [u8; 32] {
        Sha256::new()
            .chain_update(parts[0])
            .chain_update(parts[1])
            .finalize()
            .into()
    };
    let mut message = [0u8; 64];
    message[..32].copy_from_slice(&hash(forms.proof_config()));
    let [before, after] = forms.document_without_proof();
    let before_proof = Sha256::new().chain_update(before);
    message[32..].copy_from_slice(&before_proof.clone().chain_update(after).finalize());
    Ok(PreparedProof {
        message,
        signature,
        verification_method,
        created,
        proof_purpose,
        before_proof: (before_proof, before.len()),
        canonical: forms.full,
    })
}

/// Checks every proof of a proof set (or a single proof) and computes each
/// signed message. An empty array is [`ProofError::Missing`]; the caller must
/// require every returned proof to verify.
pub fn prepare_set(document: &Value) -> Result<Vec<PreparedProof>, ProofError> {
    let fields = document.as_object().ok_or(ProofError::DocumentNotObject)?;
    match fields.member("proof").ok_or(ProofError::Missing)? {
        Value::Array(proofs) if proofs.is_empty() => Err(ProofError::Missing),
        Value::Array(proofs) => proofs
            .iter()
            .map(|proof| {
                let mut single = fields.clone();
                single.insert("proof".into(), proof.clone());
                prepare(&Value::Object(single))
            })
            .collect(),
        _ => Ok(vec![prepare(document)?]),
    }
}

/// Verifies the document's proof with the key `resolve` returns for its
/// verification method.
pub fn verify(
    document: &Value,
    resolve: impl FnOnce(&str) -> Option<VerifyingKey>,
) -> Result<VerifiedProof, ProofError> {
    let prepared = prepare(document)?;
    let key = resolve(&prepared.verification_method).ok_or(ProofError::KeyUnresolved)?;
    prepared.verify_with(&key)
}

/// Accepts a proof object or an array holding exactly one.
fn single_proof(proof: &Value) -> Result<&Map<String, Value>, ProofError> {
    let proof = match proof {
        Value::Array(proofs) if proofs.len() == 1 => &proofs[0],
        Value::Array(proofs) => return Err(ProofError::Multiple(proofs.len())),
        other => other,
    };
    proof.as_object().ok_or(ProofError::Malformed)
}

/// Checks a proof config against the suite and the document, returning its
/// verification method, purpose and created.
fn check_config(
    document: &Map<String, Value>,
    config: &Map<String, Value>,
) -> Result<(String, String, Option<String>), ProofError> {
    let text = |name: &str| {
        config
            .member(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if config.member("type").and_then(Value::as_str) != Some(PROOF_TYPE) {
        return Err(ProofError::Type);
    }
    if config.member("cryptosuite").and_then(Value::as_str) != Some(CRYPTOSUITE) {
        return Err(ProofError::Cryptosuite);
    }
    let purpose = text("proofPurpose").ok_or(ProofError::PurposeMissing)?;
    let method = text("verificationMethod").ok_or(ProofError::VerificationMethodMissing)?;
    let created = match config.member("created") {
        None => None,
        Some(Value::String(s)) if DateTime::parse_from_rfc3339(s).is_ok() => Some(s.clone()),
        Some(_) => return Err(ProofError::CreatedInvalid),
    };
    if let Some(context) = config.member("@context") {
        let document_context = document
            .member("@context")
            .ok_or(ProofError::ContextMismatch)?;
        if !as_list(document_context).starts_with(as_list(context)) {
            return Err(ProofError::ContextMismatch);
        }
    }
    Ok((method.to_owned(), purpose.to_owned(), created))
}

/// A JSON-LD `@context` as a list: a single value is a list of one.
fn as_list(context: &Value) -> &[Value] {
    match context {
        Value::Array(items) => items,
        single => std::slice::from_ref(single),
    }
}

/// Decodes `z` + base58btc of a 64-byte signature.
fn decode_proof_value(proof_value: &str) -> Result<Signature, ProofError> {
    let encoded = proof_value
        .strip_prefix('z')
        .ok_or(ProofError::ProofValueEncoding)?;
    let bytes = crate::crypto::base58::decode::<SIGNATURE_LENGTH>(encoded)
        .ok_or(ProofError::ProofValueEncoding)?;
    Ok(Signature::from_bytes(&bytes))
}

mod check;
mod sign;

pub use check::{finish_all, BegunProof};
pub use sign::{hash_data, sign, sign_owned, Stamp};

#[cfg(test)]
mod refusals;
#[cfg(test)]
mod tests;
