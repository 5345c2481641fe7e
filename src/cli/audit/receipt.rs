//! Checking that a registration receipt is kept: the receipt verifies with the pinned log key
//! for the licence's digest, and leaf `leafIndex` of the log — under the checkpoint the round
//! just verified, by an inclusion proof — is that licence (`docs/offline.md`, "Monitoring").

use std::path::Path;

use anyhow::{bail, Context as _};
use serde_json::Value;

use super::{decode_hash, get, AuditState};
use crate::crypto::digest::{multibase_of, sha256};
use crate::crypto::jcs::canonicalize;
use crate::crypto::strict_json;
use crate::log::checkpoint::parse_vkey;
use crate::log::merkle::{leaf_hash, verify_inclusion};
use crate::log::registration::Registration;

/// The leaf index the receipt names, once everything holds.
pub async fn check(
    http: &reqwest::Client,
    base: &str,
    state: &AuditState,
    text: &str,
    licence: &Path,
) -> anyhow::Result<u64> {
    let receipt = Registration::decode(text).context("reading --receipt")?;
    let bytes = std::fs::read(licence).with_context(|| format!("reading {}", licence.display()))?;
    let credential = strict_json::parse(&bytes, 1 << 20).context("reading the licence")?;
    let digest = sha256(&canonicalize(&credential));
    let (origin, key) = parse_vkey(&state.vkey).context("the pinned key")?;
    receipt
        .verify(&key, &origin, &digest)
        .context("the receipt is not the registry's for this licence")?;
    let index = receipt.leaf_index;
    if index >= state.size {
        bail!(
            "RECEIPT NOT IN LOG: leaf {index} is past the verified checkpoint (size {}); \
             check again after the next checkpoint",
            state.size
        );
    }
    let url = format!("{base}/v1/log/entries?start={index}&count=1");
    let entries: Value = serde_json::from_str(&get(http, &url).await?)?;
    let data = entries["entries"][0]["data"]
        .as_str()
        .context("the log has no such entry")?;
    let leaf: Value = serde_json::from_str(data).context("leaf data")?;
    if leaf["kind"] != "licence" || leaf["digest"] != multibase_of(&digest) {
        bail!("RECEIPT BROKEN: leaf {index} is not this licence ({data})");
    }
    let url = format!(
        "{base}/v1/log/proof/inclusion?index={index}&size={}",
        state.size
    );
    let answer: Value = serde_json::from_str(&get(http, &url).await?)?;
    let proof = answer["proof"]
        .as_array()
        .context("the inclusion answer has no proof")?
        .iter()
        .map(|h| h.as_str().and_then(decode_hash).context("a proof hash"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let root = decode_hash(&state.root).context("the state's root")?;
    verify_inclusion(
        &leaf_hash(data.as_bytes()),
        index,
        state.size,
        &proof,
        &root,
    )
    .map_err(|e| {
        anyhow::anyhow!("RECEIPT BROKEN: leaf {index} is not under the checkpoint: {e}")
    })?;
    Ok(index)
}
