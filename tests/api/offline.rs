//! Offline verification: every check failing on its own against a trust bundle, with the code
//! the online verifier gives (tests/api/verify.rs).

use chrono::{DateTime, Utc};
use elicence::crypto::digest::digest_value;
use elicence::crypto::keys::KeyPair;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{json_with_status, TestApp};
use crate::support::offline::{failures, fresh};
use crate::support::signing::{items, setup_issuer};
use crate::support::submissions::accept;

on_both_backends!(offline_checks_fail_on_their_own);

/// [`failures`] against a fresh bundle, at an RFC 3339 time.
async fn offline_failures(app: &TestApp, vc: &Value, at: &str) -> Vec<(String, String)> {
    let at: DateTime<Utc> = at.parse().expect("RFC 3339");
    failures(vc, &fresh(app).await, at)
}

/// Every check failing on its own offline, with the code the online verifier gives
/// (tests/api/verify.rs). Offline, a licence the registry never accepted fails `registered`
/// only: the bundle lists no licences by identifier, so `status` and `chain` cannot tell it
/// from an active head version.
async fn offline_checks_fail_on_their_own(app: TestApp) {
    const AT: &str = "2026-07-01T00:00:00Z";
    let pair = |n: &str, c: &str| vec![(n.to_owned(), c.to_owned())];
    let mut issuer = setup_issuer(&app, "91220101MA00000TC").await;
    let (good, suspended) = (issuer.licence("G1"), issuer.licence("S1"));
    accept(&app, &mut issuer, items(&[&good, &suspended])).await;
    let suspend = issuer.status_change(&suspended, "suspend", &digest_value(&suspended));
    accept(&app, &mut issuer, vec![suspend]).await;
    assert_eq!(offline_failures(&app, &good, AT).await, vec![]);

    // Validity and status.
    let expired = offline_failures(&app, &good, "2100-06-01T00:00:00Z").await;
    assert_eq!(expired, pair("validityPeriod", "expired"));
    let early = offline_failures(&app, &good, "2025-06-01T00:00:00Z").await;
    assert_eq!(early, pair("validityPeriod", "not_yet_valid"));
    let result = offline_failures(&app, &suspended, AT).await;
    assert_eq!(result, pair("status", "suspended"));

    // Licences the registry never accepted: an unknown key, a key revoked before it signed,
    // no authorisation for the jurisdiction, a subject the schema refuses.
    let unregistered = ("registered".to_owned(), "not_registered".to_owned());
    let stranger = issuer.with_key(KeyPair::generate());
    let result = offline_failures(&app, &stranger.licence("U2"), AT).await;
    assert_eq!(
        result,
        [pair("issuerKey", "key_unknown"), vec![unregistered.clone()]].concat()
    );
    let second = issuer.add_revoked_key(&app).await;
    let late = issuer.with_key(second).licence("U3");
    let result = offline_failures(&app, &late, AT).await;
    assert_eq!(
        result,
        [pair("issuerKey", "key_revoked"), vec![unregistered.clone()]].concat()
    );
    let mut vc = issuer.unsigned_licence("U4", 1);
    vc["jurisdiction"] = json!("110101");
    let result = offline_failures(&app, &issuer.sign(&vc), AT).await;
    let expected = [
        pair("authorisation", "not_authorised"),
        vec![unregistered.clone()],
    ];
    assert_eq!(result, expected.concat());
    let mut vc = issuer.unsigned_licence("U5", 1);
    vc["credentialSubject"]
        .as_object_mut()
        .expect("subject")
        .remove("lawFirm");
    let result = offline_failures(&app, &issuer.sign(&vc), AT).await;
    let expected = [pair("schema", "schema_invalid"), vec![unregistered.clone()]];
    assert_eq!(result, expected.concat());
    // A licence that does not fit its type (a legal person holding a type for persons; a
    // validity past the type's 100 years) fails `schema` offline with online's code.
    let mut wrong_holder = issuer.unsigned_licence("U6", 1);
    wrong_holder["credentialSubject"]["id"] = json!("urn:cn:uscc:91110000101623741K");
    let mut too_long = issuer.unsigned_licence("U7", 1);
    too_long["validUntil"] = json!("2200-01-01T00:00:00Z");
    for (vc, code) in [
        (wrong_holder, "holder_category_mismatch"),
        (too_long, "validity_out_of_range"),
    ] {
        let vc = issuer.sign(&vc);
        let result = offline_failures(&app, &vc, AT).await;
        let expected = [pair("schema", code), vec![unregistered.clone()]];
        assert_eq!(result, expected.concat());
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
    let result = offline_failures(&app, &good, AT).await;
    assert_eq!(result, pair("authorisation", "authorisation_withdrawn"));
    issuer.compromise_key(&app).await;
    let result = offline_failures(&app, &good, AT).await;
    let expected = [
        pair("issuerKey", "key_compromised"),
        pair("authorisation", "authorisation_withdrawn"),
    ];
    assert_eq!(result, expected.concat());
}
