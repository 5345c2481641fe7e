//! The embedded SQLite store: one file, WAL, `synchronous=FULL` so that an answered write is
//! durable, a busy timeout, and foreign keys on.

use std::path::{Path, PathBuf};
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

/// Pages of write-ahead log after which a commit checkpoints it: SQLite's own 1,000 at least,
/// 16,384 at most (64 MiB of a new database's 4 KiB pages, 256 MiB of the 16 KiB pages of an
/// older one; 65,536 pages of 4 KiB, the same 256 MiB, measured no faster over a million
/// licences and stalled longer), and no more than a quarter of the space free when the pool
/// opens (counted as 16 KiB pages whatever the file's page size). A page that
/// many commits change in between (an index page that licences with random holders keep
/// dirtying, the tree's upper nodes) is copied into the database once a checkpoint: over a
/// million licences, 16,384 pages took ingest from 8,183–8,673 to 10,033–10,523 licences/s
/// (BENCHMARKS.md). The bound by free space is for a small disk: a log allowed to grow past
/// what is free fills it, and then cannot be checkpointed back (the checkpoint grows the
/// database first), so no write succeeds again even after space is freed
/// (`tests/durability/disk_full.rs`). Durability does not depend on it: a commit is durable in
/// the log.
fn wal_autocheckpoint(free_bytes: Option<u64>) -> u64 {
    const MIN: u64 = 1_000;
    const MAX: u64 = 16_384;
    const PAGE: u64 = 16_384;
    free_bytes.map_or(MIN, |free| (free / 4 / PAGE).clamp(MIN, MAX))
}

/// Bytes free to an unprivileged writer on the file system holding `dir`.
#[cfg(unix)]
fn free_bytes(dir: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(not(unix))]
fn free_bytes(_: &Path) -> Option<u64> {
    None
}

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
            // For a new database (an existing one keeps its size). A commit writes each page it
            // changed whole to the write-ahead log, and every licence changes a random page of
            // the index by holder: with 16 KiB pages (chosen when a row held its document
            // unpacked, about 2 KB) that was 14 KB of log a licence.
            .page_size(4_096)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            // The writer's multi-row inserts are up to seven statements a table
            // (`rows::cached_chunks`), beside the frontier's and proofs' node reads.
            .statement_cache_capacity(256)
            // Statement journals (a multi-row insert inside the batch's transaction keeps one, to
            // undo just that statement if it fails) and sorts in memory: on files, each spilled
            // journal was a new temporary file created, written and deleted on the writer's path,
            // about 6 µs of kernel time a licence (BENCHMARKS.md).
            .pragma("temp_store", "memory")
            .foreign_keys(true);
        let parent = options.get_filename().parent().map(Path::to_path_buf);
        let dir = match parent {
            Some(parent) if !parent.as_os_str().is_empty() => {
                std::fs::create_dir_all(&parent).map_err(|e| {
                    StoreError::Database(sqlx::Error::Configuration(
                        format!("cannot create {}: {e}", parent.display()).into(),
                    ))
                })?;
                parent
            }
            _ => PathBuf::from("."),
        };
        let options = options.pragma(
            "wal_autocheckpoint",
            wal_autocheckpoint(free_bytes(&dir)).to_string(),
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_takes_at_most_a_quarter_of_the_free_space() {
        const MIB: u64 = 1 << 20;
        assert_eq!(wal_autocheckpoint(None), 1_000, "unknown: SQLite's own");
        assert_eq!(wal_autocheckpoint(Some(48 * MIB)), 1_000, "a small disk");
        assert_eq!(wal_autocheckpoint(Some(256 * MIB)), 4_096);
        assert_eq!(wal_autocheckpoint(Some(100 * 1024 * MIB)), 16_384);
        assert!(free_bytes(Path::new(".")).is_some_and(|free| free > 0));
    }
}
