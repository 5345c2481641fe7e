//! `elicence verify --bundle trust/bundle.json [--registry-key z6Mk…] [--receipt …] FILE|-`:
//! offline verification of one licence against a trust bundle and the status lists beside it
//! (`elicence fetch-bundle` keeps both). Exits 0 only when the licence is verified.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::Args;

use super::fetch::{load_bundle, load_lists, LISTS_DIR};
use crate::crypto::strict_json;
use crate::log::registration::Registration;
use crate::verify::offline::{verify_offline, OfflineRegistry, OfflineResult};

/// Largest credential or bundle file read.
pub(super) const MAX_INPUT: usize = 64 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The trust bundle (from `GET /v1/trust-bundle`, or `elicence fetch-bundle`).
    #[arg(long)]
    pub bundle: PathBuf,
    /// The status lists the bundle references [default: `status-lists/` beside the bundle].
    #[arg(long)]
    pub lists: Option<PathBuf>,
    /// The registry's key (Multikey `z6Mk…`) the bundle must be signed with. Without it the
    /// bundle is only checked against the key it names itself: pin the key in production.
    #[arg(long, env = "ELICENCE_REGISTRY_KEY")]
    pub registry_key: Option<String>,
    /// The licence's registration receipt (base64url, from the submission receipt or the
    /// holder's read); an `EL2:` QR payload carries its own.
    #[arg(long, conflicts_with = "qr")]
    pub receipt: Option<String>,
    /// Verify as of this time (RFC 3339) instead of now.
    #[arg(long)]
    pub at: Option<DateTime<Utc>>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// An offline QR payload (`EL2:…` or `EL1:…`, as a scanner reads it) instead of a file.
    #[arg(long, conflicts_with = "file")]
    pub qr: Option<String>,
    /// The signed licence (JSON); `-` reads standard input.
    #[arg(required_unless_present = "qr")]
    pub file: Option<PathBuf>,
}

/// Runs the command; answers whether the licence verified.
pub fn run(args: VerifyArgs) -> anyhow::Result<bool> {
    let bundle = load_bundle(&args.bundle, args.registry_key.as_deref())?;
    let lists_dir = args.lists.clone().unwrap_or_else(|| {
        args.bundle
            .parent()
            .unwrap_or(Path::new("."))
            .join(LISTS_DIR)
    });
    let registry = OfflineRegistry::new(&bundle, &load_lists(&lists_dir)?);
    let (credential, receipt) = match (&args.qr, &args.file) {
        (Some(payload), _) => {
            let payload =
                crate::qr::decode_payload(payload, MAX_INPUT).context("reading the QR payload")?;
            (payload.credential, payload.registration)
        }
        (None, Some(file)) => {
            let credential =
                strict_json::parse(&read(file)?, MAX_INPUT).context("reading the licence")?;
            let receipt = args
                .receipt
                .as_deref()
                .map(Registration::decode)
                .transpose()
                .context("reading --receipt")?;
            (credential, receipt)
        }
        (None, None) => anyhow::bail!("give a licence FILE, - for standard input, or --qr"),
    };
    let at = args.at.unwrap_or_else(Utc::now);
    let result = verify_offline(&credential, receipt.as_ref(), &registry, at);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", human(&result, args.registry_key.is_none()));
    }
    Ok(result.verified())
}

pub(super) fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin().read_to_end(&mut bytes)?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(bytes)
}

/// The result for a person: verdict, licence, each check, warnings.
pub fn human(result: &OfflineResult, unpinned: bool) -> String {
    let mut out = String::new();
    let verdict = if result.verified() {
        "VERIFIED 验证通过"
    } else {
        "NOT VERIFIED 验证未通过"
    };
    out.push_str(&format!(
        "{verdict} (offline, registry state as of {})\n",
        result.as_of
    ));
    let s = &result.verification.summary;
    let or = |v: Option<&str>| v.unwrap_or("?").to_owned();
    out.push_str(&format!("licence  {}\n", or(s.identifier.as_deref())));
    out.push_str(&format!(
        "type     {} {}\n",
        or(s.type_code.as_ref().map(|c| c.as_str())),
        s.type_name.as_ref().map_or("", |n| n.zh.as_ref())
    ));
    out.push_str(&format!(
        "issuer   {} {}\n",
        or(s.issuer_uscc.as_ref().map(|u| u.as_str())),
        s.issuer_name.as_deref().unwrap_or("")
    ));
    out.push_str(&format!(
        "valid    {} – {}\n",
        or(s.valid_from.as_deref()),
        or(s.valid_until.as_deref())
    ));
    for c in result.checks() {
        let mark = if c.ok { "ok  " } else { "FAIL" };
        out.push_str(&format!(
            "  {mark} {:<15} {:<26} {} / {}\n",
            c.name, c.code, c.message.en, c.message.zh
        ));
    }
    for w in &result.warnings {
        out.push_str(&format!(
            "warning: {} ({}) / {}\n",
            w.message.en, w.code, w.message.zh
        ));
    }
    if unpinned {
        out.push_str("warning: no --registry-key given: the bundle's signer was not pinned\n");
    }
    out
}
