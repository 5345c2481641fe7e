//! Per-licence facts held in memory for verification, so that a licence verified again (the
//! common case: the same licences pass through many counters) costs no database query.
//!
//! - **Standings** (log position, head version, status, since) of recently verified licence
//!   versions, grouped by licence base. They change only when a leaf about that licence is
//!   appended, so they are dropped ([`LicenceCache::changed`]):
//!   - by this instance's write path, after its batch commits and before its receipts are sent
//!     (an issuer that revokes a licence and then verifies it through the same instance sees it
//!     revoked), and
//!   - by the log follower ([`super::cache::RegistryCache::follow_log`]), which reads the leaves
//!     any instance appended, every [`FOLLOW_INTERVAL`]; that bounds how long a change written
//!     through *another* instance over the same PostgreSQL database can go unseen here.
//!
//!   A reader that missed fills the cache only if nothing was dropped while it read the database
//!   (the epoch did not move), so a standing read before a commit is never kept after it.
//! - **Log nodes**: complete subtrees, whose hashes never change once stored; nothing to drop.
//!
//! Both are bounded least-recently-used maps: once full, each insert evicts one entry, so the
//! memory they hold stays level. (Two generations of a hash map, used before, dropped a whole
//! generation at a time and made the service's RSS rise and fall by ~25 MB under steady load.)

use std::hash::Hash as StdHash;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lru::LruCache;

use crate::domain::identifiers::LicenceId;
use crate::log::merkle::{Hash, NodeId};
use crate::storage::LicenceStanding;
use crate::verify::FastMap;

/// The standings of one request's licences, by version.
pub type Standings = FastMap<LicenceId, Arc<LicenceStanding>>;

/// Licence bases kept. An entry (the base, two parsed licence identifiers, the digest and the
/// rest) takes ~800 bytes with its map slot and list links: ≤ ~26 MB.
const STANDINGS_KEPT: usize = 32_000;
/// Log nodes kept (~80 bytes each: ≤ ~10 MB).
const NODES_KEPT: usize = 131_072;
/// How often every instance reads the leaves appended since it last looked.
pub const FOLLOW_INTERVAL: Duration = Duration::from_millis(500);

/// A bounded map that keeps what was used recently.
type Recent<K, V> = LruCache<K, V, foldhash::fast::RandomState>;

fn recent<K: Eq + StdHash, V>(capacity: usize) -> Recent<K, V> {
    let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
    LruCache::with_hasher(capacity, foldhash::fast::RandomState::default())
}

/// Standings and log nodes in memory (see the module documentation).
#[derive(Debug)]
pub struct LicenceCache {
    standings: Mutex<Recent<String, Vec<Arc<LicenceStanding>>>>,
    nodes: Mutex<Recent<NodeId, Hash>>,
    epoch: AtomicU64,
}

impl Default for LicenceCache {
    fn default() -> Self {
        Self::new(STANDINGS_KEPT, NODES_KEPT)
    }
}

impl LicenceCache {
    fn new(standings: usize, nodes: usize) -> Self {
        Self {
            standings: Mutex::new(recent(standings)),
            nodes: Mutex::new(recent(nodes)),
            epoch: AtomicU64::new(0),
        }
    }

    /// The current epoch: read it before a database read whose result goes to [`Self::fill`].
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// The cached standings of these versions (shared, not copied), and the ids that were not
    /// cached.
    pub fn standings(&self, ids: Vec<LicenceId>) -> (Standings, Vec<LicenceId>) {
        let mut found = Standings::with_capacity_and_hasher(ids.len(), Default::default());
        let mut missing = Vec::new();
        let Ok(mut standings) = self.standings.lock() else {
            return (found, ids);
        };
        for id in ids {
            let hit = standings
                .get(id.base_str())
                .and_then(|versions| versions.iter().find(|s| s.id == id))
                .cloned();
            match hit {
                Some(standing) => {
                    found.insert(id, standing);
                }
                None => missing.push(id),
            }
        }
        (found, missing)
    }

