//! The holder's own: current licences and each one's history, the access records of its
//! licences, and its consents. Another holder's licence answers exactly as a licence that does
//! not exist (404 `licence_not_found`), so nothing reveals that it exists.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Holder;
use crate::domain::identifiers::LicenceId;
use crate::domain::licence::LicenceState;
use crate::error::ApiError;
use crate::log::receipt::timestamp;
use crate::state::AppState;
use crate::storage::{held_head, LicenceRecord, StoredLicence};

const PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/holder/licences", web::get().to(licences))
        .route("/v1/holder/licences/{id}", web::get().to(licence))
        .route("/v1/holder/access-records", web::get().to(access_records))
        .route("/v1/holder/consents", web::get().to(consents));
}

/// The holder's current licences: the head version of each, with its status.
#[utoipa::path(get, path = "/v1/holder/licences", tag = "holder", security(("holder" = [])), responses(
    (status = 200, description = "`{holder, licences}`"), (status = 401, description = "no or wrong holder token")))]
pub async fn licences(
    holder: Holder,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let held = state.store.holder_licences(&holder.id).await?;
    let licences: Vec<Value> = held.iter().map(|l| summary(l, now)).collect();
    Ok(HttpResponse::Ok().json(json!({"holder": holder.id, "licences": licences})))
}

/// Every version and status event of one of the holder's licences.
#[utoipa::path(get, path = "/v1/holder/licences/{id}", tag = "holder", security(("holder" = [])),
    params(("id" = String, Path, description = "licence id or URN (any version)")), responses(
    (status = 200, description = "versions (each with its base64url `registration` receipt) and events"), (status = 401, description = "no or wrong holder token"),
    (status = 404, description = "licence_not_found: no such licence, or not this holder's")))]
pub async fn licence(
    holder: Holder,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::not_found("licence_not_found", "no such licence of this holder");
    let id = LicenceId::parse_reference(&id).ok().ok_or_else(not_found)?;
    let record = state
        .store
        .licence_record(&id)
        .await?
        .filter(|r| r.holder == holder.id)
        .ok_or_else(not_found)?;
    // Only the versions naming this holder, whatever the store holds.
    let history = state
        .store
        .licence_history(&id.base())
        .await?
        .ok_or_else(not_found)?
        .held_by(&holder.id);
    let head = held_head(state.store.as_ref(), &record)
        .await?
        .ok_or_else(not_found)?;
    let mut value = super::licences::present(&id, &history);
    value["currentStatus"] = json!(status(&head, Utc::now()));
    // Each version's registration receipt, re-derived from its row (Ed25519 is deterministic:
    // the bytes the submission receipt carried), for the holder to keep with the licence.
    let origin = state.settings.log_origin();
    if let Some(versions) = value["versions"].as_array_mut() {
        for (shown, stored) in versions.iter_mut().zip(&history.versions) {
            shown["registration"] = json!(registration(&state, &origin, stored));
        }
    }
    Ok(HttpResponse::Ok().json(value))
}

/// The registration receipt (base64url) of a stored licence version.
pub(crate) fn registration(
    state: &AppState,
    origin: &str,
    stored: &StoredLicence,
) -> Option<String> {
    crate::log::registration::for_digest(
        state.registry_key.signing_key(),
        origin,
        &stored.digest,
        stored.leaf_index,
        stored.accepted_at,
    )
    .map(|r| r.encode())
}

/// Paging of `GET /v1/holder/access-records`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Records with a sequence number below this (the `next` link sets it; at most 2^63−1).
    before: Option<u64>,
    /// 1 to 500, default 50.
    limit: Option<u32>,
}

/// Every use of the holder's licences, newest first.
#[utoipa::path(get, path = "/v1/holder/access-records", tag = "holder", security(("holder" = [])), params(Page), responses(
    (status = 200, description = "`{records, next}`"), (status = 400, description = "invalid_query"),
    (status = 401, description = "no or wrong holder token")))]
pub async fn access_records(
    holder: Holder,
    state: web::Data<AppState>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit.unwrap_or(PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit: 1 to {MAX_PAGE}"),
        ));
    }
    let before = page
        .before
        .map(|b| super::parse::position(b, "before"))
        .transpose()?;
    let records = state
        .store
        .holder_access_records(&holder.id, before, limit)
        .await?;
    let next = (records.len() == limit as usize)
        .then(|| {
            records
                .last()
                .map(|r| format!("/v1/holder/access-records?before={}&limit={limit}", r.seq))
        })
        .flatten();
    let records: Vec<Value> = records.iter().map(|r| r.present()).collect();
    Ok(HttpResponse::Ok().json(json!({"records": records, "next": next})))
}

/// The holder's consents, newest first, each with its state.
#[utoipa::path(get, path = "/v1/holder/consents", tag = "holder", security(("holder" = [])), responses(
    (status = 200, description = "`{consents}`"), (status = 401, description = "no or wrong holder token")))]
pub async fn consents(
    holder: Holder,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let consents: Vec<Value> = state
        .store
        .holder_consents(&holder.id)
        .await?
        .iter()
        .map(|c| super::consents::present(c, now))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"consents": consents})))
}

/// The status a holder sees: the issuer's state, or `expired` / `not_yet_valid` when active.
pub(crate) fn status(record: &LicenceRecord, now: DateTime<Utc>) -> &'static str {
    match record.state {
        LicenceState::Active if now >= record.valid_until => "expired",
        LicenceState::Active if now < record.valid_from => "not_yet_valid",
        state => state.as_str(),
    }
}

fn summary(l: &LicenceRecord, now: DateTime<Utc>) -> Value {
    let subject = &l.document["credentialSubject"];
    json!({
        "id": l.id.urn(), "base": l.id.base(), "version": l.id.version(),
        "typeCode": l.id.type_code(), "issuer": l.id.issuer(), "schemaVersion": l.schema_version,
        "holderName": subject.get("holderName"), "status": status(l, now),
        "validFrom": timestamp(l.valid_from), "validUntil": timestamp(l.valid_until),
        "history": format!("/v1/holder/licences/{}", l.id),
    })
}
