//! `bench db-faults`: the database goes away while issuers submit, then comes back, and the
//! service must cope without a restart:
//!
//! - `unreachable`: PostgreSQL behind a [`Proxy`] that is cut (every connection closed, new
//!   ones refused) and restored;
//! - `restart`: PostgreSQL stopped and started by `--down-cmd` / `--up-cmd` (a private server:
//!   `benches/db_faults.sh` makes one with `initdb` and `pg_ctl`);
//! - `disk-full`: SQLite in `--data-dir` (a small tmpfs) whose free space is filled up, then
//!   freed.
//!
//! While the fault lasts every answer must be a 201/200, or a 503 problem with `Retry-After`;
//! `/ready` must say 503 while PostgreSQL is gone; afterwards the service must take envelopes
//! again by itself. Then every acknowledged envelope must stand ([`Checker`]), and for SQLite
//! `PRAGMA integrity_check` must answer `ok`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use clap::{Args, ValueEnum};
use secrecy::SecretString;
use serde_json::Value;

use super::chains::{self, Chain, Licensing};
use super::crash::Track;
use super::crash_checks::Checker;
use super::parse_duration;
use super::proxy::{self, Proxy};
use super::service::{self, DataDir, PgDatabase};
use crate::cli::client::Registry;

/// The longest a refusal may take, in seconds.
const MAX_REFUSAL: f64 = 3.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Fault {
    Unreachable,
    Restart,
    DiskFull,
}

