//! Durability: the service process is SIGKILLed while issuers submit, then restarted
//! over the same data. Every receipt handed out before the kill must still stand: the envelope
//! answers as a repeat with the identical receipt, its inclusion proofs lead to a checkpoint of
//! the restarted service, no issuer sequence is lost or duplicated, and the new checkpoints are
//! consistent with every old one.

mod checks;
mod disk_full;
mod issuer;
mod service;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::issuer::Issuer;
use crate::service::DataDir;

/// Concurrent submitters (one issuer each).
const SUBMITTERS: usize = 4;
/// Receipts to collect before the kill.
const BEFORE_KILL: usize = 40;

/// What one submitter saw before the process died.
pub struct Submitted {
    pub issuer: Issuer,
    /// Acknowledged envelopes, in order, with the receipt text.
    pub acked: Vec<(Value, String)>,
    /// The envelope whose request was cut off by the kill, if any.
    pub in_flight: Option<Value>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_survives_sigkill() {
    survives_sigkill(DataDir::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "PostgreSQL half: set TEST_DATABASE_URL to run it"
)]
async fn postgres_survives_sigkill() {
    let data = DataDir::postgres().await;
    survives_sigkill(data.expect("TEST_DATABASE_URL is set")).await;
}

async fn survives_sigkill(mut data: DataDir) {
    let started = Instant::now();
    let client = reqwest::Client::new();
    let first = data.start().await;
    let mut issuers = Vec::new();
    for i in 0..SUBMITTERS {
        issuers
            .push(Issuer::register(&client, &first.address, &format!("9122010{i}MA00000DK")).await);
    }
    let vkey = checks::text(&client, &format!("{}/v1/log/key", first.address)).await;
    let vkey = vkey.trim();
    let acked = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = issuers
        .into_iter()
        .map(|issuer| {
            tokio::spawn(submit_until_cut(
                client.clone(),
                first.address.clone(),
                issuer,
                acked.clone(),
            ))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while acked.load(Ordering::SeqCst) < BEFORE_KILL && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill();
    let mut submitted = Vec::new();
    for task in tasks {
        submitted.push(task.await.expect("submitter finished"));
    }
    let total: usize = submitted.iter().map(|s| s.acked.len()).sum();
    assert!(
        total >= SUBMITTERS,
        "too few receipts before the kill ({total})"
    );

    let second = data.start().await;
    let restarted = checks::Registry::new(client.clone(), second.address.clone(), vkey).await;
    checks::receipts_stand(&restarted, &submitted).await;
    checks::sequences_exact(&restarted, &submitted).await;
    checks::log_grows_consistently(&restarted, &submitted).await;
    eprintln!(
        "{}: {total} receipts before the kill, {} in flight, {:?}",
        data.backend(),
        submitted.iter().filter(|s| s.in_flight.is_some()).count(),
        started.elapsed()
    );
}

/// Submits envelopes back to back until a request fails (the process was killed).
async fn submit_until_cut(
    client: reqwest::Client,
    base: String,
    issuer: Issuer,
    counter: Arc<AtomicUsize>,
) -> Submitted {
    let mut acked: Vec<(Value, String)> = Vec::new();
    loop {
        let envelope = issuer.envelope(acked.len() as u64 + 1, acked.last().map(|(e, _)| e));
        let response = client
            .post(format!("{base}/v1/submissions"))
            .json(&envelope)
            .send()
            .await;
        let Ok(response) = response else {
            return Submitted {
                issuer,
                acked,
                in_flight: Some(envelope),
            };
        };
        let status = response.status().as_u16();
        let Ok(body) = response.text().await else {
            return Submitted {
                issuer,
                acked,
                in_flight: Some(envelope),
            };
        };
        assert_eq!(status, 201, "submission refused before the kill: {body}");
        acked.push((envelope, body));
        counter.fetch_add(1, Ordering::SeqCst);
    }
}
