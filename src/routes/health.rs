//! Liveness, readiness and Prometheus metrics.

use actix_web::{web, HttpResponse};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/ready", web::get().to(ready))
        .route("/metrics", web::get().to(metrics));
}

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "service", responses((status = 200, description = "alive")))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers.
#[utoipa::path(get, path = "/ready", tag = "service", responses(
    (status = 200, description = "ready"), (status = 503, description = "database unreachable")))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.store.ping().await {
        Ok(()) => {
            Ok(HttpResponse::Ok()
                .json(json!({"status": "ready", "database": state.store.backend()})))
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::Unavailable)
        }
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus metrics", content_type = "text/plain")))]
pub async fn metrics(
    state: web::Data<AppState>,
    handle: web::Data<PrometheusHandle>,
) -> HttpResponse {
    let pool = state.store.pool_stats();
    metrics::gauge!("db_pool_connections", "backend" => state.store.backend())
        .set(f64::from(pool.size));
    metrics::gauge!("db_pool_idle_connections", "backend" => state.store.backend())
        .set(f64::from(pool.idle));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}
