//! What `bench crash-cycles` checks after each restart, through the public API of the restarted
//! service, against everything the issuers were told before the kill.
//!
//! Checkpoint consistency is checked with proofs the service serves, verified here: every
//! checkpoint seen since the last restart (in receipts, and from the instances that stayed up)
//! and the previous restart's checkpoint, each against the new one. Consistency is transitive,
//! so every checkpoint seen is then consistent with every later one; [`Checker::all_consistent`]
//! checks every one of them against the final checkpoint directly as well.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{anyhow, bail, ensure, Context as _};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use serde_json::{json, Value};

use super::crash::Track;
use crate::crypto::digest::digest_value;
use crate::log::checkpoint::{self, Checkpoint};
use crate::log::merkle::{leaf_hash, verify_consistency, verify_inclusion, Hash};

/// Licences per verification call.
const VERIFY_CHUNK: usize = 500;
/// Log entries per page.
const PAGE: u64 = 1000;

/// What has been seen and checked so far.
pub struct Checker {
    http: reqwest::Client,
    vkey: String,
    key: VerifyingKey,
    /// Every checkpoint seen: size → root.
    seen: BTreeMap<u64, Hash>,
    /// Sizes not yet proven consistent with a later checkpoint.
    pending: BTreeSet<u64>,
    /// Receipts already checked, per issuer.
    checked: Vec<usize>,
    /// The first verification answer of each licence, reduced to what must not change.
    verdicts: HashMap<String, Value>,
}

