//! Principals the operator registers: agencies with scoped API keys (answered once; rotated by
//! adding a key and revoking the old one) and holder tokens, for which the operator stands in
//! for the province's identity provider.

use actix_web::{web, HttpResponse};
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{random_token, Operator};
use crate::crypto::digest::sha256;
use crate::domain::agency::{Agency, Scope};
use crate::domain::identifiers::HolderId;
use crate::error::ApiError;
use crate::extract::{OptionalJson, StrictJson};
use crate::state::AppState;
use crate::storage::StoreError;

use super::parse::{parse_uscc, text_field};

/// Default and longest life of a holder token.
const HOLDER_TOKEN_SECONDS: i64 = 24 * 3600;
const HOLDER_TOKEN_MAX_SECONDS: i64 = 30 * 24 * 3600;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/agencies", web::post().to(create))
        .route("/v1/agencies/{uscc}", web::get().to(show))
        .route("/v1/agencies/{uscc}/keys", web::post().to(add_key))
        .route(
            "/v1/agencies/{uscc}/keys/{id}/revoke",
            web::post().to(revoke_key),
        )
        .route("/v1/holders/{holder}/tokens", web::post().to(holder_token));
}

/// Body of `POST /v1/agencies`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAgency {
    uscc: String,
    name: String,
    /// Administrative division code or prefix the agency serves.
    jurisdiction: String,
    /// Any of `verify`, `applications`, `read`.
    scopes: Vec<String>,
}

/// Registers an agency and answers its first API key, once.
#[utoipa::path(post, path = "/v1/agencies", tag = "agencies", security(("operator" = [])), request_body = NewAgency, responses(
    (status = 201, description = "the agency and `apiKey` (shown only this once)"),
    (status = 400, description = "invalid_uscc, invalid_jurisdiction, invalid_scope, invalid_field"),
    (status = 401, description = "no or wrong operator token"), (status = 409, description = "agency_exists")))]
pub async fn create(
    _: Operator,
    state: web::Data<AppState>,
    body: StrictJson<NewAgency>,
) -> Result<HttpResponse, ApiError> {
    let request = body.value;
    let uscc = parse_uscc(&request.uscc, "uscc")?;
    let name = text_field(Some(request.name), "name", 200)?
        .ok_or_else(|| ApiError::bad_request("invalid_field", "name must not be empty"))?;
    let jurisdiction = request
        .jurisdiction
        .parse()
        .map_err(|e| ApiError::bad_request("invalid_jurisdiction", format!("jurisdiction: {e}")))?;
    let mut scopes = request
        .scopes
        .iter()
        .map(|s| s.parse::<Scope>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::bad_request("invalid_scope", e))?;
    scopes.sort();
    scopes.dedup();
    let agency = Agency {
        uscc,
        name,
        jurisdiction,
        scopes,
        created_at: Utc::now(),
    };
    let key = random_token();
    let key_id = state
        .store
        .insert_agency(&agency, &sha256(key.as_bytes()))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict(
                "agency_exists",
                format!("agency {} is already registered", agency.uscc),
            ),
            other => other.into(),
        })?;
    let mut value = serde_json::to_value(&agency).map_err(|e| ApiError::Internal(e.into()))?;
    value["apiKey"] = json!(key);
    value["keyId"] = json!(key_id);
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/agencies/{}", agency.uscc)))
        .insert_header(("Cache-Control", "no-store"))
        .json(value))
}

/// An agency with its keys (never their secrets).
#[utoipa::path(get, path = "/v1/agencies/{uscc}", tag = "agencies", security(("operator" = [])),
    params(("uscc" = String, Path, description = "agency USCC")), responses(
    (status = 200, description = "the agency and its keys"), (status = 404, description = "agency_not_found")))]
pub async fn show(
    _: Operator,
    state: web::Data<AppState>,
    uscc: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let uscc = parse_uscc(&uscc, "path")?;
    let agency = fetch(&state, &uscc).await?;
    let mut value = serde_json::to_value(&agency).map_err(|e| ApiError::Internal(e.into()))?;
    value["keys"] = json!(state.store.agency_keys(&uscc).await?);
    Ok(HttpResponse::Ok().json(value))
}

