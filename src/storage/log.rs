//! SQL of the write path and the transparency log, shared by both backends through macros.
//!
//! [`append_batch`](super::LogStore::append_batch) is the only writer: one transaction that
//! takes the log lock (each backend's `begin_locked`), re-checks every envelope's chain head, loads
//! the tree's frontier (one query), appends the leaves in memory, and writes the batch's rows
//! while the sealer signs the checkpoint and receipts, then those: on SQLite with one multi-row
//! insert per table (`write.rs`), on PostgreSQL in two statements (`pg.rs`). Nothing is ever
//! rebuilt: proofs read O(log n) stored nodes in one query.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::log::merkle::Hash;

mod stored;

pub use stored::{LicenceHistory, LogEntry, StoredCheckpoint, StoredEvent, StoredLicence};

/// Unpacks `(digest, stored document)` rows into `documents`, by digest.
pub(crate) fn unpack_into(
    rows: Vec<(String, Vec<u8>)>,
    documents: &mut HashMap<String, String>,
) -> Result<(), StoreError> {
    for (digest, stored) in rows {
        let text = crate::log::packed::unpack(stored).map_err(StoreError::corrupt)?;
        documents.insert(digest, text);
    }
    Ok(())
}

pub(crate) fn hash_from(bytes: Vec<u8>) -> Result<Hash, super::StoreError> {
    Hash::try_from(bytes).map_err(|_| super::StoreError::corrupt("a stored hash is not 32 bytes"))
}

/// A `checkpoints` row (size, root, note, created_at) as a [`StoredCheckpoint`].
pub(crate) fn checkpoint_row(
    (size, root, note, created_at): (i64, Vec<u8>, String, DateTime<Utc>),
) -> Result<StoredCheckpoint, super::StoreError> {
    Ok(StoredCheckpoint {
        size: to_u64(size)?,
        root: hash_from(root)?,
        note,
        created_at,
    })
}

pub(crate) fn to_u64(value: i64) -> Result<u64, super::StoreError> {
    u64::try_from(value).map_err(super::StoreError::corrupt)
}

pub(crate) fn to_i64(value: u64) -> Result<i64, super::StoreError> {
    i64::try_from(value).map_err(super::StoreError::corrupt)
}

pub(crate) mod pg;
#[macro_use]
mod read;
#[macro_use]
mod write;

pub(crate) use crate::log::plan::{append_leaves, outcomes, triage, Triage};

