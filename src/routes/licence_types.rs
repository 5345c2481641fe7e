//! The directory of licence types (目录清单): public reads, operator upkeep.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Operator;
use crate::crypto::digest::digest_value;
use crate::domain::identifiers::{TypeCode, Uscc};
use crate::domain::licence_type::{
    parse_authority, HolderCategory, LicenceType, NewLicenceType, NewLicenceTypeRequest, Transfer,
    TypeFilter, TypeStatus,
};
use crate::domain::schema::CompiledSchema;
use crate::error::ApiError;
use crate::extract::StrictJson;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/licence-types", web::get().to(list))
        .route("/v1/licence-types", web::post().to(create))
        .route("/v1/licence-types/{code}", web::get().to(show))
        .route(
            "/v1/licence-types/{code}/versions",
            web::post().to(add_version),
        )
        .route(
            "/v1/licence-types/{code}/versions/{version}/schema",
            web::get().to(schema),
        )
        .route("/v1/licence-types/{code}/publish", web::post().to(publish))
        .route(
            "/v1/licence-types/{code}/deprecate",
            web::post().to(deprecate),
        )
        .route(
            "/v1/licence-types/{code}/transfer",
            web::post().to(transfer),
        );
}

/// Query of the directory list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListQuery {
    /// draft, published or deprecated
    status: Option<String>,
    /// 1 person, 2 legal person
    holder_category: Option<u8>,
    /// The defining authority's USCC
    authority: Option<String>,
    /// Free text matched against the Chinese and English names
    q: Option<String>,
    /// Page number, from 1
    page: Option<u32>,
    /// Items per page, 1–100 (default 20)
    per_page: Option<u32>,
}

impl TryFrom<ListQuery> for TypeFilter {
    type Error = ApiError;
    fn try_from(q: ListQuery) -> Result<Self, ApiError> {
        let status = q
            .status
            .map(|s| {
                TypeStatus::parse(&s).ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_query",
                        "status must be draft, published or deprecated",
                    )
                })
            })
            .transpose()?;
        let holder_category = q
            .holder_category
            .map(|c| {
                HolderCategory::try_from(c).map_err(|e| ApiError::bad_request("invalid_query", e))
            })
            .transpose()?;
        let authority = q
            .authority
            .map(|a| {
                a.parse::<Uscc>()
                    .map_err(|e| ApiError::bad_request("invalid_query", format!("authority: {e}")))
            })
            .transpose()?;
        let per_page = q.per_page.unwrap_or(20);
        let page = q.page.unwrap_or(1);
        if !(1..=100).contains(&per_page) || page == 0 || page > 100_000 {
            return Err(ApiError::bad_request(
                "invalid_query",
                "page ≥ 1 and 1 ≤ perPage ≤ 100",
            ));
        }
        if q.q.as_ref().is_some_and(|t| t.chars().count() > 100) {
            return Err(ApiError::bad_request(
                "invalid_query",
                "q: at most 100 characters",
            ));
        }
        Ok(TypeFilter {
            status,
            holder_category,
            authority,
            text: q.q,
            offset: (page - 1) * per_page,
            limit: per_page,
        })
    }
}

/// Lists the directory with filters and paging.
#[utoipa::path(get, path = "/v1/licence-types", tag = "directory", params(ListQuery), responses(
    (status = 200, description = "a page of licence types"), (status = 400, description = "invalid filter")))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = TypeFilter::try_from(query.into_inner())?;
    let (items, total) = state.store.list_licence_types(&filter).await?;
    let items: Vec<Value> = items.iter().map(|t| present(t, &state)).collect();
    Ok(HttpResponse::Ok().json(json!({
        "items": items,
        "total": total,
        "page": filter.offset / filter.limit + 1,
        "perPage": filter.limit,
    })))
}

/// Creates a licence type (status draft) with schema version 1.
#[utoipa::path(post, path = "/v1/licence-types", tag = "directory", security(("operator" = [])),
    request_body = crate::routes::openapi_bodies::NewLicenceTypeDoc, responses(
    (status = 201, description = "created"), (status = 400, description = "invalid type"),
    (status = 401, description = "no or wrong operator token"), (status = 409, description = "code taken"),
    (status = 422, description = "invalid schema")))]
