//! Tests for [`super`]: request parsing, issuing, and key resolution with a stub lookup.

use chrono::TimeZone as _;
use serde_json::json;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0)
        .single()
        .expect("valid date")
}

fn v2_credential() -> Value {
    json!({
        "@context": [VC_V2_CONTEXT],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:1"}
    })
}

async fn no_registry(_: Uscc, _: String) -> Result<Option<IssuerKey>, VcApiError> {
    Ok(None)
}

fn issue_body(body: Value, key: &KeyPair) -> Result<Value, VcApiError> {
    issue(IssueRequest::try_from(body)?, key, now())
}

#[test]
fn issue_completes_a_v2_credential() {
    let key = KeyPair::generate();
    let signed = issue_body(json!({"credential": v2_credential()}), &key).unwrap();
    assert_eq!(signed["issuer"], did_key(&key));
    assert_eq!(signed["validFrom"], "2025-06-01T12:00:00Z");
    assert!(signed["id"].as_str().unwrap().starts_with("urn:uuid:"));
    assert_eq!(signed["proof"]["created"], "2025-06-01T12:00:00Z");
    assert_eq!(signed["proof"]["verificationMethod"], did_key_method(&key));
    assert!(signed.get("issuanceDate").is_none());
}

#[test]
fn issue_sets_the_id_of_an_issuer_object_and_keeps_given_dates() {
    let key = KeyPair::generate();
    let mut credential = v2_credential();
    credential["issuer"] = json!({"id": "did:example:old", "name": "Example"});
    credential["validFrom"] = json!("2020-01-01T00:00:00Z");
    let options = json!({"created": "2024-01-01T00:00:00+08:00", "unknown": 1});
    let signed = issue_body(json!({"credential": credential, "options": options}), &key).unwrap();
    assert_eq!(
        signed["issuer"],
        json!({"id": did_key(&key), "name": "Example"})
    );
    assert_eq!(signed["validFrom"], "2020-01-01T00:00:00Z");
    assert_eq!(signed["proof"]["created"], "2024-01-01T00:00:00+08:00");
}

#[test]
fn issue_adds_the_data_integrity_context_to_v1_once() {
    let key = KeyPair::generate();
    let credential = json!({
        "@context": [VC_V1_CONTEXT, DATA_INTEGRITY_V2_CONTEXT],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:1"}
    });
    let signed = issue_body(json!({"credential": credential}), &key).unwrap();
    assert_eq!(
        signed["@context"],
        json!([VC_V1_CONTEXT, DATA_INTEGRITY_V2_CONTEXT])
    );
    assert_eq!(signed["issuanceDate"], "2025-06-01T12:00:00Z");
    assert!(signed.get("validFrom").is_none());
}

#[test]
fn issue_refuses_malformed_requests() {
    let key = KeyPair::generate();
    let mut no_subject = v2_credential();
    no_subject
        .as_object_mut()
        .unwrap()
        .remove("credentialSubject");
    let cases = [
        (json!([]), "not_an_object"),
        (json!({}), "credential_missing"),
        (json!({"credential": "x"}), "not_an_object"),
        (
            json!({"credential": no_subject}),
            "credential_subject_missing",
        ),
        (
            json!({"credential": {"credentialSubject": {}}}),
            "invalid_context",
        ),
        (
            json!({"credential": v2_credential(), "options": []}),
            "invalid_option",
        ),
    ];
    for (body, code) in cases {
        assert_eq!(
            issue_body(body.clone(), &key).unwrap_err().code(),
            code,
            "{body}"
        );
    }
    for created in [
        "yesterday",
        "2024-01-01T00:00:00",
        "2024-01-01 00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-01-01t00:00:00z",
    ] {
        let body = json!({"credential": v2_credential(), "options": {"created": created}});
        let err = issue_body(body, &key).unwrap_err();
        assert_eq!(err.code(), "invalid_option", "{created}");
        assert!(err.is_request());
    }
}

#[tokio::test]
async fn verify_checks_purpose_and_resolves_did_key() {
    let key = KeyPair::generate();
    let signed = issue_body(json!({"credential": v2_credential()}), &key).unwrap();
    let request = VerifyRequest::try_from(json!({"verifiableCredential": signed})).unwrap();
    assert!(verify(&request, None, now(), no_registry).await.is_ok());
    let other = json!({"verifiableCredential": signed, "options": {"expectedProofPurpose": "authentication"}});
    let request = VerifyRequest::try_from(other).unwrap();
    let err = verify(&request, None, now(), no_registry)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "proof_purpose_mismatch");
    assert!(!err.is_request());
}

#[tokio::test]
async fn verify_resolves_registry_issuers_through_the_lookup() {
    let key = KeyPair::generate();
    let uscc = "11220000013544541J";
    let method = format!("did:web:registry.test:issuers:{uscc}#{}", key.multikey());
    let options = ProofOptions::assertion(&method, now());
    let signed = proof::sign(&v2_credential(), &key, &options).unwrap();
    let request = VerifyRequest::try_from(json!({"verifiableCredential": signed})).unwrap();
    let issuer_key = IssuerKey {
        multikey: key.multikey(),
        valid_from: now() - chrono::Duration::days(1),
        valid_until: None,
        revoked_at: None,
        compromised_since: None,
        created_at: now(),
    };
    let found = |wanted: Uscc, multikey: String| {
        let key = issuer_key.clone();
        async move {
            assert_eq!(wanted.to_string(), uscc);
            Ok((multikey == key.multikey).then_some(key))
        }
    };
    assert!(verify(&request, Some("registry.test"), now(), found)
        .await
        .is_ok());
    let err = verify(&request, Some("other.test"), now(), found)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "key_unresolved");
    let err = verify(&request, Some("registry.test"), now(), no_registry)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "key_unresolved");
    let compromised = |_: Uscc, _: String| {
        let mut key = issuer_key.clone();
        key.compromised_since = Some(now() - chrono::Duration::hours(1));
        async move { Ok(Some(key)) }
    };
    let err = verify(&request, Some("registry.test"), now(), compromised)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "key_compromised");
}

#[test]
fn verify_request_parsing() {
    assert_eq!(
        VerifyRequest::try_from(json!({"options": {}}))
            .unwrap_err()
            .code(),
        "verifiable_credential_missing"
    );
    assert_eq!(
        VerifyRequest::try_from(
            json!({"verifiableCredential": {}, "options": {"expectedProofPurpose": 3}})
        )
        .unwrap_err()
        .code(),
        "invalid_option"
    );
    let parsed = VerifyRequest::try_from(
        json!({"verifiableCredential": {}, "options": {"checks": ["proof"]}}),
    )
    .unwrap();
    assert_eq!(parsed.expected_purpose, DEFAULT_PURPOSE);
}