    /// Keeps standings read from the database, unless something was dropped since `epoch`.
    pub fn fill<'a>(&self, epoch: u64, read: impl IntoIterator<Item = &'a Arc<LicenceStanding>>) {
        let Ok(mut standings) = self.standings.lock() else {
            return;
        };
        // Checked under the lock that `changed` also takes, so no drop can slip in between.
        if self.epoch.load(Ordering::SeqCst) != epoch {
            return;
        }
        for standing in read {
            let base = standing.id.base_str();
            let mut versions = standings.get(base).cloned().unwrap_or_default();
            versions.retain(|s| s.id != standing.id);
            versions.push(standing.clone());
            standings.put(base.to_owned(), versions);
        }
    }

    /// Drops what is held about these licence bases: a leaf about them was appended.
    pub fn changed<'a>(&self, bases: impl IntoIterator<Item = &'a str>) {
        let Ok(mut standings) = self.standings.lock() else {
            return;
        };
        self.epoch.fetch_add(1, Ordering::SeqCst);
        for base in bases {
            standings.pop(base);
        }
    }

    /// Drops every standing (the log could not be followed, so none can be vouched for).
    pub fn clear(&self) {
        if let Ok(mut standings) = self.standings.lock() {
            self.epoch.fetch_add(1, Ordering::SeqCst);
            standings.clear();
        }
    }

    /// The cached hashes of these log nodes, and the ids that were not cached.
    pub fn nodes(&self, ids: &[NodeId]) -> (FastMap<NodeId, Hash>, Vec<NodeId>) {
        let mut found = FastMap::with_capacity_and_hasher(ids.len(), Default::default());
        let mut missing = Vec::new();
        let Ok(mut nodes) = self.nodes.lock() else {
            return (found, ids.to_vec());
        };
        for id in ids {
            match nodes.get(id) {
                Some(hash) => {
                    found.insert(*id, *hash);
                }
                None => missing.push(*id),
            }
        }
        (found, missing)
    }

    /// Keeps stored node hashes (immutable once stored).
    pub fn fill_nodes<'a>(&self, read: impl IntoIterator<Item = (&'a NodeId, &'a Hash)>) {
        if let Ok(mut nodes) = self.nodes.lock() {
            for (id, hash) in read {
                nodes.put(*id, *hash);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::licence::LicenceState;

    fn standing(id: &LicenceId, state: LicenceState) -> Arc<LicenceStanding> {
        Arc::new(LicenceStanding {
            id: id.clone(),
            digest: "uEiAAAA".into(),
            leaf_index: 7,
            leaf_hash: [1; 32],
            head: id.clone(),
            head_valid_from: Utc::now(),
            head_valid_until: Utc::now(),
            state,
            since: None,
        })
    }

    fn id() -> LicenceId {
        id_numbered("2430599")
    }

    fn id_numbered(serial: &str) -> LicenceId {
        let type_code = "11100000000013338W032".parse().unwrap();
        let issuer = "11220000013544541J".parse().unwrap();
        LicenceId::build(&type_code, &issuer, serial, 1).unwrap()
    }

    #[test]
    fn a_change_drops_the_standing_and_a_read_begun_before_it_is_not_kept() {
        let cache = LicenceCache::new(4, 4);
        let id = id();
        let before = cache.epoch();
        cache.fill(before, [&standing(&id, LicenceState::Active)]);
        assert_eq!(cache.standings(vec![id.clone()]).0.len(), 1);

        // A reader starts, the write path commits a revocation and drops the licence…
        let reader_epoch = cache.epoch();
        cache.changed([id.base().as_str()]);
        assert!(cache.standings(vec![id.clone()]).0.is_empty());
        // …and the reader's (pre-commit) answer is not kept.
        cache.fill(reader_epoch, [&standing(&id, LicenceState::Active)]);
        assert_eq!(cache.standings(vec![id.clone()]).1, vec![id.clone()]);
        // A read begun after the change is kept.
        cache.fill(cache.epoch(), [&standing(&id, LicenceState::Revoked)]);
        let (found, _) = cache.standings(vec![id.clone()]);
        assert_eq!(found[&id].state, LicenceState::Revoked);

        cache.clear();
        assert!(cache.standings(vec![id.clone()]).0.is_empty());
    }

    #[test]
    fn the_cache_keeps_what_was_used_last_and_no_more() {
        let cache = LicenceCache::new(2, 2);
        let ids: Vec<LicenceId> = ["2430599", "2430600", "2430601"].map(id_numbered).to_vec();
        let fill =
            |id: &LicenceId| cache.fill(cache.epoch(), [&standing(id, LicenceState::Active)]);
        fill(&ids[0]);
        fill(&ids[1]);
        assert_eq!(cache.standings(vec![ids[0].clone()]).0.len(), 1); // used: kept
        fill(&ids[2]); // full: the least recently used (ids[1]) goes
        let (found, missing) = cache.standings(ids.clone());
        assert_eq!(missing, vec![ids[1].clone()]);
        assert_eq!(found.len(), 2);

        let a = NodeId { level: 0, index: 1 };
        let b = NodeId { level: 0, index: 2 };
        let c = NodeId { level: 0, index: 3 };
        for node in [a, b, c] {
            cache.fill_nodes(&std::collections::HashMap::from([(node, [1; 32])]));
        }
        assert_eq!(cache.nodes(&[a, b, c]).1, vec![a]);
    }

    #[test]
    fn nodes_are_kept() {
        let cache = LicenceCache::new(2, 2);
        let a = NodeId { level: 0, index: 1 };
        let b = NodeId { level: 3, index: 0 };
        cache.fill_nodes(&std::collections::HashMap::from([(a, [9; 32])]));
        let (found, missing) = cache.nodes(&[a, b]);
        assert_eq!(found[&a], [9; 32]);
        assert_eq!(missing, vec![b]);
    }
}
