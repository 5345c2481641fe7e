//! The measurements of `bench soak`: samples of the service process, per-window latencies, and
//! the verdict.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use super::percentiles;
use super::soak::{Point, Record, Soak};

/// Resident memory (kB) and open descriptors of the service at one moment. `VmRSS` is what the
/// verdict judges; its anonymous part (the heap) and its file-backed and shared part (SQLite's
/// WAL index and anything else mapped) are kept apart to tell which one moved.
#[derive(Clone, Copy)]
pub struct Sample {
    pub at: f64,
    pub rss_kb: u64,
    pub anon_kb: u64,
    pub file_kb: u64,
    pub fds: u64,
}

pub fn sample(pid: u32, start: Instant) -> anyhow::Result<Sample> {
    let rss_kb = status_kb(pid, "VmRSS")?;
    let anon_kb = status_kb(pid, "RssAnon")?;
    let file_kb = status_kb(pid, "RssFile")? + status_kb(pid, "RssShmem")?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() as u64;
    Ok(Sample {
        at: start.elapsed().as_secs_f64(),
        rss_kb,
        anon_kb,
        file_kb,
        fds,
    })
}

/// A kB field of a process's `/proc/<pid>/status` (`VmRSS`, `VmHWM`…).
pub fn status_kb(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).context("the service is gone")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

pub fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Per-window latencies, the samples, and the verdict; an error when a criterion fails.
pub fn verdict(args: &Soak, record: &Record, samples: &[Sample], bytes: u64) -> anyhow::Result<()> {
    let window = args.window.as_secs_f64();
    let windows = (args.duration.as_secs_f64() / window).ceil() as usize;
    let summarise = |points: &[Point], w: usize| -> Value {
        let (lo, hi) = (w as f64 * window, (w + 1) as f64 * window);
        let inside: Vec<&Point> = points
            .iter()
            .filter(|p| f64::from(p.at) >= lo && f64::from(p.at) < hi)
            .collect();
        let mut ms: Vec<Duration> = inside
            .iter()
            .filter(|p| p.ok)
            .map(|p| Duration::from_secs_f32(p.ms / 1e3))
            .collect();
        ms.sort();
        let errors = inside.iter().filter(|p| !p.ok).count();
        json!({"count": inside.len(), "perSecond": inside.len() as f64 / window,
               "errors": errors, "latencyMs": percentiles(&ms)})
    };
    let per_window: Vec<Value> = (0..windows)
        .map(|w| {
            json!({"window": w + 1, "submissions": summarise(&record.submits, w),
                   "verifications": summarise(&record.verifies, w)})
        })
        .collect();
    let mut problems = Vec::new();
    for kind in ["submissions", "verifications"] {
        let p99 = |w: &Value| w[kind]["latencyMs"]["p99"].as_f64();
        let Some(first) = per_window.first().and_then(p99) else {
            continue;
        };
        for w in &per_window[1..] {
            if p99(w).is_some_and(|p| p > 2.0 * first) {
                problems.push(format!(
                    "{kind} p99 in window {} over 2× the first",
                    w["window"]
                ));
            }
        }
    }
    let after: Vec<&Sample> = samples.iter().filter(|s| s.at >= window).collect();
    if let Some(reference) = after.first() {
        for (name, get) in [
            ("RSS", (|s: &Sample| s.rss_kb) as fn(&Sample) -> u64),
            ("open descriptors", |s: &Sample| s.fds),
        ] {
            let base = get(reference) as f64;
            let worst = after
                .iter()
                .map(|s| (get(s) as f64 - base).abs() / base.max(1.0))
                .fold(0.0, f64::max);
            if worst > args.flat {
                problems.push(format!(
                    "{name} moved {:.1} % after the first window",
                    worst * 100.0
                ));
            }
        }
    }
    let errors = record.submits.iter().filter(|p| !p.ok).count()
        + record.verifies.iter().filter(|p| !p.ok).count();
    if errors > 0 {
        problems.push(format!("{errors} requests failed: {:?}", record.failures));
    }
    let report = json!({
        "benchmark": "soak", "backend": format!("{:?}", args.backend),
        "seconds": args.duration.as_secs(), "targetEnvelopesPerSecond": args.rate,
        "licencesPerEnvelope": args.licences_per_envelope, "issuers": args.issuers,
        "targetVerificationsPerSecond": args.verify_rate, "dataBytes": bytes,
        "windows": per_window,
        // [seconds, VmRSS, of which anonymous, of which file-backed or shared, descriptors]
        "samples": samples
            .iter()
            .map(|s| json!([s.at.round(), s.rss_kb, s.anon_kb, s.file_kb, s.fds]))
            .collect::<Vec<_>>(),
        "problems": problems,
    });
    println!("{report}");
    for w in report["windows"].as_array().into_iter().flatten() {
        let line = |k: &str| {
            let s = &w[k];
            format!(
                "{:>7.1}/s p50 {:>6.1} p99 {:>6.1} ms ({} errors)",
                s["perSecond"].as_f64().unwrap_or(0.0),
                s["latencyMs"]["p50"].as_f64().unwrap_or(f64::NAN),
                s["latencyMs"]["p99"].as_f64().unwrap_or(f64::NAN),
                s["errors"]
            )
        };
        eprintln!(
            "window {:>2}: submissions {} | verifications {}",
            w["window"],
            line("submissions"),
            line("verifications")
        );
    }
    if !problems.is_empty() {
        bail!("soak criteria not met: {problems:?}");
    }
    eprintln!("soak criteria met");
    Ok(())
}
