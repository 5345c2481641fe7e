//! Submission envelopes: the one path by which an issuer writes (docs/design.md, "Writing: the
//! issuer's chain of envelopes"). This module parses an envelope's shape, checks issuer signatures
//! (envelope and licence proofs alike), and defines the per-item error every refusal becomes.
//! The item checks are in [`licence`] and [`status`]. No HTTP, no SQL: the caller fetches the
//! facts (issuer, types, chain state) and passes them in.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::crypto::comb::KeyTable;
use crate::crypto::digest::parse_multibase_sha256;
use crate::crypto::key_tables::KeyTables;
use crate::crypto::multikey;
use crate::crypto::proof;
use crate::crypto::strict_json::Member as _;
use crate::domain::identifiers::Uscc;
use crate::domain::issuer::{parse_issuer_did, Issuer};

pub mod licence;
pub mod status;

/// The members an envelope has, no more and no fewer.
const ENVELOPE_MEMBERS: [&str; 5] = ["issuer", "sequence", "previous", "items", "proof"];
/// Most items one envelope may carry.
pub const MAX_ITEMS: usize = 10_000;

/// How far ahead of the registry's clock a proof's `created` may be.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);
/// The default of how long before receipt a document may have been signed, in days.
pub const DEFAULT_MAX_AGE_DAYS: u32 = 7;

/// When a signed document may say it was signed, relative to the registry's receipt time: not
/// after receipt beyond [`CLOCK_SKEW`] (`created_in_future`), and not more than `max_age`
/// before it (`created_too_old`), which leaves issuers room to sign a batch and submit it
/// later. The issuer's authorisation is judged at `created`, so bounding it is what stops a
/// licence signed today from claiming an earlier, since-ended grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningWindow {
    pub max_age: Duration,
}

impl Default for SigningWindow {
    fn default() -> Self {
        Self {
            max_age: Duration::days(DEFAULT_MAX_AGE_DAYS.into()),
        }
    }
}

impl SigningWindow {
    /// A window of `days` days before receipt.
    pub fn days(days: u32) -> Self {
        Self {
            max_age: Duration::days(days.into()),
        }
    }

    /// Checks `created` against the receipt time `now`.
    pub fn check(&self, created: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), ItemError> {
        if created > now + CLOCK_SKEW {
            return Err(ItemError::new(
                "created_in_future",
                format!(
                    "proof.created is more than {} minutes after the registry's clock",
                    CLOCK_SKEW.num_minutes()
                ),
            ));
        }
        if created < now - self.max_age {
            return Err(ItemError::new(
                "created_too_old",
                format!(
                    "proof.created is more than {} days before receipt; sign again",
                    self.max_age.num_days()
                ),
            ));
        }
        Ok(())
    }
}

/// A refusal of one item (or of the envelope's signature), with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemError {
    pub code: &'static str,
    pub detail: String,
}

impl ItemError {
    pub fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }
}

/// Why an envelope was refused before its items were looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Not the envelope shape (400).
    #[error("{0}")]
    Malformed(String),
    /// The issuer is not a `did:web:<this registry>:issuers:<USCC>` DID (422).
    #[error("issuer must be did:web:{0}:issuers:<USCC>")]
    IssuerDid(String),
}

/// An envelope whose shape is right; its signature is not yet checked, and nothing has been
/// computed over its items (its digest comes with the proof check: [`Signed::digest`]).
#[derive(Debug, Clone)]
pub struct Envelope {
    pub issuer_did: String,
    pub issuer: Uscc,
    pub sequence: u64,
    pub previous: Option<String>,
    /// The envelope as parsed.
    pub value: Value,
}

/// What a verified issuer proof establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The proof's `created`: when the issuer says it signed, the instant its authorisation is
    /// judged at (bound it with [`SigningWindow`]).
    pub created: DateTime<Utc>,
    /// Multibase SHA-256 of the JCS form of the whole document, proof included, from the
    /// canonical form the signature check wrote.
    pub digest: String,
}

