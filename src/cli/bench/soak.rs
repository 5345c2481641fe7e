//! `bench soak`: the service run for a long time at a steady ingest rate (a fraction of the
//! measured peak) with verification traffic beside it. The service's resident memory and open
//! file descriptors are sampled at a fixed interval, and latencies are summarised per window.
//!
//! The verdict: after the first window, every sample of RSS and of open descriptors stays
//! within `--flat` (10 %) of the first sample taken after it, and every window's p99 latency
//! (submissions and verifications apart) stays within 2× the first window's.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use rand::Rng as _;
use secrecy::SecretString;
use serde_json::{json, Value};

use super::chains::{self, Chain, Licensing};
use super::crash::Backend;
use super::parse_duration;
use super::service::{self, DataDir, PgDatabase};
use super::soak_report::{dir_size, sample, verdict, Sample};
use crate::cli::client::Registry;

/// Recently accepted licences the verification traffic draws from.
const RECENT: usize = 2000;

/// `bench soak`.
#[derive(Debug, Args)]
pub struct Soak {
    #[arg(long, value_enum, default_value = "sqlite")]
    pub backend: Backend,
    /// How long the load runs: `5m`, `60m`.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub duration: Duration,
    /// Latency window; the first one is the baseline.
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    pub window: Duration,
    /// RSS and descriptor sampling interval.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub sample: Duration,
    /// Envelopes per second in all (spread over the issuers).
    #[arg(long)]
    pub rate: f64,
    /// Licences per envelope.
    #[arg(long, default_value_t = 1)]
    pub licences_per_envelope: usize,
    /// Issuers (chains), each submitting at rate / issuers.
    #[arg(long, default_value_t = 16)]
    pub issuers: usize,
    /// `POST /v1/verify` requests per second beside the ingest.
    #[arg(long, default_value_t = 100.0)]
    pub verify_rate: f64,
    /// Largest spread allowed in RSS and descriptors after the first window, as a fraction.
    #[arg(long, default_value_t = 0.10)]
    pub flat: f64,
    /// PostgreSQL server to create a fresh database on (`--backend postgres`).
    #[arg(
        long,
        env = "TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub database_url: String,
}

/// One answered request: seconds since the start, latency in ms, whether it succeeded.
#[derive(Clone, Copy)]
pub struct Point {
    pub at: f32,
    pub ms: f32,
    pub ok: bool,
}

#[derive(Default)]
pub struct Record {
    pub submits: Vec<Point>,
    pub verifies: Vec<Point>,
    recent: VecDeque<Value>,
    pub failures: Vec<String>,
}

type Shared = Arc<Mutex<Record>>;

pub async fn soak(args: Soak) -> anyhow::Result<()> {
    if args.rate <= 0.0 || args.issuers == 0 || args.window.is_zero() || args.sample.is_zero() {
        bail!("--rate, --issuers, --window and --sample must be positive");
    }
    let root = service::scratch("elicence-soak");
    let pg = match args.backend {
        Backend::Postgres => Some(PgDatabase::create(&args.database_url, "soak").await?),
        Backend::Sqlite => None,
    };
    let mut data = match &pg {
        Some(db) => DataDir::new(root.clone(), db.url.clone())?,
        None => DataDir::sqlite(root.clone())?,
    };
    data.env
        .push(("ELICENCE_VERIFY_RATE_LIMIT".into(), "0".into()));
    let outcome = run(&args, &mut data).await;
    if let Some(pg) = pg {
        pg.drop_now().await?;
    }
    let _ = std::fs::remove_dir_all(&root);
    outcome
}

