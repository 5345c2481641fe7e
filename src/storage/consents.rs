//! A holder's consents to an agency: the [`ConsentStore`] trait and the SQL both backends share
//! through `consent_store!`.
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::issuers::stored;
use super::StoreError;
use crate::domain::consent::Consent;
use crate::domain::identifiers::{HolderId, TypeCode, Uscc};

/// Consents, granted and withdrawn.
#[async_trait]
pub trait ConsentStore: Send + Sync + 'static {
    async fn insert_consent(&self, consent: &Consent) -> Result<(), StoreError>;
    async fn consent(&self, id: &str) -> Result<Option<Consent>, StoreError>;
    /// The holder's consents, newest first.
    async fn holder_consents(&self, holder: &HolderId) -> Result<Vec<Consent>, StoreError>;
    /// What `agency` was granted by `holder` (in force or not).
    async fn agency_consents(
        &self,
        agency: &Uscc,
        holder: &HolderId,
    ) -> Result<Vec<Consent>, StoreError>;
    /// `Conflict` when already withdrawn; `NotFound` for an unknown id.
    async fn withdraw_consent(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
}

pub(crate) type ConsentRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);
pub(crate) const CONSENT_COLUMNS: &str =
    "id, holder, agency, licences, type_codes, purpose, valid_until, created_at, withdrawn_at";
pub(crate) fn decode_consent(row: ConsentRow) -> Result<Consent, StoreError> {
    let (id, holder, agency, licences, type_codes, purpose, valid_until, created_at, withdrawn) =
        row;
    let licences: Vec<String> = serde_json::from_str(&licences).map_err(StoreError::corrupt)?;
    let type_codes: Vec<TypeCode> =
        serde_json::from_str(&type_codes).map_err(StoreError::corrupt)?;
    Ok(Consent {
        id,
        holder: stored(&holder)?,
        agency: stored(&agency)?,
        licences: licences
            .iter()
            .map(|l| stored(l))
            .collect::<Result<_, _>>()?,
        type_codes,
        purpose,
        valid_until,
        created_at,
        withdrawn_at: withdrawn,
    })
}

/// Implements [`ConsentStore`] for a store with a `pool` field. The expansion brings its own
/// imports, so it does not depend on names where it is expanded.
macro_rules! consent_store {
    ($store:ty) => {
        const _: () = {
            use ::async_trait::async_trait;
            use ::chrono::{DateTime, Utc};
            use $crate::storage::{classify, StoreError};

            #[async_trait]
            impl $crate::storage::ConsentStore for $store {
                #[tracing::instrument(level = "debug", skip_all)]
                async fn insert_consent(
                    &self,
                    c: &$crate::domain::consent::Consent,
                ) -> Result<(), StoreError> {
                    let micros = $crate::storage::shared::now_micros;
                    let licences: Vec<&str> = c.licences.iter().map(|l| l.as_str()).collect();
                    sqlx::query(
                        "INSERT INTO consents (id, holder, agency, licences, type_codes, purpose, \
                         valid_until, created_at, withdrawn_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&c.id)
                    .bind(c.holder.urn())
                    .bind(c.agency.as_str())
                    .bind(serde_json::to_string(&licences).map_err(StoreError::corrupt)?)
                    .bind(serde_json::to_string(&c.type_codes).map_err(StoreError::corrupt)?)
                    .bind(&c.purpose)
                    .bind(micros(c.valid_until))
                    .bind(micros(c.created_at))
                    .bind(c.withdrawn_at.map(micros))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| classify(e, "consent"))?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn consent(
                    &self,
                    id: &str,
                ) -> Result<Option<$crate::domain::consent::Consent>, StoreError> {
                    let sql = format!(
                        "SELECT {} FROM consents WHERE id = $1",
                        $crate::storage::consents::CONSENT_COLUMNS
                    );
                    let row: Option<$crate::storage::consents::ConsentRow> = sqlx::query_as(&sql)
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                    row.map($crate::storage::consents::decode_consent).transpose()
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn holder_consents(
                    &self,
                    holder: &$crate::domain::identifiers::HolderId,
                ) -> Result<Vec<$crate::domain::consent::Consent>, StoreError> {
                    let sql = format!(
                        "SELECT {} FROM consents WHERE holder = $1 ORDER BY created_at DESC, id",
                        $crate::storage::consents::CONSENT_COLUMNS
                    );
                    let rows: Vec<$crate::storage::consents::ConsentRow> = sqlx::query_as(&sql)
                        .bind(holder.urn())
                        .fetch_all(&self.pool)
                        .await?;
                    rows.into_iter().map($crate::storage::consents::decode_consent).collect()
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn agency_consents(
                    &self,
                    agency: &$crate::domain::identifiers::Uscc,
                    holder: &$crate::domain::identifiers::HolderId,
                ) -> Result<Vec<$crate::domain::consent::Consent>, StoreError> {
                    let sql = format!(
                        "SELECT {} FROM consents WHERE agency = $1 AND holder = $2 ORDER BY id",
                        $crate::storage::consents::CONSENT_COLUMNS
                    );
                    let rows: Vec<$crate::storage::consents::ConsentRow> = sqlx::query_as(&sql)
                        .bind(agency.as_str())
                        .bind(holder.urn())
                        .fetch_all(&self.pool)
                        .await?;
                    rows.into_iter().map($crate::storage::consents::decode_consent).collect()
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn withdraw_consent(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
                    let done = sqlx::query(
                        "UPDATE consents SET withdrawn_at = $1 WHERE id = $2 AND withdrawn_at IS NULL",
                    )
                    .bind($crate::storage::shared::now_micros(at))
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                    if done.rows_affected() == 1 {
                        return Ok(());
                    }
                    match self.consent(id).await? {
                        Some(_) => Err(StoreError::Conflict(format!("consent {id} is already withdrawn"))),
                        None => Err(StoreError::NotFound(format!("consent {id}"))),
                    }
                }
            }
        };
    };
}
