//! Applications by reference, refused: another holder or agency is answered as for nothing,
//! a licence not the holder's as a missing one, a declined application reads nothing; nothing is
//! stored from a refused request.

use serde_json::json;

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp};
use crate::support::applications::{decide, holder_applications, holder_records, read_path};
use crate::support::people::{
    agency, file_application, holder_token, issuer_with_licence, licence_for, matter, CITIZEN,
    OTHER,
};
use crate::support::signing::{items, TYPE_CODE};
use crate::support::submissions::accept;

on_both_backends!(
    another_holder_or_agency_is_refused_as_for_nothing,
    licences_not_the_holders_are_refused_as_missing,
    declined_application_reads_nothing,
);

async fn another_holder_or_agency_is_refused_as_for_nothing(app: TestApp) {
    let (_issuer, current) = issuer_with_licence(&app).await;
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["applications"]).await;
    let (_, stranger) = agency(&app, "11220000MB0000002", &["applications"]).await;
    matter(&app, "MINE", &agency_uscc, &[TYPE_CODE]).await;
    let body = json!({"matter": "MINE", "applicant": CITIZEN, "useCause": "x"});
    assert_problem(
        file_application(&app, &stranger, body.clone()).await,
        403,
        "not_handling_agency",
    )
    .await;
    let filed = json_with_status(file_application(&app, &key, body).await, 201).await;
    let id = filed["id"].as_str().expect("id");
    let missing = "00000000-0000-0000-0000-000000000000";
    // Another holder: every holder route answers as for an application that does not exist.
    let other = holder_token(&app, OTHER).await;
    for action in ["approve", "decline", "withdraw"] {
        let theirs = assert_problem(
            decide(&app, &other, id, action, json!({})).await,
            404,
            "application_not_found",
        )
        .await;
        let nothing = assert_problem(
            decide(&app, &other, missing, action, json!({})).await,
            404,
            "application_not_found",
        )
        .await;
        assert_eq!(theirs["title"], nothing["title"]);
    }
    let shown = format!("/v1/holder/applications/{id}");
    assert_problem(
        app.call("GET", &shown, Some(&other), None).await,
        404,
        "application_not_found",
    )
    .await;
    assert!(holder_applications(&app, &other).await.is_empty());
    // Nothing changed: the citizen still decides, and then the other agency reads nothing.
    let token = holder_token(&app, CITIZEN).await;
    let body = json!({"licences": [current["id"]]});
    json_with_status(decide(&app, &token, id, "approve", body).await, 200).await;
    let path = read_path(&filed, &current["id"]);
    assert_problem(
        app.call("GET", &path, Some(&stranger), None).await,
        404,
        "application_not_found",
    )
    .await;
    let shown = format!("/v1/applications/{id}");
    assert_problem(
        app.call("GET", &shown, Some(&stranger), None).await,
        404,
        "application_not_found",
    )
    .await;
}

async fn licences_not_the_holders_are_refused_as_missing(app: TestApp) {
    let (mut issuer, _current) = issuer_with_licence(&app).await;
    let others = licence_for(&issuer, "O1", OTHER, (2026, 2030));
    accept(&app, &mut issuer, items(&[&others])).await;
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["applications"]).await;
    matter(&app, "OWN", &agency_uscc, &[TYPE_CODE]).await;
    let body =
        json!({"matter": "OWN", "applicant": CITIZEN, "licences": [others["id"]], "useCause": "x"});
    let filed = json_with_status(file_application(&app, &key, body).await, 201).await;
    let id = filed["id"].as_str().expect("id");
    let token = holder_token(&app, CITIZEN).await;
    let unknown = json!(issuer.licence_id("NOPE", 1).urn());
    let bare_other = json!(others["id"]
        .as_str()
        .expect("id")
        .trim_start_matches("urn:elicence:"));
    let mut answers = Vec::new();
    for licence in [&others["id"], &bare_other, &unknown, &json!("garbage")] {
        let body = json!({"licences": [licence]});
        let refused = assert_problem(
            decide(&app, &token, id, "approve", body).await,
            404,
            "licence_not_found",
        )
        .await;
        answers.push(refused);
        let body = json!({"matter": "OWN", "licences": [licence], "useCause": "x"});
        let refused = assert_problem(
            app.call("POST", "/v1/holder/applications", Some(&token), Some(&body))
                .await,
            404,
            "licence_not_found",
        )
        .await;
        answers.push(refused);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    // The licences the agency named are no exception.
    let refused = decide(&app, &token, id, "approve", json!({})).await;
    assert_eq!(
        assert_problem(refused, 404, "licence_not_found").await,
        answers[0]
    );
    // Nothing was stored: still pending, no check recorded for anyone.
    assert_eq!(holder_applications(&app, &token).await.len(), 1);
    assert_eq!(
        holder_applications(&app, &token).await[0]["state"],
        "pending"
    );
    assert!(holder_records(&app, &token).await.is_empty());
    let other = holder_token(&app, OTHER).await;
    assert!(holder_records(&app, &other).await.is_empty());
}

async fn declined_application_reads_nothing(app: TestApp) {
    let (_issuer, current) = issuer_with_licence(&app).await;
    let (agency_uscc, key) = agency(&app, "11220000MB0000001", &["applications"]).await;
    matter(&app, "NO", &agency_uscc, &[TYPE_CODE]).await;
    let body =
        json!({"matter": "NO", "applicant": CITIZEN, "licences": [current["id"]], "useCause": "x"});
    let filed = json_with_status(file_application(&app, &key, body).await, 201).await;
    let id = filed["id"].as_str().expect("id");
    let token = holder_token(&app, CITIZEN).await;
    let declined =
        json_with_status(decide(&app, &token, id, "decline", json!({})).await, 200).await;
    assert_eq!(declined["state"], "declined");
    assert!(declined.get("requirements").is_none());
    let path = read_path(&filed, &current["id"]);
    assert_problem(
        app.call("GET", &path, Some(&key), None).await,
        403,
        "application_not_approved",
    )
    .await;
    assert_problem(
        decide(&app, &token, id, "approve", json!({})).await,
        409,
        "application_not_pending",
    )
    .await;
    assert_problem(
        decide(&app, &token, id, "withdraw", json!({})).await,
        409,
        "application_not_approved",
    )
    .await;
    assert!(holder_records(&app, &token).await.is_empty());
}
