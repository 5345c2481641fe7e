//! The bundle document: typed both ways, so that the registry writes exactly what a verifier
//! reads back, and opening a bundle (signature first, then shape) yields typed data.

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::crypto::digest::sha256;
use crate::crypto::{multikey, proof};
use crate::domain::authorisation::Authorisation;
use crate::domain::identifiers::{JurisdictionScope, TypeCode, Uscc};
use crate::domain::issuer::{IssuerKey, IssuerStatus};
use crate::domain::licence_type::{HolderCategory, TypeStatus, ValidityRange};
use crate::domain::status_list::StatusPurpose;

/// The `type` member of every bundle.
pub const BUNDLE_TYPE: &str = "ELicenceTrustBundle";

/// A trust bundle without its proof.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bundle {
    #[serde(rename = "type")]
    pub kind: String,
    /// The registry's DID (`did:web:<host>`), whose key signs the bundle.
    pub registry: String,
    /// The registry's public base URL: licences name their schema under it.
    pub public_base: String,
    pub issued_at: DateTime<Utc>,
    /// After this time the bundle is stale: verification still runs but warns.
    pub next_update: DateTime<Utc>,
    pub log: BundleLog,
    pub licence_types: Vec<BundleType>,
    pub issuers: Vec<BundleIssuer>,
    pub authorisations: Vec<BundleAuthorisation>,
    /// Every status list in use, by reference: an agency fetches each from its URL and keeps
    /// it while the digest is unchanged. No licence is named, in clear or by hash.
    pub status_lists: Vec<BundleList>,
}

/// A bundle whose registry signature has been checked: only [`open`] makes one.
#[derive(Debug, Clone)]
pub struct TrustedBundle(Bundle, VerifyingKey);

impl TrustedBundle {
    pub fn bundle(&self) -> &Bundle {
        &self.0
    }

    /// The registry key that signed it (the pinned one, when the caller pinned one).
    pub fn key(&self) -> &VerifyingKey {
        &self.1
    }
}

/// A reference to one of an issuer's status lists as of the bundle's `issuedAt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleList {
    pub issuer: Uscc,
    pub purpose: StatusPurpose,
    pub list: u32,
    /// `<public base>/v1/status-lists/<issuer>/<purpose>/<list>`.
    pub url: String,
    /// [`bits_digest`] of the list's bitstring.
    pub digest: String,
}

/// How the bundle pins a list's content: lowercase hex SHA-256 of its decoded bitstring (not of
/// the signed credential, which the registry re-signs with new dates while the bits stay).
pub fn bits_digest(bits: &[u8]) -> String {
    hex::encode(sha256(bits))
}

/// The transparency log as of the bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleLog {
    /// The checkpoint verifier key (C2SP vkey).
    pub key: String,
    /// The latest signed checkpoint (C2SP signed note).
    pub checkpoint: String,
}

/// A published (or deprecated) licence type with every schema version.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleType {
    pub code: TypeCode,
    pub name_zh: String,
    pub name_en: String,
    pub holder_category: HolderCategory,
    pub validity: ValidityRange,
    pub status: TypeStatus,
    pub versions: Vec<BundleSchema>,
}

/// One schema version: its digest and the document itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleSchema {
    pub version: u32,
    /// Multibase SHA-256 of the schema's JCS form.
    pub digest: String,
    pub schema: Value,
}

/// An issuer with every key it ever had.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleIssuer {
    pub uscc: Uscc,
    pub name: String,
    pub did: String,
    pub status: IssuerStatus,
    pub keys: Vec<BundleKey>,
}

/// A key's window, revocation and compromise.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleKey {
    pub multikey: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub compromised_since: Option<DateTime<Utc>>,
}

/// An authorisation with its window and withdrawal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleAuthorisation {
    pub id: String,
    pub issuer: Uscc,
    pub type_codes: Vec<TypeCode>,
    pub jurisdiction: JurisdictionScope,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub granted_by: Uscc,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

impl BundleKey {
    /// The domain key, to reuse its rules on when a signature counts.
    pub fn to_domain(&self) -> IssuerKey {
        IssuerKey {
            multikey: self.multikey.clone(),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            revoked_at: self.revoked_at,
            compromised_since: self.compromised_since,
            created_at: self.valid_from,
        }
    }
}

impl From<&IssuerKey> for BundleKey {
    fn from(k: &IssuerKey) -> Self {
        Self {
            multikey: k.multikey.clone(),
            valid_from: k.valid_from,
            valid_until: k.valid_until,
            revoked_at: k.revoked_at,
            compromised_since: k.compromised_since,
        }
    }
}

impl BundleAuthorisation {
    /// The domain grant, to reuse its coverage rules.
    pub fn to_domain(&self) -> Authorisation {
        Authorisation {
            id: self.id.clone(),
            issuer: self.issuer.clone(),
            type_codes: self.type_codes.clone(),
            jurisdiction: self.jurisdiction.clone(),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            granted_by: self.granted_by.clone(),
            granted_at: self.valid_from,
            withdrawn_at: self.withdrawn_at,
            withdrawal_reason: None,
        }
    }
}

impl From<&Authorisation> for BundleAuthorisation {
    fn from(a: &Authorisation) -> Self {
        Self {
            id: a.id.clone(),
            issuer: a.issuer.clone(),
            type_codes: a.type_codes.clone(),
            jurisdiction: a.jurisdiction.clone(),
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            granted_by: a.granted_by.clone(),
            withdrawn_at: a.withdrawn_at,
        }
    }
}

/// Why a bundle was refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("the bundle's proof does not verify: {0}")]
    Proof(#[from] proof::ProofError),
    #[error("the bundle is signed by {found}, not by the registry key {expected}")]
    WrongKey { expected: String, found: String },
    #[error("the bundle's verification method {0:?} is not <registry did>#<multikey>")]
    VerificationMethod(String),
    #[error("the bundle is not a trust bundle: {0}")]
    Shape(String),
}

/// Checks a bundle's signature, then its shape. With `registry_key` (a Multikey the caller
/// pinned), the bundle must be signed by that key; without, by the key its own verification
/// method names (which proves integrity only, not who made it).
pub fn open(document: &Value, registry_key: Option<&str>) -> Result<TrustedBundle, BundleError> {
    let prepared = proof::prepare(document)?;
    let method = prepared.verification_method.clone();
    let (did, key) = method
        .split_once('#')
        .ok_or_else(|| BundleError::VerificationMethod(method.clone()))?;
    if let Some(expected) = registry_key.filter(|k| *k != key) {
        return Err(BundleError::WrongKey {
            expected: expected.to_owned(),
            found: key.to_owned(),
        });
    }
    let public: VerifyingKey =
        multikey::decode(key).map_err(|_| BundleError::VerificationMethod(method.clone()))?;
    prepared.verify_with(&public)?;
    let mut unsigned = document.clone();
    if let Some(fields) = unsigned.as_object_mut() {
        fields.shift_remove("proof");
    }
    let bundle: Bundle =
        serde_json::from_value(unsigned).map_err(|e| BundleError::Shape(e.to_string()))?;
    if bundle.kind != BUNDLE_TYPE {
        return Err(BundleError::Shape(format!("type is {:?}", bundle.kind)));
    }
    if bundle.registry != did {
        return Err(BundleError::VerificationMethod(method));
    }
    Ok(TrustedBundle(bundle, public))
}
