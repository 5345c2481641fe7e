//! `bench proofs`: inclusion-proof latency at the log's current size, one request at a time
//! (so the figure is the cost of one proof, not of queueing), from random leaf indices.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use rand::Rng;
use serde_json::json;

use super::{percentiles, print_report};
use crate::cli::client::Registry;

/// `bench proofs`.
#[derive(Debug, Args)]
pub struct ProofBench {
    #[command(flatten)]
    registry: crate::cli::args::RegistryArgs,
    /// Proofs to request.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Requests inclusion proofs for random indices against the latest checkpoint's size.
pub async fn proofs(args: ProofBench) -> anyhow::Result<()> {
    let registry = Registry::new(&args.registry.registry_url)?;
    let checkpoint: serde_json::Value = registry
        .http()
        .get(registry.url("/v1/log/checkpoint"))
        .header("accept", "application/json")
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let size = checkpoint["size"]
        .as_u64()
        .context("the checkpoint has no size")?;
    if size == 0 {
        bail!("the log is empty: submit licences first (bench submit)");
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(args.requests);
    let mut proof_lengths = 0usize;
    for _ in 0..args.requests {
        let index = rand::thread_rng().gen_range(0..size);
        let url = registry.url(&format!(
            "/v1/log/proof/inclusion?index={index}&size={size}"
        ));
        let sent = Instant::now();
        let response = registry.http().get(&url).send().await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        latencies.push(sent.elapsed());
        if !status.is_success() {
            bail!("proof for {index} refused: {body}");
        }
        proof_lengths += body["proof"].as_array().map_or(0, Vec::len);
    }
    latencies.sort();
    let report = json!({
        "benchmark": "inclusion proofs",
        "treeSize": size,
        "requests": latencies.len(),
        "meanProofLength": proof_lengths as f64 / latencies.len().max(1) as f64,
        "seconds": latencies.iter().sum::<Duration>().as_secs_f64(),
        "errors": 0,
        "requestsPerSecond": latencies.len() as f64 / latencies.iter().sum::<Duration>().as_secs_f64(),
        "latencyMs": percentiles(&latencies),
    });
    print_report(&report, args.json);
    Ok(())
}
