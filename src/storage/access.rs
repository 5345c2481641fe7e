//! Access records and applications: the [`AccessStore`] trait and the SQL both backends share
//! through `access_store!`. Appending takes the chain head row first (the lock), so records are
//! chained in one order across every service instance; an application and the records of its
//! checks are written in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::issuers::stored;
use super::StoreError;
use crate::domain::access::{AccessRecord, Channel, NewAccessRecord};
use crate::domain::application::{Application, ApplicationState, Origin};
use crate::domain::identifiers::HolderId;

/// Access records (append-only, hash-chained) and applications by reference.
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
    /// Stores an application, the licences that fulfilled its requirements, and the records of
    /// its checks, in one transaction.
    async fn insert_application(
        &self,
        application: &Application,
        records: Vec<NewAccessRecord>,
    ) -> Result<Vec<AccessRecord>, StoreError>;
    async fn application(&self, id: &str) -> Result<Option<Application>, StoreError>;
    /// The applicant's applications, newest first.
    async fn holder_applications(&self, holder: &HolderId) -> Result<Vec<Application>, StoreError>;
    /// Stores the holder's decision on an application that was in state `from` (approval,
    /// decline or withdrawal), the licences an approval lets the agency read, and the records of
    /// its checks, in one transaction. `Conflict` when the application is no longer in `from`
    /// (or, leaving `pending`, was closed meanwhile); `NotFound` for an unknown id.
    async fn decide_application(
        &self,
        application: &Application,
        from: ApplicationState,
        records: Vec<NewAccessRecord>,
    ) -> Result<Vec<AccessRecord>, StoreError>;
    /// `Conflict` when already closed; `NotFound` for an unknown id.
    async fn close_application(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
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

pub(crate) type ApplicationRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// The columns of [`ApplicationRow`], in its order.
pub(crate) const APPLICATION_COLUMNS: &str = "id, matter, agency, applicant, use_cause, result, \
     state, origin, requested, created_at, decided_at, expires_at, closed_at";

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

pub(crate) fn decode_application(row: ApplicationRow) -> Result<Application, StoreError> {
    let (id, matter, agency, applicant, use_cause, result, state, origin, requested, created_at) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9,
    );
    let (decided_at, expires_at, closed_at) = (row.10, row.11, row.12);
    let requested: Vec<String> = serde_json::from_str(&requested).map_err(StoreError::corrupt)?;
    Ok(Application {
        id,
        matter,
        agency: stored(&agency)?,
        applicant: stored(&applicant)?,
        use_cause,
        state: ApplicationState::parse(&state)
            .ok_or_else(|| StoreError::corrupt(format!("application state {state:?}")))?,
        origin: Origin::parse(&origin)
            .ok_or_else(|| StoreError::corrupt(format!("application origin {origin:?}")))?,
        requested: requested
            .iter()
            .map(|l| stored(l))
            .collect::<Result<_, _>>()?,
        evaluation: serde_json::from_str(&result).map_err(StoreError::corrupt)?,
        created_at,
        decided_at,
        expires_at,
        closed_at,
    })
}

