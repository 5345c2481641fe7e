//! The verification engine: everything a relying party checks about a licence in front of it,
//! as an ordered list of named checks with stable codes (docs/design.md, "Reading and verifying").
//!
//! Pure: no HTTP, no SQL. What the registry knows comes through a [`RegistryView`], which the
//! online service implements over its in-memory cache plus one per-licence query
//! ([`cache`]), and an offline verifier over a signed trust bundle. The checks, in order:
//!
//! | name | passes when | failing codes |
//! | --- | --- | --- |
//! | `signature` | the eddsa-jcs-2022 proof verifies with the key its verification method names | `proof_*`, `signature_invalid`, `verification_method_unresolved`, … |
//! | `issuerKey` | that key is a registry issuer's, usable at `proof.created` (not compromised) | `issuer_unknown`, `issuer_mismatch`, `key_unknown`, `proof_created_missing`, `key_not_yet_valid`, `key_expired`, `key_revoked`, `key_compromised` |
//! | `authorisation` | a grant covered type × jurisdiction when the licence was signed (`proof.created`) | `not_authorised`, `authorisation_withdrawn`, `not_checked` |
//! | `schema` | the credential is a well-formed licence of a known type and its subject fits the schema | `schema_invalid`, `type_unknown`, `schema_unknown`, `schema_unavailable`, `holder_category_mismatch`, `validity_out_of_range`, the submission parse codes |
//! | `validityPeriod` | `validFrom ≤ at < validUntil` | `not_yet_valid`, `expired`, `not_checked` |
//! | `status` | active and the head version | `suspended`, `revoked`, `superseded`, `not_registered`, `status_unknown` |
//! | `registered` | this very credential (same digest) is a leaf of the log | `not_registered`, `digest_mismatch`, `receipt_invalid` |
//! | `chain` | it is the head version of its licence | `superseded`, `not_registered` |
//!
//! A view without per-licence data (the offline one, [`offline`]) answers
//! [`LicenceLookup::AsOf`]: `status` then comes from the registry-signed status lists the
//! licence's `credentialStatus` names (`status_unknown` when none covers it), `registered` from
//! the licence's registration receipt checked with the registry key (`not_registered` without
//! one, `receipt_invalid` for a forged one), and `chain` from the supersession list; each with
//! the view's time in `details.asOf`. Online and offline run these same checks.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::crypto::proof::PreparedProof;
use crate::crypto::strict_json::Member as _;
use crate::domain::authorisation::Authorisation;
use crate::domain::identifiers::{LicenceId, TypeCode, Uscc};
use crate::domain::issuer::Issuer;
use crate::domain::licence::LicenceState;
use crate::domain::licence_type::{HolderCategory, LicenceType, ValidityRange};
use crate::domain::schema::CompiledSchema;
use crate::log::merkle::Hash;

pub mod answer;
pub mod cache;
mod checks;
pub mod coalesce;
mod details;
pub mod limit;
pub(crate) mod messages;
pub mod offline;
mod signature;
pub mod standings;

pub use details::Details;
pub use signature::{prepare, verify_signatures, Prepared};

use details::AttachedProof;
pub use offline::ReceiptToCheck;

/// What the checks need to know about the registry. Implemented online over the registry
/// cache, and offline over a signed trust bundle.
pub trait RegistryView {
    /// The did:web host of registry issuer DIDs (`:` encoded as `%3A`).
    fn did_host(&self) -> &str;
    /// The registry's public base URL (of `credentialSchema` URLs), without a trailing slash.
    fn public_base(&self) -> &str;
    /// An issuer with all its keys, withdrawn ones included.
    fn issuer(&self, uscc: &Uscc) -> Option<&Issuer>;
    /// Every grant of an issuer, withdrawn ones included.
    fn authorisations(&self, issuer: &Uscc) -> &[Authorisation];
    /// What the checks read of a licence type, whatever its status.
    fn licence_type(&self, code: &TypeCode) -> Option<TypeFacts<'_>>;
    /// The compiled schema of one version of a type.
    fn schema(&self, code: &TypeCode, version: u32) -> SchemaLookup;
    /// What the registry holds about one licence version.
    fn licence(&self, id: &LicenceId) -> LicenceLookup<'_>;
    /// The Ed25519 key a Multikey (`z6Mk…`) encodes. A view that holds the registry's keys
    /// already decoded answers without decompressing the curve point again.
    fn key(&self, multikey: &str) -> Option<VerifyingKey> {
        crate::crypto::multikey::decode(multikey).ok()
    }
}

/// What the checks read of a licence type: its names, holder category and validity range.
#[derive(Debug, Clone, Copy)]
pub struct TypeFacts<'a> {
    pub name_zh: &'a str,
    pub name_en: &'a str,
    pub holder_category: HolderCategory,
    pub validity: &'a ValidityRange,
}

