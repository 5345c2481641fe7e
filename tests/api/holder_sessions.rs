//! The holder page's sessions over time (docs/oidc.md, "Sessions"): one ends 8 hours after
//! sign-in however active, after 30 minutes without a request, or when signed out; a cookie of
//! such a session gets the sign-in page and its forms are refused; and each sign-in deletes the
//! sessions that can no longer be used.

use chrono::{DateTime, Duration, Utc};
use elicence::crypto::digest::sha256;
use elicence::domain::identifiers::HolderId;
use elicence::storage::{HolderSession, SignedInVia};

use crate::on_both_backends;
use crate::support::app::TestApp;
use crate::support::people::{holder_token, CITIZEN};

on_both_backends!(
    expired_idle_and_ended_sessions_no_longer_sign_in,
    a_sign_in_deletes_the_sessions_that_can_no_longer_be_used,
);

/// A session id as the cookie carries it (64 characters), distinct per `n`.
fn session_id(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// Stores a session for the citizen, started at `started` and last seen at `seen`.
async fn session(app: &TestApp, n: u8, started: DateTime<Utc>, seen: DateTime<Utc>) -> String {
    let id = session_id(n);
    let session = HolderSession {
        holder: HolderId::parse_bare(CITIZEN).unwrap(),
        via: SignedInVia::Oidc,
    };
    let store = &app.state.store;
    let hash = sha256(id.as_bytes());
    let expires = started + Duration::hours(8);
    store
        .insert_holder_session(&hash, &session, started, expires)
        .await
        .unwrap();
    if seen != started {
        // Marks it seen at `seen`, as a request then would have (setup: no idle check).
        store
            .touch_holder_session(&hash, seen, started - Duration::seconds(1))
            .await
            .unwrap();
    }
    id
}

fn client() -> reqwest::Client {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    client.build().unwrap()
}

/// Whether `/holder` with this session cookie shows the holder's page (not the sign-in).
async fn signed_in(app: &TestApp, id: &str) -> bool {
    let page = client()
        .get(app.url("/holder"))
        .header("Cookie", format!("elicence_holder={id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    page.contains(&format!("urn:cn:rid:{CITIZEN}"))
}

async fn expired_idle_and_ended_sessions_no_longer_sign_in(app: TestApp) {
    let now = Utc::now();
    let live = session(
        &app,
        1,
        now - Duration::hours(7),
        now - Duration::minutes(5),
    )
    .await;
    let expired = session(
        &app,
        2,
        now - Duration::hours(8),
        now - Duration::minutes(1),
    )
    .await;
    let idle = session(
        &app,
        3,
        now - Duration::hours(1),
        now - Duration::minutes(31),
    )
    .await;
    let ended = session(
        &app,
        4,
        now - Duration::minutes(2),
        now - Duration::minutes(2),
    )
    .await;
    let store = &app.state.store;
    store
        .end_holder_session(&sha256(ended.as_bytes()), now)
        .await
        .unwrap();
    assert!(signed_in(&app, &live).await);
    for dead in [&expired, &idle, &ended] {
        assert!(!signed_in(&app, dead).await, "{dead}");
        // Nor does a form of that session go through.
        let form = client()
            .post(app.url("/holder/tokens"))
            .header("Cookie", format!("elicence_holder={dead}"))
            .form(&[("csrf", "0".repeat(64))]);
        assert_eq!(form.send().await.unwrap().status(), 403);
    }
    // A request keeps a session alive: the live one was just seen again.
    let hash = sha256(live.as_bytes());
    let seen = store
        .touch_holder_session(&hash, now, now - Duration::minutes(1))
        .await
        .unwrap();
    assert!(seen.is_some(), "seen within the last minute");
}

async fn a_sign_in_deletes_the_sessions_that_can_no_longer_be_used(app: TestApp) {
    let now = Utc::now();
    let live = session(
        &app,
        1,
        now - Duration::hours(1),
        now - Duration::minutes(29),
    )
    .await;
    session(&app, 2, now - Duration::hours(9), now - Duration::hours(9)).await;
    session(&app, 3, now - Duration::hours(2), now - Duration::hours(1)).await;
    let ended = session(
        &app,
        4,
        now - Duration::minutes(1),
        now - Duration::minutes(1),
    )
    .await;
    let store = &app.state.store;
    store
        .end_holder_session(&sha256(ended.as_bytes()), now)
        .await
        .unwrap();
    assert_eq!(store.holder_session_count().await.unwrap(), 4);
    let token = holder_token(&app, CITIZEN).await;
    let login = client()
        .post(app.url("/holder/login"))
        .form(&[("token", token.as_str())]);
    assert_eq!(login.send().await.unwrap().status(), 303);
    // The live session and the new one stay; the expired, idle and ended ones are gone.
    assert_eq!(store.holder_session_count().await.unwrap(), 2);
    assert!(signed_in(&app, &live).await);
}
