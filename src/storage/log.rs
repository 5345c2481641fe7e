//! SQL of the write path and the transparency log, shared by both backends through macros.
//!
//! [`append_batch`](super::LogStore::append_batch) is the only writer: one transaction that
//! takes the log lock (each backend's `lock_log`), re-checks every envelope's chain head, loads
//! the tree's frontier (one query), appends the leaves in memory, lets the sealer sign the
//! checkpoint and receipts, and writes everything with multi-row inserts. Nothing is ever
//! rebuilt: proofs read O(log n) stored nodes in one query.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::identifiers::LicenceId;
use crate::domain::licence::{LicenceState, StatusAction};
use crate::log::merkle::Hash;

/// Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 bind limits
/// for the widest table (licences, 15 columns).
pub(crate) const INSERT_CHUNK: usize = 1000;

/// A signed checkpoint as stored.
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

/// One leaf of the log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub index: u64,
    pub leaf_hash: Hash,
    pub data: String,
}

/// One stored version of a licence.
#[derive(Debug, Clone)]
pub struct StoredLicence {
    pub id: LicenceId,
    pub digest: String,
    pub document: Value,
    pub envelope: String,
    pub leaf_index: u64,
    pub accepted_at: DateTime<Utc>,
}

/// One stored status event.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub licence: LicenceId,
    pub action: StatusAction,
    pub reason: String,
    pub effective_from: DateTime<Utc>,
    pub digest: String,
    pub previous: String,
    pub envelope: String,
    pub leaf_index: u64,
    pub accepted_at: DateTime<Utc>,
}

/// Every version and status event of one licence, in order.
#[derive(Debug, Clone)]
pub struct LicenceHistory {
    pub state: LicenceState,
    pub versions: Vec<StoredLicence>,
    pub events: Vec<StoredEvent>,
}

/// A licence that is suspended or revoked.
#[derive(Debug, Clone)]
pub struct InactiveLicence {
    /// The identifier without version and check character.
    pub base: String,
    pub state: LicenceState,
    /// When the latest status event took effect.
    pub since: DateTime<Utc>,
}

pub(crate) fn hash_from(bytes: Vec<u8>) -> Result<Hash, super::StoreError> {
    Hash::try_from(bytes).map_err(|_| super::StoreError::corrupt("a stored hash is not 32 bytes"))
}

pub(crate) fn to_u64(value: i64) -> Result<u64, super::StoreError> {
    u64::try_from(value).map_err(super::StoreError::corrupt)
}

pub(crate) fn to_i64(value: u64) -> Result<i64, super::StoreError> {
    i64::try_from(value).map_err(super::StoreError::corrupt)
}

/// Decides each envelope's fate against the heads and digests stored when the lock was taken,
/// tracking heads as earlier envelopes of the batch are accepted. `Accepted` carries an empty
/// receipt and an in-batch repeat the position of its twin (filled in after sealing).
pub(crate) fn triage(
    batch: &crate::log::batch::Batch,
    mut heads: HashMap<String, crate::log::batch::ChainHead>,
    stored: &HashMap<String, String>,
) -> Vec<Triage> {
    use crate::log::batch::ChainHead;
    let mut accepted_at: HashMap<&str, usize> = HashMap::new();
    batch
        .envelopes
        .iter()
        .enumerate()
        .map(|(i, env)| {
            if let Some(receipt) = stored.get(&env.digest) {
                return Triage::Stored(receipt.clone());
            }
            if let Some(&twin) = accepted_at.get(env.digest.as_str()) {
                return Triage::Twin(twin);
            }
            let head = heads.get(env.issuer.as_str()).cloned();
            if head != env.expected_head() {
                return Triage::Mismatch(head);
            }
            heads.insert(
                env.issuer.as_str().to_owned(),
                ChainHead {
                    sequence: env.sequence,
                    digest: env.digest.clone(),
                },
            );
            accepted_at.insert(&env.digest, i);
            Triage::Accept
        })
        .collect()
}

/// See [`triage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Triage {
    Accept,
    Stored(String),
    Twin(usize),
    Mismatch(Option<crate::log::batch::ChainHead>),
}

