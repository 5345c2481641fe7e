//! Tests for [`super`]: the W3C vc-di-eddsa `eddsa-jcs-2022` vectors, every
//! intermediate value, tampering, round trips and digests. The refusals are in `refusals.rs`.

use chrono::TimeZone as _;
use ed25519_dalek::SigningKey;
use serde_json::json;

use super::*;
use crate::crypto::digest::sha256;
use crate::crypto::jcs::canonicalize;
use crate::crypto::keys::KeyPair;
use crate::crypto::multikey::{decode_private, resolve_did_key};
use crate::crypto::strict_json;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/vc-di-eddsa");

/// A text vector; the files carry no trailing newline, but tolerate one.
fn text(name: &str) -> String {
    let raw = std::fs::read_to_string(format!("{VECTORS}/{name}")).unwrap();
    raw.trim_end_matches(['\n', '\r']).to_owned()
}

/// A JSON vector, parsed strictly (no duplicate keys).
pub(super) fn json(name: &str) -> Value {
    strict_json::parse_str(&text(name), 1 << 20).unwrap()
}

fn w3c_key() -> KeyPair {
    let private = json("keyPair.json")["privateKeyMultibase"]
        .as_str()
        .unwrap()
        .to_owned();
    KeyPair::from(decode_private(&private).unwrap())
}

pub(super) fn w3c_options() -> ProofOptions {
    let config = json("eddsa-jcs-2022/proofConfigJCS.json");
    ProofOptions {
        verification_method: config["verificationMethod"].as_str().unwrap().to_owned(),
        created: config["created"].as_str().unwrap().to_owned(),
        proof_purpose: config["proofPurpose"].as_str().unwrap().to_owned(),
        context: None,
    }
}

pub(super) fn did_key(method: &str) -> Option<VerifyingKey> {
    resolve_did_key(method).ok()
}

pub(super) fn code_of(document: &Value) -> &'static str {
    verify(document, did_key).unwrap_err().code()
}

#[test]
fn reproduces_every_w3c_intermediate() {
    let config = json("eddsa-jcs-2022/proofConfigJCS.json");
    let unsigned = json("unsigned.json");
    let proof_canon = canonicalize(&config);
    assert_eq!(
        String::from_utf8(proof_canon.clone()).unwrap(),
        text("eddsa-jcs-2022/proofCanonJCS.txt")
    );
    assert_eq!(
        hex::encode(sha256(&proof_canon)),
        text("eddsa-jcs-2022/proofHashJCS.txt")
    );
    let doc_canon = canonicalize(&unsigned);
    assert_eq!(
        String::from_utf8(doc_canon.clone()).unwrap(),
        text("eddsa-jcs-2022/canonDocJCS.txt")
    );
    assert_eq!(
        hex::encode(sha256(&doc_canon)),
        text("eddsa-jcs-2022/docHashJCS.txt")
    );

    let combined = hash_data(&unsigned, &config);
    assert_eq!(
        hex::encode(combined),
        text("eddsa-jcs-2022/combinedHashJCS.txt")
    );
    let signature = w3c_key().sign(&combined);
    assert_eq!(
        hex::encode(signature.to_bytes()),
        text("eddsa-jcs-2022/sigHexJCS.txt")
    );
    let encoded = format!("z{}", bs58::encode(signature.to_bytes()).into_string());
    assert_eq!(encoded, text("eddsa-jcs-2022/sigBTC58JCS.txt"));
}

#[test]
fn signing_the_w3c_document_yields_the_w3c_proof() {
    let signed = sign(&json("unsigned.json"), &w3c_key(), &w3c_options()).unwrap();
    let expected = json("eddsa-jcs-2022/signedJCS.json");
    // Compare serialisations too: Value equality ignores member order.
    assert_eq!(
        serde_json::to_string(&signed).unwrap(),
        serde_json::to_string(&expected).unwrap()
    );
    let prepared = prepare(&expected).unwrap();
    assert_eq!(
        hex::encode(prepared.message),
        text("eddsa-jcs-2022/combinedHashJCS.txt")
    );
}

#[test]
fn verifies_the_w3c_signed_document_with_did_key() {
    let verified = verify(&json("eddsa-jcs-2022/signedJCS.json"), did_key).unwrap();
    let options = w3c_options();
    assert_eq!(verified.verification_method, options.verification_method);
    assert_eq!(verified.created.as_deref(), Some(options.created.as_str()));
    assert_eq!(verified.proof_purpose, "assertionMethod");
}

#[test]
fn any_single_character_change_in_the_document_fails() {
    let signed = json("eddsa-jcs-2022/signedJCS.json");
    let original = serde_json::to_string(&signed).unwrap().into_bytes();
    let mut tested = 0;
    for i in 0..original.len() {
        let mut bytes = original.clone();
        bytes[i] ^= 0x01;
        let Ok(mutated) = strict_json::parse(&bytes, 1 << 20) else {
            continue;
        };
        if canonicalize(&mutated) == canonicalize(&signed) {
            continue;
        }
        tested += 1;
        assert!(
            verify(&mutated, did_key).is_err(),
            "byte {i} changed yet verified"
        );
    }
    assert!(tested > 700, "only {tested} mutations parsed");
}

