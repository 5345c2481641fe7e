//! Agencies (relying parties) and their API keys: the [`AgencyStore`] trait and the SQL both
//! backends share through `agency_store!`.
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::issuers::stored;
use super::StoreError;
use crate::domain::agency::{Agency, AgencyKey, Scope};
use crate::domain::identifiers::Uscc;

/// Agencies and their keys (stored as SHA-256 hashes).
#[async_trait]
pub trait AgencyStore: Send + Sync + 'static {
    /// Registers an agency with its first key (by SHA-256); answers the key's id.
    /// `Conflict` when the USCC is registered.
    async fn insert_agency(&self, agency: &Agency, key_hash: &[u8; 32]) -> Result<i64, StoreError>;
    async fn agency(&self, uscc: &Uscc) -> Result<Option<Agency>, StoreError>;
    /// Every key of the agency, revoked ones included, oldest first.
    async fn agency_keys(&self, uscc: &Uscc) -> Result<Vec<AgencyKey>, StoreError>;
    /// Adds a key; answers its id. `NotFound` for an unknown agency.
    async fn insert_agency_key(
        &self,
        uscc: &Uscc,
        key_hash: &[u8; 32],
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    /// `NotFound` when the agency has no such key; `Conflict` when it is already revoked.
    async fn revoke_agency_key(
        &self,
        uscc: &Uscc,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The agency an unrevoked key (by SHA-256) belongs to.
    async fn agency_by_key(&self, key_hash: &[u8; 32]) -> Result<Option<Agency>, StoreError>;
}

pub(crate) type AgencyRow = (String, String, String, String, DateTime<Utc>);

pub(crate) const AGENCY_COLUMNS: &str = "a.uscc, a.name, a.jurisdiction, a.scopes, a.created_at";

pub(crate) fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn decode_agency(row: AgencyRow) -> Result<Agency, StoreError> {
    let (uscc, name, jurisdiction, scopes, created_at) = row;
    Ok(Agency {
        uscc: stored(&uscc)?,
        name,
        jurisdiction: stored(&jurisdiction)?,
        scopes: scopes
            .split_whitespace()
            .map(stored)
            .collect::<Result<_, _>>()?,
        created_at,
    })
}

/// Implements [`AgencyStore`] for a store with a `pool` field. The expansion brings its own
/// imports, so it does not depend on names where it is expanded.
macro_rules! agency_store {
    ($store:ty) => {
        const _: () = {
            use ::async_trait::async_trait;
            use ::chrono::{DateTime, Utc};
            use $crate::storage::{classify, StoreError};

            #[async_trait]
            impl $crate::storage::AgencyStore for $store {
                #[tracing::instrument(level = "debug", skip_all)]
                async fn insert_agency(
                    &self,
                    agency: &$crate::domain::agency::Agency,
                    key_hash: &[u8; 32],
                ) -> Result<i64, StoreError> {
                    let at = $crate::storage::shared::now_micros(agency.created_at);
                    let mut tx = self.pool.begin().await?;
                    sqlx::query(
                        "INSERT INTO agencies (uscc, name, jurisdiction, scopes, created_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(agency.uscc.as_str())
                    .bind(&agency.name)
                    .bind(agency.jurisdiction.as_str())
                    .bind($crate::storage::agencies::scopes_text(&agency.scopes))
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| classify(e, "agency"))?;
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO agency_keys (agency, key_hash, created_at) VALUES ($1, $2, $3) \
                         RETURNING id",
                    )
                    .bind(agency.uscc.as_str())
                    .bind(hex::encode(key_hash))
                    .bind(at)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| classify(e, "key"))?;
                    tx.commit().await?;
                    Ok(id)
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn agency(
                    &self,
                    uscc: &$crate::domain::identifiers::Uscc,
                ) -> Result<Option<$crate::domain::agency::Agency>, StoreError> {
                    let sql = format!(
                        "SELECT {} FROM agencies a WHERE a.uscc = $1",
                        $crate::storage::agencies::AGENCY_COLUMNS
                    );
                    let row: Option<$crate::storage::agencies::AgencyRow> = sqlx::query_as(&sql)
                        .bind(uscc.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                    row.map($crate::storage::agencies::decode_agency).transpose()
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn agency_keys(
                    &self,
                    uscc: &$crate::domain::identifiers::Uscc,
                ) -> Result<Vec<$crate::domain::agency::AgencyKey>, StoreError> {
                    let rows: Vec<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
                        "SELECT id, created_at, revoked_at FROM agency_keys WHERE agency = $1 \
                         ORDER BY id",
                    )
                    .bind(uscc.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, created_at, revoked_at)| $crate::domain::agency::AgencyKey {
                            id,
                            created_at,
                            revoked_at,
                        })
                        .collect())
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn insert_agency_key(
                    &self,
                    uscc: &$crate::domain::identifiers::Uscc,
                    key_hash: &[u8; 32],
                    at: DateTime<Utc>,
                ) -> Result<i64, StoreError> {
                    sqlx::query_scalar(
                        "INSERT INTO agency_keys (agency, key_hash, created_at) VALUES ($1, $2, $3) \
                         RETURNING id",
                    )
                    .bind(uscc.as_str())
                    .bind(hex::encode(key_hash))
                    .bind($crate::storage::shared::now_micros(at))
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| classify(e, "agency"))
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn revoke_agency_key(
                    &self,
                    uscc: &$crate::domain::identifiers::Uscc,
                    id: i64,
                    at: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    let done = sqlx::query(
                        "UPDATE agency_keys SET revoked_at = $1 \
                         WHERE agency = $2 AND id = $3 AND revoked_at IS NULL",
                    )
                    .bind($crate::storage::shared::now_micros(at))
                    .bind(uscc.as_str())
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                    if done.rows_affected() == 1 {
                        return Ok(());
                    }
                    let exists: Option<i64> =
                        sqlx::query_scalar("SELECT id FROM agency_keys WHERE agency = $1 AND id = $2")
                            .bind(uscc.as_str())
                            .bind(id)
                            .fetch_optional(&self.pool)
                            .await?;
                    match exists {
                        Some(_) => Err(StoreError::Conflict(format!("key {id} is already revoked"))),
                        None => Err(StoreError::NotFound(format!("key {id} of agency {uscc}"))),
                    }
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn agency_by_key(
                    &self,
                    key_hash: &[u8; 32],
                ) -> Result<Option<$crate::domain::agency::Agency>, StoreError> {
                    let sql = format!(
                        "SELECT {} FROM agencies a JOIN agency_keys k ON k.agency = a.uscc \
                         WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
                        $crate::storage::agencies::AGENCY_COLUMNS
                    );
                    let row: Option<$crate::storage::agencies::AgencyRow> = sqlx::query_as(&sql)
                        .bind(hex::encode(key_hash))
                        .fetch_optional(&self.pool)
                        .await?;
                    row.map($crate::storage::agencies::decode_agency).transpose()
                }
            }
        };
    };
}
