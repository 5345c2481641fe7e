//! The holder page's server-side session: a random 256-bit id in the `elicence_holder` cookie
//! (`HttpOnly`, path `/holder`, `Secure` when the public URL is https), only its SHA-256 in the
//! store, with an absolute expiry and an idle timeout. Each sign-in first deletes the sessions
//! that can no longer be used, so the table holds live sessions and recent leftovers only.
//!
//! The cookie is `SameSite=Lax`, not `Strict`: the identity provider sends the holder back to
//! `/holder/oidc/callback` and then `/holder` by top-level redirects started on the provider's
//! site, on which a `Strict` cookie would not be sent (the freshly signed-in holder would land on
//! the sign-in page). `Lax` still keeps the cookie off every cross-site POST, and every holder
//! form also carries a CSRF token bound to the session ([`csrf_of`]), checked on each POST.

use actix_web::cookie::{time::Duration as CookieAge, Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use subtle::ConstantTimeEq;

use crate::auth::random_token;
use crate::crypto::digest::sha256;
use crate::domain::identifiers::HolderId;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::{HolderSession, SignedInVia};

pub(super) const COOKIE: &str = "elicence_holder";
/// A session ends this long after sign-in, however active.
pub const ABSOLUTE_HOURS: i64 = 8;
/// A session ends after this long without a request.
pub const IDLE_MINUTES: i64 = 30;

/// The signed-in holder of a request.
#[derive(Debug, Clone)]
pub(super) struct SignedIn {
    pub holder: HolderId,
    pub via: SignedInVia,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    id_hash: [u8; 32],
}

/// Starts a session for `holder`; answers the cookie that carries it.
pub(super) async fn start(
    state: &AppState,
    holder: HolderId,
    via: SignedInVia,
) -> Result<Cookie<'static>, ApiError> {
    let id = random_token();
    let now = Utc::now();
    let idle_since = now - Duration::minutes(IDLE_MINUTES);
    // Housekeeping, not part of the sign-in: a failure is logged and the sign-in goes on.
    if let Err(e) = state
        .store
        .delete_dead_holder_sessions(now, idle_since)
        .await
    {
        tracing::warn!(error = %e, "deleting ended holder sessions failed");
    }
    let session = HolderSession { holder, via };
    state
        .store
        .insert_holder_session(
            &sha256(id.as_bytes()),
            &session,
            now,
            now + Duration::hours(ABSOLUTE_HOURS),
        )
        .await?;
    Ok(cookie(state, COOKIE, id, "/holder", ABSOLUTE_HOURS * 60))
}

/// The request's live session, if any (and marks it active).
pub(super) async fn signed_in(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<SignedIn>, ApiError> {
    let Some(id) = req.cookie(COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    if id.len() != 64 {
        return Ok(None);
    }
    let id_hash = sha256(id.as_bytes());
    let now = Utc::now();
    let idle_since = now - Duration::minutes(IDLE_MINUTES);
    let session = state
        .store
        .touch_holder_session(&id_hash, now, idle_since)
        .await?;
    Ok(session.map(|s| SignedIn {
        holder: s.holder,
        via: s.via,
        csrf: csrf_of(&id),
        id_hash,
    }))
}

/// The session behind a form POST, only when the form's `csrf` field matches it.
pub(super) async fn signed_in_form(
    req: &HttpRequest,
    state: &AppState,
    form: &[(String, String)],
) -> Result<Option<SignedIn>, ApiError> {
    let Some(session) = signed_in(req, state).await? else {
        return Ok(None);
    };
    let sent = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    let matches: bool = sent.as_bytes().ct_eq(session.csrf.as_bytes()).into();
    Ok(matches.then_some(session))
}

/// Ends the session here; answers the cookie that removes it from the browser.
pub(super) async fn end(state: &AppState, session: &SignedIn) -> Result<Cookie<'static>, ApiError> {
    state
        .store
        .end_holder_session(&session.id_hash, Utc::now())
        .await?;
    Ok(removal(COOKIE, "/holder"))
}

/// The session's CSRF token: derived from the session id, which only the holder's browser
/// has, so another site can neither read nor compute it.
fn csrf_of(session_id: &str) -> String {
    hex::encode(sha256(
        format!("elicence-holder-csrf:{session_id}").as_bytes(),
    ))
}

/// A `HttpOnly`, `SameSite=Lax` cookie, `Secure` when the public URL is https.
pub(super) fn cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    path: &'static str,
    minutes: i64,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.public_base().starts_with("https:"))
        .max_age(CookieAge::minutes(minutes))
        .finish()
}

/// A cookie that deletes `name` at `path`.
pub(super) fn removal(name: &'static str, path: &'static str) -> Cookie<'static> {
    let mut cookie = Cookie::build(name, "").path(path).finish();
    cookie.make_removal();
    cookie
}

/// 303 to `location`.
pub(super) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location.to_owned()))
        .finish()
}
