//! The write path: signed envelopes, receipts and chain heads. Refusals are in `refusals.rs`,
//! version and status chains in `chains.rs`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use elicence::crypto::digest::digest_value;
use elicence::log::checkpoint;
use elicence::log::merkle::{leaf_hash, verify_inclusion, Hash};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, json_with_status, TestApp};
use crate::on_both_backends;
use crate::signing::{items, setup_issuer, TestIssuer, HOST};

on_both_backends!(
    receipt_proofs_verify_against_the_signed_checkpoint,
    repeat_returns_the_original_receipt,
    chain_head_mismatches_are_409_with_the_head,
);

pub fn hash(b64: &Value) -> Hash {
    let bytes = STANDARD
        .decode(b64.as_str().expect("base64 string"))
        .expect("base64");
    Hash::try_from(bytes).expect("32 bytes")
}

pub fn hashes(list: &Value) -> Vec<Hash> {
    list.as_array().expect("array").iter().map(hash).collect()
}

/// Opens a signed checkpoint with the log's published key.
pub async fn open_checkpoint(app: &TestApp, note: &str) -> checkpoint::Checkpoint {
    let vkey = app.get("/v1/log/key").await.text().await.expect("vkey");
    checkpoint::open(note, vkey.trim()).expect("checkpoint opens with /v1/log/key")
}

/// Checks every item's inclusion proof against the receipt's own checkpoint, and the registry's
/// signature on the receipt.
pub async fn verify_receipt(app: &TestApp, receipt: &Value) {
    let registry = app.state.registry_key.verifying_key();
    let verified =
        elicence::crypto::proof::verify(receipt, |_| Some(registry)).expect("registry signature");
    assert_eq!(
        verified.verification_method,
        format!("did:web:{HOST}#{}", app.state.registry_key.multikey())
    );
    let checkpoint = open_checkpoint(app, receipt["checkpoint"].as_str().expect("note")).await;
    assert_eq!(checkpoint.size, receipt["treeSize"].as_u64().expect("size"));
    for item in receipt["items"].as_array().expect("items") {
        verify_inclusion(
            &hash(&item["leafHash"]),
            item["leafIndex"].as_u64().expect("index"),
            checkpoint.size,
            &hashes(&item["inclusionProof"]),
            &checkpoint.root,
        )
        .expect("inclusion proof verifies");
    }
}

/// Submits and expects 201; advances the issuer's head.
pub async fn accept(app: &TestApp, issuer: &mut TestIssuer, item_list: Vec<Value>) -> Value {
    let envelope = issuer.envelope(item_list);
    let receipt = json_with_status(app.submit(&envelope).await, 201).await;
    issuer.accepted(&envelope);
    receipt
}

pub async fn head(app: &TestApp, issuer: &TestIssuer) -> Value {
    json_with_status(
        app.get(&format!("/v1/issuers/{}/head", issuer.uscc)).await,
        200,
    )
    .await
}

pub async fn log_size(app: &TestApp) -> u64 {
    let response = app
        .client
        .get(app.url("/v1/log/checkpoint"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("sent");
    json_with_status(response, 200).await["size"]
        .as_u64()
        .expect("size")
}

async fn receipt_proofs_verify_against_the_signed_checkpoint(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000001").await;
    let (a, b) = (issuer.licence("A1"), issuer.licence("B2"));
    let receipt = accept(&app, &mut issuer, items(&[&a, &b])).await;
    verify_receipt(&app, &receipt).await;
    assert_eq!(receipt["treeSize"], 2);
    assert_eq!(receipt["items"][1]["digest"], digest_value(&b));
    assert_eq!(receipt["items"][1]["id"], b["id"]);
    // The latest checkpoint is the receipt's, and the leaves hash to the receipt's leaf hashes.
    let note = app
        .get("/v1/log/checkpoint")
        .await
        .text()
        .await
        .expect("note");
    assert_eq!(note, receipt["checkpoint"].as_str().expect("note"));
    let entries = json_with_status(app.get("/v1/log/entries?start=0&count=10").await, 200).await;
    let entries = entries["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    for (entry, item) in entries
        .iter()
        .zip(receipt["items"].as_array().expect("items"))
    {
        let data = entry["data"].as_str().expect("data");
        assert_eq!(
            STANDARD.encode(leaf_hash(data.as_bytes())),
            item["leafHash"].as_str().expect("hash")
        );
        let data: Value = serde_json::from_str(data).expect("leaf data is JSON");
        assert_eq!(data["kind"], "licence");
        assert_eq!(data["issuer"], issuer.uscc.as_str());
        assert!(
            !data.to_string().contains("11010519491231002X"),
            "no personal data in leaves"
        );
    }
    let proof =
        json_with_status(app.get("/v1/log/proof/inclusion?index=1&size=2").await, 200).await;
    let cp = open_checkpoint(&app, &note).await;
    verify_inclusion(
        &hash(&proof["leafHash"]),
        1,
        2,
        &hashes(&proof["proof"]),
        &cp.root,
    )
    .expect("served proof");
    let head = head(&app, &issuer).await;
    assert_eq!(head["sequence"], 1);
    assert_eq!(head["digest"], receipt["envelope"]);
    assert_eq!(head["issuer"], issuer.did);
}

async fn repeat_returns_the_original_receipt(app: TestApp) {
    let issuer = setup_issuer(&app, "91220101MA0000002").await;
    let envelope = issuer.envelope(items(&[&issuer.licence("R1")]));
    let first = app.submit(&envelope).await;
    assert_eq!(first.status(), 201);
    let first = first.text().await.expect("body");
    let again = app.submit(&envelope).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.text().await.expect("body"), first, "byte for byte");
    assert_eq!(log_size(&app).await, 1);
}

async fn chain_head_mismatches_are_409_with_the_head(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000003").await;
    let first = items(&[&issuer.licence("H1")]);
    let receipt = accept(&app, &mut issuer, first).await;
    let expected = json!({"sequence": 1, "digest": receipt["envelope"]});
    let cases = [
        (
            "gap",
            issuer.envelope_at(3, issuer.head.clone(), items(&[&issuer.licence("H2")])),
        ),
        (
            "replay",
            issuer.envelope_at(1, None, items(&[&issuer.licence("H3")])),
        ),
        (
            "fork",
            issuer.envelope_at(
                2,
                Some(digest_value(&json!("other"))),
                items(&[&issuer.licence("H4")]),
            ),
        ),
    ];
    for (name, envelope) in cases {
        let body = assert_problem(app.submit(&envelope).await, 409, "chain_head_mismatch").await;
        assert_eq!(body["head"], expected, "{name}");
    }
    assert_eq!(log_size(&app).await, 1);
}
