//! HTTP routes, one file per resource. Handlers extract, parse, call domain and storage, answer.

use std::sync::OnceLock;

use actix_web::dev::ResourceDef;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use utoipa::OpenApi;

use crate::error::ApiError;

pub mod agencies;
pub(crate) mod application_checks;
pub mod applications;
pub mod authorisations;
pub mod bundle;
pub mod catalogue;
pub mod consents;
pub mod did;
pub mod health;
pub mod holder;
pub mod holder_applications;
pub mod issuers;
pub mod licence_types;
pub mod licences;
pub mod log;
pub mod matters;
pub mod openapi;
mod openapi_bodies;
mod openapi_contract;
mod parse;
pub mod presentations;
mod references;
pub mod stats;
pub mod status_lists;
pub mod submissions;
pub mod vcapi;
pub mod verify;
mod verify_access;
pub mod verify_cache;

/// Registers every route. Actix tries routes in the order they are registered, so the
/// verification routes (the bulk of the traffic, and no pattern of theirs overlaps another's)
/// come first: registered last, matching them cost ~3 % of a verification request's CPU.
pub fn configure(cfg: &mut web::ServiceConfig) {
    verify::configure(cfg);
    health::configure(cfg);
    openapi::configure(cfg);
    licence_types::configure(cfg);
    catalogue::configure(cfg);
    issuers::configure(cfg);
    did::configure(cfg);
    authorisations::configure(cfg);
    vcapi::configure(cfg);
    submissions::configure(cfg);
    log::configure(cfg);
    licences::configure(cfg);
    agencies::configure(cfg);
    matters::configure(cfg);
    applications::configure(cfg);
    consents::configure(cfg);
    holder::configure(cfg);
    holder_applications::configure(cfg);
    stats::configure(cfg);
    bundle::configure(cfg);
    status_lists::configure(cfg);
    presentations::configure(cfg);
    crate::web::configure(cfg);
}

/// Answers a request no route took: 405 `method_not_allowed` with `Allow` when its path is one
/// the API document describes (only the method is wrong), else 404 `route_not_found`.
pub async fn fallback(req: HttpRequest) -> HttpResponse {
    let Some(allow) = allowed_methods(req.path()) else {
        return ApiError::not_found("route_not_found", "no such route").error_response();
    };
    let status = StatusCode::METHOD_NOT_ALLOWED;
    let body = serde_json::json!({
        "type": "urn:elicence:problem:method_not_allowed",
        "title": "Method Not Allowed",
        "status": status.as_u16(),
        "code": "method_not_allowed",
        "detail": format!("{} is not one of {allow}", req.method()),
    });
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .insert_header((header::ALLOW, allow.as_str()))
        .body(body.to_string())
}

/// The methods the API document gives the path that `path` matches, as an `Allow` value.
fn allowed_methods(path: &str) -> Option<&'static String> {
    static PATHS: OnceLock<Vec<(ResourceDef, String)>> = OnceLock::new();
    let paths = PATHS.get_or_init(|| {
        let doc = openapi::ApiDoc::openapi();
        doc.paths
            .paths
            .iter()
            .map(|(template, item)| {
                let methods = [
                    ("GET", &item.get),
                    ("PUT", &item.put),
                    ("POST", &item.post),
                    ("DELETE", &item.delete),
                    ("PATCH", &item.patch),
                ];
                let allow: Vec<&str> = methods
                    .iter()
                    .filter(|(_, op)| op.is_some())
                    .map(|(name, _)| *name)
                    .collect();
                (ResourceDef::new(template.as_str()), allow.join(", "))
            })
            .collect()
    });
    paths
        .iter()
        .find(|(def, _)| def.is_match(path))
        .map(|(_, allow)| allow)
}
