//! The provider's keys and documents over time, against the real provider: a rotated signing
//! key is fetched once and accepted, and discovery and the JWKS are read again once their cache
//! time has passed (and not before). The refusal of a key that stays unknown after the refetch
//! is in `oidc_forged.rs`.

use std::time::Duration;

use elicence::oidc::Oidc;

use crate::support::app::TestApp;
use crate::support::oidc::{
    browser, location, sessions, through_provider, with_provider, Provider,
};

with_provider!(
    a_rotated_signing_key_is_fetched_once_and_accepted,
    discovery_and_keys_are_read_again_after_their_cache_time,
);

async fn signs_in(app: &TestApp) {
    let browser = browser();
    let callback = through_provider(app, &browser, "citizen").await;
    let landed = browser.get(&callback).send().await.unwrap();
    assert_eq!(landed.status(), 303);
    assert_eq!(location(&landed), "/holder");
}

async fn a_rotated_signing_key_is_fetched_once_and_accepted(app: TestApp, mut provider: Provider) {
    signs_in(&app).await;
    assert_eq!(sessions(&app).await, 1);
    // The provider comes back at the same issuer URL signing with a new key, `test-2`; the
    // application still holds the JWKS with `test-1` only.
    provider.restart(&[("KID", "test-2")]);
    signs_in(&app).await;
    assert_eq!(sessions(&app).await, 2);
    assert_eq!(provider.counts().await, (0, 1), "the JWKS alone, read once");
    signs_in(&app).await;
    assert_eq!(provider.counts().await, (0, 1), "and kept");
}

async fn discovery_and_keys_are_read_again_after_their_cache_time(
    app: TestApp,
    provider: Provider,
) {
    let ttl = Duration::from_millis(700);
    let oidc = Oidc::from_settings(&app.settings)
        .unwrap()
        .expect("OIDC is configured")
        .with_documents_ttl(ttl);
    oidc.begin().await.unwrap();
    assert_eq!(provider.counts().await, (1, 1));
    oidc.begin().await.unwrap();
    assert_eq!(provider.counts().await, (1, 1), "cached");
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    oidc.begin().await.unwrap();
    assert_eq!(provider.counts().await, (2, 2), "read again");
}
