//! Applications by reference, the holder's side: the holder applies for a matter, or approves
//! or declines one its handling agency prepared, and may withdraw an approved one. Applying
//! and approving are the consent (用证授权) for the matter's handling agency, that matter and
//! the chosen licences. Another holder's application answers exactly as one that does not
//! exist (404 `application_not_found`); a licence not the holder's as one that does not exist
//! (404 `licence_not_found`).

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Holder;
use crate::domain::application::{Application, ApplicationState, Transition};
use crate::domain::identifiers::HolderId;
use crate::error::ApiError;
use crate::extract::StrictJson;
use crate::state::AppState;
use crate::storage::StoreError;

use super::application_checks::{self as checks, present};
use super::parse::text_field;

const APPLY_ROUTE: &str = "POST /v1/holder/applications";
const APPROVE_ROUTE: &str = "POST /v1/holder/applications/{id}/approve";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/holder/applications", web::post().to(apply))
        .route("/v1/holder/applications", web::get().to(list))
        .route("/v1/holder/applications/{id}", web::get().to(show))
        .route(
            "/v1/holder/applications/{id}/approve",
            web::post().to(approve),
        )
        .route(
            "/v1/holder/applications/{id}/decline",
            web::post().to(decline),
        )
        .route(
            "/v1/holder/applications/{id}/withdraw",
            web::post().to(withdraw),
        );
}

/// Body of `POST /v1/holder/applications`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HolderApplication {
    /// The matter's code; its handling agency is the one consented to.
    matter: String,
    /// The holder's own licences (URN or bare id) standing in for paper materials.
    #[serde(default)]
    licences: Vec<String>,
    /// Let the registry propose the holder's current licences of the matter's types.
    #[serde(default)]
    propose: bool,
    /// 用证事由: recorded with every check and read.
    use_cause: String,
}

/// The holder applies for a matter: approved as filed.
#[utoipa::path(operation_id = "holder_application_apply", post, path = "/v1/holder/applications", tag = "holder", security(("holder" = [])), request_body = HolderApplication, responses(
    (status = 201, description = "the application, `state: approved`, with each requirement met or missing"),
    (status = 400, description = "invalid_field, nothing_referenced, too_many_references, propose_with_licences"),
    (status = 401, description = "no or wrong holder token"),
    (status = 404, description = "licence_not_found: no such licence, or not this holder's"),
    (status = 422, description = "matter_not_found")))]
pub async fn apply(
    holder: Holder,
    state: web::Data<AppState>,
    body: StrictJson<HolderApplication>,
) -> Result<HttpResponse, ApiError> {
    let request = body.value;
    let use_cause = text_field(Some(request.use_cause), "useCause", 500)?
        .ok_or_else(|| ApiError::bad_request("invalid_field", "useCause must not be empty"))?;
    if request.licences.is_empty() && !request.propose {
        return Err(ApiError::bad_request(
            "nothing_referenced",
            "name licences, or ask the registry to propose them (propose: true)",
        ));
    }
    let matter = checks::matter(&state, &request.matter).await?;
    let texts = checks::chosen(
        &state,
        &matter,
        &holder.id,
        request.licences,
        request.propose,
    )
    .await?;
    let now = Utc::now();
    let (mut evaluation, references) =
        checks::check(&state, &matter, &holder.id, texts, now).await?;
    evaluation.autofilled = request.propose;
    let id = uuid::Uuid::new_v4().to_string();
    let filed = Application::filed_by_holder(
        id,
        (matter.code, matter.agency),
        holder.id,
        use_cause,
        evaluation,
        now,
    );
    let records = checks::records(&filed, &references, APPLY_ROUTE);
    state.store.insert_application(&filed, records).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/holder/applications/{}", filed.id)))
        .json(present(&filed)))
}

/// The holder's applications, newest first: pending ones to decide, approved ones to withdraw.
#[utoipa::path(operation_id = "holder_application_list", get, path = "/v1/holder/applications", tag = "holder", security(("holder" = [])), responses(
    (status = 200, description = "`{applications}`, each with its `state`"), (status = 401, description = "no or wrong holder token")))]
pub async fn list(holder: Holder, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let applications: Vec<Value> = state
        .store
        .holder_applications(&holder.id)
        .await?
        .iter()
        .map(present)
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "applications": applications })))
}

/// One of the holder's applications.
#[utoipa::path(operation_id = "holder_application_show", get, path = "/v1/holder/applications/{id}", tag = "holder", security(("holder" = [])),
    params(("id" = String, Path, description = "application id")), responses(
    (status = 200, description = "the application"), (status = 401, description = "no or wrong holder token"),
    (status = 404, description = "application_not_found (also another holder's)")))]
pub async fn show(
    holder: Holder,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(present(&own(&state, &holder.id, &id).await?)))
}

/// Body of `POST /v1/holder/applications/{id}/approve`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Approval {
    /// The holder's own licences; absent: the ones the agency named (`requested`).
    licences: Option<Vec<String>>,
    /// Let the registry propose the holder's current licences of the matter's types.
    #[serde(default)]
    propose: bool,
}

