//! `elicence issuer …`: sign licences and submit them, or status changes, to the registry as
//! envelopes on the issuer's hash chain. The building and signing live in [`crate::issuer`];
//! this file reads files and flags, talks HTTP and keeps the chain state file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use serde_json::Value;

use super::args::RegistryArgs;
use super::client::{problem, Registry, Submitted};
use crate::crypto::digest::digest_value;
use crate::crypto::keys::KeyPair;
use crate::crypto::strict_json;
use crate::domain::identifiers::{DivisionCode, LicenceId, TypeCode, Uscc};
use crate::domain::licence::StatusAction;
use crate::domain::status_list::StatusSlot;
use crate::issuer::{self, ChainState, LicenceDraft};

/// Largest JSON file read (a subject, a licence, an item).
const MAX_FILE_BYTES: usize = 1024 * 1024;

/// Issuer commands.
#[derive(Debug, Subcommand)]
pub enum IssuerCommand {
    /// Build and sign a licence (a W3C VC with an eddsa-jcs-2022 proof); prints it or writes --out.
    Sign(SignArgs),
    /// Submit signed licences and status-change items as the next envelope of the chain.
    Submit {
        #[command(flatten)]
        chain: ChainArgs,
        /// Signed licences (VC JSON) or status-change items ({"statusChange": …}), in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Suspend, resume or revoke a licence: build the status change and submit it.
    Status(StatusArgs),
}

/// `issuer sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The issuer's Ed25519 key (PKCS#8 PEM, as `elicence keygen` writes it); required.
    #[arg(long, env = "ELICENCE_ISSUER_KEY")]
    key: Option<PathBuf>,
    /// The issuer's unified social credit code; required.
    #[arg(long, env = "ELICENCE_ISSUER_USCC")]
    issuer_uscc: Option<Uscc>,
    /// The licence type's 21-character code.
    #[arg(long)]
    type_code: TypeCode,
    /// The issuer's serial for this licence (1–32 of 0-9A-Z).
    #[arg(long)]
    serial: String,
    /// The licence version, 1–999; from 2 on --previous is required.
    #[arg(long, default_value_t = 1)]
    version: u16,
    /// The type's schema version the subject follows.
    #[arg(long, default_value_t = 1)]
    schema_version: u32,
    /// JSON file holding the credentialSubject (with id and holderName).
    #[arg(long)]
    subject: PathBuf,
    /// Start of validity: RFC 3339 or YYYY-MM-DD (midnight UTC).
    #[arg(long, value_parser = parse_time)]
    valid_from: DateTime<Utc>,
    /// End of validity: RFC 3339 or YYYY-MM-DD.
    #[arg(long, value_parser = parse_time)]
    valid_until: DateTime<Utc>,
    /// 6-digit administrative division code the licence belongs to.
    #[arg(long)]
    jurisdiction: DivisionCode,
    #[command(flatten)]
    registry: RegistryArgs,
    /// The signed previous version (required from version 2 on).
    #[arg(long)]
    previous: Option<PathBuf>,
    /// The proof's `created` time (default now).
    #[arg(long, value_parser = parse_time)]
    created: Option<DateTime<Utc>>,
    /// Write the signed licence here instead of standard output.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Leave out the standard credentialStatus. By default the licence names the next free
    /// revocation and suspension indices of the issuer's status lists, taken from (and
    /// recorded in) the --state file, so that offline verifiers learn its status.
    #[arg(long)]
    no_status: bool,
    /// The chain state file that hands out status list indices.
    #[arg(long, env = "ELICENCE_ISSUER_STATE", default_value = "chain.json")]
    state: PathBuf,
}

/// What `submit` and `status` share: the key, the registry and the chain state file.
#[derive(Debug, Args)]
pub struct ChainArgs {
    /// The issuer's Ed25519 key (PKCS#8 PEM); required.
    #[arg(long, env = "ELICENCE_ISSUER_KEY")]
    key: Option<PathBuf>,
    /// The chain state file (created on first success; the head is fetched when absent).
    #[arg(long, env = "ELICENCE_ISSUER_STATE", default_value = "chain.json")]
    state: PathBuf,
    /// The issuer's USCC (default: taken from the state file or the first item).
    #[arg(long, env = "ELICENCE_ISSUER_USCC")]
    issuer_uscc: Option<Uscc>,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// `issuer status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// The licence, `urn:elicence:…` (the version the status applies to).
    #[arg(long)]
    licence: String,
    /// suspend, resume or revoke.
    #[arg(long)]
    action: StatusAction,
    /// Why, in words the holder will read.
    #[arg(long)]
    reason: String,
    /// When the change takes effect (default now).
    #[arg(long, value_parser = parse_time)]
    effective_from: Option<DateTime<Utc>>,
    /// Digest of the licence's previous status event, or of its head version if none.
    #[arg(long)]
    previous: String,
}

