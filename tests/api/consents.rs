//! Consents and the access-record chain, on both backends.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, Backend, TestApp};
use crate::support::people::{
    agency, holder_token, issuer_with_licence, licence_for, CITIZEN, OTHER,
};
use crate::support::signing::items;
use crate::support::submissions::accept;

on_both_backends!(
    consent_grant_use_withdraw,
    consent_expires,
    access_chain_detects_tampering_and_deletion,
);

fn future(seconds: i64) -> String {
    (Utc::now() + Duration::seconds(seconds)).to_rfc3339()
}

async fn consent_grant_use_withdraw(app: TestApp) {
    let (mut issuer, current) = issuer_with_licence(&app).await;
    let others = licence_for(&issuer, "O1", OTHER, (2026, 2030));
    accept(&app, &mut issuer, items(&[&others])).await;
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["read"]).await;
    let token = holder_token(&app, CITIZEN).await;
    let id = current["id"].as_str().expect("id");
    let read = format!("/v1/agency/licences/{id}");
    // No consent yet: refused, exactly as for a licence that does not exist.
    assert_problem(
        app.call("GET", &read, Some(&key), None).await,
        403,
        "consent_required",
    )
    .await;
    let missing = format!("/v1/agency/licences/{}", issuer.licence_id("NOPE", 1));
    assert_problem(
        app.call("GET", &missing, Some(&key), None).await,
        403,
        "consent_required",
    )
    .await;
    // A holder may not consent for another holder's licence.
    let body = json!({"agency": agency_uscc, "licences": [others["id"]], "purpose": "p", "until": future(3600)});
    assert_problem(
        app.call("POST", "/v1/consents", Some(&token), Some(&body))
            .await,
        404,
        "licence_not_found",
    )
    .await;
    let body = json!({"agency": agency_uscc, "licences": [id], "purpose": "公积金提取", "until": future(3600)});
    let consent = json_with_status(
        app.call("POST", "/v1/consents", Some(&token), Some(&body))
            .await,
        201,
    )
    .await;
    assert_eq!(consent["state"], "active");
    let got = json_with_status(app.call("GET", &read, Some(&key), None).await, 200).await;
    assert_eq!(got["credential"], current);
    assert_eq!(got["consent"], consent["id"]);
    // The consent does not extend to the other holder's licence.
    let other_read = format!("/v1/agency/licences/{}", others["id"].as_str().expect("id"));
    assert_problem(
        app.call("GET", &other_read, Some(&key), None).await,
        403,
        "consent_required",
    )
    .await;
    let records = json_with_status(
        app.call("GET", "/v1/holder/access-records", Some(&token), None)
            .await,
        200,
    )
    .await;
    assert_eq!(records["records"][0]["purpose"], "公积金提取");
    assert_eq!(records["records"][0]["result"], "read");
    // Another holder cannot withdraw it; the holder can, once, with effect at once.
    let withdraw = format!("/v1/consents/{}", consent["id"].as_str().expect("id"));
    let other = holder_token(&app, OTHER).await;
    assert_problem(
        app.call("DELETE", &withdraw, Some(&other), None).await,
        404,
        "consent_not_found",
    )
    .await;
    let withdrawn =
        json_with_status(app.call("DELETE", &withdraw, Some(&token), None).await, 200).await;
    assert_eq!(withdrawn["state"], "withdrawn");
    assert_problem(
        app.call("DELETE", &withdraw, Some(&token), None).await,
        409,
        "consent_withdrawn",
    )
    .await;
    assert_problem(
        app.call("GET", &read, Some(&key), None).await,
        403,
        "consent_required",
    )
    .await;
    let listed = json_with_status(
        app.call("GET", "/v1/holder/consents", Some(&token), None)
            .await,
        200,
    )
    .await;
    assert_eq!(listed["consents"][0]["state"], "withdrawn");
    let none = json_with_status(
        app.call("GET", "/v1/holder/consents", Some(&other), None)
            .await,
        200,
    )
    .await;
    assert_eq!(none["consents"], json!([]));
}

