//! Issuer and key refusals, none of which stores anything, and the operator token they need.

use elicence::crypto::keys::KeyPair;
use serde_json::json;

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp};
use crate::support::issuers::{add_key, issuer_token, post_empty, register, uscc};

on_both_backends!(
    issuer_refusals_store_nothing,
    key_refusals_store_nothing,
    operator_token_is_required,
);

async fn issuer_refusals_store_nothing(app: TestApp) {
    let id = uscc(10);
    let cases = [
        (
            json!({"uscc": "91220100MA0000010X", "name": "x"}),
            400,
            "invalid_uscc",
        ),
        (json!({"uscc": id, "name": "  "}), 400, "invalid_field"),
        (
            json!({"uscc": id, "name": "x".repeat(201)}),
            400,
            "invalid_field",
        ),
        (
            json!({"uscc": id, "name": "x", "contact": "a\u{0}b"}),
            400,
            "invalid_field",
        ),
        (
            json!({"uscc": id, "name": "x", "extra": 1}),
            400,
            "invalid_request_body",
        ),
        (json!({"uscc": id}), 400, "invalid_request_body"),
    ];
    for (body, status, code) in cases {
        assert_problem(app.post_admin("/v1/issuers", &body).await, status, code).await;
    }
    assert_problem(
        app.get(&format!("/v1/issuers/{id}")).await,
        404,
        "issuer_not_found",
    )
    .await;
    let first = register(&app, &id).await;
    let again = json!({"uscc": id, "name": "another name"});
    assert_problem(
        app.post_admin("/v1/issuers", &again).await,
        409,
        "issuer_exists",
    )
    .await;
    let shown = json_with_status(app.get(&format!("/v1/issuers/{id}")).await, 200).await;
    assert_eq!(shown, first);
}

async fn key_refusals_store_nothing(app: TestApp) {
    let id = uscc(11);
    register(&app, &id).await;
    let other = uscc(12);
    register(&app, &other).await;
    let (taken, _) = add_key(&app, &id, json!({})).await;
    let path = format!("/v1/issuers/{id}/keys");
    let fresh = KeyPair::generate().multikey();
    let cases = [
        (
            json!({"publicKey": "z6MkNotAKey"}),
            400,
            "invalid_public_key",
        ),
        (
            json!({"publicKey": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}),
            400,
            "invalid_public_key",
        ),
        (
            json!({"publicKey": fresh, "validFrom": "2026-13-01T00:00:00Z"}),
            400,
            "invalid_time",
        ),
        (
            json!({"publicKey": fresh, "validUntil": "2026-01-01"}),
            400,
            "invalid_time",
        ),
        (
            json!({"publicKey": fresh, "validFrom": "2027-01-01T00:00:00Z", "validUntil": "2026-01-01T00:00:00Z"}),
            422,
            "invalid_window",
        ),
        (
            json!({"publicKey": fresh, "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2026-01-01T00:00:00Z"}),
            422,
            "invalid_window",
        ),
        (json!({"publicKey": taken.multikey()}), 409, "key_exists"),
    ];
    for (body, status, code) in cases {
        assert_problem(app.post_admin(&path, &body).await, status, code).await;
    }
    let elsewhere = json!({"publicKey": taken.multikey()});
    let other_path = format!("/v1/issuers/{other}/keys");
    assert_problem(
        app.post_admin(&other_path, &elsewhere).await,
        409,
        "key_exists",
    )
    .await;
    let missing = format!("/v1/issuers/{}/keys", uscc(13));
    assert_problem(
        app.post_admin(&missing, &json!({"publicKey": fresh})).await,
        404,
        "issuer_not_found",
    )
    .await;
    let shown = json_with_status(app.get(&format!("/v1/issuers/{id}")).await, 200).await;
    assert_eq!(shown["keys"].as_array().map(Vec::len), Some(1));
    let shown = json_with_status(app.get(&format!("/v1/issuers/{other}")).await, 200).await;
    assert_eq!(shown["keys"], json!([]));
}

async fn operator_token_is_required(app: TestApp) {
    let id = uscc(14);
    register(&app, &id).await;
    let (key, _) = add_key(&app, &id, json!({})).await;
    let issuer_token = issuer_token(&app, &id).await;
    let routes = [
        "/v1/issuers".to_owned(),
        format!("/v1/issuers/{id}/keys"),
        format!("/v1/issuers/{id}/keys/{}/revoke", key.multikey()),
        format!("/v1/issuers/{id}/suspend"),
        format!("/v1/issuers/{id}/reinstate"),
        format!("/v1/issuers/{id}/tokens"),
    ];
    for path in &routes {
        assert_problem(post_empty(&app, path, None).await, 401, "missing_token").await;
        assert_problem(
            post_empty(&app, path, Some("wrong-token-0123456789")).await,
            401,
            "invalid_token",
        )
        .await;
        assert_problem(
            post_empty(&app, path, Some(&issuer_token)).await,
            401,
            "invalid_token",
        )
        .await;
    }
    let shown = json_with_status(app.get(&format!("/v1/issuers/{id}")).await, 200).await;
    assert_eq!(shown["status"], "active");
    assert!(shown["keys"][0]["revokedAt"].is_null());
}
