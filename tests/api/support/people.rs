//! Principals and the things they hold: agencies, holder tokens, matters, test citizens.

use elicence::domain::identifiers::Uscc;
use serde_json::{json, Value};

use super::app::{json_with_status, TestApp};
use super::signing::TestIssuer;
use super::signing::{items, setup_issuer, uscc};
use super::submissions::accept;

/// The citizen every test licence is issued to.
pub const CITIZEN: &str = "11010519491231002X";

/// Another person.
pub const OTHER: &str = "440524188001010014";

/// A second person type (驾驶证), for partly fulfilled matters.
pub const DRIVING: &str = "11100000000013338W001";

/// Registers an agency with these scopes; answers its USCC and API key.
pub async fn agency(app: &TestApp, first17: &str, scopes: &[&str]) -> (Uscc, String) {
    let uscc = uscc(first17);
    let body = json!({"uscc": uscc, "name": "测试政务服务中心", "jurisdiction": "220100", "scopes": scopes});
    let created = json_with_status(app.post_admin("/v1/agencies", &body).await, 201).await;
    (uscc, created["apiKey"].as_str().expect("apiKey").to_owned())
}

/// A holder token for a bare resident ID or USCC.
pub async fn holder_token(app: &TestApp, holder: &str) -> String {
    let path = format!("/v1/holders/{holder}/tokens");
    let body = json_with_status(app.post_admin(&path, &json!({})).await, 201).await;
    body["token"].as_str().expect("token").to_owned()
}

/// Defines a matter handled by `agency` requiring these types (all required).
pub async fn matter(app: &TestApp, code: &str, agency: &Uscc, types: &[&str]) {
    let requirements: Vec<Value> = types
        .iter()
        .map(|t| json!({"typeCode": t, "required": true}))
        .collect();
    let body =
        json!({"code": code, "name": "测试事项", "agency": agency, "requirements": requirements});
    json_with_status(app.post_admin("/v1/matters", &body).await, 201).await;
}

/// A signed licence of `serial` for `holder` (bare resident ID), valid over the given years.
pub fn licence_for(issuer: &TestIssuer, serial: &str, holder: &str, years: (i32, i32)) -> Value {
    let mut vc = issuer.unsigned_licence(serial, 1);
    vc["credentialSubject"]["id"] = json!(format!("urn:cn:rid:{holder}"));
    vc["validFrom"] = json!(format!("{}-01-01T00:00:00Z", years.0));
    vc["validUntil"] = json!(format!("{}-01-01T00:00:00Z", years.1));
    issuer.sign(&vc)
}

/// An issuer with the citizen's current licence `A1` accepted.
pub async fn issuer_with_licence(app: &TestApp) -> (TestIssuer, Value) {
    let mut issuer = setup_issuer(app, "91220101MA0000001").await;
    let current = licence_for(&issuer, "A1", CITIZEN, (2026, 2030));
    accept(app, &mut issuer, items(&[&current])).await;
    (issuer, current)
}

/// Files an application as `key`; answers the response.
pub async fn file_application(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.call("POST", "/v1/applications", Some(key), Some(&body))
        .await
}
