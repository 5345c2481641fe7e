//! Signing with eddsa-jcs-2022: the proof config from [`ProofOptions`], hashData over the JCS
//! forms of the config and the document, one Ed25519 signature.

use serde_json::{Map, Value};

use super::{check_config, ProofError, ProofOptions, CRYPTOSUITE, PROOF_TYPE};
use crate::crypto::digest::sha256;
use crate::crypto::jcs::{canonicalize, canonicalize_without};
use crate::crypto::keys::KeyPair;
use crate::crypto::strict_json::Member as _;

/// Signs `document` and returns it with a `proof` member appended.
pub fn sign(document: &Value, key: &KeyPair, options: &ProofOptions) -> Result<Value, ProofError> {
    sign_owned(document.clone(), key, options)
}

/// [`sign`], for a caller done with `document`: the proof is appended to it, without a copy
/// (a registry receipt of 100 licences is about 100 KB of JSON).
pub fn sign_owned(
    document: Value,
    key: &KeyPair,
    options: &ProofOptions,
) -> Result<Value, ProofError> {
    let Value::Object(mut fields) = document else {
        return Err(ProofError::DocumentNotObject);
    };
    if fields.contains_key("proof") {
        return Err(ProofError::AlreadySigned);
    }
    let mut proof = proof_config(options, fields.member("@context"));
    check_config(&fields, &proof)?;

    let config = canonicalize(&Value::Object(proof.clone()));
    let signature = key.sign(&hash_forms(
        &config,
        &canonicalize_without(&fields, "proof"),
    ));
    let proof_value = format!("z{}", bs58::encode(signature.to_bytes()).into_string());
    proof.insert("proofValue".into(), proof_value.into());
    fields.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(fields))
}

/// The proof without `proofValue`, its members in the order a signed document shows them.
fn proof_config(options: &ProofOptions, document_context: Option<&Value>) -> Map<String, Value> {
    let mut proof = Map::new();
    proof.insert("type".into(), PROOF_TYPE.into());
    proof.insert("cryptosuite".into(), CRYPTOSUITE.into());
    proof.insert("created".into(), options.created.clone().into());
    proof.insert(
        "verificationMethod".into(),
        options.verification_method.clone().into(),
    );
    proof.insert("proofPurpose".into(), options.proof_purpose.clone().into());
    if let Some(context) = options.context.as_ref().or(document_context) {
        proof.insert("@context".into(), context.clone());
    }
    proof
}

/// One set of proof options for many documents without `@context` signed together (a batch's
/// receipts), for a caller that writes their canonical forms itself: the proof config is
/// canonicalised and hashed once, and its text written once.
#[derive(Debug, Clone)]
pub struct Stamp {
    config_hash: [u8; 32],
    /// The proof's text as [`sign_owned`] appends it, up to where `proofValue` follows.
    open_proof: String,
}

impl Stamp {
    /// The stamp of `options`, for documents without `@context`.
    pub fn new(options: &ProofOptions) -> Result<Self, ProofError> {
        let proof = proof_config(options, None);
        check_config(&Map::new(), &proof)?;
        let config = canonicalize(&Value::Object(proof.clone()));
        let mut open_proof = Value::Object(proof).to_string();
        // Invariant: an object's text ends with its closing brace, and this one has members.
        open_proof.pop();
        Ok(Self {
            config_hash: sha256(&config),
            open_proof,
        })
    }

    /// The proof of the document whose canonical form is `canonical`, as text: what
    /// [`sign_owned`] appends as `proof` to that document without `@context`, serialised.
    pub fn proof(&self, key: &KeyPair, canonical: &[u8]) -> String {
        let mut message = [0u8; 64];
        message[..32].copy_from_slice(&self.config_hash);
        message[32..].copy_from_slice(&sha256(canonical));
        let signature = key.sign(&message);
        let mut proof = String::with_capacity(self.open_proof.len() + 112);
        proof.push_str(&self.open_proof);
        proof.push_str(",\"proofValue\":\"z");
        proof.push_str(&bs58::encode(signature.to_bytes()).into_string());
        proof.push_str("\"}");
        proof
    }
}

/// hashData for an unsecured document (one without `proof`) and a proof
/// config (the proof without `proofValue`): the SHA-256 of the JCS form of
/// each, proof config first.
pub fn hash_data(unsecured_document: &Value, proof_config: &Value) -> [u8; 64] {
    hash_forms(
        &canonicalize(proof_config),
        &canonicalize(unsecured_document),
    )
}

/// hashData from the two JCS forms already written.
fn hash_forms(proof_config: &[u8], unsecured_document: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&sha256(proof_config));
    out[32..].copy_from_slice(&sha256(unsecured_document));
    out
}
