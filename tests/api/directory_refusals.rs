//! The directory's refusals: bad bodies, a missing operator token, illegal transitions and bad
//! queries, none of which changes anything.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp};
use crate::support::directory::{new_type_body, type_count, NEW_CODE, SEEDED};

on_both_backends!(
    create_refusals_change_nothing,
    operator_token_is_required,
    illegal_transitions_are_409,
    bad_queries_are_400,
);

async fn create_refusals_change_nothing(app: TestApp) {
    let before = type_count(&app).await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            with(NEW_CODE, "code", json!("1110000000001333")),
            400,
            "invalid_type_code",
        ),
        (
            with(NEW_CODE, "code", json!("11100000000013338X099")),
            400,
            "invalid_type_code",
        ),
        (
            with(
                NEW_CODE,
                "definingAuthority",
                json!({"name": "x", "uscc": "11100000000013338X", "level": 1}),
            ),
            400,
            "invalid_authority",
        ),
        (
            with(
                "11220000013544541J001",
                "code",
                json!("11220000013544541J001"),
            ),
            400,
            "code_authority_mismatch",
        ),
        (
            with(NEW_CODE, "holderCategory", json!(3)),
            400,
            "invalid_field",
        ),
        (
            with(NEW_CODE, "validity", json!({"minDays": 10, "maxDays": 5})),
            400,
            "invalid_field",
        ),
        (
            with(
                NEW_CODE,
                "matters",
                json!(["this matter code is far too long"]),
            ),
            400,
            "invalid_field",
        ),
        (
            with(
                NEW_CODE,
                "schema",
                json!({"type": "object", "properties": {"id": {"type": 5}, "holderName": {}}, "required": ["id", "holderName"]}),
            ),
            422,
            "schema_invalid",
        ),
        (
            with(
                NEW_CODE,
                "schema",
                json!({"type": "object", "properties": {"id": {}}, "required": ["id"]}),
            ),
            422,
            "schema_missing_holder_fields",
        ),
        (
            with(
                NEW_CODE,
                "schema",
                json!({"type": "object", "properties": {"id": {}, "holderName": {"$ref": "https://x.example/a.json"}}, "required": ["id", "holderName"]}),
            ),
            422,
            "schema_remote_reference",
        ),
        (
            with(NEW_CODE, "status", json!("published")),
            400,
            "invalid_field",
        ),
        (
            with(NEW_CODE, "unexpected", json!(1)),
            400,
            "invalid_request_body",
        ),
        (with(SEEDED, "code", json!(SEEDED)), 409, "type_code_taken"),
    ];
    for (body, status, code) in cases {
        assert_problem(
            app.post_admin("/v1/licence-types", &body).await,
            status,
            code,
        )
        .await;
    }
    assert_eq!(type_count(&app).await, before, "nothing was stored");
}

fn with(code: &str, key: &str, value: Value) -> Value {
    let mut body = new_type_body(code);
    body[key] = value;
    body
}

async fn operator_token_is_required(app: TestApp) {
    let body = new_type_body(NEW_CODE);
    assert_problem(
        app.post_anon("/v1/licence-types", &body).await,
        401,
        "missing_token",
    )
    .await;
    let wrong = app
        .client
        .post(app.url("/v1/licence-types"))
        .bearer_auth("not-the-token")
        .json(&body)
        .send()
        .await
        .expect("sent");
    let problem = assert_problem(wrong, 401, "invalid_token").await;
    assert!(
        !problem.to_string().contains("not-the-token"),
        "tokens are never echoed"
    );
    let basic = app
        .client
        .post(app.url("/v1/licence-types"))
        .header("authorization", "Basic abc")
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_problem(basic, 401, "invalid_token").await;
    for path in ["publish", "deprecate"] {
        let response = app
            .post_anon(&format!("/v1/licence-types/{SEEDED}/{path}"), &json!({}))
            .await;
        assert_problem(response, 401, "missing_token").await;
    }
    assert_problem(
        app.post_anon(
            &format!("/v1/licence-types/{SEEDED}/versions"),
            &json!({"schema": {}}),
        )
        .await,
        401,
        "missing_token",
    )
    .await;
    assert_problem(
        app.post_anon(&format!("/v1/licence-types/{SEEDED}/transfer"), &json!({}))
            .await,
        401,
        "missing_token",
    )
    .await;
    let seeded = json_with_status(app.get(&format!("/v1/licence-types/{SEEDED}")).await, 200).await;
    assert_eq!(seeded["status"], "published");
    assert_eq!(seeded["versions"].as_array().map(Vec::len), Some(1));
}

async fn illegal_transitions_are_409(app: TestApp) {
    assert_problem(
        app.post_admin(&format!("/v1/licence-types/{SEEDED}/publish"), &json!({}))
            .await,
        409,
        "illegal_status_transition",
    )
    .await;
    json_with_status(
        app.post_admin("/v1/licence-types", &new_type_body(NEW_CODE))
            .await,
        201,
    )
    .await;
    assert_problem(
        app.post_admin(
            &format!("/v1/licence-types/{NEW_CODE}/deprecate"),
            &json!({}),
        )
        .await,
        409,
        "illegal_status_transition",
    )
    .await;
    let body = json_with_status(app.get(&format!("/v1/licence-types/{NEW_CODE}")).await, 200).await;
    assert_eq!(body["status"], "draft");
    assert_problem(
        app.post_admin(
            "/v1/licence-types/11100000000013338W098/publish",
            &json!({}),
        )
        .await,
        404,
        "licence_type_not_found",
    )
    .await;
}

async fn bad_queries_are_400(app: TestApp) {
    for query in [
        "status=open",
        "holderCategory=3",
        "perPage=0",
        "perPage=101",
        "page=0",
        "authority=123",
        "page=x",
        "bogus=1",
    ] {
        let response = app.get(&format!("/v1/licence-types?{query}")).await;
        assert_problem(response, 400, "invalid_query").await;
    }
}
