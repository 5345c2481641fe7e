//! Authorisations: the operator grants an issuer licence types in a jurisdiction for a window,
//! and withdraws grants. Nothing is deleted; a re-grant is a new authorisation.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::issuers::fetch as fetch_issuer;
use super::licence_types::parse_code;
use super::parse::{check_window, parse_time, parse_uscc, text_field};
use crate::auth::{Operator, OperatorOrIssuer};
use crate::domain::authorisation::Authorisation;
use crate::domain::identifiers::{JurisdictionScope, TypeCode, Uscc};
use crate::domain::licence_type::TypeStatus;
use crate::error::ApiError;
use crate::extract::{OptionalJson, StrictJson};
use crate::state::AppState;
use crate::storage::StoreError;

/// Most licence types one grant may name.
const MAX_TYPES: usize = 100;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/authorisations", web::post().to(create))
        .route("/v1/authorisations", web::get().to(list))
        .route("/v1/authorisations/{id}/withdraw", web::post().to(withdraw));
}

/// Body of `POST /v1/authorisations`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAuthorisation {
    /// The issuer's USCC.
    issuer: String,
    /// Licence-type codes, each in the directory.
    type_codes: Vec<String>,
    /// Administrative division code or prefix: 2, 4 or 6 digits.
    jurisdiction: String,
    /// RFC 3339.
    valid_from: String,
    /// RFC 3339, after `validFrom`; absent: until withdrawn.
    valid_until: Option<String>,
    /// The granting competent authority's USCC.
    granted_by: String,
}

/// Grants an issuer licence types in a jurisdiction for a window.
#[utoipa::path(post, path = "/v1/authorisations", tag = "authorisations", security(("operator" = [])), request_body = NewAuthorisation, responses(
    (status = 201, description = "granted"),
    (status = 400, description = "invalid_uscc, invalid_type_code, invalid_jurisdiction, invalid_time, invalid_field"),
    (status = 404, description = "issuer_not_found"),
    (status = 422, description = "invalid_window, unknown_type_code, type_deprecated, grantor_not_competent")))]
pub async fn create(
    _: Operator,
    state: web::Data<AppState>,
    body: StrictJson<NewAuthorisation>,
) -> Result<HttpResponse, ApiError> {
    let request = body.value;
    let issuer = parse_uscc(&request.issuer, "issuer")?;
    let granted_by = parse_uscc(&request.granted_by, "grantedBy")?;
    let type_codes = parse_codes(&request.type_codes)?;
    let jurisdiction: JurisdictionScope = request
        .jurisdiction
        .parse()
        .map_err(|e| ApiError::bad_request("invalid_jurisdiction", format!("jurisdiction: {e}")))?;
    let valid_from = parse_time(Some(&request.valid_from), "validFrom")?
        .ok_or_else(|| ApiError::bad_request("invalid_time", "validFrom is required"))?;
    let valid_until = parse_time(request.valid_until.as_deref(), "validUntil")?;
    check_window(valid_from, valid_until)?;
    fetch_issuer(&state, &issuer).await?;
    check_types(&state, &type_codes, &granted_by, valid_from).await?;
    let grant = Authorisation {
        id: uuid::Uuid::new_v4().to_string(),
        issuer,
        type_codes,
        jurisdiction,
        valid_from,
        valid_until,
        granted_by,
        granted_at: Utc::now(),
        withdrawn_at: None,
        withdrawal_reason: None,
    };
    state.store.insert_authorisation(&grant).await?;
    let stored = fetch(&state, &grant.id).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/authorisations/{}", grant.id)))
        .json(present(&stored)))
}

/// Body of `POST /v1/authorisations/{id}/withdraw` (may be empty).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Withdrawal {
    /// RFC 3339; defaults to now. From then on the grant covers nothing.
    at: Option<String>,
    reason: Option<String>,
}

/// Withdraws a grant. It stays on record; licences dated before the withdrawal stay covered.
#[utoipa::path(post, path = "/v1/authorisations/{id}/withdraw", tag = "authorisations", security(("operator" = [])), request_body(content = Option<Withdrawal>, description = "optional; an empty body withdraws now"),
    params(("id" = String, Path, description = "authorisation id")), responses(
    (status = 200, description = "withdrawn"), (status = 400, description = "invalid_time, invalid_field"),
    (status = 404, description = "authorisation_not_found"), (status = 409, description = "authorisation_withdrawn")))]
