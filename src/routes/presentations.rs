//! Presentations by QR: `GET /p/{token}` (the page any phone camera opens, or JSON for agency
//! apps) and the QR images of a presentation's URL.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;

use crate::auth::Holder;
use crate::domain::presentation::PresentationRequest;
use crate::error::ApiError;
use crate::presentation::{self, plausible_token, CreateError, Scanned, Shown};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/presentations", web::post().to(create))
        .route("/p/{token}", web::get().to(scan))
        .route(
            "/v1/holder/licences/{id}/offline-qr.svg",
            web::get().to(offline_svg),
        )
        .route(
            "/v1/holder/licences/{id}/offline-qr.png",
            web::get().to(offline_png),
        )
        .route("/v1/presentations/{token}/qr.svg", web::get().to(qr_svg))
        .route("/v1/presentations/{token}/qr.png", web::get().to(qr_png));
}

/// Creates a presentation of one of the holder's own licences.
#[utoipa::path(post, path = "/v1/presentations", tag = "presentations", security(("holder" = [])),
    request_body = PresentationRequest,
    responses((status = 201, description = "`{token, url, expiresAt, singleUse, fields, qrSvg, qrPng}`"),
        (status = 401, description = "no or wrong holder token"),
        (status = 404, description = "licence_not_found: no such licence, or not this holder's"),
        (status = 422, description = "invalid_fields or invalid_lifetime")))]
pub async fn create(
    holder: Holder,
    state: web::Data<AppState>,
    body: web::Json<PresentationRequest>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.as_ref();
    let base = state.settings.public_base();
    match presentation::create(store, base, &holder.id, &body, Utc::now()).await {
        Ok(created) => Ok(HttpResponse::Created().json(created)),
        Err(CreateError::NotFound) => Err(ApiError::not_found(
            "licence_not_found",
            "no such licence of this holder",
        )),
        Err(CreateError::Terms(e)) => Err(ApiError::unprocessable(e.code(), e.to_string())),
        Err(CreateError::Store(e)) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct Lang {
    lang: Option<String>,
}

/// Opens a presentation: counts the scan, answers the verdict and the disclosed fields.
#[utoipa::path(get, path = "/p/{token}", tag = "presentations",
    params(("token" = String, Path, description = "the presentation token"),
        ("lang" = Option<String>, Query, description = "`zh` (default) or `en`")),
    responses((status = 200, description = "HTML page, or JSON `{verdict, fields, …}` on Accept: application/json"),
        (status = 404, description = "presentation_unknown", content_type = "text/html", body = String),
        (status = 410, description = "presentation_expired or presentation_used", content_type = "text/html", body = String)))]
pub async fn scan(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    lang: web::Query<Lang>,
) -> Result<HttpResponse, ApiError> {
    let json = wants_json(&req);
    let scanned = if plausible_token(&token) {
        presentation::scan(state.store.as_ref(), &state.verifier, &token, Utc::now()).await?
    } else {
        Scanned::Unknown
    };
    match (scanned, json) {
        (Scanned::Shown(shown), true) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(shown)),
        (Scanned::Shown(shown), false) => page(&shown, english(&lang)),
        (refused, true) => Err(problem(&refused)),
        (refused, false) => refused_page(&refused),
    }
}

fn page(shown: &Shown, en: bool) -> Result<HttpResponse, ApiError> {
    crate::web::page(
        StatusCode::OK,
        "presentation.html",
        minijinja::context! {
            s => shown, en, ln => if en { "en" } else { "zh" }, lang => if en { "en" } else { "zh-CN" },
        },
    )
}

fn problem(refused: &Scanned) -> ApiError {
    match refused {
        Scanned::Expired => ApiError::gone("presentation_expired", "this presentation has expired"),
        Scanned::UsedUp => ApiError::gone(
            "presentation_used",
            "this presentation was for one scan and has been used",
        ),
        _ => ApiError::not_found("presentation_unknown", "no such presentation"),
    }
}

fn refused_page(refused: &Scanned) -> Result<HttpResponse, ApiError> {
    let (status, title, text) = match refused {
        Scanned::Expired => (
            StatusCode::GONE,
            ("二维码已过期", "This QR code has expired"),
            (
                "请持证人重新生成二维码。",
                "Ask the holder to make a new QR code.",
            ),
        ),
        Scanned::UsedUp => (
            StatusCode::GONE,
            ("二维码已使用", "This QR code has been used"),
            (
                "该二维码只能扫描一次，请持证人重新生成。",
                "It was for one scan only; ask the holder for a new one.",
            ),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            ("无效的二维码", "Unknown QR code"),
            (
                "没有找到这个出示码，证照内容不会显示。",
                "No such presentation; no licence is shown.",
            ),
        ),
    };
    crate::web::message(status, title, text)
}

/// The QR code of the presentation's URL, as SVG.
#[utoipa::path(get, path = "/v1/presentations/{token}/qr.svg", tag = "presentations",
    params(("token" = String, Path, description = "the presentation token")),
    responses((status = 200, description = "image/svg+xml"), (status = 404, description = "presentation_unknown"),
        (status = 410, description = "presentation_expired or presentation_used")))]
