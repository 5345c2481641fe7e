//! Who may have `POST /credentials/issue` sign: not anyone who asks. The operator and the
//! configured VC-API client may; anonymous callers only when the operator opened the route;
//! everyone at a limited rate.

use secrecy::SecretString;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{
    assert_problem, json_with_status, spawn_with, test_settings, Backend, TestApp, ADMIN_TOKEN,
    VCAPI_CLIENT_TOKEN,
};

on_both_backends!(only_the_operator_and_the_client_may_have_the_registry_sign);

fn request() -> Value {
    json!({"credential": {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"name": "Alice"},
    }})
}

async fn issue(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut post = app
        .client
        .post(app.url("/credentials/issue"))
        .json(&request());
    if let Some(token) = token {
        post = post.bearer_auth(token);
    }
    post.send().await.expect("request sent")
}

async fn only_the_operator_and_the_client_may_have_the_registry_sign(app: TestApp) {
    let refused = assert_problem(issue(&app, None).await, 401, "missing_token").await;
    assert!(refused.get("verifiableCredential").is_none());
    let wrong = "not-the-client-token-0123456789";
    assert_problem(issue(&app, Some(wrong)).await, 401, "invalid_token").await;
    for token in [VCAPI_CLIENT_TOKEN, ADMIN_TOKEN] {
        let issued = json_with_status(issue(&app, Some(token)).await, 201).await;
        assert!(issued["verifiableCredential"]["proof"].is_object());
    }
    // Verifying stays open: a verifier holds the credential and asks nothing to be signed.
    let body = json!({"verifiableCredential": json_with_status(issue(&app, Some(VCAPI_CLIENT_TOKEN)).await, 201).await["verifiableCredential"]});
    json_with_status(app.post_anon("/credentials/verify", &body).await, 200).await;
}

async fn spawn_configured(configure: impl FnOnce(&mut elicence::config::Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let mut settings = test_settings(dir.path(), url);
    configure(&mut settings);
    spawn_with(settings, Backend::Sqlite, dir, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_may_open_issuing_to_anyone() {
    let app = spawn_configured(|s| {
        s.vcapi_issue_open = true;
        s.vcapi_client_token = None;
    })
    .await;
    json_with_status(issue(&app, None).await, 201).await;
    let wrong = "not-the-client-token-0123456789";
    assert_problem(issue(&app, Some(wrong)).await, 401, "invalid_token").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_client_token_only_the_operator_may_issue() {
    let app = spawn_configured(|s| s.vcapi_client_token = None).await;
    assert_problem(issue(&app, None).await, 401, "missing_token").await;
    let old = VCAPI_CLIENT_TOKEN;
    assert_problem(issue(&app, Some(old)).await, 401, "invalid_token").await;
    json_with_status(issue(&app, Some(ADMIN_TOKEN)).await, 201).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuing_is_rate_limited_per_client() {
    let app = spawn_configured(|s| {
        s.vcapi_issue_rate = 1;
        s.vcapi_issue_burst = 2;
    })
    .await;
    for _ in 0..2 {
        json_with_status(issue(&app, Some(VCAPI_CLIENT_TOKEN)).await, 201).await;
    }
    let limited = issue(&app, Some(VCAPI_CLIENT_TOKEN)).await;
    let retry_after = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_problem(limited, 429, "rate_limited").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_client_token_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let mut settings = test_settings(dir.path(), url);
    settings.vcapi_client_token = Some(SecretString::from("short"));
    let error = elicence::startup::Application::build(settings)
        .await
        .err()
        .expect("a short token is refused");
    assert!(format!("{error:#}").contains("ELICENCE_VCAPI_CLIENT_TOKEN"));
}
