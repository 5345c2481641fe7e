//! The comb tables ([`KeyTable`]) of the issuer keys that sign what this instance receives,
//! shared by every request: an issuer signs an envelope and each of its licences with one key,
//! envelope after envelope, so after the first signatures every check of that key costs about
//! half of a `verify_strict` ([`crate::crypto::comb`]), with exactly its answer.
//!
//! A key's first signature is checked without a table and only noted; the second builds one
//! (about four verifications' work, 127 KiB). A key seen once, then never again, costs nothing
//! but its note. At most [`KeyTables::new`]'s `capacity` tables are kept, the least recently
//! used dropped first. Only public keys' multiples are kept, never an answer.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use ed25519_dalek::VerifyingKey;
use lru::LruCache;

use super::comb::{self, KeyTable};

/// Keys noted as seen once, per table kept.
const SEEN_PER_TABLE: usize = 64;

/// Shared comb tables of recently used keys (see the module documentation).
pub struct KeyTables {
    inner: Mutex<Inner>,
}

struct Inner {
    /// Built tables; `None` for a weak key (whose signatures never verify).
    built: LruCache<[u8; 32], Option<Arc<KeyTable>>>,
    /// Keys that signed once here and have no table yet.
    seen: LruCache<[u8; 32], ()>,
}

impl std::fmt::Debug for KeyTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let built = self.inner.lock().map(|i| i.built.len()).unwrap_or(0);
        f.debug_struct("KeyTables")
            .field("built", &built)
            .finish_non_exhaustive()
    }
}

impl KeyTables {
    /// Keeps at most `capacity` tables (127 KiB each).
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        let seen = capacity.saturating_mul(NonZeroUsize::new(SEEN_PER_TABLE).unwrap_or(capacity));
        Self {
            inner: Mutex::new(Inner {
                built: LruCache::new(capacity),
                seen: LruCache::new(seen),
            }),
        }
    }

    /// `key`'s table: the one kept, or a new one when the key signed here before; none on its
    /// first signature (noted) and for a weak key.
    pub fn get(&self, key: &VerifyingKey) -> Option<Arc<KeyTable>> {
        let bytes = key.to_bytes();
        {
            let mut inner = self.inner.lock().ok()?;
            if let Some(table) = inner.built.get(&bytes) {
                return table.clone();
            }
            if inner.seen.pop(&bytes).is_none() {
                inner.seen.put(bytes, ());
                return None;
            }
        }
        // Built outside the lock: other keys' checks go on meanwhile. Two requests may build
        // the same table at once; the second one kept replaces the first, with the same points.
        let table = KeyTable::new(key, comb::NARROW).map(Arc::new);
        if let Ok(mut inner) = self.inner.lock() {
            inner.built.put(bytes, table.clone());
        }
        table
    }

    /// Tables kept now.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.built.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer as _, SigningKey};

    use super::*;

    #[test]
    fn a_table_from_the_second_signature_on_with_verify_stricts_answers() {
        let tables = KeyTables::new(2);
        let signer = SigningKey::from_bytes(&[3; 32]);
        let key = signer.verifying_key();
        assert!(
            tables.get(&key).is_none(),
            "the first signature only notes the key"
        );
        let table = tables.get(&key).expect("the second builds its table");
        assert_eq!(table.key(), &key);
        assert!(Arc::ptr_eq(&table, &tables.get(&key).expect("kept")));
        let signature = signer.sign(b"licence");
        assert!(table.verify_strict(b"licence", &signature));
        assert!(!table.verify_strict(b"licencf", &signature));
    }

    #[test]
    fn at_most_capacity_tables_are_kept() {
        let tables = KeyTables::new(2);
        let keys: Vec<VerifyingKey> = (1..=3)
            .map(|seed| SigningKey::from_bytes(&[seed; 32]).verifying_key())
            .collect();
        for key in &keys {
            tables.get(key);
            assert!(tables.get(key).is_some());
        }
        assert_eq!(tables.len(), 2);
        // The least recently used (the first key) was dropped: noted afresh, then rebuilt.
        assert!(tables.get(&keys[0]).is_none());
        assert!(tables.get(&keys[0]).is_some());
    }
}