#[test]
fn any_single_character_change_in_the_proof_value_fails() {
    let signed = json("eddsa-jcs-2022/signedJCS.json");
    let proof_value = signed["proof"]["proofValue"].as_str().unwrap().to_owned();
    for (i, c) in proof_value.char_indices() {
        let replacement = if c == '2' { '3' } else { '2' };
        let mut tampered = signed.clone();
        let value = format!(
            "{}{replacement}{}",
            &proof_value[..i],
            &proof_value[i + 1..]
        );
        tampered["proof"]["proofValue"] = value.into();
        let code = code_of(&tampered);
        assert!(
            matches!(code, "signature_invalid" | "proof_value_encoding"),
            "{i}: {code}"
        );
    }
}

#[test]
fn round_trips_with_a_fresh_key_and_no_context() {
    let key = KeyPair::generate();
    let method = format!("did:key:{0}#{0}", key.multikey());
    let created = Utc.with_ymd_and_hms(2025, 3, 1, 8, 30, 0).unwrap();
    let options = ProofOptions::assertion(&method, created);
    assert_eq!(options.created, "2025-03-01T08:30:00Z");
    let document = json!({"id": "urn:example:1", "claims": {"n": 1.5, "s": "证照"}});
    let signed = sign(&document, &key, &options).unwrap();
    assert!(signed["proof"].get("@context").is_none());
    let verified = verify(&signed, did_key).unwrap();
    assert_eq!(verified.verification_method, method);
    let other = KeyPair::generate().verifying_key();
    assert_eq!(
        verify(&signed, |_| Some(other)).unwrap_err().code(),
        "signature_invalid"
    );
}

/// The digest continues the hash of the form without the proof: it must still be the digest of
/// the whole canonical document, whatever sorts before and after `proof`, and whether the proof
/// is an object or an array of one.
#[test]
fn document_digest_is_the_whole_documents() {
    let key = KeyPair::generate();
    let method = format!("did:key:{0}#{0}", key.multikey());
    let created = Utc.with_ymd_and_hms(2025, 3, 1, 8, 30, 0).unwrap();
    let options = ProofOptions::assertion(&method, created);
    for document in [
        json!({"id": "urn:example:1", "type": ["X"], "zz": {"证": 1}}),
        json!({"a": 1}),
        json!({"zzz": "after proof only"}),
        json!({"pro": 0, "proof_": 1, "q": [1, 2.5, "é"]}),
    ] {
        let signed = sign(&document, &key, &options).unwrap();
        let expected = crate::crypto::digest::digest_value(&signed);
        assert_eq!(prepare(&signed).unwrap().document_digest(), expected);
        let mut as_array = signed.clone();
        as_array["proof"] = json!([signed["proof"].clone()]);
        assert_eq!(
            prepare(&as_array).unwrap().document_digest(),
            crate::crypto::digest::digest_value(&as_array)
        );
    }
}

#[test]
fn explicit_context_must_prefix_the_document_context() {
    let key = KeyPair::from(SigningKey::from_bytes(&[3; 32]));
    let document = json("unsigned.json");
    let mut options = w3c_options();
    options.context = Some(json!(["https://www.w3.org/ns/credentials/v2"]));
    let signed = sign(&document, &key, &options).unwrap();
    let verified = prepare(&signed).unwrap().verify_with(&key.verifying_key());
    assert!(verified.is_ok());
    options.context = Some(json!(["https://example.org/other"]));
    assert_eq!(
        sign(&document, &key, &options).unwrap_err(),
        ProofError::ContextMismatch
    );
}

#[test]
fn prepare_set_checks_each_proof_of_a_set() {
    let signed = json("eddsa-jcs-2022/signedJCS.json");
    let w3c_proof = signed["proof"].clone();
    let mut unsigned = signed.clone();
    unsigned.as_object_mut().unwrap().shift_remove("proof");
    let other = KeyPair::from(SigningKey::from_bytes(&[5; 32]));
    let method = format!("did:key:{0}#{0}", other.multikey());
    let created = Utc.with_ymd_and_hms(2025, 3, 1, 8, 30, 0).unwrap();
    let second = sign(
        &unsigned,
        &other,
        &ProofOptions::assertion(&method, created),
    )
    .unwrap();
    let mut set = unsigned.clone();
    set["proof"] = json!([w3c_proof, second["proof"].clone()]);

    let prepared = prepare_set(&set).unwrap();
    assert_eq!(prepared.len(), 2);
    for proof in prepared {
        let key = did_key(&proof.verification_method).unwrap();
        assert!(proof.verify_with(&key).is_ok());
    }
    assert_eq!(prepare_set(&signed).unwrap().len(), 1);
    set["proof"][1]["type"] = json!("Ed25519Signature2020");
    assert_eq!(prepare_set(&set).unwrap_err(), ProofError::Type);
    set["proof"] = json!([]);
    assert_eq!(prepare_set(&set).unwrap_err(), ProofError::Missing);
}
