//! A licence's whole record, for its issuer and the operator: every version as signed and every
//! status event, in order.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::auth::OperatorOrIssuer;
use crate::domain::identifiers::LicenceId;
use crate::error::ApiError;
use crate::log::receipt::timestamp;
use crate::state::AppState;
use crate::storage::LicenceHistory;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/licences/{id}", web::get().to(show));
}

/// Every version and status event of the licence `id` (URN or bare identifier, any version).
#[utoipa::path(get, path = "/v1/licences/{id}", tag = "log", security(("operator" = [])),
    params(("id" = String, Path, description = "licence identifier or urn:elicence: URN")),
    responses((status = 200, description = "versions and events"), (status = 401, description = "no token"),
        (status = 403, description = "another issuer's licence"), (status = 404, description = "no such licence")))]
pub async fn show(
    who: OperatorOrIssuer,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let text = path.into_inner();
    let id = LicenceId::from_urn(&text)
        .or_else(|_| text.parse::<LicenceId>())
        .map_err(|e| ApiError::bad_request(e.code(), e.to_string()))?;
    who.may_read(id.issuer())?;
    let history = state
        .store
        .licence_history(&id.base())
        .await?
        .filter(|h| h.versions.iter().any(|v| v.id == id))
        .ok_or_else(|| {
            ApiError::not_found("licence_not_found", format!("no licence {}", id.urn()))
        })?;
    Ok(HttpResponse::Ok().json(present(&id, &history)))
}

pub(crate) fn present(id: &LicenceId, history: &LicenceHistory) -> Value {
    let versions: Vec<Value> = history
        .versions
        .iter()
        .map(|v| {
            json!({
                "id": v.id.urn(), "version": v.id.version(), "digest": v.digest,
                "envelope": v.envelope, "leafIndex": v.leaf_index,
                "acceptedAt": timestamp(v.accepted_at), "credential": v.document,
            })
        })
        .collect();
    let events: Vec<Value> = history
        .events
        .iter()
        .map(|e| {
            json!({
                "licence": e.licence.urn(), "action": e.action, "reason": e.reason,
                "effectiveFrom": timestamp(e.effective_from), "digest": e.digest,
                "previous": e.previous, "envelope": e.envelope, "leafIndex": e.leaf_index,
                "acceptedAt": timestamp(e.accepted_at),
            })
        })
        .collect();
    json!({
        "id": id.urn(),
        "base": id.base(),
        "status": history.state,
        "head": history.versions.last().map(|v| v.id.urn()),
        "versions": versions,
        "events": events,
    })
}
