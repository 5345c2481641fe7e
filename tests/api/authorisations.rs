//! Authorisations: grants, history, withdrawal, who may read them, and every refusal.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp, ADMIN_TOKEN};
use crate::support::issuers::{issuer_token, register, uscc};

/// Seeded, published types.
const DRIVING: &str = "11100000000013338W001";
const OTHER_TYPE: &str = "11100000000013338W002";
/// A type another authority defines.
const FOREIGN_TYPE: &str = "11100000000012851E001";
/// The granting authority (the Ministry of Public Security's USCC from the vectors).
const GRANTOR: &str = "11100000000013338W";

fn grant_body(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "typeCodes": [DRIVING, OTHER_TYPE],
        "jurisdiction": "2201",
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2031-01-01T00:00:00+08:00",
        "grantedBy": GRANTOR,
    })
}

async fn list(app: &TestApp, query: &str, token: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/v1/authorisations{query}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("request sent")
}

async fn items(app: &TestApp, query: &str) -> Vec<Value> {
    let body = json_with_status(list(app, query, ADMIN_TOKEN).await, 200).await;
    body["items"].as_array().expect("items").clone()
}

on_both_backends!(
    grant_list_and_withdraw_keep_history,
    grant_refusals_store_nothing,
    withdraw_refusals,
    issuer_reads_only_its_own_grants,
);

async fn grant_list_and_withdraw_keep_history(app: TestApp) {
    let id = uscc(101);
    register(&app, &id).await;
    let first = json_with_status(
        app.post_admin("/v1/authorisations", &grant_body(&id)).await,
        201,
    )
    .await;
    let grant_id = first["id"].as_str().expect("id").to_owned();
    assert!(uuid::Uuid::parse_str(&grant_id).is_ok());
    assert_eq!(first["issuer"], id);
    assert_eq!(first["typeCodes"], json!([DRIVING, OTHER_TYPE]));
    assert_eq!(first["jurisdiction"], "2201");
    assert_eq!(first["validFrom"], "2026-01-01T00:00:00Z");
    assert_eq!(first["validUntil"], "2030-12-31T16:00:00Z");
    assert_eq!(first["grantedBy"], GRANTOR);
    assert!(first["grantedAt"].is_string());
    assert!(first["withdrawnAt"].is_null());

    let body = json!({"at": "2027-03-01T00:00:00Z", "reason": "合同终止"});
    let path = format!("/v1/authorisations/{grant_id}/withdraw");
    let withdrawn = json_with_status(app.post_admin(&path, &body).await, 200).await;
    assert_eq!(withdrawn["withdrawnAt"], "2027-03-01T00:00:00Z");
    assert_eq!(withdrawn["withdrawalReason"], "合同终止");
    let problem = assert_problem(
        app.post_admin(&path, &json!({})).await,
        409,
        "authorisation_withdrawn",
    )
    .await;
    assert_eq!(problem["withdrawnAt"], "2027-03-01T00:00:00Z");

    // A re-grant is a new authorisation; the old one stays on record.
    let mut regrant = grant_body(&id);
    regrant["validFrom"] = json!("2099-01-01T00:00:00Z");
    regrant["validUntil"] = Value::Null;
    regrant["jurisdiction"] = json!("220102");
    let second = json_with_status(app.post_admin("/v1/authorisations", &regrant).await, 201).await;
    assert_eq!(second["status"], "pending");
    assert!(second["validUntil"].is_null());
    let history = items(&app, &format!("?issuer={id}")).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["id"], grant_id);
    assert_eq!(history[0]["withdrawnAt"], "2027-03-01T00:00:00Z");
    assert_eq!(history[1]["id"], second["id"]);

    let other = uscc(102);
    register(&app, &other).await;
    json_with_status(
        app.post_admin("/v1/authorisations", &grant_body(&other))
            .await,
        201,
    )
    .await;
    assert_eq!(items(&app, "").await.len(), 3);
    assert_eq!(items(&app, &format!("?issuer={other}")).await.len(), 1);

    // Withdrawal with no body at all: now.
    let path = format!(
        "/v1/authorisations/{}/withdraw",
        second["id"].as_str().expect("id")
    );
    let response = app
        .client
        .post(app.url(&path))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("sent");
    let withdrawn = json_with_status(response, 200).await;
    assert_eq!(withdrawn["status"], "withdrawn");
    assert!(withdrawn["withdrawalReason"].is_null());
}

