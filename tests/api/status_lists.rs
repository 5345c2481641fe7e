//! W3C Bitstring Status Lists: licences carrying `credentialStatus`, slots taken once, the
//! registry-signed lists at `/v1/status-lists/…`, their caching, and an independent reader.

use std::time::{Duration, Instant};

use elicence::crypto::digest::digest_value;
use elicence::domain::status_list::{bit, decode_list};
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::app::{assert_problem, spawn_two_instances, TestApp};
use crate::support::signing::{items, setup_issuer, uscc, TestIssuer, HOST};
use crate::support::status_lists::{entries, fetch_list, read_bit};
use crate::support::submissions::accept;
use crate::support::verify::{check, verify};

on_both_backends!(
    lists_show_revocations_and_suspensions,
    a_status_slot_is_taken_once,
    verification_checks_status_entries,
);

/// A signed licence of `serial` naming revocation slot `revocation` and suspension slot
/// `suspension` of its issuer's list 0.
fn licence_with_status(
    issuer: &TestIssuer,
    serial: &str,
    revocation: u64,
    suspension: u64,
) -> Value {
    let mut vc = issuer.unsigned_licence(serial, 1);
    vc["credentialStatus"] = entries(issuer, revocation, suspension);
    issuer.sign(&vc)
}

fn list_path(issuer: &TestIssuer, purpose: &str) -> String {
    format!("/v1/status-lists/{}/{purpose}/0", issuer.uscc)
}

/// The bit of `index` in the list credential's `encodedList`.
fn list_bit(list: &Value, index: u32) -> bool {
    let bits = decode_list(
        list["credentialSubject"]["encodedList"]
            .as_str()
            .expect("encodedList"),
    )
    .expect("decodes");
    assert_eq!(bits.len() * 8, 131_072, "a list of the minimum size");
    bit(&bits, index)
}

async fn lists_show_revocations_and_suspensions(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000101").await;
    let revoked = licence_with_status(&issuer, "R1", 0, 0);
    let suspended = licence_with_status(&issuer, "R2", 1, 1);
    let plain = issuer.licence("R3");
    accept(&app, &mut issuer, items(&[&revoked, &suspended, &plain])).await;
    let path = list_path(&issuer, "revocation");
    let first = app.get(&path).await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.headers()["content-type"].to_str().unwrap(),
        "application/vc"
    );
    let cache = first.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cache.contains("max-age="), "{cache}");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let list = fetch_list(&app, &path).await;
    assert_eq!(
        list["type"],
        json!(["VerifiableCredential", "BitstringStatusListCredential"])
    );
    assert_eq!(list["issuer"], format!("did:web:{HOST}"));
    assert_eq!(list["id"], format!("https://{HOST}{path}"));
    assert_eq!(list["credentialSubject"]["type"], "BitstringStatusList");
    assert_eq!(list["credentialSubject"]["statusPurpose"], "revocation");
    assert!(list["validUntil"].as_str() > list["validFrom"].as_str());
    assert!(!list_bit(&list, 0) && !list_bit(&list, 1));
    let unchanged = app
        .client
        .get(app.url(&path))
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(unchanged.status(), 304);

    let revoke = issuer.status_change(&revoked, "revoke", &digest_value(&revoked));
    let suspend = issuer.status_change(&suspended, "suspend", &digest_value(&suspended));
    accept(&app, &mut issuer, vec![revoke, suspend.clone()]).await;
    let receipt_at = Instant::now();
    let list = fetch_list(&app, &path).await;
    eprintln!(
        "status list update on the accepting instance ({}): {:?} from receipt to the bit",
        app.settings.database_url.split(':').next().unwrap_or(""),
        receipt_at.elapsed()
    );
    assert!(list_bit(&list, 0), "the revoked licence's bit is set");
    assert!(!list_bit(&list, 1), "a suspension is not a revocation");
    let changed = app
        .client
        .get(app.url(&path))
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(changed.status(), 200, "a new list, a new ETag");
    let suspensions = fetch_list(&app, &list_path(&issuer, "suspension")).await;
    assert!(list_bit(&suspensions, 1) && !list_bit(&suspensions, 0));

    let resume = issuer.status_change(
        &suspended,
        "resume",
        &digest_value(&suspend["statusChange"]),
    );
    accept(&app, &mut issuer, vec![resume]).await;
    let suspensions = fetch_list(&app, &list_path(&issuer, "suspension")).await;
    assert!(!list_bit(&suspensions, 1), "cleared on resume");

    for (path, code) in [
        (
            "/v1/status-lists/91220101MA00000S99/revocation/0".to_owned(),
            400,
        ),
        (
            format!(
                "/v1/status-lists/{}/revocation/0",
                uscc("91220101MA0000199")
            ),
            404,
        ),
        (format!("/v1/status-lists/{}/message/0", issuer.uscc), 404),
        (
            format!("/v1/status-lists/{}/revocation/1024", issuer.uscc),
            404,
        ),
        (
            format!("/v1/status-lists/{}/revocation/01", issuer.uscc),
            404,
        ),
    ] {
        let code_name = if code == 400 {
            "invalid_uscc"
        } else {
            "status_list_not_found"
        };
        assert_problem(app.get(&path).await, code, code_name).await;
    }
}

