//! The W3C VC-API: verifying the W3C eddsa-jcs-2022 vector and every tampering of it, and
//! issuing with the hosted did:key in the shapes the vc-di-eddsa test suite relies on.

use elicence::crypto::keys::KeyPair;
use elicence::crypto::multikey::resolve_did_key;
use elicence::crypto::proof;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp, VCAPI_CLIENT_TOKEN};
use crate::support::issuers;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/vc-di-eddsa");

fn vector(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{VECTORS}/{name}")).expect("vector file");
    serde_json::from_str(&text).expect("vector JSON")
}

fn signed() -> Value {
    vector("eddsa-jcs-2022/signedJCS.json")
}

/// The signed vector with one proof member replaced (`None` removes it).
fn with_proof_member(name: &str, value: Option<Value>) -> Value {
    let mut credential = signed();
    let proof = credential["proof"].as_object_mut().expect("proof object");
    match value {
        Some(value) => proof.insert(name.into(), value),
        None => proof.shift_remove(name),
    };
    credential
}

async fn verify(app: &TestApp, body: &Value) -> reqwest::Response {
    app.post_anon("/credentials/verify", body).await
}

/// Issues as the configured VC-API client (the W3C test suite's place).
async fn issue(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/credentials/issue"))
        .bearer_auth(VCAPI_CLIENT_TOKEN)
        .json(body)
        .send()
        .await
        .expect("request sent")
}

/// Asserts a refused verification: the status, the code, and `verified: false`.
async fn assert_unverified(response: reqwest::Response, status: u16, code: &str) {
    let body = assert_problem(response, status, code).await;
    assert_eq!(body["verified"], false, "body: {body}");
}

on_both_backends!(
    verifies_the_w3c_vector,
    tampered_credentials_are_refused_with_their_code,
    malformed_verify_requests_are_400,
    proof_sets_must_all_verify,
    registry_did_web_methods_resolve_through_the_issuer_store,
    issues_the_w3c_unsigned_credential,
    issues_vc_1_1_with_the_data_integrity_context,
    issue_options_are_checked_and_unknown_ones_ignored,
    issue_refuses_credentials_without_subject,
);

async fn verifies_the_w3c_vector(app: TestApp) {
    let body = json!({"verifiableCredential": signed(), "options": {"checks": ["proof"]}});
    let answer = json_with_status(verify(&app, &body).await, 200).await;
    assert_eq!(
        answer,
        json!({"verified": true, "checks": ["proof"], "warnings": [], "errors": []})
    );
    let without_options = json!({"verifiableCredential": signed()});
    json_with_status(verify(&app, &without_options).await, 200).await;
}

async fn tampered_credentials_are_refused_with_their_code(app: TestApp) {
    let mut subject = signed();
    subject["credentialSubject"]["alumniOf"] = json!("The School of Counterfeits");
    let value = signed()["proof"]["proofValue"]
        .as_str()
        .expect("proofValue")
        .to_owned();
    let changed_char = format!(
        "{}{}",
        &value[..5],
        if &value[5..6] == "A" { "B" } else { "A" }
    ) + &value[6..];
    let mut no_proof = signed();
    no_proof
        .as_object_mut()
        .expect("object")
        .shift_remove("proof");
    let cases = [
        (subject, "signature_invalid"),
        (
            with_proof_member("proofValue", Some(json!(changed_char))),
            "signature_invalid",
        ),
        (
            with_proof_member("proofValue", Some(json!(&value[1..]))),
            "proof_value_encoding",
        ),
        (
            with_proof_member("proofValue", Some(json!("z0OIl"))),
            "proof_value_encoding",
        ),
        (with_proof_member("proofValue", None), "proof_value_missing"),
        (no_proof, "proof_missing"),
        (
            with_proof_member("type", Some(json!("Ed25519Signature2020"))),
            "proof_type",
        ),
        (with_proof_member("type", None), "proof_type"),
        (
            with_proof_member("cryptosuite", Some(json!("eddsa-rdfc-2022"))),
            "proof_cryptosuite",
        ),
        (
            with_proof_member("verificationMethod", None),
            "verification_method_missing",
        ),
        (
            with_proof_member("proofPurpose", None),
            "proof_purpose_missing",
        ),
        (
            with_proof_member(
                "verificationMethod",
                Some(json!("did:example:nobody#key-1")),
            ),
            "key_unresolved",
        ),
    ];
    for (credential, code) in cases {
        let body = json!({"verifiableCredential": credential, "options": {}});
        assert_unverified(verify(&app, &body).await, 422, code).await;
    }
    let purpose = json!({
        "verifiableCredential": signed(),
        "options": {"expectedProofPurpose": "authentication"}
    });
    assert_unverified(verify(&app, &purpose).await, 422, "proof_purpose_mismatch").await;
}

