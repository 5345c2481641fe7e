//! `elicence verify --bundle bundle.json [--registry-key z6Mk…] FILE|-`: offline verification
//! of one licence against a trust bundle. Exits 0 only when the licence is verified.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::Args;

use crate::bundle::{open, verify_offline, OfflineResult};
use crate::crypto::strict_json;

/// Largest credential or bundle file read.
pub(super) const MAX_INPUT: usize = 64 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The trust bundle (from `GET /v1/trust-bundle`).
    #[arg(long)]
    pub bundle: PathBuf,
    /// The registry's key (Multikey `z6Mk…`) the bundle must be signed with. Without it the
    /// bundle is only checked against the key it names itself: pin the key in production.
    #[arg(long, env = "ELICENCE_REGISTRY_KEY")]
    pub registry_key: Option<String>,
    /// Verify as of this time (RFC 3339) instead of now.
    #[arg(long)]
    pub at: Option<DateTime<Utc>>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// An offline QR payload (`EL1:…`, as a scanner reads it) instead of a file.
    #[arg(long, conflicts_with = "file")]
    pub qr: Option<String>,
    /// The signed licence (JSON); `-` reads standard input.
    #[arg(required_unless_present = "qr")]
    pub file: Option<PathBuf>,
}

/// Runs the command; answers whether the licence verified.
pub fn run(args: VerifyArgs) -> anyhow::Result<bool> {
    let bundle = strict_json::parse(&read(&args.bundle)?, MAX_INPUT)
        .with_context(|| format!("reading the bundle {}", args.bundle.display()))?;
    let bundle =
        open(&bundle, args.registry_key.as_deref()).context("the trust bundle is refused")?;
    let credential = match (&args.qr, &args.file) {
        (Some(payload), _) => {
            crate::qr::decode_offline(payload, MAX_INPUT).context("reading the QR payload")?
        }
        (None, Some(file)) => {
            strict_json::parse(&read(file)?, MAX_INPUT).context("reading the licence")?
        }
        (None, None) => anyhow::bail!("give a licence FILE, - for standard input, or --qr"),
    };
    let result = verify_offline(&credential, &bundle, args.at.unwrap_or_else(Utc::now))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", human(&result, args.registry_key.is_none()));
    }
    Ok(result.verified)
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
    let verdict = if result.verified {
        "VERIFIED 验证通过"
    } else {
        "NOT VERIFIED 验证未通过"
    };
    out.push_str(&format!(
        "{verdict} (offline, registry state as of {})\n",
        result.as_of
    ));
    let l = &result.licence;
    out.push_str(&format!("licence  {}\n", l["id"].as_str().unwrap_or("?")));
    out.push_str(&format!(
        "type     {} {}\n",
        l["typeCode"].as_str().unwrap_or("?"),
        l["typeName"]["zh"].as_str().unwrap_or("")
    ));
    out.push_str(&format!(
        "issuer   {} {}\n",
        l["issuer"]["uscc"].as_str().unwrap_or("?"),
        l["issuer"]["name"].as_str().unwrap_or("")
    ));
    out.push_str(&format!(
        "valid    {} – {}\n",
        l["validFrom"].as_str().unwrap_or("?"),
        l["validUntil"].as_str().unwrap_or("?")
    ));
    for c in &result.checks {
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
