//! The database going away under the service, and coming back: PostgreSQL made unreachable
//! (a proxy between the service and the server is cut), and SQLite out of space. The service
//! answers 503 problems with `Retry-After` while the database is gone, `/ready` says so, and it
//! recovers by itself once the database is back, with nothing acknowledged lost.

use std::time::{Duration, Instant};

use elicence::cli::bench::proxy::{redirect, Proxy};
use elicence::error::ApiError;
use elicence::storage::StoreError;
use serde_json::json;

use crate::support::app::{assert_problem, json_with_status, spawn_with, test_settings};
use crate::support::app::{Backend, PgTestDb, TestApp};
use crate::support::signing::{items, setup_issuer};

/// A service whose PostgreSQL connections all go through a proxy the test can cut.
async fn behind_proxy() -> Option<(TestApp, Proxy)> {
    let db = PgTestDb::create().await?;
    let (_, upstream) = redirect(&db.url, 0).expect("a PostgreSQL URL");
    let proxy = Proxy::start(upstream).await.expect("proxy");
    let (url, _) = redirect(&db.url, proxy.port).expect("redirected URL");
    let dir = tempfile::tempdir().expect("temporary directory");
    let settings = test_settings(dir.path(), url);
    let app = spawn_with(settings, Backend::Postgres, dir, Some(db)).await;
    Some((app, proxy))
}

/// Polls `/ready` until it answers `status`, for at most `limit`.
async fn ready_becomes(app: &TestApp, status: u16, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if app.get("/ready").await.status().as_u16() == status {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "/ready did not answer {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL only: set TEST_DATABASE_URL to run it"
)]
async fn unreachable_postgres_answers_503_then_recovers_without_a_restart() {
    let (app, proxy) = behind_proxy().await.expect("TEST_DATABASE_URL is set");
    let mut issuer = setup_issuer(&app, "91220101MA0000F01").await;
    let first = issuer.envelope(items(&[&issuer.licence("F1")]));
    let receipt = json_with_status(app.submit(&first).await, 201).await;
    issuer.accepted(&first);

    proxy.cut();
    let took = ready_becomes(&app, 503, Duration::from_secs(15)).await;
    let ready = app.get("/ready").await;
    assert_eq!(ready.headers()["retry-after"], "1");
    assert_problem(ready, 503, "unavailable").await;
    let second = issuer.envelope(items(&[&issuer.licence("F2")]));
    let started = Instant::now();
    let refused = app.submit(&second).await;
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_problem(refused, 503, "unavailable").await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a refusal took {:?} (ready said 503 after {took:?})",
        started.elapsed()
    );

    proxy.restore().await.expect("proxy listens again");
    ready_becomes(&app, 200, Duration::from_secs(15)).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        let status = app.submit(&second).await.status().as_u16();
        if status != 503 || Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, 201, "the service did not recover by itself");
    issuer.accepted(&second);
    let repeat = json_with_status(app.submit(&first).await, 200).await;
    assert_eq!(repeat, receipt, "the receipt acknowledged before the cut");
    let head = json_with_status(
        app.get(&format!("/v1/issuers/{}/head", issuer.uscc)).await,
        200,
    )
    .await;
    assert_eq!(head["sequence"], json!(2));
    assert_eq!(head["digest"], json!(issuer.head));
    assert_eq!(app.state.store.log_size().await.expect("size"), 2);
}

/// SQLite's `SQLITE_FULL`, produced for real (a database capped at a few pages), is a 503
/// `insufficient_storage` with `Retry-After`, not a 500.
#[tokio::test]
async fn a_full_sqlite_database_is_a_503_insufficient_storage() {
    use actix_web::ResponseError as _;
    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    for statement in ["PRAGMA max_page_count = 3", "CREATE TABLE t (v BLOB)"] {
        sqlx::query(statement)
            .execute(&mut conn)
            .await
            .expect(statement);
    }
    let mut full = None;
    for _ in 0..100 {
        let insert = sqlx::query("INSERT INTO t VALUES (zeroblob(4096))")
            .execute(&mut conn)
            .await;
        if let Err(e) = insert {
            full = Some(StoreError::Database(e));
            break;
        }
    }
    let full = full.expect("the capped database fills up");
    assert!(full.is_storage_full(), "{full}");
    assert!(!full.is_unavailable());
    let answer = ApiError::from(full);
    assert_eq!(answer.code(), "insufficient_storage");
    let response = answer.error_response();
    assert_eq!(response.status().as_u16(), 503);
    let retry = response.headers().get(actix_web::http::header::RETRY_AFTER);
    assert_eq!(retry.map(|v| v.as_bytes()), Some(&b"1"[..]));
}
