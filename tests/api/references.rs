//! The log's references hold on both backends whatever writes the rows, not only through the
//! write path: a row naming an envelope or a licence version that is not stored is refused
//! (SQLite by its foreign keys, PostgreSQL by checks over each statement's rows), and stored
//! envelopes and licences are not deleted.

use crate::on_both_backends;
use crate::support::app::{Backend, TestApp};
use serde_json::{json, Value};

use crate::support::people::{issuer_with_licence, licence_for, CITIZEN};
use crate::support::signing::{items, setup_issuer};
use crate::support::verify::{check, verify, AT};

on_both_backends!(references_name_stored_rows);
on_both_backends!(envelopes_are_stored_compressed_with_lz4_where_the_server_has_it);

/// `sql` run on the app's database directly: the rows it changed, or its error.
async fn run(app: &TestApp, sql: &str) -> Result<u64, String> {
    let url = &app.settings.database_url;
    match app.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
            let done = sqlx::query(sql).execute(&pool).await;
            pool.close().await;
            done.map(|r| r.rows_affected()).map_err(|e| e.to_string())
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.expect("postgres");
            let done = sqlx::query(sql).execute(&pool).await;
            pool.close().await;
            done.map(|r| r.rows_affected()).map_err(|e| e.to_string())
        }
    }
}

async fn references_name_stored_rows(app: TestApp) {
    let (_issuer, licence) = issuer_with_licence(&app).await;
    let refused = [
        "INSERT INTO issuer_heads (issuer, sequence, digest) \
         VALUES ('91220101MA0000009', 1, 'uEiNoSuchEnvelope')",
        "UPDATE issuer_heads SET digest = 'uEiNoSuchEnvelope'",
        "UPDATE licence_heads SET id = 'no-such-version'",
        "UPDATE licences SET envelope = 'uEiNoSuchEnvelope'",
        "DELETE FROM licences",
        "DELETE FROM envelopes",
    ];
    for sql in refused {
        assert!(run(&app, sql).await.is_err(), "not refused: {sql}");
    }
    // The same statements naming stored rows are taken: the checks are of the references.
    let taken = [
        "UPDATE issuer_heads SET digest = digest",
        "UPDATE licence_heads SET id = id",
        "UPDATE licences SET envelope = envelope",
    ];
    for sql in taken {
        assert_eq!(run(&app, sql).await, Ok(1), "{sql}");
    }
    // Nothing of the refused statements stayed: the licence still verifies, registered.
    let result = verify(&app, json!({"credential": licence, "at": AT})).await;
    assert_eq!(result["verified"], true, "{result}");
    assert_eq!(check(&result, "registered")["ok"], true, "{result}");
}

/// PostgreSQL compresses an envelope's receipt and document with lz4 where the server was built
/// with it (migration 20261205000018; pglz, the default, cost 7 % of its CPU on ingest), and
/// they read back whole: the envelope sent again is answered with the receipt stored for it,
/// byte for byte. SQLite stores both as they are.
async fn envelopes_are_stored_compressed_with_lz4_where_the_server_has_it(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000001").await;
    // Enough licences for a receipt that PostgreSQL stores out of line, compressed (over 2 KB).
    let licences: Vec<Value> = (0..8)
        .map(|i| licence_for(&issuer, &format!("Z{i}"), CITIZEN, (2026, 2030)))
        .collect();
    let envelope = issuer.envelope(items(&licences.iter().collect::<Vec<_>>()));
    let first = app.submit(&envelope).await;
    assert_eq!(first.status(), 201);
    let first = first.text().await.expect("receipt");
    issuer.accepted(&envelope);
    let again = app.submit(&envelope).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.text().await.expect("receipt"), first);
    if app.backend == Backend::Postgres {
        let pool = sqlx::PgPool::connect(&app.settings.database_url)
            .await
            .expect("postgres");
        let lz4: bool = sqlx::query_scalar(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings \
             WHERE name = 'default_toast_compression'",
        )
        .fetch_one(&pool)
        .await
        .expect("settings");
        let (method, size): (Option<String>, i32) = sqlx::query_as(
            "SELECT pg_column_compression(receipt), pg_column_size(receipt) FROM envelopes",
        )
        .fetch_one(&pool)
        .await
        .expect("the envelope");
        pool.close().await;
        assert!(usize::try_from(size).unwrap() < first.len(), "{size} bytes");
        assert_eq!(method.as_deref(), Some(if lz4 { "lz4" } else { "pglz" }));
    }
}
