//! Issuers: operator accreditation (registration, keys, suspension, read tokens) and the public
//! issuer record.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{random_token, Operator};
use crate::crypto::digest::sha256;
use crate::crypto::keys::parse_public_key;
use crate::crypto::multikey;
use crate::domain::did::key_id;
use crate::domain::identifiers::Uscc;
use crate::domain::issuer::{issuer_did, Issuer, IssuerKey, IssuerStatus, RevocationRefused};
use crate::error::ApiError;
use crate::extract::{OptionalJson, StrictJson};
use crate::state::AppState;
use crate::storage::StoreError;

use super::parse::{check_window, parse_time, parse_uscc, text_field};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/issuers", web::post().to(create))
        .route("/v1/issuers/{uscc}", web::get().to(show))
        .route("/v1/issuers/{uscc}/keys", web::post().to(add_key))
        .route(
            "/v1/issuers/{uscc}/keys/{key}/revoke",
            web::post().to(revoke_key),
        )
        .route("/v1/issuers/{uscc}/suspend", web::post().to(suspend))
        .route("/v1/issuers/{uscc}/reinstate", web::post().to(reinstate))
        .route("/v1/issuers/{uscc}/tokens", web::post().to(create_token));
}

/// Body of `POST /v1/issuers`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewIssuer {
    /// The issuer's unified social credit code (18 characters).
    uscc: String,
    name: String,
    /// Business contact (published with the issuer).
    contact: Option<String>,
}

/// Registers an issuer (status active, no keys yet).
#[utoipa::path(post, path = "/v1/issuers", tag = "issuers", security(("operator" = [])), request_body = NewIssuer, responses(
    (status = 201, description = "registered"), (status = 400, description = "invalid USCC or field"),
    (status = 401, description = "no or wrong operator token"), (status = 409, description = "issuer_exists")))]
pub async fn create(
    _: Operator,
    state: web::Data<AppState>,
    body: StrictJson<NewIssuer>,
) -> Result<HttpResponse, ApiError> {
    let request = body.value;
    let uscc = parse_uscc(&request.uscc, "uscc")?;
    let name = text_field(Some(request.name), "name", 200)?
        .ok_or_else(|| ApiError::bad_request("invalid_field", "name must not be empty"))?;
    let contact = text_field(request.contact, "contact", 200)?;
    state
        .store
        .insert_issuer(&uscc, &name, contact.as_deref(), Utc::now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict(
                "issuer_exists",
                format!("issuer {uscc} is already registered"),
            ),
            other => other.into(),
        })?;
    let issuer = fetch(&state, &uscc).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/issuers/{uscc}")))
        .json(present(&issuer, &state)))
}

/// The public record of an issuer: name, contact, status, every key with its window and
/// revocation.
#[utoipa::path(get, path = "/v1/issuers/{uscc}", tag = "issuers", params(("uscc" = String, Path, description = "issuer USCC")), responses(
    (status = 200, description = "the issuer"), (status = 400, description = "invalid_uscc"), (status = 404, description = "issuer_not_found")))]
pub async fn show(
    state: web::Data<AppState>,
    uscc: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let uscc = parse_uscc(&uscc, "path")?;
    Ok(HttpResponse::Ok().json(present(&fetch(&state, &uscc).await?, &state)))
}

/// Body of `POST /v1/issuers/{uscc}/keys`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewKey {
    /// Ed25519 public key: a Multikey (`z6Mk…`) or an SPKI PEM block.
    public_key: String,
    /// RFC 3339; defaults to now.
    valid_from: Option<String>,
    /// RFC 3339; after `validFrom`. Absent: open-ended.
    valid_until: Option<String>,
}

/// Adds an Ed25519 key to an issuer.
#[utoipa::path(post, path = "/v1/issuers/{uscc}/keys", tag = "issuers", security(("operator" = [])), request_body = NewKey,
    params(("uscc" = String, Path, description = "issuer USCC")), responses(
    (status = 201, description = "key added"), (status = 400, description = "invalid_public_key, invalid_time"),
    (status = 404, description = "issuer_not_found"), (status = 409, description = "key_exists"),
    (status = 422, description = "invalid_window")))]
