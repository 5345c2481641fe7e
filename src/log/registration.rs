//! Registration receipts: the registry's signed promise that a licence version is in its log,
//! like a Certificate Transparency SCT. An offline verifier checks one with the pinned registry
//! key and needs no list of licences; a monitor checks that the leaf it names is in the log.
//!
//! Version 1 is 85 bytes (`docs/offline.md`, "Registration receipts", is the reference):
//!
//! ```text
//! version (1 byte, 0x01) ‖ key hash (4) ‖ leaf index (8, big-endian)
//!   ‖ accepted at (8, big-endian signed microseconds since the Unix epoch) ‖ signature (64)
//! ```
//!
//! The signature is Ed25519 over
//! `"elicence/registration/v1\n" ‖ origin ‖ "\n" ‖ digest (32) ‖ bytes 0..21 of the receipt`,
//! where `digest` is the SHA-256 inside the licence version's multibase digest (JCS of the signed
//! credential, proof included) and `origin` the log's origin (the checkpoint key name). Neither
//! travels in the receipt: the verifier computes the digest from the licence it holds and knows
//! the origin from the trust bundle. The key hash is the checkpoint key's
//! ([`super::checkpoint::key_hash`]). Ed25519 is deterministic, so the registry re-derives the
//! same bytes from the stored row whenever a holder asks.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use super::checkpoint::key_hash;

/// The version byte of this format.
pub const VERSION: u8 = 1;
/// The length of a version-1 receipt in bytes.
pub const LEN: usize = 85;
/// What the signature commits to first: the format and its version.
const CONTEXT: &[u8] = b"elicence/registration/v1\n";
/// The signed part of a receipt: version, key hash, leaf index, time.
const HEADER: usize = 21;

/// A parsed registration receipt (signature not yet checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    pub key_hash: [u8; 4],
    pub leaf_index: u64,
    /// Microseconds since the Unix epoch, the precision both stores keep.
    pub accepted_micros: i64,
    signature: [u8; 64],
}

/// Why a receipt was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("a registration receipt is base64url without padding")]
    Encoding,
    #[error("a version-1 registration receipt is {LEN} bytes")]
    Length,
    #[error("unknown registration receipt version {0}")]
    Version(u8),
    #[error("the receipt names another registry key")]
    KeyHash,
    #[error("the receipt's signature does not verify for this licence")]
    Signature,
}

impl Registration {
    /// Signs that the licence version with SHA-256 `digest` is leaf `leaf_index` of the log
    /// `origin`, accepted at `accepted_at`.
    pub fn sign(
        key: &SigningKey,
        origin: &str,
        digest: &[u8; 32],
        leaf_index: u64,
        accepted_at: DateTime<Utc>,
    ) -> Self {
        let mut receipt = Self {
            key_hash: key_hash(origin, &key.verifying_key()),
            leaf_index,
            accepted_micros: accepted_at.timestamp_micros(),
            signature: [0; 64],
        };
        receipt.signature = key.sign(&receipt.message(origin, digest)).to_bytes();
        receipt
    }

    /// The receipts of many licence versions accepted together, each `(digest, leaf index)`
    /// as [`sign`](Self::sign) gives it, with one field inversion for all the signatures
    /// ([`crate::crypto::sign_many`]).
    pub fn sign_all(
        key: &SigningKey,
        origin: &str,
        versions: &[([u8; 32], u64)],
        accepted_at: DateTime<Utc>,
    ) -> Vec<Self> {
        let key_hash = key_hash(origin, &key.verifying_key());
        let mut receipts: Vec<Self> = versions
            .iter()
            .map(|&(_, leaf_index)| Self {
                key_hash,
                leaf_index,
                accepted_micros: accepted_at.timestamp_micros(),
                signature: [0; 64],
            })
            .collect();
        let messages: Vec<Vec<u8>> = receipts
            .iter()
            .zip(versions)
            .map(|(receipt, (digest, _))| receipt.message(origin, digest))
            .collect();
        let signatures = crate::crypto::sign_many::sign_many(key, &messages);
        for (receipt, signature) in receipts.iter_mut().zip(signatures) {
            receipt.signature = signature;
        }
        receipts
    }

