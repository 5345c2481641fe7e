//! The W3C VC-API (`POST /credentials/issue`, `POST /credentials/verify`) for interoperability
//! testing: the request and response shapes the W3C vc-di-eddsa test suite relies on. The logic
//! lives in [`crate::vcapi`]; these handlers parse, call it and answer.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};

use crate::auth::VcApiClient;
use crate::domain::identifiers::Uscc;
use crate::domain::issuer::IssuerKey;
use crate::error::ApiError;
use crate::extract::StrictJson;
use crate::state::AppState;
use crate::vcapi::{self, IssueRequest, VcApiError, VerifyRequest};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/credentials/issue", web::post().to(issue))
        .route("/credentials/verify", web::post().to(verify));
}

/// Issues a credential with the registry-hosted interoperability key (`did:key`, eddsa-jcs-2022).
///
/// Only for the operator and the configured VC-API client (unless the operator opened it to
/// anyone), at a limited rate per client address.
#[utoipa::path(post, path = "/credentials/issue", tag = "vc-api", operation_id = "vcapi_issue",
    security(("operator" = []), ("vcapi_client" = [])), request_body = crate::routes::openapi_bodies::VcIssueDoc, responses(
    (status = 201, description = "`{verifiableCredential}`: the credential, completed and signed"),
    (status = 400, description = "not `{credential, options?}`, no credentialSubject, or invalid options.created"),
    (status = 401, description = "missing_token: no token (the route is not open); invalid_token"),
    (status = 422, description = "the credential already carries a proof"),
    (status = 429, description = "rate_limited: too many credentials from this address; see Retry-After")))]
pub async fn issue(
    _: VcApiClient,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: StrictJson<Value>,
) -> Result<HttpResponse, ApiError> {
    if let Some(client) = req.peer_addr() {
        if let Err(wait) = state.vcapi_limiter.check(client.ip(), 1) {
            return Ok(crate::error::rate_limited(wait));
        }
    }
    let request = IssueRequest::try_from(body.value).map_err(api_error)?;
    let credential = vcapi::issue(request, &state.vcapi_key, Utc::now()).map_err(api_error)?;
    Ok(HttpResponse::Created().json(json!({ "verifiableCredential": credential })))
}

/// Verifies every Data Integrity proof (eddsa-jcs-2022) of a credential.
#[utoipa::path(post, path = "/credentials/verify", tag = "vc-api", operation_id = "vcapi_verify",
    request_body = crate::routes::openapi_bodies::VcVerifyDoc, responses(
    (status = 200, description = "`{verified: true, checks: [\"proof\"], warnings: [], errors: []}`"),
    (status = 400, description = "not `{verifiableCredential, options?}`, or the credential is not an object (`verified: false`)"),
    (status = 422, description = "a proof does not verify (`verified: false` and the reason's code)")))]
pub async fn verify(
    state: web::Data<AppState>,
    body: Result<StrictJson<Value>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let unverified = |e: ApiError| e.with("verified", json!(false));
    let body = body.map_err(unverified)?;
    let request = VerifyRequest::try_from(body.value)
        .map_err(api_error)
        .map_err(unverified)?;
    let host = state.settings.did_web_host();
    let lookup = |uscc, multikey| registry_key_lookup(&state, uscc, multikey);
    vcapi::verify(&request, host.as_deref(), Utc::now(), lookup)
        .await
        .map_err(api_error)
        .map_err(unverified)?;
    Ok(HttpResponse::Ok().json(json!({
        "verified": true,
        "checks": ["proof"],
        "warnings": [],
        "errors": [],
    })))
}

/// Adapter from the issuer store to [`vcapi::verify`]'s key lookup: the registry issuer's key
/// with this Multikey, whatever its state (the caller judges its window at `proof.created`).
async fn registry_key_lookup(
    state: &AppState,
    uscc: Uscc,
    multikey: String,
) -> Result<Option<IssuerKey>, VcApiError> {
    let issuer = state
        .store
        .issuer(&uscc)
        .await
        .map_err(|e| VcApiError::Lookup(e.into()))?;
    Ok(issuer.and_then(|issuer| issuer.key(&multikey).cloned()))
}

/// Malformed requests are 400, credentials that fail are 422, lookup failures 500.
fn api_error(err: VcApiError) -> ApiError {
    match err {
        VcApiError::Lookup(cause) => ApiError::Internal(cause),
        err if err.is_request() => ApiError::bad_request(err.code(), err.to_string()),
        err => ApiError::unprocessable(err.code(), err.to_string()),
    }
}
