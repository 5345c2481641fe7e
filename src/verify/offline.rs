//! Offline verification: the same engine and checks as online, over a [`RegistryView`] made
//! from a signed trust bundle, the registry-signed status lists it references, and the
//! licence's own registration receipt. No call to the registry and no list of licences.
//!
//! [`OfflineRegistry`] is loaded once (schemas compiled, lists checked and decoded);
//! [`verify_offline`] then builds a per-credential view that answers [`LicenceLookup::AsOf`]
//! from the lists the credential's `credentialStatus` names and from its receipt
//! (`docs/offline.md`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use serde_json::{json, Value};

use super::checks;
use super::signature::{prepare, Prepared, SignatureFailure};
use super::{
    time, Check, FastMap, LicenceLookup, RegistryView, SchemaLookup, TypeFacts, Verification,
};
use crate::bundle::{BundleType, TrustedBundle};
use crate::crypto::batch;
use crate::crypto::comb::{self, KeyTable};
use crate::crypto::digest::multibase_sha256;
use crate::crypto::jcs::canonicalize;
use crate::crypto::strict_json::Member as _;
use crate::domain::authorisation::Authorisation;
use crate::domain::identifiers::{LicenceId, TypeCode, Uscc};
use crate::domain::issuer::Issuer;
use crate::domain::licence::LicenceState;
use crate::domain::schema::CompiledSchema;
use crate::domain::status_list::{bit, parse_entries, StatusPurpose};
use crate::log::registration::Registration;

mod facts;
mod lists;
mod signatures;

pub(super) use facts::Facts;
pub use facts::ReceiptToCheck;

pub use lists::{ListKey, LoadedLists};

/// Issuer keys that get a comb table ([`comb::NARROW`], 127 KiB each: 32 MiB at most). A table
/// costs about four verifications to build and saves half of each after; keys past this many
/// verify without one.
const KEY_TABLES: usize = 256;

/// The registry as a trust bundle and its status lists tell it, ready to verify against.
#[derive(Debug)]
pub struct OfflineRegistry {
    did_host: String,
    public_base: String,
    issued_at: DateTime<Utc>,
    next_update: DateTime<Utc>,
    /// The log's origin (the checkpoint key's name), which receipts are signed under.
    origin: String,
    key: VerifyingKey,
    /// `key`'s comb table, for every receipt (none for a weak key, whose receipts never verify).
    key_table: Option<KeyTable>,
    /// The base point and `key`, precomputed for the batches of [`verify_offline_many`].
    fixed: batch::FixedKeys,
    /// A comb table per issuer key of the bundle, built when the key first signs a credential
    /// checked here, for at most [`KEY_TABLES`] keys.
    key_tables: FastMap<[u8; 32], OnceLock<Option<KeyTable>>>,
    /// Tables built so far in `key_tables`.
    tables_built: AtomicUsize,
    issuers: FastMap<Uscc, Issuer>,
    grants: FastMap<Uscc, Vec<Authorisation>>,
    types: FastMap<TypeCode, BundleType>,
    schemas: FastMap<(TypeCode, u32), Option<Arc<CompiledSchema>>>,
    /// Every issuer key, decoded once (Multikey → curve point), as the online snapshot does.
    keys: FastMap<String, VerifyingKey>,
    lists: LoadedLists,
}

impl OfflineRegistry {
    /// Loads an opened bundle and the list credentials fetched for it (each checked against
    /// the bundle's key and reference; refused ones are reported in [`Self::list_problems`]).
    pub fn new(trusted: &TrustedBundle, lists: &[Value]) -> Self {
        let b = trusted.bundle();
        let mut issuers = FastMap::default();
        let mut keys = FastMap::default();
        for i in &b.issuers {
            let issuer_keys: Vec<_> = i.keys.iter().map(|k| k.to_domain()).collect();
            let created_at = issuer_keys
                .iter()
                .map(|k| k.valid_from)
                .min()
                .unwrap_or(b.issued_at);
            let issuer = Issuer {
                uscc: i.uscc.clone(),
                name: i.name.clone(),
                contact: None,
                status: i.status,
                created_at,
                keys: issuer_keys,
            };
            for k in &issuer.keys {
                if let Ok(key) = crate::crypto::multikey::decode(&k.multikey) {
                    keys.insert(k.multikey.clone(), key);
                }
            }
            issuers.insert(i.uscc.clone(), issuer);
        }
        let mut grants: FastMap<Uscc, Vec<Authorisation>> = FastMap::default();
        for a in &b.authorisations {
            grants
                .entry(a.issuer.clone())
                .or_default()
                .push(a.to_domain());
        }
        let mut schemas = FastMap::default();
        for t in &b.licence_types {
            for v in &t.versions {
                // A schema that does not match its digest is unusable, not trusted.
                let usable = multibase_sha256(&canonicalize(&v.schema)) == v.digest;
                let compiled = usable
                    .then(|| CompiledSchema::compile(v.schema.clone()).ok())
                    .flatten()
                    .map(Arc::new);
                schemas.insert((t.code.clone(), v.version), compiled);
            }
        }
        let origin = crate::log::checkpoint::parse_vkey(&b.log.key)
            .map(|(name, _)| name)
            .unwrap_or_default();
        Self {
            did_host: b
                .registry
                .strip_prefix("did:web:")
                .unwrap_or_default()
                .to_owned(),
            public_base: b.public_base.clone(),
            issued_at: b.issued_at,
            next_update: b.next_update,
            origin,
            key: *trusted.key(),
            key_table: KeyTable::new(trusted.key(), comb::WIDE),
            fixed: batch::FixedKeys::new(&[*trusted.key()]),
            key_tables: keys
                .values()
                .map(|k: &VerifyingKey| (*k.as_bytes(), OnceLock::new()))
                .collect(),
            tables_built: AtomicUsize::new(0),
            issuers,
            grants,
            types: b
                .licence_types
                .iter()
                .map(|t| (t.code.clone(), t.clone()))
                .collect(),
            schemas,
            keys,
            lists: LoadedLists::load(trusted, lists),
        }
    }

