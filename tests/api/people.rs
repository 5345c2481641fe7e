//! Agencies, holders, matters, the holder's licences and the figures, on both backends.
//! Applications by reference are in `applications.rs`.

use chrono::Utc;
use elicence::crypto::digest::digest_value;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp, ADMIN_TOKEN};
use crate::support::people::{
    agency, file_application, holder_token, issuer_with_licence, licence_for, matter, CITIZEN,
};
use crate::support::signing::{items, uscc, TYPE_CODE};
use crate::support::submissions::accept;

on_both_backends!(
    agencies_keys_rotate_and_revoke,
    holder_tokens_validate_the_holder,
    matters_are_defined_by_the_operator_and_public,
    holder_sees_current_licences_and_history,
    stats_count_licences_and_applications,
);

async fn agencies_keys_rotate_and_revoke(app: TestApp) {
    let (own, first) = agency(&app, "11220000MB0000001", &["verify", "read"]).await;
    let body = json!({"uscc": own, "name": "重复", "jurisdiction": "22", "scopes": []});
    assert_problem(
        app.post_admin("/v1/agencies", &body).await,
        409,
        "agency_exists",
    )
    .await;
    let bad = json!({"uscc": uscc("11220000MB0000002"), "name": "x", "jurisdiction": "22", "scopes": ["admin"]});
    assert_problem(
        app.post_admin("/v1/agencies", &bad).await,
        400,
        "invalid_scope",
    )
    .await;
    // The key works; a second key is added; the first is revoked and stops working.
    let path = format!("/v1/agency/licences/{}", "nope");
    assert_problem(
        app.call("GET", &path, Some(&first), None).await,
        403,
        "consent_required",
    )
    .await;
    let second = json_with_status(
        app.post_admin(&format!("/v1/agencies/{own}/keys"), &json!({}))
            .await,
        201,
    )
    .await;
    let second_key = second["apiKey"].as_str().expect("key");
    let revoke = format!("/v1/agencies/{own}/keys/1/revoke");
    json_with_status(app.post_admin(&revoke, &json!({})).await, 200).await;
    assert_problem(
        app.post_admin(&revoke, &json!({})).await,
        409,
        "key_already_revoked",
    )
    .await;
    assert_problem(
        app.call("GET", &path, Some(&first), None).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(
        app.call("GET", &path, Some(second_key), None).await,
        403,
        "consent_required",
    )
    .await;
    let shown = json_with_status(
        app.call(
            "GET",
            &format!("/v1/agencies/{own}"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(shown["keys"].as_array().expect("keys").len(), 2);
    assert!(
        !shown.to_string().contains(second_key),
        "keys are never shown again"
    );
}

async fn holder_tokens_validate_the_holder(app: TestApp) {
    for bad in ["110105194912310021", "91110000101623741J", "x"] {
        let path = format!("/v1/holders/{bad}/tokens");
        assert_problem(
            app.post_admin(&path, &json!({})).await,
            400,
            "invalid_holder",
        )
        .await;
    }
    let token = holder_token(&app, "urn:cn:uscc:91110000101623741K").await;
    let list = json_with_status(
        app.call("GET", "/v1/holder/licences", Some(&token), None)
            .await,
        200,
    )
    .await;
    assert_eq!(list["holder"], "urn:cn:uscc:91110000101623741K");
    let short = json!({"validForSeconds": 0});
    assert_problem(
        app.post_admin(&format!("/v1/holders/{CITIZEN}/tokens"), &short)
            .await,
        400,
        "invalid_field",
    )
    .await;
}

async fn matters_are_defined_by_the_operator_and_public(app: TestApp) {
    let (agency_uscc, _) = agency(&app, "11220000MB0000001", &["applications"]).await;
    matter(&app, "JL-SF-001", &agency_uscc, &[TYPE_CODE]).await;
    let again = json!({"code": "JL-SF-001", "name": "x", "agency": agency_uscc, "requirements": [{"typeCode": TYPE_CODE}]});
    assert_problem(
        app.post_admin("/v1/matters", &again).await,
        409,
        "matter_exists",
    )
    .await;
    let cases = [
        (
            json!({"code": "THIRTEEN-CHAR", "name": "x", "agency": agency_uscc, "requirements": [{"typeCode": TYPE_CODE}]}),
            400,
            "invalid_matter_code",
        ),
        (
            json!({"code": "M2", "name": "x", "agency": uscc("11220000MB0000009"), "requirements": [{"typeCode": TYPE_CODE}]}),
            422,
            "agency_not_found",
        ),
        (
            json!({"code": "M2", "name": "x", "agency": agency_uscc, "requirements": []}),
            422,
            "no_requirements",
        ),
        (
            json!({"code": "M2", "name": "x", "agency": agency_uscc, "requirements": [{"typeCode": TYPE_CODE, "acceptedVersions": [9]}]}),
            422,
            "version_not_found",
        ),
    ];
    for (body, status, code) in cases {
        assert_problem(app.post_admin("/v1/matters", &body).await, status, code).await;
    }
    let list = json_with_status(app.get("/v1/matters").await, 200).await;
    assert_eq!(list["matters"][0]["code"], "JL-SF-001");
    assert_eq!(list["matters"][0]["requirements"][0]["required"], true);
}

async fn holder_sees_current_licences_and_history(app: TestApp) {
    let (mut issuer, current) = issuer_with_licence(&app).await;
    let expired = licence_for(&issuer, "E1", CITIZEN, (2020, 2021));
    accept(&app, &mut issuer, items(&[&expired])).await;
    let change = issuer.status_change(&current, "suspend", &digest_value(&current));
    accept(&app, &mut issuer, vec![change]).await;
    let token = holder_token(&app, CITIZEN).await;
    let list = json_with_status(
        app.call("GET", "/v1/holder/licences", Some(&token), None)
            .await,
        200,
    )
    .await;
    let statuses: Vec<(Value, Value)> = list["licences"]
        .as_array()
        .expect("list")
        .iter()
        .map(|l| (l["id"].clone(), l["status"].clone()))
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&(current["id"].clone(), json!("suspended"))));
    assert!(statuses.contains(&(expired["id"].clone(), json!("expired"))));
    let path = format!(
        "/v1/holder/licences/{}",
        current["id"].as_str().expect("id")
    );
    let history = json_with_status(app.call("GET", &path, Some(&token), None).await, 200).await;
    assert_eq!(history["events"][0]["action"], "suspend");
    assert_eq!(history["versions"][0]["credential"], current);
    assert_eq!(history["currentStatus"], "suspended");
}

async fn stats_count_licences_and_applications(app: TestApp) {
    let (_issuer, current) = issuer_with_licence(&app).await;
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["applications"]).await;
    matter(&app, "STAT", &agency_uscc, &[TYPE_CODE]).await;
    let token = holder_token(&app, CITIZEN).await;
    for licences in [json!([current["id"]]), json!([])] {
        let body =
            json!({"matter": "STAT", "applicant": CITIZEN, "useCause": "x", "licences": licences});
        let filed = json_with_status(file_application(&app, &key, body).await, 201).await;
        let path = format!(
            "/v1/holder/applications/{}/approve",
            filed["id"].as_str().expect("id")
        );
        let approval = app
            .call("POST", &path, Some(&token), Some(&json!({})))
            .await;
        json_with_status(approval, 200).await;
    }
    // A pending application is no application yet: it is not counted.
    let body = json!({"matter": "STAT", "applicant": CITIZEN, "useCause": "x"});
    json_with_status(file_application(&app, &key, body).await, 201).await;
    let stats = json_with_status(
        app.call("GET", "/v1/stats", Some(ADMIN_TOKEN), None).await,
        200,
    )
    .await;
    assert_eq!(stats["licences"]["total"], 1);
    assert_eq!(stats["licences"]["byType"][TYPE_CODE], 1);
    assert_eq!(stats["licences"]["byStatus"]["active"], 1);
    assert_eq!(stats["submissionsPerDay"][0]["count"], 1);
    assert_eq!(
        stats["submissionsPerDay"][0]["day"],
        Utc::now().format("%Y-%m-%d").to_string()
    );
    let apps = &stats["applications"];
    assert_eq!(apps["total"], 2);
    assert_eq!(apps["paperlessRate"], 0.5);
    assert_eq!(apps["visitsAvoided"], 1);
    assert_eq!(apps["byMatter"][0]["matter"], "STAT");
    assert_eq!(stats["mostReferencedTypes"][0]["typeCode"], TYPE_CODE);
}
