//! What both backends share. Each area's SQL is written once (`$N` placeholders, `ON
//! CONFLICT`, `RETURNING` work on both) inside a macro that implements that area's trait for
//! both stores, so the two implementations cannot drift apart.

use chrono::{DateTime, Utc};

/// Truncates to microseconds, the precision both backends keep.
pub(crate) fn now_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    at.trunc_subsecs(6)
}

/// Implements [`CoreStore`](super::CoreStore) for a store with a `pool` field; the store
/// provides the backend-specific `BACKEND` and `run_migrations`.
macro_rules! core_store {
    ($store:ty) => {
        #[async_trait]
        impl CoreStore for $store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn migrate(&self) -> Result<(), StoreError> {
                self.run_migrations().await
            }

            #[tracing::instrument(level = "debug", skip_all)]
            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            fn pool_stats(&self) -> PoolStats {
                PoolStats {
                    size: self.pool.size(),
                    idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
                }
            }
        }
    };
}
