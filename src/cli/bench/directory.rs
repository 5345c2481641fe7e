//! `bench directory`: hammers `GET /v1/licence-types` for a fixed time.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use serde_json::json;

use super::{parse_duration, percentiles, print_report};
use crate::cli::client::Registry;

/// `bench directory`.
#[derive(Debug, Args)]
pub struct DirectoryBench {
    #[command(flatten)]
    registry: crate::cli::args::RegistryArgs,
    /// How long to run: `10s`, `500ms`, `2m`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Requests in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub async fn directory(args: DirectoryBench) -> anyhow::Result<()> {
    let registry = Registry::new(&args.registry.registry_url)?;
    let url = registry.url("/v1/licence-types");
    let deadline = Instant::now() + args.duration;
    let start = Instant::now();
    let workers: Vec<_> = (0..args.concurrency.max(1))
        .map(|_| {
            let http = registry.http().clone();
            let url = url.clone();
            tokio::spawn(async move {
                let (mut ok, mut errors) = (Vec::new(), 0usize);
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let response = http.get(&url).send().await;
                    let good = match response {
                        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                        _ => false,
                    };
                    if good {
                        ok.push(sent.elapsed());
                    } else {
                        errors += 1;
                        // Do not spin on a refused connection.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                (ok, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for worker in workers {
        let (ok, failed) = worker.await.context("a worker panicked")?;
        latencies.extend(ok);
        errors += failed;
    }
    let secs = start.elapsed().as_secs_f64();
    latencies.sort();
    let report = json!({
        "benchmark": "directory",
        "concurrency": args.concurrency,
        "seconds": secs,
        "requests": latencies.len(),
        "errors": errors,
        "requestsPerSecond": latencies.len() as f64 / secs,
        "latencyMs": percentiles(&latencies),
    });
    print_report(&report, args.json);
    if latencies.is_empty() {
        bail!("no request succeeded ({errors} errors)");
    }
    Ok(())
}
