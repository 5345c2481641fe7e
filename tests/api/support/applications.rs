//! Applications by reference: a holder's decisions and reads.

use serde_json::Value;

use super::app::{json_with_status, TestApp};

/// A holder's decision (`approve`, `decline`, `withdraw`) on application `id`.
pub async fn decide(
    app: &TestApp,
    token: &str,
    id: &str,
    action: &str,
    body: Value,
) -> reqwest::Response {
    let path = format!("/v1/holder/applications/{id}/{action}");
    app.call("POST", &path, Some(token), Some(&body)).await
}

pub fn read_path(filed: &Value, licence: &Value) -> String {
    format!(
        "/v1/applications/{}/licences/{}",
        filed["id"].as_str().expect("id"),
        licence.as_str().expect("licence id")
    )
}

pub async fn holder_records(app: &TestApp, token: &str) -> Vec<Value> {
    let path = "/v1/holder/access-records";
    let records = json_with_status(app.call("GET", path, Some(token), None).await, 200).await;
    records["records"].as_array().expect("records").clone()
}

pub async fn holder_applications(app: &TestApp, token: &str) -> Vec<Value> {
    let path = "/v1/holder/applications";
    let listed = json_with_status(app.call("GET", path, Some(token), None).await, 200).await;
    listed["applications"].as_array().expect("list").clone()
}
