//! Offline verification: every check failing on its own against a trust bundle and the status
//! lists it references, with the code the online verifier gives (tests/api/verify.rs).

use chrono::{DateTime, Utc};
use elicence::crypto::digest::digest_value;
use elicence::crypto::keys::KeyPair;
use elicence::log::registration::Registration;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{json_with_status, TestApp};
use crate::support::offline::{failures, fresh_bundle, listed_licence, offline, registration};
use crate::support::signing::{items, setup_issuer};
use crate::support::status_lists::entries;
use crate::support::submissions::accept;

on_both_backends!(offline_checks_fail_on_their_own);

/// Every check failing on its own offline, with the code the online verifier gives
/// (tests/api/verify.rs). A licence the registry never accepted has no receipt: it fails
/// `registered` only (its slots are unused, so the lists say active).
async fn offline_checks_fail_on_their_own(app: TestApp) {
    const AT: &str = "2026-07-01T00:00:00Z";
    let at: DateTime<Utc> = AT.parse().expect("RFC 3339");
    let pair = |n: &str, c: &str| vec![(n.to_owned(), c.to_owned())];
    let mut issuer = setup_issuer(&app, "91220101MA00000TC").await;
    let (good, suspended) = (
        listed_licence(&issuer, "G1", 0),
        listed_licence(&issuer, "S1", 1),
    );
    let receipt = accept(&app, &mut issuer, items(&[&good, &suspended])).await;
    let (good_receipt, suspended_receipt) = (registration(&receipt, 0), registration(&receipt, 1));
    let suspend = issuer.status_change(&suspended, "suspend", &digest_value(&suspended));
    accept(&app, &mut issuer, vec![suspend]).await;
    // A second key, revoked before it signs anything (in the bundle below).
    let second = issuer.add_revoked_key(&app).await;
    let registry = offline(&app, &fresh_bundle(&app).await).await;
    let check =
        |vc: &Value, receipt: Option<&Registration>, at| failures(vc, receipt, &registry, at);
    assert_eq!(check(&good, Some(&good_receipt), at), vec![]);

    // Validity and status.
    let later = "2100-06-01T00:00:00Z".parse().expect("time");
    let expired = check(&good, Some(&good_receipt), later);
    assert_eq!(expired, pair("validityPeriod", "expired"));
    let early = "2025-06-01T00:00:00Z".parse().expect("time");
    let result = check(&good, Some(&good_receipt), early);
    assert_eq!(result, pair("validityPeriod", "not_yet_valid"));
    let result = check(&suspended, Some(&suspended_receipt), at);
    assert_eq!(result, pair("status", "suspended"));
    // No receipt; another licence's receipt; a licence naming no status list.
    assert_eq!(check(&good, None, at), pair("registered", "not_registered"));
    let result = check(&good, Some(&suspended_receipt), at);
    assert_eq!(result, pair("registered", "receipt_invalid"));
    let unlisted = issuer.licence("N1");
    let result = check(&unlisted, None, at);
    let expected = [
        pair("status", "status_unknown"),
        pair("registered", "not_registered"),
    ];
    assert_eq!(result, expected.concat());

    // Licences the registry never accepted: an unknown key, a key revoked before it signed,
    // no authorisation for the jurisdiction, a subject the schema refuses.
    let unregistered = ("registered".to_owned(), "not_registered".to_owned());
    let with = |code: Vec<(String, String)>| [code, vec![unregistered.clone()]].concat();
    let stranger = issuer.with_key(KeyPair::generate());
    let result = check(&listed_licence(&stranger, "U2", 10), None, at);
    assert_eq!(result, with(pair("issuerKey", "key_unknown")));
    let late = listed_licence(&issuer.with_key(second), "U3", 11);
    assert_eq!(
        check(&late, None, at),
        with(pair("issuerKey", "key_revoked"))
    );
    let mut vc = issuer.unsigned_licence("U4", 1);
    vc["credentialStatus"] = entries(&issuer, 12, 12);
    vc["jurisdiction"] = json!("110101");
    let result = check(&issuer.sign(&vc), None, at);
    assert_eq!(result, with(pair("authorisation", "not_authorised")));
    let mut vc = issuer.unsigned_licence("U5", 1);
    vc["credentialStatus"] = entries(&issuer, 13, 13);
    vc["credentialSubject"]
        .as_object_mut()
        .expect("subject")
        .remove("lawFirm");
    let result = check(&issuer.sign(&vc), None, at);
    assert_eq!(result, with(pair("schema", "schema_invalid")));
    // A licence that does not fit its type fails `schema` offline with online's code.
    let mut wrong_holder = issuer.unsigned_licence("U6", 1);
    wrong_holder["credentialSubject"]["id"] = json!("urn:cn:uscc:91110000101623741K");
    let mut too_long = issuer.unsigned_licence("U7", 1);
    too_long["validUntil"] = json!("2200-01-01T00:00:00Z");
    for (i, (mut vc, code)) in [
        (wrong_holder, "holder_category_mismatch"),
        (too_long, "validity_out_of_range"),
    ]
    .into_iter()
    .enumerate()
    {
        vc["credentialStatus"] = entries(&issuer, 20 + i as u64, 20 + i as u64);
        let vc = issuer.sign(&vc);
        assert_eq!(check(&vc, None, at), with(pair("schema", code)));
        let body = json!({"credential": vc, "at": AT});
        let online = json_with_status(app.post_anon("/v1/verify", &body).await, 200).await;
        let schema = online["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == "schema"))
            .expect("schema check");
        assert_eq!(schema["code"], code, "online: {online}");
    }

    // An accepted licence whose authorisation is withdrawn (backdated) before its validFrom,
    // then whose key is found compromised since before it signed.
    issuer.withdraw_grant(&app).await;
    let registry = offline(&app, &fresh_bundle(&app).await).await;
    let result = failures(&good, Some(&good_receipt), &registry, at);
    assert_eq!(result, pair("authorisation", "authorisation_withdrawn"));
    issuer.compromise_key(&app).await;
    let registry = offline(&app, &fresh_bundle(&app).await).await;
    let result = failures(&good, Some(&good_receipt), &registry, at);
    let expected = [
        pair("issuerKey", "key_compromised"),
        pair("authorisation", "authorisation_withdrawn"),
    ];
    assert_eq!(result, expected.concat());
}
