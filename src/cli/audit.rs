//! `elicence audit --registry URL --state FILE`: an auditor's monitor of the transparency log.
//! Each round fetches the latest checkpoint, checks its signature with the pinned checkpoint
//! key, and checks a consistency proof from the last checkpoint seen; any fork or shrinking
//! tree stops the monitor with both roots. State is saved atomically after every good round.
//! With `--receipt R --licence FILE` it also checks that a registration receipt it was shown is
//! kept: the leaf it names is that licence, under the checkpoint just verified ([`receipt`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::log::checkpoint::{self, Checkpoint};
use crate::log::merkle::{verify_consistency, Hash};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The registry's base URL (`--registry-url` too, as the other commands call it).
    #[arg(
        long,
        alias = "registry-url",
        env = "ELICENCE_REGISTRY_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub registry: String,
    /// Where the monitor keeps the pinned key and the last checkpoint it verified.
    #[arg(long)]
    pub state: PathBuf,
    /// The checkpoint verifier key (C2SP vkey); fetched from `/v1/log/key` and pinned on the
    /// first run when absent.
    #[arg(long)]
    pub vkey: Option<String>,
    /// Time between rounds: `30s`, `5m`, `1h`.
    #[arg(long, default_value = "30s", value_parser = parse_interval)]
    pub interval: Duration,
    /// One round, then exit.
    #[arg(long)]
    pub once: bool,
    /// A registration receipt (base64url) to check against the log each round.
    #[arg(long, requires = "licence")]
    pub receipt: Option<String>,
    /// The signed licence the receipt is for.
    #[arg(long, requires = "receipt")]
    pub licence: Option<PathBuf>,
}

mod receipt;

/// What the monitor remembers between rounds and runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditState {
    pub registry: String,
    pub vkey: String,
    pub size: u64,
    /// Base64 root hash at `size`.
    pub root: String,
    /// The signed checkpoint note last verified.
    pub checkpoint: String,
}

/// Runs rounds until a failure (or once).
pub async fn run(args: AuditArgs) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let base = args.registry.trim_end_matches('/').to_owned();
    loop {
        let state = round(&http, &base, &args.state, args.vkey.as_deref()).await?;
        println!(
            "ok: {} size {} root {}",
            state.registry, state.size, state.root
        );
        if let (Some(text), Some(file)) = (&args.receipt, &args.licence) {
            let index = receipt::check(&http, &base, &state, text, file).await?;
            println!("ok: the receipt's licence is leaf {index} of the log");
        }
        if args.once {
            return Ok(());
        }
        tokio::time::sleep(args.interval).await;
    }
}

/// One round: fetch, verify, compare with the saved state, save.
pub async fn round(
    http: &reqwest::Client,
    base: &str,
    path: &Path,
    vkey: Option<&str>,
) -> anyhow::Result<AuditState> {
    let saved = load(path)?;
    let vkey = match (&saved, vkey) {
        (Some(s), Some(v)) if s.vkey != v => {
            bail!("--vkey differs from the key pinned in {}", path.display())
        }
        (Some(s), _) => s.vkey.clone(),
        (None, Some(v)) => v.to_owned(),
        (None, None) => get(http, &format!("{base}/v1/log/key"))
            .await?
            .trim()
            .to_owned(),
    };
    let note = get(http, &format!("{base}/v1/log/checkpoint")).await?;
    let now = checkpoint::open(&note, &vkey)
        .context("the checkpoint's signature does not verify with the pinned key")?;
    if let Some(old) = &saved {
        check_consistent(http, base, old, &now).await?;
    }
    let state = AuditState {
        registry: base.to_owned(),
        vkey,
        size: now.size,
        root: STANDARD.encode(now.root),
        checkpoint: note,
    };
    save(path, &state)?;
    Ok(state)
}

async fn check_consistent(
    http: &reqwest::Client,
    base: &str,
    old: &AuditState,
    now: &Checkpoint,
) -> anyhow::Result<()> {
    let old_root = decode_hash(&old.root).context("the state file's root is not a base64 hash")?;
    let both = format!(
        "old size {} root {}, new size {} root {}",
        old.size,
        old.root,
        now.size,
        STANDARD.encode(now.root)
    );
    if now.size < old.size {
        bail!("LOG SHRANK: the registry now shows fewer leaves than before ({both})");
    }
    let url = format!(
        "{base}/v1/log/proof/consistency?from={}&to={}",
        old.size, now.size
    );
    let answer: Value =
        serde_json::from_str(&get(http, &url).await?).context("consistency proof JSON")?;
    let proof = answer["proof"]
        .as_array()
        .context("the consistency answer has no proof")?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(decode_hash)
                .context("a proof hash is not base64")
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    verify_consistency(old.size, now.size, &proof, &old_root, &now.root).map_err(|e| {
        anyhow::anyhow!(
            "LOG FORK: the new checkpoint is not an extension of the old one: {e} ({both})"
        )
    })
}

async fn get(http: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let response = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        bail!("GET {url}: {status}: {body}");
    }
    Ok(body)
}

fn decode_hash(b64: &str) -> Option<Hash> {
    Hash::try_from(STANDARD.decode(b64).ok()?).ok()
}

fn load(path: &Path) -> anyhow::Result<Option<AuditState>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("reading {}", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes to a temporary file beside the state, syncs it, and renames it over the state.
fn save(path: &Path, state: &AuditState) -> anyhow::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    file.write_all(&serde_json::to_vec_pretty(state)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// `30s`, `5m`, `1h`, or plain seconds.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let (number, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, ""), |i| s.split_at(i));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("not an interval: {s:?}"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("unknown unit in {s:?}: use s, m or h")),
    };
    if seconds == 0 {
        return Err("the interval must be positive".into());
    }
    Ok(Duration::from_secs(seconds))
}