/// Appends the accepted envelopes' leaves to the frontier; answers every node to write, the
/// leaf hashes, and the proofs against the new size. Every node an inclusion proof of a new
/// leaf needs is either a peak of the old tree or a node this append completed.
pub(crate) fn append_leaves(
    size: u64,
    peaks: Vec<Hash>,
    leaves: &[&[String]],
) -> Result<
    (
        crate::log::batch::Appended,
        Vec<(crate::log::merkle::NodeId, Hash)>,
    ),
    super::StoreError,
> {
    use crate::log::batch::{Appended, AppendedLeaf};
    use crate::log::merkle::{inclusion_plan, leaf_hash, CompactRange};
    let corrupt = super::StoreError::corrupt;
    let known: HashMap<_, _> = CompactRange::peak_ids(size)
        .into_iter()
        .zip(peaks.iter().copied())
        .collect();
    let mut range = CompactRange::from_peaks(size, peaks).map_err(corrupt)?;
    let mut nodes = Vec::new();
    let mut hashes = Vec::with_capacity(leaves.len());
    for datas in leaves {
        let envelope: Vec<Hash> = datas.iter().map(|d| leaf_hash(d.as_bytes())).collect();
        for hash in &envelope {
            nodes.extend(range.append(*hash));
        }
        hashes.push(envelope);
    }
    let mut all = known;
    all.extend(nodes.iter().copied());
    let new_size = range.size();
    let mut index = size;
    let mut envelopes = Vec::with_capacity(hashes.len());
    for envelope in hashes {
        let mut appended = Vec::with_capacity(envelope.len());
        for hash in envelope {
            let inclusion = inclusion_plan(index, new_size)
                .and_then(|plan| plan.assemble(&all))
                .map_err(corrupt)?;
            appended.push(AppendedLeaf {
                index,
                hash,
                inclusion,
            });
            index += 1;
        }
        envelopes.push((0, appended));
    }
    let root = range.root();
    Ok((
        Appended {
            size: new_size,
            root,
            envelopes,
        },
        nodes,
    ))
}