pub async fn create(
    _: Operator,
    state: web::Data<AppState>,
    body: StrictJson<NewLicenceTypeRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut request = body.value;
    if request.status.take().is_some() {
        return Err(ApiError::bad_request(
            "invalid_field",
            "status is set by publish / deprecate, not on creation",
        ));
    }
    let new = NewLicenceType::try_from(request).map_err(type_error)?;
    let digest = digest_value(new.schema.document());
    state
        .store
        .insert_licence_type(&new, TypeStatus::Draft, &digest, Utc::now())
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict { .. } => ApiError::conflict(
                "type_code_taken",
                format!("licence type {} already exists", new.code),
            ),
            other => other,
        })?;
    let created = fetch(&state, &new.code).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/licence-types/{}", new.code)))
        .json(present(&created, &state)))
}

/// One licence type with every schema version and transfer.
#[utoipa::path(get, path = "/v1/licence-types/{code}", tag = "directory", params(("code" = String, Path, description = "21-character type code")), responses(
    (status = 200, description = "the type"), (status = 400, description = "not a type code"), (status = 404, description = "unknown type")))]
pub async fn show(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = parse_code(&code)?;
    Ok(HttpResponse::Ok().json(present(&fetch(&state, &code).await?, &state)))
}

/// Body of `POST …/versions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewVersion {
    schema: Value,
}

/// Adds a schema version; licences issued under older versions stay valid.
#[utoipa::path(post, path = "/v1/licence-types/{code}/versions", tag = "directory", security(("operator" = [])),
    request_body = crate::routes::openapi_bodies::NewVersionDoc, params(("code" = String, Path, description = "type code")), responses(
    (status = 201, description = "version added"), (status = 404, description = "unknown type"),
    (status = 409, description = "type deprecated"), (status = 422, description = "invalid schema")))]
pub async fn add_version(
    _: Operator,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: StrictJson<NewVersion>,
) -> Result<HttpResponse, ApiError> {
    let code = parse_code(&code)?;
    let existing = fetch(&state, &code).await?;
    if existing.status == TypeStatus::Deprecated {
        return Err(ApiError::conflict(
            "type_deprecated",
            "a deprecated type takes no new schema versions",
        ));
    }
    let compiled = CompiledSchema::compile(body.value.schema)
        .map_err(|e| ApiError::unprocessable(e.code(), e.to_string()))?;
    let digest = digest_value(compiled.document());
    let version = state
        .store
        .add_schema_version(&code, compiled.document(), &digest, Utc::now())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", schema_path(&code, version)))
        .json(json!({"code": code, "version": version, "digest": digest, "schemaUrl": schema_url(&state, &code, version)})))
}

/// A version's JSON Schema document.
#[utoipa::path(get, path = "/v1/licence-types/{code}/versions/{version}/schema", tag = "directory",
    params(("code" = String, Path, description = "type code"), ("version" = u32, Path, description = "schema version")),
    responses((status = 200, description = "the schema", content_type = "application/schema+json"), (status = 404, description = "no such version")))]
pub async fn schema(
    state: web::Data<AppState>,
    path: web::Path<(String, u32)>,
) -> Result<HttpResponse, ApiError> {
    let (code, version) = path.into_inner();
    let code = parse_code(&code)?;
    let document = state
        .store
        .schema_document(&code, version)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "schema_version_not_found",
                format!("licence type {code} has no schema version {version}"),
            )
        })?;
    Ok(HttpResponse::Ok()
        .content_type("application/schema+json")
        .body(document.to_string()))
}

/// draft → published.
#[utoipa::path(post, path = "/v1/licence-types/{code}/publish", tag = "directory", security(("operator" = [])),
    params(("code" = String, Path, description = "type code")), responses((status = 200, description = "published"), (status = 409, description = "illegal transition")))]
pub async fn publish(
    _: Operator,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change_status(&state, &code, TypeStatus::Published).await
}

/// published → deprecated.
#[utoipa::path(post, path = "/v1/licence-types/{code}/deprecate", tag = "directory", security(("operator" = [])),
    params(("code" = String, Path, description = "type code")), responses((status = 200, description = "deprecated"), (status = 409, description = "illegal transition")))]
