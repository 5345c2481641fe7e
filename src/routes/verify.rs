//! Verification for agencies and anyone: `POST /v1/verify` (a credential, a licence id or an
//! offline QR payload), `POST /v1/verify/batch`, and the public `GET /v1/licences/{id}/status`.
//! Anonymous callers are rate-limited per client address, counted in licences.
//!
//! Answers are 200 whatever the verdict (the checks say what failed); 400 for input that is not
//! a credential, 413 past the size limit, 429 with `Retry-After` past the rate limit.

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::verify_access::{self as access, Caller};
use crate::domain::identifiers::LicenceId;
use crate::error::ApiError;
use crate::extract::{parse_body, read_limited};
use crate::log::receipt::timestamp;
use crate::state::AppState;
use crate::verify::{answer, is_credential, Verification};

/// Most items one batch may carry.
pub const MAX_BATCH: usize = 1000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/verify", web::post().to(verify))
        .route("/v1/verify/batch", web::post().to(batch))
        .route("/v1/licences/{id}/status", web::get().to(status));
}

/// Verifies one licence: `{"credential": {…}}`, `{"licenceId": "urn:elicence:…"}` or
/// `{"qr": "EL1:…"}`, with an optional `"at"` (RFC 3339) to judge validity and status at.
#[utoipa::path(post, path = "/v1/verify", tag = "verify", security((), ("agency" = [])),
    request_body = crate::routes::openapi_bodies::VerifyDoc, responses(
    (status = 200, description = "{verified, checkedAt, summary, checks}, whatever the verdict"),
    (status = 400, description = "not a credential"), (status = 404, description = "no such licence id"),
    (status = 413, description = "body too large"), (status = 429, description = "rate limited")))]
pub async fn verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = access::caller(&req).await?;
    if matches!(caller, Caller::Anonymous) {
        if let Some(limited) = rate_limited(&req, &state, 1) {
            return Ok(limited);
        }
    }
    let mut value = read_json(&req, &mut body, state.settings.body_limit).await?;
    let at = parse_at(&value)?.unwrap_or_else(Utc::now);
    let purpose = access::purpose(&value)?;
    let credential = resolve(&state, &mut value).await?;
    let subject = access::subject(&caller, &credential);
    let result = state
        .verifier
        .verify(vec![credential], at)
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no verification result")))?;
    access::record(
        &state,
        &caller,
        &[(subject, &result)],
        &purpose,
        "POST /v1/verify",
    )
    .await?;
    let mut bytes = Vec::with_capacity(ANSWER_BYTES);
    answer::write(&mut bytes, &result);
    Ok(json_body(bytes))
}

/// Verifies up to 1,000 licences: `{"items": [<as for /v1/verify>…], "at"?}` answers
/// `{"results": […]}` in order; an item that is not a credential gets `{"error": problem}`.
#[utoipa::path(post, path = "/v1/verify/batch", tag = "verify", security((), ("agency" = [])),
    request_body = crate::routes::openapi_bodies::VerifyBatchDoc, responses(
    (status = 200, description = "{results}"), (status = 400, description = "not a batch"),
    (status = 413, description = "body too large"), (status = 429, description = "rate limited")))]
pub async fn batch(
    req: HttpRequest,
    state: web::Data<AppState>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = access::caller(&req).await?;
    let mut value = read_json(&req, &mut body, state.settings.submission_limit).await?;
    let at = parse_batch(&value)?;
    let purpose = access::purpose(&value)?;
    let mut items = match value.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    if matches!(caller, Caller::Anonymous) {
        if let Some(limited) = rate_limited(&req, &state, items.len()) {
            return Ok(limited);
        }
    }
    let mut resolved = Vec::with_capacity(items.len());
    for item in &mut items {
        resolved.push(match parse_at(item) {
            Ok(own) => resolve(&state, item).await.map(|c| (c, own.or(at))),
            Err(e) => Err(e),
        });
    }
    let subjects: Vec<Option<access::Subject>> = resolved
        .iter()
        .map(|r| r.as_ref().ok().map(|(c, _)| access::subject(&caller, c)))
        .collect();
    let results = verify_resolved(&state, resolved).await?;
    let verified: Vec<(access::Subject, &Verification)> = subjects
        .into_iter()
        .zip(&results)
        .filter_map(|(s, r)| match (s, r) {
            (Some(s), BatchResult::Verified(r)) => Some((s, r)),
            _ => None,
        })
        .collect();
    access::record(
        &state,
        &caller,
        &verified,
        &purpose,
        "POST /v1/verify/batch",
    )
    .await?;
    Ok(json_body(batch_answer(&results)))
}

