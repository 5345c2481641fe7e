//! Holders sign in through a real OpenID Connect provider: `oidc-provider` from npm, run by
//! `tests/oidc/provider.mjs` on loopback (installed with `npm ci --prefix tests/oidc`; without
//! it these tests show as ignored). A `reqwest` client with a cookie store plays the browser
//! and posts the provider's login and consent forms. Every refusal leaves no session row.

use crate::support::app::TestApp;
use crate::support::oidc::{
    browser, browser_without_cookies, csrf, location, sessions, through_provider,
    through_provider_from, with_provider, Provider,
};

with_provider!(
    a_citizen_signs_in_uses_the_page_makes_an_app_token_and_signs_out,
    a_callback_with_another_state_is_refused,
    a_replayed_code_is_refused,
    an_account_without_the_holder_claim_is_refused,
    an_account_with_a_malformed_resident_id_is_refused,
);

async fn a_citizen_signs_in_uses_the_page_makes_an_app_token_and_signs_out(
    app: TestApp,
    provider: Provider,
) {
    let browser = browser();
    let form = browser.get(app.url("/holder")).send().await.unwrap();
    let form = form.text().await.unwrap();
    assert!(form.contains("href=\"/holder/oidc/login\"") && !form.contains("name=\"token\""));
    let callback = through_provider(&app, &browser, "citizen").await;
    let landed = browser.get(&callback).send().await.unwrap();
    assert_eq!(landed.status(), 303);
    assert_eq!(location(&landed), "/holder");
    let set: Vec<String> = landed
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = set
        .iter()
        .find(|c| c.starts_with("elicence_holder="))
        .unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    assert!(session.contains("Path=/holder"), "{session}");
    assert_eq!(sessions(&app).await, 1);
    let page = browser.get(app.url("/holder")).send().await.unwrap();
    // The sign-out form may redirect on to the provider, and to nowhere else.
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    let form_action = format!("form-action 'self' {};", provider.issuer);
    assert!(csp.contains(&form_action), "{csp}");
    let page = page.text().await.unwrap();
    assert!(page.contains("urn:cn:rid:11010519491231002X"), "{page}");
    assert!(!page.contains("data-sign-in=\"development\""));
    // Token sign-in is off with an identity provider.
    let token = browser
        .post(app.url("/holder/login"))
        .form(&[("token", "x".repeat(64))]);
    assert_eq!(token.send().await.unwrap().status(), 404);
    // An app token, made from the session, works on the API; without the CSRF token, nothing.
    let csrf = csrf(&app, &browser).await;
    let forged = browser
        .post(app.url("/holder/tokens"))
        .form(&[("csrf", "0".repeat(64))]);
    assert_eq!(forged.send().await.unwrap().status(), 403);
    let made = browser
        .post(app.url("/holder/tokens"))
        .form(&[("csrf", &csrf)]);
    let made = made.send().await.unwrap();
    assert_eq!(made.status(), 201);
    let html = made.text().await.unwrap();
    let token = html
        .split("<code id=\"app-token\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("the token is shown once")
        .to_owned();
    let api = app
        .call("GET", "/v1/holder/licences", Some(&token), None)
        .await;
    assert_eq!(api.status(), 200);
    let page = browser
        .get(app.url("/holder"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let id = crate::support::oidc::attribute(&page, "data-token=\"").expect("the token is listed");
    assert!(!page.contains(&token), "the page never shows a token again");
    let revoke = format!("/holder/tokens/{id}/revoke");
    let revoked = browser.post(app.url(&revoke)).form(&[("csrf", &csrf)]);
    assert_eq!(revoked.send().await.unwrap().status(), 303);
    let api = app
        .call("GET", "/v1/holder/licences", Some(&token), None)
        .await;
    assert_eq!(api.status(), 401);
    // Signing out ends the session here and goes on to the provider's end_session_endpoint.
    let out = browser
        .post(app.url("/holder/logout"))
        .form(&[("csrf", &csrf)]);
    let out = out.send().await.unwrap();
    assert_eq!(out.status(), 303);
    let to = location(&out);
    assert!(
        to.starts_with(&format!("{}/session/end?", provider.issuer)),
        "{to}"
    );
    assert!(to.contains("client_id=elicence") && to.contains("post_logout_redirect_uri="));
    let after = browser.get(app.url("/holder")).send().await.unwrap();
    assert!(after.text().await.unwrap().contains("/holder/oidc/login"));
}

async fn a_callback_with_another_state_is_refused(app: TestApp, _provider: Provider) {
    let browser = browser();
    let callback = through_provider(&app, &browser, "citizen").await;
    let mut url = reqwest::Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "forged".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let refused = browser.get(url.as_str()).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("oidc_state_mismatch"));
    assert_eq!(sessions(&app).await, 0);
    // Nor does a callback arrive without the browser having started a sign-in here.
    let fresh = browser_without_cookies()
        .get(&callback)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 400);
    assert_eq!(sessions(&app).await, 0);
}

async fn a_replayed_code_is_refused(app: TestApp, _provider: Provider) {
    let browser = browser();
    let start = browser
        .get(app.url("/holder/oidc/login"))
        .send()
        .await
        .unwrap();
    let pending = start
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("elicence_oidc="))
        .unwrap();
    let callback = through_provider_from(&app, &browser, location(&start), "citizen").await;
    assert_eq!(browser.get(&callback).send().await.unwrap().status(), 303);
    assert_eq!(sessions(&app).await, 1);
    // The same code again, with the same pending-login cookie: the provider refuses it.
    let replay = browser_without_cookies()
        .get(&callback)
        .header("Cookie", &pending)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
    assert!(replay.text().await.unwrap().contains("oidc_code_refused"));
    assert_eq!(sessions(&app).await, 1);
}

async fn an_account_without_the_holder_claim_is_refused(app: TestApp, _provider: Provider) {
    let browser = browser();
    let callback = through_provider(&app, &browser, "no-claim").await;
    let refused = browser.get(&callback).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("oidc_holder_claim_missing"));
    assert_eq!(sessions(&app).await, 0);
}

async fn an_account_with_a_malformed_resident_id_is_refused(app: TestApp, _provider: Provider) {
    let browser = browser();
    let callback = through_provider(&app, &browser, "malformed").await;
    let refused = browser.get(&callback).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("oidc_holder_claim_malformed"));
    assert_eq!(sessions(&app).await, 0);
}
