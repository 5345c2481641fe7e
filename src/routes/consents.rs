//! Consents: a holder lets an agency read given licences (or types) for a purpose until a time,
//! and withdraws at once. Agencies read under a consent at `GET /v1/agency/licences/{id}`;
//! without one they get 403 `consent_required`, whether or not the licence exists.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{Agency, Holder};
use crate::domain::access::{Channel, NewAccessRecord};
use crate::domain::agency::Scope;
use crate::domain::consent::Consent;
use crate::domain::identifiers::{LicenceId, TypeCode};
use crate::error::ApiError;
use crate::extract::StrictJson;
use crate::state::AppState;
use crate::storage::{held_head, record_access, StoreError};

use super::parse::{parse_time, parse_uscc, text_field};

const MAX_ITEMS: usize = 50;
const READ_ROUTE: &str = "GET /v1/agency/licences/{id}";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/consents", web::post().to(create))
        .route("/v1/consents/{id}", web::delete().to(withdraw))
        .route("/v1/agency/licences/{id}", web::get().to(agency_read));
}

/// Body of `POST /v1/consents`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewConsent {
    /// The agency's USCC.
    agency: String,
    /// The holder's own licences (URN or bare id; every version is covered).
    #[serde(default)]
    licences: Vec<String>,
    /// Licence types: every licence of these types the holder holds.
    #[serde(default)]
    type_codes: Vec<String>,
    purpose: String,
    /// RFC 3339, in the future.
    until: String,
}

/// Grants a consent.
#[utoipa::path(post, path = "/v1/consents", tag = "holder", security(("holder" = [])), request_body = NewConsent, responses(
    (status = 201, description = "the consent"), (status = 400, description = "invalid_uscc, invalid_type_code, invalid_time, invalid_field, nothing_consented"),
    (status = 401, description = "no or wrong holder token"),
    (status = 404, description = "licence_not_found (not this holder's)"), (status = 422, description = "agency_not_found, invalid_window")))]
pub async fn create(
    holder: Holder,
    state: web::Data<AppState>,
    body: StrictJson<NewConsent>,
) -> Result<HttpResponse, ApiError> {
    let request = body.value;
    let agency = parse_uscc(&request.agency, "agency")?;
    let purpose = text_field(Some(request.purpose), "purpose", 500)?
        .ok_or_else(|| ApiError::bad_request("invalid_field", "purpose must not be empty"))?;
    let now = Utc::now();
    let until = until(&request.until, now)?;
    let type_codes = request
        .type_codes
        .iter()
        .map(|t| t.parse::<TypeCode>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::bad_request("invalid_type_code", format!("typeCodes: {e}")))?;
    if (request.licences.is_empty() && type_codes.is_empty())
        || request.licences.len() + type_codes.len() > MAX_ITEMS
    {
        return Err(ApiError::bad_request(
            "nothing_consented",
            format!("name 1 to {MAX_ITEMS} licences or licence types"),
        ));
    }
    let licences = own_licences(&state, &holder, &request.licences).await?;
    if state.store.agency(&agency).await?.is_none() {
        return Err(ApiError::unprocessable(
            "agency_not_found",
            format!("no agency {agency}"),
        ));
    }
    let consent = Consent {
        id: uuid::Uuid::new_v4().to_string(),
        holder: holder.id,
        agency,
        licences,
        type_codes,
        purpose,
        valid_until: until,
        created_at: now,
        withdrawn_at: None,
    };
    state.store.insert_consent(&consent).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", "/v1/holder/consents"))
        .json(present(&consent, now)))
}

fn until(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let until = parse_time(Some(text), "until")?
        .ok_or_else(|| ApiError::bad_request("invalid_time", "until is required"))?;
    if until <= now {
        return Err(ApiError::unprocessable(
            "invalid_window",
            "until must be in the future",
        ));
    }
    Ok(until)
}

