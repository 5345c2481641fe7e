//! Registration receipts and the status lists at work together: a revoked licence is refused
//! online, by the offline CLI with a bundle fetched after the revocation, and by an independent
//! status list reader, while an active one passes all three; a licence registered after the
//! bundle was fetched verifies offline through its receipt, and a forged receipt does not.

use chrono::Utc;
use elicence::crypto::digest::digest_value;
use elicence::log::registration::Registration;
use elicence::verify::offline::verify_offline;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{json_with_status, TestApp};
use crate::support::offline::{failures, fresh_bundle, listed_licence, offline, registration};
use crate::support::people::holder_token;
use crate::support::signing::{items, setup_issuer};
use crate::support::submissions::accept;

on_both_backends!(
    a_revoked_licence_is_refused_everywhere,
    a_receipt_proves_registration_after_the_bundle,
    the_holder_gets_the_receipt_the_issuer_got,
);

async fn online_verified(app: &TestApp, credential: &Value) -> bool {
    let body = json!({"credential": credential});
    let answer = json_with_status(app.post_anon("/v1/verify", &body).await, 200).await;
    answer["verified"].as_bool().expect("a verdict")
}

/// `elicence fetch-bundle` then `elicence verify --receipt`: the exit code.
fn offline_cli(app: &TestApp, dir: &std::path::Path, vc: &Value, receipt: &Registration) -> i32 {
    let key = app.state.registry_key.multikey();
    let bin = env!("CARGO_BIN_EXE_elicence");
    let fetched = std::process::Command::new(bin)
        .args([
            "fetch-bundle",
            "--registry-url",
            &app.address,
            "--registry-key",
            &key,
        ])
        .arg("--dir")
        .arg(dir)
        .output()
        .expect("runs");
    assert!(
        fetched.status.success(),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    let file = dir.join("licence.json");
    std::fs::write(&file, vc.to_string()).expect("write");
    let output = std::process::Command::new(bin)
        .args([
            "verify",
            "--registry-key",
            &key,
            "--receipt",
            &receipt.encode(),
            "--bundle",
        ])
        .arg(dir.join("bundle.json"))
        .arg(&file)
        .output()
        .expect("runs");
    output.status.code().expect("an exit code")
}

async fn a_revoked_licence_is_refused_everywhere(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA00000RC").await;
    let (active, revoked) = (
        listed_licence(&issuer, "A1", 7),
        listed_licence(&issuer, "R1", 8),
    );
    let receipt = accept(&app, &mut issuer, items(&[&active, &revoked])).await;
    let (active_receipt, revoked_receipt) = (registration(&receipt, 0), registration(&receipt, 1));
    let dir = tempfile::tempdir().expect("tempdir");
    // Before the revocation, both pass offline (the bundle is fetched now).
    assert_eq!(offline_cli(&app, dir.path(), &revoked, &revoked_receipt), 0);
    let revoke = issuer.status_change(&revoked, "revoke", &digest_value(&revoked));
    accept(&app, &mut issuer, vec![revoke]).await;

    assert!(online_verified(&app, &active).await);
    assert!(!online_verified(&app, &revoked).await);
    // Fetched again after the revocation: the changed revocation list comes down.
    // The bundle is rebuilt after a change once ten times its last build time has passed
    // (docs/offline.md): milliseconds here, more on a loaded machine; within the 10 s bound.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while offline_cli(&app, dir.path(), &revoked, &revoked_receipt) != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the revocation reaches offline"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(offline_cli(&app, dir.path(), &active, &active_receipt), 0);
    #[cfg(interop_node)]
    {
        let path = format!("/v1/status-lists/{}/revocation/0", issuer.uscc);
        let list = crate::support::status_lists::fetch_list(&app, &path).await;
        assert_eq!(
            crate::support::status_lists::read_bit(&revoked, &list, "revocation"),
            "true"
        );
        assert_eq!(
            crate::support::status_lists::read_bit(&active, &list, "revocation"),
            "false"
        );
    }
}

async fn a_receipt_proves_registration_after_the_bundle(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA00000RD").await;
    let first = listed_licence(&issuer, "F1", 0);
    accept(&app, &mut issuer, items(&[&first])).await;
    // The agency's bundle and lists, fetched before the next licence exists.
    let registry = offline(&app, &fresh_bundle(&app).await).await;
    let later = listed_licence(&issuer, "L1", 1);
    let receipt = registration(&accept(&app, &mut issuer, items(&[&later])).await, 0);

    let payload = elicence::qr::encode_registered(&later, &receipt);
    let scanned = elicence::qr::decode_payload(&payload, 1 << 16).expect("an EL2 payload");
    let result = verify_offline(
        &scanned.credential,
        scanned.registration.as_ref(),
        &registry,
        Utc::now(),
    );
    assert!(
        result.verified(),
        "{}",
        serde_json::to_string(&result).unwrap()
    );
    let registered = result
        .checks()
        .iter()
        .find(|c| c.name == "registered")
        .expect("check");
    assert_eq!(registered.code, "registered");
    let online = json_with_status(
        app.post_anon("/v1/verify", &json!({"qr": payload})).await,
        200,
    )
    .await;
    assert_eq!(online["verified"], true, "{online}");

    // Forged: a flipped signature bit; the same fields signed by another key; a receipt for
    // another leaf index. None proves registration.
    let mut bytes = receipt.to_bytes();
    bytes[84] ^= 1;
    let flipped = Registration::from_bytes(&bytes).expect("same shape");
    let digest = elicence::crypto::digest::sha256(&elicence::crypto::jcs::canonicalize(&later));
    let origin = app.state.settings.log_origin();
    let at = receipt.accepted_at().expect("a time");
    let stranger = elicence::crypto::keys::KeyPair::generate();
    let other_key = Registration::sign(
        stranger.signing_key(),
        &origin,
        &digest,
        receipt.leaf_index,
        at,
    );
    let mut moved = receipt.to_bytes();
    moved[12] ^= 1;
    let moved = Registration::from_bytes(&moved).expect("same shape");
    let pair = vec![("registered".to_owned(), "receipt_invalid".to_owned())];
    for forged in [flipped, other_key, moved] {
        let payload = elicence::qr::encode_registered(&later, &forged);
        let scanned = elicence::qr::decode_payload(&payload, 1 << 16).expect("decodes");
        let failed = failures(
            &scanned.credential,
            scanned.registration.as_ref(),
            &registry,
            Utc::now(),
        );
        assert_eq!(failed, pair);
    }

    // A receipt the registry did sign, for a credential whose own signature is broken: the
    // offline answer checks both signatures in one batch, and a failed batch must still name
    // the signature that failed, not the receipt.
    let mut tampered = later.clone();
    tampered["credentialSubject"]["lawFirm"] = json!("另一律师事务所");
    let tampered_digest =
        elicence::crypto::digest::sha256(&elicence::crypto::jcs::canonicalize(&tampered));
    let honest = Registration::sign(
        app.state.registry_key.signing_key(),
        &origin,
        &tampered_digest,
        receipt.leaf_index,
        at,
    );
    let failed = failures(&tampered, Some(&honest), &registry, Utc::now());
    assert_eq!(
        failed,
        vec![("signature".to_owned(), "signature_invalid".to_owned())]
    );
}

async fn the_holder_gets_the_receipt_the_issuer_got(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA00000RE").await;
    let licence = listed_licence(&issuer, "H1", 0);
    let receipt = accept(&app, &mut issuer, items(&[&licence])).await;
    let token = holder_token(&app, "11010519491231002X").await;
    let id = licence["id"].as_str().expect("id");
    let read = app
        .client
        .get(app.url(&format!("/v1/holder/licences/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    let read = json_with_status(read, 200).await;
    assert_eq!(
        read["versions"][0]["registration"], receipt["items"][0]["registration"],
        "re-derived byte for byte"
    );
    // A status item carries none.
    let suspend = issuer.status_change(&licence, "suspend", &digest_value(&licence));
    let second = accept(&app, &mut issuer, vec![suspend]).await;
    assert!(second["items"][0].get("registration").is_none());

    // A monitor checks that the receipt is kept: the leaf it names is this licence.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("licence.json");
    std::fs::write(&file, licence.to_string()).expect("write");
    let audit = |receipt: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_elicence"))
            .args([
                "audit",
                "--once",
                "--registry",
                &app.address,
                "--receipt",
                receipt,
            ])
            .arg("--state")
            .arg(dir.path().join("audit.json"))
            .arg("--licence")
            .arg(&file)
            .output()
            .expect("runs")
    };
    let text = receipt["items"][0]["registration"]
        .as_str()
        .expect("receipt");
    let kept = audit(text);
    assert!(
        kept.status.success(),
        "{}",
        String::from_utf8_lossy(&kept.stderr)
    );
    let mut forged = Registration::decode(text).expect("a receipt").to_bytes();
    forged[40] ^= 1;
    let forged = Registration::from_bytes(&forged)
        .expect("same shape")
        .encode();
    assert!(
        !audit(&forged).status.success(),
        "a forged receipt fails the monitor"
    );
}
