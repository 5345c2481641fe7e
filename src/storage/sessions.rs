//! Holder sessions of the holder page and the holder's own API tokens: the [`SessionStore`]
//! trait and the SQL both backends share through `session_store!`. A session is known by the
//! SHA-256 of its id only; the id itself lives in the holder's cookie.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::identifiers::HolderId;

/// How a session was signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedInVia {
    /// The province's identity provider (OpenID Connect).
    Oidc,
    /// An operator-minted holder token (development sign-in).
    Token,
}

impl SignedInVia {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oidc => "oidc",
            Self::Token => "token",
        }
    }
}

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderSession {
    pub holder: HolderId,
    pub via: SignedInVia,
}

/// A holder API token as the holder page lists it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderTokenRow {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Holder sessions and the listing and revocation of holder tokens.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    async fn insert_holder_session(
        &self,
        id_hash: &[u8; 32],
        session: &HolderSession,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The session, when it is not ended, not past `expires_at` and was last seen after
    /// `idle_since`; marks it seen at `now`.
    async fn touch_holder_session(
        &self,
        id_hash: &[u8; 32],
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<Option<HolderSession>, StoreError>;
    /// Ends the session (idempotent).
    async fn end_holder_session(
        &self,
        id_hash: &[u8; 32],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Deletes every session that can no longer be used: ended, past `expires_at` at `now`, or
    /// not seen since `idle_since`. Answers how many went.
    async fn delete_dead_holder_sessions(
        &self,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// How many sessions the store holds, live or not yet deleted (operations and tests).
    async fn holder_session_count(&self) -> Result<i64, StoreError>;
    /// The holder's tokens, newest first.
    async fn holder_tokens(&self, holder: &HolderId) -> Result<Vec<HolderTokenRow>, StoreError>;
    /// `NotFound` when the holder has no such unrevoked token.
    async fn revoke_holder_token(
        &self,
        holder: &HolderId,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

pub(crate) fn decode_session((holder, via): (String, String)) -> Result<HolderSession, StoreError> {
    let via = match via.as_str() {
        "oidc" => SignedInVia::Oidc,
        "token" => SignedInVia::Token,
        other => return Err(StoreError::Corrupt(format!("session via {other:?}"))),
    };
    Ok(HolderSession {
        holder: super::issuers::stored(&holder)?,
        via,
    })
}

/// Implements [`SessionStore`] for a store with a `pool` field.
macro_rules! session_store {
    ($store:ty) => {
        const _: () = {
            use ::async_trait::async_trait;
            use ::chrono::{DateTime, Utc};
            use $crate::storage::{classify, StoreError};

            #[async_trait]
            impl $crate::storage::SessionStore for $store {
                #[tracing::instrument(level = "debug", skip_all)]
                async fn insert_holder_session(
                    &self,
                    id_hash: &[u8; 32],
                    session: &$crate::storage::HolderSession,
                    at: DateTime<Utc>,
                    expires_at: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    let at = $crate::storage::shared::now_micros(at);
                    sqlx::query(
                        "INSERT INTO holder_sessions \
                         (id_hash, holder, via, created_at, last_seen_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $4, $5)",
                    )
                    .bind(hex::encode(id_hash))
                    .bind(session.holder.urn())
                    .bind(session.via.as_str())
                    .bind(at)
                    .bind($crate::storage::shared::now_micros(expires_at))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| classify(e, "session"))?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn touch_holder_session(
                    &self,
                    id_hash: &[u8; 32],
                    now: DateTime<Utc>,
                    idle_since: DateTime<Utc>,
                ) -> Result<Option<$crate::storage::HolderSession>, StoreError> {
                    let row: Option<(String, String)> = sqlx::query_as(
                        "UPDATE holder_sessions SET last_seen_at = $2 \
                         WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > $2 \
                         AND last_seen_at > $3 RETURNING holder, via",
                    )
                    .bind(hex::encode(id_hash))
                    .bind($crate::storage::shared::now_micros(now))
                    .bind($crate::storage::shared::now_micros(idle_since))
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map($crate::storage::sessions::decode_session)
                        .transpose()
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn end_holder_session(
                    &self,
                    id_hash: &[u8; 32],
                    at: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "UPDATE holder_sessions SET ended_at = $2 \
                         WHERE id_hash = $1 AND ended_at IS NULL",
                    )
                    .bind(hex::encode(id_hash))
                    .bind($crate::storage::shared::now_micros(at))
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn delete_dead_holder_sessions(
                    &self,
                    now: DateTime<Utc>,
                    idle_since: DateTime<Utc>,
                ) -> Result<u64, StoreError> {
                    let done = sqlx::query(
                        "DELETE FROM holder_sessions WHERE ended_at IS NOT NULL \
                         OR expires_at <= $1 OR last_seen_at <= $2",
                    )
                    .bind($crate::storage::shared::now_micros(now))
                    .bind($crate::storage::shared::now_micros(idle_since))
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected())
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn holder_session_count(&self) -> Result<i64, StoreError> {
                    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM holder_sessions")
                        .fetch_one(&self.pool)
                        .await?)
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn holder_tokens(
                    &self,
                    holder: &$crate::domain::identifiers::HolderId,
                ) -> Result<Vec<$crate::storage::HolderTokenRow>, StoreError> {
                    let rows: Vec<(i64, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>)> =
                        sqlx::query_as(
                            "SELECT id, created_at, expires_at, revoked_at FROM holder_tokens \
                             WHERE holder = $1 ORDER BY id DESC",
                        )
                        .bind(holder.urn())
                        .fetch_all(&self.pool)
                        .await?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, created_at, expires_at, revoked_at)| {
                            $crate::storage::HolderTokenRow {
                                id,
                                created_at,
                                expires_at,
                                revoked_at,
                            }
                        })
                        .collect())
                }

                #[tracing::instrument(level = "debug", skip_all)]
                async fn revoke_holder_token(
                    &self,
                    holder: &$crate::domain::identifiers::HolderId,
                    id: i64,
                    at: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    let done = sqlx::query(
                        "UPDATE holder_tokens SET revoked_at = $3 \
                         WHERE holder = $1 AND id = $2 AND revoked_at IS NULL",
                    )
                    .bind(holder.urn())
                    .bind(id)
                    .bind($crate::storage::shared::now_micros(at))
                    .execute(&self.pool)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound("no such holder token".into()));
                    }
                    Ok(())
                }
            }
        };
    };
}
