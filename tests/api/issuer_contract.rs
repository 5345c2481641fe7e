//! The storage contract of `IssuerStore`: every method, called directly, behaves the same on
//! SQLite and PostgreSQL.

use chrono::{DateTime, Duration, TimeZone, Utc};
use elicence::crypto::digest::sha256;
use elicence::crypto::keys::KeyPair;
use elicence::domain::authorisation::Authorisation;
use elicence::domain::identifiers::Uscc;
use elicence::domain::issuer::{IssuerKey, IssuerStatus};
use elicence::storage::StoreError;

use crate::on_both_backends;
use crate::support::app::TestApp;
use crate::support::issuers::uscc;

on_both_backends!(issuer_contract, authorisation_contract);

fn at(y: i32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date")
}

fn key(from: DateTime<Utc>) -> IssuerKey {
    IssuerKey {
        multikey: KeyPair::generate().multikey(),
        valid_from: from,
        valid_until: Some(from + Duration::days(365)),
        revoked_at: None,
        compromised_since: None,
        created_at: Utc::now(),
    }
}

async fn issuer_contract(app: TestApp) {
    let store = app.state.store.as_ref();
    let (a, b): (Uscc, Uscc) = (
        uscc(201).parse().expect("uscc"),
        uscc(202).parse().expect("uscc"),
    );
    let now = Utc::now();
    store
        .insert_issuer(&b, "B", None, now)
        .await
        .expect("insert b");
    store
        .insert_issuer(&a, "A", Some("contact"), now)
        .await
        .expect("insert a");
    assert!(matches!(
        store.insert_issuer(&a, "again", None, now).await,
        Err(StoreError::Conflict(_))
    ));
    let stored = store.issuer(&a).await.expect("read").expect("present");
    assert_eq!(
        (stored.name.as_str(), stored.contact.as_deref()),
        ("A", Some("contact"))
    );
    assert_eq!(stored.status, IssuerStatus::Active);
    assert!(
        stored.keys.is_empty(),
        "an issuer without keys is still read"
    );
    assert!((stored.created_at - now).num_microseconds().map(i64::abs) < Some(1));
    let missing: Uscc = uscc(203).parse().expect("uscc");
    assert!(store.issuer(&missing).await.expect("read").is_none());

    store
        .set_issuer_status(&a, IssuerStatus::Suspended, now)
        .await
        .expect("suspend");
    assert_eq!(
        store.issuer(&a).await.expect("read").expect("a").status,
        IssuerStatus::Suspended
    );
    assert!(matches!(
        store
            .set_issuer_status(&missing, IssuerStatus::Active, now)
            .await,
        Err(StoreError::NotFound(_))
    ));

    let (k1, k2) = (key(at(2025)), key(at(2026)));
    store.add_issuer_key(&a, &k1).await.expect("k1");
    store.add_issuer_key(&a, &k2).await.expect("k2");
    assert!(matches!(
        store.add_issuer_key(&b, &k1).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.add_issuer_key(&missing, &key(at(2025))).await,
        Err(StoreError::NotFound(_))
    ));
    let keys = store.issuer(&a).await.expect("read").expect("a").keys;
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].multikey, k1.multikey);
    assert_eq!(keys[0].valid_from, at(2025));
    assert_eq!(keys[0].valid_until, k1.valid_until);
    // Each key keeps its own creation time, not its issuer's (one joined read).
    assert_eq!(keys[1].multikey, k2.multikey);
    for (read, added) in keys.iter().zip([&k1, &k2]) {
        assert!(
            (read.created_at - added.created_at)
                .num_microseconds()
                .map(i64::abs)
                < Some(1)
        );
    }

    store
        .revoke_issuer_key(&a, &k1.multikey, at(2025) + Duration::days(10), None, None)
        .await
        .expect("revoke");
    assert!(matches!(
        store
            .revoke_issuer_key(&a, &k1.multikey, at(2026), None, None)
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .revoke_issuer_key(&a, &k1.multikey, at(2026), Some(at(2025)), None)
        .await
        .expect("compromise added to a revoked key");
    assert!(matches!(
        store
            .revoke_issuer_key(&a, &k1.multikey, at(2026), Some(at(2025)), None)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .revoke_issuer_key(&b, &k2.multikey, now, None, None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    let issuer = store.issuer(&a).await.expect("read").expect("a");
    let revoked = issuer.key(&k1.multikey).expect("k1");
    assert_eq!(revoked.revoked_at, Some(at(2025) + Duration::days(10)));
    assert_eq!(revoked.compromised_since, Some(at(2025)));
    assert!(issuer.key(&k2.multikey).expect("k2").revoked_at.is_none());

    let all = store.list_issuers().await.expect("list");
    let ids: Vec<&str> = all.iter().map(|i| i.uscc.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
    let listed = all.iter().find(|i| i.uscc == a).expect("a listed");
    assert_eq!(listed.keys.len(), 2);
    assert!(all.iter().find(|i| i.uscc == b).expect("b").keys.is_empty());

    let hash = sha256(b"a token");
    store
        .insert_issuer_token(&a, &hash, now)
        .await
        .expect("token");
    assert!(matches!(
        store.insert_issuer_token(&b, &hash, now).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.issuer_by_token(&hash).await.expect("read"), Some(a));
    assert_eq!(
        store
            .issuer_by_token(&sha256(b"other"))
            .await
            .expect("read"),
        None
    );
}

async fn authorisation_contract(app: TestApp) {
    let store = app.state.store.as_ref();
    let issuer: Uscc = uscc(210).parse().expect("uscc");
    store
        .insert_issuer(&issuer, "I", None, Utc::now())
        .await
        .expect("issuer");
    let grant = |id: &str, granted: DateTime<Utc>| Authorisation {
        id: id.to_owned(),
        issuer: issuer.clone(),
        type_codes: vec!["11100000000013338W001".parse().expect("code")],
        jurisdiction: "2201".parse().expect("scope"),
        valid_from: at(2026),
        valid_until: None,
        granted_by: "11100000000013338W".parse().expect("uscc"),
        granted_at: granted,
        withdrawn_at: None,
        withdrawal_reason: None,
    };
    let (late, early) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    store
        .insert_authorisation(&grant(&late, at(2026)))
        .await
        .expect("late");
    store
        .insert_authorisation(&grant(&early, at(2025)))
        .await
        .expect("early");
    assert!(matches!(
        store.insert_authorisation(&grant(&late, at(2026))).await,
        Err(StoreError::Conflict(_))
    ));
    let mut orphan = grant(&uuid::Uuid::new_v4().to_string(), at(2026));
    orphan.issuer = uscc(211).parse().expect("uscc");
    assert!(matches!(
        store.insert_authorisation(&orphan).await,
        Err(StoreError::NotFound(_))
    ));

    let history = store.authorisations(Some(&issuer)).await.expect("list");
    let ids: Vec<&str> = history.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, [early.as_str(), late.as_str()], "oldest first");
    assert_eq!(store.authorisations(None).await.expect("all").len(), 2);
    let other: Uscc = uscc(212).parse().expect("uscc");
    assert!(store
        .authorisations(Some(&other))
        .await
        .expect("none")
        .is_empty());

    store
        .withdraw_authorisation(&late, at(2027), Some("ended"))
        .await
        .expect("withdraw");
    assert!(matches!(
        store.withdraw_authorisation(&late, at(2028), None).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .withdraw_authorisation(&uuid::Uuid::new_v4().to_string(), at(2028), None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    let stored = store
        .authorisation(&late)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(stored.withdrawn_at, Some(at(2027)));
    assert_eq!(stored.withdrawal_reason.as_deref(), Some("ended"));
    assert_eq!(stored.type_codes, grant(&late, at(2026)).type_codes);
    assert_eq!(stored.jurisdiction.as_str(), "2201");
    assert!(store.authorisation("nope").await.expect("read").is_none());
}