pub async fn withdraw(
    _: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: OptionalJson<Withdrawal>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let at = parse_time(request.at.as_deref(), "at")?
        .unwrap_or_else(crate::domain::time::now_in_seconds);
    let reason = text_field(request.reason, "reason", 500)?;
    let current = fetch(&state, &id).await?;
    if let Some(when) = current.withdrawn_at {
        return Err(already_withdrawn(&current.id, when));
    }
    state
        .store
        .withdraw_authorisation(&current.id, at, reason.as_deref())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => already_withdrawn(&current.id, at),
            other => other.into(),
        })?;
    Ok(HttpResponse::Ok().json(present(&fetch(&state, &current.id).await?)))
}

/// Query of `GET /v1/authorisations`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this issuer's grants. An issuer token reads only its own (the default for it).
    issuer: Option<String>,
}

/// Every grant, withdrawn and expired ones included, oldest first.
#[utoipa::path(get, path = "/v1/authorisations", tag = "authorisations", security(("operator" = []), ("issuer" = [])), params(ListQuery), responses(
    (status = 200, description = "{items: [...]}"), (status = 400, description = "invalid_uscc"),
    (status = 401, description = "no or wrong token"), (status = 403, description = "another issuer's grants"),
    (status = 404, description = "issuer_not_found")))]
pub async fn list(
    caller: OperatorOrIssuer,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let issuer = match (&query.issuer, &caller) {
        (Some(text), _) => Some(parse_uscc(text, "issuer")?),
        (None, OperatorOrIssuer::Issuer(own)) => Some(own.clone()),
        (None, OperatorOrIssuer::Operator) => None,
    };
    if let Some(issuer) = &issuer {
        caller.may_read(issuer)?;
        fetch_issuer(&state, issuer).await?;
    }
    let items: Vec<Value> = state
        .store
        .authorisations(issuer.as_ref())
        .await?
        .iter()
        .map(present)
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

/// Parses the type codes: at least one, at most [`MAX_TYPES`], no repeats.
fn parse_codes(texts: &[String]) -> Result<Vec<TypeCode>, ApiError> {
    if texts.is_empty() || texts.len() > MAX_TYPES {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("typeCodes: between 1 and {MAX_TYPES} codes"),
        ));
    }
    let mut codes: Vec<TypeCode> = Vec::with_capacity(texts.len());
    for text in texts {
        let code = parse_code(text)?;
        if codes.contains(&code) {
            return Err(ApiError::bad_request(
                "invalid_field",
                format!("typeCodes: {code} is listed twice"),
            ));
        }
        codes.push(code);
    }
    Ok(codes)
}

/// Refuses codes not in the directory, deprecated types (they take no new licences), and a
/// grantor that is not each type's competent authority at the grant's start
/// (`grantor_not_competent`): its defining authority, or the one a transfer moved it to.
async fn check_types(
    state: &AppState,
    codes: &[TypeCode],
    granted_by: &Uscc,
    valid_from: DateTime<Utc>,
) -> Result<(), ApiError> {
    for code in codes {
        match state.store.licence_type(code).await? {
            None => {
                return Err(ApiError::unprocessable(
                    "unknown_type_code",
                    format!("no licence type {code} in the directory"),
                )
                .with("typeCode", json!(code)))
            }
            Some(t) if t.status == TypeStatus::Deprecated => {
                return Err(ApiError::unprocessable(
                    "type_deprecated",
                    format!("licence type {code} is deprecated"),
                )
                .with("typeCode", json!(code)))
            }
            Some(t) if t.competent_authority_at(valid_from) != granted_by => {
                return Err(ApiError::unprocessable(
                    "grantor_not_competent",
                    format!(
                        "grantedBy must be the competent authority of {code} at validFrom: {}",
                        t.competent_authority_at(valid_from)
                    ),
                )
                .with("typeCode", json!(code)))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

async fn fetch(state: &AppState, id: &str) -> Result<Authorisation, ApiError> {
    let not_found = || {
        ApiError::not_found(
            "authorisation_not_found",
            format!("no authorisation {id:.64}"),
        )
    };
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(not_found());
    }
    state.store.authorisation(id).await?.ok_or_else(not_found)
}

fn already_withdrawn(id: &str, at: DateTime<Utc>) -> ApiError {
    ApiError::conflict(
        "authorisation_withdrawn",
        format!("authorisation {id} is already withdrawn"),
    )
    .with("withdrawnAt", json!(at))
}

/// The API form of a grant: the record plus where it stands now.
fn present(grant: &Authorisation) -> Value {
    let mut value = serde_json::to_value(grant).unwrap_or(Value::Null);
    value["status"] = json!(grant.status_at(Utc::now()).as_str());
    value
}
