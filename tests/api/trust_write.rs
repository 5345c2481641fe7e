//! The write path's trust rules (from a security review): a licence keeps its holder; the
//! issuer must be authorised when it signs (proof `created`, close to receipt); a grant comes
//! from the type's competent authority; an envelope's proof is checked before its items.

use chrono::{Duration, Utc};
use elicence::crypto::digest::digest_value;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp};
use crate::support::people::{holder_token, CITIZEN, OTHER};
use crate::support::signing::{items, setup_issuer, uscc, TestIssuer, TYPE_CODE};
use crate::support::submissions::accept;
use crate::support::verify::{check, verify};

on_both_backends!(
    a_new_version_cannot_change_the_holder,
    backdating_does_not_get_round_an_ended_grant,
    valid_from_may_predate_the_grant_and_verification_agrees,
    proof_created_must_be_close_to_receipt,
    status_changes_need_a_grant_in_force_when_signed_except_revocation,
    grants_come_from_the_competent_authority,
    a_bad_envelope_signature_is_refused_before_the_items_are_read,
    unauthenticated_envelope_checks_are_bounded,
);

/// The defining authority of [`TYPE_CODE`].
const AUTHORITY: &str = "11100000000014062K";

/// The first 422 item error code of a refused envelope.
async fn item_code(app: &TestApp, envelope: &Value) -> String {
    let body = assert_problem(app.submit(envelope).await, 422, "items_invalid").await;
    body["errors"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("an item error: {body}"))
        .to_owned()
}

/// Withdraws the issuer's grant, effective `at`.
async fn end_grant(app: &TestApp, issuer: &TestIssuer, at: &str) {
    let grants = app
        .call(
            "GET",
            &format!("/v1/authorisations?issuer={}", issuer.uscc),
            Some(crate::support::app::ADMIN_TOKEN),
            None,
        )
        .await;
    let grants = json_with_status(grants, 200).await;
    let id = grants["items"][0]["id"].as_str().expect("grant id");
    let path = format!("/v1/authorisations/{id}/withdraw");
    let body = json!({"at": at, "reason": "授权期满"});
    json_with_status(app.post_admin(&path, &body).await, 200).await;
}

