//! Applications by reference: the [`ApplicationStore`] trait and the SQL both backends share
//! through `application_store!`. An application, the licences its approval lets the agency
//! read, and the access records of its checks are written in one transaction; a decision is a
//! compare-and-set on the state, so of two decisions at once one wins.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::issuers::stored;
use super::StoreError;
use crate::domain::access::{AccessRecord, NewAccessRecord};
use crate::domain::application::{Application, ApplicationState, Origin};
use crate::domain::identifiers::HolderId;

/// Applications and their decisions.
#[async_trait]
pub trait ApplicationStore: Send + Sync + 'static {
    /// Stores an application, the licences that fulfilled its requirements, and the records of
    /// its checks, in one transaction.
    async fn insert_application(
        &self,
        application: &Application,
        records: Vec<NewAccessRecord>,
    ) -> Result<Vec<AccessRecord>, StoreError>;
    async fn application(&self, id: &str) -> Result<Option<Application>, StoreError>;
    /// The applicant's applications, newest first.
    async fn holder_applications(&self, holder: &HolderId) -> Result<Vec<Application>, StoreError>;
    /// Stores the holder's decision on an application that was in state `from` (approval,
    /// decline or withdrawal), the licences an approval lets the agency read, and the records of
    /// its checks, in one transaction. `Conflict` when the application is no longer in `from`
    /// (or, leaving `pending`, was closed meanwhile); `NotFound` for an unknown id.
    async fn decide_application(
        &self,
        application: &Application,
        from: ApplicationState,
        records: Vec<NewAccessRecord>,
    ) -> Result<Vec<AccessRecord>, StoreError>;
    /// `Conflict` when already closed; `NotFound` for an unknown id.
    async fn close_application(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
}

pub(crate) type ApplicationRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// The columns of [`ApplicationRow`], in its order.
pub(crate) const APPLICATION_COLUMNS: &str = "id, matter, agency, applicant, use_cause, result, \
     state, origin, requested, created_at, decided_at, expires_at, closed_at";

pub(crate) fn decode_application(row: ApplicationRow) -> Result<Application, StoreError> {
    let (id, matter, agency, applicant, use_cause, result, state, origin, requested, created_at) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9,
    );
    let (decided_at, expires_at, closed_at) = (row.10, row.11, row.12);
    let requested: Vec<String> = serde_json::from_str(&requested).map_err(StoreError::corrupt)?;
    Ok(Application {
        id,
        matter,
        agency: stored(&agency)?,
        applicant: stored(&applicant)?,
        use_cause,
        state: ApplicationState::parse(&state)
            .ok_or_else(|| StoreError::corrupt(format!("application state {state:?}")))?,
        origin: Origin::parse(&origin)
            .ok_or_else(|| StoreError::corrupt(format!("application origin {origin:?}")))?,
        requested: requested
            .iter()
            .map(|l| stored(l))
            .collect::<Result<_, _>>()?,
        evaluation: serde_json::from_str(&result).map_err(StoreError::corrupt)?,
        created_at,
        decided_at,
        expires_at,
        closed_at,
    })
}

