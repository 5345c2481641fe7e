//! RFC 8785 JCS (`crypto::jcs`), differentially: for every input the strict reader accepts, the
//! canonical form equals `serde_json_canonicalizer`'s, `canonicalize_without` equals the
//! canonical form of the object without the member, and `canonicalize_signed`'s slices equal
//! the forms it stands for.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

use elicence::crypto::{jcs, strict_json};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = strict_json::parse(data, common::MAX_JSON) else {
        return;
    };
    let ours = jcs::canonicalize(&value);
    if let Ok(reference) = serde_json_canonicalizer::to_vec(&value) {
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&reference),
            "JCS differs from serde_json_canonicalizer"
        );
    }
    // The canonical form is a fixed point.
    // (Unless its budget, smaller than the input's when whitespace went, refuses it.)
    let reparsed: serde_json::Value = serde_json::from_slice(&ours).expect("canonical form parses");
    assert_eq!(jcs::canonicalize(&reparsed), ours);

    let Value::Object(object) = &value else {
        return;
    };
    for skip in ["proof", "proofValue", ""] {
        let mut without = object.clone();
        without.shift_remove(skip);
        assert_eq!(
            jcs::canonicalize_without(object, skip),
            jcs::canonicalize(&Value::Object(without))
        );
    }
    if let Some(forms) = jcs::canonicalize_signed(object) {
        assert_eq!(forms.full, ours);
        assert_eq!(forms.document_without_proof().concat(), jcs::canonicalize_without(object, "proof"));
        let proof = match &object["proof"] {
            Value::Array(proofs) => &proofs[0],
            proof => proof,
        };
        let proof = proof.as_object().expect("canonicalize_signed checked the shape");
        assert_eq!(forms.proof_config().concat(), jcs::canonicalize_without(proof, "proofValue"));
    }
});
