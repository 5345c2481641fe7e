//! eddsa-jcs-2022 proof verification (`crypto::proof::verify`, `prepare_set`, `verify_with`) on
//! mutated credentials: the seeds are signed credentials, libFuzzer mutates their bytes. The
//! key is resolved from the verification method (did:key) or is one of the fixed keys; a
//! document that verifies must still verify after a round trip through its canonical form.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

use elicence::crypto::{jcs, multikey, proof, strict_json};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(document) = strict_json::parse(data, common::MAX_JSON) else {
        return;
    };
    let vector = multikey::decode(common::VECTOR_PUBLIC).expect("vector key");
    let seed = common::seed_key().verifying_key();
    let resolve = |method: &str| {
        multikey::resolve_did_key(method).ok().or_else(|| {
            let fragment = method.rsplit('#').next().unwrap_or(method);
            multikey::decode(fragment).ok()
        })
    };
    let verified = proof::verify(&document, resolve).is_ok();
    if let Ok(set) = proof::prepare_set(&document) {
        for prepared in set {
            let _ = prepared.document_digest();
            let _ = prepared.clone().verify_with(&vector);
            let _ = prepared.verify_with(&seed);
        }
    }
    if verified {
        let canonical = jcs::canonicalize(&document);
        let again: Value = serde_json::from_slice(&canonical).expect("canonical parses");
        assert!(proof::verify(&again, resolve).is_ok(), "verification depends on member order");
    }
});