/// Implements [`ApplicationStore`] for a store with a `pool` field; `$conn` is its connection
/// type. Uses `append_access_in` from `access_store!`, expanded in the same module.
macro_rules! application_store {
    ($store:ty, $conn:ty) => {
        /// Stores the licences that fulfilled a requirement: what the agency may read.
            #[tracing::instrument(level = "debug", skip_all)]
        async fn insert_fulfilling_in(
            conn: &mut $conn,
            a: &$crate::domain::application::Application,
        ) -> Result<(), StoreError> {
            let fulfilling = a.evaluation.as_ref().map(|e| e.fulfilling()).unwrap_or_default();
            for (licence, type_code) in fulfilling {
                sqlx::query(
                    "INSERT INTO application_licences (application, licence, type_code) \
                     VALUES ($1, $2, $3)",
                )
                .bind(&a.id)
                .bind(licence.as_str())
                .bind(type_code.as_str())
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        }

        #[async_trait]
        impl $crate::storage::ApplicationStore for $store {
                #[tracing::instrument(level = "debug", skip_all)]
            async fn insert_application(
                &self,
                a: &$crate::domain::application::Application,
                records: Vec<$crate::domain::access::NewAccessRecord>,
            ) -> Result<Vec<$crate::domain::access::AccessRecord>, StoreError> {
                let micros = $crate::storage::shared::now_micros;
                let result = serde_json::to_string(&a.evaluation).map_err(StoreError::corrupt)?;
                let requested: Vec<&str> = a.requested.iter().map(|l| l.as_str()).collect();
                let requested = serde_json::to_string(&requested).map_err(StoreError::corrupt)?;
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO applications (id, matter, agency, applicant, use_cause, result, \
                     fully_satisfied, created_at, expires_at, closed_at, state, origin, \
                     requested, decided_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(&a.id)
                .bind(&a.matter)
                .bind(a.agency.as_str())
                .bind(a.applicant.urn())
                .bind(&a.use_cause)
                .bind(result)
                .bind(a.evaluation.as_ref().is_some_and(|e| e.fully_satisfied))
                .bind(micros(a.created_at))
                .bind(micros(a.expires_at))
                .bind(a.closed_at.map(micros))
                .bind(a.state.as_str())
                .bind(a.origin.as_str())
                .bind(requested)
                .bind(a.decided_at.map(micros))
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(e, "application"))?;
                insert_fulfilling_in(&mut *tx, a).await?;
                let records = append_access_in(&mut *tx, records, a.created_at).await?;
                tx.commit().await?;
                Ok(records)
            }

                #[tracing::instrument(level = "debug", skip_all)]
            async fn application(
                &self,
                id: &str,
            ) -> Result<Option<$crate::domain::application::Application>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM applications WHERE id = $1",
                    $crate::storage::applications::APPLICATION_COLUMNS
                );
                let row: Option<$crate::storage::applications::ApplicationRow> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map($crate::storage::applications::decode_application).transpose()
            }

                #[tracing::instrument(level = "debug", skip_all)]
            async fn holder_applications(
                &self,
                holder: &$crate::domain::identifiers::HolderId,
            ) -> Result<Vec<$crate::domain::application::Application>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM applications WHERE applicant = $1 \
                     ORDER BY created_at DESC, id",
                    $crate::storage::applications::APPLICATION_COLUMNS
                );
                let rows: Vec<$crate::storage::applications::ApplicationRow> = sqlx::query_as(&sql)
                    .bind(holder.urn())
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map($crate::storage::applications::decode_application).collect()
            }

                #[tracing::instrument(level = "debug", skip_all)]
            async fn decide_application(
                &self,
                a: &$crate::domain::application::Application,
                from: $crate::domain::application::ApplicationState,
                records: Vec<$crate::domain::access::NewAccessRecord>,
            ) -> Result<Vec<$crate::domain::access::AccessRecord>, StoreError> {
                use $crate::domain::application::ApplicationState;
                let micros = $crate::storage::shared::now_micros;
                let result = serde_json::to_string(&a.evaluation).map_err(StoreError::corrupt)?;
                let at = a.decided_at.unwrap_or_else(Utc::now);
                let mut tx = self.pool.begin().await?;
                // Compare-and-set on the state: of two decisions at once, one wins.
                let done = sqlx::query(
                    "UPDATE applications SET state = $1, result = $2, fully_satisfied = $3, \
                     decided_at = $4, expires_at = $5 \
                     WHERE id = $6 AND state = $7 AND (state <> 'pending' OR closed_at IS NULL)",
                )
                .bind(a.state.as_str())
                .bind(result)
                .bind(a.evaluation.as_ref().is_some_and(|e| e.fully_satisfied))
                .bind(micros(at))
                .bind(micros(a.expires_at))
                .bind(&a.id)
                .bind(from.as_str())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    drop(tx);
                    return match self.application(&a.id).await? {
                        Some(_) => Err(StoreError::Conflict(format!(
                            "application {} is no longer {}", a.id, from.as_str()
                        ))),
                        None => Err(StoreError::NotFound(format!("application {}", a.id))),
                    };
                }
                if from == ApplicationState::Pending {
                    insert_fulfilling_in(&mut *tx, a).await?;
                }
                let records = append_access_in(&mut *tx, records, at).await?;
                tx.commit().await?;
                Ok(records)
            }

                #[tracing::instrument(level = "debug", skip_all)]
            async fn close_application(
                &self,
                id: &str,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "UPDATE applications SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL",
                )
                .bind($crate::storage::shared::now_micros(at))
                .bind(id)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 1 {
                    return Ok(());
                }
                match self.application(id).await? {
                    Some(_) => Err(StoreError::Conflict(format!("application {id} is closed"))),
                    None => Err(StoreError::NotFound(format!("application {id}"))),
                }
            }
        }
    };
}
