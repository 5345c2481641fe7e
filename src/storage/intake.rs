//! What the intake reads about one envelope, on one connection and in as few round trips as
//! the data allows: the [`IntakeStore`] trait and the SQL both backends share through the
//! `intake_store!` macro.
//!
//! Each pool query costs an acquire and a release (sqlx tests a connection as it goes back to
//! the pool), which on PostgreSQL is a round trip each; the intake used to make seven. Now it
//! makes one acquire and at most three queries: issuer with its chain head, the envelope's
//! earlier receipt and the issuer's authorisations; licence chains; and (only when an item names
//! a licence that already exists) the versions taken; and one more when licences name status
//! list slots (the slots taken). Authentication reads the issuer with its keys before, in one
//! query (`IssuerStore::issuer`).

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;

use super::StoreError;
use crate::domain::authorisation::Authorisation;
use crate::domain::identifiers::{LicenceId, Uscc};
use crate::domain::status_list::StatusSlot;
use crate::log::batch::{ChainHead, LicenceChain};

pub(crate) mod pg;

/// The facts the store holds about one envelope, read outside any transaction: the sequencer
/// re-checks the chain head under the log lock before anything is written.
#[derive(Debug, Clone, Default)]
pub struct IntakeReads {
    /// Whether the issuer is registered (nothing else is read when not). Its row and keys are
    /// what the intake authenticated the envelope with (`Store::issuer`), not read again.
    pub registered: bool,
    /// The issuer's chain head; `None` before its first envelope.
    pub head: Option<ChainHead>,
    /// The stored receipt when this envelope was accepted before.
    pub receipt: Option<String>,
    /// The current state of the named licences (absent ones are left out).
    pub chains: HashMap<String, LicenceChain>,
    /// Which of the named licence versions exist.
    pub existing: HashSet<LicenceId>,
    /// Every grant to the issuer, withdrawn ones included.
    pub grants: Vec<Authorisation>,
    /// Which of the status list slots the items name are taken already.
    pub taken: HashSet<StatusSlot>,
}

/// Reads for the write path.
#[async_trait]
pub trait IntakeStore: Send + Sync + 'static {
    /// Everything the intake checks an envelope of `issuer` with digest `digest` against,
    /// for items naming the licence versions `ids` (any order, repeats allowed) and the
    /// issuer's status list slots `slots`.
    async fn intake_reads(
        &self,
        issuer: &Uscc,
        digest: &str,
        ids: &[LicenceId],
        slots: &[StatusSlot],
    ) -> Result<IntakeReads, StoreError>;
}

/// The distinct bases of `ids`, and the ids whose base has a chain: a version can only exist
/// if its licence does, since every stored version writes its licence's head row.
pub(crate) fn split_ids<'a>(
    ids: &'a [LicenceId],
    chains: &HashMap<String, LicenceChain>,
) -> Vec<&'a LicenceId> {
    let mut seen = HashSet::new();
    ids.iter()
        .filter(|id| chains.contains_key(&id.base()) && seen.insert(id.as_str()))
        .collect()
}

