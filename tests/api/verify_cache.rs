//! The verifier keeps licence standings in memory: a change must show at once through the
//! instance that wrote it, and within the follow interval through any other instance.

use std::time::{Duration, Instant};

use elicence::crypto::digest::digest_value;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{json_with_status, spawn_two_instances, TestApp};
use crate::support::signing::{items, setup_issuer};
use crate::support::submissions::accept;

on_both_backends!(changes_show_at_once_through_the_writing_instance);

const AT: &str = "2026-06-01T00:00:00Z";

async fn status_code(app: &TestApp, credential: &Value) -> String {
    let body = json!({"credential": credential, "at": AT});
    let result = json_with_status(app.post_anon("/v1/verify", &body).await, 200).await;
    let status = result["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == "status"))
        .cloned()
        .unwrap_or(Value::Null);
    status["code"].as_str().unwrap_or("none").to_owned()
}

async fn changes_show_at_once_through_the_writing_instance(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000301").await;
    let (a, b) = (issuer.licence("C1"), issuer.licence("C2"));
    accept(&app, &mut issuer, items(&[&a, &b])).await;
    // Verified twice: the second answer comes from memory.
    for _ in 0..2 {
        assert_eq!(status_code(&app, &a).await, "active");
        assert_eq!(status_code(&app, &b).await, "active");
    }
    let suspend = issuer.status_change(&a, "suspend", &digest_value(&a));
    let newer = issuer.renewal("C2", 2, &b);
    accept(&app, &mut issuer, vec![suspend, json!({"licence": newer})]).await;
    assert_eq!(status_code(&app, &a).await, "suspended");
    assert_eq!(status_code(&app, &b).await, "superseded");
    assert_eq!(status_code(&app, &newer).await, "active");
    let status = json_with_status(
        app.get(&format!(
            "/v1/licences/{}/status",
            a["id"].as_str().unwrap_or_default()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(status["state"], "suspended");
}

/// Instance A has a licence's standing in memory; the issuer revokes it through instance B;
/// A's log follower drops the standing, so A answers `revoked` within a few follow intervals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL half: set TEST_DATABASE_URL to run it"
)]
async fn changes_through_another_instance_show_after_the_follow_interval() {
    let Some((a, b)) = spawn_two_instances().await else {
        panic!("TEST_DATABASE_URL is set but no database could be created");
    };

    let mut issuer = setup_issuer(&a, "91220101MA0000302").await;
    let licence = issuer.licence("X1");
    accept(&a, &mut issuer, items(&[&licence])).await;
    assert_eq!(status_code(&a, &licence).await, "active");
    assert_eq!(status_code(&a, &licence).await, "active");

    let revoke = issuer.status_change(&licence, "revoke", &digest_value(&licence));
    accept(&b, &mut issuer, vec![revoke]).await;
    assert_eq!(status_code(&b, &licence).await, "revoked");
    let bound = elicence::verify::standings::FOLLOW_INTERVAL * 10;
    let started = Instant::now();
    loop {
        let code = status_code(&a, &licence).await;
        if code == "revoked" {
            break;
        }
        assert!(
            started.elapsed() < bound,
            "instance A still answers {code} {:?} after the revocation through B",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