/// Adds an API key (rotation: add, deploy, then revoke the old one); answers it once.
#[utoipa::path(post, path = "/v1/agencies/{uscc}/keys", tag = "agencies", security(("operator" = [])),
    params(("uscc" = String, Path, description = "agency USCC")), responses(
    (status = 201, description = "`{agency, keyId, apiKey}`, the key shown only this once"),
    (status = 404, description = "agency_not_found")))]
pub async fn add_key(
    _: Operator,
    state: web::Data<AppState>,
    uscc: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let uscc = parse_uscc(&uscc, "path")?;
    fetch(&state, &uscc).await?;
    let key = random_token();
    let id = state
        .store
        .insert_agency_key(&uscc, &sha256(key.as_bytes()), Utc::now())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({"agency": uscc, "keyId": id, "apiKey": key})))
}

/// Revokes an API key at once.
#[utoipa::path(post, path = "/v1/agencies/{uscc}/keys/{id}/revoke", tag = "agencies", security(("operator" = [])),
    params(("uscc" = String, Path, description = "agency USCC"), ("id" = i64, Path, description = "key id")), responses(
    (status = 200, description = "revoked"), (status = 404, description = "agency_not_found, key_not_found"),
    (status = 409, description = "key_already_revoked")))]
pub async fn revoke_key(
    _: Operator,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (uscc, id) = path.into_inner();
    let uscc = parse_uscc(&uscc, "path")?;
    let not_found =
        || ApiError::not_found("key_not_found", format!("agency {uscc} has no key {id}"));
    let id: i64 = id.parse().map_err(|_| not_found())?;
    fetch(&state, &uscc).await?;
    state
        .store
        .revoke_agency_key(&uscc, id, Utc::now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict(
                "key_already_revoked",
                format!("key {id} is already revoked"),
            ),
            StoreError::NotFound(_) => not_found(),
            other => other.into(),
        })?;
    Ok(HttpResponse::Ok()
        .json(json!({"agency": uscc, "keys": state.store.agency_keys(&uscc).await?})))
}

/// Body of `POST /v1/holders/{holder id}/tokens`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewHolderToken {
    /// Lifetime in seconds: default a day, at most 30 days.
    valid_for_seconds: Option<i64>,
}

/// Answers a holder token for a resident ID number or a USCC (bare or as a URN), once.
#[utoipa::path(post, path = "/v1/holders/{holder}/tokens", tag = "holders", security(("operator" = [])),
    request_body(content = Option<NewHolderToken>, description = "optional; an empty body takes the defaults"),
    params(("holder" = String, Path, description = "resident ID, USCC, or their urn:cn: URN")), responses(
    (status = 201, description = "`{holder, token, expiresAt}`, the token shown only this once"),
    (status = 400, description = "invalid_holder, invalid_field")))]
pub async fn holder_token(
    _: Operator,
    state: web::Data<AppState>,
    holder: web::Path<String>,
    body: OptionalJson<NewHolderToken>,
) -> Result<HttpResponse, ApiError> {
    let holder = parse_holder(&holder)?;
    let seconds = body.0.valid_for_seconds.unwrap_or(HOLDER_TOKEN_SECONDS);
    if !(1..=HOLDER_TOKEN_MAX_SECONDS).contains(&seconds) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("validForSeconds: 1 to {HOLDER_TOKEN_MAX_SECONDS}"),
        ));
    }
    let now = Utc::now();
    let expires_at = now + Duration::seconds(seconds);
    let token = random_token();
    state
        .store
        .insert_holder_token(&holder, &sha256(token.as_bytes()), now, expires_at)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({"holder": holder, "token": token, "expiresAt": expires_at})))
}

/// Parses a holder id given as a URN or as a bare resident ID / USCC.
pub(crate) fn parse_holder(text: &str) -> Result<HolderId, ApiError> {
    let parsed = if text.starts_with("urn:") {
        HolderId::from_urn(text)
    } else {
        HolderId::parse_bare(text)
    };
    parsed.map_err(|e| ApiError::bad_request("invalid_holder", format!("holder: {e}")))
}

pub(crate) async fn fetch(
    state: &AppState,
    uscc: &crate::domain::identifiers::Uscc,
) -> Result<Agency, ApiError> {
    state
        .store
        .agency(uscc)
        .await?
        .ok_or_else(|| ApiError::not_found("agency_not_found", format!("no agency {uscc}")))
}