pub async fn add_key(
    _: Operator,
    state: web::Data<AppState>,
    uscc: web::Path<String>,
    body: StrictJson<NewKey>,
) -> Result<HttpResponse, ApiError> {
    let uscc = parse_uscc(&uscc, "path")?;
    let request = body.value;
    let public = parse_public_key(&request.public_key)
        .map_err(|e| ApiError::bad_request("invalid_public_key", e.to_string()))?;
    let now = crate::domain::time::now_in_seconds();
    let valid_from = parse_time(request.valid_from.as_deref(), "validFrom")?.unwrap_or(now);
    let valid_until = parse_time(request.valid_until.as_deref(), "validUntil")?;
    check_window(valid_from, valid_until)?;
    fetch(&state, &uscc).await?;
    let key = IssuerKey {
        multikey: multikey::encode(&public),
        valid_from,
        valid_until,
        revoked_at: None,
        compromised_since: None,
        created_at: now,
    };
    state
        .store
        .add_issuer_key(&uscc, &key)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict(
                "key_exists",
                format!("key {} is already registered", key.multikey),
            ),
            other => other.into(),
        })?;
    let issuer = fetch(&state, &uscc).await?;
    let key = issuer.key(&key.multikey).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("key missing right after it was added"))
    })?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/issuers/{uscc}")))
        .json(present_key(key, &did(&state, &uscc)?, now)))
}

/// Body of `POST …/keys/{key}/revoke`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevokeKey {
    /// RFC 3339; defaults to now. Signatures made from then on are void.
    revoked_at: Option<String>,
    /// RFC 3339: signatures made at or after this time are void, even those accepted earlier.
    /// May be added later to a key already revoked.
    compromised_since: Option<String>,
    reason: Option<String>,
}

/// Revokes an issuer key, optionally marking it compromised since a time.
#[utoipa::path(post, path = "/v1/issuers/{uscc}/keys/{key}/revoke", tag = "issuers", security(("operator" = [])), request_body(content = Option<RevokeKey>, description = "optional; an empty body revokes now"),
    params(("uscc" = String, Path, description = "issuer USCC"), ("key" = String, Path, description = "the key's Multikey")), responses(
    (status = 200, description = "revoked"), (status = 400, description = "invalid_time"),
    (status = 404, description = "issuer_not_found, key_not_found"), (status = 409, description = "key_already_revoked"),
    (status = 422, description = "invalid_window")))]
pub async fn revoke_key(
    _: Operator,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: OptionalJson<RevokeKey>,
) -> Result<HttpResponse, ApiError> {
    let (uscc, multikey) = path.into_inner();
    let uscc = parse_uscc(&uscc, "path")?;
    let request = body.0;
    // Whole seconds, rounded down: a signature dated the second of the revocation is void.
    let now = crate::domain::time::now_in_seconds();
    let revoked_at = parse_time(request.revoked_at.as_deref(), "revokedAt")?;
    let compromised_since = parse_time(request.compromised_since.as_deref(), "compromisedSince")?;
    let reason = text_field(request.reason, "reason", 500)?;
    let issuer = fetch(&state, &uscc).await?;
    let key = issuer.key(&multikey).ok_or_else(|| {
        ApiError::not_found(
            "key_not_found",
            format!("issuer {uscc} has no key {multikey}"),
        )
    })?;
    let effective = key
        .revocation_time(revoked_at, compromised_since, now)
        .map_err(|e| match e {
            RevocationRefused::AlreadyRevoked { at } => already_revoked(&multikey, at),
            other => ApiError::unprocessable("invalid_window", other.to_string()),
        })?;
    state
        .store
        .revoke_issuer_key(
            &uscc,
            &multikey,
            effective,
            compromised_since,
            reason.as_deref(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => already_revoked(&multikey, effective),
            other => other.into(),
        })?;
    let issuer = fetch(&state, &uscc).await?;
    let key = issuer.key(&multikey).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("key missing right after it was revoked"))
    })?;
    Ok(HttpResponse::Ok().json(present_key(key, &did(&state, &uscc)?, now)))
}

fn already_revoked(multikey: &str, at: DateTime<Utc>) -> ApiError {
    ApiError::conflict(
        "key_already_revoked",
        format!("key {multikey} is already revoked"),
    )
    .with("revokedAt", json!(at))
}

