//! What a holder signs in with and holds: operator-minted holder tokens and the holder's view of
//! licences. The [`HolderStore`] trait and the SQL both backends share through `holder_store!`.
//! Sessions from the identity provider are in [`super::sessions`].
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::issuers::stored;
use super::StoreError;
use crate::domain::identifiers::{HolderId, LicenceId};
use crate::domain::licence::LicenceState;

/// Holder tokens and licences by holder.
#[async_trait]
pub trait HolderStore: Send + Sync + 'static {
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
    /// One licence version with its licence's state.
    async fn licence_record(&self, id: &LicenceId) -> Result<Option<LicenceRecord>, StoreError>;
    /// The head versions of every licence the holder holds, by id.
    async fn holder_licences(&self, holder: &HolderId) -> Result<Vec<LicenceRecord>, StoreError>;
}

/// One licence version with its licence's current state.
#[derive(Debug, Clone)]
pub struct LicenceRecord {
    pub id: LicenceId,
    pub holder: HolderId,
    pub schema_version: u32,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub document: Value,
    /// The licence's head version.
    pub head: LicenceId,
    pub state: LicenceState,
}

/// The head version of `record`'s licence, when it names the same holder as `record`: the
/// version a read on that holder's behalf (the holder's own, or an agency's under its consent)
/// may show. `None` when the head names someone else, which intake refuses
/// (`holder_changed`) but a read must not trust.
pub async fn held_head<S: HolderStore + ?Sized>(
    store: &S,
    record: &LicenceRecord,
) -> Result<Option<LicenceRecord>, StoreError> {
    if record.head == record.id {
        return Ok(Some(record.clone()));
    }
    Ok(store
        .licence_record(&record.head)
        .await?
        .filter(|head| head.holder == record.holder))
}

pub(crate) type LicenceRow = (
    String,
    String,
    i64,
    DateTime<Utc>,
    DateTime<Utc>,
    Vec<u8>,
    String,
    String,
);

pub(crate) const LICENCE_COLUMNS: &str = "l.id, l.holder, l.schema_version, l.valid_from, \
     l.valid_until, l.document, h.id, h.status";

pub(crate) fn decode_licence(row: LicenceRow) -> Result<LicenceRecord, StoreError> {
    let (id, holder, schema_version, valid_from, valid_until, document, head, status) = row;
    Ok(LicenceRecord {
        id: stored(&id)?,
        holder: stored(&holder)?,
        schema_version: u32::try_from(schema_version).map_err(StoreError::corrupt)?,
        valid_from,
        valid_until,
        document: serde_json::from_str(
            &crate::log::packed::unpack(document).map_err(StoreError::corrupt)?,
        )
        .map_err(StoreError::corrupt)?,
        head: stored(&head)?,
        state: LicenceState::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("licence status {status:?}")))?,
    })
}

/// Implements [`HolderStore`] for a store with a `pool` field. The expansion brings its own
/// imports, so it does not depend on names where it is expanded.
macro_rules! holder_store {
    ($store:ty) => {
        const _: () = {
            use ::async_trait::async_trait;
            use ::chrono::{DateTime, Utc};
            use $crate::storage::{classify, StoreError};

            #[async_trait]
            impl $crate::storage::HolderStore for $store {
                #[tracing::instrument(level = "debug", skip_all)]
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
                    .bind($crate::storage::shared::now_micros(at))
                    .bind($crate::storage::shared::now_micros(expires_at))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| classify(e, "token"))?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", skip_all)]
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
                    .bind($crate::storage::shared::now_micros(now))
                    .fetch_optional(&self.pool)
                    .await?;
                    holder
                        .as_deref()
                        .map($crate::storage::issuers::stored)
                        .transpose()
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn licence_record(
                    &self,
                    id: &$crate::domain::identifiers::LicenceId,
                ) -> Result<Option<$crate::storage::holder::LicenceRecord>, StoreError> {
                    let sql = format!(
                        "SELECT {} FROM licences l JOIN licence_heads h ON h.base = l.base \
                         WHERE l.id = $1",
                        $crate::storage::holder::LICENCE_COLUMNS
                    );
                    let row: Option<$crate::storage::holder::LicenceRow> = sqlx::query_as(&sql)
                        .bind(id.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                    row.map($crate::storage::holder::decode_licence).transpose()
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn holder_licences(
                    &self,
                    holder: &$crate::domain::identifiers::HolderId,
                ) -> Result<Vec<$crate::storage::holder::LicenceRecord>, StoreError> {
                    let sql = format!(
                        "SELECT {} FROM licences l JOIN licence_heads h ON h.id = l.id \
                         WHERE l.holder = $1 ORDER BY l.id",
                        $crate::storage::holder::LICENCE_COLUMNS
                    );
                    let rows: Vec<$crate::storage::holder::LicenceRow> = sqlx::query_as(&sql)
                        .bind(holder.urn())
                        .fetch_all(&self.pool)
                        .await?;
                    rows.into_iter()
                        .map($crate::storage::holder::decode_licence)
                        .collect()
                }
            }
        };
    };
}
