//! The registry's published status lists: each issuer's W3C `BitstringStatusListCredential`s,
//! built from the store, signed by the registry key (eddsa-jcs-2022), and kept signed for a
//! while so that a burst of reads costs one build and conditional GETs keep matching.
//!
//! Freshness: an accepted status change drops its issuer's lists on the accepting instance
//! ([`StatusListCache::issuer_changed`]); every instance reads the store again for a list
//! served for [`REFRESH`], so a change shows everywhere within that bound.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::crypto::digest::sha256;
use crate::crypto::keys::KeyPair;
use crate::crypto::proof::{self, ProofOptions};
use crate::domain::identifiers::Uscc;
use crate::domain::status_list::{encode_list, list_url, StatusPurpose, MAX_LISTS};
use crate::domain::submission::licence::VC2_CONTEXT;
use crate::storage::{Store, StoreError};

/// How long a list is served before the store is read again (on every instance).
pub const REFRESH: StdDuration = StdDuration::from_secs(2);
/// How long a relying party may cache a list (`Cache-Control: max-age`).
pub const MAX_AGE: StdDuration = StdDuration::from_secs(30);
/// A list credential's lifetime (`validUntil - validFrom`); re-signed once half is gone.
pub const TTL: Duration = Duration::minutes(10);
/// Lists kept signed at once; past this the cache starts afresh.
const MAX_CACHED: usize = 4096;

/// Why a list could not be served.
#[derive(Debug, thiserror::Error)]
pub enum StatusListError {
    #[error("no such status list")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing the status list: {0}")]
    Sign(#[from] proof::ProofError),
}

/// Which list: an issuer's list number `list` for `purpose`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListId {
    pub issuer: Uscc,
    pub purpose: StatusPurpose,
    pub list: u32,
}

/// Who signs, and where the lists live.
#[derive(Debug, Clone, Copy)]
pub struct Publisher<'a> {
    /// did:web host (`host%3Aport`).
    pub did_host: &'a str,
    /// The public base URL without a trailing slash.
    pub public_base: &'a str,
    pub key: &'a KeyPair,
}

/// A signed list as served: the JSON text and its strong ETag.
#[derive(Debug, Clone)]
pub struct SignedList {
    pub body: String,
    /// `"<hex SHA-256 of body>"`, quotes included.
    pub etag: String,
    pub valid_from: DateTime<Utc>,
    /// The set indices it was built from.
    bits: Vec<u32>,
}

/// The unsigned `BitstringStatusListCredential` of `id` with the bits at `set` on, valid from
/// `now` for [`TTL`].
pub fn credential(
    publisher: &Publisher<'_>,
    id: &ListId,
    set: &[u32],
    now: DateTime<Utc>,
) -> Value {
    let url = list_url(publisher.public_base, &id.issuer, id.purpose, id.list);
    let now = now.trunc_subsecs(0);
    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "@context": [VC2_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": format!("did:web:{}", publisher.did_host),
        "validFrom": time(now),
        "validUntil": time(now + TTL),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": id.purpose.as_str(),
            "encodedList": encode_list(set),
        },
    })
}

fn sign(
    publisher: &Publisher<'_>,
    id: &ListId,
    bits: Vec<u32>,
    now: DateTime<Utc>,
) -> Result<SignedList, StatusListError> {
    let unsigned = credential(publisher, id, &bits, now);
    let method = format!(
        "did:web:{}#{}",
        publisher.did_host,
        publisher.key.multikey()
    );
    let signed = proof::sign(
        &unsigned,
        publisher.key,
        &ProofOptions::assertion(method, now),
    )?;
    let body = signed.to_string();
    Ok(SignedList {
        etag: format!("\"{}\"", hex::encode(sha256(body.as_bytes()))),
        body,
        valid_from: now.trunc_subsecs(0),
        bits,
    })
}

