//! Submission envelopes: the one path by which an issuer writes (docs/design.md, "Writing: the
//! issuer's chain of envelopes"). This module parses an envelope's shape, checks issuer signatures
//! (envelope and licence proofs alike), and defines the per-item error every refusal becomes.
//! The item checks are in [`licence`] and [`status`]. No HTTP, no SQL: the caller fetches the
//! facts (issuer, types, chain state) and passes them in.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::crypto::digest::parse_multibase_sha256;
use crate::crypto::strict_json::Member as _;
use crate::domain::identifiers::Uscc;
use crate::domain::issuer::parse_issuer_did;

mod issuer_proof;
pub mod licence;
pub mod status;

pub use issuer_proof::{
    begin_prepared_proof, check_issuer_proof, check_issuer_proof_with, check_prepared_proof,
    finish_prepared_proofs, BegunSigned, DecodedKeys,
};

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
