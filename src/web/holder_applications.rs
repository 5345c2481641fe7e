//! The holder's page, applications: the forms that approve (with the licences ticked) or
//! decline an agency's pending application and withdraw an approved one, and withdraw a
//! consent. They act through the
//! same code as `/v1/holder/applications`, signed in by the page's session and its CSRF token
//! (`holder_session`), and come back to `/holder`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use crate::domain::application::{Application, ApplicationState};
use crate::error::ApiError;
use crate::routes::holder_applications::{approve_as, decline_as, withdraw_as};
use crate::state::AppState;

use super::holder_session::signed_in_form;
use super::message;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/holder/applications/{id}/{action}", web::post().to(decide))
        .route(
            "/holder/consents/{id}/withdraw",
            web::post().to(withdraw_consent),
        );
}

/// Withdraws one of the holder's consents, as `DELETE /v1/consents/{id}` does.
async fn withdraw_consent(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let Some(holder) = signed_in_form(&req, &state, &form).await?.map(|s| s.holder) else {
        return super::holder::refused_form(&state);
    };
    let done = crate::routes::consents::withdraw_as(&state, &holder, &id).await;
    back_or_say(done.map(|_| ()))
}

/// `action` is `approve` (form field `licence`, repeated: the licences chosen), `decline` or
/// `withdraw`.
async fn decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let Some(holder) = signed_in_form(&req, &state, &form).await?.map(|s| s.holder) else {
        return super::holder::refused_form(&state);
    };
    let (id, action) = path.into_inner();
    let chosen: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "licence")
        .map(|(_, v)| v.clone())
        .collect();
    let done = match action.as_str() {
        "approve" => approve_as(&state, &holder, &id, Some(chosen), false).await,
        "decline" => decline_as(&state, &holder, &id).await,
        "withdraw" => withdraw_as(&state, &holder, &id).await,
        _ => Err(ApiError::not_found("not_found", "no such action")),
    };
    back_or_say(done.map(|_| ()))
}

/// Back to `/holder` when done; a refusal as a page that says why.
fn back_or_say(done: Result<(), ApiError>) -> Result<HttpResponse, ApiError> {
    match done {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/holder"))
            .finish()),
        Err(ApiError::Internal(e)) => Err(ApiError::Internal(e)),
        Err(refused) => message(
            refused.status_code(),
            ("无法办理", "Cannot do this"),
            ("请返回“我的证照”重试。", &refused.to_string()),
        ),
    }
}

/// What the page shows of an application, with the actions its state allows.
pub(super) fn view(application: &Application) -> serde_json::Value {
    let mut value = crate::routes::application_checks::present(application);
    let open = application.closed_at.is_none();
    value["decidable"] = (application.state == ApplicationState::Pending && open).into();
    value["withdrawable"] = (application.state == ApplicationState::Approved).into();
    value
}
