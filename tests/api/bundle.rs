//! The trust bundle and offline verification: contents (status lists by reference, no licence
//! in clear or by hash), signature, ETag/304, refusal of tampered bundles and lists, stale
//! warnings, verdicts matching the registry, and the CLI that fetches and verifies.

use chrono::Duration;
use elicence::bundle::{bits_digest, open};
use elicence::crypto::digest::digest_value;
use elicence::domain::identifiers::LicenceId;
use elicence::domain::status_list::{decode_list, StatusPurpose};
use elicence::log::registration::Registration;
use elicence::verify::offline::{verify_offline, OfflineRegistry};
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{json_with_status, TestApp};
use crate::support::offline::{
    assert_same_answers, failures, fresh_bundle, listed_licence, offline, registration,
};
use crate::support::signing::{items, setup_issuer, TestIssuer, TYPE_CODE};
use crate::support::submissions::accept;

on_both_backends!(
    bundle_holds_the_registry_state_signed,
    offline_verdicts_follow_the_registry,
    audit_detects_forks_and_shrinking,
);

/// An issuer with: `good` active, `revoked` revoked, `old` superseded by `renewed`, and
/// `unregistered` signed but never submitted; the receipts of the accepted ones.
struct World {
    issuer: TestIssuer,
    good: (Value, Registration),
    revoked: (Value, Registration),
    old: (Value, Registration),
    renewed: (Value, Registration),
    unregistered: Value,
}

async fn world(app: &TestApp) -> World {
    let mut issuer = setup_issuer(app, "91220101MA00000TB").await;
    let (good, revoked, old) = (
        listed_licence(&issuer, "G1", 0),
        listed_licence(&issuer, "R1", 1),
        listed_licence(&issuer, "O1", 2),
    );
    let first = accept(app, &mut issuer, items(&[&good, &revoked, &old])).await;
    let mut renewed = issuer.unsigned_licence("O1", 2);
    renewed["credentialStatus"] = crate::support::status_lists::entries(&issuer, 3, 3);
    renewed["relatedResource"] = json!([{"id": old["id"], "digestMultibase": digest_value(&old)}]);
    let renewed = issuer.sign(&renewed);
    let revoke = issuer.status_change(&revoked, "revoke", &digest_value(&revoked));
    let second = accept(app, &mut issuer, vec![json!({"licence": renewed}), revoke]).await;
    let unregistered = listed_licence(&issuer, "U1", 4);
    World {
        good: (good, registration(&first, 0)),
        revoked: (revoked, registration(&first, 1)),
        old: (old, registration(&first, 2)),
        renewed: (renewed, registration(&second, 0)),
        issuer,
        unregistered,
    }
}

async fn fetch(app: &TestApp) -> (reqwest::header::HeaderMap, String) {
    let response = app.get("/v1/trust-bundle").await;
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    (headers, response.text().await.expect("body"))
}