/// The signed lists served lately, and when the store was last read for each; and how many
/// status changes this instance has accepted (the trust bundle rebuilds when it moves).
#[derive(Debug, Default)]
pub struct StatusListCache(Mutex<HashMap<ListId, Cached>>, AtomicU64);

#[derive(Debug)]
struct Cached {
    read_at: Instant,
    signed: Arc<SignedList>,
}

impl StatusListCache {
    /// The current signed list `id`: cached for [`REFRESH`]; after that the store is read
    /// again, and the same bytes are kept while the bits are unchanged and the credential is
    /// younger than half its [`TTL`] (so ETags stay stable and `validUntil` stays ahead).
    /// `NotFound` for an unregistered issuer or a list number past [`MAX_LISTS`].
    pub async fn current(
        &self,
        store: &dyn Store,
        publisher: &Publisher<'_>,
        id: ListId,
    ) -> Result<Arc<SignedList>, StatusListError> {
        if id.list >= MAX_LISTS {
            return Err(StatusListError::NotFound);
        }
        let mut slot = self.0.lock().await;
        if let Some(cached) = slot.get(&id).filter(|c| c.read_at.elapsed() < REFRESH) {
            return Ok(cached.signed.clone());
        }
        // Reads under the lock: concurrent requests for a stale list wait for one build.
        if store.issuer(&id.issuer).await?.is_none() {
            return Err(StatusListError::NotFound);
        }
        let bits = store
            .status_list_bits(&id.issuer, id.purpose, id.list)
            .await?;
        let now = Utc::now();
        let keep = slot
            .get(&id)
            .map(|c| c.signed.clone())
            .filter(|s| s.bits == bits && now - s.valid_from < TTL / 2);
        let signed = match keep {
            Some(signed) => signed,
            None => Arc::new(sign(publisher, &id, bits, now)?),
        };
        if slot.len() >= MAX_CACHED && !slot.contains_key(&id) {
            slot.clear();
        }
        let read_at = Instant::now();
        let cached = Cached {
            read_at,
            signed: signed.clone(),
        };
        slot.insert(id, cached);
        Ok(signed)
    }

    /// Drops `issuer`'s lists: a status change of its licences was just accepted here.
    pub async fn issuer_changed(&self, issuer: &Uscc) {
        self.0.lock().await.retain(|id, _| &id.issuer != issuer);
        self.1.fetch_add(1, Ordering::SeqCst);
    }

    /// How many times a list was dropped for a change: the trust bundle, which pins each
    /// list's bits, is rebuilt when this moves ([`crate::bundle::BundleCache::current`]).
    pub fn changes(&self) -> u64 {
        self.1.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::status_list::{bit, decode_list};

    #[test]
    fn the_credential_is_a_signed_bitstring_status_list() {
        let key = KeyPair::generate();
        let publisher = Publisher {
            did_host: "registry.example",
            public_base: "https://registry.example",
            key: &key,
        };
        let id = ListId {
            issuer: "11220000013544541J".parse().expect("valid USCC"),
            purpose: StatusPurpose::Suspension,
            list: 2,
        };
        let now = Utc::now();
        let signed = sign(&publisher, &id, vec![3], now).expect("signs");
        let vc: Value = serde_json::from_str(&signed.body).expect("JSON");
        assert_eq!(
            vc["id"],
            "https://registry.example/v1/status-lists/11220000013544541J/suspension/2"
        );
        assert_eq!(vc["credentialSubject"]["type"], "BitstringStatusList");
        assert_eq!(vc["credentialSubject"]["statusPurpose"], "suspension");
        let bits = decode_list(vc["credentialSubject"]["encodedList"].as_str().unwrap()).unwrap();
        assert!(bit(&bits, 3) && !bit(&bits, 2));
        let prepared = proof::prepare(&vc).expect("a proof");
        prepared
            .verify_with(&key.verifying_key())
            .expect("the registry key verifies it");
    }
}
