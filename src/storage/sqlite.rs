//! The embedded SQLite store: one file, WAL, `synchronous=FULL` so that an answered write is
//! durable, a busy timeout, and foreign keys on.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::Row;

use std::collections::{HashMap, HashSet};

use super::log::{StoredEvent, StoredLicence};
use super::{classify, CoreStore, DirectoryStore, PoolStats, StoreError};
use crate::domain::identifiers::{LicenceId, TypeCode, Uscc};
use crate::domain::licence::{LicenceState, StatusAction};
use crate::domain::licence_type::{
    Authority, LicenceType, NewLicenceType, SchemaVersion, Transfer, TypeFilter, TypeStatus,
    ValidityRange,
};

use crate::log::batch::{Appended, Batch, ChainHead, LicenceChain, PendingItem, Sealed};
use crate::log::merkle::{Hash, NodeId};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// SQLite-backed [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file the URL names.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_sized(url, 8).await
    }

    /// As [`Self::connect`], with at most `connections` connections.
    pub async fn connect_sized(url: &str, connections: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            // For a new database (an existing one keeps its size): a licence row with its
            // signed document is about 2 KB, and 4 KiB pages held one each, half empty.
            .page_size(16_384)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    StoreError::Database(sqlx::Error::Configuration(
                        format!("cannot create {}: {e}", parent.display()).into(),
                    ))
                })?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(Duration::from_secs(10))
            // A local file cannot drop a connection: a ping before every acquire would only be
            // one more hand-off to the connection's worker thread per query.
            .test_before_acquire(false)
            // Nor does one go stale: sqlx's defaults (closed after 10 idle minutes, reopened
            // every 30) only threw away each connection's page cache and prepared statements
            // and built them again, which the quiet hour's RSS showed as a swing of 20 MB
            // around the 30th minute.
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }
}

licence_type_helpers!(SqliteStore, SqliteRow);
log_helpers!(SqliteStore, sqlx::Sqlite, sqlx::SqliteConnection, SqliteRow);
multirow_writes!(sqlx::Sqlite, sqlx::SqliteConnection);
multirow_intake!(sqlx::Sqlite, sqlx::SqliteConnection);

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";

    /// Begins a transaction that holds the database write lock until it ends. sqlx begins
    /// transactions deferred, so the write comes first: a read first could leave the
    /// transaction holding a stale snapshot it cannot upgrade (`SQLITE_BUSY`).
    async fn begin_locked(
        pool: &SqlitePool,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE log_state SET size = size WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }
}

core_store!(SqliteStore);
licence_type_store!(SqliteStore);
log_store!(SqliteStore);
intake_store!(SqliteStore, sqlx::Sqlite, sqlx::SqliteConnection);
status_list_store!(SqliteStore, sqlx::Sqlite, sqlx::SqliteConnection);
presentation_store!(SqliteStore);
issuer_store!(SqliteStore, SqliteRow);
authorisation_store!(SqliteStore, SqliteRow);
agency_store!(SqliteStore);
matter_store!(SqliteStore);
session_store!(SqliteStore);
holder_store!(SqliteStore);
consent_store!(SqliteStore);
stats_store!(SqliteStore);
access_store!(SqliteStore, sqlx::SqliteConnection);
application_store!(SqliteStore, sqlx::SqliteConnection);
verify_store!(SqliteStore, SqliteRow);
