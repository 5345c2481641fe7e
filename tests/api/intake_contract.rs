//! The intake's reads (`IntakeStore::intake_reads`), called directly, on both backends; and
//! what a submitter sees when the database connections die under the service.

use elicence::crypto::digest::digest_value;
use serde_json::json;

use crate::on_both_backends;
use crate::support::app::{json_with_status, Backend, TestApp};
use crate::support::signing::{items, setup_issuer, uscc};

on_both_backends!(intake_reads_contract, dead_connections_cost_at_most_a_503);

async fn intake_reads_contract(app: TestApp) {
    let store = app.state.store.as_ref();
    let unknown = store
        .intake_reads(&uscc("91220101MA0000090"), "uEiA", &[], &[])
        .await
        .expect("read");
    assert!(!unknown.registered && unknown.head.is_none() && unknown.grants.is_empty());

    let mut issuer = setup_issuer(&app, "91220101MA0000091").await;
    let first = issuer.envelope(items(&[&issuer.licence("C1")]));
    let fresh = store
        .intake_reads(&issuer.uscc, &digest_value(&first), &[], &[])
        .await
        .expect("read");
    assert!(fresh.registered);
    assert!(fresh.head.is_none() && fresh.receipt.is_none());
    assert_eq!(fresh.grants.len(), 1);
    // A second grant: every grant is read with the head, in the order `authorisations` gives.
    let mut second = fresh.grants[0].clone();
    second.id = format!("{}-second", second.id);
    second.granted_at += chrono::Duration::seconds(1);
    store.insert_authorisation(&second).await.expect("grant");
    let both = store
        .intake_reads(&issuer.uscc, &digest_value(&first), &[], &[])
        .await
        .expect("read");
    let listed = store
        .authorisations(Some(&issuer.uscc))
        .await
        .expect("grants");
    assert_eq!(both.grants.len(), 2);
    assert_eq!(
        both.grants.iter().map(|g| &g.id).collect::<Vec<_>>(),
        listed.iter().map(|g| &g.id).collect::<Vec<_>>()
    );
    assert_eq!(both.grants[1].id, second.id);

    let receipt = app.submit(&first).await;
    assert_eq!(receipt.status(), 201);
    let receipt = receipt.text().await.expect("body");
    issuer.accepted(&first);
    let stored = issuer.licence_id("C1", 1);
    let next = issuer.licence_id("C1", 2);
    let other = issuer.licence_id("C2", 1);
    let ids = [stored.clone(), next, other, stored.clone()];
    let after = store
        .intake_reads(&issuer.uscc, &digest_value(&first), &ids, &[])
        .await
        .expect("read");
    let head = after.head.expect("head after the first envelope");
    assert_eq!(head.sequence, 1);
    assert_eq!(Some(head.digest), issuer.head);
    // Stored without its checkpoint, inclusion proofs, leaf hashes, identifiers and digests;
    // put back, it is the receipt answered.
    let stored_receipt = after.receipt.expect("the earlier receipt");
    for gone in ["checkpoint", "inclusionProof", "leafHash", stored.as_str()] {
        assert!(!stored_receipt.contains(gone), "{gone} is not stored");
    }
    let original = elicence::submissions::repeat::original_receipt(store, stored_receipt)
        .await
        .expect("proofs from the tree");
    assert_eq!(original, receipt, "byte for byte");
    // The tree's level 0 is the leaf hash, read from the leaf (not stored twice).
    let leaf = store.log_entries(0, 1).await.expect("read").remove(0);
    let level0 = elicence::log::merkle::NodeId { level: 0, index: 0 };
    let nodes = store.log_nodes(&[level0]).await.expect("read");
    assert_eq!(nodes.get(&level0), Some(&leaf.leaf_hash));
    assert_eq!(after.chains.len(), 1);
    assert_eq!(after.chains[&stored.base()].head, stored);
    assert_eq!(after.existing.into_iter().collect::<Vec<_>>(), vec![stored]);
}

/// Kills every server connection of the application (as a database restart would) and submits
/// at once: the answer is the receipt or a 503 with `Retry-After`, never a 500, and a retry
/// stores the envelope exactly once.
async fn dead_connections_cost_at_most_a_503(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA0000092").await;
    let envelope = issuer.envelope(items(&[&issuer.licence("D1")]));
    if app.backend == Backend::Postgres {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&app.settings.database_url)
            .await
            .expect("connect");
        let killed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&mut admin)
        .await
        .expect("terminate");
        assert!(!killed.is_empty(), "the pool had connections");
    }
    let mut answers = Vec::new();
    loop {
        let response = app.submit(&envelope).await;
        let status = response.status().as_u16();
        if status == 503 {
            assert_eq!(response.headers()["retry-after"], "1");
        }
        answers.push(status);
        if status != 503 || answers.len() == 20 {
            break;
        }
    }
    assert!(
        matches!(answers.last(), Some(201 | 200))
            && answers.iter().all(|s| matches!(s, 503 | 201 | 200)),
        "{answers:?}"
    );
    issuer.accepted(&envelope);
    let path = format!("/v1/issuers/{}/head", issuer.uscc);
    let head = json_with_status(app.get(&path).await, 200).await;
    assert_eq!(head["sequence"], json!(1));
    assert_eq!(head["digest"], json!(issuer.head));
    assert_eq!(app.state.store.log_size().await.expect("size"), 1);
}
