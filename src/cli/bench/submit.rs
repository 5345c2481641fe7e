//! `bench submit`: registers issuers, signs every licence and envelope *before* timing, then
//! posts each issuer's chain in order (one task per issuer, `--concurrency` at once) and
//! reports accepted licences/s, envelopes/s, receipt latency and the rate in each tenth of the
//! run (does it fall as the registry grows?), with every rate also as a ratio to the fixed
//! [`baselines`](super::baselines) measured in the same run (the mean of their measurements just
//! before and just after the load) and to the in-process cost of one
//! eddsa-jcs-2022 verification by this code of one of the same licences.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use ed25519_dalek::VerifyingKey;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use super::baselines::{describe_ratios, Baselines};
use super::{describe_latency, fixtures, percentiles};
use crate::cli::client::{problem, Registry, Submitted};
use crate::crypto::proof;
use crate::domain::identifiers::{DivisionCode, TypeCode};

/// The cores of the machines the targets are set for: ratios are to this many times a
/// one-core baseline.
const CORES: f64 = 2.0;

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

/// What one issuer's task saw.
#[derive(Default)]
struct ChainRun {
    accepted: usize,
    latencies: Vec<Duration>,
    /// When each accepted envelope's receipt arrived, from the start of the run.
    finished: Vec<Duration>,
    failure: Option<String>,
}

pub async fn submit(args: SubmitBench) -> anyhow::Result<()> {
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

    let (licence, key) = sample.expect("at least one issuer, checked above");
    let text = serde_json::to_vec(&licence)?;
    // The baselines are measured just before the load and just after it, and averaged: on a
    // shared machine one measurement of a second or so can land in a slow or a quick moment.
    let before = Baselines::measure(&text, &key)?;
    let (runs, wall) = submit_chains(&registry, chains, args.concurrency).await;
    let verify = verify_cost(&licence, &key)?;
    let baselines = before.mean_with(&Baselines::measure(&text, &key)?);
    let report = submit_report(&args, &runs, wall, verify, &baselines);
    print_submit(&report, &baselines, args.json);
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
                submit_chain(&registry, envelopes, start).await
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

async fn submit_chain(registry: &Registry, envelopes: Vec<Vec<u8>>, start: Instant) -> ChainRun {
    let mut run = ChainRun::default();
    for (n, envelope) in envelopes.into_iter().enumerate() {
        let sent = Instant::now();
        let outcome = registry.submit(envelope).await;
        let failure = match outcome {
            Ok(Submitted::Accepted { .. }) => {
                run.latencies.push(sent.elapsed());
                run.finished.push(start.elapsed());
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

fn submit_report(
    args: &SubmitBench,
    runs: &[ChainRun],
    wall: Duration,
    verify: Duration,
    baselines: &Baselines,
) -> Value {
    let mut latencies: Vec<Duration> = runs.iter().flat_map(|r| r.latencies.clone()).collect();
    latencies.sort();
    let mut finished: Vec<Duration> = runs.iter().flat_map(|r| r.finished.clone()).collect();
    finished.sort();
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
        "licencesPerSecondByTenth": by_tenth(&finished, args.licences_per_envelope),
        "latencyMs": percentiles(&latencies),
        "baselines": baselines.json(),
        "licencesOverBaselines": baselines.ratios(licences_per_s, CORES),
        "envelopesOverBaselines": baselines.ratios(envelopes as f64 / secs, CORES),
        "verifyMicroseconds": verify.as_secs_f64() * 1e6,
        "verifiesPerSecondOneCore": verifies_per_s,
        // Accepted licences/s as a share of what one core does verifying licences alone, with
        // this code.
        "acceptedOverVerifyCapacity": licences_per_s / verifies_per_s,
    })
}

/// Licences accepted per second in each tenth of the envelopes, in the order their receipts
/// arrived (`finished`, sorted): whether the rate falls as the registry grows.
fn by_tenth(finished: &[Duration], per_envelope: usize) -> Vec<f64> {
    if finished.len() < 10 {
        return Vec::new();
    }
    let mut rates = Vec::with_capacity(10);
    let mut from = Duration::ZERO;
    for tenth in 1..=10 {
        let (a, b) = (
            (tenth - 1) * finished.len() / 10,
            tenth * finished.len() / 10,
        );
        let until = finished[b - 1];
        let seconds = (until - from).as_secs_f64().max(f64::EPSILON);
        rates.push(((b - a) * per_envelope) as f64 / seconds);
        from = until;
    }
    rates
}

fn print_submit(report: &Value, baselines: &Baselines, as_json: bool) {
    if as_json {
        println!("{report}");
        return;
    }
    let f = |k: &str| report[k].as_f64().unwrap_or(0.0);
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
    if let Some(tenths) = report["licencesPerSecondByTenth"].as_array() {
        let tenths: Vec<String> = tenths
            .iter()
            .map(|r| format!("{:.0}", r.as_f64().unwrap_or(0.0)))
            .collect();
        println!("licences/s by tenth of the run: {}", tenths.join(", "));
    }
    println!(
        "receipt latency: {}",
        describe_latency(&report["latencyMs"])
    );
    println!("{}", baselines.describe());
    println!(
        "licences/s {}",
        describe_ratios(&report["licencesOverBaselines"])
    );
    println!(
        "envelopes/s {}",
        describe_ratios(&report["envelopesOverBaselines"])
    );
    println!(
        "one eddsa-jcs-2022 verification in process (this code): {:.1} µs ({:.0}/s on one core); \
         accepted licences/s are {:.3} of that",
        f("verifyMicroseconds"),
        f("verifiesPerSecondOneCore"),
        f("acceptedOverVerifyCapacity")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_by_tenth_follow_the_receipts() {
        // 20 envelopes of 10 licences: the first ten a second apart, the next ten 0.1 s apart.
        let mut at = Duration::ZERO;
        let finished: Vec<Duration> = (0..20)
            .map(|i| {
                at += if i < 10 {
                    Duration::from_secs(1)
                } else {
                    Duration::from_millis(100)
                };
                at
            })
            .collect();
        let rates = by_tenth(&finished, 10);
        assert_eq!(rates.len(), 10);
        assert!((rates[0] - 10.0).abs() < 1e-9, "{rates:?}");
        assert!((rates[9] - 100.0).abs() < 1e-6, "{rates:?}");
        assert!(by_tenth(&finished[..5], 10).is_empty());
    }
}
