//! Storage: one [`Store`] trait, two implementations (SQLite, the embedded default, and
//! PostgreSQL for scale-out), chosen by the database URL's scheme.
//!
//! Both implementations share their SQL (written with `$N` placeholders, which both drivers
//! accept) through the `sql_store!` macro in [`shared`]; only connection set-up, migrations and
//! locking differ.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::identifiers::{TypeCode, Uscc};
use crate::domain::licence_type::{LicenceType, NewLicenceType, Transfer, TypeFilter, TypeStatus};
use crate::log::batch::{Batch, ChainHead, Outcome, Sealer};
use crate::log::merkle::{Hash, NodeId};

#[macro_use]
mod shared;
#[macro_use]
mod licence_types;
#[macro_use]
mod issuers;
#[macro_use]
mod authorisations;
#[macro_use]
mod intake;
#[macro_use]
mod log;
mod rows;
#[macro_use]
mod status_bits;
#[macro_use]
mod status_lists;
#[macro_use]
mod agencies;
#[macro_use]
mod consents;
#[macro_use]
mod holder;
#[macro_use]
mod matters;
#[macro_use]
mod stats;
#[macro_use]
mod access;
#[macro_use]
mod applications;
#[macro_use]
mod verify;
#[macro_use]
mod presentations;
#[macro_use]
mod sessions;
pub mod postgres;
pub mod sqlite;

pub use access::{audit_access, record_access, AccessStore};
pub use agencies::AgencyStore;
pub use applications::ApplicationStore;
pub use authorisations::AuthorisationStore;
pub use consents::ConsentStore;
pub use holder::{held_head, HolderStore, LicenceRecord};
pub use intake::{IntakeReads, IntakeStore};
pub use issuers::IssuerStore;
pub use log::{LicenceHistory, LogEntry, StoredCheckpoint, StoredEvent, StoredLicence};
pub use matters::MatterStore;
pub use postgres::PgStore;
pub use presentations::{Presentation, PresentationStore, Scan};
pub use sessions::{HolderSession, HolderTokenRow, SessionStore, SignedInVia};
pub(crate) use shared::now_micros;
pub use sqlite::SqliteStore;
pub use stats::{StatsRows, StatsStore};
pub use status_lists::StatusListStore;
pub use verify::{LicenceStanding, VerifyStore};

/// What a store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("unsupported database URL scheme in {0:?}: use sqlite:// or postgres://")]
    UnknownScheme(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }

    /// Whether the database could not be reached or is going away (connection lost, pool
    /// exhausted or closed, server shutting down or starting, SQLite locked past the busy
    /// timeout): a transient condition worth a retry (503), not a fault of the request.
    pub fn is_unavailable(&self) -> bool {
        let Self::Database(err) = self else {
            return false;
        };
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => {
                let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
                db.code()
                    .is_some_and(|code| unavailable_code(&code, sqlite))
            }
            _ => false,
        }
    }

    /// Whether the database could not write for want of space: SQLite `SQLITE_FULL` (and its
    /// extended codes) or PostgreSQL `disk_full` (53100). Nothing of the transaction was kept; a retry after space is freed
    /// can succeed (503).
    pub fn is_storage_full(&self) -> bool {
        let Self::Database(sqlx::Error::Database(db)) = self else {
            return false;
        };
        let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
        db.code().is_some_and(|code| full_code(&code, sqlite))
    }
}

/// SQLite `SQLITE_FULL` (13) by its low byte; PostgreSQL `disk_full` (53100).
fn full_code(code: &str, sqlite: bool) -> bool {
    if sqlite {
        code.parse::<u32>().is_ok_and(|c| c & 0xff == 13)
    } else {
        code == "53100"
    }
}

/// SQLite `SQLITE_BUSY` and its extended codes; PostgreSQL connection exceptions (class 08),
/// admin / crash shutdown and "cannot connect now" (57P01–57P03).
fn unavailable_code(code: &str, sqlite: bool) -> bool {
    if sqlite {
        code.parse::<u32>().is_ok_and(|c| c & 0xff == 5)
    } else {
        code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
    }
}

/// Connection-pool figures for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}

/// Everything the registry keeps: one trait made of one part per area, each implemented for
/// both backends by its own macro. Every method is one transaction.
pub trait Store:
    CoreStore
    + DirectoryStore
    + IssuerStore
    + AuthorisationStore
    + LogStore
    + IntakeStore
    + AgencyStore
    + MatterStore
    + HolderStore
    + ConsentStore
    + StatsStore
    + AccessStore
    + ApplicationStore
    + VerifyStore
    + PresentationStore
    + StatusListStore
    + SessionStore
{
}

impl<T> Store for T where
    T: CoreStore
        + DirectoryStore
        + IssuerStore
        + AuthorisationStore
        + LogStore
        + IntakeStore
        + AgencyStore
        + MatterStore
        + HolderStore
        + ConsentStore
        + StatsStore
        + AccessStore
        + ApplicationStore
        + VerifyStore
        + PresentationStore
        + StatusListStore
        + SessionStore
{
}

/// Connection-level operations.
#[async_trait]
pub trait CoreStore: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Answers when the database is reachable.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Pool figures for metrics.
    fn pool_stats(&self) -> PoolStats;
}

