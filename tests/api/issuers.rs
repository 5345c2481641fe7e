//! Issuers: registration, keys (revocation, compromise), suspension, read tokens and DID
//! documents. Their refusals are in `issuer_refusals.rs`.

use actix_web::{test as actix_test, web, App};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::EncodePublicKey;
use elicence::crypto::keys::KeyPair;
use serde_json::json;

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp, ADMIN_TOKEN};
use crate::support::issuers::{add_key, issuer_token, post_empty, register, uscc};
use crate::support::signing::{items, setup_issuer};

on_both_backends!(
    register_and_show,
    keys_by_multikey_and_pem_appear_in_the_did_document,
    registry_did_document,
    revoke_and_compromise_keys,
    suspend_and_reinstate,
    issuer_tokens_authenticate_the_issuer,
);

async fn register_and_show(app: TestApp) {
    let id = uscc(1);
    let created = register(&app, &id).await;
    assert_eq!(created["uscc"], id);
    assert_eq!(created["status"], "active");
    assert_eq!(created["contact"], "0431-12345678");
    assert_eq!(created["keys"], json!([]));
    assert_eq!(
        created["did"],
        format!("did:web:registry.test:issuers:{id}")
    );
    assert_eq!(
        created["didDocument"],
        format!("https://registry.test/issuers/{id}/did.json")
    );
    let shown = json_with_status(app.get(&format!("/v1/issuers/{id}")).await, 200).await;
    assert_eq!(shown, created);
    assert_problem(
        app.get(&format!("/v1/issuers/{}", uscc(2))).await,
        404,
        "issuer_not_found",
    )
    .await;
    assert_problem(
        app.get("/v1/issuers/91220100MA0000000X").await,
        400,
        "invalid_uscc",
    )
    .await;
}

async fn keys_by_multikey_and_pem_appear_in_the_did_document(app: TestApp) {
    let id = uscc(3);
    register(&app, &id).await;
    let (first, record) = add_key(&app, &id, json!({"validUntil": "2099-01-01T00:00:00Z"})).await;
    let did = format!("did:web:registry.test:issuers:{id}");
    assert_eq!(record["multikey"], first.multikey());
    assert_eq!(record["id"], format!("{did}#{}", first.multikey()));
    assert_eq!(record["validUntil"], "2099-01-01T00:00:00Z");
    assert_eq!(record["current"], true);
    assert!(record["revokedAt"].is_null());

    let second = KeyPair::generate();
    let pem = second
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("SPKI PEM");
    let body = json!({"publicKey": pem, "validFrom": "2026-01-01T08:00:00+08:00"});
    let record = json_with_status(
        app.post_admin(&format!("/v1/issuers/{id}/keys"), &body)
            .await,
        201,
    )
    .await;
    assert_eq!(record["multikey"], second.multikey());
    assert_eq!(record["validFrom"], "2026-01-01T00:00:00Z");
    assert!(record["validUntil"].is_null());

    let response = app.get(&format!("/issuers/{id}/did.json")).await;
    assert_eq!(response.headers()["content-type"], "application/did+json");
    let doc = json_with_status(response, 200).await;
    assert_eq!(doc["id"], did);
    assert_eq!(
        doc["@context"],
        json!([
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1"
        ])
    );
    let methods = doc["verificationMethod"].as_array().expect("methods");
    assert_eq!(methods.len(), 2);
    for (method, key) in methods.iter().zip([&first, &second]) {
        assert_eq!(
            method,
            &json!({"id": format!("{did}#{}", key.multikey()), "type": "Multikey",
                    "controller": did, "publicKeyMultibase": key.multikey()})
        );
    }
    assert_eq!(
        doc["assertionMethod"],
        json!([methods[0]["id"], methods[1]["id"]])
    );
    let shown = json_with_status(app.get(&format!("/v1/issuers/{id}")).await, 200).await;
    assert_eq!(shown["keys"].as_array().map(Vec::len), Some(2));
    assert_problem(
        app.get(&format!("/issuers/{}/did.json", uscc(4))).await,
        404,
        "issuer_not_found",
    )
    .await;
}

