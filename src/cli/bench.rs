//! `elicence bench …`: load generators against a running registry, bounded in count and time.
//!
//! - `submit`: registers issuers, signs every licence and envelope *before* timing, then posts
//!   each issuer's chain in order (one task per issuer, `--concurrency` at once) and reports
//!   accepted licences/s, envelopes/s and receipt latency, next to the in-process cost of one
//!   eddsa-jcs-2022 verification of one of the same licences.
//! - `directory`: hammers `GET /v1/licence-types` for a fixed time.
//! - `forged`: the cost of refusing a large envelope whose signature is wrong.
//!
//! The client runs on the command's own runtime; requests are pre-serialised so that the client
//! does little more than move bytes. Build with `--release` for meaningful numbers.

mod applications;
mod directory;
mod fixtures;
mod forged;
mod proofs;
mod scale;
mod signatures;
mod verify;
mod wire;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use ed25519_dalek::VerifyingKey;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use super::client::{problem, Registry, Submitted};
use crate::crypto::proof;
use crate::domain::identifiers::{DivisionCode, TypeCode};

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Submission throughput: pre-signed envelopes from many issuers.
    Submit(SubmitBench),
    /// Directory read throughput: GET /v1/licence-types.
    Directory(directory::DirectoryBench),
    /// Inclusion-proof latency at the log's current size.
    Proofs(proofs::ProofBench),
    /// Application checks per second, three referenced licences each.
    Applications(applications::ApplicationBench),
    /// Verification throughput: in process, POST /v1/verify and POST /v1/verify/batch.
    Verify(verify::VerifyBench),
    /// Ed25519 per signature in process: one by one, and batched two ways.
    Signatures(signatures::SignatureBench),
    /// What refusing a large envelope with a bad signature costs, one at a time.
    Forged(forged::ForgedBench),
    /// Trust bundle, status lists and offline verification at a registry size, in process.
    Scale(scale::ScaleBench),
}

/// `bench submit`.
#[derive(Debug, Args)]
pub struct SubmitBench {
    #[command(flatten)]
    registry: crate::cli::args::RegistryArgs,
    #[command(flatten)]
    operator: crate::cli::args::OperatorArgs,
    /// Issuers to register, one chain each.
    #[arg(long, default_value_t = 16)]
    issuers: usize,
    /// Licences in each envelope.
    #[arg(long, default_value_t = 1)]
    licences_per_envelope: usize,
    /// Envelopes per issuer (total = issuers × envelopes).
    #[arg(long, default_value_t = 50)]
    envelopes: usize,
    /// Issuer chains submitting at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// The licence type (default: the first published person-held type with a sample subject).
    #[arg(long)]
    type_code: Option<TypeCode>,
    /// Division the licences belong to (and the authorisations cover).
    #[arg(long, default_value = "220100")]
    jurisdiction: DivisionCode,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs a benchmark.
pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Submit(args) => submit(args).await,
        BenchCommand::Directory(args) => directory::directory(args).await,
        BenchCommand::Proofs(args) => proofs::proofs(args).await,
        BenchCommand::Applications(args) => applications::applications(args).await,
        BenchCommand::Verify(args) => verify::verify(args).await,
        BenchCommand::Signatures(args) => signatures::signatures(args),
        BenchCommand::Forged(args) => forged::forged(args).await,
        BenchCommand::Scale(args) => scale::scale(args).await,
    }
}

/// What one issuer's task saw.
#[derive(Default)]
struct ChainRun {
    accepted: usize,
    latencies: Vec<Duration>,
    failure: Option<String>,
}

