//! Issuers registered over HTTP: numbered USCCs, keys, read tokens.

use elicence::crypto::keys::KeyPair;
use elicence::domain::identifiers::Uscc;
use serde_json::{json, Value};

use super::app::{json_with_status, TestApp};

/// A valid USCC numbered `n` (a Changchun enterprise).
pub fn uscc(n: u32) -> String {
    Uscc::with_check(&format!("91220100MA{n:07}"))
        .expect("17 valid characters")
        .to_string()
}

/// Registers an issuer and answers its record.
pub async fn register(app: &TestApp, uscc: &str) -> Value {
    let body =
        json!({"uscc": uscc, "name": "吉林省电子证照服务有限公司", "contact": "0431-12345678"});
    json_with_status(app.post_admin("/v1/issuers", &body).await, 201).await
}

/// Adds a fresh key to an issuer; answers the key pair and the key record.
pub async fn add_key(app: &TestApp, uscc: &str, body: Value) -> (KeyPair, Value) {
    let key = KeyPair::generate();
    let mut body = body;
    body["publicKey"] = json!(key.multikey());
    let path = format!("/v1/issuers/{uscc}/keys");
    let record = json_with_status(app.post_admin(&path, &body).await, 201).await;
    (key, record)
}

/// Creates a read token for an issuer.
pub async fn issuer_token(app: &TestApp, uscc: &str) -> String {
    let path = format!("/v1/issuers/{uscc}/tokens");
    let body = json_with_status(app.post_admin(&path, &json!({})).await, 201).await;
    body["token"].as_str().expect("token").to_owned()
}

pub async fn post_empty(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.post(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request sent")
}