/// The directory of licence types.
#[async_trait]
pub trait DirectoryStore: Send + Sync + 'static {
    /// Creates a type with schema version 1. `Conflict` when the code exists.
    async fn insert_licence_type(
        &self,
        new: &NewLicenceType,
        status: TypeStatus,
        digest: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// One type with its versions and transfers.
    async fn licence_type(&self, code: &TypeCode) -> Result<Option<LicenceType>, StoreError>;
    /// A page of types matching the filter, and the total number matching.
    async fn list_licence_types(
        &self,
        filter: &TypeFilter,
    ) -> Result<(Vec<LicenceType>, u64), StoreError>;
    /// Adds the next schema version; answers its number.
    async fn add_schema_version(
        &self,
        code: &TypeCode,
        schema: &Value,
        digest: &str,
        at: DateTime<Utc>,
    ) -> Result<u32, StoreError>;
    /// The schema document of one version.
    async fn schema_document(
        &self,
        code: &TypeCode,
        version: u32,
    ) -> Result<Option<Value>, StoreError>;
    /// Moves a type from `from` to `to`; `Conflict` when it is no longer in `from`.
    async fn set_type_status(
        &self,
        code: &TypeCode,
        from: TypeStatus,
        to: TypeStatus,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Reassigns the defining authority, recording the transfer.
    async fn transfer_licence_type(
        &self,
        code: &TypeCode,
        transfer: &Transfer,
    ) -> Result<(), StoreError>;
}

/// The write path (envelopes, licences, status events) and the transparency log.
#[async_trait]
pub trait LogStore: Send + Sync + 'static {
    /// The issuer's chain head; `None` before its first envelope.
    async fn issuer_head(&self, issuer: &Uscc) -> Result<Option<ChainHead>, StoreError>;
    /// Appends a batch in one transaction under the log lock: re-checks each envelope's chain
    /// head, stores the accepted ones with their items, leaves, nodes, receipts and the signed
    /// checkpoint (from `seal`), and answers each envelope's outcome in batch order.
    async fn append_batch(
        &self,
        batch: Arc<Batch>,
        seal: Arc<Sealer>,
    ) -> Result<Vec<Outcome>, StoreError>;
    /// The number of leaves committed.
    async fn log_size(&self) -> Result<u64, StoreError>;
    /// The newest signed checkpoint, if anything was ever appended.
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError>;
    /// The checkpoint signed at exactly `size` leaves (every batch signs one), if any.
    async fn checkpoint_at(&self, size: u64) -> Result<Option<StoredCheckpoint>, StoreError>;
    /// The stored hashes of these nodes, in one query (missing ones are left out).
    async fn log_nodes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, StoreError>;
    /// Leaves `[start, start + count)` that exist.
    async fn log_entries(&self, start: u64, count: u64) -> Result<Vec<LogEntry>, StoreError>;
    /// Every version and status event of the licence with this base.
    async fn licence_history(&self, base: &str) -> Result<Option<LicenceHistory>, StoreError>;
    /// An accepted envelope as received (its items put back from their rows, see
    /// [`crate::log::envelope`]), by digest.
    async fn envelope_document(
        &self,
        digest: &str,
    ) -> Result<Option<serde_json::Value>, StoreError>;
}

/// Opens the store the URL names: `sqlite:` or `postgres:` / `postgresql:`.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    connect_sized(url, None).await
}

/// As [`connect`], with at most `connections` connections (the backend's default if none).
pub async fn connect_sized(
    url: &str,
    connections: Option<u32>,
) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(match connections {
            Some(n) => SqliteStore::connect_sized(url, n).await?,
            None => SqliteStore::connect(url).await?,
        }))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(match connections {
            Some(n) => PgStore::connect_sized(url, n).await?,
            None => PgStore::connect(url).await?,
        }))
    } else {
        let scheme: String = url
            .split(':')
            .next()
            .unwrap_or("")
            .chars()
            .take(20)
            .collect();
        Err(StoreError::UnknownScheme(scheme))
    }
}

/// Maps constraint violations to the store's own errors.
pub(crate) fn classify(err: sqlx::Error, what: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        if db.is_unique_violation() {
            return StoreError::Conflict(format!("{what} already exists"));
        }
        if db.is_foreign_key_violation() {
            return StoreError::NotFound(format!("what {what} refers to"));
        }
    }
    StoreError::Database(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_connections_and_shutdowns_are_unavailable() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(StoreError::Database(sqlx::Error::Io(io)).is_unavailable());
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(!StoreError::Database(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!StoreError::corrupt("x").is_unavailable());
        assert!(!StoreError::Conflict("x".into()).is_unavailable());
        for code in ["08006", "08003", "57P01", "57P03"] {
            assert!(unavailable_code(code, false), "{code}");
        }
        // 42501 (insufficient privilege) would be SQLITE_BUSY by its low byte.
        for code in ["23505", "42501", "40001"] {
            assert!(!unavailable_code(code, false), "{code}");
        }
        for code in ["5", "261", "517"] {
            assert!(unavailable_code(code, true), "{code}");
        }
        assert!(full_code("13", true) && full_code("53100", false));
        assert!(!full_code("5", true) && !full_code("53200", false) && !full_code("13", false));
        for code in ["6", "19", "2067"] {
            assert!(!unavailable_code(code, true), "{code}");
        }
    }
}
