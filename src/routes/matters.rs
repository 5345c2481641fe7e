//! Service matters (事项): the operator defines them; anyone lists them.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Operator;
use crate::domain::identifiers::TypeCode;
use crate::domain::matter::{check_code, check_requirements, Matter, Requirement};
use crate::error::ApiError;
use crate::extract::StrictJson;
use crate::state::AppState;
use crate::storage::StoreError;

use super::parse::{parse_uscc, text_field};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/matters", web::post().to(create))
        .route("/v1/matters", web::get().to(list));
}

/// Body of `POST /v1/matters`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewMatter {
    /// Up to 12 characters: A-Z, a-z, 0-9, `-`, `_`.
    code: String,
    name: String,
    /// USCC of the registered agency that handles the matter.
    agency: String,
    requirements: Vec<NewRequirement>,
}

/// One licence type a matter requires.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRequirement {
    type_code: String,
    /// Default true; an optional requirement never blocks an application.
    required: Option<bool>,
    /// Accepted schema versions; absent or empty accepts all.
    accepted_versions: Option<Vec<u32>>,
}

/// Defines a service matter.
#[utoipa::path(post, path = "/v1/matters", tag = "applications", security(("operator" = [])), request_body = NewMatter, responses(
    (status = 201, description = "the matter"), (status = 400, description = "invalid_matter_code, invalid_type_code, invalid_field"),
    (status = 401, description = "no or wrong operator token"), (status = 409, description = "matter_exists"),
    (status = 422, description = "agency_not_found, licence_type_not_found, version_not_found, no_requirements, duplicate_requirement")))]
pub async fn create(
    _: Operator,
    state: web::Data<AppState>,
    body: StrictJson<NewMatter>,
) -> Result<HttpResponse, ApiError> {
    let request = body.value;
    check_code(&request.code).map_err(|e| ApiError::bad_request(e.code(), e.to_string()))?;
    let name = text_field(Some(request.name), "name", 200)?
        .ok_or_else(|| ApiError::bad_request("invalid_field", "name must not be empty"))?;
    let agency = parse_uscc(&request.agency, "agency")?;
    if state.store.agency(&agency).await?.is_none() {
        return Err(ApiError::unprocessable(
            "agency_not_found",
            format!("no agency {agency}"),
        ));
    }
    let mut requirements = Vec::with_capacity(request.requirements.len());
    for r in request.requirements {
        requirements.push(requirement(&state, r).await?);
    }
    check_requirements(&requirements)
        .map_err(|e| ApiError::unprocessable(e.code(), e.to_string()))?;
    let matter = Matter {
        code: request.code,
        name,
        agency,
        requirements,
        created_at: Utc::now(),
    };
    state
        .store
        .insert_matter(&matter)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ApiError::conflict("matter_exists", format!("matter {} exists", matter.code))
            }
            other => other.into(),
        })?;
    Ok(HttpResponse::Created().json(&matter))
}

async fn requirement(state: &AppState, r: NewRequirement) -> Result<Requirement, ApiError> {
    let type_code: TypeCode = r
        .type_code
        .parse()
        .map_err(|e| ApiError::bad_request("invalid_type_code", format!("typeCode: {e}")))?;
    let Some(licence_type) = state.store.licence_type(&type_code).await? else {
        return Err(ApiError::unprocessable(
            "licence_type_not_found",
            format!("no licence type {type_code}"),
        ));
    };
    let mut accepted_versions = r.accepted_versions.unwrap_or_default();
    accepted_versions.sort_unstable();
    accepted_versions.dedup();
    if let Some(v) = accepted_versions
        .iter()
        .find(|&&v| v == 0 || v > licence_type.latest_version())
    {
        return Err(ApiError::unprocessable(
            "version_not_found",
            format!("licence type {type_code} has no schema version {v}"),
        ));
    }
    Ok(Requirement {
        type_code,
        required: r.required.unwrap_or(true),
        accepted_versions,
    })
}

/// Every service matter with its requirements.
#[utoipa::path(get, path = "/v1/matters", tag = "applications", responses((status = 200, description = "`{matters}`")))]
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(json!({"matters": state.store.matters().await?})))
}
