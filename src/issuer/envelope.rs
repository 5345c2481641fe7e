//! Submission envelopes: one signed step of the issuer's hash chain, carrying licences and
//! status changes.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::crypto::keys::KeyPair;
use crate::crypto::proof::{self, ProofError, ProofOptions};

/// Why a document cannot be an envelope item.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// Not an object of a known shape.
    #[error("not a signed licence, a {{\"licence\": …}} item or a {{\"statusChange\": …}} item")]
    UnknownItem,
    /// A licence without a proof.
    #[error("the licence is not signed (run `elicence issuer sign` first)")]
    Unsigned,
}

/// Builds and signs envelope `sequence` of `issuer_did`. `previous` is the digest of envelope
/// `sequence - 1` (`None` for the first); `items` are `{"licence": …}` / `{"statusChange": …}`.
pub fn build_envelope(
    issuer_did: &str,
    sequence: u64,
    previous: Option<String>,
    items: Vec<Value>,
    key: &KeyPair,
    verification_method: &str,
    created: DateTime<Utc>,
) -> Result<Value, ProofError> {
    let envelope = json!({
        "issuer": issuer_did,
        "sequence": sequence,
        "previous": previous,
        "items": items,
    });
    proof::sign(
        &envelope,
        key,
        &ProofOptions::assertion(verification_method, created),
    )
}

/// Turns a document read from a file into an envelope item: a signed VC is wrapped as
/// `{"licence": …}`; an item already wrapped (`licence` or `statusChange`) passes through.
pub fn item_from_document(document: Value) -> Result<Value, EnvelopeError> {
    let Value::Object(fields) = document else {
        return Err(EnvelopeError::UnknownItem);
    };
    let wrapped = fields.len() == 1
        && (fields.contains_key("licence") || fields.contains_key("statusChange"));
    if wrapped {
        if let Some(vc) = fields.get("licence") {
            require_proof(vc)?;
        }
        return Ok(Value::Object(fields));
    }
    let is_vc = fields
        .get("type")
        .and_then(Value::as_array)
        .is_some_and(|types| types.iter().any(|t| t == "VerifiableCredential"));
    if !is_vc {
        return Err(EnvelopeError::UnknownItem);
    }
    let vc = Value::Object(fields);
    require_proof(&vc)?;
    let mut item = Map::new();
    item.insert("licence".into(), vc);
    Ok(Value::Object(item))
}

fn require_proof(vc: &Value) -> Result<(), EnvelopeError> {
    match vc.get("proof") {
        Some(_) => Ok(()),
        None => Err(EnvelopeError::Unsigned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::digest::digest_value;
    use crate::issuer::ChainState;

    #[test]
    fn envelopes_verify_and_chain() {
        let key = KeyPair::generate();
        let did = "did:web:127.0.0.1%3A8080:issuers:11220000013544541J";
        let vm = format!("{did}#{}", key.multikey());
        let mut state = ChainState::new("http://127.0.0.1:8080", did);
        let mut previous_digest = None;
        for sequence in 1..=3 {
            let items = vec![json!({"statusChange": {"licence": "urn:elicence:x"}})];
            let (seq, prev) = state.next();
            assert_eq!((seq, prev.clone()), (sequence, previous_digest.clone()));
            let envelope = build_envelope(did, seq, prev, items, &key, &vm, Utc::now()).unwrap();
            proof::verify(&envelope, |m| (m == vm).then(|| key.verifying_key()))
                .expect("envelope proof verifies");
            assert_eq!(envelope["sequence"], sequence);
            assert_eq!(envelope["previous"], json!(previous_digest));
            assert_eq!(envelope["proof"]["proofPurpose"], "assertionMethod");
            state.advance(&envelope);
            previous_digest = Some(digest_value(&envelope));
            assert_eq!(state.digest, previous_digest);
        }
    }

    #[test]
    fn wraps_signed_licences_and_passes_items_through() {
        let vc = json!({"type": ["VerifiableCredential", "ELicence"], "proof": {}});
        assert_eq!(
            item_from_document(vc.clone()).unwrap(),
            json!({"licence": vc})
        );
        let status = json!({"statusChange": {"action": "suspend"}});
        assert_eq!(item_from_document(status.clone()).unwrap(), status);
        let unsigned = json!({"type": ["VerifiableCredential"]});
        assert!(matches!(
            item_from_document(unsigned),
            Err(EnvelopeError::Unsigned)
        ));
        assert!(item_from_document(json!([1])).is_err());
    }
}
