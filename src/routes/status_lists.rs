//! `GET /v1/status-lists/{uscc}/{purpose}/{list}`: an issuer's W3C Bitstring Status List
//! credential, signed by the registry, with a strong ETag (`If-None-Match` → 304) and a short
//! `Cache-Control: max-age`. Anyone may read it (docs/status-lists.md).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::bundle::etag_matches;
use super::parse::parse_uscc;
use crate::domain::status_list::StatusPurpose;
use crate::error::ApiError;
use crate::state::AppState;
use crate::status_list::{ListId, Publisher, StatusListError, MAX_AGE};

/// The VC 2.0 media type of a credential secured with an embedded proof.
const VC_MEDIA_TYPE: &str = "application/vc";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v1/status-lists/{uscc}/{purpose}/{list}",
        web::get().to(status_list),
    );
}

/// One of an issuer's status lists: a `BitstringStatusListCredential` (VC 2.0) signed by the
/// registry (eddsa-jcs-2022), or 304 when `If-None-Match` names its ETag.
#[utoipa::path(get, path = "/v1/status-lists/{uscc}/{purpose}/{list}", tag = "verify", params(
    ("uscc" = String, Path, description = "issuer USCC"),
    ("purpose" = String, Path, description = "`revocation`, `suspension`, or `supersession` (the registry's own list: the bit at a version's revocation index is set once a later version replaced it)"),
    ("list" = u32, Path, description = "list number, from 0")), responses(
    (status = 200, description = "the signed BitstringStatusListCredential, with ETag", content_type = "application/vc"),
    (status = 304, description = "If-None-Match matched the current ETag"),
    (status = 400, description = "invalid_uscc"),
    (status = 404, description = "status_list_not_found")))]
pub async fn status_list(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (uscc, purpose, list) = path.into_inner();
    let not_found = || ApiError::not_found("status_list_not_found", "no such status list");
    let id = ListId {
        issuer: parse_uscc(&uscc, "path")?,
        purpose: StatusPurpose::parse(&purpose).ok_or_else(not_found)?,
        list: list
            .parse()
            .ok()
            .filter(|_| list == "0" || !list.starts_with('0'))
            .ok_or_else(not_found)?,
    };
    let publisher = Publisher {
        did_host: &state.intake.did_host,
        public_base: state.settings.public_base(),
        key: &state.registry_key,
    };
    let signed = match state
        .intake
        .status_lists
        .current(state.store.as_ref(), &publisher, id)
        .await
    {
        Ok(signed) => signed,
        Err(StatusListError::NotFound) => return Err(not_found()),
        Err(StatusListError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(ApiError::Internal(e.into())),
    };
    let cache = format!("public, max-age={}", MAX_AGE.as_secs());
    let mut answer = if etag_matches(&req, &signed.etag) {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::ETAG, signed.etag.clone()))
        .insert_header((header::CACHE_CONTROL, cache));
    if etag_matches(&req, &signed.etag) {
        return Ok(answer.finish());
    }
    Ok(answer.content_type(VC_MEDIA_TYPE).body(signed.body.clone()))
}