impl<'a> From<&'a LicenceType> for TypeFacts<'a> {
    fn from(t: &'a LicenceType) -> Self {
        Self {
            name_zh: &t.name_zh,
            name_en: &t.name_en,
            holder_category: t.holder_category,
            validity: &t.validity,
        }
    }
}

/// The answer to [`RegistryView::schema`].
#[derive(Debug, Clone)]
pub enum SchemaLookup {
    Compiled(Arc<CompiledSchema>),
    /// No such type version.
    NotFound,
    /// The view knows the version exists but does not hold its schema.
    Unavailable,
}

/// The answer to [`RegistryView::licence`].
#[derive(Debug, Clone)]
pub enum LicenceLookup<'a> {
    /// The registry holds this version.
    Registered(RegisteredLicence<'a>),
    /// The registry holds no such version.
    NotRegistered,
    /// The view holds no per-licence data (offline: a trust bundle and status lists): what
    /// the lists and the licence's own receipt say, as of `as_of`.
    AsOf {
        /// The issuer-set state from the lists; `None` when no list held covers the licence.
        state: Option<LicenceState>,
        /// Whether a later version replaced this one; `None` when no list says.
        superseded: Option<bool>,
        /// The licence's registration receipt, with the key and log it must verify for.
        receipt: Option<ReceiptToCheck<'a>>,
        as_of: DateTime<Utc>,
    },
}

/// What the registry holds about a registered licence version and its licence, borrowed from
/// the view (no copies per check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredLicence<'a> {
    /// Multibase SHA-256 of the registered credential (JCS, proof included).
    pub digest: &'a str,
    pub leaf_index: u64,
    pub leaf_hash: Hash,
    /// The licence's head (newest) version.
    pub head: &'a LicenceId,
    /// The licence's issuer-set state, and when its latest status event took effect.
    pub state: LicenceState,
    pub since: Option<DateTime<Utc>>,
}

/// An inclusion proof of a leaf against a signed checkpoint, filled in by the online caller.
#[derive(Debug, Clone)]
pub struct InclusionProof {
    pub tree_size: u64,
    /// The signed checkpoint note for `tree_size`, as a JSON string: one rendering shared by
    /// every answer of a request ([`render_checkpoint`]).
    pub checkpoint: Arc<RawValue>,
    pub hashes: Vec<Hash>,
}

/// A checkpoint note rendered once as a JSON string, for [`InclusionProof::checkpoint`].
pub fn render_checkpoint(note: &str) -> Arc<RawValue> {
    let rendered = serde_json::to_string(note).unwrap_or_else(|_| "\"\"".to_owned());
    // Invariant: serde_json wrote a JSON string.
    RawValue::from_string(rendered)
        .map(Arc::from)
        .unwrap_or_else(|_| Arc::from(RawValue::NULL.to_owned()))
}

/// The answer for one credential.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// True only when every check passed.
    pub verified: bool,
    /// The time the validity period and status were judged at.
    pub checked_at: String,
    pub summary: Summary,
    pub checks: Vec<Check>,
    /// The leaf whose inclusion proof the caller should attach ([`Verification::attach_proof`]).
    #[serde(skip)]
    pub proof_needed: Option<u64>,
}

/// What the licence is, as far as it could be read.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub type_code: Option<TypeCode>,
    pub type_name: Option<Message>,
    pub identifier: Option<String>,
    pub issuer_name: Option<String>,
    pub issuer_uscc: Option<Uscc>,
    /// 1 natural person, 2 legal person.
    pub holder_category: Option<u8>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub version: Option<u16>,
}

/// One named check.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub code: &'static str,
    pub message: Message,
    pub details: Option<Details>,
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let fields = 4 + usize::from(self.details.is_some());
        let mut out = serializer.serialize_struct("Check", fields)?;
        out.serialize_field("name", self.name)?;
        out.serialize_field("ok", &self.ok)?;
        out.serialize_field("code", self.code)?;
        out.serialize_field("message", &self.message)?;
        match &self.details {
            Some(details) => out.serialize_field("details", details)?,
            None => out.skip_field("details")?,
        }
        out.end()
    }
}

/// A human message in Chinese and English. Serialised as `{"zh": …, "en": …}`; the fixed texts
/// of [`messages`] are rendered once per thread ([`messages::serialize`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub zh: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        messages::serialize(self, serializer)
    }
}

impl From<Value> for Details {
    fn from(value: Value) -> Self {
        Details::Json(value)
    }
}

impl Check {
    pub(crate) fn new(name: &'static str, ok: bool, code: &'static str) -> Self {
        Self {
            name,
            ok,
            code,
            message: messages::message(code),
            details: None,
        }
    }

