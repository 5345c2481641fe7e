//! The write path: signed envelopes, chain heads, item refusals, version and status chains.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use elicence::crypto::digest::digest_value;
use elicence::log::checkpoint;
use elicence::log::merkle::{leaf_hash, verify_inclusion, Hash};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, json_with_status, TestApp, ADMIN_TOKEN};
use crate::on_both_backends;
use crate::signing::{items, setup_issuer, uscc, TestIssuer, HOST, TYPE_CODE};

on_both_backends!(
    receipt_proofs_verify_against_the_signed_checkpoint,
    repeat_returns_the_original_receipt,
    chain_head_mismatches_are_409_with_the_head,
    every_item_refusal_has_its_code_and_stores_nothing,
    envelope_refusals,
    version_chain,
    status_changes_form_a_chain,
    licence_record_is_for_its_issuer_and_the_operator,
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

async fn head(app: &TestApp, issuer: &TestIssuer) -> Value {
    json_with_status(
        app.get(&format!("/v1/issuers/{}/head", issuer.uscc)).await,
        200,
    )
    .await
}

async fn log_size(app: &TestApp) -> u64 {
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

/// A licence mutated after it was built (and re-signed unless `resign` is false).
fn mutated(issuer: &TestIssuer, serial: &str, change: impl Fn(&mut Value), resign: bool) -> Value {
    let mut vc = issuer.unsigned_licence(serial, 1);
    if resign {
        change(&mut vc);
        return issuer.sign(&vc);
    }
    let mut signed = issuer.sign(&vc);
    change(&mut signed);
    signed
}

/// The identifier with another check character.
fn wrong_check(id: &str) -> String {
    let (head, check) = id.split_at(id.len() - 1);
    format!("{head}{}", if check == "0" { "1" } else { "0" })
}

async fn every_item_refusal_has_its_code_and_stores_nothing(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000004").await;
    let accepted = issuer.licence("E0");
    accept(&app, &mut issuer, items(&[&accepted])).await;
    let other = setup_issuer(&app, "91220101MA0000005").await;
    let other_type = elicence::domain::identifiers::LicenceId::build(
        &"11100000000014062K999".parse().expect("code"),
        &issuer.uscc,
        "E9",
        1,
    )
    .expect("id");
    let cases: Vec<(&str, Value)> = vec![
        (
            "context_invalid",
            mutated(
                &issuer,
                "E1",
                |v| v["@context"] = json!(["https://www.w3.org/2018/credentials/v1"]),
                true,
            ),
        ),
        (
            "type_invalid",
            mutated(
                &issuer,
                "E2",
                |v| v["type"] = json!(["VerifiableCredential"]),
                true,
            ),
        ),
        (
            "licence_id_invalid",
            mutated(
                &issuer,
                "E3",
                |v| v["id"] = json!(wrong_check(v["id"].as_str().unwrap())),
                true,
            ),
        ),
        (
            "issuer_mismatch",
            mutated(&issuer, "E4", |v| v["issuer"] = json!(other.did), true),
        ),
        (
            "signature_invalid",
            mutated(
                &issuer,
                "E5",
                |v| v["credentialSubject"]["holderName"] = json!("李四"),
                false,
            ),
        ),
        ("key_unknown", other.sign(&issuer.unsigned_licence("E6", 1))),
        (
            "schema_unknown",
            mutated(
                &issuer,
                "E7",
                |v| {
                    v["credentialSchema"]["id"] = json!(format!(
                        "https://{HOST}/v1/licence-types/{TYPE_CODE}/versions/9/schema"
                    ))
                },
                true,
            ),
        ),
        (
            "schema_invalid",
            mutated(
                &issuer,
                "E8",
                |v| {
                    v["credentialSubject"]
                        .as_object_mut()
                        .unwrap()
                        .remove("lawFirm");
                },
                true,
            ),
        ),
        (
            "type_unknown",
            mutated(
                &issuer,
                "E9",
                |v| {
                    v["id"] = json!(other_type.urn());
                    v["credentialSchema"]["id"] = json!(format!(
                        "https://{HOST}/v1/licence-types/11100000000014062K999/versions/1/schema"
                    ));
                },
                true,
            ),
        ),
        (
            "holder_category_mismatch",
            mutated(
                &issuer,
                "EA",
                |v| {
                    v["credentialSubject"]["id"] =
                        json!(format!("urn:cn:uscc:{}", uscc("91220101MA0000009")))
                },
                true,
            ),
        ),
        (
            "holder_invalid",
            mutated(
                &issuer,
                "EB",
                |v| v["credentialSubject"]["id"] = json!("urn:cn:rid:110105194912310021"),
                true,
            ),
        ),
        (
            "jurisdiction_invalid",
            mutated(&issuer, "EC", |v| v["jurisdiction"] = json!("2201"), true),
        ),
        (
            "not_authorised",
            mutated(&issuer, "ED", |v| v["jurisdiction"] = json!("110101"), true),
        ),
        (
            "not_authorised",
            mutated(
                &issuer,
                "EE",
                |v| v["validFrom"] = json!("2019-06-01T00:00:00Z"),
                true,
            ),
        ),
        (
            "validity_invalid",
            mutated(
                &issuer,
                "EF",
                |v| v["validUntil"] = json!("2025-01-01T00:00:00Z"),
                true,
            ),
        ),
        (
            "validity_out_of_range",
            mutated(
                &issuer,
                "EG",
                |v| v["validUntil"] = json!("2200-01-01T00:00:00Z"),
                true,
            ),
        ),
        ("licence_exists", accepted.clone()),
        (
            "predecessor_unexpected",
            mutated(
                &issuer,
                "EH",
                |v| {
                    v["relatedResource"] =
                        json!([{"id": v["id"], "digestMultibase": digest_value(&json!(1))}])
                },
                true,
            ),
        ),
        (
            "predecessor_unknown",
            issuer.renewal("EI", 2, &issuer.licence("EI")),
        ),
        ("item_malformed", json!("not an object")),
    ];
    let mut list: Vec<Value> = cases.iter().map(|(_, vc)| json!({"licence": vc})).collect();
    list.push(json!({"other": {}}));
    list.push(issuer.status_change(&issuer.licence("EJ"), "suspend", &digest_value(&json!(1))));
    list.push(issuer.status_change(&accepted, "resume", &digest_value(&accepted)));
    list.push(issuer.status_change(&accepted, "suspend", &digest_value(&json!(2))));
    list.push(json!({"statusChange": {"licence": accepted["id"], "action": "suspend", "reason": " ", "effectiveFrom": "2026-06-01T00:00:00Z", "previous": digest_value(&accepted)}}));
    let mut expected: Vec<&str> = cases.iter().map(|(code, _)| *code).collect();
    expected.extend([
        "item_malformed",
        "licence_unknown",
        "transition_invalid",
        "previous_mismatch",
        "reason_missing",
    ]);
    // One valid item too: it must not be stored either.
    list.push(json!({"licence": issuer.licence("OK")}));
    let body = assert_problem(
        app.submit(&issuer.envelope(list)).await,
        422,
        "items_invalid",
    )
    .await;
    let errors = body["errors"].as_array().expect("errors");
    let got: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e["item"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    let want: Vec<(u64, &str)> = expected
        .iter()
        .enumerate()
        .map(|(i, c)| (i as u64, *c))
        .collect();
    assert_eq!(got, want, "{body}");
    assert_eq!(head(&app, &issuer).await["sequence"], 1, "head unchanged");
    assert_eq!(log_size(&app).await, 1, "log unchanged");
}

async fn envelope_refusals(app: TestApp) {
    let issuer = setup_issuer(&app, "91220101MA0000006").await;
    let item = items(&[&issuer.licence("V1")]);
    // Unknown member, bad sequence: 400.
    let mut extra = issuer.envelope(item.clone());
    extra["note"] = json!("x");
    assert_problem(app.submit(&extra).await, 400, "envelope_malformed").await;
    let zero = issuer.envelope_at(0, None, item.clone());
    assert_problem(app.submit(&zero).await, 400, "envelope_malformed").await;
    // Another host's DID, an unregistered issuer, a tampered envelope.
    let mut foreign = issuer.envelope(item.clone());
    foreign["issuer"] = json!(format!("did:web:elsewhere.test:issuers:{}", issuer.uscc));
    assert_problem(app.submit(&foreign).await, 422, "issuer_did_invalid").await;
    let mut stranger = setup_issuer(&app, "91220101MA0000007").await;
    stranger.uscc = uscc("91220101MA0000008");
    stranger.did = format!("did:web:{HOST}:issuers:{}", stranger.uscc);
    assert_problem(
        app.submit(&stranger.envelope(item.clone())).await,
        422,
        "issuer_unknown",
    )
    .await;
    let mut tampered = issuer.envelope(item.clone());
    tampered["items"] = json!(items(&[&issuer.licence("V2")]));
    assert_problem(app.submit(&tampered).await, 422, "signature_invalid").await;
    // A revoked key signs nothing new, even with a backdated `created`.
    let path = format!(
        "/v1/issuers/{}/keys/{}/revoke",
        issuer.uscc,
        issuer.key.multikey()
    );
    json_with_status(
        app.post_admin(&path, &json!({"revokedAt": "2025-01-01T00:00:00Z"}))
            .await,
        200,
    )
    .await;
    assert_problem(app.submit(&issuer.envelope(item)).await, 422, "key_revoked").await;
    assert_eq!(log_size(&app).await, 0);
}

async fn version_chain(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA000000A").await;
    let v1 = issuer.licence("C1");
    accept(&app, &mut issuer, items(&[&v1])).await;
    let v2 = issuer.renewal("C1", 2, &v1);
    let receipt = accept(&app, &mut issuer, items(&[&v2])).await;
    verify_receipt(&app, &receipt).await;
    let cases = [
        ("predecessor_mismatch", issuer.renewal("C1", 3, &v1)),
        ("version_not_next", issuer.renewal("C1", 4, &v2)),
        ("licence_exists", issuer.renewal("C1", 2, &v1)),
        (
            "predecessor_missing",
            issuer.sign(&issuer.unsigned_licence("C1", 3)),
        ),
    ];
    for (code, vc) in cases {
        let body = assert_problem(
            app.submit(&issuer.envelope(items(&[&vc]))).await,
            422,
            "items_invalid",
        )
        .await;
        assert_eq!(body["errors"][0]["code"], code, "{body}");
    }
    // Two versions in one envelope: the second sees the first.
    let v3 = issuer.renewal("C1", 3, &v2);
    let v4 = issuer.renewal("C1", 4, &v3);
    accept(&app, &mut issuer, items(&[&v3, &v4])).await;
    let path = format!("/v1/licences/{}", v1["id"].as_str().unwrap());
    let record = app
        .client
        .get(app.url(&path))
        .bearer_auth(&issuer.token)
        .send()
        .await
        .expect("sent");
    let record = json_with_status(record, 200).await;
    let versions: Vec<&Value> = record["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["id"])
        .collect();
    assert_eq!(versions, vec![&v1["id"], &v2["id"], &v3["id"], &v4["id"]]);
    assert_eq!(record["head"], v4["id"]);
    assert_eq!(record["versions"][1]["credential"], v2);
    assert_eq!(record["versions"][1]["digest"], digest_value(&v2));
}

async fn status_changes_form_a_chain(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA000000B").await;
    let licence = issuer.licence("S1");
    // Issue and suspend in one envelope: the change sees the licence.
    let suspend = issuer.status_change(&licence, "suspend", &digest_value(&licence));
    let receipt = accept(
        &app,
        &mut issuer,
        vec![json!({"licence": licence}), suspend.clone()],
    )
    .await;
    assert_eq!(receipt["items"][1]["kind"], "status");
    verify_receipt(&app, &receipt).await;
    let suspended_digest = digest_value(&suspend["statusChange"]);
    assert_eq!(receipt["items"][1]["digest"], suspended_digest);
    let again = issuer.status_change(&licence, "suspend", &suspended_digest);
    let body = assert_problem(
        app.submit(&issuer.envelope(vec![again])).await,
        422,
        "items_invalid",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "transition_invalid");
    let stale = issuer.status_change(&licence, "resume", &digest_value(&licence));
    let body = assert_problem(
        app.submit(&issuer.envelope(vec![stale])).await,
        422,
        "items_invalid",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "previous_mismatch");
    let resume = issuer.status_change(&licence, "resume", &suspended_digest);
    let revoke = issuer.status_change(&licence, "revoke", &digest_value(&resume["statusChange"]));
    accept(&app, &mut issuer, vec![resume, revoke.clone()]).await;
    let after = issuer.status_change(&licence, "resume", &digest_value(&revoke["statusChange"]));
    let body = assert_problem(
        app.submit(&issuer.envelope(vec![after])).await,
        422,
        "items_invalid",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "transition_invalid");
    let renewal = issuer.renewal("S1", 2, &licence);
    let body = assert_problem(
        app.submit(&issuer.envelope(items(&[&renewal]))).await,
        422,
        "items_invalid",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "licence_revoked");
    let path = format!("/v1/licences/{}", licence["id"].as_str().unwrap());
    let record = app
        .client
        .get(app.url(&path))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("sent");
    let record = json_with_status(record, 200).await;
    assert_eq!(record["status"], "revoked");
    let actions: Vec<&str> = record["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["suspend", "resume", "revoke"]);
    assert_eq!(record["events"][1]["previous"], suspended_digest);
}

async fn licence_record_is_for_its_issuer_and_the_operator(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA000000C").await;
    let other = setup_issuer(&app, "91220101MA000000D").await;
    let licence = issuer.licence("P1");
    accept(&app, &mut issuer, items(&[&licence])).await;
    let path = format!("/v1/licences/{}", licence["id"].as_str().unwrap());
    let response = app
        .client
        .get(app.url(&path))
        .bearer_auth(&other.token)
        .send()
        .await
        .expect("sent");
    assert_problem(response, 403, "not_your_issuer").await;
    assert_problem(app.get(&path).await, 401, "missing_token").await;
    let response = app
        .client
        .get(app.url(&path))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("sent");
    json_with_status(response, 200).await;
    let missing = format!("/v1/licences/{}", issuer.licence_id("P2", 1).urn());
    let response = app
        .client
        .get(app.url(&missing))
        .bearer_auth(&issuer.token)
        .send()
        .await
        .expect("sent");
    assert_problem(response, 404, "licence_not_found").await;
}