/// Implements [`LogStore`](super::LogStore) for a store with a `pool` field and an inherent
/// `begin_locked(&pool)` that begins a transaction holding the log lock, with `batch_reads`
/// (log size, heads, earlier receipts), `write_unsealed` and `write_sealed` in scope (the backend's:
/// `multirow_writes!` or `pg`), and `write_status_entries` and `write_status_bits`
/// (`status_list_store!`).
macro_rules! log_store {
    ($store:ty) => {
        const _: () = {
            use ::async_trait::async_trait;
            use ::chrono::{DateTime, Utc};
            use ::serde_json::Value;
            use ::std::collections::HashMap;
            use $crate::domain::identifiers::Uscc;
            use $crate::domain::licence::LicenceState;
            use $crate::log::batch::{Batch, ChainHead, Outcome, Sealer};
            use $crate::log::merkle::{Hash, NodeId};
            use $crate::storage::log::{
                LicenceHistory, LogEntry, StoredCheckpoint,
            };
            use $crate::storage::{LogStore, StoreError};

            #[async_trait]
            impl LogStore for $store {
                #[tracing::instrument(level = "debug", skip_all)]
                async fn issuer_head(&self, issuer: &Uscc) -> Result<Option<ChainHead>, StoreError> {
                    let row: Option<(i64, String)> =
                        sqlx::query_as("SELECT sequence, digest FROM issuer_heads WHERE issuer = $1")
                            .bind(issuer.as_str())
                            .fetch_optional(&self.pool)
                            .await?;
                    row.map(|(sequence, digest)| {
                        Ok(ChainHead { sequence: $crate::storage::log::to_u64(sequence)?, digest })
                    })
                    .transpose()
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn append_batch(
                    &self,
                    batch: std::sync::Arc<Batch>,
                    seal: std::sync::Arc<Sealer>,
                ) -> Result<Vec<Outcome>, StoreError> {
                    let batch = &batch;
                    use $crate::storage::log::Triage;
                    let mut tx = Self::begin_locked(&self.pool).await?;
                    let (size, heads, stored) = batch_reads(&mut *tx, batch).await?;
                    let triage = $crate::storage::log::triage(batch, heads, &stored);
                    let accepted: Vec<usize> = (0..triage.len())
                        .filter(|&i| triage[i] == Triage::Accept)
                        .collect();
                    if accepted.is_empty() {
                        // Nothing to write: release the lock without touching the log.
                        tx.rollback().await?;
                        return Ok($crate::storage::log::outcomes(triage, &HashMap::new()));
                    }
                    let peak_ids = crate::log::merkle::CompactRange::peak_ids(size);
                    let fetched = fetch_nodes(&mut *tx, &peak_ids).await?;
                    let peaks = peak_ids
                        .iter()
                        .map(|id| fetched.get(id).copied().ok_or_else(|| StoreError::corrupt("a frontier node is missing")))
                        .collect::<Result<Vec<_>, _>>()?;
                    let leaves: Vec<&[String]> = accepted.iter().map(|&i| batch.leaves[i].as_slice()).collect();
                    let (mut appended, nodes) = $crate::storage::log::append_leaves(size, peaks, &leaves)
                        .map_err(StoreError::corrupt)?;
                    for (slot, &i) in appended.envelopes.iter_mut().zip(&accepted) {
                        slot.0 = i;
                    }
                    // The signatures run beside the writes that do not need them.
                    let sealing = {
                        let (seal, batch, appended) =
                            (std::sync::Arc::clone(&seal), std::sync::Arc::clone(batch), appended.clone());
                        tokio::task::spawn_blocking(move || seal(&batch, &appended))
                    };
                    // Level 0 is each leaf's hash, stored once with the leaf (`log_leaves`).
                    let nodes: Vec<_> = nodes.into_iter().filter(|(id, _)| id.level > 0).collect();
                    write_unsealed(&mut *tx, batch, &appended, &nodes).await?;
                    // The status lists' rows need no signature either: written while the seal
                    // runs, they shorten the wait for it.
                    write_status_entries(&mut *tx, batch, &appended).await?;
                    write_status_bits(&mut *tx, batch, &appended).await?;
                    // How long the writer, its rows written, waits for the signatures.
                    let waiting = std::time::Instant::now();
                    let sealed = sealing
                        .await
                        .map_err(|e| StoreError::corrupt(format!("sealing the batch failed: {e}")))?;
                    metrics::histogram!("sequencer_seal_wait_seconds")
                        .record(waiting.elapsed().as_secs_f64());
                    write_sealed(&mut *tx, batch, &appended, &sealed).await?;
                    let committing = std::time::Instant::now();
                    tx.commit().await?;
                    metrics::histogram!("sequencer_commit_seconds")
                        .record(committing.elapsed().as_secs_f64());
                    let receipts: HashMap<usize, String> = accepted.into_iter().zip(sealed.receipts).collect();
                    Ok($crate::storage::log::outcomes(triage, &receipts))
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn log_size(&self) -> Result<u64, StoreError> {
                    let size: i64 = sqlx::query_scalar("SELECT size FROM log_state WHERE id = 1")
                        .fetch_one(&self.pool)
                        .await?;
                    $crate::storage::log::to_u64(size)
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
                    let row: Option<(i64, Vec<u8>, String, DateTime<Utc>)> = sqlx::query_as(
                        "SELECT size, root, note, created_at FROM checkpoints ORDER BY size DESC LIMIT 1",
                    )
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map($crate::storage::log::checkpoint_row).transpose()
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn checkpoint_at(&self, size: u64) -> Result<Option<StoredCheckpoint>, StoreError> {
                    let row: Option<(i64, Vec<u8>, String, DateTime<Utc>)> = sqlx::query_as(
                        "SELECT size, root, note, created_at FROM checkpoints WHERE size = $1",
                    )
                    .bind($crate::storage::log::to_i64(size)?)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map($crate::storage::log::checkpoint_row).transpose()
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn log_nodes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, StoreError> {
                    let mut conn = self.pool.acquire().await?;
                    fetch_nodes(&mut *conn, ids).await
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn log_entries(&self, start: u64, count: u64) -> Result<Vec<LogEntry>, StoreError> {
                    let end = start.saturating_add(count);
                    let rows: Vec<(i64, Vec<u8>, String)> = sqlx::query_as(
                        "SELECT idx, leaf_hash, data FROM log_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                    )
                    .bind($crate::storage::log::to_i64(start)?)
                    .bind($crate::storage::log::to_i64(end.min(i64::MAX as u64))?)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter()
                        .map(|(idx, hash, data)| {
                            Ok(LogEntry {
                                index: $crate::storage::log::to_u64(idx)?,
                                leaf_hash: $crate::storage::log::hash_from(hash)?,
                                data,
                            })
                        })
                        .collect()
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn licence_history(&self, base: &str) -> Result<Option<LicenceHistory>, StoreError> {
                    let status: Option<String> =
                        sqlx::query_scalar("SELECT status FROM licence_heads WHERE base = $1")
                            .bind(base)
                            .fetch_optional(&self.pool)
                            .await?;
                    let Some(status) = status else { return Ok(None) };
                    let state = LicenceState::parse(&status)
                        .ok_or_else(|| StoreError::corrupt(format!("licence status {status:?}")))?;
                    let versions = sqlx::query(
                        "SELECT id, digest, document, envelope, leaf_index, accepted_at FROM licences \
                         WHERE base = $1 ORDER BY version",
                    )
                    .bind(base)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(decode_licence)
                    .collect::<Result<Vec<_>, _>>()?;
                    let events = sqlx::query(
                        "SELECT licence, action, reason, effective_from, digest, previous, envelope, \
                         leaf_index, accepted_at FROM status_events WHERE base = $1 ORDER BY leaf_index",
                    )
                    .bind(base)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(decode_event)
                    .collect::<Result<Vec<_>, _>>()?;
                    Ok(Some(LicenceHistory { state, versions, events }))
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn envelope_document(&self, digest: &str) -> Result<Option<Value>, StoreError> {
                    let row: Option<(String, i64)> =
                        sqlx::query_as("SELECT document, first_leaf FROM envelopes WHERE digest = $1")
                            .bind(digest)
                            .fetch_optional(&self.pool)
                            .await?;
                    let Some((document, first)) = row else { return Ok(None) };
                    let stored: Value = serde_json::from_str(&document)
                        .map_err(|_| StoreError::corrupt("a stored envelope is not JSON"))?;
                    let wanted = $crate::log::envelope::item_digests(&stored);
                    let mut documents = HashMap::with_capacity(wanted.len());
                    if !wanted.is_empty() {
                        // The items are the envelope's leaves, one contiguous range from its
                        // first: its licences and status events are read by that range (both
                        // tables are indexed by leaf).
                        let end = first.saturating_add(i64::try_from(wanted.len()).unwrap_or(i64::MAX));
                        const BY_LEAF: [&str; 2] = [
                            "SELECT digest, document FROM licences \
                             WHERE leaf_index >= $1 AND leaf_index < $2 AND envelope = $3",
                            "SELECT digest, document FROM status_events \
                             WHERE leaf_index >= $1 AND leaf_index < $2 AND envelope = $3",
                        ];
                        for query in BY_LEAF {
                            let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(query)
                                .bind(first)
                                .bind(end)
                                .bind(digest)
                                .fetch_all(&self.pool)
                                .await?;
                            $crate::storage::log::unpack_into(rows, &mut documents)?;
                        }
                    }
                    $crate::log::envelope::reassemble(stored, &documents)
                        .map(Some)
                        .ok_or_else(|| StoreError::corrupt(format!("envelope {digest}: an item is missing")))
                }
            }
        };
    };
}
