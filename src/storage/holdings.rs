//! Consents, the holder's view of licences and the management department's figures: the
//! [`HoldingStore`] trait and the SQL both backends share through `holding_store!`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::issuers::stored;
use super::StoreError;
use crate::domain::consent::Consent;
use crate::domain::identifiers::{HolderId, LicenceId, TypeCode, Uscc};
use crate::domain::licence::LicenceState;

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
pub async fn held_head<S: HoldingStore + ?Sized>(
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

/// Consents, licences by holder, and figures.
#[async_trait]
pub trait HoldingStore: Send + Sync + 'static {
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
    /// One licence version with its licence's state.
    async fn licence_record(&self, id: &LicenceId) -> Result<Option<LicenceRecord>, StoreError>;
    /// The head versions of every licence the holder holds, by id.
    async fn holder_licences(&self, holder: &HolderId) -> Result<Vec<LicenceRecord>, StoreError>;
    /// Figures for the management department; time series start at `since`.
    async fn stats_rows(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<StatsRows, StoreError>;
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
pub(crate) type LicenceRow = (
    String,
    String,
    i64,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    String,
    String,
);

pub(crate) const CONSENT_COLUMNS: &str =
    "id, holder, agency, licences, type_codes, purpose, valid_until, created_at, withdrawn_at";
pub(crate) const LICENCE_COLUMNS: &str = "l.id, l.holder, l.schema_version, l.valid_from, \
     l.valid_until, l.document, h.id, h.status";

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

pub(crate) fn decode_licence(row: LicenceRow) -> Result<LicenceRecord, StoreError> {
    let (id, holder, schema_version, valid_from, valid_until, document, head, status) = row;
    Ok(LicenceRecord {
        id: stored(&id)?,
        holder: stored(&holder)?,
        schema_version: u32::try_from(schema_version).map_err(StoreError::corrupt)?,
        valid_from,
        valid_until,
        document: serde_json::from_str(&document).map_err(StoreError::corrupt)?,
        head: stored(&head)?,
        state: LicenceState::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("licence status {status:?}")))?,
    })
}

/// Implements [`HoldingStore`] for a store with a `pool` field.
macro_rules! holding_store {
    ($store:ty) => {
        #[async_trait]
        impl $crate::storage::HoldingStore for $store {
            async fn insert_consent(
                &self,
                c: &$crate::domain::consent::Consent,
            ) -> Result<(), StoreError> {
                let micros = super::shared::now_micros;
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

            async fn consent(
                &self,
                id: &str,
            ) -> Result<Option<$crate::domain::consent::Consent>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM consents WHERE id = $1",
                    super::holdings::CONSENT_COLUMNS
                );
                let row: Option<super::holdings::ConsentRow> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(super::holdings::decode_consent).transpose()
            }

            async fn holder_consents(
                &self,
                holder: &$crate::domain::identifiers::HolderId,
            ) -> Result<Vec<$crate::domain::consent::Consent>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM consents WHERE holder = $1 ORDER BY created_at DESC, id",
                    super::holdings::CONSENT_COLUMNS
                );
                let rows: Vec<super::holdings::ConsentRow> = sqlx::query_as(&sql)
                    .bind(holder.urn())
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(super::holdings::decode_consent).collect()
            }

            async fn agency_consents(
                &self,
                agency: &$crate::domain::identifiers::Uscc,
                holder: &$crate::domain::identifiers::HolderId,
            ) -> Result<Vec<$crate::domain::consent::Consent>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM consents WHERE agency = $1 AND holder = $2 ORDER BY id",
                    super::holdings::CONSENT_COLUMNS
                );
                let rows: Vec<super::holdings::ConsentRow> = sqlx::query_as(&sql)
                    .bind(agency.as_str())
                    .bind(holder.urn())
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(super::holdings::decode_consent).collect()
            }

            async fn withdraw_consent(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "UPDATE consents SET withdrawn_at = $1 WHERE id = $2 AND withdrawn_at IS NULL",
                )
                .bind(super::shared::now_micros(at))
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

            async fn licence_record(
                &self,
                id: &$crate::domain::identifiers::LicenceId,
            ) -> Result<Option<super::holdings::LicenceRecord>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM licences l JOIN licence_heads h ON h.base = l.base \
                     WHERE l.id = $1",
                    super::holdings::LICENCE_COLUMNS
                );
                let row: Option<super::holdings::LicenceRow> = sqlx::query_as(&sql)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(super::holdings::decode_licence).transpose()
            }

            async fn holder_licences(
                &self,
                holder: &$crate::domain::identifiers::HolderId,
            ) -> Result<Vec<super::holdings::LicenceRecord>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM licences l JOIN licence_heads h ON h.id = l.id \
                     WHERE l.holder = $1 ORDER BY l.id",
                    super::holdings::LICENCE_COLUMNS
                );
                let rows: Vec<super::holdings::LicenceRow> = sqlx::query_as(&sql)
                    .bind(holder.urn())
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(super::holdings::decode_licence).collect()
            }

            async fn stats_rows(
                &self,
                since: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<super::holdings::StatsRows, StoreError> {
                let since = super::shared::now_micros(since);
                let licences: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
                    "SELECT l.type_code, l.issuer, h.status, \
                     CAST(CASE WHEN l.valid_until <= $1 THEN 1 ELSE 0 END AS BIGINT) AS expired, \
                     COUNT(*) FROM licence_heads h JOIN licences l ON l.id = h.id \
                     GROUP BY l.type_code, l.issuer, h.status, expired \
                     ORDER BY l.type_code, l.issuer, h.status",
                )
                .bind(super::shared::now_micros(now))
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
                Ok(super::holdings::StatsRows {
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
}