    /// The comb table of a bundle issuer's `key`, built on its first use while fewer than
    /// [`KEY_TABLES`] are.
    fn table(&self, key: &VerifyingKey) -> Option<&KeyTable> {
        self.key_tables
            .get(key.as_bytes())?
            .get_or_init(|| {
                (self.tables_built.fetch_add(1, Ordering::Relaxed) < KEY_TABLES)
                    .then(|| KeyTable::new(key, comb::NARROW))
                    .flatten()
            })
            .as_ref()
    }

    /// The lists that were refused, with why (as warnings of every answer).
    pub fn list_problems(&self) -> &[(String, String)] {
        self.lists.problems()
    }

    /// The state and supersession the lists give for a credential's `credentialStatus`.
    fn status_of(&self, credential: &Value) -> (Option<LicenceState>, Option<bool>) {
        let issuer = credential
            .member("id")
            .and_then(Value::as_str)
            .and_then(|urn| LicenceId::from_urn(urn).ok())
            .map(|id| id.issuer().clone());
        let slots = match (issuer, credential.as_object()) {
            (Some(issuer), Some(object)) => parse_entries(object, &issuer, &self.public_base)
                .ok()
                .map(|slots| (issuer, slots)),
            _ => None,
        };
        let Some((issuer, slots)) = slots else {
            return (None, None);
        };
        let lookup = |purpose: StatusPurpose, as_purpose: StatusPurpose| {
            let slot = slots.iter().find(|s| s.purpose == purpose)?;
            let key = ListKey::new(issuer.clone(), as_purpose, slot.list);
            self.lists.bits(&key).map(|bits| bit(bits, slot.index))
        };
        let revoked = lookup(StatusPurpose::Revocation, StatusPurpose::Revocation);
        let suspended = lookup(StatusPurpose::Suspension, StatusPurpose::Suspension);
        let superseded = lookup(StatusPurpose::Revocation, StatusPurpose::Supersession);
        let state = match (revoked, suspended) {
            (Some(true), _) => Some(LicenceState::Revoked),
            (_, Some(true)) => Some(LicenceState::Suspended),
            (Some(false), Some(false)) => Some(LicenceState::Active),
            _ => None,
        };
        (state, superseded)
    }
}

/// The per-credential view: the registry plus what the lists and the receipt say.
struct OfflineView<'a> {
    registry: &'a OfflineRegistry,
    state: Option<LicenceState>,
    superseded: Option<bool>,
    receipt: Option<Registration>,
    /// The digest the receipt's signature verified for in a batch, if it did.
    receipt_verified_for: Option<[u8; 32]>,
}

