//! Offline verification: every check failing on its own against a trust bundle and the status
//! lists it references, with the code the online verifier gives (tests/api/verify.rs).

use chrono::{DateTime, Duration, Utc};
use elicence::bundle::open;
use elicence::crypto::digest::digest_value;
use elicence::crypto::keys::KeyPair;
use elicence::log::registration::Registration;
use elicence::verify::offline::{verify_offline, OfflineRegistry};
use serde_json::{json, Value};

use crate::helpers::{json_with_status, TestApp};
use crate::on_both_backends;
use crate::signing::{items, setup_issuer, TestIssuer, HOST};
use crate::status_lists::entries;
use crate::submissions::accept;

on_both_backends!(offline_checks_fail_on_their_own);

/// A signed licence of `serial` naming revocation and suspension slot `position` of its
/// issuer's lists, as `issuer sign` makes them.
pub(crate) fn listed_licence(issuer: &TestIssuer, serial: &str, position: u64) -> Value {
    let mut vc = issuer.unsigned_licence(serial, 1);
    vc["credentialStatus"] = entries(issuer, position, position);
    issuer.sign(&vc)
}

/// The registration receipt of item `index` of a submission receipt.
pub(crate) fn registration(receipt: &Value, index: usize) -> Registration {
    let text = receipt["items"][index]["registration"]
        .as_str()
        .expect("a licence item carries its registration receipt");
    Registration::decode(text).expect("a receipt")
}

/// The signed bundle assembled now (past the route's ten-second cache), as JSON.
pub(crate) async fn fresh_bundle(app: &TestApp) -> Value {
    let origin = app.state.settings.log_origin();
    let registry = elicence::bundle::Registry {
        did_host: app.state.intake.did_host.as_str(),
        public_base: app.state.settings.public_base(),
        origin: &origin,
        key: &app.state.registry_key,
    };
    let bundle = elicence::bundle::assemble(
        app.state.store.as_ref(),
        &registry,
        Utc::now(),
        Duration::days(1),
    )
    .await
    .expect("assembled");
    elicence::bundle::sign(&bundle, &app.state.registry_key).expect("signed")
}

/// An offline registry from `bundle` and every list it references, fetched now.
pub(crate) async fn offline(app: &TestApp, bundle: &Value) -> OfflineRegistry {
    let trusted = open(bundle, Some(&app.state.registry_key.multikey())).expect("opens");
    let mut lists = Vec::new();
    for reference in &trusted.bundle().status_lists {
        let path = reference
            .url
            .strip_prefix(&format!("https://{HOST}"))
            .expect("a list of this registry");
        lists.push(json_with_status(app.get(path).await, 200).await);
    }
    let registry = OfflineRegistry::new(&trusted, &lists);
    assert!(registry.list_problems().is_empty(), "every list is kept");
    registry
}

/// The failed checks (name, code) of `vc` verified offline at `at`.
pub(crate) fn failures(
    vc: &Value,
    receipt: Option<&Registration>,
    registry: &OfflineRegistry,
    at: DateTime<Utc>,
) -> Vec<(String, String)> {
    let result = verify_offline(vc, receipt, registry, at);
    assert_eq!(result.verified(), result.checks().iter().all(|c| c.ok));
    assert_eq!(result.checks().len(), 8, "the online checks");
    result
        .checks()
        .iter()
        .filter(|c| !c.ok)
        .map(|c| (c.name.to_owned(), c.code.to_owned()))
        .collect()
}

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
