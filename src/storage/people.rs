//! Agencies and their keys, holder tokens and service matters: the [`PeopleStore`] trait and
//! the SQL both backends share through `people_store!`. Consents and the holder's licences are
//! in [`super::holdings`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::issuers::stored;
use super::StoreError;
use crate::domain::agency::{Agency, AgencyKey, Scope};
use crate::domain::identifiers::{HolderId, Uscc};
use crate::domain::matter::Matter;

/// Agencies, holder tokens and service matters.
#[async_trait]
pub trait PeopleStore: Send + Sync + 'static {
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
    async fn insert_holder_token(
        &self,
        holder: &HolderId,
        token_hash: &[u8; 32],
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The holder an unrevoked, unexpired token (by SHA-256) stands for.
    async fn holder_by_token(
        &self,
        token_hash: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<Option<HolderId>, StoreError>;
    /// `Conflict` when the code exists; `NotFound` when the agency is unknown.
    async fn insert_matter(&self, matter: &Matter) -> Result<(), StoreError>;
    async fn matter(&self, code: &str) -> Result<Option<Matter>, StoreError>;
    /// Every matter, by code.
    async fn matters(&self) -> Result<Vec<Matter>, StoreError>;
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

pub(crate) fn decode_matter(
    row: (String, String, String, String, DateTime<Utc>),
) -> Result<Matter, StoreError> {
    let (code, name, agency, requirements, created_at) = row;
    Ok(Matter {
        code,
        name,
        agency: stored(&agency)?,
        requirements: serde_json::from_str(&requirements).map_err(StoreError::corrupt)?,
        created_at,
    })
}

/// Implements [`PeopleStore`] for a store with a `pool` field.
macro_rules! people_store {
    ($store:ty) => {
        #[async_trait]
        impl $crate::storage::PeopleStore for $store {
            async fn insert_agency(
                &self,
                agency: &$crate::domain::agency::Agency,
                key_hash: &[u8; 32],
            ) -> Result<i64, StoreError> {
                let at = super::shared::now_micros(agency.created_at);
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO agencies (uscc, name, jurisdiction, scopes, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(agency.uscc.as_str())
                .bind(&agency.name)
                .bind(agency.jurisdiction.as_str())
                .bind(super::people::scopes_text(&agency.scopes))
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

            async fn agency(
                &self,
                uscc: &$crate::domain::identifiers::Uscc,
            ) -> Result<Option<$crate::domain::agency::Agency>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM agencies a WHERE a.uscc = $1",
                    super::people::AGENCY_COLUMNS
                );
                let row: Option<super::people::AgencyRow> = sqlx::query_as(&sql)
                    .bind(uscc.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(super::people::decode_agency).transpose()
            }

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
                .bind(super::shared::now_micros(at))
                .fetch_one(&self.pool)
                .await
                .map_err(|e| classify(e, "agency"))
            }

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
                .bind(super::shared::now_micros(at))
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

            async fn agency_by_key(
                &self,
                key_hash: &[u8; 32],
            ) -> Result<Option<$crate::domain::agency::Agency>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM agencies a JOIN agency_keys k ON k.agency = a.uscc \
                     WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
                    super::people::AGENCY_COLUMNS
                );
                let row: Option<super::people::AgencyRow> = sqlx::query_as(&sql)
                    .bind(hex::encode(key_hash))
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(super::people::decode_agency).transpose()
            }

            async fn insert_holder_token(
                &self,
                holder: &$crate::domain::identifiers::HolderId,
                token_hash: &[u8; 32],
                at: DateTime<Utc>,
                expires_at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO holder_tokens (holder, token_hash, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(holder.urn())
                .bind(hex::encode(token_hash))
                .bind(super::shared::now_micros(at))
                .bind(super::shared::now_micros(expires_at))
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, "token"))?;
                Ok(())
            }

            async fn holder_by_token(
                &self,
                token_hash: &[u8; 32],
                now: DateTime<Utc>,
            ) -> Result<Option<$crate::domain::identifiers::HolderId>, StoreError> {
                let holder: Option<String> = sqlx::query_scalar(
                    "SELECT holder FROM holder_tokens \
                     WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
                )
                .bind(hex::encode(token_hash))
                .bind(super::shared::now_micros(now))
                .fetch_optional(&self.pool)
                .await?;
                holder.as_deref().map(super::issuers::stored).transpose()
            }

            async fn insert_matter(
                &self,
                matter: &$crate::domain::matter::Matter,
            ) -> Result<(), StoreError> {
                let requirements =
                    serde_json::to_string(&matter.requirements).map_err(StoreError::corrupt)?;
                sqlx::query(
                    "INSERT INTO matters (code, name, agency, requirements, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&matter.code)
                .bind(&matter.name)
                .bind(matter.agency.as_str())
                .bind(requirements)
                .bind(super::shared::now_micros(matter.created_at))
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, "matter"))?;
                Ok(())
            }

            async fn matter(
                &self,
                code: &str,
            ) -> Result<Option<$crate::domain::matter::Matter>, StoreError> {
                let row: Option<(String, String, String, String, DateTime<Utc>)> =
                    sqlx::query_as(
                        "SELECT code, name, agency, requirements, created_at FROM matters \
                         WHERE code = $1",
                    )
                    .bind(code)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(super::people::decode_matter).transpose()
            }

            async fn matters(&self) -> Result<Vec<$crate::domain::matter::Matter>, StoreError> {
                let rows: Vec<(String, String, String, String, DateTime<Utc>)> = sqlx::query_as(
                    "SELECT code, name, agency, requirements, created_at FROM matters ORDER BY code",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(super::people::decode_matter).collect()
            }
        }
    };
}