/// `bench db-faults`.
#[derive(Debug, Args)]
pub struct DbFaults {
    #[arg(long, value_enum)]
    fault: Fault,
    /// How long the fault lasts.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    down: Duration,
    /// Concurrent issuers.
    #[arg(long, default_value_t = 4)]
    issuers: usize,
    /// PostgreSQL server to create a fresh database on (`unreachable`, `restart`).
    #[arg(
        long,
        env = "TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Shell command that stops the PostgreSQL server (`restart`).
    #[arg(long)]
    down_cmd: Option<String>,
    /// Shell command that starts it again (`restart`).
    #[arg(long)]
    up_cmd: Option<String>,
    /// Directory on a small file system for the SQLite data (`disk-full`).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// What the observers saw: answers by phase and `/ready` statuses.
#[derive(Default, Debug)]
struct Seen {
    /// (phase, status, code) → count; phase 0 before, 1 during, 2 after the fault.
    answers: BTreeMap<(u8, u16, String), usize>,
    ready: BTreeMap<(u8, u16), usize>,
    bad: Vec<String>,
    /// The longest a 503 (submission or `/ready`) took to arrive, in seconds.
    slowest_refusal: f64,
}

pub async fn db_faults(args: DbFaults) -> anyhow::Result<()> {
    let mut proxy = None;
    let mut pg = None;
    let mut data = match args.fault {
        Fault::DiskFull => {
            let dir = args
                .data_dir
                .clone()
                .context("disk-full needs --data-dir")?;
            let mut data =
                DataDir::sqlite(dir.join(format!("run-{}", uuid::Uuid::new_v4().simple())))?;
            // The log must not share the file system that is filled up.
            data.log_dir = service::scratch("elicence-faults-log");
            std::fs::create_dir_all(&data.log_dir)?;
            data
        }
        Fault::Unreachable | Fault::Restart => {
            let db = PgDatabase::create(&args.database_url, "faults").await?;
            let mut url = db.url.clone();
            if args.fault == Fault::Unreachable {
                let (_, upstream) = proxy::redirect(&url, 0)?;
                let p = Proxy::start(upstream).await?;
                url = proxy::redirect(&url, p.port)?.0;
                proxy = Some(p);
            }
            pg = Some(db);
            DataDir::new(service::scratch("elicence-faults"), url)?
        }
    };
    let outcome = run(&args, &mut data, proxy.as_ref()).await;
    drop(proxy);
    if let Some(db) = pg {
        db.drop_now().await?;
    }
    if outcome.is_ok() {
        let _ = std::fs::remove_dir_all(&data.root);
        let _ = std::fs::remove_dir_all(&data.log_dir);
    } else {
        eprintln!(
            "data kept in {}, service log in {}",
            data.root.display(),
            data.log_dir.display()
        );
    }
    outcome
}

async fn run(args: &DbFaults, data: &mut DataDir, proxy: Option<&Proxy>) -> anyhow::Result<()> {
    let service = data.start().await?;
    let base = service.address.clone();
    let operator = Registry::new(&base)?.with_admin_token(SecretString::from(service::ADMIN_TOKEN));
    let (chosen, what) = chains::licensing(&operator).await?;
    let mut tracks = Vec::new();
    for i in 0..args.issuers {
        tracks.push(Track {
            chain: Chain::register(&operator, &chosen, &what, i).await?,
            acked: Vec::new(),
            in_flight: None,
            instance: 0,
            failure: None,
        });
    }
    let mut checker = Checker::new(&base).await?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let phase = Arc::new(std::sync::atomic::AtomicU8::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for track in tracks {
        let (client, what) = (Registry::new(&base)?, what.clone());
        let (seen, phase, stop) = (seen.clone(), phase.clone(), stop.clone());
        tasks.push(tokio::spawn(submit(track, client, what, seen, phase, stop)));
    }
    let watcher = tokio::spawn(watch_ready(
        Registry::new(&base)?,
        seen.clone(),
        phase.clone(),
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let filler = data.root.join("filler");
    phase.store(1, Ordering::SeqCst);
    match args.fault {
        Fault::Unreachable => proxy.context("a proxy")?.cut(),
        Fault::Restart => shell(args.down_cmd.as_deref().context("--down-cmd")?).await?,
        Fault::DiskFull => fill(&filler)?,
    }
    eprintln!("fault on: {:?} for {:?}", args.fault, args.down);
    tokio::time::sleep(args.down).await;
    match args.fault {
        Fault::Unreachable => proxy.context("a proxy")?.restore().await?,
        Fault::Restart => shell(args.up_cmd.as_deref().context("--up-cmd")?).await?,
        Fault::DiskFull => std::fs::remove_file(&filler)?,
    }
    let restored = Instant::now();
    phase.store(2, Ordering::SeqCst);
    eprintln!("fault off");
    let recovery = recovered(&base, &seen, restored).await;
    if recovery.is_err() {
        let seen = seen.lock().expect("seen lock");
        eprintln!(
            "answers: {:?}\n/ready: {:?}\n{:?}",
            seen.answers, seen.ready, seen.bad
        );
    }
    let recovery = recovery?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    let mut tracks = Vec::new();
    for task in tasks {
        tracks.push(task.await.context("a submitter panicked")?);
    }
    watcher.await?;
    let seen = std::mem::take(&mut *seen.lock().expect("seen lock"));
    println!(
        "answers (phase 0 before, 1 during, 2 after the fault): {:?}",
        seen.answers
    );
    println!("/ready: {:?}", seen.ready);
    println!("recovered {recovery:.2} s after the fault ended");
    println!("slowest 503: {:.2} s", seen.slowest_refusal);
    ensure!(
        seen.slowest_refusal <= MAX_REFUSAL,
        "a 503 took {:.1} s: clients hang instead of being told to retry",
        seen.slowest_refusal
    );
    ensure!(seen.bad.is_empty(), "unexpected answers: {:?}", seen.bad);
    if let Some(failed) = tracks.iter().find_map(|t| t.failure.clone()) {
        bail!("a submitter failed: {failed}");
    }
    let refused: usize = seen
        .answers
        .iter()
        .filter(|((p, s, _), _)| *p == 1 && *s == 503)
        .map(|(_, n)| n)
        .sum();
    ensure!(refused > 0, "no 503 while the fault lasted");
    if args.fault != Fault::DiskFull {
        ensure!(
            seen.ready.contains_key(&(1, 503)),
            "/ready never said 503 while the database was gone"
        );
    }
    let report = checker.after_restart(&base, &[], &tracks).await?;
    let acked: usize = tracks.iter().map(|t| t.acked.len()).sum();
    println!("{acked} envelopes acknowledged, none lost: {report}");
    drop(service);
    if args.fault == Fault::DiskFull {
        integrity(&data.database_url).await?;
    }
    Ok(())
}

/// Submits until stopped; a 503 leaves the envelope to be sent again shortly.
async fn submit(
    mut track: Track,
    client: Registry,
    what: Licensing,
    seen: Arc<Mutex<Seen>>,
    phase: Arc<std::sync::atomic::AtomicU8>,
    stop: Arc<AtomicBool>,
) -> Track {
    while !stop.load(Ordering::SeqCst) && track.failure.is_none() {
        let signed = match track.in_flight.take() {
            Some(s) => s,
            None => match track.chain.sign_next(&what, 2) {
                Ok(s) => s,
                Err(e) => {
                    track.failure = Some(format!("{e:#}"));
                    break;
                }
            },
        };
        let now = phase.load(Ordering::SeqCst);
        let started = Instant::now();
        let sent = client
            .http()
            .post(client.url("/v1/submissions"))
            .json(&signed.envelope)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                track.failure = Some(format!("no answer: {e}"));
                break;
            }
        };
        let status = response.status().as_u16();
        let retry = response.headers().contains_key("retry-after");
        let problem = response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let code = body["code"].as_str().unwrap_or("").to_owned();
        {
            let mut s = seen.lock().expect("seen lock");
            *s.answers.entry((now, status, code.clone())).or_default() += 1;
            if status == 503 {
                s.slowest_refusal = s.slowest_refusal.max(started.elapsed().as_secs_f64());
            }
            let refused = status == 503 && retry && problem && !code.is_empty();
            if !matches!(status, 200 | 201) && !refused {
                s.bad.push(format!(
                    "phase {now}: envelope {} after {:?} (acknowledged {}): {status} {body}",
                    signed.envelope["sequence"],
                    signed.envelope["previous"],
                    track.acked.len()
                ));
            }
        }
        match status {
            200 | 201 => {
                track.chain.advance(&signed.envelope);
                track.acked.push((signed, body));
            }
            503 if retry && problem && !code.is_empty() => {
                track.in_flight = Some(signed);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            _ => {
                track.in_flight = Some(signed);
                track.failure = Some(format!("{status} {code}"));
            }
        }
    }
    track
}

/// Polls `/ready` every 100 ms.
async fn watch_ready(
    client: Registry,
    seen: Arc<Mutex<Seen>>,
    phase: Arc<std::sync::atomic::AtomicU8>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::SeqCst) {
        let now = phase.load(Ordering::SeqCst);
        let started = Instant::now();
        let status = match client.http().get(client.url("/ready")).send().await {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        };
        {
            let mut s = seen.lock().expect("seen lock");
            *s.ready.entry((now, status)).or_default() += 1;
            if status == 503 {
                s.slowest_refusal = s.slowest_refusal.max(started.elapsed().as_secs_f64());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Seconds from the end of the fault until `/ready` says 200 and a submission is accepted.
async fn recovered(base: &str, seen: &Mutex<Seen>, since: Instant) -> anyhow::Result<f64> {
    let client = Registry::new(base)?;
    let deadline = since + Duration::from_secs(60);
    loop {
        let ready = client.http().get(client.url("/ready")).send().await;
        let ready = ready.is_ok_and(|r| r.status().is_success());
        let accepted = seen
            .lock()
            .expect("seen lock")
            .answers
            .iter()
            .any(|((p, s, _), _)| *p == 2 && (*s == 201 || *s == 200));
        if ready && accepted {
            return Ok(since.elapsed().as_secs_f64());
        }
        ensure!(Instant::now() < deadline, "no recovery within 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn shell(command: &str) -> anyhow::Result<()> {
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .status()
        .await?;
    ensure!(status.success(), "{command:?} failed: {status}");
    Ok(())
}

/// Writes `path` until the file system is full.
fn fill(path: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path)?;
    let block = vec![0u8; 64 * 1024];
    loop {
        match file.write(&block) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => return Err(e.into()),
        }
    }
    let _ = file.sync_all();
    Ok(())
}

/// `PRAGMA integrity_check` on the SQLite database at `url`.
async fn integrity(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect(url).await?;
    let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?;
    let answer: Vec<String> = rows.into_iter().map(|r| r.0).collect();
    ensure!(answer == ["ok"], "integrity_check: {answer:?}");
    println!("PRAGMA integrity_check: ok");
    Ok(())
}
