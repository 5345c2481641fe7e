//! `bench verify`: verification throughput, in one run:
//! (a) the in-process cost of verifying one licence on one core with this code (strict parse,
//! JCS, hashes, Ed25519); (b) `POST /v1/verify` of full licences; (c) `POST /v1/verify/batch`
//! of `--batch` licences per call; with requests/s, licences/s, p50/p99, the ratios (b)/(2×a)
//! and (c)/(2×a), and every figure also as a ratio to the fixed
//! [`baselines`](super::baselines) measured in the same run: the targets are (b) ≥ 0.5 and
//! (c) ≥ 1.0 × (2 × one core's `verify_strict` signatures/s).
//!
//! Licences are registered first (one issuer, envelopes of 100), and every request is
//! serialised before the clock starts; the load runs on the lean keep-alive client of
//! [`super::wire`], so that the generator takes as little as it can of the cores it shares with
//! the server. The server must not rate-limit the load generator: run it
//! with `ELICENCE_VERIFY_RATE_LIMIT=0`.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use ed25519_dalek::VerifyingKey;
use serde_json::{json, Value};

use super::baselines::{describe_ratios, Baselines};
use super::load::{load, Phase};
use super::{fixtures, parse_duration, percentiles};
use crate::cli::client::{problem, Registry, Submitted};
use crate::crypto::{proof, strict_json};
use crate::domain::identifiers::DivisionCode;

/// Licences per envelope when registering the corpus.
const PER_ENVELOPE: usize = 100;

/// `bench verify`.
#[derive(Debug, Args)]
pub struct VerifyBench {
    #[command(flatten)]
    registry: crate::cli::args::RegistryArgs,
    #[command(flatten)]
    operator: crate::cli::args::OperatorArgs,
    /// Distinct licences to register and verify (a multiple of 100).
    #[arg(long, default_value_t = 2000)]
    licences: usize,
    /// How long each of (b) and (c) runs: `10s`, `500ms`, `2m`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Single-verification requests in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Licences per batch call.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Batch calls in flight.
    #[arg(long, default_value_t = 4)]
    batch_concurrency: usize,
    /// Division the licences belong to.
    #[arg(long, default_value = "220100")]
    jurisdiction: DivisionCode,
    /// The server's process id, when it runs on this machine: each phase then also reports the
    /// CPU time the server spent per request (from /proc), which the noise of a shared machine
    /// disturbs far less than throughput.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Registers the corpus, then measures (a), (b) and (c).
pub async fn verify(args: VerifyBench) -> anyhow::Result<()> {
    let envelopes = args.licences.div_ceil(PER_ENVELOPE).max(1);
    let registry = args.registry.operator(&args.operator)?;
    let public_url = args.registry.public_url().to_owned();
    let chosen = fixtures::choose_type(&registry, None).await?;
    let issuer = fixtures::register_issuer(&registry, &chosen, &args.jurisdiction, 0).await?;
    let (signed, _) = fixtures::presign(
        &issuer,
        0,
        &chosen,
        &args.jurisdiction,
        &public_url,
        envelopes,
        PER_ENVELOPE,
    )?;
    let mut licences = Vec::with_capacity(envelopes * PER_ENVELOPE);
    for envelope in signed {
        let parsed: Value = serde_json::from_slice(&envelope)?;
        for item in parsed["items"]
            .as_array()
            .context("an envelope without items")?
        {
            licences.push(serde_json::to_vec(&item["licence"])?);
        }
        match registry.submit(envelope).await? {
            Submitted::Accepted { .. } => {}
            Submitted::Conflict(head) => {
                bail!("409 registering the corpus: head {}", head.sequence)
            }
            Submitted::Rejected(body) => bail!("422 registering the corpus: {}", problem(&body)),
        }
    }
    eprintln!("{} licences registered; measuring…", licences.len());

    let one = in_process_cost(&licences[0], &issuer.key.verifying_key())?;
    let baselines = Baselines::measure(&licences[0], &issuer.key.verifying_key())?;
    let singles: Vec<Vec<u8>> = licences
        .iter()
        .map(|l| format!("{{\"credential\":{}}}", String::from_utf8_lossy(l)).into_bytes())
        .collect();
    check_verdict(&registry, "/v1/verify", &singles[0]).await?;
    let single = load(
        &registry,
        "/v1/verify",
        singles,
        args.concurrency,
        args.duration,
        args.server_pid,
    )
    .await;
    let batches: Vec<Vec<u8>> = licences
        .chunks(args.batch.max(1))
        .filter(|c| c.len() == args.batch.max(1))
        .map(|chunk| {
            let items: Vec<String> = chunk
                .iter()
                .map(|l| format!("{{\"credential\":{}}}", String::from_utf8_lossy(l)))
                .collect();
            format!("{{\"items\":[{}]}}", items.join(",")).into_bytes()
        })
        .collect();
    if batches.is_empty() {
        bail!("--licences must be at least --batch");
    }
    let batch = load(
        &registry,
        "/v1/verify/batch",
        batches,
        args.batch_concurrency,
        args.duration,
        args.server_pid,
    )
    .await;
    let report = report(&args, licences.len(), one, &baselines, (&single, &batch));
    print(&report, &baselines, args.json);
    for (name, phase) in [("verify", &single), ("batch", &batch)] {
        if let Some(e) = &phase.first_error {
            bail!("{name}: {} failed request(s); first: {e}", phase.errors);
        }
    }
    Ok(())
}

/// (a): strict parse and eddsa-jcs-2022 verification of one licence's bytes; the median over
/// 5 runs of 2,000.
fn in_process_cost(licence: &[u8], key: &VerifyingKey) -> anyhow::Result<Duration> {
    const CALLS: u32 = 2_000;
    let once = || -> anyhow::Result<()> {
        let value = strict_json::parse(licence, usize::MAX)?;
        proof::verify(&value, |_| Some(*key))?;
        Ok(())
    };
    once().context("the sample licence does not verify")?;
    let mut runs: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..CALLS {
                // Checked above; only the time matters here.
                let _ = std::hint::black_box(once());
            }
            start.elapsed() / CALLS
        })
        .collect();
    runs.sort();
    Ok(runs[runs.len() / 2])
}