impl RegistryView for OfflineView<'_> {
    fn did_host(&self) -> &str {
        &self.registry.did_host
    }

    fn public_base(&self) -> &str {
        &self.registry.public_base
    }

    fn issuer(&self, uscc: &Uscc) -> Option<&Issuer> {
        self.registry.issuers.get(uscc)
    }

    fn authorisations(&self, issuer: &Uscc) -> &[Authorisation] {
        self.registry.grants.get(issuer).map_or(&[], Vec::as_slice)
    }

    fn licence_type(&self, code: &TypeCode) -> Option<TypeFacts<'_>> {
        self.registry.types.get(code).map(|t| TypeFacts {
            name_zh: &t.name_zh,
            name_en: &t.name_en,
            holder_category: t.holder_category,
            validity: &t.validity,
        })
    }

    fn schema(&self, code: &TypeCode, version: u32) -> SchemaLookup {
        match self.registry.schemas.get(&(code.clone(), version)) {
            Some(Some(compiled)) => SchemaLookup::Compiled(compiled.clone()),
            Some(None) => SchemaLookup::Unavailable,
            None => SchemaLookup::NotFound,
        }
    }

    fn key(&self, multikey: &str) -> Option<VerifyingKey> {
        match self.registry.keys.get(multikey) {
            Some(key) => Some(*key),
            None => crate::crypto::multikey::decode(multikey).ok(),
        }
    }

    fn licence(&self, _: &LicenceId) -> LicenceLookup<'_> {
        LicenceLookup::AsOf {
            state: self.state,
            superseded: self.superseded,
            receipt: self.receipt.map(|receipt| ReceiptToCheck {
                receipt,
                key: &self.registry.key,
                origin: &self.registry.origin,
                verified_for: self.receipt_verified_for,
            }),
            as_of: self.registry.issued_at,
        }
    }
}

/// The verdict on one credential, offline: the online answer's fields and checks, with the
/// registry state's time and warnings.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineResult {
    pub mode: &'static str,
    /// The bundle's `issuedAt`: registry state is known as of then.
    pub as_of: String,
    #[serde(flatten)]
    pub verification: Verification,
    pub warnings: Vec<Check>,
}

impl OfflineResult {
    /// True only when every check passed (warnings do not count against it).
    pub fn verified(&self) -> bool {
        self.verification.verified
    }

    /// The checks, in the online order.
    pub fn checks(&self) -> &[Check] {
        &self.verification.checks
    }
}

/// Verifies `credential` (with its registration receipt, if it came with one) as of `at`.
#[tracing::instrument(level = "debug", skip_all)]
pub fn verify_offline(
    credential: &Value,
    receipt: Option<&Registration>,
    registry: &OfflineRegistry,
    at: DateTime<Utc>,
) -> OfflineResult {
    let view = registry.view(credential, receipt);
    let prepared = prepare(credential, &view);
    let checked = signatures::one(&prepared, receipt, registry);
    registry.answer(prepared, view, checked, at)
}

/// Verifies many credentials, each with its receipt if it came with one, as of `at`: the
/// answers [`verify_offline`] gives one by one, with every signature and receipt checked in
/// Ed25519 batches (`signatures::many`, the registry key's terms precomputed), which cost a
/// credential about half of what checking its two signatures alone does.
#[tracing::instrument(level = "debug", skip_all)]
pub fn verify_offline_many(
    credentials: &[(&Value, Option<&Registration>)],
    registry: &OfflineRegistry,
    at: DateTime<Utc>,
) -> Vec<OfflineResult> {
    let views: Vec<OfflineView<'_>> = credentials
        .iter()
        .map(|(credential, receipt)| registry.view(credential, *receipt))
        .collect();
    let prepared: Vec<Prepared<'_>> = credentials
        .iter()
        .zip(&views)
        .map(|((credential, _), view)| prepare(credential, view))
        .collect();
    let checked = signatures::many(&prepared, credentials, registry);
    prepared
        .into_iter()
        .zip(views)
        .zip(checked)
        .map(|((p, view), checked)| registry.answer(p, view, checked, at))
        .collect()
}

impl OfflineRegistry {
    /// The view of `credential`: what the lists say of it, and its receipt.
    fn view(&self, credential: &Value, receipt: Option<&Registration>) -> OfflineView<'_> {
        let (state, superseded) = self.status_of(credential);
        OfflineView {
            registry: self,
            state,
            superseded,
            receipt: receipt.copied(),
            receipt_verified_for: None,
        }
    }

    /// The answer for a prepared credential whose signatures were checked (`checked`: the
    /// signature step and the digest the receipt verified for).
    fn answer(
        &self,
        prepared: Prepared<'_>,
        mut view: OfflineView<'_>,
        (signature, verified_for): (Result<(), SignatureFailure>, Option<[u8; 32]>),
        at: DateTime<Utc>,
    ) -> OfflineResult {
        view.receipt_verified_for = verified_for;
        let verification = checks::run(prepared, signature, &view, at);
        let mut warnings = Vec::new();
        // A bundle cannot vouch for registry state past nextUpdate, whether that is now or the
        // time asked about.
        if at.max(Utc::now()) > self.next_update {
            warnings.push(
                Check::new("bundle", false, "bundle_stale")
                    .with(json!({"nextUpdate": time(self.next_update)})),
            );
        }
        for (url, reason) in self.list_problems() {
            warnings.push(
                Check::new("statusList", false, "status_list_refused")
                    .with(json!({"url": url, "reason": reason})),
            );
        }
        OfflineResult {
            mode: "offline",
            as_of: time(self.issued_at),
            verification,
            warnings,
        }
    }
}
