//! `bench crash-cycles`: concurrent issuers submit while the service is SIGKILLed at a random
//! moment, then restarted over the same data, cycle after cycle. After each restart
//! [`super::crash_checks`] checks, through the restarted service, that every receipt handed out
//! before the kill stands, that no issuer sequence is lost or duplicated, that every checkpoint
//! seen is consistent with the new one, and that the verifier answers as before for every
//! accepted licence.
//!
//! With `--instances 2` (PostgreSQL only) a second instance over the same database and key
//! serves half of the issuers and is never killed: the killed instance dies in the middle of
//! batches while the other keeps writing, and both must serve one log.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use rand::Rng as _;
use secrecy::SecretString;
use serde_json::Value;

use super::chains::{self, Chain, Licensing, Signed};
use super::crash_checks::Checker;
use super::service::{self, DataDir, PgDatabase, Service};
use crate::cli::client::Registry;

/// Which store the service runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `bench crash-cycles`.
#[derive(Debug, Args)]
pub struct CrashCycles {
    #[arg(long, value_enum, default_value = "sqlite")]
    backend: Backend,
    /// Kill-and-restart cycles.
    #[arg(long, default_value_t = 20)]
    cycles: usize,
    /// Concurrent issuers (one chain each).
    #[arg(long, default_value_t = 8)]
    issuers: usize,
    /// Licences per envelope.
    #[arg(long, default_value_t = 2)]
    licences_per_envelope: usize,
    /// Earliest kill after the submitters start, in milliseconds.
    #[arg(long, default_value_t = 300)]
    min_ms: u64,
    /// Latest kill after the submitters start, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    max_ms: u64,
    /// Service instances over the one database (2: PostgreSQL only; only the first is killed).
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// PostgreSQL server to create a fresh database on (`--backend postgres`).
    #[arg(
        long,
        env = "TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
}

/// One issuer's record across the cycles.
pub struct Track {
    pub chain: Chain,
    /// Accepted envelopes in order: the envelope, its licences and its receipt.
    pub acked: Vec<(Signed, Value)>,
    /// The envelope whose request the kill cut off, if any.
    pub in_flight: Option<Signed>,
    /// The instance this issuer submits to.
    pub instance: usize,
    /// Why the submitter stopped other than by the kill or the stop flag.
    pub failure: Option<String>,
}

pub async fn crash_cycles(args: CrashCycles) -> anyhow::Result<()> {
    if args.instances == 0 || args.instances > 2 {
        bail!("--instances is 1 or 2");
    }
    if args.instances == 2 && args.backend != Backend::Postgres {
        bail!("two instances share one PostgreSQL database: --backend postgres");
    }
    if args.min_ms > args.max_ms || args.issuers == 0 || args.licences_per_envelope == 0 {
        bail!("--min-ms ≤ --max-ms, and at least one issuer and one licence per envelope");
    }
    let root = service::scratch("elicence-crash");
    let pg = match args.backend {
        Backend::Postgres => Some(PgDatabase::create(&args.database_url, "crash").await?),
        Backend::Sqlite => None,
    };
    let outcome = run(&args, &root, pg.as_ref().map(|p| p.url.clone())).await;
    if let Some(pg) = pg {
        pg.drop_now().await?;
    }
    if outcome.is_ok() {
        let _ = std::fs::remove_dir_all(&root);
    } else {
        eprintln!("data and service logs kept in {}", root.display());
    }
    outcome
}

