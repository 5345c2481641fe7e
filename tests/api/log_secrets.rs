//! Secrets never reach the logs: every line the service writes while a scenario issues tokens
//! (issuer, agency, holder, presentation) and uses them — including 4xx answers to bad, used
//! and expired presentation tokens, and tokens put in query strings — is captured and searched
//! for each token, and so are the metrics' labels.

use serde_json::json;

use crate::on_both_backends;
use crate::support::app::{json_with_status, TestApp, VCAPI_CLIENT_TOKEN};
use crate::support::logs::{captured, wait_for};
use crate::support::people::{agency, holder_token, issuer_with_licence, CITIZEN};

on_both_backends!(no_token_reaches_the_logs);

async fn no_token_reaches_the_logs(app: TestApp) {
    let logs = captured();
    let mut secrets = vec![VCAPI_CLIENT_TOKEN.to_owned()];
    let (issuer, licence) = issuer_with_licence(&app).await;
    secrets.push(issuer.token.clone());
    let (_, agency_key) = agency(&app, "11220000MB0000001", &["verify"]).await;
    secrets.push(agency_key.clone());
    let holder = holder_token(&app, CITIZEN).await;
    secrets.push(holder.clone());

    let mut presented = Vec::new();
    for single in [false, true] {
        let body = json!({"licence": licence["id"], "singleUse": single});
        let response = app
            .call("POST", "/v1/presentations", Some(&holder), Some(&body))
            .await;
        let created = json_with_status(response, 201).await;
        presented.push(created["token"].as_str().expect("token").to_owned());
    }
    let (multi, single) = (presented[0].clone(), presented[1].clone());
    let unknown = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned();
    secrets.extend([multi.clone(), single.clone(), unknown.clone()]);

    for (path, status) in [
        (format!("/p/{multi}"), 200),
        (format!("/v1/presentations/{multi}/qr.svg"), 200),
        (format!("/v1/presentations/{multi}/qr.png"), 200),
        (format!("/p/{single}"), 200),
        (format!("/p/{single}"), 410),
        (format!("/v1/presentations/{single}/qr.png"), 410),
        (format!("/p/{unknown}"), 404),
        (format!("/v1/presentations/{unknown}/qr.svg"), 404),
        (format!("/p/{multi}/more"), 404),
        (format!("/v1/holder/access-records?token={holder}"), 401),
        (
            format!("/v1/log/entries?start=0&count=0&access_token={multi}"),
            400,
        ),
    ] {
        let response = app.call("GET", &path, None, None).await;
        assert_eq!(response.status(), status, "{path}");
    }
    let bearers = [&issuer.token, &agency_key, &holder, &multi];
    for token in bearers {
        app.call("GET", "/v1/holder/licences", Some(token), None)
            .await;
    }
    let refused = app.call("GET", &format!("/p/{unknown}"), None, None).await;
    let request_id = refused.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();

    // The spans close once the responses are written: wait for the last one's line.
    let text = wait_for(&logs, &request_id).await;
    let found: Vec<&String> = secrets
        .iter()
        .filter(|s| text.contains(s.as_str()))
        .collect();
    assert!(found.is_empty(), "tokens in the logs: {found:?}");
}
