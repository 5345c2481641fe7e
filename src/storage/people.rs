//! Agencies and their keys, holder tokens, service matters, consents, and the holder's view of
//! licences: the [`PeopleStore`] trait and the SQL both backends share through `people_store!`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::issuers::stored;
use super::StoreError;
use crate::domain::agency::{Agency, AgencyKey, Scope};
use crate::domain::consent::Consent;
use crate::domain::identifiers::{HolderId, LicenceId, TypeCode, Uscc};
use crate::domain::licence::LicenceState;
use crate::domain::matter::Matter;

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

/// Principals other than issuers, matters, consents, and licences by holder.
#[async_trait]
pub trait PeopleStore: Send + Sync + 'static {
    /// Registers an agency with its first key (by SHA-256); answers the key's id.
    /// `Conflict` when the USCC is registered.
    async fn insert_agency(&self, agency: &Agency, key_hash: &[u8; 32]) -> Result<i64, StoreError>;
    async fn agency(&self, uscc: &Uscc) -> Result<Option<Agency>, StoreError>;
    /// Every key of the agency, revoked ones included, oldest first.
    async fn agency_keys(&self, uscc: &Uscc) -> Result<Vec<AgencyKey>, StoreError>;
    /// Adds a key; answers its id. `NotFound` for an unknown agency.
    async fn insert_agency_key(
        &self,
        uscc: &Uscc,
        key_hash: &[u8; 32],
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    /// `NotFound` when the agency has no such key; `Conflict` when it is already revoked.
    async fn revoke_agency_key(
        &self,
        uscc: &Uscc,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The agency an unrevoked key (by SHA-256) belongs to.
    async fn agency_by_key(&self, key_hash: &[u8; 32]) -> Result<Option<Agency>, StoreError>;
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
    /// `Conflict` when the code exists; `NotFound` when the agency is unknown.
    async fn insert_matter(&self, matter: &Matter) -> Result<(), StoreError>;
    async fn matter(&self, code: &str) -> Result<Option<Matter>, StoreError>;
    /// Every matter, by code.
    async fn matters(&self) -> Result<Vec<Matter>, StoreError>;
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

pub(crate) type AgencyRow = (String, String, String, String, DateTime<Utc>);
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

pub(crate) const AGENCY_COLUMNS: &str = "a.uscc, a.name, a.jurisdiction, a.scopes, a.created_at";
pub(crate) const CONSENT_COLUMNS: &str =
    "id, holder, agency, licences, type_codes, purpose, valid_until, created_at, withdrawn_at";
pub(crate) const LICENCE_COLUMNS: &str = "l.id, l.holder, l.schema_version, l.valid_from, \
     l.valid_until, l.document, h.id, h.status";

pub(crate) fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn decode_agency(row: AgencyRow) -> Result<Agency, StoreError> {
    let (uscc, name, jurisdiction, scopes, created_at) = row;
    Ok(Agency {
        uscc: stored(&uscc)?,
        name,
        jurisdiction: stored(&jurisdiction)?,
        scopes: scopes
            .split_whitespace()
            .map(stored)
            .collect::<Result<_, _>>()?,
        created_at,
    })
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

/// Implements [`PeopleStore`] for a store with a `pool` field.
macro_rules! people_store {
    ($store:ty) => {
        #[async_trait]
        impl $crate::storage::PeopleStore for $store {
            async fn insert_agency(
                &self,
                agency: &$crate::domain::agency::Agency,
                key_hash: &[u8; 32],
            ) -> Result<i64, StoreError> {
                let at = super::shared::now_micros(agency.created_at);
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO agencies (uscc, name, jurisdiction, scopes, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(agency.uscc.as_str())
                .bind(&agency.name)
                .bind(agency.jurisdiction.as_str())
                .bind(super::people::scopes_text(&agency.scopes))
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(e, "agency"))?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO agency_keys (agency, key_hash, created_at) VALUES ($1, $2, $3) \
                     RETURNING id",
                )
                .bind(agency.uscc.as_str())
                .bind(hex::encode(key_hash))
                .bind(at)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| classify(e, "key"))?;
                tx.commit().await?;
                Ok(id)
            }

            async fn agency(
                &self,
                uscc: &$crate::domain::identifiers::Uscc,
            ) -> Result<Option<$crate::domain::agency::Agency>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM agencies a WHERE a.uscc = $1",
                    super::people::AGENCY_COLUMNS
                );
                let row: Option<super::people::AgencyRow> = sqlx::query_as(&sql)
                    .bind(uscc.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(super::people::decode_agency).transpose()
            }

            async fn agency_keys(
                &self,
                uscc: &$crate::domain::identifiers::Uscc,
            ) -> Result<Vec<$crate::domain::agency::AgencyKey>, StoreError> {
                let rows: Vec<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
                    "SELECT id, created_at, revoked_at FROM agency_keys WHERE agency = $1 \
                     ORDER BY id",
                )
                .bind(uscc.as_str())
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, created_at, revoked_at)| $crate::domain::agency::AgencyKey {
                        id,
                        created_at,
                        revoked_at,
                    })
                    .collect())
            }

            async fn insert_agency_key(
                &self,
                uscc: &$crate::domain::identifiers::Uscc,
                key_hash: &[u8; 32],
                at: DateTime<Utc>,
            ) -> Result<i64, StoreError> {
                sqlx::query_scalar(
                    "INSERT INTO agency_keys (agency, key_hash, created_at) VALUES ($1, $2, $3) \
                     RETURNING id",
                )
                .bind(uscc.as_str())
                .bind(hex::encode(key_hash))
                .bind(super::shared::now_micros(at))
                .fetch_one(&self.pool)
                .await
                .map_err(|e| classify(e, "agency"))
            }

            async fn revoke_agency_key(
                &self,
                uscc: &$crate::domain::identifiers::Uscc,
                id: i64,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "UPDATE agency_keys SET revoked_at = $1 \
                     WHERE agency = $2 AND id = $3 AND revoked_at IS NULL",
                )
                .bind(super::shared::now_micros(at))
                .bind(uscc.as_str())
                .bind(id)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 1 {
                    return Ok(());
                }
                let exists: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM agency_keys WHERE agency = $1 AND id = $2")
                        .bind(uscc.as_str())
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                match exists {
                    Some(_) => Err(StoreError::Conflict(format!("key {id} is already revoked"))),
                    None => Err(StoreError::NotFound(format!("key {id} of agency {uscc}"))),
                }
            }

            async fn agency_by_key(
                &self,
                key_hash: &[u8; 32],
            ) -> Result<Option<$crate::domain::agency::Agency>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM agencies a JOIN agency_keys k ON k.agency = a.uscc \
                     WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
                    super::people::AGENCY_COLUMNS
                );
                let row: Option<super::people::AgencyRow> = sqlx::query_as(&sql)
                    .bind(hex::encode(key_hash))
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(super::people::decode_agency).transpose()
            }

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
                .bind(super::shared::now_micros(at))
                .bind(super::shared::now_micros(expires_at))
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, "token"))?;
                Ok(())
            }

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
                .bind(super::shared::now_micros(now))
                .fetch_optional(&self.pool)
                .await?;
                holder.as_deref().map(super::issuers::stored).transpose()
            }

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
                .bind(super::shared::now_micros(matter.created_at))
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, "matter"))?;
                Ok(())
            }

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
                row.map(super::people::decode_matter).transpose()
            }

            async fn matters(&self) -> Result<Vec<$crate::domain::matter::Matter>, StoreError> {
                let rows: Vec<(String, String, String, String, DateTime<Utc>)> = sqlx::query_as(
                    "SELECT code, name, agency, requirements, created_at FROM matters ORDER BY code",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(super::people::decode_matter).collect()
            }

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
                    super::people::CONSENT_COLUMNS
                );
                let row: Option<super::people::ConsentRow> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(super::people::decode_consent).transpose()
            }

            async fn holder_consents(
                &self,
                holder: &$crate::domain::identifiers::HolderId,
            ) -> Result<Vec<$crate::domain::consent::Consent>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM consents WHERE holder = $1 ORDER BY created_at DESC, id",
                    super::people::CONSENT_COLUMNS
                );
                let rows: Vec<super::people::ConsentRow> = sqlx::query_as(&sql)
                    .bind(holder.urn())
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(super::people::decode_consent).collect()
            }

            async fn agency_consents(
                &self,
                agency: &$crate::domain::identifiers::Uscc,
                holder: &$crate::domain::identifiers::HolderId,
            ) -> Result<Vec<$crate::domain::consent::Consent>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM consents WHERE agency = $1 AND holder = $2 ORDER BY id",
                    super::people::CONSENT_COLUMNS
                );
                let rows: Vec<super::people::ConsentRow> = sqlx::query_as(&sql)
                    .bind(agency.as_str())
                    .bind(holder.urn())
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(super::people::decode_consent).collect()
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
            ) -> Result<Option<super::people::LicenceRecord>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM licences l JOIN licence_heads h ON h.base = l.base \
                     WHERE l.id = $1",
                    super::people::LICENCE_COLUMNS
                );
                let row: Option<super::people::LicenceRow> = sqlx::query_as(&sql)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(super::people::decode_licence).transpose()
            }

            async fn holder_licences(
                &self,
                holder: &$crate::domain::identifiers::HolderId,
            ) -> Result<Vec<super::people::LicenceRecord>, StoreError> {
                let sql = format!(
                    "SELECT {} FROM licences l JOIN licence_heads h ON h.id = l.id \
                     WHERE l.holder = $1 ORDER BY l.id",
                    super::people::LICENCE_COLUMNS
                );
                let rows: Vec<super::people::LicenceRow> = sqlx::query_as(&sql)
                    .bind(holder.urn())
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(super::people::decode_licence).collect()
            }

            async fn stats_rows(
                &self,
                since: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<super::people::StatsRows, StoreError> {
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
                     FROM applications GROUP BY matter ORDER BY matter",
                )
                .fetch_all(&self.pool)
                .await?;
                let referenced_types = sqlx::query_as(
                    "SELECT type_code, COUNT(*) AS n FROM application_licences \
                     GROUP BY type_code ORDER BY n DESC, type_code LIMIT 10",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(super::people::StatsRows {
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
