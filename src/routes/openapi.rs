//! The API document, generated from the handlers' annotations.

use std::sync::OnceLock;

use actix_web::{web, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::openapi_contract::Contract;
use super::{
    agencies, applications, authorisations, bundle, catalogue, consents, did, health, holder,
    holder_applications, issuers, licence_types, licences, log, matters, presentations, stats,
    status_lists, submissions, vcapi, verify,
};
use crate::error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(title = "elicence", description = "Registry and verification service for electronic licences (电子证照)"),
    paths(
        health::health, health::ready, health::metrics, openapi,
        licence_types::list, licence_types::create, licence_types::show, licence_types::add_version,
        licence_types::schema, licence_types::publish, licence_types::deprecate, licence_types::transfer,
        catalogue::catalogue_json, catalogue::catalogue_csv,
        issuers::create, issuers::show, issuers::add_key, issuers::revoke_key, issuers::suspend,
        issuers::reinstate, issuers::create_token, did::registry, did::issuer,
        authorisations::create, authorisations::withdraw, authorisations::list,
        vcapi::issue, vcapi::verify,
        submissions::submit, submissions::head,
        log::latest_checkpoint, log::key, log::inclusion, log::consistency, log::entries,
        licences::show,
        agencies::create, agencies::show, agencies::add_key, agencies::revoke_key, agencies::holder_token,
        matters::create, matters::list, applications::create, applications::show, applications::close,
        applications::licence, consents::create, consents::withdraw, consents::agency_read,
        holder::licences, holder::licence, holder::access_records, holder::consents, stats::stats,
        holder_applications::apply, holder_applications::list, holder_applications::show,
        holder_applications::approve, holder_applications::decline, holder_applications::withdraw,
        verify::verify, verify::batch, verify::status,
        bundle::trust_bundle, status_lists::status_list,
        presentations::create, presentations::scan, presentations::qr_svg, presentations::qr_png,
        presentations::offline_svg, presentations::offline_png,
    ),
    modifiers(&Security, &Contract),
    tags((name = "service"), (name = "directory", description = "目录清单: the directory of licence types"),
        (name = "issuers", description = "issuers, their keys and DID documents"),
        (name = "authorisations", description = "what each issuer may issue, where and when"),
        (name = "vc-api", description = "W3C VC-API, for interoperability testing"),
        (name = "log", description = "the write path and the transparency log"),
        (name = "agencies", description = "agencies (用证部门) and their API keys"),
        (name = "holders", description = "holder tokens (standing in for the identity provider)"),
        (name = "applications", description = "service matters and applications by reference"),
        (name = "holder", description = "the holder's own licences, applications, consents and access records"),
        (name = "verify", description = "verification for agencies and anyone"),
        (name = "presentations", description = "presenting a licence by QR code"))
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "operator",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        for scheme in ["agency", "holder", "vcapi_client"] {
            components.add_security_scheme(
                scheme,
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
        components.add_security_scheme(
            "issuer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(openapi));
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "service", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi() -> Result<HttpResponse, ApiError> {
    // Built once: the document is fixed for the life of the process, and building it (the
    // shared contract, the answers' bodies) is not work to repeat for every anonymous caller.
    static DOCUMENT: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    let body = DOCUMENT
        .get_or_init(|| serde_json::to_vec(&ApiDoc::openapi()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the API document: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body.as_slice()))
}