async fn run(args: &Soak, data: &mut DataDir) -> anyhow::Result<()> {
    let service = data.start().await?;
    let pid = service.pid();
    let operator =
        Registry::new(&service.address)?.with_admin_token(SecretString::from(service::ADMIN_TOKEN));
    let (chosen, what) = chains::licensing(&operator).await?;
    let mut chains = Vec::new();
    for i in 0..args.issuers {
        chains.push(Chain::register(&operator, &chosen, &what, i).await?);
    }
    let record: Shared = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let period = Duration::from_secs_f64(args.issuers as f64 / args.rate);
    let mut tasks = Vec::new();
    for chain in chains {
        let (client, what) = (Registry::new(&service.address)?, what.clone());
        let (record, stop, per) = (record.clone(), stop.clone(), args.licences_per_envelope);
        tasks.push(tokio::spawn(async move {
            ingest(chain, client, what, per, period, start, record, stop).await
        }));
    }
    let verifiers = 4;
    if args.verify_rate > 0.0 {
        let period = Duration::from_secs_f64(verifiers as f64 / args.verify_rate);
        for _ in 0..verifiers {
            let client = Registry::new(&service.address)?;
            let (record, stop) = (record.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                verify(client, period, start, record, stop).await;
            }));
        }
    }
    let mut samples = Vec::new();
    let mut next = Duration::ZERO;
    while start.elapsed() < args.duration {
        if start.elapsed() >= next {
            let sample = sample(pid, start)?;
            progress(&sample, &record);
            samples.push(sample);
            next += args.sample;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    samples.push(sample(pid, start)?);
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.context("a load task panicked")?;
    }
    let size = dir_size(&data.root);
    drop(service);
    let record = std::mem::take(&mut *record.lock().expect("record lock"));
    verdict(args, &record, &samples, size)
}

/// One issuer's envelopes at a fixed interval (late ticks are sent at once, then on time).
#[allow(clippy::too_many_arguments)]
async fn ingest(
    mut chain: Chain,
    client: Registry,
    what: Licensing,
    per_envelope: usize,
    period: Duration,
    start: Instant,
    record: Shared,
    stop: Arc<AtomicBool>,
) {
    // Spread the issuers' ticks over one period.
    let offset = period.mul_f64(rand::thread_rng().gen_range(0.0..1.0));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !stop.load(Ordering::SeqCst) {
        ticks.tick().await;
        let signed = match chain.sign_next(&what, per_envelope) {
            Ok(signed) => signed,
            Err(e) => return fail(&record, format!("signing: {e:#}")),
        };
        let body = match serde_json::to_vec(&signed.envelope) {
            Ok(body) => body,
            Err(e) => return fail(&record, format!("serialising: {e}")),
        };
        let sent = Instant::now();
        let outcome = client.submit(body).await;
        let ok = matches!(outcome, Ok(crate::cli::client::Submitted::Accepted { .. }));
        let point = point(start, sent, ok);
        let mut record = record.lock().expect("record lock");
        record.submits.push(point);
        if ok {
            chain.advance(&signed.envelope);
            for licence in signed.licences {
                if record.recent.len() == RECENT {
                    record.recent.pop_front();
                }
                record.recent.push_back(licence);
            }
        } else if record.failures.len() < 20 {
            let what = outcome.map_or_else(|e| format!("{e:#}"), |o| format!("{o:?}"));
            record.failures.push(format!("submission: {what}"));
        }
    }
}

/// Verifications of recently accepted licences at a fixed interval.
async fn verify(
    client: Registry,
    period: Duration,
    start: Instant,
    record: Shared,
    stop: Arc<AtomicBool>,
) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !stop.load(Ordering::SeqCst) {
        ticks.tick().await;
        let licence = {
            let record = record.lock().expect("record lock");
            if record.recent.is_empty() {
                continue;
            }
            let pick = rand::thread_rng().gen_range(0..record.recent.len());
            record.recent[pick].clone()
        };
        let sent = Instant::now();
        let answer = client
            .http()
            .post(client.url("/v1/verify"))
            .json(&json!({"credential": licence}))
            .send()
            .await;
        let ok = match answer {
            Ok(response) if response.status().is_success() => response
                .json::<Value>()
                .await
                .is_ok_and(|v| v["verified"] == true),
            _ => false,
        };
        let point = point(start, sent, ok);
        let mut record = record.lock().expect("record lock");
        record.verifies.push(point);
        if !ok && record.failures.len() < 20 {
            record.failures.push("a verification failed".into());
        }
    }
}

fn point(start: Instant, sent: Instant, ok: bool) -> Point {
    Point {
        at: (sent - start).as_secs_f32(),
        ms: sent.elapsed().as_secs_f32() * 1e3,
        ok,
    }
}

fn fail(record: &Shared, why: String) {
    record.lock().expect("record lock").failures.push(why);
}

fn progress(sample: &Sample, record: &Shared) {
    let record = record.lock().expect("record lock");
    eprintln!(
        "t={:>5.0} s  RSS {:>7} kB (anon {}, file {})  fds {:>4}  submissions {}  verifications {}  failures {}",
        sample.at,
        sample.rss_kb,
        sample.anon_kb,
        sample.file_kb,
        sample.fds,
        record.submits.len(),
        record.verifies.len(),
        record.failures.len()
    );
}
