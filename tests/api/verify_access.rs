//! Agency verifications: the key needs the `verify` scope, and every licence verified by an
//! agency is an access record its holder sees; anonymous verification records nothing.

use serde_json::json;

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp};
use crate::support::people::{agency, holder_token, issuer_with_licence, CITIZEN};

on_both_backends!(agency_verifications_are_recorded);

async fn agency_verifications_are_recorded(app: TestApp) {
    let (_issuer, licence) = issuer_with_licence(&app).await;
    let (verifier, key) = agency(&app, "11220000MB0000011", &["verify"]).await;
    let (_, no_scope) = agency(&app, "11220000MB0000012", &["read"]).await;
    let holder = holder_token(&app, CITIZEN).await;
    let records = |app: &TestApp| {
        let path = "/v1/holder/access-records".to_owned();
        let holder = holder.clone();
        let app_url = app.url(&path);
        let client = app.client.clone();
        async move {
            let response = client
                .get(app_url)
                .bearer_auth(holder)
                .send()
                .await
                .expect("sent");
            json_with_status(response, 200).await
        }
    };
    let before = records(&app).await["records"]
        .as_array()
        .map_or(0, Vec::len);

    let anonymous = app
        .post_anon("/v1/verify", &json!({"credential": licence}))
        .await;
    assert_eq!(json_with_status(anonymous, 200).await["verified"], true);
    assert_eq!(
        records(&app).await["records"]
            .as_array()
            .map_or(0, Vec::len),
        before
    );

    let body = json!({"credential": licence, "purpose": "核验驾驶资格"});
    let verified = app
        .call("POST", "/v1/verify", Some(&key), Some(&body))
        .await;
    assert_eq!(json_with_status(verified, 200).await["verified"], true);
    let batch = json!({"items": [{"credential": licence}], "purpose": "批量核验"});
    let verified = app
        .call("POST", "/v1/verify/batch", Some(&key), Some(&batch))
        .await;
    assert_eq!(
        json_with_status(verified, 200).await["results"][0]["verified"],
        true
    );

    let seen = records(&app).await;
    let list = seen["records"].as_array().expect("records");
    assert_eq!(list.len(), before + 2, "{seen}");
    assert_eq!(
        list[0]["route"], "POST /v1/verify/batch",
        "newest first: {seen}"
    );
    assert_eq!(list[0]["purpose"], "批量核验");
    assert_eq!(list[1]["route"], "POST /v1/verify");
    assert_eq!(list[1]["purpose"], "核验驾驶资格");
    assert_eq!(list[1]["agency"], verifier.as_str());
    assert_eq!(list[1]["result"], "valid");
    assert_eq!(list[1]["licence"], licence["id"]);

    let refused = app
        .call("POST", "/v1/verify", Some(&no_scope), Some(&body))
        .await;
    assert_problem(refused, 403, "scope_missing").await;
    let wrong = app
        .call("POST", "/v1/verify", Some("not-a-key"), Some(&body))
        .await;
    assert_problem(wrong, 401, "invalid_token").await;
    let bad = json!({"credential": licence, "purpose": ""});
    assert_problem(
        app.call("POST", "/v1/verify", Some(&key), Some(&bad)).await,
        400,
        "invalid_purpose",
    )
    .await;
    assert_eq!(
        records(&app).await["records"]
            .as_array()
            .map_or(0, Vec::len),
        before + 2,
        "refusals record nothing"
    );
}
