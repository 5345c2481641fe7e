//! The holder's API tokens for apps, made from the holder page's session so that a phone app
//! needs no operator: `POST /holder/tokens` shows a fresh token once, the page lists the
//! holder's tokens (never their values) and `POST /holder/tokens/{id}/revoke` ends one.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use minijinja::context;
use serde_json::{json, Value};

use crate::auth::random_token;
use crate::crypto::digest::sha256;
use crate::domain::identifiers::HolderId;
use crate::domain::time::seconds;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::StoreError;

use super::holder::refused_form;
use super::holder_session::{see_other, signed_in_form};
use super::{message, page};

/// How long a token made on the page lasts: a day, so a lost phone's token soon dies anyway.
pub const APP_TOKEN_HOURS: i64 = 24;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/holder/tokens", web::post().to(create))
        .route("/holder/tokens/{id}/revoke", web::post().to(revoke));
}

/// The holder's tokens as the page lists them, newest first.
pub(super) async fn list(state: &AppState, holder: &HolderId) -> Result<Vec<Value>, ApiError> {
    let now = Utc::now();
    let rows = state.store.holder_tokens(holder).await?;
    Ok(rows
        .iter()
        .map(|t| {
            let live = t.revoked_at.is_none() && t.expires_at > now;
            json!({
                "id": t.id,
                "createdAt": seconds(t.created_at),
                "expiresAt": seconds(t.expires_at),
                "live": live,
            })
        })
        .collect())
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let Some(session) = signed_in_form(&req, &state, &form).await? else {
        return refused_form(&state);
    };
    let now = Utc::now();
    let expires_at = now + Duration::hours(APP_TOKEN_HOURS);
    let token = random_token();
    state
        .store
        .insert_holder_token(&session.holder, &sha256(token.as_bytes()), now, expires_at)
        .await?;
    let expires = expires_at.to_rfc3339();
    page(
        StatusCode::CREATED,
        "holder_token.html",
        context! { token, expires },
    )
}

async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let Some(session) = signed_in_form(&req, &state, &form).await? else {
        return refused_form(&state);
    };
    match state
        .store
        .revoke_holder_token(&session.holder, *id, Utc::now())
        .await
    {
        Ok(()) => Ok(see_other("/holder")),
        Err(StoreError::NotFound(_)) => message(
            StatusCode::NOT_FOUND,
            ("没有这个令牌", "No such token"),
            (
                "它可能已被撤销。",
                "It is not one of your live tokens (token_not_found).",
            ),
        ),
        Err(e) => Err(e.into()),
    }
}
