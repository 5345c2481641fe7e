//! Online verification requests.

use serde_json::Value;

use super::app::{json_with_status, TestApp};

/// A time inside every test licence's validity (2026-01-01 to 2100-01-01).
pub(crate) const AT: &str = "2026-06-01T00:00:00Z";

pub(crate) async fn verify(app: &TestApp, body: Value) -> Value {
    json_with_status(app.post_anon("/v1/verify", &body).await, 200).await
}

pub(crate) fn check<'a>(result: &'a Value, name: &str) -> &'a Value {
    result["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {result}"))
}
