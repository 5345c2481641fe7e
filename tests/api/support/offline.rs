//! Offline verification against an opened trust bundle.

use chrono::Duration;
use chrono::{DateTime, Utc};
use elicence::bundle::{open, verify_offline, TrustedBundle};

use super::app::TestApp;
use serde_json::Value;

/// The failed checks (name, code) of `vc` verified offline at `at` against `bundle`.
pub(crate) fn failures(
    vc: &Value,
    bundle: &TrustedBundle,
    at: DateTime<Utc>,
) -> Vec<(String, String)> {
    let result = verify_offline(vc, bundle, at).expect("a licence");
    assert_eq!(result.verified, result.checks.iter().all(|c| c.ok));
    result
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| (c.name.to_owned(), c.code.clone()))
        .collect()
}

/// A bundle assembled now, past the route's ten-second cache, so that it holds the change a
/// test has just made.
pub(crate) async fn fresh(app: &TestApp) -> TrustedBundle {
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
    let signed = elicence::bundle::sign(&bundle, &app.state.registry_key).expect("signed");
    open(&signed, Some(&app.state.registry_key.multikey())).expect("opens")
}