async fn a_new_version_cannot_change_the_holder(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA00001TW").await;
    let v1 = issuer.licence("H1");
    accept(&app, &mut issuer, items(&[&v1])).await;

    let mut v2 = issuer.unsigned_licence("H1", 2);
    v2["credentialSubject"]["id"] = json!(format!("urn:cn:rid:{OTHER}"));
    v2["relatedResource"] = json!([{"id": v1["id"], "digestMultibase": digest_value(&v1)}]);
    let envelope = issuer.envelope(items(&[&issuer.sign(&v2)]));
    assert_eq!(item_code(&app, &envelope).await, "holder_changed");

    // Nothing was stored: the holder still sees one version, its own.
    let token = holder_token(&app, CITIZEN).await;
    let path = format!("/v1/holder/licences/{}", v1["id"].as_str().expect("id"));
    let history = json_with_status(app.call("GET", &path, Some(&token), None).await, 200).await;
    let versions = history["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 1, "{history}");
    assert_eq!(versions[0]["credential"], v1);
    // The same holder in a next version is still accepted.
    let v2 = issuer.renewal("H1", 2, &v1);
    accept(&app, &mut issuer, items(&[&v2])).await;
}

async fn backdating_does_not_get_round_an_ended_grant(app: TestApp) {
    let issuer = setup_issuer(&app, "91220101MA00002TW").await;
    end_grant(&app, &issuer, "2021-01-01T00:00:00Z").await;
    // validFrom inside the grant's window, signed today, long after it ended.
    let mut vc = issuer.unsigned_licence("B1", 1);
    vc["validFrom"] = json!("2020-06-01T00:00:00Z");
    vc["validUntil"] = json!("2030-06-01T00:00:00Z");
    let envelope = issuer.envelope(items(&[&issuer.sign(&vc)]));
    assert_eq!(item_code(&app, &envelope).await, "not_authorised");
    assert_eq!(
        json_with_status(
            app.get(&format!("/v1/issuers/{}/head", issuer.uscc)).await,
            200
        )
        .await["sequence"],
        0
    );
}

async fn valid_from_may_predate_the_grant_and_verification_agrees(app: TestApp) {
    // The grant runs from 2020; an electronic copy of a 2015 paper licence is issued today.
    let mut issuer = setup_issuer(&app, "91220101MA00003TW").await;
    let mut vc = issuer.unsigned_licence("P1", 1);
    vc["validFrom"] = json!("2015-06-01T00:00:00Z");
    vc["credentialStatus"] = crate::support::status_lists::entries(&issuer, 0, 0);
    let vc = issuer.sign(&vc);
    let receipt = accept(&app, &mut issuer, items(&[&vc])).await;
    let result = verify(
        &app,
        json!({"credential": vc, "at": "2026-06-01T00:00:00Z"}),
    )
    .await;
    let authorisation = check(&result, "authorisation");
    assert_eq!(authorisation["ok"], true, "{result}");
    assert_eq!(authorisation["code"], "authorised");
    let registry =
        crate::support::offline::offline(&app, &crate::support::offline::fresh_bundle(&app).await)
            .await;
    let offline = crate::support::offline::failures(
        &vc,
        Some(&crate::support::offline::registration(&receipt, 0)),
        &registry,
        "2026-06-01T00:00:00Z".parse().expect("time"),
    );
    assert_eq!(offline, vec![], "offline agrees");
}

async fn proof_created_must_be_close_to_receipt(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA00004TW").await;
    let vc = issuer.unsigned_licence("C1", 1);
    let future = issuer.sign_at(&vc, Utc::now() + Duration::minutes(30));
    let envelope = issuer.envelope(items(&[&future]));
    assert_eq!(item_code(&app, &envelope).await, "created_in_future");
    let stale = issuer.sign_at(&vc, Utc::now() - Duration::days(8));
    let envelope = issuer.envelope(items(&[&stale]));
    assert_eq!(item_code(&app, &envelope).await, "created_too_old");
    // The envelope's own proof too.
    let body = json!({
        "issuer": issuer.did, "sequence": 1, "previous": null,
        "items": items(&[&issuer.sign(&vc)]),
    });
    let envelope = issuer.sign_at(&body, Utc::now() + Duration::hours(1));
    assert_problem(app.submit(&envelope).await, 422, "created_in_future").await;
    // Within the clock skew and within the window: accepted.
    let a = issuer.sign_at(&vc, Utc::now() + Duration::minutes(2));
    let b = issuer.sign_at(
        &issuer.unsigned_licence("C2", 1),
        Utc::now() - Duration::days(6),
    );
    accept(&app, &mut issuer, items(&[&a, &b])).await;
}

async fn status_changes_need_a_grant_in_force_when_signed_except_revocation(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA00005TW").await;
    let vc = issuer.licence("S1");
    accept(&app, &mut issuer, items(&[&vc])).await;
    let ended = (Utc::now() - Duration::minutes(10)).to_rfc3339();
    end_grant(&app, &issuer, &ended).await;
    let suspend = issuer.status_change(&vc, "suspend", &digest_value(&vc));
    let envelope = issuer.envelope(vec![suspend]);
    assert_eq!(item_code(&app, &envelope).await, "not_authorised");
    // A grant ending must not freeze its licences as valid: the original issuer may revoke.
    let revoke = issuer.status_change(&vc, "revoke", &digest_value(&vc));
    accept(&app, &mut issuer, vec![revoke]).await;
    let result = verify(&app, json!({"credential": vc})).await;
    assert_eq!(check(&result, "status")["code"], "revoked", "{result}");
}

async fn grants_come_from_the_competent_authority(app: TestApp) {
    let issuer = setup_issuer(&app, "91220101MA00006TW").await;
    let grant = |by: &str, from: &str| {
        json!({
            "issuer": issuer.uscc.as_str(), "typeCodes": [TYPE_CODE], "jurisdiction": "22",
            "validFrom": from, "grantedBy": by,
        })
    };
    let stranger = uscc("91110000MA0000001");
    let body = assert_problem(
        app.post_admin(
            "/v1/authorisations",
            &grant(stranger.as_str(), "2026-01-01T00:00:00Z"),
        )
        .await,
        422,
        "grantor_not_competent",
    )
    .await;
    assert_eq!(body["typeCode"], TYPE_CODE, "{body}");

    // Institutional reform moves the type to another authority.
    let successor = uscc("11220000MB0000001");
    let to = json!({"name": "吉林省司法厅", "uscc": successor, "level": 2});
    let path = format!("/v1/licence-types/{TYPE_CODE}/transfer");
    json_with_status(
        app.post_admin(&path, &json!({"definingAuthority": to}))
            .await,
        200,
    )
    .await;
    let later = (Utc::now() + Duration::minutes(1)).to_rfc3339();
    json_with_status(
        app.post_admin("/v1/authorisations", &grant(successor.as_str(), &later))
            .await,
        201,
    )
    .await;
    assert_problem(
        app.post_admin("/v1/authorisations", &grant(AUTHORITY, &later))
            .await,
        422,
        "grantor_not_competent",
    )
    .await;
    // Before the transfer, the original authority was the competent one.
    json_with_status(
        app.post_admin(
            "/v1/authorisations",
            &grant(AUTHORITY, "2024-01-01T00:00:00Z"),
        )
        .await,
        201,
    )
    .await;
}

/// An envelope whose items are garbage and whose signature is wrong.
fn garbage_envelope(issuer: &TestIssuer, count: usize) -> Value {
    let garbage: Vec<Value> = (0..count)
        .map(|n| json!({"licence": {"id": format!("not a licence {n}")}, "x": [n]}))
        .collect();
    let mut envelope = issuer.envelope(garbage);
    let value = envelope["proof"]["proofValue"]
        .as_str()
        .expect("proofValue")
        .to_owned();
    // Same length and alphabet, another signature.
    let flipped = if value.ends_with('a') { "b" } else { "a" };
    envelope["proof"]["proofValue"] = json!(format!("{}{flipped}", &value[..value.len() - 1]));
    envelope
}

async fn a_bad_envelope_signature_is_refused_before_the_items_are_read(app: TestApp) {
    let issuer = setup_issuer(&app, "91220101MA00007TW").await;
    let body = app.submit(&garbage_envelope(&issuer, 50)).await;
    let body = json_with_status(body, 422).await;
    assert_ne!(body["code"], "items_invalid", "{body}");
    assert!(
        ["signature_invalid", "proof_value_invalid"].contains(&body["code"].as_str().unwrap_or("")),
        "{body}"
    );
}

async fn unauthenticated_envelope_checks_are_bounded(app: TestApp) {
    let issuer = setup_issuer(&app, "91220101MA00008TW").await;
    // Every slot for not-yet-authenticated envelopes is taken.
    let mut held = Vec::new();
    while let Some(permit) = app.state.intake.gate.try_enter(1) {
        held.push(permit);
    }
    assert!(!held.is_empty());
    let response = app.submit(&garbage_envelope(&issuer, 1)).await;
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_problem(response, 503, "intake_busy").await;
    assert_eq!(retry.as_deref(), Some("1"));
    drop(held);
    let good = issuer.envelope(items(&[&issuer.licence("G1")]));
    json_with_status(app.submit(&good).await, 201).await;
}
