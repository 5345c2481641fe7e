//! Figures for the management department: licences by type, issuer and status; submissions and
//! verifications per day; applications per matter with the paperless rate and visits avoided;
//! the licence types most often referenced.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Operator;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::StatsRows;

const DEFAULT_DAYS: i64 = 30;
const MAX_DAYS: i64 = 366;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/stats", web::get().to(stats));
}

/// Window of the per-day series.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Days back from today (1 to 366, default 30).
    days: Option<i64>,
}

/// The registry's figures.
#[utoipa::path(get, path = "/v1/stats", tag = "service", security(("operator" = [])), params(Window), responses(
    (status = 200, description = "licences, submissions, verifications, applications"),
    (status = 400, description = "invalid_query"), (status = 401, description = "no or wrong operator token")))]
pub async fn stats(
    _: Operator,
    state: web::Data<AppState>,
    window: web::Query<Window>,
) -> Result<HttpResponse, ApiError> {
    let days = window.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("days: 1 to {MAX_DAYS}"),
        ));
    }
    let now = Utc::now();
    let rows = state
        .store
        .stats_rows(now - Duration::days(days), now)
        .await?;
    Ok(HttpResponse::Ok().json(present(&rows, days, now)))
}

fn present(rows: &StatsRows, days: i64, now: DateTime<Utc>) -> Value {
    let mut by_type: BTreeMap<&str, i64> = BTreeMap::new();
    let mut by_issuer: BTreeMap<&str, i64> = BTreeMap::new();
    let mut by_status: BTreeMap<&str, i64> = BTreeMap::new();
    for (type_code, issuer, status, expired, n) in &rows.licences {
        *by_type.entry(type_code).or_default() += n;
        *by_issuer.entry(issuer).or_default() += n;
        let status = if *expired && status == "active" {
            "expired"
        } else {
            status.as_str()
        };
        *by_status.entry(status).or_default() += n;
    }
    json!({
        "generatedAt": now,
        "licences": {
            "total": by_type.values().sum::<i64>(),
            "byType": by_type, "byIssuer": by_issuer, "byStatus": by_status,
        },
        "days": days,
        "submissionsPerDay": per_day(&rows.envelopes),
        "itemsPerDay": per_day(&rows.items),
        "verificationsPerDay": per_day(&rows.verifications),
        "applications": applications(rows),
        "mostReferencedTypes": rows.referenced_types.iter()
            .map(|(t, n)| json!({"typeCode": t, "references": n})).collect::<Vec<_>>(),
    })
}

/// Counts by UTC day, oldest first.
fn per_day(times: &[DateTime<Utc>]) -> Value {
    let mut days: BTreeMap<String, i64> = BTreeMap::new();
    for t in times {
        *days.entry(t.format("%Y-%m-%d").to_string()).or_default() += 1;
    }
    days.into_iter()
        .map(|(day, n)| json!({"day": day, "count": n}))
        .collect()
}

/// Per matter and in total: applications, those fully satisfied by reference (no paper, so no
/// visit to hand it in), and their share.
fn applications(rows: &StatsRows) -> Value {
    let rate = |part: i64, whole: i64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    };
    let matters: Vec<Value> = rows
        .applications
        .iter()
        .map(|(matter, n, full)| {
            json!({"matter": matter, "applications": n, "fullySatisfied": full,
                   "paperlessRate": rate(*full, *n), "visitsAvoided": full})
        })
        .collect();
    let total: i64 = rows.applications.iter().map(|a| a.1).sum();
    let full: i64 = rows.applications.iter().map(|a| a.2).sum();
    json!({"total": total, "fullySatisfied": full, "paperlessRate": rate(full, total),
           "noVisitRate": rate(full, total), "visitsAvoided": full, "byMatter": matters})
}
