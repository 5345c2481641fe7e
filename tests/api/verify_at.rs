//! "Was it valid then?": a verify request's `at` sees the status events in force and the
//! version that was the head at that time, not the registry's latest state.

use elicence::crypto::digest::digest_value;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{json_with_status, TestApp};
use crate::support::signing::{items, setup_issuer};
use crate::support::submissions::accept;

on_both_backends!(status_and_head_are_those_in_force_at_the_time_asked);

/// The named check of a verification of `credential` at `at`.
async fn check_at(app: &TestApp, credential: &Value, at: &str, name: &str) -> Value {
    let body = json!({"credential": credential, "at": at});
    let result = json_with_status(app.post_anon("/v1/verify", &body).await, 200).await;
    result["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no {name} check in {result}"))
}

async fn status_and_head_are_those_in_force_at_the_time_asked(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000401").await;
    let (a, b) = (issuer.licence("T1"), issuer.licence("T2"));
    accept(&app, &mut issuer, items(&[&a, &b])).await;
    // A suspends from 1 September and is revoked from 1 November; B is renewed by a version
    // valid from 1 October.
    let mut suspend = issuer.status_change(&a, "suspend", &digest_value(&a));
    suspend["statusChange"]["effectiveFrom"] = json!("2026-09-01T00:00:00Z");
    accept(&app, &mut issuer, vec![suspend.clone()]).await;
    let mut revoke = issuer.status_change(&a, "revoke", &digest_value(&suspend["statusChange"]));
    revoke["statusChange"]["effectiveFrom"] = json!("2026-11-01T00:00:00Z");
    let mut renewal = issuer.unsigned_licence("T2", 2);
    renewal["validFrom"] = json!("2026-10-01T00:00:00Z");
    renewal["relatedResource"] = json!([{"id": b["id"], "digestMultibase": digest_value(&b)}]);
    let renewal = issuer.sign(&renewal);
    accept(&app, &mut issuer, vec![revoke, json!({"licence": renewal})]).await;

    let status = check_at(&app, &a, "2026-08-01T00:00:00Z", "status").await;
    assert_eq!(
        (&status["ok"], &status["code"]),
        (&json!(true), &json!("active"))
    );
    let status = check_at(&app, &a, "2026-10-01T00:00:00Z", "status").await;
    assert_eq!(status["code"], "suspended", "{status}");
    assert_eq!(status["details"]["since"], "2026-09-01T00:00:00Z");
    let status = check_at(&app, &a, "2026-12-01T00:00:00Z", "status").await;
    assert_eq!(status["code"], "revoked", "{status}");

    let chain = check_at(&app, &b, "2026-08-01T00:00:00Z", "chain").await;
    assert_eq!(
        (&chain["ok"], &chain["code"]),
        (&json!(true), &json!("head"))
    );
    assert_eq!(
        check_at(&app, &b, "2026-08-01T00:00:00Z", "status").await["code"],
        "active"
    );
    let chain = check_at(&app, &b, "2026-10-15T00:00:00Z", "chain").await;
    assert_eq!(chain["code"], "superseded", "{chain}");
    assert_eq!(chain["details"]["head"], renewal["id"]);
}