/// Implements [`LogStore`](super::LogStore) for a store with a `pool` field and an inherent
/// `lock_log(&mut tx) -> Result<u64, StoreError>` that takes the log lock and answers the size.
macro_rules! log_store {
    ($store:ty) => {
        #[async_trait]
        impl LogStore for $store {
            async fn issuer_head(&self, issuer: &Uscc) -> Result<Option<ChainHead>, StoreError> {
                let row: Option<(i64, String)> =
                    sqlx::query_as("SELECT sequence, digest FROM issuer_heads WHERE issuer = $1")
                        .bind(issuer.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(|(sequence, digest)| {
                    Ok(ChainHead { sequence: super::log::to_u64(sequence)?, digest })
                })
                .transpose()
            }

            async fn envelope_receipt(&self, digest: &str) -> Result<Option<String>, StoreError> {
                Ok(sqlx::query_scalar("SELECT receipt FROM envelopes WHERE digest = $1")
                    .bind(digest)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn licence_chains(
                &self,
                bases: &[String],
            ) -> Result<HashMap<String, LicenceChain>, StoreError> {
                let mut chains = HashMap::new();
                for chunk in bases.chunks(super::log::INSERT_CHUNK) {
                    let mut q = sqlx::QueryBuilder::new(
                        "SELECT base, id, digest, status, last_event FROM licence_heads WHERE base IN (",
                    );
                    let mut list = q.separated(", ");
                    for base in chunk {
                        list.push_bind(base.as_str());
                    }
                    q.push(")");
                    for row in q.build().fetch_all(&self.pool).await? {
                        let chain = decode_chain(&row)?;
                        chains.insert(chain.base.clone(), chain);
                    }
                }
                Ok(chains)
            }

            async fn existing_licences(
                &self,
                ids: &[LicenceId],
            ) -> Result<HashSet<LicenceId>, StoreError> {
                let mut found = HashSet::new();
                for chunk in ids.chunks(super::log::INSERT_CHUNK) {
                    let mut q = sqlx::QueryBuilder::new("SELECT id FROM licences WHERE id IN (");
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(id.as_str());
                    }
                    q.push(")");
                    for row in q.build().fetch_all(&self.pool).await? {
                        let id: String = row.try_get("id")?;
                        found.insert(id.parse().map_err(StoreError::corrupt)?);
                    }
                }
                Ok(found)
            }

            async fn append_batch(
                &self,
                batch: &Batch,
                seal: &Sealer<'_>,
            ) -> Result<Vec<Outcome>, StoreError> {
                use super::log::{to_i64, Triage};
                let mut tx = self.pool.begin().await?;
                let size = Self::lock_log(&mut *tx).await?;
                let heads = batch_heads(&mut *tx, batch).await?;
                let stored = batch_receipts(&mut *tx, batch).await?;
                let triage = super::log::triage(batch, heads, &stored);
                let accepted: Vec<usize> = (0..triage.len())
                    .filter(|&i| triage[i] == Triage::Accept)
                    .collect();
                if accepted.is_empty() {
                    // Nothing to write: release the lock without touching the log.
                    tx.rollback().await?;
                    return Ok(super::log::outcomes(triage, &HashMap::new()));
                }
                let peak_ids = crate::log::merkle::CompactRange::peak_ids(size);
                let fetched = fetch_nodes(&mut *tx, &peak_ids).await?;
                let peaks = peak_ids
                    .iter()
                    .map(|id| fetched.get(id).copied().ok_or_else(|| StoreError::corrupt("a frontier node is missing")))
                    .collect::<Result<Vec<_>, _>>()?;
                let leaves: Vec<&[String]> = accepted.iter().map(|&i| batch.leaves[i].as_slice()).collect();
                let (mut appended, nodes) = super::log::append_leaves(size, peaks, &leaves)?;
                for (slot, &i) in appended.envelopes.iter_mut().zip(&accepted) {
                    slot.0 = i;
                }
                let sealed = seal(&appended);
                write_envelopes(&mut *tx, batch, &appended, &sealed).await?;
                write_items(&mut *tx, batch, &appended).await?;
                write_log(&mut *tx, batch, &appended, &nodes, &sealed).await?;
                sqlx::query("UPDATE log_state SET size = $1 WHERE id = 1")
                    .bind(to_i64(appended.size)?)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                let receipts: HashMap<usize, String> = accepted.into_iter().zip(sealed.receipts).collect();
                Ok(super::log::outcomes(triage, &receipts))
            }

            async fn log_size(&self) -> Result<u64, StoreError> {
                let size: i64 = sqlx::query_scalar("SELECT size FROM log_state WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await?;
                super::log::to_u64(size)
            }

            async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
                let row: Option<(i64, Vec<u8>, String, DateTime<Utc>)> = sqlx::query_as(
                    "SELECT size, root, note, created_at FROM checkpoints ORDER BY size DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(size, root, note, created_at)| {
                    Ok(StoredCheckpoint {
                        size: super::log::to_u64(size)?,
                        root: super::log::hash_from(root)?,
                        note,
                        created_at,
                    })
                })
                .transpose()
            }

            async fn log_nodes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                fetch_nodes(&mut *conn, ids).await
            }

            async fn log_entries(&self, start: u64, count: u64) -> Result<Vec<LogEntry>, StoreError> {
                let end = start.saturating_add(count);
                let rows: Vec<(i64, Vec<u8>, String)> = sqlx::query_as(
                    "SELECT idx, leaf_hash, data FROM log_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                )
                .bind(super::log::to_i64(start)?)
                .bind(super::log::to_i64(end.min(i64::MAX as u64))?)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(idx, hash, data)| {
                        Ok(LogEntry {
                            index: super::log::to_u64(idx)?,
                            leaf_hash: super::log::hash_from(hash)?,
                            data,
                        })
                    })
                    .collect()
            }

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

            async fn inactive_licences(&self) -> Result<Vec<InactiveLicence>, StoreError> {
                let rows: Vec<(String, String, Option<DateTime<Utc>>)> = sqlx::query_as(
                    "SELECT h.base, h.status, (SELECT e.effective_from FROM status_events e \
                     WHERE e.base = h.base ORDER BY e.leaf_index DESC LIMIT 1) AS since \
                     FROM licence_heads h WHERE h.status <> 'active' ORDER BY h.base",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(base, status, since)| {
                        let state = LicenceState::parse(&status)
                            .ok_or_else(|| StoreError::corrupt(format!("licence status {status:?}")))?;
                        let since = since.ok_or_else(|| StoreError::corrupt("an inactive licence has no event"))?;
                        Ok(InactiveLicence { base, state, since })
                    })
                    .collect()
            }

            async fn superseded_licences(&self) -> Result<Vec<(LicenceId, LicenceId)>, StoreError> {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT l.id, h.id FROM licences l JOIN licence_heads h ON h.base = l.base \
                     WHERE l.id <> h.id ORDER BY l.id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(old, head)| {
                        Ok((old.parse().map_err(StoreError::corrupt)?, head.parse().map_err(StoreError::corrupt)?))
                    })
                    .collect()
            }

            async fn licence_digests(&self) -> Result<Vec<String>, StoreError> {
                Ok(sqlx::query_scalar("SELECT digest FROM licences").fetch_all(&self.pool).await?)
            }
        }
    };
}

