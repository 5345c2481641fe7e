//! Authorisations (issuer × licence types × jurisdiction × window): the [`AuthorisationStore`]
//! trait and the SQL both backends share through the `authorisation_store!` macro.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::authorisation::Authorisation;
use crate::domain::identifiers::Uscc;

/// What the operator grants issuers. Nothing is deleted: grants are withdrawn.
#[async_trait]
pub trait AuthorisationStore: Send + Sync + 'static {
    /// Stores a grant. `Conflict` when the id exists; `NotFound` when the issuer is unknown.
    async fn insert_authorisation(&self, a: &Authorisation) -> Result<(), StoreError>;
    /// One grant by id.
    async fn authorisation(&self, id: &str) -> Result<Option<Authorisation>, StoreError>;
    /// Every grant (of one issuer, or of all), withdrawn ones included, oldest first.
    async fn authorisations(&self, issuer: Option<&Uscc>)
        -> Result<Vec<Authorisation>, StoreError>;
    /// Withdraws a grant from `at` on. `NotFound` for an unknown id; `Conflict` when it is
    /// already withdrawn.
    async fn withdraw_authorisation(
        &self,
        id: &str,
        at: DateTime<Utc>,
        reason: Option<&str>,
    ) -> Result<(), StoreError>;
}

pub(crate) const AUTHORISATION_COLUMNS: &str = "id, issuer, type_codes, jurisdiction, \
     valid_from, valid_until, granted_by, granted_at, withdrawn_at, withdrawal_reason";

/// Implements [`AuthorisationStore`] for a store with a `pool` field; `$row` is its row type.
macro_rules! authorisation_store {
    ($store:ty, $row:ty) => {
        #[async_trait]
        impl $crate::storage::AuthorisationStore for $store {
            #[tracing::instrument(level = "debug", skip_all)]
            async fn insert_authorisation(
                &self,
                a: &$crate::domain::authorisation::Authorisation,
            ) -> Result<(), StoreError> {
                let micros = $crate::storage::shared::now_micros;
                let codes = serde_json::to_string(&a.type_codes).map_err(StoreError::corrupt)?;
                sqlx::query(
                    "INSERT INTO authorisations (id, issuer, type_codes, jurisdiction, \
                     valid_from, valid_until, granted_by, granted_at, withdrawn_at, \
                     withdrawal_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&a.id)
                .bind(a.issuer.as_str())
                .bind(codes)
                .bind(a.jurisdiction.as_str())
                .bind(micros(a.valid_from))
                .bind(a.valid_until.map(micros))
                .bind(a.granted_by.as_str())
                .bind(micros(a.granted_at))
                .bind(a.withdrawn_at.map(micros))
                .bind(a.withdrawal_reason.as_deref())
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, "authorisation"))?;
                Ok(())
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn authorisation(
                &self,
                id: &str,
            ) -> Result<Option<$crate::domain::authorisation::Authorisation>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM authorisations WHERE id = $1",
                    $crate::storage::authorisations::AUTHORISATION_COLUMNS
                );
                let row = sqlx::query(&sql)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(decode_authorisation).transpose()
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn authorisations(
                &self,
                issuer: Option<&$crate::domain::identifiers::Uscc>,
            ) -> Result<Vec<$crate::domain::authorisation::Authorisation>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM authorisations WHERE ($1 IS NULL OR issuer = $1) \
                     ORDER BY granted_at, valid_from, id",
                    $crate::storage::authorisations::AUTHORISATION_COLUMNS
                );
                let rows = sqlx::query(&sql)
                    .bind(issuer.map(|u| u.as_str()))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(decode_authorisation).collect()
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn withdraw_authorisation(
                &self,
                id: &str,
                at: DateTime<Utc>,
                reason: Option<&str>,
            ) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "UPDATE authorisations SET withdrawn_at = $1, withdrawal_reason = $2 \
                     WHERE id = $3 AND withdrawn_at IS NULL",
                )
                .bind($crate::storage::shared::now_micros(at))
                .bind(reason)
                .bind(id)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 1 {
                    return Ok(());
                }
                let exists: Option<String> =
                    sqlx::query_scalar("SELECT id FROM authorisations WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                match exists {
                    Some(_) => Err(StoreError::Conflict(format!(
                        "authorisation {id} is already withdrawn"
                    ))),
                    None => Err(StoreError::NotFound(format!("authorisation {id}"))),
                }
            }
        }

        fn decode_authorisation(
            row: &$row,
        ) -> Result<$crate::domain::authorisation::Authorisation, StoreError> {
            use sqlx::Row as _;
            let codes: String = row.try_get("type_codes")?;
            Ok($crate::domain::authorisation::Authorisation {
                id: row.try_get("id")?,
                issuer: $crate::storage::issuers::stored(&row.try_get::<String, _>("issuer")?)?,
                type_codes: serde_json::from_str(&codes).map_err(StoreError::corrupt)?,
                jurisdiction: $crate::storage::issuers::stored(
                    &row.try_get::<String, _>("jurisdiction")?,
                )?,
                valid_from: row.try_get("valid_from")?,
                valid_until: row.try_get("valid_until")?,
                granted_by: $crate::storage::issuers::stored(
                    &row.try_get::<String, _>("granted_by")?,
                )?,
                granted_at: row.try_get("granted_at")?,
                withdrawn_at: row.try_get("withdrawn_at")?,
                withdrawal_reason: row.try_get("withdrawal_reason")?,
            })
        }
    };
}
