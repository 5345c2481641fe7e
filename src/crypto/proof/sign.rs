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
    let mut proof = Map::new();
    proof.insert("type".into(), PROOF_TYPE.into());
    proof.insert("cryptosuite".into(), CRYPTOSUITE.into());
    proof.insert("created".into(), options.created.clone().into());
    proof.insert(
        "verificationMethod".into(),
        options.verification_method.clone().into(),
    );
    proof.insert("proofPurpose".into(), options.proof_purpose.clone().into());
    if let Some(context) = options.context.as_ref().or(fields.member("@context")) {
        proof.insert("@context".into(), context.clone());
    }
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
