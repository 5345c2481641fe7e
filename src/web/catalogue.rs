//! `GET /` and the public directory: `GET /catalogue` (search by name, filtered in the store)
//! and `GET /catalogue/{code}` (a type with its schema's fields).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use minijinja::context;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::domain::identifiers::TypeCode;
use crate::domain::licence_type::{LicenceType, TypeFilter};
use crate::domain::presentation::schema_fields;
use crate::error::ApiError;
use crate::state::AppState;

use super::{message, page};

/// The most types one directory page lists.
const PAGE: u32 = 200;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(landing))
        .route("/catalogue", web::get().to(list))
        .route("/catalogue/{code}", web::get().to(show))
        .route("/favicon.ico", web::get().to(favicon));
}

/// The site icon browsers ask for on every page (an SVG; browsers take it at this path).
async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(include_str!("favicon.svg"))
}

async fn landing(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let filter = TypeFilter {
        limit: 1,
        ..TypeFilter::default()
    };
    let (_, count) = state.store.list_licence_types(&filter).await?;
    page(StatusCode::OK, "landing.html", context! { count })
}

#[derive(Debug, Deserialize)]
struct Search {
    #[serde(default)]
    q: String,
}

async fn list(
    state: web::Data<AppState>,
    search: web::Query<Search>,
) -> Result<HttpResponse, ApiError> {
    let q: String = search.q.trim().chars().take(100).collect();
    let filter = TypeFilter {
        text: (!q.is_empty()).then(|| q.clone()),
        limit: PAGE,
        ..TypeFilter::default()
    };
    let (types, total) = state.store.list_licence_types(&filter).await?;
    let types: Vec<Value> = types.iter().map(row).collect();
    page(
        StatusCode::OK,
        "catalogue.html",
        context! { q, total, types },
    )
}

async fn show(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let found = match code.parse::<TypeCode>() {
        Ok(code) => state.store.licence_type(&code).await?,
        Err(_) => None,
    };
    let Some(t) = found else {
        return message(
            StatusCode::NOT_FOUND,
            ("没有这种证照", "No such licence type"),
            (
                "目录中没有这个证照类型代码。",
                "The directory has no type with this code.",
            ),
        );
    };
    let version = t.latest_version();
    let schema = state
        .store
        .schema_document(&t.code, version)
        .await?
        .unwrap_or(Value::Null);
    let mut detail = row(&t);
    detail["version"] = json!(version);
    detail["status"] = json!(t.status.as_str());
    detail["matters"] = json!(t.matters.join("、"));
    detail["authority"] = json!(t.defining_authority.name);
    page(
        StatusCode::OK,
        "licence_type.html",
        context! { t => detail, fields => schema_fields(&schema) },
    )
}

fn row(t: &LicenceType) -> Value {
    let (zh, en) = match u8::from(t.holder_category) {
        1 => ("自然人", "Person"),
        _ => ("法人", "Legal person"),
    };
    json!({
        "code": t.code.to_string(), "nameZh": t.name_zh, "nameEn": t.name_en,
        "holderZh": zh, "holderEn": en,
    })
}