async fn submit(args: SubmitBench) -> anyhow::Result<()> {
    if args.issuers == 0 || args.envelopes == 0 || args.licences_per_envelope == 0 {
        bail!("--issuers, --envelopes and --licences-per-envelope must be at least 1");
    }
    let registry = args.registry.operator(&args.operator)?;
    let public_url = args.registry.public_url().to_owned();
    let chosen = fixtures::choose_type(&registry, args.type_code.as_ref()).await?;
    eprintln!(
        "licence type {} (schema version {})",
        chosen.code, chosen.schema_version
    );

    let mut chains = Vec::with_capacity(args.issuers);
    let mut sample = None;
    for i in 0..args.issuers {
        let issuer = fixtures::register_issuer(&registry, &chosen, &args.jurisdiction, i)
            .await
            .with_context(|| format!("registering issuer {i}"))?;
        let (envelopes, licence) = fixtures::presign(
            &issuer,
            i,
            &chosen,
            &args.jurisdiction,
            &public_url,
            args.envelopes,
            args.licences_per_envelope,
        )?;
        sample.get_or_insert((licence, issuer.key.verifying_key()));
        chains.push(envelopes);
    }
    eprintln!(
        "{} issuers registered; {} envelopes signed; submitting…",
        args.issuers,
        args.issuers * args.envelopes
    );

    let (runs, wall) = submit_chains(&registry, chains, args.concurrency).await;
    let (licence, key) = sample.expect("at least one issuer, checked above");
    let verify = verify_cost(&licence, &key)?;
    let report = submit_report(&args, &runs, wall, verify);
    print_report(&report, args.json);
    let failures: Vec<&String> = runs.iter().filter_map(|r| r.failure.as_ref()).collect();
    if let Some(first) = failures.first() {
        bail!(
            "{} issuer chain(s) stopped early; first: {first}",
            failures.len()
        );
    }
    Ok(())
}

/// Posts every chain, one task per issuer and its envelopes in order, `concurrency` at once.
async fn submit_chains(
    registry: &Registry,
    chains: Vec<Vec<Vec<u8>>>,
    concurrency: usize,
) -> (Vec<ChainRun>, Duration) {
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let start = Instant::now();
    let tasks: Vec<_> = chains
        .into_iter()
        .map(|envelopes| {
            let registry = registry.clone();
            let gate = Arc::clone(&gate);
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await;
                submit_chain(&registry, envelopes).await
            })
        })
        .collect();
    let mut runs = Vec::with_capacity(tasks.len());
    for task in tasks {
        runs.push(task.await.unwrap_or_else(|e| ChainRun {
            failure: Some(format!("task failed: {e}")),
            ..ChainRun::default()
        }));
    }
    (runs, start.elapsed())
}

async fn submit_chain(registry: &Registry, envelopes: Vec<Vec<u8>>) -> ChainRun {
    let mut run = ChainRun::default();
    for (n, envelope) in envelopes.into_iter().enumerate() {
        let sent = Instant::now();
        let outcome = registry.submit(envelope).await;
        let failure = match outcome {
            Ok(Submitted::Accepted { .. }) => {
                run.latencies.push(sent.elapsed());
                run.accepted += 1;
                continue;
            }
            Ok(Submitted::Conflict(head)) => {
                format!("envelope {}: 409, head {}", n + 1, head.sequence)
            }
            Ok(Submitted::Rejected(body)) => {
                format!(
                    "envelope {}: 422 {} {}",
                    n + 1,
                    problem(&body),
                    body["errors"]
                )
            }
            Err(e) => format!("envelope {}: {e:#}", n + 1),
        };
        run.failure = Some(failure);
        break;
    }
    run
}

/// In-process cost of verifying `licence`: the median over 5 runs of 2,000 verifications.
fn verify_cost(licence: &Value, key: &VerifyingKey) -> anyhow::Result<Duration> {
    const CALLS: u32 = 2_000;
    proof::verify(licence, |_| Some(*key)).context("the sample licence does not verify")?;
    let mut runs: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..CALLS {
                // The result was checked above; only the time matters here.
                let _ = std::hint::black_box(proof::verify(licence, |_| Some(*key)));
            }
            start.elapsed() / CALLS
        })
        .collect();
    runs.sort();
    Ok(runs[runs.len() / 2])
}

