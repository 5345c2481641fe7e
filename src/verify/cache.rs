//! The online [`RegistryView`]: the registry's slowly changing facts (issuers and keys,
//! authorisations, licence types and their compiled schemas) held in memory as one immutable
//! [`Snapshot`], swapped atomically; per-licence facts from one indexed query per request
//! (however many credentials it carries), and inclusion proofs from one more.
//!
//! Freshness: a snapshot is replaced on the next verification after either
//! - this instance changed what it holds (the operator routes bump the generation through
//!   [`RegistryCache::invalidate`]), or
//! - it is [`MAX_AGE`] old, which bounds how long a change made through *another* instance over
//!   the same PostgreSQL database (a key marked compromised, an authorisation withdrawn) can go
//!   unseen here.
//!
//! Licence standings (status, versions, log positions) and log nodes of recently verified
//! licences are held in a [`LicenceCache`], dropped by the write path when a leaf about a licence
//! is appended and by [`RegistryCache::follow_log`], which reads the leaves every instance
//! appends (see [`super::standings`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde_json::value::RawValue;
use serde_json::Value;

mod as_of;
mod follow;
mod proofs;
mod view;

use self::view::OnlineView;
use super::standings::{LicenceCache, Standings};
use super::{licence_id_of, verify_coalesced, verify_many, FastMap, Verification};
use crate::domain::authorisation::Authorisation;
use crate::domain::identifiers::{LicenceId, TypeCode, Uscc};
use crate::domain::issuer::Issuer;
use crate::domain::licence_type::{LicenceType, TypeFilter};
use crate::domain::schema::CompiledSchema;
use crate::storage::{LicenceStanding, Store, StoreError, StoredCheckpoint};

/// The longest a snapshot serves before it is reloaded, whatever happened elsewhere.
pub const MAX_AGE: Duration = Duration::from_secs(5);
/// Credentials per request above which the checks run on a blocking thread, off the I/O loop.
const INLINE_MAX: usize = 16;
/// Licence types fetched per page when loading.
const TYPE_PAGE: u32 = 500;

/// Issuers, keys, authorisations, types and schemas as of one load.
#[derive(Debug)]
pub struct Snapshot {
    generation: u64,
    loaded: Instant,
    did_host: String,
    public_base: String,
    issuers: FastMap<Uscc, Issuer>,
    grants: FastMap<Uscc, Vec<Authorisation>>,
    types: FastMap<TypeCode, LicenceType>,
    schemas: FastMap<(TypeCode, u32), Arc<CompiledSchema>>,
    /// Every issuer key, decoded once (Multikey → curve point).
    keys: FastMap<String, VerifyingKey>,
}

impl Snapshot {
    /// A licence type (any status) as of this snapshot.
    pub fn licence_type(&self, code: &TypeCode) -> Option<&LicenceType> {
        self.types.get(code)
    }
}

/// The registry as this instance's verifier sees it.
pub struct RegistryCache {
    store: Arc<dyn Store>,
    did_host: String,
    public_base: String,
    generation: AtomicU64,
    current: RwLock<Option<Arc<Snapshot>>>,
    reload: tokio::sync::Mutex<()>,
    checkpoint: RwLock<Option<Arc<LatestCheckpoint>>>,
    licences: LicenceCache,
}

/// The latest signed checkpoint this instance has seen, with its note rendered as a JSON string
/// once for every answer that carries it.
struct LatestCheckpoint {
    size: u64,
    note: Arc<RawValue>,
}

impl LatestCheckpoint {
    fn new(stored: &StoredCheckpoint) -> Arc<Self> {
        Arc::new(Self {
            size: stored.size,
            note: super::render_checkpoint(&stored.note),
        })
    }
}

