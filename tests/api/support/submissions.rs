//! Submitting envelopes and checking their receipts.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use elicence::log::checkpoint;
use elicence::log::merkle::{verify_inclusion, Hash};
use serde_json::Value;

use super::app::{json_with_status, TestApp};
use super::signing::{TestIssuer, HOST};

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
