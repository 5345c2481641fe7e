//! Issuer proofs: an eddsa-jcs-2022 `assertionMethod` proof by one of the issuer's keys, in
//! force when it signed and still now, checked one document at a time or many together (their
//! signature checks then end with one field inversion for all: [`finish_prepared_proofs`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use super::{ItemError, Signed};
use crate::crypto::comb::KeyTable;
use crate::crypto::key_tables::KeyTables;
use crate::crypto::multikey;
use crate::crypto::proof;
use crate::domain::issuer::Issuer;

/// Checks an eddsa-jcs-2022 `assertionMethod` proof made by `issuer` under `did`: the
/// verification method is `<did>#<multikey>` of one of its keys, that key vouched for signatures
/// at `proof.created` and still does at `now` (so a revoked key cannot sign new submissions
/// with a backdated `created`), and the signature verifies. Costs one canonical form of the
/// document and one Ed25519 verification.
pub fn check_issuer_proof(
    document: &Value,
    did: &str,
    issuer: &Issuer,
    now: DateTime<Utc>,
) -> Result<Signed, ItemError> {
    check_issuer_proof_with(document, did, issuer, now, &mut DecodedKeys::default())
}

/// An issuer's keys as curve points, decoded from their Multikey (a point decompression each)
/// once per envelope rather than once per licence, each with its comb table once the shared
/// [`KeyTables`] have one. Holds only keys the issuer has, so no more entries than its key list.
#[derive(Debug, Default, Clone)]
pub struct DecodedKeys {
    pub(super) keys: Vec<(String, VerifyingKey, Option<Arc<KeyTable>>)>,
    tables: Option<Arc<KeyTables>>,
}

impl DecodedKeys {
    /// Keys that verify by the tables of `tables` where they have one.
    pub fn with_tables(tables: Arc<KeyTables>) -> Self {
        Self {
            keys: Vec::new(),
            tables: Some(tables),
        }
    }

    fn get(&mut self, multikey: &str) -> Option<(VerifyingKey, Option<Arc<KeyTable>>)> {
        let i = match self.keys.iter().position(|(m, _, _)| m == multikey) {
            Some(i) => i,
            None => {
                let key = multikey::decode(multikey).ok()?;
                self.keys.push((multikey.to_owned(), key, None));
                self.keys.len() - 1
            }
        };
        let (_, key, table) = &mut self.keys[i];
        if table.is_none() {
            *table = self.tables.as_ref().and_then(|tables| tables.get(key));
        }
        Some((*key, table.clone()))
    }
}

/// [`check_issuer_proof`], with the keys already decoded for earlier items of the envelope.
pub fn check_issuer_proof_with(
    document: &Value,
    did: &str,
    issuer: &Issuer,
    now: DateTime<Utc>,
    keys: &mut DecodedKeys,
) -> Result<Signed, ItemError> {
    check_prepared_proof(proof::prepare(document), did, issuer, now, keys)
}

/// [`check_issuer_proof_with`] of a document whose proof is already
/// [prepared](proof::prepare_with), from canonical forms written earlier.
pub fn check_prepared_proof(
    prepared: Result<proof::PreparedProof, proof::ProofError>,
    did: &str,
    issuer: &Issuer,
    now: DateTime<Utc>,
    keys: &mut DecodedKeys,
) -> Result<Signed, ItemError> {
    let begun = begin_prepared_proof(prepared, did, issuer, now, keys)?;
    begun.proof.finish()?;
    Ok(begun.signed)
}

impl From<proof::ProofError> for ItemError {
    /// A proof's refusal as the item's, with its stable code.
    fn from(e: proof::ProofError) -> Self {
        ItemError::new(e.code(), e.to_string())
    }
}

/// A document's proof checked by [`begin_prepared_proof`] but for the end of its signature
/// check ([`finish_prepared_proofs`]).
#[derive(Debug)]
pub struct BegunSigned {
    proof: proof::BegunProof,
    signed: Signed,
}

/// [`check_prepared_proof`] up to the end of the signature check, which
/// [`finish_prepared_proofs`] does for many documents at once.
pub fn begin_prepared_proof(
    prepared: Result<proof::PreparedProof, proof::ProofError>,
    did: &str,
    issuer: &Issuer,
    now: DateTime<Utc>,
    keys: &mut DecodedKeys,
) -> Result<BegunSigned, ItemError> {
    let prepared = prepared?;
    if prepared.proof_purpose != "assertionMethod" {
        return Err(ItemError::new(
            "proof_purpose",
            "proofPurpose must be assertionMethod",
        ));
    }
    let fragment = prepared
        .verification_method
        .strip_prefix(did)
        .and_then(|rest| rest.strip_prefix('#'))
        .ok_or_else(|| {
            ItemError::new(
                "key_unknown",
                format!("verificationMethod must be {did}#<multikey>"),
            )
        })?;
    let key = issuer
        .key(fragment)
        .ok_or_else(|| ItemError::new("key_unknown", "the issuer has no such key"))?;
    let created = prepared
        .created
        .as_deref()
        .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
        .ok_or_else(|| ItemError::new("proof_created_missing", "proof.created is required"))?
        .with_timezone(&Utc);
    for at in [created, now] {
        key.usable_at(at)
            .map_err(|e| ItemError::new(e.code(), e.to_string()))?;
    }
    let (public, table) = keys
        .get(fragment)
        .ok_or_else(|| ItemError::new("key_unknown", "the issuer key is not a Multikey"))?;
    // The digest is over the canonical form the signature check needs anyway.
    let digest = prepared.document_digest();
    Ok(BegunSigned {
        proof: prepared.begin(&public, table.as_deref()),
        signed: Signed { created, digest },
    })
}

/// The answers of [`check_prepared_proof`] for documents whose checks
/// [`begin_prepared_proof`] began, in order: the signature checks by comb tables share one
/// field inversion ([`proof::finish_all`]).
pub fn finish_prepared_proofs(
    begun: Vec<Result<BegunSigned, ItemError>>,
) -> Vec<Result<Signed, ItemError>> {
    let mut proofs = Vec::with_capacity(begun.len());
    let mut signed = Vec::with_capacity(begun.len());
    for b in begun {
        match b {
            Ok(BegunSigned { proof, signed: s }) => {
                proofs.push(proof);
                signed.push(Ok(s));
            }
            Err(e) => signed.push(Err(e)),
        }
    }
    let mut answers = proof::finish_all(proofs).into_iter();
    signed
        .into_iter()
        .map(|s| {
            let s = s?;
            match answers.next() {
                Some(Ok(_)) => Ok(s),
                Some(Err(e)) => Err(e.into()),
                // Invariant: one answer for every begun proof.
                None => Err(ItemError::new(
                    "signature_invalid",
                    "the signature was not checked",
                )),
            }
        })
        .collect()
}
