//! Access records: the [`AccessStore`] trait and the SQL both backends share through
//! `access_store!`. Appending takes the chain head row first (the lock), so records are chained
//! in one order across every service instance. `append_access_in` appends inside a caller's
//! transaction (applications write their checks with themselves: `applications.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::issuers::stored;
use super::StoreError;
use crate::domain::access::{AccessRecord, Channel, NewAccessRecord};
use crate::domain::identifiers::HolderId;

/// Access records (append-only, hash-chained).
#[async_trait]
pub trait AccessStore: Send + Sync + 'static {
    /// Chains and stores the records at `at`, in one transaction; answers them as stored.
    async fn append_access(
        &self,
        entries: Vec<NewAccessRecord>,
        at: DateTime<Utc>,
    ) -> Result<Vec<AccessRecord>, StoreError>;
    /// The holder's records, newest first, with sequence number below `before` if given.
    async fn holder_access_records(
        &self,
        holder: &HolderId,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<AccessRecord>, StoreError>;
    /// Up to `limit` records with sequence number ≥ `from`, in order (for the audit).
    async fn access_records_from(
        &self,
        from: u64,
        limit: u32,
    ) -> Result<Vec<AccessRecord>, StoreError>;
    /// The chain head: the last record's sequence number and hash.
    async fn access_head(&self) -> Result<(u64, String), StoreError>;
}

pub(crate) const RECORD_COLUMNS: &str = "seq, at, channel, agency, holder, licence, purpose, \
     route, result, application, previous, hash";

pub(crate) type RecordRow = (
    i64,
    DateTime<Utc>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
);

pub(crate) fn decode_record(row: RecordRow) -> Result<AccessRecord, StoreError> {
    let (
        seq,
        at,
        channel,
        agency,
        holder,
        licence,
        purpose,
        route,
        result,
        application,
        previous,
        hash,
    ) = row;
    Ok(AccessRecord {
        seq: super::log::to_u64(seq)?,
        at,
        entry: NewAccessRecord {
            channel: Channel::parse(&channel)
                .ok_or_else(|| StoreError::corrupt(format!("access channel {channel:?}")))?,
            agency: agency.as_deref().map(stored).transpose()?,
            holder: holder.as_deref().map(stored).transpose()?,
            licence,
            purpose,
            route,
            result,
            application,
        },
        previous,
        hash,
    })
}

