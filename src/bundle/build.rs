//! Building the bundle from the store, signing it, and keeping the signed bytes for a while so
//! that a burst of requests costs one build and conditional GETs keep matching.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::Value;
use tokio::sync::Mutex;

use super::document::{
    bits_digest, Bundle, BundleIssuer, BundleList, BundleLog, BundleSchema, BundleType, BUNDLE_TYPE,
};
use crate::crypto::digest::sha256;
use crate::crypto::keys::KeyPair;
use crate::crypto::proof::{self, ProofOptions};
use crate::domain::issuer::issuer_did;
use crate::domain::licence_type::{TypeFilter, TypeStatus};
use crate::domain::status_list::{bitstring, list_url};
use crate::log::checkpoint::{self, Checkpoint};
use crate::log::merkle::empty_root;
use crate::storage::{Store, StoreError};

/// How long a built bundle is served before the store is read again, at least.
pub const REFRESH: StdDuration = StdDuration::from_secs(10);
/// A bundle is served for at least this many times what building it took, so that rebuilding
/// takes at most a tenth of a core however large the registry grows (it reads every status
/// list in use once: BENCHMARKS.md has the build time at a million licences).
const REFRESH_PER_BUILD: u32 = 10;

/// How long a bundle that took `build` to make is served before the store is read again.
fn served_for(build: StdDuration) -> StdDuration {
    REFRESH.max(build.saturating_mul(REFRESH_PER_BUILD))
}

/// Who the registry is, for the bundle's header.
#[derive(Debug, Clone)]
pub struct Registry<'a> {
    /// did:web host (`host%3Aport`).
    pub did_host: &'a str,
    pub public_base: &'a str,
    /// The log origin (checkpoint key name).
    pub origin: &'a str,
    pub key: &'a KeyPair,
}

impl Registry<'_> {
    fn did(&self) -> String {
        format!("did:web:{}", self.did_host)
    }
}

/// A signed bundle as served: the JSON text and its strong ETag.
#[derive(Debug, Clone)]
pub struct SignedBundle {
    pub body: String,
    /// `"<hex SHA-256 of body>"`, quotes included.
    pub etag: String,
    pub issued_at: DateTime<Utc>,
    /// SHA-256 of the bundle without `issuedAt`, `nextUpdate` and proof: what it says.
    content: [u8; 32],
}

/// Reads everything the bundle holds; `issuedAt`/`nextUpdate` are `now` and `now + interval`.
pub async fn assemble(
    store: &dyn Store,
    registry: &Registry<'_>,
    now: DateTime<Utc>,
    interval: Duration,
) -> Result<Bundle, StoreError> {
    let now = now.trunc_subsecs(0);
    Ok(Bundle {
        kind: BUNDLE_TYPE.into(),
        registry: registry.did(),
        public_base: registry.public_base.to_owned(),
        issued_at: now,
        next_update: now + interval,
        log: log(store, registry).await?,
        licence_types: licence_types(store).await?,
        issuers: store
            .list_issuers()
            .await?
            .iter()
            .map(|i| BundleIssuer {
                uscc: i.uscc.clone(),
                name: i.name.clone(),
                did: issuer_did(registry.did_host, &i.uscc),
                status: i.status,
                keys: i.keys.iter().map(Into::into).collect(),
            })
            .collect(),
        authorisations: store
            .authorisations(None)
            .await?
            .iter()
            .map(Into::into)
            .collect(),
        status_lists: status_lists(store, registry).await?,
    })
}

/// Signs a bundle with eddsa-jcs-2022, verification method `did:web:<host>#<multikey>`.
pub fn sign(bundle: &Bundle, key: &KeyPair) -> Result<Value, proof::ProofError> {
    let value = serde_json::to_value(bundle).map_err(|_| proof::ProofError::DocumentNotObject)?;
    let method = format!("{}#{}", bundle.registry, key.multikey());
    proof::sign(
        &value,
        key,
        &ProofOptions::assertion(method, bundle.issued_at),
    )
}

/// A reference (URL, digest of the bits) to every list in use. One indexed read per list.
async fn status_lists(
    store: &dyn Store,
    registry: &Registry<'_>,
) -> Result<Vec<BundleList>, StoreError> {
    let mut lists = Vec::new();
    for (issuer, purpose, list) in store.status_lists_in_use().await? {
        let bits = bitstring(&store.status_list_bits(&issuer, purpose, list).await?);
        lists.push(BundleList {
            url: list_url(registry.public_base, &issuer, purpose, list),
            digest: bits_digest(&bits),
            issuer,
            purpose,
            list,
        });
    }
    Ok(lists)
}

async fn log(store: &dyn Store, registry: &Registry<'_>) -> Result<BundleLog, StoreError> {
    let checkpoint = match store.latest_checkpoint().await? {
        Some(c) => c.note,
        None => Checkpoint::new(registry.origin, 0, empty_root())
            .map_err(StoreError::corrupt)?
            .sign(registry.key.signing_key()),
    };
    Ok(BundleLog {
        key: checkpoint::vkey(registry.origin, &registry.key.verifying_key()),
        checkpoint,
    })
}

