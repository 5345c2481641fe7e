//! Reads for verification and the public licence status: one indexed query answers, for many
//! licence versions at once, everything the `status`, `registered` and `chain` checks need.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::StoreError;
use crate::domain::identifiers::LicenceId;
use crate::domain::licence::LicenceState;
use crate::log::merkle::Hash;

/// Where one stored licence version stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceStanding {
    pub id: LicenceId,
    /// Multibase SHA-256 of the stored credential.
    pub digest: String,
    pub leaf_index: u64,
    pub leaf_hash: Hash,
    /// The licence's head version and its validity window.
    pub head: LicenceId,
    pub head_valid_from: DateTime<Utc>,
    pub head_valid_until: DateTime<Utc>,
    pub state: LicenceState,
    /// When the licence's latest status event took effect (none before its first).
    pub since: Option<DateTime<Utc>>,
}

/// Verification reads.
#[async_trait]
pub trait VerifyStore: Send + Sync + 'static {
    /// The standing of each of these versions that is stored, in one query per 1,000 ids.
    async fn licence_standings(
        &self,
        ids: &[LicenceId],
    ) -> Result<HashMap<LicenceId, LicenceStanding>, StoreError>;
    /// One stored credential, as signed.
    async fn licence_document(&self, id: &LicenceId) -> Result<Option<Value>, StoreError>;
}

/// Implements [`VerifyStore`] for a store with a `pool` field; `$row` is the backend's row type.
macro_rules! verify_store {
    ($store:ty, $row:ty) => {
        #[async_trait]
        impl $crate::storage::verify::VerifyStore for $store {
                #[tracing::instrument(level = "debug", skip_all)]
            async fn licence_standings(
                &self,
                ids: &[LicenceId],
            ) -> Result<HashMap<LicenceId, $crate::storage::verify::LicenceStanding>, StoreError> {
                let mut found = HashMap::with_capacity(ids.len());
                for chunk in ids.chunks($crate::storage::rows::INSERT_CHUNK) {
                    let mut q = sqlx::QueryBuilder::new(
                        "SELECT l.id, l.digest, l.leaf_index, f.leaf_hash, h.id AS head, h.status, \
                         hl.valid_from AS head_valid_from, hl.valid_until AS head_valid_until, \
                         (SELECT e.effective_from FROM status_events e WHERE e.base = l.base \
                          ORDER BY e.leaf_index DESC LIMIT 1) AS since \
                         FROM licences l JOIN licence_heads h ON h.base = l.base \
                         JOIN licences hl ON hl.id = h.id JOIN log_leaves f ON f.idx = l.leaf_index \
                         WHERE l.id IN (",
                    );
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(id.as_str());
                    }
                    q.push(")");
                    // One text per list length: not kept prepared (see `log/write.rs`).
                    for row in q.build().persistent(false).fetch_all(&self.pool).await? {
                        let standing = decode_standing(&row)?;
                        found.insert(standing.id.clone(), standing);
                    }
                }
                Ok(found)
            }

                #[tracing::instrument(level = "debug", skip_all)]
            async fn licence_document(&self, id: &LicenceId) -> Result<Option<Value>, StoreError> {
                let document: Option<Vec<u8>> =
                    sqlx::query_scalar("SELECT document FROM licences WHERE id = $1")
                        .bind(id.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                document
                    .map(|d| {
                        let text = $crate::log::packed::unpack(d).map_err(StoreError::corrupt)?;
                        serde_json::from_str(&text).map_err(StoreError::corrupt)
                    })
                    .transpose()
            }
        }

        fn decode_standing(row: &$row) -> Result<$crate::storage::verify::LicenceStanding, StoreError> {
            let status: String = row.try_get("status")?;
            let parse_id = |name: &str| -> Result<LicenceId, StoreError> {
                row.try_get::<String, _>(name)?.parse().map_err(StoreError::corrupt)
            };
            Ok($crate::storage::verify::LicenceStanding {
                id: parse_id("id")?,
                digest: row.try_get("digest")?,
                leaf_index: $crate::storage::log::to_u64(row.try_get("leaf_index")?)?,
                leaf_hash: $crate::storage::log::hash_from(row.try_get("leaf_hash")?)?,
                head: parse_id("head")?,
                head_valid_from: row.try_get("head_valid_from")?,
                head_valid_until: row.try_get("head_valid_until")?,
                state: LicenceState::parse(&status)
                    .ok_or_else(|| StoreError::corrupt(format!("licence status {status:?}")))?,
                since: row.try_get("since")?,
            })
        }
    };
}
