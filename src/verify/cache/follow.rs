//! The log follower of the [`RegistryCache`]: every instance reads the leaves any instance
//! appended and drops what it holds about the licences they name (see
//! [`crate::verify::standings`]).

use std::sync::Weak;
use std::time::Duration;

use super::{LatestCheckpoint, RegistryCache};
use crate::domain::identifiers::LicenceId;
use crate::storage::StoreError;

/// Leaves read per query when following the log.
const FOLLOW_PAGE: u64 = 5_000;

impl RegistryCache {
    /// Follows the log for as long as the cache is in use: every `interval`, reads the leaves
    /// appended since the last look (by any instance) and drops the standings of the licences
    /// they name, and refreshes the checkpoint proofs are given against. If the log cannot be
    /// read, every standing is dropped (none can be vouched for) and it starts over.
    pub async fn follow_log(cache: Weak<Self>, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seen = None;
        loop {
            ticker.tick().await;
            let Some(cache) = cache.upgrade() else {
                return;
            };
            seen = match cache.follow_once(seen).await {
                Ok(size) => Some(size),
                Err(e) => {
                    tracing::warn!(error = %e, "the log could not be followed; licence standings dropped");
                    cache.licences.clear();
                    None
                }
            };
        }
    }

    /// One look at the log from `seen` (from its current size when none); answers the size
    /// followed to.
    async fn follow_once(&self, seen: Option<u64>) -> Result<u64, StoreError> {
        let size = self.store.log_size().await?;
        let Some(mut from) = seen else {
            // Starting (over): what was filled before this point may predate unseen leaves.
            self.licences.clear();
            return Ok(size);
        };
        if size <= from {
            return Ok(from);
        }
        while from < size {
            let entries = self.store.log_entries(from, FOLLOW_PAGE).await?;
            let Some(last) = entries.last() else {
                return Err(StoreError::Corrupt(format!(
                    "the log has size {size} but no leaf at {from}"
                )));
            };
            from = last.index + 1;
            let bases: Vec<String> = entries.iter().filter_map(|e| leaf_base(&e.data)).collect();
            self.licences.changed(bases.iter().map(String::as_str));
        }
        if let Some(latest) = self.store.latest_checkpoint().await? {
            if let Ok(mut slot) = self.checkpoint.write() {
                *slot = Some(LatestCheckpoint::new(&latest));
            }
        }
        Ok(from)
    }
}

/// The licence base a leaf's data names (`{"id": "urn:elicence:…", …}`).
fn leaf_base(data: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Leaf<'a> {
        #[serde(borrow)]
        id: std::borrow::Cow<'a, str>,
    }
    let leaf: Leaf<'_> = serde_json::from_str(data).ok()?;
    LicenceId::from_urn(&leaf.id).ok().map(|id| id.base())
}