    fn with(mut self, details: impl Into<Details>) -> Self {
        self.details = Some(details.into());
        self
    }
}

impl Verification {
    /// Adds the inclusion proof and checkpoint to the `registered` check's details.
    pub fn attach_proof(&mut self, proof: InclusionProof) {
        self.proof_needed = None;
        let Some(check) = self.checks.iter_mut().find(|c| c.name == "registered") else {
            return;
        };
        if let Some(Details::Leaf { proof: slot, .. }) = check.details.as_mut() {
            *slot = Some(AttachedProof {
                tree_size: proof.tree_size,
                checkpoint: proof.checkpoint,
                hashes: proof.hashes,
            });
        }
    }
}

/// The licence identifier a credential's `id` names (`urn:elicence:…`), if it is one.
pub(crate) fn licence_id_of(credential: &Value) -> Option<LicenceId> {
    credential
        .member("id")
        .and_then(Value::as_str)
        .and_then(|s| LicenceId::from_urn(s).ok())
}

/// Whether a JSON value is a credential at all (an object whose `type` includes
/// `VerifiableCredential`); anything else is a bad request, not a failed verification.
pub fn is_credential(value: &Value) -> bool {
    let Some(types) = value.as_object().and_then(|o| o.member("type")) else {
        return false;
    };
    match types {
        Value::String(t) => t == "VerifiableCredential",
        Value::Array(list) => list.iter().any(|t| t == "VerifiableCredential"),
        _ => false,
    }
}

/// Verifies many credentials, checking their signatures as one Ed25519 batch (falling back to
/// one by one when the batch fails, to find which did).
///
/// `known_ids` holds, in the credentials' order, the licence identifiers the caller already
/// parsed (to look up standings); the checks parse the rest.
#[tracing::instrument(level = "debug", skip_all)]
pub fn verify_many(
    credentials: &[&Value],
    known_ids: Vec<Option<LicenceId>>,
    view: &dyn RegistryView,
    at: DateTime<Utc>,
) -> Vec<Verification> {
    let prepared = prepare_all(credentials.iter().copied(), known_ids, view);
    let signatures = verify_signatures(&prepared);
    prepared
        .into_iter()
        .zip(signatures)
        .map(|(p, s)| checks::run(p, s, view, at))
        .collect()
}

/// Prepares credentials, handing each the identifier the caller parsed, if any.
fn prepare_all<'a>(
    credentials: impl Iterator<Item = &'a Value>,
    known_ids: Vec<Option<LicenceId>>,
    view: &dyn RegistryView,
) -> Vec<Prepared<'a>> {
    let mut known = known_ids.into_iter();
    credentials
        .map(|c| {
            let mut prepared = prepare(c, view);
            prepared.known_id = known.next().flatten();
            prepared
        })
        .collect()
}

/// Verifies a request's few credentials with their signatures checked in a batch with those of
/// the other requests this worker is verifying at the moment ([`coalesce`]).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn verify_coalesced(
    credentials: &[Value],
    known_ids: Vec<Option<LicenceId>>,
    view: &(dyn RegistryView + Sync),
    at: DateTime<Utc>,
) -> Vec<Verification> {
    let prepared = prepare_all(credentials.iter(), known_ids, view);
    let inputs = prepared
        .iter()
        .filter_map(Prepared::signature_input)
        .collect();
    let mut valid = coalesce::verify(inputs).await.into_iter();
    prepared
        .into_iter()
        .map(|p| {
            // Only a proof that could be taken apart had its signature queued.
            let verified = p.proof().is_some() && valid.next().unwrap_or(false);
            let outcome = p.outcome(verified);
            checks::run(p, outcome, view, at)
        })
        .collect()
}

/// Verifies one credential against `view` at `at`, its signature checked on its own (no batch).
/// The offline verifier runs the same steps, with the signature step batched with the
/// licence's registration receipt ([`offline::verify_offline`]).
#[tracing::instrument(level = "debug", skip_all)]
pub fn verify_one(credential: &Value, view: &dyn RegistryView, at: DateTime<Utc>) -> Verification {
    let prepared = prepare(credential, view);
    let signature = prepared.check_single();
    checks::run(prepared, signature, view, at)
}

/// RFC 3339 in UTC to the second, as credentials write times.
fn time(at: DateTime<Utc>) -> String {
    crate::domain::time::seconds(at)
}

/// The hash map of verification's lookups: foldhash, keyed per map with a random seed, hashes
/// an identifier several times faster than the standard library's SipHash (which was ~2 % of
/// a batch), while an adversary choosing identifiers still cannot predict collisions.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A check's failure before a key could be used: the prepared proof, if any, and its key.
type SignatureInput = (PreparedProof, VerifyingKey);

#[cfg(test)]
mod tests;
