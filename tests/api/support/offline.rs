//! Offline verification: a fresh trust bundle, the offline view over it, registration receipts.

use chrono::{DateTime, Duration, Utc};
use elicence::bundle::open;
use elicence::log::registration::Registration;
use elicence::verify::offline::{
    verify_offline, verify_offline_many, OfflineRegistry, OfflineResult,
};
use serde_json::Value;

use super::app::{json_with_status, TestApp};
use super::signing::{TestIssuer, HOST};
use super::status_lists::entries;

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
    assert_same_answers(&[(vc, receipt)], &[&result], registry, at);
    assert_eq!(result.verified(), result.checks().iter().all(|c| c.ok));
    assert_eq!(result.checks().len(), 8, "the online checks");
    result
        .checks()
        .iter()
        .filter(|c| !c.ok)
        .map(|c| (c.name.to_owned(), c.code.to_owned()))
        .collect()
}

/// `verify_offline_many` gives `expected` (the answers of `verify_offline`, one each) for
/// `credentials` together, and twice over (so that a batch holds each at least twice).
pub(crate) fn assert_same_answers(
    credentials: &[(&Value, Option<&Registration>)],
    expected: &[&OfflineResult],
    registry: &OfflineRegistry,
    at: DateTime<Utc>,
) {
    let twice = [credentials, credentials].concat();
    let answers = verify_offline_many(&twice, registry, at);
    assert_eq!(answers.len(), twice.len());
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(
            serde_json::to_value(answer).expect("serialises"),
            serde_json::to_value(expected[i % expected.len()]).expect("serialises"),
            "credential {i} of a batch of {}",
            twice.len()
        );
    }
}
