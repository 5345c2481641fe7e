//! `bench scale`: the trust bundle, the status lists and offline verification at a registry
//! size — bundle size (raw and gzip) and build time, the status lists' total size, the time
//! from an accepted revocation to the bit in the published list, offline verifications per
//! second against online ones on the same core, and the `EL2:` QR size. In process, on a store
//! filled through the append path ([`fill`]); BENCHMARKS.md has the figures and commands.

use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use clap::Args;
use serde_json::Value;

use crate::bundle::{assemble, open, sign, Registry};
use crate::crypto::keys::KeyPair;
use crate::domain::licence::StatusAction;
use crate::domain::status_list::{bit, decode_list, StatusPurpose};
use crate::log::receipt::Signer;
use crate::log::registration::{for_digest, Registration};
use crate::status_list::{ListId, Publisher, StatusListCache};
use crate::verify::offline::OfflineRegistry;

mod fill;
mod served;
mod throughput;

const DID_HOST: &str = "registry.bench";
const PUBLIC_BASE: &str = "https://registry.bench";
const ORIGIN: &str = "registry.bench/log";

/// `bench scale`.
#[derive(Debug, Args)]
pub struct ScaleBench {
    /// An empty database to fill (`sqlite://…?mode=rwc` or `postgres://…`).
    #[arg(long)]
    database_url: String,
    /// Licences in the registry.
    #[arg(long, default_value_t = 1_000_000)]
    licences: u64,
    /// Of which signed for real (the rest are synthesised rows; see `fill`).
    #[arg(long, default_value_t = 200)]
    real: u64,
    /// Licences per appended envelope.
    #[arg(long, default_value_t = 5_000)]
    batch: u64,
    /// Verifications timed per mode.
    #[arg(long, default_value_t = 3_000)]
    verifications: usize,
    /// Bundle builds timed (the median is reported): each computes every list's bits, which
    /// at ten million licences takes minutes.
    #[arg(long, default_value_t = 3)]
    builds: usize,
}

pub async fn scale(args: ScaleBench) -> anyhow::Result<()> {
    let store = crate::storage::connect(&args.database_url).await?;
    store.migrate().await?;
    crate::seed::seed(store.as_ref(), None).await?;
    let signer = std::sync::Arc::new(Signer {
        key: KeyPair::generate(),
        origin: ORIGIN.into(),
        registry_did: format!("did:web:{DID_HOST}"),
        did_host: DID_HOST.into(),
    });
    let mut issuer = fill::issuer(store.as_ref(), DID_HOST).await?;
    let real: Vec<Value> = (0..args.real)
        .map(|n| issuer.signed(n, PUBLIC_BASE))
        .collect();
    let empty = served::database_bytes(&args.database_url).await?;
    let template = (
        real[0].to_string(),
        real[0]["id"].as_str().unwrap_or_default().to_owned(),
    );
    let started = Instant::now();
    let mut n = 0;
    while n < args.licences {
        let end = (n + args.batch).min(args.licences);
        let items = (n..end)
            .map(|i| fill::licence(&issuer, i, real.get(i as usize), (&template.0, &template.1)))
            .collect();
        issuer.append(store.as_ref(), &signer, items).await?;
        n = end;
    }
    let fill_time = started.elapsed();
    // 1 % revoked and 1 % suspended, spread over the licences; among the real ones too.
    let mut changes = Vec::new();
    // Spread pseudo-randomly (a multiplicative hash), as real revocations are: a regular
    // stride would compress the lists far better than reality.
    for i in (0..args.licences).filter(|&i| share(i) < 2) {
        let action = if share(i) == 0 {
            StatusAction::Revoke
        } else {
            StatusAction::Suspend
        };
        let head = match real.get(i as usize) {
            Some(vc) => crate::crypto::digest::digest_value(vc),
            None => fill::synthesised_digest(i),
        };
        changes.push(fill::status(&issuer, i, &head, action));
    }
    let status_count = changes.len();
    for chunk in changes.chunks(args.batch as usize) {
        issuer
            .append(store.as_ref(), &signer, chunk.to_vec())
            .await?;
    }
    eprintln!(
        "filled {} licences and {status_count} status changes in {:.1} s",
        args.licences,
        started.elapsed().as_secs_f64()
    );
    println!("| figure | value |\n| --- | ---: |");
    println!(
        "| licences (real, signed) | {} ({}) |",
        args.licences, args.real
    );
    println!("| status changes | {status_count} |");
    println!(
        "| fill through the append path | {:.1} s |",
        fill_time.as_secs_f64()
    );
    let filled = served::database_bytes(&args.database_url).await?;
    println!(
        "| database after the fill / per licence (a signed licence's text is {} bytes) | {:.2} GB / {:.0} bytes |",
        template.0.len(),
        filled as f64 / 1e9,
        filled.saturating_sub(empty) as f64 / args.licences as f64
    );
    for (table, bytes) in served::table_bytes(&args.database_url).await? {
        println!(
            "| … `{table}` | {:.0} bytes per licence |",
            bytes as f64 / args.licences as f64
        );
    }

    let registry = Registry {
        did_host: DID_HOST,
        public_base: PUBLIC_BASE,
        origin: ORIGIN,
        key: &signer.key,
    };
    let mut build_times = Vec::new();
    let mut bundle = Value::Null;
    for _ in 0..args.builds.max(1) {
        let t = Instant::now();
        let unsigned = assemble(
            store.as_ref(),
            &registry,
            Utc::now(),
            chrono::Duration::days(1),
        )
        .await?;
        bundle = sign(&unsigned, &signer.key)?;
        build_times.push(t.elapsed());
    }
    let body = bundle.to_string();
    println!(
        "| bundle build (median of {}) | {:.0} ms |",
        build_times.len(),
        ms(median(&mut build_times))
    );
    println!(
        "| bundle size, raw / gzip | {} / {} bytes |",
        body.len(),
        gzip_len(body.as_bytes())
    );

    let cache = StatusListCache::default();
    let publisher = Publisher {
        did_host: DID_HOST,
        public_base: PUBLIC_BASE,
        key: &signer.key,
    };
    let trusted = open(&bundle, Some(&signer.key.multikey()))?;
    let mut lists = Vec::new();
    let (mut raw, mut zipped) = (0, 0);
    for r in &trusted.bundle().status_lists {
        let id = ListId {
            issuer: r.issuer.clone(),
            purpose: r.purpose,
            list: r.list,
        };
        let signed = cache.current(store.as_ref(), &publisher, id).await?;
        raw += signed.body.len();
        zipped += gzip_len(signed.body.as_bytes());
        lists.push(serde_json::from_str::<Value>(&signed.body)?);
    }
    println!("| status lists referenced | {} |", lists.len());
    println!("| status lists, raw / gzip total | {raw} / {zipped} bytes |");
    println!(
        "| bundle + lists, gzip | {} bytes |",
        gzip_len(body.as_bytes()) + zipped
    );

    latency(
        &args,
        store.as_ref(),
        &signer,
        &mut issuer,
        &cache,
        &publisher,
    )
    .await?;
    let offline = OfflineRegistry::new(&trusted, &lists);
    anyhow::ensure!(
        offline.list_problems().is_empty(),
        "lists refused: {:?}",
        offline.list_problems()
    );
    let receipts = receipts(store.as_ref(), &signer, &issuer, real.len()).await?;
    throughput::throughput(&args, &real, &receipts, &offline, store).await?;
    let payload = crate::qr::encode_registered(&real[5], &receipts[5]);
    println!(
        "| `EL2:` payload of a {TYPE} licence | {} characters, QR version {} at M |",
        payload.len(),
        crate::qr::version(&payload)?
    );
    served::service_figures(&args.database_url, &real, args.verifications.min(2_000)).await?;
    Ok(())
}

