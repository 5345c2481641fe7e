//! Presentations by QR: the scan page and its JSON, the QR images (decoded with rqrr), single
//! and multi use, expiry, revoked licences, and nothing shown for bad tokens.

use chrono::{Duration, Utc};
use elicence::crypto::digest::digest_value;
use elicence::domain::identifiers::HolderId;
use elicence::domain::presentation::PresentationRequest;
use elicence::presentation::{create, Created};
use serde_json::Value;

use serde_json::json;

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp};
use crate::support::people::holder_token;
use crate::support::qr::decode_png;
use crate::support::signing::{items, setup_issuer, TestIssuer};
use crate::support::submissions::accept;

on_both_backends!(
    a_scan_shows_the_verdict_and_only_chosen_fields,
    single_use_expiry_and_unknown_tokens,
    a_revoked_licence_is_not_valid,
    a_compromised_key_voids_a_presented_licence,
    only_the_holders_own_licence,
    qr_images_decode_to_the_url,
    holders_create_presentations_and_see_the_scans,
    offline_qr_holds_the_signed_licence,
);

const HOLDER: &str = "urn:cn:rid:11010519491231002X";

async fn registered(app: &TestApp, serial: &str) -> (TestIssuer, Value) {
    let mut issuer = setup_issuer(app, "91220101MA0000Q01").await;
    let licence = issuer.licence(serial);
    accept(app, &mut issuer, items(&[&licence])).await;
    (issuer, licence)
}

async fn present(app: &TestApp, licence: &Value, fields: Option<&[&str]>, single: bool) -> Created {
    let request = PresentationRequest {
        licence: licence["id"].as_str().unwrap().to_owned(),
        fields: fields.map(|f| f.iter().map(|s| s.to_string()).collect()),
        lifetime_seconds: None,
        single_use: Some(single),
    };
    let holder = HolderId::from_urn(HOLDER).unwrap();
    create(
        app.state.store.as_ref(),
        app.settings.public_base(),
        &holder,
        &request,
        Utc::now(),
    )
    .await
    .expect("the holder's own licence")
}

fn path(created: &Created) -> String {
    created
        .url
        .strip_prefix("https://registry.test")
        .unwrap()
        .to_owned()
}

async fn get_json(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
}

async fn a_scan_shows_the_verdict_and_only_chosen_fields(app: TestApp) {
    let (_, licence) = registered(&app, "P1").await;
    let created = present(&app, &licence, Some(&["holderName", "lawFirm"]), false).await;
    assert_eq!(created.token.len(), 32);
    let page = app.get(&path(&created)).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("data-verdict=\"valid\"") && html.contains("有效"),
        "{html}"
    );
    assert!(
        html.contains("律师执业证") && html.contains("张*") && html.contains("吉林某律师事务所")
    );
    assert!(
        !html.contains("张三") && !html.contains("11010519491231002X"),
        "masked, no ID"
    );
    assert!(
        !html.contains("12201202610123456"),
        "certificate number not chosen"
    );
    let english = app
        .get(&format!("{}?lang=en", path(&created)))
        .await
        .text()
        .await
        .unwrap();
    assert!(english.contains("<html lang=\"en\">") && english.contains("VALID"));
    let body = json_with_status(get_json(&app, &path(&created)).await, 200).await;
    assert_eq!(body["verdict"]["valid"], true);
    assert_eq!(body["status"], "active");
    assert_eq!(body["holderName"], "张*");
    let names: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["holderName", "lawFirm"]);
    assert_eq!(body["logIndex"], 0);
    assert_eq!(body["version"], 1);
    assert_eq!(body["typeName"]["zh"], "律师执业证");
}

