//! Signing in on the holder page through the province's identity provider (`crate::oidc`):
//! `/holder/oidc/login` sends the holder there with a fresh `state`, `nonce` and PKCE challenge
//! (kept in the short-lived `elicence_oidc` cookie), `/holder/oidc/callback` checks `state`,
//! has the code exchanged and the ID token verified, and only then starts a session. A refused
//! callback stores nothing and says why on a page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::oidc::{OidcError, PendingLogin};
use crate::state::AppState;
use crate::storage::SignedInVia;

use super::holder_session::{cookie, removal, see_other, start};
use super::message;

const PENDING_COOKIE: &str = "elicence_oidc";
const PENDING_PATH: &str = "/holder/oidc";
/// How long the holder may take at the provider.
const PENDING_MINUTES: i64 = 10;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/holder/oidc/login", web::get().to(login))
        .route("/holder/oidc/callback", web::get().to(callback));
}

async fn login(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let Some(oidc) = state.oidc.as_ref() else {
        return not_configured();
    };
    match oidc.begin().await {
        Ok((url, pending)) => {
            let keep = cookie(
                &state,
                PENDING_COOKIE,
                pending.encode(),
                PENDING_PATH,
                PENDING_MINUTES,
            );
            let mut response = see_other(&url);
            response
                .add_cookie(&keep)
                .map_err(|e| ApiError::Internal(e.into()))?;
            Ok(response)
        }
        Err(e) => refused(&e),
    }
}

/// What the provider sends back: `code` and `state`, or `error`.
#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Callback>,
) -> Result<HttpResponse, ApiError> {
    let Some(oidc) = state.oidc.as_ref() else {
        return not_configured();
    };
    let pending = req
        .cookie(PENDING_COOKIE)
        .and_then(|c| PendingLogin::decode(c.value()));
    let state_matches = match (&pending, &query.state) {
        (Some(pending), Some(sent)) => bool::from(pending.state.as_bytes().ct_eq(sent.as_bytes())),
        _ => false,
    };
    let (Some(pending), true) = (pending, state_matches) else {
        tracing::warn!(code = "oidc_state_mismatch", "holder sign-in refused");
        return with_pending_removed(message(
            StatusCode::BAD_REQUEST,
            ("登录已失效", "The sign-in has expired"),
            (
                "请重新登录。",
                "The sign-in did not start here or has expired (oidc_state_mismatch). Please sign in again.",
            ),
        ));
    };
    let (Some(code), None) = (&query.code, &query.error) else {
        return with_pending_removed(message(
            StatusCode::FORBIDDEN,
            ("未能登录", "Not signed in"),
            (
                "身份认证平台未完成登录。",
                "The identity provider did not sign you in (oidc_denied).",
            ),
        ));
    };
    let holder = match oidc.finish(code, &pending).await {
        Ok(holder) => holder,
        Err(e) => return with_pending_removed(refused(&e)),
    };
    let session = start(&state, holder, SignedInVia::Oidc).await?;
    let mut response = see_other("/holder");
    response
        .add_cookie(&session)
        .map_err(|e| ApiError::Internal(e.into()))?;
    response
        .add_cookie(&removal(PENDING_COOKIE, PENDING_PATH))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(response)
}

fn with_pending_removed(page: Result<HttpResponse, ApiError>) -> Result<HttpResponse, ApiError> {
    let mut page = page?;
    page.add_cookie(&removal(PENDING_COOKIE, PENDING_PATH))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(page)
}

/// A page saying why the sign-in was refused; the log gets the code, never a token or claim.
fn refused(e: &OidcError) -> Result<HttpResponse, ApiError> {
    tracing::warn!(code = e.code(), error = %e, "holder sign-in refused");
    let (status, zh) = match e {
        OidcError::Unavailable(_) => (
            StatusCode::BAD_GATEWAY,
            "身份认证平台暂时无法使用，请稍后再试。",
        ),
        OidcError::MissingClaim(_) | OidcError::MalformedClaim(_) => (
            StatusCode::FORBIDDEN,
            "您的账号没有有效的公民身份号码或统一社会信用代码。",
        ),
        OidcError::CodeRefused | OidcError::IdToken(_) => {
            (StatusCode::UNAUTHORIZED, "登录凭据无效，请重新登录。")
        }
    };
    let en = match e {
        OidcError::Unavailable(_) => {
            "The identity provider is unavailable; please try later".to_owned()
        }
        other => other.to_string(),
    };
    message(
        status,
        ("未能登录", "Not signed in"),
        (zh, &format!("{en} ({}).", e.code())),
    )
}

fn not_configured() -> Result<HttpResponse, ApiError> {
    message(
        StatusCode::NOT_FOUND,
        ("未配置身份认证平台", "No identity provider"),
        (
            "本登记系统未连接身份认证平台。",
            "This registry has no identity provider configured (oidc_not_configured).",
        ),
    )
}
