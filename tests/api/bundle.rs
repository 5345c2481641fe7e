//! The trust bundle and offline verification: contents, signature, no identifiers in clear,
//! ETag/304, refusal of tampered bundles, stale warnings, and verdicts matching the registry.

use chrono::{Duration, Utc};
use elicence::bundle::{licence_hash, open, registered_hash, verify_offline, TrustedBundle};
use elicence::crypto::digest::digest_value;
use elicence::domain::identifiers::LicenceId;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{json_with_status, TestApp};
use crate::support::offline::failures;
use crate::support::signing::{items, setup_issuer, TestIssuer, TYPE_CODE};
use crate::support::submissions::accept;

on_both_backends!(
    bundle_holds_the_registry_state_signed,
    offline_verdicts_follow_the_registry,
    audit_detects_forks_and_shrinking,
);

/// An issuer with: `good` active, `revoked` revoked, `old` superseded by `renewed`, and
/// `unregistered` signed but never submitted.
struct World {
    issuer: TestIssuer,
    good: Value,
    revoked: Value,
    old: Value,
    renewed: Value,
    unregistered: Value,
}

async fn world(app: &TestApp) -> World {
    let mut issuer = setup_issuer(app, "91220101MA00000TB").await;
    let (good, revoked, old) = (
        issuer.licence("G1"),
        issuer.licence("R1"),
        issuer.licence("O1"),
    );
    accept(app, &mut issuer, items(&[&good, &revoked, &old])).await;
    let renewed = issuer.renewal("O1", 2, &old);
    let revoke = issuer.status_change(&revoked, "revoke", &digest_value(&revoked));
    accept(app, &mut issuer, vec![json!({"licence": renewed}), revoke]).await;
    let unregistered = issuer.licence("U1");
    World {
        issuer,
        good,
        revoked,
        old,
        renewed,
        unregistered,
    }
}

async fn fetch(app: &TestApp) -> (reqwest::header::HeaderMap, String) {
    let response = app.get("/v1/trust-bundle").await;
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    (headers, response.text().await.expect("body"))
}

fn trusted(app: &TestApp, body: &str) -> TrustedBundle {
    let value: Value = serde_json::from_str(body).expect("JSON");
    open(&value, Some(&app.state.registry_key.multikey()))
        .expect("bundle opens with the registry key")
}

fn urn_base(vc: &Value) -> String {
    LicenceId::from_urn(vc["id"].as_str().expect("id"))
        .expect("licence id")
        .base()
}

