//! Fixed baselines that do not depend on this code, measured in the same run as the load they
//! are compared with, so that a figure can be read as a share of what the machine can do at
//! that moment:
//!
//! - **the naive pipeline**: one licence verified the plain way with off-the-shelf crates only,
//!   on one core: `serde_json` parse, remove the proof, `serde_json_canonicalizer` for the proof
//!   options and the document, two SHA-256 (`sha2`), `bs58` for the `proofValue` and one
//!   `ed25519-dalek` `verify_strict`;
//! - **the signature bound**: `ed25519-dalek` `verify_strict` of a 64-byte message on one core,
//!   and its `verify_batch` of 256 signatures, per signature.
//!
//! Each is the median over five runs. Ratios to them are what `bench submit` and `bench verify`
//! report beside their absolute figures (docs: `BENCHMARKS.md`).

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// Signatures in one batch of the batch bound.
pub const BATCH: usize = 256;

/// The three baselines, each as the time of one licence or one signature on one core.
#[derive(Debug, Clone, Copy)]
pub struct Baselines {
    /// One licence through the naive pipeline.
    pub naive: Duration,
    /// One `verify_strict` of a 64-byte message.
    pub signature: Duration,
    /// One signature of a `verify_batch` of [`BATCH`].
    pub batch: Duration,
}

impl Baselines {
    /// Measures the three on this thread; `licence` is a signed licence's JSON text and `key`
    /// its issuer's key. Fails if the licence does not verify the naive way.
    pub fn measure(licence: &[u8], key: &VerifyingKey) -> anyhow::Result<Self> {
        if !naive_verify(licence, key).context("the naive pipeline could not read the licence")? {
            bail!("the sample licence does not verify the naive way");
        }
        let naive = median_per_call(2_000, || {
            // Checked above; only the time matters here.
            let _ = std::hint::black_box(naive_verify(licence, key));
        });
        let corpus = signed_corpus(BATCH);
        let mut next = 0usize;
        let signature = median_per_call(2_000, || {
            let (message, signature, key) = &corpus[next % corpus.len()];
            next += 1;
            let _ = std::hint::black_box(key.verify_strict(message, signature));
        });
        let messages: Vec<&[u8]> = corpus.iter().map(|c| c.0.as_slice()).collect();
        let signatures: Vec<Signature> = corpus.iter().map(|c| c.1).collect();
        let keys: Vec<VerifyingKey> = corpus.iter().map(|c| c.2).collect();
        if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_err() {
            bail!("a valid batch of {BATCH} did not verify");
        }
        let batch = median_per_call(8, || {
            let _ =
                std::hint::black_box(ed25519_dalek::verify_batch(&messages, &signatures, &keys));
        }) / u32::try_from(BATCH).unwrap_or(u32::MAX);
        Ok(Self {
            naive,
            signature,
            batch,
        })
    }

    /// The mean of two measurements, each baseline apart (`bench submit`: one before its load,
    /// one after).
    pub fn mean_with(&self, other: &Self) -> Self {
        Self {
            naive: (self.naive + other.naive) / 2,
            signature: (self.signature + other.signature) / 2,
            batch: (self.batch + other.batch) / 2,
        }
    }

    /// Licences per second the naive pipeline verifies on one core.
    pub fn naive_per_second(&self) -> f64 {
        per_second(self.naive)
    }

    /// `verify_strict` signatures per second on one core.
    pub fn signatures_per_second(&self) -> f64 {
        per_second(self.signature)
    }

    /// Signatures per second on one core in batches of [`BATCH`].
    pub fn batch_signatures_per_second(&self) -> f64 {
        per_second(self.batch)
    }

    /// The baselines as one JSON object.
    pub fn json(&self) -> Value {
        let micros = |d: Duration| d.as_secs_f64() * 1e6;
        json!({
            "naiveMicroseconds": micros(self.naive),
            "naivePerSecondOneCore": self.naive_per_second(),
            "signatureMicroseconds": micros(self.signature),
            "signaturesPerSecondOneCore": self.signatures_per_second(),
            "batchSize": BATCH,
            "batchSignatureMicroseconds": micros(self.batch),
            "batchSignaturesPerSecondOneCore": self.batch_signatures_per_second(),
        })
    }

    /// `rate` (licences or signatures per second) as shares of each baseline on one core and on
    /// `cores` cores.
    pub fn ratios(&self, rate: f64, cores: f64) -> Value {
        json!({
            "overNaive": rate / (cores * self.naive_per_second()),
            "overSignature": rate / (cores * self.signatures_per_second()),
            "overBatchSignature": rate / (cores * self.batch_signatures_per_second()),
            "cores": cores,
        })
    }

    /// One line describing the baselines.
    pub fn describe(&self) -> String {
        let micros = |d: Duration| d.as_secs_f64() * 1e6;
        format!(
            "baselines, one core: naive pipeline {:.1} µs ({:.0} licences/s); verify_strict {:.1} µs \
             ({:.0}/s); verify_batch of {BATCH} {:.1} µs per signature ({:.0}/s)",
            micros(self.naive),
            self.naive_per_second(),
            micros(self.signature),
            self.signatures_per_second(),
            micros(self.batch),
            self.batch_signatures_per_second(),
        )
    }
}

