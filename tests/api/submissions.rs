//! The write path: signed envelopes, receipts and chain heads. Refusals are in `refusals.rs`,
//! version and status chains in `chains.rs`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use elicence::crypto::digest::digest_value;
use elicence::log::merkle::{leaf_hash, verify_inclusion};
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp};
use crate::support::signing::{items, setup_issuer};
use crate::support::submissions::{
    accept, hash, hashes, head, log_size, open_checkpoint, verify_receipt,
};

on_both_backends!(
    receipt_proofs_verify_against_the_signed_checkpoint,
    repeat_returns_the_original_receipt,
    stored_envelopes_come_back_whole,
    one_envelope_sent_at_once_many_times_gets_one_receipt,
    chain_head_mismatches_are_409_with_the_head,
);

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
    let mut issuer = setup_issuer(&app, "91220101MA0000002").await;
    let earlier = issuer.licence("R0");
    accept(&app, &mut issuer, items(&[&earlier])).await;
    let (a, b) = (issuer.licence("R1"), issuer.licence("R2"));
    let mut list = items(&[&a, &b]);
    list.push(issuer.status_change(&earlier, "revoke", &digest_value(&earlier)));
    let envelope = issuer.envelope(list);
    let first = app.submit(&envelope).await;
    assert_eq!(first.status(), 201);
    let first = first.text().await.expect("body");
    issuer.accepted(&envelope);
    // The log grows past the receipt: the proofs given again are still against its own size.
    let later = issuer.licence("R3");
    accept(&app, &mut issuer, items(&[&later])).await;
    let again = app.submit(&envelope).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.text().await.expect("body"), first, "byte for byte");
    let receipt: Value = serde_json::from_str(&first).expect("JSON");
    assert_eq!(receipt["items"].as_array().map(Vec::len), Some(3));
    verify_receipt(&app, &receipt).await;
    assert_eq!(log_size(&app).await, 5);
}

/// Copies of one envelope racing through intake meet under the log lock: one is appended,
/// the others get its receipt, whole.
async fn one_envelope_sent_at_once_many_times_gets_one_receipt(app: TestApp) {
    let issuer = setup_issuer(&app, "91220101MA0000005").await;
    let envelope = issuer.envelope(items(&[&issuer.licence("C1"), &issuer.licence("C2")]));
    let sends = (0..12).map(|_| async {
        let response = app.submit(&envelope).await;
        (
            response.status().as_u16(),
            response.text().await.expect("body"),
        )
    });
    let answers = futures_util::future::join_all(sends).await;
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(status, _)| *status == 201 || *status == 200),
        "{answers:?}"
    );
    assert!(
        answers.iter().all(|(_, body)| *body == answers[0].1),
        "one receipt"
    );
    assert_eq!(log_size(&app).await, 2);
}

/// The store keeps each item once, in its own row; the envelope as received comes back from
/// them with its own digest, so its issuer's proof can be checked again.
async fn stored_envelopes_come_back_whole(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000004").await;
    let licence = issuer.licence("W1");
    accept(&app, &mut issuer, items(&[&licence])).await;
    let mut list = items(&[&issuer.licence("W2")]);
    list.push(issuer.status_change(&licence, "suspend", &digest_value(&licence)));
    let envelope = issuer.envelope(list);
    let receipt = json_with_status(app.submit(&envelope).await, 201).await;
    let digest = receipt["envelope"].as_str().expect("digest");
    let stored = app
        .state
        .store
        .envelope_document(digest)
        .await
        .expect("read");
    assert_eq!(stored.as_ref(), Some(&envelope));
    assert_eq!(stored.map(|e| digest_value(&e)).as_deref(), Some(digest));
    let unknown = app
        .state
        .store
        .envelope_document("uEiNone")
        .await
        .expect("read");
    assert!(unknown.is_none());
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