async fn single_use_expiry_and_unknown_tokens(app: TestApp) {
    let (_, licence) = registered(&app, "P2").await;
    let created = present(&app, &licence, None, true).await;
    assert_eq!(created.fields, ["holderName", "certificateNumber"]);
    json_with_status(get_json(&app, &path(&created)).await, 200).await;
    assert_problem(
        get_json(&app, &path(&created)).await,
        410,
        "presentation_used",
    )
    .await;
    let again = app.get(&path(&created)).await;
    assert_eq!(again.status(), 410);
    let html = again.text().await.unwrap();
    assert!(html.contains("二维码已使用") && !html.contains("吉林某律师事务所"));
    assert_problem(
        get_json(&app, "/p/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await,
        404,
        "presentation_unknown",
    )
    .await;
    assert_eq!(app.get("/p/not-a-token").await.status(), 404);
    // Expiry: move the stored expiry into the past through the store's own insert.
    let token = elicence::presentation::new_token();
    let hash = elicence::crypto::digest::sha256(token.as_bytes());
    let past = elicence::storage::Presentation {
        holder: HolderId::from_urn(HOLDER).unwrap(),
        licence: elicence::domain::identifiers::LicenceId::parse_reference(
            licence["id"].as_str().unwrap(),
        )
        .unwrap(),
        fields: vec!["holderName".into()],
        created_at: Utc::now() - Duration::hours(2),
        expires_at: Utc::now() - Duration::hours(1),
        max_uses: None,
        uses: 0,
    };
    app.state
        .store
        .insert_presentation(&hash, &past)
        .await
        .unwrap();
    assert_problem(
        get_json(&app, &format!("/p/{token}")).await,
        410,
        "presentation_expired",
    )
    .await;
    let page = app.get(&format!("/p/{token}")).await;
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("二维码已过期"));
    assert_problem(
        app.get(&format!("/v1/presentations/{token}/qr.png")).await,
        410,
        "presentation_expired",
    )
    .await;
}

async fn a_revoked_licence_is_not_valid(app: TestApp) {
    let (mut issuer, licence) = registered(&app, "P3").await;
    let created = present(&app, &licence, None, false).await;
    let change = issuer.status_change(&licence, "revoke", &digest_value(&licence));
    accept(&app, &mut issuer, vec![change]).await;
    let html = app.get(&path(&created)).await.text().await.unwrap();
    assert!(
        html.contains("data-verdict=\"invalid\"") && html.contains("无效"),
        "{html}"
    );
    assert!(html.contains("Revoked by the issuer"));
    let body = json_with_status(get_json(&app, &path(&created)).await, 200).await;
    assert_eq!(body["verdict"]["valid"], false);
    assert_eq!(body["verdict"]["reasons"][0]["code"], "revoked");
    assert_eq!(body["status"], "revoked");
}