    /// When the registry accepted the licence version.
    pub fn accepted_at(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_micros(self.accepted_micros)
    }

    /// The receipt's bytes.
    pub fn to_bytes(&self) -> [u8; LEN] {
        let mut out = [0u8; LEN];
        out[..HEADER].copy_from_slice(&self.header());
        out[HEADER..].copy_from_slice(&self.signature);
        out
    }

    /// Reads a receipt's bytes: the version first, then the exact length it has.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RegistrationError> {
        match bytes.first() {
            Some(&VERSION) => {}
            Some(&other) => return Err(RegistrationError::Version(other)),
            None => return Err(RegistrationError::Length),
        }
        let bytes: &[u8; LEN] = bytes.try_into().map_err(|_| RegistrationError::Length)?;
        let word = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[at..at + 8]);
            w
        };
        let mut key_hash = [0u8; 4];
        key_hash.copy_from_slice(&bytes[1..5]);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&bytes[HEADER..]);
        Ok(Self {
            key_hash,
            leaf_index: u64::from_be_bytes(word(5)),
            accepted_micros: i64::from_be_bytes(word(13)),
            signature,
        })
    }

    /// The text form in JSON answers: base64url without padding (114 characters).
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.to_bytes())
    }

    /// Reads the text form.
    pub fn decode(text: &str) -> Result<Self, RegistrationError> {
        if text.len() > 2 * LEN {
            return Err(RegistrationError::Length);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| RegistrationError::Encoding)?;
        Self::from_bytes(&bytes)
    }

    /// Checks the receipt against the pinned registry key, the log origin and the digest of the
    /// licence version in hand.
    pub fn verify(
        &self,
        key: &VerifyingKey,
        origin: &str,
        digest: &[u8; 32],
    ) -> Result<(), RegistrationError> {
        let (message, signature) = self.signed_parts(key, origin, digest)?;
        key.verify_strict(&message, &signature)
            .map_err(|_| RegistrationError::Signature)
    }

    /// The message and signature [`Self::verify`] checks, for a caller that checks the
    /// signature in one Ed25519 batch with others; the key hash is checked here.
    pub fn signed_parts(
        &self,
        key: &VerifyingKey,
        origin: &str,
        digest: &[u8; 32],
    ) -> Result<(Vec<u8>, Signature), RegistrationError> {
        if self.key_hash != key_hash(origin, key) {
            return Err(RegistrationError::KeyHash);
        }
        Ok((
            self.message(origin, digest),
            Signature::from_bytes(&self.signature),
        ))
    }

    fn header(&self) -> [u8; HEADER] {
        let mut out = [0u8; HEADER];
        out[0] = VERSION;
        out[1..5].copy_from_slice(&self.key_hash);
        out[5..13].copy_from_slice(&self.leaf_index.to_be_bytes());
        out[13..21].copy_from_slice(&self.accepted_micros.to_be_bytes());
        out
    }

    fn message(&self, origin: &str, digest: &[u8; 32]) -> Vec<u8> {
        let mut m = Vec::with_capacity(CONTEXT.len() + origin.len() + 1 + 32 + HEADER);
        m.extend_from_slice(CONTEXT);
        m.extend_from_slice(origin.as_bytes());
        m.push(b'\n');
        m.extend_from_slice(digest);
        m.extend_from_slice(&self.header());
        m
    }
}

