//! did:web documents: the registry's own at `/.well-known/did.json` and each issuer's at
//! `/issuers/{uscc}/did.json`, so that any online W3C verifier can resolve their keys.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde_json::Value;

use super::issuers::{did, fetch};
use super::parse::parse_uscc;
use crate::domain::did::{document, issuer_document, registry_did};
use crate::error::ApiError;
use crate::state::AppState;

/// The media type of a DID document in its JSON representation.
const DID_JSON: &str = "application/did+json";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/.well-known/did.json", web::get().to(registry))
        .route("/issuers/{uscc}/did.json", web::get().to(issuer));
}

/// The registry's DID document (`did:web:<host>`): the key that signs receipts, checkpoints and
/// trust bundles.
#[utoipa::path(get, path = "/.well-known/did.json", tag = "issuers", responses(
    (status = 200, description = "DID document", content_type = "application/did+json")))]
pub async fn registry(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let host = state
        .settings
        .did_web_host()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("public URL has no did:web host")))?;
    let key = state.registry_key.multikey();
    Ok(did_json(&document(&registry_did(&host), [key.as_str()])))
}

/// An issuer's DID document (`did:web:<host>:issuers:<uscc>`) listing its current keys.
#[utoipa::path(get, path = "/issuers/{uscc}/did.json", tag = "issuers", params(("uscc" = String, Path, description = "issuer USCC")), responses(
    (status = 200, description = "DID document", content_type = "application/did+json"),
    (status = 400, description = "invalid_uscc"), (status = 404, description = "issuer_not_found")))]
pub async fn issuer(
    state: web::Data<AppState>,
    uscc: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let uscc = parse_uscc(&uscc, "path")?;
    let issuer = fetch(&state, &uscc).await?;
    Ok(did_json(&issuer_document(
        &did(&state, &uscc)?,
        &issuer,
        Utc::now(),
    )))
}

fn did_json(doc: &Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(DID_JSON)
        .insert_header(("Cache-Control", "max-age=60"))
        .body(doc.to_string())
}
