//! The PostgreSQL store, for many stateless service instances over one database. An answer is
//! sent only after the commit returns, so with fsync on it is durable.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::Row;

use std::collections::HashMap;

use super::intake::pg::{intake_chains, intake_existing};
use super::log::pg::{batch_reads, write_sealed, write_unsealed};
use super::log::{StoredEvent, StoredLicence};
use super::{classify, CoreStore, DirectoryStore, PoolStats, StoreError};
use crate::domain::identifiers::{LicenceId, TypeCode, Uscc};
use crate::domain::licence::{LicenceState, StatusAction};
use crate::domain::licence_type::{
    Authority, LicenceType, NewLicenceType, SchemaVersion, Transfer, TypeFilter, TypeStatus,
    ValidityRange,
};

use crate::log::batch::{Batch, ChainHead, LicenceChain};
use crate::log::merkle::{Hash, NodeId};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// PostgreSQL-backed [`Store`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

/// A pooled connection idle for longer than this is pinged before it is handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// The longest a request waits for a connection. While the server refuses connections (stopped,
/// restarting) sqlx keeps trying to open one until this runs out, so it is also how long a
/// request takes to get its 503: kept short, well past any wait for a pooled connection under
/// load, so that clients are told to retry instead of hanging (`bench db-faults`).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

impl PgStore {
    /// Connects to the database the URL names.
    ///
    /// sqlx pings every connection before handing it out by default: one more round trip per
    /// query. Only a connection that sat idle for [`PING_IF_IDLE_FOR`] is pinged here (one that
    /// fails is closed and another opened), since an idle spell is when a database restart goes
    /// unnoticed. A connection that dies while in use fails that one statement; sqlx tests it
    /// as it goes back to the pool and drops it, and the caller answers 503 (see
    /// [`StoreError::is_unavailable`]). Every write is one transaction, so nothing is half-stored.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_sized(url, 16).await
    }

    /// As [`Self::connect`], with at most `connections` connections.
    pub async fn connect_sized(url: &str, connections: u32) -> Result<Self, StoreError> {
        // Every statement here reads or writes a few rows by key. Without statistics (a
        // bulk-loaded table autovacuum has not analysed yet) the planner's row estimates run into
        // the millions and it JIT-compiles such statements, which costs more than running them.
        let options = url.parse::<PgConnectOptions>()?.options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IF_IDLE_FOR {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }
}

licence_type_helpers!(PgStore, PgRow);
log_helpers!(PgStore, sqlx::Postgres, sqlx::PgConnection, PgRow);

impl PgStore {
    const BACKEND: &'static str = "postgres";

    /// Begins a transaction that holds the log lock until it ends, in one round trip. The lock
    /// serialises the sequencers of every instance over the database; readers of `log_state`
    /// are not blocked. Statements after it (read committed) see every batch committed before.
    ///
    /// Every statement of the append reads or writes by key, and the transaction plans them
    /// so (`enable_seqscan = off`, for this transaction only). Without it, a table that
    /// autovacuum had not analysed yet was scanned: the sequencer's connection keeps a
    /// statement's generic plan, made once while `envelopes` was nearly empty, and the check
    /// for repeated envelopes (`batch_reads`) then read every envelope of the registry in each
    /// batch (3–4 ms a batch after 3,000 envelopes, measured with `auto_explain`); and at ten
    /// million licences, the rewrite of the set bits read all of `licences` for a list of bases
    /// (3.4 s a read, where the index takes 94 ms).
    async fn begin_locked(
        pool: &PgPool,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        Ok(pool
            .begin_with(
                "BEGIN; LOCK TABLE log_state IN EXCLUSIVE MODE; SET LOCAL enable_seqscan = off",
            )
            .await?)
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }
}

core_store!(PgStore);
licence_type_store!(PgStore);
log_store!(PgStore);
intake_store!(PgStore, sqlx::Postgres, sqlx::PgConnection);
status_list_store!(PgStore, sqlx::Postgres, sqlx::PgConnection);
presentation_store!(PgStore);
issuer_store!(PgStore, PgRow);
authorisation_store!(PgStore, PgRow);
agency_store!(PgStore);
matter_store!(PgStore);
session_store!(PgStore);
holder_store!(PgStore);
consent_store!(PgStore);
stats_store!(PgStore);
access_store!(PgStore, sqlx::PgConnection);
application_store!(PgStore, sqlx::PgConnection);
verify_store!(PgStore, PgRow);