async fn bundle_holds_the_registry_state_signed(app: TestApp) {
    let w = world(&app).await;
    let (headers, body) = fetch(&app).await;
    let value: Value = serde_json::from_str(&body).expect("JSON");
    let bundle = open(&value, Some(&app.state.registry_key.multikey())).expect("opens");
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
    // The issuer's list 0 of each purpose, by reference; each digest is the served list's bits.
    let purposes: Vec<StatusPurpose> = b.status_lists.iter().map(|l| l.purpose).collect();
    assert_eq!(
        purposes,
        [
            StatusPurpose::Revocation,
            StatusPurpose::Suspension,
            StatusPurpose::Supersession
        ]
    );
    for reference in &b.status_lists {
        assert_eq!(reference.issuer, w.issuer.uscc);
        let path = reference
            .url
            .strip_prefix("https://registry.test")
            .expect("ours");
        let list = json_with_status(app.get(path).await, 200).await;
        let bits = decode_list(
            list["credentialSubject"]["encodedList"]
                .as_str()
                .expect("list"),
        )
        .expect("bits");
        assert_eq!(bits_digest(&bits), reference.digest, "{}", reference.url);
    }
    let vkey = app.get("/v1/log/key").await.text().await.expect("vkey");
    let checkpoint =
        elicence::log::checkpoint::open(&b.log.checkpoint, vkey.trim()).expect("checkpoint");
    assert_eq!(checkpoint.size, 5);
    // No licence identifier, serial, digest or holder data, in clear or hashed.
    let mut secrets = vec![
        "1.2.156.3005.2".to_owned(),
        "11010519491231002X".into(),
        "张三".into(),
    ];
    for vc in [&w.good.0, &w.revoked.0, &w.old.0, &w.renewed.0] {
        let id = LicenceId::from_urn(vc["id"].as_str().expect("id")).expect("licence id");
        secrets.push(id.as_str().to_owned());
        secrets.push(id.base());
        secrets.push(hex::encode(elicence::crypto::digest::sha256(
            id.base().as_bytes(),
        )));
        secrets.push(digest_value(vc));
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
}

async fn offline_verdicts_follow_the_registry(app: TestApp) {
    let w = world(&app).await;
    let bundle = fresh_bundle(&app).await;
    let registry = offline(&app, &bundle).await;
    let now = chrono::Utc::now();
    let failed = |(vc, r): &(Value, Registration)| failures(vc, Some(r), &registry, now);
    let pair = |n: &str, c: &str| (n.to_owned(), c.to_owned());
    assert_eq!(failed(&w.good), vec![]);
    assert_eq!(failed(&w.renewed), vec![]);
    assert_eq!(failed(&w.revoked), vec![pair("status", "revoked")]);
    assert_eq!(
        failed(&w.old),
        vec![pair("status", "superseded"), pair("chain", "superseded")]
    );
    let unregistered = failures(&w.unregistered, None, &registry, now);
    assert_eq!(unregistered, vec![pair("registered", "not_registered")]);
    // A receipt lent from another licence, and a tampered licence with its original receipt.
    let lent = failures(&w.unregistered, Some(&w.good.1), &registry, now);
    assert_eq!(lent, vec![pair("registered", "receipt_invalid")]);
    let mut tampered = w.good.0.clone();
    tampered["credentialSubject"]["holderName"] = json!("李四");
    assert_eq!(
        failures(&tampered, Some(&w.good.1), &registry, now),
        vec![
            pair("signature", "signature_invalid"),
            pair("registered", "receipt_invalid")
        ]
    );
    // All of them in one call: each gets its own answer, whatever its neighbours.
    let mixed: Vec<(&Value, Option<&Registration>)> = vec![
        (&w.good.0, Some(&w.good.1)),
        (&tampered, Some(&w.good.1)),
        (&w.revoked.0, Some(&w.revoked.1)),
        (&w.unregistered, Some(&w.good.1)),
        (&w.renewed.0, Some(&w.renewed.1)),
        (&w.unregistered, None),
        (&w.old.0, Some(&w.old.1)),
    ];
    let one_by_one: Vec<_> = mixed
        .iter()
        .map(|(vc, r)| verify_offline(vc, *r, &registry, now))
        .collect();
    let expected: Vec<_> = one_by_one.iter().collect();
    assert_same_answers(&mixed, &expected, &registry, now);
    // The same names and codes as the online answer.
    let online = json_with_status(
        app.post_anon("/v1/verify", &json!({"credential": w.old.0}))
            .await,
        200,
    )
    .await;
    let offline_result = verify_offline(&w.old.0, Some(&w.old.1), &registry, now);
    let online_checks: Vec<(String, String)> = online["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let offline_checks: Vec<(String, String)> = offline_result
        .checks()
        .iter()
        .map(|c| (c.name.to_owned(), c.code.to_owned()))
        .collect();
    assert_eq!(offline_checks, online_checks);
    // Stale: still verified, but warned.
    let trusted = open(&bundle, None).expect("opens");
    let late = trusted.bundle().next_update + Duration::hours(1);
    let result = verify_offline(&w.good.0, Some(&w.good.1), &registry, late);
    assert_eq!(result.warnings[0].code, "bundle_stale");
    assert!(verify_offline(&w.good.0, Some(&w.good.1), &registry, now)
        .warnings
        .is_empty());
    // A tampered bundle, one signed by another key than the pinned one, a list altered after
    // the registry signed it.
    let mut value = bundle.clone();
    value["statusLists"] = json!([]);
    assert!(open(&value, Some(&app.state.registry_key.multikey())).is_err());
    assert!(open(&value, None).is_err());
    let other = elicence::crypto::keys::KeyPair::generate().multikey();
    assert!(open(&bundle, Some(&other)).is_err());
    let mut stale_list = json_with_status(
        app.get(&format!("/v1/status-lists/{}/revocation/0", w.issuer.uscc))
            .await,
        200,
    )
    .await;
    stale_list["credentialSubject"]["encodedList"] =
        json!(elicence::domain::status_list::encode_list(&[]));
    let refused = OfflineRegistry::new(&trusted, &[stale_list]);
    assert_eq!(
        refused.list_problems().len(),
        1,
        "a list whose signature no longer holds"
    );
    let cli = Cli::new(&app);
    cli.exit_codes(&w);
}

/// The CLI: `fetch-bundle` into a directory (again: nothing changed, nothing fetched), then
/// `verify` exits 0 for a verified licence and 1 otherwise, from a file with `--receipt` and
/// from an `EL2:` payload.
struct Cli {
    dir: tempfile::TempDir,
    key: String,
}

impl Cli {
    fn new(app: &TestApp) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = app.state.registry_key.multikey();
        let cli = Self { dir, key };
        let first = cli.run(&["fetch-bundle", "--registry-url", &app.address]);
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        assert!(String::from_utf8_lossy(&first.stderr).contains("3 status lists fetched"));
        let again = cli.run(&["fetch-bundle", "--registry-url", &app.address]);
        let said = String::from_utf8_lossy(&again.stderr);
        assert!(
            said.contains("bundle unchanged; 0 status lists fetched, 3 unchanged"),
            "{said}"
        );
        cli
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_elicence"))
            .args(args)
            .args(["--registry-key", &self.key])
            .args(if args[0] == "fetch-bundle" {
                vec!["--dir"]
            } else {
                vec!["--bundle"]
            })
            .arg(if args[0] == "fetch-bundle" {
                self.dir.path().to_owned()
            } else {
                self.dir.path().join("bundle.json")
            })
            .output()
            .expect("runs")
    }

    fn exit_codes(&self, w: &World) {
        for ((vc, receipt), expected) in [(&w.good, 0), (&w.revoked, 1), (&w.old, 1)] {
            let file = self.dir.path().join("licence.json");
            std::fs::write(&file, vc.to_string()).expect("write");
            let path = file.to_str().expect("utf-8");
            let output = self.run(&["verify", "--receipt", &receipt.encode(), path]);
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert_eq!(output.status.code(), Some(expected), "{stdout}");
            let output = self.run(&["verify", path]);
            assert_eq!(output.status.code(), Some(1), "no receipt");
            let qr = elicence::qr::encode_registered(vc, receipt);
            let output = self.run(&["verify", "--qr", &qr]);
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert_eq!(output.status.code(), Some(expected), "--qr: {stdout}");
        }
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
