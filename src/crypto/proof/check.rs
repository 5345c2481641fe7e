//! A proof's signature check in two steps: begun ([`PreparedProof::begin`]), then ended
//! alone ([`BegunProof::finish`]) or with others ([`finish_all`]), where the checks by comb
//! tables share one field inversion ([`comb::settle`]).

use ed25519_dalek::VerifyingKey;

use super::{PreparedProof, ProofError, VerifiedProof};
use crate::crypto::comb::{self, KeyTable};

impl PreparedProof {
    /// [`Self::verify_by`] but for the last step of a table's check, which [`finish_all`]
    /// shares among many proofs.
    pub fn begin(self, key: &VerifyingKey, table: Option<&KeyTable>) -> BegunProof {
        let check = match table {
            Some(table) if table.key() == key => table
                .begin(&self.message, &self.signature)
                .map_or(Check::Done(false), Check::Pending),
            _ => Check::Done(key.verify_strict(&self.message, &self.signature).is_ok()),
        };
        BegunProof {
            check,
            verified: VerifiedProof {
                verification_method: self.verification_method,
                created: self.created,
                proof_purpose: self.proof_purpose,
            },
        }
    }
}

/// A proof whose signature check [`PreparedProof::begin`] began: what it asserts, once the
/// check ends ([`Self::finish`], or [`finish_all`]) with the signature valid.
#[derive(Debug, Clone)]
pub struct BegunProof {
    check: Check,
    verified: VerifiedProof,
}

#[derive(Debug, Clone)]
enum Check {
    Done(bool),
    Pending(comb::Pending),
}

impl BegunProof {
    /// [`PreparedProof::verify_by`]'s answer.
    pub fn finish(self) -> Result<VerifiedProof, ProofError> {
        finish_all(vec![self])
            .pop()
            .unwrap_or(Err(ProofError::SignatureInvalid))
    }
}

/// [`BegunProof::finish`] of every proof in `begun`, in order: the checks by comb tables share
/// one field inversion ([`comb::settle`]).
pub fn finish_all(begun: Vec<BegunProof>) -> Vec<Result<VerifiedProof, ProofError>> {
    let pending = begun.iter().filter_map(|b| match &b.check {
        Check::Pending(pending) => Some(pending),
        Check::Done(_) => None,
    });
    let mut settled = comb::settle(pending).into_iter();
    begun
        .into_iter()
        .map(|b| {
            let valid = match b.check {
                Check::Done(valid) => valid,
                Check::Pending(_) => settled.next() == Some(true),
            };
            valid
                .then_some(b.verified)
                .ok_or(ProofError::SignatureInvalid)
        })
        .collect()
}
