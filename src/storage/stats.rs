//! The management department's figures: the [`StatsStore`] trait and the SQL both backends share
//! through `stats_store!`. The route (`routes/stats.rs`) aggregates the rows.
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// Raw figures.
#[async_trait]
pub trait StatsStore: Send + Sync + 'static {
    /// Figures for the management department; time series start at `since`.
    async fn stats_rows(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<StatsRows, StoreError>;
}

/// Raw figures for `GET /v1/stats`; the route aggregates them.
#[derive(Debug, Clone, Default)]
pub struct StatsRows {
    /// (type code, issuer, status, expired, count) over head versions.
    pub licences: Vec<(String, String, String, bool, i64)>,
    /// Acceptance times of envelopes since the window start.
    pub envelopes: Vec<DateTime<Utc>>,
    /// Acceptance times of items (licence versions and status events) since the window start.
    pub items: Vec<DateTime<Utc>>,
    /// Times of verifications by agencies since the window start.
    pub verifications: Vec<DateTime<Utc>>,
    /// (matter, applications, fully satisfied by reference).
    pub applications: Vec<(String, i64, i64)>,
    /// (type code, times it fulfilled a requirement), most first.
    pub referenced_types: Vec<(String, i64)>,
}

/// Implements [`StatsStore`] for a store with a `pool` field. The expansion brings its own
/// imports, so it does not depend on names where it is expanded.
macro_rules! stats_store {
    ($store:ty) => {
        const _: () = {
            use ::async_trait::async_trait;
            use ::chrono::{DateTime, Utc};
            use $crate::storage::StoreError;

            #[async_trait]
            impl $crate::storage::StatsStore for $store {
                #[tracing::instrument(level = "debug", skip_all)]
                async fn stats_rows(
                    &self,
                    since: DateTime<Utc>,
                    now: DateTime<Utc>,
                ) -> Result<$crate::storage::stats::StatsRows, StoreError> {
                    let since = $crate::storage::shared::now_micros(since);
                    let licences: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
                        "SELECT l.type_code, l.issuer, h.status, \
                         CAST(CASE WHEN l.valid_until <= $1 THEN 1 ELSE 0 END AS BIGINT) AS expired, \
                         COUNT(*) FROM licence_heads h JOIN licences l ON l.id = h.id \
                         GROUP BY l.type_code, l.issuer, h.status, expired \
                         ORDER BY l.type_code, l.issuer, h.status",
                    )
                    .bind($crate::storage::shared::now_micros(now))
                    .fetch_all(&self.pool)
                    .await?;
                    let times = |sql: &'static str| {
                        sqlx::query_scalar::<_, DateTime<Utc>>(sql).bind(since).fetch_all(&self.pool)
                    };
                    let envelopes = times("SELECT accepted_at FROM envelopes WHERE accepted_at >= $1").await?;
                    let mut items = times("SELECT accepted_at FROM licences WHERE accepted_at >= $1").await?;
                    items.extend(times("SELECT accepted_at FROM status_events WHERE accepted_at >= $1").await?);
                    let verifications = times(
                        "SELECT at FROM access_records WHERE channel = 'verify' AND at >= $1",
                    )
                    .await?;
                    let applications = sqlx::query_as(
                        "SELECT matter, COUNT(*), COUNT(CASE WHEN fully_satisfied THEN 1 END) \
                         FROM applications WHERE state IN ('approved', 'withdrawn') \
                         GROUP BY matter ORDER BY matter",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    let referenced_types = sqlx::query_as(
                        "SELECT type_code, COUNT(*) AS n FROM application_licences \
                         GROUP BY type_code ORDER BY n DESC, type_code LIMIT 10",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    Ok($crate::storage::stats::StatsRows {
                        licences: licences
                            .into_iter()
                            .map(|(t, i, s, e, n)| (t, i, s, e != 0, n))
                            .collect(),
                        envelopes,
                        items,
                        verifications,
                        applications,
                        referenced_types,
                    })
                }
            }
        };
    };
}