impl std::fmt::Debug for RegistryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryCache")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl RegistryCache {
    /// An empty cache; the first verification loads it.
    pub fn new(store: Arc<dyn Store>, did_host: String, public_base: String) -> Self {
        Self {
            store,
            did_host,
            public_base,
            generation: AtomicU64::new(0),
            current: RwLock::new(None),
            reload: tokio::sync::Mutex::new(()),
            checkpoint: RwLock::new(None),
            licences: LicenceCache::default(),
        }
    }

    /// Marks the snapshot stale: issuers, keys, authorisations or types changed.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Drops what is held about these licence bases: this instance appended leaves about them
    /// (called after the commit, before any receipt is sent).
    pub fn licences_changed<'a>(&self, bases: impl IntoIterator<Item = &'a str>) {
        self.licences.changed(bases);
    }

    /// The current snapshot, reloading it first when stale (one reload at a time).
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, StoreError> {
        if let Some(fresh) = self.fresh() {
            return Ok(fresh);
        }
        let _one_at_a_time = self.reload.lock().await;
        if let Some(fresh) = self.fresh() {
            return Ok(fresh);
        }
        // Read before loading: a change during the load leaves this snapshot stale.
        let generation = self.generation.load(Ordering::SeqCst);
        let previous = self.current.read().ok().and_then(|c| c.clone());
        let loaded = Arc::new(self.load(generation, previous.as_deref()).await?);
        if let Ok(mut current) = self.current.write() {
            *current = Some(loaded.clone());
        }
        Ok(loaded)
    }

    fn fresh(&self) -> Option<Arc<Snapshot>> {
        let current = self.current.read().ok()?.clone()?;
        let generation = self.generation.load(Ordering::SeqCst);
        (current.generation == generation && current.loaded.elapsed() < MAX_AGE).then_some(current)
    }

    #[tracing::instrument(skip_all, fields(generation))]
    async fn load(
        &self,
        generation: u64,
        previous: Option<&Snapshot>,
    ) -> Result<Snapshot, StoreError> {
        let issuers = self.store.list_issuers().await?;
        let mut grants: FastMap<Uscc, Vec<Authorisation>> = FastMap::default();
        for grant in self.store.authorisations(None).await? {
            grants.entry(grant.issuer.clone()).or_default().push(grant);
        }
        let types = self.all_types().await?;
        let mut schemas = FastMap::default();
        for t in &types {
            for v in &t.versions {
                let key = (t.code.clone(), v.version);
                if let Some(compiled) = self.compiled(previous, &key).await? {
                    schemas.insert(key, compiled);
                }
            }
        }
        let keys = issuers
            .iter()
            .flat_map(|i| &i.keys)
            .filter_map(|k| {
                let decoded = crate::crypto::multikey::decode(&k.multikey).ok()?;
                Some((k.multikey.clone(), decoded))
            })
            .collect();
        Ok(Snapshot {
            generation,
            loaded: Instant::now(),
            did_host: self.did_host.clone(),
            public_base: self.public_base.clone(),
            issuers: issuers.into_iter().map(|i| (i.uscc.clone(), i)).collect(),
            grants,
            types: types.into_iter().map(|t| (t.code.clone(), t)).collect(),
            schemas,
            keys,
        })
    }

    async fn all_types(&self) -> Result<Vec<LicenceType>, StoreError> {
        let mut all = Vec::new();
        loop {
            let filter = TypeFilter {
                offset: u32::try_from(all.len()).unwrap_or(u32::MAX),
                limit: TYPE_PAGE,
                ..TypeFilter::default()
            };
            let (page, total) = self.store.list_licence_types(&filter).await?;
            let done = page.is_empty() || all.len() + page.len() >= total as usize;
            all.extend(page);
            if done {
                return Ok(all);
            }
        }
    }

    /// A schema version compiled: from the previous snapshot (stored versions never change),
    /// else from the store. A stored schema that no longer compiles is left out (and logged).
    async fn compiled(
        &self,
        previous: Option<&Snapshot>,
        key: &(TypeCode, u32),
    ) -> Result<Option<Arc<CompiledSchema>>, StoreError> {
        if let Some(found) = previous.and_then(|p| p.schemas.get(key)) {
            return Ok(Some(found.clone()));
        }
        let Some(document) = self.store.schema_document(&key.0, key.1).await? else {
            return Ok(None);
        };
        match CompiledSchema::compile(document) {
            Ok(compiled) => Ok(Some(Arc::new(compiled))),
            Err(e) => {
                tracing::error!(code = %key.0, version = key.1, error = %e, "a stored schema does not compile");
                Ok(None)
            }
        }
    }

    /// Verifies credentials online: one snapshot, one query for the licences' standing, one
    /// for the inclusion proofs. Many credentials share Ed25519 batches and run off the I/O
    /// loop.
    pub async fn verify(
        &self,
        credentials: Vec<Value>,
        at: DateTime<Utc>,
    ) -> Result<Vec<Verification>, StoreError> {
        let snapshot = self.snapshot().await?;
        let ids: Vec<Option<LicenceId>> = credentials.iter().map(licence_id_of).collect();
        let mut wanted = Vec::with_capacity(ids.len());
        wanted.extend(ids.iter().flatten().cloned());
        let standings = self.as_of(self.standings(wanted).await?, at).await?;
        let mut results = if credentials.len() <= INLINE_MAX {
            let view = OnlineView {
                snapshot: &snapshot,
                standings: &standings,
            };
            verify_coalesced(&credentials, ids, &view, at).await
        } else {
            // The credentials come back to be dropped on this thread, which allocated them:
            // freeing another thread's memory costs the allocator more (~5 % of a batch).
            let (results, credentials) = tokio::task::spawn_blocking(move || {
                let view = OnlineView {
                    snapshot: &snapshot,
                    standings: &standings,
                };
                let all: Vec<&Value> = credentials.iter().collect();
                let results = verify_many(&all, ids, &view, at);
                (results, credentials)
            })
            .await
            .map_err(|e| StoreError::Corrupt(format!("verification task failed: {e}")))?;
            drop(credentials);
            results
        };
        self.attach_proofs(&mut results).await?;
        Ok(results)
    }

    /// The standing of one licence version now (for the public status route).
    pub async fn standing(
        &self,
        id: &LicenceId,
    ) -> Result<Option<Arc<LicenceStanding>>, StoreError> {
        let standings = self.standings(vec![id.clone()]).await?;
        Ok(self.as_of(standings, Utc::now()).await?.remove(id))
    }

    /// The standings as they were at `at`, where that may differ from the latest ones: one
    /// history read per such licence, never kept (see [`as_of`]).
    async fn as_of(
        &self,
        mut standings: Standings,
        at: DateTime<Utc>,
    ) -> Result<Standings, StoreError> {
        for standing in standings.values_mut() {
            if !as_of::needs_history(standing, at) {
                continue;
            }
            if let Some(history) = self.store.licence_history(&standing.id.base()).await? {
                *standing = Arc::new(as_of::standing_at(standing, &history, at)?);
            }
        }
        Ok(standings)
    }

    /// The standings of these versions: from memory, the rest in one query (then kept).
    async fn standings(&self, ids: Vec<LicenceId>) -> Result<Standings, StoreError> {
        let (mut found, missing) = self.licences.standings(ids);
        if !missing.is_empty() {
            let epoch = self.licences.epoch();
            let read: Standings = (self.store.licence_standings(&missing).await?)
                .into_iter()
                .map(|(id, standing)| (id, Arc::new(standing)))
                .collect();
            self.licences.fill(epoch, read.values());
            found.extend(read);
        }
        Ok(found)
    }
}
