//! The holder's page: sign in (through the identity provider, `holder_oidc`, or on a registry
//! without one with an operator-minted holder token: the development sign-in) into a server-side
//! session (`holder_session`), then see the licences with their history, make a presentation QR code
//! with a choice of fields, decide on applications (`holder_applications`), and see the access
//! records and consents.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use minijinja::context;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::crypto::digest::sha256;
use crate::domain::identifiers::HolderId;
use crate::domain::presentation::{schema_fields, PresentationRequest, DEFAULT_FIELDS};
use crate::domain::time::seconds;
use crate::error::ApiError;
use crate::presentation::{self, CreateError};
use crate::state::AppState;
use crate::storage::{LicenceRecord, SignedInVia};

use super::holder_session::{end, see_other, signed_in, signed_in_form, start};
use super::{message, page, PAGE_CSP};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/holder", web::get().to(show))
        .route("/holder/login", web::post().to(login))
        .route("/holder/logout", web::post().to(logout))
        .route("/holder/presentations", web::post().to(present))
        .route(
            "/holder/licences/{id}/offline-qr.svg",
            web::get().to(offline),
        );
}

#[derive(Deserialize)]
struct Login {
    token: String,
}

/// The development sign-in with an operator-minted holder token; off when the registry has an
/// identity provider.
async fn login(
    state: web::Data<AppState>,
    form: web::Form<Login>,
) -> Result<HttpResponse, ApiError> {
    if state.oidc.is_some() {
        return message(
            StatusCode::NOT_FOUND,
            (
                "请通过身份认证平台登录",
                "Sign in through the identity provider",
            ),
            (
                "本登记系统不接受令牌登录。",
                "Token sign-in is off on this registry (token_sign_in_off).",
            ),
        );
    }
    let Some(holder) = holder_for(&state, form.token.trim()).await? else {
        return login_page(&state, StatusCode::UNAUTHORIZED, true);
    };
    let session = start(&state, holder, SignedInVia::Token).await?;
    let mut response = see_other("/holder");
    response
        .add_cookie(&session)
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(response)
}

/// Ends the session here and, for a session from the identity provider that offers it, at the
/// provider too (RP-initiated logout).
async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let Some(session) = signed_in_form(&req, &state, &form).await? else {
        return refused_form(&state);
    };
    let removal = end(&state, &session).await?;
    let mut next = None;
    if let (SignedInVia::Oidc, Some(oidc)) = (session.via, state.oidc.as_ref()) {
        next = oidc.end_session_url().await;
    }
    let mut response = see_other(next.as_deref().unwrap_or("/holder"));
    response
        .add_cookie(&removal)
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(response)
}

/// The sign-in page: the identity provider's button, or the development token form.
pub(super) fn login_page(
    state: &AppState,
    status: StatusCode,
    error: bool,
) -> Result<HttpResponse, ApiError> {
    let oidc = state.oidc.is_some();
    page(status, "holder_login.html", context! { error, oidc })
}

/// A holder form without a live session or with a wrong CSRF token.
pub(super) fn refused_form(state: &AppState) -> Result<HttpResponse, ApiError> {
    login_page(state, StatusCode::FORBIDDEN, true)
}

