//! The write path: `POST /v1/submissions` (signed envelopes) and each issuer's chain head.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};

use crate::domain::identifiers::Uscc;
use crate::domain::issuer::issuer_did;
use crate::domain::submission::EnvelopeError;
use crate::error::ApiError;
use crate::extract::{parse_body, read_limited};
use crate::log::batch::ChainHead;
use crate::state::AppState;
use crate::submissions::intake::{Accepted, IntakeError};
use crate::submissions::sequencer::SequencerError;

/// How `digest` and `previous` are computed, stated in every head answer.
const DIGEST_ENCODING: &str =
    "multibase base64url (u) of multihash sha2-256 (0x12 0x20) over JCS of the envelope incl. proof";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/submissions", web::post().to(submit))
        .route("/v1/issuers/{uscc}/head", web::get().to(head));
}

/// Accepts a signed envelope: 201 with the registry-signed receipt once it is durable, 200 with
/// the original receipt for a repeat, 409 with the head when the chain does not follow, 422
/// with every refused item. The envelope's own proof is checked before any item is looked at,
/// holding one of a bounded number of slots (`submissions::gate`).
#[utoipa::path(post, path = "/v1/submissions", tag = "log", request_body(content = crate::routes::openapi_bodies::EnvelopeDoc, content_type = "application/json", description = "signed envelope {issuer, sequence, previous, items, proof}"), responses(
    (status = 201, description = "receipt; each licence item carries its base64url `registration` receipt (docs/offline.md)"), (status = 200, description = "receipt of the earlier identical submission"),
    (status = 400, description = "not an envelope"), (status = 403, description = "issuer suspended"),
    (status = 409, description = "sequence/previous do not follow the chain head"), (status = 413, description = "too large"),
    (status = 422, description = "proof or items refused; nothing stored"),
    (status = 503, description = "intake_busy: too many envelopes awaiting their proof check (Retry-After); unavailable: database unavailable; nothing stored, or the envelope was committed and a retry answers its receipt")))]
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    if crate::extract::is_json(&req) != Some(true) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let limit = state.settings.submission_limit;
    let bytes = read_limited(&mut payload, limit).await?;
    // Parsing and authenticating an envelope is work anyone can ask for: bounded. The slot is
    // taken once the body is in, so a client trickling its upload holds none.
    let slot = state
        .intake
        .gate
        .try_enter(bytes.len())
        .ok_or_else(|| ApiError::Busy {
            code: "intake_busy",
            detail: "too many submissions are being checked; retry shortly".into(),
        })?;
    // The checks run below the writer's priority (`submissions::checks`); this worker only
    // waits for them.
    let checking = state.clone();
    let accepted = state
        .intake
        .checks
        .run(async move {
            let intake = &checking.intake;
            let value = parse_body(&bytes, limit)?;
            drop(bytes);
            let authenticated = intake
                .authenticate(value, Utc::now())
                .await
                .map_err(refusal)?;
            drop(slot);
            intake
                .accept(authenticated, Utc::now())
                .await
                .map_err(refusal)
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the envelope's checks stopped: {e}")))??;
    let (status, receipt) = match accepted {
        Accepted::Created(receipt) => (StatusCode::CREATED, receipt),
        Accepted::Repeat(receipt) => (StatusCode::OK, receipt),
    };
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .body(receipt))
}

/// The issuer's chain head: sequence 0 and digest null before its first envelope.
#[utoipa::path(get, path = "/v1/issuers/{uscc}/head", tag = "log",
    params(("uscc" = String, Path, description = "issuer USCC")),
    responses((status = 200, description = "chain head"), (status = 404, description = "no such issuer")))]
pub async fn head(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let uscc: Uscc = path
        .parse()
        .map_err(|e: crate::domain::identifiers::IdentifierError| {
            ApiError::bad_request(e.code(), e.to_string())
        })?;
    if state.store.issuer(&uscc).await?.is_none() {
        return Err(ApiError::not_found(
            "issuer_not_found",
            format!("no issuer {uscc}"),
        ));
    }
    let head = state.store.issuer_head(&uscc).await?;
    let did = issuer_did(&state.intake.did_host, &uscc);
    let mut body = head_json(head.as_ref());
    body["issuer"] = json!(did);
    body["digestEncoding"] = json!(DIGEST_ENCODING);
    Ok(HttpResponse::Ok().json(body))
}

fn head_json(head: Option<&ChainHead>) -> Value {
    json!({
        "sequence": head.map_or(0, |h| h.sequence),
        "digest": head.map(|h| h.digest.clone()),
    })
}

/// Maps a refusal to its problem document.
fn refusal(e: IntakeError) -> ApiError {
    let detail = e.to_string();
    match e {
        IntakeError::Envelope(EnvelopeError::Malformed(_)) => {
            ApiError::bad_request("envelope_malformed", detail)
        }
        IntakeError::Envelope(EnvelopeError::IssuerDid(_)) => {
            ApiError::unprocessable("issuer_did_invalid", detail)
        }
        IntakeError::IssuerUnknown => ApiError::unprocessable("issuer_unknown", detail),
        IntakeError::IssuerSuspended => ApiError::forbidden("issuer_suspended", detail),
        IntakeError::Signature(e) => ApiError::unprocessable(e.code, detail),
        IntakeError::HeadMismatch(head) => {
            ApiError::conflict("chain_head_mismatch", detail).with("head", head_json(head.as_ref()))
        }
        IntakeError::Items(errors) => {
            let errors: Vec<Value> = errors
                .into_iter()
                .map(|(item, e)| json!({"item": item, "code": e.code, "detail": e.detail}))
                .collect();
            ApiError::unprocessable("items_invalid", detail).with("errors", json!(errors))
        }
        IntakeError::Store(e) => e.into(),
        IntakeError::Sequencer(SequencerError::Unavailable(cause)) => {
            tracing::warn!(error = %cause, "a batch was not stored: database unavailable");
            ApiError::Unavailable
        }
        IntakeError::Sequencer(SequencerError::StorageFull(cause)) => {
            tracing::error!(error = %cause, "a batch was not stored: storage full");
            ApiError::storage_full()
        }
        IntakeError::Sequencer(e) => ApiError::Internal(e.into()),
    }
}
