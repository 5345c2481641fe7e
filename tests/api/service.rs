//! Service-level behaviour: health, readiness, metrics, the API document, errors, limits.

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp, ADMIN_TOKEN};

on_both_backends!(
    health_and_ready,
    unknown_route_is_problem_json,
    request_id_is_echoed,
    metrics_are_labelled_by_route_template,
    body_limit_is_413,
    malformed_and_duplicate_json_are_400,
    wrong_content_type_is_415,
);

async fn health_and_ready(app: TestApp) {
    let body = json_with_status(app.get("/health").await, 200).await;
    assert_eq!(body["status"], "ok");
    let body = json_with_status(app.get("/ready").await, 200).await;
    assert_eq!(body["status"], "ready");
}

async fn unknown_route_is_problem_json(app: TestApp) {
    assert_problem(app.get("/no/such/route").await, 404, "route_not_found").await;
}

async fn request_id_is_echoed(app: TestApp) {
    let response = app.get("/health").await;
    let id = response
        .headers()
        .get("x-request-id")
        .expect("request id header");
    assert!(uuid::Uuid::parse_str(id.to_str().expect("ascii")).is_ok());
}

async fn metrics_are_labelled_by_route_template(app: TestApp) {
    app.get("/v1/licence-types/11100000000013338W001").await;
    let text = app.get("/metrics").await.text().await.expect("body");
    assert!(
        text.contains("route=\"/v1/licence-types/{code}\""),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_connections"));
    assert!(
        !text.contains("11100000000013338W001"),
        "raw paths must not be labels"
    );
}

async fn body_limit_is_413(app: TestApp) {
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(1024 * 1024 + 10));
    let response = app.post_admin_raw("/v1/licence-types", big).await;
    assert_problem(response, 413, "payload_too_large").await;
}

async fn malformed_and_duplicate_json_are_400(app: TestApp) {
    let response = app.post_admin_raw("/v1/licence-types", "{\"code\": ").await;
    assert_problem(response, 400, "malformed_json").await;
    let response = app
        .post_admin_raw(
            "/v1/licence-types",
            r#"{"code": "a", "nested": {"k": 1, "k": 2}}"#,
        )
        .await;
    assert_problem(response, 400, "duplicate_key").await;
}

async fn wrong_content_type_is_415(app: TestApp) {
    let response = app
        .client
        .post(app.url("/v1/licence-types"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_problem(response, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn openapi_document_is_stable() {
    let app = crate::support::app::spawn_app(crate::support::app::Backend::Sqlite)
        .await
        .expect("sqlite app");
    let doc = json_with_status(app.get("/openapi.json").await, 200).await;
    // Every successful answer says what it carries (src/routes/openapi_answers.json), so a
    // client generator, and Schemathesis, can check it.
    let mut silent = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if status.starts_with('2') && response.get("content").is_none() {
                    silent.push(format!("{method} {path} {status}"));
                }
            }
        }
    }
    assert!(silent.is_empty(), "answers without a body: {silent:?}");
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn unknown_database_scheme_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = crate::support::app::test_settings(dir.path(), "mysql://localhost/x".into());
    let err = elicence::startup::Application::build(settings)
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{err:#}").contains("unsupported database URL scheme"),
        "{err:#}"
    );
}