async fn a_status_slot_is_taken_once(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000103").await;
    let first = licence_with_status(&issuer, "T1", 5, 5);
    accept(&app, &mut issuer, items(&[&first])).await;
    // Taken by a stored licence: the whole envelope is refused, the good item too.
    let fresh = licence_with_status(&issuer, "T2", 6, 6);
    let reuse = licence_with_status(&issuer, "T3", 5, 7);
    let body = assert_problem(
        app.submit(&issuer.envelope(items(&[&fresh, &reuse]))).await,
        422,
        "items_invalid",
    )
    .await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["errors"][0]["item"], 1);
    assert_eq!(body["errors"][0]["code"], "status_index_taken");
    let path = format!("/v1/licences/{}", fresh["id"].as_str().unwrap());
    let stored = app.call("GET", &path, Some(&issuer.token), None).await;
    assert_eq!(
        stored.status(),
        404,
        "nothing of a refused envelope is stored"
    );
    // Taken by an earlier item of the same envelope.
    let twin = licence_with_status(&issuer, "T4", 6, 8);
    let body = assert_problem(
        app.submit(&issuer.envelope(items(&[&fresh, &twin]))).await,
        422,
        "items_invalid",
    )
    .await;
    assert_eq!(body["errors"][0]["item"], 1);
    assert_eq!(body["errors"][0]["code"], "status_index_taken");
    // Another issuer's list, or an index past the list.
    let other = setup_issuer(&app, "91220101MA0000104").await;
    let mut foreign = issuer.unsigned_licence("T5", 1);
    foreign["credentialStatus"] = entries(&other, 9, 9);
    let mut past = issuer.unsigned_licence("T6", 1);
    past["credentialStatus"] = json!({
        "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "131072",
        "statusListCredential": format!("https://{HOST}/v1/status-lists/{}/revocation/0", issuer.uscc),
    });
    for vc in [foreign, past] {
        let body = assert_problem(
            app.submit(&issuer.envelope(items(&[&issuer.sign(&vc)])))
                .await,
            422,
            "items_invalid",
        )
        .await;
        assert_eq!(body["errors"][0]["code"], "status_entry_invalid", "{body}");
    }
    // The same slot number is free in another issuer's lists and for the other purpose.
    let mut other = other;
    let theirs = licence_with_status(&other, "U1", 5, 5);
    accept(&app, &mut other, items(&[&theirs])).await;
    // A later version takes its own slots; the predecessor's are not free again.
    let mut again = issuer.unsigned_licence("T1", 2);
    again["relatedResource"] =
        json!([{"id": first["id"], "digestMultibase": digest_value(&first)}]);
    again["credentialStatus"] = entries(&issuer, 5, 5);
    let body = assert_problem(
        app.submit(&issuer.envelope(items(&[&issuer.sign(&again)])))
            .await,
        422,
        "items_invalid",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "status_index_taken");
    again["credentialStatus"] = entries(&issuer, 10, 10);
    let v2 = issuer.sign(&again);
    accept(&app, &mut issuer, items(&[&fresh, &v2])).await;
    // Revoking the licence sets the bits of every version that carries an entry.
    let revoke = issuer.status_change(&v2, "revoke", &digest_value(&v2));
    accept(&app, &mut issuer, vec![revoke]).await;
    let list = fetch_list(&app, &list_path(&issuer, "revocation")).await;
    assert!(list_bit(&list, 5) && list_bit(&list, 10) && !list_bit(&list, 6));
}

