//! Presentations by QR: the [`PresentationStore`] trait and the SQL both backends share through
//! the `presentation_store!` macro. A scan is counted in the same statement that checks it, so
//! two scans of a single-use token cannot both succeed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::identifiers::{HolderId, LicenceId};

/// A stored presentation (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    pub holder: HolderId,
    pub licence: LicenceId,
    /// The `credentialSubject` members shown.
    pub fields: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// `None`: any number of scans until expiry.
    pub max_uses: Option<u32>,
    pub uses: u32,
}

/// The outcome of a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// Counted; the presentation as it is after this scan.
    Shown(Presentation),
    Expired,
    UsedUp,
    Unknown,
}

#[async_trait]
pub trait PresentationStore: Send + Sync + 'static {
    /// Stores a new presentation under the SHA-256 of its token.
    async fn insert_presentation(
        &self,
        token_hash: &[u8; 32],
        presentation: &Presentation,
    ) -> Result<(), StoreError>;
    /// The presentation, without counting a scan (for its QR images).
    async fn presentation(&self, token_hash: &[u8; 32])
        -> Result<Option<Presentation>, StoreError>;
    /// Counts one scan at `now` if the presentation is unexpired and not used up.
    async fn scan_presentation(
        &self,
        token_hash: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<Scan, StoreError>;
}

/// Why a scan was refused, from a presentation the counting update did not match.
pub(crate) fn refused(found: Option<Presentation>, now: DateTime<Utc>) -> Scan {
    match found {
        None => Scan::Unknown,
        Some(p) if p.expires_at <= now => Scan::Expired,
        Some(_) => Scan::UsedUp,
    }
}

pub(crate) const COLUMNS: &str = "holder, licence, fields, created_at, expires_at, max_uses, uses";

/// Decodes a row of [`COLUMNS`].
pub(crate) fn decode<R>(row: &R) -> Result<Presentation, StoreError>
where
    R: sqlx::Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let count = |v: i64| u32::try_from(v).map_err(StoreError::corrupt);
    let holder: String = row.try_get("holder")?;
    let licence: String = row.try_get("licence")?;
    let fields: String = row.try_get("fields")?;
    Ok(Presentation {
        holder: HolderId::from_urn(&holder).map_err(StoreError::corrupt)?,
        licence: LicenceId::from_urn(&licence).map_err(StoreError::corrupt)?,
        fields: serde_json::from_str(&fields).map_err(StoreError::corrupt)?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        max_uses: row
            .try_get::<Option<i64>, _>("max_uses")?
            .map(count)
            .transpose()?,
        uses: count(row.try_get("uses")?)?,
    })
}

/// Implements [`PresentationStore`] for a store with a `pool` field.
macro_rules! presentation_store {
    ($store:ty) => {
        const _: () = {
            use ::async_trait::async_trait;
            use ::chrono::{DateTime, Utc};
            use $crate::storage::{classify, StoreError};

            #[async_trait]
            impl $crate::storage::PresentationStore for $store {
                #[tracing::instrument(level = "debug", skip_all)]
                async fn insert_presentation(
                    &self,
                    token_hash: &[u8; 32],
                    p: &$crate::storage::Presentation,
                ) -> Result<(), StoreError> {
                    let fields = serde_json::to_string(&p.fields).map_err(StoreError::corrupt)?;
                    sqlx::query(
                        "INSERT INTO presentations (token_hash, holder, licence, fields, created_at, \
                         expires_at, max_uses, uses) VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
                    )
                    .bind(hex::encode(token_hash))
                    .bind(p.holder.urn())
                    .bind(p.licence.urn())
                    .bind(fields)
                    .bind($crate::storage::shared::now_micros(p.created_at))
                    .bind($crate::storage::shared::now_micros(p.expires_at))
                    .bind(p.max_uses.map(i64::from))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| classify(e, "presentation"))?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn presentation(
                    &self,
                    token_hash: &[u8; 32],
                ) -> Result<Option<$crate::storage::Presentation>, StoreError> {
                    let sql = format!(
                        "SELECT {} FROM presentations WHERE token_hash = $1",
                        $crate::storage::presentations::COLUMNS
                    );
                    let row = sqlx::query(&sql)
                        .bind(hex::encode(token_hash))
                        .fetch_optional(&self.pool)
                        .await?;
                    row.as_ref().map($crate::storage::presentations::decode).transpose()
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn scan_presentation(
                    &self,
                    token_hash: &[u8; 32],
                    now: DateTime<Utc>,
                ) -> Result<$crate::storage::Scan, StoreError> {
                    let sql = format!(
                        "UPDATE presentations SET uses = uses + 1 WHERE token_hash = $1 \
                         AND expires_at > $2 AND (max_uses IS NULL OR uses < max_uses) \
                         RETURNING {}",
                        $crate::storage::presentations::COLUMNS
                    );
                    let row = sqlx::query(&sql)
                        .bind(hex::encode(token_hash))
                        .bind($crate::storage::shared::now_micros(now))
                        .fetch_optional(&self.pool)
                        .await?;
                    if let Some(row) = row {
                        let shown = $crate::storage::presentations::decode(&row)?;
                        return Ok($crate::storage::Scan::Shown(shown));
                    }
                    let found = self.presentation(token_hash).await?;
                    Ok($crate::storage::presentations::refused(found, now))
                }
            }
        };
    };
}
