//! ID tokens that are wrong in exactly one way, from the real provider: `tests/oidc/provider.mjs`
//! with `TAMPER=<mode>` makes the code exchange as usual (PKCE and all) and then rewrites the
//! token response's ID token: another `nonce`, `aud`, `iss`, a past `exp`, an `iat` out of
//! bounds, a key the JWKS lacks, a forger's key under the provider's `kid`, the client secret as
//! an HMAC key, no signature. Each is refused with a page naming the failed check, starts no
//! session, and leaves nothing personal or secret in the logs. Then the bounds themselves: a
//! token expired within the clock skew is accepted.

use crate::support::app::TestApp;
use crate::support::logs::{captured, wait_for};
use crate::support::oidc::{
    browser, location, sessions, through_provider, with_provider, Provider,
};

/// The account only these tests sign in as (`forged` in provider.mjs), and its name: neither
/// may appear in a log line or a refusal.
const FORGED_ID: &str = "510104198807070016";
const FORGED_NAME: &str = "李四";

with_provider!(
    a_token_with_another_nonce_is_refused = "nonce",
    an_expired_token_is_refused = "expired",
    a_token_expired_within_the_clock_skew_is_accepted = "expired-within-skew",
    a_token_issued_in_the_future_is_refused = "issued-in-future",
    a_token_issued_long_ago_is_refused = "issued-long-ago",
    a_token_for_another_client_is_refused = "aud",
    a_token_from_another_issuer_is_refused = "iss",
    a_token_signed_by_a_key_not_in_the_jwks_is_refused_after_one_refetch = "unknown-key",
    a_forgers_key_under_the_providers_kid_is_refused = "impostor-key",
    a_token_keyed_with_the_client_secret_is_refused = "client-secret-hs256",
    an_unsigned_token_is_refused = "alg-none",
);

/// Signs in as the `forged` account and asserts the refusal: 401, a page naming `check`, no
/// session row and no session cookie, and neither the account's ID or name nor the code or
/// `state` in the logs.
async fn refused(app: &TestApp, check: &str) {
    let logs = captured();
    let browser = browser();
    let callback = through_provider(app, &browser, "forged").await;
    let answer = browser.get(&callback).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    let cookies: Vec<_> = answer.headers().get_all("set-cookie").iter().collect();
    assert!(
        cookies
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("elicence_holder=")),
        "{cookies:?}"
    );
    let request_id = answer.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let page = answer.text().await.unwrap();
    assert!(page.contains("oidc_id_token_invalid"), "{page}");
    assert!(page.contains(&format!("the {check} check")), "{page}");
    assert!(!page.contains(FORGED_ID) && !page.contains(FORGED_NAME));
    assert_eq!(sessions(app).await, 0);

    let text = wait_for(&logs, &request_id).await;
    let url = reqwest::Url::parse(&callback).unwrap();
    let mut secrets = vec![FORGED_ID.to_owned(), FORGED_NAME.to_owned()];
    secrets.extend(
        url.query_pairs()
            .filter(|(k, _)| k == "code" || k == "state")
            .map(|(_, v)| v.into_owned()),
    );
    assert_eq!(secrets.len(), 4, "the callback carries a code and a state");
    for secret in secrets {
        assert!(!text.contains(&secret), "{secret} reached the logs");
    }
}

async fn a_token_with_another_nonce_is_refused(app: TestApp, _provider: Provider) {
    refused(&app, "nonce").await;
}

async fn an_expired_token_is_refused(app: TestApp, _provider: Provider) {
    // `exp` two minutes ago: beyond the 60 seconds of allowed clock skew.
    refused(&app, "expiry").await;
}

async fn a_token_expired_within_the_clock_skew_is_accepted(app: TestApp, _provider: Provider) {
    // `exp` twenty seconds ago: the provider's clock may be that far ahead of ours.
    let browser = browser();
    let callback = through_provider(&app, &browser, "forged").await;
    let landed = browser.get(&callback).send().await.unwrap();
    assert_eq!(landed.status(), 303);
    assert_eq!(location(&landed), "/holder");
    assert_eq!(sessions(&app).await, 1);
    let page = browser.get(app.url("/holder")).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains(&format!("urn:cn:rid:{FORGED_ID}")), "{page}");
}

async fn a_token_issued_in_the_future_is_refused(app: TestApp, _provider: Provider) {
    refused(&app, "issue_time").await;
}

async fn a_token_issued_long_ago_is_refused(app: TestApp, _provider: Provider) {
    // Still unexpired, but minted an hour ago: not for this sign-in.
    refused(&app, "issue_time").await;
}

async fn a_token_for_another_client_is_refused(app: TestApp, _provider: Provider) {
    refused(&app, "audience").await;
}

async fn a_token_from_another_issuer_is_refused(app: TestApp, _provider: Provider) {
    refused(&app, "issuer").await;
}

async fn a_token_signed_by_a_key_not_in_the_jwks_is_refused_after_one_refetch(
    app: TestApp,
    provider: Provider,
) {
    refused(&app, "signature").await;
    // Discovery with its JWKS at the sign-in's start, then the JWKS once more for the
    // unknown key, and no more.
    assert_eq!(provider.counts().await, (1, 2));
    refused(&app, "signature").await;
    assert_eq!(provider.counts().await, (1, 3), "once per sign-in");
}

async fn a_forgers_key_under_the_providers_kid_is_refused(app: TestApp, provider: Provider) {
    refused(&app, "signature").await;
    // The key id is known, so there is nothing to refetch.
    assert_eq!(provider.counts().await, (1, 1));
}

async fn a_token_keyed_with_the_client_secret_is_refused(app: TestApp, _provider: Provider) {
    // The provider advertises HS256; the registry still takes only asymmetric signatures.
    refused(&app, "signature").await;
}

async fn an_unsigned_token_is_refused(app: TestApp, _provider: Provider) {
    refused(&app, "signature").await;
}
