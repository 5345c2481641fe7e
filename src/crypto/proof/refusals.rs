//! Tests for [`super`]'s refusals: one case per error code, each code distinct, and what
//! signing refuses.

use std::collections::HashSet;

use serde_json::json;

use super::tests::{code_of, did_key, json, w3c_options};
use super::*;
use crate::crypto::keys::KeyPair;

#[test]
fn each_malformed_proof_fails_with_its_own_code() {
    let signed = json("eddsa-jcs-2022/signedJCS.json");
    let proof = signed["proof"].clone();
    let with_proof = |proof: Value| {
        let mut document = signed.clone();
        document["proof"] = proof;
        document
    };
    let edit = |field: &str, value: Option<Value>| {
        let mut proof = proof.clone();
        let fields = proof.as_object_mut().unwrap();
        match value {
            Some(value) => fields.insert(field.to_owned(), value),
            None => fields.shift_remove(field),
        };
        with_proof(proof)
    };
    let short = format!("z{}", bs58::encode([1u8; 63]).into_string());
    let mut no_proof = signed.clone();
    no_proof.as_object_mut().unwrap().shift_remove("proof");
    let mut no_doc_context = signed.clone();
    no_doc_context
        .as_object_mut()
        .unwrap()
        .shift_remove("@context");
    let cases = [
        (json!([signed.clone()]), "document_not_object"),
        (no_proof, "proof_missing"),
        (with_proof(json!("proof")), "proof_malformed"),
        (with_proof(json!([])), "proof_multiple"),
        (
            with_proof(json!([proof.clone(), proof.clone()])),
            "proof_multiple",
        ),
        (
            edit("type", Some(json!("Ed25519Signature2020"))),
            "proof_type",
        ),
        (edit("type", None), "proof_type"),
        (
            edit("cryptosuite", Some(json!("eddsa-rdfc-2022"))),
            "proof_cryptosuite",
        ),
        (edit("proofPurpose", None), "proof_purpose_missing"),
        (
            edit("proofPurpose", Some(json!(["assertionMethod"]))),
            "proof_purpose_missing",
        ),
        (
            edit("verificationMethod", None),
            "verification_method_missing",
        ),
        (
            edit("verificationMethod", Some(json!(""))),
            "verification_method_missing",
        ),
        (edit("proofValue", None), "proof_value_missing"),
        (edit("proofValue", Some(json!(null))), "proof_value_missing"),
        (
            edit("proofValue", Some(json!(short))),
            "proof_value_encoding",
        ),
        (
            edit("proofValue", Some(json!("uAAAA"))),
            "proof_value_encoding",
        ),
        (
            edit("proofValue", Some(json!("z0OIl"))),
            "proof_value_encoding",
        ),
        (
            edit("@context", Some(json!(["https://example.org/other"]))),
            "proof_context_mismatch",
        ),
        (
            edit(
                "@context",
                Some(json!("https://www.w3.org/ns/credentials/examples/v2")),
            ),
            "proof_context_mismatch",
        ),
        (no_doc_context, "proof_context_mismatch"),
        (
            edit("created", Some(json!("2023-02-24"))),
            "created_invalid",
        ),
        (
            edit("created", Some(json!("2023-02-24T23:36:38"))),
            "created_invalid",
        ),
        (edit("created", Some(json!(1677281798))), "created_invalid"),
        (edit("created", None), "signature_invalid"),
        (
            edit("proofPurpose", Some(json!("authentication"))),
            "signature_invalid",
        ),
        (edit("nonce", Some(json!("1234"))), "signature_invalid"),
        (
            edit(
                "@context",
                Some(json!("https://www.w3.org/ns/credentials/v2")),
            ),
            "signature_invalid",
        ),
    ];
    for (document, expected) in cases {
        assert_eq!(code_of(&document), expected, "{document}");
    }
    assert!(verify(&with_proof(json!([proof])), did_key).is_ok());
    assert_eq!(
        verify(&signed, |_| None).unwrap_err().code(),
        "key_unresolved"
    );
}

#[test]
fn codes_are_distinct() {
    let all = [
        ProofError::DocumentNotObject,
        ProofError::AlreadySigned,
        ProofError::Missing,
        ProofError::Malformed,
        ProofError::Multiple(2),
        ProofError::Type,
        ProofError::Cryptosuite,
        ProofError::PurposeMissing,
        ProofError::VerificationMethodMissing,
        ProofError::ProofValueMissing,
        ProofError::ProofValueEncoding,
        ProofError::ContextMismatch,
        ProofError::CreatedInvalid,
        ProofError::KeyUnresolved,
        ProofError::SignatureInvalid,
    ];
    let codes: HashSet<_> = all.iter().map(ProofError::code).collect();
    assert_eq!(codes.len(), all.len());
}

#[test]
fn signing_refuses_bad_input() {
    let key = KeyPair::generate();
    let signed = json("eddsa-jcs-2022/signedJCS.json");
    assert_eq!(
        sign(&signed, &key, &w3c_options()).unwrap_err(),
        ProofError::AlreadySigned
    );
    assert_eq!(
        sign(&json!("x"), &key, &w3c_options()).unwrap_err(),
        ProofError::DocumentNotObject
    );
    let mut options = w3c_options();
    options.created = "last tuesday".into();
    assert_eq!(
        sign(&json!({}), &key, &options).unwrap_err(),
        ProofError::CreatedInvalid
    );
    let mut options = w3c_options();
    options.verification_method.clear();
    assert_eq!(
        sign(&json!({}), &key, &options).unwrap_err(),
        ProofError::VerificationMethodMissing
    );
}