impl Envelope {
    /// Parses the envelope shape: exactly the five members, `sequence` from 1, `previous` null
    /// exactly for sequence 1 and a multibase SHA-256 digest otherwise, 1 to [`MAX_ITEMS`]
    /// items, and an issuer DID of this registry (`host` is did:web-encoded).
    pub fn parse(value: Value, host: &str) -> Result<Self, EnvelopeError> {
        let bad = |m: &str| EnvelopeError::Malformed(m.to_owned());
        let object = value
            .as_object()
            .ok_or_else(|| bad("the envelope must be a JSON object"))?;
        if let Some(unknown) = object
            .keys()
            .find(|k| !ENVELOPE_MEMBERS.contains(&k.as_str()))
        {
            return Err(EnvelopeError::Malformed(format!(
                "unknown member {unknown:?}"
            )));
        }
        if let Some(missing) = ENVELOPE_MEMBERS.iter().find(|m| !object.contains_key(**m)) {
            return Err(EnvelopeError::Malformed(format!(
                "missing member {missing:?}"
            )));
        }
        let issuer_did = object["issuer"]
            .as_str()
            .ok_or_else(|| bad("issuer must be a string"))?;
        let issuer = parse_issuer_did(issuer_did, host)
            .ok_or_else(|| EnvelopeError::IssuerDid(host.to_owned()))?;
        let sequence = object["sequence"]
            .as_u64()
            .filter(|s| (1..=i64::MAX as u64).contains(s))
            .ok_or_else(|| bad("sequence must be an integer from 1"))?;
        let previous = parse_previous(&object["previous"], sequence)?;
        if !matches!(&object["items"], Value::Array(items) if !items.is_empty() && items.len() <= MAX_ITEMS)
        {
            return Err(EnvelopeError::Malformed(format!(
                "items must be an array of 1 to {MAX_ITEMS} items"
            )));
        }
        Ok(Self {
            issuer_did: issuer_did.to_owned(),
            issuer,
            sequence,
            previous,
            value,
        })
    }
}

impl Envelope {
    /// The items, borrowed from the parsed envelope (a copy would double the memory an
    /// envelope of thousands of licences holds).
    pub fn items(&self) -> &[Value] {
        // `parse` refused anything but an array of items.
        self.value["items"].as_array().map_or(&[], Vec::as_slice)
    }
}

fn parse_previous(value: &Value, sequence: u64) -> Result<Option<String>, EnvelopeError> {
    match (value, sequence) {
        (Value::Null, 1) => Ok(None),
        (Value::Null, _) => Err(EnvelopeError::Malformed(
            "previous must be the digest of envelope sequence - 1".into(),
        )),
        (Value::String(d), s) if s > 1 && parse_multibase_sha256(d).is_ok() => Ok(Some(d.clone())),
        (_, 1) => Err(EnvelopeError::Malformed(
            "previous must be null for sequence 1".into(),
        )),
        _ => Err(EnvelopeError::Malformed(
            "previous must be a multibase SHA-256 digest (uEi…)".into(),
        )),
    }
}

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
    keys: Vec<(String, VerifyingKey, Option<Arc<KeyTable>>)>,
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
    begun
        .proof
        .finish()
        .map_err(|e| ItemError::new(e.code(), e.to_string()))?;
    Ok(begun.signed)
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
    let prepared = prepared.map_err(|e| ItemError::new(e.code(), e.to_string()))?;
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
                Some(Err(e)) => Err(ItemError::new(e.code(), e.to_string())),
                // Invariant: one answer for every begun proof.
                None => Err(ItemError::new(
                    "signature_invalid",
                    "the signature was not checked",
                )),
            }
        })
        .collect()
}

/// Splits an item into its kind and body: `{"licence": …}` or `{"statusChange": …}`.
pub fn item_kind(item: &Value) -> Result<(&str, &Value), ItemError> {
    let malformed = || {
        ItemError::new(
            "item_malformed",
            "an item is {\"licence\": …} or {\"statusChange\": …}",
        )
    };
    let object: &Map<String, Value> = item.as_object().ok_or_else(malformed)?;
    match object.iter().next() {
        Some((kind, body))
            if object.len() == 1 && matches!(kind.as_str(), "licence" | "statusChange") =>
        {
            Ok((kind.as_str(), body))
        }
        _ => Err(malformed()),
    }
}

/// Parses an RFC 3339 date-time member.
pub(crate) fn date_member(
    object: &Map<String, Value>,
    name: &str,
    code: &'static str,
) -> Result<DateTime<Utc>, ItemError> {
    object
        .member(name)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .ok_or_else(|| ItemError::new(code, format!("{name} must be an RFC 3339 date-time")))
}

#[cfg(test)]
mod tests;