async fn show(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let Some(session) = signed_in(&req, &state).await? else {
        return login_page(&state, StatusCode::OK, false);
    };
    let holder = &session.holder;
    let now = Utc::now();
    let mut licences = Vec::new();
    for record in state.store.holder_licences(holder).await? {
        licences.push(licence_view(&state, &record).await?);
    }
    let records: Vec<Value> = state
        .store
        .holder_access_records(holder, None, 20)
        .await?
        .iter()
        .map(|r| r.present())
        .collect();
    let consents: Vec<Value> = state
        .store
        .holder_consents(holder)
        .await?
        .iter()
        .map(|c| crate::routes::consents::present(c, now))
        .collect();
    let applications: Vec<Value> = state
        .store
        .holder_applications(holder)
        .await?
        .iter()
        .map(super::holder_applications::view)
        .collect();
    let tokens = super::holder_tokens::list(&state, holder).await?;
    let development = session.via == SignedInVia::Token;
    let context = context! {
        holder => holder.urn(), licences, records, consents, applications, tokens,
        csrf => session.csrf, development,
    };
    let mut response = page(StatusCode::OK, "holder.html", context)?;
    if let (SignedInVia::Oidc, Some(oidc)) = (session.via, state.oidc.as_ref()) {
        // The sign-out form's answer redirects on to the provider's end_session_endpoint,
        // which `form-action` also governs: allow that one origin on this page.
        if let Some(origin) = oidc.end_session_origin().await {
            let csp = PAGE_CSP.replace(
                "form-action 'self'",
                &format!("form-action 'self' {origin}"),
            );
            let value = HeaderValue::from_str(&csp).map_err(|e| ApiError::Internal(e.into()))?;
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    Ok(response)
}

/// One licence with its history and the fields its schema offers.
async fn licence_view(state: &AppState, record: &LicenceRecord) -> Result<Value, ApiError> {
    let store = state.store.as_ref();
    let licence_type = store.licence_type(record.id.type_code()).await?;
    let schema = store
        .schema_document(record.id.type_code(), record.schema_version)
        .await?
        .unwrap_or(Value::Null);
    let fields: Vec<Value> = schema_fields(&schema)
        .into_iter()
        .filter(|f| f.name != "id")
        .map(|f| {
            let checked =
                DEFAULT_FIELDS.contains(&f.name.as_str()) || f.name == "certificateNumber";
            json!({"name": f.name, "title": f.title, "checked": checked})
        })
        .collect();
    // Only the versions naming this licence's holder, whatever the store holds.
    let history = store
        .licence_history(&record.id.base())
        .await?
        .map(|h| h.held_by(&record.holder));
    let mut lines = Vec::new();
    for v in history.iter().flat_map(|h| &h.versions) {
        lines.push(json!({"at": seconds(v.accepted_at), "version": v.id.version()}));
    }
    for e in history.iter().flat_map(|h| &h.events) {
        lines.push(json!({"at": seconds(e.effective_from), "action": e.action.as_str(), "reason": e.reason}));
    }
    let (zh, en) = licence_type.map_or((String::new(), String::new()), |t| (t.name_zh, t.name_en));
    Ok(json!({
        "id": record.id.urn(), "typeName": zh, "typeNameEn": en,
        "status": crate::routes::holder::status(record, Utc::now()),
        "validFrom": seconds(record.valid_from), "validUntil": seconds(record.valid_until),
        "fields": fields, "history": lines,
    }))
}

/// The form of `/holder`: `licence`, `field` (repeated), `lifetime` (seconds), `use`.
async fn present(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let Some(holder) = signed_in_form(&req, &state, &form).await?.map(|s| s.holder) else {
        return refused_form(&state);
    };
    let value = |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let fields: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "field")
        .map(|(_, v)| v.clone())
        .collect();
    let request = PresentationRequest {
        licence: value("licence").unwrap_or_default(),
        fields: (!fields.is_empty()).then_some(fields),
        lifetime_seconds: value("lifetime").and_then(|v| v.parse().ok()),
        single_use: Some(value("use").as_deref() != Some("multi")),
    };
    let base = state.settings.public_base();
    match presentation::create(state.store.as_ref(), base, &holder, &request, Utc::now()).await {
        Ok(created) => {
            let shown = field_titles(&state, &request.licence, &created.fields).await?;
            page(
                StatusCode::CREATED,
                "holder_created.html",
                context! { p => created, shown },
            )
        }
        Err(CreateError::NotFound) => message(
            StatusCode::NOT_FOUND,
            ("没有这个证照", "No such licence"),
            ("您的证照中没有这一项。", "This licence is not among yours."),
        ),
        Err(CreateError::Terms(e)) => message(
            StatusCode::UNPROCESSABLE_ENTITY,
            ("无法生成二维码", "Cannot make the QR code"),
            ("请检查所选内容和有效时长。", &e.to_string()),
        ),
        Err(CreateError::Store(e)) => Err(e.into()),
    }
}

/// The offline QR code of one of the signed-in holder's licences.
async fn offline(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::not_found("licence_not_found", "no such licence of this holder");
    let holder = signed_in(&req, &state).await?.ok_or_else(not_found)?.holder;
    let id = crate::domain::identifiers::LicenceId::parse_reference(&id)
        .ok()
        .ok_or_else(not_found)?;
    let record = state
        .store
        .licence_record(&id)
        .await?
        .filter(|r| r.holder == holder)
        .ok_or_else(not_found)?;
    let payload = crate::routes::presentations::registered_payload(&state, &record).await?;
    let svg = crate::qr::render_svg(&payload).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(crate::routes::presentations::image(
        "image/svg+xml",
        svg.into_bytes(),
    ))
}

/// The schema titles of a presented licence's `fields`, in their order (a name without a title
/// stays as it is).
async fn field_titles(
    state: &AppState,
    licence: &str,
    fields: &[String],
) -> Result<Vec<String>, ApiError> {
    let id = crate::domain::identifiers::LicenceId::parse_reference(licence).ok();
    let record = match &id {
        Some(id) => state.store.licence_record(id).await?,
        None => None,
    };
    let schema = match &record {
        Some(r) => state
            .store
            .schema_document(r.id.type_code(), r.schema_version)
            .await?
            .unwrap_or(Value::Null),
        None => Value::Null,
    };
    let titled = schema_fields(&schema);
    Ok(fields
        .iter()
        .map(|name| {
            titled
                .iter()
                .find(|f| &f.name == name)
                .map_or_else(|| name.clone(), |f| f.title.clone())
        })
        .collect())
}

async fn holder_for(state: &AppState, token: &str) -> Result<Option<HolderId>, ApiError> {
    if token.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    Ok(state
        .store
        .holder_by_token(&sha256(token.as_bytes()), Utc::now())
        .await?)
}