/// Refuses to measure a server that does not verify the corpus.
async fn check_verdict(registry: &Registry, path: &str, body: &[u8]) -> anyhow::Result<()> {
    let response = post(registry, path, body.to_vec()).await?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() || answer["verified"] != true {
        bail!("{path} did not verify a registered licence ({status}): {answer}");
    }
    Ok(())
}

async fn post(
    registry: &Registry,
    path: &str,
    body: Vec<u8>,
) -> reqwest::Result<reqwest::Response> {
    registry
        .http()
        .post(registry.url(path))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
}

/// The cores of the machines the targets are set for: ratios are to this many times a
/// one-core baseline.
const CORES: f64 = 2.0;

fn report(
    args: &VerifyBench,
    corpus: usize,
    one: Duration,
    baselines: &Baselines,
    (single, batch): (&Phase, &Phase),
) -> Value {
    let a = 1.0 / one.as_secs_f64().max(f64::EPSILON);
    let rate = |p: &Phase| p.latencies.len() as f64 / p.seconds.max(f64::EPSILON);
    let (b, calls) = (rate(single), rate(batch));
    let c = calls * args.batch as f64;
    // CPU microseconds per licence verified, when measured.
    let per = |cpu: Option<f64>, p: &Phase, per_call: usize| {
        cpu.map(|cpu| cpu * 1e6 / (p.latencies.len() * per_call).max(1) as f64)
    };
    let cpu_per = |p: &Phase, per_call: usize| per(p.server_cpu, p, per_call);
    let client_per = |p: &Phase, per_call: usize| per(p.client_cpu, p, per_call);
    json!({
        "benchmark": "verify",
        "licences": corpus,
        "a": {"microseconds": one.as_secs_f64() * 1e6, "licencesPerSecondOneCore": a},
        "b": {"concurrency": args.concurrency, "requests": single.latencies.len(), "errors": single.errors,
              "requestsPerSecond": b, "latencyMs": percentiles(&single.latencies),
              "serverCpuMicrosecondsPerLicence": cpu_per(single, 1),
              "loadGeneratorCpuMicrosecondsPerLicence": client_per(single, 1)},
        "c": {"batch": args.batch, "concurrency": args.batch_concurrency, "calls": batch.latencies.len(),
              "errors": batch.errors, "callsPerSecond": calls, "licencesPerSecond": c,
              "latencyMs": percentiles(&batch.latencies),
              "serverCpuMicrosecondsPerLicence": cpu_per(batch, args.batch),
              "loadGeneratorCpuMicrosecondsPerLicence": client_per(batch, args.batch)},
        "baselines": baselines.json(),
        "aOverBaselines": baselines.ratios(a, 1.0),
        "bOverBaselines": baselines.ratios(b, CORES),
        "cOverBaselines": baselines.ratios(c, CORES),
        "bOver2a": b / (CORES * a),
        "cOver2a": c / (CORES * a),
    })
}

fn print(report: &Value, baselines: &Baselines, as_json: bool) {
    if as_json {
        println!("{report}");
        return;
    }
    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    let ms = |v: &Value, q: &str| f(&v["latencyMs"][q]);
    let (a, b, c) = (&report["a"], &report["b"], &report["c"]);
    println!(
        "(a) in process, one core: {:.1} µs per licence = {:.0} licences/s",
        f(&a["microseconds"]),
        f(&a["licencesPerSecondOneCore"])
    );
    println!(
        "(b) POST /v1/verify ×{}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} errors); (b)/(2×a) = {:.2}",
        b["concurrency"], f(&b["requestsPerSecond"]), ms(b, "p50"), ms(b, "p99"), b["errors"],
        f(&report["bOver2a"])
    );
    println!(
        "(c) POST /v1/verify/batch of {} ×{}: {:.1} calls/s = {:.0} licences/s, p50 {:.1} ms, p99 {:.1} ms ({} errors); (c)/(2×a) = {:.2}",
        c["batch"], c["concurrency"], f(&c["callsPerSecond"]), f(&c["licencesPerSecond"]),
        ms(c, "p50"), ms(c, "p99"), c["errors"], f(&report["cOver2a"])
    );
    println!("{}", baselines.describe());
    for name in ["a", "b", "c"] {
        println!(
            "    ({name}) {}",
            describe_ratios(&report[format!("{name}OverBaselines")])
        );
    }
    for (name, phase) in [("b", b), ("c", c)] {
        if let Some(cpu) = phase["serverCpuMicrosecondsPerLicence"].as_f64() {
            println!("    ({name}) server CPU per licence: {cpu:.1} µs");
        }
        if let Some(cpu) = phase["loadGeneratorCpuMicrosecondsPerLicence"].as_f64() {
            println!("    ({name}) load generator CPU per licence: {cpu:.1} µs");
        }
    }
}