/// Runs an issuer command.
pub async fn run(command: IssuerCommand) -> anyhow::Result<()> {
    match command {
        IssuerCommand::Sign(args) => sign(&args),
        IssuerCommand::Submit { chain, files } => {
            let items = files
                .iter()
                .map(|path| {
                    issuer::item_from_document(read_json(path)?)
                        .with_context(|| path.display().to_string())
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            submit(&chain, items).await
        }
        IssuerCommand::Status(args) => {
            let licence = LicenceId::from_urn(&args.licence).context("--licence")?;
            let at = args.effective_from.unwrap_or_else(Utc::now);
            let item =
                issuer::status_change(&licence, args.action, &args.reason, at, &args.previous);
            submit(&args.chain, vec![item]).await
        }
    }
}

fn sign(args: &SignArgs) -> anyhow::Result<()> {
    let key = load_key(args.key.as_deref())?;
    let uscc = (args.issuer_uscc.as_ref())
        .context("no issuer USCC: pass --issuer-uscc or set ELICENCE_ISSUER_USCC")?;
    let public_url = args.registry.public_url();
    let did = issuer::did_for(public_url, uscc)
        .with_context(|| format!("{public_url:?} is not http(s)://host[:port]"))?;
    let draft = LicenceDraft {
        id: LicenceId::build(&args.type_code, uscc, &args.serial, args.version)?,
        issuer_did: did.clone(),
        public_base: public_url.to_owned(),
        schema_version: args.schema_version,
        valid_from: args.valid_from,
        valid_until: Some(args.valid_until),
        jurisdiction: args.jurisdiction.clone(),
        subject: read_json(&args.subject)?,
        previous: args.previous.as_deref().map(read_json).transpose()?,
    };
    let mut vc = issuer::build_licence(&draft)?;
    if !args.no_status {
        let slots = take_status_slots(args, &did)?;
        issuer::add_status(&mut vc, public_url, &slots);
    }
    let vm = issuer::verification_method(&did, &key);
    let signed = issuer::sign_licence(&vc, &key, &vm, args.created.unwrap_or_else(Utc::now))?;
    let text = serde_json::to_string_pretty(&signed)? + "\n";
    match &args.out {
        Some(out) => {
            std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
            eprintln!("wrote {} ({})", out.display(), draft.id.urn());
        }
        None => print!("{text}"),
    }
    // The digest is what a later version's relatedResource or a status change names.
    eprintln!("digest {}", digest_value(&signed));
    Ok(())
}

/// The next free status list slots, recorded in the state file before the licence is signed:
/// an index handed out is never handed out again, even if the licence is never submitted.
fn take_status_slots(args: &SignArgs, did: &str) -> anyhow::Result<Vec<StatusSlot>> {
    let registry = &args.registry.registry_url;
    let mut state = match ChainState::load(&args.state)? {
        Some(state) if state.issuer_did == did => state,
        Some(state) => bail!(
            "{} belongs to {}, not {did}; use another --state file",
            args.state.display(),
            state.issuer_did
        ),
        None => ChainState::new(registry.trim_end_matches('/'), did),
    };
    let slots = state
        .take_status_slots()
        .context("the issuer's status lists are full")?;
    state.save(&args.state)?;
    Ok(slots)
}

/// Builds the next envelope from `items`, posts it, and on a 409 retries once on the
/// registry's head. The state file moves only when the registry has accepted the envelope.
async fn submit(chain: &ChainArgs, items: Vec<Value>) -> anyhow::Result<()> {
    let key = load_key(chain.key.as_deref())?;
    let registry = Registry::new(&chain.registry.registry_url)?;
    let saved = ChainState::load(&chain.state)?;
    let mut state = match &saved {
        // Made by `issuer sign`: keep its status counters, fetch the head.
        Some(state) if state.head_unknown() => {
            let checked = check_saved(state, chain)?;
            let uscc = issuer::uscc_of_did(&checked.issuer_did).context("the state's issuer")?;
            ChainState {
                status: checked.status,
                ..state_from_head(&registry, &uscc).await?
            }
        }
        Some(state) => check_saved(state, chain)?,
        None => state_from_head(&registry, &issuer_uscc(chain, &items)?).await?,
    };
    for attempt in 1..=2 {
        let (sequence, previous) = state.next();
        let vm = issuer::verification_method(&state.issuer_did, &key);
        let envelope = issuer::build_envelope(
            &state.issuer_did,
            sequence,
            previous,
            items.clone(),
            &key,
            &vm,
            Utc::now(),
        )?;
        match registry.submit(serde_json::to_vec(&envelope)?).await? {
            Submitted::Accepted { repeat, receipt } => {
                state.advance(&envelope);
                state.save(&chain.state)?;
                println!("{}", serde_json::to_string_pretty(&receipt)?);
                let how = if repeat {
                    "already accepted"
                } else {
                    "accepted"
                };
                eprintln!(
                    "envelope {sequence} {how}; chain head saved to {}",
                    chain.state.display()
                );
                return Ok(());
            }
            Submitted::Conflict(head) if attempt == 1 => {
                if saved.is_some()
                    && (head.sequence, &head.digest) != (state.sequence, &state.digest)
                {
                    eprintln!(
                        "warning: possible fork: the registry's head for {} is sequence {} ({}), \
                         but {} says sequence {} ({}). Another client or a copy of this key may \
                         be writing this chain. Retrying once on the registry's head.",
                        state.issuer_did,
                        head.sequence,
                        head.digest.as_deref().unwrap_or("none"),
                        chain.state.display(),
                        state.sequence,
                        state.digest.as_deref().unwrap_or("none"),
                    );
                } else {
                    eprintln!(
                        "note: the chain moved (head now {}); retrying once",
                        head.sequence
                    );
                }
                state.sequence = head.sequence;
                state.digest = head.digest;
            }
            Submitted::Conflict(head) => bail!(
                "the registry refused the envelope again: its head moved to sequence {} while \
                 submitting; another writer is using this issuer's chain. Nothing was saved.",
                head.sequence
            ),
            Submitted::Rejected(body) => {
                print_item_errors(&body);
                bail!("the registry rejected the envelope (422); nothing was stored");
            }
        }
    }
    unreachable!("the loop returns or fails by its second attempt")
}

/// The saved state, after checking that it belongs to this registry and issuer.
fn check_saved(state: &ChainState, chain: &ChainArgs) -> anyhow::Result<ChainState> {
    let here = chain.registry.registry_url.trim_end_matches('/');
    if state.registry.trim_end_matches('/') != here {
        bail!(
            "{} is the chain state for {}, not {here}; use another --state file",
            chain.state.display(),
            state.registry
        );
    }
    if let Some(uscc) = &chain.issuer_uscc {
        if issuer::uscc_of_did(&state.issuer_did).as_ref() != Some(uscc) {
            bail!(
                "{} belongs to {}, not {uscc}",
                chain.state.display(),
                state.issuer_did
            );
        }
    }
    Ok(state.clone())
}

async fn state_from_head(registry: &Registry, uscc: &Uscc) -> anyhow::Result<ChainState> {
    let head = registry
        .head(uscc)
        .await
        .with_context(|| format!("fetching the chain head of {uscc}"))?;
    eprintln!(
        "no state file: starting from the registry's head (sequence {})",
        head.sequence
    );
    Ok(ChainState {
        registry: registry.base().to_owned(),
        issuer_did: head.issuer,
        sequence: head.sequence,
        digest: head.digest,
        status: Default::default(),
    })
}

/// The issuer: the flag, else the issuer segment of the first item's licence.
fn issuer_uscc(chain: &ChainArgs, items: &[Value]) -> anyhow::Result<Uscc> {
    if let Some(uscc) = &chain.issuer_uscc {
        return Ok(uscc.clone());
    }
    let first = items.first().context("nothing to submit")?;
    let urn = first["licence"]["id"]
        .as_str()
        .or_else(|| first["statusChange"]["licence"].as_str())
        .context("give --issuer-uscc: the first item names no licence")?;
    Ok(LicenceId::from_urn(urn)?.issuer().clone())
}

/// Prints a 422's per-item errors, one a line.
fn print_item_errors(body: &Value) {
    eprintln!("rejected: {}", problem(body));
    for error in body["errors"].as_array().into_iter().flatten() {
        let item = error.get("item").or_else(|| error.get("index"));
        let code = error.get("code").and_then(Value::as_str).unwrap_or("");
        let detail = error
            .get("detail")
            .or_else(|| error.get("message"))
            .and_then(Value::as_str)
            .unwrap_or("");
        match item {
            Some(item) => eprintln!("  item {item}: {code}: {detail}"),
            None => eprintln!("  {error}"),
        }
    }
}

fn load_key(path: Option<&Path>) -> anyhow::Result<KeyPair> {
    let path = path.context("no issuer key: pass --key or set ELICENCE_ISSUER_KEY")?;
    KeyPair::load(path).with_context(|| format!("loading the issuer key {}", path.display()))
}

/// Reads a JSON file, refusing duplicate keys.
pub(super) fn read_json(path: &Path) -> anyhow::Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    strict_json::parse(&bytes, MAX_FILE_BYTES)
        .with_context(|| format!("parsing {}", path.display()))
}

/// RFC 3339, or a bare date meaning midnight UTC.
pub(super) fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("{s:?} is neither RFC 3339 nor YYYY-MM-DD"))
}

#[cfg(test)]
mod tests;
