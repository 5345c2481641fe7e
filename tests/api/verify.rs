//! Verification: every check failing on its own, and caches reaching accepted licences
//! (batches, the public status and refusals are in `verify_requests.rs`).

use elicence::crypto::digest::digest_value;
use elicence::crypto::keys::KeyPair;
use elicence::log::merkle::verify_inclusion;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::TestApp;
use crate::support::signing::{items, setup_issuer};
use crate::support::submissions::{accept, hash, hashes, open_checkpoint};
use crate::support::verify::{check, verify, AT};

on_both_backends!(
    a_registered_licence_verifies_with_its_inclusion_proof,
    checks_that_fail_on_accepted_licences,
    checks_that_fail_on_licences_the_registry_never_accepted,
    key_and_authorisation_changes_reach_accepted_licences,
);

async fn verify_vc(app: &TestApp, credential: &Value) -> Value {
    verify(app, json!({"credential": credential, "at": AT})).await
}

/// The names of the failed checks, in order.
fn failing(result: &Value) -> Vec<String> {
    result["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().expect("name").to_owned())
        .collect()
}

fn assert_fails(result: &Value, name: &str, code: &str, others: &[&str]) {
    assert_eq!(check(result, name)["code"], code, "{result}");
    assert_eq!(check(result, name)["ok"], false, "{result}");
    let mut expected: Vec<String> = others.iter().map(|s| (*s).to_owned()).collect();
    expected.push(name.to_owned());
    let mut actual = failing(result);
    expected.sort();
    actual.sort();
    assert_eq!(actual, expected, "{result}");
    assert_eq!(result["verified"], false);
}

async fn a_registered_licence_verifies_with_its_inclusion_proof(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000101").await;
    let (a, b) = (issuer.licence("V1"), issuer.licence("V2"));
    accept(&app, &mut issuer, items(&[&a, &b])).await;

    let result = verify_vc(&app, &b).await;
    assert_eq!(result["verified"], true, "{result}");
    let payload = elicence::qr::encode_offline(&b);
    let from_qr = verify(&app, json!({ "qr": payload })).await;
    assert_eq!(
        from_qr["verified"], true,
        "the offline QR payload verifies: {from_qr}"
    );
    assert_eq!(from_qr["summary"], result["summary"]);
    let names: Vec<&str> = result["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "signature",
            "issuerKey",
            "authorisation",
            "schema",
            "validityPeriod",
            "status",
            "registered",
            "chain"
        ]
    );
    for c in result["checks"].as_array().expect("checks") {
        assert!(
            c["message"]["zh"].is_string() && c["message"]["en"].is_string(),
            "{c}"
        );
    }
    let summary = &result["summary"];
    assert_eq!(
        summary["identifier"],
        b["id"]
            .as_str()
            .expect("id")
            .trim_start_matches("urn:elicence:")
    );
    assert_eq!(summary["issuerUscc"], issuer.uscc.as_str());
    assert_eq!(summary["holderCategory"], 1);
    assert_eq!(summary["version"], 1);
    assert!(summary["typeName"]["zh"].is_string());
    assert!(
        !result.to_string().contains("张三"),
        "no holder data in the answer"
    );

    let registered = &check(&result, "registered")["details"];
    let checkpoint = open_checkpoint(&app, registered["checkpoint"].as_str().expect("note")).await;
    assert_eq!(
        checkpoint.size,
        registered["treeSize"].as_u64().expect("size")
    );
    verify_inclusion(
        &hash(&registered["leafHash"]),
        registered["leafIndex"].as_u64().expect("index"),
        checkpoint.size,
        &hashes(&registered["inclusionProof"]),
        &checkpoint.root,
    )
    .expect("the inclusion proof leads to the signed checkpoint");

    // By identifier: the stored credential, verified the same way.
    let by_id = verify(&app, json!({"licenceId": a["id"], "at": AT})).await;
    assert_eq!(by_id["verified"], true, "{by_id}");
    let bare = a["id"]
        .as_str()
        .expect("id")
        .trim_start_matches("urn:elicence:");
    assert_eq!(by_id["summary"]["identifier"], bare);
}

