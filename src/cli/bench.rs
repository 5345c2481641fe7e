//! `elicence bench …`: load generators against a running registry, bounded in count and time.
//!
//! - `submit`: registers issuers, signs every licence and envelope *before* timing, then posts
//!   each issuer's chain in order (one task per issuer, `--concurrency` at once) and reports
//!   accepted licences/s, envelopes/s and receipt latency, as ratios to the fixed baselines of
//!   [`baselines`] and to the in-process cost of one eddsa-jcs-2022 verification of one of the
//!   same licences.
//! - `verify`: `POST /v1/verify` and `POST /v1/verify/batch` throughput, with the same ratios.
//! - `directory`: hammers `GET /v1/licence-types` for a fixed time.
//! - `forged`: the cost of refusing a large envelope whose signature is wrong.
//!
//! The client runs on the command's own runtime; requests are pre-serialised so that the client
//! does little more than move bytes. Build with `--release` for meaningful numbers.

mod applications;
mod baselines;
mod chains;
mod crash;
mod crash_checks;
mod directory;
mod faults;
mod fixtures;
mod forged;
mod load;
mod proofs;
pub mod proxy;
mod scale;
mod service;
mod signatures;
mod soak;
mod soak_report;
mod submit;
mod verify;
mod wire;

use std::time::Duration;

use clap::Subcommand;
use serde_json::{json, Value};

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Submission throughput: pre-signed envelopes from many issuers.
    Submit(submit::SubmitBench),
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
    /// SIGKILL the service at random moments under concurrent submissions, restart, check all.
    CrashCycles(crash::CrashCycles),
    /// A long run at a steady ingest rate with verifications beside it: RSS, descriptors, p99.
    Soak(soak::Soak),
    /// The database gone (cut, restarted, disk full) under submissions: 503s, then recovery.
    DbFaults(faults::DbFaults),
    /// Trust bundle, status lists and offline verification at a registry size, in process.
    Scale(scale::ScaleBench),
}

/// Runs a benchmark.
pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Submit(args) => submit::submit(args).await,
        BenchCommand::Directory(args) => directory::directory(args).await,
        BenchCommand::Proofs(args) => proofs::proofs(args).await,
        BenchCommand::Applications(args) => applications::applications(args).await,
        BenchCommand::Verify(args) => verify::verify(args).await,
        BenchCommand::Signatures(args) => signatures::signatures(args),
        BenchCommand::Forged(args) => forged::forged(args).await,
        BenchCommand::CrashCycles(args) => crash::crash_cycles(args).await,
        BenchCommand::Soak(args) => soak::soak(args).await,
        BenchCommand::DbFaults(args) => faults::db_faults(args).await,
        BenchCommand::Scale(args) => scale::scale(args).await,
    }
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

/// Prints a request benchmark's report (`requests`, `seconds`, `errors`, `requestsPerSecond`,
/// `latencyMs`), or its JSON.
fn print_report(report: &Value, as_json: bool) {
    if as_json {
        println!("{report}");
        return;
    }
    let f = |k: &str| report[k].as_f64().unwrap_or(0.0);
    println!(
        "{} requests in {:.2} s ({} errors): {:.1} requests/s",
        report["requests"],
        f("seconds"),
        report["errors"],
        f("requestsPerSecond")
    );
    println!("latency: {}", describe_latency(&report["latencyMs"]));
}

/// `p50 … ms, p90 … ms, p99 … ms` of a [`percentiles`] object.
fn describe_latency(latency: &Value) -> String {
    let ms = |q: &str| {
        latency[q]
            .as_f64()
            .map_or("-".into(), |v| format!("{v:.1}"))
    };
    format!(
        "p50 {} ms, p90 {} ms, p99 {} ms",
        ms("p50"),
        ms("p90"),
        ms("p99")
    )
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