/// The receipt of a licence version from its multibase digest (`uEi…`), as the append path and
/// the holder's read make it; `None` when the stored digest is not one.
pub fn for_digest(
    key: &SigningKey,
    origin: &str,
    digest: &str,
    leaf_index: u64,
    accepted_at: DateTime<Utc>,
) -> Option<Registration> {
    let raw = crate::crypto::digest::parse_multibase_sha256(digest).ok()?;
    Some(Registration::sign(
        key,
        origin,
        &raw,
        leaf_index,
        accepted_at,
    ))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;
    use crate::crypto::keys::KeyPair;

    const ORIGIN: &str = "registry.test/log";

    fn receipt(key: &KeyPair) -> Registration {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap()
            + chrono::Duration::microseconds(123_456);
        Registration::sign(key.signing_key(), ORIGIN, &[7; 32], 41, at)
    }

    #[test]
    fn round_trips_and_verifies_only_for_its_licence_origin_and_key() {
        let key = KeyPair::generate();
        let r = receipt(&key);
        let text = r.encode();
        assert_eq!(text.len(), 114);
        let back = Registration::decode(&text).expect("decodes");
        assert_eq!(back, r);
        assert_eq!(back.leaf_index, 41);
        assert_eq!(
            back.accepted_at().unwrap().timestamp_subsec_micros(),
            123_456
        );
        let public = key.verifying_key();
        back.verify(&public, ORIGIN, &[7; 32]).expect("verifies");
        assert_eq!(
            back.verify(&public, ORIGIN, &[8; 32]),
            Err(RegistrationError::Signature)
        );
        assert_eq!(
            back.verify(&public, "other/log", &[7; 32]),
            Err(RegistrationError::KeyHash)
        );
        let other = KeyPair::generate().verifying_key();
        assert_eq!(
            back.verify(&other, ORIGIN, &[7; 32]),
            Err(RegistrationError::KeyHash)
        );
        // Deterministic: the registry re-derives the same bytes from the stored row.
        assert_eq!(receipt(&key).to_bytes(), r.to_bytes());
    }

    #[test]
    fn receipts_signed_together_are_the_ones_signed_one_by_one() {
        let key = KeyPair::generate();
        let at = Utc.with_ymd_and_hms(2026, 12, 5, 6, 30, 0).unwrap();
        let versions: Vec<([u8; 32], u64)> =
            (0..40u8).map(|i| ([i; 32], 1000 + u64::from(i))).collect();
        let together = Registration::sign_all(key.signing_key(), ORIGIN, &versions, at);
        assert_eq!(together.len(), versions.len());
        for (receipt, (digest, leaf)) in together.iter().zip(&versions) {
            let alone = Registration::sign(key.signing_key(), ORIGIN, digest, *leaf, at);
            assert_eq!(receipt.to_bytes(), alone.to_bytes());
            assert_eq!(receipt.verify(&key.verifying_key(), ORIGIN, digest), Ok(()));
        }
        assert!(Registration::sign_all(key.signing_key(), ORIGIN, &[], at).is_empty());
    }

    #[test]
    fn a_changed_byte_is_refused() {
        let key = KeyPair::generate();
        let bytes = receipt(&key).to_bytes();
        for at in [5, 12, 13, 20, 21, 84] {
            let mut forged = bytes;
            forged[at] ^= 1;
            let parsed = Registration::from_bytes(&forged).expect("same shape");
            assert!(
                parsed
                    .verify(&key.verifying_key(), ORIGIN, &[7; 32])
                    .is_err(),
                "byte {at}"
            );
        }
        let mut v2 = bytes;
        v2[0] = 2;
        assert_eq!(
            Registration::from_bytes(&v2),
            Err(RegistrationError::Version(2))
        );
        assert_eq!(
            Registration::from_bytes(&bytes[..84]),
            Err(RegistrationError::Length)
        );
        assert_eq!(
            Registration::from_bytes(&[]),
            Err(RegistrationError::Length)
        );
        assert_eq!(
            Registration::decode("AQ=="),
            Err(RegistrationError::Encoding)
        );
        assert!(Registration::decode(&"A".repeat(400)).is_err());
    }
}