pub async fn qr_svg(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let url = live_url(&state, &token).await?;
    let svg = crate::qr::render_svg(&url).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(image("image/svg+xml", svg.into_bytes()))
}

/// The QR code of the presentation's URL, as PNG (at least 300 px wide).
#[utoipa::path(get, path = "/v1/presentations/{token}/qr.png", tag = "presentations",
    params(("token" = String, Path, description = "the presentation token")),
    responses((status = 200, description = "image/png"), (status = 404, description = "presentation_unknown"),
        (status = 410, description = "presentation_expired or presentation_used")))]
pub async fn qr_png(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let url = live_url(&state, &token).await?;
    let png = crate::qr::render_png(&url).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(image("image/png", png))
}

/// The offline QR code (the signed licence and its registration receipt, `EL2:…`) of one of the
/// holder's licences.
#[utoipa::path(get, path = "/v1/holder/licences/{id}/offline-qr.svg", tag = "presentations", security(("holder" = [])),
    params(("id" = String, Path, description = "licence id or URN")),
    responses((status = 200, description = "image/svg+xml"), (status = 401, description = "no or wrong holder token"),
        (status = 404, description = "licence_not_found")))]
pub async fn offline_svg(
    holder: Holder,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let payload = offline_payload(&holder, &state, &id).await?;
    let svg = crate::qr::render_svg(&payload).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(image("image/svg+xml", svg.into_bytes()))
}

/// The offline QR code of one of the holder's licences, as PNG.
#[utoipa::path(get, path = "/v1/holder/licences/{id}/offline-qr.png", tag = "presentations", security(("holder" = [])),
    params(("id" = String, Path, description = "licence id or URN")),
    responses((status = 200, description = "image/png"), (status = 401, description = "no or wrong holder token"),
        (status = 404, description = "licence_not_found")))]
pub async fn offline_png(
    holder: Holder,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let payload = offline_payload(&holder, &state, &id).await?;
    let png = crate::qr::render_png(&payload).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(image("image/png", png))
}

/// `EL2:…` of the holder's own licence version; another holder's answers as a missing one.
async fn offline_payload(holder: &Holder, state: &AppState, id: &str) -> Result<String, ApiError> {
    let not_found = || ApiError::not_found("licence_not_found", "no such licence of this holder");
    let id = crate::domain::identifiers::LicenceId::parse_reference(id)
        .ok()
        .ok_or_else(not_found)?;
    let record = state
        .store
        .licence_record(&id)
        .await?
        .filter(|r| r.holder == holder.id)
        .ok_or_else(not_found)?;
    registered_payload(state, &record).await
}

/// The offline payload of a stored licence version: `EL2:` with the version's registration
/// receipt, so that an offline verifier learns it was registered without a list of licences.
pub(crate) async fn registered_payload(
    state: &AppState,
    record: &crate::storage::LicenceRecord,
) -> Result<String, ApiError> {
    let stored = state
        .store
        .licence_history(&record.id.base())
        .await?
        .and_then(|h| h.versions.into_iter().find(|v| v.id == record.id));
    let origin = state.settings.log_origin();
    let receipt = stored.and_then(|v| {
        crate::log::registration::for_digest(
            state.registry_key.signing_key(),
            &origin,
            &v.digest,
            v.leaf_index,
            v.accepted_at,
        )
    });
    Ok(match receipt {
        Some(receipt) => crate::qr::encode_registered(&record.document, &receipt),
        None => crate::qr::encode_offline(&record.document),
    })
}

/// The URL of a presentation that can still be scanned (looking does not count as a scan).
async fn live_url(state: &AppState, token: &str) -> Result<String, ApiError> {
    let hash = crate::crypto::digest::sha256(token.as_bytes());
    let found = if plausible_token(token) {
        state.store.presentation(&hash).await?
    } else {
        None
    };
    let now = Utc::now();
    match found {
        None => Err(problem(&Scanned::Unknown)),
        Some(p) if p.expires_at <= now => Err(problem(&Scanned::Expired)),
        Some(p) if p.max_uses.is_some_and(|m| p.uses >= m) => Err(problem(&Scanned::UsedUp)),
        Some(_) => Ok(format!("{}/p/{token}", state.settings.public_base())),
    }
}

pub(crate) fn image(kind: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(kind)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

/// `Accept: application/json` (before any HTML) asks for JSON.
fn wants_json(req: &HttpRequest) -> bool {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json = accept.find("application/json");
    let html = accept.find("text/html");
    match (json, html) {
        (Some(j), Some(h)) => j < h,
        (Some(_), None) => true,
        _ => false,
    }
}

/// English when `?lang=en`, or when Accept-Language prefers English to Chinese.
/// The scan page leads in Chinese, with English a link away (`?lang=en`), whatever language the
/// scanning phone prefers: the page is read where the licence is shown, in China.
fn english(lang: &Lang) -> bool {
    lang.lang
        .as_deref()
        .is_some_and(|l| l.to_ascii_lowercase().starts_with("en"))
}