/// The holder approves a pending application with the licences it chooses: the consent.
#[utoipa::path(operation_id = "holder_application_approve", post, path = "/v1/holder/applications/{id}/approve", tag = "holder", security(("holder" = [])),
    params(("id" = String, Path, description = "application id")), request_body = Approval, responses(
    (status = 200, description = "the application, `state: approved`, with each requirement met or missing"),
    (status = 400, description = "too_many_references, propose_with_licences"),
    (status = 401, description = "no or wrong holder token"),
    (status = 404, description = "application_not_found (also another holder's); licence_not_found (also another holder's)"),
    (status = 409, description = "application_not_pending (decided, closed or expired)")))]
pub async fn approve(
    holder: Holder,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: StrictJson<Approval>,
) -> Result<HttpResponse, ApiError> {
    let approval = body.value;
    let filed = approve_as(&state, &holder.id, &id, approval.licences, approval.propose).await?;
    Ok(HttpResponse::Ok().json(present(&filed)))
}

/// Approves the holder's pending application `id` with the licences named, or those the agency
/// named when `licences` is `None`, or those the registry proposes when `propose`.
pub(crate) async fn approve_as(
    state: &AppState,
    holder: &HolderId,
    id: &str,
    licences: Option<Vec<String>>,
    propose: bool,
) -> Result<Application, ApiError> {
    let mut filed = own(state, holder, id).await?;
    let now = Utc::now();
    filed.pending(now).map_err(conflict)?;
    let matter = checks::matter(state, &filed.matter).await?;
    let named = match licences {
        Some(licences) => licences,
        None if propose => vec![],
        None => filed.requested.iter().map(|l| l.urn()).collect(),
    };
    let texts = checks::chosen(state, &matter, holder, named, propose).await?;
    let (mut evaluation, references) = checks::check(state, &matter, holder, texts, now).await?;
    evaluation.autofilled = propose;
    filed.approve(evaluation, now).map_err(conflict)?;
    let records = checks::records(&filed, &references, APPROVE_ROUTE);
    decide(state, filed, ApplicationState::Pending, records).await
}

/// The holder declines a pending application: nothing is checked or readable, ever.
#[utoipa::path(operation_id = "holder_application_decline", post, path = "/v1/holder/applications/{id}/decline", tag = "holder", security(("holder" = [])),
    params(("id" = String, Path, description = "application id")), responses(
    (status = 200, description = "the application, `state: declined`"), (status = 401, description = "no or wrong holder token"),
    (status = 404, description = "application_not_found (also another holder's)"),
    (status = 409, description = "application_not_pending (decided, closed or expired)")))]
pub async fn decline(
    holder: Holder,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(present(&decline_as(&state, &holder.id, &id).await?)))
}

/// Declines the holder's pending application `id`.
pub(crate) async fn decline_as(
    state: &AppState,
    holder: &HolderId,
    id: &str,
) -> Result<Application, ApiError> {
    let mut filed = own(state, holder, id).await?;
    filed.decline(Utc::now()).map_err(conflict)?;
    decide(state, filed, ApplicationState::Pending, vec![]).await
}

/// The holder withdraws an approved application: the agency reads nothing more through it.
#[utoipa::path(operation_id = "holder_application_withdraw", post, path = "/v1/holder/applications/{id}/withdraw", tag = "holder", security(("holder" = [])),
    params(("id" = String, Path, description = "application id")), responses(
    (status = 200, description = "the application, `state: withdrawn`"), (status = 401, description = "no or wrong holder token"),
    (status = 404, description = "application_not_found (also another holder's)"),
    (status = 409, description = "application_not_approved (pending, declined or already withdrawn)")))]
pub async fn withdraw(
    holder: Holder,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(present(&withdraw_as(&state, &holder.id, &id).await?)))
}

/// Withdraws the holder's approved application `id`.
pub(crate) async fn withdraw_as(
    state: &AppState,
    holder: &HolderId,
    id: &str,
) -> Result<Application, ApiError> {
    let mut filed = own(state, holder, id).await?;
    filed.withdraw(Utc::now()).map_err(conflict)?;
    decide(state, filed, ApplicationState::Approved, vec![]).await
}

/// Stores the decision (one wins of two at once: 409 for the other).
async fn decide(
    state: &AppState,
    filed: Application,
    from: ApplicationState,
    records: Vec<crate::domain::access::NewAccessRecord>,
) -> Result<Application, ApiError> {
    let transition = match from {
        ApplicationState::Pending => Transition::NotPending,
        _ => Transition::NotApproved,
    };
    state
        .store
        .decide_application(&filed, from, records)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => conflict(transition),
            other => other.into(),
        })?;
    Ok(filed)
}

fn conflict(transition: Transition) -> ApiError {
    ApiError::conflict(transition.code(), transition.to_string())
}

/// The application, if the holder is its applicant (404 otherwise, as for a missing one).
async fn own(state: &AppState, holder: &HolderId, id: &str) -> Result<Application, ApiError> {
    state
        .store
        .application(id)
        .await?
        .filter(|a| &a.applicant == holder)
        .ok_or_else(|| ApiError::not_found("application_not_found", format!("no application {id}")))
}
