//! `bench signatures`: Ed25519 verification per signature on one core, in process: one by one
//! (`verify_strict`), `ed25519_dalek::verify_batch`, and [`crate::crypto::batch`] (the terms of
//! a shared key combined), for batches of several sizes signed by one key and by `--keys` keys.
//! It decides where a batch starts to pay ([`crate::verify::signature`]).

use std::time::{Duration, Instant};

use clap::Args;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::json;

use crate::crypto::{batch, comb};

/// `bench signatures`.
#[derive(Debug, Args)]
pub struct SignatureBench {
    /// Batch sizes to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16,32,64,256")]
    sizes: Vec<usize>,
    /// Distinct keys in the mixed-key batches.
    #[arg(long, default_value_t = 8)]
    keys: usize,
    /// Signatures verified per measurement (rounded up to whole batches).
    #[arg(long, default_value_t = 4096)]
    signatures: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

type Signed = (Vec<u8>, Signature, VerifyingKey);

fn corpus(n: usize, keys: usize) -> Vec<Signed> {
    let signers: Vec<SigningKey> = (0..keys.max(1))
        .map(|k| SigningKey::from_bytes(&[u8::try_from(k % 250).unwrap_or(0) + 1; 32]))
        .collect();
    (0..n)
        .map(|i| {
            let signer = &signers[i % signers.len()];
            // About the size of a licence's signed message (two SHA-256 digests are 64 bytes).
            let message = format!("{i:064}").into_bytes();
            (
                message.clone(),
                signer.sign(&message),
                signer.verifying_key(),
            )
        })
        .collect()
}

/// Median over 5 runs of the time per signature of `check` over whole batches of `size`.
fn per_signature(all: &[Signed], size: usize, check: impl Fn(&[Signed]) -> bool) -> Duration {
    let mut runs: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let mut n = 0u32;
            for chunk in all.chunks(size).filter(|c| c.len() == size) {
                assert!(std::hint::black_box(check(chunk)), "a valid batch failed");
                n += u32::try_from(size).unwrap_or(u32::MAX);
            }
            start.elapsed() / n.max(1)
        })
        .collect();
    runs.sort();
    runs[runs.len() / 2]
}

fn singles(chunk: &[Signed]) -> bool {
    chunk.iter().all(|(m, s, k)| k.verify_strict(m, s).is_ok())
}

fn dalek(chunk: &[Signed]) -> bool {
    let messages: Vec<&[u8]> = chunk.iter().map(|c| c.0.as_slice()).collect();
    let signatures: Vec<Signature> = chunk.iter().map(|c| c.1).collect();
    let keys: Vec<VerifyingKey> = chunk.iter().map(|c| c.2).collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

fn combined(chunk: &[Signed]) -> bool {
    let items: Vec<batch::Item<'_>> = chunk
        .iter()
        .map(|(message, signature, key)| batch::Item {
            message,
            signature,
            key,
        })
        .collect();
    batch::verify(&items)
}

/// One by one, each key's comb table of `width` built beforehand ([`comb::KeyTable`]).
fn tabled(tables: &[comb::KeyTable]) -> impl Fn(&[Signed]) -> bool + '_ {
    move |chunk| {
        chunk.iter().all(|(m, s, k)| {
            tables
                .iter()
                .find(|t| t.key() == k)
                .is_some_and(|t| t.verify_strict(m, s))
        })
    }
}

pub fn signatures(args: SignatureBench) -> anyhow::Result<()> {
    let largest = args.sizes.iter().copied().max().unwrap_or(1);
    let n = args.signatures.max(largest).div_ceil(largest) * largest;
    let mut rows = Vec::new();
    for keys in [1, args.keys] {
        let all = corpus(n, keys);
        let tables = |width| -> Vec<comb::KeyTable> {
            let mut keys: Vec<VerifyingKey> = all.iter().map(|c| c.2).collect();
            keys.sort_by_key(|k| *k.as_bytes());
            keys.dedup();
            keys.iter()
                .filter_map(|k| comb::KeyTable::new(k, width))
                .collect()
        };
        let (narrow, wide) = (tables(comb::NARROW), tables(comb::WIDE));
        let _ = comb::base(); // built before the clock starts
        for &size in &args.sizes {
            let micros = |d: Duration| d.as_secs_f64() * 1e6;
            let single = micros(per_signature(&all, size, singles));
            let row = json!({
                "keys": keys, "batch": size, "singleMicroseconds": single,
                "dalekBatchMicroseconds": micros(per_signature(&all, size, dalek)),
                "combinedBatchMicroseconds": micros(per_signature(&all, size, combined)),
                "combNarrowMicroseconds": micros(per_signature(&all, size, tabled(&narrow))),
                "combWideMicroseconds": micros(per_signature(&all, size, tabled(&wide))),
            });
            if !args.json {
                println!(
                    "{keys:>3} key(s), batch {size:>4}: single {single:6.2} µs, dalek batch {:6.2} µs, combined batch {:6.2} µs, comb tables w={} {:6.2} µs, w={} {:6.2} µs per signature",
                    row["dalekBatchMicroseconds"].as_f64().unwrap_or(0.0),
                    row["combinedBatchMicroseconds"].as_f64().unwrap_or(0.0),
                    comb::NARROW,
                    row["combNarrowMicroseconds"].as_f64().unwrap_or(0.0),
                    comb::WIDE,
                    row["combWideMicroseconds"].as_f64().unwrap_or(0.0),
                );
            }
            rows.push(row);
        }
    }
    if args.json {
        println!("{}", json!({"benchmark": "signatures", "rows": rows}));
    }
    Ok(())
}