pub async fn deprecate(
    _: Operator,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change_status(&state, &code, TypeStatus::Deprecated).await
}

async fn change_status(
    state: &AppState,
    code: &str,
    to: TypeStatus,
) -> Result<HttpResponse, ApiError> {
    let code = parse_code(code)?;
    let current = fetch(state, &code).await?;
    if !current.status.can_become(to) {
        return Err(ApiError::conflict(
            "illegal_status_transition",
            format!(
                "licence type {code} is {} and cannot become {}",
                current.status.as_str(),
                to.as_str()
            ),
        ));
    }
    state
        .store
        .set_type_status(&code, current.status, to, Utc::now())
        .await
        .map_err(|_| {
            ApiError::conflict(
                "illegal_status_transition",
                format!("licence type {code} changed status concurrently"),
            )
        })?;
    Ok(HttpResponse::Ok().json(present(&fetch(state, &code).await?, state)))
}

/// Body of `POST …/transfer`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferRequest {
    defining_authority: Value,
    reason: Option<String>,
}

/// Reassigns the competent authority (institutional reform); issued licences are untouched.
#[utoipa::path(post, path = "/v1/licence-types/{code}/transfer", tag = "directory", security(("operator" = [])),
    request_body = crate::routes::openapi_bodies::TransferDoc, params(("code" = String, Path, description = "type code")), responses((status = 200, description = "transferred"), (status = 400, description = "invalid authority"), (status = 409, description = "same authority")))]
pub async fn transfer(
    _: Operator,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: StrictJson<TransferRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = parse_code(&code)?;
    let current = fetch(&state, &code).await?;
    let request = body.value;
    let to = parse_authority(request.defining_authority).map_err(type_error)?;
    if to == current.defining_authority {
        return Err(ApiError::conflict(
            "same_authority",
            "the type already has this defining authority",
        ));
    }
    if request
        .reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > 500)
    {
        return Err(ApiError::bad_request(
            "invalid_field",
            "reason: at most 500 characters",
        ));
    }
    let transfer = Transfer {
        from: current.defining_authority,
        to,
        effective_at: Utc::now(),
        reason: request.reason,
    };
    state.store.transfer_licence_type(&code, &transfer).await?;
    Ok(HttpResponse::Ok().json(present(&fetch(&state, &code).await?, &state)))
}

pub(crate) fn parse_code(text: &str) -> Result<TypeCode, ApiError> {
    text.parse().map_err(|e| {
        ApiError::bad_request(
            "invalid_type_code",
            format!(
                "{:?} is not a licence-type code: {e}",
                text.chars().take(40).collect::<String>()
            ),
        )
    })
}

pub(crate) async fn fetch(state: &AppState, code: &TypeCode) -> Result<LicenceType, ApiError> {
    state.store.licence_type(code).await?.ok_or_else(|| {
        ApiError::not_found("licence_type_not_found", format!("no licence type {code}"))
    })
}

fn type_error(e: crate::domain::licence_type::LicenceTypeError) -> ApiError {
    use crate::domain::licence_type::LicenceTypeError as E;
    match e {
        E::Schema(s) => ApiError::unprocessable(s.code(), s.to_string()),
        other => ApiError::bad_request(other.code(), other.to_string()),
    }
}

fn schema_path(code: &TypeCode, version: u32) -> String {
    format!("/v1/licence-types/{code}/versions/{version}/schema")
}

fn schema_url(state: &AppState, code: &TypeCode, version: u32) -> String {
    format!(
        "{}{}",
        state.settings.public_base(),
        schema_path(code, version)
    )
}

/// The API form of a type: the stored fields plus links to each schema version.
pub(crate) fn present(t: &LicenceType, state: &AppState) -> Value {
    let mut value = serde_json::to_value(t).unwrap_or(Value::Null);
    if let Some(versions) = value.get_mut("versions").and_then(Value::as_array_mut) {
        for v in versions.iter_mut() {
            let n = v
                .get("version")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0);
            v["schemaUrl"] = Value::String(schema_url(state, &t.code, n));
        }
    }
    value["latestVersion"] = json!(t.latest_version());
    value
}