/// About the size of one licence's answer (3 KB with its inclusion proof).
const ANSWER_BYTES: usize = 4096;

/// A 200 answer of JSON already written ([`answer`]).
fn json_body(bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(bytes)
}

/// `{"results": […]}`: each item's verification, or `{"error": problem}`.
fn batch_answer(results: &[BatchResult]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(ANSWER_BYTES * results.len());
    bytes.extend_from_slice(br#"{"results":"#);
    answer::array(&mut bytes, results, |out, result| match result {
        BatchResult::Verified(verification) => answer::write(out, verification),
        BatchResult::Refused { error } => {
            out.extend_from_slice(br#"{"error":"#);
            answer::value(out, error);
            out.push(b'}');
        }
    });
    bytes.push(b'}');
    bytes
}

/// One batch item's answer: its verification, or why it is not a credential.
enum BatchResult {
    Verified(Verification),
    Refused { error: Value },
}

/// Public status of a licence: its state (`active`, `suspended`, `revoked`, `expired`), since
/// when, and its head version. No personal data.
#[utoipa::path(get, path = "/v1/licences/{id}/status", tag = "verify",
    params(("id" = String, Path, description = "licence identifier or urn:elicence: URN")),
    responses((status = 200, description = "{id, state, since, head, headVersion, current}"),
        (status = 404, description = "no such licence"), (status = 429, description = "rate limited")))]