async fn checks_that_fail_on_accepted_licences(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000102").await;
    let (good, suspended, revoked, old) = (
        issuer.licence("G1"),
        issuer.licence("S1"),
        issuer.licence("R1"),
        issuer.licence("O1"),
    );
    accept(
        &app,
        &mut issuer,
        items(&[&good, &suspended, &revoked, &old]),
    )
    .await;
    let newer = issuer.renewal("O1", 2, &old);
    let suspend = issuer.status_change(&suspended, "suspend", &digest_value(&suspended));
    let revoke = issuer.status_change(&revoked, "revoke", &digest_value(&revoked));
    accept(
        &app,
        &mut issuer,
        vec![json!({"licence": newer}), suspend, revoke],
    )
    .await;

    // Bad signature: the registered licence, altered.
    let mut altered = good.clone();
    altered["credentialSubject"]["holderName"] = json!("李四");
    let result = verify_vc(&app, &altered).await;
    assert_fails(&result, "signature", "signature_invalid", &["registered"]);
    assert_eq!(check(&result, "registered")["code"], "digest_mismatch");

    // Expired and not yet valid.
    let expired = verify(
        &app,
        json!({"credential": good, "at": "2100-06-01T00:00:00Z"}),
    )
    .await;
    assert_fails(&expired, "validityPeriod", "expired", &[]);
    let early = verify(
        &app,
        json!({"credential": good, "at": "2025-06-01T00:00:00+08:00"}),
    )
    .await;
    assert_fails(&early, "validityPeriod", "not_yet_valid", &[]);

    // Suspended, revoked, superseded.
    let result = verify_vc(&app, &suspended).await;
    assert_fails(&result, "status", "suspended", &[]);
    assert_eq!(
        check(&result, "status")["details"]["since"],
        "2026-06-01T00:00:00Z"
    );
    assert_fails(&verify_vc(&app, &revoked).await, "status", "revoked", &[]);
    let result = verify_vc(&app, &old).await;
    assert_fails(&result, "status", "superseded", &["chain"]);
    assert_eq!(check(&result, "chain")["code"], "superseded");
    assert_eq!(check(&result, "chain")["details"]["headVersion"], 2);
    assert_eq!(check(&result, "chain")["details"]["head"], newer["id"]);
    let result = verify_vc(&app, &newer).await;
    assert_eq!(result["verified"], true, "{result}");
    assert_eq!(result["summary"]["version"], 2);
}

async fn checks_that_fail_on_licences_the_registry_never_accepted(app: TestApp) {
    let issuer = setup_issuer(&app, "91220101MA0000103").await;
    let unregistered = ["status", "registered", "chain"];

    // Never submitted: the signature and everything else hold, the log has no such licence.
    let result = verify_vc(&app, &issuer.licence("U1")).await;
    assert_fails(
        &result,
        "registered",
        "not_registered",
        &["status", "chain"],
    );
    assert_eq!(check(&result, "signature")["ok"], true);

    // Unknown key.
    let stranger = issuer.with_key(KeyPair::generate());
    let result = verify_vc(&app, &stranger.licence("U2")).await;
    assert_fails(&result, "issuerKey", "key_unknown", &unregistered);
    assert_eq!(
        check(&result, "signature")["ok"],
        true,
        "the signature itself is fine"
    );

    // Revoked key, signing after its revocation.
    let second = issuer.add_revoked_key(&app).await;
    let result = verify_vc(&app, &issuer.with_key(second).licence("U3")).await;
    assert_fails(&result, "issuerKey", "key_revoked", &unregistered);

    // No authorisation: outside the granted jurisdiction (22).
    let mut vc = issuer.unsigned_licence("U4", 1);
    vc["jurisdiction"] = json!("110101");
    let result = verify_vc(&app, &issuer.sign(&vc)).await;
    assert_fails(&result, "authorisation", "not_authorised", &unregistered);

    // Schema violation.
    let mut vc = issuer.unsigned_licence("U5", 1);
    vc["credentialSubject"]
        .as_object_mut()
        .expect("subject")
        .remove("lawFirm");
    let result = verify_vc(&app, &issuer.sign(&vc)).await;
    assert_fails(&result, "schema", "schema_invalid", &unregistered);
    assert!(check(&result, "schema")["details"]["errors"].is_array());
}

async fn key_and_authorisation_changes_reach_accepted_licences(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000104").await;
    let licence = issuer.licence("K1");
    accept(&app, &mut issuer, items(&[&licence])).await;
    assert_eq!(verify_vc(&app, &licence).await["verified"], true);

    // The authorisation withdrawn (backdated) before validFrom.
    let id = issuer.withdraw_grant(&app).await;
    let result = verify_vc(&app, &licence).await;
    assert_fails(&result, "authorisation", "authorisation_withdrawn", &[]);
    assert_eq!(
        check(&result, "authorisation")["details"]["authorisation"],
        id
    );

    // The key compromised since before the licence was signed: void, although accepted.
    issuer.compromise_key(&app).await;
    let result = verify_vc(&app, &licence).await;
    assert_eq!(
        check(&result, "issuerKey")["code"],
        "key_compromised",
        "{result}"
    );
    assert_eq!(
        failing(&result),
        ["issuerKey", "authorisation"],
        "the cache saw both changes at once"
    );
}
