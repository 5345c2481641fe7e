//! Applications by reference: requirements met or missing, reading the referenced licences,
//! closing, refusals, and autofill from the applicant's current licences.

use elicence::crypto::digest::digest_value;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, json_with_status, TestApp};
use crate::on_both_backends;
use crate::people::{
    agency, file, holder_token, issuer_with_licence, licence_for, matter, CITIZEN, DRIVING, OTHER,
};
use crate::signing::{items, TYPE_CODE};
use crate::submissions::accept;

on_both_backends!(
    application_all_fulfilled_then_read_then_close,
    application_partly_fulfilled_and_refusals,
    application_autofill_proposes_current_licences,
);

async fn application_all_fulfilled_then_read_then_close(app: TestApp) {
    let (_issuer, current) = issuer_with_licence(&app).await;
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["applications"]).await;
    matter(&app, "JL-SF-001", &agency_uscc, &[TYPE_CODE]).await;
    let body = json!({"matter": "JL-SF-001", "applicant": CITIZEN, "licences": [current["id"]], "useCause": "律师执业备案"});
    let filed = json_with_status(file(&app, &key, body).await, 201).await;
    assert_eq!(filed["fullySatisfied"], true, "{filed}");
    assert_eq!(filed["requirements"][0]["fulfilledBy"], current["id"]);
    assert_eq!(filed["unfulfilled"], json!([]));
    let id = filed["id"].as_str().expect("id");
    let shown = json_with_status(
        app.call("GET", &format!("/v1/applications/{id}"), Some(&key), None)
            .await,
        200,
    )
    .await;
    assert_eq!(shown["references"], filed["references"]);
    let read_path = format!(
        "/v1/applications/{id}/licences/{}",
        current["id"].as_str().expect("id")
    );
    let read = json_with_status(app.call("GET", &read_path, Some(&key), None).await, 200).await;
    assert_eq!(read["credential"], current);
    assert_eq!(read["status"], "active");
    let close = format!("/v1/applications/{id}/close");
    json_with_status(app.call("POST", &close, Some(&key), None).await, 200).await;
    assert_problem(
        app.call("POST", &close, Some(&key), None).await,
        409,
        "application_closed",
    )
    .await;
    assert_problem(
        app.call("GET", &read_path, Some(&key), None).await,
        403,
        "application_closed",
    )
    .await;
    // The holder sees the check and the read, newest first.
    let token = holder_token(&app, CITIZEN).await;
    let records = json_with_status(
        app.call("GET", "/v1/holder/access-records", Some(&token), None)
            .await,
        200,
    )
    .await;
    let records = records["records"].as_array().expect("records");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["channel"], "agency_read");
    assert_eq!(records[1]["channel"], "application");
    assert_eq!(records[1]["result"], "fulfilled");
    assert_eq!(records[1]["purpose"], "律师执业备案");
    assert_eq!(records[1]["agency"], agency_uscc.as_str());
}

async fn application_partly_fulfilled_and_refusals(app: TestApp) {
    let (mut issuer, current) = issuer_with_licence(&app).await;
    let expired = licence_for(&issuer, "E1", CITIZEN, (2020, 2021));
    let others = licence_for(&issuer, "O1", OTHER, (2026, 2030));
    let revoked = licence_for(&issuer, "R1", CITIZEN, (2026, 2030));
    accept(&app, &mut issuer, items(&[&expired, &others, &revoked])).await;
    let change = issuer.status_change(&revoked, "revoke", &digest_value(&revoked));
    accept(&app, &mut issuer, vec![change]).await;
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["applications"]).await;
    matter(&app, "TWO", &agency_uscc, &[TYPE_CODE, DRIVING]).await;
    let unknown = issuer.licence_id("NOPE", 1).urn();
    let refs = json!([
        expired["id"],
        others["id"],
        revoked["id"],
        unknown,
        "garbage",
        current["id"]
    ]);
    let body = json!({"matter": "TWO", "applicant": CITIZEN, "licences": refs, "useCause": "测试"});
    let filed = json_with_status(file(&app, &key, body).await, 201).await;
    let codes: Vec<Value> = filed["references"]
        .as_array()
        .expect("refs")
        .iter()
        .map(|r| r["code"].clone())
        .collect();
    assert_eq!(
        codes,
        [
            json!("expired"),
            json!("not_applicants"),
            json!("revoked"),
            json!("not_found"),
            json!("invalid_licence_id"),
            Value::Null
        ]
    );
    assert_eq!(filed["fullySatisfied"], false);
    assert_eq!(filed["unfulfilled"], json!([DRIVING]));
    assert_eq!(filed["requirements"][0]["fulfilledBy"], current["id"]);
    // The other holder sees that the agency tried to use its licence; the citizen does not.
    let other = holder_token(&app, OTHER).await;
    let records = json_with_status(
        app.call("GET", "/v1/holder/access-records", Some(&other), None)
            .await,
        200,
    )
    .await;
    assert_eq!(records["records"][0]["result"], "not_applicants");
    assert_eq!(records["records"].as_array().expect("records").len(), 1);
    // A refused reference cannot be read through the application.
    let id = filed["id"].as_str().expect("id");
    let path = format!(
        "/v1/applications/{id}/licences/{}",
        others["id"].as_str().expect("id")
    );
    assert_problem(
        app.call("GET", &path, Some(&key), None).await,
        403,
        "not_entitled",
    )
    .await;
    // Refusals of the request itself.
    let body = json!({"matter": "NONE", "applicant": CITIZEN, "useCause": "x"});
    assert_problem(file(&app, &key, body).await, 422, "matter_not_found").await;
    let body = json!({"matter": "TWO", "applicant": "110105194912310021", "useCause": "x"});
    assert_problem(file(&app, &key, body).await, 400, "invalid_holder").await;
    let (_, stranger) = agency(&app, "11220000MB0000002", &["applications"]).await;
    let body = json!({"matter": "TWO", "applicant": CITIZEN, "useCause": "x"});
    assert_problem(
        file(&app, &stranger, body).await,
        403,
        "not_handling_agency",
    )
    .await;
}

async fn application_autofill_proposes_current_licences(app: TestApp) {
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
    let body =
        json!({"matter": "AUTO", "applicant": CITIZEN, "useCause": "自动填充", "autofill": true});
    let filed = json_with_status(file(&app, &key, body).await, 201).await;
    assert_eq!(filed["autofilled"], true);
    assert_eq!(filed["fullySatisfied"], true, "{filed}");
    assert_eq!(filed["requirements"][0]["fulfilledBy"], renewal["id"]);
    // The superseded version is refused when referenced explicitly.
    let body = json!({"matter": "AUTO", "applicant": CITIZEN, "useCause": "x", "licences": [current["id"]]});
    let filed = json_with_status(file(&app, &key, body).await, 201).await;
    assert_eq!(filed["references"][0]["code"], "superseded");
    // An applicant with nothing on file gets nothing fulfilled.
    let body = json!({"matter": "AUTO", "applicant": OTHER, "useCause": "x", "autofill": true});
    let filed = json_with_status(file(&app, &key, body).await, 201).await;
    assert_eq!(filed["fullySatisfied"], false);
    let body = json!({"matter": "AUTO", "applicant": OTHER, "useCause": "x", "autofill": true, "licences": [current["id"]]});
    assert_problem(
        file(&app, &key, body).await,
        400,
        "autofill_with_references",
    )
    .await;
}
