//! The trust bundle and offline verification: contents, signature, no identifiers in clear,
//! ETag/304, refusal of tampered bundles, stale warnings, and verdicts matching the registry.

use chrono::{DateTime, Duration, Utc};
use elicence::bundle::{licence_hash, open, registered_hash, verify_offline, TrustedBundle};
use elicence::crypto::digest::digest_value;
use elicence::crypto::keys::KeyPair;
use elicence::domain::identifiers::LicenceId;
use serde_json::{json, Value};

use crate::helpers::{json_with_status, TestApp};
use crate::on_both_backends;
use crate::signing::{items, setup_issuer, TestIssuer, TYPE_CODE};
use crate::submissions::accept;

on_both_backends!(
    bundle_holds_the_registry_state_signed,
    offline_verdicts_follow_the_registry,
    offline_checks_fail_on_their_own,
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
    let failed = |vc: &Value| -> Vec<(String, String)> {
        let result = verify_offline(vc, &bundle, now).expect("a licence");
        assert_eq!(result.verified, result.checks.iter().all(|c| c.ok));
        result
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| (c.name.to_owned(), c.code.clone()))
            .collect()
    };
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

/// A bundle assembled now, past the route's ten-second cache, so that it holds the change a
/// test has just made.
async fn fresh(app: &TestApp) -> TrustedBundle {
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

/// The failed checks (name, code) of `vc` verified offline at `at` against a fresh bundle.
async fn offline_failures(app: &TestApp, vc: &Value, at: &str) -> Vec<(String, String)> {
    let at: DateTime<Utc> = at.parse().expect("RFC 3339");
    let result = verify_offline(vc, &fresh(app).await, at).expect("a licence");
    assert_eq!(result.verified, result.checks.iter().all(|c| c.ok));
    result
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| (c.name.to_owned(), c.code.clone()))
        .collect()
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
    let stranger = crate::verify::with_key(&issuer, KeyPair::generate());
    let result = offline_failures(&app, &stranger.licence("U2"), AT).await;
    assert_eq!(
        result,
        [pair("issuerKey", "key_unknown"), vec![unregistered.clone()]].concat()
    );
    let second = KeyPair::generate();
    let path = format!("/v1/issuers/{}/keys", issuer.uscc);
    let body = json!({"publicKey": second.multikey(), "validFrom": "2020-01-01T00:00:00Z"});
    json_with_status(app.post_admin(&path, &body).await, 201).await;
    let path = format!(
        "/v1/issuers/{}/keys/{}/revoke",
        issuer.uscc,
        second.multikey()
    );
    let revoked_at = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let body = json!({"revokedAt": revoked_at});
    json_with_status(app.post_admin(&path, &body).await, 200).await;
    let late = crate::verify::with_key(&issuer, second).licence("U3");
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
    let grants = app
        .client
        .get(app.url(&format!("/v1/authorisations?issuer={}", issuer.uscc)))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .send()
        .await
        .expect("sent");
    let grants = json_with_status(grants, 200).await;
    let id = grants["items"][0]["id"]
        .as_str()
        .expect("grant id")
        .to_owned();
    let path = format!("/v1/authorisations/{id}/withdraw");
    let body = json!({"at": "2025-12-01T00:00:00Z", "reason": "机构改革"});
    json_with_status(app.post_admin(&path, &body).await, 200).await;
    let result = offline_failures(&app, &good, AT).await;
    assert_eq!(result, pair("authorisation", "authorisation_withdrawn"));
    let path = format!(
        "/v1/issuers/{}/keys/{}/revoke",
        issuer.uscc,
        issuer.key.multikey()
    );
    let body = json!({"compromisedSince": "2025-01-01T00:00:00Z"});
    json_with_status(app.post_admin(&path, &body).await, 200).await;
    let result = offline_failures(&app, &good, AT).await;
    let expected = [
        pair("issuerKey", "key_compromised"),
        pair("authorisation", "authorisation_withdrawn"),
    ];
    assert_eq!(result, expected.concat());
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
