//! The PostgreSQL store, for many stateless service instances over one database. An answer is
//! sent only after the commit returns, so with fsync on it is durable.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::Row;

use super::{classify, CoreStore, DirectoryStore, PoolStats, StoreError};
use crate::domain::identifiers::TypeCode;
use crate::domain::licence_type::{
    Authority, LicenceType, NewLicenceType, SchemaVersion, Transfer, TypeFilter, TypeStatus,
    ValidityRange,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// PostgreSQL-backed [`Store`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database the URL names.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self { pool })
    }
}

directory_helpers!(PgStore, PgRow);

impl PgStore {
    const BACKEND: &'static str = "postgres";

    async fn run_migrations(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }
}

core_store!(PgStore);
directory_store!(PgStore);
issuer_store!(PgStore, PgRow);
