//! Refusals on the write path: every item error with its code, and envelope-level refusals;
//! none of them stores anything.

use elicence::crypto::digest::digest_value;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp};
use crate::support::signing::{items, setup_issuer, uscc, TestIssuer, HOST, TYPE_CODE};
use crate::support::submissions::{accept, head, log_size};

on_both_backends!(
    every_item_refusal_has_its_code_and_stores_nothing,
    envelope_refusals,
);

/// A licence mutated after it was built (and re-signed unless `resign` is false).
fn mutated(issuer: &TestIssuer, serial: &str, change: impl Fn(&mut Value), resign: bool) -> Value {
    let mut vc = issuer.unsigned_licence(serial, 1);
    if resign {
        change(&mut vc);
        return issuer.sign(&vc);
    }
    let mut signed = issuer.sign(&vc);
    change(&mut signed);
    signed
}

/// The identifier with another check character.
fn wrong_check(id: &str) -> String {
    let (head, check) = id.split_at(id.len() - 1);
    format!("{head}{}", if check == "0" { "1" } else { "0" })
}

async fn every_item_refusal_has_its_code_and_stores_nothing(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000004").await;
    let accepted = issuer.licence("E0");
    accept(&app, &mut issuer, items(&[&accepted])).await;
    let other = setup_issuer(&app, "91220101MA0000005").await;
    let other_type = elicence::domain::identifiers::LicenceId::build(
        &"11100000000014062K999".parse().expect("code"),
        &issuer.uscc,
        "E9",
        1,
    )
    .expect("id");
    let cases: Vec<(&str, Value)> = vec![
        (
            "context_invalid",
            mutated(
                &issuer,
                "E1",
                |v| v["@context"] = json!(["https://www.w3.org/2018/credentials/v1"]),
                true,
            ),
        ),
        (
            "type_invalid",
            mutated(
                &issuer,
                "E2",
                |v| v["type"] = json!(["VerifiableCredential"]),
                true,
            ),
        ),
        (
            "licence_id_invalid",
            mutated(
                &issuer,
                "E3",
                |v| v["id"] = json!(wrong_check(v["id"].as_str().unwrap())),
                true,
            ),
        ),
        (
            "issuer_mismatch",
            mutated(&issuer, "E4", |v| v["issuer"] = json!(other.did), true),
        ),
        (
            "signature_invalid",
            mutated(
                &issuer,
                "E5",
                |v| v["credentialSubject"]["holderName"] = json!("李四"),
                false,
            ),
        ),
        ("key_unknown", other.sign(&issuer.unsigned_licence("E6", 1))),
        (
            "schema_unknown",
            mutated(
                &issuer,
                "E7",
                |v| {
                    v["credentialSchema"]["id"] = json!(format!(
                        "https://{HOST}/v1/licence-types/{TYPE_CODE}/versions/9/schema"
                    ))
                },
                true,
            ),
        ),
        (
            "schema_invalid",
            mutated(
                &issuer,
                "E8",
                |v| {
                    v["credentialSubject"]
                        .as_object_mut()
                        .unwrap()
                        .remove("lawFirm");
                },
                true,
            ),
        ),
        (
            "type_unknown",
            mutated(
                &issuer,
                "E9",
                |v| {
                    v["id"] = json!(other_type.urn());
                    v["credentialSchema"]["id"] = json!(format!(
                        "https://{HOST}/v1/licence-types/11100000000014062K999/versions/1/schema"
                    ));
                },
                true,
            ),
        ),
        (
            "holder_category_mismatch",
            mutated(
                &issuer,
                "EA",
                |v| {
                    v["credentialSubject"]["id"] =
                        json!(format!("urn:cn:uscc:{}", uscc("91220101MA0000009")))
                },
                true,
            ),
        ),
        (
            "holder_invalid",
            mutated(
                &issuer,
                "EB",
                |v| v["credentialSubject"]["id"] = json!("urn:cn:rid:110105194912310021"),
                true,
            ),
        ),
        (
            "jurisdiction_invalid",
            mutated(&issuer, "EC", |v| v["jurisdiction"] = json!("2201"), true),
        ),
        (
            "not_authorised",
            mutated(&issuer, "ED", |v| v["jurisdiction"] = json!("110101"), true),
        ),
        (
            // Authorisation is judged when the licence was signed (validFrom may predate the
            // grant), and the signing date must be near receipt.
            "created_too_old",
            issuer.sign_at(
                &issuer.unsigned_licence("EE", 1),
                chrono::Utc::now() - chrono::Duration::days(30),
            ),
        ),
        (
            "validity_invalid",
            mutated(
                &issuer,
                "EF",
                |v| v["validUntil"] = json!("2025-01-01T00:00:00Z"),
                true,
            ),
        ),
        (
            "validity_out_of_range",
            mutated(
                &issuer,
                "EG",
                |v| v["validUntil"] = json!("2200-01-01T00:00:00Z"),
                true,
            ),
        ),
        ("licence_exists", accepted.clone()),
        (
            "predecessor_unexpected",
            mutated(
                &issuer,
                "EH",
                |v| {
                    v["relatedResource"] =
                        json!([{"id": v["id"], "digestMultibase": digest_value(&json!(1))}])
                },
                true,
            ),
        ),
        (
            "predecessor_unknown",
            issuer.renewal("EI", 2, &issuer.licence("EI")),
        ),
        ("item_malformed", json!("not an object")),
    ];
    let mut list: Vec<Value> = cases.iter().map(|(_, vc)| json!({"licence": vc})).collect();
    list.push(json!({"other": {}}));
    list.push(issuer.status_change(&issuer.licence("EJ"), "suspend", &digest_value(&json!(1))));
    list.push(issuer.status_change(&accepted, "resume", &digest_value(&accepted)));
    list.push(issuer.status_change(&accepted, "suspend", &digest_value(&json!(2))));
    list.push(json!({"statusChange": {"licence": accepted["id"], "action": "suspend", "reason": " ", "effectiveFrom": "2026-06-01T00:00:00Z", "previous": digest_value(&accepted)}}));
    let mut expected: Vec<&str> = cases.iter().map(|(code, _)| *code).collect();
    expected.extend([
        "item_malformed",
        "licence_unknown",
        "transition_invalid",
        "previous_mismatch",
        "reason_missing",
    ]);
    // One valid item too: it must not be stored either.
    list.push(json!({"licence": issuer.licence("OK")}));
    let body = assert_problem(
        app.submit(&issuer.envelope(list)).await,
        422,
        "items_invalid",
    )
    .await;
    let errors = body["errors"].as_array().expect("errors");
    let got: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e["item"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    let want: Vec<(u64, &str)> = expected
        .iter()
        .enumerate()
        .map(|(i, c)| (i as u64, *c))
        .collect();
    assert_eq!(got, want, "{body}");
    assert_eq!(head(&app, &issuer).await["sequence"], 1, "head unchanged");
    assert_eq!(log_size(&app).await, 1, "log unchanged");
}

async fn envelope_refusals(app: TestApp) {
    let issuer = setup_issuer(&app, "91220101MA0000006").await;
    let item = items(&[&issuer.licence("V1")]);
    // Unknown member, bad sequence: 400.
    let mut extra = issuer.envelope(item.clone());
    extra["note"] = json!("x");
    assert_problem(app.submit(&extra).await, 400, "envelope_malformed").await;
    let zero = issuer.envelope_at(0, None, item.clone());
    assert_problem(app.submit(&zero).await, 400, "envelope_malformed").await;
    // Another host's DID, an unregistered issuer, a tampered envelope.
    let mut foreign = issuer.envelope(item.clone());
    foreign["issuer"] = json!(format!("did:web:elsewhere.test:issuers:{}", issuer.uscc));
    assert_problem(app.submit(&foreign).await, 422, "issuer_did_invalid").await;
    let mut stranger = setup_issuer(&app, "91220101MA0000007").await;
    stranger.uscc = uscc("91220101MA0000008");
    stranger.did = format!("did:web:{HOST}:issuers:{}", stranger.uscc);
    assert_problem(
        app.submit(&stranger.envelope(item.clone())).await,
        422,
        "issuer_unknown",
    )
    .await;
    let mut tampered = issuer.envelope(item.clone());
    tampered["items"] = json!(items(&[&issuer.licence("V2")]));
    assert_problem(app.submit(&tampered).await, 422, "signature_invalid").await;
    // A revoked key signs nothing new, even with a backdated `created`.
    let path = format!(
        "/v1/issuers/{}/keys/{}/revoke",
        issuer.uscc,
        issuer.key.multikey()
    );
    json_with_status(
        app.post_admin(&path, &json!({"revokedAt": "2025-01-01T00:00:00Z"}))
            .await,
        200,
    )
    .await;
    assert_problem(app.submit(&issuer.envelope(item)).await, 422, "key_revoked").await;
    assert_eq!(log_size(&app).await, 0);
}