async fn malformed_verify_requests_are_400(app: TestApp) {
    let not_object = json!({"verifiableCredential": "a string", "options": {}});
    assert_unverified(verify(&app, &not_object).await, 400, "document_not_object").await;
    let array = json!({"verifiableCredential": [signed()]});
    assert_unverified(verify(&app, &array).await, 400, "document_not_object").await;
    let missing = json!({"options": {}});
    assert_unverified(
        verify(&app, &missing).await,
        400,
        "verifiable_credential_missing",
    )
    .await;
    assert_unverified(verify(&app, &json!([])).await, 400, "not_an_object").await;
    let response = app
        .client
        .post(app.url("/credentials/verify"))
        .header("content-type", "application/json")
        .body(r#"{"verifiableCredential": {}, "verifiableCredential": {}}"#)
        .send()
        .await
        .expect("request sent");
    assert_unverified(response, 400, "duplicate_key").await;
}

async fn proof_sets_must_all_verify(app: TestApp) {
    let issued = json_with_status(
        issue(&app, &json!({"credential": vector("unsigned.json")})).await,
        201,
    )
    .await["verifiableCredential"]
        .clone();
    let mut unsigned = issued.clone();
    unsigned
        .as_object_mut()
        .expect("object")
        .shift_remove("proof");
    // A second, independent proof over the same credential by a fresh did:key.
    let other = KeyPair::generate();
    let method = format!("did:key:{0}#{0}", other.multikey());
    let options = proof::ProofOptions::assertion(&method, chrono::Utc::now());
    let second = proof::sign(&unsigned, &other, &options).expect("signs")["proof"].clone();
    let mut set = unsigned.clone();
    set["proof"] = json!([issued["proof"].clone(), second]);
    json_with_status(
        verify(&app, &json!({"verifiableCredential": set})).await,
        200,
    )
    .await;
    set["proof"][1]["proofValue"] = issued["proof"]["proofValue"].clone();
    let body = json!({"verifiableCredential": set});
    assert_unverified(verify(&app, &body).await, 422, "signature_invalid").await;
}

/// The vector credential signed by `key` as the registry issuer `uscc`, `delay` from now.
fn signed_by_registry_issuer(app: &TestApp, uscc: &str, key: &KeyPair, delay: i64) -> Value {
    let host = app.settings.did_web_host().expect("test host");
    let method = format!("did:web:{host}:issuers:{uscc}#{}", key.multikey());
    let created = chrono::Utc::now() + chrono::Duration::seconds(delay);
    let options = proof::ProofOptions::assertion(&method, created);
    proof::sign(&vector("unsigned.json"), key, &options).expect("signs")
}

async fn registry_did_web_methods_resolve_through_the_issuer_store(app: TestApp) {
    let id = issuers::uscc(21);
    let unknown = signed_by_registry_issuer(&app, &id, &KeyPair::generate(), 5);
    let body = json!({"verifiableCredential": unknown});
    assert_unverified(verify(&app, &body).await, 422, "key_unresolved").await;

    issuers::register(&app, &id).await;
    let (key, _) = issuers::add_key(&app, &id, json!({})).await;
    let credential = signed_by_registry_issuer(&app, &id, &key, 5);
    let body = json!({"verifiableCredential": credential});
    json_with_status(verify(&app, &body).await, 200).await;
    let stranger = signed_by_registry_issuer(&app, &id, &KeyPair::generate(), 5);
    let body = json!({"verifiableCredential": stranger});
    assert_unverified(verify(&app, &body).await, 422, "key_unresolved").await;

    let revoke = format!("/v1/issuers/{id}/keys/{}/revoke", key.multikey());
    json_with_status(app.post_admin(&revoke, &json!({})).await, 200).await;
    let after = signed_by_registry_issuer(&app, &id, &key, 60);
    let body = json!({"verifiableCredential": after});
    assert_unverified(verify(&app, &body).await, 422, "key_revoked").await;
}

async fn issues_the_w3c_unsigned_credential(app: TestApp) {
    let unsigned = vector("unsigned.json");
    let answer = json_with_status(issue(&app, &json!({"credential": unsigned})).await, 201).await;
    let issued = &answer["verifiableCredential"];
    let multikey = app.state.vcapi_key.multikey();
    assert_eq!(issued["issuer"], format!("did:key:{multikey}"));
    assert_eq!(issued["id"], unsigned["id"], "an existing id is kept");
    assert_eq!(issued["validFrom"], unsigned["validFrom"]);
    assert_eq!(issued["credentialSubject"], unsigned["credentialSubject"]);
    let proof_member = &issued["proof"];
    assert_eq!(proof_member["type"], "DataIntegrityProof");
    assert_eq!(proof_member["cryptosuite"], "eddsa-jcs-2022");
    assert_eq!(proof_member["proofPurpose"], "assertionMethod");
    assert_eq!(
        proof_member["verificationMethod"],
        format!("did:key:{multikey}#{multikey}")
    );
    let verified = proof::verify(issued, |m| resolve_did_key(m).ok()).expect("verifies");
    assert_eq!(verified.proof_purpose, "assertionMethod");
    let body = json!({"verifiableCredential": issued, "options": {}});
    json_with_status(verify(&app, &body).await, 200).await;
}

async fn issues_vc_1_1_with_the_data_integrity_context(app: TestApp) {
    let credential = json!({
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": {"id": "did:example:placeholder", "name": "Example"},
        "credentialSubject": {"id": "did:example:abcdefgh"}
    });
    let answer = json_with_status(issue(&app, &json!({"credential": credential})).await, 201).await;
    let issued = &answer["verifiableCredential"];
    assert_eq!(
        issued["@context"],
        json!([
            "https://www.w3.org/2018/credentials/v1",
            "https://w3id.org/security/data-integrity/v2"
        ])
    );
    let did = format!("did:key:{}", app.state.vcapi_key.multikey());
    assert_eq!(issued["issuer"], json!({"id": did, "name": "Example"}));
    assert!(issued["issuanceDate"]
        .as_str()
        .is_some_and(|d| d.ends_with('Z')));
    assert!(issued.get("validFrom").is_none());
    let body = json!({"verifiableCredential": issued});
    json_with_status(verify(&app, &body).await, 200).await;
}

async fn issue_options_are_checked_and_unknown_ones_ignored(app: TestApp) {
    let mut credential = vector("unsigned.json");
    let fields = credential.as_object_mut().expect("object");
    fields.shift_remove("id");
    fields.shift_remove("validFrom");
    let body = json!({
        "credential": credential,
        "options": {"created": "2024-05-06T07:08:09Z", "credentialId": "x", "mandatoryPointers": []}
    });
    let answer = json_with_status(issue(&app, &body).await, 201).await;
    let issued = &answer["verifiableCredential"];
    assert_eq!(issued["proof"]["created"], "2024-05-06T07:08:09Z");
    assert!(issued["id"]
        .as_str()
        .is_some_and(|id| id.starts_with("urn:uuid:")));
    assert!(issued["validFrom"]
        .as_str()
        .is_some_and(|d| d.ends_with('Z')));
    for created in ["not a date", "2024-05-06", "2024-02-30T00:00:00Z"] {
        let body = json!({"credential": vector("unsigned.json"), "options": {"created": created}});
        assert_problem(issue(&app, &body).await, 400, "invalid_option").await;
    }
}

async fn issue_refuses_credentials_without_subject(app: TestApp) {
    let mut credential = vector("unsigned.json");
    credential
        .as_object_mut()
        .expect("object")
        .shift_remove("credentialSubject");
    let body = json!({"credential": credential});
    assert_problem(issue(&app, &body).await, 400, "credential_subject_missing").await;
    assert_problem(
        issue(&app, &json!({"options": {}})).await,
        400,
        "credential_missing",
    )
    .await;
    let body = json!({"credential": signed()});
    assert_problem(issue(&app, &body).await, 422, "proof_already_present").await;
}