/// `rate` as shares of the baselines on `cores` cores, one line (`ratios` of [`Baselines`]).
pub fn describe_ratios(ratios: &Value) -> String {
    let f = |k: &str| ratios[k].as_f64().unwrap_or(0.0);
    format!(
        "÷ ({c}× naive) {:.3}, ÷ ({c}× verify_strict) {:.3}, ÷ ({c}× batch-{BATCH} signature) {:.3}",
        f("overNaive"),
        f("overSignature"),
        f("overBatchSignature"),
        c = f("cores"),
    )
}

/// Verifies one eddsa-jcs-2022 licence with off-the-shelf crates only. `Ok(false)` when the
/// signature does not verify, an error when the licence cannot be read.
pub fn naive_verify(licence: &[u8], key: &VerifyingKey) -> anyhow::Result<bool> {
    let mut document: Value = serde_json::from_slice(licence)?;
    let mut proof = document
        .as_object_mut()
        .and_then(|d| d.remove("proof"))
        .context("no proof")?;
    let proof_value = proof
        .as_object_mut()
        .and_then(|p| p.remove("proofValue"))
        .context("no proofValue")?;
    let encoded = proof_value
        .as_str()
        .and_then(|v| v.strip_prefix('z'))
        .context("proofValue is not base58btc")?;
    let options = serde_json_canonicalizer::to_vec(&proof)?;
    let unsecured = serde_json_canonicalizer::to_vec(&document)?;
    let mut message = [0u8; 64];
    message[..32].copy_from_slice(&Sha256::digest(&options));
    message[32..].copy_from_slice(&Sha256::digest(&unsecured));
    let signature = Signature::from_slice(&bs58::decode(encoded).into_vec()?)?;
    Ok(key.verify_strict(&message, &signature).is_ok())
}

fn per_second(each: Duration) -> f64 {
    1.0 / each.as_secs_f64().max(f64::EPSILON)
}

/// The median over five runs of the time per call of `calls` calls of `f`.
fn median_per_call(calls: u32, mut f: impl FnMut()) -> Duration {
    let mut runs: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                f();
            }
            start.elapsed() / calls.max(1)
        })
        .collect();
    runs.sort();
    runs[runs.len() / 2]
}

/// `n` 64-byte messages signed by one key each of eight, as a licence proof's hashData is.
fn signed_corpus(n: usize) -> Vec<(Vec<u8>, Signature, VerifyingKey)> {
    let signers: Vec<SigningKey> = (1..=8u8)
        .map(|k| SigningKey::from_bytes(&[k; 32]))
        .collect();
    (0..n)
        .map(|i| {
            let signer = &signers[i % signers.len()];
            let message: Vec<u8> = Sha256::digest(i.to_le_bytes())
                .iter()
                .chain(Sha256::digest((i + n).to_le_bytes()).iter())
                .copied()
                .collect();
            let signature = signer.sign(&message);
            (message, signature, signer.verifying_key())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_naive_pipeline_accepts_a_w3c_vector_and_refuses_a_changed_one() {
        let (licence, key) = w3c_vector();
        assert!(naive_verify(&licence, &key).expect("readable"));
        let changed = String::from_utf8(licence)
            .expect("utf-8")
            .replacen("Alumni", "Alumnus", 1);
        assert!(!naive_verify(changed.as_bytes(), &key).expect("readable"));
        assert!(naive_verify(b"{\"a\":1}", &key).is_err(), "no proof");
    }

    #[test]
    fn ratios_divide_by_the_cores_times_each_baseline() {
        let b = Baselines {
            naive: Duration::from_micros(50),
            signature: Duration::from_micros(25),
            batch: Duration::from_micros(10),
        };
        let r = b.ratios(20_000.0, 2.0);
        assert!((r["overNaive"].as_f64().expect("set") - 0.5).abs() < 1e-9);
        assert!((r["overSignature"].as_f64().expect("set") - 0.25).abs() < 1e-9);
        assert!((r["overBatchSignature"].as_f64().expect("set") - 0.1).abs() < 1e-9);
    }

    /// The eddsa-jcs-2022 example credential and key of the W3C vc-di-eddsa vectors.
    fn w3c_vector() -> (Vec<u8>, VerifyingKey) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/vc-di-eddsa");
        let signed =
            std::fs::read(format!("{dir}/eddsa-jcs-2022/signedJCS.json")).expect("vendored vector");
        let keys: Value = serde_json::from_slice(
            &std::fs::read(format!("{dir}/keyPair.json")).expect("vendored vector"),
        )
        .expect("json");
        let multikey = keys["publicKeyMultibase"].as_str().expect("a key");
        let raw = bs58::decode(&multikey[1..]).into_vec().expect("base58");
        let key = VerifyingKey::from_bytes(raw[2..].try_into().expect("32 bytes")).expect("key");
        (signed, key)
    }
}
