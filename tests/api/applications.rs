//! Applications by reference: the holder applies, or approves an agency's pending application;
//! nothing is checked, proposed or readable before that; requirements met or missing, reading
//! the fulfilling licences, closing and withdrawing. The refusals are in
//! `application_refusals.rs`.

use elicence::crypto::digest::digest_value;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp};
use crate::support::applications::{decide, holder_applications, holder_records, read_path};
use crate::support::people::{
    agency, file_application, holder_token, issuer_with_licence, licence_for, matter, CITIZEN,
    DRIVING,
};
use crate::support::signing::{items, TYPE_CODE};
use crate::support::submissions::accept;

on_both_backends!(
    holder_applies_then_agency_reads_then_closes,
    agency_application_waits_for_the_holder,
    withdrawn_application_ends_reads,
    outcomes_of_the_holders_references,
    the_registry_proposes_only_when_the_holder_asks,
    an_enterprise_approves_with_its_own_token,
);

/// The holder's own application for `matter` with these licences; answers the 201 body.
pub async fn apply(app: &TestApp, token: &str, matter: &str, licences: Value) -> Value {
    let body = json!({"matter": matter, "licences": licences, "useCause": "律师执业备案"});
    let response = app
        .call("POST", "/v1/holder/applications", Some(token), Some(&body))
        .await;
    json_with_status(response, 201).await
}

async fn holder_applies_then_agency_reads_then_closes(app: TestApp) {
    let (_issuer, current) = issuer_with_licence(&app).await;
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["applications"]).await;
    matter(&app, "JL-SF-001", &agency_uscc, &[TYPE_CODE]).await;
    let token = holder_token(&app, CITIZEN).await;
    let filed = apply(&app, &token, "JL-SF-001", json!([current["id"]])).await;
    assert_eq!(filed["state"], "approved", "{filed}");
    assert_eq!(filed["origin"], "holder");
    assert_eq!(filed["agency"], agency_uscc.as_str());
    assert_eq!(filed["fullySatisfied"], true, "{filed}");
    assert_eq!(filed["requirements"][0]["fulfilledBy"], current["id"]);
    let id = filed["id"].as_str().expect("id");
    let shown = json_with_status(
        app.call("GET", &format!("/v1/applications/{id}"), Some(&key), None)
            .await,
        200,
    )
    .await;
    assert_eq!(shown["references"], filed["references"]);
    let path = read_path(&filed, &current["id"]);
    let read = json_with_status(app.call("GET", &path, Some(&key), None).await, 200).await;
    assert_eq!(read["credential"], current);
    let close = format!("/v1/applications/{id}/close");
    json_with_status(app.call("POST", &close, Some(&key), None).await, 200).await;
    assert_problem(
        app.call("POST", &close, Some(&key), None).await,
        409,
        "application_closed",
    )
    .await;
    assert_problem(
        app.call("GET", &path, Some(&key), None).await,
        403,
        "application_closed",
    )
    .await;
    // The holder sees the check and the read, and the application among its own.
    let records = holder_records(&app, &token).await;
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["channel"], "agency_read");
    assert_eq!(records[1]["channel"], "application");
    assert_eq!(records[1]["result"], "fulfilled");
    assert_eq!(records[1]["purpose"], "律师执业备案");
    assert_eq!(records[1]["agency"], agency_uscc.as_str());
    assert_eq!(holder_applications(&app, &token).await[0]["id"], id);
}