/// Which hundredth a licence falls in, pseudo-randomly: 0 revoked, 1 suspended.
fn share(i: u64) -> u64 {
    (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % 100
}

/// The bench type's name in the table.
const TYPE: &str = "律师执业证";

/// From an accepted revocation to its bit in the list a reader is served: the append, then the
/// rebuild of the dropped list (what `GET /v1/status-lists/…` does next). Median of 5, each a
/// licence from another fifth of the registry: below the last list's, each list is full.
async fn latency(
    args: &ScaleBench,
    store: &dyn crate::storage::Store,
    signer: &std::sync::Arc<Signer>,
    issuer: &mut fill::Issuer,
    cache: &StatusListCache,
    publisher: &Publisher<'_>,
) -> anyhow::Result<()> {
    let mut times = Vec::new();
    let mut chosen: Vec<u64> = (0..5)
        // The real licences stay active: the throughput below verifies them.
        .filter_map(|k| {
            (k * args.licences / 5..args.licences).find(|&i| i >= args.real && share(i) >= 2)
        })
        .collect();
    chosen.dedup();
    let mut lists = Vec::new();
    for n in chosen {
        let t = Instant::now();
        let change = fill::status(
            issuer,
            n,
            &fill::synthesised_digest(n),
            StatusAction::Revoke,
        );
        issuer.append(store, signer, vec![change]).await?;
        cache.issuer_changed(&issuer.uscc).await;
        let slot = fill::slots(n)[0];
        let id = ListId {
            issuer: issuer.uscc.clone(),
            purpose: StatusPurpose::Revocation,
            list: slot.list,
        };
        let list = cache.current(store, publisher, id).await?;
        let value: Value = serde_json::from_str(&list.body)?;
        let bits = decode_list(
            value["credentialSubject"]["encodedList"]
                .as_str()
                .unwrap_or(""),
        )
        .context("a list")?;
        anyhow::ensure!(bit(&bits, slot.index), "the revocation is in the list");
        times.push(t.elapsed());
        lists.push(slot.list.to_string());
    }
    println!(
        "| revocation accepted → bit in the served list (median of {}, lists {}) | {:.0} ms |",
        times.len(),
        lists.join(", "),
        ms(median(&mut times))
    );
    Ok(())
}

/// The real licences' registration receipts, re-derived from their stored rows.
async fn receipts(
    store: &dyn crate::storage::Store,
    signer: &Signer,
    issuer: &fill::Issuer,
    count: usize,
) -> anyhow::Result<Vec<Registration>> {
    let mut out = Vec::with_capacity(count);
    for n in 0..count as u64 {
        let history = store
            .licence_history(&issuer.id(n).base())
            .await?
            .context("stored")?;
        let v = history.versions.first().context("a version")?;
        let r = for_digest(
            signer.key.signing_key(),
            ORIGIN,
            &v.digest,
            v.leaf_index,
            v.accepted_at,
        )
        .context("a digest")?;
        out.push(r);
    }
    Ok(out)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    gz.write_all(bytes).expect("in-memory write");
    gz.finish().expect("in-memory write").len()
}
