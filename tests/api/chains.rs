//! Version and status chains: renewals naming their predecessor, status events naming the
//! previous event, and the licence record that shows both (to its issuer and the operator).

use elicence::crypto::digest::digest_value;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp, ADMIN_TOKEN};
use crate::support::signing::{items, setup_issuer};
use crate::support::submissions::{accept, verify_receipt};

on_both_backends!(
    version_chain,
    status_changes_form_a_chain,
    licence_record_is_for_its_issuer_and_the_operator,
);

async fn version_chain(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA000000A").await;
    let v1 = issuer.licence("C1");
    accept(&app, &mut issuer, items(&[&v1])).await;
    let v2 = issuer.renewal("C1", 2, &v1);
    let receipt = accept(&app, &mut issuer, items(&[&v2])).await;
    verify_receipt(&app, &receipt).await;
    let cases = [
        ("predecessor_mismatch", issuer.renewal("C1", 3, &v1)),
        ("version_not_next", issuer.renewal("C1", 4, &v2)),
        ("licence_exists", issuer.renewal("C1", 2, &v1)),
        (
            "predecessor_missing",
            issuer.sign(&issuer.unsigned_licence("C1", 3)),
        ),
    ];
    for (code, vc) in cases {
        let body = assert_problem(
            app.submit(&issuer.envelope(items(&[&vc]))).await,
            422,
            "items_invalid",
        )
        .await;
        assert_eq!(body["errors"][0]["code"], code, "{body}");
    }
    // Two versions in one envelope: the second sees the first.
    let v3 = issuer.renewal("C1", 3, &v2);
    let v4 = issuer.renewal("C1", 4, &v3);
    accept(&app, &mut issuer, items(&[&v3, &v4])).await;
    let path = format!("/v1/licences/{}", v1["id"].as_str().unwrap());
    let record = app.call("GET", &path, Some(&issuer.token), None).await;
    let record = json_with_status(record, 200).await;
    let versions: Vec<&Value> = record["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["id"])
        .collect();
    assert_eq!(versions, vec![&v1["id"], &v2["id"], &v3["id"], &v4["id"]]);
    assert_eq!(record["head"], v4["id"]);
    assert_eq!(record["versions"][1]["credential"], v2);
    assert_eq!(record["versions"][1]["digest"], digest_value(&v2));
}

async fn status_changes_form_a_chain(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA000000B").await;
    let licence = issuer.licence("S1");
    // Issue and suspend in one envelope: the change sees the licence.
    let suspend = issuer.status_change(&licence, "suspend", &digest_value(&licence));
    let receipt = accept(
        &app,
        &mut issuer,
        vec![json!({"licence": licence}), suspend.clone()],
    )
    .await;
    assert_eq!(receipt["items"][1]["kind"], "status");
    verify_receipt(&app, &receipt).await;
    let suspended_digest = digest_value(&suspend["statusChange"]);
    assert_eq!(receipt["items"][1]["digest"], suspended_digest);
    let again = issuer.status_change(&licence, "suspend", &suspended_digest);
    let body = assert_problem(
        app.submit(&issuer.envelope(vec![again])).await,
        422,
        "items_invalid",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "transition_invalid");
    let stale = issuer.status_change(&licence, "resume", &digest_value(&licence));
    let body = assert_problem(
        app.submit(&issuer.envelope(vec![stale])).await,
        422,
        "items_invalid",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "previous_mismatch");
    let resume = issuer.status_change(&licence, "resume", &suspended_digest);
    let revoke = issuer.status_change(&licence, "revoke", &digest_value(&resume["statusChange"]));
    accept(&app, &mut issuer, vec![resume, revoke.clone()]).await;
    let after = issuer.status_change(&licence, "resume", &digest_value(&revoke["statusChange"]));
    let body = assert_problem(
        app.submit(&issuer.envelope(vec![after])).await,
        422,
        "items_invalid",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "transition_invalid");
    let renewal = issuer.renewal("S1", 2, &licence);
    let body = assert_problem(
        app.submit(&issuer.envelope(items(&[&renewal]))).await,
        422,
        "items_invalid",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "licence_revoked");
    let path = format!("/v1/licences/{}", licence["id"].as_str().unwrap());
    let record = app.call("GET", &path, Some(ADMIN_TOKEN), None).await;
    let record = json_with_status(record, 200).await;
    assert_eq!(record["status"], "revoked");
    let actions: Vec<&str> = record["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["suspend", "resume", "revoke"]);
    assert_eq!(record["events"][1]["previous"], suspended_digest);
}

async fn licence_record_is_for_its_issuer_and_the_operator(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA000000C").await;
    let other = setup_issuer(&app, "91220101MA000000D").await;
    let licence = issuer.licence("P1");
    accept(&app, &mut issuer, items(&[&licence])).await;
    let path = format!("/v1/licences/{}", licence["id"].as_str().unwrap());
    let response = app.call("GET", &path, Some(&other.token), None).await;
    assert_problem(response, 403, "not_your_issuer").await;
    assert_problem(app.get(&path).await, 401, "missing_token").await;
    let response = app.call("GET", &path, Some(ADMIN_TOKEN), None).await;
    json_with_status(response, 200).await;
    let missing = format!("/v1/licences/{}", issuer.licence_id("P2", 1).urn());
    let response = app.call("GET", &missing, Some(&issuer.token), None).await;
    assert_problem(response, 404, "licence_not_found").await;
}
