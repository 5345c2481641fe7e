//! What must hold after the restart, checked through the public API of the restarted service.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use elicence::crypto::digest::digest_value;
use elicence::log::checkpoint::{self, Checkpoint};
use elicence::log::merkle::{leaf_hash, verify_consistency, verify_inclusion, Hash};
use serde_json::Value;

use crate::issuer::ITEMS;
use crate::Submitted;

/// The restarted service, and the checkpoint key pinned before the kill.
pub struct Registry {
    client: reqwest::Client,
    base: String,
    vkey: String,
    key: VerifyingKey,
}

impl Registry {
    /// Pins `vkey` (read before the kill) and checks the restarted service still uses it.
    pub async fn new(client: reqwest::Client, base: String, vkey: &str) -> Self {
        let now = text(&client, &format!("{base}/v1/log/key")).await;
        assert_eq!(
            now.trim(),
            vkey,
            "the checkpoint key changed across the restart"
        );
        let (_, key) = checkpoint::parse_vkey(vkey).expect("vkey parses");
        Self {
            client,
            base,
            vkey: vkey.to_owned(),
            key,
        }
    }

    async fn get_json(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).expect("JSON body")
    }

    async fn post(&self, envelope: &Value) -> (u16, String) {
        let url = format!("{}/v1/submissions", self.base);
        let response = self
            .client
            .post(url)
            .json(envelope)
            .send()
            .await
            .expect("POST");
        (
            response.status().as_u16(),
            response.text().await.expect("body"),
        )
    }

    fn open(&self, note: &str) -> Checkpoint {
        checkpoint::open(note, &self.vkey).expect("checkpoint signed by the pinned key")
    }

    async fn checkpoint(&self) -> Checkpoint {
        self.open(&text(&self.client, &format!("{}/v1/log/checkpoint", self.base)).await)
    }

    /// Fetches and verifies the consistency proof from `old` to `new`.
    async fn consistent(&self, old: &Checkpoint, new: &Checkpoint) {
        let path = format!(
            "/v1/log/proof/consistency?from={}&to={}",
            old.size, new.size
        );
        let proof = hashes(&self.get_json(&path).await["proof"]);
        verify_consistency(old.size, new.size, &proof, &old.root, &new.root).unwrap_or_else(|e| {
            panic!(
                "checkpoint {} is not consistent with {}: {e}",
                old.size, new.size
            )
        });
    }

    /// Fetches and verifies the inclusion proof of leaf `index` in `at`.
    async fn included(&self, leaf: &Hash, index: u64, at: &Checkpoint) {
        let path = format!("/v1/log/proof/inclusion?index={index}&size={}", at.size);
        let answer = self.get_json(&path).await;
        assert_eq!(hash(&answer["leafHash"]), *leaf, "leaf {index} changed");
        verify_inclusion(leaf, index, at.size, &hashes(&answer["proof"]), &at.root)
            .unwrap_or_else(|e| panic!("leaf {index} not in the restarted log: {e}"));
    }
}

/// Every receipt handed out before the kill: same receipt on a repeat, registry-signed, its
/// proofs valid against its checkpoint, which is consistent with the restarted service's.
pub async fn receipts_stand(registry: &Registry, submitted: &[Submitted]) {
    let now = registry.checkpoint().await;
    for (envelope, receipt_text) in submitted.iter().flat_map(|s| &s.acked) {
        let (status, repeat) = registry.post(envelope).await;
        assert_eq!(
            status, 200,
            "a receipted envelope is not a repeat after the restart: {repeat}"
        );
        let receipt: Value = serde_json::from_str(receipt_text).expect("receipt JSON");
        assert_eq!(
            serde_json::from_str::<Value>(&repeat).expect("JSON"),
            receipt,
            "receipt changed"
        );
        elicence::crypto::proof::verify(&receipt, |_| Some(registry.key))
            .expect("registry signature");
        let old = registry.open(receipt["checkpoint"].as_str().expect("note"));
        assert_eq!(old.size, receipt["treeSize"].as_u64().expect("size"));
        for item in receipt["items"].as_array().expect("items") {
            let (leaf, index) = (
                hash(&item["leafHash"]),
                item["leafIndex"].as_u64().expect("index"),
            );
            verify_inclusion(
                &leaf,
                index,
                old.size,
                &hashes(&item["inclusionProof"]),
                &old.root,
            )
            .expect("receipt inclusion proof");
            registry.included(&leaf, index, &now).await;
        }
        registry.consistent(&old, &now).await;
    }
}