pub async fn status(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if let Some(limited) = rate_limited(&req, &state, 1) {
        return Ok(limited);
    }
    let id = parse_licence_id(&path)?;
    let standing = state
        .verifier
        .standing(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let current = if standing.head_valid_until <= Utc::now()
        && standing.state == crate::domain::licence::LicenceState::Active
    {
        "expired"
    } else {
        standing.state.as_str()
    };
    Ok(HttpResponse::Ok().json(json!({
        "id": id.urn(), "state": current, "since": standing.since.map(timestamp),
        "head": standing.head.urn(), "headVersion": standing.head.version(),
        "current": standing.head == id,
    })))
}

/// A batch item: its credential and own `at`, or why it is not one.
type Resolved = Result<(Value, Option<DateTime<Utc>>), ApiError>;

/// Verifies the items that resolved to credentials (each at its own time) and slots the
/// refusals of the others in place.
async fn verify_resolved(
    state: &AppState,
    resolved: Vec<Resolved>,
) -> Result<Vec<BatchResult>, ApiError> {
    let now = Utc::now();
    let mut groups: Vec<(DateTime<Utc>, Vec<usize>, Vec<Value>)> = Vec::new();
    let mut out: Vec<Option<BatchResult>> = Vec::with_capacity(resolved.len());
    for (i, item) in resolved.into_iter().enumerate() {
        match item {
            Ok((credential, at)) => {
                let at = at.unwrap_or(now);
                match groups.iter_mut().find(|g| g.0 == at) {
                    Some(group) => {
                        group.1.push(i);
                        group.2.push(credential);
                    }
                    None => groups.push((at, vec![i], vec![credential])),
                }
                out.push(None);
            }
            Err(e) => out.push(Some(BatchResult::Refused {
                error: json!({
                    "status": e.status_code().as_u16(), "code": e.code(), "detail": e.to_string(),
                }),
            })),
        }
    }
    for (at, positions, credentials) in groups {
        let results: Vec<Verification> = state.verifier.verify(credentials, at).await?;
        for (i, result) in positions.into_iter().zip(results) {
            out[i] = Some(BatchResult::Verified(result));
        }
    }
    out.into_iter()
        .map(|r| {
            r.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a batch item went unanswered")))
        })
        .collect()
}

/// The credential an item names: given inline, stored under a licence id, or in a QR payload.
async fn resolve(state: &AppState, item: &mut Value) -> Result<Value, ApiError> {
    let object = item
        .as_object_mut()
        .ok_or_else(|| bad("not_a_credential", "the body must be a JSON object"))?;
    if let Some(unknown) = object
        .keys()
        .find(|k| !["credential", "licenceId", "qr", "at", "purpose"].contains(&k.as_str()))
    {
        return Err(bad(
            "invalid_request_body",
            format!("unknown member {unknown:?}"),
        ));
    }
    let (mut credential, mut licence_id, mut qr) = (None, None, None);
    for (key, member) in object.iter_mut() {
        match key.as_str() {
            "credential" => credential = Some(member),
            "licenceId" => licence_id = Some(member),
            "qr" => qr = Some(member),
            _ => {}
        }
    }
    match (credential, licence_id.map(|v| &*v), qr.map(|v| &*v)) {
        (Some(credential), None, None) if is_credential(credential) => Ok(credential.take()),
        (Some(_), None, None) => Err(bad(
            "not_a_credential",
            "credential must be a JSON object whose type includes VerifiableCredential",
        )),
        (None, Some(Value::String(id)), None) => stored(state, &parse_licence_id(id)?).await,
        (None, None, Some(Value::String(payload))) => {
            crate::qr::decode_offline(payload, state.settings.body_limit)
                .map_err(|e| bad(e.code(), e.to_string()))
        }
        _ => Err(bad(
            "invalid_request_body",
            "give exactly one of credential (object), licenceId (string) or qr (string)",
        )),
    }
}

async fn stored(state: &AppState, id: &LicenceId) -> Result<Value, ApiError> {
    state
        .store
        .licence_document(id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Checks a batch body's shape (`items`: 1 to [`MAX_BATCH`]) and answers its `at`.
fn parse_batch(value: &Value) -> Result<Option<DateTime<Utc>>, ApiError> {
    let object: &Map<String, Value> = value
        .as_object()
        .ok_or_else(|| bad("invalid_request_body", "the body must be a JSON object"))?;
    if let Some(unknown) = object
        .keys()
        .find(|k| !["items", "at", "purpose"].contains(&k.as_str()))
    {
        return Err(bad(
            "invalid_request_body",
            format!("unknown member {unknown:?}"),
        ));
    }
    match object.get("items") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_BATCH => {
            parse_at(value)
        }
        _ => Err(bad(
            "invalid_request_body",
            format!("items must be an array of 1 to {MAX_BATCH} items"),
        )),
    }
}

/// The optional `at` member.
fn parse_at(value: &Value) -> Result<Option<DateTime<Utc>>, ApiError> {
    match value.get("at") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| bad("at_invalid", "at must be an RFC 3339 date-time")),
        Some(_) => Err(bad("at_invalid", "at must be an RFC 3339 date-time")),
    }
}

fn parse_licence_id(text: &str) -> Result<LicenceId, ApiError> {
    LicenceId::parse_reference(text).map_err(|e| bad(e.code(), e.to_string()))
}

/// Reads a strict JSON body of at most `limit` bytes.
async fn read_json(
    req: &HttpRequest,
    body: &mut web::Payload,
    limit: usize,
) -> Result<Value, ApiError> {
    if crate::extract::is_json(req) != Some(true) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes = read_limited(body, limit).await?;
    parse_body(&bytes, limit)
}

/// Takes `weight` licences from the client's bucket; past the limit, the 429 to answer (with
/// `Retry-After`).
fn rate_limited(req: &HttpRequest, state: &AppState, weight: usize) -> Option<HttpResponse> {
    let client = req.peer_addr()?.ip();
    let wait = state.verify_limiter.check(client, weight).err()?;
    Some(crate::error::rate_limited(wait))
}

fn bad(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, detail)
}

fn not_found(id: &LicenceId) -> ApiError {
    ApiError::not_found("licence_not_found", format!("no licence {}", id.urn()))
}