async fn licence_types(store: &dyn Store) -> Result<Vec<BundleType>, StoreError> {
    let mut types = Vec::new();
    for status in [TypeStatus::Published, TypeStatus::Deprecated] {
        let mut offset = 0;
        loop {
            let filter = TypeFilter {
                status: Some(status),
                offset,
                limit: 100,
                ..TypeFilter::default()
            };
            let (page, _) = store.list_licence_types(&filter).await?;
            if page.is_empty() {
                break;
            }
            offset += page.len() as u32;
            for t in page {
                let mut versions = Vec::new();
                for v in &t.versions {
                    let schema = store
                        .schema_document(&t.code, v.version)
                        .await?
                        .ok_or_else(|| {
                            StoreError::corrupt(format!(
                                "schema {} v{} is missing",
                                t.code, v.version
                            ))
                        })?;
                    versions.push(BundleSchema {
                        version: v.version,
                        digest: v.digest.clone(),
                        schema,
                    });
                }
                types.push(BundleType {
                    code: t.code,
                    name_zh: t.name_zh,
                    name_en: t.name_en,
                    holder_category: t.holder_category,
                    validity: t.validity,
                    status: t.status,
                    versions,
                });
            }
        }
    }
    types.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    Ok(types)
}

/// The last signed bundle and when the store was last read for it.
#[derive(Debug, Default)]
pub struct BundleCache(Mutex<Option<Cached>>);

/// A signed bundle, when the store was read for it, and for how long it is served.
#[derive(Debug)]
struct Cached {
    read_at: Instant,
    serve_for: StdDuration,
    /// What building it took.
    build: StdDuration,
    /// The status list changes it was built after ([`crate::status_list::StatusListCache::changes`]).
    changes: u64,
    signed: Arc<SignedBundle>,
}

impl Cached {
    /// Whether it may still be served: for its time, or, once a status change was accepted
    /// here since it was built, for ten times its build time (so a revocation reaches the
    /// bundle's list digests at once on a small registry, and rebuilding still takes at most a
    /// tenth of a core on a large one).
    fn fresh(&self, changes: u64) -> bool {
        let serve_for = if changes == self.changes {
            self.serve_for
        } else {
            self.build.saturating_mul(REFRESH_PER_BUILD)
        };
        self.read_at.elapsed() < serve_for
    }
}

impl BundleCache {
    /// The current signed bundle: cached for [`REFRESH`], or ten times what building it took
    /// if that is longer (only the latter once `changes` moved); after that the store is read again, and the same bytes are kept while
    /// the content is unchanged and the bundle younger than half its interval (so ETags stay
    /// stable and `nextUpdate` stays well ahead).
    pub async fn current(
        &self,
        store: &dyn Store,
        registry: &Registry<'_>,
        interval: Duration,
        changes: u64,
    ) -> anyhow::Result<Arc<SignedBundle>> {
        let mut slot = self.0.lock().await;
        if let Some(cached) = slot.as_ref().filter(|c| c.fresh(changes)) {
            return Ok(cached.signed.clone());
        }
        let started = Instant::now();
        let now = Utc::now();
        let bundle = assemble(store, registry, now, interval).await?;
        let content = content_digest(&bundle)?;
        let keep = slot
            .as_ref()
            .map(|c| c.signed.clone())
            .filter(|s| s.content == content && now - s.issued_at < interval / 2);
        let signed = match keep {
            Some(signed) => signed,
            None => Arc::new(sign_bytes(&bundle, registry.key, content)?),
        };
        let build = started.elapsed();
        *slot = Some(Cached {
            read_at: Instant::now(),
            serve_for: served_for(build),
            build,
            changes,
            signed: signed.clone(),
        });
        Ok(signed)
    }
}

fn sign_bytes(bundle: &Bundle, key: &KeyPair, content: [u8; 32]) -> anyhow::Result<SignedBundle> {
    let body = sign(bundle, key)?.to_string();
    Ok(SignedBundle {
        etag: format!("\"{}\"", hex::encode(sha256(body.as_bytes()))),
        body,
        issued_at: bundle.issued_at,
        content,
    })
}

fn content_digest(bundle: &Bundle) -> anyhow::Result<[u8; 32]> {
    let mut value = serde_json::to_value(bundle)?;
    if let Some(fields) = value.as_object_mut() {
        fields.shift_remove("issuedAt");
        fields.shift_remove("nextUpdate");
    }
    Ok(sha256(&crate::crypto::jcs::canonicalize(&value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_build_is_served_longer() {
        assert_eq!(served_for(StdDuration::from_millis(20)), REFRESH);
        assert_eq!(
            served_for(StdDuration::from_secs(3)),
            StdDuration::from_secs(30)
        );
        assert_eq!(served_for(StdDuration::MAX), StdDuration::MAX);
    }
}