/// Each issuer's head is its last acknowledged envelope, or the one in flight at the kill; the
/// log holds every sequence 1..=head exactly once, each envelope's leaves together.
pub async fn sequences_exact(registry: &Registry, submitted: &[Submitted]) {
    for s in submitted {
        let head = registry
            .get_json(&format!("/v1/issuers/{}/head", s.issuer.uscc))
            .await;
        let sequence = head["sequence"].as_u64().expect("sequence");
        let last = s.acked.len() as u64;
        let expected = match (&s.in_flight, sequence) {
            (_, n) if n == last => s.acked.last().map(|(e, _)| digest_value(e)),
            (Some(env), n) if n == last + 1 => Some(digest_value(env)),
            _ => panic!(
                "{}: head {sequence} after {last} acknowledged envelopes",
                s.issuer.uscc
            ),
        };
        assert_eq!(
            head["digest"].as_str().map(str::to_owned),
            expected,
            "{}: head digest",
            s.issuer.uscc
        );
    }
    let size = registry.checkpoint().await.size;
    let mut per_issuer: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for start in (0..size).step_by(1000) {
        let page = registry
            .get_json(&format!("/v1/log/entries?start={start}&count=1000"))
            .await;
        for entry in page["entries"].as_array().expect("entries") {
            let data = entry["data"].as_str().expect("data");
            assert_eq!(hash(&entry["leafHash"]), leaf_hash(data.as_bytes()));
            let leaf: Value = serde_json::from_str(data).expect("leaf JSON");
            let issuer = leaf["issuer"].as_str().expect("issuer").to_owned();
            let envelope = leaf["envelope"].as_str().expect("envelope").to_owned();
            per_issuer
                .entry(issuer)
                .or_default()
                .push((leaf["sequence"].as_u64().expect("seq"), envelope));
        }
    }
    for s in submitted {
        let head = registry
            .get_json(&format!("/v1/issuers/{}/head", s.issuer.uscc))
            .await;
        let leaves = per_issuer
            .remove(s.issuer.uscc.as_str())
            .unwrap_or_default();
        let head = head["sequence"].as_u64().expect("sequence");
        let expected: Vec<u64> = (1..=head)
            .flat_map(|n| std::iter::repeat_n(n, ITEMS))
            .collect();
        let got: Vec<u64> = leaves.iter().map(|(n, _)| *n).collect();
        assert_eq!(got, expected, "{}: sequences in the log", s.issuer.uscc);
        let envelopes: BTreeSet<&str> = leaves.iter().map(|(_, e)| e.as_str()).collect();
        assert_eq!(
            envelopes.len() as u64,
            head,
            "{}: one envelope per sequence",
            s.issuer.uscc
        );
    }
}

/// Every issuer extends its chain after the restart; the final checkpoint is consistent with
/// every checkpoint handed out before the kill and with the one found at restart.
pub async fn log_grows_consistently(registry: &Registry, submitted: &[Submitted]) {
    let mut seen: Vec<Checkpoint> = vec![registry.checkpoint().await];
    for s in submitted {
        for (_, receipt) in &s.acked {
            let receipt: Value = serde_json::from_str(receipt).expect("receipt JSON");
            seen.push(registry.open(receipt["checkpoint"].as_str().expect("note")));
        }
    }
    for s in submitted {
        let head = registry
            .get_json(&format!("/v1/issuers/{}/head", s.issuer.uscc))
            .await;
        let sequence = head["sequence"].as_u64().expect("sequence");
        let previous = if sequence == s.acked.len() as u64 {
            s.acked.last().map(|(e, _)| e.clone())
        } else {
            s.in_flight.clone()
        };
        let (status, body) = registry
            .post(&s.issuer.envelope(sequence + 1, previous.as_ref()))
            .await;
        assert_eq!(
            status, 201,
            "the chain cannot be extended after the restart: {body}"
        );
        let receipt: Value = serde_json::from_str(&body).expect("receipt JSON");
        seen.push(registry.open(receipt["checkpoint"].as_str().expect("note")));
    }
    let last = registry.checkpoint().await;
    seen.sort_by_key(|c| c.size);
    for pair in seen.windows(2) {
        assert!(
            pair[0].size != pair[1].size || pair[0].root == pair[1].root,
            "two roots at size {}",
            pair[0].size
        );
    }
    seen.dedup_by_key(|c| c.size);
    for old in &seen {
        registry.consistent(old, &last).await;
    }
}

/// GET a text body, asserting 200.
pub async fn text(client: &reqwest::Client, url: &str) -> String {
    let response = client.get(url).send().await.expect("GET");
    assert_eq!(response.status().as_u16(), 200, "GET {url}");
    response.text().await.expect("body")
}

fn hash(b64: &Value) -> Hash {
    let bytes = STANDARD
        .decode(b64.as_str().expect("base64 string"))
        .expect("base64");
    Hash::try_from(bytes).expect("32 bytes")
}

fn hashes(list: &Value) -> Vec<Hash> {
    list.as_array().expect("array").iter().map(hash).collect()
}