/// Implements [`IntakeStore`] for a store with a `pool` field; `$conn` is its connection type.
/// Uses the `decode_issuer`, `decode_issuer_key`, `decode_authorisation` and `decode_chain`
/// helpers of the issuer, authorisation and log macros, and the backend's `intake_chains` and
/// `intake_existing` (`multirow_intake!` or `pg`).
macro_rules! intake_store {
    ($store:ty, $db:ty, $conn:ty) => {
        #[async_trait]
        impl $crate::storage::IntakeStore for $store {
                #[tracing::instrument(level = "debug", skip_all)]
            async fn intake_reads(
                &self,
                issuer: &Uscc,
                digest: &str,
                ids: &[LicenceId],
                slots: &[$crate::domain::status_list::StatusSlot],
            ) -> Result<$crate::storage::IntakeReads, StoreError> {
                let mut conn = self.pool.acquire().await?;
                let conn: &mut $conn = &mut conn;
                let mut reads = intake_issuer(conn, issuer, digest).await?;
                if !reads.registered {
                    return Ok(reads);
                }
                let mut bases: Vec<String> = ids.iter().map(LicenceId::base).collect();
                bases.sort_unstable();
                bases.dedup();
                reads.chains = intake_chains(conn, &bases).await?;
                let named = $crate::storage::intake::split_ids(ids, &reads.chains);
                reads.existing = intake_existing(conn, &named).await?;
                if !slots.is_empty() {
                    reads.taken = taken_slots(conn, issuer, slots).await?;
                }
                Ok(reads)
            }
        }

        /// Whether the issuer is registered, with its head, the envelope's earlier receipt and
        /// every grant to the issuer (one query, a row per grant or one without).
        #[tracing::instrument(level = "debug", skip_all)]
        async fn intake_issuer(
            conn: &mut $conn,
            issuer: &Uscc,
            digest: &str,
        ) -> Result<$crate::storage::IntakeReads, StoreError> {
            static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                let grant: Vec<String> = $crate::storage::authorisations::AUTHORISATION_COLUMNS
                    .split(',')
                    .map(|column| format!("a.{}", column.trim()))
                    .collect();
                format!(
                    "SELECT h.sequence AS head_sequence, h.digest AS head_digest, \
                     (SELECT e.receipt FROM envelopes e WHERE e.digest = $2) AS receipt, {} \
                     FROM issuers i LEFT JOIN issuer_heads h ON h.issuer = i.uscc \
                     LEFT JOIN authorisations a ON a.issuer = i.uscc WHERE i.uscc = $1 \
                     ORDER BY a.granted_at, a.valid_from, a.id",
                    grant.join(", ")
                )
            });
            let rows = sqlx::query(SQL.as_str())
                .bind(issuer.as_str())
                .bind(digest)
                .fetch_all(&mut *conn)
                .await?;
            let mut reads = $crate::storage::IntakeReads::default();
            let Some(row) = rows.first() else { return Ok(reads) };
            reads.registered = true;
            let sequence: Option<i64> = row.try_get("head_sequence")?;
            let head_digest: Option<String> = row.try_get("head_digest")?;
            reads.head = match (sequence, head_digest) {
                (Some(sequence), Some(digest)) => {
                    Some(ChainHead { sequence: $crate::storage::log::to_u64(sequence)?, digest })
                }
                _ => None,
            };
            reads.receipt = row.try_get("receipt")?;
            for row in &rows {
                if row.try_get::<Option<String>, _>("id")?.is_some() {
                    reads.grants.push(decode_authorisation(row)?);
                }
            }
            Ok(reads)
        }

    };
}

/// SQLite's list reads for the intake (`IN (…)` lists; an in-process database has no round
/// trips to save). PostgreSQL's are in `pg.rs`. `$db` and `$conn` are the backend's types.
macro_rules! multirow_intake {
    ($db:ty, $conn:ty) => {
        /// The current state of the licences with these bases.
            #[tracing::instrument(level = "debug", skip_all)]
        async fn intake_chains(
            conn: &mut $conn,
            bases: &[String],
        ) -> Result<HashMap<String, LicenceChain>, StoreError> {
            let mut chains = HashMap::new();
            for chunk in bases.chunks($crate::storage::rows::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT h.base, h.id, h.digest, h.status, h.last_event, l.holder, l.jurisdiction \
                     FROM licence_heads h JOIN licences l ON l.id = h.id WHERE h.base IN (",
                );
                let mut list = q.separated(", ");
                for base in chunk {
                    list.push_bind(base.as_str());
                }
                q.push(")");
                for row in q.build().persistent(false).fetch_all(&mut *conn).await? {
                    let chain = decode_chain(&row)?;
                    chains.insert(chain.base.clone(), chain);
                }
            }
            Ok(chains)
        }

        /// Which of these licence versions exist.
            #[tracing::instrument(level = "debug", skip_all)]
        async fn intake_existing(
            conn: &mut $conn,
            ids: &[&LicenceId],
        ) -> Result<HashSet<LicenceId>, StoreError> {
            let mut found = HashSet::new();
            for chunk in ids.chunks($crate::storage::rows::INSERT_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT id FROM licences WHERE id IN (");
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(id.as_str());
                }
                q.push(")");
                for row in q.build().persistent(false).fetch_all(&mut *conn).await? {
                    let id: String = row.try_get("id")?;
                    found.insert(id.parse().map_err(StoreError::corrupt)?);
                }
            }
            Ok(found)
        }
    };
}