/// Each envelope's outcome once the receipts are known.
pub(crate) fn outcomes(
    triage: Vec<Triage>,
    receipts: &HashMap<usize, String>,
) -> Vec<crate::log::batch::Outcome> {
    use crate::log::batch::Outcome;
    let receipt = |i: usize| receipts.get(&i).cloned().unwrap_or_default();
    triage
        .into_iter()
        .enumerate()
        .map(|(i, t)| match t {
            Triage::Accept => Outcome::Accepted(receipt(i)),
            Triage::Twin(j) => Outcome::Repeat(receipt(j)),
            Triage::Stored(r) => Outcome::Repeat(r),
            Triage::Mismatch(head) => Outcome::HeadMismatch(head),
        })
        .collect()
}

/// Backend-typed helpers of [`log_store!`]: `$conn` is the backend's connection type.
macro_rules! log_helpers {
    ($store:ty, $db:ty, $conn:ty, $row:ty) => {
        /// The stored heads of the batch's issuers, read under the lock.
        async fn batch_heads(
            conn: &mut $conn,
            batch: &Batch,
        ) -> Result<HashMap<String, ChainHead>, StoreError> {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "SELECT issuer, sequence, digest FROM issuer_heads WHERE issuer IN (",
            );
            let mut list = q.separated(", ");
            for env in &batch.envelopes {
                list.push_bind(env.issuer.as_str());
            }
            q.push(")");
            let mut heads = HashMap::new();
            for row in q.build().fetch_all(&mut *conn).await? {
                let head = ChainHead {
                    sequence: super::log::to_u64(row.try_get("sequence")?)?,
                    digest: row.try_get("digest")?,
                };
                heads.insert(row.try_get::<String, _>("issuer")?, head);
            }
            Ok(heads)
        }

        /// Receipts of the batch's envelopes that were accepted before (repeats).
        async fn batch_receipts(
            conn: &mut $conn,
            batch: &Batch,
        ) -> Result<HashMap<String, String>, StoreError> {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "SELECT digest, receipt FROM envelopes WHERE digest IN (",
            );
            let mut list = q.separated(", ");
            for env in &batch.envelopes {
                list.push_bind(env.digest.as_str());
            }
            q.push(")");
            let mut found = HashMap::new();
            for row in q.build().fetch_all(&mut *conn).await? {
                found.insert(row.try_get("digest")?, row.try_get("receipt")?);
            }
            Ok(found)
        }

        /// The nodes asked for, in one query.
        async fn fetch_nodes(
            conn: &mut $conn,
            ids: &[NodeId],
        ) -> Result<HashMap<NodeId, Hash>, StoreError> {
            let mut nodes = HashMap::with_capacity(ids.len());
            for chunk in ids.chunks(super::log::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT level, idx, hash FROM log_nodes WHERE (level, idx) IN ",
                );
                q.push_tuples(chunk, |mut b, id| {
                    b.push_bind(i64::from(id.level));
                    b.push_bind(i64::try_from(id.index).unwrap_or(i64::MAX));
                });
                for row in q.build().fetch_all(&mut *conn).await? {
                    let level: i64 = row.try_get("level")?;
                    let id = NodeId {
                        level: u8::try_from(level).map_err(StoreError::corrupt)?,
                        index: super::log::to_u64(row.try_get("idx")?)?,
                    };
                    nodes.insert(id, super::log::hash_from(row.try_get("hash")?)?);
                }
            }
            Ok(nodes)
        }

        /// Envelope rows with their receipts, and the issuers' new heads.
        async fn write_envelopes(
            conn: &mut $conn,
            batch: &Batch,
            appended: &Appended,
            sealed: &Sealed,
        ) -> Result<(), StoreError> {
            use super::log::to_i64;
            let mut heads: HashMap<&str, (i64, &str)> = HashMap::new();
            for (chunk, receipts) in appended
                .envelopes
                .chunks(super::log::INSERT_CHUNK)
                .zip(sealed.receipts.chunks(super::log::INSERT_CHUNK))
            {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO envelopes (digest, issuer, sequence, previous, document, receipt, \
                     accepted_at, first_leaf) ",
                );
                let mut rows = Vec::with_capacity(chunk.len());
                for ((i, leaves), receipt) in chunk.iter().zip(receipts) {
                    let env = &batch.envelopes[*i];
                    let first = leaves.first().map_or(appended.size, |l| l.index);
                    rows.push((env, receipt, to_i64(env.sequence)?, to_i64(first)?));
                    heads.insert(env.issuer.as_str(), (to_i64(env.sequence)?, &env.digest));
                }
                q.push_values(rows, |mut b, (env, receipt, sequence, first)| {
                    b.push_bind(env.digest.as_str())
                        .push_bind(env.issuer.as_str())
                        .push_bind(sequence)
                        .push_bind(env.previous.as_deref())
                        .push_bind(env.document.as_str())
                        .push_bind(receipt.as_str())
                        .push_bind(batch.accepted_at)
                        .push_bind(first);
                });
                q.build().execute(&mut *conn).await?;
            }
            let heads: Vec<_> = heads.into_iter().collect();
            for chunk in heads.chunks(super::log::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO issuer_heads (issuer, sequence, digest) ",
                );
                q.push_values(chunk, |mut b, (issuer, (sequence, digest))| {
                    b.push_bind(*issuer).push_bind(*sequence).push_bind(*digest);
                });
                q.push(
                    " ON CONFLICT (issuer) DO UPDATE SET sequence = excluded.sequence, \
                     digest = excluded.digest",
                );
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// Licences, status events, and the licences' new heads.
        async fn write_items(
            conn: &mut $conn,
            batch: &Batch,
            appended: &Appended,
        ) -> Result<(), StoreError> {
            use super::log::to_i64;
            let mut licences = Vec::new();
            let mut events = Vec::new();
            let mut chains: HashMap<&str, &LicenceChain> = HashMap::new();
            for (i, leaves) in &appended.envelopes {
                let env = &batch.envelopes[*i];
                for (item, leaf) in env.items.iter().zip(leaves) {
                    match item {
                        PendingItem::Licence(l) => licences.push((env, l, to_i64(leaf.index)?)),
                        PendingItem::Status(s) => events.push((env, s, to_i64(leaf.index)?)),
                    }
                }
                for chain in &env.chains {
                    chains.insert(chain.base.as_str(), chain);
                }
            }
            for chunk in licences.chunks(super::log::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO licences (id, base, version, issuer, type_code, schema_version, \
                     holder, jurisdiction, valid_from, valid_until, digest, document, envelope, \
                     leaf_index, accepted_at) ",
                );
                q.push_values(chunk, |mut b, (env, l, leaf)| {
                    b.push_bind(l.id.as_str())
                        .push_bind(l.id.base())
                        .push_bind(i64::from(l.id.version()))
                        .push_bind(l.id.issuer().as_str())
                        .push_bind(l.id.type_code().as_str())
                        .push_bind(i64::from(l.schema_version))
                        .push_bind(l.holder.as_str())
                        .push_bind(l.jurisdiction.as_str())
                        .push_bind(l.valid_from)
                        .push_bind(l.valid_until)
                        .push_bind(l.digest.as_str())
                        .push_bind(l.document.as_str())
                        .push_bind(env.digest.as_str())
                        .push_bind(*leaf)
                        .push_bind(batch.accepted_at);
                });
                q.build().execute(&mut *conn).await?;
            }
            let chains: Vec<&LicenceChain> = chains.into_values().collect();
            for chunk in chains.chunks(super::log::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO licence_heads (base, id, digest, status, last_event) ",
                );
                q.push_values(chunk, |mut b, c| {
                    b.push_bind(c.base.as_str())
                        .push_bind(c.head.as_str())
                        .push_bind(c.head_digest.as_str())
                        .push_bind(c.state.as_str())
                        .push_bind(c.last_event.as_deref());
                });
                q.push(
                    " ON CONFLICT (base) DO UPDATE SET id = excluded.id, digest = excluded.digest, \
                     status = excluded.status, last_event = excluded.last_event",
                );
                q.build().execute(&mut *conn).await?;
            }
            for chunk in events.chunks(super::log::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO status_events (base, licence, action, reason, effective_from, \
                     digest, previous, document, envelope, leaf_index, accepted_at) ",
                );
                q.push_values(chunk, |mut b, (env, s, leaf)| {
                    b.push_bind(s.licence.base())
                        .push_bind(s.licence.as_str())
                        .push_bind(s.action.as_str())
                        .push_bind(s.reason.as_str())
                        .push_bind(s.effective_from)
                        .push_bind(s.digest.as_str())
                        .push_bind(s.previous.as_str())
                        .push_bind(s.document.as_str())
                        .push_bind(env.digest.as_str())
                        .push_bind(*leaf)
                        .push_bind(batch.accepted_at);
                });
                q.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// Leaves, every node the append completed, and the signed checkpoint.
        async fn write_log(
            conn: &mut $conn,
            batch: &Batch,
            appended: &Appended,
            nodes: &[(NodeId, Hash)],
            sealed: &Sealed,
        ) -> Result<(), StoreError> {
            use super::log::to_i64;
            let mut leaves = Vec::new();
            for (i, appended_leaves) in &appended.envelopes {
                for (leaf, data) in appended_leaves.iter().zip(&batch.leaves[*i]) {
                    leaves.push((to_i64(leaf.index)?, &leaf.hash, data.as_str()));
                }
            }
            for chunk in leaves.chunks(super::log::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO log_leaves (idx, leaf_hash, data) ",
                );
                q.push_values(chunk, |mut b, (idx, hash, data)| {
                    b.push_bind(*idx).push_bind(&hash[..]).push_bind(*data);
                });
                q.build().execute(&mut *conn).await?;
            }
            let nodes = nodes
                .iter()
                .map(|(id, hash)| Ok((i64::from(id.level), to_i64(id.index)?, hash)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            for chunk in nodes.chunks(super::log::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO log_nodes (level, idx, hash) ");
                q.push_values(chunk, |mut b, (level, idx, hash)| {
                    b.push_bind(*level).push_bind(*idx).push_bind(&hash[..]);
                });
                q.build().execute(&mut *conn).await?;
            }
            sqlx::query("INSERT INTO checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4)")
                .bind(to_i64(appended.size)?)
                .bind(&appended.root[..])
                .bind(sealed.checkpoint.as_str())
                .bind(batch.accepted_at)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        fn decode_chain(row: &$row) -> Result<LicenceChain, StoreError> {
            let status: String = row.try_get("status")?;
            Ok(LicenceChain {
                base: row.try_get("base")?,
                head: row.try_get::<String, _>("id")?.parse().map_err(StoreError::corrupt)?,
                head_digest: row.try_get("digest")?,
                state: LicenceState::parse(&status)
                    .ok_or_else(|| StoreError::corrupt(format!("licence status {status:?}")))?,
                last_event: row.try_get("last_event")?,
            })
        }

        fn decode_licence(row: &$row) -> Result<StoredLicence, StoreError> {
            let document: String = row.try_get("document")?;
            Ok(StoredLicence {
                id: row.try_get::<String, _>("id")?.parse().map_err(StoreError::corrupt)?,
                digest: row.try_get("digest")?,
                document: serde_json::from_str(&document).map_err(StoreError::corrupt)?,
                envelope: row.try_get("envelope")?,
                leaf_index: super::log::to_u64(row.try_get("leaf_index")?)?,
                accepted_at: row.try_get("accepted_at")?,
            })
        }

        fn decode_event(row: &$row) -> Result<StoredEvent, StoreError> {
            let action: String = row.try_get("action")?;
            Ok(StoredEvent {
                licence: row.try_get::<String, _>("licence")?.parse().map_err(StoreError::corrupt)?,
                action: StatusAction::parse(&action)
                    .ok_or_else(|| StoreError::corrupt(format!("status action {action:?}")))?,
                reason: row.try_get("reason")?,
                effective_from: row.try_get("effective_from")?,
                digest: row.try_get("digest")?,
                previous: row.try_get("previous")?,
                envelope: row.try_get("envelope")?,
                leaf_index: super::log::to_u64(row.try_get("leaf_index")?)?,
                accepted_at: row.try_get("accepted_at")?,
            })
        }
    };
}