async fn bundle_holds_the_registry_state_signed(app: TestApp) {
    let w = world(&app).await;
    let (headers, body) = fetch(&app).await;
    let bundle = trusted(&app, &body);
    let b = bundle.bundle();
    assert_eq!(b.registry, "did:web:registry.test");
    assert_eq!(b.next_update - b.issued_at, Duration::hours(24));
    let t = b
        .licence_types
        .iter()
        .find(|t| t.code.as_str() == TYPE_CODE)
        .expect("seeded type");
    assert!(
        t.versions[0].schema.is_object(),
        "schemas travel with the bundle"
    );
    let issuer = b
        .issuers
        .iter()
        .find(|i| i.uscc == w.issuer.uscc)
        .expect("issuer");
    assert_eq!(issuer.keys[0].multikey, w.issuer.key.multikey());
    assert!(b.authorisations.iter().any(|a| a.issuer == w.issuer.uscc));
    let revoked = b
        .licence_status
        .iter()
        .find(|s| s.licence == licence_hash(&urn_base(&w.revoked)));
    assert_eq!(revoked.map(|s| s.state.as_str()), Some("revoked"));
    assert_eq!(b.superseded.len(), 1);
    assert_eq!(b.superseded[0].by, 2);
    let good = registered_hash(&digest_value(&w.good)).expect("digest");
    assert!(b.registered.binary_search(&good).is_ok());
    let vkey = app.get("/v1/log/key").await.text().await.expect("vkey");
    let checkpoint =
        elicence::log::checkpoint::open(&b.log.checkpoint, vkey.trim()).expect("checkpoint");
    assert_eq!(checkpoint.size, 5);
    // No licence identifier, serial or holder data in clear.
    let mut secrets = vec![
        "1.2.156.3005.2".to_owned(),
        "11010519491231002X".into(),
        "张三".into(),
    ];
    for vc in [&w.good, &w.revoked, &w.old, &w.renewed] {
        secrets.push(vc["id"].as_str().expect("id").to_owned());
        secrets.push(urn_base(vc));
    }
    for secret in secrets {
        assert!(!body.contains(&secret), "the bundle discloses {secret}");
    }
    // Strong ETag; a conditional GET is 304.
    let etag = headers
        .get("etag")
        .expect("ETag")
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"));
    let again = app
        .client
        .get(app.url("/v1/trust-bundle"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status().as_u16(), 304);
    let other = app
        .client
        .get(app.url("/v1/trust-bundle"))
        .header("if-none-match", "\"x\"")
        .send()
        .await
        .expect("sent");
    assert_eq!(other.status().as_u16(), 200);
    assert_eq!(other.text().await.expect("body"), body, "cached bytes");
}

async fn offline_verdicts_follow_the_registry(app: TestApp) {
    let w = world(&app).await;
    let (_, body) = fetch(&app).await;
    let bundle = trusted(&app, &body);
    let now = Utc::now();
    let failed = |vc: &Value| failures(vc, &bundle, now);
    let pair = |n: &str, c: &str| (n.to_owned(), c.to_owned());
    assert_eq!(failed(&w.good), vec![]);
    assert_eq!(failed(&w.renewed), vec![]);
    assert_eq!(failed(&w.revoked), vec![pair("status", "revoked")]);
    assert_eq!(
        failed(&w.old),
        vec![pair("status", "superseded"), pair("chain", "superseded")]
    );
    assert_eq!(
        failed(&w.unregistered),
        vec![pair("registered", "not_registered")]
    );
    let mut tampered = w.good.clone();
    tampered["credentialSubject"]["holderName"] = json!("李四");
    assert_eq!(
        failed(&tampered),
        vec![
            pair("signature", "signature_invalid"),
            pair("registered", "not_registered")
        ]
    );
    // Online, the W3C verifier refuses the tampered licence and accepts the good one too.
    let online = app
        .post_anon(
            "/credentials/verify",
            &json!({"verifiableCredential": tampered, "options": {}}),
        )
        .await;
    assert!(matches!(online.status().as_u16(), 400 | 422));
    let online = app
        .post_anon(
            "/credentials/verify",
            &json!({"verifiableCredential": w.good, "options": {}}),
        )
        .await;
    json_with_status(online, 200).await;
    // Stale: still verified, but warned.
    let late = bundle.bundle().next_update + Duration::hours(1);
    let result = verify_offline(&w.good, &bundle, late).expect("a licence");
    assert_eq!(result.warnings[0].code, "bundle_stale");
    let fresh = verify_offline(&w.good, &bundle, now).expect("a licence");
    assert!(fresh.warnings.is_empty());
    assert!(fresh
        .checks
        .iter()
        .filter(|c| ["status", "registered", "chain"].contains(&c.name))
        .all(|c| c.as_of.is_some()));
    // Tampered bundle, and a bundle signed by another key than the pinned one.
    let mut value: Value = serde_json::from_str(&body).expect("JSON");
    value["licenceStatus"] = json!([]);
    assert!(open(&value, Some(&app.state.registry_key.multikey())).is_err());
    assert!(open(&value, None).is_err());
    let original: Value = serde_json::from_str(&body).expect("JSON");
    let other = elicence::crypto::keys::KeyPair::generate().multikey();
    assert!(open(&original, Some(&other)).is_err());
    cli_exit_codes(&body, &app.state.registry_key.multikey(), &w).await;
}

/// `elicence verify` exits 0 for a verified licence and 1 otherwise.
async fn cli_exit_codes(bundle: &str, key: &str, w: &World) {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle_path = dir.path().join("bundle.json");
    std::fs::write(&bundle_path, bundle).expect("write");
    for (vc, expected) in [(&w.good, 0), (&w.revoked, 1)] {
        let file = dir.path().join("licence.json");
        std::fs::write(&file, vc.to_string()).expect("write");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_elicence"))
            .args(["verify", "--bundle"])
            .arg(&bundle_path)
            .args(["--registry-key", key])
            .arg(&file)
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(expected), "{stdout}");
        // The same licence as a scanner reads it from an offline QR code.
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_elicence"))
            .args(["verify", "--bundle"])
            .arg(&bundle_path)
            .args(["--registry-key", key])
            .args(["--qr", &elicence::qr::encode_offline(vc)])
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(expected), "--qr: {stdout}");
    }
}

async fn audit_detects_forks_and_shrinking(app: TestApp) {
    use elicence::cli::audit::round;
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("audit.json");
    let http = reqwest::Client::new();
    let mut issuer = setup_issuer(&app, "91220101MA00000TC").await;
    let first = issuer.licence("A1");
    accept(&app, &mut issuer, items(&[&first])).await;
    let seen = round(&http, &app.address, &state, None)
        .await
        .expect("first round pins");
    assert_eq!(seen.size, 1);
    let second = issuer.licence("A2");
    accept(&app, &mut issuer, items(&[&second])).await;
    let seen = round(&http, &app.address, &state, None)
        .await
        .expect("consistent growth");
    assert_eq!(seen.size, 2);
    // A forged history: the state remembers another root at the same size.
    let saved = std::fs::read_to_string(&state).expect("state");
    let mut forged: Value = serde_json::from_str(&saved).expect("JSON");
    forged["root"] = json!(base64_of([7u8; 32]));
    forged["size"] = json!(1);
    std::fs::write(&state, forged.to_string()).expect("write");
    let err = round(&http, &app.address, &state, None)
        .await
        .expect_err("fork detected")
        .to_string();
    assert!(
        err.contains("LOG FORK") && err.contains(&base64_of([7u8; 32])),
        "{err}"
    );
    let mut bigger: Value = serde_json::from_str(&saved).expect("JSON");
    bigger["size"] = json!(99);
    std::fs::write(&state, bigger.to_string()).expect("write");
    let err = round(&http, &app.address, &state, None)
        .await
        .expect_err("shrink detected")
        .to_string();
    assert!(err.contains("LOG SHRANK"), "{err}");
    // A different key than the pinned one is refused.
    std::fs::write(&state, &saved).expect("write");
    let other = elicence::log::checkpoint::vkey(
        "registry.test/log",
        &elicence::crypto::keys::KeyPair::generate().verifying_key(),
    );
    assert!(round(&http, &app.address, &state, Some(&other))
        .await
        .is_err());
}

fn base64_of(bytes: [u8; 32]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