/// Parses the named licences, each of which must be this holder's (404 otherwise, as for one
/// that does not exist).
async fn own_licences(
    state: &AppState,
    holder: &Holder,
    texts: &[String],
) -> Result<Vec<LicenceId>, ApiError> {
    let mut ids = Vec::with_capacity(texts.len());
    for text in texts {
        let not_found =
            || ApiError::not_found("licence_not_found", "no such licence of this holder");
        let id = LicenceId::parse_reference(text)
            .ok()
            .ok_or_else(not_found)?;
        let record = state.store.licence_record(&id).await?;
        if record.is_none_or(|r| r.holder != holder.id) {
            return Err(not_found());
        }
        ids.push(id);
    }
    Ok(ids)
}

/// Withdraws a consent at once.
#[utoipa::path(delete, path = "/v1/consents/{id}", tag = "holder", security(("holder" = [])),
    params(("id" = String, Path, description = "consent id")), responses(
    (status = 200, description = "the withdrawn consent"), (status = 401, description = "no or wrong holder token"),
    (status = 404, description = "consent_not_found (also another holder's)"), (status = 409, description = "consent_withdrawn")))]
pub async fn withdraw(
    holder: Holder,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let consent = withdraw_as(&state, &holder.id, &id).await?;
    Ok(HttpResponse::Ok().json(present(&consent, Utc::now())))
}

/// Withdraws consent `id` of `holder` (the API's and the holder page's one way): 404 for
/// another holder's consent as for none, 409 `consent_withdrawn` when it already is.
pub async fn withdraw_as(
    state: &AppState,
    holder: &crate::domain::identifiers::HolderId,
    id: &str,
) -> Result<Consent, ApiError> {
    let not_found = || {
        ApiError::not_found(
            "consent_not_found",
            format!("no consent {id} of this holder"),
        )
    };
    let consent = state
        .store
        .consent(id)
        .await?
        .filter(|c| c.holder == *holder)
        .ok_or_else(not_found)?;
    state
        .store
        .withdraw_consent(&consent.id, Utc::now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ApiError::conflict("consent_withdrawn", "the consent is already withdrawn")
            }
            other => other.into(),
        })?;
    state.store.consent(id).await?.ok_or_else(not_found)
}

/// An agency reads a licence under a consent in force (scope `read`).
#[utoipa::path(get, path = "/v1/agency/licences/{id}", tag = "applications", security(("agency" = [])),
    params(("id" = String, Path, description = "licence id or URN")), responses(
    (status = 200, description = "`{licence, status, consent, credential}`: the head version"),
    (status = 401, description = "no or wrong agency key"),
    (status = 403, description = "scope_missing; consent_required (also when no such licence exists)")))]
pub async fn agency_read(
    agency: Agency,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    agency.require(Scope::Read)?;
    let refused = || {
        ApiError::forbidden(
            "consent_required",
            "no consent of the holder covers this licence",
        )
    };
    let id = LicenceId::parse_reference(&id).ok().ok_or_else(refused)?;
    let record = state.store.licence_record(&id).await?.ok_or_else(refused)?;
    let now = Utc::now();
    let consent = state
        .store
        .agency_consents(agency.uscc(), &record.holder)
        .await?
        .into_iter()
        .find(|c| c.permits(agency.uscc(), &id, now))
        .ok_or_else(refused)?;
    // The consent is the record's holder's: a head naming anyone else is not read.
    let head = held_head(state.store.as_ref(), &record)
        .await?
        .ok_or_else(refused)?;
    let entry = NewAccessRecord {
        channel: Channel::AgencyRead,
        agency: Some(agency.uscc().clone()),
        holder: Some(record.holder.clone()),
        licence: Some(head.id.urn()),
        purpose: consent.purpose.clone(),
        route: READ_ROUTE.to_owned(),
        result: "read".to_owned(),
        application: None,
    };
    record_access(state.store.as_ref(), entry).await?;
    Ok(HttpResponse::Ok().json(json!({
        "licence": head.id.urn(), "status": super::holder::status(&head, now),
        "consent": consent.id, "credential": head.document,
    })))
}

/// The API form of a consent: the stored fields and its state now.
pub(crate) fn present(consent: &Consent, now: DateTime<Utc>) -> Value {
    let mut value = serde_json::to_value(consent).unwrap_or(Value::Null);
    value["licences"] = consent.licences.iter().map(|l| json!(l.urn())).collect();
    value["state"] = json!(consent.state(now));
    value
}