async fn grant_refusals_store_nothing(app: TestApp) {
    let id = uscc(103);
    register(&app, &id).await;
    json_with_status(
        app.post_admin(
            &format!("/v1/licence-types/{OTHER_TYPE}/deprecate"),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let with = |key: &str, value: Value| {
        let mut body = grant_body(&id);
        body["typeCodes"] = json!([DRIVING]);
        body[key] = value;
        body
    };
    let cases = [
        (
            with("issuer", json!("91220100MA0000103X")),
            400,
            "invalid_uscc",
        ),
        (with("grantedBy", json!("nobody")), 400, "invalid_uscc"),
        (
            with("typeCodes", json!(["11100000000013338W00"])),
            400,
            "invalid_type_code",
        ),
        (with("typeCodes", json!([])), 400, "invalid_field"),
        (
            with("typeCodes", json!([DRIVING, DRIVING])),
            400,
            "invalid_field",
        ),
        (
            with("jurisdiction", json!("22010")),
            400,
            "invalid_jurisdiction",
        ),
        (
            with("jurisdiction", json!("002201")),
            400,
            "invalid_jurisdiction",
        ),
        (
            with("validFrom", json!("2026-01-01 00:00")),
            400,
            "invalid_time",
        ),
        (with("validUntil", json!("soon")), 400, "invalid_time"),
        (
            with("validUntil", json!("2025-12-31T00:00:00Z")),
            422,
            "invalid_window",
        ),
        (
            with("validUntil", json!("2026-01-01T00:00:00Z")),
            422,
            "invalid_window",
        ),
        (
            with("typeCodes", json!([DRIVING, "11100000000013338W098"])),
            422,
            "unknown_type_code",
        ),
        (
            with("typeCodes", json!([OTHER_TYPE])),
            422,
            "type_deprecated",
        ),
        (
            with("typeCodes", json!([DRIVING, FOREIGN_TYPE])),
            422,
            "grantor_not_competent",
        ),
        (with("issuer", json!(uscc(104))), 404, "issuer_not_found"),
        (with("extra", json!(true)), 400, "invalid_request_body"),
        (
            json!({"issuer": id, "typeCodes": [DRIVING], "jurisdiction": "22", "grantedBy": GRANTOR}),
            400,
            "invalid_request_body",
        ),
    ];
    for (body, status, code) in cases {
        assert_problem(
            app.post_admin("/v1/authorisations", &body).await,
            status,
            code,
        )
        .await;
    }
    let response = app
        .post_anon("/v1/authorisations", &with("jurisdiction", json!("22")))
        .await;
    assert_problem(response, 401, "missing_token").await;
    assert_eq!(items(&app, "").await, Vec::<Value>::new());
}

async fn withdraw_refusals(app: TestApp) {
    let id = uscc(105);
    register(&app, &id).await;
    let grant = json_with_status(
        app.post_admin("/v1/authorisations", &grant_body(&id)).await,
        201,
    )
    .await;
    let path = format!(
        "/v1/authorisations/{}/withdraw",
        grant["id"].as_str().expect("id")
    );
    let missing = format!("/v1/authorisations/{}/withdraw", uuid::Uuid::new_v4());
    assert_problem(
        app.post_admin(&missing, &json!({})).await,
        404,
        "authorisation_not_found",
    )
    .await;
    assert_problem(
        app.post_admin("/v1/authorisations/not-a-uuid/withdraw", &json!({}))
            .await,
        404,
        "authorisation_not_found",
    )
    .await;
    assert_problem(
        app.post_admin(&path, &json!({"at": "tomorrow"})).await,
        400,
        "invalid_time",
    )
    .await;
    assert_problem(
        app.post_admin(&path, &json!({"reason": "x".repeat(501)}))
            .await,
        400,
        "invalid_field",
    )
    .await;
    assert_problem(
        app.post_admin(&path, &json!({"when": "now"})).await,
        400,
        "invalid_request_body",
    )
    .await;
    assert_problem(app.post_anon(&path, &json!({})).await, 401, "missing_token").await;
    let response = app
        .client
        .post(app.url(&path))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/plain")
        .body("at=now")
        .send()
        .await
        .expect("sent");
    assert_problem(response, 415, "unsupported_media_type").await;
    let history = items(&app, &format!("?issuer={id}")).await;
    assert!(
        history[0]["withdrawnAt"].is_null(),
        "refusals stored nothing"
    );
    assert_eq!(history[0]["status"], "active");
}

async fn issuer_reads_only_its_own_grants(app: TestApp) {
    let (mine, theirs) = (uscc(106), uscc(107));
    register(&app, &mine).await;
    register(&app, &theirs).await;
    for issuer in [&mine, &theirs] {
        json_with_status(
            app.post_admin("/v1/authorisations", &grant_body(issuer))
                .await,
            201,
        )
        .await;
    }
    let token = issuer_token(&app, &mine).await;
    for query in ["".to_owned(), format!("?issuer={mine}")] {
        let body = json_with_status(list(&app, &query, &token).await, 200).await;
        assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(body["items"][0]["issuer"], mine);
    }
    let response = list(&app, &format!("?issuer={theirs}"), &token).await;
    assert_problem(response, 403, "not_your_issuer").await;
    assert_problem(
        list(&app, "", "wrong-token-0123456789").await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(app.get("/v1/authorisations").await, 401, "missing_token").await;
    assert_problem(
        list(&app, "?issuer=bad", ADMIN_TOKEN).await,
        400,
        "invalid_uscc",
    )
    .await;
    assert_problem(
        list(&app, &format!("?issuer={}", uscc(108)), ADMIN_TOKEN).await,
        404,
        "issuer_not_found",
    )
    .await;
    assert_problem(
        list(&app, "?other=1", ADMIN_TOKEN).await,
        400,
        "invalid_query",
    )
    .await;
    // A suspended issuer still reads its own data.
    let suspend = format!("/v1/issuers/{mine}/suspend");
    json_with_status(app.post_admin(&suspend, &json!({})).await, 200).await;
    json_with_status(list(&app, "", &token).await, 200).await;
}
