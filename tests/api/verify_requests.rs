//! Verification requests: batches, the public status, and refusals (bad bodies, rate limits).

use std::num::NonZeroU32;

use elicence::crypto::digest::digest_value;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, TestApp};
use crate::support::signing::{items, setup_issuer};
use crate::support::submissions::accept;
use crate::support::verify::{check, verify, AT};

on_both_backends!(
    batch_finds_the_bad_item_among_good_ones,
    public_status_has_no_personal_data,
    bad_requests_and_rate_limits,
);

async fn batch_finds_the_bad_item_among_good_ones(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000105").await;
    let licences: Vec<Value> = (0..5).map(|i| issuer.licence(&format!("B{i}"))).collect();
    accept(
        &app,
        &mut issuer,
        items(&licences.iter().collect::<Vec<_>>()),
    )
    .await;
    let mut list: Vec<Value> = licences.iter().map(|l| json!({"credential": l})).collect();
    let mut forged = licences[3].clone();
    forged["validUntil"] = json!("2099-01-01T00:00:00Z");
    list[3] = json!({"credential": forged});
    list.push(json!({"licenceId": licences[0]["id"]}));
    list.push(json!({"credential": {"not": "a credential"}}));
    list.push(json!({"credential": licences[1], "at": "2100-06-01T00:00:00Z"}));

    let response = app
        .post_anon("/v1/verify/batch", &json!({"items": list, "at": AT}))
        .await;
    let body = json_with_status(response, 200).await;
    let results = body["results"].as_array().expect("results");
    assert_eq!(results.len(), 8);
    for i in [0, 1, 2, 4, 5] {
        assert_eq!(results[i]["verified"], true, "item {i}: {}", results[i]);
        assert!(check(&results[i], "registered")["details"]["inclusionProof"].is_array());
    }
    assert_eq!(check(&results[3], "signature")["code"], "signature_invalid");
    assert_eq!(results[6]["error"]["code"], "not_a_credential");
    assert_eq!(results[6]["error"]["status"], 400);
    assert_eq!(check(&results[7], "validityPeriod")["code"], "expired");

    let too_many = json!({"items": vec![json!({"credential": licences[0]}); 1001]});
    let response = app.post_anon("/v1/verify/batch", &too_many).await;
    assert_problem(response, 400, "invalid_request_body").await;
}

async fn public_status_has_no_personal_data(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000106").await;
    let licence = issuer.licence("P1");
    accept(&app, &mut issuer, items(&[&licence])).await;
    let id = licence["id"].as_str().expect("id");
    let path = format!("/v1/licences/{id}/status");
    let status = json_with_status(app.get(&path).await, 200).await;
    assert_eq!(status["state"], "active");
    assert_eq!(status["headVersion"], 1);
    assert_eq!(status["current"], true);
    assert!(!status.to_string().contains("11010519491231002X"));

    let renewal = issuer.renewal("P1", 2, &licence);
    let suspend = issuer.status_change(&renewal, "suspend", &digest_value(&renewal));
    accept(
        &app,
        &mut issuer,
        vec![json!({"licence": renewal}), suspend],
    )
    .await;
    let bare = id.trim_start_matches("urn:elicence:");
    let status = json_with_status(app.get(&format!("/v1/licences/{bare}/status")).await, 200).await;
    assert_eq!(status["state"], "suspended");
    assert_eq!(status["since"], "2026-06-01T00:00:00.000000Z");
    assert_eq!(status["headVersion"], 2);
    assert_eq!(status["head"], renewal["id"]);
    assert_eq!(status["current"], false);

    let unknown = issuer.licence_id("NOPE", 1).urn();
    let path = format!("/v1/licences/{unknown}/status");
    assert_problem(app.get(&path).await, 404, "licence_not_found").await;
}

async fn bad_requests_and_rate_limits(app: TestApp) {
    let issuer = setup_issuer(&app, "91220101MA0000107").await;
    let not_vc = app
        .post_anon("/v1/verify", &json!({"credential": [1, 2]}))
        .await;
    assert_problem(not_vc, 400, "not_a_credential").await;
    let neither = app.post_anon("/v1/verify", &json!({"hello": 1})).await;
    assert_problem(neither, 400, "invalid_request_body").await;
    let qr = app.post_anon("/v1/verify", &json!({"qr": "EL1:XYZ"})).await;
    assert_problem(qr, 400, "qr_base45").await;
    let qr = app.post_anon("/v1/verify", &json!({"qr": "EL9:00"})).await;
    assert_problem(qr, 400, "qr_prefix").await;
    let unknown = json!({"licenceId": issuer.licence_id("NONE", 1).urn()});
    assert_problem(
        app.post_anon("/v1/verify", &unknown).await,
        404,
        "licence_not_found",
    )
    .await;
    let at = json!({"credential": issuer.licence("X1"), "at": "yesterday"});
    assert_problem(app.post_anon("/v1/verify", &at).await, 400, "at_invalid").await;
    let mut big = issuer.unsigned_licence("X2", 1);
    big["padding"] = json!("x".repeat(app.settings.body_limit));
    let big = json!({"credential": issuer.sign(&big)});
    assert_problem(
        app.post_anon("/v1/verify", &big).await,
        413,
        "payload_too_large",
    )
    .await;
    // Within the size limit, but a tree of hundreds of times its size: refused as it is built.
    let empties = vec![json!({}); app.settings.body_limit / 8];
    for path in ["/v1/verify", "/v1/verify/batch"] {
        let tiny = app
            .post_anon(path, &json!({"items": empties, "credential": empties}))
            .await;
        assert_problem(tiny, 413, "json_too_complex").await;
    }

    let nz = |n| NonZeroU32::new(n).expect("non-zero");
    app.state.verify_limiter.set(Some((nz(1), nz(2))));
    let body = json!({"credential": issuer.licence("X3"), "at": AT});
    for _ in 0..2 {
        verify(&app, body.clone()).await;
    }
    let refused = app.post_anon("/v1/verify", &body).await;
    let retry = refused
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    assert_problem(refused, 429, "rate_limited").await;
    let status = app
        .get(&format!(
            "/v1/licences/{}/status",
            body["credential"]["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(status.status(), 429, "the status route shares the limit");
}