/// Suspends an issuer: it may submit nothing until reinstated.
#[utoipa::path(post, path = "/v1/issuers/{uscc}/suspend", tag = "issuers", security(("operator" = [])),
    params(("uscc" = String, Path, description = "issuer USCC")), responses(
    (status = 200, description = "suspended"), (status = 404, description = "issuer_not_found"),
    (status = 409, description = "issuer_already_suspended")))]
pub async fn suspend(
    _: Operator,
    state: web::Data<AppState>,
    uscc: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change_status(&state, &uscc, IssuerStatus::Suspended).await
}

/// Reinstates a suspended issuer.
#[utoipa::path(post, path = "/v1/issuers/{uscc}/reinstate", tag = "issuers", security(("operator" = [])),
    params(("uscc" = String, Path, description = "issuer USCC")), responses(
    (status = 200, description = "active again"), (status = 404, description = "issuer_not_found"),
    (status = 409, description = "issuer_not_suspended")))]
pub async fn reinstate(
    _: Operator,
    state: web::Data<AppState>,
    uscc: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change_status(&state, &uscc, IssuerStatus::Active).await
}

async fn change_status(
    state: &AppState,
    uscc: &str,
    to: IssuerStatus,
) -> Result<HttpResponse, ApiError> {
    let uscc = parse_uscc(uscc, "path")?;
    let issuer = fetch(state, &uscc).await?;
    if issuer.status == to {
        return Err(match to {
            IssuerStatus::Suspended => ApiError::conflict(
                "issuer_already_suspended",
                format!("issuer {uscc} is already suspended"),
            ),
            IssuerStatus::Active => ApiError::conflict(
                "issuer_not_suspended",
                format!("issuer {uscc} is not suspended"),
            ),
        });
    }
    state.store.set_issuer_status(&uscc, to, Utc::now()).await?;
    Ok(HttpResponse::Ok().json(present(&fetch(state, &uscc).await?, state)))
}

/// Creates a read token for the issuer. The token is answered once; only its hash is kept.
#[utoipa::path(post, path = "/v1/issuers/{uscc}/tokens", tag = "issuers", security(("operator" = [])),
    params(("uscc" = String, Path, description = "issuer USCC")), responses(
    (status = 201, description = "{issuer, token}: the token is shown only this once"),
    (status = 404, description = "issuer_not_found")))]
pub async fn create_token(
    _: Operator,
    state: web::Data<AppState>,
    uscc: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let uscc = parse_uscc(&uscc, "path")?;
    fetch(&state, &uscc).await?;
    let token = random_token();
    state
        .store
        .insert_issuer_token(&uscc, &sha256(token.as_bytes()), Utc::now())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({"issuer": uscc, "token": token})))
}

pub(crate) async fn fetch(state: &AppState, uscc: &Uscc) -> Result<Issuer, ApiError> {
    state
        .store
        .issuer(uscc)
        .await?
        .ok_or_else(|| ApiError::not_found("issuer_not_found", format!("no issuer {uscc}")))
}

/// The issuer's did:web DID on this registry.
pub(crate) fn did(state: &AppState, uscc: &Uscc) -> Result<String, ApiError> {
    let host = state
        .settings
        .did_web_host()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("public URL has no did:web host")))?;
    Ok(issuer_did(&host, uscc))
}

/// The API form of an issuer: the stored record, its DID, and each key's DID URL.
fn present(issuer: &Issuer, state: &AppState) -> Value {
    let mut value = serde_json::to_value(issuer).unwrap_or(Value::Null);
    let Ok(did) = did(state, &issuer.uscc) else {
        return value;
    };
    let now = Utc::now();
    value["keys"] = issuer
        .keys
        .iter()
        .map(|k| present_key(k, &did, now))
        .collect();
    value["didDocument"] = json!(format!(
        "{}/issuers/{}/did.json",
        state.settings.public_base(),
        issuer.uscc
    ));
    value["did"] = json!(did);
    value
}

fn present_key(key: &IssuerKey, did: &str, now: DateTime<Utc>) -> Value {
    let mut value = serde_json::to_value(key).unwrap_or(Value::Null);
    value["id"] = json!(key_id(did, &key.multikey));
    value["current"] = json!(key.is_current(now));
    value
}