async fn verification_checks_status_entries(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000105").await;
    let good = licence_with_status(&issuer, "V1", 0, 0);
    accept(&app, &mut issuer, items(&[&good])).await;
    let result = verify(
        &app,
        json!({"credential": good, "at": crate::support::verify::AT}),
    )
    .await;
    assert_eq!(result["verified"], true, "{result}");
    // Well signed, but pointing at another issuer's list: the shape check fails with the code
    // intake would give.
    let other = setup_issuer(&app, "91220101MA0000106").await;
    let mut vc = issuer.unsigned_licence("V2", 1);
    vc["credentialStatus"] = entries(&other, 0, 0);
    let result = verify(
        &app,
        json!({"credential": issuer.sign(&vc), "at": crate::support::verify::AT}),
    )
    .await;
    assert_eq!(result["verified"], false);
    assert_eq!(
        check(&result, "schema")["code"],
        "status_entry_invalid",
        "{result}"
    );
}

/// Instance B serves a list that instance A's revocation changed within the bound the
/// follower keeps (PostgreSQL only: two instances share one database).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
async fn another_instance_shows_a_revocation_within_seconds() {
    let (a, b) = spawn_two_instances()
        .await
        .expect("TEST_DATABASE_URL is set");
    let mut issuer = setup_issuer(&a, "91220101MA0000107").await;
    let licence = licence_with_status(&issuer, "W1", 3, 3);
    accept(&a, &mut issuer, items(&[&licence])).await;
    let path = list_path(&issuer, "revocation");
    assert!(
        !list_bit(&fetch_list(&b, &path).await, 3),
        "B caches the list"
    );
    let revoke = issuer.status_change(&licence, "revoke", &digest_value(&licence));
    accept(&a, &mut issuer, vec![revoke]).await;
    let receipt_at = Instant::now();
    loop {
        if list_bit(&fetch_list(&b, &path).await, 3) {
            break;
        }
        assert!(
            receipt_at.elapsed() < Duration::from_secs(10),
            "B still shows the old list"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "status list update on another instance: {:?} from receipt to the bit",
        receipt_at.elapsed()
    );
}

/// Digital Bazaar's reader (tests/interop, `npm ci` there) finds the right bit for a revoked
/// and an active licence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(interop_node),
    ignore = "needs node and `npm ci --prefix tests/interop` (the CI installs them)"
)]
async fn an_independent_reader_finds_the_bits() {
    let app = crate::support::app::spawn_app(crate::support::app::Backend::Sqlite)
        .await
        .expect("SQLite");
    let mut issuer = setup_issuer(&app, "91220101MA0000108").await;
    let revoked = licence_with_status(&issuer, "I1", 131_071, 0);
    let active = licence_with_status(&issuer, "I2", 8, 1);
    accept(&app, &mut issuer, items(&[&revoked, &active])).await;
    let revoke = issuer.status_change(&revoked, "revoke", &digest_value(&revoked));
    accept(&app, &mut issuer, vec![revoke]).await;
    let list = fetch_list(&app, &list_path(&issuer, "revocation")).await;
    assert_eq!(read_bit(&revoked, &list, "revocation"), "true");
    assert_eq!(read_bit(&active, &list, "revocation"), "false");
    let suspensions = fetch_list(&app, &list_path(&issuer, "suspension")).await;
    assert_eq!(read_bit(&revoked, &suspensions, "suspension"), "false");
}