/// A key found compromised after the licence was accepted voids it: the scan page uses the
/// verification engine, not only the stored state.
async fn a_compromised_key_voids_a_presented_licence(app: TestApp) {
    let (issuer, licence) = registered(&app, "P4").await;
    let created = present(&app, &licence, None, false).await;
    let body = json_with_status(get_json(&app, &path(&created)).await, 200).await;
    assert_eq!(body["verdict"]["valid"], true, "{body}");
    let revoke = format!(
        "/v1/issuers/{}/keys/{}/revoke",
        issuer.uscc,
        issuer.key.multikey()
    );
    let compromised = json!({"compromisedSince": "2025-01-01T00:00:00Z"});
    json_with_status(app.post_admin(&revoke, &compromised).await, 200).await;
    let body = json_with_status(get_json(&app, &path(&created)).await, 200).await;
    assert_eq!(body["verdict"]["valid"], false, "{body}");
    let codes: Vec<&str> = body["verdict"]["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert!(codes.contains(&"key_compromised"), "{body}");
    let html = app.get(&path(&created)).await.text().await.unwrap();
    assert!(html.contains("data-verdict=\"invalid\""), "{html}");
}

async fn only_the_holders_own_licence(app: TestApp) {
    let (_, licence) = registered(&app, "P4").await;
    let stranger = HolderId::from_urn("urn:cn:rid:440524188001010014").unwrap();
    let request = PresentationRequest {
        licence: licence["id"].as_str().unwrap().to_owned(),
        fields: None,
        lifetime_seconds: None,
        single_use: None,
    };
    let store = app.state.store.as_ref();
    let err = create(
        store,
        "https://registry.test",
        &stranger,
        &request,
        Utc::now(),
    )
    .await;
    assert!(matches!(
        err,
        Err(elicence::presentation::CreateError::NotFound)
    ));
    let holder = HolderId::from_urn(HOLDER).unwrap();
    let bad = PresentationRequest {
        fields: Some(vec!["salary".into()]),
        ..request
    };
    let err = create(store, "https://registry.test", &holder, &bad, Utc::now()).await;
    assert!(matches!(
        err,
        Err(elicence::presentation::CreateError::Terms(_))
    ));
}

async fn qr_images_decode_to_the_url(app: TestApp) {
    let (_, licence) = registered(&app, "P5").await;
    let created = present(&app, &licence, None, true).await;
    let png = app
        .get(&format!("/v1/presentations/{}/qr.png", created.token))
        .await;
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(decode_png(&png.bytes().await.unwrap()), created.url);
    let svg = app
        .get(&format!("/v1/presentations/{}/qr.svg", created.token))
        .await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    // Fetching the images does not use up a single-use presentation.
    json_with_status(get_json(&app, &path(&created)).await, 200).await;
    assert_problem(
        app.get(&format!("/v1/presentations/{}/qr.svg", created.token))
            .await,
        410,
        "presentation_used",
    )
    .await;
}

async fn holders_create_presentations_and_see_the_scans(app: TestApp) {
    let (_, licence) = registered(&app, "P6").await;
    let token = holder_token(&app, "11010519491231002X").await;
    let stranger = holder_token(&app, "440524188001010014").await;
    let body = json!({"licence": licence["id"], "fields": ["holderName", "practiceType"], "lifetimeSeconds": 600});
    let call = |token: Option<String>, body: Value| {
        let mut request = app.client.post(app.url("/v1/presentations")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_problem(
        call(None, body.clone()).await.unwrap(),
        401,
        "missing_token",
    )
    .await;
    assert_problem(
        call(Some(stranger), body.clone()).await.unwrap(),
        404,
        "licence_not_found",
    )
    .await;
    let bad = json!({"licence": licence["id"], "fields": ["salary"]});
    assert_problem(
        call(Some(token.clone()), bad).await.unwrap(),
        422,
        "invalid_fields",
    )
    .await;
    let long = json!({"licence": licence["id"], "lifetimeSeconds": 86_401});
    assert_problem(
        call(Some(token.clone()), long).await.unwrap(),
        422,
        "invalid_lifetime",
    )
    .await;
    let created = json_with_status(call(Some(token.clone()), body).await.unwrap(), 201).await;
    let url = created["url"].as_str().unwrap();
    assert!(url.starts_with("https://registry.test/p/"));
    assert_eq!(created["singleUse"], true);
    assert!(created["qrPng"].as_str().unwrap().ends_with("/qr.png"));
    let path = url.strip_prefix("https://registry.test").unwrap();
    let shown = json_with_status(get_json(&app, path).await, 200).await;
    assert_eq!(shown["fields"][1]["value"], "专职律师");
    let records = app
        .client
        .get(app.url("/v1/holder/access-records"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let records = json_with_status(records, 200).await;
    let scan = &records["records"][0];
    assert_eq!(scan["channel"], "qr_scan");
    assert_eq!(scan["result"], "valid");
    assert_eq!(scan["licence"], licence["id"]);
}

async fn offline_qr_holds_the_signed_licence(app: TestApp) {
    let (_, licence) = registered(&app, "P7").await;
    let token = holder_token(&app, "11010519491231002X").await;
    let stranger = holder_token(&app, "440524188001010014").await;
    let id = licence["id"].as_str().unwrap();
    let get =
        |path: String, token: String| app.client.get(app.url(&path)).bearer_auth(token).send();
    let png = get(
        format!("/v1/holder/licences/{id}/offline-qr.png"),
        token.clone(),
    )
    .await
    .unwrap();
    assert_eq!(png.status(), 200);
    let payload = decode_png(&png.bytes().await.unwrap());
    assert!(payload.starts_with("EL2:"), "with its registration receipt");
    let back = elicence::qr::decode_payload(&payload, elicence::qr::DEFAULT_MAX_INFLATED).unwrap();
    assert_eq!(back.credential, licence);
    let receipt = back.registration.expect("a receipt");
    let digest = elicence::crypto::digest::sha256(&elicence::crypto::jcs::canonicalize(&licence));
    let origin = app.state.settings.log_origin();
    let key = app.state.registry_key.verifying_key();
    receipt
        .verify(&key, &origin, &digest)
        .expect("the registry's receipt for this licence");
    let svg = get(format!("/v1/holder/licences/{id}/offline-qr.svg"), token)
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let other = get(format!("/v1/holder/licences/{id}/offline-qr.svg"), stranger)
        .await
        .unwrap();
    assert_problem(other, 404, "licence_not_found").await;
}
