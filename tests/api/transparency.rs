//! The transparency log across batches and service instances: consistency between every
//! checkpoint, proofs refused past the log's size, and two instances over one PostgreSQL
//! database producing one log.

use std::collections::HashSet;

use elicence::log::merkle::{verify_consistency, verify_inclusion};
use serde_json::Value;

use crate::on_both_backends;
use crate::support::app::{assert_problem, json_with_status, spawn_two_instances, TestApp};
use crate::support::signing::{items, setup_issuer};
use crate::support::submissions::{accept, hash, hashes, open_checkpoint, verify_receipt};

on_both_backends!(
    consistency_between_checkpoints,
    proofs_past_the_log_are_refused
);

async fn consistency_between_checkpoints(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA000001A").await;
    let mut notes = Vec::new();
    for round in 0..6 {
        let serials: Vec<String> = (0..=round).map(|i| format!("K{round}X{i}")).collect();
        let licences: Vec<Value> = serials.iter().map(|s| issuer.licence(s)).collect();
        let receipt = accept(
            &app,
            &mut issuer,
            items(&licences.iter().collect::<Vec<_>>()),
        )
        .await;
        verify_receipt(&app, &receipt).await;
        notes.push(receipt["checkpoint"].as_str().expect("note").to_owned());
    }
    check_consistency(&app, &notes).await;
}

/// Every pair of checkpoints is consistent, by proofs the log serves.
async fn check_consistency(app: &TestApp, notes: &[String]) {
    let mut checkpoints = Vec::new();
    for note in notes {
        checkpoints.push(open_checkpoint(app, note).await);
    }
    checkpoints.sort_by_key(|c| c.size);
    checkpoints.dedup_by_key(|c| c.size);
    for (i, old) in checkpoints.iter().enumerate() {
        for new in &checkpoints[i..] {
            let path = format!(
                "/v1/log/proof/consistency?from={}&to={}",
                old.size, new.size
            );
            let proof = json_with_status(app.get(&path).await, 200).await;
            verify_consistency(
                old.size,
                new.size,
                &hashes(&proof["proof"]),
                &old.root,
                &new.root,
            )
            .unwrap_or_else(|e| panic!("{} → {}: {e}", old.size, new.size));
        }
    }
}

async fn proofs_past_the_log_are_refused(app: TestApp) {
    let mut issuer = setup_issuer(&app, "91220101MA000001B").await;
    let first = items(&[&issuer.licence("Z1")]);
    accept(&app, &mut issuer, first).await;
    assert_problem(
        app.get("/v1/log/proof/inclusion?index=0&size=2").await,
        400,
        "size_beyond_log",
    )
    .await;
    assert_problem(
        app.get("/v1/log/proof/consistency?from=1&to=2").await,
        400,
        "size_beyond_log",
    )
    .await;
    assert_problem(
        app.get("/v1/log/proof/inclusion?index=1&size=1").await,
        400,
        "proof_range",
    )
    .await;
    assert_problem(
        app.get("/v1/log/entries?start=0&count=1001").await,
        400,
        "invalid_query",
    )
    .await;
}

/// Two service instances over one PostgreSQL database, many issuers submitting through both at
/// once: every receipt verifies, against its own checkpoint and the final one, and every
/// checkpoint any instance signed is consistent with every other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL half: set TEST_DATABASE_URL to run it"
)]
async fn two_instances_over_one_postgres_make_one_log() {
    let Some((a, b)) = spawn_two_instances().await else {
        panic!("TEST_DATABASE_URL is set but no database could be created");
    };
    const ISSUERS: usize = 6;
    const ROUNDS: usize = 5;
    let mut issuers = Vec::new();
    for i in 0..ISSUERS {
        issuers.push(setup_issuer(&a, &format!("91220101MA00002{i:02}")).await);
    }
    let apps = [&a, &b];
    let tasks = issuers
        .into_iter()
        .enumerate()
        .map(|(i, mut issuer)| async move {
            let mut receipts = Vec::new();
            for round in 0..ROUNDS {
                let app = apps[(i + round) % 2];
                let licences = [
                    issuer.licence(&format!("M{round}")),
                    issuer.licence(&format!("N{round}")),
                ];
                receipts.push(accept(app, &mut issuer, items(&[&licences[0], &licences[1]])).await);
            }
            receipts
        });
    let receipts: Vec<Value> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(receipts.len(), ISSUERS * ROUNDS);
    let final_note = a
        .get("/v1/log/checkpoint")
        .await
        .text()
        .await
        .expect("note");
    let last = open_checkpoint(&a, &final_note).await;
    assert_eq!(
        last.size as usize,
        ISSUERS * ROUNDS * 2,
        "every item is one leaf"
    );
    let mut seen = HashSet::new();
    for receipt in &receipts {
        verify_receipt(&a, receipt).await;
        for item in receipt["items"].as_array().expect("items") {
            let index = item["leafIndex"].as_u64().expect("index");
            assert!(seen.insert(index), "leaf {index} handed out twice");
            let path = format!("/v1/log/proof/inclusion?index={index}&size={}", last.size);
            let proof = json_with_status(b.get(&path).await, 200).await;
            assert_eq!(proof["leafHash"], item["leafHash"]);
            verify_inclusion(
                &hash(&item["leafHash"]),
                index,
                last.size,
                &hashes(&proof["proof"]),
                &last.root,
            )
            .expect("inclusion in the final checkpoint");
        }
    }
    let mut notes: Vec<String> = receipts
        .iter()
        .map(|r| r["checkpoint"].as_str().expect("note").to_owned())
        .collect();
    notes.push(final_note);
    check_consistency(&a, &notes).await;
}
