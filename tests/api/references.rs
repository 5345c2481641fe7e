//! The log's references hold on both backends whatever writes the rows, not only through the
//! write path: a row naming an envelope or a licence version that is not stored is refused
//! (SQLite by its foreign keys, PostgreSQL by checks over each statement's rows), and stored
//! envelopes and licences are not deleted.

use crate::on_both_backends;
use crate::support::app::{Backend, TestApp};
use serde_json::json;

use crate::support::people::issuer_with_licence;
use crate::support::verify::{check, verify, AT};

on_both_backends!(references_name_stored_rows);

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
