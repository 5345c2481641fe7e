//! `GET /v1/trust-bundle`: the registry-signed bundle for offline verification, with a strong
//! ETag so that relying parties can poll cheaply (`If-None-Match` → 304).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;

use crate::bundle::Registry;
use crate::error::ApiError;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/trust-bundle", web::get().to(trust_bundle));
}

/// The signed trust bundle (JSON), or 304 when `If-None-Match` names its ETag.
#[utoipa::path(get, path = "/v1/trust-bundle", tag = "verification", responses(
    (status = 200, description = "the registry-signed trust bundle (types, issuers, keys, grants, checkpoint, status lists by URL and digest; no licence), with ETag"),
    (status = 304, description = "If-None-Match matched the current ETag")))]
pub async fn trust_bundle(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let did_host = state.intake.did_host.as_str();
    let origin = state.settings.log_origin();
    let registry = Registry {
        did_host,
        public_base: state.settings.public_base(),
        origin: &origin,
        key: &state.registry_key,
    };
    let interval =
        Duration::seconds(i64::try_from(state.settings.trust_bundle_interval).unwrap_or(86_400));
    let signed = state
        .bundle
        .current(
            state.store.as_ref(),
            &registry,
            interval,
            state.intake.status_lists.changes(),
        )
        .await
        .map_err(ApiError::Internal)?;
    let cache = format!("public, max-age={}", crate::bundle::REFRESH.as_secs());
    if etag_matches(&req, &signed.etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, signed.etag.clone()))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::ETAG, signed.etag.clone()))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(signed.body.clone()))
}

/// `If-None-Match: *` or a list containing the ETag (weak comparison, as RFC 9110 asks).
pub(crate) fn etag_matches(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}
