//! Offline against online verification of the same real licences, on one core: one at a time,
//! and in calls of [`COALESCED`], alternating in rounds.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;

use super::{ScaleBench, DID_HOST, PUBLIC_BASE};
use crate::log::registration::Registration;
use crate::verify::cache::RegistryCache;
use crate::verify::offline::{verify_offline, verify_offline_many, OfflineRegistry};

/// Rounds of offline then online verifications in [`throughput`].
const ROUNDS: usize = 11;

/// Credentials a call in the coalesced online figure: about what 32 requests in flight make
/// of one batch (`crate::verify::coalesce`).
const COALESCED: usize = 32;

/// Offline and online verifications per second on one core, the same licences, one at a time
/// (the online call takes its credential by value: each is cloned for it, as a caller would).
pub(super) async fn throughput(
    args: &ScaleBench,
    real: &[Value],
    receipts: &[Registration],
    offline: &OfflineRegistry,
    store: std::sync::Arc<dyn crate::storage::Store>,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let check = verify_offline(&real[3], Some(&receipts[3]), offline, now);
    anyhow::ensure!(
        check.verified(),
        "a real licence verifies offline: {}",
        serde_json::to_string(&check)?
    );
    let online = RegistryCache::new(store, DID_HOST.into(), PUBLIC_BASE.into());
    for vc in real {
        online.verify(vec![vc.clone()], now).await?; // warm the standings
    }
    // The two modes alternate in rounds, so a shared machine's drift falls on both; the ratio
    // reported is the median of the rounds'.
    let per_round = args.verifications.div_ceil(ROUNDS).max(1);
    let (mut verified, mut online_verified, mut batched_verified) = (0, 0, 0);
    let (mut offline_batched_verified, mut offline_batched_time) = (0, Duration::ZERO);
    let (mut offline_time, mut online_time, mut batched_time) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut ratios = Vec::with_capacity(ROUNDS);
    let mut batched_ratios = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let t = Instant::now();
        for i in round * per_round..(round + 1) * per_round {
            let k = i % real.len();
            verified +=
                usize::from(verify_offline(&real[k], Some(&receipts[k]), offline, now).verified());
        }
        let offline_round = t.elapsed();
        let t = Instant::now();
        for i in round * per_round..(round + 1) * per_round {
            let answer = online
                .verify(vec![real[i % real.len()].clone()], now)
                .await?;
            online_verified += usize::from(answer[0].verified);
        }
        let online_round = t.elapsed();
        let t = Instant::now();
        let credentials: Vec<Value> = (round * per_round..(round + 1) * per_round)
            .map(|i| real[i % real.len()].clone())
            .collect();
        for chunk in credentials.chunks(COALESCED) {
            let answers = online.verify(chunk.to_vec(), now).await?;
            batched_verified += answers.iter().filter(|a| a.verified).count();
        }
        let batched_round = t.elapsed();
        let t = Instant::now();
        let pairs: Vec<(&Value, Option<&Registration>)> = (round * per_round
            ..(round + 1) * per_round)
            .map(|i| (&real[i % real.len()], Some(&receipts[i % real.len()])))
            .collect();
        for chunk in pairs.chunks(COALESCED) {
            let answers = verify_offline_many(chunk, offline, now);
            offline_batched_verified += answers.iter().filter(|a| a.verified()).count();
        }
        let offline_batched_round = t.elapsed();
        ratios.push(online_round.as_secs_f64() / offline_round.as_secs_f64());
        batched_ratios.push(batched_round.as_secs_f64() / offline_batched_round.as_secs_f64());
        offline_batched_time += offline_batched_round;
        offline_time += offline_round;
        online_time += online_round;
        batched_time += batched_round;
    }
    let total = (per_round * ROUNDS) as f64;
    let offline_rate = total / offline_time.as_secs_f64();
    let online_rate = total / online_time.as_secs_f64();
    let batched_rate = total / batched_time.as_secs_f64();
    let offline_batched_rate = total / offline_batched_time.as_secs_f64();
    println!("| offline verifications/s, one core ({verified} verified) | {offline_rate:.0} |");
    println!("| online verifications/s, one core, in process ({online_verified} verified) | {online_rate:.0} |");
    println!("| online verifications/s, one core, in process, {COALESCED} a call as concurrent requests are coalesced ({batched_verified} verified) | {batched_rate:.0} |");
    println!("| offline verifications/s, one core, {COALESCED} a call ({offline_batched_verified} verified) | {offline_batched_rate:.0} |");
    let coalesced = format!("offline / online, both {COALESCED} a call");
    for (label, ratios) in [
        ("offline / online, one at a time", &mut ratios),
        (coalesced.as_str(), &mut batched_ratios),
    ] {
        ratios.sort_by(f64::total_cmp);
        println!(
            "| {label}, median of {ROUNDS} alternating rounds (lowest, highest) | {:.2} ({:.2}, {:.2}) |",
            ratios[ROUNDS / 2],
            ratios[0],
            ratios[ROUNDS - 1]
        );
    }
    Ok(())
}
