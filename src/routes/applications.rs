//! Applications by reference: an agency handling a matter files the applicant's licence
//! references instead of paper; the registry checks each one, reports every requirement as met
//! or missing, and records each check as an access record in the same transaction. The
//! handling agency may then read the fulfilling licences while the application is open.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Agency;
use crate::domain::access::{Channel, NewAccessRecord};
use crate::domain::agency::Scope;
use crate::domain::application::{self, evaluate, Application, Reference};
use crate::domain::identifiers::HolderId;
use crate::domain::matter::Matter;
use crate::error::ApiError;
use crate::extract::StrictJson;
use crate::state::AppState;
use crate::storage::{record_access, StoreError};

use super::agencies::parse_holder;
use super::parse::text_field;
use super::references::{parse_licence_id, Lookup};

/// The most references one application may carry.
const MAX_REFERENCES: usize = 50;
const ROUTE: &str = "POST /v1/applications";
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
    /// Licence identifiers (URN or bare) standing in for paper materials.
    #[serde(default)]
    licences: Vec<String>,
    /// 用证事由: recorded with every check and shown to the holder.
    use_cause: String,
    /// With no references: let the registry propose the applicant's current licences.
    #[serde(default)]
    autofill: bool,
}

/// Files an application and checks its references.
#[utoipa::path(post, path = "/v1/applications", tag = "applications", security(("agency" = [])), request_body = NewApplication, responses(
    (status = 201, description = "the application: each requirement with what fulfils it, each reference's outcome, unfulfilled requirements"),
    (status = 400, description = "invalid_holder, invalid_field, too_many_references, autofill_with_references"),
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
    check_references(&request.licences, request.autofill)?;
    let matter = handled_matter(&state, &agency, &request.matter).await?;
    let texts = match request.autofill {
        true => proposals(&state, &matter, &applicant).await?,
        false => request.licences,
    };
    let mut lookup = Lookup::new(&state);
    let mut references = Vec::with_capacity(texts.len());
    for text in texts {
        let found = lookup.find(&text).await?;
        references.push(Reference { text, found });
    }
    let now = Utc::now();
    let mut evaluation = evaluate(&matter.requirements, &applicant, &references, now);
    evaluation.autofilled = request.autofill;
    let filed = Application {
        id: uuid::Uuid::new_v4().to_string(),
        matter: matter.code,
        agency: agency.uscc().clone(),
        applicant,
        use_cause,
        evaluation,
        created_at: now,
        expires_at: application::expires_at(now),
        closed_at: None,
    };
    let records = check_records(&filed, &references);
    state.store.insert_application(&filed, records).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/applications/{}", filed.id)))
        .json(&filed))
}

fn check_references(licences: &[String], autofill: bool) -> Result<(), ApiError> {
    if licences.len() > MAX_REFERENCES {
        return Err(ApiError::bad_request(
            "too_many_references",
            format!("at most {MAX_REFERENCES} licence references"),
        ));
    }
    if autofill && !licences.is_empty() {
        return Err(ApiError::bad_request(
            "autofill_with_references",
            "autofill proposes references: give either licences or autofill",
        ));
    }
    Ok(())
}

/// The matter, if the calling agency handles it.
async fn handled_matter(state: &AppState, agency: &Agency, code: &str) -> Result<Matter, ApiError> {
    let matter = state.store.matter(code).await?.ok_or_else(|| {
        ApiError::unprocessable("matter_not_found", format!("no matter {code:?}"))
    })?;
    if &matter.agency != agency.uscc() {
        return Err(ApiError::forbidden(
            "not_handling_agency",
            format!("matter {code} is handled by another agency"),
        ));
    }
    Ok(matter)
}

/// The applicant's current licences of the matter's types.
async fn proposals(
    state: &AppState,
    matter: &Matter,
    applicant: &HolderId,
) -> Result<Vec<String>, ApiError> {
    let held = state.store.holder_licences(applicant).await?;
    Ok(held
        .into_iter()
        .filter(|l| {
            matter
                .requirements
                .iter()
                .any(|r| &r.type_code == l.id.type_code())
        })
        .map(|l| l.id.urn())
        .collect())
}

/// One access record per reference checked, for the licence's actual holder.
fn check_records(filed: &Application, references: &[Reference]) -> Vec<NewAccessRecord> {
    references
        .iter()
        .zip(&filed.evaluation.references)
        .map(|(reference, outcome)| NewAccessRecord {
            channel: Channel::Application,
            agency: Some(filed.agency.clone()),
            holder: reference.found.as_ref().map(|f| f.holder.clone()),
            licence: parse_licence_id(&reference.text).map(|id| id.urn()),
            purpose: filed.use_cause.clone(),
            route: ROUTE.to_owned(),
            result: outcome
                .code
                .clone()
                .unwrap_or_else(|| "fulfilled".to_owned()),
            application: Some(filed.id.clone()),
        })
        .collect()
}

/// The application, for the agency that filed it (404 to everyone else).
#[utoipa::path(get, path = "/v1/applications/{id}", tag = "applications", security(("agency" = [])),
    params(("id" = String, Path, description = "application id")), responses(
    (status = 200, description = "the application"), (status = 401, description = "no or wrong agency key"),
    (status = 403, description = "scope_missing"), (status = 404, description = "application_not_found")))]
pub async fn show(
    agency: Agency,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    agency.require(Scope::Applications)?;
    Ok(HttpResponse::Ok().json(own(&state, &agency, &id).await?))
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
    Ok(HttpResponse::Ok().json(own(&state, &agency, &id).await?))
}

/// The full licence of a reference that fulfilled a requirement, while the application is open.
#[utoipa::path(get, path = "/v1/applications/{id}/licences/{licence}", tag = "applications", security(("agency" = [])),
    params(("id" = String, Path, description = "application id"), ("licence" = String, Path, description = "licence id or URN")), responses(
    (status = 200, description = "`{licence, status, credential}`"), (status = 401, description = "no or wrong agency key"),
    (status = 403, description = "scope_missing, not_entitled, application_closed"), (status = 404, description = "application_not_found")))]
pub async fn licence(
    agency: Agency,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    agency.require(Scope::Applications)?;
    let (id, text) = path.into_inner();
    let filed = own(&state, &agency, &id).await?;
    let not_entitled = || {
        ApiError::forbidden(
            "not_entitled",
            "the licence fulfilled no requirement of this application",
        )
    };
    let licence = parse_licence_id(&text)
        .filter(|l| filed.entitles(l))
        .ok_or_else(not_entitled)?;
    if !filed.is_open(Utc::now()) {
        return Err(ApiError::forbidden(
            "application_closed",
            "the application is closed or expired",
        ));
    }
    let record = state
        .store
        .licence_record(&licence)
        .await?
        .ok_or_else(not_entitled)?;
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
