//! The `signature` step, apart so that many credentials can share one Ed25519 batch.
//!
//! The key is the one the verification method itself names: a registry issuer's DID URL ends in
//! `#<Multikey>`, as does a `did:key`. Whether the registry vouches for that key is the next
//! check's business (`issuerKey`), so a credential signed by an unknown key still shows a valid
//! signature and a failed key check.

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;

use super::{RegistryView, SignatureInput};
use crate::crypto::{batch, proof};
use crate::domain::identifiers::LicenceId;

/// Why the signature step failed: a stable code and a detail.
pub type SignatureFailure = (&'static str, String);

/// A credential whose proof has been taken apart, ready for a signature check.
#[derive(Debug)]
pub struct Prepared<'a> {
    pub credential: &'a Value,
    input: Result<SignatureInput, SignatureFailure>,
    /// The credential's licence identifier, when the caller already parsed it.
    pub(super) known_id: Option<LicenceId>,
}

/// Checks the proof's shape and purpose, computes the signed message and resolves the key its
/// verification method names.
#[tracing::instrument(level = "debug", skip_all)]
pub fn prepare<'a>(credential: &'a Value, view: &dyn RegistryView) -> Prepared<'a> {
    let input = proof::prepare(credential)
        .map_err(|e| (e.code(), e.to_string()))
        .and_then(|p| {
            if p.proof_purpose != "assertionMethod" {
                return Err((
                    "proof_purpose",
                    "proofPurpose must be assertionMethod".into(),
                ));
            }
            let key = p
                .verification_method
                .split_once('#')
                .and_then(|(_, fragment)| view.key(fragment))
                .ok_or((
                    "verification_method_unresolved",
                    "the verification method does not end in #<Ed25519 Multikey>".to_owned(),
                ))?;
            Ok((p, key))
        });
    Prepared {
        credential,
        input,
        known_id: None,
    }
}

impl Prepared<'_> {
    /// The proof, when its shape was right.
    pub fn proof(&self) -> Option<&proof::PreparedProof> {
        self.input.as_ref().ok().map(|(p, _)| p)
    }

    /// Checks this signature alone, strictly.
    pub fn check_single(&self) -> Result<(), SignatureFailure> {
        let (p, key) = self.input.as_ref().map_err(Clone::clone)?;
        self.outcome(key.verify_strict(&p.message, &p.signature).is_ok())
    }

    /// The signed message, signature and key, for a check made elsewhere ([`super::coalesce`]);
    /// none when the proof could not be taken apart.
    pub fn signature_input(&self) -> Option<([u8; 64], Signature, VerifyingKey)> {
        let (p, key) = self.input.as_ref().ok()?;
        Some((p.message, p.signature, *key))
    }

    /// The signature step's result, given whether the signature verified.
    pub fn outcome(&self, valid: bool) -> Result<(), SignatureFailure> {
        self.input.as_ref().map_err(Clone::clone)?;
        if valid {
            Ok(())
        } else {
            Err((
                "signature_invalid",
                "the signature does not verify".to_owned(),
            ))
        }
    }
}

/// Checks every signature, in batches where there are several ([`batch::verify_each`]: the
/// terms of a shared key combined, a failed batch checked one by one to find the bad ones).
#[tracing::instrument(level = "debug", skip_all)]
pub fn verify_signatures(prepared: &[Prepared<'_>]) -> Vec<Result<(), SignatureFailure>> {
    let items: Vec<batch::Item<'_>> = prepared
        .iter()
        .filter_map(|p| p.input.as_ref().ok())
        .map(|(p, key)| batch::Item {
            message: &p.message,
            signature: &p.signature,
            key,
        })
        .collect();
    let mut valid = batch::verify_each(&items).into_iter();
    prepared
        .iter()
        // Only a proof that could be taken apart has an item.
        .map(|p| p.outcome(p.input.is_ok() && valid.next().unwrap_or(false)))
        .collect()
}