fn submit_report(args: &SubmitBench, runs: &[ChainRun], wall: Duration, verify: Duration) -> Value {
    let mut latencies: Vec<Duration> = runs.iter().flat_map(|r| r.latencies.clone()).collect();
    latencies.sort();
    let envelopes: usize = runs.iter().map(|r| r.accepted).sum();
    let licences = envelopes * args.licences_per_envelope;
    let secs = wall.as_secs_f64().max(f64::EPSILON);
    let licences_per_s = licences as f64 / secs;
    let verifies_per_s = 1.0 / verify.as_secs_f64().max(f64::EPSILON);
    json!({
        "benchmark": "submit",
        "issuers": args.issuers,
        "envelopesPerIssuer": args.envelopes,
        "licencesPerEnvelope": args.licences_per_envelope,
        "concurrency": args.concurrency,
        "envelopesAccepted": envelopes,
        "envelopesAttempted": args.issuers * args.envelopes,
        "licencesAccepted": licences,
        "seconds": secs,
        "licencesPerSecond": licences_per_s,
        "envelopesPerSecond": envelopes as f64 / secs,
        "latencyMs": percentiles(&latencies),
        "verifyMicroseconds": verify.as_secs_f64() * 1e6,
        "verifiesPerSecondOneCore": verifies_per_s,
        // Accepted licences/s as a share of what one core does verifying signatures alone.
        "acceptedOverVerifyCapacity": licences_per_s / verifies_per_s,
    })
}

/// p50 / p90 / p99 / max in milliseconds of sorted `latencies`.
fn percentiles(sorted: &[Duration]) -> Value {
    let at = |q: f64| -> Value {
        if sorted.is_empty() {
            return Value::Null;
        }
        let index = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
        json!(sorted[index].as_secs_f64() * 1e3)
    };
    json!({"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": at(1.0)})
}

fn print_report(report: &Value, as_json: bool) {
    if as_json {
        println!("{report}");
        return;
    }
    let ms = |q: &str| {
        report["latencyMs"][q]
            .as_f64()
            .map_or("-".into(), |v| format!("{v:.1}"))
    };
    let f = |k: &str| report[k].as_f64().unwrap_or(0.0);
    let latency = format!(
        "p50 {} ms, p90 {} ms, p99 {} ms",
        ms("p50"),
        ms("p90"),
        ms("p99")
    );
    if report["benchmark"] == "submit" {
        println!(
            "accepted {} of {} envelopes ({} licences) in {:.2} s",
            report["envelopesAccepted"],
            report["envelopesAttempted"],
            report["licencesAccepted"],
            f("seconds")
        );
        println!(
            "licences/s {:.1}   envelopes/s {:.1}",
            f("licencesPerSecond"),
            f("envelopesPerSecond")
        );
        println!("receipt latency: {latency}");
        println!(
            "one eddsa-jcs-2022 verification in process: {:.1} µs ({:.0}/s on one core); \
             accepted licences/s are {:.3} of that",
            f("verifyMicroseconds"),
            f("verifiesPerSecondOneCore"),
            f("acceptedOverVerifyCapacity")
        );
    } else {
        println!(
            "{} requests in {:.2} s ({} errors): {:.1} requests/s",
            report["requests"],
            f("seconds"),
            report["errors"],
            f("requestsPerSecond")
        );
        println!("latency: {latency}");
    }
}

/// `10s`, `500ms`, `2m`, or bare seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?}: expected e.g. 10s, 500ms, 2m"))?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(n)),
        "ms" => Ok(Duration::from_millis(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("{s:?}: unit must be ms, s or m")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_percentiles() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("ten").is_err());
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let p = percentiles(&sorted);
        assert_eq!(p["p50"], 50.0);
        assert_eq!(p["p99"], 99.0);
        assert_eq!(percentiles(&[])["p50"], Value::Null);
    }
}