async fn agency_application_waits_for_the_holder(app: TestApp) {
    let (issuer, current) = issuer_with_licence(&app).await;
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["applications"]).await;
    matter(&app, "WAIT", &agency_uscc, &[TYPE_CODE]).await;
    let body = json!({"matter": "WAIT", "applicant": CITIZEN, "licences": [current["id"]], "useCause": "代办"});
    let filed = json_with_status(file_application(&app, &key, body).await, 201).await;
    assert_eq!(filed["state"], "pending", "{filed}");
    assert_eq!(filed["requested"], json!([current["id"]]));
    for revealing in [
        "requirements",
        "references",
        "fullySatisfied",
        "unfulfilled",
    ] {
        assert!(filed.get(revealing).is_none(), "{revealing}: {filed}");
    }
    // Nothing is readable, whether or not the licence exists, and nothing was checked.
    let missing = json!(issuer.licence_id("NOPE", 1).urn());
    for licence in [&current["id"], &missing] {
        assert_problem(
            app.call("GET", &read_path(&filed, licence), Some(&key), None)
                .await,
            403,
            "application_not_approved",
        )
        .await;
    }
    let token = holder_token(&app, CITIZEN).await;
    assert!(holder_records(&app, &token).await.is_empty());
    let pending = holder_applications(&app, &token).await;
    assert_eq!(pending[0]["state"], "pending");
    assert_eq!(pending[0]["useCause"], "代办");
    // The holder approves with the licences the agency named.
    let id = filed["id"].as_str().expect("id");
    let approved =
        json_with_status(decide(&app, &token, id, "approve", json!({})).await, 200).await;
    assert_eq!(approved["state"], "approved");
    assert_eq!(approved["fullySatisfied"], true, "{approved}");
    let path = read_path(&filed, &current["id"]);
    json_with_status(app.call("GET", &path, Some(&key), None).await, 200).await;
    let records = holder_records(&app, &token).await;
    assert_eq!(
        records[1]["route"],
        "POST /v1/holder/applications/{id}/approve"
    );
    assert_eq!(records[1]["application"], id);
    for action in ["approve", "decline"] {
        assert_problem(
            decide(&app, &token, id, action, json!({})).await,
            409,
            "application_not_pending",
        )
        .await;
    }
}

async fn withdrawn_application_ends_reads(app: TestApp) {
    let (_issuer, current) = issuer_with_licence(&app).await;
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["applications"]).await;
    matter(&app, "WD", &agency_uscc, &[TYPE_CODE]).await;
    let token = holder_token(&app, CITIZEN).await;
    let filed = apply(&app, &token, "WD", json!([current["id"]])).await;
    let path = read_path(&filed, &current["id"]);
    json_with_status(app.call("GET", &path, Some(&key), None).await, 200).await;
    let id = filed["id"].as_str().expect("id");
    let withdrawn =
        json_with_status(decide(&app, &token, id, "withdraw", json!({})).await, 200).await;
    assert_eq!(withdrawn["state"], "withdrawn");
    assert_problem(
        app.call("GET", &path, Some(&key), None).await,
        403,
        "application_withdrawn",
    )
    .await;
    assert_problem(
        decide(&app, &token, id, "withdraw", json!({})).await,
        409,
        "application_not_approved",
    )
    .await;
    assert_eq!(
        holder_applications(&app, &token).await[0]["state"],
        "withdrawn"
    );
}

async fn outcomes_of_the_holders_references(app: TestApp) {
    let (mut issuer, current) = issuer_with_licence(&app).await;
    let expired = licence_for(&issuer, "E1", CITIZEN, (2020, 2021));
    let revoked = licence_for(&issuer, "R1", CITIZEN, (2026, 2030));
    accept(&app, &mut issuer, items(&[&expired, &revoked])).await;
    let change = issuer.status_change(&revoked, "revoke", &digest_value(&revoked));
    accept(&app, &mut issuer, vec![change]).await;
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["applications"]).await;
    matter(&app, "TWO", &agency_uscc, &[TYPE_CODE, DRIVING]).await;
    let token = holder_token(&app, CITIZEN).await;
    let refs = json!([expired["id"], revoked["id"], current["id"]]);
    let filed = apply(&app, &token, "TWO", refs).await;
    let codes: Vec<Value> = filed["references"]
        .as_array()
        .expect("refs")
        .iter()
        .map(|r| r["code"].clone())
        .collect();
    assert_eq!(codes, [json!("expired"), json!("revoked"), Value::Null]);
    assert_eq!(filed["fullySatisfied"], false);
    assert_eq!(filed["unfulfilled"], json!([DRIVING]));
    // A refused reference cannot be read through the application.
    assert_problem(
        app.call("GET", &read_path(&filed, &expired["id"]), Some(&key), None)
            .await,
        403,
        "not_entitled",
    )
    .await;
    // Refusals of the requests themselves.
    let apply_with = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            app.call("POST", "/v1/holder/applications", Some(&token), Some(&body))
                .await
        }
    };
    let body = json!({"matter": "NONE", "licences": [current["id"]], "useCause": "x"});
    assert_problem(apply_with(body).await, 422, "matter_not_found").await;
    let body = json!({"matter": "TWO", "useCause": "x"});
    assert_problem(apply_with(body).await, 400, "nothing_referenced").await;
    let body = json!({"matter": "TWO", "licences": [current["id"]], "useCause": " "});
    assert_problem(apply_with(body).await, 400, "invalid_field").await;
    let body = json!({"matter": "TWO", "applicant": "110105194912310021", "useCause": "x"});
    assert_problem(
        file_application(&app, &key, body).await,
        400,
        "invalid_holder",
    )
    .await;
    let body = json!({"matter": "NONE", "applicant": CITIZEN, "useCause": "x"});
    assert_problem(
        file_application(&app, &key, body).await,
        422,
        "matter_not_found",
    )
    .await;
    let body =
        json!({"matter": "TWO", "applicant": CITIZEN, "useCause": "x", "licences": ["garbage"]});
    assert_problem(
        file_application(&app, &key, body).await,
        400,
        "invalid_licence_id",
    )
    .await;
}