async fn run(args: &CrashCycles, root: &std::path::Path, pg: Option<String>) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut dirs = Vec::new();
    for i in 0..args.instances {
        let dir = root.join(format!("instance-{i}"));
        let mut data = match &pg {
            Some(url) => DataDir::new(dir, url.clone())?,
            None => DataDir::sqlite(dir)?,
        };
        // One registry: every instance signs with the first one's key.
        data.keys_dir = root.join("instance-0").join("keys");
        dirs.push(data);
    }
    let mut services: Vec<Service> = Vec::new();
    for data in &mut dirs {
        services.push(data.start().await?);
    }
    let operator = Registry::new(&services[0].address)?
        .with_admin_token(SecretString::from(service::ADMIN_TOKEN));
    let (chosen, what) = chains::licensing(&operator).await?;
    let mut tracks = Vec::new();
    for i in 0..args.issuers {
        tracks.push(Track {
            chain: Chain::register(&operator, &chosen, &what, i).await?,
            acked: Vec::new(),
            in_flight: None,
            instance: i % args.instances,
            failure: None,
        });
    }
    let mut checker = Checker::new(&services[0].address).await?;
    let mut rng = rand::thread_rng();
    let mut total_acked = 0;
    for cycle in 1..=args.cycles {
        let addresses: Vec<String> = services.iter().map(|s| s.address.clone()).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let counter = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = std::mem::take(&mut tracks)
            .into_iter()
            .map(|track| {
                let base = addresses[track.instance].clone();
                let (stop, counter, what) = (stop.clone(), counter.clone(), what.clone());
                let per = args.licences_per_envelope;
                tokio::spawn(submit(track, base, what, per, stop, counter))
            })
            .collect();
        let wait = rng.gen_range(args.min_ms..=args.max_ms);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let before = counter.load(Ordering::SeqCst);
        services.remove(0).kill()?;
        // The other instance keeps taking envelopes while the first is down.
        if args.instances > 1 {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        stop.store(true, Ordering::SeqCst);
        for task in tasks {
            tracks.push(task.await.context("a submitter panicked")?);
        }
        if let Some(failed) = tracks.iter().find_map(|t| t.failure.clone()) {
            bail!("cycle {cycle}: a submitter was refused: {failed}");
        }
        let acked_now: usize = tracks.iter().map(|t| t.acked.len()).sum();
        let in_flight = tracks.iter().filter(|t| t.in_flight.is_some()).count();
        services.insert(0, dirs[0].start().await?);
        let others: Vec<String> = services[1..].iter().map(|s| s.address.clone()).collect();
        let report = checker
            .after_restart(&services[0].address, &others, &tracks)
            .await
            .with_context(|| format!("cycle {cycle}: after the restart"))?;
        println!(
            "cycle {cycle}: killed after {wait} ms ({before} receipts in this cycle before the kill), \
             {} acknowledged envelopes in all, {in_flight} in flight; {report}",
            acked_now
        );
        total_acked = acked_now;
    }
    finish(&mut checker, &services, &mut tracks, &what, args).await?;
    println!(
        "{} cycles on {:?} with {} instance(s): {} envelopes acknowledged ({} licences), all \
         checks passed in {:.0} s",
        args.cycles,
        args.backend,
        args.instances,
        total_acked,
        total_acked * args.licences_per_envelope,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Every issuer extends its chain once more (resolving the envelope cut off by the last kill),
/// then every checkpoint ever seen is checked against the final one.
async fn finish(
    checker: &mut Checker,
    services: &[Service],
    tracks: &mut Vec<Track>,
    what: &Licensing,
    args: &CrashCycles,
) -> anyhow::Result<()> {
    let counter = AtomicUsize::new(0);
    let mut done = Vec::new();
    for mut track in std::mem::take(tracks) {
        let client = Registry::new(&services[track.instance].address)?;
        let target = track.acked.len() + usize::from(track.in_flight.is_some()) + 1;
        while track.acked.len() < target && track.failure.is_none() {
            let cut = AtomicBool::new(false);
            let per = args.licences_per_envelope;
            track = submit_one(track, &client, what, per, &cut, &counter).await;
            if cut.load(Ordering::SeqCst) {
                bail!("the service went away after the last restart");
            }
        }
        if let Some(failed) = &track.failure {
            bail!("the chain could not be extended after the last restart: {failed}");
        }
        done.push(track);
    }
    *tracks = done;
    let others: Vec<String> = services[1..].iter().map(|s| s.address.clone()).collect();
    checker
        .after_restart(&services[0].address, &others, tracks)
        .await
        .context("after the last extension")?;
    checker.all_consistent(&services[0].address).await?;
    Ok(())
}

/// Posts envelopes back to back until the stop flag, a cut connection or a refusal.
async fn submit(
    mut track: Track,
    base: String,
    what: Licensing,
    per_envelope: usize,
    stop: Arc<AtomicBool>,
    counter: Arc<AtomicUsize>,
) -> Track {
    let client = match Registry::new(&base) {
        Ok(client) => client,
        Err(e) => {
            track.failure = Some(format!("{e:#}"));
            return track;
        }
    };
    let cut = AtomicBool::new(false);
    while !stop.load(Ordering::SeqCst) && !cut.load(Ordering::SeqCst) && track.failure.is_none() {
        track = submit_one(track, &client, &what, per_envelope, &cut, &counter).await;
    }
    track
}

/// Posts one envelope: the one cut off earlier if any, else a fresh one. Sets `cut` when the
/// connection fails (the process was killed).
async fn submit_one(
    mut track: Track,
    client: &Registry,
    what: &Licensing,
    per_envelope: usize,
    cut: &AtomicBool,
    counter: &AtomicUsize,
) -> Track {
    let signed = match track.in_flight.take() {
        Some(signed) => signed,
        None => match track.chain.sign_next(what, per_envelope) {
            Ok(signed) => signed,
            Err(e) => {
                track.failure = Some(format!("signing: {e:#}"));
                return track;
            }
        },
    };
    match post(client, &signed.envelope).await {
        Ok((201 | 200, receipt)) => {
            track.chain.advance(&signed.envelope);
            track.acked.push((signed, receipt));
            counter.fetch_add(1, Ordering::SeqCst);
        }
        Ok((status, body)) => {
            track.failure = Some(format!("{status}: {body}"));
            track.in_flight = Some(signed);
        }
        Err(_) => {
            cut.store(true, Ordering::SeqCst);
            track.in_flight = Some(signed);
        }
    }
    track
}

/// POSTs an envelope; an error only when no complete answer arrived.
async fn post(client: &Registry, envelope: &Value) -> anyhow::Result<(u16, Value)> {
    let response = client
        .http()
        .post(client.url("/v1/submissions"))
        .json(envelope)
        .send()
        .await?;
    let status = response.status().as_u16();
    let body: Value = serde_json::from_slice(&response.bytes().await?)?;
    Ok((status, body))
}
