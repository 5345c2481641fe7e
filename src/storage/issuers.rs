//! Issuers, their keys and read tokens: the [`IssuerStore`] trait and the SQL both backends
//! share through the `issuer_store!` macro. What the operator grants them is in
//! [`super::authorisations`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::identifiers::Uscc;
use crate::domain::issuer::{Issuer, IssuerKey, IssuerStatus};

/// Issuers, their keys and read tokens. Nothing is deleted: keys and tokens are revoked.
#[async_trait]
pub trait IssuerStore: Send + Sync + 'static {
    /// Registers an active issuer without keys. `Conflict` when the USCC is registered.
    async fn insert_issuer(
        &self,
        uscc: &Uscc,
        name: &str,
        contact: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// One issuer with all its keys, oldest first.
    async fn issuer(&self, uscc: &Uscc) -> Result<Option<Issuer>, StoreError>;
    /// Every issuer (by USCC) with all its keys.
    async fn list_issuers(&self) -> Result<Vec<Issuer>, StoreError>;
    /// Sets the status. `NotFound` when there is no such issuer.
    async fn set_issuer_status(
        &self,
        uscc: &Uscc,
        status: IssuerStatus,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Adds a key. `Conflict` when the Multikey is registered to any issuer; `NotFound` when
    /// the issuer is unknown.
    async fn add_issuer_key(&self, uscc: &Uscc, key: &IssuerKey) -> Result<(), StoreError>;
    /// Revokes a key, optionally marking it compromised since a time. `NotFound` when the
    /// issuer has no such key; `Conflict` when it is already revoked, unless this only adds a
    /// compromise time to a revoked key that has none (the revocation time is then kept).
    /// `reason` is the operator's, kept with the key.
    async fn revoke_issuer_key(
        &self,
        uscc: &Uscc,
        multikey: &str,
        revoked_at: DateTime<Utc>,
        compromised_since: Option<DateTime<Utc>>,
        reason: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Stores the SHA-256 of a fresh read token. `NotFound` when the issuer is unknown.
    async fn insert_issuer_token(
        &self,
        uscc: &Uscc,
        token_hash: &[u8; 32],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The issuer a token (given by its SHA-256) belongs to, unless revoked.
    async fn issuer_by_token(&self, token_hash: &[u8; 32]) -> Result<Option<Uscc>, StoreError>;
}

pub(crate) const KEY_COLUMNS: &str = "issuer, multikey, valid_from, valid_until, revoked_at, \
     compromised_since, created_at";

/// Parses a stored identifier, calling anything unparseable corruption.
pub(crate) fn stored<T: std::str::FromStr>(text: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| StoreError::corrupt(format!("{text:?}: {e}")))
}

/// Implements [`IssuerStore`] for a store with a `pool` field; `$row` is its row type.
macro_rules! issuer_store {
    ($store:ty, $row:ty) => {
        #[async_trait]
        impl $crate::storage::IssuerStore for $store {
            #[tracing::instrument(level = "debug", skip_all)]
            async fn insert_issuer(
                &self,
                uscc: &$crate::domain::identifiers::Uscc,
                name: &str,
                contact: Option<&str>,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let at = $crate::storage::shared::now_micros(at);
                sqlx::query(
                    "INSERT INTO issuers (uscc, name, contact, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'active', $4, $4)",
                )
                .bind(uscc.as_str())
                .bind(name)
                .bind(contact)
                .bind(at)
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, "issuer"))?;
                Ok(())
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn issuer(
                &self,
                uscc: &$crate::domain::identifiers::Uscc,
            ) -> Result<Option<$crate::domain::issuer::Issuer>, StoreError> {
                use sqlx::Row as _;
                // The issuer and its keys in one query, a row per key (one with no key for an
                // issuer without): the intake authenticates every envelope with them, and on
                // PostgreSQL each query is a round trip and a statement for the server.
                let rows = sqlx::query(
                    "SELECT i.uscc, i.name, i.contact, i.status, i.created_at, k.multikey, \
                     k.valid_from, k.valid_until, k.revoked_at, k.compromised_since, \
                     k.created_at AS key_created_at \
                     FROM issuers i LEFT JOIN issuer_keys k ON k.issuer = i.uscc \
                     WHERE i.uscc = $1 ORDER BY k.id",
                )
                .bind(uscc.as_str())
                .fetch_all(&self.pool)
                .await?;
                let Some(first) = rows.first() else {
                    return Ok(None);
                };
                let mut issuer = decode_issuer(first)?;
                for row in &rows {
                    let Some(multikey) = row.try_get::<Option<String>, _>("multikey")? else {
                        continue;
                    };
                    issuer.keys.push($crate::domain::issuer::IssuerKey {
                        multikey,
                        valid_from: row.try_get("valid_from")?,
                        valid_until: row.try_get("valid_until")?,
                        revoked_at: row.try_get("revoked_at")?,
                        compromised_since: row.try_get("compromised_since")?,
                        created_at: row.try_get("key_created_at")?,
                    });
                }
                Ok(Some(issuer))
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn list_issuers(
                &self,
            ) -> Result<Vec<$crate::domain::issuer::Issuer>, StoreError> {
                let rows = sqlx::query(
                    "SELECT uscc, name, contact, status, created_at FROM issuers ORDER BY uscc",
                )
                .fetch_all(&self.pool)
                .await?;
                let mut issuers = rows
                    .iter()
                    .map(decode_issuer)
                    .collect::<Result<Vec<_>, _>>()?;
                let sql = format!(
                    "SELECT {} FROM issuer_keys ORDER BY id",
                    $crate::storage::issuers::KEY_COLUMNS
                );
                for row in sqlx::query(&sql).fetch_all(&self.pool).await? {
                    let (owner, key) = decode_issuer_key(&row)?;
                    if let Some(i) = issuers.iter_mut().find(|i| i.uscc.as_str() == owner) {
                        i.keys.push(key);
                    }
                }
                Ok(issuers)
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn set_issuer_status(
                &self,
                uscc: &$crate::domain::identifiers::Uscc,
                status: $crate::domain::issuer::IssuerStatus,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let done =
                    sqlx::query("UPDATE issuers SET status = $1, updated_at = $2 WHERE uscc = $3")
                        .bind(status.as_str())
                        .bind($crate::storage::shared::now_micros(at))
                        .bind(uscc.as_str())
                        .execute(&self.pool)
                        .await?;
                if done.rows_affected() == 1 {
                    Ok(())
                } else {
                    Err(StoreError::NotFound(format!("issuer {uscc}")))
                }
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn add_issuer_key(
                &self,
                uscc: &$crate::domain::identifiers::Uscc,
                key: &$crate::domain::issuer::IssuerKey,
            ) -> Result<(), StoreError> {
                let micros = $crate::storage::shared::now_micros;
                sqlx::query(
                    "INSERT INTO issuer_keys (issuer, multikey, valid_from, valid_until, \
                     revoked_at, compromised_since, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(uscc.as_str())
                .bind(&key.multikey)
                .bind(micros(key.valid_from))
                .bind(key.valid_until.map(micros))
                .bind(key.revoked_at.map(micros))
                .bind(key.compromised_since.map(micros))
                .bind(micros(key.created_at))
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, "key"))?;
                Ok(())
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn revoke_issuer_key(
                &self,
                uscc: &$crate::domain::identifiers::Uscc,
                multikey: &str,
                revoked_at: DateTime<Utc>,
                compromised_since: Option<DateTime<Utc>>,
                reason: Option<&str>,
            ) -> Result<(), StoreError> {
                let micros = $crate::storage::shared::now_micros;
                let compromised_since = compromised_since.map(micros);
                let done = sqlx::query(
                    "UPDATE issuer_keys SET revoked_at = $1, compromised_since = $2, \
                     revocation_reason = $3 \
                     WHERE issuer = $4 AND multikey = $5 AND revoked_at IS NULL",
                )
                .bind(micros(revoked_at))
                .bind(compromised_since)
                .bind(reason)
                .bind(uscc.as_str())
                .bind(multikey)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 1 {
                    return Ok(());
                }
                if compromised_since.is_some() {
                    // A key revoked earlier may later be found compromised: record only that.
                    let done = sqlx::query(
                        "UPDATE issuer_keys SET compromised_since = $1, \
                         revocation_reason = COALESCE($2, revocation_reason) \
                         WHERE issuer = $3 AND multikey = $4 AND compromised_since IS NULL",
                    )
                    .bind(compromised_since)
                    .bind(reason)
                    .bind(uscc.as_str())
                    .bind(multikey)
                    .execute(&self.pool)
                    .await?;
                    if done.rows_affected() == 1 {
                        return Ok(());
                    }
                }
                let exists: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM issuer_keys WHERE issuer = $1 AND multikey = $2",
                )
                .bind(uscc.as_str())
                .bind(multikey)
                .fetch_optional(&self.pool)
                .await?;
                match exists {
                    Some(_) => Err(StoreError::Conflict(format!(
                        "key {multikey} is already revoked"
                    ))),
                    None => Err(StoreError::NotFound(format!(
                        "key {multikey} of issuer {uscc}"
                    ))),
                }
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn insert_issuer_token(
                &self,
                uscc: &$crate::domain::identifiers::Uscc,
                token_hash: &[u8; 32],
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO issuer_tokens (issuer, token_hash, created_at) \
                     VALUES ($1, $2, $3)",
                )
                .bind(uscc.as_str())
                .bind(hex::encode(token_hash))
                .bind($crate::storage::shared::now_micros(at))
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, "token"))?;
                Ok(())
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn issuer_by_token(
                &self,
                token_hash: &[u8; 32],
            ) -> Result<Option<$crate::domain::identifiers::Uscc>, StoreError> {
                let issuer: Option<String> = sqlx::query_scalar(
                    "SELECT issuer FROM issuer_tokens \
                     WHERE token_hash = $1 AND revoked_at IS NULL",
                )
                .bind(hex::encode(token_hash))
                .fetch_optional(&self.pool)
                .await?;
                issuer
                    .as_deref()
                    .map($crate::storage::issuers::stored)
                    .transpose()
            }
        }

        fn decode_issuer(row: &$row) -> Result<$crate::domain::issuer::Issuer, StoreError> {
            use sqlx::Row as _;
            let status: String = row.try_get("status")?;
            Ok($crate::domain::issuer::Issuer {
                uscc: $crate::storage::issuers::stored(&row.try_get::<String, _>("uscc")?)?,
                name: row.try_get("name")?,
                contact: row.try_get("contact")?,
                status: $crate::domain::issuer::IssuerStatus::parse(&status)
                    .ok_or_else(|| StoreError::corrupt(format!("issuer status {status:?}")))?,
                created_at: row.try_get("created_at")?,
                keys: Vec::new(),
            })
        }

        /// A key row: the owning issuer's USCC and the key.
        fn decode_issuer_key(
            row: &$row,
        ) -> Result<(String, $crate::domain::issuer::IssuerKey), StoreError> {
            use sqlx::Row as _;
            Ok((
                row.try_get("issuer")?,
                $crate::domain::issuer::IssuerKey {
                    multikey: row.try_get("multikey")?,
                    valid_from: row.try_get("valid_from")?,
                    valid_until: row.try_get("valid_until")?,
                    revoked_at: row.try_get("revoked_at")?,
                    compromised_since: row.try_get("compromised_since")?,
                    created_at: row.try_get("created_at")?,
                },
            ))
        }
    };
}
