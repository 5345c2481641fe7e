//! Applications by reference, the agency's side. An agency handling a matter prepares an
//! application (matter, applicant, use cause, and the licences the applicant told it of); it
//! stays pending, with nothing checked, proposed or readable, until the holder approves it
//! (`/v1/holder/applications`). Once approved, the agency sees each requirement met or missing
//! and may read the fulfilling licences while the application is open and not withdrawn; every
//! check and read is an access record.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Agency;
use crate::domain::access::{Channel, NewAccessRecord};
use crate::domain::agency::Scope;
use crate::domain::application::{Application, ReadRefusal};
use crate::domain::identifiers::LicenceId;
use crate::domain::matter::Matter;
use crate::error::ApiError;
use crate::extract::StrictJson;
use crate::state::AppState;
use crate::storage::{record_access, StoreError};

use super::agencies::parse_holder;
use super::application_checks::{self as checks, present};
use super::parse::text_field;

const READ_ROUTE: &str = "GET /v1/applications/{id}/licences/{licence}";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/applications", web::post().to(create))
        .route("/v1/applications/{id}", web::get().to(show))
        .route("/v1/applications/{id}/close", web::post().to(close))
        .route(
            "/v1/applications/{id}/licences/{licence}",
            web::get().to(licence),
        );
}

/// Body of `POST /v1/applications`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewApplication {
    /// The matter's code; the calling agency must handle it.
    matter: String,
    /// Resident ID or USCC (bare or URN).
    applicant: String,
    /// Licence identifiers (URN or bare) the applicant told the agency of, for the holder to
    /// consider when approving. Not looked up: nothing is checked before approval.
    #[serde(default)]
    licences: Vec<String>,
    /// 用证事由: shown to the holder and recorded with every check and read.
    use_cause: String,
    /// Refused when true (400 `holder_consent_required`): the registry proposes licences only
    /// when the holder asks.
    #[serde(default)]
    autofill: bool,
}

/// Prepares an application for the holder to approve or decline.
#[utoipa::path(post, path = "/v1/applications", tag = "applications", security(("agency" = [])), request_body = NewApplication, responses(
    (status = 201, description = "the application, `state: pending`: no requirement checked, no licence readable until the holder approves"),
    (status = 400, description = "invalid_holder, invalid_field, invalid_licence_id, too_many_references, holder_consent_required (autofill)"),
    (status = 401, description = "no or wrong agency key"), (status = 403, description = "scope_missing, not_handling_agency"),
    (status = 422, description = "matter_not_found")))]
pub async fn create(
    agency: Agency,
    state: web::Data<AppState>,
    body: StrictJson<NewApplication>,
) -> Result<HttpResponse, ApiError> {
    agency.require(Scope::Applications)?;
    let request = body.value;
    let applicant = parse_holder(&request.applicant)?;
    let use_cause = text_field(Some(request.use_cause), "useCause", 500)?
        .ok_or_else(|| ApiError::bad_request("invalid_field", "useCause must not be empty"))?;
    if request.autofill {
        return Err(ApiError::bad_request(
            "holder_consent_required",
            "the registry proposes licences only when the holder asks: the holder approves the \
             application and chooses its licences",
        ));
    }
    let requested = checks::requested(&request.licences)?;
    let matter = handled_matter(&state, &agency, &request.matter).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let filed = Application::prepared(
        id,
        (matter.code, matter.agency),
        applicant,
        use_cause,
        requested,
        Utc::now(),
    );
    state.store.insert_application(&filed, vec![]).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/applications/{}", filed.id)))
        .json(present(&filed)))
}

/// The matter, if the calling agency handles it.
async fn handled_matter(state: &AppState, agency: &Agency, code: &str) -> Result<Matter, ApiError> {
    let matter = checks::matter(state, code).await?;
    if &matter.agency != agency.uscc() {
        return Err(ApiError::forbidden(
            "not_handling_agency",
            format!("matter {code} is handled by another agency"),
        ));
    }
    Ok(matter)
}

/// The application, for the agency that filed it (404 to everyone else).
#[utoipa::path(get, path = "/v1/applications/{id}", tag = "applications", security(("agency" = [])),
    params(("id" = String, Path, description = "application id")), responses(
    (status = 200, description = "the application with its `state`; requirements and references only once approved"), (status = 401, description = "no or wrong agency key"),
    (status = 403, description = "scope_missing"), (status = 404, description = "application_not_found")))]
pub async fn show(
    agency: Agency,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    agency.require(Scope::Applications)?;
    Ok(HttpResponse::Ok().json(present(&own(&state, &agency, &id).await?)))
}

/// Closes the application: its licences may no longer be read through it.
#[utoipa::path(post, path = "/v1/applications/{id}/close", tag = "applications", security(("agency" = [])),
    params(("id" = String, Path, description = "application id")), responses(
    (status = 200, description = "closed"), (status = 404, description = "application_not_found"),
    (status = 409, description = "application_closed")))]
pub async fn close(
    agency: Agency,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    agency.require(Scope::Applications)?;
    own(&state, &agency, &id).await?;
    state
        .store
        .close_application(&id, Utc::now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ApiError::conflict("application_closed", "the application is already closed")
            }
            other => other.into(),
        })?;
    Ok(HttpResponse::Ok().json(present(&own(&state, &agency, &id).await?)))
}

/// The full licence of a reference that fulfilled a requirement, while the application is
/// approved and open.
#[utoipa::path(get, path = "/v1/applications/{id}/licences/{licence}", tag = "applications", security(("agency" = [])),
    params(("id" = String, Path, description = "application id"), ("licence" = String, Path, description = "licence id or URN")), responses(
    (status = 200, description = "`{licence, status, credential}`"), (status = 401, description = "no or wrong agency key"),
    (status = 403, description = "scope_missing, application_not_approved (pending or declined), application_withdrawn, not_entitled (also for a licence that does not exist), application_closed"),
    (status = 404, description = "application_not_found (also another agency's)")))]
pub async fn licence(
    agency: Agency,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    agency.require(Scope::Applications)?;
    let (id, text) = path.into_inner();
    let filed = own(&state, &agency, &id).await?;
    let not_entitled =
        |refusal: ReadRefusal| ApiError::forbidden(refusal.code(), refusal.to_string());
    let licence = LicenceId::parse_reference(&text)
        .ok()
        .ok_or(not_entitled(ReadRefusal::NotEntitled))?;
    filed.may_read(&licence, Utc::now()).map_err(not_entitled)?;
    let record = state
        .store
        .licence_record(&licence)
        .await?
        // Defence in depth: only a version naming the applicant, whatever the store holds.
        .filter(|r| r.holder == filed.applicant)
        .ok_or(not_entitled(ReadRefusal::NotEntitled))?;
    record_access(
        state.store.as_ref(),
        NewAccessRecord {
            channel: Channel::AgencyRead,
            agency: Some(filed.agency.clone()),
            holder: Some(record.holder.clone()),
            licence: Some(licence.urn()),
            purpose: filed.use_cause.clone(),
            route: READ_ROUTE.to_owned(),
            result: "read".to_owned(),
            application: Some(filed.id.clone()),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "licence": licence.urn(), "status": record.state, "head": record.head.urn(),
        "credential": record.document,
    })))
}

async fn own(state: &AppState, agency: &Agency, id: &str) -> Result<Application, ApiError> {
    state
        .store
        .application(id)
        .await?
        .filter(|a| &a.agency == agency.uscc())
        .ok_or_else(|| ApiError::not_found("application_not_found", format!("no application {id}")))
}