impl Checker {
    /// Pins the checkpoint key the service at `base` uses now.
    pub async fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(120))
            // Well below the server's keep-alive (5 s): a pooled connection reused just as the
            // server closes it fails the request.
            .pool_idle_timeout(std::time::Duration::from_secs(1))
            .build()?;
        let vkey = text(&http, &format!("{base}/v1/log/key")).await?;
        let vkey = vkey.trim().to_owned();
        let (_, key) = checkpoint::parse_vkey(&vkey).map_err(|e| anyhow!("vkey: {e}"))?;
        Ok(Self {
            http,
            vkey,
            key,
            seen: BTreeMap::new(),
            pending: BTreeSet::new(),
            checked: Vec::new(),
            verdicts: HashMap::new(),
        })
    }

    /// Every check, against the service at `base` (and the instances at `others`, which must
    /// serve the same log). Answers a one-line summary.
    pub async fn after_restart(
        &mut self,
        base: &str,
        others: &[String],
        tracks: &[Track],
    ) -> anyhow::Result<String> {
        let key = text(&self.http, &format!("{base}/v1/log/key")).await?;
        ensure!(key.trim() == self.vkey, "the checkpoint key changed");
        for other in others {
            let note = text(&self.http, &format!("{other}/v1/log/checkpoint")).await?;
            self.record(&self.open(&note)?)?;
        }
        let now = self.open(&text(&self.http, &format!("{base}/v1/log/checkpoint")).await?)?;
        let heads = self.heads(base, tracks).await?;
        let receipts = self.receipts(base, tracks, &now).await?;
        let proven = self.consistent(base, &now).await?;
        let leaves = self.log_exact(base, tracks, &heads, now.size).await?;
        let verified = self.verdicts_stable(base, tracks).await?;
        Ok(format!(
            "{receipts} new receipts re-checked, {proven} checkpoints consistent with size {}, \
             {leaves} leaves exact, {verified} verifications unchanged",
            now.size
        ))
    }

    /// Every checkpoint seen, against the current one of `base`.
    pub async fn all_consistent(&self, base: &str) -> anyhow::Result<()> {
        let now = self.open(&text(&self.http, &format!("{base}/v1/log/checkpoint")).await?)?;
        for (&size, root) in &self.seen {
            self.prove(base, size, root, &now).await?;
        }
        println!(
            "all {} checkpoints seen are consistent with the final one (size {})",
            self.seen.len(),
            now.size
        );
        Ok(())
    }

    fn open(&self, note: &str) -> anyhow::Result<Checkpoint> {
        checkpoint::open(note, &self.vkey).map_err(|e| anyhow!("checkpoint not signed: {e}"))
    }

    /// Notes a checkpoint; two roots for one size is a fork.
    fn record(&mut self, c: &Checkpoint) -> anyhow::Result<()> {
        if let Some(root) = self.seen.insert(c.size, c.root) {
            ensure!(root == c.root, "two roots at size {}", c.size);
        }
        self.pending.insert(c.size);
        Ok(())
    }

    /// Each issuer's head is its last acknowledged envelope, or the one cut off by the kill.
    async fn heads(&self, base: &str, tracks: &[Track]) -> anyhow::Result<Vec<u64>> {
        let mut heads = Vec::with_capacity(tracks.len());
        for t in tracks {
            let uscc = &t.chain.issuer.uscc;
            let head = get_json(&self.http, &format!("{base}/v1/issuers/{uscc}/head")).await?;
            let sequence = head["sequence"].as_u64().context("head sequence")?;
            let acked = t.acked.len() as u64;
            let expected = match (&t.in_flight, sequence) {
                (_, n) if n == acked => t.acked.last().map(|(s, _)| digest_value(&s.envelope)),
                (Some(s), n) if n == acked + 1 => Some(digest_value(&s.envelope)),
                _ => bail!("{uscc}: head {sequence} after {acked} acknowledged envelopes"),
            };
            ensure!(
                head["digest"].as_str().map(str::to_owned) == expected,
                "{uscc}: the head digest is not the envelope acknowledged"
            );
            heads.push(sequence);
        }
        Ok(heads)
    }

    /// Receipts not yet checked: a repeat answers the same receipt; it is registry-signed; its
    /// inclusion proofs hold in its checkpoint and in `now`'s.
    async fn receipts(
        &mut self,
        base: &str,
        tracks: &[Track],
        now: &Checkpoint,
    ) -> anyhow::Result<usize> {
        self.checked.resize(tracks.len(), 0);
        let mut count = 0;
        for (i, t) in tracks.iter().enumerate() {
            for (signed, receipt) in &t.acked[self.checked[i]..] {
                let response = self
                    .http
                    .post(format!("{base}/v1/submissions"))
                    .json(&signed.envelope)
                    .send()
                    .await?;
                let status = response.status().as_u16();
                let repeat: Value = response.json().await?;
                ensure!(
                    status == 200,
                    "a receipted envelope is not a repeat: {status}"
                );
                ensure!(&repeat == receipt, "a receipt changed across the restart");
                crate::crypto::proof::verify(receipt, |_| Some(self.key))
                    .map_err(|e| anyhow!("receipt signature: {e}"))?;
                let at = self.open(receipt["checkpoint"].as_str().context("note")?)?;
                ensure!(Some(at.size) == receipt["treeSize"].as_u64(), "treeSize");
                for item in receipt["items"].as_array().context("items")? {
                    let leaf = hash(&item["leafHash"])?;
                    let index = item["leafIndex"].as_u64().context("leafIndex")?;
                    let proof = hashes(&item["inclusionProof"])?;
                    verify_inclusion(&leaf, index, at.size, &proof, &at.root)
                        .map_err(|e| anyhow!("receipt inclusion proof: {e}"))?;
                    self.included(base, &leaf, index, now).await?;
                }
                self.record(&at)?;
                count += 1;
            }
            self.checked[i] = t.acked.len();
        }
        Ok(count)
    }

    /// Leaf `index` is `leaf` in the log at `now`, by the restarted service's proof.
    async fn included(
        &self,
        base: &str,
        leaf: &Hash,
        index: u64,
        now: &Checkpoint,
    ) -> anyhow::Result<()> {
        let url = format!(
            "{base}/v1/log/proof/inclusion?index={index}&size={}",
            now.size
        );
        let answer = get_json(&self.http, &url).await?;
        ensure!(hash(&answer["leafHash"])? == *leaf, "leaf {index} changed");
        verify_inclusion(leaf, index, now.size, &hashes(&answer["proof"])?, &now.root)
            .map_err(|e| anyhow!("leaf {index} is not in the restarted log: {e}"))
    }

    /// Every pending checkpoint against `now`, which then becomes the only pending one.
    async fn consistent(&mut self, base: &str, now: &Checkpoint) -> anyhow::Result<usize> {
        self.record(now)?;
        let pending = std::mem::take(&mut self.pending);
        for size in &pending {
            let root = self.seen[size];
            self.prove(base, *size, &root, now).await?;
        }
        self.pending.insert(now.size);
        Ok(pending.len())
    }

    async fn prove(
        &self,
        base: &str,
        size: u64,
        root: &Hash,
        now: &Checkpoint,
    ) -> anyhow::Result<()> {
        ensure!(
            size <= now.size,
            "the log shrank: size {size} seen, now {}",
            now.size
        );
        if size == now.size {
            ensure!(*root == now.root, "two roots at size {size}");
            return Ok(());
        }
        let url = format!(
            "{base}/v1/log/proof/consistency?from={size}&to={}",
            now.size
        );
        let proof = hashes(&get_json(&self.http, &url).await?["proof"])?;
        verify_consistency(size, now.size, &proof, root, &now.root)
            .map_err(|e| anyhow!("checkpoint {size} is not consistent with {}: {e}", now.size))
    }

    /// The whole log: every leaf hashes to its data, and each issuer's leaves are its envelopes
    /// 1..=head in order, each once, each with all its licences, each the envelope acknowledged.
    async fn log_exact(
        &self,
        base: &str,
        tracks: &[Track],
        heads: &[u64],
        size: u64,
    ) -> anyhow::Result<u64> {
        let mut per_issuer: HashMap<String, Vec<(u64, String)>> = HashMap::new();
        for start in (0..size).step_by(PAGE as usize) {
            let url = format!("{base}/v1/log/entries?start={start}&count={PAGE}");
            let page = get_json(&self.http, &url).await?;
            for entry in page["entries"].as_array().context("entries")? {
                let data = entry["data"].as_str().context("data")?;
                ensure!(hash(&entry["leafHash"])? == leaf_hash(data.as_bytes()));
                let leaf: Value = serde_json::from_str(data)?;
                let issuer = leaf["issuer"].as_str().context("issuer")?.to_owned();
                let envelope = leaf["envelope"].as_str().context("envelope")?.to_owned();
                let sequence = leaf["sequence"].as_u64().context("sequence")?;
                per_issuer
                    .entry(issuer)
                    .or_default()
                    .push((sequence, envelope));
            }
        }
        let mut leaves = 0;
        for (t, &head) in tracks.iter().zip(heads) {
            let uscc = t.chain.issuer.uscc.as_str();
            let got = per_issuer.remove(uscc).unwrap_or_default();
            let mut expected = Vec::new();
            for sequence in 1..=head {
                let signed = match t.acked.get(sequence as usize - 1) {
                    Some((signed, _)) => signed,
                    None => t.in_flight.as_ref().context("a head past every envelope")?,
                };
                let digest = digest_value(&signed.envelope);
                expected.extend(std::iter::repeat_n(
                    (sequence, digest),
                    signed.licences.len(),
                ));
            }
            ensure!(
                got == expected,
                "{uscc}: the log holds sequences {:?}, not 1..={head} each once",
                got.iter().map(|(n, _)| *n).collect::<BTreeSet<_>>()
            );
            leaves += got.len() as u64;
        }
        ensure!(
            per_issuer.is_empty(),
            "leaves of unknown issuers: {:?}",
            per_issuer.keys().collect::<Vec<_>>()
        );
        Ok(leaves)
    }

    /// Every accepted licence verifies, with the answer it had the first time.
    async fn verdicts_stable(&mut self, base: &str, tracks: &[Track]) -> anyhow::Result<usize> {
        let licences: Vec<&Value> = tracks
            .iter()
            .flat_map(|t| &t.acked)
            .flat_map(|(signed, _)| &signed.licences)
            .collect();
        for chunk in licences.chunks(VERIFY_CHUNK) {
            let items: Vec<Value> = chunk.iter().map(|l| json!({"credential": l})).collect();
            let response = self
                .http
                .post(format!("{base}/v1/verify/batch"))
                .json(&json!({"items": items}))
                .send()
                .await?;
            ensure!(
                response.status().is_success(),
                "verify/batch: {}",
                response.status()
            );
            let answer: Value = response.json().await?;
            let results = answer["results"].as_array().context("results")?;
            ensure!(results.len() == chunk.len(), "verify/batch: result count");
            for (licence, result) in chunk.iter().zip(results) {
                let id = licence["id"].as_str().context("licence id")?.to_owned();
                let verdict = reduce(result);
                ensure!(
                    verdict["verified"] == true,
                    "{id} does not verify: {result}"
                );
                let first = self.verdicts.entry(id.clone()).or_insert(verdict.clone());
                ensure!(
                    *first == verdict,
                    "{id}: the verifier's answer changed: {result}"
                );
            }
        }
        Ok(licences.len())
    }
}

/// What must not change in a verification answer: the verdict, the summary, each check's
/// outcome and code (not the time of checking, nor proofs against the growing tree).
fn reduce(result: &Value) -> Value {
    let checks: Vec<Value> = result["checks"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| json!([c["name"], c["ok"], c["code"]]))
                .collect()
        })
        .unwrap_or_default();
    json!({"verified": result["verified"], "summary": result["summary"], "checks": checks})
}

async fn text(http: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let response = http.get(url).send().await?;
    ensure!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    Ok(response.text().await?)
}

async fn get_json(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let response = http.get(url).send().await?;
    ensure!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    Ok(response.json().await?)
}

fn hash(b64: &Value) -> anyhow::Result<Hash> {
    let bytes = STANDARD.decode(b64.as_str().context("a base64 string")?)?;
    Hash::try_from(bytes).map_err(|_| anyhow!("not 32 bytes"))
}

fn hashes(list: &Value) -> anyhow::Result<Vec<Hash>> {
    list.as_array()
        .context("an array")?
        .iter()
        .map(hash)
        .collect()
}