/// Implements [`AccessStore`] for a store with a `pool` field; `$conn` is its connection type.
macro_rules! access_store {
    ($store:ty, $conn:ty) => {
        /// Chains `entries` after the head (locked by writing it first) and stores them.
        #[tracing::instrument(level = "debug", skip_all)]
        async fn append_access_in(
            conn: &mut $conn,
            entries: Vec<$crate::domain::access::NewAccessRecord>,
            at: DateTime<Utc>,
        ) -> Result<Vec<$crate::domain::access::AccessRecord>, StoreError> {
            use $crate::domain::access::AccessRecord;
            if entries.is_empty() {
                return Ok(Vec::new());
            }
            let at = $crate::storage::shared::now_micros(at);
            sqlx::query("UPDATE access_head SET seq = seq WHERE id = 1")
                .execute(&mut *conn)
                .await?;
            let (seq, mut previous): (i64, String) =
                sqlx::query_as("SELECT seq, hash FROM access_head WHERE id = 1")
                    .fetch_one(&mut *conn)
                    .await?;
            let mut seq = $crate::storage::log::to_u64(seq)?;
            let mut records = Vec::with_capacity(entries.len());
            for entry in entries {
                seq += 1;
                let record = AccessRecord::chain(seq, at, entry, previous);
                let e = &record.entry;
                sqlx::query(
                    "INSERT INTO access_records (seq, at, channel, agency, holder, licence, \
                     purpose, route, result, application, previous, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind($crate::storage::log::to_i64(record.seq)?)
                .bind(record.at)
                .bind(e.channel.as_str())
                .bind(e.agency.as_ref().map(|a| a.as_str()))
                .bind(e.holder.as_ref().map(|h| h.urn()))
                .bind(e.licence.as_deref())
                .bind(&e.purpose)
                .bind(&e.route)
                .bind(&e.result)
                .bind(e.application.as_deref())
                .bind(&record.previous)
                .bind(&record.hash)
                .execute(&mut *conn)
                .await?;
                previous = record.hash.clone();
                records.push(record);
            }
            sqlx::query("UPDATE access_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind($crate::storage::log::to_i64(seq)?)
                .bind(&previous)
                .execute(&mut *conn)
                .await?;
            Ok(records)
        }

        #[async_trait]
        impl $crate::storage::AccessStore for $store {
            #[tracing::instrument(level = "debug", skip_all)]
            async fn append_access(
                &self,
                entries: Vec<$crate::domain::access::NewAccessRecord>,
                at: DateTime<Utc>,
            ) -> Result<Vec<$crate::domain::access::AccessRecord>, StoreError> {
                let mut tx = self.pool.begin().await?;
                let records = append_access_in(&mut *tx, entries, at).await?;
                tx.commit().await?;
                Ok(records)
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn holder_access_records(
                &self,
                holder: &$crate::domain::identifiers::HolderId,
                before: Option<u64>,
                limit: u32,
            ) -> Result<Vec<$crate::domain::access::AccessRecord>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM access_records WHERE holder = $1 AND seq < $2 \
                     ORDER BY seq DESC LIMIT $3",
                    $crate::storage::access::RECORD_COLUMNS
                );
                let rows: Vec<$crate::storage::access::RecordRow> = sqlx::query_as(&sql)
                    .bind(holder.urn())
                    .bind(before.map_or(Ok(i64::MAX), $crate::storage::log::to_i64)?)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map($crate::storage::access::decode_record)
                    .collect()
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn access_records_from(
                &self,
                from: u64,
                limit: u32,
            ) -> Result<Vec<$crate::domain::access::AccessRecord>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM access_records WHERE seq >= $1 ORDER BY seq LIMIT $2",
                    $crate::storage::access::RECORD_COLUMNS
                );
                let rows: Vec<$crate::storage::access::RecordRow> = sqlx::query_as(&sql)
                    .bind($crate::storage::log::to_i64(from)?)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map($crate::storage::access::decode_record)
                    .collect()
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn access_head(&self) -> Result<(u64, String), StoreError> {
                let (seq, hash): (i64, String) =
                    sqlx::query_as("SELECT seq, hash FROM access_head WHERE id = 1")
                        .fetch_one(&self.pool)
                        .await?;
                Ok(($crate::storage::log::to_u64(seq)?, hash))
            }
        }
    };
}

/// Records one use of a licence (a verification by an agency key, an agency read, a QR scan)
/// as the next link of the access-record chain, stamped now. Call it before answering, so that
/// an unrecorded use is never served; when the use itself writes to the store, prefer a store
/// method that appends in the same transaction (as
/// [`super::ApplicationStore::insert_application`] does).
pub async fn record_access(
    store: &dyn super::Store,
    entry: NewAccessRecord,
) -> Result<AccessRecord, StoreError> {
    let mut records = store.append_access(vec![entry], Utc::now()).await?;
    records
        .pop()
        .ok_or_else(|| StoreError::corrupt("an append answered no record"))
}

/// Recomputes the whole access-record chain, in pages, and checks the head row: answers the
/// number of records checked, or the first broken link.
pub async fn audit_access(
    store: &dyn super::Store,
) -> Result<Result<u64, crate::domain::access::ChainBreak>, StoreError> {
    const PAGE: u32 = 1000;
    let mut auditor = crate::domain::access::Auditor::default();
    let mut from = 0;
    loop {
        let page = store.access_records_from(from, PAGE).await?;
        for record in &page {
            if let Err(broken) = auditor.feed(record) {
                return Ok(Err(broken));
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => from = last.seq + 1,
            _ => break,
        }
    }
    let (seq, hash) = store.access_head().await?;
    Ok(auditor.finish(seq, &hash))
}
