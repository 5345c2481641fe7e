//! `elicence fetch-bundle --dir DIR`: keeps a directory with the current trust bundle and the
//! status lists it references, fetching only what changed — the bundle when its ETag changed,
//! a list when the bundle pins other bits than the copy held (`docs/offline.md`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Args;
use reqwest::header::{ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;
use serde_json::Value;

use crate::bundle::{bits_digest, open, BundleList, TrustedBundle};
use crate::crypto::strict_json;
use crate::domain::status_list::decode_list;

/// The largest bundle or list read.
const MAX_INPUT: usize = 64 * 1024 * 1024;
/// The bundle's file in the directory; its ETag sits beside it.
pub const BUNDLE_FILE: &str = "bundle.json";
const ETAG_FILE: &str = "bundle.etag";
/// The lists' subdirectory, one `<issuer>-<purpose>-<n>.json` per list.
pub const LISTS_DIR: &str = "status-lists";

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The registry's base URL.
    #[arg(
        long,
        env = "ELICENCE_REGISTRY_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub registry_url: String,
    /// The registry's key (Multikey `z6Mk…`) the bundle must be signed with.
    #[arg(long, env = "ELICENCE_REGISTRY_KEY")]
    pub registry_key: Option<String>,
    /// The directory kept up to date.
    #[arg(long, default_value = "trust")]
    pub dir: PathBuf,
}

/// What one run fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetched {
    /// Whether the bundle was downloaded (false: 304 Not Modified).
    pub bundle: bool,
    /// Lists downloaded, and lists whose held copy still had the pinned bits.
    pub lists: usize,
    pub kept: usize,
}

/// Runs the command.
pub async fn run(args: FetchArgs) -> anyhow::Result<Fetched> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("elicence/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let base = args.registry_url.trim_end_matches('/');
    std::fs::create_dir_all(args.dir.join(LISTS_DIR))
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let (bundle, fetched_bundle) = fetch_bundle(&http, base, &args).await?;
    let mut fetched = Fetched {
        bundle: fetched_bundle,
        lists: 0,
        kept: 0,
    };
    for reference in &bundle.bundle().status_lists {
        let path = args.dir.join(LISTS_DIR).join(file_name(reference));
        if held_bits_match(&path, reference) {
            fetched.kept += 1;
            continue;
        }
        let url = format!(
            "{base}/v1/status-lists/{}/{}/{}",
            reference.issuer,
            reference.purpose.as_str(),
            reference.list
        );
        let response = http.get(&url).send().await?;
        if response.status() != StatusCode::OK {
            bail!("{url}: {}", response.status());
        }
        std::fs::write(&path, response.bytes().await?)
            .with_context(|| format!("writing {}", path.display()))?;
        fetched.lists += 1;
    }
    eprintln!(
        "bundle {}; {} status lists fetched, {} unchanged",
        if fetched.bundle {
            "fetched"
        } else {
            "unchanged"
        },
        fetched.lists,
        fetched.kept
    );
    Ok(fetched)
}

/// The bundle, from the registry unless the held copy's ETag still matches.
async fn fetch_bundle(
    http: &reqwest::Client,
    base: &str,
    args: &FetchArgs,
) -> anyhow::Result<(TrustedBundle, bool)> {
    let bundle_path = args.dir.join(BUNDLE_FILE);
    let etag_path = args.dir.join(ETAG_FILE);
    let mut request = http.get(format!("{base}/v1/trust-bundle"));
    if let (Ok(etag), true) = (std::fs::read_to_string(&etag_path), bundle_path.exists()) {
        request = request.header(IF_NONE_MATCH, etag.trim());
    }
    let response = request.send().await?;
    let fetched = match response.status() {
        StatusCode::NOT_MODIFIED => false,
        StatusCode::OK => {
            let etag = response.headers().get(ETAG).cloned();
            let body = response.bytes().await?;
            let value = strict_json::parse(&body[..], MAX_INPUT).context("reading the bundle")?;
            open(&value, args.registry_key.as_deref()).context("the trust bundle is refused")?;
            std::fs::write(&bundle_path, &body)?;
            match etag.and_then(|e| e.to_str().ok().map(str::to_owned)) {
                Some(etag) => std::fs::write(&etag_path, etag)?,
                None => std::fs::remove_file(&etag_path).or_else(ignore_missing)?,
            }
            true
        }
        other => bail!("GET /v1/trust-bundle: {other}"),
    };
    Ok((
        load_bundle(&bundle_path, args.registry_key.as_deref())?,
        fetched,
    ))
}

/// Reads and opens a bundle file.
pub fn load_bundle(path: &Path, registry_key: Option<&str>) -> anyhow::Result<TrustedBundle> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let value = strict_json::parse(&bytes, MAX_INPUT)
        .with_context(|| format!("reading the bundle {}", path.display()))?;
    open(&value, registry_key).context("the trust bundle is refused")
}

/// Every list credential in `dir` (none when it does not exist).
pub fn load_lists(dir: &Path) -> anyhow::Result<Vec<Value>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut lists = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let bytes = std::fs::read(&path)?;
            let list = strict_json::parse(&bytes, MAX_INPUT)
                .with_context(|| format!("reading {}", path.display()))?;
            lists.push(list);
        }
    }
    Ok(lists)
}

fn file_name(reference: &BundleList) -> String {
    format!(
        "{}-{}-{}.json",
        reference.issuer,
        reference.purpose.as_str(),
        reference.list
    )
}

/// Whether the list held at `path` has the bits the bundle pins.
fn held_bits_match(path: &Path, reference: &BundleList) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    strict_json::parse(&bytes, MAX_INPUT)
        .ok()
        .and_then(|list| {
            list["credentialSubject"]["encodedList"]
                .as_str()
                .and_then(decode_list)
        })
        .is_some_and(|bits| bits_digest(&bits) == reference.digest)
}

fn ignore_missing(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}