async fn consent_expires(app: TestApp) {
    let (_issuer, current) = issuer_with_licence(&app).await;
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["read"]).await;
    let token = holder_token(&app, CITIZEN).await;
    let past = json!({"agency": agency_uscc, "typeCodes": [crate::support::signing::TYPE_CODE], "purpose": "p", "until": "2020-01-01T00:00:00Z"});
    assert_problem(
        app.call("POST", "/v1/consents", Some(&token), Some(&past))
            .await,
        422,
        "invalid_window",
    )
    .await;
    let body = json!({"agency": agency_uscc, "typeCodes": [crate::support::signing::TYPE_CODE], "purpose": "p", "until": future(2)});
    json_with_status(
        app.call("POST", "/v1/consents", Some(&token), Some(&body))
            .await,
        201,
    )
    .await;
    let read = format!(
        "/v1/agency/licences/{}",
        current["id"].as_str().expect("id")
    );
    json_with_status(app.call("GET", &read, Some(&key), None).await, 200).await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_problem(
        app.call("GET", &read, Some(&key), None).await,
        403,
        "consent_required",
    )
    .await;
    let listed = json_with_status(
        app.call("GET", "/v1/holder/consents", Some(&token), None)
            .await,
        200,
    )
    .await;
    assert_eq!(listed["consents"][0]["state"], "expired");
}

/// Runs one statement straight against the test database.
async fn tamper(app: &TestApp, sql: &str) {
    let url = &app.settings.database_url;
    match app.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
            sqlx::query(sql).execute(&pool).await.expect("tamper");
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.expect("postgres");
            sqlx::query(sql).execute(&pool).await.expect("tamper");
            pool.close().await;
        }
    }
}

async fn audit(app: &TestApp) -> Result<u64, String> {
    elicence::storage::audit_access(app.state.store.as_ref())
        .await
        .expect("audit runs")
        .map_err(|e| e.to_string())
}

async fn access_chain_detects_tampering_and_deletion(app: TestApp) {
    let (_issuer, current) = issuer_with_licence(&app).await;
    let (agency_uscc, _) = agency(&app, "11220000MB0000001", &["verify"]).await;
    for i in 0..4 {
        let entry = elicence::domain::access::NewAccessRecord {
            channel: elicence::domain::access::Channel::Verify,
            agency: Some(agency_uscc.clone()),
            holder: Some(format!("urn:cn:rid:{CITIZEN}").parse().expect("holder")),
            licence: current["id"].as_str().map(str::to_owned),
            purpose: format!("核验 {i}"),
            route: "POST /v1/verify".into(),
            result: "valid".into(),
            application: None,
        };
        let record = elicence::storage::record_access(app.state.store.as_ref(), entry)
            .await
            .expect("recorded");
        assert_eq!(record.seq, i + 1);
    }
    assert_eq!(audit(&app).await, Ok(4));
    let token = holder_token(&app, CITIZEN).await;
    let page = json_with_status(
        app.call(
            "GET",
            "/v1/holder/access-records?limit=3",
            Some(&token),
            None,
        )
        .await,
        200,
    )
    .await;
    let seqs: Vec<Value> = page["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["seq"].clone())
        .collect();
    assert_eq!(seqs, [json!(4), json!(3), json!(2)]);
    let next = page["next"].as_str().expect("next page");
    let rest = json_with_status(app.call("GET", next, Some(&token), None).await, 200).await;
    assert_eq!(rest["records"][0]["seq"], 1);
    assert_eq!(
        rest["records"][0]["previous"],
        elicence::domain::access::GENESIS
    );
    // An altered record is found.
    tamper(
        &app,
        "UPDATE access_records SET purpose = '别的' WHERE seq = 2",
    )
    .await;
    let broken = audit(&app).await.expect_err("altered");
    assert!(broken.starts_with("record 2:"), "{broken}");
    tamper(
        &app,
        "UPDATE access_records SET purpose = '核验 1' WHERE seq = 2",
    )
    .await;
    assert_eq!(audit(&app).await, Ok(4));
    // A deleted record is found.
    tamper(&app, "DELETE FROM access_records WHERE seq = 3").await;
    let broken = audit(&app).await.expect_err("deleted");
    assert!(broken.contains("record 4"), "{broken}");
    // Deleting the newest record is found through the head row.
    tamper(&app, "DELETE FROM access_records WHERE seq = 4").await;
    let broken = audit(&app).await.expect_err("truncated");
    assert!(broken.contains("head"), "{broken}");
}