/// Implements [`AccessStore`] for a store with a `pool` field; `$conn` is its connection type.
macro_rules! access_store {
    ($store:ty, $conn:ty) => {
        /// Chains `entries` after the head (locked by writing it first) and stores them.
        async fn append_access_in(
            conn: &mut $conn,
            entries: Vec<$crate::domain::access::NewAccessRecord>,
            at: DateTime<Utc>,
        ) -> Result<Vec<$crate::domain::access::AccessRecord>, StoreError> {
            use $crate::domain::access::AccessRecord;
            if entries.is_empty() {
                return Ok(Vec::new());
            }
            let at = super::shared::now_micros(at);
            sqlx::query("UPDATE access_head SET seq = seq WHERE id = 1")
                .execute(&mut *conn)
                .await?;
            let (seq, mut previous): (i64, String) =
                sqlx::query_as("SELECT seq, hash FROM access_head WHERE id = 1")
                    .fetch_one(&mut *conn)
                    .await?;
            let mut seq = super::log::to_u64(seq)?;
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
                .bind(super::log::to_i64(record.seq)?)
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
                .bind(super::log::to_i64(seq)?)
                .bind(&previous)
                .execute(&mut *conn)
                .await?;
            Ok(records)
        }

        /// Stores the licences that fulfilled a requirement: what the agency may read.
        async fn insert_fulfilling_in(
            conn: &mut $conn,
            a: &$crate::domain::application::Application,
        ) -> Result<(), StoreError> {
            let fulfilling = a.evaluation.as_ref().map(|e| e.fulfilling()).unwrap_or_default();
            for (licence, type_code) in fulfilling {
                sqlx::query(
                    "INSERT INTO application_licences (application, licence, type_code) \
                     VALUES ($1, $2, $3)",
                )
                .bind(&a.id)
                .bind(licence.as_str())
                .bind(type_code.as_str())
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        }

        #[async_trait]
        impl $crate::storage::AccessStore for $store {
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

            async fn holder_access_records(
                &self,
                holder: &$crate::domain::identifiers::HolderId,
                before: Option<u64>,
                limit: u32,
            ) -> Result<Vec<$crate::domain::access::AccessRecord>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM access_records WHERE holder = $1 AND seq < $2 \
                     ORDER BY seq DESC LIMIT $3",
                    super::access::RECORD_COLUMNS
                );
                let rows: Vec<super::access::RecordRow> = sqlx::query_as(&sql)
                    .bind(holder.urn())
                    .bind(before.map_or(Ok(i64::MAX), super::log::to_i64)?)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(super::access::decode_record).collect()
            }

            async fn access_records_from(
                &self,
                from: u64,
                limit: u32,
            ) -> Result<Vec<$crate::domain::access::AccessRecord>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM access_records WHERE seq >= $1 ORDER BY seq LIMIT $2",
                    super::access::RECORD_COLUMNS
                );
                let rows: Vec<super::access::RecordRow> = sqlx::query_as(&sql)
                    .bind(super::log::to_i64(from)?)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(super::access::decode_record).collect()
            }

            async fn access_head(&self) -> Result<(u64, String), StoreError> {
                let (seq, hash): (i64, String) =
                    sqlx::query_as("SELECT seq, hash FROM access_head WHERE id = 1")
                        .fetch_one(&self.pool)
                        .await?;
                Ok((super::log::to_u64(seq)?, hash))
            }

            async fn insert_application(
                &self,
                a: &$crate::domain::application::Application,
                records: Vec<$crate::domain::access::NewAccessRecord>,
            ) -> Result<Vec<$crate::domain::access::AccessRecord>, StoreError> {
                let micros = super::shared::now_micros;
                let result = serde_json::to_string(&a.evaluation).map_err(StoreError::corrupt)?;
                let requested: Vec<&str> = a.requested.iter().map(|l| l.as_str()).collect();
                let requested = serde_json::to_string(&requested).map_err(StoreError::corrupt)?;
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO applications (id, matter, agency, applicant, use_cause, result, \
                     fully_satisfied, created_at, expires_at, closed_at, state, origin, \
                     requested, decided_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(&a.id)
                .bind(&a.matter)
                .bind(a.agency.as_str())
                .bind(a.applicant.urn())
                .bind(&a.use_cause)
                .bind(result)
                .bind(a.evaluation.as_ref().is_some_and(|e| e.fully_satisfied))
                .bind(micros(a.created_at))
                .bind(micros(a.expires_at))
                .bind(a.closed_at.map(micros))
                .bind(a.state.as_str())
                .bind(a.origin.as_str())
                .bind(requested)
                .bind(a.decided_at.map(micros))
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(e, "application"))?;
                insert_fulfilling_in(&mut *tx, a).await?;
                let records = append_access_in(&mut *tx, records, a.created_at).await?;
                tx.commit().await?;
                Ok(records)
            }

            async fn application(
                &self,
                id: &str,
            ) -> Result<Option<$crate::domain::application::Application>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM applications WHERE id = $1",
                    super::access::APPLICATION_COLUMNS
                );
                let row: Option<super::access::ApplicationRow> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(super::access::decode_application).transpose()
            }

            async fn holder_applications(
                &self,
                holder: &$crate::domain::identifiers::HolderId,
            ) -> Result<Vec<$crate::domain::application::Application>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM applications WHERE applicant = $1 \
                     ORDER BY created_at DESC, id",
                    super::access::APPLICATION_COLUMNS
                );
                let rows: Vec<super::access::ApplicationRow> = sqlx::query_as(&sql)
                    .bind(holder.urn())
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(super::access::decode_application).collect()
            }

            async fn decide_application(
                &self,
                a: &$crate::domain::application::Application,
                from: $crate::domain::application::ApplicationState,
                records: Vec<$crate::domain::access::NewAccessRecord>,
            ) -> Result<Vec<$crate::domain::access::AccessRecord>, StoreError> {
                use $crate::domain::application::ApplicationState;
                let micros = super::shared::now_micros;
                let result = serde_json::to_string(&a.evaluation).map_err(StoreError::corrupt)?;
                let at = a.decided_at.unwrap_or_else(Utc::now);
                let mut tx = self.pool.begin().await?;
                // Compare-and-set on the state: of two decisions at once, one wins.
                let done = sqlx::query(
                    "UPDATE applications SET state = $1, result = $2, fully_satisfied = $3, \
                     decided_at = $4, expires_at = $5 \
                     WHERE id = $6 AND state = $7 AND (state <> 'pending' OR closed_at IS NULL)",
                )
                .bind(a.state.as_str())
                .bind(result)
                .bind(a.evaluation.as_ref().is_some_and(|e| e.fully_satisfied))
                .bind(micros(at))
                .bind(micros(a.expires_at))
                .bind(&a.id)
                .bind(from.as_str())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    drop(tx);
                    return match self.application(&a.id).await? {
                        Some(_) => Err(StoreError::Conflict(format!(
                            "application {} is no longer {}", a.id, from.as_str()
                        ))),
                        None => Err(StoreError::NotFound(format!("application {}", a.id))),
                    };
                }
                if from == ApplicationState::Pending {
                    insert_fulfilling_in(&mut *tx, a).await?;
                }
                let records = append_access_in(&mut *tx, records, at).await?;
                tx.commit().await?;
                Ok(records)
            }

            async fn close_application(
                &self,
                id: &str,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "UPDATE applications SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL",
                )
                .bind(super::shared::now_micros(at))
                .bind(id)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 1 {
                    return Ok(());
                }
                match self.application(id).await? {
                    Some(_) => Err(StoreError::Conflict(format!("application {id} is closed"))),
                    None => Err(StoreError::NotFound(format!("application {id}"))),
                }
            }
        }
    };
}

/// Records one use of a licence (a verification by an agency key, an agency read, a QR scan)
/// as the next link of the access-record chain, stamped now. Call it before answering, so that
/// an unrecorded use is never served; when the use itself writes to the store, prefer a store
/// method that appends in the same transaction (as [`AccessStore::insert_application`] does).
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
