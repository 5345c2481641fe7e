//! `bench forged`: what an envelope with a bad signature costs the registry. Registers one
//! issuer, signs one large envelope of real licences, corrupts the envelope's signature, and
//! posts it `--requests` times one at a time (the figure is the cost of one refusal, not of
//! queueing). Every answer must be the 422 signature refusal.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use serde_json::{json, Value};

use super::{fixtures, percentiles};
use crate::cli::client::{problem, Submitted};
use crate::domain::identifiers::DivisionCode;

/// `bench forged`.
#[derive(Debug, Args)]
pub struct ForgedBench {
    #[command(flatten)]
    registry: crate::cli::args::RegistryArgs,
    #[command(flatten)]
    operator: crate::cli::args::OperatorArgs,
    /// Licences in the envelope (2,500 make about 6 MiB).
    #[arg(long, default_value_t = 2500)]
    licences: usize,
    /// Times to post it.
    #[arg(long, default_value_t = 20)]
    requests: usize,
    /// Division the licences belong to.
    #[arg(long, default_value = "220100")]
    jurisdiction: DivisionCode,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Posts one forged envelope again and again and reports the latency of its refusal.
pub async fn forged(args: ForgedBench) -> anyhow::Result<()> {
    if args.licences == 0 || args.requests == 0 {
        bail!("--licences and --requests must be at least 1");
    }
    let registry = args.registry.operator(&args.operator)?;
    let public_url = args.registry.public_url().to_owned();
    let chosen = fixtures::choose_type(&registry, None).await?;
    let issuer = fixtures::register_issuer(&registry, &chosen, &args.jurisdiction, 0).await?;
    let (mut envelopes, _) = fixtures::presign(
        &issuer,
        0,
        &chosen,
        &args.jurisdiction,
        &public_url,
        1,
        args.licences,
    )?;
    let envelope = forge(&envelopes.pop().context("one envelope was signed")?)?;
    let mut latencies = Vec::with_capacity(args.requests);
    for _ in 0..args.requests {
        let start = Instant::now();
        let answer = registry.submit(envelope.clone()).await?;
        latencies.push(start.elapsed());
        match answer {
            Submitted::Rejected(body) if body["code"] == "signature_invalid" => {}
            Submitted::Rejected(body) => {
                bail!("refused, but not for its signature: {}", problem(&body))
            }
            _ => bail!("a forged envelope was not refused"),
        }
    }
    latencies.sort_unstable();
    let report = json!({
        "benchmark": "forged envelope",
        "envelopeBytes": envelope.len(),
        "licences": args.licences,
        "requests": args.requests,
        "latencyMs": percentiles(&latencies),
        "meanMs": mean_ms(&latencies),
    });
    if args.json {
        println!("{report}");
    } else {
        let ms = |q: &str| report["latencyMs"][q].as_f64().unwrap_or(0.0);
        println!(
            "{} forged envelopes of {} licences ({} bytes) refused: mean {:.1} ms, p50 {:.1} ms, \
             p90 {:.1} ms, max {:.1} ms",
            args.requests,
            args.licences,
            envelope.len(),
            mean_ms(&latencies),
            ms("p50"),
            ms("p90"),
            ms("max")
        );
    }
    Ok(())
}

/// The envelope with its signature's last character changed (same length and alphabet).
fn forge(signed: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut envelope: Value = serde_json::from_slice(signed)?;
    let value = envelope["proof"]["proofValue"]
        .as_str()
        .context("the envelope has a proofValue")?
        .to_owned();
    let last = if value.ends_with('2') { '3' } else { '2' };
    envelope["proof"]["proofValue"] = json!(format!("{}{last}", &value[..value.len() - 1]));
    Ok(serde_json::to_vec(&envelope)?)
}

fn mean_ms(latencies: &[Duration]) -> f64 {
    let total: Duration = latencies.iter().sum();
    total.as_secs_f64() * 1000.0 / latencies.len().max(1) as f64
}