async fn the_registry_proposes_only_when_the_holder_asks(app: TestApp) {
    let (mut issuer, current) = issuer_with_licence(&app).await;
    let renewal = {
        let mut vc = issuer.unsigned_licence("A1", 2);
        vc["credentialSubject"]["id"] = json!(format!("urn:cn:rid:{CITIZEN}"));
        vc["validUntil"] = json!("2030-01-01T00:00:00Z");
        vc["relatedResource"] =
            json!([{"id": current["id"], "digestMultibase": digest_value(&current)}]);
        issuer.sign(&vc)
    };
    accept(&app, &mut issuer, items(&[&renewal])).await;
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["applications"]).await;
    matter(&app, "AUTO", &agency_uscc, &[TYPE_CODE]).await;
    let token = holder_token(&app, CITIZEN).await;
    // The agency cannot ask the registry to propose: nothing stored.
    let body =
        json!({"matter": "AUTO", "applicant": CITIZEN, "useCause": "自动填充", "autofill": true});
    assert_problem(
        file_application(&app, &key, body).await,
        400,
        "holder_consent_required",
    )
    .await;
    assert!(holder_applications(&app, &token).await.is_empty());
    // The holder can, when applying and when approving.
    let body = json!({"matter": "AUTO", "propose": true, "useCause": "自动填充"});
    let response = app
        .call("POST", "/v1/holder/applications", Some(&token), Some(&body))
        .await;
    let filed = json_with_status(response, 201).await;
    assert_eq!(filed["autofilled"], true);
    assert_eq!(filed["requirements"][0]["fulfilledBy"], renewal["id"]);
    let body = json!({"matter": "AUTO", "applicant": CITIZEN, "useCause": "x"});
    let pending = json_with_status(file_application(&app, &key, body).await, 201).await;
    let id = pending["id"].as_str().expect("id");
    let both = json!({"propose": true, "licences": [current["id"]]});
    assert_problem(
        decide(&app, &token, id, "approve", both).await,
        400,
        "propose_with_licences",
    )
    .await;
    let approved = json_with_status(
        decide(&app, &token, id, "approve", json!({"propose": true})).await,
        200,
    )
    .await;
    assert_eq!(approved["fullySatisfied"], true, "{approved}");
    // The superseded version is refused when chosen explicitly.
    let filed = apply(&app, &token, "AUTO", json!([current["id"]])).await;
    assert_eq!(filed["references"][0]["code"], "superseded");
}

async fn an_enterprise_approves_with_its_own_token(app: TestApp) {
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["applications"]).await;
    matter(&app, "ENT", &agency_uscc, &[TYPE_CODE]).await;
    let enterprise = "urn:cn:uscc:91110000101623741K";
    let body = json!({"matter": "ENT", "applicant": enterprise, "useCause": "企业开办"});
    let filed = json_with_status(file_application(&app, &key, body).await, 201).await;
    assert_eq!(filed["applicant"], enterprise);
    let id = filed["id"].as_str().expect("id");
    let person = holder_token(&app, CITIZEN).await;
    assert_problem(
        decide(&app, &person, id, "approve", json!({"licences": []})).await,
        404,
        "application_not_found",
    )
    .await;
    let token = holder_token(&app, enterprise).await;
    assert_eq!(
        holder_applications(&app, &token).await[0]["state"],
        "pending"
    );
    let approved = decide(&app, &token, id, "approve", json!({"propose": true})).await;
    let approved = json_with_status(approved, 200).await;
    assert_eq!(approved["state"], "approved");
    assert_eq!(approved["unfulfilled"], json!([TYPE_CODE]));
}
