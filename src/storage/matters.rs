//! Service matters (事项) and the licence types they require: the [`MatterStore`] trait and the
//! SQL both backends share through `matter_store!`.
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::issuers::stored;
use super::StoreError;
use crate::domain::matter::Matter;

/// Service matters.
#[async_trait]
pub trait MatterStore: Send + Sync + 'static {
    /// `Conflict` when the code exists; `NotFound` when the agency is unknown.
    async fn insert_matter(&self, matter: &Matter) -> Result<(), StoreError>;
    async fn matter(&self, code: &str) -> Result<Option<Matter>, StoreError>;
    /// Every matter, by code.
    async fn matters(&self) -> Result<Vec<Matter>, StoreError>;
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

/// Implements [`MatterStore`] for a store with a `pool` field. The expansion brings its own
/// imports, so it does not depend on names where it is expanded.
macro_rules! matter_store {
    ($store:ty) => {
        const _: () = {
            use ::async_trait::async_trait;
            use ::chrono::{DateTime, Utc};
            use $crate::storage::{classify, StoreError};

            #[async_trait]
            impl $crate::storage::MatterStore for $store {
                #[tracing::instrument(level = "debug", skip_all)]
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
                    .bind($crate::storage::shared::now_micros(matter.created_at))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| classify(e, "matter"))?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", skip_all)]
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
                    row.map($crate::storage::matters::decode_matter).transpose()
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn matters(&self) -> Result<Vec<$crate::domain::matter::Matter>, StoreError> {
                    let rows: Vec<(String, String, String, String, DateTime<Utc>)> = sqlx::query_as(
                        "SELECT code, name, agency, requirements, created_at FROM matters ORDER BY code",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map($crate::storage::matters::decode_matter).collect()
                }
            }
        };
    };
}