async fn registry_did_document(app: TestApp) {
    let response = app.get("/.well-known/did.json").await;
    assert_eq!(response.headers()["content-type"], "application/did+json");
    let doc = json_with_status(response, 200).await;
    let key = app.state.registry_key.multikey();
    assert_eq!(doc["id"], "did:web:registry.test");
    assert_eq!(
        doc["verificationMethod"],
        json!([{"id": format!("did:web:registry.test#{key}"), "type": "Multikey",
                "controller": "did:web:registry.test", "publicKeyMultibase": key}])
    );
    assert_eq!(
        doc["assertionMethod"],
        json!([format!("did:web:registry.test#{key}")])
    );
}

async fn revoke_and_compromise_keys(app: TestApp) {
    let id = uscc(5);
    register(&app, &id).await;
    let (kept, _) = add_key(&app, &id, json!({})).await;
    let (lost, _) = add_key(&app, &id, json!({})).await;
    let revoke = format!("/v1/issuers/{id}/keys/{}/revoke", lost.multikey());
    let body = json!({"revokedAt": "2026-06-01T00:00:00Z", "reason": "rotated"});
    let revoked = json_with_status(app.post_admin(&revoke, &body).await, 200).await;
    assert_eq!(revoked["revokedAt"], "2026-06-01T00:00:00Z");
    assert!(revoked["compromisedSince"].is_null());
    assert_eq!(revoked["current"], false);

    let doc = json_with_status(app.get(&format!("/issuers/{id}/did.json")).await, 200).await;
    assert_eq!(doc["verificationMethod"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        doc["verificationMethod"][0]["publicKeyMultibase"],
        kept.multikey()
    );

    let problem = assert_problem(
        app.post_admin(&revoke, &json!({})).await,
        409,
        "key_already_revoked",
    )
    .await;
    assert_eq!(problem["revokedAt"], "2026-06-01T00:00:00Z");
    let late = json!({"compromisedSince": "2026-07-01T00:00:00Z"});
    assert_problem(app.post_admin(&revoke, &late).await, 422, "invalid_window").await;
    let compromise = json!({"compromisedSince": "2026-05-01T00:00:00Z"});
    let marked = json_with_status(app.post_admin(&revoke, &compromise).await, 200).await;
    assert_eq!(
        marked["revokedAt"], "2026-06-01T00:00:00Z",
        "revocation time kept"
    );
    assert_eq!(marked["compromisedSince"], "2026-05-01T00:00:00Z");
    assert_problem(
        app.post_admin(&revoke, &compromise).await,
        409,
        "key_already_revoked",
    )
    .await;

    // An empty body revokes now; compromise at once is accepted too.
    let now_revoke = format!("/v1/issuers/{id}/keys/{}/revoke", kept.multikey());
    let response = post_empty(&app, &now_revoke, Some(ADMIN_TOKEN)).await;
    let revoked = json_with_status(response, 200).await;
    assert!(revoked["revokedAt"].is_string());
    let doc = json_with_status(app.get(&format!("/issuers/{id}/did.json")).await, 200).await;
    assert_eq!(doc["verificationMethod"], json!([]));
    assert_eq!(doc["assertionMethod"], json!([]));

    let (other, _) = add_key(&app, &id, json!({})).await;
    let body =
        json!({"compromisedSince": "2026-01-01T00:00:00Z", "revokedAt": "2026-02-01T00:00:00Z"});
    let path = format!("/v1/issuers/{id}/keys/{}/revoke", other.multikey());
    let both = json_with_status(app.post_admin(&path, &body).await, 200).await;
    assert_eq!(both["compromisedSince"], "2026-01-01T00:00:00Z");

    let unknown = format!(
        "/v1/issuers/{id}/keys/{}/revoke",
        KeyPair::generate().multikey()
    );
    assert_problem(
        app.post_admin(&unknown, &json!({})).await,
        404,
        "key_not_found",
    )
    .await;
    let foreign = format!("/v1/issuers/{}/keys/{}/revoke", uscc(7), kept.multikey());
    assert_problem(
        app.post_admin(&foreign, &json!({})).await,
        404,
        "issuer_not_found",
    )
    .await;
    let bad_time = json!({"revokedAt": "yesterday"});
    let (fresh, _) = add_key(&app, &id, json!({})).await;
    let path = format!("/v1/issuers/{id}/keys/{}/revoke", fresh.multikey());
    assert_problem(app.post_admin(&path, &bad_time).await, 400, "invalid_time").await;
    let shown = json_with_status(app.get(&format!("/v1/issuers/{id}")).await, 200).await;
    let fresh_record = &shown["keys"][3];
    assert_eq!(fresh_record["multikey"], fresh.multikey());
    assert!(
        fresh_record["revokedAt"].is_null(),
        "refusal stored nothing"
    );
}

async fn suspend_and_reinstate(app: TestApp) {
    let id = uscc(8);
    register(&app, &id).await;
    let suspend = format!("/v1/issuers/{id}/suspend");
    let reinstate = format!("/v1/issuers/{id}/reinstate");
    let body = json_with_status(post_empty(&app, &suspend, Some(ADMIN_TOKEN)).await, 200).await;
    assert_eq!(body["status"], "suspended");
    let shown = json_with_status(app.get(&format!("/v1/issuers/{id}")).await, 200).await;
    assert_eq!(shown["status"], "suspended");
    assert_problem(
        post_empty(&app, &suspend, Some(ADMIN_TOKEN)).await,
        409,
        "issuer_already_suspended",
    )
    .await;
    let body = json_with_status(post_empty(&app, &reinstate, Some(ADMIN_TOKEN)).await, 200).await;
    assert_eq!(body["status"], "active");
    assert_problem(
        post_empty(&app, &reinstate, Some(ADMIN_TOKEN)).await,
        409,
        "issuer_not_suspended",
    )
    .await;
    let missing = format!("/v1/issuers/{}/suspend", uscc(9));
    assert_problem(
        post_empty(&app, &missing, Some(ADMIN_TOKEN)).await,
        404,
        "issuer_not_found",
    )
    .await;
}

async fn issuer_tokens_authenticate_the_issuer(app: TestApp) {
    let id = uscc(15);
    register(&app, &id).await;
    let response = app
        .post_admin(&format!("/v1/issuers/{id}/tokens"), &json!({}))
        .await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json_with_status(response, 201).await;
    assert_eq!(body["issuer"], id);
    let token = body["token"].as_str().expect("token").to_owned();
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let second = issuer_token(&app, &id).await;
    assert_ne!(token, second);
    let missing = format!("/v1/issuers/{}/tokens", uscc(16));
    assert_problem(
        post_empty(&app, &missing, Some(ADMIN_TOKEN)).await,
        404,
        "issuer_not_found",
    )
    .await;

    // The `Issuer` extractor, mounted on a throwaway route over the same state.
    let service = actix_test::init_service(App::new().app_data(app.state.clone()).route(
        "/whoami",
        web::get().to(|who: elicence::auth::Issuer| async move { who.uscc.to_string() }),
    ))
    .await;
    for (token, expected) in [(&token, 200), (&second, 200)] {
        let request = actix_test::TestRequest::get()
            .uri("/whoami")
            .insert_header(("Authorization", format!("Bearer {token}")))
            .to_request();
        let response = actix_test::call_service(&service, request).await;
        assert_eq!(response.status().as_u16(), expected);
        assert_eq!(actix_test::read_body(response).await, id.as_bytes());
    }
    for header in [
        None,
        Some("Bearer nope-0123456789"),
        Some(&*format!("Bearer {ADMIN_TOKEN}")),
    ] {
        let mut request = actix_test::TestRequest::get().uri("/whoami");
        if let Some(header) = header {
            request = request.insert_header(("Authorization", header));
        }
        let response = actix_test::call_service(&service, request.to_request()).await;
        assert_eq!(response.status().as_u16(), 401);
    }
}

on_both_backends!(a_key_registered_without_valid_from_signs_at_once);

/// A key registered without `validFrom` is valid from the current whole second, the precision
/// proofs carry: registering it and signing within the same second is accepted (the README's
/// walk-through, pasted, does exactly that).
async fn a_key_registered_without_valid_from_signs_at_once(app: TestApp) {
    let issuer = setup_issuer(&app, "91220100MA0000KEY").await;
    let (key, record) = add_key(&app, issuer.uscc.as_str(), json!({})).await;
    let valid_from = record["validFrom"].as_str().expect("validFrom");
    assert!(!valid_from.contains('.'), "whole seconds: {valid_from}");
    let issuer = issuer.with_key(key);
    let now = chrono::Utc::now();
    let licence = issuer.sign_at(&issuer.unsigned_licence("KEY0001", 1), now);
    let envelope = json!({
        "issuer": issuer.did, "sequence": 1, "previous": null, "items": items(&[&licence]),
    });
    let envelope = issuer.sign_at(&envelope, now);
    json_with_status(app.submit(&envelope).await, 201).await;
}
